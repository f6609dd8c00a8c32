-- 100,000 events: 100 games, 1,000 events each, scores spread over 0..9999.
INSERT INTO events (id, player, game, score)
SELECT g, g % 5000, g % 100, (g * 7919) % 10000
FROM generate_series(1, 100000) AS g;
