# tests/lib/servers.sh: the setup shared by the suites that run the bridge
# against a throwaway PostgreSQL and nats-server (tests/bridge/run.sh,
# tests/observability/run.sh, tests/faults/run.sh, tests/soak/run.sh).
#
# Source it from the top of the repository after setting suite (the name in
# the closing line) and work (the suite's temporary directory).  Each suite
# keeps its own ports, bridge processes and cleanup trap; it calls
# servers_stop from that trap.
passed=0
failed=0

# Finish: print the closing line "<suite>: N passed, N failed" and exit.
finish() {
	echo "$suite: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}

# A check made by the script rather than a driver.
check() {
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $what"
	else
		failed=$((failed + 1))
		echo "not ok - $what"
	fi
}

# Wait until a file holds a pattern after its line $4 (at most $3 tenths of a second,
# times $scale if the suite sets it).
wait_for() {
	for _ in $(seq 1 $((${3:-100} * ${scale:-1}))); do
		tail -n +"${4:-1}" "$1" 2>/dev/null | grep -q -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

# The number of the line after the last one of a file.
next_line() {
	if [ -f "$1" ]; then echo $(($(wc -l <"$1") + 1)); else echo 1; fi
}

# Stop nats-server and PostgreSQL; keep $work if the variable named $1 is
# set (e.g. BT_KEEP), else remove it.
servers_stop() {
	scripts/nats.sh stop "$work/nats" >/dev/null 2>&1
	scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1
	[ -n "${!1:-}" ] && echo "# kept $work" || rm -rf "$work"
}

# Start PostgreSQL on port $1 with database plugin_storage, the extension and
# the bridge's role, then run the SQL on stdin there (the suite's plugins),
# with psql's further arguments ("${@:2}", e.g. -v name=value); on failure
# print a "not ok" line and finish.  PS_SWEEP_* in the environment reach
# scripts/pg-cluster.sh.
pg_start() {
	local env port=$1
	shift
	env=$(scripts/pg-cluster.sh start "$work/pg" "$port") || { echo "not ok - PostgreSQL did not start"; failed=1; finish; }
	eval "$env"
	{
		printf 'CREATE EXTENSION plugin_storage;\nCREATE ROLE bridge LOGIN IN ROLE plugin_storage_bridge;\n'
		cat
	} >"$work/setup.sql"
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE plugin_storage" &&
		psql -X -q -v ON_ERROR_STOP=1 -d plugin_storage "$@" -f "$work/setup.sql" >/dev/null || { echo "not ok - database setup failed"; failed=1; finish; }
}

# Start nats-server on port $1, with the config file $2 if given; on failure
# print a "not ok" line and finish.
nats_start() {
	mkdir -p "$work/nats"
	scripts/nats.sh start "$work/nats" "$1" ${2:+"$2"} || { echo "not ok - nats-server did not start"; failed=1; finish; }
}
