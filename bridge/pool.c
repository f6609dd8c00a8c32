/*
 * pool.c
 *		The PostgreSQL side: worker threads, each owning one connection.
 *
 * pool_size workers, each with one libpq connection it alone uses, loop:
 * take a batch from the queue (a share of the kv/row backlog, up to
 * pipeline_depth requests, or a single sql or migrate request: see
 * queue.c), validate it, send the valid requests as one pipeline
 * (pipeline.c) and reply to each as its outcome arrives.  A slow call
 * holds up only its own worker's pipeline; the other workers keep
 * draining the queue.  A migrate request has its own deadline
 * (migrate_timeout_ms, from its arrival) instead of request_timeout_ms.
 *
 * Group commit (group_commit = on): a batch of two or more runs as one
 * transaction, ordered by the row each request names (handler.c's
 * lock_order, stable), so that groups on different connections take row
 * locks in one order and cannot deadlock each other.  If the group rolls
 * back (a statement raised, the commit failed, or a server error came
 * before the connection died), nothing of it committed: its requests run
 * again, each in its own transaction, on this connection or a new one;
 * those past their deadline get "timeout" instead.
 *
 * Connections: libpq's PG* variables plus the `conninfo` setting, with
 * application_name=plugin-storage-bridge and client_encoding=UTF8.  Each
 * new session sets statement_timeout to request_timeout_ms and TimeZone to
 * UTC, probes which tiers' functions exist (to_regprocedure) and prepares
 * their calls, then enters pipeline mode.  A config reload (new
 * generation) redoes this between batches.
 *
 * Failures: before each batch a worker checks its idle connection (an
 * orderly server shutdown leaves a readable socket) and reconnects at once
 * if it died, so a restart costs no request.  A failed connect is retried
 * with exponential backoff from 100 ms up to reconnect_max_ms, with
 * jitter.  While no worker at all is connected, disconnected workers keep
 * taking requests and answer "unavailable" right away, so that plugins
 * learn of the outage promptly; while some worker is connected, the
 * disconnected ones leave the queue to it.  Requests that waited past
 * their deadline in the queue get "timeout" without running.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "handler.h"
#include "log.h"
#include "pipeline.h"
#include "pool.h"
#include "stats.h"
#include "tier.h"

#define POOL_BACKOFF_MIN_MS 100
#define POOL_IDLE_CHECK_MS 1000
#define POOL_REFUSE_RECHECK_MS 100
#define TEXTOID 25	  /* pg_type.oid of text */
#define JSONBOID 3802 /* pg_type.oid of jsonb */

typedef struct Worker
{
	int id;					 /* 0 .. pool_size-1, for logs */
	pthread_t thread;		 /* the thread that owns conn */
	PGconn *conn;			 /* its connection, or NULL */
	PGcancel *cancel;		 /* cancel handle of conn */
	bool counted;			 /* conn is counted in pool_connected */
	bool doomed;			 /* the server sent FATAL: conn is closing */
	bool ready[TIER_COUNT];	 /* tiers whose call is prepared on conn */
	unsigned generation;	 /* config generation conn was set up for */
	int64_t next_attempt_ms; /* earliest time to reconnect */
	int backoff_ms;			 /* current reconnect backoff */
	bool failing;			 /* the last connect failed (logged once) */
	bool connected_once;	 /* a connect has succeeded before */
	unsigned seed;			 /* for backoff jitter */
	Request *live[PIPELINE_DEPTH_MAX]; /* the running pipeline's requests */
} Worker;

static Worker *pool_workers;
static int pool_size;
static Queue *pool_queue;
static atomic_int pool_connected;
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static int pool_running;

/* Cut a libpq message to its first line, for logs */
static void
PoolFirstLine(char *dst, size_t size, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	snprintf(dst, size, "%.*s", (int) n, msg);
}

/*
 * Run one setup command (SQL, or the preparation of stmt if stmt is set)
 * with a deadline, so that a hung server cannot hang the worker.  Return
 * its result if it has the expected status, else log and return NULL.
 */
static PGresult *
WorkerExec(Worker *w, const char *stmt, const char *sql, int nparams,
		   const char *const *params, ExecStatusType expect, int64_t until)
{
	static const Oid types[3] = {TEXTOID, TEXTOID, JSONBOID};
	PGresult *res = NULL;
	int sent = stmt ? PQsendPrepare(w->conn, stmt, sql, 3, types)
					: PQsendQueryParams(w->conn, sql, nparams, NULL, params,
										NULL, NULL, 0);

	if (sent)
		res = pipeline_result(w->conn, until);
	if (PQresultStatus(res) != expect)
	{
		char err[512];

		PoolFirstLine(err, sizeof(err),
					  res ? PQresultErrorMessage(res)
						  : "no answer within request_timeout_ms");
		log_error("session setup failed", LF_I("worker", w->id),
				  LF_S("sql", sql), LF_S("error", err));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Probe a tier's function and prepare its call: 1 ready, 0 absent, -1 failed
 */
static int
WorkerProbe(Worker *w, const Tier *tier, int64_t until)
{
	PGresult *res =
		WorkerExec(w, NULL, "SELECT to_regprocedure($1::text) IS NOT NULL", 1,
				   &tier->function, PGRES_TUPLES_OK, until);
	bool exists = res && PQgetvalue(res, 0, 0)[0] == 't';

	if (res == NULL)
		return -1;
	PQclear(res);
	if (!exists)
		return 0;
	res = WorkerExec(w, tier->stmt, tier->call, 3, NULL, PGRES_COMMAND_OK,
					 until);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 1;
}

/* Set up the session: timeouts, tiers, pipeline mode */
static bool
WorkerSetup(Worker *w, const ConfigLimits *lim)
{
	char timeout[32];
	char names[128] = "";
	const char *params[1] = {timeout};
	int64_t until = clock_mono_ms() + lim->request_timeout_ms;
	PGresult *res;

	if (PQpipelineStatus(w->conn) != PQ_PIPELINE_OFF &&
		!PQexitPipelineMode(w->conn))
		return false;
	PQsetnonblocking(w->conn, 0);
	snprintf(timeout, sizeof(timeout), "%d", lim->request_timeout_ms);
	res = WorkerExec(w, NULL,
					 "SELECT set_config('statement_timeout', $1, false), "
					 "set_config('TimeZone', 'UTC', false)",
					 1, params, PGRES_TUPLES_OK, until);
	if (res == NULL)
		return false;
	PQclear(res);
	res = WorkerExec(w, NULL, "DEALLOCATE ALL", 0, NULL, PGRES_COMMAND_OK,
					 until);
	if (res == NULL)
		return false;
	PQclear(res);
	for (int i = 0; i < TIER_COUNT; i++)
	{
		int ready = WorkerProbe(w, &tiers[i], until);

		if (ready < 0)
			return false;
		w->ready[i] = ready == 1;
		if (w->ready[i])
			snprintf(names + strlen(names), sizeof(names) - strlen(names),
					 "%s%s", names[0] ? "," : "", tiers[i].name);
	}
	if (PQsetnonblocking(w->conn, 1) != 0 || !PQenterPipelineMode(w->conn))
		return false;
	w->generation = lim->generation;
	log_debug("session ready", LF_I("worker", w->id), LF_S("tiers", names));
	return true;
}

/* Drop the connection; the next attempt may come at once */
static void
WorkerClose(Worker *w, const char *reason)
{
	if (w->conn == NULL)
		return;
	if (reason)
	{
		char err[512];

		PoolFirstLine(err, sizeof(err), PQerrorMessage(w->conn));
		log_warn("PostgreSQL connection closed", LF_I("worker", w->id),
				 LF_S("reason", reason), LF_S("error", err[0] ? err : NULL));
	}
	if (w->counted)
		atomic_fetch_sub(&pool_connected, 1);
	w->counted = false;
	PQfreeCancel(w->cancel);
	w->cancel = NULL;
	PQfinish(w->conn);
	w->conn = NULL;
	w->next_attempt_ms = 0;
}

/* Record a failed connect and schedule the next attempt */
static void
WorkerBackoff(Worker *w, const ConfigLimits *lim, const char *error)
{
	char err[512];
	int jitter;

	PoolFirstLine(err, sizeof(err), error);
	if (!w->failing)
		log_warn("cannot connect to PostgreSQL; retrying with backoff",
				 LF_I("worker", w->id), LF_S("error", err));
	else
		log_debug("reconnect failed", LF_I("worker", w->id),
				  LF_S("error", err));
	w->failing = true;
	WorkerClose(w, NULL);
	w->backoff_ms =
		w->backoff_ms == 0 ? POOL_BACKOFF_MIN_MS : w->backoff_ms * 2;
	if (w->backoff_ms > lim->reconnect_max_ms)
		w->backoff_ms = lim->reconnect_max_ms;
	jitter = (int) (rand_r(&w->seed) % (unsigned) (w->backoff_ms / 4 + 1));
	w->next_attempt_ms = clock_mono_ms() + w->backoff_ms - jitter;
}

/* libpq notice receiver: a FATAL while idle means the server is leaving */
static void
WorkerOnNotice(void *arg, const PGresult *res)
{
	Worker *w = arg;
	const char *severity =
		PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

	if (severity &&
		(strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0))
		w->doomed = true;
}

/* Open and set up a connection */
static bool
WorkerConnect(Worker *w, const ConfigLimits *lim)
{
	const char *keys[5];
	const char *values[5];
	int n = 0;

	keys[n] = "application_name";
	values[n++] = "plugin-storage-bridge";
	if (getenv("PGCONNECT_TIMEOUT") == NULL)
	{
		keys[n] = "connect_timeout";
		values[n++] = "5";
	}
	keys[n] = "dbname"; /* expanded: conninfo may set anything */
	values[n++] = config_get()->conninfo;
	keys[n] = "client_encoding";
	values[n++] = "UTF8";
	keys[n] = values[n] = NULL;
	w->conn = PQconnectdbParams(keys, values, 1);
	w->doomed = false;
	PQsetNoticeReceiver(w->conn, WorkerOnNotice, w);
	if (PQstatus(w->conn) != CONNECTION_OK || !WorkerSetup(w, lim))
	{
		WorkerBackoff(w, lim, PQerrorMessage(w->conn));
		return false;
	}
	w->cancel = PQgetCancel(w->conn);
	w->counted = true;
	atomic_fetch_add(&pool_connected, 1);
	STATS_INC(connects);
	log_write(w->failing || !w->connected_once ? LL_INFO : LL_DEBUG,
			  "connected to PostgreSQL",
			  (const LogField[]){
				  LF_I("worker", w->id),
				  LF_I("server_version", PQserverVersion(w->conn)), LF_END_});
	w->failing = false;
	w->connected_once = true;
	w->backoff_ms = 0;
	return true;
}

/*
 * Tell whether an idle connection is still alive.  A server that shuts
 * down sends a FATAL error to idle sessions before closing them; libpq
 * hands an error that arrives while idle to the notice receiver, which
 * marks the connection doomed.
 */
static bool
WorkerAlive(Worker *w)
{
	struct pollfd pfd = {PQsocket(w->conn), POLLIN, 0};

	if (PQstatus(w->conn) != CONNECTION_OK || w->doomed)
		return false;
	if (poll(&pfd, 1, 0) > 0 && !PQconsumeInput(w->conn))
		return false;
	return PQstatus(w->conn) == CONNECTION_OK && !w->doomed;
}

/* Make sure the worker has a usable, up-to-date session */
static bool
WorkerEnsure(Worker *w, const ConfigLimits *lim)
{
	if (w->conn && !WorkerAlive(w))
		WorkerClose(w, "connection lost while idle");
	if (w->conn && w->generation != lim->generation && !WorkerSetup(w, lim))
		WorkerClose(w, "session setup failed");
	if (w->conn)
		return true;
	if (clock_mono_ms() < w->next_attempt_ms)
		return false;
	return WorkerConnect(w, lim);
}

/* PipeDone callback: reply to the request behind a finished call */
static void
WorkerDone(void *arg, int index, const Outcome *outcome)
{
	Worker *w = arg;

	handler_finish(w->live[index], outcome);
	handler_free(w->live[index]);
	w->live[index] = NULL;
}

/*
 * Run again, one transaction each, the calls of a group that rolled back:
 * nothing of it committed, so nothing runs twice.  A call already past its
 * deadline gets "timeout"; without a connection, "unavailable".
 */
static void
WorkerRetry(Worker *w, const ConfigLimits *lim, PipeCall *calls, int n)
{
	int64_t now = clock_mono_ms();
	int m = 0;

	for (int i = 0; i < n; i++)
	{
		Request *req = w->live[i];

		w->live[i] = NULL;
		if (now >= req->deadline_ms)
			handler_reply_error(
				req, EC_TIMEOUT,
				"request exceeded request_timeout_ms "
				"(%lld ms); it was rolled back and had no "
				"effect",
				(long long) (req->deadline_ms - req->received_ms));
		else
		{
			calls[m] = calls[i];
			w->live[m++] = req;
			continue;
		}
		handler_free(req);
	}
	if (m == 0)
		return;
	if (w->conn == NULL && !WorkerEnsure(w, lim))
	{
		for (int i = 0; i < m; i++)
		{
			handler_reply_error(w->live[i], EC_UNAVAILABLE,
								"the connection to PostgreSQL failed; the "
								"request was rolled back and had no effect");
			handler_free(w->live[i]);
			w->live[i] = NULL;
		}
		return;
	}
	if (!pipeline_run(w->conn, w->cancel, calls, m, WorkerDone, w))
		WorkerClose(w, "pipeline failed");
}

/*
 * Order a group by the rows its requests name (stable: requests for the
 * same row, and those naming none, keep their order), so that concurrent
 * groups lock rows in one global order and cannot deadlock each other.
 */
static void
WorkerSortGroup(Worker *w, PipeCall *calls, int n)
{
	for (int i = 1; i < n; i++)
	{
		PipeCall call = calls[i];
		Request *req = w->live[i];
		int j = i;

		for (; j > 0 && w->live[j - 1]->lock_order > req->lock_order; j--)
		{
			calls[j] = calls[j - 1];
			w->live[j] = w->live[j - 1];
		}
		calls[j] = call;
		w->live[j] = req;
	}
}

/* Run n calls as one transaction; if it rolled back, run them one by one */
static void
WorkerGroup(Worker *w, const ConfigLimits *lim, PipeCall *calls, int n)
{
	char why[256];
	bool usable;
	GroupEnd end;

	WorkerSortGroup(w, calls, n);
	end = pipeline_run_group(w->conn, w->cancel, calls, n, WorkerDone, w,
							 &usable, why, sizeof(why));
	if (!usable)
		WorkerClose(w, "pipeline failed");
	if (end == GROUP_COMMITTED)
		STATS_INC(group_commits);
	if (end != GROUP_ROLLED_BACK)
		return;
	STATS_INC(group_rollbacks);
	log_debug("group rolled back; running its requests one by one",
			  LF_I("worker", w->id), LF_I("requests", n), LF_S("error", why));
	WorkerRetry(w, lim, calls, n);
}

/*
 * Tell whether a batch may run as one transaction: only batch-lane tiers
 * may (the queue hands sql and migrate requests out alone; this keeps a
 * batch that holds one, however it came about, out of a group).
 */
static bool
WorkerGroupable(Worker *w, int n)
{
	for (int i = 0; i < n; i++)
		if (w->live[i]->subject.tier->run != TIER_RUN_BATCH)
			return false;
	return true;
}

/* Validate a batch, then run the valid requests as one pipeline */
static void
WorkerRun(Worker *w, const ConfigLimits *lim, Request **batch, int n)
{
	PipeCall calls[PIPELINE_DEPTH_MAX];
	int m = 0;
	int64_t now = clock_mono_ms();

	for (int i = 0; i < n; i++)
	{
		Request *req = batch[i];
		const Tier *tier;

		if (!handler_check(req, lim))
		{
			handler_free(req);
			continue;
		}
		tier = req->subject.tier;
		if (now >= req->deadline_ms)
			handler_reply_error(req, EC_TIMEOUT,
								"request waited %lld ms for "
								"a PostgreSQL connection (%s) and was not "
								"executed",
								(long long) (now - req->received_ms),
								handler_timeout_setting(req));
		else if (!w->ready[tier_index(tier)])
			handler_reply_error(req, EC_INVALID_REQUEST,
								"unknown tier \"%s\": "
								"%s is not installed in this database",
								tier->name, tier->function);
		else
		{
			calls[m].stmt = tier->stmt;
			calls[m].params[0] = req->subject.plugin;
			calls[m].params[1] = req->subject.op;
			calls[m].params[2] = req->payload;
			calls[m].deadline_ms = req->deadline_ms;
			w->live[m++] = req;
			continue;
		}
		handler_free(req);
	}
	if (m == 0)
		return;
	STATS_INC(batches);
	if (m > 1)
		STATS_ADD(pipelined, (unsigned long long) m);
	if (m > 1 && lim->group_commit && WorkerGroupable(w, m))
		WorkerGroup(w, lim, calls, m);
	else if (!pipeline_run(w->conn, w->cancel, calls, m, WorkerDone, w))
		WorkerClose(w, "pipeline failed");
}

/* Answer a batch "unavailable" without running it */
static void
WorkerFail(const ConfigLimits *lim, Request **batch, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (handler_check(batch[i], lim))
			handler_reply_error(batch[i], EC_UNAVAILABLE,
								"PostgreSQL is "
								"unavailable; the request was not executed");
		handler_free(batch[i]);
	}
}

/*
 * Serve the queue without a connection: while no worker is connected,
 * answer "unavailable" (or use a connection that came back meanwhile);
 * otherwise leave the queue to the connected workers.  Return false once
 * the queue is closed and empty.
 */
static bool
WorkerRefuse(Worker *w, ConfigLimits *lim, Request **batch)
{
	int64_t until = clock_mono_ms() + POOL_REFUSE_RECHECK_MS;
	TierRun lane;
	int n;

	if (w->next_attempt_ms < until)
		until = w->next_attempt_ms;
	if (atomic_load(&pool_connected) > 0)
		return !queue_sleep(pool_queue, until);
	n = queue_pop(pool_queue, batch, lim->pipeline_depth, until, &lane);
	if (n <= 0)
		return n == 0;
	config_limits(lim);
	if (atomic_load(&pool_connected) > 0 && WorkerConnect(w, lim))
		WorkerRun(w, lim, batch, n);
	else
		WorkerFail(lim, batch, n);
	queue_done(pool_queue, lane);
	return true;
}

/* Worker thread: serve the queue until it is closed and empty */
static void *
WorkerMain(void *arg)
{
	Worker *w = arg;
	Request *batch[PIPELINE_DEPTH_MAX];

	for (;;)
	{
		ConfigLimits lim;
		TierRun lane;
		int n;

		config_limits(&lim);
		if (!WorkerEnsure(w, &lim))
		{
			if (!WorkerRefuse(w, &lim, batch))
				break;
			continue;
		}
		n = queue_pop(pool_queue, batch, lim.pipeline_depth,
					  clock_mono_ms() + POOL_IDLE_CHECK_MS, &lane);
		if (n < 0)
			break;
		if (n == 0)
			continue;
		/* settings may have been reloaded, the connection may have died */
		config_limits(&lim);
		if (WorkerEnsure(w, &lim))
			WorkerRun(w, &lim, batch, n);
		else
			WorkerFail(&lim, batch, n);
		queue_done(pool_queue, lane);
	}
	WorkerClose(w, NULL);
	pthread_mutex_lock(&pool_mutex);
	pool_running--;
	pthread_cond_broadcast(&pool_cond);
	pthread_mutex_unlock(&pool_mutex);
	return NULL;
}

/* Start the workers; they connect by themselves */
void
pool_start(int size, Queue *queue)
{
	pool_size = size;
	pool_queue = queue;
	pool_workers = calloc((size_t) size, sizeof(Worker));
	pool_running = size;
	for (int i = 0; i < size; i++)
	{
		pool_workers[i].id = i;
		pool_workers[i].seed = (unsigned) (clock_mono_ms() + i);
		pthread_create(&pool_workers[i].thread, NULL, WorkerMain,
					   &pool_workers[i]);
	}
}

/* Wait up to timeout_ms for every worker to finish; true if they have */
bool
pool_wait(int timeout_ms)
{
	struct timespec ts;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000)
	{
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&pool_mutex);
	if (pool_running > 0)
		pthread_cond_timedwait(&pool_cond, &pool_mutex, &ts);
	done = pool_running == 0;
	pthread_mutex_unlock(&pool_mutex);
	return done;
}

/* Join the finished workers and free them */
void
pool_join(void)
{
	for (int i = 0; i < pool_size; i++)
		pthread_join(pool_workers[i].thread, NULL);
	free(pool_workers);
	pool_workers = NULL;
}

/* How many workers hold a PostgreSQL connection now */
int
pool_connected_count(void)
{
	return atomic_load(&pool_connected);
}
