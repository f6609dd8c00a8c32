/*
 * nats_test.h
 *		Helpers shared by the NATS test drivers (tests/bridge/bridge_test.c,
 *		tests/observability/obs_test.c): connect as a user, send requests and
 *		wait for their replies, read JSON replies, and count checks.
 *
 * A driver sets nt_url and nt_phase before it connects, and prints
 * nt_passed / nt_failed in its closing "# phase" line.  Users follow the
 * suites' rule: user U has password "pw-U".  Each client receives replies
 * on its own inbox prefix, _INBOX.<user>.<random>, which is all the
 * generated config lets a plugin subscribe to.  JSON paths are separated by
 * nt_json_sep ("." unless the driver changes it).
 */
#ifndef NATS_TEST_H
#define NATS_TEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <nats/nats.h>

#define NT_TIMEOUT_MS 10000 /* how long a reply is waited for */

typedef struct Client
{
	natsConnection *nc;	   /* the connection */
	natsSubscription *sub; /* synchronous subscription on inbox.* */
	char user[64];		   /* NATS user */
	char inbox[160];	   /* reply prefix: _INBOX.<user>.<nuid> */
	int seq;			   /* last reply suffix used */
	pthread_mutex_t mutex; /* protects last_error */
	char last_error[512];  /* last asynchronous error from nats */
} Client;

extern const char *nt_url;		/* the NATS server's URL */
extern const char *nt_phase;	/* the phase, in every check's line */
extern const char *nt_json_sep; /* what separates a JSON path's keys */
extern int nt_passed;			/* checks that passed */
extern int nt_failed;			/* checks that failed */

extern bool check(bool ok, const char *what, const char *fmt, ...);
extern void sleep_ms(int ms);

extern Client *client_open(const char *user, natsStatus *status);
extern void client_close(Client *c);
extern void client_last_error(Client *c, char *buf, size_t size);
extern void expect_violation(Client *c, const char *what,
							 const char *contains);
extern int client_send(Client *c, const char *subject, const char *data,
					   int len);
extern char *client_receive(Client *c, int timeout_ms, int *seq);
extern char *client_wait(Client *c, int want, int64_t until);
extern char *request_raw(Client *c, const char *subject, const char *data,
						 int len, int timeout_ms);
extern json_object *parse(const char *text);
extern json_object *req(Client *c, const char *subject, const char *payload,
						char **text);

extern json_object *jget(json_object *o, const char *path);
extern const char *jstr(json_object *o, const char *path);
extern bool jbool(json_object *o, const char *path, bool want);

#endif
