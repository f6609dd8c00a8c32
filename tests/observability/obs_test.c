/*
 * obs_test.c
 *		Drive plugin-storage-bridge's observability outputs over NATS and
 *		check them field by field.
 *
 * tests/observability/run.sh starts PostgreSQL, nats-server (with the
 * config of `plugin-storage-bridge nats-config`) and one or two bridges,
 * then runs this program once per phase.  Each check prints "ok N - what"
 * or "not ok N - what: why"; the program ends with a line
 * "# phase PHASE passed=P failed=F" that run.sh adds up.
 *
 *		obs_test srv|stats|events|limits|perm|multi
 *		obs_test request USER SUBJECT [PAYLOAD]	(one request, reply printed)
 *
 * Environment: OT_NATS_URL (default nats://127.0.0.1:42237), OT_BRIDGE_ID
 * (the id the bridge logged), OT_BRIDGE_ID2 (a second bridge's, phase
 * multi), OT_INSPECT=1 if plugin_storage.inspect(text,boolean) exists.  Users
 * follow run.sh's rule: user U has password "pw-U"; "ops" is the operator.
 * The NATS helpers are in tests/lib/nats_test.c; JSON paths here are
 * separated by '/', since histogram keys ("0.5") contain dots.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <nats/nats.h>

#include "nats_test.h"

#define OT_TIMEOUT_MS NT_TIMEOUT_MS
#define OT_SILENCE_MS 1000 /* how long "no reply" is waited for */
#define OT_SERVICE "plugin-storage-bridge"

static const char *ot_id;

/* Publish a request with a string payload and flush; return its seq */
static int
send_flushed(Client *c, const char *subject, const char *data)
{
	int seq = client_send(c, subject, data, (int) strlen(data));

	natsConnection_Flush(c->nc);
	return seq;
}

/* Send one request and collect every reply for wait_ms; return how many */
static int
scatter(Client *c, const char *subject, const char *payload, int wait_ms,
		json_object **out, int max)
{
	int want = send_flushed(c, subject, payload);
	int64_t until = nats_Now() + wait_ms;
	int n = 0;
	char *t;

	while ((t = client_wait(c, want, until)) != NULL)
	{
		if (n < max)
			out[n] = json_tokener_parse(t);
		n++;
		free(t);
	}
	return n;
}

/* Tell whether a path exists (even holding null) */
static bool
jhas(json_object *o, const char *path)
{
	char parent[256];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash)
	{
		*slash = '\0';
		o = jget(o, parent);
	}
	return json_object_is_type(o, json_type_object) &&
		   json_object_object_get_ex(o, slash ? slash + 1 : path, NULL);
}

/* String at a path, or "" */
static const char *
jstr0(json_object *o, const char *path)
{
	const char *s = jstr(o, path);

	return s ? s : "";
}

/* Integer at a path, or -1 if there is none */
static int64_t
jint(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
												 : -1;
}

/* Tell whether a path holds a number (int or double) */
static bool
jnum(json_object *o, const char *path, double *out)
{
	json_object *v = jget(o, path);

	if (!json_object_is_type(v, json_type_int) &&
		!json_object_is_type(v, json_type_double))
		return false;
	*out = json_object_get_double(v);
	return true;
}

/* Tell whether two strings are equal, NULL never equal */
static bool
streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Tell whether text is RFC 3339 UTC: YYYY-MM-DDTHH:MM:SS[.fff]Z */
static bool
rfc3339(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	if (t == NULL || strlen(t) < sizeof(shape))
		return false;
	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char) t[i])
							: t[i] != shape[i])
			return false;
	if (t[i] == '.')
		for (i++; isdigit((unsigned char) t[i]); i++)
			;
	return t[i] == 'Z' && t[i + 1] == '\0';
}

/* Tell whether an id looks like the bridge's: 22 of [0-9A-Z] */
static bool
valid_id(const char *id)
{
	if (id == NULL || strlen(id) != 22)
		return false;
	for (const char *p = id; *p; p++)
		if (!isdigit((unsigned char) *p) && !isupper((unsigned char) *p))
			return false;
	return true;
}

/* A request that must get no reply (and, for a plugin, a violation) */
static void
expect_silence(Client *c, const char *subject, const char *violation,
			   const char *what)
{
	char *t = request_raw(c, subject, "", 0, OT_SILENCE_MS);

	check(t == NULL, what, "got %s", t);
	free(t);
	if (violation)
		expect_violation(c, "... with a permissions violation", violation);
}

/* ---- $SRV discovery ---- */

/* Check the identity fields every micro response carries */
static void
check_identity(json_object *r, const char *type, const char *subject)
{
	char what[256];

	snprintf(what, sizeof(what), "%s: type %s, name, id, version, metadata",
			 subject, type);
	check(streq(jstr(r, "type"), type) && streq(jstr(r, "name"), OT_SERVICE) &&
			  streq(jstr(r, "id"), ot_id) &&
			  streq(jstr(r, "version"), "0.1.0") &&
			  jstr(r, "metadata/host") != NULL &&
			  jstr(r, "metadata/pid") != NULL,
		  what, "got %s", r ? json_object_to_json_string(r) : "no reply");
}

/* Find an endpoint by name in a micro response */
static json_object *
endpoint(json_object *r, const char *name)
{
	json_object *list = jget(r, "endpoints");
	size_t n = json_object_is_type(list, json_type_array)
				   ? json_object_array_length(list)
				   : 0;

	for (size_t i = 0; i < n; i++)
	{
		json_object *e = json_object_array_get_idx(list, i);

		if (streq(jstr(e, "name"), name))
			return e;
	}
	return NULL;
}

/* INFO: one endpoint per tier with its subject pattern and queue group */
static void
check_info(json_object *r)
{
	static const char *const names[] = {"kv", "row", "sql", "migrate",
										"inspect"};
	static const char *const subjects[] = {"db.kv.*.*", "db.row.*.*",
										   "db.sql.*.query", "db.migrate.*",
										   "db.inspect.*"};
	const char *d = jstr(r, "description");

	check(d && d[0], "INFO has a description", "got %s", d);
	for (int i = 0; i < 5; i++)
	{
		json_object *e = endpoint(r, names[i]);
		char what[128];

		snprintf(what, sizeof(what),
				 "INFO endpoint %s: subject %s, queue group plugin-storage, "
				 "metadata.function",
				 names[i], subjects[i]);
		check(streq(jstr(e, "subject"), subjects[i]) &&
				  streq(jstr(e, "queue_group"), "plugin-storage") &&
				  jstr(e, "metadata/function") != NULL,
			  what, "got %s", e ? json_object_to_json_string(e) : "none");
	}
}

/* STATS: started, and per endpoint the counters in nanoseconds */
static void
check_stats(json_object *r)
{
	json_object *list = jget(r, "endpoints");
	size_t n = json_object_is_type(list, json_type_array)
				   ? json_object_array_length(list)
				   : 0;
	int good = 0;

	check(rfc3339(jstr(r, "started")), "STATS started is RFC 3339", "got %s",
		  jstr(r, "started"));
	for (size_t i = 0; i < n; i++)
	{
		json_object *e = json_object_array_get_idx(list, i);
		int64_t req_n = jint(e, "num_requests");
		int64_t t = jint(e, "processing_time");
		int64_t avg = jint(e, "average_processing_time");

		good += jstr(e, "name") && jstr(e, "subject") &&
				streq(jstr(e, "queue_group"), "plugin-storage") &&
				req_n >= 0 && jint(e, "num_errors") >= 0 &&
				jint(e, "num_errors") <= req_n && jstr(e, "last_error") &&
				t >= 0 && avg == (req_n > 0 ? t / req_n : 0);
	}
	check(n == 5 && good == 5,
		  "STATS endpoints have num_requests, num_errors, last_error, "
		  "processing_time and average = total / requests",
		  "%d of %zu good: %s", good, n, json_object_to_json_string(r));
}

/* $SRV.PING, INFO and STATS in their three forms; others get no reply */
static void
phase_srv(void)
{
	static const char *const verbs[] = {"PING", "INFO", "STATS"};
	static const char *const types[] = {"io.nats.micro.v1.ping_response",
										"io.nats.micro.v1.info_response",
										"io.nats.micro.v1.stats_response"};
	Client *o = client_open("ops", NULL);
	char subject[200];

	if (!check(o != NULL, "operator connects", "connect failed"))
		return;
	for (int v = 0; v < 3; v++)
		for (int form = 0; form < 3; form++)
		{
			json_object *r;

			snprintf(subject, sizeof(subject), "$SRV.%s%s%s%s%s", verbs[v],
					 form > 0 ? "." : "", form > 0 ? OT_SERVICE : "",
					 form > 1 ? "." : "", form > 1 ? ot_id : "");
			r = req(o, subject, "", NULL);
			check_identity(r, types[v], subject);
			if (v == 1 && form == 0)
				check_info(r);
			if (v == 2 && form == 0)
				check_stats(r);
			json_object_put(r);
		}
	snprintf(subject, sizeof(subject), "$SRV.PING.%s.NOTTHISBRIDGE0000000000",
			 OT_SERVICE);
	expect_silence(o, subject, NULL, "$SRV.PING with another id: no reply");
	expect_silence(o, "$SRV.PING.another-service", NULL,
				   "$SRV.PING of another service: no reply");
	expect_silence(o, "$SRV.HELLO", NULL, "an unknown verb: no reply");
	client_close(o);
}

/* ---- db.stats ---- */

/* Sum the requests of one tier over every plugin of db.stats */
static int64_t
tier_requests(json_object *stats, const char *tier)
{
	json_object *plugins = jget(stats, "plugins");
	int64_t sum = 0;

	if (!json_object_is_type(plugins, json_type_object))
		return -1;
	json_object_object_foreach(plugins, name, p)
	{
		json_object *ops = jget(p, "tiers");

		(void) name;
		if (!json_object_object_get_ex(ops, tier, &ops))
			continue;
		json_object_object_foreach(ops, op, s)
		{
			(void) op;
			sum += jint(s, "requests");
		}
	}
	return sum;
}

/* Check an op's histogram: cumulative, ending at +Inf == requests */
static bool
histogram_ok(json_object *s, int64_t requests)
{
	static const char *const le[] = {"0.5",	 "1",	 "2",	 "5",	"10",
									 "25",	 "50",	 "100",	 "250", "500",
									 "1000", "2500", "5000", "+Inf"};
	int64_t prev = 0;
	double sum;
	char path[64];

	for (int i = 0; i < 14; i++)
	{
		int64_t n;

		snprintf(path, sizeof(path), "duration_ms/le/%s", le[i]);
		n = jint(s, path);
		if (n < prev)
			return false;
		prev = n;
	}
	return prev == requests && jnum(s, "duration_ms/sum", &sum) && sum > 0;
}

/* trivia's traffic, counted exactly in db.stats.trivia and db.stats */
static void
phase_stats(void)
{
	Client *o = client_open("ops", NULL);
	Client *tv = client_open("trivia", NULL);
	json_object *r;
	json_object *all;
	json_object *srv;
	json_object *s;
	char *t;

	if (!check(o && tv, "operator and plugin connect", "connect failed"))
		return;
	for (int i = 0; i < 3; i++)
		json_object_put(
			req(tv, "db.kv.trivia.set", "{\"key\":\"q\",\"value\":1}", NULL));
	json_object_put(req(tv, "db.kv.trivia.get", "{\"key\":\"q\"}", NULL));
	json_object_put(req(tv, "db.kv.trivia.get", "{\"key\":\"none\"}", NULL));
	json_object_put(req(tv, "db.kv.trivia.bogus", "{}", NULL));

	r = req(o, "db.stats.trivia", "", &t);
	check(streq(jstr(r, "plugin"), "trivia") && jbool(r, "tracked", true) &&
			  jint(r, "requests") == 6 && jint(r, "errors") == 1,
		  "db.stats.trivia: 6 requests, 1 error", "got %s", t);
	check(streq(jstr(r, "bridge/id"), ot_id) &&
			  streq(jstr(r, "bridge/name"), OT_SERVICE) &&
			  streq(jstr(r, "bridge/version"), "0.1.0") &&
			  rfc3339(jstr(r, "bridge/started")) &&
			  jint(r, "bridge/uptime_s") >= 0 && jint(r, "bridge/pid") > 0,
		  "db.stats.trivia says which bridge answered", "got %s", t);
	s = jget(r, "tiers/kv/set");
	check(jint(s, "requests") == 3 &&
			  json_object_object_length(jget(s, "errors")) == 0 &&
			  histogram_ok(s, 3),
		  "kv set: 3 requests, no errors, a cumulative histogram to 3",
		  "got %s", json_object_to_json_string(s));
	s = jget(r, "tiers/kv/get");
	check(jint(s, "requests") == 2 && histogram_ok(s, 2), "kv get: 2 requests",
		  "got %s", json_object_to_json_string(s));
	s = jget(r, "tiers/kv/_invalid");
	check(jint(s, "requests") == 1 && jint(s, "errors/invalid_request") == 1 &&
			  json_object_object_length(jget(s, "errors")) == 1,
		  "an unknown op counts as op _invalid, with its error code", "got %s",
		  json_object_to_json_string(s));
	check(json_object_object_length(jget(r, "tiers")) == 1 &&
			  json_object_object_length(jget(r, "tiers/kv")) == 3,
		  "only the series with requests appear", "got %s", t);
	json_object_put(r), free(t);

	all = req(o, "db.stats", "", &t);
	srv = req(o, "$SRV.STATS." OT_SERVICE, "", NULL);
	check(jint(all, "plugins/trivia/requests") == 6 &&
			  jint(all, "plugins/trivia/errors") == 1 &&
			  jint(all, "plugins/trivia/tiers/kv/set/requests") == 3 &&
			  jhas(all, "plugins/trivia/tiers/kv/set/duration_ms/sum") &&
			  !jhas(all, "plugins/trivia/tiers/kv/set/duration_ms/le"),
		  "db.stats has trivia's counts, without histograms", "got %s", t);
	check(streq(jstr(all, "bridge/id"), ot_id) &&
			  jint(all, "totals/received") == 6 &&
			  jint(all, "totals/replied_ok") >= 5 &&
			  jint(all, "totals/replied_error/invalid_request") >= 1 &&
			  jint(all, "totals/connections") == 2 &&
			  jint(all, "totals/connects") >= 2 &&
			  jint(all, "totals/group_commits") >= 0 &&
			  jint(all, "totals/events/dropped") >= 0 &&
			  jint(all, "limits/max_plugins") == 1000 &&
			  jint(all, "limits/tracked_plugins") >= 1 &&
			  jbool(all, "truncated", false),
		  "db.stats has the process totals, limits and truncated=false",
		  "got %s", t);
	check(jint(endpoint(srv, "kv"), "num_requests") ==
				  tier_requests(all, "kv") &&
			  tier_requests(all, "kv") >= 6,
		  "$SRV.STATS kv num_requests is the sum of db.stats' kv requests",
		  "%lld vs %lld",
		  (long long) jint(endpoint(srv, "kv"), "num_requests"),
		  (long long) tier_requests(all, "kv"));
	check(jint(endpoint(srv, "kv"), "num_errors") >= 1 &&
			  strstr(jstr0(endpoint(srv, "kv"), "last_error"),
					 "invalid_request: ") != NULL,
		  "$SRV.STATS kv counts errors and keeps the last one", "got %s",
		  json_object_to_json_string(endpoint(srv, "kv")));
	json_object_put(all), json_object_put(srv), free(t);

	r = req(o, "db.stats.never-seen", "", &t);
	check(jbool(r, "tracked", false) && jint(r, "requests") == 0 &&
			  json_object_object_length(jget(r, "tiers")) == 0,
		  "db.stats of a plugin without requests: tracked false, no tiers",
		  "got %s", t);
	json_object_put(r), free(t);
	r = req(o, "db.stats.Bad", "", &t);
	check(streq(jstr(r, "error/code"), "invalid_request"),
		  "db.stats with an invalid plugin name: invalid_request", "got %s",
		  t);
	json_object_put(r), free(t);
	r = req(o, "db.stats.trivia.more", "", &t);
	check(streq(jstr(r, "error/code"), "invalid_request") &&
			  strstr(jstr0(r, "error/message"), "unknown tier"),
		  "db.stats.<a>.<b> is no stats subject: the bridge's unknown tier",
		  "got %s", t);
	json_object_put(r), free(t);
	client_close(tv);
	client_close(o);
}

/* ---- events ---- */

/* Wait for the next event; its JSON, and its subject in subj */
static json_object *
next_event(natsSubscription *sub, char *subj, size_t size, int timeout_ms)
{
	natsMsg *msg = NULL;
	json_object *r;

	subj[0] = '\0';
	if (natsSubscription_NextMsg(&msg, sub, timeout_ms) != NATS_OK)
		return NULL;
	snprintf(subj, size, "%s", natsMsg_GetSubject(msg));
	r = json_tokener_parse(natsMsg_GetData(msg));
	natsMsg_Destroy(msg);
	return r;
}

/* Check every field of an event */
static void
check_event(json_object *ev, const char *subject, const char *want_subject,
			const char *kind, const char *tier, const char *op,
			const char *code, const char *message, const char *what)
{
	double ms = -1;
	int fields = 7 + (code != NULL) + (message != NULL);

	check(streq(subject, want_subject) && streq(jstr(ev, "kind"), kind) &&
			  streq(jstr(ev, "plugin"), "quote-db") &&
			  streq(jstr(ev, "tier"), tier) && streq(jstr(ev, "op"), op) &&
			  (code ? streq(jstr(ev, "code"), code) : !jhas(ev, "code")) &&
			  (message ? streq(jstr(ev, "message"), message)
					   : !jhas(ev, "message")) &&
			  jnum(ev, "duration_ms", &ms) && ms >= 0 &&
			  rfc3339(jstr(ev, "time")) && streq(jstr(ev, "bridge"), ot_id) &&
			  json_object_object_length(ev) == fields,
		  what, "on %s: %s", subject,
		  ev ? json_object_to_json_string(ev) : "no event");
}

/* The received counter of db.stats */
static int64_t
received(Client *o)
{
	json_object *r = req(o, "db.stats", "", NULL);
	int64_t n = jint(r, "totals/received");

	json_object_put(r);
	return n;
}

/* Error, slow and migration events, on db.events.> and exactly */
static void
phase_events(void)
{
	Client *o = client_open("ops", NULL);
	Client *q = client_open("quote-db", NULL);
	natsSubscription *sub = NULL;
	char subject[256];
	json_object *r;
	json_object *ev;
	const char *code;
	char *t;
	double ms = 0;
	int64_t before;

	if (!check(o && q, "operator and plugin connect", "connect failed"))
		return;
	natsConnection_SubscribeSync(&sub, o->nc, "db.events.>");
	natsConnection_Flush(o->nc);
	before = received(o);

	r = req(q, "db.kv.quote-db.bogus", "{}", &t);
	ev = next_event(sub, subject, sizeof(subject), OT_TIMEOUT_MS);
	check_event(ev, subject, "db.events.quote-db.error", "error", "kv",
				"bogus", "invalid_request", jstr(r, "error/message"),
				"an error reply raises an error event with its code and "
				"message");
	json_object_put(ev), json_object_put(r), free(t);

	/* the trigger of run.sh sleeps 0.3 s on keys slow*; slow_request_ms is
	 * 200 */
	r = req(q, "db.kv.quote-db.set", "{\"key\":\"slow-1\",\"value\":1}", &t);
	check(jint(r, "revision") > 0, "the slow set succeeds", "got %s", t);
	ev = next_event(sub, subject, sizeof(subject), OT_TIMEOUT_MS);
	check_event(ev, subject, "db.events.quote-db.slow", "slow", "kv", "set",
				NULL, NULL,
				"a request past slow_request_ms raises a slow event");
	check(jnum(ev, "duration_ms", &ms) && ms >= 200,
		  "... whose duration_ms is past the threshold", "%.3f", ms);
	json_object_put(ev), json_object_put(r), free(t);

	r = req(
		q, "db.migrate.quote-db",
		"{\"action\":\"apply\",\"migrations\":[{\"version\":\"001_ot\","
		"\"up\":\"CREATE TABLE ot (id int)\",\"down\":\"DROP TABLE ot\"}]}",
		&t);
	code = jstr(r, "error/code");
	if (code)
	{
		/* without plugin_migrate: an error event first */
		ev = next_event(sub, subject, sizeof(subject), OT_TIMEOUT_MS);
		check_event(ev, subject, "db.events.quote-db.error", "error",
					"migrate", "apply", code, jstr(r, "error/message"),
					"a failed migration raises an error event (op apply)");
		json_object_put(ev);
	}
	ev = next_event(sub, subject, sizeof(subject), OT_TIMEOUT_MS);
	check_event(ev, subject, "db.events.quote-db.migration", "migration",
				"migrate", "apply", code,
				code ? jstr(r, "error/message") : NULL,
				"a migrate apply raises a migration event with its outcome");
	json_object_put(ev), json_object_put(r), free(t);

	/* status is no migration; the next events are status' error, if any,
	 * then the bogus op's */
	json_object_put(
		req(q, "db.migrate.quote-db", "{\"action\":\"status\"}", NULL));
	json_object_put(req(q, "db.kv.quote-db.bogus", "{}", NULL));
	for (;;)
	{
		ev = next_event(sub, subject, sizeof(subject), OT_TIMEOUT_MS);
		if (!streq(jstr(ev, "op"), "status") ||
			!streq(jstr(ev, "kind"), "error"))
			break;
		json_object_put(ev);
	}
	check(streq(jstr(ev, "op"), "bogus"),
		  "a migrate status raises no migration event", "next was %s",
		  ev ? json_object_to_json_string(ev) : "none");
	json_object_put(ev);

	r = req(q, "db.migrate.quote-db",
			"{\"action\":\"rollback\",\"target\":0,\"dry_run\":true}", &t);
	ev = next_event(sub, subject, sizeof(subject), OT_TIMEOUT_MS);
	while (ev && streq(jstr(ev, "kind"), "error"))
	{
		json_object_put(ev);
		ev = next_event(sub, subject, sizeof(subject), OT_TIMEOUT_MS);
	}
	check(streq(subject, "db.events.quote-db.migration") &&
			  streq(jstr(ev, "op"), "rollback") && jbool(ev, "dry_run", true),
		  "a dry-run rollback is a migration event with dry_run: true",
		  "got %s", ev ? json_object_to_json_string(ev) : "none");
	json_object_put(ev), json_object_put(r), free(t);

	check(received(o) - before == 6,
		  "received counts the 6 requests, not the events nor db.stats",
		  "received grew by %lld", (long long) (received(o) - before));
	natsSubscription_Destroy(sub);
	client_close(q);
	client_close(o);
}

/* ---- limits: a bridge with metrics_max_plugins 2, event_rate_limit 3 ---- */

/* Wait until every error reply is accounted for as an event or a drop */
static json_object *
settled_stats(Client *o)
{
	for (int i = 0; i < 50; i++)
	{
		json_object *r = req(o, "db.stats", "", NULL);
		int64_t errors = 0;
		json_object *e = jget(r, "totals/replied_error");

		json_object_object_foreach(e, code, n)
		{
			(void) code;
			errors += json_object_get_int64(n);
		}
		if (jint(r, "totals/events/error") +
				jint(r, "totals/events/dropped") ==
			errors)
			return r;
		json_object_put(r);
		sleep_ms(100);
	}
	return NULL;
}

/* Plugins past the limit are _other, bad names _invalid; events capped */
static void
phase_limits(void)
{
	static const char *const subjects[] = {
		"db.kv.p1.get",	  "db.kv.p2.get", "db.kv.p3.get", "db.kv.p4.get",
		"db.kv.p1.bogus", "db.nosuch.p1", "db.kv.p1"};
	Client *o = client_open("ops", NULL);
	natsSubscription *sub = NULL;
	json_object *r;
	char *t;
	int64_t events;
	int got = 0;
	char subject[256];

	if (!check(o != NULL, "operator connects", "connect failed"))
		return;
	natsConnection_SubscribeSync(&sub, o->nc, "db.events.>");
	natsConnection_Flush(o->nc);
	for (int i = 0; i < 7; i++)
		json_object_put(req(o, subjects[i], "{\"key\":\"a\"}", NULL));
	r = req(o, "db.stats", "", &t);
	check(jint(r, "limits/max_plugins") == 2 &&
			  jint(r, "limits/tracked_plugins") == 2 &&
			  jint(r, "plugins/p1/requests") == 2 &&
			  jint(r, "plugins/p1/tiers/kv/get/requests") == 1 &&
			  jint(r, "plugins/p1/tiers/kv/_invalid/requests") == 1 &&
			  jint(r, "plugins/p2/requests") == 1 &&
			  jint(r, "plugins/_other/tiers/kv/get/requests") == 2 &&
			  !jhas(r, "plugins/p3") && !jhas(r, "plugins/p4"),
		  "past metrics_max_plugins (2), plugins p3 and p4 count as _other",
		  "got %s", t);
	check(jint(r, "plugins/_invalid/tiers/_invalid/_invalid/requests") == 1 &&
			  jint(r, "plugins/_invalid/tiers/kv/_invalid/requests") == 1 &&
			  jint(r, "plugins/_invalid/tiers/_invalid/_invalid/errors/"
					  "invalid_request") == 1,
		  "an unknown tier and a malformed subject count under _invalid",
		  "got %s", t);
	check(jint(r, "totals/received") == 7,
		  "received is exactly the 7 requests", "got %s", t);
	json_object_put(r), free(t);
	r = req(o, "db.stats.p3", "", &t);
	check(jbool(r, "tracked", false), "db.stats.p3: not tracked", "got %s", t);
	json_object_put(r), free(t);
	r = req(o, "db.stats._other", "", &t);
	check(jbool(r, "tracked", true) && jint(r, "requests") == 2,
		  "db.stats._other: the 2 requests of p3 and p4", "got %s", t);
	json_object_put(r), free(t);

	/* a burst of 30 errors against event_rate_limit 3 */
	for (int i = 0; i < 30; i++)
		send_flushed(o, "db.kv.p1.get", "{\"key\":\"a\"}");
	sleep_ms(200);
	r = settled_stats(o);
	events = jint(r, "totals/events/error");
	check(r != NULL,
		  "every error reply is an event published or dropped, exactly",
		  "never settled");
	check(jint(r, "totals/events/dropped") >= 1 && events >= 1,
		  "a burst past event_rate_limit drops events and counts them",
		  "got %s", r ? json_object_to_json_string(r) : "none");
	for (json_object *ev;
		 got < events + 1 &&
		 (ev = next_event(sub, subject, sizeof(subject),
						  got < events ? OT_TIMEOUT_MS : OT_SILENCE_MS));)
	{
		got++;
		json_object_put(ev);
	}
	check(got == events,
		  "the subscriber got exactly the events published (all phase long)",
		  "%d received, %lld published", got, (long long) events);
	json_object_put(r);
	natsSubscription_Destroy(sub);
	client_close(o);
}

/* ---- permissions and inspect ---- */

/* db.inspect.<plugin>: plugin_storage.inspect()'s document, for ops */
static void
check_inspect(Client *o)
{
	json_object *r;
	char *t;

	r = req(o, "db.inspect.quote-db", "", &t);
	check(streq(jstr(r, "plugin"), "quote-db") &&
			  json_object_is_type(jget(r, "tables"), json_type_array) &&
			  jint(r, "kv/keys") >= 1 && jint(r, "kv/expired_unswept") >= 0 &&
			  streq(jstr(r, "migrations/0/version"), "001_ot") &&
			  !jhas(r, "error"),
		  "db.inspect.quote-db: its tables, KV keys and migrations", "got %s",
		  t);
	json_object_put(r), free(t);
	r = req(o, "db.inspect.quote-db", "{\"exact_counts\":false}", &t);
	check(streq(jstr(r, "plugin"), "quote-db") && !jhas(r, "error"),
		  "{\"exact_counts\": false} is passed on", "got %s", t);
	json_object_put(r), free(t);
	r = req(o, "db.inspect.quote-db", "{\"exact_counts\":\"yes\"}", &t);
	check(streq(jstr(r, "error/code"), "invalid_request"),
		  "a non-boolean exact_counts is invalid_request", "got %s", t);
	json_object_put(r), free(t);
	r = req(o, "db.inspect.nobody", "", &t);
	check(streq(jstr(r, "error/code"), "not_found"),
		  "db.inspect of an unregistered plugin: not_found", "got %s", t);
	json_object_put(r), free(t);
}

/* Plugins cannot reach the operator's subjects; the operator can inspect */
static void
phase_perm(void)
{
	Client *o = client_open("ops", NULL);
	Client *q = client_open("quote-db", NULL);
	natsSubscription *sub = NULL;
	json_object *r;
	char *t;

	if (!check(o && q, "operator and plugin connect", "connect failed"))
		return;
	expect_silence(q, "db.stats", "Publish to \"db.stats\"",
				   "a plugin cannot request db.stats");
	expect_silence(q, "db.stats.quote-db", "Publish to \"db.stats.quote-db\"",
				   "a plugin cannot request db.stats.<itself>");
	expect_silence(q, "db.inspect.quote-db",
				   "Publish to \"db.inspect.quote-db\"",
				   "a plugin cannot request db.inspect.<itself>");
	expect_silence(q, "db.inspect.quote-db.x",
				   "Publish to \"db.inspect.quote-db.x\"",
				   "... nor db.inspect.<itself>.<anything>");
	expect_silence(q, "$SRV.PING", "Publish to \"$SRV.PING\"",
				   "a plugin cannot send $SRV.PING");
	natsConnection_Publish(q->nc, "db.events.quote-db.error", "{}", 2);
	natsConnection_Flush(q->nc);
	expect_violation(q, "a plugin cannot publish (forge) its own events",
					 "Publish to \"db.events.quote-db.error\"");
	natsConnection_SubscribeSync(&sub, q->nc, "db.events.>");
	natsConnection_Flush(q->nc);
	expect_violation(q, "a plugin cannot subscribe to db.events.>",
					 "Subscription to \"db.events.>\"");
	natsSubscription_Destroy(sub);
	natsConnection_SubscribeSync(&sub, q->nc, "db.events.quote-db.>");
	natsConnection_Flush(q->nc);
	expect_violation(q, "... nor to its own events",
					 "Subscription to \"db.events.quote-db.>\"");
	natsSubscription_Destroy(sub);
	r = req(q, "db.kv.quote-db.exists", "{\"key\":\"x\"}", &t);
	check(jhas(r, "exists"), "the plugin still reaches its own subjects",
		  "got %s", t);
	json_object_put(r), free(t);

	if (getenv("OT_INSPECT") && strcmp(getenv("OT_INSPECT"), "1") == 0)
		check_inspect(o);
	else
	{
		r = req(o, "db.inspect.quote-db", "", &t);
		check(
			streq(jstr(r, "error/code"), "invalid_request") &&
				strstr(jstr0(r, "error/message"), "unknown tier \"inspect\""),
			"without plugin_storage.inspect(): unknown tier \"inspect\"",
			"got %s", t);
		json_object_put(r), free(t);
	}
	client_close(q);
	client_close(o);
}

/* ---- two bridges ---- */

/* Tell whether the replies carry both bridges' ids at path */
static bool
both_ids(json_object **r, int n, const char *path, const char *id2)
{
	return n == 2 &&
		   ((streq(jstr(r[0], path), ot_id) && streq(jstr(r[1], path), id2)) ||
			(streq(jstr(r[0], path), id2) && streq(jstr(r[1], path), ot_id)));
}

/* Every bridge answers db.stats and $SRV; one answers a request */
static void
phase_multi(void)
{
	const char *id2 = getenv("OT_BRIDGE_ID2");
	Client *o = client_open("ops", NULL);
	json_object *r[4] = {NULL};
	char subject[200];
	int n;

	if (!check(o != NULL && id2 != NULL, "operator connects, second id known",
			   "connect failed or OT_BRIDGE_ID2 unset"))
		return;
	n = scatter(o, "db.stats", "", 1500, r, 4);
	check(both_ids(r, n, "bridge/id", id2),
		  "a scatter request on db.stats gets one reply from each bridge",
		  "%d replies", n);
	for (int i = 0; i < 4; i++)
		json_object_put(r[i]), r[i] = NULL;
	n = scatter(o, "$SRV.PING", "", 1500, r, 4);
	check(both_ids(r, n, "id", id2), "$SRV.PING finds both bridges",
		  "%d replies", n);
	for (int i = 0; i < 4; i++)
		json_object_put(r[i]), r[i] = NULL;
	n = scatter(o, "$SRV.INFO." OT_SERVICE, "", 1500, r, 4);
	check(both_ids(r, n, "id", id2), "$SRV.INFO.<name> reaches both",
		  "%d replies", n);
	for (int i = 0; i < 4; i++)
		json_object_put(r[i]), r[i] = NULL;
	snprintf(subject, sizeof(subject), "$SRV.STATS.%s.%s", OT_SERVICE, id2);
	n = scatter(o, subject, "", 1500, r, 4);
	check(n == 1 && streq(jstr(r[0], "id"), id2),
		  "$SRV.STATS.<name>.<id> reaches that bridge only", "%d replies", n);
	for (int i = 0; i < 4; i++)
		json_object_put(r[i]), r[i] = NULL;
	n = scatter(o, "db.kv.quote-db.exists", "{\"key\":\"x\"}", 1500, r, 4);
	check(n == 1 && jhas(r[0], "exists"),
		  "a plugin request is answered once (queue group)", "%d replies", n);
	for (int i = 0; i < 4; i++)
		json_object_put(r[i]), r[i] = NULL;
	n = scatter(o, "db.inspect.quote-db", "", 1500, r, 4);
	check(n == 1, "db.inspect is answered once (queue group)", "%d replies",
		  n);
	for (int i = 0; i < 4; i++)
		json_object_put(r[i]), r[i] = NULL;
	client_close(o);
}

/* Send one request as a user and print the reply (a tool, not a test) */
static int
tool_request(int argc, char **argv)
{
	Client *c;
	char *text;

	if (argc < 4)
	{
		fprintf(stderr, "usage: obs_test request USER SUBJECT [PAYLOAD]\n");
		return 2;
	}
	c = client_open(argv[2], NULL);
	if (c == NULL)
	{
		fprintf(stderr, "obs_test: cannot connect as %s\n", argv[2]);
		return 1;
	}
	text = request_raw(c, argv[3], argc > 4 ? argv[4] : "",
					   argc > 4 ? (int) strlen(argv[4]) : 0, OT_TIMEOUT_MS);
	if (text)
		printf("%s\n", text);
	else
		fprintf(stderr, "obs_test: no reply\n");
	free(text);
	client_close(c);
	return text ? 0 : 1;
}

/* Run one phase */
int
main(int argc, char **argv)
{
	if (argc < 2)
	{
		fprintf(stderr,
				"usage: obs_test srv|stats|events|limits|perm|multi\n");
		return 2;
	}
	nt_phase = argv[1];
	nt_url = getenv("OT_NATS_URL") ? getenv("OT_NATS_URL")
								   : "nats://127.0.0.1:42237";
	nt_json_sep = "/";
	ot_id = getenv("OT_BRIDGE_ID") ? getenv("OT_BRIDGE_ID") : "";
	nats_Open(-1);
	if (strcmp(nt_phase, "request") == 0)
		return tool_request(argc, argv);
	check(valid_id(ot_id), "the bridge logged an id of 22 [0-9A-Z]",
		  "OT_BRIDGE_ID=\"%s\"", ot_id);
	if (strcmp(nt_phase, "srv") == 0)
		phase_srv();
	else if (strcmp(nt_phase, "stats") == 0)
		phase_stats();
	else if (strcmp(nt_phase, "events") == 0)
		phase_events();
	else if (strcmp(nt_phase, "limits") == 0)
		phase_limits();
	else if (strcmp(nt_phase, "perm") == 0)
		phase_perm();
	else if (strcmp(nt_phase, "multi") == 0)
		phase_multi();
	else
	{
		fprintf(stderr, "obs_test: unknown phase \"%s\"\n", nt_phase);
		return 2;
	}
	nats_Close();
	printf("# phase %s passed=%d failed=%d\n", nt_phase, nt_passed, nt_failed);
	return nt_failed > 0;
}
