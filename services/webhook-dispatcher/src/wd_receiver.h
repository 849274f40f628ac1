/*  wd_receiver - a loopback HTTP receiver for tests and benchmarks

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Stands in for a webhook target: a libmicrohttpd daemon on 127.0.0.1
    that collects each request's body (cut at max_body bytes) and hands
    the complete request to a callback, which says what status to answer
    (the response body is always "ok"). The callback runs on
    libmicrohttpd's threads: it may only touch state made for that
    (atomics, a mutex). Used by the wd self tests and by
    bench/bench_webhooks.c and bench/bench_engine.c, never by the service.
*/
#ifndef WD_RECEIVER_H_INCLUDED
#define WD_RECEIVER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _wd_receiver_t wd_receiver_t;
struct MHD_Connection;

//  One complete request: url, its body (NUL-terminated, cut at max_body
//  bytes) and the connection (for wd_receiver_header). Returns the HTTP
//  status to answer with.
typedef unsigned(wd_receiver_fn)(struct MHD_Connection *conn, const char *url,
                                 const char *body, size_t len, void *arg);

typedef struct {
    unsigned port;        //  port on 127.0.0.1; 0 picks a free one
    unsigned flags;       //  MHD_USE_* threading (0: one polling thread)
    unsigned threads;     //  thread pool size (0: none)
    unsigned connections; //  connection limit (0: libmicrohttpd's)
    size_t max_body;      //  body bytes kept (0: WD_RECEIVER_BODY)
} wd_receiver_opts_t;

//  Body bytes kept when max_body is 0.
#define WD_RECEIVER_BODY 255

//  Start a receiver calling fn(…, arg) per request. opts may be NULL
//  (defaults). Returns NULL if the daemon could not start. Caller owns
//  return value.
wd_receiver_t *wd_receiver_new(const wd_receiver_opts_t *opts,
                               wd_receiver_fn *fn, void *arg);

//  Stop the daemon (waits for its threads) and free it.
void wd_receiver_destroy(wd_receiver_t **self_p);

//  The port it listens on.
unsigned wd_receiver_port(wd_receiver_t *self);

//  Request header `name` of conn, or "" when absent. Borrowed: valid
//  during the callback.
const char *wd_receiver_header(struct MHD_Connection *conn, const char *name);

void wd_receiver_test(bool verbose);

#endif
