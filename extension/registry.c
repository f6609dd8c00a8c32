/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The per-backend cache of registered plugins.
 *
 * plugin_storage.plugins is the registry (register_plugin() fills it).  An
 * entry point looks a plugin up here by name; a miss reads the registry once
 * through SPI and keeps the role, schema, workspace, the SQL tier's limits
 * (plugin_limits) and, later, the plugin's prepared statements.  A statement
 * trigger on the registry (and on plugin_limits) sends a relcache
 * invalidation for it, which every backend receives at its next transaction
 * start; the callback only marks the cache stale (it may run in the middle of
 * a query), and the next lookup outside any request drops it.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

static HTAB *ps_plugins = NULL;
static MemoryContext ps_cache_cxt = NULL;
static bool ps_cache_stale = false;
static Oid ps_registry_relid = InvalidOid;

/* Is this a valid plugin (or workspace) name: ^[a-z0-9][a-z0-9_-]{0,62}$ */
bool
PsValidPluginName(const char *name, int len)
{
	if (len < 1 || len > NAMEDATALEN - 1)
		return false;
	for (int i = 0; i < len; i++)
	{
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '_' || c == '-'))
			continue;
		return false;
	}
	return true;
}

/* Mark the cache stale when the registry (or everything) is invalidated */
static void
PsRegistryInvalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ps_registry_relid ||
		ps_registry_relid == InvalidOid)
		ps_cache_stale = true;
}

/* Hook the relcache invalidation callback once per backend */
void
PsRegistryInit(void)
{
	CacheRegisterRelcacheCallback(PsRegistryInvalidate, (Datum) 0);
}

/* Drop every cached plugin and its plans */
static void
PsFlushCache(void)
{
	HASH_SEQ_STATUS status;
	PsPlugin *p;

	if (ps_plugins != NULL)
	{
		hash_seq_init(&status, ps_plugins);
		while ((p = hash_seq_search(&status)) != NULL)
			PsKvFreePlans(p);
		hash_destroy(ps_plugins);
		ps_plugins = NULL;
	}
	if (ps_cache_cxt != NULL)
		MemoryContextReset(ps_cache_cxt);
	ps_registry_relid = InvalidOid;
	ps_cache_stale = false;
}

/* Create the hash table that holds the cached plugins */
static void
PsCreateCache(void)
{
	HASHCTL ctl;

	if (ps_cache_cxt == NULL)
		ps_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
											 "plugin_storage registry",
											 ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(PsPlugin);
	ctl.hcxt = ps_cache_cxt;
	ps_plugins = hash_create("plugin_storage plugins", 64, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ps_registry_relid = get_relname_relid(
		PS_REGISTRY_TABLE, get_namespace_oid(PS_EXTENSION_SCHEMA, false));
}

/* An int4 column of a registry row, or -1 when NULL */
static int
PsLimitColumn(HeapTuple tup, TupleDesc desc, int col)
{
	bool isnull;
	Datum d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? -1 : DatumGetInt32(d);
}

/* Read the plugin's SQL-tier limits (columns 4 to 8; NULL: -1, the GUC) */
static void
PsLoadLimits(PsPlugin *p, HeapTuple tup, TupleDesc desc)
{
	bool isnull;
	Datum rate = SPI_getbinval(tup, desc, 7, &isnull);

	p->limits.statement_timeout_ms = PsLimitColumn(tup, desc, 4);
	p->limits.max_rows = PsLimitColumn(tup, desc, 5);
	p->limits.max_result_bytes = PsLimitColumn(tup, desc, 6);
	p->limits.rate_limit = isnull ? -1 : DatumGetFloat4(rate);
	p->limits.rate_burst = PsLimitColumn(tup, desc, 8);
}

/* Read one plugin's registry row; false if it is not registered */
static bool
PsLoadPlugin(PsPlugin *p)
{
	Oid argtypes[1] = {TEXTOID};
	Datum args[1];
	bool found = false;
	int rc;

	args[0] = CStringGetTextDatum(p->name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(
		"SELECT p.role::text, p.schema::text, p.workspace, "
		"l.statement_timeout_ms, l.max_rows, l.max_result_bytes, "
		"l.rate_limit, l.rate_burst "
		"FROM plugin_storage.plugins p "
		"LEFT JOIN plugin_storage.plugin_limits l ON l.plugin = p.name "
		"WHERE p.name = $1",
		1, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "registry lookup failed: %d", rc);
	if (SPI_processed == 1)
	{
		MemoryContext old = MemoryContextSwitchTo(ps_cache_cxt);
		HeapTuple tup = SPI_tuptable->vals[0];
		TupleDesc desc = SPI_tuptable->tupdesc;
		char *ws = SPI_getvalue(tup, desc, 3);

		p->role = SPI_getvalue(tup, desc, 1);
		p->schema = SPI_getvalue(tup, desc, 2);
		p->workspace = ws ? pstrdup(ws) : NULL;
		p->roleid = get_role_oid(p->role, false);
		p->nspid = get_namespace_oid(p->schema, false);
		p->search_path.schemas = list_make1_oid(p->nspid);
		p->search_path.addCatalog = true;
		p->search_path.addTemp = false;
		PsLoadLimits(p, tup, desc);
		MemoryContextSwitchTo(old);
		found = true;
	}
	SPI_finish();
	return found;
}

/* Find a registered plugin by name, or NULL */
PsPlugin *
PsLookupPlugin(const char *name)
{
	PsPlugin *p;
	bool found;

	if (ps_cache_stale && ps_current_plugin == NULL)
		PsFlushCache();
	if (ps_plugins == NULL)
		PsCreateCache();

	p = hash_search(ps_plugins, name, HASH_ENTER, &found);
	if (!found)
	{
		memset(((char *) p) + NAMEDATALEN, 0, sizeof(PsPlugin) - NAMEDATALEN);
		p->valid = false;
	}
	if (!p->valid)
	{
		if (!PsLoadPlugin(p))
		{
			hash_search(ps_plugins, name, HASH_REMOVE, NULL);
			return NULL;
		}
		p->valid = true;
	}
	return p;
}

PG_FUNCTION_INFO_V1(ps_registry_changed);

/*
 * Statement trigger on the registry, and on the tables the cache reads with
 * it (plugin_limits): tell every backend to reload it.  The invalidation is
 * for the registry itself, which is what PsRegistryInvalidate watches.
 */
Datum
ps_registry_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid registry;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ps_registry_changed: not called by trigger manager");
	registry = get_relname_relid(PS_REGISTRY_TABLE,
								 RelationGetNamespace(trigdata->tg_relation));
	CacheInvalidateRelcacheByRelid(
		OidIsValid(registry) ? registry
							 : RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(ps_current_workspace);

/*
 * The workspace of the plugin whose request is running, for the row-level
 * security policy on workspace_kv.  It answers only while the current user is
 * that plugin's role, so nothing outside a request can borrow it.
 */
Datum
ps_current_workspace(PG_FUNCTION_ARGS)
{
	PsPlugin *p = ps_current_plugin;

	if (p == NULL || p->workspace == NULL || GetUserId() != p->roleid)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(p->workspace));
}
