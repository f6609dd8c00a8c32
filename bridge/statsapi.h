/*
 * statsapi.h
 *		db.stats and db.stats.<plugin>: this bridge's metrics as JSON.
 */
#ifndef BRIDGE_STATSAPI_H
#define BRIDGE_STATSAPI_H

#include <stddef.h>

extern void statsapi_subscribe(void);
extern void statsapi_unsubscribe(void);
extern char *statsapi_render(const char *plugin, size_t max, size_t *len);

#endif
