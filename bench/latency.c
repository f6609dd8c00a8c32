/*
 * latency.c
 *		Latency samples: record per thread, merge, and read percentiles.
 *
 * Each worker appends the latency of every measured request to its own
 * growable array, so recording takes no lock. At the end the arrays are
 * merged, sorted once, and percentiles are read by the nearest-rank rule.
 * A 5-second run at tens of thousands of requests per second is a few
 * megabytes, so exact samples are cheaper to reason about than a histogram.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

/* Grow the array to hold at least want samples, or exit */
static void
SamplesReserve(lg_samples *s, size_t want)
{
	size_t cap = s->cap ? s->cap : 4096;
	int64_t *ns;

	if (want <= s->cap)
		return;
	while (cap < want)
		cap *= 2;
	ns = realloc(s->ns, cap * sizeof(*ns));
	if (ns == NULL)
	{
		fprintf(stderr, "loadgen: out of memory for latency samples\n");
		exit(1);
	}
	s->ns = ns;
	s->cap = cap;
}

/* Record one latency */
void
lg_samples_add(lg_samples *s, int64_t ns)
{
	SamplesReserve(s, s->count + 1);
	s->ns[s->count++] = ns;
}

/* Append every sample of from to into */
void
lg_samples_merge(lg_samples *into, const lg_samples *from)
{
	if (from->count == 0)
		return;
	SamplesReserve(into, into->count + from->count);
	memcpy(into->ns + into->count, from->ns, from->count * sizeof(int64_t));
	into->count += from->count;
}

/* Order two samples for qsort */
static int
CompareNs(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a;
	int64_t y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/* Sort the samples, which lg_samples_percentile_ms needs */
void
lg_samples_sort(lg_samples *s)
{
	if (s->count > 1)
		qsort(s->ns, s->count, sizeof(int64_t), CompareNs);
}

/* Return the p-th percentile (0 < p <= 100) of sorted samples, in ms */
double
lg_samples_percentile_ms(const lg_samples *s, double p)
{
	size_t rank;

	if (s->count == 0)
		return 0.0;
	rank = (size_t) ceil(p / 100.0 * (double) s->count);
	if (rank < 1)
		rank = 1;
	if (rank > s->count)
		rank = s->count;
	return (double) s->ns[rank - 1] / 1e6;
}

/* Release the samples */
void
lg_samples_free(lg_samples *s)
{
	free(s->ns);
	s->ns = NULL;
	s->count = s->cap = 0;
}
