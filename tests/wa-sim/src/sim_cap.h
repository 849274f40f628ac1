/*  sim_cap.h - what a simulated capability registers with the router

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The server side of one WhatsApp feature lives in one module,
    sim_<capability>.c, which defines one sim_cap_t named
    sim_<capability>_cap: the IQ namespaces it answers, the other stanza
    tags it handles, the notification types it sends, and optionally
    its own state and hooks. src/sim_caps.inc lists the capabilities,
    one line each; sim_router dispatches every stanza a connection
    receives through those tables. Adding a capability is adding its
    file and one line in sim_caps.inc.

    Routing of an <iq> (type get/set; answers to the server's own IQs go
    to the iq_reply hooks):
      1. a route flagged SIM_IQ_EARLY is called as is, in any connection
         state (pairing: xmlns md);
      2. an IQ without id gets 400 bad-request;
      3. a route flagged SIM_IQ_OPEN is called for any type, logged in
         or not (keepalive w:p);
      4. a type other than get/set gets 400, a connection not logged in
         401 not-authorized;
      5. the route is called; no route gets 501 feature-not-implemented.
    A route matches on xmlns and, when `child` is set, only IQs carrying
    a child of that tag (the first matching route wins).

    Other stanzas are routed only from logged-in connections, by tag; an
    unknown tag gets <ack error="488">.
*/
#ifndef SIM_CAP_H_INCLUDED
#define SIM_CAP_H_INCLUDED

#include <stdbool.h>

#include "sim_conn.h"
#include "sim_hub.h"
#include "wa/wa_node.h"

//  A stanza handler: `state` is what the capability's new_fn returned
//  (NULL when it has none). It owns the answer: replies, acks, errors.
typedef void(sim_cap_fn)(sim_hub_t *hub, void *state, sim_conn_t *conn,
                         const wa_node_t *node);

//  IQ route flags (see the routing order above).
#define SIM_IQ_EARLY 1 //  before every check
#define SIM_IQ_OPEN 2  //  after the id check, any type and state

typedef struct {
    const char *xmlns; //  namespace answered
    const char *child; //  child tag the IQ must carry, or NULL
    int flags;         //  SIM_IQ_* or 0
    sim_cap_fn *fn;    //  handler
} sim_iq_route_t;

typedef struct {
    const char *tag; //  stanza tag (message, receipt, presence, ...)
    sim_cap_fn *fn;  //  handler
} sim_stanza_route_t;

typedef struct {
    const char *name; //  short name, e.g. "group"
    //  Optional state: made once per server, destroyed at exit. new_fn
    //  returns NULL on failure (the server does not start).
    void *(*new_fn)(sim_hub_t *hub);
    void (*destroy_fn)(void **state_p);
    //  Routes, each list ended by an entry with a NULL first field.
    const sim_iq_route_t *iqs;
    const sim_stanza_route_t *stanzas;
    //  <notification type> values this capability sends (NULL ended).
    const char *const *notifications;
    //  Hooks, each optional:
    //  an <iq type="result|error"> arrived; true if it answers one of
    //  this capability's own IQs.
    bool (*iq_reply_fn)(sim_hub_t *hub, void *state, sim_conn_t *conn,
                        const wa_node_t *iq);
    //  a connection closed.
    void (*conn_gone_fn)(void *state, sim_conn_t *conn);
    //  a companion device was linked.
    void (*linked_fn)(void *state, sim_device_t *dev);
    //  an account is being removed.
    void (*account_gone_fn)(void *state, const char *phone);
} sim_cap_t;

#endif
