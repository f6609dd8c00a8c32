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

# Run bench/<name>/$1.sql with pgbench, prepared; print its tps
tps() {
	pgbench -n -M prepared -c "$clients" -j "$((clients < 2 ? 1 : 2))" -T "$duration" \
		-D "$bench_var=$bench_val" -f "bench/$bench_name/$1.sql" postgres 2>/dev/null |
		sed -nE 's/^tps = ([0-9.]+) .*/\1/p'
}

# The median of the numbers on stdin
median() {
	sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
