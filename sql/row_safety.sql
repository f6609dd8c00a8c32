-- row_safety: a plugin's row requests reach its own tables and nothing else.
-- Names are checked (against ^[a-z_][a-z0-9_]{0,62}$ for tables, against the
-- table's catalog for columns) and quoted; values are bound parameters;
-- the request runs as the plugin's role.
SELECT name FROM plugin_storage.register_plugin('alpha');
SELECT name FROM plugin_storage.register_plugin('beta');
SELECT plugin_storage.plugin_row(p, 'define', '{"table": "scores",
	"columns": {"player": "text", "points": "integer"}, "unique": [["player"]]}') -> 'created'
	FROM unnest(ARRAY['alpha', 'beta']) p;
SELECT plugin_storage.plugin_row('alpha', 'insert', '{"table": "scores", "rows": [{"player": "a1", "points": 1}, {"player": "a2", "points": 2}]}') -> 'ids';
SELECT plugin_storage.plugin_row('beta', 'insert', '{"table": "scores", "rows": [{"player": "b1", "points": 10}, {"player": "b2", "points": 20}]}') -> 'ids';
SELECT plugin_storage.plugin_kv('alpha', 'set', '{"key": "k", "value": "kv-data"}') -> 'ok';
CREATE TABLE public.y (v int);
INSERT INTO public.y VALUES (1);

-- Hostile table names, for every operation: refused before any SQL runs
-- (invalid_request, or forbidden for _ps_ names).  Each request is
-- otherwise valid.
CREATE TEMP TABLE bad_names (name text);
INSERT INTO bad_names VALUES ('beta.scores'), ('"x"; drop table y'), ('x; drop table y'),
	('pg_catalog.pg_authid'), ('../t'), ('_ps_kv'), ('scores '), ('SCORES'), (''), ('ps_beta.scores');
CREATE TEMP TABLE ops (op text, req jsonb);
INSERT INTO ops VALUES
	('define', '{"columns": {"a": "text"}}'), ('describe', '{}'), ('drop_table', '{"confirm": true}'),
	('insert', '{"data": {"player": "x"}}'), ('upsert', '{"data": {"player": "x"}, "on": "player"}'),
	('select', '{"id": 1}'), ('search', '{}'), ('aggregate', '{"aggregates": {"n": {"$count": "*"}}}'),
	('update', '{"filters": {"player": "a1"}, "operations": {"points": 0}}'),
	('delete', '{"filters": {"player": "a1"}}');
SELECT quote_literal(n.name) AS name, string_agg(DISTINCT r -> 'error' ->> 'code', ', ') AS codes, count(*) AS ops,
	count(*) FILTER (WHERE r ? 'error') AS refused
	FROM bad_names n CROSS JOIN ops o
	CROSS JOIN LATERAL plugin_storage.plugin_row('alpha', o.op, o.req || jsonb_build_object('table', n.name)) r
	GROUP BY n.name ORDER BY n.name;
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "\"x\"; drop table y"}');
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "pg_catalog.pg_authid"}');
SELECT plugin_storage.plugin_row('alpha', 'drop_table', '{"table": "_ps_kv", "confirm": true}');
-- A name that is valid but not a table of the plugin is not_found, even
-- if another plugin or schema has it.
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "pg_authid"}');
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "plugins"}');
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "y"}');
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "_ps_kv_revision"}');

-- Hostile column names, in every place a request names a column: checked
-- against the table's catalog, so they are unknown columns.
SELECT r -> 'error' ->> 'code' AS code, r -> 'error' ->> 'message' AS message
	FROM unnest(ARRAY[
		'{"op": "search", "table": "scores", "filters": {"points\"; drop table y; --": 1}}',
		'{"op": "search", "table": "scores", "sort": {"field": "points desc; drop table y"}}',
		'{"op": "search", "table": "scores", "fields": ["player", "(select 1)"]}',
		'{"op": "search", "table": "scores", "fields": ["beta.scores.player"]}',
		'{"op": "aggregate", "table": "scores", "group_by": ["1"], "aggregates": {"n": {"$count": "*"}}}',
		'{"op": "aggregate", "table": "scores", "aggregates": {"n": {"$max": "pg_catalog.now()"}}}',
		'{"op": "aggregate", "table": "scores", "aggregates": {"n; drop table y": {"$count": "*"}}}',
		'{"op": "insert", "table": "scores", "data": {"player) values (1); drop table y; --": 1}}',
		'{"op": "upsert", "table": "scores", "data": {"player": "z"}, "on": ["player) do nothing; --"]}',
		'{"op": "update", "table": "scores", "filters": {"player": "a1"}, "operations": {"points = 0, player": 1}}',
		'{"op": "update", "table": "scores", "filters": {"player": "a1"}, "operations": {"xmin": 1}}',
		'{"op": "search", "table": "scores", "filters": {"ctid": "(0,1)"}}',
		'{"op": "define", "table": "scores", "columns": {"b text); drop table y; --": "text"}}',
		'{"op": "define", "table": "scores", "columns": {"b": "text); drop table y; --"}}',
		'{"op": "define", "table": "scores", "indexes": [["player); drop table y; --"]]}'
	]::jsonb[]) AS t(q)
	CROSS JOIN LATERAL plugin_storage.plugin_row('alpha', q ->> 'op', q - 'op') r;

-- Hostile values are only ever values: bound parameters of the column's type.
SELECT plugin_storage.plugin_row('alpha', 'insert', '{"table": "scores", "data": {"player": "x''); drop table y; --", "points": 3}}') ? 'id' AS inserted;
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "scores", "filters": {"player": {"$like": "%drop table y%"}}, "fields": "player"}') -> 'rows';
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "scores", "filters": {"player": "a1'' OR ''1''=''1"}}') -> 'count';
SELECT plugin_storage.plugin_row('alpha', 'search', '{"table": "scores", "filters": {"points": "1 OR 1=1"}}');
SELECT count(*) AS y_rows FROM public.y;

-- Another plugin's table of the same name is never touched: alpha's every
-- operation, including "all": true and drop_table, leaves beta's alone.
SELECT plugin_storage.plugin_row('alpha', 'update', '{"table": "scores", "all": true, "operations": {"points": {"$inc": 100}}}');
SELECT plugin_storage.plugin_row('alpha', 'upsert', '{"table": "scores", "data": {"player": "b1", "points": -1}, "on": "player"}');
SELECT plugin_storage.plugin_row('alpha', 'delete', '{"table": "scores", "filters": {"player": "b2"}}');
SELECT plugin_storage.plugin_row('alpha', 'aggregate', '{"table": "scores", "aggregates": {"n": {"$count": "*"}, "total": {"$sum": "points"}}}');
SELECT plugin_storage.plugin_row('alpha', 'define', '{"table": "scores", "columns": {"extra": "text"}}') -> 'columns_added';
SELECT plugin_storage.plugin_row('alpha', 'delete', '{"table": "scores", "all": true}');
SELECT plugin_storage.plugin_row('alpha', 'drop_table', '{"table": "scores", "confirm": true}');
SELECT player, points FROM "ps_beta".scores ORDER BY player;
SELECT jsonb_path_query_array(plugin_storage.plugin_row('beta', 'describe', '{"table": "scores"}'), '$.columns[*].name');
SELECT plugin_storage.plugin_row('beta', 'search', '{"table": "scores", "fields": ["player", "points"]}');
SELECT plugin_storage.plugin_row('alpha', 'tables', '{}');
SELECT plugin_storage.plugin_row('beta', 'tables', '{}');
-- alpha's KV keys are untouched too.
SELECT plugin_storage.plugin_kv_get('alpha', 'k');

-- Requests run as the plugin's role, restricted, with its search path: a
-- trigger on beta's table (installed by the DBA) shows who runs it and what
-- it may not do.
CREATE FUNCTION public.regress_row_probe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'current_user = %, search path = %', current_user, current_schemas(true);
	BEGIN
		PERFORM count(*) FROM "ps_alpha"._ps_kv;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'read alpha: %', SQLERRM;
	END;
	BEGIN
		PERFORM count(*) FROM public.y;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'read public.y: %', SQLERRM;
	END;
	BEGIN
		SET ROLE postgres;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'SET ROLE: %', SQLERRM;
	END;
	RETURN NEW;
END
$$;
REVOKE ALL ON public.y FROM PUBLIC;
CREATE TRIGGER regress_row_probe BEFORE INSERT OR UPDATE ON "ps_beta".scores
	FOR EACH ROW EXECUTE FUNCTION public.regress_row_probe();
SELECT plugin_storage.plugin_row('beta', 'update', '{"table": "scores", "filters": {"player": "b1"}, "operations": {"points": {"$inc": 1}}}');
DROP TRIGGER regress_row_probe ON "ps_beta".scores;
DROP FUNCTION public.regress_row_probe();
SELECT current_user, current_schemas(false);

-- Only the bridge's role may call the row entry points; plugin roles and
-- PUBLIC may not.
CREATE ROLE regress_row_bridge IN ROLE plugin_storage_bridge;
CREATE ROLE regress_row_nobody;
SELECT p.proname, has_function_privilege('regress_row_bridge', p.oid, 'EXECUTE') AS bridge,
	has_function_privilege('ps_beta', p.oid, 'EXECUTE') AS plugin,
	has_function_privilege('regress_row_nobody', p.oid, 'EXECUTE') AS public
	FROM pg_proc p WHERE p.pronamespace = 'plugin_storage'::regnamespace AND p.proname LIKE '%row%' ORDER BY 1;
SET ROLE "ps_beta";
SELECT plugin_storage.plugin_row('beta', 'search', '{"table": "scores"}');
RESET ROLE;
SET ROLE regress_row_bridge;
SELECT plugin_storage.plugin_row('beta', 'search', '{"table": "scores", "fields": "player"}') -> 'count';
SELECT * FROM "ps_beta".scores;
RESET ROLE;
DROP ROLE regress_row_bridge;
DROP ROLE regress_row_nobody;

DROP TABLE public.y;
SELECT plugin_storage.unregister_plugin(p, true) FROM unnest(ARRAY['alpha', 'beta']) p;
