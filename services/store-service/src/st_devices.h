/*  st_devices - the `device` message family: WhatsApp device credentials

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    device.get/put/clear. put is fenced by the caller's lease (worker,
    epoch); clear is fenced when the caller gives them, and removes the
    session's Signal keys too (a logged-out device keeps nothing).

    The credentials (and the Signal records of st_signal) are sealed with
    the router's st_seal before they are written and opened when read
    (see st_seal.h); rows written in the clear (kid NULL) are read as they
    are. st_devices_reseal, run at every start, seals again whatever is
    not under the current key.
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

//  st_devices_begin inside a transaction the caller began.
cm_msg_t *st_devices_lock(st_router_t *self, cm_msg_t *request,
                          const st_router_lease_t *lease);

//  Reply 500 to a read whose sealed value of `table` (session, key id
//  `kid`) does not open (`why`, ST_SEAL_*), naming the key ids; logs it.
//  Caller owns return value.
cm_msg_t *st_devices_sealed_fail(cm_msg_t *request, const st_seal_t *seal,
                                 const char *table, const char *session,
                                 const char *kid, int why);

//  st_devices_reseal results beyond 0.
#define ST_DEVICES_RESEAL_KEY -1 //  a row sealed with a key we do not hold
#define ST_DEVICES_RESEAL_DB -3  //  database error: try again later

//  Seal again, under the current key of `seal` (in the clear when it is
//  keyless), every device_creds and signal_keys row not under it yet:
//  plaintext rows, and rows of the old key. Runs over the connected `db`
//  under advisory lock ST_SEAL_LOCK_KEY, in transactions of a batch of
//  rows each. Adds the rows changed to *count. Returns 0, or
//  ST_DEVICES_RESEAL_KEY (logged, and said on stderr: the store must not
//  start) or ST_DEVICES_RESEAL_DB. Rows that do not open with a key we
//  hold (altered) are logged and left alone.
int st_devices_reseal(st_db_t *db, const st_seal_t *seal, int64_t *count);

void st_devices_test(bool verbose);

#endif
