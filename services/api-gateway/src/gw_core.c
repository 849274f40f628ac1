/*  gw_core - the gateway core actor: every bus socket of the gateway

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  Poll tick: worker expiry and timeouts run at least this often.
#define GW_CORE_TICK_MS 100
//  How long a request waits for a store/media peer to connect before 503,
//  and how often parked requests are retried.
#define GW_CORE_PARK_MS 5000
#define GW_CORE_PARK_TICK_MS 20
//  Most messages taken from one socket per wake-up.
#define GW_CORE_DRAIN_MAX 64
//  Longest worker id and most sessions one heartbeat may list.
#define GW_CORE_WORKER_ID_MAX 128
#define GW_CORE_HEARTBEAT_SESSIONS_MAX 100000

//  A session-worker known from its hello/heartbeats.
typedef struct {
    char *id;           //  WORKER_ID (= its ZMQ identity)
    zframe_t *identity; //  routing id on the workers ROUTER
    int64_t seen;       //  monotonic ms of the last hello/heartbeat
    int max;            //  WORKER_MAX_SESSIONS it reported
    zhashx_t *sessions; //  names it holds (set; values unused)
    int64_t rss;        //  resident memory it reported (bytes), or -1
    int64_t msgs_in;    //  message.any not fromMe since it started
    int64_t msgs_out;   //  message.any fromMe since it started
} s_worker_t;

typedef struct _gw_core_t gw_core_t;

//  A request from a handler that waits for a store, media or worker reply.
typedef struct {
    gw_core_t *core;               //  owner
    zframe_t *identity;            //  handler routing id
    char reqid[CM_MSG_MAX_ID + 1]; //  handler's request id
    bool cacheable;                //  a session.get/list reply to cache
    char *cache_key;               //  its key when known before the reply
    uint64_t gen;                  //  cache generation when forwarded
    char *touches;                 //  session changed by it, or NULL
    bool touches_all;              //  changes sessions we cannot name
    bool answered;                 //  answered early (drain)
    int64_t expires;               //  monotonic deadline (worker calls)
    void *handle;                  //  handle in core->inflight
} s_call_t;

//  A request waiting for a store or media peer to connect.
typedef struct {
    cm_client_t *client; //  where it goes (borrowed)
    cm_msg_t *request;   //  the request, owned
    s_call_t *call;      //  its call (in inflight)
    int64_t until;       //  monotonic ms: give up then
} s_parked_t;

//  A cached reply body.
typedef struct {
    json_t *body;   //  reply body, owned
    int64_t stored; //  monotonic ms
} s_entry_t;

struct _gw_core_t {
    const gw_config_t *config; //  borrowed
    zsock_t *pipe;             //  actor pipe
    zsock_t *frontend;         //  ROUTER for handler links
    zsock_t *workers;          //  ROUTER for session-workers
    zsock_t *sub;              //  SUB to store notifications, or NULL
    cm_client_t *store;        //  DEALER to store-services
    cm_client_t *media;        //  DEALER to media-services
    cm_handlers_t *handlers;   //  requests from workers
    zhashx_t *worker_table;    //  worker id -> s_worker_t, owned
    int64_t retired_in;        //  message counts of workers forgotten or
    int64_t retired_out;       //  restarted (counters stay monotonic)
    zhashx_t *holders;         //  session -> worker id (string), owned
    zhashx_t *worker_calls;    //  request id -> s_call_t (in inflight)
    zlistx_t *inflight;        //  every s_call_t, owned
    zlistx_t *parked;          //  s_parked_t waiting for a peer, owned
    zhashx_t *cache;           //  key -> s_entry_t, owned
    zhashx_t *aliases;         //  instance_id -> session name, owned
    uint64_t gen;              //  bumped on every invalidation
    bool draining;             //  shutting down: answer 503
    bool terminated;           //  $TERM received
    int64_t next_tick;         //  monotonic ms of the next housekeeping
};

static void
s_worker_free(void **item_p)
{
    s_worker_t *w = (s_worker_t *)*item_p;
    if (w) {
        free(w->id);
        zframe_destroy(&w->identity);
        zhashx_destroy(&w->sessions);
        free(w);
        *item_p = NULL;
    }
}

static void
s_call_free(void **item_p)
{
    s_call_t *c = (s_call_t *)*item_p;
    if (c) {
        zframe_destroy(&c->identity);
        free(c->cache_key);
        free(c->touches);
        free(c);
        *item_p = NULL;
    }
}

static void
s_parked_free(void **item_p)
{
    s_parked_t *p = (s_parked_t *)*item_p;
    if (p) {
        cm_msg_destroy(&p->request);
        free(p);
        *item_p = NULL;
    }
}

static void
s_entry_free(void **item_p)
{
    s_entry_t *e = (s_entry_t *)*item_p;
    if (e) {
        json_decref(e->body);
        free(e);
        *item_p = NULL;
    }
}

//  --------------------------------------------------------------------
//  Answers to handlers

//  Send *reply_p to the handler `identity` as the answer to `reqid`.
static void
s_answer_to(gw_core_t *self, zframe_t *identity, const char *reqid,
            cm_msg_t **reply_p)
{
    zframe_t *none = NULL;
    cm_msg_set_routing(*reply_p, &none);
    zmsg_t *zmsg = cm_msg_encode(*reply_p);
    cm_msg_destroy(reply_p);
    zmsg_pushstr(zmsg, reqid);
    zmsg_push(zmsg, zframe_dup(identity));
    zmsg_send(&zmsg, self->frontend);
    zmsg_destroy(&zmsg);
}

//  Answer a request with a status of our own.
static void
s_answer_status(gw_core_t *self, zframe_t *identity, cm_msg_t *request, int st,
                const char *reason)
{
    cm_msg_t *reply = cm_msg_new_reply(request, st, reason);
    s_answer_to(self, identity, cm_msg_id(request), &reply);
}

static s_call_t *
s_call_new(gw_core_t *self, zframe_t **identity_p, cm_msg_t *request)
{
    s_call_t *call = cm_alloc(sizeof *call);
    call->core = self;
    call->identity = *identity_p;
    *identity_p = NULL;
    snprintf(call->reqid, sizeof call->reqid, "%s", cm_msg_id(request));
    call->handle = zlistx_add_end(self->inflight, call);
    return call;
}

//  Milliseconds left before the request's deadline (at least 1).
static int
s_time_left(const gw_core_t *self, cm_msg_t *request)
{
    int64_t deadline = cm_msg_deadline(request);
    int64_t left = deadline ? deadline - cm_now_ms()
                            : gw_config_request_timeout(self->config);
    if (left < 1) {
        left = 1;
    }
    if (left > 600000) {
        left = 600000;
    }
    return (int)left;
}

//  --------------------------------------------------------------------
//  Micro-cache

static bool
s_cache_on(const gw_core_t *self)
{
    return gw_config_cache_ms(self->config) > 0;
}

//  Forget what we know about `name` (NULL: about every session).
static void
s_invalidate(gw_core_t *self, const char *name)
{
    self->gen++;
    if (!name) {
        zhashx_purge(self->cache);
        return;
    }
    char key[CM_MSG_MAX_TYPE + 256];
    snprintf(key, sizeof key, "s:%s", name);
    zhashx_delete(self->cache, key);
    zhashx_delete(self->cache, "l:all");
    zhashx_delete(self->cache, "l:run");
}

//  The cached body of `key` if younger than `max_age` ms, else NULL.
static json_t *
s_cache_get(gw_core_t *self, const char *key, int max_age)
{
    s_entry_t *e = (s_entry_t *)zhashx_lookup(self->cache, key);
    if (!e) {
        return NULL;
    }
    int64_t age = cm_mono_ms() - e->stored;
    if (age >= gw_config_command_cache_ms(self->config)) {
        zhashx_delete(self->cache, key);
        return NULL;
    }
    return age < max_age ? e->body : NULL;
}

static void
s_cache_put(gw_core_t *self, const char *key, json_t *body)
{
    if (zhashx_size(self->cache) >= GW_CORE_CACHE_MAX) {
        zhashx_purge(self->cache);
    }
    s_entry_t *e = cm_alloc(sizeof *e);
    e->body = json_deep_copy(body);
    e->stored = cm_mono_ms();
    zhashx_update(self->cache, key, e);
}

//  The cache key of a session.get / session.list request, or NULL when it
//  cannot be known before the reply. Caller owns return value.
static char *
s_cache_key(gw_core_t *self, cm_msg_t *request)
{
    const char *type = cm_msg_type(request);
    if (streq(type, "session.list")) {
        return cm_strdup(cm_msg_bool(request, "all", false) ? "l:all"
                                                            : "l:run");
    }
    const char *name = cm_msg_str(request, "name");
    if (!name) {
        const char *iid = cm_msg_str(request, "instance_id");
        name = iid ? (const char *)zhashx_lookup(self->aliases, iid) : NULL;
    }
    return name ? cm_sprintf("s:%s", name) : NULL;
}

//  Types whose replies do not change anything.
static bool
s_read_only(const char *type)
{
    if (cm_about_messages(type)) {
        return true;
    }
    //  ratelimit.list and apikey.list are the gateway's own reloads
    //  (every second): were they changes, they would empty the cache.
    static const char *types[] = {"session.get",    "session.list",
                                  "health.ping",    "event.list",
                                  "device.get",     "delivery.list",
                                  "delivery.get",   "session.qr",
                                  "ratelimit.list", "ratelimit.get",
                                  "apikey.list",    "store.stats",
                                  "delivery.stats", NULL};
    for (int i = 0; types[i]; i++) {
        if (streq(type, types[i])) {
            return true;
        }
    }
    return false;
}

//  Note what a forwarded request changes and invalidate it now.
static void
s_note_changes(gw_core_t *self, s_call_t *call, cm_msg_t *request)
{
    if (s_read_only(cm_msg_type(request))) {
        return;
    }
    const char *name = cm_msg_str(request, "name");
    if (!name) {
        name = cm_msg_str(request, "session");
    }
    if (name) {
        call->touches = cm_strdup(name);
    } else {
        call->touches_all = true;
    }
    s_invalidate(self, call->touches);
}

//  A reply arrived for `call`: cache it or invalidate what it changed.
static void
s_note_reply(gw_core_t *self, s_call_t *call, cm_msg_t *reply)
{
    if (call->touches || call->touches_all) {
        s_invalidate(self, call->touches);
        return;
    }
    if (!call->cacheable || cm_msg_status(reply) != 200 ||
        call->gen != self->gen) {
        return;
    }
    json_t *session = json_object_get(cm_msg_body(reply), "session");
    const char *name = json_string_value(json_object_get(session, "name"));
    const char *iid =
        json_string_value(json_object_get(session, "instance_id"));
    if (name && iid) {
        zhashx_update(self->aliases, iid, cm_strdup(name));
    }
    if (call->cache_key) {
        s_cache_put(self, call->cache_key, cm_msg_body(reply));
    } else if (name) {
        char *key = cm_sprintf("s:%s", name);
        s_cache_put(self, key, cm_msg_body(reply));
        free(key);
    }
}

//  --------------------------------------------------------------------
//  Store and media

static void
s_on_client_reply(cm_msg_t **reply_p, void *arg)
{
    s_call_t *call = (s_call_t *)arg;
    gw_core_t *self = call->core;
    if (!call->answered) {
        s_note_reply(self, call, *reply_p);
        s_answer_to(self, call->identity, call->reqid, reply_p);
    }
    zlistx_delete(self->inflight, call->handle);
}

static void
s_forward_client(gw_core_t *self, cm_client_t *client, zframe_t **identity_p,
                 cm_msg_t **request_p)
{
    cm_msg_t *request = *request_p;
    bool use_cache = client == self->store && s_cache_on(self) &&
                     (cm_streq(cm_msg_type(request), "session.get") ||
                      cm_streq(cm_msg_type(request), "session.list"));
    //  An engine command's lookup takes an older row (every change of
    //  what it uses is announced); a plain read GATEWAY_CACHE_MS old.
    bool command = cm_msg_bool(request, GW_COMMAND_LOOKUP, false);
    json_object_del(cm_msg_body(request), GW_COMMAND_LOOKUP);
    char *key = use_cache ? s_cache_key(self, request) : NULL;
    json_t *hit =
        key ? s_cache_get(self, key,
                          command ? gw_config_command_cache_ms(self->config)
                                  : gw_config_cache_ms(self->config))
            : NULL;
    if (hit) {
        cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
        json_t *copy = json_deep_copy(hit);
        cm_msg_set_body(reply, &copy);
        s_answer_to(self, *identity_p, cm_msg_id(request), &reply);
        zframe_destroy(identity_p);
        cm_msg_destroy(request_p);
        free(key);
        return;
    }
    s_call_t *call = s_call_new(self, identity_p, request);
    call->cacheable = use_cache;
    call->cache_key = key;
    call->gen = self->gen;
    if (client == self->store) {
        s_note_changes(self, call, request);
    }
    if (!cm_client_ready(client)) {
        //  No peer connected yet (start-up, restart): wait for one.
        s_parked_t *p = cm_alloc(sizeof *p);
        p->client = client;
        p->request = *request_p;
        *request_p = NULL;
        p->call = call;
        int left = s_time_left(self, p->request);
        p->until =
            cm_mono_ms() + (left < GW_CORE_PARK_MS ? left : GW_CORE_PARK_MS);
        zlistx_add_end(self->parked, p);
        return;
    }
    int timeout = s_time_left(self, request);
    cm_client_send(client, request_p, timeout, s_on_client_reply, call);
}

//  Send parked requests whose peer is now connected; fail those that
//  waited too long.
static void
s_retry_parked(gw_core_t *self)
{
    int64_t now = cm_mono_ms();
    zlistx_t *waiting = zlistx_new();
    zlistx_set_destructor(waiting, s_parked_free);
    s_parked_t *p = NULL;
    while ((p = (s_parked_t *)zlistx_detach(self->parked, NULL))) {
        if (p->call->answered) {
            zlistx_delete(self->inflight, p->call->handle);
        } else if (cm_client_ready(p->client)) {
            int timeout = s_time_left(self, p->request);
            cm_client_send(p->client, &p->request, timeout, s_on_client_reply,
                           p->call);
        } else if (now >= p->until) {
            cm_msg_t *reply =
                cm_msg_new_reply(p->request, 503, "could not send request");
            s_answer_to(self, p->call->identity, p->call->reqid, &reply);
            zlistx_delete(self->inflight, p->call->handle);
        } else {
            zlistx_add_end(waiting, p);
            continue;
        }
        s_parked_free((void **)&p);
    }
    zlistx_destroy(&self->parked);
    self->parked = waiting;
}

//  --------------------------------------------------------------------
//  Workers

static void
s_forget_worker(gw_core_t *self, s_worker_t *w, const char *why)
{
    for (void *s = zhashx_first(w->sessions); s; s = zhashx_next(w->sessions)) {
        const char *name = (const char *)zhashx_cursor(w->sessions);
        if (cm_streq((const char *)zhashx_lookup(self->holders, name), w->id)) {
            zhashx_delete(self->holders, name);
        }
    }
    cm_log_info("forgot session-worker", "worker=%s reason=%s", w->id, why);
    self->retired_in += w->msgs_in;
    self->retired_out += w->msgs_out;
    zhashx_delete(self->worker_table, w->id);
}

//  worker.hello / worker.heartbeat: {worker, sessions:[name...], max}.
static cm_msg_t *
s_on_heartbeat(cm_msg_t *request, void *arg)
{
    gw_core_t *self = (gw_core_t *)arg;
    const char *id = cm_msg_str(request, "worker");
    json_t *list = json_object_get(cm_msg_body(request), "sessions");
    if (!id || !*id || strlen(id) > GW_CORE_WORKER_ID_MAX) {
        return cm_msg_new_reply(request, 400, "worker must be a string");
    }
    if (list && !json_is_array(list)) {
        return cm_msg_new_reply(request, 400, "sessions must be an array");
    }
    if (json_array_size(list) > GW_CORE_HEARTBEAT_SESSIONS_MAX) {
        return cm_msg_new_reply(request, 400, "too many sessions");
    }
    if (!cm_msg_routing(request)) {
        return cm_msg_new_reply(request, 400, "no routing id");
    }
    s_worker_t *w = (s_worker_t *)zhashx_lookup(self->worker_table, id);
    if (!w) {
        w = cm_alloc(sizeof *w);
        w->id = cm_strdup(id);
        w->sessions = zhashx_new();
        zhashx_insert(self->worker_table, id, w);
        cm_log_info("session-worker joined", "worker=%s", id);
    }
    zframe_destroy(&w->identity);
    w->identity = zframe_dup(cm_msg_routing(request));
    w->seen = cm_mono_ms();
    w->max = (int)cm_msg_int(request, "max", 0);
    w->rss = cm_msg_int(request, "rss", -1);
    //  Message counts since the worker started; a smaller one means it
    //  restarted under the same id: keep what it had counted.
    int64_t in = cm_msg_int(request, "msgs_in", 0);
    int64_t out = cm_msg_int(request, "msgs_out", 0);
    if (in < w->msgs_in || out < w->msgs_out) {
        self->retired_in += w->msgs_in;
        self->retired_out += w->msgs_out;
    }
    w->msgs_in = in > 0 ? in : 0;
    w->msgs_out = out > 0 ? out : 0;

    zhashx_t *now_held = zhashx_new();
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *name = json_string_value(item);
        if (name) {
            zhashx_update(now_held, name, (void *)"");
        }
    }
    //  Sessions it no longer holds, then the ones it holds now.
    for (void *s = zhashx_first(w->sessions); s; s = zhashx_next(w->sessions)) {
        const char *name = (const char *)zhashx_cursor(w->sessions);
        if (!zhashx_lookup(now_held, name) &&
            cm_streq((const char *)zhashx_lookup(self->holders, name), id)) {
            zhashx_delete(self->holders, name);
        }
    }
    for (void *s = zhashx_first(now_held); s; s = zhashx_next(now_held)) {
        const char *name = (const char *)zhashx_cursor(now_held);
        if (!cm_streq((const char *)zhashx_lookup(self->holders, name), id)) {
            zhashx_update(self->holders, name, cm_strdup(id));
        }
    }
    zhashx_destroy(&w->sessions);
    w->sessions = now_held;
    return cm_msg_new_reply(request, 200, NULL);
}

static cm_msg_t *
s_on_health(cm_msg_t *request, void *arg)
{
    return cm_handlers_health(request, "api-gateway", "api-gateway");
}

//  The worker holding `name`, or NULL.
static s_worker_t *
s_holder(gw_core_t *self, const char *name)
{
    const char *id =
        name ? (const char *)zhashx_lookup(self->holders, name) : NULL;
    return id ? (s_worker_t *)zhashx_lookup(self->worker_table, id) : NULL;
}

static int
s_send_worker(gw_core_t *self, s_worker_t *w, cm_msg_t **msg_p)
{
    zframe_t *routing = zframe_dup(w->identity);
    cm_msg_set_routing(*msg_p, &routing);
    return cm_msg_send(msg_p, self->workers);
}

static void
s_forward_worker(gw_core_t *self, zframe_t **identity_p, cm_msg_t **request_p)
{
    cm_msg_t *request = *request_p;
    s_worker_t *w = s_holder(self, cm_msg_str(request, "name"));
    const char *hint = cm_msg_str(request, GW_HOLDER_HINT);
    if (!w && hint) {
        w = (s_worker_t *)zhashx_lookup(self->worker_table, hint);
    }
    json_object_del(cm_msg_body(request), GW_HOLDER_HINT);
    if (!w) {
        s_answer_status(self, *identity_p, request, GW_NO_WORKER,
                        "no worker holds the session");
        zframe_destroy(identity_p);
        cm_msg_destroy(request_p);
        return;
    }
    s_call_t *call = s_call_new(self, identity_p, request);
    call->expires = cm_mono_ms() + s_time_left(self, request);
    s_note_changes(self, call, request);
    char id[CM_MSG_MAX_ID + 1];
    snprintf(id, sizeof id, "%s", cm_msg_id(request));
    if (s_send_worker(self, w, request_p) != 0) {
        cm_log_warn("could not send to session-worker", "worker=%s reason=%s",
                    w->id, zmq_strerror(errno));
        cm_msg_t *req = cm_msg_new("session.unknown");
        cm_msg_t *reply =
            cm_msg_new_reply(req, GW_NO_WORKER, "no worker holds the session");
        cm_msg_destroy(&req);
        s_answer_to(self, call->identity, call->reqid, &reply);
        zlistx_delete(self->inflight, call->handle);
        return;
    }
    zhashx_update(self->worker_calls, id, call);
}

static void
s_nudge(gw_core_t *self)
{
    for (s_worker_t *w = (s_worker_t *)zhashx_first(self->worker_table); w;
         w = (s_worker_t *)zhashx_next(self->worker_table)) {
        cm_msg_t *nudge = cm_msg_new("worker.nudge");
        if (s_send_worker(self, w, &nudge) != 0) {
            cm_log_debug("could not nudge session-worker", "worker=%s", w->id);
        }
    }
}

static void
s_on_workers(gw_core_t *self)
{
    cm_msg_t *msg = cm_msg_recv(self->workers, true);
    if (!msg) {
        return;
    }
    if (cm_msg_is_reply(msg)) {
        const char *corr = cm_msg_corr(msg);
        s_call_t *call =
            corr ? (s_call_t *)zhashx_lookup(self->worker_calls, corr) : NULL;
        if (call) {
            zhashx_delete(self->worker_calls, corr);
            if (!call->answered) {
                s_note_reply(self, call, msg);
                s_answer_to(self, call->identity, call->reqid, &msg);
            }
            zlistx_delete(self->inflight, call->handle);
        } else {
            cm_log_debug("dropped late worker reply", "%s",
                         cm_msg_summary(msg));
        }
        cm_msg_destroy(&msg);
        return;
    }
    cm_msg_t *reply = cm_handlers_dispatch(self->handlers, msg);
    if (reply) {
        cm_msg_send(&reply, self->workers);
    }
    cm_msg_destroy(&msg);
}

static json_t *
s_workers_json(gw_core_t *self)
{
    json_t *list = json_array();
    int64_t now = cm_mono_ms();
    for (s_worker_t *w = (s_worker_t *)zhashx_first(self->worker_table); w;
         w = (s_worker_t *)zhashx_next(self->worker_table)) {
        json_array_append_new(
            list,
            json_pack("{s:s, s:I, s:i, s:I, s:I}", "id", w->id, "sessions",
                      (json_int_t)zhashx_size(w->sessions), "max", w->max,
                      "age_ms", (json_int_t)(now - w->seen), "rss",
                      (json_int_t)w->rss));
    }
    return list;
}

//  --------------------------------------------------------------------
//  Handler requests

static void
s_on_local(gw_core_t *self, zframe_t *identity, cm_msg_t *request)
{
    if (cm_streq(cm_msg_type(request), "gw.workers")) {
        cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
        cm_msg_set(reply, "workers", s_workers_json(self));
        int64_t in = self->retired_in, out = self->retired_out;
        for (s_worker_t *w = (s_worker_t *)zhashx_first(self->worker_table); w;
             w = (s_worker_t *)zhashx_next(self->worker_table)) {
            in += w->msgs_in;
            out += w->msgs_out;
        }
        cm_msg_set_int(reply, "messages_in", in);
        cm_msg_set_int(reply, "messages_out", out);
        s_answer_to(self, identity, cm_msg_id(request), &reply);
    } else {
        s_answer_status(self, identity, request, 400,
                        "unrecognized message type");
    }
}

static void
s_on_frontend(gw_core_t *self)
{
    zmsg_t *zmsg = zmsg_recv(self->frontend);
    if (!zmsg) {
        return;
    }
    zframe_t *identity = zmsg_pop(zmsg);
    char *dest = zmsg_popstr(zmsg);
    cm_msg_t *request = identity && dest ? cm_msg_decode(&zmsg, false) : NULL;
    zmsg_destroy(&zmsg);
    //  Handlers are our own code: anything else is a bug.
    assert(request && !cm_msg_error(request));
    if (streq(dest, GW_DEST_NUDGE)) {
        s_nudge(self);
    } else if (self->draining) {
        s_answer_status(self, identity, request, 503, "shutting down");
    } else if (streq(dest, GW_DEST_STORE)) {
        s_forward_client(self, self->store, &identity, &request);
    } else if (streq(dest, GW_DEST_MEDIA)) {
        s_forward_client(self, self->media, &identity, &request);
    } else if (streq(dest, GW_DEST_WORKER)) {
        s_forward_worker(self, &identity, &request);
    } else if (streq(dest, GW_DEST_LOCAL)) {
        s_on_local(self, identity, request);
    } else {
        assert(false);
    }
    zframe_destroy(&identity);
    zstr_free(&dest);
    cm_msg_destroy(&request);
}

//  --------------------------------------------------------------------
//  Notifications, housekeeping, drain

static void
s_on_sub(gw_core_t *self)
{
    cm_msg_t *msg = cm_msg_recv(self->sub, false);
    if (!msg) {
        return;
    }
    //  event.new: an event (those about messages change no session
    //  row); session.changed: a row changed without one (config,
    //  desired, deleted), e.g. through another gateway.
    const char *session = cm_msg_str(msg, "session");
    if (session && (cm_streq(cm_msg_type(msg), "session.changed") ||
                    !cm_about_messages(cm_msg_str(msg, "event")))) {
        s_invalidate(self, session);
    }
    cm_msg_destroy(&msg);
}

static void
s_housekeeping(gw_core_t *self)
{
    int64_t now = cm_mono_ms();
    if (now < self->next_tick) {
        return;
    }
    self->next_tick = now + GW_CORE_TICK_MS;
    //  Collect first: forgetting changes the table we walk.
    zlistx_t *gone = zlistx_new();
    for (s_worker_t *w = (s_worker_t *)zhashx_first(self->worker_table); w;
         w = (s_worker_t *)zhashx_next(self->worker_table)) {
        if (now - w->seen > GW_CORE_WORKER_TTL_MS) {
            zlistx_add_end(gone, w);
        }
    }
    for (s_worker_t *w = (s_worker_t *)zlistx_first(gone); w;
         w = (s_worker_t *)zlistx_next(gone)) {
        s_forget_worker(self, w, "silent");
    }
    zlistx_destroy(&gone);

    zlistx_t *late = zlistx_new();
    for (s_call_t *c = (s_call_t *)zhashx_first(self->worker_calls); c;
         c = (s_call_t *)zhashx_next(self->worker_calls)) {
        if (c->expires <= now) {
            zlistx_add_end(late, (void *)zhashx_cursor(self->worker_calls));
        }
    }
    for (const char *id = (const char *)zlistx_first(late); id;
         id = (const char *)zlistx_next(late)) {
        s_call_t *c = (s_call_t *)zhashx_lookup(self->worker_calls, id);
        if (!c->answered) {
            cm_msg_t *req = cm_msg_new("session.timeout");
            cm_msg_t *reply =
                cm_msg_new_reply(req, 504, "no reply from session-worker");
            cm_msg_destroy(&req);
            s_answer_to(self, c->identity, c->reqid, &reply);
        }
        zlistx_delete(self->inflight, c->handle);
        zhashx_delete(self->worker_calls, id);
    }
    zlistx_destroy(&late);
}

static void
s_drain(gw_core_t *self)
{
    self->draining = true;
    for (s_call_t *c = (s_call_t *)zlistx_first(self->inflight); c;
         c = (s_call_t *)zlistx_next(self->inflight)) {
        if (!c->answered) {
            cm_msg_t *req = cm_msg_new("gateway.drain");
            cm_msg_t *reply = cm_msg_new_reply(req, 503, "shutting down");
            cm_msg_destroy(&req);
            s_answer_to(self, c->identity, c->reqid, &reply);
            c->answered = true;
        }
    }
}

static void
s_on_pipe(gw_core_t *self)
{
    char *command = zstr_recv(self->pipe);
    if (!command || streq(command, "$TERM")) {
        self->terminated = true;
    } else if (streq(command, "DRAIN")) {
        s_drain(self);
        zsock_signal(self->pipe, 0);
    }
    zstr_free(&command);
}

//  --------------------------------------------------------------------
//  Actor

static void
s_destroy(gw_core_t **self_p)
{
    gw_core_t *self = *self_p;
    if (!self) {
        return;
    }
    //  Clients first: their pending callbacks point into inflight.
    cm_client_destroy(&self->store);
    cm_client_destroy(&self->media);
    zhashx_destroy(&self->worker_calls);
    zlistx_destroy(&self->parked);
    zlistx_destroy(&self->inflight);
    zhashx_destroy(&self->worker_table);
    zhashx_destroy(&self->holders);
    zhashx_destroy(&self->cache);
    zhashx_destroy(&self->aliases);
    cm_handlers_destroy(&self->handlers);
    zsock_destroy(&self->frontend);
    zsock_destroy(&self->workers);
    zsock_destroy(&self->sub);
    free(self);
    *self_p = NULL;
}

static gw_core_t *
s_new(zsock_t *pipe, const gw_config_t *config)
{
    gw_core_t *self = cm_alloc(sizeof *self);
    self->config = config;
    self->pipe = pipe;
    self->worker_table = zhashx_new();
    zhashx_set_destructor(self->worker_table, s_worker_free);
    self->holders = zhashx_new();
    zhashx_set_destructor(self->holders, (zhashx_destructor_fn *)zstr_free);
    self->worker_calls = zhashx_new();
    self->inflight = zlistx_new();
    zlistx_set_destructor(self->inflight, s_call_free);
    self->parked = zlistx_new();
    zlistx_set_destructor(self->parked, s_parked_free);
    self->cache = zhashx_new();
    zhashx_set_destructor(self->cache, s_entry_free);
    self->aliases = zhashx_new();
    zhashx_set_destructor(self->aliases, (zhashx_destructor_fn *)zstr_free);
    self->handlers = cm_handlers_new();
    cm_handlers_add(self->handlers, "worker.hello", 1, s_on_heartbeat, self);
    cm_handlers_add(self->handlers, "worker.heartbeat", 1, s_on_heartbeat,
                    self);
    cm_handlers_add(self->handlers, "health.ping", 1, s_on_health, self);

    self->frontend = zsock_new(ZMQ_ROUTER);
    assert(self->frontend);
    zsock_set_sndhwm(self->frontend, 0);
    zsock_set_rcvhwm(self->frontend, 0);
    zsock_set_linger(self->frontend, 0);
    if (zsock_bind(self->frontend, "%s", gw_config_core_endpoint(config)) !=
        0) {
        cm_log_error("could not bind gateway core", "endpoint=%s reason=\"%s\"",
                     gw_config_core_endpoint(config), zmq_strerror(errno));
        s_destroy(&self);
        return NULL;
    }
    self->workers = zsock_new(ZMQ_ROUTER);
    assert(self->workers);
    cm_msg_sock_defaults(self->workers);
    zsock_set_router_mandatory(self->workers, 1);
    zsock_set_router_handover(self->workers, 1);
    zsock_set_sndtimeo(self->workers, 0);
    if (zsock_bind(self->workers, "%s", gw_config_workers_bind(config)) < 0) {
        cm_log_error("could not bind workers socket",
                     "endpoint=%s reason=\"%s\"",
                     gw_config_workers_bind(config), zmq_strerror(errno));
        s_destroy(&self);
        return NULL;
    }
    self->store = cm_client_new(gw_config_store_endpoints(config));
    self->media = cm_client_new(gw_config_media_endpoints(config));
    if (!self->store || !self->media) {
        cm_log_error("could not connect bus clients", "store=%s media=%s",
                     gw_config_store_endpoints(config),
                     gw_config_media_endpoints(config));
        s_destroy(&self);
        return NULL;
    }
    //  Never block the core on a missing peer: fail the send instead.
    cm_client_set_sndtimeo(self->store, 0);
    cm_client_set_sndtimeo(self->media, 0);
    //  Media requests are safe to repeat: those a media-service takes with
    //  it when it dies go to another one (store requests are not all: a
    //  repeated create answers 409)
    cm_client_set_resend(self->media, true);

    const char *pub = gw_config_store_pub_endpoints(config);
    if (pub && *pub) {
        self->sub = zsock_new(ZMQ_SUB);
        assert(self->sub);
        cm_msg_sock_defaults(self->sub);
        zsock_set_subscribe(self->sub, "event.new");
        zsock_set_subscribe(self->sub, "session.changed");
        if (zsock_attach(self->sub, pub, false) != 0) {
            cm_log_error("could not connect notifications socket",
                         "endpoints=%s", pub);
            s_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void
gw_core_actor(zsock_t *pipe, void *args)
{
    const gw_config_t *config = (const gw_config_t *)args;
    gw_core_t *self = s_new(pipe, config);
    zsock_signal(pipe, 0);
    if (!self) {
        //  Report the failure, then wait to be destroyed.
        zstr_send(pipe, "FAILED");
        char *command = NULL;
        while ((command = zstr_recv(pipe)) && !streq(command, "$TERM")) {
            zstr_free(&command);
        }
        zstr_free(&command);
        return;
    }
    zpoller_t *poller = zpoller_new(pipe, self->frontend, self->workers, NULL);
    if (self->sub) {
        zpoller_add(poller, self->sub);
    }
    //  The clients' sockets include their connection monitors: a store or
    //  media-service that dies takes the requests it holds with it, and
    //  they are answered 503 (or sent to another media-service) at once
    //  rather than at their deadline (30 s)
    for (size_t i = 0; i < cm_client_sock_count(self->store); i++) {
        zpoller_add(poller, cm_client_sock(self->store, i));
    }
    for (size_t i = 0; i < cm_client_sock_count(self->media); i++) {
        zpoller_add(poller, cm_client_sock(self->media, i));
    }
    //  Keep serving after SIGINT/SIGTERM: main drains us, then $TERM.
    zpoller_set_nonstop(poller, true);
    zstr_send(pipe, "READY");
    cm_log_info("gateway core started", "workers_bind=%s",
                gw_config_workers_bind(config));

    while (!self->terminated) {
        int timeout = GW_CORE_TICK_MS;
        int t = cm_client_expire(self->store);
        if (t >= 0 && t < timeout) {
            timeout = t;
        }
        t = cm_client_expire(self->media);
        if (t >= 0 && t < timeout) {
            timeout = t;
        }
        if (zlistx_size(self->parked) && timeout > GW_CORE_PARK_TICK_MS) {
            timeout = GW_CORE_PARK_TICK_MS;
        }
        void *which = zpoller_wait(poller, timeout);
        if (which == pipe) {
            s_on_pipe(self);
        } else if (which == self->frontend) {
            //  What else is queued goes in the same turn: a poll (and its
            //  system call) per message is what a busy gateway pays most
            for (int i = 0; i < GW_CORE_DRAIN_MAX && !self->terminated; i++) {
                s_on_frontend(self);
                if (!(zsock_events(self->frontend) & ZMQ_POLLIN)) {
                    break;
                }
            }
        } else if (which == self->workers) {
            for (int i = 0; i < GW_CORE_DRAIN_MAX && !self->terminated; i++) {
                s_on_workers(self);
                if (!(zsock_events(self->workers) & ZMQ_POLLIN)) {
                    break;
                }
            }
        } else if (which && which == self->sub) {
            s_on_sub(self);
        } else if (which) {
            //  One of the clients' sockets: each reads only what waits
            cm_client_dispatch(self->store);
            cm_client_dispatch(self->media);
        }
        if (zlistx_size(self->parked)) {
            s_retry_parked(self);
        }
        s_housekeeping(self);
    }
    zpoller_destroy(&poller);
    s_destroy(&self);
}

//  --------------------------------------------------------------------
//  Self test: a fake store and a fake worker on inproc.

static void
s_fake_store(zsock_t *pipe, void *args)
{
    zsock_t *router = zsock_new_router("inproc://gw_core_test_store");
    assert(router);
    int *gets = (int *)args;
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    while (zpoller_wait(poller, -1) == router) {
        cm_msg_t *req = cm_msg_recv(router, true);
        assert(req);
        cm_msg_t *reply = NULL;
        //  The command-lookup mark stays in the gateway
        assert(!json_object_get(cm_msg_body(req), GW_COMMAND_LOOKUP));
        if (cm_streq(cm_msg_type(req), "session.get")) {
            (*gets)++;
            reply = cm_msg_new_reply(req, 200, NULL);
            json_t *s = json_pack("{s:s, s:s, s:i}", "name", "s1",
                                  "instance_id", "INST", "gets", *gets);
            cm_msg_set(reply, "session", s);
        } else {
            reply = cm_msg_new_reply(req, 200, NULL);
        }
        cm_msg_send(&reply, router);
        cm_msg_destroy(&req);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

static int
s_test_gets(gw_link_t *link, const char *key, const char *value)
{
    cm_msg_t *msg = cm_msg_new("session.get");
    cm_msg_set_str(msg, key, value);
    if (streq(key, "name")) {
        //  half of them as an engine command's lookup
        static int n = 0;
        if (n++ % 2) {
            cm_msg_set_bool(msg, GW_COMMAND_LOOKUP, true);
        }
    }
    cm_msg_t *reply = gw_link_call(link, GW_DEST_STORE, &msg, 2000);
    assert(cm_msg_status(reply) == 200);
    json_t *s = json_object_get(cm_msg_body(reply), "session");
    int gets = (int)json_integer_value(json_object_get(s, "gets"));
    cm_msg_destroy(&reply);
    return gets;
}

//  Send command `type` for s1 through the core to the fake worker, which
//  answers 200; wait for the answer.
static void
s_test_worker_cmd(gw_config_t *config, zsock_t *worker, const char *type)
{
    zsock_t *waiter = zsock_new(ZMQ_DEALER);
    assert(zsock_connect(waiter, "%s", gw_config_core_endpoint(config)) == 0);
    cm_msg_t *msg = cm_msg_new(type);
    cm_msg_set_str(msg, "name", "s1");
    zmsg_t *zmsg = cm_msg_encode(msg);
    zmsg_pushstr(zmsg, GW_DEST_WORKER);
    zmsg_send(&zmsg, waiter);
    cm_msg_destroy(&msg);
    cm_msg_t *cmd = cm_msg_recv(worker, false);
    assert(cm_streq(cm_msg_type(cmd), type));
    cm_msg_t *reply = cm_msg_new_reply(cmd, 200, NULL);
    cm_msg_send(&reply, worker);
    cm_msg_destroy(&cmd);
    zmsg = zmsg_recv(waiter);
    zmsg_destroy(&zmsg);
    zsock_destroy(&waiter);
}

void
gw_core_test(bool verbose)
{
    printf(" * gw_core: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    setenv("WAHA_API_KEY", "k", 1);
    setenv("STORE_ENDPOINTS", "inproc://gw_core_test_store", 1);
    setenv("STORE_PUB_ENDPOINTS", "", 1);
    setenv("MEDIA_ENDPOINTS", "inproc://gw_core_test_media", 1);
    setenv("GATEWAY_WORKERS_BIND", "inproc://gw_core_test_workers", 1);
    setenv("GATEWAY_CACHE_MS", "60000", 1);
    gw_config_t *config = gw_config_new();
    int gets = 0;
    zactor_t *store = zactor_new(s_fake_store, &gets);
    zactor_t *core = zactor_new(gw_core_actor, config);
    char *ready = zstr_recv(core);
    assert(streq(ready, "READY"));
    zstr_free(&ready);
    gw_link_t *link = gw_link_new(gw_config_core_endpoint(config));

    //  Store requests are forwarded; session.get is cached by name and,
    //  once the alias is known, by instance id.
    assert(s_test_gets(link, "name", "s1") == 1);
    assert(s_test_gets(link, "name", "s1") == 1);
    assert(s_test_gets(link, "instance_id", "INST") == 1);
    //  A change through the gateway invalidates it.
    cm_msg_t *msg = cm_msg_new("session.update");
    cm_msg_set_str(msg, "name", "s1");
    cm_msg_t *reply = gw_link_call(link, GW_DEST_STORE, &msg, 2000);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    assert(s_test_gets(link, "name", "s1") == 2);

    //  No worker holds s1 yet.
    msg = cm_msg_new("session.stop");
    cm_msg_set_str(msg, "name", "s1");
    reply = gw_link_call(link, GW_DEST_WORKER, &msg, 2000);
    assert(cm_msg_status(reply) == GW_NO_WORKER);
    cm_msg_destroy(&reply);

    //  A worker says hello holding s1; commands for s1 reach it and its
    //  reply comes back; a nudge reaches it too.
    zsock_t *worker = zsock_new(ZMQ_DEALER);
    zsock_set_identity(worker, "w1");
    assert(zsock_connect(worker, "inproc://gw_core_test_workers") == 0);
    msg = cm_msg_new("worker.hello");
    cm_msg_set_str(msg, "worker", "w1");
    cm_msg_set(msg, "sessions", json_pack("[s]", "s1"));
    cm_msg_set_int(msg, "max", 10);
    cm_msg_set_int(msg, "rss", 5000000);
    cm_msg_set_int(msg, "msgs_in", 7);
    cm_msg_set_int(msg, "msgs_out", 3);
    cm_msg_send(&msg, worker);
    reply = cm_msg_recv(worker, false);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);

    msg = cm_msg_new("gw.workers");
    reply = gw_link_call(link, GW_DEST_LOCAL, &msg, 2000);
    json_t *ws = json_object_get(cm_msg_body(reply), "workers");
    assert(json_array_size(ws) == 1);
    assert(streq(
        json_string_value(json_object_get(json_array_get(ws, 0), "id")), "w1"));
    assert(json_integer_value(json_object_get(json_array_get(ws, 0), "rss")) ==
           5000000);
    assert(cm_msg_int(reply, "messages_in", 0) == 7);
    assert(cm_msg_int(reply, "messages_out", 0) == 3);
    cm_msg_destroy(&reply);

    //  The worker restarted under the same id: its counts start again
    //  from 0, the totals keep what it had counted
    msg = cm_msg_new("worker.heartbeat");
    cm_msg_set_str(msg, "worker", "w1");
    cm_msg_set(msg, "sessions", json_pack("[s]", "s1"));
    cm_msg_set_int(msg, "max", 10);
    cm_msg_set_int(msg, "msgs_in", 1);
    cm_msg_send(&msg, worker);
    reply = cm_msg_recv(worker, false);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    msg = cm_msg_new("gw.workers");
    reply = gw_link_call(link, GW_DEST_LOCAL, &msg, 2000);
    assert(cm_msg_int(reply, "messages_in", 0) == 8);
    assert(cm_msg_int(reply, "messages_out", 0) == 3);
    cm_msg_destroy(&reply);

    msg = cm_msg_new("session.stop");
    cm_msg_set_str(msg, "name", "s1");
    char *stop_id = cm_strdup(cm_msg_id(msg));
    zsock_t *waiter = zsock_new(ZMQ_DEALER);
    assert(zsock_connect(waiter, "%s", gw_config_core_endpoint(config)) == 0);
    zmsg_t *zmsg = cm_msg_encode(msg);
    zmsg_pushstr(zmsg, GW_DEST_WORKER);
    zmsg_send(&zmsg, waiter);
    cm_msg_destroy(&msg);
    cm_msg_t *cmd = cm_msg_recv(worker, false);
    assert(cm_streq(cm_msg_type(cmd), "session.stop"));
    assert(cm_streq(cm_msg_str(cmd, "name"), "s1"));
    reply = cm_msg_new_reply(cmd, 200, NULL);
    cm_msg_send(&reply, worker);
    cm_msg_destroy(&cmd);
    zmsg = zmsg_recv(waiter);
    char *rid = zmsg_popstr(zmsg);
    assert(streq(rid, stop_id));
    zstr_free(&rid);
    free(stop_id);
    reply = cm_msg_decode(&zmsg, false);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    zsock_destroy(&waiter);

    //  A message command through the worker keeps s1's cached
    //  session.get; a session command drops it
    int gets_now = s_test_gets(link, "name", "s1");
    assert(s_test_gets(link, "name", "s1") == gets_now);
    s_test_worker_cmd(config, worker, "message.send_text");
    assert(s_test_gets(link, "name", "s1") == gets_now);
    s_test_worker_cmd(config, worker, "session.stop");
    assert(s_test_gets(link, "name", "s1") == gets_now + 1);
    //  The gateway's own reloads (rate-limit policies, API keys) keep it
    msg = cm_msg_new("ratelimit.list");
    reply = gw_link_call(link, GW_DEST_STORE, &msg, 2000);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    msg = cm_msg_new("apikey.list");
    reply = gw_link_call(link, GW_DEST_STORE, &msg, 2000);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    assert(s_test_gets(link, "name", "s1") == gets_now + 1);

    msg = cm_msg_new("worker.nudge");
    gw_link_send(link, GW_DEST_NUDGE, &msg);
    cmd = cm_msg_recv(worker, false);
    assert(cm_streq(cm_msg_type(cmd), "worker.nudge"));
    cm_msg_destroy(&cmd);

    //  A session claimed since the last heartbeat: the store's lease
    //  holder, passed as a hint, is used (and not forwarded).
    msg = cm_msg_new("session.stop");
    cm_msg_set_str(msg, "name", "s2");
    cm_msg_set_str(msg, GW_HOLDER_HINT, "w1");
    waiter = zsock_new(ZMQ_DEALER);
    assert(zsock_connect(waiter, "%s", gw_config_core_endpoint(config)) == 0);
    zmsg = cm_msg_encode(msg);
    zmsg_pushstr(zmsg, GW_DEST_WORKER);
    zmsg_send(&zmsg, waiter);
    cm_msg_destroy(&msg);
    cmd = cm_msg_recv(worker, false);
    assert(cm_streq(cm_msg_str(cmd, "name"), "s2"));
    assert(!cm_msg_str(cmd, GW_HOLDER_HINT));
    reply = cm_msg_new_reply(cmd, 200, NULL);
    cm_msg_send(&reply, worker);
    cm_msg_destroy(&cmd);
    zmsg = zmsg_recv(waiter);
    zmsg_destroy(&zmsg);
    zsock_destroy(&waiter);
    //  An unknown hint is no holder.
    msg = cm_msg_new("session.stop");
    cm_msg_set_str(msg, "name", "s3");
    cm_msg_set_str(msg, GW_HOLDER_HINT, "nobody");
    reply = gw_link_call(link, GW_DEST_WORKER, &msg, 2000);
    assert(cm_msg_status(reply) == GW_NO_WORKER);
    cm_msg_destroy(&reply);

    //  A bad heartbeat gets 400; an unknown type too.
    msg = cm_msg_new("worker.heartbeat");
    cm_msg_set_int(msg, "worker", 5);
    cm_msg_send(&msg, worker);
    reply = cm_msg_recv(worker, false);
    assert(cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    msg = cm_msg_new("worker.bogus");
    cm_msg_send(&msg, worker);
    reply = cm_msg_recv(worker, false);
    assert(cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);

    //  A silent worker is forgotten.
    zclock_sleep(GW_CORE_WORKER_TTL_MS + 300);
    msg = cm_msg_new("session.stop");
    cm_msg_set_str(msg, "name", "s1");
    reply = gw_link_call(link, GW_DEST_WORKER, &msg, 2000);
    assert(cm_msg_status(reply) == GW_NO_WORKER);
    cm_msg_destroy(&reply);

    //  Media requests to nobody time out with 504 (no media service).
    msg = cm_msg_new("media.ping");
    reply = gw_link_call(link, GW_DEST_MEDIA, &msg, 100);
    assert(cm_msg_status(reply) == 503 || cm_msg_status(reply) == 504);
    cm_msg_destroy(&reply);

    //  Drain: new requests get 503.
    zstr_send(core, "DRAIN");
    zsock_wait(core);
    msg = cm_msg_new("session.list");
    reply = gw_link_call(link, GW_DEST_STORE, &msg, 2000);
    assert(cm_msg_status(reply) == 503);
    cm_msg_destroy(&reply);

    zsock_destroy(&worker);
    gw_link_destroy(&link);
    zactor_destroy(&core);
    zactor_destroy(&store);
    gw_config_destroy(&config);
    unsetenv("STORE_ENDPOINTS");
    unsetenv("STORE_PUB_ENDPOINTS");
    unsetenv("MEDIA_ENDPOINTS");
    unsetenv("GATEWAY_WORKERS_BIND");
    unsetenv("GATEWAY_CACHE_MS");
    printf("OK\n");
}
