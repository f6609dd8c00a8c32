-- The benchmark's data: plugin "bench" with a table "scores" made by define,
-- and an identical plain table (same columns, defaults and indexes) with the
-- same :rows rows: player p<i> in game i % 100 with a distinct score ((i * 37)
-- % :rows, a permutation when :rows is not a multiple of 37).
CREATE EXTENSION IF NOT EXISTS plugin_storage;
SELECT name FROM plugin_storage.register_plugin('bench');
SELECT plugin_storage.plugin_row_define('bench', 'scores',
	'[{"name": "player", "type": "text"}, {"name": "game", "type": "integer"},
	  {"name": "score", "type": "integer"}, {"name": "streak", "type": "integer"}]',
	indexes => '[["game", "score"]]', "unique" => '[["player"]]');
CREATE SCHEMA bench_plain;
CREATE TABLE bench_plain.scores (
	id bigserial PRIMARY KEY,
	player text,
	game integer,
	score integer,
	streak integer,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON bench_plain.scores (game, score);
CREATE UNIQUE INDEX ON bench_plain.scores (player);
INSERT INTO "ps_bench".scores (player, game, score, streak)
	SELECT 'p' || i, i % 100, (i * 37) % :rows, 0 FROM generate_series(1, :rows) i;
INSERT INTO bench_plain.scores SELECT * FROM "ps_bench".scores;
VACUUM ANALYZE "ps_bench".scores;
VACUUM ANALYZE bench_plain.scores;
