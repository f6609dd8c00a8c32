/*
 * sha256.h
 *		SHA-256 of a buffer, as lowercase hex (FIPS 180-4).
 */
#ifndef BRIDGE_SHA256_H
#define BRIDGE_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

extern void sha256_hex(const void *data, size_t len,
					   char out[SHA256_HEX_LEN + 1]);

#endif
