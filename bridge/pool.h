/*
 * pool.h
 *		The PostgreSQL side: worker threads, each owning one connection.
 */
#ifndef BRIDGE_POOL_H
#define BRIDGE_POOL_H

#include <stdbool.h>

#include "queue.h"

extern void pool_start(int size, Queue *queue);
extern bool pool_wait(int timeout_ms);
extern void pool_join(void);
extern int pool_connected_count(void);

#endif
