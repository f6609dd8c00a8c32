/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  The migration entry points: plugin_migrate() and its raising twin.
 *
 * plugin_migrate(plugin, request) is what the bridge calls for
 * db.migrate.<plugin>: it answers every request with jsonb, errors
 * included.  _plugin_migrate_raise() is the same call for the typed SQL
 * functions (migrate_apply, migrate_rollback, migration_status), raising
 * expected failures as ERRORs instead.
 *
 * apply and rollback go in four steps, as the caller:
 *	1. take the plugin's migration lock (migrate_lock.c), then read its
 *	   history (migrate_history.c), which is then up to date;
 *	2. plan: which versions to run, refusing changed checksums, unknown
 *	   targets and missing down scripts before anything runs;
 *	3. split every script to run into statements (migrate_script.c):
 *	   syntax errors and transaction control are refused here, and
 *	   destructive statements become warnings;
 *	4. run them all in one subtransaction under the plugin's role
 *	   (migrate_run.c), then write the history as the caller.
 * The caller's statement_timeout (the bridge's is 5 s) is off while they
 * wait for the lock and run: plugin_storage.migrate_timeout bounds them.
 *
 * A version older than the latest applied one that was never applied (a
 * migration merged late) is applied like any other, with an out_of_order
 * warning: the history records every version, not just the latest.
 *
 *-------------------------------------------------------------------------
 */
#include "migrate.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timeout.h"

/* Turn the caller's statement timeout off; was it on? */
static bool
PsStatementTimeoutOff(void)
{
	if (!get_timeout_active(STATEMENT_TIMEOUT))
		return false;
	disable_timeout(STATEMENT_TIMEOUT, false);
	return true;
}

/* Turn it on again for the rest of the caller's statement */
static void
PsStatementTimeoutOn(bool was_on)
{
	if (was_on && StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
}

/* Add a list of version strings as an array member */
static void
PsReplyVersions(PsReply *r, const char *key, List *versions)
{
	ListCell *lc;

	PsReplyBeginArray(r, key);
	foreach (lc, versions)
		PsReplyString(r, NULL, lfirst(lc), -1);
	PsReplyEndArray(r);
}

/* Add a version member, or null */
static void
PsReplyVersion(PsReply *r, const char *key, const char *version)
{
	if (version)
		PsReplyString(r, key, version, -1);
	else
		PsReplyNull(r, key);
}

/* Add milliseconds, rounded to microseconds */
static void
PsReplyMs(PsReply *r, const char *key, double ms)
{
	Datum num = DirectFunctionCall1(float8_numeric, Float8GetDatum(ms));

	PsReplyNumeric(r, key,
				   DirectFunctionCall2(numeric_round, num, Int32GetDatum(3)));
}

/* Add the warnings array */
static void
PsReplyWarnings(PsReply *r, List *warnings)
{
	ListCell *lc;

	PsReplyBeginArray(r, "warnings");
	foreach (lc, warnings)
	{
		PsMigrateWarning *w = lfirst(lc);

		PsReplyBeginObject(r, NULL);
		PsReplyString(r, "version", w->version, -1);
		PsReplyVersion(r, "statement", w->statement);
		PsReplyString(r, "kind", w->kind, -1);
		PsReplyEndObject(r);
	}
	PsReplyEndArray(r);
}

/* The later of two versions (either may be NULL) */
static const char *
PsLaterVersion(const char *a, const char *b)
{
	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	return PsVersionCmp(a, b) >= 0 ? a : b;
}

/* Is version one of the request's migrations? */
static bool
PsRequestHas(const PsMigrateRequest *req, const char *version)
{
	for (int i = 0; i < req->nmigrations; i++)
		if (strcmp(req->migrations[i].version, version) == 0)
			return true;
	return false;
}

/* Refuse an applied version whose up script changed */
static bool
PsCheckChecksum(const PsMigration *m, const PsApplied *a, PsError *err)
{
	if (strcmp(m->checksum, a->checksum) == 0)
		return true;
	PsSetError(err, "conflict",
			   "migration %s was changed after it was applied: its up "
			   "script's checksum differs",
			   m->version);
	err->version = pstrdup(m->version);
	err->detail = psprintf("Applied: sha256 %s. Given: sha256 %s.",
						   a->checksum, m->checksum);
	err->hint = pstrdup("Never edit an applied migration: add a new one.");
	return false;
}

/* Log an apply or rollback that was kept */
static void
PsLogChange(PsPlugin *p, PsMigrateRequest *req, const char *what, int n,
			const char *current)
{
	if (req->dry_run || n == 0)
		return;
	ereport(LOG, (errmsg("plugin_storage: plugin \"%s\": %s %d migration(s) "
						 "by %s, now at %s",
						 p->name, what, n, req->applied_by,
						 current ? current : "no version"),
				  errhidestmt(true)));
}

/* The apply reply */
static Jsonb *
PsApplyReply(PsMigration **todo, PsScript *scripts, int n, double *durations,
			 List *skipped, List *pending, const char *current, bool dry_run,
			 List *warnings)
{
	PsReply r;

	PsReplyBegin(&r);
	PsReplyBeginArray(&r, "applied");
	for (int i = 0; i < n; i++)
	{
		PsReplyBeginObject(&r, NULL);
		PsReplyString(&r, "version", todo[i]->version, -1);
		PsReplyMs(&r, "duration_ms", durations[i]);
		PsReplyInt64(&r, "statements", scripts[i].nstmts);
		PsReplyEndObject(&r);
	}
	PsReplyEndArray(&r);
	PsReplyVersions(&r, "skipped", skipped);
	PsReplyVersions(&r, "pending", pending);
	PsReplyVersion(&r, "current", current);
	PsReplyBool(&r, "dry_run", dry_run);
	PsReplyWarnings(&r, warnings);
	return PsReplyFinish(&r);
}

/*
 * apply: run, in version order, every migration of the request not yet
 * applied (up to target), all or nothing.
 */
static Jsonb *
PsMigrateApply(PsPlugin *p, PsMigrateRequest *req, PsError *err)
{
	PsHistory h;
	const char *latest;
	PsMigration **todo =
		palloc(sizeof(PsMigration *) * Max(req->nmigrations, 1));
	PsScript *scripts = palloc0(sizeof(PsScript) * Max(req->nmigrations, 1));
	double *durations = palloc0(sizeof(double) * Max(req->nmigrations, 1));
	int n = 0;
	List *skipped = NIL;
	List *pending = NIL;
	List *warnings = NIL;

	if (req->target && !PsRequestHas(req, req->target))
	{
		PsSetError(err, "invalid_request",
				   "target \"%s\" is not the version of one of the request's "
				   "migrations",
				   req->target);
		return NULL;
	}
	if (!PsMigrateLock(p, req->lock_timeout_ms, err))
		return NULL;
	h = PsHistoryRead(p);
	latest = h.n > 0 ? h.items[h.n - 1].version : NULL;
	for (int i = 0; i < req->nmigrations; i++)
	{
		PsMigration *m = &req->migrations[i];
		PsApplied *a = PsHistoryFind(&h, m->version);

		if (a != NULL)
		{
			if (!PsCheckChecksum(m, a, err))
				return NULL;
			skipped = lappend(skipped, m->version);
		}
		else if (req->target && PsVersionCmp(m->version, req->target) > 0)
			pending = lappend(pending, m->version);
		else
		{
			PsMigrateWarning *w;

			if (latest && PsVersionCmp(m->version, latest) < 0)
			{
				w = palloc0(sizeof(PsMigrateWarning));
				w->version = m->version;
				w->kind = "out_of_order";
				warnings = lappend(warnings, w);
			}
			scripts[n].version = m->version;
			scripts[n].text = m->up;
			todo[n++] = m;
		}
	}
	if (n > 0 &&
		(!PsScriptsParse(scripts, n, &warnings, err) ||
		 !PsMigrateRunApply(p, req, todo, scripts, n, durations, err)))
		return NULL;
	latest = PsLaterVersion(latest, n > 0 ? todo[n - 1]->version : NULL);
	PsLogChange(p, req, "applied", n, latest);
	return PsApplyReply(todo, scripts, n, durations, skipped, pending, latest,
						req->dry_run, warnings);
}

/*
 * rollback: run the stored down scripts of the versions after target
 * (null: all of them), newest first, all or nothing.  target must be
 * applied, or "0" (before every other version).
 */
static Jsonb *
PsMigrateRollback(PsPlugin *p, PsMigrateRequest *req, PsError *err)
{
	PsHistory h;
	PsScript *scripts;
	List *rolled_back = NIL;
	List *warnings = NIL;
	int keep;
	int n;
	PsReply r;

	if (!PsMigrateLock(p, req->lock_timeout_ms, err))
		return NULL;
	h = PsHistoryRead(p);
	if (req->target && strcmp(req->target, "0") != 0 &&
		PsHistoryFind(&h, req->target) == NULL)
	{
		PsSetError(err, "not_found",
				   "target %s is not an applied version of plugin \"%s\"",
				   req->target, p->name);
		err->hint = pstrdup("Give an applied version, or null to roll back "
							"every migration.");
		return NULL;
	}
	for (keep = h.n; keep > 0; keep--)
		if (req->target &&
			PsVersionCmp(h.items[keep - 1].version, req->target) <= 0)
			break;
	n = h.n - keep;
	scripts = palloc0(sizeof(PsScript) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		PsApplied *a = &h.items[h.n - 1 - i];

		if (a->down == NULL)
		{
			PsSetError(err, "invalid_request",
					   "migration %s has no down script: it cannot be rolled "
					   "back",
					   a->version);
			err->version = a->version;
			return NULL;
		}
		scripts[i].version = a->version;
		scripts[i].text = a->down;
		rolled_back = lappend(rolled_back, a->version);
	}
	if (n > 0 && (!PsScriptsParse(scripts, n, &warnings, err) ||
				  !PsMigrateRunRollback(p, req, scripts, n, err)))
		return NULL;
	PsLogChange(p, req, "rolled back", n,
				keep > 0 ? h.items[keep - 1].version : NULL);

	PsReplyBegin(&r);
	PsReplyVersions(&r, "rolled_back", rolled_back);
	PsReplyVersion(&r, "current", keep > 0 ? h.items[keep - 1].version : NULL);
	PsReplyBool(&r, "dry_run", req->dry_run);
	PsReplyWarnings(&r, warnings);
	return PsReplyFinish(&r);
}

/* The applied versions, for status */
static void
PsReplyApplied(PsReply *r, const PsHistory *h)
{
	PsReplyBeginArray(r, "applied");
	for (int i = 0; i < h->n; i++)
	{
		PsApplied *a = &h->items[i];
		char *name = PsVersionName(a->version);

		PsReplyBeginObject(r, NULL);
		PsReplyString(r, "version", a->version, -1);
		PsReplyVersion(r, "name", name);
		PsReplyString(r, "checksum", a->checksum, -1);
		PsReplyTimestamp(r, "applied_at", TimestampTzGetDatum(a->applied_at),
						 false);
		PsReplyString(r, "applied_by", a->applied_by, -1);
		PsReplyMs(r, "duration_ms", a->duration_ms);
		PsReplyBool(r, "has_down", a->down != NULL);
		PsReplyEndObject(r);
	}
	PsReplyEndArray(r);
}

/*
 * status: the applied versions; given migrations, also which of them are
 * pending (not applied) and which were changed after they were applied.
 */
static Jsonb *
PsMigrateStatus(PsPlugin *p, PsMigrateRequest *req)
{
	PsHistory h = PsHistoryRead(p);
	List *pending = NIL;
	List *changed = NIL;
	PsReply r;

	PsReplyBegin(&r);
	PsReplyVersion(&r, "current", h.n > 0 ? h.items[h.n - 1].version : NULL);
	PsReplyApplied(&r, &h);
	if (req->has_migrations)
	{
		for (int i = 0; i < req->nmigrations; i++)
		{
			PsMigration *m = &req->migrations[i];
			PsApplied *a = PsHistoryFind(&h, m->version);

			if (a == NULL)
				pending = lappend(pending, m->version);
			else if (strcmp(a->checksum, m->checksum) != 0)
				changed = lappend(changed, m->version);
		}
		PsReplyVersions(&r, "pending", pending);
		PsReplyVersions(&r, "changed", changed);
	}
	return PsReplyFinish(&r);
}

/* Validate and run one migration request; NULL with err set on failure */
static Jsonb *
PsMigrateExecute(const char *plugin, Jsonb *request, PsError *err)
{
	PsMigrateRequest req;
	PsPlugin *p;
	bool timeout_was_on;
	Jsonb *result;

	if (ps_current_plugin != NULL)
	{
		PsSetError(err, "forbidden",
				   "plugin_storage entry points cannot be nested");
		return NULL;
	}
	if ((p = PsFindRequestPlugin(plugin, err)) == NULL ||
		!PsMigrateParseRequest(request, &req, err))
		return NULL;
	if (req.action == PS_MIGRATE_STATUS)
		return PsMigrateStatus(p, &req);
	if (IsolationUsesXactSnapshot())
	{
		/* Its snapshot could predate another migration's commit */
		PsSetError(err, "invalid_request",
				   "migrations must run in a READ COMMITTED transaction");
		err->hint = pstrdup("A REPEATABLE READ or SERIALIZABLE snapshot may "
							"not see the latest migration history.");
		return NULL;
	}
	if (req.applied_by == NULL)
		req.applied_by = GetUserNameFromId(GetSessionUserId(), false);
	timeout_was_on = PsStatementTimeoutOff();
	if (req.action == PS_MIGRATE_APPLY)
		result = PsMigrateApply(p, &req, err);
	else
		result = PsMigrateRollback(p, &req, err);
	PsStatementTimeoutOn(timeout_was_on);
	return result;
}

/* Read the (plugin, request) arguments shared by both entry points */
static Jsonb *
PsMigrateCall(FunctionCallInfo fcinfo, PsError *err)
{
	if (PG_ARGISNULL(0))
	{
		PsSetError(err, "invalid_request", "plugin must not be null");
		return NULL;
	}
	return PsMigrateExecute(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1),
							err);
}

PG_FUNCTION_INFO_V1(plugin_migrate);

/* plugin_migrate(plugin, request): the wire reply, errors included */
Datum
plugin_migrate(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	Jsonb *result = PsMigrateCall(fcinfo, &err);

	PG_RETURN_JSONB_P(result ? result : PsErrorJsonb(&err));
}

PG_FUNCTION_INFO_V1(plugin_migrate_raise);

/* _plugin_migrate_raise(plugin, request): the reply, or an ERROR */
Datum
plugin_migrate_raise(PG_FUNCTION_ARGS)
{
	PsError err = {0};
	Jsonb *result = PsMigrateCall(fcinfo, &err);

	if (result == NULL)
		PsRaiseError(&err);
	PG_RETURN_JSONB_P(result);
}
