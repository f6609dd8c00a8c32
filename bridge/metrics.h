/*
 * metrics.h
 *		Request metrics per plugin, tier and op: counts, errors by code,
 *		latency histograms.
 */
#ifndef BRIDGE_METRICS_H
#define BRIDGE_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "errcode.h"
#include "subject.h"
#include "tier.h"

#define METRICS_NBUCKETS 14				/* 13 bounds and +Inf */
#define METRICS_TIER_INVALID TIER_COUNT /* tier label of bad subjects */
#define METRICS_NTIERS (TIER_COUNT + 1) /* the tiers and "_invalid" */
#define METRICS_OTHER "_other"			/* plugins past the limit */
#define METRICS_INVALID "_invalid"		/* bad plugin names and ops */
#define METRICS_LAST_ERROR_MAX 256		/* longest last_error kept */

/* The counters of one (plugin, tier, op); buckets are not cumulative */
typedef struct MetricsSeries
{
	atomic_ullong count;					 /* replies sent */
	atomic_ullong errors[EC_COUNT];			 /* error replies, by code */
	atomic_ullong buckets[METRICS_NBUCKETS]; /* latencies, by bucket */
	atomic_ullong sum_ns;					 /* total latency */
} MetricsSeries;

/* One plugin's series, one per (tier, op) label pair */
typedef struct MetricsPlugin
{
	char name[PLUGIN_NAME_MAX + 1]; /* plugin label */
	MetricsSeries series[];			/* metrics_series() finds one */
} MetricsPlugin;

/* Per-tier totals, for the $SRV.STATS endpoints */
typedef struct MetricsTierTotals
{
	uint64_t requests;						 /* replies sent */
	uint64_t errors;						 /* error replies */
	uint64_t time_ns;						 /* total latency */
	char last_error[METRICS_LAST_ERROR_MAX]; /* "code: message", or "" */
} MetricsTierTotals;

extern const char *const metrics_le_ms[METRICS_NBUCKETS];
extern const char *const metrics_le_seconds[METRICS_NBUCKETS];

extern void metrics_init(int max_plugins);
extern const char *metrics_tier_name(int tier);
extern int metrics_tier_nops(int tier);
extern const char *metrics_op_name(int tier, int op);
extern int metrics_op_index(int tier, const char *op);
extern MetricsPlugin *metrics_plugin(const char *name);
extern MetricsPlugin *metrics_find(const char *name);
extern const MetricsSeries *metrics_series(const MetricsPlugin *p, int tier,
										   int op);
extern void metrics_record(MetricsPlugin *p, int tier, int op, int code,
						   int64_t ns);
extern void metrics_tier_error(int tier, const char *code, const char *msg);
extern void metrics_tier_totals(int tier, MetricsTierTotals *out);
extern int metrics_snapshot(MetricsPlugin ***out);
extern int metrics_tracked(void);
extern int metrics_max_plugins(void);

#endif
