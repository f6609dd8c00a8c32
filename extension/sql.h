/*-------------------------------------------------------------------------
 *
 * sql.h
 *	  The SQL tier: what its files share.
 *
 * A SQL request carries one statement written by the plugin, with :name
 * placeholders and a params object.  sql.c reads the request
 * (sql_request.c) against the plugin's limits (sql_limits.c), takes a token
 * from the plugin's rate bucket in shared memory (sql_rate.c), then enters
 * the plugin's role and runs, in the sandbox (sandbox.c): the placeholders
 * become $n and the text is checked to be one SELECT, INSERT, UPDATE or
 * DELETE (sql_statement.c), the parameters get the types PostgreSQL infers
 * and their JSON values become datums (sql_params.c), and the statement
 * runs into a reply of columns and rows (sql_run.c) or under EXPLAIN
 * ANALYZE (sql_explain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PS_SQL_H
#define PS_SQL_H

#include "plugin_storage.h"

#include "nodes/parsenodes.h"

/* The limits that govern one request */
typedef struct PsSqlLimits
{
	int timeout_ms;		  /* statement timeout */
	int max_rows;		  /* rows in a reply */
	int max_result_bytes; /* bytes of a reply's text */
	double rate_limit;	  /* requests per second; 0: no limit */
	int rate_burst;		  /* requests allowed at once after a pause */
	bool timeout_set;	  /* timeout_ms is the plugin's own (not the GUC) */
	bool max_rows_set;	  /* max_rows is the plugin's own */
} PsSqlLimits;

/* A request's fields, once validated */
typedef struct PsSqlRequest
{
	char *query;		/* the SQL, with :name placeholders */
	JsonbValue *params; /* {name: value}, or NULL */
	bool allow_write;	/* run read-write */
	bool explain;		/* answer EXPLAIN ANALYZE's plan, roll back */
	PsSqlLimits limits; /* the plugin's, lowered by the request */
} PsSqlRequest;

/* One placeholder replaced: where :name was, and where its $n is */
typedef struct PsSqlEdit
{
	int from;	  /* byte offset of :name in the query */
	int from_len; /* bytes of :name */
	int to;		  /* byte offset of $n in the rewritten text */
	int to_len;	  /* bytes of $n (and a space put before it) */
} PsSqlEdit;

/* The plugin's statement, as it is rewritten, checked and bound */
typedef struct PsSqlStatement
{
	const char *query;	 /* as the plugin wrote it */
	char *sql;			 /* with $n for each :name */
	int nparams;		 /* distinct placeholders */
	char **names;		 /* name of $1, $2, ... */
	int nedits;			 /* placeholders replaced */
	PsSqlEdit *edits;	 /* in text order */
	RawStmt *raw;		 /* the one statement, parsed */
	const char *command; /* its kind: "SELECT", "INSERT", ... */
	bool is_select;		 /* a SELECT (fetched with a row limit) */
	Oid *types;			 /* parameter types, as PostgreSQL infers them */
	Datum *values;		 /* parameter values */
	char *nulls;		 /* 'n' for NULL, ' ' otherwise */
	int binding;		 /* 1 + index of the parameter being converted,
						  * for its errors; 0 when none is */
} PsSqlStatement;

/* GUCs (sql_limits.c) */
extern int ps_sql_statement_timeout_ms;
extern int ps_sql_max_rows;
extern int ps_sql_max_result_bytes;
extern double ps_sql_rate_limit;
extern int ps_sql_rate_burst;
extern int ps_sql_log_min_duration_ms;

/* sql_limits.c */
extern void PsSqlPluginLimits(PsPlugin *p, PsSqlLimits *out);

/* sql_rate.c */
extern void PsSqlRateInit(void);
extern bool PsSqlRateAcquire(PsPlugin *p, const PsSqlLimits *limits,
							 PsError *err);

/* sql_request.c */
extern bool PsSqlParseRequest(PsPlugin *p, Jsonb *request, PsSqlRequest *req,
							  PsError *err);

/* sql_statement.c */
extern bool PsSqlRewrite(PsSqlStatement *st, PsError *err);
extern bool PsSqlCheckStatement(PsSqlStatement *st, PsError *err);
extern int PsSqlOriginalPosition(const PsSqlStatement *st, int position);

/* sql_params.c */
extern bool PsSqlBindParams(PsSqlStatement *st, JsonbValue *params,
							PsError *err);

/* sql_run.c */
extern bool PsSqlRunRows(PsSqlStatement *st, const PsSqlRequest *req,
						 PsReply *reply, PsError *err);

/* sql_explain.c */
extern bool PsSqlRunExplain(PsSqlStatement *st, PsReply *reply, PsError *err);

#endif /* PS_SQL_H */
