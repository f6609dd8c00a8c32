/*-------------------------------------------------------------------------
 *
 * json_datum.c
 *	  Write a datum as JSON: what the row and SQL tiers' replies share.
 *
 * A value becomes JSON the way to_jsonb() writes it: numbers as numbers
 * (NaN and infinities as strings), booleans as booleans, json and jsonb
 * embedded as they are, dates and times in ISO 8601 (JsonEncodeDateTime,
 * with a fast path for timestamptz), arrays as JSON arrays (one level per
 * dimension), composite values as objects, and anything else as the string
 * its type's output function writes.  Callers pass the type under any
 * domain (getBaseType), found once per column.
 *
 * The reply keeps pointers to what is pushed into it until it is finished,
 * so every value is copied into the current memory context first.
 * PsJsonTextSize tells how many bytes a value takes in the reply's text
 * (jsonb's output), for the SQL tier's byte limit.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

/* Make out a JSON string (not copied: the caller owns s) */
static void
PsDatumString(JsonbValue *out, char *s, int len)
{
	out->type = jbvString;
	out->val.string.val = s;
	out->val.string.len = len < 0 ? (int) strlen(s) : len;
}

/* Make out a number from its text (a float's output), NaN and Infinity as
 * strings */
static void
PsDatumFloat(JsonbValue *out, double v, char *text)
{
	if (isnan(v) || isinf(v))
	{
		PsDatumString(out, text, -1);
		return;
	}
	out->type = jbvNumeric;
	out->val.numeric = DatumGetNumeric(
		DirectFunctionCall3(numeric_in, CStringGetDatum(text),
							ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* Make out an integer */
static void
PsDatumInt(JsonbValue *out, int64 v)
{
	out->type = jbvNumeric;
	out->val.numeric = int64_to_numeric(v);
}

/* Make out a stored jsonb value: its scalar, or the container */
static void
PsDatumJsonb(Jsonb *jb, JsonbValue *out)
{
	if (JB_ROOT_IS_SCALAR(jb))
	{
		*out = *getIthJsonbValueFromContainer(&jb->root, 0);
		return;
	}
	out->type = jbvBinary;
	out->val.binary.data = &jb->root;
	out->val.binary.len = VARSIZE(jb) - VARHDRSZ;
}

/* Close a container built with pushJsonbValue and make out of it */
static void
PsDatumFinish(JsonbParseState **state, JsonbIteratorToken end, JsonbValue *out)
{
	PsDatumJsonb(JsonbValueToJsonb(pushJsonbValue(state, end, NULL)), out);
}

/* "00" to "99": digits are written two at a time */
static const char ps_digit_pairs[201] =
	"000102030405060708091011121314151617181920212223242526272829"
	"303132333435363738394041424344454647484950515253545556575859"
	"606162636465666768697071727374757677787980818283848586878889"
	"90919293949596979899";

/* Write n (0 to 99) as two digits; return the end */
static inline char *
PsDatumDigits2(char *p, int n)
{
	memcpy(p, &ps_digit_pairs[n * 2], 2);
	return p + 2;
}

/* The session time zone last seen, and its offset if it has only one */
static pg_tz *ps_tz_seen = NULL;
static bool ps_tz_fixed = false;
static long ps_tz_gmtoff = 0;

/*
 * timestamp2tm in the session time zone.  A zone with a single offset (UTC,
 * Etc/GMT-3, '+05:30') needs no pg_localtime() per value: shift by the
 * offset and break the time down as UTC, which pg_localtime would have
 * answered too (it is most of timestamp2tm's cost).
 */
static int
PsTimestampToTm(TimestampTz ts, int *tz, struct pg_tm *tm, fsec_t *fsec)
{
	if (session_timezone != ps_tz_seen)
	{
		ps_tz_fixed = pg_get_timezone_offset(session_timezone, &ps_tz_gmtoff);
		ps_tz_seen = session_timezone;
	}
	if (!ps_tz_fixed)
		return timestamp2tm(ts, tz, tm, fsec, NULL, NULL);
	*tz = -ps_tz_gmtoff;
	return timestamp2tm(ts + ps_tz_gmtoff * USECS_PER_SEC, NULL, tm, fsec,
						NULL, NULL);
}

/*
 * Write a timestamptz into buf (PS_TIMESTAMPTZ_ISO_MAX bytes) as
 * JsonEncodeDateTime writes it (XSD: ISO 8601 with T, trailing zeros of
 * the fraction trimmed, the session zone's offset), for years 1 to 9999
 * without the general formatter; return its length, or -1 for a value out
 * of that range (infinities, BC, years past 9999).
 */
int
PsTimestamptzIso(char *buf, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t fsec;
	int tz;
	int off;
	char *p = buf;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		PsTimestampToTm(ts, &tz, &tm, &fsec) != 0 || tm.tm_year < 1 ||
		tm.tm_year > 9999)
		return -1;
	p = PsDatumDigits2(p, tm.tm_year / 100);
	p = PsDatumDigits2(p, tm.tm_year % 100);
	*p++ = '-';
	p = PsDatumDigits2(p, tm.tm_mon);
	*p++ = '-';
	p = PsDatumDigits2(p, tm.tm_mday);
	*p++ = 'T';
	p = PsDatumDigits2(p, tm.tm_hour);
	*p++ = ':';
	p = PsDatumDigits2(p, tm.tm_min);
	*p++ = ':';
	p = PsDatumDigits2(p, tm.tm_sec);
	if (fsec != 0)
	{
		*p++ = '.';
		p = PsDatumDigits2(p, fsec / 10000);
		p = PsDatumDigits2(p, (fsec / 100) % 100);
		p = PsDatumDigits2(p, fsec % 100);
		while (p[-1] == '0')
			p--;
	}
	off = -tz;
	*p++ = off < 0 ? '-' : '+';
	off = Abs(off);
	p = PsDatumDigits2(p, off / SECS_PER_HOUR);
	*p++ = ':';
	p = PsDatumDigits2(p, (off / SECS_PER_MINUTE) % MINS_PER_HOUR);
	if (off % SECS_PER_MINUTE != 0)
	{
		*p++ = ':';
		p = PsDatumDigits2(p, off % SECS_PER_MINUTE);
	}
	Assert(p - buf <= PS_TIMESTAMPTZ_ISO_MAX);
	return p - buf;
}

/* Make out a timestamptz's JSON string (JsonEncodeDateTime's text) */
static void
PsDatumTimestamptz(JsonbValue *out, Datum d)
{
	char *buf = palloc(Max(MAXDATELEN + 1, PS_TIMESTAMPTZ_ISO_MAX));
	int len = PsTimestamptzIso(buf, DatumGetTimestampTz(d));

	if (len < 0)
	{
		JsonEncodeDateTime(buf, d, TIMESTAMPTZOID, NULL);
		len = strlen(buf);
	}
	PsDatumString(out, buf, len);
}

/*
 * Push dimension dim of an array (elements from *i on), nested per
 * dimension; returns what pushJsonbValue made of it (at the outermost
 * level, the whole array).
 */
static JsonbValue *
PsDatumArrayLevel(JsonbParseState **state, int dim, int ndims, int *dims,
				  Datum *elems, bool *nulls, int *i, Oid elembase)
{
	pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	for (int j = 0; j < dims[dim]; j++)
	{
		if (dim + 1 < ndims)
			PsDatumArrayLevel(state, dim + 1, ndims, dims, elems, nulls, i,
							  elembase);
		else
		{
			JsonbValue v;

			PsDatumJson(elems[*i], nulls[*i], elembase, &v);
			pushJsonbValue(state, WJB_ELEM, &v);
			(*i)++;
		}
	}
	return pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

/* Make out a JSON array from an array datum of element type elemtype */
static void
PsDatumArray(JsonbValue *out, Datum d, Oid elemtype)
{
	ArrayType *arr = DatumGetArrayTypeP(d);
	JsonbParseState *state = NULL;
	int16 len;
	bool byval;
	char align;
	Datum *elems;
	bool *nulls;
	int n;
	int i = 0;

	get_typlenbyvalalign(elemtype, &len, &byval, &align);
	deconstruct_array(arr, elemtype, len, byval, align, &elems, &nulls, &n);
	if (ARR_NDIM(arr) == 0)
	{
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		PsDatumFinish(&state, WJB_END_ARRAY, out);
		return;
	}
	PsDatumJsonb(JsonbValueToJsonb(PsDatumArrayLevel(
					 &state, 0, ARR_NDIM(arr), ARR_DIMS(arr), elems, nulls, &i,
					 getBaseType(elemtype))),
				 out);
}

/* Make out a JSON object from a composite datum, keyed by attribute name */
static void
PsDatumComposite(JsonbValue *out, Datum d)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(d);
	TupleDesc desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td),
											HeapTupleHeaderGetTypMod(td));
	HeapTupleData tuple;
	JsonbParseState *state = NULL;
	Datum *values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	bool *isnull = palloc(sizeof(bool) * Max(desc->natts, 1));

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	heap_deform_tuple(&tuple, desc, values, isnull);
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		JsonbValue k;
		JsonbValue v;

		if (att->attisdropped)
			continue;
		PsDatumString(&k, pstrdup(NameStr(att->attname)), -1);
		pushJsonbValue(&state, WJB_KEY, &k);
		PsDatumJson(values[i], isnull[i], getBaseType(att->atttypid), &v);
		pushJsonbValue(&state, WJB_VALUE, &v);
	}
	ReleaseTupleDesc(desc);
	PsDatumFinish(&state, WJB_END_OBJECT, out);
}

/*
 * Make out the JSON value of datum d, of type basetype (no domain), copied
 * into the current memory context.
 */
void
PsDatumJson(Datum d, bool isnull, Oid basetype, JsonbValue *out)
{
	if (isnull)
	{
		out->type = jbvNull;
		return;
	}
	switch (basetype)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		{
			text *t = DatumGetTextPP(d);
			int len = VARSIZE_ANY_EXHDR(t);

			PsDatumString(out, pnstrdup(VARDATA_ANY(t), len), len);
			return;
		}
		case INT2OID:
			PsDatumInt(out, DatumGetInt16(d));
			return;
		case INT4OID:
			PsDatumInt(out, DatumGetInt32(d));
			return;
		case INT8OID:
			PsDatumInt(out, DatumGetInt64(d));
			return;
		case NUMERICOID:
			if (numeric_is_nan(DatumGetNumeric(d)) ||
				numeric_is_inf(DatumGetNumeric(d)))
				PsDatumString(
					out, DatumGetCString(DirectFunctionCall1(numeric_out, d)),
					-1);
			else
			{
				out->type = jbvNumeric;
				out->val.numeric = DatumGetNumericCopy(d);
			}
			return;
		case FLOAT4OID:
			PsDatumFloat(out, DatumGetFloat4(d),
						 DatumGetCString(DirectFunctionCall1(float4out, d)));
			return;
		case FLOAT8OID:
			PsDatumFloat(out, DatumGetFloat8(d),
						 DatumGetCString(DirectFunctionCall1(float8out, d)));
			return;
		case BOOLOID:
			out->type = jbvBool;
			out->val.boolean = DatumGetBool(d);
			return;
		case TIMESTAMPTZOID:
			PsDatumTimestamptz(out, d);
			return;
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		{
			char *buf = palloc(MAXDATELEN + 1);

			JsonEncodeDateTime(buf, d, basetype, NULL);
			PsDatumString(out, buf, -1);
			return;
		}
		case JSONBOID:
			PsDatumJsonb(DatumGetJsonbPCopy(d), out);
			return;
		case JSONOID:
			PsDatumJsonb(
				DatumGetJsonbP(DirectFunctionCall1(
					jsonb_in, CStringGetDatum(TextDatumGetCString(d)))),
				out);
			return;
		default:
			break;
	}
	if (OidIsValid(get_element_type(basetype)))
		PsDatumArray(out, d, get_element_type(basetype));
	else if (type_is_rowtype(basetype))
		PsDatumComposite(out, d);
	else
	{
		Oid outfn;
		bool varlena;

		getTypeOutputInfo(basetype, &outfn, &varlena);
		PsDatumString(out, OidOutputFunctionCall(outfn, d), -1);
	}
}

/* Push a copy of datum d (of type basetype, no domain) as JSON */
void
PsReplyDatum(PsReply *r, const char *key, Datum d, bool isnull, Oid basetype)
{
	JsonbValue v;

	PsDatumJson(d, isnull, basetype, &v);
	PsReplyValue(r, key, &v);
}

/* Bytes a JSON string of len bytes takes, quoted and escaped as jsonb does
 */
Size
PsJsonStringSize(const char *s, int len)
{
	Size size = 2;

	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
			c == '\r' || c == '\t')
			size += 2;
		else if (c < ' ')
			size += 6;
		else
			size += 1;
	}
	return size;
}

/* Bytes a value takes in the reply's text (jsonb's output format) */
Size
PsJsonTextSize(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return 4;
		case jbvBool:
			return v->val.boolean ? 4 : 5;
		case jbvString:
			return PsJsonStringSize(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return strlen(DatumGetCString(DirectFunctionCall1(
				numeric_out, NumericGetDatum(v->val.numeric))));
		case jbvBinary:
			return strlen(
				JsonbToCString(NULL, v->val.binary.data, v->val.binary.len));
		default:
			elog(ERROR, "unexpected JSON value type %d", (int) v->type);
	}
	return 0;
}
