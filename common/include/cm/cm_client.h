/*  cm_client - request/reply over a DEALER socket, with deadlines

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One DEALER connects to every endpoint in a comma-separated list, so a
    client spreads requests over several servers (e.g. store-services) and
    keeps working when one goes away. Replies are matched by corr. A
    request that gets no reply before its deadline completes with a
    synthesized 504 reply, so callers always get an answer.

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

//  The socket, for the owner's poller. Only cm_client reads it.
zsock_t *cm_client_sock(cm_client_t *self);

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

//  Read every reply waiting on the socket and run callbacks. Call when the
//  socket is readable.
void cm_client_dispatch(cm_client_t *self);

//  Complete expired requests with 504. Returns ms until the next deadline
//  (-1 when nothing is pending), for the owner's poll timeout.
int cm_client_expire(cm_client_t *self);

//  Number of requests waiting for a reply.
size_t cm_client_pending(cm_client_t *self);

//  Watch the connections: when one to a server drops (the server died or
//  stopped), the requests in flight will get no reply, so every callback
//  request pending is completed with 503 "server went away" at once
//  instead of at its deadline (replies already received are taken
//  first). With several endpoints the requests of the servers still up
//  fail too (a request's server is not known). Returns the monitor
//  socket for the owner's poller (cm_client_watch_dispatch when
//  readable), or NULL. Once per client.
zsock_t *cm_client_watch(cm_client_t *self);

//  Read the monitor socket's events; call when it is readable.
void cm_client_watch_dispatch(cm_client_t *self);

void cm_client_test(bool verbose);

#endif
