/*  st_leases - the `lease` message family: which worker runs a session

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    lease.claim takes sessions that want to run and have no live lease
    (FOR UPDATE SKIP LOCKED, so concurrent claimers never block or
    double-claim) and bumps the session's lease epoch; lease.renew extends
    a worker's live leases and says which sessions it must drop;
    lease.release gives one back. Writes from a worker carry (worker,
    epoch) and are fenced with st_leases_check.
*/
#ifndef ST_LEASES_H_INCLUDED
#define ST_LEASES_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _st_router_t st_router_t;

//  Limits on request fields.
#define ST_LEASES_MAX_CLAIM 1000
#define ST_LEASES_TTL_MIN 100
#define ST_LEASES_TTL_MAX 3600000

//  Register the family on `r`. Returns 0.
int st_leases_register(st_router_t *r);

//  Inside the caller's transaction, after it locked the session row: 1 if
//  (worker, epoch) holds a live lease on `session`, 0 if not, -1 on a
//  database error.
int st_leases_check(st_router_t *r, const char *session, const char *worker,
                    int64_t epoch);

void st_leases_test(bool verbose);

#endif
