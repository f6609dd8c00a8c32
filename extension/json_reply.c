/*-------------------------------------------------------------------------
 *
 * json_reply.c
 *	  Build jsonb replies without going through text.
 *
 * A thin layer over pushJsonbValue: the reply is always an object, keys are
 * C strings, and nested arrays and objects are opened and closed explicitly.
 * A NULL key means "array element" inside an array.  Stored jsonb values are
 * pushed as jbvBinary, which pushJsonbValue unpacks in place.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/numeric.h"

/* Push the key of the next member, unless we are inside an array */
void
PsReplyKey(PsReply *r, const char *key)
{
	JsonbValue k;

	if (key == NULL)
		return;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(&r->state, WJB_KEY, &k);
}

/* Push a value as object member (key != NULL) or array element */
void
PsReplyValue(PsReply *r, const char *key, JsonbValue *v)
{
	PsReplyKey(r, key);
	pushJsonbValue(&r->state, key ? WJB_VALUE : WJB_ELEM, v);
}

/* Start the top-level reply object */
void
PsReplyBegin(PsReply *r)
{
	r->state = NULL;
	r->result = pushJsonbValue(&r->state, WJB_BEGIN_OBJECT, NULL);
}

/* Add a string member (len < 0: NUL-terminated) */
void
PsReplyString(PsReply *r, const char *key, const char *val, int len)
{
	JsonbValue v;

	v.type = jbvString;
	v.val.string.val = (char *) val;
	v.val.string.len = len < 0 ? (int) strlen(val) : len;
	PsReplyValue(r, key, &v);
}

/* Add a boolean member */
void
PsReplyBool(PsReply *r, const char *key, bool val)
{
	JsonbValue v;

	v.type = jbvBool;
	v.val.boolean = val;
	PsReplyValue(r, key, &v);
}

/* Add a numeric member from a numeric Datum */
void
PsReplyNumeric(PsReply *r, const char *key, Datum num)
{
	JsonbValue v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(num);
	PsReplyValue(r, key, &v);
}

/* Add an integer member */
void
PsReplyInt64(PsReply *r, const char *key, int64 val)
{
	PsReplyNumeric(r, key, NumericGetDatum(int64_to_numeric(val)));
}

/* Add a JSON null member */
void
PsReplyNull(PsReply *r, const char *key)
{
	JsonbValue v;

	v.type = jbvNull;
	PsReplyValue(r, key, &v);
}

/* Add a timestamptz member in ISO 8601, or null */
void
PsReplyTimestamp(PsReply *r, const char *key, Datum ts, bool isnull)
{
	char buf[MAXDATELEN + 1];

	if (isnull)
	{
		PsReplyNull(r, key);
		return;
	}
	JsonEncodeDateTime(buf, ts, TIMESTAMPTZOID, NULL);
	PsReplyString(r, key, pstrdup(buf), -1);
}

/* Add a stored jsonb value as a member */
void
PsReplyJsonb(PsReply *r, const char *key, Jsonb *val)
{
	JsonbValue v;

	if (JB_ROOT_IS_SCALAR(val))
	{
		JsonbValue *scalar = getIthJsonbValueFromContainer(&val->root, 0);

		PsReplyValue(r, key, scalar);
		return;
	}
	v.type = jbvBinary;
	v.val.binary.data = &val->root;
	v.val.binary.len = VARSIZE(val) - VARHDRSZ;
	PsReplyValue(r, key, &v);
}

/* Add a bytea as a base64 string member */
void
PsReplyBytesB64(PsReply *r, const char *key, bytea *val)
{
	int len = VARSIZE_ANY_EXHDR(val);
	int enclen = pg_b64_enc_len(len);
	char *buf = palloc(enclen + 1);
	int n;

	n = pg_b64_encode(VARDATA_ANY(val), len, buf, enclen);
	if (n < 0)
		elog(ERROR, "base64 encoding failed");
	PsReplyString(r, key, buf, n);
}

/* Open an array member */
void
PsReplyBeginArray(PsReply *r, const char *key)
{
	PsReplyKey(r, key);
	pushJsonbValue(&r->state, WJB_BEGIN_ARRAY, NULL);
}

/* Close the innermost array */
void
PsReplyEndArray(PsReply *r)
{
	pushJsonbValue(&r->state, WJB_END_ARRAY, NULL);
}

/* Open an object member (or array element when key is NULL) */
void
PsReplyBeginObject(PsReply *r, const char *key)
{
	PsReplyKey(r, key);
	pushJsonbValue(&r->state, WJB_BEGIN_OBJECT, NULL);
}

/* Close the innermost object */
void
PsReplyEndObject(PsReply *r)
{
	pushJsonbValue(&r->state, WJB_END_OBJECT, NULL);
}

/* Close the reply and serialize it */
Jsonb *
PsReplyFinish(PsReply *r)
{
	r->result = pushJsonbValue(&r->state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(r->result);
}
