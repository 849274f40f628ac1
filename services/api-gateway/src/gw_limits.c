/*  gw_limits - request rate limits per API key and per session

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

#include <pthread.h>

typedef struct {
    double tokens;
    int64_t at_ms;
} s_bucket_t;

//  A session's send pacing: when its next send may leave, how many wait.
typedef struct {
    int64_t next_ms;
    int waiting;
} s_pace_t;

static struct {
    pthread_mutex_t lock;
    zhashx_t *buckets;
    zhashx_t *paces;
    zhashx_t *inflight; //  key digest -> requests in flight (s_bucket_t)
    double key_rate, session_rate, burst;
    int key_concurrent;
    int send_interval, send_jitter, send_queue;
} s_limits = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void
s_bucket_free(void **item)
{
    free(*item);
    *item = NULL;
}

void
gw_limits_configure(void)
{
    pthread_mutex_lock(&s_limits.lock);
    s_limits.key_rate =
        (double)cm_env_long("GATEWAY_RATE_LIMIT_KEY", 0, 0, 1000000);
    s_limits.session_rate =
        (double)cm_env_long("GATEWAY_RATE_LIMIT_SESSION", 0, 0, 1000000);
    s_limits.burst = (double)cm_env_long("GATEWAY_RATE_BURST", 0, 0, 10000000);
    s_limits.send_interval =
        (int)cm_env_long("GATEWAY_SEND_INTERVAL_MS", 0, 0, 3600000);
    s_limits.send_jitter =
        (int)cm_env_long("GATEWAY_SEND_JITTER_MS", 0, 0, 3600000);
    s_limits.send_queue = (int)cm_env_long("GATEWAY_SEND_QUEUE", 20, 1, 1000);
    s_limits.key_concurrent =
        (int)cm_env_long("GATEWAY_CONCURRENT_KEY", 0, 0, 1000000);
    pthread_mutex_unlock(&s_limits.lock);
}

int
gw_limits_take(const char *name, double rate, double burst, int64_t now_ms)
{
    if (rate <= 0) {
        return 0;
    }
    if (burst < 1) {
        burst = rate < 1 ? 1 : rate;
    }
    pthread_mutex_lock(&s_limits.lock);
    if (!s_limits.buckets ||
        zhashx_size(s_limits.buckets) >= GW_LIMITS_MAX_BUCKETS) {
        zhashx_destroy(&s_limits.buckets);
        s_limits.buckets = zhashx_new();
        zhashx_set_destructor(s_limits.buckets, s_bucket_free);
    }
    s_bucket_t *b = zhashx_lookup(s_limits.buckets, name);
    if (!b) {
        b = cm_alloc(sizeof *b);
        b->tokens = burst;
        b->at_ms = now_ms;
        zhashx_insert(s_limits.buckets, name, b);
    }
    if (now_ms > b->at_ms) {
        b->tokens += rate * (double)(now_ms - b->at_ms) / 1000.0;
        if (b->tokens > burst) {
            b->tokens = burst;
        }
        b->at_ms = now_ms;
    }
    int wait = 0;
    if (b->tokens >= 1) {
        b->tokens -= 1;
    } else {
        double secs = (1 - b->tokens) / rate;
        wait = (int)secs + ((double)(int)secs < secs ? 1 : 0);
        if (wait < 1) {
            wait = 1;
        }
    }
    pthread_mutex_unlock(&s_limits.lock);
    return wait;
}

void
gw_limits_give(const char *name, double burst)
{
    pthread_mutex_lock(&s_limits.lock);
    s_bucket_t *b =
        s_limits.buckets ? zhashx_lookup(s_limits.buckets, name) : NULL;
    if (b && b->tokens + 1 <= burst) {
        b->tokens += 1;
    }
    pthread_mutex_unlock(&s_limits.lock);
}

static int
s_limited(gw_req_t *req, int wait, const char *what)
{
    char text[16];
    snprintf(text, sizeof text, "%d", wait);
    gw_req_add_response_header(req, "Retry-After", text);
    gw_req_fail(req, 429, "too_many_requests",
                "too many requests for this %s; retry after %d s", what, wait);
    return -1;
}

int
gw_limits_key(gw_req_t *req, const char *key)
{
    if (!key || s_limits.key_rate <= 0) {
        return 0;
    }
    char name[GW_AUTH_HEX_SIZE + 2] = "k:";
    gw_auth_digest_hex(key, name + 2);
    int wait =
        gw_limits_take(name, s_limits.key_rate, s_limits.burst, cm_mono_ms());
    OPENSSL_cleanse(name, sizeof name);
    return wait ? s_limited(req, wait, "API key") : 0;
}

int
gw_limits_enter_slot(const char *name, int limit)
{
    if (limit <= 0) {
        return 0;
    }
    pthread_mutex_lock(&s_limits.lock);
    if (!s_limits.inflight) {
        s_limits.inflight = zhashx_new();
        zhashx_set_destructor(s_limits.inflight, s_bucket_free);
    }
    s_bucket_t *b = zhashx_lookup(s_limits.inflight, name);
    int rc = -1;
    if (!b && zhashx_size(s_limits.inflight) < GW_LIMITS_MAX_BUCKETS) {
        b = cm_alloc(sizeof *b);
        zhashx_insert(s_limits.inflight, name, b);
    }
    if (b && b->at_ms < limit) {
        b->at_ms++;
        rc = 0;
    }
    pthread_mutex_unlock(&s_limits.lock);
    return rc;
}

void
gw_limits_leave_slot(const char *name)
{
    pthread_mutex_lock(&s_limits.lock);
    s_bucket_t *b =
        s_limits.inflight ? zhashx_lookup(s_limits.inflight, name) : NULL;
    if (b && --b->at_ms <= 0) {
        zhashx_delete(s_limits.inflight, name);
    }
    pthread_mutex_unlock(&s_limits.lock);
}

int
gw_limits_enter(gw_req_t *req, const char *key, char **slot_p)
{
    assert(slot_p);
    *slot_p = NULL;
    int limit = s_limits.key_concurrent;
    if (!key || limit <= 0) {
        return 0;
    }
    char name[GW_AUTH_HEX_SIZE + 2] = "c:";
    gw_auth_digest_hex(key, name + 2);
    if (gw_limits_enter_slot(name, limit) != 0) {
        OPENSSL_cleanse(name, sizeof name);
        char text[16];
        snprintf(text, sizeof text, "%d", 1);
        gw_req_add_response_header(req, "Retry-After", text);
        gw_req_fail(req, 429, "too_many_requests",
                    "too many concurrent requests for this API key (at most "
                    "%d); retry after 1 s",
                    limit);
        return -1;
    }
    *slot_p = cm_strdup(name);
    OPENSSL_cleanse(name, sizeof name);
    return 0;
}

void
gw_limits_leave(char **slot_p)
{
    assert(slot_p);
    if (*slot_p) {
        gw_limits_leave_slot(*slot_p);
        OPENSSL_cleanse(*slot_p, strlen(*slot_p));
        free(*slot_p);
        *slot_p = NULL;
    }
}

int
gw_limits_session(gw_req_t *req)
{
    if (s_limits.session_rate <= 0) {
        return 0;
    }
    json_t *body = gw_req_json(req);
    const char *session = gw_req_param(req, "session");
    if (!session) {
        session = gw_req_query(req, "session");
    }
    if (!session && json_is_object(body)) {
        session = json_string_value(json_object_get(body, "session"));
    }
    if (!session || streq(session, "*") || strlen(session) > 128) {
        return 0;
    }
    char *name = cm_sprintf("s:%s", session);
    int wait = gw_limits_take(name, s_limits.session_rate, s_limits.burst,
                              cm_mono_ms());
    free(name);
    return wait ? s_limited(req, wait, "session") : 0;
}

//  The session a request names, or NULL. Borrowed.
static const char *
s_session_of(gw_req_t *req)
{
    json_t *body = gw_req_json(req);
    const char *session = gw_req_param(req, "session");
    if (!session) {
        session = gw_req_query(req, "session");
    }
    if (!session && json_is_object(body)) {
        session = json_string_value(json_object_get(body, "session"));
    }
    if (!session || streq(session, "*") || strlen(session) > 128) {
        return NULL;
    }
    return session;
}

int64_t
gw_limits_pace_slot(const char *session, int interval, int jitter, int queue,
                    int64_t now_ms)
{
    pthread_mutex_lock(&s_limits.lock);
    if (!s_limits.paces ||
        zhashx_size(s_limits.paces) >= GW_LIMITS_MAX_BUCKETS) {
        zhashx_destroy(&s_limits.paces);
        s_limits.paces = zhashx_new();
        zhashx_set_destructor(s_limits.paces, s_bucket_free);
    }
    s_pace_t *p = zhashx_lookup(s_limits.paces, session);
    if (!p) {
        p = cm_alloc(sizeof *p);
        zhashx_insert(s_limits.paces, session, p);
    }
    int64_t slot = -1;
    if (p->waiting < queue) {
        slot = p->next_ms > now_ms ? p->next_ms : now_ms;
        uint32_t r = 0;
        cm_random((uint8_t *)&r, sizeof r);
        p->next_ms = slot + interval +
                     (jitter > 0 ? (int64_t)(r % (uint32_t)(jitter + 1)) : 0);
        p->waiting++;
    }
    pthread_mutex_unlock(&s_limits.lock);
    return slot;
}

void
gw_limits_pace_done(const char *session)
{
    pthread_mutex_lock(&s_limits.lock);
    s_pace_t *p =
        s_limits.paces ? zhashx_lookup(s_limits.paces, session) : NULL;
    if (p && p->waiting > 0) {
        p->waiting--;
    }
    pthread_mutex_unlock(&s_limits.lock);
}

void
gw_limits_defaults(gw_ratelimit_t *out)
{
    pthread_mutex_lock(&s_limits.lock);
    out->per_minute = 0;
    out->burst = 0;
    out->interval_ms = s_limits.send_interval;
    out->jitter_ms = s_limits.send_jitter;
    out->concurrent = s_limits.send_queue > 0 ? s_limits.send_queue : 20;
    pthread_mutex_unlock(&s_limits.lock);
}

//  Wait for a send slot of `session`: `interval` + 0..`jitter` ms after
//  the previous send, at most `queue` waiting (429 past it).
static int
s_pace(gw_req_t *req, const char *session, int interval, int jitter, int queue)
{
    if (interval <= 0) {
        return 0;
    }
    int64_t now = cm_mono_ms();
    int64_t slot = gw_limits_pace_slot(session, interval, jitter, queue, now);
    if (slot < 0) {
        int wait = (int)(((int64_t)interval * queue) / 1000 + 1);
        return s_limited(req, wait, "session's send queue");
    }
    if (slot > now) {
        zclock_sleep((int)(slot - now));
    }
    gw_limits_pace_done(session);
    return 0;
}

int
gw_limits_pace(gw_req_t *req, const gw_route_t *route)
{
    //  Wawp's GET send forms send too: no way round the pacing
    bool send = gw_keys_action(route->method, route->path) == GW_KEYS_SEND ||
                (gw_api_side_effect_get(route) && strstr(route->path, "/send"));
    if (!send) {
        return 0;
    }
    //  A Wawp send is known by its instance_id, and charged only once its
    //  credential matches (gw_ratelimit_lookup): a `session` field there
    //  names nothing the caller was checked for
    const char *session =
        gw_req_family(req) == GW_FAMILY_WAWP ? NULL : s_session_of(req);
    //  The session's own policy (gw_ratelimit) first
    char name[GW_SESSION_NAME_MAX + 1];
    gw_ratelimit_t policy;
    if (gw_ratelimit_lookup(req, session, name, sizeof name, &policy)) {
        if (policy.per_minute > 0) {
            double burst =
                policy.burst > 0 ? policy.burst : (policy.per_minute + 9) / 10;
            //  A bucket per session and limits: a new policy starts full
            char *bucket =
                cm_sprintf("r:%d:%d:%s", policy.per_minute, policy.burst, name);
            int wait = gw_limits_take(bucket, policy.per_minute / 60.0, burst,
                                      cm_mono_ms());
            free(bucket);
            if (wait) {
                return s_limited(req, wait, "session's rate-limit policy");
            }
        }
        return s_pace(req, name, policy.interval_ms, policy.jitter_ms,
                      policy.concurrent > 0 ? policy.concurrent : 1);
    }
    if (!session) {
        return 0;
    }
    return s_pace(req, session, s_limits.send_interval, s_limits.send_jitter,
                  s_limits.send_queue);
}

void
gw_limits_test(bool verbose)
{
    printf(" * gw_limits: ");
    //  A burst of 3 at 2/s: three pass, the fourth waits 1 s; half a
    //  second later one token is back
    assert(gw_limits_take("t:a", 2, 3, 1000) == 0);
    assert(gw_limits_take("t:a", 2, 3, 1000) == 0);
    assert(gw_limits_take("t:a", 2, 3, 1000) == 0);
    assert(gw_limits_take("t:a", 2, 3, 1000) == 1);
    assert(gw_limits_take("t:b", 2, 3, 1000) == 0); //  its own bucket
    assert(gw_limits_take("t:a", 2, 3, 1500) == 0);
    assert(gw_limits_take("t:a", 2, 3, 1500) == 1);
    //  Slow rates wait longer
    assert(gw_limits_take("t:c", 0.1, 1, 0) == 0);
    assert(gw_limits_take("t:c", 0.1, 1, 0) == 10);
    //  Off
    assert(gw_limits_take("t:d", 0, 0, 0) == 0);
    //  A token given back: the next take passes, never past the burst
    assert(gw_limits_take("t:g", 1, 1, 0) == 0);
    assert(gw_limits_take("t:g", 1, 1, 0) == 1);
    gw_limits_give("t:g", 1);
    assert(gw_limits_take("t:g", 1, 1, 0) == 0);
    gw_limits_give("t:g", 1);
    gw_limits_give("t:g", 1);
    assert(gw_limits_take("t:g", 1, 1, 0) == 0);
    assert(gw_limits_take("t:g", 1, 1, 0) == 1);
    gw_limits_give("t:none", 1); //  no bucket: nothing
    //  Pacing: slots an interval apart, at most `queue` waiting
    assert(gw_limits_pace_slot("p", 100, 0, 2, 1000) == 1000);
    assert(gw_limits_pace_slot("p", 100, 0, 2, 1000) == 1100);
    assert(gw_limits_pace_slot("p", 100, 0, 2, 1000) == -1);
    gw_limits_pace_done("p");
    assert(gw_limits_pace_slot("p", 100, 0, 2, 1000) == 1200);
    int64_t j = gw_limits_pace_slot("q", 100, 50, 5, 0);
    int64_t k = gw_limits_pace_slot("q", 100, 50, 5, 0);
    assert(j == 0 && k >= 100 && k <= 150);
    //  429 with Retry-After in the API's shape
    gw_req_t *req = gw_req_new("GET", "/api/sessions");
    assert(s_limited(req, 3, "API key") == -1);
    assert(gw_req_status(req) == 429);
    assert(streq(json_string_value(json_object_get(gw_req_response_headers(req),
                                                   "Retry-After")),
                 "3"));
    gw_req_destroy(&req);
    //  Concurrent requests: two of "x" in flight, the third refused
    //  until one leaves; the slot goes away with the last
    assert(gw_limits_enter_slot("t:x", 2) == 0);
    assert(gw_limits_enter_slot("t:x", 2) == 0);
    assert(gw_limits_enter_slot("t:x", 2) == -1);
    assert(gw_limits_enter_slot("t:y", 2) == 0);
    gw_limits_leave_slot("t:x");
    assert(gw_limits_enter_slot("t:x", 2) == 0);
    gw_limits_leave_slot("t:x");
    gw_limits_leave_slot("t:x");
    gw_limits_leave_slot("t:y");
    assert(zhashx_size(s_limits.inflight) == 0);
    assert(gw_limits_enter_slot("t:z", 0) == 0); //  off
    char *slot = NULL;
    req = gw_req_new("GET", "/api/sessions");
    assert(gw_limits_enter(req, "k", &slot) == 0 && !slot); //  off
    gw_req_destroy(&req);
    gw_limits_leave(&slot);
    pthread_mutex_lock(&s_limits.lock);
    zhashx_destroy(&s_limits.inflight);
    zhashx_destroy(&s_limits.buckets);
    zhashx_destroy(&s_limits.paces);
    pthread_mutex_unlock(&s_limits.lock);
    printf("OK\n");
}
