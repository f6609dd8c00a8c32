/*-------------------------------------------------------------------------
 *
 * context.c
 *	  Run a plugin's work under the plugin's own role.
 *
 * PsEnterPlugin switches the current user to the plugin's role the way
 * PostgreSQL does for maintenance commands: SetUserIdAndSecContext with
 * SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION, so that
 * privileges and row-level security are checked against the plugin and SET
 * ROLE, RESET ROLE, set_config('role', ...) and friends fail.
 *
 * The search path is pinned to pg_catalog and the plugin's schema with an
 * override search path (PushOverrideSearchPath), which name lookup uses
 * ahead of the search_path GUC: SQL run by the plugin cannot widen it with
 * SET search_path, and it costs no GUC nest level per request (that walks
 * every GUC on exit, which showed in the KV tier's profile).
 *
 * On success PsLeavePlugin restores both.  On error, transaction (or
 * subtransaction) abort restores the user id and pops the override by
 * itself; our abort callbacks only forget which plugin was running.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "miscadmin.h"

/* The plugin whose request is running in this backend, or NULL */
PsPlugin *ps_current_plugin = NULL;

/* The subtransaction that was current when the request began */
static SubTransactionId ps_entered_subid = InvalidSubTransactionId;

/* Switch to the plugin's role, restricted, with search_path pinned */
void
PsEnterPlugin(PsPlugin *plugin, PsSavedContext *saved)
{
	if (ps_current_plugin != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("plugin_storage entry points cannot be nested"),
				 errdetail("A request for plugin \"%s\" is already running.",
						   ps_current_plugin->name)));

	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(plugin->roleid, saved->sec_context |
											   SECURITY_LOCAL_USERID_CHANGE |
											   SECURITY_RESTRICTED_OPERATION);
	PushOverrideSearchPath(&plugin->search_path);
	ps_current_plugin = plugin;
	ps_entered_subid = GetCurrentSubTransactionId();
}

/* Return to the caller's role, security context and search_path */
void
PsLeavePlugin(PsSavedContext *saved)
{
	ps_current_plugin = NULL;
	PopOverrideSearchPath();
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

/* Forget the running plugin when its transaction aborts */
static void
PsXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		ps_current_plugin = NULL;
}

/*
 * Forget the running plugin when the subtransaction it began in (or an outer
 * one) aborts; a subtransaction the plugin's own SQL opened and rolled back
 * leaves the request running.
 */
static void
PsSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
				  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && mySubid <= ps_entered_subid)
		ps_current_plugin = NULL;
}

/* Register the abort callbacks once per backend */
void
PsContextInit(void)
{
	RegisterXactCallback(PsXactCallback, NULL);
	RegisterSubXactCallback(PsSubXactCallback, NULL);
}
