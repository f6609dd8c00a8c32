-- sql_query: the SQL tier's requests and replies.  One statement written by
-- the plugin runs under its role, in its schema; the reply lists the columns
-- and the rows as JSON.
SET TIME ZONE 'UTC';
SELECT name FROM plugin_storage.register_plugin('sqlq');

-- The SQL tier sees the same tables as the row tier: a table made by define
-- is written here with SQL...
SELECT plugin_storage.plugin_row('sqlq', 'define', '{"table": "trivia_rounds",
	"columns": {"user_id": "text", "result": "text", "timestamp": "timestamptz"}}') -> 'created';
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "INSERT INTO trivia_rounds (user_id, result, timestamp) VALUES (''ann'', ''win'', ''2025-11-02T10:00:00Z''), (''ann'', ''win'', ''2025-11-03T10:00:00Z''), (''bob'', ''win'', ''2025-11-05T10:00:00Z''), (''bob'', ''loss'', ''2025-11-05T11:00:00Z''), (''cid'', ''win'', ''2025-10-01T10:00:00Z'')", "allow_write": true}');
-- ...and what SQL writes is there for the row tier.
SELECT plugin_storage.plugin_row('sqlq', 'search', '{"table": "trivia_rounds", "filters": {"user_id": "bob"}, "fields": ["user_id", "result"], "sort": "id"}') -> 'rows';

-- The seed's leaderboard query, with :name placeholders bound as parameters.
SELECT jsonb_pretty(plugin_storage.plugin_sql('sqlq', '{"query": "SELECT user_id, COUNT(*) as wins FROM trivia_rounds WHERE result = :result AND timestamp > :since GROUP BY user_id ORDER BY wins DESC LIMIT :limit",
	"params": {"result": "win", "since": "2025-11-01", "limit": 10}}'));

-- No rows is an empty "rows", with the columns still described.
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT id, user_id FROM trivia_rounds WHERE false"}');

-- Values come back as JSON the way to_jsonb() writes them (and the row tier
-- does): numbers as numbers, NaN and infinities as strings, timestamps in ISO
-- 8601, json and jsonb embedded, arrays as arrays (nested per dimension),
-- records as objects, other types as their text.  "type" is the type's SQL name.
SELECT jsonb_pretty(plugin_storage.plugin_sql('sqlq', $${"query": "SELECT 1::smallint AS i2, 2147483647 AS i4, 9223372036854775807 AS i8, 12345678901234567890.5 AS num, 'NaN'::numeric AS nan, 0.1::float8 AS f8, '-Infinity'::float4 AS inf, true AS b, NULL::text AS nothing, 'héllo \"q\"' AS t, 'x'::varchar(3) AS vc, '2025-11-22 10:30:00.5+02'::timestamptz AS ts, '2025-11-22'::date AS d, '2025-11-22 10:30'::timestamp AS lts, '{\"a\": [1, null]}'::jsonb AS jb, '{\"z\": 1, \"a\": 2}'::json AS js, ARRAY['a', NULL] AS ta, ARRAY[[1, 2], [3, 4]] AS ia, '{}'::int[] AS empty, ROW(1, 'x') AS rec, '1 day'::interval AS iv, '\\x00ff'::bytea AS by, 'infinity'::timestamptz AS forever"}$$));

-- Two output columns of the same name would be one key of a row object: the
-- second and later get a suffix _2, _3, ... that no other column has, and
-- "columns" lists the keys the rows use.
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1 AS a, 2 AS a, 3 AS a_2, 4 AS a"}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1, 2"}');

-- Read-only by default: a write without "allow_write" is forbidden, and the
-- message and hint say how to ask for it.
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "DELETE FROM trivia_rounds"}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "WITH d AS (DELETE FROM trivia_rounds RETURNING 1) SELECT count(*) FROM d"}') -> 'error' ->> 'code';
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT * FROM trivia_rounds FOR UPDATE"}') -> 'error' ->> 'code';
SELECT count(*) FROM "ps_sqlq".trivia_rounds;

-- Writes: row_count is the rows changed, "rows" their RETURNING rows.
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "UPDATE trivia_rounds SET result = :r WHERE user_id = :u", "params": {"r": "draw", "u": "cid"}, "allow_write": true}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "INSERT INTO trivia_rounds (user_id, result) VALUES (:u, :r) RETURNING user_id, result", "params": {"u": "dee", "r": "win"}, "allow_write": true}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "DELETE FROM trivia_rounds WHERE user_id = :u RETURNING user_id", "params": {"u": "dee"}, "allow_write": true}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "WITH moved AS (UPDATE trivia_rounds SET result = ''win'' WHERE result = ''draw'' RETURNING user_id) SELECT user_id FROM moved", "allow_write": true}');

-- Exactly one statement, checked by PostgreSQL's parser: SELECT, INSERT,
-- UPDATE, DELETE (WITH included); anything else is invalid_request naming it.
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1; DELETE FROM trivia_rounds"}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1;"}') -> 'rows';
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "  -- nothing here\n ;"}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "MERGE INTO trivia_rounds t USING trivia_rounds s ON t.id = s.id WHEN MATCHED THEN DELETE", "allow_write": true}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "CREATE TABLE t2 (a int)", "allow_write": true}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1 AS a INTO t3", "allow_write": true}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "EXPLAIN SELECT 1"}');
SELECT q, plugin_storage.plugin_sql('sqlq', jsonb_build_object('query', q, 'allow_write', true)) -> 'error' ->> 'message' AS message
	FROM unnest(ARRAY['BEGIN', 'COMMIT', 'SET work_mem = 1', 'RESET ROLE', 'DO $$BEGIN END$$',
		'COPY trivia_rounds TO STDOUT', 'TRUNCATE trivia_rounds', 'VACUUM', 'CALL p()',
		'PREPARE x AS SELECT 1', 'DROP TABLE trivia_rounds']) q;
SELECT to_regclass('"ps_sqlq".trivia_rounds') IS NOT NULL AS still_there;

-- Errors keep PostgreSQL's message, SQLSTATE, hint and position (in the
-- query as the plugin wrote it), under a stable code.
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT * FROM no_such_table WHERE x = :x", "params": {"x": 1}}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT nope FROM trivia_rounds WHERE result = :result", "params": {"result": "win"}}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT user_id FROM trivia_rounds WHERE result = :result AND", "params": {"result": "win"}}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT ''unterminated"}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1 / 0"}');
SELECT plugin_storage.plugin_row('sqlq', 'define', '{"table": "players", "columns": {"name": "text"}, "unique": [["name"]]}') -> 'created';
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "INSERT INTO players (name) VALUES (:n), (:n)", "params": {"n": "zed"}, "allow_write": true}');
SELECT count(*) FROM "ps_sqlq".players;
SELECT plugin_storage.plugin_sql('nobody', '{"query": "SELECT 1"}');
SELECT plugin_storage.plugin_sql('No Such', '{"query": "SELECT 1"}');

-- The request is a JSON object with a string "query"; unknown fields are
-- refused, null ones are absent.
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1", "allow_writes": true}');
SELECT plugin_storage.plugin_sql('sqlq', '{"params": {}}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": 42}');
SELECT plugin_storage.plugin_sql('sqlq', '[]');
SELECT plugin_storage.plugin_sql('sqlq', NULL);
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1", "params": [1]}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1", "allow_write": "yes"}');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT 1 AS one", "params": null, "max_rows": null, "timeout_ms": null, "allow_write": null, "explain": null}') -> 'rows';

-- Inside a caller's transaction: a read-only request does not leave the
-- transaction read-only, and writes of the same transaction still work.
BEGIN;
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT count(*) AS n FROM trivia_rounds"}') -> 'rows';
SHOW transaction_read_only;
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "INSERT INTO players (name) VALUES (:n)", "params": {"n": "in-tx"}, "allow_write": true}') -> 'row_count';
INSERT INTO "ps_sqlq".players (name) VALUES ('direct');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "DELETE FROM players"}') -> 'error' ->> 'code';
COMMIT;
SELECT name FROM "ps_sqlq".players ORDER BY name;
-- A failed request rolls back only itself: the caller's transaction goes on.
BEGIN;
INSERT INTO "ps_sqlq".players (name) VALUES ('kept');
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "INSERT INTO players (name) VALUES (''kept'')", "allow_write": true}') -> 'error' ->> 'code';
COMMIT;
SELECT count(*) FROM "ps_sqlq".players WHERE name = 'kept';

-- Settings the plugin's SQL changes do not outlive the request, even
-- session-wide ones (the bridge's connections serve every plugin).
SHOW work_mem;
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT set_config(''work_mem'', ''77kB'', false) AS w, current_setting(''work_mem'') AS now"}') -> 'rows';
SHOW work_mem;
SELECT plugin_storage.plugin_sql('sqlq', '{"query": "SELECT current_user AS who, current_schemas(true) AS path, current_setting(''transaction_read_only'') AS ro"}') -> 'rows';

-- For DBAs: plugin_sql_query() takes typed arguments and raises errors
-- (SQLSTATE as PostgreSQL's, or by code), like the row tier's functions.
SELECT plugin_storage.plugin_sql_query('sqlq', 'SELECT user_id, count(*) AS n FROM trivia_rounds WHERE result = :r GROUP BY 1 ORDER BY 1', '{"r": "win"}') -> 'rows';
SELECT plugin_storage.plugin_sql_query('sqlq', 'UPDATE trivia_rounds SET result = result WHERE user_id = :u', '{"u": "ann"}', allow_write => true) -> 'row_count';
SELECT plugin_storage.plugin_sql_query('sqlq', 'SELECT g FROM generate_series(1, 5) g', max_rows => 2) - 'columns';
SELECT plugin_storage.plugin_sql_query('sqlq', 'DELETE FROM trivia_rounds');
SELECT plugin_storage.plugin_sql_query('sqlq', 'SELECT * FROM nowhere');
SELECT plugin_storage._plugin_sql_raise('sqlq', '{"query": "SELECT :a", "params": {}}');

SELECT plugin_storage.unregister_plugin('sqlq', true);
