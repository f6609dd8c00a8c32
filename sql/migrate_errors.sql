-- migrate_errors: every refusal of plugin_migrate(), as {"error":{...}}:
-- the request's shape and values are checked before anything runs, and a
-- failing statement is reported with its version, the statement,
-- PostgreSQL's SQLSTATE and the position in that statement.
SELECT name FROM plugin_storage.register_plugin('errs');
CREATE FUNCTION pg_temp.e(request jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(r -> 'error' ->> 'code' || ': ' || (r -> 'error' ->> 'message'), r::text)
	FROM plugin_storage.plugin_migrate('errs', request) r
$$;

-- The request's shape.
SELECT q AS request, pg_temp.e(q::jsonb) AS error FROM unnest(ARRAY[
	'[]', '"apply"', 'null', '{}', '{"action": null}', '{"action": 1}', '{"action": "APPLY"}',
	'{"action": "migrate"}', '{"action": "apply"}', '{"action": "apply", "migrations": null}',
	'{"action": "apply", "migrations": [], "extra": 1}', '{"action": "status", "dry_run": true}',
	'{"action": "status", "target": "1"}', '{"action": "rollback"}', '{"action": "rollback", "migrations": [], "target": null}',
	'{"action": "apply", "migrations": {}}', '{"action": "apply", "migrations": "001.up.sql"}',
	'{"action": "apply", "migrations": [1]}', '{"action": "apply", "migrations": [{}]}',
	'{"action": "apply", "migrations": [{"version": "1"}]}', '{"action": "apply", "migrations": [{"up": "SELECT 1"}]}',
	'{"action": "apply", "migrations": [{"version": "1", "up": "", "name": "x"}]}',
	'{"action": "apply", "migrations": [{"version": "1", "up": 1}]}',
	'{"action": "apply", "migrations": [{"version": "1", "up": null}]}',
	'{"action": "apply", "migrations": [{"version": "1", "up": "", "down": ["DROP TABLE t"]}]}',
	'{"action": "apply", "migrations": [{"version": "1", "up": "SELECT 1"}, {"version": "1", "up": "SELECT 2"}]}',
	'{"action": "apply", "migrations": [{"version": 7, "up": ""}, {"version": "7", "up": ""}]}',
	'{"action": "apply", "migrations": [], "dry_run": "yes"}',
	'{"action": "apply", "migrations": [], "lock_timeout_ms": -1}',
	'{"action": "apply", "migrations": [], "lock_timeout_ms": 1.5}',
	'{"action": "apply", "migrations": [], "lock_timeout_ms": 3600001}',
	'{"action": "apply", "migrations": [], "lock_timeout_ms": "5s"}',
	'{"action": "apply", "migrations": [], "target": "2"}',
	'{"action": "apply", "migrations": [{"version": "1", "up": ""}], "target": "01"}'
]) AS q;
-- An empty list of migrations is a valid no-op; null options count as absent.
SELECT plugin_storage.plugin_migrate('errs', '{"action": "apply", "migrations": [], "dry_run": null, "target": null, "applied_by": null}');

-- Hostile versions: 1 to 128 of 0-9 a-z A-Z _ . -, starting with a digit,
-- or a non-negative integer.  Refused wherever a version is given.
SELECT quote_nullable(v::text) AS version, pg_temp.e(jsonb_build_object('action', 'apply',
		'migrations', jsonb_build_array(jsonb_build_object('version', v, 'up', 'SELECT 1')))) AS as_version,
	pg_temp.e(jsonb_build_object('action', 'rollback', 'target', v)) AS as_target
	FROM unnest(ARRAY['""', '"abc"', '" 1"', '"1 "', '"1;drop table x"', '"1''"', '"../1"', '"1/2"',
		'"1\n"', '"1\t"', '"١"', '"1é"', to_jsonb('1' || repeat('x', 128)), '-1', '1.5', '1e40',
		'true', '{}', '[]', '[1]']::jsonb[]) AS v;
-- The longest version accepted, and integers as text.
SELECT jsonb_path_query_array(plugin_storage.plugin_migrate('errs', jsonb_build_object('action', 'apply',
	'dry_run', true, 'migrations', jsonb_build_array(jsonb_build_object('version', '1' || repeat('x', 127), 'up', ''),
		jsonb_build_object('version', 9223372036854775807, 'up', ''),
		jsonb_build_object('version', 3.0, 'up', '')))), '$.applied[*].version') AS applied;

-- Hostile or unknown plugins.
SELECT quote_nullable(p) AS plugin, r -> 'error' ->> 'code' AS code, r -> 'error' ->> 'message' AS message
	FROM unnest(ARRAY[NULL, '', 'Errs', 'errs ', '../errs', 'errs; drop table x', 'ps_errs', 'nobody']) AS p
	CROSS JOIN LATERAL plugin_storage.plugin_migrate(p, '{"action": "status"}') r;

-- applied_by: 1 to 64 bytes of printable text (default: session_user).
SELECT quote_literal(a) AS applied_by, pg_temp.e(jsonb_build_object('action', 'apply', 'migrations', '[]'::jsonb,
		'applied_by', a)) AS error
	FROM unnest(ARRAY['', E'bob\n', E'\t', repeat('x', 65), 'Zoë @ CI #42']) AS a;
SELECT pg_temp.e('{"action": "apply", "migrations": [], "applied_by": 7}') AS error;

-- A failing statement: code from its SQLSTATE, the version, the statement
-- (blanks and comments before it trimmed), the position in it.
SELECT jsonb_pretty(plugin_storage.plugin_migrate('errs', '{"action": "apply", "migrations": [
	{"version": "1", "up": "CREATE TABLE t (id int PRIMARY KEY, name text);"},
	{"version": "2", "up": "INSERT INTO t VALUES (1, ''a'');\n\n  -- then\n  INSERT INTO t (id, nmae) VALUES (2, ''b'');"}]}'));
-- Each SQLSTATE class maps to a code.
SELECT s AS up, r -> 'error' ->> 'code' AS code, r -> 'error' ->> 'sqlstate' AS sqlstate,
	r -> 'error' ->> 'message' AS message, r -> 'error' ->> 'position' AS pos
	FROM unnest(ARRAY[
		'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)',
		'CREATE TABLE t (id int); CREATE TABLE t (id int)',
		'CREATE TABLE t (id int); INSERT INTO t VALUES (''x'')',
		'CREATE TABLE t (id int NOT NULL); INSERT INTO t VALUES (NULL)',
		'SELECT 1/0', 'SELECT no_such_function()', 'DROP TABLE no_such_table',
		'CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN id int',
		'SELECT repeat(''x'', 1 << 30)::text || repeat(''x'', 1 << 30)',
		'DO $$ BEGIN RAISE EXCEPTION ''custom failure'' USING HINT = ''my hint''; END $$',
		'VACUUM',
		'COPY (SELECT 1) TO STDOUT'
	]) AS s
	CROSS JOIN LATERAL plugin_storage.plugin_migrate('errs', jsonb_build_object('action', 'apply',
		'migrations', jsonb_build_array(jsonb_build_object('version', '1', 'up', s)))) r;
SELECT plugin_storage.plugin_migrate('errs', '{"action": "apply", "migrations": [{"version": "1",
	"up": "DO $$ BEGIN RAISE EXCEPTION ''custom failure'' USING HINT = ''my hint'', DETAIL = ''my detail''; END $$"}]}');

-- Syntax errors are found before anything runs, even in a later version:
-- version 1 is not applied.  The position counts in the statement.
SELECT jsonb_pretty(plugin_storage.plugin_migrate('errs', '{"action": "apply", "migrations": [
	{"version": "1", "up": "CREATE TABLE t (id int);"},
	{"version": "2", "up": "CREATE TABLE u (id int);\n/* next */ SELEC 1;\nCREATE TABLE v (id int);"}]}'));
SELECT r -> 'error' ->> 'statement' AS statement, r -> 'error' ->> 'position' AS pos, r -> 'error' ->> 'message' AS message
	FROM unnest(ARRAY[
		'SELECT 1; SELECT (1; SELECT 2',
		'SELECT 1;;; SELECT ''unterminated',
		'CREATE TABLE x (a int,);',
		'SELECT 1 +',
		E'SELECT ''héhé'', ''ü'' FROM FROM x',
		'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT FROM FROM; END'
	]) AS s
	CROSS JOIN LATERAL plugin_storage.plugin_migrate('errs', jsonb_build_object('action', 'apply',
		'migrations', jsonb_build_array(jsonb_build_object('version', '1', 'up', s)))) r;
SELECT * FROM plugin_storage.migration_status('errs');

-- Transaction control and CONCURRENTLY are refused before anything runs:
-- a request's migrations already run in one transaction.
SELECT s AS up, r -> 'error' ->> 'code' AS code, r -> 'error' ->> 'statement' AS statement,
	r -> 'error' ->> 'hint' AS hint
	FROM unnest(ARRAY['BEGIN; CREATE TABLE t (id int); COMMIT;', 'CREATE TABLE t (id int); COMMIT',
		'START TRANSACTION', 'SAVEPOINT a', 'ROLLBACK TO SAVEPOINT a', 'RELEASE a', 'END',
		'PREPARE TRANSACTION ''x''', 'CREATE TABLE t (id int); CREATE INDEX CONCURRENTLY ON t (id)',
		'DROP INDEX CONCURRENTLY IF EXISTS i']) AS s
	CROSS JOIN LATERAL plugin_storage.plugin_migrate('errs', jsonb_build_object('action', 'apply',
		'migrations', jsonb_build_array(jsonb_build_object('version', '1', 'up', s)))) r;

-- Rollback: the target must be applied (or null or "0"); nothing to roll
-- back is a no-op.
SELECT plugin_storage.plugin_migrate('errs', '{"action": "apply", "migrations": [
	{"version": "1", "up": "CREATE TABLE t (id int)", "down": "DROP TABLE t"},
	{"version": "2", "up": "CREATE TABLE u (id int)", "down": "DROP TABLE u; SELEC 1"}]}') -> 'current' AS current;
SELECT plugin_storage.plugin_migrate('errs', '{"action": "rollback", "target": "3"}');
SELECT plugin_storage.plugin_migrate('errs', '{"action": "rollback", "target": "2"}');
-- A stored down script with a syntax error: refused before anything runs.
SELECT plugin_storage.plugin_migrate('errs', '{"action": "rollback", "target": "1"}');
SELECT version FROM plugin_storage.migration_status('errs');
SELECT to_regclass('ps_errs.u') AS u;

-- Migrations are cancelled after plugin_storage.migrate_timeout (code
-- timeout; nothing is left).
SET plugin_storage.migrate_timeout = '200ms';
SELECT plugin_storage.plugin_migrate('errs', '{"action": "apply", "migrations": [
	{"version": "3", "up": "CREATE TABLE slow (id int); SELECT pg_sleep(30)"}]}');
SELECT to_regclass('ps_errs.slow') AS slow;
RESET plugin_storage.migrate_timeout;
-- The caller's statement_timeout is off while migrations run (the bridge's
-- is 5 s), and on again for its next statement.
SET statement_timeout = '500ms';
SELECT plugin_storage.plugin_migrate('errs', '{"action": "apply", "migrations": [
	{"version": "3", "up": "CREATE TABLE slow (id int); SELECT pg_sleep(1)", "down": "DROP TABLE slow"}]}') -> 'applied' -> 0 ->> 'version' AS applied;
SELECT pg_sleep(1);
RESET statement_timeout;
-- Only a superuser may change the migrations' timeout.
CREATE ROLE regress_mig_user;
SET ROLE regress_mig_user;
SET plugin_storage.migrate_timeout = '1h';
SET plugin_storage.migrate_lock_timeout = '1s';
RESET ROLE;
DROP ROLE regress_mig_user;

-- Apply and rollback need READ COMMITTED (their history read must see the
-- latest commits); status does not.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT plugin_storage.plugin_migrate('errs', '{"action": "rollback", "target": null}');
SELECT plugin_storage.plugin_migrate('errs', '{"action": "status"}') -> 'current' AS current;
COMMIT;

-- The raising twin and the typed functions raise the same errors, with
-- the SQLSTATE of the code (or of PostgreSQL's error) and the migration as
-- context.
SELECT plugin_storage._plugin_migrate_raise('errs', '{"action": "apply", "migrations": [
	{"version": "4", "up": "CREATE TABLE w (id int);\nINSERT INTO w VALUES (''x'')"}]}');
SELECT plugin_storage.migrate_rollback('errs', '9');
CREATE FUNCTION pg_temp.sqlstate_of(plugin text, request jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM plugin_storage._plugin_migrate_raise(plugin, request);
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
SELECT pg_temp.sqlstate_of(p, q::jsonb) FROM (VALUES
	('errs', '{"action": "nope"}'),
	('nobody', '{"action": "status"}'),
	('errs', '{"action": "rollback", "target": "9"}'),
	('errs', '{"action": "apply", "migrations": [{"version": "1", "up": "changed"}]}'),
	('errs', '{"action": "apply", "migrations": [{"version": "5", "up": "CREATE TABLE public.x (id int)"}]}'),
	('errs', '{"action": "apply", "migrations": [{"version": "5", "up": "SELECT * FROM nowhere"}]}'),
	('errs', '{"action": "apply", "migrations": [{"version": "5", "up": "COMMIT"}]}')) AS t(p, q);

SELECT plugin_storage.unregister_plugin('errs', true);
