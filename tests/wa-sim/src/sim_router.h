/*  sim_router - dispatches the stanzas of client connections to the
    capability modules listed in sim_caps.inc

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The router makes each capability's state, looks up the IQ and
    stanza routes they register (sim_cap.h gives the routing order) and
    runs their hooks. It holds no feature logic of its own: an unknown
    IQ namespace gets 501, an unknown stanza tag <ack error="488">.
*/
#ifndef SIM_ROUTER_H_INCLUDED
#define SIM_ROUTER_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"
#include "sim_conn.h"
#include "sim_hub.h"
#include "wa/wa_node.h"

typedef struct _sim_router_t sim_router_t;

//  Make every capability's state. NULL when one fails (logged). Caller
//  owns return value.
sim_router_t *sim_router_new(sim_hub_t *hub);

void sim_router_destroy(sim_router_t **self_p);

//  Route a stanza a connection sent.
void sim_router_stanza(sim_router_t *self, sim_conn_t *conn,
                       const wa_node_t *node);

//  Hooks: a connection closed, a companion was linked, an account is
//  being removed.
void sim_router_conn_gone(sim_router_t *self, sim_conn_t *conn);
void sim_router_linked(sim_router_t *self, sim_device_t *dev);
void sim_router_account_gone(sim_router_t *self, const char *phone);

//  The state of capability `cap` (as its new_fn made it), for control
//  actions. Borrowed.
void *sim_router_state(sim_router_t *self, const sim_cap_t *cap);

//  The capability answering an IQ of `xmlns` carrying `child` (NULL =
//  none), or NULL.
const sim_cap_t *sim_router_iq_cap(sim_router_t *self, const char *xmlns,
                                   const char *child);

void sim_router_test(bool verbose);

#endif
