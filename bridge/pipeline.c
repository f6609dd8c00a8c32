/*
 * pipeline.c
 *		Run a batch of extension calls on one connection in pipeline mode.
 *
 * The connection is kept in libpq's pipeline mode and non-blocking.  A
 * batch is sent in one go: for each call a Bind/Execute of its prepared
 * statement followed by its own Sync, so each call is an implicit
 * transaction of its own, committed when the server processes that Sync.
 * Results are then read in order, and a call's outcome is handed to the
 * `done` callback only once its Sync's PGRES_PIPELINE_SYNC has arrived:
 * at that point a write has committed (or its error rolled it back), so
 * no reply ever acknowledges an uncommitted write.
 *
 * Deadlines: while waiting for the call at the head of the pipeline, the
 * socket is polled until that call's deadline; then a cancel request is
 * sent (the call fails with SQLSTATE 57014, which becomes "timeout") and
 * the wait goes on for PIPELINE_CANCEL_GRACE_MS.  If the server is still
 * silent, the batch is given up and the caller drops the connection.
 * statement_timeout, set on every connection, is the server-side backstop.
 * A cancel hits whatever the server runs at that moment: if the late call
 * finished just before, the next call in the pipeline is cancelled instead
 * (rolled back and answered "timeout"), a rare and harmless race.
 *
 * When the connection fails midway, each remaining call is classified:
 *	- an error the server reported for the call before any result (with a
 *	  SQLSTATE) ended its transaction: a PG error, outcome known;
 *	- otherwise, a call whose bytes may have reached the server is LOST
 *	  with `sent`, outcome unknown (it may have committed);
 *	- a call never handed to libpq is LOST without `sent`: not executed.
 * `done` is called exactly once for every call, whatever happens.
 *
 * pipeline_result() gives session set-up commands, which run outside
 * pipeline mode, the same bounded wait.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

#include "clock.h"
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

/*
 * Read the results of the call at the head of the pipeline up to its Sync.
 * Return false if the connection failed, or stayed silent through the
 * deadline and the cancel grace period.
 */
static bool
PipeCollect(PGconn *conn, PGcancel *cancel, int64_t deadline_ms,
			PipeHead *head)
{
	int64_t until = deadline_ms;
	bool canceled = false;
	int idle = 0;

	for (;;)
	{
		PGresult *res;

		if (PQisBusy(conn))
		{
			if (clock_mono_ms() < until)
			{
				if (!PipeWait(conn, false, until))
					return false;
				continue;
			}
			if (canceled)
				return false;
			PipeCancel(cancel);
			canceled = true;
			until = clock_mono_ms() + PIPELINE_CANCEL_GRACE_MS;
			continue;
		}
		res = PQgetResult(conn);
		if (res == NULL)
		{
			/* one NULL ends the call's results; two in a row is a stall */
			if (PQstatus(conn) != CONNECTION_OK || ++idle > 1)
				return false;
			continue;
		}
		idle = 0;
		switch (PQresultStatus(res))
		{
			case PGRES_PIPELINE_SYNC:
				PQclear(res);
				return true;
			case PGRES_TUPLES_OK:
				if (head->value == NULL)
				{
					head->value = res;
					res = NULL;
				}
				break;
			case PGRES_FATAL_ERROR:
				if (head->error == NULL)
				{
					head->error = res;
					res = NULL;
				}
				break;
			default:
				break;
		}
		PQclear(res);
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
