/*-------------------------------------------------------------------------
 *
 * json_request.c
 *	  Read values of a request: what every tier's validation shares.
 *
 * The tiers check their requests field by field (kv_request.c,
 * row_request.c); the JSON-level questions they share live here: the type
 * name for an error message, and an integer within bounds.
 *
 *-------------------------------------------------------------------------
 */
#include "plugin_storage.h"

#include "utils/builtins.h"
#include "utils/numeric.h"

/* The JSON type of a value, for error messages */
const char *
PsJsonTypeName(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array"
															: "an object";
		default:
			return "a JSON value";
	}
}

/* Read an integer (1.0 counts, 1.5 does not) within [min, max] */
bool
PsJsonInt(const JsonbValue *v, const char *field, int64 min, int64 max,
		  int64 *out, PsError *err)
{
	char *s;
	char *dot;
	char *end;
	int64 val;

	if (v->type != jbvNumeric)
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" must be an integer, not %s", field,
				   PsJsonTypeName(v));
		return false;
	}
	s = DatumGetCString(
		DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	dot = strchr(s, '.');
	if (dot != NULL)
	{
		if (strspn(dot + 1, "0") != strlen(dot + 1))
		{
			PsSetError(err, "invalid_request",
					   "field \"%s\" must be an integer, not %s", field, s);
			return false;
		}
		*dot = '\0';
	}
	errno = 0;
	val = strtoi64(s, &end, 10);
	if (errno != 0 || *end != '\0' || val < min || val > max)
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" must be an integer from " INT64_FORMAT
				   " to " INT64_FORMAT ", not %s",
				   field, min, max, s);
		return false;
	}
	*out = val;
	return true;
}

/*
 * Read a request object's top-level fields named names[0..n): out[i] gets
 * field i's value, or NULL where it is absent or JSON null; *present (if
 * not NULL) gets a bit per field given, null or not.  A request that is not
 * an object is invalid_request with not_object as message; an unknown field
 * is invalid_request naming it, followed by unknown_hint ("" for none).
 */
bool
PsJsonReadFields(Jsonb *request, const char *const *names, int n,
				 JsonbValue **out, uint32 *present, const char *not_object,
				 const char *unknown_hint, PsError *err)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue v;
	JsonbIteratorToken tok;

	Assert(n <= 32);
	if (request == NULL || !JB_ROOT_IS_OBJECT(request))
	{
		PsSetError(err, "invalid_request", "%s", not_object);
		return false;
	}
	it = JsonbIteratorInit(&request->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		int i;

		if (tok != WJB_KEY)
			continue;
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == (size_t) k.val.string.len &&
				memcmp(names[i], k.val.string.val, k.val.string.len) == 0)
				break;
		if (i == n)
		{
			PsSetError(err, "invalid_request", "unknown field \"%.*s\"%s",
					   Min(k.val.string.len, 64), k.val.string.val,
					   unknown_hint);
			return false;
		}
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		if (present != NULL)
			*present |= 1u << i;
		if (v.type == jbvNull)
			continue;
		out[i] = palloc(sizeof(JsonbValue));
		*out[i] = v;
	}
	return true;
}
