/*-------------------------------------------------------------------------
 *
 * row_reply.c
 *	  Turn result rows into JSON, straight from their datums.
 *
 * Statements select plain columns (t.c), so rows come back as they would to
 * any client, and each datum becomes JSON the way to_jsonb() writes it
 * (json_datum.c, shared with the SQL tier): numbers as numbers (NaN and
 * infinities as strings), timestamps in ISO 8601, jsonb as it is, text[] as
 * an array of strings.  Columns of other types are selected as to_jsonb(t.c)
 * by the statement (PsRowSelectColumn), so they arrive as jsonb.
 *
 * Rows of select, search and aggregate go to a DestReceiver that writes
 * each one, as the executor makes it, into the reply's "rows" array in
 * jsonb's binary form (json_binary.c): no copy of the result in
 * SPI_tuptable, no tree of JSON values, each row's values read once.  The
 * keys of a row are the same in every row, so they are sorted and
 * serialized once, when the receiver starts; a statement may therefore
 * select its columns in any order (row_read.c selects them in table order,
 * which lets the executor hand over the scanned tuple without projecting).
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "executor/tuptable.h"
#include "utils/memutils.h"

/* A DestReceiver that adds rows to a jsonb array */
typedef struct PsRowReceiver
{
	DestReceiver pub;	/* the receiver's callbacks */
	PsJbArray *rows;	/* the array */
	PsRowOutput *out;	/* JSON keys of the columns */
	PsJbKeys keys;		/* the same, serialized for every row */
	Oid *types;			/* type of each column, under any domain */
	uint64 limit;		/* rows to add (0: all); more are only counted */
	uint64 received;	/* rows received */
	MemoryContext cxt;	/* where the receiver lives */
	MemoryContext temp; /* a row's detoasted or converted values */
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

/* Receiver start-up: learn the result's column types, serialize the keys */
static void
PsRowReceiverStartup(DestReceiver *self, int operation, TupleDesc desc)
{
	PsRowReceiver *rr = (PsRowReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(rr->cxt);

	Assert(rr->out->n <= desc->natts); /* "SELECT NULL" for no columns */
	rr->types = PsRowResultTypes(desc);
	PsJbKeysInit(&rr->keys, rr->out->keys, rr->out->n);
	rr->temp = AllocSetContextCreate(rr->cxt, "plugin_storage row values",
									 ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(old);
}

/* Add one row to the array as an object (past the limit, only count it) */
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
	slot_getallattrs(slot);
	old = MemoryContextSwitchTo(rr->temp);
	PsJbArrayAddRow(rr->rows, &rr->keys, slot->tts_values, slot->tts_isnull,
					rr->types);
	MemoryContextSwitchTo(old);
	MemoryContextReset(rr->temp);
	return true;
}

/* Receiver shut-down: free what the rows' values needed */
static void
PsRowReceiverShutdown(DestReceiver *self)
{
	PsRowReceiver *rr = (PsRowReceiver *) self;

	if (rr->temp != NULL)
		MemoryContextDelete(rr->temp);
	rr->temp = NULL;
}

/* Receiver destruction: nothing to release */
static void
PsRowReceiverNothing(DestReceiver *self)
{
}

/*
 * A receiver that adds up to limit rows (0: all) to the array rows, keyed
 * by o's keys; it counts the rows past the limit.
 */
DestReceiver *
PsRowRowsReceiver(PsJbArray *rows, PsRowOutput *o, uint64 limit)
{
	PsRowReceiver *rr = palloc0(sizeof(PsRowReceiver));

	rr->pub.receiveSlot = PsRowReceiveSlot;
	rr->pub.rStartup = PsRowReceiverStartup;
	rr->pub.rShutdown = PsRowReceiverShutdown;
	rr->pub.rDestroy = PsRowReceiverNothing;
	rr->pub.mydest = DestNone;
	rr->rows = rows;
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
