/*-------------------------------------------------------------------------
 *
 * kv.h
 *	  A KV request once validated: what kv_request.c hands to kv.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PS_KV_H
#define PS_KV_H

#include "plugin_storage.h"

/* The KV operations, as named on the wire */
typedef enum PsKvOp
{
	PS_KV_SET,
	PS_KV_GET,
	PS_KV_DELETE,
	PS_KV_LIST,
	PS_KV_INCR,
	PS_KV_MGET,
	PS_KV_MSET,
	PS_KV_COUNT,
	PS_KV_EXISTS,
	PS_KV_CLEAR,
	PS_KV_COLLECTIONS,
	PS_KV_DROP,
	PS_KV_ALL,
	PS_KV_EXPIRE,
	PS_KV_TTL
} PsKvOp;

/* Request fields, as bits of a mask */
#define PS_F_KEY (1 << 0)
#define PS_F_VALUE (1 << 1)
#define PS_F_VALUE_B64 (1 << 2)
#define PS_F_TTL (1 << 3)
#define PS_F_COLLECTION (1 << 4)
#define PS_F_SCOPE (1 << 5)
#define PS_F_IF_ABSENT (1 << 6)
#define PS_F_IF_REVISION (1 << 7)
#define PS_F_PREFIX (1 << 8)
#define PS_F_LIMIT (1 << 9)
#define PS_F_CURSOR (1 << 10)
#define PS_F_BY (1 << 11)
#define PS_F_KEYS (1 << 12)
#define PS_F_ITEMS (1 << 13)
#define PS_F_OFFSET (1 << 14)

/* One key's write: the key of single-key ops, or one item of mset */
typedef struct PsKvItem
{
	text *key;	  /* the key */
	Jsonb *value; /* JSON value, or NULL */
	bytea *bytes; /* binary value (value_b64), or NULL */
	bool has_ttl; /* ttl given and not null */
	double ttl;	  /* seconds to live, when has_ttl */
} PsKvItem;

/* A validated KV request */
typedef struct PsKvRequest
{
	PsKvOp op;		   /* the operation */
	uint32 present;	   /* PS_F_* bits of the fields given */
	PsScope scope;	   /* plugin or workspace */
	text *ns;		   /* '' or the workspace name */
	text *collection;  /* collection, default "default" */
	PsKvItem item;	   /* key, value and ttl */
	bool if_absent;	   /* set only if the key does not exist */
	int64 if_revision; /* set only at this revision, when present */
	text *prefix;	   /* list: key prefix ('' = all) */
	text *cursor;	   /* list: keys after this one ('' = start) */
	int64 limit;	   /* list, all: page size */
	int64 offset;	   /* all: documents to skip */
	int64 by;		   /* incr: the increment */
	int nkeys;		   /* mget: number of keys */
	text **keys;	   /* mget: the keys */
	int nitems;		   /* mset: number of items */
	PsKvItem *items;   /* mset: the items */
} PsKvRequest;

#define PS_MAX_COLLECTION_BYTES 128
#define PS_MAX_BATCH 1000
#define PS_MAX_PAGE 1000
#define PS_DEFAULT_PAGE 100
#define PS_MAX_TTL_SECONDS 3153600000.0 /* 100 years */

extern bool PsKvParseRequest(PsPlugin *p, const char *op, Jsonb *request,
							 PsKvRequest *req, PsError *err);

#endif /* PS_KV_H */
