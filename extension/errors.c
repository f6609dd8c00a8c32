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
	ereport(ERROR, (errcode(sqlstate), errmsg_internal("%s", err->message),
					errdetail("plugin_storage error code: %s.", err->code)));
	pg_unreachable();
}
