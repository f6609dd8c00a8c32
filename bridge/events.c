/*
 * events.c
 *		Operational events: slow requests, error replies, migrations.
 *
 * An event is a JSON object
 *
 *	{"kind":"slow|error|migration","plugin":..,"tier":..,"op":..,
 *	 "duration_ms":12.345,"code":..,"message":..,"time":..,"bridge":..}
 *
 * ("code" and "message" only for errors) that is both written as a log
 * line (msg "event", same fields) and published on
 * db.events.<plugin>.<kind>.
 *
 * The request path must never wait for either: with send-asap replies,
 * nats.c writes a publish to the socket in the calling thread, and the
 * logger writes stderr under a mutex.  So events_emit() only copies the
 * event into a bounded ring and wakes the events thread, which logs and
 * publishes.  Two limits keep a flood of errors from costing the request
 * path or the log: at most event_rate_limit events a second are taken
 * (0 turns events off), and the ring holds EVENTS_RING events; the rest
 * are counted as dropped.  Nothing here calls back into the request
 * path, and the bridge ignores db.events.> on its db.> subscription
 * (bus.c), so an event never causes another.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "bus.h"
#include "clock.h"
#include "errcode.h"
#include "events.h"
#include "ident.h"
#include "log.h"

#define EVENTS_RING 512

static const char *const events_kind_names[EVENT_NKINDS] = {
	[EVENT_SLOW] = "slow",
	[EVENT_ERROR] = "error",
	[EVENT_MIGRATION] = "migration",
};

static Event events_ring[EVENTS_RING];
static int events_head; /* next to take */
static int events_len;	/* events in the ring */
static bool events_stopping;
static bool events_running;
static pthread_mutex_t events_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t events_cond = PTHREAD_COND_INITIALIZER;
static pthread_t events_thread;

static int events_rate_limit;		/* events a second; 0 off */
static atomic_llong events_window;	/* second the count is for */
static atomic_int events_in_window; /* events taken in that second */
static atomic_ullong events_sent[EVENT_NKINDS];
static atomic_ullong events_lost;

/* Name a kind as in the subject and the "kind" field */
const char *
events_kind_name(EventKind kind)
{
	return events_kind_names[kind];
}

/* Events published so far, of one kind */
uint64_t
events_published(EventKind kind)
{
	return atomic_load(&events_sent[kind]);
}

/* Events dropped so far: over the rate limit, ring full, publish failed */
uint64_t
events_dropped(void)
{
	return atomic_load(&events_lost);
}

/* Tell whether events are on (event_rate_limit > 0) */
bool
events_enabled(void)
{
	return events_rate_limit > 0;
}

/* Take one more event this second, unless over the rate limit */
static bool
EventsAdmit(void)
{
	long long now = clock_mono_ms() / 1000;
	long long window = atomic_load(&events_window);

	if (window != now &&
		atomic_compare_exchange_strong(&events_window, &window, now))
		atomic_store(&events_in_window, 0);
	return atomic_fetch_add(&events_in_window, 1) < events_rate_limit;
}

/* Queue an event for the events thread; never waits for it */
void
events_emit(const Event *ev)
{
	bool queued = false;

	if (!events_enabled())
		return;
	if (EventsAdmit())
	{
		pthread_mutex_lock(&events_mutex);
		if (events_running && !events_stopping && events_len < EVENTS_RING)
		{
			events_ring[(events_head + events_len) % EVENTS_RING] = *ev;
			events_len++;
			queued = true;
			pthread_cond_signal(&events_cond);
		}
		pthread_mutex_unlock(&events_mutex);
	}
	if (!queued)
		atomic_fetch_add(&events_lost, 1);
}

/* Build an event's JSON object */
static json_object *
EventJson(const Event *ev)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind",
						   json_object_new_string(events_kind_name(ev->kind)));
	json_object_object_add(o, "plugin", json_object_new_string(ev->plugin));
	json_object_object_add(o, "tier", json_object_new_string(ev->tier));
	json_object_object_add(o, "op", json_object_new_string(ev->op));
	json_object_object_add(o, "duration_ms",
						   log_json_real((double) ev->duration_ns / 1e6));
	if (ev->code >= 0)
		json_object_object_add(
			o, "code",
			json_object_new_string(errcode_name((ErrCode) ev->code)));
	if (ev->message[0])
		json_object_object_add(o, "message",
							   json_object_new_string(ev->message));
	if (ev->dry_run)
		json_object_object_add(o, "dry_run", json_object_new_boolean(true));
	json_object_object_add(o, "time", json_object_new_string(ev->time));
	json_object_object_add(o, "bridge", json_object_new_string(ident_id()));
	return o;
}

/* The level an event is logged at */
static LogLevel
EventLevel(const Event *ev)
{
	if (ev->code == EC_INTERNAL)
		return LL_ERROR;
	if (ev->kind == EVENT_MIGRATION && ev->code < 0)
		return LL_INFO;
	return LL_WARN;
}

/* Log an event, then publish it on db.events.<plugin>.<kind> */
static void
EventDeliver(const Event *ev)
{
	json_object *o = EventJson(ev);
	char subject[PLUGIN_NAME_MAX + 40];
	const char *text;
	size_t len;
	LogField fields[12];
	int n = 0;

	json_object_object_foreach(o, key, value)
	{
		if (json_object_is_type(value, json_type_double))
			fields[n++] = LF_R(key, json_object_get_double(value));
		else if (json_object_is_type(value, json_type_boolean))
			fields[n++] = LF_B(key, json_object_get_boolean(value));
		else
			fields[n++] = LF_S(key, json_object_get_string(value));
	}
	fields[n] = LF_END_;
	log_write(EventLevel(ev), "event", fields);
	snprintf(subject, sizeof(subject), "db.events.%s.%s", ev->plugin,
			 events_kind_name(ev->kind));
	text = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (bus_publish(subject, text, len) == BUS_SENT)
		atomic_fetch_add(&events_sent[ev->kind], 1);
	else
		atomic_fetch_add(&events_lost, 1);
	json_object_put(o);
}

/* Events thread: deliver queued events until stopped and empty */
static void *
EventsMain(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&events_mutex);
	for (;;)
	{
		Event ev;

		while (events_len == 0 && !events_stopping)
			pthread_cond_wait(&events_cond, &events_mutex);
		if (events_len == 0)
			break;
		ev = events_ring[events_head];
		events_head = (events_head + 1) % EVENTS_RING;
		events_len--;
		pthread_mutex_unlock(&events_mutex);
		EventDeliver(&ev);
		pthread_mutex_lock(&events_mutex);
	}
	pthread_mutex_unlock(&events_mutex);
	return NULL;
}

/* Start the events thread; rate_limit events a second, 0 for none */
void
events_start(int rate_limit)
{
	events_rate_limit = rate_limit;
	if (rate_limit <= 0)
		return;
	events_running = true;
	pthread_create(&events_thread, NULL, EventsMain, NULL);
}

/* Deliver what is queued, then stop the thread */
void
events_stop(void)
{
	if (!events_running)
		return;
	pthread_mutex_lock(&events_mutex);
	events_stopping = true;
	pthread_cond_signal(&events_cond);
	pthread_mutex_unlock(&events_mutex);
	pthread_join(events_thread, NULL);
	events_running = false;
}
