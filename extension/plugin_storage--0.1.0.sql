-- plugin_storage 0.1.0: plugin registry, isolation and the KV tier.
--
-- Objects: the registry (plugins), the shared workspace KV table (workspace_kv,
-- forced row-level security), the functions that register plugins, the KV
-- entry points (plugin_kv for the bridge, plugin_kv_* typed for DBAs) and the
-- sweep.  Each plugin gets a role ps_<name>, a schema of the same name and a
-- KV table <schema>._ps_kv, created by register_plugin().

\echo Use "CREATE EXTENSION plugin_storage" to load this file. \quit

-- Group roles, cluster-wide: created once, shared by every database.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'plugin_storage_bridge') THEN
		CREATE ROLE plugin_storage_bridge NOLOGIN;
		COMMENT ON ROLE plugin_storage_bridge IS 'plugin_storage: may call the entry points (grant it to the bridge''s login role)';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'plugin_storage_plugin') THEN
		CREATE ROLE plugin_storage_plugin NOLOGIN;
		COMMENT ON ROLE plugin_storage_plugin IS 'plugin_storage: every plugin role is a member';
	END IF;
END
$$;

-- The registry: one row per plugin.
CREATE TABLE plugin_storage.plugins (
	name text COLLATE "C" PRIMARY KEY
		CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
	role name NOT NULL UNIQUE,
	schema name NOT NULL UNIQUE,
	workspace text COLLATE "C"
		CHECK (workspace ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
	created timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE plugin_storage.plugins IS 'Registered plugins: their role, schema and workspace';
SELECT pg_catalog.pg_extension_config_dump('plugin_storage.plugins', '');

-- Workspace KV: keys shared by the plugins of one workspace.  Every plugin's
-- private table is created LIKE this one (ns is then always '').
CREATE TABLE plugin_storage.workspace_kv (
	ns text COLLATE "C" NOT NULL,
	collection text COLLATE "C" NOT NULL,
	key text COLLATE "C" NOT NULL,
	value jsonb,
	value_bytes bytea,
	revision bigint NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	expires_at timestamptz,
	PRIMARY KEY (ns, collection, key),
	CHECK ((value IS NULL) <> (value_bytes IS NULL))
) WITH (fillfactor = 80);
CREATE INDEX ON plugin_storage.workspace_kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE SEQUENCE plugin_storage.workspace_kv_revision;
COMMENT ON TABLE plugin_storage.workspace_kv IS 'KV keys shared by the plugins of a workspace (ns = workspace)';
SELECT pg_catalog.pg_extension_config_dump('plugin_storage.workspace_kv', '');
SELECT pg_catalog.pg_extension_config_dump('plugin_storage.workspace_kv_revision', '');

-- The running plugin's workspace; NULL outside a request.
CREATE FUNCTION plugin_storage.current_workspace() RETURNS text
	AS 'MODULE_PATHNAME', 'ps_current_workspace'
	LANGUAGE C STABLE PARALLEL RESTRICTED;

ALTER TABLE plugin_storage.workspace_kv ENABLE ROW LEVEL SECURITY;
ALTER TABLE plugin_storage.workspace_kv FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_member ON plugin_storage.workspace_kv
	USING (ns = plugin_storage.current_workspace())
	WITH CHECK (ns = plugin_storage.current_workspace());

-- Registry changes reach every backend's plugin cache.
CREATE FUNCTION plugin_storage._registry_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'ps_registry_changed' LANGUAGE C;
CREATE TRIGGER plugins_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plugin_storage.plugins
	FOR EACH STATEMENT EXECUTE FUNCTION plugin_storage._registry_changed();

-- The role (and schema) name of a plugin: ps_<name>, or for names longer
-- than 60 bytes ps_<first 47>_<12 hex digits of md5(name)>.
CREATE FUNCTION plugin_storage.plugin_role_name(name text) RETURNS name
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN CASE WHEN octet_length($1) <= 60 THEN 'ps_' || $1
		ELSE 'ps_' || left($1, 47) || '_' || left(md5($1), 12) END;

-- Refuse a name that is not ^[a-z0-9][a-z0-9_-]{0,62}$.
CREATE FUNCTION plugin_storage._check_name(what text, name text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF name IS NULL OR name !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
		RAISE EXCEPTION 'invalid % name %', what, coalesce(quote_literal(name), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Use 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit.';
	END IF;
END
$$;

-- Register a plugin: role, schema, KV table, registry row.  Idempotent; a
-- second call with another workspace moves the plugin to it.
CREATE FUNCTION plugin_storage.register_plugin(name text, workspace text DEFAULT NULL)
	RETURNS plugin_storage.plugins
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	p_name text := register_plugin.name;
	p_ws text := register_plugin.workspace;
	r plugin_storage.plugins;
	v_role name;
BEGIN
	PERFORM plugin_storage._check_name('plugin', p_name);
	IF p_ws IS NOT NULL THEN
		PERFORM plugin_storage._check_name('workspace', p_ws);
	END IF;
	SELECT * INTO r FROM plugin_storage.plugins p WHERE p.name = p_name FOR UPDATE;
	IF FOUND THEN
		IF r.workspace IS DISTINCT FROM p_ws THEN
			UPDATE plugin_storage.plugins p SET workspace = p_ws WHERE p.name = p_name
				RETURNING * INTO r;
		END IF;
		RETURN r;
	END IF;

	v_role := plugin_storage.plugin_role_name(p_name);
	IF EXISTS (SELECT 1 FROM plugin_storage.plugins p WHERE p.role = v_role) THEN
		RAISE EXCEPTION 'plugin name "%" maps to role "%", which another plugin uses', p_name, v_role
			USING ERRCODE = 'duplicate_object';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_role) THEN
		IF NOT EXISTS (SELECT 1 FROM pg_roles
					   WHERE rolname = v_role AND NOT rolcanlogin AND NOT rolsuper
						 AND shobj_description(oid, 'pg_authid') = 'plugin_storage plugin role') THEN
			RAISE EXCEPTION 'role "%" already exists and is not a plugin_storage plugin role', v_role
				USING ERRCODE = 'duplicate_object';
		END IF;
	ELSE
		EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', v_role);
		EXECUTE format('COMMENT ON ROLE %I IS %L', v_role, 'plugin_storage plugin role');
	END IF;
	EXECUTE format('GRANT plugin_storage_plugin TO %I', v_role);

	IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = v_role) THEN
		IF to_regclass(format('%I._ps_kv', v_role)) IS NULL THEN
			RAISE EXCEPTION 'schema "%" already exists and was not made by plugin_storage', v_role
				USING ERRCODE = 'duplicate_schema';
		END IF;
	ELSE
		EXECUTE format('CREATE SCHEMA %I', v_role);
	END IF;
	EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', v_role);
	EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', v_role, v_role);
	-- fillfactor 80 leaves room on each page for HOT updates of hot keys.
	-- ns is always '' here, set by the entry points: no CHECK for it, which
	-- every write would otherwise compile and evaluate again.
	EXECUTE format('CREATE TABLE IF NOT EXISTS %I._ps_kv (LIKE plugin_storage.workspace_kv INCLUDING ALL) WITH (fillfactor = 80)',
				   v_role);
	EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I._ps_kv_revision', v_role);
	EXECUTE format('REVOKE ALL ON %I._ps_kv FROM PUBLIC', v_role);
	EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I._ps_kv TO %I', v_role, v_role);
	EXECUTE format('GRANT USAGE ON SEQUENCE %I._ps_kv_revision TO %I', v_role, v_role);

	INSERT INTO plugin_storage.plugins (name, role, schema, workspace)
		VALUES (p_name, v_role, v_role, p_ws) RETURNING * INTO r;
	RETURN r;
END
$$;

-- Unregister a plugin.  With drop_data its schema (KV and tables) and, if it
-- has nothing left in other databases, its role are dropped; without, they
-- stay and register_plugin() reattaches them.  Workspace keys stay with the
-- workspace.
CREATE FUNCTION plugin_storage.unregister_plugin(name text, drop_data boolean DEFAULT false)
	RETURNS boolean
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	r plugin_storage.plugins;
BEGIN
	DELETE FROM plugin_storage.plugins p WHERE p.name = unregister_plugin.name RETURNING * INTO r;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF drop_data THEN
		EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.schema);
		BEGIN
			EXECUTE format('DROP OWNED BY %I', r.role);
			EXECUTE format('DROP ROLE %I', r.role);
		EXCEPTION WHEN dependent_objects_still_exist THEN
			RAISE WARNING 'role "%" kept: it still holds objects or privileges in another database', r.role;
		END;
	END IF;
	RETURN true;
END
$$;

-- KV entry points.  plugin_kv answers errors as {"error":{...}}; the
-- _plugin_kv_raise twin raises them (SQLSTATE by code) for the typed API.
CREATE FUNCTION plugin_storage.plugin_kv(plugin text, op text, request jsonb DEFAULT '{}')
	RETURNS jsonb AS 'MODULE_PATHNAME', 'plugin_kv' LANGUAGE C VOLATILE;
CREATE FUNCTION plugin_storage._plugin_kv_raise(plugin text, op text, request jsonb)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'plugin_kv_raise' LANGUAGE C VOLATILE;

-- Typed KV functions for DBAs: thin wrappers over _plugin_kv_raise.
CREATE FUNCTION plugin_storage.plugin_kv_set(plugin text, key text, value jsonb,
		ttl interval DEFAULT NULL, collection text DEFAULT 'default',
		scope text DEFAULT 'plugin', if_absent boolean DEFAULT false,
		if_revision bigint DEFAULT NULL)
	RETURNS bigint LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'set', jsonb_build_object(
		'key', $2, 'value', $3, 'ttl', extract(epoch FROM $4), 'collection', $5,
		'scope', $6, 'if_absent', $7, 'if_revision', $8)) ->> 'revision')::bigint;

CREATE FUNCTION plugin_storage.plugin_kv_set_bytes(plugin text, key text, value bytea,
		ttl interval DEFAULT NULL, collection text DEFAULT 'default',
		scope text DEFAULT 'plugin')
	RETURNS bigint LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'set', jsonb_build_object(
		'key', $2, 'value_b64', translate(encode($3, 'base64'), E'\n', ''),
		'ttl', extract(epoch FROM $4), 'collection', $5, 'scope', $6)) ->> 'revision')::bigint;

CREATE FUNCTION plugin_storage.plugin_kv_get(plugin text, key text,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS jsonb LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT CASE WHEN (r ->> 'exists')::boolean THEN r -> 'value' END
		FROM plugin_storage._plugin_kv_raise($1, 'get', jsonb_build_object(
			'key', $2, 'collection', $3, 'scope', $4)) AS r;
	END;

CREATE FUNCTION plugin_storage.plugin_kv_get_bytes(plugin text, key text,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS bytea LANGUAGE sql VOLATILE
	RETURN decode(plugin_storage._plugin_kv_raise($1, 'get', jsonb_build_object(
		'key', $2, 'collection', $3, 'scope', $4)) ->> 'value_b64', 'base64');

CREATE FUNCTION plugin_storage.plugin_kv_delete(plugin text, key text,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS boolean LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'delete', jsonb_build_object(
		'key', $2, 'collection', $3, 'scope', $4)) ->> 'deleted')::boolean;

CREATE FUNCTION plugin_storage.plugin_kv_list(plugin text, prefix text DEFAULT '',
		collection text DEFAULT 'default', scope text DEFAULT 'plugin',
		"limit" integer DEFAULT 100, cursor text DEFAULT NULL)
	RETURNS SETOF text LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT jsonb_array_elements_text(plugin_storage._plugin_kv_raise($1, 'list',
			jsonb_build_object('prefix', $2, 'collection', $3, 'scope', $4,
							   'limit', $5, 'cursor', $6)) -> 'keys');
	END;

CREATE FUNCTION plugin_storage.plugin_kv_incr(plugin text, key text, by bigint DEFAULT 1,
		ttl interval DEFAULT NULL, collection text DEFAULT 'default',
		scope text DEFAULT 'plugin')
	RETURNS bigint LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'incr', jsonb_build_object(
		'key', $2, 'by', $3, 'ttl', extract(epoch FROM $4), 'collection', $5,
		'scope', $6)) ->> 'value')::bigint;

CREATE FUNCTION plugin_storage.plugin_kv_mget(plugin text, keys text[],
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS TABLE (key text, found boolean, value jsonb, revision bigint)
	LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT i ->> 'key', (i ->> 'exists')::boolean,
			CASE WHEN (i ->> 'exists')::boolean THEN i -> 'value' END, (i ->> 'revision')::bigint
		FROM jsonb_array_elements(plugin_storage._plugin_kv_raise($1, 'mget',
			jsonb_build_object('keys', to_jsonb($2), 'collection', $3, 'scope', $4)) -> 'items') AS i;
	END;

CREATE FUNCTION plugin_storage.plugin_kv_mset(plugin text, items jsonb,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS integer LANGUAGE sql VOLATILE
	RETURN jsonb_array_length(plugin_storage._plugin_kv_raise($1, 'mset', jsonb_build_object(
		'items', $2, 'collection', $3, 'scope', $4)) -> 'revisions');

CREATE FUNCTION plugin_storage.plugin_kv_count(plugin text,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS bigint LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'count', jsonb_build_object(
		'collection', $2, 'scope', $3)) ->> 'count')::bigint;

CREATE FUNCTION plugin_storage.plugin_kv_exists(plugin text, key text,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS boolean LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'exists', jsonb_build_object(
		'key', $2, 'collection', $3, 'scope', $4)) ->> 'exists')::boolean;

CREATE FUNCTION plugin_storage.plugin_kv_clear(plugin text,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS bigint LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'clear', jsonb_build_object(
		'collection', $2, 'scope', $3)) ->> 'deleted')::bigint;

CREATE FUNCTION plugin_storage.plugin_kv_drop(plugin text, collection text,
		scope text DEFAULT 'plugin')
	RETURNS bigint LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'drop', jsonb_build_object(
		'collection', $2, 'scope', $3)) ->> 'deleted')::bigint;

CREATE FUNCTION plugin_storage.plugin_kv_collections(plugin text, scope text DEFAULT 'plugin')
	RETURNS SETOF text LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT jsonb_array_elements_text(plugin_storage._plugin_kv_raise($1, 'collections',
			jsonb_build_object('scope', $2)) -> 'collections');
	END;

CREATE FUNCTION plugin_storage.plugin_kv_all(plugin text, collection text DEFAULT 'default',
		"limit" integer DEFAULT 100, "offset" integer DEFAULT 0, scope text DEFAULT 'plugin')
	RETURNS TABLE (id text, data jsonb, created_at timestamptz, updated_at timestamptz)
	LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT d ->> 'id', d -> 'data', (d ->> 'created_at')::timestamptz,
			(d ->> 'updated_at')::timestamptz
		FROM jsonb_array_elements(plugin_storage._plugin_kv_raise($1, 'all',
			jsonb_build_object('collection', $2, 'limit', $3, 'offset', $4,
							   'scope', $5)) -> 'documents') AS d;
	END;

CREATE FUNCTION plugin_storage.plugin_kv_expire(plugin text, key text, ttl interval,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS boolean LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_kv_raise($1, 'expire', jsonb_build_object(
		'key', $2, 'ttl', extract(epoch FROM $3), 'collection', $4,
		'scope', $5)) ->> 'exists')::boolean;

CREATE FUNCTION plugin_storage.plugin_kv_ttl(plugin text, key text,
		collection text DEFAULT 'default', scope text DEFAULT 'plugin')
	RETURNS interval LANGUAGE sql VOLATILE
	RETURN make_interval(secs => (plugin_storage._plugin_kv_raise($1, 'ttl', jsonb_build_object(
		'key', $2, 'collection', $3, 'scope', $4)) ->> 'ttl')::double precision);

-- One sweep pass by hand (for pg_cron users without the preloaded worker).
CREATE FUNCTION plugin_storage.sweep(max_keys bigint DEFAULT NULL) RETURNS bigint
	AS 'MODULE_PATHNAME', 'ps_sweep' LANGUAGE C VOLATILE;

-- What a plugin keeps here: tables, sizes, keys, migrations (docs/sql-api.md).
-- Rows are counted as the plugin, read-only; exact_counts => false only
-- estimates them.  SECURITY DEFINER so that callers (the bridge, pg_monitor)
-- need no privileges on the registry and history tables.  Served by the bridge on db.inspect.<plugin>.
CREATE FUNCTION plugin_storage.inspect(plugin text, exact_counts boolean DEFAULT true)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'ps_inspect' LANGUAGE C VOLATILE
	SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
GRANT EXECUTE ON FUNCTION plugin_storage.inspect(text, boolean)
	TO plugin_storage_bridge, pg_monitor;

-- What the sweep worker did since the server started (docs/sql-api.md).
CREATE FUNCTION plugin_storage._sweeper_status(
		OUT database text, OUT pid integer, OUT started timestamptz,
		OUT passes bigint, OUT keys_swept bigint, OUT errors bigint,
		OUT last_start timestamptz, OUT last_end timestamptz,
		OUT last_duration_ms double precision, OUT last_keys bigint,
		OUT last_tables integer, OUT last_error_at timestamptz,
		OUT last_error_plugin text, OUT last_error text)
	RETURNS SETOF record AS 'MODULE_PATHNAME', 'ps_sweeper_status'
	LANGUAGE C VOLATILE;
CREATE VIEW plugin_storage.sweeper AS SELECT * FROM plugin_storage._sweeper_status();
COMMENT ON VIEW plugin_storage.sweeper IS 'The TTL sweep worker: keys swept, last pass, errors';
GRANT SELECT ON plugin_storage.sweeper TO pg_monitor;
GRANT EXECUTE ON FUNCTION plugin_storage._sweeper_status() TO pg_monitor;

-- Privileges (PUBLIC loses EXECUTE at the end of this script):
-- the bridge may call the KV entry points and read the registry; plugin
-- roles reach workspace_kv, under its policy, and nothing else here.
GRANT USAGE ON SCHEMA plugin_storage TO plugin_storage_bridge, plugin_storage_plugin;
GRANT SELECT ON plugin_storage.plugins TO plugin_storage_bridge;
GRANT EXECUTE ON FUNCTION
	plugin_storage.plugin_kv(text, text, jsonb),
	plugin_storage._plugin_kv_raise(text, text, jsonb),
	plugin_storage.plugin_role_name(text),
	plugin_storage.plugin_kv_set(text, text, jsonb, interval, text, text, boolean, bigint),
	plugin_storage.plugin_kv_set_bytes(text, text, bytea, interval, text, text),
	plugin_storage.plugin_kv_get(text, text, text, text),
	plugin_storage.plugin_kv_get_bytes(text, text, text, text),
	plugin_storage.plugin_kv_delete(text, text, text, text),
	plugin_storage.plugin_kv_list(text, text, text, text, integer, text),
	plugin_storage.plugin_kv_incr(text, text, bigint, interval, text, text),
	plugin_storage.plugin_kv_mget(text, text[], text, text),
	plugin_storage.plugin_kv_mset(text, jsonb, text, text),
	plugin_storage.plugin_kv_count(text, text, text),
	plugin_storage.plugin_kv_exists(text, text, text, text),
	plugin_storage.plugin_kv_clear(text, text, text),
	plugin_storage.plugin_kv_drop(text, text, text),
	plugin_storage.plugin_kv_collections(text, text),
	plugin_storage.plugin_kv_all(text, text, integer, integer, text),
	plugin_storage.plugin_kv_expire(text, text, interval, text, text),
	plugin_storage.plugin_kv_ttl(text, text, text, text)
	TO plugin_storage_bridge;
GRANT SELECT, INSERT, UPDATE, DELETE ON plugin_storage.workspace_kv TO plugin_storage_plugin;
GRANT USAGE ON SEQUENCE plugin_storage.workspace_kv_revision TO plugin_storage_plugin;

-- Row tier --------------------------------------------------------------------
-- The named row tier (docs/row.md): tables of the plugin's schema, defined and
-- used through JSON requests.  plugin_row answers errors as {"error":{...}};
-- the _plugin_row_raise twin raises them (SQLSTATE by code) for the typed
-- plugin_row_* functions below.
CREATE FUNCTION plugin_storage.plugin_row(plugin text, op text, request jsonb DEFAULT '{}')
	RETURNS jsonb AS 'MODULE_PATHNAME', 'plugin_row' LANGUAGE C VOLATILE;
CREATE FUNCTION plugin_storage._plugin_row_raise(plugin text, op text, request jsonb)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'plugin_row_raise' LANGUAGE C VOLATILE;

-- Typed row functions for DBAs: thin wrappers over _plugin_row_raise.
CREATE FUNCTION plugin_storage.plugin_row_define(plugin text, "table" text,
		columns jsonb DEFAULT '{}', primary_key jsonb DEFAULT NULL,
		indexes jsonb DEFAULT NULL, "unique" jsonb DEFAULT NULL)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_row_raise($1, 'define', jsonb_build_object(
		'table', $2, 'columns', $3, 'primary_key', $4, 'indexes', $5, 'unique', $6));

CREATE FUNCTION plugin_storage.plugin_row_describe(plugin text, "table" text)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_row_raise($1, 'describe', jsonb_build_object('table', $2));

CREATE FUNCTION plugin_storage.plugin_row_tables(plugin text)
	RETURNS TABLE (name text, rows_estimate bigint) LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT t ->> 'name', (t ->> 'rows_estimate')::bigint
		FROM jsonb_array_elements(plugin_storage._plugin_row_raise($1, 'tables', '{}') -> 'tables') AS t;
	END;

CREATE FUNCTION plugin_storage.plugin_row_drop_table(plugin text, "table" text)
	RETURNS boolean LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_row_raise($1, 'drop_table', jsonb_build_object(
		'table', $2, 'confirm', true)) ->> 'dropped')::boolean;

CREATE FUNCTION plugin_storage.plugin_row_insert(plugin text, "table" text, data jsonb)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_row_raise($1, 'insert', jsonb_build_object(
		'table', $2, 'data', $3)) -> 'id';

CREATE FUNCTION plugin_storage.plugin_row_insert_many(plugin text, "table" text, "rows" jsonb)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_row_raise($1, 'insert', jsonb_build_object(
		'table', $2, 'rows', $3)) -> 'ids';

CREATE FUNCTION plugin_storage.plugin_row_upsert(plugin text, "table" text, data jsonb,
		"on" text[] DEFAULT NULL)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_row_raise($1, 'upsert', jsonb_build_object(
		'table', $2, 'data', $3, 'on', to_jsonb($4)));

CREATE FUNCTION plugin_storage.plugin_row_select(plugin text, "table" text, id jsonb)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_row_raise($1, 'select', jsonb_build_object(
		'table', $2, 'id', $3)) -> 'rows' -> 0;

CREATE FUNCTION plugin_storage.plugin_row_search(plugin text, "table" text,
		filters jsonb DEFAULT '{}', sort jsonb DEFAULT NULL, "limit" integer DEFAULT 100,
		"offset" integer DEFAULT 0, fields text[] DEFAULT NULL)
	RETURNS SETOF jsonb LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT jsonb_array_elements(plugin_storage._plugin_row_raise($1, 'search',
			jsonb_build_object('table', $2, 'filters', $3, 'sort', $4, 'limit', $5,
							   'offset', $6, 'fields', to_jsonb($7))) -> 'rows');
	END;

CREATE FUNCTION plugin_storage.plugin_row_aggregate(plugin text, "table" text,
		aggregates jsonb, group_by text[] DEFAULT NULL, filters jsonb DEFAULT '{}',
		sort jsonb DEFAULT NULL, "limit" integer DEFAULT 100)
	RETURNS SETOF jsonb LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT jsonb_array_elements(plugin_storage._plugin_row_raise($1, 'aggregate',
			jsonb_build_object('table', $2, 'aggregates', $3, 'group_by', to_jsonb($4),
							   'filters', $5, 'sort', $6, 'limit', $7)) -> 'rows');
	END;

CREATE FUNCTION plugin_storage.plugin_row_update(plugin text, "table" text, filters jsonb,
		operations jsonb, "all" boolean DEFAULT false)
	RETURNS bigint LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_row_raise($1, 'update', jsonb_build_object(
		'table', $2, 'filters', $3, 'operations', $4, 'all', $5)) ->> 'updated')::bigint;

CREATE FUNCTION plugin_storage.plugin_row_delete(plugin text, "table" text, filters jsonb,
		"all" boolean DEFAULT false)
	RETURNS bigint LANGUAGE sql VOLATILE
	RETURN (plugin_storage._plugin_row_raise($1, 'delete', jsonb_build_object(
		'table', $2, 'filters', $3, 'all', $4)) ->> 'deleted')::bigint;

-- Privileges: the bridge may call the row entry points.
GRANT EXECUTE ON FUNCTION
	plugin_storage.plugin_row(text, text, jsonb),
	plugin_storage._plugin_row_raise(text, text, jsonb),
	plugin_storage.plugin_row_define(text, text, jsonb, jsonb, jsonb, jsonb),
	plugin_storage.plugin_row_describe(text, text),
	plugin_storage.plugin_row_tables(text),
	plugin_storage.plugin_row_drop_table(text, text),
	plugin_storage.plugin_row_insert(text, text, jsonb),
	plugin_storage.plugin_row_insert_many(text, text, jsonb),
	plugin_storage.plugin_row_upsert(text, text, jsonb, text[]),
	plugin_storage.plugin_row_select(text, text, jsonb),
	plugin_storage.plugin_row_search(text, text, jsonb, jsonb, integer, integer, text[]),
	plugin_storage.plugin_row_aggregate(text, text, jsonb, text[], jsonb, jsonb, integer),
	plugin_storage.plugin_row_update(text, text, jsonb, jsonb, boolean),
	plugin_storage.plugin_row_delete(text, text, jsonb, boolean)
	TO plugin_storage_bridge;

-- Migrations ------------------------------------------------------------------
-- Versioned SQL migrations of a plugin's schema (docs/migrations.md).  The
-- history of applied versions is written by the entry points as the caller:
-- plugin roles have no privilege on it.
CREATE TABLE plugin_storage.migrations (
	plugin text COLLATE "C" NOT NULL
		REFERENCES plugin_storage.plugins (name) ON DELETE CASCADE,
	version text COLLATE "C" NOT NULL,
	checksum text NOT NULL,
	up text NOT NULL,
	down text,
	applied_at timestamptz NOT NULL,
	applied_by text NOT NULL,
	duration_ms double precision NOT NULL,
	PRIMARY KEY (plugin, version)
);
COMMENT ON TABLE plugin_storage.migrations IS 'Applied migrations of each plugin: checksum and text of up, down, when, by whom';
SELECT pg_catalog.pg_extension_config_dump('plugin_storage.migrations', '');

-- plugin_migrate answers errors as {"error":{...}}; the _plugin_migrate_raise
-- twin raises them (SQLSTATE by code) for the typed functions below.
CREATE FUNCTION plugin_storage.plugin_migrate(plugin text, request jsonb)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'plugin_migrate' LANGUAGE C VOLATILE;
CREATE FUNCTION plugin_storage._plugin_migrate_raise(plugin text, request jsonb)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'plugin_migrate_raise' LANGUAGE C VOLATILE;

-- Typed migration functions for DBAs: thin wrappers over _plugin_migrate_raise.
CREATE FUNCTION plugin_storage.migrate_apply(plugin text, migrations jsonb,
		dry_run boolean DEFAULT false, target text DEFAULT NULL)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_migrate_raise($1, jsonb_build_object(
		'action', 'apply', 'migrations', $2, 'dry_run', $3, 'target', $4));

CREATE FUNCTION plugin_storage.migrate_rollback(plugin text, target text,
		dry_run boolean DEFAULT false)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_migrate_raise($1, jsonb_build_object(
		'action', 'rollback', 'target', $2, 'dry_run', $3));

CREATE FUNCTION plugin_storage.migration_status(plugin text)
	RETURNS TABLE (version text, name text, checksum text, applied_at timestamptz,
		applied_by text, duration_ms double precision, has_down boolean)
	LANGUAGE sql VOLATILE
	BEGIN ATOMIC
		SELECT a ->> 'version', a ->> 'name', a ->> 'checksum',
			(a ->> 'applied_at')::timestamptz, a ->> 'applied_by',
			(a ->> 'duration_ms')::double precision, (a ->> 'has_down')::boolean
		FROM jsonb_array_elements(plugin_storage._plugin_migrate_raise($1,
			'{"action": "status"}') -> 'applied') WITH ORDINALITY AS t(a, i)
		ORDER BY i;
	END;

-- Privileges: the bridge may call the migration entry points, and writes the
-- history through them as itself.
GRANT SELECT, INSERT, DELETE ON plugin_storage.migrations TO plugin_storage_bridge;
GRANT EXECUTE ON FUNCTION
	plugin_storage.plugin_migrate(text, jsonb),
	plugin_storage._plugin_migrate_raise(text, jsonb),
	plugin_storage.migrate_apply(text, jsonb, boolean, text),
	plugin_storage.migrate_rollback(text, text, boolean),
	plugin_storage.migration_status(text)
	TO plugin_storage_bridge;

-- SQL tier --------------------------------------------------------------------
-- The SQL tier (docs/sql.md): one SELECT, INSERT, UPDATE or DELETE written by
-- the plugin, with :name placeholders bound as parameters, run under the
-- plugin's role in the sandbox.  plugin_sql answers errors as {"error":{...}};
-- the _plugin_sql_raise twin raises them (SQLSTATE by code).
CREATE FUNCTION plugin_storage.plugin_sql(plugin text, request jsonb)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'plugin_sql' LANGUAGE C VOLATILE;
CREATE FUNCTION plugin_storage._plugin_sql_raise(plugin text, request jsonb)
	RETURNS jsonb AS 'MODULE_PATHNAME', 'plugin_sql_raise' LANGUAGE C VOLATILE;

-- For DBAs: the same request from typed arguments (NULL: the plugin's
-- limit); the reply, or an ERROR.
CREATE FUNCTION plugin_storage.plugin_sql_query(plugin text, query text,
		params jsonb DEFAULT '{}', allow_write boolean DEFAULT false,
		max_rows integer DEFAULT NULL, timeout_ms integer DEFAULT NULL)
	RETURNS jsonb LANGUAGE sql VOLATILE
	RETURN plugin_storage._plugin_sql_raise($1, jsonb_build_object(
		'query', $2, 'params', $3, 'allow_write', $4, 'max_rows', $5,
		'timeout_ms', $6));

-- A plugin's own guardrails for the SQL tier: each column overrides the
-- plugin_storage.sql_* setting of the same name; NULL means the setting.
CREATE TABLE plugin_storage.plugin_limits (
	plugin text COLLATE "C" PRIMARY KEY
		REFERENCES plugin_storage.plugins (name) ON DELETE CASCADE,
	statement_timeout_ms integer CHECK (statement_timeout_ms > 0),
	max_rows integer CHECK (max_rows BETWEEN 1 AND 2147483646),
	max_result_bytes integer CHECK (max_result_bytes BETWEEN 1 AND 268435455),
	rate_limit real CHECK (rate_limit >= 0 AND rate_limit <= 1e9),
	rate_burst integer CHECK (rate_burst > 0)
);
COMMENT ON TABLE plugin_storage.plugin_limits IS 'Per-plugin overrides of the plugin_storage.sql_* settings (NULL: the setting)';
SELECT pg_catalog.pg_extension_config_dump('plugin_storage.plugin_limits', '');
-- Changes reach every backend's plugin cache, which holds the limits.
CREATE TRIGGER plugin_limits_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plugin_storage.plugin_limits
	FOR EACH STATEMENT EXECUTE FUNCTION plugin_storage._registry_changed();

-- Set a plugin's limits: every one at once, an omitted (NULL) one falls back
-- to its setting.  For superusers and the extension's owner.
CREATE FUNCTION plugin_storage.set_plugin_limits(plugin text,
		statement_timeout_ms integer DEFAULT NULL, max_rows integer DEFAULT NULL,
		max_result_bytes integer DEFAULT NULL, rate_limit real DEFAULT NULL,
		rate_burst integer DEFAULT NULL)
	RETURNS plugin_storage.plugin_limits
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	r plugin_storage.plugin_limits;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM plugin_storage.plugins p WHERE p.name = $1) THEN
		RAISE EXCEPTION 'plugin "%" is not registered', $1
			USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO plugin_storage.plugin_limits AS l
			(plugin, statement_timeout_ms, max_rows, max_result_bytes, rate_limit, rate_burst)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (plugin) DO UPDATE SET
			statement_timeout_ms = EXCLUDED.statement_timeout_ms,
			max_rows = EXCLUDED.max_rows,
			max_result_bytes = EXCLUDED.max_result_bytes,
			rate_limit = EXCLUDED.rate_limit,
			rate_burst = EXCLUDED.rate_burst
		RETURNING * INTO r;
	RETURN r;
END
$$;

-- Privileges: the bridge may call the SQL entry points and read the limits
-- (its plugin cache reads them with the registry).
GRANT SELECT ON plugin_storage.plugin_limits TO plugin_storage_bridge;
GRANT EXECUTE ON FUNCTION
	plugin_storage.plugin_sql(text, jsonb),
	plugin_storage._plugin_sql_raise(text, jsonb),
	plugin_storage.plugin_sql_query(text, text, jsonb, boolean, integer, integer)
	TO plugin_storage_bridge;

-- Functions are executable by PUBLIC when created: take that back from every
-- function of the extension, except current_workspace(), which the
-- workspace_kv policy calls as the plugin role.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA plugin_storage FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plugin_storage.current_workspace() TO PUBLIC;
