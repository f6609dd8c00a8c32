/*
 * sql_fuzz.c
 *		SQL-driven fuzzer of the extension's request validation and of the
 *		row tier's filter and update compilers, which live inside PostgreSQL
 *		and cannot be linked into a libFuzzer target.
 *
 *	sql_fuzz CORPUS_DIR ITERATIONS [SEED]
 *
 * Connects with libpq (PG* variables) as a member of plugin_storage_bridge,
 * as the bridge does, and sends requests the way the bridge does:
 *
 *	SELECT plugin_storage.plugin_kv($1, $2, $3::jsonb)		(and plugin_row,
 *	plugin_sql, plugin_migrate when the extension has them)
 *
 * First every seed as it is (so the row tables of the docs exist), then
 * ITERATIONS structure-aware mutations of random seeds: values of the wrong
 * type, huge and odd numbers, deep nesting, unknown operators and fields,
 * hostile identifiers, \u0000 escapes, invalid UTF-8 (raw bytes, lone
 * surrogates), long strings, long arrays, other ops and other plugins'
 * names.  Requests over FUZZ_SQL_MAX_BYTES (1 MiB, the bridge's default
 * max_request_bytes) are not sent.  Besides its verdict, every call must
 * leave the session outside any transaction (no subtransaction left open).
 * SQL_FUZZ_TRACE=FILE writes every request sent to FILE, one a line.
 *
 * A call passes when it returns a JSON object (a result, or an error with a
 * known code other than "internal"), or raises an ERROR whose SQLSTATE the
 * bridge maps to a code other than "internal" (bridge/errcode.c: these are
 * the PostgreSQL errors the docs promise, e.g. 22003 for an overflowing
 * $inc, or 22P05 for \u0000 in the jsonb cast).  Anything else is a
 * finding: an "internal" error, an unmapped SQLSTATE, a result that is not
 * a JSON object, or a lost connection (a crashed backend; the driver
 * reconnects and goes on).  Each finding is printed with its request and
 * written to fuzz/artifacts/sql-N.json as {"tier","op","plugin","request"}.
 *
 * Prints "sql_fuzz: N passed, N failed" last (one pass or failure per call).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "errcode.h"

#define SF_MAX_SEEDS 4096
#define SF_MAX_NODES 4096
#define SF_MAX_FINDINGS 50

typedef struct Seed
{
	char tier[16];
	char op[40];
	json_object *request;
} Seed;

typedef struct Node
{
	json_object *parent; /* object or array holding it; NULL for the root */
	char *key;			 /* its key in an object parent */
	size_t index;		 /* its index in an array parent */
} Node;

static Seed seeds[SF_MAX_SEEDS];
static int nseeds;
static uint64_t rng_state;
static PGconn *conn;
static FILE *trace;		 /* SQL_FUZZ_TRACE: every request, one a line */
static size_t max_bytes; /* FUZZ_SQL_MAX_BYTES: larger ones are not sent */
static long skipped;
static bool has_tier[4]; /* kv, row, sql, migrate */
static int passed, failed, findings;
static long counts[8];	   /* ok results, error replies, raised, by kind */
static char states[64][6]; /* SQLSTATEs raised, and how often */
static long state_counts[64];
static int nstates;

static const char *const tier_names[] = {"kv", "row", "sql", "migrate"};
static const char *const tier_calls[] = {
	"SELECT plugin_storage.plugin_kv($1, $2, $3::jsonb)::text",
	"SELECT plugin_storage.plugin_row($1, $2, $3::jsonb)::text",
	/* these tiers take no op: $2 is typed only so that it can be sent */
	"SELECT plugin_storage.plugin_sql($1, $3::jsonb)::text WHERE $2::text "
	"IS NULL OR true",
	"SELECT plugin_storage.plugin_migrate($1, $3::jsonb)::text WHERE "
	"$2::text IS NULL OR true",
};
static const char *const kv_ops[] = {
	"set",	 "get",			"delete", "list",	"incr", "mget",
	"mset",	 "count",		"exists", "expire", "ttl",	"all",
	"clear", "collections", "drop",	  "nosuch", "SET",	"get;",
	"",		 "_ps_kv",		"x\x01",  "set\"",
};
static const char *const row_ops[] = {
	"define", "describe", "tables", "drop_table", "insert",	 "insert_many",
	"upsert", "select",	  "search", "aggregate",  "update",	 "delete",
	"nosuch", "pg_sleep", "",		"Search",	  "update ",
};
static const char *const plugins[] = {
	"quote-db", "quote-db", "quote-db", "quote-db",	   "trivia",
	"other",	"nosuch",	"",			"ps_quote-db", "quote-db'; --",
	"Quote-DB", "a\"b",		"../etc",
};

/* xorshift64*: a reproducible stream from the seed */
static uint64_t
Rand(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static int
RandN(int n)
{
	return (int) (Rand() % (uint64_t) n);
}

static char *
Format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* Read the seeds: files of {"tier": ..., "op": ..., "request": {...}} */
static void
LoadSeeds(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	int n = 0;

	if (d == NULL)
	{
		perror(dir);
		exit(2);
	}
	while ((e = readdir(d)) != NULL)
	{
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, sizeof(char *) * (size_t) (n + 1));
		names[n++] = Format("%s/%s", dir, e->d_name);
	}
	closedir(d);
	/* define requests first, so that the other requests find their tables */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n && nseeds < SF_MAX_SEEDS; i++)
		{
			json_object *root = json_object_from_file(names[i]);
			json_object *t, *o, *r;

			if (root == NULL || !json_object_object_get_ex(root, "tier", &t) ||
				!json_object_object_get_ex(root, "op", &o) ||
				!json_object_object_get_ex(root, "request", &r))
			{
				json_object_put(root);
				continue;
			}
			if ((strcmp(json_object_get_string(o), "define") == 0) ==
				(pass == 0))
			{
				Seed *s = &seeds[nseeds++];

				snprintf(s->tier, sizeof(s->tier), "%s",
						 json_object_get_string(t));
				snprintf(s->op, sizeof(s->op), "%s",
						 json_object_get_string(o));
				s->request = json_object_get(r);
			}
			json_object_put(root);
		}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Seeds for the tiers that run plugin-written SQL, when they exist */
static void
AddSqlSeeds(void)
{
	static const char *const sql[] = {
		"{\"query\": \"SELECT 1 AS one\"}",
		"{\"query\": \"SELECT :a::int + 1 AS b\", \"params\": {\"a\": 41}}",
		"{\"query\": \"SELECT * FROM quotes WHERE author = :who\", "
		"\"params\": {\"who\": \"MST3K\"}, \"max_rows\": 10}",
		"{\"query\": \"INSERT INTO quotes(text) VALUES (:t)\", \"params\": "
		"{\"t\": \"x\"}, \"allow_write\": true}",
		"{\"query\": \"SELECT count(*) FROM quotes\", \"explain\": true}",
		"{\"query\": \"SELECT pg_sleep(0.01)\", \"timeout_ms\": 100}",
	};
	static const char *const migrate[] = {
		"{\"action\": \"status\"}",
		"{\"action\": \"apply\", \"migrations\": [{\"version\": 1, \"up\": "
		"\"CREATE TABLE m1 (a int)\", \"down\": \"DROP TABLE m1\"}]}",
		"{\"action\": \"apply\", \"dry_run\": true, \"migrations\": "
		"[{\"version\": 2, \"up\": \"ALTER TABLE m1 ADD b text\", "
		"\"down\": \"ALTER TABLE m1 DROP b\"}]}",
		"{\"action\": \"rollback\", \"target\": 0}",
	};

	for (size_t i = 0; has_tier[2] && i < sizeof(sql) / sizeof(*sql); i++)
	{
		Seed *s = &seeds[nseeds++];

		strcpy(s->tier, "sql");
		strcpy(s->op, "query");
		s->request = json_tokener_parse(sql[i]);
	}
	for (size_t i = 0; has_tier[3] && i < sizeof(migrate) / sizeof(*migrate);
		 i++)
	{
		Seed *s = &seeds[nseeds++];

		strcpy(s->tier, "migrate");
		s->op[0] = '\0';
		s->request = json_tokener_parse(migrate[i]);
	}
}

/* Collect every node of a tree (pre-order), with its place in its parent */
static void
Collect(json_object *parent, json_object *v, const char *key, size_t index,
		Node *nodes, int *n)
{
	if (*n == SF_MAX_NODES)
		return;
	nodes[*n].parent = parent;
	nodes[*n].key = key ? strdup(key) : NULL;
	nodes[*n].index = index;
	(*n)++;
	if (json_object_is_type(v, json_type_object))
	{
		json_object_object_foreach(v, k, child)
			Collect(v, child, k, 0, nodes, n);
	}
	else if (json_object_is_type(v, json_type_array))
	{
		for (size_t i = 0; i < json_object_array_length(v); i++)
			Collect(v, json_object_array_get_idx(v, i), NULL, i, nodes, n);
	}
}

/* A string of n copies of c */
static json_object *
Repeat(char c, size_t n)
{
	char *buf = malloc(n + 1);
	json_object *v;

	memset(buf, c, n);
	buf[n] = '\0';
	v = json_object_new_string_len(buf, (int) n);
	free(buf);
	return v;
}

/* Nest v inside depth arrays or objects */
static json_object *
Nest(json_object *v, int depth)
{
	bool obj = RandN(2);

	for (int i = 0; i < depth; i++)
	{
		json_object *outer =
			obj ? json_object_new_object() : json_object_new_array();

		if (obj)
			json_object_object_add(outer, RandN(3) ? "a" : "$and", v);
		else
			json_object_array_add(outer, v);
		v = outer;
	}
	return v;
}

/* A hostile identifier or string */
static json_object *
HostileString(void)
{
	static const char *const s[] = {
		"\"; DROP TABLE quotes; --",
		"_ps_kv",
		"_ps_anything",
		"pg_catalog.pg_authid",
		"ps_other._ps_kv",
		"ps_other",
		"a\"b",
		"a'b",
		"a.b",
		"id",
		"created_at",
		"*",
		"",
		" ",
		"$1",
		"%s%s%n",
		"\\",
		"\xc3\xa9t\xc3\xa9",
		"\xf0\x9f\x92\xa5",
		"oid",
		"ctid",
		"xmin",
		"tableoid",
		"public",
		"pg_temp",
		"author",
		"score",
		"text",
		"timestamp",
		"badges",
		"user_id",
		"NaN",
		"Infinity",
		"-Infinity",
		"2025-11-22T10:30:00Z",
		"infinity",
		"0x10",
		"1e999",
		"text[]",
		"integer",
		"serial",
		"bigint primary key",
		"jsonb; select 1",
		"uuid",
		"tsvector",
	};
	int pick = RandN(12);

	if (pick == 0)
		return Repeat('a', (size_t) (1 + RandN(4)) * 64 - (size_t) RandN(2));
	if (pick == 1)
		return Repeat('x', (size_t) 1000 << RandN(7)); /* up to 64 KiB */
	if (pick == 2)
		return json_object_new_string_len("a\0b", 3); /* \u0000 */
	return json_object_new_string(s[RandN(sizeof(s) / sizeof(*s))]);
}

/* A number, written as an odd literal */
static json_object *
HostileNumber(void)
{
	static const char *const lits[] = {
		"0",
		"-0",
		"1",
		"-1",
		"1.5",
		"1e308",
		"-1e308",
		"1e400",
		"1e-400",
		"9223372036854775807",
		"9223372036854775808",
		"-9223372036854775808",
		"-9223372036854775809",
		"2147483647",
		"2147483648",
		"32768",
		"1000",
		"1001",
		"100000000000000000000000000000000000000000000000000",
		"0.1e1",
		"1E+2",
		"3.14159265358979323846264338327950288419716939937510",
		"-1e-7",
		"4294967296",
	};
	const char *lit = lits[RandN(sizeof(lits) / sizeof(*lits))];

	return json_object_new_double_s(0, lit);
}

/* A value to put where another one was */
static json_object *
HostileValue(json_object *old)
{
	switch (RandN(14))
	{
		case 0:
			return NULL; /* JSON null */
		case 1:
			return json_object_new_boolean(RandN(2));
		case 2:
		case 3:
			return HostileNumber();
		case 4:
		case 5:
			return HostileString();
		case 6:
			return json_object_new_array();
		case 7:
			return json_object_new_object();
		case 8:
			return Nest(HostileNumber(), 1 + RandN(RandN(2) ? 8 : 3000));
		case 9:
		{
			/* an unknown or misplaced operator */
			static const char *const ops[] = {
				"$regex",  "$where", "$foo",  "$eq",  "$in",  "$nin",
				"$and",	   "$or",	 "$not",  "$set", "$inc", "$push",
				"$exists", "$null",	 "$like", "$gt",  "$sum", "$count",
				"$",	   "$$",	 "$eq ",
			};
			json_object *o = json_object_new_object();

			json_object_object_add(o, ops[RandN(sizeof(ops) / sizeof(*ops))],
								   RandN(2) ? HostileValue(NULL)
											: json_object_get(old));
			return o;
		}
		case 10:
		{
			/* a long array of copies */
			json_object *a = json_object_new_array();
			int n = RandN(2) ? 1001 : 1 + RandN(20);

			for (int i = 0; i < n; i++)
				json_object_array_add(a, RandN(2) ? json_object_new_int(i)
												  : json_object_get(old));
			return a;
		}
		case 11:
		{
			/* the old value wrapped */
			json_object *a = json_object_new_array();

			json_object_array_add(a, json_object_get(old));
			return a;
		}
		case 12:
			/* a lone surrogate or an escaped control character */
			return json_object_new_string(RandN(2) ? "\xed\xa0\x80"
												   : "\x01\x1f\x7f");
		default:
			return json_object_new_string_len("\xff\xfe\xc0\xaf", 4);
	}
}

/* Keys to add or rename to */
static const char *
HostileKey(void)
{
	static const char *const keys[] = {
		"key",		   "value",		 "ttl",			"table",   "filters",
		"operations",  "data",		 "rows",		"columns", "indexes",
		"primary_key", "sort",		 "limit",		"offset",  "cursor",
		"fields",	   "group_by",	 "aggregates",	"id",	   "ids",
		"all",		   "confirm",	 "on",			"scope",   "collection",
		"prefix",	   "by",		 "items",		"keys",	   "if_absent",
		"if_revision", "value_b64",	 "$and",		"$or",	   "$not",
		"$set",		   "$inc",		 "$dec",		"$mul",	   "$max",
		"$min",		   "$push",		 "$nosuch",		"tll",	   "",
		"_ps_kv",	   "id\"",		 "having",		"query",   "params",
		"action",	   "migrations", "version",		"up",	   "down",
		"target",	   "dry_run",	 "allow_write", "explain", "max_rows",
		"timeout_ms",  "author",	 "score",		"text",	   "badges",
		"user_id",
	};

	return keys[RandN(sizeof(keys) / sizeof(*keys))];
}

/* Replace the node at a place in its parent */
static void
Replace(json_object **root, const Node *node, json_object *v)
{
	if (node->parent == NULL)
	{
		json_object_put(*root);
		*root = v;
	}
	else if (node->key)
		json_object_object_add(node->parent, node->key, v);
	else
		json_object_array_put_idx(node->parent, node->index, v);
}

/* Apply one structure-aware mutation */
static void
Mutate(json_object **root, char *op, size_t oplen, const char *tier)
{
	Node nodes[SF_MAX_NODES];
	int n = 0;
	Node *node;
	json_object *cur;

	if (RandN(12) == 0)
	{
		bool row = strcmp(tier, "row") == 0;
		const char *const *ops = row ? row_ops : kv_ops;
		int nops = row ? (int) (sizeof(row_ops) / sizeof(*row_ops))
					   : (int) (sizeof(kv_ops) / sizeof(*kv_ops));

		snprintf(op, oplen, "%s", ops[RandN(nops)]);
		return;
	}
	Collect(NULL, *root, NULL, 0, nodes, &n);
	node = &nodes[RandN(n)];
	if (node->parent == NULL)
		cur = *root;
	else if (node->key)
		json_object_object_get_ex(node->parent, node->key, &cur);
	else
		cur = json_object_array_get_idx(node->parent, node->index);
	switch (RandN(6))
	{
		case 0:
		case 1:
		case 2:
			/* the value replaced (the root stays an object mostly) */
			if (node->parent != NULL || RandN(8) == 0)
				Replace(root, node, HostileValue(cur));
			break;
		case 3:
			/* a key added to an object */
			if (json_object_is_type(cur, json_type_object))
				json_object_object_add(cur, HostileKey(),
									   RandN(3) ? HostileValue(NULL)
												: json_object_get(cur));
			break;
		case 4:
			/* a key renamed or removed */
			if (node->key)
			{
				json_object *v = json_object_get(cur);

				json_object_object_del(node->parent, node->key);
				if (RandN(3))
					json_object_object_add(node->parent, HostileKey(), v);
				else
					json_object_put(v);
			}
			break;
		default:
			/* a subtree copied over another node */
			if (n > 1)
			{
				Node *from = &nodes[RandN(n)];
				json_object *v;

				if (from->parent == NULL)
					v = *root;
				else if (from->key)
					json_object_object_get_ex(from->parent, from->key, &v);
				else
					v = json_object_array_get_idx(from->parent, from->index);
				if (node->parent != NULL && v != NULL && v != *root)
				{
					json_object *copy = NULL;

					json_object_deep_copy(v, &copy, NULL);
					Replace(root, node, copy);
				}
			}
			break;
	}
	for (int i = 0; i < n; i++)
		free(nodes[i].key);
}

/* Connect (retrying for 60 s: the server may be recovering from a crash) */
static void
Connect(void)
{
	for (int i = 0; i < 600; i++)
	{
		if (conn)
			PQfinish(conn);
		conn = PQconnectdb("");
		if (PQstatus(conn) == CONNECTION_OK)
		{
			PQclear(PQexec(conn, "SET statement_timeout = '10s'; "
								 "SET TIME ZONE 'UTC'"));
			return;
		}
		usleep(100000);
	}
	fprintf(stderr, "sql_fuzz: cannot connect: %s", PQerrorMessage(conn));
	exit(2);
}

/* Which entry points the extension has */
static void
ProbeTiers(void)
{
	static const char *const fn[] = {
		"plugin_storage.plugin_kv(text,text,jsonb)",
		"plugin_storage.plugin_row(text,text,jsonb)",
		"plugin_storage.plugin_sql(text,jsonb)",
		"plugin_storage.plugin_migrate(text,jsonb)",
	};

	for (int i = 0; i < 4; i++)
	{
		const char *p[1] = {fn[i]};
		PGresult *r =
			PQexecParams(conn, "SELECT to_regprocedure($1) IS NOT NULL", 1,
						 NULL, p, NULL, NULL, 0);

		has_tier[i] = PQresultStatus(r) == PGRES_TUPLES_OK &&
					  strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
	}
}

/* Record a finding: print it and keep the request to replay */
static void
Finding(const char *tier, const char *op, const char *plugin,
		const char *request, const char *what, const char *detail)
{
	json_object *f = json_object_new_object();
	char *path;

	failed++;
	if (findings++ >= SF_MAX_FINDINGS)
		return;
	printf("not ok - %s.%s (%s): %s: %.300s\n#   request: %.500s\n", tier, op,
		   plugin, what, detail, request);
	json_object_object_add(f, "tier", json_object_new_string(tier));
	json_object_object_add(f, "op", json_object_new_string(op));
	json_object_object_add(f, "plugin", json_object_new_string(plugin));
	json_object_object_add(f, "request_text", json_object_new_string(request));
	json_object_object_add(f, "finding", json_object_new_string(what));
	json_object_object_add(f, "detail", json_object_new_string(detail));
	path = Format("fuzz/artifacts/sql-%d.json", findings);
	json_object_to_file_ext(path, f, JSON_C_TO_STRING_PRETTY);
	free(path);
	json_object_put(f);
}

/* Send one request and judge the outcome */
static void
Send(const char *tier, const char *op, const char *plugin, const char *text)
{
	int t = 0;
	const char *params[3] = {plugin, op, text};
	PGresult *r;

	while (t < 4 && strcmp(tier_names[t], tier) != 0)
		t++;
	if (t == 4 || !has_tier[t])
		return;
	if (trace)
	{
		fprintf(trace, "%s\t%s\t%s\t%s\n", tier, op, plugin, text);
		fflush(trace);
	}
	r = PQexecParams(conn, tier_calls[t], 3, NULL, params, NULL, NULL, 0);
	if (PQstatus(conn) == CONNECTION_OK &&
		PQtransactionStatus(conn) != PQTRANS_IDLE)
	{
		/* each call is a statement of its own: it must end its transaction */
		char status[64];

		snprintf(status, sizeof(status),
				 "transaction status %d after the call",
				 (int) PQtransactionStatus(conn));
		Finding(tier, op, plugin, text,
				"left the session inside a transaction", status);
		PQclear(r);
		PQclear(PQexec(conn, "ROLLBACK"));
		return;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		Finding(tier, op, plugin, text, "connection lost (backend crashed?)",
				PQerrorMessage(conn));
		PQclear(r);
		Connect();
		return;
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
	{
		/* stored values may nest deeper than json-c's default of 32 */
		struct json_tokener *tok = json_tokener_new_ex(100000);
		json_object *reply = json_tokener_parse_ex(tok, PQgetvalue(r, 0, 0),
												   PQgetlength(r, 0, 0) + 1);
		json_object *err, *code;

		if (reply == NULL || !json_object_is_type(reply, json_type_object))
			Finding(tier, op, plugin, text, "reply is not a JSON object",
					PQgetvalue(r, 0, 0));
		else if (!json_object_object_get_ex(reply, "error", &err))
		{
			counts[0]++;
			passed++;
		}
		else
		{
			ErrCode ec;
			const char *c = json_object_object_get_ex(err, "code", &code)
								? json_object_get_string(code)
								: "";

			if (strcmp(c, "internal") == 0 ||
				(!errcode_parse(c, strlen(c), &ec) &&
				 strcmp(c, "rate_limited") != 0))
				Finding(tier, op, plugin, text, "error reply",
						PQgetvalue(r, 0, 0));
			else
			{
				counts[1]++;
				passed++;
			}
		}
		json_object_put(reply);
		json_tokener_free(tok);
	}
	else
	{
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (errcode_for_sqlstate(state) == EC_INTERNAL)
			Finding(tier, op, plugin, text, "unmapped ERROR",
					PQresultErrorMessage(r));
		else
		{
			int i = 0;

			while (i < nstates && strcmp(states[i], state) != 0)
				i++;
			if (i == nstates && nstates < 64)
				snprintf(states[nstates++], 6, "%s", state);
			if (i < 64)
				state_counts[i]++;
			counts[2]++;
			passed++;
		}
	}
	PQclear(r);
}

/* Serialize a request; some get raw invalid UTF-8 or a cut-off end */
static char *
Serialize(json_object *req)
{
	const char *s =
		req ? json_object_to_json_string_ext(
				  req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
			: "null";
	char *text = strdup(s ? s : "null"); /* NULL: json-c ran out of room */

	if (RandN(50) == 0 && strlen(text) > 2)
		text[RandN((int) strlen(text))] = (char) (0x80 + RandN(0x80));
	return text;
}

int
main(int argc, char **argv)
{
	long iterations;
	time_t start = time(NULL);

	if (argc < 3)
	{
		fprintf(stderr, "usage: sql_fuzz CORPUS_DIR ITERATIONS [SEED]\n");
		return 2;
	}
	iterations = atol(argv[2]);
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : (uint64_t) time(NULL);
	rng_state = rng_state ? rng_state : 1;
	printf("# sql_fuzz: seed %llu, %ld iterations\n",
		   (unsigned long long) rng_state, iterations);
	max_bytes = getenv("FUZZ_SQL_MAX_BYTES")
					? strtoul(getenv("FUZZ_SQL_MAX_BYTES"), NULL, 10)
					: 1048576;
	if (getenv("SQL_FUZZ_TRACE"))
		trace = fopen(getenv("SQL_FUZZ_TRACE"), "w");
	Connect();
	ProbeTiers();
	LoadSeeds(argv[1]);
	AddSqlSeeds();
	printf("# %d seeds; tiers:%s%s%s%s\n", nseeds, has_tier[0] ? " kv" : "",
		   has_tier[1] ? " row" : "", has_tier[2] ? " sql" : "",
		   has_tier[3] ? " migrate" : "");
	if (nseeds == 0)
	{
		printf("sql_fuzz: 0 passed, 1 failed\n");
		return 1;
	}
	for (int i = 0; i < nseeds; i++)
	{
		char *text = Serialize(seeds[i].request);

		Send(seeds[i].tier, seeds[i].op, "quote-db", text);
		free(text);
	}
	for (long i = 0; i < iterations; i++)
	{
		Seed *s = &seeds[RandN(nseeds)];
		json_object *req = NULL;
		char op[40];
		const char *plugin =
			RandN(10) ? "quote-db"
					  : plugins[RandN(sizeof(plugins) / sizeof(*plugins))];
		int n = 1 + RandN(4);
		char *text;

		snprintf(op, sizeof(op), "%s", s->op);
		json_object_deep_copy(s->request, &req, NULL);
		for (int m = 0; m < n; m++)
			Mutate(&req, op, sizeof(op), s->tier);
		text = Serialize(req);
		/* the bridge refuses more than max_request_bytes (1 MiB) */
		if (strlen(text) > max_bytes)
			skipped++;
		else
			Send(s->tier, op, plugin, text);
		free(text);
		json_object_put(req);
		if ((i + 1) % 10000 == 0)
			printf("# %ld requests, %ld s\n", i + 1,
				   (long) (time(NULL) - start));
	}
	printf("# results %ld, error replies %ld, raised %ld, over %zu bytes "
		   "(not sent) %ld, in %ld s\n",
		   counts[0], counts[1], counts[2], max_bytes, skipped,
		   (long) (time(NULL) - start));
	printf("# raised:");
	for (int i = 0; i < nstates; i++)
		printf(" %s x%ld", states[i], state_counts[i]);
	printf("\n");
	printf("sql_fuzz: %d passed, %d failed\n", passed, failed);
	PQfinish(conn);
	return failed ? 1 : 0;
}
