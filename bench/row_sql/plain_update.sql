\set p random(1, :rows)
\set v random(1, 50)
UPDATE bench_plain.scores SET score = COALESCE(score, 0) + 10, streak = GREATEST(streak, :v), updated_at = now()
 WHERE player = 'p' || :p;
