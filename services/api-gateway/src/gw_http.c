/*  gw_http - the HTTP server (libmicrohttpd)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE //  strcasestr
#endif
#include "gw_classes.h"

#include <malloc.h>
#include <poll.h>
#include <pthread.h>

//  Longest request path we route.
#define GW_HTTP_PATH_MAX 1024
//  Largest body read before the caller is known: a Wawp request whose
//  credential can only be in its body.
#define GW_HTTP_ANON_BODY_MAX 1048576
//  GATEWAY_BODY_MEMORY is charged this many times a body: the raw body,
//  and what its handler makes of it while it runs (the parsed JSON, the
//  decoded media, the bus message), measured at about twice the body for
//  base64 media.
#define GW_HTTP_BODY_COST 3

//  One request, from its head to its response (MHD's con_cls).
typedef struct s_call {
    struct s_call *next;               //  in the handler queue
    struct MHD_Connection *connection; //  its connection
    gw_req_t *req;                     //  the request and its response
    const gw_route_t *route;           //  matched route, or NULL
    char *target;                      //  request target as it came
    size_t body_max;                   //  this request's body limit
    size_t reserved;                   //  bytes of GATEWAY_BODY_MEMORY held
    bool credential_in_body;           //  Wawp: no credential in the head
    char *slot;                        //  the key's concurrency slot, or NULL
    bool queued;                       //  given to a handler thread
    bool done;                         //  the handler answered
    bool responded;                    //  the response is queued
    bool close;                        //  the response closes the connection
    bool refused;                      //  gw_recv refused its body
} s_call_t;

//  A connection libmicrohttpd holds (its socket context), for the
//  keep-alive bound: between two requests a connection has
//  GATEWAY_KEEPALIVE_TIMEOUT_MS, from the end of one, to send the whole
//  head of the next; libmicrohttpd 0.9.75 has only one inactivity
//  timeout, which any byte restarts. The sweeper shuts a late one's
//  socket down, and libmicrohttpd then closes it as a client's hang-up.
typedef struct s_conn {
    struct s_conn *prev, *next; //  the server's connections
    struct _gw_http_t *http;    //  the server
    int fd;                     //  its socket
    gw_recv_t *wire;            //  frames what libmicrohttpd reads of it
    unsigned requests;          //  heads libmicrohttpd gave us
    int64_t idle_since;         //  monotonic ms a request ended, 0 in one
    void *unseen;               //  s_call_t of a request line not yet given
                                //  to s_access (freed at close if never)
    bool upgraded;              //  a /ws stream: not ours to time
    bool swept;                 //  shut down
} s_conn_t;

struct _gw_http_t {
    const gw_config_t *config; //  borrowed
    struct MHD_Daemon *daemon; //  the server
    gw_front_t *front;         //  accepts and checks heads
    pthread_mutex_t lock;      //  guards what follows
    pthread_cond_t wake;       //  work for handler threads
    s_call_t *queue_head;      //  requests waiting for a handler
    s_call_t *queue_tail;
    bool stopping;      //  no new work
    size_t body_bytes;  //  bytes of bodies in flight
    pthread_t *threads; //  handler threads
    int thread_count;
    pthread_mutex_t conns_lock; //  guards what follows
    pthread_cond_t conns_wake;  //  the sweeper's stop
    s_conn_t *conns;            //  connections libmicrohttpd holds
    bool sweeping;              //  the sweeper runs
    bool sweep_stop;            //  it must stop
    pthread_t sweeper;          //  closes late kept-alive connections
    size_t swept;               //  connections it shut down (tests)
};

//  Free a call libmicrohttpd never gave to s_access nor s_completed: its
//  request line only (no request, body or slot yet).
static void
s_call_free(void *item)
{
    s_call_t *call = (s_call_t *)item;
    if (call) {
        free(call->target);
        free(call);
    }
}

static void
s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) {
        text[--n] = 0;
    }
    cm_log_warn("libmicrohttpd reported a problem", "reason=\"%s\"", text);
}

//  Per-address accounting for connections libmicrohttpd holds.
static void
s_notify_connection(void *cls, struct MHD_Connection *connection,
                    void **socket_context,
                    enum MHD_ConnectionNotificationCode toe)
{
    gw_http_t *self = (gw_http_t *)cls;
    if (!self->front) {
        return; //  not serving (a failed start)
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *addr = ci ? ci->client_addr : NULL;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        gw_front_opened(self->front, addr);
        const union MHD_ConnectionInfo *fi = MHD_get_connection_info(
            connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        s_conn_t *conn = cm_alloc(sizeof *conn);
        conn->fd = fi ? fi->connect_fd : -1;
        conn->wire = gw_recv_lookup(conn->fd);
        conn->http = self;
        pthread_mutex_lock(&self->conns_lock);
        conn->next = self->conns;
        if (self->conns) {
            self->conns->prev = conn;
        }
        self->conns = conn;
        pthread_mutex_unlock(&self->conns_lock);
        *socket_context = conn;
    } else {
        gw_front_closed(self->front, addr);
        //  Called before libmicrohttpd closes the socket: once off the
        //  list, the sweeper cannot touch a descriptor number reused
        s_conn_t *conn = (s_conn_t *)*socket_context;
        if (conn) {
            pthread_mutex_lock(&self->conns_lock);
            if (conn->prev) {
                conn->prev->next = conn->next;
            } else {
                self->conns = conn->next;
            }
            if (conn->next) {
                conn->next->prev = conn->prev;
            }
            pthread_mutex_unlock(&self->conns_lock);
            if (gw_recv_detach(conn->wire, conn->fd)) {
                gw_recv_destroy(&conn->wire);
            }
            s_call_free(conn->unseen);
            free(conn);
            *socket_context = NULL;
        }
    }
}

//  A request of `connection` began (its head is in: idle_since 0), ended
//  (now), or the connection became a /ws stream.
typedef enum { S_CONN_BUSY, S_CONN_IDLE, S_CONN_UPGRADED } s_conn_event_t;

static s_conn_t *
s_conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? (s_conn_t *)ci->socket_context : NULL;
}

static void
s_conn_mark(struct MHD_Connection *connection, s_conn_event_t what)
{
    s_conn_t *conn = s_conn_of(connection);
    if (!conn) {
        return;
    }
    //  The wire and the count are the connection's thread's alone
    if (what == S_CONN_BUSY) {
        conn->requests++;
    }
    if (conn->wire && what == S_CONN_UPGRADED) {
        gw_recv_pass(conn->wire);
    }
    if (conn->wire && what == S_CONN_IDLE) {
        gw_recv_request_done(conn->wire);
    }
    pthread_mutex_lock(&conn->http->conns_lock);
    if (what == S_CONN_UPGRADED) {
        conn->upgraded = true;
    }
    conn->idle_since = what == S_CONN_IDLE ? cm_mono_ms() : 0;
    pthread_mutex_unlock(&conn->http->conns_lock);
}

//  Shut down the connections whose next head is late.
static void *
s_sweeper(void *arg)
{
    gw_http_t *self = (gw_http_t *)arg;
    int64_t limit = gw_config_keepalive_timeout(self->config);
    int64_t every = limit / 4 < 250 ? (limit / 4 < 25 ? 25 : limit / 4) : 250;
    pthread_mutex_lock(&self->conns_lock);
    while (!self->sweep_stop) {
        int64_t now = cm_mono_ms();
        for (s_conn_t *c = self->conns; c; c = c->next) {
            if (c->idle_since && !c->upgraded && !c->swept && c->fd >= 0 &&
                now - c->idle_since >= limit) {
                shutdown(c->fd, SHUT_RDWR);
                c->swept = true;
                self->swept++;
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(every % 1000) * 1000000L;
        ts.tv_sec += (time_t)(every / 1000) + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&self->conns_wake, &self->conns_lock, &ts);
    }
    pthread_mutex_unlock(&self->conns_lock);
    return NULL;
}

//  Take `n` bytes of GATEWAY_BODY_MEMORY. Returns 0, or -1 when they are
//  not free.
static int
s_reserve(gw_http_t *self, s_call_t *call, size_t n)
{
    pthread_mutex_lock(&self->lock);
    size_t budget = gw_config_body_memory(self->config);
    int rc = -1;
    if (self->body_bytes <= budget && n <= budget - self->body_bytes) {
        self->body_bytes += n;
        call->reserved += n;
        rc = 0;
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

static void
s_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    gw_http_t *self = (gw_http_t *)cls;
    s_conn_mark(connection, S_CONN_IDLE);
    s_call_t *call = (s_call_t *)*con_cls;
    if (!call) {
        return;
    }
    s_conn_t *conn = s_conn_of(connection);
    if (conn && conn->unseen == call) {
        conn->unseen = NULL;
    }
    bool big = call->req && gw_req_body_len(call->req) >= 1048576;
    pthread_mutex_lock(&self->lock);
    self->body_bytes -= call->reserved;
    pthread_mutex_unlock(&self->lock);
    gw_limits_leave(&call->slot);
    gw_req_destroy(&call->req);
    free(call->target);
    free(call);
    *con_cls = NULL;
    if (big) {
        //  Give a large body's pages back to the system now
        malloc_trim(0);
    }
}

static enum MHD_Result
s_collect(void *cls, enum MHD_ValueKind kind, const char *key,
          const char *value)
{
    gw_req_t *req = (gw_req_t *)cls;
    if (kind == MHD_HEADER_KIND) {
        gw_req_set_header(req, key, value);
    } else {
        gw_req_set_query(req, key, value);
    }
    return MHD_YES;
}

//  libmicrohttpd wrote the 101: the socket goes to the request's
//  upgrade function.
static void
s_upgraded(void *cls, struct MHD_Connection *connection, void *con_cls,
           const char *extra_in, size_t extra_in_size, MHD_socket sock,
           struct MHD_UpgradeResponseHandle *urh)
{
    gw_req_run_upgrade((gw_req_t *)cls, sock, extra_in, extra_in_size, urh);
}

void
gw_http_upgrade_close(void *handle)
{
    MHD_upgrade_action((struct MHD_UpgradeResponseHandle *)handle,
                       MHD_UPGRADE_ACTION_CLOSE);
}

//  The request's extra response headers onto resp.
static void
s_add_headers(struct MHD_Response *resp, gw_req_t *req)
{
    const char *name;
    json_t *value;
    json_object_foreach(gw_req_response_headers(req), name, value)
    {
        MHD_add_response_header(resp, name, json_string_value(value));
    }
}

static enum MHD_Result
s_respond_upgrade(struct MHD_Connection *connection, gw_req_t *req)
{
    struct MHD_Response *resp =
        MHD_create_response_for_upgrade(s_upgraded, req);
    if (!resp) {
        return MHD_NO;
    }
    s_add_headers(resp, req);
    enum MHD_Result rc =
        MHD_queue_response(connection, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    MHD_destroy_response(resp);
    return rc;
}

//  Queue the call's response. The connection stays open for the next
//  request unless the call says to close it (a request refused before
//  its head or body was read through).
static enum MHD_Result
s_respond(struct MHD_Connection *connection, s_call_t *call)
{
    gw_req_t *req = call->req;
    call->responded = true;
    //  The key's concurrency slot is free from here (a /ws connection
    //  does not hold one for its whole life)
    gw_limits_leave(&call->slot);
    gw_metrics_http(gw_req_method(req), gw_req_path(req), gw_req_status(req),
                    gw_req_age_us(req));
    if (gw_req_upgrading(req)) {
        s_conn_mark(connection, S_CONN_UPGRADED);
        return s_respond_upgrade(connection, req);
    }
    size_t len = 0;
    char *text = gw_req_take_response(req, &len);
    assert(text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        cm_log_error("could not create HTTP response");
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            gw_req_content_type(req)
                                ? gw_req_content_type(req)
                                : "application/json; charset=utf-8");
    if (gw_req_allow(req)) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, gw_req_allow(req));
    }
    s_add_headers(resp, req);
    if (call->close) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    enum MHD_Result rc =
        MHD_queue_response(connection, (unsigned int)gw_req_status(req), resp);
    MHD_destroy_response(resp);
    return rc;
}

static int
s_unauthorized(gw_req_t *req)
{
    gw_req_fail_unauthorized(req);
    return -1;
}

//  Authenticate for `route` once the body is parsed. Returns 0, or -1
//  after a 401 or 403 response.
static int
s_authenticate(gw_http_t *self, gw_req_t *req, const gw_route_t *route)
{
    if (route->auth == GW_AUTH_NONE ||
        gw_config_path_excluded(self->config, gw_req_path(req))) {
        gw_req_set_admin(req, route->auth == GW_AUTH_NONE);
        return 0;
    }
    const char *key = NULL;
    if (gw_req_family(req) == GW_FAMILY_WAWP) {
        key = gw_req_credential(req);
    } else {
        key = gw_req_header(req, "X-Api-Key");
        if (!key) {
            key = gw_req_query(req, "x-api-key");
        }
    }
    bool admin = gw_config_key_matches(self->config, key);
    gw_keys_entry_t made;
    if (!admin && gw_keys_lookup(key, &made)) {
        if (made.admin) {
            admin = true;
        } else {
            //  A session key: its session and its actions only (403)
            if (gw_keys_check(req, route, &made) != 0) {
                return -1;
            }
            //  The admin's way in on /api; on an instance route the
            //  handler still wants the instance's token
            gw_req_set_admin(req, route->auth == GW_AUTH_ADMIN);
            return route->auth == GW_AUTH_ADMIN ? 0 : s_unauthorized(req);
        }
    }
    gw_req_set_admin(req, admin);
    if (admin || (route->auth == GW_AUTH_INSTANCE && key)) {
        //  A non-admin credential on an instance route is checked by the
        //  handler against that instance's token.
        return 0;
    }
    gw_req_fail_unauthorized(req);
    return -1;
}

//  The credential in the head alone (a Wawp body may hold another).
static const char *
s_head_credential(gw_req_t *req)
{
    const char *key = NULL;
    if (gw_req_family(req) == GW_FAMILY_WAWP) {
        key = gw_req_header(req, "access-token");
        if (!key) {
            key = gw_req_query(req, "access_token");
        }
    }
    if (!key) {
        key = gw_req_header(req, "X-Api-Key");
    }
    if (!key) {
        key = gw_req_query(req, "x-api-key");
    }
    return key;
}

//  The head is in: route, refuse what can be refused before any body
//  byte is read (404, 405, 401, 413, 503), and size the body.
static void
s_begin(gw_http_t *self, struct MHD_Connection *connection, s_call_t *call)
{
    gw_req_t *req = call->req;
    size_t limit = gw_config_body_limit(self->config);
    const char *length = gw_req_header(req, "Content-Length");
    unsigned long long declared = 0;
    if (length) {
        char *end = NULL;
        errno = 0;
        declared = strtoull(length, &end, 10);
        if (errno || end == length || declared > limit) {
            gw_req_set_too_large(req);
        }
    }
    if (strlen(gw_req_path(req)) > GW_HTTP_PATH_MAX) {
        gw_req_fail(req, 404, "not_found", "path too long");
        return;
    }
    char *allow = NULL;
    const gw_route_t *route = gw_api_match(gw_req_method(req), gw_req_path(req),
                                           gw_req_params(req), &allow);
    if (!route) {
        if (allow) {
            gw_req_set_allow(req, allow);
            gw_req_fail(req, 405, "method_not_allowed",
                        "Method %s is not allowed on %s", gw_req_method(req),
                        gw_req_path(req));
            free(allow);
        } else {
            gw_req_fail(req, 404, "not_found", "Cannot %s %s",
                        gw_req_method(req), gw_req_path(req));
        }
        return;
    }
    call->route = route;
    if (gw_api_side_effect_get(route) &&
        !gw_config_side_effect_gets(self->config)) {
        //  GATEWAY_SIDE_EFFECT_GETS=false: a link cannot change state
        char *others = gw_api_allow(gw_req_path(req), "GET");
        if (others) {
            gw_req_set_allow(req, others);
        }
        gw_req_fail(req, 405, "method_not_allowed",
                    "GET %s changes state and is turned off here; use %s",
                    gw_req_path(req), others ? others : "POST");
        free(others);
        return;
    }
    //  The key, from the head, before the body: nobody makes us read or
    //  hold a body without it. Only a Wawp credential may come in the
    //  body, and then the body is kept small.
    call->body_max = limit;
    if (route->auth != GW_AUTH_NONE &&
        !gw_config_path_excluded(self->config, gw_req_path(req))) {
        const char *key = s_head_credential(req);
        gw_keys_entry_t made;
        //  A key made through /api/keys passes here; its scope is
        //  checked once the body (which may name a session) is in
        bool admin = gw_config_key_matches(self->config, key) ||
                     gw_keys_lookup(key, &made);
        if (!key && gw_req_family(req) == GW_FAMILY_WAWP) {
            call->credential_in_body = true;
            if (call->body_max > GW_HTTP_ANON_BODY_MAX) {
                call->body_max = GW_HTTP_ANON_BODY_MAX;
            }
        } else if (!admin && !(route->auth == GW_AUTH_INSTANCE && key)) {
            gw_req_fail_unauthorized(req);
            return;
        }
        //  A key over its rate costs nothing more (429, no body read)
        if (gw_limits_key(req, key) != 0 ||
            gw_limits_enter(req, key, &call->slot) != 0) {
            return;
        }
    }
    if (gw_req_too_large(req) || declared > call->body_max) {
        gw_req_set_too_large(req);
        gw_req_fail(req, 413, NULL, "request body is larger than %zu bytes",
                    call->body_max);
        return;
    }
    if (declared &&
        s_reserve(self, call, (size_t)declared * GW_HTTP_BODY_COST) != 0) {
        gw_req_fail(req, 503, NULL,
                    "too many request bodies in flight; try again later");
        return;
    }
    (void)connection;
}

//  In a handler thread: the body is in; parse it, authenticate, run the
//  route's handler.
static void
s_dispatch(gw_http_t *self, s_call_t *call, gw_link_t *link)
{
    gw_req_t *req = call->req;
    if (gw_req_too_large(req)) {
        gw_req_fail(req, 413, NULL, "request body is larger than %zu bytes",
                    call->body_max);
        return;
    }
    if (gw_req_parse_body(req) != 0) {
        if (call->credential_in_body && !gw_req_credential(req)) {
            gw_req_fail_unauthorized(req); //  no credential anywhere
        }
        return;
    }
    if (s_authenticate(self, req, call->route) != 0 ||
        gw_limits_session(req) != 0 || gw_limits_pace(req, call->route) != 0) {
        return;
    }
    if (!link) {
        gw_req_fail(req, 503, NULL, "gateway core unreachable");
        return;
    }
    gw_req_set_context(req, self->config, link);
    int64_t started = cm_mono_ms();
    call->route->handler(req);
    //  Every handler sets a response; not doing so is a bug.
    int status = gw_req_status(req);
    assert(status != 0);
    if (status >= 500) {
        cm_log_warn("request failed", "method=%s path=\"%s\" status=%d ms=%d",
                    gw_req_method(req), gw_templink_log_path(gw_req_path(req)),
                    status, (int)(cm_mono_ms() - started));
    } else {
        cm_log_debug("request", "method=%s path=\"%s\" status=%d ms=%d",
                     gw_req_method(req), gw_templink_log_path(gw_req_path(req)),
                     status, (int)(cm_mono_ms() - started));
    }
}

//  A handler thread: runs queued requests one at a time over its own
//  link to the core, then resumes their connections.
static void *
s_handler(void *arg)
{
    gw_http_t *self = (gw_http_t *)arg;
    gw_link_t *link = gw_link_new(gw_config_core_endpoint(self->config));
    while (true) {
        pthread_mutex_lock(&self->lock);
        while (!self->queue_head && !self->stopping) {
            pthread_cond_wait(&self->wake, &self->lock);
        }
        s_call_t *call = self->queue_head;
        if (call) {
            self->queue_head = call->next;
            if (!self->queue_head) {
                self->queue_tail = NULL;
            }
            call->next = NULL;
        }
        pthread_mutex_unlock(&self->lock);
        if (!call) {
            break; //  stopping, queue empty
        }
        s_dispatch(self, call, link);
        pthread_mutex_lock(&self->lock);
        call->done = true;
        pthread_mutex_unlock(&self->lock);
        MHD_resume_connection(call->connection);
    }
    gw_link_destroy(&link);
    return NULL;
}

//  The path without trailing slashes ("/" stays). Caller owns it.
static char *
s_clean_path(const char *url)
{
    size_t n = strlen(url);
    while (n > 1 && url[n - 1] == '/') {
        n--;
    }
    return cm_strndup(url, n);
}

//  Walk over the headers libmicrohttpd parsed, in the order they came.
typedef struct {
    const char *p;    //  end of what was accounted for so far
    const char *end;  //  end of the head
    const char *last; //  the last header's name, or NULL
    size_t last_len;  //  its length
    gw_front_fields_t fields;
    int status;    //  0, or the refusal
    char *message; //  its message
} s_walk_t;

//  True when [a, b) holds only what libmicrohttpd leaves where a line
//  ended: blanks the value did not include and at most `nuls` NULs (it
//  writes one over each CR and LF). Anything else is a byte that a NUL
//  hid from the parsed head.
static bool
s_line_end(const char *a, const char *b, int nuls)
{
    for (; a < b; a++) {
        if (*a == 0) {
            if (--nuls < 0) {
                return false;
            }
        } else if (*a != ' ' && *a != '\t' && *a != '\r' && *a != '\n') {
            return false;
        }
    }
    return true;
}

//  The bytes a NUL hid end the line before `p`: name that line.
static void
s_hidden(s_walk_t *w)
{
    w->status = 400;
    w->message =
        w->last
            ? cm_sprintf("header %.*s must not contain "
                         "control characters",
                         (int)(w->last_len > 64 ? 64 : w->last_len), w->last)
            : cm_strdup("the request line must not contain "
                        "control characters");
}

static enum MHD_Result
s_walk_field(void *cls, enum MHD_ValueKind kind, const char *key,
             size_t key_size, const char *value, size_t value_size)
{
    s_walk_t *w = (s_walk_t *)cls;
    //  libmicrohttpd 0.9.75 parses the head in place: each header is its
    //  name, a NUL over the colon, blanks, then the value. A name or
    //  value out of that order (a folded line, joined elsewhere) cannot
    //  be checked byte for byte, and is refused.
    uintptr_t k = (uintptr_t)key;
    uintptr_t v = (uintptr_t)value;
    if (!value || k < (uintptr_t)w->p || v < k + key_size + 1 ||
        v + value_size > (uintptr_t)w->end) {
        w->status = 400;
        w->message = cm_strdup("malformed header line (folded header lines "
                               "are not supported)");
        return MHD_NO;
    }
    if (!s_line_end(w->p, key, 2)) {
        s_hidden(w);
        return MHD_NO;
    }
    for (const char *c = key + key_size + 1; c < value; c++) {
        if (*c != ' ' && *c != '\t') {
            w->status = 400;
            w->message = cm_strdup("malformed header line");
            return MHD_NO;
        }
    }
    w->status =
        gw_front_check_field(key, key_size, value, value_size, &w->message);
    if (!w->status) {
        w->status = gw_front_fields_add(&w->fields, key, key_size, value,
                                        value_size, &w->message);
    }
    w->p = value + value_size;
    w->last = key;
    w->last_len = key_size;
    (void)kind;
    return w->status ? MHD_NO : MHD_YES;
}

//  Check a request head libmicrohttpd has parsed, as gw_front checks a
//  connection's first head, for this and every later request on the
//  connection. Returns 0, or the status to answer with *message_p set.
static int
s_check_head(struct MHD_Connection *connection, s_call_t *call,
             const char *method, const char *version, char **message_p)
{
    const char *target = call->target ? call->target : "";
    size_t method_len = strlen(method);
    size_t target_len = strlen(target);
    //  METHOD SP target SP version, cut in place: a NUL inside the line
    //  leaves bytes that none of the three shows
    if (!gw_front_token(method, method_len, GW_FRONT_METHOD_MAX) ||
        (uintptr_t)version !=
            (uintptr_t)method + method_len + 1 + target_len + 1) {
        *message_p = cm_strdup("malformed request line");
        return 400;
    }
    int rc = gw_front_check_target(target, target_len, message_p);
    if (rc) {
        return rc;
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t head = ci ? ci->header_size : 0;
    if (head > GW_FRONT_HEAD_MAX) {
        *message_p = cm_sprintf("the request head (request line and headers) "
                                "is larger than %d bytes",
                                GW_FRONT_HEAD_MAX);
        return 431;
    }
    s_walk_t walk;
    memset(&walk, 0, sizeof walk);
    walk.p = version + strlen(version);
    walk.end = method + head;
    if (head == 0 || (uintptr_t)walk.end < (uintptr_t)walk.p) {
        *message_p = cm_strdup("malformed request head");
        return 400;
    }
    MHD_get_connection_values_n(connection, MHD_HEADER_KIND, s_walk_field,
                                &walk);
    //  The last line's end and the empty line
    if (!walk.status && !s_line_end(walk.p, walk.end, 4)) {
        s_hidden(&walk);
    }
    if (!walk.status) {
        walk.status = gw_front_fields_end(
            &walk.fields, streq(version, MHD_HTTP_VERSION_1_1), &walk.message);
    }
    *message_p = walk.message;
    return walk.status;
}

//  A request line is in: keep its target as it came, before
//  libmicrohttpd decodes it in place (where %00 would cut it).
static void *
s_uri_log(void *cls, const char *uri, struct MHD_Connection *connection)
{
    s_call_t *call = cm_alloc(sizeof *call);
    call->connection = connection;
    call->target = cm_strdup(uri ? uri : "");
    (void)cls;
    //  libmicrohttpd calls neither s_access nor s_completed for a request
    //  whose head it fails to parse, and closes the connection: it is
    //  freed then
    s_conn_t *conn = s_conn_of(connection);
    if (conn) {
        s_call_free(conn->unseen);
        conn->unseen = call;
    }
    return call;
}

//  What gw_recv refused in place of this request (a head of its own) or
//  of its body, if anything: the request fails with that, in the API's
//  shape, and the connection closes. Returns true when it did.
static bool
s_wire_refused(struct MHD_Connection *connection, s_call_t *call)
{
    s_conn_t *conn = s_conn_of(connection);
    const char *message = NULL;
    const char *method = NULL;
    const char *path = NULL;
    int status = conn && conn->wire
                     ? gw_recv_refusal(conn->wire, conn->requests, &message,
                                       &method, &path)
                     : 0;
    if (!status) {
        return false;
    }
    if (!call->req) {
        call->req = gw_req_new(method ? method : "GET",
                               path && path[0] == '/' ? path : "/");
    }
    cm_log_debug("refused request", "status=%d reason=\"%s\"", status, message);
    if (status == 400) {
        gw_req_fail_invalid(call->req, message);
    } else {
        gw_req_fail(call->req, status, NULL, "%s", message);
    }
    call->close = true;
    return true;
}

//  Does the request announce a body?
static bool
s_has_body(gw_req_t *req)
{
    const char *length = gw_req_header(req, "Content-Length");
    return gw_req_header(req, "Transfer-Encoding") ||
           (length && strspn(length, "0") != strlen(length));
}

//  The client's address into the request (gw_req_peer).
static void
s_set_peer(struct MHD_Connection *connection, gw_req_t *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *addr = ci ? ci->client_addr : NULL;
    char ip[INET6_ADDRSTRLEN] = "";
    if (addr && addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, ip,
                  sizeof ip);
    } else if (addr && addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, ip,
                  sizeof ip);
    }
    gw_req_set_peer(req, ip);
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *connection, const char *url,
         const char *method, const char *version, const char *upload_data,
         size_t *upload_data_size, void **con_cls)
{
    gw_http_t *self = (gw_http_t *)cls;
    s_call_t *call = (s_call_t *)*con_cls;
    if (!call) {
        call = s_uri_log(self, NULL, connection);
        *con_cls = call;
    }
    s_conn_t *seen = s_conn_of(connection);
    if (seen && seen->unseen == call) {
        seen->unseen = NULL; //  s_completed frees it from now on
    }
    if (!call->req) {
        //  First call: the head only
        s_conn_mark(connection, S_CONN_BUSY);
        if (s_wire_refused(connection, call)) {
            return s_respond(connection, call);
        }
        char *message = NULL;
        int status = s_check_head(connection, call, method, version, &message);
        if (status) {
            //  Refused in the API's shape; the connection closes
            size_t n = strcspn(call->target, "?");
            char *raw = cm_strndup(call->target, n);
            call->req = gw_req_new(method, n && raw[0] == '/' ? raw : "/");
            free(raw);
            cm_log_debug("refused request head", "status=%d reason=\"%s\"",
                         status, message);
            if (status == 400) {
                gw_req_fail_invalid(call->req, message);
            } else {
                gw_req_fail(call->req, status, NULL, "%s", message);
            }
            free(message);
            call->close = true;
            return s_respond(connection, call);
        }
        char *path = s_clean_path(url);
        call->req = gw_req_new(method, path);
        free(path);
        s_set_peer(connection, call->req);
        MHD_get_connection_values(connection, MHD_HEADER_KIND, s_collect,
                                  call->req);
        MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, s_collect,
                                  call->req);
        s_begin(self, connection, call);
        if (gw_req_status(call->req) && s_has_body(call->req)) {
            //  Answered before reading the body: the body announced is
            //  left unread, and the connection closes.
            call->close = true;
            return s_respond(connection, call);
        }
        //  Without a body, an answer waits for libmicrohttpd's next call
        //  (a response queued now would close the connection)
        return MHD_YES;
    }
    pthread_mutex_lock(&self->lock);
    bool queued = call->queued;
    bool done = call->done;
    pthread_mutex_unlock(&self->lock);
    if (done) {
        if (call->responded) {
            return MHD_YES;
        }
        return s_respond(connection, call);
    }
    if (queued) {
        return MHD_YES; //  not expected while suspended
    }
    if (!call->refused && !call->responded) {
        //  A malformed chunked body: answered once libmicrohttpd has the
        //  end gw_recv gave it in place of the rest
        call->refused = s_wire_refused(connection, call);
    }
    gw_req_t *req = call->req;
    if (gw_req_status(req)) {
        //  Already answered (at the head, or over GATEWAY_BODY_MEMORY):
        //  discard what is still arriving, answer once it is all in.
        if (*upload_data_size || call->responded) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        return s_respond(connection, call);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (gw_req_too_large(req)) {
            return MHD_YES;
        }
        size_t have = gw_req_body_len(req);
        if (have + n > call->reserved &&
            s_reserve(self, call, have + n - call->reserved) != 0) {
            //  Over GATEWAY_BODY_MEMORY: answer 503 once the rest is in
            gw_req_set_too_large(req);
            gw_req_fail(req, 503, NULL,
                        "too many request bodies in flight; try again later");
            return MHD_YES;
        }
        gw_req_append_body(req, upload_data, n, call->body_max);
        return MHD_YES;
    }
    //  The whole body is in: charge its handler's copies, then hand it
    //  to a handler thread
    size_t cost = gw_req_body_len(req) * GW_HTTP_BODY_COST;
    if (cost > call->reserved &&
        s_reserve(self, call, cost - call->reserved) != 0) {
        gw_req_fail(req, 503, NULL,
                    "too many request bodies in flight; try again later");
        return s_respond(connection, call);
    }
    pthread_mutex_lock(&self->lock);
    bool stopping = self->stopping;
    pthread_mutex_unlock(&self->lock);
    if (stopping) {
        gw_req_fail(req, 503, NULL, "the gateway is stopping");
        call->close = true;
        return s_respond(connection, call);
    }
    MHD_suspend_connection(connection);
    pthread_mutex_lock(&self->lock);
    call->queued = true;
    if (self->queue_tail) {
        self->queue_tail->next = call;
    } else {
        self->queue_head = call;
    }
    self->queue_tail = call;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    (void)version;
    return MHD_YES;
}

static void
s_handoff(void *arg, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    gw_http_t *self = (gw_http_t *)arg;
    //  Everything libmicrohttpd reads of it is framed and judged first
    gw_recv_t *wire = gw_recv_new();
    if (gw_recv_attach(wire, fd) != 0) {
        gw_recv_destroy(&wire);
    }
    if (MHD_add_connection(self->daemon, fd, addr, addrlen) != MHD_YES) {
        //  libmicrohttpd closed it
        int err = errno;
        if (wire && gw_recv_detach(wire, fd)) {
            gw_recv_destroy(&wire);
        }
        cm_log_warn("could not serve an HTTP connection", "reason=\"%s\"",
                    strerror(err));
    }
}

gw_http_t *
gw_http_new(const gw_config_t *config, int port_override)
{
    assert(config);
    gw_http_t *self = cm_alloc(sizeof *self);
    self->config = config;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    pthread_mutex_init(&self->conns_lock, NULL);
    pthread_cond_init(&self->conns_wake, NULL);
    unsigned int flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
        MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
    self->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_access, self, MHD_OPTION_EXTERNAL_LOGGER,
        s_mhd_log, self, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)gw_config_http_threads(config),
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)gw_config_max_connections(config),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)gw_config_idle_timeout(config),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(2 * GW_FRONT_HEAD_MAX),
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_NOTIFY_CONNECTION, s_notify_connection, self,
        MHD_OPTION_URI_LOG_CALLBACK, s_uri_log, self, MHD_OPTION_END);
    if (!self->daemon) {
        cm_log_error("could not start HTTP server", "reason=\"%s\"",
                     strerror(errno));
        gw_http_destroy(&self);
        return NULL;
    }
    int rc = pthread_create(&self->sweeper, NULL, s_sweeper, self);
    assert(rc == 0);
    self->sweeping = true;
    self->thread_count = gw_config_handler_threads(config);
    self->threads = cm_alloc(sizeof(pthread_t) * (size_t)self->thread_count);
    for (int i = 0; i < self->thread_count; i++) {
        rc = pthread_create(&self->threads[i], NULL, s_handler, self);
        assert(rc == 0);
    }
    gw_limits_configure();
    if (gw_keys_start(config) != 0) {
        cm_log_warn("could not start the API key reloader");
    }
    if (gw_ratelimit_start(config) != 0) {
        cm_log_warn("could not start the rate-limit policy reloader");
    }
    self->front = gw_front_new(config, port_override, s_handoff, self);
    if (!self->front) {
        gw_http_destroy(&self);
        return NULL;
    }
    return self;
}

void
gw_http_destroy(gw_http_t **self_p)
{
    assert(self_p);
    gw_http_t *self = *self_p;
    if (!self) {
        return;
    }
    //  Stop taking connections, finish the queued requests, stop MHD
    if (self->front) {
        gw_front_stop(self->front);
    }
    pthread_mutex_lock(&self->lock);
    self->stopping = true;
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->thread_count; i++) {
        pthread_join(self->threads[i], NULL);
    }
    free(self->threads);
    if (self->sweeping) {
        pthread_mutex_lock(&self->conns_lock);
        self->sweep_stop = true;
        pthread_cond_signal(&self->conns_wake);
        pthread_mutex_unlock(&self->conns_lock);
        pthread_join(self->sweeper, NULL);
    }
    gw_keys_stop();
    gw_ratelimit_stop();
    //  Upgraded connections must be closed before the daemon stops
    gw_ws_close_all(3000);
    if (self->daemon) {
        MHD_stop_daemon(self->daemon);
    }
    gw_recv_release_all();
    gw_front_destroy(&self->front);
    pthread_cond_destroy(&self->conns_wake);
    pthread_mutex_destroy(&self->conns_lock);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int
gw_http_port(gw_http_t *self)
{
    return gw_front_port(self->front);
}

//  --------------------------------------------------------------------
//  Self test: raw HTTP/1.1 over loopback against a gateway with no store
//  and no workers.

//  Send `request` and return the whole response (the server closes).
static char *
s_exchange(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert(fd >= 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(0x7f000001);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    assert(rc == 0);
    size_t len = strlen(request);
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            break; //  the server may close early (413)
        }
        sent += (size_t)n;
    }
    size_t cap = 1 << 20;
    size_t got = 0;
    char *buf = cm_alloc(cap);
    while (got < cap - 1) {
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    buf[got] = 0;
    close(fd);
    return buf;
}

static int
s_status_of(const char *response)
{
    int status = 0;
    if (sscanf(response, "HTTP/1.1 %d", &status) != 1) {
        return -1;
    }
    return status;
}

static json_t *
s_body_of(const char *response)
{
    const char *body = strstr(response, "\r\n\r\n");
    return body ? json_loads(body + 4, JSON_DECODE_ANY, NULL) : NULL;
}

static int
s_get(int port, const char *path, const char *headers, json_t **body_p)
{
    char *req = cm_sprintf("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close"
                           "\r\n%s\r\n",
                           path, headers ? headers : "");
    char *resp = s_exchange(port, req);
    int status = s_status_of(resp);
    if (body_p) {
        *body_p = s_body_of(resp);
    }
    free(resp);
    free(req);
    return status;
}

static int
s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert(fd >= 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(0x7f000001);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    assert(rc == 0);
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

//  On a kept-alive connection: send `len` bytes of `request`, read one
//  response (head and Content-Length body). Returns its status (0 when
//  the connection closed first); *closes_p is true when it says
//  Connection: close; *resp_p (may be NULL) gets the response.
static int
s_next(int fd, const char *request, size_t len, bool *closes_p, char **resp_p)
{
    ssize_t sent = send(fd, request, len, MSG_NOSIGNAL);
    assert(sent == (ssize_t)len);
    size_t cap = 65536;
    char *buf = cm_alloc(cap + 1);
    size_t got = 0;
    size_t want = 0;
    while (got < cap && (!want || got < want)) {
        ssize_t n = recv(fd, buf + got, cap - got, 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
        buf[got] = 0;
        const char *end = strstr(buf, "\r\n\r\n");
        if (end && !want) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            want = (size_t)(end + 4 - buf) +
                   (cl && cl < end ? (size_t)atol(cl + 17) : 0);
        }
    }
    buf[got] = 0;
    const char *end = strstr(buf, "\r\n\r\n");
    const char *close = strcasestr(buf, "\r\nConnection: close");
    *closes_p = close && end && close < end;
    int status = s_status_of(buf);
    if (resp_p) {
        *resp_p = buf;
    } else {
        free(buf);
    }
    return status < 0 ? 0 : status;
}

//  A connection whose first request (checked by gw_front) was /ping,
//  kept alive.
static int
s_kept_alive(int port)
{
    int fd = s_connect(port);
    const char *ping = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
    bool closes = true;
    assert(s_next(fd, ping, strlen(ping), &closes, NULL) == 200);
    assert(!closes);
    return fd;
}

//  The second request on a kept-alive connection gets `status` in JSON,
//  with `needle` in it, and the connection closes.
static void
s_refused_later(int port, const char *request, size_t len, int status,
                const char *needle)
{
    int fd = s_kept_alive(port);
    bool closes = false;
    char *resp = NULL;
    int got = s_next(fd, request, len, &closes, &resp);
    if (got != status || !closes || !strstr(resp, "application/json") ||
        (needle && !strstr(resp, needle))) {
        fprintf(stderr, "kept-alive %.40s: got %d %s\n", request, got, resp);
        assert(false);
    }
    json_t *body = s_body_of(resp);
    assert(json_integer_value(json_object_get(body, "statusCode")) == status ||
           json_object_get(body, "error"));
    json_decref(body);
    free(resp);
    char rest[16];
    assert(recv(fd, rest, sizeof rest, 0) == 0); //  closed
    close(fd);
}

//  A kept-alive connection has GATEWAY_KEEPALIVE_TIMEOUT_MS (3 s in the
//  test) from the end of a request to send the next head: idle, or
//  trickling a head a byte at a time (which libmicrohttpd's own
//  inactivity timeout, 30 s, would let go on), it is closed then; a
//  request in time is served.
static void
s_keep_alive_timeout_test(gw_http_t *http, int port)
{
    const char *version = "GET /api/server/version HTTP/1.1\r\nHost: x\r\n"
                          "X-Api-Key: test-key\r\n\r\n";
    bool closes = true;
    //  Idle: closed after about 3 s, not before
    size_t swept = http->swept;
    int fd = s_kept_alive(port);
    int64_t start = cm_mono_ms();
    char byte;
    ssize_t n = recv(fd, &byte, 1, 0);
    int64_t took = cm_mono_ms() - start;
    if (n != 0 || took < 2900 || took > 15000) {
        fprintf(stderr, "idle kept-alive: recv %zd after %" PRId64 " ms\n", n,
                took);
        assert(false);
    }
    close(fd);
    //  A head trickled a byte every 200 ms: closed at about 3 s too
    fd = s_kept_alive(port);
    start = cm_mono_ms();
    bool cut = false;
    for (size_t i = 0; i < strlen(version) && !cut; i++) {
        cut = send(fd, version + i, 1, MSG_NOSIGNAL) != 1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (!cut && poll(&p, 1, 200) == 1) {
            cut = recv(fd, &byte, 1, 0) == 0;
        }
    }
    took = cm_mono_ms() - start;
    if (!cut || took < 2900 || took > 15000) {
        fprintf(stderr,
                "trickled kept-alive head: cut %d after %" PRId64 " ms\n", cut,
                took);
        assert(false);
    }
    close(fd);
    pthread_mutex_lock(&http->conns_lock);
    size_t now_swept = http->swept;
    pthread_mutex_unlock(&http->conns_lock);
    if (now_swept < swept + 2) {
        fprintf(stderr, "swept %zu then %zu\n", swept, now_swept);
        assert(false);
    }
    //  Requests within the time, with pauses under it: kept alive
    fd = s_kept_alive(port);
    for (int i = 0; i < 3; i++) {
        usleep(1000 * 1000);
        assert(s_next(fd, version, strlen(version), &closes, NULL) == 200);
        assert(!closes);
    }
    close(fd);
}

//  Send `request` on a kept-alive connection and read to the end: the
//  responses, in order, NUL-terminated (caller owns).
static char *
s_until_closed(int fd, const char *request, size_t len)
{
    ssize_t sent = send(fd, request, len, MSG_NOSIGNAL);
    assert(sent == (ssize_t)len);
    size_t cap = 65536;
    char *buf = cm_alloc(cap + 1);
    size_t got = 0;
    while (got < cap) {
        ssize_t n = recv(fd, buf + got, cap - got, 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    buf[got] = 0;
    return buf;
}

//  Chunked bodies, and what libmicrohttpd refused by itself in HTML
//  inside one (on any request) or as a pipelined request.
static void
s_framing_test(int port)
{
    //  A chunked body (extension, trailer) on a kept-alive connection,
    //  then another request on it
    int fd = s_kept_alive(port);
    bool closes = true;
    const char *chunked = "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                          "X-Api-Key: test-key\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n"
                          "4;x=y\r\n{\"na\r\n4\r\nme\":\r\n0\r\nX-T: 1\r\n\r\n";
    char *resp = NULL;
    assert(s_next(fd, chunked, strlen(chunked), &closes, &resp) == 400);
    assert(!closes && strstr(resp, "application/json"));
    free(resp);
    const char *ping = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
    assert(s_next(fd, ping, strlen(ping), &closes, NULL) == 200);
    assert(!closes);
    close(fd);
    //  A malformed chunked body on a first request: JSON 400, whether the
    //  bad bytes come with the head or after it was handled
    const char *head = "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                       "X-Api-Key: test-key\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    const char *bodies[] = {"5\r\nhelloXX", "zz\r\n", "5\nhello\r\n",
                            "2\r\n{}\r\n0\r\nnocolon\r\n\r\n"};
    for (size_t i = 0; i < 2 * sizeof bodies / sizeof bodies[0]; i++) {
        const char *body = bodies[i / 2];
        fd = s_connect(port);
        if (i % 2) {
            ssize_t sent = send(fd, head, strlen(head), MSG_NOSIGNAL);
            assert(sent == (ssize_t)strlen(head));
            usleep(200 * 1000);
        }
        char *request = cm_sprintf("%s%s", i % 2 ? "" : head, body);
        resp = NULL;
        int status = s_next(fd, request, strlen(request), &closes, &resp);
        if (status != 400 || !closes || !strstr(resp, "application/json") ||
            !strstr(resp, "chunked")) {
            fprintf(stderr, "chunked body %s: got %d %s\n", body, status, resp);
            assert(false);
        }
        free(resp);
        free(request);
        char rest[16];
        assert(recv(fd, rest, sizeof rest, 0) == 0); //  closed
        close(fd);
    }
    //  Pipelined, a good request then a bad one: the first is answered
    //  as usual, the second in JSON, and the connection closes
    fd = s_kept_alive(port);
    const char *pipelined = "GET /api/server/version HTTP/1.1\r\nHost: x\r\n"
                            "X-Api-Key: test-key\r\n\r\n"
                            "GET /ping HTTP/9.9\r\nHost: x\r\n\r\n";
    char *all = s_until_closed(fd, pipelined, strlen(pipelined));
    const char *second = strstr(all + 1, "HTTP/1.1 ");
    if (s_status_of(all) != 200 || !second || s_status_of(second) != 505 ||
        !strstr(second, "application/json") || !strstr(second, "HTTP/9.9")) {
        fprintf(stderr, "pipelined: %s\n", all);
        assert(false);
    }
    free(all);
    close(fd);
}

static void
s_keep_alive_test(int port)
{
    //  Several requests on one connection, taking turns
    int fd = s_kept_alive(port);
    bool closes = true;
    const char *version = "GET /api/server/version HTTP/1.1\r\nHost: x\r\n"
                          "X-Api-Key: test-key\r\n\r\n";
    for (int i = 0; i < 3; i++) {
        assert(s_next(fd, version, strlen(version), &closes, NULL) == 200);
        assert(!closes);
    }
    //  Blanks around values, LF line ends, HTTP/1.0 keep-alive: no false
    //  refusal
    const char *blanks = "GET /api/server/version HTTP/1.1\nHost:   x  \n"
                         "X-Api-Key:\t test-key\nX-Empty:\nX-E2: \t\n\n";
    assert(s_next(fd, blanks, strlen(blanks), &closes, NULL) == 200);
    assert(!closes);
    //  A small body, then a 404 and a 401 without a body: kept alive
    const char *post = "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                       "X-Api-Key: test-key\r\nContent-Length: 8\r\n\r\n"
                       "{\"name\":";
    assert(s_next(fd, post, strlen(post), &closes, NULL) == 400);
    assert(!closes);
    const char *nope = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
    assert(s_next(fd, nope, strlen(nope), &closes, NULL) == 404);
    assert(!closes);
    const char *anon = "GET /api/sessions HTTP/1.1\r\nHost: x\r\n\r\n";
    assert(s_next(fd, anon, strlen(anon), &closes, NULL) == 401);
    assert(!closes);
    close(fd);

    //  On a later request, the same refusals as on a first one
    char nul[] = "GET /api/sessions HTTP/1.1\r\nHost: x\r\n"
                 "X-Api-Key: test-key\0junk\r\n\r\n";
    s_refused_later(port, nul, sizeof nul - 1, 400, "X-Api-Key");
    char nul_last[] = "GET /api/sessions HTTP/1.1\r\nHost: x\r\n"
                      "X-Api-Key: test-key\0\r\n\r\n";
    s_refused_later(port, nul_last, sizeof nul_last - 1, 400, "X-Api-Key");
    char nul_first[] = "GET /api/sessions HTTP/1.1\r\n"
                       "X-Api-Key: test-key\0junk\r\nHost: x\r\n\r\n";
    s_refused_later(port, nul_first, sizeof nul_first - 1, 400, "X-Api-Key");
    char nul_line[] = "GET /ping\0junk HTTP/1.1\r\nHost: x\r\n\r\n";
    s_refused_later(port, nul_line, sizeof nul_line - 1, 400, "request target");
    const char *ctl = "GET /ping HTTP/1.1\r\nHost: x\r\nX-A: a\x01"
                      "b\r\n\r\n";
    s_refused_later(port, ctl, strlen(ctl), 400, "X-A");
    const char *path = "GET /api/sessions/s1%00x HTTP/1.1\r\nHost: x\r\n"
                       "X-Api-Key: test-key\r\n\r\n";
    s_refused_later(port, path, strlen(path), 400, "path");
    const char *query = "GET /api/sessions?session=a%00b HTTP/1.1\r\n"
                        "Host: x\r\nX-Api-Key: test-key\r\n\r\n";
    s_refused_later(port, query, strlen(query), 400, "session");
    const char *wawp = "GET /v2/session/info?instance_id=%00 HTTP/1.1\r\n"
                       "Host: x\r\n\r\n";
    s_refused_later(port, wawp, strlen(wawp), 400, "instance_id");
    const char *host = "GET /ping HTTP/1.1\r\n\r\n";
    s_refused_later(port, host, strlen(host), 400, "Host");
    const char *hosts = "GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
    s_refused_later(port, hosts, strlen(hosts), 400, "Host");
    const char *folded = "GET /ping HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n";
    s_refused_later(port, folded, strlen(folded), 400, "folded");
    const char *name = "GET /ping HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n";
    s_refused_later(port, name, strlen(name), 400, "header");
    const char *method = "G(T /ping HTTP/1.1\r\nHost: x\r\n\r\n";
    s_refused_later(port, method, strlen(method), 400, "request line");
    const char *spaces = "GET  /ping HTTP/1.1\r\nHost: x\r\n\r\n";
    s_refused_later(port, spaces, strlen(spaces), 400, "request line");
    const char *lengths = "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab";
    s_refused_later(port, lengths, strlen(lengths), 400, "Content-Length");
    const char *te = "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                     "Transfer-Encoding: gzip\r\n\r\n";
    s_refused_later(port, te, strlen(te), 400, "chunked");
    size_t big_len = GW_FRONT_HEAD_MAX + 2048;
    char *big = cm_alloc(big_len + 1);
    int n = snprintf(big, big_len, "GET /ping HTTP/1.1\r\nHost: x\r\nX: ");
    memset(big + n, 'a', big_len - (size_t)n - 4);
    memcpy(big + big_len - 4, "\r\n\r\n", 4);
    s_refused_later(port, big, big_len, 431, "16384");
    free(big);
    //  What libmicrohttpd 0.9.75 answered by itself with an HTML page on
    //  a later request (gw_recv refuses it before libmicrohttpd reads it)
    const char *v99 = "GET /ping HTTP/9.9\r\nHost: x\r\n\r\n";
    s_refused_later(port, v99, strlen(v99), 505, "HTTP/9.9");
    const char *colonless = "GET /ping HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n";
    s_refused_later(port, colonless, strlen(colonless), 400, "header");
    const char *length = "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 12x\r\n\r\n";
    s_refused_later(port, length, strlen(length), 400, "Content-Length");
    big_len = 33 * 1024;
    big = cm_alloc(big_len + 1);
    n = snprintf(big, big_len, "GET /ping HTTP/1.1\r\nHost: x\r\nX: ");
    memset(big + n, 'a', big_len - (size_t)n - 4);
    memcpy(big + big_len - 4, "\r\n\r\n", 4);
    s_refused_later(port, big, big_len, 431, "16384");
    free(big);
    //  A NUL as the last byte of a value, on a line ended by a bare LF
    char nul_lf[] = "GET /api/sessions HTTP/1.1\nHost: x\n"
                    "X-Api-Key: test-key\0\n\n";
    s_refused_later(port, nul_lf, sizeof nul_lf - 1, 400, "X-Api-Key");
    //  No key and a large body announced: 401 at once, the body unread
    const char *anon_body = "POST /api/sendText HTTP/1.1\r\nHost: x\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: 62914560\r\n\r\n{";
    s_refused_later(port, anon_body, strlen(anon_body), 401, "Unauthorized");
}

void
gw_http_test(bool verbose)
{
    printf(" * gw_http: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    setenv("WAHA_API_KEY", "test-key", 1);
    setenv("STORE_ENDPOINTS", "inproc://gw_http_test_store", 1);
    setenv("STORE_PUB_ENDPOINTS", "", 1);
    setenv("MEDIA_ENDPOINTS", "inproc://gw_http_test_media", 1);
    setenv("GATEWAY_WORKERS_BIND", "inproc://gw_http_test_workers", 1);
    setenv("GATEWAY_BODY_LIMIT", "1024", 1);
    setenv("GATEWAY_KEEPALIVE_TIMEOUT_MS", "3000", 1);
    gw_config_t *config = gw_config_new();
    zactor_t *core = zactor_new(gw_core_actor, config);
    char *ready = zstr_recv(core);
    assert(streq(ready, "READY"));
    zstr_free(&ready);
    gw_http_t *http = gw_http_new(config, 0);
    assert(http);
    int port = gw_http_port(http);
    assert(port > 0);

    json_t *body = NULL;
    assert(s_get(port, "/ping", NULL, &body) == 200);
    assert(streq(json_string_value(json_object_get(body, "message")), "pong"));
    json_decref(body);

    //  No key, wrong key, key in the query.
    assert(s_get(port, "/api/sessions", NULL, &body) == 401);
    assert(json_integer_value(json_object_get(body, "statusCode")) == 401);
    assert(streq(json_string_value(json_object_get(body, "message")),
                 "Unauthorized"));
    json_decref(body);
    assert(s_get(port, "/api/sessions", "X-Api-Key: nope\r\n", NULL) == 401);
    assert(s_get(port, "/api/server/version?x-api-key=test-key", NULL, NULL) ==
           200);
    assert(s_get(port, "/api/server/version", "x-api-key: test-key\r\n",
                 NULL) == 200);
    assert(s_get(port, "/v2/session/info?instance_id=X", NULL, &body) == 401);
    assert(streq(json_string_value(json_object_get(body, "error")),
                 "invalid_access_token"));
    json_decref(body);

    //  404, 405, OpenAPI without a key.
    assert(s_get(port, "/nope", NULL, &body) == 404);
    assert(
        streq(json_string_value(json_object_get(body, "error")), "Not Found"));
    json_decref(body);
    char *resp = s_exchange(port, "PATCH /api/sessions HTTP/1.1\r\nHost: x\r\n"
                                  "Connection: close\r\n\r\n");
    assert(s_status_of(resp) == 405);
    assert(strstr(resp, "Allow: GET, POST"));
    free(resp);
    assert(s_get(port, "/api/openapi.json", NULL, &body) == 200);
    assert(json_object_get(body, "paths"));
    json_decref(body);

    //  413 from Content-Length, and from a chunked body that grows.
    resp = s_exchange(port, "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                            "X-Api-Key: test-key\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: 5000\r\n\r\n{}");
    assert(s_status_of(resp) == 413);
    free(resp);
    char chunk[700];
    memset(chunk, ' ', sizeof chunk - 1);
    chunk[sizeof chunk - 1] = 0;
    char *big = cm_sprintf("POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                           "X-Api-Key: test-key\r\nConnection: close\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"
                           "%zx\r\n%s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                           strlen(chunk), chunk, strlen(chunk), chunk);
    resp = s_exchange(port, big);
    assert(s_status_of(resp) == 413);
    free(resp);
    free(big);

    //  Malformed JSON is 400 and the server keeps serving.
    resp = s_exchange(port, "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                            "X-Api-Key: test-key\r\nConnection: close\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: 8\r\n\r\n{\"name\":");
    assert(s_status_of(resp) == 400);
    free(resp);
    assert(s_get(port, "/ping", NULL, NULL) == 200);

    s_keep_alive_test(port);
    s_framing_test(port);
    s_keep_alive_timeout_test(http, port);

    //  Health: no store, no worker.
    assert(s_get(port, "/health", NULL, &body) == 503);
    assert(streq(json_string_value(json_object_get(body, "status")), "error"));
    assert(json_integer_value(json_object_get(body, "workers")) == 0);
    json_decref(body);

    zstr_send(core, "DRAIN");
    zsock_wait(core);
    gw_http_destroy(&http);
    assert(!http);
    zactor_destroy(&core);
    gw_config_destroy(&config);
    unsetenv("STORE_ENDPOINTS");
    unsetenv("STORE_PUB_ENDPOINTS");
    unsetenv("MEDIA_ENDPOINTS");
    unsetenv("GATEWAY_WORKERS_BIND");
    unsetenv("GATEWAY_BODY_LIMIT");
    unsetenv("GATEWAY_KEEPALIVE_TIMEOUT_MS");
    printf("OK\n");
}
