/*  sim_http - a small JSON/bytes HTTP server on libmicrohttpd, driven by
    a czmq zloop (no threads)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_http.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct _sim_http_t {
    zloop_t *loop;             //  owner's loop (borrowed)
    struct MHD_Daemon *daemon; //  MHD in external epoll mode
    int epoll_fd;              //  MHD's epoll descriptor (polled)
    int timer_id;              //  pending MHD timeout timer, -1 none
    uint16_t port;             //  bound port
    size_t body_limit;         //  largest body accepted
    sim_http_fn *fn;           //  request handler
    void *arg;                 //  handler argument
};

struct _sim_http_req_t {
    struct MHD_Connection *conn; //  MHD connection (borrowed)
    char *method;                //  request method
    char *path;                  //  request path
    uint8_t *body;               //  collected body
    size_t len;                  //  bytes in body
    size_t cap;                  //  allocated bytes
    bool too_big;                //  body exceeded the limit
    bool replied;                //  a reply was queued
};

static void s_reschedule(sim_http_t *self);

static int
s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    sim_http_t *self = (sim_http_t *)arg;
    self->timer_id = -1;
    MHD_run(self->daemon);
    s_reschedule(self);
    return 0;
}

static int
s_on_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    sim_http_t *self = (sim_http_t *)arg;
    MHD_run(self->daemon);
    s_reschedule(self);
    return 0;
}

//  Keep a zloop timer for MHD's next timeout (MHD says 0 when it has
//  work pending that the epoll descriptor will not announce).
static void
s_reschedule(sim_http_t *self)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (self->timer_id != -1) {
        zloop_timer_end(self->loop, self->timer_id);
        self->timer_id = -1;
    }
    if (MHD_get_timeout(self->daemon, &ms) == MHD_YES) {
        size_t delay = ms > 60000 ? 60000 : (size_t)ms;
        self->timer_id =
            zloop_timer(self->loop, delay ? delay : 1, 1, s_on_timer, self);
    }
}

static void
s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    sim_http_req_t *req = (sim_http_req_t *)*con_cls;
    if (req) {
        free(req->method);
        free(req->path);
        free(req->body);
        free(req);
        *con_cls = NULL;
    }
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *conn, const char *url,
         const char *method, const char *version, const char *upload_data,
         size_t *upload_data_size, void **con_cls)
{
    sim_http_t *self = (sim_http_t *)cls;
    sim_http_req_t *req = (sim_http_req_t *)*con_cls;
    if (!req) {
        req = (sim_http_req_t *)cm_alloc(sizeof(sim_http_req_t));
        req->conn = conn;
        req->method = cm_strdup(method);
        req->path = cm_strdup(url);
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (req->too_big || req->len + n > self->body_limit) {
            req->too_big = true;
        } else {
            if (req->len + n > req->cap) {
                size_t cap = req->cap ? req->cap : 4096;
                while (cap < req->len + n) {
                    cap *= 2;
                }
                uint8_t *body = (uint8_t *)realloc(req->body, cap);
                if (!body) {
                    fprintf(stderr, "out of memory\n");
                    abort();
                }
                req->body = body;
                req->cap = cap;
            }
            memcpy(req->body + req->len, upload_data, n);
            req->len += n;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_big) {
        sim_http_reply_error(req, 413, "request body too large");
    } else {
        self->fn(self->arg, req);
    }
    if (!req->replied) {
        sim_http_reply_error(req, 500, "no reply");
    }
    return MHD_YES;
}

sim_http_t *
sim_http_new(zloop_t *loop, const char *bind, uint16_t port, size_t body_limit,
             sim_http_fn *fn, void *arg)
{
    return sim_http_new_tls(loop, bind, port, body_limit, NULL, NULL, fn, arg);
}

sim_http_t *
sim_http_new_tls(zloop_t *loop, const char *bind, uint16_t port,
                 size_t body_limit, const char *cert_pem, const char *key_pem,
                 sim_http_fn *fn, void *arg)
{
    assert(loop);
    assert(fn);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, bind ? bind : "127.0.0.1", &addr.sin_addr) != 1) {
        cm_log_error("could not parse bind address", "bind=\"%s\"", bind);
        return NULL;
    }
    sim_http_t *self = (sim_http_t *)cm_alloc(sizeof(sim_http_t));
    self->loop = loop;
    self->fn = fn;
    self->arg = arg;
    self->body_limit = body_limit;
    self->timer_id = -1;
    if (cert_pem && key_pem) {
        self->daemon = MHD_start_daemon(
            MHD_USE_EPOLL | MHD_USE_TLS, port, NULL, NULL, s_access, self,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
            MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
            key_pem, MHD_OPTION_END);
    } else {
        self->daemon = MHD_start_daemon(
            MHD_USE_EPOLL, port, NULL, NULL, s_access, self,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_END);
    }
    if (!self->daemon) {
        cm_log_error("could not start HTTP server", "bind=\"%s\" port=%u", bind,
                     (unsigned)port);
        free(self);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : port;
    info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    assert(info);
    self->epoll_fd = info->epoll_fd;
    zmq_pollitem_t item = {NULL, self->epoll_fd, ZMQ_POLLIN, 0};
    if (zloop_poller(loop, &item, s_on_readable, self)) {
        cm_log_error("could not poll HTTP server");
        MHD_stop_daemon(self->daemon);
        free(self);
        return NULL;
    }
    s_reschedule(self);
    return self;
}

void
sim_http_destroy(sim_http_t **self_p)
{
    assert(self_p);
    sim_http_t *self = *self_p;
    if (self) {
        zmq_pollitem_t item = {NULL, self->epoll_fd, ZMQ_POLLIN, 0};
        zloop_poller_end(self->loop, &item);
        if (self->timer_id != -1) {
            zloop_timer_end(self->loop, self->timer_id);
        }
        MHD_stop_daemon(self->daemon);
        free(self);
        *self_p = NULL;
    }
}

uint16_t
sim_http_port(sim_http_t *self)
{
    assert(self);
    return self->port;
}

const char *
sim_http_method(sim_http_req_t *req)
{
    assert(req);
    return req->method;
}

const char *
sim_http_path(sim_http_req_t *req)
{
    assert(req);
    return req->path;
}

const uint8_t *
sim_http_body(sim_http_req_t *req, size_t *len_p)
{
    assert(req);
    if (len_p) {
        *len_p = req->len;
    }
    return req->body;
}

const char *
sim_http_arg(sim_http_req_t *req, const char *name)
{
    assert(req);
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
sim_http_header(sim_http_req_t *req, const char *name)
{
    assert(req);
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

json_t *
sim_http_json(sim_http_req_t *req)
{
    assert(req);
    if (req->len == 0) {
        return json_object();
    }
    json_error_t err;
    json_t *doc = json_loadb((const char *)req->body, req->len, 0, &err);
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

void
sim_http_reply_bytes(sim_http_req_t *req, int status, const char *content_type,
                     const void *data, size_t len)
{
    assert(req);
    assert(!req->replied);
    req->replied = true;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp) {
        cm_log_error("could not create HTTP response");
        return;
    }
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    if (MHD_queue_response(req->conn, (unsigned)status, resp) != MHD_YES) {
        cm_log_warn("could not queue HTTP response");
    }
    MHD_destroy_response(resp);
}

void
sim_http_reply_json(sim_http_req_t *req, int status, json_t **body_p)
{
    assert(req);
    assert(body_p && *body_p);
    char *text = json_dumps(*body_p, JSON_COMPACT);
    json_decref(*body_p);
    *body_p = NULL;
    assert(text);
    size_t len = strlen(text);
    text[len] = 0;
    char *line = cm_sprintf("%s\n", text);
    free(text);
    sim_http_reply_bytes(req, status, "application/json", line, strlen(line));
    free(line);
}

void
sim_http_reply_error(sim_http_req_t *req, int status, const char *reason)
{
    json_t *body = json_pack("{s:s, s:i}", "error", reason, "status", status);
    sim_http_reply_json(req, status, &body);
}

//  Self test: a real request over loopback with a blocking client in a
//  child process would need threads; instead talk HTTP over a plain
//  socket while stepping the loop by hand.

static void
s_test_handler(void *arg, sim_http_req_t *req)
{
    int *calls = (int *)arg;
    (*calls)++;
    if (cm_streq(sim_http_path(req), "/echo")) {
        json_t *in = sim_http_json(req);
        if (!in) {
            sim_http_reply_error(req, 400, "bad json");
            return;
        }
        json_object_set_new(
            in, "q",
            json_string(sim_http_arg(req, "q") ? sim_http_arg(req, "q") : ""));
        sim_http_reply_json(req, 200, &in);
        return;
    }
    sim_http_reply_error(req, 404, "not found");
}

static int
s_test_stop(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

//  Send a raw request over loopback and step the loop until the server
//  closes the connection; the reply text lands in buf.
static void
s_test_request(zloop_t *loop, uint16_t port, const char *request, char *buf,
               size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert(fd >= 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    assert(rc == 0);
    ssize_t sent = send(fd, request, strlen(request), 0);
    assert(sent == (ssize_t)strlen(request));
    size_t len = 0;
    int64_t deadline = cm_mono_ms() + 5000;
    while (cm_mono_ms() < deadline) {
        int timer = zloop_timer(loop, 20, 1, s_test_stop, NULL);
        zloop_start(loop);
        zloop_timer_end(loop, timer);
        ssize_t n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
        if (n > 0) {
            len += (size_t)n;
        } else if (n == 0) {
            break;
        }
    }
    close(fd);
    buf[len] = 0;
}

void
sim_http_test(bool verbose)
{
    printf(" * sim_http: ");
    zloop_t *loop = zloop_new();
    int calls = 0;
    sim_http_t *http =
        sim_http_new(loop, "127.0.0.1", 0, 64, s_test_handler, &calls);
    assert(http);
    uint16_t port = sim_http_port(http);
    assert(port > 0);
    assert(!sim_http_new(loop, "not-an-ip", 0, 64, s_test_handler, &calls));

    char buf[4096];
    s_test_request(loop, port,
                   "POST /echo?q=hi HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\nContent-Length: 9\r\n\r\n"
                   "{\"a\": 1}\n",
                   buf, sizeof buf);
    assert(strstr(buf, "HTTP/1.1 200"));
    assert(strstr(buf, "application/json"));
    assert(strstr(buf, "\"a\":1"));
    assert(strstr(buf, "\"q\":\"hi\""));
    assert(calls == 1);

    s_test_request(loop, port,
                   "POST /echo HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\nContent-Length: 3\r\n\r\n[1]",
                   buf, sizeof buf);
    assert(strstr(buf, "HTTP/1.1 400"));
    assert(calls == 2);

    //  Too large a body gives 413 without calling the handler.
    s_test_request(loop, port,
                   "POST /echo HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\nContent-Length: 100\r\n\r\n"
                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                   buf, sizeof buf);
    assert(strstr(buf, "HTTP/1.1 413"));
    assert(calls == 2);

    sim_http_destroy(&http);
    assert(!http);
    zloop_destroy(&loop);
    printf("OK\n");
}
