/*-------------------------------------------------------------------------
 *
 * row_reply.c
 *	  Turn result rows into JSON, straight from their datums.
 *
 * Statements select plain columns (t.c), so rows come back as they would to
 * any client, and each datum is pushed into the reply as JSON the way
 * to_jsonb() writes it: numbers as numbers (NaN and infinities as strings),
 * timestamps in ISO 8601, jsonb as it is, text[] as an array of strings.
 * Columns of other types are selected as to_jsonb(t.c) by the statement
 * (PsRowSelectColumn), so they arrive as jsonb.
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

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

/* A DestReceiver that adds rows to a reply */
typedef struct PsRowReceiver
{
	DestReceiver pub;  /* the receiver's callbacks */
	PsReply *reply;	   /* the reply, with its "rows" array open */
	PsRowOutput *out;  /* JSON keys of the columns */
	PsRowKind *kinds;  /* kind of each column */
	Oid *types;		   /* type of each column */
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

/* Push a number from its text (a float's output), NaN and Infinity as text */
static void
PsRowReplyFloat(PsReply *r, const char *key, double v, char *text)
{
	if (isnan(v) || isinf(v))
		PsReplyString(r, key, text, -1);
	else
		PsReplyNumeric(r, key,
					   DirectFunctionCall3(numeric_in, CStringGetDatum(text),
										   ObjectIdGetDatum(InvalidOid),
										   Int32GetDatum(-1)));
}

/* Push a copy of a text datum as a string */
static void
PsRowReplyText(PsReply *r, const char *key, Datum d)
{
	text *t = DatumGetTextPP(d);
	int len = VARSIZE_ANY_EXHDR(t);

	PsReplyString(r, key, pnstrdup(VARDATA_ANY(t), len), len);
}

/* Push a text[] as an array of strings and nulls */
static void
PsRowReplyTextArray(PsReply *r, const char *key, Datum d)
{
	Datum *elems;
	bool *nulls;
	int n;

	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	PsReplyBeginArray(r, key);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			PsReplyNull(r, NULL);
		else
			PsRowReplyText(r, NULL, elems[i]);
	}
	PsReplyEndArray(r);
}

/* Write n as a zero-padded number of width digits; return the end */
static char *
PsRowDigits(char *p, int n, int width)
{
	for (int i = width - 1; i >= 0; i--, n /= 10)
		p[i] = '0' + n % 10;
	return p + width;
}

/*
 * Push a timestamptz as JsonEncodeDateTime writes it (XSD: ISO 8601 with T,
 * trailing zeros of the fraction trimmed, the session zone's offset), for
 * years 1 to 9999 without going through the general formatter; anything
 * else goes through JsonEncodeDateTime itself.
 */
static void
PsRowReplyTimestamptz(PsReply *r, const char *key, Datum d)
{
	TimestampTz ts = DatumGetTimestampTz(d);
	struct pg_tm tm;
	fsec_t fsec;
	int tz;
	int off;
	char *buf;
	char *p;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, &tz, &tm, &fsec, NULL, NULL) != 0 || tm.tm_year < 1 ||
		tm.tm_year > 9999)
	{
		PsReplyTimestamp(r, key, d, false);
		return;
	}
	p = buf = palloc(40);
	p = PsRowDigits(p, tm.tm_year, 4);
	*p++ = '-';
	p = PsRowDigits(p, tm.tm_mon, 2);
	*p++ = '-';
	p = PsRowDigits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = PsRowDigits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = PsRowDigits(p, tm.tm_min, 2);
	*p++ = ':';
	p = PsRowDigits(p, tm.tm_sec, 2);
	if (fsec != 0)
	{
		*p++ = '.';
		p = PsRowDigits(p, fsec, 6);
		while (p[-1] == '0')
			p--;
	}
	off = -tz;
	*p++ = off < 0 ? '-' : '+';
	off = Abs(off);
	p = PsRowDigits(p, off / SECS_PER_HOUR, 2);
	*p++ = ':';
	p = PsRowDigits(p, (off / SECS_PER_MINUTE) % MINS_PER_HOUR, 2);
	if (off % SECS_PER_MINUTE != 0)
	{
		*p++ = ':';
		p = PsRowDigits(p, off % SECS_PER_MINUTE, 2);
	}
	PsReplyString(r, key, buf, p - buf);
}

/* Push a copy of one datum of the given kind (and type) as JSON */
static void
PsRowReplyDatum(PsReply *r, const char *key, Datum d, bool isnull,
				PsRowKind kind, Oid typid)
{
	if (isnull)
	{
		PsReplyNull(r, key);
		return;
	}
	switch (kind)
	{
		case PS_KIND_TEXT:
			PsRowReplyText(r, key, d);
			return;
		case PS_KIND_INT2:
			PsReplyInt64(r, key, DatumGetInt16(d));
			return;
		case PS_KIND_INT4:
			PsReplyInt64(r, key, DatumGetInt32(d));
			return;
		case PS_KIND_INT8:
			PsReplyInt64(r, key, DatumGetInt64(d));
			return;
		case PS_KIND_NUMERIC:
			if (numeric_is_nan(DatumGetNumeric(d)) ||
				numeric_is_inf(DatumGetNumeric(d)))
				PsReplyString(
					r, key,
					DatumGetCString(DirectFunctionCall1(numeric_out, d)), -1);
			else
				PsReplyNumeric(r, key,
							   NumericGetDatum(DatumGetNumericCopy(d)));
			return;
		case PS_KIND_FLOAT4:
			PsRowReplyFloat(
				r, key, DatumGetFloat4(d),
				DatumGetCString(DirectFunctionCall1(float4out, d)));
			return;
		case PS_KIND_FLOAT8:
			PsRowReplyFloat(
				r, key, DatumGetFloat8(d),
				DatumGetCString(DirectFunctionCall1(float8out, d)));
			return;
		case PS_KIND_BOOL:
			PsReplyBool(r, key, DatumGetBool(d));
			return;
		case PS_KIND_TIMESTAMPTZ:
			PsRowReplyTimestamptz(r, key, d);
			return;
		case PS_KIND_JSONB:
			PsReplyJsonb(r, key, DatumGetJsonbPCopy(d));
			return;
		case PS_KIND_TEXT_ARRAY:
			PsRowReplyTextArray(r, key, d);
			return;
		default:
		{
			Oid out;
			bool varlena;

			getTypeOutputInfo(typid, &out, &varlena);
			PsReplyString(r, key, OidOutputFunctionCall(out, d), -1);
			return;
		}
	}
}

/* The kind of each column of a result */
static PsRowKind *
PsRowResultKinds(TupleDesc desc)
{
	PsRowKind *kinds = palloc(sizeof(PsRowKind) * Max(desc->natts, 1));

	for (int i = 0; i < desc->natts; i++)
		kinds[i] =
			PsRowKindOf(PsRowBaseType(TupleDescAttr(desc, i)->atttypid));
	return kinds;
}

/* Receiver start-up: learn the result's column types */
static void
PsRowReceiverStartup(DestReceiver *self, int operation, TupleDesc desc)
{
	PsRowReceiver *rr = (PsRowReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(rr->cxt);

	rr->kinds = PsRowResultKinds(desc);
	rr->types = palloc(sizeof(Oid) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
		rr->types[i] = TupleDescAttr(desc, i)->atttypid;
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
		PsRowReplyDatum(rr->reply, rr->out->keys[i], slot->tts_values[i],
						slot->tts_isnull[i], rr->kinds[i], rr->types[i]);
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
PsRowReplyCol(PsReply *r, const char *key, PsRowKind *kinds, uint64 row,
			  int col)
{
	bool isnull;
	Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
							col + 1, &isnull);

	PsRowReplyDatum(r, key, d, isnull, kinds[col],
					TupleDescAttr(SPI_tuptable->tupdesc, col)->atttypid);
}

/*
 * Push the key of a row of SPI_tuptable: its first c->npkout columns, as a
 * value for a one-column key, an object for a longer one, null for a table
 * without.
 */
void
PsRowReplyKey(PsReply *r, const char *key, PsRowCtx *c, uint64 row)
{
	PsRowKind *kinds = PsRowResultKinds(SPI_tuptable->tupdesc);

	if (c->npkout == 0)
		PsReplyNull(r, key);
	else if (c->npkout == 1)
		PsRowReplyCol(r, key, kinds, row, 0);
	else
	{
		PsReplyBeginObject(r, key);
		for (int i = 0; i < c->npkout; i++)
			PsRowReplyCol(r, c->out.keys[i], kinds, row, i);
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
