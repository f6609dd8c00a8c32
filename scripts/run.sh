#!/usr/bin/env bash
# Run the whole system in the foreground, for development: a throwaway
# PostgreSQL 15 cluster with plugin_storage, a nats-server with per-plugin
# users, and the bridge.  Ctrl-C (or SIGTERM) stops all three and deletes
# everything it made.
#
#   sudo bash scripts/run.sh                       plugins quote-db and trivia
#   PLUGINS="quote-db trivia dice" bash scripts/run.sh
#
# Settings (environment): PLUGINS, PG_PORT (54320), NATS_PORT (4222),
# WORKSPACE (a workspace every plugin joins; default "demo"), KEEP=1 keeps the
# data directory for inspection after exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
plugins=${PLUGINS:-"quote-db trivia"}
pg_port=${PG_PORT:-54320}
nats_port=${NATS_PORT:-4222}
workspace=${WORKSPACE:-demo}

export PATH="$(bash scripts/deps.sh):$PATH"
echo "run: building and installing" >&2
make -s >/dev/null
make -s install >/dev/null

work=$(mktemp -d /tmp/plugin_storage_run.XXXXXX)
chmod 755 "$work"
bridge_pid=
stop() {
	trap - INT TERM EXIT
	echo "run: stopping" >&2
	if [ -n "$bridge_pid" ] && kill -0 "$bridge_pid" 2>/dev/null; then
		kill -TERM "$bridge_pid" 2>/dev/null || true
		wait "$bridge_pid" 2>/dev/null || true
	fi
	scripts/nats.sh stop "$work" || true
	scripts/pg-cluster.sh stop "$work/pg" || true
	if [ "${KEEP:-0}" = 1 ]; then echo "run: kept $work" >&2; else rm -rf "$work"; fi
}
trap stop INT TERM EXIT

# PostgreSQL: the cluster, the database, the extension, the bridge's role, the plugins.
eval "$(PS_SWEEP_DB=plugin_storage scripts/pg-cluster.sh start "$work/pg" "$pg_port")"
export PGDATABASE=plugin_storage
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE plugin_storage"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION plugin_storage;
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bridge') THEN
		CREATE ROLE bridge LOGIN IN ROLE plugin_storage_bridge;
	END IF;
END \$\$;
SQL
for p in $plugins; do
	echo "SELECT plugin_storage.register_plugin(:'p', :'ws')" |
		psql -X -q -v ON_ERROR_STOP=1 -v p="$p" -v ws="$workspace" >/dev/null
done

# NATS: one user per plugin (its own subjects only), one for the bridge.
secret() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
bridge_pw=$(secret)
creds=()
for p in $plugins; do creds+=("$p:$(secret)"); done
bridge/plugin-storage-bridge nats-config --bridge-password "$bridge_pw" \
	--operator-user operator --operator-password operator "${creds[@]}" >"$work/nats.conf"
scripts/nats.sh start "$work" "$nats_port" "$work/nats.conf"

cat >&2 <<EOF

plugin_storage is running.
  PostgreSQL  psql "host=$PGHOST port=$PGPORT dbname=plugin_storage user=postgres"
  NATS        nats://127.0.0.1:$nats_port
EOF
for c in "${creds[@]}"; do
	echo "  plugin ${c%%:*}: NATS user ${c%%:*}, password ${c#*:}, inbox prefix _INBOX.${c%%:*}" >&2
done
echo "  operator: NATS user operator, password operator (may use any subject)" >&2
echo "Ctrl-C stops everything." >&2
echo >&2

PGUSER=bridge NATS_URL="nats://127.0.0.1:$nats_port" bridge/plugin-storage-bridge \
	--nats-user bridge --nats-password "$bridge_pw" &
bridge_pid=$!
wait "$bridge_pid" || true
bridge_pid=
