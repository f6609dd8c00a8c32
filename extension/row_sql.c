/*-------------------------------------------------------------------------
 *
 * row_sql.c
 *	  Build the row tier's statements and run them, with a per-backend cache
 *	  of prepared plans.
 *
 * A statement is built as text plus parameters: identifiers go through
 * quote_identifier(), every value becomes $n with its type.  The text
 * depends only on the request's shape (table, columns, operators), never on
 * its values, so requests of the same shape share one prepared plan: the
 * cache maps text and parameter types to a plan kept with SPI_keepplan.
 * The plan cache of PostgreSQL keeps each plan valid: DDL on the table, or a
 * plugin's schema that was dropped and made again, makes it re-plan on next
 * use.  Since the schema is part of the text, a plan is never shared between
 * plugins.  Long statements (many rows, many conditions) run unprepared, and
 * the cache is emptied when it holds PS_ROW_MAX_PLANS plans.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "common/hashfn.h"
#include "nodes/params.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#define PS_ROW_MAX_PLANS 256
#define PS_ROW_MAX_CACHED_TEXT 4096
#define PS_ROW_MAX_CACHED_ARGS 64

/* One cached plan */
typedef struct PsRowPlan
{
	char *key;		 /* hash key: text, then parameter types */
	SPIPlanPtr plan; /* kept plan */
} PsRowPlan;

static HTAB *ps_row_plans = NULL;
static MemoryContext ps_row_plan_cxt = NULL;

/* Write c followed by the decimal n (a $n, or a type OID in a key) */
static void
PsRowSqlParamRef(StringInfo buf, char c, uint32 n)
{
	char digits[12];
	int len = pg_ultoa_n(n, digits);

	appendStringInfoChar(buf, c);
	appendBinaryStringInfo(buf, digits, len);
}

/* Start an empty statement */
void
PsRowSqlInit(PsRowSql *s)
{
	initStringInfo(&s->buf);
	s->nargs = 0;
	s->maxargs = 8;
	s->types = palloc(sizeof(Oid) * s->maxargs);
	s->values = palloc(sizeof(Datum) * s->maxargs);
	s->nulls = palloc(s->maxargs);
	s->oneshot = false;
}

/* Add a parameter and write its $n */
void
PsRowSqlArg(PsRowSql *s, Oid type, Datum value, bool isnull)
{
	if (s->nargs == s->maxargs)
	{
		s->maxargs *= 2;
		s->types = repalloc(s->types, sizeof(Oid) * s->maxargs);
		s->values = repalloc(s->values, sizeof(Datum) * s->maxargs);
		s->nulls = repalloc(s->nulls, s->maxargs);
	}
	s->types[s->nargs] = type;
	s->values[s->nargs] = value;
	s->nulls[s->nargs] = isnull ? 'n' : ' ';
	s->nargs++;
	PsRowSqlParamRef(&s->buf, '$', s->nargs);
}

/* Give dst the parameters of src (whose text dst's already refers to) */
void
PsRowSqlCopyArgs(PsRowSql *dst, PsRowSql *src)
{
	dst->nargs = src->nargs;
	dst->maxargs = Max(src->nargs, 1);
	dst->types = palloc(sizeof(Oid) * dst->maxargs);
	dst->values = palloc(sizeof(Datum) * dst->maxargs);
	dst->nulls = palloc(dst->maxargs);
	memcpy(dst->types, src->types, sizeof(Oid) * src->nargs);
	memcpy(dst->values, src->values, sizeof(Datum) * src->nargs);
	memcpy(dst->nulls, src->nulls, src->nargs);
}

/* Write a column reference, t.<quoted name> */
void
PsRowSqlColumn(PsRowSql *s, PsRowColumn *col)
{
	appendBinaryStringInfo(&s->buf, "t.", 2);
	appendStringInfoString(&s->buf, col->quoted);
}

/* Add a JSON key for the next result column */
void
PsRowOutputAdd(PsRowOutput *o, const char *key)
{
	if (o->keys == NULL || (o->n >= 8 && (o->n & (o->n - 1)) == 0))
		o->keys = o->keys ? repalloc(o->keys, sizeof(char *) * o->n * 2)
						  : palloc(sizeof(char *) * 8);
	o->keys[o->n++] = key;
}

/* Hash a cache key (a pointer to a string) */
static uint32
PsRowKeyHash(const void *key, Size keysize)
{
	const char *s = *(const char *const *) key;

	return hash_bytes((const unsigned char *) s, strlen(s));
}

/* Compare two cache keys */
static int
PsRowKeyMatch(const void *a, const void *b, Size keysize)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Free every cached plan and start over */
static void
PsRowResetPlans(void)
{
	HASHCTL ctl;

	if (ps_row_plans != NULL)
	{
		HASH_SEQ_STATUS status;
		PsRowPlan *e;

		hash_seq_init(&status, ps_row_plans);
		while ((e = hash_seq_search(&status)) != NULL)
			SPI_freeplan(e->plan);
		hash_destroy(ps_row_plans);
		MemoryContextReset(ps_row_plan_cxt);
	}
	else
		ps_row_plan_cxt = AllocSetContextCreate(CacheMemoryContext,
												"plugin_storage row plans",
												ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(char *);
	ctl.entrysize = sizeof(PsRowPlan);
	ctl.hash = PsRowKeyHash;
	ctl.match = PsRowKeyMatch;
	ctl.hcxt = ps_row_plan_cxt;
	ps_row_plans =
		hash_create("plugin_storage row plans", PS_ROW_MAX_PLANS, &ctl,
					HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

/* The cache key of a statement: its text, then its parameter types */
static char *
PsRowPlanKey(PsRowSql *s)
{
	StringInfoData key;

	initStringInfo(&key);
	appendBinaryStringInfo(&key, s->buf.data, s->buf.len);
	appendStringInfoChar(&key, '\n');
	for (int i = 0; i < s->nargs; i++)
		PsRowSqlParamRef(&key, ',', s->types[i]);
	return key.data;
}

/* The prepared plan of a statement, preparing and caching it if new */
static SPIPlanPtr
PsRowPlanFor(PsRowSql *s)
{
	char *key = PsRowPlanKey(s);
	PsRowPlan *e;
	SPIPlanPtr plan;

	if (ps_row_plans == NULL)
		PsRowResetPlans();
	e = hash_search(ps_row_plans, &key, HASH_FIND, NULL);
	if (e != NULL)
		return e->plan;

	plan = SPI_prepare(s->buf.data, s->nargs, s->types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", s->buf.data,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	if (hash_get_num_entries(ps_row_plans) >= PS_ROW_MAX_PLANS)
		PsRowResetPlans();
	e = hash_search(ps_row_plans, &key, HASH_ENTER, NULL);
	e->key = MemoryContextStrdup(ps_row_plan_cxt, key);
	e->plan = plan;
	return plan;
}

/*
 * Run a statement; returns the rows it processed (SPI_tuptable holds any).
 * SPI leaves its procedure context current after every call, and
 * SPI_finish frees it: switch back to the caller's context, where the reply
 * is built (a reply left in SPI's context was read after it was freed).
 */
uint64
PsRowRun(PsRowSql *s, bool read_only, long limit)
{
	MemoryContext cxt = CurrentMemoryContext;
	int rc;

	if (!s->oneshot && s->buf.len <= PS_ROW_MAX_CACHED_TEXT &&
		s->nargs <= PS_ROW_MAX_CACHED_ARGS)
		rc = SPI_execute_plan(PsRowPlanFor(s), s->values, s->nulls, read_only,
							  limit);
	else
		rc = SPI_execute_with_args(s->buf.data, s->nargs, s->types, s->values,
								   s->nulls, read_only, limit);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "plugin_storage: row statement failed: %s",
			 SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * Run a read-only statement whose rows go to dest as the executor makes
 * them, instead of into SPI_tuptable.
 */
void
PsRowRunTo(PsRowSql *s, DestReceiver *dest)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIExecuteOptions options;
	SPIPlanPtr plan;
	int rc;

	if (s->buf.len <= PS_ROW_MAX_CACHED_TEXT &&
		s->nargs <= PS_ROW_MAX_CACHED_ARGS)
		plan = PsRowPlanFor(s);
	else if ((plan = SPI_prepare(s->buf.data, s->nargs, s->types)) == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", s->buf.data,
			 SPI_result_code_string(SPI_result));
	memset(&options, 0, sizeof(options));
	options.params = makeParamList(s->nargs);
	for (int i = 0; i < s->nargs; i++)
	{
		ParamExternData *prm = &options.params->params[i];

		prm->value = s->values[i];
		prm->isnull = s->nulls[i] == 'n';
		prm->pflags = PARAM_FLAG_CONST;
		prm->ptype = s->types[i];
	}
	options.read_only = true;
	options.dest = dest;
	rc = SPI_execute_plan_extended(plan, &options);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "plugin_storage: row statement failed: %s",
			 SPI_result_code_string(rc));
}

/* Run a utility statement (DDL) that has no parameters */
void
PsRowUtility(const char *sql)
{
	MemoryContext cxt = CurrentMemoryContext;
	int rc = SPI_execute(sql, false, 0);

	MemoryContextSwitchTo(cxt);

	if (rc < 0)
		elog(ERROR, "plugin_storage: \"%s\" failed: %s", sql,
			 SPI_result_code_string(rc));
}
