/*-------------------------------------------------------------------------
 *
 * row_write.c
 *	  The writing operations: insert (one row or many), upsert, update and
 *	  delete.
 *
 * insert is one INSERT ... ON CONFLICT DO NOTHING RETURNING <key>: a row
 * that collides with a unique key comes back missing, and that is a
 * conflict.  One row: nothing was written, so the conflict is an ordinary
 * reply.  Many rows ("rows"): they go in as one statement inside a
 * subtransaction, which is rolled back if any row is missing, so the batch
 * is all or nothing and the conflict is still an ordinary reply.
 *
 * upsert is INSERT ... ON CONFLICT (<on>) DO UPDATE SET c = excluded.c for
 * the data's other columns (and updated_at), and tells insert from update by
 * the new row version's xmax (0 only for a fresh insert).  "on" must match a
 * unique index (or the primary key, the default) so PostgreSQL can use it.
 *
 * update and delete are one statement each with the compiled filters; they
 * refuse to run without filters unless "all": true.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/resowner.h"

/* Insert's columns: the union of the rows' keys, in first-seen order */
typedef struct PsRowInsertCols
{
	int n;				/* columns */
	PsRowColumn **cols; /* the columns, room for all of the table's */
} PsRowInsertCols;

/* Check that a column may be written by insert or upsert */
static bool
PsRowInsertable(PsRowColumn *col, PsError *err)
{
	if (col->generated != '\0' || col->identity == 'a')
	{
		PsSetError(err, "invalid_request",
				   "column \"%s\" is %s and cannot be written", col->name,
				   col->generated ? "generated"
								  : "an identity column GENERATED ALWAYS");
		return false;
	}
	return true;
}

/* Add a row's columns to the union; check each row is an object */
static bool
PsRowCollectColumns(PsRowCtx *c, JsonbValue *row, const char *what,
					PsRowInsertCols *ic)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbIteratorToken tok;

	if (!PsRowIsObject(row))
	{
		PsSetError(c->err, "invalid_request",
				   "%s must be an object of columns, not %s", what,
				   PsJsonTypeName(row));
		return false;
	}
	it = JsonbIteratorInit(row->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		PsRowColumn *col;
		bool known = false;

		if (tok != WJB_KEY)
			continue;
		col = PsRowFindColumn(c->table, PsRowString(&k), c->err);
		if (col == NULL || !PsRowInsertable(col, c->err))
			return false;
		for (int i = 0; i < ic->n && !known; i++)
			known = ic->cols[i] == col;
		if (!known)
			ic->cols[ic->n++] = col;
	}
	return true;
}

/* A row's value for a column, or NULL if the row leaves it out */
static JsonbValue *
PsRowValueOf(JsonbValue *row, PsRowColumn *col)
{
	JsonbValue k;

	k.type = jbvString;
	k.val.string.val = (char *) col->name;
	k.val.string.len = strlen(col->name);
	return findJsonbValueFromContainer(row->val.binary.data, JB_FOBJECT, &k);
}

/* Check a row gives every NOT NULL column without a default */
static bool
PsRowRequired(PsRowCtx *c, JsonbValue *row, const char *what)
{
	for (int i = 0; i < c->table->ncolumns; i++)
	{
		PsRowColumn *col = &c->table->columns[i];
		JsonbValue *v;

		if (!col->notnull || col->generated != '\0')
			continue;
		v = PsRowValueOf(row, col);
		if ((v == NULL && !col->hasdefault) ||
			(v != NULL && v->type == jbvNull))
		{
			PsSetError(c->err, "invalid_request",
					   "%s needs a value for column \"%s\" (NOT NULL%s)", what,
					   col->name, col->hasdefault ? "" : ", no default");
			return false;
		}
	}
	return true;
}

/* Write one row's VALUES tuple: a parameter per column, DEFAULT if left out */
static bool
PsRowValues(PsRowCtx *c, PsRowSql *s, JsonbValue *row, PsRowInsertCols *ic)
{
	appendStringInfoChar(&s->buf, '(');
	for (int i = 0; i < ic->n; i++)
	{
		JsonbValue *v = PsRowValueOf(row, ic->cols[i]);

		if (i > 0)
			appendStringInfoString(&s->buf, ", ");
		if (v == NULL)
			appendStringInfoString(&s->buf, "DEFAULT");
		else if (!PsRowBindValue(s, ic->cols[i], v, c->err))
			return false;
	}
	appendStringInfoChar(&s->buf, ')');
	return true;
}

/* Write "INSERT INTO <table> AS t (cols) VALUES (..), .." for the rows */
static bool
PsRowInsertStatement(PsRowCtx *c, PsRowSql *s, JsonbValue **rows, int n)
{
	PsRowInsertCols *ic = palloc0(sizeof(PsRowInsertCols));

	ic->cols = palloc(sizeof(PsRowColumn *) * Max(c->table->ncolumns, 1));
	for (int i = 0; i < n; i++)
	{
		char *what = n == 1 ? "data" : psprintf("rows[%d]", i);

		if (!PsRowCollectColumns(c, rows[i], what, ic) ||
			!PsRowRequired(c, rows[i], what))
			return false;
	}
	/* a column list is needed to write several rows of defaults */
	if (ic->n == 0 && n > 1 && c->table->ncolumns > 0)
		ic->cols[ic->n++] = &c->table->columns[0];
	appendStringInfo(&s->buf, "INSERT INTO %s AS t", c->table->qualified);
	if (ic->n == 0)
	{
		appendStringInfoString(&s->buf, " DEFAULT VALUES");
		return true;
	}
	for (int i = 0; i < ic->n; i++)
		appendStringInfo(&s->buf, "%s%s", i == 0 ? " (" : ", ",
						 quote_identifier(ic->cols[i]->name));
	appendStringInfoString(&s->buf, ") VALUES ");
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&s->buf, ", ");
		if (!PsRowValues(c, s, rows[i], ic))
			return false;
	}
	return true;
}

/* Write " RETURNING <primary key>" (or "true" for a table without one) */
static void
PsRowReturningKey(PsRowCtx *c, PsRowSql *s)
{
	appendStringInfoString(&s->buf, " RETURNING ");
	for (int i = 0; i < c->table->npk; i++)
		PsRowSelectColumn(s, &c->out, c->table->pk[i], c->table->pk[i]->name);
	c->npkout = c->table->npk;
	if (c->npkout == 0)
		appendStringInfoString(&s->buf, "true");
}

/* insert: "data" (one row) or "rows" (1 to PS_ROW_MAX_BATCH, atomically) */
bool
PsRowInsertPrepare(PsRowCtx *c)
{
	JsonbValue *data = c->req->field[PS_RF_DATA];
	JsonbValue *rowsv = c->req->field[PS_RF_ROWS];
	JsonbValue **rows;
	int n;

	if ((data == NULL) == (rowsv == NULL))
	{
		PsSetError(c->err, "invalid_request",
				   "insert needs exactly one of \"data\" and \"rows\"");
		return false;
	}
	if (rowsv != NULL && (!PsRowIsArray(rowsv) || PsRowArraySize(rowsv) < 1 ||
						  PsRowArraySize(rowsv) > PS_ROW_MAX_BATCH))
	{
		PsSetError(c->err,
				   PsRowIsArray(rowsv) && PsRowArraySize(rowsv) > 0
					   ? "too_large"
					   : "invalid_request",
				   "field \"rows\" must be an array of 1 to %d rows",
				   PS_ROW_MAX_BATCH);
		return false;
	}
	n = data ? 1 : PsRowArraySize(rowsv);
	rows = palloc(sizeof(JsonbValue *) * n);
	for (int i = 0; i < n; i++)
		rows[i] = data ? data : PsRowArrayElem(rowsv, i);
	if (!PsRowInsertStatement(c, &c->main, rows, n))
		return false;
	if (c->main.nargs > PG_UINT16_MAX)
	{
		PsSetError(c->err, "too_large",
				   "the rows hold %d values, more than the limit of %d",
				   c->main.nargs, PG_UINT16_MAX);
		return false;
	}
	appendStringInfoString(&c->main.buf, " ON CONFLICT DO NOTHING");
	PsRowReturningKey(c, &c->main);
	c->nrows = n;
	c->main.oneshot = rowsv != NULL;
	return true;
}

/* Say that rows collided with a unique key */
static void
PsRowConflict(PsRowCtx *c, uint64 inserted)
{
	if (c->req->field[PS_RF_DATA] != NULL)
		PsSetError(
			c->err, "conflict",
			"a row with the same unique key already exists in table \"%s\"",
			c->table->name);
	else
		PsSetError(c->err, "conflict",
				   INT64_FORMAT
				   " of " INT64_FORMAT
				   " rows collide with a unique key of table \"%s\" (or with "
				   "each other); none was inserted",
				   c->nrows - (int64) inserted, c->nrows, c->table->name);
}

/*
 * Run a batch insert in a subtransaction: all rows, or none and false.  An
 * ERROR in the statement (an overflow, a too-long key) must end the
 * subtransaction before it goes on up: left open, it kept the caller's
 * session in an aborted transaction block ("current transaction is
 * aborted") that only a dropped connection ended.
 */
static bool
PsRowInsertAll(PsRowCtx *c, uint64 *n)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		*n = PsRowRun(&c->main, false, 0);
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ReThrowError(edata);
	}
	PG_END_TRY();
	if (*n == (uint64) c->nrows)
		return true;
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return false;
}

/* Commit the batch's subtransaction */
static void
PsRowInsertDone(MemoryContext cxt, ResourceOwner owner)
{
	ReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

/* Run insert: {"id": key, "created": true} or {"ids": [..], "created": true}
 */
Jsonb *
PsRowInsertRun(PsRowCtx *c)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	bool batch = c->req->field[PS_RF_ROWS] != NULL;
	uint64 n;
	PsReply out;
	Jsonb *result;

	if (batch ? !PsRowInsertAll(c, &n)
			  : (n = PsRowRun(&c->main, false, 0)) == 0)
	{
		PsRowConflict(c, n);
		return NULL;
	}
	PsReplyBegin(&out);
	if (!batch)
		PsRowReplyKey(&out, "id", c, 0);
	else
	{
		PsReplyBeginArray(&out, "ids");
		for (uint64 i = 0; i < n; i++)
			PsRowReplyKey(&out, NULL, c, i);
		PsReplyEndArray(&out);
	}
	PsReplyBool(&out, "created", true);
	result = PsReplyFinish(&out);
	if (batch)
		PsRowInsertDone(cxt, owner);
	return result;
}

/* Find a unique index whose columns are exactly on's (in any order) */
static bool
PsRowHasUniqueIndex(PsRowTable *t, PsRowColumn **on, int n)
{
	ListCell *lc;

	foreach (lc, PsRowIndexes(t))
	{
		PsRowIndex *ix = lfirst(lc);
		int matched = 0;

		if (!ix->unique || !ix->usable || ix->nkeys != n)
			continue;
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				matched += ix->keys[j] == on[i]->attnum;
		if (matched == n)
			return true;
	}
	return false;
}

/* Read upsert's "on": named columns, or the primary key */
static bool
PsRowUpsertOn(PsRowCtx *c, PsRowColumn ***on, int *n)
{
	JsonbValue *v = c->req->field[PS_RF_ON];
	PsRowTable *t = c->table;
	char **names;

	if (v == NULL)
	{
		*on = t->pk;
		*n = t->npk;
		if (*n > 0)
			return true;
		PsSetError(c->err, "invalid_request",
				   "table \"%s\" has no primary key: upsert needs \"on\"",
				   t->name);
		return false;
	}
	if (!PsRowGetNames(v, "on", INDEX_MAX_KEYS, &names, n, c->err))
		return false;
	*on = palloc(sizeof(PsRowColumn *) * *n);
	for (int i = 0; i < *n; i++)
		if (((*on)[i] = PsRowFindColumn(t, names[i], c->err)) == NULL)
			return false;
	if (!PsRowHasUniqueIndex(t, *on, *n))
	{
		PsSetError(
			c->err, "invalid_request",
			"table \"%s\" has no unique index on exactly the \"on\" columns",
			t->name);
		return false;
	}
	return true;
}

/* Write upsert's DO UPDATE SET: the data's other columns, and updated_at */
static void
PsRowUpsertSet(PsRowCtx *c, PsRowSql *s, JsonbValue *data, PsRowColumn **on,
			   int non)
{
	int n = 0;
	bool touched_updated_at = false;

	appendStringInfoString(&s->buf, " DO UPDATE SET ");
	for (int i = 0; i < c->table->ncolumns; i++)
	{
		PsRowColumn *col = &c->table->columns[i];
		bool is_on = false;

		for (int j = 0; j < non; j++)
			is_on |= on[j] == col;
		if (is_on || PsRowValueOf(data, col) == NULL)
			continue;
		appendStringInfo(&s->buf, "%s%s = excluded.%s", n++ ? ", " : "",
						 quote_identifier(col->name),
						 quote_identifier(col->name));
		touched_updated_at |= col == c->table->updated_at;
	}
	if (c->table->updated_at != NULL && !touched_updated_at)
		appendStringInfo(&s->buf, "%s%s = now()", n++ ? ", " : "",
						 quote_identifier(c->table->updated_at->name));
	if (n == 0)
		appendStringInfo(&s->buf, "%s = excluded.%s",
						 quote_identifier(on[0]->name),
						 quote_identifier(on[0]->name));
}

/* upsert: insert data, or update the row that has the same "on" columns */
bool
PsRowUpsertPrepare(PsRowCtx *c)
{
	JsonbValue *data = c->req->field[PS_RF_DATA];
	PsRowSql *s = &c->main;
	PsRowColumn **on;
	int non;

	if (!PsRowUpsertOn(c, &on, &non) || !PsRowInsertStatement(c, s, &data, 1))
		return false;
	for (int i = 0; i < non; i++)
	{
		JsonbValue *v = PsRowValueOf(data, on[i]);

		if (v == NULL || v->type == jbvNull)
		{
			PsSetError(c->err, "invalid_request",
					   "upsert needs a value for column \"%s\" in data: it is "
					   "an \"on\" column",
					   on[i]->name);
			return false;
		}
	}
	appendStringInfoString(&s->buf, " ON CONFLICT (");
	for (int i = 0; i < non; i++)
		appendStringInfo(&s->buf, "%s%s", i ? ", " : "",
						 quote_identifier(on[i]->name));
	appendStringInfoChar(&s->buf, ')');
	PsRowUpsertSet(c, s, data, on, non);
	PsRowReturningKey(c, s);
	appendStringInfoString(&s->buf, ", (t.xmax = 0)");
	return true;
}

/* Run upsert: {"id": key, "created": true if inserted, false if updated} */
Jsonb *
PsRowUpsertRun(PsRowCtx *c)
{
	PsReply out;
	bool isnull;
	bool created;

	PsRowRun(&c->main, false, 0);
	created = DatumGetBool(
		SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
					  c->npkout + (c->npkout == 0 ? 2 : 1), &isnull));
	PsReplyBegin(&out);
	PsRowReplyKey(&out, "id", c, 0);
	PsReplyBool(&out, "created", created);
	return PsReplyFinish(&out);
}

/* update: one UPDATE of the filtered rows */
bool
PsRowUpdatePrepare(PsRowCtx *c)
{
	PsRowSql *s = &c->main;

	appendStringInfo(&s->buf, "UPDATE %s AS t SET ", c->table->qualified);
	return PsRowCompileOperations(c, s, c->req->field[PS_RF_OPERATIONS]) &&
		   PsRowCompileWhere(c, s, false);
}

/* delete: one DELETE of the filtered rows */
bool
PsRowDeletePrepare(PsRowCtx *c)
{
	PsRowSql *s = &c->main;

	appendStringInfo(&s->buf, "DELETE FROM %s AS t", c->table->qualified);
	return PsRowCompileWhere(c, s, false);
}

/* Run update or delete: {"updated": n} or {"deleted": n} */
Jsonb *
PsRowChangeRun(PsRowCtx *c)
{
	uint64 n = PsRowRun(&c->main, false, 0);
	PsReply out;

	PsReplyBegin(&out);
	PsReplyInt64(&out, c->req->op == PS_ROW_UPDATE ? "updated" : "deleted", n);
	return PsReplyFinish(&out);
}
