/*-------------------------------------------------------------------------
 *
 * row_catalog.c
 *	  Find a plugin's table and read its columns, key and indexes from the
 *	  catalog.
 *
 * Tables are looked up by name in the plugin's own schema only (its OID,
 * never a search path), so "other.t", "pg_catalog.pg_authid" or "../t" can
 * only ever name a table of that schema, and they are not valid names
 * anyway.  The table is locked before its catalog entries are read (the lock
 * also takes in pending invalidations) and read again if it was replaced
 * meanwhile, as RangeVarGetRelid does.  Columns, key and indexes come from
 * the relcache entry, so tables the plugin made itself with SQL work the same
 * as those made by define; nothing is kept between requests, so there is
 * nothing to invalidate.  Columns starting with _ps_ are hidden.
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* How values of a (base) type are bound and answered */
PsRowKind
PsRowKindOf(Oid basetype)
{
	switch (basetype)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			return PS_KIND_TEXT;
		case INT2OID:
			return PS_KIND_INT2;
		case INT4OID:
			return PS_KIND_INT4;
		case INT8OID:
			return PS_KIND_INT8;
		case NUMERICOID:
			return PS_KIND_NUMERIC;
		case FLOAT4OID:
			return PS_KIND_FLOAT4;
		case FLOAT8OID:
			return PS_KIND_FLOAT8;
		case BOOLOID:
			return PS_KIND_BOOL;
		case TIMESTAMPTZOID:
			return PS_KIND_TIMESTAMPTZ;
		case JSONBOID:
			return PS_KIND_JSONB;
		case TEXTARRAYOID:
		case VARCHARARRAYOID:
			return PS_KIND_TEXT_ARRAY;
	}
	return OidIsValid(get_element_type(basetype)) ? PS_KIND_ARRAY
												  : PS_KIND_OTHER;
}

/* Is this kind a number ($inc, $sum and friends apply)? */
bool
PsRowIsNumber(PsRowKind kind)
{
	return kind >= PS_KIND_INT2 && kind <= PS_KIND_FLOAT8;
}

/* A type's name as define spells it (timestamptz), else PostgreSQL's */
const char *
PsRowTypeName(Oid typid, int32 typmod)
{
	if (typid == TIMESTAMPTZOID && typmod < 0)
		return "timestamptz";
	return format_type_with_typemod(typid, typmod);
}

/* Can this column be sorted, compared with $gt and friends, $min, $max? */
bool
PsRowSortable(PsRowColumn *col)
{
	TypeCacheEntry *tc = lookup_type_cache(col->basetype, TYPECACHE_LT_OPR);

	return OidIsValid(tc->lt_opr);
}

/*
 * Lock the table called name in schema nspid and return its OID, or
 * InvalidOid if there is none.  If the name came to mean another table while
 * we waited for the lock, lock that one instead.
 */
static Oid
PsRowLockTable(Oid nspid, const char *name, LOCKMODE mode)
{
	Oid relid = get_relname_relid(name, nspid);
	char relkind;

	for (;;)
	{
		Oid again;

		if (!OidIsValid(relid))
			return InvalidOid;
		LockRelationOid(relid, mode);
		again = get_relname_relid(name, nspid);
		if (again == relid)
			break;
		UnlockRelationOid(relid, mode);
		relid = again;
	}
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return InvalidOid;
	return relid;
}

/* The type under any domain; bootstrap types (OIDs below 10000) never are */
Oid
PsRowBaseType(Oid typid)
{
	return typid < FirstGenbkiObjectId ? typid : getBaseType(typid);
}

/* Fill one column from its catalog entry */
static void
PsRowLoadColumn(PsRowColumn *col, Form_pg_attribute att)
{
	col->name = NameStr(att->attname);
	col->attnum = att->attnum;
	col->typid = att->atttypid;
	col->typmod = att->atttypmod;
	col->basetype = PsRowBaseType(att->atttypid);
	col->kind = PsRowKindOf(col->basetype);
	col->notnull = att->attnotnull;
	col->hasdefault = att->atthasdef || att->attidentity != '\0';
	col->generated = att->attgenerated;
	col->identity = att->attidentity;
}

/* The visible column with this attribute number, or NULL */
static PsRowColumn *
PsRowColumnByAttnum(PsRowTable *t, AttrNumber attnum)
{
	for (int i = 0; i < t->ncolumns; i++)
		if (t->columns[i].attnum == attnum)
			return &t->columns[i];
	return NULL;
}

/* Read the primary key's columns, in key order */
static void
PsRowLoadPrimaryKey(PsRowTable *t)
{
	Oid pkindex = RelationGetPrimaryKeyIndex(t->rel);
	HeapTuple tup;
	Form_pg_index idx;

	t->npk = 0;
	if (!OidIsValid(pkindex))
		return;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkindex));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for index %u", pkindex);
	idx = (Form_pg_index) GETSTRUCT(tup);
	for (int i = 0; i < idx->indnkeyatts; i++)
	{
		PsRowColumn *col = PsRowColumnByAttnum(t, idx->indkey.values[i]);

		/* a key over a hidden column is no key the API can use */
		if (col == NULL)
		{
			t->npk = 0;
			break;
		}
		t->pk[t->npk++] = col;
	}
	ReleaseSysCache(tup);
}

/* Build the table's description from its open relation */
static PsRowTable *
PsRowLoadTable(PsPlugin *p, const char *name, Oid relid)
{
	PsRowTable *t = palloc0(sizeof(PsRowTable));
	TupleDesc desc;

	t->plugin = p;
	t->rel = table_open(relid, NoLock);
	t->name = name;
	t->qualified = quote_qualified_identifier(p->schema, name);
	desc = RelationGetDescr(t->rel);
	t->columns = palloc0(sizeof(PsRowColumn) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		PsRowColumn *col;

		if (att->attisdropped ||
			strncmp(NameStr(att->attname), "_ps_", 4) == 0)
			continue;
		col = &t->columns[t->ncolumns++];
		PsRowLoadColumn(col, att);
		if (strcmp(col->name, "updated_at") == 0 &&
			col->basetype == TIMESTAMPTZOID && col->generated == '\0')
			t->updated_at = col;
	}
	PsRowLoadPrimaryKey(t);
	return t;
}

/*
 * Open the table a request names, locked in mode; NULL with err set if the
 * name is not valid (invalid_request), reserved (forbidden) or names no
 * table of the plugin (not_found).  With missing_ok a missing table is NULL
 * with no error.
 */
PsRowTable *
PsRowOpenTable(PsPlugin *p, PsRowRequest *req, LOCKMODE mode, bool missing_ok,
			   PsError *err)
{
	JsonbValue *v = req->field[PS_RF_TABLE];
	char *name;
	Oid relid;

	if (v->type != jbvString)
	{
		PsSetError(err, "invalid_request",
				   "field \"table\" must be a string, not %s",
				   PsJsonTypeName(v));
		return NULL;
	}
	name = PsRowString(v);
	if (!PsRowCheckName("table", name, err))
		return NULL;
	relid = PsRowLockTable(p->nspid, name, mode);
	if (!OidIsValid(relid))
	{
		if (!missing_ok)
			PsSetError(err, "not_found", "table \"%s\" does not exist", name);
		return NULL;
	}
	return PsRowLoadTable(p, name, relid);
}

/* Close the table, keeping its lock to the end of the transaction */
void
PsRowCloseTable(PsRowTable *t)
{
	if (t != NULL && t->rel != NULL)
	{
		table_close(t->rel, NoLock);
		t->rel = NULL;
	}
}

/* Find a visible column by name; invalid_request if there is none */
PsRowColumn *
PsRowFindColumn(PsRowTable *t, const char *name, PsError *err)
{
	for (int i = 0; i < t->ncolumns; i++)
		if (strcmp(t->columns[i].name, name) == 0)
			return &t->columns[i];
	if (strncmp(name, "_ps_", 4) == 0)
		PsSetError(err, "forbidden",
				   "column name \"%.64s\" is reserved: names starting with "
				   "_ps_ belong to plugin_storage",
				   name);
	else
		PsSetError(err, "invalid_request",
				   "unknown column \"%.64s\" in table \"%s\"", name, t->name);
	return NULL;
}

/* The table's valid indexes, as a List of PsRowIndex */
List *
PsRowIndexes(PsRowTable *t)
{
	List *result = NIL;
	List *oids = RelationGetIndexList(t->rel);
	ListCell *lc;

	foreach (lc, oids)
	{
		Oid indexid = lfirst_oid(lc);
		HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
		Form_pg_index idx;
		PsRowIndex *ix;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for index %u", indexid);
		idx = (Form_pg_index) GETSTRUCT(tup);
		if (!idx->indisvalid)
		{
			ReleaseSysCache(tup);
			continue;
		}
		ix = palloc0(sizeof(PsRowIndex));
		ix->indexid = indexid;
		ix->unique = idx->indisunique;
		ix->primary = idx->indisprimary;
		ix->nkeys = idx->indnkeyatts;
		ix->usable = idx->indimmediate &&
					 heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
					 heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
		for (int i = 0; i < ix->nkeys; i++)
			ix->keys[i] = idx->indkey.values[i];
		ReleaseSysCache(tup);
		result = lappend(result, ix);
	}
	list_free(oids);
	return result;
}
