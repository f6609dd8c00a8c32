/*
 * jetstream_ops.c
 *		The js-get and js-put modes: the same workload on JetStream KV.
 *
 * This is the peer the bridge is compared with: a NATS-native durable KV
 * store on the same nats-server. Each connection binds to the bucket
 * (--bucket), creating it with history 1 and file storage if it does not
 * exist. A put is kvStore_Put of --value-bytes bytes, acknowledged by the
 * server once stored; a get is kvStore_Get and must find the key.
 */
#include <stdio.h>
#include <string.h>

#include "loadgen.h"

/* Bind the connection to the bucket, creating the bucket if needed */
static natsStatus
JsSetup(lg_conn *c, const lg_config *cfg)
{
	jsOptions jso;
	kvConfig kvc;
	natsStatus s;

	s = jsOptions_Init(&jso);
	if (s == NATS_OK)
	{
		jso.Wait = cfg->timeout_ms;
		s = natsConnection_JetStream(&c->js, c->nc, &jso);
	}
	if (s == NATS_OK)
		s = js_KeyValue(&c->kv, c->js, cfg->bucket);
	if (s == NATS_NOT_FOUND)
	{
		kvConfig_Init(&kvc);
		kvc.Bucket = cfg->bucket;
		kvc.History = 1;
		kvc.StorageType = js_FileStorage;
		s = js_CreateKeyValue(&c->kv, c->js, &kvc);
	}
	return s;
}

/* Put the configured value under one key */
static bool
JsPut(lg_worker *w, int key, char *err, size_t errlen)
{
	char name[32];
	uint64_t rev = 0;
	natsStatus s;

	lg_format_key(name, sizeof(name), key);
	s = kvStore_Put(&rev, w->conn->kv, name, w->cfg->value,
					w->cfg->value_bytes);
	if (s != NATS_OK)
	{
		snprintf(err, errlen, "put %s: %s", name, natsStatus_GetText(s));
		return false;
	}
	return true;
}

/* Get one key; it must exist */
static bool
JsGet(lg_worker *w, int key, char *err, size_t errlen)
{
	char name[32];
	kvEntry *e = NULL;
	natsStatus s;
	int len;

	lg_format_key(name, sizeof(name), key);
	s = kvStore_Get(&e, w->conn->kv, name);
	if (s != NATS_OK)
	{
		snprintf(err, errlen, "get %s: %s", name, natsStatus_GetText(s));
		return false;
	}
	len = kvEntry_ValueLen(e);
	kvEntry_Destroy(e);
	if (len != w->cfg->value_bytes)
	{
		snprintf(err, errlen, "get %s: value of %d bytes, expected %d", name,
				 len, w->cfg->value_bytes);
		return false;
	}
	return true;
}

const lg_mode lg_mode_js_get = {"js-get", JsSetup, JsPut, JsGet};
const lg_mode lg_mode_js_put = {"js-put", JsSetup, JsPut, JsPut};
