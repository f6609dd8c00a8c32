/*-------------------------------------------------------------------------
 *
 * migrate_script.c
 *	  Split migration scripts into statements with PostgreSQL's parser.
 *
 * Every script of a request is parsed with raw_parser() before anything
 * runs, so that a syntax error anywhere is reported (with its version) and
 * nothing is applied.  Each RawStmt's stmt_location and stmt_len cut its
 * text out of the script; blanks and comments before it are trimmed, so
 * that the statement reported in errors and warnings starts at its first
 * word and an error position counts from there.  The parse trees tell
 *	- the transaction control statements (BEGIN, COMMIT, SAVEPOINT, ...)
 *	  and CONCURRENTLY forms that cannot run inside the one transaction of
 *	  a request: refused up front with invalid_request;
 *	- the destructive statements, reported as warnings: drop_table,
 *	  drop_column, truncate, drop_schema, drop_sequence, and drop_cascade
 *	  for any other DROP .. CASCADE.
 *
 * A syntax error comes with a position in the whole script.  To report it
 * like the others, the statement it belongs to is found by scanning the
 * script up to the error with PostgreSQL's own scanner (core_yylex) for
 * the last semicolon outside parentheses; it ends at the next semicolon.
 * (Semicolons inside BEGIN ATOMIC bodies count as ends here, which then
 * reports the inner statement: good enough for an error message.)
 *
 * raw_parser() and the scanner raise their errors, so both run inside
 * PsSandboxRun's subtransaction, which catches and reports them.
 *
 *-------------------------------------------------------------------------
 */
#include "migrate.h"

#include "common/cryptohash.h"
#include "common/keywords.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/builtins.h"

/* What the parse step works on and where it is */
typedef struct PsParseState
{
	PsScript *scripts; /* the scripts, split here */
	int n;			   /* their number */
	int cur;		   /* the script being parsed */
	List *warnings;	   /* PsMigrateWarning *, found so far */
} PsParseState;

/* Locating a syntax error: input and output */
typedef struct PsLocateState
{
	const char *text; /* the script */
	int errbyte;	  /* byte offset of the error */
	int start;		  /* out: where its statement starts */
} PsLocateState;

/* Write the sha256 of text, in hex, to out (65 bytes) */
void
PsScriptChecksum(const char *text, char *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8 digest[PG_SHA256_DIGEST_LENGTH];

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) text, strlen(text)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a sha256 checksum: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, sizeof(digest), out);
	out[PG_SHA256_DIGEST_STRING_LENGTH - 1] = '\0';
}

/* Is c blank to PostgreSQL's scanner? */
static bool
PsIsBlank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Skip blanks and (nested) comments from s, up to end */
static const char *
PsSkipBlanks(const char *s, const char *end)
{
	while (s < end)
	{
		if (PsIsBlank(*s))
			s++;
		else if (s + 1 < end && s[0] == '-' && s[1] == '-')
		{
			while (s < end && *s != '\n')
				s++;
		}
		else if (s + 1 < end && s[0] == '/' && s[1] == '*')
		{
			int depth = 1;

			for (s += 2; s < end && depth > 0;)
			{
				if (s + 1 < end && s[0] == '/' && s[1] == '*')
					depth++, s += 2;
				else if (s + 1 < end && s[0] == '*' && s[1] == '/')
					depth--, s += 2;
				else
					s++;
			}
		}
		else
			break;
	}
	return s;
}

/* The text from start to end, without leading comments or outer blanks */
static char *
PsTrimmed(const char *start, const char *end)
{
	start = PsSkipBlanks(start, end);
	while (end > start && PsIsBlank(end[-1]))
		end--;
	return pnstrdup(start, end - start);
}

/* Add a warning of kind for a statement */
static void
PsWarn(PsParseState *st, const char *stmt, const char *kind)
{
	PsMigrateWarning *w = palloc(sizeof(PsMigrateWarning));

	w->version = st->scripts[st->cur].version;
	w->statement = stmt;
	w->kind = kind;
	st->warnings = lappend(st->warnings, w);
}

/* Warn about a DROP: which objects, and CASCADE */
static void
PsWarnDrop(PsParseState *st, DropStmt *drop, const char *text)
{
	switch (drop->removeType)
	{
		case OBJECT_TABLE:
			PsWarn(st, text, "drop_table");
			return;
		case OBJECT_SCHEMA:
			PsWarn(st, text, "drop_schema");
			return;
		case OBJECT_SEQUENCE:
			PsWarn(st, text, "drop_sequence");
			return;
		default:
			if (drop->behavior == DROP_CASCADE)
				PsWarn(st, text, "drop_cascade");
			return;
	}
}

/* Warn about the destructive statements: DROP, DROP COLUMN, TRUNCATE */
static void
PsWarnDestructive(PsParseState *st, Node *stmt, const char *text)
{
	ListCell *lc;

	switch (nodeTag(stmt))
	{
		case T_DropStmt:
			PsWarnDrop(st, (DropStmt *) stmt, text);
			break;
		case T_TruncateStmt:
			PsWarn(st, text, "truncate");
			break;
		case T_AlterTableStmt:
			foreach (lc, ((AlterTableStmt *) stmt)->cmds)
				if (lfirst_node(AlterTableCmd, lc)->subtype == AT_DropColumn)
				{
					PsWarn(st, text, "drop_column");
					break;
				}
			break;
		default:
			break;
	}
}

/*
 * Refuse what cannot run in the request's one transaction: transaction
 * control, and CREATE INDEX / DROP .. CONCURRENTLY.
 */
static bool
PsCheckTransactional(Node *stmt, PsError *err)
{
	if (IsA(stmt, TransactionStmt))
	{
		PsSetError(err, "invalid_request",
				   "transaction control is not allowed in a migration");
		err->hint = pstrdup("All the migrations of a request already run in "
							"one transaction: remove BEGIN, COMMIT, "
							"ROLLBACK and SAVEPOINT from the script.");
		return false;
	}
	if ((IsA(stmt, IndexStmt) && ((IndexStmt *) stmt)->concurrent) ||
		(IsA(stmt, DropStmt) && ((DropStmt *) stmt)->concurrent))
	{
		PsSetError(err, "invalid_request",
				   "CONCURRENTLY is not allowed in a migration");
		err->hint = pstrdup("Migrations run inside a transaction; leave out "
							"CONCURRENTLY.");
		return false;
	}
	return true;
}

/* Split one script into statements, checking and warning as we go */
static bool
PsScriptSplit(PsParseState *st, PsError *err)
{
	PsScript *s = &st->scripts[st->cur];
	List *raw = raw_parser(s->text, RAW_PARSE_DEFAULT);
	int textlen = strlen(s->text);
	ListCell *lc;

	s->stmts = palloc(sizeof(char *) * Max(list_length(raw), 1));
	s->nstmts = 0;
	foreach (lc, raw)
	{
		RawStmt *rs = lfirst_node(RawStmt, lc);
		int len =
			rs->stmt_len > 0 ? rs->stmt_len : textlen - rs->stmt_location;
		const char *start = s->text + rs->stmt_location;
		char *text = PsTrimmed(start, start + len);

		if (!PsCheckTransactional(rs->stmt, err))
		{
			err->statement = text;
			return false;
		}
		PsWarnDestructive(st, rs->stmt, text);
		s->stmts[s->nstmts++] = text;
	}
	return true;
}

/* PsSandboxRun callback: split every script */
static bool
PsParseAll(void *arg, PsError *err)
{
	PsParseState *st = arg;

	for (st->cur = 0; st->cur < st->n; st->cur++)
		if (!PsScriptSplit(st, err))
			return false;
	return true;
}

/* PsSandboxRun callback: find where the erroneous statement starts */
static bool
PsLocateStart(void *arg, PsError *err)
{
	PsLocateState *l = arg;
	char *prefix = pnstrdup(l->text, l->errbyte);
	core_yy_extra_type extra;
	core_YYSTYPE lval;
	YYLTYPE lloc;
	core_yyscan_t scanner;
	int depth = 0;
	int tok;

	scanner = scanner_init(prefix, &extra, &ScanKeywords, ScanKeywordTokens);
	l->start = 0;
	while ((tok = core_yylex(&lval, &lloc, scanner)) != 0)
	{
		if (tok == '(')
			depth++;
		else if (tok == ')' && depth > 0)
			depth--;
		else if (tok == ';' && depth == 0)
			l->start = lloc + 1;
	}
	scanner_finish(scanner);
	return true;
}

/*
 * Turn a syntax error's position in the whole script into its statement
 * and a position in that statement.  Left as it is if that fails.
 */
static void
PsLocateSyntaxError(const char *text, PsError *err)
{
	PsSandboxOpts opts = {false, 0, false};
	PsLocateState l;
	PsError lerr = {0};
	int textlen = strlen(text);
	const char *start;
	const char *end;
	int b = 0;

	for (int c = 1; c < err->position && b < textlen; c++)
		b += pg_mblen(text + b);
	l.text = text;
	l.errbyte = Min(b, textlen);
	if (!PsSandboxRun(PsLocateStart, &l, &opts, &lerr))
		return;
	start = PsSkipBlanks(text + l.start, text + l.errbyte);
	end = strchr(text + l.errbyte, ';');
	if (end == NULL)
		end = text + textlen;
	err->statement = PsTrimmed(start, end);
	err->position -= pg_mbstrlen_with_len(text, start - text);
}

/*
 * Split every script into statements, before anything runs.  Adds the
 * destructive statements to *warnings.  On failure err names the version,
 * the statement and (for syntax errors) the position in it.
 */
bool
PsScriptsParse(PsScript *scripts, int n, List **warnings, PsError *err)
{
	PsSandboxOpts opts = {false, 0, false};
	PsParseState st;

	st.scripts = scripts;
	st.n = n;
	st.cur = 0;
	st.warnings = *warnings;
	if (PsSandboxRun(PsParseAll, &st, &opts, err))
	{
		*warnings = st.warnings;
		return true;
	}
	err->version = pstrdup(scripts[st.cur].version);
	if (err->statement == NULL && err->position > 0)
		PsLocateSyntaxError(scripts[st.cur].text, err);
	return false;
}
