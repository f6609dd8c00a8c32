-- The benchmark's data: plugin "bench" with 10,000 keys, and an identical
-- plain table (same columns, indexes and constraints) with the same rows.
CREATE EXTENSION IF NOT EXISTS plugin_storage;
SELECT name FROM plugin_storage.register_plugin('bench');
CREATE SCHEMA bench_plain;
CREATE TABLE bench_plain.kv (LIKE plugin_storage.workspace_kv INCLUDING ALL) WITH (fillfactor = 80);
CREATE SEQUENCE bench_plain.kv_revision;
INSERT INTO "ps_bench"._ps_kv
	SELECT '', 'default', 'k' || i, '{"n": 1, "text": "a plugin value of a typical size"}', NULL,
		nextval('"ps_bench"._ps_kv_revision'), now(), now(), NULL
	FROM generate_series(1, :keys) i;
INSERT INTO bench_plain.kv SELECT * FROM "ps_bench"._ps_kv;
VACUUM ANALYZE "ps_bench"._ps_kv;
VACUUM ANALYZE bench_plain.kv;
