/*  wa_syncd - app-state sync ("syncd") of one session: the operations

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The capability module wa_syncd (src/wa_syncd.c) keeps the account's
    app state in step with the other devices (docs/wa-protocol.md §9):

    - keys: the phone shares its app-state sync keys in a peer message
      (APP_STATE_SYNC_KEY_SHARE); they are kept in the Signal store
      (kind appstate_key) and a key a patch names but we lack is asked
      for (APP_STATE_SYNC_KEY_REQUEST to our own account);
    - fetch: after the first key arrives, at every login and on each
      <notification type="server_sync">, the collections are fetched
      from their stored versions (w:sync:app:state); a collection never
      synced asks for a snapshot, which comes as an external blob, as
      may a patch's mutations: the owner downloads those
      (WA_CLIENT_EVENT_APPSTATE_BLOB, wa_client_appstate_blob) while
      app state waits; every snapshot and patch is
      verified (value MACs, index MACs, LTHash snapshot MAC, patch MAC)
      before anything of it is applied: a patch that fails is refused
      and logged, the collection stays where it was;
    - upload: wa_client_appstate_push encodes actions into one patch on
      top of the current version; a 409 conflict fetches the collection
      and the patch is built again on the new version (3 tries);
    - state: per collection the version and LTHash (kind appstate_coll)
      and the index MAC -> value MAC map (kind appstate_mac) live in the
      Signal store, so the owner persists them with the Signal records
      and a restart resumes from the stored versions.

    Every applied mutation, ours (once uploaded) and the other devices',
    is reported as WA_CLIENT_EVENT_APPSTATE with the action as JSON:

        {"index": ["archive", "15551234567@s.whatsapp.net"],
         "op": "set", "timestamp": 1700000000000, "version": 3,
         "value": {"archived": true}}

    "value" holds the fields of the action the index names (flattened):

    | index[0]           | collection           | value fields |
    |--------------------|----------------------|--------------|
    | archive            | regular_low          | archived |
    | pin_v1             | regular_low          | pinned |
    | markChatAsRead     | regular_low          | read |
    | mute               | regular_high         | muted, muteEndTimestamp (ms,
   -1 forever) | | star               | regular_high         | starred | |
   deleteMessageForMe | regular_high         | deleteMedia, messageTimestamp |
    | clearChat          | regular_high         | (none) |
    | deleteChat         | regular_high         | (none) |
    | contact            | critical_unblock_low | fullName, firstName, lidJid,
   pnJid | | setting_pushName   | critical_block       | name | | label_edit |
   regular              | name, color, deleted, predefinedId, orderIndex | |
   label_jid          | regular              | labeled | | label_message      |
   regular              | labeled |

    nct_salt_sync (regular_high, index ["nct_salt_sync"]) carries the
    account's NCT salt: written from value {salt: hex} (wa-sim's phone);
    read, it goes to wa_client_set_nct_salt (set stores, remove clears)
    and is reported with an empty value (the salt never leaves the
    engine).

    Other actions are applied to the state (MACs, LTHash) and reported
    with an empty value.
*/
#ifndef WA_SYNCD_H_INCLUDED
#define WA_SYNCD_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "wa_appstate.h"
#include "wa_client.h"

//  Longest index JSON accepted (bytes).
#define WA_SYNCD_INDEX_MAX 1024
//  Most actions in one push.
#define WA_SYNCD_PUSH_MAX 16

//  Encode up to WA_SYNCD_PUSH_MAX `actions` (as wa_client_appstate_push
//  takes them, all of `collection`) into one SyncdPatch making `version`
//  with key `key_id` / `key_data` (32 bytes), without a client (wa-sim's
//  phone): `hash` is the collection's LTHash before and, on success,
//  after the patch; `lookup` gives the value MAC an index MAC has now
//  (for replaced and removed values). Returns 0 with the packed patch in
//  *out_p (caller frees) and *len_p, and the actions as they are reported
//  when applied in *reported_p (may be NULL; caller owns), or -1.
int wa_syncd_encode(const uint8_t *key_id, size_t key_id_len,
                    const uint8_t key_data[32], const char *collection,
                    uint64_t version, uint8_t hash[WA_LTHASH_LEN],
                    wa_appstate_lookup_fn *lookup, void *lookup_arg,
                    const json_t *actions, int64_t now_ms, uint8_t **out_p,
                    size_t *len_p, json_t **reported_p);

//  The collection an action (as above: index and value) goes to, or NULL
//  with *reason set when the action is malformed or not one we write.
const char *wa_syncd_action_collection(const json_t *action,
                                       const char **reason);

//  Upload actions (a JSON array of 1..WA_SYNCD_PUSH_MAX actions of one
//  collection; each {index, op?, value?, timestamp?}) as one patch.
//  Writes a push id into id; the outcome follows as an
//  APPSTATE_PUSHED event, and each applied action as an APPSTATE event
//  with from_me. Returns 0, or -1 when the actions are malformed (log
//  says why) or the client is not logged in.
int wa_client_appstate_push(wa_client_t *self, const json_t *actions,
                            char id[WA_CLIENT_ID_MAX]);

//  The blob of a WA_CLIENT_EVENT_APPSTATE_BLOB event `id`: its
//  plaintext (a SyncdSnapshot or a SyncdMutations; borrowed), or NULL
//  when it could not be downloaded (the collection then stops where it
//  is until its next fetch). Returns 0, or -1 when no blob `id` is
//  awaited.
int wa_client_appstate_blob(wa_client_t *self, const char *id,
                            const uint8_t *data, size_t len);

//  A snapshot of a collection as `patches` (n packed SyncdPatch with
//  their mutations inline, in version order) leave it: the records alive
//  after them, and the MAC of their LTHash at `version` under key
//  key_id / key_data. Returns 0 with the packed SyncdSnapshot in *out_p
//  (caller frees) and *len_p, or -1.
int wa_syncd_snapshot(const uint8_t *key_id, size_t key_id_len,
                      const uint8_t key_data[32], const char *collection,
                      uint64_t version, const uint8_t *const *patches,
                      const size_t *lens, size_t n, uint8_t **out_p,
                      size_t *len_p);

//  True once an app-state key was shared with us (pushes can be
//  encoded).
bool wa_client_appstate_ready(wa_client_t *self);

//  WhatsApp Business label colors: the hex WAHA shows for color index
//  0..WA_SYNCD_LABEL_COLORS-1 (NULL otherwise), and the index of a hex
//  (either case, with "#"), or -1.
#define WA_SYNCD_LABEL_COLORS 20
const char *wa_syncd_label_hex(int color);
int wa_syncd_label_color(const char *hex);

//  Self test
void wa_syncd_test(bool verbose);

#endif
