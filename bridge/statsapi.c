/*
 * statsapi.c
 *		db.stats and db.stats.<plugin>: this bridge's metrics as JSON.
 *
 * Every bridge answers these subjects itself, on a plain subscription (no
 * queue group), and says who it is in "bridge" (ident.c): metrics are per
 * process, so a reply from a random member of the queue group would mix
 * up bridges from one request to the next.  A NATS request returns the
 * first reply, i.e. one bridge's view; to see every bridge, send the
 * request with a reply inbox and collect replies for a moment (a scatter
 * request, `nats req db.stats '' --replies 0`), or list the bridges with
 * $SRV.PING (micro.c).
 *
 *	db.stats			{"bridge":{..},"totals":{..},"limits":{..},
 *						 "plugins":{"<plugin>":{"requests":n,"errors":n,
 *						 "tiers":{"<tier>":{"<op>":{"requests":n,
 *						 "errors":{"<code>":n},"duration_ms":{"sum":x}}}}}}}
 *	db.stats.<plugin>	{"bridge":{..},"plugin":"<plugin>","tracked":bool,
 *						 "requests":n,"errors":n,"tiers":{..}}, where each op
 *						 also has "duration_ms":{"sum":x,"le":{"0.5":n,..,
 *						 "+Inf":n}}, the cumulative histogram in ms.
 *
 * Only series with requests appear.  db.stats leaves the histograms out to
 * stay small; if it still exceeds the server's max_payload, it keeps the
 * busiest plugins and says "truncated": true, "plugins_omitted": n.
 * db.stats._other and db.stats._invalid name the catch-all labels.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bus.h"
#include "errcode.h"
#include "events.h"
#include "ident.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "stats.h"
#include "statsapi.h"

#define STATSAPI_DEFAULT_MAX (1024 * 1024)
#define STATSAPI_MARGIN 256 /* room for the truncation fields */

static natsSubscription *statsapi_all;
static natsSubscription *statsapi_one;

/* A series as JSON; with_buckets adds the cumulative histogram */
static json_object *
StatsSeriesJson(const MetricsSeries *s, uint64_t count, bool with_buckets)
{
	json_object *o = json_object_new_object();
	json_object *errors = json_object_new_object();
	json_object *duration = json_object_new_object();
	uint64_t sum_ns = atomic_load_explicit(&s->sum_ns, memory_order_relaxed);

	json_object_object_add(o, "requests", json_object_new_uint64(count));
	for (int c = 0; c < EC_COUNT; c++)
	{
		uint64_t n = atomic_load_explicit(&s->errors[c], memory_order_relaxed);

		if (n > 0)
			json_object_object_add(errors, errcode_name((ErrCode) c),
								   json_object_new_uint64(n));
	}
	json_object_object_add(o, "errors", errors);
	json_object_object_add(duration, "sum",
						   log_json_real((double) sum_ns / 1e6));
	if (with_buckets)
	{
		json_object *le = json_object_new_object();
		uint64_t cumulative = 0;

		for (int b = 0; b < METRICS_NBUCKETS; b++)
		{
			cumulative +=
				atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
			json_object_object_add(le, metrics_le_ms[b],
								   json_object_new_uint64(cumulative));
		}
		json_object_object_add(duration, "le", le);
	}
	json_object_object_add(o, "duration_ms", duration);
	return o;
}

/* A plugin's series by tier and op; totals its requests and errors */
static json_object *
StatsPluginJson(const MetricsPlugin *p, bool with_buckets, uint64_t *requests,
				uint64_t *errors)
{
	json_object *tiers_obj = json_object_new_object();

	*requests = *errors = 0;
	for (int t = 0; t < METRICS_NTIERS; t++)
	{
		json_object *ops = NULL;

		for (int op = 0; op < metrics_tier_nops(t); op++)
		{
			const MetricsSeries *s = metrics_series(p, t, op);
			uint64_t n = atomic_load_explicit(&s->count, memory_order_relaxed);

			if (n == 0)
				continue;
			if (ops == NULL)
				ops = json_object_new_object();
			json_object_object_add(ops, metrics_op_name(t, op),
								   StatsSeriesJson(s, n, with_buckets));
			*requests += n;
			for (int c = 0; c < EC_COUNT; c++)
				*errors +=
					atomic_load_explicit(&s->errors[c], memory_order_relaxed);
		}
		if (ops)
			json_object_object_add(tiers_obj, metrics_tier_name(t), ops);
	}
	return tiers_obj;
}

/* The process totals of stats.h, with connections and events */
static json_object *
StatsTotalsJson(void)
{
	json_object *o = json_object_new_object();
	json_object *errors = json_object_new_object();
	json_object *events = json_object_new_object();

#define STATSAPI_FIELD(name)                                                  \
	json_object_object_add(                                                   \
		o, #name, json_object_new_uint64(atomic_load(&bridge_stats.name)))
	STATSAPI_FIELD(received);
	STATSAPI_FIELD(dropped_no_reply);
	STATSAPI_FIELD(replied_ok);
	STATSAPI_FIELD(reply_failed);
	STATSAPI_FIELD(batches);
	STATSAPI_FIELD(pipelined);
	STATSAPI_FIELD(group_commits);
	STATSAPI_FIELD(group_rollbacks);
	STATSAPI_FIELD(connects);
#undef STATSAPI_FIELD
	for (int c = 0; c < EC_COUNT; c++)
		json_object_object_add(errors, errcode_name((ErrCode) c),
							   json_object_new_uint64(atomic_load(
								   &bridge_stats.replied_error[c])));
	json_object_object_add(o, "replied_error", errors);
	json_object_object_add(o, "connections",
						   json_object_new_int(pool_connected_count()));
	for (int k = 0; k < EVENT_NKINDS; k++)
		json_object_object_add(
			events, events_kind_name((EventKind) k),
			json_object_new_uint64(events_published((EventKind) k)));
	json_object_object_add(events, "dropped",
						   json_object_new_uint64(events_dropped()));
	json_object_object_add(o, "events", events);
	return o;
}

/* One plugin of db.stats, ready to be placed */
typedef struct StatsEntry
{
	const char *name;  /* plugin label */
	json_object *json; /* {"requests":..,"errors":..,"tiers":{..}} */
	size_t len;		   /* length of its text, with name and punctuation */
	uint64_t requests; /* to keep the busiest when truncating */
} StatsEntry;

/* Order entries by requests, most first */
static int
StatsBusiest(const void *a, const void *b)
{
	const StatsEntry *x = a;
	const StatsEntry *y = b;

	return x->requests < y->requests ? 1 : x->requests > y->requests ? -1 : 0;
}

/* Add the plugins to db.stats, the busiest first if not all fit in max */
static void
StatsAddPlugins(json_object *root, size_t max)
{
	MetricsPlugin **list;
	int n = metrics_snapshot(&list);
	StatsEntry *e = calloc((size_t) n, sizeof(StatsEntry));
	json_object *plugins = json_object_new_object();
	size_t used =
		strlen(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	size_t total = used;
	int m = 0;
	int kept = 0;

	for (int i = 0; i < n; i++)
	{
		uint64_t requests;
		uint64_t errors;
		json_object *tiers_obj =
			StatsPluginJson(list[i], false, &requests, &errors);

		if (requests == 0)
		{
			json_object_put(tiers_obj);
			continue;
		}
		e[m].name = list[i]->name;
		e[m].requests = requests;
		e[m].json = json_object_new_object();
		json_object_object_add(e[m].json, "requests",
							   json_object_new_uint64(requests));
		json_object_object_add(e[m].json, "errors",
							   json_object_new_uint64(errors));
		json_object_object_add(e[m].json, "tiers", tiers_obj);
		e[m].len = strlen(json_object_to_json_string_ext(
					   e[m].json, JSON_C_TO_STRING_PLAIN)) +
				   strlen(e[m].name) + 4;
		total += e[m].len;
		m++;
	}
	if (total + STATSAPI_MARGIN > max)
		qsort(e, (size_t) m, sizeof(StatsEntry), StatsBusiest);
	for (int i = 0; i < m; i++)
	{
		if (used + e[i].len + STATSAPI_MARGIN > max)
		{
			json_object_put(e[i].json);
			continue;
		}
		used += e[i].len;
		json_object_object_add(plugins, e[i].name, e[i].json);
		kept++;
	}
	json_object_object_add(root, "plugins", plugins);
	json_object_object_add(root, "truncated",
						   json_object_new_boolean(kept < m));
	if (kept < m)
		json_object_object_add(root, "plugins_omitted",
							   json_object_new_int(m - kept));
	free(e);
	free(list);
}

/* Build db.stats.<plugin> */
static json_object *
StatsOne(const char *plugin)
{
	json_object *root = json_object_new_object();
	MetricsPlugin *p = metrics_find(plugin);
	uint64_t requests = 0;
	uint64_t errors = 0;
	json_object *tiers_obj = p ? StatsPluginJson(p, true, &requests, &errors)
							   : json_object_new_object();

	json_object_object_add(root, "bridge", ident_json());
	json_object_object_add(root, "plugin", json_object_new_string(plugin));
	json_object_object_add(root, "tracked",
						   json_object_new_boolean(p != NULL));
	json_object_object_add(root, "requests", json_object_new_uint64(requests));
	json_object_object_add(root, "errors", json_object_new_uint64(errors));
	json_object_object_add(root, "tiers", tiers_obj);
	return root;
}

/* Build db.stats, within max bytes */
static json_object *
StatsAll(size_t max)
{
	json_object *root = json_object_new_object();
	json_object *limits = json_object_new_object();

	json_object_object_add(root, "bridge", ident_json());
	json_object_object_add(root, "totals", StatsTotalsJson());
	json_object_object_add(limits, "max_plugins",
						   json_object_new_int(metrics_max_plugins()));
	json_object_object_add(limits, "tracked_plugins",
						   json_object_new_int(metrics_tracked()));
	json_object_object_add(root, "limits", limits);
	StatsAddPlugins(root, max);
	return root;
}

/* Render db.stats (plugin NULL) or db.stats.<plugin>; free() the text */
char *
statsapi_render(const char *plugin, size_t max, size_t *len)
{
	json_object *root = plugin ? StatsOne(plugin) : StatsAll(max);
	const char *text = json_object_to_json_string_length(
		root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
	char *copy = strdup(text);

	json_object_put(root);
	return copy;
}

/* Reply {"error":{"code":"invalid_request","message":..}} */
static void
StatsRefuse(const char *reply, const char *message)
{
	json_object *root = json_object_new_object();
	json_object *error = json_object_new_object();
	const char *text;
	size_t len;

	json_object_object_add(
		error, "code",
		json_object_new_string(errcode_name(EC_INVALID_REQUEST)));
	json_object_object_add(error, "message", json_object_new_string(message));
	json_object_object_add(root, "error", error);
	text = json_object_to_json_string_length(
		root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	bus_publish(reply, text, len);
	json_object_put(root);
}

/* nats.c callback: answer db.stats or db.stats.<plugin> */
static void
StatsOnMessage(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
			   void *closure)
{
	const char *subject = natsMsg_GetSubject(msg);
	const char *reply = natsMsg_GetReply(msg);
	const char *plugin = NULL;
	int64_t max = bus_max_payload();
	char *text;
	size_t len;

	(void) nc;
	(void) sub;
	(void) closure;
	if (reply == NULL || reply[0] == '\0')
	{
		natsMsg_Destroy(msg);
		return;
	}
	if (strlen(subject) > strlen("db.stats."))
	{
		plugin = subject + strlen("db.stats.");
		if (!subject_valid_plugin(plugin, strlen(plugin)) &&
			strcmp(plugin, METRICS_OTHER) != 0 &&
			strcmp(plugin, METRICS_INVALID) != 0)
		{
			StatsRefuse(reply, "invalid plugin name: it must match "
							   "^[a-z0-9][a-z0-9_-]{0,62}$");
			natsMsg_Destroy(msg);
			return;
		}
	}
	text = statsapi_render(
		plugin, max > 0 ? (size_t) max : STATSAPI_DEFAULT_MAX, &len);
	bus_publish(reply, text, len);
	free(text);
	natsMsg_Destroy(msg);
}

/* Answer db.stats and db.stats.* on this bridge's own subscriptions */
void
statsapi_subscribe(void)
{
	statsapi_all = bus_subscribe("db.stats", StatsOnMessage);
	statsapi_one = bus_subscribe("db.stats.*", StatsOnMessage);
}

/* Stop answering db.stats */
void
statsapi_unsubscribe(void)
{
	bus_unsubscribe(statsapi_all);
	bus_unsubscribe(statsapi_one);
	statsapi_all = statsapi_one = NULL;
}
