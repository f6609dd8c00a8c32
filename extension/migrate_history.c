/*-------------------------------------------------------------------------
 *
 * migrate_history.c
 *	  The history of applied migrations: plugin_storage.migrations.
 *
 * One row per applied version of a plugin: the checksum and text of its
 * up script, its down script (what rollback runs), when, by whom and how
 * long it took.  Plugin roles have no privilege on the table: it is read
 * and written here as the caller (the bridge or a DBA), never inside the
 * plugin's role, with bound parameters and pg_catalog's operators only.  Rows
 *go with the plugin (ON DELETE CASCADE on plugin_storage.plugins).
 *
 *-------------------------------------------------------------------------
 */
#include "migrate.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/* qsort/bsearch comparator: applied versions by version */
static int
PsAppliedCmp(const void *a, const void *b)
{
	return PsVersionCmp(((const PsApplied *) a)->version,
						((const PsApplied *) b)->version);
}

/* Column i of the current SPI row as a C string, or NULL */
static char *
PsSpiText(HeapTuple tup, TupleDesc desc, int i)
{
	bool isnull;
	Datum d = SPI_getbinval(tup, desc, i, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * Read a plugin's history, sorted by version (SPI as the caller).  Not
 * read-only for SPI: that takes a new snapshot, which (in READ COMMITTED)
 * sees what a migration that held the lock before us committed.
 */
PsHistory
PsHistoryRead(PsPlugin *plugin)
{
	MemoryContext outer = CurrentMemoryContext;
	Oid argtypes[1] = {TEXTOID};
	Datum args[1];
	PsHistory h;
	int rc;

	args[0] = CStringGetTextDatum(plugin->name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(
		"SELECT version, checksum, down, applied_at, applied_by, duration_ms "
		"FROM " PS_EXTENSION_SCHEMA "." PS_MIGRATIONS_TABLE
		" WHERE plugin OPERATOR(pg_catalog.=) $1",
		1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the migration history failed: %s",
			 SPI_result_code_string(rc));
	MemoryContextSwitchTo(outer);
	h.n = (int) SPI_processed;
	h.items = palloc0(sizeof(PsApplied) * Max(h.n, 1));
	for (int i = 0; i < h.n; i++)
	{
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		PsApplied *a = &h.items[i];
		bool isnull;

		a->version = PsSpiText(tup, desc, 1);
		a->checksum = PsSpiText(tup, desc, 2);
		a->down = PsSpiText(tup, desc, 3);
		a->applied_at =
			DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &isnull));
		a->applied_by = PsSpiText(tup, desc, 5);
		a->duration_ms = DatumGetFloat8(SPI_getbinval(tup, desc, 6, &isnull));
	}
	SPI_finish();
	qsort(h.items, h.n, sizeof(PsApplied), PsAppliedCmp);
	return h;
}

/* The history entry of a version, or NULL */
PsApplied *
PsHistoryFind(const PsHistory *h, const char *version)
{
	PsApplied key;

	key.version = (char *) version;
	return bsearch(&key, h->items, h->n, sizeof(PsApplied), PsAppliedCmp);
}

/* Record an applied version (SPI connected, as the caller) */
void
PsHistoryInsert(PsPlugin *plugin, const PsMigration *m, const char *applied_by,
				TimestampTz applied_at, double duration_ms)
{
	Oid argtypes[8] = {TEXTOID, TEXTOID,		TEXTOID, TEXTOID,
					   TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID};
	Datum args[8];
	char nulls[8] = "        ";
	int rc;

	args[0] = CStringGetTextDatum(plugin->name);
	args[1] = CStringGetTextDatum(m->version);
	args[2] = CStringGetTextDatum(m->checksum);
	args[3] = CStringGetTextDatum(m->up);
	if (m->down)
		args[4] = CStringGetTextDatum(m->down);
	else
		nulls[4] = 'n';
	args[5] = TimestampTzGetDatum(applied_at);
	args[6] = CStringGetTextDatum(applied_by);
	args[7] = Float8GetDatum(duration_ms);
	rc = SPI_execute_with_args(
		"INSERT INTO " PS_EXTENSION_SCHEMA "." PS_MIGRATIONS_TABLE
		" (plugin, version, checksum, up, down, applied_at, applied_by, "
		"duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		8, argtypes, args, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "recording migration %s failed: %s", m->version,
			 SPI_result_code_string(rc));
}

/* Forget a rolled-back version (SPI connected, as the caller) */
void
PsHistoryDelete(PsPlugin *plugin, const char *version)
{
	Oid argtypes[2] = {TEXTOID, TEXTOID};
	Datum args[2];
	int rc;

	args[0] = CStringGetTextDatum(plugin->name);
	args[1] = CStringGetTextDatum(version);
	rc = SPI_execute_with_args("DELETE FROM " PS_EXTENSION_SCHEMA
							   "." PS_MIGRATIONS_TABLE
							   " WHERE plugin OPERATOR(pg_catalog.=) $1"
							   " AND version OPERATOR(pg_catalog.=) $2",
							   2, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_DELETE || SPI_processed != 1)
		elog(ERROR, "forgetting migration %s failed: %s", version,
			 SPI_result_code_string(rc));
}
