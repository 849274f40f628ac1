/*  sw_wahistory - history sync of the WhatsApp engine: what happened
    before the link, stored as chats, messages and contacts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    After a link the phone sends the new companion protocolMessages of
    type HISTORY_SYNC_NOTIFICATION (INITIAL_BOOTSTRAP, RECENT, PUSH_NAME,
    FULL, ...; wa-protocol.md §8.6). For each one this module has
    media-service download the blob it names (sw_wamedia_download, kind
    md-msg-hist, hashes and MAC checked; or takes the inline payload),
    inflates and parses it (wa_history_decode, at most
    WA_HISTORY_INFLATED_MAX inflated) and writes history.put batches
    through the session's ordered write queue:
      - chats with their name, last time and app-state flags (archived,
        pinned, muted until, unread count or marked unread);
      - their messages as WAMessages (read, never counted unread; their
        ack from the message status); a media message's media is
        downloaded first, as live media is (sw_wamedia_fetch:
        media-service, "<session>/<WAHA id>.<ext>", media.url; or
        media.error; not with WHATSAPP_DOWNLOAD_MEDIA=false), and the
        blob's batches are written once its downloads ended;
      - contacts' push names;
    and teaches the engine the LID <-> phone number pairs it carries.
    No event is emitted (as WAHA's engines do for history).

    How much is kept follows the session's config, as WAHA's NOWEB store
    settings:
      noweb.store.enabled false   nothing is stored (the notifications
                                  are acknowledged and dropped)
      noweb.store.fullSync true   every message of the history, and the
                                  companion asks for it when it pairs
                                  (DeviceProps.requireFullSync; the
                                  phone then adds FULL chunks)
      otherwise                   chats and contacts, and the messages of
                                  the last SW_WAHISTORY_RECENT_DAYS days
    A blob gone from the media host (media-service 410: expired or
    missing) is asked for again once, as a real companion does: the
    phone gets <receipt id type="server-error" category="peer"> with the
    encrypted ServerErrorReceipt (wa_client_send_history_retry) instead
    of hist_sync, uploads the blob again and sends a new notification.
    A blob that cannot be downloaded (after that), inflated or parsed is
    logged ("history blob skipped") and skipped; the session goes on.
    Once a notification is handled (stored, dropped or skipped) the
    phone gets <receipt id type="hist_sync" to="<our
    phone>@s.whatsapp.net"/> (wa_client_send_protocol_receipt), after
    the usual peer_msg receipt of the carrying message.
*/
#ifndef SW_WAHISTORY_H_INCLUDED
#define SW_WAHISTORY_H_INCLUDED

#include "sw_wasess.h"
#include "wa/wa_history.h"

//  Messages kept without fullSync: those of the last this many days.
#define SW_WAHISTORY_RECENT_DAYS 90
//  Rows of each kind per history.put.
#define SW_WAHISTORY_BATCH 500
//  Chats and messages read from one blob at most (the rest is dropped).
#define SW_WAHISTORY_CHATS_MAX 20000
#define SW_WAHISTORY_MESSAGES_MAX 200000
//  Media downloads started for one blob at most (the other media
//  messages keep their mimetype only).
#define SW_WAHISTORY_MEDIA_MAX 200
//  Blobs remembered as asked for again (one server-error receipt each).
#define SW_WAHISTORY_RETRIED_MAX 1024

//  True when the session asks the phone for its whole history at
//  pairing (DeviceProps.requireFullSync): noweb.store.fullSync true and
//  the store not disabled.
bool sw_wahistory_full_sync(sw_wasess_t *sess);

//  Dispatch hook of sw_wamessage: true when `m` was a history-sync
//  notification (handled here: its blob is fetched and stored in the
//  background; the message itself is no chat message).
bool sw_wahistory_on_message(sw_wasess_t *sess, const wa_client_message_t *m);

//  What a history blob holds as history.put bodies (one per batch, in
//  order), keeping messages from `keep_from` (unix s) on. *stats_p gets
//  {chats, messages, contacts, dropped}. For the module and its test.
json_t *sw_wahistory_batches(sw_wasess_t *sess, const wa_history_t *hs,
                             int64_t keep_from, json_t **stats_p);

void sw_wahistory_test(bool verbose);

#endif
