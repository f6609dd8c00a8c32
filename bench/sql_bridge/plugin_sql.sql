-- The benchmark's request, through plugin_sql over libpq (no NATS, no bridge); :req is the JSON
-- request (pgbench -D req=...), sent as a bound parameter in prepared mode.
SELECT plugin_storage.plugin_sql('bench', :req::jsonb);
