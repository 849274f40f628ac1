/*  cm_client - request/reply over a DEALER socket, with deadlines

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

//  A request waiting for its reply.
typedef struct {
    char id[CM_MSG_MAX_ID + 1];  //  request id = reply corr
    char type[CM_MSG_MAX_TYPE + 1]; //  for synthesized replies
    int64_t expires;             //  monotonic ms
    cm_client_fn *fn;            //  callback, NULL for a blocking call
    void *arg;                   //  callback argument
    cm_msg_t *reply;             //  reply, for blocking calls
    bool done;                   //  reply arrived (blocking calls)
} s_pending_t;

struct _cm_client_t {
    zsock_t *sock;      //  DEALER connected to all endpoints
    zhashx_t *pending;  //  id -> s_pending_t, owned
    int64_t next_due;   //  no callback request expires before (monotonic
                        //  ms); -1 when none is pending
    zsock_t *monitor;   //  PAIR with sock's disconnect events, or NULL
};

//  Note a callback request's deadline: keeps next_due a lower bound.
static void
s_due(cm_client_t *self, int64_t expires)
{
    if (self->next_due < 0 || expires < self->next_due) {
        self->next_due = expires;
    }
}

static void
s_pending_free(void **item_p)
{
    s_pending_t *p = (s_pending_t *) *item_p;
    if (p) {
        cm_msg_destroy(&p->reply);
        free(p);
        *item_p = NULL;
    }
}

cm_client_t *
cm_client_new(const char *endpoints)
{
    assert(endpoints);
    cm_client_t *self = cm_alloc(sizeof *self);
    self->sock = zsock_new(ZMQ_DEALER);
    assert(self->sock);
    cm_msg_sock_defaults(self->sock);
    //  Queue nothing for peers that are not connected yet, so requests go
    //  only to live servers.
    zsock_set_immediate(self->sock, 1);
    self->pending = zhashx_new();
    zhashx_set_destructor(self->pending, s_pending_free);
    self->next_due = -1;
    char *list = cm_strdup(endpoints);
    char *save = NULL;
    int count = 0;
    for (char *ep = strtok_r(list, ",", &save); ep;
         ep = strtok_r(NULL, ",", &save)) {
        while (*ep == ' ') {
            ep++;
        }
        if (!*ep) {
            continue;
        }
        if (zsock_connect(self->sock, "%s", ep) != 0) {
            cm_log_error("could not connect bus socket", "endpoint=\"%s\"",
                         ep);
            count = -1;
            break;
        }
        count++;
    }
    free(list);
    if (count <= 0) {
        cm_client_destroy(&self);
    }
    return self;
}

void
cm_client_destroy(cm_client_t **self_p)
{
    assert(self_p);
    cm_client_t *self = *self_p;
    if (!self) {
        return;
    }
    zhashx_destroy(&self->pending);
    if (self->monitor) {
        zmq_socket_monitor(zsock_resolve(self->sock), NULL, 0);
        zsock_destroy(&self->monitor);
    }
    zsock_destroy(&self->sock);
    free(self);
    *self_p = NULL;
}

zsock_t *
cm_client_sock(cm_client_t *self)
{
    return self->sock;
}

static cm_msg_t *
s_synth(const s_pending_t *p, int st, const char *reason)
{
    cm_msg_t *req = cm_msg_new(p->type);
    cm_msg_t *tmp = cm_msg_new_reply(req, st, reason);
    cm_msg_destroy(&req);
    return tmp;
}

//  Hand a reply to its pending entry. Takes the reply.
static void
s_complete(cm_client_t *self, s_pending_t *p, cm_msg_t **reply_p)
{
    if (p->fn) {
        cm_client_fn *fn = p->fn;
        void *arg = p->arg;
        zhashx_delete(self->pending, p->id);
        fn(reply_p, arg);
        cm_msg_destroy(reply_p);
    }
    else {
        p->reply = *reply_p;
        *reply_p = NULL;
        p->done = true;
    }
}

void
cm_client_dispatch(cm_client_t *self)
{
    while (zsock_events(self->sock) & ZMQ_POLLIN) {
        cm_msg_t *reply = cm_msg_recv(self->sock, false);
        if (!reply) {
            continue;
        }
        const char *corr = cm_msg_corr(reply);
        s_pending_t *p =
            corr ? (s_pending_t *) zhashx_lookup(self->pending, corr) : NULL;
        if (!p || p->done) {
            cm_log_debug("dropped late or unmatched reply", "%s",
                         cm_msg_summary(reply));
            cm_msg_destroy(&reply);
            continue;
        }
        if (cm_msg_error(reply)) {
            cm_msg_t *bad = s_synth(p, 502, cm_msg_error(reply));
            cm_msg_destroy(&reply);
            reply = bad;
        }
        s_complete(self, p, &reply);
    }
}

int
cm_client_expire(cm_client_t *self)
{
    if (zhashx_size(self->pending) == 0) {
        self->next_due = -1;
        return -1;
    }
    int64_t now = cm_mono_ms();
    if (self->next_due > now) {
        //  Nothing can have expired: skip the walk (owners call this on
        //  every loop turn).
        return (int) (self->next_due - now);
    }
    //  Walk a copy of the keys (callbacks may send or complete requests);
    //  requests sent from callbacks lower next_due through s_track.
    self->next_due = -1;
    zlistx_t *keys = zhashx_keys(self->pending);
    for (const char *id = (const char *) zlistx_first(keys); id;
         id = (const char *) zlistx_next(keys)) {
        s_pending_t *p = (s_pending_t *) zhashx_lookup(self->pending, id);
        if (!p || p->done || !p->fn) {
            continue;
        }
        if (p->expires <= now) {
            cm_msg_t *timeout = s_synth(p, 504, "no reply before deadline");
            s_complete(self, p, &timeout);
        }
        else {
            s_due(self, p->expires);
        }
    }
    zlistx_destroy(&keys);
    if (self->next_due < 0) {
        return -1;
    }
    int64_t left = self->next_due - cm_mono_ms();
    return (int) (left > 0 ? left : 0);
}

static s_pending_t *
s_track(cm_client_t *self, cm_msg_t *req, int timeout_ms, cm_client_fn *fn,
        void *arg)
{
    s_pending_t *p = cm_alloc(sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", cm_msg_id(req));
    snprintf(p->type, sizeof p->type, "%s", cm_msg_type(req));
    p->expires = cm_mono_ms() + timeout_ms;
    p->fn = fn;
    p->arg = arg;
    zhashx_update(self->pending, p->id, p);
    if (fn) {
        s_due(self, p->expires);
    }
    if (!cm_msg_deadline(req)) {
        cm_msg_set_deadline(req, cm_now_ms() + timeout_ms);
    }
    return p;
}

int
cm_client_send(cm_client_t *self, cm_msg_t **request_p, int timeout_ms,
               cm_client_fn *fn, void *arg)
{
    assert(request_p && *request_p && fn);
    s_pending_t *p = s_track(self, *request_p, timeout_ms, fn, arg);
    if (cm_msg_send(request_p, self->sock) != 0) {
        cm_msg_t *err = s_synth(p, 503, "could not send request");
        s_complete(self, p, &err);
        return -1;
    }
    return 0;
}

//  Wait for p's reply until `until` (monotonic ms). Returns the reply.
static cm_msg_t *
s_wait(cm_client_t *self, s_pending_t *p, int64_t until)
{
    zpoller_t *poller = zpoller_new(self->sock, NULL);
    while (!p->done) {
        int64_t left = until - cm_mono_ms();
        if (left <= 0) {
            break;
        }
        zsock_t *which = (zsock_t *) zpoller_wait(poller, (int) left);
        if (which) {
            cm_client_dispatch(self);
        }
        else if (zpoller_terminated(poller)) {
            break;
        }
    }
    zpoller_destroy(&poller);
    cm_msg_t *reply = NULL;
    if (p->done) {
        reply = p->reply;
        p->reply = NULL;
    }
    else {
        reply = s_synth(p, 504, "no reply before deadline");
    }
    zhashx_delete(self->pending, p->id);
    return reply;
}

cm_msg_t *
cm_client_call(cm_client_t *self, cm_msg_t **request_p, int timeout_ms)
{
    return cm_client_call_retry(self, request_p, timeout_ms, 1);
}

cm_msg_t *
cm_client_call_retry(cm_client_t *self, cm_msg_t **request_p,
                     int attempt_ms, int attempts)
{
    assert(request_p && *request_p);
    cm_msg_t *req = *request_p;
    *request_p = NULL;
    cm_msg_t *reply = NULL;
    for (int i = 0; i < attempts; i++) {
        cm_msg_destroy(&reply);
        s_pending_t *p = s_track(self, req, attempt_ms, NULL, NULL);
        cm_msg_set_deadline(req, cm_now_ms() + attempt_ms);
        zmsg_t *zmsg = cm_msg_encode(req);
        int rc = zmsg_send(&zmsg, self->sock);
        zmsg_destroy(&zmsg);
        if (rc != 0) {
            zhashx_delete(self->pending, cm_msg_id(req));
            reply = cm_msg_new_reply(req, 503, "could not send request");
            zclock_sleep(attempt_ms < 100 ? attempt_ms : 100);
        }
        else {
            reply = s_wait(self, p, cm_mono_ms() + attempt_ms);
        }
        if (cm_msg_status(reply) != 504 && cm_msg_status(reply) != 503) {
            break;
        }
    }
    cm_msg_destroy(&req);
    return reply;
}

size_t
cm_client_pending(cm_client_t *self)
{
    return zhashx_size(self->pending);
}

zsock_t *
cm_client_watch(cm_client_t *self)
{
    assert(!self->monitor);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://cm-client-watch-%p",
             (void *)self);
    if (zmq_socket_monitor(zsock_resolve(self->sock), endpoint,
                           ZMQ_EVENT_DISCONNECTED) != 0) {
        cm_log_warn("could not watch bus connections", "reason=\"%s\"",
                    zmq_strerror(zmq_errno()));
        return NULL;
    }
    self->monitor = zsock_new(ZMQ_PAIR);
    assert(self->monitor);
    if (zsock_connect(self->monitor, "%s", endpoint) != 0) {
        zmq_socket_monitor(zsock_resolve(self->sock), NULL, 0);
        zsock_destroy(&self->monitor);
        return NULL;
    }
    return self->monitor;
}

void
cm_client_watch_dispatch(cm_client_t *self)
{
    bool dropped = false;
    while (self->monitor && (zsock_events(self->monitor) & ZMQ_POLLIN)) {
        //  An event is two frames: 16-bit event and 32-bit value, then
        //  the endpoint
        zmsg_t *msg = zmsg_recv(self->monitor);
        if (!msg) {
            break;
        }
        zframe_t *head = zmsg_first(msg);
        zframe_t *where = zmsg_next(msg);
        if (head && zframe_size(head) >= 2) {
            uint16_t event;
            memcpy(&event, zframe_data(head), sizeof event);
            if (event == ZMQ_EVENT_DISCONNECTED) {
                char *ep = where ? zframe_strdup(where) : NULL;
                cm_log_warn("bus server went away: failing its requests",
                            "endpoint=\"%s\" pending=%zu", ep ? ep : "",
                            zhashx_size(self->pending));
                free(ep);
                dropped = true;
            }
        }
        zmsg_destroy(&msg);
    }
    if (!dropped) {
        return;
    }
    //  Replies that came before the drop are answers, not losses
    cm_client_dispatch(self);
    zlistx_t *keys = zhashx_keys(self->pending);
    for (const char *id = (const char *)zlistx_first(keys); id;
         id = (const char *)zlistx_next(keys)) {
        s_pending_t *p = (s_pending_t *)zhashx_lookup(self->pending, id);
        if (p && !p->done && p->fn) {
            cm_msg_t *gone = s_synth(p, 503, "server went away");
            s_complete(self, p, &gone);
        }
    }
    zlistx_destroy(&keys);
}

//  --------------------------------------------------------------------
//  Self test: an echo server actor on inproc.

static void
s_echo_actor(zsock_t *pipe, void *args)
{
    zsock_t *router = zsock_new_router("inproc://cm_client_test");
    assert(router);
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    while (true) {
        zsock_t *which = (zsock_t *) zpoller_wait(poller, -1);
        if (which == pipe || !which) {
            break;
        }
        cm_msg_t *req = cm_msg_recv(router, true);
        if (!req) {
            continue;
        }
        if (cm_streq(cm_msg_type(req), "test.silent")) {
            cm_msg_destroy(&req);
            continue;
        }
        cm_msg_t *reply = cm_msg_new_reply(req, 200, NULL);
        cm_msg_set_str(reply, "echo", cm_msg_str(req, "text"));
        cm_msg_send(&reply, router);
        cm_msg_destroy(&req);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

static void
s_test_cb(cm_msg_t **reply_p, void *arg)
{
    int *status = (int *) arg;
    *status = cm_msg_status(*reply_p);
}

void
cm_client_test(bool verbose)
{
    printf(" * cm_client: ");
    zactor_t *echo = zactor_new(s_echo_actor, NULL);
    cm_client_t *client = cm_client_new("inproc://cm_client_test");
    assert(client);

    cm_msg_t *req = cm_msg_new("test.echo");
    cm_msg_set_str(req, "text", "hello");
    cm_msg_t *reply = cm_client_call(client, &req, 1000);
    assert(!req);
    assert(cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "echo"), "hello"));
    cm_msg_destroy(&reply);

    //  Timeouts synthesize 504
    req = cm_msg_new("test.silent");
    reply = cm_client_call_retry(client, &req, 50, 2);
    assert(cm_msg_status(reply) == 504);
    assert(cm_streq(cm_msg_type(reply), "test.silent"));
    cm_msg_destroy(&reply);
    assert(cm_client_pending(client) == 0);

    //  Async with callbacks
    int st1 = 0, st2 = 0;
    req = cm_msg_new("test.echo");
    cm_client_send(client, &req, 1000, s_test_cb, &st1);
    req = cm_msg_new("test.silent");
    cm_client_send(client, &req, 50, s_test_cb, &st2);
    assert(cm_client_pending(client) == 2);
    //  The nearest deadline bounds the owner's poll timeout
    int left = cm_client_expire(client);
    assert(left >= 0 && left <= 50);
    int64_t until = cm_mono_ms() + 2000;
    while ((st1 == 0 || st2 == 0) && cm_mono_ms() < until) {
        if (zsock_events(cm_client_sock(client)) & ZMQ_POLLIN) {
            cm_client_dispatch(client);
        }
        cm_client_expire(client);
        zclock_sleep(5);
    }
    assert(st1 == 200);
    assert(st2 == 504);
    assert(cm_client_pending(client) == 0);
    assert(cm_client_expire(client) == -1);

    //  A watched client fails its requests at once when the server's
    //  connection drops
    {
        zsock_t *server = zsock_new_router("tcp://127.0.0.1:*");
        assert(server);
        char *ep = zsock_last_endpoint(server);
        cm_client_t *watched = cm_client_new(ep);
        zstr_free(&ep);
        assert(watched);
        zsock_t *mon = cm_client_watch(watched);
        assert(mon);
        int st = 0;
        req = cm_msg_new("test.silent");
        assert(cm_client_send(watched, &req, 60000, s_test_cb, &st) == 0);
        //  The server takes the request, then dies without answering
        cm_msg_t *got = cm_msg_recv(server, true);
        assert(got);
        cm_msg_destroy(&got);
        zsock_destroy(&server);
        until = cm_mono_ms() + 5000;
        while (st == 0 && cm_mono_ms() < until) {
            if (zsock_events(mon) & ZMQ_POLLIN) {
                cm_client_watch_dispatch(watched);
            }
            zclock_sleep(5);
        }
        assert(st == 503);
        assert(cm_client_pending(watched) == 0);
        cm_client_destroy(&watched);
    }

    //  Bad endpoint
    cm_log_init(NULL, "error");
    assert(cm_client_new("bogus://x") == NULL);
    cm_log_init(NULL, "info");

    cm_client_destroy(&client);
    zactor_destroy(&echo);
    printf("OK\n");
}
