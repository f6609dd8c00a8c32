/*-------------------------------------------------------------------------
 *
 * kv_request.c
 *	  Validate a KV request at the boundary, once.
 *
 * A request is a JSON object.  Each operation has the fields it allows and
 * those it requires; an unknown field, a field of the wrong type or out of
 * its range, or a missing one is refused with invalid_request naming it, and
 * an oversized key or value with too_large.  What comes out is a PsKvRequest
 * that kv.c trusts.
 *
 *-------------------------------------------------------------------------
 */
#include "kv.h"

#include "common/base64.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

/* An operation's name and the fields it allows and requires */
typedef struct PsKvOpSpec
{
	const char *name; /* as on the wire */
	PsKvOp op;		  /* the operation */
	uint32 allowed;	  /* PS_F_* it accepts */
	uint32 required;  /* PS_F_* it needs */
} PsKvOpSpec;

#define F_WHERE (PS_F_COLLECTION | PS_F_SCOPE)

static const PsKvOpSpec ps_kv_ops[] = {
	{"set", PS_KV_SET,
	 F_WHERE | PS_F_KEY | PS_F_VALUE | PS_F_VALUE_B64 | PS_F_TTL |
		 PS_F_IF_ABSENT | PS_F_IF_REVISION,
	 PS_F_KEY},
	{"get", PS_KV_GET, F_WHERE | PS_F_KEY, PS_F_KEY},
	{"delete", PS_KV_DELETE, F_WHERE | PS_F_KEY, PS_F_KEY},
	{"list", PS_KV_LIST, F_WHERE | PS_F_PREFIX | PS_F_LIMIT | PS_F_CURSOR, 0},
	{"incr", PS_KV_INCR, F_WHERE | PS_F_KEY | PS_F_BY | PS_F_TTL, PS_F_KEY},
	{"mget", PS_KV_MGET, F_WHERE | PS_F_KEYS, PS_F_KEYS},
	{"mset", PS_KV_MSET, F_WHERE | PS_F_ITEMS, PS_F_ITEMS},
	{"count", PS_KV_COUNT, F_WHERE, 0},
	{"exists", PS_KV_EXISTS, F_WHERE | PS_F_KEY, PS_F_KEY},
	{"clear", PS_KV_CLEAR, F_WHERE, 0},
	{"collections", PS_KV_COLLECTIONS, PS_F_SCOPE, 0},
	{"drop", PS_KV_DROP, F_WHERE, PS_F_COLLECTION},
	{"all", PS_KV_ALL, F_WHERE | PS_F_LIMIT | PS_F_OFFSET, 0},
	{"expire", PS_KV_EXPIRE, F_WHERE | PS_F_KEY | PS_F_TTL,
	 PS_F_KEY | PS_F_TTL},
	{"ttl", PS_KV_TTL, F_WHERE | PS_F_KEY, PS_F_KEY},
};

/* Field names, indexed by bit position */
static const char *const ps_field_names[] = {
	"key",	  "value",	   "value_b64",	  "ttl",	"collection",
	"scope",  "if_absent", "if_revision", "prefix", "limit",
	"cursor", "by",		   "keys",		  "items",	"offset",
};

/* The PS_F_* bit of a field name, or 0 */
static uint32
PsFieldBit(const char *name, int len)
{
	for (int i = 0; i < (int) lengthof(ps_field_names); i++)
		if ((int) strlen(ps_field_names[i]) == len &&
			memcmp(ps_field_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

/* The wire name of one PS_F_* bit */
static const char *
PsFieldName(uint32 bit)
{
	for (int i = 0; i < (int) lengthof(ps_field_names); i++)
		if (bit == (1u << i))
			return ps_field_names[i];
	return "?";
}

/* Read a string field of bounded length into a text */
static bool
PsGetText(const JsonbValue *v, const char *field, int minlen, int maxlen,
		  text **out, PsError *err)
{
	if (v->type != jbvString)
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" must be a string, not %s", field,
				   PsJsonTypeName(v));
		return false;
	}
	if (v->val.string.len < minlen)
	{
		PsSetError(err, "invalid_request", "field \"%s\" must not be empty",
				   field);
		return false;
	}
	if (v->val.string.len > maxlen)
	{
		PsSetError(err, "too_large",
				   "field \"%s\" is %d bytes, more than the limit of %d",
				   field, v->val.string.len, maxlen);
		return false;
	}
	*out = cstring_to_text_with_len(v->val.string.val, v->val.string.len);
	return true;
}

/* Read a ttl: positive seconds, or null for none */
static bool
PsGetTtl(const JsonbValue *v, PsKvItem *item, PsError *err)
{
	double secs;

	if (v->type == jbvNull)
	{
		item->has_ttl = false;
		return true;
	}
	if (v->type != jbvNumeric)
	{
		PsSetError(err, "invalid_request",
				   "field \"ttl\" must be a number of seconds or null, not %s",
				   PsJsonTypeName(v));
		return false;
	}
	secs = DatumGetFloat8(
		DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (!(secs > 0) || secs > PS_MAX_TTL_SECONDS)
	{
		PsSetError(
			err, "invalid_request",
			"field \"ttl\" must be more than 0 and at most %.0f seconds",
			PS_MAX_TTL_SECONDS);
		return false;
	}
	item->has_ttl = true;
	item->ttl = secs;
	return true;
}

/* Read "value": any JSON, within the size limit */
static bool
PsGetValue(JsonbValue *v, PsKvItem *item, PsError *err)
{
	Jsonb *jb = JsonbValueToJsonb(v);

	if ((int) (VARSIZE(jb) - VARHDRSZ) > ps_max_value_bytes)
	{
		PsSetError(err, "too_large",
				   "value is %d bytes, more than the limit of %d",
				   (int) (VARSIZE(jb) - VARHDRSZ), ps_max_value_bytes);
		return false;
	}
	item->value = jb;
	return true;
}

/* Read "value_b64": standard base64 of the bytes to store */
static bool
PsGetValueB64(const JsonbValue *v, PsKvItem *item, PsError *err)
{
	int len;
	int declen;
	bytea *b;

	if (v->type != jbvString)
	{
		PsSetError(err, "invalid_request",
				   "field \"value_b64\" must be a string, not %s",
				   PsJsonTypeName(v));
		return false;
	}
	len = v->val.string.len;
	if (pg_b64_dec_len(len) > ps_max_value_bytes + 3)
	{
		PsSetError(err, "too_large",
				   "value is about %d bytes, more than the limit of %d",
				   pg_b64_dec_len(len), ps_max_value_bytes);
		return false;
	}
	b = palloc(VARHDRSZ + pg_b64_dec_len(len) + 1);
	declen = pg_b64_decode(v->val.string.val, len, VARDATA(b),
						   pg_b64_dec_len(len) + 1);
	if (declen < 0 || (len % 4) != 0)
	{
		PsSetError(err, "invalid_request",
				   "field \"value_b64\" is not valid base64");
		return false;
	}
	if (declen > ps_max_value_bytes)
	{
		PsSetError(err, "too_large",
				   "value is %d bytes, more than the limit of %d", declen,
				   ps_max_value_bytes);
		return false;
	}
	SET_VARSIZE(b, VARHDRSZ + declen);
	item->bytes = b;
	return true;
}

/* Read "scope": "plugin" or "workspace" */
static bool
PsGetScope(const JsonbValue *v, PsKvRequest *req, PsError *err)
{
	if (v->type == jbvString && v->val.string.len == 6 &&
		memcmp(v->val.string.val, "plugin", 6) == 0)
		req->scope = PS_SCOPE_PLUGIN;
	else if (v->type == jbvString && v->val.string.len == 9 &&
			 memcmp(v->val.string.val, "workspace", 9) == 0)
		req->scope = PS_SCOPE_WORKSPACE;
	else
	{
		PsSetError(err, "invalid_request",
				   "field \"scope\" must be \"plugin\" or \"workspace\"");
		return false;
	}
	return true;
}

static bool PsParseItems(const JsonbValue *v, PsKvRequest *req, PsError *err);
static bool PsParseKeys(const JsonbValue *v, PsKvRequest *req, PsError *err);

/* Read one field of a request (or of an mset item) */
static bool
PsParseField(uint32 bit, JsonbValue *v, PsKvRequest *req, PsKvItem *item,
			 PsError *err)
{
	switch (bit)
	{
		case PS_F_KEY:
			return PsGetText(v, "key", 1, ps_max_key_bytes, &item->key, err);
		case PS_F_VALUE:
			return PsGetValue(v, item, err);
		case PS_F_VALUE_B64:
			return PsGetValueB64(v, item, err);
		case PS_F_TTL:
			return PsGetTtl(v, item, err);
		case PS_F_COLLECTION:
			return PsGetText(v, "collection", 1, PS_MAX_COLLECTION_BYTES,
							 &req->collection, err);
		case PS_F_SCOPE:
			return PsGetScope(v, req, err);
		case PS_F_IF_ABSENT:
			if (v->type != jbvBool)
			{
				PsSetError(err, "invalid_request",
						   "field \"if_absent\" must be a boolean, not %s",
						   PsJsonTypeName(v));
				return false;
			}
			req->if_absent = v->val.boolean;
			return true;
		case PS_F_IF_REVISION:
			return PsJsonInt(v, "if_revision", 1, PG_INT64_MAX,
							 &req->if_revision, err);
		case PS_F_PREFIX:
			return PsGetText(v, "prefix", 0, ps_max_key_bytes, &req->prefix,
							 err);
		case PS_F_LIMIT:
			return PsJsonInt(v, "limit", 1, PS_MAX_PAGE, &req->limit, err);
		case PS_F_CURSOR:
			if (v->type == jbvNull)
				return true;
			return PsGetText(v, "cursor", 1, ps_max_key_bytes, &req->cursor,
							 err);
		case PS_F_BY:
			return PsJsonInt(v, "by", PG_INT64_MIN, PG_INT64_MAX, &req->by,
							 err);
		case PS_F_KEYS:
			return PsParseKeys(v, req, err);
		case PS_F_ITEMS:
			return PsParseItems(v, req, err);
		case PS_F_OFFSET:
			return PsJsonInt(v, "offset", 0, PG_INT32_MAX, &req->offset, err);
	}
	elog(ERROR, "unhandled request field bit %u", bit);
	return false;
}

/* Walk an object's members: check each is allowed, then read it */
static bool
PsParseObject(JsonbContainer *c, uint32 allowed, const char *what,
			  PsKvRequest *req, PsKvItem *item, uint32 *present, PsError *err)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue k;
	JsonbValue v;
	JsonbIteratorToken tok;

	*present = 0;
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		uint32 bit;

		if (tok != WJB_KEY)
			continue;
		bit = PsFieldBit(k.val.string.val, k.val.string.len);
		if (bit == 0 || (allowed & bit) == 0)
		{
			PsSetError(err, "invalid_request", "unknown field \"%.*s\" in %s",
					   Min(k.val.string.len, 64), k.val.string.val, what);
			return false;
		}
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		/* null means "absent", except where it says "none" or is stored */
		if (v.type == jbvNull &&
			(bit & (PS_F_VALUE | PS_F_TTL | PS_F_CURSOR)) == 0)
			continue;
		*present |= bit;
		if (!PsParseField(bit, &v, req, item, err))
			return false;
	}
	return true;
}

/* Check that exactly one of value and value_b64 was given */
static bool
PsCheckOneValue(uint32 present, const char *what, PsError *err)
{
	bool json = (present & PS_F_VALUE) != 0;
	bool b64 = (present & PS_F_VALUE_B64) != 0;

	if (json == b64)
	{
		PsSetError(err, "invalid_request",
				   "%s needs exactly one of \"value\" and \"value_b64\"",
				   what);
		return false;
	}
	return true;
}

/* Is this JSON value an array with 1..PS_MAX_BATCH elements? */
static bool
PsCheckBatch(const JsonbValue *v, const char *field, int *n, PsError *err)
{
	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" must be an array, not %s", field,
				   PsJsonTypeName(v));
		return false;
	}
	*n = JsonContainerSize(v->val.binary.data);
	if (*n < 1 || *n > PS_MAX_BATCH)
	{
		PsSetError(err, *n < 1 ? "invalid_request" : "too_large",
				   "field \"%s\" must hold 1 to %d elements, not %d", field,
				   PS_MAX_BATCH, *n);
		return false;
	}
	return true;
}

/* Read mget's "keys": an array of key strings */
static bool
PsParseKeys(const JsonbValue *v, PsKvRequest *req, PsError *err)
{
	int n;

	if (!PsCheckBatch(v, "keys", &n, err))
		return false;
	req->keys = palloc(sizeof(text *) * n);
	req->nkeys = n;
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, i);

		if (!PsGetText(e, "keys[]", 1, ps_max_key_bytes, &req->keys[i], err))
			return false;
	}
	return true;
}

/* Read mset's "items": objects of {key, value | value_b64, ttl?} */
static bool
PsParseItems(const JsonbValue *v, PsKvRequest *req, PsError *err)
{
	int n;

	if (!PsCheckBatch(v, "items", &n, err))
		return false;
	req->items = palloc0(sizeof(PsKvItem) * n);
	req->nitems = n;
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, i);
		uint32 present;
		char *what = psprintf("items[%d]", i);

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
		{
			PsSetError(err, "invalid_request", "%s must be an object, not %s",
					   what, PsJsonTypeName(e));
			return false;
		}
		if (!PsParseObject(e->val.binary.data,
						   PS_F_KEY | PS_F_VALUE | PS_F_VALUE_B64 | PS_F_TTL,
						   what, req, &req->items[i], &present, err))
			return false;
		if (!(present & PS_F_KEY))
		{
			PsSetError(err, "invalid_request", "%s needs a \"key\"", what);
			return false;
		}
		if (!PsCheckOneValue(present, what, err))
			return false;
	}
	return true;
}

/* Find an operation by its wire name */
static const PsKvOpSpec *
PsFindOp(const char *op)
{
	for (int i = 0; i < (int) lengthof(ps_kv_ops); i++)
		if (strcmp(ps_kv_ops[i].name, op) == 0)
			return &ps_kv_ops[i];
	return NULL;
}

/* Check what no single field can: required fields, exclusive options */
static bool
PsCheckRequest(const PsKvOpSpec *spec, PsKvRequest *req, PsError *err)
{
	uint32 missing = spec->required & ~req->present;

	if (missing != 0)
	{
		PsSetError(err, "invalid_request", "%s needs field \"%s\"", spec->name,
				   PsFieldName(missing & -missing));
		return false;
	}
	if (req->op == PS_KV_SET && !PsCheckOneValue(req->present, "set", err))
		return false;
	if ((req->present & PS_F_IF_ABSENT) && req->if_absent &&
		(req->present & PS_F_IF_REVISION))
	{
		PsSetError(
			err, "invalid_request",
			"\"if_absent\" and \"if_revision\" cannot be used together");
		return false;
	}
	return true;
}

/* Validate a request for op against plugin p; fill req, or err */
bool
PsKvParseRequest(PsPlugin *p, const char *op, Jsonb *request, PsKvRequest *req,
				 PsError *err)
{
	const PsKvOpSpec *spec = PsFindOp(op);

	memset(req, 0, sizeof(*req));
	if (spec == NULL)
	{
		PsSetError(err, "invalid_request", "unknown kv operation \"%.64s\"",
				   op);
		return false;
	}
	req->op = spec->op;
	req->scope = PS_SCOPE_PLUGIN;
	req->by = 1;
	req->limit = PS_DEFAULT_PAGE;
	if (request != NULL && !JB_ROOT_IS_OBJECT(request))
	{
		PsSetError(err, "invalid_request",
				   "the request must be a JSON object");
		return false;
	}
	if (request != NULL &&
		!PsParseObject(&request->root, spec->allowed, "the request", req,
					   &req->item, &req->present, err))
		return false;
	if (!PsCheckRequest(spec, req, err))
		return false;

	if (req->collection == NULL)
		req->collection = cstring_to_text("default");
	if (req->prefix == NULL)
		req->prefix = cstring_to_text("");
	if (req->cursor == NULL)
		req->cursor = cstring_to_text("");
	if (req->scope == PS_SCOPE_WORKSPACE)
	{
		if (p->workspace == NULL)
		{
			PsSetError(err, "forbidden",
					   "plugin \"%s\" belongs to no workspace", p->name);
			return false;
		}
		req->ns = cstring_to_text(p->workspace);
	}
	else
		req->ns = cstring_to_text("");
	return true;
}
