/*  gw_front - the gateway's HTTP/1.1 server: connections, request
    heads and bodies, responses

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    GATEWAY_HTTP_THREADS event loops (epoll) share the listening socket.
    A new connection is counted (at most GATEWAY_MAX_CONNECTIONS in all,
    503 past it; at most GATEWAY_MAX_CONNECTIONS_PER_IP from one address,
    429 past it) and costs a descriptor and a small buffer, no thread.

    Connections are kept alive. Every request on a connection, the first
    and the following ones alike, waits until its whole head (request
    line and headers, at most GW_FRONT_HEAD_MAX bytes) is in, and the head
    is checked (gw_front_check_head) before anything else looks at it: a
    bad request line, an HTTP version other than 1.0 and 1.1, a head too
    large, a missing Host, a malformed Content-Length, and control
    characters in the path, in query values or in header values are
    answered in the API's JSON error shape and close the connection. A
    head not complete GATEWAY_HEADER_TIMEOUT_MS after the connection
    became ready for it (opened, or answered its previous request) closes
    it, with a 408 when some bytes came.

    A good head becomes a gw_req_t and goes to ops->begin, which may
    answer it at once (404, 401, 413...: the body is not read, and the
    connection closes when one was announced). Otherwise the body is read
    (Content-Length, or chunked: a malformed chunk gets a JSON 400), each
    growth passed to ops->grow (which may refuse: the rest is read and
    dropped, then answered), and the complete request goes to ops->run,
    which answers it from another thread through gw_front_done. A body or
    a response on which nothing moves for GATEWAY_IDLE_TIMEOUT_S closes
    the connection. A 101 hands the socket to the request's upgrade
    function (gw_req_run_upgrade) with a handle for gw_front_upgrade_close.
*/
#ifndef GW_FRONT_H_INCLUDED
#define GW_FRONT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "gw_config.h"
#include "gw_req.h"

//  Largest request head (request line and headers) and request target.
#define GW_FRONT_HEAD_MAX 16384
#define GW_FRONT_TARGET_MAX 8192

typedef struct _gw_front_t gw_front_t;

//  What the server does with requests (all called from its threads).
typedef struct {
    //  A request's head passed the checks: `req` holds its method,
    //  decoded path (without trailing slashes), headers and query.
    //  Returns the caller's context for it (not NULL; passed to the calls
    //  below). Answering `req` here (gw_req_status set) answers before
    //  any body byte is read.
    void *(*begin)(void *arg, gw_req_t *req);
    //  The body is about to grow to `total` bytes. Returns 0, or -1 after
    //  answering `req` (413, 503: the rest of the body is read and
    //  dropped).
    int (*grow)(void *arg, void *call, gw_req_t *req, size_t total);
    //  The body is in: answer `req` (in another thread), then call
    //  gw_front_done(front, token).
    void (*run)(void *arg, void *call, gw_req_t *req, void *token);
    //  The request is over (answered, or its connection gone): free
    //  `call`. `req` is destroyed after.
    void (*end)(void *arg, void *call, gw_req_t *req);
} gw_front_ops_t;

//  Listen on WHATSAPP_API_HOSTNAME:WHATSAPP_API_PORT (`port_override` >=
//  0 replaces the port; 0 picks one) and serve in GATEWAY_HTTP_THREADS
//  threads. NULL when the address cannot be used. Caller owns return
//  value.
gw_front_t *gw_front_new(const gw_config_t *config, int port_override,
                         const gw_front_ops_t *ops, void *arg);

//  A request given to ops->run is answered (any thread).
void gw_front_done(gw_front_t *self, void *token);

//  End an upgraded connection: closes its socket. `handle` is what
//  gw_req_run_upgrade gave.
void gw_front_upgrade_close(void *handle);

//  Stop accepting and serving, and close every connection not waiting
//  for ops->run (those are closed by destroy, once their handlers have
//  stopped).
void gw_front_stop(gw_front_t *self);

//  Stop (if not yet) and free.
void gw_front_destroy(gw_front_t **self_p);

//  The port we listen on.
int gw_front_port(gw_front_t *self);

//  Connections open (upgraded ones included).
size_t gw_front_connections(gw_front_t *self);

//  Check a complete request head (`len` bytes up to and including the
//  empty line). Returns 0 when it is good, else the HTTP status to
//  answer with *message_p set (caller owns). *method_p and *path_p
//  receive the method and raw path when they could be read (caller
//  owns; NULL otherwise), to pick the error's shape.
int gw_front_check_head(const char *head, size_t len, char **method_p,
                        char **path_p, char **message_p);

void gw_front_test(bool verbose);

#endif
