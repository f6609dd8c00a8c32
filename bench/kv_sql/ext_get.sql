\set k random(1, :keys)
SELECT plugin_storage.plugin_kv('bench', 'get', ('{"key": "k' || :k || '"}')::jsonb);
