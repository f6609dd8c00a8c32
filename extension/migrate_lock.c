/*-------------------------------------------------------------------------
 *
 * migrate_lock.c
 *	  One migration at a time per plugin: a lock plugin SQL cannot touch.
 *
 * Applies and rollbacks of one plugin take an exclusive heavyweight lock
 * for the rest of the caller's transaction, so that a second one waits for
 * the first to commit and then sees its history.  The lock is an advisory
 * LOCKTAG (database, plugin schema OID, 0, PS_MIGRATE_LOCK_KIND), shown in
 * pg_locks as locktype "advisory" with objsubid PS_MIGRATE_LOCK_KIND.  The
 * SQL advisory lock functions only ever build tags whose last field is 1
 * or 2, so plugin SQL (which may call pg_advisory_lock) can neither take
 * nor release this one, nor block another plugin's migrations with it.
 *
 * The lock is first tried without waiting.  If another backend holds it,
 * the wait is a real lock wait, bounded by lock_timeout set for just that
 * wait inside a subtransaction: waiters queue in order, pg_locks and
 * pg_blocking_pids() show who waits for whom, and the deadlock detector
 * sees the wait.  Running out of time (or a deadlock) is answered as
 * "conflict"; any other error (a cancel) is raised as usual.
 *
 *-------------------------------------------------------------------------
 */
#include "migrate.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

/* The last field of the lock tag: "ps", never 1 or 2 */
#define PS_MIGRATE_LOCK_KIND 0x7073

/*
 * Wait for the lock up to timeout_ms in a subtransaction, whose commit
 * hands the lock on to the caller's (sub)transaction.  Returns false if
 * the wait ran out of time or deadlocked.
 */
static bool
PsMigrateLockWait(const LOCKTAG *tag, int timeout_ms)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int nest = NewGUCNestLevel();
		char ms[32];

		snprintf(ms, sizeof(ms), "%d", timeout_ms);
		(void) set_config_option("lock_timeout", ms, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0,
								 false);
		(void) LockAcquire(tag, ExclusiveLock, false, false);
		AtEOXact_GUC(true, nest);
		ReleaseCurrentSubTransaction();
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE &&
			edata->sqlerrcode != ERRCODE_T_R_DEADLOCK_DETECTED)
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(edata);
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return ok;
}

/*
 * Take the plugin's migration lock until the end of the transaction,
 * waiting up to timeout_ms; "conflict" if it stays taken.
 */
bool
PsMigrateLock(PsPlugin *plugin, int timeout_ms, PsError *err)
{
	LOCKTAG tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, plugin->nspid, 0,
						 PS_MIGRATE_LOCK_KIND);
	if (LockAcquire(&tag, ExclusiveLock, false, true) !=
			LOCKACQUIRE_NOT_AVAIL ||
		(timeout_ms > 0 && PsMigrateLockWait(&tag, timeout_ms)))
		return true;
	PsSetError(err, "conflict",
			   "another migration of plugin \"%s\" is running", plugin->name);
	err->detail = psprintf("Waited %d ms for it to finish.", timeout_ms);
	err->hint = pstrdup("Retry when it has finished, or raise "
						"lock_timeout_ms.");
	return false;
}
