#!/usr/bin/env bash
# The bridge's integration suite (tests/bridge/run.sh) with a checked bridge.
#
#   bash tests/sanitize.sh asan       bridge and bridge_test built with
#                                     AddressSanitizer + UBSan (and LeakSanitizer)
#   bash tests/sanitize.sh valgrind   the normal bridge under valgrind memcheck
#
# asan builds into a temporary directory (a copy of bridge/ built with
# `make SANITIZE=1`), so the normal build is left alone.  Any report fails
# the suite: the sanitizers abort the bridge on the first error (UBSan
# without recovery), a leak at exit makes its exit status non-zero, and the
# suite greps the bridge's log for every kind of report.  valgrind runs with
# --leak-check=full and --errors-for-leak-kinds=definite: a definite leak or
# a memory error at any exit is an "ERROR SUMMARY" above 0 in the log.  The
# waits of the suite are stretched (BT_WAIT_SCALE) for the slower bridge.
#
# Prints "bridge_asan: N passed, N failed" (or bridge_valgrind) last.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=${1:-${SANITIZE_MODE:?usage: sanitize.sh asan|valgrind}}
name=bridge_$mode
work=$(mktemp -d /tmp/plugin_storage_$mode.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
fail() { echo "not ok - $1"; echo "$name: 0 passed, 1 failed"; exit 1; }

json_nats=$(pkg-config --cflags --libs libnats json-c)
case "$mode" in
asan)
	mkdir -p "$work/bridge"
	cp bridge/*.c bridge/*.h bridge/Makefile "$work/bridge/"
	make -s -C "$work/bridge" SANITIZE=1 >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the ASan build failed"; }
	ldd "$work/bridge/plugin-storage-bridge" | grep -q libasan || fail "the ASan build is not linked with libasan"
	cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer -Itests/lib -o "$work/bridge_test" tests/bridge/bridge_test.c tests/lib/nats_test.c $json_nats || fail "bridge_test does not build with ASan"
	# abort_on_error off: a report ends the process with a status, not a core
	export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	BT_BRIDGE=$work/bridge/plugin-storage-bridge BT_DRIVER=$work/bridge_test BT_WAIT_SCALE=3 \
		bash tests/bridge/run.sh 2>&1 | sed -u "s/^bridge: \([0-9]* passed\)/$name: \1/"
	;;
valgrind)
	PATH="$(bash scripts/deps.sh valgrind):$PATH" || fail "valgrind could not be installed"
	make -s -C bridge >/dev/null || fail "the bridge does not build"
	mkdir -p tests/bin
	cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -Itests/lib -o "$work/bridge_test" tests/bridge/bridge_test.c tests/lib/nats_test.c $json_nats ||
		fail "bridge_test does not build"
	BT_DRIVER=$work/bridge_test BT_WAIT_SCALE=10 \
		BT_WRAP="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes --num-callers=30" \
		bash tests/bridge/run.sh 2>&1 | sed -u "s/^bridge: \([0-9]* passed\)/$name: \1/"
	;;
*) fail "unknown mode $mode" ;;
esac
exit "${PIPESTATUS[0]}"
