-- row_aggregate: count, sum, avg, min and max over the filtered rows,
-- optionally grouped, sorted by an aggregate or a group column, limited.
SELECT name FROM plugin_storage.register_plugin('rowagg');
SELECT plugin_storage.plugin_row('rowagg', 'define', '{"table": "rounds",
	"columns": {"player": "text", "team": "text", "points": "integer", "time": "double precision",
	            "at": "timestamptz", "bonus": "numeric"}}') -> 'created';
SELECT plugin_storage.plugin_row('rowagg', 'insert', '{"table": "rounds", "rows": [
	{"player": "alice", "team": "red", "points": 10, "time": 1.5, "at": "2025-01-01T10:00:00Z", "bonus": 0.5},
	{"player": "alice", "team": "red", "points": 30, "time": 2.5, "at": "2025-01-02T10:00:00Z"},
	{"player": "bob", "team": "red", "points": 20, "time": 3.0, "at": "2025-01-03T10:00:00Z", "bonus": 1},
	{"player": "carol", "team": "blue", "points": 50, "time": 0.5, "at": "2025-01-04T10:00:00Z"},
	{"player": "carol", "team": "blue", "points": null, "time": 4.0, "at": "2025-01-05T10:00:00Z"},
	{"player": "dave", "team": null, "points": 5}]}') -> 'ids';
SET TIME ZONE 'UTC';

-- Over the whole table: "$count": "*" counts rows, "$count": column the
-- rows where it is not NULL; sum, avg, min and max skip NULLs.
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {
	"rounds": {"$count": "*"}, "scored": {"$count": "points"}, "total": {"$sum": "points"},
	"mean": {"$avg": "points"}, "best": {"$max": "points"}, "worst": {"$min": "points"},
	"fastest": {"$min": "time"}, "first": {"$min": "at"}, "last": {"$max": "player"},
	"bonus": {"$sum": "bonus"}}}');
-- Grouped: one row per group, group columns first; rows come in group
-- order unless sorted.  NULL is a group of its own.
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "group_by": ["team"],
	"aggregates": {"n": {"$count": "*"}, "total": {"$sum": "points"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "group_by": ["team", "player"],
	"aggregates": {"total": {"$sum": "points"}}}');
-- The leaderboard: sorted by an aggregate, limited; truncated says more
-- groups exist.
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "group_by": "player",
	"aggregates": {"total": {"$sum": "points"}}, "sort": {"field": "total", "order": "desc"}, "limit": 2}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "group_by": "player",
	"aggregates": {"total": {"$sum": "points"}}, "sort": [{"field": "player", "order": "desc"}]}');
-- With filters.
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "group_by": "player",
	"filters": {"team": "red", "points": {"$gte": 15}}, "aggregates": {"n": {"$count": "*"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds",
	"filters": {"team": "green"}, "aggregates": {"n": {"$count": "*"}, "total": {"$sum": "points"}}}');

-- Refused: unknown operators and columns, sum/avg of what is not a number,
-- aliases that repeat a group column or are not names, sort keys that are
-- neither, a request without aggregates.
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$median": "points"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$sum": "pionts"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$sum": "player"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$avg": "at"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$sum": "*"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$count": 1}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$count": "*", "$sum": "points"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": "*"}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "group_by": "team", "aggregates": {"team": {"$count": "*"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"Total": {"$count": "*"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$count": "*"}}, "sort": "points"}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "group_by": "nope", "aggregates": {"n": {"$count": "*"}}}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds"}');
SELECT plugin_storage.plugin_row('rowagg', 'aggregate', '{"table": "rounds", "aggregates": {"n": {"$count": "*"}}, "limit": 0}');

-- The typed SQL function returns the rows as a set.
SELECT * FROM plugin_storage.plugin_row_aggregate('rowagg', 'rounds', '{"total": {"$sum": "points"}}',
	group_by => '{team}', sort => '{"field": "total", "order": "desc"}');

SELECT plugin_storage.unregister_plugin('rowagg', true);
