/*  gw_ws - the /ws event stream (WAHA's WebSocket)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET /ws?session=*&events=*&x-api-key=&after=     WebSocket (RFC 6455)

    Each stored event of the chosen sessions goes out as one text frame
    holding the webhook envelope (the pull feed's, GET
    /api/{session}/events), with one field added: `cursor`, the pull
    feed's cursor after that event. `session` is a session name or `*`
    (all, also those created later); `events` is `*` or event names,
    comma separated or repeated. Without `after` the stream starts with
    the next new event; with `after` (one session only) it first sends
    what was stored after that cursor, so a client that reconnects with
    the last cursor it saw loses nothing.

    Each connection has a thread of its own. It wakes on the store's
    event.new notifications (its own SUB to STORE_PUB_ENDPOINTS) and also
    polls every GW_WS_POLL_MS, reads the events through a gw_link, and
    answers pings and the close handshake. Frames from the client other
    than control frames are ignored. At most GW_WS_MAX streams are open
    (503 past it); a client that does not read for GW_WS_SEND_TIMEOUT_MS
    is dropped.
*/
#ifndef GW_WS_H_INCLUDED
#define GW_WS_H_INCLUDED

#include "gw_req.h"

#define GW_WS_MAX 256
#define GW_WS_POLL_MS 2000
#define GW_WS_PING_MS 25000
#define GW_WS_SEND_TIMEOUT_MS 10000
//  Largest message taken from a client.
#define GW_WS_MESSAGE_MAX 65536
//  Events read per store call.
#define GW_WS_PAGE 100

#define GW_WS_TAG "Events"

#define GW_WS_ROUTES                                                           \
    {"GET",                                                                    \
     "/ws",                                                                    \
     gw_ws_open,                                                               \
     GW_AUTH_ADMIN,                                                            \
     101,                                                                      \
     GW_WS_TAG,                                                                \
     "eventsWebSocket",                                                        \
     "Live events over a WebSocket (webhook envelopes plus `cursor`)",         \
     NULL,                                                                     \
     "WebhookEnvelope",                                                        \
     "session|string|Session name or * (default *);events|string|* or event "  \
     "names, comma separated or repeated (default *);after|integer|Resume "    \
     "after this cursor (one session only)",                                   \
     false},

//  GET /ws: checks the handshake and the query, then upgrades.
void gw_ws_open(gw_req_t *req);

//  Streams open now.
int gw_ws_count(void);

//  Ask every stream to close (1001) and wait up to timeout_ms for them.
//  Returns the number still open.
int gw_ws_close_all(int timeout_ms);

//  OpenAPI components of this module (none beyond the envelope).
json_t *gw_ws_schemas(void);

void gw_ws_test(bool verbose);

#endif
