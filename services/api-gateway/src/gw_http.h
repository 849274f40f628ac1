/*  gw_http - the HTTP server (libmicrohttpd)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Thread per connection with a connection limit
    (GATEWAY_MAX_CONNECTIONS): handlers block on the core while other
    connections go on in their own threads. Each connection thread owns
    one gw_link to the core, made on its first request and destroyed when
    the connection closes.

    Per request: the body limit is checked against Content-Length first
    (413 at once) and again while bytes arrive; then the route is matched
    (404, 405 with Allow), the body parsed (400; Wawp credentials may be
    in it), the caller authenticated (401) and the handler run.
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
