/*-------------------------------------------------------------------------
 *
 * row_read.c
 *	  The reading operations: select (by primary key), search (filters,
 *	  sort, pages) and aggregate (group by, count/sum/avg/min/max).
 *
 * Each compiles to one SELECT on the table, aliased t, whose select list is
 * the requested columns or aggregates and whose values are all parameters:
 *
 *	SELECT t.id, t.score, t.user_id FROM ps_trivia.trivia_stats AS t
 *	 WHERE (t.score >= $1 AND t.user_id = $2) ORDER BY t.score DESC LIMIT 11
 *
 * A page is fetched one row longer than asked, so the reply can say whether
 * more rows matched ("truncated"); the LIMIT is a constant (PsRowLimit says
 * why), the OFFSET a parameter, left out when 0.  search's total ("count":
 * true) is a second statement with the same WHERE and parameters, run in the
 * same snapshot.  Rows come back in primary-key order unless sorted.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"

/* One key of "sort": a name and its direction */
typedef struct PsRowSortKey
{
	char *name; /* column, or aggregate alias */
	bool desc;	/* descending */
} PsRowSortKey;

/* Read one sort key: {"field": name, "order": "asc" | "desc"} or a name */
static bool
PsRowSortItem(JsonbValue *v, PsRowSortKey *key, PsError *err)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue val;
	JsonbIteratorToken tok;

	key->desc = false;
	key->name = NULL;
	if (v->type == jbvString)
	{
		key->name = PsRowString(v);
		return true;
	}
	if (!PsRowIsObject(v))
	{
		PsSetError(err, "invalid_request",
				   "sort must be {\"field\": name, \"order\": \"asc\" or "
				   "\"desc\"}, or a list of those");
		return false;
	}
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char *name;

		if (tok != WJB_KEY)
			continue;
		name = PsRowString(&k);
		JsonbIteratorNext(&it, &val, true);
		if (strcmp(name, "field") == 0 && val.type == jbvString)
			key->name = PsRowString(&val);
		else if (strcmp(name, "order") == 0 && val.type == jbvString &&
				 (strcmp(PsRowString(&val), "asc") == 0 ||
				  strcmp(PsRowString(&val), "desc") == 0))
			key->desc = strcmp(PsRowString(&val), "desc") == 0;
		else
		{
			if (strcmp(name, "field") == 0)
				PsSetError(err, "invalid_request",
						   "sort \"field\" must be a column name, not %s",
						   PsJsonTypeName(&val));
			else if (strcmp(name, "order") == 0)
				PsSetError(err, "invalid_request",
						   "sort \"order\" must be \"asc\" or \"desc\"");
			else
				PsSetError(err, "invalid_request",
						   "sort takes \"field\" and \"order\", not \"%.64s\"",
						   name);
			return false;
		}
	}
	if (key->name == NULL)
	{
		PsSetError(err, "invalid_request", "sort needs a \"field\"");
		return false;
	}
	return true;
}

/* Read "sort": one sort key or an array of 1 to PS_ROW_MAX_SORT */
static bool
PsRowParseSort(PsRowCtx *c, PsRowSortKey **keys, int *n)
{
	JsonbValue *v = c->req->field[PS_RF_SORT];

	*n = 0;
	if (v == NULL)
		return true;
	if (!PsRowIsArray(v))
	{
		*keys = palloc(sizeof(PsRowSortKey));
		*n = 1;
		return PsRowSortItem(v, &(*keys)[0], c->err);
	}
	if (PsRowArraySize(v) < 1 || PsRowArraySize(v) > PS_ROW_MAX_SORT)
	{
		PsSetError(c->err, "invalid_request", "sort must hold 1 to %d keys",
				   PS_ROW_MAX_SORT);
		return false;
	}
	*n = PsRowArraySize(v);
	*keys = palloc(sizeof(PsRowSortKey) * *n);
	for (int i = 0; i < *n; i++)
		if (!PsRowSortItem(PsRowArrayElem(v, i), &(*keys)[i], c->err))
			return false;
	return true;
}

/* Order two columns by attribute number */
static int
PsRowAttnumOrder(const void *a, const void *b)
{
	AttrNumber x = (*(PsRowColumn *const *) a)->attnum;
	AttrNumber y = (*(PsRowColumn *const *) b)->attnum;

	return x < y ? -1 : x > y;
}

/*
 * Write the select list: "fields" (PsRowGetNames refuses a name twice), or
 * every visible column.  The columns are selected in table order: a list that
 * is the table's columns in order lets the executor hand over the scanned
 * tuple as it is (no projection); the reply sorts the keys itself
 * (row_reply.c).
 */
static bool
PsRowSelectFields(PsRowCtx *c, PsRowSql *s)
{
	JsonbValue *v = c->req->field[PS_RF_FIELDS];
	PsRowColumn **cols;
	char **names;
	int n;

	appendStringInfoString(&s->buf, "SELECT ");
	if (v == NULL)
	{
		n = c->table->ncolumns;
		cols = palloc(sizeof(PsRowColumn *) * Max(n, 1));
		for (int i = 0; i < n; i++)
			cols[i] = &c->table->columns[i];
		if (n == 0)
			appendStringInfoString(&s->buf, "NULL");
	}
	else
	{
		if (!PsRowGetNames(v, "fields", MaxTupleAttributeNumber, &names, &n,
						   c->err))
			return false;
		cols = palloc(sizeof(PsRowColumn *) * Max(n, 1));
		for (int i = 0; i < n; i++)
			if ((cols[i] = PsRowFindColumn(c->table, names[i], c->err)) ==
				NULL)
				return false;
		qsort(cols, n, sizeof(PsRowColumn *), PsRowAttnumOrder);
	}
	for (int i = 0; i < n; i++)
		PsRowSelectColumn(s, &c->out, cols[i], cols[i]->name);
	return true;
}

/* Write " FROM <table> AS t" */
static void
PsRowFrom(PsRowCtx *c, PsRowSql *s)
{
	appendStringInfo(&s->buf, " FROM %s AS t", c->table->qualified);
}

/* Write " ORDER BY" of the primary key, if the table has one */
static void
PsRowOrderByKey(PsRowCtx *c, PsRowSql *s)
{
	for (int i = 0; i < c->table->npk; i++)
	{
		appendStringInfoString(&s->buf, i == 0 ? " ORDER BY " : ", ");
		PsRowSqlColumn(s, c->table->pk[i]);
	}
}

/* Write search's ORDER BY: the sort keys, or the primary key */
static bool
PsRowSearchOrder(PsRowCtx *c, PsRowSql *s)
{
	PsRowSortKey *keys;
	int n;

	if (!PsRowParseSort(c, &keys, &n))
		return false;
	if (n == 0)
		PsRowOrderByKey(c, s);
	for (int i = 0; i < n; i++)
	{
		PsRowColumn *col = PsRowFindColumn(c->table, keys[i].name, c->err);

		if (col == NULL)
			return false;
		if (!PsRowSortable(col))
		{
			PsSetError(c->err, "type_mismatch",
					   "column \"%s\" (%s) cannot be sorted", col->name,
					   PsRowTypeName(col->typid, col->typmod));
			return false;
		}
		appendStringInfoString(&s->buf, i == 0 ? " ORDER BY " : ", ");
		PsRowSqlColumn(s, col);
		if (keys[i].desc)
			appendStringInfoString(&s->buf, " DESC");
	}
	return true;
}

/*
 * Write " LIMIT n", one more than the page to see if more rows match.  The
 * limit is a number from 1 to PS_ROW_MAX_PAGE + 1 that we checked, written
 * as a constant rather than a parameter: with a parameter the planner must
 * guess it (10% of the rows), so the generic plan of a cached statement
 * never looks as cheap as a custom one and every request would be planned
 * again.  A page size takes only a few values, so this costs few plans.
 */
static void
PsRowLimit(PsRowCtx *c, PsRowSql *s)
{
	Assert(c->limit >= 1 && c->limit <= PS_ROW_MAX_PAGE);
	appendStringInfo(&s->buf, " LIMIT " INT64_FORMAT, c->limit + 1);
}

/* Build search's count statement from the main one's WHERE */
static void
PsRowCountStatement(PsRowCtx *c, const char *where)
{
	PsRowSql *x = &c->extra;

	PsRowSqlInit(x);
	appendStringInfoString(&x->buf, "SELECT count(*)");
	PsRowFrom(c, x);
	appendStringInfoString(&x->buf, where);
	PsRowSqlCopyArgs(x, &c->main);
	c->has_extra = true;
}

/* search: filters, sort, a page of rows, and maybe the total */
bool
PsRowSearchPrepare(PsRowCtx *c)
{
	PsRowSql *s = &c->main;
	int64 offset;
	bool count;
	int mark;

	if (!PsRowGetInt(c->req, PS_RF_LIMIT, 1, PS_ROW_MAX_PAGE,
					 PS_ROW_DEFAULT_PAGE, &c->limit, c->err) ||
		!PsRowGetInt(c->req, PS_RF_OFFSET, 0, PG_INT32_MAX, 0, &offset,
					 c->err) ||
		!PsRowGetBool(c->req, PS_RF_COUNT, false, &count, c->err) ||
		!PsRowSelectFields(c, s))
		return false;
	PsRowFrom(c, s);
	mark = s->buf.len;
	if (!PsRowCompileWhere(c, s, true))
		return false;
	if (count)
		PsRowCountStatement(c, s->buf.data + mark);
	if (!PsRowSearchOrder(c, s))
		return false;
	PsRowLimit(c, s);
	if (offset > 0)
	{
		appendStringInfoString(&s->buf, " OFFSET ");
		PsRowSqlArg(s, INT8OID, Int64GetDatum(offset), false);
	}
	return true;
}

/* Compile a multi-column key {"a": .., "b": ..} as a condition */
static bool
PsRowKeyObject(PsRowCtx *c, PsRowSql *s, JsonbValue *id)
{
	PsRowTable *t = c->table;

	if (!PsRowIsObject(id) || PsRowArraySize(id) != t->npk)
	{
		PsSetError(c->err, "invalid_request",
				   "the primary key of table \"%s\" has %d columns: give an "
				   "id as an object of them",
				   t->name, t->npk);
		return false;
	}
	appendStringInfoChar(&s->buf, '(');
	for (int i = 0; i < t->npk; i++)
	{
		JsonbValue k;
		JsonbValue *v;

		k.type = jbvString;
		k.val.string.val = (char *) t->pk[i]->name;
		k.val.string.len = strlen(t->pk[i]->name);
		v = findJsonbValueFromContainer(id->val.binary.data, JB_FOBJECT, &k);
		if (v == NULL)
		{
			PsSetError(c->err, "invalid_request",
					   "the id needs key column \"%s\"", t->pk[i]->name);
			return false;
		}
		if (i > 0)
			appendStringInfoString(&s->buf, " AND ");
		if (!PsRowCompileCondition(c, s, t->pk[i], "$eq", v))
			return false;
	}
	appendStringInfoChar(&s->buf, ')');
	return true;
}

/* Write select's WHERE: the primary key equals id, or is one of ids */
static bool
PsRowKeyWhere(PsRowCtx *c, PsRowSql *s, JsonbValue *id, JsonbValue *ids)
{
	PsRowTable *t = c->table;

	appendStringInfoString(&s->buf, " WHERE ");
	if (id != NULL)
		return t->npk == 1 ? PsRowCompileCondition(c, s, t->pk[0], "$eq", id)
						   : PsRowKeyObject(c, s, id);
	if (!PsRowIsArray(ids) || PsRowArraySize(ids) > PS_ROW_MAX_BATCH)
	{
		PsSetError(c->err, PsRowIsArray(ids) ? "too_large" : "invalid_request",
				   "field \"ids\" must be an array of at most %d ids",
				   PS_ROW_MAX_BATCH);
		return false;
	}
	if (t->npk == 1)
		return PsRowCompileCondition(c, s, t->pk[0], "$in", ids);
	if (PsRowArraySize(ids) == 0)
		appendStringInfoString(&s->buf, "FALSE");
	for (int i = 0; i < PsRowArraySize(ids); i++)
	{
		if (i > 0)
			appendStringInfoString(&s->buf, " OR ");
		if (!PsRowKeyObject(c, s, PsRowArrayElem(ids, i)))
			return false;
	}
	return true;
}

/* select: rows by primary key ("id" or "ids"), in key order */
bool
PsRowSelectPrepare(PsRowCtx *c)
{
	PsRowSql *s = &c->main;
	JsonbValue *id = c->req->field[PS_RF_ID];
	JsonbValue *ids = c->req->field[PS_RF_IDS];

	if ((id == NULL) == (ids == NULL))
	{
		PsSetError(c->err, "invalid_request",
				   "select needs exactly one of \"id\" and \"ids\"");
		return false;
	}
	if (c->table->npk == 0)
	{
		PsSetError(c->err, "invalid_request",
				   "table \"%s\" has no primary key: use search",
				   c->table->name);
		return false;
	}
	if (!PsRowSelectFields(c, s))
		return false;
	PsRowFrom(c, s);
	if (!PsRowKeyWhere(c, s, id, ids))
		return false;
	PsRowOrderByKey(c, s);
	c->limit = 0;
	return true;
}

/* Add one aggregate {"$op": column} to the select list, keyed alias */
static bool
PsRowAggregate(PsRowCtx *c, PsRowSql *s, const char *alias, JsonbValue *spec)
{
	static const char *const ops[][2] = {
		{"$count", "count"}, {"$sum", "sum"}, {"$avg", "avg"},
		{"$min", "min"},	 {"$max", "max"},
	};
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue v;
	PsRowColumn *col = NULL;
	const char *fn = NULL;
	char *op;
	bool wrap;

	if (!PsRowIsObject(spec) || PsRowArraySize(spec) != 1)
	{
		PsSetError(c->err, "invalid_request",
				   "aggregate \"%s\" must be one {\"$count\" | \"$sum\" | "
				   "\"$avg\" | \"$min\" | \"$max\": column}",
				   alias);
		return false;
	}
	it = JsonbIteratorInit(spec->val.binary.data);
	JsonbIteratorNext(&it, &k, true); /* WJB_BEGIN_OBJECT */
	JsonbIteratorNext(&it, &k, true);
	JsonbIteratorNext(&it, &v, true);
	op = PsRowString(&k);
	for (int i = 0; i < (int) lengthof(ops); i++)
		if (strcmp(op, ops[i][0]) == 0)
			fn = ops[i][1];
	if (fn == NULL)
	{
		PsSetError(c->err, "invalid_request",
				   "unknown aggregate operator \"%.32s\" in \"%s\"", op,
				   alias);
		return false;
	}
	if (v.type != jbvString)
	{
		PsSetError(c->err, "invalid_request",
				   "aggregate \"%s\" takes a column name, not %s", alias,
				   PsJsonTypeName(&v));
		return false;
	}
	if (c->out.n > 0)
		appendStringInfoString(&s->buf, ", ");
	PsRowOutputAdd(&c->out, alias);
	if (strcmp(op, "$count") == 0 && strcmp(PsRowString(&v), "*") == 0)
	{
		appendStringInfoString(&s->buf, "count(*)");
		return true;
	}
	col = PsRowFindColumn(c->table, PsRowString(&v), c->err);
	if (col == NULL)
		return false;
	if (((fn[0] == 's' || fn[0] == 'a') && !PsRowIsNumber(col->kind)) ||
		(fn[0] == 'm' && !PsRowSortable(col)))
	{
		PsSetError(c->err, "type_mismatch",
				   "aggregate \"%s\": %s does not apply to column \"%s\" (%s)",
				   alias, op, col->name,
				   PsRowTypeName(col->typid, col->typmod));
		return false;
	}
	/* min and max of a type without a JSON form of its own: to_jsonb */
	wrap = col->kind == PS_KIND_ARRAY || col->kind == PS_KIND_OTHER;
	appendStringInfo(&s->buf, "%s%s(", wrap ? "to_jsonb(" : "", fn);
	PsRowSqlColumn(s, col);
	appendStringInfoString(&s->buf, wrap ? "))" : ")");
	return true;
}

/* Add "aggregates" to the select list; aliases may not repeat group_by */
static bool
PsRowAggregates(PsRowCtx *c, PsRowSql *s)
{
	JsonbValue *aggs = c->req->field[PS_RF_AGGREGATES];
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue v;
	JsonbIteratorToken tok;

	if (!PsRowIsObject(aggs) || PsRowArraySize(aggs) < 1 ||
		PsRowArraySize(aggs) > 64)
	{
		PsSetError(c->err, "invalid_request",
				   "field \"aggregates\" must be an object of 1 to 64 {alias: "
				   "{\"$op\": column}}");
		return false;
	}
	it = JsonbIteratorInit(aggs->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char *alias;

		if (tok != WJB_KEY)
			continue;
		alias = PsRowString(&k);
		JsonbIteratorNext(&it, &v, true);
		if (!PsRowCheckName("aggregate alias", alias, c->err))
			return false;
		for (int i = 0; i < c->out.n; i++)
			if (strcmp(c->out.keys[i], alias) == 0)
			{
				PsSetError(c->err, "invalid_request",
						   "aggregate alias \"%s\" is also a group_by column",
						   alias);
				return false;
			}
		if (!PsRowAggregate(c, s, alias, &v))
			return false;
	}
	return true;
}

/* Write aggregate's ORDER BY: by output position of an alias or group column
 */
static bool
PsRowAggregateOrder(PsRowCtx *c, PsRowSql *s, int ngroup)
{
	PsRowSortKey *keys;
	int n;

	if (!PsRowParseSort(c, &keys, &n))
		return false;
	for (int i = 0; i < n; i++)
	{
		int pos = -1;

		for (int j = 0; j < c->out.n && pos < 0; j++)
			if (strcmp(c->out.keys[j], keys[i].name) == 0)
				pos = j + 1;
		if (pos < 0)
		{
			PsSetError(c->err, "invalid_request",
					   "sort field \"%.64s\" is neither a group_by column nor "
					   "an aggregate",
					   keys[i].name);
			return false;
		}
		appendStringInfo(&s->buf, "%s%d%s", i == 0 ? " ORDER BY " : ", ", pos,
						 keys[i].desc ? " DESC" : "");
	}
	for (int i = 0; n == 0 && i < ngroup; i++)
		appendStringInfo(&s->buf, "%s%d", i == 0 ? " ORDER BY " : ", ", i + 1);
	return true;
}

/* aggregate: group_by columns and aggregates over the filtered rows */
bool
PsRowAggregatePrepare(PsRowCtx *c)
{
	PsRowSql *s = &c->main;
	JsonbValue *gv = c->req->field[PS_RF_GROUP_BY];
	PsRowColumn **groups = NULL;
	char **names = NULL;
	int ngroup = 0;

	if (!PsRowGetInt(c->req, PS_RF_LIMIT, 1, PS_ROW_MAX_PAGE,
					 PS_ROW_DEFAULT_PAGE, &c->limit, c->err))
		return false;
	if (gv != NULL &&
		!PsRowGetNames(gv, "group_by", 32, &names, &ngroup, c->err))
		return false;
	appendStringInfoString(&s->buf, "SELECT ");
	groups = palloc(sizeof(PsRowColumn *) * Max(ngroup, 1));
	for (int i = 0; i < ngroup; i++)
	{
		groups[i] = PsRowFindColumn(c->table, names[i], c->err);
		if (groups[i] == NULL)
			return false;
		PsRowSelectColumn(s, &c->out, groups[i], groups[i]->name);
	}
	if (!PsRowAggregates(c, s))
		return false;
	PsRowFrom(c, s);
	if (!PsRowCompileWhere(c, s, true))
		return false;
	for (int i = 0; i < ngroup; i++)
	{
		appendStringInfoString(&s->buf, i == 0 ? " GROUP BY " : ", ");
		PsRowSqlColumn(s, groups[i]);
	}
	if (!PsRowAggregateOrder(c, s, ngroup))
		return false;
	PsRowLimit(c, s);
	return true;
}

/*
 * Run select, search or aggregate and answer its rows.  Like any volatile
 * function's query, it sees what earlier commands did, even earlier calls
 * in the caller's own statement: a fresh snapshot after a command counter
 * increment, which search's count shares, so rows and total agree.
 */
Jsonb *
PsRowSearchRun(PsRowCtx *c)
{
	uint64 n;
	uint64 shown;
	PsJbArray rows;
	PsJbMember m[4];
	int nm = 0;
	DestReceiver *dest;
	Jsonb *result;

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	PsJbArrayInit(&rows);
	dest = PsRowRowsReceiver(&rows, &c->out, c->limit);
	PsRowRunTo(&c->main, dest);
	n = PsRowRowsReceived(dest);
	shown = (c->limit > 0 && n > (uint64) c->limit) ? (uint64) c->limit : n;
	m[nm++] = (PsJbMember){.key = "rows", .array = &rows};
	if (c->req->op == PS_ROW_SEARCH)
		m[nm++] =
			(PsJbMember){.key = "count",
						 .value = {.type = jbvNumeric,
								   .val.numeric = int64_to_numeric(shown)}};
	if (c->req->op != PS_ROW_SELECT)
		m[nm++] =
			(PsJbMember){.key = "truncated",
						 .value = {.type = jbvBool, .val.boolean = n > shown}};
	if (c->has_extra)
	{
		bool isnull;

		PsRowRun(&c->extra, true, 0);
		m[nm++] = (PsJbMember){
			.key = "total",
			.value = {.type = jbvNumeric,
					  .val.numeric = int64_to_numeric(DatumGetInt64(
						  SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull)))}};
	}
	result = PsJbFinish(m, nm);
	PopActiveSnapshot();
	return result;
}
