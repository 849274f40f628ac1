/*  gw_front - the gateway's front door: accepts HTTP connections and
    checks each request's head before libmicrohttpd sees it

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One thread, one epoll set. A new connection is counted (at most
    GATEWAY_MAX_CONNECTIONS in all, 503 past it; at most
    GATEWAY_MAX_CONNECTIONS_PER_IP from one address, 429 past it) and
    waits here, costing a descriptor and no thread, until its request
    head (request line and headers, at most GW_FRONT_HEAD_MAX bytes) is
    in the socket's receive buffer. The head is peeked at, not read, and
    checked (gw_front_check_head); a good head hands the connection to
    libmicrohttpd, which reads it again. A head that is not complete
    GATEWAY_HEADER_TIMEOUT_MS after the connection opened closes it (idle
    and slowloris connections), with a 408 when some bytes came.

    Everything libmicrohttpd would refuse by itself with an HTML page (a
    bad request line, an HTTP version other than 1.0 and 1.1, a header
    too large, a missing Host, a malformed Content-Length) is answered
    here in the API's JSON error shape, as are control characters in the
    path, in query values and in header values. Each response closes its
    connection, so every request passes through here.
*/
#ifndef GW_FRONT_H_INCLUDED
#define GW_FRONT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "gw_config.h"

//  Largest request head (request line and headers) and request target.
#define GW_FRONT_HEAD_MAX 16384
#define GW_FRONT_TARGET_MAX 8192

typedef struct _gw_front_t gw_front_t;

//  Takes `fd`, a connection whose head passed the checks.
typedef void(gw_front_handoff_fn)(void *arg, int fd,
                                  const struct sockaddr *addr,
                                  socklen_t addrlen);

//  Listen on WHATSAPP_API_HOSTNAME:WHATSAPP_API_PORT (`port_override` >=
//  0 replaces the port; 0 picks one) and serve in a thread. NULL when the
//  address cannot be used. Caller owns return value.
gw_front_t *gw_front_new(const gw_config_t *config, int port_override,
                         gw_front_handoff_fn *handoff, void *arg);

//  Stop accepting and close the connections still waiting here; the
//  accounting calls below stay valid until destroy.
void gw_front_stop(gw_front_t *self);

//  Stop (if not yet) and free.
void gw_front_destroy(gw_front_t **self_p);

//  The port we listen on.
int gw_front_port(gw_front_t *self);

//  Per-address accounting of connections handed off: call when one
//  starts and when it closes (any thread).
void gw_front_opened(gw_front_t *self, const struct sockaddr *addr);
void gw_front_closed(gw_front_t *self, const struct sockaddr *addr);

//  Connections open (waiting here or handed off).
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
