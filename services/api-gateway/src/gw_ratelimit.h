/*  gw_ratelimit - a session's send rate-limit policy (Wawp)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET   /v2/session/rate-limit   the instance's policy and the policies
                                     it may take
      PATCH /v2/session/rate-limit   {policy_slug, limits?}: take one

    Wawp's per-instance sending policy. A policy is a slug and its limits:
      send_message_per_minute  sends per minute (a token bucket; 0: none)
      burst                    sends the bucket holds (0: a tenth of a
                               minute's worth, at least 1)
      send_interval_ms         least gap between two sends (pacing; 0: none)
      send_jitter_ms           a random 0..this more per gap
      concurrent_limit         sends that may wait for their slot at once
    Built in: strict (10/min, burst 3, 1000 ms + 0..500), standard_policy
    (30/min, burst 10, 500 ms + 0..250), relaxed (120/min, burst 30,
    100 ms + 0..100), unlimited (no limit, no pacing: also overrides the
    gateway's GATEWAY_SEND_INTERVAL_MS), custom (the `limits` given, each
    field checked against its range) and default (no policy: the
    gateway's GATEWAY_SEND_* settings; PATCH default removes the policy).
    "standard" and "off" are taken for standard_policy and unlimited.

    A send route (gw_keys_action SEND) of a session with a policy: first
    the bucket (over it: 429 with Retry-After, whole seconds), then the
    pacing (the send waits for its slot in its handler thread; past
    concurrent_limit waiting: 429 with Retry-After). GATEWAY_RATE_LIMIT_SESSION
    (every request naming the session) still applies on top.

    The store keeps the policy (ratelimit.*, sql/0170_session_rate_limits.sql);
    every gateway reloads the whole list every GW_RATELIMIT_REFRESH_MS by a
    thread of its own (at once on the gateway that changed it), so a policy
    set on one gateway holds on all within that time and after a restart,
    and a send pays no bus call for it. The list carries each session's
    instance_id and access-token hash, so a Wawp send (instance_id, not
    session) is found, and charged only when its credential is right.
*/
#ifndef GW_RATELIMIT_H_INCLUDED
#define GW_RATELIMIT_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_config.h"
#include "gw_req.h"

#define GW_RATELIMIT_REFRESH_MS 1000
//  Longest policy slug; largest limits input (compact JSON bytes).
#define GW_RATELIMIT_SLUG_MAX 32
#define GW_RATELIMIT_LIMITS_MAX 1024
//  Ranges of the custom limits.
#define GW_RATELIMIT_PER_MINUTE_MAX 6000
#define GW_RATELIMIT_BURST_MAX 1000
#define GW_RATELIMIT_INTERVAL_MAX 600000
#define GW_RATELIMIT_JITTER_MAX 60000
#define GW_RATELIMIT_CONCURRENT_MAX 1000

typedef struct {
    int per_minute;  //  send_message_per_minute (0: no bucket)
    int burst;       //  bucket size (0: per_minute / 10, at least 1)
    int interval_ms; //  send_interval_ms (0: no pacing)
    int jitter_ms;   //  send_jitter_ms
    int concurrent;  //  concurrent_limit (sends waiting at most)
} gw_ratelimit_t;

#define GW_RATELIMIT_TAG "Wawp: Session"

#define GW_RATELIMIT_ROUTES                                                    \
    {"GET",                                                                    \
     "/v2/session/rate-limit",                                                 \
     gw_ratelimit_get,                                                         \
     GW_AUTH_INSTANCE,                                                         \
     200,                                                                      \
     GW_RATELIMIT_TAG,                                                         \
     "wawpSessionRateLimitGet",                                                \
     "The instance's send rate-limit policy and the policies it may take",     \
     NULL,                                                                     \
     "WawpRateLimit",                                                          \
     "instance_id|string|Instance id",                                         \
     false},                                                                   \
        {"PATCH",                                                              \
         "/v2/session/rate-limit",                                             \
         gw_ratelimit_set,                                                     \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_RATELIMIT_TAG,                                                     \
         "wawpSessionRateLimitSet",                                            \
         "Set the instance's send rate-limit policy",                          \
         "WawpRateLimitRequest",                                               \
         "WawpRateLimit",                                                      \
         "instance_id|string|Instance id;"                                     \
         "policy_slug|string|strict, standard_policy, relaxed, unlimited, "    \
         "custom or default",                                                  \
         false},

void gw_ratelimit_get(gw_req_t *req);
void gw_ratelimit_set(gw_req_t *req);

//  Start the thread that reloads the policies (once per process; later
//  calls do nothing), stop it. Start returns 0 or -1.
int gw_ratelimit_start(const gw_config_t *config);
void gw_ratelimit_stop(void);

//  The policy of the session a send names: `session` (NULL: for a Wawp
//  request, its instance_id's session once the credential matches). On a
//  policy, fills *out and name (the session) and returns true.
bool gw_ratelimit_lookup(gw_req_t *req, const char *session, char *name,
                         size_t name_size, gw_ratelimit_t *out);

//  The limits of built-in `slug` into *out; false when unknown.
bool gw_ratelimit_builtin(const char *slug, gw_ratelimit_t *out);

//  Check a custom `limits` object into *out. Returns 0, or -1 and sets
//  *err_p (caller owns it) naming the field.
int gw_ratelimit_parse(json_t *limits, gw_ratelimit_t *out, char **err_p);

json_t *gw_ratelimit_schemas(void);

void gw_ratelimit_test(bool verbose);

#endif
