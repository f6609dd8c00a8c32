/*
 * request.h
 *		One request in flight: from the NATS callback to its single reply.
 */
#ifndef BRIDGE_REQUEST_H
#define BRIDGE_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include <nats/nats.h>

#include "subject.h"

typedef struct Request
{
	natsMsg *msg;		 /* owns subject, reply subject and payload */
	int64_t received_ms; /* monotonic time the callback saw it */
	int64_t received_ns; /* the same in nanoseconds, for metrics */
	int64_t deadline_ms; /* when it turns into a timeout */
	Subject subject;	 /* tier, plugin and op, once validated */
	int slow_ms;		 /* log the reply as slow past this; 0 never */
	const char *payload; /* text bound as jsonb: the data, or "{}" */
	uint64_t lock_order; /* hash of the row it names, 0 if none (pool.c) */
	TierRun run;		 /* its lane in the queue, from the subject */
	uint64_t seq;		 /* arrival order in the queue, across lanes */
	bool replied;		 /* set by the one reply it gets */
} Request;

#endif
