#!/usr/bin/env bash
# Tests of what plugin-storage-bridge shows operators: metrics (db.stats, Prometheus), events,
# $SRV discovery, db.inspect, and the NATS permissions around them.
#
#   bash tests/observability/run.sh
#
# Needs the plugin_storage extension installed (`make install` at the top level; PG_CONFIG picks
# the PostgreSQL installation). Starts its own PostgreSQL cluster (port 54337) with the plugins
# quote-db and trivia and a trigger that makes writes of keys "slow*" take 0.3 s; a nats-server
# (port 42237) with the config of `plugin-storage-bridge nats-config` (operator "ops"); and the
# bridge with slow_request_ms = 200 and the Prometheus listener on 127.0.0.1:19187. Then runs
# tests/observability/obs_test phase by phase:
#
#   srv      $SRV.PING/INFO/STATS in all three forms, field by field; others get no reply
#   stats    trivia's requests counted exactly in db.stats.trivia, db.stats and $SRV.STATS
#   prom     GET /metrics parsed by prometheus_client (prom_check.py); 404 and 405 otherwise
#   events   error, slow and migration events on db.events.<plugin>.<kind>, and as log lines
#   perm     plugins are refused db.stats, db.inspect, db.events and $SRV; inspect for ops
#   multi    a second bridge: db.stats and $SRV answered by each, requests by one
#   limits   metrics_max_plugins = 2 (_other), _invalid labels, event_rate_limit = 3
#
# Users follow obs_test's rule: user U has password "pw-U"; "ops" is the operator.
# Prints "observability: N passed, N failed" last and exits non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
PG_PORT=${PG_PORT:-54337}
NATS_PORT=${NATS_PORT:-42237}
HTTP_PORT=${HTTP_PORT:-19187}
bridge=$top/bridge/plugin-storage-bridge
driver=$top/tests/bin/obs_test
export OT_NATS_URL=nats://127.0.0.1:$NATS_PORT
metrics_url=http://127.0.0.1:$HTTP_PORT/metrics

suite=observability
bridge_pid=
bridge2_pid=
work=$(mktemp -d /tmp/observability_test.XXXXXX)
chmod 755 "$work"
source tests/lib/servers.sh

cleanup() {
	[ -n "$bridge_pid" ] && kill -KILL "$bridge_pid" 2>/dev/null
	[ -n "$bridge2_pid" ] && kill -KILL "$bridge2_pid" 2>/dev/null
	servers_stop OT_KEEP
}
trap cleanup EXIT

# Add up a "# phase P passed=N failed=M" line from a command's output.
tally() {
	local name=$1 out line
	shift
	out=$("$@" 2>&1)
	echo "$out"
	line=$(echo "$out" | grep -E '^# phase .* passed=[0-9]+ failed=[0-9]+$' | tail -1)
	if [ -z "$line" ]; then
		echo "not ok - phase $name ended without its summary (crashed?)"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.*failed=([0-9]+)$/\1/')))
}

# Run one driver phase.
phase() { tally "$1" "$driver" "$@"; }

# Start a bridge with config file $1, log $2; set $started_pid and $started_id.
start_bridge() {
	local from
	from=$(next_line "$2")
	PGUSER=bridge PGDATABASE=plugin_storage NATS_URL=$OT_NATS_URL \
		PS_BRIDGE_NATS_USER=bridge PS_BRIDGE_NATS_PASSWORD=pw-bridge \
		"$bridge" --config "$1" >>"$2" 2>&1 &
	started_pid=$!
	wait_for "$2" '"msg":"serving"' 100 "$from" || return 1
	started_id=$(tail -n +"$from" "$2" | grep '"msg":"observability"' |
		sed -E 's/.*"id":"([^"]*)".*/\1/' | tail -1)
}

# Stop a bridge with SIGTERM and wait for it; set $status.
stop_bridge() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
	status=$?
}

# Fetch a URL with curl: status code, headers in $work/headers.
http_status() {
	curl -s -o "$work/body" -D "$work/headers" -w '%{http_code}' "$@"
}

# Build the bridge and the driver.
make -s -C bridge >/dev/null || { echo "observability: build failed"; make -C bridge; echo "observability: 0 passed, 1 failed"; exit 1; }
mkdir -p tests/bin
if [ ! -x "$driver" ] || [ -n "$(find tests/observability/obs_test.c tests/lib/nats_test.[ch] -newer "$driver")" ]; then
	cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -Itests/lib -o "$driver" tests/observability/obs_test.c tests/lib/nats_test.c \
		$(pkg-config --cflags --libs libnats json-c) || { echo "observability: 0 passed, 1 failed"; exit 1; }
fi
sharedir=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --sharedir)
if [ ! -f "$sharedir/extension/plugin_storage.control" ]; then
	echo "not ok - the plugin_storage extension is not installed: run make install at the top level"
	failed=1
	finish
fi

# The command line and the generated nats-server config.
check "--help documents the observability settings" bash -c \
	"'$bridge' --help | grep -q -- --metrics-listen && '$bridge' --help | grep -q -- --metrics-max-plugins && '$bridge' --help | grep -q -- --event-rate-limit"
"$bridge" --metrics-listen nonsense --nats-url nats://127.0.0.1:1 >"$work/bad.log" 2>&1
check "a bad metrics_listen stops the bridge at start-up (status 1)" \
	bash -c "test $? -eq 1 && grep -q 'metrics_listen must be HOST:PORT' '$work/bad.log'"
"$bridge" nats-config --bridge-user bridge --bridge-password pw-bridge \
	--operator-user ops --operator-password pw-ops quote-db:pw-quote-db trivia:pw-trivia >"$work/nats.conf"
check "nats-config lets the bridge publish events and answer \$SRV" bash -c \
	"grep -qF 'publish: { allow: [\"db.events.>\"] }' '$work/nats.conf' && grep -qF '\"\$SRV.*.plugin-storage-bridge.*\"' '$work/nats.conf'"
check "nats-config denies plugins db.events, db.stats and db.inspect" \
	test "$(grep -cF 'deny: ["db.events.>", "db.stats.>", "db.inspect.>"]' "$work/nats.conf")" -eq 2

# PostgreSQL, with the extension, the bridge's role, two plugins and a slow trigger.
pg_start "$PG_PORT" <<'SQL'
SELECT plugin_storage.register_plugin('quote-db');
SELECT plugin_storage.register_plugin('trivia');
CREATE FUNCTION public.ot_slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.key LIKE 'slow%' THEN
		PERFORM pg_sleep(0.3);
	END IF;
	RETURN NEW;
END $$;
DO $$
DECLARE s name := (SELECT schema FROM plugin_storage.plugins WHERE name = 'quote-db');
BEGIN
	EXECUTE format('CREATE TRIGGER ot_slow BEFORE INSERT OR UPDATE ON %I._ps_kv '
		'FOR EACH ROW EXECUTE FUNCTION public.ot_slow()', s);
END $$;
SQL
OT_INSPECT=0
[ "$(psql -X -A -t -d plugin_storage -c "SELECT to_regprocedure('plugin_storage.inspect(text,boolean)') IS NOT NULL")" = t ] && OT_INSPECT=1
export OT_INSPECT
echo "# plugin_storage.inspect(text,boolean) present: $OT_INSPECT"

nats_start "$NATS_PORT" "$work/nats.conf"

printf 'slow_request_ms = 200\nmetrics_listen = 127.0.0.1:%s\n' "$HTTP_PORT" >"$work/bridge.conf"
check "the bridge starts and serves" start_bridge "$work/bridge.conf" "$work/bridge.log"
bridge_pid=$started_pid
export OT_BRIDGE_ID=$started_id
[ -n "$bridge_pid" ] || finish

phase srv
phase stats

# Prometheus: the scrape parses, its histograms add up, trivia's counts are exact.
code=$(http_status "$metrics_url")
cp "$work/body" "$work/scrape.txt"
check "GET /metrics answers 200" test "$code" = 200
check "... as text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$work/headers"
P=plugin_storage_bridge_
tally prom /usr/bin/python3 tests/observability/prom_check.py "$work/scrape.txt" \
	"${P}requests_total{plugin=\"trivia\",tier=\"kv\",op=\"set\"}=3" \
	"${P}requests_total{plugin=\"trivia\",tier=\"kv\",op=\"get\"}=2" \
	"${P}requests_total{plugin=\"trivia\",tier=\"kv\",op=\"_invalid\"}=1" \
	"${P}errors_total{plugin=\"trivia\",tier=\"kv\",op=\"_invalid\",code=\"invalid_request\"}=1" \
	"${P}request_duration_seconds_count{plugin=\"trivia\",tier=\"kv\",op=\"set\"}=3" \
	"${P}request_duration_seconds_bucket{plugin=\"trivia\",tier=\"kv\",op=\"set\",le=\"+Inf\"}=3" \
	"${P}info{version=\"0.1.0\",id=\"$OT_BRIDGE_ID\",host=\"$(hostname)\"}=1" \
	"${P}connections{}=2" \
	"${P}max_plugins{}=1000"
check "GET / answers 404" test "$(http_status "http://127.0.0.1:$HTTP_PORT/")" = 404
check "GET /metrics/x answers 404" test "$(http_status "$metrics_url/x")" = 404
check "POST /metrics answers 405 with Allow: GET, HEAD" bash -c \
	"test \"\$(curl -s -o /dev/null -D '$work/h405' -w '%{http_code}' -X POST -d x '$metrics_url')\" = 405 && grep -qi '^allow: GET, HEAD' '$work/h405'"
check "HEAD /metrics answers 200" test "$(http_status -I "$metrics_url")" = 200

from=$(next_line "$work/bridge.log")
phase events
check "an error event is also a log line" \
	bash -c "tail -n +$from '$work/bridge.log' | grep -q '\"level\":\"warn\",\"msg\":\"event\",\"kind\":\"error\",\"plugin\":\"quote-db\",\"tier\":\"kv\",\"op\":\"bogus\",\"duration_ms\":[0-9.]*,\"code\":\"invalid_request\",\"message\":\"unknown kv operation'"
check "a slow event is also a log line" \
	bash -c "tail -n +$from '$work/bridge.log' | grep -q '\"msg\":\"event\",\"kind\":\"slow\",\"plugin\":\"quote-db\",\"tier\":\"kv\",\"op\":\"set\"'"
check "a migration event is also a log line" \
	bash -c "tail -n +$from '$work/bridge.log' | grep -q '\"msg\":\"event\",\"kind\":\"migration\",\"plugin\":\"quote-db\",\"tier\":\"migrate\",\"op\":\"apply\"'"
phase perm

# A second bridge on the same servers: each answers db.stats and $SRV for itself.
printf 'metrics_listen = 127.0.0.1:%s\n' "$((HTTP_PORT + 1))" >"$work/bridge2.conf"
check "a second bridge starts" start_bridge "$work/bridge2.conf" "$work/bridge2.log"
bridge2_pid=$started_pid
OT_BRIDGE_ID2=$started_id phase multi
stop_bridge "$bridge2_pid"
bridge2_pid=
check "the second bridge drains and exits 0 (status $status)" test "$status" = 0

# limits: a fresh bridge tracking 2 plugins and 3 events a second, without slow events.
stop_bridge "$bridge_pid"
bridge_pid=
check "SIGTERM stops the bridge, exit 0 (status $status)" test "$status" = 0
printf 'metrics_listen = 127.0.0.1:%s\nmetrics_max_plugins = 2\nevent_rate_limit = 3\nslow_request_ms = 0\n' \
	"$HTTP_PORT" >"$work/bridge.conf"
check "the bridge restarts with metrics_max_plugins = 2" start_bridge "$work/bridge.conf" "$work/bridge.log"
bridge_pid=$started_pid
export OT_BRIDGE_ID=$started_id
phase limits
curl -s "$metrics_url" >"$work/scrape2.txt"
tally prom-limits /usr/bin/python3 tests/observability/prom_check.py "$work/scrape2.txt" \
	"${P}requests_total{plugin=\"_other\",tier=\"kv\",op=\"get\"}=2" \
	"${P}requests_total{plugin=\"_invalid\",tier=\"_invalid\",op=\"_invalid\"}=1" \
	"${P}tracked_plugins{}=2" \
	"${P}max_plugins{}=2"
stop_bridge "$bridge_pid"
bridge_pid=
check "... and stops cleanly (status $status)" test "$status" = 0

check "the bridges logged no internal error" bash -c "! grep -q '\"msg\":\"internal error' '$work/bridge.log' '$work/bridge2.log'"
if [ "$failed" -gt 0 ]; then
	echo "# bridge log (last 40 lines):"
	tail -40 "$work/bridge.log" | sed 's/^/# /'
fi
finish
