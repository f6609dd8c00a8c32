-- row_define: tables of the row tier.  define creates a table in the plugin's
-- schema (with id, created_at and updated_at), or adds what is missing to an
-- existing one; describe and tables read the catalog; drop_table drops.
SELECT name FROM plugin_storage.register_plugin('rowdef');

-- A new table: the seed's quotes.  Without primary_key it gets id bigserial;
-- every table gets created_at and updated_at.  columns as an object are
-- created in jsonb's key order (shorter names first).
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "quotes",
	"columns": {"text": "text", "author": "text", "added_by": "text", "timestamp": "timestamptz"},
	"indexes": [["author"], ["added_by", "timestamp"]]}');
-- What PostgreSQL made of it: owned by the plugin's role, in its schema.
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relnamespace::regnamespace AS schema
	FROM pg_class c WHERE c.oid = '"ps_rowdef".quotes'::regclass;
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS "default"
	FROM pg_attribute a LEFT JOIN pg_attrdef d ON (d.adrelid, d.adnum) = (a.attrelid, a.attnum)
	WHERE a.attrelid = '"ps_rowdef".quotes'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT indexdef FROM pg_indexes WHERE schemaname = 'ps_rowdef' AND tablename = 'quotes' ORDER BY 1;

-- describe: columns in table order, with define's type names, the key and
-- the indexes; rows_estimate is null until the table is analyzed.
SELECT plugin_storage.plugin_row('rowdef', 'describe', '{"table": "quotes"}');

-- columns as an array keep their order.  An own primary key (one column as
-- a string, or several as an array) replaces id; "unique" makes unique
-- indexes; every type and alias define accepts.
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "trivia_stats",
	"columns": [{"name": "user_id", "type": "text"}, {"name": "score", "type": "integer"},
	            {"name": "best_streak", "type": "int"}, {"name": "games", "type": "bigint"},
	            {"name": "ratio", "type": "double precision"}, {"name": "avg", "type": "float"},
	            {"name": "exact", "type": "numeric"}, {"name": "active", "type": "boolean"},
	            {"name": "bot", "type": "bool"}, {"name": "last_seen", "type": "timestamptz"},
	            {"name": "prefs", "type": "jsonb"}, {"name": "tags", "type": "text[]"},
	            {"name": "nick", "type": "text"}],
	"primary_key": "user_id", "unique": [["nick"]]}');
SELECT (c ->> 'name') AS name, (c ->> 'type') AS type, (c -> 'nullable') AS nullable
	FROM jsonb_array_elements(plugin_storage.plugin_row('rowdef', 'describe',
		'{"table": "trivia_stats"}') -> 'columns') c;
SELECT plugin_storage.plugin_row('rowdef', 'describe', '{"table": "trivia_stats"}') -> 'primary_key';
SELECT plugin_storage.plugin_row('rowdef', 'describe', '{"table": "trivia_stats"}') -> 'indexes';
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "rounds",
	"columns": {"game": "integer", "round": "integer", "winner": "text"},
	"primary_key": ["game", "round"]}');
SELECT plugin_storage.plugin_row('rowdef', 'describe', '{"table": "rounds"}') -> 'primary_key';

-- define again with the same request: nothing to do, no DDL runs.
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "quotes",
	"columns": {"text": "text", "author": "text", "added_by": "text", "timestamp": "timestamptz"},
	"indexes": [["author"], ["added_by", "timestamp"]]}');

-- define is additive: new columns and new indexes are added; columns left
-- out of the request stay.  A unique index that exists (in any column
-- order) is not made twice.
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "quotes",
	"columns": {"author": "text", "rating": "integer", "tags": "text[]"},
	"indexes": [["author"], ["rating"]], "unique": [["text", "author"]]}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "quotes",
	"unique": [["author", "text"]]}');
SELECT jsonb_path_query_array(plugin_storage.plugin_row('rowdef', 'describe', '{"table": "quotes"}'),
	'$.columns[*].name');
SELECT indexdef FROM pg_indexes WHERE schemaname = 'ps_rowdef' AND tablename = 'quotes' ORDER BY 1;

-- It never changes what exists: another type for a column, or another
-- primary key, is a conflict, and nothing of the request is applied.
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "quotes",
	"columns": {"shiny": "text", "rating": "bigint"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "quotes",
	"columns": {"shiny": "text"}, "primary_key": "text"}');
SELECT plugin_storage.plugin_row('rowdef', 'describe', '{"table": "quotes"}') @? '$.columns[*] ? (@.name == "shiny")' AS shiny_added;

-- Bad definitions: unknown types, names that are not ^[a-z_][a-z0-9_]{0,62}$,
-- reserved names (forbidden), id without a primary_key, created_at of
-- another type, key or index columns that do not exist.
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"a": "varchar"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"a": 5}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"A": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"1a": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"a b": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"_ps_a": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": [{"name": "a", "type": "text"}, {"name": "a", "type": "text"}]}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": [{"name": "a"}]}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": "a"}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "Quotes", "columns": {"a": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "_ps_new", "columns": {"a": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"id": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"created_at": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"a": "text"}, "primary_key": "b"}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"a": "text"}, "indexes": [["a", "nope"]]}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"a": "text"}, "indexes": "a"}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "t", "columns": {"a": "text"}, "colums": {}}');
-- None of them made a table.
SELECT plugin_storage.plugin_row('rowdef', 'tables', '{}');

-- tables: the plugin's tables (never its _ps_kv), with row estimates.
INSERT INTO "ps_rowdef".quotes (text, author) SELECT 'q' || i, 'a' FROM generate_series(1, 5) i;
ANALYZE "ps_rowdef".quotes;
SELECT plugin_storage.plugin_row('rowdef', 'tables', '{}');
SELECT * FROM plugin_storage.plugin_row_tables('rowdef');

-- A table the plugin made itself with SQL (as a migration would, under its
-- role) is a table like any other: describe reads it from the catalog (its
-- column names need not follow define's rules; _ps_ columns stay hidden),
-- and define adds to it but changes none of its columns.
SET ROLE "ps_rowdef";
CREATE TABLE "ps_rowdef".legacy (serial_no serial PRIMARY KEY, title varchar(40) NOT NULL,
	price numeric(8, 2), "Mixed" text, _ps_hidden text);
RESET ROLE;
SELECT plugin_storage.plugin_row('rowdef', 'describe', '{"table": "legacy"}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "legacy", "columns": {"title": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "legacy", "columns": {"price": "numeric"}}');
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "legacy", "columns": {"stock": "integer"}, "indexes": ["stock"]}');
-- Something that is not a table is not one to define over.
SET ROLE "ps_rowdef";
CREATE VIEW "ps_rowdef".cheap AS SELECT * FROM "ps_rowdef".legacy WHERE price < 10;
RESET ROLE;
SELECT plugin_storage.plugin_row('rowdef', 'define', '{"table": "cheap", "columns": {"a": "text"}}');
SELECT plugin_storage.plugin_row('rowdef', 'search', '{"table": "cheap"}');
SELECT jsonb_path_query_array(plugin_storage.plugin_row('rowdef', 'describe', '{"table": "legacy"}'),
	'$.columns[*].name');

-- drop_table needs "confirm": true; a missing table is not_found.
SELECT plugin_storage.plugin_row('rowdef', 'drop_table', '{"table": "rounds"}');
SELECT plugin_storage.plugin_row('rowdef', 'drop_table', '{"table": "rounds", "confirm": "yes"}');
SELECT plugin_storage.plugin_row('rowdef', 'drop_table', '{"table": "rounds", "confirm": true}');
SELECT plugin_storage.plugin_row('rowdef', 'drop_table', '{"table": "rounds", "confirm": true}');
SELECT plugin_storage.plugin_row('rowdef', 'describe', '{"table": "rounds"}');
SELECT to_regclass('"ps_rowdef".rounds');

-- The typed SQL functions.
SELECT plugin_storage.plugin_row_define('rowdef', 'events', '{"kind": "text", "payload": "jsonb"}',
	indexes => '[["kind"]]');
SELECT plugin_storage.plugin_row_describe('rowdef', 'events') -> 'primary_key';
SELECT plugin_storage.plugin_row_drop_table('rowdef', 'events');
SELECT * FROM plugin_storage.plugin_row_tables('rowdef');

SELECT plugin_storage.unregister_plugin('rowdef', true);
