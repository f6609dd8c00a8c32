/*
 * prom.c
 *		The metrics in Prometheus' text exposition format.
 *
 * One family per metric, each with its # HELP and # TYPE lines and all of
 * its samples together, as the format (version 0.0.4) requires:
 *
 *	plugin_storage_bridge_requests_total{plugin,tier,op}			counter
 *	plugin_storage_bridge_errors_total{plugin,tier,op,code}			counter
 *	plugin_storage_bridge_request_duration_seconds{plugin,tier,op}	histogram
 *		(_bucket{..,le}, cumulative, then _sum and _count)
 *
 * and the process-wide counters of stats.h, the PostgreSQL connections
 * open, the events, the plugin limit, the uptime, and an info gauge with
 * the bridge's version and id.  Series without requests are left out.
 * Label values are escaped as the format says (backslash, double quote,
 * newline), though the bridge's own labels never need it: plugin names,
 * tiers, ops and codes are validated identifiers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errcode.h"
#include "events.h"
#include "ident.h"
#include "metrics.h"
#include "pool.h"
#include "prom.h"
#include "stats.h"

#ifndef BRIDGE_VERSION
#define BRIDGE_VERSION "0.0.0"
#endif

#define PROM_PREFIX "plugin_storage_bridge_"
#define PROM_LABEL_MAX (2 * 64 + 8)

/* A growing text buffer */
typedef struct PromBuf
{
	char *data; /* the text, NUL-terminated */
	size_t len; /* its length */
	size_t cap; /* bytes allocated */
} PromBuf;

/* Append printf-style text */
static void PromPrintf(PromBuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
PromPrintf(PromBuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;)
	{
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t) n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t) (n > 0 ? n : 0);
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			abort();
	}
	b->len += (size_t) n;
}

/* Escape a label value: \ to \\, " to \", newline to \n */
void
prom_escape_label(const char *value, char *out, size_t size)
{
	size_t n = 0;

	for (; *value && n + 3 < size; value++)
	{
		if (*value == '\\' || *value == '"')
			out[n++] = '\\', out[n++] = *value;
		else if (*value == '\n')
			out[n++] = '\\', out[n++] = 'n';
		else
			out[n++] = *value;
	}
	out[n] = '\0';
}

/* Write a family's # HELP and # TYPE lines */
static void
PromFamily(PromBuf *b, const char *name, const char *type, const char *help)
{
	PromPrintf(b, "# HELP " PROM_PREFIX "%s %s\n# TYPE " PROM_PREFIX "%s %s\n",
			   name, help, name, type);
}

/* Write the plugin, tier and op labels of a series, escaped */
static void
PromLabels(char *out, size_t size, const MetricsPlugin *p, int tier, int op)
{
	char plugin[PROM_LABEL_MAX];
	char t[PROM_LABEL_MAX];
	char o[PROM_LABEL_MAX];

	prom_escape_label(p->name, plugin, sizeof(plugin));
	prom_escape_label(metrics_tier_name(tier), t, sizeof(t));
	prom_escape_label(metrics_op_name(tier, op), o, sizeof(o));
	snprintf(out, size, "plugin=\"%s\",tier=\"%s\",op=\"%s\"", plugin, t, o);
}

/* The per-series families: requests, errors, latency histogram */
static void
PromSeries(PromBuf *b, MetricsPlugin **list, int n, int family)
{
	for (int i = 0; i < n; i++)
		for (int t = 0; t < METRICS_NTIERS; t++)
			for (int op = 0; op < metrics_tier_nops(t); op++)
			{
				const MetricsSeries *s = metrics_series(list[i], t, op);
				unsigned long long count = atomic_load(&s->count);
				unsigned long long cumulative = 0;
				char labels[4 * PROM_LABEL_MAX];

				if (count == 0)
					continue;
				PromLabels(labels, sizeof(labels), list[i], t, op);
				if (family == 0)
					PromPrintf(b, PROM_PREFIX "requests_total{%s} %llu\n",
							   labels, count);
				for (int c = 0; family == 1 && c < EC_COUNT; c++)
				{
					unsigned long long e = atomic_load(&s->errors[c]);

					if (e > 0)
						PromPrintf(b,
								   PROM_PREFIX
								   "errors_total{%s,code=\"%s\"} %llu\n",
								   labels, errcode_name((ErrCode) c), e);
				}
				if (family != 2)
					continue;
				for (int k = 0; k < METRICS_NBUCKETS; k++)
				{
					cumulative += atomic_load(&s->buckets[k]);
					PromPrintf(b,
							   PROM_PREFIX "request_duration_seconds_bucket"
										   "{%s,le=\"%s\"} %llu\n",
							   labels, metrics_le_seconds[k], cumulative);
				}
				PromPrintf(
					b, PROM_PREFIX "request_duration_seconds_sum{%s} %.9f\n",
					labels, (double) atomic_load(&s->sum_ns) / 1e9);
				PromPrintf(
					b, PROM_PREFIX "request_duration_seconds_count{%s} %llu\n",
					labels, cumulative);
			}
}

/* One process-wide counter */
static void
PromCounter(PromBuf *b, const char *name, const char *help,
			unsigned long long value)
{
	PromFamily(b, name, "counter", help);
	PromPrintf(b, PROM_PREFIX "%s %llu\n", name, value);
}

/* One process-wide gauge */
static void
PromGauge(PromBuf *b, const char *name, const char *help, double value)
{
	PromFamily(b, name, "gauge", help);
	PromPrintf(b, PROM_PREFIX "%s %.15g\n", name, value);
}

/* The process-wide families */
static void
PromProcess(PromBuf *b)
{
	char id[PROM_LABEL_MAX];
	char host[4 * PROM_LABEL_MAX];

	prom_escape_label(ident_id(), id, sizeof(id));
	prom_escape_label(ident_host(), host, sizeof(host));
	PromFamily(b, "info", "gauge", "The bridge's version, id and host.");
	PromPrintf(b, PROM_PREFIX "info{version=\"%s\",id=\"%s\",host=\"%s\"} 1\n",
			   BRIDGE_VERSION, id, host);
	PromGauge(b, "uptime_seconds", "Seconds since the bridge started.",
			  (double) ident_uptime_ms() / 1000);
	PromCounter(b, "received_total", "Messages received on db.>.",
				atomic_load(&bridge_stats.received));
	PromCounter(b, "dropped_no_reply_total",
				"Requests dropped for lack of a reply subject.",
				atomic_load(&bridge_stats.dropped_no_reply));
	PromCounter(b, "reply_failed_total", "Replies NATS refused to publish.",
				atomic_load(&bridge_stats.reply_failed));
	PromCounter(b, "batches_total", "Pipelines sent to PostgreSQL.",
				atomic_load(&bridge_stats.batches));
	PromCounter(b, "pipelined_total",
				"Requests sent in pipelines of two or more.",
				atomic_load(&bridge_stats.pipelined));
	PromCounter(b, "group_commits_total",
				"Batches committed as one transaction.",
				atomic_load(&bridge_stats.group_commits));
	PromCounter(b, "group_rollbacks_total",
				"Groups rolled back and run one by one.",
				atomic_load(&bridge_stats.group_rollbacks));
	PromCounter(b, "connects_total", "PostgreSQL connections opened.",
				atomic_load(&bridge_stats.connects));
	PromGauge(b, "connections", "PostgreSQL connections open now.",
			  pool_connected_count());
	PromFamily(b, "events_total", "counter",
			   "Events published on db.events.>, by kind.");
	for (int k = 0; k < EVENT_NKINDS; k++)
		PromPrintf(b, PROM_PREFIX "events_total{kind=\"%s\"} %llu\n",
				   events_kind_name((EventKind) k),
				   (unsigned long long) events_published((EventKind) k));
	PromCounter(b, "events_dropped_total",
				"Events dropped: over event_rate_limit, queue full, or "
				"not published.",
				events_dropped());
	PromGauge(b, "tracked_plugins", "Plugins tracked by name.",
			  metrics_tracked());
	PromGauge(b, "max_plugins",
			  "Most plugins tracked by name (metrics_max_plugins); "
			  "later ones count as _other.",
			  metrics_max_plugins());
}

/* Render every metric as exposition text; free() it */
char *
prom_render(size_t *len)
{
	PromBuf b = {malloc(65536), 0, 65536};
	MetricsPlugin **list;
	int n = metrics_snapshot(&list);

	if (b.data == NULL)
		abort();
	b.data[0] = '\0';
	PromFamily(&b, "requests_total", "counter",
			   "Requests answered, by plugin, tier and op.");
	PromSeries(&b, list, n, 0);
	PromFamily(&b, "errors_total", "counter",
			   "Error replies, by plugin, tier, op and code.");
	PromSeries(&b, list, n, 1);
	PromFamily(&b, "request_duration_seconds", "histogram",
			   "Time from receiving a request to publishing its reply.");
	PromSeries(&b, list, n, 2);
	PromProcess(&b);
	free(list);
	*len = b.len;
	return b.data;
}
