/*  sim_status - status updates (stories): the fan-out of a <message
    to="status@broadcast"> to the recipients it lists

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A status is sent like a group message (docs/wa-protocol.md §7.5):
    one skmsg for everyone and, in <participants>, each recipient
    device's pairwise part (the sender key's distribution). The sender
    chooses the audience (its contacts, or a subset: WAHA's `contacts`,
    Baileys' statusJidList) and lists every device of it, so each device
    named in <participants> gets a copy:

        <message from="status@broadcast" id type t
                 participant=SENDER (LID device) participant_pn=PN user
                 addressing_mode="lid" [notify] [edit]>
          <enc pairwise/> <enc skmsg/> [device-identity …]
        </message>

    The participant is the sender's LID device address: WhatsApp's
    clients encrypt statuses under their LID sender key (unless the
    stanza says addressing_mode="pn"). A resend after a retry receipt
    names its one device in `participant`. Accounts that block the
    sender get nothing. sim_message routes the stanza here and answers
    the server ack.
*/
#ifndef SIM_STATUS_H_INCLUDED
#define SIM_STATUS_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  Deliver the status `msg` from the device of conn to the devices it
//  lists. Returns the number of copies delivered.
size_t sim_status_relay(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *msg);

void sim_status_test(bool verbose);

#endif
