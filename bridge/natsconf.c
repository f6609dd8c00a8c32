/*
 * natsconf.c
 *		`plugin-storage-bridge nats-config`: nats-server isolation config.
 *
 * The subject names the plugin, so isolation between plugins at the NATS
 * layer is nats-server's authorization.  This subcommand prints an
 * `authorization { users = [...] }` block to include in nats-server.conf:
 *
 *	- each plugin's user may publish only its own requests, db.*.<plugin>.>
 *	  and db.migrate.<plugin>, and subscribe only to its own inbox prefix
 *	  _INBOX.<plugin>.> (its client sets that inbox prefix), so it can
 *	  neither send requests in another plugin's name nor read another
 *	  plugin's replies; --shared-inbox allows _INBOX.> instead, for clients
 *	  that cannot change their inbox prefix, at the cost of the latter;
 *	- the bridge's user may subscribe to db.> and to the discovery subjects
 *	  of its service ($SRV.*, $SRV.*.plugin-storage-bridge[.*]), publish
 *	  its events on db.events.>, and otherwise publish only replies to the
 *	  requests it received (allow_responses);
 *	- an optional operator user may publish and subscribe anywhere: it is
 *	  the one that reads db.stats, db.inspect.<plugin>, db.events.> and
 *	  $SRV.*.  Plugins are denied those subjects explicitly, since
 *	  db.*.<plugin>.> would otherwise let a plugin publish a forged event
 *	  on db.events.<plugin>.<kind>.
 *
 * Names and passwords are checked before anything is printed, so a bad
 * argument never yields half a config.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "natsconf.h"
#include "subject.h"

#ifndef BRIDGE_VERSION
#define BRIDGE_VERSION "0.0.0"
#endif

#define NATSCONF_MAX_USERS 1024

typedef struct NatsUser
{
	const char *name;	  /* NATS user name */
	const char *password; /* its password, or a bcrypt hash */
	size_t name_len;	  /* length of name (plugin args: before ':') */
} NatsUser;

typedef struct NatsConf
{
	NatsUser bridge;   /* the bridge's user */
	NatsUser operator; /* the operator's user; name NULL if none */
	NatsUser plugins[NATSCONF_MAX_USERS]; /* one user per plugin */
	int nplugins;						  /* entries used in plugins */
	bool shared_inbox;					  /* plugins subscribe to _INBOX.> */
} NatsConf;

/* Print the subcommand's help */
static void
NatsconfUsage(FILE *out)
{
	fprintf(out,
			"Usage: plugin-storage-bridge nats-config [OPTION]... "
			"PLUGIN:PASSWORD...\n\n"
			"Print a nats-server authorization block that keeps plugins "
			"apart:\n"
			"  each PLUGIN may publish only on db.*.PLUGIN.> and "
			"db.migrate.PLUGIN and\n"
			"  receive replies only on _INBOX.PLUGIN.> (set that inbox "
			"prefix in its client);\n"
			"  the bridge may subscribe to db.> and publish only replies.\n\n"
			"Options:\n"
			"  --bridge-user NAME          the bridge's NATS user "
			"[bridge]\n"
			"  --bridge-password PASSWORD  its password (required)\n"
			"  --operator-user NAME        an extra user allowed everything\n"
			"  --operator-password PASSWORD\n"
			"  --shared-inbox              let plugins subscribe to _INBOX.> "
			"(weaker: a plugin\n"
			"                              could read other plugins' "
			"replies)\n"
			"  -h, --help                  show this help\n\n"
			"PASSWORD may also be a bcrypt hash (nats server passwd).\n");
}

/* Check a user name: a valid plugin name */
static bool
NatsconfValidName(const char *name, size_t len)
{
	return subject_valid_plugin(name, len);
}

/* Check a password: printable ASCII without blanks, quotes or backslashes */
static bool
NatsconfValidPassword(const char *password)
{
	if (password == NULL || password[0] == '\0')
		return false;
	for (const char *p = password; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

/* Tell whether two users have the same name */
static bool
NatsconfSameName(const NatsUser *a, const NatsUser *b)
{
	return a != b && a->name && b->name && a->name_len == b->name_len &&
		   memcmp(a->name, b->name, a->name_len) == 0;
}

/* Tell whether another user already has this user's name */
static bool
NatsconfNameTaken(const NatsConf *c, const NatsUser *u)
{
	if (NatsconfSameName(&c->bridge, u) || NatsconfSameName(&c->operator, u))
		return true;
	for (int i = 0; i < c->nplugins; i++)
		if (NatsconfSameName(&c->plugins[i], u))
			return true;
	return false;
}

/* Check that a user is well-formed and its name not taken */
static bool
NatsconfCheckUser(const NatsConf *c, const NatsUser *u, const char *what)
{
	if (!NatsconfValidName(u->name, u->name_len))
	{
		fprintf(stderr,
				"nats-config: invalid %s name \"%.*s\": it must match "
				"^[a-z0-9][a-z0-9_-]{0,62}$\n",
				what, (int) u->name_len, u->name);
		return false;
	}
	if (!NatsconfValidPassword(u->password))
	{
		fprintf(stderr,
				"nats-config: the password of %s \"%.*s\" must be "
				"non-empty printable ASCII without blanks, '\"' or '\\'\n",
				what, (int) u->name_len, u->name);
		return false;
	}
	if (NatsconfNameTaken(c, u))
	{
		fprintf(stderr, "nats-config: user \"%.*s\" is given twice\n",
				(int) u->name_len, u->name);
		return false;
	}
	return true;
}

/* Parse the arguments; -1 to go on, else the exit status */
static int
NatsconfParse(NatsConf *c, int argc, char **argv)
{
	c->bridge.name = "bridge";
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char **slot = NULL;
		const char *colon;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		{
			NatsconfUsage(stdout);
			return 0;
		}
		if (strcmp(a, "--shared-inbox") == 0)
			c->shared_inbox = true;
		else if (strcmp(a, "--bridge-user") == 0)
			slot = &c->bridge.name;
		else if (strcmp(a, "--bridge-password") == 0)
			slot = &c->bridge.password;
		else if (strcmp(a, "--operator-user") == 0)
			slot = &c->operator.name;
		else if (strcmp(a, "--operator-password") == 0)
			slot = &c->operator.password;
		else if (a[0] == '-' || (colon = strchr(a, ':')) == NULL)
		{
			fprintf(stderr,
					"nats-config: unexpected argument \"%s\"; "
					"plugins are given as PLUGIN:PASSWORD (try --help)\n",
					a);
			return 2;
		}
		else if (c->nplugins == NATSCONF_MAX_USERS)
		{
			fprintf(stderr, "nats-config: too many plugins\n");
			return 2;
		}
		else
		{
			c->plugins[c->nplugins].name = a;
			c->plugins[c->nplugins].name_len = (size_t) (colon - a);
			c->plugins[c->nplugins++].password = colon + 1;
		}
		if (slot && i + 1 == argc)
		{
			fprintf(stderr, "nats-config: %s needs a value\n", a);
			return 2;
		}
		if (slot)
			*slot = argv[++i];
	}
	return -1;
}

/* Check every user before printing anything */
static bool
NatsconfCheck(NatsConf *c)
{
	if (c->bridge.password == NULL)
	{
		fprintf(stderr, "nats-config: --bridge-password is required\n");
		return false;
	}
	c->bridge.name_len = strlen(c->bridge.name);
	if (!NatsconfCheckUser(c, &c->bridge, "bridge user"))
		return false;
	if (c->operator.name || c->operator.password)
	{
		if (!c->operator.name || !c->operator.password)
		{
			fprintf(stderr, "nats-config: --operator-user and "
							"--operator-password go together\n");
			return false;
		}
		c->operator.name_len = strlen(c->operator.name);
		if (!NatsconfCheckUser(c, &c->operator, "operator user"))
			return false;
	}
	for (int i = 0; i < c->nplugins; i++)
		if (!NatsconfCheckUser(c, &c->plugins[i], "plugin"))
			return false;
	return true;
}

/* Print the user entry of one plugin */
static void
NatsconfPrintPlugin(const NatsConf *c, const NatsUser *u)
{
	int n = (int) u->name_len;

	printf("    # plugin %.*s: its own requests out, its own replies in\n"
		   "    {\n"
		   "      user: \"%.*s\"\n"
		   "      password: \"%s\"\n"
		   "      permissions: {\n"
		   "        publish: {\n"
		   "          allow: [\"db.*.%.*s.>\", \"db.migrate.%.*s\"]\n"
		   "          deny: [\"db.events.>\", \"db.stats.>\", "
		   "\"db.inspect.>\"]\n"
		   "        }\n",
		   n, u->name, n, u->name, u->password, n, u->name, n, u->name);
	if (c->shared_inbox)
		printf("        subscribe: { allow: [\"_INBOX.>\"] }\n");
	else
		printf("        subscribe: { allow: [\"_INBOX.%.*s.>\"] }\n", n,
			   u->name);
	printf("      }\n"
		   "    }\n");
}

/* Print the whole authorization block */
static void
NatsconfPrint(const NatsConf *c)
{
	printf("# nats-server authorization for plugin_storage, generated by\n"
		   "# plugin-storage-bridge %s nats-config.  Include it in "
		   "nats-server.conf.\n"
		   "authorization {\n"
		   "  users = [\n"
		   "    # the bridge: serves every plugin's requests, db.stats and "
		   "$SRV discovery,\n"
		   "    # publishes replies and its events\n"
		   "    {\n"
		   "      user: \"%s\"\n"
		   "      password: \"%s\"\n"
		   "      permissions: {\n"
		   "        subscribe: { allow: [\"db.>\", \"$SRV.*\", "
		   "\"$SRV.*.plugin-storage-bridge\", "
		   "\"$SRV.*.plugin-storage-bridge.*\"] }\n"
		   "        publish: { allow: [\"db.events.>\"] }\n"
		   "        allow_responses: true\n"
		   "      }\n"
		   "    }\n",
		   BRIDGE_VERSION, c->bridge.name, c->bridge.password);
	if (c->operator.name)
		printf("    # the operator: may publish and subscribe anywhere "
			   "(db.stats, "
			   "db.inspect.>,\n"
			   "    # db.events.>, $SRV.*)\n"
			   "    {\n"
			   "      user: \"%s\"\n"
			   "      password: \"%s\"\n"
			   "      permissions: {\n"
			   "        publish: { allow: [\">\"] }\n"
			   "        subscribe: { allow: [\">\"] }\n"
			   "      }\n"
			   "    }\n",
			   c->operator.name, c->operator.password);
	for (int i = 0; i < c->nplugins; i++)
		NatsconfPrintPlugin(c, &c->plugins[i]);
	printf("  ]\n"
		   "}\n");
}

/* Entry point of `plugin-storage-bridge nats-config` */
int
natsconf_main(int argc, char **argv)
{
	static NatsConf conf; /* too big for the stack */
	int rc;

	memset(&conf, 0, sizeof(conf)); /* each call starts afresh (fuzz/) */
	rc = NatsconfParse(&conf, argc, argv);

	if (rc >= 0)
		return rc;
	if (!NatsconfCheck(&conf))
		return 2;
	NatsconfPrint(&conf);
	return 0;
}
