-- kv: the KV operations through plugin_kv() (the bridge's entry point) and
-- the typed plugin_kv_* functions.  Timestamps change from run to run, so the
-- replies shown here leave them out.
CREATE FUNCTION pg_temp.kv(p text, op text, req jsonb) RETURNS jsonb LANGUAGE sql
	AS $$ SELECT plugin_storage.plugin_kv(p, op, req) - '{created_at,updated_at,expires_at}'::text[] $$;
SELECT name FROM plugin_storage.register_plugin('kvtest');

-- set and get: the seed's example; revision grows with every write.
SELECT pg_temp.kv('kvtest', 'set', '{"key": "last_quote_id", "value": "42"}');
SELECT pg_temp.kv('kvtest', 'get', '{"key": "last_quote_id"}');
SELECT pg_temp.kv('kvtest', 'set', '{"key": "last_quote_id", "value": {"id": 43, "tags": ["a", null]}}');
SELECT pg_temp.kv('kvtest', 'get', '{"key": "last_quote_id"}');
-- Any JSON value is stored as it is, null included.
SELECT pg_temp.kv('kvtest', 'set', '{"key": "nothing", "value": null}');
SELECT pg_temp.kv('kvtest', 'get', '{"key": "nothing"}');
-- A missing key is a not-found result, not an error.
SELECT pg_temp.kv('kvtest', 'get', '{"key": "missing"}');
-- created_at stays, updated_at moves.
SELECT (r ->> 'created_at') < (r ->> 'updated_at') AS updated_later
	FROM plugin_storage.plugin_kv('kvtest', 'get', '{"key": "last_quote_id"}') r;

-- if_absent creates only; if_revision is compare-and-set.
SELECT pg_temp.kv('kvtest', 'set', '{"key": "lock", "value": 1, "if_absent": true}');
SELECT pg_temp.kv('kvtest', 'set', '{"key": "lock", "value": 2, "if_absent": true}');
SELECT pg_temp.kv('kvtest', 'set', '{"key": "lock", "value": 3, "if_revision": 999}');
SELECT pg_temp.kv('kvtest', 'set', jsonb_build_object('key', 'lock', 'value', 4, 'if_revision',
	plugin_storage.plugin_kv('kvtest', 'get', '{"key": "lock"}') -> 'revision'));
SELECT plugin_storage.plugin_kv_get('kvtest', 'lock');

-- delete says whether a key went away.
SELECT pg_temp.kv('kvtest', 'delete', '{"key": "lock"}');
SELECT pg_temp.kv('kvtest', 'delete', '{"key": "lock"}');

-- list: sorted keys, prefix filter, keyset pagination with next_cursor.
SELECT pg_temp.kv('kvtest', 'mset', '{"items": [
	{"key": "config_trigger", "value": "!q"}, {"key": "config_cooldown", "value": 30},
	{"key": "config", "value": 0}, {"key": "confih", "value": 0}, {"key": "user:1", "value": 1},
	{"key": "user:2", "value": 2}, {"key": "user:3", "value": 3}, {"key": "ünïcode", "value": 4}]}');
SELECT pg_temp.kv('kvtest', 'list', '{"prefix": "config_"}');
SELECT pg_temp.kv('kvtest', 'list', '{"prefix": "conf"}');
SELECT pg_temp.kv('kvtest', 'list', '{"prefix": "ü"}');
SELECT pg_temp.kv('kvtest', 'list', '{}');
SELECT pg_temp.kv('kvtest', 'list', '{"prefix": "user:", "limit": 2}');
SELECT pg_temp.kv('kvtest', 'list', '{"prefix": "user:", "limit": 2, "cursor": "user:2"}');
SELECT pg_temp.kv('kvtest', 'list', '{"prefix": "nothing"}');

-- incr: atomic, creates the key at `by`, refuses what is not an integer.
SELECT pg_temp.kv('kvtest', 'incr', '{"key": "hits"}');
SELECT pg_temp.kv('kvtest', 'incr', '{"key": "hits", "by": 41}');
SELECT pg_temp.kv('kvtest', 'incr', '{"key": "hits", "by": -2}');
SELECT pg_temp.kv('kvtest', 'incr', '{"key": "config_trigger"}');
SELECT pg_temp.kv('kvtest', 'set', '{"key": "big", "value": 9223372036854775807}');
SELECT pg_temp.kv('kvtest', 'incr', '{"key": "big"}');
SELECT pg_temp.kv('kvtest', 'set', '{"key": "half", "value": 1.5}');
SELECT pg_temp.kv('kvtest', 'incr', '{"key": "half"}');

-- mget answers in request order, missing keys included; mset is all or nothing.
SELECT jsonb_path_query_array(plugin_storage.plugin_kv('kvtest', 'mget',
	'{"keys": ["user:2", "missing", "user:1", "user:2"]}'), '$.items[*].value');
SELECT jsonb_path_query_array(plugin_storage.plugin_kv('kvtest', 'mget',
	'{"keys": ["user:2", "missing"]}'), '$.items[*].exists');
SELECT pg_temp.kv('kvtest', 'mset', '{"items": [{"key": "m1", "value": 1}, {"key": "", "value": 2}]}');
SELECT pg_temp.kv('kvtest', 'exists', '{"key": "m1"}');

-- count and exists.
SELECT pg_temp.kv('kvtest', 'count', '{}');
SELECT pg_temp.kv('kvtest', 'exists', '{"key": "user:1"}');

-- expire sets or clears a TTL; ttl reports the seconds left.
SELECT pg_temp.kv('kvtest', 'expire', '{"key": "user:1", "ttl": 3600}');
SELECT (r -> 'ttl')::int BETWEEN 3599 AND 3600 AS ttl_near_an_hour, r -> 'exists' AS exists
	FROM plugin_storage.plugin_kv('kvtest', 'ttl', '{"key": "user:1"}') r;
SELECT pg_temp.kv('kvtest', 'expire', '{"key": "user:1", "ttl": null}');
SELECT pg_temp.kv('kvtest', 'ttl', '{"key": "user:1"}');
SELECT pg_temp.kv('kvtest', 'ttl', '{"key": "missing"}');
SELECT pg_temp.kv('kvtest', 'expire', '{"key": "missing", "ttl": 5}');
-- A set without ttl clears an earlier one.
SELECT pg_temp.kv('kvtest', 'set', '{"key": "t", "value": 1, "ttl": 60}');
SELECT pg_temp.kv('kvtest', 'set', '{"key": "t", "value": 1}');
SELECT pg_temp.kv('kvtest', 'ttl', '{"key": "t"}');

-- The typed functions, for DBAs.
SELECT plugin_storage.plugin_kv_set('kvtest', 'typed', '{"a": 1}', ttl => '1 hour') > 0 AS revision;
SELECT plugin_storage.plugin_kv_get('kvtest', 'typed');
SELECT plugin_storage.plugin_kv_ttl('kvtest', 'typed') BETWEEN '59 min' AND '1 hour' AS ttl_ok;
SELECT plugin_storage.plugin_kv_expire('kvtest', 'typed', NULL);
SELECT plugin_storage.plugin_kv_ttl('kvtest', 'typed');
SELECT plugin_storage.plugin_kv_exists('kvtest', 'typed');
SELECT plugin_storage.plugin_kv_incr('kvtest', 'counter', 5);
SELECT plugin_storage.plugin_kv_incr('kvtest', 'counter');
SELECT * FROM plugin_storage.plugin_kv_list('kvtest', 'user:');
SELECT * FROM plugin_storage.plugin_kv_list('kvtest', 'user:', "limit" => 1, cursor => 'user:1');
SELECT * FROM plugin_storage.plugin_kv_mget('kvtest', ARRAY['user:3', 'nope']);
SELECT plugin_storage.plugin_kv_mset('kvtest', '[{"key": "x1", "value": 1}, {"key": "x2", "value": 2, "ttl": 60}]');
SELECT plugin_storage.plugin_kv_count('kvtest');
SELECT plugin_storage.plugin_kv_delete('kvtest', 'typed');
SELECT plugin_storage.plugin_kv_get('kvtest', 'typed');
-- The typed functions raise what plugin_kv() answers as an error.
SELECT plugin_storage.plugin_kv_set('kvtest', 'x1', '1', if_absent => true);
SELECT plugin_storage.plugin_kv_incr('kvtest', 'config_trigger');

-- Large replies are whole: a 300 kB value, three of them at once, and a
-- list page of long keys.
SELECT plugin_storage.plugin_kv('kvtest', 'set', jsonb_build_object('key', 'huge', 'value', repeat('x', 300000))) -> 'ok';
SELECT md5(plugin_storage.plugin_kv('kvtest', 'get', '{"key": "huge"}') ->> 'value') = md5(repeat('x', 300000)) AS same;
SELECT plugin_storage.plugin_kv('kvtest', 'mset', jsonb_build_object('items', jsonb_build_array(
	jsonb_build_object('key', 'h1', 'value', repeat('a', 100000)),
	jsonb_build_object('key', 'h2', 'value', repeat('b', 100000)),
	jsonb_build_object('key', 'h3', 'value', repeat('c', 100000))))) -> 'ok';
SELECT length(i ->> 'value'), left(i ->> 'value', 3)
	FROM jsonb_array_elements(plugin_storage.plugin_kv('kvtest', 'mget', '{"keys": ["h1", "h2", "h3"]}') -> 'items') i;
SELECT plugin_storage.plugin_kv('kvtest', 'mset', jsonb_build_object('items',
	(SELECT jsonb_agg(jsonb_build_object('key', 'long:' || lpad(i::text, 300, '0'), 'value', i)) FROM generate_series(1, 100) i))) -> 'ok';
SELECT jsonb_array_length(r -> 'keys'), length(r -> 'keys' ->> 99), r ->> 'next_cursor' IS NOT NULL AS more
	FROM plugin_storage.plugin_kv('kvtest', 'list', '{"prefix": "long:", "limit": 100}') r;

SELECT plugin_storage.unregister_plugin('kvtest', true);
