#!/usr/bin/env bash
# The SQL-driven fuzzer of the extension (fuzz/sql_fuzz.c) against a
# throwaway cluster: plugin_kv, plugin_row (and plugin_sql, plugin_migrate
# when installed) get the seeds of fuzz/corpus/sql/ and then
# FUZZ_SQL_ITERATIONS (3000) mutations of them, as the bridge's role.
#
#   bash fuzz/sql_fuzz.sh
#   FUZZ_SQL_ITERATIONS=100000 FUZZ_SQL_SEED=42 FUZZ_SQL_PORT=54336 bash fuzz/sql_fuzz.sh
#
# Besides each call's verdict (see sql_fuzz.c), the server log must show no
# backend terminated by a signal, no PANIC and no assertion failure.
# Prints "sql_fuzz: N passed, N failed" last.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
port=${FUZZ_SQL_PORT:-54336}
iterations=${FUZZ_SQL_ITERATIONS:-3000}
work=$(mktemp -d /tmp/plugin_storage_sqlfuzz.XXXXXX)
chmod 755 "$work"
cleanup() {
	scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "not ok - $1"; echo "sql_fuzz: 0 passed, 1 failed"; exit 1; }

mkdir -p fuzz/bin fuzz/artifacts
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -Ibridge -o fuzz/bin/sql_fuzz \
	fuzz/sql_fuzz.c bridge/errcode.c $(pkg-config --cflags --libs libpq json-c) || fail "sql_fuzz does not build"
make -s -o bridge-build -o bench-build install >/dev/null || fail "the extension does not install"

env=$(scripts/pg-cluster.sh start "$work/pg" "$port") || fail "PostgreSQL did not start"
eval "$env"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE plugin_storage" >/dev/null &&
	psql -X -q -v ON_ERROR_STOP=1 -d plugin_storage >/dev/null <<'SQL' || fail "database setup failed"
CREATE EXTENSION plugin_storage;
CREATE ROLE fuzzbridge LOGIN IN ROLE plugin_storage_bridge;
SELECT plugin_storage.register_plugin('quote-db');
SELECT plugin_storage.register_plugin('trivia', workspace => 'team-a');
SELECT plugin_storage.register_plugin('other');
SELECT plugin_storage.register_plugin('bystander');
SELECT plugin_storage.plugin_kv('bystander', 'set', '{"key": "secret", "value": "other''s"}');
SQL

PGUSER=fuzzbridge PGDATABASE=plugin_storage SQL_FUZZ_TRACE=${SQL_FUZZ_TRACE:-} fuzz/bin/sql_fuzz fuzz/corpus/sql "$iterations" ${FUZZ_SQL_SEED:-} | tee "$work/out"
rc=${PIPESTATUS[0]}
line=$(grep -E '^sql_fuzz: [0-9]+ passed, [0-9]+ failed' "$work/out")
passed=$(echo "$line" | sed -E 's/^sql_fuzz: ([0-9]+) passed.*/\1/')
failed=$(echo "$line" | sed -E 's/.* ([0-9]+) failed/\1/')
[ -z "$line" ] && { passed=0; failed=1; echo "not ok - sql_fuzz ended without its summary (status $rc)"; }

# A plugin no request names (bystander) keeps its key, and no backend died.
secret=$(psql -X -A -t -d plugin_storage -c "SELECT plugin_storage.plugin_kv('bystander', 'get', '{\"key\": \"secret\"}')->>'value'")
if [ "$secret" = "other's" ]; then passed=$((passed + 1)); echo "ok - the bystander plugin's key is untouched"; else
	failed=$((failed + 1)); echo "not ok - the bystander plugin's key changed: $secret"; fi
if grep -E 'terminated by signal|PANIC|TRAP:|server process .* was terminated' "$work/pg/server.log"; then
	failed=$((failed + 1)); echo "not ok - the server log shows a crashed backend"
else
	passed=$((passed + 1)); echo "ok - no backend crashed (server log)"
fi
echo "sql_fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
