/*
 * config.c
 *		Settings: built-in defaults, config file, environment and flags.
 *
 * Every setting is a row of config_options: name, type, default, whether
 * SIGHUP may change it, range, help.  The same name is used everywhere:
 *
 *		config file		pool_size = 8
 *		environment		PS_BRIDGE_POOL_SIZE=8
 *		flag			--pool-size 8   or   --pool-size=8
 *
 * Sources are applied in this order, later ones winning: built-in
 * defaults; standard variables (NATS_URL, as the NATS tools read it); the
 * config file (--config FILE or PS_BRIDGE_CONFIG); PS_BRIDGE_* variables;
 * flags.  libpq reads its own PG* variables for whatever conninfo leaves
 * out.
 *
 * The config file has one `key = value` a line.  Blank lines and lines
 * whose first non-blank character is '#' are ignored; there are no
 * trailing comments, so values may contain '#'.  A value may be wrapped in
 * double quotes to keep leading or trailing blanks; inside quotes \" and
 * \\ stand for " and \.
 *
 * SIGHUP rebuilds the whole configuration from the same sources.  If it
 * is valid, the reloadable settings take effect, a changed non-reloadable
 * setting is logged as waiting for a restart, and the generation number
 * is bumped so that every worker refreshes its session (statement_timeout,
 * tier probe); if not, the error is logged and nothing changes.  Reloadable
 *settings are read by worker threads through config_limits(), under a mutex;
 *the others never change after start-up and are read directly through
 *config_get().
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

#ifndef BRIDGE_VERSION
#define BRIDGE_VERSION "0.0.0"
#endif

typedef enum OptType
{
	OPT_INT,
	OPT_BOOL, /* on/off (also true/false, yes/no, 1/0), stored as an int */
	OPT_STRING,
	OPT_LEVEL /* a string that must name a log level */
} OptType;

typedef struct Option
{
	const char *name;	 /* key in the file; flag and env derive */
	OptType type;		 /* how the value is parsed and stored */
	const char *dflt;	 /* built-in default, as text */
	bool reloadable;	 /* SIGHUP may change it */
	bool secret;		 /* never logged */
	int min;			 /* OPT_INT: smallest value */
	int max;			 /* OPT_INT: largest value */
	size_t offset;		 /* field in Config */
	const char *std_env; /* standard variable read before the file */
	const char *help;	 /* one line for --help */
} Option;

#define OPT_INT_ROW(f, d, r, lo, hi, h)                                       \
	{                                                                         \
#f, OPT_INT, d, r, false, lo, hi, offsetof(Config, f), NULL, h        \
	}
#define OPT_BOOL_ROW(f, d, r, h)                                              \
	{                                                                         \
#f, OPT_BOOL, d, r, false, 0, 1, offsetof(Config, f), NULL, h         \
	}
#define OPT_STR_ROW(f, d, r, s, e, h)                                         \
	{                                                                         \
#f, OPT_STRING, d, r, s, 0, 0, offsetof(Config, f), e, h              \
	}

static const Option config_options[] = {
	OPT_STR_ROW(conninfo, "", false, false, NULL,
				"libpq connection string; empty uses the PG* variables"),
	OPT_INT_ROW(pool_size, "2", false, 1, 64,
				"PostgreSQL connections, each owned by one worker thread"),
	OPT_INT_ROW(pipeline_depth, "16", true, 1, PIPELINE_DEPTH_MAX,
				"most queued requests a worker sends in one pipeline"),
	OPT_BOOL_ROW(group_commit, "on", true,
				 "run a worker's batch as one transaction (on or off)"),
	OPT_INT_ROW(queue_size, "4096", false, 1, 1000000,
				"requests waiting for a worker; more get unavailable"),
	OPT_INT_ROW(request_timeout_ms, "5000", true, 100, 600000,
				"deadline of a request from its arrival (statement_timeout)"),
	OPT_INT_ROW(migrate_timeout_ms, "120000", true, 1000, 86400000,
				"deadline of a db.migrate request from its arrival"),
	OPT_INT_ROW(max_request_bytes, "1048576", true, 2, 67108864,
				"largest request payload; larger ones get too_large"),
	OPT_INT_ROW(max_json_depth, "64", true, 1, 10000,
				"deepest nesting of a request payload"),
	OPT_INT_ROW(reconnect_max_ms, "2000", true, 100, 60000,
				"cap of the exponential reconnect backoff"),
	OPT_INT_ROW(slow_request_ms, "500", true, 0, 600000,
				"requests slower than this raise a slow event; 0: never"),
	OPT_INT_ROW(drain_timeout_ms, "10000", true, 0, 600000,
				"longest wait for the NATS subscription to drain at exit"),
	OPT_STR_ROW(nats_url, "nats://127.0.0.1:4222", false, false, "NATS_URL",
				"NATS server URL; several may be given, comma-separated"),
	OPT_STR_ROW(nats_user, "", false, false, NULL, "NATS user name"),
	OPT_STR_ROW(nats_password, "", false, true, NULL, "NATS password"),
	OPT_STR_ROW(nats_creds, "", false, false, NULL,
				"NATS credentials file (JWT and NKey seed)"),
	OPT_STR_ROW(queue_group, "plugin-storage", false, false, NULL,
				"NATS queue group shared by every bridge"),
	{"log_level", OPT_LEVEL, "info", true, false, 0, 0,
	 offsetof(Config, log_level), NULL, "debug, info, warn or error"},
	OPT_STR_ROW(metrics_listen, "", false, false, NULL,
				"HOST:PORT to serve Prometheus GET /metrics on; empty: off"),
	OPT_INT_ROW(metrics_max_plugins, "1000", false, 1, 100000,
				"plugins tracked by name in metrics; later ones are _other"),
	OPT_INT_ROW(event_rate_limit, "100", false, 0, 100000,
				"most events (slow, error, migration) a second; 0: none"),
};

#define CONFIG_NOPTIONS ((int) (sizeof(config_options) / sizeof(Option)))
#define CONFIG_ENV_PREFIX "PS_BRIDGE_"
#define CONFIG_MAX_FLAGS 64

static Config config_live;
static pthread_mutex_t config_mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned config_generation;
static const char *config_path;
static int config_nflags;
static const Option *config_flag_opts[CONFIG_MAX_FLAGS];
static const char *config_flag_values[CONFIG_MAX_FLAGS];

/* Point at an int setting inside a Config */
static int *
OptInt(Config *c, const Option *opt)
{
	return (int *) ((char *) c + opt->offset);
}

/* Tell whether a setting is stored as an int (OPT_INT and OPT_BOOL) */
static bool
OptIsInt(const Option *opt)
{
	return opt->type == OPT_INT || opt->type == OPT_BOOL;
}

/* Point at a string setting inside a Config */
static char **
OptStr(Config *c, const Option *opt)
{
	return (char **) ((char *) c + opt->offset);
}

/* Find a setting by name; '-' and '_' are the same */
static const Option *
OptFind(const char *name, size_t len)
{
	for (int i = 0; i < CONFIG_NOPTIONS; i++)
	{
		const char *n = config_options[i].name;
		size_t j;

		if (strlen(n) != len)
			continue;
		for (j = 0; j < len; j++)
		{
			char c = name[j] == '-' ? '_' : name[j];

			if (c != n[j])
				break;
		}
		if (j == len)
			return &config_options[i];
	}
	return NULL;
}

/* Store a value into a setting, checking type and range */
static bool
ConfigSet(Config *c, const Option *opt, const char *value, const char *source,
		  char *err, size_t errlen)
{
	if (opt->type == OPT_INT)
	{
		char *end;
		long v;

		errno = 0;
		v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < opt->min ||
			v > opt->max)
		{
			snprintf(err, errlen,
					 "%s: %s must be an integer from %d to %d, "
					 "not \"%.40s\"",
					 source, opt->name, opt->min, opt->max, value);
			return false;
		}
		*OptInt(c, opt) = (int) v;
		return true;
	}
	if (opt->type == OPT_BOOL)
	{
		static const char *const yes[] = {"on", "true", "yes", "1"};
		static const char *const no[] = {"off", "false", "no", "0"};

		for (int i = 0; i < 4; i++)
		{
			if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0)
			{
				*OptInt(c, opt) = strcmp(value, yes[i]) == 0;
				return true;
			}
		}
		snprintf(err, errlen, "%s: %s must be on or off, not \"%.40s\"",
				 source, opt->name, value);
		return false;
	}
	if (opt->type == OPT_LEVEL)
	{
		LogLevel level;

		if (!log_parse_level(value, &level))
		{
			snprintf(err, errlen,
					 "%s: %s must be debug, info, warn or "
					 "error, not \"%.40s\"",
					 source, opt->name, value);
			return false;
		}
	}
	free(*OptStr(c, opt));
	*OptStr(c, opt) = strdup(value);
	return true;
}

/* Free the strings of a Config */
static void
ConfigClear(Config *c)
{
	for (int i = 0; i < CONFIG_NOPTIONS; i++)
	{
		if (!OptIsInt(&config_options[i]))
		{
			free(*OptStr(c, &config_options[i]));
			*OptStr(c, &config_options[i]) = NULL;
		}
	}
}

/* Parse the value part of a line: bare, or double-quoted with escapes */
static bool
ConfigUnquote(char *value, char **out)
{
	char *r = value + 1;
	char *w = value;

	if (*value != '"')
	{
		*out = value;
		return true;
	}
	while (*r && *r != '"')
	{
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r++;
	}
	if (*r != '"' || r[1] != '\0')
		return false;
	*w = '\0';
	*out = value;
	return true;
}

/* Apply the text of a config file, one `key = value` a line */
bool
config_parse_text(Config *config, const char *text, const char *source,
				  char *err, size_t errlen)
{
	char *copy = strdup(text);
	char *line = copy;
	bool ok = true;

	for (int lineno = 1; ok && line != NULL; lineno++)
	{
		char *next = strchr(line, '\n');
		char *eq;
		char *end;
		char *value;
		const Option *opt;
		char where[300];

		if (next)
			*next++ = '\0';
		while (isspace((unsigned char) *line))
			line++;
		end = line + strlen(line);
		while (end > line && isspace((unsigned char) end[-1]))
			*--end = '\0';
		snprintf(where, sizeof(where), "%s line %d", source, lineno);
		if (*line == '\0' || *line == '#')
		{
			line = next;
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL)
		{
			snprintf(err, errlen, "%s: expected \"key = value\"", where);
			ok = false;
			break;
		}
		end = eq;
		while (end > line && isspace((unsigned char) end[-1]))
			end--;
		opt = OptFind(line, (size_t) (end - line));
		value = eq + 1;
		while (isspace((unsigned char) *value))
			value++;
		if (opt == NULL)
		{
			snprintf(err, errlen, "%s: unknown setting \"%.*s\"", where,
					 (int) (end - line > 64 ? 64 : end - line), line);
			ok = false;
		}
		else if (!ConfigUnquote(value, &value))
		{
			snprintf(err, errlen, "%s: unterminated quoted value", where);
			ok = false;
		}
		else
			ok = ConfigSet(config, opt, value, where, err, errlen);
		line = next;
	}
	free(copy);
	return ok;
}

/* Read and apply a config file */
static bool
ConfigReadFile(Config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long size;
	bool ok;

	if (f == NULL)
	{
		snprintf(err, errlen, "cannot open config file \"%s\": %s", path,
				 strerror(errno));
		return false;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	if (size < 0 || size > 1024 * 1024)
	{
		fclose(f);
		snprintf(err, errlen,
				 "config file \"%s\" is not a regular file "
				 "under 1 MiB",
				 path);
		return false;
	}
	text = malloc((size_t) size + 1);
	size = (long) fread(text, 1, (size_t) size, f);
	text[size] = '\0';
	fclose(f);
	ok = config_parse_text(c, text, path, err, errlen);
	free(text);
	return ok;
}

/* Apply environment variables: standard ones, or PS_BRIDGE_* ones */
static bool
ConfigReadEnv(Config *c, bool standard, char *err, size_t errlen)
{
	for (int i = 0; i < CONFIG_NOPTIONS; i++)
	{
		const Option *opt = &config_options[i];
		char name[64];
		const char *value;
		size_t j;

		if (standard)
		{
			if (opt->std_env == NULL)
				continue;
			snprintf(name, sizeof(name), "%s", opt->std_env);
		}
		else
		{
			snprintf(name, sizeof(name), "%s%s", CONFIG_ENV_PREFIX, opt->name);
			for (j = 0; name[j]; j++)
				name[j] = (char) toupper((unsigned char) name[j]);
		}
		value = getenv(name);
		if (value && !ConfigSet(c, opt, value, name, err, errlen))
			return false;
	}
	return true;
}

/* Build a complete configuration from every source */
static bool
ConfigBuild(Config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < CONFIG_NOPTIONS; i++)
		ConfigSet(c, &config_options[i], config_options[i].dflt, "default",
				  err, errlen);
	if (!ConfigReadEnv(c, true, err, errlen))
		return false;
	if (config_path && !ConfigReadFile(c, config_path, err, errlen))
		return false;
	if (!ConfigReadEnv(c, false, err, errlen))
		return false;
	for (int i = 0; i < config_nflags; i++)
	{
		char source[80];

		snprintf(source, sizeof(source), "flag --%s",
				 config_flag_opts[i]->name);
		for (char *p = source; *p; p++)
			*p = *p == '_' ? '-' : *p;
		if (!ConfigSet(c, config_flag_opts[i], config_flag_values[i], source,
					   err, errlen))
			return false;
	}
	return true;
}

/* Print --help, generated from the settings table */
static void
ConfigUsage(FILE *out)
{
	fprintf(out,
			"plugin-storage-bridge %s: serves plugin_storage over NATS "
			"request/reply\n\n"
			"Usage:\n"
			"  plugin-storage-bridge [OPTION]...\n"
			"  plugin-storage-bridge nats-config --help\n"
			"  plugin-storage-bridge migrate --help\n\n"
			"Options:\n"
			"  -c, --config FILE       read settings from FILE "
			"(env PS_BRIDGE_CONFIG)\n"
			"  -h, --help              show this help and exit\n"
			"  -V, --version           show the version and exit\n\n"
			"Settings (flag, env PS_BRIDGE_<NAME>, or `name = value` in the "
			"config file;\n"
			"* = reloaded on SIGHUP):\n",
			BRIDGE_VERSION);
	for (int i = 0; i < CONFIG_NOPTIONS; i++)
	{
		const Option *opt = &config_options[i];
		char flag[64];

		snprintf(flag, sizeof(flag), "%s", opt->name);
		for (char *p = flag; *p; p++)
			*p = *p == '_' ? '-' : *p;
		fprintf(out, "  --%-22s%s %s [%s]\n", flag,
				opt->reloadable ? "*" : " ", opt->help,
				opt->secret || opt->dflt[0] == '\0' ? "none" : opt->dflt);
	}
	fprintf(out, "\nPostgreSQL: libpq's PGHOST, PGPORT, PGDATABASE, PGUSER, "
				 "PGPASSWORD, ... fill\nin whatever conninfo leaves out. "
				 "NATS_URL is read before the config file.\n");
}

/* Record the flags; return -1 to go on, or the exit status */
static int
ConfigParseArgs(int argc, char **argv)
{
	config_path = getenv("PS_BRIDGE_CONFIG");
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *name;
		const char *value;
		size_t len;
		const Option *opt;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
		{
			ConfigUsage(stdout);
			return 0;
		}
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0)
		{
			printf("plugin-storage-bridge %s\n", BRIDGE_VERSION);
			return 0;
		}
		if (strcmp(arg, "-c") == 0)
			arg = "--config";
		if (strncmp(arg, "--", 2) != 0)
		{
			fprintf(stderr,
					"plugin-storage-bridge: unexpected argument "
					"\"%s\" (try --help)\n",
					arg);
			return 2;
		}
		name = arg + 2;
		value = strchr(name, '=');
		len = value ? (size_t) (value - name) : strlen(name);
		if (value)
			value++;
		else if (i + 1 < argc)
			value = argv[++i];
		else
		{
			fprintf(stderr, "plugin-storage-bridge: %s needs a value\n", arg);
			return 2;
		}
		if (len == 6 && strncmp(name, "config", 6) == 0)
		{
			config_path = value;
			continue;
		}
		opt = OptFind(name, len);
		if (opt == NULL || config_nflags == CONFIG_MAX_FLAGS)
		{
			fprintf(stderr,
					"plugin-storage-bridge: unknown option \"--%.*s\" "
					"(try --help)\n",
					(int) len, name);
			return 2;
		}
		config_flag_opts[config_nflags] = opt;
		config_flag_values[config_nflags++] = value;
	}
	return -1;
}

/* Log the effective settings, secrets masked */
static void
ConfigLogEffective(const Config *c)
{
	LogField fields[CONFIG_NOPTIONS + 2];
	int n = 0;

	fields[n++] = LF_S("config_file", config_path);
	for (int i = 0; i < CONFIG_NOPTIONS; i++)
	{
		const Option *opt = &config_options[i];

		if (opt->type == OPT_BOOL)
			fields[n++] =
				LF_S(opt->name, *OptInt((Config *) c, opt) ? "on" : "off");
		else if (opt->type == OPT_INT)
			fields[n++] = LF_I(opt->name, *OptInt((Config *) c, opt));
		else
			fields[n++] =
				LF_S(opt->name, opt->secret && **OptStr((Config *) c, opt)
									? "********"
									: *OptStr((Config *) c, opt));
	}
	fields[n] = LF_END_;
	log_write(LL_INFO, "settings", fields);
}

/* Parse flags and build the configuration; -1 to go on, else exit status */
int
config_init(int argc, char **argv)
{
	char err[512];
	LogLevel level;
	int rc = ConfigParseArgs(argc, argv);

	if (rc >= 0)
		return rc;
	if (!ConfigBuild(&config_live, err, sizeof(err)))
	{
		fprintf(stderr, "plugin-storage-bridge: %s\n", err);
		return 2;
	}
	log_parse_level(config_live.log_level, &level);
	log_set_level(level);
	ConfigLogEffective(&config_live);
	return -1;
}

/* Return the settings; only the non-reloadable ones may be read directly */
const Config *
config_get(void)
{
	return &config_live;
}

/* Copy the reloadable settings */
void
config_limits(ConfigLimits *out)
{
	pthread_mutex_lock(&config_mutex);
	out->generation = config_generation;
	out->pipeline_depth = config_live.pipeline_depth;
	out->group_commit = config_live.group_commit != 0;
	out->request_timeout_ms = config_live.request_timeout_ms;
	out->migrate_timeout_ms = config_live.migrate_timeout_ms;
	out->max_request_bytes = config_live.max_request_bytes;
	out->max_json_depth = config_live.max_json_depth;
	out->reconnect_max_ms = config_live.reconnect_max_ms;
	out->slow_request_ms = config_live.slow_request_ms;
	out->drain_timeout_ms = config_live.drain_timeout_ms;
	pthread_mutex_unlock(&config_mutex);
}

/* Tell whether a setting differs between two configurations */
static bool
ConfigDiffers(Config *a, Config *b, const Option *opt)
{
	if (OptIsInt(opt))
		return *OptInt(a, opt) != *OptInt(b, opt);
	return strcmp(*OptStr(a, opt), *OptStr(b, opt)) != 0;
}

/* Re-read every source and apply what may change at run time */
void
config_reload(void)
{
	Config fresh;
	char err[512];
	int changed = 0;
	LogLevel level;

	if (!ConfigBuild(&fresh, err, sizeof(err)))
	{
		log_error("reload failed; settings unchanged", LF_S("error", err));
		ConfigClear(&fresh);
		return;
	}
	pthread_mutex_lock(&config_mutex);
	for (int i = 0; i < CONFIG_NOPTIONS; i++)
	{
		const Option *opt = &config_options[i];

		if (!ConfigDiffers(&config_live, &fresh, opt))
			continue;
		if (!opt->reloadable)
		{
			log_warn("setting changed; it takes effect at restart",
					 LF_S("setting", opt->name));
			continue;
		}
		if (OptIsInt(opt))
			*OptInt(&config_live, opt) = *OptInt(&fresh, opt);
		else
		{
			char **s = OptStr(&config_live, opt);

			free(*s);
			*s = strdup(*OptStr(&fresh, opt));
		}
		log_info("setting changed", LF_S("setting", opt->name));
		changed++;
	}
	config_generation++; /* also tells workers to re-probe the tiers */
	pthread_mutex_unlock(&config_mutex);
	log_parse_level(config_live.log_level, &level);
	log_set_level(level);
	log_info("reloaded", LF_I("changed", changed));
	ConfigClear(&fresh);
}

/* Free the settings at exit */
void
config_free(void)
{
	ConfigClear(&config_live);
}
