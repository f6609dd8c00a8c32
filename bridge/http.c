/*
 * http.c
 *		The optional HTTP listener for Prometheus: GET /metrics.
 *
 * metrics_listen = HOST:PORT (an IPv6 address in brackets: [::1]:9187)
 * starts a libmicrohttpd daemon with its own polling thread.  It serves
 * one resource: GET (or HEAD) /metrics answers 200 with prom.c's text;
 * any other path is 404 and any other method on /metrics 405.  HTTP
 * parsing, keep-alive and timeouts are libmicrohttpd's.  There is no
 * authentication: bind it to a loopback or private address and let
 * Prometheus (or a proxy) reach it there.
 *
 * The daemon thread inherits the blocked signal mask of main.c, so
 * signals still reach only the main thread.  A listener that cannot bind
 * stops the bridge at start-up rather than running without the metrics
 * the operator asked for.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http.h"
#include "log.h"
#include "prom.h"

#define HTTP_CONNECTION_LIMIT 32
#define HTTP_TIMEOUT_S 10

static struct MHD_Daemon *http_daemon;

/* libmicrohttpd's error messages, through the JSON logger */
static void
HttpLog(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void) cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("metrics listener", LF_S("error", msg));
}

/* Queue a short text/plain answer */
static enum MHD_Result
HttpText(struct MHD_Connection *conn, unsigned int status, const char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer_with_free_callback(
			strlen(body), (void *) body, NULL);
	enum MHD_Result ret;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
							"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd request handler: GET /metrics, 404 or 405 otherwise */
static enum MHD_Result
HttpOnRequest(void *cls, struct MHD_Connection *conn, const char *url,
			  const char *method, const char *version, const char *upload_data,
			  size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *text;

	(void) cls;
	(void) version;
	(void) upload_data;
	(void) upload_data_size;
	(void) con_cls;
	if (strcmp(url, "/metrics") != 0)
		return HttpText(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return HttpText(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
						"method not allowed: use GET\n");
	text = prom_render(&len);
	r = MHD_create_response_from_buffer_with_free_callback(len, text, free);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
							PROM_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Split HOST:PORT or [HOST]:PORT; false if malformed */
static bool
HttpSplit(const char *listen, char *host, size_t hsize, const char **port)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t n;

	if (colon == NULL || colon[1] == '\0')
		return false;
	n = (size_t) (colon - listen);
	if (listen[0] == '[')
	{
		if (n < 2 || listen[n - 1] != ']')
			return false;
		h = listen + 1;
		n -= 2;
	}
	if (n == 0 || n >= hsize)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = colon + 1;
	return true;
}

/* Start listening on HOST:PORT; false (logged) if that fails */
bool
http_start(const char *listen)
{
	struct addrinfo hints;
	struct addrinfo *ai = NULL;
	char host[256];
	const char *port;
	int rc = 0;
	unsigned int flags =
		MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (!HttpSplit(listen, host, sizeof(host), &port) ||
		(rc = getaddrinfo(host, port, &hints, &ai)) != 0)
	{
		log_error("metrics_listen must be HOST:PORT, e.g. 127.0.0.1:9187",
				  LF_S("metrics_listen", listen),
				  LF_S("error", ai == NULL && rc != 0 ? gai_strerror(rc)
													  : "malformed"));
		return false;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	http_daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, HttpOnRequest, NULL, MHD_OPTION_EXTERNAL_LOGGER,
		HttpLog, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int) HTTP_CONNECTION_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) HTTP_TIMEOUT_S,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (http_daemon == NULL)
	{
		log_error("cannot listen for metrics", LF_S("metrics_listen", listen));
		return false;
	}
	log_info("serving metrics", LF_S("url", "/metrics"),
			 LF_S("metrics_listen", listen));
	return true;
}

/* Stop the listener (waits for its thread) */
void
http_stop(void)
{
	if (http_daemon)
		MHD_stop_daemon(http_daemon);
	http_daemon = NULL;
}
