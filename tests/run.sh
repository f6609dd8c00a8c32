#!/usr/bin/env bash
# The test command: install what is missing, build, and run every suite
# against a throwaway PostgreSQL cluster and nats-server that it starts.
#
#   bash tests/run.sh            everything
#   SUITES="regress" bash tests/run.sh
#
# Suites: meta (control file, META.json and Makefile agree on the version),
# regress (pg_regress, `make installcheck`), row_concurrency (concurrent
# atomic updates, tests/row_concurrency.sh), bridge (NATS integration tests,
# tests/bridge/run.sh), observability (metrics, events, discovery and
# inspect of the bridge, tests/observability/run.sh), bridge_asan (the
# bridge suite with the bridge and its test driver built with ASan+UBSan,
# tests/sanitize.sh), bridge_valgrind (the bridge under valgrind memcheck),
# faults (faults under load, tests/faults/run.sh).  Each prints its closing
# count line; the last line sums them: "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
suites=${SUITES:-"meta regress row_concurrency bridge observability bridge_asan bridge_valgrind faults"}

export PATH="$(bash scripts/deps.sh):$PATH" || { echo "tests: dependencies could not be installed" >&2; exit 1; }
make -s >/dev/null || { echo "tests: build failed" >&2; make; exit 1; }
make -s install >/dev/null || { echo "tests: install failed" >&2; exit 1; }

passed=0
failed=0
work=$(mktemp -d /tmp/plugin_storage_test.XXXXXX)
chmod 755 "$work"
cleanup() {
	scripts/pg-cluster.sh stop "$work/pg" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# pg_regress: one file per feature, against a cluster with the library
# preloaded and the sweeper pointed at pg_regress's database.
run_regress() {
	local env
	env=$(PS_SWEEP_DB=contrib_regression PS_SWEEP_INTERVAL=200ms scripts/pg-cluster.sh start "$work/pg" "${REGRESS_PORT:-54329}") || return 1
	eval "$env"
	# The sweeper is connected to contrib_regression, so pg_regress must not
	# drop and recreate it: make it here and run with --use-existing.
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE contrib_regression" &&
		psql -X -q -v ON_ERROR_STOP=1 -d contrib_regression -c "CREATE EXTENSION plugin_storage" || return 1
	# Wait for the sweeper to connect (it retries every 5 s until the database exists).
	for _ in $(seq 1 60); do
		[ "$(psql -X -A -t -d contrib_regression -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'plugin_storage sweeper' AND datname = 'contrib_regression'")" = 1 ] && break
		sleep 0.5
	done
	rm -rf results output_iso regression.diffs regression.out
	make -s installcheck EXTRA_REGRESS_OPTS="--use-existing ${EXTRA_REGRESS_OPTS:-}" >"$work/regress.log" 2>&1
	local rc=$?
	cat "$work/regress.log"
	# pg_regress, then pg_isolation_regress (the isolation specs) write here
	for d in results output_iso; do
		[ -f $d/regression.diffs ] && head -c 20000 $d/regression.diffs
	done
	local ok bad
	ok=$(grep -cE '^(ok|test) .* ok|^ok [0-9]+ ' "$work/regress.log")
	bad=$(grep -cE '\.\.\. FAILED|^not ok ' "$work/regress.log")
	[ $rc -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
	echo "regress: $ok passed, $bad failed"
	passed=$((passed + ok))
	failed=$((failed + bad))
	scripts/pg-cluster.sh stop "$work/pg"
}

# The version is the same in the control file, META.json and the Makefile,
# and its install script exists.
run_meta() {
	local ok=0 bad=0 v_control v_meta v_make
	v_control=$(sed -nE "s/^default_version = '(.*)'/\1/p" plugin_storage.control)
	v_meta=$(sed -nE '0,/"version"/s/^ *"version": "(.*)",?/\1/p' META.json)
	v_make=$(sed -nE 's/^EXTVERSION = (.*)/\1/p' Makefile)
	for v in "$v_meta" "$v_make"; do
		if [ "$v" = "$v_control" ]; then ok=$((ok + 1)); else
			echo "meta: version $v differs from the control file's $v_control"; bad=$((bad + 1)); fi
	done
	if [ -f "extension/plugin_storage--$v_control.sql" ]; then ok=$((ok + 1)); else
		echo "meta: extension/plugin_storage--$v_control.sql is missing"; bad=$((bad + 1)); fi
	echo "meta: $ok passed, $bad failed"
	passed=$((passed + ok))
	failed=$((failed + bad))
}

# Run a suite script that prints "<name>: N passed, N failed"; add its counts
run_script() {
	local name=$1 script=$2 out
	# tee to fd 2 as it is: opening /dev/stderr again would truncate a log
	# file that stdout and stderr were redirected to (bash tests/run.sh >log 2>&1)
	bash "$script" 2>&1 | tee "$work/$name.out" >&2
	out=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$work/$name.out" | tail -1)
	if [ -z "$out" ]; then
		echo "$name: 0 passed, 1 failed"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$out" | sed -E 's/^[a-z_]+: ([0-9]+) passed.*/\1/')))
	failed=$((failed + $(echo "$out" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
}

run_row_concurrency() { run_script row_concurrency tests/row_concurrency.sh; }
run_bridge() { run_script bridge tests/bridge/run.sh; }
run_observability() { run_script observability tests/observability/run.sh; }
run_bridge_asan() { SANITIZE_MODE=asan run_script bridge_asan tests/sanitize.sh; }
run_bridge_valgrind() { SANITIZE_MODE=valgrind run_script bridge_valgrind tests/sanitize.sh; }
run_faults() { run_script faults tests/faults/run.sh; }

for s in $suites; do
	"run_$s"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
