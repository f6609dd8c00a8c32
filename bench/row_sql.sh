#!/usr/bin/env bash
# bench/row_sql.sh: the row tier's SQL entry point against hand-written SQL.
#
# In one run, on one throwaway cluster, pgbench drives
#   ext search    plugin_row('bench', 'search', {filters: game = g, score >= s,
#                 sort: score desc, limit: 10})
#   plain search  SELECT <the same columns> ... WHERE game = :g AND score >= :s
#                 ORDER BY score DESC LIMIT 10   (an index on (game, score))
#   json search   the plain search, answered as the same JSON reply by SQL
#                 (jsonb_build_object('rows', jsonb_agg(to_jsonb(r)), ...))
#   ext update    plugin_row('bench', 'update', {filters: player = p,
#                 operations: score $inc 10, streak $max v})
#   plain update  UPDATE ... SET score = COALESCE(score, 0) + 10,
#                 streak = GREATEST(streak, :v), updated_at = now() WHERE player = ...
#   json update   the plain update, answered as {"updated": n}
# on identical tables (the plugin's made by define, the plain one by hand, same
# columns, defaults, indexes and rows), in prepared mode, interleaving the
# sides over ROUNDS rounds, and prints the median throughput of each and the
# ratios extension/plain and extension/json.
#
#   bash bench/row_sql.sh                CLIENTS=4 DURATION=10 ROUNDS=3 ROWS=100000
#
# Then, unless BRIDGE=0, the same search and update requests go through
# NATS and the bridge (bench/loadgen bridge-row-search / bridge-row-update,
# nats-server on NATS_PORT, default 42260) at 1, 16 and 128 in flight, and a
# second table shows those figures beside the SQL ones.
#
# The plain side does less than the extension by design: no plugin lookup, no
# role switch, no catalog check, no JSON in or out (its rows go to pgbench as
# text columns; the extension's come back as one jsonb).  The ratio
# extension/plain is what the isolation, the validation and the wire format
# cost; extension/json compares with SQL that gives the same reply.  Commits
# are durable (fsync on, synchronous_commit on).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rows=${ROWS:-100000}
. bench/pgbench_lib.sh
bench_start row_sql 54342 rows "$rows"

# Check that the three sides answer the same rows before timing them
check() {
	local half=$((rows / 2))
	local ext plain json
	ext=$(psql -X -A -t -d postgres -c "SELECT jsonb_path_query_array(plugin_storage.plugin_row('bench', 'search',
		'{\"table\": \"scores\", \"filters\": {\"game\": 7, \"score\": {\"\$gte\": $half}}, \"sort\": {\"field\": \"score\", \"order\": \"desc\"}, \"limit\": 10}'), '\$.rows[*].id')")
	plain=$(psql -X -A -t -d postgres -c "SELECT jsonb_agg(id) FROM (SELECT id FROM bench_plain.scores
		WHERE game = 7 AND score >= $half ORDER BY score DESC LIMIT 10) s")
	json=$(psql -X -A -t -d postgres -c "SELECT jsonb_path_query_array(j, '\$.rows[*].id') FROM
		($(sed -e '/^\\/d' -e "s/:g/7/; s/:s/$half/; s/;\$//" bench/row_sql/json_search.sql)) AS q(j)")
	[ "$ext" = "$plain" ] && [ "$ext" = "$json" ] ||
		{ echo "row_sql: search answers differ: $ext, $plain, $json" >&2; exit 1; }
}
check

echo "plugin_storage rows through SQL vs hand-written SQL: $(nproc) cores, $clients clients (${THREADS:-$clients} pgbench threads), ${duration}s x $rounds rounds, $rows rows"
echo "$(pgbench --version), $(uname -r)"
echo
printf '| %-6s | %10s | %11s | %15s | %8s | %7s |\n' op "plain tps" "json tps" "plugin_row tps" "vs plain" "vs json"
printf '|--------|------------|-------------|-----------------|----------|---------|\n'
for op in search update; do
	: >"$work/plain_$op" && : >"$work/json_$op" && : >"$work/ext_$op"
	for _ in $(seq 1 "$rounds"); do
		tps "plain_$op" >>"$work/plain_$op"
		tps "json_$op" >>"$work/json_$op"
		tps "ext_$op" >>"$work/ext_$op"
	done
	p=$(median <"$work/plain_$op")
	j=$(median <"$work/json_$op")
	e=$(median <"$work/ext_$op")
	printf '| %-6s | %10.0f | %11.0f | %15.0f | %7.2fx | %6.2fx |\n' "$op" "$p" "$j" "$e" \
		"$(awk -v e="$e" -v p="$p" 'BEGIN {print e / p}')" "$(awk -v e="$e" -v j="$j" 'BEGIN {print e / j}')"
done
# Every round, so that a median can be told from a spread
echo
for op in search update; do
	echo "$op, each round (plain / json / plugin_row tps):" \
		"$(paste -d / "$work/plain_$op" "$work/json_$op" "$work/ext_$op" | awk '{printf "%s%s", (NR > 1 ? ", " : ""), $0}' |
			sed -E 's/\.[0-9]+//g')"
done

# The same requests through NATS and the bridge, beside the SQL figures.
[ "${BRIDGE:-1}" = 1 ] || exit 0
nats_port=${NATS_PORT:-42260}
make -s -C bench >/dev/null
psql -X -q -d postgres -c "CREATE ROLE bench_bridge LOGIN IN ROLE plugin_storage_bridge"
bridge_pid=
trap 'kill "$bridge_pid" 2>/dev/null; wait "$bridge_pid" 2>/dev/null; scripts/nats.sh stop "$work/nats"; scripts/pg-cluster.sh stop "$work/pg"; rm -rf "$work"' EXIT
scripts/nats.sh start "$work/nats" "$nats_port"
PGUSER=bench_bridge PGDATABASE=postgres NATS_URL="nats://127.0.0.1:$nats_port" \
	bridge/plugin-storage-bridge --log-level warn 2>"$work/bridge.log" &
bridge_pid=$!
for _ in $(seq 1 50); do
	bench/loadgen bridge-row-search --url "nats://127.0.0.1:$nats_port" --keys "$rows" \
		--duration 1 --warmup 0 --timeout-ms 500 >/dev/null 2>&1 && break
	sleep 0.2
done
echo
echo "The same requests through NATS and the bridge (bench/loadgen, ${duration}s each):"
echo
printf '| %-6s | %9s | %10s | %8s | %8s | %6s |\n' op "in flight" "rps" "p50 ms" "p99 ms" errors
printf '|--------|-----------|------------|----------|----------|--------|\n'
for op in search update; do
	for n in 1 16 128; do
		line=$(bench/loadgen "bridge-row-$op" --url "nats://127.0.0.1:$nats_port" --keys "$rows" \
			--inflight "$n" --duration "$duration" 2>/dev/null | tail -1)
		field() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
		printf '| %-6s | %9s | %10.0f | %8s | %8s | %6s |\n' "$op" "$n" "$(field rps)" \
			"$(field p50_ms)" "$(field p99_ms)" "$(field errors)"
	done
done
