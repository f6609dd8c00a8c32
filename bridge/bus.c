/*
 * bus.c
 *		The NATS side: connection, the db.> subscription, and replies.
 *
 * One connection and one queue subscription on db.>: every bridge in the
 * queue group shares the load, and every subject under db. gets a reply,
 * an invalid_request one if it is malformed.  nats.c runs the message
 * callback on its own thread, so the callback only wraps the message and
 * hands it to the queue; a request without a reply subject is counted and
 * dropped there, and one that finds the queue full is answered
 * "unavailable" at once.
 *
 * Replies are written to the socket at once by the worker that publishes
 * them (natsOptions_SetSendAsap), not handed to nats.c's flusher thread,
 * which waits 1 ms to gather writes: that would add a millisecond to every
 * request of a lightly loaded bridge.
 *
 * The connection retries forever (also when the first connect fails), so
 * the bridge can start before nats-server and rides out its restarts;
 * nats.c re-subscribes by itself after a reconnect.  Connection events
 * are logged from nats.c's callbacks.
 *
 * Shutdown drains the subscription: nats.c unsubscribes, then keeps
 * delivering what was already received, so every request that reached the
 * bridge is queued and answered before the workers stop.
 */
#include <stdatomic.h>
#include <string.h>

#include <nats/nats.h>

#include "bus.h"
#include "handler.h"
#include "log.h"
#include "natsurl.h"
#include "observe.h"
#include "stats.h"

#define BUS_RECONNECT_WAIT_MS 250
#define BUS_FLUSH_TIMEOUT_MS 2000

static natsOptions *bus_opts;
static natsConnection *bus_conn;
static natsSubscription *bus_sub;
static Queue *bus_queue;
static bool bus_draining;
static atomic_bool bus_closing;
static atomic_llong bus_max_payload_cache; /* the server's, 0 while unknown */

/* Take a message from nats.c: drop it, queue it, or refuse it */
static void
BusOnMessage(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
			 void *closure)
{
	const char *reply = natsMsg_GetReply(msg);
	Request *req;
	QueuePush rc;

	(void) nc;
	(void) sub;
	(void) closure;
	if (observe_ignored(natsMsg_GetSubject(msg)))
	{
		/* db.stats (answered in statsapi.c) and db.events.> */
		natsMsg_Destroy(msg);
		return;
	}
	STATS_INC(received);
	if (reply == NULL || reply[0] == '\0')
	{
		STATS_INC(dropped_no_reply);
		log_debug("dropped a request without reply subject",
				  LF_S("subject", natsMsg_GetSubject(msg)));
		natsMsg_Destroy(msg);
		return;
	}
	req = handler_new(msg);
	rc = queue_push(bus_queue, req);
	if (rc == QUEUE_PUSHED)
		return;
	handler_reply_error(
		req, EC_UNAVAILABLE, "%s",
		rc == QUEUE_FULL
			? "the bridge is overloaded: its request queue is full"
			: "the bridge is shutting down");
	handler_free(req);
}

/* Remember the max_payload of the server just connected to */
static void
BusLearnMaxPayload(natsConnection *nc)
{
	atomic_store(&bus_max_payload_cache, natsConnection_GetMaxPayload(nc));
}

/* Log the server a connection event concerns */
static void
BusLogEvent(natsConnection *nc, LogLevel level, const char *msg)
{
	char url[256] = "";

	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	log_write(level, msg,
			  (const LogField[]){LF_S("url", url[0] ? url : NULL), LF_END_});
}

/* nats.c callback: the first connection, made in the background */
static void
BusOnConnected(natsConnection *nc, void *closure)
{
	(void) closure;
	BusLearnMaxPayload(nc);
	BusLogEvent(nc, LL_INFO, "NATS connected");
}

/* nats.c callback: connection lost; nats.c reconnects */
static void
BusOnDisconnected(natsConnection *nc, void *closure)
{
	(void) nc;
	(void) closure;
	if (!atomic_load(&bus_closing))
		log_warn("NATS disconnected; reconnecting");
}

/* nats.c callback: connection back, subscriptions restored */
static void
BusOnReconnected(natsConnection *nc, void *closure)
{
	(void) closure;
	BusLearnMaxPayload(nc);
	BusLogEvent(nc, LL_INFO, "NATS reconnected");
}

/* nats.c callback: connection closed for good */
static void
BusOnClosed(natsConnection *nc, void *closure)
{
	(void) nc;
	(void) closure;
	log_info("NATS connection closed");
}

/* nats.c callback: asynchronous error (permissions, slow consumer) */
static void
BusOnError(natsConnection *nc, natsSubscription *sub, natsStatus err,
		   void *closure)
{
	const char *detail = NULL;

	(void) sub;
	(void) closure;
	natsConnection_GetLastError(nc, &detail);
	log_error("NATS error", LF_S("status", natsStatus_GetText(err)),
			  LF_S("detail", detail));
}

/* Fill the connection options from the settings */
static natsStatus
BusOptions(const Config *c)
{
	natsStatus s = natsOptions_Create(&bus_opts);

	if (s == NATS_OK)
		s = natsurl_set(bus_opts, c->nats_url);
	if (s == NATS_OK)
		s = natsOptions_SetName(bus_opts, "plugin-storage-bridge");
	if (s == NATS_OK && c->nats_user[0])
		s = natsOptions_SetUserInfo(bus_opts, c->nats_user, c->nats_password);
	if (s == NATS_OK && c->nats_creds[0])
		s = natsOptions_SetUserCredentialsFromFiles(bus_opts, c->nats_creds,
													NULL);
	/* write each reply at once instead of waking nats.c's flusher thread,
	 * which sleeps 1 ms first: that would floor every request at 1 ms */
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(bus_opts, true);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(bus_opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(bus_opts, BUS_RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(bus_opts, true, BusOnConnected,
												NULL);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(bus_opts, BusOnDisconnected, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(bus_opts, BusOnReconnected, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(bus_opts, BusOnClosed, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(bus_opts, BusOnError, NULL);
	return s;
}

/* Connect (retrying in the background) and subscribe to db.> */
bool
bus_start(const Config *config, Queue *queue)
{
	/* no spinning on nats.c's locks: with replies sent at once, the
	 * connection lock is held through a socket write, longer than a spin */
	natsStatus s = nats_Open(0);

	bus_queue = queue;
	if (s == NATS_OK)
		s = BusOptions(config);
	if (s == NATS_OK)
	{
		s = natsConnection_Connect(&bus_conn, bus_opts);
		if (s == NATS_OK)
		{
			BusLearnMaxPayload(bus_conn);
			BusLogEvent(bus_conn, LL_INFO, "NATS connected");
		}
		else if (s == NATS_NOT_YET_CONNECTED)
		{
			log_warn("NATS not reachable yet; connecting in the background",
					 LF_S("url", config->nats_url));
			s = NATS_OK;
		}
	}
	if (s == NATS_OK)
		s = natsConnection_QueueSubscribe(&bus_sub, bus_conn, BUS_SUBJECT,
										  config->queue_group, BusOnMessage,
										  NULL);
	/* make sure the server has the subscription before we say we serve */
	if (s == NATS_OK &&
		natsConnection_Status(bus_conn) == NATS_CONN_STATUS_CONNECTED &&
		natsConnection_FlushTimeout(bus_conn, BUS_FLUSH_TIMEOUT_MS) != NATS_OK)
		log_warn("NATS flush after subscribing timed out");
	if (s != NATS_OK)
	{
		log_error("cannot start NATS", LF_S("status", natsStatus_GetText(s)),
				  LF_S("detail", nats_GetLastError(NULL)));
		return false;
	}
	return true;
}

/* Stop taking new requests; what was received is still delivered */
void
bus_drain_begin(void)
{
	natsStatus s;

	/* while disconnected nothing can arrive: there is nothing to drain */
	if (natsConnection_Status(bus_conn) != NATS_CONN_STATUS_CONNECTED)
	{
		natsSubscription_Unsubscribe(bus_sub);
		return;
	}
	s = natsSubscription_Drain(bus_sub);
	bus_draining = (s == NATS_OK);
	if (!bus_draining)
	{
		log_warn("cannot drain the subscription; unsubscribing",
				 LF_S("status", natsStatus_GetText(s)));
		natsSubscription_Unsubscribe(bus_sub);
	}
}

/* Wait for the drain to finish; true once it has */
bool
bus_drain_wait(int timeout_ms)
{
	if (!bus_draining)
		return true;
	return natsSubscription_WaitForDrainCompletion(bus_sub, timeout_ms) !=
		   NATS_TIMEOUT;
}

/* Flush the last replies and close the connection */
void
bus_stop(void)
{
	if (natsConnection_Status(bus_conn) == NATS_CONN_STATUS_CONNECTED)
	{
		natsStatus s =
			natsConnection_FlushTimeout(bus_conn, BUS_FLUSH_TIMEOUT_MS);

		if (s != NATS_OK)
			log_warn("cannot flush the last replies",
					 LF_S("status", natsStatus_GetText(s)));
	}
	natsSubscription_Destroy(bus_sub);
	atomic_store(&bus_closing, true);
	natsConnection_Close(bus_conn);
	natsConnection_Destroy(bus_conn);
	natsOptions_Destroy(bus_opts);
	nats_CloseAndWait(BUS_FLUSH_TIMEOUT_MS);
}

/* Publish a reply; refuse it, publishing nothing, if over max_payload */
BusSent
bus_publish(const char *subject, const char *data, size_t len)
{
	natsStatus s = natsConnection_Publish(bus_conn, subject, data, (int) len);

	if (s == NATS_MAX_PAYLOAD)
	{
		/* reconnected to a server with a lower limit than remembered */
		BusLearnMaxPayload(bus_conn);
		return BUS_TOO_LARGE;
	}
	if (s != NATS_OK)
		log_warn("cannot publish a reply", LF_S("subject", subject),
				 LF_S("status", natsStatus_GetText(s)));
	return s == NATS_OK ? BUS_SENT : BUS_FAILED;
}

/*
 * Return the server's max_payload, or 0 while unknown.  It is remembered
 * at each (re)connect rather than asked for every reply, which would take
 * the connection's lock once more per reply.
 */
int64_t
bus_max_payload(void)
{
	return atomic_load_explicit(&bus_max_payload_cache, memory_order_relaxed);
}

/* Subscribe (no queue group) to a subject the bridge answers for itself */
natsSubscription *
bus_subscribe(const char *subject, natsMsgHandler cb)
{
	natsSubscription *sub = NULL;
	natsStatus s = natsConnection_Subscribe(&sub, bus_conn, subject, cb, NULL);

	if (s != NATS_OK)
		log_error("cannot subscribe", LF_S("subject", subject),
				  LF_S("status", natsStatus_GetText(s)));
	return sub;
}

/* Stop a bus_subscribe() subscription, letting a running callback end */
void
bus_unsubscribe(natsSubscription *sub)
{
	if (sub == NULL)
		return;
	if (natsConnection_Status(bus_conn) != NATS_CONN_STATUS_CONNECTED ||
		natsSubscription_Drain(sub) != NATS_OK ||
		natsSubscription_WaitForDrainCompletion(sub, BUS_FLUSH_TIMEOUT_MS) !=
			NATS_OK)
		natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
}
