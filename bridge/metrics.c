/*
 * metrics.c
 *		Request metrics per plugin, tier and op: counts, errors by code,
 *		latency histograms.
 *
 * Every reply is counted once, in the series of its (plugin, tier, op):
 * one more reply, one more error of its code if it is an error, its
 * latency (receipt to reply publish) added to the sum and to one bucket of
 * a fixed histogram (0.5 ms .. 5 s and +Inf, Prometheus' `le` buckets; the
 * buckets are stored per bucket and summed into cumulative counts when
 * read).  The counters are relaxed atomics: worker and NATS threads bump
 * them without any lock, and a reader sees each counter exact, though not
 * necessarily all of them at the same instant.
 *
 * Label cardinality is bounded.  Tiers are the fixed table of tier.c plus
 * "_invalid" for subjects that name none.  Ops are the known ops of each
 * tier; any other op (which the extension refuses anyway) is "_invalid".
 * Plugins are tracked up to max_plugins distinct names; later names are
 * counted together as "_other", and requests whose plugin name is not
 * valid as "_invalid".
 *
 * Plugins live in an open-addressing hash table, at most half full, that
 * only grows: a slot goes once from NULL to a plugin, by compare-and-swap,
 * and a plugin is never freed while the process runs.  So a lookup is a
 * few lock-free loads; only a plugin's first request allocates.
 *
 * Per-tier totals for $SRV.STATS are sums over the series when asked; the
 * last error of each tier is the only thing kept under a mutex, and only
 * error replies take it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define METRICS_MAX_OPS 24

/* The ops counted for a tier; anything else is "_invalid" */
typedef struct MetricsTierOps
{
	const char *tier;				  /* tier name, as in tier.c */
	const char *ops[METRICS_MAX_OPS]; /* known ops, NULL-terminated */
} MetricsTierOps;

/*
 * The ops of each tier, as the extension defines them (kv_request.c,
 * row_request.c); the migrate tier's op is the request's "action", the
 * inspect tier has the one op "inspect".  A tier missing here counts its
 * fixed op, if it has one.
 */
static const MetricsTierOps metrics_known_ops[] = {
	{"kv",
	 {"set", "get", "delete", "list", "incr", "mget", "mset", "count",
	  "exists", "clear", "collections", "drop", "all", "expire", "ttl"}},
	{"row",
	 {"define", "describe", "tables", "drop_table", "insert", "upsert",
	  "select", "search", "aggregate", "update", "delete"}},
	{"sql", {"query"}},
	{"migrate", {"apply", "rollback", "status"}},
	{"inspect", {"inspect"}},
};

const char *const metrics_le_ms[METRICS_NBUCKETS] = {
	"0.5", "1",	  "2",	 "5",	 "10",	 "25",	 "50",
	"100", "250", "500", "1000", "2500", "5000", "+Inf"};
const char *const metrics_le_seconds[METRICS_NBUCKETS] = {
	"0.0005", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05",
	"0.1",	  "0.25",  "0.5",	"1",	 "2.5",	 "5",	  "+Inf"};

/* Upper bounds of the finite buckets, in nanoseconds */
static const int64_t metrics_bounds_ns[METRICS_NBUCKETS - 1] = {
	500000,		1000000,	2000000,   5000000,	  10000000,
	25000000,	50000000,	100000000, 250000000, 500000000,
	1000000000, 2500000000, 5000000000};

static const char *metrics_ops[METRICS_NTIERS][METRICS_MAX_OPS + 1];
static int metrics_nops[METRICS_NTIERS]; /* known ops + "_invalid" */
static int metrics_base[METRICS_NTIERS]; /* first series of each tier */
static int metrics_nseries;				 /* series per plugin */

static _Atomic(MetricsPlugin *) *metrics_slots;
static size_t metrics_mask;		 /* slot count - 1 */
static int metrics_max;			 /* most plugins tracked by name */
static atomic_int metrics_count; /* plugins tracked (or reserved) */
static MetricsPlugin *metrics_other;
static MetricsPlugin *metrics_invalid;

static pthread_mutex_t metrics_error_mutex = PTHREAD_MUTEX_INITIALIZER;
static char metrics_last_error[METRICS_NTIERS][METRICS_LAST_ERROR_MAX];

/* Set up a tier's op labels: its known ops, then "_invalid" */
static void
MetricsTierSetup(int t)
{
	int n = 0;

	if (t < TIER_COUNT)
	{
		size_t nk = sizeof(metrics_known_ops) / sizeof(metrics_known_ops[0]);

		for (size_t k = 0; k < nk; k++)
		{
			if (strcmp(metrics_known_ops[k].tier, tiers[t].name) != 0)
				continue;
			while (n < METRICS_MAX_OPS && metrics_known_ops[k].ops[n])
			{
				metrics_ops[t][n] = metrics_known_ops[k].ops[n];
				n++;
			}
		}
		if (n == 0 && tiers[t].fixed_op)
			metrics_ops[t][n++] = tiers[t].fixed_op;
	}
	metrics_ops[t][n++] = METRICS_INVALID;
	metrics_nops[t] = n;
}

/* Allocate a plugin's zeroed series */
static MetricsPlugin *
MetricsNewPlugin(const char *name)
{
	MetricsPlugin *p =
		calloc(1, sizeof(MetricsPlugin) +
					  (size_t) metrics_nseries * sizeof(MetricsSeries));

	if (p == NULL)
		abort();
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

/* Lay out the series and the plugin table; call once, before any request */
void
metrics_init(int max_plugins)
{
	size_t slots = 16;

	for (int t = 0; t < METRICS_NTIERS; t++)
	{
		MetricsTierSetup(t);
		metrics_base[t] = metrics_nseries;
		metrics_nseries += metrics_nops[t];
	}
	while (slots < (size_t) max_plugins * 2)
		slots *= 2;
	metrics_slots = calloc(slots, sizeof(*metrics_slots));
	if (metrics_slots == NULL)
		abort();
	metrics_mask = slots - 1;
	metrics_max = max_plugins;
	metrics_other = MetricsNewPlugin(METRICS_OTHER);
	metrics_invalid = MetricsNewPlugin(METRICS_INVALID);
}

/* The label of a tier: its name, or "_invalid" */
const char *
metrics_tier_name(int tier)
{
	return tier < TIER_COUNT ? tiers[tier].name : METRICS_INVALID;
}

/* How many op labels a tier has, "_invalid" included */
int
metrics_tier_nops(int tier)
{
	return metrics_nops[tier];
}

/* The label of a tier's op */
const char *
metrics_op_name(int tier, int op)
{
	return metrics_ops[tier][op];
}

/* The index of an op's label in its tier; unknown ops get "_invalid" */
int
metrics_op_index(int tier, const char *op)
{
	int n = metrics_nops[tier] - 1;

	for (int i = 0; op && i < n; i++)
		if (strcmp(metrics_ops[tier][i], op) == 0)
			return i;
	return n;
}

/* FNV-1a of a plugin name */
static size_t
MetricsHash(const char *name)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *name; name++)
		h = (h ^ (unsigned char) *name) * 1099511628211ULL;
	return (size_t) h;
}

/* Find a plugin's slot holder, or the empty slot where it would go */
static size_t
MetricsProbe(const char *name, MetricsPlugin **found)
{
	size_t i = MetricsHash(name) & metrics_mask;

	for (;;)
	{
		MetricsPlugin *p =
			atomic_load_explicit(&metrics_slots[i], memory_order_acquire);

		if (p == NULL || strcmp(p->name, name) == 0)
		{
			*found = p;
			return i;
		}
		i = (i + 1) & metrics_mask;
	}
}

/* Find a tracked plugin without adding it; NULL if it is not tracked */
MetricsPlugin *
metrics_find(const char *name)
{
	MetricsPlugin *p;

	if (strcmp(name, METRICS_OTHER) == 0)
		return metrics_other;
	if (strcmp(name, METRICS_INVALID) == 0)
		return metrics_invalid;
	MetricsProbe(name, &p);
	return p;
}

/*
 * Find a plugin's metrics, adding it if fewer than max_plugins are
 * tracked; "_other" past that, "_invalid" for a NULL name.
 */
MetricsPlugin *
metrics_plugin(const char *name)
{
	MetricsPlugin *p;
	MetricsPlugin *mine;
	size_t i;

	if (name == NULL)
		return metrics_invalid;
	i = MetricsProbe(name, &p);
	if (p)
		return p;
	if (atomic_load_explicit(&metrics_count, memory_order_relaxed) >=
		metrics_max)
		return metrics_other;
	if (atomic_fetch_add(&metrics_count, 1) >= metrics_max)
	{
		/* lost the race for the last place: give the reservation back */
		atomic_fetch_sub(&metrics_count, 1);
		return metrics_other;
	}
	mine = MetricsNewPlugin(name);
	for (;;)
	{
		MetricsPlugin *expected = NULL;

		if (atomic_compare_exchange_strong(&metrics_slots[i], &expected, mine))
			return mine;
		if (strcmp(expected->name, name) == 0)
		{
			/* another thread added it first */
			free(mine);
			atomic_fetch_sub(&metrics_count, 1);
			return expected;
		}
		i = (i + 1) & metrics_mask;
	}
}

/* The series of a (tier, op) of a plugin */
const MetricsSeries *
metrics_series(const MetricsPlugin *p, int tier, int op)
{
	return &p->series[metrics_base[tier] + op];
}

/* Count one reply: code < 0 is success; ns its latency */
void
metrics_record(MetricsPlugin *p, int tier, int op, int code, int64_t ns)
{
	MetricsSeries *s = &p->series[metrics_base[tier] + op];
	int b = 0;

	while (b < METRICS_NBUCKETS - 1 && ns > metrics_bounds_ns[b])
		b++;
	if (ns < 0)
		ns = 0;
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_ns, (unsigned long long) ns,
							  memory_order_relaxed);
	if (code >= 0 && code < EC_COUNT)
		atomic_fetch_add_explicit(&s->errors[code], 1, memory_order_relaxed);
}

/* Remember the last error of a tier */
void
metrics_tier_error(int tier, const char *code, const char *msg)
{
	pthread_mutex_lock(&metrics_error_mutex);
	snprintf(metrics_last_error[tier], METRICS_LAST_ERROR_MAX, "%s: %s", code,
			 msg ? msg : "");
	pthread_mutex_unlock(&metrics_error_mutex);
}

/* Add up one plugin's series of a tier */
static void
MetricsAddTier(const MetricsPlugin *p, int tier, MetricsTierTotals *out)
{
	for (int op = 0; op < metrics_nops[tier]; op++)
	{
		const MetricsSeries *s = metrics_series(p, tier, op);

		out->requests += atomic_load_explicit(&s->count, memory_order_relaxed);
		out->time_ns += atomic_load_explicit(&s->sum_ns, memory_order_relaxed);
		for (int c = 0; c < EC_COUNT; c++)
			out->errors +=
				atomic_load_explicit(&s->errors[c], memory_order_relaxed);
	}
}

/* Sum a tier over every plugin, with its last error */
void
metrics_tier_totals(int tier, MetricsTierTotals *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i <= metrics_mask; i++)
	{
		MetricsPlugin *p = atomic_load(&metrics_slots[i]);

		if (p)
			MetricsAddTier(p, tier, out);
	}
	MetricsAddTier(metrics_other, tier, out);
	MetricsAddTier(metrics_invalid, tier, out);
	pthread_mutex_lock(&metrics_error_mutex);
	memcpy(out->last_error, metrics_last_error[tier], sizeof(out->last_error));
	pthread_mutex_unlock(&metrics_error_mutex);
}

/* Order plugins by name */
static int
MetricsCompare(const void *a, const void *b)
{
	return strcmp((*(MetricsPlugin *const *) a)->name,
				  (*(MetricsPlugin *const *) b)->name);
}

/* List every plugin (and _other, _invalid) by name; free() the array */
int
metrics_snapshot(MetricsPlugin ***out)
{
	MetricsPlugin **list = malloc((metrics_mask + 3) * sizeof(*list));
	int n = 0;

	if (list == NULL)
		abort();
	for (size_t i = 0; i <= metrics_mask; i++)
	{
		MetricsPlugin *p = atomic_load(&metrics_slots[i]);

		if (p)
			list[n++] = p;
	}
	list[n++] = metrics_other;
	list[n++] = metrics_invalid;
	qsort(list, (size_t) n, sizeof(*list), MetricsCompare);
	*out = list;
	return n;
}

/* How many plugins are tracked by name */
int
metrics_tracked(void)
{
	int n = atomic_load(&metrics_count);

	return n < metrics_max ? n : metrics_max;
}

/* The most plugins tracked by name (metrics_max_plugins) */
int
metrics_max_plugins(void)
{
	return metrics_max;
}
