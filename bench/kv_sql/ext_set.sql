\set k random(1, :keys)
\set v random(1, 1000000)
SELECT plugin_storage.plugin_kv('bench', 'set', ('{"key": "k' || :k || '", "value": {"n": ' || :v || ', "text": "a plugin value of a typical size"}}')::jsonb);
