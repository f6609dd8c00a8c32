/*
 * log.c
 *		Structured logging: one JSON object a line on stderr.
 *
 * Each line is built with json-c, so every string is escaped, then written
 * under a mutex with one fwrite so that lines of different threads never
 * interleave.  The level is an atomic int: SIGHUP changes it while library
 * and worker threads log.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ident.h"
#include "log.h"

static atomic_int log_level = LL_INFO;
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

static const char *const log_level_names[] = {"debug", "info", "warn",
											  "error"};

/* A JSON number with three decimals (json-c would print 17 digits) */
json_object *
log_json_real(double v)
{
	char text[64];

	snprintf(text, sizeof(text), "%.3f", v);
	return json_object_new_double_s(v, text);
}

/* Write one log line if the level is enabled */
void
log_write(LogLevel level, const char *msg, const LogField *fields)
{
	json_object *line;
	const char *text;
	char ts[40];

	if (!log_enabled(level))
		return;
	ident_format_time(ts, sizeof(ts));
	line = json_object_new_object();
	json_object_object_add(line, "ts", json_object_new_string(ts));
	json_object_object_add(line, "level",
						   json_object_new_string(log_level_names[level]));
	json_object_object_add(line, "msg", json_object_new_string(msg));
	for (; fields->type != LF_END_TYPE; fields++)
	{
		json_object *value;

		if (fields->type == LF_INT)
			value = json_object_new_int64(fields->num);
		else if (fields->type == LF_REAL)
			value = log_json_real(fields->real);
		else if (fields->type == LF_BOOL)
			value = json_object_new_boolean(fields->num != 0);
		else
			value = fields->str ? json_object_new_string(fields->str) : NULL;
		json_object_object_add(line, fields->key, value);
	}
	text = json_object_to_json_string_ext(
		line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	pthread_mutex_lock(&log_mutex);
	fputs(text, stderr);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_mutex);
	json_object_put(line);
}

/* Tell whether a line of this level would be written */
bool
log_enabled(LogLevel level)
{
	return (int) level >=
		   atomic_load_explicit(&log_level, memory_order_relaxed);
}

/* Change the lowest level written */
void
log_set_level(LogLevel level)
{
	atomic_store(&log_level, (int) level);
}

/* Parse a level name (debug, info, warn, error) */
bool
log_parse_level(const char *name, LogLevel *level)
{
	for (int i = 0; i <= LL_ERROR; i++)
	{
		if (strcmp(name, log_level_names[i]) == 0)
		{
			*level = (LogLevel) i;
			return true;
		}
	}
	return false;
}

/* Name a level */
const char *
log_level_name(LogLevel level)
{
	return log_level_names[level];
}
