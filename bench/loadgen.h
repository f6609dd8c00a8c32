/*
 * loadgen.h
 *		Shared types of the NATS load generator (bench/loadgen).
 *
 * The load generator keeps N requests in flight with N threads, each doing
 * synchronous requests in a loop over a small set of shared connections
 * (closed loop), or sends requests at a fixed rate from those threads (open
 * loop, --rate).
 * A mode (bridge-get, js-put, echo, ...) is a table entry: a per-connection
 * setup, a key writer used to pre-populate, and the timed operation. Every
 * mode sees the same keys (k0..k<K-1>) and the same value size.
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

/* Command-line settings, shared read-only by every thread */
typedef struct lg_config
{
	const char *mode;	   /* mode name, e.g. "bridge-get" */
	const char *url;	   /* NATS server URL */
	const char *plugin;	   /* plugin name in db.kv.<plugin>.get|set */
	const char *bucket;	   /* JetStream KV bucket name */
	const char *subject;   /* subject of the echo responder */
	int inflight;		   /* requests in flight = worker threads */
	int conns;			   /* NATS connections shared by the workers */
	int keys;			   /* key count: k0..k<keys-1> */
	int value_bytes;	   /* value size in bytes */
	double duration;	   /* measured seconds */
	double warmup;		   /* unmeasured seconds before the measurement */
	int64_t timeout_ms;	   /* per-request timeout */
	bool populate;		   /* write every key once before the run */
	bool buffered_replies; /* echo-server: leave nats.c's flusher delay on */
	const char *value;	   /* value_bytes of 'x', NUL-terminated */
	double rate;		   /* open loop: requests per second; 0 = closed */
	const char *payload;   /* request mode: the payload sent every time */
	bool subject_given;	   /* --subject was on the command line */
} lg_config;

/* One NATS connection and the JetStream handles bound to it */
typedef struct lg_conn
{
	natsConnection *nc; /* the connection */
	jsCtx *js;			/* JetStream context (js-* modes only) */
	kvStore *kv;		/* KV bucket handle (js-* modes only) */
} lg_conn;

/* Latency samples of one thread, in nanoseconds */
typedef struct lg_samples
{
	int64_t *ns;  /* the samples */
	size_t count; /* samples stored */
	size_t cap;	  /* samples allocated */
} lg_samples;

/* What one worker thread owns */
typedef struct lg_worker
{
	int id;					  /* 0..inflight-1 */
	const lg_config *cfg;	  /* shared settings */
	lg_conn *conn;			  /* connection this worker uses */
	uint64_t rng;			  /* xorshift state for key choice */
	lg_samples lat;			  /* latencies of successful measured ops */
	uint64_t errors;		  /* failed measured ops */
	uint64_t late;			  /* open loop: sends 1 ms or more late */
	uint64_t populate_errors; /* failed writes while pre-populating */
	char *buf;				  /* request payload buffer */
	size_t buf_len;			  /* size of buf */
} lg_worker;

/*
 * A mode's callbacks. Each returns true on success; on failure it fills
 * err (a short message naming the key) and returns false.
 */
typedef struct lg_mode
{
	const char *name;									   /* mode name */
	natsStatus (*setup)(lg_conn *c, const lg_config *cfg); /* per conn */
	bool (*write_key)(lg_worker *w, int key, char *err, size_t errlen);
	bool (*op)(lg_worker *w, int key, char *err, size_t errlen);
} lg_mode;

/* latency.c */
void lg_samples_add(lg_samples *s, int64_t ns);
void lg_samples_merge(lg_samples *into, const lg_samples *from);
void lg_samples_sort(lg_samples *s);
double lg_samples_percentile_ms(const lg_samples *s, double p);
void lg_samples_free(lg_samples *s);

/* bridge_ops.c */
extern const lg_mode lg_mode_bridge_get;
extern const lg_mode lg_mode_bridge_set;
extern const lg_mode lg_mode_bridge_row_search;
extern const lg_mode lg_mode_bridge_row_update;
extern const lg_mode lg_mode_request;

/* jetstream_ops.c */
extern const lg_mode lg_mode_js_get;
extern const lg_mode lg_mode_js_put;

/* echo.c */
extern const lg_mode lg_mode_echo;
int lg_echo_server(const lg_config *cfg);

/* loadgen.c */
void lg_format_key(char *out, size_t len, int key);

#endif /* LOADGEN_H */
