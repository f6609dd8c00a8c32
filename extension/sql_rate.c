/*-------------------------------------------------------------------------
 *
 * sql_rate.c
 *	  The SQL tier's per-plugin rate limit: a token bucket in shared memory.
 *
 * Where, and why: a plugin's requests may arrive through several bridges,
 * each with a pool of connections, so a limit kept by a bridge or by one
 * backend would multiply by their number.  The one place every request of
 * a plugin passes through is the database server, so the buckets live in
 * its shared memory: one per (database, plugin), in a fixed-size hash
 * (PS_RATE_MAX_BUCKETS) under one LWLock, shared by every backend of the
 * cluster.  Taking a token is a hash lookup and a few arithmetic operations
 * under that lock.
 *
 * A bucket holds up to rate_burst tokens and gains rate_limit tokens per
 * second; a request takes one, or is answered rate_limited with the time
 * until a token is there (retry_after_ms).  A new bucket starts full, and a
 * full bucket is the same as none, so when the hash is full, buckets that
 * have refilled are dropped to make room.
 *
 * Shared memory is only reserved when the library is loaded by
 * shared_preload_libraries (PostgreSQL 15's shmem_request_hook, then
 * shmem_startup_hook).  Without it a plugin with a rate limit gets
 * "unavailable" saying so, rather than silently no limit.
 *
 *-------------------------------------------------------------------------
 */
#include "sql.h"

#include <math.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#define PS_RATE_MAX_BUCKETS 4096
#define PS_RATE_TRANCHE "plugin_storage_sql_rate"

/* A bucket's key: the plugin, in its database */
typedef struct PsRateKey
{
	Oid dbid;				/* the database */
	char name[NAMEDATALEN]; /* the plugin's name, zero-padded */
} PsRateKey;

/* One plugin's token bucket */
typedef struct PsRateBucket
{
	PsRateKey key;	  /* hash key */
	double tokens;	  /* tokens at `last` */
	TimestampTz last; /* when tokens was computed */
	double rate;	  /* tokens per second, as of last use */
	int burst;		  /* most tokens, as of last use */
} PsRateBucket;

/* What lives in shared memory besides the hash */
typedef struct PsRateShared
{
	LWLock *lock; /* guards every bucket */
} PsRateShared;

static PsRateShared *ps_rate = NULL;
static HTAB *ps_rate_buckets = NULL;
static shmem_request_hook_type ps_prev_shmem_request = NULL;
static shmem_startup_hook_type ps_prev_shmem_startup = NULL;

/* Reserve the buckets' shared memory and lock (postmaster start) */
static void
PsRateShmemRequest(void)
{
	if (ps_prev_shmem_request)
		ps_prev_shmem_request();
	RequestAddinShmemSpace(
		MAXALIGN(sizeof(PsRateShared)) +
		hash_estimate_size(PS_RATE_MAX_BUCKETS, sizeof(PsRateBucket)));
	RequestNamedLWLockTranche(PS_RATE_TRANCHE, 1);
}

/* Create (or attach to) the buckets' hash */
static void
PsRateShmemStartup(void)
{
	HASHCTL info;
	bool found;

	if (ps_prev_shmem_startup)
		ps_prev_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ps_rate = ShmemInitStruct("plugin_storage sql rate", sizeof(PsRateShared),
							  &found);
	if (!found)
		ps_rate->lock = &(GetNamedLWLockTranche(PS_RATE_TRANCHE))->lock;
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(PsRateKey);
	info.entrysize = sizeof(PsRateBucket);
	ps_rate_buckets =
		ShmemInitHash("plugin_storage sql rate buckets", PS_RATE_MAX_BUCKETS,
					  PS_RATE_MAX_BUCKETS, &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/* Install the shared memory hooks, when preloaded */
void
PsSqlRateInit(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	ps_prev_shmem_request = shmem_request_hook;
	shmem_request_hook = PsRateShmemRequest;
	ps_prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = PsRateShmemStartup;
}

/* Bring a bucket's tokens up to now */
static void
PsRateRefill(PsRateBucket *b, TimestampTz now)
{
	double elapsed = Max(0, now - b->last) / 1000000.0;

	b->tokens = Min((double) b->burst, b->tokens + elapsed * b->rate);
	b->last = now;
}

/* Drop the buckets that have refilled (the same as no bucket) */
static void
PsRateDropFull(TimestampTz now)
{
	HASH_SEQ_STATUS status;
	PsRateBucket *b;

	hash_seq_init(&status, ps_rate_buckets);
	while ((b = hash_seq_search(&status)) != NULL)
	{
		PsRateRefill(b, now);
		if (b->tokens >= b->burst)
			hash_search(ps_rate_buckets, &b->key, HASH_REMOVE, NULL);
	}
}

/* The plugin's bucket, made full if new; NULL if the hash is full */
static PsRateBucket *
PsRateBucketFor(PsRateKey *key, const PsSqlLimits *limits, TimestampTz now)
{
	PsRateBucket *b;
	bool found;

	b = hash_search(ps_rate_buckets, key, HASH_FIND, NULL);
	if (b == NULL)
	{
		if (hash_get_num_entries(ps_rate_buckets) >= PS_RATE_MAX_BUCKETS)
			PsRateDropFull(now);
		if (hash_get_num_entries(ps_rate_buckets) >= PS_RATE_MAX_BUCKETS)
			return NULL;
		b = hash_search(ps_rate_buckets, key, HASH_ENTER_NULL, &found);
		if (b == NULL)
			return NULL;
		b->tokens = limits->rate_burst;
		b->last = now;
	}
	b->rate = limits->rate_limit;
	b->burst = limits->rate_burst;
	return b;
}

/*
 * Take a token from plugin p's bucket, or say when to retry
 * (rate_limited).  Always succeeds for a plugin without a rate limit.
 */
bool
PsSqlRateAcquire(PsPlugin *p, const PsSqlLimits *limits, PsError *err)
{
	PsRateKey key;
	PsRateBucket *b;
	TimestampTz now;
	int64 wait_ms = 0;

	if (limits->rate_limit <= 0)
		return true;
	if (ps_rate_buckets == NULL)
	{
		PsSetError(err, "unavailable",
				   "plugin \"%s\" has a SQL rate limit, which needs "
				   "plugin_storage in shared_preload_libraries",
				   p->name);
		err->hint = pstrdup("Add plugin_storage to shared_preload_libraries "
							"and restart, or set the rate limit to 0.");
		return false;
	}
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	strlcpy(key.name, p->name, NAMEDATALEN);
	now = GetCurrentTimestamp();

	LWLockAcquire(ps_rate->lock, LW_EXCLUSIVE);
	b = PsRateBucketFor(&key, limits, now);
	if (b != NULL)
	{
		PsRateRefill(b, now);
		if (b->tokens >= 1)
			b->tokens -= 1;
		else
			wait_ms = (int64) ceil((1 - b->tokens) / b->rate * 1000.0);
	}
	LWLockRelease(ps_rate->lock);

	if (b == NULL)
	{
		PsSetError(err, "unavailable",
				   "the SQL rate limiter tracks at most %d plugins at once",
				   PS_RATE_MAX_BUCKETS);
		return false;
	}
	if (wait_ms > 0)
	{
		PsSetError(err, "rate_limited",
				   "plugin \"%s\" is over its SQL rate limit of %g requests "
				   "per second (burst %d): retry in " INT64_FORMAT " ms",
				   p->name, limits->rate_limit, limits->rate_burst, wait_ms);
		err->retry_after_ms = wait_ms;
		return false;
	}
	return true;
}
