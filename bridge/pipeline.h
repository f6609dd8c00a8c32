/*
 * pipeline.h
 *		Run a batch of extension calls on one connection in pipeline mode.
 */
#ifndef BRIDGE_PIPELINE_H
#define BRIDGE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define PIPELINE_CANCEL_GRACE_MS 2000

typedef struct PipeCall
{
	const char *stmt;	   /* prepared statement to execute */
	const char *params[3]; /* plugin, op, request: text format */
	int64_t deadline_ms;   /* cancel the call if it runs past this */
} PipeCall;

typedef enum OutcomeKind
{
	OUTCOME_RESULT,	  /* the call returned: value holds the reply */
	OUTCOME_PG_ERROR, /* PostgreSQL raised an error; rolled back */
	OUTCOME_LOST	  /* the connection failed before an answer */
} OutcomeKind;

typedef struct Outcome
{
	OutcomeKind kind;
	const char *value;	  /* RESULT: jsonb text, or NULL if SQL NULL */
	size_t value_len;	  /* RESULT: length of value */
	const char *sqlstate; /* PG_ERROR: SQLSTATE, NULL if client-side */
	const char *message;  /* PG_ERROR: primary message */
	bool sent;			  /* LOST: it may have run, outcome unknown */
} Outcome;

/* How a group transaction ended */
typedef enum GroupEnd
{
	GROUP_COMMITTED,   /* committed: each call's outcome was reported */
	GROUP_ROLLED_BACK, /* nothing committed, nothing reported: run again */
	GROUP_LOST		   /* connection failed: each call reported LOST */
} GroupEnd;

/* Called once per call, in order, as soon as its outcome is known */
typedef void (*PipeDone)(void *arg, int index, const Outcome *outcome);

extern PGresult *pipeline_result(PGconn *conn, int64_t until_ms);
extern bool pipeline_run(PGconn *conn, PGcancel *cancel, const PipeCall *calls,
						 int n, PipeDone done, void *arg);
extern GroupEnd pipeline_run_group(PGconn *conn, PGcancel *cancel,
								   const PipeCall *calls, int n, PipeDone done,
								   void *arg, bool *usable, char *why,
								   size_t whylen);

#endif
