/*  sim_presence - presence and chat state between clients

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §10.3. `available`/`unavailable` (and the push
    name) are published to the devices subscribed to the account;
    `subscribe` answers with the current presence; <chatstate> is
    forwarded to the online devices of the peer or of the group's
    members. Nothing is queued for offline devices. An account's last
    seen is when it last went offline. The control API drives the
    simulated phone's presence and chat states (POST /accounts/<phone>/
    presence, /chatstate).
*/
#ifndef SIM_PRESENCE_H_INCLUDED
#define SIM_PRESENCE_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  Stanzas presence, chatstate; forgets a closed connection's presence.
extern const sim_cap_t sim_presence_cap;

//  The capability's state (sim_router_state).
typedef struct _sim_presence_t sim_presence_t;

//  The control API's simulated phone: online (available) or offline,
//  published to the account's subscribers; going offline sets its last
//  seen. An account is online while its phone or any device is. Returns
//  200, or 404 (reason set).
int sim_presence_phone_set(sim_presence_t *self, const char *phone,
                           bool available, const char **reason);

//  The simulated phone of `phone` types (composing), records
//  (recording) or pauses in `to` (a user or group JID, API or wire
//  form): forwarded as <chatstate> to the online devices of the peer or
//  of the group's other members. Returns 200, 400 (bad state) or 404
//  (reason set).
int sim_presence_phone_chatstate(sim_presence_t *self, const char *phone,
                                 const char *to, const char *state,
                                 const char **reason);

void sim_presence_test(bool verbose);

#endif
