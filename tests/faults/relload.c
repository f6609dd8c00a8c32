/*
 * relload.c
 *		Load driver and checker of the fault and soak tests: a steady mix of
 *		requests over NATS, every outcome recorded, then checked against
 *		PostgreSQL directly.
 *
 *	relload faults NAME SECONDS FAULT_FILE		(tests/faults/run.sh)
 *	relload soak SECONDS BRIDGE_PID				(tests/soak/run.sh)
 *
 * Settings from the environment: NATS_URL, RL_RATE (requests a second),
 * RL_WINDOW (most in flight), RL_TIMEOUT_MS (client timeout), RL_PLUGIN
 * (faults), RL_PLUGINS (soak: plugins soak-0 .. soak-N-1), PG* (libpq, for
 * the check).
 *
 * Every request is published with its own reply subject
 * _INBOX.relload.<pid>.<id> on one wildcard subscription, so every reply
 * is matched to its request by id and a second reply to one request is
 * counted, not lost.  A request gets one of: an ok reply, an error reply
 * (its code and whether its message says the outcome is unknown), a "no
 * responders" status from nats-server (no bridge subscribed: not
 * delivered), or nothing within RL_TIMEOUT_MS (a client timeout; a reply
 * arriving later is still recorded as late).
 *
 * faults: a mix of KV sets of unique keys (NAME-k<id>, value "v<id>"),
 * incr on 8 counters (NAME-c<i>) and gets of keys whose set was
 * acknowledged before the get was sent.  FAULT_FILE holds two lines written
 * by the caller, the fault's start and end in ms since the epoch.  The
 * check, what is and is not guaranteed (docs/bridge.md, Guarantees):
 *	- at most one reply per request (none is a client timeout);
 *	- a set answered ok is present with its value (read from the plugin's
 *	  table, key by key); a set answered with an error that does not say
 *	  "unknown" (or not delivered) is absent; a set whose outcome is unknown
 *	  (client timeout, or "the outcome ... is unknown") may be either, but if
 *	  present has its value;
 *	- each counter's final value v: ok <= v <= ok + unknown, where ok counts
 *	  its incr answered ok and unknown those with an unknown outcome; so no
 *	  ok without its effect, and no effect without a request;
 *	- a get answered ok of an acknowledged key has exists true and the value;
 *	- service is back within 5 s of the fault's end: the first ok reply to a
 *	  request sent after the end; and the longest time without an ok reply
 *	  is printed.
 * Prints one line, "ok - NAME: ..." or "not ok - NAME: ...".
 *
 * soak: across RL_PLUGINS plugins, KV sets (a third with a TTL of 1-5 s) and
 * gets, row updates ($inc) and searches on table "items".  Every reply must
 * be ok (no error, no timeout); p50/p99 latency per minute is printed; the
 * bridge's VmRSS is sampled every 10 s.  Prints "# soak: ..." lines and
 * a closing summary; the caller checks the figures.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <nats/nats.h>

#define RL_COUNTERS 8
#define RL_MAX_MINUTES 240

typedef enum Op
{
	OP_SET,
	OP_SET_TTL,
	OP_INCR,
	OP_GET,
	OP_ROW_UPDATE,
	OP_ROW_SEARCH,
	OP_COUNT
} Op;

static const char *const op_names[] = {"set", "set-ttl",	"incr",
									   "get", "row-update", "row-search"};

typedef enum Outcome
{
	OC_PENDING,
	OC_OK,
	OC_ERROR,	/* error reply: no effect */
	OC_UNKNOWN, /* error reply whose message says the outcome is unknown */
	OC_NORESP,	/* nats-server: no responders, not delivered */
	OC_TIMEOUT, /* no reply within the client timeout */
	OC_NOTSENT	/* publish failed on the client */
} Outcome;

typedef struct Rec
{
	int64_t sent_ms;  /* wall clock */
	int64_t reply_ms; /* first reply, 0 if none */
	int32_t arg;	  /* counter index, key id for gets, plugin for soak */
	uint8_t op;
	uint8_t outcome;
	uint8_t replies; /* replies received */
	bool late;		 /* the reply came after the client timeout */
	bool bad_value;	 /* a get answered ok with the wrong value */
	char code[16];	 /* error code, if any */
} Rec;

static Rec *recs;
static int64_t nrecs, maxrecs;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int inflight;
static int64_t stray_replies;
static char inbox[64];
static const char *mode;
static const char *name;
static int timeout_ms, rate, window, nplugins;
static char plugin[64];
static int64_t *acked_keys; /* ids of sets answered ok, in reply order */
static int64_t nacked;
static char first_error[512];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
env_int(const char *var, int dflt)
{
	const char *v = getenv(var);

	return v && *v ? atoi(v) : dflt;
}

static uint64_t rng = 88172645463325252ULL;

static int
rnd(int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (int) (rng % (uint64_t) n);
}

/* Note the first error text seen, for the summary */
static void
note_error(const char *fmt, ...)
{
	va_list ap;

	if (first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(first_error, sizeof(first_error), fmt, ap);
	va_end(ap);
}

/* Judge one reply to rec (called with mu held) */
static void
take_reply(Rec *r, int64_t id, natsMsg *msg)
{
	const char *data = natsMsg_GetData(msg);
	json_object *root, *err, *v;

	if (natsMsg_IsNoResponders(msg))
	{
		r->outcome = OC_NORESP;
		return;
	}
	root = json_tokener_parse(data ? data : "");
	if (root == NULL)
	{
		r->outcome = OC_ERROR;
		snprintf(r->code, sizeof(r->code), "badjson");
		note_error("reply is not JSON: %.200s", data ? data : "");
		return;
	}
	if (json_object_object_get_ex(root, "error", &err))
	{
		json_object *c, *m;
		const char *code = json_object_object_get_ex(err, "code", &c)
							   ? json_object_get_string(c)
							   : "?";
		const char *message = json_object_object_get_ex(err, "message", &m)
								  ? json_object_get_string(m)
								  : "";

		snprintf(r->code, sizeof(r->code), "%s", code);
		r->outcome = strstr(message, "unknown") ? OC_UNKNOWN : OC_ERROR;
		note_error("%s %s: %s", op_names[r->op], code, message);
	}
	else
	{
		r->outcome = OC_OK;
		if (r->op == OP_SET)
		{
			if (nacked < maxrecs)
				acked_keys[nacked++] = id;
		}
		else if (r->op == OP_GET && strcmp(mode, "faults") == 0)
		{
			char want[32];

			snprintf(want, sizeof(want), "v%d", r->arg);
			if (!json_object_object_get_ex(root, "value", &v) ||
				!json_object_is_type(v, json_type_string) ||
				strcmp(json_object_get_string(v), want) != 0)
			{
				r->bad_value = true;
				note_error("get of k%d answered %.200s", r->arg, data);
			}
		}
	}
	json_object_put(root);
}

/* nats.c callback: a reply on our inbox */
static void
on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *cl)
{
	const char *subject = natsMsg_GetSubject(msg);
	const char *dot = strrchr(subject, '.');
	int64_t id = dot ? atoll(dot + 1) : -1;
	int64_t t = now_ms();

	(void) nc, (void) sub, (void) cl;
	pthread_mutex_lock(&mu);
	if (id < 0 || id >= nrecs)
		stray_replies++;
	else
	{
		Rec *r = &recs[id];

		if (r->replies++ == 0 || r->outcome == OC_TIMEOUT)
		{
			if (r->outcome == OC_TIMEOUT)
				r->late = true;
			else
				inflight--;
			r->reply_ms = t;
			take_reply(r, id, msg);
		}
	}
	pthread_mutex_unlock(&mu);
	natsMsg_Destroy(msg);
}

/* Mark requests past the client timeout (called with mu held) */
static void
expire(int64_t t)
{
	static int64_t from;

	while (from < nrecs && recs[from].outcome != OC_PENDING)
		from++;
	for (int64_t i = from; i < nrecs; i++)
	{
		Rec *r = &recs[i];

		if (r->outcome == OC_PENDING && t - r->sent_ms >= timeout_ms)
		{
			r->outcome = OC_TIMEOUT;
			inflight--;
		}
	}
}

/* Build the subject and payload of a new request */
static void
build(Rec *r, int64_t id, char *subject, size_t slen, char *payload,
	  size_t plen)
{
	const char *p = plugin;
	char soakp[32];

	if (strcmp(mode, "soak") == 0)
	{
		r->arg = rnd(nplugins);
		snprintf(soakp, sizeof(soakp), "soak-%d", r->arg);
		p = soakp;
	}
	switch (r->op)
	{
		case OP_SET:
			/* soak: a thousand keys a plugin, rewritten and read */
			snprintf(subject, slen, "db.kv.%s.set", p);
			snprintf(payload, plen,
					 "{\"key\":\"%s-k%lld\",\"value\":\"v%lld\"}", name,
					 (long long) (p == soakp ? id % 1000 : id),
					 (long long) id);
			break;
		case OP_SET_TTL:
			snprintf(subject, slen, "db.kv.%s.set", p);
			snprintf(
				payload, plen,
				"{\"key\":\"ttl-%lld\",\"value\":\"v%lld\",\"ttl\":%d.%d}",
				(long long) id, (long long) id, 1 + rnd(4), rnd(10));
			break;
		case OP_INCR:
			r->arg = strcmp(mode, "soak") == 0 ? r->arg : rnd(RL_COUNTERS);
			snprintf(subject, slen, "db.kv.%s.incr", p);
			snprintf(payload, plen, "{\"key\":\"%s-c%d\"}", name,
					 strcmp(mode, "soak") == 0 ? 0 : r->arg);
			break;
		case OP_GET:
			snprintf(subject, slen, "db.kv.%s.get", p);
			if (strcmp(mode, "soak") == 0)
				snprintf(payload, plen, "{\"key\":\"%s-k%d\"}", name,
						 rnd(1000));
			else
				snprintf(payload, plen, "{\"key\":\"%s-k%d\"}", name, r->arg);
			break;
		case OP_ROW_UPDATE:
			snprintf(subject, slen, "db.row.%s.update", p);
			snprintf(payload, plen,
					 "{\"table\":\"items\",\"filters\":{\"id\":%d},"
					 "\"operations\":{\"n\":{\"$inc\":1},\"note\":{\"$set\":"
					 "\"r%lld\"}}}",
					 1 + rnd(100), (long long) id);
			break;
		case OP_ROW_SEARCH:
			snprintf(subject, slen, "db.row.%s.search", p);
			snprintf(payload, plen,
					 "{\"table\":\"items\",\"filters\":{\"grp\":%d,\"n\":"
					 "{\"$gte\":0}},\"sort\":{\"field\":\"n\",\"order\":"
					 "\"desc\"},\"limit\":10}",
					 rnd(10));
			break;
	}
}

/* Pick the next op of the mix */
static Op
pick(void)
{
	int x = rnd(100);

	if (strcmp(mode, "faults") == 0)
	{
		if (x < 50)
			return OP_SET;
		if (x < 70)
			return OP_INCR;
		return nacked > 0 ? OP_GET : OP_SET;
	}
	if (x < 15)
		return OP_SET;
	if (x < 30)
		return OP_SET_TTL;
	if (x < 55)
		return OP_GET;
	if (x < 75)
		return OP_ROW_UPDATE;
	return OP_ROW_SEARCH;
}

/* Read VmRSS of a process, in kB; 0 if unknown */
static long
rss_kb(int pid)
{
	char path[64], line[256];
	FILE *f;
	long kb = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

/* Send at RL_RATE for seconds, at most RL_WINDOW in flight */
static void
run_load(natsConnection *nc, int seconds, int bridge_pid, long *rss_warm,
		 long *rss_end)
{
	int64_t start = now_ms();
	int64_t end = start + (int64_t) seconds * 1000;
	int64_t next_rss = start + 10000;
	double interval = 1000.0 / rate;
	int64_t sent = 0;

	for (;;)
	{
		int64_t t = now_ms();
		int64_t due = (int64_t) (sent * interval);
		char subject[128], payload[512];
		Rec *r;
		int64_t id;
		natsStatus s;

		if (t >= end)
			break;
		if (bridge_pid > 0 && t >= next_rss)
		{
			long kb = rss_kb(bridge_pid);

			if (t - start >= 60000 && *rss_warm == 0)
				*rss_warm = kb;
			*rss_end = kb;
			printf("# rss %lld s: %ld kB\n", (long long) ((t - start) / 1000),
				   kb);
			fflush(stdout);
			next_rss += 10000;
		}
		pthread_mutex_lock(&mu);
		expire(t);
		if (t - start < due || inflight >= window || nrecs == maxrecs)
		{
			pthread_mutex_unlock(&mu);
			usleep(500);
			continue;
		}
		id = nrecs;
		r = &recs[id];
		memset(r, 0, sizeof(*r));
		r->op = (uint8_t) pick();
		if (r->op == OP_GET && strcmp(mode, "faults") == 0)
			r->arg = (int32_t) acked_keys[rnd((int) nacked)];
		build(r, id, subject, sizeof(subject), payload, sizeof(payload));
		r->sent_ms = t;
		r->outcome = OC_PENDING;
		nrecs++;
		inflight++;
		pthread_mutex_unlock(&mu);
		{
			char reply[96];

			snprintf(reply, sizeof(reply), "%s.%lld", inbox, (long long) id);
			s = natsConnection_PublishRequest(nc, subject, reply, payload,
											  (int) strlen(payload));
		}
		if (s != NATS_OK)
		{
			pthread_mutex_lock(&mu);
			if (r->outcome == OC_PENDING)
			{
				r->outcome = OC_NOTSENT;
				inflight--;
			}
			pthread_mutex_unlock(&mu);
		}
		sent++;
	}
	/* the last requests: wait for their replies or their timeout */
	for (;;)
	{
		pthread_mutex_lock(&mu);
		expire(now_ms());
		if (inflight == 0)
		{
			pthread_mutex_unlock(&mu);
			break;
		}
		pthread_mutex_unlock(&mu);
		usleep(10000);
	}
	usleep(1000000); /* time for a duplicate or late reply to show */
}

/* Read the fault's start and end (ms since the epoch) */
static void
read_fault(const char *path, int64_t *start, int64_t *end)
{
	FILE *f = fopen(path, "r");
	long long a = 0, b = 0;

	if (f == NULL || fscanf(f, "%lld %lld", &a, &b) != 2)
	{
		fprintf(stderr, "relload: cannot read the fault times from %s\n",
				path);
		exit(2);
	}
	fclose(f);
	*start = a;
	*end = b;
}

/* The longest time between two ok replies, and the first ok reply to a
 * request sent at or after from (-1 if none) */
static void
ok_times(int64_t from, int64_t *gap, int64_t *first_after)
{
	int64_t *t = malloc(sizeof(int64_t) * (size_t) (nrecs + 1));
	int64_t n = 0;

	*gap = 0;
	*first_after = -1;
	for (int64_t i = 0; i < nrecs; i++)
	{
		if (recs[i].outcome != OC_OK)
			continue;
		t[n++] = recs[i].reply_ms;
		if (recs[i].sent_ms >= from &&
			(*first_after < 0 || recs[i].reply_ms < *first_after))
			*first_after = recs[i].reply_ms;
	}
	qsort(t, (size_t) n, sizeof(int64_t), cmp_i64);
	for (int64_t i = 1; i < n; i++)
		if (t[i] - t[i - 1] > *gap)
			*gap = t[i] - t[i - 1];
	free(t);
}

/* Compare the acknowledged writes and counters with PostgreSQL */
static int
check_faults(const char *fault_file)
{
	PGconn *pg = PQconnectdb("");
	PGresult *res;
	const char *params[1];
	char sql[512], like[80];
	int64_t fstart, fend, gap, first_after;
	int64_t count[OC_NOTSENT + 1] = {0};
	int64_t dup = 0, late = 0, bad_get = 0, stray;
	int64_t acked = 0, lost = 0, phantom = 0, wrong = 0, unknown_sets = 0;
	int64_t inc_ok[RL_COUNTERS] = {0}, inc_unk[RL_COUNTERS] = {0};
	int64_t final[RL_COUNTERS] = {0};
	int64_t counters_bad = 0, ok_incr = 0, unk_incr = 0, final_sum = 0;
	char **values = calloc((size_t) nrecs + 1, sizeof(char *));
	char *schema;
	bool pass;
	char codes[256] = "";

	read_fault(fault_file, &fstart, &fend);
	if (PQstatus(pg) != CONNECTION_OK)
	{
		printf("not ok - %s: cannot connect to PostgreSQL: %s", name,
			   PQerrorMessage(pg));
		return 1;
	}
	params[0] = plugin;
	res = PQexecParams(
		pg, "SELECT schema FROM plugin_storage.plugins WHERE name = $1", 1,
		NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		printf("not ok - %s: plugin %s not found: %s", name, plugin,
			   PQerrorMessage(pg));
		return 1;
	}
	schema = PQescapeIdentifier(pg, PQgetvalue(res, 0, 0),
								strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	/* every key of this scenario, straight from the plugin's table */
	snprintf(sql, sizeof(sql),
			 "SELECT key, value #>> '{}' FROM %s._ps_kv WHERE ns = '' AND "
			 "collection = 'default' AND key LIKE $1",
			 schema);
	snprintf(like, sizeof(like), "%s-%%", name);
	params[0] = like;
	res = PQexecParams(pg, sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		printf("not ok - %s: %s", name, PQerrorMessage(pg));
		return 1;
	}
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *key = PQgetvalue(res, i, 0) + strlen(name) + 1;
		long long n = atoll(key + 1);

		if (key[0] == 'k' && n >= 0 && n < nrecs)
			values[n] = PQgetvalue(res, i, 1);
		else if (key[0] == 'c' && n >= 0 && n < RL_COUNTERS)
			final[n] = atoll(PQgetvalue(res, i, 1));
	}

	pthread_mutex_lock(&mu);
	stray = stray_replies;
	for (int64_t i = 0; i < nrecs; i++)
	{
		Rec *r = &recs[i];
		char want[32];
		bool known = r->outcome == OC_OK || r->outcome == OC_ERROR ||
					 r->outcome == OC_NORESP || r->outcome == OC_NOTSENT;

		count[r->outcome]++;
		dup += r->replies > 1;
		late += r->late;
		bad_get += r->bad_value;
		if (r->outcome == OC_ERROR && !strstr(codes, r->code) &&
			strlen(codes) + strlen(r->code) + 2 < sizeof(codes))
			snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes),
					 "%s%s", codes[0] ? "," : "", r->code);
		if (r->op == OP_INCR)
		{
			if (r->outcome == OC_OK)
				inc_ok[r->arg]++;
			else if (!known)
				inc_unk[r->arg]++;
			continue;
		}
		if (r->op != OP_SET)
			continue;
		snprintf(want, sizeof(want), "v%lld", (long long) i);
		if (r->outcome == OC_OK)
		{
			acked++;
			if (values[i] == NULL)
				lost++;
			else if (strcmp(values[i], want) != 0)
				wrong++;
		}
		else if (known)
		{
			if (values[i] != NULL)
				phantom++;
		}
		else
		{
			unknown_sets++;
			if (values[i] != NULL && strcmp(values[i], want) != 0)
				wrong++;
		}
	}
	for (int c = 0; c < RL_COUNTERS; c++)
	{
		ok_incr += inc_ok[c];
		unk_incr += inc_unk[c];
		final_sum += final[c];
		if (final[c] < inc_ok[c] || final[c] > inc_ok[c] + inc_unk[c])
			counters_bad++;
	}
	ok_times(fend, &gap, &first_after);
	pthread_mutex_unlock(&mu);

	pass = dup == 0 && stray == 0 && lost == 0 && wrong == 0 && phantom == 0 &&
		   counters_bad == 0 && bad_get == 0 && first_after >= 0 &&
		   first_after - fend <= 5000 && count[OC_NOTSENT] == 0;
	/* RL_EXPECT_ALL_OK: a fault the system should hide (a drained bridge) */
	if (env_int("RL_EXPECT_ALL_OK", 0) && count[OC_OK] != nrecs)
		pass = false;
	printf("%s - %s: %lld requests: %lld ok, %lld error (%s), %lld unknown, "
		   "%lld no responders, %lld client timeouts (%lld replied late); "
		   "%lld duplicate replies; sets: %lld acked, %lld lost, %lld wrong, "
		   "%lld present after an error, %lld unknown; incr: %lld ok + %lld "
		   "unknown, counters %lld (%lld out of bounds); gets: %lld wrong; "
		   "fault %.1f s, service back %.2f s after it, longest gap without "
		   "ok %.2f s\n",
		   pass ? "ok" : "not ok", name, (long long) nrecs,
		   (long long) count[OC_OK], (long long) count[OC_ERROR],
		   codes[0] ? codes : "-", (long long) count[OC_UNKNOWN],
		   (long long) count[OC_NORESP], (long long) count[OC_TIMEOUT] + late,
		   (long long) late, (long long) dup, (long long) acked,
		   (long long) lost, (long long) wrong, (long long) phantom,
		   (long long) unknown_sets, (long long) ok_incr, (long long) unk_incr,
		   (long long) final_sum, (long long) counters_bad,
		   (long long) bad_get, (fend - fstart) / 1000.0,
		   first_after < 0 ? -1.0 : (first_after - fend) / 1000.0,
		   gap / 1000.0);
	if (!pass && first_error[0])
		printf("#   first error: %s\n", first_error);
	if (stray || count[OC_NOTSENT])
		printf("#   %lld replies to no request, %lld requests not sent\n",
			   (long long) stray, (long long) count[OC_NOTSENT]);
	PQclear(res);
	PQfinish(pg);
	return pass ? 0 : 1;
}

/* Latency percentile of a sorted array */
static double
pct(int64_t *v, int64_t n, double p)
{
	int64_t i = (int64_t) (p * (double) (n - 1) + 0.5);

	return n ? (double) v[i] : 0;
}

/* The soak's figures: errors, latency per minute, RSS */
static int
report_soak(long rss_warm, long rss_end)
{
	int64_t start = nrecs ? recs[0].sent_ms : 0;
	int64_t nmin = nrecs ? (recs[nrecs - 1].sent_ms - start) / 60000 + 1 : 0;
	int64_t errors = 0, timeouts = 0, ok = 0, per_op[OP_COUNT] = {0};
	double first_p99 = 0, last_p99 = 0;

	if (nmin > RL_MAX_MINUTES)
		nmin = RL_MAX_MINUTES;
	for (int64_t m = 0; m < nmin; m++)
	{
		int64_t *lat = malloc(sizeof(int64_t) * (size_t) (nrecs + 1));
		int64_t n = 0, e = 0;

		for (int64_t i = 0; i < nrecs; i++)
		{
			Rec *r = &recs[i];

			if ((r->sent_ms - start) / 60000 != m)
				continue;
			if (r->outcome == OC_OK)
				lat[n++] = r->reply_ms - r->sent_ms;
			else
				e++;
		}
		qsort(lat, (size_t) n, sizeof(int64_t), cmp_i64);
		printf("# soak minute %lld: %lld ok, %lld failed, p50 %.0f ms, p99 "
			   "%.0f ms, max %.0f ms\n",
			   (long long) m + 1, (long long) n, (long long) e,
			   pct(lat, n, 0.5), pct(lat, n, 0.99),
			   n ? (double) lat[n - 1] : 0);
		/* a last minute under half full is too short to compare */
		if (m == 0)
			first_p99 = pct(lat, n, 0.99);
		if (m == 0 || n > (int64_t) rate * 30)
			last_p99 = pct(lat, n, 0.99);
		free(lat);
	}
	for (int64_t i = 0; i < nrecs; i++)
	{
		if (recs[i].outcome == OC_OK)
		{
			ok++;
			per_op[recs[i].op]++;
		}
		else if (recs[i].outcome == OC_TIMEOUT)
			timeouts++;
		else
			errors++;
	}
	printf("# soak ops ok:");
	for (int o = 0; o < OP_COUNT; o++)
		if (o != OP_INCR)
			printf(" %s %lld", op_names[o], (long long) per_op[o]);
	printf("\n");
	if (first_error[0])
		printf("# first error: %s\n", first_error);
	printf("soak-figures: requests %lld ok %lld errors %lld timeouts %lld "
		   "duplicates %lld stray %lld p99_first_ms %.0f p99_last_ms %.0f "
		   "rss_warm_kb %ld rss_end_kb %ld\n",
		   (long long) nrecs, (long long) ok, (long long) errors,
		   (long long) timeouts, (long long) 0, (long long) stray_replies,
		   first_p99, last_p99, rss_warm, rss_end);
	return 0;
}

int
main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsOptions *opts = NULL;
	natsSubscription *sub = NULL;
	char sub_subject[96];
	int seconds, bridge_pid = 0;
	long rss_warm = 0, rss_end = 0;
	int rc;

	if (argc < 4 ||
		(strcmp(argv[1], "faults") != 0 && strcmp(argv[1], "soak") != 0))
	{
		fprintf(stderr, "usage: relload faults NAME SECONDS FAULT_FILE\n"
						"       relload soak SECONDS BRIDGE_PID\n");
		return 2;
	}
	mode = argv[1];
	if (strcmp(mode, "faults") == 0)
	{
		if (argc < 5)
			return 2;
		name = argv[2];
		seconds = atoi(argv[3]);
	}
	else
	{
		name = "soak";
		seconds = atoi(argv[2]);
		bridge_pid = atoi(argv[3]);
	}
	rate = env_int("RL_RATE", 400);
	window = env_int("RL_WINDOW", 64);
	timeout_ms = env_int("RL_TIMEOUT_MS", 8000);
	nplugins = env_int("RL_PLUGINS", 100);
	snprintf(plugin, sizeof(plugin), "%s",
			 getenv("RL_PLUGIN") ? getenv("RL_PLUGIN") : "faults");
	rng ^= (uint64_t) getpid() * 2654435761ULL;
	maxrecs = (int64_t) rate * (seconds + 2) + 1000;
	recs = calloc((size_t) maxrecs, sizeof(Rec));
	acked_keys = calloc((size_t) maxrecs, sizeof(int64_t));
	snprintf(inbox, sizeof(inbox), "_INBOX.relload.%d", (int) getpid());
	snprintf(sub_subject, sizeof(sub_subject), "%s.*", inbox);

	if (natsOptions_Create(&opts) != NATS_OK ||
		natsOptions_SetURL(opts, getenv("NATS_URL")
									 ? getenv("NATS_URL")
									 : "nats://127.0.0.1:4222") != NATS_OK ||
		natsOptions_SetMaxReconnect(opts, -1) != NATS_OK ||
		natsOptions_SetReconnectWait(opts, 100) != NATS_OK ||
		natsOptions_SetReconnectBufSize(opts, 64 * 1024 * 1024) != NATS_OK ||
		natsOptions_SetMaxPendingMsgs(opts, 1000000) != NATS_OK ||
		natsConnection_Connect(&nc, opts) != NATS_OK ||
		natsConnection_Subscribe(&sub, nc, sub_subject, on_reply, NULL) !=
			NATS_OK ||
		natsConnection_Flush(nc) != NATS_OK)
	{
		printf("not ok - %s: cannot connect to NATS: %s\n", name,
			   nats_GetLastError(NULL));
		return 1;
	}
	run_load(nc, seconds, bridge_pid, &rss_warm, &rss_end);
	natsSubscription_Unsubscribe(sub);
	if (strcmp(mode, "faults") == 0)
		rc = check_faults(argv[4]);
	else
		rc = report_soak(rss_warm, rss_end);
	fflush(stdout);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(opts);
	return rc;
}
