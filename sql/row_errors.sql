-- row_errors: every failure the row tier expects comes back as
-- {"error":{"code","message"}} with a stable code, is found before anything
-- is written, and names what is wrong.  The typed functions raise the same
-- failures with a SQLSTATE per code.  (The row tier has no "internal"
-- failure of its own: anything unexpected is a PostgreSQL ERROR.)
SELECT name FROM plugin_storage.register_plugin('rowerr');
SELECT plugin_storage.plugin_row('rowerr', 'define', '{"table": "trivia_stats",
	"columns": {"user_id": "text", "score": "integer"}, "primary_key": "user_id"}') -> 'created';
SELECT plugin_storage.plugin_row('rowerr', 'insert', '{"table": "trivia_stats", "data": {"user_id": "keep", "score": 1}}');

-- invalid_request: the request itself is wrong.
SELECT plugin_storage.plugin_row('rowerr', 'frobnicate', '{}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '[1, 2]');
SELECT plugin_storage.plugin_row('rowerr', 'search', '"trivia_stats"');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": null}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": 5}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": "trivia_stats", "filter": {}}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": "trivia_stats", "data": {}}');
SELECT plugin_storage.plugin_row('rowerr', 'update', '{"table": "trivia_stats", "filters": {"scroe": 1}, "operations": {"score": 1}}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": "trivia_stats", "filters": {"score": {"$regex": "."}}}');
SELECT plugin_storage.plugin_row('rowerr', 'update', '{"table": "trivia_stats", "operations": {"score": 1}}');
SELECT plugin_storage.plugin_row('rowerr', 'drop_table', '{"table": "trivia_stats"}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": "Trivia"}');
-- Invalid plugin names, and null arguments.
SELECT plugin_storage.plugin_row('RowErr', 'tables', '{}');
SELECT plugin_storage.plugin_row('../rowerr', 'tables', '{}');
SELECT plugin_storage.plugin_row(NULL, 'tables', '{}');
SELECT plugin_storage.plugin_row('rowerr', NULL, '{}');
-- A null request is an empty one.
SELECT plugin_storage.plugin_row('rowerr', 'tables', NULL);
SELECT plugin_storage.plugin_row('rowerr', 'tables');

-- not_found: an unregistered plugin, a table that does not exist.
SELECT plugin_storage.plugin_row('ghost', 'tables', '{}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": "trivia"}');
SELECT plugin_storage.plugin_row('rowerr', 'describe', '{"table": "trivia"}');
SELECT plugin_storage.plugin_row('rowerr', 'drop_table', '{"table": "trivia", "confirm": true}');

-- conflict: a unique key taken, a column that exists with another type.
SELECT plugin_storage.plugin_row('rowerr', 'insert', '{"table": "trivia_stats", "data": {"user_id": "keep"}}');
SELECT plugin_storage.plugin_row('rowerr', 'define', '{"table": "trivia_stats", "columns": {"score": "text"}}');

-- type_mismatch: a value that does not fit its column, an operator that
-- does not fit the column's type.
SELECT plugin_storage.plugin_row('rowerr', 'insert', '{"table": "trivia_stats", "data": {"user_id": "x", "score": "lots"}}');
SELECT plugin_storage.plugin_row('rowerr', 'update', '{"table": "trivia_stats", "filters": {"user_id": "keep"},
	"operations": {"user_id": {"$inc": 1}}}');
SELECT plugin_storage.plugin_row('rowerr', 'update', '{"table": "trivia_stats", "filters": {"user_id": "keep"},
	"operations": {"score": {"$push": 1}}}');

-- too_large: more than 1000 rows, ids or $in values.
SELECT plugin_storage.plugin_row('rowerr', 'insert', jsonb_build_object('table', 'trivia_stats', 'rows',
	(SELECT jsonb_agg(jsonb_build_object('user_id', 'u' || i)) FROM generate_series(1, 1001) i)));
SELECT plugin_storage.plugin_row('rowerr', 'select', jsonb_build_object('table', 'trivia_stats', 'ids',
	(SELECT jsonb_agg('u' || i) FROM generate_series(1, 1001) i)));
SELECT plugin_storage.plugin_row('rowerr', 'delete', jsonb_build_object('table', 'trivia_stats', 'filters',
	jsonb_build_object('score', jsonb_build_object('$nin', (SELECT jsonb_agg(i) FROM generate_series(1, 1001) i)))));

-- forbidden: names starting with _ps_ are plugin_storage's own (the
-- plugin's KV table is _ps_kv).
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": "_ps_kv"}');
SELECT plugin_storage.plugin_row('rowerr', 'define', '{"table": "_ps_mine", "columns": {"a": "text"}}');
SELECT plugin_storage.plugin_row('rowerr', 'define', '{"table": "trivia_stats", "columns": {"_ps_flag": "boolean"}}');
SELECT plugin_storage.plugin_row('rowerr', 'search', '{"table": "trivia_stats", "filters": {"_ps_flag": true}}');

-- Nothing above wrote anything it should not have.
SELECT user_id, score FROM "ps_rowerr".trivia_stats;
SELECT jsonb_path_query_array(plugin_storage.plugin_row('rowerr', 'describe', '{"table": "trivia_stats"}'), '$.columns[*].name');
SELECT plugin_storage.plugin_row('rowerr', 'tables', '{}');

-- The typed functions raise with a SQLSTATE per code.
\set VERBOSITY default
SELECT plugin_storage.plugin_row_insert('rowerr', 'trivia_stats', '{"user_id": "keep"}');
SELECT plugin_storage.plugin_row_update('rowerr', 'trivia_stats', '{}', '{"score": 1}');
DO $$
DECLARE
	state text;
BEGIN
	FOREACH state IN ARRAY ARRAY['invalid', 'ghost', 'conflict', 'type', 'large', 'forbidden'] LOOP
		BEGIN
			CASE state
				WHEN 'invalid' THEN PERFORM plugin_storage.plugin_row_delete('rowerr', 'trivia_stats', '{}');
				WHEN 'ghost' THEN PERFORM plugin_storage.plugin_row_describe('rowerr', 'nope');
				WHEN 'conflict' THEN PERFORM plugin_storage.plugin_row_insert('rowerr', 'trivia_stats', '{"user_id": "keep"}');
				WHEN 'type' THEN PERFORM plugin_storage.plugin_row_insert('rowerr', 'trivia_stats', '{"user_id": 1}');
				WHEN 'large' THEN PERFORM plugin_storage.plugin_row_insert_many('rowerr', 'trivia_stats',
					(SELECT jsonb_agg(jsonb_build_object('user_id', 'u' || i)) FROM generate_series(1, 1001) i));
				ELSE PERFORM plugin_storage.plugin_row_search('rowerr', '_ps_kv');
			END CASE;
		EXCEPTION WHEN OTHERS THEN
			RAISE NOTICE '% -> SQLSTATE %', state, SQLSTATE;
		END;
	END LOOP;
END
$$;

SELECT plugin_storage.unregister_plugin('rowerr', true);
