-- migrate: versioned SQL migrations of a plugin's schema.  A request's
-- migrations are applied in version order, all in one transaction, under
-- the plugin's role; applied versions are skipped, changed ones refused;
-- rollback runs the stored down scripts, newest first.
SELECT name FROM plugin_storage.register_plugin('quotes');
SELECT name FROM plugin_storage.register_plugin('fresh');

-- m(plugin, request): plugin_migrate's reply without timings (which vary).
CREATE FUNCTION pg_temp.m(plugin text, request jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN jsonb_typeof(r -> 'applied') = 'array'
		THEN jsonb_set(r, '{applied}', coalesce((SELECT jsonb_agg(a - 'duration_ms' - 'applied_at' - 'checksum' ORDER BY i)
			FROM jsonb_array_elements(r -> 'applied') WITH ORDINALITY AS t(a, i)), '[]'))
		ELSE r END
	FROM plugin_storage.plugin_migrate(plugin, request) r
$$;

-- Twelve migrations in the CLI's NNN_name form, as a plugin would ship
-- them: tables, an index, a view, a sequence, a type, functions (one with
-- a BEGIN ATOMIC body, one in PL/pgSQL), a trigger, data, a constraint.
CREATE TEMP TABLE quote_migrations (version text, up text, down text);
INSERT INTO quote_migrations VALUES
('001_create_quotes', $m$
-- The quotes themselves.
CREATE TABLE quotes (
	id bigserial PRIMARY KEY,
	text text NOT NULL,
	author text
);$m$, 'DROP TABLE quotes;'),
('002_index_author', 'CREATE INDEX quotes_author_idx ON quotes (author);', 'DROP INDEX quotes_author_idx;'),
('003_add_tags', $m$ALTER TABLE quotes ADD COLUMN tags text[] NOT NULL DEFAULT '{}';$m$,
	'ALTER TABLE quotes DROP COLUMN tags;'),
('004_create_votes', $m$CREATE TABLE votes (
	quote_id bigint NOT NULL REFERENCES quotes ON DELETE CASCADE,
	voter text NOT NULL,
	PRIMARY KEY (quote_id, voter)
);$m$, 'DROP TABLE votes;'),
('005_view_top', $m$CREATE VIEW top_quotes AS
	SELECT q.id, q.text, count(v.voter) AS votes
	FROM quotes q LEFT JOIN votes v ON v.quote_id = q.id GROUP BY q.id;$m$, 'DROP VIEW top_quotes;'),
('006_ticket_seq', 'CREATE SEQUENCE ticket_seq START 100;', 'DROP SEQUENCE ticket_seq;'),
('007_mood', $m$CREATE TYPE mood AS ENUM ('happy', 'sad');
ALTER TABLE quotes ADD COLUMN mood mood;$m$, 'ALTER TABLE quotes DROP COLUMN mood; DROP TYPE mood;'),
('008_quote_count', $m$CREATE FUNCTION quote_count() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT count(*) FROM quotes;
END;$m$, 'DROP FUNCTION quote_count();'),
('009_seed', $m$INSERT INTO quotes (text, author) VALUES
	('Simplicity is prerequisite for reliability.', 'Dijkstra'),
	('Premature optimization is the root of all evil.', 'Knuth');$m$,
	$m$DELETE FROM quotes WHERE author IN ('Dijkstra', 'Knuth');$m$),
('010_not_blank', $m$ALTER TABLE quotes ADD CONSTRAINT text_not_blank CHECK (btrim(text) <> '');$m$,
	'ALTER TABLE quotes DROP CONSTRAINT text_not_blank;'),
('011_rename_voter', 'ALTER TABLE votes RENAME COLUMN voter TO voter_id;',
	'ALTER TABLE votes RENAME COLUMN voter_id TO voter;'),
('012_touch', $m$ALTER TABLE quotes ADD COLUMN updated_at timestamptz;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
	NEW.updated_at := now();  -- semicolons inside a body are not statement ends
	RETURN NEW;
END
$f$;
/* a comment between statements */
CREATE TRIGGER quotes_touch BEFORE UPDATE ON quotes FOR EACH ROW EXECUTE FUNCTION touch();$m$,
	'DROP TRIGGER quotes_touch ON quotes; DROP FUNCTION touch(); ALTER TABLE quotes DROP COLUMN updated_at;');

-- req(action, extra): a request carrying all twelve, newest first (the
-- order given does not matter: they are sorted by version).
CREATE FUNCTION pg_temp.req(action text, extra jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('action', action, 'migrations',
		jsonb_agg(jsonb_build_object('version', version, 'up', up, 'down', down) ORDER BY version DESC)) || extra
	FROM quote_migrations
$$;

-- Nothing applied yet.
SELECT pg_temp.m('quotes', '{"action": "status"}');

-- Apply: all twelve in version order, with their statement counts (the
-- BEGIN ATOMIC and $f$ bodies are one statement each).
SELECT jsonb_pretty(pg_temp.m('quotes', pg_temp.req('apply', '{"applied_by": "ci-pipeline"}')));

-- The objects are in the plugin's schema, owned by the plugin's role.
SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner
	FROM pg_class c WHERE c.relnamespace = 'ps_quotes'::regnamespace ORDER BY 1;
SELECT p.proname, pg_get_userbyid(p.proowner) AS owner
	FROM pg_proc p WHERE p.pronamespace = 'ps_quotes'::regnamespace ORDER BY 1;
-- The history: one row per version, the sha256 of its up script, who.
SELECT version, checksum = encode(sha256(convert_to(up, 'UTF8')), 'hex') AS sha256_of_up,
	applied_by, down IS NOT NULL AS has_down, duration_ms >= 0 AS timed
	FROM plugin_storage.migrations WHERE plugin = 'quotes' ORDER BY version;
CREATE TEMP TABLE first_apply AS
	SELECT version, applied_at FROM plugin_storage.migrations WHERE plugin = 'quotes';

-- The same request again is a no-op: everything skipped, nothing rewritten.
SELECT pg_temp.m('quotes', pg_temp.req('apply'));
SELECT count(*) AS unchanged FROM plugin_storage.migrations h
	JOIN first_apply f USING (version, applied_at) WHERE h.plugin = 'quotes';

-- Tables made by migrations work with the row tier, trigger and all.
SELECT plugin_storage.plugin_row('quotes', 'insert', '{"table": "quotes",
	"data": {"text": "Talk is cheap.", "author": "Torvalds", "tags": ["code"]}}') -> 'id' AS id;
SELECT plugin_storage.plugin_row('quotes', 'insert', '{"table": "votes", "data": {"quote_id": 3, "voter_id": "ann"}}') ? 'id' AS voted;
SELECT plugin_storage.plugin_row('quotes', 'update', '{"table": "quotes", "filters": {"id": 3}, "operations": {"mood": "happy"}}') -> 'updated' AS updated;
SELECT plugin_storage.plugin_row('quotes', 'search', '{"table": "quotes", "sort": "id", "fields": ["id", "author", "tags", "mood"]}') -> 'rows';
SELECT plugin_storage.plugin_row('quotes', 'search', '{"table": "quotes", "filters": {"updated_at": {"$exists": true}}, "fields": "id"}') -> 'rows' AS touched;
SELECT plugin_storage.plugin_row('quotes', 'describe', '{"table": "quotes"}') -> 'columns' AS columns;

-- Status, typed, for DBAs (name is the version without its number).
SELECT version, name, applied_by, has_down, length(checksum) AS checksum_len
	FROM plugin_storage.migration_status('quotes');

-- Roll back to 006: the down scripts of 012 .. 007 run, newest first.
SELECT jsonb_pretty(pg_temp.m('quotes', '{"action": "rollback", "target": "006_ticket_seq"}'));
SELECT version FROM plugin_storage.migration_status('quotes');
SELECT to_regtype('ps_quotes.mood') AS mood, to_regprocedure('ps_quotes.quote_count()') AS quote_count,
	to_regprocedure('ps_quotes.touch()') AS touch,
	(SELECT count(*) FROM pg_attribute WHERE attrelid = 'ps_quotes.quotes'::regclass
		AND attname IN ('mood', 'updated_at') AND NOT attisdropped) AS later_columns;
-- 009's down removed its seed rows; the row inserted above stays.
SELECT id, author FROM ps_quotes.quotes ORDER BY id;

-- Re-apply: only 007 .. 012 run again.
SELECT pg_temp.m('quotes', pg_temp.req('apply')) - 'warnings';

-- Roll back everything (target null), then apply it all again.
SELECT pg_temp.m('quotes', '{"action": "rollback", "target": null}') -> 'rolled_back' AS rolled_back;
SELECT relname FROM pg_class WHERE relnamespace = 'ps_quotes'::regnamespace ORDER BY 1;
SELECT count(*) AS history FROM plugin_storage.migrations WHERE plugin = 'quotes';
SELECT pg_temp.m('quotes', pg_temp.req('apply')) #> '{applied}' AS applied;

-- A failing migration in the middle: 014 fails, so 013 and 015 are not
-- applied either, and the error names the version and the statement.
INSERT INTO quote_migrations VALUES
	('013_authors', 'CREATE TABLE authors (name text PRIMARY KEY);', 'DROP TABLE authors;'),
	('014_bad', 'CREATE TABLE a14 (id int);
INSERT INTO a14 SELECT count(*) FROM no_such_table;', 'DROP TABLE a14;'),
	('015_later', 'CREATE TABLE a15 (id int);', 'DROP TABLE a15;');
SELECT jsonb_pretty(pg_temp.m('quotes', pg_temp.req('apply')));
SELECT to_regclass('ps_quotes.authors') AS authors, to_regclass('ps_quotes.a14') AS a14,
	to_regclass('ps_quotes.a15') AS a15;
SELECT count(*) AS history FROM plugin_storage.migrations WHERE plugin = 'quotes';
-- On a plugin with nothing applied yet, nothing at all is left behind.
SELECT pg_temp.m('fresh', pg_temp.req('apply')) -> 'error' ->> 'version' AS failed;
SELECT relname FROM pg_class WHERE relnamespace = 'ps_fresh'::regnamespace ORDER BY 1;
SELECT count(*) AS history FROM plugin_storage.migrations WHERE plugin = 'fresh';
DELETE FROM quote_migrations WHERE version = '014_bad';

-- A changed up script of an applied version is refused (conflict), and
-- nothing of the request is applied, not even the new 013.
UPDATE quote_migrations SET up = up || ' -- edited' WHERE version = '003_add_tags';
SELECT jsonb_pretty(pg_temp.m('quotes', pg_temp.req('apply')));
SELECT to_regclass('ps_quotes.authors') AS authors;
UPDATE quote_migrations SET up = left(up, -10) WHERE version = '003_add_tags';
-- Status with the migrations shows what is pending and what changed.
UPDATE quote_migrations SET up = 'CREATE INDEX ON votes (voter_id);' WHERE version = '011_rename_voter';
SELECT pg_temp.m('quotes', pg_temp.req('status')) - 'applied';
UPDATE quote_migrations SET up = 'ALTER TABLE votes RENAME COLUMN voter TO voter_id;' WHERE version = '011_rename_voter';

-- dry_run runs everything and rolls it back: the same reply, dry_run true.
SELECT pg_temp.m('quotes', pg_temp.req('apply', '{"dry_run": true}'));
SELECT to_regclass('ps_quotes.authors') AS authors, to_regclass('ps_quotes.a15') AS a15;
SELECT count(*) AS history FROM plugin_storage.migrations WHERE plugin = 'quotes';
SELECT pg_temp.m('quotes', '{"action": "rollback", "target": "001_create_quotes", "dry_run": true}') - 'warnings';
SELECT count(*) AS history, to_regclass('ps_quotes.votes') AS votes
	FROM plugin_storage.migrations WHERE plugin = 'quotes';

-- target: apply up to and including 013; 015 stays pending.
SELECT pg_temp.m('quotes', pg_temp.req('apply', '{"target": "013_authors"}'));
SELECT pg_temp.m('quotes', pg_temp.req('apply', '{"target": "013_authors"}')) -> 'applied' AS again;
SELECT pg_temp.m('quotes', pg_temp.req('apply')) -> 'applied' AS rest;

-- Warnings: destructive statements, found in the parse trees (here in a
-- dry run, so the data stays).
SELECT jsonb_pretty(pg_temp.m('quotes', '{"action": "apply", "dry_run": true, "migrations": [
	{"version": "016_cleanup", "up": "DROP VIEW top_quotes CASCADE; DROP TABLE votes; TRUNCATE quotes CASCADE;\nALTER TABLE quotes ADD COLUMN x int, DROP COLUMN tags;\nDROP SEQUENCE ticket_seq; CREATE TABLE fine (id int); DROP INDEX quotes_author_idx;"},
	{"version": "017_schema", "up": "DROP SCHEMA IF EXISTS not_there"}]}') -> 'warnings');
SELECT count(*) AS quotes_kept FROM ps_quotes.quotes;

-- A version older than the latest applied one that was never applied (a
-- migration merged late) is applied too, with an out_of_order warning.
INSERT INTO quote_migrations VALUES ('009_5_late', 'CREATE TABLE late (id int);', 'DROP TABLE late;');
SELECT pg_temp.m('quotes', pg_temp.req('apply'));
-- Rollback follows version order, not the order of applying.
SELECT pg_temp.m('quotes', '{"action": "rollback", "target": "009_seed"}') -> 'rolled_back' AS rolled_back;

-- Version order: leading digits as numbers, then the whole text bytewise;
-- integers are their text.  Scripts may hold no statement at all.
SELECT pg_temp.m('fresh', '{"action": "apply", "migrations": [
	{"version": 10, "up": "", "down": ""}, {"version": "2", "up": "-- nothing yet", "down": ""},
	{"version": "9_b", "up": "SELECT 1"}, {"version": "9_a", "up": "", "down": ""},
	{"version": "0010_x", "up": "", "down": ""}, {"version": "1", "up": "", "down": ""},
	{"version": "10.1", "up": "", "down": ""}, {"version": "100", "up": "", "down": ""}]}') -> 'applied';
-- A version without a down script cannot be rolled back: nothing is.
SELECT pg_temp.m('fresh', '{"action": "rollback", "target": "2"}');
SELECT count(*) AS still_applied FROM plugin_storage.migration_status('fresh');
SELECT pg_temp.m('fresh', '{"action": "rollback", "target": "9_b"}') - 'warnings';
-- Target "0" means everything: it comes before every other version.
SELECT pg_temp.m('fresh', '{"action": "rollback", "target": "0"}') -> 'error' ->> 'version' AS no_down;
-- (A DBA may edit the history by hand: here, forget 9_b.)
DELETE FROM plugin_storage.migrations WHERE plugin = 'fresh' AND version = '9_b';
SELECT pg_temp.m('fresh', '{"action": "rollback", "target": 0}') - 'warnings';

-- The typed functions for DBAs raise errors instead of answering them.
SELECT plugin_storage.migrate_apply('fresh', '[{"version": "1", "up": "CREATE TABLE t1 (id int)", "down": "DROP TABLE t1"},
	{"version": "2", "up": "CREATE TABLE t2 (id int)", "down": "DROP TABLE t2"}]', dry_run => true) -> 'applied' -> 1 ->> 'version' AS dry;
SELECT plugin_storage.migrate_apply('fresh', '[{"version": "1", "up": "CREATE TABLE t1 (id int)", "down": "DROP TABLE t1"},
	{"version": "2", "up": "CREATE TABLE t2 (id int)", "down": "DROP TABLE t2"}]', target => '1') -> 'current' AS current;
SELECT plugin_storage.migrate_apply('fresh', '[{"version": "1", "up": "CREATE TABLE t1 (id bigint)"}]');
SELECT plugin_storage.migrate_apply('fresh', '[{"version": "3", "up": "CREATE TABLE t3 (id int);\n  SELECT * FROM t4"}]');
SELECT plugin_storage.migrate_rollback('fresh', 'x');
SELECT plugin_storage.migrate_rollback('fresh', NULL) - 'warnings';
SELECT count(*) AS applied FROM plugin_storage.migration_status('fresh');

-- Unregistering a plugin forgets its history.
SELECT plugin_storage.unregister_plugin(p, true) FROM unnest(ARRAY['quotes', 'fresh']) p;
SELECT count(*) AS history FROM plugin_storage.migrations;
