/*  gw_link - an HTTP handler thread's connection to the gateway core

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Handler threads never touch the core's sockets. Each handler thread
    (gw_http) owns one gw_link: a DEALER on the core's inproc endpoint. A
    call sends a bus message with a destination and blocks until the core
    answers or the timeout passes.

    Inproc framing (handler -> core): [dest][cm_msg frames...]
                   (core -> handler): [request id][cm_msg frames...]
    Destinations:
      "store"  - forward to a store-service (answers from the micro-cache
                 for session.get / session.list when fresh)
      "worker" - forward to the session-worker holding body.name (from
                 heartbeats, else the worker named by body.holder, the
                 lease holder the store reported; the field is removed
                 before forwarding); 404 "no worker holds the session"
                 when none does
      "media"  - forward to a media-service
      "nudge"  - send worker.nudge to every live worker; no reply
      "local"  - answered by the core: gw.workers (live workers)
    Use from one thread only.
*/
#ifndef GW_LINK_H_INCLUDED
#define GW_LINK_H_INCLUDED

#include "cm/cm_msg.h"

typedef struct _gw_link_t gw_link_t;

//  Destinations (see above).
#define GW_DEST_STORE "store"
#define GW_DEST_WORKER "worker"
#define GW_DEST_MEDIA "media"
#define GW_DEST_NUDGE "nudge"
#define GW_DEST_LOCAL "local"

//  Body field of a "worker" request naming the lease holder the store
//  reported (a hint for sessions claimed since the last heartbeat).
#define GW_HOLDER_HINT "holder"

//  Body field of a "store" session.get made for an engine command: a
//  cached row up to GATEWAY_COMMAND_CACHE_MS old will do (not forwarded).
#define GW_COMMAND_LOOKUP "command_lookup"

//  Reply status the core gives when no worker holds a session.
#define GW_NO_WORKER 404

//  Connect to the core at `endpoint`. NULL when no socket can be made
//  (ZeroMQ socket or file descriptor limit). Caller owns return value.
gw_link_t *gw_link_new(const char *endpoint);

void gw_link_destroy(gw_link_t **self_p);

//  Send *msg_p to `dest` and wait up to timeout_ms for the answer.
//  Consumes the message. Never NULL: a timeout gives a 504 reply. Caller
//  owns return value.
cm_msg_t *gw_link_call(gw_link_t *self, const char *dest, cm_msg_t **msg_p,
                       int timeout_ms);

//  Send *msg_p to `dest` without waiting (for "nudge"). Consumes it.
void gw_link_send(gw_link_t *self, const char *dest, cm_msg_t **msg_p);

void gw_link_test(bool verbose);

#endif
