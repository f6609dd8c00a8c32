/*
 * stats.c
 *		Process-wide request counters.
 *
 * The counters live in one zero-initialised struct; stats_log() writes a
 * snapshot as one log line, with the error counts keyed by code.
 */
#include <stdio.h>

#include "log.h"
#include "stats.h"

Stats bridge_stats;

/* Log a snapshot of every counter */
void
stats_log(const char *msg)
{
	LogField fields[EC_COUNT + 10];
	char keys[EC_COUNT][40];
	int n = 0;

#define STATS_FIELD(name)                                                     \
	fields[n++] = LF_I(#name, atomic_load(&bridge_stats.name))
	STATS_FIELD(received);
	STATS_FIELD(dropped_no_reply);
	STATS_FIELD(replied_ok);
	STATS_FIELD(reply_failed);
	STATS_FIELD(batches);
	STATS_FIELD(pipelined);
	STATS_FIELD(group_commits);
	STATS_FIELD(group_rollbacks);
	STATS_FIELD(connects);
#undef STATS_FIELD
	for (int i = 0; i < EC_COUNT; i++)
	{
		snprintf(keys[i], sizeof(keys[i]), "error_%s",
				 errcode_name((ErrCode) i));
		fields[n++] =
			LF_I(keys[i], atomic_load(&bridge_stats.replied_error[i]));
	}
	fields[n] = LF_END_;
	log_write(LL_INFO, msg, fields);
}
