/*-------------------------------------------------------------------------
 *
 * row_request.c
 *	  Read a row request's fields, and the small JSON readers the compilers
 *	  share.
 *
 * A request is a JSON object.  Each operation allows some fields and
 * requires others; an unknown field, or one the operation does not take, is
 * refused with invalid_request naming it, and a field set to null counts as
 * absent.  The values are kept as they are: what a field means depends on
 * the table, so the compilers check them against the catalog later.
 *
 * Table and column names of define are ^[a-z_][a-z0-9_]{0,62}$, and names
 * starting with _ps_ are plugin_storage's own (forbidden).
 *
 *-------------------------------------------------------------------------
 */
#include "row.h"

#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

/* An operation's name and the fields it allows and requires */
typedef struct PsRowOpSpec
{
	const char *name; /* as on the wire */
	PsRowOp op;		  /* the operation */
	uint32 allowed;	  /* PS_RF_BIT of the fields it accepts */
	uint32 required;  /* and of those it needs */
} PsRowOpSpec;

#define B(f) PS_RF_BIT(PS_RF_##f)

static const PsRowOpSpec ps_row_ops[] = {
	{"define", PS_ROW_DEFINE,
	 B(TABLE) | B(COLUMNS) | B(PRIMARY_KEY) | B(INDEXES) | B(UNIQUE),
	 B(TABLE)},
	{"describe", PS_ROW_DESCRIBE, B(TABLE), B(TABLE)},
	{"tables", PS_ROW_TABLES, 0, 0},
	{"drop_table", PS_ROW_DROP_TABLE, B(TABLE) | B(CONFIRM), B(TABLE)},
	{"insert", PS_ROW_INSERT, B(TABLE) | B(DATA) | B(ROWS), B(TABLE)},
	{"upsert", PS_ROW_UPSERT, B(TABLE) | B(DATA) | B(ON), B(TABLE) | B(DATA)},
	{"select", PS_ROW_SELECT, B(TABLE) | B(ID) | B(IDS) | B(FIELDS), B(TABLE)},
	{"search", PS_ROW_SEARCH,
	 B(TABLE) | B(FILTERS) | B(SORT) | B(LIMIT) | B(OFFSET) | B(FIELDS) |
		 B(COUNT),
	 B(TABLE)},
	{"aggregate", PS_ROW_AGGREGATE,
	 B(TABLE) | B(FILTERS) | B(GROUP_BY) | B(AGGREGATES) | B(SORT) | B(LIMIT),
	 B(TABLE) | B(AGGREGATES)},
	{"update", PS_ROW_UPDATE, B(TABLE) | B(FILTERS) | B(OPERATIONS) | B(ALL),
	 B(TABLE) | B(OPERATIONS)},
	{"delete", PS_ROW_DELETE, B(TABLE) | B(FILTERS) | B(ALL), B(TABLE)},
};

/* Field names, indexed by PsRowField */
static const char *const ps_row_fields[PS_RF_NFIELDS] = {
	[PS_RF_TABLE] = "table",
	[PS_RF_COLUMNS] = "columns",
	[PS_RF_PRIMARY_KEY] = "primary_key",
	[PS_RF_INDEXES] = "indexes",
	[PS_RF_UNIQUE] = "unique",
	[PS_RF_CONFIRM] = "confirm",
	[PS_RF_DATA] = "data",
	[PS_RF_ROWS] = "rows",
	[PS_RF_ON] = "on",
	[PS_RF_ID] = "id",
	[PS_RF_IDS] = "ids",
	[PS_RF_FILTERS] = "filters",
	[PS_RF_SORT] = "sort",
	[PS_RF_LIMIT] = "limit",
	[PS_RF_OFFSET] = "offset",
	[PS_RF_FIELDS] = "fields",
	[PS_RF_COUNT] = "count",
	[PS_RF_GROUP_BY] = "group_by",
	[PS_RF_AGGREGATES] = "aggregates",
	[PS_RF_OPERATIONS] = "operations",
	[PS_RF_ALL] = "all",
};

/* The field a JSON key names, or -1 */
static int
PsRowFieldOf(const char *key, int len)
{
	for (int i = 0; i < PS_RF_NFIELDS; i++)
		if ((int) strlen(ps_row_fields[i]) == len &&
			memcmp(ps_row_fields[i], key, len) == 0)
			return i;
	return -1;
}

/* Is this JSON value an object? */
bool
PsRowIsObject(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

/* Is this JSON value an array? */
bool
PsRowIsArray(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

/* The number of elements of an array (or pairs of an object) */
int
PsRowArraySize(const JsonbValue *v)
{
	return JsonContainerSize(v->val.binary.data);
}

/* Element i of an array */
JsonbValue *
PsRowArrayElem(const JsonbValue *v, int i)
{
	return getIthJsonbValueFromContainer(v->val.binary.data, i);
}

/* A JSON string as a NUL-terminated C string */
char *
PsRowString(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Read an optional boolean field */
bool
PsRowGetBool(PsRowRequest *req, PsRowField f, bool dflt, bool *out,
			 PsError *err)
{
	JsonbValue *v = req->field[f];

	*out = dflt;
	if (v == NULL)
		return true;
	if (v->type != jbvBool)
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" must be a boolean, not %s", ps_row_fields[f],
				   PsJsonTypeName(v));
		return false;
	}
	*out = v->val.boolean;
	return true;
}

/* Read an optional integer field within [min, max] */
bool
PsRowGetInt(PsRowRequest *req, PsRowField f, int64 min, int64 max, int64 dflt,
			int64 *out, PsError *err)
{
	*out = dflt;
	if (req->field[f] == NULL)
		return true;
	return PsJsonInt(req->field[f], ps_row_fields[f], min, max, out, err);
}

/*
 * Read a list of names: an array of 1 to max strings, or one string.  The
 * names are not checked here: the caller looks them up.
 */
bool
PsRowGetNames(const JsonbValue *v, const char *field, int max, char ***names,
			  int *n, PsError *err)
{
	if (v->type == jbvString)
	{
		*names = palloc(sizeof(char *));
		(*names)[0] = PsRowString(v);
		*n = 1;
		return true;
	}
	if (!PsRowIsArray(v) || PsRowArraySize(v) < 1 || PsRowArraySize(v) > max)
	{
		PsSetError(err, "invalid_request",
				   "%s must be a name or an array of 1 to %d names", field,
				   max);
		return false;
	}
	*n = PsRowArraySize(v);
	*names = palloc(sizeof(char *) * *n);
	for (int i = 0; i < *n; i++)
	{
		JsonbValue *e = PsRowArrayElem(v, i);

		if (e->type != jbvString)
		{
			PsSetError(err, "invalid_request",
					   "%s must hold names (strings), not %s", field,
					   PsJsonTypeName(e));
			return false;
		}
		(*names)[i] = PsRowString(e);
		for (int j = 0; j < i; j++)
			if (strcmp((*names)[i], (*names)[j]) == 0)
			{
				PsSetError(err, "invalid_request", "%s names \"%s\" twice",
						   field, (*names)[i]);
				return false;
			}
	}
	return true;
}

/*
 * Check a table or column name: ^[a-z_][a-z0-9_]{0,62}$ (invalid_request),
 * not starting with _ps_ (forbidden: plugin_storage's own objects).
 */
bool
PsRowCheckName(const char *what, const char *name, PsError *err)
{
	int len = strlen(name);
	bool ok = len >= 1 && len < NAMEDATALEN;

	for (int i = 0; ok && i < len; i++)
	{
		char c = name[i];

		ok = (c >= 'a' && c <= 'z') || c == '_' ||
			 (i > 0 && c >= '0' && c <= '9');
	}
	if (!ok)
	{
		PsSetError(err, "invalid_request",
				   "invalid %s name \"%.64s\": use 1 to 63 of a-z, 0-9 and _, "
				   "not starting with a digit",
				   what, name);
		return false;
	}
	if (strncmp(name, "_ps_", 4) == 0)
	{
		PsSetError(err, "forbidden",
				   "%s name \"%s\" is reserved: names starting with _ps_ "
				   "belong to plugin_storage",
				   what, name);
		return false;
	}
	return true;
}

/* Find an operation by its wire name */
static const PsRowOpSpec *
PsRowFindOp(const char *op)
{
	for (int i = 0; i < (int) lengthof(ps_row_ops); i++)
		if (strcmp(ps_row_ops[i].name, op) == 0)
			return &ps_row_ops[i];
	return NULL;
}

/* Validate the request's shape for op: known fields, required ones given */
bool
PsRowParseRequest(const char *op, Jsonb *request, PsRowRequest *req,
				  PsError *err)
{
	const PsRowOpSpec *spec = PsRowFindOp(op);
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue v;
	JsonbIteratorToken tok;
	uint32 missing;

	memset(req, 0, sizeof(*req));
	if (spec == NULL)
	{
		PsSetError(err, "invalid_request", "unknown row operation \"%.64s\"",
				   op);
		return false;
	}
	req->op = spec->op;
	req->opname = spec->name;
	if (request != NULL && !JB_ROOT_IS_OBJECT(request))
	{
		PsSetError(err, "invalid_request",
				   "the request must be a JSON object");
		return false;
	}
	it = request ? JsonbIteratorInit(&request->root) : NULL;
	while (it != NULL && (tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		int f;

		if (tok != WJB_KEY)
			continue;
		f = PsRowFieldOf(k.val.string.val, k.val.string.len);
		if (f < 0 || (spec->allowed & PS_RF_BIT(f)) == 0)
		{
			PsSetError(err, "invalid_request", "unknown field \"%.*s\" for %s",
					   Min(k.val.string.len, 64), k.val.string.val,
					   spec->name);
			return false;
		}
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		if (v.type == jbvNull)
			continue;
		req->field[f] = palloc(sizeof(JsonbValue));
		*req->field[f] = v;
		req->present |= PS_RF_BIT(f);
	}
	missing = spec->required & ~req->present;
	if (missing != 0)
	{
		PsSetError(err, "invalid_request", "%s needs field \"%s\"", spec->name,
				   ps_row_fields[pg_rightmost_one_pos32(missing)]);
		return false;
	}
	return true;
}
