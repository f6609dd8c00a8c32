/*-------------------------------------------------------------------------
 *
 * migrate_request.c
 *	  Read and check a migration request, and order versions.
 *
 * A request is a JSON object with an "action" (apply, rollback, status)
 * and the fields that action takes; an unknown field, or one the action
 * does not take, is refused with invalid_request naming it.  Optional
 * fields set to null count as absent, except rollback's "target", where
 * null means "everything".
 *
 * Versions are text: 1 to 128 bytes of 0-9, a-z, A-Z, _, . and -,
 * starting with a digit (a JSON integer n counts as the text of n).  They
 * are ordered by their leading digits read as a number (so "2_b" comes
 * before "10_a"), then bytewise as whole strings (so "001_a" comes before
 * "1_a", and "1" before "1_a").  The migrations of a request are sorted
 * in that order; a version given twice is refused.
 *
 *-------------------------------------------------------------------------
 */
#include "migrate.h"

#include "port/pg_bitutils.h"
#include "utils/builtins.h"

/* Request fields, by bit */
typedef enum PsMigrateField
{
	PS_MF_ACTION,
	PS_MF_MIGRATIONS,
	PS_MF_DRY_RUN,
	PS_MF_TARGET,
	PS_MF_LOCK_TIMEOUT_MS,
	PS_MF_APPLIED_BY,
	PS_MF_NFIELDS
} PsMigrateField;

#define MF(f) (1u << PS_MF_##f)

/* Field names, indexed by PsMigrateField */
static const char *const ps_migrate_fields[PS_MF_NFIELDS] = {
	[PS_MF_ACTION] = "action",
	[PS_MF_MIGRATIONS] = "migrations",
	[PS_MF_DRY_RUN] = "dry_run",
	[PS_MF_TARGET] = "target",
	[PS_MF_LOCK_TIMEOUT_MS] = "lock_timeout_ms",
	[PS_MF_APPLIED_BY] = "applied_by",
};

/* An action's name and the fields it allows and requires */
typedef struct PsMigrateActionSpec
{
	const char *name;		/* as on the wire */
	PsMigrateAction action; /* the action */
	uint32 allowed;			/* MF() of the fields it accepts */
	uint32 required;		/* and of those it needs */
} PsMigrateActionSpec;

static const PsMigrateActionSpec ps_migrate_actions[] = {
	{"apply", PS_MIGRATE_APPLY,
	 MF(ACTION) | MF(MIGRATIONS) | MF(DRY_RUN) | MF(TARGET) |
		 MF(LOCK_TIMEOUT_MS) | MF(APPLIED_BY),
	 MF(MIGRATIONS)},
	{"rollback", PS_MIGRATE_ROLLBACK,
	 MF(ACTION) | MF(DRY_RUN) | MF(TARGET) | MF(LOCK_TIMEOUT_MS) |
		 MF(APPLIED_BY),
	 MF(TARGET)},
	{"status", PS_MIGRATE_STATUS, MF(ACTION) | MF(MIGRATIONS), 0},
};

/* The length of the run of digits at s */
static size_t
PsDigits(const char *s)
{
	return strspn(s, "0123456789");
}

/*
 * Order two versions: leading digits as numbers (of any length), then the
 * whole strings bytewise.
 */
int
PsVersionCmp(const char *a, const char *b)
{
	const char *da = a;
	const char *db = b;
	size_t na;
	size_t nb;
	int c;

	while (da[0] == '0' && da[1] >= '0' && da[1] <= '9')
		da++;
	while (db[0] == '0' && db[1] >= '0' && db[1] <= '9')
		db++;
	na = PsDigits(da);
	nb = PsDigits(db);
	if (na != nb)
		return na < nb ? -1 : 1;
	c = memcmp(da, db, na);
	if (c != 0)
		return c < 0 ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/* The name part of a version ("create_quotes" of "001_create_quotes") */
char *
PsVersionName(const char *version)
{
	const char *s = version + PsDigits(version);

	if (*s == '_' || *s == '-' || *s == '.')
		s++;
	return *s ? pstrdup(s) : NULL;
}

/* Check a version's text: digit first, then 0-9 a-z A-Z _ . - */
static bool
PsCheckVersion(const char *s, int len, const char *where, PsError *err)
{
	bool ok =
		len >= 1 && len <= PS_MAX_VERSION_LEN && s[0] >= '0' && s[0] <= '9';

	for (int i = 1; ok && i < len; i++)
	{
		char c = s[i];

		ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			 (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '-';
	}
	if (!ok)
		PsSetError(err, "invalid_request",
				   "invalid version \"%.*s\" in field \"%s\": use 1 to %d of "
				   "0-9, a-z, A-Z, _, . and -, starting with a digit",
				   Min(len, 64), s, where, PS_MAX_VERSION_LEN);
	return ok;
}

/* Read a version: a string, or a non-negative integer taken as its text */
static bool
PsReadVersion(const JsonbValue *v, const char *where, char **out, PsError *err)
{
	if (v->type == jbvNumeric)
	{
		int64 n;

		if (!PsJsonInt(v, where, 0, PG_INT64_MAX, &n, err))
			return false;
		*out = psprintf(INT64_FORMAT, n);
		return true;
	}
	if (v->type != jbvString)
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" must be a string or a non-negative integer, "
				   "not %s",
				   where, PsJsonTypeName(v));
		return false;
	}
	if (!PsCheckVersion(v->val.string.val, v->val.string.len, where, err))
		return false;
	*out = pnstrdup(v->val.string.val, v->val.string.len);
	return true;
}

/* Read a script: a string (any text, even without a statement) */
static bool
PsReadScript(const JsonbValue *v, const char *where, char **out, PsError *err)
{
	if (v->type != jbvString)
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" must be a string, not %s", where,
				   PsJsonTypeName(v));
		return false;
	}
	*out = pnstrdup(v->val.string.val, v->val.string.len);
	return true;
}

/* Read migrations[i]: {"version", "up", "down"?} */
static bool
PsReadMigration(const JsonbValue *v, int i, PsMigration *m, PsError *err)
{
	JsonbIterator *it;
	JsonbValue k;
	JsonbValue val;
	JsonbIteratorToken tok;
	char *where;

	memset(m, 0, sizeof(*m));
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
	{
		PsSetError(err, "invalid_request",
				   "migrations[%d] must be an object, not %s", i,
				   PsJsonTypeName(v));
		return false;
	}
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		where = psprintf("migrations[%d].%.*s", i, Min(k.val.string.len, 64),
						 k.val.string.val);
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);
		if (k.val.string.len == 7 &&
			memcmp(k.val.string.val, "version", 7) == 0)
		{
			if (!PsReadVersion(&val, where, &m->version, err))
				return false;
		}
		else if (k.val.string.len == 2 &&
				 memcmp(k.val.string.val, "up", 2) == 0)
		{
			if (!PsReadScript(&val, where, &m->up, err))
				return false;
		}
		else if (k.val.string.len == 4 &&
				 memcmp(k.val.string.val, "down", 4) == 0)
		{
			if (val.type != jbvNull &&
				!PsReadScript(&val, where, &m->down, err))
				return false;
		}
		else
		{
			PsSetError(err, "invalid_request",
					   "unknown field \"%.*s\" in migrations[%d]: a migration "
					   "has \"version\", \"up\" and \"down\"",
					   Min(k.val.string.len, 64), k.val.string.val, i);
			return false;
		}
	}
	if (m->version == NULL || m->up == NULL)
	{
		PsSetError(err, "invalid_request", "migrations[%d] needs field \"%s\"",
				   i, m->version == NULL ? "version" : "up");
		return false;
	}
	PsScriptChecksum(m->up, m->checksum);
	return true;
}

/* qsort comparator: migrations by version */
static int
PsMigrationCmp(const void *a, const void *b)
{
	return PsVersionCmp(((const PsMigration *) a)->version,
						((const PsMigration *) b)->version);
}

/* Read the migrations array, sort it, refuse duplicate versions */
static bool
PsReadMigrations(const JsonbValue *v, PsMigrateRequest *req, PsError *err)
{
	int n;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
	{
		PsSetError(err, "invalid_request",
				   "field \"migrations\" must be an array, not %s",
				   PsJsonTypeName(v));
		return false;
	}
	n = JsonContainerSize(v->val.binary.data);
	req->migrations = palloc0(sizeof(PsMigration) * Max(n, 1));
	req->nmigrations = n;
	req->has_migrations = true;
	for (int i = 0; i < n; i++)
		if (!PsReadMigration(
				getIthJsonbValueFromContainer(v->val.binary.data, i), i,
				&req->migrations[i], err))
			return false;
	qsort(req->migrations, n, sizeof(PsMigration), PsMigrationCmp);
	for (int i = 1; i < n; i++)
		if (strcmp(req->migrations[i].version,
				   req->migrations[i - 1].version) == 0)
		{
			PsSetError(err, "invalid_request",
					   "version \"%s\" appears twice in migrations",
					   req->migrations[i].version);
			return false;
		}
	return true;
}

/* Read applied_by: 1 to 64 bytes, no control characters */
static bool
PsReadAppliedBy(const JsonbValue *v, char **out, PsError *err)
{
	bool ok;

	if (v->type != jbvString)
	{
		PsSetError(err, "invalid_request",
				   "field \"applied_by\" must be a string, not %s",
				   PsJsonTypeName(v));
		return false;
	}
	ok = v->val.string.len >= 1 && v->val.string.len <= PS_MAX_APPLIED_BY_LEN;
	for (int i = 0; ok && i < v->val.string.len; i++)
	{
		unsigned char c = (unsigned char) v->val.string.val[i];

		ok = c >= 0x20 && c != 0x7f;
	}
	if (!ok)
	{
		PsSetError(err, "invalid_request",
				   "field \"applied_by\" must be 1 to %d bytes of printable "
				   "text",
				   PS_MAX_APPLIED_BY_LEN);
		return false;
	}
	*out = pnstrdup(v->val.string.val, v->val.string.len);
	return true;
}

/* Find an action by its wire name */
static const PsMigrateActionSpec *
PsFindAction(const JsonbValue *v, PsError *err)
{
	if (v == NULL || v->type != jbvString)
	{
		PsSetError(err, "invalid_request",
				   "field \"action\" must be \"apply\", \"rollback\" or "
				   "\"status\"");
		return NULL;
	}
	for (int i = 0; i < (int) lengthof(ps_migrate_actions); i++)
		if ((int) strlen(ps_migrate_actions[i].name) == v->val.string.len &&
			memcmp(ps_migrate_actions[i].name, v->val.string.val,
				   v->val.string.len) == 0)
			return &ps_migrate_actions[i];
	PsSetError(err, "invalid_request",
			   "unknown action \"%.*s\": use \"apply\", \"rollback\" or "
			   "\"status\"",
			   Min(v->val.string.len, 64), v->val.string.val);
	return NULL;
}

/* Read the options: dry_run, target, lock_timeout_ms, applied_by */
static bool
PsReadOptions(JsonbValue **field, PsMigrateRequest *req, PsError *err)
{
	int64 ms;

	if (field[PS_MF_DRY_RUN] != NULL)
	{
		if (field[PS_MF_DRY_RUN]->type != jbvBool)
		{
			PsSetError(err, "invalid_request",
					   "field \"dry_run\" must be a boolean, not %s",
					   PsJsonTypeName(field[PS_MF_DRY_RUN]));
			return false;
		}
		req->dry_run = field[PS_MF_DRY_RUN]->val.boolean;
	}
	if (field[PS_MF_TARGET] != NULL &&
		!PsReadVersion(field[PS_MF_TARGET], "target", &req->target, err))
		return false;
	req->lock_timeout_ms = ps_migrate_lock_timeout_ms;
	if (field[PS_MF_LOCK_TIMEOUT_MS] != NULL)
	{
		if (!PsJsonInt(field[PS_MF_LOCK_TIMEOUT_MS], "lock_timeout_ms", 0,
					   3600 * 1000, &ms, err))
			return false;
		req->lock_timeout_ms = (int) ms;
	}
	if (field[PS_MF_APPLIED_BY] != NULL &&
		!PsReadAppliedBy(field[PS_MF_APPLIED_BY], &req->applied_by, err))
		return false;
	return true;
}

/* Read and check a whole request */
bool
PsMigrateParseRequest(Jsonb *request, PsMigrateRequest *req, PsError *err)
{
	JsonbValue *field[PS_MF_NFIELDS] = {0};
	uint32 present = 0;
	uint32 nonnull = 0;
	const PsMigrateActionSpec *spec;
	uint32 extra;
	uint32 missing;

	memset(req, 0, sizeof(*req));
	if (!PsJsonReadFields(request, ps_migrate_fields, PS_MF_NFIELDS, field,
						  &present, "the request must be a JSON object", "",
						  err))
		return false;
	if ((spec = PsFindAction(field[PS_MF_ACTION], err)) == NULL)
		return false;
	req->action = spec->action;
	extra = present & ~spec->allowed;
	if (extra != 0)
	{
		PsSetError(err, "invalid_request",
				   "field \"%s\" is not taken by action \"%s\"",
				   ps_migrate_fields[pg_rightmost_one_pos32(extra)],
				   spec->name);
		return false;
	}
	/* Required fields are not null, except rollback's target ("all") */
	for (int f = 0; f < PS_MF_NFIELDS; f++)
		if (field[f] != NULL)
			nonnull |= 1u << f;
	missing = spec->required & ~(nonnull | (present & MF(TARGET)));
	if (missing != 0)
	{
		PsSetError(err, "invalid_request", "action \"%s\" needs field \"%s\"",
				   spec->name,
				   ps_migrate_fields[pg_rightmost_one_pos32(missing)]);
		return false;
	}
	if (field[PS_MF_MIGRATIONS] != NULL &&
		!PsReadMigrations(field[PS_MF_MIGRATIONS], req, err))
		return false;
	return PsReadOptions(field, req, err);
}
