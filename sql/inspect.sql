-- plugin_storage.inspect(plugin): what a plugin keeps in the database.
SET client_min_messages = warning;
SELECT name FROM plugin_storage.register_plugin('insp', 'insp-ws');
SELECT plugin_storage.plugin_row('insp', 'define', '{"table": "quotes", "columns": {"text": "text", "author": "text"}, "indexes": [["author"]]}') ->> 'table';
SELECT plugin_storage.plugin_row('insp', 'insert', '{"table": "quotes", "rows": [{"text": "a", "author": "x"}, {"text": "b", "author": "y"}, {"text": "c", "author": "x"}]}') -> 'ids';
SET ROLE "ps_insp";
CREATE VIEW "ps_insp".by_author AS SELECT author, count(*) FROM "ps_insp".quotes GROUP BY author;
RESET ROLE;
SELECT plugin_storage.plugin_migrate('insp', '{"action": "apply", "applied_by": "regress", "migrations": [{"version": "001_events", "up": "CREATE TABLE events (id bigint PRIMARY KEY, what text)", "down": "DROP TABLE events"}]}') -> 'applied' -> 0 ->> 'version' AS applied;
SELECT plugin_storage.plugin_kv('insp', 'mset', '{"items": [{"key": "a", "value": 1}, {"key": "b", "value": 2}, {"key": "c", "value": 3, "ttl": 60}]}') -> 'ok';
SELECT plugin_storage.plugin_kv('insp', 'set', '{"key": "cfg", "value": true, "collection": "settings"}') -> 'ok';
SELECT plugin_storage.plugin_kv('insp', 'set', '{"key": "shared", "value": 1, "scope": "workspace"}') -> 'ok';
-- Expired but not yet swept (held back from the sweeper by this transaction).
BEGIN;
UPDATE "ps_insp"._ps_kv SET expires_at = now() - interval '1 minute' WHERE key = 'c';

SELECT i ->> 'plugin' AS plugin, i ->> 'role' AS role, i ->> 'schema' AS schema,
	i ->> 'workspace' AS workspace, (i ->> 'created')::timestamptz <= now() AS created
	FROM plugin_storage.inspect('insp') AS i;
SELECT t ->> 'name' AS name, t ->> 'kind' AS kind, t -> 'rows' AS rows,
	(t ->> 'total_bytes')::bigint > 0 AS has_size, t -> 'indexes' AS indexes
	FROM plugin_storage.inspect('insp') AS i, jsonb_array_elements(i -> 'tables') AS t;
SELECT i -> 'kv' -> 'keys' AS keys, i -> 'kv' -> 'expired_unswept' AS expired_unswept,
	i -> 'kv' -> 'collections' AS collections, i -> 'workspace_kv' AS workspace_kv
	FROM plugin_storage.inspect('insp') AS i;
SELECT m ->> 'version' AS version, m ->> 'applied_by' AS applied_by,
	(m ->> 'applied_at')::timestamptz <= now() AS applied_at, (m ->> 'duration_ms')::float8 >= 0 AS timed
	FROM plugin_storage.inspect('insp') AS i, jsonb_array_elements(i -> 'migrations') AS m;
-- exact_counts => false: estimates only, no table is read.
SELECT t ->> 'name' AS name, t ? 'rows_estimate' AS estimated, t -> 'rows' AS rows
	FROM plugin_storage.inspect('insp', exact_counts => false) AS i, jsonb_array_elements(i -> 'tables') AS t;
COMMIT;

-- Counting runs as the plugin: a row-level security policy on the plugin's
-- table sees the plugin's role, never the caller's.
SET ROLE "ps_insp";
CREATE FUNCTION "ps_insp".who() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'policy evaluated as %', current_user;
	RETURN true;
END $$;
ALTER TABLE "ps_insp".quotes ENABLE ROW LEVEL SECURITY;
ALTER TABLE "ps_insp".quotes FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON "ps_insp".quotes USING ("ps_insp".who());
RESET ROLE;
SET client_min_messages = notice;
SELECT t -> 'rows' AS rows FROM plugin_storage.inspect('insp') AS i, jsonb_array_elements(i -> 'tables') AS t
	WHERE t ->> 'name' = 'quotes';
SET client_min_messages = warning;

-- Errors.
SELECT plugin_storage.inspect('nobody');
SELECT plugin_storage.inspect('Bad Name');
SELECT plugin_storage.inspect(NULL);
-- Who may call it: the bridge and pg_monitor, not plugins or PUBLIC.
SELECT r AS role, has_function_privilege(r, 'plugin_storage.inspect(text, boolean)', 'EXECUTE') AS may_inspect
	FROM unnest(ARRAY['plugin_storage_bridge', 'pg_monitor', 'ps_insp', 'public']) AS r;

SELECT plugin_storage.unregister_plugin('insp', true);
