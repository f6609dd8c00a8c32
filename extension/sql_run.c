/*-------------------------------------------------------------------------
 *
 * sql_run.c
 *	  Run the plugin's statement and answer its columns and rows.
 *
 * The statement is prepared with the inferred parameter types and run
 * through SPI into a DestReceiver that adds each row to the reply as the
 * executor makes it (json_datum.c writes the values), within two limits:
 * max_rows, and max_result_bytes, the size of the reply's text, measured
 * row by row before a row is added.  A row that would pass either limit is
 * not added and the reply says "truncated": true and "truncated_by".
 *
 * A SELECT runs with a row count of max_rows + 1, so that one row more than
 * the limit tells the reply is truncated without reading the rest, and it
 * stops at the first row that does not fit in the bytes.  INSERT, UPDATE
 * and DELETE run to the end whatever their RETURNING rows (a row count
 * would stop the write itself); row_count is then the number of rows they
 * changed, and "rows" holds their RETURNING rows within the limits.
 *
 * Two result columns of the same name would be one key of a row object:
 * the second and later get a suffix, _2, _3, ... (one that no other column
 * has), and "columns" lists the keys the rows use.
 *
 *-------------------------------------------------------------------------
 */
#include "sql.h"

#include "executor/tuptable.h"
#include "nodes/params.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* Bytes of the reply's text that are not columns or rows (a bound) */
#define PS_SQL_REPLY_OVERHEAD 160

/* A DestReceiver that adds result rows to the reply within the limits */
typedef struct PsSqlReceiver
{
	DestReceiver pub;		  /* the receiver's callbacks */
	PsReply *reply;			  /* the reply being built */
	MemoryContext cxt;		  /* the reply's memory context */
	bool stop_when_full;	  /* a SELECT: stop when a row does not fit */
	bool started;			  /* columns written, "rows" open */
	bool ignore;			  /* a further result (from a rule) */
	int natts;				  /* result columns */
	char **keys;			  /* their JSON keys, unique */
	Size *keysizes;			  /* the keys' text sizes */
	Oid *types;				  /* their types, under any domain */
	JsonbValue *vals;		  /* one row's values */
	uint64 max_rows;		  /* rows to add at most */
	Size max_bytes;			  /* reply text to make at most */
	Size bytes;				  /* reply text so far */
	uint64 added;			  /* rows added */
	const char *truncated_by; /* the limit that cut the rows, or NULL */
} PsSqlReceiver;

/* Is key used by one of the first n keys, or is it a column's own name? */
static bool
PsSqlKeyTaken(const char *key, char **keys, int n, TupleDesc desc)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	for (int i = n + 1; i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), key) == 0)
			return true;
	return false;
}

/* The JSON key of column i: its name, or name_2, name_3, ... if taken */
static char *
PsSqlColumnKey(char **keys, int i, TupleDesc desc)
{
	const char *name = NameStr(TupleDescAttr(desc, i)->attname);
	char *key;

	for (int j = 0; j < i; j++)
		if (strcmp(keys[j], name) == 0)
		{
			for (int n = 2;; n++)
			{
				key = psprintf("%s_%d", name, n);
				if (!PsSqlKeyTaken(key, keys, i, desc))
					return key;
			}
		}
	return pstrdup(name);
}

/* Receiver start-up: write "columns" and open "rows" */
static void
PsSqlReceiverStartup(DestReceiver *self, int operation, TupleDesc desc)
{
	PsSqlReceiver *rr = (PsSqlReceiver *) self;
	MemoryContext old;
	int n = desc->natts;

	if (rr->started)
	{
		rr->ignore = true;
		return;
	}
	old = MemoryContextSwitchTo(rr->cxt);
	rr->started = true;
	rr->natts = n;
	rr->keys = palloc(sizeof(char *) * Max(n, 1));
	rr->keysizes = palloc(sizeof(Size) * Max(n, 1));
	rr->types = palloc(sizeof(Oid) * Max(n, 1));
	rr->vals = palloc(sizeof(JsonbValue) * Max(n, 1));
	PsReplyBeginArray(rr->reply, "columns");
	for (int i = 0; i < n; i++)
	{
		Oid typid = TupleDescAttr(desc, i)->atttypid;
		char *type = format_type_be(typid);

		rr->keys[i] = PsSqlColumnKey(rr->keys, i, desc);
		rr->keysizes[i] = PsJsonStringSize(rr->keys[i], strlen(rr->keys[i]));
		rr->types[i] = getBaseType(typid);
		PsReplyBeginObject(rr->reply, NULL);
		PsReplyString(rr->reply, "name", rr->keys[i], -1);
		PsReplyString(rr->reply, "type", type, -1);
		PsReplyEndObject(rr->reply);
		/* {"name": .., "type": ..}, and ", " before the next */
		rr->bytes +=
			22 + rr->keysizes[i] + PsJsonStringSize(type, strlen(type));
	}
	PsReplyEndArray(rr->reply);
	PsReplyBeginArray(rr->reply, "rows");
	MemoryContextSwitchTo(old);
}

/* Stop adding rows because of limit `by`; false stops a SELECT */
static bool
PsSqlReceiverFull(PsSqlReceiver *rr, const char *by)
{
	if (rr->truncated_by == NULL)
		rr->truncated_by = by;
	return !rr->stop_when_full;
}

/* Add one row to the reply if it fits in the limits */
static bool
PsSqlReceiveSlot(TupleTableSlot *slot, DestReceiver *self)
{
	PsSqlReceiver *rr = (PsSqlReceiver *) self;
	MemoryContext old;
	Size size = 2;

	if (rr->ignore)
		return true;
	if (rr->truncated_by != NULL)
		return PsSqlReceiverFull(rr, rr->truncated_by);
	if (rr->added >= rr->max_rows)
		return PsSqlReceiverFull(rr, "max_rows");
	old = MemoryContextSwitchTo(rr->cxt);
	slot_getallattrs(slot);
	for (int i = 0; i < rr->natts; i++)
	{
		PsDatumJson(slot->tts_values[i], slot->tts_isnull[i], rr->types[i],
					&rr->vals[i]);
		/* "key": value, and ", " before the next */
		size += rr->keysizes[i] + 2 + PsJsonTextSize(&rr->vals[i]) +
				(i > 0 ? 2 : 0);
	}
	if (rr->added > 0)
		size += 2;
	if (rr->bytes + size > rr->max_bytes)
	{
		MemoryContextSwitchTo(old);
		return PsSqlReceiverFull(rr, "max_result_bytes");
	}
	PsReplyBeginObject(rr->reply, NULL);
	for (int i = 0; i < rr->natts; i++)
		PsReplyValue(rr->reply, rr->keys[i], &rr->vals[i]);
	PsReplyEndObject(rr->reply);
	rr->bytes += size;
	rr->added++;
	MemoryContextSwitchTo(old);
	return true;
}

/* Receiver shut-down and destruction: nothing to release */
static void
PsSqlReceiverNothing(DestReceiver *self)
{
}

/* A receiver adding rows to reply within the request's limits */
static PsSqlReceiver *
PsSqlReceiverCreate(PsReply *reply, const PsSqlLimits *limits, bool select)
{
	PsSqlReceiver *rr = palloc0(sizeof(PsSqlReceiver));

	rr->pub.receiveSlot = PsSqlReceiveSlot;
	rr->pub.rStartup = PsSqlReceiverStartup;
	rr->pub.rShutdown = PsSqlReceiverNothing;
	rr->pub.rDestroy = PsSqlReceiverNothing;
	rr->pub.mydest = DestNone;
	rr->reply = reply;
	rr->cxt = CurrentMemoryContext;
	rr->stop_when_full = select;
	rr->max_rows = limits->max_rows;
	rr->max_bytes = limits->max_result_bytes;
	rr->bytes = PS_SQL_REPLY_OVERHEAD;
	return rr;
}

/* The statement's parameters as a ParamListInfo */
static ParamListInfo
PsSqlParamList(PsSqlStatement *st)
{
	ParamListInfo params = makeParamList(st->nparams);

	for (int i = 0; i < st->nparams; i++)
	{
		ParamExternData *prm = &params->params[i];

		prm->value = st->values[i];
		prm->isnull = st->nulls[i] == 'n';
		prm->pflags = PARAM_FLAG_CONST;
		prm->ptype = st->types[i];
	}
	return params;
}

/*
 * Run the statement (SPI is connected; the current memory context is the
 * reply's) and add columns, rows, row_count, truncated and command to reply.
 */
bool
PsSqlRunRows(PsSqlStatement *st, const PsSqlRequest *req, PsReply *reply,
			 PsError *err)
{
	MemoryContext cxt = CurrentMemoryContext;
	PsSqlReceiver *rr =
		PsSqlReceiverCreate(reply, &req->limits, st->is_select);
	SPIExecuteOptions options;
	SPIPlanPtr plan;
	int rc;

	plan = SPI_prepare(st->sql, st->nparams, st->types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	memset(&options, 0, sizeof(options));
	options.params = PsSqlParamList(st);
	options.read_only = false;
	options.tcount = st->is_select ? (uint64) req->limits.max_rows + 1 : 0;
	options.dest = &rr->pub;
	rc = SPI_execute_plan_extended(plan, &options);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan_extended failed: %s",
			 SPI_result_code_string(rc));
	/* SPI returns in its own context, which SPI_finish frees */
	MemoryContextSwitchTo(cxt);

	if (rr->started)
		PsReplyEndArray(reply);
	else
	{
		PsReplyBeginArray(reply, "columns");
		PsReplyEndArray(reply);
		PsReplyBeginArray(reply, "rows");
		PsReplyEndArray(reply);
	}
	PsReplyInt64(reply, "row_count",
				 st->is_select ? rr->added : SPI_processed);
	PsReplyBool(reply, "truncated", rr->truncated_by != NULL);
	if (rr->truncated_by != NULL)
		PsReplyString(reply, "truncated_by", rr->truncated_by, -1);
	PsReplyString(reply, "command", st->command, -1);
	return true;
}
