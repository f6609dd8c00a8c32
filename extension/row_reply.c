/*-------------------------------------------------------------------------
 *
 * row_reply.c
 *	  Turn result rows into JSON, straight from their datums.
 *
 * Statements select plain columns (t.c), so rows come back as they would to
 * any client, and each datum is pushed into the reply as JSON the way
 * to_jsonb() writes it (json_datum.c, shared with the SQL tier): numbers as
 * numbers (NaN and infinities as strings), timestamps in ISO 8601, jsonb as
 * it is, text[] as an array of strings.  Columns of other types are selected
 * as to_jsonb(t.c) by the statement (PsRowSelectColumn), so they arrive as
 * jsonb.
 *
 * Rows of select, search and aggregate go to a DestReceiver that adds each
 * one to the reply as the executor makes it: no copy of the result in
 * SPI_tuptable, and each row's values are read once.  The reply keeps
 * pointers to what is pushed into it until it is finished, so every value
 * is copied into the reply's memory context first.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "executor/tuptable.h"

/* A DestReceiver that adds rows to a reply */
typedef struct PsRowReceiver
{
	DestReceiver pub;  /* the receiver's callbacks */
	PsReply *reply;	   /* the reply, with its "rows" array open */
	PsRowOutput *out;  /* JSON keys of the columns */
	Oid *types;		   /* type of each column, under any domain */
	uint64 limit;	   /* rows to add (0: all); more are only counted */
	uint64 received;   /* rows received */
	MemoryContext cxt; /* the reply's memory context */
} PsRowReceiver;

/* Does a kind need to_jsonb() in the statement to come back as JSON? */
static bool
PsRowNeedsToJsonb(PsRowKind kind)
{
	return kind == PS_KIND_ARRAY || kind == PS_KIND_OTHER;
}

/* The type under any domain of each column of a result */
static Oid *
PsRowResultTypes(TupleDesc desc)
{
	Oid *types = palloc(sizeof(Oid) * Max(desc->natts, 1));

	for (int i = 0; i < desc->natts; i++)
		types[i] = PsRowBaseType(TupleDescAttr(desc, i)->atttypid);
	return types;
}

/* Receiver start-up: learn the result's column types */
static void
PsRowReceiverStartup(DestReceiver *self, int operation, TupleDesc desc)
{
	PsRowReceiver *rr = (PsRowReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(rr->cxt);

	rr->types = PsRowResultTypes(desc);
	MemoryContextSwitchTo(old);
}

/* Add one row to the reply as an object (past the limit, only count it) */
static bool
PsRowReceiveSlot(TupleTableSlot *slot, DestReceiver *self)
{
	PsRowReceiver *rr = (PsRowReceiver *) self;
	MemoryContext old;

	if (rr->limit > 0 && rr->received >= rr->limit)
	{
		rr->received++;
		return true;
	}
	rr->received++;
	old = MemoryContextSwitchTo(rr->cxt);
	slot_getallattrs(slot);
	PsReplyBeginObject(rr->reply, NULL);
	for (int i = 0; i < rr->out->n; i++)
		PsReplyDatum(rr->reply, rr->out->keys[i], slot->tts_values[i],
					 slot->tts_isnull[i], rr->types[i]);
	PsReplyEndObject(rr->reply);
	MemoryContextSwitchTo(old);
	return true;
}

/* Receiver shut-down and destruction: nothing to release */
static void
PsRowReceiverNothing(DestReceiver *self)
{
}

/*
 * A receiver that adds up to limit rows (0: all) to r, inside an array the
 * caller has opened, keyed by o's keys; it counts the rows past the limit.
 */
DestReceiver *
PsRowRowsReceiver(PsReply *r, PsRowOutput *o, uint64 limit)
{
	PsRowReceiver *rr = palloc0(sizeof(PsRowReceiver));

	rr->pub.receiveSlot = PsRowReceiveSlot;
	rr->pub.rStartup = PsRowReceiverStartup;
	rr->pub.rShutdown = PsRowReceiverNothing;
	rr->pub.rDestroy = PsRowReceiverNothing;
	rr->pub.mydest = DestNone;
	rr->reply = r;
	rr->out = o;
	rr->limit = limit;
	rr->cxt = CurrentMemoryContext;
	return &rr->pub;
}

/* How many rows a receiver got, those past its limit included */
uint64
PsRowRowsReceived(DestReceiver *dest)
{
	PsRowReceiver *rr = (PsRowReceiver *) dest;

	return rr->received;
}

/* Push result column col (0-based) of SPI_tuptable's row as JSON */
static void
PsRowReplyCol(PsReply *r, const char *key, Oid *types, uint64 row, int col)
{
	bool isnull;
	Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
							col + 1, &isnull);

	PsReplyDatum(r, key, d, isnull, types[col]);
}

/*
 * Push the key of a row of SPI_tuptable: its first c->npkout columns, as a
 * value for a one-column key, an object for a longer one, null for a table
 * without.
 */
void
PsRowReplyKey(PsReply *r, const char *key, PsRowCtx *c, uint64 row)
{
	Oid *types = PsRowResultTypes(SPI_tuptable->tupdesc);

	if (c->npkout == 0)
		PsReplyNull(r, key);
	else if (c->npkout == 1)
		PsRowReplyCol(r, key, types, row, 0);
	else
	{
		PsReplyBeginObject(r, key);
		for (int i = 0; i < c->npkout; i++)
			PsRowReplyCol(r, c->out.keys[i], types, row, i);
		PsReplyEndObject(r);
	}
}

/* Add a column to a select list (as to_jsonb() if it needs it), keyed key */
void
PsRowSelectColumn(PsRowSql *s, PsRowOutput *o, PsRowColumn *col,
				  const char *key)
{
	bool wrap = PsRowNeedsToJsonb(col->kind);

	if (o->n > 0)
		appendStringInfoString(&s->buf, ", ");
	if (wrap)
		appendStringInfoString(&s->buf, "to_jsonb(");
	PsRowSqlColumn(s, col);
	if (wrap)
		appendStringInfoChar(&s->buf, ')');
	PsRowOutputAdd(o, key);
}
