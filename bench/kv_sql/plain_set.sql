\set k random(1, :keys)
\set v random(1, 1000000)
INSERT INTO bench_plain.kv AS t (ns, collection, key, value, value_bytes, revision, created_at, updated_at, expires_at)
VALUES ('', 'default', 'k' || :k, ('{"n": ' || :v || ', "text": "a plugin value of a typical size"}')::jsonb, NULL,
        nextval('bench_plain.kv_revision'), now(), now(), NULL)
ON CONFLICT (ns, collection, key) DO UPDATE SET value = excluded.value, value_bytes = excluded.value_bytes,
  revision = excluded.revision, updated_at = excluded.updated_at, expires_at = excluded.expires_at,
  created_at = CASE WHEN t.expires_at IS NULL OR t.expires_at > now() THEN t.created_at ELSE excluded.created_at END
RETURNING revision, expires_at;
