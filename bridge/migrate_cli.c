/*
 * migrate_cli.c
 *		`plugin-storage-bridge migrate`: apply a directory of migrations.
 *
 *	plugin-storage-bridge migrate PLUGIN DIR [--dry-run] [--target V]
 *	plugin-storage-bridge migrate PLUGIN [DIR] --status
 *	plugin-storage-bridge migrate PLUGIN [DIR] --rollback V [--dry-run]
 *	plugin-storage-bridge migrate PLUGIN [DIR] --rollback-all [--dry-run]
 *
 * The subcommand is a NATS client like any plugin: it reads DIR's
 * migration files (migrate_dir.c), builds the request of the migrate tier
 * with json-c ({"action":"apply","migrations":[{version, up, down}],...},
 * or "status", or "rollback" with a target, null for --rollback-all), sends
 * it to
 * db.migrate.<plugin> as the plugin's NATS user with its reply subject
 * under _INBOX.<plugin>. (all the generated isolation config lets a plugin
 * receive), waits for the one reply, and prints a summary
 * (migrate_report.c) or, with --json, the reply itself.
 *
 * Exit status: 0 the bridge answered without error; 1 it answered an
 * error (or something that is not JSON); 2 bad arguments, or a file that
 * cannot be sent (see migrate_dir.c), or a request over the size limit; 3
 * no reply: NATS unreachable or refused the request, no bridge serving,
 * or no answer within --timeout.  A timeout says nothing about the
 * migration itself: it may still be running, or have committed; --status
 * tells.
 *
 * NATS: --nats-url, else $NATS_URL, else nats://127.0.0.1:4222; the URL
 * may carry user:password@.  --user and --password (else $NATS_USER and
 * $NATS_PASSWORD, as the nats CLI reads them) win over the URL's; a
 * password without a user is the plugin's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <nats/nats.h>

#include "migrate_cli.h"
#include "migrate_dir.h"
#include "migrate_report.h"
#include "natsurl.h"
#include "subject.h"

#ifndef BRIDGE_VERSION
#define BRIDGE_VERSION "0.0.0"
#endif

#define MIGRATE_DEFAULT_URL "nats://127.0.0.1:4222"
#define MIGRATE_DEFAULT_TIMEOUT_S 150.0
#define MIGRATE_DEFAULT_MAX_BYTES 1048576
#define MIGRATE_CONNECT_TIMEOUT_MS 5000
#define MIGRATE_POLL_MS 200
#define MIGRATE_REPLY_DEPTH 64

typedef struct MigrateArgs
{
	const char *plugin;		/* first argument */
	const char *dir;		/* second argument, or NULL */
	bool status;			/* --status */
	const char *rollback;	/* --rollback VERSION, or NULL */
	bool rollback_all;		/* --rollback-all: every version */
	bool dry_run;			/* --dry-run */
	const char *target;		/* --target VERSION, or NULL */
	const char *applied_by; /* --applied-by NAME, or NULL */
	double timeout_s;		/* --timeout SECONDS */
	bool json;				/* --json */
	const char *url;		/* --nats-url, $NATS_URL or the default */
	const char *user;		/* --user or $NATS_USER, or NULL */
	const char *password;	/* --password or $NATS_PASSWORD, or NULL */
	long max_bytes;			/* --max-request-bytes */
} MigrateArgs;

/* Where nats.c's asynchronous errors (permission violations) are kept */
static char migrate_async_error[512];
static pthread_mutex_t migrate_async_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Print the subcommand's help */
static void
MigrateUsage(FILE *out)
{
	fprintf(
		out,
		"Usage:\n"
		"  plugin-storage-bridge migrate PLUGIN DIR [--dry-run] [--target "
		"VERSION]\n"
		"  plugin-storage-bridge migrate PLUGIN [DIR] --status\n"
		"  plugin-storage-bridge migrate PLUGIN [DIR] --rollback VERSION "
		"[--dry-run]\n"
		"  plugin-storage-bridge migrate PLUGIN [DIR] --rollback-all "
		"[--dry-run]\n\n"
		"Apply PLUGIN's migrations in DIR through the bridge "
		"(db.migrate.PLUGIN over NATS).\n"
		"DIR holds NNN_name.up.sql files, each with an optional "
		"NNN_name.down.sql;\n"
		"the version of a migration is its stem (001_create_quotes), NNN "
		"orders them.\n"
		"Other files are ignored. Versions already applied are skipped; all "
		"the new\n"
		"ones are applied in one transaction, or none.\n\n"
		"Actions:\n"
		"  (default)             apply every migration of DIR not applied "
		"yet\n"
		"  --status              list the applied versions (and, with DIR, "
		"those not yet)\n"
		"  --rollback VERSION    run the stored down scripts of the versions "
		"applied\n"
		"                        after VERSION, newest first (VERSION stays "
		"applied)\n"
		"  --rollback-all        run the down scripts of every applied "
		"version\n"
		"                        (also --rollback 0)\n"
		"Options:\n"
		"  --dry-run             run and roll back: report what would "
		"change\n"
		"  --target VERSION      apply only up to VERSION\n"
		"  --applied-by NAME     recorded with each version [$USER@host]\n"
		"  --timeout SECONDS     wait this long for the reply [150]; the "
		"bridge's own\n"
		"                        limit is its migrate_timeout_ms (120 s by "
		"default)\n"
		"  --json                print the bridge's reply as it came\n"
		"  --max-request-bytes N refuse requests over N bytes, the bridge's\n"
		"                        max_request_bytes "
		"[$PS_BRIDGE_MAX_REQUEST_BYTES or 1048576]\n"
		"NATS:\n"
		"  --nats-url URL        [$NATS_URL or " MIGRATE_DEFAULT_URL
		"]; may carry user:password@\n"
		"  --user NAME           NATS user [$NATS_USER, else the URL's; "
		"PLUGIN with a password]\n"
		"  --password PASSWORD   NATS password [$NATS_PASSWORD]\n"
		"  -h, --help            show this help\n\n"
		"Exit status: 0 done, 1 the bridge answered an error, 2 bad "
		"arguments or files,\n"
		"3 no reply (NATS refused or unreachable, no bridge, timeout: "
		"check --status).\n\n"
		"Example:\n"
		"  NATS_URL=nats://quote-db:secret@127.0.0.1:4222 \\\n"
		"    plugin-storage-bridge migrate quote-db ./migrations\n");
}

static int MigrateBadUsage(const char *fmt, const char *arg)
	__attribute__((format(printf, 1, 0)));

/* Complain about the command line and return the usage exit status */
static int
MigrateBadUsage(const char *fmt, const char *arg)
{
	fprintf(stderr, "migrate: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try plugin-storage-bridge migrate --help)\n");
	return MIGRATE_EXIT_USAGE;
}

/* Tell whether an option takes a value */
static bool
MigrateTakesValue(const char *name)
{
	static const char *const valued[] = {
		"rollback", "target", "applied-by", "timeout",
		"nats-url", "user",	  "password",	"max-request-bytes",
	};

	for (size_t i = 0; i < sizeof(valued) / sizeof(valued[0]); i++)
		if (strcmp(name, valued[i]) == 0)
			return true;
	return false;
}

/* Store one option; return -1 to go on, else the exit status */
static int
MigrateSetOption(MigrateArgs *a, const char *name, const char *value)
{
	char *end;

	if (strcmp(name, "status") == 0)
		a->status = true;
	else if (strcmp(name, "dry-run") == 0)
		a->dry_run = true;
	else if (strcmp(name, "json") == 0)
		a->json = true;
	else if (strcmp(name, "rollback-all") == 0)
		a->rollback_all = true;
	else if (strcmp(name, "rollback") == 0)
		a->rollback = value;
	else if (strcmp(name, "target") == 0)
		a->target = value;
	else if (strcmp(name, "applied-by") == 0)
		a->applied_by = value;
	else if (strcmp(name, "nats-url") == 0)
		a->url = value;
	else if (strcmp(name, "user") == 0)
		a->user = value;
	else if (strcmp(name, "password") == 0)
		a->password = value;
	else if (strcmp(name, "timeout") == 0)
	{
		a->timeout_s = strtod(value, &end);
		if (*value == '\0' || *end != '\0' || !(a->timeout_s > 0) ||
			a->timeout_s > 86400)
			return MigrateBadUsage("--timeout must be seconds from 0 to "
								   "86400, not \"%s\"",
								   value);
	}
	else if (strcmp(name, "max-request-bytes") == 0)
	{
		a->max_bytes = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || a->max_bytes < 2 ||
			a->max_bytes > 67108864)
			return MigrateBadUsage("--max-request-bytes must be an integer "
								   "from 2 to 67108864, not \"%s\"",
								   value);
	}
	else
		return MigrateBadUsage("unknown option \"--%s\"", name);
	return -1;
}

/* Parse the command line; return -1 to go on, else the exit status */
static int
MigrateParse(MigrateArgs *a, int argc, char **argv)
{
	int npos = 0;

	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		char name[32];
		const char *eq;
		const char *value = NULL;
		int rc;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
		{
			MigrateUsage(stdout);
			return 0;
		}
		if (arg[0] == '-' && (arg[1] != '-' || arg[2] == '\0'))
			return MigrateBadUsage("unknown option \"%s\"", arg);
		if (arg[0] != '-')
		{
			if (npos == 2)
				return MigrateBadUsage("unexpected argument \"%s\"", arg);
			*(npos++ == 0 ? &a->plugin : &a->dir) = arg;
			continue;
		}
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s",
				 (int) (eq ? eq - arg - 2 : (long) strlen(arg + 2)), arg + 2);
		if (eq)
			value = eq + 1;
		else if (MigrateTakesValue(name) && i + 1 < argc)
			value = argv[++i];
		else if (MigrateTakesValue(name))
			return MigrateBadUsage("%s needs a value", arg);
		if (eq && !MigrateTakesValue(name))
			return MigrateBadUsage("%s takes no value", arg);
		rc = MigrateSetOption(a, name, value);
		if (rc >= 0)
			return rc;
	}
	return -1;
}

/* Tell whether the action is a rollback (to a version, or of everything) */
static bool
MigrateRollingBack(const MigrateArgs *a)
{
	return a->rollback != NULL || a->rollback_all;
}

/* Check that the options go together; -1 to go on, else the exit status */
static int
MigrateCheckArgs(MigrateArgs *a)
{
	if (a->plugin == NULL)
		return MigrateBadUsage("%s", "which plugin? PLUGIN is missing");
	if (!subject_valid_plugin(a->plugin, strlen(a->plugin)))
		return MigrateBadUsage("invalid plugin name \"%s\": it must match "
							   "^[a-z0-9][a-z0-9_-]{0,62}$",
							   a->plugin);
	if (a->status &&
		(MigrateRollingBack(a) || a->dry_run || a->target || a->applied_by))
		return MigrateBadUsage("%s", "--status goes with no other action "
									 "option");
	if (MigrateRollingBack(a) && (a->target || a->applied_by))
		return MigrateBadUsage("%s", "--rollback takes its target version "
									 "itself; --target and --applied-by go "
									 "with apply");
	if (a->rollback && a->rollback_all)
		return MigrateBadUsage("%s", "--rollback VERSION or --rollback-all, "
									 "not both");
	if (a->rollback && strcmp(a->rollback, "0") == 0)
	{
		/* "--rollback 0": back to nothing, as --rollback-all */
		a->rollback = NULL;
		a->rollback_all = true;
	}
	if (a->rollback && a->rollback[0] == '\0')
		return MigrateBadUsage("%s", "--rollback needs a version");
	if (!a->status && !MigrateRollingBack(a) && a->dir == NULL)
		return MigrateBadUsage("%s", "which directory? DIR is missing");
	if (a->password && a->user == NULL)
		a->user = a->plugin;
	return -1;
}

/* Default --applied-by: $USER@host, or NULL if $USER is not set */
static char *
MigrateDefaultAppliedBy(void)
{
	const char *user = getenv("USER");
	char host[256] = "";
	char *out;

	if (user == NULL || user[0] == '\0')
		return NULL;
	gethostname(host, sizeof(host) - 1);
	out = malloc(strlen(user) + strlen(host) + 2);
	sprintf(out, "%s%s%s", user, host[0] ? "@" : "", host);
	return out;
}

/* The migrations of a directory as the request's "migrations" array */
static json_object *
MigrateList(const MigrationSet *set)
{
	json_object *list = json_object_new_array();

	for (int i = 0; i < set->count; i++)
	{
		const Migration *m = &set->items[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "version",
							   json_object_new_string(m->version));
		json_object_object_add(o, "up", json_object_new_string(m->up));
		if (m->down)
			json_object_object_add(o, "down", json_object_new_string(m->down));
		json_object_array_add(list, o);
	}
	return list;
}

/* Build the request for the action the arguments ask for */
static json_object *
MigrateRequest(const MigrateArgs *a, const MigrationSet *set)
{
	json_object *req = json_object_new_object();
	const char *action = a->status				 ? "status"
						 : MigrateRollingBack(a) ? "rollback"
												 : "apply";

	json_object_object_add(req, "action", json_object_new_string(action));
	if (a->rollback)
		json_object_object_add(req, "target",
							   json_object_new_string(a->rollback));
	if (a->rollback_all) /* a null target: every version */
		json_object_object_add(req, "target", NULL);
	/* apply sends the directory; so does --status DIR, for the extension
	 * to tell which versions are pending and which changed since applied */
	if (!MigrateRollingBack(a) && (!a->status || a->dir != NULL))
		json_object_object_add(req, "migrations", MigrateList(set));
	if (!a->status && !MigrateRollingBack(a))
	{
		char *by =
			a->applied_by ? strdup(a->applied_by) : MigrateDefaultAppliedBy();

		if (a->target)
			json_object_object_add(req, "target",
								   json_object_new_string(a->target));
		if (by)
			json_object_object_add(req, "applied_by",
								   json_object_new_string(by));
		free(by);
	}
	if (a->dry_run)
		json_object_object_add(req, "dry_run", json_object_new_boolean(true));
	return req;
}

/* nats.c error handler: keep the error (a permissions violation, mostly) */
static void
MigrateOnError(natsConnection *nc, natsSubscription *sub, natsStatus err,
			   void *closure)
{
	const char *text = NULL;

	(void) sub;
	(void) closure;
	natsConnection_GetLastError(nc, &text);
	pthread_mutex_lock(&migrate_async_mutex);
	snprintf(migrate_async_error, sizeof(migrate_async_error), "%s%s%s",
			 natsStatus_GetText(err), text ? ": " : "", text ? text : "");
	pthread_mutex_unlock(&migrate_async_mutex);
}

/* Copy the last asynchronous error; false if there was none */
static bool
MigrateAsyncError(char *buf, size_t size)
{
	pthread_mutex_lock(&migrate_async_mutex);
	snprintf(buf, size, "%s", migrate_async_error);
	pthread_mutex_unlock(&migrate_async_mutex);
	return buf[0] != '\0';
}

/* Connect to NATS; NULL (reported) on failure */
static natsConnection *
MigrateConnect(const MigrateArgs *a)
{
	natsOptions *opts = NULL;
	natsConnection *nc = NULL;
	char url[2048];
	natsStatus s;

	if (a->user)
		natsurl_strip_userinfo(a->url, url, sizeof(url));
	else
		snprintf(url, sizeof(url), "%s", a->url);
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsurl_set(opts, url);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, "plugin-storage-bridge migrate");
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, MIGRATE_CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(opts, false);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(opts, MigrateOnError, NULL);
	if (s == NATS_OK && a->user)
		s = natsOptions_SetUserInfo(opts, a->user,
									a->password ? a->password : "");
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, opts);
	if (s != NATS_OK)
	{
		const char *detail = nats_GetLastError(NULL);

		fprintf(stderr, "migrate: cannot connect to NATS at %s: %s%s%s\n", url,
				natsStatus_GetText(s), detail ? ": " : "",
				detail ? detail : "");
		natsConnection_Destroy(nc);
		nc = NULL;
	}
	natsOptions_Destroy(opts);
	return nc;
}

/*
 * Send the request and wait for its reply; return the reply's text
 * (malloc'd), or NULL with the exit status in *rc.
 */
static char *
MigrateExchange(natsConnection *nc, const MigrateArgs *a, const char *data,
				size_t len, int *rc)
{
	char subject[128];
	char inbox[256];
	char *nuid = NULL;
	char err[512] = "";
	natsSubscription *sub = NULL;
	natsMsg *msg = NULL;
	natsStatus s;
	int64_t until = nats_Now() + (int64_t) (a->timeout_s * 1000);
	char *text = NULL;

	*rc = MIGRATE_EXIT_NO_REPLY;
	snprintf(subject, sizeof(subject), "db.migrate.%s", a->plugin);
	if (natsConnection_GetMaxPayload(nc) < (int64_t) len)
	{
		fprintf(stderr,
				"migrate: the request is %zu bytes, over the NATS server's "
				"max_payload of %lld bytes\n",
				len, (long long) natsConnection_GetMaxPayload(nc));
		*rc = MIGRATE_EXIT_USAGE;
		return NULL;
	}
	/* the reply subject: under _INBOX.<plugin>., which the plugin may read */
	s = natsInbox_Create(&nuid);
	if (s == NATS_OK)
	{
		snprintf(inbox, sizeof(inbox), "_INBOX.%s.%s", a->plugin,
				 nuid + strlen("_INBOX."));
		s = natsConnection_SubscribeSync(&sub, nc, inbox);
	}
	if (s == NATS_OK)
		s = natsConnection_PublishRequest(nc, subject, inbox, data, (int) len);
	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(nc, MIGRATE_CONNECT_TIMEOUT_MS);
	while (s == NATS_OK && msg == NULL)
	{
		int64_t left = until - nats_Now();

		if (MigrateAsyncError(err, sizeof(err)))
			break;
		if (left <= 0)
			s = NATS_TIMEOUT;
		else
			s = natsSubscription_NextMsg(
				&msg, sub, left < MIGRATE_POLL_MS ? left : MIGRATE_POLL_MS);
		if (s == NATS_TIMEOUT && left > MIGRATE_POLL_MS)
			s = NATS_OK;
	}
	if ((msg && natsMsg_IsNoResponders(msg)) || s == NATS_NO_RESPONDERS)
		fprintf(stderr,
				"migrate: no bridge is serving %s (no responders on NATS)\n",
				subject);
	else if (msg)
	{
		text =
			strndup(natsMsg_GetData(msg), (size_t) natsMsg_GetDataLength(msg));
		*rc = MIGRATE_EXIT_OK;
	}
	else if (err[0] && MigrateAsyncError(err, sizeof(err)))
		fprintf(stderr,
				"migrate: NATS refused the request: %s\n"
				"migrate: connect as the plugin's user (--user %s), which may "
				"publish on %s and receive on _INBOX.%s.>\n",
				err, a->plugin, subject, a->plugin);
	else if (s == NATS_TIMEOUT)
		fprintf(stderr,
				"migrate: no reply on %s within %g s; the migration may "
				"still be running, or be done: check with --status\n",
				subject, a->timeout_s);
	else
		fprintf(stderr, "migrate: NATS failed: %s\n", natsStatus_GetText(s));
	natsMsg_Destroy(msg);
	natsSubscription_Destroy(sub);
	natsInbox_Destroy(nuid);
	return text;
}

/* Print the reply; return the exit status */
static int
MigratePrintReply(const MigrateArgs *a, const char *text,
				  const MigrationSet *local)
{
	json_tokener *tok = json_tokener_new_ex(MIGRATE_REPLY_DEPTH);
	json_object *reply = json_tokener_parse_ex(tok, text, (int) strlen(text));
	json_object *error = NULL;
	int rc = MIGRATE_EXIT_OK;

	if (json_tokener_get_error(tok) != json_tokener_success ||
		!json_object_is_type(reply, json_type_object))
	{
		fprintf(stderr, "migrate: the reply is not a JSON object: %.300s\n",
				text);
		rc = MIGRATE_EXIT_ERROR;
	}
	else if (json_object_object_get_ex(reply, "error", &error))
		rc = MIGRATE_EXIT_ERROR;
	if (a->json)
		printf("%s\n", text);
	else if (error)
		migrate_report_error(stderr, reply, error);
	else if (rc == MIGRATE_EXIT_OK && a->status)
		migrate_report_status(stdout, a->plugin, reply, a->dir ? local : NULL,
							  a->dir);
	else if (rc == MIGRATE_EXIT_OK && MigrateRollingBack(a))
		migrate_report_rollback(stdout, a->plugin, reply);
	else if (rc == MIGRATE_EXIT_OK)
		migrate_report_apply(stdout, a->plugin, reply);
	json_object_put(reply);
	json_tokener_free(tok);
	return rc;
}

/* Read the directory (if the action uses it), build, send, print */
static int
MigrateRun(MigrateArgs *a)
{
	MigrationSet set = {NULL, 0};
	char err[1024];
	json_object *req;
	const char *data;
	size_t len;
	natsConnection *nc;
	char *reply;
	int rc;

	if (a->dir && !MigrateRollingBack(a) &&
		!migrate_dir_read(a->dir, (size_t) a->max_bytes, &set, err,
						  sizeof(err)))
	{
		fprintf(stderr, "migrate: %s\n", err);
		return MIGRATE_EXIT_USAGE;
	}
	if (!a->status && !MigrateRollingBack(a) && set.count == 0)
	{
		fprintf(stderr, "migrate: no migration in %s (NNN_name.up.sql)\n",
				a->dir);
		migrate_dir_free(&set);
		return MIGRATE_EXIT_USAGE;
	}
	req = MigrateRequest(a, &set);
	data = json_object_to_json_string_length(
		req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	rc = MIGRATE_EXIT_USAGE;
	if ((long) len > a->max_bytes)
		fprintf(stderr,
				"migrate: the request is %zu bytes, over the limit of %ld "
				"(the bridge's max_request_bytes; --max-request-bytes): apply "
				"the migrations in steps with --target, or raise the limit\n",
				len, a->max_bytes);
	else if ((nc = MigrateConnect(a)) == NULL)
		rc = MIGRATE_EXIT_NO_REPLY;
	else
	{
		reply = MigrateExchange(nc, a, data, len, &rc);
		if (reply)
			rc = MigratePrintReply(a, reply, &set);
		free(reply);
		natsConnection_Close(nc);
		natsConnection_Destroy(nc);
	}
	json_object_put(req);
	migrate_dir_free(&set);
	return rc;
}

/* Entry point of `plugin-storage-bridge migrate` */
int
migrate_cli_main(int argc, char **argv)
{
	MigrateArgs a = {0};
	const char *env_max = getenv("PS_BRIDGE_MAX_REQUEST_BYTES");
	int rc;

	a.url = getenv("NATS_URL") ? getenv("NATS_URL") : MIGRATE_DEFAULT_URL;
	a.user = getenv("NATS_USER");
	a.password = getenv("NATS_PASSWORD");
	a.timeout_s = MIGRATE_DEFAULT_TIMEOUT_S;
	a.max_bytes = env_max ? atol(env_max) : MIGRATE_DEFAULT_MAX_BYTES;
	if (a.max_bytes < 2)
		a.max_bytes = MIGRATE_DEFAULT_MAX_BYTES;
	rc = MigrateParse(&a, argc, argv);
	if (rc < 0)
		rc = MigrateCheckArgs(&a);
	if (rc >= 0)
		return rc;
	rc = MigrateRun(&a);
	nats_Close();
	return rc;
}
