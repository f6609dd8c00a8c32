/*
 * migrate_cli.h
 *		`plugin-storage-bridge migrate`: apply a directory of migrations.
 */
#ifndef BRIDGE_MIGRATE_CLI_H
#define BRIDGE_MIGRATE_CLI_H

/* Exit statuses of the subcommand */
#define MIGRATE_EXIT_OK 0		/* the bridge answered without error */
#define MIGRATE_EXIT_ERROR 1	/* the bridge answered an error */
#define MIGRATE_EXIT_USAGE 2	/* bad arguments, or unreadable files */
#define MIGRATE_EXIT_NO_REPLY 3 /* no reply: NATS failed or timed out */

extern int migrate_cli_main(int argc, char **argv);

#endif
