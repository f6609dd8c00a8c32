/*
 * migrate_dir.h
 *		Read a directory of migration files: NNN_name.up.sql,
 *NNN_name.down.sql.
 */
#ifndef BRIDGE_MIGRATE_DIR_H
#define BRIDGE_MIGRATE_DIR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Migration
{
	char *version;			   /* the file stem: "001_create_quotes" */
	unsigned long long number; /* NNN: orders the migrations */
	char *up;				   /* text of the .up.sql file */
	char *down;				   /* text of the .down.sql file, or NULL */
	char *up_path;			   /* where up came from, for messages */
	char *down_path;		   /* where down came from, or NULL */
} Migration;

typedef struct MigrationSet
{
	Migration *items; /* in version order */
	int count;		  /* entries in items */
} MigrationSet;

extern bool migrate_dir_read(const char *dir, size_t max_file_bytes,
							 MigrationSet *out, char *err, size_t errlen);
extern const Migration *migrate_dir_find(const MigrationSet *set,
										 const char *version);
extern void migrate_dir_free(MigrationSet *set);

#endif
