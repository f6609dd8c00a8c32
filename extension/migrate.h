/*-------------------------------------------------------------------------
 *
 * migrate.h
 *	  Migrations: what their files share.
 *
 * A migration request names a plugin and an action.  migrate_request.c
 * reads and checks it (versions, scripts, options) and sorts its
 * migrations by version; migrate_lock.c serializes the applies and
 * rollbacks of one plugin; migrate_history.c reads and writes the history
 * table plugin_storage.migrations as the caller; migrate_script.c splits
 * scripts into statements with PostgreSQL's parser and finds destructive
 * ones; migrate_run.c runs them under the plugin's role in one
 * subtransaction; migrate.c plans each action and answers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PS_MIGRATE_H
#define PS_MIGRATE_H

#include "plugin_storage.h"

#include "common/sha2.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#define PS_MIGRATIONS_TABLE "migrations"

/* Longest version and applied_by accepted, in bytes */
#define PS_MAX_VERSION_LEN 128
#define PS_MAX_APPLIED_BY_LEN 64

/* What a request asks for */
typedef enum PsMigrateAction
{
	PS_MIGRATE_APPLY,
	PS_MIGRATE_ROLLBACK,
	PS_MIGRATE_STATUS
} PsMigrateAction;

/* One migration of a request */
typedef struct PsMigration
{
	char *version; /* checked version text */
	char *up;	   /* its up script */
	char *down;	   /* its down script, or NULL */
	char checksum[PG_SHA256_DIGEST_STRING_LENGTH]; /* sha256 hex of up */
} PsMigration;

/* A request once checked */
typedef struct PsMigrateRequest
{
	PsMigrateAction action;	 /* apply, rollback or status */
	PsMigration *migrations; /* sorted by version, no duplicates */
	int nmigrations;		 /* their number */
	bool has_migrations;	 /* "migrations" was given */
	bool dry_run;			 /* run, then roll back */
	char *target;			 /* apply: last version; rollback: keep */
	int lock_timeout_ms;	 /* wait this long for the plugin's lock */
	char *applied_by;		 /* who, as recorded (session_user if unset) */
} PsMigrateRequest;

/* A version as recorded in plugin_storage.migrations */
typedef struct PsApplied
{
	char *version;			/* the version */
	char *checksum;			/* sha256 hex of its up script */
	char *down;				/* its down script, or NULL */
	TimestampTz applied_at; /* when it was applied */
	char *applied_by;		/* by whom */
	double duration_ms;		/* how long its up script ran */
} PsApplied;

/* A plugin's history, sorted by version */
typedef struct PsHistory
{
	PsApplied *items; /* sorted by version */
	int n;			  /* their number */
} PsHistory;

/* A script split into statements */
typedef struct PsScript
{
	const char *version; /* the migration it belongs to */
	const char *text;	 /* the whole script */
	char **stmts;		 /* each statement's text, trimmed */
	int nstmts;			 /* their number */
} PsScript;

/* A destructive statement, reported in the reply */
typedef struct PsMigrateWarning
{
	const char *version;   /* the migration */
	const char *statement; /* the statement, or NULL */
	const char *kind;	   /* drop_table, drop_column, truncate, ... */
} PsMigrateWarning;

/* migrate_request.c */
extern int PsVersionCmp(const char *a, const char *b);
extern char *PsVersionName(const char *version);
extern bool PsMigrateParseRequest(Jsonb *request, PsMigrateRequest *req,
								  PsError *err);

/* migrate_lock.c */
extern bool PsMigrateLock(PsPlugin *plugin, int timeout_ms, PsError *err);

/* migrate_history.c */
extern PsHistory PsHistoryRead(PsPlugin *plugin);
extern PsApplied *PsHistoryFind(const PsHistory *h, const char *version);
extern void PsHistoryInsert(PsPlugin *plugin, const PsMigration *m,
							const char *applied_by, TimestampTz applied_at,
							double duration_ms);
extern void PsHistoryDelete(PsPlugin *plugin, const char *version);

/* migrate_script.c */
extern void PsScriptChecksum(const char *text, char *out);
extern bool PsScriptsParse(PsScript *scripts, int n, List **warnings,
						   PsError *err);

/* migrate_run.c */
extern bool PsMigrateRunApply(PsPlugin *plugin, PsMigrateRequest *req,
							  PsMigration **todo, PsScript *scripts, int n,
							  double *durations, PsError *err);
extern bool PsMigrateRunRollback(PsPlugin *plugin, PsMigrateRequest *req,
								 PsScript *scripts, int n, PsError *err);

#endif /* PS_MIGRATE_H */
