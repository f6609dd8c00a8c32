-- sql_explain: profiling.  {"explain": true} runs EXPLAIN (ANALYZE, BUFFERS,
-- FORMAT JSON) of the same statement with the same parameters and answers
-- the plan; the request is always rolled back.  Costs and times vary from
-- run to run, so this file checks the reply's shape, not its numbers.
SELECT name FROM plugin_storage.register_plugin('sqle');
SELECT plugin_storage.plugin_row('sqle', 'define', '{"table": "scores",
	"columns": {"player": "text", "score": "integer"}, "indexes": [["player"]]}') -> 'created';
SELECT plugin_storage.plugin_sql('sqle', '{"query": "INSERT INTO scores (player, score) SELECT ''p'' || g % 10, g FROM generate_series(1, 100) g", "allow_write": true}') -> 'row_count';
-- e(request): the keys of the reply and of its plan, and what the plan's
-- top node is.
CREATE FUNCTION pg_temp.e(request jsonb) RETURNS TABLE (reply_keys text[], plan_keys text[], node text, rows int,
		planning_ms_is_number boolean, execution_ms_is_number boolean, rolled_back boolean, command text)
	LANGUAGE sql AS $$
	SELECT ARRAY(SELECT jsonb_object_keys(r) ORDER BY 1),
		ARRAY(SELECT k FROM jsonb_object_keys(r -> 'plan') k
			WHERE k IN ('Node Type', 'Actual Rows', 'Actual Loops', 'Shared Hit Blocks', 'Plans', 'Total Cost') ORDER BY 1),
		r -> 'plan' ->> 'Node Type', (r -> 'plan' ->> 'Actual Rows')::int,
		jsonb_typeof(r -> 'planning_ms') = 'number', jsonb_typeof(r -> 'execution_ms') = 'number',
		(r ->> 'rolled_back')::boolean, r ->> 'command'
	FROM plugin_storage.plugin_sql('sqle', request) r $$;

-- A read, with a parameter: the plan tree with actual rows and buffers.
SELECT * FROM pg_temp.e('{"query": "SELECT player, sum(score) FROM scores WHERE score > :min GROUP BY player", "params": {"min": 50}, "explain": true}');
-- The parameters are bound as for a plain run: the plan filters on the value.
SELECT plugin_storage.plugin_sql('sqle', '{"query": "SELECT * FROM scores WHERE player = :p", "params": {"p": "p3"}, "explain": true}')
	-> 'plan' @? '$.** ? (@ like_regex "p3")' AS uses_value;

-- A write needs allow_write (ANALYZE runs it), and is rolled back anyway.
SELECT plugin_storage.plugin_sql('sqle', '{"query": "DELETE FROM scores WHERE score > :s", "params": {"s": 0}, "explain": true}') -> 'error' ->> 'code';
SELECT * FROM pg_temp.e('{"query": "DELETE FROM scores WHERE score > :s RETURNING player", "params": {"s": 0}, "explain": true, "allow_write": true}');
SELECT * FROM pg_temp.e('{"query": "UPDATE scores SET score = 0", "explain": true, "allow_write": true}');
SELECT count(*) AS rows_kept, sum(score) AS sum_kept FROM "ps_sqle".scores;

-- The statement is checked as for a plain run first.
SELECT plugin_storage.plugin_sql('sqle', '{"query": "DROP TABLE scores", "explain": true, "allow_write": true}') -> 'error' ->> 'message';
SELECT plugin_storage.plugin_sql('sqle', '{"query": "SELECT 1; SELECT 2", "explain": true}') -> 'error' ->> 'message';
SELECT plugin_storage.plugin_sql('sqle', '{"query": "SELECT :a::int", "explain": true}') -> 'error' ->> 'message';
SELECT plugin_storage.plugin_sql('sqle', '{"query": "SELECT nope FROM scores", "explain": true}') -> 'error';
-- The timeout applies: ANALYZE runs the statement.
SELECT plugin_storage.plugin_sql('sqle', '{"query": "SELECT pg_sleep(10)", "explain": true, "timeout_ms": 50}') -> 'error' ->> 'code';
-- A statement that ends with a ; or a comment is explained as it is.
SELECT (pg_temp.e('{"query": "SELECT 1 -- the end", "explain": true}')).node;
SELECT (pg_temp.e('{"query": "SELECT 1;", "explain": true}')).node;
-- "explain" must be a boolean.
SELECT plugin_storage.plugin_sql('sqle', '{"query": "SELECT 1", "explain": "yes"}') -> 'error' ->> 'message';

SELECT plugin_storage.unregister_plugin('sqle', true);
