/*  cm_client - request/reply over a DEALER socket, with deadlines

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

//  A request waiting for its reply.
typedef struct {
    char id[CM_MSG_MAX_ID + 1];     //  request id = reply corr
    char type[CM_MSG_MAX_TYPE + 1]; //  for synthesized replies
    int64_t expires;                //  monotonic ms
    cm_client_fn *fn;               //  callback, NULL for a blocking call
    void *arg;                      //  callback argument
    cm_msg_t *reply;                //  reply, for blocking calls
    zmsg_t *copy;                   //  the request as sent (resend), or NULL
    size_t server;                  //  index of the server that holds it
    bool done;                      //  reply arrived (blocking calls)
} s_pending_t;

//  One server: its DEALER and the monitor of that DEALER's connection.
typedef struct {
    zsock_t *sock;    //  DEALER connected to the endpoint
    zsock_t *monitor; //  PAIR with sock's connection events, or NULL
    char *endpoint;   //  as configured
    bool down;        //  its connection dropped and no new one is up: its
                      //  pipe may look writable a moment longer, and what
                      //  goes into it then is lost
} s_server_t;

struct _cm_client_t {
    s_server_t *servers; //  one per endpoint
    size_t count;        //  servers
    size_t next;         //  round-robin: the server to try first
    zsock_t **socks;     //  DEALERs and monitors, for owners' pollers
    size_t sock_count;   //  entries in socks
    zhashx_t *pending;   //  id -> s_pending_t, owned
    int64_t next_due;    //  no callback request expires before (monotonic
                         //  ms); -1 when none is pending
    bool resend;         //  requests of a server gone go to another
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
    s_pending_t *p = (s_pending_t *)*item_p;
    if (p) {
        cm_msg_destroy(&p->reply);
        zmsg_destroy(&p->copy);
        free(p);
        *item_p = NULL;
    }
}

//  Connect server `index` to ep, with a monitor of its disconnections.
static int
s_server_open(cm_client_t *self, size_t index, const char *ep)
{
    s_server_t *server = &self->servers[index];
    server->endpoint = cm_strdup(ep);
    server->sock = zsock_new(ZMQ_DEALER);
    assert(server->sock);
    cm_msg_sock_defaults(server->sock);
    //  Queue nothing for a server that is not connected (yet, or any
    //  more), so a request goes only to a live one
    zsock_set_immediate(server->sock, 1);
    char mon[96];
    snprintf(mon, sizeof mon, "inproc://cm-client-watch-%p-%zu", (void *)self,
             index);
    if (zmq_socket_monitor(zsock_resolve(server->sock), mon,
                           ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED) == 0) {
        server->monitor = zsock_new(ZMQ_PAIR);
        assert(server->monitor);
        if (zsock_connect(server->monitor, "%s", mon) != 0) {
            zmq_socket_monitor(zsock_resolve(server->sock), NULL, 0);
            zsock_destroy(&server->monitor);
        }
    }
    if (!server->monitor) {
        cm_log_warn("could not watch bus connection", "endpoint=\"%s\"", ep);
    }
    if (zsock_connect(server->sock, "%s", ep) != 0) {
        cm_log_error("could not connect bus socket", "endpoint=\"%s\"", ep);
        return -1;
    }
    return 0;
}

static void
s_server_close(s_server_t *server)
{
    if (server->monitor) {
        zmq_socket_monitor(zsock_resolve(server->sock), NULL, 0);
        zsock_destroy(&server->monitor);
    }
    zsock_destroy(&server->sock);
    free(server->endpoint);
    server->endpoint = NULL;
}

cm_client_t *
cm_client_new(const char *endpoints)
{
    assert(endpoints);
    cm_client_t *self = cm_alloc(sizeof *self);
    self->pending = zhashx_new();
    zhashx_set_destructor(self->pending, s_pending_free);
    self->next_due = -1;
    char *list = cm_strdup(endpoints);
    char *save = NULL;
    bool ok = true;
    for (char *ep = strtok_r(list, ",", &save); ep && ok;
         ep = strtok_r(NULL, ",", &save)) {
        while (*ep == ' ') {
            ep++;
        }
        if (!*ep) {
            continue;
        }
        self->servers = (s_server_t *)realloc(
            self->servers, (self->count + 1) * sizeof *self->servers);
        assert(self->servers);
        memset(&self->servers[self->count], 0, sizeof *self->servers);
        ok = s_server_open(self, self->count, ep) == 0;
        self->count++;
    }
    free(list);
    if (!ok || self->count == 0) {
        cm_client_destroy(&self);
        return NULL;
    }
    self->socks = (zsock_t **)cm_alloc(2 * self->count * sizeof(zsock_t *));
    for (size_t i = 0; i < self->count; i++) {
        self->socks[self->sock_count++] = self->servers[i].sock;
    }
    for (size_t i = 0; i < self->count; i++) {
        if (self->servers[i].monitor) {
            self->socks[self->sock_count++] = self->servers[i].monitor;
        }
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
    for (size_t i = 0; i < self->count; i++) {
        s_server_close(&self->servers[i]);
    }
    free(self->servers);
    free(self->socks);
    free(self);
    *self_p = NULL;
}

size_t
cm_client_sock_count(cm_client_t *self)
{
    return self->sock_count;
}

zsock_t *
cm_client_sock(cm_client_t *self, size_t index)
{
    return index < self->sock_count ? self->socks[index] : NULL;
}

//  Whether server i is connected (ZMQ_IMMEDIATE: writable only then).
static bool
s_connected(cm_client_t *self, size_t i)
{
    return !self->servers[i].down &&
           (zsock_events(self->servers[i].sock) & ZMQ_POLLOUT) != 0;
}

bool
cm_client_ready(cm_client_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        if (s_connected(self, i)) {
            return true;
        }
    }
    return false;
}

void
cm_client_set_sndtimeo(cm_client_t *self, int timeout_ms)
{
    for (size_t i = 0; i < self->count; i++) {
        zsock_set_sndtimeo(self->servers[i].sock, timeout_ms);
    }
}

void
cm_client_set_resend(cm_client_t *self, bool resend)
{
    self->resend = resend;
}

//  The next connected server in turn but `except` (an index, or
//  self->count for none), or -1 when none is.
static int
s_pick_connected(cm_client_t *self, size_t except)
{
    for (size_t k = 0; k < self->count; k++) {
        size_t i = (self->next + k) % self->count;
        if (i != except && s_connected(self, i)) {
            self->next = (i + 1) % self->count;
            return (int)i;
        }
    }
    return -1;
}

//  The server for a new request: the next connected one in turn, else
//  the next in turn that is not down (its send then fails or waits, as
//  SNDTIMEO says); -1 when every one is down (nothing can go).
static int
s_pick(cm_client_t *self)
{
    int i = s_pick_connected(self, self->count);
    for (size_t k = 0; i < 0 && k < self->count; k++) {
        size_t any = (self->next + k) % self->count;
        if (!self->servers[any].down) {
            self->next = (any + 1) % self->count;
            i = (int)any;
        }
    }
    return i;
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
    } else {
        p->reply = *reply_p;
        *reply_p = NULL;
        p->done = true;
    }
}

//  Read every reply waiting on server i's socket.
static void
s_take_replies(cm_client_t *self, size_t i)
{
    zsock_t *sock = self->servers[i].sock;
    while (zsock_events(sock) & ZMQ_POLLIN) {
        cm_msg_t *reply = cm_msg_recv(sock, false);
        if (!reply) {
            continue;
        }
        const char *corr = cm_msg_corr(reply);
        s_pending_t *p =
            corr ? (s_pending_t *)zhashx_lookup(self->pending, corr) : NULL;
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

//  Server i's connection dropped: the requests it held get no reply.
//  Resend them to another server, or fail them with 503.
static void
s_lost(cm_client_t *self, size_t i)
{
    //  Replies that came before the drop are answers, not losses
    s_take_replies(self, i);
    size_t lost = 0;
    size_t resent = 0;
    int64_t now = cm_mono_ms();
    zlistx_t *keys = zhashx_keys(self->pending);
    for (const char *id = (const char *)zlistx_first(keys); id;
         id = (const char *)zlistx_next(keys)) {
        s_pending_t *p = (s_pending_t *)zhashx_lookup(self->pending, id);
        if (!p || p->done || p->server != i) {
            continue;
        }
        lost++;
        //  Not to server i: the drop may not have reached its pipe yet
        int to = p->copy && p->expires > now ? s_pick_connected(self, i) : -1;
        if (to >= 0) {
            zmsg_t *again = zmsg_dup(p->copy);
            if (zmsg_send(&again, self->servers[to].sock) == 0) {
                p->server = (size_t)to;
                resent++;
                continue;
            }
            zmsg_destroy(&again);
        }
        cm_msg_t *gone = s_synth(p, 503, "server went away");
        s_complete(self, p, &gone);
    }
    zlistx_destroy(&keys);
    cm_log_warn("bus server went away", "endpoint=\"%s\" lost=%zu resent=%zu",
                self->servers[i].endpoint, lost, resent);
}

//  Read server i's connection events; true when it dropped. It is down
//  from a drop until a new connection's handshake succeeds.
static bool
s_dropped(cm_client_t *self, size_t i)
{
    zsock_t *monitor = self->servers[i].monitor;
    bool dropped = false;
    while (monitor && (zsock_events(monitor) & ZMQ_POLLIN)) {
        //  An event is two frames: 16-bit event and 32-bit value, then
        //  the endpoint
        zmsg_t *msg = zmsg_recv(monitor);
        if (!msg) {
            break;
        }
        zframe_t *head = zmsg_first(msg);
        if (head && zframe_size(head) >= 2) {
            uint16_t event;
            memcpy(&event, zframe_data(head), sizeof event);
            if (event == ZMQ_EVENT_DISCONNECTED) {
                dropped = true;
                self->servers[i].down = true;
            } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
                self->servers[i].down = false;
            }
        }
        zmsg_destroy(&msg);
    }
    return dropped;
}

void
cm_client_dispatch(cm_client_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        s_take_replies(self, i);
    }
    for (size_t i = 0; i < self->count; i++) {
        if (s_dropped(self, i)) {
            s_lost(self, i);
        }
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
        return (int)(self->next_due - now);
    }
    //  Walk a copy of the keys (callbacks may send or complete requests);
    //  requests sent from callbacks lower next_due through s_track.
    self->next_due = -1;
    zlistx_t *keys = zhashx_keys(self->pending);
    for (const char *id = (const char *)zlistx_first(keys); id;
         id = (const char *)zlistx_next(keys)) {
        s_pending_t *p = (s_pending_t *)zhashx_lookup(self->pending, id);
        if (!p || p->done || !p->fn) {
            continue;
        }
        if (p->expires <= now) {
            cm_msg_t *timeout = s_synth(p, 504, "no reply before deadline");
            s_complete(self, p, &timeout);
        } else {
            s_due(self, p->expires);
        }
    }
    zlistx_destroy(&keys);
    if (self->next_due < 0) {
        return -1;
    }
    int64_t left = self->next_due - cm_mono_ms();
    return (int)(left > 0 ? left : 0);
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
    int to = s_pick(self);
    p->server = to >= 0 ? (size_t)to : 0;
    zsock_t *sock = to >= 0 ? self->servers[to].sock : NULL;
    int rc = -1;
    if (!sock) {
        cm_msg_destroy(request_p);
    } else if (self->resend) {
        //  Keep the request as sent, for another server if this one goes
        p->copy = cm_msg_encode(*request_p);
        cm_msg_destroy(request_p);
        zmsg_t *zmsg = zmsg_dup(p->copy);
        rc = zmsg_send(&zmsg, sock);
        zmsg_destroy(&zmsg);
    } else {
        rc = cm_msg_send(request_p, sock);
    }
    if (rc != 0) {
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
    zpoller_t *poller = zpoller_new(NULL);
    for (size_t i = 0; i < self->sock_count; i++) {
        zpoller_add(poller, self->socks[i]);
    }
    while (!p->done) {
        int64_t left = until - cm_mono_ms();
        if (left <= 0) {
            break;
        }
        zsock_t *which = (zsock_t *)zpoller_wait(poller, (int)left);
        if (which) {
            cm_client_dispatch(self);
        } else if (zpoller_terminated(poller)) {
            break;
        }
    }
    zpoller_destroy(&poller);
    cm_msg_t *reply = NULL;
    if (p->done) {
        reply = p->reply;
        p->reply = NULL;
    } else {
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
cm_client_call_retry(cm_client_t *self, cm_msg_t **request_p, int attempt_ms,
                     int attempts)
{
    assert(request_p && *request_p);
    cm_msg_t *req = *request_p;
    *request_p = NULL;
    cm_msg_t *reply = NULL;
    for (int i = 0; i < attempts; i++) {
        cm_msg_destroy(&reply);
        //  Connection events first: which servers are down or back
        cm_client_dispatch(self);
        s_pending_t *p = s_track(self, req, attempt_ms, NULL, NULL);
        int to = s_pick(self);
        p->server = to >= 0 ? (size_t)to : 0;
        cm_msg_set_deadline(req, cm_now_ms() + attempt_ms);
        int rc = -1;
        if (to >= 0) {
            zmsg_t *zmsg = cm_msg_encode(req);
            rc = zmsg_send(&zmsg, self->servers[to].sock);
            zmsg_destroy(&zmsg);
        }
        if (rc != 0) {
            zhashx_delete(self->pending, cm_msg_id(req));
            reply = cm_msg_new_reply(req, 503, "could not send request");
            zclock_sleep(attempt_ms < 100 ? attempt_ms : 100);
        } else {
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
        zsock_t *which = (zsock_t *)zpoller_wait(poller, -1);
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
    int *status = (int *)arg;
    *status = cm_msg_status(*reply_p);
}

//  Dispatch until every one of n statuses is set, or ms pass.
static void
s_test_drive(cm_client_t *client, int *sts, int n, int ms)
{
    int64_t until = cm_mono_ms() + ms;
    while (cm_mono_ms() < until) {
        cm_client_dispatch(client);
        cm_client_expire(client);
        int left = 0;
        for (int i = 0; i < n; i++) {
            left += sts[i] == 0;
        }
        if (!left) {
            return;
        }
        zclock_sleep(5);
    }
}

//  Wait until the client's server is connected.
static void
s_test_until_ready(cm_client_t *client)
{
    int64_t until = cm_mono_ms() + 5000;
    while (!cm_client_ready(client) && cm_mono_ms() < until) {
        zclock_sleep(5);
    }
    assert(cm_client_ready(client));
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
        cm_client_dispatch(client);
        cm_client_expire(client);
        zclock_sleep(5);
    }
    assert(st1 == 200);
    assert(st2 == 504);
    assert(cm_client_pending(client) == 0);
    assert(cm_client_expire(client) == -1);

    //  A client fails its requests at once when the server's connection
    //  drops
    {
        zsock_t *server = zsock_new_router("tcp://127.0.0.1:*");
        assert(server);
        char *ep = zsock_last_endpoint(server);
        cm_client_t *watched = cm_client_new(ep);
        zstr_free(&ep);
        assert(watched);
        //  A DEALER and its monitor
        assert(cm_client_sock_count(watched) == 2);
        assert(cm_client_sock(watched, 2) == NULL);
        s_test_until_ready(watched);
        int st = 0;
        req = cm_msg_new("test.silent");
        assert(cm_client_send(watched, &req, 60000, s_test_cb, &st) == 0);
        //  The server takes the request, then dies without answering
        cm_msg_t *got = cm_msg_recv(server, true);
        assert(got);
        cm_msg_destroy(&got);
        zsock_destroy(&server);
        s_test_drive(watched, &st, 1, 5000);
        assert(st == 503);
        assert(cm_client_pending(watched) == 0);
        assert(!cm_client_ready(watched));
        //  Down until a new connection is up: a request fails at once
        //  rather than go into the dead connection and wait its deadline
        st = 0;
        req = cm_msg_new("test.silent");
        assert(cm_client_send(watched, &req, 60000, s_test_cb, &st) == -1);
        assert(st == 503 && cm_client_pending(watched) == 0);
        cm_client_destroy(&watched);
    }

    //  Two servers: a request goes to a connected one, and only the
    //  requests of the server that goes away fail; with resend they go
    //  to the other server instead
    for (int resend = 0; resend < 2; resend++) {
        zsock_t *a = zsock_new_router("tcp://127.0.0.1:*");
        zsock_t *b = zsock_new_router("tcp://127.0.0.1:*");
        assert(a && b);
        char *ea = zsock_last_endpoint(a);
        char *eb = zsock_last_endpoint(b);
        char *both = cm_sprintf("%s,%s", ea, eb);
        zstr_free(&ea);
        zstr_free(&eb);
        cm_client_t *two = cm_client_new(both);
        free(both);
        assert(two);
        assert(cm_client_sock_count(two) == 4);
        cm_client_set_resend(two, resend == 1);
        cm_client_set_sndtimeo(two, 0);
        //  Both connected: round-robin sends one of each pair to each
        int64_t wait_until = cm_mono_ms() + 5000;
        while (cm_mono_ms() < wait_until &&
               (!(zsock_events(cm_client_sock(two, 0)) & ZMQ_POLLOUT) ||
                !(zsock_events(cm_client_sock(two, 1)) & ZMQ_POLLOUT))) {
            zclock_sleep(5);
        }
        int sts[4] = {0, 0, 0, 0};
        for (int i = 0; i < 4; i++) {
            req = cm_msg_new("test.echo");
            assert(cm_client_send(two, &req, 60000, s_test_cb, &sts[i]) == 0);
        }
        cm_msg_t *at_a[2];
        cm_msg_t *at_b[2];
        for (int i = 0; i < 2; i++) {
            zsock_set_rcvtimeo(a, 5000);
            zsock_set_rcvtimeo(b, 5000);
            at_a[i] = cm_msg_recv(a, true);
            at_b[i] = cm_msg_recv(b, true);
            assert(at_a[i] && at_b[i]);
        }
        //  b answers one of its two now; a dies holding both of its own
        cm_msg_t *r = cm_msg_new_reply(at_b[0], 200, NULL);
        cm_msg_send(&r, b);
        zsock_destroy(&a);
        //  Without resend a's two fail; with it b gets them again (same
        //  ids) and answers them
        int resent = 0;
        int64_t until2 = cm_mono_ms() + 5000;
        while (cm_mono_ms() < until2 &&
               (sts[0] == 0 || sts[1] == 0 || sts[2] == 0)) {
            cm_client_dispatch(two);
            while (zsock_events(b) & ZMQ_POLLIN) {
                cm_msg_t *again = cm_msg_recv(b, true);
                assert(again);
                assert(cm_streq(cm_msg_id(again), cm_msg_id(at_a[0])) ||
                       cm_streq(cm_msg_id(again), cm_msg_id(at_a[1])));
                resent++;
                r = cm_msg_new_reply(again, 200, NULL);
                cm_msg_send(&r, b);
                cm_msg_destroy(&again);
            }
            zclock_sleep(5);
        }
        assert(resent == (resend ? 2 : 0));
        assert(sts[0] == (resend ? 200 : 503));
        assert(sts[1] == 200);
        assert(sts[2] == (resend ? 200 : 503));
        //  b's other request was never in danger
        assert(sts[3] == 0);
        r = cm_msg_new_reply(at_b[1], 200, NULL);
        cm_msg_send(&r, b);
        s_test_drive(two, sts, 4, 5000);
        assert(sts[3] == 200);
        assert(cm_client_pending(two) == 0);
        //  Only b is left: every request goes there
        assert(cm_client_ready(two));
        int st = 0;
        req = cm_msg_new("test.echo");
        assert(cm_client_send(two, &req, 60000, s_test_cb, &st) == 0);
        cm_msg_t *last = cm_msg_recv(b, true);
        assert(last);
        r = cm_msg_new_reply(last, 200, NULL);
        cm_msg_send(&r, b);
        cm_msg_destroy(&last);
        s_test_drive(two, &st, 1, 5000);
        assert(st == 200);
        for (int i = 0; i < 2; i++) {
            cm_msg_destroy(&at_a[i]);
            cm_msg_destroy(&at_b[i]);
        }
        cm_client_destroy(&two);
        zsock_destroy(&b);
    }

    //  Bad endpoint
    cm_log_init(NULL, "error");
    assert(cm_client_new("bogus://x") == NULL);
    cm_log_init(NULL, "info");

    cm_client_destroy(&client);
    zactor_destroy(&echo);
    printf("OK\n");
}
