/*  sim_groups - group IQs (xmlns w:g2): create, metadata, participating
    groups, add/remove/promote/demote, subject, description, leave; and
    the w:gp2 notifications members receive

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §10.1. Groups use phone-number addressing
    (addressing_mode="pn"); participants carry their LID in `lid`.
*/
#ifndef SIM_GROUPS_H_INCLUDED
#define SIM_GROUPS_H_INCLUDED

#include <stdbool.h>

#include "sim_conn.h"
#include "sim_hub.h"
#include "wa/wa_node.h"

//  Answer a w:g2 IQ from a logged-in connection.
void sim_groups_handle(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq);

//  <group ...> metadata node. Caller owns return value.
wa_node_t *sim_groups_node(sim_hub_t *hub, sim_group_t *group);

void sim_groups_test(bool verbose);

#endif
