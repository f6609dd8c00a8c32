-- registry: register_plugin() gives each plugin a role, a schema and a KV
-- table, and records it; unregister_plugin() reverses it.

-- A plugin gets a NOLOGIN role ps_<name> and a schema of the same name.
SELECT name, role, schema, workspace FROM plugin_storage.register_plugin('quote-db');
SELECT rolname, rolcanlogin, rolsuper, rolinherit FROM pg_roles WHERE rolname = 'ps_quote-db';
SELECT nspname FROM pg_namespace WHERE nspname = 'ps_quote-db';
SELECT relname FROM pg_class WHERE relnamespace = '"ps_quote-db"'::regnamespace AND relkind IN ('r', 'S') ORDER BY 1;

-- Registering again changes nothing (idempotent) ...
SELECT name, role, schema, workspace FROM plugin_storage.register_plugin('quote-db');
SELECT count(*) FROM plugin_storage.plugins WHERE name = 'quote-db';
-- ... except the workspace, when another one is given.
SELECT name, workspace FROM plugin_storage.register_plugin('quote-db', 'team-a');
SELECT name, workspace FROM plugin_storage.register_plugin('quote-db');

-- quote-db and quote_db are different plugins with different roles and schemas.
SELECT name, role, schema FROM plugin_storage.register_plugin('quote_db');
SELECT name, role FROM plugin_storage.plugins WHERE name LIKE 'quote%' ORDER BY name;

-- Names are ^[a-z0-9][a-z0-9_-]{0,62}$: anything else is refused.
SELECT plugin_storage.register_plugin('Quote');
SELECT plugin_storage.register_plugin('');
SELECT plugin_storage.register_plugin('-x');
SELECT plugin_storage.register_plugin('a b');
SELECT plugin_storage.register_plugin('x"; DROP TABLE plugin_storage.plugins; --');
SELECT plugin_storage.register_plugin('../t');
SELECT plugin_storage.register_plugin(repeat('a', 64));
SELECT plugin_storage.register_plugin(NULL);
SELECT plugin_storage.register_plugin('ok', 'Bad Workspace');

-- A 63-character name fits, its role name is shortened with a hash, and a
-- name differing only at the end gets a different role.
SELECT role, length(role) FROM plugin_storage.register_plugin(repeat('a', 62) || 'b');
SELECT role, length(role) FROM plugin_storage.register_plugin(repeat('a', 62) || 'c');

-- An existing role that is not a plugin_storage plugin role is never taken over.
CREATE ROLE "ps_taken" LOGIN;
SELECT plugin_storage.register_plugin('taken');
DROP ROLE "ps_taken";

-- Unregister without drop_data keeps the data; registering again reattaches it.
SELECT name FROM plugin_storage.register_plugin('keeper');
SELECT plugin_storage.plugin_kv_set('keeper', 'k', '"kept"');
SELECT plugin_storage.unregister_plugin('keeper');
SELECT plugin_storage.plugin_kv('keeper', 'get', '{"key": "k"}');
SELECT name FROM plugin_storage.register_plugin('keeper');
SELECT plugin_storage.plugin_kv_get('keeper', 'k');

-- Unregister with drop_data drops the schema and the role.
SELECT plugin_storage.unregister_plugin('keeper', drop_data => true);
SELECT count(*) FROM pg_namespace WHERE nspname = 'ps_keeper';
SELECT count(*) FROM pg_roles WHERE rolname = 'ps_keeper';
-- Unregistering an unknown plugin says so.
SELECT plugin_storage.unregister_plugin('keeper');

-- Clean up.
SELECT plugin_storage.unregister_plugin(name, true) FROM plugin_storage.plugins ORDER BY name;
SELECT count(*) FROM plugin_storage.plugins;
