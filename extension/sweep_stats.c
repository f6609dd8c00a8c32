/*-------------------------------------------------------------------------
 *
 * sweep_stats.c
 *	  What the TTL sweep worker did, in shared memory, for the
 *	  plugin_storage.sweeper view.
 *
 * The worker records each pass (start, end, keys deleted, tables visited,
 * tables it had to skip) and the last error; any backend reads them through
 * plugin_storage._sweeper_status().  A small struct under a spinlock: the
 * worker writes once per table and once per pass, readers copy it out.
 * Counters start at zero when the server starts.  Without
 * shared_preload_libraries there is no worker and the view is empty.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#define PS_SWEEP_ERROR_LEN 256

typedef struct PsSweepStats
{
	slock_t mutex;
	int pid;					/* the worker's pid, 0 if not running */
	char database[NAMEDATALEN]; /* the database it sweeps */
	TimestampTz started;		/* when the worker started */
	int64 passes;				/* passes completed */
	int64 keys_swept;			/* keys deleted, all passes */
	int64 errors;				/* tables skipped on an error */
	TimestampTz last_start;		/* the last completed pass ... */
	TimestampTz last_end;		/* ... */
	int64 last_keys;			/* keys it deleted */
	int last_tables;			/* tables it visited */
	TimestampTz last_error_at;	/* the last error, if any */
	char last_error_plugin[NAMEDATALEN]; /* whose table */
	char last_error[PS_SWEEP_ERROR_LEN]; /* its message */
} PsSweepStats;

static PsSweepStats *ps_sweep_stats = NULL;
static shmem_request_hook_type ps_prev_shmem_request = NULL;
static shmem_startup_hook_type ps_prev_shmem_startup = NULL;

/* Ask for the struct's space (PG 15: from shmem_request_hook) */
static void
PsSweepStatsRequest(void)
{
	if (ps_prev_shmem_request)
		ps_prev_shmem_request();
	RequestAddinShmemSpace(MAXALIGN(sizeof(PsSweepStats)));
}

/* Attach to (or create) the struct */
static void
PsSweepStatsStartup(void)
{
	bool found;

	if (ps_prev_shmem_startup)
		ps_prev_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ps_sweep_stats = ShmemInitStruct("plugin_storage sweep stats",
									 sizeof(PsSweepStats), &found);
	if (!found)
	{
		memset(ps_sweep_stats, 0, sizeof(PsSweepStats));
		SpinLockInit(&ps_sweep_stats->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Install the hooks; only when preloaded (the worker exists only then) */
void
PsSweepStatsInit(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	ps_prev_shmem_request = shmem_request_hook;
	shmem_request_hook = PsSweepStatsRequest;
	ps_prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = PsSweepStatsStartup;
}

/* The worker started (or stopped: pid 0) */
void
PsSweepStatsWorker(int pid, const char *database)
{
	if (ps_sweep_stats == NULL)
		return;
	SpinLockAcquire(&ps_sweep_stats->mutex);
	ps_sweep_stats->pid = pid;
	strlcpy(ps_sweep_stats->database, database, NAMEDATALEN);
	if (pid != 0)
		ps_sweep_stats->started = GetCurrentTimestamp();
	SpinLockRelease(&ps_sweep_stats->mutex);
}

/* A table was skipped on an error */
void
PsSweepStatsError(const char *plugin, const char *message)
{
	if (ps_sweep_stats == NULL)
		return;
	SpinLockAcquire(&ps_sweep_stats->mutex);
	ps_sweep_stats->errors++;
	ps_sweep_stats->last_error_at = GetCurrentTimestamp();
	strlcpy(ps_sweep_stats->last_error_plugin, plugin, NAMEDATALEN);
	strlcpy(ps_sweep_stats->last_error, message, PS_SWEEP_ERROR_LEN);
	SpinLockRelease(&ps_sweep_stats->mutex);
}

/* A pass ended */
void
PsSweepStatsPass(TimestampTz start, int64 keys, int tables)
{
	TimestampTz end = GetCurrentTimestamp();

	if (ps_sweep_stats == NULL)
		return;
	SpinLockAcquire(&ps_sweep_stats->mutex);
	ps_sweep_stats->passes++;
	ps_sweep_stats->keys_swept += keys;
	ps_sweep_stats->last_start = start;
	ps_sweep_stats->last_end = end;
	ps_sweep_stats->last_keys = keys;
	ps_sweep_stats->last_tables = tables;
	SpinLockRelease(&ps_sweep_stats->mutex);
}

/* A timestamp, or NULL when it never happened */
static Datum
PsTimestampOrNull(TimestampTz ts, bool *isnull)
{
	*isnull = (ts == 0);
	return TimestampTzGetDatum(ts);
}

PG_FUNCTION_INFO_V1(ps_sweeper_status);

/* plugin_storage._sweeper_status(): one row, or none without the worker */
Datum
ps_sweeper_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PsSweepStats s;
	Datum values[14];
	bool nulls[14] = {0};

	InitMaterializedSRF(fcinfo, 0);
	if (ps_sweep_stats == NULL)
		return (Datum) 0;
	SpinLockAcquire(&ps_sweep_stats->mutex);
	memcpy(&s, ps_sweep_stats, sizeof(s));
	SpinLockRelease(&ps_sweep_stats->mutex);

	values[0] = CStringGetTextDatum(s.database);
	nulls[0] = (s.database[0] == '\0');
	values[1] = Int32GetDatum(s.pid);
	nulls[1] = (s.pid == 0);
	values[2] = PsTimestampOrNull(s.started, &nulls[2]);
	values[3] = Int64GetDatum(s.passes);
	values[4] = Int64GetDatum(s.keys_swept);
	values[5] = Int64GetDatum(s.errors);
	values[6] = PsTimestampOrNull(s.last_start, &nulls[6]);
	values[7] = PsTimestampOrNull(s.last_end, &nulls[7]);
	values[8] = Float8GetDatum((double) (s.last_end - s.last_start) / 1000.0);
	nulls[8] = (s.last_end == 0);
	values[9] = Int64GetDatum(s.last_keys);
	nulls[9] = (s.last_end == 0);
	values[10] = Int32GetDatum(s.last_tables);
	nulls[10] = (s.last_end == 0);
	values[11] = PsTimestampOrNull(s.last_error_at, &nulls[11]);
	values[12] = CStringGetTextDatum(s.last_error_plugin);
	nulls[12] = (s.last_error_at == 0);
	values[13] = CStringGetTextDatum(s.last_error);
	nulls[13] = (s.last_error_at == 0);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
