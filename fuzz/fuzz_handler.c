/*
 * fuzz_handler.c
 *		libFuzzer target: handler_validate, the check of every request
 *		(subject, size limit, JSON payload, nesting depth) before any SQL.
 *
 * Input: one byte choosing max_json_depth (1..80) and max_request_bytes
 * (small or 1 MiB), then the subject up to the first '\n', then the payload
 * (any bytes, NULs included).  The contract checked besides sanitizer
 * reports: an accepted payload is empty or a JSON object json-c reparses
 * (strictly, UTF-8 validated) within the depth; a refused one has an error
 * code and a printable message of its own; too_large only above the limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "handler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reparse an accepted payload on its own: it must be a JSON object */
static void
FuzzCheckAccepted(const char *payload, size_t len, int depth)
{
	struct json_tokener *tok;
	json_object *root;

	if (len == 0)
		return;
	tok = json_tokener_new_ex(depth);
	json_tokener_set_flags(tok,
						   JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, payload, (int) len);
	if (root == NULL || !json_object_is_type(root, json_type_object))
		abort();
	json_object_put(root);
	json_tokener_free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl;
	char *subject;
	char *payload;
	size_t slen;
	size_t plen;
	int depth;
	int max_bytes;
	Subject s;
	uint64_t lock_order;
	ErrCode code;
	char err[512];

	if (size < 1)
		return 0;
	depth = 1 + data[0] % 80;
	max_bytes = (data[0] & 0x80) ? 64 : 1 << 20;
	data++, size--;
	nl = memchr(data, '\n', size);
	slen = nl ? (size_t) (nl - data) : size;
	plen = nl ? size - slen - 1 : 0;
	subject = malloc(slen + 1);
	memcpy(subject, data, slen);
	subject[slen] = '\0';
	/* an exact-size copy, so that a read past the payload is caught */
	payload = malloc(plen ? plen : 1);
	if (plen)
		memcpy(payload, nl + 1, plen);
	err[0] = '\0';
	if (handler_validate(subject, payload, (int) plen, max_bytes, depth, &s,
						 &lock_order, &code, err, sizeof(err)))
	{
		if ((int) plen > max_bytes || s.tier == NULL)
			abort();
		FuzzCheckAccepted(payload, plen, depth);
	}
	else
	{
		if (err[0] == '\0' || code >= EC_COUNT ||
			(code == EC_TOO_LARGE && (int) plen <= max_bytes))
			abort();
		/* the message goes into a JSON reply built by json-c */
		json_object_put(json_object_new_string(err));
	}
	/* the reply side: error codes the extension may send back */
	errcode_parse(payload, plen, &code);
	if (plen >= 5)
	{
		char sqlstate[6];

		memcpy(sqlstate, payload, 5);
		sqlstate[5] = '\0';
		if (errcode_for_sqlstate(sqlstate) >= EC_COUNT)
			abort();
	}
	free(subject);
	free(payload);
	return 0;
}
