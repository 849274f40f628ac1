/*  sim_history - the history a simulated phone sends a new companion

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A test seeds an account's history through the control API (PUT
    /accounts/<phone>/history); sim_phone keeps it and, whenever a
    companion of the account is linked, sends it as a real phone does
    (wa-protocol.md §8.6): each blob is a HistorySync, zlib-compressed,
    encrypted with a fresh media key ("WhatsApp History Keys"), stored on
    the media host, and announced by a protocolMessage of type
    HISTORY_SYNC_NOTIFICATION (category peer, from the phone):
      INITIAL_BOOTSTRAP  every chat with its flags and its newest
                         SIM_HISTORY_BOOTSTRAP_MSGS messages
      RECENT             the chats' older messages of the last
                         SIM_HISTORY_RECENT_DAYS days (when there are)
      FULL               the chats' messages before that, only to a
                         companion that paired with requireFullSync
      PUSH_NAME          the contacts' push names (only when there are)
    A chat with `tctoken` carries the privacy token its contact (another
    account) issued to this account at tctokenTimestamp (default now;
    Conversation fields 21, 22, and 28 = tctokenSenderTimestamp, when we
    last issued ours), as sim_tctoken mints it; `nctSalt` puts the
    account's NCT salt (sim_tctoken_salt) in INITIAL_BOOTSTRAP (field 19).
    The seed may ask for broken notifications, sent before the good ones
    (for tests of the companion's error path): "download" names a blob
    that is not on the host (held back until the companion asks for it
    with a server-error receipt: then the phone uploads it and sends the
    notification again), "mac" a blob with a flipped byte, "zlib" a
    blob that is not a zlib stream, "proto" a zlib stream of no
    HistorySync.

    Seed (JSON):
      {chats: [{id ("…@c.us", "…@g.us"), name?, archived?, pinned?,
                unreadCount?, markedUnread?, muteEndTime? (unix s, -1
                forever), tctoken?, tctokenTimestamp?, tctokenSender-
                Timestamp? (unix s), messages: [{id?, fromMe?, text, timestamp
                (unix s), participant? (groups), pushName?, status?
                (0 ERROR .. 5 PLAYED), starred?, media? {kind (image,
                video, audio, ptt, document, sticker), data (base64),
                mimetype, caption?, filename?, expired? (the file is
                not put on the media host)} (text then optional)}]}],
       contacts: [{id, pushName}], corrupt: ["download"|"mac"|"zlib"|
       "proto"], nctSalt?: bool}
*/
#ifndef SIM_HISTORY_H_INCLUDED
#define SIM_HISTORY_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>

#include "sim_model.h"

//  Messages per chat in the INITIAL_BOOTSTRAP blob (older ones: RECENT).
#define SIM_HISTORY_BOOTSTRAP_MSGS 5
//  Older messages within this many days go in RECENT; those before only
//  to a companion that asked for the full history (FULL).
#define SIM_HISTORY_RECENT_DAYS 90
//  Where a "download" blob is held until the companion asks for it
//  again (prefixed to its path).
#define SIM_HISTORY_HELD "/held"
//  Limits of a seed.
#define SIM_HISTORY_CHATS_MAX 1000
#define SIM_HISTORY_MESSAGES_MAX 10000
#define SIM_HISTORY_TEXT_MAX 4096
//  Largest file of a seeded media message.
#define SIM_HISTORY_MEDIA_MAX (1u << 20)

//  Check a seed. Returns 0, or 400 with *reason_p.
int sim_history_check(const json_t *seed, const char **reason_p);

//  The notifications for a seed, each a serialised Message (a
//  protocolMessage HISTORY_SYNC_NOTIFICATION) as a zchunk_t, in sending
//  order; their blobs are stored in `model`'s media under fresh paths.
//  `full_sync` (the companion's DeviceProps.requireFullSync) adds a FULL
//  blob with the messages older than SIM_HISTORY_RECENT_DAYS, which are
//  otherwise not sent. `acc` is the account whose phone sends it (the
//  holder of seeded privacy tokens, the owner of the NCT salt; NULL:
//  neither). NULL on failure. Caller owns return value.
zlistx_t *sim_history_build(sim_model_t *model, sim_account_t *acc,
                            const json_t *seed, bool full_sync);

void sim_history_test(bool verbose);

#endif
