/*
 * migrate_report.h
 *		Print the bridge's reply to a migrate request for a person.
 */
#ifndef BRIDGE_MIGRATE_REPORT_H
#define BRIDGE_MIGRATE_REPORT_H

#include <stdio.h>

#include <json-c/json.h>

#include "migrate_dir.h"

extern void migrate_report_apply(FILE *out, const char *plugin,
								 json_object *reply);
extern void migrate_report_rollback(FILE *out, const char *plugin,
									json_object *reply);
extern void migrate_report_status(FILE *out, const char *plugin,
								  json_object *reply,
								  const MigrationSet *local, const char *dir);
extern void migrate_report_error(FILE *out, json_object *reply,
								 json_object *error);

#endif
