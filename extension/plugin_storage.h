/*-------------------------------------------------------------------------
 *
 * plugin_storage.h
 *	  Declarations shared by the plugin_storage extension's C files.
 *
 * The extension gives every registered plugin a role, a schema and a KV
 * table of its own.  Each request names a plugin; the entry points look the
 * plugin up in a per-backend cache (registry.c), switch to the plugin's role
 * in a security-restricted context (context.c), run prepared statements
 * through SPI (kv.c) and answer with jsonb built by json_reply.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PLUGIN_STORAGE_H
#define PLUGIN_STORAGE_H

#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#define PS_EXTENSION_SCHEMA "plugin_storage"
#define PS_REGISTRY_TABLE "plugins"
#define PS_KV_TABLE "_ps_kv"
#define PS_KV_SEQUENCE "_ps_kv_revision"
#define PS_WORKSPACE_TABLE "workspace_kv"
#define PS_WORKSPACE_SEQUENCE "workspace_kv_revision"

/* Storage scopes: a plugin's private keys, or its workspace's shared keys */
typedef enum PsScope
{
	PS_SCOPE_PLUGIN = 0,
	PS_SCOPE_WORKSPACE,
	PS_NSCOPES
} PsScope;

/* Prepared KV statements, one set per plugin and scope */
typedef enum PsKvPlan
{
	PS_PLAN_GET = 0,
	PS_PLAN_SET,
	PS_PLAN_SET_IF_ABSENT,
	PS_PLAN_SET_IF_REVISION,
	PS_PLAN_DELETE,
	PS_PLAN_LIST,
	PS_PLAN_LIST_BOUNDED,
	PS_PLAN_INCR,
	PS_PLAN_MGET,
	PS_PLAN_COUNT,
	PS_PLAN_EXISTS,
	PS_PLAN_CLEAR,
	PS_PLAN_COLLECTIONS,
	PS_PLAN_ALL,
	PS_PLAN_EXPIRE,
	PS_PLAN_TTL,
	PS_PLAN_QUOTA,
	PS_NPLANS
} PsKvPlan;

/*
 * A plugin's own limits for the SQL tier (plugin_storage.plugin_limits);
 * -1 where it has none and the GUC applies (sql_limits.c)
 */
typedef struct PsPluginLimits
{
	int statement_timeout_ms; /* plugin_storage.sql_statement_timeout */
	int max_rows;			  /* plugin_storage.sql_max_rows */
	int max_result_bytes;	  /* plugin_storage.sql_max_result_bytes */
	double rate_limit;		  /* plugin_storage.sql_rate_limit */
	int rate_burst;			  /* plugin_storage.sql_rate_burst */
} PsPluginLimits;

/* A registered plugin as cached by one backend */
typedef struct PsPlugin
{
	char name[NAMEDATALEN];			/* hash key: the plugin's name */
	bool valid;						/* false once the registry changed */
	Oid roleid;						/* the plugin's own role */
	char *role;						/* its name */
	char *schema;					/* the plugin's schema */
	char *workspace;				/* workspace name, or NULL */
	Oid nspid;						/* its schema's OID */
	OverrideSearchPath search_path; /* pg_catalog, then the schema */
	SPIPlanPtr plans[PS_NSCOPES][PS_NPLANS]; /* lazily prepared */
	PsPluginLimits limits;					 /* the SQL tier's limits */
} PsPlugin;

/* An expected failure, reported as {"error":{"code","message"}} */
typedef struct PsError
{
	const char *code; /* stable wire code, e.g. "conflict" */
	char *message;	  /* human-readable, names the culprit */
	/* From a PostgreSQL error raised by plugin SQL (PsErrorFromEdata): */
	const char *sqlstate; /* e.g. "42P01", or NULL */
	char *detail;		  /* or NULL */
	char *hint;			  /* or NULL */
	int position;		  /* 1-based cursor position in the SQL, or 0 */
	/* Where a migration failed (migrate.c), or NULL: */
	char *version;	 /* the migration's version */
	char *statement; /* the statement that failed */
	/* When a rate_limited request may be retried (sql_rate.c), or 0: */
	int64 retry_after_ms;
	/* The sandbox's own timer cancelled the work (not a caller's cancel) */
	bool timer_fired;
} PsError;

/* What PsEnterPlugin saved, for PsLeavePlugin to restore */
typedef struct PsSavedContext
{
	Oid userid;		 /* caller's user id */
	int sec_context; /* caller's security context bits */
} PsSavedContext;

/* GUCs (plugin_storage.c) */
extern int ps_max_key_bytes;
extern int ps_max_value_bytes;
extern int ps_max_keys_per_plugin;
extern int ps_sweep_interval_ms;
extern int ps_sweep_batch;
extern char *ps_sweep_database;
extern int ps_migrate_timeout_ms;
extern int ps_migrate_lock_timeout_ms;

/* registry.c */
extern bool PsValidPluginName(const char *name, int len);
extern PsPlugin *PsLookupPlugin(const char *name);
extern void PsRegistryInit(void);

/* context.c */
extern PsPlugin *ps_current_plugin;
extern void PsEnterPlugin(PsPlugin *plugin, PsSavedContext *saved);
extern void PsLeavePlugin(PsSavedContext *saved);
extern void PsContextInit(void);

/* errors.c */
extern void PsSetError(PsError *err, const char *code, const char *fmt, ...)
	pg_attribute_printf(3, 4);
extern Jsonb *PsErrorJsonb(const PsError *err);
extern void PsRaiseError(const PsError *err) pg_attribute_noreturn();

/* sandbox.c: running SQL written by a plugin */
typedef bool (*PsSandboxFn)(void *arg, PsError *err);

typedef struct PsSandboxOpts
{
	bool read_only; /* run in a READ ONLY subtransaction */
	int timeout_ms; /* cancel after this long; 0: no timer */
	bool keep;		/* release (true) or roll back (false) the work */
} PsSandboxOpts;

extern bool PsSandboxRun(PsSandboxFn fn, void *arg, const PsSandboxOpts *opts,
						 PsError *err);
extern void PsErrorFromEdata(const ErrorData *edata, PsError *err);
extern void PsSandboxInit(void);

/* json_request.c */
extern const char *PsJsonTypeName(const JsonbValue *v);
extern bool PsJsonInt(const JsonbValue *v, const char *field, int64 min,
					  int64 max, int64 *out, PsError *err);
extern bool PsJsonReadFields(Jsonb *request, const char *const *names, int n,
							 JsonbValue **out, uint32 *present,
							 const char *not_object, const char *unknown_hint,
							 PsError *err);

/* json_reply.c: a small builder over pushJsonbValue */
typedef struct PsReply
{
	JsonbParseState *state; /* pushJsonbValue's state */
	JsonbValue *result;		/* set by PsReplyFinish */
} PsReply;

extern void PsReplyBegin(PsReply *r);
extern void PsReplyKey(PsReply *r, const char *key);
extern void PsReplyValue(PsReply *r, const char *key, JsonbValue *v);
extern void PsReplyString(PsReply *r, const char *key, const char *val,
						  int len);
extern void PsReplyBool(PsReply *r, const char *key, bool val);
extern void PsReplyInt64(PsReply *r, const char *key, int64 val);
extern void PsReplyNumeric(PsReply *r, const char *key, Datum num);
extern void PsReplyNull(PsReply *r, const char *key);
extern void PsReplyTimestamp(PsReply *r, const char *key, Datum ts,
							 bool isnull);
extern void PsReplyJsonb(PsReply *r, const char *key, Jsonb *val);
extern void PsReplyBytesB64(PsReply *r, const char *key, bytea *val);
extern void PsReplyBeginArray(PsReply *r, const char *key);
extern void PsReplyEndArray(PsReply *r);
extern void PsReplyBeginObject(PsReply *r, const char *key);
extern void PsReplyEndObject(PsReply *r);
extern Jsonb *PsReplyFinish(PsReply *r);

/* json_datum.c: a datum as JSON, as to_jsonb() writes it */
extern void PsDatumJson(Datum d, bool isnull, Oid basetype, JsonbValue *out);
extern void PsReplyDatum(PsReply *r, const char *key, Datum d, bool isnull,
						 Oid basetype);
extern Size PsJsonStringSize(const char *s, int len);
extern Size PsJsonTextSize(const JsonbValue *v);

/* The longest text PsTimestamptzIso writes */
#define PS_TIMESTAMPTZ_ISO_MAX 40
extern int PsTimestamptzIso(char *buf, TimestampTz ts);

/* json_binary.c: rows written straight in jsonb's binary format */

/* The keys of objects that all have the same keys (the rows of a result) */
typedef struct PsJbKeys
{
	int n;		   /* distinct keys */
	int *source;   /* in jsonb key order: the index of each key's value */
	uint32 *head;  /* object header word, then the keys' JEntries */
	char *keydata; /* the key strings, concatenated in that order */
	int keylen;	   /* their length */
} PsJbKeys;

/* An array of JSON values, serialized as they are added */
typedef struct PsJbArray
{
	StringInfoData data; /* the elements' data, from a 4-byte boundary */
	JEntry *entries;	 /* each element's JEntry, as the array holds it */
	int n;				 /* elements */
	int max;			 /* entries allocated */
} PsJbArray;

/* A member of a reply object: an array, or a scalar value */
typedef struct PsJbMember
{
	const char *key;  /* its key */
	PsJbArray *array; /* the array, or NULL */
	JsonbValue value; /* else the value (a scalar or jbvBinary) */
} PsJbMember;

extern JEntry PsJbValue(StringInfo buf, const JsonbValue *v);
extern JEntry PsJbDatum(StringInfo buf, Datum d, bool isnull, Oid basetype);
extern void PsJbKeysInit(PsJbKeys *k, const char *const *keys, int n);
extern void PsJbArrayInit(PsJbArray *a);
extern void PsJbArrayAddRow(PsJbArray *a, const PsJbKeys *k,
							const Datum *values, const bool *isnull,
							const Oid *types);
extern Jsonb *PsJbFinish(PsJbMember *m, int n);

/* kv.c, kv_request.c */
extern PsPlugin *PsFindRequestPlugin(const char *plugin, PsError *err);
extern Jsonb *PsKvExecute(const char *plugin, const char *op, Jsonb *request,
						  PsError *err);
extern void PsKvFreePlans(PsPlugin *plugin);

/* kv_sql.c */
extern SPIPlanPtr PsKvPlanFor(PsPlugin *p, PsScope scope, PsKvPlan which);

/* row tier: row.c */
extern Jsonb *PsRowExecute(const char *plugin, const char *op, Jsonb *request,
						   PsError *err);

/* SQL tier: sql_limits.c (GUCs and shared memory, from _PG_init) */
extern void PsSqlInit(void);

/* sweep.c */
extern int64 PsSweepAll(int64 max_keys, bool own_transactions);
extern void PsSweepRegisterWorker(void);

/* sweep_stats.c */
extern void PsSweepStatsInit(void);
extern void PsSweepStatsWorker(int pid, const char *database);
extern void PsSweepStatsError(const char *plugin, const char *message);
extern void PsSweepStatsPass(TimestampTz start, int64 keys, int tables);

#endif /* PLUGIN_STORAGE_H */
