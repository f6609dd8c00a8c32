/*
 * queue.c
 *		The bounded queue between the NATS callback and the workers.
 *
 * One ring buffer per lane (TierRun: batch, alone, long) under one mutex;
 * `capacity` bounds the requests of all lanes together.  The NATS callback
 * only pushes (it never waits: a full queue is refused at once and the
 * caller replies "unavailable"), into the lane the request's subject names.
 *
 * A worker pops from the lane whose oldest request arrived first (so
 * requests are served in arrival order across lanes), skipping a lane that
 * has reached its limit:
 *
 *	- batch (kv, row): the worker takes up to `max` requests to pipeline
 *	  them, but only its share of the lane's backlog: with 10 queued
 *	  requests and 4 idle workers a worker takes 3, so pipelining kicks in
 *	  only when requests outnumber idle workers and never leaves a worker
 *	  idle while another holds a long pipeline.
 *	- alone (sql): one request at a time, so a slow query never holds up a
 *	  request batched behind it; the others go to the other workers.
 *	- long (migrate): one request at a time, and at most `long_limit`
 *	  running at once (pool_size - 1), so a long migration never leaves the
 *	  other lanes without a connection.  The worker reports the end of each
 *	  batch with queue_done(), which frees the slot.
 *
 * Closing the queue refuses further pushes; pops still return what is
 * left (waiting for a long slot if need be), then -1.  Condition variables
 * use the monotonic clock.
 */
#include <pthread.h>
#include <stdlib.h>

#include "clock.h"
#include "queue.h"

typedef struct Lane
{
	Request **ring; /* capacity slots */
	int head;		/* index of the oldest request */
	int count;		/* requests queued in this lane */
	int running;	/* batches popped and not yet done */
	int limit;		/* most batches running at once; 0: no limit */
} Lane;

struct Queue
{
	pthread_mutex_t mutex;		/* protects everything below */
	pthread_cond_t cond;		/* wakes poppers: push, done, close */
	pthread_cond_t closing;		/* wakes sleepers: on close only */
	Lane lanes[TIER_RUN_COUNT]; /* one ring per TierRun */
	int capacity;				/* size of each ring, and of all together */
	int count;					/* requests queued in all lanes */
	int waiters;				/* workers blocked in queue_pop */
	uint64_t next_seq;			/* arrival number of the next push */
	bool closed;				/* no more pushes */
};

/* Create an empty queue; at most long_limit long requests run at once */
Queue *
queue_create(int capacity, int long_limit)
{
	Queue *q = calloc(1, sizeof(Queue));
	pthread_condattr_t attr;

	for (int i = 0; i < TIER_RUN_COUNT; i++)
		q->lanes[i].ring = calloc((size_t) capacity, sizeof(Request *));
	q->lanes[TIER_RUN_LONG].limit = long_limit < 1 ? 1 : long_limit;
	q->capacity = capacity;
	pthread_mutex_init(&q->mutex, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &attr);
	pthread_cond_init(&q->closing, &attr);
	pthread_condattr_destroy(&attr);
	return q;
}

/* Free a queue; it must be empty */
void
queue_destroy(Queue *q)
{
	pthread_cond_destroy(&q->cond);
	pthread_cond_destroy(&q->closing);
	pthread_mutex_destroy(&q->mutex);
	for (int i = 0; i < TIER_RUN_COUNT; i++)
		free(q->lanes[i].ring);
	free(q);
}

/* Add a request without waiting; refuse it if full or closed */
QueuePush
queue_push(Queue *q, Request *req)
{
	QueuePush rc = QUEUE_PUSHED;
	Lane *lane = &q->lanes[req->run];

	pthread_mutex_lock(&q->mutex);
	if (q->closed)
		rc = QUEUE_CLOSED;
	else if (q->count == q->capacity)
		rc = QUEUE_FULL;
	else
	{
		req->seq = q->next_seq++;
		lane->ring[(lane->head + lane->count) % q->capacity] = req;
		lane->count++;
		q->count++;
		if (q->waiters > 0)
			pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->mutex);
	return rc;
}

/* The lane to pop from: the oldest head among lanes under their limit */
static int
QueuePick(Queue *q)
{
	int best = -1;

	for (int i = 0; i < TIER_RUN_COUNT; i++)
	{
		Lane *lane = &q->lanes[i];

		if (lane->count == 0 ||
			(lane->limit > 0 && lane->running >= lane->limit))
			continue;
		if (best < 0 || lane->ring[lane->head]->seq <
							q->lanes[best].ring[q->lanes[best].head]->seq)
			best = i;
	}
	return best;
}

/* Wait on the queue until woken or until_ms (forever if negative) */
static void
QueueWait(Queue *q, int64_t until_ms)
{
	struct timespec ts;

	q->waiters++;
	if (until_ms < 0)
		pthread_cond_wait(&q->cond, &q->mutex);
	else
	{
		clock_mono_timespec(until_ms, &ts);
		pthread_cond_timedwait(&q->cond, &q->mutex, &ts);
	}
	q->waiters--;
}

/*
 * Take a batch from one lane: up to max requests from the batch lane, one
 * from the others.  Wait until one can be taken or until_ms passes
 * (forever if negative).  Return how many, with their lane in *lane (pass
 * it to queue_done once the batch is answered), 0 on timeout, or -1 once
 * the queue is closed and empty.
 */
int
queue_pop(Queue *q, Request **out, int max, int64_t until_ms, TierRun *lane)
{
	int n;
	int pick;
	Lane *l;

	pthread_mutex_lock(&q->mutex);
	while ((pick = QueuePick(q)) < 0 && !(q->closed && q->count == 0) &&
		   (until_ms < 0 || clock_mono_ms() < until_ms))
		QueueWait(q, until_ms);
	if (pick < 0)
	{
		n = q->closed && q->count == 0 ? -1 : 0;
		pthread_mutex_unlock(&q->mutex);
		return n;
	}
	l = &q->lanes[pick];
	n = 1;
	if (pick == TIER_RUN_BATCH)
	{
		int share = (l->count + q->waiters) / (q->waiters + 1);

		n = share < max ? share : max;
	}
	for (int i = 0; i < n; i++)
	{
		out[i] = l->ring[l->head];
		l->head = (l->head + 1) % q->capacity;
	}
	l->count -= n;
	l->running++;
	q->count -= n;
	*lane = (TierRun) pick;
	if (q->waiters > 0 && QueuePick(q) >= 0)
		pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mutex);
	return n;
}

/* Note that a batch popped from lane has been answered */
void
queue_done(Queue *q, TierRun lane)
{
	pthread_mutex_lock(&q->mutex);
	q->lanes[lane].running--;
	if (q->waiters > 0 && QueuePick(q) >= 0)
		pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mutex);
}

/* Sleep until until_ms or until closed; true if closed and empty */
bool
queue_sleep(Queue *q, int64_t until_ms)
{
	bool done;

	pthread_mutex_lock(&q->mutex);
	if (!(q->closed && q->count == 0) && clock_mono_ms() < until_ms)
	{
		struct timespec ts;

		clock_mono_timespec(until_ms, &ts);
		pthread_cond_timedwait(&q->closing, &q->mutex, &ts);
	}
	done = q->closed && q->count == 0;
	pthread_mutex_unlock(&q->mutex);
	return done;
}

/* Refuse further pushes and wake every worker */
void
queue_close(Queue *q)
{
	pthread_mutex_lock(&q->mutex);
	q->closed = true;
	pthread_cond_broadcast(&q->cond);
	pthread_cond_broadcast(&q->closing);
	pthread_mutex_unlock(&q->mutex);
}
