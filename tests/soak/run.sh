#!/usr/bin/env bash
# Soak: SOAK_SECONDS (600) of steady mixed load through the bridge — KV sets
# (a third with a TTL of 1-5 s, so keys expire throughout) and gets, row
# updates ($inc) and searches — across 100 plugins, from tests/faults/relload.c.
# Not part of tests/run.sh: `make soak`.
#
#   bash tests/soak/run.sh
#   SOAK_SECONDS=120 RL_RATE=400 SOAK_PG_PORT=54338 SOAK_NATS_PORT=42238 bash tests/soak/run.sh
#
# Checks: every request answered ok (no error reply, no client timeout); the
# bridge's VmRSS at the end at most 10% above its value after the first
# minute (warm-up); latency flat: the last minute's p99 at most twice the
# first minute's plus 5 ms (p50/p99 of every minute are printed); the sweeper
# swept keys (plugin_storage.sweeper.keys_swept) and, at every minute and at
# the end, no key expired more than 5 s ago (5 sweep intervals) is left.
# Prints "soak: N passed, N failed" last.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
pg_port=${SOAK_PG_PORT:-54338}
nats_port=${SOAK_NATS_PORT:-42238}
seconds=${SOAK_SECONDS:-600}
plugins=${RL_PLUGINS:-100}
bridge=$top/bridge/plugin-storage-bridge
driver=$top/tests/bin/relload
export NATS_URL=nats://127.0.0.1:$nats_port RL_PLUGINS=$plugins RL_TIMEOUT_MS=${RL_TIMEOUT_MS:-10000}

suite=soak
bridge_pid=
watch_pid=
work=$(mktemp -d /tmp/plugin_storage_soak.XXXXXX)
chmod 755 "$work"
source tests/lib/servers.sh

cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	[ -n "$bridge_pid" ] && kill -KILL "$bridge_pid" 2>/dev/null
	servers_stop SOAK_KEEP
}
trap cleanup EXIT

# Expired keys the sweeper has left for more than 5 s, over every plugin.
unswept() {
	psql -X -A -t -d plugin_storage -c "SELECT public.soak_unswept('5 s')"
}

make -s -C bridge >/dev/null || { echo "not ok - the bridge does not build"; failed=1; finish; }
mkdir -p tests/bin
cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -o "$driver" tests/faults/relload.c \
	$(pkg-config --cflags --libs libnats json-c libpq) || { echo "not ok - relload does not build"; failed=1; finish; }

# PostgreSQL (sweeper every second), the plugins soak-0.. with a row table
# "items" of 100 rows each, nats-server, the bridge.
export PGDATABASE=plugin_storage
PS_SWEEP_INTERVAL=1s pg_start "$pg_port" -v plugins="$plugins" <<'SQL'
SELECT plugin_storage.register_plugin('soak-' || i) FROM generate_series(0, :plugins - 1) i;
SELECT count(*) FILTER (WHERE (plugin_storage.plugin_row('soak-' || i, 'define',
	'{"table": "items", "columns": {"id": "integer", "grp": "integer", "n": "bigint", "note": "text"},
	  "primary_key": "id", "indexes": [["grp", "n"]]}') ->> 'created') IS NULL)
	FROM generate_series(0, :plugins - 1) i;
SELECT count(*) FILTER (WHERE plugin_storage.plugin_row('soak-' || i, 'insert', jsonb_build_object('table', 'items',
	'rows', (SELECT jsonb_agg(jsonb_build_object('id', r, 'grp', r % 10, 'n', 0)) FROM generate_series(1, 100) r))) ? 'error')
	FROM generate_series(0, :plugins - 1) i;
CREATE FUNCTION public.soak_unswept(older interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	s name;
	n bigint;
	total bigint := 0;
BEGIN
	FOR s IN SELECT schema FROM plugin_storage.plugins LOOP
		EXECUTE format('SELECT count(*) FROM %I._ps_kv WHERE expires_at < now() - $1', s) INTO n USING older;
		total := total + n;
	END LOOP;
	RETURN total;
END $$;
SQL
nats_start "$nats_port"
PGUSER=bridge "$bridge" >"$work/bridge.log" 2>&1 &
bridge_pid=$!
for _ in $(seq 1 100); do grep -q '"msg":"serving"' "$work/bridge.log" && break; sleep 0.1; done
check "the bridge starts and serves" grep -q '"msg":"serving"' "$work/bridge.log"

# Every minute: the sweeper's count and the keys it left behind.
(
	while sleep 60; do
		echo "# sweep: $(psql -X -A -t -F ' ' -c "SELECT 'passes', passes, 'keys_swept', keys_swept, 'errors', errors FROM plugin_storage.sweeper"), expired over 5 s ago and unswept: $(unswept)" |
			tee -a "$work/sweep.log"
	done
) &
watch_pid=$!
touch "$work/sweep.log"

echo "# soak: $seconds s, ${RL_RATE:-400} requests/s, $plugins plugins"
"$driver" soak "$seconds" "$bridge_pid" | tee "$work/soak.out"
kill "$watch_pid" 2>/dev/null
watch_pid=

fig() { sed -nE "s/.* $1 ([0-9-]+).*/\1/p" "$work/soak.out" | tail -1; }
requests=$(fig requests)
errors=$(fig errors)
timeouts=$(fig timeouts)
stray=$(fig stray)
p99_first=$(fig p99_first_ms)
p99_last=$(fig p99_last_ms)
rss_warm=$(fig rss_warm_kb)
rss_end=$(fig rss_end_kb)
[ -n "$requests" ] || { echo "not ok - the driver ended without its figures"; failed=$((failed + 1)); finish; }

check "every one of $requests requests answered ok ($errors errors, $timeouts client timeouts, $stray stray replies)" \
	test "$errors" = 0 -a "$timeouts" = 0 -a "$stray" = 0
if [ "${rss_warm:-0}" -gt 0 ]; then
	growth=$(awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
	check "bridge RSS after warm-up $rss_warm kB, at the end $rss_end kB: growth $growth% < 10%" \
		awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN { exit !(b < a * 1.10) }'
else
	echo "# no RSS comparison: the run is shorter than the 1-minute warm-up"
fi
check "latency flat: p99 first minute $p99_first ms, last minute $p99_last ms (at most 2x + 5 ms)" \
	awk -v a="$p99_first" -v b="$p99_last" 'BEGIN { exit !(b <= 2 * a + 5) }'
sleep 2 # a sweep pass for the last TTL keys
swept=$(psql -X -A -t -c "SELECT keys_swept FROM plugin_storage.sweeper")
left=$(unswept)
check "the sweeper swept $swept expired keys" test "${swept:-0}" -gt 0
check "no key expired over 5 s ago is left at the end ($left)" test "$left" = 0
check "no key expired over 5 s ago was left at any minute" bash -c "! grep -qE 'unswept: [1-9]' '$work/sweep.log'"
check "the bridge logged no internal error" bash -c "! grep -q '\"msg\":\"internal error' '$work/bridge.log'"
kill -TERM "$bridge_pid"
for _ in $(seq 1 100); do kill -0 "$bridge_pid" 2>/dev/null || break; sleep 0.1; done
grep '"msg":"stopped"' "$work/bridge.log" | sed 's/^/# /'
bridge_pid=
finish
