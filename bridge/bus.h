/*
 * bus.h
 *		The NATS side: connection, the db.> subscription, and replies.
 */
#ifndef BRIDGE_BUS_H
#define BRIDGE_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "config.h"
#include "queue.h"

#define BUS_SUBJECT "db.>"

/* What became of a reply handed to bus_publish() */
typedef enum BusSent
{
	BUS_SENT,	  /* handed to nats.c */
	BUS_FAILED,	  /* refused by nats.c (logged) */
	BUS_TOO_LARGE /* over the server's max_payload: nothing was sent */
} BusSent;

extern bool bus_start(const Config *config, Queue *queue);
extern void bus_drain_begin(void);
extern bool bus_drain_wait(int timeout_ms);
extern void bus_stop(void);
extern BusSent bus_publish(const char *subject, const char *data, size_t len);
extern int64_t bus_max_payload(void);
extern natsSubscription *bus_subscribe(const char *subject, natsMsgHandler cb);
extern void bus_unsubscribe(natsSubscription *sub);

#endif
