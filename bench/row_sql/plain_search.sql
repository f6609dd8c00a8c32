\set g random(0, 99)
\set s random(0, :rows * 9 / 10)
SELECT id, player, game, score, streak, created_at, updated_at FROM bench_plain.scores
 WHERE game = :g AND score >= :s ORDER BY score DESC LIMIT 10;
