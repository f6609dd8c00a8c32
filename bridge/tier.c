/*
 * tier.c
 *		The storage tiers the bridge serves, and the SQL each one calls.
 *
 * One row per tier: the subject's shape and the extension function that
 * serves it.  Adding a tier is adding a row.  Every call is prepared with
 * the same three parameter types (text plugin, text op, jsonb request);
 * tiers without an op in the subject simply leave $2 out of their SQL.
 *
 * A tier is served on a connection only if its function exists there: the
 * pool probes each row's `function` with to_regprocedure() when it opens a
 * connection (and again on SIGHUP), so the row, sql and migrate tiers turn
 * on by themselves once the extension provides them.  Until then their
 * requests get invalid_request "unknown tier".
 *
 * The inspect tier (db.inspect.<plugin>, plugin_storage.inspect(plugin,
 * exact_counts)) is the operator's view of a plugin: it runs like the
 * others, and the NATS permissions (nats-config) keep plugins from asking.
 * {"exact_counts": false} in the request asks for the planner's row
 * estimates only.
 */
#include <string.h>

#include "tier.h"

const Tier tiers[TIER_COUNT] = {
	{
		.name = "kv",
		.form = "db.kv.<plugin>.<op>",
		.ntokens = 4,
		.fixed_op = NULL,
		.function = "plugin_storage.plugin_kv(text,text,jsonb)",
		.stmt = "plugin_storage_kv",
		.call =
			"SELECT plugin_storage.plugin_kv($1::text, $2::text, $3::jsonb)",
	},
	{
		.name = "row",
		.form = "db.row.<plugin>.<op>",
		.ntokens = 4,
		.fixed_op = NULL,
		.function = "plugin_storage.plugin_row(text,text,jsonb)",
		.stmt = "plugin_storage_row",
		.call =
			"SELECT plugin_storage.plugin_row($1::text, $2::text, $3::jsonb)",
	},
	{
		.name = "sql",
		.form = "db.sql.<plugin>.query",
		.ntokens = 4,
		.fixed_op = "query",
		.function = "plugin_storage.plugin_sql(text,jsonb)",
		.stmt = "plugin_storage_sql",
		.call = "SELECT plugin_storage.plugin_sql($1::text, $3::jsonb)",
	},
	{
		.name = "migrate",
		.form = "db.migrate.<plugin>",
		.ntokens = 3,
		.fixed_op = NULL,
		.function = "plugin_storage.plugin_migrate(text,jsonb)",
		.stmt = "plugin_storage_migrate",
		.call = "SELECT plugin_storage.plugin_migrate($1::text, $3::jsonb)",
	},
	{
		/* the operator's view of a plugin; nats-config grants it to the
		 * operator user only */
		.name = "inspect",
		.form = "db.inspect.<plugin>",
		.ntokens = 3,
		.fixed_op = NULL,
		.function = "plugin_storage.inspect(text,boolean)",
		.stmt = "plugin_storage_inspect",
		.call = "SELECT plugin_storage.inspect($1::text, "
				"coalesce(($3::jsonb -> 'exact_counts')::boolean, true))",
	},
};

/* Find the tier named name[0..len), or NULL */
const Tier *
tier_lookup(const char *name, size_t len)
{
	for (int i = 0; i < TIER_COUNT; i++)
	{
		if (strlen(tiers[i].name) == len &&
			memcmp(tiers[i].name, name, len) == 0)
			return &tiers[i];
	}
	return NULL;
}

/* Return a tier's position in the table */
int
tier_index(const Tier *tier)
{
	return (int) (tier - tiers);
}
