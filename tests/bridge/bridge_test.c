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
 * "ops" is the operator user, allowed everything.  The NATS helpers
 * (clients, requests, JSON paths, the count) are in tests/lib/nats_test.c.
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

#include "nats_test.h"

#define BT_TIMEOUT_MS NT_TIMEOUT_MS

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

/* Tell whether a path holds a number, integer or not */
static bool
jnumber(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_int) ||
		   json_object_is_type(v, json_type_double);
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
	t = request_raw(q, "db.sql.trivia.query", "{\"query\":\"SELECT 1\"}", 19,
					1500);
	check(t == NULL, "quote-db cannot query trivia's SQL tier (db.sql.trivia)",
		  "got %s", t);
	free(t);
	expect_violation(q, "... and a permissions violation",
					 "Publish to \"db.sql.trivia.query\"");
	t = request_raw(q, "db.migrate.trivia", "{\"action\":\"status\"}", 19,
					1500);
	check(t == NULL, "quote-db cannot migrate trivia (db.migrate.trivia)",
		  "got %s", t);
	free(t);
	expect_violation(q, "... and a permissions violation",
					 "Publish to \"db.migrate.trivia\"");

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

/* Send a JSON object as a request; parsed reply, its text in *text */
static json_object *
reqj(Client *c, const char *subject, json_object *payload, char **text)
{
	json_object *r = req(
		c, subject,
		json_object_to_json_string_ext(
			payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		text);

	json_object_put(payload);
	return r;
}

/* Join the versions of an array's items (strings or {"version":..}) */
static const char *
versions(json_object *o, const char *path, char *buf, size_t size)
{
	json_object *a = jget(o, path);
	size_t n = 0;

	buf[0] = '\0';
	if (!json_object_is_type(a, json_type_array))
		return snprintf(buf, size, "(none)"), buf;
	for (size_t i = 0; i < json_object_array_length(a) && n < size; i++)
	{
		json_object *item = json_object_array_get_idx(a, i);
		const char *v = json_object_is_type(item, json_type_string)
							? json_object_get_string(item)
							: jstr(item, "version");

		n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? "," : "",
							   v ? v : "?");
	}
	return buf;
}

/* Tell whether an array of versions is exactly the comma-joined list */
static bool
versions_are(json_object *o, const char *path, const char *want)
{
	char buf[512];

	return strcmp(versions(o, path, buf, sizeof(buf)), want) == 0;
}

/* Tell whether a string at a path equals want */
static bool
jstr_is(json_object *o, const char *path, const char *want)
{
	const char *v = jstr(o, path);

	return v && strcmp(v, want) == 0;
}

/* Send an SQL-tier request for trivia, built from printf-style JSON */
static json_object *sql_req(Client *c, char **text, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static json_object *
sql_req(Client *c, char **text, const char *fmt, ...)
{
	char payload[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(payload, sizeof(payload), fmt, ap);
	va_end(ap);
	return req(c, "db.sql.trivia.query", payload, text);
}

/* Expect an SQL-tier request to get an error with this code */
static void
sql_expect_error(Client *c, const char *payload, const char *code,
				 const char *what)
{
	expect_error(c, "db.sql.trivia.query", payload, -1, code, NULL, what);
}

/* Count trivia's facts with this id, through the SQL tier; -1 on error */
static int64_t
sql_count_facts(Client *c, int id)
{
	json_object *r = sql_req(c, NULL,
							 "{\"query\":\"SELECT count(*) AS n FROM facts "
							 "WHERE id = :id\",\"params\":{\"id\":%d}}",
							 id);
	int64_t n = -1;

	if (!jint(r, "rows.0.n", &n))
		n = -1;
	json_object_put(r);
	return n;
}

/* Reads: bound parameters, casts, max_rows, the reply's shape, explain */
static void
test_sql_reads(Client *tv)
{
	char *t;
	json_object *r;
	int64_t v = 0;

	r = sql_req(tv, &t,
				"{\"query\":\"SELECT id, topic, score FROM facts WHERE topic "
				"= :topic AND score >= :min ORDER BY id\",\"params\":{"
				"\"topic\":\"space\",\"min\":4}}");
	check(jlen(r, "rows") == 1 && jint(r, "rows.0.id", &v) && v == 2 &&
			  jstr_is(r, "rows.0.topic", "space") &&
			  jint(r, "row_count", &v) && v == 1 &&
			  jbool(r, "truncated", false) && jstr_is(r, "command", "SELECT"),
		  "a query with :name parameters returns the matching row", "got %s",
		  t);
	check(jlen(r, "columns") == 3 && jstr_is(r, "columns.0.name", "id") &&
			  jstr_is(r, "columns.2.name", "score") &&
			  jstr(r, "columns.0.type") != NULL,
		  "... with its columns' names and types", "got %s", t);
	json_object_put(r), free(t);

	r = sql_req(tv, &t,
				"{\"query\":\"SELECT id FROM facts WHERE topic = :topic\","
				"\"params\":{\"topic\":\"space' OR '1'='1\"}}");
	check(jint(r, "row_count", &v) && v == 0 && jlen(r, "rows") == 0,
		  "a parameter is a bound value, never SQL text", "got %s", t);
	json_object_put(r), free(t);

	r = sql_req(tv, &t,
				"{\"query\":\"SELECT :n::int + 1 AS answer\",\"params\":{"
				"\"n\":\"41\"}}");
	check(jint(r, "rows.0.answer", &v) && v == 42,
		  "a ::type cast after a parameter keeps working", "got %s", t);
	json_object_put(r), free(t);

	r = sql_req(tv, &t,
				"{\"query\":\"SELECT id FROM facts ORDER BY id\","
				"\"max_rows\":2}");
	check(jlen(r, "rows") == 2 && jbool(r, "truncated", true),
		  "max_rows cuts the rows and says truncated", "got %s", t);
	json_object_put(r), free(t);

	r = sql_req(tv, &t,
				"{\"query\":\"SELECT count(*) FROM facts WHERE topic = "
				":topic\",\"params\":{\"topic\":\"space\"},\"explain\":true}");
	check(r && jget(r, "error") == NULL && t && strstr(t, "Plan"),
		  "explain returns the plan", "got %s", t);
	json_object_put(r), free(t);
}

/* Writes need allow_write; without it they are refused and leave nothing */
static void
test_sql_writes(Client *tv)
{
	char *t;
	json_object *r;
	int64_t v = 0;

	r = sql_req(tv, &t,
				"{\"query\":\"INSERT INTO facts (id, topic, body, score) "
				"VALUES (:id, :topic, :body, :score)\",\"params\":{\"id\":10,"
				"\"topic\":\"space\",\"body\":\"Mars has two moons\","
				"\"score\":2},\"allow_write\":true}");
	check(r && jget(r, "error") == NULL && jint(r, "row_count", &v) &&
			  v == 1 && jstr_is(r, "command", "INSERT"),
		  "an INSERT with allow_write inserts one row", "got %s", t);
	json_object_put(r), free(t);
	check(sql_count_facts(tv, 10) == 1, "... which a query then finds",
		  "count %lld", (long long) sql_count_facts(tv, 10));

	r = sql_req(tv, &t,
				"{\"query\":\"UPDATE facts SET score = score + 1 WHERE id = "
				":id RETURNING score\",\"params\":{\"id\":1},"
				"\"allow_write\":true}");
	check(jint(r, "rows.0.score", &v) && v == 4,
		  "an UPDATE .. RETURNING with allow_write returns the new value",
		  "got %s", t);
	json_object_put(r), free(t);

	sql_expect_error(tv,
					 "{\"query\":\"DELETE FROM facts WHERE id = :id\","
					 "\"params\":{\"id\":10}}",
					 "forbidden", "a DELETE without allow_write is forbidden");
	check(sql_count_facts(tv, 10) == 1, "... and deleted nothing",
		  "count %lld", (long long) sql_count_facts(tv, 10));
}

/* Bad requests: invalid_request, timeout, and the error's details */
static void
test_sql_errors(Client *tv)
{
	char *t;
	json_object *r;

	sql_expect_error(tv, "{\"query\":\"SELECT * FROM facts WHERE id = :id\"}",
					 "invalid_request", "a parameter without a value");
	sql_expect_error(tv,
					 "{\"query\":\"SELECT 1 AS one\",\"params\":{\"x\":1}}",
					 "invalid_request", "a value no placeholder uses");
	sql_expect_error(tv, "{\"query\":\"SELECT 1; SELECT 2\"}",
					 "invalid_request", "two statements in one query");
	sql_expect_error(tv, "{\"query\":42}", "invalid_request",
					 "a query that is not a string");
	sql_expect_error(tv, "{\"params\":{}}", "invalid_request",
					 "a request without a query");
	expect_error(tv, "db.sql.trivia.select", "{\"query\":\"SELECT 1\"}", -1,
				 "invalid_request", "the only op is \"query\"",
				 "db.sql.<plugin>.select is not a subject of the SQL tier");
	sql_expect_error(tv,
					 "{\"query\":\"SELECT pg_sleep(3)\",\"timeout_ms\":200}",
					 "timeout", "a query past its timeout_ms gets timeout");

	r = sql_req(tv, &t, "{\"query\":\"SELECT scroe FROM facts\"}");
	check(jstr(r, "error.code") && jstr(r, "error.message") &&
			  strstr(jstr(r, "error.message"), "scroe"),
		  "an unknown column is an error naming it", "got %s", t);
	json_object_put(r), free(t);
}

/* The SQL tier, on trivia's table "facts" (made by run.sh) */
static void
phase_sql(void)
{
	Client *tv = client_open("trivia", NULL);

	if (!check(tv != NULL, "plugin connects to NATS", "connect failed"))
		return;
	test_sql_reads(tv);
	test_sql_writes(tv);
	test_sql_errors(tv);
	client_close(tv);
}

typedef struct Mig
{
	const char *version; /* the migration's version */
	const char *up;		 /* its up script */
	const char *down;	 /* its down script, or NULL */
} Mig;

/* The three migrations of quote-db that phase_migrate applies */
static const Mig mg_three[] = {
	{"001_mg_authors",
	 "CREATE TABLE mg_authors (id serial PRIMARY KEY, name text NOT NULL "
	 "UNIQUE);",
	 "DROP TABLE mg_authors;"},
	{"002_mg_quotes",
	 "CREATE TABLE mg_quotes (id serial PRIMARY KEY, author_id int "
	 "REFERENCES mg_authors, body text NOT NULL);\nINSERT INTO mg_authors "
	 "(name) VALUES ('Ada');",
	 "DROP TABLE mg_quotes;\nDELETE FROM mg_authors;"},
	{"003_mg_quotes_author",
	 "CREATE INDEX mg_quotes_author ON mg_quotes (author_id);",
	 "DROP INDEX mg_quotes_author;"},
};

/* Build {"action":"apply","migrations":[...],"applied_by":..} */
static json_object *
mig_apply(const Mig *m, int n)
{
	json_object *o = json_object_new_object();
	json_object *list = json_object_new_array();

	for (int i = 0; i < n; i++)
	{
		json_object *e = json_object_new_object();

		json_object_object_add(e, "version",
							   json_object_new_string(m[i].version));
		json_object_object_add(e, "up", json_object_new_string(m[i].up));
		if (m[i].down)
			json_object_object_add(e, "down",
								   json_object_new_string(m[i].down));
		json_object_array_add(list, e);
	}
	json_object_object_add(o, "action", json_object_new_string("apply"));
	json_object_object_add(o, "migrations", list);
	json_object_object_add(o, "applied_by",
						   json_object_new_string("bridge_test"));
	return o;
}

/* Build a status request, or a rollback to target */
static json_object *
mig_action(const char *action, const char *target, bool dry_run)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "action", json_object_new_string(action));
	if (target)
		json_object_object_add(o, "target", json_object_new_string(target));
	if (dry_run)
		json_object_object_add(o, "dry_run", json_object_new_boolean(true));
	return o;
}

/* Check quote-db's applied versions through a status request */
static void
mig_expect_status(Client *q, const char *want, const char *what)
{
	char *t;
	char buf[512];
	json_object *r =
		reqj(q, "db.migrate.quote-db", mig_action("status", NULL, false), &t);

	check(versions_are(r, "applied", want), what, "wanted %s, got %s (%s)",
		  want, versions(r, "applied", buf, sizeof(buf)), t);
	json_object_put(r), free(t);
}

/* Apply three, again (a no-op), and the status of what was applied */
static void
test_migrate_apply(Client *q)
{
	char *t;
	json_object *r;
	int64_t v = 0;

	r = reqj(q, "db.migrate.quote-db", mig_apply(mg_three, 3), &t);
	check(versions_are(r, "applied",
					   "001_mg_authors,002_mg_quotes,003_mg_quotes_author") &&
			  jlen(r, "skipped") == 0 &&
			  jstr_is(r, "current", "003_mg_quotes_author") &&
			  jbool(r, "dry_run", false),
		  "apply runs three migrations in version order", "got %s", t);
	check(jint(r, "applied.1.statements", &v) && v == 2 &&
			  jnumber(r, "applied.1.duration_ms"),
		  "... each reported with its statements and duration", "got %s", t);
	json_object_put(r), free(t);

	r = reqj(q, "db.migrate.quote-db", mig_apply(mg_three, 3), &t);
	check(jlen(r, "applied") == 0 &&
			  versions_are(
				  r, "skipped",
				  "001_mg_authors,002_mg_quotes,003_mg_quotes_author") &&
			  jstr_is(r, "current", "003_mg_quotes_author"),
		  "applying them again is a no-op: all skipped", "got %s", t);
	json_object_put(r), free(t);

	r = reqj(q, "db.migrate.quote-db", mig_action("status", NULL, false), &t);
	check(versions_are(r, "applied",
					   "001_mg_authors,002_mg_quotes,003_mg_quotes_author") &&
			  jstr_is(r, "current", "003_mg_quotes_author") &&
			  jstr(r, "applied.0.checksum") &&
			  jstr(r, "applied.0.applied_at") &&
			  jstr_is(r, "applied.0.applied_by", "bridge_test") &&
			  jbool(r, "applied.0.has_down", true),
		  "status lists them with checksum, time, who and has_down", "got %s",
		  t);
	json_object_put(r), free(t);
}

/* A changed script is refused; a dry run and a failure leave nothing */
static void
test_migrate_refusals(Client *q)
{
	Mig changed[3] = {mg_three[0], mg_three[1], mg_three[2]};
	Mig more[6] = {mg_three[0], mg_three[1], mg_three[2]};
	json_object *o;
	char *t;
	json_object *r;

	changed[1].up = "CREATE TABLE mg_quotes (id bigint);";
	r = reqj(q, "db.migrate.quote-db", mig_apply(changed, 3), &t);
	check(jstr(r, "error.code") &&
			  jstr_is(r, "error.version", "002_mg_quotes"),
		  "an applied version whose up changed is refused, naming it",
		  "got %s", t);
	json_object_put(r), free(t);

	more[3] = (Mig){"004_mg_drop_index", "DROP INDEX mg_quotes_author;", NULL};
	o = mig_apply(more, 4);
	json_object_object_add(o, "dry_run", json_object_new_boolean(true));
	r = reqj(q, "db.migrate.quote-db", o, &t);
	check(versions_are(r, "applied", "004_mg_drop_index") &&
			  jbool(r, "dry_run", true),
		  "a dry run reports what it would apply", "got %s", t);
	json_object_put(r), free(t);
	mig_expect_status(q, "001_mg_authors,002_mg_quotes,003_mg_quotes_author",
					  "... and applied nothing");

	more[3] = (Mig){"004_mg_tags", "CREATE TABLE mg_tags (id int);",
					"DROP TABLE mg_tags;"};
	more[4] = (Mig){"005_mg_broken",
					"CREATE TABLE mg_fine (id int);\nCREATE TABEL mg_broken "
					"(id int);",
					NULL};
	more[5] = (Mig){"006_mg_after", "CREATE TABLE mg_after (id int);", NULL};
	r = reqj(q, "db.migrate.quote-db", mig_apply(more, 6), &t);
	check(jstr(r, "error.code") &&
			  jstr_is(r, "error.version", "005_mg_broken") &&
			  jstr(r, "error.statement") &&
			  strstr(jstr(r, "error.statement"), "TABEL"),
		  "a failing migration is reported with its version and statement",
		  "got %s", t);
	json_object_put(r), free(t);
	mig_expect_status(q, "001_mg_authors,002_mg_quotes,003_mg_quotes_author",
					  "... and the migrations before it were rolled back too");

	expect_error(q, "db.migrate.quote-db", "{\"action\":\"bogus\"}", -1,
				 "invalid_request", NULL, "an unknown action");
	expect_error(q, "db.migrate.quote-db",
				 "{\"action\":\"apply\",\"migrations\":{}}", -1,
				 "invalid_request", NULL, "migrations that are not an array");
}

/* Roll back (dry, then for real), then apply again */
static void
test_migrate_rollback(Client *q)
{
	char *t;
	json_object *r;

	r = reqj(q, "db.migrate.quote-db",
			 mig_action("rollback", "001_mg_authors", true), &t);
	check(
		versions_are(r, "rolled_back", "003_mg_quotes_author,002_mg_quotes") &&
			jbool(r, "dry_run", true),
		"a dry-run rollback says what it would undo, newest first", "got %s",
		t);
	json_object_put(r), free(t);
	mig_expect_status(q, "001_mg_authors,002_mg_quotes,003_mg_quotes_author",
					  "... and undid nothing");

	r = reqj(q, "db.migrate.quote-db",
			 mig_action("rollback", "001_mg_authors", false), &t);
	check(
		versions_are(r, "rolled_back", "003_mg_quotes_author,002_mg_quotes") &&
			jstr_is(r, "current", "001_mg_authors"),
		"rollback to 001 runs the down scripts of 003 and 002", "got %s", t);
	json_object_put(r), free(t);
	mig_expect_status(q, "001_mg_authors", "... leaving 001 applied");

	r = reqj(q, "db.migrate.quote-db", mig_apply(mg_three, 3), &t);
	check(versions_are(r, "applied", "002_mg_quotes,003_mg_quotes_author") &&
			  versions_are(r, "skipped", "001_mg_authors"),
		  "applying again re-creates what the down scripts dropped", "got %s",
		  t);
	json_object_put(r), free(t);
}

/* The migrate tier over NATS, as quote-db */
static void
phase_migrate(void)
{
	Client *q = client_open("quote-db", NULL);

	if (!check(q != NULL, "plugin connects to NATS", "connect failed"))
		return;
	test_migrate_apply(q);
	test_migrate_refusals(q);
	test_migrate_rollback(q);
	client_close(q);
}

/* Wait for the reply to request seq on c; parsed, text in *text */
static json_object *
await_reply(Client *c, int want, int timeout_ms, char **text)
{
	int64_t until = nats_Now() + timeout_ms;

	*text = NULL;
	while (nats_Now() < until)
	{
		int seq;
		char *t = client_receive(c, (int) (until - nats_Now()), &seq);

		if (t == NULL)
			break;
		if (seq == want)
		{
			*text = t;
			return parse(t);
		}
		free(t);
	}
	return NULL;
}

/*
 * Two migrations that each sleep longer than request_timeout_ms (run.sh
 * lowers it to 1 s for this phase) while KV and SQL requests keep coming:
 * the migrations succeed (their deadline is migrate_timeout_ms, and the
 * session's statement_timeout does not cut them), and every other request
 * is answered in time, which it could not be if a migration held the
 * requests queued behind it or if both migrations held both connections.
 */
static void
phase_migrate_busy(int n)
{
	static const Mig slow_q[] = {
		{"001_mg_authors", NULL, NULL},
		{"002_mg_quotes", NULL, NULL},
		{"003_mg_quotes_author", NULL, NULL},
		{"004_mg_slow", "SELECT pg_sleep(2);\nCREATE TABLE mg_slow (id int);",
		 "DROP TABLE mg_slow;"},
	};
	static const Mig slow_t[] = {
		{"001_busy_slow",
		 "SELECT pg_sleep(2);\nCREATE TABLE busy_slow (id int);", NULL},
	};
	Mig q_migs[4];
	Client *q = client_open("quote-db", NULL);
	Client *tv = client_open("trivia", NULL);
	Client *kv = client_open("quote-db", NULL);
	int seq_q;
	int seq_t;
	int good = 0;
	int answered = 0;
	int *seqs = calloc((size_t) n, sizeof(int));
	char first_bad[512] = "";
	char *t;
	json_object *r;

	if (!check(q && tv && kv, "plugins connect to NATS", "connect failed"))
		return;
	for (int i = 0; i < 4; i++)
		q_migs[i] = i < 3 ? mg_three[i] : slow_q[i];
	json_object *oq = mig_apply(q_migs, 4);
	json_object *ot = mig_apply(slow_t, 1);

	seq_q =
		client_send(q, "db.migrate.quote-db", json_object_to_json_string(oq),
					(int) strlen(json_object_to_json_string(oq)));
	seq_t =
		client_send(tv, "db.migrate.trivia", json_object_to_json_string(ot),
					(int) strlen(json_object_to_json_string(ot)));
	natsConnection_Flush(q->nc);
	natsConnection_Flush(tv->nc);
	json_object_put(oq);
	json_object_put(ot);
	sleep_ms(300); /* both migrations are in the bridge now */
	printf("# sending %d requests while the migrations run\n", n);
	for (int i = 0; i < n; i++)
	{
		char payload[100];

		snprintf(payload, sizeof(payload),
				 "{\"key\":\"busy-%d\",\"value\":%d}", i, i);
		seqs[i] = client_send(kv, "db.kv.quote-db.set", payload,
							  (int) strlen(payload));
	}
	for (int i = 0; i < n; i++)
	{
		int seq;
		char *text = client_receive(kv, BT_TIMEOUT_MS, &seq);

		if (text == NULL)
			break;
		answered++;
		r = parse(text);
		if (jbool(r, "ok", true))
			good++;
		else if (first_bad[0] == '\0')
			snprintf(first_bad, sizeof(first_bad), "%s", text);
		json_object_put(r);
		free(text);
	}
	check(answered == n && good == n,
		  "every KV request sent during two long migrations succeeds",
		  "%d answered, %d ok; first failure: %s", answered, good, first_bad);

	r = await_reply(q, seq_q, 20000, &t);
	check(versions_are(r, "applied", "004_mg_slow"),
		  "a migration running past request_timeout_ms succeeds", "got %s",
		  t ? t : "no reply");
	json_object_put(r), free(t);
	r = await_reply(tv, seq_t, 20000, &t);
	check(versions_are(r, "applied", "001_busy_slow"),
		  "... and so does one sent at the same time by another plugin",
		  "got %s", t ? t : "no reply");
	json_object_put(r), free(t);
	free(seqs);
	client_close(q);
	client_close(tv);
	client_close(kv);
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
				"       group-incr N|group-fail N|sql|migrate|migrate-busy N\n"
				"       bridge_test request USER SUBJECT [PAYLOAD]\n");
		return 2;
	}
	nt_phase = argv[1];
	nt_url = getenv("BT_NATS_URL") ? getenv("BT_NATS_URL")
								   : "nats://127.0.0.1:42231";
	nats_Open(-1);
	if (strcmp(nt_phase, "request") == 0)
		return phase_request(argc, argv);
	if (strcmp(nt_phase, "kv") == 0)
		phase_kv();
	else if (strcmp(nt_phase, "row") == 0)
		phase_row();
	else if (strcmp(nt_phase, "bad") == 0)
		phase_bad();
	else if (strcmp(nt_phase, "isolation") == 0)
		phase_isolation();
	else if (strcmp(nt_phase, "pg-down") == 0)
		phase_pg_down();
	else if (strcmp(nt_phase, "back") == 0)
		phase_back();
	else if (strcmp(nt_phase, "unknown") == 0)
		phase_unknown();
	else if (strcmp(nt_phase, "timeout") == 0)
		phase_timeout();
	else if (strcmp(nt_phase, "inflight") == 0)
		phase_inflight(arg);
	else if (strcmp(nt_phase, "inflight-check") == 0)
		phase_inflight_check(arg);
	else if (strcmp(nt_phase, "limit") == 0)
		phase_limit(arg);
	else if (strcmp(nt_phase, "group-incr") == 0)
		phase_group_incr(8, arg);
	else if (strcmp(nt_phase, "group-fail") == 0)
		phase_group_fail(arg);
	else if (strcmp(nt_phase, "sql") == 0)
		phase_sql();
	else if (strcmp(nt_phase, "migrate") == 0)
		phase_migrate();
	else if (strcmp(nt_phase, "migrate-busy") == 0)
		phase_migrate_busy(arg);
	else
	{
		fprintf(stderr, "bridge_test: unknown phase \"%s\"\n", nt_phase);
		return 2;
	}
	nats_Close();
	printf("# phase %s passed=%d failed=%d\n", nt_phase, nt_passed, nt_failed);
	return nt_failed > 0;
}
