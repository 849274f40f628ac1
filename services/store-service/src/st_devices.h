/*  st_devices - the `device` message family: WhatsApp device credentials

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    device.get/put/clear. put is fenced by the caller's lease (worker,
    epoch); clear is fenced when the caller gives them, and removes the
    session's Signal keys too (a logged-out device keeps nothing).
*/
#ifndef ST_DEVICES_H_INCLUDED
#define ST_DEVICES_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "cm/cm.h"

#include "st_router.h"

//  Register the family on `r`. Returns 0.
int st_devices_register(st_router_t *r);

//  Begin a transaction, lock the session row (FOR SHARE: a concurrent
//  claim skips it) and, when worker is set, check its lease. Returns NULL
//  to go on inside the transaction, or the reply to send (transaction
//  rolled back): 404 unknown session, 409 lease not held, 5xx database.
//  Caller owns return value.
cm_msg_t *st_devices_begin(st_router_t *self, cm_msg_t *request,
                           const st_router_lease_t *lease);

void st_devices_test(bool verbose);

#endif
