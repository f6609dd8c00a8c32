-- row_memory: replies larger than a memory block (8 kB) come back intact.
-- The row tier once built its replies in SPI's procedure context, which
-- SPI_finish frees before the reply is read: small replies survived by
-- luck, a long key or row came back as "unknown type of jsonb container"
-- (found by fuzz/sql_fuzz.c).  Each reply is checked against the same
-- document built in SQL, by md5 of its text, so the output stays short.
SELECT name FROM plugin_storage.register_plugin('rowmem');
SELECT plugin_storage.plugin_row('rowmem', 'define', '{"table": "stats",
	"columns": {"user_id": "text", "score": "integer", "note": "text"},
	"primary_key": "user_id", "indexes": [["score"]]}') -> 'created';

-- insert with a 9000-byte primary key: the reply holds it
SELECT md5(plugin_storage.plugin_row('rowmem', 'insert',
	jsonb_build_object('table', 'stats', 'data', jsonb_build_object('user_id', repeat('c', 9000), 'score', 1)))::text)
	= md5(jsonb_build_object('id', repeat('c', 9000), 'created', true)::text) AS insert_ok;
SELECT md5(plugin_storage.plugin_row('rowmem', 'insert',
	jsonb_build_object('table', 'stats', 'data', jsonb_build_object('user_id', repeat('x', 8000))))::text)
	= md5(jsonb_build_object('id', repeat('x', 8000), 'created', true)::text) AS insert_ok;
-- insert_many and upsert
SELECT md5(plugin_storage.plugin_row('rowmem', 'insert',
	jsonb_build_object('table', 'stats', 'rows', jsonb_build_array(
		jsonb_build_object('user_id', repeat('d', 9000)), jsonb_build_object('user_id', repeat('e', 9000)))))::text)
	= md5(jsonb_build_object('ids', jsonb_build_array(repeat('d', 9000), repeat('e', 9000)), 'created', true)::text) AS insert_many_ok;
SELECT (plugin_storage.plugin_row('rowmem', 'upsert',
	jsonb_build_object('table', 'stats', 'data', jsonb_build_object('user_id', repeat('c', 9000), 'score', 2)))
	->> 'id') = repeat('c', 9000) AS upsert_ok;
-- select, search and aggregate return rows holding a 9000-byte value
SELECT md5((plugin_storage.plugin_row('rowmem', 'select',
	jsonb_build_object('table', 'stats', 'id', repeat('c', 9000), 'fields', jsonb_build_array('user_id', 'score'))))::text)
	= md5(jsonb_build_object('rows', jsonb_build_array(jsonb_build_object('user_id', repeat('c', 9000), 'score', 2)))::text) AS select_ok;
SELECT md5((plugin_storage.plugin_row('rowmem', 'search',
	'{"table": "stats", "filters": {"user_id": {"$like": "c%"}}, "fields": ["user_id", "score"]}'))::text)
	= md5(jsonb_build_object('rows', jsonb_build_array(jsonb_build_object('user_id', repeat('c', 9000), 'score', 2)),
		'count', 1, 'truncated', false)::text) AS search_ok;
SELECT plugin_storage.plugin_row('rowmem', 'update',
	jsonb_build_object('table', 'stats', 'filters', jsonb_build_object('user_id', repeat('x', 8000)),
		'operations', jsonb_build_object('note', jsonb_build_object('$set', repeat('n', 20000)))));
SELECT md5((plugin_storage.plugin_row('rowmem', 'aggregate',
	'{"table": "stats", "group_by": ["note"], "aggregates": {"n": {"$count": "*"}}, "filters": {"note": {"$like": "n%"}}}'))::text)
	= md5(jsonb_build_object('rows', jsonb_build_array(jsonb_build_object('n', 1, 'note', repeat('n', 20000))),
		'truncated', false)::text) AS aggregate_ok;
SELECT plugin_storage.plugin_row('rowmem', 'search',
	'{"table": "stats", "filters": {"note": {"$like": "n%"}}, "fields": ["note"]}') -> 'rows' -> 0 ->> 'note' = repeat('n', 20000) AS long_note_ok;
SELECT plugin_storage.unregister_plugin('rowmem', drop_data => true);
