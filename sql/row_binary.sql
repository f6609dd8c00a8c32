-- row_binary: select, search and aggregate write their replies straight in
-- jsonb's binary format (extension/json_binary.c).  A reply must be the very
-- bytes jsonb_in makes of its own text: same values, key order, offsets,
-- alignment and numeric encoding.  Each check below compares the raw bytes,
-- through a binary-coercible cast that exists only for this test.
CREATE CAST (jsonb AS bytea) WITHOUT FUNCTION;
-- canonical(r): true when r is byte for byte what jsonb_in makes of r's text
CREATE FUNCTION pg_temp.canonical(r jsonb) RETURNS boolean LANGUAGE sql AS $$
	SELECT r::bytea = (r::text::jsonb)::bytea $$;
SELECT name FROM plugin_storage.register_plugin('rowbin');

-- Every type a column can have, made with SQL so that types define does not
-- offer (smallint, real, varchar, char, date, uuid, int[], json, a domain)
-- are there too.  The plugin's role makes them, as a migration would.
SET TIME ZONE 'UTC';
SET ROLE ps_rowbin;
CREATE DOMAIN ps_rowbin.small_count AS integer CHECK (VALUE >= 0);
CREATE TABLE ps_rowbin.v (
	id bigserial PRIMARY KEY,
	i2 smallint, i4 integer, i8 bigint, n numeric, f4 real, f8 double precision,
	ok boolean, s text, vc varchar(10), ch char(4), at timestamptz, d date,
	u uuid, j jsonb, js json, tags text[], nums integer[], dom ps_rowbin.small_count);
INSERT INTO ps_rowbin.v (i8) SELECT v FROM unnest(ARRAY[0, 1, -1, 9, 10, 9999,
	10000, 10001, 99990000, 100000000, 123456789012, -123456789012000,
	9223372036854775807, -9223372036854775808]::bigint[]) v;
INSERT INTO ps_rowbin.v (i2, i4, n, f4, f8, ok, s, vc, ch, at, d, u, j, js, tags, nums, dom)
VALUES (-32768, 2147483647, 0, 1.5, 0.1, true, '', 'abc', 'ab', '2024-02-29 23:59:59.123456+00',
		'2024-01-01', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '7', '{"b": [1, 2.50]}',
		'{}', '{}', 0),
	   (32767, -2147483648, 1.50, 'NaN', 'Infinity', false, 'héllo "wörld" \ ''; --',
		'', 'abcd', '2000-01-01 00:00:00+00', '0044-03-15 BC', NULL, '"x"', '[1, "a", null]',
		'{a,NULL,"b c"}', '{{1,2},{3,4}}', 42),
	   (NULL, NULL, -0.001, '-Infinity', -0, NULL, 'line
break	tab', NULL, NULL, '0099-12-31 12:00:00.5+00', NULL, NULL,
		'{"z": {"deep": [{"n": 12345678901234567890.5}]}, "a": true, "": null}', 'null',
		'{{x},{y}}', '{NULL}', NULL),
	   (NULL, 0, 1e20, 3.4e38, 1e-300, NULL, repeat('x', 3000), NULL, NULL, 'infinity',
		'infinity', NULL, '[]', '{}', NULL, NULL, NULL),
	   (NULL, NULL, 'NaN', NULL, 'NaN', NULL, NULL, NULL, NULL, '-infinity', NULL, NULL,
		'{}', '[]', NULL, NULL, NULL),
	   (NULL, NULL, 'Infinity', NULL, NULL, NULL, NULL, NULL, NULL, '10000-01-01 00:00:00+00',
		NULL, NULL, 'false', '1', NULL, NULL, NULL);
RESET ROLE;

-- All rows: the bytes are canonical, and the values are what to_jsonb()
-- makes of the same rows (every column of every row, compared as jsonb).
SELECT pg_temp.canonical(r) AS canonical,
	   r -> 'rows' = (SELECT jsonb_agg(to_jsonb(v) ORDER BY id) FROM ps_rowbin.v) AS same_values,
	   r -> 'count', r -> 'truncated'
  FROM plugin_storage.plugin_row('rowbin', 'search', '{"table": "v", "limit": 1000}') r;
-- The integers, one by one: each is stored as numeric_in stores its text.
SELECT r -> 'rows' -> 0 -> 'i8' AS i8, pg_temp.canonical(r) AS canonical
  FROM ps_rowbin.v t,
       plugin_storage.plugin_row('rowbin', 'select', jsonb_build_object('table', 'v', 'id', t.id,
	       'fields', '["i8"]'::jsonb)) r
 WHERE t.i8 IS NOT NULL ORDER BY t.id;
-- What the other tiers' values look like, for reading the test.
SELECT jsonb_pretty(r -> 'rows' -> 1)
  FROM plugin_storage.plugin_row('rowbin', 'search', '{"table": "v", "filters": {"i8": {"$null": true}}}') r;

-- Large objects and arrays: jsonb keeps an offset instead of a length in
-- every 32nd entry of a container.  A table of 40 columns (80 entries per
-- row object) and a page of 100 rows cross that stride several times; every
-- member is read back by its key and index, which uses those offsets.
SET ROLE ps_rowbin;
SELECT format('CREATE TABLE ps_rowbin.wide (id integer PRIMARY KEY, %s)',
			  string_agg(format('c%s %s', i, CASE WHEN i % 3 = 0 THEN 'text' ELSE 'integer' END), ', '))
  FROM generate_series(1, 39) i \gexec
SELECT format('INSERT INTO ps_rowbin.wide SELECT r, %s FROM generate_series(1, 100) r',
			  string_agg(CASE WHEN i % 3 = 0 THEN format('repeat(''w'', (r * %s) %% 7)', i)
							  ELSE format('r * 1000 + %s', i) END, ', '))
  FROM generate_series(1, 39) i \gexec
RESET ROLE;
SELECT pg_temp.canonical(r) AS canonical, jsonb_array_length(r -> 'rows') AS rows,
	   (SELECT bool_and((r -> 'rows' -> (w.id - 1)) = to_jsonb(w)) FROM ps_rowbin.wide w) AS every_row,
	   (SELECT bool_and((r -> 'rows' -> (w.id - 1) ->> 'c38')::int = w.c38) FROM ps_rowbin.wide w) AS by_key,
	   r -> 'rows' -> 99 -> 'c39' AS last
  FROM plugin_storage.plugin_row('rowbin', 'search', '{"table": "wide", "limit": 100}') r;

-- The keys of a row are sorted as jsonb sorts them (shorter first, then
-- bytes), whatever order the request names them in.
SELECT r, pg_temp.canonical(r) AS canonical
  FROM plugin_storage.plugin_row('rowbin', 'select', '{"table": "wide", "id": 7,
	"fields": ["c12", "id", "c3", "c39", "c1"]}') r;
-- search with count and total, and aggregate: the other members of a reply.
SELECT r, pg_temp.canonical(r) AS canonical
  FROM plugin_storage.plugin_row('rowbin', 'search', '{"table": "wide", "filters": {"c1": {"$gt": 98000}},
	"fields": ["id"], "sort": {"field": "id", "order": "desc"}, "limit": 2, "count": true}') r;
SELECT r, pg_temp.canonical(r) AS canonical
  FROM plugin_storage.plugin_row('rowbin', 'aggregate', '{"table": "wide", "group_by": ["c3"],
	"aggregates": {"n": {"$count": "*"}, "top": {"$max": "c1"}, "mean": {"$avg": "c2"}}, "limit": 3}') r;
-- No rows at all.
SELECT r, pg_temp.canonical(r) AS canonical
  FROM plugin_storage.plugin_row('rowbin', 'search', '{"table": "wide", "filters": {"id": -1}}') r;

-- Timestamps come in the session's time zone, as to_jsonb() writes them,
-- in zones with one offset (which take a shortcut) and with daylight time
-- (the hours below cross New York's change to summer time).
CREATE FUNCTION pg_temp.times_agree() RETURNS boolean LANGUAGE sql AS $$
	SELECT r -> 'rows' = (SELECT jsonb_agg(jsonb_build_object('at', at) ORDER BY id) FROM ps_rowbin.v)
	   AND pg_temp.canonical(r)
	  FROM plugin_storage.plugin_row('rowbin', 'search', '{"table": "v", "fields": ["at"]}') r $$;
UPDATE ps_rowbin.v SET at = timestamptz '2024-03-10 06:30:00.25+00' + id * interval '1 hour'
 WHERE at IS NULL OR id > 16;
SET TIME ZONE 'America/New_York';
SELECT pg_temp.times_agree() AS new_york;
SET TIME ZONE 'Asia/Kolkata';
SELECT pg_temp.times_agree() AS kolkata;
SET TIME ZONE 'Etc/GMT-3';
SELECT pg_temp.times_agree() AS gmt_minus_3;
SET TIME ZONE INTERVAL '-04:15' HOUR TO MINUTE;
SELECT pg_temp.times_agree() AS interval_zone;
SET TIME ZONE 'Europe/Amsterdam';
SELECT pg_temp.times_agree() AS amsterdam;
SELECT r -> 'rows' -> 0 AS amsterdam
  FROM plugin_storage.plugin_row('rowbin', 'select', '{"table": "v", "id": 15, "fields": ["at"]}') r;
SET TIME ZONE 'UTC';

-- A table's columns are read once and kept until the table changes: a column
-- added, dropped or renamed, or a new primary key, shows at once, also
-- inside the transaction that made the change, and after its rollback.
SELECT r -> 'rows' -> 0 FROM plugin_storage.plugin_row('rowbin', 'select', '{"table": "wide", "id": 1,
	"fields": ["id", "c1"]}') r;
ALTER TABLE ps_rowbin.wide RENAME COLUMN c1 TO first;
SELECT r FROM plugin_storage.plugin_row('rowbin', 'select', '{"table": "wide", "id": 1,
	"fields": ["id", "c1"]}') r;
SELECT r -> 'rows' -> 0 FROM plugin_storage.plugin_row('rowbin', 'select', '{"table": "wide", "id": 1,
	"fields": ["id", "first"]}') r;
BEGIN;
ALTER TABLE ps_rowbin.wide ADD COLUMN "select" text DEFAULT 'a keyword';
SELECT r -> 'rows' -> 0 FROM plugin_storage.plugin_row('rowbin', 'select', '{"table": "wide", "id": 1,
	"fields": ["id", "select"]}') r;
ROLLBACK;
SELECT r FROM plugin_storage.plugin_row('rowbin', 'select', '{"table": "wide", "id": 1,
	"fields": ["id", "select"]}') r;
SET ROLE ps_rowbin;
CREATE TABLE ps_rowbin.nokey (a integer, b text);
INSERT INTO ps_rowbin.nokey VALUES (1, 'one'), (2, 'two');
RESET ROLE;
SELECT plugin_storage.plugin_row('rowbin', 'select', '{"table": "nokey", "id": 1}');
ALTER TABLE ps_rowbin.nokey ADD PRIMARY KEY (b);
SELECT plugin_storage.plugin_row('rowbin', 'select', '{"table": "nokey", "id": "two"}');
-- A table dropped and made again under the same name is a new table.
SET ROLE ps_rowbin;
DROP TABLE ps_rowbin.nokey;
CREATE TABLE ps_rowbin.nokey (b text PRIMARY KEY, c integer);
INSERT INTO ps_rowbin.nokey VALUES ('two', 2);
RESET ROLE;
SELECT plugin_storage.plugin_row('rowbin', 'select', '{"table": "nokey", "id": "two"}');

DROP CAST (jsonb AS bytea);
SELECT plugin_storage.unregister_plugin('rowbin', drop_data => true);
