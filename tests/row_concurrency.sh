#!/usr/bin/env bash
# tests/row_concurrency.sh: the row tier's atomic operators under concurrency.
#
# On a throwaway cluster, CLIENTS pgbench clients each send UPDATES requests
# at once, all on the same row (the seed's trivia example):
#   update trivia_stats where user_id = groberts:
#     score $inc 10, best_streak $max <client id>, answers $inc 1, log $push "a"
# and then upserts of shared keys, batch inserts of distinct rows and defines
# of one table.  Checks that no increment, maximum or push was lost, that
# every request succeeded, that the upserts made one row per key, the
# inserts every row, and the defines one table with every column and index:
#
#   bash tests/row_concurrency.sh             CLIENTS=8 UPDATES=250 PORT=54352
#
# Prints one line per check and "row_concurrency: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
clients=${CLIENTS:-8}
updates=${UPDATES:-250}
port=${PORT:-54352}
export PATH="$(bash scripts/deps.sh):$PATH" || exit 1
make -s >/dev/null && make -s install >/dev/null || { echo "row_concurrency: build failed"; echo "row_concurrency: 0 passed, 1 failed"; exit 1; }

work=$(mktemp -d /tmp/plugin_storage_rowconc.XXXXXX)
chmod 755 "$work"
trap 'scripts/pg-cluster.sh stop "$work/pg"; rm -rf "$work"' EXIT
eval "$(PS_SWEEP_DB=postgres scripts/pg-cluster.sh start "$work/pg" "$port")" || exit 1

passed=0
failed=0
# Record one check: name, expected, actual
check() {
	if [ "$2" = "$3" ]; then
		echo "ok   $1: $3"
		passed=$((passed + 1))
	else
		echo "FAIL $1: expected $2, got $3"
		failed=$((failed + 1))
	fi
}
# Run a pgbench script from stdin with every client at once; print its exit status
bench() {
	cat >"$work/script.sql"
	pgbench -n -c "$clients" -j "$((clients < 2 ? 1 : 2))" -t "$1" -f "$work/script.sql" postgres \
		>"$work/pgbench.log" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || grep -m3 -E "error|ERROR" "$work/pgbench.log" >&2
	echo $rc
}
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d postgres -c "$1"; }

q "CREATE EXTENSION plugin_storage" && q "SELECT plugin_storage.register_plugin('trivia')" >/dev/null
q "SELECT plugin_storage.plugin_row('trivia', 'define', '{\"table\": \"trivia_stats\",
	\"columns\": {\"user_id\": \"text\", \"score\": \"integer\", \"best_streak\": \"integer\",
	\"answers\": \"bigint\", \"log\": \"text[]\"}, \"primary_key\": \"user_id\"}') -> 'created'" >/dev/null
q "SELECT plugin_storage.plugin_row('trivia', 'insert', '{\"table\": \"trivia_stats\", \"data\": {\"user_id\": \"groberts\"}}')" >/dev/null

# Every client updates the same row; each reply must say one row changed
# (the script divides by zero if not, which stops pgbench).
rc=$(bench "$updates" <<'SQL'
SELECT 1 / CASE WHEN (r ->> 'updated') = '1' THEN 1 ELSE 0 END FROM plugin_storage.plugin_row('trivia', 'update',
	('{"table": "trivia_stats", "filters": {"user_id": "groberts"}, "operations": {"score": {"$inc": 10},
	  "best_streak": {"$max": ' || :client_id || '}, "answers": {"$inc": 1}, "log": {"$push": "a"}}}')::jsonb) r;
SQL
)
check "concurrent updates all succeeded" 0 "$rc"
check "score (\$inc 10, NULL starts at 0)" $((clients * updates * 10)) "$(q "SELECT score FROM ps_trivia.trivia_stats WHERE user_id = 'groberts'")"
check "best_streak (\$max of client ids)" $((clients - 1)) "$(q "SELECT best_streak FROM ps_trivia.trivia_stats WHERE user_id = 'groberts'")"
check "answers (\$inc 1)" $((clients * updates)) "$(q "SELECT answers FROM ps_trivia.trivia_stats WHERE user_id = 'groberts'")"
check "log (\$push)" $((clients * updates)) "$(q "SELECT cardinality(log) FROM ps_trivia.trivia_stats WHERE user_id = 'groberts'")"

# The typed SQL function, $dec from every client: back to where it started.
rc=$(bench "$updates" <<'SQL'
SELECT plugin_storage.plugin_row_update('trivia', 'trivia_stats', '{"user_id": "groberts"}', '{"score": {"$dec": 10}}');
SQL
)
check "concurrent \$dec all succeeded" 0 "$rc"
check "score after as many \$dec" 0 "$(q "SELECT score FROM ps_trivia.trivia_stats WHERE user_id = 'groberts'")"

# Every client upserts the same new keys: one row each, never a duplicate
# key error.
rc=$(bench 50 <<'SQL'
\set k random(1, 20)
SELECT plugin_storage.plugin_row('trivia', 'upsert', ('{"table": "trivia_stats", "data": {"user_id": "shared' || :k || '", "best_streak": ' || :client_id || '}}')::jsonb) ? 'id';
SQL
)
check "concurrent upserts all succeeded" 0 "$rc"
check "upserted keys are unique rows" 20 "$(q "SELECT count(*) FROM ps_trivia.trivia_stats WHERE user_id LIKE 'shared%'")"

# Batch inserts of distinct rows from every client: all of them, atomically.
rc=$(bench 20 <<'SQL'
SELECT plugin_storage.plugin_row('trivia', 'insert', ('{"table": "trivia_stats", "rows": [{"user_id": "c' || :client_id || '-' || random() || '-1"},
	{"user_id": "c' || :client_id || '-' || random() || '-2"}]}')::jsonb) ? 'ids';
SQL
)
check "concurrent batch inserts all succeeded" 0 "$rc"
check "batch-inserted rows" $((clients * 20 * 2)) "$(q "SELECT count(*) FROM ps_trivia.trivia_stats WHERE user_id LIKE 'c%'")"

# Every client defines the same new table at once, then adds the same
# column: defines of one plugin are serialized, so each either makes the
# change or finds it made, and none fails.
rc=$(bench 3 <<'SQL'
SELECT 1 / CASE WHEN r ? 'error' THEN 0 ELSE 1 END FROM plugin_storage.plugin_row('trivia', 'define',
	'{"table": "rounds", "columns": {"game": "integer", "winner": "text"}, "indexes": [["winner"]]}') r;
SELECT 1 / CASE WHEN r ? 'error' THEN 0 ELSE 1 END FROM plugin_storage.plugin_row('trivia', 'define',
	'{"table": "rounds", "columns": {"note": "text"}, "unique": [["game"]]}') r;
SQL
)
check "concurrent defines all succeeded" 0 "$rc"
check "defined columns" "id,game,winner,created_at,updated_at,note" \
	"$(q "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'ps_trivia.rounds'::regclass AND attnum > 0")"
check "defined indexes" 3 "$(q "SELECT count(*) FROM pg_index WHERE indrelid = 'ps_trivia.rounds'::regclass")"

echo "row_concurrency: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
