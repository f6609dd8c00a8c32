/*-------------------------------------------------------------------------
 *
 * row_define.c
 *	  Tables: define (create, or alter additively), describe, tables and
 *	  drop_table.
 *
 * define compares the request with the catalog and works out every DDL
 * statement before running any: a new table is
 *
 *	CREATE TABLE <schema>.<t> (id bigserial PRIMARY KEY, <columns>,
 *	  created_at timestamptz NOT NULL DEFAULT now(),
 *	  updated_at timestamptz NOT NULL DEFAULT now())
 *
 * (with the request's primary_key instead of id, if given), then CREATE
 * [UNIQUE] INDEX ON for "indexes" and "unique".  For an existing table,
 * missing columns are added (ALTER TABLE ... ADD COLUMN) and missing indexes
 * created; nothing is ever dropped, and an existing column of another type,
 * or another primary key, is a conflict.  A define that changes nothing runs
 * no DDL.  Types are a fixed list, written into the DDL from this file's own
 * constants; names are checked and quoted.  The DDL runs under the plugin's
 * role, which owns what it creates.
 *
 * Two defines of one plugin are serialized by a lock on its schema (a
 * ShareUpdateExclusiveLock on the namespace object, which conflicts with no
 * lock that DML or CREATE take), so a concurrent pair cannot both create the
 * same table.  The table itself is closed before the DDL runs, as ALTER
 * TABLE and CREATE INDEX require.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "catalog/heap.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* A column type define accepts */
typedef struct PsRowType
{
	const char *name; /* as written in a request */
	Oid typid;		  /* the type */
	const char *sql;  /* as written in DDL */
} PsRowType;

static const PsRowType ps_row_types[] = {
	{"text", TEXTOID, "text"},
	{"integer", INT4OID, "integer"},
	{"int", INT4OID, "integer"},
	{"bigint", INT8OID, "bigint"},
	{"numeric", NUMERICOID, "numeric"},
	{"double precision", FLOAT8OID, "double precision"},
	{"float", FLOAT8OID, "double precision"},
	{"boolean", BOOLOID, "boolean"},
	{"bool", BOOLOID, "boolean"},
	{"timestamptz", TIMESTAMPTZOID, "timestamptz"},
	{"jsonb", JSONBOID, "jsonb"},
	{"text[]", TEXTARRAYOID, "text[]"},
};

/* One requested column */
typedef struct PsRowDefColumn
{
	char *name;			   /* its name */
	const PsRowType *type; /* its type */
	bool exists;		   /* the table has it already */
} PsRowDefColumn;

/* What define worked out: the DDL to run and what to answer */
typedef struct PsRowDefine
{
	char *table;		  /* the table's name */
	char *qualified;	  /* quoted schema.table */
	bool create;		  /* the table is new */
	int ncols;			  /* requested columns */
	PsRowDefColumn *cols; /* them */
	List *ddl;			  /* statements to run, in order */
	List *added;		  /* names of the columns added */
	int nindexes;		  /* indexes created */
} PsRowDefine;

/* Find a type by its request spelling */
static const PsRowType *
PsRowFindType(const char *name)
{
	for (int i = 0; i < (int) lengthof(ps_row_types); i++)
		if (strcmp(ps_row_types[i].name, name) == 0)
			return &ps_row_types[i];
	return NULL;
}

/* Check and add one requested column: a valid name and a known type */
static bool
PsRowDefineColumn(PsRowCtx *c, PsRowDefine *d, char *name, JsonbValue *type)
{
	PsRowDefColumn *col = &d->cols[d->ncols++];

	col->name = name;
	if (!PsRowCheckName("column", name, c->err))
		return false;
	/* ctid, xmin, tableoid...: CREATE TABLE would fail with 42701 */
	if (SystemAttributeByName(name) != NULL)
	{
		PsSetError(c->err, "invalid_request",
				   "column name \"%s\" is reserved: it is a system column of "
				   "every PostgreSQL table",
				   name);
		return false;
	}
	for (int i = 0; i < d->ncols - 1; i++)
		if (strcmp(d->cols[i].name, name) == 0)
		{
			PsSetError(c->err, "invalid_request",
					   "column \"%s\" is named twice", name);
			return false;
		}
	col->type = type && type->type == jbvString
					? PsRowFindType(PsRowString(type))
					: NULL;
	if (col->type == NULL)
	{
		PsSetError(
			c->err, "invalid_request",
			"column \"%s\" has an unknown type: use text, integer, bigint, "
			"numeric, double precision, boolean, timestamptz, jsonb or text[]",
			name);
		return false;
	}
	return true;
}

/* Read one element of "columns" as an array: {"name": .., "type": ..} */
static bool
PsRowDefineColumnObject(PsRowCtx *c, PsRowDefine *d, JsonbValue *e)
{
	JsonbValue k;
	JsonbValue *name;

	if (!PsRowIsObject(e) || PsRowArraySize(e) != 2)
	{
		PsSetError(c->err, "invalid_request",
				   "each element of \"columns\" must be {\"name\": .., "
				   "\"type\": ..}");
		return false;
	}
	k.type = jbvString;
	k.val.string.val = "name";
	k.val.string.len = 4;
	name = findJsonbValueFromContainer(e->val.binary.data, JB_FOBJECT, &k);
	if (name == NULL || name->type != jbvString)
	{
		PsSetError(c->err, "invalid_request",
				   "each element of \"columns\" must be {\"name\": .., "
				   "\"type\": ..}");
		return false;
	}
	k.val.string.val = "type";
	return PsRowDefineColumn(
		c, d, PsRowString(name),
		findJsonbValueFromContainer(e->val.binary.data, JB_FOBJECT, &k));
}

/*
 * Read "columns": {name: type} (created in jsonb's key order: shorter names
 * first), or [{"name": .., "type": ..}, ..] (created in the order given).
 */
static bool
PsRowDefineColumns(PsRowCtx *c, PsRowDefine *d)
{
	JsonbValue *v = c->req->field[PS_RF_COLUMNS];
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue t;
	JsonbIteratorToken tok;

	if (v == NULL)
		return true;
	if ((!PsRowIsObject(v) && !PsRowIsArray(v)) || PsRowArraySize(v) > 1000)
	{
		PsSetError(c->err, "invalid_request",
				   "field \"columns\" must be {name: type} or [{\"name\": .., "
				   "\"type\": ..}], of up to 1000 columns");
		return false;
	}
	d->cols = palloc0(sizeof(PsRowDefColumn) * Max(PsRowArraySize(v), 1));
	if (PsRowIsArray(v))
	{
		for (int i = 0; i < PsRowArraySize(v); i++)
			if (!PsRowDefineColumnObject(c, d, PsRowArrayElem(v, i)))
				return false;
		return true;
	}
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &t, true);
		if (!PsRowDefineColumn(c, d, PsRowString(&k), &t))
			return false;
	}
	return true;
}

/* The requested column called name, or NULL */
static PsRowDefColumn *
PsRowDefColumnNamed(PsRowDefine *d, const char *name)
{
	for (int i = 0; i < d->ncols; i++)
		if (strcmp(d->cols[i].name, name) == 0)
			return &d->cols[i];
	return NULL;
}

/* Is name a column the table has, or will have once define has run? */
static bool
PsRowDefineKnows(PsRowCtx *c, PsRowDefine *d, const char *name)
{
	if (PsRowDefColumnNamed(d, name) != NULL)
		return true;
	if (d->create)
		return strcmp(name, "created_at") == 0 ||
			   strcmp(name, "updated_at") == 0 ||
			   (strcmp(name, "id") == 0 &&
				c->req->field[PS_RF_PRIMARY_KEY] == NULL);
	for (int i = 0; i < c->table->ncolumns; i++)
		if (strcmp(c->table->columns[i].name, name) == 0)
			return true;
	return false;
}

/* Read a list of column names that must all be (or become) the table's */
static bool
PsRowDefineNames(PsRowCtx *c, PsRowDefine *d, JsonbValue *v, const char *field,
				 char ***names, int *n)
{
	if (!PsRowGetNames(v, field, INDEX_MAX_KEYS, names, n, c->err))
		return false;
	for (int i = 0; i < *n; i++)
		if (!PsRowDefineKnows(c, d, (*names)[i]))
		{
			PsSetError(c->err, "invalid_request",
					   "%s names unknown column \"%.64s\" of table \"%s\"",
					   field, (*names)[i], d->table);
			return false;
		}
	return true;
}

/* Write "(a, b)": a list of quoted column names */
static void
PsRowNameList(StringInfo buf, char **names, int n)
{
	appendStringInfoChar(buf, '(');
	for (int i = 0; i < n; i++)
		appendStringInfo(buf, "%s%s", i ? ", " : "",
						 quote_identifier(names[i]));
	appendStringInfoChar(buf, ')');
}

/* Build CREATE TABLE for a new table */
static bool
PsRowDefineCreate(PsRowCtx *c, PsRowDefine *d)
{
	JsonbValue *pkv = c->req->field[PS_RF_PRIMARY_KEY];
	StringInfoData sql;
	char **pk = NULL;
	int npk = 0;

	if (pkv != NULL && !PsRowDefineNames(c, d, pkv, "primary_key", &pk, &npk))
		return false;
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", d->qualified);
	if (pkv == NULL)
	{
		if (PsRowDefColumnNamed(d, "id") != NULL)
		{
			PsSetError(c->err, "invalid_request",
					   "column \"id\" is the table's own key: name a "
					   "primary_key to define it yourself");
			return false;
		}
		appendStringInfoString(&sql, "id bigserial PRIMARY KEY, ");
		d->added = lappend(d->added, pstrdup("id"));
	}
	for (int i = 0; i < d->ncols; i++)
	{
		PsRowDefColumn *col = &d->cols[i];
		bool stamp = strcmp(col->name, "created_at") == 0 ||
					 strcmp(col->name, "updated_at") == 0;

		if (stamp && col->type->typid != TIMESTAMPTZOID)
		{
			PsSetError(c->err, "invalid_request",
					   "column \"%s\" is added by define as timestamptz",
					   col->name);
			return false;
		}
		if (stamp)
			continue;
		appendStringInfo(&sql, "%s %s, ", quote_identifier(col->name),
						 col->type->sql);
		d->added = lappend(d->added, col->name);
	}
	appendStringInfoString(&sql,
						   "created_at timestamptz NOT NULL DEFAULT now(), "
						   "updated_at timestamptz NOT NULL DEFAULT now()");
	d->added = lappend(d->added, pstrdup("created_at"));
	d->added = lappend(d->added, pstrdup("updated_at"));
	if (npk > 0)
	{
		appendStringInfoString(&sql, ", PRIMARY KEY ");
		PsRowNameList(&sql, pk, npk);
	}
	appendStringInfoChar(&sql, ')');
	d->ddl = lappend(d->ddl, sql.data);
	return true;
}

/* Check an existing table's primary key against the requested one */
static bool
PsRowDefineSameKey(PsRowCtx *c, PsRowDefine *d)
{
	JsonbValue *pkv = c->req->field[PS_RF_PRIMARY_KEY];
	PsRowTable *t = c->table;
	char **pk;
	int npk;
	bool same;

	if (pkv == NULL)
		return true;
	if (!PsRowDefineNames(c, d, pkv, "primary_key", &pk, &npk))
		return false;
	same = npk == t->npk;
	for (int i = 0; same && i < npk; i++)
		same = strcmp(pk[i], t->pk[i]->name) == 0;
	if (!same)
		PsSetError(c->err, "conflict",
				   "table \"%s\" exists with another primary key: define does "
				   "not change keys",
				   d->table);
	return same;
}

/* Build ALTER TABLE ... ADD COLUMN for the columns an existing table lacks */
static bool
PsRowDefineAlter(PsRowCtx *c, PsRowDefine *d)
{
	StringInfoData sql;
	int nadd = 0;

	if (!PsRowDefineSameKey(c, d))
		return false;
	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER TABLE %s ", d->qualified);
	for (int i = 0; i < d->ncols; i++)
	{
		PsRowDefColumn *col = &d->cols[i];

		for (int j = 0; j < c->table->ncolumns && !col->exists; j++)
		{
			PsRowColumn *have = &c->table->columns[j];

			if (strcmp(have->name, col->name) != 0)
				continue;
			col->exists = true;
			if (have->typid != col->type->typid || have->typmod >= 0)
			{
				PsSetError(c->err, "conflict",
						   "column \"%s\" of table \"%s\" is %s, not %s",
						   col->name, d->table,
						   PsRowTypeName(have->typid, have->typmod),
						   col->type->sql);
				return false;
			}
		}
		if (col->exists)
			continue;
		appendStringInfo(&sql, "%sADD COLUMN %s %s", nadd++ ? ", " : "",
						 quote_identifier(col->name), col->type->sql);
		d->added = lappend(d->added, col->name);
	}
	if (nadd > 0)
		d->ddl = lappend(d->ddl, sql.data);
	return true;
}

/* Does the table already have this index (unique: in any column order)? */
static bool
PsRowHasIndex(PsRowCtx *c, char **names, int n, bool unique)
{
	ListCell *lc;

	if (c->table == NULL)
		return false;
	foreach (lc, PsRowIndexes(c->table))
	{
		PsRowIndex *ix = lfirst(lc);
		int matched = 0;

		if (!ix->usable || ix->nkeys != n || (unique && !ix->unique))
			continue;
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				if ((unique || i == j) &&
					strcmp(get_attname(RelationGetRelid(c->table->rel),
									   ix->keys[j], false),
						   names[i]) == 0)
					matched++;
		if (matched == n)
			return true;
	}
	return false;
}

/* Build CREATE [UNIQUE] INDEX for "indexes" or "unique" entries not there */
static bool
PsRowDefineIndexes(PsRowCtx *c, PsRowDefine *d, PsRowField f, bool unique)
{
	JsonbValue *v = c->req->field[f];
	const char *field = unique ? "unique" : "indexes";

	if (v == NULL)
		return true;
	if (!PsRowIsArray(v) || PsRowArraySize(v) > 64)
	{
		PsSetError(c->err, "invalid_request",
				   "field \"%s\" must be an array of up to 64 column lists",
				   field);
		return false;
	}
	for (int i = 0; i < PsRowArraySize(v); i++)
	{
		char **names;
		int n;
		StringInfoData sql;

		if (!PsRowDefineNames(c, d, PsRowArrayElem(v, i), field, &names, &n))
			return false;
		if (PsRowHasIndex(c, names, n, unique))
			continue;
		initStringInfo(&sql);
		appendStringInfo(&sql, "CREATE %sINDEX ON %s ",
						 unique ? "UNIQUE " : "", d->qualified);
		PsRowNameList(&sql, names, n);
		d->ddl = lappend(d->ddl, sql.data);
		d->nindexes++;
	}
	return true;
}

/*
 * define: lock the plugin's schema for defines, read the table if it
 * exists, and work out the DDL.
 */
bool
PsRowDefinePrepare(PsRowCtx *c)
{
	PsRowDefine *d = palloc0(sizeof(PsRowDefine));
	bool ok;

	c->opdata = d;
	LockDatabaseObject(NamespaceRelationId, c->plugin->nspid, 0,
					   ShareUpdateExclusiveLock);
	c->table =
		PsRowOpenTable(c->plugin, c->req, AccessShareLock, true, c->err);
	if (c->table == NULL && c->err->code != NULL)
		return false;
	d->table = PsRowString(c->req->field[PS_RF_TABLE]);
	d->qualified = quote_qualified_identifier(c->plugin->schema, d->table);
	d->create = c->table == NULL;
	if (d->create && OidIsValid(get_relname_relid(d->table, c->plugin->nspid)))
	{
		PsSetError(c->err, "conflict",
				   "\"%s\" exists in the plugin's schema and is not a table",
				   d->table);
		return false;
	}
	ok = PsRowDefineColumns(c, d) &&
		 (d->create ? PsRowDefineCreate(c, d) : PsRowDefineAlter(c, d)) &&
		 PsRowDefineIndexes(c, d, PS_RF_INDEXES, false) &&
		 PsRowDefineIndexes(c, d, PS_RF_UNIQUE, true);
	PsRowCloseTable(c->table);
	return ok;
}

/* Run define's DDL and say what changed */
Jsonb *
PsRowDefineRun(PsRowCtx *c)
{
	PsRowDefine *d = c->opdata;
	ListCell *lc;
	PsReply out;

	foreach (lc, d->ddl)
		PsRowUtility(lfirst(lc));
	PsReplyBegin(&out);
	PsReplyString(&out, "table", d->table, -1);
	PsReplyBool(&out, "created", d->create);
	PsReplyBeginArray(&out, "columns_added");
	foreach (lc, d->added)
		PsReplyString(&out, NULL, lfirst(lc), -1);
	PsReplyEndArray(&out);
	PsReplyInt64(&out, "indexes_added", d->nindexes);
	return PsReplyFinish(&out);
}

/* describe: the table must exist */
bool
PsRowDescribePrepare(PsRowCtx *c)
{
	c->table =
		PsRowOpenTable(c->plugin, c->req, AccessShareLock, false, c->err);
	return c->table != NULL;
}

/* Add the row estimate: reltuples, or null before the first ANALYZE */
static void
PsRowReplyEstimate(PsReply *out, float4 reltuples)
{
	if (reltuples < 0)
		PsReplyNull(out, "rows_estimate");
	else
		PsReplyInt64(out, "rows_estimate", (int64) reltuples);
}

/* Add one index: name, columns (null for an expression), unique, primary */
static void
PsRowReplyIndex(PsReply *out, PsRowTable *t, PsRowIndex *ix)
{
	PsReplyBeginObject(out, NULL);
	PsReplyString(out, "name", get_rel_name(ix->indexid), -1);
	PsReplyBeginArray(out, "columns");
	for (int i = 0; i < ix->nkeys; i++)
	{
		char *name = ix->keys[i] == 0 ? NULL
									  : get_attname(RelationGetRelid(t->rel),
													ix->keys[i], false);

		if (name == NULL || strncmp(name, "_ps_", 4) == 0)
			PsReplyNull(out, NULL);
		else
			PsReplyString(out, NULL, name, -1);
	}
	PsReplyEndArray(out);
	PsReplyBool(out, "unique", ix->unique);
	PsReplyBool(out, "primary", ix->primary);
	PsReplyEndObject(out);
}

/* Answer describe: columns, primary key, indexes, row estimate */
Jsonb *
PsRowDescribeRun(PsRowCtx *c)
{
	PsRowTable *t = c->table;
	PsReply out;
	ListCell *lc;

	PsReplyBegin(&out);
	PsReplyString(&out, "table", t->name, -1);
	PsReplyBeginArray(&out, "columns");
	for (int i = 0; i < t->ncolumns; i++)
	{
		PsRowColumn *col = &t->columns[i];

		PsReplyBeginObject(&out, NULL);
		PsReplyString(&out, "name", col->name, -1);
		PsReplyString(&out, "type", PsRowTypeName(col->typid, col->typmod),
					  -1);
		PsReplyBool(&out, "nullable", !col->notnull);
		PsReplyBool(&out, "has_default", col->hasdefault || col->generated);
		PsReplyEndObject(&out);
	}
	PsReplyEndArray(&out);
	PsReplyBeginArray(&out, "primary_key");
	for (int i = 0; i < t->npk; i++)
		PsReplyString(&out, NULL, t->pk[i]->name, -1);
	PsReplyEndArray(&out);
	PsReplyBeginArray(&out, "indexes");
	foreach (lc, PsRowIndexes(t))
		PsRowReplyIndex(&out, t, lfirst(lc));
	PsReplyEndArray(&out);
	PsRowReplyEstimate(&out, t->rel->rd_rel->reltuples);
	return PsReplyFinish(&out);
}

/* tables: nothing to check */
bool
PsRowTablesPrepare(PsRowCtx *c)
{
	PsRowSql *s = &c->main;

	appendStringInfoString(
		&s->buf,
		"SELECT c.relname::text, c.reltuples FROM pg_catalog.pg_class c "
		"WHERE c.relnamespace = ");
	PsRowSqlArg(s, OIDOID, ObjectIdGetDatum(c->plugin->nspid), false);
	appendStringInfoString(
		&s->buf,
		" AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
		"AND c.relname ~ '^[a-z_][a-z0-9_]*$' AND c.relname !~ '^_ps_' "
		"ORDER BY 1");
	return true;
}

/* Answer tables: the plugin's tables, by name, with row estimates */
Jsonb *
PsRowTablesRun(PsRowCtx *c)
{
	uint64 n = PsRowRun(&c->main, true, 0);
	PsReply out;

	PsReplyBegin(&out);
	PsReplyBeginArray(&out, "tables");
	for (uint64 i = 0; i < n; i++)
	{
		bool isnull;

		PsReplyBeginObject(&out, NULL);
		PsReplyString(
			&out, "name",
			SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1), -1);
		PsRowReplyEstimate(&out, DatumGetFloat4(SPI_getbinval(
									 SPI_tuptable->vals[i],
									 SPI_tuptable->tupdesc, 2, &isnull)));
		PsReplyEndObject(&out);
	}
	PsReplyEndArray(&out);
	return PsReplyFinish(&out);
}

/* drop_table: "confirm": true, and the table must exist */
bool
PsRowDropPrepare(PsRowCtx *c)
{
	bool confirm;

	if (!PsRowGetBool(c->req, PS_RF_CONFIRM, false, &confirm, c->err))
		return false;
	if (!confirm)
	{
		PsSetError(c->err, "invalid_request",
				   "drop_table needs \"confirm\": true");
		return false;
	}
	c->table =
		PsRowOpenTable(c->plugin, c->req, AccessExclusiveLock, false, c->err);
	if (c->table == NULL)
		return false;
	c->opdata = pstrdup(c->table->qualified);
	PsRowCloseTable(c->table);
	return true;
}

/* Run DROP TABLE */
Jsonb *
PsRowDropRun(PsRowCtx *c)
{
	PsReply out;

	PsRowUtility(psprintf("DROP TABLE %s", (char *) c->opdata));
	PsReplyBegin(&out);
	PsReplyBool(&out, "dropped", true);
	return PsReplyFinish(&out);
}
