#!/usr/bin/env bash
# Start or stop a throwaway nats-server on 127.0.0.1 for development, tests and benchmarks.
#
#   scripts/nats.sh start DIR PORT [CONFIG]   start in the background (JetStream on, store in DIR/js)
#   scripts/nats.sh stop DIR                  stop it (SIGTERM, then SIGKILL after 10 s)
set -euo pipefail
cmd=${1:?usage: nats.sh start|stop DIR [PORT] [CONFIG]}
dir=${2:?usage: nats.sh start|stop DIR [PORT] [CONFIG]}
case "$cmd" in
start)
	port=${3:-4222}
	if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
		echo "nats.sh: port $port is already in use; stop whatever listens there or pick another" >&2
		exit 1
	fi
	mkdir -p "$dir/js"
	args=(-a 127.0.0.1 -p "$port" -js -sd "$dir/js" -l "$dir/nats.log")
	[ -n "${4:-}" ] && args+=(-c "$4")
	# Its own session: a Ctrl-C meant for the caller must not stop it first.
	setsid nats-server "${args[@]}" &
	echo $! >"$dir/nats.pid"
	for _ in $(seq 1 100); do
		(exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && exit 0
		sleep 0.1
	done
	echo "nats.sh: nats-server did not start on port $port (see $dir/nats.log)" >&2
	exit 1
	;;
stop)
	[ -f "$dir/nats.pid" ] || exit 0
	pid=$(cat "$dir/nats.pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/nats.pid"
	;;
*)
	echo "usage: nats.sh start|stop DIR [PORT] [CONFIG]" >&2
	exit 2
	;;
esac
