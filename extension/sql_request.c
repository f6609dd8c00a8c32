/*-------------------------------------------------------------------------
 *
 * sql_request.c
 *	  Read a SQL request's fields.
 *
 * A request is {query, params?, max_rows?, timeout_ms?, allow_write?,
 * explain?}.  An unknown field is invalid_request naming it, and a field
 * set to null counts as absent, as in the row tier.  max_rows and
 * timeout_ms may only lower the plugin's limits (sql_limits.c): asking for
 * more is invalid_request naming the limit and where it comes from.
 *
 *-------------------------------------------------------------------------
 */
#include "sql.h"

/* Request fields */
typedef enum PsSqlField
{
	PS_SF_QUERY,
	PS_SF_PARAMS,
	PS_SF_MAX_ROWS,
	PS_SF_TIMEOUT_MS,
	PS_SF_ALLOW_WRITE,
	PS_SF_EXPLAIN,
	PS_SF_NFIELDS
} PsSqlField;

/* Field names, indexed by PsSqlField */
static const char *const ps_sql_fields[PS_SF_NFIELDS] = {
	[PS_SF_QUERY] = "query",
	[PS_SF_PARAMS] = "params",
	[PS_SF_MAX_ROWS] = "max_rows",
	[PS_SF_TIMEOUT_MS] = "timeout_ms",
	[PS_SF_ALLOW_WRITE] = "allow_write",
	[PS_SF_EXPLAIN] = "explain",
};

/* Read an optional boolean field */
static bool
PsSqlBool(JsonbValue *v, PsSqlField field, bool *out, PsError *err)
{
	*out = false;
	if (v == NULL)
		return true;
	if (v->type != jbvBool)
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" must be a boolean, not %s",
				   ps_sql_fields[field], PsJsonTypeName(v));
		return false;
	}
	*out = v->val.boolean;
	return true;
}

/*
 * Read an optional integer field that may lower limit *value (min or more);
 * guc names the setting the limit comes from unless the plugin's own is.
 */
static bool
PsSqlLower(JsonbValue *v, PsSqlField field, int min, int *value,
		   bool plugin_set, const char *guc, PsError *err)
{
	int64 n;

	if (v == NULL)
		return true;
	if (!PsJsonInt(v, ps_sql_fields[field], min, INT_MAX, &n, err))
		return false;
	if (n > *value)
	{
		PsSetError(err, "invalid_request",
				   "%s " INT64_FORMAT " is above this plugin's limit of %d "
				   "(%s)",
				   ps_sql_fields[field], n, *value,
				   plugin_set ? "plugin_storage.plugin_limits" : guc);
		return false;
	}
	*value = (int) n;
	return true;
}

/* Validate a SQL request for plugin p and fill req */
bool
PsSqlParseRequest(PsPlugin *p, Jsonb *request, PsSqlRequest *req, PsError *err)
{
	JsonbValue *f[PS_SF_NFIELDS] = {0};
	JsonbValue *q;

	memset(req, 0, sizeof(*req));
	if (!PsJsonReadFields(request, ps_sql_fields, PS_SF_NFIELDS, f, NULL,
						  "the request must be a JSON object with a \"query\"",
						  ": a SQL request takes query, params, max_rows, "
						  "timeout_ms, allow_write and explain",
						  err))
		return false;
	q = f[PS_SF_QUERY];
	if (q == NULL || q->type != jbvString)
	{
		PsSetError(err, "invalid_request",
				   q ? "field \"query\" must be a string, not %s"
					 : "a SQL request needs field \"query\"%s",
				   q ? PsJsonTypeName(q) : "");
		return false;
	}
	req->query = pnstrdup(q->val.string.val, q->val.string.len);
	req->params = f[PS_SF_PARAMS];
	if (req->params != NULL &&
		(req->params->type != jbvBinary ||
		 !JsonContainerIsObject(req->params->val.binary.data)))
	{
		PsSetError(err, "invalid_request",
				   "field \"params\" must be an object of {name: value}, not "
				   "%s",
				   PsJsonTypeName(req->params));
		return false;
	}
	PsSqlPluginLimits(p, &req->limits);
	return PsSqlBool(f[PS_SF_ALLOW_WRITE], PS_SF_ALLOW_WRITE,
					 &req->allow_write, err) &&
		   PsSqlBool(f[PS_SF_EXPLAIN], PS_SF_EXPLAIN, &req->explain, err) &&
		   PsSqlLower(f[PS_SF_MAX_ROWS], PS_SF_MAX_ROWS, 0,
					  &req->limits.max_rows, req->limits.max_rows_set,
					  "plugin_storage.sql_max_rows", err) &&
		   PsSqlLower(f[PS_SF_TIMEOUT_MS], PS_SF_TIMEOUT_MS, 1,
					  &req->limits.timeout_ms, req->limits.timeout_set,
					  "plugin_storage.sql_statement_timeout", err);
}
