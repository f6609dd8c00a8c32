\set p random(1, :rows)
\set v random(1, 50)
SELECT plugin_storage.plugin_row('bench', 'update', ('{"table": "scores", "filters": {"player": "p' || :p || '"}, "operations": {"score": {"$inc": 10}, "streak": {"$max": ' || :v || '}}}')::jsonb);
