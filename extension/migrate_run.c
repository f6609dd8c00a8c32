/*-------------------------------------------------------------------------
 *
 * migrate_run.c
 *	  Run migration scripts under the plugin's role, all or nothing.
 *
 * All the scripts of a request run in one PsSandboxRun subtransaction
 * (sandbox.c): kept on success unless it is a dry run, rolled back as a
 * whole on any failure, cancelled by plugin_storage.migrate_timeout.
 * Inside it the scripts' statements run one at a time through SPI under
 * the plugin's role, in its security-restricted context, with the search
 * path pinned to the plugin's schema (PsEnterPlugin), so that a migration
 * reaches only what the plugin's role may reach, and the sandbox's utility
 * hook applies.  The statement running is remembered, so that an error
 * names its version and statement, with PostgreSQL's position counted in
 * that statement (errors raised inside functions it calls have none).
 *
 * The history is written after the subtransaction (so in the caller's
 * transaction, all or nothing with it), outside the plugin's role and
 * with the caller's settings back: as the caller, which the plugin's SQL
 * cannot be.  A dry run writes nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "migrate.h"

#include "portability/instr_time.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* One run: its scripts, and where it is */
typedef struct PsRunState
{
	PsPlugin *plugin;	   /* whose migrations */
	PsMigrateRequest *req; /* the request (applied_by) */
	PsScript *scripts;	   /* the scripts to run, in order */
	int n;				   /* their number */
	PsMigration **todo;	   /* apply: the migrations, for the history */
	double *durations;	   /* out: ms per script */
	TimestampTz *finished; /* out: when each script finished */
	bool running;		   /* inside PsRunAll: cur, stmt are valid */
	int cur;			   /* the script running */
	int stmt;			   /* its statement running */
	int position;		   /* where in it an error is, or 0 */
	MemoryContext cxt;	   /* the caller's memory context */
} PsRunState;

/*
 * Run one statement through SPI.  SPI's error callback moves the position
 * of an error in the statement to the "internal" position (the statement
 * is internal to the calling query); keep it, if the error is about this
 * very statement, to report it as the position in the statement.
 */
static int
PsRunStatement(PsRunState *st, const char *sql)
{
	volatile int rc = 0;

	PG_TRY();
	{
		rc = SPI_execute(sql, false, 0);
	}
	PG_CATCH();
	{
		MemoryContext old = MemoryContextSwitchTo(st->cxt);
		ErrorData *edata = CopyErrorData();

		MemoryContextSwitchTo(old);
		if (edata->cursorpos == 0 && edata->internalquery != NULL &&
			strcmp(edata->internalquery, sql) == 0)
			st->position = edata->internalpos;
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return rc;
}

/* Run one script's statements; false with err set if SPI refuses one */
static bool
PsRunScript(PsRunState *st, PsError *err)
{
	PsScript *s = &st->scripts[st->cur];

	for (st->stmt = 0; st->stmt < s->nstmts; st->stmt++)
	{
		int rc = PsRunStatement(st, s->stmts[st->stmt]);

		if (rc < 0)
		{
			PsSetError(err, "invalid_request",
					   "this statement cannot run in a migration (%s)",
					   SPI_result_code_string(rc));
			return false;
		}
	}
	return true;
}

/* Run every script as the plugin, timing each */
static bool
PsRunAll(PsRunState *st, PsError *err)
{
	PsSavedContext saved;
	bool ok = true;

	PsEnterPlugin(st->plugin, &saved);
	st->running = true;
	for (st->cur = 0; ok && st->cur < st->n; st->cur++)
	{
		instr_time start;
		instr_time elapsed;

		INSTR_TIME_SET_CURRENT(start);
		ok = PsRunScript(st, err);
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		st->durations[st->cur] = INSTR_TIME_GET_MILLISEC(elapsed);
		st->finished[st->cur] = GetCurrentTimestamp();
		if (!ok)
			break;
	}
	st->running = false;
	PsLeavePlugin(&saved);
	return ok;
}

/* PsSandboxRun callback: run the scripts */
static bool
PsRunFn(void *arg, PsError *err)
{
	PsRunState *st = arg;
	MemoryContext outer = CurrentMemoryContext;
	bool ok;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(outer);
	ok = PsRunAll(st, err);
	SPI_finish();
	return ok;
}

/*
 * Record what ran in the history, as the caller, once the sandbox has
 * undone the settings the scripts changed (a migration could otherwise
 * leave a search_path that puts its own operators in the caller's SQL).
 */
static void
PsRecord(PsRunState *st)
{
	MemoryContext outer = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(outer);
	for (int i = 0; i < st->n; i++)
	{
		if (st->todo)
			PsHistoryInsert(st->plugin, st->todo[i], st->req->applied_by,
							st->finished[i], st->durations[i]);
		else
			PsHistoryDelete(st->plugin, st->scripts[i].version);
	}
	SPI_finish();
}

/* Run st in the sandbox; on failure name the version and statement */
static bool
PsRun(PsRunState *st, PsError *err)
{
	PsSandboxOpts opts;

	opts.read_only = false;
	opts.timeout_ms = ps_migrate_timeout_ms;
	opts.keep = !st->req->dry_run;
	st->running = false;
	st->position = 0;
	st->cxt = CurrentMemoryContext;
	st->finished = palloc0(sizeof(TimestampTz) * Max(st->n, 1));
	if (st->durations == NULL)
		st->durations = palloc0(sizeof(double) * Max(st->n, 1));
	if (PsSandboxRun(PsRunFn, st, &opts, err))
	{
		if (!st->req->dry_run)
			PsRecord(st);
		return true;
	}
	if (st->running && err->version == NULL)
	{
		PsScript *s = &st->scripts[st->cur];

		err->version = pstrdup(s->version);
		if (st->stmt < s->nstmts)
			err->statement = s->stmts[st->stmt];
		if (err->position == 0)
			err->position = st->position;
	}
	if (err->timer_fired)
		PsSetError(err, "timeout",
				   "migrations of plugin \"%s\" canceled after "
				   "plugin_storage.migrate_timeout (%d ms)",
				   st->plugin->name, ps_migrate_timeout_ms);
	return false;
}

/*
 * Apply: run the up scripts of todo (n, in version order) and record them.
 * durations (n) receives each script's time.  All or nothing.
 */
bool
PsMigrateRunApply(PsPlugin *plugin, PsMigrateRequest *req, PsMigration **todo,
				  PsScript *scripts, int n, double *durations, PsError *err)
{
	PsRunState st = {0};

	st.plugin = plugin;
	st.req = req;
	st.scripts = scripts;
	st.n = n;
	st.todo = todo;
	st.durations = durations;
	return PsRun(&st, err);
}

/* Rollback: run the down scripts (newest first) and forget them */
bool
PsMigrateRunRollback(PsPlugin *plugin, PsMigrateRequest *req,
					 PsScript *scripts, int n, PsError *err)
{
	PsRunState st = {0};

	st.plugin = plugin;
	st.req = req;
	st.scripts = scripts;
	st.n = n;
	return PsRun(&st, err);
}
