/*  bench_engine - end-to-end messages per second and latency, from the
    API accepting /api/sendText to the receiving session's `message`
    webhook

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A load generator and a webhook receiver in one process, run against a
    whole Wharf stack whose sessions are linked to wa-sim accounts (see
    bench/bench_engine.py, which starts the stack, pairs the sessions and
    runs this):

      bench_engine --api PORT --key KEY --routes FILE --port RXPORT
                   [--messages N] [--conns C] [--rate R] [--timeout S]

    FILE has one route a line, "<session> <chatId>": the session that
    sends and the number it sends to. Message i goes over route i mod
    routes with the text "wb#<i>#", from one of C keep-alive HTTP/1.1
    connections (single-threaded poll loop, raw sockets). With --rate R
    it offers R messages/s (open loop, still at most C in flight), else
    each connection sends its next message when the previous one is
    answered (closed loop). The receiver (libmicrohttpd, 2 threads,
    epoll) listens on 127.0.0.1:RXPORT, finds "wb#<i>#" in each webhook
    body and stamps its arrival.

    Times are CLOCK_MONOTONIC in microseconds in this one process. e2e
    latency = webhook arrival - time the request was written; api latency
    = response read - time written (sendText answers once the server
    acked the message). Prints one JSON line; the process's own CPU time
    (sender and receiver) is in it as client_cpu_us_per_msg.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cm/cm.h"
#include "wd_receiver.h"

#define BENCH_MARK "wb#"

static int64_t
s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  Receiver state, shared with libmicrohttpd's threads (atomics only).
typedef struct {
    atomic_long received;     //  webhook requests
    atomic_long matched;      //  first arrivals of a bench message
    atomic_long duplicates;   //  a bench message that arrived again
    atomic_long foreign;      //  requests without a bench mark
    _Atomic int64_t *arrival; //  us per message index, 0 = not yet
    long count;
} s_rx_t;

static void
s_rx_body(s_rx_t *rx, const char *body, size_t len)
{
    int64_t now = s_now_us();
    const char *p = memmem(body, len, BENCH_MARK, strlen(BENCH_MARK));
    if (!p) {
        atomic_fetch_add(&rx->foreign, 1);
        return;
    }
    long i = strtol(p + strlen(BENCH_MARK), NULL, 10);
    if (i < 0 || i >= rx->count) {
        atomic_fetch_add(&rx->foreign, 1);
        return;
    }
    int64_t zero = 0;
    if (atomic_compare_exchange_strong(&rx->arrival[i], &zero, now)) {
        atomic_fetch_add(&rx->matched, 1);
    } else {
        atomic_fetch_add(&rx->duplicates, 1);
    }
}

static unsigned
s_request(struct MHD_Connection *conn, const char *url, const char *body,
          size_t len, void *arg)
{
    s_rx_t *rx = (s_rx_t *)arg;
    atomic_fetch_add(&rx->received, 1);
    s_rx_body(rx, body, len);
    return 200;
}

//  One route: who sends, to whom.
typedef struct {
    char *session;
    char *chat;
} s_route_t;

//  One client connection.
typedef struct {
    int fd;
    long msg;       //  message in flight, -1 when idle
    int64_t idle;   //  when it last became idle (us)
    char out[1024]; //  request being written
    size_t out_len;
    size_t out_off;
    char in[16384]; //  response being read
    size_t in_len;
} s_conn_t;

typedef struct {
    int port;
    const char *key;
    s_route_t *routes;
    long nroutes;
    long messages;
    int nconns;
    double rate;
    s_conn_t *conns;
    int64_t *sent;     //  us per message
    int64_t *answered; //  us per message
    int *status;       //  HTTP status per message
    long next;         //  next message to send
    long done;         //  answered (any status)
    long accepted;     //  answered 201
    long failed;
    int64_t start;
    char first_error[512];
} s_gen_t;

static int
s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

//  A kept-alive connection the gateway may have closed: idle for
//  BENCH_IDLE_MAX_US (under GATEWAY_KEEPALIVE_TIMEOUT_MS's default 5 s),
//  or already closed by the peer. A client that sends on it races the
//  gateway's close and loses that request; HTTP client libraries retire
//  such connections before reuse, and so does this one.
#define BENCH_IDLE_MAX_US 4000000
static bool
s_stale(const s_conn_t *c, int64_t now)
{
    if (now - c->idle >= BENCH_IDLE_MAX_US) {
        return true;
    }
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

//  Build message i's request into c and stamp it.
static void
s_start(s_gen_t *g, s_conn_t *c, long i)
{
    s_route_t *r = &g->routes[i % g->nroutes];
    char body[512];
    int blen = snprintf(body, sizeof body,
                        "{\"session\":\"%s\",\"chatId\":\"%s\","
                        "\"text\":\"" BENCH_MARK "%ld# end-to-end benchmark\"}",
                        r->session, r->chat, i);
    int n = snprintf(c->out, sizeof c->out,
                     "POST /api/sendText HTTP/1.1\r\n"
                     "Host: 127.0.0.1\r\n"
                     "X-Api-Key: %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Accept: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     g->key, blen, body);
    assert(n > 0 && (size_t)n < sizeof c->out);
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->in_len = 0;
    c->msg = i;
    g->sent[i] = s_now_us();
}

//  Try to complete the response in c->in. Returns 1 when one is complete
//  (and records it), 0 when more is needed, -1 on a malformed response.
static int
s_parse(s_gen_t *g, s_conn_t *c)
{
    c->in[c->in_len] = 0;
    char *eoh = strstr(c->in, "\r\n\r\n");
    if (!eoh) {
        return 0;
    }
    int status = 0;
    if (sscanf(c->in, "HTTP/1.1 %d", &status) != 1) {
        return -1;
    }
    const char *cl = strcasestr(c->in, "\r\nContent-Length:");
    if (!cl || cl > eoh) {
        return -1;
    }
    size_t len = strtoul(cl + 17, NULL, 10);
    size_t head = (size_t)(eoh + 4 - c->in);
    if (c->in_len < head + len) {
        return 0;
    }
    long i = c->msg;
    g->answered[i] = s_now_us();
    g->status[i] = status;
    g->done++;
    if (status == 201) {
        g->accepted++;
    } else {
        g->failed++;
        if (!g->first_error[0]) {
            snprintf(g->first_error, sizeof g->first_error, "%d %.*s", status,
                     (int)(len < 300 ? len : 300), eoh + 4);
        }
    }
    c->msg = -1;
    c->idle = s_now_us();
    if (c->in_len > head + len) {
        return -1; //  no pipelining: extra bytes are a protocol error
    }
    c->in_len = 0;
    //  The server closes after this answer: reconnect before the next
    const char *conn = strcasestr(c->in, "\r\nConnection:");
    if (conn && conn < eoh && strncasecmp(conn + 13, " close", 6) == 0) {
        return 2;
    }
    return 1;
}

static int
s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

//  Percentile of a sorted array, in ms.
static double
s_pct(const int64_t *v, long n, double p)
{
    if (n == 0) {
        return -1;
    }
    long k = (long)(p * (double)(n - 1) + 0.5);
    return (double)v[k] / 1000.0;
}

static int
s_load_routes(s_gen_t *g, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    char line[512];
    long cap = 0;
    while (fgets(line, sizeof line, f)) {
        char s[200], c[200];
        if (sscanf(line, "%199s %199s", s, c) != 2) {
            continue;
        }
        if (g->nroutes == cap) {
            cap = cap ? cap * 2 : 64;
            g->routes = realloc(g->routes, (size_t)cap * sizeof(s_route_t));
            assert(g->routes);
        }
        g->routes[g->nroutes].session = cm_strdup(s);
        g->routes[g->nroutes].chat = cm_strdup(c);
        g->nroutes++;
    }
    fclose(f);
    return g->nroutes > 0 ? 0 : -1;
}

static double
s_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
    s_gen_t g = {0};
    g.messages = 10000;
    g.nconns = 64;
    const char *routes = NULL;
    int rx_port = 0;
    int timeout_s = 120;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--api")) {
            g.port = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--key")) {
            g.key = argv[i + 1];
        } else if (!strcmp(argv[i], "--routes")) {
            routes = argv[i + 1];
        } else if (!strcmp(argv[i], "--port")) {
            rx_port = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--messages")) {
            g.messages = atol(argv[i + 1]);
        } else if (!strcmp(argv[i], "--conns")) {
            g.nconns = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--rate")) {
            g.rate = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--timeout")) {
            timeout_s = atoi(argv[i + 1]);
        }
    }
    if (g.port <= 0 || !g.key || !routes || rx_port <= 0 || g.messages < 1 ||
        g.nconns < 1 || s_load_routes(&g, routes) != 0) {
        fprintf(stderr, "usage: bench_engine --api PORT --key KEY --routes "
                        "FILE --port RXPORT [--messages N] [--conns C] "
                        "[--rate R] [--timeout S]\n");
        return 64;
    }
    s_rx_t rx = {0};
    rx.count = g.messages;
    rx.arrival = cm_alloc((size_t)g.messages * sizeof(int64_t));
    wd_receiver_opts_t rx_opts = {.port = (unsigned)rx_port,
                                  .flags = MHD_USE_EPOLL_INTERNAL_THREAD,
                                  .threads = 2,
                                  .connections = 4096,
                                  .max_body = 8191};
    wd_receiver_t *mhd = wd_receiver_new(&rx_opts, s_request, &rx);
    if (!mhd) {
        fprintf(stderr, "bench_engine: could not listen on port %d\n", rx_port);
        return 1;
    }
    g.sent = cm_alloc((size_t)g.messages * sizeof(int64_t));
    g.answered = cm_alloc((size_t)g.messages * sizeof(int64_t));
    g.status = cm_alloc((size_t)g.messages * sizeof(int));
    g.conns = cm_alloc((size_t)g.nconns * sizeof(s_conn_t));
    struct pollfd *pfd = cm_alloc((size_t)g.nconns * sizeof(struct pollfd));
    for (int k = 0; k < g.nconns; k++) {
        g.conns[k].fd = s_connect(g.port);
        g.conns[k].msg = -1;
        g.conns[k].idle = s_now_us();
        if (g.conns[k].fd < 0) {
            fprintf(stderr, "bench_engine: could not connect: %s\n",
                    strerror(errno));
            return 1;
        }
    }
    double cpu0 = s_cpu_s();
    g.start = s_now_us();
    int64_t deadline = g.start + (int64_t)timeout_s * 1000000;
    int reconnects = 0; //  after a broken connection
    int closes = 0;     //  after an answer with Connection: close
    int retired = 0;    //  idle ones replaced before reuse (s_stale)
    while (g.done < g.messages && s_now_us() < deadline) {
        //  Start what the rate allows on idle connections
        int64_t now = s_now_us();
        for (int k = 0; k < g.nconns && g.next < g.messages; k++) {
            s_conn_t *c = &g.conns[k];
            if (c->msg >= 0) {
                continue;
            }
            if (g.rate > 0 &&
                (double)g.next >= (double)(now - g.start) * g.rate / 1e6) {
                break;
            }
            if (s_stale(c, now)) {
                close(c->fd);
                c->fd = s_connect(g.port);
                c->idle = now;
                retired++;
                if (c->fd < 0) {
                    fprintf(stderr, "bench_engine: could not reconnect\n");
                    return 1;
                }
            }
            s_start(&g, c, g.next++);
        }
        for (int k = 0; k < g.nconns; k++) {
            s_conn_t *c = &g.conns[k];
            pfd[k].fd = c->fd;
            pfd[k].events = c->msg < 0                ? 0
                            : c->out_off < c->out_len ? POLLOUT
                                                      : POLLIN;
            pfd[k].revents = 0;
        }
        int rc = poll(pfd, (nfds_t)g.nconns, g.rate > 0 ? 1 : 100);
        if (rc < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (int k = 0; rc > 0 && k < g.nconns; k++) {
            s_conn_t *c = &g.conns[k];
            if (!pfd[k].revents || c->msg < 0) {
                continue;
            }
            bool broken = false;
            if (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off,
                                 c->out_len - c->out_off, MSG_NOSIGNAL);
                if (n > 0) {
                    c->out_off += (size_t)n;
                } else if (n < 0 && errno != EAGAIN) {
                    broken = true;
                }
            } else {
                ssize_t n = recv(c->fd, c->in + c->in_len,
                                 sizeof c->in - 1 - c->in_len, 0);
                if (n > 0) {
                    c->in_len += (size_t)n;
                    int parsed = s_parse(&g, c);
                    if (parsed < 0) {
                        broken = true;
                    } else if (parsed == 2) {
                        //  Answered with Connection: close: a new one
                        close(c->fd);
                        c->fd = s_connect(g.port);
                        closes++;
                        if (c->fd < 0) {
                            fprintf(stderr,
                                    "bench_engine: could not reconnect\n");
                            return 1;
                        }
                    }
                } else if (n == 0 || errno != EAGAIN) {
                    broken = true;
                }
            }
            if (broken) {
                //  The message in flight is lost to the client: count it
                //  as failed and reconnect.
                if (c->msg >= 0) {
                    g.status[c->msg] = -1;
                    g.failed++;
                    g.done++;
                    c->msg = -1;
                }
                close(c->fd);
                c->fd = s_connect(g.port);
                c->idle = s_now_us();
                reconnects++;
                if (c->fd < 0) {
                    fprintf(stderr, "bench_engine: could not reconnect\n");
                    return 1;
                }
            }
        }
    }
    int64_t sent_end = s_now_us();
    //  Wait for the webhooks of the accepted messages
    while (atomic_load(&rx.matched) < g.accepted && s_now_us() < deadline) {
        usleep(2000);
    }
    int64_t end = s_now_us();
    double cpu = s_cpu_s() - cpu0;

    //  Figures
    long n = 0;
    int64_t *e2e = cm_alloc((size_t)g.messages * sizeof(int64_t));
    int64_t *api = cm_alloc((size_t)g.messages * sizeof(int64_t));
    int64_t *arr = cm_alloc((size_t)g.messages * sizeof(int64_t));
    int64_t last = g.start;
    long napi = 0;
    for (long i = 0; i < g.messages; i++) {
        if (g.status[i] == 201) {
            api[napi++] = g.answered[i] - g.sent[i];
        }
        int64_t a = atomic_load(&rx.arrival[i]);
        if (a && g.status[i] == 201) {
            e2e[n] = a - g.sent[i];
            arr[n] = a;
            n++;
            last = a > last ? a : last;
        }
    }
    qsort(e2e, (size_t)n, sizeof(int64_t), s_cmp);
    qsort(api, (size_t)napi, sizeof(int64_t), s_cmp);
    qsort(arr, (size_t)n, sizeof(int64_t), s_cmp);
    double steady = 0;
    if (n >= 20) {
        long a = n / 10;
        long b = n * 9 / 10;
        int64_t span = arr[b] - arr[a];
        steady = span > 0 ? (double)(b - a) * 1e6 / (double)span : 0;
    }
    double total_s = (double)(last - g.start) / 1e6;
    double send_s = (double)(sent_end - g.start) / 1e6;
    printf("{\"messages\":%ld,\"routes\":%ld,\"conns\":%d,\"rate\":%.0f,"
           "\"accepted\":%ld,\"failed\":%ld,\"reconnects\":%d,\"closes\":%d,"
           "\"retired\":%d,"
           "\"delivered\":%ld,\"duplicates\":%ld,\"foreign\":%ld,"
           "\"send_s\":%.3f,\"accepted_per_s\":%.1f,\"total_s\":%.3f,"
           "\"delivered_per_s\":%.1f,\"steady_per_s\":%.1f,"
           "\"e2e_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
           "\"api_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
           "\"client_cpu_s\":%.3f,\"client_cpu_us_per_msg\":%.1f,"
           "\"wall_s\":%.3f}\n",
           g.messages, g.nroutes, g.nconns, g.rate, g.accepted, g.failed,
           reconnects, closes, retired, n, atomic_load(&rx.duplicates),
           atomic_load(&rx.foreign), send_s,
           send_s > 0 ? (double)g.accepted / send_s : 0, total_s,
           total_s > 0 ? (double)n / total_s : 0, steady, s_pct(e2e, n, 0.5),
           s_pct(e2e, n, 0.9), s_pct(e2e, n, 0.99), s_pct(e2e, n, 1.0),
           s_pct(api, napi, 0.5), s_pct(api, napi, 0.9), s_pct(api, napi, 0.99),
           s_pct(api, napi, 1.0), cpu, n ? cpu * 1e6 / (double)n : 0,
           (double)(end - g.start) / 1e6);
    if (g.first_error[0]) {
        fprintf(stderr, "bench_engine: first failure: %s\n", g.first_error);
    }
    for (int k = 0; k < g.nconns; k++) {
        close(g.conns[k].fd);
    }
    wd_receiver_destroy(&mhd);
    for (long r = 0; r < g.nroutes; r++) {
        free(g.routes[r].session);
        free(g.routes[r].chat);
    }
    free(g.routes);
    free(g.conns);
    free(pfd);
    free(g.sent);
    free(g.answered);
    free(g.status);
    free(e2e);
    free(api);
    free(arr);
    free((void *)rx.arrival);
    return n == g.accepted && g.accepted > 0 ? 0 : 1;
}
