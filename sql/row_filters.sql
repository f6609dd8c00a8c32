-- row_filters: every filter operator, their NULL semantics, nesting with
-- $and / $or / $not, and what is refused.  Each query answers the matching
-- user_ids in key order.
SELECT name FROM plugin_storage.register_plugin('rowfilt');
SELECT plugin_storage.plugin_row('rowfilt', 'define', '{"table": "players",
	"columns": [{"name": "user_id", "type": "text"}, {"name": "score", "type": "integer"},
	            {"name": "ratio", "type": "double precision"}, {"name": "nick", "type": "text"},
	            {"name": "active", "type": "boolean"}, {"name": "seen", "type": "timestamptz"},
	            {"name": "prefs", "type": "jsonb"}, {"name": "tags", "type": "text[]"}],
	"primary_key": "user_id"}') -> 'created';
SELECT plugin_storage.plugin_row('rowfilt', 'insert', '{"table": "players", "rows": [
	{"user_id": "a", "score": 10, "ratio": 0.5, "nick": "Ace", "active": true, "seen": "2025-01-01T00:00:00Z",
	 "prefs": {"theme": "dark"}, "tags": ["x", "y"]},
	{"user_id": "b", "score": 20, "ratio": 1.5, "nick": "bee_1", "active": false, "seen": "2025-06-01T00:00:00Z",
	 "prefs": {"theme": "light"}, "tags": ["y"]},
	{"user_id": "c", "score": 30, "nick": "100%", "active": true, "prefs": [1, 2]},
	{"user_id": "d", "score": null, "nick": null},
	{"user_id": "e", "score": 20, "nick": "a_b", "tags": []}]}') -> 'ids';
CREATE FUNCTION pg_temp.ids(f jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN r ? 'error' THEN r ELSE jsonb_path_query_array(r, '$.rows[*].user_id') END
	FROM plugin_storage.plugin_row('rowfilt', 'search', jsonb_build_object('table', 'players', 'filters', f)) r $$;

-- A bare value is $eq; several columns are ANDed.
SELECT pg_temp.ids('{"score": 20}');
SELECT pg_temp.ids('{"score": {"$eq": 20}}');
SELECT pg_temp.ids('{"score": 20, "nick": "bee_1"}');
SELECT pg_temp.ids('{"active": true}');
SELECT pg_temp.ids('{"tags": ["y"]}');
SELECT pg_temp.ids('{"prefs": {"theme": "dark"}}');
SELECT pg_temp.ids('{"prefs": [1, 2]}');
-- $eq null is IS NULL; $ne is IS DISTINCT FROM, so NULLs match $ne.
SELECT pg_temp.ids('{"score": null}');
SELECT pg_temp.ids('{"score": {"$ne": 20}}');
SELECT pg_temp.ids('{"score": {"$ne": null}}');

-- Ordering operators on numbers, text, timestamps; several on one column
-- are ANDed.  NULL matches none of them.
SELECT pg_temp.ids('{"score": {"$gt": 10}}');
SELECT pg_temp.ids('{"score": {"$gte": 20, "$lt": 30}}');
SELECT pg_temp.ids('{"score": {"$lte": 20}}');
SELECT pg_temp.ids('{"ratio": {"$gt": 0.75}}');
SELECT pg_temp.ids('{"nick": {"$gt": "B"}}');
SELECT pg_temp.ids('{"seen": {"$gte": "2025-03-01"}}');
SELECT pg_temp.ids('{"seen": {"$lt": "2025-03-01T00:00:00+00:00"}}');

-- $in and $nin take an array (one parameter); NULL is in no list, so it
-- matches $nin.  An empty $in matches nothing, an empty $nin everything.
SELECT pg_temp.ids('{"score": {"$in": [10, 30]}}');
SELECT pg_temp.ids('{"user_id": {"$in": ["a", "e", "zz"]}}');
SELECT pg_temp.ids('{"score": {"$nin": [10, 30]}}');
SELECT pg_temp.ids('{"score": {"$in": []}}');
SELECT pg_temp.ids('{"score": {"$nin": []}}');
SELECT pg_temp.ids('{"prefs": {"$in": [[1, 2], {"theme": "light"}]}}');

-- $like and $ilike are SQL LIKE: % is any run of characters, _ any one
-- character, and \ makes the next one literal.
SELECT pg_temp.ids('{"nick": {"$like": "A%"}}');
SELECT pg_temp.ids('{"nick": {"$ilike": "a%"}}');
SELECT pg_temp.ids('{"nick": {"$like": "___"}}');
SELECT pg_temp.ids('{"nick": {"$like": "%\\%"}}');
SELECT pg_temp.ids('{"nick": {"$like": "%\\_%"}}');
SELECT pg_temp.ids('{"nick": {"$like": "%_%"}}');

-- $null: true is IS NULL; $exists: true is IS NOT NULL (a column always
-- exists; the question is whether it holds a value).
SELECT pg_temp.ids('{"nick": {"$null": true}}');
SELECT pg_temp.ids('{"nick": {"$null": false}}');
SELECT pg_temp.ids('{"ratio": {"$exists": true}}');
SELECT pg_temp.ids('{"ratio": {"$exists": false}}');

-- $and, $or, $not nest (up to 16 levels).  $not counts NULL as false, so
-- {"$not": {"score": 20}} matches the rows without a score too.
SELECT pg_temp.ids('{"$or": [{"score": 10}, {"nick": "a_b"}]}');
SELECT pg_temp.ids('{"$and": [{"score": {"$gte": 10}}, {"score": {"$lte": 20}}], "active": true}');
SELECT pg_temp.ids('{"$or": [{"$and": [{"score": 20}, {"active": false}]}, {"user_id": "d"}]}');
SELECT pg_temp.ids('{"$not": {"score": 20}}');
SELECT pg_temp.ids('{"$not": {"$or": [{"score": 20}, {"score": null}]}}');
SELECT pg_temp.ids('{"$or": [{}, {"score": 10}]}');
SELECT pg_temp.ids('{"$not": {}}');
SELECT pg_temp.ids((repeat('{"$not": ', 15) || '{"score": 10}' || repeat('}', 15))::jsonb);
SELECT pg_temp.ids((repeat('{"$not": ', 16) || '{"score": 10}' || repeat('}', 16))::jsonb);

-- Refused: unknown operators and columns, operators that do not apply to
-- the column's type (type_mismatch), arguments of the wrong shape.
SELECT pg_temp.ids('{"score": {"$gtt": 1}}');
SELECT pg_temp.ids('{"$nor": [{"score": 1}]}');
SELECT pg_temp.ids('{"scroe": 1}');
SELECT pg_temp.ids('{"score": {"$gt": 1, "x": 2}}');
SELECT pg_temp.ids('{"score": {"$like": "1%"}}');
SELECT pg_temp.ids('{"nick": {"$like": 5}}');
SELECT pg_temp.ids('{"tags": {"$in": [["x"]]}}');
SELECT pg_temp.ids('{"score": {"$in": 10}}');
SELECT pg_temp.ids('{"score": {"$in": [10, null]}}');
SELECT pg_temp.ids(jsonb_build_object('score', jsonb_build_object('$in', (SELECT jsonb_agg(i) FROM generate_series(1, 1001) i))));
SELECT pg_temp.ids('{"score": {"$gt": null}}');
SELECT pg_temp.ids('{"score": {"$null": "yes"}}');
SELECT pg_temp.ids('{"$or": []}');
SELECT pg_temp.ids('{"$or": {"score": 1}}');
SELECT pg_temp.ids('{"$and": [1]}');
SELECT pg_temp.ids('{"$not": [{"score": 1}]}');
-- Values must fit the column (see row_types).
SELECT pg_temp.ids('{"score": "ten"}');
SELECT pg_temp.ids('{"score": {"$gt": 1.5}}');
SELECT pg_temp.ids('{"active": "yes"}');
SELECT pg_temp.ids('{"seen": {"$gt": "yesterday-ish"}}');

SELECT plugin_storage.unregister_plugin('rowfilt', true);
