/*  st_sessions - the `session` message family

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    session.create/get/list/update/delete/set_status (proto/PROTOCOL.md).
    Every status change made here appends a session.status event in the
    same transaction and announces it (event.new) after commit.
*/
#ifndef ST_SESSIONS_H_INCLUDED
#define ST_SESSIONS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  SQL expression for the bus session object of row alias `s`:
//  {name, status, desired, config, me, statuses, reason, instance_id,
//   access_token_hash, worker (live lease holder or null), created_at,
//   updated_at (epoch ms)}.
#define ST_SESSION_JSON                                                        \
    "jsonb_build_object('name', s.name, 'status', s.status, "                  \
    "'desired', s.desired, 'config', s.config, 'me', s.me, "                   \
    "'statuses', s.statuses, 'reason', s.reason, "                             \
    "'instance_id', s.instance_id, "                                           \
    "'access_token_hash', s.access_token_hash, "                               \
    "'worker', (SELECT l.worker FROM session_leases l "                        \
    "WHERE l.session = s.name AND l.expires_at > now()), "                     \
    "'created_at', (extract(epoch FROM s.created_at) * 1000)::bigint, "        \
    "'updated_at', (extract(epoch FROM s.updated_at) * 1000)::bigint)"

//  How many {status, timestamp} entries a session keeps.
#define ST_SESSIONS_HISTORY 3

//  Register the family on `r`. Returns 0.
int st_sessions_register(st_router_t *r);

//  True if `status` is a session status name (STOPPED, STARTING,
//  SCAN_QR_CODE, WORKING, FAILED, PASSKEY_REQUIRED,
//  PASSKEY_CONFIRMATION_REQUIRED).
bool st_sessions_status_valid(const char *status);

//  `statuses` (array, borrowed) plus {status, timestamp}, keeping the last
//  ST_SESSIONS_HISTORY. Caller owns return value.
json_t *st_sessions_history(json_t *statuses, const char *status,
                            int64_t ts_ms);

void st_sessions_test(bool verbose);

#endif
