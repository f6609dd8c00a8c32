/*
 * handler.c
 *		Requests: validate them, and reply to them exactly once.
 *
 * A request is checked once, at the boundary, before any SQL: the subject
 * (tier, plugin, op; see subject.c), the payload size, and the payload
 * itself, which must be a JSON object (an empty payload stands for {}).
 * json-c parses it with a depth limit and UTF-8 validation; the parsed
 * tree is thrown away, since the original text is what PostgreSQL gets as
 * the bound jsonb parameter, once the row the request names (a hash of
 * plugin, scope, collection and key) is noted: group commit runs a batch
 * in that order (see pool.c).
 *
 * Replies: the extension's reply is forwarded verbatim (it is jsonb text);
 * everything else is {"error":{"code":..., "message":...}} built with
 * json-c.  A reply longer than the NATS connection's max_payload is
 * replaced by a too_large error rather than cut or dropped.  Each request
 * carries a `replied` flag, so a second reply is a logged bug, never a
 * second message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bus.h"
#include "clock.h"
#include "handler.h"
#include "log.h"
#include "observe.h"
#include "stats.h"

#define HANDLER_ERROR_PREFIX "{\"error\": {\"code\": \""

/* Fold bytes and a separating NUL into an FNV-1a hash */
static uint64_t
HandlerHash(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i <= len; i++)
	{
		h ^= i < len ? (unsigned char) p[i] : 0;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Return a string field of the payload, or dflt if it is absent */
static const char *
HandlerField(json_object *root, const char *field, const char *dflt)
{
	json_object *v;

	if (json_object_object_get_ex(root, field, &v) &&
		json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return dflt;
}

/*
 * Name the row a request with a "key" writes: a hash of the plugin (for
 * the plugin's own scope), the scope, the collection and the key, with the
 * extension's defaults filled in, never 0.  Return 0 for requests without
 * a key.  A request of a workspace's scope is hashed without its plugin,
 * since plugins of a workspace share its rows.
 */
static uint64_t
HandlerLockOrder(const Subject *s, json_object *root)
{
	const char *key = HandlerField(root, "key", NULL);
	const char *scope = HandlerField(root, "scope", "plugin");
	const char *collection = HandlerField(root, "collection", "default");
	const char *owner = strcmp(scope, "workspace") == 0 ? "" : s->plugin;
	uint64_t h = 14695981039346656037ULL;

	if (key == NULL)
		return 0;
	h = HandlerHash(h, owner, strlen(owner));
	h = HandlerHash(h, scope, strlen(scope));
	h = HandlerHash(h, collection, strlen(collection));
	h = HandlerHash(h, key, strlen(key));
	return h | 1;
}

/* Check a request's subject and payload; on failure give code and reason */
bool
handler_validate(const char *subject, const char *data, int len, int max_bytes,
				 int max_depth, Subject *out, uint64_t *lock_order,
				 ErrCode *code, char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	bool ok = false;

	*code = EC_INVALID_REQUEST;
	*lock_order = 0;
	if (!subject_parse(subject, out, err, errlen))
		return false;
	if (len > max_bytes)
	{
		*code = EC_TOO_LARGE;
		snprintf(err, errlen,
				 "request payload of %d bytes exceeds "
				 "max_request_bytes (%d)",
				 len, max_bytes);
		return false;
	}
	if (len == 0)
		return true;
	if (memchr(data, '\0', (size_t) len) != NULL)
	{
		snprintf(err, errlen, "request payload contains a NUL byte");
		return false;
	}
	tok = json_tokener_new_ex(max_depth);
	json_tokener_set_flags(tok,
						   JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, data, len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) /* a bare number needs an end */
	{
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	if (jerr == json_tokener_error_depth)
		snprintf(err, errlen,
				 "request payload is nested deeper than "
				 "max_json_depth (%d)",
				 max_depth);
	else if (jerr != json_tokener_success)
		snprintf(err, errlen,
				 "request payload is not valid JSON: %s at "
				 "byte %zu",
				 json_tokener_error_desc(jerr),
				 json_tokener_get_parse_end(tok));
	else if (!json_object_is_type(root, json_type_object))
		snprintf(err, errlen,
				 "request payload must be a JSON object, not "
				 "%s",
				 json_type_to_name(json_object_get_type(root)));
	else
	{
		*lock_order = HandlerLockOrder(out, root);
		ok = true;
	}
	json_object_put(root);
	json_tokener_free(tok);
	return ok;
}

/* Wrap a NATS message into a request */
Request *
handler_new(natsMsg *msg)
{
	Request *req = calloc(1, sizeof(Request));

	req->msg = msg;
	req->received_ns = clock_mono_ns();
	req->received_ms = req->received_ns / 1000000;
	req->run = tier_run_of_subject(natsMsg_GetSubject(msg));
	return req;
}

/* Free a request and its message */
void
handler_free(Request *req)
{
	if (!req->replied)
		log_error("internal error: request freed without a reply",
				  LF_S("subject", natsMsg_GetSubject(req->msg)));
	natsMsg_Destroy(req->msg);
	free(req);
}

/* Find which error code, if any, a reply from the extension carries */
static int
HandlerReplyCode(const char *json, size_t len)
{
	size_t plen = strlen(HANDLER_ERROR_PREFIX);
	const char *end;
	ErrCode code;

	if (len <= plen || memcmp(json, HANDLER_ERROR_PREFIX, plen) != 0)
		return -1;
	end = memchr(json + plen, '"', len - plen);
	if (end && errcode_parse(json + plen, (size_t) (end - json - plen), &code))
		return (int) code;
	return EC_INTERNAL;
}

/* Count and log a reply that was sent (slow ones: see observe.c) */
static void
HandlerAccount(Request *req, int code, const char *message)
{
	int64_t elapsed = clock_mono_ms() - req->received_ms;
	const char *cname = code < 0 ? "ok" : errcode_name((ErrCode) code);

	if (code < 0)
		STATS_INC(replied_ok);
	else
		STATS_INC(replied_error[code]);
	if (code == EC_INTERNAL)
		log_error("internal error",
				  LF_S("subject", natsMsg_GetSubject(req->msg)),
				  LF_S("message", message), LF_I("ms", elapsed));
	else if (log_enabled(LL_DEBUG))
		log_debug("request", LF_S("subject", natsMsg_GetSubject(req->msg)),
				  LF_S("code", cname), LF_S("message", message),
				  LF_I("ms", elapsed));
}

static void HandlerSendError(Request *req, ErrCode code, const char *message);

/* Reply too_large instead of a reply over the server's max_payload */
static void
HandlerTooLarge(Request *req, size_t len)
{
	char msg[200];

	snprintf(msg, sizeof(msg),
			 "reply of %zu bytes exceeds the NATS "
			 "max_payload of %lld bytes; use limit/cursor to page",
			 len, (long long) bus_max_payload());
	HandlerSendError(req, EC_TOO_LARGE, msg);
}

/* Publish a reply unless it exceeds max_payload; code < 0 means success */
static void
HandlerSend(Request *req, const char *json, size_t len, int code,
			const char *message)
{
	int64_t max = bus_max_payload();
	BusSent sent;

	if (req->replied)
	{
		log_error("internal error: second reply suppressed",
				  LF_S("subject", natsMsg_GetSubject(req->msg)));
		return;
	}
	if (max > 0 && (int64_t) len > max)
	{
		HandlerTooLarge(req, len);
		return;
	}
	sent = bus_publish(natsMsg_GetReply(req->msg), json, len);
	if (sent == BUS_TOO_LARGE)
	{
		HandlerTooLarge(req, len);
		return;
	}
	req->replied = true;
	if (sent == BUS_FAILED)
		STATS_INC(reply_failed);
	HandlerAccount(req, code, message);
	observe_reply(req, code, message, json, len);
}

/* Build and publish {"error":{"code":...,"message":...}} */
static void
HandlerSendError(Request *req, ErrCode code, const char *message)
{
	json_object *root = json_object_new_object();
	json_object *error = json_object_new_object();
	const char *text;
	size_t len;

	json_object_object_add(error, "code",
						   json_object_new_string(errcode_name(code)));
	json_object_object_add(error, "message", json_object_new_string(message));
	json_object_object_add(root, "error", error);
	text = json_object_to_json_string_length(
		root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	HandlerSend(req, text, len, (int) code, message);
	json_object_put(root);
}

/* Reply with an error; the message is formatted printf-style */
void
handler_reply_error(Request *req, ErrCode code, const char *fmt, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	HandlerSendError(req, code, message);
}

/* Validate a request taken by a worker; reply and return false if bad */
bool
handler_check(Request *req, const ConfigLimits *lim)
{
	ErrCode code;
	char err[512];
	const char *data = natsMsg_GetData(req->msg);
	int len = natsMsg_GetDataLength(req->msg);

	req->deadline_ms = req->received_ms + lim->request_timeout_ms;
	req->slow_ms = lim->slow_request_ms;
	if (!handler_validate(natsMsg_GetSubject(req->msg), data, len,
						  lim->max_request_bytes, lim->max_json_depth,
						  &req->subject, &req->lock_order, &code, err,
						  sizeof(err)))
	{
		handler_reply_error(req, code, "%s", err);
		return false;
	}
	if (req->subject.tier->run == TIER_RUN_LONG)
		req->deadline_ms = req->received_ms + lim->migrate_timeout_ms;
	req->payload = len > 0 ? data : "{}";
	return true;
}

/* Name the setting that gave a validated request its deadline */
const char *
handler_timeout_setting(const Request *req)
{
	return req->subject.tier && req->subject.tier->run == TIER_RUN_LONG
			   ? "migrate_timeout_ms"
			   : "request_timeout_ms";
}

/* Reply with the outcome of the request's SQL call */
void
handler_finish(Request *req, const Outcome *o)
{
	const Tier *tier = req->subject.tier;

	switch (o->kind)
	{
		case OUTCOME_RESULT:
			if (o->value == NULL)
				handler_reply_error(req, EC_INTERNAL, "%s returned no reply",
									tier->function);
			else
				HandlerSend(req, o->value, o->value_len,
							HandlerReplyCode(o->value, o->value_len), NULL);
			break;
		case OUTCOME_PG_ERROR:
			if (errcode_for_sqlstate(o->sqlstate) == EC_TIMEOUT)
				handler_reply_error(
					req, EC_TIMEOUT,
					"request exceeded "
					"%s (%lld ms) and was "
					"canceled; it had no effect",
					handler_timeout_setting(req),
					(long long) (req->deadline_ms - req->received_ms));
			else
				handler_reply_error(req, errcode_for_sqlstate(o->sqlstate),
									"%s", o->message);
			break;
		case OUTCOME_LOST:
			if (!o->sent)
				handler_reply_error(req, EC_UNAVAILABLE,
									"the connection to "
									"PostgreSQL failed; the request was not "
									"executed");
			else if (clock_mono_ms() >= req->deadline_ms)
				handler_reply_error(req, EC_TIMEOUT,
									"no answer from "
									"PostgreSQL within %s; "
									"the outcome of the request is unknown",
									handler_timeout_setting(req));
			else
				handler_reply_error(req, EC_UNAVAILABLE,
									"the connection to "
									"PostgreSQL was lost after the request "
									"was sent; the outcome of the request is "
									"unknown");
			break;
	}
}
