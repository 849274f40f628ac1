/*  sim_iq - server answers to client IQs after login: prekeys (count,
    upload, digest, rotate, bundle fetch), passive/active, keepalive,
    usync (devices, contacts, LIDs), media_conn, privacy, blocklist, AB
    props, profile pictures, dirty bits, stats

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §6, §7.2-7.3, §8.3, §10. Groups (w:g2) are in
    sim_groups; pairing (md) in sim_pair.
*/
#ifndef SIM_IQ_H_INCLUDED
#define SIM_IQ_H_INCLUDED

#include <stdbool.h>

#include "sim_conn.h"
#include "sim_hub.h"
#include "wa/wa_node.h"

//  Answer a get/set IQ from a logged-in connection (always replies).
void sim_iq_handle(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq);

//  Bundle node <user jid=...>...</user> for a device (consumes one
//  one-time prekey). Caller owns return value.
wa_node_t *sim_iq_bundle(sim_hub_t *hub, sim_device_t *dev, const char *jid);

void sim_iq_test(bool verbose);

#endif
