/*
 * natsurl.h
 *		NATS server URL lists: "nats://a:4222,nats://b:4222".
 */
#ifndef BRIDGE_NATSURL_H
#define BRIDGE_NATSURL_H

#include <stddef.h>

#include <nats/nats.h>

extern natsStatus natsurl_set(natsOptions *opts, const char *urls);
extern void natsurl_strip_userinfo(const char *urls, char *out, size_t size);

#endif
