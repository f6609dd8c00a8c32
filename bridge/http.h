/*
 * http.h
 *		The optional HTTP listener for Prometheus: GET /metrics.
 */
#ifndef BRIDGE_HTTP_H
#define BRIDGE_HTTP_H

#include <stdbool.h>

extern bool http_start(const char *listen);
extern void http_stop(void);

#endif
