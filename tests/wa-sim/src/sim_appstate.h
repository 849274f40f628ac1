/*  sim_appstate - app-state sync storage (xmlns w:sync:app:state)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §9.6-9.7, server side. Per account and
    collection wa-sim keeps the encrypted SyncdPatch blobs clients send,
    in order, numbered from 1. A patch is accepted only on top of the
    current version (else the collection answers 409 conflict); the
    account's other devices then get <notification type="server_sync">.
    A fetch returns the patches after the requested version (at most
    SIM_APPSTATE_PAGE per answer, has_more_patches when more remain),
    each with its version stamped in. The blobs are opaque to the
    server; the phone (sim_phone's key) can make a snapshot of a
    collection, served to fetches from version 0 that ask for one, and
    put a patch's mutations in an external blob (both on the media host,
    md-app-state).
*/
#ifndef SIM_APPSTATE_H_INCLUDED
#define SIM_APPSTATE_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_cap.h"

//  Most patches in one fetch answer.
#define SIM_APPSTATE_PAGE 50
//  Most patches kept per collection.
#define SIM_APPSTATE_MAX 100000

typedef struct _sim_appstate_t sim_appstate_t;

//  IQ w:sync:app:state; notification server_sync. Its state is a
//  sim_appstate_t.
extern const sim_cap_t sim_appstate_cap;

//  Create for a hub (borrowed). Caller owns return value.
sim_appstate_t *sim_appstate_new(sim_hub_t *hub);

void sim_appstate_destroy(sim_appstate_t **self_p);

//  {collection: version} of an account. Caller owns return value.
//  The phone of `acc` acts on its app state, as the app does when its
//  user archives a chat, edits a label, renames a contact: `actions` (as
//  wa_client_appstate_push takes them, wa_syncd.h) become one patch per
//  collection on top of its current version, encrypted with the phone's
//  app-state key (key_id, 32-byte key), LTHash and MACs computed from the
//  stored patches; every companion gets server_sync. Returns 200 with
//  *result_p {patches: [{collection, version}]}, 400 (*reason) for a bad
//  action, 500 when it cannot be encoded.
//  With `external` 1 each patch's mutations go to an external blob
//  (media host, md-app-state) the patch as served refers to; 2: the
//  same, but the blob is never put on the media host (gone).
int sim_appstate_phone_act(sim_appstate_t *self, sim_account_t *acc,
                           const uint8_t *key_id, size_t key_id_len,
                           const uint8_t key[32], const json_t *actions,
                           int external, json_t **result_p,
                           const char **reason);

//  The phone makes a snapshot of collection `name` at its current
//  version (the records alive, LTHash MAC under its key), uploaded as an
//  external blob: a fetch from version 0 with return_snapshot then gets
//  it (<snapshot>) and only the patches after it. 200 with *result_p
//  {collection, version}; 404 (*reason) when the collection has no
//  patch; 500.
int sim_appstate_phone_snapshot(sim_appstate_t *self, sim_account_t *acc,
                                const char *name, const uint8_t *key_id,
                                size_t key_id_len, const uint8_t key[32],
                                json_t **result_p, const char **reason);

json_t *sim_appstate_versions(sim_appstate_t *self, const char *phone);

//  The account's recent fetches, oldest first: [{device, collection,
//  version}] (the version each collection was asked from). Caller owns
//  return value.
json_t *sim_appstate_fetches(sim_appstate_t *self, const char *phone);

//  Test hook: store a copy of the collection's last patch with one bit
//  of its patch MAC flipped as the next version, and tell every
//  companion (server_sync). HTTP-like status; *reason on errors.
int sim_appstate_tamper(sim_appstate_t *self, sim_account_t *acc,
                        const char *name, const char **reason);

//  Drop an account's collections.
void sim_appstate_forget(sim_appstate_t *self, const char *phone);

void sim_appstate_test(bool verbose);

#endif
