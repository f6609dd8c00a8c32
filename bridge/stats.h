/*
 * stats.h
 *		Process-wide request counters.
 *
 * Plain atomic counters, bumped from NATS callback and worker threads
 * without locks.  They are logged at shutdown; issue 6 will serve them
 * (and extend them per plugin, tier and op).
 */
#ifndef BRIDGE_STATS_H
#define BRIDGE_STATS_H

#include <stdatomic.h>

#include "errcode.h"

typedef struct Stats
{
	atomic_ullong received;			/* messages delivered on db.> */
	atomic_ullong dropped_no_reply; /* requests without a reply subject */
	atomic_ullong replied_ok;		/* replies that were not errors */
	atomic_ullong replied_error[EC_COUNT]; /* error replies, by code */
	atomic_ullong reply_failed; /* replies NATS refused to publish */
	atomic_ullong batches;		/* pipelines sent to PostgreSQL */
	atomic_ullong pipelined;	/* requests sent in pipelines of two or more */
	atomic_ullong group_commits;   /* batches committed as one transaction */
	atomic_ullong group_rollbacks; /* groups rolled back and run one by one */
	atomic_ullong connects;		   /* PostgreSQL connections opened */
} Stats;

extern Stats bridge_stats;

#define STATS_ADD(field, n)                                                   \
	atomic_fetch_add_explicit(&bridge_stats.field, (n), memory_order_relaxed)
#define STATS_INC(field) STATS_ADD(field, 1)

extern void stats_log(const char *msg);

#endif
