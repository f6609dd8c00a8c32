-- The sandbox: SQL written by a plugin (the SQL tier and migrations) cannot
-- escape its role and schema.  Plugin sbx-evil tries every known way out,
-- once through plugin_sql and once inside a migration; each attempt must fail
-- with a clear error, and sbx-victim's data must be unchanged and unread.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT name FROM plugin_storage.register_plugin('sbx-victim');
SELECT name FROM plugin_storage.register_plugin('sbx-evil');

-- The victim's data: a table made by a migration, a row and a KV key.
SELECT plugin_storage.plugin_migrate('sbx-victim', $j${"action": "apply", "migrations": [
	{"version": "001_secrets", "up": "CREATE TABLE secrets (id int PRIMARY KEY, s text NOT NULL); INSERT INTO secrets VALUES (1, 'top secret');"}]}$j$) -> 'applied' -> 0 ->> 'version' AS applied;
SELECT plugin_storage.plugin_kv('sbx-victim', 'set', '{"key": "k", "value": "kv secret"}') ->> 'revision' AS revision;
-- The attacker's own table, so that legitimate work is seen to work.
SELECT plugin_storage.plugin_migrate('sbx-evil', $j${"action": "apply", "migrations": [
	{"version": "001_mine", "up": "CREATE TABLE mine (id int PRIMARY KEY, note text)"}]}$j$) -> 'applied' -> 0 ->> 'version' AS applied;

-- How often the victim's table was scanned, to show later that nothing read it.
SET stats_fetch_consistency = none;
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE victim_scans AS
	SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS scans
	FROM pg_stat_user_tables WHERE relid = '"ps_sbx-victim".secrets'::regclass;

-- Show the outcome of one attempt as "code: message" (or "ok ...").
CREATE FUNCTION pg_temp.via_sql(q text, allow_write boolean DEFAULT false) RETURNS text
	LANGUAGE sql AS $$
	SELECT coalesce((r -> 'error' ->> 'code') || ': ' || (r -> 'error' ->> 'message'),
					'ok: ' || (r -> 'rows')::text)
	FROM plugin_storage.plugin_sql('sbx-evil', jsonb_build_object('query', q,
		'allow_write', allow_write)) AS r $$;
CREATE FUNCTION pg_temp.via_migration(version text, up text) RETURNS text
	LANGUAGE sql AS $$
	SELECT coalesce((r -> 'error' ->> 'code') || ': ' || (r -> 'error' ->> 'message'),
					'ok: applied ' || (r -> 'applied' -> 0 ->> 'version'))
	FROM plugin_storage.plugin_migrate('sbx-evil', jsonb_build_object('action', 'apply',
		'migrations', jsonb_build_array(jsonb_build_object('version', version, 'up', up)))) AS r $$;

-- Legitimate work succeeds in both.
SELECT pg_temp.via_sql('INSERT INTO mine VALUES (1, ''hello'') RETURNING note', true) AS own_write;
SELECT pg_temp.via_sql('SELECT current_user, current_schemas(true)') AS who;

-- Every attempt, through plugin_sql and inside a migration.
CREATE TEMP TABLE attempts (n serial, what text, stmt text);
INSERT INTO attempts (what, stmt) VALUES
	('RESET ROLE', 'RESET ROLE'),
	('SET ROLE', 'SET ROLE postgres'),
	('SET SESSION AUTHORIZATION', 'SET SESSION AUTHORIZATION postgres'),
	('set_config role', 'SELECT set_config(''role'', ''postgres'', false)'),
	('set_config session_authorization', 'SELECT set_config(''session_authorization'', ''postgres'', false)'),
	('DO block', 'DO $$BEGIN EXECUTE ''SET ROLE postgres''; END$$'),
	('DISCARD ALL', 'DISCARD ALL'),
	('COPY TO PROGRAM', 'COPY (SELECT 1) TO PROGRAM ''touch /tmp/plugin_storage_sandbox_escape'''),
	('pg_read_file', 'SELECT pg_read_file(''/etc/passwd'')'),
	('lo_import', 'SELECT lo_import(''/etc/passwd'')'),
	('dblink', 'SELECT * FROM public.dblink(''dbname=contrib_regression'', ''SELECT s FROM "ps_sbx-victim".secrets'') AS t(s text)'),
	('ALTER ROLE self', 'ALTER ROLE "ps_sbx-evil" SET work_mem = ''1GB'''),
	('ALTER ROLE superuser', 'ALTER ROLE postgres NOSUPERUSER'),
	('GRANT own table', 'GRANT SELECT ON mine TO PUBLIC'),
	('GRANT role', 'GRANT "ps_sbx-victim" TO "ps_sbx-evil"'),
	('ALTER OWNER', 'ALTER TABLE mine OWNER TO plugin_storage_plugin'),
	('CREATE EXTENSION', 'CREATE EXTENSION pgcrypto'),
	('ALTER SYSTEM', 'ALTER SYSTEM SET work_mem = ''1GB'''),
	('read other plugin', 'SELECT s FROM "ps_sbx-victim".secrets'),
	('write other plugin', 'INSERT INTO "ps_sbx-victim".secrets VALUES (2, ''planted'')'),
	('create in other schema', 'CREATE TABLE "ps_sbx-victim".planted (x int)'),
	('create in public', 'CREATE TABLE public.planted (x int)'),
	('read other KV', 'SELECT value FROM "ps_sbx-victim"._ps_kv'),
	('read pg_authid', 'SELECT rolname, rolpassword FROM pg_authid'),
	('read the registry', 'SELECT * FROM plugin_storage.plugins'),
	('entry point kv', 'SELECT plugin_storage.plugin_kv(''sbx-victim'', ''get'', ''{"key": "k"}'')'),
	('entry point sql', 'SELECT plugin_storage.plugin_sql(''sbx-victim'', ''{"query": "SELECT * FROM secrets"}'')'),
	('entry point migrate', 'SELECT plugin_storage.plugin_migrate(''sbx-victim'', ''{"action": "status"}'')'),
	('raise own limits', 'SELECT set_config(''plugin_storage.sql_max_rows'', ''100000000'', false)'),
	('LOCK shared table', 'LOCK TABLE plugin_storage.workspace_kv IN ACCESS EXCLUSIVE MODE'),
	('DEALLOCATE', 'DEALLOCATE ALL'),
	('temporary table', 'CREATE TEMP TABLE t (x int)'),
	('LISTEN', 'LISTEN sbx');

SELECT n, what, pg_temp.via_sql(stmt, true) AS through_plugin_sql FROM attempts ORDER BY n;
-- A multi-statement string is refused by plugin_sql (one statement only);
-- a migration is a script, so there it is simply more statements.
SELECT pg_temp.via_sql('SELECT 1; DROP TABLE mine', true) AS multi_statement;
SELECT pg_temp.via_sql('SELECT 1; SELECT s FROM "ps_sbx-victim".secrets') AS multi_statement_read;
-- Inside a migration, each attempt as the one statement of its own version.
SELECT n, what, pg_temp.via_migration(900 + n || '_attempt', stmt) AS inside_a_migration FROM attempts ORDER BY n;
-- ... or hidden after a harmless statement of the same script: the whole
-- migration fails and rolls back, the harmless part included.
SELECT pg_temp.via_migration('950_mixed', 'CREATE TABLE harmless (x int); GRANT SELECT ON harmless TO PUBLIC') AS mixed;
SELECT to_regclass('"ps_sbx-evil".harmless') AS harmless_left;

-- Escapes wrapped in the plugin's own view and functions, made by a
-- migration (creating them is allowed) and then used through plugin_sql.
SELECT pg_temp.via_migration('960_wrappers', $s$
	CREATE VIEW escape_view AS SELECT set_config('role', 'postgres', false) AS r;
	CREATE FUNCTION escape_fn() RETURNS text LANGUAGE sql AS 'SELECT set_config(''session_authorization'', ''postgres'', false)';
	CREATE FUNCTION escape_definer() RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS 'BEGIN RESET ROLE; RETURN current_user; END';
$s$) AS made_wrappers;
-- A SQL function reading another plugin's table is refused when created;
-- a PL/pgSQL one is created (its body is checked only when it runs).
SELECT pg_temp.via_migration('961_peek', $s$
	CREATE FUNCTION peek() RETURNS SETOF text LANGUAGE sql AS 'SELECT s FROM "ps_sbx-victim".secrets';
$s$) AS sql_peek;
SELECT pg_temp.via_migration('962_peek', $s$
	CREATE FUNCTION peek() RETURNS SETOF text LANGUAGE plpgsql AS 'BEGIN RETURN QUERY SELECT s FROM "ps_sbx-victim".secrets; END';
$s$) AS plpgsql_peek;
SELECT pg_temp.via_sql('SELECT * FROM escape_view') AS view_wrapper;
SELECT pg_temp.via_sql('SELECT escape_fn()') AS function_wrapper;
SELECT pg_temp.via_sql('SELECT escape_definer()') AS security_definer_wrapper;
SELECT pg_temp.via_sql('SELECT * FROM peek()') AS reading_wrapper;

-- Settings changed by plugin SQL do not outlive the request.
SHOW work_mem;
SELECT pg_temp.via_sql('SELECT set_config(''work_mem'', ''77MB'', false)') AS session_set;
SHOW work_mem;

-- Nothing escaped: the attempts left nothing behind ...
SELECT string_agg(version, ', ' ORDER BY version) AS migrations_recorded FROM plugin_storage.migrations WHERE plugin = 'sbx-evil';
SELECT pg_temp.via_sql('SELECT id, note FROM mine') AS attacker_rows;
SELECT to_regclass('public.planted') AS public_planted, to_regclass('"ps_sbx-victim".planted') AS victim_planted;
SELECT has_table_privilege('ps_sbx-victim', '"ps_sbx-evil".mine', 'SELECT') AS victim_granted,
	has_table_privilege('public', '"ps_sbx-evil".mine', 'SELECT') AS public_granted;
SELECT r.rolsuper, r.rolconfig, pg_has_role('ps_sbx-evil', 'ps_sbx-victim', 'MEMBER') AS member_of_victim
	FROM pg_roles r WHERE r.rolname = 'ps_sbx-evil';
-- ... the victim's table was never read (checked before we read it here) ...
SELECT pg_stat_force_next_flush();
SELECT (SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables
		WHERE relid = '"ps_sbx-victim".secrets'::regclass) = scans AS victim_table_unread
	FROM victim_scans;

-- ... and its data is unchanged.
SELECT * FROM "ps_sbx-victim".secrets ORDER BY id;
SELECT plugin_storage.plugin_kv('sbx-victim', 'get', '{"key": "k"}') -> 'value' AS victim_kv;
SELECT plugin_storage.unregister_plugin('sbx-victim', true), plugin_storage.unregister_plugin('sbx-evil', true);
