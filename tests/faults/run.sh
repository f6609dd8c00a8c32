#!/usr/bin/env bash
# Faults under steady load: a throwaway PostgreSQL, nats-server and bridge,
# the load driver tests/faults/relload.c keeping a steady mix of KV sets
# (unique keys, known values), incr (8 counters) and gets in flight, and one
# fault per scenario:
#
#   pg-restart     PostgreSQL fast-stopped, down 2 s, started again
#   pg-kill        PostgreSQL killed with SIGKILL (postmaster and every
#                  backend at once, as in a machine crash), down 1 s, started
#                  again: crash recovery
#   nats-restart   nats-server stopped, down 1 s, started again
#   bridge-kill    the bridge killed with SIGKILL, down 1 s, started again
#   takeover       a second bridge in the same queue group; the first is
#                  stopped (SIGTERM): the second takes every request, and every
#                  request must be answered ok
#
#   bash tests/faults/run.sh                      (make test-faults)
#   FAULTS="pg-kill takeover" bash tests/faults/run.sh
#   FAULTS_PG_PORT=54337 FAULTS_NATS_PORT=42237 FAULTS_SECONDS=16 RL_RATE=400 ...
#
# After each scenario relload checks every outcome against PostgreSQL (what
# is and is not guaranteed: see relload.c and docs/bridge.md, Guarantees)
# and prints one line of figures; the fault's start and end are written for
# it to $work/<scenario>.fault.  Prints "faults: N passed, N failed" last.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
pg_port=${FAULTS_PG_PORT:-54337}
nats_port=${FAULTS_NATS_PORT:-42237}
seconds=${FAULTS_SECONDS:-16}
scenarios=${FAULTS:-"pg-restart pg-kill nats-restart bridge-kill takeover"}
bridge=$top/bridge/plugin-storage-bridge
driver=$top/tests/bin/relload
export NATS_URL=nats://127.0.0.1:$nats_port RL_TIMEOUT_MS=${RL_TIMEOUT_MS:-6000}

suite=faults
declare -A bridge_pids
work=$(mktemp -d /tmp/plugin_storage_faults.XXXXXX)
chmod 755 "$work"
source tests/lib/servers.sh

cleanup() {
	for b in "${!bridge_pids[@]}"; do kill -KILL "${bridge_pids[$b]}" 2>/dev/null; done
	servers_stop FAULTS_KEEP
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# Start bridge $1 (A or B); wait until it serves.
start_bridge() {
	local log=$work/bridge-$1.log from=1
	[ -f "$log" ] && from=$(($(wc -l <"$log") + 1))
	PGUSER=bridge PGDATABASE=plugin_storage "$bridge" --config "$work/bridge.conf" >>"$log" 2>&1 &
	bridge_pids[$1]=$!
	for _ in $(seq 1 100); do
		tail -n +"$from" "$log" | grep -q '"msg":"serving"' && return 0
		sleep 0.1
	done
	return 1
}

# Wait for bridge $1 to exit (at most $2 s); SIGKILL it after that.
stop_wait() {
	local pid=${bridge_pids[$1]}
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "bridge_pids[$1]"
}

# The faults.  Each sets fault_end when the fault is over: the failed part
# has been started again (or, for takeover, the first bridge was told to stop).
fault_pg-restart() {
	scripts/pg-cluster.sh stop "$work/pg"
	sleep 2
	scripts/pg-cluster.sh start "$work/pg" "$pg_port" >/dev/null
	fault_end=$(now_ms)
}

fault_pg-kill() {
	local pm kids
	pm=$(head -1 "$work/pg/data/postmaster.pid")
	kids=$(ps -o pid= --ppid "$pm" | tr '\n' ' ')
	kill -KILL "$pm" $kids
	for _ in $(seq 1 50); do kill -0 "$pm" $kids 2>/dev/null || break; sleep 0.1; done
	sleep 1
	scripts/pg-cluster.sh start "$work/pg" "$pg_port" >/dev/null
	fault_end=$(now_ms)
}

fault_nats-restart() {
	scripts/nats.sh stop "$work/nats"
	sleep 1
	scripts/nats.sh start "$work/nats" "$nats_port"
	fault_end=$(now_ms)
}

fault_bridge-kill() {
	kill -KILL "${bridge_pids[A]}"
	stop_wait A 5
	sleep 1
	fault_end=$(now_ms)
	start_bridge A
}

fault_takeover() {
	kill -TERM "${bridge_pids[A]}"
	fault_end=$(now_ms)
	stop_wait A 20
}

# Run one scenario: load, the fault 4 s in, then the check.
scenario() {
	local s=$1 out line start
	rm -f "$work/$s.fault"
	"$driver" faults "$s" "$seconds" "$work/$s.fault" >"$work/$s.out" 2>&1 &
	local pid=$!
	sleep 4
	start=$(now_ms)
	"fault_$s" >>"$work/fault.log" 2>&1
	echo "$start $fault_end" >"$work/$s.fault"
	wait "$pid"
	cat "$work/$s.out"
	line=$(grep -E "^(ok|not ok) - $s:" "$work/$s.out" | tail -1)
	case "$line" in
	"ok - "*) passed=$((passed + 1)) ;;
	*)
		failed=$((failed + 1))
		[ -z "$line" ] && echo "not ok - $s: the driver ended without its verdict"
		;;
	esac
}

# Build the bridge and the driver.
make -s -C bridge >/dev/null || { echo "not ok - the bridge does not build"; failed=1; finish; }
mkdir -p tests/bin
cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -o "$driver" tests/faults/relload.c \
	$(pkg-config --cflags --libs libnats json-c libpq) || { echo "not ok - relload does not build"; failed=1; finish; }

# PostgreSQL with the extension, the bridge's role and the plugin; nats-server
# (no authorization: isolation is the bridge suite's business); the bridge.
pg_start "$pg_port" <<'SQL'
SELECT plugin_storage.register_plugin('faults');
SQL
export PGDATABASE=plugin_storage # for relload's check
nats_start "$nats_port"
# Short deadlines, so that stuck requests resolve well within the client's 6 s.
printf 'request_timeout_ms = 2000\nreconnect_max_ms = 1000\n' >"$work/bridge.conf"
check "the bridge starts and serves" start_bridge A
[ -n "${bridge_pids[A]:-}" ] || finish

for s in $scenarios; do
	if [ "$s" = takeover ]; then
		check "a second bridge joins the queue group" start_bridge B
		RL_EXPECT_ALL_OK=1 scenario "$s"
	else
		scenario "$s"
	fi
	[ -n "${bridge_pids[A]:-}" ] || start_bridge A
done

for log in "$work"/bridge-*.log; do
	check "$(basename "$log" .log) logged no internal error" bash -c "! grep -q '\"msg\":\"internal error' '$log'"
done
if [ "$failed" -gt 0 ]; then
	for log in "$work"/bridge-*.log; do
		echo "# $(basename "$log") (last 30 lines):"
		tail -30 "$log" | sed 's/^/# /'
	done
fi
finish
