#!/usr/bin/env bash
# bench/kv_sql.sh: the KV tier's SQL entry point against hand-written SQL.
#
# In one run, on one throwaway cluster, pgbench drives
#   ext get    SELECT plugin_storage.plugin_kv('bench', 'get', '{"key": ...}')
#   plain get  SELECT ... FROM bench_plain.kv WHERE <same key, same liveness test>
#   ext set    SELECT plugin_storage.plugin_kv('bench', 'set', '{"key": ..., "value": ...}')
#   plain set  INSERT ... ON CONFLICT DO UPDATE ... RETURNING (the same upsert)
# on identical tables (bench_plain.kv is made LIKE the extension's KV table),
# in prepared mode, interleaving the two sides over ROUNDS rounds, and prints
# the median throughput of each and the ratio extension/plain.
#
#   bash bench/kv_sql.sh                 CLIENTS=4 DURATION=10 ROUNDS=3 KEYS=10000
#
# The plain side does less than the extension by design: no plugin lookup, no
# role switch, no JSON in or out.  The ratio is what the isolation and the
# wire format cost.  Commits are durable (fsync on, synchronous_commit on).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
keys=${KEYS:-10000}
. bench/pgbench_lib.sh
bench_start kv_sql 54341 keys "$keys"

echo "plugin_storage KV through SQL vs hand-written SQL: $(nproc) cores, $clients clients (${THREADS:-$clients} pgbench threads), ${duration}s x $rounds rounds, $keys keys"
echo "$(pgbench --version), $(uname -r)"
echo
printf '| %-4s | %14s | %14s | %7s |\n' op "plain tps" "plugin_kv tps" ratio
printf '|------|----------------|----------------|---------|\n'
for op in get set; do
	: >"$work/plain_$op" && : >"$work/ext_$op"
	for _ in $(seq 1 "$rounds"); do
		tps "plain_$op" >>"$work/plain_$op"
		tps "ext_$op" >>"$work/ext_$op"
	done
	p=$(median <"$work/plain_$op")
	e=$(median <"$work/ext_$op")
	printf '| %-4s | %14.0f | %14.0f | %6.2fx |\n' "$op" "$p" "$e" "$(awk -v e="$e" -v p="$p" 'BEGIN {print e / p}')"
done
