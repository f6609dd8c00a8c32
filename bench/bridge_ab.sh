#!/usr/bin/env bash
# Compare the KV throughput of two bridge binaries, A and B, on one PostgreSQL and nats-server.
#
#   bench/bridge_ab.sh A_BINARY B_BINARY
#
# e.g. the bridge of another commit against this one:
#   git worktree add /tmp/base <commit> && make -C /tmp/base/bridge
#   bench/bridge_ab.sh /tmp/base/bridge/plugin-storage-bridge bridge/plugin-storage-bridge
#
# Starts a throwaway PostgreSQL cluster with plugin_storage (plugin "bench", KEYS keys written
# once) and a nats-server, then runs ROUNDS rounds; in each round each binary in turn is started,
# measured with bench/loadgen (bridge-get and bridge-set at each LEVEL in flight) and stopped. The
# order alternates (A B, B A, A B, ...): later runs find more dead tuples from earlier sets, so a
# fixed order would favour the first binary. Prints every run, then per mode and level the median
# requests/s of A and B and the median of the paired ratios B/A. On a shared or small machine runs
# vary by 10% or more: look at the paired ratios over several rounds.
#
# Settings (environment): ROUNDS=6 DURATION=5 WARMUP=1 LEVELS="16 128" CONNS=4 KEYS=1000
#   VALUE_BYTES=100 PG_PORT=54341 NATS_PORT=42241; PG_CONFIG picks the PostgreSQL installation.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
A=$(realpath "${1:?usage: bridge_ab.sh A_BINARY B_BINARY}")
B=$(realpath "${2:?usage: bridge_ab.sh A_BINARY B_BINARY}")
ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
LEVELS=${LEVELS:-"16 128"}
CONNS=${CONNS:-4}
KEYS=${KEYS:-1000}
VALUE_BYTES=${VALUE_BYTES:-100}
PG_PORT=${PG_PORT:-54341}
NATS_PORT=${NATS_PORT:-42241}
export NATS_URL=nats://127.0.0.1:$NATS_PORT
loadgen=$root/bench/loadgen
work=$(mktemp -d /tmp/bridge_ab.XXXXXX)
chmod 755 "$work"
bridge_pid=

# Stop what this script started and remove the work directory.
cleanup() {
	set +e
	[ -n "$bridge_pid" ] && kill "$bridge_pid" 2>/dev/null && wait "$bridge_pid" 2>/dev/null
	"$root/scripts/nats.sh" stop "$work/nats"
	"$root/scripts/pg-cluster.sh" stop "$work/pg"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start a bridge binary and wait until it answers a set.
start_bridge() {
	PGUSER=bridge PGDATABASE=plugin_storage "$1" >>"$work/bridge.log" 2>&1 &
	bridge_pid=$!
	for _ in $(seq 1 50); do
		"$loadgen" bridge-set --populate --keys 1 --duration 0 --timeout-ms 500 2>/dev/null && return 0
		sleep 0.2
	done
	echo "bridge_ab: $1 did not answer; its log:" >&2
	cat "$work/bridge.log" >&2
	exit 1
}

# Stop the running bridge.
stop_bridge() {
	kill "$bridge_pid"
	wait "$bridge_pid" || true
	bridge_pid=
}

make -s -C "$root/bench" >&2
eval "$("$root/scripts/pg-cluster.sh" start "$work/pg" "$PG_PORT")"
psql -q -X -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE plugin_storage"
psql -q -X -v ON_ERROR_STOP=1 -d plugin_storage >/dev/null <<'SQL'
CREATE EXTENSION plugin_storage;
CREATE ROLE bridge LOGIN IN ROLE plugin_storage_bridge;
SELECT plugin_storage.register_plugin('bench');
SQL
mkdir -p "$work/nats"
"$root/scripts/nats.sh" start "$work/nats" "$NATS_PORT"
start_bridge "$A"
"$loadgen" bridge-set --populate --duration 0 --inflight 16 --conns "$CONNS" --keys "$KEYS" \
	--value-bytes "$VALUE_BYTES" >&2
stop_bridge

echo "| round | binary | mode | in flight | rps |"
echo "|---:|---|---|---:|---:|"
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then order="A B"; else order="B A"; fi
	for which in $order; do
		start_bridge "${!which}"
		for mode in bridge-get bridge-set; do
			for n in $LEVELS; do
				line=$("$loadgen" "$mode" --inflight "$n" --conns "$CONNS" --duration "$DURATION" \
					--warmup "$WARMUP" --keys "$KEYS" --value-bytes "$VALUE_BYTES")
				rps=$(echo " $line" | sed -n 's/.* rps=\([^ ]*\).*/\1/p')
				echo "$r $which $mode $n $rps" >>"$work/runs.txt"
				echo "| $r | $which | $mode | $n | $rps |"
			done
		done
		stop_bridge
	done
done

# Medians of A and B, and of the ratios B/A of the runs of the same round.
echo
echo "A = $A"
echo "B = $B"
echo
echo "| mode | in flight | A median rps | B median rps | median of B/A per round |"
echo "|---|---:|---:|---:|---:|"
awk '
	function median(list,    n, a, i, j, t) {
		n = split(list, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ k = $3 " " $4; v[$2, k] = v[$2, k] " " $5; rps[$1, $2, k] = $5; keys[k] = 1; rounds[$1] = 1 }
	END {
		for (k in keys) {
			ratios = ""
			for (r in rounds) if (rps[r, "A", k] > 0) ratios = ratios " " rps[r, "B", k] / rps[r, "A", k]
			split(k, kk, " ")
			printf "| %s | %s | %.0f | %.0f | %.3f |\n", kk[1], kk[2], median(v["A", k]), median(v["B", k]), median(ratios)
		}
	}' "$work/runs.txt" | sort
