/*-------------------------------------------------------------------------
 *
 * row.c
 *	  The named row tier's entry points: plugin_row() and its raising twin.
 *
 * plugin_row(plugin, op, request) is what the bridge calls for
 * db.row.<plugin>.<op>: it answers every request with jsonb, errors
 * included.  _plugin_row_raise() is the same call for the typed SQL
 * functions, raising expected failures as ERRORs instead.
 *
 * A request goes through three steps.  Its fields are read (row_request.c)
 * and its table opened and locked in the mode the statement will take
 * (row_catalog.c).  The operation then compiles it, checking every name
 * against the catalog and every value against its column's type, into a
 * statement with bound parameters; every expected failure is found here,
 * before anything runs.  Only then does the request enter the plugin's
 * role (context.c) and run, through SPI, and answer with JSON built in the
 * caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "fmgr.h"
#include "utils/builtins.h"

/* What one operation does: compile, then run */
typedef struct PsRowHandler
{
	bool (*prepare)(PsRowCtx *c); /* validate and compile */
	Jsonb *(*run)(PsRowCtx *c);	  /* run, inside the plugin's role */
	bool opens_table;			  /* row.c opens the table first */
	LOCKMODE lock;				  /* in this mode */
} PsRowHandler;

/* Handlers, indexed by PsRowOp */
static const PsRowHandler ps_row_handlers[] = {
	[PS_ROW_DEFINE] = {PsRowDefinePrepare, PsRowDefineRun, false, NoLock},
	[PS_ROW_DESCRIBE] = {PsRowDescribePrepare, PsRowDescribeRun, false,
						 NoLock},
	[PS_ROW_TABLES] = {PsRowTablesPrepare, PsRowTablesRun, false, NoLock},
	[PS_ROW_DROP_TABLE] = {PsRowDropPrepare, PsRowDropRun, false, NoLock},
	[PS_ROW_INSERT] = {PsRowInsertPrepare, PsRowInsertRun, true,
					   RowExclusiveLock},
	[PS_ROW_UPSERT] = {PsRowUpsertPrepare, PsRowUpsertRun, true,
					   RowExclusiveLock},
	[PS_ROW_SELECT] = {PsRowSelectPrepare, PsRowSearchRun, true,
					   AccessShareLock},
	[PS_ROW_SEARCH] = {PsRowSearchPrepare, PsRowSearchRun, true,
					   AccessShareLock},
	[PS_ROW_AGGREGATE] = {PsRowAggregatePrepare, PsRowSearchRun, true,
						  AccessShareLock},
	[PS_ROW_UPDATE] = {PsRowUpdatePrepare, PsRowChangeRun, true,
					   RowExclusiveLock},
	[PS_ROW_DELETE] = {PsRowDeletePrepare, PsRowChangeRun, true,
					   RowExclusiveLock},
};

/* Validate, compile and run one row request; NULL with err set on failure */
Jsonb *
PsRowExecute(const char *plugin, const char *op, Jsonb *request, PsError *err)
{
	PsPlugin *p = PsFindRequestPlugin(plugin, err);
	PsRowRequest req;
	PsRowCtx c;
	const PsRowHandler *h;
	PsSavedContext saved;
	MemoryContext outer = CurrentMemoryContext;
	Jsonb *result;

	if (p == NULL || !PsRowParseRequest(op, request, &req, err))
		return NULL;
	memset(&c, 0, sizeof(c));
	c.plugin = p;
	c.req = &req;
	c.err = err;
	PsRowSqlInit(&c.main);
	h = &ps_row_handlers[req.op];
	if (h->opens_table &&
		(c.table = PsRowOpenTable(p, &req, h->lock, false, err)) == NULL)
		return NULL;
	if (!h->prepare(&c))
	{
		PsRowCloseTable(c.table);
		return NULL;
	}

	PsEnterPlugin(p, &saved);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(outer);
	result = h->run(&c);
	SPI_finish();
	PsLeavePlugin(&saved);
	PsRowCloseTable(c.table);
	return result;
}

/* Read the (plugin, op, request) arguments shared by both entry points */
static Jsonb *
PsRowCall(FunctionCallInfo fcinfo, PsError *err)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		PsSetError(err, "invalid_request", "plugin and op must not be null");
		return NULL;
	}
	return PsRowExecute(text_to_cstring(PG_GETARG_TEXT_PP(0)),
						text_to_cstring(PG_GETARG_TEXT_PP(1)),
						PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), err);
}

PG_FUNCTION_INFO_V1(plugin_row);

/* plugin_row(plugin, op, request): the wire reply, errors included */
Datum
plugin_row(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	Jsonb *result = PsRowCall(fcinfo, &err);

	PG_RETURN_JSONB_P(result ? result : PsErrorJsonb(&err));
}

PG_FUNCTION_INFO_V1(plugin_row_raise);

/* _plugin_row_raise(plugin, op, request): the reply, or an ERROR */
Datum
plugin_row_raise(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	Jsonb *result = PsRowCall(fcinfo, &err);

	if (result == NULL)
		PsRaiseError(&err);
	PG_RETURN_JSONB_P(result);
}
