/*  st_families - the list of message families store-service serves

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Adding a family is one line: write src/st_<family>.c (with a header
    declaring `int st_<family>_register(st_router_t *r)` and a self test)
    and add `X(<family>)` to ST_FAMILIES below. Every worker calls each
    register function on its own router at start.
*/
#ifndef ST_FAMILIES_H_INCLUDED
#define ST_FAMILIES_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  X(family) for every family, in registration order.
#define ST_FAMILIES(X)                                                         \
    X(sessions)                                                                \
    X(leases)                                                                  \
    X(devices)                                                                 \
    X(events)                                                                  \
    X(messages)                                                                \
    X(webhooks)                                                                \
    X(signal)                                                                  \
    X(appstate)                                                                \
    X(history)                                                                 \
    X(kinds)                                                                   \
    X(lids)                                                                    \
    X(unread)                                                                  \
    X(apikeys)                                                                 \
    X(ratelimits)                                                              \
    X(templinks)

#define ST_FAMILIES_DECLARE(f) int st_##f##_register(st_router_t *r);
ST_FAMILIES(ST_FAMILIES_DECLARE)
#undef ST_FAMILIES_DECLARE

//  Register every family's handlers and statements on `router`. Returns 0,
//  or -1 if a family failed (logged).
int st_families_register(st_router_t *router);

void st_families_test(bool verbose);

#endif
