/*
 * natsurl.c
 *		NATS server URL lists: "nats://a:4222,nats://b:4222".
 *
 * nats_url (the bridge's setting, NATS_URL, the migrate CLI's --nats-url)
 * may list several servers, comma-separated, as the NATS tools accept.
 * nats.c 3.4 does not split such a list given as one URL (it fails to
 * parse the port and never connects), so a list goes through
 * natsOptions_SetServers instead.  A URL may carry user:password@; the
 * migrate CLI removes it when credentials are given separately, since
 * nats.c would prefer the URL's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natsurl.h"

#define NATSURL_MAX 32

/* Give nats.c the URL, or each URL of a comma-separated list */
natsStatus
natsurl_set(natsOptions *opts, const char *urls)
{
	const char *list[NATSURL_MAX];
	char *copy;
	char *save = NULL;
	int n = 0;
	natsStatus s;

	if (strchr(urls, ',') == NULL)
		return natsOptions_SetURL(opts, urls);
	copy = strdup(urls);
	for (char *u = strtok_r(copy, ", ", &save); u && n < NATSURL_MAX;
		 u = strtok_r(NULL, ", ", &save))
		list[n++] = u;
	s = n > 0 ? natsOptions_SetServers(opts, list, n)
			  : natsOptions_SetURL(opts, urls);
	free(copy);
	return s;
}

/* Copy urls without any user:password@ (from each URL of a list) */
void
natsurl_strip_userinfo(const char *urls, char *out, size_t size)
{
	size_t o = 0;

	while (*urls && o + 1 < size)
	{
		const char *next = strchr(urls, ',');
		const char *end = next ? next : urls + strlen(urls);
		const char *scheme = strstr(urls, "://");
		const char *host = scheme && scheme < end ? scheme + 3 : urls;
		const char *at = memchr(host, '@', (size_t) (end - host));
		const char *slash = memchr(host, '/', (size_t) (end - host));

		if (at && (slash == NULL || at < slash))
		{
			o += (size_t) snprintf(out + o, size - o, "%.*s",
								   (int) (host - urls), urls);
			urls = at + 1;
		}
		if (o < size)
			o += (size_t) snprintf(out + o, size - o, "%.*s",
								   (int) (end - urls) + (next ? 1 : 0), urls);
		urls = next ? next + 1 : end;
	}
	out[o < size ? o : size - 1] = '\0';
}
