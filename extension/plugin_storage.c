/*-------------------------------------------------------------------------
 *
 * plugin_storage.c
 *	  Module start-up: the GUCs that bound requests and drive the sweeper.
 *
 * Every setting lives under the plugin_storage. prefix, which is reserved
 * once they are defined.  When the library is preloaded the TTL sweep worker
 * is registered here too (sweep.c).
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

int ps_max_key_bytes = 512;
int ps_max_value_bytes = 1024 * 1024;
int ps_max_keys_per_plugin = 0;
int ps_sweep_interval_ms = 60 * 1000;
int ps_sweep_batch = 1000;
char *ps_sweep_database = NULL;
int ps_migrate_timeout_ms = 60 * 1000;
int ps_migrate_lock_timeout_ms = 5 * 1000;

void _PG_init(void);

/* Define the GUCs, the caches' hooks and, when preloaded, the worker */
void
_PG_init(void)
{
	DefineCustomIntVariable("plugin_storage.max_key_bytes",
							gettext_noop("Longest KV key accepted, in bytes."),
							NULL, &ps_max_key_bytes, 512, 1, 8192, PGC_SUSET,
							0, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.max_value_bytes",
		gettext_noop("Largest KV value accepted, in bytes."), NULL,
		&ps_max_value_bytes, 1024 * 1024, 1, 256 * 1024 * 1024, PGC_SUSET, 0,
		NULL, NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.max_keys_per_plugin",
		gettext_noop(
			"Live keys a plugin (or workspace) may hold; 0 means no quota."),
		NULL, &ps_max_keys_per_plugin, 0, 0, INT_MAX, PGC_SUSET, 0, NULL, NULL,
		NULL);
	DefineCustomIntVariable(
		"plugin_storage.sweep_interval",
		gettext_noop("Time between two passes of the TTL sweep worker."), NULL,
		&ps_sweep_interval_ms, 60 * 1000, 100, INT_MAX, PGC_SIGHUP,
		GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.sweep_batch",
		gettext_noop("Expired keys deleted per sweep transaction."), NULL,
		&ps_sweep_batch, 1000, 1, 1000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	/* PostgreSQL refuses (FATAL) a PGC_POSTMASTER setting defined later
	 * than at start-up: this one exists only when preloaded, with the worker
	 * it configures. */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable(
			"plugin_storage.database",
			gettext_noop(
				"Database whose expired keys the sweep worker deletes."),
			NULL, &ps_sweep_database, "postgres", PGC_POSTMASTER, 0, NULL,
			NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.migrate_timeout",
		gettext_noop("Longest a migration request may run; 0 means no limit."),
		gettext_noop("The caller's statement_timeout is off while migrations "
					 "run; this bounds them instead."),
		&ps_migrate_timeout_ms, 60 * 1000, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MS,
		NULL, NULL, NULL);
	DefineCustomIntVariable(
		"plugin_storage.migrate_lock_timeout",
		gettext_noop("Longest a migration waits for another one of the same "
					 "plugin to finish."),
		gettext_noop("A request's lock_timeout_ms overrides it."),
		&ps_migrate_lock_timeout_ms, 5 * 1000, 0, 3600 * 1000, PGC_USERSET,
		GUC_UNIT_MS, NULL, NULL, NULL);
	PsSqlInit();
	MarkGUCPrefixReserved("plugin_storage");

	PsRegistryInit();
	PsContextInit();
	PsSandboxInit();
	PsSweepStatsInit();
	if (process_shared_preload_libraries_in_progress)
		PsSweepRegisterWorker();
}
