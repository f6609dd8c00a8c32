/*
 * migrate_report.c
 *		Print the bridge's reply to a migrate request for a person.
 *
 * `plugin-storage-bridge migrate` prints the reply as it came with --json;
 * otherwise one of these summaries: what was applied (or would be, for a
 * dry run), skipped, left for after --target and warned about, and the
 * current version; what was
 * rolled back; the applied versions with their checksums, and, when a
 * directory was given, the versions in it not applied yet; or the error,
 * with the version and statement it concerns and a caret under the
 * position PostgreSQL reported.  Fields the reply lacks are left out, so
 * a reply with more fields than these still prints.
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "migrate_report.h"

#define REPORT_STATEMENT_MAX 2000

/* A string member of obj, or NULL */
static const char *
RepStr(json_object *obj, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(obj, key, &v) &&
		json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* An integer member of obj into *out; false if absent */
static bool
RepInt(json_object *obj, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
		!json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* A number member of obj (integer or not) into *out; false if absent */
static bool
RepNum(json_object *obj, const char *key, double *out)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
		!(json_object_is_type(v, json_type_int) ||
		  json_object_is_type(v, json_type_double)))
		return false;
	*out = json_object_get_double(v);
	return true;
}

/* Print " <ms> ms" for a duration_ms member, if there is one */
static void
RepMs(FILE *out, json_object *obj)
{
	double ms;

	if (RepNum(obj, "duration_ms", &ms))
		fprintf(out, "  %.*f ms", ms < 10 ? 1 : 0, ms);
}

/* A boolean member of obj, false if absent */
static bool
RepBool(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) &&
		   json_object_is_type(v, json_type_boolean) &&
		   json_object_get_boolean(v);
}

/* An array member of obj, or NULL */
static json_object *
RepArray(json_object *obj, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(obj, key, &v) &&
		json_object_is_type(v, json_type_array))
		return v;
	return NULL;
}

/* The length of an array member, 0 if absent */
static size_t
RepLen(json_object *obj, const char *key)
{
	json_object *a = RepArray(obj, key);

	return a ? json_object_array_length(a) : 0;
}

/* The version an item names: the item itself if a string, else its field */
static const char *
RepVersion(json_object *item)
{
	const char *v;

	if (json_object_is_type(item, json_type_string))
		return json_object_get_string(item);
	v = RepStr(item, "version");
	return v ? v : "?";
}

/* "current version: V" or "no version applied" */
static void
RepCurrent(FILE *out, json_object *reply)
{
	const char *cur = RepStr(reply, "current");

	if (cur)
		fprintf(out, "current version: %s\n", cur);
	else
		fprintf(out, "current version: none (no migration applied)\n");
}

/* The widest version among an array's items, at least min */
static int
RepWidth(json_object *arr, int min)
{
	int w = min;

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
	{
		int len = (int) strlen(RepVersion(json_object_array_get_idx(arr, i)));

		if (len > w)
			w = len;
	}
	return w;
}

/* Print the first line of a statement, cut to fit one line */
static void
RepFirstLine(FILE *out, const char *statement)
{
	size_t n = strcspn(statement, "\n");

	if (n > 100)
		fprintf(out, "%.100s...", statement);
	else
		fprintf(out, "%.*s%s", (int) n, statement, statement[n] ? " ..." : "");
}

/* Print the warnings of a reply: destructive statements, by version */
static void
RepWarnings(FILE *out, json_object *reply)
{
	json_object *warnings = RepArray(reply, "warnings");

	for (size_t i = 0; warnings && i < json_object_array_length(warnings); i++)
	{
		json_object *wn = json_object_array_get_idx(warnings, i);
		const char *kind = RepStr(wn, "kind");
		const char *stmt = RepStr(wn, "statement");

		fprintf(out, "warning: %s: %s", RepVersion(wn),
				kind ? kind : "destructive statement");
		if (stmt)
		{
			fprintf(out, ": ");
			RepFirstLine(out, stmt);
		}
		fprintf(out, "\n");
	}
}

/* Print a summary of an apply reply */
void
migrate_report_apply(FILE *out, const char *plugin, json_object *reply)
{
	json_object *applied = RepArray(reply, "applied");
	json_object *skipped = RepArray(reply, "skipped");
	json_object *pending = RepArray(reply, "pending");
	bool dry = RepBool(reply, "dry_run");
	int w = RepWidth(applied, RepWidth(skipped, RepWidth(pending, 1)));

	fprintf(out, "%s: %s %zu migration%s, skipped %zu%s\n", plugin,
			dry ? "would apply" : "applied", RepLen(reply, "applied"),
			RepLen(reply, "applied") == 1 ? "" : "s", RepLen(reply, "skipped"),
			dry ? " (dry run: rolled back, nothing was changed)" : "");
	for (size_t i = 0; applied && i < json_object_array_length(applied); i++)
	{
		json_object *m = json_object_array_get_idx(applied, i);
		int64_t statements = -1;

		fprintf(out, "  %-11s %-*s", dry ? "would apply" : "applied", w,
				RepVersion(m));
		if (RepInt(m, "statements", &statements))
			fprintf(out, "  %" PRId64 " statement%s", statements,
					statements == 1 ? "" : "s");
		RepMs(out, m);
		fprintf(out, "\n");
	}
	for (size_t i = 0; skipped && i < json_object_array_length(skipped); i++)
		fprintf(out, "  %-11s %-*s  (already applied)\n", "skipped", w,
				RepVersion(json_object_array_get_idx(skipped, i)));
	for (size_t i = 0; pending && i < json_object_array_length(pending); i++)
		fprintf(out, "  %-11s %-*s  (after the target)\n", "not applied", w,
				RepVersion(json_object_array_get_idx(pending, i)));
	RepWarnings(out, reply);
	RepCurrent(out, reply);
}

/* Print a summary of a rollback reply */
void
migrate_report_rollback(FILE *out, const char *plugin, json_object *reply)
{
	json_object *done = RepArray(reply, "rolled_back");
	bool dry = RepBool(reply, "dry_run");
	int w = RepWidth(done, 1);

	fprintf(out, "%s: %s %zu migration%s%s\n", plugin,
			dry ? "would roll back" : "rolled back",
			RepLen(reply, "rolled_back"),
			RepLen(reply, "rolled_back") == 1 ? "" : "s",
			dry ? " (dry run: nothing was changed)" : "");
	for (size_t i = 0; done && i < json_object_array_length(done); i++)
	{
		json_object *m = json_object_array_get_idx(done, i);

		fprintf(out, "  %s %-*s", dry ? "would roll back" : "rolled back", w,
				RepVersion(m));
		RepMs(out, m);
		fprintf(out, "\n");
	}
	RepWarnings(out, reply);
	RepCurrent(out, reply);
}

/* Tell whether a version is in a reply's array of versions */
static bool
RepListed(json_object *list, const char *version)
{
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		if (strcmp(RepVersion(json_object_array_get_idx(list, i)), version) ==
			0)
			return true;
	return false;
}

/*
 * Print the versions of dir not applied, those applied but not in dir, and
 * those whose up script was edited since it was applied (plugin_migrate
 * would refuse them): the extension compared the checksums and answered
 * "pending" and "changed", since the request carried dir's migrations.
 */
static void
RepCompareLocal(FILE *out, json_object *reply, const MigrationSet *local,
				const char *dir)
{
	json_object *applied = RepArray(reply, "applied");
	json_object *pending = RepArray(reply, "pending");
	json_object *changed = RepArray(reply, "changed");
	int npending = 0;

	for (int i = 0; i < local->count; i++)
		if (RepListed(pending, local->items[i].version))
			fprintf(out, "%s  %s\n", npending++ ? "" : "not applied yet:\n",
					local->items[i].version);
	if (npending == 0)
		fprintf(out, "every migration in %s is applied\n", dir);
	for (size_t i = 0; applied && i < json_object_array_length(applied); i++)
	{
		const char *v = RepVersion(json_object_array_get_idx(applied, i));
		const Migration *m = migrate_dir_find(local, v);

		if (m == NULL)
			fprintf(out, "applied but not in %s: %s\n", dir, v);
		else if (RepListed(changed, v))
			fprintf(out,
					"changed since applied: %s (%s differs from the applied "
					"script; apply would refuse it)\n",
					v, m->up_path);
	}
}

/* Print a status reply: the applied versions, then the local comparison */
void
migrate_report_status(FILE *out, const char *plugin, json_object *reply,
					  const MigrationSet *local, const char *dir)
{
	json_object *applied = RepArray(reply, "applied");
	int w = RepWidth(applied, 7);

	fprintf(out, "%s: %zu migration%s applied\n", plugin,
			RepLen(reply, "applied"),
			RepLen(reply, "applied") == 1 ? "" : "s");
	if (applied && json_object_array_length(applied) > 0)
		fprintf(out, "  %-*s  %-32s  %8s  %-4s  %-12s  %s\n", w, "version",
				"applied at", "ms", "down", "checksum", "applied by");
	for (size_t i = 0; applied && i < json_object_array_length(applied); i++)
	{
		json_object *m = json_object_array_get_idx(applied, i);
		const char *at = RepStr(m, "applied_at");
		const char *by = RepStr(m, "applied_by");
		const char *sum = RepStr(m, "checksum");
		double ms;
		char msbuf[32] = "-";

		if (RepNum(m, "duration_ms", &ms))
			snprintf(msbuf, sizeof(msbuf), "%.*f", ms < 10 ? 1 : 0, ms);
		fprintf(out, "  %-*s  %-32s  %8s  %-4s  %-12.12s  %s\n", w,
				RepVersion(m), at ? at : "-", msbuf,
				RepBool(m, "has_down") ? "yes" : "no", sum ? sum : "-",
				by ? by : "-");
	}
	RepCurrent(out, reply);
	if (local)
		RepCompareLocal(out, reply, local, dir);
}

/* Print the line of statement holding character pos (1-based), and a caret */
static void
RepCaret(FILE *out, const char *statement, int64_t pos)
{
	const char *line = statement;
	const char *p = statement;

	for (int64_t n = 1; n < pos; n++)
	{
		if (*p == '\0')
			return;
		if (*p == '\n')
			line = p + 1;
		p++;
		while ((*p & 0xC0) == 0x80) /* the rest of a UTF-8 character */
			p++;
	}
	if (*p == '\0')
		return;
	fprintf(out, "             %.*s\n             ", (int) strcspn(line, "\n"),
			line);
	for (const char *c = line; c < p; c++)
		if ((*c & 0xC0) != 0x80)
			fputc(*c == '\t' ? '\t' : ' ', out);
	fprintf(out, "^\n");
}

/* A string field of the error object, else of the reply around it */
static const char *
RepErrStr(json_object *error, json_object *reply, const char *key)
{
	const char *v = RepStr(error, key);

	return v ? v : RepStr(reply, key);
}

/* Print a reply's error object: code, message, and where it happened */
void
migrate_report_error(FILE *out, json_object *reply, json_object *error)
{
	const char *code = RepStr(error, "code");
	const char *msg = RepStr(error, "message");
	const char *version = RepErrStr(error, reply, "version");
	const char *stmt = RepErrStr(error, reply, "statement");
	static const char *const extra[] = {"sqlstate", "detail", "hint"};
	int64_t pos = 0;
	int64_t retry = 0;

	fprintf(out, "error: %s: %s\n", code ? code : "?", msg ? msg : "?");
	if (version)
		fprintf(out, "  version:   %s\n", version);
	if (stmt)
	{
		int len = (int) strlen(stmt);

		fprintf(out, "  statement: ");
		for (const char *l = stmt;
			 l < stmt + len && l - stmt < REPORT_STATEMENT_MAX;)
		{
			int n = (int) strcspn(l, "\n");

			fprintf(out, "%s%.*s\n", l == stmt ? "" : "             ", n, l);
			l += n + (l[n] == '\n');
		}
	}
	if (RepInt(error, "position", &pos) && pos > 0)
	{
		fprintf(out, "  position:  %" PRId64 "%s\n", pos,
				stmt ? " (character in the statement)" : "");
		if (stmt)
			RepCaret(out, stmt, pos);
	}
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (RepStr(error, extra[i]))
			fprintf(out, "  %s:%*s%s\n", extra[i],
					(int) (10 - strlen(extra[i])), "",
					RepStr(error, extra[i]));
	if (RepInt(error, "retry_after_ms", &retry) ||
		RepInt(reply, "retry_after_ms", &retry))
		fprintf(out, "  retry after %" PRId64 " ms\n", retry);
}
