/*  gw_http - the HTTP server (libmicrohttpd)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

#include <malloc.h>
#include <pthread.h>

//  Longest request path we route.
#define GW_HTTP_PATH_MAX 1024
//  Largest body read before the caller is known: a Wawp request whose
//  credential can only be in its body.
#define GW_HTTP_ANON_BODY_MAX 1048576

//  One request, from its head to its response (MHD's con_cls).
typedef struct s_call {
    struct s_call *next;               //  in the handler queue
    struct MHD_Connection *connection; //  its connection
    gw_req_t *req;                     //  the request and its response
    const gw_route_t *route;           //  matched route, or NULL
    size_t body_max;                   //  this request's body limit
    size_t reserved;                   //  bytes of GATEWAY_BODY_MEMORY held
    bool credential_in_body;           //  Wawp: no credential in the head
    char *slot;                        //  the key's concurrency slot, or NULL
    bool queued;                       //  given to a handler thread
    bool done;                         //  the handler answered
    bool responded;                    //  the response is queued
} s_call_t;

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
};

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
    } else {
        gw_front_closed(self->front, addr);
    }
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
    s_call_t *call = (s_call_t *)*con_cls;
    if (!call) {
        return;
    }
    bool big = gw_req_body_len(call->req) >= 1048576;
    pthread_mutex_lock(&self->lock);
    self->body_bytes -= call->reserved;
    pthread_mutex_unlock(&self->lock);
    gw_limits_leave(&call->slot);
    gw_req_destroy(&call->req);
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

//  Queue the response. Every response closes its connection: each
//  request's head then passes gw_front's checks.
static enum MHD_Result
s_respond(struct MHD_Connection *connection, gw_req_t *req)
{
    gw_metrics_http(gw_req_method(req), gw_req_path(req), gw_req_status(req),
                    gw_req_age_us(req));
    if (gw_req_upgrading(req)) {
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
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
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
    if (declared && s_reserve(self, call, (size_t)declared) != 0) {
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
                    gw_req_method(req), gw_req_path(req), status,
                    (int)(cm_mono_ms() - started));
    } else {
        cm_log_debug("request", "method=%s path=\"%s\" status=%d ms=%d",
                     gw_req_method(req), gw_req_path(req), status,
                     (int)(cm_mono_ms() - started));
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

//  Queue the call's response: its key's concurrency slot is free from
//  here (a /ws connection does not hold one for its whole life).
static enum MHD_Result
s_respond_call(struct MHD_Connection *connection, s_call_t *call)
{
    gw_limits_leave(&call->slot);
    return s_respond(connection, call->req);
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *connection, const char *url,
         const char *method, const char *version, const char *upload_data,
         size_t *upload_data_size, void **con_cls)
{
    gw_http_t *self = (gw_http_t *)cls;
    s_call_t *call = (s_call_t *)*con_cls;
    if (!call) {
        //  First call: the head only
        call = cm_alloc(sizeof *call);
        call->connection = connection;
        char *path = s_clean_path(url);
        call->req = gw_req_new(method, path);
        free(path);
        *con_cls = call;
        MHD_get_connection_values(connection, MHD_HEADER_KIND, s_collect,
                                  call->req);
        MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, s_collect,
                                  call->req);
        s_begin(self, connection, call);
        if (gw_req_status(call->req)) {
            //  Answered before reading the body; the connection closes.
            call->responded = true;
            return s_respond_call(connection, call);
        }
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
        call->responded = true;
        return s_respond_call(connection, call);
    }
    if (queued) {
        return MHD_YES; //  not expected while suspended
    }
    gw_req_t *req = call->req;
    if (gw_req_status(req)) {
        //  Already answered (at the head, or over GATEWAY_BODY_MEMORY):
        //  discard what is still arriving, answer once it is all in.
        if (*upload_data_size || call->responded) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        call->responded = true;
        return s_respond_call(connection, call);
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
    //  The whole body is in: hand it to a handler thread
    pthread_mutex_lock(&self->lock);
    bool stopping = self->stopping;
    pthread_mutex_unlock(&self->lock);
    if (stopping) {
        gw_req_fail(req, 503, NULL, "the gateway is stopping");
        call->responded = true;
        return s_respond_call(connection, call);
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
    if (MHD_add_connection(self->daemon, fd, addr, addrlen) != MHD_YES) {
        //  libmicrohttpd closed it
        cm_log_warn("could not serve an HTTP connection", "reason=\"%s\"",
                    strerror(errno));
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
        MHD_OPTION_END);
    if (!self->daemon) {
        cm_log_error("could not start HTTP server", "reason=\"%s\"",
                     strerror(errno));
        gw_http_destroy(&self);
        return NULL;
    }
    self->thread_count = gw_config_handler_threads(config);
    self->threads = cm_alloc(sizeof(pthread_t) * (size_t)self->thread_count);
    for (int i = 0; i < self->thread_count; i++) {
        int rc = pthread_create(&self->threads[i], NULL, s_handler, self);
        assert(rc == 0);
    }
    gw_limits_configure();
    if (gw_keys_start(config) != 0) {
        cm_log_warn("could not start the API key reloader");
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
    gw_keys_stop();
    //  Upgraded connections must be closed before the daemon stops
    gw_ws_close_all(3000);
    if (self->daemon) {
        MHD_stop_daemon(self->daemon);
    }
    gw_front_destroy(&self->front);
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
    printf("OK\n");
}
