/*-------------------------------------------------------------------------
 *
 * sandbox.c
 *	  Run SQL written by a plugin (the SQL tier, migrations) safely.
 *
 * The plugin's role and the security-restricted context (context.c) do most
 * of the work: privileges keep the plugin out of other schemas and
 * superuser-only functions, and SECURITY_RESTRICTED_OPERATION refuses SET
 * ROLE, SET SESSION AUTHORIZATION (and their set_config forms), temporary
 * tables, LISTEN and cursors WITH HOLD.  This file closes the gaps that
 * remain, each named where it is closed:
 *
 *	- PsSandboxRun runs the plugin's work in a subtransaction, so that a
 *	  failure is rolled back and answered as {"error":..} instead of aborting
 *	  the caller's transaction (the bridge may have batched other requests
 *	  with it), under a GUC nest level that is undone at the end, so that
 *	  session-level settings (set_config(.., false), SET in a migration)
 *	  never outlive the request on a connection that serves other plugins.
 *	- A ProcessUtility hook refuses, while a plugin's request runs, the
 *	  utility commands that the restricted context and the plugin's
 *	  privileges still let through (see PsSandboxCheckUtility).
 *	- A per-request timer (a USER_TIMEOUT) cancels the plugin's statement
 *	  after its own timeout, independent of the caller's statement_timeout.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/latch.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"

static ProcessUtility_hook_type ps_prev_process_utility = NULL;

/* The request timer, registered on first use */
static TimeoutId ps_timeout_id = MAX_TIMEOUTS;
static volatile sig_atomic_t ps_timed_out = false;

/* Refuse a utility command in plugin code: "forbidden" on the wire */
static void
PsSandboxRefuse(const char *what, const char *why)
{
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("%s is not allowed in plugin SQL", what),
					errdetail("%s", why)));
}

/* Is the relation named by rv (if it exists) outside the plugin's schema? */
static bool
PsOutsidePluginSchema(RangeVar *rv)
{
	Oid relid = RangeVarGetRelid(rv, NoLock, true);

	return OidIsValid(relid) &&
		   get_rel_namespace(relid) != ps_current_plugin->nspid;
}

/*
 * Refuse the utility commands that the restricted context leaves open to a
 * plugin.  Everything not listed here is already refused by privileges (for
 * example CREATE EXTENSION without CREATE on the database, ALTER SYSTEM,
 * COPY .. TO PROGRAM, writing into another schema) or by the restricted
 * context (SET ROLE, temporary tables, LISTEN).
 */
static void
PsSandboxCheckUtility(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_GrantStmt:
		case T_AlterDefaultPrivilegesStmt:
			/* Gap: an owner may grant its objects to anyone, which would let
			 * another plugin's role (or PUBLIC) into this plugin's data. */
			PsSandboxRefuse("GRANT and REVOKE",
							"A plugin's objects stay private to its role.");
			break;
		case T_GrantRoleStmt:
		case T_CreateRoleStmt:
		case T_AlterRoleStmt:
		case T_AlterRoleSetStmt:
		case T_DropRoleStmt:
			/* Gap: a role may change its own settings (ALTER ROLE self SET).
			 */
			PsSandboxRefuse(
				"changing roles",
				"Roles are managed by the database administrator.");
			break;
		case T_AlterOwnerStmt:
		case T_ReassignOwnedStmt:
			/* Gap: every plugin role is a member of plugin_storage_plugin, and
			 * ownership may be given to a role one is a member of. */
			PsSandboxRefuse("changing owners",
							"A plugin's objects stay owned by its role.");
			break;
		case T_AlterTableStmt:
		{
			ListCell *lc;

			/* ALTER TABLE .. OWNER TO: the same gap as ALTER .. OWNER */
			foreach (lc, ((AlterTableStmt *) stmt)->cmds)
				if (lfirst_node(AlterTableCmd, lc)->subtype == AT_ChangeOwner)
					PsSandboxRefuse(
						"changing owners",
						"A plugin's objects stay owned by its role.");
			break;
		}
		case T_CreateExtensionStmt:
		case T_AlterExtensionStmt:
		case T_AlterExtensionContentsStmt:
			/* Gap: where CREATE on the database was granted to PUBLIC, a
			 * plugin could install trusted extensions, whose scripts run as
			 * superuser. */
			PsSandboxRefuse("managing extensions",
							"Extensions are installed by the database "
							"administrator.");
			break;
		case T_LoadStmt:
			/* Gap: anyone may LOAD libraries from $libdir/plugins. */
			PsSandboxRefuse("LOAD",
							"Libraries are loaded by the administrator.");
			break;
		case T_PrepareStmt:
		case T_ExecuteStmt:
		case T_DeallocateStmt:
			/* Gap: prepared statements belong to the session, which the bridge
			 * shares between plugins; DEALLOCATE ALL would drop its own. */
			PsSandboxRefuse("PREPARE, EXECUTE and DEALLOCATE",
							"The session's prepared statements belong to the "
							"bridge.");
			break;
		case T_LockStmt:
		{
			ListCell *lc;

			/* Gap: plugins hold DML privileges on the shared workspace_kv
			 * table, which LOCK TABLE accepts; lock only your own tables. */
			foreach (lc, ((LockStmt *) stmt)->relations)
				if (PsOutsidePluginSchema(lfirst_node(RangeVar, lc)))
					PsSandboxRefuse(
						"LOCK on a table outside the plugin's schema",
						"Other tables are shared with other plugins.");
			break;
		}
		default:
			break;
	}
}

/* The hook: check plugin code, then run the command as usual */
static void
PsProcessUtility(PlannedStmt *pstmt, const char *queryString,
				 bool readOnlyTree, ProcessUtilityContext context,
				 ParamListInfo params, QueryEnvironment *queryEnv,
				 DestReceiver *dest, QueryCompletion *qc)
{
	if (ps_current_plugin != NULL)
		PsSandboxCheckUtility(pstmt->utilityStmt);
	if (ps_prev_process_utility)
		ps_prev_process_utility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/* The request timer fired: cancel the running statement */
static void
PsTimeoutHandler(void)
{
	ps_timed_out = true;
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}

/* Arm the request timer for ms milliseconds (0: no timer) */
static void
PsTimerStart(int ms)
{
	ps_timed_out = false;
	if (ms <= 0)
		return;
	if (ps_timeout_id == MAX_TIMEOUTS)
		ps_timeout_id = RegisterTimeout(USER_TIMEOUT, PsTimeoutHandler);
	enable_timeout_after(ps_timeout_id, ms);
}

/*
 * Disarm the timer.  If it fired after the work was done, withdraw the
 * cancel it asked for, so that it cannot hit the caller's next statement.
 */
static void
PsTimerStop(bool work_done)
{
	if (ps_timeout_id != MAX_TIMEOUTS)
		disable_timeout(ps_timeout_id, false);
	if (ps_timed_out && work_done)
		QueryCancelPending = false;
}

/* The wire code for a PostgreSQL error raised by plugin SQL */
static const char *
PsCodeForSqlstate(int sqlerrcode)
{
	switch (sqlerrcode)
	{
		case ERRCODE_INSUFFICIENT_PRIVILEGE:
		case ERRCODE_READ_ONLY_SQL_TRANSACTION:
		case ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION:
		case ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED: /* dblink */
			return "forbidden";
		case ERRCODE_QUERY_CANCELED:
			return "timeout";
		case ERRCODE_UNDEFINED_TABLE:
		case ERRCODE_UNDEFINED_COLUMN:
		case ERRCODE_UNDEFINED_FUNCTION:
		case ERRCODE_UNDEFINED_OBJECT:
		case ERRCODE_UNDEFINED_SCHEMA:
			return "not_found";
		case ERRCODE_DATATYPE_MISMATCH:
		case ERRCODE_INVALID_TEXT_REPRESENTATION:
		case ERRCODE_INVALID_DATETIME_FORMAT:
		case ERRCODE_DATETIME_FIELD_OVERFLOW:
		case ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE:
		case ERRCODE_INVALID_BINARY_REPRESENTATION:
		case ERRCODE_CANNOT_COERCE:
		case ERRCODE_STRING_DATA_RIGHT_TRUNCATION:
			return "type_mismatch";
		case ERRCODE_T_R_SERIALIZATION_FAILURE:
		case ERRCODE_T_R_DEADLOCK_DETECTED:
		case ERRCODE_LOCK_NOT_AVAILABLE:
		case ERRCODE_DUPLICATE_TABLE:
		case ERRCODE_DUPLICATE_OBJECT:
		case ERRCODE_DUPLICATE_COLUMN:
		case ERRCODE_DUPLICATE_FUNCTION:
			return "conflict";
		default:
			break;
	}
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION: /* class 23 */
			return "conflict";
		case ERRCODE_PROGRAM_LIMIT_EXCEEDED: /* class 54 */
		case ERRCODE_INSUFFICIENT_RESOURCES: /* class 53 */
			return "too_large";
		case ERRCODE_CONNECTION_EXCEPTION:	/* class 08 */
		case ERRCODE_OPERATOR_INTERVENTION: /* class 57 */
			return "unavailable";
		case ERRCODE_INTERNAL_ERROR: /* class XX */
			return "internal";
		default:
			/* syntax, data exceptions, feature not supported, ... */
			return "invalid_request";
	}
}

/* Turn a caught PostgreSQL error into a PsError, keeping its details */
void
PsErrorFromEdata(const ErrorData *edata, PsError *err)
{
	PsSetError(err, PsCodeForSqlstate(edata->sqlerrcode), "%s",
			   edata->message ? edata->message : "unknown error");
	err->sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
	err->detail = edata->detail ? pstrdup(edata->detail) : NULL;
	err->hint = edata->hint ? pstrdup(edata->hint) : NULL;
	err->position = edata->cursorpos;
}

/*
 * Run fn(arg) for the running plugin (the caller has entered it with
 * PsEnterPlugin) in a subtransaction:
 *	- read_only: in a READ ONLY subtransaction;
 *	- timeout_ms: cancelled after that long (code "timeout");
 *	- keep: release the subtransaction (true) or roll it back (false, for
 *	  dry runs: the work is done and undone).
 * Settings changed by the plugin's SQL are undone in either case.  Returns
 * fn's result, or false with err set if fn reported an error itself or
 * raised one (rolled back; PostgreSQL's message, SQLSTATE, detail, hint and
 * position kept).  fn must SPI_connect/SPI_finish itself.
 */
bool
PsSandboxRun(PsSandboxFn fn, void *arg, const PsSandboxOpts *opts,
			 PsError *err)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = false;
	volatile bool done = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int nest = NewGUCNestLevel();

		if (opts->read_only)
			(void) set_config_option("transaction_read_only", "on",
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_LOCAL, true, 0, false);
		PsTimerStart(opts->timeout_ms);
		ok = fn(arg, err);
		done = true;
		PsTimerStop(true);
		AtEOXact_GUC(false, nest);
		if (ok && opts->keep)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData *edata;
		bool timed_out = ps_timed_out;

		PsTimerStop(done);
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		PsErrorFromEdata(edata, err);
		if (timed_out && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		{
			PsSetError(err, "timeout",
					   "canceled after the plugin's timeout of %d ms",
					   opts->timeout_ms);
			err->timer_fired = true;
		}
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Install the ProcessUtility hook (every backend that loads the library) */
void
PsSandboxInit(void)
{
	ps_prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = PsProcessUtility;
}
