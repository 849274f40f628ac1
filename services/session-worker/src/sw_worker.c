/*  sw_worker - leases, heartbeats and gateway commands of one worker

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

//  One gateway connection.
typedef struct {
    zsock_t *sock;  //  DEALER, identity = WORKER_ID
    char *endpoint; //  where it connects
    bool greeted;   //  the gateway answered worker.hello
} s_gateway_t;

//  A gateway command waiting for a session to finish.
typedef struct {
    sw_worker_t *worker; //  the worker
    sw_cmd_t *cmd;       //  the command, owned
} s_pending_t;

struct _sw_worker_t {
    const sw_config_t *config; //  configuration, borrowed
    sw_loop_t *loop;           //  the loop, borrowed
    sw_engine_t *engine;       //  the engine, owned
    cm_client_t *store;        //  store client
    cm_client_t *media;        //  media-service client
    sw_host_t *host;           //  what sessions borrow
    s_gateway_t *gateways;     //  gateway connections
    size_t gateway_count;      //  entries in gateways
    zhashx_t *sessions;        //  name -> sw_session_t, held reference
    zhashx_t *logouts;         //  name -> s_pending_t, logout in progress
    zlistx_t *pending;         //  s_pending_t waiting for a finish
    cm_handlers_t *handlers;   //  synchronous gateway requests
    uint64_t heartbeat_timer;  //  heartbeat every SW_HEARTBEAT_MS
    uint64_t claim_timer;      //  next periodic claim
    uint64_t nudge_timer;      //  claim a nudge asked for, held back
    uint64_t renew_timer;      //  renew every TTL/3
    uint64_t renew_retry;      //  renew again soon after a failed one
    uint64_t fence_timer;      //  earliest possible lease expiry
    uint64_t shutdown_timer;   //  shutdown deadline
    uint64_t claims_sent;      //  claims sent so far
    int64_t claim_sent_at;     //  mono ms the claim in flight was sent
    int64_t renew_sent_at;     //  mono ms the renew in flight was sent
    uint64_t renew_claims;     //  claims_sent when the renew was sent
    size_t finishing;          //  sessions releasing at shutdown
    int fence_margin;          //  ms before expiry to stop sessions
    bool claiming;             //  a claim is in flight
    bool claim_again;          //  claim once the current one returns
    bool renewing;             //  a renew is in flight
    bool shutting_down;        //  sw_worker_shutdown was called
    bool finished;             //  shutdown complete
    bool store_down;           //  the last lease request failed
};

static void s_heartbeat(sw_worker_t *self, bool empty);

//  Log a failed lease request once per outage, not once per attempt.
static void
s_store_result(sw_worker_t *self, const char *what, cm_msg_t *reply)
{
    int st = cm_msg_status(reply);
    const char *reason = cm_msg_reason(reply) ? cm_msg_reason(reply) : "";
    if (st == 200) {
        if (self->store_down) {
            cm_log_info("store reachable again");
        }
        self->store_down = false;
    } else if (!self->store_down || st < 500) {
        cm_log_warn("could not renew or claim leases",
                    "request=%s st=%d "
                    "reason=\"%s\"",
                    what, st, reason);
        self->store_down = st >= 500;
    } else {
        cm_log_debug("could not renew or claim leases",
                     "request=%s st=%d "
                     "reason=\"%s\"",
                     what, st, reason);
    }
}
static void s_schedule_fence(sw_worker_t *self);

//  --------------------------------------------------------------------
//  Pending gateway commands

static s_pending_t *
s_pending_new(sw_worker_t *self, sw_cmd_t **cmd_p)
{
    s_pending_t *p = cm_alloc(sizeof *p);
    p->worker = self;
    p->cmd = *cmd_p;
    *cmd_p = NULL;
    zlistx_add_end(self->pending, p);
    return p;
}

//  Answer and free a pending command.
static void
s_pending_reply(s_pending_t *p, int st, const char *reason)
{
    sw_worker_t *self = p->worker;
    void *handle = zlistx_find(self->pending, p);
    if (handle) {
        zlistx_detach(self->pending, handle);
    }
    sw_cmd_reply(&p->cmd, st, reason, NULL);
    free(p);
}

static void
s_pending_free(void **item_p)
{
    s_pending_t *p = (s_pending_t *)*item_p;
    if (p) {
        sw_cmd_destroy(&p->cmd);
        free(p);
        *item_p = NULL;
    }
}

//  A stop or logout finished: answer the gateway.
static void
s_cmd_done(sw_session_t *session, int st, void *arg)
{
    s_pending_t *p = (s_pending_t *)arg;
    cm_log_info("stopped session", "session=\"%s\" release_st=%d",
                sw_session_name(session), st);
    s_pending_reply(p, 200, NULL);
}

//  --------------------------------------------------------------------
//  Sessions

static sw_session_t *
s_take(sw_worker_t *self, const char *name)
{
    sw_session_t *s = (sw_session_t *)zhashx_lookup(self->sessions, name);
    if (s) {
        zhashx_delete(self->sessions, name);
    }
    return s;
}

//  The store refused a write with 409/404: the lease is gone.
static void
s_fenced(sw_session_t *session, int st, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    sw_session_t *s = s_take(self, sw_session_name(session));
    if (!s) {
        return;
    }
    cm_log_warn("stopping session: lease lost", "session=\"%s\" st=%d",
                sw_session_name(s), st);
    s_pending_t *logout =
        (s_pending_t *)zhashx_lookup(self->logouts, sw_session_name(s));
    if (logout) {
        zhashx_delete(self->logouts, sw_session_name(s));
        s_pending_reply(logout, 409, "lease lost");
    }
    sw_session_finish(&s, 0, NULL, NULL);
}

//  The engine finished a logout: clear creds, STOPPED, release.
static void
s_logout_done(sw_session_t *session, int rc, const char *reason, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    const char *name = sw_session_name(session);
    s_pending_t *p = (s_pending_t *)zhashx_lookup(self->logouts, name);
    if (p) {
        zhashx_delete(self->logouts, name);
    }
    if (rc != 0) {
        cm_log_warn("could not unlink device, clearing it anyway",
                    "session=\"%s\" reason=\"%s\"", name, reason ? reason : "");
    }
    sw_session_t *s = s_take(self, name);
    if (!s) {
        if (p) {
            s_pending_reply(p, 409, "session is stopping");
        }
        return;
    }
    cm_log_info("logged out session", "session=\"%s\"", name);
    sw_session_finish(&s,
                      SW_FINISH_CLEAR | SW_FINISH_STATUS | SW_FINISH_RELEASE,
                      p ? s_cmd_done : NULL, p);
}

//  --------------------------------------------------------------------
//  Leases

//  For fire-and-forget store requests (the caller destroys the reply).
static void
s_ignore_reply(cm_msg_t **reply_p, void *arg)
{
}

static void
s_claim_reply(cm_msg_t **reply_p, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    cm_msg_t *reply = *reply_p;
    self->claiming = false;
    int st = cm_msg_status(reply);
    s_store_result(self, "lease.claim", reply);
    json_t *list = json_object_get(cm_msg_body(reply), "sessions");
    int64_t valid_until =
        self->claim_sent_at + sw_config_lease_ttl_ms(self->config);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        json_t *epoch = json_object_get(item, "epoch");
        if (st != 200 || !name || !*name || !json_is_integer(epoch)) {
            cm_log_warn("ignored malformed claimed session", "index=%zu", i);
            continue;
        }
        if (self->shutting_down) {
            //  Too late: give it back at once.
            cm_msg_t *req = cm_msg_new("lease.release");
            cm_msg_set_str(req, "worker", sw_config_worker_id(self->config));
            cm_msg_set_str(req, "name", name);
            cm_msg_set_int(req, "epoch", json_integer_value(epoch));
            sw_host_call(self->host, &req, SW_WRITE_TIMEOUT_MS, s_ignore_reply,
                         NULL);
            continue;
        }
        sw_session_t *s = (sw_session_t *)zhashx_lookup(self->sessions, name);
        if (s) {
            //  Our lease lapsed and we got it back: same session.
            sw_session_set_epoch(s, json_integer_value(epoch));
            sw_session_set_valid_until(s, valid_until);
            continue;
        }
        s = sw_session_new(self->host, name, json_integer_value(epoch),
                           json_object_get(item, "config"));
        sw_session_set_valid_until(s, valid_until);
        zhashx_insert(self->sessions, name, s);
        cm_log_info("claimed session", "session=\"%s\" epoch=%" PRId64, name,
                    (int64_t)json_integer_value(epoch));
        sw_session_start(s);
    }
    if (json_array_size(list) > 0) {
        s_schedule_fence(self);
    }
    if (self->claim_again) {
        self->claim_again = false;
        sw_worker_claim(self);
    }
}

void
sw_worker_claim(sw_worker_t *self)
{
    if (self->shutting_down) {
        return;
    }
    if (self->claiming) {
        self->claim_again = true;
        return;
    }
    size_t held = zhashx_size(self->sessions);
    size_t max = (size_t)sw_config_max_sessions(self->config);
    if (held >= max) {
        return;
    }
    size_t room = max - held;
    if (room > (size_t)sw_config_claim_batch(self->config)) {
        room = (size_t)sw_config_claim_batch(self->config);
    }
    cm_msg_t *req = cm_msg_new("lease.claim");
    cm_msg_set_str(req, "worker", sw_config_worker_id(self->config));
    cm_msg_set_int(req, "max", (int64_t)room);
    cm_msg_set_int(req, "ttl_ms", sw_config_lease_ttl_ms(self->config));
    self->claiming = true;
    self->claims_sent++;
    self->claim_sent_at = cm_mono_ms();
    //  A claim answered after its lease could expire is worthless.
    sw_host_call(self->host, &req, sw_config_lease_ttl_ms(self->config) / 2,
                 s_claim_reply, self);
}

//  Claims run every claim interval give or take a quarter, so workers
//  started together interleave their claims and share new sessions.
static void s_claim_timer(sw_loop_t *loop, uint64_t id, void *arg);

static void
s_arm_claim_timer(sw_worker_t *self)
{
    int interval = sw_config_claim_interval_ms(self->config);
    uint32_t r;
    cm_random(&r, sizeof r);
    int delay = interval * 3 / 4 + (int)(r % (uint32_t)(interval / 2 + 1));
    self->claim_timer =
        sw_loop_timer_add(self->loop, delay, false, s_claim_timer, self);
}

static void
s_claim_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    self->claim_timer = 0;
    sw_worker_claim(self);
    if (!self->shutting_down) {
        s_arm_claim_timer(self);
    }
}

static void s_renew(sw_worker_t *self);

static void
s_renew_retry(sw_loop_t *loop, uint64_t id, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    self->renew_retry = 0;
    s_renew(self);
}

static void
s_renew_reply(cm_msg_t **reply_p, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    cm_msg_t *reply = *reply_p;
    self->renewing = false;
    int st = cm_msg_status(reply);
    s_store_result(self, "lease.renew", reply);
    if (st >= 500 && !self->shutting_down && !self->renew_retry) {
        //  The store is away (or went away with the renew): try again
        //  soon rather than a third of the lease later, so a store back
        //  after a restart renews the leases before they can run out. A
        //  renew to no store fails at once, so trying costs nothing.
        self->renew_retry = sw_loop_timer_add(self->loop, SW_RENEW_RETRY_MS,
                                              false, s_renew_retry, self);
    }
    if (st != 200) {
        return;
    }
    if (self->shutting_down) {
        return;
    }
    int64_t valid_until =
        self->renew_sent_at + sw_config_lease_ttl_ms(self->config);
    //  A lease we do not know about comes from a claim whose reply we
    //  lost; give it back, unless a claim was in flight meanwhile.
    bool claims_quiet =
        !self->claiming && self->claims_sent == self->renew_claims;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(cm_msg_body(reply), "held"), i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        json_t *epoch = json_object_get(item, "epoch");
        if (!name || !json_is_integer(epoch)) {
            continue;
        }
        sw_session_t *s = (sw_session_t *)zhashx_lookup(self->sessions, name);
        if (s) {
            sw_session_set_valid_until(s, valid_until);
            sw_session_set_epoch(s, json_integer_value(epoch));
        } else if (claims_quiet) {
            cm_log_warn("releasing unknown lease", "session=\"%s\"", name);
            cm_msg_t *req = cm_msg_new("lease.release");
            cm_msg_set_str(req, "worker", sw_config_worker_id(self->config));
            cm_msg_set_str(req, "name", name);
            cm_msg_set_int(req, "epoch", json_integer_value(epoch));
            sw_host_call(self->host, &req, SW_WRITE_TIMEOUT_MS, s_ignore_reply,
                         NULL);
        }
    }
    json_array_foreach(json_object_get(cm_msg_body(reply), "drop"), i, item)
    {
        const char *name = json_string_value(item);
        sw_session_t *s = name ? s_take(self, name) : NULL;
        if (s) {
            cm_log_info("stopping session", "session=\"%s\" why=drop", name);
            sw_session_finish(&s, SW_FINISH_STATUS | SW_FINISH_RELEASE, NULL,
                              NULL);
        }
    }
    s_schedule_fence(self);
}

static void
s_renew(sw_worker_t *self)
{
    if (self->renewing || self->shutting_down) {
        return;
    }
    if (self->renew_retry) {
        sw_loop_timer_cancel(self->loop, self->renew_retry);
        self->renew_retry = 0;
    }
    int ttl = sw_config_lease_ttl_ms(self->config);
    cm_msg_t *req = cm_msg_new("lease.renew");
    cm_msg_set_str(req, "worker", sw_config_worker_id(self->config));
    cm_msg_set_int(req, "ttl_ms", ttl);
    //  The store lists in `drop` whatever of these we no longer hold.
    json_t *names = json_array();
    for (sw_session_t *s = (sw_session_t *)zhashx_first(self->sessions); s;
         s = (sw_session_t *)zhashx_next(self->sessions)) {
        json_array_append_new(names, json_string(sw_session_name(s)));
    }
    cm_msg_set(req, "sessions", names);
    self->renewing = true;
    self->renew_sent_at = cm_mono_ms();
    self->renew_claims = self->claims_sent;
    sw_host_call(self->host, &req, ttl / 3, s_renew_reply, self);
}

static void
s_renew_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_renew((sw_worker_t *)arg);
}

//  Stop, without touching the store, every session whose lease may
//  expire within the margin: another worker may claim it after that.
static void
s_fence_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    self->fence_timer = 0;
    int64_t limit = cm_mono_ms() + self->fence_margin;
    zlistx_t *names = zhashx_keys(self->sessions);
    for (const char *name = (const char *)zlistx_first(names); name;
         name = (const char *)zlistx_next(names)) {
        sw_session_t *s = (sw_session_t *)zhashx_lookup(self->sessions, name);
        if (s && sw_session_valid_until(s) <= limit) {
            cm_log_warn("stopping session: lease not renewed in time "
                        "(self-fencing)",
                        "session=\"%s\"", name);
            s = s_take(self, name);
            sw_session_finish(&s, 0, NULL, NULL);
        }
    }
    zlistx_destroy(&names);
    s_schedule_fence(self);
}

//  Arm the fence timer at the earliest lease expiry minus the margin.
static void
s_schedule_fence(sw_worker_t *self)
{
    if (self->fence_timer) {
        sw_loop_timer_cancel(self->loop, self->fence_timer);
        self->fence_timer = 0;
    }
    int64_t earliest = INT64_MAX;
    for (sw_session_t *s = (sw_session_t *)zhashx_first(self->sessions); s;
         s = (sw_session_t *)zhashx_next(self->sessions)) {
        if (sw_session_valid_until(s) < earliest) {
            earliest = sw_session_valid_until(s);
        }
    }
    if (earliest == INT64_MAX) {
        return;
    }
    int64_t delay = earliest - self->fence_margin - cm_mono_ms();
    if (delay < 0) {
        delay = 0;
    }
    self->fence_timer =
        sw_loop_timer_add(self->loop, (int)delay, false, s_fence_timer, self);
}

//  --------------------------------------------------------------------
//  Gateways

static void
s_heartbeat(sw_worker_t *self, bool empty)
{
    for (size_t g = 0; g < self->gateway_count; g++) {
        s_gateway_t *gw = &self->gateways[g];
        cm_msg_t *msg =
            cm_msg_new(gw->greeted ? "worker.heartbeat" : "worker.hello");
        cm_msg_set_str(msg, "worker", sw_config_worker_id(self->config));
        json_t *names = json_array();
        if (!empty) {
            for (sw_session_t *s = (sw_session_t *)zhashx_first(self->sessions);
                 s; s = (sw_session_t *)zhashx_next(self->sessions)) {
                json_array_append_new(names, json_string(sw_session_name(s)));
            }
        }
        cm_msg_set(msg, "sessions", names);
        cm_msg_set_int(msg, "max", sw_config_max_sessions(self->config));
        //  For /metrics: resident memory and message counts since start
        int64_t in = 0, out = 0;
        sw_host_message_counts(self->host, &in, &out);
        cm_msg_set_int(msg, "rss", cm_rss_bytes());
        cm_msg_set_int(msg, "msgs_in", in);
        cm_msg_set_int(msg, "msgs_out", out);
        cm_msg_set_deadline(msg, cm_now_ms() + SW_HEARTBEAT_MS * 3);
        //  Not connected yet: dropped; the next beat tries again.
        cm_msg_send(&msg, gw->sock);
    }
}

static void
s_heartbeat_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_heartbeat((sw_worker_t *)arg, false);
}

static cm_msg_t *
s_on_health(cm_msg_t *request, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    cm_msg_t *reply = cm_handlers_health(request, "session-worker",
                                         sw_config_worker_id(self->config));
    cm_msg_set_int(reply, "sessions", (int64_t)zhashx_size(self->sessions));
    return reply;
}

//  Every worker hears a nudge for a new session at once, and the first
//  claim wins. A worker holds its claim back a millisecond for each
//  session it holds (SW_NUDGE_MAX_MS at most), so the least loaded one
//  usually wins and new sessions spread over the workers; when it is
//  busy or gone, another wins a moment later.
#define SW_NUDGE_MAX_MS 100

static void
s_nudge_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    self->nudge_timer = 0;
    sw_worker_claim(self);
}

int
sw_worker_nudge_delay_ms(sw_worker_t *self)
{
    size_t held = zhashx_size(self->sessions);
    return held < SW_NUDGE_MAX_MS ? (int)held : SW_NUDGE_MAX_MS;
}

static cm_msg_t *
s_on_nudge(cm_msg_t *request, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    int delay = sw_worker_nudge_delay_ms(self);
    if (delay == 0) {
        sw_worker_claim(self);
    } else if (!self->nudge_timer && !self->shutting_down) {
        self->nudge_timer =
            sw_loop_timer_add(self->loop, delay, false, s_nudge_timer, self);
    }
    return NULL; //  one-way
}

//  session.stop: finish with STOPPED and release; answer when done.
static void
s_on_stop(sw_worker_t *self, sw_cmd_t **cmd_p)
{
    const char *name = cm_msg_str(sw_cmd_request(*cmd_p), "name");
    sw_session_t *s = s_take(self, name);
    if (!s) {
        sw_cmd_reply(cmd_p, 404, "session is not held by this worker", NULL);
        return;
    }
    cm_log_info("stopping session", "session=\"%s\" why=request", name);
    s_pending_t *logout = (s_pending_t *)zhashx_lookup(self->logouts, name);
    if (logout) {
        zhashx_delete(self->logouts, name);
        s_pending_reply(logout, 409, "session was stopped");
    }
    s_pending_t *p = s_pending_new(self, cmd_p);
    sw_session_finish(&s, SW_FINISH_STATUS | SW_FINISH_RELEASE, s_cmd_done, p);
}

//  session.logout: the engine unlinks, then s_logout_done.
static void
s_on_logout(sw_worker_t *self, sw_cmd_t **cmd_p)
{
    const char *name = cm_msg_str(sw_cmd_request(*cmd_p), "name");
    sw_session_t *s = (sw_session_t *)zhashx_lookup(self->sessions, name);
    if (!s) {
        sw_cmd_reply(cmd_p, 404, "session is not held by this worker", NULL);
        return;
    }
    if (zhashx_lookup(self->logouts, name)) {
        sw_cmd_reply(cmd_p, 409, "logout already in progress", NULL);
        return;
    }
    s_pending_t *p = s_pending_new(self, cmd_p);
    zhashx_insert(self->logouts, name, p);
    //  May call s_logout_done before it returns.
    sw_session_logout(s);
}

static void
s_on_engine_command(sw_worker_t *self, sw_cmd_t **cmd_p)
{
    const char *name = cm_msg_str(sw_cmd_request(*cmd_p), "name");
    sw_session_t *s = (sw_session_t *)zhashx_lookup(self->sessions, name);
    if (!s) {
        sw_cmd_reply(cmd_p, 404, "session is not held by this worker", NULL);
        return;
    }
    if (sw_engine_command(self->engine, s, cmd_p) != SW_CMD_TAKEN) {
        sw_cmd_reply(cmd_p, 400, "unrecognized message type", NULL);
    }
}

//  Session commands are answered later, so they take the request; the
//  protocol rules (version, deadline, fields) are checked here.
static bool
s_session_command(sw_worker_t *self, cm_msg_t **request_p, zsock_t *sock)
{
    cm_msg_t *request = *request_p;
    const char *type = cm_msg_type(request);
    bool stop = cm_streq(type, "session.stop");
    bool logout = cm_streq(type, "session.logout");
    bool engine = !stop && !logout && sw_engine_handles(self->engine, type);
    if (!stop && !logout && !engine) {
        return false;
    }
    if (cm_msg_version(request) > 1) {
        cm_msg_t *reply =
            cm_msg_new_reply(request, 400, "unsupported message version");
        cm_msg_send(&reply, sock);
        cm_msg_destroy(request_p);
        return true;
    }
    if (cm_msg_expired(request)) {
        cm_log_debug("dropped expired request", "%s", cm_msg_summary(request));
        cm_msg_destroy(request_p);
        return true;
    }
    const char *name = cm_msg_str(request, "name");
    if (!name || !*name) {
        cm_msg_t *reply =
            cm_msg_new_reply(request, 400, "missing or invalid field: name");
        cm_msg_send(&reply, sock);
        cm_msg_destroy(request_p);
        return true;
    }
    sw_cmd_t *cmd = sw_cmd_new(request_p, sock);
    if (self->shutting_down) {
        sw_cmd_reply(&cmd, 503, "worker is shutting down", NULL);
    } else if (stop) {
        s_on_stop(self, &cmd);
    } else if (logout) {
        s_on_logout(self, &cmd);
    } else {
        s_on_engine_command(self, &cmd);
    }
    return true;
}

static void
s_gateway_readable(sw_loop_t *loop, zsock_t *sock, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    s_gateway_t *gw = NULL;
    for (size_t g = 0; g < self->gateway_count; g++) {
        if (self->gateways[g].sock == sock) {
            gw = &self->gateways[g];
        }
    }
    assert(gw);
    //  A bounded batch per wake-up keeps the loop fair; zmq_poll reports
    //  the socket again while messages are waiting.
    for (int n = 0; n < 64 && (zsock_events(sock) & ZMQ_POLLIN); n++) {
        cm_msg_t *msg = cm_msg_recv(sock, false);
        if (!msg) {
            continue; //  undecodable header: dropped with a warning
        }
        if (cm_msg_is_reply(msg)) {
            if (cm_streq(cm_msg_type(msg), "worker.hello") &&
                cm_msg_status(msg) == 200 && !gw->greeted) {
                gw->greeted = true;
                cm_log_info("registered with gateway", "endpoint=\"%s\"",
                            gw->endpoint);
            }
            cm_msg_destroy(&msg);
            continue;
        }
        if (!cm_msg_error(msg) && s_session_command(self, &msg, sock)) {
            continue;
        }
        cm_msg_t *reply = cm_handlers_dispatch(self->handlers, msg);
        if (reply) {
            cm_msg_send(&reply, sock);
        }
        cm_msg_destroy(&msg);
    }
}

//  --------------------------------------------------------------------
//  Construction

sw_worker_t *
sw_worker_new(const sw_config_t *config, sw_loop_t *loop,
              sw_engine_t **engine_p)
{
    assert(config && loop && engine_p && *engine_p);
    sw_worker_t *self = cm_alloc(sizeof *self);
    self->config = config;
    self->loop = loop;
    self->engine = *engine_p;
    *engine_p = NULL;
    self->sessions = zhashx_new();
    self->logouts = zhashx_new();
    self->pending = zlistx_new();
    zlistx_set_destructor(self->pending, s_pending_free);
    self->handlers = cm_handlers_new();
    cm_handlers_add(self->handlers, "health.ping", 1, s_on_health, self);
    cm_handlers_add(self->handlers, "worker.nudge", 1, s_on_nudge, self);
    int ttl = sw_config_lease_ttl_ms(config);
    self->fence_margin =
        ttl / 10 < SW_FENCE_MARGIN_MS ? ttl / 10 : SW_FENCE_MARGIN_MS;

    self->store = cm_client_new(sw_config_store_endpoints(config));
    if (!self->store) {
        sw_worker_destroy(&self);
        return NULL;
    }
    //  Never block the loop on a store that is not connected: fail the
    //  send (the request completes with 503 and is retried).
    cm_client_set_sndtimeo(self->store, 0);
    //  The worker's store requests are safe to repeat (ARCHITECTURE.md,
    //  Sockets): those a store-service takes with it when it dies go to
    //  another one at once
    cm_client_set_resend(self->store, true);
    self->host = sw_host_new(self->store, loop, config, self->engine);
    //  Media work (uploads, downloads) goes to media-service; the same
    //  never-block rule holds
    self->media = cm_client_new(sw_config_media_endpoints(config));
    if (self->media) {
        cm_client_set_sndtimeo(self->media, 0);
        //  Uploads and downloads are safe to repeat (nothing reaches a
        //  chat before the reply; a stored file is written whole under
        //  its name): those of a media-service that dies go to another
        cm_client_set_resend(self->media, true);
        sw_host_set_media(self->host, self->media);
    } else {
        cm_log_warn("no media-service endpoint: media cannot be sent or "
                    "downloaded",
                    "endpoints=\"%s\"", sw_config_media_endpoints(config));
    }
    sw_host_set_callbacks(self->host, s_fenced, s_logout_done, self);

    char *list = cm_strdup(sw_config_gateway_endpoints(config));
    char *save = NULL;
    for (char *ep = strtok_r(list, ",", &save); ep;
         ep = strtok_r(NULL, ",", &save)) {
        while (*ep == ' ') {
            ep++;
        }
        if (!*ep) {
            continue;
        }
        zsock_t *sock = zsock_new(ZMQ_DEALER);
        assert(sock);
        cm_msg_sock_defaults(sock);
        zsock_set_identity(sock, sw_config_worker_id(config));
        zsock_set_immediate(sock, 1);
        zsock_set_sndtimeo(sock, 0);
        if (zsock_connect(sock, "%s", ep) != 0) {
            cm_log_error("could not connect to gateway", "endpoint=\"%s\"", ep);
            zsock_destroy(&sock);
            free(list);
            sw_worker_destroy(&self);
            return NULL;
        }
        self->gateways = realloc(self->gateways, (self->gateway_count + 1) *
                                                     sizeof *self->gateways);
        assert(self->gateways);
        self->gateways[self->gateway_count++] =
            (s_gateway_t){sock, cm_strdup(ep), false};
        sw_loop_sock_add(loop, sock, s_gateway_readable, self);
    }
    free(list);
    if (self->gateway_count == 0) {
        cm_log_error("could not connect to gateway", "reason=\"no endpoint\"");
        sw_worker_destroy(&self);
    }
    return self;
}

void
sw_worker_destroy(sw_worker_t **self_p)
{
    assert(self_p);
    sw_worker_t *self = *self_p;
    if (!self) {
        return;
    }
    //  Engines stop; nothing more is written.
    zlistx_t *names = zhashx_keys(self->sessions);
    for (const char *name = (const char *)zlistx_first(names); name;
         name = (const char *)zlistx_next(names)) {
        sw_session_t *s = s_take(self, name);
        sw_session_finish(&s, 0, NULL, NULL);
    }
    zlistx_destroy(&names);
    //  Logouts in progress are in `pending` too.
    zhashx_destroy(&self->logouts);
    zlistx_destroy(&self->pending);
    zhashx_destroy(&self->sessions);
    uint64_t *timers[] = {&self->heartbeat_timer, &self->claim_timer,
                          &self->nudge_timer,     &self->renew_timer,
                          &self->renew_retry,     &self->fence_timer,
                          &self->shutdown_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        if (*timers[i]) {
            sw_loop_timer_cancel(self->loop, *timers[i]);
        }
    }
    for (size_t g = 0; g < self->gateway_count; g++) {
        sw_loop_sock_remove(self->loop, self->gateways[g].sock);
        zsock_destroy(&self->gateways[g].sock);
        free(self->gateways[g].endpoint);
    }
    free(self->gateways);
    sw_host_destroy(&self->host);
    cm_client_destroy(&self->store);
    cm_client_destroy(&self->media);
    cm_handlers_destroy(&self->handlers);
    sw_engine_destroy(&self->engine);
    free(self);
    *self_p = NULL;
}

void
sw_worker_start(sw_worker_t *self)
{
    cm_log_info("started",
                "worker=%s engine=%s max_sessions=%d "
                "lease_ttl_ms=%d",
                sw_config_worker_id(self->config), sw_engine_name(self->engine),
                sw_config_max_sessions(self->config),
                sw_config_lease_ttl_ms(self->config));
    s_heartbeat(self, false);
    self->heartbeat_timer = sw_loop_timer_add(self->loop, SW_HEARTBEAT_MS, true,
                                              s_heartbeat_timer, self);
    s_arm_claim_timer(self);
    self->renew_timer =
        sw_loop_timer_add(self->loop, sw_config_lease_ttl_ms(self->config) / 3,
                          true, s_renew_timer, self);
    sw_worker_claim(self);
}

static void
s_shutdown_finished(sw_worker_t *self)
{
    if (!self->finished) {
        self->finished = true;
        if (self->shutdown_timer) {
            sw_loop_timer_cancel(self->loop, self->shutdown_timer);
            self->shutdown_timer = 0;
        }
        cm_log_info("released every lease");
        sw_loop_stop(self->loop);
    }
}

static void
s_shutdown_done(sw_session_t *session, int st, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    assert(self->finishing > 0);
    if (--self->finishing == 0) {
        s_shutdown_finished(self);
    }
}

static void
s_shutdown_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    sw_worker_t *self = (sw_worker_t *)arg;
    self->shutdown_timer = 0;
    cm_log_warn("could not release every lease in time", "left=%zu",
                self->finishing);
    self->finished = true;
    sw_loop_stop(loop);
}

void
sw_worker_shutdown(sw_worker_t *self)
{
    if (self->shutting_down) {
        return;
    }
    self->shutting_down = true;
    cm_log_info("stopping", "sessions=%zu", zhashx_size(self->sessions));
    uint64_t *timers[] = {&self->claim_timer, &self->nudge_timer,
                          &self->renew_timer, &self->renew_retry,
                          &self->fence_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        if (*timers[i]) {
            sw_loop_timer_cancel(self->loop, *timers[i]);
            *timers[i] = 0;
        }
    }
    //  One count for this loop, so a release answered at once cannot
    //  end the shutdown before every session is finishing.
    self->finishing = 1;
    zlistx_t *names = zhashx_keys(self->sessions);
    for (const char *name = (const char *)zlistx_first(names); name;
         name = (const char *)zlistx_next(names)) {
        sw_session_t *s = s_take(self, name);
        self->finishing++;
        sw_session_finish(&s, SW_FINISH_RELEASE, s_shutdown_done, self);
    }
    zlistx_destroy(&names);
    //  The gateways forget our sessions now rather than in 3 s.
    s_heartbeat(self, true);
    if (--self->finishing == 0) {
        s_shutdown_finished(self);
    } else {
        self->shutdown_timer = sw_loop_timer_add(self->loop, SW_SHUTDOWN_MS,
                                                 false, s_shutdown_timer, self);
    }
}

bool
sw_worker_finished(sw_worker_t *self)
{
    return self->finished;
}

size_t
sw_worker_sessions(sw_worker_t *self)
{
    return zhashx_size(self->sessions);
}

bool
sw_worker_holds(sw_worker_t *self, const char *name)
{
    return zhashx_lookup(self->sessions, name) != NULL;
}

//  --------------------------------------------------------------------
//  Self test: a fake store and a fake gateway (ROUTERs on inproc) and a
//  fake engine.

typedef struct {
    zsock_t *store;         //  fake store ROUTER
    zsock_t *gateway;       //  fake gateway ROUTER
    zlistx_t *available;    //  names lease.claim may hand out
    zlistx_t *drop;         //  names the next renew drops
    zhashx_t *status;       //  name -> last status written (strdup)
    zhashx_t *conflict;     //  names whose set_status gets 409
    zhashx_t *held;         //  name -> "" for leases granted
    int releases;           //  lease.release seen
    int clears;             //  device.clear seen
    int claims;             //  lease.claim seen
    int renews;             //  lease.renew seen
    int64_t last_claim_max; //  max of the last claim
    bool store_silent;      //  the store stops answering
    int hellos;             //  worker.hello seen
    int beats;              //  worker.heartbeat seen
    size_t beat_sessions;   //  sessions in the last heartbeat
    int starts;             //  engine starts
    int stops;              //  engine stops
    int epoch;              //  next epoch handed out
} s_test_t;

static int
s_fake_start(void *state, sw_session_t *session)
{
    ((s_test_t *)state)->starts++;
    return sw_session_set_status(session, SW_STATUS_STARTING, NULL);
}

static void
s_fake_stop(void *state, sw_session_t *session)
{
    ((s_test_t *)state)->stops++;
}

static void
s_fake_logout(void *state, sw_session_t *session)
{
    sw_session_logout_done(session, 0, NULL);
}

static int
s_fake_command(void *state, sw_session_t *session, sw_cmd_t **cmd_p)
{
    json_t *body = json_pack("{s:s}", "value", sw_session_name(session));
    sw_cmd_reply(cmd_p, 200, NULL, &body);
    return SW_CMD_TAKEN;
}

static void
s_fake_destroy(void **state_p)
{
    *state_p = NULL;
}

static const char *const s_fake_commands[] = {"session.qr", NULL};
static const sw_engine_ops_t s_fake_ops = {
    "fake",        s_fake_commands, s_fake_start,   s_fake_stop,
    s_fake_logout, s_fake_command,  s_fake_destroy, NULL};

//  Answer one request at the fake store.
static void
s_test_store(s_test_t *t)
{
    cm_msg_t *req = cm_msg_recv(t->store, true);
    assert(req);
    const char *type = cm_msg_type(req);
    if (t->store_silent) {
        cm_msg_destroy(&req);
        return;
    }
    cm_msg_t *reply = cm_msg_new_reply(req, 200, NULL);
    if (cm_streq(type, "lease.claim")) {
        t->claims++;
        t->last_claim_max = cm_msg_int(req, "max", 0);
        json_t *list = json_array();
        while (zlistx_size(t->available) > 0 &&
               json_array_size(list) < (size_t)t->last_claim_max) {
            char *name = (char *)zlistx_detach(t->available, NULL);
            json_array_append_new(list,
                                  json_pack("{s:s,s:i,s:{}}", "name", name,
                                            "epoch", ++t->epoch, "config"));
            zhashx_update(t->held, name, "");
            free(name);
        }
        cm_msg_set(reply, "sessions", list);
    } else if (cm_streq(type, "lease.renew")) {
        t->renews++;
        json_t *drop = json_array();
        char *name;
        while ((name = (char *)zlistx_detach(t->drop, NULL))) {
            json_array_append_new(drop, json_string(name));
            zhashx_delete(t->held, name);
            free(name);
        }
        json_t *held = json_array();
        for (void *v = zhashx_first(t->held); v; v = zhashx_next(t->held)) {
            json_array_append_new(
                held,
                json_pack("{s:s,s:i}", "name",
                          (const char *)zhashx_cursor(t->held), "epoch", 1));
        }
        cm_msg_set(reply, "held", held);
        cm_msg_set(reply, "drop", drop);
    } else if (cm_streq(type, "session.set_status")) {
        const char *name = cm_msg_str(req, "name");
        assert(cm_streq(cm_msg_str(req, "worker"), "w1"));
        if (zhashx_lookup(t->conflict, name)) {
            cm_msg_destroy(&reply);
            reply = cm_msg_new_reply(req, 409, "lease not held");
        } else {
            zhashx_update(t->status, name,
                          cm_strdup(cm_msg_str(req, "status")));
        }
    } else if (cm_streq(type, "lease.release")) {
        t->releases++;
        zhashx_delete(t->held, cm_msg_str(req, "name"));
    } else if (cm_streq(type, "device.clear")) {
        t->clears++;
    }
    cm_msg_send(&reply, t->store);
    cm_msg_destroy(&req);
}

//  Read one message at the fake gateway; returns it unless it is a
//  hello or heartbeat (those are counted, hellos answered).
static cm_msg_t *
s_test_gateway(s_test_t *t)
{
    cm_msg_t *msg = cm_msg_recv(t->gateway, true);
    if (!msg) {
        return NULL;
    }
    const char *type = cm_msg_type(msg);
    if (cm_streq(type, "worker.hello") || cm_streq(type, "worker.heartbeat")) {
        assert(cm_streq(cm_msg_str(msg, "worker"), "w1"));
        assert(cm_msg_int(msg, "max", 0) == 3);
        t->beat_sessions =
            json_array_size(json_object_get(cm_msg_body(msg), "sessions"));
        if (cm_streq(type, "worker.hello")) {
            t->hellos++;
            cm_msg_t *reply = cm_msg_new_reply(msg, 200, NULL);
            cm_msg_send(&reply, t->gateway);
        } else {
            t->beats++;
        }
        cm_msg_destroy(&msg);
    }
    return msg;
}

//  Run everything for `ms`, or until *flag is true when flag is given;
//  returns the first gateway message that is not a heartbeat, if any.
static cm_msg_t *
s_test_run(s_test_t *t, sw_loop_t *loop, int ms, bool *flag)
{
    int64_t until = cm_mono_ms() + ms;
    while (cm_mono_ms() < until && !(flag && *flag)) {
        while (zsock_events(t->store) & ZMQ_POLLIN) {
            s_test_store(t);
        }
        while (zsock_events(t->gateway) & ZMQ_POLLIN) {
            cm_msg_t *msg = s_test_gateway(t);
            if (msg) {
                return msg;
            }
        }
        sw_loop_once(loop, 2);
    }
    return NULL;
}

//  Send a command from the fake gateway to the worker and wait for the
//  reply. Returns the reply status.
static int
s_test_command(s_test_t *t, sw_loop_t *loop, const char *type, const char *name,
               char *reason, size_t max)
{
    cm_msg_t *req = cm_msg_new(type);
    if (name) {
        cm_msg_set_str(req, "name", name);
    }
    zframe_t *to = zframe_new("w1", 2);
    cm_msg_set_routing(req, &to);
    cm_msg_send(&req, t->gateway);
    cm_msg_t *reply = s_test_run(t, loop, 3000, NULL);
    assert(reply && cm_msg_is_reply(reply));
    assert(cm_streq(cm_msg_type(reply), type));
    int st = cm_msg_status(reply);
    if (reason) {
        snprintf(reason, max, "%s",
                 cm_msg_reason(reply)         ? cm_msg_reason(reply)
                 : cm_msg_str(reply, "value") ? cm_msg_str(reply, "value")
                                              : "");
    }
    cm_msg_destroy(&reply);
    return st;
}

static void
s_test_add(zlistx_t *list, const char *name)
{
    zlistx_add_end(list, cm_strdup(name));
}

static void
s_test_free(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

//  Send raw frames from the fake gateway to the worker.
static void
s_test_raw(s_test_t *t, const char *type, zframe_t *header, const void *body,
           size_t len)
{
    zmsg_t *m = zmsg_new();
    zmsg_addstr(m, "w1");
    zmsg_addstr(m, type);
    if (header) {
        zmsg_append(m, &header);
    }
    if (body) {
        zmsg_addmem(m, body, len);
    }
    zmsg_send(&m, t->gateway);
}

void
sw_worker_test(bool verbose)
{
    printf(" * sw_worker: ");
    cm_log_init(NULL, "error");
    setenv("WORKER_ID", "w1", 1);
    setenv("GATEWAY_ENDPOINTS", "inproc://sw_worker_gw", 1);
    setenv("STORE_ENDPOINTS", "inproc://sw_worker_store", 1);
    setenv("LEASE_TTL_MS", "1500", 1);
    setenv("WORKER_MAX_SESSIONS", "3", 1);
    setenv("WORKER_CLAIM_INTERVAL_MS", "600000", 1);
    sw_config_t *config = sw_config_new();
    const char *vars[] = {"WORKER_ID",
                          "GATEWAY_ENDPOINTS",
                          "STORE_ENDPOINTS",
                          "LEASE_TTL_MS",
                          "WORKER_MAX_SESSIONS",
                          "WORKER_CLAIM_INTERVAL_MS",
                          NULL};
    for (int i = 0; vars[i]; i++) {
        unsetenv(vars[i]);
    }

    s_test_t t;
    memset(&t, 0, sizeof t);
    t.store = zsock_new_router("inproc://sw_worker_store");
    t.gateway = zsock_new_router("inproc://sw_worker_gw");
    assert(t.store && t.gateway);
    t.available = zlistx_new();
    zlistx_set_destructor(t.available, s_test_free);
    t.drop = zlistx_new();
    zlistx_set_destructor(t.drop, s_test_free);
    t.status = zhashx_new();
    zhashx_set_destructor(t.status, s_test_free);
    t.conflict = zhashx_new();
    t.held = zhashx_new();
    for (int i = 1; i <= 5; i++) {
        char name[8];
        snprintf(name, sizeof name, "s%d", i);
        s_test_add(t.available, name);
    }

    sw_loop_t *loop = sw_loop_new();
    void *state = &t;
    sw_engine_t *engine = sw_engine_new(&s_fake_ops, &state);
    sw_worker_t *worker = sw_worker_new(config, loop, &engine);
    assert(worker && !engine);
    sw_worker_start(worker);

    //  Hello, then a claim for at most WORKER_MAX_SESSIONS: 3 of the 5
    s_test_run(&t, loop, 300, NULL);
    assert(t.hellos == 1);
    assert(t.claims == 1 && t.last_claim_max == 3);
    assert(sw_worker_sessions(worker) == 3 && t.starts == 3);
    assert(sw_worker_holds(worker, "s1") && !sw_worker_holds(worker, "s4"));
    assert(cm_streq((char *)zhashx_lookup(t.status, "s1"), "STARTING"));
    //  Heartbeats list the sessions; renews run every TTL/3
    s_test_run(&t, loop, 1100, NULL);
    assert(t.beats >= 1 && t.beat_sessions == 3);
    assert(t.renews >= 1);

    //  A nudge claims at once, but the worker is full: nothing asked
    int claims = t.claims;
    zframe_t *to = zframe_new("w1", 2);
    cm_msg_t *nudge = cm_msg_new("worker.nudge");
    cm_msg_set_routing(nudge, &to);
    cm_msg_send(&nudge, t.gateway);
    s_test_run(&t, loop, 100, NULL);
    assert(t.claims == claims);

    //  Commands: engine command, unknown session, unknown type, missing
    //  name, health
    char reason[128];
    assert(s_test_command(&t, loop, "session.qr", "s2", reason,
                          sizeof reason) == 200);
    assert(cm_streq(reason, "s2"));
    assert(s_test_command(&t, loop, "session.qr", "nope", reason,
                          sizeof reason) == 404);
    assert(s_test_command(&t, loop, "session.bogus", "s2", reason,
                          sizeof reason) == 400);
    assert(cm_streq(reason, "unrecognized message type"));
    assert(s_test_command(&t, loop, "session.stop", NULL, reason,
                          sizeof reason) == 400);
    assert(s_test_command(&t, loop, "health.ping", NULL, reason,
                          sizeof reason) == 200);

    //  Malformed messages: a bad body gets 400, a bad header or a lone
    //  frame is dropped; the worker keeps serving
    cm_msg_t *good = cm_msg_new("session.stop");
    zmsg_t *frames = cm_msg_encode(good);
    cm_msg_destroy(&good);
    zframe_t *type_frame = zmsg_pop(frames);
    zframe_t *header = zmsg_pop(frames);
    zframe_destroy(&type_frame);
    zmsg_destroy(&frames);
    s_test_raw(&t, "session.stop", header, "\xc1\xff", 2);
    cm_msg_t *reply = s_test_run(&t, loop, 2000, NULL);
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    s_test_raw(&t, "session.stop", zframe_new("\x93\x01", 2), "\x80", 1);
    s_test_raw(&t, "x", NULL, NULL, 0);
    s_test_raw(&t, "", zframe_new("", 0), "", 0);
    assert(s_test_run(&t, loop, 100, NULL) == NULL);
    assert(s_test_command(&t, loop, "health.ping", NULL, NULL, 0) == 200);

    //  session.stop: STOPPED written, lease released, then 200
    int releases = t.releases;
    assert(s_test_command(&t, loop, "session.stop", "s1", NULL, 0) == 200);
    assert(t.releases == releases + 1);
    assert(cm_streq((char *)zhashx_lookup(t.status, "s1"), "STOPPED"));
    assert(!sw_worker_holds(worker, "s1") && t.stops == 1);
    assert(s_test_command(&t, loop, "session.stop", "s1", NULL, 0) == 404);

    //  A nudge fills the free slot, its claim held back a millisecond
    //  for each of the two sessions held
    assert(sw_worker_nudge_delay_ms(worker) == 2);
    claims = t.claims;
    to = zframe_new("w1", 2);
    nudge = cm_msg_new("worker.nudge");
    cm_msg_set_routing(nudge, &to);
    cm_msg_send(&nudge, t.gateway);
    s_test_run(&t, loop, 200, NULL);
    assert(t.claims == claims + 1);
    assert(sw_worker_sessions(worker) == 3 && sw_worker_holds(worker, "s4"));
    assert(sw_worker_nudge_delay_ms(worker) == 3);

    //  session.logout: device.clear, STOPPED, release, 200
    assert(s_test_command(&t, loop, "session.logout", "s2", NULL, 0) == 200);
    assert(t.clears == 1 && t.releases == releases + 2);
    assert(cm_streq((char *)zhashx_lookup(t.status, "s2"), "STOPPED"));
    assert(!sw_worker_holds(worker, "s2"));

    //  Renew drops s3: STOPPED and released
    s_test_add(t.drop, "s3");
    bool gone = false;
    int64_t until = cm_mono_ms() + 2000;
    while (!gone && cm_mono_ms() < until) {
        s_test_run(&t, loop, 20, NULL);
        gone = !sw_worker_holds(worker, "s3");
    }
    assert(gone);
    s_test_run(&t, loop, 100, NULL);
    assert(cm_streq((char *)zhashx_lookup(t.status, "s3"), "STOPPED"));
    assert(t.releases == releases + 3);

    //  A 409 on a status write: stopped locally, nothing released
    sw_worker_claim(worker);
    s_test_run(&t, loop, 200, NULL);
    assert(sw_worker_holds(worker, "s5"));
    zhashx_insert(t.conflict, "s4", "yes");
    reply = NULL;
    assert(s_test_command(&t, loop, "session.stop", "s4", NULL, 0) == 200);
    assert(t.releases == releases + 3);
    zhashx_delete(t.conflict, "s4");

    //  Self-fencing: the store goes silent; within the TTL every session
    //  stops locally, without writes
    assert(sw_worker_sessions(worker) == 1);
    int stops = t.stops;
    t.store_silent = true;
    int64_t start = cm_mono_ms();
    until = start + 3000;
    while (sw_worker_sessions(worker) > 0 && cm_mono_ms() < until) {
        s_test_run(&t, loop, 20, NULL);
    }
    assert(sw_worker_sessions(worker) == 0);
    assert(cm_mono_ms() - start < 1500);
    assert(t.stops == stops + 1);
    t.store_silent = false;

    //  Shutdown: claim two sessions, then every lease is released and
    //  the worker finishes
    s_test_add(t.available, "s6");
    s_test_add(t.available, "s7");
    sw_worker_claim(worker);
    s_test_run(&t, loop, 300, NULL);
    assert(sw_worker_sessions(worker) == 2);
    releases = t.releases;
    sw_worker_shutdown(worker);
    bool finished = false;
    until = cm_mono_ms() + 3000;
    while (!finished && cm_mono_ms() < until) {
        s_test_run(&t, loop, 10, NULL);
        finished = sw_worker_finished(worker);
    }
    assert(finished);
    assert(t.releases == releases + 2);
    assert(t.beat_sessions == 0);
    assert(sw_worker_sessions(worker) == 0);
    //  Commands while stopping: the sessions are gone
    assert(s_test_command(&t, loop, "session.qr", "s6", NULL, 0) == 503);

    sw_worker_destroy(&worker);
    sw_worker_destroy(&worker);
    sw_loop_destroy(&loop);
    zlistx_destroy(&t.available);
    zlistx_destroy(&t.drop);
    zhashx_destroy(&t.status);
    zhashx_destroy(&t.conflict);
    zhashx_destroy(&t.held);
    zsock_destroy(&t.store);
    zsock_destroy(&t.gateway);
    sw_config_destroy(&config);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
