/*
 * fuzz_natsconf.c
 *		libFuzzer target: `plugin-storage-bridge nats-config`, whose
 *		arguments (plugin names and passwords) end up inside a nats-server
 *		config file.
 *
 * The input is split on NUL bytes into argv.  The output goes to a
 * memory stream; the contract checked: exit status 0 or 2, and on 0 the
 * printed text is the authorization block (or the help) with balanced quotes
 *(a password or name cannot break out of its string), nothing printed on 2.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "natsconf.h"

#define FUZZ_MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *fuzz_devnull;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	char *argv[FUZZ_MAX_ARGS + 2];
	int argc = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *saved = stdout;
	FILE *saved_err = stderr;
	FILE *mem;
	int rc;
	size_t quotes = 0;

	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "nats-config";
	for (char *p = copy; p < copy + size && argc <= FUZZ_MAX_ARGS;
		 p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	/* the subcommand's diagnostics are expected: keep them off the log */
	if (fuzz_devnull == NULL &&
		(fuzz_devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	mem = open_memstream(&buf, &len);
	stdout = mem;
	stderr = fuzz_devnull;
	rc = natsconf_main(argc, argv);
	stdout = saved;
	stderr = saved_err;
	fclose(mem);
	if (rc != 0 && rc != 2)
		abort();
	for (size_t i = 0; i < len; i++)
		quotes += buf[i] == '"';
	if (rc == 2 && len > 0)
		abort();
	if (rc == 0 && strncmp(buf, "# nats-server", 13) != 0 &&
		strncmp(buf, "Usage:", 6) != 0)
		abort();
	if (quotes % 2 != 0)
		abort();
	free(buf);
	free(copy);
	return 0;
}
