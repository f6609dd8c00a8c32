/*-------------------------------------------------------------------------
 *
 * sweep.c
 *	  Delete expired KV keys: the background worker and sweep(max_keys).
 *
 * Reads never serve an expired key, so sweeping only reclaims space.  A pass
 * visits every plugin's KV table and the shared workspace table and deletes
 * expired rows in bounded batches (FOR UPDATE SKIP LOCKED, so a sweep never
 * waits on a plugin's own writes).  The worker commits each batch in its own
 * short transaction; plugin_storage.sweep() runs inside the caller's
 * transaction, one subtransaction per table.  Either way an error in one
 * plugin's data is reported as a WARNING and the pass goes on.
 *
 * The worker connects to plugin_storage.database, wakes every
 * plugin_storage.sweep_interval, and does nothing while the server is a
 * standby (it is not even started before recovery has finished).
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void ps_sweep_main(Datum arg);

/* One table to sweep: whose it is and its qualified name */
typedef struct PsSweepTarget
{
	char *owner; /* plugin name, or "(workspaces)" */
	char *table; /* quoted, qualified table name */
} PsSweepTarget;

/* The tables a pass visits: every plugin's KV table, then workspace_kv */
static List *
PsSweepTargets(void)
{
	List *targets = NIL;
	MemoryContext outer = CurrentMemoryContext;
	PsSweepTarget *t;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT name, schema::text FROM plugin_storage.plugins "
					"ORDER BY name",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the plugin registry");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple tup = SPI_tuptable->vals[i];
		MemoryContext old = MemoryContextSwitchTo(outer);

		t = palloc(sizeof(PsSweepTarget));
		t->owner = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
		t->table = quote_qualified_identifier(
			SPI_getvalue(tup, SPI_tuptable->tupdesc, 2), PS_KV_TABLE);
		targets = lappend(targets, t);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	t = palloc(sizeof(PsSweepTarget));
	t->owner = "(workspaces)";
	t->table =
		quote_qualified_identifier(PS_EXTENSION_SCHEMA, PS_WORKSPACE_TABLE);
	return lappend(targets, t);
}

/* Delete up to limit expired keys of one table; returns how many */
static int64
PsSweepBatch(const char *table, int64 limit)
{
	char *sql = psprintf("DELETE FROM %s WHERE ctid = ANY (ARRAY("
						 "SELECT ctid FROM %s WHERE expires_at <= now() "
						 "LIMIT $1 FOR UPDATE SKIP LOCKED))",
						 table, table);
	Oid argtypes[1] = {INT8OID};
	Datum args[1] = {Int64GetDatum(limit)};
	int64 n;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, false, 0) !=
		SPI_OK_DELETE)
		elog(ERROR, "sweep of %s failed", table);
	n = SPI_processed;
	SPI_finish();
	return n;
}

/* Worker mode: sweep one table, one committed transaction per batch */
static int64
PsSweepTableInTransactions(PsSweepTarget *t, int64 max_keys)
{
	MemoryContext cxt = CurrentMemoryContext;
	int64 total = 0;

	for (;;)
	{
		int64 want = Min(ps_sweep_batch, max_keys - total);
		int64 n;

		if (want <= 0)
			break;
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "plugin_storage sweep");
		n = PsSweepBatch(t->table, want);
		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);
		total += n;
		if (n < want)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	return total;
}

/* SQL mode: sweep one table inside a subtransaction of the caller's */
static int64
PsSweepTableInSubtransaction(PsSweepTarget *t, int64 max_keys)
{
	int64 total = 0;

	while (total < max_keys)
	{
		int64 want = Min(ps_sweep_batch, max_keys - total);
		int64 n = PsSweepBatch(t->table, want);

		total += n;
		if (n < want)
			break;
	}
	return total;
}

/* Sweep one table, reporting (not raising) an error in it */
static int64
PsSweepTable(PsSweepTarget *t, int64 max_keys, bool own_transactions)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	int64 n = 0;

	if (!own_transactions)
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
	}
	PG_TRY();
	{
		if (own_transactions)
			n = PsSweepTableInTransactions(t, max_keys);
		else
		{
			n = PsSweepTableInSubtransaction(t, max_keys);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (own_transactions)
			AbortCurrentTransaction();
		else
		{
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
		ereport(WARNING,
				(errmsg("plugin_storage sweep skipped plugin \"%s\": %s",
						t->owner, edata->message)));
		if (own_transactions)
			PsSweepStatsError(t->owner, edata->message);
		FreeErrorData(edata);
		n = 0;
	}
	PG_END_TRY();
	return n;
}

/* One pass over every table; returns the number of keys deleted */
int64
PsSweepAll(int64 max_keys, bool own_transactions)
{
	MemoryContext cxt = CurrentMemoryContext;
	List *targets;
	ListCell *lc;
	int64 total = 0;
	TimestampTz start = GetCurrentTimestamp();
	long secs;
	int usecs;
	int tables = 0;

	if (own_transactions)
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		MemoryContextSwitchTo(cxt);
		if (!OidIsValid(get_extension_oid("plugin_storage", true)))
		{
			PopActiveSnapshot();
			CommitTransactionCommand();
			MemoryContextSwitchTo(cxt);
			return 0;
		}
	}
	targets = PsSweepTargets();
	if (own_transactions)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);
	}
	foreach (lc, targets)
	{
		PsSweepTarget *t = lfirst(lc);
		int64 n = PsSweepTable(t, max_keys - total, own_transactions);

		tables++;

		if (n > 0)
			ereport(DEBUG1, (errmsg("plugin_storage swept " INT64_FORMAT
									" expired keys of \"%s\"",
									n, t->owner)));
		total += n;
		if (total >= max_keys)
			break;
	}
	if (own_transactions)
		PsSweepStatsPass(start, total, tables);
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	if (total > 0)
		ereport(own_transactions ? LOG : DEBUG1,
				(errmsg("plugin_storage sweep deleted " INT64_FORMAT
						" expired keys in %ld ms",
						total, secs * 1000 + usecs / 1000)));
	return total;
}

PG_FUNCTION_INFO_V1(ps_sweep);

/* plugin_storage.sweep(max_keys): one pass by hand, e.g. from pg_cron */
Datum
ps_sweep(PG_FUNCTION_ARGS)
{
	int64 max_keys = PG_ARGISNULL(0) ? PG_INT64_MAX : PG_GETARG_INT64(0);

	if (max_keys < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("max_keys must be at least 1")));
	PG_RETURN_INT64(PsSweepAll(max_keys, false));
}

/* The worker is leaving: the view shows it gone */
static void
PsSweepWorkerExit(int code, Datum arg)
{
	PsSweepStatsWorker(0, ps_sweep_database);
}

/* The worker: sweep, sleep sweep_interval, repeat until shut down */
void
ps_sweep_main(Datum arg)
{
	MemoryContext pass_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(ps_sweep_database, NULL, 0);
	pgstat_report_appname("plugin_storage sweeper");
	PsSweepStatsWorker(MyProcPid, ps_sweep_database);
	before_shmem_exit(PsSweepWorkerExit, 0);
	pass_cxt = AllocSetContextCreate(
		TopMemoryContext, "plugin_storage sweep pass", ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("plugin_storage sweeper started in database \"%s\"",
						 ps_sweep_database)));
	while (!ShutdownRequestPending)
	{
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!RecoveryInProgress())
		{
			MemoryContext old = MemoryContextSwitchTo(pass_cxt);

			PsSweepAll(PG_INT64_MAX, true);
			MemoryContextSwitchTo(old);
			MemoryContextReset(pass_cxt);
		}
		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ps_sweep_interval_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	proc_exit(0);
}

/* Register the worker (only when preloaded) */
void
PsSweepRegisterWorker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags =
		BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "plugin_storage");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "ps_sweep_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "plugin_storage sweeper");
	snprintf(worker.bgw_type, BGW_MAXLEN, "plugin_storage sweeper");
	RegisterBackgroundWorker(&worker);
}
