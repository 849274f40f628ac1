/*  gw_front - the gateway's HTTP/1.1 server: connections, request
    heads and bodies, responses

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE //  accept4
#endif
#include "gw_classes.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

//  Events taken per epoll_wait.
#define S_EVENTS 256
//  Bytes of a refused connection's input read before closing, so the
//  close does not reset the connection under the answer.
#define S_DRAIN_MAX 65536
//  A connection's input buffer: first size, and size while reading a
//  body.
#define S_IN_FIRST 1024
#define S_IN_BODY 16384
//  Longest chunk-size line and chunked trailer.
#define S_CHUNK_LINE_MAX 1024
//  Body bytes dropped after an answer before the connection is closed
//  instead.
#define S_DROP_MAX (64 * 1048576)
//  After a closing answer, input is read and dropped this long (ms) so
//  the answer is not lost to a reset.
#define S_LINGER_MS 2000
//  Steps taken for one connection in a row before the others get a
//  turn.
#define S_TURNS 256

//  What a connection is doing.
typedef enum {
    S_HEAD,   //  waiting for a request head
    S_BODY,   //  reading the request's body
    S_RUN,    //  the request is with ops->run
    S_WRITE,  //  writing the response
    S_LINGER, //  answered and closing: dropping input until EOF
    S_DEAD    //  closed; freed after the current batch of events
} s_state_t;

//  Where a chunked body's parser is.
typedef enum {
    S_CHUNK_SIZE,   //  chunk-size line
    S_CHUNK_DATA,   //  chunk data
    S_CHUNK_END,    //  CRLF after the data
    S_CHUNK_TRAILER //  trailer lines up to the empty line
} s_chunk_t;

//  Timer lists. Within a list every deadline is set with the same
//  timeout, so appending keeps it in deadline order.
enum {
    S_LIST_NONE,   //  no timer (S_RUN)
    S_LIST_HEAD,   //  GATEWAY_HEADER_TIMEOUT_MS for the whole head
    S_LIST_IDLE,   //  GATEWAY_IDLE_TIMEOUT_S without progress
    S_LIST_LINGER, //  S_LINGER_MS
    S_LISTS
};

//  Step results.
typedef enum {
    S_AGAIN, //  progress: step again
    S_WAIT,  //  wait for the socket (or for ops->run)
    S_GONE   //  the connection is closed or handed over
} s_step_t;

typedef struct s_loop s_loop_t;

typedef struct s_conn {
    struct s_conn *prev, *next;         //  in its timer list
    struct s_conn *all_prev, *all_next; //  in its loop's connections
    struct s_conn *done_next;           //  in its loop's answered queue
    struct s_conn *ready_next;          //  in its loop's ready list
    bool ready;                         //  in the ready list
    struct s_conn *dead_next;           //  in its loop's dead list
    s_loop_t *loop;
    int list;
    int64_t deadline; //  monotonic ms
    int fd;
    char ip[INET6_ADDRSTRLEN];
    s_state_t state;
    char *in; //  bytes read and not yet used
    size_t in_len, in_cap;
    size_t scan; //  head end searched up to here
    //  The request
    gw_req_t *req;
    void *call;       //  ops' context, or NULL (refused by the front)
    size_t body_len;  //  body bytes taken, dropped ones included
    uint64_t left;    //  Content-Length bytes, or chunk bytes, to come
    bool chunked;     //  Transfer-Encoding: chunked
    s_chunk_t chunk;  //  chunked parser state
    size_t trailer;   //  trailer bytes so far
    bool drop;        //  answered: the rest of the body is dropped
    bool close_after; //  close once the response is out
    bool head_only;   //  HEAD: no response body
    bool upgrade;     //  a 101: hand the socket over once it is out
    //  The response
    char *out;
    size_t out_len, out_off;
    size_t lingered; //  bytes dropped while lingering
} s_conn_t;

struct s_loop {
    gw_front_t *front;
    pthread_t thread;
    int epoll_fd;
    int wake_fd; //  eventfd: answers, stop
    bool stop;   //  set by gw_front_stop (under lock)
    struct {
        s_conn_t *head, *tail;
    } lists[S_LISTS];
    s_conn_t *all;        //  every connection of this loop
    s_conn_t *ready;      //  connections that yielded their turn
    s_conn_t *dead;       //  closed, to free after the batch
    pthread_mutex_t lock; //  guards stop and the answered queue
    s_conn_t *done_head, *done_tail;
};

//  An upgraded connection's handle.
typedef struct {
    gw_front_t *front;
    int fd;
    char ip[INET6_ADDRSTRLEN];
} s_upgraded_t;

struct _gw_front_t {
    const gw_config_t *config; //  borrowed
    gw_front_ops_t ops;
    void *arg;
    int listen_fd;
    int port;
    s_loop_t *loops;
    int loop_count;
    bool running;
    pthread_mutex_t lock; //  guards ips and total
    zhashx_t *ips;        //  address -> connections (uintptr_t)
    size_t total;         //  connections open
};

//  Marks for epoll data of the listening socket and the eventfd.
static char s_listen_mark, s_wake_mark;

//  --------------------------------------------------------------------
//  Head checks

static bool
s_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

//  Decode %XX in s[0..n) and report the first control byte it yields
//  (allowing TAB, LF and CR when `text`), or -1. '+' is a space when
//  `plus`.
static int
s_encoded_control(const char *s, size_t n, bool text)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && cm_hex_digit(s[i + 1]) >= 0 &&
            cm_hex_digit(s[i + 2]) >= 0) {
            c = cm_hex_digit(s[i + 1]) * 16 + cm_hex_digit(s[i + 2]);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f) {
            if (!(text && (c == '\t' || c == '\n' || c == '\r'))) {
                return c;
            }
        }
    }
    return -1;
}

//  Check the request target: path and query. Returns 0 or 400 with
//  *message_p set.
static int
s_check_target(const char *t, size_t n, char **message_p)
{
    const char *q = memchr(t, '?', n);
    size_t path_len = q ? (size_t)(q - t) : n;
    if (s_encoded_control(t, path_len, false) >= 0) {
        *message_p = cm_strdup("the path must not contain control "
                               "characters (such as %00)");
        return 400;
    }
    if (!q) {
        return 0;
    }
    const char *p = q + 1;
    const char *end = t + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *name_end = eq ? eq : stop;
        bool bad = s_encoded_control(p, (size_t)(name_end - p), false) >= 0;
        if (!bad && eq) {
            bad = s_encoded_control(eq + 1, (size_t)(stop - eq - 1), true) >= 0;
        }
        if (bad) {
            //  Name the parameter (raw, cut short) when it is printable
            size_t nl = (size_t)(name_end - p);
            bool printable = nl > 0 && nl <= 64 &&
                             s_encoded_control(p, nl, false) < 0 &&
                             !memchr(p, '%', nl);
            *message_p =
                printable
                    ? cm_sprintf("query parameter %.*s must not contain "
                                 "control characters",
                                 (int)nl, p)
                    : cm_strdup("query parameters must not contain control "
                                "characters");
            return 400;
        }
        p = stop + 1;
    }
    return 0;
}

int
gw_front_check_head(const char *head, size_t len, char **method_p,
                    char **path_p, char **message_p)
{
    assert(head && method_p && path_p && message_p);
    *method_p = NULL;
    *path_p = NULL;
    *message_p = NULL;
    const char *p = head;
    const char *end = head + len;
    while (p < end && (*p == '\r' || *p == '\n')) {
        p++; //  empty lines before the request line are allowed
    }
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) {
        *message_p = cm_strdup("malformed request line");
        return 400;
    }
    size_t line_len = (size_t)(eol - p);
    if (line_len && p[line_len - 1] == '\r') {
        line_len--;
    }
    //  METHOD SP target SP HTTP/x.y
    const char *sp1 = memchr(p, ' ', line_len);
    const char *sp2 =
        sp1 ? memchr(sp1 + 1, ' ', (size_t)(p + line_len - sp1 - 1)) : NULL;
    size_t method_len = sp1 ? (size_t)(sp1 - p) : 0;
    for (size_t i = 0; i < method_len; i++) {
        if (!s_tchar((unsigned char)p[i])) {
            method_len = 0;
        }
    }
    if (method_len == 0 || method_len > 16 || !sp2) {
        *message_p = cm_strdup("malformed request line");
        return 400;
    }
    *method_p = cm_strndup(p, method_len);
    const char *target = sp1 + 1;
    size_t target_len = (size_t)(sp2 - target);
    const char *version = sp2 + 1;
    size_t version_len = (size_t)(p + line_len - version);
    if (target_len == 0 || target_len > GW_FRONT_TARGET_MAX) {
        *message_p = cm_sprintf("the request target must be 1 to %d bytes",
                                GW_FRONT_TARGET_MAX);
        return target_len ? 414 : 400;
    }
    const char *q = memchr(target, '?', target_len);
    *path_p = cm_strndup(target, q ? (size_t)(q - target) : target_len);
    for (size_t i = 0; i < target_len; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c <= 0x20 || c == 0x7f) {
            *message_p = cm_strdup("the request target must not contain "
                                   "spaces or control characters");
            return 400;
        }
    }
    bool http11 = version_len == 8 && !memcmp(version, "HTTP/1.1", 8);
    bool http10 = version_len == 8 && !memcmp(version, "HTTP/1.0", 8);
    if (!http11 && !http10) {
        *message_p =
            cm_sprintf("HTTP version %.*s is not supported; use HTTP/1.1",
                       (int)(version_len > 16 ? 16 : version_len), version);
        bool looks = version_len >= 5 && !memcmp(version, "HTTP/", 5);
        return looks ? 505 : 400;
    }
    if (target[0] != '/') {
        *message_p = cm_strdup("the request target must be a path "
                               "starting with /");
        return 400;
    }
    int rc = s_check_target(target, target_len, message_p);
    if (rc) {
        return rc;
    }
    //  Header lines
    int hosts = 0;
    const char *length = NULL;
    size_t length_len = 0;
    bool chunked = false;
    bool te = false;
    p = eol + 1;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) {
            break;
        }
        line_len = (size_t)(eol - p);
        if (line_len && p[line_len - 1] == '\r') {
            line_len--;
        }
        if (line_len == 0) {
            break; //  end of the head
        }
        if (*p == ' ' || *p == '\t') {
            *message_p = cm_strdup("folded header lines are not supported");
            return 400;
        }
        const char *colon = memchr(p, ':', line_len);
        size_t name_len = colon ? (size_t)(colon - p) : 0;
        for (size_t i = 0; i < name_len; i++) {
            if (!s_tchar((unsigned char)p[i])) {
                name_len = 0;
            }
        }
        if (name_len == 0) {
            *message_p = cm_strdup("malformed header line");
            return 400;
        }
        const char *v = colon + 1;
        const char *vend = p + line_len;
        while (v < vend && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
            vend--;
        }
        for (const char *c = v; c < vend; c++) {
            unsigned char b = (unsigned char)*c;
            if ((b < 0x20 && b != '\t') || b == 0x7f) {
                *message_p =
                    cm_sprintf("header %.*s must not contain "
                               "control characters",
                               (int)(name_len > 64 ? 64 : name_len), p);
                return 400;
            }
        }
        size_t vlen = (size_t)(vend - v);
        if (name_len == 4 && !strncasecmp(p, "host", 4)) {
            hosts++;
        } else if (name_len == 14 && !strncasecmp(p, "content-length", 14)) {
            bool digits = vlen > 0 && vlen <= 18;
            for (size_t i = 0; i < vlen && digits; i++) {
                digits = isdigit((unsigned char)v[i]);
            }
            if (!digits || (length && (length_len != vlen ||
                                       memcmp(length, v, vlen) != 0))) {
                *message_p = cm_strdup("Content-Length must be one decimal "
                                       "number of at most 18 digits");
                return 400;
            }
            length = v;
            length_len = vlen;
        } else if (name_len == 17 && !strncasecmp(p, "transfer-encoding", 17)) {
            te = true;
            chunked = vlen == 7 && !strncasecmp(v, "chunked", 7);
        }
        p = eol + 1;
    }
    if (te && (!chunked || length)) {
        *message_p = cm_strdup("Transfer-Encoding must be chunked alone, "
                               "without Content-Length");
        return 400;
    }
    if (http11 && hosts != 1) {
        *message_p = cm_strdup("an HTTP/1.1 request needs one Host header");
        return 400;
    }
    return 0;
}

//  --------------------------------------------------------------------
//  Connections

static void
s_count(gw_front_t *self, const char *ip, int delta)
{
    pthread_mutex_lock(&self->lock);
    uintptr_t n = (uintptr_t)zhashx_lookup(self->ips, ip);
    if (delta > 0) {
        n++;
        self->total++;
    } else {
        if (n) {
            n--;
        }
        if (self->total) {
            self->total--;
        }
    }
    if (n) {
        zhashx_update(self->ips, ip, (void *)n);
    } else {
        zhashx_delete(self->ips, ip);
    }
    pthread_mutex_unlock(&self->lock);
}

static void
s_ip_of(const struct sockaddr *addr, char *ip, size_t size)
{
    ip[0] = 0;
    if (addr && addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, ip,
                  (socklen_t)size);
    } else if (addr && addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, ip,
                  (socklen_t)size);
    }
}

size_t
gw_front_connections(gw_front_t *self)
{
    pthread_mutex_lock(&self->lock);
    size_t n = self->total;
    pthread_mutex_unlock(&self->lock);
    return n;
}

//  Answer `status` in the API's error shape on a connection we do not
//  serve (over a connection limit) and close `fd`.
static void
s_refuse(int fd, int status, const char *message)
{
    gw_req_t *req = gw_req_new("GET", "/");
    gw_req_fail(req, status, NULL, "%s", message);
    size_t len = 0;
    char *body = gw_req_take_response(req, &len);
    char *text = cm_sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json; "
                            "charset=utf-8\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n%s",
                            status, gw_req_reason_phrase(status), len, body);
    free(body);
    gw_req_destroy(&req);
    //  Small enough for the socket's send buffer: one try, no waiting
    ssize_t rc = send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)rc;
    free(text);
    //  Read what the client sent so the close sends FIN, not RST
    char buf[4096];
    size_t drained = 0;
    while (drained < S_DRAIN_MAX) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
        drained += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    close(fd);
}

//  Timer lists

static void
s_unlist(s_conn_t *c)
{
    if (c->list == S_LIST_NONE) {
        return;
    }
    s_loop_t *loop = c->loop;
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        loop->lists[c->list].head = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    } else {
        loop->lists[c->list].tail = c->prev;
    }
    c->prev = c->next = NULL;
    c->list = S_LIST_NONE;
}

//  Put `c` at the end of `list` with a fresh deadline.
static void
s_list(s_conn_t *c, int list)
{
    s_unlist(c);
    const gw_config_t *config = c->loop->front->config;
    int64_t timeout = list == S_LIST_HEAD ? gw_config_header_timeout(config)
                      : list == S_LIST_IDLE
                          ? (int64_t)gw_config_idle_timeout(config) * 1000
                          : S_LINGER_MS;
    c->deadline = cm_mono_ms() + timeout;
    if (list == S_LIST_NONE) {
        return;
    }
    s_loop_t *loop = c->loop;
    c->list = list;
    c->prev = loop->lists[list].tail;
    c->next = NULL;
    if (c->prev) {
        c->prev->next = c;
    } else {
        loop->lists[list].head = c;
    }
    loop->lists[list].tail = c;
}

//  Progress on a body or a response: the idle timer starts again.
static void
s_touch(s_conn_t *c)
{
    if (c->list == S_LIST_IDLE && c->next) {
        s_list(c, S_LIST_IDLE);
    } else if (c->list == S_LIST_IDLE) {
        c->deadline =
            cm_mono_ms() +
            (int64_t)gw_config_idle_timeout(c->loop->front->config) * 1000;
    }
}

//  The request is over: ops->end, and the request freed.
static void
s_end_request(s_conn_t *c)
{
    gw_front_t *front = c->loop->front;
    if (c->req && c->call) {
        front->ops.end(front->arg, c->call, c->req);
    }
    c->call = NULL;
    gw_req_destroy(&c->req);
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    c->body_len = 0;
    c->left = 0;
    c->chunked = c->drop = c->head_only = c->upgrade = false;
    c->chunk = S_CHUNK_SIZE;
    c->trailer = 0;
}

//  Forget `c` (out of epoll, lists and accounting) and free it. The
//  socket is the caller's.
static void
s_forget(s_conn_t *c)
{
    s_loop_t *loop = c->loop;
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    s_unlist(c);
    if (c->ready) {
        s_conn_t **p = &loop->ready;
        while (*p != c) {
            p = &(*p)->ready_next;
        }
        *p = c->ready_next;
    }
    if (c->all_prev) {
        c->all_prev->all_next = c->all_next;
    } else {
        loop->all = c->all_next;
    }
    if (c->all_next) {
        c->all_next->all_prev = c->all_prev;
    }
    s_end_request(c);
    free(c->in);
    c->in = NULL;
    //  Later events of the same batch may still name it: freed by s_reap
    c->state = S_DEAD;
    c->dead_next = loop->dead;
    loop->dead = c;
}

//  Free the connections closed since the last call.
static void
s_reap(s_loop_t *loop)
{
    while (loop->dead) {
        s_conn_t *c = loop->dead;
        loop->dead = c->dead_next;
        free(c);
    }
}

static void
s_close(s_conn_t *c)
{
    gw_front_t *front = c->loop->front;
    int fd = c->fd;
    s_count(front, c->ip, -1);
    s_forget(c);
    close(fd);
}

//  Make room in the input buffer, at most `max` bytes in all (a head
//  grows it by doubling; a body gets `max` at once). Returns the bytes
//  free.
static size_t
s_room(s_conn_t *c, size_t max)
{
    if (c->in_cap < max && (max == S_IN_BODY || c->in_cap - c->in_len < 512)) {
        size_t cap = c->in_cap ? c->in_cap * 2 : S_IN_FIRST;
        if (max == S_IN_BODY || cap > max) {
            cap = max;
        }
        char *grown = realloc(c->in, cap);
        assert(grown);
        c->in = grown;
        c->in_cap = cap;
    }
    return c->in_cap - c->in_len;
}

//  Read what the socket has into the input buffer (at most `max`
//  buffered). S_AGAIN when bytes came, S_WAIT when none yet, S_GONE when
//  the peer closed or failed (the connection is closed).
static s_step_t
s_read(s_conn_t *c, size_t max)
{
    size_t room = s_room(c, max);
    if (room == 0) {
        return S_WAIT; //  the caller handles a full buffer
    }
    while (true) {
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            return S_AGAIN;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return S_WAIT;
        }
        s_close(c);
        return S_GONE;
    }
}

//  Drop the first `n` input bytes.
static void
s_consume(s_conn_t *c, size_t n)
{
    assert(n <= c->in_len);
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    c->scan = 0;
}

//  Responses

//  Queue `req`'s response for writing.
static void
s_respond(s_conn_t *c)
{
    gw_req_t *req = c->req;
    int status = gw_req_status(req);
    assert(status);
    if (c->call) {
        gw_metrics_http(gw_req_method(req), gw_req_path(req), status,
                        gw_req_age_us(req));
    }
    zchunk_t *head = zchunk_new(NULL, 512);
    size_t len = 0;
    char *body = NULL;
    if (status == 101 && gw_req_upgrading(req)) {
        c->upgrade = true;
        const char *line = "HTTP/1.1 101 Switching Protocols\r\n"
                           "Connection: Upgrade\r\n";
        zchunk_extend(head, line, strlen(line));
    } else {
        body = gw_req_take_response(req, &len);
        const char *type = gw_req_content_type(req)
                               ? gw_req_content_type(req)
                               : "application/json; charset=utf-8";
        char *line =
            cm_sprintf("HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                       "Content-Length: %zu\r\n",
                       status, gw_req_reason_phrase(status), type, len);
        zchunk_extend(head, line, strlen(line));
        free(line);
        if (gw_req_allow(req)) {
            line = cm_sprintf("Allow: %s\r\n", gw_req_allow(req));
            zchunk_extend(head, line, strlen(line));
            free(line);
        }
    }
    const char *name;
    json_t *value;
    json_object_foreach(gw_req_response_headers(req), name, value)
    {
        char *line = cm_sprintf("%s: %s\r\n", name, json_string_value(value));
        zchunk_extend(head, line, strlen(line));
        free(line);
    }
    if (c->close_after && !c->upgrade) {
        zchunk_extend(head, "Connection: close\r\n", 19);
    }
    zchunk_extend(head, "\r\n", 2);
    size_t head_len = zchunk_size(head);
    size_t body_len = c->head_only ? 0 : len;
    c->out = cm_alloc(head_len + body_len + 1);
    memcpy(c->out, zchunk_data(head), head_len);
    if (body_len) {
        memcpy(c->out + head_len, body, body_len);
    }
    c->out_len = head_len + body_len;
    c->out_off = 0;
    zchunk_destroy(&head);
    free(body);
    c->state = S_WRITE;
    s_list(c, S_LIST_IDLE);
}

//  Answer with an error from the front itself and close after. A
//  request the head check refused has no `req` yet: it gets one for the
//  error's shape (from `method` and `path`, either may be NULL).
static void
s_fail(s_conn_t *c, int status, const char *method, const char *path,
       const char *message)
{
    if (!c->req) {
        c->req = gw_req_new(method ? method : "GET", path ? path : "/");
    }
    if (status == 400) {
        gw_req_fail_invalid(c->req, message);
    } else {
        gw_req_fail(c->req, status, NULL, "%s", message);
    }
    c->close_after = true;
    c->head_only = false;
    s_respond(c);
}

//  Request heads

//  Decode %XX (and '+' as a space when `plus`) from s[0..n). Caller owns
//  return value.
static char *
s_decode(const char *s, size_t n, bool plus)
{
    char *out = cm_alloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && cm_hex_digit(s[i + 1]) >= 0 &&
            cm_hex_digit(s[i + 2]) >= 0) {
            out[o++] =
                (char)(cm_hex_digit(s[i + 1]) * 16 + cm_hex_digit(s[i + 2]));
            i += 2;
        } else if (plus && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    return out;
}

//  Whether a comma-separated header value holds `token` (any case).
static bool
s_has_token(const char *value, const char *token)
{
    size_t n = strlen(token);
    const char *p = value;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',') {
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
        if ((size_t)(last - p) == n && !strncasecmp(p, token, n)) {
            return true;
        }
        p = end;
    }
    return false;
}

//  Make the request of a head gw_front_check_head accepted.
static gw_req_t *
s_make_req(const char *head, size_t len, bool *http10_p)
{
    const char *p = head;
    const char *end = head + len;
    while (*p == '\r' || *p == '\n') {
        p++;
    }
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    *http10_p = !memcmp(sp2 + 1, "HTTP/1.0", 8);
    char *method = cm_strndup(p, (size_t)(sp1 - p));
    const char *target = sp1 + 1;
    size_t target_len = (size_t)(sp2 - target);
    const char *q = memchr(target, '?', target_len);
    size_t path_len = q ? (size_t)(q - target) : target_len;
    char *path = s_decode(target, path_len, false);
    //  The path without trailing slashes ("/" stays)
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') {
        path[--n] = 0;
    }
    gw_req_t *req = gw_req_new(method, path);
    free(method);
    free(path);
    //  Query arguments: name[=value] separated by '&'
    if (q) {
        const char *a = q + 1;
        const char *qend = target + target_len;
        while (a < qend) {
            const char *amp = memchr(a, '&', (size_t)(qend - a));
            const char *stop = amp ? amp : qend;
            const char *eq = memchr(a, '=', (size_t)(stop - a));
            if (stop > a) {
                char *name = s_decode(a, (size_t)((eq ? eq : stop) - a), true);
                char *value =
                    eq ? s_decode(eq + 1, (size_t)(stop - eq - 1), true) : NULL;
                if (*name) {
                    gw_req_set_query(req, name, value);
                }
                free(name);
                free(value);
            }
            a = stop + 1;
        }
    }
    //  Header lines (checked: name ':' value, no folding)
    p = eol + 1;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) {
            break;
        }
        size_t line_len = (size_t)(eol - p);
        if (line_len && p[line_len - 1] == '\r') {
            line_len--;
        }
        if (line_len == 0) {
            break;
        }
        const char *colon = memchr(p, ':', line_len);
        const char *v = colon + 1;
        const char *vend = p + line_len;
        while (v < vend && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
            vend--;
        }
        char *name = cm_strndup(p, (size_t)(colon - p));
        char *value = cm_strndup(v, (size_t)(vend - v));
        gw_req_set_header(req, name, value);
        free(name);
        free(value);
        p = eol + 1;
    }
    return req;
}

//  Where the head in the input ends (after its empty line), or 0.
static size_t
s_head_end(s_conn_t *c)
{
    size_t lead = 0;
    while (lead < c->in_len && (c->in[lead] == '\r' || c->in[lead] == '\n')) {
        lead++;
    }
    size_t i = c->scan > lead ? c->scan : lead;
    for (; i < c->in_len; i++) {
        if (c->in[i] != '\n') {
            continue;
        }
        if (i + 1 < c->in_len && c->in[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < c->in_len && c->in[i + 1] == '\r' && c->in[i + 2] == '\n') {
            return i + 3;
        }
    }
    //  Search on from here once more bytes come (an empty line may
    //  straddle)
    c->scan = c->in_len > 2 ? c->in_len - 2 : 0;
    return 0;
}

static void s_run(s_conn_t *c);

//  A complete head: check it, make the request, begin it.
static s_step_t
s_on_head(s_conn_t *c, size_t end)
{
    gw_front_t *front = c->loop->front;
    char *method = NULL;
    char *path = NULL;
    char *message = NULL;
    int status = gw_front_check_head(c->in, end, &method, &path, &message);
    if (status) {
        cm_log_debug("refused request head", "status=%d reason=\"%s\"", status,
                     message);
        s_fail(c, status, method, path, message);
    }
    free(method);
    free(path);
    free(message);
    if (status) {
        return S_AGAIN;
    }
    bool http10 = false;
    c->req = s_make_req(c->in, end, &http10);
    s_consume(c, end);
    gw_req_t *req = c->req;
    const char *length = gw_req_header(req, "Content-Length");
    c->left = length ? strtoull(length, NULL, 10) : 0;
    const char *te = gw_req_header(req, "Transfer-Encoding");
    c->chunked = te != NULL;
    c->chunk = S_CHUNK_SIZE;
    const char *connection = gw_req_header(req, "Connection");
    c->close_after =
        (connection && s_has_token(connection, "close")) ||
        (http10 && !(connection && s_has_token(connection, "keep-alive")));
    c->head_only = streq(gw_req_method(req), "HEAD");
    bool has_body = c->chunked || c->left > 0;
    c->call = front->ops.begin(front->arg, req);
    assert(c->call);
    if (gw_req_status(req)) {
        //  Answered from the head: a body announced is not read
        if (has_body) {
            c->close_after = true;
        }
        s_respond(c);
        return S_AGAIN;
    }
    if (!has_body) {
        s_run(c);
        return S_WAIT;
    }
    const char *expect = gw_req_header(req, "Expect");
    if (expect && !strcasecmp(expect, "100-continue") && !http10) {
        const char *go = "HTTP/1.1 100 Continue\r\n\r\n";
        ssize_t rc = send(c->fd, go, strlen(go), MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)rc;
    }
    if (!c->chunked) {
        //  Reserved by ops->begin: the buffer at once, no regrowth
        gw_req_expect_body(req, (size_t)c->left);
    }
    c->state = S_BODY;
    s_list(c, S_LIST_IDLE);
    return S_AGAIN;
}

//  Bodies

//  `n` body bytes at `data`.
static void
s_take(s_conn_t *c, const char *data, size_t n)
{
    gw_front_t *front = c->loop->front;
    c->body_len += n;
    if (c->drop || n == 0) {
        return;
    }
    if (front->ops.grow(front->arg, c->call, c->req, c->body_len) != 0) {
        c->drop = true; //  answered; the rest is read and dropped
        return;
    }
    gw_req_append_body(c->req, data, n, SIZE_MAX);
}

//  Body parser results.
typedef enum { S_MORE, S_DONE, S_BAD } s_parse_t;

//  A malformed chunked body: 400, and the connection closes.
static s_parse_t
s_bad_chunk(s_conn_t *c, const char *what)
{
    char *message = cm_sprintf("malformed chunked body: %s", what);
    s_fail(c, 400, NULL, NULL, message);
    free(message);
    return S_BAD;
}

//  Take what the input holds of the body.
static s_parse_t
s_parse_body(s_conn_t *c)
{
    if (!c->chunked) {
        size_t n = c->in_len < c->left ? c->in_len : (size_t)c->left;
        s_take(c, c->in, n);
        s_consume(c, n);
        c->left -= n;
        return c->left ? S_MORE : S_DONE;
    }
    while (true) {
        if (c->chunk == S_CHUNK_DATA) {
            size_t n = c->in_len < c->left ? c->in_len : (size_t)c->left;
            s_take(c, c->in, n);
            s_consume(c, n);
            c->left -= n;
            if (c->left) {
                return S_MORE;
            }
            c->chunk = S_CHUNK_END;
            continue;
        }
        //  The other states read a line
        char *eol = memchr(c->in, '\n', c->in_len);
        if (!eol) {
            if (c->in_len > S_CHUNK_LINE_MAX) {
                return s_bad_chunk(c, "line too long");
            }
            return S_MORE;
        }
        size_t line_len = (size_t)(eol - c->in);
        size_t used = line_len + 1;
        if (line_len && c->in[line_len - 1] == '\r') {
            line_len--;
        }
        if (line_len > S_CHUNK_LINE_MAX) {
            return s_bad_chunk(c, "line too long");
        }
        for (size_t i = 0; i < line_len; i++) {
            unsigned char b = (unsigned char)c->in[i];
            if ((b < 0x20 && b != '\t') || b == 0x7f) {
                return s_bad_chunk(c, "control character");
            }
        }
        if (c->chunk == S_CHUNK_END) {
            if (line_len != 0) {
                return s_bad_chunk(c, "chunk data longer than its size");
            }
            c->chunk = S_CHUNK_SIZE;
        } else if (c->chunk == S_CHUNK_SIZE) {
            //  chunk-size [; extensions]
            uint64_t size = 0;
            size_t i = 0;
            for (; i < line_len && cm_hex_digit(c->in[i]) >= 0; i++) {
                if (i >= 15) {
                    return s_bad_chunk(c, "chunk size too large");
                }
                size = size * 16 + (uint64_t)cm_hex_digit(c->in[i]);
            }
            size_t j = i;
            while (j < line_len && (c->in[j] == ' ' || c->in[j] == '\t')) {
                j++;
            }
            if (i == 0 || (j < line_len && c->in[j] != ';')) {
                return s_bad_chunk(c, "chunk size is not a hex number");
            }
            c->left = size;
            c->chunk = size ? S_CHUNK_DATA : S_CHUNK_TRAILER;
        } else {
            //  Trailer fields are read and ignored, up to the empty line
            c->trailer += used;
            if (c->trailer > GW_FRONT_HEAD_MAX) {
                return s_bad_chunk(c, "trailer too large");
            }
            if (line_len == 0) {
                s_consume(c, used);
                return S_DONE;
            }
            if (!memchr(c->in, ':', line_len)) {
                return s_bad_chunk(c, "malformed trailer line");
            }
        }
        s_consume(c, used);
    }
}

//  Hand the complete request to ops->run.
static void
s_run(s_conn_t *c)
{
    gw_front_t *front = c->loop->front;
    c->state = S_RUN;
    s_unlist(c);
    front->ops.run(front->arg, c->call, c->req, c);
}

//  Steps

static s_step_t
s_step_head(s_conn_t *c)
{
    size_t end = s_head_end(c);
    if (end) {
        return s_on_head(c, end);
    }
    if (c->in_len >= GW_FRONT_HEAD_MAX) {
        s_fail(c, 431, NULL, NULL,
               "the request head (request line and headers) is larger than "
               "16384 bytes");
        return S_AGAIN;
    }
    return s_read(c, GW_FRONT_HEAD_MAX);
}

static s_step_t
s_step_body(s_conn_t *c)
{
    if (c->in_len) {
        s_parse_t r = s_parse_body(c);
        if (r == S_BAD) {
            return S_AGAIN; //  answered
        }
        if (r == S_DONE) {
            if (gw_req_status(c->req)) {
                s_respond(c); //  refused while it came
                return S_AGAIN;
            }
            s_run(c);
            return S_WAIT;
        }
        if (c->drop && c->body_len > S_DROP_MAX) {
            c->close_after = true; //  too much to drop: answer, close
            s_respond(c);
            return S_AGAIN;
        }
        s_touch(c);
    }
    return s_read(c, S_IN_BODY);
}

static void
s_hand_over(s_conn_t *c)
{
    s_upgraded_t *u = cm_alloc(sizeof *u);
    u->front = c->loop->front;
    u->fd = c->fd;
    memcpy(u->ip, c->ip, sizeof u->ip);
    //  Out of our epoll before the socket is someone else's; it stays
    //  counted until gw_front_upgrade_close
    epoll_ctl(c->loop->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    gw_req_run_upgrade(c->req, c->fd, c->in, c->in_len, u);
    s_forget(c);
}

void
gw_front_upgrade_close(void *handle)
{
    s_upgraded_t *u = (s_upgraded_t *)handle;
    if (!u) {
        return;
    }
    close(u->fd);
    s_count(u->front, u->ip, -1);
    free(u);
}

static s_step_t
s_step_write(s_conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            s_touch(c);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return S_WAIT;
        }
        s_close(c);
        return S_GONE;
    }
    if (c->upgrade) {
        s_hand_over(c);
        return S_GONE;
    }
    bool close_after = c->close_after;
    s_end_request(c);
    if (close_after) {
        //  Linger: read and drop until EOF so the answer is not reset
        shutdown(c->fd, SHUT_WR);
        c->state = S_LINGER;
        c->in_len = 0;
        s_list(c, S_LIST_LINGER);
        return S_AGAIN;
    }
    c->state = S_HEAD;
    c->close_after = false;
    c->scan = 0;
    if (c->in_len == 0 && c->in_cap > S_IN_FIRST) {
        free(c->in); //  an idle connection keeps no large buffer
        c->in = NULL;
        c->in_cap = 0;
    }
    s_list(c, S_LIST_HEAD);
    return S_AGAIN;
}

static s_step_t
s_step_linger(s_conn_t *c)
{
    char buf[4096];
    while (true) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) {
            c->lingered += (size_t)n;
            if (c->lingered > S_DROP_MAX) {
                s_close(c);
                return S_GONE;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return S_WAIT;
        }
        s_close(c); //  EOF or error
        return S_GONE;
    }
}

//  Move `c` on as far as its socket allows.
static void
s_drive(s_conn_t *c)
{
    for (int turn = 0; turn < S_TURNS; turn++) {
        s_step_t r = S_WAIT;
        switch (c->state) {
        case S_HEAD:
            r = s_step_head(c);
            break;
        case S_BODY:
            r = s_step_body(c);
            break;
        case S_WRITE:
            r = s_step_write(c);
            break;
        case S_LINGER:
            r = s_step_linger(c);
            break;
        case S_RUN:
        case S_DEAD:
            break;
        }
        if (r != S_AGAIN) {
            return;
        }
    }
    //  A client that keeps us busy (pipelined requests answered at once)
    //  yields its turn and goes on after the others' events (epoll is
    //  edge triggered: no new event would come for it).
    if (!c->ready) {
        c->ready = true;
        c->ready_next = c->loop->ready;
        c->loop->ready = c;
    }
}

//  --------------------------------------------------------------------
//  Event loops

static void
s_accept(s_loop_t *loop)
{
    gw_front_t *self = loop->front;
    int max_total = gw_config_max_connections(self->config);
    int max_ip = gw_config_max_per_ip(self->config);
    while (true) {
        struct sockaddr_storage addr;
        socklen_t addrlen = sizeof addr;
        int fd = accept4(self->listen_fd, (struct sockaddr *)&addr, &addrlen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                cm_log_warn("out of file descriptors for HTTP connections");
            }
            return; //  EAGAIN, or nothing we can do now
        }
        char ip[INET6_ADDRSTRLEN];
        s_ip_of((struct sockaddr *)&addr, ip, sizeof ip);
        //  Checked and counted at once: the loops accept side by side
        pthread_mutex_lock(&self->lock);
        size_t total = self->total;
        uintptr_t from_ip = (uintptr_t)zhashx_lookup(self->ips, ip);
        bool full = total >= (size_t)max_total;
        bool ip_full = max_ip > 0 && from_ip >= (uintptr_t)max_ip;
        if (!full && !ip_full) {
            zhashx_update(self->ips, ip, (void *)(from_ip + 1));
            self->total++;
        }
        pthread_mutex_unlock(&self->lock);
        if (full) {
            s_refuse(fd, 503, "too many open connections; try again later");
            continue;
        }
        if (ip_full) {
            s_refuse(fd, 429, "too many open connections from this address");
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s_conn_t *c = cm_alloc(sizeof *c);
        c->loop = loop;
        c->fd = fd;
        memcpy(c->ip, ip, sizeof c->ip);
        c->state = S_HEAD;
        c->all_next = loop->all;
        if (loop->all) {
            loop->all->all_prev = c;
        }
        loop->all = c;
        s_list(c, S_LIST_HEAD);
        struct epoll_event ev = {
            .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            s_close(c);
        }
    }
}

//  Answers from ops->run: write them.
static bool
s_answered(s_loop_t *loop)
{
    uint64_t count;
    ssize_t rc = read(loop->wake_fd, &count, sizeof count);
    (void)rc;
    pthread_mutex_lock(&loop->lock);
    s_conn_t *c = loop->done_head;
    loop->done_head = loop->done_tail = NULL;
    bool stop = loop->stop;
    pthread_mutex_unlock(&loop->lock);
    while (c) {
        s_conn_t *next = c->done_next;
        c->done_next = NULL;
        if (c->state == S_RUN) {
            s_respond(c);
        }
        s_drive(c);
        c = next;
    }
    return stop;
}

void
gw_front_done(gw_front_t *self, void *token)
{
    s_conn_t *c = (s_conn_t *)token;
    s_loop_t *loop = c->loop;
    pthread_mutex_lock(&loop->lock);
    c->done_next = NULL;
    if (loop->done_tail) {
        loop->done_tail->done_next = c;
    } else {
        loop->done_head = c;
    }
    loop->done_tail = c;
    pthread_mutex_unlock(&loop->lock);
    uint64_t one = 1;
    ssize_t rc = write(loop->wake_fd, &one, sizeof one);
    (void)rc;
    (void)self;
}

//  Connections past their deadline. Returns the ms to the next one (-1:
//  none).
static int
s_expire(s_loop_t *loop)
{
    int64_t now = cm_mono_ms();
    int64_t next = -1;
    for (int list = S_LIST_HEAD; list < S_LISTS; list++) {
        while (loop->lists[list].head &&
               loop->lists[list].head->deadline <= now) {
            s_conn_t *c = loop->lists[list].head;
            s_unlist(c);
            if (list == S_LIST_HEAD && c->in_len > 0) {
                s_fail(c, 408, NULL, NULL,
                       "the request head did not arrive in time");
                s_drive(c);
            } else if (list == S_LIST_IDLE && c->state == S_BODY) {
                s_fail(c, 408, NULL, NULL, "the request body stopped arriving");
                s_drive(c);
            } else {
                s_close(c); //  idle, a stalled response, lingering done
            }
        }
        if (loop->lists[list].head) {
            int64_t at = loop->lists[list].head->deadline;
            if (next < 0 || at < next) {
                next = at;
            }
        }
    }
    if (next < 0) {
        return -1;
    }
    int64_t left = next - now;
    return left > 60000 ? 60000 : (int)left + 1;
}

static void *
s_run_loop(void *arg)
{
    s_loop_t *loop = (s_loop_t *)arg;
    struct epoll_event events[S_EVENTS];
    bool stop = false;
    while (!stop) {
        int timeout = s_expire(loop);
        if (loop->ready) {
            timeout = 0;
        }
        int n = epoll_wait(loop->epoll_fd, events, S_EVENTS, timeout);
        for (int i = 0; i < n; i++) {
            void *ptr = events[i].data.ptr;
            if (ptr == &s_wake_mark) {
                stop = s_answered(loop);
            } else if (ptr == &s_listen_mark) {
                s_accept(loop);
            } else {
                s_drive((s_conn_t *)ptr);
            }
        }
        //  Those that yielded their turn (out of the list first: they
        //  may yield again)
        s_conn_t *c = loop->ready;
        loop->ready = NULL;
        for (s_conn_t *r = c; r; r = r->ready_next) {
            r->ready = false;
        }
        while (c && !stop) {
            s_conn_t *next = c->ready_next;
            c->ready_next = NULL;
            s_drive(c);
            c = next;
        }
        s_reap(loop);
    }
    return NULL;
}

gw_front_t *
gw_front_new(const gw_config_t *config, int port_override,
             const gw_front_ops_t *ops, void *arg)
{
    assert(config && ops);
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
    int fd =
        socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, 4096) != 0) {
        cm_log_error("could not listen for HTTP",
                     "hostname=\"%s\" port=%d reason=\"%s\"",
                     gw_config_hostname(config), port, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        freeaddrinfo(ai);
        return NULL;
    }
    freeaddrinfo(ai);
    gw_front_t *self = cm_alloc(sizeof *self);
    self->config = config;
    self->ops = *ops;
    self->arg = arg;
    self->listen_fd = fd;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    self->port = ntohs(bound.ss_family == AF_INET6
                           ? ((struct sockaddr_in6 *)&bound)->sin6_port
                           : ((struct sockaddr_in *)&bound)->sin_port);
    self->ips = zhashx_new();
    pthread_mutex_init(&self->lock, NULL);
    self->loop_count = gw_config_http_threads(config);
    self->loops = cm_alloc(sizeof(s_loop_t) * (size_t)self->loop_count);
    for (int i = 0; i < self->loop_count; i++) {
        s_loop_t *loop = &self->loops[i];
        loop->front = self;
        pthread_mutex_init(&loop->lock, NULL);
        loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        assert(loop->wake_fd >= 0 && loop->epoll_fd >= 0);
        //  Each connection is woken in one loop only
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                 .data.ptr = &s_listen_mark};
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
        ev.events = EPOLLIN;
        ev.data.ptr = &s_wake_mark;
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &ev);
    }
    for (int i = 0; i < self->loop_count; i++) {
        rc = pthread_create(&self->loops[i].thread, NULL, s_run_loop,
                            &self->loops[i]);
        assert(rc == 0);
    }
    self->running = true;
    return self;
}

void
gw_front_stop(gw_front_t *self)
{
    if (!self->running) {
        return;
    }
    for (int i = 0; i < self->loop_count; i++) {
        s_loop_t *loop = &self->loops[i];
        pthread_mutex_lock(&loop->lock);
        loop->stop = true;
        pthread_mutex_unlock(&loop->lock);
        uint64_t one = 1;
        ssize_t rc = write(loop->wake_fd, &one, sizeof one);
        (void)rc;
    }
    for (int i = 0; i < self->loop_count; i++) {
        pthread_join(self->loops[i].thread, NULL);
    }
    self->running = false;
    close(self->listen_fd);
    self->listen_fd = -1;
    //  Close what no handler holds
    for (int i = 0; i < self->loop_count; i++) {
        s_conn_t *c = self->loops[i].all;
        while (c) {
            s_conn_t *next = c->all_next;
            if (c->state != S_RUN) {
                s_close(c);
            }
            c = next;
        }
    }
}

void
gw_front_destroy(gw_front_t **self_p)
{
    assert(self_p);
    gw_front_t *self = *self_p;
    if (!self) {
        return;
    }
    gw_front_stop(self);
    for (int i = 0; i < self->loop_count; i++) {
        s_loop_t *loop = &self->loops[i];
        while (loop->all) {
            s_close(loop->all);
        }
        s_reap(loop);
        close(loop->wake_fd);
        close(loop->epoll_fd);
        pthread_mutex_destroy(&loop->lock);
    }
    free(self->loops);
    zhashx_destroy(&self->ips);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int
gw_front_port(gw_front_t *self)
{
    return self->port;
}

//  --------------------------------------------------------------------
//  Self test

static int
s_check(const char *head, char **message_p)
{
    char *method = NULL;
    char *path = NULL;
    int rc = gw_front_check_head(head, strlen(head), &method, &path, message_p);
    free(method);
    free(path);
    return rc;
}

//  Expect `status` for `head`, with `needle` in the message.
static void
s_expect(const char *head, int status, const char *needle)
{
    char *message = NULL;
    int rc = s_check(head, &message);
    if (rc != status || (needle && (!message || !strstr(message, needle)))) {
        fprintf(stderr, "head %s: got %d '%s', want %d '%s'\n", head, rc,
                message ? message : "", status, needle ? needle : "");
        assert(false);
    }
    free(message);
}

static bool verbose_test;

//  Test ops: /early answers 401 from the head; bodies over 1000 bytes
//  get 413; the rest answers {"path", "len", "body"}.
static gw_front_t *s_test_front;

static void *
s_test_begin(void *arg, gw_req_t *req)
{
    if (streq(gw_req_path(req), "/early")) {
        gw_req_fail_unauthorized(req);
    }
    return arg;
}

static int
s_test_grow(void *arg, void *call, gw_req_t *req, size_t total)
{
    if (total > 1000) {
        gw_req_fail(req, 413, NULL, "request body is larger than 1000 bytes");
        return -1;
    }
    return 0;
}

static void
s_test_run(void *arg, void *call, gw_req_t *req, void *token)
{
    json_t *body =
        json_pack("{s:s, s:i, s:s?, s:s?}", "path", gw_req_path(req), "len",
                  (int)gw_req_body_len(req), "q", gw_req_query(req, "q"), "h",
                  gw_req_header(req, "X-H"));
    gw_req_reply(req, 200, &body);
    gw_front_done(s_test_front, token);
}

static void
s_test_end(void *arg, void *call, gw_req_t *req)
{
}

static int
s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(0x7f000001);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    assert(rc == 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void
s_send(int fd, const char *text, size_t len)
{
    ssize_t rc = send(fd, text, len, MSG_NOSIGNAL);
    assert(rc == (ssize_t)len);
}

//  Read one response from `fd`: its status (0 when the connection
//  closed first), its body into *body_p (caller owns; may be NULL) and
//  whether it says Connection: close.
static int
s_response(int fd, json_t **body_p, bool *close_p)
{
    //  Bytes past the previous response on the same connection
    static char buf[65536];
    static size_t got = 0;
    static int last_fd = -1;
    if (fd != last_fd) {
        got = 0;
        last_fd = fd;
    }
    buf[got] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    while (!end) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0) {
            return 0;
        }
        got += (size_t)n;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end + 4 - buf);
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    char *cl = strcasestr(buf, "\r\nContent-Length: ");
    size_t len = cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0;
    while (got < head_len + len) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        assert(n > 0);
        got += (size_t)n;
    }
    if (close_p) {
        char *conn = strcasestr(buf, "\r\nConnection: close\r\n");
        *close_p = conn && conn < end + 2;
    }
    if (body_p) {
        *body_p = json_loadb(buf + head_len, len, JSON_DECODE_ANY, NULL);
    }
    if (verbose_test) {
        printf("%.*s\n", (int)(head_len + len), buf);
    }
    memmove(buf, buf + head_len + len, got - head_len - len);
    got -= head_len + len;
    return status;
}

//  Send `text` on a new connection; return the first response's status.
static int
s_roundtrip(int port, const char *text, size_t len)
{
    int fd = s_connect(port);
    s_send(fd, text, len);
    int status = s_response(fd, NULL, NULL);
    close(fd);
    return status;
}

//  Wait (at most 20 s) until the front counts `n` connections.
static void
s_wait_connections(gw_front_t *front, size_t n)
{
    int64_t until = zclock_mono() + 20000;
    while (gw_front_connections(front) != n) {
        if (zclock_mono() >= until) {
            fprintf(stderr, "connections: %zu, want %zu\n",
                    gw_front_connections(front), n);
            assert(false);
        }
        zclock_sleep(5);
    }
}

//  The connection is closed by the server (nothing more comes).
static bool
s_closed(int fd)
{
    char b;
    return recv(fd, &b, 1, 0) == 0;
}

void
gw_front_test(bool verbose)
{
    printf(" * gw_front: ");
    verbose_test = verbose;
    const char *ok = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
    s_expect(ok, 0, NULL);
    s_expect("\r\nGET /a?b=c%0Ad&e HTTP/1.0\n\n", 0, NULL);
    s_expect("POST /api/sendText HTTP/1.1\r\nHost: x\r\nContent-Length: 12"
             "\r\nX-Tab: a\tb\r\n\r\n",
             0, NULL);
    s_expect("GET /ping HTTP/9.9\r\nHost: x\r\n\r\n", 505, "HTTP/9.9");
    s_expect("GET /ping HTTP/2\r\nHost: x\r\n\r\n", 505, NULL);
    s_expect("GET /ping XYZ\r\nHost: x\r\n\r\n", 400, NULL);
    s_expect("GET /ping\r\nHost: x\r\n\r\n", 400, "request line");
    s_expect("GET /api/sessions/s1%00x HTTP/1.1\r\nHost: x\r\n\r\n", 400,
             "path");
    s_expect("GET /api/sessions/%1f HTTP/1.1\r\nHost: x\r\n\r\n", 400, "path");
    s_expect("GET /a?session=s1%00x HTTP/1.1\r\nHost: x\r\n\r\n", 400,
             "query parameter session");
    s_expect("GET /a?x%00=1 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "query");
    s_expect("GET /a HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\x01junk\r\n\r\n", 400,
             "header X-Api-Key");
    char nul[] = "GET /a HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\0junk\r\n\r\n";
    char *method = NULL;
    char *path = NULL;
    char *message = NULL;
    assert(gw_front_check_head(nul, sizeof nul - 1, &method, &path, &message) ==
           400);
    assert(strstr(message, "X-Api-Key") && streq(path, "/a") &&
           streq(method, "GET"));
    free(method);
    free(path);
    free(message);
    s_expect("GET /a HTTP/1.1\r\n\r\n", 400, "Host");
    s_expect("GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host");
    s_expect("GET /a HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "folded");
    s_expect("GET /a HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400, "header");
    s_expect("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400,
             "Content-Length");
    s_expect("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: "
             "99999999999999999999\r\n\r\n",
             400, "Content-Length");
    s_expect("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
             "Content-Length: 2\r\n\r\n",
             400, "Content-Length");
    s_expect("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
             400, "chunked");
    s_expect("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Content-Length: 3\r\n\r\n",
             400, "chunked");
    s_expect("GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, "path");

    //  A live server: keep-alive, every head checked, bodies, limits
    setenv("WAHA_API_KEY", "k", 1);
    //  (long enough for a loaded machine between connecting and the
    //  checks that need the connections open)
    setenv("GATEWAY_HEADER_TIMEOUT_MS", "2000", 1);
    setenv("GATEWAY_MAX_CONNECTIONS_PER_IP", "3", 1);
    gw_config_t *config = gw_config_new();
    gw_front_ops_t ops = {s_test_begin, s_test_grow, s_test_run, s_test_end};
    int marker = 0;
    gw_front_t *front = gw_front_new(config, 0, &ops, &marker);
    assert(front);
    s_test_front = front;
    int port = gw_front_port(front);
    assert(s_roundtrip(port, ok, strlen(ok)) == 200);
    const char *v99 = "GET /v2/x HTTP/9.9\r\nHost: x\r\n\r\n";
    assert(s_roundtrip(port, v99, strlen(v99)) == 505);

    //  Keep-alive: requests in turn, then pipelined, on one connection
    int fd = s_connect(port);
    json_t *body = NULL;
    bool closing = true;
    const char *q = "GET /a/b/?q=x+y%21 HTTP/1.1\r\nHost: x\r\nX-H: v\r\n\r\n";
    for (int i = 0; i < 3; i++) {
        s_send(fd, q, strlen(q));
        assert(s_response(fd, &body, &closing) == 200 && !closing);
        assert(streq(json_string_value(json_object_get(body, "path")), "/a/b"));
        assert(streq(json_string_value(json_object_get(body, "q")), "x y!"));
        assert(streq(json_string_value(json_object_get(body, "h")), "v"));
        json_decref(body);
    }
    const char *two = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                      "hello"
                      "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                      "chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n"
                      "Trailer: t\r\n\r\n";
    s_send(fd, two, strlen(two));
    assert(s_response(fd, &body, NULL) == 200);
    assert(json_integer_value(json_object_get(body, "len")) == 5);
    json_decref(body);
    assert(s_response(fd, &body, NULL) == 200);
    assert(json_integer_value(json_object_get(body, "len")) == 5);
    json_decref(body);
    //  A body over the limit is read, dropped and answered; the
    //  connection goes on
    char *big = cm_alloc(1500 + 200);
    int n = sprintf(big, "PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: "
                         "1500\r\n\r\n");
    memset(big + n, 'a', 1500);
    s_send(fd, big, (size_t)n + 1500);
    assert(s_response(fd, &body, &closing) == 413 && !closing);
    json_decref(body);
    s_send(fd, ok, strlen(ok));
    assert(s_response(fd, NULL, NULL) == 200);
    //  The second request's head is checked like the first: a NUL in a
    //  header value
    s_send(fd, nul, sizeof nul - 1);
    assert(s_response(fd, &body, &closing) == 400 && closing);
    assert(strstr(
        json_string_value(json_array_get(json_object_get(body, "message"), 0)),
        "X-Api-Key"));
    json_decref(body);
    assert(s_closed(fd));
    close(fd);
    //  ...a head too large, after a good request
    fd = s_connect(port);
    s_send(fd, ok, strlen(ok));
    assert(s_response(fd, NULL, NULL) == 200);
    size_t big_len = GW_FRONT_HEAD_MAX + 100;
    char *huge = cm_alloc(big_len + 1);
    memcpy(huge, "GET /a HTTP/1.1\r\nX: ", 20);
    memset(huge + 20, 'a', big_len - 20);
    s_send(fd, huge, big_len);
    assert(s_response(fd, NULL, &closing) == 431 && closing);
    close(fd);
    //  ...an answer from the head on a second request: the body
    //  announced is not waited for
    fd = s_connect(port);
    s_send(fd, ok, strlen(ok));
    assert(s_response(fd, NULL, NULL) == 200);
    const char *early = "POST /early HTTP/1.1\r\nHost: x\r\n"
                        "Content-Length: 60000000\r\n\r\n{";
    s_send(fd, early, strlen(early));
    assert(s_response(fd, NULL, &closing) == 401 && closing);
    close(fd);
    //  Malformed chunked bodies: 400 in JSON
    const char *bad[] = {"zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcd\r\n0\r\n\r\n",
                         "3\r\nabc\r\n0\r\nnocolon\r\n\r\n",
                         "1234567890abcdef0\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = cm_sprintf("POST /p HTTP/1.1\r\nHost: x\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n%s",
                                bad[i]);
        fd = s_connect(port);
        s_send(fd, text, strlen(text));
        assert(s_response(fd, &body, &closing) == 400 && closing);
        assert(strstr(json_string_value(
                          json_array_get(json_object_get(body, "message"), 0)),
                      "chunked"));
        json_decref(body);
        close(fd);
        free(text);
    }

    //  Three idle connections from 127.0.0.1 fill its quota: 429
    s_wait_connections(front, 0); //  the ones above are gone
    int idle[3];
    for (int i = 0; i < 3; i++) {
        idle[i] = s_connect(port);
    }
    s_wait_connections(front, 3);
    assert(s_roundtrip(port, ok, strlen(ok)) == 429);
    //  ...until the head timeout closes them
    s_send(idle[0], "GET / HT", 8);
    assert(s_response(idle[0], &body, NULL) == 408);
    assert(json_integer_value(json_object_get(body, "statusCode")) == 408);
    json_decref(body);
    assert(s_closed(idle[1])); //  closed, no answer
    for (int i = 0; i < 3; i++) {
        close(idle[i]);
    }
    s_wait_connections(front, 0);
    assert(s_roundtrip(port, ok, strlen(ok)) == 200);
    //  A head too large on a first request
    assert(s_roundtrip(port, huge, big_len) == 431);
    free(huge);
    free(big);
    gw_front_destroy(&front);
    assert(!front);
    gw_config_destroy(&config);
    unsetenv("GATEWAY_HEADER_TIMEOUT_MS");
    unsetenv("GATEWAY_MAX_CONNECTIONS_PER_IP");
    (void)verbose;
    printf("OK\n");
}
