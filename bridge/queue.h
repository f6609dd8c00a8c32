/*
 * queue.h
 *		The bounded queue between the NATS callback and the workers.
 */
#ifndef BRIDGE_QUEUE_H
#define BRIDGE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "request.h"

typedef struct Queue Queue;

typedef enum QueuePush
{
	QUEUE_PUSHED,
	QUEUE_FULL,
	QUEUE_CLOSED
} QueuePush;

extern Queue *queue_create(int capacity, int long_limit);
extern void queue_destroy(Queue *q);
extern QueuePush queue_push(Queue *q, Request *req);
extern int queue_pop(Queue *q, Request **out, int max, int64_t until_ms,
					 TierRun *lane);
extern void queue_done(Queue *q, TierRun lane);
extern bool queue_sleep(Queue *q, int64_t until_ms);
extern void queue_close(Queue *q);

#endif
