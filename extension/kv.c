/*-------------------------------------------------------------------------
 *
 * kv.c
 *	  The KV tier: one handler per operation, and the SQL entry points.
 *
 * plugin_kv(plugin, op, request) is what the bridge calls: it answers every
 * request with jsonb, errors included.  _plugin_kv_raise() is the same call
 * for the typed SQL functions, raising expected failures as ERRORs instead.
 *
 * A request is validated first (kv_request.c), then runs under the plugin's
 * role (context.c) with the plugin's prepared statements (kv_sql.c).  Every
 * expected failure is found before anything is written: a compare-and-set
 * or if_absent that does not hold is a statement that changed no row.
 *
 *-------------------------------------------------------------------------
 */
#include "kv.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

typedef Jsonb *(*PsKvHandler)(PsPlugin *p, PsKvRequest *r, PsError *err);

/*
 * Run one of the plugin's statements; returns rows processed.  SPI leaves its
 * own procedure context current after every call, which SPI_finish frees:
 * switch back, so that the reply is built where it outlives the request.
 */
static uint64
PsRun(PsPlugin *p, PsKvRequest *r, PsKvPlan which, Datum *args,
	  const char *nulls, bool read_only, long limit)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIPlanPtr plan = PsKvPlanFor(p, r->scope, which);
	int rc = SPI_execute_plan(plan, args, nulls, read_only, limit);

	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "plugin_storage: statement %d failed: %s", (int) which,
			 SPI_result_code_string(rc));
	return SPI_processed;
}

/* Column col (1-based) of result row */
static Datum
PsCol(uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col,
						 isnull);
}

/* Column col of result row as int64 (0 when NULL) */
static int64
PsColInt64(uint64 row, int col)
{
	bool isnull;
	Datum d = PsCol(row, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/* Fill $1..$3: namespace, collection, key */
static void
PsKeyArgs(PsKvRequest *r, text *key, Datum *args, char *nulls)
{
	args[0] = PointerGetDatum(r->ns);
	args[1] = PointerGetDatum(r->collection);
	args[2] = PointerGetDatum(key);
	nulls[0] = nulls[1] = nulls[2] = ' ';
}

/* Fill $1..$6 of a set: key, value or bytes, ttl */
static void
PsSetArgs(PsKvRequest *r, PsKvItem *item, Datum *args, char *nulls)
{
	PsKeyArgs(r, item->key, args, nulls);
	args[3] = PointerGetDatum(item->value);
	nulls[3] = item->value ? ' ' : 'n';
	args[4] = PointerGetDatum(item->bytes);
	nulls[4] = item->bytes ? ' ' : 'n';
	args[5] = Float8GetDatum(item->ttl);
	nulls[5] = item->has_ttl ? ' ' : 'n';
}

/* Add a stored value: "value" for JSON, "value_b64" for bytes */
static void
PsReplyStoredValue(PsReply *out, const char *jkey, const char *bkey,
				   uint64 row, int vcol, int bcol)
{
	bool vnull;
	bool bnull;
	Datum v = PsCol(row, vcol, &vnull);
	Datum b = PsCol(row, bcol, &bnull);

	if (!bnull)
		PsReplyBytesB64(out, bkey, DatumGetByteaPP(b));
	else if (!vnull)
		PsReplyJsonb(out, jkey, DatumGetJsonbP(v));
	else
		PsReplyNull(out, jkey);
}

/* Add a timestamptz column */
static void
PsReplyTsCol(PsReply *out, const char *key, uint64 row, int col)
{
	bool isnull;
	Datum d = PsCol(row, col, &isnull);

	PsReplyTimestamp(out, key, d, isnull);
}

/* Refuse a write that would take the namespace over its key quota */
static bool
PsCheckQuota(PsPlugin *p, PsKvRequest *r, int64 new_keys, PsError *err)
{
	Datum args[1] = {PointerGetDatum(r->ns)};
	int64 live;

	if (ps_max_keys_per_plugin <= 0 || new_keys <= 0)
		return true;
	PsRun(p, r, PS_PLAN_QUOTA, args, " ", true, 1);
	live = PsColInt64(0, 1);
	if (live + new_keys > ps_max_keys_per_plugin)
	{
		PsSetError(err, "too_large",
				   "%s \"%s\" holds " INT64_FORMAT " keys; the quota is %d",
				   r->scope == PS_SCOPE_PLUGIN ? "plugin" : "workspace",
				   r->scope == PS_SCOPE_PLUGIN ? p->name : p->workspace, live,
				   ps_max_keys_per_plugin);
		return false;
	}
	return true;
}

/* Does this key exist (live)? */
static bool
PsKeyExists(PsPlugin *p, PsKvRequest *r, text *key)
{
	Datum args[3];
	char nulls[3];

	PsKeyArgs(r, key, args, nulls);
	return PsRun(p, r, PS_PLAN_EXISTS, args, nulls, true, 1) > 0;
}

/* set: upsert, create-only (if_absent) or compare-and-set (if_revision) */
static Jsonb *
PsKvSet(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[7];
	char nulls[7];
	bool cas = (r->present & PS_F_IF_REVISION) != 0;
	PsKvPlan which = cas			? PS_PLAN_SET_IF_REVISION
					 : r->if_absent ? PS_PLAN_SET_IF_ABSENT
									: PS_PLAN_SET;
	PsReply out;

	if (ps_max_keys_per_plugin > 0 && !cas &&
		!PsKeyExists(p, r, r->item.key) && !PsCheckQuota(p, r, 1, err))
		return NULL;
	PsSetArgs(r, &r->item, args, nulls);
	args[6] = Int64GetDatum(r->if_revision);
	nulls[6] = ' ';
	if (PsRun(p, r, which, args, nulls, false, 0) == 0)
	{
		if (cas)
			PsSetError(err, "conflict",
					   "key \"%s\" is not at revision " INT64_FORMAT,
					   text_to_cstring(r->item.key), r->if_revision);
		else
			PsSetError(err, "conflict", "key \"%s\" already exists",
					   text_to_cstring(r->item.key));
		return NULL;
	}
	PsReplyBegin(&out);
	PsReplyBool(&out, "ok", true);
	PsReplyInt64(&out, "revision", PsColInt64(0, 1));
	PsReplyTsCol(&out, "expires_at", 0, 2);
	return PsReplyFinish(&out);
}

/* get: the live value and its metadata, or exists:false */
static Jsonb *
PsKvGet(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[3];
	char nulls[3];
	PsReply out;

	PsKeyArgs(r, r->item.key, args, nulls);
	PsReplyBegin(&out);
	if (PsRun(p, r, PS_PLAN_GET, args, nulls, true, 1) == 0)
	{
		PsReplyBool(&out, "exists", false);
		PsReplyNull(&out, "value");
		return PsReplyFinish(&out);
	}
	PsReplyBool(&out, "exists", true);
	PsReplyStoredValue(&out, "value", "value_b64", 0, 1, 2);
	PsReplyInt64(&out, "revision", PsColInt64(0, 3));
	PsReplyTsCol(&out, "created_at", 0, 4);
	PsReplyTsCol(&out, "updated_at", 0, 5);
	PsReplyTsCol(&out, "expires_at", 0, 6);
	return PsReplyFinish(&out);
}

/* delete: deleted is true only if a live key went away */
static Jsonb *
PsKvDelete(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[3];
	char nulls[3];
	bool deleted = false;
	PsReply out;

	PsKeyArgs(r, r->item.key, args, nulls);
	if (PsRun(p, r, PS_PLAN_DELETE, args, nulls, false, 0) > 0)
	{
		bool isnull;

		deleted = DatumGetBool(PsCol(0, 1, &isnull));
	}
	PsReplyBegin(&out);
	PsReplyBool(&out, "deleted", deleted);
	return PsReplyFinish(&out);
}

/*
 * The least string greater than every string that starts with prefix, in
 * byte order, or NULL if there is none: the prefix with its last character
 * incremented (UTF-8 code points sort like their bytes).
 */
static text *
PsPrefixUpperBound(text *prefix)
{
	int len = VARSIZE_ANY_EXHDR(prefix);
	unsigned char *buf = palloc(len + 4);

	memcpy(buf, VARDATA_ANY(prefix), len);
	if (GetDatabaseEncoding() == PG_UTF8)
	{
		while (len > 0)
		{
			int start = len - 1;
			pg_wchar c;

			while (start > 0 && (buf[start] & 0xC0) == 0x80)
				start--;
			c = utf8_to_unicode(buf + start);
			if (c < 0x10FFFF)
			{
				c = (c + 1 == 0xD800) ? 0xE000 : c + 1;
				unicode_to_utf8(c, buf + start);
				return cstring_to_text_with_len(
					(char *) buf, start + pg_utf_mblen(buf + start));
			}
			len = start;
		}
	}
	else if (pg_database_encoding_max_length() == 1)
	{
		while (len > 0 && buf[len - 1] == 0xFF)
			len--;
		if (len > 0)
		{
			buf[len - 1]++;
			return cstring_to_text_with_len((char *) buf, len);
		}
	}
	return NULL;
}

/* list: keys in key order, a page at a time (keyset pagination) */
static Jsonb *
PsKvList(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[6];
	char nulls[6] = "      ";
	text *upper = VARSIZE_ANY_EXHDR(r->prefix) > 0
					  ? PsPrefixUpperBound(r->prefix)
					  : NULL;
	uint64 n;
	PsReply out;

	args[0] = PointerGetDatum(r->ns);
	args[1] = PointerGetDatum(r->collection);
	args[2] = PointerGetDatum(r->cursor);
	args[3] = PointerGetDatum(r->prefix);
	args[4] = Int64GetDatum(r->limit + 1);
	args[5] = PointerGetDatum(upper);
	n = PsRun(p, r, upper ? PS_PLAN_LIST_BOUNDED : PS_PLAN_LIST, args, nulls,
			  true, 0);
	PsReplyBegin(&out);
	PsReplyBeginArray(&out, "keys");
	for (uint64 i = 0; i < n && i < (uint64) r->limit; i++)
	{
		bool isnull;
		text *key = DatumGetTextPP(PsCol(i, 1, &isnull));

		PsReplyString(&out, NULL, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	}
	PsReplyEndArray(&out);
	if (n > (uint64) r->limit)
	{
		bool isnull;
		text *last = DatumGetTextPP(PsCol(r->limit - 1, 1, &isnull));

		PsReplyString(&out, "next_cursor", VARDATA_ANY(last),
					  VARSIZE_ANY_EXHDR(last));
	}
	else
		PsReplyNull(&out, "next_cursor");
	return PsReplyFinish(&out);
}

/* incr: atomic add to an integer value, creating it at `by` */
static Jsonb *
PsKvIncr(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[5];
	char nulls[5];
	PsReply out;

	if (ps_max_keys_per_plugin > 0 && !PsKeyExists(p, r, r->item.key) &&
		!PsCheckQuota(p, r, 1, err))
		return NULL;
	PsKeyArgs(r, r->item.key, args, nulls);
	args[3] = Int64GetDatum(r->by);
	nulls[3] = ' ';
	args[4] = Float8GetDatum(r->item.ttl);
	nulls[4] = r->item.has_ttl ? ' ' : 'n';
	if (PsRun(p, r, PS_PLAN_INCR, args, nulls, false, 0) == 0)
	{
		PsSetError(
			err, "type_mismatch",
			"key \"%s\" does not hold an integer, or adding " INT64_FORMAT
			" would overflow a bigint",
			text_to_cstring(r->item.key), r->by);
		return NULL;
	}
	PsReplyBegin(&out);
	PsReplyInt64(&out, "value", PsColInt64(0, 1));
	PsReplyInt64(&out, "revision", PsColInt64(0, 2));
	PsReplyTsCol(&out, "expires_at", 0, 3);
	return PsReplyFinish(&out);
}

/* Build a text[] from the request's keys */
static ArrayType *
PsKeyArray(text **keys, int n)
{
	Datum *elems = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		elems[i] = PointerGetDatum(keys[i]);
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/* Are two keys the same bytes? */
static bool
PsTextEqual(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		   memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* The result row whose first column equals key, or -1 */
static int64
PsFindRow(text *key, uint64 nrows)
{
	for (uint64 i = 0; i < nrows; i++)
	{
		bool isnull;

		if (PsTextEqual(DatumGetTextPP(PsCol(i, 1, &isnull)), key))
			return i;
	}
	return -1;
}

/* mget: several keys in one statement, answered in request order */
static Jsonb *
PsKvMget(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[3];
	char nulls[3] = "   ";
	uint64 n;
	PsReply out;

	args[0] = PointerGetDatum(r->ns);
	args[1] = PointerGetDatum(r->collection);
	args[2] = PointerGetDatum(PsKeyArray(r->keys, r->nkeys));
	n = PsRun(p, r, PS_PLAN_MGET, args, nulls, true, 0);
	PsReplyBegin(&out);
	PsReplyBeginArray(&out, "items");
	for (int i = 0; i < r->nkeys; i++)
	{
		int64 row = PsFindRow(r->keys[i], n);

		PsReplyBeginObject(&out, NULL);
		PsReplyString(&out, "key", VARDATA_ANY(r->keys[i]),
					  VARSIZE_ANY_EXHDR(r->keys[i]));
		PsReplyBool(&out, "exists", row >= 0);
		if (row < 0)
			PsReplyNull(&out, "value");
		else
		{
			PsReplyStoredValue(&out, "value", "value_b64", row, 2, 3);
			PsReplyInt64(&out, "revision", PsColInt64(row, 4));
			PsReplyTsCol(&out, "expires_at", row, 7);
		}
		PsReplyEndObject(&out);
	}
	PsReplyEndArray(&out);
	return PsReplyFinish(&out);
}

/* How many of mset's distinct keys do not exist yet */
static int64
PsCountNewKeys(PsPlugin *p, PsKvRequest *r)
{
	text **keys = palloc(sizeof(text *) * r->nitems);
	Datum args[3];
	char nulls[3] = "   ";
	int64 fresh = 0;
	uint64 n;

	for (int i = 0; i < r->nitems; i++)
		keys[i] = r->items[i].key;
	args[0] = PointerGetDatum(r->ns);
	args[1] = PointerGetDatum(r->collection);
	args[2] = PointerGetDatum(PsKeyArray(keys, r->nitems));
	n = PsRun(p, r, PS_PLAN_MGET, args, nulls, true, 0);
	for (int i = 0; i < r->nitems; i++)
	{
		bool dup = false;

		for (int j = 0; j < i && !dup; j++)
			dup = PsTextEqual(keys[i], keys[j]);
		if (!dup && PsFindRow(keys[i], n) < 0)
			fresh++;
	}
	return fresh;
}

/* mset: all items in this transaction, all or nothing */
static Jsonb *
PsKvMset(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	PsReply out;

	if (ps_max_keys_per_plugin > 0 &&
		!PsCheckQuota(p, r, PsCountNewKeys(p, r), err))
		return NULL;
	PsReplyBegin(&out);
	PsReplyBool(&out, "ok", true);
	PsReplyBeginArray(&out, "revisions");
	for (int i = 0; i < r->nitems; i++)
	{
		Datum args[6];
		char nulls[6];

		PsSetArgs(r, &r->items[i], args, nulls);
		PsRun(p, r, PS_PLAN_SET, args, nulls, false, 0);
		PsReplyInt64(&out, NULL, PsColInt64(0, 1));
	}
	PsReplyEndArray(&out);
	return PsReplyFinish(&out);
}

/* Fill $1..$2: namespace and collection */
static void
PsCollectionArgs(PsKvRequest *r, Datum *args, char *nulls)
{
	args[0] = PointerGetDatum(r->ns);
	args[1] = PointerGetDatum(r->collection);
	nulls[0] = nulls[1] = ' ';
}

/* count: live keys in the collection */
static Jsonb *
PsKvCount(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[2];
	char nulls[2];
	PsReply out;

	PsCollectionArgs(r, args, nulls);
	PsRun(p, r, PS_PLAN_COUNT, args, nulls, true, 1);
	PsReplyBegin(&out);
	PsReplyInt64(&out, "count", PsColInt64(0, 1));
	return PsReplyFinish(&out);
}

/* exists: is the key there and live, without reading its value */
static Jsonb *
PsKvExists(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	PsReply out;

	PsReplyBegin(&out);
	PsReplyBool(&out, "exists", PsKeyExists(p, r, r->item.key));
	return PsReplyFinish(&out);
}

/* clear and drop: delete every key of the collection */
static Jsonb *
PsKvClear(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[2];
	char nulls[2];
	PsReply out;

	PsCollectionArgs(r, args, nulls);
	PsRun(p, r, PS_PLAN_CLEAR, args, nulls, false, 0);
	PsReplyBegin(&out);
	if (r->op == PS_KV_DROP)
		PsReplyBool(&out, "dropped", true);
	PsReplyInt64(&out, "deleted", PsColInt64(0, 1));
	return PsReplyFinish(&out);
}

/* collections: the names that hold live keys */
static Jsonb *
PsKvCollections(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[2];
	char nulls[2] = "  ";
	uint64 n;
	PsReply out;

	args[0] = PointerGetDatum(r->ns);
	args[1] = Int64GetDatum(PS_MAX_PAGE + 1);
	n = PsRun(p, r, PS_PLAN_COLLECTIONS, args, nulls, true, 0);
	PsReplyBegin(&out);
	PsReplyBeginArray(&out, "collections");
	for (uint64 i = 0; i < n && i < PS_MAX_PAGE; i++)
	{
		bool isnull;
		text *c = DatumGetTextPP(PsCol(i, 1, &isnull));

		PsReplyString(&out, NULL, VARDATA_ANY(c), VARSIZE_ANY_EXHDR(c));
	}
	PsReplyEndArray(&out);
	PsReplyBool(&out, "truncated", n > PS_MAX_PAGE);
	return PsReplyFinish(&out);
}

/* all: documents, most recently updated first (seed 000's collection.all) */
static Jsonb *
PsKvAll(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[4];
	char nulls[4];
	uint64 n;
	PsReply out;

	PsCollectionArgs(r, args, nulls);
	args[2] = Int64GetDatum(r->limit + 1);
	args[3] = Int64GetDatum(r->offset);
	nulls[2] = nulls[3] = ' ';
	n = PsRun(p, r, PS_PLAN_ALL, args, nulls, true, 0);
	PsReplyBegin(&out);
	PsReplyBeginArray(&out, "documents");
	for (uint64 i = 0; i < n && i < (uint64) r->limit; i++)
	{
		bool isnull;
		text *key = DatumGetTextPP(PsCol(i, 1, &isnull));

		PsReplyBeginObject(&out, NULL);
		PsReplyString(&out, "id", VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
		PsReplyStoredValue(&out, "data", "data_b64", i, 2, 3);
		PsReplyTsCol(&out, "created_at", i, 4);
		PsReplyTsCol(&out, "updated_at", i, 5);
		PsReplyInt64(&out, "revision", PsColInt64(i, 6));
		PsReplyTsCol(&out, "expires_at", i, 7);
		PsReplyEndObject(&out);
	}
	PsReplyEndArray(&out);
	if (n > (uint64) r->limit)
		PsReplyInt64(&out, "next_offset", r->offset + r->limit);
	else
		PsReplyNull(&out, "next_offset");
	return PsReplyFinish(&out);
}

/* expire: set (ttl seconds) or clear (ttl null) a live key's TTL */
static Jsonb *
PsKvExpire(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[4];
	char nulls[4];
	PsReply out;

	PsKeyArgs(r, r->item.key, args, nulls);
	args[3] = Float8GetDatum(r->item.ttl);
	nulls[3] = r->item.has_ttl ? ' ' : 'n';
	PsReplyBegin(&out);
	if (PsRun(p, r, PS_PLAN_EXPIRE, args, nulls, false, 0) == 0)
	{
		PsReplyBool(&out, "exists", false);
		return PsReplyFinish(&out);
	}
	PsReplyBool(&out, "exists", true);
	PsReplyInt64(&out, "revision", PsColInt64(0, 1));
	PsReplyTsCol(&out, "expires_at", 0, 2);
	return PsReplyFinish(&out);
}

/* ttl: whole seconds left (rounded up), or null for a key without TTL */
static Jsonb *
PsKvTtl(PsPlugin *p, PsKvRequest *r, PsError *err)
{
	Datum args[3];
	char nulls[3];
	bool isnull;
	Datum secs;
	PsReply out;

	PsKeyArgs(r, r->item.key, args, nulls);
	PsReplyBegin(&out);
	if (PsRun(p, r, PS_PLAN_TTL, args, nulls, true, 1) == 0)
	{
		PsReplyBool(&out, "exists", false);
		PsReplyNull(&out, "ttl");
		return PsReplyFinish(&out);
	}
	PsReplyBool(&out, "exists", true);
	secs = PsCol(0, 2, &isnull);
	if (isnull)
		PsReplyNull(&out, "ttl");
	else
		PsReplyInt64(&out, "ttl", DatumGetInt64(secs));
	PsReplyTsCol(&out, "expires_at", 0, 1);
	return PsReplyFinish(&out);
}

/* Handlers, indexed by PsKvOp */
static const PsKvHandler ps_kv_handlers[] = {
	[PS_KV_SET] = PsKvSet,
	[PS_KV_GET] = PsKvGet,
	[PS_KV_DELETE] = PsKvDelete,
	[PS_KV_LIST] = PsKvList,
	[PS_KV_INCR] = PsKvIncr,
	[PS_KV_MGET] = PsKvMget,
	[PS_KV_MSET] = PsKvMset,
	[PS_KV_COUNT] = PsKvCount,
	[PS_KV_EXISTS] = PsKvExists,
	[PS_KV_CLEAR] = PsKvClear,
	[PS_KV_COLLECTIONS] = PsKvCollections,
	[PS_KV_DROP] = PsKvClear,
	[PS_KV_ALL] = PsKvAll,
	[PS_KV_EXPIRE] = PsKvExpire,
	[PS_KV_TTL] = PsKvTtl,
};

/* Look up the plugin named by a request, or say why not */
PsPlugin *
PsFindRequestPlugin(const char *plugin, PsError *err)
{
	PsPlugin *p;

	if (!PsValidPluginName(plugin, strlen(plugin)))
	{
		PsSetError(err, "invalid_request",
				   "invalid plugin name \"%.64s\": use 1 to 63 of a-z, 0-9, _ "
				   "and -, starting with a letter or digit",
				   plugin);
		return NULL;
	}
	p = PsLookupPlugin(plugin);
	if (p == NULL)
		PsSetError(err, "not_found", "plugin \"%s\" is not registered",
				   plugin);
	return p;
}

/* Validate and run one KV request; NULL with err set on expected failure */
Jsonb *
PsKvExecute(const char *plugin, const char *op, Jsonb *request, PsError *err)
{
	PsPlugin *p = PsFindRequestPlugin(plugin, err);
	PsKvRequest req;
	PsSavedContext saved;
	MemoryContext outer = CurrentMemoryContext;
	Jsonb *result;

	if (p == NULL || !PsKvParseRequest(p, op, request, &req, err))
		return NULL;
	PsEnterPlugin(p, &saved);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(outer);
	result = ps_kv_handlers[req.op](p, &req, err);
	SPI_finish();
	PsLeavePlugin(&saved);
	return result;
}

/* Read the (plugin, op, request) arguments shared by both entry points */
static Jsonb *
PsKvCall(FunctionCallInfo fcinfo, PsError *err)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		PsSetError(err, "invalid_request", "plugin and op must not be null");
		return NULL;
	}
	return PsKvExecute(text_to_cstring(PG_GETARG_TEXT_PP(0)),
					   text_to_cstring(PG_GETARG_TEXT_PP(1)),
					   PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), err);
}

PG_FUNCTION_INFO_V1(plugin_kv);

/* plugin_kv(plugin, op, request): the wire reply, errors included */
Datum
plugin_kv(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	Jsonb *result = PsKvCall(fcinfo, &err);

	PG_RETURN_JSONB_P(result ? result : PsErrorJsonb(&err));
}

PG_FUNCTION_INFO_V1(plugin_kv_raise);

/* _plugin_kv_raise(plugin, op, request): the reply, or an ERROR */
Datum
plugin_kv_raise(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	Jsonb *result = PsKvCall(fcinfo, &err);

	if (result == NULL)
		PsRaiseError(&err);
	PG_RETURN_JSONB_P(result);
}
