/*
 * bridge_ops.c
 *		The bridge-get and bridge-set modes: KV requests to the bridge.
 *
 * A get is a request to db.kv.<plugin>.get with {"key":"k"}; it succeeds
 * when the reply says {"exists":true,...}. A set is a request to
 * db.kv.<plugin>.set with {"key":"k","value":"xxx..."} (the value is a JSON
 * string of --value-bytes characters); it succeeds when the reply says
 * {"ok":true,...}, which the bridge sends after the commit. A reply with an
 * "error" member, a timeout or no responders counts as an error.
 *
 * The bridge-row-search and bridge-row-update modes send bench/row_sql.sh's
 * requests to db.row.<plugin>.search and .update, on the table "scores" that
 * bench/row_sql/setup.sql makes (--keys is its number of rows).
 *
 * The request mode sends one fixed payload (--payload) to one fixed subject
 * (--subject), e.g. a db.sql query; a reply that is not a JSON object, or
 * that has an "error" member, counts as an error.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "loadgen.h"

/* Deepest JSON nesting accepted in a reply (sql rows may nest values) */
#define BRIDGE_REPLY_DEPTH 64

/* Build db.<tier>.<plugin>.<verb> into out */
static void
BridgeSubject(char *out, size_t len, const lg_config *cfg, const char *tier,
			  const char *verb)
{
	snprintf(out, len, "db.%s.%s.%s", tier, cfg->plugin, verb);
}

/* Parse a reply; on failure return NULL and describe it in err */
static json_object *
BridgeParseReply(natsMsg *reply, const char *key, char *err, size_t errlen)
{
	json_tokener *tok = json_tokener_new_ex(BRIDGE_REPLY_DEPTH);
	json_object *root;

	if (tok == NULL)
	{
		snprintf(err, errlen, "%s: out of memory", key);
		return NULL;
	}
	root = json_tokener_parse_ex(tok, natsMsg_GetData(reply),
								 natsMsg_GetDataLength(reply));
	if (json_tokener_get_error(tok) != json_tokener_success)
	{
		snprintf(err, errlen, "%s: unparsable reply: %.*s", key,
				 natsMsg_GetDataLength(reply) > 200
					 ? 200
					 : natsMsg_GetDataLength(reply),
				 natsMsg_GetData(reply));
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return root;
}

/* Return true when root has no "error" member; else describe it in err */
static bool
BridgeNoError(json_object *root, const char *key, char *err, size_t errlen)
{
	json_object *error;

	if (!json_object_object_get_ex(root, "error", &error))
		return true;
	snprintf(err, errlen, "%s: %s", key,
			 json_object_to_json_string_ext(error, JSON_C_TO_STRING_PLAIN));
	return false;
}

/* Return true when root has the boolean member name set to true */
static bool
BridgeFlag(json_object *root, const char *name)
{
	json_object *flag;

	return json_object_object_get_ex(root, name, &flag) &&
		   json_object_is_type(flag, json_type_boolean) &&
		   json_object_get_boolean(flag);
}

/* Send w->buf to db.<tier>.<plugin>.<verb>; check no error and the flag */
static bool
BridgeRequest(lg_worker *w, const char *tier, const char *verb,
			  const char *flag, const char *key, char *err, size_t errlen)
{
	char subject[256];
	natsMsg *reply = NULL;
	json_object *root;
	natsStatus s;
	bool ok;

	BridgeSubject(subject, sizeof(subject), w->cfg, tier, verb);
	s = natsConnection_RequestString(&reply, w->conn->nc, subject, w->buf,
									 w->cfg->timeout_ms);
	if (s != NATS_OK)
	{
		snprintf(err, errlen, "%s %s: %s", verb, key, natsStatus_GetText(s));
		return false;
	}
	root = BridgeParseReply(reply, key, err, errlen);
	ok = root != NULL && BridgeNoError(root, key, err, errlen);
	if (ok && flag != NULL && !BridgeFlag(root, flag))
	{
		snprintf(err, errlen, "%s %s: reply without \"%s\":true: %s", verb,
				 key, flag,
				 json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
		ok = false;
	}
	json_object_put(root);
	natsMsg_Destroy(reply);
	return ok;
}

/* Set one key to the configured value */
static bool
BridgeSet(lg_worker *w, int key, char *err, size_t errlen)
{
	char name[32];

	lg_format_key(name, sizeof(name), key);
	snprintf(w->buf, w->buf_len, "{\"key\":\"%s\",\"value\":\"%s\"}", name,
			 w->cfg->value);
	return BridgeRequest(w, "kv", "set", "ok", name, err, errlen);
}

/* Get one key; it must exist */
static bool
BridgeGet(lg_worker *w, int key, char *err, size_t errlen)
{
	char name[32];

	lg_format_key(name, sizeof(name), key);
	snprintf(w->buf, w->buf_len, "{\"key\":\"%s\"}", name);
	return BridgeRequest(w, "kv", "get", "exists", name, err, errlen);
}

const lg_mode lg_mode_bridge_get = {"bridge-get", NULL, BridgeSet, BridgeGet};
const lg_mode lg_mode_bridge_set = {"bridge-set", NULL, BridgeSet, BridgeSet};

/* Search: one game's 10 best scores above a threshold, as row_sql.sh does */
static bool
BridgeRowSearch(lg_worker *w, int key, char *err, size_t errlen)
{
	snprintf(w->buf, w->buf_len,
			 "{\"table\":\"scores\",\"filters\":{\"game\":%d,\"score\":"
			 "{\"$gte\":%d}},\"sort\":{\"field\":\"score\",\"order\":"
			 "\"desc\"},\"limit\":10}",
			 key % 100, key * 9 / 10);
	return BridgeRequest(w, "row", "search", NULL, "search", err, errlen);
}

/* Update: one player's score $inc 10 and streak $max, as row_sql.sh does */
static bool
BridgeRowUpdate(lg_worker *w, int key, char *err, size_t errlen)
{
	snprintf(w->buf, w->buf_len,
			 "{\"table\":\"scores\",\"filters\":{\"player\":\"p%d\"},"
			 "\"operations\":{\"score\":{\"$inc\":10},\"streak\":"
			 "{\"$max\":%d}}}",
			 key + 1, key % 50);
	return BridgeRequest(w, "row", "update", NULL, "update", err, errlen);
}

const lg_mode lg_mode_bridge_row_search = {"bridge-row-search", NULL, NULL,
										   BridgeRowSearch};
const lg_mode lg_mode_bridge_row_update = {"bridge-row-update", NULL, NULL,
										   BridgeRowUpdate};

/* Send the fixed payload to the fixed subject; the reply must not be an error
 */
static bool
BridgeFixedRequest(lg_worker *w, int key, char *err, size_t errlen)
{
	natsMsg *reply = NULL;
	json_object *root;
	natsStatus s;
	bool ok;

	(void) key;
	s = natsConnection_RequestString(&reply, w->conn->nc, w->cfg->subject,
									 w->cfg->payload, w->cfg->timeout_ms);
	if (s != NATS_OK)
	{
		snprintf(err, errlen, "%s: %s", w->cfg->subject,
				 natsStatus_GetText(s));
		return false;
	}
	root = BridgeParseReply(reply, w->cfg->subject, err, errlen);
	ok = root != NULL && BridgeNoError(root, w->cfg->subject, err, errlen);
	if (ok && !json_object_is_type(root, json_type_object))
	{
		snprintf(err, errlen, "%s: reply is not a JSON object",
				 w->cfg->subject);
		ok = false;
	}
	json_object_put(root);
	natsMsg_Destroy(reply);
	return ok;
}

const lg_mode lg_mode_request = {"request", NULL, NULL, BridgeFixedRequest};
