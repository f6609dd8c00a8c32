#!/usr/bin/env bash
# The SQL tier through the bridge: an indexed aggregate over 100k rows at a fixed rate.
#
#   bench/sql_bridge.sh
#
# Starts, in a temporary directory, a throwaway PostgreSQL cluster with plugin_storage, a
# nats-server and the bridge (bench/bridge_lib.sh, as bench/bridge_kv.sh does), and gives the
# plugin "bench" its table through the migrate tier: `plugin-storage-bridge migrate bench
# bench/sql_bridge/migrations` (create, fill with 100,000 rows, index (game, score)); then
# VACUUM ANALYZE, as a DBA would after a bulk load. Then, at RATE requests per second spread
# evenly (open loop: latency counts from each request's due time, so queueing counts), for
# DURATION seconds after WARMUP, it sends the same aggregate
#
#   SELECT count(*) AS plays, max(score) AS best, avg(score)::float8 AS mean
#   FROM events WHERE game = :game AND score >= :min_score      -- {"game": 42, "min_score": 5000}
#
# three ways, one after another in the same run:
#   bridge      {"query": ..., "params": ...} on db.sql.bench.query over NATS (bench/loadgen
#               request --rate)
#   plugin_sql  plugin_storage.plugin_sql('bench', request) over libpq (pgbench --rate, prepared):
#               the extension without NATS and the bridge
#   raw SQL     the statement itself on the plugin's table, as the superuser, over libpq
#               (pgbench --rate, prepared): the peer
# and prints p50/p95/p99 of each, the bridge/raw ratios, and PASS or MISS for the issue's target:
# p95 under 10 ms through the bridge. Everything is stopped and removed on exit.
#
# Settings (environment):
#   RATE=50 DURATION=30 WARMUP=2   requests per second, measured and warm-up seconds
#   INFLIGHT=16                    loadgen threads: the most bridge requests in flight
#   TARGET_P95_MS=10               the target
#   BRIDGE= BRIDGE_ARGS=           a bridge binary to measure, extra arguments for it
#   PG_PORT=54344 NATS_PORT=42244  ports of the throwaway servers
#   PG_CONFIG=                     another PostgreSQL 15 installation (default: Debian's)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
RATE=${RATE:-50}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-2}
INFLIGHT=${INFLIGHT:-16}
TARGET_P95_MS=${TARGET_P95_MS:-10}
BRIDGE_ARGS=${BRIDGE_ARGS:-}
PG_PORT=${PG_PORT:-54344}
NATS_PORT=${NATS_PORT:-42244}
bench_name=sql_bridge
. "$root/bench/bridge_lib.sh"
pgbench=$pgbin/pgbench
[ -x "$pgbench" ] || pgbench=pgbench

query='SELECT count(*) AS plays, max(score) AS best, avg(score)::float8 AS mean FROM events WHERE game = :game AND score >= :min_score'
request="{\"query\": \"$query\", \"params\": {\"game\": 42, \"min_score\": 5000}}"

# Give the plugin its table through the migrate tier, then vacuum and analyze it.
make_table() {
	log "applying bench/sql_bridge/migrations through db.migrate.bench"
	"$bridge" migrate bench "$root/bench/sql_bridge/migrations" --applied-by sql_bridge.sh >&2 || {
		log "the migration failed; the bridge's log:"
		tail -20 "$work/bridge.log" >&2
		exit 1
	}
	"$pgbin/psql" -q -X -v ON_ERROR_STOP=1 -d plugin_storage -c "VACUUM ANALYZE ps_bench.events"
}

# Check that the bridge and the raw statement give the same answer before timing them.
check_answers() {
	local via_bridge raw
	via_bridge=$("$pgbin/psql" -X -A -t -d plugin_storage -c \
		"SELECT (r->'rows'->0)::text FROM plugin_storage.plugin_sql('bench', \$\$$request\$\$) AS r")
	raw=$("$pgbin/psql" -X -A -t -d plugin_storage -c \
		"SELECT to_jsonb(q)::text FROM ($(sed -e '/^--/d' -e 's/:game/42/; s/:min_score/5000/; s/;$//' \
			"$root/bench/sql_bridge/raw.sql")) AS q")
	if [ "$via_bridge" != "$raw" ]; then
		log "answers differ: plugin_sql $via_bridge, raw SQL $raw"
		exit 1
	fi
	"$loadgen" request --subject db.sql.bench.query --payload "$request" --duration 0.2 --warmup 0 \
		>/dev/null || { log "db.sql.bench.query fails"; exit 1; }
	log "plugin_sql and the raw statement both answer $raw; db.sql.bench.query answers without error"
}

# Print one field (name=value) of a loadgen report line.
field() { echo " $1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

declare -A p50 p95 p99 rps errs

# The bridge: loadgen's open loop on db.sql.bench.query.
run_bridge() {
	local line
	log "bridge: $RATE requests/s for ${DURATION}s (after ${WARMUP}s warm-up)"
	line=$("$loadgen" request --subject db.sql.bench.query --payload "$request" --rate "$RATE" \
		--inflight "$INFLIGHT" --duration "$DURATION" --warmup "$WARMUP")
	echo "$line" >>"$work/results.txt"
	p50[bridge]=$(field "$line" p50_ms)
	p95[bridge]=$(field "$line" p95_ms)
	p99[bridge]=$(field "$line" p99_ms)
	rps[bridge]=$(field "$line" rps)
	errs[bridge]=$(field "$line" errors)
}

# Print the nearest-rank percentile $1 of the numbers on stdin (µs), in ms.
percentile() {
	sort -n | awk -v p="$1" '{ a[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1
		printf "%.3f", a[r] / 1000 }'
}

# A pgbench side ($1: name, $2: script, then -D arguments): warm up, then DURATION seconds at RATE,
# one client, logging every transaction; latency is pgbench's, from the scheduled start.
run_pgbench() {
	local name=$1 script=$2 lat
	shift 2
	log "$name: $RATE transactions/s for ${DURATION}s (after ${WARMUP}s warm-up)"
	"$pgbench" -n -M prepared -c 1 -R "$RATE" -T "$(awk -v w="$WARMUP" 'BEGIN { print int(w + 0.999) }')" \
		"$@" -f "$script" plugin_storage >/dev/null 2>&1 || true
	rm -f "$work/$name".*
	"$pgbench" -n -M prepared -c 1 -R "$RATE" -T "$DURATION" -l --log-prefix="$work/$name" \
		"$@" -f "$script" plugin_storage >"$work/$name.out" 2>&1 || {
		log "pgbench failed:"
		cat "$work/$name.out" >&2
		exit 1
	}
	# per-transaction log: client, transaction, latency µs (from the scheduled start), ...
	lat=$(cat "$work/$name".[0-9]* | awk '$3 != "skipped" { print $3 }')
	p50[$name]=$(echo "$lat" | percentile 50)
	p95[$name]=$(echo "$lat" | percentile 95)
	p99[$name]=$(echo "$lat" | percentile 99)
	rps[$name]=$(echo "$lat" | awk -v d="$DURATION" 'END { printf "%.1f", NR / d }')
	errs[$name]=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/$name.out")
	errs[$name]=${errs[$name]:-0}
}

# Print a/b with two decimals, or - when b is zero.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

# Print the machine, the settings and the table.
report() {
	local verdict side
	verdict=$(awk -v p="${p95[bridge]}" -v t="$TARGET_P95_MS" 'BEGIN { print (p + 0 < t + 0 && p != "") ? "PASS" : "MISS" }')
	echo "## SQL tier through the bridge: an indexed aggregate over 100k rows"
	echo
	echo "- machine: $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(uname -sr)"
	echo "- $(nats-server --version), $("$pgbin/postgres" --version), $("$pgbench" --version)"
	echo "- commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo none)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
	echo "- settings: RATE=$RATE/s DURATION=${DURATION}s WARMUP=${WARMUP}s, open loop (latency from each request's due time)"
	echo "- query: \`$query\` with {\"game\": 42, \"min_score\": 5000}"
	echo
	echo "| path | rps | p50 ms | p95 ms | p99 ms | errors |"
	echo "|---|---:|---:|---:|---:|---:|"
	for side in bridge plugin_sql raw; do
		echo "| $(case $side in bridge) echo "db.sql over NATS + bridge" ;; plugin_sql) echo "plugin_sql over libpq" ;; raw) echo "raw SQL over libpq (peer)" ;; esac)" \
			"| ${rps[$side]} | ${p50[$side]} | ${p95[$side]} | ${p99[$side]} | ${errs[$side]} |"
	done
	echo
	echo "bridge / raw SQL: p50 $(ratio "${p50[bridge]}" "${p50[raw]}")x, p95 $(ratio "${p95[bridge]}" "${p95[raw]}")x," \
		"p99 $(ratio "${p99[bridge]}" "${p99[raw]}")x"
	echo
	echo "target: p95 through the bridge under $TARGET_P95_MS ms at $RATE requests/s: ${p95[bridge]} ms, $verdict"
}

bench_build
bench_start_postgres
bench_start_nats
bench_start_bridge
make_table
check_answers
run_bridge
run_pgbench plugin_sql "$root/bench/sql_bridge/plugin_sql.sql" -D "req=$request"
run_pgbench raw "$root/bench/sql_bridge/raw.sql" -D game=42 -D min_score=5000
report
