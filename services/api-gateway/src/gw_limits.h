/*  gw_limits - request rate limits per API key and per session

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Token buckets in memory (one per key, one per session), refilled at
    GATEWAY_RATE_LIMIT_KEY and GATEWAY_RATE_LIMIT_SESSION requests per
    second, holding up to GATEWAY_RATE_BURST requests (default: one
    second's worth). 0 turns a limit off (the default). The key's bucket
    is taken when the request head is in, before any body byte is read;
    the session's once the body (which may name it) is parsed. A request
    over a limit gets 429 with Retry-After (whole seconds) in the API's
    error shape, and costs no handler work, so a flood from one key does
    not slow another key. Keys are held by their SHA-512, never in the
    clear. Each gateway counts its own requests.

    GATEWAY_CONCURRENT_KEY (0: off, the default) bounds the requests one
    API key (given in the head: X-Api-Key, ?x-api-key=, access-token)
    has in flight at once, from its head until its response is sent:
    one more gets 429 with Retry-After: 1 before its body is read, so
    a key holding many slow requests cannot take every handler thread.
*/
#ifndef GW_LIMITS_H_INCLUDED
#define GW_LIMITS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "gw_api.h"
#include "gw_ratelimit.h"
#include "gw_req.h"

//  Buckets kept at most (all are dropped past it: a fresh start).
#define GW_LIMITS_MAX_BUCKETS 100000

//  Read GATEWAY_RATE_LIMIT_KEY, GATEWAY_RATE_LIMIT_SESSION and
//  GATEWAY_RATE_BURST (exits 78 on a bad value). Call once at start.
void gw_limits_configure(void);

//  Take one token from the bucket `name` refilled at `rate` per second
//  with `burst` at most, at `now_ms`. Returns 0, or the seconds to wait.
int gw_limits_take(const char *name, double rate, double burst, int64_t now_ms);

//  Give back one token to bucket `name` (a request that should not have
//  cost one), up to `burst`.
void gw_limits_give(const char *name, double burst);

//  The per-key limit for credential `key` (NULL: none): 0, or -1 after a
//  429 response on req.
int gw_limits_key(gw_req_t *req, const char *key);

//  Enter the per-key concurrency limit for credential `key` (NULL:
//  none). Returns 0 and sets *slot_p (NULL when no limit applies; pass
//  it to gw_limits_leave once the response is sent), or -1 after a 429
//  response on req.
int gw_limits_enter(gw_req_t *req, const char *key, char **slot_p);
void gw_limits_leave(char **slot_p);

//  One more request of `name` in flight when fewer than `limit` are
//  (limit 0: no bound). Returns 0, or -1; gw_limits_leave_slot ends it.
int gw_limits_enter_slot(const char *name, int limit);
void gw_limits_leave_slot(const char *name);

//  The per-session limit for the session req names ({session}, query or
//  body `session`): 0, or -1 after a 429.
int gw_limits_session(gw_req_t *req);

//  Send pacing (GATEWAY_SEND_INTERVAL_MS, off by default): a send route
//  (gw_keys_action SEND) naming a session waits for that session's next
//  slot, GATEWAY_SEND_INTERVAL_MS plus a random 0..GATEWAY_SEND_JITTER_MS
//  after the previous one, in the handler thread; at most
//  GATEWAY_SEND_QUEUE sends of a session wait (429 past it). A session
//  with a rate-limit policy (gw_ratelimit) follows the policy instead: its
//  per-minute bucket (429 with Retry-After over it), then its pacing.
//  Returns 0, or -1 after a 429.
int gw_limits_pace(gw_req_t *req, const gw_route_t *route);

//  The pacing the environment sets (GATEWAY_SEND_*), as a policy.
void gw_limits_defaults(gw_ratelimit_t *out);

//  The slot (ms) for a send of `session` at now_ms, or -1 when `queue`
//  already wait; release it with gw_limits_pace_done.
int64_t gw_limits_pace_slot(const char *session, int interval, int jitter,
                            int queue, int64_t now_ms);
void gw_limits_pace_done(const char *session);

void gw_limits_test(bool verbose);

#endif
