/*-------------------------------------------------------------------------
 *
 * row.h
 *	  The named row tier: what its files share.
 *
 * A row request names a plugin, an operation and a table of the plugin's
 * schema.  row.c reads the request's fields (row_request.c), opens the table
 * and reads its columns from the catalog (row_catalog.c), compiles the
 * operation into one statement whose values are all parameters
 * (row_value.c, row_filter.c, row_update.c, row_read.c, row_write.c,
 * row_define.c), then runs it under the plugin's role through a per-backend
 * cache of prepared statements (row_sql.c) and turns the result into JSON
 * (row_reply.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PS_ROW_H
#define PS_ROW_H

#include "plugin_storage.h"

#include "access/attnum.h"
#include "tcop/dest.h"
#include "utils/rel.h"

/* The row operations, as named on the wire */
typedef enum PsRowOp
{
	PS_ROW_DEFINE,
	PS_ROW_DESCRIBE,
	PS_ROW_TABLES,
	PS_ROW_DROP_TABLE,
	PS_ROW_INSERT,
	PS_ROW_UPSERT,
	PS_ROW_SELECT,
	PS_ROW_SEARCH,
	PS_ROW_AGGREGATE,
	PS_ROW_UPDATE,
	PS_ROW_DELETE
} PsRowOp;

/* Request fields, indexes into PsRowRequest.field */
typedef enum PsRowField
{
	PS_RF_TABLE,
	PS_RF_COLUMNS,
	PS_RF_PRIMARY_KEY,
	PS_RF_INDEXES,
	PS_RF_UNIQUE,
	PS_RF_CONFIRM,
	PS_RF_DATA,
	PS_RF_ROWS,
	PS_RF_ON,
	PS_RF_ID,
	PS_RF_IDS,
	PS_RF_FILTERS,
	PS_RF_SORT,
	PS_RF_LIMIT,
	PS_RF_OFFSET,
	PS_RF_FIELDS,
	PS_RF_COUNT,
	PS_RF_GROUP_BY,
	PS_RF_AGGREGATES,
	PS_RF_OPERATIONS,
	PS_RF_ALL,
	PS_RF_NFIELDS
} PsRowField;

#define PS_RF_BIT(f) (1u << (f))

/* A request once its fields are known: raw values, checked per op later */
typedef struct PsRowRequest
{
	PsRowOp op;						  /* the operation */
	const char *opname;				  /* its wire name */
	uint32 present;					  /* PS_RF_BIT of each field given */
	JsonbValue *field[PS_RF_NFIELDS]; /* the values (NULL when absent) */
} PsRowRequest;

/* How a column's values are bound as parameters and answered as JSON */
typedef enum PsRowKind
{
	PS_KIND_TEXT,		 /* text, varchar, char: bound as text */
	PS_KIND_INT2,		 /* smallint */
	PS_KIND_INT4,		 /* integer */
	PS_KIND_INT8,		 /* bigint */
	PS_KIND_NUMERIC,	 /* numeric */
	PS_KIND_FLOAT4,		 /* real */
	PS_KIND_FLOAT8,		 /* double precision */
	PS_KIND_BOOL,		 /* boolean */
	PS_KIND_TIMESTAMPTZ, /* timestamptz */
	PS_KIND_JSONB,		 /* jsonb */
	PS_KIND_TEXT_ARRAY,	 /* text[], varchar[]: bound as text[] */
	PS_KIND_ARRAY,		 /* other arrays: text[] cast to the type */
	PS_KIND_OTHER		 /* any other type: text cast to the type */
} PsRowKind;

/* One visible column of a table, from the catalog */
typedef struct PsRowColumn
{
	const char *name;	/* column name */
	const char *quoted; /* quote_identifier(name) */
	AttrNumber attnum;	/* its attribute number */
	Oid typid;			/* declared type (maybe a domain) */
	int32 typmod;		/* declared typmod */
	Oid basetype;		/* the type under any domain */
	PsRowKind kind;		/* how values are bound */
	bool notnull;		/* NOT NULL */
	bool hasdefault;	/* has a default, serial or identity */
	char generated;		/* attgenerated: not writable if set */
	char identity;		/* attidentity: 'a' is not writable */
} PsRowColumn;

/* An index of a table, from the catalog */
typedef struct PsRowIndex
{
	Oid indexid;  /* the index */
	bool unique;  /* a unique index */
	bool primary; /* the primary key's index */
	bool usable;  /* plain columns, no predicate: ON CONFLICT
				   * and define can match it */
	int nkeys;	  /* key columns */
	AttrNumber keys[INDEX_MAX_KEYS]; /* their attnums (0 = expression) */
} PsRowIndex;

/* A plugin's table, open and locked for the request */
typedef struct PsRowTable
{
	PsPlugin *plugin;				 /* whose table */
	Relation rel;					 /* open, AccessShareLock or stronger */
	const char *name;				 /* the table's name */
	char *qualified;				 /* quoted schema.table, for SQL */
	int ncolumns;					 /* visible columns */
	PsRowColumn *columns;			 /* in attnum order (read only: kept
									  * between requests, row_catalog.c) */
	int npk;						 /* primary key columns, 0 if none */
	PsRowColumn *pk[INDEX_MAX_KEYS]; /* in key order */
	PsRowColumn *updated_at;		 /* updated_at timestamptz, or NULL */
} PsRowTable;

/* A statement under construction: text and bound parameters */
typedef struct PsRowSql
{
	StringInfoData buf; /* the statement text */
	int nargs;			/* parameters so far */
	int maxargs;		/* allocated */
	Oid *types;			/* parameter types */
	Datum *values;		/* their values */
	char *nulls;		/* 'n' for NULL, ' ' otherwise */
	bool oneshot;		/* run unprepared: its shape will not recur */
} PsRowSql;

/* The JSON key of each column of a statement's result */
typedef struct PsRowOutput
{
	int n;			   /* result columns */
	const char **keys; /* their JSON keys */
} PsRowOutput;

/* What an operation needs while it is compiled and run */
typedef struct PsRowCtx
{
	PsPlugin *plugin;  /* the plugin */
	PsRowRequest *req; /* its request */
	PsRowTable *table; /* the table, when the op names one */
	PsError *err;	   /* where expected failures go */
	PsRowSql main;	   /* the statement to run */
	PsRowSql extra;	   /* a second one (search's count), if used */
	bool has_extra;	   /* extra was built */
	PsRowOutput out;   /* main's result columns as JSON keys */
	int64 limit;	   /* page size (search, aggregate) */
	int64 nrows;	   /* rows expected (insert) */
	int npkout;		   /* leading result columns that are the key */
	void *opdata;	   /* op-specific compiled state */
} PsRowCtx;

#define PS_ROW_MAX_BATCH 1000
#define PS_ROW_MAX_PAGE 1000
#define PS_ROW_DEFAULT_PAGE 100
#define PS_ROW_MAX_DEPTH 16
#define PS_ROW_MAX_SORT 16

/* row_request.c */
extern bool PsRowParseRequest(const char *op, Jsonb *request,
							  PsRowRequest *req, PsError *err);
extern bool PsRowIsObject(const JsonbValue *v);
extern bool PsRowIsArray(const JsonbValue *v);
extern int PsRowArraySize(const JsonbValue *v);
extern JsonbValue *PsRowArrayElem(const JsonbValue *v, int i);
extern char *PsRowString(const JsonbValue *v);
extern bool PsRowGetBool(PsRowRequest *req, PsRowField f, bool dflt, bool *out,
						 PsError *err);
extern bool PsRowGetInt(PsRowRequest *req, PsRowField f, int64 min, int64 max,
						int64 dflt, int64 *out, PsError *err);
extern bool PsRowGetNames(const JsonbValue *v, const char *field, int max,
						  char ***names, int *n, PsError *err);
extern bool PsRowCheckName(const char *what, const char *name, PsError *err);

/* row_catalog.c */
extern PsRowTable *PsRowOpenTable(PsPlugin *p, PsRowRequest *req,
								  LOCKMODE mode, bool missing_ok,
								  PsError *err);
extern void PsRowCloseTable(PsRowTable *t);
extern PsRowColumn *PsRowFindColumn(PsRowTable *t, const char *name,
									PsError *err);
extern Oid PsRowBaseType(Oid typid);
extern PsRowKind PsRowKindOf(Oid basetype);
extern const char *PsRowTypeName(Oid typid, int32 typmod);
extern List *PsRowIndexes(PsRowTable *t);
extern bool PsRowSortable(PsRowColumn *col);
extern bool PsRowIsNumber(PsRowKind kind);

/* row_value.c */
extern bool PsRowBindValue(PsRowSql *s, PsRowColumn *col, JsonbValue *v,
						   PsError *err);
extern bool PsRowBindArray(PsRowSql *s, PsRowColumn *col, JsonbValue *v,
						   const char *op, PsError *err);
extern bool PsRowBindElement(PsRowSql *s, PsRowColumn *col, JsonbValue *v,
							 PsError *err);

/* row_filter.c */
extern bool PsRowCompileCondition(PsRowCtx *c, PsRowSql *s, PsRowColumn *col,
								  const char *op, JsonbValue *arg);
extern bool PsRowCompileWhere(PsRowCtx *c, PsRowSql *s, bool allow_all);

/* row_update.c */
extern bool PsRowCompileOperations(PsRowCtx *c, PsRowSql *s, JsonbValue *ops);

/* row_sql.c */
extern void PsRowSqlInit(PsRowSql *s);
extern void PsRowSqlArg(PsRowSql *s, Oid type, Datum value, bool isnull);
extern void PsRowSqlCopyArgs(PsRowSql *dst, PsRowSql *src);
extern void PsRowSqlColumn(PsRowSql *s, PsRowColumn *col);
extern void PsRowOutputAdd(PsRowOutput *o, const char *key);
extern uint64 PsRowRun(PsRowSql *s, bool read_only, long limit);
extern void PsRowRunTo(PsRowSql *s, DestReceiver *dest);
extern void PsRowUtility(const char *sql);

/* row_reply.c */
extern DestReceiver *PsRowRowsReceiver(PsJbArray *rows, PsRowOutput *o,
									   uint64 limit);
extern uint64 PsRowRowsReceived(DestReceiver *dest);
extern void PsRowReplyKey(PsReply *r, const char *key, PsRowCtx *c,
						  uint64 row);
extern void PsRowSelectColumn(PsRowSql *s, PsRowOutput *o, PsRowColumn *col,
							  const char *key);

/* row_define.c: define, describe, tables, drop_table */
extern bool PsRowDefinePrepare(PsRowCtx *c);
extern Jsonb *PsRowDefineRun(PsRowCtx *c);
extern bool PsRowDescribePrepare(PsRowCtx *c);
extern Jsonb *PsRowDescribeRun(PsRowCtx *c);
extern bool PsRowTablesPrepare(PsRowCtx *c);
extern Jsonb *PsRowTablesRun(PsRowCtx *c);
extern bool PsRowDropPrepare(PsRowCtx *c);
extern Jsonb *PsRowDropRun(PsRowCtx *c);

/* row_read.c: select, search, aggregate */
extern bool PsRowSelectPrepare(PsRowCtx *c);
extern bool PsRowSearchPrepare(PsRowCtx *c);
extern Jsonb *PsRowSearchRun(PsRowCtx *c);
extern bool PsRowAggregatePrepare(PsRowCtx *c);

/* row_write.c: insert, upsert, update, delete */
extern bool PsRowInsertPrepare(PsRowCtx *c);
extern Jsonb *PsRowInsertRun(PsRowCtx *c);
extern bool PsRowUpsertPrepare(PsRowCtx *c);
extern Jsonb *PsRowUpsertRun(PsRowCtx *c);
extern bool PsRowUpdatePrepare(PsRowCtx *c);
extern bool PsRowDeletePrepare(PsRowCtx *c);
extern Jsonb *PsRowChangeRun(PsRowCtx *c);

#endif /* PS_ROW_H */
