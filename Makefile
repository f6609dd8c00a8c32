# plugin_storage: the PGXS build of the extension, plus the bridge and the
# benchmark tools through their own Makefiles.
#
#   make                 build the extension, the bridge and bench tools
#   make install         install the extension into PostgreSQL 15
#   make installcheck    pg_regress against a running cluster (see tests/run.sh)
#   make test            everything: tests/run.sh (starts its own cluster)
#   make fuzz            fuzz/run.sh: libFuzzer targets + the SQL fuzzer (FUZZ_SECONDS each)
#   make test-faults     tests/faults/run.sh: faults under steady load
#   make soak            tests/soak/run.sh: SOAK_SECONDS (600) of mixed load

EXTENSION = plugin_storage
EXTVERSION = 0.1.0

MODULE_big = plugin_storage
OBJS = \
	extension/plugin_storage.o \
	extension/registry.o \
	extension/context.o \
	extension/errors.o \
	extension/json_reply.o \
	extension/json_request.o \
	extension/json_datum.o \
	extension/json_binary.o \
	extension/kv_sql.o \
	extension/kv_request.o \
	extension/kv.o \
	extension/sweep.o \
	extension/sweep_stats.o \
	extension/inspect.o \
	extension/sandbox.o \
	extension/row_request.o \
	extension/row_catalog.o \
	extension/row_value.o \
	extension/row_filter.o \
	extension/row_update.o \
	extension/row_sql.o \
	extension/row_reply.o \
	extension/row_define.o \
	extension/row_read.o \
	extension/row_write.o \
	extension/row.o \
	extension/migrate_request.o \
	extension/migrate_lock.o \
	extension/migrate_history.o \
	extension/migrate_script.o \
	extension/migrate_run.o \
	extension/migrate.o \
	extension/sql_limits.o \
	extension/sql_rate.o \
	extension/sql_request.o \
	extension/sql_statement.o \
	extension/sql_params.o \
	extension/sql_run.o \
	extension/sql_explain.o \
	extension/sql.o

DATA = extension/plugin_storage--$(EXTVERSION).sql
REGRESS = registry kv kv_collections kv_binary kv_errors kv_workspace isolation kv_ttl \
	row_define row_insert row_search row_filters row_update row_aggregate \
	row_types row_binary row_errors row_safety row_memory row_fuzz \
	migrate migrate_errors migrate_safety inspect \
	sql_query sql_params sql_guardrails sql_explain sandbox
REGRESS_OPTS = --inputdir=. --outputdir=results --load-extension=plugin_storage
# Isolation specs (specs/*.spec, expected/*.out), run by installcheck after
# REGRESS, in the same database (tests/run.sh makes it, with the extension).
ISOLATION = migrate_concurrency row_table_cache
ISOLATION_OPTS = --load-extension=plugin_storage

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
# -Wextra minus unused-parameter: PostgreSQL's own headers (ilist.h, bufpage.h)
# and every fmgr/callback signature have parameters a body need not use.
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
# After PGXS, which sets its own: the isolation specs share REGRESS's database.
ISOLATION_TESTDB = contrib_regression

all: bridge-build bench-build

# PGXS tracks no header dependencies: every object depends on the headers.
$(OBJS): extension/plugin_storage.h extension/kv.h
$(OBJS): extension/row.h extension/migrate.h extension/sql.h

.PHONY: bridge-build bench-build test fuzz test-faults soak
bridge-build:
	$(MAKE) -C bridge
bench-build:
	$(MAKE) -C bench

test:
	bash tests/run.sh

fuzz:
	bash fuzz/run.sh

test-faults:
	bash tests/faults/run.sh

soak:
	bash tests/soak/run.sh

clean: clean-sub
.PHONY: clean-sub
clean-sub:
	-$(MAKE) -C bridge clean
	-$(MAKE) -C bench clean
	-$(MAKE) -C fuzz clean
