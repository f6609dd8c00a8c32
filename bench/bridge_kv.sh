#!/usr/bin/env bash
# Benchmark the bridge's KV against JetStream KV and a no-op echo service, in one run.
#
#   bench/bridge_kv.sh
#
# Starts, in a temporary directory: a throwaway PostgreSQL cluster with plugin_storage, a
# nats-server with JetStream, the bridge, and bench/loadgen's echo-server. Then runs bench/loadgen
# against all three on the same nats-server, at 1, 16 and 128 requests in flight:
#   bridge  db.kv.bench.get / db.kv.bench.set  (PostgreSQL, synchronous_commit=on)
#   js      kvStore_Get / kvStore_Put on the KV bucket "bench" (file storage, history 1)
#   echo    a responder that sends the request back (what a NATS round trip costs)
# and prints Markdown tables: throughput and latency with the ratios bridge/JetStream and
# bridge/echo, then the CPU each process used during each run and per request. Everything is
# stopped and removed on exit. See bench/README.md for the method.
#
# Settings (environment):
#   DURATION=5 WARMUP=1     measured and warm-up seconds per run
#   KEYS=1000               keys k0..k<KEYS-1>, all written before the get runs
#   VALUE_BYTES=100         value size
#   LEVELS="1 16 128"       requests in flight
#   CONNS=4                 NATS connections per loadgen (at most the requests in flight)
#   PG_SYNC_COMMIT=on       synchronous_commit of the cluster (off: to compare like JetStream)
#   BRIDGE=                 a bridge binary to measure instead of bridge/plugin-storage-bridge
#   BRIDGE_ARGS=            extra arguments for the bridge
#   PG_PORT=54340 NATS_PORT=42240
#   PG_CONFIG=              another PostgreSQL 15 installation (default: Debian's)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
KEYS=${KEYS:-1000}
VALUE_BYTES=${VALUE_BYTES:-100}
LEVELS=${LEVELS:-"1 16 128"}
CONNS=${CONNS:-4}
PG_SYNC_COMMIT=${PG_SYNC_COMMIT:-on}
BRIDGE_ARGS=${BRIDGE_ARGS:-}
PG_PORT=${PG_PORT:-54340}
NATS_PORT=${NATS_PORT:-42240}
bench_name=bridge_kv
. "$root/bench/bridge_lib.sh"

# Start every server the runs need.
start_all() {
	bench_start_postgres
	bench_start_nats
	"$loadgen" echo-server 2>>"$work/echo.log" &
	echo_pid=$!
	bench_start_bridge
}

# Print the CPU clock ticks (user + system) the given processes have used.
cpu_ticks() {
	local p t=0
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
	done
	echo "$t"
}

# Print the pids of the postmaster and all its children.
postgres_pids() {
	local pm
	pm=$(head -1 "$work/pg/data/postmaster.pid")
	echo "$pm" $(pgrep -P "$pm")
}

# Print the pids of the server-side processes, one group per line: nats, bridge, postgres, echo.
server_groups() {
	cat "$work/nats/nats.pid"
	echo "$bridge_pid"
	postgres_pids
	echo "$echo_pid"
}

# Print one field (name=value) of a loadgen report line.
field() { echo " $1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

declare -A rps p50 p99 errs cpu

# Run loadgen once (mode, requests in flight), keep its results and the CPU split.
run() {
	local mode=$1 n=$2 line t0 t1 i before=() after=() groups=() hz secs
	log "run $mode, $n in flight"
	mapfile -t groups < <(server_groups)
	# shellcheck disable=SC2086 # a group is a list of pids
	for i in "${!groups[@]}"; do before[i]=$(cpu_ticks ${groups[i]}); done
	t0=$(date +%s.%N)
	line=$("$loadgen" "$mode" --inflight "$n" --conns "$CONNS" --duration "$DURATION" \
		--warmup "$WARMUP" --keys "$KEYS" --value-bytes "$VALUE_BYTES")
	t1=$(date +%s.%N)
	# shellcheck disable=SC2086 # a group is a list of pids
	for i in "${!groups[@]}"; do after[i]=$(cpu_ticks ${groups[i]}); done
	echo "$line" >>"$work/results.txt"
	rps[$mode/$n]=$(field "$line" rps)
	p50[$mode/$n]=$(field "$line" p50_ms)
	p99[$mode/$n]=$(field "$line" p99_ms)
	errs[$mode/$n]=$(field "$line" errors)
	hz=$(getconf CLK_TCK)
	secs=$(echo "$t0 $t1" | awk '{ print $2 - $1 }')
	# CPU as % of one core over the run: loadgen, nats-server, bridge, postgres, echo-server
	cpu[$mode/$n]=$(awk -v s="$secs" -v hz="$hz" -v lg="$(field "$line" cpu_s)" \
		-v d="$((after[0] - before[0])) $((after[1] - before[1])) $((after[2] - before[2])) $((after[3] - before[3]))" \
		'BEGIN { split(d, t, " "); printf "%.0f %.0f %.0f %.0f %.0f", 100 * lg / s,
			100 * t[1] / hz / s, 100 * t[2] / hz / s, 100 * t[3] / hz / s, 100 * t[4] / hz / s }')
}

# Write every key once through the bridge and through JetStream, so gets find them.
populate() {
	log "writing $KEYS keys of $VALUE_BYTES bytes through the bridge and JetStream"
	"$loadgen" bridge-set --populate --duration 0 --inflight 16 --conns "$CONNS" \
		--keys "$KEYS" --value-bytes "$VALUE_BYTES"
	"$loadgen" js-put --populate --duration 0 --inflight 16 --conns "$CONNS" \
		--keys "$KEYS" --value-bytes "$VALUE_BYTES"
}

# Print a/b with two decimals, or - when b is zero.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

# Print the mean latency of a synced 8 kB write where the servers keep their data, in µs.
dsync_us() {
	LC_ALL=C dd if=/dev/zero of="$work/dsync.test" bs=8k count=200 oflag=dsync 2>&1 |
		sed -n 's/.* copied, \([0-9.e-]*\) s.*/\1/p' | awk '{ printf "%.0f", $1 / 200 * 1e6 }'
	rm -f "$work/dsync.test"
}

# Print the machine and the versions the numbers come from.
print_machine() {
	echo "## bridge KV benchmark"
	echo
	echo "- machine: $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(uname -sr)"
	echo "- $(nats-server --version), $("$pgbin/postgres" --version), nats.c $(dpkg-query -W -f='${Version}' libnats-dev 2>/dev/null || echo '?')"
	echo "- disk: $(dsync_us) µs per synced 8 kB write (dd oflag=dsync, in $work)"
	echo "- commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo none)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
	echo "- settings: DURATION=${DURATION}s WARMUP=${WARMUP}s KEYS=$KEYS VALUE_BYTES=$VALUE_BYTES CONNS=$CONNS" \
		"PG synchronous_commit=$PG_SYNC_COMMIT, JetStream file storage (default sync)"
	echo
}

# Print the throughput and latency table with the ratios.
print_results() {
	local n op bm jm
	echo "| in flight | op | bridge rps | p50 ms | p99 ms | JetStream rps | p50 ms | p99 ms | echo rps | p50 ms | p99 ms | bridge/JetStream | bridge/echo | errors b/js/echo |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	for n in $LEVELS; do
		for op in get set; do
			bm=bridge-$op
			jm=js-$([ "$op" = get ] && echo get || echo put)
			echo "| $n | $op | ${rps[$bm/$n]} | ${p50[$bm/$n]} | ${p99[$bm/$n]}" \
				"| ${rps[$jm/$n]} | ${p50[$jm/$n]} | ${p99[$jm/$n]}" \
				"| ${rps[echo/$n]} | ${p50[echo/$n]} | ${p99[echo/$n]}" \
				"| $(ratio "${rps[$bm/$n]}" "${rps[$jm/$n]}") | $(ratio "${rps[$bm/$n]}" "${rps[echo/$n]}")" \
				"| ${errs[$bm/$n]}/${errs[$jm/$n]}/${errs[echo/$n]} |"
		done
	done
	echo
}

# Print the CPU each process used during each run, and per request.
print_cpu() {
	local n m c
	echo "CPU during each run, % of one core ($(nproc) cores = $(($(nproc) * 100))%), and CPU time per request:"
	echo
	echo "| run | in flight | loadgen | nats-server | bridge | postgres | echo-server | servers µs/req | loadgen µs/req |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for m in bridge-get bridge-set js-get js-put echo; do
		for n in $LEVELS; do
			read -r -a c <<<"${cpu[$m/$n]}"
			echo "| $m | $n | ${c[0]} | ${c[1]} | ${c[2]} | ${c[3]} | ${c[4]} |" \
				"$(awk -v r="${rps[$m/$n]}" -v l="${c[0]}" -v s="$((c[1] + c[2] + c[3] + c[4]))" \
					'BEGIN { if (r > 0) printf "%.0f | %.0f |", s * 1e4 / r, l * 1e4 / r; else print "- | - |" }')"
		done
	done
}

bench_build
start_all
populate
for mode in bridge-get bridge-set js-get js-put echo; do
	for n in $LEVELS; do run "$mode" "$n"; done
done
print_machine
print_results
print_cpu
