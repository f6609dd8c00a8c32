#!/usr/bin/env bash
# Integration tests of plugin-storage-bridge: real PostgreSQL, real nats-server, real NATS requests.
#
#   bash tests/bridge/run.sh
#
# Needs the plugin_storage extension installed (`make install` at the top level). Starts its own
# PostgreSQL cluster (port 54331) with the extension, the bridge's role and the plugins quote-db
# and trivia; a nats-server (port 42231) with the isolation config that
# `plugin-storage-bridge nats-config` generates; and the bridge. Then runs tests/bridge/bridge_test
# phase by phase, restarting servers and signalling the bridge in between:
#
#   kv, bad, isolation   every KV op, every bad input, the NATS isolation
#   reload               SIGHUP applies a new max_request_bytes from the config file
#   timeout              frozen backends and a 1 s request_timeout_ms: the request gets timeout
#   pg-restart           PostgreSQL stopped: unavailable; started again: served within seconds
#   unknown              a backend killed after a write was sent: unavailable, outcome unknown
#   nats-restart         nats-server restarted: the subscription comes back
#   shutdown             SIGTERM with requests in flight: all answered, exit 0, writes kept
#   group-incr           group commit: 8 clients x 200 incr on one key end at exactly 1600
#   group-fail           group commit: a request that raises in a batch gets its own error; the
#                        others succeed, each applied exactly once
#   second-signal        a second SIGTERM exits at once
#
# Users follow bridge_test's rule: user U has password "pw-U"; "ops" is the operator.
# Prints "bridge: N passed, N failed" last and exits non-zero on any failure; always cleans up.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
PG_PORT=${PG_PORT:-54331}
NATS_PORT=${NATS_PORT:-42231}
# tests/sanitize.sh runs this suite with other builds: BT_BRIDGE and BT_DRIVER
# name them (already built), BT_WRAP prefixes the bridge's command (valgrind),
# BT_WAIT_SCALE multiplies the waits for a slower bridge.
bridge=${BT_BRIDGE:-$top/bridge/plugin-storage-bridge}
driver=${BT_DRIVER:-$top/tests/bin/bridge_test}
scale=${BT_WAIT_SCALE:-1}
export BT_NATS_URL=nats://127.0.0.1:$NATS_PORT

passed=0
failed=0
bridge_pid=
stopped_pids=
work=$(mktemp -d /tmp/bridge_test.XXXXXX)
chmod 755 "$work"

cleanup() {
	[ -n "$stopped_pids" ] && kill -CONT $stopped_pids 2>/dev/null
	[ -n "$bridge_pid" ] && kill -KILL "$bridge_pid" 2>/dev/null
	scripts/nats.sh stop "$work/nats" >/dev/null 2>&1
	scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1
	[ -n "${BT_KEEP:-}" ] && echo "# kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# Finish: print the closing line and exit.
finish() {
	echo "bridge: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}

# A check made by this script rather than the driver.
check() {
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $what"
	else
		failed=$((failed + 1))
		echo "not ok - $what"
	fi
}

# Run one driver phase and add up its "# phase P passed=N failed=M" line.
phase() {
	local out line
	out=$("$driver" "$@" 2>&1)
	echo "$out"
	line=$(echo "$out" | grep -E '^# phase .* passed=[0-9]+ failed=[0-9]+$' | tail -1)
	if [ -z "$line" ]; then
		echo "not ok - phase $1 ended without its summary (crashed?)"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.*failed=([0-9]+)$/\1/')))
}

# Start a driver phase in the background, its output in $work/$1.out.
phase_bg() {
	"$driver" "$@" >"$work/$1.out" 2>&1 &
	bg_pid=$!
}

# Add up a background phase once it is done.
phase_bg_wait() {
	wait "$bg_pid"
	cat "$work/$1.out"
	local line
	line=$(grep -E '^# phase .* passed=[0-9]+ failed=[0-9]+$' "$work/$1.out" | tail -1)
	if [ -z "$line" ]; then
		echo "not ok - phase $1 ended without its summary (crashed?)"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.*failed=([0-9]+)$/\1/')))
}

# Wait until a file holds a pattern after its line $4 (at most $3 tenths of a second).
wait_for() {
	for _ in $(seq 1 $((${3:-100} * scale))); do
		tail -n +"${4:-1}" "$1" 2>/dev/null | grep -q -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

# The number of the line after the last one of a file.
next_line() {
	if [ -f "$1" ]; then echo $(($(wc -l <"$1") + 1)); else echo 1; fi
}

# Start the bridge: settings from a config file, the environment and flags.
start_bridge() {
	local from
	from=$(next_line "$work/bridge.log")
	PGUSER=bridge PGDATABASE=plugin_storage NATS_URL=$BT_NATS_URL \
		PS_BRIDGE_NATS_USER=bridge PS_BRIDGE_NATS_PASSWORD=pw-bridge \
		${BT_WRAP:-} "$bridge" --config "$work/bridge.conf" --log-level debug >>"$work/bridge.log" 2>&1 &
	bridge_pid=$!
	wait_for "$work/bridge.log" '"msg":"serving"' 100 "$from"
}

# Wait for the bridge to exit; set status to its exit status ("running" if it did not within $1 s).
wait_bridge() {
	status=running
	for _ in $(seq 1 $(($1 * 10 * scale))); do
		if ! kill -0 "$bridge_pid" 2>/dev/null; then
			wait "$bridge_pid"
			status=$?
			bridge_pid=
			return
		fi
		sleep 0.1
	done
}

# The PIDs of the bridge's PostgreSQL backends.
backends() {
	psql -X -A -t -d plugin_storage -c \
		"SELECT pid FROM pg_stat_activity WHERE application_name = 'plugin-storage-bridge'" | tr '\n' ' '
}

# Wait until the bridge has all ${1:-2} of its connections (pool_size, at most 10 s), then
# freeze them.
freeze_backends() {
	for _ in $(seq 1 $((100 * scale))); do
		[ "$(backends | wc -w)" -eq "${1:-2}" ] && break
		sleep 0.1
	done
	stopped_pids=$(backends)
	kill -STOP $stopped_pids
}

# Build the bridge and the driver (unless given).
[ -n "${BT_BRIDGE:-}" ] || make -s -C bridge >/dev/null || { echo "bridge: build failed"; make -C bridge; echo "bridge: 0 passed, 1 failed"; exit 1; }
mkdir -p tests/bin
if [ -z "${BT_DRIVER:-}" ] && { [ ! -x "$driver" ] || [ tests/bridge/bridge_test.c -nt "$driver" ]; }; then
	cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -o "$driver" tests/bridge/bridge_test.c \
		$(pkg-config --cflags --libs libnats json-c) || { echo "bridge: 0 passed, 1 failed"; exit 1; }
fi
if ! ls /usr/share/postgresql/15/extension/plugin_storage.control >/dev/null 2>&1; then
	echo "not ok - the plugin_storage extension is not installed: run make install at the top level"
	failed=1
	finish
fi

# The command line.
check "--version prints 0.1.0" test "$("$bridge" --version)" = "plugin-storage-bridge 0.1.0"
check "--help documents every setting" bash -c "'$bridge' --help | grep -q -- --request-timeout-ms"
check "a bad setting is refused with status 2" bash -c "'$bridge' --pool-size 0 2>/dev/null; test \$? -eq 2"
check "nats-config refuses an invalid plugin name" bash -c "! '$bridge' nats-config --bridge-password x 'Bad!:pw' >/dev/null 2>&1"

# PostgreSQL, with the extension, the bridge's role and two plugins.
env=$(scripts/pg-cluster.sh start "$work/pg" "$PG_PORT") || { echo "not ok - PostgreSQL did not start"; failed=1; finish; }
eval "$env"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE plugin_storage" &&
	psql -X -q -v ON_ERROR_STOP=1 -d plugin_storage >/dev/null <<'SQL' || { echo "not ok - database setup failed"; failed=1; finish; }
CREATE EXTENSION plugin_storage;
CREATE ROLE bridge LOGIN IN ROLE plugin_storage_bridge;
SELECT plugin_storage.register_plugin('quote-db');
SELECT plugin_storage.register_plugin('trivia');
SQL

# nats-server with the generated isolation config; a small max_payload so that a
# too-large reply is cheap to provoke.
mkdir -p "$work/nats"
{
	echo "max_payload: 262144"
	"$bridge" nats-config --bridge-user bridge --bridge-password pw-bridge \
		--operator-user ops --operator-password pw-ops quote-db:pw-quote-db trivia:pw-trivia
} >"$work/nats.conf"
scripts/nats.sh start "$work/nats" "$NATS_PORT" "$work/nats.conf" || { echo "not ok - nats-server did not start"; failed=1; finish; }

echo "max_request_bytes = 200000" >"$work/bridge.conf"
check "the bridge starts and serves" start_bridge
[ -n "$bridge_pid" ] || finish

# Every KV op, every bad input, the isolation between plugins.
phase kv
phase row
phase bad
phase isolation

# reload: SIGHUP applies a lower max_request_bytes and turns group commit off,
# then the next reload restores both.
printf 'max_request_bytes = 1000\ngroup_commit = off\n' >"$work/bridge.conf"
from=$(next_line "$work/bridge.log")
kill -HUP "$bridge_pid"
wait_for "$work/bridge.log" '"msg":"reloaded"' 50 "$from"
phase limit 2000
check "SIGHUP applied group_commit = off" \
	bash -c "tail -n +$from '$work/bridge.log' | grep -q '\"msg\":\"setting changed\",\"setting\":\"group_commit\"'"

# timeout: request_timeout_ms lowered to 1000 by SIGHUP, the backends frozen: a
# request gets timeout after its deadline and the 2 s cancel grace.
printf 'max_request_bytes = 200000\nrequest_timeout_ms = 1000\n' >"$work/bridge.conf"
from=$(next_line "$work/bridge.log")
kill -HUP "$bridge_pid"
wait_for "$work/bridge.log" '"msg":"reloaded"' 50 "$from"
sleep 1.5 # idle workers refresh their sessions within a second
freeze_backends
phase timeout
kill -CONT $stopped_pids
stopped_pids=
echo "max_request_bytes = 200000" >"$work/bridge.conf"
kill -HUP "$bridge_pid"

# pg-restart: requests fail fast while PostgreSQL is down, then succeed again.
scripts/pg-cluster.sh stop "$work/pg"
phase pg-down
scripts/pg-cluster.sh start "$work/pg" "$PG_PORT" >/dev/null
phase back

# unknown: the bridge's backends are frozen, a set is sent, and the backends are
# killed; the reply must say the outcome is unknown.  PostgreSQL then recovers.
freeze_backends
phase_bg unknown
wait_for "$work/unknown.out" "# sending" 50
sleep 1
kill -KILL $stopped_pids
stopped_pids=
phase_bg_wait unknown
phase back

# nats-restart: nats.c reconnects and the subscription comes back.
scripts/nats.sh stop "$work/nats"
sleep 1
scripts/nats.sh start "$work/nats" "$NATS_PORT" "$work/nats.conf"
phase back
check "the bridge logged the NATS reconnect" grep -q '"msg":"NATS reconnected"' "$work/bridge.log"

# shutdown: 100 sets are stuck in frozen backends or queued behind them when
# SIGTERM arrives; each gets its reply once the backends resume (the queued
# ones in group commits), the bridge exits 0, and every acknowledged write is
# there after a restart.
freeze_backends
phase_bg inflight 100
wait_for "$work/inflight.out" "# sent" 50
sleep 0.5
kill -TERM "$bridge_pid"
sleep 1.5
kill -CONT $stopped_pids
stopped_pids=
phase_bg_wait inflight
wait_bridge 20
check "SIGTERM drains and exits 0 (status $status)" test "$status" = 0
check "the stats at exit count the request without reply subject" \
	grep -q '"msg":"stopped".*"dropped_no_reply":[1-9]' "$work/bridge.log"
check "the drain ran batches as group commits" \
	grep -q '"msg":"stopped".*"group_commits":[1-9]' "$work/bridge.log"
start_bridge
phase inflight-check 100

# group-incr: concurrent increments of one key, many of them in shared
# transactions, each applied exactly once.
phase group-incr 200

# group-fail: one connection, so that requests queued behind its frozen backend
# run in batches of pipeline_depth; a trigger makes writes of keys "boom*"
# raise.  Each batch holding one is rolled back and run again one request at a
# time.
psql -X -q -v ON_ERROR_STOP=1 -d plugin_storage >/dev/null <<'SQL'
CREATE FUNCTION public.bt_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.key LIKE 'boom%' THEN
		RAISE EXCEPTION 'boom' USING ERRCODE = 'serialization_failure';
	END IF;
	RETURN NEW;
END $$;
DO $$
DECLARE s name := (SELECT schema FROM plugin_storage.plugins WHERE name = 'quote-db');
BEGIN
	EXECUTE format('CREATE TRIGGER bt_boom BEFORE INSERT OR UPDATE ON %I._ps_kv '
		'FOR EACH ROW EXECUTE FUNCTION public.bt_boom()', s);
END $$;
SQL
kill -TERM "$bridge_pid"
wait_bridge 20
printf 'max_request_bytes = 200000\npool_size = 1\n' >"$work/bridge.conf"
from=$(next_line "$work/bridge.log")
start_bridge
freeze_backends 1
phase_bg group-fail 40
wait_for "$work/group-fail.out" "# sent" 50
sleep 0.5
kill -CONT $stopped_pids
stopped_pids=
phase_bg_wait group-fail
check "the batches holding them were rolled back and run one by one" \
	test "$(tail -n +"$from" "$work/bridge.log" | grep -c '"msg":"group rolled back; running its requests one by one".*"requests":\([2-9]\|[1-9][0-9]\)')" -ge 2
psql -X -q -d plugin_storage -c "DROP FUNCTION public.bt_boom CASCADE" >/dev/null
kill -TERM "$bridge_pid"
wait_bridge 20
echo "max_request_bytes = 200000" >"$work/bridge.conf"
start_bridge

# second-signal: with a request stuck, a second SIGTERM exits at once (status 1).
freeze_backends
phase_bg inflight 4
wait_for "$work/inflight.out" "# sent" 50
sleep 0.5
kill -TERM "$bridge_pid"
sleep 0.3
kill -TERM "$bridge_pid"
wait_bridge 5
check "a second SIGTERM exits at once with status 1 (status $status)" test "$status" = 1
kill -CONT $stopped_pids
stopped_pids=
wait "$bg_pid" 2>/dev/null

check "the bridge logged no internal error" bash -c "! grep -q '\"msg\":\"internal error' '$work/bridge.log'"
check "no sanitizer or valgrind report in the bridge's log" \
	bash -c "! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:|ERROR SUMMARY: [1-9]|definitely lost: [1-9]' '$work/bridge.log'"
if [ "$failed" -gt 0 ]; then
	echo "# bridge log (last 60 lines):"
	tail -60 "$work/bridge.log" | sed 's/^/# /'
fi
finish
