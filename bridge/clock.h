/*
 * clock.h
 *		Millisecond clocks shared by the bridge's files.
 *
 * Deadlines and backoff use the monotonic clock, so a change of the wall
 * clock never expires a request early or stalls a reconnect.
 */
#ifndef BRIDGE_CLOCK_H
#define BRIDGE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Return the monotonic clock in milliseconds */
static inline int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Return the monotonic clock in nanoseconds, for latency metrics */
static inline int64_t
clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Fill a timespec for pthread_cond_timedwait on the monotonic clock */
static inline void
clock_mono_timespec(int64_t at_ms, struct timespec *ts)
{
	ts->tv_sec = at_ms / 1000;
	ts->tv_nsec = (at_ms % 1000) * 1000000;
}

#endif
