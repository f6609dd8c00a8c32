/*
 * subject.h
 *		Parse and validate request subjects: db.<tier>.<plugin>[.<op>].
 */
#ifndef BRIDGE_SUBJECT_H
#define BRIDGE_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "tier.h"

#define PLUGIN_NAME_MAX 63
#define OP_NAME_MAX 32

typedef struct Subject
{
	const Tier *tier;				  /* the tier named by the second token */
	char plugin[PLUGIN_NAME_MAX + 1]; /* third token, validated */
	char op[OP_NAME_MAX + 1];		  /* fourth token, or "" if none */
} Subject;

extern bool subject_parse(const char *subject, Subject *out, char *err,
						  size_t errlen);
extern bool subject_valid_plugin(const char *name, size_t len);
extern bool subject_valid_op(const char *name, size_t len);

#endif
