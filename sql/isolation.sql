-- isolation: PostgreSQL itself keeps plugins apart.  Each request runs under
-- the plugin's own role in a security-restricted context; plugin roles can
-- reach nothing but their own schema and their workspace's rows, and cannot
-- call the entry points at all.
SELECT name FROM plugin_storage.register_plugin('alpha', 'ws-a');
SELECT name FROM plugin_storage.register_plugin('beta', 'ws-b');
SELECT name FROM plugin_storage.register_plugin('gamma', 'ws-a');
SELECT plugin_storage.plugin_kv('alpha', 'set', '{"key": "secret", "value": "alpha-secret"}') -> 'ok';
SELECT plugin_storage.plugin_kv('beta', 'set', '{"key": "secret", "value": "beta-secret"}') -> 'ok';
SELECT plugin_storage.plugin_kv('beta', 'set', '{"key": "beta-only", "value": 1, "collection": "private"}') -> 'ok';
SELECT plugin_storage.plugin_kv('beta', 'set', '{"key": "ws-key", "value": "b", "scope": "workspace"}') -> 'ok';

-- Through the entry points, alpha can neither read, list, count nor learn
-- the existence of beta's keys: it sees only its own.
SELECT plugin_storage.plugin_kv('alpha', 'get', '{"key": "secret"}') -> 'value';
SELECT plugin_storage.plugin_kv('alpha', 'get', '{"key": "beta-only", "collection": "private"}') -> 'exists';
SELECT plugin_storage.plugin_kv('alpha', 'exists', '{"key": "beta-only", "collection": "private"}');
SELECT plugin_storage.plugin_kv('alpha', 'list', '{}');
SELECT plugin_storage.plugin_kv('alpha', 'list', '{"collection": "private"}');
SELECT plugin_storage.plugin_kv('alpha', 'count', '{"collection": "private"}');
SELECT plugin_storage.plugin_kv('alpha', 'collections', '{}');
SELECT plugin_storage.plugin_kv('alpha', 'delete', '{"key": "beta-only", "collection": "private"}');
SELECT plugin_storage.plugin_kv('beta', 'exists', '{"key": "beta-only", "collection": "private"}');
-- Nor beta's workspace rows: alpha is in ws-a, beta in ws-b.
SELECT plugin_storage.plugin_kv('alpha', 'get', '{"key": "ws-key", "scope": "workspace"}') -> 'exists';
SELECT plugin_storage.plugin_kv('alpha', 'list', '{"scope": "workspace"}');
SELECT plugin_storage.plugin_kv('gamma', 'set', '{"key": "ws-key", "value": "a", "scope": "workspace"}') -> 'ok';
SELECT plugin_storage.plugin_kv('alpha', 'get', '{"key": "ws-key", "scope": "workspace"}') -> 'value';
SELECT plugin_storage.plugin_kv('beta', 'get', '{"key": "ws-key", "scope": "workspace"}') -> 'value';

-- The request really runs as the plugin's role, restricted: a trigger on
-- alpha's KV table (installed by the DBA) reports who runs it, and what
-- PostgreSQL refuses to let it do.
CREATE FUNCTION public.regress_probe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'current_user = %, effective search path = %', current_user, current_schemas(true);
	BEGIN
		SET ROLE postgres;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'SET ROLE: %', SQLERRM;
	END;
	BEGIN
		RESET ROLE;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'RESET ROLE: %', SQLERRM;
	END;
	BEGIN
		PERFORM set_config('role', 'postgres', true);
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'set_config(role): %', SQLERRM;
	END;
	BEGIN
		SET SESSION AUTHORIZATION postgres;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'SET SESSION AUTHORIZATION: %', SQLERRM;
	END;
	BEGIN
		PERFORM set_config('session_authorization', 'postgres', true);
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'set_config(session_authorization): %', SQLERRM;
	END;
	BEGIN
		PERFORM count(*) FROM "ps_beta"._ps_kv;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'read beta: %', SQLERRM;
	END;
	BEGIN
		INSERT INTO plugin_storage.workspace_kv VALUES ('ws-b', 'default', 'planted', '1', NULL, 1, now(), now(), NULL);
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'write ws-b: %', SQLERRM;
	END;
	BEGIN
		PERFORM plugin_storage.plugin_kv('beta', 'get', '{"key": "secret"}');
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'call entry point: %', SQLERRM;
	END;
	BEGIN
		PERFORM count(*) FROM plugin_storage.plugins;
	EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'read registry: %', SQLERRM;
	END;
	RETURN NEW;
END
$$;
CREATE TRIGGER regress_probe BEFORE INSERT OR UPDATE ON "ps_alpha"._ps_kv
	FOR EACH ROW EXECUTE FUNCTION public.regress_probe();
SELECT plugin_storage.plugin_kv('alpha', 'set', '{"key": "probe", "value": 1}') -> 'ok';
DROP TRIGGER regress_probe ON "ps_alpha"._ps_kv;
DROP FUNCTION public.regress_probe();
-- After the request, the caller is itself again.
SELECT current_user, current_schemas(true);
SELECT count(*) FROM plugin_storage.workspace_kv WHERE key = 'planted';

-- A plugin role cannot call the entry points at all, for itself or others,
-- nor touch another plugin's schema or the registry.
SET ROLE "ps_alpha";
SELECT plugin_storage.plugin_kv('alpha', 'get', '{"key": "secret"}');
SELECT plugin_storage.plugin_kv('beta', 'get', '{"key": "secret"}');
SELECT plugin_storage.plugin_kv_get('beta', 'secret');
SELECT * FROM "ps_beta"._ps_kv;
SELECT * FROM plugin_storage.plugins;
SELECT plugin_storage.register_plugin('evil');
-- Outside a request it sees no workspace rows at all, and cannot plant any.
SELECT count(*) FROM plugin_storage.workspace_kv;
INSERT INTO plugin_storage.workspace_kv VALUES ('ws-b', 'default', 'planted', '1', NULL, 1, now(), now(), NULL);
RESET ROLE;

-- The bridge's role may call the entry points, and nothing more.
CREATE ROLE regress_bridge LOGIN IN ROLE plugin_storage_bridge;
SET ROLE regress_bridge;
SELECT plugin_storage.plugin_kv('alpha', 'get', '{"key": "secret"}') -> 'value';
SELECT plugin_storage.plugin_kv_get('beta', 'secret');
SELECT * FROM "ps_alpha"._ps_kv;
SELECT count(*) FROM plugin_storage.workspace_kv;
SELECT plugin_storage.register_plugin('evil');
SELECT plugin_storage.unregister_plugin('alpha', true);
SELECT plugin_storage.sweep();
UPDATE plugin_storage.plugins SET workspace = 'ws-b' WHERE name = 'alpha';
RESET ROLE;

-- Any other role (PUBLIC) can do nothing.
CREATE ROLE regress_nobody;
SET ROLE regress_nobody;
SELECT plugin_storage.plugin_kv('alpha', 'get', '{"key": "secret"}');
RESET ROLE;

-- Who may execute what, from the catalog.
SELECT p.proname, has_function_privilege('regress_bridge', p.oid, 'EXECUTE') AS bridge,
	has_function_privilege('ps_alpha', p.oid, 'EXECUTE') AS plugin,
	has_function_privilege('regress_nobody', p.oid, 'EXECUTE') AS public
	FROM pg_proc p WHERE p.pronamespace = 'plugin_storage'::regnamespace ORDER BY 1;

DROP ROLE regress_bridge;
DROP ROLE regress_nobody;
SELECT plugin_storage.unregister_plugin(p, true) FROM unnest(ARRAY['alpha', 'beta', 'gamma']) p;
DELETE FROM plugin_storage.workspace_kv;
