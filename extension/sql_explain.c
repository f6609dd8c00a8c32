/*-------------------------------------------------------------------------
 *
 * sql_explain.c
 *	  Profile the plugin's statement: EXPLAIN (ANALYZE, BUFFERS, FORMAT
 *	  JSON) with the same parameters.
 *
 * ANALYZE runs the statement, so sql.c always rolls the request back
 * (PsSandboxRun with keep = false) and the reply says "rolled_back": true;
 * writes still need allow_write, since they do run (triggers fire,
 * sequences advance).  The statement text is the checked one with EXPLAIN
 * put in front, which parses again as one EXPLAIN of that statement
 * (checked once more here); its parameters are bound as for a plain run.
 * The reply takes the plan tree and the planning and execution times out
 * of EXPLAIN's JSON.
 *
 *-------------------------------------------------------------------------
 */
#include "sql.h"

#include "commands/explain.h"
#include "parser/parser.h"
#include "utils/builtins.h"

#define PS_SQL_EXPLAIN "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "

/* Check that sql parses as one EXPLAIN of a statement of st's kind */
static void
PsSqlCheckExplain(PsSqlStatement *st, const char *sql)
{
	List *stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
	Node *node;

	if (list_length(stmts) != 1)
		elog(ERROR, "EXPLAIN of the plugin's statement is not one statement");
	node = linitial_node(RawStmt, stmts)->stmt;
	if (!IsA(node, ExplainStmt) ||
		nodeTag(((ExplainStmt *) node)->query) != nodeTag(st->raw->stmt))
		elog(ERROR, "EXPLAIN of the plugin's statement is not what was "
					"checked");
}

/* Add member `key` of EXPLAIN's output object `top` to the reply as key_as
 */
static void
PsSqlExplainMember(PsReply *reply, JsonbValue *top, const char *key,
				   const char *key_as)
{
	JsonbValue *v = getKeyJsonValueFromContainer(top->val.binary.data, key,
												 strlen(key), NULL);

	if (v != NULL)
		PsReplyValue(reply, key_as, v);
}

/*
 * Run EXPLAIN ANALYZE of the statement (SPI is connected; the current
 * memory context is the reply's) and add plan, planning_ms, execution_ms,
 * rolled_back and command to reply.
 */
bool
PsSqlRunExplain(PsSqlStatement *st, PsReply *reply, PsError *err)
{
	MemoryContext cxt = CurrentMemoryContext;
	char *sql = psprintf("%s%s", PS_SQL_EXPLAIN, st->sql);
	SPIPlanPtr plan;
	int rc;
	char *text;
	Jsonb *out;
	JsonbValue *top;

	PsSqlCheckExplain(st, sql);
	plan = SPI_prepare(sql, st->nparams, st->types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	rc = SPI_execute_plan(plan, st->values, st->nulls, false, 0);
	if (rc != SPI_OK_UTILITY || SPI_tuptable == NULL || SPI_processed != 1)
		elog(ERROR, "EXPLAIN returned no plan: %s",
			 SPI_result_code_string(rc));
	/* SPI returns in its own context, which SPI_finish frees */
	MemoryContextSwitchTo(cxt);
	text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	out = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
	top = getIthJsonbValueFromContainer(&out->root, 0);
	if (top == NULL || top->type != jbvBinary)
		elog(ERROR, "EXPLAIN's output is not a plan");
	PsSqlExplainMember(reply, top, "Plan", "plan");
	PsSqlExplainMember(reply, top, "Planning Time", "planning_ms");
	PsSqlExplainMember(reply, top, "Execution Time", "execution_ms");
	PsReplyBool(reply, "rolled_back", true);
	PsReplyString(reply, "command", st->command, -1);
	return true;
}
