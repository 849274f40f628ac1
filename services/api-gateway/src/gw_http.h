/*  gw_http - the HTTP server (libmicrohttpd)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    gw_front accepts connections and checks each request head; good ones
    are handed to libmicrohttpd (GATEWAY_HTTP_THREADS epoll threads,
    suspend/resume). On the head the route is matched (404, 405), the
    caller authenticated from headers and query (401), the body sized
    against GATEWAY_BODY_LIMIT (413) and reserved from
    GATEWAY_BODY_MEMORY (503), all before any body byte is read. The
    complete request goes to one of GATEWAY_HANDLER_THREADS handler
    threads, each with its own gw_link to the core, which parses the
    body (400), authenticates again with a Wawp credential from the body,
    runs the handler and resumes the connection. Connections are kept
    alive; libmicrohttpd reads them through gw_recv, which judges every
    byte first, and what gw_recv refuses is answered here in the API's
    shape (gw_recv_refusal).
*/
#ifndef GW_HTTP_H_INCLUDED
#define GW_HTTP_H_INCLUDED

#include "gw_config.h"

typedef struct _gw_http_t gw_http_t;

//  Start serving on WHATSAPP_API_HOSTNAME:WHATSAPP_API_PORT (port 0 in
//  `port_override` keeps the configured one; tests pass a port). The core
//  must already be running. NULL when the address cannot be used. Caller
//  owns return value.
gw_http_t *gw_http_new(const gw_config_t *config, int port_override);

//  Stop accepting, finish the connections and stop.
void gw_http_destroy(gw_http_t **self_p);

//  The port we listen on.
int gw_http_port(gw_http_t *self);

//  End an upgraded connection (see gw_req_set_upgrade): closes its
//  socket. `handle` is what gw_req_run_upgrade gave.
void gw_http_upgrade_close(void *handle);

void gw_http_test(bool verbose);

#endif
