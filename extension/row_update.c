/*-------------------------------------------------------------------------
 *
 * row_update.c
 *	  Compile an update's "operations" into the SET list of one UPDATE.
 *
 * Each member names a column and what to do with it: a bare value sets it,
 * or an object with one operator:
 *
 *	$set v		c = $n
 *	$inc n		c = COALESCE(t.c, 0) + $n		(number columns; NULL counts as
 *0) $dec n		c = COALESCE(t.c, 0) - $n $mul n		c = COALESCE(t.c, 0) *
 *$n $max v		c = GREATEST(t.c, $n)			(GREATEST and LEAST skip NULL)
 *	$min v		c = LEAST(t.c, $n)
 *	$push v		c = array_append(COALESCE(t.c, '{}'), $n)	(array columns)
 *				c = COALESCE(t.c, '[]') || jsonb_build_array($n)	(jsonb)
 *
 * Every expression reads the row's current value, and all of them are one
 * UPDATE statement: PostgreSQL locks each row, and a concurrent update of
 * the same row re-reads it (EvalPlanQual) before applying, so concurrent
 * $inc never lose an increment.  updated_at is set to now() unless the
 * operations set it themselves.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "utils/builtins.h"

/* Check that a column may be written at all */
static bool
PsRowWritable(PsRowColumn *col, PsError *err)
{
	if (col->generated != '\0')
	{
		PsSetError(err, "invalid_request",
				   "column \"%s\" is generated and cannot be written",
				   col->name);
		return false;
	}
	if (col->identity == 'a')
	{
		PsSetError(err, "invalid_request",
				   "column \"%s\" is an identity column GENERATED ALWAYS and "
				   "cannot be written",
				   col->name);
		return false;
	}
	return true;
}

/* Refuse null for an operator (or a NOT NULL column's $set) */
static bool
PsRowNotNull(PsRowColumn *col, const char *op, JsonbValue *arg, bool set,
			 PsError *err)
{
	if (arg->type != jbvNull || (set && !col->notnull))
		return true;
	if (set)
		PsSetError(err, "invalid_request",
				   "column \"%s\" is NOT NULL and cannot be set to null",
				   col->name);
	else
		PsSetError(err, "invalid_request",
				   "operator \"%s\" on column \"%s\" needs a value, not null",
				   op, col->name);
	return false;
}

/* Compile $inc, $dec or $mul: arithmetic on a number column */
static bool
PsRowArith(PsRowSql *s, PsRowColumn *col, const char *op, const char *sqlop,
		   JsonbValue *arg, PsError *err)
{
	if (!PsRowIsNumber(col->kind))
	{
		PsSetError(err, "type_mismatch",
				   "operator \"%s\" needs a number column; \"%s\" is %s", op,
				   col->name, PsRowTypeName(col->typid, col->typmod));
		return false;
	}
	appendStringInfoString(&s->buf, "COALESCE(");
	PsRowSqlColumn(s, col);
	appendStringInfo(&s->buf, ", 0) %s ", sqlop);
	return PsRowBindValue(s, col, arg, err);
}

/* Compile $max or $min: GREATEST / LEAST with the current value */
static bool
PsRowExtreme(PsRowSql *s, PsRowColumn *col, const char *op, JsonbValue *arg,
			 PsError *err)
{
	if (!PsRowSortable(col))
	{
		PsSetError(err, "type_mismatch",
				   "operator \"%s\" does not apply to column \"%s\" (%s)", op,
				   col->name, PsRowTypeName(col->typid, col->typmod));
		return false;
	}
	appendStringInfoString(&s->buf, op[2] == 'a' ? "GREATEST(" : "LEAST(");
	PsRowSqlColumn(s, col);
	appendStringInfoString(&s->buf, ", ");
	if (!PsRowBindValue(s, col, arg, err))
		return false;
	appendStringInfoChar(&s->buf, ')');
	return true;
}

/* Compile $push: append one element to an array (or jsonb array) column */
static bool
PsRowPush(PsRowSql *s, PsRowColumn *col, JsonbValue *arg, PsError *err)
{
	bool json = col->kind == PS_KIND_JSONB;

	appendStringInfoString(&s->buf,
						   json ? "COALESCE(" : "array_append(COALESCE(");
	PsRowSqlColumn(s, col);
	appendStringInfoString(
		&s->buf, json ? ", '[]'::jsonb) || jsonb_build_array(" : ", '{}'), ");
	if (!PsRowBindElement(s, col, arg, err))
		return false;
	appendStringInfoChar(&s->buf, ')');
	return true;
}

/* Compile the new value of one column: "c = <expression>" */
static bool
PsRowOperation(PsRowCtx *c, PsRowSql *s, PsRowColumn *col, const char *op,
			   JsonbValue *arg)
{
	PsError *err = c->err;
	bool set = strcmp(op, "$set") == 0;

	if (!PsRowWritable(col, err))
		return false;
	if (strcmp(op, "$push") != 0 && !PsRowNotNull(col, op, arg, set, err))
		return false;
	appendStringInfo(&s->buf, "%s = ", quote_identifier(col->name));
	if (set)
		return PsRowBindValue(s, col, arg, err);
	if (strcmp(op, "$inc") == 0)
		return PsRowArith(s, col, op, "+", arg, err);
	if (strcmp(op, "$dec") == 0)
		return PsRowArith(s, col, op, "-", arg, err);
	if (strcmp(op, "$mul") == 0)
		return PsRowArith(s, col, op, "*", arg, err);
	if (strcmp(op, "$max") == 0 || strcmp(op, "$min") == 0)
		return PsRowExtreme(s, col, op, arg, err);
	if (strcmp(op, "$push") == 0)
		return PsRowPush(s, col, arg, err);
	PsSetError(err, "invalid_request",
			   "unknown update operator \"%.32s\" on column \"%s\"", op,
			   col->name);
	return false;
}

/*
 * Split one member's value into operator and argument: an object with a key
 * starting with $ must hold exactly one operator; anything else is $set.
 */
static bool
PsRowSplitOperation(PsRowColumn *col, JsonbValue *v, char **op,
					JsonbValue *arg, PsError *err)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbIteratorToken tok;
	bool dollar = false;

	*op = "$set";
	*arg = *v;
	if (!PsRowIsObject(v))
		return true;
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		if (tok == WJB_KEY && k.val.string.len > 0 &&
			k.val.string.val[0] == '$')
			dollar = true;
	if (!dollar)
		return true;
	if (PsRowArraySize(v) != 1)
	{
		PsSetError(err, "invalid_request",
				   "column \"%s\" takes one update operator, not %d",
				   col->name, PsRowArraySize(v));
		return false;
	}
	it = JsonbIteratorInit(v->val.binary.data);
	JsonbIteratorNext(&it, &k, true); /* WJB_BEGIN_OBJECT */
	JsonbIteratorNext(&it, &k, true);
	*op = PsRowString(&k);
	JsonbIteratorNext(&it, arg, true);
	return true;
}

/*
 * Compile "operations" into s as "c1 = e1, c2 = e2[, updated_at = now()]".
 */
bool
PsRowCompileOperations(PsRowCtx *c, PsRowSql *s, JsonbValue *ops)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue v;
	JsonbIteratorToken tok;
	bool touched_updated_at = false;
	int n = 0;

	if (!PsRowIsObject(ops) || PsRowArraySize(ops) == 0)
	{
		PsSetError(
			c->err, "invalid_request",
			"field \"operations\" must be a non-empty object of columns");
		return false;
	}
	it = JsonbIteratorInit(ops->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		PsRowColumn *col;
		char *op;
		JsonbValue arg;

		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &v, true);
		col = PsRowFindColumn(c->table, PsRowString(&k), c->err);
		if (col == NULL || !PsRowSplitOperation(col, &v, &op, &arg, c->err))
			return false;
		if (n++ > 0)
			appendStringInfoString(&s->buf, ", ");
		if (!PsRowOperation(c, s, col, op, &arg))
			return false;
		touched_updated_at |= col == c->table->updated_at;
	}
	if (c->table->updated_at != NULL && !touched_updated_at)
		appendStringInfo(&s->buf, ", %s = now()",
						 c->table->updated_at->quoted);
	return true;
}
