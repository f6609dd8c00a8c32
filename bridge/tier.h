/*
 * tier.h
 *		The storage tiers the bridge serves, and the SQL each one calls.
 */
#ifndef BRIDGE_TIER_H
#define BRIDGE_TIER_H

#include <stddef.h>

/*
 * How a tier's requests are scheduled (see queue.c and pool.c).  The
 * queue keeps one lane per value; a worker takes a batch from one lane.
 */
typedef enum TierRun
{
	TIER_RUN_BATCH, /* pipelined and group-committed with each other */
	TIER_RUN_ALONE, /* one request per batch, its own transaction */
	TIER_RUN_LONG,	/* alone, on its own deadline, and never on every
					 * connection at once */
	TIER_RUN_COUNT	/* number of lanes; not a lane */
} TierRun;

typedef struct Tier
{
	const char *name;	  /* second subject token: db.<name>.... */
	const char *form;	  /* the subject's form, shown in errors */
	int ntokens;		  /* tokens in the subject: 3 or 4 */
	const char *fixed_op; /* the only op allowed, or NULL for any */
	const char *function; /* regprocedure probed when connecting */
	const char *stmt;	  /* name of the prepared statement */
	const char *call;	  /* SQL: $1 plugin, $2 op, $3 request */
	TierRun run;		  /* how its requests are scheduled */
} Tier;

#define TIER_COUNT 5

extern const Tier tiers[TIER_COUNT];

extern const Tier *tier_lookup(const char *name, size_t len);
extern int tier_index(const Tier *tier);
extern TierRun tier_run_of_subject(const char *subject);

#endif
