/*
 * config.h
 *		Settings: built-in defaults, config file, environment and flags.
 */
#ifndef BRIDGE_CONFIG_H
#define BRIDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define PIPELINE_DEPTH_MAX 64

typedef struct Config
{
	char *conninfo;			/* libpq conninfo; "" means PG* env only */
	int pool_size;			/* PostgreSQL connections, one per worker */
	int pipeline_depth;		/* most requests one worker pipelines */
	int group_commit;		/* run a worker's batch as one transaction */
	int queue_size;			/* requests waiting for a worker */
	int request_timeout_ms; /* per-request deadline */
	int migrate_timeout_ms; /* deadline of a db.migrate request */
	int max_request_bytes;	/* largest request payload */
	int max_json_depth;		/* deepest nesting of a request payload */
	int reconnect_max_ms;	/* cap of the reconnect backoff */
	int slow_request_ms;	/* log requests slower than this; 0 off */
	int drain_timeout_ms;	/* longest wait for NATS drain at exit */
	char *nats_url;			/* NATS server URL(s), comma-separated */
	char *nats_user;		/* NATS user, or "" */
	char *nats_password;	/* NATS password, or "" */
	char *nats_creds;		/* NATS credentials file, or "" */
	char *queue_group;		/* queue group shared by all bridges */
	char *log_level;		/* debug, info, warn or error */

	/* what operators see (observe.c) */
	char *metrics_listen;	 /* HOST:PORT of GET /metrics, or "" */
	int metrics_max_plugins; /* plugins tracked by name in metrics */
	int event_rate_limit;	 /* events a second at most; 0 off */
} Config;

/* The reloadable settings, copied out under the config lock */
typedef struct ConfigLimits
{
	unsigned generation; /* bumped by every reload that changed one */
	int pipeline_depth;
	bool group_commit;
	int request_timeout_ms;
	int migrate_timeout_ms;
	int max_request_bytes;
	int max_json_depth;
	int reconnect_max_ms;
	int slow_request_ms;
	int drain_timeout_ms;
} ConfigLimits;

extern int config_init(int argc, char **argv);
extern const Config *config_get(void);
extern void config_limits(ConfigLimits *out);
extern void config_reload(void);
extern void config_free(void);
extern bool config_parse_text(Config *config, const char *text,
							  const char *source, char *err, size_t errlen);

#endif
