/*  gw_ws - the /ws event stream (WAHA's WebSocket)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

//  Streams open, and the flag that asks them to close.
static atomic_int s_open;
static atomic_bool s_closing;

//  One stream, from the handshake to the close.
typedef struct {
    char *session;    //  a name, or "*"
    json_t *events;   //  names wanted, or NULL for all
    int64_t after;    //  cursor to resume after
    bool has_after;   //  after was given
    char *core;       //  the core's inproc endpoint
    char *store_pub;  //  STORE_PUB_ENDPOINTS
    int fd;           //  the upgraded socket (not ours to close)
    void *handle;     //  gw_http's handle for it
    uint8_t *extra;   //  bytes read past the request
    size_t extra_len; //
    gw_link_t *link;  //  to the core (stream thread)
    json_t *cursors;  //  session name -> cursor (integer)
    json_t *dirty;    //  session names with news
    gw_wsframe_t *decoder;
    bool failed; //  the socket broke
} s_stream_t;

static void
s_stream_free(void **arg_p)
{
    s_stream_t *self = (s_stream_t *)*arg_p;
    if (!self) {
        return;
    }
    free(self->session);
    json_decref(self->events);
    free(self->core);
    free(self->store_pub);
    free(self->extra);
    gw_link_destroy(&self->link);
    json_decref(self->cursors);
    json_decref(self->dirty);
    gw_wsframe_destroy(&self->decoder);
    free(self);
    *arg_p = NULL;
}

int
gw_ws_count(void)
{
    return atomic_load(&s_open);
}

int
gw_ws_close_all(int timeout_ms)
{
    atomic_store(&s_closing, true);
    int64_t until = cm_mono_ms() + timeout_ms;
    while (atomic_load(&s_open) > 0 && cm_mono_ms() < until) {
        zclock_sleep(10);
    }
    int left = atomic_load(&s_open);
    atomic_store(&s_closing, false);
    return left;
}

//  --------------------------------------------------------------------
//  Stream thread

//  Write all of data, waiting for room at most GW_WS_SEND_TIMEOUT_MS.
static int
s_write(s_stream_t *self, const uint8_t *data, size_t len)
{
    if (self->failed) {
        return -1;
    }
    int64_t until = cm_mono_ms() + GW_WS_SEND_TIMEOUT_MS;
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(self->fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            int left = (int)(until - cm_mono_ms());
            struct pollfd p = {.fd = self->fd, .events = POLLOUT};
            if (left > 0 && poll(&p, 1, left) >= 0) {
                continue;
            }
        }
        self->failed = true;
        return -1;
    }
    return 0;
}

static int
s_send_frame(s_stream_t *self, int opcode, const void *payload, size_t len)
{
    uint8_t *buf = cm_alloc(len + GW_WSFRAME_HEADER_MAX);
    size_t n = gw_wsframe_encode(opcode, payload, len, buf);
    int rc = s_write(self, buf, n);
    free(buf);
    return rc;
}

static void
s_send_close(s_stream_t *self, int code, const char *reason)
{
    uint8_t payload[125];
    size_t n = gw_wsframe_close_payload(code, reason, payload);
    s_send_frame(self, GW_WSFRAME_CLOSE, payload, n);
}

static bool
s_wanted(s_stream_t *self, const char *event)
{
    if (!self->events) {
        return true;
    }
    size_t i;
    json_t *name;
    json_array_foreach(self->events, i, name)
    {
        if (event && streq(json_string_value(name), event)) {
            return true;
        }
    }
    return false;
}

//  Where a reader of new events of `session` starts. -1 on a bus error.
static int64_t
s_tail(s_stream_t *self, const char *session)
{
    cm_msg_t *msg = cm_msg_new("event.list");
    cm_msg_set_str(msg, "session", session);
    cm_msg_set_bool(msg, "tail", true);
    cm_msg_t *reply = gw_link_call(self->link, GW_DEST_STORE, &msg, 5000);
    int64_t next =
        cm_msg_status(reply) == 200 ? cm_msg_int(reply, "next", 0) : -1;
    cm_msg_destroy(&reply);
    return next;
}

//  Send what `session` stored after its cursor. Returns 0, or -1 when the
//  socket broke.
static int
s_pump(s_stream_t *self, const char *session)
{
    json_t *cursor = json_object_get(self->cursors, session);
    if (!cursor) {
        return 0;
    }
    int64_t after = json_integer_value(cursor);
    while (!self->failed) {
        cm_msg_t *msg = cm_msg_new("event.list");
        cm_msg_set_str(msg, "session", session);
        cm_msg_set_int(msg, "after", after);
        cm_msg_set_int(msg, "limit", GW_WS_PAGE);
        cm_msg_t *reply = gw_link_call(self->link, GW_DEST_STORE, &msg, 5000);
        if (cm_msg_status(reply) != 200) {
            //  The store is away: the next poll tries again
            cm_log_warn("ws could not read events", "session=\"%s\" status=%d",
                        session, cm_msg_status(reply));
            cm_msg_destroy(&reply);
            break;
        }
        json_t *events = json_object_get(cm_msg_body(reply), "events");
        json_t *seqs = json_object_get(cm_msg_body(reply), "seqs");
        int64_t next = cm_msg_int(reply, "next", after);
        size_t i;
        json_t *env;
        json_array_foreach(events, i, env)
        {
            const char *event =
                json_string_value(json_object_get(env, "event"));
            if (!s_wanted(self, event)) {
                continue;
            }
            json_t *out = json_copy(env);
            json_t *seq = json_array_get(seqs, i);
            json_object_set_new(out, "cursor",
                                json_integer(json_is_integer(seq)
                                                 ? json_integer_value(seq)
                                                 : next));
            char *text = cm_json_dumps(out, NULL);
            json_decref(out);
            s_send_frame(self, GW_WSFRAME_TEXT, text, strlen(text));
            free(text);
        }
        size_t got = json_array_size(events);
        cm_msg_destroy(&reply);
        if (next > after) {
            after = next;
            json_object_set_new(self->cursors, session, json_integer(after));
        }
        if (got < GW_WS_PAGE) {
            break;
        }
    }
    return self->failed ? -1 : 0;
}

//  The sessions to follow and their cursors. Returns 0 or -1.
static int
s_start(s_stream_t *self)
{
    self->cursors = json_object();
    self->dirty = json_object();
    if (!streq(self->session, "*")) {
        int64_t at =
            self->has_after ? self->after : s_tail(self, self->session);
        if (at < 0) {
            return -1;
        }
        json_object_set_new(self->cursors, self->session, json_integer(at));
        json_object_set_new(self->dirty, self->session, json_true());
        return 0;
    }
    cm_msg_t *msg = cm_msg_new("session.list");
    cm_msg_set_bool(msg, "all", true);
    cm_msg_t *reply = gw_link_call(self->link, GW_DEST_STORE, &msg, 5000);
    if (cm_msg_status(reply) != 200) {
        cm_msg_destroy(&reply);
        return -1;
    }
    size_t i;
    json_t *row;
    int rc = 0;
    json_array_foreach(json_object_get(cm_msg_body(reply), "sessions"), i, row)
    {
        const char *name = json_string_value(json_object_get(row, "name"));
        if (!name) {
            continue;
        }
        int64_t at = s_tail(self, name);
        if (at < 0) {
            rc = -1;
            break;
        }
        json_object_set_new(self->cursors, name, json_integer(at));
    }
    cm_msg_destroy(&reply);
    return rc;
}

//  An event.new notification: mark its session.
static void
s_on_notice(s_stream_t *self, zsock_t *sub)
{
    cm_msg_t *msg = cm_msg_recv(sub, false);
    if (!msg) {
        return;
    }
    const char *session = cm_msg_str(msg, "session");
    if (session && gw_sessions_name_valid(session)) {
        if (json_object_get(self->cursors, session)) {
            json_object_set_new(self->dirty, session, json_true());
        } else if (streq(self->session, "*")) {
            //  A session made after the stream opened: all of it is new
            json_object_set_new(self->cursors, session, json_integer(0));
            json_object_set_new(self->dirty, session, json_true());
        }
    }
    cm_msg_destroy(&msg);
}

//  Read from the client. Returns 0, or -1 when the stream ends.
static int
s_on_input(s_stream_t *self)
{
    uint8_t buf[4096];
    ssize_t n = recv(self->fd, buf, sizeof buf, 0);
    if (n == 0) {
        return -1;
    }
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0
                                                                           : -1;
    }
    gw_wsframe_feed(self->decoder, buf, (size_t)n);
    while (true) {
        int opcode = 0;
        const uint8_t *payload = NULL;
        size_t len = 0;
        int rc = gw_wsframe_next(self->decoder, &opcode, &payload, &len);
        if (rc == 0) {
            return 0;
        }
        if (rc < 0) {
            const char *reason = NULL;
            int code = gw_wsframe_error(self->decoder, &reason);
            cm_log_debug("ws client broke the protocol",
                         "code=%d reason=\"%s\"", code, reason);
            s_send_close(self, code, reason);
            return -1;
        }
        if (opcode == GW_WSFRAME_PING) {
            s_send_frame(self, GW_WSFRAME_PONG, payload, len);
        } else if (opcode == GW_WSFRAME_CLOSE) {
            //  Echo the code (RFC 6455 section 5.5.1)
            s_send_frame(self, GW_WSFRAME_CLOSE, payload, len >= 2 ? 2 : 0);
            return -1;
        }
        //  Text, binary and pongs are ignored
    }
}

static void *
s_stream_thread(void *arg)
{
    s_stream_t *self = (s_stream_t *)arg;
    self->link = gw_link_new(self->core);
    self->decoder = gw_wsframe_new(GW_WS_MESSAGE_MAX);
    zsock_t *sub = NULL;
    if (self->store_pub && *self->store_pub) {
        sub = zsock_new(ZMQ_SUB);
        if (sub) {
            cm_msg_sock_defaults(sub);
            zsock_set_subscribe(sub, "event.new");
            if (zsock_attach(sub, self->store_pub, false) != 0) {
                zsock_destroy(&sub);
            }
        }
    }
    if (!self->link || s_start(self) != 0) {
        s_send_close(self, GW_WSFRAME_CLOSE_ERROR,
                     "store-service did not answer");
        goto done;
    }
    cm_log_debug("ws stream opened", "session=\"%s\"", self->session);
    if (self->extra_len) {
        gw_wsframe_feed(self->decoder, self->extra, self->extra_len);
        //  Parse what came along with the handshake
        int opcode = 0;
        const uint8_t *payload = NULL;
        size_t len = 0;
        while (gw_wsframe_next(self->decoder, &opcode, &payload, &len) == 1) {
            if (opcode == GW_WSFRAME_CLOSE) {
                s_send_frame(self, GW_WSFRAME_CLOSE, payload, len >= 2 ? 2 : 0);
                goto done;
            }
        }
    }
    int64_t next_poll = cm_mono_ms() + GW_WS_POLL_MS;
    int64_t next_ping = cm_mono_ms() + GW_WS_PING_MS;
    while (!self->failed) {
        //  Send what is new
        const char *name;
        json_t *flag;
        void *tmp;
        json_object_foreach_safe(self->dirty, tmp, name, flag)
        {
            if (s_pump(self, name) != 0) {
                goto done;
            }
            json_object_del(self->dirty, name);
        }
        if (atomic_load(&s_closing)) {
            s_send_close(self, GW_WSFRAME_CLOSE_GOING_AWAY,
                         "server shutting down");
            break;
        }
        zmq_pollitem_t items[2];
        memset(items, 0, sizeof items);
        items[0].fd = self->fd;
        items[0].events = ZMQ_POLLIN;
        int count = 1;
        if (sub) {
            items[1].socket = zsock_resolve(sub);
            items[1].events = ZMQ_POLLIN;
            count = 2;
        }
        int64_t now = cm_mono_ms();
        int64_t wake = next_poll < next_ping ? next_poll : next_ping;
        long wait = wake > now ? (long)(wake - now) : 0;
        if (wait > 250) {
            wait = 250; //  notice s_closing soon
        }
        int rc = zmq_poll(items, count, wait);
        if (rc < 0 && errno != EINTR) {
            break;
        }
        if (items[0].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) {
            if (s_on_input(self) != 0) {
                break;
            }
        }
        if (sub && (items[1].revents & ZMQ_POLLIN)) {
            for (int k = 0; k < 1000 && (zsock_events(sub) & ZMQ_POLLIN); k++) {
                s_on_notice(self, sub);
            }
        }
        now = cm_mono_ms();
        if (now >= next_poll) {
            //  Notifications are wake-ups only: poll every session too
            json_t *cursor;
            json_object_foreach(self->cursors, name, cursor)
            {
                json_object_set_new(self->dirty, name, json_true());
            }
            next_poll = now + GW_WS_POLL_MS;
        }
        if (now >= next_ping) {
            s_send_frame(self, GW_WSFRAME_PING, "", 0);
            next_ping = now + GW_WS_PING_MS;
        }
    }
done:
    cm_log_debug("ws stream closed", "session=\"%s\"", self->session);
    zsock_destroy(&sub);
    void *handle = self->handle;
    s_stream_free((void **)&self);
    gw_http_upgrade_close(handle);
    atomic_fetch_sub(&s_open, 1);
    return NULL;
}

//  The 101 went out: the stream gets its thread.
static void
s_upgraded(void *arg, int fd, const char *extra, size_t extra_len, void *handle)
{
    s_stream_t *self = (s_stream_t *)arg;
    self->fd = fd;
    self->handle = handle;
    if (extra_len) {
        self->extra = cm_alloc(extra_len);
        memcpy(self->extra, extra, extra_len);
        self->extra_len = extra_len;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (pthread_create(&thread, &attr, s_stream_thread, self) != 0) {
        cm_log_error("could not start a ws thread", "reason=\"%s\"",
                     strerror(errno));
        s_stream_free((void **)&self);
        gw_http_upgrade_close(handle);
        atomic_fetch_sub(&s_open, 1);
    }
    pthread_attr_destroy(&attr);
}

//  An upgrade's slot was reserved but the upgrade did not happen.
static void
s_unused_free(void **arg_p)
{
    if (*arg_p) {
        s_stream_free(arg_p);
        atomic_fetch_sub(&s_open, 1);
    }
}

//  True when the comma separated `value` has `token` (any case).
static bool
s_has_token(const char *value, const char *token)
{
    if (!value) {
        return false;
    }
    size_t n = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') {
            p++;
        }
        const char *end = p;
        while (*end && *end != ',') {
            end++;
        }
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
            last--;
        }
        if ((size_t)(last - p) == n && strncasecmp(p, token, n) == 0) {
            return true;
        }
        p = end;
    }
    return false;
}

//  The events filter: NULL for all, or an array of names; -1 after a 400.
static int
s_events(gw_req_t *req, json_t **events_p)
{
    *events_p = NULL;
    json_t *values = gw_req_query_all(req, "events");
    if (!values) {
        return 0;
    }
    json_t *names = json_array();
    size_t i;
    json_t *value;
    bool all = false;
    json_array_foreach(values, i, value)
    {
        char *copy = cm_strdup(json_string_value(value));
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') {
                tok++;
            }
            size_t n = strlen(tok);
            while (n && tok[n - 1] == ' ') {
                tok[--n] = 0;
            }
            if (!n) {
                continue;
            }
            if (streq(tok, "*")) {
                all = true;
            } else if (!cm_webhook_event_known(tok) ||
                       json_array_size(names) >= 64) {
                free(copy);
                json_decref(names);
                gw_req_fail_invalid(req, "events must be * or known event "
                                         "names (at most 64)");
                return -1;
            } else {
                json_array_append_new(names, json_string(tok));
            }
        }
        free(copy);
    }
    if (all || json_array_size(names) == 0) {
        json_decref(names);
        return 0;
    }
    *events_p = names;
    return 0;
}

void
gw_ws_open(gw_req_t *req)
{
    //  The handshake (RFC 6455 section 4.2.1)
    if (!s_has_token(gw_req_header(req, "Upgrade"), "websocket") ||
        !s_has_token(gw_req_header(req, "Connection"), "upgrade")) {
        gw_req_add_response_header(req, "Upgrade", "websocket");
        gw_req_fail(req, 426, NULL,
                    "/ws is a WebSocket: send Upgrade: websocket");
        return;
    }
    const char *version = gw_req_header(req, "Sec-WebSocket-Version");
    if (!version || !streq(version, "13")) {
        gw_req_add_response_header(req, "Sec-WebSocket-Version", "13");
        gw_req_fail(req, 426, NULL, "Sec-WebSocket-Version must be 13");
        return;
    }
    char accept[32];
    if (gw_wsframe_accept(gw_req_header(req, "Sec-WebSocket-Key"), accept,
                          sizeof accept) != 0) {
        gw_req_fail_invalid(req, "Sec-WebSocket-Key must be the base64 of 16 "
                                 "bytes");
        return;
    }
    const char *session = gw_req_query(req, "session");
    if (!session || !*session) {
        session = "*";
    }
    if (!streq(session, "*") && !gw_sessions_name_valid(session)) {
        gw_req_fail_invalid(req,
                            "session must be * or match ^[A-Za-z0-9_-]{1,64}$");
        return;
    }
    int64_t after = 0;
    bool has_after = false;
    if (gw_req_query_int(req, "after", 0, INT64_MAX, 0, &after, &has_after)) {
        return;
    }
    if (has_after && streq(session, "*")) {
        gw_req_fail_invalid(req, "after needs one session, not *");
        return;
    }
    json_t *events = NULL;
    if (s_events(req, &events) != 0) {
        return;
    }
    if (!streq(session, "*")) {
        cm_msg_t *msg = cm_msg_new("session.get");
        cm_msg_set_str(msg, "name", session);
        cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
        int st = cm_msg_status(reply);
        if (st == 404) {
            gw_req_fail(req, 404, NULL, "Session not found");
        } else if (st != 200) {
            gw_req_fail_bus(req, reply, "store-service");
        }
        cm_msg_destroy(&reply);
        if (st != 200) {
            json_decref(events);
            return;
        }
    }
    if (atomic_fetch_add(&s_open, 1) >= GW_WS_MAX) {
        atomic_fetch_sub(&s_open, 1);
        json_decref(events);
        gw_req_fail(req, 503, NULL, "too many open /ws streams (%d)",
                    GW_WS_MAX);
        return;
    }
    s_stream_t *self = cm_alloc(sizeof *self);
    self->session = cm_strdup(session);
    self->events = events;
    self->after = after;
    self->has_after = has_after;
    self->fd = -1;
    const gw_config_t *config = gw_req_config(req);
    self->core = cm_strdup(config ? gw_config_core_endpoint(config) : "");
    self->store_pub =
        cm_strdup(config ? gw_config_store_pub_endpoints(config) : "");
    gw_req_add_response_header(req, "Upgrade", "websocket");
    gw_req_add_response_header(req, "Sec-WebSocket-Accept", accept);
    gw_req_set_upgrade(req, s_upgraded, self, s_unused_free);
}

json_t *
gw_ws_schemas(void)
{
    return json_object();
}

//  --------------------------------------------------------------------
//  Self test: the handshake checks (the stream itself needs a store:
//  tests/integration/test_gateway_ws.py).

void
gw_ws_test(bool verbose)
{
    printf(" * gw_ws: ");
    assert(s_has_token("keep-alive, Upgrade", "upgrade"));
    assert(s_has_token("WebSocket", "websocket"));
    assert(!s_has_token("websockets", "websocket"));
    assert(!s_has_token(NULL, "websocket"));

    gw_req_t *req = gw_req_new("GET", "/ws");
    gw_ws_open(req);
    assert(gw_req_status(req) == 426);
    assert(streq(json_string_value(
                     json_object_get(gw_req_response_headers(req), "Upgrade")),
                 "websocket"));
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/ws");
    gw_req_set_header(req, "Upgrade", "websocket");
    gw_req_set_header(req, "Connection", "Upgrade");
    gw_req_set_header(req, "Sec-WebSocket-Version", "8");
    gw_ws_open(req);
    assert(gw_req_status(req) == 426);
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/ws");
    gw_req_set_header(req, "Upgrade", "websocket");
    gw_req_set_header(req, "Connection", "Upgrade");
    gw_req_set_header(req, "Sec-WebSocket-Version", "13");
    gw_req_set_header(req, "Sec-WebSocket-Key", "nope");
    gw_ws_open(req);
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);

    const char *bad[][2] = {
        {"session", "a b"}, {"events", "message,nope"}, {"after", "-1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req = gw_req_new("GET", "/ws");
        gw_req_set_header(req, "Upgrade", "websocket");
        gw_req_set_header(req, "Connection", "Upgrade");
        gw_req_set_header(req, "Sec-WebSocket-Version", "13");
        gw_req_set_header(req, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        gw_req_set_query(req, bad[i][0], bad[i][1]);
        gw_ws_open(req);
        assert(gw_req_status(req) == 400);
        gw_req_destroy(&req);
    }
    //  after with session=* is refused
    req = gw_req_new("GET", "/ws");
    gw_req_set_header(req, "Upgrade", "websocket");
    gw_req_set_header(req, "Connection", "Upgrade");
    gw_req_set_header(req, "Sec-WebSocket-Version", "13");
    gw_req_set_header(req, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    gw_req_set_query(req, "after", "5");
    gw_ws_open(req);
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);

    //  All good with session=*: 101 and the accept header; the reserved
    //  slot comes back when the upgrade does not happen.
    req = gw_req_new("GET", "/ws");
    gw_req_set_header(req, "Upgrade", "websocket");
    gw_req_set_header(req, "Connection", "keep-alive, Upgrade");
    gw_req_set_header(req, "Sec-WebSocket-Version", "13");
    gw_req_set_header(req, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    gw_req_set_query(req, "events", "message, session.status");
    gw_req_set_query(req, "events", "*");
    gw_ws_open(req);
    assert(gw_req_status(req) == 101);
    assert(gw_req_upgrading(req));
    assert(gw_ws_count() == 1);
    assert(streq(json_string_value(json_object_get(gw_req_response_headers(req),
                                                   "Sec-WebSocket-Accept")),
                 "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    gw_req_destroy(&req);
    assert(gw_ws_count() == 0);
    if (verbose) {
        printf("(handshake) ");
    }
    printf("OK\n");
}
