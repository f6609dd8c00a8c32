/*
 * pipeline.c
 *		Run a batch of extension calls on one connection in pipeline mode.
 *
 * The connection is kept in libpq's pipeline mode and non-blocking.  Two
 * ways to run a batch:
 *
 * pipeline_run() sends, for each call, a Bind/Execute of its prepared
 * statement followed by its own Sync, so each call is an implicit
 * transaction of its own, committed when the server processes that Sync.
 * Results are read in order, and a call's outcome is handed to the `done`
 * callback only once its Sync's PGRES_PIPELINE_SYNC has arrived: at that
 * point a write has committed (or its error rolled it back), so no reply
 * ever acknowledges an uncommitted write.
 *
 * pipeline_run_group() (group commit) sends every call's Bind/Execute and
 * one Sync at the end.  Statements between two Syncs run in one implicit
 * transaction (the protocol's rule, as if the batch were wrapped in
 * BEGIN ... COMMIT): the Sync commits it if every statement succeeded and
 * rolls all of it back otherwise, and its ReadyForQuery comes after the
 * commit, WAL flush included.  So a batch costs one commit, one WAL flush
 * and one round trip.  Under READ COMMITTED each statement takes a fresh
 * snapshot and sees the earlier statements of the batch, so the batch
 * behaves like its calls run one after another; only now() is the same
 * for all of them (the transaction's start).  Outcomes are handed to
 * `done` only after the Sync arrived without error.  If any statement (or
 * the commit) failed, nothing committed and nothing is reported: the
 * caller runs the calls again, each in its own transaction, so that one
 * bad call cannot fail the others.  The implicit transaction (rather than
 * BEGIN and COMMIT statements) leaves no aborted transaction block behind
 * a failure, so no ROLLBACK round trip is needed before the retry.
 *
 * Deadlines: while waiting for results, the socket is polled until the
 * deadline of the call at the head of the pipeline (for a group, the
 * earliest deadline of its calls, since the group commits or fails as a
 * whole); then a cancel request is sent (the statement fails with SQLSTATE
 * 57014, which becomes "timeout", or rolls the group back) and the wait
 * goes on for PIPELINE_CANCEL_GRACE_MS.  If the server is still silent,
 * the batch is given up and the caller drops the connection.
 * statement_timeout, set on every connection, is the server-side backstop
 * for each statement.  A cancel hits whatever the server runs at that
 * moment: if the late call finished just before, the next call in the
 * pipeline is cancelled instead (rolled back and answered "timeout", or
 * its group run again), a rare and harmless race.
 *
 * When the connection fails midway, each remaining call is classified:
 *	- an error the server reported for the call before any result (with a
 *	  SQLSTATE) ended its transaction: a PG error, outcome known (for a
 *	  group, an error for any call means the whole group rolled back);
 *	- otherwise, a call whose bytes may have reached the server is LOST
 *	  with `sent`, outcome unknown (it may have committed); for a group,
 *	  that is every call once its Sync may have been sent;
 *	- a call never handed to libpq is LOST without `sent`: not executed.
 * `done` is called exactly once for every call, except for a group that
 * rolled back, for which it is never called.
 *
 * pipeline_result() gives session set-up commands, which run outside
 * pipeline mode, the same bounded wait.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "pipeline.h"

typedef struct PipeHead
{
	PGresult *value; /* the call's result set, if any */
	PGresult *error; /* the first error reported for it, if any */
} PipeHead;

/* Wait for the socket, reading what arrives; false if the connection failed */
static bool
PipeWait(PGconn *conn, bool want_write, int64_t until_ms)
{
	struct pollfd pfd;
	int64_t left = until_ms - clock_mono_ms();
	int rc;

	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN | (want_write ? POLLOUT : 0);
	pfd.revents = 0;
	if (pfd.fd < 0)
		return false;
	if (left < 0)
		left = 0;
	rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int) left);
	if (rc < 0)
		return errno == EINTR;
	if (rc > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)))
		return PQconsumeInput(conn) == 1;
	return true;
}

/* Send all of libpq's output buffer, reading meanwhile so neither side blocks
 */
static bool
PipeFlush(PGconn *conn, int64_t until_ms)
{
	for (;;)
	{
		int rc = PQflush(conn);

		if (rc == 0)
			return true;
		if (rc < 0 || clock_mono_ms() >= until_ms)
			return false;
		if (!PipeWait(conn, true, until_ms))
			return false;
	}
}

/*
 * Collect the result of a command sent outside pipeline mode, waiting at
 * most until until_ms: the last result, or NULL on timeout or failure.
 */
PGresult *
pipeline_result(PGconn *conn, int64_t until_ms)
{
	PGresult *last = NULL;

	for (;;)
	{
		PGresult *res;

		while (PQisBusy(conn))
		{
			if (clock_mono_ms() >= until_ms ||
				!PipeWait(conn, false, until_ms))
			{
				PQclear(last);
				return NULL;
			}
		}
		res = PQgetResult(conn);
		if (res == NULL)
			return last;
		PQclear(last);
		last = res;
	}
}

/* Ask the server to cancel whatever the connection is running */
static void
PipeCancel(PGcancel *cancel)
{
	char errbuf[256];

	if (cancel == NULL)
		return;
	if (!PQcancel(cancel, errbuf, sizeof(errbuf)))
		log_warn("cannot send cancel request", LF_S("error", errbuf));
}

/* The wait for results: deadline, then cancel, then grace period */
typedef struct PipeClock
{
	int64_t until; /* wait for the server until then */
	bool canceled; /* the cancel was sent; until is the grace's end */
} PipeClock;

/*
 * Get the next result (NULL ends a call's results), waiting until the
 * deadline, then cancelling and waiting the grace period.  Return false if
 * the connection failed or the server stayed silent through both.
 */
static bool
PipeNext(PGconn *conn, PGcancel *cancel, PipeClock *clk, PGresult **res)
{
	while (PQisBusy(conn))
	{
		if (clock_mono_ms() < clk->until)
		{
			if (!PipeWait(conn, false, clk->until))
				return false;
			continue;
		}
		if (clk->canceled)
			return false;
		PipeCancel(cancel);
		clk->canceled = true;
		clk->until = clock_mono_ms() + PIPELINE_CANCEL_GRACE_MS;
	}
	*res = PQgetResult(conn);
	return *res != NULL || PQstatus(conn) == CONNECTION_OK;
}

/* Keep a call's first result set and first error; free anything else */
static void
PipeKeep(PipeHead *head, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK && head->value == NULL)
		head->value = res;
	else if (st == PGRES_FATAL_ERROR && head->error == NULL)
		head->error = res;
	else
		PQclear(res);
}

/*
 * Read the results of the call at the head of the pipeline up to its Sync.
 * Return false if the connection failed, or stayed silent through the
 * deadline and the cancel grace period.
 */
static bool
PipeCollect(PGconn *conn, PGcancel *cancel, int64_t deadline_ms,
			PipeHead *head)
{
	PipeClock clk = {deadline_ms, false};
	int idle = 0;

	for (;;)
	{
		PGresult *res;

		if (!PipeNext(conn, cancel, &clk, &res))
			return false;
		if (res == NULL)
		{
			/* one NULL ends the call's results; two in a row is a stall */
			if (++idle > 1)
				return false;
			continue;
		}
		idle = 0;
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			return true;
		}
		PipeKeep(head, res);
		if (PQstatus(conn) != CONNECTION_OK)
			return false;
	}
}

/* Turn what was read for a call into its outcome */
static void
PipeOutcome(const PipeHead *head, bool synced, Outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (head->error)
	{
		const char *state = PQresultErrorField(head->error, PG_DIAG_SQLSTATE);

		/* a server error before any result ended the transaction */
		if (synced || (state != NULL && head->value == NULL))
		{
			o->kind = OUTCOME_PG_ERROR;
			o->sqlstate = state;
			o->message =
				PQresultErrorField(head->error, PG_DIAG_MESSAGE_PRIMARY);
			if (o->message == NULL)
				o->message = PQresultErrorMessage(head->error);
			return;
		}
	}
	else if (synced)
	{
		o->kind = OUTCOME_RESULT;
		if (head->value && PQntuples(head->value) == 1 &&
			PQnfields(head->value) == 1 && !PQgetisnull(head->value, 0, 0))
		{
			o->value = PQgetvalue(head->value, 0, 0);
			o->value_len = (size_t) PQgetlength(head->value, 0, 0);
		}
		return;
	}
	o->kind = OUTCOME_LOST;
	o->sent = true;
}

/*
 * Send n calls as one pipeline and report each outcome through done.
 * Return false if the connection is no longer usable.
 */
bool
pipeline_run(PGconn *conn, PGcancel *cancel, const PipeCall *calls, int n,
			 PipeDone done, void *arg)
{
	int queued = 0;
	int finished = 0;
	bool maybe_sent_next = false;
	bool ok = true;
	int64_t first_deadline = calls[0].deadline_ms;

	for (int i = 1; i < n; i++)
		if (calls[i].deadline_ms < first_deadline)
			first_deadline = calls[i].deadline_ms;
	for (; queued < n; queued++)
	{
		if (!PQsendQueryPrepared(conn, calls[queued].stmt, 3,
								 calls[queued].params, NULL, NULL, 0))
			break;
		if (!PQpipelineSync(conn))
		{
			maybe_sent_next = true;
			break;
		}
	}
	if (queued < n)
	{
		log_warn("cannot queue a call on the pipeline",
				 LF_S("error", PQerrorMessage(conn)));
		ok = false;
	}
	if (!PipeFlush(conn, first_deadline + PIPELINE_CANCEL_GRACE_MS))
		ok = false;
	for (; ok && finished < queued; finished++)
	{
		PipeHead head = {NULL, NULL};
		Outcome o;
		bool synced =
			PipeCollect(conn, cancel, calls[finished].deadline_ms, &head);

		PipeOutcome(&head, synced, &o);
		done(arg, finished, &o);
		PQclear(head.value);
		PQclear(head.error);
		if (!synced)
			ok = false;
	}
	for (; finished < n; finished++)
	{
		Outcome o;

		memset(&o, 0, sizeof(o));
		o.kind = OUTCOME_LOST;
		o.sent = finished < queued || (finished == queued && maybe_sent_next);
		done(arg, finished, &o);
	}
	return ok;
}

/*
 * Read a group's results up to its Sync: each call's into heads[i], an
 * error of the commit itself into *commit_error.  Return false if the
 * connection failed or stayed silent, as PipeCollect does.
 */
static bool
PipeCollectGroup(PGconn *conn, PGcancel *cancel, int64_t deadline_ms,
				 PipeHead *heads, int n, PGresult **commit_error)
{
	PipeClock clk = {deadline_ms, false};
	int i = 0; /* the call whose results come next; n: the Sync's */
	int idle = 0;

	for (;;)
	{
		PGresult *res;

		if (!PipeNext(conn, cancel, &clk, &res))
			return false;
		if (res == NULL)
		{
			/* a NULL ends call i's results; after the last, two is a stall */
			if (i < n)
				i++;
			else if (++idle > 1)
				return false;
			continue;
		}
		idle = 0;
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			return i == n;
		}
		if (i < n)
			PipeKeep(&heads[i], res);
		else if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
				 *commit_error == NULL)
			*commit_error = res;
		else
			PQclear(res);
		if (PQstatus(conn) != CONNECTION_OK)
			return false;
	}
}

/* Describe the error that rolled a group back, for the log */
static void
PipeGroupError(const PGresult *err, char *why, size_t whylen)
{
	const char *state = PQresultErrorField(err, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(err, PG_DIAG_MESSAGE_PRIMARY);

	snprintf(why, whylen, "%s: %s", state ? state : "client",
			 msg ? msg : PQresultErrorMessage(err));
}

/*
 * Find the error that rolled a group back: a server error for one of its
 * calls or for its commit.  Client-side errors (no SQLSTATE, such as a
 * lost connection) do not count unless the Sync arrived.
 */
static const PGresult *
PipeGroupFailure(const PipeHead *heads, int n, const PGresult *commit_error,
				 bool synced)
{
	for (int i = 0; i < n; i++)
	{
		if (heads[i].error &&
			(synced ||
			 PQresultErrorField(heads[i].error, PG_DIAG_SQLSTATE) != NULL))
			return heads[i].error;
	}
	if (commit_error &&
		(synced || PQresultErrorField(commit_error, PG_DIAG_SQLSTATE) != NULL))
		return commit_error;
	return NULL;
}

/* Report every call of a group as lost: sent (outcome unknown) or not */
static void
PipeGroupLost(int n, bool sent, PipeDone done, void *arg)
{
	for (int i = 0; i < n; i++)
	{
		Outcome o;

		memset(&o, 0, sizeof(o));
		o.kind = OUTCOME_LOST;
		o.sent = sent;
		done(arg, i, &o);
	}
}

/*
 * Send n calls as one transaction, committed by a single Sync, and report
 * each outcome through done once it committed.  Return GROUP_ROLLED_BACK,
 * reporting nothing, if any statement or the commit failed (the reason is
 * written to why); *usable says whether the connection can still be used.
 */
GroupEnd
pipeline_run_group(PGconn *conn, PGcancel *cancel, const PipeCall *calls,
				   int n, PipeDone done, void *arg, bool *usable, char *why,
				   size_t whylen)
{
	PipeHead heads[PIPELINE_DEPTH_MAX];
	PGresult *commit_error = NULL;
	const PGresult *failure;
	int64_t deadline = calls[0].deadline_ms;
	int queued = 0;
	bool synced = false;
	GroupEnd end;

	memset(heads, 0, sizeof(heads));
	snprintf(why, whylen, "the connection failed before the commit");
	for (int i = 1; i < n; i++)
		if (calls[i].deadline_ms < deadline)
			deadline = calls[i].deadline_ms;
	while (queued < n &&
		   PQsendQueryPrepared(conn, calls[queued].stmt, 3,
							   calls[queued].params, NULL, NULL, 0))
		queued++;
	*usable = false;
	if (queued < n)
	{
		/* no Sync went out, so nothing can commit: dropping it rolls back */
		log_warn("cannot queue a call on the pipeline",
				 LF_S("error", PQerrorMessage(conn)));
		return GROUP_ROLLED_BACK;
	}
	if (PQpipelineSync(conn) &&
		PipeFlush(conn, deadline + PIPELINE_CANCEL_GRACE_MS))
	{
		synced =
			PipeCollectGroup(conn, cancel, deadline, heads, n, &commit_error);
		failure = PipeGroupFailure(heads, n, commit_error, synced);
		if (failure)
			PipeGroupError(failure, why, whylen);
		*usable = synced;
		end = failure  ? GROUP_ROLLED_BACK
			  : synced ? GROUP_COMMITTED
					   : GROUP_LOST;
	}
	else
	{
		log_warn("cannot send a group to PostgreSQL",
				 LF_S("error", PQerrorMessage(conn)));
		end = GROUP_LOST;
	}
	for (int i = 0; i < n; i++)
	{
		if (end == GROUP_COMMITTED)
		{
			Outcome o;

			PipeOutcome(&heads[i], true, &o);
			done(arg, i, &o);
		}
		PQclear(heads[i].value);
		PQclear(heads[i].error);
	}
	PQclear(commit_error);
	if (end == GROUP_LOST)
		PipeGroupLost(n, true, done, arg);
	return end;
}
