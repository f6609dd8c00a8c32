/*
 * observe.h
 *		Observability: where the request path hands replies to metrics and
 *		events, and the start and stop of everything operators read.
 */
#ifndef BRIDGE_OBSERVE_H
#define BRIDGE_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "request.h"

extern bool observe_start(const Config *config);
extern void observe_subscribe(const Config *config);
extern void observe_stop(void);
extern bool observe_ignored(const char *subject);
extern void observe_reply(const Request *req, int code, const char *message,
						  const char *reply, size_t len);

#endif
