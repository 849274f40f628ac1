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
    path, in query values and in header values. That covers the first
    request of a connection; gw_recv runs gw_front_check_head on every
    later head of a kept-alive connection before libmicrohttpd reads it,
    and gw_http makes the same checks (through the functions below) from
    what libmicrohttpd parsed.
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
//  Longest method name.
#define GW_FRONT_METHOD_MAX 16
//  Most header fields and query parameters in one request head.
//  libmicrohttpd keeps each (about 64 bytes) in the connection's memory
//  pool (2 x GW_FRONT_HEAD_MAX, which also holds the head): past what
//  fits it answered its own HTML 431 (headers) or closed without an
//  answer, leaking the request's state (query parameters).
#define GW_FRONT_FIELDS_MAX 100
#define GW_FRONT_QUERY_MAX 100

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

//  Where the request head in buf[0..len) ends (just past its empty line;
//  empty lines before the request line do not end it), or 0 when it has
//  not ended within those bytes.
size_t gw_front_head_end(const char *buf, size_t len);

//  The checks gw_front_check_head makes, piece by piece, for a request
//  libmicrohttpd has parsed (gw_http runs them on every request of a
//  kept-alive connection). Each returns 0, or the HTTP status to answer
//  with *message_p set (caller owns).
//  The request target as it came (before %-decoding): length, no space
//  or control character raw or decoded in the path (in the query TAB, LF
//  and CR are allowed decoded), a path starting with /.
int gw_front_check_target(const char *target, size_t len, char **message_p);

//  True when s[0..len) is an HTTP token of 1 to max bytes.
bool gw_front_token(const char *s, size_t len, size_t max);

//  One header: a token name, no control character but TAB in the value.
int gw_front_check_field(const char *name, size_t name_len, const char *value,
                         size_t value_len, char **message_p);

//  What the headers say together: one Host on HTTP/1.1, one decimal
//  Content-Length (repeats must agree), Transfer-Encoding chunked alone.
//  Zero-initialise, add every header, then end.
typedef struct {
    int hosts;
    const char *length; //  borrowed
    size_t length_len;
    bool te;
    bool chunked;
    bool upgrade; //  an Upgrade header
    int count;    //  header fields so far
} gw_front_fields_t;

int gw_front_fields_add(gw_front_fields_t *self, const char *name,
                        size_t name_len, const char *value, size_t value_len,
                        char **message_p);
int gw_front_fields_end(gw_front_fields_t *self, bool http11, char **message_p);

//  gw_front_check_head that also gives what the headers said (how the
//  body is framed) in *fields_p when the head is good; its `length`
//  points into `head`.
int gw_front_check_head_fields(const char *head, size_t len, char **method_p,
                               char **path_p, char **message_p,
                               gw_front_fields_t *fields_p);

void gw_front_test(bool verbose);

#endif
