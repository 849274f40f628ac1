/*  sim_prekeys - Signal prekeys (xmlns encrypt): upload, count, digest,
    signed prekey rotation, bundle fetch; the "prekeys low" notification

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §7.3. A bundle fetch by PN or LID device JID
    consumes one one-time prekey; unknown devices get a per-user
    <error code="404">; below 5 prekeys left the device gets
    <notification type="encrypt"><count/>. The fault rules
    refuse_prekey_upload and refuse_prekey_fetch apply here.
*/
#ifndef SIM_PREKEYS_H_INCLUDED
#define SIM_PREKEYS_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  IQ encrypt; notification encrypt.
extern const sim_cap_t sim_prekeys_cap;

//  Bundle node <user jid=...>...</user> for a device (consumes one
//  one-time prekey). Caller owns return value.
wa_node_t *sim_prekeys_bundle(sim_hub_t *hub, sim_device_t *dev,
                              const char *jid);

void sim_prekeys_test(bool verbose);

#endif
