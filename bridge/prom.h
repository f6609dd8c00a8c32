/*
 * prom.h
 *		The metrics in Prometheus' text exposition format.
 */
#ifndef BRIDGE_PROM_H
#define BRIDGE_PROM_H

#include <stddef.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

extern char *prom_render(size_t *len);
extern void prom_escape_label(const char *value, char *out, size_t size);

#endif
