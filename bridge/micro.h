/*
 * micro.h
 *		NATS service discovery: $SRV.PING, $SRV.INFO and $SRV.STATS.
 */
#ifndef BRIDGE_MICRO_H
#define BRIDGE_MICRO_H

#include <stddef.h>

#define MICRO_DESCRIPTION                                                     \
	"plugin_storage: per-plugin storage in PostgreSQL over NATS "             \
	"request/reply"

extern void micro_subscribe(const char *queue_group);
extern void micro_unsubscribe(void);
extern char *micro_render(const char *verb, size_t *len);

#endif
