/*
 * observe.c
 *		Observability: where the request path hands replies to metrics and
 *		events, and the start and stop of everything operators read.
 *
 * handler.c calls observe_reply() once per reply, right after publishing
 * it.  That labels the request (plugin, tier, op, the way metrics.c bounds
 * them), records it, and decides which events it raises: "error" for an
 * error reply, "slow" past slow_request_ms, "migration" for a migrate
 * request whose action is apply or rollback.  A request that failed
 * validation is labelled from its raw subject as far as it parses; the
 * migrate tier's op is the request's "action".  Successful, fast requests
 * (nearly all of them) cost a label lookup and a few relaxed atomic adds.
 *
 * The subjects the bridge answers for itself, not through the queue group
 * (db.stats, db.stats.<plugin>, see statsapi.c) and the events it publishes
 * (db.events.>) also match the db.> queue subscription; observe_ignored()
 * tells bus.c to drop them there, uncounted.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <nats/nats.h>

#include "clock.h"
#include "events.h"
#include "http.h"
#include "ident.h"
#include "log.h"
#include "metrics.h"
#include "micro.h"
#include "observe.h"
#include "statsapi.h"
#include "subject.h"

#define OBSERVE_JSON_DEPTH 64

static int observe_migrate_tier = -1; /* index of the migrate tier */
static int observe_inspect_tier = -1; /* index of the inspect tier */

/* Find a tier's index by name, -1 if there is none */
static int
ObserveTier(const char *name)
{
	const Tier *t = tier_lookup(name, strlen(name));

	return t ? tier_index(t) : -1;
}

/* Set up metrics, events and the HTTP listener, before any request */
bool
observe_start(const Config *config)
{
	ident_init();
	metrics_init(config->metrics_max_plugins);
	observe_migrate_tier = ObserveTier("migrate");
	observe_inspect_tier = ObserveTier("inspect");
	if (config->metrics_listen[0] && !http_start(config->metrics_listen))
		return false;
	events_start(config->event_rate_limit);
	log_info("observability", LF_S("id", ident_id()),
			 LF_S("metrics_listen",
				  config->metrics_listen[0] ? config->metrics_listen : NULL),
			 LF_I("metrics_max_plugins", config->metrics_max_plugins),
			 LF_I("event_rate_limit", config->event_rate_limit));
	return true;
}

/* Answer db.stats and $SRV on the NATS connection (after bus_start) */
void
observe_subscribe(const Config *config)
{
	statsapi_subscribe();
	micro_subscribe(config->queue_group);
}

/* Stop answering, deliver the last events, stop the HTTP listener */
void
observe_stop(void)
{
	micro_unsubscribe();
	statsapi_unsubscribe();
	events_stop();
	http_stop();
}

/* Tell whether db.> should drop a subject that is served elsewhere */
bool
observe_ignored(const char *subject)
{
	if (strncmp(subject, "db.", 3) != 0)
		return false;
	subject += 3;
	if (strncmp(subject, "events.", 7) == 0)
		return true;
	if (strncmp(subject, "stats", 5) != 0)
		return false;
	subject += 5;
	return subject[0] == '\0' ||
		   (subject[0] == '.' && subject[1] && !strchr(subject + 1, '.'));
}

/* Read a migrate request's "action" (and "dry_run") from its payload */
static void
ObserveAction(const Request *req, char *action, size_t size, bool *dry_run)
{
	struct json_tokener *tok;
	json_object *root;
	json_object *v;

	action[0] = '\0';
	*dry_run = false;
	if (req->payload == NULL)
		return;
	tok = json_tokener_new_ex(OBSERVE_JSON_DEPTH);
	root =
		json_tokener_parse_ex(tok, req->payload, (int) strlen(req->payload));
	if (json_object_object_get_ex(root, "action", &v) &&
		json_object_is_type(v, json_type_string) &&
		subject_valid_op(json_object_get_string(v),
						 (size_t) json_object_get_string_len(v)))
		snprintf(action, size, "%s", json_object_get_string(v));
	if (json_object_object_get_ex(root, "dry_run", &v) &&
		json_object_is_type(v, json_type_boolean))
		*dry_run = json_object_get_boolean(v);
	json_object_put(root);
	json_tokener_free(tok);
}

/* Copy at most size-1 bytes of a message, never cutting a UTF-8 char */
static void
ObserveCopyText(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
	{
		n = size - 1;
		while (n > 0 && ((unsigned char) src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The message of an error reply: given, or read from the reply's JSON */
static void
ObserveMessage(const char *message, const char *reply, size_t len, char *dst,
			   size_t size)
{
	json_object *root;
	json_object *error;
	json_object *m;
	struct json_tokener *tok;

	dst[0] = '\0';
	if (message)
	{
		ObserveCopyText(dst, size, message);
		return;
	}
	tok = json_tokener_new_ex(OBSERVE_JSON_DEPTH);
	root = json_tokener_parse_ex(tok, reply, (int) len);
	if (json_object_object_get_ex(root, "error", &error) &&
		json_object_object_get_ex(error, "message", &m) &&
		json_object_is_type(m, json_type_string))
		ObserveCopyText(dst, size, json_object_get_string(m));
	json_object_put(root);
	json_tokener_free(tok);
}

/* Emit one event of a kind, sharing the labels already filled in */
static void
ObserveEmit(Event *ev, EventKind kind)
{
	ev->kind = kind;
	events_emit(ev);
}

/* Count a reply that was sent and raise its events; code < 0 is success */
void
observe_reply(const Request *req, int code, const char *message,
			  const char *reply, size_t len)
{
	int64_t ns = clock_mono_ns() - req->received_ns;
	const Subject *s = &req->subject;
	Subject parsed;
	char action[OP_NAME_MAX + 1] = "";
	const char *op;
	bool dry_run = false;
	bool slow;
	bool migration;
	int tier;
	Event ev;

	if (req->payload == NULL)
	{
		/* refused before validation ended: label what the subject gives */
		char err[256];

		memset(&parsed, 0, sizeof(parsed));
		subject_parse(natsMsg_GetSubject(req->msg), &parsed, err, sizeof(err));
		s = &parsed;
	}
	tier = s->tier ? tier_index(s->tier) : METRICS_TIER_INVALID;
	op = s->op;
	if (tier == observe_migrate_tier)
	{
		ObserveAction(req, action, sizeof(action), &dry_run);
		op = action;
	}
	else if (tier == observe_inspect_tier)
		op = "inspect";
	metrics_record(metrics_plugin(s->plugin[0] ? s->plugin : NULL), tier,
				   tier == METRICS_TIER_INVALID ? 0
												: metrics_op_index(tier, op),
				   code, ns);
	slow = req->slow_ms > 0 && ns >= (int64_t) req->slow_ms * 1000000;
	migration =
		tier == observe_migrate_tier &&
		(strcmp(action, "apply") == 0 || strcmp(action, "rollback") == 0);
	if (code < 0 && !slow && !migration)
		return;
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.plugin, sizeof(ev.plugin), "%s",
			 s->plugin[0] ? s->plugin : METRICS_INVALID);
	snprintf(ev.tier, sizeof(ev.tier), "%s", metrics_tier_name(tier));
	snprintf(ev.op, sizeof(ev.op), "%s", op);
	ev.duration_ns = ns;
	ev.code = code;
	ev.dry_run = dry_run;
	ident_format_time(ev.time, sizeof(ev.time));
	if (code >= 0)
	{
		ObserveMessage(message, reply, len, ev.message, sizeof(ev.message));
		metrics_tier_error(tier, errcode_name((ErrCode) code), ev.message);
		ObserveEmit(&ev, EVENT_ERROR);
	}
	if (slow)
		ObserveEmit(&ev, EVENT_SLOW);
	if (migration)
		ObserveEmit(&ev, EVENT_MIGRATION);
}
