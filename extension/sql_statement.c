/*-------------------------------------------------------------------------
 *
 * sql_statement.c
 *	  Turn the plugin's :name placeholders into bound parameters, and check
 *	  that the result is exactly one statement the SQL tier runs.
 *
 * Placeholders are found with PostgreSQL's own scanner (the lexer of
 * raw_parser), so string and dollar-quoted literals, quoted identifiers and
 * comments are never looked into: a placeholder is a ':' token followed,
 * with nothing in between, by an unquoted identifier or a keyword (so
 * :limit and :user work).  '::' (a cast) and ':=' are tokens of their own
 * and stay as they are, and so does ':' before anything else (the array
 * slice a[1:2]).  Each distinct name becomes $1, $2, ... in order of first
 * use; its uses all share the number.  Names are matched exactly as
 * written (:userId is "userId").  A positional $n in the query is refused:
 * every value comes from "params", by name.
 *
 * The rewritten text is parsed with raw_parser(); it must hold exactly one
 * SelectStmt (without INTO), InsertStmt, UpdateStmt or DeleteStmt.  WITH
 * arrives as one of these.  Errors PostgreSQL reports in the rewritten text
 * carry a position; PsSqlOriginalPosition maps it back to the query as the
 * plugin wrote it.
 *
 *-------------------------------------------------------------------------
 */
#include "sql.h"

#include "common/keywords.h"
#include "mb/pg_wchar.h"
#include "parser/parser.h"
#include "parser/scanner.h"
/* after scanner.h, which defines the types it uses */
#include "parser/gram.h"
#include "tcop/utility.h"

#define PS_SQL_MAX_PARAMS 1000

/* Can byte c continue an unquoted identifier (scan.l's ident_cont)? */
static bool
PsSqlIdentByte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		   (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

/* Is token code tok one of the grammar's keywords? */
static bool
PsSqlIsKeyword(int tok)
{
	for (int i = 0; i < ScanKeywords.num_keywords; i++)
		if (ScanKeywordTokens[i] == tok)
			return true;
	return false;
}

/* Record placeholder :name (at from, from_len bytes) as $n in out */
static void
PsSqlReplace(PsSqlStatement *st, StringInfo out, int from, int from_len,
			 const char *name)
{
	int n;
	PsSqlEdit *e;

	for (n = 0; n < st->nparams; n++)
		if (strcmp(st->names[n], name) == 0)
			break;
	if (n == st->nparams)
	{
		st->names =
			st->names ? repalloc(st->names, sizeof(char *) * (st->nparams + 1))
					  : palloc(sizeof(char *));
		st->names[st->nparams++] = pstrdup(name);
	}
	st->edits = st->edits
					? repalloc(st->edits, sizeof(PsSqlEdit) * (st->nedits + 1))
					: palloc(sizeof(PsSqlEdit));
	e = &st->edits[st->nedits++];
	e->from = from;
	e->from_len = from_len;
	e->to = out->len;
	/* x:a would become x$1, one identifier: keep them apart */
	if (out->len > 0 && PsSqlIdentByte(out->data[out->len - 1]))
		appendStringInfoChar(out, ' ');
	appendStringInfo(out, "$%d", n + 1);
	e->to_len = out->len - e->to;
}

/*
 * Find the placeholders of st->query and write st->sql with $n in their
 * place.  Scanner errors (an unterminated literal) are raised.
 */
bool
PsSqlRewrite(PsSqlStatement *st, PsError *err)
{
	const char *q = st->query;
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE loc;
	StringInfoData out;
	int copied = 0;
	int prev_tok = 0;
	int prev_loc = -1;
	int tok;

	initStringInfo(&out);
	scanner = scanner_init(q, &yyextra, &ScanKeywords, ScanKeywordTokens);
	while ((tok = core_yylex(&yylval, &loc, scanner)) != 0)
	{
		if (tok == PARAM)
		{
			PsSetError(err, "invalid_request",
					   "positional parameter $%d is not allowed: write a "
					   ":name placeholder and give its value in \"params\"",
					   yylval.ival);
			err->position = pg_mbstrlen_with_len(q, loc) + 1;
			scanner_finish(scanner);
			return false;
		}
		if (prev_tok == ':' && loc == prev_loc + 1 &&
			((tok == IDENT && q[loc] != '"') || PsSqlIsKeyword(tok)))
		{
			int len = 0;
			char *name;

			while (PsSqlIdentByte(q[loc + len]))
				len++;
			name = pnstrdup(q + loc, len);
			if (len >= NAMEDATALEN)
			{
				PsSetError(err, "invalid_request",
						   "placeholder :%s is too long: names have at most "
						   "%d bytes",
						   name, NAMEDATALEN - 1);
				scanner_finish(scanner);
				return false;
			}
			appendBinaryStringInfo(&out, q + copied, prev_loc - copied);
			PsSqlReplace(st, &out, prev_loc, len + 1, name);
			copied = loc + len;
			if (st->nparams > PS_SQL_MAX_PARAMS)
			{
				PsSetError(err, "invalid_request",
						   "the query has more than %d placeholders",
						   PS_SQL_MAX_PARAMS);
				scanner_finish(scanner);
				return false;
			}
			prev_tok = 0;
			continue;
		}
		prev_tok = tok;
		prev_loc = loc;
	}
	scanner_finish(scanner);
	appendStringInfoString(&out, q + copied);
	st->sql = out.data;
	return true;
}

/* Refuse statement `node` (of kind `kind`): the tier runs one
 * SELECT/INSERT/UPDATE/DELETE */
static bool
PsSqlRefuse(Node *node, const char *kind, PsError *err)
{
	PsSetError(err, "invalid_request",
			   "%s is not allowed here: a SQL request runs one SELECT, "
			   "INSERT, UPDATE or DELETE statement (WITH included)",
			   kind);
	if (IsA(node, ExplainStmt))
		err->hint = pstrdup("Send \"explain\": true for the plan.");
	else if (IsA(node, MergeStmt))
		err->hint = pstrdup("Use INSERT .. ON CONFLICT, UPDATE or DELETE.");
	else if (GetCommandLogLevel(node) == LOGSTMT_DDL)
		err->hint = pstrdup("Create and change tables in migrations "
							"(db.migrate.<plugin>).");
	return false;
}

/*
 * Parse st->sql: exactly one statement, of a kind the tier runs.  Sets
 * st->raw, st->command and st->is_select.  Syntax errors are raised.
 */
bool
PsSqlCheckStatement(PsSqlStatement *st, PsError *err)
{
	List *stmts = raw_parser(st->sql, RAW_PARSE_DEFAULT);
	Node *node;

	if (stmts == NIL)
	{
		PsSetError(err, "invalid_request",
				   "the query is empty: send one SELECT, INSERT, UPDATE or "
				   "DELETE statement");
		return false;
	}
	if (list_length(stmts) > 1)
	{
		StringInfoData kinds;
		ListCell *lc;

		initStringInfo(&kinds);
		foreach (lc, stmts)
			appendStringInfo(
				&kinds, "%s%s", kinds.len > 0 ? ", " : "",
				CreateCommandName(lfirst_node(RawStmt, lc)->stmt));
		PsSetError(err, "invalid_request",
				   "the query holds %d statements (%s): send exactly one",
				   list_length(stmts), kinds.data);
		return false;
	}
	st->raw = linitial_node(RawStmt, stmts);
	node = st->raw->stmt;
	switch (nodeTag(node))
	{
		case T_SelectStmt:
			if (((SelectStmt *) node)->intoClause != NULL)
				return PsSqlRefuse(node, "SELECT INTO", err);
			st->is_select = true;
			break;
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
			break;
		default:
			return PsSqlRefuse(node, CreateCommandName(node), err);
	}
	st->command = CreateCommandName(node);
	return true;
}

/*
 * Map a 1-based character position in st->sql (as PostgreSQL reports it)
 * to the same place in the query the plugin wrote.
 */
int
PsSqlOriginalPosition(const PsSqlStatement *st, int position)
{
	const char *s = st->sql;
	int off = 0;
	int from;

	for (int c = 1; c < position && s[off] != '\0'; c++)
		off += pg_mblen(s + off);
	from = off;
	for (int i = st->nedits - 1; i >= 0; i--)
	{
		const PsSqlEdit *e = &st->edits[i];

		if (e->to > off)
			continue;
		if (off < e->to + e->to_len)
			from = e->from;
		else
			from = e->from + e->from_len + (off - (e->to + e->to_len));
		break;
	}
	return pg_mbstrlen_with_len(st->query, from) + 1;
}
