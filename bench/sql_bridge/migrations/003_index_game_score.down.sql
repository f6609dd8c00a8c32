DROP INDEX events_game_score;
