#!/usr/bin/env bash
# Integration tests of plugin-storage-bridge: real PostgreSQL, real nats-server, real NATS requests.
#
#   bash tests/bridge/run.sh
#
# Needs the plugin_storage extension installed (`make install` at the top level). Starts its own
# PostgreSQL cluster (port 54331) with the extension, the bridge's role and the plugins quote-db
# and trivia; a nats-server (port 42231) with the isolation config that
# `plugin-storage-bridge nats-config` generates; and the bridge. Then runs tests/bridge/bridge_test
# phase by phase, restarting servers and signalling the bridge in between:
#
#   kv, bad, isolation   every KV op, every bad input, the NATS isolation
#   sql                  the SQL tier: parameters, writes with and without allow_write, bad
#                        requests, a timeout (on trivia's table "facts", made here)
#   migrate              the migrate tier: apply, again, status, refusals, a failure, rollback
#   migrate-busy         two migrations longer than request_timeout_ms (lowered to 1 s) while KV
#                        requests keep coming: all succeed
#   migrate-cli          `plugin-storage-bridge migrate` against a directory of files (plugin cli)
#   reload               SIGHUP applies a new max_request_bytes from the config file
#   timeout              frozen backends and a 1 s request_timeout_ms: the request gets timeout
#   pg-restart           PostgreSQL stopped: unavailable; started again: served within seconds
#   unknown              a backend killed after a write was sent: unavailable, outcome unknown
#   nats-restart         nats-server restarted: the subscription comes back
#   shutdown             SIGTERM with requests in flight: all answered, exit 0, writes kept
#   group-incr           group commit: 8 clients x 200 incr on one key end at exactly 1600
#   group-fail           group commit: a request that raises in a batch gets its own error; the
#                        others succeed, each applied exactly once
#   second-signal        a second SIGTERM exits at once
#
# Users follow bridge_test's rule: user U has password "pw-U"; "ops" is the operator.
# Prints "bridge: N passed, N failed" last and exits non-zero on any failure; always cleans up.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
PG_PORT=${PG_PORT:-54331}
NATS_PORT=${NATS_PORT:-42231}
# tests/sanitize.sh runs this suite with other builds: BT_BRIDGE and BT_DRIVER
# name them (already built), BT_WRAP prefixes the bridge's command (valgrind),
# BT_WAIT_SCALE multiplies the waits for a slower bridge.
bridge=${BT_BRIDGE:-$top/bridge/plugin-storage-bridge}
driver=${BT_DRIVER:-$top/tests/bin/bridge_test}
scale=${BT_WAIT_SCALE:-1}
export BT_NATS_URL=nats://127.0.0.1:$NATS_PORT

suite=bridge
bridge_pid=
stopped_pids=
work=$(mktemp -d /tmp/bridge_test.XXXXXX)
chmod 755 "$work"
source tests/lib/servers.sh

cleanup() {
	[ -n "$stopped_pids" ] && kill -CONT $stopped_pids 2>/dev/null
	[ -n "$bridge_pid" ] && kill -KILL "$bridge_pid" 2>/dev/null
	servers_stop BT_KEEP
}
trap cleanup EXIT

# Run one driver phase and add up its "# phase P passed=N failed=M" line.
phase() {
	local out line
	out=$("$driver" "$@" 2>&1)
	echo "$out"
	line=$(echo "$out" | grep -E '^# phase .* passed=[0-9]+ failed=[0-9]+$' | tail -1)
	if [ -z "$line" ]; then
		echo "not ok - phase $1 ended without its summary (crashed?)"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.*failed=([0-9]+)$/\1/')))
}

# Start a driver phase in the background, its output in $work/$1.out.
phase_bg() {
	"$driver" "$@" >"$work/$1.out" 2>&1 &
	bg_pid=$!
}

# Add up a background phase once it is done.
phase_bg_wait() {
	wait "$bg_pid"
	cat "$work/$1.out"
	local line
	line=$(grep -E '^# phase .* passed=[0-9]+ failed=[0-9]+$' "$work/$1.out" | tail -1)
	if [ -z "$line" ]; then
		echo "not ok - phase $1 ended without its summary (crashed?)"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.*failed=([0-9]+)$/\1/')))
}

# Start the bridge: settings from a config file, the environment and flags.
start_bridge() {
	local from
	from=$(next_line "$work/bridge.log")
	PGUSER=bridge PGDATABASE=plugin_storage NATS_URL=$BT_NATS_URL \
		PS_BRIDGE_NATS_USER=bridge PS_BRIDGE_NATS_PASSWORD=pw-bridge \
		${BT_WRAP:-} "$bridge" --config "$work/bridge.conf" --log-level debug >>"$work/bridge.log" 2>&1 &
	bridge_pid=$!
	wait_for "$work/bridge.log" '"msg":"serving"' 100 "$from"
}

# Wait for the bridge to exit; set status to its exit status ("running" if it did not within $1 s).
wait_bridge() {
	status=running
	for _ in $(seq 1 $(($1 * 10 * scale))); do
		if ! kill -0 "$bridge_pid" 2>/dev/null; then
			wait "$bridge_pid"
			status=$?
			bridge_pid=
			return
		fi
		sleep 0.1
	done
}

# The PIDs of the bridge's PostgreSQL backends.
backends() {
	psql -X -A -t -d plugin_storage -c \
		"SELECT pid FROM pg_stat_activity WHERE application_name = 'plugin-storage-bridge'" | tr '\n' ' '
}

# Wait until the bridge has all ${1:-2} of its connections (pool_size, at most 10 s), then
# freeze them.
freeze_backends() {
	for _ in $(seq 1 $((100 * scale))); do
		[ "$(backends | wc -w)" -eq "${1:-2}" ] && break
		sleep 0.1
	done
	stopped_pids=$(backends)
	kill -STOP $stopped_pids
}

# Run the migrate CLI as plugin cli: its output in $work/cli.out and .err, its status in cli_rc.
cli() {
	NATS_URL=nats://cli:pw-cli@127.0.0.1:$NATS_PORT "$bridge" migrate cli "$@" \
		>"$work/cli.out" 2>"$work/cli.err"
	cli_rc=$?
}

# Check the last CLI run: status $1, and output ($2: out or err) holding the pattern $3.
cli_check() {
	local what=$1 want=$2 file=$3 pattern=$4
	if [ "$cli_rc" = "$want" ] && grep -q -- "$pattern" "$work/cli.$file"; then
		passed=$((passed + 1))
		echo "ok - migrate-cli: $what"
	else
		failed=$((failed + 1))
		echo "not ok - migrate-cli: $what: status $cli_rc (wanted $want), no \"$pattern\" in:"
		sed 's/^/#   /' "$work/cli.out" "$work/cli.err"
	fi
}

# Check the last CLI run: status $1, and output ($2: out or err) without the pattern $3.
cli_check_not() {
	local what=$1 want=$2 file=$3 pattern=$4
	if [ "$cli_rc" = "$want" ] && ! grep -q -- "$pattern" "$work/cli.$file"; then
		passed=$((passed + 1))
		echo "ok - migrate-cli: $what"
	else
		failed=$((failed + 1))
		echo "not ok - migrate-cli: $what: status $cli_rc (wanted $want), or \"$pattern\" in:"
		sed 's/^/#   /' "$work/cli.out" "$work/cli.err"
	fi
}

# `plugin-storage-bridge migrate` end to end: apply, again, status, dry run, rollback, a failure,
# bad directories, another plugin's user.
migrate_cli_checks() {
	local d=$work/migrations
	mkdir -p "$d"
	echo "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);" >"$d/001_notes.up.sql"
	echo "DROP TABLE notes;" >"$d/001_notes.down.sql"
	printf 'ALTER TABLE notes ADD COLUMN tag text;\nCREATE INDEX notes_tag ON notes (tag);\n' >"$d/002_notes_tag.up.sql"
	echo "DROP INDEX notes_tag; ALTER TABLE notes DROP COLUMN tag;" >"$d/002_notes_tag.down.sql"
	echo "Migrations of the plugin cli." >"$d/README.md"

	cli "$d" --applied-by run.sh
	cli_check "apply prints what it applied" 0 out "applied 2 migrations, skipped 0"
	cli_check "... and the current version" 0 out "current version: 002_notes_tag"
	cli "$d"
	cli_check "applying again skips both" 0 out "applied 0 migrations, skipped 2"
	cli "$d" --status
	cli_check "--status lists the applied versions" 0 out "002_notes_tag .*run.sh"
	cli_check "... and says the directory is all applied" 0 out "every migration in .* is applied"
	cli_check_not "... with none edited since (the extension compares the checksums)" 0 out "changed since applied"
	cli --status --json
	cli_check "--status --json prints the reply" 0 out '"applied": *\['
	echo "DROP TABLE notes;" >"$d/003_drop_notes.up.sql"
	cli "$d" --dry-run
	cli_check "--dry-run says what it would apply" 0 out "would apply 1 migration"
	cli_check "... with a warning for a DROP TABLE" 0 out "warning: 003_drop_notes"
	cli "$d" --status
	cli_check "... and applied nothing" 0 out "not applied yet:"
	rm "$d/003_drop_notes.up.sql"
	cli "$d" --rollback 001_notes
	cli_check "--rollback runs the down scripts after the target" 0 out "rolled back 1 migration"
	cli_check "... leaving the target current" 0 out "current version: 001_notes"
	cli --rollback-all --dry-run
	cli_check "--rollback-all --dry-run would undo every version" 0 out "would roll back 1 migration"
	cli "$d" --target 001_notes --dry-run
	cli_check "--target leaves the later versions alone" 0 out "not applied 002_notes_tag  (after the target)"
	echo "-- edited after it was applied" >>"$d/001_notes.up.sql"
	cli "$d" --status
	cli_check "--status flags an applied migration edited since" 0 out "changed since applied: 001_notes"
	cli "$d"
	cli_check "... which apply refuses" 1 err "version: *001_notes"
	echo "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);" >"$d/001_notes.up.sql"
	printf 'CREATE TABLE fine (id int);\nCREATE TABEL broken (id int);\n' >"$d/003_broken.up.sql"
	cli "$d"
	cli_check "a failing migration exits 1" 1 err "version: *003_broken"
	cli_check "... showing the statement" 1 err "statement: .*TABEL"
	cli "$d" --status
	cli_check "... and nothing of that apply is left" 0 out "current version: 001_notes"
	rm "$d/003_broken.up.sql"

	mkdir -p "$work/bad1" "$work/bad2"
	echo "DROP TABLE x;" >"$work/bad1/001_x.down.sql"
	cli "$work/bad1"
	cli_check "a down without its up exits 2" 2 err "has no 001_x.up.sql"
	echo "SELECT 1;" >"$work/bad2/001_a.up.sql"
	echo "SELECT 2;" >"$work/bad2/01_b.up.sql"
	cli "$work/bad2"
	cli_check "two files for one number exit 2" 2 err "two migrations are numbered 1"
	rm "$work/bad2/01_b.up.sql"
	printf 'SELECT \377;\n' >"$work/bad2/002_b.up.sql"
	cli "$work/bad2"
	cli_check "a file that is not UTF-8 exits 2" 2 err "is not valid UTF-8"
	rm "$work/bad2/002_b.up.sql"
	ln -s "$work/nowhere.sql" "$work/bad2/002_b.up.sql"
	cli "$work/bad2"
	cli_check "an unreadable file exits 2" 2 err "cannot read .*002_b.up.sql"
	cli "$work/no-such-dir"
	cli_check "a missing directory exits 2" 2 err "cannot open directory"
	cli "$d" --max-request-bytes 150
	cli_check "a request over the size limit exits 2" 2 err "over the limit of 150"
	NATS_URL=nats://quote-db:pw-quote-db@127.0.0.1:$NATS_PORT "$bridge" migrate cli "$d" --timeout 3 \
		>"$work/cli.out" 2>"$work/cli.err"
	cli_rc=$?
	cli_check "another plugin's user is refused by NATS: exit 3" 3 err "Permissions Violation"
	cli "$d" --user cli --password wrong --timeout 3
	cli_check "a wrong password exits 3" 3 err "cannot connect to NATS"
}

# Build the bridge and the driver (unless given).
[ -n "${BT_BRIDGE:-}" ] || make -s -C bridge >/dev/null || { echo "bridge: build failed"; make -C bridge; echo "bridge: 0 passed, 1 failed"; exit 1; }
mkdir -p tests/bin
if [ -z "${BT_DRIVER:-}" ] && { [ ! -x "$driver" ] || [ -n "$(find tests/bridge/bridge_test.c tests/lib/nats_test.[ch] -newer "$driver")" ]; }; then
	cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -Itests/lib -o "$driver" tests/bridge/bridge_test.c tests/lib/nats_test.c \
		$(pkg-config --cflags --libs libnats json-c) || { echo "bridge: 0 passed, 1 failed"; exit 1; }
fi
if ! ls "$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --sharedir)/extension/plugin_storage.control" >/dev/null 2>&1; then
	echo "not ok - the plugin_storage extension is not installed: run make install at the top level"
	failed=1
	finish
fi

# The command line.
check "--version prints 0.1.0" test "$("$bridge" --version)" = "plugin-storage-bridge 0.1.0"
check "--help documents every setting" bash -c "'$bridge' --help | grep -q -- --request-timeout-ms"
check "a bad setting is refused with status 2" bash -c "'$bridge' --pool-size 0 2>/dev/null; test \$? -eq 2"
check "nats-config refuses an invalid plugin name" bash -c "! '$bridge' nats-config --bridge-password x 'Bad!:pw' >/dev/null 2>&1"

# PostgreSQL, with the extension, the bridge's role and two plugins.
pg_start "$PG_PORT" <<'SQL'
SELECT plugin_storage.register_plugin('quote-db');
SELECT plugin_storage.register_plugin('trivia');
SELECT plugin_storage.register_plugin('cli');
-- trivia's table for the sql phase, owned by trivia's role in its schema
DO $$
DECLARE p plugin_storage.plugins := (SELECT p FROM plugin_storage.plugins p WHERE name = 'trivia');
BEGIN
	EXECUTE format('CREATE TABLE %I.facts (id int PRIMARY KEY, topic text NOT NULL, '
		'body text NOT NULL, score int NOT NULL)', p.schema);
	EXECUTE format('INSERT INTO %I.facts VALUES (1, ''space'', ''The Moon drifts away'', 3), '
		'(2, ''space'', ''Venus spins backwards'', 5), (3, ''animals'', ''Octopuses have three hearts'', 4), '
		'(4, ''animals'', ''Sloths can hold their breath for 40 minutes'', 1)', p.schema);
	EXECUTE format('ALTER TABLE %I.facts OWNER TO %I', p.schema, p.role);
END $$;
SQL

# nats-server with the generated isolation config; a small max_payload so that a
# too-large reply is cheap to provoke.
mkdir -p "$work/nats"
{
	echo "max_payload: 262144"
	"$bridge" nats-config --bridge-user bridge --bridge-password pw-bridge \
		--operator-user ops --operator-password pw-ops quote-db:pw-quote-db trivia:pw-trivia \
		cli:pw-cli
} >"$work/nats.conf"
nats_start "$NATS_PORT" "$work/nats.conf"

echo "max_request_bytes = 200000" >"$work/bridge.conf"
check "the bridge starts and serves" start_bridge
[ -n "$bridge_pid" ] || finish

# Every KV op, every bad input, the isolation between plugins.
phase kv
phase row
phase bad
phase isolation

# The SQL and migrate tiers (they need plugin_sql and plugin_migrate in the extension).
phase sql
phase migrate

# migrate-busy: request_timeout_ms lowered to 1 s (also the sessions' statement_timeout); two
# migrations sleep 2 s each while KV requests come in.
printf 'max_request_bytes = 200000\nrequest_timeout_ms = 1000\n' >"$work/bridge.conf"
from=$(next_line "$work/bridge.log")
kill -HUP "$bridge_pid"
wait_for "$work/bridge.log" '"msg":"reloaded"' 50 "$from"
sleep 1.5 # idle workers refresh their sessions within a second
phase migrate-busy 40
echo "max_request_bytes = 200000" >"$work/bridge.conf"
from=$(next_line "$work/bridge.log")
kill -HUP "$bridge_pid"
wait_for "$work/bridge.log" '"msg":"reloaded"' 50 "$from"

# migrate-cli: the CLI, as plugin cli, against a directory of migration files.
migrate_cli_checks

# reload: SIGHUP applies a lower max_request_bytes and turns group commit off,
# then the next reload restores both.
printf 'max_request_bytes = 1000\ngroup_commit = off\n' >"$work/bridge.conf"
from=$(next_line "$work/bridge.log")
kill -HUP "$bridge_pid"
wait_for "$work/bridge.log" '"msg":"reloaded"' 50 "$from"
phase limit 2000
check "SIGHUP applied group_commit = off" \
	bash -c "tail -n +$from '$work/bridge.log' | grep -q '\"msg\":\"setting changed\",\"setting\":\"group_commit\"'"

# timeout: request_timeout_ms lowered to 1000 by SIGHUP, the backends frozen: a
# request gets timeout after its deadline and the 2 s cancel grace.
printf 'max_request_bytes = 200000\nrequest_timeout_ms = 1000\n' >"$work/bridge.conf"
from=$(next_line "$work/bridge.log")
kill -HUP "$bridge_pid"
wait_for "$work/bridge.log" '"msg":"reloaded"' 50 "$from"
sleep 1.5 # idle workers refresh their sessions within a second
freeze_backends
phase timeout
kill -CONT $stopped_pids
stopped_pids=
echo "max_request_bytes = 200000" >"$work/bridge.conf"
kill -HUP "$bridge_pid"

# pg-restart: requests fail fast while PostgreSQL is down, then succeed again.
scripts/pg-cluster.sh stop "$work/pg"
phase pg-down
scripts/pg-cluster.sh start "$work/pg" "$PG_PORT" >/dev/null
phase back

# unknown: the bridge's backends are frozen, a set is sent, and the backends are
# killed; the reply must say the outcome is unknown.  PostgreSQL then recovers.
freeze_backends
phase_bg unknown
wait_for "$work/unknown.out" "# sending" 50
sleep 1
kill -KILL $stopped_pids
stopped_pids=
phase_bg_wait unknown
phase back

# nats-restart: nats.c reconnects and the subscription comes back.
scripts/nats.sh stop "$work/nats"
sleep 1
scripts/nats.sh start "$work/nats" "$NATS_PORT" "$work/nats.conf"
phase back
check "the bridge logged the NATS reconnect" grep -q '"msg":"NATS reconnected"' "$work/bridge.log"

# shutdown: 100 sets are stuck in frozen backends or queued behind them when
# SIGTERM arrives; each gets its reply once the backends resume (the queued
# ones in group commits), the bridge exits 0, and every acknowledged write is
# there after a restart.
freeze_backends
phase_bg inflight 100
wait_for "$work/inflight.out" "# sent" 50
sleep 0.5
kill -TERM "$bridge_pid"
sleep 1.5
kill -CONT $stopped_pids
stopped_pids=
phase_bg_wait inflight
wait_bridge 20
check "SIGTERM drains and exits 0 (status $status)" test "$status" = 0
check "the stats at exit count the request without reply subject" \
	grep -q '"msg":"stopped".*"dropped_no_reply":[1-9]' "$work/bridge.log"
check "the drain ran batches as group commits" \
	grep -q '"msg":"stopped".*"group_commits":[1-9]' "$work/bridge.log"
start_bridge
phase inflight-check 100

# group-incr: concurrent increments of one key, many of them in shared
# transactions, each applied exactly once.
phase group-incr 200

# group-fail: one connection, so that requests queued behind its frozen backend
# run in batches of pipeline_depth; a trigger makes writes of keys "boom*"
# raise.  Each batch holding one is rolled back and run again one request at a
# time.
psql -X -q -v ON_ERROR_STOP=1 -d plugin_storage >/dev/null <<'SQL'
CREATE FUNCTION public.bt_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.key LIKE 'boom%' THEN
		RAISE EXCEPTION 'boom' USING ERRCODE = 'serialization_failure';
	END IF;
	RETURN NEW;
END $$;
DO $$
DECLARE s name := (SELECT schema FROM plugin_storage.plugins WHERE name = 'quote-db');
BEGIN
	EXECUTE format('CREATE TRIGGER bt_boom BEFORE INSERT OR UPDATE ON %I._ps_kv '
		'FOR EACH ROW EXECUTE FUNCTION public.bt_boom()', s);
END $$;
SQL
kill -TERM "$bridge_pid"
wait_bridge 20
printf 'max_request_bytes = 200000\npool_size = 1\n' >"$work/bridge.conf"
from=$(next_line "$work/bridge.log")
start_bridge
freeze_backends 1
phase_bg group-fail 40
wait_for "$work/group-fail.out" "# sent" 50
sleep 0.5
kill -CONT $stopped_pids
stopped_pids=
phase_bg_wait group-fail
check "the batches holding them were rolled back and run one by one" \
	test "$(tail -n +"$from" "$work/bridge.log" | grep -c '"msg":"group rolled back; running its requests one by one".*"requests":\([2-9]\|[1-9][0-9]\)')" -ge 2
psql -X -q -d plugin_storage -c "DROP FUNCTION public.bt_boom CASCADE" >/dev/null
kill -TERM "$bridge_pid"
wait_bridge 20
echo "max_request_bytes = 200000" >"$work/bridge.conf"
start_bridge

# second-signal: with a request stuck, a second SIGTERM exits at once (status 1).
freeze_backends
phase_bg inflight 4
wait_for "$work/inflight.out" "# sent" 50
sleep 0.5
kill -TERM "$bridge_pid"
sleep 0.3
kill -TERM "$bridge_pid"
wait_bridge 5
check "a second SIGTERM exits at once with status 1 (status $status)" test "$status" = 1
kill -CONT $stopped_pids
stopped_pids=
wait "$bg_pid" 2>/dev/null

check "the bridge logged no internal error" bash -c "! grep -q '\"msg\":\"internal error' '$work/bridge.log'"
check "no sanitizer or valgrind report in the bridge's log" \
	bash -c "! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:|ERROR SUMMARY: [1-9]|definitely lost: [1-9]' '$work/bridge.log'"
if [ "$failed" -gt 0 ]; then
	echo "# bridge log (last 60 lines):"
	tail -60 "$work/bridge.log" | sed 's/^/# /'
fi
finish
