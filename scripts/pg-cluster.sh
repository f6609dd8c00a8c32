#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL 15 cluster for development and tests.
#
#   scripts/pg-cluster.sh start DIR [PORT]   initdb DIR (if new), start on a unix socket in DIR/sock
#   scripts/pg-cluster.sh stop DIR           fast shutdown
#   scripts/pg-cluster.sh env DIR            print the PGHOST/PGPORT exports for the cluster
#
# PostgreSQL refuses to run as root, so the server runs as the `postgres` user; DIR is made
# theirs. The server listens on no TCP address: only the socket. plugin_storage is preloaded so
# its sweep worker runs, sweeping the database named by PS_SWEEP_DB (default plugin_storage).
set -euo pipefail
cmd=${1:?usage: pg-cluster.sh start|stop|env DIR [PORT]}
dir=${2:?usage: pg-cluster.sh start|stop|env DIR [PORT]}
port=${3:-${PGPORT:-54329}}
# PG_CONFIG picks another PostgreSQL 15 installation (default: Debian's).
bin=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	chmod 755 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
		as_pg mkdir -p "$dir/sock"
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
port = $port
shared_preload_libraries = 'plugin_storage'
plugin_storage.database = '${PS_SWEEP_DB:-plugin_storage}'
plugin_storage.sweep_interval = '${PS_SWEEP_INTERVAL:-1s}'
max_connections = 200
shared_buffers = 256MB
fsync = ${PS_FSYNC:-on}
synchronous_commit = ${PS_SYNC_COMMIT:-on}
log_min_messages = warning
log_line_prefix = '%m [%p] %q%a '
CONF
	fi
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
	echo "export PGHOST=$dir/sock PGPORT=$port PGUSER=postgres"
	;;
stop)
	[ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
	;;
env)
	dir=$(cd "$dir" && pwd)
	echo "export PGHOST=$dir/sock PGPORT=$port PGUSER=postgres"
	;;
*)
	echo "usage: pg-cluster.sh start|stop|env DIR [PORT]" >&2
	exit 2
	;;
esac
