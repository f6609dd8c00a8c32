# bench/pgbench_lib.sh: what the pgbench benchmarks (kv_sql.sh, row_sql.sh)
# share.  Source it from the repository's top folder, then call bench_start.

# Build and install, start a throwaway cluster on port $2, and run
# bench/$1/setup.sql with psql variable $3 set to $4 (pgbench gets it too).
bench_start() {
	bench_name=$1
	bench_var=$3
	bench_val=$4
	clients=${CLIENTS:-4}
	duration=${DURATION:-10}
	rounds=${ROUNDS:-3}
	PATH="$(bash scripts/deps.sh):$PATH"
	export PATH
	make -s >/dev/null && make -s install >/dev/null
	work=$(mktemp -d /tmp/plugin_storage_bench.XXXXXX)
	chmod 755 "$work"
	trap 'scripts/pg-cluster.sh stop "$work/pg"; rm -rf "$work"' EXIT
	eval "$(PS_SWEEP_DB=postgres scripts/pg-cluster.sh start "$work/pg" "$2")"
	psql -X -q -v ON_ERROR_STOP=1 -v "$bench_var=$bench_val" -d postgres \
		-f "bench/$bench_name/setup.sql" >/dev/null
}

# Run bench/<name>/$1.sql with pgbench, prepared; print its tps.  Each client
# has a pgbench thread of its own (-j = -c), as each of the bridge's workers
# owns its connection.  With two clients per thread (-j 2, as these scripts
# used to run) the same run gave one of two throughputs at random on this
# 2-core VM, for either side: plain search 38k-55k tps, plugin_row 29k-41k,
# so three rounds could land in either mode; one thread per client gave
# 46k-48k and 38.6k-39.4k over eight alternating rounds.  THREADS=2 runs the
# old way.
tps() {
	pgbench -n -M prepared -c "$clients" -j "${THREADS:-$clients}" -T "$duration" \
		-D "$bench_var=$bench_val" -f "bench/$bench_name/$1.sql" postgres 2>/dev/null |
		sed -nE 's/^tps = ([0-9.]+) .*/\1/p'
}

# The median of the numbers on stdin
median() {
	sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
