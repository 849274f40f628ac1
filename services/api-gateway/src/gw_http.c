/*  gw_http - the HTTP server (libmicrohttpd)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  Idle keep-alive connections are closed after this many seconds.
#define GW_HTTP_IDLE_TIMEOUT_S 120
//  Longest request path we route.
#define GW_HTTP_PATH_MAX 1024

struct _gw_http_t {
    const gw_config_t *config; //  borrowed
    struct MHD_Daemon *daemon; //  the server
    int port;                  //  bound port
};

//  Per-connection state (MHD socket context).
typedef struct {
    gw_link_t *link; //  made on the first request, in the connection thread
} s_conn_t;

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

static void
s_notify_connection(void *cls, struct MHD_Connection *connection,
                    void **socket_context,
                    enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = cm_alloc(sizeof(s_conn_t));
    } else if (*socket_context) {
        s_conn_t *conn = (s_conn_t *)*socket_context;
        gw_link_destroy(&conn->link);
        free(conn);
        *socket_context = NULL;
    }
}

static void
s_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    gw_req_t *req = (gw_req_t *)*con_cls;
    gw_req_destroy(&req);
    *con_cls = NULL;
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

static enum MHD_Result
s_respond(struct MHD_Connection *connection, gw_req_t *req, bool close)
{
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
    if (close) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    enum MHD_Result rc =
        MHD_queue_response(connection, (unsigned int)gw_req_status(req), resp);
    MHD_destroy_response(resp);
    return rc;
}

//  The connection's link to the core, made on first use.
static gw_link_t *
s_link(gw_http_t *self, struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    s_conn_t *conn = ci ? (s_conn_t *)ci->socket_context : NULL;
    assert(conn);
    if (!conn->link) {
        conn->link = gw_link_new(gw_config_core_endpoint(self->config));
    }
    return conn->link;
}

//  Authenticate for `route`. Returns 0, or -1 after a 401 response.
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
    gw_req_set_admin(req, admin);
    if (admin || (route->auth == GW_AUTH_INSTANCE && key)) {
        //  A non-admin credential on an instance route is checked by the
        //  handler against that instance's token.
        return 0;
    }
    gw_req_fail_unauthorized(req);
    return -1;
}

static void
s_dispatch(gw_http_t *self, struct MHD_Connection *connection, gw_req_t *req)
{
    if (gw_req_too_large(req)) {
        gw_req_fail(req, 413, NULL, "request body is larger than %zu bytes",
                    gw_config_body_limit(self->config));
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
    //  Parsed first: Wawp credentials may travel in the body.
    if (gw_req_parse_body(req) != 0) {
        return;
    }
    if (s_authenticate(self, req, route) != 0) {
        return;
    }
    gw_link_t *link = s_link(self, connection);
    if (!link) {
        gw_req_fail(req, 503, NULL, "too many open connections");
        return;
    }
    gw_req_set_context(req, self->config, link);
    route->handler(req);
    //  Every handler sets a response; not doing so is a bug.
    assert(gw_req_status(req) != 0);
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

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *connection, const char *url,
         const char *method, const char *version, const char *upload_data,
         size_t *upload_data_size, void **con_cls)
{
    gw_http_t *self = (gw_http_t *)cls;
    gw_req_t *req = (gw_req_t *)*con_cls;
    size_t limit = gw_config_body_limit(self->config);
    if (!req) {
        char *path = s_clean_path(url);
        req = gw_req_new(method, path);
        free(path);
        *con_cls = req;
        MHD_get_connection_values(connection, MHD_HEADER_KIND, s_collect, req);
        MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, s_collect,
                                  req);
        const char *length = gw_req_header(req, "Content-Length");
        if (length) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(length, &end, 10);
            if (errno || end == length || n > limit) {
                gw_req_set_too_large(req);
            }
        }
        if (gw_req_too_large(req) || strlen(url) > GW_HTTP_PATH_MAX) {
            //  Answer before reading the body; MHD closes the connection.
            if (gw_req_too_large(req)) {
                s_dispatch(self, connection, req);
            } else {
                gw_req_fail(req, 404, "not_found", "path too long");
            }
            return s_respond(connection, req, true);
        }
        return MHD_YES;
    }
    if (gw_req_status(req)) {
        //  Already answered; discard what is still arriving.
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        gw_req_append_body(req, upload_data, *upload_data_size, limit);
        *upload_data_size = 0;
        return MHD_YES;
    }
    int64_t started = cm_mono_ms();
    s_dispatch(self, connection, req);
    int status = gw_req_status(req);
    if (status >= 500) {
        cm_log_warn("request failed", "method=%s path=\"%s\" status=%d ms=%d",
                    gw_req_method(req), gw_req_path(req), status,
                    (int)(cm_mono_ms() - started));
    } else {
        cm_log_debug("request", "method=%s path=\"%s\" status=%d ms=%d",
                     gw_req_method(req), gw_req_path(req), status,
                     (int)(cm_mono_ms() - started));
    }
    return s_respond(connection, req, gw_req_too_large(req));
}

gw_http_t *
gw_http_new(const gw_config_t *config, int port_override)
{
    assert(config);
    int port = port_override >= 0 ? port_override : gw_config_port(config);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(gw_config_hostname(config), service, &hints, &ai);
    if (rc != 0 || !ai) {
        cm_log_error("could not resolve listen address",
                     "hostname=\"%s\" reason=\"%s\"",
                     gw_config_hostname(config), gai_strerror(rc));
        return NULL;
    }
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                         MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    gw_http_t *self = cm_alloc(sizeof *self);
    self->config = config;
    self->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, s_access, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)gw_config_max_connections(config),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)GW_HTTP_IDLE_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_NOTIFY_CONNECTION, s_notify_connection, self,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!self->daemon) {
        cm_log_error("could not start HTTP server",
                     "hostname=\"%s\" port=%d reason=\"%s\"",
                     gw_config_hostname(config), port, strerror(errno));
        free(self);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : port;
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
    MHD_stop_daemon(self->daemon);
    free(self);
    *self_p = NULL;
}

int
gw_http_port(gw_http_t *self)
{
    return self->port;
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
