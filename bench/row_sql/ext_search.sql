\set g random(0, 99)
\set s random(0, :rows * 9 / 10)
SELECT plugin_storage.plugin_row('bench', 'search', ('{"table": "scores", "filters": {"game": ' || :g || ', "score": {"$gte": ' || :s || '}}, "sort": {"field": "score", "order": "desc"}, "limit": 10}')::jsonb);
