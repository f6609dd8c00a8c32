#!/usr/bin/env bash
# Run every fuzzer for a bounded time: the bridge's libFuzzer targets, then
# the SQL-driven fuzzer of the extension's request validation.
#
#   bash fuzz/run.sh                     each bridge target FUZZ_SECONDS (60) s
#   FUZZ_RUNS=10000000 bash fuzz/run.sh  each bridge target that many executions
#   FUZZ_TARGETS="subject handler" ...   a subset (subject handler config natsconf sql)
#   FUZZ_SQL_ITERATIONS=3000 ...         requests the SQL fuzzer sends (default 3000)
#
# Each libFuzzer target starts from its seed corpus fuzz/corpus/<target>/
# (read only: new inputs go to a temporary directory) and runs under
# AddressSanitizer and UBSan with leak detection; a crash, leak or sanitizer
# report stops it, and the input that caused it is kept as
# fuzz/artifacts/<target>-crash-... .  Prints one line per target with its
# executions, and "fuzz: N passed, N failed" last.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"subject handler config natsconf sql"}
passed=0
failed=0
work=$(mktemp -d /tmp/plugin_storage_fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

bin=$(bash scripts/deps.sh clang-14 libclang-rt-14-dev) || { echo "fuzz: 0 passed, 1 failed"; exit 1; }
export PATH="$bin:$PATH"
make -s -C fuzz >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
mkdir -p fuzz/artifacts

for t in $targets; do
	[ "$t" = sql ] && continue
	mkdir -p "$work/$t"
	if [ -n "${FUZZ_RUNS:-}" ]; then limit=(-runs="$FUZZ_RUNS"); else limit=(-max_total_time="$seconds"); fi
	start=$(date +%s)
	fuzz/bin/fuzz_"$t" "${limit[@]}" -print_final_stats=1 -detect_leaks=1 -max_len=8192 \
		-artifact_prefix="fuzz/artifacts/$t-" "$work/$t" "fuzz/corpus/$t" >"$work/$t.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/$t.log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$work/$t.log" | tail -1)
	if [ $rc -eq 0 ] && [ -n "$execs" ]; then
		passed=$((passed + 1))
		echo "ok - fuzz_$t: ${execs} executions in ${secs} s (${cov:-cov: ?}, corpus $(ls "$work/$t" | wc -l) new), no crash, leak or sanitizer report"
	else
		failed=$((failed + 1))
		echo "not ok - fuzz_$t: stopped after ${execs:-?} executions in ${secs} s (status $rc):"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|deadly signal' "$work/$t.log" | head -20 | sed 's/^/#   /'
	fi
done

if [[ " $targets " == *" sql "* ]]; then
	bash fuzz/sql_fuzz.sh >"$work/sql.log" 2>&1
	cat "$work/sql.log"
	out=$(grep -E '^sql_fuzz: [0-9]+ passed, [0-9]+ failed' "$work/sql.log" | tail -1)
	if [ -n "$out" ] && [ "$(echo "$out" | sed -E 's/.* ([0-9]+) failed/\1/')" = 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
