/*  gw_recv - frames the bytes libmicrohttpd reads from a connection, so
    that nothing reaches it that it would refuse by itself

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
//  This file defines recv: the fortified inline one must not be seen
#undef _FORTIFY_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE //  RTLD_NEXT, POLLRDHUP
#endif
#include "gw_classes.h"

#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>

//  Descriptors watched: a table of pages of S_PAGE slots, up to
//  S_PAGES * S_PAGE descriptors.
#define S_PAGE 1024
#define S_PAGES 1024
//  Longest chunk-size or trailer line, and all trailers together.
#define S_LINE_MAX 1024
#define S_TRAILERS_MAX 8192
//  Bytes peeked at once: what libmicrohttpd asks for (its read buffer,
//  at most its 32 KiB connection memory) twice, and a head past it.
#define S_ASK_MAX 32768
#define S_SCRATCH (2 * S_ASK_MAX + GW_FRONT_HEAD_MAX + S_LINE_MAX)

typedef enum {
    S_HEAD,       //  at a request head
    S_BODY,       //  in a Content-Length body: `remaining` bytes
    S_CHUNK_SIZE, //  at a chunk-size line
    S_CHUNK_DATA, //  in a chunk's data: `remaining` bytes
    S_CHUNK_END,  //  at the CRLF after a chunk's data
    S_TRAILER,    //  at a trailer line, after the last chunk
    S_UPGRADE,    //  after a head asking to upgrade: wait for its answer
    S_REFUSED     //  at bad bytes: nothing from here on is passed
} s_state_t;

struct _gw_recv_t {
    size_t judged;      //  bytes ahead in the socket judged good
    s_state_t state;    //  framing at the end of those bytes
    uint64_t remaining; //  S_BODY, S_CHUNK_DATA: bytes left
    size_t trailers;    //  trailer bytes so far
    bool pass;          //  a /ws stream: not ours
    unsigned heads;     //  heads judged good (and our own)
    //  The refusal, once bad bytes were found
    int status;
    char *message;
    char *method;
    char *path;
    unsigned refused; //  the head it answers
    const char *fill; //  what libmicrohttpd gets in place of the rest
    size_t fill_len;
    size_t filled;
};

//  What libmicrohttpd gets in place of bad bytes, by where they were.
static const char s_fill_head[] =
    "GET / HTTP/1.1\r\nHost: refused\r\nConnection: close\r\n\r\n";
static const char s_fill_chunk_size[] = "0\r\n\r\n";
static const char s_fill_chunk_end[] = "\r\n0\r\n\r\n";
static const char s_fill_trailer[] = "\r\n";

static gw_recv_t **s_pages[S_PAGES];
static pthread_mutex_t s_pages_lock = PTHREAD_MUTEX_INITIALIZER;

typedef ssize_t(s_recv_fn)(int, void *, size_t, int);
static s_recv_fn *s_next_recv;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static pthread_key_t s_scratch_key;

static void
s_init(void)
{
    int rc = pthread_key_create(&s_scratch_key, free);
    assert(rc == 0);
}

//  This thread's peek buffer.
static char *
s_scratch(void)
{
    pthread_once(&s_once, s_init);
    char *buf = (char *)pthread_getspecific(s_scratch_key);
    if (!buf) {
        buf = (char *)cm_alloc(S_SCRATCH);
        pthread_setspecific(s_scratch_key, buf);
    }
    return buf;
}

//  The recv we stand in front of: libc's, or a sanitizer's interceptor.
static ssize_t
s_recv_next(int fd, void *buf, size_t len, int flags)
{
    s_recv_fn *fn = __atomic_load_n(&s_next_recv, __ATOMIC_ACQUIRE);
    if (!fn) {
        void *sym = dlsym(RTLD_NEXT, "recv");
        assert(sym);
        memcpy(&fn, &sym, sizeof fn);
        __atomic_store_n(&s_next_recv, fn, __ATOMIC_RELEASE);
    }
    return fn(fd, buf, len, flags);
}

gw_recv_t *
gw_recv_new(void)
{
    gw_recv_t *self = (gw_recv_t *)cm_alloc(sizeof *self);
    self->state = S_HEAD;
    return self;
}

void
gw_recv_destroy(gw_recv_t **self_p)
{
    assert(self_p);
    gw_recv_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->message);
    free(self->method);
    free(self->path);
    free(self);
    *self_p = NULL;
}

//  The slot of fd, or NULL (when `make`, its page is made).
static gw_recv_t **
s_slot(int fd, bool make)
{
    if (fd < 0 || fd >= S_PAGE * S_PAGES) {
        return NULL;
    }
    gw_recv_t **page = __atomic_load_n(&s_pages[fd / S_PAGE], __ATOMIC_ACQUIRE);
    if (!page && make) {
        pthread_mutex_lock(&s_pages_lock);
        page = s_pages[fd / S_PAGE];
        if (!page) {
            page = (gw_recv_t **)cm_alloc(S_PAGE * sizeof *page);
            __atomic_store_n(&s_pages[fd / S_PAGE], page, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&s_pages_lock);
    }
    return page ? &page[fd % S_PAGE] : NULL;
}

int
gw_recv_attach(gw_recv_t *self, int fd)
{
    assert(self);
    gw_recv_t **slot = s_slot(fd, true);
    if (!slot) {
        return -1;
    }
    //  A state still here belongs to a connection libmicrohttpd dropped
    //  before it started (no NOTIFY_CONNECTION, so no detach), whose
    //  descriptor number came back: nothing else holds it
    gw_recv_t *old = __atomic_exchange_n(slot, self, __ATOMIC_ACQ_REL);
    if (old && old != self) {
        gw_recv_destroy(&old);
    }
    return 0;
}

void
gw_recv_release_all(void)
{
    for (size_t p = 0; p < S_PAGES; p++) {
        gw_recv_t **page = __atomic_load_n(&s_pages[p], __ATOMIC_ACQUIRE);
        for (size_t i = 0; page && i < S_PAGE; i++) {
            gw_recv_t *old =
                __atomic_exchange_n(&page[i], NULL, __ATOMIC_ACQ_REL);
            gw_recv_destroy(&old);
        }
    }
}

bool
gw_recv_detach(gw_recv_t *self, int fd)
{
    gw_recv_t **slot = s_slot(fd, false);
    gw_recv_t *expected = self;
    return slot && self &&
           __atomic_compare_exchange_n(slot, &expected, NULL, false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

gw_recv_t *
gw_recv_lookup(int fd)
{
    gw_recv_t **slot = s_slot(fd, false);
    return slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : NULL;
}

void
gw_recv_pass(gw_recv_t *self)
{
    assert(self);
    self->pass = true;
}

void
gw_recv_request_done(gw_recv_t *self)
{
    assert(self);
    if (self->state == S_UPGRADE && self->judged == 0) {
        self->state = S_HEAD; //  not upgraded: HTTP goes on
    }
}

int
gw_recv_refusal(gw_recv_t *self, unsigned nth, const char **message_p,
                const char **method_p, const char **path_p)
{
    assert(self && message_p && method_p && path_p);
    if (self->state != S_REFUSED || self->refused != nth) {
        return 0;
    }
    *message_p = self->message;
    *method_p = self->method;
    *path_p = self->path;
    return self->status;
}

unsigned
gw_recv_heads(gw_recv_t *self)
{
    return self->heads;
}

//  Refuse from here on: `message` (taken), and the bytes libmicrohttpd
//  gets in place of the rest. Returns -1.
static int
s_refuse(gw_recv_t *self, int status, char *message, char *method, char *path)
{
    cm_log_debug("refused request bytes", "status=%d reason=\"%s\"", status,
                 message);
    switch (self->state) {
    case S_HEAD:
        self->fill = s_fill_head;
        self->fill_len = sizeof s_fill_head - 1;
        self->heads++; //  our own head answers it
        break;
    case S_CHUNK_SIZE:
        self->fill = s_fill_chunk_size;
        self->fill_len = sizeof s_fill_chunk_size - 1;
        break;
    case S_CHUNK_END:
        self->fill = s_fill_chunk_end;
        self->fill_len = sizeof s_fill_chunk_end - 1;
        break;
    default:
        assert(self->state == S_TRAILER);
        self->fill = s_fill_trailer;
        self->fill_len = sizeof s_fill_trailer - 1;
        break;
    }
    self->refused = self->heads;
    self->status = status;
    self->message = message;
    self->method = method;
    self->path = path;
    self->state = S_REFUSED;
    return -1;
}

static int
s_refuse_body(gw_recv_t *self, const char *message)
{
    return s_refuse(self, 400, cm_strdup(message), NULL, NULL);
}

//  A line of at most S_LINE_MAX bytes at p[0..avail): its length with
//  the LF in *len_p. Returns 1, 0 when it has not all come, or -1 when
//  it is too long.
static int
s_line(const char *p, size_t avail, size_t *len_p)
{
    const char *lf =
        (const char *)memchr(p, '\n', avail < S_LINE_MAX ? avail : S_LINE_MAX);
    if (lf) {
        *len_p = (size_t)(lf - p) + 1;
        return 1;
    }
    return avail >= S_LINE_MAX ? -1 : 0;
}

//  A request head at p[0..avail).
static int
s_judge_head(gw_recv_t *self, const char *p, size_t avail, size_t *used_p)
{
    size_t end = gw_front_head_end(
        p, avail < GW_FRONT_HEAD_MAX ? avail : GW_FRONT_HEAD_MAX);
    if (!end) {
        if (avail < GW_FRONT_HEAD_MAX) {
            return 0;
        }
        return s_refuse(self, 431,
                        cm_sprintf("the request head (request line and "
                                   "headers) is larger than %d bytes",
                                   GW_FRONT_HEAD_MAX),
                        NULL, NULL);
    }
    char *method = NULL;
    char *path = NULL;
    char *message = NULL;
    gw_front_fields_t fields;
    int status =
        gw_front_check_head_fields(p, end, &method, &path, &message, &fields);
    if (status) {
        return s_refuse(self, status, message, method, path);
    }
    free(method);
    free(path);
    self->heads++;
    *used_p = end;
    uint64_t length = 0;
    for (size_t i = 0; fields.length && i < fields.length_len; i++) {
        length = length * 10 + (uint64_t)(fields.length[i] - '0');
    }
    if (fields.chunked) {
        self->state = S_CHUNK_SIZE;
    } else if (length) {
        self->state = S_BODY;
        self->remaining = length;
    } else if (fields.upgrade) {
        self->state = S_UPGRADE;
    }
    return 1;
}

//  A chunk-size line: 1 to 15 hex digits (a chunk under 2^60 bytes, so
//  the count of bytes judged ahead cannot wrap), an extension after ';'
//  with no control character but TAB, CRLF.
static int
s_judge_chunk_size(gw_recv_t *self, const char *p, size_t avail, size_t *used_p)
{
    size_t len = 0;
    int rc = s_line(p, avail, &len);
    if (rc <= 0) {
        return rc ? s_refuse_body(self, "malformed chunked body: a chunk-size "
                                        "line is too long")
                  : 0;
    }
    size_t end = len - 1; //  the LF
    if (end == 0 || p[end - 1] != '\r') {
        return s_refuse_body(self, "malformed chunked body: a chunk-size "
                                   "line must end with CRLF");
    }
    end--;
    uint64_t size = 0;
    size_t digits = 0;
    while (digits < end && cm_hex_digit(p[digits]) >= 0) {
        size = size * 16 + (uint64_t)cm_hex_digit(p[digits]);
        digits++;
    }
    bool ok =
        digits >= 1 && digits <= 15 && (digits == end || p[digits] == ';');
    for (size_t i = digits; ok && i < end; i++) {
        unsigned char c = (unsigned char)p[i];
        ok = (c >= 0x20 || c == '\t') && c != 0x7f;
    }
    if (!ok) {
        return s_refuse_body(self, "malformed chunked body: a chunk size "
                                   "must be 1 to 15 hex digits");
    }
    *used_p = len;
    if (size == 0) {
        self->state = S_TRAILER;
        self->trailers = 0;
    } else {
        self->state = S_CHUNK_DATA;
        self->remaining = size;
    }
    return 1;
}

//  A trailer line: a header line, or the empty line that ends the body.
static int
s_judge_trailer(gw_recv_t *self, const char *p, size_t avail, size_t *used_p)
{
    size_t len = 0;
    int rc = s_line(p, avail, &len);
    if (rc <= 0) {
        return rc ? s_refuse_body(self, "malformed chunked body: a trailer "
                                        "line is too long")
                  : 0;
    }
    size_t end = len - 1;
    if (end && p[end - 1] == '\r') {
        end--;
    }
    if (end == 0) {
        self->state = S_HEAD;
        *used_p = len;
        return 1;
    }
    self->trailers += len;
    if (self->trailers > S_TRAILERS_MAX) {
        return s_refuse_body(self, "malformed chunked body: trailers over "
                                   "8192 bytes");
    }
    const char *colon = (const char *)memchr(p, ':', end);
    const char *v = colon ? colon + 1 : p + end;
    const char *vend = p + end;
    while (v < vend && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
        vend--;
    }
    char *message = NULL;
    if (!colon || gw_front_check_field(p, (size_t)(colon - p), v,
                                       (size_t)(vend - v), &message) != 0) {
        free(message);
        return s_refuse_body(self, "malformed chunked body: a trailer line "
                                   "must be a header line");
    }
    *used_p = len;
    return 1;
}

//  Judge what comes after the bytes judged so far, until there are at
//  least `want` or no more can be judged. Returns the bytes peeked at
//  (0 at the end of the stream, -1 when none were there or on error).
static ssize_t
s_judge(gw_recv_t *self, int fd, size_t want)
{
    char *buf = NULL;
    ssize_t n = -2; //  not peeked yet
    while (self->state != S_REFUSED && self->state != S_UPGRADE) {
        if (self->state == S_BODY || self->state == S_CHUNK_DATA) {
            //  Opaque bytes: passed without a look
            self->judged += (size_t)self->remaining;
            self->remaining = 0;
            self->state = self->state == S_BODY ? S_HEAD : S_CHUNK_END;
            continue;
        }
        if (self->judged >= want) {
            break;
        }
        if (n == -2) {
            size_t window =
                self->judged + want + GW_FRONT_HEAD_MAX + S_LINE_MAX;
            buf = s_scratch();
            n = s_recv_next(fd, buf, window < S_SCRATCH ? window : S_SCRATCH,
                            MSG_PEEK | MSG_DONTWAIT);
        }
        if (n <= 0 || self->judged >= (size_t)n) {
            break; //  the bytes to judge have not come
        }
        const char *p = buf + self->judged;
        size_t avail = (size_t)n - self->judged;
        size_t used = 0;
        int rc = 0;
        switch (self->state) {
        case S_HEAD:
            rc = s_judge_head(self, p, avail, &used);
            break;
        case S_CHUNK_SIZE:
            rc = s_judge_chunk_size(self, p, avail, &used);
            break;
        case S_CHUNK_END:
            if (avail >= 2 && p[0] == '\r' && p[1] == '\n') {
                self->state = S_CHUNK_SIZE;
                used = 2;
                rc = 1;
            } else if (avail >= 1 && p[0] != '\r') {
                rc = s_refuse_body(self, "malformed chunked body: a chunk's "
                                         "data must end with CRLF");
            } else if (avail >= 2) {
                rc = s_refuse_body(self, "malformed chunked body: a chunk's "
                                         "data must end with CRLF");
            }
            break;
        default:
            assert(self->state == S_TRAILER);
            rc = s_judge_trailer(self, p, avail, &used);
            break;
        }
        if (rc <= 0) {
            break;
        }
        self->judged += used;
    }
    return n == -2 ? -1 : n;
}

//  True when the peer has closed its side.
static bool
s_hung_up(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

//  libmicrohttpd reads up to `len` bytes of a watched connection.
static ssize_t
s_recv(gw_recv_t *self, int fd, char *buf, size_t len)
{
    if (self->pass || len == 0) {
        return s_recv_next(fd, buf, len, 0);
    }
    ssize_t peeked = -1;
    if (self->judged < len) {
        peeked = s_judge(self, fd, len);
    }
    size_t got = 0;
    if (self->judged > 0) {
        ssize_t n =
            s_recv_next(fd, buf, len < self->judged ? len : self->judged, 0);
        if (n <= 0) {
            return n;
        }
        self->judged -= (size_t)n;
        got = (size_t)n;
        if (self->judged > 0 || self->state != S_REFUSED) {
            return n;
        }
    }
    if (self->state == S_REFUSED) {
        //  All good bytes are given: then ours, in place of the rest
        size_t k = self->fill_len - self->filled;
        if (k > len - got) {
            k = len - got;
        }
        memcpy(buf + got, self->fill + self->filled, k);
        self->filled += k;
        got += k;
        if (got) {
            return (ssize_t)got;
        }
        errno = EAGAIN; //  libmicrohttpd answers, then closes
        return -1;
    }
    if (peeked == 0 || (peeked > 0 && s_hung_up(fd))) {
        return 0; //  the peer closed, with no whole head or chunk line left
    }
    errno = EAGAIN;
    return -1;
}

//  The recv libmicrohttpd calls (and everything else in the process).
ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    gw_recv_t *self = flags == 0 ? gw_recv_lookup(fd) : NULL;
    if (!self) {
        return s_recv_next(fd, buf, len, flags);
    }
    return s_recv(self, fd, (char *)buf, len);
}

//  --------------------------------------------------------------------
//  Self test: a socketpair stands in for a connection; recv on its
//  watched end is what libmicrohttpd would get.

static gw_recv_t *s_test_self;
static int s_test_fds[2];

static void
s_test_open(void)
{
    int rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s_test_fds);
    assert(rc == 0);
    s_test_self = gw_recv_new();
    rc = gw_recv_attach(s_test_self, s_test_fds[0]);
    assert(rc == 0);
    assert(gw_recv_lookup(s_test_fds[0]) == s_test_self);
}

static void
s_test_close(void)
{
    assert(gw_recv_detach(s_test_self, s_test_fds[0]));
    assert(!gw_recv_detach(s_test_self, s_test_fds[0]));
    assert(!gw_recv_lookup(s_test_fds[0]));
    gw_recv_destroy(&s_test_self);
    close(s_test_fds[0]);
    close(s_test_fds[1]);
}

static void
s_test_send(const char *data, size_t len)
{
    ssize_t rc = send(s_test_fds[1], data, len, MSG_NOSIGNAL);
    assert(rc == (ssize_t)len);
}

//  Read as libmicrohttpd would, `ask` at a time, until EAGAIN or the
//  end: what came, NUL-terminated (caller owns), its length in *len_p;
//  *end_p is true at the end of the stream.
static char *
s_test_read(size_t ask, size_t *len_p, bool *end_p)
{
    size_t cap = 1 << 20;
    char *out = (char *)cm_alloc(cap + 1);
    size_t got = 0;
    *end_p = false;
    while (got + ask <= cap) {
        ssize_t n = recv(s_test_fds[0], out + got, ask, 0);
        if (n == 0) {
            *end_p = true;
            break;
        }
        if (n < 0) {
            assert(errno == EAGAIN);
            break;
        }
        got += (size_t)n;
    }
    out[got] = 0;
    *len_p = got;
    return out;
}

//  Send `in`; expect `out` to come (exactly), then EAGAIN.
static void
s_test_expect(const char *in, size_t in_len, const char *out, size_t out_len,
              size_t ask)
{
    if (in_len) {
        s_test_send(in, in_len);
    }
    size_t len = 0;
    bool end = false;
    char *got = s_test_read(ask, &len, &end);
    if (len != out_len || memcmp(got, out, len) != 0 || end) {
        fprintf(stderr, "gw_recv: got %zu '%.300s', want %zu '%.300s'\n", len,
                got, out_len, out);
        assert(false);
    }
    free(got);
}

#define S_EXPECT(in, out, ask)                                                 \
    s_test_expect(in, sizeof in - 1, out, sizeof out - 1, ask)

void
gw_recv_test(bool verbose)
{
    printf(" * gw_recv: ");
    const char *message, *method, *path;
    //  Good requests pass as they are, kept-alive, pipelined, in small
    //  reads; an incomplete head is not read until it is whole
    s_test_open();
    S_EXPECT("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", 4096);
    S_EXPECT("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
             "GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
             "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
             "GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
             7);
    S_EXPECT("GET /c HTTP/1.1\r\nHo", "", 4096);
    S_EXPECT("st: x\r\n\r\n", "GET /c HTTP/1.1\r\nHost: x\r\n\r\n", 4096);
    //  A body that is not all there yet: what came passes
    S_EXPECT("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel",
             "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel",
             4096);
    //  ...body bytes are not looked at, even when they look like a head
    S_EXPECT("HTTP/9\n", "HTTP/9\n", 4096);
    //  A chunked body with an extension and a trailer
    S_EXPECT("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "\r\n5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
             "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "\r\n5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
             3);
    assert(gw_recv_heads(s_test_self) == 6);
    assert(gw_recv_refusal(s_test_self, 6, &message, &method, &path) == 0);
    //  A bad head after good ones: the good ones pass, then a head of
    //  our own that ends the stream, and the refusal names it
    S_EXPECT("GET /d HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/9.9\r\n"
             "Host: x\r\n\r\n",
             "GET /d HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET / HTTP/1.1\r\nHost: refused\r\nConnection: close\r\n\r\n",
             4096);
    assert(gw_recv_heads(s_test_self) == 8);
    assert(gw_recv_refusal(s_test_self, 7, &message, &method, &path) == 0);
    assert(gw_recv_refusal(s_test_self, 8, &message, &method, &path) == 505);
    assert(strstr(message, "HTTP/9.9") && streq(method, "GET") &&
           streq(path, "/ping"));
    //  ...and nothing after it
    S_EXPECT("GET /e HTTP/1.1\r\nHost: x\r\n\r\n", "", 4096);
    s_test_close();

    //  Our head fills reads of any size
    s_test_open();
    S_EXPECT("X\r\n\r\n",
             "GET / HTTP/1.1\r\nHost: refused\r\nConnection: close\r\n\r\n", 1);
    assert(gw_recv_refusal(s_test_self, 1, &message, &method, &path) == 400);
    s_test_close();

    //  Each bad head a later request may have (sizeof: some hold a NUL)
#define S_BAD(head, status, needle)                                            \
    {                                                                          \
        head, sizeof head - 1, status, needle                                  \
    }
    const struct {
        const char *head;
        size_t len;
        int status;
        const char *needle;
    } bad[] = {
        S_BAD("GET /ping HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400,
              "header"),
        S_BAD("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400,
              "Content-Length"),
        S_BAD("POST /a HTTP/1.1\r\nHost: x\r\n"
              "Content-Length: 99999999999999999999\r\n\r\n",
              400, "Content-Length"),
        S_BAD("GET /ping HTTP/1.1\nHost: x\nX-Api-Key: k\0\n\n", 400,
              "X-Api-Key"),
        S_BAD("GET /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
              "\r\nTransfer-Encoding: chunked\r\n\r\n",
              400, "Transfer-Encoding"),
        S_BAD("GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL),
        S_BAD("GET /a HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400, "Host"),
        S_BAD("GET /ping HTTP/9.9\r\nHost: x\r\n\r\n", 505, "HTTP/9.9"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_test_open();
        s_test_send(bad[i].head, bad[i].len);
        size_t got_len = 0;
        bool end = false;
        char *got = s_test_read(4096, &got_len, &end);
        assert(streq(got, s_fill_head));
        free(got);
        int status = gw_recv_refusal(s_test_self, 1, &message, &method, &path);
        if (status != bad[i].status ||
            (bad[i].needle && !strstr(message, bad[i].needle))) {
            fprintf(stderr, "gw_recv: %s: %d %s\n", bad[i].head, status,
                    message);
            assert(false);
        }
        s_test_close();
    }
    //  A head over 16 KiB, arriving in pieces: refused once 16 KiB came
    s_test_open();
    char *big = (char *)cm_alloc(33 * 1024);
    memset(big, 'a', 33 * 1024);
    memcpy(big, "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ", 37);
    s_test_expect(big, 8192, "", 0, 4096);
    s_test_expect(big + 8192, 33 * 1024 - 8192, s_fill_head,
                  sizeof s_fill_head - 1, 4096);
    assert(gw_recv_refusal(s_test_self, 1, &message, &method, &path) == 431);
    free(big);
    s_test_close();

    //  Bad chunked bodies: the good part passes, then the body's end
#define S_CHUNKS(body, out)                                                    \
    {                                                                          \
        body, sizeof body - 1, out                                             \
    }
    const struct {
        const char *body;
        size_t len;
        const char *out;
    } chunks[] = {
        S_CHUNKS("5\r\nhelloXX", "5\r\nhello\r\n0\r\n\r\n"),
        S_CHUNKS("zz\r\n", "0\r\n\r\n"),
        S_CHUNKS("5\nhello\r\n", "0\r\n\r\n"),
        S_CHUNKS("00000000000000005\r\nhello\r\n", "0\r\n\r\n"),
        S_CHUNKS("FFFFFFFFFFFFFFFF\r\nhello\r\n", "0\r\n\r\n"),
        S_CHUNKS("5;a\x01\r\nhello\r\n", "0\r\n\r\n"),
        S_CHUNKS("5\r\nhello\r\n0\r\nnocolon\r\n\r\n",
                 "5\r\nhello\r\n0\r\n\r\n"),
        S_CHUNKS("5\r\nhello\r\n0\r\nX-T: a\0b\r\n\r\n",
                 "5\r\nhello\r\n0\r\n\r\n"),
    };
    const char *chunked = "POST /a HTTP/1.1\r\nHost: x\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n";
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        s_test_open();
        s_test_send(chunked, strlen(chunked));
        char *out = cm_sprintf("%s%s", chunked, chunks[i].out);
        s_test_expect(chunks[i].body, chunks[i].len, out, strlen(out), 4096);
        assert(gw_recv_refusal(s_test_self, 1, &message, &method, &path) ==
               400);
        assert(strstr(message, "chunked"));
        free(out);
        s_test_close();
    }
    //  A chunk line arriving a byte at a time waits for its end
    s_test_open();
    s_test_expect(chunked, strlen(chunked), chunked, strlen(chunked), 4096);
    S_EXPECT("1", "", 4096);
    S_EXPECT("0", "", 4096);
    S_EXPECT("\r", "", 4096);
    S_EXPECT("\n", "10\r\n", 4096);
    s_test_close();

    //  After an Upgrade head nothing is judged until the answer; a
    //  stream then passes as it is
    s_test_open();
    S_EXPECT("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\n\r\n\x81\x05hello",
             "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\n\r\n",
             4096);
    gw_recv_pass(s_test_self);
    S_EXPECT("", "\x81\x05hello", 4096);
    s_test_close();
    //  ...or HTTP goes on when it was refused
    s_test_open();
    S_EXPECT("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"
             "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", 4096);
    gw_recv_request_done(s_test_self);
    S_EXPECT("", "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", 4096);
    s_test_close();

    //  The peer closes: the end comes through, after the good bytes
    s_test_open();
    const char *cut = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HT";
    s_test_send(cut, strlen(cut));
    shutdown(s_test_fds[1], SHUT_WR);
    size_t len = 0;
    bool end = false;
    char *got = s_test_read(4096, &len, &end);
    assert(end && streq(got, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
    free(got);
    s_test_close();

    //  Flags, and descriptors not watched, go straight through
    s_test_open();
    s_test_send("NOT HTTP\r\n\r\n", 12);
    char peek[64];
    assert(recv(s_test_fds[0], peek, sizeof peek, MSG_PEEK) == 12);
    assert(recv(s_test_fds[1], peek, sizeof peek, 0) == -1 && errno == EAGAIN);
    assert(gw_recv_attach(s_test_self, -1) == -1);
    assert(!gw_recv_lookup(S_PAGE * S_PAGES));
    s_test_close();
    (void)verbose;
    printf("OK\n");
}
