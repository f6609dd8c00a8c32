/*
 * micro.c
 *		NATS service discovery: $SRV.PING, $SRV.INFO and $SRV.STATS.
 *
 * Standard NATS tooling (`nats micro ls|info|stats`, the micro packages of
 * nats.go, nats.js, nats.py) finds services by sending requests on
 *
 *	$SRV.<VERB>, $SRV.<VERB>.<name> and $SRV.<VERB>.<name>.<id>
 *
 * and collecting every reply; each instance answers for itself (a plain
 * subscription, no queue group).  nats.c 3.4 has no micro API, so the
 * bridge answers these itself, with the shapes of the micro protocol v1
 * (ADR-32; the JSON schemas io.nats.micro.v1.ping_response,
 * info_response and stats_response):
 *
 *	PING	{"type","name","id","version","metadata"}
 *	INFO	... plus "description" and "endpoints":[{"name","subject",
 *			"queue_group","metadata"}]
 *	STATS	... plus "started" (RFC 3339) and "endpoints":[{"name",
 *			"subject","queue_group","num_requests","num_errors",
 *			"last_error","processing_time","average_processing_time"}],
 *			times in nanoseconds
 *
 * The name is "plugin-storage-bridge", the id the random one of ident.c,
 * the version the bridge's.  There is one endpoint per tier (tier.c), with
 * the subject pattern the bridge serves in its queue group (db.kv.*.*,
 * db.migrate.*, ...); its stats are the sums over that tier's metrics
 * (metrics.c): every reply counts as a request, every error reply as an
 * error, and processing time runs from receipt to reply.  Requests on
 * subjects that name no tier are in db.stats, not here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bus.h"
#include "ident.h"
#include "metrics.h"
#include "micro.h"
#include "tier.h"

#ifndef BRIDGE_VERSION
#define BRIDGE_VERSION "0.0.0"
#endif

#define MICRO_NSUBS 3
#define MICRO_TYPE_PREFIX "io.nats.micro.v1."

static natsSubscription *micro_subs[MICRO_NSUBS];
static char micro_queue_group[256];

/* The identity fields every response starts with */
static json_object *
MicroIdentity(const char *type)
{
	json_object *o = json_object_new_object();
	json_object *metadata = json_object_new_object();
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int) getpid());
	json_object_object_add(metadata, "host",
						   json_object_new_string(ident_host()));
	json_object_object_add(metadata, "pid", json_object_new_string(pid));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "name",
						   json_object_new_string(IDENT_SERVICE_NAME));
	json_object_object_add(o, "id", json_object_new_string(ident_id()));
	json_object_object_add(o, "version",
						   json_object_new_string(BRIDGE_VERSION));
	json_object_object_add(o, "metadata", metadata);
	return o;
}

/* A tier's subject pattern: its form with each <...> token as "*" */
static void
MicroSubject(const Tier *t, char *buf, size_t size)
{
	const char *p = t->form;
	size_t n = 0;

	while (*p && n + 2 < size)
	{
		if (*p == '<')
		{
			const char *close = strchr(p, '>');

			buf[n++] = '*';
			p = close ? close + 1 : p + strlen(p);
		}
		else
			buf[n++] = *p++;
	}
	buf[n] = '\0';
}

/* The name, subject and queue group of a tier's endpoint */
static json_object *
MicroEndpoint(const Tier *t)
{
	json_object *o = json_object_new_object();
	char subject[128];

	MicroSubject(t, subject, sizeof(subject));
	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "subject", json_object_new_string(subject));
	json_object_object_add(o, "queue_group",
						   json_object_new_string(micro_queue_group));
	return o;
}

/* INFO's endpoints: name, subject, queue group, and the SQL function */
static json_object *
MicroInfoEndpoints(void)
{
	json_object *list = json_object_new_array();

	for (int i = 0; i < TIER_COUNT; i++)
	{
		json_object *e = MicroEndpoint(&tiers[i]);
		json_object *metadata = json_object_new_object();

		json_object_object_add(metadata, "function",
							   json_object_new_string(tiers[i].function));
		json_object_object_add(e, "metadata", metadata);
		json_object_array_add(list, e);
	}
	return list;
}

/* STATS's endpoints: the tier totals of metrics.c */
static json_object *
MicroStatsEndpoints(void)
{
	json_object *list = json_object_new_array();

	for (int i = 0; i < TIER_COUNT; i++)
	{
		json_object *e = MicroEndpoint(&tiers[i]);
		MetricsTierTotals t;

		metrics_tier_totals(i, &t);
		json_object_object_add(e, "num_requests",
							   json_object_new_int64((int64_t) t.requests));
		json_object_object_add(e, "num_errors",
							   json_object_new_int64((int64_t) t.errors));
		json_object_object_add(e, "last_error",
							   json_object_new_string(t.last_error));
		json_object_object_add(e, "processing_time",
							   json_object_new_int64((int64_t) t.time_ns));
		json_object_object_add(
			e, "average_processing_time",
			json_object_new_int64(
				t.requests ? (int64_t) (t.time_ns / t.requests) : 0));
		json_object_array_add(list, e);
	}
	return list;
}

/* Render the response to PING, INFO or STATS; NULL for another verb */
char *
micro_render(const char *verb, size_t *len)
{
	json_object *o;
	char *text;

	if (strcmp(verb, "PING") == 0)
		o = MicroIdentity(MICRO_TYPE_PREFIX "ping_response");
	else if (strcmp(verb, "INFO") == 0)
	{
		o = MicroIdentity(MICRO_TYPE_PREFIX "info_response");
		json_object_object_add(o, "description",
							   json_object_new_string(MICRO_DESCRIPTION));
		json_object_object_add(o, "endpoints", MicroInfoEndpoints());
	}
	else if (strcmp(verb, "STATS") == 0)
	{
		o = MicroIdentity(MICRO_TYPE_PREFIX "stats_response");
		json_object_object_add(o, "started",
							   json_object_new_string(ident_started()));
		json_object_object_add(o, "endpoints", MicroStatsEndpoints());
	}
	else
		return NULL;
	text = strdup(json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len));
	json_object_put(o);
	return text;
}

/*
 * Find the verb of $SRV.<VERB>[.<name>[.<id>]] if the request is for this
 * bridge: any service, this service, or this very instance.
 */
static bool
MicroVerb(const char *subject, char *verb, size_t size)
{
	const char *p;
	const char *dot;
	size_t n;
	size_t name_len = strlen(IDENT_SERVICE_NAME);

	if (strncmp(subject, "$SRV.", 5) != 0)
		return false;
	p = subject + 5;
	dot = strchr(p, '.');
	n = dot ? (size_t) (dot - p) : strlen(p);
	if (n == 0 || n >= size)
		return false;
	memcpy(verb, p, n);
	verb[n] = '\0';
	if (dot == NULL)
		return true;
	p = dot + 1;
	if (strncmp(p, IDENT_SERVICE_NAME, name_len) != 0)
		return false;
	p += name_len;
	if (*p == '\0')
		return true;
	return *p == '.' && strcmp(p + 1, ident_id()) == 0;
}

/* nats.c callback: answer a discovery request meant for this bridge */
static void
MicroOnMessage(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
			   void *closure)
{
	const char *reply = natsMsg_GetReply(msg);
	char verb[16];
	char *text = NULL;
	size_t len;

	(void) nc;
	(void) sub;
	(void) closure;
	if (reply && reply[0] &&
		MicroVerb(natsMsg_GetSubject(msg), verb, sizeof(verb)))
		text = micro_render(verb, &len);
	if (text)
		bus_publish(reply, text, len);
	free(text);
	natsMsg_Destroy(msg);
}

/* Subscribe to the three forms of the discovery subjects */
void
micro_subscribe(const char *queue_group)
{
	char subjects[MICRO_NSUBS][160];

	snprintf(micro_queue_group, sizeof(micro_queue_group), "%s", queue_group);
	snprintf(subjects[0], sizeof(subjects[0]), "$SRV.*");
	snprintf(subjects[1], sizeof(subjects[1]), "$SRV.*.%s",
			 IDENT_SERVICE_NAME);
	snprintf(subjects[2], sizeof(subjects[2]), "$SRV.*.%s.%s",
			 IDENT_SERVICE_NAME, ident_id());
	for (int i = 0; i < MICRO_NSUBS; i++)
		micro_subs[i] = bus_subscribe(subjects[i], MicroOnMessage);
}

/* Stop answering discovery requests */
void
micro_unsubscribe(void)
{
	for (int i = 0; i < MICRO_NSUBS; i++)
	{
		bus_unsubscribe(micro_subs[i]);
		micro_subs[i] = NULL;
	}
}
