-- kv_workspace: plugins registered in the same workspace share a workspace
-- KV namespace (seed 001's workspace storage).  It lives in one table,
-- plugin_storage.workspace_kv, behind FORCE ROW LEVEL SECURITY: a plugin
-- sees and writes its own workspace's rows only.
SELECT name, workspace FROM plugin_storage.register_plugin('greeter', 'acme');
SELECT name, workspace FROM plugin_storage.register_plugin('logger', 'acme');
SELECT name, workspace FROM plugin_storage.register_plugin('rival', 'globex');

-- greeter writes a shared key; logger, in the same workspace, reads it.
SELECT plugin_storage.plugin_kv('greeter', 'set', '{"scope": "workspace", "key": "shared_config", "value": {"theme": "dark"}}') -> 'ok';
SELECT plugin_storage.plugin_kv('logger', 'get', '{"scope": "workspace", "key": "shared_config"}') -> 'value';
-- rival, in another workspace, sees nothing of it ...
SELECT plugin_storage.plugin_kv('rival', 'get', '{"scope": "workspace", "key": "shared_config"}');
SELECT plugin_storage.plugin_kv('rival', 'list', '{"scope": "workspace"}');
SELECT plugin_storage.plugin_kv('rival', 'count', '{"scope": "workspace"}');
-- ... and its own key of the same name is a different key.
SELECT plugin_storage.plugin_kv('rival', 'set', '{"scope": "workspace", "key": "shared_config", "value": "rival"}') -> 'ok';
SELECT plugin_storage.plugin_kv('greeter', 'get', '{"scope": "workspace", "key": "shared_config"}') -> 'value';
SELECT plugin_storage.plugin_kv('rival', 'get', '{"scope": "workspace", "key": "shared_config"}') -> 'value';
-- Workspace keys and private keys are separate namespaces.
SELECT plugin_storage.plugin_kv('greeter', 'get', '{"key": "shared_config"}') -> 'exists';

-- Every operation works in workspace scope.
SELECT plugin_storage.plugin_kv('logger', 'incr', '{"scope": "workspace", "key": "visits"}') -> 'value';
SELECT plugin_storage.plugin_kv('greeter', 'incr', '{"scope": "workspace", "key": "visits"}') -> 'value';
SELECT plugin_storage.plugin_kv('greeter', 'mset', '{"scope": "workspace", "items": [{"key": "a", "value": 1}, {"key": "b", "value_b64": "AQ=="}]}') -> 'ok';
SELECT jsonb_path_query_array(plugin_storage.plugin_kv('logger', 'mget', '{"scope": "workspace", "keys": ["a", "b", "c"]}'), '$.items[*].exists');
SELECT plugin_storage.plugin_kv('logger', 'list', '{"scope": "workspace"}');
SELECT plugin_storage.plugin_kv('logger', 'collections', '{"scope": "workspace"}');
SELECT plugin_storage.plugin_kv('logger', 'exists', '{"scope": "workspace", "key": "a"}');
SELECT plugin_storage.plugin_kv('logger', 'expire', '{"scope": "workspace", "key": "a", "ttl": 100}') -> 'exists';
SELECT plugin_storage.plugin_kv('logger', 'ttl', '{"scope": "workspace", "key": "a"}') -> 'exists';
SELECT plugin_storage.plugin_kv('logger', 'delete', '{"scope": "workspace", "key": "a"}');
SELECT jsonb_path_query_array(plugin_storage.plugin_kv('logger', 'all', '{"scope": "workspace"}'), '$.documents[*].id');
SELECT plugin_storage.plugin_kv_get('logger', 'visits', scope => 'workspace');
-- rival's clear touches only globex.
SELECT plugin_storage.plugin_kv('rival', 'clear', '{"scope": "workspace"}');
SELECT plugin_storage.plugin_kv('greeter', 'count', '{"scope": "workspace"}');

-- Rows are tagged with their workspace (ns); the table holds both.
SELECT ns, count(*) FROM plugin_storage.workspace_kv GROUP BY ns ORDER BY ns;

-- Moving a plugin to another workspace moves what it sees, at once.
SELECT name, workspace FROM plugin_storage.register_plugin('logger', 'globex');
SELECT plugin_storage.plugin_kv('logger', 'get', '{"scope": "workspace", "key": "visits"}') -> 'exists';
SELECT name, workspace FROM plugin_storage.register_plugin('logger', 'acme');
SELECT plugin_storage.plugin_kv('logger', 'get', '{"scope": "workspace", "key": "visits"}') -> 'value';

SELECT plugin_storage.unregister_plugin(p, true) FROM unnest(ARRAY['greeter', 'logger', 'rival']) p;
-- Workspace keys outlive the plugins: they belong to the workspace.
SELECT ns, count(*) FROM plugin_storage.workspace_kv GROUP BY ns ORDER BY ns;
DELETE FROM plugin_storage.workspace_kv;
