/*  sim_phone - the simulated primary phones as message senders

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    An account's phone (device 0) holds a real Signal identity: the
    account identity key. sim_phone lets a test make a phone write a
    text, end-to-end encrypted like a real client would: sessions are
    built from the prekey bundles wa-sim stores for the target devices
    (one-time prekeys consumed), 1:1 texts go to every linked companion
    of the recipient and, wrapped as a device-sent message, to the
    sender's own companions; group texts use sender keys (skmsg) with
    the distribution message sent pairwise. The phone never decrypts
    anything; stanzas sent to it are still dropped. After linking, the
    phone sends each new companion its app-state sync key, as a real
    phone does, so clients can write and read app-state patches.

    The Signal state of each phone lives in memory only.
*/
#ifndef SIM_PHONE_H_INCLUDED
#define SIM_PHONE_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sim_cap.h"

typedef struct _sim_phone_t sim_phone_t;

//  No stanzas: shares the app-state key with each new companion and
//  forgets removed accounts. Its state is a sim_phone_t.
extern const sim_cap_t sim_phone_cap;

//  Create for a hub (borrowed). NULL if libsignal cannot start. Caller
//  owns return value.
sim_phone_t *sim_phone_new(sim_hub_t *hub);

void sim_phone_destroy(sim_phone_t **self_p);

//  The phone of account `phone` sends `text` to `to`: a phone number,
//  a user JID (PN or LID) or a group JID. HTTP-like status; *result_p
//  gets {id, copies}.
//  As sim_phone_send_text to a user, with ciphertext no session can
//  decrypt (a test of the receiver's retry path). Returns 200 with
//  {id, copies}, or 404.
//  The phone of `phone` sends a serialised Message (msg, borrowed) to
//  `to`, as sim_phone_send_text does.
int sim_phone_send_message(sim_phone_t *self, const char *phone, const char *to,
                           const uint8_t *msg, size_t msg_len,
                           json_t **result_p, const char **reason);

//  A text from the account's companion `device` (a Signal identity of
//  its own: the account key, new sessions, so pkmsg) to every companion
//  of `to`, with the <device-identity> the account signs for it; with
//  `forge` SIM_FORGE_SIGNATURE its account signature is broken; with
//  SIM_FORGE_ACCOUNT the companion's Signal identity and its device
//  identity are made and signed by another key than the account's (its
//  own signatures hold: only the account key tells it apart). The
//  identity's key index is `key_index` when >= 0, else the listed
//  device's own (or `device` for a device wa-sim does not know).
//  Returns 200 {id, copies}, 404 or 500.
//  (forge: SIM_FORGE_*, sim_server.h)
int sim_phone_send_as(sim_phone_t *self, const char *phone, const char *to,
                      const char *text, uint32_t device, int forge,
                      int64_t key_index, json_t **result_p,
                      const char **reason);

int sim_phone_send_undecryptable(sim_phone_t *self, const char *phone,
                                 const char *to, json_t **result_p,
                                 const char **reason);

int sim_phone_send_text(sim_phone_t *self, const char *phone, const char *to,
                        const char *text, json_t **result_p,
                        const char **reason);

//  The phone shares its app-state sync key (made on first use) with a
//  newly linked companion: a peer message (protocolMessage
//  APP_STATE_SYNC_KEY_SHARE) queued for the device. Returns 0 or -1.
int sim_phone_share_keys(sim_phone_t *self, sim_device_t *dev);

//  The account's chat database moved to LIDs: its phone sends each of
//  its companions a LID migration mapping sync message (protocolMessage
//  LID_MIGRATION_MAPPING_SYNC, type 22: LIDMigrationMappingSyncPayload
//  with the PN -> LID pair of every other account, at most 1000, and
//  the migration time). Returns 200 with *result_p {lid, pairs, copies},
//  or 500 with *reason.
int sim_phone_lid_sync(sim_phone_t *self, sim_account_t *acc, json_t **result_p,
                       const char **reason);

//  Length of an app-state key id.
#define SIM_PHONE_KEY_ID_LEN 6

//  The phone makes a new app-state key and uses it from now on, without
//  sharing it: a companion that meets a patch under it asks for it (an
//  APP_STATE_SYNC_KEY_REQUEST peer message, which the phone answers with
//  a key share to that companion). 200 with *result_p {keyId: hex}; 409
//  before the phone has a key.
int sim_phone_new_app_state_key(sim_phone_t *self, sim_account_t *acc,
                                json_t **result_p, const char **reason);

//  {requests, answered}: the key requests companions sent the phone, and
//  those it answered with a share. Caller owns return value.
json_t *sim_phone_key_requests(sim_phone_t *self, sim_account_t *acc);

//  The phone's app-state key (made when its first companion was
//  linked). Returns 0, or -1 when it has none yet.
int sim_phone_app_state_key(sim_phone_t *self, sim_account_t *acc,
                            uint8_t id[SIM_PHONE_KEY_ID_LEN], uint8_t key[32]);

//  Seed the history the phone sends each companion linked from now on
//  (sim_history: the seed's shape; replaces an earlier seed). Returns
//  200 with *result_p {chats, messages, contacts}, or 400 / 500 with
//  *reason.
int sim_phone_seed_history(sim_phone_t *self, sim_account_t *acc, json_t *seed,
                           json_t **result_p, const char **reason);

//  Send the seeded history again to every companion linked now (as a
//  phone sends later history chunks). Returns 200 with *result_p
//  {companions}, or 409 with *reason when no history is seeded.
int sim_phone_resend_history(sim_phone_t *self, sim_account_t *acc,
                             json_t **result_p, const char **reason);

//  The companion `dev` sent its own account <receipt type="hist_sync"
//  id>: the history chunk in flight to it was taken, the next one goes
//  out. Returns false (and counts it as unexpected) when `id` is not the
//  chunk in flight.
bool sim_phone_hist_sync(sim_phone_t *self, sim_device_t *dev, const char *id);

//  The companion `dev` sent its own account <receipt id
//  type="server-error" category="peer"> with an encrypted
//  ServerErrorReceipt: it could not download the blob of the chunk in
//  flight. When it opens with the blob's media key and names `id`, the
//  phone uploads the blob again (one withheld as gone, SIM_HISTORY_HELD,
//  is now on the media host) and sends the notification again under a
//  new id, once per chunk (a second one moves on to the next chunk).
//  Returns false (counted as unexpected) otherwise.
bool sim_phone_hist_retry(sim_phone_t *self, sim_device_t *dev,
                          const wa_node_t *receipt);

//  What the phone of `acc` sent of its history: {seeded, devices:
//  [{device, sent, receipts, serverErrors, pending, unexpected}]}.
//  Caller owns return value.
json_t *sim_phone_history_status(sim_phone_t *self, sim_account_t *acc);

//  Forget a phone's Signal state (account removed).
void sim_phone_forget(sim_phone_t *self, const char *phone);

void sim_phone_test(bool verbose);

#endif
