/*  sim_relay - routing between clients: <message> fan-out to each
    target device (1:1, own devices, groups with sender keys), server
    <ack>s, receipts (delivery, read, played, retry) relayed, client
    acks clearing queues, presence and chat state

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §7, §10.3. wa-sim never decrypts: it copies each
    device's <enc> to that device, stamps from/t/notify and the other
    address form (sender_lid or sender_pn), and queues the stanza until
    the device sends a receipt or an ack for it.
*/
#ifndef SIM_RELAY_H_INCLUDED
#define SIM_RELAY_H_INCLUDED

#include <stdbool.h>

#include "sim_conn.h"
#include "sim_hub.h"
#include "wa/wa_node.h"

typedef struct _sim_relay_t sim_relay_t;

//  Create the relay for a hub (borrowed). Caller owns return value.
sim_relay_t *sim_relay_new(sim_hub_t *hub);

//  Destroy; cancels delayed acks.
void sim_relay_destroy(sim_relay_t **self_p);

//  Handle a non-IQ stanza from a logged-in connection: message, receipt,
//  ack, presence, chatstate, ib, call, notification.
void sim_relay_handle(sim_relay_t *self, sim_conn_t *conn,
                      const wa_node_t *node);

//  A connection closed: forget its presence.
void sim_relay_conn_gone(sim_relay_t *self, sim_conn_t *conn);

void sim_relay_test(bool verbose);

#endif
