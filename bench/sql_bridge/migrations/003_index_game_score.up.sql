-- The index the benchmark's aggregate reads (an index-only scan once vacuumed).
CREATE INDEX events_game_score ON events (game, score);
