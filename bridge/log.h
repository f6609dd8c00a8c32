/*
 * log.h
 *		Structured logging: one JSON object a line on stderr.
 *
 * Every line carries "ts" (UTC, milliseconds), "level" and "msg", then the
 * fields the caller names:
 *
 *		log_info("connected", LF_S("server", url), LF_I("worker", 3));
 *
 * The level is changed at run time (SIGHUP) and read without a lock.
 */
#ifndef BRIDGE_LOG_H
#define BRIDGE_LOG_H

#include <stdbool.h>

typedef enum LogLevel
{
	LL_DEBUG,
	LL_INFO,
	LL_WARN,
	LL_ERROR
} LogLevel;

typedef enum LogFieldType
{
	LF_END_TYPE, /* terminates a field list */
	LF_STR,
	LF_INT,
	LF_REAL, /* a number, written with three decimals */
	LF_BOOL	 /* true or false, from num */
} LogFieldType;

typedef struct LogField
{
	const char *key;   /* JSON key of the field */
	LogFieldType type; /* which of str and num holds the value */
	const char *str;   /* LF_STR: the value; NULL logs null */
	long long num;	   /* LF_INT: the value; LF_BOOL: 0 or 1 */
	double real;	   /* LF_REAL: the value */
} LogField;

#define LF_S(k, v) ((LogField){(k), LF_STR, (v), 0, 0})
#define LF_I(k, v) ((LogField){(k), LF_INT, NULL, (long long) (v), 0})
#define LF_B(k, v) ((LogField){(k), LF_BOOL, NULL, (v) ? 1 : 0, 0})
#define LF_R(k, v) ((LogField){(k), LF_REAL, NULL, 0, (double) (v)})
#define LF_END_ ((LogField){NULL, LF_END_TYPE, NULL, 0, 0})

#define LOG_AT(lvl, msg, ...)                                                 \
	log_write((lvl), (msg),                                                   \
			  (const LogField[]){__VA_ARGS__ __VA_OPT__(, ) LF_END_})
#define log_debug(msg, ...) LOG_AT(LL_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) LOG_AT(LL_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) LOG_AT(LL_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) LOG_AT(LL_ERROR, msg, __VA_ARGS__)

struct json_object;

extern struct json_object *log_json_real(double v);
extern void log_write(LogLevel level, const char *msg, const LogField *fields);
extern bool log_enabled(LogLevel level);
extern void log_set_level(LogLevel level);
extern bool log_parse_level(const char *name, LogLevel *level);
extern const char *log_level_name(LogLevel level);

#endif
