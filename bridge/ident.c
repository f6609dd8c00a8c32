/*
 * ident.c
 *		Who this bridge process is: name, random id, host, start time.
 *
 * Every bridge answers db.stats and the $SRV discovery subjects itself
 * and stamps its events, so that an operator who hears from several
 * bridges can tell them apart.  The id is 22 random characters drawn from
 * [0-9A-Z] at start-up (like a NATS nuid: unique per process, not per
 * host), read from /dev/urandom, with the clock and pid as a fallback.
 * The start time is kept both as wall-clock text (RFC 3339, UTC, for
 * replies) and on the monotonic clock (for the uptime).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ident.h"

#ifndef BRIDGE_VERSION
#define BRIDGE_VERSION "0.0.0"
#endif

static char ident_id_text[IDENT_ID_LEN + 1];
static char ident_host_name[256];
static char ident_started_text[40];
static int64_t ident_started_ms;

/* Fill buf with random bytes, from /dev/urandom or else the clock */
static void
IdentRandom(unsigned char *buf, size_t len)
{
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f ? fread(buf, 1, len, f) : 0;
	uint64_t x = (uint64_t) clock_mono_ns() ^ ((uint64_t) getpid() << 32);

	if (f)
		fclose(f);
	for (size_t i = got; i < len; i++)
	{
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (unsigned char) x;
	}
}

/* Format the wall clock as RFC 3339 in UTC with milliseconds */
void
ident_format_time(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, size - len, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Draw the id and note the host and start time; call once, first */
void
ident_init(void)
{
	static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char raw[IDENT_ID_LEN];

	IdentRandom(raw, sizeof(raw));
	for (int i = 0; i < IDENT_ID_LEN; i++)
		ident_id_text[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	if (gethostname(ident_host_name, sizeof(ident_host_name) - 1) != 0)
		snprintf(ident_host_name, sizeof(ident_host_name), "unknown");
	ident_format_time(ident_started_text, sizeof(ident_started_text));
	ident_started_ms = clock_mono_ms();
}

/* The random id of this process */
const char *
ident_id(void)
{
	return ident_id_text;
}

/* The host name */
const char *
ident_host(void)
{
	return ident_host_name;
}

/* The start time, RFC 3339 */
const char *
ident_started(void)
{
	return ident_started_text;
}

/* Milliseconds since start-up */
int64_t
ident_uptime_ms(void)
{
	return clock_mono_ms() - ident_started_ms;
}

/* The "bridge" object of stats replies: id, name, version, host, ... */
json_object *
ident_json(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(ident_id_text));
	json_object_object_add(o, "name",
						   json_object_new_string(IDENT_SERVICE_NAME));
	json_object_object_add(o, "version",
						   json_object_new_string(BRIDGE_VERSION));
	json_object_object_add(o, "host", json_object_new_string(ident_host_name));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "started",
						   json_object_new_string(ident_started_text));
	json_object_object_add(o, "uptime_s",
						   json_object_new_int64(ident_uptime_ms() / 1000));
	return o;
}
