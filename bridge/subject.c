/*
 * subject.c
 *		Parse and validate request subjects: db.<tier>.<plugin>[.<op>].
 *
 * The bridge subscribes to db.> so that every malformed subject still gets
 * an invalid_request reply instead of silence.  A subject is split on dots
 * into at most five tokens (one more than any tier takes, to notice extra
 * tokens); the tier table says how many tokens the tier takes and whether
 * its op is fixed.  Plugin names match ^[a-z0-9][a-z0-9_-]{0,62}$ and ops
 * ^[a-z_]{1,32}$.  Since neither allows a dot or a wildcard, a validated
 * plugin name is also safe to put back into a subject.
 *
 * Error messages quote the offending token, with anything but printable
 * ASCII replaced by '?' and long tokens cut, so a reply stays valid UTF-8.
 */
#include <stdio.h>
#include <string.h>

#include "subject.h"

#define SUBJECT_MAX_TOKENS 5
#define SUBJECT_QUOTE_MAX 64

typedef struct Token
{
	const char *start; /* first character of the token */
	size_t len;		   /* its length in bytes */
} Token;

/* Copy a token for an error message: printable ASCII only, cut if long */
static void
SubjectQuote(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 4 < size && i < SUBJECT_QUOTE_MAX; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	if (len > SUBJECT_QUOTE_MAX && n + 4 < size)
	{
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

/* Split a subject on dots; return the token count, or -1 if too many */
static int
SubjectSplit(const char *subject, Token *tokens)
{
	int n = 0;
	const char *p = subject;

	for (;;)
	{
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t) (dot - p) : strlen(p);

		if (n == SUBJECT_MAX_TOKENS)
			return -1;
		tokens[n].start = p;
		tokens[n].len = len;
		n++;
		if (dot == NULL)
			return n;
		p = dot + 1;
	}
}

/* Check a plugin name against ^[a-z0-9][a-z0-9_-]{0,62}$ */
bool
subject_valid_plugin(const char *name, size_t len)
{
	if (len < 1 || len > PLUGIN_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return false;
	}
	return true;
}

/* Check an op name against ^[a-z_]{1,32}$ */
bool
subject_valid_op(const char *name, size_t len)
{
	if (len < 1 || len > OP_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_'))
			return false;
	}
	return true;
}

/* List the tier names for an error message: "kv, row, sql, migrate" */
static void
SubjectTierList(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < TIER_COUNT && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
						tiers[i].name);
}

/* Parse a subject into tier, plugin and op; on failure describe why */
bool
subject_parse(const char *subject, Subject *out, char *err, size_t errlen)
{
	Token tok[SUBJECT_MAX_TOKENS];
	char q[SUBJECT_QUOTE_MAX + 8];
	int n = SubjectSplit(subject, tok);

	if (n < 2 || tok[0].len != 2 || memcmp(tok[0].start, "db", 2) != 0)
	{
		SubjectQuote(q, sizeof(q), subject, strlen(subject));
		snprintf(err, errlen,
				 "subject \"%s\" must have the form "
				 "db.<tier>.<plugin>[.<op>]",
				 q);
		return false;
	}
	out->tier = tier_lookup(tok[1].start, tok[1].len);
	if (out->tier == NULL)
	{
		char names[128];

		SubjectQuote(q, sizeof(q), tok[1].start, tok[1].len);
		SubjectTierList(names, sizeof(names));
		snprintf(err, errlen, "unknown tier \"%s\": the tiers are %s", q,
				 names);
		return false;
	}
	if (n != out->tier->ntokens)
	{
		SubjectQuote(q, sizeof(q), subject, strlen(subject));
		snprintf(err, errlen, "subject \"%s\" must have the form %s", q,
				 out->tier->form);
		return false;
	}
	if (!subject_valid_plugin(tok[2].start, tok[2].len))
	{
		SubjectQuote(q, sizeof(q), tok[2].start, tok[2].len);
		snprintf(err, errlen,
				 "invalid plugin name \"%s\": it must match "
				 "^[a-z0-9][a-z0-9_-]{0,62}$",
				 q);
		return false;
	}
	memcpy(out->plugin, tok[2].start, tok[2].len);
	out->plugin[tok[2].len] = '\0';
	out->op[0] = '\0';
	if (n < 4)
		return true;
	if (!subject_valid_op(tok[3].start, tok[3].len))
	{
		SubjectQuote(q, sizeof(q), tok[3].start, tok[3].len);
		snprintf(err, errlen,
				 "invalid op \"%s\": it must match ^[a-z_]{1,32}$", q);
		return false;
	}
	memcpy(out->op, tok[3].start, tok[3].len);
	out->op[tok[3].len] = '\0';
	if (out->tier->fixed_op && strcmp(out->op, out->tier->fixed_op) != 0)
	{
		snprintf(err, errlen,
				 "unknown op \"%s\" for tier \"%s\": the only "
				 "op is \"%s\"",
				 out->op, out->tier->name, out->tier->fixed_op);
		return false;
	}
	return true;
}
