/*-------------------------------------------------------------------------
 *
 * errors.c
 *	  Expected failures: one PsError, two ways out.
 *
 * Validation and outcomes such as a failed compare-and-set are found before
 * anything is written, so they travel as a PsError instead of an ereport.
 * The JSON entry points turn it into the wire's {"error":{"code","message"}};
 * the typed SQL functions raise it with the SQLSTATE that matches the code.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "utils/builtins.h"

/* Map of wire codes to SQLSTATEs, for the raising SQL API */
typedef struct PsErrorCode
{
	const char *code; /* wire code */
	int sqlstate;	  /* what the typed SQL functions raise */
} PsErrorCode;

static const PsErrorCode ps_error_codes[] = {
	{"invalid_request", ERRCODE_INVALID_PARAMETER_VALUE},
	{"not_found", ERRCODE_UNDEFINED_OBJECT},
	{"conflict", ERRCODE_UNIQUE_VIOLATION},
	{"type_mismatch", ERRCODE_DATATYPE_MISMATCH},
	{"too_large", ERRCODE_PROGRAM_LIMIT_EXCEEDED},
	{"forbidden", ERRCODE_INSUFFICIENT_PRIVILEGE},
	{"timeout", ERRCODE_QUERY_CANCELED},
	{"rate_limited", ERRCODE_CONFIGURATION_LIMIT_EXCEEDED},
	{"unavailable", ERRCODE_CANNOT_CONNECT_NOW},
	{"internal", ERRCODE_INTERNAL_ERROR},
};

/* Record an expected failure with its wire code and a formatted message */
void
PsSetError(PsError *err, const char *code, const char *fmt, ...)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list args;
		int needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	err->code = code;
	err->message = buf.data;
}

/* Build {"error":{"code":..,"message":..}} */
Jsonb *
PsErrorJsonb(const PsError *err)
{
	PsReply r;

	PsReplyBegin(&r);
	PsReplyBeginObject(&r, "error");
	PsReplyString(&r, "code", err->code, -1);
	PsReplyString(&r, "message", err->message, -1);
	if (err->sqlstate)
		PsReplyString(&r, "sqlstate", err->sqlstate, -1);
	if (err->detail)
		PsReplyString(&r, "detail", err->detail, -1);
	if (err->hint)
		PsReplyString(&r, "hint", err->hint, -1);
	if (err->position > 0)
		PsReplyInt64(&r, "position", err->position);
	if (err->version)
		PsReplyString(&r, "version", err->version, -1);
	if (err->statement)
		PsReplyString(&r, "statement", err->statement, -1);
	if (err->retry_after_ms > 0)
		PsReplyInt64(&r, "retry_after_ms", err->retry_after_ms);
	PsReplyEndObject(&r);
	return PsReplyFinish(&r);
}

/* Raise an expected failure as an ERROR with the matching SQLSTATE */
void
PsRaiseError(const PsError *err)
{
	int sqlstate = ERRCODE_INTERNAL_ERROR;

	for (int i = 0; i < (int) lengthof(ps_error_codes); i++)
		if (strcmp(ps_error_codes[i].code, err->code) == 0)
			sqlstate = ps_error_codes[i].sqlstate;
	if (err->sqlstate)
		sqlstate =
			MAKE_SQLSTATE(err->sqlstate[0], err->sqlstate[1], err->sqlstate[2],
						  err->sqlstate[3], err->sqlstate[4]);
	ereport(ERROR,
			(errcode(sqlstate), errmsg_internal("%s", err->message),
			 err->detail
				 ? errdetail_internal("%s (plugin_storage error code: "
									  "%s.)",
									  err->detail, err->code)
				 : errdetail("plugin_storage error code: %s.", err->code),
			 err->hint ? errhint("%s", err->hint) : 0,
			 err->version ? errcontext("migration %s: %s", err->version,
									   err->statement ? err->statement : "")
						  : 0));
	pg_unreachable();
}
