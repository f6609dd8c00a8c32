# bench/bridge_lib.sh: the throwaway servers of the bridge benchmarks (bridge_kv.sh, sql_bridge.sh).
#
# Source it from a benchmark script after setting root (the repository), PG_PORT, NATS_PORT,
# BRIDGE_ARGS and bench_name (a prefix for messages and the work directory). It sets work (a
# temporary directory), pgbin (PG_CONFIG's binaries, Debian's PostgreSQL 15 by default), loadgen,
# bridge and NATS_URL, and installs a trap that stops everything it started and removes work on
# exit, also on Ctrl-C. Servers: bench_start_postgres (cluster, database plugin_storage, the
# extension, role bridge, plugin bench), bench_start_nats, bench_start_bridge.

pgbin=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)
pgshare=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --sharedir)
loadgen=$root/bench/loadgen
bridge=${BRIDGE:-$root/bridge/plugin-storage-bridge}
export NATS_URL=nats://127.0.0.1:$NATS_PORT
work=$(mktemp -d "/tmp/$bench_name.XXXXXX")
chmod 755 "$work"
bridge_pid=
echo_pid=

# Stop everything the script started, newest first, and remove the work directory.
bench_cleanup() {
	set +e # a stopped process's exit status must not end the cleanup
	if [ -n "$bridge_pid" ]; then kill "$bridge_pid" 2>/dev/null; wait "$bridge_pid" 2>/dev/null; fi
	if [ -n "$echo_pid" ]; then kill "$echo_pid" 2>/dev/null; wait "$echo_pid" 2>/dev/null; fi
	"$root/scripts/nats.sh" stop "$work/nats"
	"$root/scripts/pg-cluster.sh" stop "$work/pg"
	rm -rf "$work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Say what is happening, on stderr, so stdout holds only the report.
log() { echo "$bench_name: $*" >&2; }

# Build loadgen always (cheap), the extension and bridge only when missing.
bench_build() {
	make -s -C "$root/bench" >&2
	if [ ! -x "$bridge" ] || [ ! -f "$pgshare/extension/plugin_storage.control" ]; then
		log "building and installing the extension and the bridge"
		make -s -C "$root" >&2
		make -s -C "$root" install >&2
	fi
}

# Fail when something already listens on TCP port $1: the numbers would be someone else's.
bench_check_port_free() {
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		log "port $1 is in use; stop what runs there or set ${2}_PORT"
		exit 1
	fi
}

# Start the cluster (synchronous_commit=$PG_SYNC_COMMIT, default on), create the database,
# the bridge role and the plugin "bench".
bench_start_postgres() {
	log "starting PostgreSQL on port $PG_PORT (synchronous_commit=${PG_SYNC_COMMIT:-on})"
	eval "$(PS_SYNC_COMMIT=${PG_SYNC_COMMIT:-on} "$root/scripts/pg-cluster.sh" start "$work/pg" "$PG_PORT")"
	"$pgbin/psql" -q -X -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE plugin_storage"
	"$pgbin/psql" -q -X -v ON_ERROR_STOP=1 -d plugin_storage >/dev/null <<-'SQL'
		CREATE EXTENSION plugin_storage;
		CREATE ROLE bridge LOGIN IN ROLE plugin_storage_bridge;
		SELECT plugin_storage.register_plugin('bench');
	SQL
}

# Start nats-server (JetStream on, store in the work directory).
bench_start_nats() {
	bench_check_port_free "$NATS_PORT" NATS
	log "starting nats-server on port $NATS_PORT"
	mkdir -p "$work/nats"
	"$root/scripts/nats.sh" start "$work/nats" "$NATS_PORT"
}

# Start the bridge as role bridge and wait until it answers a set.
bench_start_bridge() {
	log "starting the bridge"
	# shellcheck disable=SC2086 # BRIDGE_ARGS is a list of arguments
	PGUSER=bridge PGDATABASE=plugin_storage "$bridge" $BRIDGE_ARGS >"$work/bridge.log" 2>&1 &
	bridge_pid=$!
	for _ in $(seq 1 50); do
		"$loadgen" bridge-set --populate --keys 1 --duration 0 --timeout-ms 500 2>/dev/null && return 0
		kill -0 "$bridge_pid" 2>/dev/null || break
		sleep 0.2
	done
	log "the bridge did not answer; its log:"
	cat "$work/bridge.log" >&2
	exit 1
}
