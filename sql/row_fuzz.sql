-- row_fuzz: failures found by fuzz/sql_fuzz.c, each fixed where it was.
\set VERBOSITY terse
SELECT name FROM plugin_storage.register_plugin('rowfuzz');
SELECT plugin_storage.plugin_row('rowfuzz', 'define', '{"table": "stats",
	"columns": {"user_id": "text", "score": "integer"}, "primary_key": "user_id"}') -> 'created';

-- A batch insert whose statement raises (here a key too long for its
-- index, which only PostgreSQL sees) gets the error, and the session goes
-- on: its subtransaction used to stay open, so every later statement got
-- "current transaction is aborted" and a ROLLBACK killed the connection.
SELECT plugin_storage.plugin_row('rowfuzz', 'insert', jsonb_build_object('table', 'stats', 'rows',
	jsonb_build_array(jsonb_build_object('user_id', 'a'),
		jsonb_build_object('user_id', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) i)))));
SELECT 1 AS session_goes_on;
SELECT plugin_storage.plugin_row('rowfuzz', 'insert', '{"table": "stats", "rows": [{"user_id": "a"}, {"user_id": "b"}]}');
SELECT plugin_storage.plugin_row('rowfuzz', 'search', '{"table": "stats", "fields": ["user_id"], "sort": {"field": "user_id"}}');
-- the same inside a transaction block: the block is aborted, as after any
-- error, and ROLLBACK ends it
BEGIN;
SELECT plugin_storage.plugin_row('rowfuzz', 'insert', jsonb_build_object('table', 'stats', 'rows',
	jsonb_build_array(jsonb_build_object('user_id', 'c'),
		jsonb_build_object('user_id', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) i)))));
ROLLBACK;
SELECT plugin_storage.plugin_row('rowfuzz', 'select', '{"table": "stats", "id": "c"}');

-- define refuses PostgreSQL's system column names (it failed with 42701,
-- which the bridge answers as internal)
SELECT plugin_storage.plugin_row('rowfuzz', 'define', '{"table": "t", "columns": {"tableoid": "integer"}}');
SELECT plugin_storage.plugin_row('rowfuzz', 'define', '{"table": "stats", "columns": {"ctid": "text"}}');
SELECT plugin_storage.plugin_row('rowfuzz', 'define', '{"table": "t", "columns": [{"name": "xmin", "type": "text"}]}');
SELECT plugin_storage.unregister_plugin('rowfuzz', drop_data => true);
