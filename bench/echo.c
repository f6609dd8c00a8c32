/*
 * echo.c
 *		The echo mode and the echo-server it talks to.
 *
 * echo-server subscribes to --subject (default bench.echo) and replies to
 * every request with its own payload, until SIGINT or SIGTERM. The echo
 * mode sends the same payload a bridge get sends ({"key":"k"}) and checks
 * that the reply has the same length. The pair measures what a NATS round
 * trip costs on this machine with a responder that does no work: the
 * ceiling any NATS service, the bridge included, can reach.
 *
 * The server's connection sends each reply at once (natsOptions_SetSendAsap)
 * as nats.c advises for a replier; by default nats.c hands publishes to a
 * flusher thread that sleeps 1 ms before writing, which puts a 1 ms floor
 * under every round trip. --buffered-replies keeps that default, to show it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "loadgen.h"

/* Set by the signal handler; the server loop exits when it is set */
static volatile sig_atomic_t echo_stop = 0;

/* Ask the server loop to stop */
static void
EchoSignal(int signo)
{
	(void) signo;
	echo_stop = 1;
}

/* Reply to one request with its payload; runs on the delivery thread */
static void
EchoOnMsg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		  void *closure)
{
	(void) sub;
	(void) closure;
	if (natsMsg_GetReply(msg) != NULL)
		natsConnection_Publish(nc, natsMsg_GetReply(msg), natsMsg_GetData(msg),
							   natsMsg_GetDataLength(msg));
	natsMsg_Destroy(msg);
}

/* Run the echo responder until signalled; return the exit code */
int
lg_echo_server(const lg_config *cfg)
{
	natsOptions *opts = NULL;
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	natsStatus s;

	signal(SIGINT, EchoSignal);
	signal(SIGTERM, EchoSignal);
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetURL(opts, cfg->url);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, "echo-server");
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(opts, !cfg->buffered_replies);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, opts);
	if (s == NATS_OK)
		s = natsConnection_Subscribe(&sub, nc, cfg->subject, EchoOnMsg, NULL);
	if (s == NATS_OK)
		s = natsConnection_Flush(nc);
	if (s == NATS_OK)
	{
		fprintf(stderr, "echo-server: replying on %s%s\n", cfg->subject,
				cfg->buffered_replies ? " (buffered replies)" : "");
		while (!echo_stop)
			nats_Sleep(100);
		fprintf(stderr, "echo-server: stopping\n");
	}
	else
		fprintf(stderr, "echo-server: %s\n", natsStatus_GetText(s));
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(opts);
	return s == NATS_OK ? 0 : 1;
}

/* Send a get-shaped payload to the responder; expect it back */
static bool
EchoOp(lg_worker *w, int key, char *err, size_t errlen)
{
	char name[32];
	natsMsg *reply = NULL;
	natsStatus s;
	int len;

	lg_format_key(name, sizeof(name), key);
	len = snprintf(w->buf, w->buf_len, "{\"key\":\"%s\"}", name);
	s = natsConnection_Request(&reply, w->conn->nc, w->cfg->subject, w->buf,
							   len, w->cfg->timeout_ms);
	if (s == NATS_OK && natsMsg_GetDataLength(reply) != len)
	{
		snprintf(err, errlen, "echo %s: reply of %d bytes, sent %d", name,
				 natsMsg_GetDataLength(reply), len);
		natsMsg_Destroy(reply);
		return false;
	}
	natsMsg_Destroy(reply);
	if (s != NATS_OK)
	{
		snprintf(err, errlen, "echo %s: %s", name, natsStatus_GetText(s));
		return false;
	}
	return true;
}

const lg_mode lg_mode_echo = {"echo", NULL, NULL, EchoOp};
