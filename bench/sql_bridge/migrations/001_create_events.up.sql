-- A game's score events: the table the SQL-tier benchmark aggregates over.
CREATE TABLE events (
	id bigint PRIMARY KEY,
	player integer NOT NULL,
	game integer NOT NULL,
	score integer NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
