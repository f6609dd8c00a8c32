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
 * as those made by define.  Columns starting with _ps_ are hidden.
 *
 * What is read of a table (its columns with their quoted names, its key) is
 * kept per backend, by OID, until a relcache invalidation names the table:
 * quoting every column of every request was a tenth of a search's own
 * work.  Since the table is locked first, and taking the lock takes in the
 * invalidations pending, a kept description is never older than the
 * relation.  A description replaced while a request may still point into it
 * (a nested call, a DDL in between) is handed to the transaction's memory,
 * freed when the transaction ends.
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
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#define PS_ROW_MAX_TABLES 1024

/* A table's description, kept between requests */
typedef struct PsRowTableEntry
{
	Oid relid;				/* hash key */
	bool valid;				/* no invalidation named the table since */
	MemoryContext cxt;		/* holds what follows */
	char *schema;			/* the schema it was read in */
	char *qualified;		/* quoted schema.table */
	int ncolumns;			/* visible columns */
	PsRowColumn *columns;	/* in attnum order */
	int npk;				/* primary key columns, 0 if none */
	int pk[INDEX_MAX_KEYS]; /* indexes into columns, in key order */
	int updated_at;			/* index of updated_at, or -1 */
} PsRowTableEntry;

static HTAB *ps_row_tables = NULL;

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

/* The index in e->columns of the column with this attnum, or -1 */
static int
PsRowColumnByAttnum(PsRowTableEntry *e, AttrNumber attnum)
{
	for (int i = 0; i < e->ncolumns; i++)
		if (e->columns[i].attnum == attnum)
			return i;
	return -1;
}

/* Read the primary key's columns, in key order */
static void
PsRowLoadPrimaryKey(PsRowTableEntry *e, Relation rel)
{
	Oid pkindex = RelationGetPrimaryKeyIndex(rel);
	HeapTuple tup;
	Form_pg_index idx;

	e->npk = 0;
	if (!OidIsValid(pkindex))
		return;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkindex));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for index %u", pkindex);
	idx = (Form_pg_index) GETSTRUCT(tup);
	for (int i = 0; i < idx->indnkeyatts; i++)
	{
		int col = PsRowColumnByAttnum(e, idx->indkey.values[i]);

		/* a key over a hidden column is no key the API can use */
		if (col < 0)
		{
			e->npk = 0;
			break;
		}
		e->pk[e->npk++] = col;
	}
	ReleaseSysCache(tup);
}

/* Read the description of an open relation into e, in e->cxt */
static void
PsRowLoadEntry(PsRowTableEntry *e, PsPlugin *p, Relation rel)
{
	MemoryContext old = MemoryContextSwitchTo(e->cxt);
	TupleDesc desc = RelationGetDescr(rel);

	e->schema = pstrdup(p->schema);
	e->qualified =
		quote_qualified_identifier(p->schema, RelationGetRelationName(rel));
	e->columns = palloc0(sizeof(PsRowColumn) * Max(desc->natts, 1));
	e->ncolumns = 0;
	e->updated_at = -1;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		PsRowColumn *col;

		if (att->attisdropped ||
			strncmp(NameStr(att->attname), "_ps_", 4) == 0)
			continue;
		col = &e->columns[e->ncolumns];
		PsRowLoadColumn(col, att);
		col->name = pstrdup(NameStr(att->attname));
		col->quoted = pstrdup(quote_identifier(col->name));
		if (strcmp(col->name, "updated_at") == 0 &&
			col->basetype == TIMESTAMPTZOID && col->generated == '\0')
			e->updated_at = e->ncolumns;
		e->ncolumns++;
	}
	PsRowLoadPrimaryKey(e, rel);
	MemoryContextSwitchTo(old);
}

/* Relcache invalidation: forget the table named (every table if none) */
static void
PsRowTableInvalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	PsRowTableEntry *e;

	if (ps_row_tables == NULL)
		return;
	if (OidIsValid(relid))
	{
		e = hash_search(ps_row_tables, &relid, HASH_FIND, NULL);
		if (e != NULL)
			e->valid = false;
		return;
	}
	hash_seq_init(&status, ps_row_tables);
	while ((e = hash_seq_search(&status)) != NULL)
		e->valid = false;
}

/* Hand a description to the transaction, which frees it when it ends */
static void
PsRowRetireEntry(PsRowTableEntry *e)
{
	MemoryContextSetParent(e->cxt, TopTransactionContext);
	e->cxt = NULL;
}

/* Start the cache, or empty it when it holds PS_ROW_MAX_TABLES tables */
static void
PsRowResetTables(void)
{
	HASHCTL ctl;

	if (ps_row_tables != NULL)
	{
		HASH_SEQ_STATUS status;
		PsRowTableEntry *e;

		hash_seq_init(&status, ps_row_tables);
		while ((e = hash_seq_search(&status)) != NULL)
			if (e->cxt != NULL)
				PsRowRetireEntry(e);
		hash_destroy(ps_row_tables);
	}
	else
		CacheRegisterRelcacheCallback(PsRowTableInvalidate, (Datum) 0);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PsRowTableEntry);
	ctl.hcxt = CacheMemoryContext;
	ps_row_tables = hash_create("plugin_storage row tables", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* The current description of an open (locked) relation of plugin p */
static PsRowTableEntry *
PsRowTableEntryFor(PsPlugin *p, Relation rel)
{
	Oid relid = RelationGetRelid(rel);
	PsRowTableEntry *e;
	bool found;

	if (ps_row_tables == NULL ||
		hash_get_num_entries(ps_row_tables) >= PS_ROW_MAX_TABLES)
		PsRowResetTables();
	e = hash_search(ps_row_tables, &relid, HASH_ENTER, &found);
	if (!found)
	{
		e->valid = false;
		e->cxt = NULL;
	}
	else if (e->valid && strcmp(e->schema, p->schema) == 0)
		return e;
	if (e->cxt != NULL)
		PsRowRetireEntry(e);
	e->valid = false;
	e->cxt = AllocSetContextCreate(
		CacheMemoryContext, "plugin_storage row table", ALLOCSET_SMALL_SIZES);
	/* an invalidation while we read makes the next request read again */
	e->valid = true;
	PG_TRY();
	{
		PsRowLoadEntry(e, p, rel);
	}
	PG_CATCH();
	{
		MemoryContextDelete(e->cxt);
		hash_search(ps_row_tables, &relid, HASH_REMOVE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return e;
}

/* Describe the table from its open relation, through the cache */
static PsRowTable *
PsRowLoadTable(PsPlugin *p, const char *name, Oid relid)
{
	PsRowTable *t = palloc0(sizeof(PsRowTable));
	PsRowTableEntry *e;

	t->plugin = p;
	t->rel = table_open(relid, NoLock);
	t->name = name;
	e = PsRowTableEntryFor(p, t->rel);
	t->qualified = e->qualified;
	t->ncolumns = e->ncolumns;
	t->columns = e->columns;
	t->npk = e->npk;
	for (int i = 0; i < e->npk; i++)
		t->pk[i] = &e->columns[e->pk[i]];
	t->updated_at = e->updated_at >= 0 ? &e->columns[e->updated_at] : NULL;
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
