\set k random(1, :keys)
SELECT value, value_bytes, revision, created_at, updated_at, expires_at FROM bench_plain.kv
 WHERE ns = '' AND collection = 'default' AND key = 'k' || :k AND (expires_at IS NULL OR expires_at > now());
