/*-------------------------------------------------------------------------
 *
 * kv_sql.c
 *	  The KV tier's statements, prepared once per plugin and scope.
 *
 * Every statement names its table and revision sequence through
 * quote_identifier(); every value is a parameter.  The same text serves a
 * plugin's private table (ns = '') and the shared workspace table (ns = the
 * workspace, also enforced by its row-level security policy), because both
 * tables have the same shape.  A key is live while expires_at is NULL or in
 * the future: reads never see an expired key, whether or not it was swept.
 *
 * Plans are prepared inside the plugin's context, so parse analysis sees the
 * plugin's pinned search_path and the plan cache keeps them valid for it.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#define LIVE "(t.expires_at IS NULL OR t.expires_at > now())"
#define PK "t.ns = $1 AND t.collection = $2 AND t.key = $3"
#define COLS                                                                  \
	"(ns, collection, key, value, value_bytes, revision, created_at, "        \
	"updated_at, expires_at)"
#define UPSERT_SET                                                            \
	"INSERT INTO %1$s AS t " COLS                                             \
	" VALUES ($1, $2, $3, $4, $5, nextval(%2$s), "                            \
	"now(), now(), now() + make_interval(secs => $6)) "                       \
	"ON CONFLICT (ns, collection, key) DO UPDATE SET value = "                \
	"excluded.value, "                                                        \
	"value_bytes = excluded.value_bytes, revision = excluded.revision, "      \
	"updated_at = excluded.updated_at, expires_at = excluded.expires_at, "    \
	"created_at = CASE WHEN " LIVE                                            \
	" THEN t.created_at ELSE excluded.created_at END "

/* One statement: its text and parameter types */
typedef struct PsKvStatement
{
	const char *sql; /* %1$s = table, %2$s = sequence literal */
	int nargs;		 /* number of parameters */
	Oid argtypes[7]; /* their types */
} PsKvStatement;

#define T3 TEXTOID, TEXTOID, TEXTOID

static const PsKvStatement ps_kv_statements[PS_NPLANS] = {
	[PS_PLAN_GET] = {"SELECT t.value, t.value_bytes, t.revision, "
					 "t.created_at, t.updated_at, "
					 "t.expires_at FROM %1$s t WHERE " PK " AND " LIVE,
					 3,
					 {T3}},
	[PS_PLAN_SET] = {UPSERT_SET "RETURNING t.revision, t.expires_at",
					 6,
					 {T3, JSONBOID, BYTEAOID, FLOAT8OID}},
	[PS_PLAN_SET_IF_ABSENT] = {UPSERT_SET
							   "WHERE NOT " LIVE
							   " RETURNING t.revision, t.expires_at",
							   6,
							   {T3, JSONBOID, BYTEAOID, FLOAT8OID}},
	[PS_PLAN_SET_IF_REVISION] =
		{"UPDATE %1$s AS t SET value = $4, value_bytes = $5, "
		 "revision = nextval(%2$s), updated_at = now(), "
		 "expires_at = now() + make_interval(secs => $6) "
		 "WHERE " PK " AND t.revision = $7 AND " LIVE
		 " RETURNING t.revision, t.expires_at",
		 7,
		 {T3, JSONBOID, BYTEAOID, FLOAT8OID, INT8OID}},
	[PS_PLAN_DELETE] = {"DELETE FROM %1$s AS t WHERE " PK " RETURNING " LIVE,
						3,
						{T3}},
	[PS_PLAN_LIST] =
		{"SELECT t.key FROM %1$s t WHERE t.ns = $1 AND t.collection = $2 "
		 "AND t.key > $3 AND t.key >= $4 AND starts_with(t.key, $4) AND " LIVE
		 " ORDER BY t.key LIMIT $5",
		 5,
		 {T3, TEXTOID, INT8OID}},
	[PS_PLAN_LIST_BOUNDED] =
		{"SELECT t.key FROM %1$s t WHERE t.ns = $1 AND t.collection = $2 "
		 "AND t.key > $3 AND t.key >= $4 AND t.key < $6 "
		 "AND starts_with(t.key, $4) AND " LIVE " ORDER BY t.key LIMIT $5",
		 6,
		 {T3, TEXTOID, INT8OID, TEXTOID}},
	[PS_PLAN_INCR] =
		{"INSERT INTO %1$s AS t " COLS
		 " VALUES ($1, $2, $3, to_jsonb($4::bigint), "
		 "NULL, nextval(%2$s), now(), now(), now() + make_interval(secs => "
		 "$5)) "
		 "ON CONFLICT (ns, collection, key) DO UPDATE SET "
		 "value = CASE WHEN " LIVE
		 " THEN to_jsonb(((t.value)::numeric + $4)::bigint) "
		 "ELSE excluded.value END, value_bytes = NULL, "
		 "revision = excluded.revision, updated_at = excluded.updated_at, "
		 "expires_at = CASE WHEN $5 IS NOT NULL THEN excluded.expires_at "
		 "WHEN " LIVE " THEN t.expires_at END, "
		 "created_at = CASE WHEN " LIVE
		 " THEN t.created_at ELSE excluded.created_at END "
		 "WHERE CASE WHEN NOT " LIVE " THEN true "
		 "WHEN t.value_bytes IS NOT NULL OR jsonb_typeof(t.value) <> 'number' "
		 "THEN false "
		 "ELSE (t.value)::numeric = trunc((t.value)::numeric) AND "
		 "(t.value)::numeric + $4 BETWEEN -9223372036854775808 AND "
		 "9223372036854775807 END "
		 "RETURNING (t.value)::bigint, t.revision, t.expires_at",
		 5,
		 {T3, INT8OID, FLOAT8OID}},
	[PS_PLAN_MGET] =
		{"SELECT t.key, t.value, t.value_bytes, t.revision, t.created_at, "
		 "t.updated_at, t.expires_at FROM %1$s t WHERE t.ns = $1 AND "
		 "t.collection = $2 AND t.key = ANY ($3) AND " LIVE,
		 3,
		 {TEXTOID, TEXTOID, TEXTARRAYOID}},
	[PS_PLAN_COUNT] = {"SELECT count(*) FROM %1$s t WHERE t.ns = $1 AND "
					   "t.collection = $2 AND " LIVE,
					   2,
					   {TEXTOID, TEXTOID}},
	[PS_PLAN_EXISTS] = {"SELECT 1 FROM %1$s t WHERE " PK " AND " LIVE,
						3,
						{T3}},
	[PS_PLAN_CLEAR] = {"WITH d AS (DELETE FROM %1$s AS t WHERE t.ns = $1 AND "
					   "t.collection = $2 "
					   "RETURNING " LIVE
					   " AS live) SELECT count(*) FILTER (WHERE live) FROM d",
					   2,
					   {TEXTOID, TEXTOID}},
	[PS_PLAN_COLLECTIONS] =
		{"SELECT DISTINCT t.collection FROM %1$s t WHERE t.ns = $1 AND " LIVE
		 " ORDER BY 1 LIMIT $2",
		 2,
		 {TEXTOID, INT8OID}},
	[PS_PLAN_ALL] =
		{"SELECT t.key, t.value, t.value_bytes, t.created_at, t.updated_at, "
		 "t.revision, t.expires_at FROM %1$s t WHERE t.ns = $1 AND "
		 "t.collection = $2 AND " LIVE " ORDER BY t.updated_at DESC, t.key "
		 "LIMIT $3 OFFSET $4",
		 4,
		 {TEXTOID, TEXTOID, INT8OID, INT8OID}},
	[PS_PLAN_EXPIRE] = {"UPDATE %1$s AS t SET expires_at = now() + "
						"make_interval(secs => $4), "
						"revision = nextval(%2$s) WHERE " PK " AND " LIVE
						" RETURNING t.revision, t.expires_at",
						4,
						{T3, FLOAT8OID}},
	[PS_PLAN_TTL] = {"SELECT t.expires_at, ceil(extract(epoch FROM "
					 "t.expires_at - now()))::bigint "
					 "FROM %1$s t WHERE " PK " AND " LIVE,
					 3,
					 {T3}},
	[PS_PLAN_QUOTA] = {"SELECT count(*) FROM %1$s t WHERE t.ns = $1 AND " LIVE,
					   1,
					   {TEXTOID}},
};

/* The qualified table and sequence literal for a plugin's scope */
static void
PsKvTargets(PsPlugin *p, PsScope scope, char **table, char **seq)
{
	const char *schema =
		scope == PS_SCOPE_PLUGIN ? p->schema : PS_EXTENSION_SCHEMA;
	const char *tab =
		scope == PS_SCOPE_PLUGIN ? PS_KV_TABLE : PS_WORKSPACE_TABLE;
	const char *sq =
		scope == PS_SCOPE_PLUGIN ? PS_KV_SEQUENCE : PS_WORKSPACE_SEQUENCE;

	*table = quote_qualified_identifier(schema, tab);
	*seq = quote_literal_cstr(quote_qualified_identifier(schema, sq));
}

/* Get (preparing on first use) one of the plugin's KV statements */
SPIPlanPtr
PsKvPlanFor(PsPlugin *p, PsScope scope, PsKvPlan which)
{
	SPIPlanPtr plan = p->plans[scope][which];

	if (plan == NULL)
	{
		const PsKvStatement *st = &ps_kv_statements[which];
		char *table;
		char *seq;
		char *sql;

		MemoryContext cxt = CurrentMemoryContext;

		PsKvTargets(p, scope, &table, &seq);
		sql = psprintf(st->sql, table, seq);
		plan = SPI_prepare(sql, st->nargs, (Oid *) st->argtypes);
		MemoryContextSwitchTo(cxt);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		p->plans[scope][which] = plan;
	}
	return plan;
}

/* Free a plugin's prepared statements */
void
PsKvFreePlans(PsPlugin *p)
{
	for (int s = 0; s < PS_NSCOPES; s++)
		for (int i = 0; i < PS_NPLANS; i++)
			if (p->plans[s][i] != NULL)
			{
				SPI_freeplan(p->plans[s][i]);
				p->plans[s][i] = NULL;
			}
}
