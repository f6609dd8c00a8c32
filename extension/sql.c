/*-------------------------------------------------------------------------
 *
 * sql.c
 *	  The SQL tier's entry points: plugin_sql() and its raising twin.
 *
 * plugin_sql(plugin, request) is what the bridge calls for
 * db.sql.<plugin>.query: it answers every request with jsonb, errors
 * included.  _plugin_sql_raise() is the same call for plugin_sql_query()
 * and other SQL callers, raising expected failures as ERRORs instead.
 *
 * A request is read and checked against the plugin's limits
 * (sql_request.c), takes a token from the plugin's rate bucket
 * (sql_rate.c), then enters the plugin's role (context.c) and runs in the
 * sandbox (sandbox.c): a subtransaction, READ ONLY unless the request says
 * allow_write, under the request's own timer, rolled back for explain.
 * The caller's statement_timeout (the bridge sets one for its whole
 * request) is switched off for the rest of the caller's statement, so that
 * the tier's timer alone governs the plugin's statement and a timeout is
 * answered "timeout" instead of cancelling the caller; PostgreSQL arms it
 * again for the caller's next statement.  Errors are then put in the
 * plugin's terms (PsSqlTranslateError), and a request that ran at
 * least plugin_storage.sql_log_min_duration is logged with the plugin's
 * name and its query (never the parameters' values).
 *
 *-------------------------------------------------------------------------
 */
#include "sql.h"

#include "fmgr.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/timeout.h"

/* One request on its way through the sandbox */
typedef struct PsSqlCall
{
	PsSqlRequest *req; /* the request */
	PsSqlStatement st; /* its statement, as far as it got */
	PsReply reply;	   /* the reply being built */
	Jsonb *result;	   /* the finished reply */
} PsSqlCall;

/* Rewrite, check, bind and run the request's statement, in the sandbox */
static bool
PsSqlSandboxed(void *arg, PsError *err)
{
	PsSqlCall *call = arg;
	PsSqlStatement *st = &call->st;
	MemoryContext outer = CurrentMemoryContext;
	ErrorContextCallback *callers = error_context_stack;
	bool ok;

	/*
	 * Errors end up in the reply, so the caller's error context callbacks
	 * have nothing to add; and a SQL function's (plugin_sql_query, or a
	 * DBA's wrapper) would turn the error's position in the plugin's query
	 * into an internal one.  PsSandboxRun's PG_TRY restores them on error.
	 */
	error_context_stack = NULL;
	ok = PsSqlRewrite(st, err) && PsSqlCheckStatement(st, err);
	if (!ok)
	{
		error_context_stack = callers;
		return false;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(outer);
	PsReplyBegin(&call->reply);
	ok = PsSqlBindParams(st, call->req->params, err) &&
		 (call->req->explain ? PsSqlRunExplain(st, &call->reply, err)
							 : PsSqlRunRows(st, call->req, &call->reply, err));
	if (ok)
		call->result = PsReplyFinish(&call->reply);
	SPI_finish();
	error_context_stack = callers;
	return ok;
}

/* Did an input function refuse a value (data exception, constraint)? */
static bool
PsSqlValueRefused(const char *sqlstate)
{
	return strncmp(sqlstate, "22", 2) == 0 ||
		   strncmp(sqlstate, "23", 2) == 0 || strcmp(sqlstate, "42804") == 0;
}

/*
 * PostgreSQL's message with the placeholders' names for the $n they became,
 * where it names a parameter ("parameter $1") or a syntax error's token
 * (at or near "$1").
 */
static char *
PsSqlNameParams(const PsSqlStatement *st, const char *msg)
{
	static const char near[] = "syntax error at or near \"";
	static const char param[] = "parameter ";
	StringInfoData buf;
	const char *p = msg;

	initStringInfo(&buf);
	while (*p != '\0')
	{
		int at = p - msg;

		if (*p == '$' && isdigit((unsigned char) p[1]) &&
			((at == sizeof(near) - 1 &&
			  strncmp(msg, near, sizeof(near) - 1) == 0) ||
			 (at >= (int) sizeof(param) - 1 &&
			  strncmp(p - (sizeof(param) - 1), param, sizeof(param) - 1) ==
				  0)))
		{
			char *end;
			long n = strtol(p + 1, &end, 10);

			if (n >= 1 && n <= st->nparams)
			{
				appendStringInfo(&buf, ":%s", st->names[n - 1]);
				p = end;
				continue;
			}
		}
		appendStringInfoChar(&buf, *p++);
	}
	return buf.data;
}

/*
 * Put a failed request's error in the plugin's terms: name the parameter a
 * value was refused for, point positions at the query as written and name
 * placeholders instead of $n, and tell a write without allow_write how to
 * ask for one.
 */
static void
PsSqlTranslateError(PsSqlCall *call, PsError *err)
{
	PsSqlStatement *st = &call->st;

	if (st->binding > 0 && err->sqlstate != NULL &&
		PsSqlValueRefused(err->sqlstate))
	{
		int i = st->binding - 1;

		err->code = "type_mismatch";
		err->message = psprintf("parameter \"%s\" (%s): %s", st->names[i],
								format_type_be(st->types[i]), err->message);
		err->position = 0;
	}
	else if (st->sql != NULL)
	{
		if (err->position > 0)
			err->position = PsSqlOriginalPosition(st, err->position);
		if (st->nparams > 0)
			err->message = PsSqlNameParams(st, err->message);
	}
	if (err->sqlstate != NULL && strcmp(err->sqlstate, "25006") == 0 &&
		!call->req->allow_write)
	{
		/* the sandbox already answers 25006 as forbidden: say how to write */
		err->message = psprintf("%s: the request is read-only, set "
								"\"allow_write\": true to write",
								err->message);
		err->hint = pstrdup("Add \"allow_write\": true to requests that "
							"insert, update or delete.");
	}
}

/* Log a request that ran at least plugin_storage.sql_log_min_duration */
static void
PsSqlLogSlow(PsPlugin *p, const char *query, double ms, const PsError *err)
{
	if (ps_sql_log_min_duration_ms < 0 || ms < ps_sql_log_min_duration_ms)
		return;
	ereport(LOG,
			(errmsg("slow SQL request of plugin \"%s\": %s", p->name, query),
			 errdetail_internal("Duration: %.3f ms, outcome: %s.", ms,
								err ? err->code : "ok"),
			 errhidestmt(true), errhidecontext(true)));
}

/* Validate and run one SQL request; NULL with err set on failure */
static Jsonb *
PsSqlExecute(const char *plugin, Jsonb *request, PsError *err)
{
	PsPlugin *p = PsFindRequestPlugin(plugin, err);
	PsSqlRequest req;
	PsSqlCall call;
	PsSandboxOpts opts;
	PsSavedContext saved;
	instr_time start;
	instr_time elapsed;
	bool ok;

	if (p == NULL || !PsSqlParseRequest(p, request, &req, err) ||
		!PsSqlRateAcquire(p, &req.limits, err))
		return NULL;
	memset(&call, 0, sizeof(call));
	call.req = &req;
	call.st.query = req.query;
	opts.read_only = !req.allow_write;
	opts.timeout_ms = req.limits.timeout_ms;
	opts.keep = !req.explain;

	INSTR_TIME_SET_CURRENT(start);
	PsEnterPlugin(p, &saved);
	if (get_timeout_active(STATEMENT_TIMEOUT))
		disable_timeout(STATEMENT_TIMEOUT, false);
	ok = PsSandboxRun(PsSqlSandboxed, &call, &opts, err);
	PsLeavePlugin(&saved);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);

	if (!ok)
		PsSqlTranslateError(&call, err);
	PsSqlLogSlow(p, req.query, INSTR_TIME_GET_MILLISEC(elapsed),
				 ok ? NULL : err);
	return ok ? call.result : NULL;
}

/* Read the (plugin, request) arguments shared by both entry points */
static Jsonb *
PsSqlCallArgs(FunctionCallInfo fcinfo, PsError *err)
{
	if (PG_ARGISNULL(0))
	{
		PsSetError(err, "invalid_request", "plugin must not be null");
		return NULL;
	}
	return PsSqlExecute(text_to_cstring(PG_GETARG_TEXT_PP(0)),
						PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1), err);
}

PG_FUNCTION_INFO_V1(plugin_sql);

/* plugin_sql(plugin, request): the wire reply, errors included */
Datum
plugin_sql(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	Jsonb *result = PsSqlCallArgs(fcinfo, &err);

	PG_RETURN_JSONB_P(result ? result : PsErrorJsonb(&err));
}

PG_FUNCTION_INFO_V1(plugin_sql_raise);

/* _plugin_sql_raise(plugin, request): the reply, or an ERROR */
Datum
plugin_sql_raise(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	Jsonb *result = PsSqlCallArgs(fcinfo, &err);

	if (result == NULL)
		PsRaiseError(&err);
	PG_RETURN_JSONB_P(result);
}
