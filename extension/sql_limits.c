/*-------------------------------------------------------------------------
 *
 * sql_limits.c
 *	  The SQL tier's guardrails: their settings, and each plugin's limits.
 *
 * Every guardrail is a GUC (PGC_SUSET: only a superuser, or the server's
 * configuration, sets it) that a row of plugin_storage.plugin_limits may
 * override for one plugin (NULL there means "the GUC").  The registry's
 * cache (registry.c) reads the row with the plugin, and a trigger on the
 * table makes every backend read it again after a change.  A request may
 * ask for less (max_rows, timeout_ms), never for more (sql_request.c).
 *
 *-------------------------------------------------------------------------
 */
#include "sql.h"

#include "utils/guc.h"
#include "utils/memutils.h"

int ps_sql_statement_timeout_ms = 5000;
int ps_sql_max_rows = 1000;
int ps_sql_max_result_bytes = 900 * 1024;
double ps_sql_rate_limit = 0;
int ps_sql_rate_burst = 10;
int ps_sql_log_min_duration_ms = 1000;

/* Define the SQL tier's GUCs and, when preloaded, its shared memory */
void
PsSqlInit(void)
{
	DefineCustomIntVariable(
		"plugin_storage.sql_statement_timeout",
		gettext_noop("Longest a SQL-tier statement may run."),
		gettext_noop("A plugin's limit may override it."),
		&ps_sql_statement_timeout_ms, 5000, 1, INT_MAX, PGC_SUSET, GUC_UNIT_MS,
		NULL, NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.sql_max_rows",
		gettext_noop("Most rows a SQL-tier reply holds; more are truncated."),
		gettext_noop("A plugin's limit may override it."), &ps_sql_max_rows,
		1000, 1, INT_MAX - 1, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.sql_max_result_bytes",
		gettext_noop("Largest SQL-tier reply, in bytes of JSON text; rows "
					 "past it are truncated."),
		gettext_noop("A plugin's limit may override it."),
		&ps_sql_max_result_bytes, 900 * 1024, 1, MaxAllocSize / 4, PGC_SUSET,
		GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomRealVariable(
		"plugin_storage.sql_rate_limit",
		gettext_noop("SQL-tier requests per second per plugin; 0 means no "
					 "limit."),
		gettext_noop("Held in shared memory: needs shared_preload_libraries. "
					 "A plugin's limit may override it."),
		&ps_sql_rate_limit, 0, 0, 1e9, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.sql_rate_burst",
		gettext_noop("SQL-tier requests a plugin may make at once after a "
					 "pause, under the rate limit."),
		gettext_noop("A plugin's limit may override it."), &ps_sql_rate_burst,
		10, 1, INT_MAX, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.sql_log_min_duration",
		gettext_noop("Log SQL-tier requests that run at least this long; -1 "
					 "disables, 0 logs every request."),
		NULL, &ps_sql_log_min_duration_ms, 1000, -1, INT_MAX, PGC_SUSET,
		GUC_UNIT_MS, NULL, NULL, NULL);
	PsSqlRateInit();
}

/* The limits that apply to plugin p: its own where set, else the GUCs */
void
PsSqlPluginLimits(PsPlugin *p, PsSqlLimits *out)
{
	const PsPluginLimits *l = &p->limits;

	out->timeout_set = l->statement_timeout_ms > 0;
	out->timeout_ms = out->timeout_set ? l->statement_timeout_ms
									   : ps_sql_statement_timeout_ms;
	out->max_rows_set = l->max_rows > 0;
	out->max_rows = out->max_rows_set ? l->max_rows : ps_sql_max_rows;
	out->max_result_bytes = l->max_result_bytes > 0 ? l->max_result_bytes
													: ps_sql_max_result_bytes;
	out->rate_limit = l->rate_limit >= 0 ? l->rate_limit : ps_sql_rate_limit;
	out->rate_burst = l->rate_burst > 0 ? l->rate_burst : ps_sql_rate_burst;
}
