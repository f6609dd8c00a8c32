#!/usr/bin/env bash
# Install what plugin_storage needs from Debian's packages, and only what is missing
# (plus the packages named as arguments).
# Runs as root on Debian 12; `apt-get update` runs once, and only when something is missing.
set -euo pipefail
pkgs=(postgresql-15 postgresql-server-dev-15 libpq-dev libjson-c-dev libnats-dev nats-server
      libmicrohttpd-dev make gcc pkg-config procps
      curl python3-prometheus-client) # the observability suite's scrape and parser
# Optional extras named by the caller: `deps.sh valgrind`, `deps.sh clang-14 libclang-rt-14-dev`.
pkgs+=("$@")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages and not root: install ${missing[*]}" >&2
		exit 1
	fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian installs pg_config per version; put 15's first so PGXS finds it.
echo "/usr/lib/postgresql/15/bin"
