-- The benchmark's aggregate as plain SQL, as the superuser, straight on the plugin's table.
SELECT count(*) AS plays, max(score) AS best, avg(score)::float8 AS mean
FROM ps_bench.events WHERE game = :game AND score >= :min_score;
