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
 * Each row also says how its requests are scheduled (TierRun):
 *
 *	- kv and row requests are short, bounded index operations whose rows
 *	  the bridge can name (handler.c's lock order): they are pipelined and
 *	  group-committed together (TIER_RUN_BATCH).
 *	- sql requests run alone (TIER_RUN_ALONE): one per batch, each in its
 *	  own transaction.  Joining a group would be safe, since the extension
 *	  runs the plugin's statement in a subtransaction and answers its
 *	  failures as JSON, so a bad query never rolls a group back.  They stay
 *	  out for latency: a plugin's query may legitimately run for seconds
 *	  (up to its timeout), and in a group every reply waits for the group's
 *	  commit and every row the group wrote stays locked until then, so one
 *	  slow query would hold up every request batched with it.  A group is
 *	  also ordered by the rows its requests name, which the bridge cannot
 *	  know for a plugin's UPDATE, so groups could deadlock each other.  Most
 *	  sql requests are reads (read-only by default), for which a shared
 *	  commit saves nothing.  Alone, a slow query holds only its connection.
 *	- migrate requests run alone too, on their own deadline
 *	  (migrate_timeout_ms), and the queue never lets them take every
 *	  connection at once (TIER_RUN_LONG): a migration may run for minutes
 *	  and takes DDL locks, which must not join anybody's transaction.
 *	- inspect requests (db.inspect.<plugin>, plugin_storage.inspect(plugin,
 *	  exact_counts)) are the operator's view of a plugin; counting a
 *	  plugin's rows may take seconds, so they run alone too
 *	  (TIER_RUN_ALONE).  The NATS permissions (nats-config) keep plugins
 *	  from asking; {"exact_counts": false} in the request asks for the
 *	  planner's row estimates only.
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
		.run = TIER_RUN_BATCH,
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
		.run = TIER_RUN_BATCH,
	},
	{
		.name = "sql",
		.form = "db.sql.<plugin>.query",
		.ntokens = 4,
		.fixed_op = "query",
		.function = "plugin_storage.plugin_sql(text,jsonb)",
		.stmt = "plugin_storage_sql",
		.call = "SELECT plugin_storage.plugin_sql($1::text, $3::jsonb)",
		.run = TIER_RUN_ALONE,
	},
	{
		.name = "migrate",
		.form = "db.migrate.<plugin>",
		.ntokens = 3,
		.fixed_op = NULL,
		.function = "plugin_storage.plugin_migrate(text,jsonb)",
		.stmt = "plugin_storage_migrate",
		.call = "SELECT plugin_storage.plugin_migrate($1::text, $3::jsonb)",
		.run = TIER_RUN_LONG,
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
		.run = TIER_RUN_ALONE,
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

/*
 * Say how a request on this subject is scheduled, from its tier token
 * alone (the NATS callback's quick look; validation comes later).  A
 * subject naming no tier is scheduled as a batch request: it is answered
 * invalid_request when validated.
 */
TierRun
tier_run_of_subject(const char *subject)
{
	const char *tier;
	const char *end;
	const Tier *t;

	if (strncmp(subject, "db.", 3) != 0)
		return TIER_RUN_BATCH;
	tier = subject + 3;
	end = strchr(tier, '.');
	t = tier_lookup(tier, end ? (size_t) (end - tier) : strlen(tier));
	return t ? t->run : TIER_RUN_BATCH;
}
