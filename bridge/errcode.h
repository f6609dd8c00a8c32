/*
 * errcode.h
 *		The stable error codes of the bridge's replies, and how PostgreSQL's
 *		SQLSTATEs map onto them.
 */
#ifndef BRIDGE_ERRCODE_H
#define BRIDGE_ERRCODE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ErrCode
{
	EC_INVALID_REQUEST,
	EC_NOT_FOUND,
	EC_CONFLICT,
	EC_TYPE_MISMATCH,
	EC_TOO_LARGE,
	EC_FORBIDDEN,
	EC_INTERNAL,
	EC_UNAVAILABLE,
	EC_TIMEOUT,
	EC_RATE_LIMITED, /* the extension's per-plugin SQL rate limit */
	EC_COUNT		 /* number of codes; not a code */
} ErrCode;

extern const char *errcode_name(ErrCode code);
extern bool errcode_parse(const char *name, size_t len, ErrCode *code);
extern ErrCode errcode_for_sqlstate(const char *sqlstate);

#endif
