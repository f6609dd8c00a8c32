-- kv_errors: bad input gets {"error":{"code","message"}} with a stable code,
-- and loses nothing.  The typed functions raise the same failures with a
-- SQLSTATE per code.
SELECT name FROM plugin_storage.register_plugin('errs', 'errs-ws');
SELECT name FROM plugin_storage.register_plugin('loner');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "keep", "value": "safe"}') -> 'ok';

-- invalid_request: the request itself is wrong.
SELECT plugin_storage.plugin_kv('errs', 'get', '[1, 2]');
SELECT plugin_storage.plugin_kv('errs', 'get', '"key"');
SELECT plugin_storage.plugin_kv('errs', 'frobnicate', '{}');
SELECT plugin_storage.plugin_kv('errs', 'get', '{}');
SELECT plugin_storage.plugin_kv('errs', 'get', '{"key": null}');
SELECT plugin_storage.plugin_kv('errs', 'get', '{"key": ""}');
SELECT plugin_storage.plugin_kv('errs', 'get', '{"key": 42}');
SELECT plugin_storage.plugin_kv('errs', 'get', '{"key": "a", "tll": 5}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "a"}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "a", "value": 1, "ttl": 0}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "a", "value": 1, "ttl": -5}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "a", "value": 1, "ttl": "60"}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "a", "value": 1, "if_absent": "yes"}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "a", "value": 1, "if_absent": true, "if_revision": 3}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "a", "value": 1, "scope": "global"}');
SELECT plugin_storage.plugin_kv('errs', 'list', '{"limit": 0}');
SELECT plugin_storage.plugin_kv('errs', 'list', '{"limit": 1001}');
SELECT plugin_storage.plugin_kv('errs', 'list', '{"limit": 2.5}');
SELECT plugin_storage.plugin_kv('errs', 'incr', '{"key": "n", "by": 99999999999999999999}');
SELECT plugin_storage.plugin_kv('errs', 'mget', '{"keys": []}');
SELECT plugin_storage.plugin_kv('errs', 'mget', '{"keys": "a"}');
SELECT plugin_storage.plugin_kv('errs', 'mset', '{"items": [{"key": "a", "value": 1}, 7]}');
SELECT plugin_storage.plugin_kv('errs', 'mset', '{"items": [{"value": 1}]}');
SELECT plugin_storage.plugin_kv('errs', 'expire', '{"key": "keep"}');
-- Invalid plugin names, and null arguments.
SELECT plugin_storage.plugin_kv('Errs', 'get', '{"key": "a"}');
SELECT plugin_storage.plugin_kv('../errs', 'get', '{"key": "a"}');
SELECT plugin_storage.plugin_kv('errs"; drop table x; --', 'get', '{"key": "a"}');
SELECT plugin_storage.plugin_kv(NULL, 'get', '{"key": "a"}');
SELECT plugin_storage.plugin_kv('errs', NULL, '{"key": "a"}');
-- A null request is an empty one.
SELECT plugin_storage.plugin_kv('errs', 'count', NULL);

-- not_found: the plugin is not registered.
SELECT plugin_storage.plugin_kv('ghost', 'get', '{"key": "a"}');

-- conflict: if_absent or if_revision did not hold.
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "keep", "value": 1, "if_absent": true}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "keep", "value": 1, "if_revision": 123456}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "nokey", "value": 1, "if_revision": 1}');

-- type_mismatch: incr on what is not an integer.
SELECT plugin_storage.plugin_kv('errs', 'incr', '{"key": "keep"}');

-- too_large: key over plugin_storage.max_key_bytes, value over max_value_bytes.
SELECT plugin_storage.plugin_kv('errs', 'set', jsonb_build_object('key', repeat('k', 513), 'value', 1));
SELECT plugin_storage.plugin_kv('errs', 'set', jsonb_build_object('key', repeat('k', 512), 'value', 1)) -> 'ok';
SELECT plugin_storage.plugin_kv('errs', 'set', jsonb_build_object('key', 'huge', 'value', repeat('v', 1048577))) -> 'error' -> 'code';
SET plugin_storage.max_value_bytes = 100;
SELECT plugin_storage.plugin_kv('errs', 'set', jsonb_build_object('key', 'v', 'value', repeat('v', 200)));
SELECT plugin_storage.plugin_kv('errs', 'set', jsonb_build_object('key', 'v', 'value_b64', translate(encode(repeat('v', 101)::bytea, 'base64'), E'\n', '')));
RESET plugin_storage.max_value_bytes;
SELECT plugin_storage.plugin_kv('errs', 'mget', jsonb_build_object('keys', (SELECT jsonb_agg('k' || i) FROM generate_series(1, 1001) i))) -> 'error' -> 'code';
-- The key quota (off by default) counts live keys per plugin.
SET plugin_storage.max_keys_per_plugin = 3;
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "q1", "value": 1}') -> 'ok';
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "q2", "value": 1}');
SELECT plugin_storage.plugin_kv('errs', 'set', '{"key": "keep", "value": "overwrite is fine"}') -> 'ok';
SELECT plugin_storage.plugin_kv('errs', 'mset', '{"items": [{"key": "q3", "value": 1}, {"key": "q4", "value": 1}]}');
RESET plugin_storage.max_keys_per_plugin;

-- forbidden: workspace scope for a plugin that has no workspace.
SELECT plugin_storage.plugin_kv('loner', 'get', '{"key": "a", "scope": "workspace"}');

-- Nothing above wrote anything it should not have.
SELECT * FROM plugin_storage.plugin_kv_list('errs', "limit" => 10) k WHERE length(k) < 100;
SELECT plugin_storage.plugin_kv_get('errs', 'keep');

-- The typed functions raise with a SQLSTATE per code.
\set VERBOSITY default
SELECT plugin_storage.plugin_kv_get('ghost', 'a');
SELECT plugin_storage.plugin_kv_set('errs', 'keep', '1', if_absent => true);
SELECT plugin_storage.plugin_kv_incr('errs', 'keep');
SELECT plugin_storage.plugin_kv_get('errs', repeat('k', 600));
SELECT plugin_storage.plugin_kv_get('loner', 'a', scope => 'workspace');
SELECT plugin_storage.plugin_kv_get('errs', '');
DO $$
DECLARE
	state text;
BEGIN
	FOREACH state IN ARRAY ARRAY['ghost', 'conflict', 'type', 'large', 'forbidden', 'invalid'] LOOP
		BEGIN
			CASE state
				WHEN 'ghost' THEN PERFORM plugin_storage.plugin_kv_get('ghost', 'a');
				WHEN 'conflict' THEN PERFORM plugin_storage.plugin_kv_set('errs', 'keep', '1', if_absent => true);
				WHEN 'type' THEN PERFORM plugin_storage.plugin_kv_incr('errs', 'keep');
				WHEN 'large' THEN PERFORM plugin_storage.plugin_kv_get('errs', repeat('k', 600));
				WHEN 'forbidden' THEN PERFORM plugin_storage.plugin_kv_get('loner', 'a', scope => 'workspace');
				ELSE PERFORM plugin_storage.plugin_kv_get('errs', '');
			END CASE;
		EXCEPTION WHEN OTHERS THEN
			RAISE NOTICE '% -> SQLSTATE %', state, SQLSTATE;
		END;
	END LOOP;
END
$$;

SELECT plugin_storage.unregister_plugin('errs', true);
SELECT plugin_storage.unregister_plugin('loner', true);
