/*  sim_http - a small JSON/bytes HTTP server on libmicrohttpd, driven by
    a czmq zloop (no threads)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    MHD runs in external epoll mode: its epoll descriptor is a zloop
    poller and MHD's own timeouts a zloop timer, so the control API, the
    media host and the WebSocket listener share one thread with the
    simulator state. A request is handed to the handler once its body is
    complete; the handler fills a reply synchronously.
*/
#ifndef SIM_HTTP_H_INCLUDED
#define SIM_HTTP_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _sim_http_t sim_http_t;
typedef struct _sim_http_req_t sim_http_req_t;

//  Handle one complete request: call exactly one sim_http_reply_* on req
//  (a 500 is sent when none is called).
typedef void(sim_http_fn)(void *arg, sim_http_req_t *req);

//  Listen on bind:port (port 0 = any free port) with a body limit. The
//  handler runs inside zloop callbacks. NULL if MHD cannot start (logged).
//  Caller owns return value.
sim_http_t *sim_http_new(zloop_t *loop, const char *bind, uint16_t port,
                         size_t body_limit, sim_http_fn *fn, void *arg);

//  As sim_http_new, serving HTTPS with a PEM certificate and key (both
//  NUL-terminated; MHD's TLS, GnuTLS). Caller owns return value.
sim_http_t *sim_http_new_tls(zloop_t *loop, const char *bind, uint16_t port,
                             size_t body_limit, const char *cert_pem,
                             const char *key_pem, sim_http_fn *fn, void *arg);

//  Stop listening and close every connection.
void sim_http_destroy(sim_http_t **self_p);

//  The port actually bound.
uint16_t sim_http_port(sim_http_t *self);

//  Request method ("GET", ...), path (no query) and body. Borrowed.
const char *sim_http_method(sim_http_req_t *req);
const char *sim_http_path(sim_http_req_t *req);
const uint8_t *sim_http_body(sim_http_req_t *req, size_t *len_p);

//  Query argument or request header value, NULL when absent. Borrowed.
const char *sim_http_arg(sim_http_req_t *req, const char *name);
const char *sim_http_header(sim_http_req_t *req, const char *name);

//  Parse the body as a JSON object (an empty body gives {}). NULL when
//  the body is not a JSON object. Caller owns return value.
json_t *sim_http_json(sim_http_req_t *req);

//  Reply with a JSON document (takes the reference of *body_p).
void sim_http_reply_json(sim_http_req_t *req, int status, json_t **body_p);

//  Reply {"error": reason} with this status.
void sim_http_reply_error(sim_http_req_t *req, int status, const char *reason);

//  Reply with raw bytes (copied) and a content type.
void sim_http_reply_bytes(sim_http_req_t *req, int status,
                          const char *content_type, const void *data,
                          size_t len);

void sim_http_test(bool verbose);

#endif
