/*
 * loadgen.c
 *		Start-up, worker threads and the report of the NATS load generator.
 *
 *	  loadgen MODE [options]
 *
 * MODE is bridge-get, bridge-set, js-get, js-put, echo, request or
 * echo-server (see Usage). --inflight N threads each run one synchronous
 * request at a time; thread i uses connection i % conns. Each thread picks
 * keys uniformly at random from k0..k<keys-1>.
 *
 * Closed loop (the default): each thread sends its next request as soon as
 * the last one is answered, so exactly N requests are in flight.
 *
 * Open loop (--rate R): requests are due at fixed times, R per second spread
 * evenly (one every 1/R s); the threads take the due times in turn, sleep
 * until theirs and send. A request's latency counts from its due time, not
 * from when a thread got to send it, so time spent waiting for a free thread
 * (the generator's own queue) counts as it would for a client that sends on
 * schedule. A request counts in the window its due time falls in. `late`
 * says how many were sent 1 ms or more after their due time, because every
 * thread was busy (raise --inflight) or the OS woke the thread late.
 *
 * A run has three phases separated by barriers: an optional populate phase
 * (the threads write every key once, split between them), a warm-up that is
 * not measured, and the measured window. A request counts when it completes
 * inside the window. At the end one line is printed on stdout:
 *
 *	  mode=... inflight=N conns=C ops=O rps=R p50_ms=X p95_ms=Y p99_ms=Z
 *	  errors=E cpu_s=S [rate=R late=L]
 *
 * where cpu_s is the CPU time the whole process used, warm-up included, so a
 * script can set it beside the CPU time of the servers over the same run.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "loadgen.h"

/* Error messages printed before the rest are only counted */
#define LG_MAX_PRINTED_ERRORS 10

/* Every mode the load generator runs */
static const lg_mode *const lg_modes[] = {
	&lg_mode_bridge_get,
	&lg_mode_bridge_set,
	&lg_mode_bridge_row_search,
	&lg_mode_bridge_row_update,
	&lg_mode_js_get,
	&lg_mode_js_put,
	&lg_mode_echo,
	&lg_mode_request,
};

/* Phase changes: populate done, then window set */
static pthread_barrier_t lg_populated;
static pthread_barrier_t lg_started;

/* Measured window on the CLOCK_MONOTONIC scale, set between the barriers */
static int64_t lg_window_start;
static int64_t lg_window_end;

/* Open loop: when request number 0 is due, and the next number to take */
static int64_t lg_schedule_start;
static atomic_llong lg_next_due;

/* Serializes error printing */
static pthread_mutex_t lg_err_lock = PTHREAD_MUTEX_INITIALIZER;
static int lg_errors_printed = 0;

/* Print how to call the program */
static void
Usage(FILE *out)
{
	fprintf(
		out,
		"usage: loadgen MODE [options]\n"
		"modes:\n"
		"  bridge-get   requests to db.kv.<plugin>.get\n"
		"  bridge-set   requests to db.kv.<plugin>.set\n"
		"  bridge-row-search, bridge-row-update\n"
		"               bench/row_sql.sh's search and update $inc through\n"
		"               db.row.<plugin>.* (--keys = the table's rows)\n"
		"  js-get       kvStore_Get on a JetStream KV bucket\n"
		"  js-put       kvStore_Put on a JetStream KV bucket\n"
		"  echo         requests to an echo-server\n"
		"  request      --payload JSON to --subject SUBJECT, e.g. a db.sql "
		"query;\n"
		"               a reply with an \"error\" member counts as an "
		"error\n"
		"  echo-server  reply to requests with their payload until "
		"killed\n"
		"options:\n"
		"  --url URL          NATS server (default $NATS_URL or "
		"nats://127.0.0.1:4222)\n"
		"  --inflight N       requests in flight = threads (default 1; "
		"with --rate,\n"
		"                     the most in flight, default 16)\n"
		"  --rate R           open loop: R requests per second, evenly "
		"spaced;\n"
		"                     latency counts from each one's due time\n"
		"  --conns N          connections the threads share (default 4,\n"
		"                     at most --inflight)\n"
		"  --duration SEC     measured seconds (default 5; 0 = only "
		"populate)\n"
		"  --warmup SEC       unmeasured seconds first (default 1)\n"
		"  --keys K           keys k0..k<K-1> (default 1000)\n"
		"  --value-bytes B    value size (default 100)\n"
		"  --populate         write every key once before the run\n"
		"  --plugin NAME      plugin of the bridge subjects "
		"(default bench)\n"
		"  --bucket NAME      JetStream KV bucket (default bench)\n"
		"  --subject SUBJ     echo subject (default bench.echo); request "
		"mode: required\n"
		"  --payload JSON     request mode: the payload of every request\n"
		"  --timeout-ms MS    per-request timeout (default 5000)\n"
		"  --buffered-replies echo-server: do not send replies at once\n"
		"                     (nats.c default; adds its 1 ms flusher "
		"delay)\n");
}

/* Write the name of key number key ("k12") into out */
void
lg_format_key(char *out, size_t len, int key)
{
	snprintf(out, len, "k%d", key);
}

/* Return CLOCK_MONOTONIC in nanoseconds */
static int64_t
NowNs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Parse a positive integer option or exit */
static int
ParseCount(const char *name, const char *arg, int min)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < min || v > 1000000000)
	{
		fprintf(stderr, "loadgen: invalid --%s \"%s\" (integer >= %d)\n", name,
				arg, min);
		exit(2);
	}
	return (int) v;
}

/* Parse a non-negative number of seconds or exit */
static double
ParseSeconds(const char *name, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (*arg == '\0' || *end != '\0' || v < 0 || v > 86400)
	{
		fprintf(stderr, "loadgen: invalid --%s \"%s\" (seconds)\n", name, arg);
		exit(2);
	}
	return v;
}

/* Fill cfg from the command line; exit on a bad option */
static void
ParseArgs(int argc, char **argv, lg_config *cfg)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},
		{"inflight", required_argument, NULL, 'n'},
		{"conns", required_argument, NULL, 'c'},
		{"duration", required_argument, NULL, 'd'},
		{"warmup", required_argument, NULL, 'w'},
		{"keys", required_argument, NULL, 'k'},
		{"value-bytes", required_argument, NULL, 'b'},
		{"populate", no_argument, NULL, 'p'},
		{"plugin", required_argument, NULL, 'P'},
		{"bucket", required_argument, NULL, 'B'},
		{"subject", required_argument, NULL, 's'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"buffered-replies", no_argument, NULL, 'r'},
		{"rate", required_argument, NULL, 'R'},
		{"payload", required_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	bool inflight_given = false;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'u':
				cfg->url = optarg;
				break;
			case 'n':
				cfg->inflight = ParseCount("inflight", optarg, 1);
				inflight_given = true;
				break;
			case 'c':
				cfg->conns = ParseCount("conns", optarg, 1);
				break;
			case 'd':
				cfg->duration = ParseSeconds("duration", optarg);
				break;
			case 'w':
				cfg->warmup = ParseSeconds("warmup", optarg);
				break;
			case 'k':
				cfg->keys = ParseCount("keys", optarg, 1);
				break;
			case 'b':
				cfg->value_bytes = ParseCount("value-bytes", optarg, 0);
				break;
			case 'p':
				cfg->populate = true;
				break;
			case 'P':
				cfg->plugin = optarg;
				break;
			case 'B':
				cfg->bucket = optarg;
				break;
			case 's':
				cfg->subject = optarg;
				cfg->subject_given = true;
				break;
			case 'R':
				cfg->rate = ParseSeconds("rate", optarg);
				if (cfg->rate <= 0)
				{
					fprintf(stderr, "loadgen: --rate must be above 0\n");
					exit(2);
				}
				break;
			case 'y':
				cfg->payload = optarg;
				break;
			case 't':
				cfg->timeout_ms = ParseCount("timeout-ms", optarg, 1);
				break;
			case 'r':
				cfg->buffered_replies = true;
				break;
			case 'h':
				Usage(stdout);
				exit(0);
			default:
				Usage(stderr);
				exit(2);
		}
	}
	if (optind != argc - 1)
	{
		Usage(stderr);
		exit(2);
	}
	cfg->mode = argv[optind];
	if (cfg->rate > 0 && !inflight_given)
		cfg->inflight = 16;
	if (cfg->conns > cfg->inflight)
		cfg->conns = cfg->inflight;
	if (strcmp(cfg->mode, "request") == 0 &&
		(cfg->payload == NULL || !cfg->subject_given))
	{
		fprintf(stderr, "loadgen: request mode needs --subject and "
						"--payload\n");
		exit(2);
	}
}

/* Return the mode named name, or NULL */
static const lg_mode *
FindMode(const char *name)
{
	for (size_t i = 0; i < sizeof(lg_modes) / sizeof(lg_modes[0]); i++)
		if (strcmp(lg_modes[i]->name, name) == 0)
			return lg_modes[i];
	return NULL;
}

/* Print one failed request, up to LG_MAX_PRINTED_ERRORS in all */
static void
ReportError(const char *err)
{
	pthread_mutex_lock(&lg_err_lock);
	if (lg_errors_printed < LG_MAX_PRINTED_ERRORS)
		fprintf(stderr, "loadgen: error: %s\n", err);
	else if (lg_errors_printed == LG_MAX_PRINTED_ERRORS)
		fprintf(stderr, "loadgen: further errors are only counted\n");
	lg_errors_printed++;
	pthread_mutex_unlock(&lg_err_lock);
}

/* Return the next key of this worker, uniform over the key space */
static int
NextKey(lg_worker *w)
{
	/* xorshift64* */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (int) ((w->rng * 2685821657736338717ULL >> 32) %
				  (uint64_t) w->cfg->keys);
}

/* Write this worker's share of the keys */
static void
WorkerPopulate(lg_worker *w, const lg_mode *mode)
{
	char err[512];

	for (int key = w->id; key < w->cfg->keys; key += w->cfg->inflight)
		if (!mode->write_key(w, key, err, sizeof(err)))
		{
			w->populate_errors++;
			ReportError(err);
		}
}

/* Run requests until the window ends; record those completing inside it */
static void
WorkerMeasure(lg_worker *w, const lg_mode *mode)
{
	char err[512];

	for (;;)
	{
		int64_t t0 = NowNs();
		int64_t t1;
		bool ok;

		if (t0 >= lg_window_end)
			break;
		ok = mode->op(w, NextKey(w), err, sizeof(err));
		t1 = NowNs();
		if (!ok)
			ReportError(err);
		if (t1 < lg_window_start || t1 >= lg_window_end)
			continue;
		if (ok)
			lg_samples_add(&w->lat, t1 - t0);
		else
			w->errors++;
	}
}

/* Sleep until the CLOCK_MONOTONIC time t (ns) */
static void
SleepUntil(int64_t t)
{
	struct timespec ts = {t / 1000000000, t % 1000000000};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * Open loop: take the next due time, send at it, and record the latency
 * from the due time of the requests due inside the window.
 */
static void
WorkerMeasureRate(lg_worker *w, const lg_mode *mode)
{
	char err[512];
	double period_ns = 1e9 / w->cfg->rate;

	for (;;)
	{
		long long i = atomic_fetch_add(&lg_next_due, 1);
		int64_t due = lg_schedule_start + (int64_t) ((double) i * period_ns);
		int64_t t0;
		int64_t t1;
		bool ok;

		if (due >= lg_window_end)
			break;
		SleepUntil(due);
		t0 = NowNs();
		if (t0 - due >= 1000000 && due >= lg_window_start)
			w->late++;
		ok = mode->op(w, NextKey(w), err, sizeof(err));
		t1 = NowNs();
		if (!ok)
			ReportError(err);
		if (due < lg_window_start)
			continue;
		if (ok)
			lg_samples_add(&w->lat, t1 - due);
		else
			w->errors++;
	}
}

/* Thread body: populate, wait for the window, measure */
static void *
WorkerMain(void *arg)
{
	lg_worker *w = arg;
	const lg_mode *mode = FindMode(w->cfg->mode);

	if (w->cfg->populate && mode->write_key != NULL)
		WorkerPopulate(w, mode);
	pthread_barrier_wait(&lg_populated);
	pthread_barrier_wait(&lg_started);
	if (w->cfg->duration > 0 && w->cfg->rate > 0)
		WorkerMeasureRate(w, mode);
	else if (w->cfg->duration > 0)
		WorkerMeasure(w, mode);
	return NULL;
}

/* Open cfg->conns connections and run the mode's setup on each */
static natsStatus
ConnectAll(const lg_config *cfg, const lg_mode *mode, lg_conn *conns)
{
	natsOptions *opts = NULL;
	natsStatus s;

	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetURL(opts, cfg->url);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, "loadgen");
	for (int i = 0; s == NATS_OK && i < cfg->conns; i++)
	{
		s = natsConnection_Connect(&conns[i].nc, opts);
		if (s == NATS_OK && mode->setup != NULL)
			s = mode->setup(&conns[i], cfg);
	}
	natsOptions_Destroy(opts);
	return s;
}

/* Close the connections in reverse order of creation */
static void
DisconnectAll(const lg_config *cfg, lg_conn *conns)
{
	for (int i = cfg->conns - 1; i >= 0; i--)
	{
		kvStore_Destroy(conns[i].kv);
		jsCtx_Destroy(conns[i].js);
		natsConnection_Destroy(conns[i].nc);
	}
}

/* Start the workers, open the window, join them; return failed count */
static int
RunWorkers(const lg_config *cfg, lg_worker *workers)
{
	pthread_t *threads = calloc(cfg->inflight, sizeof(pthread_t));
	int failed = 0;
	int64_t now;

	pthread_barrier_init(&lg_populated, NULL, cfg->inflight + 1);
	pthread_barrier_init(&lg_started, NULL, cfg->inflight + 1);
	for (int i = 0; i < cfg->inflight; i++)
		if (pthread_create(&threads[i], NULL, WorkerMain, &workers[i]) != 0)
		{
			fprintf(stderr, "loadgen: cannot start thread %d\n", i);
			exit(1);
		}
	pthread_barrier_wait(&lg_populated);
	now = NowNs();
	lg_schedule_start = now;
	lg_window_start = now + (int64_t) (cfg->warmup * 1e9);
	lg_window_end = lg_window_start + (int64_t) (cfg->duration * 1e9);
	pthread_barrier_wait(&lg_started);
	for (int i = 0; i < cfg->inflight; i++)
	{
		pthread_join(threads[i], NULL);
		failed += (int) workers[i].populate_errors;
	}
	pthread_barrier_destroy(&lg_populated);
	pthread_barrier_destroy(&lg_started);
	free(threads);
	return failed;
}

/* Return the CPU seconds (user + system) this process has used so far */
static double
CpuSeconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		   (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Merge the workers' results and print the one-line report */
static void
Report(const lg_config *cfg, lg_worker *workers)
{
	lg_samples all = {0};
	uint64_t errors = 0;
	uint64_t late = 0;

	for (int i = 0; i < cfg->inflight; i++)
	{
		lg_samples_merge(&all, &workers[i].lat);
		errors += workers[i].errors;
		late += workers[i].late;
	}
	lg_samples_sort(&all);
	printf(
		"mode=%s inflight=%d conns=%d ops=%zu rps=%.1f p50_ms=%.3f "
		"p95_ms=%.3f p99_ms=%.3f errors=%llu cpu_s=%.2f",
		cfg->mode, cfg->inflight, cfg->conns, all.count,
		(double) all.count / cfg->duration, lg_samples_percentile_ms(&all, 50),
		lg_samples_percentile_ms(&all, 95), lg_samples_percentile_ms(&all, 99),
		(unsigned long long) errors, CpuSeconds());
	if (cfg->rate > 0)
		printf(" rate=%g late=%llu", cfg->rate, (unsigned long long) late);
	printf("\n");
	lg_samples_free(&all);
}

/* Set up the workers, run them and report; return the exit code */
static int
RunLoad(lg_config *cfg, const lg_mode *mode)
{
	lg_conn *conns = calloc(cfg->conns, sizeof(lg_conn));
	lg_worker *workers = calloc(cfg->inflight, sizeof(lg_worker));
	natsStatus s;
	int failed;

	s = ConnectAll(cfg, mode, conns);
	if (s != NATS_OK)
	{
		fprintf(stderr, "loadgen: %s: %s\n", cfg->url, natsStatus_GetText(s));
		nats_PrintLastErrorStack(stderr);
		DisconnectAll(cfg, conns);
		return 1;
	}
	for (int i = 0; i < cfg->inflight; i++)
	{
		workers[i].id = i;
		workers[i].cfg = cfg;
		workers[i].conn = &conns[i % cfg->conns];
		workers[i].rng = 0x9E3779B97F4A7C15ULL * (uint64_t) (i + 1);
		workers[i].buf_len = (size_t) cfg->value_bytes + 128;
		workers[i].buf = malloc(workers[i].buf_len);
	}
	failed = RunWorkers(cfg, workers);
	if (cfg->populate)
		fprintf(stderr, "loadgen: populated %d keys, %d failed\n", cfg->keys,
				failed);
	if (cfg->duration > 0)
		Report(cfg, workers);
	for (int i = 0; i < cfg->inflight; i++)
	{
		lg_samples_free(&workers[i].lat);
		free(workers[i].buf);
	}
	DisconnectAll(cfg, conns);
	free(workers);
	free(conns);
	return failed > 0 ? 1 : 0;
}

/* Parse the command line and run the mode */
int
main(int argc, char **argv)
{
	lg_config cfg = {
		.url =
			getenv("NATS_URL") ? getenv("NATS_URL") : "nats://127.0.0.1:4222",
		.plugin = "bench",
		.bucket = "bench",
		.subject = "bench.echo",
		.inflight = 1,
		.conns = 4,
		.keys = 1000,
		.value_bytes = 100,
		.duration = 5,
		.warmup = 1,
		.timeout_ms = 5000,
	};
	const lg_mode *mode;
	char *value;
	int rc;

	ParseArgs(argc, argv, &cfg);
	if (strcmp(cfg.mode, "echo-server") == 0)
		return lg_echo_server(&cfg);
	mode = FindMode(cfg.mode);
	if (mode == NULL)
	{
		fprintf(stderr, "loadgen: unknown mode \"%s\"\n", cfg.mode);
		Usage(stderr);
		return 2;
	}
	value = malloc((size_t) cfg.value_bytes + 1);
	memset(value, 'x', (size_t) cfg.value_bytes);
	value[cfg.value_bytes] = '\0';
	cfg.value = value;
	rc = RunLoad(&cfg, mode);
	free(value);
	nats_Close();
	return rc;
}
