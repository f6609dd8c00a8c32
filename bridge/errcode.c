/*
 * errcode.c
 *		The stable error codes of the bridge's replies, and how PostgreSQL's
 *		SQLSTATEs map onto them.
 *
 * The extension reports expected failures itself, as {"error":{...}}
 * replies; what reaches the bridge as a PostgreSQL error is unexpected
 * (a timeout, a lost server, a bug) and is classified here by SQLSTATE.
 * The table is searched in order: exact SQLSTATEs first, then classes
 * (two-character prefixes).  Anything unmatched is "internal".
 */
#include <string.h>

#include "errcode.h"

static const char *const errcode_names[EC_COUNT] = {
	[EC_INVALID_REQUEST] = "invalid_request",
	[EC_NOT_FOUND] = "not_found",
	[EC_CONFLICT] = "conflict",
	[EC_TYPE_MISMATCH] = "type_mismatch",
	[EC_TOO_LARGE] = "too_large",
	[EC_FORBIDDEN] = "forbidden",
	[EC_INTERNAL] = "internal",
	[EC_UNAVAILABLE] = "unavailable",
	[EC_TIMEOUT] = "timeout",
	[EC_RATE_LIMITED] = "rate_limited",
};

typedef struct SqlstateMap
{
	const char *sqlstate; /* five characters, or a two-character class */
	ErrCode code;		  /* the reply code it maps to */
} SqlstateMap;

static const SqlstateMap errcode_sqlstates[] = {
	{"57014", EC_TIMEOUT},	   /* query_canceled: statement_timeout, cancel */
	{"57P01", EC_UNAVAILABLE}, /* admin_shutdown */
	{"57P02", EC_UNAVAILABLE}, /* crash_shutdown */
	{"57P03", EC_UNAVAILABLE}, /* cannot_connect_now */
	{"53300", EC_UNAVAILABLE}, /* too_many_connections */
	{"42501", EC_FORBIDDEN},   /* insufficient_privilege */
	{"54000", EC_TOO_LARGE},   /* program_limit_exceeded */
	{"54001", EC_TOO_LARGE},   /* statement_too_complex */
	{"42804", EC_TYPE_MISMATCH}, /* datatype_mismatch */
	{"23505", EC_CONFLICT},		 /* unique_violation */
	{"40001", EC_CONFLICT},		 /* serialization_failure */
	{"40P01", EC_CONFLICT},		 /* deadlock_detected */
	{"55P03", EC_CONFLICT},		 /* lock_not_available */
	{"42704", EC_NOT_FOUND},	 /* undefined_object */
	{"08", EC_UNAVAILABLE},		 /* connection_exception */
	{"22", EC_INVALID_REQUEST},	 /* data_exception */
};

/* Name a code as it appears on the wire */
const char *
errcode_name(ErrCode code)
{
	return errcode_names[code];
}

/* Find the code spelled by name[0..len) */
bool
errcode_parse(const char *name, size_t len, ErrCode *code)
{
	for (int i = 0; i < EC_COUNT; i++)
	{
		if (strlen(errcode_names[i]) == len &&
			memcmp(errcode_names[i], name, len) == 0)
		{
			*code = (ErrCode) i;
			return true;
		}
	}
	return false;
}

/* Map a SQLSTATE to the code the plugin sees */
ErrCode
errcode_for_sqlstate(const char *sqlstate)
{
	size_t n = sizeof(errcode_sqlstates) / sizeof(errcode_sqlstates[0]);

	if (sqlstate == NULL || strlen(sqlstate) != 5)
		return EC_INTERNAL;
	for (size_t i = 0; i < n; i++)
	{
		const char *s = errcode_sqlstates[i].sqlstate;

		if (strncmp(sqlstate, s, strlen(s)) == 0)
			return errcode_sqlstates[i].code;
	}
	return EC_INTERNAL;
}
