/*-------------------------------------------------------------------------
 *
 * json_binary.c
 *	  Write a page of rows straight into jsonb's binary format.
 *
 * The row tier answers select, search and aggregate with an object such as
 * {"rows": [{..}, {..}], "count": 2, "truncated": false}.  Built with
 * pushJsonbValue, every value becomes a node of an in-memory tree that
 * JsonbValueToJsonb then walks again to serialize, sorting each row's keys
 * on the way; that took a quarter of a search's time.  Here each row is
 * serialized once, as the executor hands it over, into the bytes
 * convertToJsonb (jsonb_util.c) would write:
 *
 *	- a container is a header word (count and flags), one JEntry per element
 *	  (for an object: every key, then every value), then the elements' data;
 *	- a JEntry holds the element's type and its length, or, for every
 *	  JB_OFFSET_STRIDE'th element, the end offset of its data;
 *	- numerics and containers start at a 4-byte boundary, their padding
 *	  counted in their length;
 *	- object keys are sorted by length, then bytes, and unique.
 *
 * All rows of a result have the same keys, so a row's header, key JEntries
 * and key strings are made once (PsJbKeys) and copied.  Rows go to an array
 * whose data starts at a 4-byte boundary of its own buffer (PsJbArray);
 * since every container starts at such a boundary, that buffer is copied
 * as it is into the reply (PsJbFinish).  Integers are written as numeric
 * digits directly, with numeric_in's normalisation: what
 * sql/row_binary.sql checks, byte for byte, against jsonb_in of the text.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

/*
 * The short numeric format (numeric.c): after the varlena header a uint16
 * of sign, display scale and weight, then base-10000 digits, most
 * significant first, without leading or trailing zero digits.  It is
 * numeric's on-disk format, so it does not change between releases.
 */
#define PS_NUMERIC_SHORT 0x8000
#define PS_NUMERIC_SHORT_SIGN_MASK 0x2000
#define PS_NUMERIC_SHORT_WEIGHT_MASK 0x003F
#define PS_NBASE 10000

/* Append n zero bytes so that buf's length is a multiple of 4; return n */
static int
PsJbPad(StringInfo buf)
{
	int pad = INTALIGN(buf->len) - buf->len;

	if (pad > 0)
	{
		enlargeStringInfo(buf, pad);
		memset(buf->data + buf->len, 0, pad);
		buf->len += pad;
		buf->data[buf->len] = '\0';
	}
	return pad;
}

/* Refuse a container whose data would not fit a JEntry's length field */
static void
PsJbCheckLength(int64 len)
{
	if (len > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("reply too large: a JSON value exceeds the maximum of "
						"%d bytes",
						JENTRY_OFFLENMASK)));
}

/* Append a numeric (any varlena header) with a 4-byte header; its JEntry */
static JEntry
PsJbNumeric(StringInfo buf, Numeric num)
{
	int pad = PsJbPad(buf);
	int size = VARSIZE_ANY_EXHDR(num) + VARHDRSZ;
	char *p;

	enlargeStringInfo(buf, size);
	p = buf->data + buf->len;
	SET_VARSIZE(p, size);
	memcpy(p + VARHDRSZ, VARDATA_ANY(num), size - VARHDRSZ);
	buf->len += size;
	buf->data[buf->len] = '\0';
	return JENTRY_ISNUMERIC | (pad + size);
}

/* Append an integer as numeric_in would store its decimal text; its JEntry */
static JEntry
PsJbInt64(StringInfo buf, int64 v)
{
	uint64 u = v < 0 ? -(uint64) v : (uint64) v;
	int16 digits[5]; /* 2^64 has 20 decimal digits: 5 base-10000 ones */
	int n = 0;
	int skip = 0;
	int weight;
	int pad = INTALIGN(buf->len) - buf->len;
	int size;
	uint16 header;
	char *p;

	while (u > 0)
	{
		digits[n++] = u % PS_NBASE;
		u /= PS_NBASE;
	}
	/* digits[] is least significant first; trailing zero digits go */
	while (skip < n && digits[skip] == 0)
		skip++;
	weight = n > 0 ? n - 1 : 0;
	header = PS_NUMERIC_SHORT | (v < 0 ? PS_NUMERIC_SHORT_SIGN_MASK : 0) |
			 (weight & PS_NUMERIC_SHORT_WEIGHT_MASK);
	size = VARHDRSZ + sizeof(uint16) + (n - skip) * sizeof(int16);
	enlargeStringInfo(buf, pad + size);
	p = buf->data + buf->len;
	memset(p, 0, pad);
	p += pad;
	SET_VARSIZE(p, size);
	memcpy(p + VARHDRSZ, &header, sizeof(uint16));
	p += VARHDRSZ + sizeof(uint16);
	for (int i = n - 1; i >= skip; i--, p += sizeof(int16))
		memcpy(p, &digits[i], sizeof(int16));
	buf->len += pad + size;
	buf->data[buf->len] = '\0';
	return JENTRY_ISNUMERIC | (pad + size);
}

/* Append a JSON value (a scalar, or a serialized container); its JEntry */
JEntry
PsJbValue(StringInfo buf, const JsonbValue *v)
{
	int pad;

	switch (v->type)
	{
		case jbvNull:
			return JENTRY_ISNULL;
		case jbvBool:
			return v->val.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
		case jbvString:
			PsJbCheckLength(v->val.string.len);
			appendBinaryStringInfo(buf, v->val.string.val, v->val.string.len);
			return JENTRY_ISSTRING | v->val.string.len;
		case jbvNumeric:
			return PsJbNumeric(buf, v->val.numeric);
		case jbvBinary:
			/* A container keeps its inner alignment at any 4-byte boundary */
			pad = PsJbPad(buf);
			PsJbCheckLength((int64) pad + v->val.binary.len);
			appendBinaryStringInfo(buf, (char *) v->val.binary.data,
								   v->val.binary.len);
			return JENTRY_ISCONTAINER | (pad + v->val.binary.len);
		default:
			elog(ERROR, "unexpected JSON value type %d", (int) v->type);
	}
	return JENTRY_ISNULL;
}

/* Append datum d of type basetype (no domain) as JSON; its JEntry */
JEntry
PsJbDatum(StringInfo buf, Datum d, bool isnull, Oid basetype)
{
	JsonbValue v;

	if (isnull)
		return JENTRY_ISNULL;
	switch (basetype)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		{
			text *t = DatumGetTextPP(d);
			int len = VARSIZE_ANY_EXHDR(t);

			PsJbCheckLength(len);
			appendBinaryStringInfo(buf, VARDATA_ANY(t), len);
			return JENTRY_ISSTRING | len;
		}
		case INT2OID:
			return PsJbInt64(buf, DatumGetInt16(d));
		case INT4OID:
			return PsJbInt64(buf, DatumGetInt32(d));
		case INT8OID:
			return PsJbInt64(buf, DatumGetInt64(d));
		case BOOLOID:
			return DatumGetBool(d) ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
		case TIMESTAMPTZOID:
		{
			int len;

			enlargeStringInfo(buf, PS_TIMESTAMPTZ_ISO_MAX);
			len =
				PsTimestamptzIso(buf->data + buf->len, DatumGetTimestampTz(d));
			if (len < 0)
				break; /* not in the fast formatter's range */
			buf->len += len;
			buf->data[buf->len] = '\0';
			return JENTRY_ISSTRING | len;
		}
		default:
			break;
	}
	PsDatumJson(d, false, basetype, &v);
	return PsJbValue(buf, &v);
}

/* Order two keys as jsonb orders an object's keys: shorter first, then bytes
 */
static int
PsJbKeyOrder(const char *a, int la, const char *b, int lb)
{
	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(a, b, la);
}

/*
 * Make the keys of rows whose values come in the order of keys[0..n-1]:
 * sorted, and unique (of two equal keys the later one's value is kept, as
 * pushJsonbValue keeps it).
 */
void
PsJbKeysInit(PsJbKeys *k, const char *const *keys, int n)
{
	StringInfoData data;
	int total = 0;

	k->source = palloc(sizeof(int) * Max(n, 1));
	k->n = 0;
	for (int i = n - 1; i >= 0; i--)
	{
		int len = strlen(keys[i]);
		int pos = k->n;
		bool dup = false;

		/* insertion sort, latest occurrence first among equals */
		for (int j = 0; j < k->n; j++)
		{
			const char *o = keys[k->source[j]];
			int c = PsJbKeyOrder(keys[i], len, o, strlen(o));

			if (c == 0)
				dup = true;
			if (c <= 0)
			{
				pos = j;
				break;
			}
		}
		if (dup)
			continue;
		memmove(&k->source[pos + 1], &k->source[pos],
				sizeof(int) * (k->n - pos));
		k->source[pos] = i;
		k->n++;
	}

	/* header word, then the key JEntries, then the key strings */
	k->head = palloc(sizeof(uint32) + sizeof(JEntry) * Max(k->n, 1));
	k->head[0] = k->n | JB_FOBJECT;
	initStringInfo(&data);
	for (int i = 0; i < k->n; i++)
	{
		const char *key = keys[k->source[i]];
		int len = strlen(key);

		total += len;
		PsJbCheckLength(total);
		appendBinaryStringInfo(&data, key, len);
		k->head[1 + i] = (i % JB_OFFSET_STRIDE) == 0
							 ? (JENTRY_ISSTRING | total | JENTRY_HAS_OFF)
							 : (JENTRY_ISSTRING | (uint32) len);
	}
	k->keydata = data.data;
	k->keylen = data.len;
}

/* Start an empty array */
void
PsJbArrayInit(PsJbArray *a)
{
	initStringInfo(&a->data);
	a->n = 0;
	a->max = 16;
	a->entries = palloc(sizeof(JEntry) * a->max);
}

/* Record the element that ends at a->data's current end, of type type */
static void
PsJbArrayAdd(PsJbArray *a, JEntry type, int start)
{
	int len = a->data.len - start;

	PsJbCheckLength(a->data.len);
	if (a->n == a->max)
	{
		a->max *= 2;
		a->entries = repalloc(a->entries, sizeof(JEntry) * a->max);
	}
	/* the array's data starts at 0 of a->data: its end is the offset */
	a->entries[a->n] = (a->n % JB_OFFSET_STRIDE) == 0
						   ? (type | a->data.len | JENTRY_HAS_OFF)
						   : (type | len);
	a->n++;
}

/*
 * Append to a an object of keys k whose values, in the caller's order, are
 * values[i] (of base type types[i]), null where isnull[i].
 */
void
PsJbArrayAddRow(PsJbArray *a, const PsJbKeys *k, const Datum *values,
				const bool *isnull, const Oid *types)
{
	StringInfo buf = &a->data;
	int start = buf->len;
	int head;
	int total = 0;

	PsJbPad(buf);
	head = buf->len;
	appendBinaryStringInfo(buf, (char *) k->head,
						   sizeof(uint32) + sizeof(JEntry) * k->n);
	enlargeStringInfo(buf, sizeof(JEntry) * k->n);
	buf->len += sizeof(JEntry) * k->n; /* the value JEntries, filled below */
	appendBinaryStringInfo(buf, k->keydata, k->keylen);
	total = k->keylen;
	for (int i = 0; i < k->n; i++)
	{
		int j = k->source[i];
		int before = buf->len;
		JEntry e = PsJbDatum(buf, values[j], isnull[j], types[j]);
		int at = k->n + i; /* values follow the keys */

		total += buf->len - before;
		PsJbCheckLength(total);
		if ((at % JB_OFFSET_STRIDE) == 0)
			e = (e & JENTRY_TYPEMASK) | total | JENTRY_HAS_OFF;
		memcpy(buf->data + head + sizeof(uint32) + sizeof(JEntry) * at, &e,
			   sizeof(JEntry));
	}
	PsJbArrayAdd(a, JENTRY_ISCONTAINER, start);
}

/* Append the value of member m to buf; its JEntry */
static JEntry
PsJbMemberValue(StringInfo buf, const PsJbMember *m)
{
	const PsJbArray *a = m->array;
	int pad;

	if (a == NULL)
		return PsJbValue(buf, &m->value);
	pad = PsJbPad(buf);
	appendBinaryStringInfo(buf, (char *) &(uint32){a->n | JB_FARRAY},
						   sizeof(uint32));
	appendBinaryStringInfo(buf, (char *) a->entries, sizeof(JEntry) * a->n);
	appendBinaryStringInfo(buf, a->data.data, a->data.len);
	PsJbCheckLength((int64) pad + sizeof(uint32) + sizeof(JEntry) * a->n +
					a->data.len);
	return JENTRY_ISCONTAINER |
		   (pad + sizeof(uint32) + sizeof(JEntry) * a->n + a->data.len);
}

/* The jsonb object of n members (keys unique), in any order */
Jsonb *
PsJbFinish(PsJbMember *m, int n)
{
	StringInfoData buf;
	int head;
	int total = 0;

	/* sort the members by key (a handful: insertion sort) */
	for (int i = 1; i < n; i++)
		for (int j = i;
			 j > 0 && PsJbKeyOrder(m[j].key, strlen(m[j].key), m[j - 1].key,
								   strlen(m[j - 1].key)) < 0;
			 j--)
		{
			PsJbMember t = m[j];

			m[j] = m[j - 1];
			m[j - 1] = t;
		}
	initStringInfo(&buf);
	buf.len = VARHDRSZ; /* the varlena header, set at the end */
	head = buf.len;
	appendBinaryStringInfo(&buf, (char *) &(uint32){n | JB_FOBJECT},
						   sizeof(uint32));
	enlargeStringInfo(&buf, sizeof(JEntry) * 2 * n);
	buf.len += sizeof(JEntry) * 2 * n;
	for (int i = 0; i < 2 * n; i++)
	{
		int before = buf.len;
		JEntry e;

		if (i < n)
		{
			appendBinaryStringInfo(&buf, m[i].key, strlen(m[i].key));
			e = JENTRY_ISSTRING | strlen(m[i].key);
		}
		else
			e = PsJbMemberValue(&buf, &m[i - n]);
		total += buf.len - before;
		PsJbCheckLength(total);
		if ((i % JB_OFFSET_STRIDE) == 0)
			e = (e & JENTRY_TYPEMASK) | total | JENTRY_HAS_OFF;
		memcpy(buf.data + head + sizeof(uint32) + sizeof(JEntry) * i, &e,
			   sizeof(JEntry));
	}
	SET_VARSIZE(buf.data, buf.len);
	return (Jsonb *) buf.data;
}
