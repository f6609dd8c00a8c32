-- row_types: how JSON values become column values, and come back.  Values
-- are checked against the column's type before anything runs (type_mismatch
-- names the column); replies write each type as to_jsonb() would.
SET TIME ZONE 'UTC';
SELECT name FROM plugin_storage.register_plugin('rowtypes');
SELECT plugin_storage.plugin_row('rowtypes', 'define', '{"table": "t",
	"columns": [{"name": "s", "type": "text"}, {"name": "i", "type": "integer"},
	            {"name": "b", "type": "bigint"}, {"name": "n", "type": "numeric"},
	            {"name": "d", "type": "double precision"}, {"name": "ok", "type": "boolean"},
	            {"name": "at", "type": "timestamptz"}, {"name": "j", "type": "jsonb"},
	            {"name": "tags", "type": "text[]"}]}') -> 'created';
-- put(data): insert data, then answer the row's columns that data named,
-- as select reads them back (or the error).
CREATE FUNCTION pg_temp.put(data jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN r ? 'error' THEN r ELSE (SELECT jsonb_object_agg(k, v)
		FROM jsonb_each(plugin_storage.plugin_row('rowtypes', 'select', jsonb_build_object('table', 't',
			'id', r -> 'id')) -> 'rows' -> 0) AS e(k, v) WHERE data ? k) END
	FROM plugin_storage.plugin_row('rowtypes', 'insert', jsonb_build_object('table', 't', 'data', data)) r $$;

-- text takes strings only; any UTF-8 (and quotes, backslashes) is kept as is.
SELECT pg_temp.put('{"s": "héllo \"wörld\" \\ ''; DROP TABLE t; --"}');
SELECT pg_temp.put('{"s": 42}');
SELECT pg_temp.put('{"s": true}');
SELECT pg_temp.put('{"s": ["a"]}');
-- integer and bigint: numbers without a fraction (1.0 is 1), or strings
-- holding one; within range.
SELECT pg_temp.put('{"i": 2147483647, "b": -9223372036854775808}');
SELECT pg_temp.put('{"i": 1.0, "b": "9223372036854775807"}');
SELECT pg_temp.put('{"i": "-17"}');
SELECT pg_temp.put('{"i": 2147483648}');
SELECT pg_temp.put('{"b": 9223372036854775808}');
SELECT pg_temp.put('{"i": 1.5}');
SELECT pg_temp.put('{"i": 1e3}');
SELECT pg_temp.put('{"i": "12abc"}');
SELECT pg_temp.put('{"i": " 1"}');
SELECT pg_temp.put('{"i": true}');
-- numeric keeps every digit; strings may hold a number, NaN or Infinity.
SELECT pg_temp.put('{"n": 12345678901234567890.123456789}');
SELECT pg_temp.put('{"n": "0.10"}');
SELECT pg_temp.put('{"n": "-1.5e3"}');
SELECT pg_temp.put('{"n": "NaN"}');
SELECT pg_temp.put('{"n": "Infinity"}');
SELECT pg_temp.put('{"n": "1,5"}');
SELECT pg_temp.put('{"n": "1e100000"}');
-- double precision: numbers, or strings with a number, NaN, Infinity.
SELECT pg_temp.put('{"d": 0.1}');
SELECT pg_temp.put('{"d": -12345.678e-2}');
SELECT pg_temp.put('{"d": "-Infinity"}');
SELECT pg_temp.put('{"d": "NaN"}');
SELECT pg_temp.put('{"d": 1e309}');
SELECT pg_temp.put('{"d": "fast"}');
-- boolean: true or false only.
SELECT pg_temp.put('{"ok": false}');
SELECT pg_temp.put('{"ok": "true"}');
SELECT pg_temp.put('{"ok": 1}');
-- timestamptz: any string PostgreSQL reads as a timestamp; answered in
-- ISO 8601 in the session's time zone.
SELECT pg_temp.put('{"at": "2025-11-22T10:30:00Z"}');
SELECT pg_temp.put('{"at": "2025-11-22 12:30:00.123456+02"}');
SELECT pg_temp.put('{"at": "2025-11-22"}');
SELECT pg_temp.put('{"at": "infinity"}');
SELECT pg_temp.put('{"at": "2025-02-30T00:00:00Z"}');
SELECT pg_temp.put('{"at": "soon"}');
SELECT pg_temp.put('{"at": 1732271400}');
-- jsonb takes any JSON value, stored as it is; null is SQL NULL.
SELECT pg_temp.put('{"j": {"a": [1, "two", null, {"b": false}]}}');
SELECT pg_temp.put('{"j": "just a string"}');
SELECT pg_temp.put('{"j": 12.50}');
SELECT pg_temp.put('{"j": null}');
SELECT j IS NULL AS sql_null FROM "ps_rowtypes".t ORDER BY id DESC LIMIT 1;
-- text[]: arrays of strings (and nulls).
SELECT pg_temp.put('{"tags": ["a", null, "c"]}');
SELECT pg_temp.put('{"tags": []}');
SELECT pg_temp.put('{"tags": ["a", 1]}');
SELECT pg_temp.put('{"tags": ["a", ["b"]]}');
SELECT pg_temp.put('{"tags": "a"}');
-- The same checks apply to filter and update values.
SELECT plugin_storage.plugin_row('rowtypes', 'search', '{"table": "t", "filters": {"b": {"$gt": "x"}}}');
SELECT plugin_storage.plugin_row('rowtypes', 'update', '{"table": "t", "filters": {"i": -17}, "operations": {"at": "never"}}');

-- Tables from migrations can have other types.  A varchar, char, smallint,
-- real or a domain over one of the types above is checked the same way; the
-- column's own limits (length, precision, domain checks) are PostgreSQL's
-- when the statement runs.  Any other type takes the text of the value,
-- cast to the column's type when the statement runs: a bad value is then
-- PostgreSQL's own error.
SET ROLE "ps_rowtypes";
CREATE DOMAIN "ps_rowtypes".score AS integer CHECK (VALUE >= 0);
CREATE TYPE "ps_rowtypes".mood AS ENUM ('happy', 'sad');
CREATE TABLE "ps_rowtypes".legacy (
	id uuid PRIMARY KEY, code varchar(3), small smallint, r real, day date,
	pts "ps_rowtypes".score, mood "ps_rowtypes".mood, nums integer[], doc json, price numeric(5, 2));
RESET ROLE;
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {
	"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "code": "abc", "small": 32767, "r": 1.5,
	"day": "2025-11-22", "pts": 10, "mood": "happy", "nums": [1, 2, 3], "doc": {"k": [1]}, "price": 123.45}}');
SELECT plugin_storage.plugin_row('rowtypes', 'select', '{"table": "legacy", "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}');
SELECT plugin_storage.plugin_row('rowtypes', 'search', '{"table": "legacy", "filters": {
	"mood": {"$in": ["happy", "sad"]}, "day": {"$lt": "2026-01-01"}, "nums": [1, 2, 3], "code": {"$like": "a%"}},
	"fields": ["code"]}');
SELECT plugin_storage.plugin_row('rowtypes', 'update', '{"table": "legacy", "filters": {"code": "abc"},
	"operations": {"nums": {"$push": 4}, "pts": {"$inc": 5}, "day": {"$max": "2025-12-01"}}}');
SELECT nums, pts, day FROM "ps_rowtypes".legacy;
SELECT plugin_storage.plugin_row('rowtypes', 'aggregate', '{"table": "legacy",
	"aggregates": {"first_day": {"$min": "day"}, "top": {"$max": "pts"}, "m": {"$max": "mood"}}}');
-- Checked before running: the base type's rules.
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "x", "small": 32768}}');
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "x", "pts": "many"}}');
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "x", "r": 1e39}}');
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "x", "code": 1}}');
SELECT plugin_storage.plugin_row('rowtypes', 'update', '{"table": "legacy", "filters": {"code": "abc"},
	"operations": {"mood": {"$inc": 1}}}');
SELECT plugin_storage.plugin_row('rowtypes', 'update', '{"table": "legacy", "filters": {"code": "abc"},
	"operations": {"nums": {"$push": [5]}}}');
-- Checked by PostgreSQL when the statement runs, inside the plugin's role.
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "not-a-uuid"}}');
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "code": "abcd"}}');
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "pts": -1}}');
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "mood": "meh"}}');
SELECT plugin_storage.plugin_row('rowtypes', 'insert', '{"table": "legacy", "data": {"id": "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "price": 1234.5}}');
SELECT count(*) FROM "ps_rowtypes".legacy;

SELECT plugin_storage.unregister_plugin('rowtypes', true);
