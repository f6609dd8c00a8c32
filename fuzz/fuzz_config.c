/*
 * fuzz_config.c
 *		libFuzzer target: config_parse_text, the parser of the bridge's
 *		config file (`key = value` lines, quoted values, escapes).
 *
 * The input is the file's text (a NUL ends it, as when the file is read).
 * The Config starts from a filled-in copy, so that string settings are
 * replaced (and freed) as they are in a real reload; every string is freed
 * at the end, so LeakSanitizer sees any string the parser loses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The string fields of Config, to free them after each input */
static char **
FuzzStrings(Config *c, int i)
{
	char **fields[] = {&c->conninfo,	  &c->nats_url,	  &c->nats_user,
					   &c->nats_password, &c->nats_creds, &c->queue_group,
					   &c->log_level};

	return i < (int) (sizeof(fields) / sizeof(fields[0])) ? fields[i] : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[512];
	Config c;
	char **s;

	memcpy(text, data, size);
	text[size] = '\0';
	memset(&c, 0, sizeof(c));
	for (int i = 0; (s = FuzzStrings(&c, i)) != NULL; i++)
		*s = strdup("initial");
	err[0] = '\0';
	if (!config_parse_text(&c, text, "fuzz", err, sizeof(err)) &&
		err[0] == '\0')
		abort();
	if (c.pool_size < 0 || c.pool_size > 64 ||
		c.pipeline_depth > PIPELINE_DEPTH_MAX)
		abort();
	for (int i = 0; (s = FuzzStrings(&c, i)) != NULL; i++)
		free(*s);
	free(text);
	return 0;
}
