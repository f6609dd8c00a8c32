/*
 * handler.h
 *		Requests: validate them, and reply to them exactly once.
 */
#ifndef BRIDGE_HANDLER_H
#define BRIDGE_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "errcode.h"
#include "pipeline.h"
#include "request.h"

extern bool handler_validate(const char *subject, const char *data, int len,
							 int max_bytes, int max_depth, Subject *out,
							 uint64_t *lock_order, ErrCode *code, char *err,
							 size_t errlen);
extern Request *handler_new(natsMsg *msg);
extern void handler_free(Request *req);
extern bool handler_check(Request *req, const ConfigLimits *lim);
extern const char *handler_timeout_setting(const Request *req);
extern void handler_finish(Request *req, const Outcome *outcome);
extern void handler_reply_error(Request *req, ErrCode code, const char *fmt,
								...) __attribute__((format(printf, 3, 4)));

#endif
