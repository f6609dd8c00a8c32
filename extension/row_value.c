/*-------------------------------------------------------------------------
 *
 * row_value.c
 *	  Turn a JSON value into a parameter of a column's type, or say why not.
 *
 * Values are checked here, in C, before anything runs, and refused with
 * type_mismatch naming the column:
 *
 *	text, varchar, char		a JSON string
 *	smallint, integer, bigint	a JSON number without fraction, or a string
 *							holding one ("42"), within the type's range
 *	numeric					a number, or a string holding one ("1.50",
 *							"NaN", "Infinity")
 *	real, double precision	a number, or a string holding one ("NaN",
 *							"Infinity", "-Infinity" included)
 *	boolean					true or false
 *	timestamptz				a string PostgreSQL reads as a timestamp
 *							("2025-11-22T10:30:00Z", "2025-11-22 10:30+01")
 *	jsonb					any JSON value, stored as it is
 *	text[]					an array of strings (and nulls)
 *
 * JSON null is SQL NULL for every type.  The value is bound as a parameter of
 * that type (text for varchar and char), and PostgreSQL's assignment rules
 * apply a column's typmod or domain when the statement runs.
 *
 * Any other type (a migration's uuid, date, enum, ...) takes the text of the
 * value (a string as it is, anything else as JSON), bound as text and cast to
 * the column's type in the statement: PostgreSQL's input function checks it
 * when the statement runs, under the plugin's role, so a bad value there is
 * PostgreSQL's own error (22P02 and friends).  Arrays of other types take a
 * JSON array the same way, element by element.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

/* The parameter type a kind is bound as */
static Oid
PsRowBindType(PsRowKind kind)
{
	static const Oid types[] = {
		[PS_KIND_TEXT] = TEXTOID,
		[PS_KIND_INT2] = INT2OID,
		[PS_KIND_INT4] = INT4OID,
		[PS_KIND_INT8] = INT8OID,
		[PS_KIND_NUMERIC] = NUMERICOID,
		[PS_KIND_FLOAT4] = FLOAT4OID,
		[PS_KIND_FLOAT8] = FLOAT8OID,
		[PS_KIND_BOOL] = BOOLOID,
		[PS_KIND_TIMESTAMPTZ] = TIMESTAMPTZOID,
		[PS_KIND_JSONB] = JSONBOID,
		[PS_KIND_TEXT_ARRAY] = TEXTARRAYOID,
		[PS_KIND_ARRAY] = TEXTARRAYOID,
		[PS_KIND_OTHER] = TEXTOID,
	};

	return types[kind];
}

/* Say that a column cannot take a value of this JSON type */
static bool
PsRowWrongType(PsRowColumn *col, const char *expected, JsonbValue *v,
			   PsError *err)
{
	PsSetError(err, "type_mismatch",
			   "column \"%s\" is %s: expected %s, not %s", col->name,
			   PsRowTypeName(col->typid, col->typmod), expected,
			   PsJsonTypeName(v));
	return false;
}

/* Say that a column cannot take this value */
static bool
PsRowBadValue(PsRowColumn *col, const char *text, const char *why,
			  PsError *err)
{
	PsSetError(err, "type_mismatch", "column \"%s\" is %s: %.100s %s",
			   col->name, PsRowTypeName(col->typid, col->typmod), text, why);
	return false;
}

/* The text of a JSON number or string; NULL for anything else */
static char *
PsRowNumberText(JsonbValue *v)
{
	if (v->type == jbvNumeric)
		return DatumGetCString(
			DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	if (v->type == jbvString)
		return PsRowString(v);
	return NULL;
}

/* What reading a number found wrong with it */
typedef enum PsRowNumberFault
{
	PS_NUM_OK,	   /* nothing */
	PS_NUM_SYNTAX, /* not a number of the kind */
	PS_NUM_RANGE   /* out of the type's range */
} PsRowNumberFault;

/*
 * Read an integer in [min, max]: optional sign, digits, and a fraction that
 * is all zeros (a JSON 1.0 is 1).
 */
static PsRowNumberFault
PsRowParseInt(const char *s, int64 min, int64 max, int64 *out)
{
	char *copy = pstrdup(s);
	char *dot = strchr(copy, '.');
	char *end;

	if (dot != NULL)
	{
		if (strspn(dot + 1, "0") != strlen(dot + 1) || dot == copy)
			return PS_NUM_SYNTAX;
		*dot = '\0';
	}
	if (copy[0] == '\0' || isspace((unsigned char) copy[0]))
		return PS_NUM_SYNTAX;
	errno = 0;
	*out = strtoi64(copy, &end, 10);
	if (*end != '\0' || end == copy || (errno != 0 && errno != ERANGE))
		return PS_NUM_SYNTAX;
	if (errno == ERANGE || *out < min || *out > max)
		return PS_NUM_RANGE;
	return PS_NUM_OK;
}

/*
 * Is s a decimal number numeric_in accepts without error: digits with an
 * optional point and exponent (at most 1000 characters, exponent within
 * +-1000), or NaN / Infinity?
 */
static bool
PsRowNumericSyntax(const char *s)
{
	const char *p = s;
	int digits = 0;

	if (pg_strcasecmp(s, "NaN") == 0 || pg_strcasecmp(s, "Infinity") == 0 ||
		pg_strcasecmp(s, "+Infinity") == 0 ||
		pg_strcasecmp(s, "-Infinity") == 0)
		return true;
	if (strlen(s) > 1000)
		return false;
	if (*p == '+' || *p == '-')
		p++;
	for (; isdigit((unsigned char) *p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char) *p); p++)
			digits++;
	if (digits == 0)
		return false;
	if (*p == 'e' || *p == 'E')
	{
		char *end;
		long exp;

		errno = 0;
		exp = strtol(p + 1, &end, 10);
		if (errno != 0 || end == p + 1 || exp > 1000 || exp < -1000 ||
			isspace((unsigned char) p[1]))
			return false;
		p = end;
	}
	return *p == '\0';
}

/* Read a double in the range of the kind (real or double precision) */
static PsRowNumberFault
PsRowParseFloat(const char *s, PsRowKind kind, double *out)
{
	char *end;

	if (s[0] == '\0' || isspace((unsigned char) s[0]))
		return PS_NUM_SYNTAX;
	errno = 0;
	*out = strtod(s, &end);
	if (*end != '\0' || end == s)
		return PS_NUM_SYNTAX;
	if (isnan(*out) || isinf(*out))
		return errno == 0 ? PS_NUM_OK : PS_NUM_RANGE; /* NaN, Infinity */
	if (errno == ERANGE)
		return PS_NUM_RANGE;
	return kind == PS_KIND_FLOAT8 || fabs(*out) <= FLT_MAX ? PS_NUM_OK
														   : PS_NUM_RANGE;
}

/*
 * Read a timestamptz the way timestamptz_in does, but report failure instead
 * of raising it.
 */
static bool
PsRowParseTimestamptz(const char *s, TimestampTz *out)
{
	char workbuf[MAXDATELEN + MAXDATEFIELDS];
	char *field[MAXDATEFIELDS];
	int ftype[MAXDATEFIELDS];
	int nf;
	int dtype;
	int tz;
	struct pg_tm tt;
	fsec_t fsec;

	if (ParseDateTime(s, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS,
					  &nf) != 0 ||
		DecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz) != 0)
		return false;
	switch (dtype)
	{
		case DTK_DATE:
			return tm2timestamp(&tt, fsec, &tz, out) == 0;
		case DTK_EPOCH:
			*out = SetEpochTimestamp();
			return true;
		case DTK_LATE:
			TIMESTAMP_NOEND(*out);
			return true;
		case DTK_EARLY:
			TIMESTAMP_NOBEGIN(*out);
			return true;
	}
	return false;
}

/* Say what is wrong with a number for a number column */
static bool
PsRowBadNumber(PsRowColumn *col, JsonbValue *v, const char *s,
			   PsRowNumberFault fault, const char *what, PsError *err)
{
	char *shown = strlen(s) <= 40 ? (char *) s : psprintf("%.37s...", s);

	if (v->type == jbvString)
		shown = psprintf("\"%s\"", shown);

	return PsRowBadValue(
		col, shown, fault == PS_NUM_RANGE ? "is out of range" : what, err);
}

/* Convert a number (or numeric string) for a number column */
static bool
PsRowCoerceNumber(PsRowColumn *col, JsonbValue *v, Datum *out, PsError *err)
{
	static const int64 lo[] = {[PS_KIND_INT2] = PG_INT16_MIN,
							   [PS_KIND_INT4] = PG_INT32_MIN,
							   [PS_KIND_INT8] = PG_INT64_MIN};
	static const int64 hi[] = {[PS_KIND_INT2] = PG_INT16_MAX,
							   [PS_KIND_INT4] = PG_INT32_MAX,
							   [PS_KIND_INT8] = PG_INT64_MAX};
	char *s = PsRowNumberText(v);
	PsRowNumberFault fault;
	int64 i;
	double d;

	if (s == NULL)
		return PsRowWrongType(col, "a number", v, err);
	switch (col->kind)
	{
		case PS_KIND_INT2:
		case PS_KIND_INT4:
		case PS_KIND_INT8:
			fault = PsRowParseInt(s, lo[col->kind], hi[col->kind], &i);
			if (fault != PS_NUM_OK)
				return PsRowBadNumber(col, v, s, fault, "is not an integer",
									  err);
			*out = col->kind == PS_KIND_INT2   ? Int16GetDatum((int16) i)
				   : col->kind == PS_KIND_INT4 ? Int32GetDatum((int32) i)
											   : Int64GetDatum(i);
			return true;
		case PS_KIND_NUMERIC:
			if (v->type == jbvNumeric)
				*out = NumericGetDatum(v->val.numeric);
			else if (!PsRowNumericSyntax(s))
				return PsRowBadNumber(col, v, s, PS_NUM_SYNTAX,
									  "is not a number", err);
			else
				*out = DirectFunctionCall3(numeric_in, CStringGetDatum(s),
										   ObjectIdGetDatum(InvalidOid),
										   Int32GetDatum(-1));
			return true;
		default:
			fault = PsRowParseFloat(s, col->kind, &d);
			if (fault != PS_NUM_OK)
				return PsRowBadNumber(col, v, s, fault, "is not a number",
									  err);
			*out = col->kind == PS_KIND_FLOAT4 ? Float4GetDatum((float4) d)
											   : Float8GetDatum(d);
			return true;
	}
}

/* The text a value of another type is cast from */
static char *
PsRowValueText(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return PsRowString(v);
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		case jbvNumeric:
			return PsRowNumberText(v);
		default:
			return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	}
}

/* Build a text[] from a JSON array of strings (or any scalars) and nulls */
static bool
PsRowTextArray(PsRowColumn *col, JsonbValue *v, bool strings_only, Datum *out,
			   PsError *err)
{
	int n;
	Datum *elems;
	bool *nulls;
	int dims[1];
	int lbs[1] = {1};

	if (!PsRowIsArray(v))
		return PsRowWrongType(col, "an array", v, err);
	n = PsRowArraySize(v);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	nulls = palloc(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = PsRowArrayElem(v, i);

		nulls[i] = e->type == jbvNull;
		if (nulls[i])
			continue;
		if ((strings_only && e->type != jbvString) || e->type == jbvBinary)
			return PsRowWrongType(col,
								  strings_only ? "an array of strings"
											   : "an array of scalars",
								  e, err);
		elems[i] = CStringGetTextDatum(PsRowValueText(e));
	}
	dims[0] = n;
	*out = PointerGetDatum(n == 0 ? construct_empty_array(TEXTOID)
								  : construct_md_array(elems, nulls, 1, dims,
													   lbs, TEXTOID, -1, false,
													   TYPALIGN_INT));
	return true;
}

/* Convert a non-null JSON value to a Datum of the column's bind type */
static bool
PsRowCoerce(PsRowColumn *col, JsonbValue *v, Datum *out, PsError *err)
{
	TimestampTz ts;

	switch (col->kind)
	{
		case PS_KIND_TEXT:
			if (v->type != jbvString)
				return PsRowWrongType(col, "a string", v, err);
			*out = PointerGetDatum(cstring_to_text_with_len(
				v->val.string.val, v->val.string.len));
			return true;
		case PS_KIND_BOOL:
			if (v->type != jbvBool)
				return PsRowWrongType(col, "true or false", v, err);
			*out = BoolGetDatum(v->val.boolean);
			return true;
		case PS_KIND_TIMESTAMPTZ:
			if (v->type != jbvString)
				return PsRowWrongType(col, "a timestamp string", v, err);
			if (!PsRowParseTimestamptz(PsRowString(v), &ts))
				return PsRowBadValue(col, psprintf("\"%s\"", PsRowString(v)),
									 "is not a valid timestamp", err);
			*out = TimestampTzGetDatum(ts);
			return true;
		case PS_KIND_JSONB:
			*out = JsonbPGetDatum(JsonbValueToJsonb(v));
			return true;
		case PS_KIND_TEXT_ARRAY:
			return PsRowTextArray(col, v, true, out, err);
		case PS_KIND_ARRAY:
			return PsRowTextArray(col, v, false, out, err);
		case PS_KIND_OTHER:
			*out = CStringGetTextDatum(PsRowValueText(v));
			return true;
		default:
			return PsRowCoerceNumber(col, v, out, err);
	}
}

/* Write the cast a parameter of kind ARRAY or OTHER needs, if any */
static void
PsRowCastSuffix(PsRowSql *s, PsRowColumn *col, Oid type)
{
	if (col->kind == PS_KIND_ARRAY || col->kind == PS_KIND_OTHER)
		appendStringInfo(&s->buf, " AS %s)", format_type_be_qualified(type));
}

/*
 * Bind a value for col: write $n (or CAST($n AS type) for other types) and
 * add the parameter; type_mismatch if the value does not fit.
 */
bool
PsRowBindValue(PsRowSql *s, PsRowColumn *col, JsonbValue *v, PsError *err)
{
	Datum d = (Datum) 0;
	bool cast = col->kind == PS_KIND_ARRAY || col->kind == PS_KIND_OTHER;

	if (v->type != jbvNull && !PsRowCoerce(col, v, &d, err))
		return false;
	if (cast)
		appendStringInfoString(&s->buf, "CAST(");
	PsRowSqlArg(s, PsRowBindType(col->kind), d, v->type == jbvNull);
	PsRowCastSuffix(s, col, col->typid);
	return true;
}

/*
 * Bind a JSON array of values for col as one array parameter, for $in and
 * $nin: 0 to PS_ROW_MAX_BATCH values, no nulls.
 */
bool
PsRowBindArray(PsRowSql *s, PsRowColumn *col, JsonbValue *v, const char *op,
			   PsError *err)
{
	Oid elemtype = PsRowBindType(col->kind);
	Oid arraytype =
		get_array_type(col->kind == PS_KIND_OTHER ? col->typid : elemtype);
	int n;
	Datum *elems;
	int16 typlen;
	bool typbyval;
	char typalign;

	if (col->kind == PS_KIND_TEXT_ARRAY || col->kind == PS_KIND_ARRAY ||
		!OidIsValid(arraytype))
	{
		PsSetError(err, "type_mismatch",
				   "operator \"%s\" does not apply to column \"%s\" (%s)", op,
				   col->name, PsRowTypeName(col->typid, col->typmod));
		return false;
	}
	if (!PsRowIsArray(v) || PsRowArraySize(v) > PS_ROW_MAX_BATCH)
	{
		PsSetError(err, PsRowIsArray(v) ? "too_large" : "invalid_request",
				   "operator \"%s\" on column \"%s\" needs an array of at "
				   "most %d values",
				   op, col->name, PS_ROW_MAX_BATCH);
		return false;
	}
	n = PsRowArraySize(v);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = PsRowArrayElem(v, i);

		if (e->type == jbvNull)
		{
			PsSetError(err, "invalid_request",
					   "operator \"%s\" on column \"%s\" cannot hold null "
					   "(use \"$null\")",
					   op, col->name);
			return false;
		}
		if (!PsRowCoerce(col, e, &elems[i], err))
			return false;
	}
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	if (col->kind == PS_KIND_OTHER)
		appendStringInfoString(&s->buf, "CAST(");
	PsRowSqlArg(
		s, get_array_type(elemtype),
		PointerGetDatum(n == 0 ? construct_empty_array(elemtype)
							   : construct_array(elems, n, elemtype, typlen,
												 typbyval, typalign)),
		false);
	PsRowCastSuffix(s, col, arraytype);
	return true;
}

/*
 * Bind one element for $push onto an array column (text[], another array
 * type, or a jsonb array); type_mismatch for any other column.
 */
bool
PsRowBindElement(PsRowSql *s, PsRowColumn *col, JsonbValue *v, PsError *err)
{
	PsRowColumn elem = *col;

	switch (col->kind)
	{
		case PS_KIND_JSONB:
			return PsRowBindValue(s, col, v, err);
		case PS_KIND_TEXT_ARRAY:
			elem.kind = PS_KIND_TEXT;
			return PsRowBindValue(s, &elem, v, err);
		case PS_KIND_ARRAY:
			elem.kind = PS_KIND_OTHER;
			elem.typid = get_element_type(col->basetype);
			if (v->type == jbvBinary)
				return PsRowWrongType(col, "a scalar element", v, err);
			return PsRowBindValue(s, &elem, v, err);
		default:
			PsSetError(
				err, "type_mismatch",
				"operator \"$push\" needs an array column; \"%s\" is %s",
				col->name, PsRowTypeName(col->typid, col->typmod));
			return false;
	}
}
