/*  st_webhooks - the `delivery` message family: webhook deliveries, their
    streams, attempts, replay and retention

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Tables in sql/0002_webhooks.sql; every type and field in
    proto/PROTOCOL.md (family delivery). A delivery is one event to one
    webhook URL; the deliveries of one session to one URL form a stream
    that a dispatcher claims, sends in order and releases. Fan-out, replay
    and prune serialize on one advisory lock so stream order keys are
    handed out in order.
*/
#ifndef ST_WEBHOOKS_H_INCLUDED
#define ST_WEBHOOKS_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  Advisory lock key of fan-out, replay and prune.
#define ST_WEBHOOKS_LOCK "8723000101"
//  delivery.fanout: events per call.
#define ST_WEBHOOKS_FANOUT_MAX 10000
#define ST_WEBHOOKS_FANOUT_DEFAULT 1000
//  delivery.claim limits.
#define ST_WEBHOOKS_CLAIM_STREAMS_MAX 100000
#define ST_WEBHOOKS_PER_STREAM_MAX 1000
#define ST_WEBHOOKS_LEASE_MIN 1000
#define ST_WEBHOOKS_LEASE_MAX 3600000
//  delivery.list page size.
#define ST_WEBHOOKS_LIST_MAX 500
#define ST_WEBHOOKS_LIST_DEFAULT 100
//  delivery.result: longest request id and error text kept.
#define ST_WEBHOOKS_REQUEST_ID_MAX 64
#define ST_WEBHOOKS_ERROR_MAX 1024
//  Rows one delivery.prune deletes per table at most.
#define ST_WEBHOOKS_PRUNE_BATCH "50000"

//  Register the family on `r`. Returns 0.
int st_webhooks_register(st_router_t *r);

void st_webhooks_test(bool verbose);

#endif
