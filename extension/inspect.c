/*-------------------------------------------------------------------------
 *
 * inspect.c
 *	  plugin_storage.inspect(plugin): what a plugin keeps in the database.
 *
 * For operators ("what is this plugin doing to my DB?"): the plugin's
 * registry entry, its tables and views with row counts and sizes, its KV
 * keys per collection with the expired keys not yet swept, its workspace's
 * shared keys, its migration history and its SQL-tier limits, as one jsonb
 * document.  The bridge serves it on db.inspect.<plugin> to the operator's
 * NATS user.
 *
 * Counting rows runs queries on tables the plugin owns, which may carry
 * plugin-written code (row-level security policies, views).  That part runs
 * as the plugin, in the sandbox (read-only, under a timeout), never as the
 * operator's role; sizes and catalog facts need no plugin code.  The
 * registry, the migration history and the limits are read as the caller.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* Longest an inspection may count rows for, in ms */
#define PS_INSPECT_TIMEOUT_MS 10000

typedef struct PsInspectArg
{
	PsPlugin *plugin;
	bool exact;	  /* count rows (true) or only estimate them */
	Jsonb *found; /* {"tables":[..],"kv":{..}} built as the plugin */
} PsInspectArg;

/*
 * Where results must live: SPI leaves its own procedure context current
 * after each call, so every call below switches back to this one.
 */
static MemoryContext ps_inspect_cxt = NULL;

/* Run a query with arguments that returns one jsonb; NULL if no row */
static Jsonb *
PsInspectJsonb(const char *sql, int nargs, Oid *types, Datum *values)
{
	bool isnull;
	Datum d;

	if (SPI_execute_with_args(sql, nargs, types, values, NULL, true, 1) !=
		SPI_OK_SELECT)
		elog(ERROR, "plugin_storage inspect query failed: %s", sql);
	MemoryContextSwitchTo(ps_inspect_cxt);
	if (SPI_processed == 0)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
					  &isnull);
	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/* Count the rows of one relation of the plugin's schema */
static int64
PsInspectCount(PsPlugin *p, const char *relname)
{
	char *sql = psprintf("SELECT count(*) FROM %s",
						 quote_qualified_identifier(p->schema, relname));
	bool isnull;

	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "plugin_storage inspect could not count %s", relname);
	MemoryContextSwitchTo(ps_inspect_cxt);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/* The plugin's relations: kind, rows, sizes (runs as the plugin) */
static void
PsInspectTables(PsInspectArg *a, PsReply *r)
{
	Oid types[3] = {OIDOID, INT8OID, BOOLOID};
	Datum values[3];
	uint64 n;
	List *names = NIL;
	List *oids = NIL;
	List *kinds = NIL;
	ListCell *ln, *lo, *lk;

	values[0] = ObjectIdGetDatum(a->plugin->nspid);
	if (SPI_execute_with_args(
			"SELECT c.oid, c.relname::text, c.relkind::text FROM pg_class c "
			"WHERE c.relnamespace = $1 AND c.relkind IN ('r','p','m','v','f') "
			"AND c.relname !~ '^_ps_' ORDER BY c.relname",
			1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "plugin_storage inspect could not list tables");
	MemoryContextSwitchTo(ps_inspect_cxt);
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool isnull;

		oids = lappend_oid(
			oids, DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull)));
		names = lappend(names, SPI_getvalue(tup, desc, 2));
		kinds = lappend(kinds, SPI_getvalue(tup, desc, 3));
	}

	PsReplyBeginArray(r, "tables");
	forthree(ln, names, lo, oids, lk, kinds)
	{
		const char *kind = lfirst(lk);
		/* views and foreign tables are not counted: that would run them */
		bool countable =
			a->exact && (kind[0] == 'r' || kind[0] == 'p' || kind[0] == 'm');
		Jsonb *t;

		values[0] = ObjectIdGetDatum(lfirst_oid(lo));
		values[1] = Int64GetDatum(
			countable ? PsInspectCount(a->plugin, lfirst(ln)) : 0);
		values[2] = BoolGetDatum(countable);
		t = PsInspectJsonb(
			"SELECT jsonb_build_object('name', c.relname, 'kind', "
			"CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN "
			"'partitioned table' WHEN 'm' THEN 'materialized view' "
			"WHEN 'v' THEN 'view' ELSE 'foreign table' END, "
			"'rows', CASE WHEN $3 THEN $2 END, "
			"'rows_estimate', CASE WHEN c.reltuples >= 0 "
			"THEN c.reltuples::bigint END, "
			"'total_bytes', pg_total_relation_size(c.oid), "
			"'table_bytes', pg_relation_size(c.oid), "
			"'index_bytes', pg_indexes_size(c.oid), "
			"'indexes', (SELECT count(*) FROM pg_index i "
			"WHERE i.indrelid = c.oid)) FROM pg_class c WHERE c.oid = $1",
			3, types, values);
		if (t != NULL)
			PsReplyJsonb(r, NULL, t);
	}
	PsReplyEndArray(r);
}

/* The plugin's KV keys per collection (runs as the plugin) */
static void
PsInspectKv(PsInspectArg *a, PsReply *r)
{
	Oid types[1] = {OIDOID};
	Datum values[1];
	Jsonb *j;

	/* one pass over the table: the totals are the collections' sums */
	values[0] =
		ObjectIdGetDatum(get_relname_relid(PS_KV_TABLE, a->plugin->nspid));
	j = PsInspectJsonb(
		psprintf(
			"SELECT jsonb_build_object("
			"'keys', coalesce(sum(live), 0), "
			"'expired_unswept', coalesce(sum(expired), 0), "
			"'total_bytes', pg_total_relation_size($1), "
			"'collections', coalesce(jsonb_agg(jsonb_build_object("
			"'collection', collection, 'keys', live, 'expired_unswept', "
			"expired) ORDER BY collection), '[]')) FROM (SELECT collection, "
			"count(*) FILTER (WHERE expires_at IS NULL OR expires_at > now()) "
			"AS live, count(*) FILTER (WHERE expires_at <= now()) AS expired "
			"FROM %s GROUP BY collection) g",
			quote_qualified_identifier(a->plugin->schema, PS_KV_TABLE)),
		1, types, values);
	PsReplyJsonb(r, "kv", j);
}

/* The part that runs as the plugin, in the sandbox */
static bool
PsInspectAsPlugin(void *arg, PsError *err)
{
	PsInspectArg *a = arg;
	PsReply r;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(ps_inspect_cxt);
	PsReplyBegin(&r);
	PsInspectTables(a, &r);
	PsInspectKv(a, &r);
	a->found = PsReplyFinish(&r);
	SPI_finish();
	return true;
}

/* The registry entry, workspace keys, migrations and limits (as caller) */
static Jsonb *
PsInspectAsCaller(PsPlugin *p, Jsonb *found)
{
	Oid types[2] = {TEXTOID, JSONBOID};
	Datum values[2];
	Jsonb *result;

	/* the history and the limits are tables of this same install script */
	static const char sql[] =
		"SELECT jsonb_build_object('plugin', p.name, 'role', p.role, "
		"'schema', p.schema, 'workspace', p.workspace, "
		"'created', p.created) || $2 || jsonb_build_object("
		"'workspace_kv', CASE WHEN p.workspace IS NOT NULL THEN "
		"(SELECT jsonb_build_object('keys', count(*) FILTER (WHERE "
		"w.expires_at IS NULL OR w.expires_at > now()), "
		"'expired_unswept', count(*) FILTER (WHERE w.expires_at <= "
		"now())) FROM plugin_storage.workspace_kv w "
		"WHERE w.ns = p.workspace) END, "
		"'migrations', coalesce((SELECT "
		"jsonb_agg(jsonb_build_object('version', m.version, "
		"'applied_at', m.applied_at, 'applied_by', m.applied_by, "
		"'duration_ms', m.duration_ms) ORDER BY m.applied_at, "
		"m.version) FROM plugin_storage.migrations m "
		"WHERE m.plugin = p.name), '[]'), "
		"'limits', (SELECT jsonb_strip_nulls(to_jsonb(l) - 'plugin') FROM "
		"plugin_storage.plugin_limits l WHERE l.plugin = p.name)) "
		"FROM plugin_storage.plugins p WHERE p.name = $1";

	values[0] = CStringGetTextDatum(p->name);
	values[1] = JsonbPGetDatum(found);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	result = PsInspectJsonb(sql, 2, types, values);
	SPI_finish();
	MemoryContextSwitchTo(ps_inspect_cxt);
	return result;
}

PG_FUNCTION_INFO_V1(ps_inspect);

/* plugin_storage.inspect(plugin, exact_counts): the document, or an error */
Datum
ps_inspect(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	PsInspectArg a = {0};
	PsSandboxOpts opts = {
		.read_only = true, .timeout_ms = PS_INSPECT_TIMEOUT_MS, .keep = false};
	PsSavedContext saved;
	Jsonb *result;
	bool ok;

	if (PG_ARGISNULL(0))
		PG_RETURN_JSONB_P(PsErrorJsonb(&(PsError){
			.code = "invalid_request", .message = "plugin must not be null"}));
	ps_inspect_cxt = CurrentMemoryContext;
	a.exact = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);
	a.plugin =
		PsFindRequestPlugin(text_to_cstring(PG_GETARG_TEXT_PP(0)), &err);
	if (a.plugin == NULL)
		PG_RETURN_JSONB_P(PsErrorJsonb(&err));

	PsEnterPlugin(a.plugin, &saved);
	ok = PsSandboxRun(PsInspectAsPlugin, &a, &opts, &err);
	PsLeavePlugin(&saved);
	if (!ok)
		PG_RETURN_JSONB_P(PsErrorJsonb(&err));
	result = PsInspectAsCaller(a.plugin, a.found);
	if (result == NULL) /* unregistered meanwhile */
		PG_RETURN_JSONB_P(PsErrorJsonb(&(PsError){
			.code = "not_found", .message = "plugin is not registered"}));
	PG_RETURN_JSONB_P(result);
}
