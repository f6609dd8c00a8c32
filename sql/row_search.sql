-- row_search: search with filters, sort, pages (limit, offset, truncated),
-- fields and the total count.  Replies leave out created_at and updated_at.
CREATE FUNCTION pg_temp.row(p text, op text, req jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN r ? 'rows' THEN jsonb_set(r, '{rows}', coalesce((SELECT jsonb_agg(x - '{created_at,updated_at}'::text[] ORDER BY n)
		FROM jsonb_array_elements(r -> 'rows') WITH ORDINALITY AS e(x, n)), '[]')) ELSE r END
	FROM plugin_storage.plugin_row(p, op, req) r $$;
SELECT name FROM plugin_storage.register_plugin('rowsearch');
SELECT plugin_storage.plugin_row('rowsearch', 'define', '{"table": "trivia_stats",
	"columns": {"user_id": "text", "score": "integer", "best_streak": "integer", "team": "text"},
	"primary_key": "user_id", "indexes": [["team", "score"]]}') -> 'created';
SELECT plugin_storage.plugin_row('rowsearch', 'insert', '{"table": "trivia_stats", "rows": [
	{"user_id": "groberts", "score": 150, "best_streak": 4, "team": "red"},
	{"user_id": "alice", "score": 120, "best_streak": 9, "team": "blue"},
	{"user_id": "bob", "score": 90, "best_streak": 2, "team": "red"},
	{"user_id": "carol", "score": 120, "best_streak": 5, "team": "blue"},
	{"user_id": "dave", "score": 300, "best_streak": 1, "team": "red"},
	{"user_id": "erin", "best_streak": 7, "team": "green"}]}') -> 'ids';

-- The seed's leaderboard: operators, a sort, a limit.
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats",
	"filters": {"user_id": {"$eq": "groberts"}, "score": {"$gte": 100}},
	"sort": {"field": "score", "order": "desc"}, "limit": 10}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats",
	"filters": {"score": {"$gte": 100}}, "sort": {"field": "score", "order": "desc"}, "limit": 10}');

-- Without sort, rows come in primary-key order; without filters, all rows.
SELECT jsonb_path_query_array(plugin_storage.plugin_row('rowsearch', 'search', '{"table": "trivia_stats"}'),
	'$.rows[*].user_id');
-- Several sort keys, each "asc" (the default) or "desc"; a bare name sorts
-- ascending.  NULL sorts last ascending, first descending.
SELECT jsonb_path_query_array(plugin_storage.plugin_row('rowsearch', 'search', '{"table": "trivia_stats",
	"sort": [{"field": "score", "order": "desc"}, {"field": "user_id"}]}'), '$.rows[*].user_id');
SELECT jsonb_path_query_array(plugin_storage.plugin_row('rowsearch', 'search', '{"table": "trivia_stats",
	"sort": ["team", {"field": "best_streak", "order": "desc"}]}'), '$.rows[*].user_id');
SELECT jsonb_path_query_array(plugin_storage.plugin_row('rowsearch', 'search', '{"table": "trivia_stats",
	"sort": {"field": "score"}}'), '$.rows[*].score');

-- Pages: limit (default 100, at most 1000) and offset.  truncated says more
-- rows matched than the page holds; count is the rows in this reply, and
-- "count": true adds total, the rows matching in all.
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "fields": ["user_id"], "limit": 2}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "fields": ["user_id"], "limit": 2, "offset": 2}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "fields": ["user_id"], "limit": 2, "offset": 4, "count": true}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "fields": ["user_id"], "offset": 10, "count": true}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "filters": {"team": "red"},
	"fields": ["user_id"], "limit": 1, "count": true}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "filters": {"team": "purple"}, "count": true}');

-- fields picks columns (a name or a list), any order.
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "filters": {"user_id": "alice"},
	"fields": ["team", "score"]}');
SELECT jsonb_object_keys(plugin_storage.plugin_row('rowsearch', 'search', '{"table": "trivia_stats",
	"filters": {"user_id": "alice"}, "fields": "created_at"}') -> 'rows' -> 0);

-- Bad requests.
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "limit": 0}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "limit": 1001}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "limit": "10"}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "offset": -1}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "count": 1}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "sort": {"field": "scroe"}}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "sort": {"field": "score", "order": "down"}}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "sort": {"column": "score"}}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "sort": {"order": "desc"}}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "sort": {"field": 1}}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "sort": []}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "sort": 5}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "fields": []}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "fields": ["score", "score"]}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "fields": ["nope"]}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "filters": []}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "all": true}');

-- Requests of the same shape run the same prepared statement (its text
-- depends on the table, columns and operators, never on the values), each
-- with its own values.
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "filters": {"team": "blue", "score": {"$gt": 100}},
	"fields": ["user_id"]}');
SELECT pg_temp.row('rowsearch', 'search', '{"table": "trivia_stats", "filters": {"team": "red", "score": {"$gt": 100}},
	"fields": ["user_id"]}');

-- The typed SQL function returns the rows as a set.
SELECT r - '{created_at,updated_at}'::text[] AS row
	FROM plugin_storage.plugin_row_search('rowsearch', 'trivia_stats', '{"team": "red"}',
		'{"field": "score", "order": "desc"}', "limit" => 2) r;
SELECT r ->> 'user_id' AS user_id
	FROM plugin_storage.plugin_row_search('rowsearch', 'trivia_stats', fields => '{user_id}', "offset" => 4) r;

SELECT plugin_storage.unregister_plugin('rowsearch', true);
