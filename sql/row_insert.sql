-- row_insert: insert (one row or many, atomically), upsert and select by
-- primary key.  Replies leave out created_at and updated_at, which change
-- from run to run.
CREATE FUNCTION pg_temp.row(p text, op text, req jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN r ? 'rows' THEN jsonb_set(r, '{rows}', coalesce((SELECT jsonb_agg(x - '{created_at,updated_at}'::text[] ORDER BY n)
		FROM jsonb_array_elements(r -> 'rows') WITH ORDINALITY AS e(x, n)), '[]')) ELSE r END
	FROM plugin_storage.plugin_row(p, op, req) r $$;
SELECT name FROM plugin_storage.register_plugin('rowins');
SELECT plugin_storage.plugin_row('rowins', 'define', '{"table": "quotes",
	"columns": {"text": "text", "author": "text", "added_by": "text", "timestamp": "timestamptz"},
	"unique": [["text"]]}') -> 'created';
SELECT plugin_storage.plugin_row('rowins', 'define', '{"table": "trivia_stats",
	"columns": {"user_id": "text", "score": "integer", "best_streak": "integer"},
	"primary_key": "user_id"}') -> 'created';
SELECT plugin_storage.plugin_row('rowins', 'define', '{"table": "rounds",
	"columns": {"game": "integer", "round": "integer", "winner": "text"},
	"primary_key": ["game", "round"]}') -> 'created';

-- insert: the seed's quote.  The reply's id is the primary key: here the
-- bigserial id define added.
SET TIME ZONE 'UTC';
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "data": {"text": "Keep circulating the tapes",
	"author": "MST3K", "added_by": "groberts", "timestamp": "2025-11-22T10:30:00Z"}}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "data": {"text": "Push the button, Frank"}}');
-- A column left out takes its default (or NULL); created_at and updated_at
-- are set by their defaults.
SELECT pg_temp.row('rowins', 'select', '{"table": "quotes", "id": 1}');
SELECT pg_temp.row('rowins', 'select', '{"table": "quotes", "id": 2}');
SELECT created_at = updated_at AS same_stamp, created_at > now() - interval '1 minute' AS recent
	FROM "ps_rowins".quotes WHERE id = 1;
-- An own primary key comes back as given; a key of several columns comes
-- back as an object.
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "data": {"user_id": "groberts", "score": 100}}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "rounds", "data": {"game": 1, "round": 1, "winner": "groberts"}}');

-- A row that collides with a unique key is a conflict, and nothing changes.
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "data": {"user_id": "groberts", "score": 5}}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "data": {"text": "Keep circulating the tapes"}}');
SELECT pg_temp.row('rowins', 'select', '{"table": "trivia_stats", "id": "groberts"}');
-- The failed insert consumed a sequence value (as in PostgreSQL); ids stay unique.
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "data": {"text": "Mike!"}}');

-- rows: many at once, in one statement, all or nothing.  ids come back in
-- the order of the rows.
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "rows": [
	{"user_id": "alice", "score": 10}, {"user_id": "bob"}, {"user_id": "carol", "best_streak": 3}]}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "rounds", "rows": [
	{"game": 1, "round": 2}, {"game": 2, "round": 1, "winner": "bob"}]}');
-- One colliding row (with the table, or with another row of the batch)
-- and none is inserted.
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "rows": [
	{"user_id": "dave"}, {"user_id": "alice"}, {"user_id": "erin"}]}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "rows": [
	{"user_id": "frank"}, {"user_id": "frank"}]}');
SELECT user_id, score, best_streak FROM "ps_rowins".trivia_stats ORDER BY user_id;
-- The batch runs in a subtransaction of the caller's transaction: a later
-- failure of that transaction takes the rows back too.
BEGIN;
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "rows": [{"user_id": "gina"}, {"user_id": "hal"}]}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "rows": [{"user_id": "ivan"}, {"user_id": "gina"}]}');
SELECT count(*) FROM "ps_rowins".trivia_stats WHERE user_id IN ('gina', 'hal', 'ivan');
ROLLBACK;
SELECT count(*) FROM "ps_rowins".trivia_stats WHERE user_id IN ('gina', 'hal', 'ivan');
-- An empty row takes every default.
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "data": {}}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "rows": [{}, {}]}');

-- Required columns (NOT NULL without default) must be given, and not null.
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "data": {"score": 1}}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "data": {"user_id": null}}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "trivia_stats", "rows": [{"user_id": "x"}, {"score": 2}]}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "data": {"created_at": null}}');
-- Exactly one of data and rows; rows holds 1 to 1000 objects.
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes"}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "data": {}, "rows": [{}]}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "rows": []}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "rows": [{}, 5]}');
SELECT pg_temp.row('rowins', 'insert', '{"table": "quotes", "data": [1]}');
SELECT pg_temp.row('rowins', 'insert', jsonb_build_object('table', 'quotes', 'rows',
	(SELECT jsonb_agg('{}'::jsonb) FROM generate_series(1, 1001))));
-- 1000 rows are fine.
SELECT jsonb_array_length(pg_temp.row('rowins', 'insert', jsonb_build_object('table', 'trivia_stats', 'rows',
	(SELECT jsonb_agg(jsonb_build_object('user_id', 'bulk' || i, 'score', i)) FROM generate_series(1, 1000) i))) -> 'ids');
SELECT count(*), sum(score) FROM "ps_rowins".trivia_stats WHERE user_id LIKE 'bulk%';

-- upsert: insert, or update the row with the same "on" columns (default:
-- the primary key); created says which.  The columns of data that are not
-- "on" columns are updated, and updated_at moves.
SELECT pg_temp.row('rowins', 'upsert', '{"table": "trivia_stats", "data": {"user_id": "zed", "score": 1}}');
SELECT pg_temp.row('rowins', 'upsert', '{"table": "trivia_stats", "data": {"user_id": "zed", "best_streak": 4}}');
SELECT pg_temp.row('rowins', 'select', '{"table": "trivia_stats", "id": "zed"}');
SELECT updated_at > created_at AS updated_later FROM "ps_rowins".trivia_stats WHERE user_id = 'zed';
SELECT pg_temp.row('rowins', 'upsert', '{"table": "quotes", "data": {"text": "Mike!", "author": "Crow"}, "on": ["text"]}');
SELECT pg_temp.row('rowins', 'select', '{"table": "quotes", "ids": [4]}');
SELECT pg_temp.row('rowins', 'upsert', '{"table": "rounds", "data": {"game": 1, "round": 2, "winner": "carol"}}');
SELECT pg_temp.row('rowins', 'upsert', '{"table": "rounds", "data": {"game": 1, "round": 2}}');
-- "on" must be a unique index's columns, and data must give them.
SELECT pg_temp.row('rowins', 'upsert', '{"table": "quotes", "data": {"author": "Crow"}, "on": "author"}');
SELECT pg_temp.row('rowins', 'upsert', '{"table": "quotes", "data": {"author": "Crow"}, "on": "text"}');
SELECT pg_temp.row('rowins', 'upsert', '{"table": "quotes", "data": {"text": null}, "on": "text"}');
SELECT pg_temp.row('rowins', 'upsert', '{"table": "quotes", "data": {"text": "x"}, "on": "nope"}');

-- select: by id, or by ids (found rows only, in key order); "fields" picks
-- columns.  Tables without a primary key have no select.
SELECT pg_temp.row('rowins', 'select', '{"table": "trivia_stats", "ids": ["carol", "nobody", "alice"]}');
SELECT pg_temp.row('rowins', 'select', '{"table": "trivia_stats", "ids": []}');
SELECT pg_temp.row('rowins', 'select', '{"table": "trivia_stats", "id": "alice", "fields": ["score", "user_id"]}');
SELECT pg_temp.row('rowins', 'select', '{"table": "rounds", "id": {"game": 1, "round": 2}}');
SELECT pg_temp.row('rowins', 'select', '{"table": "rounds", "ids": [{"game": 2, "round": 1}, {"game": 1, "round": 1}]}');
SELECT pg_temp.row('rowins', 'select', '{"table": "rounds", "ids": []}');
SELECT pg_temp.row('rowins', 'select', '{"table": "rounds", "ids": {"game": 1, "round": 1}}');
SELECT pg_temp.row('rowins', 'select', '{"table": "rounds", "id": {"game": 1}}');
SELECT pg_temp.row('rowins', 'select', '{"table": "rounds", "id": {"game": 1, "rnd": 2}}');
SELECT pg_temp.row('rowins', 'select', '{"table": "rounds", "id": 1}');
SELECT pg_temp.row('rowins', 'select', '{"table": "trivia_stats", "id": "alice", "ids": ["bob"]}');
SELECT pg_temp.row('rowins', 'select', '{"table": "trivia_stats"}');
SELECT pg_temp.row('rowins', 'select', '{"table": "trivia_stats", "id": 5}');
SET ROLE "ps_rowins";
CREATE TABLE "ps_rowins".nokey (a text);
RESET ROLE;
SELECT pg_temp.row('rowins', 'insert', '{"table": "nokey", "data": {"a": "x"}}');
SELECT pg_temp.row('rowins', 'select', '{"table": "nokey", "id": "x"}');

-- The typed SQL functions.
SELECT plugin_storage.plugin_row_insert('rowins', 'trivia_stats', '{"user_id": "sql", "score": 7}');
SELECT plugin_storage.plugin_row_insert_many('rowins', 'rounds', '[{"game": 3, "round": 1}, {"game": 3, "round": 2}]');
SELECT plugin_storage.plugin_row_upsert('rowins', 'trivia_stats', '{"user_id": "sql", "score": 8}');
SELECT plugin_storage.plugin_row_upsert('rowins', 'quotes', '{"text": "Mike!", "author": "Tom"}', '{text}');
SELECT plugin_storage.plugin_row_select('rowins', 'trivia_stats', '"sql"') - '{created_at,updated_at}'::text[];
SELECT plugin_storage.plugin_row_select('rowins', 'trivia_stats', '"nobody"');

SELECT plugin_storage.unregister_plugin('rowins', true);
