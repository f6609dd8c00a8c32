/*
 * bridge_test.c
 *		Drive plugin-storage-bridge with real NATS requests and check replies.
 *
 * tests/bridge/run.sh starts PostgreSQL, nats-server (with the isolation
 * config from `plugin-storage-bridge nats-config`) and the bridge, then
 * runs this program once per phase; between phases it restarts servers or
 * signals the bridge.  Each check prints a TAP-like line, "ok N - what" or
 * "not ok N - what: why", and the program ends with a line
 * "# phase PHASE passed=P failed=F" that run.sh adds up.  The exit status
 * is 1 if any check failed.
 *
 *		bridge_test PHASE [ARG]
 *		bridge_test request USER SUBJECT [PAYLOAD]	(one request, reply
 *printed)
 *
 * The NATS URL comes from BT_NATS_URL (default nats://127.0.0.1:42231).
 * Users and passwords follow run.sh's rule: user U has password "pw-U";
 * "ops" is the operator user, allowed everything.  Each client receives
 * replies on its own inbox prefix, _INBOX.<user>.<random>, which is all the
 * generated config lets a plugin subscribe to.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <nats/nats.h>

#define BT_TIMEOUT_MS 10000

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

static const char *bt_url;
static const char *bt_phase;
static int bt_passed;
static int bt_failed;

/* Record one check's result */
static bool
check(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok)
	{
		bt_passed++;
		printf("ok %d - %s: %s\n", bt_passed + bt_failed, bt_phase, what);
	}
	else
	{
		bt_failed++;
		printf("not ok %d - %s: %s: ", bt_passed + bt_failed, bt_phase, what);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	return ok;
}

/* Sleep for ms milliseconds */
static void
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
static void
client_last_error(Client *c, char *buf, size_t size)
{
	pthread_mutex_lock(&c->mutex);
	snprintf(buf, size, "%s", c->last_error);
	pthread_mutex_unlock(&c->mutex);
}

/* Connect as a user (NULL: no credentials); NULL if that fails */
static Client *
client_open(const char *user, natsStatus *status)
{
	Client *c = calloc(1, sizeof(Client));
	natsOptions *opts = NULL;
	char password[96];
	char *nuid = NULL;
	natsStatus s;

	pthread_mutex_init(&c->mutex, NULL);
	snprintf(c->user, sizeof(c->user), "%s", user ? user : "anonymous");
	snprintf(password, sizeof(password), "pw-%s", c->user);
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetURL(opts, bt_url);
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
		char wildcard[200];

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
static void
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

/* Publish a request whose reply goes to <inbox>.<seq>; return seq */
static int
client_send(Client *c, const char *subject, const char *data, int len)
{
	char reply[200];

	snprintf(reply, sizeof(reply), "%s.%d", c->inbox, ++c->seq);
	natsConnection_PublishRequest(c->nc, subject, reply, data, len);
	return c->seq;
}

/* Wait for any reply; its text (malloc'd) and seq, or NULL on timeout */
static char *
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

/* Send a request and wait for its reply text (malloc'd), NULL on timeout */
static char *
request_raw(Client *c, const char *subject, const char *data, int len,
			int timeout_ms)
{
	int want = client_send(c, subject, data, len);
	int64_t until = nats_Now() + timeout_ms;

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

/* Parse a reply; NULL if it is not JSON */
static json_object *
parse(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

/* Send a request with a string payload; parsed reply, text in *text */
static json_object *
req(Client *c, const char *subject, const char *payload, char **text)
{
	char *t =
		request_raw(c, subject, payload, (int) strlen(payload), BT_TIMEOUT_MS);
	json_object *r = parse(t);

	if (text)
		*text = t;
	else
		free(t);
	return r;
}

/* Follow a dotted path (object keys, or array indexes) */
static json_object *
jget(json_object *o, const char *path)
{
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o;
		 k = strtok_r(NULL, ".", &save))
	{
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t) atoi(k));
		else if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	}
	return o;
}

/* String at a path, or NULL */
static const char *
jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
													: NULL;
}

/* Tell whether a path holds the given boolean */
static bool
jbool(json_object *o, const char *path, bool want)
{
	json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_boolean) &&
		   json_object_get_boolean(v) == want;
}

/* Tell whether a path holds an integer, and give it */
static bool
jint(json_object *o, const char *path, int64_t *out)
{
	json_object *v = jget(o, path);

	if (!json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* Length of the array at a path, 0 if there is none */
static size_t
jlen(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_array)
			   ? json_object_array_length(v)
			   : 0;
}

/* Tell whether a path exists and holds JSON null */
static bool
jnull(json_object *o, const char *path)
{
	json_object *v;
	char parent[256];
	char *dot;

	snprintf(parent, sizeof(parent), "%s", path);
	dot = strrchr(parent, '.');
	if (dot)
	{
		*dot = '\0';
		o = jget(o, parent);
	}
	return json_object_object_get_ex(o, dot ? dot + 1 : path, &v) && v == NULL;
}

/* Check that a request gets an error with this code (and text in message) */
static bool
expect_error(Client *c, const char *subject, const char *payload, int len,
			 const char *code, const char *contains, const char *what)
{
	char *text =
		request_raw(c, subject, payload, len < 0 ? (int) strlen(payload) : len,
					BT_TIMEOUT_MS);
	json_object *r = parse(text);
	const char *got = jstr(r, "error.code");
	const char *msg = jstr(r, "error.message");
	bool ok = got && strcmp(got, code) == 0 &&
			  (contains == NULL || (msg && strstr(msg, contains)));

	check(ok, what, "wanted %s%s%s, got %s", code, contains ? " with " : "",
		  contains ? contains : "", text ? text : "no reply");
	json_object_put(r);
	free(text);
	return ok;
}

/* Encode bytes as standard base64 */
static void
base64(const unsigned char *in, size_t len, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3)
	{
		unsigned v = (unsigned) in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned) in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

/* set, get, ttl, expire, delete: the single-key operations */
static void
test_kv_single(Client *q)
{
	char *t;
	json_object *r;
	int64_t rev = 0;
	int64_t rev2 = 0;
	int64_t ttl = 0;

	r = req(q, "db.kv.quote-db.set",
			"{\"key\":\"last_quote_id\",\"value\":\"42\",\"ttl\":3600}", &t);
	check(jbool(r, "ok", true) && jint(r, "revision", &rev) &&
			  jstr(r, "expires_at") != NULL,
		  "set answers ok, a revision and expires_at", "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.get", "{\"key\":\"last_quote_id\"}", &t);
	check(jbool(r, "exists", true) && jstr(r, "value") &&
			  strcmp(jstr(r, "value"), "42") == 0 &&
			  jint(r, "revision", &rev2) && rev2 == rev &&
			  jstr(r, "expires_at") != NULL,
		  "get returns the value and revision that set stored", "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.ttl", "{\"key\":\"last_quote_id\"}", &t);
	check(jint(r, "ttl", &ttl) && ttl > 3500 && ttl <= 3600,
		  "ttl reports the seconds left", "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.expire",
			"{\"key\":\"last_quote_id\",\"ttl\":null}", &t);
	check(jbool(r, "exists", true), "expire with ttl null clears the TTL",
		  "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.kv.quote-db.ttl", "{\"key\":\"last_quote_id\"}", &t);
	check(jnull(r, "ttl") && jbool(r, "exists", true),
		  "ttl is null once cleared", "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.get", "{\"key\":\"missing\"}", &t);
	check(jbool(r, "exists", false) && jnull(r, "value"),
		  "get of a missing key answers exists false, value null", "got %s",
		  t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.delete", "{\"key\":\"last_quote_id\"}", &t);
	check(jbool(r, "deleted", true), "delete removes the key", "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.kv.quote-db.delete", "{\"key\":\"last_quote_id\"}", &t);
	check(jbool(r, "deleted", false), "a second delete answers false",
		  "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.set",
			"{\"key\":\"lock\",\"value\":1,\"if_absent\":true}", &t);
	json_object_put(r), free(t);
	expect_error(q, "db.kv.quote-db.set",
				 "{\"key\":\"lock\",\"value\":2,\"if_absent\":true}", -1,
				 "conflict", NULL,
				 "set if_absent on an existing key answers conflict");
}

/* mset, list with prefix and cursor, mget, incr, count, exists */
static void
test_kv_multi(Client *q)
{
	char *t;
	json_object *r;
	char cursor[64] = "";
	char seen[512] = "";
	int pages = 0;
	int64_t v = 0;
	int64_t count = 0;
	size_t nkeys = 0;

	r = req(q, "db.kv.quote-db.mset",
			"{\"items\":["
			"{\"key\":\"config_a\",\"value\":\"x\"},{\"key\":\"config_b\","
			"\"value\":2},"
			"{\"key\":\"config_c\",\"value\":3},{\"key\":\"config_d\","
			"\"value\":4},"
			"{\"key\":\"config_e\",\"value\":5},{\"key\":\"user:1\",\"value\":"
			"1}]}",
			&t);
	check(jbool(r, "ok", true) && jlen(r, "revisions") == 6,
		  "mset stores every item and answers their revisions", "got %s", t);
	json_object_put(r), free(t);

	/* page through the prefix two keys at a time */
	for (;;)
	{
		char payload[200];
		json_object *keys;

		snprintf(payload, sizeof(payload),
				 "{\"prefix\":\"config_\",\"limit\":2%s%s%s}",
				 cursor[0] ? ",\"cursor\":\"" : "", cursor,
				 cursor[0] ? "\"" : "");
		r = req(q, "db.kv.quote-db.list", payload, &t);
		keys = jget(r, "keys");
		if (!json_object_is_type(keys, json_type_array) || ++pages > 5)
		{
			check(false, "list pages with prefix and cursor", "got %s", t);
			json_object_put(r), free(t);
			return;
		}
		for (size_t i = 0; i < json_object_array_length(keys); i++)
			snprintf(
				seen + strlen(seen), sizeof(seen) - strlen(seen), "%s ",
				json_object_get_string(json_object_array_get_idx(keys, i)));
		snprintf(cursor, sizeof(cursor), "%s",
				 jstr(r, "next_cursor") ? jstr(r, "next_cursor") : "");
		json_object_put(r), free(t);
		if (cursor[0] == '\0')
			break;
	}
	check(strcmp(seen, "config_a config_b config_c config_d config_e ") == 0 &&
			  pages == 3,
		  "list pages through a prefix in key order with a cursor",
		  "saw \"%s\" in %d pages", seen, pages);

	r = req(q, "db.kv.quote-db.mget",
			"{\"keys\":[\"config_b\",\"missing\",\"user:1\"]}", &t);
	check(jbool(r, "items.0.exists", true) && jint(r, "items.0.value", &v) &&
			  v == 2 && jbool(r, "items.1.exists", false) &&
			  jbool(r, "items.2.exists", true),
		  "mget answers every key in request order", "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.incr", "{\"key\":\"hits\"}", &t);
	check(jint(r, "value", &v) && v == 1, "incr creates a counter at 1",
		  "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.kv.quote-db.incr", "{\"key\":\"hits\",\"by\":41}", &t);
	check(jint(r, "value", &v) && v == 42, "incr by 41 reaches 42", "got %s",
		  t);
	json_object_put(r), free(t);
	expect_error(q, "db.kv.quote-db.incr", "{\"key\":\"config_a\"}", -1,
				 "type_mismatch", NULL,
				 "incr of a string answers type_mismatch");

	r = req(q, "db.kv.quote-db.list", "{\"limit\":1000}", &t);
	nkeys = jlen(r, "keys");
	json_object_put(r), free(t);
	r = req(q, "db.kv.quote-db.count", "{}", &t);
	check(jint(r, "count", &count) && count == (int64_t) nkeys && count >= 8,
		  "count agrees with list", "count %s, list %zu keys", t, nkeys);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.exists", "{\"key\":\"user:1\"}", &t);
	check(jbool(r, "exists", true), "exists finds a key", "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.kv.quote-db.exists", "{\"key\":\"nope\"}", &t);
	check(jbool(r, "exists", false), "exists misses an absent key", "got %s",
		  t);
	json_object_put(r), free(t);
}

/* collections, all, clear, drop */
static void
test_kv_collections(Client *q)
{
	char *t;
	json_object *r;
	int64_t n = 0;
	bool found = false;
	const char *docs[] = {
		"{\"collection\":\"tasks\",\"key\":\"t1\",\"value\":{\"title\":"
		"\"one\"}}",
		"{\"collection\":\"tasks\",\"key\":\"t2\",\"value\":{\"title\":"
		"\"two\"}}",
		"{\"collection\":\"tasks\",\"key\":\"t3\",\"value\":{\"title\":"
		"\"three\"}}",
		"{\"collection\":\"scratch\",\"key\":\"s1\",\"value\":true}",
	};

	for (int i = 0; i < 4; i++)
	{
		r = req(q, "db.kv.quote-db.set", docs[i], NULL);
		json_object_put(r);
	}
	r = req(q, "db.kv.quote-db.collections", "{}", &t);
	for (size_t i = 0; i < jlen(r, "collections"); i++)
		if (strcmp(json_object_get_string(
					   json_object_array_get_idx(jget(r, "collections"), i)),
				   "tasks") == 0)
			found = true;
	check(found, "collections lists the collections that hold keys", "got %s",
		  t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.all", "{\"collection\":\"tasks\",\"limit\":2}",
			&t);
	check(jlen(r, "documents") == 2 && jstr(r, "documents.0.id") &&
			  strcmp(jstr(r, "documents.0.id"), "t3") == 0 &&
			  jstr(r, "documents.0.data.title") &&
			  jint(r, "next_offset", &n) && n == 2,
		  "all pages documents, most recently updated first", "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.clear", "{\"collection\":\"tasks\"}", &t);
	check(jint(r, "deleted", &n) && n == 3, "clear empties a collection",
		  "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.drop", "{\"collection\":\"scratch\"}", &t);
	check(jbool(r, "dropped", true) && jint(r, "deleted", &n) && n == 1,
		  "drop deletes a whole collection", "got %s", t);
	json_object_put(r), free(t);
}

/* value_b64 round-trips every byte; TTL keys expire; data is per plugin */
static void
test_kv_binary_ttl_isolation(Client *q, Client *tv)
{
	unsigned char bytes[256];
	char b64[400];
	char payload[600];
	char *t;
	json_object *r;
	int64_t v = 0;

	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char) i;
	base64(bytes, sizeof(bytes), b64);
	snprintf(payload, sizeof(payload),
			 "{\"key\":\"bin\",\"value_b64\":\"%s\"}", b64);
	r = req(q, "db.kv.quote-db.set", payload, NULL);
	json_object_put(r);
	r = req(q, "db.kv.quote-db.get", "{\"key\":\"bin\"}", &t);
	check(jstr(r, "value_b64") && strcmp(jstr(r, "value_b64"), b64) == 0,
		  "value_b64 round-trips all 256 byte values", "got %s", t);
	json_object_put(r), free(t);

	r = req(q, "db.kv.quote-db.set",
			"{\"key\":\"ephemeral\",\"value\":1,\"ttl\":1}", NULL);
	json_object_put(r);
	sleep_ms(2500);
	r = req(q, "db.kv.quote-db.get", "{\"key\":\"ephemeral\"}", &t);
	check(jbool(r, "exists", false), "a key with ttl 1 is gone after 2.5 s",
		  "got %s", t);
	json_object_put(r), free(t);

	r = req(tv, "db.kv.trivia.get", "{\"key\":\"user:1\"}", &t);
	check(jbool(r, "exists", false), "trivia does not see quote-db's keys",
		  "got %s", t);
	json_object_put(r), free(t);
	r = req(tv, "db.kv.trivia.set", "{\"key\":\"user:1\",\"value\":\"mine\"}",
			NULL);
	json_object_put(r);
	r = req(q, "db.kv.quote-db.get", "{\"key\":\"user:1\"}", &t);
	check(jint(r, "value", &v) && v == 1,
		  "trivia's write to the same key leaves quote-db's value alone",
		  "got %s", t);
	json_object_put(r), free(t);
}

/* A reply over nats-server's max_payload is refused as too_large */
static void
test_kv_too_large_reply(Client *q)
{
	char *payload = malloc(40000);
	char key[300];
	json_object *r;
	char *t;

	/* 1000 keys of 300 bytes: listing them all makes a 300 kB reply */
	memset(key, 'k', sizeof(key));
	for (int b = 0; b < 10; b++)
	{
		int len = snprintf(payload, 40000, "{\"items\":[");

		for (int i = 0; i < 100; i++)
			len += snprintf(payload + len, 40000 - (size_t) len,
							"%s{\"key\":\"long-%.290s-%04d\",\"value\":0}",
							i ? "," : "", key, b * 100 + i);
		snprintf(payload + len, 40000 - (size_t) len, "]}");
		r = req(q, "db.kv.quote-db.mset", payload, NULL);
		json_object_put(r);
	}
	free(payload);
	expect_error(q, "db.kv.quote-db.list",
				 "{\"prefix\":\"long-\",\"limit\":1000}", -1, "too_large",
				 "limit/cursor",
				 "a 300 kB reply over max_payload answers too_large");
	r = req(q, "db.kv.quote-db.list", "{\"prefix\":\"long-\",\"limit\":100}",
			&t);
	check(jlen(r, "keys") == 100 && jstr(r, "next_cursor") != NULL,
		  "the same keys listed a page at a time fit", "got %.200s",
		  t ? t : "no reply");
	json_object_put(r), free(t);
}

/* Every KV op, end to end, for quote-db and trivia */
static void
phase_kv(void)
{
	Client *q = client_open("quote-db", NULL);
	Client *tv = client_open("trivia", NULL);

	if (!check(q && tv, "plugins connect to NATS", "connect failed"))
		return;
	test_kv_single(q);
	test_kv_multi(q);
	test_kv_collections(q);
	test_kv_binary_ttl_isolation(q, tv);
	test_kv_too_large_reply(q);
	client_close(q);
	client_close(tv);
}

/* define, describe, tables: a table made over NATS */
static void
test_row_tables(Client *q)
{
	char *t;
	json_object *r;

	r = req(q, "db.row.quote-db.define",
			"{\"table\":\"quotes\",\"columns\":{\"text\":\"text\","
			"\"author\":\"text\",\"score\":\"integer\",\"tags\":\"text[]\"},"
			"\"indexes\":[[\"author\"]]}",
			&t);
	check(jbool(r, "created", true), "row define creates a table", "got %s",
		  t);
	json_object_put(r), free(t);
	r = req(q, "db.row.quote-db.describe", "{\"table\":\"quotes\"}", &t);
	check(jlen(r, "columns") == 7 && jstr(r, "primary_key.0") &&
			  strcmp(jstr(r, "primary_key.0"), "id") == 0,
		  "row describe lists the columns and the id primary key", "got %s",
		  t);
	json_object_put(r), free(t);
	r = req(q, "db.row.quote-db.tables", "{}", &t);
	check(jstr(r, "tables.0.name") &&
			  strcmp(jstr(r, "tables.0.name"), "quotes") == 0,
		  "row tables lists the table (and not the KV table)", "got %s", t);
	json_object_put(r), free(t);
}

/* insert, upsert, select, search, aggregate, update, delete */
static void
test_row_crud(Client *q)
{
	char *t;
	json_object *r;
	int64_t n = 0;

	r = req(q, "db.row.quote-db.insert",
			"{\"table\":\"quotes\",\"data\":{\"text\":\"Keep circulating the "
			"tapes\",\"author\":\"MST3K\",\"score\":1}}",
			&t);
	check(jint(r, "id", &n) && n == 1 && jbool(r, "created", true),
		  "row insert answers the new id", "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.row.quote-db.insert",
			"{\"table\":\"quotes\",\"rows\":[{\"text\":\"a\",\"author\":\"x\","
			"\"score\":5},{\"text\":\"b\",\"author\":\"x\",\"score\":7}]}",
			&t);
	check(jlen(r, "ids") == 2, "row insert of rows answers every id", "got %s",
		  t);
	json_object_put(r), free(t);
	r = req(q, "db.row.quote-db.upsert",
			"{\"table\":\"quotes\",\"data\":{\"id\":1,\"text\":\"Keep "
			"circulating the tapes\",\"author\":\"MST3K\",\"score\":2},"
			"\"on\":[\"id\"]}",
			&t);
	check(jbool(r, "created", false),
		  "row upsert of an existing id updates it", "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.row.quote-db.select", "{\"table\":\"quotes\",\"id\":1}",
			&t);
	check(jint(r, "rows.0.score", &n) && n == 2,
		  "row select by id returns the upserted row", "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.row.quote-db.search",
			"{\"table\":\"quotes\",\"filters\":{\"author\":\"x\",\"score\":"
			"{\"$gte\":5}},\"sort\":{\"field\":\"score\",\"order\":\"desc\"},"
			"\"limit\":1,\"count\":true}",
			&t);
	check(jint(r, "rows.0.score", &n) && n == 7 && jbool(r, "truncated", true),
		  "row search filters, sorts and pages", "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.row.quote-db.aggregate",
			"{\"table\":\"quotes\",\"group_by\":[\"author\"],\"aggregates\":"
			"{\"total\":{\"$sum\":\"score\"}},\"sort\":{\"field\":\"total\","
			"\"order\":\"desc\"}}",
			&t);
	check(jint(r, "rows.0.total", &n) && n == 12,
		  "row aggregate sums per group", "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.row.quote-db.update",
			"{\"table\":\"quotes\",\"filters\":{\"author\":\"x\"},"
			"\"operations\":{\"score\":{\"$inc\":10},\"tags\":{\"$push\":"
			"\"seen\"}}}",
			&t);
	check(jint(r, "updated", &n) && n == 2, "row update applies operators",
		  "got %s", t);
	json_object_put(r), free(t);
	expect_error(q, "db.row.quote-db.delete",
				 "{\"table\":\"quotes\",\"filters\":{}}", -1,
				 "invalid_request", NULL,
				 "row delete with empty filters is refused");
	r = req(q, "db.row.quote-db.delete",
			"{\"table\":\"quotes\",\"filters\":{\"score\":{\"$gt\":10}}}", &t);
	check(jint(r, "deleted", &n) && n == 2, "row delete removes what matches",
		  "got %s", t);
	json_object_put(r), free(t);
}

/* The row tier end to end, and kept apart between plugins */
static void
phase_row(void)
{
	Client *q = client_open("quote-db", NULL);
	Client *tv = client_open("trivia", NULL);
	char *t;
	json_object *r;

	if (!check(q && tv, "plugins connect to NATS", "connect failed"))
		return;
	test_row_tables(q);
	test_row_crud(q);
	expect_error(tv, "db.row.trivia.search", "{\"table\":\"quotes\"}", -1,
				 "not_found", NULL,
				 "another plugin does not see the table (not_found)");
	expect_error(q, "db.row.quote-db.search",
				 "{\"table\":\"quotes\",\"filters\":{\"scroe\":1}}", -1,
				 "invalid_request", "scroe",
				 "an unknown column is invalid_request naming it");
	expect_error(q, "db.row.quote-db.frobnicate", "{\"table\":\"quotes\"}", -1,
				 "invalid_request", NULL, "an unknown row op is refused");
	r = req(q, "db.row.quote-db.drop_table",
			"{\"table\":\"quotes\",\"confirm\":true}", &t);
	check(jbool(r, "dropped", true), "row drop_table with confirm drops it",
		  "got %s", t);
	json_object_put(r), free(t);
	client_close(q);
	client_close(tv);
}

/* Poll with gets until one succeeds; return how many ms it took, or -1 */
static int
wait_for_service(const char *user, int limit_ms)
{
	int64_t start = nats_Now();

	while (nats_Now() - start < limit_ms)
	{
		Client *c = client_open(user, NULL);
		json_object *r =
			c ? req(c, "db.kv.quote-db.exists", "{\"key\":\"user:1\"}", NULL)
			  : NULL;
		bool ok = jbool(r, "exists", true);

		json_object_put(r);
		client_close(c);
		if (ok)
			return (int) (nats_Now() - start);
		sleep_ms(200);
	}
	return -1;
}

/* Bad subjects: each gets invalid_request or not_found, never silence */
static void
test_bad_subjects(Client *q, Client *ops)
{
	expect_error(ops, "db.kv.Quote_DB.get", "{\"key\":\"a\"}", -1,
				 "invalid_request", "invalid plugin name",
				 "an upper-case plugin name is refused");
	expect_error(ops, "db.kv.-x.get", "{\"key\":\"a\"}", -1, "invalid_request",
				 "invalid plugin name",
				 "a plugin name starting with '-' is refused");
	expect_error(q, "db.blob.quote-db.get", "{\"key\":\"a\"}", -1,
				 "invalid_request", "unknown tier",
				 "an unknown tier is refused");
	expect_error(q, "db.kv.quote-db.GET", "{\"key\":\"a\"}", -1,
				 "invalid_request", "invalid op",
				 "an op outside ^[a-z_]{1,32}$ is refused");
	expect_error(q, "db.kv.quote-db.frobnicate", "{}", -1, "invalid_request",
				 "frobnicate", "an unknown op is refused by the extension");
	expect_error(ops, "db.kv.quote-db", "{}", -1, "invalid_request",
				 "db.kv.<plugin>.<op>", "a subject without op is refused");
	expect_error(q, "db.kv.quote-db.get.more", "{}", -1, "invalid_request",
				 "db.kv.<plugin>.<op>",
				 "a subject with a fifth token is "
				 "refused");
	expect_error(q, "db.sql.quote-db.select", "{}", -1, "invalid_request",
				 "only op is \"query\"", "the sql tier takes only op query");
	expect_error(q, "db.migrate.quote-db.apply", "{}", -1, "invalid_request",
				 "db.migrate.<plugin>", "the migrate tier takes no op");
	expect_error(ops, "db.kv.nobody.get", "{\"key\":\"a\"}", -1, "not_found",
				 NULL, "an unregistered plugin answers not_found");
}

/* Bad payloads: each gets invalid_request or too_large */
static void
test_bad_payloads(Client *q)
{
	size_t n = 210 * 1000;
	char *big = malloc(n + 1);
	char deep[400];
	static const char nul[] = "{\"key\":\"a\0b\"}";
	int len;

	expect_error(q, "db.kv.quote-db.get", "{\"key\":", -1, "invalid_request",
				 "not valid JSON", "invalid JSON is refused");
	expect_error(q, "db.kv.quote-db.get", "[1,2]", -1, "invalid_request",
				 "must be a JSON object", "an array payload is refused");
	expect_error(q, "db.kv.quote-db.get", "42", -1, "invalid_request",
				 "must be a JSON object", "a number payload is refused");
	expect_error(q, "db.kv.quote-db.get", "{\"key\":\"\xff\"}", -1,
				 "invalid_request", "not valid JSON",
				 "invalid UTF-8 is refused");
	expect_error(q, "db.kv.quote-db.get", nul, (int) sizeof(nul) - 1,
				 "invalid_request", "NUL", "a NUL byte is refused");
	len = snprintf(deep, sizeof(deep), "{\"key\":\"a\",\"x\":");
	for (int i = 0; i < 100; i++)
		deep[len++] = '[';
	for (int i = 0; i < 100; i++)
		deep[len++] = ']';
	strcpy(deep + len, "}");
	expect_error(q, "db.kv.quote-db.get", deep, -1, "invalid_request",
				 "nested deeper", "nesting past max_json_depth is refused");
	len = snprintf(big, n, "{\"key\":\"a\",\"value\":\"");
	memset(big + len, 'x', n - (size_t) len - 2);
	strcpy(big + n - 2, "\"}");
	expect_error(q, "db.kv.quote-db.set", big, -1, "too_large",
				 "max_request_bytes",
				 "a payload over max_request_bytes is "
				 "refused");
	free(big);
}

/* Empty payloads mean {}; requests without a reply subject are dropped */
static void
test_empty_and_no_reply(Client *q)
{
	char *t;
	json_object *r;
	int64_t n = 0;

	r = req(q, "db.kv.quote-db.count", "", &t);
	check(jint(r, "count", &n), "an empty payload stands for {}", "got %s", t);
	json_object_put(r), free(t);

	natsConnection_PublishString(q->nc, "db.kv.quote-db.set",
								 "{\"key\":\"dropped\",\"value\":1}");
	natsConnection_Flush(q->nc);
	sleep_ms(500);
	r = req(q, "db.kv.quote-db.exists", "{\"key\":\"dropped\"}", &t);
	check(jbool(r, "exists", false),
		  "a request without reply subject has no "
		  "effect",
		  "got %s", t);
	json_object_put(r), free(t);
}

/* A tier whose function is not installed answers invalid_request */
static void
test_missing_tier(Client *q)
{
	char *t;
	json_object *r = req(q, "db.row.quote-db.insert", "{}", &t);
	const char *msg = jstr(r, "error.message");
	bool absent = msg && strstr(msg, "is not installed");

	check(r != NULL && (!absent || (strcmp(jstr(r, "error.code"),
										   "invalid_request") == 0 &&
									strstr(msg, "unknown tier"))),
		  "the row tier answers unknown tier until plugin_row is installed",
		  "got %s", t ? t : "no reply");
	json_object_put(r), free(t);
}

/* Each bad-input case */
static void
phase_bad(void)
{
	Client *q;
	Client *ops;

	wait_for_service("quote-db", 20000); /* after a failure elsewhere */
	q = client_open("quote-db", NULL);
	ops = client_open("ops", NULL);
	if (!check(q && ops, "clients connect to NATS", "connect failed"))
		return;
	test_bad_subjects(q, ops);
	test_bad_payloads(q);
	test_empty_and_no_reply(q);
	test_missing_tier(q);
	client_close(q);
	client_close(ops);
}

/* Check that the client got an async permissions violation mentioning what */
static void
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

/* nats-server keeps plugins off each other's subjects and replies */
static void
phase_isolation(void)
{
	Client *q = client_open("quote-db", NULL);
	Client *tv = client_open("trivia", NULL);
	natsSubscription *sub = NULL;
	natsStatus s;
	char *t;
	json_object *r;

	if (!check(q && tv, "plugins connect to NATS", "connect failed"))
		return;
	t = request_raw(q, "db.kv.trivia.get", "{}", 2, 1500);
	check(t == NULL, "quote-db's request on db.kv.trivia.get gets no reply",
		  "got %s", t);
	free(t);
	expect_violation(q, "... and a permissions violation",
					 "Publish to \"db.kv.trivia.get\"");
	t = request_raw(tv, "db.migrate.quote-db", "{}", 2, 1500);
	check(t == NULL, "trivia cannot publish on db.migrate.quote-db", "got %s",
		  t);
	free(t);
	expect_violation(tv, "... and a permissions violation",
					 "db.migrate.quote-db");

	natsConnection_SubscribeSync(&sub, q->nc, "db.>");
	natsConnection_Flush(q->nc);
	expect_violation(q, "quote-db cannot subscribe to requests (db.>)",
					 "Subscription to \"db.>\"");
	natsSubscription_Destroy(sub);
	natsConnection_SubscribeSync(&sub, q->nc, "_INBOX.trivia.>");
	natsConnection_Flush(q->nc);
	expect_violation(q, "quote-db cannot subscribe to trivia's replies",
					 "Subscription to \"_INBOX.trivia.>\"");
	natsSubscription_Destroy(sub);
	natsConnection_SubscribeSync(&sub, q->nc, "_INBOX.>");
	natsConnection_Flush(q->nc);
	expect_violation(q, "quote-db cannot subscribe to every inbox",
					 "Subscription to \"_INBOX.>\"");
	natsSubscription_Destroy(sub);

	r = req(q, "db.kv.quote-db.exists", "{\"key\":\"user:1\"}", &t);
	check(jbool(r, "exists", true), "quote-db still reaches its own subjects",
		  "got %s", t);
	json_object_put(r), free(t);

	client_close(client_open(NULL, &s));
	check(s != NATS_OK, "a client without credentials cannot connect",
		  "status %s", natsStatus_GetText(s));
	client_close(q);
	client_close(tv);
}

/* PostgreSQL is down: requests get unavailable promptly */
static void
phase_pg_down(void)
{
	Client *q = client_open("quote-db", NULL);

	if (!check(q != NULL, "plugin connects to NATS", "connect failed"))
		return;
	for (int i = 0; i < 3; i++)
	{
		expect_error(q, "db.kv.quote-db.get", "{\"key\":\"user:1\"}", -1,
					 "unavailable", NULL,
					 "get while PostgreSQL is down "
					 "answers unavailable");
		expect_error(q, "db.kv.quote-db.set", "{\"key\":\"x\",\"value\":1}",
					 -1, "unavailable", NULL,
					 "set while PostgreSQL is down "
					 "answers unavailable");
	}
	client_close(q);
}

/* PostgreSQL or nats-server is back: service returns within 20 s */
static void
phase_back(void)
{
	int ms = wait_for_service("quote-db", 20000);
	Client *q;
	char *t;
	json_object *r;

	check(ms >= 0, "requests succeed again within 20 s", "still failing");
	if (ms < 0)
		return;
	printf("# service back after %d ms\n", ms);
	q = client_open("quote-db", NULL);
	r = req(q, "db.kv.quote-db.incr", "{\"key\":\"restarts\"}", &t);
	check(jint(r, "value", &(int64_t){0}), "writes work after the restart",
		  "got %s", t);
	json_object_put(r), free(t);
	r = req(q, "db.kv.quote-db.get", "{\"key\":\"config_b\"}", &t);
	check(jbool(r, "exists", true),
		  "data written before the restart is "
		  "there",
		  "got %s", t);
	json_object_put(r), free(t);
	client_close(q);
}

/* The connection dies after a write was sent: outcome unknown, said so */
static void
phase_unknown(void)
{
	Client *q = client_open("quote-db", NULL);
	char *t;
	json_object *r;
	const char *code;

	if (!check(q != NULL, "plugin connects to NATS", "connect failed"))
		return;
	printf("# sending\n");
	fflush(stdout);
	r = req(q, "db.kv.quote-db.set", "{\"key\":\"maybe\",\"value\":1}", &t);
	code = jstr(r, "error.code");
	check(code &&
			  (strcmp(code, "unavailable") == 0 ||
			   strcmp(code, "timeout") == 0) &&
			  strstr(jstr(r, "error.message"), "unknown"),
		  "a set whose connection died answers unavailable, outcome unknown",
		  "got %s", t ? t : "no reply");
	json_object_put(r), free(t);
	client_close(q);
}

/* PostgreSQL does not answer: the request gets timeout after its deadline */
static void
phase_timeout(void)
{
	Client *q = client_open("quote-db", NULL);
	int64_t start = nats_Now();

	if (!check(q != NULL, "plugin connects to NATS", "connect failed"))
		return;
	expect_error(q, "db.kv.quote-db.get", "{\"key\":\"user:1\"}", -1,
				 "timeout", "request_timeout_ms",
				 "a request PostgreSQL does not answer gets timeout");
	check(nats_Now() - start < 8000,
		  "... within the deadline and the cancel "
		  "grace",
		  "took %lld ms", (long long) (nats_Now() - start));
	client_close(q);
}

/* Send n sets at once and wait for every reply (run.sh stops the bridge) */
static void
phase_inflight(int n)
{
	Client *q = client_open("quote-db", NULL);
	int ok = 0;
	int replies = 0;
	int64_t until;
	bool *seen = calloc((size_t) n + 1, sizeof(bool));

	if (!check(q != NULL, "plugin connects to NATS", "connect failed"))
		return;
	for (int i = 0; i < n; i++)
	{
		char payload[100];

		snprintf(payload, sizeof(payload),
				 "{\"key\":\"inflight-%d\",\"value\":%d}", i, i);
		client_send(q, "db.kv.quote-db.set", payload, (int) strlen(payload));
	}
	natsConnection_Flush(q->nc);
	printf("# sent %d requests\n", n);
	fflush(stdout);
	until = nats_Now() + 30000;
	while (replies < n && nats_Now() < until)
	{
		int seq;
		char *text = client_receive(q, (int) (until - nats_Now()), &seq);
		json_object *r = parse(text);

		if (text == NULL)
			break;
		if (seq >= 1 && seq <= n && !seen[seq])
		{
			seen[seq] = true;
			replies++;
			ok += jbool(r, "ok", true);
		}
		else
			check(false, "no request is answered twice", "extra reply %s",
				  text);
		json_object_put(r);
		free(text);
	}
	check(replies == n, "every request in flight at shutdown got a reply",
		  "%d of %d", replies, n);
	check(ok == n, "... and every reply is ok", "%d of %d ok", ok, n);
	free(seen);
	client_close(q);
}

/* The writes acknowledged before shutdown are all there */
static void
phase_inflight_check(int n)
{
	Client *q = client_open("quote-db", NULL);
	int found = 0;

	if (!check(q != NULL, "plugin connects to NATS", "connect failed"))
		return;
	for (int i = 0; i < n; i++)
	{
		char payload[100];
		json_object *r;
		int64_t v = -1;

		snprintf(payload, sizeof(payload), "{\"key\":\"inflight-%d\"}", i);
		r = req(q, "db.kv.quote-db.get", payload, NULL);
		found += jint(r, "value", &v) && v == i;
		json_object_put(r);
	}
	check(found == n, "every write acknowledged at shutdown is stored",
		  "%d of %d", found, n);
	client_close(q);
}

/* One client of phase_group_incr: its own connection, per sequential incr */
typedef struct IncrThread
{
	pthread_t thread; /* the client thread */
	int count;		  /* increments to send */
	int64_t *values;  /* the value each reply gave; -1 if it failed */
	char error[300];  /* the first failed reply, for the report */
} IncrThread;

/* Send count increments of "group-counter", one at a time */
static void *
incr_thread(void *arg)
{
	IncrThread *t = arg;
	Client *c = client_open("quote-db", NULL);

	for (int i = 0; i < t->count; i++)
	{
		char *text = NULL;
		json_object *r = c ? req(c, "db.kv.quote-db.incr",
								 "{\"key\":\"group-counter\"}", &text)
						   : NULL;

		if (!jint(r, "value", &t->values[i]))
		{
			t->values[i] = -1;
			if (t->error[0] == '\0')
				snprintf(t->error, sizeof(t->error), "%s",
						 text ? text : "no reply");
		}
		json_object_put(r);
		free(text);
	}
	client_close(c);
	return NULL;
}

/*
 * Group commit under contention: nthreads clients increment one key, each
 * one request at a time, so the bridge runs many of the increments in
 * shared transactions.  Every increment must be applied exactly once: the
 * replies carry each value from 1 to the total exactly once, and the key ends
 * at the total.
 */
static void
phase_group_incr(int nthreads, int per_thread)
{
	int total = nthreads * per_thread;
	IncrThread *threads = calloc((size_t) nthreads, sizeof(IncrThread));
	int *seen = calloc((size_t) total + 1, sizeof(int));
	int ok = 0;
	int unique = 0;
	const char *first_error = "";
	Client *q;
	json_object *r;
	char *t;
	int64_t v = -1;

	for (int i = 0; i < nthreads; i++)
	{
		threads[i].count = per_thread;
		threads[i].values = calloc((size_t) per_thread, sizeof(int64_t));
		pthread_create(&threads[i].thread, NULL, incr_thread, &threads[i]);
	}
	for (int i = 0; i < nthreads; i++)
	{
		pthread_join(threads[i].thread, NULL);
		for (int j = 0; j < per_thread; j++)
		{
			int64_t value = threads[i].values[j];

			if (value < 0)
				continue;
			ok++;
			if (value >= 1 && value <= total && seen[value]++ == 0)
				unique++;
		}
		if (threads[i].error[0] && first_error[0] == '\0')
			first_error = threads[i].error;
	}
	check(ok == total, "every concurrent incr is answered with a value",
		  "%d of %d; first failure: %s", ok, total, first_error);
	check(unique == total,
		  "the replies carry every value from 1 to the total exactly once",
		  "%d distinct values of %d", unique, total);
	q = client_open("quote-db", NULL);
	r = q ? req(q, "db.kv.quote-db.get", "{\"key\":\"group-counter\"}", &t)
		  : NULL;
	check(jint(r, "value", &v) && v == total,
		  "the counter ends at exactly the number of increments",
		  "wanted %d, got %s", total, r ? t : "no reply");
	json_object_put(r);
	if (r)
		free(t);
	client_close(q);
	for (int i = 0; i < nthreads; i++)
		free(threads[i].values);
	free(threads);
	free(seen);
}

/*
 * Group commit when one request of a batch raises.  run.sh runs the bridge
 * with one connection, freezes its backend and installs a trigger that
 * makes a write of a key starting with "boom" raise serialization_failure.
 * n increments are sent at once, two of them replaced by sets of "boom-1"
 * and "boom-2": they queue up behind the frozen backend and run in batches
 * of pipeline_depth (16), the bad ones in two different batches and never
 * alone.  Each bad request must get its own error, every other request must
 * succeed, and each increment must be applied exactly once although its
 * first transaction was rolled back.
 */
static void
phase_group_fail(int n)
{
	Client *q = client_open("quote-db", NULL);
	int bad_at[2] = {n / 4, 3 * n / 4};
	int replies = 0;
	int good = 0;
	int stored = 0;
	char bad[2][300] = {"no reply", "no reply"};
	int64_t until;
	bool *seen = calloc((size_t) n + 1, sizeof(bool));

	if (!check(q != NULL, "plugin connects to NATS", "connect failed"))
		return;
	for (int i = 0; i < n; i++)
	{
		char payload[100];
		bool boom = i == bad_at[0] || i == bad_at[1];

		if (boom)
			snprintf(payload, sizeof(payload),
					 "{\"key\":\"boom-%d\",\"value\":1}",
					 i == bad_at[1] ? 1 : 0);
		else
			snprintf(payload, sizeof(payload), "{\"key\":\"gf-%d\"}", i);
		client_send(q, boom ? "db.kv.quote-db.set" : "db.kv.quote-db.incr",
					payload, (int) strlen(payload));
	}
	natsConnection_Flush(q->nc);
	printf("# sent %d requests\n", n);
	fflush(stdout);
	until = nats_Now() + 30000;
	while (replies < n && nats_Now() < until)
	{
		int seq;
		char *text = client_receive(q, (int) (until - nats_Now()), &seq);
		json_object *r = parse(text);
		int64_t v = 0;
		int i = seq - 1;

		if (text == NULL)
			break;
		if (seq >= 1 && seq <= n && !seen[seq])
		{
			seen[seq] = true;
			replies++;
			if (i == bad_at[0] || i == bad_at[1])
				snprintf(bad[i == bad_at[1]], sizeof(bad[0]), "%s", text);
			else
				good += jint(r, "value", &v) && v == 1;
		}
		else
			check(false, "no request is answered twice", "extra reply %s",
				  text);
		json_object_put(r);
		free(text);
	}
	check(replies == n, "every request of the batches got a reply", "%d of %d",
		  replies, n);
	for (int b = 0; b < 2; b++)
		check(strstr(bad[b], "\"conflict\"") != NULL,
			  "a request that raised gets its own error (conflict)", "got %s",
			  bad[b]);
	check(good == n - 2,
		  "every other request of those batches succeeded, with value 1",
		  "%d of %d", good, n - 2);
	for (int i = 0; i < n; i++)
	{
		char payload[100];
		json_object *r;
		int64_t v = -1;

		if (i == bad_at[0] || i == bad_at[1])
			continue;
		snprintf(payload, sizeof(payload), "{\"key\":\"gf-%d\"}", i);
		r = req(q, "db.kv.quote-db.get", payload, NULL);
		stored += jint(r, "value", &v) && v == 1;
		json_object_put(r);
	}
	check(stored == n - 2,
		  "each increment was applied exactly once (every counter is 1)",
		  "%d of %d", stored, n - 2);
	for (int b = 0; b < 2; b++)
	{
		char *t;
		json_object *r =
			req(q, "db.kv.quote-db.exists",
				b == 0 ? "{\"key\":\"boom-0\"}" : "{\"key\":\"boom-1\"}", &t);

		check(jbool(r, "exists", false), "a request that raised left nothing",
			  "got %s", t);
		json_object_put(r), free(t);
	}
	free(seen);
	client_close(q);
}

/* A payload of n bytes is refused as too_large (after a SIGHUP reload) */
static void
phase_limit(int n)
{
	Client *q = client_open("quote-db", NULL);
	char *payload = malloc((size_t) n + 1);
	int len;

	if (!check(q != NULL, "plugin connects to NATS", "connect failed"))
		return;
	len = snprintf(payload, (size_t) n, "{\"key\":\"a\",\"value\":\"");
	memset(payload + len, 'y', (size_t) (n - len - 2));
	strcpy(payload + n - 2, "\"}");
	expect_error(q, "db.kv.quote-db.set", payload, -1, "too_large",
				 "max_request_bytes",
				 "SIGHUP applied a new max_request_bytes");
	free(payload);
	client_close(q);
}

/* Send one request as a user and print the reply (a tool, not a test) */
static int
phase_request(int argc, char **argv)
{
	Client *c;
	char *text;
	int64_t start;

	if (argc < 4)
	{
		fprintf(stderr, "usage: bridge_test request USER SUBJECT [PAYLOAD]\n");
		return 2;
	}
	c = client_open(argv[2], NULL);
	if (c == NULL)
	{
		fprintf(stderr, "bridge_test: cannot connect as %s\n", argv[2]);
		return 1;
	}
	start = nats_Now();
	text = request_raw(c, argv[3], argc > 4 ? argv[4] : "",
					   argc > 4 ? (int) strlen(argv[4]) : 0, BT_TIMEOUT_MS);
	if (text)
		printf("%s\n", text);
	else
		fprintf(stderr, "bridge_test: no reply within %d ms\n", BT_TIMEOUT_MS);
	fprintf(stderr, "# %lld ms\n", (long long) (nats_Now() - start));
	free(text);
	client_close(c);
	return text ? 0 : 1;
}

/* Run one phase */
int
main(int argc, char **argv)
{
	int arg = argc > 2 ? atoi(argv[2]) : 20;

	if (argc < 2)
	{
		fprintf(stderr,
				"usage: bridge_test kv|row|bad|isolation|pg-down|back|"
				"unknown|timeout|inflight N|inflight-check N|limit N|\n"
				"       group-incr N|group-fail N\n"
				"       bridge_test request USER SUBJECT [PAYLOAD]\n");
		return 2;
	}
	bt_phase = argv[1];
	bt_url = getenv("BT_NATS_URL") ? getenv("BT_NATS_URL")
								   : "nats://127.0.0.1:42231";
	nats_Open(-1);
	if (strcmp(bt_phase, "request") == 0)
		return phase_request(argc, argv);
	if (strcmp(bt_phase, "kv") == 0)
		phase_kv();
	else if (strcmp(bt_phase, "row") == 0)
		phase_row();
	else if (strcmp(bt_phase, "bad") == 0)
		phase_bad();
	else if (strcmp(bt_phase, "isolation") == 0)
		phase_isolation();
	else if (strcmp(bt_phase, "pg-down") == 0)
		phase_pg_down();
	else if (strcmp(bt_phase, "back") == 0)
		phase_back();
	else if (strcmp(bt_phase, "unknown") == 0)
		phase_unknown();
	else if (strcmp(bt_phase, "timeout") == 0)
		phase_timeout();
	else if (strcmp(bt_phase, "inflight") == 0)
		phase_inflight(arg);
	else if (strcmp(bt_phase, "inflight-check") == 0)
		phase_inflight_check(arg);
	else if (strcmp(bt_phase, "limit") == 0)
		phase_limit(arg);
	else if (strcmp(bt_phase, "group-incr") == 0)
		phase_group_incr(8, arg);
	else if (strcmp(bt_phase, "group-fail") == 0)
		phase_group_fail(arg);
	else
	{
		fprintf(stderr, "bridge_test: unknown phase \"%s\"\n", bt_phase);
		return 2;
	}
	nats_Close();
	printf("# phase %s passed=%d failed=%d\n", bt_phase, bt_passed, bt_failed);
	return bt_failed > 0;
}
