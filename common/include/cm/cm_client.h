/*  cm_client - request/reply over a DEALER socket, with deadlines

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A client talks to every server in a comma-separated list of endpoints
    (e.g. several store-services or media-services) through one DEALER
    per endpoint, each with ZMQ_IMMEDIATE, and hands requests round-robin
    to the servers that are connected; it keeps working when one goes
    away. Replies are matched by corr. A request that gets no reply before
    its deadline completes with a synthesized 504 reply, so callers always
    get an answer.

    The client watches its connections (a ZeroMQ socket monitor per
    DEALER) and knows which server holds each request: when a server's
    connection drops (it died or stopped), the requests it held will get
    no reply, so they complete at once with 503 "server went away", or,
    with cm_client_set_resend, go again (same id) to another connected
    server. The requests of the servers still up are not touched.

    Use from one thread only. Both a blocking call and callbacks driven by
    the owner's poll loop are offered.
*/
#ifndef CM_CLIENT_H_INCLUDED
#define CM_CLIENT_H_INCLUDED

#include "cm_msg.h"

typedef struct _cm_client_t cm_client_t;

//  Called with the reply (owned by the callback: destroy or keep it).
typedef void(cm_client_fn)(cm_msg_t **reply_p, void *arg);

//  Connect a DEALER to each of `endpoints` (comma-separated). NULL when an
//  endpoint is invalid.
cm_client_t *cm_client_new(const char *endpoints);

void cm_client_destroy(cm_client_t **self_p);

//  The sockets the owner's poller watches (a DEALER and a connection
//  monitor per endpoint): when any is readable, call cm_client_dispatch.
//  Index 0 .. cm_client_sock_count - 1; only cm_client reads them.
size_t cm_client_sock_count(cm_client_t *self);
zsock_t *cm_client_sock(cm_client_t *self, size_t index);

//  Whether some server is connected, so that a request can go now.
bool cm_client_ready(cm_client_t *self);

//  Send timeout of every DEALER (ZMQ_SNDTIMEO): 0 never blocks the
//  caller when no server is connected (the request fails with 503).
void cm_client_set_sndtimeo(cm_client_t *self, int timeout_ms);

//  Requests are safe to repeat: when a server goes away, the callback
//  requests it held go again, with the same id, to another connected
//  server (until their deadline); only when none is connected do they
//  fail with 503. The client keeps a copy of each request in flight.
void cm_client_set_resend(cm_client_t *self, bool resend);

//  Send *request_p and wait up to timeout_ms for its reply; consumes the
//  request. Replies to other pending requests met meanwhile go to their
//  callbacks. Never NULL: a timeout gives a 504 reply. Caller owns return
//  value.
cm_msg_t *cm_client_call(cm_client_t *self, cm_msg_t **request_p,
                         int timeout_ms);

//  As cm_client_call, but resend the same request (same id, so servers
//  can deduplicate) up to `attempts` times, each waiting attempt_ms, while
//  the reply is a 504 or 503. For idempotent requests.
cm_msg_t *cm_client_call_retry(cm_client_t *self, cm_msg_t **request_p,
                               int attempt_ms, int attempts);

//  Send *request_p without waiting; `fn` gets the reply or a 504 after
//  timeout_ms. Consumes the request. Returns 0, or -1 if it could not be
//  sent (fn is then called with a 503 before return).
int cm_client_send(cm_client_t *self, cm_msg_t **request_p, int timeout_ms,
                   cm_client_fn *fn, void *arg);

//  Read every reply and connection event waiting on the sockets and run
//  callbacks. Call when one of the sockets is readable.
void cm_client_dispatch(cm_client_t *self);

//  Complete expired requests with 504. Returns ms until the next deadline
//  (-1 when nothing is pending), for the owner's poll timeout.
int cm_client_expire(cm_client_t *self);

//  Number of requests waiting for a reply.
size_t cm_client_pending(cm_client_t *self);

void cm_client_test(bool verbose);

#endif
