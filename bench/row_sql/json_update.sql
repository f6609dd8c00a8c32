\set p random(1, :rows)
\set v random(1, 50)
WITH u AS (UPDATE bench_plain.scores SET score = COALESCE(score, 0) + 10, streak = GREATEST(streak, :v), updated_at = now()
            WHERE player = 'p' || :p RETURNING 1)
SELECT jsonb_build_object('updated', count(*)) FROM u;
