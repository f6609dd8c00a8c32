-- row_update: update with atomic operators, and delete.  Both take filters
-- (see row_filters) and refuse to touch every row unless "all": true.
CREATE FUNCTION pg_temp.get(id text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT (r -> 'rows' -> 0) - '{created_at,updated_at,user_id}'::text[]
	FROM plugin_storage.plugin_row('rowupd', 'select', jsonb_build_object('table', 'trivia_stats', 'id', id)) r $$;
SELECT name FROM plugin_storage.register_plugin('rowupd');
SELECT plugin_storage.plugin_row('rowupd', 'define', '{"table": "trivia_stats",
	"columns": [{"name": "user_id", "type": "text"}, {"name": "score", "type": "integer"},
	            {"name": "best_streak", "type": "integer"}, {"name": "last_answer", "type": "text"},
	            {"name": "ratio", "type": "numeric"}, {"name": "seen", "type": "timestamptz"},
	            {"name": "badges", "type": "text[]"}, {"name": "history", "type": "jsonb"}],
	"primary_key": "user_id"}') -> 'created';
SELECT plugin_storage.plugin_row('rowupd', 'insert', '{"table": "trivia_stats", "rows": [
	{"user_id": "groberts", "score": 100, "best_streak": 3},
	{"user_id": "alice", "score": 50, "best_streak": 8},
	{"user_id": "bob"}]}') -> 'ids';
UPDATE "ps_rowupd".trivia_stats SET created_at = '2020-01-01', updated_at = '2020-01-01';

-- The seed's example: $inc, $set and $max in one atomic UPDATE.  updated_at
-- moves; created_at stays.
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "groberts"},
	"operations": {"score": {"$inc": 10}, "last_answer": {"$set": "correct"}, "best_streak": {"$max": 5}}}');
SELECT pg_temp.get('groberts');
SELECT created_at = '2020-01-01' AS created_kept, updated_at > '2020-01-01' AS updated_moved
	FROM "ps_rowupd".trivia_stats WHERE user_id = 'groberts';
-- $max keeps the larger value, $min the smaller.
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "groberts"}, "operations": {"best_streak": {"$max": 2}}}');
SELECT pg_temp.get('groberts') -> 'best_streak';
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "groberts"}, "operations": {"best_streak": {"$min": 2}, "score": {"$dec": 30}}}');
SELECT pg_temp.get('groberts') -> 'best_streak' AS best_streak, pg_temp.get('groberts') -> 'score' AS score;
-- $mul; a bare value is $set; null sets NULL.
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "alice"}, "operations": {"score": {"$mul": 3}, "ratio": 0.25, "last_answer": null}}');
SELECT pg_temp.get('alice');

-- On NULL: $inc, $dec and $mul start from 0; $max and $min take the value.
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "bob"}, "operations": {"score": {"$inc": 7}, "best_streak": {"$max": 4},
	"ratio": {"$dec": 1.5}, "seen": {"$min": "2025-11-22T10:30:00Z"}}}');
SET TIME ZONE 'UTC';
SELECT pg_temp.get('bob');

-- $push appends one element to a text[] or to a jsonb array (NULL starts
-- an empty one).  A jsonb value that is not an array becomes the first
-- element of one.
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "bob"}, "operations": {"badges": {"$push": "first"}, "history": {"$push": {"q": 1}}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "bob"}, "operations": {"badges": {"$push": "second"}, "history": {"$push": [2, 3]}}}');
SELECT pg_temp.get('bob') -> 'badges' AS badges, pg_temp.get('bob') -> 'history' AS history;
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "alice"}, "operations": {"history": {"$set": {"a": 1}}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "alice"}, "operations": {"history": {"$push": "b"}}}');
SELECT pg_temp.get('alice') -> 'history';

-- Many rows at once; updated counts the rows changed (0 if none matched).
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"score": {"$lt": 100}}, "operations": {"score": {"$inc": 1}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats",
	"filters": {"user_id": "nobody"}, "operations": {"score": {"$inc": 1}}}');
SELECT user_id, score FROM "ps_rowupd".trivia_stats ORDER BY user_id;

-- No filters (or only empty ones) would change every row: refused unless
-- "all": true.
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "operations": {"score": 0}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {}, "operations": {"score": 0}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"$and": [{}]}, "operations": {"score": 0}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "all": false, "operations": {"score": 0}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "all": true, "operations": {"best_streak": {"$inc": 1}}}');
SELECT user_id, best_streak FROM "ps_rowupd".trivia_stats ORDER BY user_id;

-- Refused before anything runs: unknown columns and operators, operators
-- that do not fit the column, two operators on one column, values of the
-- wrong type, NOT NULL columns set to null.
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"scroe": {"$inc": 1}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"score": {"$add": 1}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"last_answer": {"$inc": 1}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"score": {"$push": 1}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"badges": {"$push": 1}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"score": {"$inc": 1, "$max": 5}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"score": {"$inc": 1.5}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"score": {"$inc": null}}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"user_id": null}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {}}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": [1]}');
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"}}');
-- Overflow is found by PostgreSQL when the row is computed: an ERROR
-- (22003), and the statement changes nothing.
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"score": {"$inc": 2147483647}}}');
SELECT pg_temp.get('bob') -> 'score';

-- updated_at can be set explicitly; then it is not set to now().
SELECT plugin_storage.plugin_row('rowupd', 'update', '{"table": "trivia_stats", "filters": {"user_id": "bob"},
	"operations": {"updated_at": "2001-02-03T04:05:06Z"}}');
SELECT updated_at FROM "ps_rowupd".trivia_stats WHERE user_id = 'bob';

-- delete: filtered rows; deleted counts them.  No filters needs "all".
SELECT plugin_storage.plugin_row('rowupd', 'delete', '{"table": "trivia_stats", "filters": {"user_id": "bob"}}');
SELECT plugin_storage.plugin_row('rowupd', 'delete', '{"table": "trivia_stats", "filters": {"user_id": "bob"}}');
SELECT plugin_storage.plugin_row('rowupd', 'delete', '{"table": "trivia_stats"}');
SELECT plugin_storage.plugin_row('rowupd', 'delete', '{"table": "trivia_stats", "filters": {"score": "x"}}');
SELECT plugin_storage.plugin_row('rowupd', 'delete', '{"table": "trivia_stats", "operations": {}}');
SELECT count(*) FROM "ps_rowupd".trivia_stats;

-- The typed SQL functions.
SELECT plugin_storage.plugin_row_update('rowupd', 'trivia_stats', '{"user_id": "alice"}', '{"score": {"$inc": 5}}');
SELECT plugin_storage.plugin_row_update('rowupd', 'trivia_stats', '{}', '{"score": 0}', "all" => true);
SELECT plugin_storage.plugin_row_delete('rowupd', 'trivia_stats', '{"user_id": "alice"}');
SELECT plugin_storage.plugin_row_delete('rowupd', 'trivia_stats', '{}', "all" => true);
SELECT count(*) FROM "ps_rowupd".trivia_stats;

SELECT plugin_storage.unregister_plugin('rowupd', true);
