/*-------------------------------------------------------------------------
 *
 * row_filter.c
 *	  Compile a request's "filters" into a WHERE clause with bound values.
 *
 * A filter object maps columns to conditions, ANDed:
 *
 *	{"user_id": "groberts", "score": {"$gte": 100, "$lt": 200},
 *	 "$or": [{"a": 1}, {"b": {"$null": true}}], "$not": {"c": {"$in": [1, 2]}}}
 *
 * A condition is a bare value ($eq) or an object of operators (an object is
 * read as operators when any of its keys starts with $):
 *
 *	$eq v		t.c = $n			(v null: t.c IS NULL)
 *	$ne v		t.c IS DISTINCT FROM $n (v null: t.c IS NOT NULL)
 *	$gt $gte $lt $lte v		t.c > $n ...	(v not null; orderable types)
 *	$in [..]	t.c = ANY ($n)		(one array parameter, no nulls)
 *	$nin [..]	(t.c IS NULL OR t.c <> ALL ($n))
 *	$like p, $ilike p		t.c LIKE $n (text columns; % and _ wild, \ escapes)
 *	$null b		b ? t.c IS NULL : t.c IS NOT NULL
 *	$exists b	b ? t.c IS NOT NULL : t.c IS NULL
 *
 * and $and / $or take a non-empty array of filter objects, $not one filter
 * object: NOT COALESCE((...), false), so a row whose column is NULL matches
 * {"$not": {"c": 1}} as it matches {"c": {"$ne": 1}}.  Column names are
 * checked against the table's catalog and quoted; values go through
 * row_value.c and are bound as parameters of the column's type.  Nesting is
 * limited to PS_ROW_MAX_DEPTH levels.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "utils/typcache.h"

static bool PsRowFilterObject(PsRowCtx *c, PsRowSql *s, JsonbValue *obj,
							  int depth, int *leaves);

/* Can values of this column be compared with = ? */
static bool
PsRowEqualityOk(PsRowColumn *col, const char *op, PsError *err)
{
	TypeCacheEntry *tc = lookup_type_cache(col->basetype, TYPECACHE_EQ_OPR);

	if (OidIsValid(tc->eq_opr))
		return true;
	PsSetError(err, "type_mismatch",
			   "operator \"%s\" does not apply to column \"%s\" (%s)", op,
			   col->name, PsRowTypeName(col->typid, col->typmod));
	return false;
}

/* Write "t.c <sql> <bound value>" */
static bool
PsRowBinary(PsRowSql *s, PsRowColumn *col, const char *sql, JsonbValue *arg,
			PsError *err)
{
	PsRowSqlColumn(s, col);
	appendStringInfo(&s->buf, " %s ", sql);
	return PsRowBindValue(s, col, arg, err);
}

/* Write an IS [NOT] NULL test */
static void
PsRowNullTest(PsRowSql *s, PsRowColumn *col, bool isnull)
{
	PsRowSqlColumn(s, col);
	appendStringInfoString(&s->buf, isnull ? " IS NULL" : " IS NOT NULL");
}

/* Read the boolean argument of $null or $exists */
static bool
PsRowBoolArg(PsRowColumn *col, const char *op, JsonbValue *arg, PsError *err)
{
	if (arg->type == jbvBool)
		return true;
	PsSetError(err, "invalid_request",
			   "operator \"%s\" on column \"%s\" takes true or false, not %s",
			   op, col->name, PsJsonTypeName(arg));
	return false;
}

/* Check an ordering operator's argument and column */
static bool
PsRowOrderingOk(PsRowColumn *col, const char *op, JsonbValue *arg,
				PsError *err)
{
	if (arg->type == jbvNull)
	{
		PsSetError(err, "invalid_request",
				   "operator \"%s\" on column \"%s\" needs a value, not null",
				   op, col->name);
		return false;
	}
	if (!PsRowSortable(col))
	{
		PsSetError(err, "type_mismatch",
				   "operator \"%s\" does not apply to column \"%s\" (%s)", op,
				   col->name, PsRowTypeName(col->typid, col->typmod));
		return false;
	}
	return true;
}

/* Compile one operator on one column into s */
bool
PsRowCompileCondition(PsRowCtx *c, PsRowSql *s, PsRowColumn *col,
					  const char *op, JsonbValue *arg)
{
	static const char *const cmp[][2] = {
		{"$gt", ">"},
		{"$gte", ">="},
		{"$lt", "<"},
		{"$lte", "<="},
	};
	PsError *err = c->err;

	if (strcmp(op, "$eq") == 0 || strcmp(op, "$ne") == 0)
	{
		bool eq = op[1] == 'e';

		if (arg->type == jbvNull)
		{
			PsRowNullTest(s, col, eq);
			return true;
		}
		return PsRowEqualityOk(col, op, err) &&
			   PsRowBinary(s, col, eq ? "=" : "IS DISTINCT FROM", arg, err);
	}
	for (int i = 0; i < (int) lengthof(cmp); i++)
		if (strcmp(op, cmp[i][0]) == 0)
			return PsRowOrderingOk(col, op, arg, err) &&
				   PsRowBinary(s, col, cmp[i][1], arg, err);
	if (strcmp(op, "$in") == 0 || strcmp(op, "$nin") == 0)
	{
		bool in = op[1] == 'i';

		if (!PsRowEqualityOk(col, op, err))
			return false;
		if (!in)
		{
			appendStringInfoChar(&s->buf, '(');
			PsRowNullTest(s, col, true);
			appendStringInfoString(&s->buf, " OR ");
		}
		PsRowSqlColumn(s, col);
		appendStringInfoString(&s->buf, in ? " = ANY (" : " <> ALL (");
		if (!PsRowBindArray(s, col, arg, op, err))
			return false;
		appendStringInfoString(&s->buf, in ? ")" : "))");
		return true;
	}
	if (strcmp(op, "$like") == 0 || strcmp(op, "$ilike") == 0)
	{
		if (col->kind != PS_KIND_TEXT)
		{
			PsSetError(err, "type_mismatch",
					   "operator \"%s\" needs a text column; \"%s\" is %s", op,
					   col->name, PsRowTypeName(col->typid, col->typmod));
			return false;
		}
		if (arg->type != jbvString)
		{
			PsSetError(err, "invalid_request",
					   "operator \"%s\" on column \"%s\" takes a pattern "
					   "string, not %s",
					   op, col->name, PsJsonTypeName(arg));
			return false;
		}
		return PsRowBinary(s, col, op[1] == 'l' ? "LIKE" : "ILIKE", arg, err);
	}
	if (strcmp(op, "$null") == 0 || strcmp(op, "$exists") == 0)
	{
		if (!PsRowBoolArg(col, op, arg, err))
			return false;
		PsRowNullTest(s, col, (op[1] == 'n') == arg->val.boolean);
		return true;
	}
	PsSetError(err, "invalid_request",
			   "unknown filter operator \"%.32s\" on column \"%s\"", op,
			   col->name);
	return false;
}

/* Is a condition an object of operators (any key starting with $)? */
static bool
PsRowIsOperators(JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbIteratorToken tok;

	if (!PsRowIsObject(v))
		return false;
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		if (tok == WJB_KEY && k.val.string.len > 0 &&
			k.val.string.val[0] == '$')
			return true;
	return false;
}

/* Write the separator before a part: nothing before the first */
static void
PsRowJoin(PsRowSql *s, int *parts, const char *sep)
{
	if ((*parts)++ > 0)
		appendStringInfoString(&s->buf, sep);
}

/* Compile one column's condition (a value or an object of operators) */
static bool
PsRowFilterField(PsRowCtx *c, PsRowSql *s, PsRowColumn *col, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue arg;
	JsonbIteratorToken tok;
	int parts = 0;

	if (!PsRowIsOperators(v))
		return PsRowCompileCondition(c, s, col, "$eq", v);
	if (PsRowArraySize(v) > 1)
		appendStringInfoChar(&s->buf, '(');
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &arg, true);
		PsRowJoin(s, &parts, " AND ");
		if (!PsRowCompileCondition(c, s, col, PsRowString(&k), &arg))
			return false;
	}
	if (parts > 1)
		appendStringInfoChar(&s->buf, ')');
	return true;
}

/* Compile $and / $or: a non-empty array of filter objects */
static bool
PsRowFilterList(PsRowCtx *c, PsRowSql *s, const char *op, JsonbValue *v,
				int depth, int *leaves)
{
	int n;

	if (!PsRowIsArray(v) || PsRowArraySize(v) == 0)
	{
		PsSetError(c->err, "invalid_request",
				   "\"%s\" takes a non-empty array of filter objects", op);
		return false;
	}
	n = PsRowArraySize(v);
	appendStringInfoChar(&s->buf, '(');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&s->buf, op[1] == 'a' ? " AND " : " OR ");
		if (!PsRowFilterObject(c, s, PsRowArrayElem(v, i), depth + 1, leaves))
			return false;
	}
	appendStringInfoChar(&s->buf, ')');
	return true;
}

/* Compile $not: one filter object, NULL counting as false */
static bool
PsRowFilterNot(PsRowCtx *c, PsRowSql *s, JsonbValue *v, int depth, int *leaves)
{
	appendStringInfoString(&s->buf, "NOT COALESCE((");
	if (!PsRowFilterObject(c, s, v, depth + 1, leaves))
		return false;
	appendStringInfoString(&s->buf, "), false)");
	return true;
}

/*
 * Compile a filter object: its members ANDed ("TRUE" if it has none).
 * leaves counts the column conditions found, at any depth.
 */
static bool
PsRowFilterObject(PsRowCtx *c, PsRowSql *s, JsonbValue *obj, int depth,
				  int *leaves)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue v;
	JsonbIteratorToken tok;
	int parts = 0;

	if (!PsRowIsObject(obj))
	{
		PsSetError(c->err, "invalid_request",
				   "a filter must be an object, not %s", PsJsonTypeName(obj));
		return false;
	}
	if (depth > PS_ROW_MAX_DEPTH)
	{
		PsSetError(c->err, "invalid_request",
				   "filters nest deeper than %d levels", PS_ROW_MAX_DEPTH);
		return false;
	}
	if (PsRowArraySize(obj) > 1)
		appendStringInfoChar(&s->buf, '(');
	it = JsonbIteratorInit(obj->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char *key;
		bool ok;

		if (tok != WJB_KEY)
			continue;
		key = PsRowString(&k);
		JsonbIteratorNext(&it, &v, true);
		PsRowJoin(s, &parts, " AND ");
		if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0)
			ok = PsRowFilterList(c, s, key, &v, depth, leaves);
		else if (strcmp(key, "$not") == 0)
			ok = PsRowFilterNot(c, s, &v, depth, leaves);
		else if (key[0] == '$')
		{
			PsSetError(c->err, "invalid_request",
					   "unknown filter operator \"%.32s\"", key);
			ok = false;
		}
		else
		{
			PsRowColumn *col = PsRowFindColumn(c->table, key, c->err);

			ok = col != NULL && PsRowFilterField(c, s, col, &v);
			(*leaves)++;
		}
		if (!ok)
			return false;
	}
	if (parts == 0)
		appendStringInfoString(&s->buf, "TRUE");
	else if (parts > 1)
		appendStringInfoChar(&s->buf, ')');
	return true;
}

/*
 * Compile a filter object into s; *leaves is the number of column conditions
 * in it, at any depth.
 */
static bool
PsRowCompileFilters(PsRowCtx *c, PsRowSql *s, JsonbValue *filters, int *leaves)
{
	*leaves = 0;
	if (!PsRowIsObject(filters))
	{
		PsSetError(c->err, "invalid_request",
				   "field \"filters\" must be an object, not %s",
				   PsJsonTypeName(filters));
		return false;
	}
	return PsRowFilterObject(c, s, filters, 1, leaves);
}

/*
 * Write " WHERE <filters>" for the request's filters, or nothing when there
 * are none.  Unless allow_all, filters without any column condition are
 * refused unless "all": true, so a forgotten filter cannot change every row.
 */
bool
PsRowCompileWhere(PsRowCtx *c, PsRowSql *s, bool allow_all)
{
	JsonbValue *filters = c->req->field[PS_RF_FILTERS];
	int leaves = 0;
	bool all;

	if (!PsRowGetBool(c->req, PS_RF_ALL, false, &all, c->err))
		return false;
	if (filters != NULL &&
		!(PsRowIsObject(filters) && PsRowArraySize(filters) == 0))
	{
		appendStringInfoString(&s->buf, " WHERE ");
		if (!PsRowCompileFilters(c, s, filters, &leaves))
			return false;
	}
	if (leaves == 0 && !allow_all && !all)
	{
		PsSetError(c->err, "invalid_request",
				   "%s without filters would change every row of table "
				   "\"%s\": pass \"all\": true to mean it",
				   c->req->opname, c->table->name);
		return false;
	}
	return true;
}
