/*-------------------------------------------------------------------------
 *
 * sql_params.c
 *	  Give the statement's parameters their types and values.
 *
 * Every placeholder needs a value in "params" and every value a
 * placeholder.  The types are the ones PostgreSQL infers, as it does for a
 * statement sent with the extended protocol and no types:
 * parse_analyze_varparams() on the raw statement, run under the plugin's
 * role and search path, so that `result = :result` takes the column's type
 * and `LIMIT :limit` bigint; a parameter left unknown is text.
 *
 * A JSON value becomes a datum of that type: null is SQL NULL; a string,
 * number or boolean goes through the type's input function as its text;
 * for json and jsonb any JSON value is taken as it is; for an array type a
 * JSON array of scalars becomes the array (so `id = ANY(:ids)` takes
 * [1, 2, 3]) and a string is read as an array literal.  A value the type
 * refuses is type_mismatch naming the parameter: the input function raises
 * and sql.c, which knows from st->binding which parameter was being
 * converted, names it in the reply.
 *
 *-------------------------------------------------------------------------
 */
#include "sql.h"

#include "catalog/pg_type.h"
#include "parser/analyze.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

/* Check that placeholders and params match one to one */
static bool
PsSqlMatchParams(PsSqlStatement *st, JsonbValue *params, JsonbValue **vals,
				 PsError *err)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbIteratorToken tok;

	for (int i = 0; i < st->nparams; i++)
	{
		vals[i] = params ? getKeyJsonValueFromContainer(
							   params->val.binary.data, st->names[i],
							   strlen(st->names[i]), NULL)
						 : NULL;
		if (vals[i] == NULL)
		{
			PsSetError(err, "invalid_request",
					   "placeholder :%s has no value in \"params\"",
					   st->names[i]);
			return false;
		}
	}
	if (params == NULL)
		return true;
	it = JsonbIteratorInit(params->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		bool used = false;

		if (tok != WJB_KEY)
			continue;
		for (int i = 0; i < st->nparams && !used; i++)
			used =
				strlen(st->names[i]) == (size_t) k.val.string.len &&
				memcmp(st->names[i], k.val.string.val, k.val.string.len) == 0;
		if (!used)
		{
			PsSetError(err, "invalid_request",
					   "parameter \"%.*s\" is not used in the query (no "
					   ":%.*s placeholder)",
					   Min(k.val.string.len, 64), k.val.string.val,
					   Min(k.val.string.len, 64), k.val.string.val);
			return false;
		}
	}
	return true;
}

/*
 * Infer the parameters' types from the statement, as the extended protocol
 * does; unknown is text.  Refuses what analysis turns into a utility
 * statement (SELECT INTO nested where the raw check cannot see it).
 */
static bool
PsSqlInferTypes(PsSqlStatement *st, PsError *err)
{
	Oid *types = palloc0(sizeof(Oid) * Max(st->nparams, 1));
	int n = st->nparams;
	Query *query;

	query = parse_analyze_varparams(st->raw, st->sql, &types, &n, NULL);
	if (query->commandType == CMD_UTILITY)
	{
		PsSetError(err, "invalid_request",
				   "%s is not allowed here: a SQL request runs one SELECT, "
				   "INSERT, UPDATE or DELETE statement (WITH included)",
				   CreateCommandName(query->utilityStmt));
		return false;
	}
	st->types = palloc(sizeof(Oid) * Max(st->nparams, 1));
	for (int i = 0; i < st->nparams; i++)
		st->types[i] = i < n && OidIsValid(types[i]) && types[i] != UNKNOWNOID
						   ? types[i]
						   : TEXTOID;
	return true;
}

/* The JSON text of a value */
static char *
PsSqlJsonText(JsonbValue *v)
{
	Jsonb *jb = JsonbValueToJsonb(v);

	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/* The text of a scalar (string, number, boolean) for an input function */
static char *
PsSqlScalarText(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(
				numeric_out, NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			elog(ERROR, "unexpected JSON scalar type %d", (int) v->type);
	}
	return NULL;
}

/* Read text as a value of type typid with its input function */
static Datum
PsSqlInput(Oid typid, char *text)
{
	Oid infn;
	Oid ioparam;

	getTypeInputInfo(typid, &infn, &ioparam);
	return OidInputFunctionCall(infn, text, ioparam, -1);
}

/* Is base a json or jsonb type, which takes any JSON value? */
static bool
PsSqlIsJsonType(Oid base)
{
	return base == JSONOID || base == JSONBOID;
}

/* Refuse a container where a scalar is needed */
static bool
PsSqlNotScalar(PsSqlStatement *st, int i, const char *what, JsonbValue *v,
			   PsError *err)
{
	PsSetError(err, "type_mismatch",
			   "parameter \"%s\" is %s: %s must be a string, number, "
			   "boolean or null, not %s",
			   st->names[i], format_type_be(st->types[i]), what,
			   PsJsonTypeName(v));
	return false;
}

/* Build an array of type st->types[i] (or its base) from a JSON array */
static bool
PsSqlArrayValue(PsSqlStatement *st, int i, Oid base, Oid elemtype,
				JsonbValue *v, PsError *err)
{
	int n = JsonContainerSize(v->val.binary.data);
	Oid elembase = getBaseType(elemtype);
	Datum *elems = palloc(sizeof(Datum) * Max(n, 1));
	bool *enulls = palloc(sizeof(bool) * Max(n, 1));
	int16 len;
	bool byval;
	char align;
	int dims[1] = {n};
	int lbs[1] = {1};
	Datum arr;

	for (int j = 0; j < n; j++)
	{
		JsonbValue *e =
			getIthJsonbValueFromContainer(v->val.binary.data, (uint32) j);

		enulls[j] = e->type == jbvNull;
		elems[j] = (Datum) 0;
		if (enulls[j])
			continue;
		if (PsSqlIsJsonType(elembase))
			elems[j] = PsSqlInput(elemtype, PsSqlJsonText(e));
		else if (e->type == jbvBinary)
		{
			char what[32];

			snprintf(what, sizeof(what), "element %d", j + 1);
			return PsSqlNotScalar(st, i, what, e, err);
		}
		else
			elems[j] = PsSqlInput(elemtype, PsSqlScalarText(e));
	}
	get_typlenbyvalalign(elemtype, &len, &byval, &align);
	arr = n == 0
			  ? PointerGetDatum(construct_empty_array(elemtype))
			  : PointerGetDatum(construct_md_array(
					elems, enulls, 1, dims, lbs, elemtype, len, byval, align));
	if (base != st->types[i])
		domain_check(arr, false, st->types[i], NULL, NULL);
	st->values[i] = arr;
	return true;
}

/* Turn JSON value v into parameter i's datum */
static bool
PsSqlValue(PsSqlStatement *st, int i, JsonbValue *v, PsError *err)
{
	Oid type = st->types[i];
	Oid base = getBaseType(type);
	Oid elemtype;

	st->nulls[i] = ' ';
	st->values[i] = (Datum) 0;
	if (v->type == jbvNull)
	{
		st->nulls[i] = 'n';
		return true;
	}
	if (PsSqlIsJsonType(base))
	{
		st->values[i] = PsSqlInput(type, PsSqlJsonText(v));
		return true;
	}
	if (v->type != jbvBinary)
	{
		st->values[i] = PsSqlInput(type, PsSqlScalarText(v));
		return true;
	}
	elemtype = get_element_type(base);
	if (OidIsValid(elemtype) && JsonContainerIsArray(v->val.binary.data))
		return PsSqlArrayValue(st, i, base, elemtype, v, err);
	return PsSqlNotScalar(st, i, "its value", v, err);
}

/*
 * Match the placeholders with params, infer their types, and convert the
 * values.  Expected failures set err; a value the type's input function
 * refuses raises, with st->binding telling which parameter it was.
 */
bool
PsSqlBindParams(PsSqlStatement *st, JsonbValue *params, PsError *err)
{
	JsonbValue **vals = palloc(sizeof(JsonbValue *) * Max(st->nparams, 1));

	if (!PsSqlMatchParams(st, params, vals, err) || !PsSqlInferTypes(st, err))
		return false;
	st->values = palloc(sizeof(Datum) * Max(st->nparams, 1));
	st->nulls = palloc(Max(st->nparams, 1));
	for (int i = 0; i < st->nparams; i++)
	{
		st->binding = i + 1;
		if (!PsSqlValue(st, i, vals[i], err))
			return false;
	}
	st->binding = 0;
	return true;
}
