-- migrate_safety: a migration runs under its plugin's role, in a
-- security-restricted context, with the search path pinned to its schema.
-- It may create, alter and drop objects there and nowhere else: every
-- attempt to reach further fails with forbidden, leaves nothing behind,
-- and other plugins' data stays untouched and unread.
SELECT name FROM plugin_storage.register_plugin('alpha');
SELECT name FROM plugin_storage.register_plugin('beta');
SELECT plugin_storage.plugin_migrate('beta', '{"action": "apply", "migrations": [{"version": "001_secrets",
	"up": "CREATE TABLE secrets (v text); INSERT INTO secrets VALUES (''beta-secret'');"}]}') -> 'current' AS beta;
SELECT plugin_storage.plugin_kv('beta', 'set', '{"key": "k", "value": "beta-kv"}') -> 'ok' AS kv;
CREATE TABLE public.bystander (v int);
CREATE FUNCTION pg_temp.try(up text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT plugin_storage.plugin_migrate('alpha', jsonb_build_object('action', 'apply',
		'migrations', jsonb_build_array(jsonb_build_object('version', '900_escape', 'up', up))))
$$;

-- Unqualified names land in the plugin's own schema, even after SET
-- search_path inside the migration.
SELECT plugin_storage.plugin_migrate('alpha', '{"action": "apply", "migrations": [{"version": "001_mine",
	"up": "SET search_path = public, ps_beta; CREATE TABLE mine (id int); CREATE VIEW beta_view AS SELECT 1 AS one"}]}') -> 'current' AS current;
SELECT relname, relnamespace::regnamespace AS schema, pg_get_userbyid(relowner) AS owner
	FROM pg_class WHERE relname IN ('mine', 'beta_view');
-- Settings changed by a migration (SET, set_config) do not outlive it.
SHOW search_path;
SELECT plugin_storage.plugin_migrate('alpha', '{"action": "apply", "migrations": [{"version": "002_settings",
	"up": "SET work_mem = ''77MB''; SELECT set_config(''application_name'', ''evil'', false); SET SESSION statement_timeout = 1"}]}') -> 'current' AS current;
SHOW work_mem;
SHOW application_name;
SHOW statement_timeout;

-- Escape attempts: each is one migration, refused with forbidden (42501),
-- except ALTER SYSTEM, which cannot run in a transaction at all.
SELECT s AS up, r -> 'error' ->> 'code' AS code, r -> 'error' ->> 'sqlstate' AS sqlstate,
	r -> 'error' ->> 'message' AS message
	FROM unnest(ARRAY[
		-- other schemas: another plugin's, public, the extension's, the catalog
		'CREATE TABLE ps_beta.planted (id int)',
		'CREATE TABLE public.planted (id int)',
		'CREATE TABLE plugin_storage.planted (id int)',
		'CREATE TABLE pg_catalog.planted (id int)',
		'CREATE FUNCTION public.f() RETURNS int LANGUAGE sql RETURN 1',
		'CREATE VIEW leak AS SELECT * FROM ps_beta.secrets',
		'SELECT * FROM ps_beta.secrets',
		'INSERT INTO ps_beta.secrets VALUES (''planted'')',
		'ALTER TABLE ps_beta.secrets ADD COLUMN x int',
		'DROP TABLE ps_beta.secrets',
		'TRUNCATE ps_beta.secrets',
		'INSERT INTO public.bystander VALUES (1)',
		'SELECT * FROM plugin_storage.migrations',
		'DELETE FROM plugin_storage.migrations',
		'SELECT * FROM plugin_storage.plugins',
		'SELECT * FROM pg_authid',
		'CREATE SCHEMA evil',
		-- the plugin's own KV table belongs to plugin_storage
		'DROP TABLE _ps_kv',
		'ALTER TABLE _ps_kv ADD COLUMN x int',
		-- roles and privileges
		'SET ROLE postgres', 'RESET ROLE', 'SET SESSION AUTHORIZATION postgres',
		'SELECT set_config(''role'', ''postgres'', false)',
		'SELECT set_config(''session_authorization'', ''postgres'', true)',
		'DO $$ BEGIN EXECUTE ''SET ROLE postgres''; END $$',
		'CREATE TABLE mine2 (id int); GRANT SELECT ON mine2 TO PUBLIC',
		'CREATE TABLE mine2 (id int); ALTER TABLE mine2 OWNER TO ps_beta',
		'ALTER ROLE ps_alpha SUPERUSER', 'ALTER ROLE ps_alpha SET search_path = public',
		'CREATE ROLE evil', 'GRANT plugin_storage_bridge TO ps_alpha',
		-- the server
		'CREATE EXTENSION dblink', 'ALTER SYSTEM SET work_mem = ''1GB''',
		'COPY (SELECT 1) TO PROGRAM ''id''', 'SELECT pg_read_file(''/etc/passwd'')',
		'SELECT lo_import(''/etc/passwd'')', 'LOAD ''plugin_storage''',
		'CREATE TEMP TABLE tmp (id int)',
		'LOCK TABLE plugin_storage.workspace_kv',
		-- a deferred trigger would fire at commit, as the caller
		'CREATE TABLE d (id int); CREATE FUNCTION d_late() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NULL; END $f$; CREATE CONSTRAINT TRIGGER d_late AFTER INSERT ON d DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION d_late(); INSERT INTO d VALUES (1)',
		-- the entry points themselves
		'SELECT plugin_storage.plugin_migrate(''beta'', ''{"action": "status"}'')',
		'SELECT plugin_storage.plugin_kv(''beta'', ''get'', ''{"key": "k"}'')'
	]) AS s
	CROSS JOIN LATERAL pg_temp.try(s) r;
-- Nothing was left behind, nothing of beta's changed.
SELECT version FROM plugin_storage.migration_status('alpha');
SELECT relname FROM pg_class WHERE relname IN ('planted', 'leak', 'mine2', 'tmp', 'f') OR relnamespace = 'public'::regnamespace ORDER BY 1;
SELECT * FROM ps_beta.secrets;
SELECT count(*) AS bystanders FROM public.bystander;
SELECT plugin_storage.plugin_kv('beta', 'get', '{"key": "k"}') -> 'value' AS beta_kv;
SELECT current_user, session_user;
SELECT count(*) AS evil_roles FROM pg_roles WHERE rolname = 'evil';
SELECT rolsuper FROM pg_roles WHERE rolname = 'ps_alpha';

-- A migration's own operator and search path never reach the caller's
-- SQL (the history is written with the caller's settings back, and with
-- pg_catalog's operators): spy() would record who ran it.
SELECT plugin_storage.plugin_migrate('alpha', '{"action": "apply", "migrations": [
	{"version": "004_spy", "up": "CREATE TABLE spied (who text);\nCREATE FUNCTION spy(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO ps_alpha.spied VALUES (current_user); RETURN a OPERATOR(pg_catalog.=) b; END $f$;\nCREATE OPERATOR = (LEFTARG = text, RIGHTARG = text, FUNCTION = spy);", "down": ""},
	{"version": "005_path", "up": "SET search_path = ps_alpha, pg_catalog", "down": "SET search_path = ps_alpha, pg_catalog"}]}') -> 'current' AS current;
SELECT plugin_storage.plugin_migrate('alpha', '{"action": "rollback", "target": "004_spy"}') -> 'rolled_back' AS rolled_back;
SELECT * FROM ps_alpha.spied;
SHOW search_path;

-- Privileges: only the bridge's role may call the migration functions, and
-- only it writes the history (through them); plugin roles have no access.
CREATE ROLE regress_mig_bridge IN ROLE plugin_storage_bridge;
CREATE ROLE regress_mig_nobody;
SELECT p.proname, has_function_privilege('regress_mig_bridge', p.oid, 'EXECUTE') AS bridge,
	has_function_privilege('ps_alpha', p.oid, 'EXECUTE') AS plugin,
	has_function_privilege('regress_mig_nobody', p.oid, 'EXECUTE') AS public
	FROM pg_proc p WHERE p.pronamespace = 'plugin_storage'::regnamespace
		AND (p.proname LIKE '%migrat%') ORDER BY 1;
SELECT r AS role, has_table_privilege(r, 'plugin_storage.migrations', 'SELECT') AS sel,
	has_table_privilege(r, 'plugin_storage.migrations', 'INSERT') AS ins,
	has_table_privilege(r, 'plugin_storage.migrations', 'UPDATE') AS upd,
	has_table_privilege(r, 'plugin_storage.migrations', 'DELETE') AS del
	FROM unnest(ARRAY['regress_mig_bridge', 'ps_alpha', 'regress_mig_nobody']) r;
-- Tables a migration made are its plugin's alone.
SELECT has_table_privilege('ps_beta', 'ps_alpha.mine', 'SELECT') AS beta_reads_alpha,
	has_table_privilege('regress_mig_bridge', 'ps_alpha.mine', 'SELECT') AS bridge_reads_alpha;
SET ROLE ps_alpha;
SELECT plugin_storage.plugin_migrate('alpha', '{"action": "status"}');
SELECT * FROM plugin_storage.migrations;
RESET ROLE;
-- The bridge's role applies migrations; applied_by defaults to session_user.
SET ROLE regress_mig_bridge;
SELECT plugin_storage.plugin_migrate('alpha', '{"action": "apply", "migrations": [{"version": "003_by_bridge", "up": "CREATE TABLE t3 (id int)"}]}') -> 'current' AS current;
SELECT version, applied_by = session_user AS by_session_user FROM plugin_storage.migrations WHERE plugin = 'alpha' ORDER BY 1;
RESET ROLE;
DROP ROLE regress_mig_bridge;
DROP ROLE regress_mig_nobody;

DROP TABLE public.bystander;
SELECT plugin_storage.unregister_plugin(p, true) FROM unnest(ARRAY['alpha', 'beta']) p;
