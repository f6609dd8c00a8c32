-- kv_ttl: an expired key is never served, swept or not; the background
-- worker (shared_preload_libraries, plugin_storage.database = this
-- database) deletes it; plugin_storage.sweep() does one pass by hand.

-- The sweeper runs in this database.
SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'plugin_storage sweeper' AND datname = current_database();
SELECT name FROM plugin_storage.register_plugin('ttl');

-- A key with a TTL is served until it expires, then no longer.
SELECT plugin_storage.plugin_kv('ttl', 'set', '{"key": "short", "value": 1, "ttl": 1}') -> 'ok';
SELECT plugin_storage.plugin_kv('ttl', 'get', '{"key": "short"}') -> 'exists';
SELECT pg_sleep(1.2);
SELECT plugin_storage.plugin_kv('ttl', 'get', '{"key": "short"}') -> 'exists';

-- Not served before it is swept: the row is still there (this transaction
-- holds it locked, and the sweeper skips locked rows), yet no read sees it.
BEGIN;
SELECT plugin_storage.plugin_kv('ttl', 'set', '{"key": "gone", "value": 1, "ttl": 3600}') -> 'ok';
SELECT plugin_storage.plugin_kv('ttl', 'set', '{"key": "gone2", "value": 1, "ttl": 3600}') -> 'ok';
UPDATE "ps_ttl"._ps_kv SET expires_at = now() - interval '1 second' WHERE key LIKE 'gone%';
SELECT count(*) AS still_stored FROM "ps_ttl"._ps_kv WHERE key LIKE 'gone%';
SELECT plugin_storage.plugin_kv('ttl', 'get', '{"key": "gone"}');
SELECT plugin_storage.plugin_kv('ttl', 'exists', '{"key": "gone"}');
SELECT plugin_storage.plugin_kv('ttl', 'list', '{"prefix": "gone"}');
SELECT plugin_storage.plugin_kv('ttl', 'count', '{}');
SELECT plugin_storage.plugin_kv('ttl', 'ttl', '{"key": "gone"}');
SELECT jsonb_path_query_array(plugin_storage.plugin_kv('ttl', 'mget', '{"keys": ["gone"]}'), '$.items[*].exists');
SELECT plugin_storage.plugin_kv('ttl', 'all', '{}');
SELECT plugin_storage.plugin_kv('ttl', 'collections', '{}');
SELECT plugin_storage.plugin_kv('ttl', 'delete', '{"key": "gone"}');
SELECT plugin_storage.plugin_kv('ttl', 'expire', '{"key": "gone2", "ttl": 60}');
-- Writing over an expired key starts afresh: if_absent holds, incr restarts.
SELECT plugin_storage.plugin_kv('ttl', 'set', '{"key": "gone2", "value": 5, "if_absent": true}') -> 'ok';
UPDATE "ps_ttl"._ps_kv SET expires_at = now() - interval '1 second' WHERE key = 'gone2';
SELECT plugin_storage.plugin_kv('ttl', 'incr', '{"key": "gone2", "by": 7}') -> 'value';
UPDATE "ps_ttl"._ps_kv SET expires_at = now() - interval '1 second' WHERE key = 'gone2';
COMMIT;

-- Once committed, the worker sweeps the expired rows within a few intervals.
DO $$
BEGIN
	FOR i IN 1..300 LOOP
		EXIT WHEN NOT EXISTS (SELECT 1 FROM "ps_ttl"._ps_kv WHERE expires_at <= now());
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT count(*) AS expired_left FROM "ps_ttl"._ps_kv WHERE expires_at <= now();

-- The sweeper view shows the worker and its work.
SELECT database = current_database() AS this_database, pid IS NOT NULL AS running,
	started <= now() AS started, passes > 0 AS passed, keys_swept >= 2 AS swept_them,
	last_end >= last_start AS last_pass_timed, last_duration_ms >= 0 AS has_duration,
	last_tables >= 2 AS visited_tables
	FROM plugin_storage.sweeper;

-- sweep(max_keys) by hand: rows still uncommitted are invisible to the
-- worker, so this pass finds exactly the ones made here.
BEGIN;
SELECT plugin_storage.plugin_kv('ttl', 'mset', '{"items": [{"key": "s1", "value": 1, "ttl": 60}, {"key": "s2", "value": 1, "ttl": 60}, {"key": "s3", "value": 1, "ttl": 60}]}') -> 'ok';
UPDATE "ps_ttl"._ps_kv SET expires_at = now() - interval '1 second' WHERE key LIKE 's_';
SELECT plugin_storage.sweep(max_keys => 2);
SELECT count(*) FROM "ps_ttl"._ps_kv WHERE key LIKE 's_';
SELECT plugin_storage.sweep() >= 1 AS swept_rest;
SELECT count(*) FROM "ps_ttl"._ps_kv WHERE key LIKE 's_';
ROLLBACK;
SELECT plugin_storage.sweep(0);

-- An error in one plugin's data does not stop the pass: with "broken"'s KV
-- table gone, sweep() warns about it and still sweeps "ttl".
SELECT name FROM plugin_storage.register_plugin('broken');
DROP TABLE "ps_broken"._ps_kv;
-- The worker meets the same error, skips the table and shows it in the view.
DO $$
BEGIN
	FOR i IN 1..300 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM plugin_storage.sweeper WHERE last_error_plugin = 'broken');
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT errors > 0 AS errors_counted, last_error_at <= now() AS error_time, last_error_plugin, last_error
	FROM plugin_storage.sweeper;
BEGIN;
SELECT plugin_storage.plugin_kv('ttl', 'set', '{"key": "x1", "value": 1, "ttl": 60}') -> 'ok';
UPDATE "ps_ttl"._ps_kv SET expires_at = now() - interval '1 second' WHERE key = 'x1';
SELECT plugin_storage.sweep() >= 1 AS swept_others;
SELECT count(*) FROM "ps_ttl"._ps_kv WHERE key = 'x1';
ROLLBACK;
SELECT plugin_storage.unregister_plugin('broken', true);

-- Keys without TTL are never swept.
SELECT plugin_storage.plugin_kv('ttl', 'set', '{"key": "forever", "value": 1}') -> 'ok';
SELECT plugin_storage.sweep() >= 0 AS swept;
SELECT plugin_storage.plugin_kv('ttl', 'get', '{"key": "forever"}') -> 'exists';

SELECT plugin_storage.unregister_plugin('ttl', true);
