-- sql_params: :name placeholders.  They are found by PostgreSQL's own
-- scanner and become bound parameters ($n), never text: a value can hold
-- anything, quotes and SQL included, and stays a value.
SET TIME ZONE 'UTC';
SELECT name FROM plugin_storage.register_plugin('sqlp');
SELECT plugin_storage.plugin_row('sqlp', 'define', '{"table": "items",
	"columns": {"name": "text", "qty": "integer", "price": "numeric", "tags": "text[]",
	            "meta": "jsonb", "seen": "timestamptz", "ok": "boolean"}}') -> 'created';
-- q(query, params): the reply's rows, or its error.
CREATE FUNCTION pg_temp.q(query text, params jsonb DEFAULT '{}', allow_write boolean DEFAULT false)
	RETURNS jsonb LANGUAGE sql AS $$
	SELECT coalesce(r -> 'error', r -> 'rows')
	FROM plugin_storage.plugin_sql('sqlp', jsonb_build_object('query', query, 'params', params,
		'allow_write', allow_write)) r $$;

-- A placeholder is ':' followed directly by a name: an identifier or a
-- keyword (so :limit, :user and :select work).  Names are matched exactly as
-- written: :userId is "userId".
SELECT pg_temp.q('SELECT :name::text AS a, :limit::int AS b, :user::text AS c, :select::boolean AS d, :userId::int AS e, :_x1$::text AS f',
	'{"name": "n", "limit": 3, "user": "u", "select": true, "userId": 7, "_x1$": "dollar"}');
SELECT pg_temp.q('SELECT :userid::int', '{"userId": 7}');
-- The same name used twice is one parameter.
SELECT pg_temp.q('SELECT :v::int + :v AS twice, :v = :v AS same', '{"v": 21}');
-- Casts (::), string and dollar-quoted literals, quoted identifiers,
-- comments and := are left alone: no placeholder in them.
SELECT pg_temp.q($$SELECT ':a' AS lit, $d$ :b $d$ AS dollar, E'\\:c' AS esc, 1::text AS cast, "x:y".v AS quoted -- :d
	FROM (SELECT 2 AS v) AS "x:y" /* :e */$$);
SELECT pg_temp.q('SELECT make_interval(days => :d) AS arrow, make_interval(days := :d) AS colon_equals', '{"d": 2}');
-- Array slices with constants work; with names, put spaces around the ':',
-- or a[lo:hi] reads :hi as a placeholder.
SELECT pg_temp.q('SELECT (ARRAY[1, 2, 3, 4])[2:3] AS s, (ARRAY[1, 2, 3, 4])[:n:4] AS t', '{"n": 3}');
SELECT pg_temp.q('SELECT (a)[lo:hi] FROM (SELECT ARRAY[1, 2, 3] AS a, 1 AS lo, 2 AS hi) t');
SELECT pg_temp.q('SELECT (a)[lo : hi] AS s FROM (SELECT ARRAY[1, 2, 3] AS a, 1 AS lo, 2 AS hi) t');
-- A ':' before a quoted name or a literal is not a placeholder.
SELECT pg_temp.q('SELECT :"name"', '{}');
SELECT pg_temp.q('SELECT :''name''', '{}');
-- Placeholders next to other tokens, with no spaces.
SELECT pg_temp.q('SELECT(:a)AS p,-:n::int AS n,:s||:t AS c,ARRAY[:a,:a]AS arr', '{"a": 5, "n": 6, "s": "x", "t": "y"}');
-- One parameter has one type: uses that ask for two are refused (PostgreSQL's
-- messages name the placeholder, not the $n it became).
SELECT pg_temp.q('SELECT :a AS p, :a::int AS n', '{"a": 1}');

-- Every placeholder needs a value, every value a placeholder, and values go
-- by name only: $1 in the query is refused.  Each error names the culprit.
SELECT pg_temp.q('SELECT :a::int, :b::int', '{"a": 1}');
SELECT pg_temp.q('SELECT :a::int', '{"a": 1, "b": 2}');
SELECT pg_temp.q('SELECT :a::int', '{}');
SELECT pg_temp.q('SELECT :a::int', NULL);
SELECT pg_temp.q('SELECT 1', '{"a": 1}');
SELECT pg_temp.q('SELECT $1::int', '{}');
SELECT pg_temp.q('SELECT :a::int + $2', '{"a": 1}');

-- Types are inferred by PostgreSQL, as the extended protocol does: a
-- placeholder takes the type of what it is compared with, inserted into or
-- cast to, LIMIT's bigint, and text when nothing says (cast it then).
SELECT plugin_storage.plugin_sql('sqlp', '{"query": "INSERT INTO items (name, qty, price, tags, meta, seen, ok) VALUES (:name, :qty, :price, :tags, :meta, :seen, :ok) RETURNING name, qty, price, tags, meta, seen, ok",
	"params": {"name": "apple", "qty": 3, "price": 1.25, "tags": ["red", "fruit"], "meta": {"origin": "NZ", "grades": [1, 2]}, "seen": "2025-11-22T10:30:00Z", "ok": true},
	"allow_write": true}') -> 'rows';
SELECT plugin_storage.plugin_sql('sqlp', '{"query": "INSERT INTO items (name, qty, price, tags, meta, seen, ok) VALUES (:name, :qty, :price, :tags, :meta, :seen, :ok) RETURNING name, qty, price, tags, meta, seen, ok",
	"params": {"name": "pear", "qty": "4", "price": "2.50", "tags": "{green}", "meta": "a string", "seen": "2025-11-23", "ok": false},
	"allow_write": true}') -> 'rows';
SELECT pg_temp.q('SELECT :a AS a, :b AS b, pg_typeof(:c) AS c', '{"a": 1, "b": true, "c": 2.5}');
SELECT pg_temp.q('SELECT name FROM items WHERE qty > :q ORDER BY name LIMIT :n OFFSET :o', '{"q": 1, "n": 1, "o": 1}');

-- JSON values become the parameter's type: null is SQL NULL; strings,
-- numbers and booleans go through the type's input function; json and jsonb
-- take any JSON value as it is; an array type takes a JSON array of scalars.
SELECT pg_temp.q('SELECT :n::int IS NULL AS is_null, :j::jsonb IS NULL AS j_null', '{"n": null, "j": null}');
SELECT pg_temp.q('SELECT :o::jsonb AS o, :a::jsonb AS a, :s::jsonb AS s, :num::jsonb AS num, :js::json AS js',
	'{"o": {"k": [1, {"x": null}]}, "a": [1, "two"], "s": "str", "num": 1.50, "js": {"b": 1, "a": 2}}');
SELECT pg_temp.q('SELECT name FROM items WHERE qty = ANY(:qtys) ORDER BY name', '{"qtys": [3, 4, 99]}');
SELECT pg_temp.q('SELECT name FROM items WHERE name = ANY(:names)', '{"names": []}');
SELECT pg_temp.q('SELECT :a::int[] AS a, :b::text[] AS b, :c::jsonb[] AS c, :d::int[] AS d',
	'{"a": [1, null, 3], "b": ["x", null], "c": [{"k": 1}, [2]], "d": "{{1,2},{3,4}}"}');
SELECT pg_temp.q('SELECT :big::bigint AS big, :n::numeric AS n, :f::float8 AS f, :ts::timestamptz AS ts, :d::date AS d',
	'{"big": 9223372036854775807, "n": 12345678901234567890.123456789, "f": "NaN", "ts": "2025-11-22 12:30:00+02", "d": "2025-11-22"}');
-- A value the type refuses is type_mismatch, naming the parameter and its type.
SELECT pg_temp.q('SELECT name FROM items WHERE qty = :qty', '{"qty": "three"}');
SELECT pg_temp.q('SELECT name FROM items WHERE qty = :qty', '{"qty": 1.5}');
SELECT pg_temp.q('SELECT name FROM items WHERE qty = :qty', '{"qty": 2147483648}');
SELECT pg_temp.q('SELECT name FROM items WHERE seen > :since', '{"since": "soon"}');
SELECT pg_temp.q('SELECT name FROM items WHERE ok = :ok', '{"ok": "maybe"}');
SELECT pg_temp.q('SELECT name FROM items WHERE name = :n', '{"n": {"first": "a"}}');
SELECT pg_temp.q('SELECT name FROM items WHERE name = :n', '{"n": ["a"]}');
SELECT pg_temp.q('SELECT name FROM items WHERE qty = ANY(:q)', '{"q": [1, "x"]}');
SELECT pg_temp.q('SELECT name FROM items WHERE qty = ANY(:q)', '{"q": [[1], [2]]}');
SELECT pg_temp.q('SELECT name FROM items WHERE qty = ANY(:q)', '{"q": 1}');
SELECT plugin_storage.plugin_sql('sqlp', '{"query": "INSERT INTO items (name) VALUES (:n)", "params": {"n": 5}, "allow_write": true}') -> 'rows';

-- Injection attempts are values: stored verbatim, and the table is intact.
SELECT pg_temp.q('INSERT INTO items (name) VALUES (:v) RETURNING name', jsonb_build_object('v', v), true)
	FROM unnest(ARRAY[$$'; DROP TABLE items; --$$, $$x' OR '1'='1$$, $$:name$$, '$1', $$\'); DELETE FROM items; --$$,
		$q$$$; DROP TABLE items; $$$q$, E'line\nbreak', '/* :c */ -- :d']) v;
SELECT pg_temp.q('SELECT count(*) AS n FROM items WHERE name = :v', '{"v": "x'' OR ''1''=''1"}');
SELECT pg_temp.q('SELECT count(*) AS n FROM items');
SELECT name FROM "ps_sqlp".items WHERE id > 3 ORDER BY id;

SELECT plugin_storage.unregister_plugin('sqlp', true);
