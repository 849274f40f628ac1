/*  gw_front - the gateway's front door: accepts HTTP connections and
    checks each request's head before libmicrohttpd sees it

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE //  accept4
#endif
#include "gw_classes.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

//  Events taken per epoll_wait.
#define S_EVENTS 256
//  Bytes of a refused request's rest read before closing, so the close
//  does not reset the connection under the answer.
#define S_DRAIN_MAX 65536

//  A connection waiting for its request head.
typedef struct s_pending {
    struct s_pending *prev, *next;
    int fd;
    int64_t deadline; //  monotonic ms
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char ip[INET6_ADDRSTRLEN];
} s_pending_t;

struct _gw_front_t {
    const gw_config_t *config; //  borrowed
    gw_front_handoff_fn *handoff;
    void *arg;
    int listen_fd;
    int wake_fd; //  eventfd: stop
    int epoll_fd;
    int port;
    pthread_t thread;
    bool running;
    s_pending_t *head, *tail; //  by deadline (accept order)
    pthread_mutex_t lock;     //  guards ips and total
    zhashx_t *ips;            //  address -> connections (uintptr_t)
    size_t total;             //  connections open
};

//  Markers for epoll data of the listening socket and the eventfd.
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
gw_front_check_target(const char *target, size_t len, char **message_p)
{
    assert(target && message_p);
    *message_p = NULL;
    if (len == 0 || len > GW_FRONT_TARGET_MAX) {
        *message_p = cm_sprintf("the request target must be 1 to %d bytes",
                                GW_FRONT_TARGET_MAX);
        return len ? 414 : 400;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c <= 0x20 || c == 0x7f) {
            *message_p = cm_strdup("the request target must not contain "
                                   "spaces or control characters");
            return 400;
        }
    }
    if (target[0] != '/') {
        *message_p = cm_strdup("the request target must be a path "
                               "starting with /");
        return 400;
    }
    const char *query = memchr(target, '?', len);
    if (query) {
        size_t params = 1;
        for (const char *c = query + 1; c < target + len; c++) {
            params += *c == '&';
        }
        if (params > GW_FRONT_QUERY_MAX) {
            *message_p = cm_sprintf("the query has more than %d parameters",
                                    GW_FRONT_QUERY_MAX);
            return 414;
        }
    }
    return s_check_target(target, len, message_p);
}

bool
gw_front_token(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!s_tchar((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

int
gw_front_check_field(const char *name, size_t name_len, const char *value,
                     size_t value_len, char **message_p)
{
    assert(name && message_p);
    *message_p = NULL;
    if (!gw_front_token(name, name_len, GW_FRONT_HEAD_MAX)) {
        *message_p = cm_strdup("malformed header line");
        return 400;
    }
    for (size_t i = 0; i < value_len; i++) {
        unsigned char b = (unsigned char)value[i];
        if ((b < 0x20 && b != '\t') || b == 0x7f) {
            *message_p = cm_sprintf("header %.*s must not contain "
                                    "control characters",
                                    (int)(name_len > 64 ? 64 : name_len), name);
            return 400;
        }
    }
    return 0;
}

int
gw_front_fields_add(gw_front_fields_t *self, const char *name, size_t name_len,
                    const char *value, size_t value_len, char **message_p)
{
    if (++self->count > GW_FRONT_FIELDS_MAX) {
        *message_p = cm_sprintf("the request head has more than %d header "
                                "fields",
                                GW_FRONT_FIELDS_MAX);
        return 431;
    }
    if (name_len == 4 && !strncasecmp(name, "host", 4)) {
        self->hosts++;
    } else if (name_len == 14 && !strncasecmp(name, "content-length", 14)) {
        bool digits = value_len > 0 && value_len <= 18;
        for (size_t i = 0; i < value_len && digits; i++) {
            digits = isdigit((unsigned char)value[i]);
        }
        if (!digits ||
            (self->length && (self->length_len != value_len ||
                              memcmp(self->length, value, value_len) != 0))) {
            *message_p = cm_strdup("Content-Length must be one decimal "
                                   "number of at most 18 digits");
            return 400;
        }
        self->length = value;
        self->length_len = value_len;
    } else if (name_len == 17 && !strncasecmp(name, "transfer-encoding", 17)) {
        if (self->te) {
            //  libmicrohttpd reads the first one only
            *message_p = cm_strdup("Transfer-Encoding must be chunked alone, "
                                   "in one header");
            return 400;
        }
        self->te = true;
        self->chunked = value_len == 7 && !strncasecmp(value, "chunked", 7);
    } else if (name_len == 7 && !strncasecmp(name, "upgrade", 7)) {
        self->upgrade = true;
    }
    return 0;
}

int
gw_front_fields_end(gw_front_fields_t *self, bool http11, char **message_p)
{
    if (self->te && (!self->chunked || self->length)) {
        *message_p = cm_strdup("Transfer-Encoding must be chunked alone, "
                               "without Content-Length");
        return 400;
    }
    if (http11 && self->hosts != 1) {
        *message_p = cm_strdup("an HTTP/1.1 request needs one Host header");
        return 400;
    }
    return 0;
}

int
gw_front_check_head(const char *head, size_t len, char **method_p,
                    char **path_p, char **message_p)
{
    gw_front_fields_t fields;
    return gw_front_check_head_fields(head, len, method_p, path_p, message_p,
                                      &fields);
}

int
gw_front_check_head_fields(const char *head, size_t len, char **method_p,
                           char **path_p, char **message_p,
                           gw_front_fields_t *fields_p)
{
    assert(head && method_p && path_p && message_p && fields_p);
    memset(fields_p, 0, sizeof *fields_p);
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
    if (!gw_front_token(p, method_len, GW_FRONT_METHOD_MAX) || !sp2) {
        *message_p = cm_strdup("malformed request line");
        return 400;
    }
    *method_p = cm_strndup(p, method_len);
    const char *target = sp1 + 1;
    size_t target_len = (size_t)(sp2 - target);
    const char *version = sp2 + 1;
    size_t version_len = (size_t)(p + line_len - version);
    const char *q = memchr(target, '?', target_len);
    *path_p = cm_strndup(target, q ? (size_t)(q - target) : target_len);
    if (target_len == 0 || memchr(version, ' ', version_len)) {
        *message_p = cm_strdup("malformed request line");
        return 400;
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
    int rc = gw_front_check_target(target, target_len, message_p);
    if (rc) {
        return rc;
    }
    //  Header lines
    gw_front_fields_t *fields = fields_p;
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
        rc =
            gw_front_check_field(p, name_len, v, (size_t)(vend - v), message_p);
        if (rc) {
            return rc;
        }
        rc = gw_front_fields_add(fields, p, name_len, v, (size_t)(vend - v),
                                 message_p);
        if (rc) {
            return rc;
        }
        p = eol + 1;
    }
    return gw_front_fields_end(fields, http11, message_p);
}

size_t
gw_front_head_end(const char *buf, size_t len)
{
    //  The head ends at the first empty line
    size_t end = 0;
    for (size_t i = 0; i < len && !end; i++) {
        if (buf[i] != '\n') {
            continue;
        }
        if (i + 1 < len && buf[i + 1] == '\n') {
            end = i + 2;
        } else if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
            end = i + 3;
        }
    }
    //  Leading empty lines do not count as a head's end
    size_t lead = 0;
    while (lead < len && (buf[lead] == '\r' || buf[lead] == '\n')) {
        lead++;
    }
    return end && end > lead ? end : 0;
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

void
gw_front_opened(gw_front_t *self, const struct sockaddr *addr)
{
    char ip[INET6_ADDRSTRLEN];
    s_ip_of(addr, ip, sizeof ip);
    s_count(self, ip, 1);
}

void
gw_front_closed(gw_front_t *self, const struct sockaddr *addr)
{
    char ip[INET6_ADDRSTRLEN];
    s_ip_of(addr, ip, sizeof ip);
    s_count(self, ip, -1);
}

size_t
gw_front_connections(gw_front_t *self)
{
    pthread_mutex_lock(&self->lock);
    size_t n = self->total;
    pthread_mutex_unlock(&self->lock);
    return n;
}

//  Answer `status` in the API's error shape and close `fd`.
static void
s_refuse(int fd, int status, const char *method, const char *path,
         const char *message)
{
    gw_req_t *req = gw_req_new(method ? method : "GET", path ? path : "/");
    if (status == 400) {
        gw_req_fail_invalid(req, message);
    } else {
        gw_req_fail(req, status, NULL, "%s", message);
    }
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

static void
s_unlink(gw_front_t *self, s_pending_t *p)
{
    if (p->prev) {
        p->prev->next = p->next;
    } else {
        self->head = p->next;
    }
    if (p->next) {
        p->next->prev = p->prev;
    } else {
        self->tail = p->prev;
    }
    p->prev = p->next = NULL;
}

//  Forget `p`: out of epoll and the list, uncounted, freed. The fd is
//  the caller's.
static void
s_forget(gw_front_t *self, s_pending_t **p_p)
{
    s_pending_t *p = *p_p;
    epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
    s_unlink(self, p);
    s_count(self, p->ip, -1);
    free(p);
    *p_p = NULL;
}

static void
s_accept(gw_front_t *self)
{
    int max_total = gw_config_max_connections(self->config);
    int max_ip = gw_config_max_per_ip(self->config);
    int64_t timeout = gw_config_header_timeout(self->config);
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
        s_pending_t *p = cm_alloc(sizeof *p);
        p->fd = fd;
        memcpy(&p->addr, &addr, addrlen);
        p->addrlen = addrlen;
        s_ip_of((struct sockaddr *)&addr, p->ip, sizeof p->ip);
        pthread_mutex_lock(&self->lock);
        size_t total = self->total;
        uintptr_t from_ip = (uintptr_t)zhashx_lookup(self->ips, p->ip);
        pthread_mutex_unlock(&self->lock);
        if (total >= (size_t)max_total) {
            s_refuse(fd, 503, NULL, NULL,
                     "too many open connections; try again later");
            free(p);
            continue;
        }
        if (max_ip > 0 && from_ip >= (uintptr_t)max_ip) {
            s_refuse(fd, 429, NULL, NULL,
                     "too many open connections from this address");
            free(p);
            continue;
        }
        s_count(self, p->ip, 1);
        p->deadline = cm_mono_ms() + timeout;
        p->prev = self->tail;
        if (self->tail) {
            self->tail->next = p;
        } else {
            self->head = p;
        }
        self->tail = p;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = p};
        if (epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            s_forget(self, &p);
            close(fd);
        }
    }
}

//  Bytes came (or the peer closed): look at the head.
static void
s_readable(gw_front_t *self, s_pending_t *p)
{
    static __thread char buf[GW_FRONT_HEAD_MAX + 1];
    ssize_t n = recv(p->fd, buf, GW_FRONT_HEAD_MAX, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        int fd = p->fd;
        s_forget(self, &p);
        close(fd);
        return;
    }
    size_t end = gw_front_head_end(buf, (size_t)n);
    if (!end) {
        if (n >= GW_FRONT_HEAD_MAX) {
            int fd = p->fd;
            s_forget(self, &p);
            s_refuse(fd, 431, NULL, NULL,
                     "the request head (request line and headers) is "
                     "larger than 16384 bytes");
        }
        return; //  wait for more
    }
    char *method = NULL;
    char *path = NULL;
    char *message = NULL;
    int status = gw_front_check_head(buf, end, &method, &path, &message);
    int fd = p->fd;
    struct sockaddr_storage addr = p->addr;
    socklen_t addrlen = p->addrlen;
    s_forget(self, &p);
    if (status) {
        cm_log_debug("refused request head", "status=%d reason=\"%s\"", status,
                     message);
        s_refuse(fd, status, method, path, message);
    } else {
        self->handoff(self->arg, fd, (struct sockaddr *)&addr, addrlen);
    }
    free(method);
    free(path);
    free(message);
}

//  Close connections whose head did not come in time.
static int
s_expire(gw_front_t *self)
{
    int64_t now = cm_mono_ms();
    while (self->head && self->head->deadline <= now) {
        s_pending_t *p = self->head;
        int fd = p->fd;
        char probe[1];
        bool sent = recv(fd, probe, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
        s_forget(self, &p);
        if (sent) {
            s_refuse(fd, 408, NULL, NULL,
                     "the request head did not arrive in time");
        } else {
            close(fd);
        }
    }
    if (!self->head) {
        return -1;
    }
    int64_t left = self->head->deadline - now;
    return left > 60000 ? 60000 : (int)left + 1;
}

static void *
s_run(void *arg)
{
    gw_front_t *self = (gw_front_t *)arg;
    struct epoll_event events[S_EVENTS];
    bool stop = false;
    while (!stop) {
        int timeout = s_expire(self);
        int n = epoll_wait(self->epoll_fd, events, S_EVENTS, timeout);
        for (int i = 0; i < n; i++) {
            void *ptr = events[i].data.ptr;
            if (ptr == &s_wake_mark) {
                stop = true;
            } else if (ptr == &s_listen_mark) {
                s_accept(self);
            } else {
                s_readable(self, (s_pending_t *)ptr);
            }
        }
    }
    return NULL;
}

gw_front_t *
gw_front_new(const gw_config_t *config, int port_override,
             gw_front_handoff_fn *handoff, void *arg)
{
    assert(config && handoff);
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
    self->handoff = handoff;
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
    self->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    assert(self->wake_fd >= 0 && self->epoll_fd >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s_listen_mark};
    epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    ev.data.ptr = &s_wake_mark;
    epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, self->wake_fd, &ev);
    rc = pthread_create(&self->thread, NULL, s_run, self);
    assert(rc == 0);
    self->running = true;
    return self;
}

void
gw_front_stop(gw_front_t *self)
{
    if (!self->running) {
        return;
    }
    uint64_t one = 1;
    ssize_t rc = write(self->wake_fd, &one, sizeof one);
    (void)rc;
    pthread_join(self->thread, NULL);
    self->running = false;
    while (self->head) {
        s_pending_t *p = self->head;
        int fd = p->fd;
        s_forget(self, &p);
        close(fd);
    }
    close(self->listen_fd);
    self->listen_fd = -1;
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
    close(self->wake_fd);
    close(self->epoll_fd);
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

static void
s_handoff_test(void *arg, int fd, const struct sockaddr *addr,
               socklen_t addrlen)
{
    gw_front_t **front = (gw_front_t **)arg;
    const char *reply = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    ssize_t rc = send(fd, reply, strlen(reply), MSG_NOSIGNAL);
    (void)rc;
    close(fd);
    (void)addr;
    (void)addrlen;
    (void)front;
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
    return fd;
}

//  Send `text` on a new connection; return the status line's code.
static int
s_roundtrip(int port, const char *text, size_t len)
{
    int fd = s_connect(port);
    ssize_t rc = send(fd, text, len, MSG_NOSIGNAL);
    assert(rc == (ssize_t)len);
    char buf[2048];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    buf[got] = 0;
    close(fd);
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    return status;
}

void
gw_front_test(bool verbose)
{
    printf(" * gw_front: ");
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
    s_expect("GET  /ping HTTP/1.1\r\nHost: x\r\n\r\n", 400, "request line");
    s_expect("GET /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",
             400, "Transfer-Encoding");
    s_expect("GET /api/sessions/s1%00x HTTP/1.1\r\nHost: x\r\n\r\n", 400,
             "path");
    s_expect("GET /api/sessions/%1f HTTP/1.1\r\nHost: x\r\n\r\n", 400, "path");
    s_expect("GET /a?session=s1%00x HTTP/1.1\r\nHost: x\r\n\r\n", 400,
             "query parameter session");
    s_expect("GET /a?x%00=1 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "query");
    s_expect("GET /a HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\x01junk\r\n\r\n", 400,
             "header X-Api-Key");
    //  Header fields and query parameters are counted (libmicrohttpd's
    //  pool holds each): up to the limits, not past them
    char *many = cm_strdup("GET /a?p0");
    for (int i = 1; i <= GW_FRONT_QUERY_MAX; i++) {
        char *next = cm_sprintf("%s&p%d", many, i);
        free(many);
        many = next;
    }
    char *head = cm_sprintf("%s HTTP/1.1\r\nHost: x\r\n\r\n", many);
    s_expect(head, 414, "more than 100 parameters");
    free(head);
    *strrchr(many, '&') = 0;
    head = cm_sprintf("%s HTTP/1.1\r\nHost: x\r\n\r\n", many);
    s_expect(head, 0, NULL);
    free(head);
    free(many);
    many = cm_strdup("GET /a HTTP/1.1\r\nHost: x\r\n");
    for (int i = 1; i < GW_FRONT_FIELDS_MAX; i++) {
        char *next = cm_sprintf("%sX-H%d: v\r\n", many, i);
        free(many);
        many = next;
    }
    head = cm_sprintf("%s\r\n", many);
    s_expect(head, 0, NULL);
    free(head);
    head = cm_sprintf("%sX-One-More: v\r\n\r\n", many);
    s_expect(head, 431, "more than 100 header fields");
    free(head);
    free(many);
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

    //  A live front: handoff, refusals in JSON, limits, timeouts
    setenv("WAHA_API_KEY", "k", 1);
    setenv("GATEWAY_HEADER_TIMEOUT_MS", "300", 1);
    setenv("GATEWAY_MAX_CONNECTIONS_PER_IP", "3", 1);
    gw_config_t *config = gw_config_new();
    gw_front_t *front = NULL;
    front = gw_front_new(config, 0, s_handoff_test, &front);
    assert(front);
    int port = gw_front_port(front);
    assert(s_roundtrip(port, ok, strlen(ok)) == 204);
    const char *v99 = "GET /v2/x HTTP/9.9\r\nHost: x\r\n\r\n";
    assert(s_roundtrip(port, v99, strlen(v99)) == 505);
    //  Three idle connections from 127.0.0.1 fill its quota: 429
    int idle[3];
    for (int i = 0; i < 3; i++) {
        idle[i] = s_connect(port);
    }
    while (gw_front_connections(front) < 3) {
        zclock_sleep(5);
    }
    assert(s_roundtrip(port, ok, strlen(ok)) == 429);
    //  ...until the head timeout closes them
    ssize_t sent = send(idle[0], "GET / HT", 8, MSG_NOSIGNAL);
    assert(sent == 8);
    char buf[512];
    ssize_t n = recv(idle[0], buf, sizeof buf - 1, 0);
    assert(n > 0);
    buf[n] = 0;
    assert(strstr(buf, "HTTP/1.1 408") && strstr(buf, "\"statusCode\":408"));
    assert(recv(idle[1], buf, sizeof buf, 0) == 0); //  closed, no answer
    for (int i = 0; i < 3; i++) {
        close(idle[i]);
    }
    while (gw_front_connections(front) > 0) {
        zclock_sleep(5);
    }
    assert(s_roundtrip(port, ok, strlen(ok)) == 204);
    //  A head too large
    size_t big_len = GW_FRONT_HEAD_MAX + 100;
    char *big = cm_alloc(big_len + 1);
    memcpy(big, "GET /a HTTP/1.1\r\nX: ", 20);
    memset(big + 20, 'a', big_len - 20);
    assert(s_roundtrip(port, big, big_len) == 431);
    free(big);
    gw_front_destroy(&front);
    assert(!front);
    gw_config_destroy(&config);
    unsetenv("GATEWAY_HEADER_TIMEOUT_MS");
    unsetenv("GATEWAY_MAX_CONNECTIONS_PER_IP");
    (void)verbose;
    printf("OK\n");
}
