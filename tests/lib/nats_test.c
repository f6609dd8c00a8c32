/*
 * nats_test.c
 *		Helpers shared by the NATS test drivers: clients, requests, JSON
 *		paths and the ok / not ok count (see nats_test.h).
 *
 * Each check prints a TAP-like line, "ok N - PHASE: what" or
 * "not ok N - PHASE: what: why".
 */
#define _POSIX_C_SOURCE 200809L

#include "nats_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *nt_url;
const char *nt_phase;
const char *nt_json_sep = ".";
int nt_passed;
int nt_failed;

/* Record one check's result */
bool
check(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok)
	{
		nt_passed++;
		printf("ok %d - %s: %s\n", nt_passed + nt_failed, nt_phase, what);
	}
	else
	{
		nt_failed++;
		printf("not ok %d - %s: %s: ", nt_passed + nt_failed, nt_phase, what);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	return ok;
}

/* Sleep for ms milliseconds */
void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* nats.c error handler: remember the error, e.g. a permissions violation */
static void
client_on_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
				void *closure)
{
	Client *c = closure;
	const char *text = NULL;

	(void) sub;
	natsConnection_GetLastError(nc, &text);
	pthread_mutex_lock(&c->mutex);
	snprintf(c->last_error, sizeof(c->last_error), "%s: %s",
			 natsStatus_GetText(err), text ? text : "");
	pthread_mutex_unlock(&c->mutex);
}

/* Copy the last asynchronous error */
void
client_last_error(Client *c, char *buf, size_t size)
{
	pthread_mutex_lock(&c->mutex);
	snprintf(buf, size, "%s", c->last_error);
	pthread_mutex_unlock(&c->mutex);
}

/* Connect as a user (NULL: no credentials); NULL if that fails */
Client *
client_open(const char *user, natsStatus *status)
{
	Client *c = calloc(1, sizeof(Client));
	natsOptions *opts = NULL;
	char password[96];
	char wildcard[200];
	char *nuid = NULL;
	natsStatus s;

	pthread_mutex_init(&c->mutex, NULL);
	snprintf(c->user, sizeof(c->user), "%s", user ? user : "anonymous");
	snprintf(password, sizeof(password), "pw-%s", c->user);
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetURL(opts, nt_url);
	if (s == NATS_OK && user)
		s = natsOptions_SetUserInfo(opts, user, password);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(opts, client_on_error, c);
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(opts, false);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, 2000);
	if (s == NATS_OK)
		s = natsConnection_Connect(&c->nc, opts);
	if (s == NATS_OK)
		s = natsInbox_Create(&nuid);
	if (s == NATS_OK)
	{
		snprintf(c->inbox, sizeof(c->inbox), "_INBOX.%s.%s", c->user,
				 nuid + strlen("_INBOX."));
		snprintf(wildcard, sizeof(wildcard), "%s.*", c->inbox);
		s = natsConnection_SubscribeSync(&c->sub, c->nc, wildcard);
	}
	if (s == NATS_OK)
		s = natsConnection_Flush(c->nc);
	natsInbox_Destroy(nuid);
	natsOptions_Destroy(opts);
	if (status)
		*status = s;
	if (s != NATS_OK)
	{
		natsSubscription_Destroy(c->sub);
		natsConnection_Destroy(c->nc);
		free(c);
		return NULL;
	}
	return c;
}

/* Close a client */
void
client_close(Client *c)
{
	if (c == NULL)
		return;
	natsSubscription_Destroy(c->sub);
	natsConnection_Close(c->nc);
	natsConnection_Destroy(c->nc);
	pthread_mutex_destroy(&c->mutex);
	free(c);
}

/* Check that the client got an async permissions violation mentioning what */
void
expect_violation(Client *c, const char *what, const char *contains)
{
	char err[512] = "";

	for (int i = 0; i < 20; i++)
	{
		client_last_error(c, err, sizeof(err));
		if (strstr(err, contains))
			break;
		sleep_ms(100);
	}
	check(strstr(err, "Permissions Violation") && strstr(err, contains), what,
		  "last error \"%s\"", err);
	pthread_mutex_lock(&c->mutex);
	c->last_error[0] = '\0';
	pthread_mutex_unlock(&c->mutex);
}

/* Publish a request whose reply goes to <inbox>.<seq>; return seq */
int
client_send(Client *c, const char *subject, const char *data, int len)
{
	char reply[200];

	snprintf(reply, sizeof(reply), "%s.%d", c->inbox, ++c->seq);
	natsConnection_PublishRequest(c->nc, subject, reply, data, len);
	return c->seq;
}

/* Wait for any reply; its text (malloc'd) and seq, or NULL on timeout */
char *
client_receive(Client *c, int timeout_ms, int *seq)
{
	natsMsg *msg = NULL;
	char *text;
	const char *dot;

	if (natsSubscription_NextMsg(&msg, c->sub, timeout_ms) != NATS_OK)
		return NULL;
	text = strndup(natsMsg_GetData(msg), (size_t) natsMsg_GetDataLength(msg));
	dot = strrchr(natsMsg_GetSubject(msg), '.');
	*seq = dot ? atoi(dot + 1) : -1;
	natsMsg_Destroy(msg);
	return text;
}

/* Wait for a reply with this seq until the deadline (nats_Now()); or NULL */
char *
client_wait(Client *c, int want, int64_t until)
{
	for (;;)
	{
		int seq;
		int64_t left = until - nats_Now();
		char *text;

		if (left <= 0)
			return NULL;
		text = client_receive(c, (int) left, &seq);
		if (text == NULL || seq == want)
			return text;
		free(text); /* a late reply to an earlier request */
	}
}

/* Send a request and wait for its reply text (malloc'd), NULL on timeout */
char *
request_raw(Client *c, const char *subject, const char *data, int len,
			int timeout_ms)
{
	int want = client_send(c, subject, data, len);

	return client_wait(c, want, nats_Now() + timeout_ms);
}

/* Parse a reply; NULL if it is not JSON */
json_object *
parse(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

/* Send a request with a string payload; parsed reply, text in *text */
json_object *
req(Client *c, const char *subject, const char *payload, char **text)
{
	char *t =
		request_raw(c, subject, payload, (int) strlen(payload), NT_TIMEOUT_MS);
	json_object *r = parse(t);

	if (text)
		*text = t;
	else
		free(t);
	return r;
}

/* Follow a path (object keys, or array indexes) separated by nt_json_sep */
json_object *
jget(json_object *o, const char *path)
{
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, nt_json_sep, &save); k && o;
		 k = strtok_r(NULL, nt_json_sep, &save))
	{
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t) atoi(k));
		else if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	}
	return o;
}

/* String at a path, or NULL */
const char *
jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
													: NULL;
}

/* Tell whether a path holds the given boolean */
bool
jbool(json_object *o, const char *path, bool want)
{
	json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_boolean) &&
		   json_object_get_boolean(v) == want;
}
