/*
 * queue.c
 *		The bounded queue between the NATS callback and the workers.
 *
 * A ring buffer under one mutex.  The NATS callback only pushes (it never
 * waits: a full queue is refused at once and the caller replies
 * "unavailable").  Workers pop up to `max` requests at a time to pipeline
 * them, but take only their share of the backlog: with 10 queued requests
 * and 4 idle workers a worker takes 3, so pipelining kicks in only when
 * requests outnumber idle workers and never leaves a worker idle while
 * another holds a long pipeline.
 *
 * Closing the queue refuses further pushes; pops still return what is
 * left, then -1.  Condition variables use the monotonic clock.
 */
#include <pthread.h>
#include <stdlib.h>

#include "clock.h"
#include "queue.h"

struct Queue
{
	pthread_mutex_t mutex;	/* protects everything below */
	pthread_cond_t cond;	/* wakes poppers: on push and on close */
	pthread_cond_t closing; /* wakes sleepers: on close only */
	Request **ring;			/* capacity slots */
	int capacity;			/* size of ring */
	int head;				/* index of the oldest request */
	int count;				/* requests queued */
	int waiters;			/* workers blocked in queue_pop */
	bool closed;			/* no more pushes */
};

/* Create an empty queue */
Queue *
queue_create(int capacity)
{
	Queue *q = calloc(1, sizeof(Queue));
	pthread_condattr_t attr;

	q->ring = calloc((size_t) capacity, sizeof(Request *));
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
	free(q->ring);
	free(q);
}

/* Add a request without waiting; refuse it if full or closed */
QueuePush
queue_push(Queue *q, Request *req)
{
	QueuePush rc = QUEUE_PUSHED;

	pthread_mutex_lock(&q->mutex);
	if (q->closed)
		rc = QUEUE_CLOSED;
	else if (q->count == q->capacity)
		rc = QUEUE_FULL;
	else
	{
		q->ring[(q->head + q->count) % q->capacity] = req;
		q->count++;
		if (q->waiters > 0)
			pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->mutex);
	return rc;
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
 * Take up to max requests, waiting until some arrive or until_ms passes
 * (forever if negative).  Return how many, 0 on timeout, or -1 once the
 * queue is closed and empty.
 */
int
queue_pop(Queue *q, Request **out, int max, int64_t until_ms)
{
	int n;
	int share;

	pthread_mutex_lock(&q->mutex);
	while (q->count == 0 && !q->closed &&
		   (until_ms < 0 || clock_mono_ms() < until_ms))
		QueueWait(q, until_ms);
	if (q->count == 0)
	{
		n = q->closed ? -1 : 0;
		pthread_mutex_unlock(&q->mutex);
		return n;
	}
	share = (q->count + q->waiters) / (q->waiters + 1);
	n = share < max ? share : max;
	for (int i = 0; i < n; i++)
	{
		out[i] = q->ring[q->head];
		q->head = (q->head + 1) % q->capacity;
	}
	q->count -= n;
	if (q->count > 0 && q->waiters > 0)
		pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mutex);
	return n;
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
