/*  gw_core - the gateway core actor: every bus socket of the gateway

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One czmq actor owns:
    - a ROUTER on the private inproc endpoint, where HTTP handler threads
      (gw_link) send requests;
    - the DEALER to the store-service(s) (cm_client), with a short-lived
      micro-cache of session.get / session.list replies, invalidated by
      every change the gateway forwards and by the store's event.new
      notifications (SUB on STORE_PUB_ENDPOINTS);
    - the ROUTER bound at GATEWAY_WORKERS_BIND for session-workers:
      worker.hello / worker.heartbeat build the session -> worker map
      (a worker silent for GW_CORE_WORKER_TTL_MS is forgotten), session
      commands go to the worker holding the session and replies are routed
      back by corr, worker.nudge is broadcast;
    - the DEALER to the media-service(s).

    Pipe commands: "DRAIN" (answer everything pending and anything new
    with 503, for shutdown) and "$TERM".
*/
#ifndef GW_CORE_H_INCLUDED
#define GW_CORE_H_INCLUDED

#include <czmq.h>

#include "gw_config.h"

//  A worker that has not said hello or heartbeat for this long is gone.
#define GW_CORE_WORKER_TTL_MS 3000
//  Most cached replies; past this the cache is flushed.
#define GW_CORE_CACHE_MAX 10000

//  The actor. `args` is the gw_config_t (borrowed, must outlive the
//  actor). After the start handshake it sends "READY" on the pipe, or
//  "FAILED" when a socket could not be bound or connected (it then only
//  waits for $TERM).
void gw_core_actor(zsock_t *pipe, void *args);

void gw_core_test(bool verbose);

#endif
