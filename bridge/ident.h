/*
 * ident.h
 *		Who this bridge process is: name, random id, host, start time.
 */
#ifndef BRIDGE_IDENT_H
#define BRIDGE_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define IDENT_SERVICE_NAME "plugin-storage-bridge"
#define IDENT_ID_LEN 22

extern void ident_init(void);
extern const char *ident_id(void);
extern const char *ident_host(void);
extern const char *ident_started(void);
extern int64_t ident_uptime_ms(void);
extern void ident_format_time(char *buf, size_t size);
extern json_object *ident_json(void);

#endif
