-- sql_guardrails: the SQL tier's limits.  Each is a setting (only a
-- superuser changes it) that a plugin's row in plugin_storage.plugin_limits
-- overrides; a request may lower max_rows and timeout_ms, never raise them.
SET TIME ZONE 'UTC';
SELECT name FROM plugin_storage.register_plugin('sqlg');
SELECT name FROM plugin_storage.register_plugin('sqlg2');
SELECT plugin_storage.plugin_row('sqlg', 'define', '{"table": "counters", "columns": {"n": "integer"}}') -> 'created';
SELECT plugin_storage.plugin_sql('sqlg', '{"query": "INSERT INTO counters (n) SELECT 0 FROM generate_series(1, 10)", "allow_write": true}') -> 'row_count';
-- g(plugin, request): the reply without its rows and columns, and how many
-- rows it holds.
CREATE FUNCTION pg_temp.g(plugin text, request jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN r ? 'error' THEN r
		ELSE r - 'rows' - 'columns' || jsonb_build_object('rows_in_reply', jsonb_array_length(r -> 'rows')) END
	FROM plugin_storage.plugin_sql(plugin, request) r $$;

-- The settings, and their defaults.
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'plugin_storage.sql%' ORDER BY name;

-- Rows: a reply holds at most plugin_storage.sql_max_rows rows (1000); past
-- it, "truncated": true and "truncated_by": "max_rows".
SELECT pg_temp.g('sqlg', '{"query": "SELECT g FROM generate_series(1, 1500) g"}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT g FROM generate_series(1, 1000) g"}');
-- A request may ask for fewer, never for more; the error names the limit.
SELECT pg_temp.g('sqlg', '{"query": "SELECT g FROM generate_series(1, 10) g", "max_rows": 3}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT g FROM generate_series(1, 3) g", "max_rows": 3}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT g FROM generate_series(1, 3) g", "max_rows": 0}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1", "max_rows": 1001}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1", "max_rows": -1}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1", "max_rows": "5"}');
-- The setting applies to every plugin without a limit of its own...
SET plugin_storage.sql_max_rows = 2;
SELECT pg_temp.g('sqlg', '{"query": "SELECT g FROM generate_series(1, 10) g"}');
RESET plugin_storage.sql_max_rows;
-- ...and a plugin's own limit applies to it alone, at once.
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', max_rows => 5);
SELECT pg_temp.g('sqlg', '{"query": "SELECT g FROM generate_series(1, 10) g"}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1", "max_rows": 6}');
SELECT pg_temp.g('sqlg2', '{"query": "SELECT g FROM generate_series(1, 10) g"}');
-- A write changes every row it matches: row_count counts them all, while
-- "rows" holds the RETURNING rows up to the limit.
SELECT pg_temp.g('sqlg', '{"query": "UPDATE counters SET n = n + 1 RETURNING id", "allow_write": true, "max_rows": 3}');
SELECT n, count(*) FROM "ps_sqlg".counters GROUP BY n;
SELECT pg_temp.g('sqlg', '{"query": "WITH u AS (UPDATE counters SET n = n + 1 RETURNING id) SELECT id FROM u", "allow_write": true, "max_rows": 2}');
SELECT n, count(*) FROM "ps_sqlg".counters GROUP BY n;

-- Bytes: a reply's JSON text stays within plugin_storage.sql_max_result_bytes
-- (900kB): rows that would pass it are left out, "truncated_by":
-- "max_result_bytes".
CREATE FUNCTION pg_temp.sized(lim int) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('plugin_storage.sql_max_result_bytes', lim::text, true);
	RETURN plugin_storage.plugin_sql('sqlg2', '{"query": "SELECT g, repeat(''é'', 40) AS pad FROM generate_series(1, 50) g"}');
END $$;
SELECT lim, octet_length(r::text) <= lim AS fits, jsonb_array_length(r -> 'rows') AS rows,
	r -> 'truncated' AS truncated, r ->> 'truncated_by' AS truncated_by
	FROM unnest(ARRAY[400, 1000, 3000, 5000, 100000]) lim, LATERAL pg_temp.sized(lim) r;
-- Below the size of the reply's frame (columns, counts) no row fits: the
-- frame is still sent.
SELECT pg_temp.sized(100) - 'columns';
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', max_result_bytes => 1000);
SELECT pg_temp.g('sqlg', '{"query": "SELECT g, repeat(''x'', 100) AS pad FROM generate_series(1, 50) g"}');
-- Both limits at once: whichever cuts first is named.
SELECT pg_temp.g('sqlg', '{"query": "SELECT g, repeat(''x'', 100) AS pad FROM generate_series(1, 50) g", "max_rows": 2}');

-- Time: a statement running longer than plugin_storage.sql_statement_timeout
-- (5 s), or the request's lower timeout_ms, is cancelled: code "timeout".
SELECT pg_temp.g('sqlg', '{"query": "SELECT pg_sleep(10)", "timeout_ms": 50}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1", "timeout_ms": 5001}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1", "timeout_ms": 0}');
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', statement_timeout_ms => 50);
SELECT pg_temp.g('sqlg', '{"query": "SELECT pg_sleep(10)"}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1", "timeout_ms": 51}');
-- The tier's timer governs the plugin's statement, not the caller's
-- statement_timeout (the bridge sets one for its own deadline), and a
-- timeout leaves the caller's transaction going.
SET statement_timeout = '100ms';
SELECT pg_temp.g('sqlg2', '{"query": "SELECT pg_sleep(0.5) IS NULL AS slept"}');
RESET statement_timeout;
BEGIN;
SELECT pg_temp.g('sqlg', '{"query": "UPDATE counters SET n = 100 WHERE pg_sleep(10) IS NULL", "allow_write": true}');
SELECT pg_temp.g('sqlg', '{"query": "UPDATE counters SET n = 0", "allow_write": true}');
COMMIT;
SELECT n, count(*) FROM "ps_sqlg".counters GROUP BY n;

-- Rate: plugin_storage.sql_rate_limit requests per second per plugin (0, the
-- default, is no limit), with bursts of plugin_storage.sql_rate_burst.  The
-- bucket of tokens lives in shared memory, so it holds across every bridge
-- and connection.  Start from a full bucket of 3 (a huge rate refills it),
-- then allow one request every 1000 s: 3 requests pass, the 4th is
-- rate_limited, with the wait in the message and in retry_after_ms.
SELECT rate_limit, rate_burst FROM plugin_storage.set_plugin_limits('sqlg', rate_limit => 1e9, rate_burst => 3);
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1"}') -> 'row_count';
SELECT rate_limit, rate_burst FROM plugin_storage.set_plugin_limits('sqlg', rate_limit => 0.001, rate_burst => 3);
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1"}') -> 'row_count';
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1"}') -> 'row_count';
SELECT r -> 'error' ->> 'code' AS code,
	r -> 'error' ->> 'message' ~ '^plugin "sqlg" is over its SQL rate limit of 0.001 requests per second \(burst 3\): retry in \d+ ms$' AS message,
	(r -> 'error' ->> 'retry_after_ms')::bigint BETWEEN 990000 AND 1000000 AS retry_after_ms
	FROM pg_temp.g('sqlg', '{"query": "SELECT 1"}') r;
-- Every request counts, explain and failed ones included; other plugins
-- have their own buckets.
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1", "explain": true}') -> 'error' ->> 'code';
SELECT pg_temp.g('sqlg2', '{"query": "SELECT 1"}') -> 'row_count';
-- The setting applies to plugins without a rate of their own; a plugin's
-- rate of 0 lifts the setting for it.
SET plugin_storage.sql_rate_limit = 1e9;
SET plugin_storage.sql_rate_burst = 1;
SELECT pg_temp.g('sqlg2', '{"query": "SELECT 1"}') -> 'row_count';
SET plugin_storage.sql_rate_limit = 0.001;
SELECT pg_temp.g('sqlg2', '{"query": "SELECT 1"}') -> 'error' ->> 'code';
SELECT rate_limit FROM plugin_storage.set_plugin_limits('sqlg2', rate_limit => 0);
SELECT pg_temp.g('sqlg2', '{"query": "SELECT 1"}') -> 'row_count';
RESET plugin_storage.sql_rate_limit;
RESET plugin_storage.sql_rate_burst;
-- The raising twin answers rate_limited with SQLSTATE 53400.
DO $$
BEGIN
	PERFORM plugin_storage._plugin_sql_raise('sqlg', '{"query": "SELECT 1"}');
EXCEPTION WHEN configuration_limit_exceeded THEN
	RAISE NOTICE 'rate limited: %', SQLSTATE;
END $$;

-- set_plugin_limits sets every limit at once: one left out (NULL) falls
-- back to its setting.  Limits are checked, and the plugin must exist; its
-- limits go when it is unregistered.
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', max_rows => 7);
SELECT pg_temp.g('sqlg', '{"query": "SELECT g FROM generate_series(1, 10) g"}');
SELECT pg_temp.g('sqlg', '{"query": "SELECT pg_sleep(0.2) IS NULL AS slept"}') -> 'row_count';
SELECT * FROM plugin_storage.set_plugin_limits('sqlg');
\set VERBOSITY terse
SELECT * FROM plugin_storage.set_plugin_limits('nobody', max_rows => 1);
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', max_rows => 0);
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', statement_timeout_ms => -5);
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', rate_limit => -1);
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', rate_burst => 0);
\set VERBOSITY default
SELECT plugin, max_rows FROM plugin_storage.plugin_limits ORDER BY 1;

-- Who may do what: the bridge's role calls the SQL entry points (and reads
-- the limits, which its plugin cache loads); only superusers and the
-- extension's owner set limits; plugin roles call nothing.
CREATE ROLE regress_sql_bridge IN ROLE plugin_storage_bridge;
SELECT p.proname, has_function_privilege('regress_sql_bridge', p.oid, 'EXECUTE') AS bridge,
	has_function_privilege('ps_sqlg', p.oid, 'EXECUTE') AS plugin
	FROM pg_proc p WHERE p.pronamespace = 'plugin_storage'::regnamespace
		AND (p.proname LIKE '%sql%' OR p.proname = 'set_plugin_limits') ORDER BY 1;
SELECT has_table_privilege('regress_sql_bridge', 'plugin_storage.plugin_limits', 'SELECT') AS bridge_reads,
	has_table_privilege('regress_sql_bridge', 'plugin_storage.plugin_limits', 'INSERT, UPDATE, DELETE') AS bridge_writes,
	has_table_privilege('ps_sqlg', 'plugin_storage.plugin_limits', 'SELECT') AS plugin_reads;
SET ROLE regress_sql_bridge;
SELECT pg_temp.g('sqlg', '{"query": "SELECT count(*) AS n FROM counters"}');
SELECT * FROM plugin_storage.set_plugin_limits('sqlg', max_rows => 100000);
UPDATE plugin_storage.plugin_limits SET max_rows = 100000;
RESET ROLE;
SET ROLE "ps_sqlg";
SELECT plugin_storage.plugin_sql('sqlg', '{"query": "SELECT 1"}');
RESET ROLE;
DROP ROLE regress_sql_bridge;

-- Slow requests: one that ran at least plugin_storage.sql_log_min_duration
-- (1 s; -1 never, 0 always) is logged with the plugin's name and its query,
-- never the parameters' values (the duration is in the DETAIL line).
SET client_min_messages = log;
\set VERBOSITY terse
SET plugin_storage.sql_log_min_duration = 0;
SELECT pg_temp.g('sqlg', '{"query": "SELECT :secret::text AS s", "params": {"secret": "hunter2"}}') -> 'row_count';
SELECT pg_temp.g('sqlg', '{"query": "SELECT 1 / 0"}') -> 'error' ->> 'code';
SET plugin_storage.sql_log_min_duration = -1;
SELECT pg_temp.g('sqlg', '{"query": "SELECT 2"}') -> 'row_count';
RESET plugin_storage.sql_log_min_duration;
\set VERBOSITY default
RESET client_min_messages;

SELECT plugin_storage.unregister_plugin(p, true) FROM unnest(ARRAY['sqlg', 'sqlg2']) p;
SELECT count(*) FROM plugin_storage.plugin_limits;
