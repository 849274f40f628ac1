/*  sim_presence - presence and chat state between clients

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §10.3. `available`/`unavailable` (and the push
    name) are published to the devices subscribed to the account;
    `subscribe` answers with the current presence; <chatstate> is
    forwarded to the online devices of the peer or of the group's
    members. Nothing is queued for offline devices.
*/
#ifndef SIM_PRESENCE_H_INCLUDED
#define SIM_PRESENCE_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  Stanzas presence, chatstate; forgets a closed connection's presence.
extern const sim_cap_t sim_presence_cap;

void sim_presence_test(bool verbose);

#endif
