/*  st_leases - the `lease` message family: which worker runs a session

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    lease.claim takes sessions that want to run and have no live lease
    (FOR UPDATE SKIP LOCKED, so concurrent claimers never block or
    double-claim) and bumps the session's lease epoch; lease.renew extends
    a worker's live leases and says which sessions it must drop;
    lease.release gives one back. Writes from a worker carry (worker,
    epoch) and are fenced with st_leases_fence.
*/
#ifndef ST_LEASES_H_INCLUDED
#define ST_LEASES_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "st_router.h"

//  Limits on request fields.
#define ST_LEASES_MAX_CLAIM 1000
#define ST_LEASES_TTL_MIN 100
#define ST_LEASES_TTL_MAX 3600000

//  Register the family on `r`. Returns 0.
int st_leases_register(st_router_t *r);

//  Inside the caller's transaction, after it locked the session row:
//  when lease->worker is set, check that (worker, epoch) holds a live
//  lease on session lease->name. Returns NULL to go on, or the reply to send
//  (transaction rolled back): 409 lease not held, 5xx database. Caller owns
//  return value.
cm_msg_t *st_leases_fence(st_router_t *r, cm_msg_t *request,
                          const st_router_lease_t *lease);

void st_leases_test(bool verbose);

#endif
