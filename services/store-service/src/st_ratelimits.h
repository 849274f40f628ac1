/*  st_ratelimits - the `ratelimit` message family: sessions' send policies

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A session's send rate-limit policy (Wawp's /v2/session/rate-limit,
    sql/0170_session_rate_limits.sql) travels as {session, policy,
    limits:{}, updatedAt:int ms}; the gateway checks `limits`, the store
    keeps it (an object of at most ST_RATELIMITS_LIMITS_MAX bytes).

      ratelimit.set    {session, policy, limits?}   -> the policy
      ratelimit.get    {session}                    -> {policy: null|the policy}
      ratelimit.clear  {session}                    -> {}
      ratelimit.list   {}   -> {policies:[the policy + instance_id,
                                            access_token_hash]}

    set answers 404 for an unknown session; clear is idempotent. The
    gateways load the whole list every second (gw_ratelimit), with each
    session's instance_id and access-token hash so that a Wawp send can be
    paced before its handler runs.
*/
#ifndef ST_RATELIMITS_H_INCLUDED
#define ST_RATELIMITS_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  Longest `limits` object (compact JSON bytes), longest policy slug.
#define ST_RATELIMITS_LIMITS_MAX 1024
#define ST_RATELIMITS_POLICY_MAX 32

//  Register the family on `r`. Returns 0.
int st_ratelimits_register(st_router_t *r);

void st_ratelimits_test(bool verbose);

#endif
