/*
 * events.h
 *		Operational events: slow requests, error replies, migrations.
 */
#ifndef BRIDGE_EVENTS_H
#define BRIDGE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "subject.h"

#define EVENT_MESSAGE_MAX 512

typedef enum EventKind
{
	EVENT_SLOW,		 /* a reply later than slow_request_ms */
	EVENT_ERROR,	 /* an error reply */
	EVENT_MIGRATION, /* a migrate apply or rollback, whatever its outcome */
	EVENT_NKINDS
} EventKind;

/* One event, copied into the queue by value */
typedef struct Event
{
	EventKind kind;
	char plugin[PLUGIN_NAME_MAX + 1]; /* plugin, or "_invalid" */
	char tier[16];					  /* tier, or "_invalid" */
	char op[OP_NAME_MAX + 1];		  /* op as sent, "" if none */
	int64_t duration_ns;			  /* receipt to reply */
	int code;						  /* error code, -1 for success */
	bool dry_run;					  /* migration: {"dry_run": true} */
	char time[40];					  /* wall clock of the reply */
	char message[EVENT_MESSAGE_MAX];  /* error message, or "" */
} Event;

extern void events_start(int rate_limit);
extern bool events_enabled(void);
extern void events_emit(const Event *ev);
extern void events_stop(void);
extern const char *events_kind_name(EventKind kind);
extern uint64_t events_published(EventKind kind);
extern uint64_t events_dropped(void);

#endif
