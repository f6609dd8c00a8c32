-- kv_binary: byte values (seed 001 stores bytes) round-trip byte-exact
-- through value_b64, and through the typed bytea functions.
SELECT name FROM plugin_storage.register_plugin('bytes');

-- Every byte value from 0 to 255, in and out unchanged.  value_b64 is
-- standard base64 (RFC 4648) without line breaks, which encode() inserts.
SELECT plugin_storage.plugin_kv('bytes', 'set', jsonb_build_object('key', 'all256',
	'value_b64', translate(encode(decode(string_agg(lpad(to_hex(b), 2, '0'), '' ORDER BY b), 'hex'), 'base64'), E'\n', ''))) -> 'ok'
	FROM generate_series(0, 255) b;
SELECT decode(plugin_storage.plugin_kv('bytes', 'get', '{"key": "all256"}') ->> 'value_b64', 'base64')
	= decode(string_agg(lpad(to_hex(b), 2, '0'), '' ORDER BY b), 'hex') AS byte_exact
	FROM generate_series(0, 255) b;
-- A binary value answers value_b64, not value.
SELECT r ? 'value' AS has_value, r ? 'value_b64' AS has_value_b64
	FROM plugin_storage.plugin_kv('bytes', 'get', '{"key": "all256"}') r;

-- The typed bytea functions: a NUL byte and invalid UTF-8 survive.
SELECT plugin_storage.plugin_kv_set_bytes('bytes', 'raw', '\x00ff00c328'::bytea) > 0 AS stored;
SELECT plugin_storage.plugin_kv_get_bytes('bytes', 'raw');
-- An empty byte string is a value too.
SELECT plugin_storage.plugin_kv_set_bytes('bytes', 'empty', ''::bytea) > 0 AS stored;
SELECT plugin_storage.plugin_kv_get_bytes('bytes', 'empty') = ''::bytea AS empty;
-- A large value (256 KiB) round-trips.
SELECT plugin_storage.plugin_kv_set_bytes('bytes', 'big', decode(repeat('0123456789abcdef', 32768), 'hex')) > 0 AS stored;
SELECT md5(plugin_storage.plugin_kv_get_bytes('bytes', 'big')) = md5(decode(repeat('0123456789abcdef', 32768), 'hex')) AS same;

-- mset mixes JSON and binary values; all() shows binary documents as data_b64.
SELECT plugin_storage.plugin_kv('bytes', 'mset', '{"items": [{"key": "j", "value": [1]}, {"key": "b", "value_b64": "3q2+7w=="}]}') -> 'ok';
SELECT d ->> 'id', d -> 'data', d -> 'data_b64'
	FROM jsonb_array_elements(plugin_storage.plugin_kv('bytes', 'all', '{}') -> 'documents') d
	WHERE d ->> 'id' IN ('j', 'b') ORDER BY 1;

-- Not base64, or both value and value_b64: invalid_request, nothing written.
SELECT plugin_storage.plugin_kv('bytes', 'set', '{"key": "bad", "value_b64": "not base64!"}');
SELECT plugin_storage.plugin_kv('bytes', 'set', '{"key": "bad", "value_b64": "abc"}');
SELECT plugin_storage.plugin_kv('bytes', 'set', '{"key": "bad", "value_b64": "AAAA\nAAAA"}');
SELECT plugin_storage.plugin_kv('bytes', 'set', '{"key": "bad", "value_b64": 12}');
SELECT plugin_storage.plugin_kv('bytes', 'set', '{"key": "bad", "value": 1, "value_b64": "AA=="}');
SELECT plugin_storage.plugin_kv('bytes', 'exists', '{"key": "bad"}');
-- incr on a binary value is a type mismatch.
SELECT plugin_storage.plugin_kv('bytes', 'incr', '{"key": "raw"}') -> 'error' -> 'code';

SELECT plugin_storage.unregister_plugin('bytes', true);
