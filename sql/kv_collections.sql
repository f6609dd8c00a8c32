-- kv_collections: seed 000's collection API (save/get/all/delete/clear/count/
-- exists, collections(), drop()) on top of the KV tier.  A key lives in a
-- collection ("default" unless named); the same key in two collections is
-- two documents.
SELECT name FROM plugin_storage.register_plugin('notes');

-- save into two collections; the same id in each is independent.
SELECT r -> 'ok' FROM plugin_storage.plugin_kv('notes', 'set',
	'{"collection": "tasks", "key": "task-1", "value": {"title": "Buy groceries", "done": false}}') r;
SELECT r -> 'ok' FROM plugin_storage.plugin_kv('notes', 'set',
	'{"collection": "tasks", "key": "task-2", "value": {"title": "Walk the dog", "done": false}}') r;
SELECT r -> 'ok' FROM plugin_storage.plugin_kv('notes', 'set',
	'{"collection": "tasks", "key": "task-3", "value": {"title": "Write docs", "done": false}}') r;
SELECT r -> 'ok' FROM plugin_storage.plugin_kv('notes', 'set',
	'{"collection": "settings", "key": "task-1", "value": {"theme": "dark"}}') r;
-- An update moves the document to the front of all().
SELECT r -> 'ok' FROM plugin_storage.plugin_kv('notes', 'set',
	'{"collection": "tasks", "key": "task-1", "value": {"title": "Buy groceries", "done": true}}') r;

SELECT plugin_storage.plugin_kv('notes', 'get', '{"collection": "tasks", "key": "task-1"}') -> 'value';
SELECT plugin_storage.plugin_kv('notes', 'get', '{"collection": "settings", "key": "task-1"}') -> 'value';
SELECT plugin_storage.plugin_kv('notes', 'get', '{"key": "task-1"}') -> 'exists' AS in_default;

-- all(): documents with id/data/created_at/updated_at, most recently updated first.
SELECT d ->> 'id' AS id, d -> 'data' AS data, d ? 'created_at' AND d ? 'updated_at' AS has_times
	FROM jsonb_array_elements(plugin_storage.plugin_kv('notes', 'all',
		'{"collection": "tasks"}') -> 'documents') d;
-- all(limit, offset) pages, and next_offset says where the next page starts.
SELECT jsonb_path_query_array(r, '$.documents[*].id'), r -> 'next_offset'
	FROM plugin_storage.plugin_kv('notes', 'all', '{"collection": "tasks", "limit": 2}') r;
SELECT jsonb_path_query_array(r, '$.documents[*].id'), r -> 'next_offset'
	FROM plugin_storage.plugin_kv('notes', 'all', '{"collection": "tasks", "limit": 2, "offset": 2}') r;
SELECT id, data FROM plugin_storage.plugin_kv_all('notes', 'tasks', 10, 1);

-- count and exists, per collection.
SELECT plugin_storage.plugin_kv('notes', 'count', '{"collection": "tasks"}');
SELECT plugin_storage.plugin_kv('notes', 'exists', '{"collection": "tasks", "key": "task-2"}');
SELECT plugin_storage.plugin_kv('notes', 'exists', '{"collection": "settings", "key": "task-2"}');

-- collections(): the names that hold keys.
SELECT plugin_storage.plugin_kv('notes', 'collections', '{}');
SELECT * FROM plugin_storage.plugin_kv_collections('notes');

-- delete one document; clear() empties a collection and says how many went.
SELECT plugin_storage.plugin_kv('notes', 'delete', '{"collection": "tasks", "key": "task-2"}');
SELECT plugin_storage.plugin_kv('notes', 'clear', '{"collection": "tasks"}');
SELECT plugin_storage.plugin_kv('notes', 'count', '{"collection": "tasks"}');
SELECT plugin_storage.plugin_kv('notes', 'collections', '{}');

-- drop(name) deletes a whole collection; it must be named.
SELECT plugin_storage.plugin_kv('notes', 'drop', '{"collection": "settings"}');
SELECT plugin_storage.plugin_kv('notes', 'drop', '{}');
SELECT plugin_storage.plugin_kv_drop('notes', 'settings');
SELECT plugin_storage.plugin_kv('notes', 'collections', '{}');

-- Collection names are bounded like keys.
SELECT plugin_storage.plugin_kv('notes', 'get', jsonb_build_object('collection', repeat('c', 129), 'key', 'k')) -> 'error' -> 'code';
SELECT plugin_storage.plugin_kv('notes', 'get', '{"collection": "", "key": "k"}') -> 'error' -> 'code';

SELECT plugin_storage.unregister_plugin('notes', true);
