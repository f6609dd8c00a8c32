/*
 * fuzz_subject.c
 *		libFuzzer target: subject_parse, the decoder of every request subject.
 *
 * The input is a subject (NUL bytes cut it, as nats.c's strings would).
 * Besides sanitizer reports, it checks the parser's contract: a parsed
 * subject has a tier, a plugin name and an op that pass their own
 * validators and fit their buffers, and an error message is printable
 * ASCII (it is sent back in a JSON reply).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "subject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *subject = malloc(size + 1);
	char err[512];
	Subject s;

	memcpy(subject, data, size);
	subject[size] = '\0';
	err[0] = '\0';
	if (subject_parse(subject, &s, err, sizeof(err)))
	{
		size_t plen = strlen(s.plugin);
		size_t olen = strlen(s.op);

		if (s.tier == NULL || !subject_valid_plugin(s.plugin, plen) ||
			(olen > 0 && !subject_valid_op(s.op, olen)) ||
			strstr(subject, s.plugin) == NULL)
			abort();
	}
	else
	{
		for (const char *p = err; *p; p++)
			if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
				abort();
		if (err[0] == '\0')
			abort();
	}
	free(subject);
	return 0;
}
