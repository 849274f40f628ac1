/*  wa_message - build and read WhatsApp end-to-end Message protobufs

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Reading unwraps the containers WhatsApp uses (device-sent copies from
    our own devices, ephemeral, view-once, document-with-caption, edited)
    and reduces a Message to what Wharf's events carry: a type name, the
    text body, whether it has media, the message it replies to, and the
    side data the engine needs (sender-key distribution, reactions,
    protocol messages). Input is checked with wa_pb_check first.
*/
#ifndef WA_MESSAGE_H_INCLUDED
#define WA_MESSAGE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _wa_message_t wa_message_t;

//  Decode `len` bytes of a serialised Message. NULL when malformed.
//  Caller owns return value.
wa_message_t *wa_message_decode(const uint8_t *data, size_t len);
void wa_message_destroy(wa_message_t **self_p);

//  Kind of message, in WAHA/whatsapp-web.js terms: "chat", "image",
//  "video", "audio", "ptt", "document", "sticker", "location", "vcard",
//  "multi_vcard", "poll_creation", "poll_vote", "reaction", "revoked",
//  "protocol", "call_log", "group_invite", "list", "buttons", "event",
//  "event_response",
//  "pin", "keep_in_chat", or "unknown" (e.g. only a key distribution).
const char *wa_message_type(const wa_message_t *self);
//  Text, caption or NULL.
const char *wa_message_body(const wa_message_t *self);
bool wa_message_has_media(const wa_message_t *self);
//  Media mimetype when known, else NULL.
const char *wa_message_mimetype(const wa_message_t *self);
//  Id and sender (participant) of the quoted message, or NULL.
const char *wa_message_reply_id(const wa_message_t *self);
const char *wa_message_reply_participant(const wa_message_t *self);
//  Destination chat when the message was a device-sent copy, else NULL.
const char *wa_message_dsm_destination(const wa_message_t *self);
//  Sender-key distribution: group and key bytes (borrowed); -1 if none.
int wa_message_skdm(const wa_message_t *self, const char **group,
                    const uint8_t **data, size_t *len);
//  Reaction: target message id and emoji ("" = removed); -1 if none.
int wa_message_reaction(const wa_message_t *self, const char **target_id,
                        const char **text);
//  Protocol message type (wa-protocol.md §7.10) or -1; target id if any.
int wa_message_protocol_type(const wa_message_t *self);
const char *wa_message_protocol_target(const wa_message_t *self);
//  The encoded LIDMigrationMappingSyncPayload of a LID migration mapping
//  sync protocol message (type 22, wa_client_lid_sync reads it), or NULL.
const uint8_t *wa_message_lid_sync(const wa_message_t *self, size_t *len);
//  The ContextInfo (Wa__E2e__ContextInfo) of the content, or NULL: for
//  the kind readers in wa_kinds. Borrowed.
const void *wa_message_context(const wa_message_t *self);
//  True for ephemeral / view-once wrappers.
bool wa_message_is_ephemeral(const wa_message_t *self);
bool wa_message_is_view_once(const wa_message_t *self);

//  The content after unwrapping (a const Wa__E2e__Message *, borrowed),
//  for capability modules that read a kind's own fields (wa_mediamsg).
const void *wa_message_content(const wa_message_t *self);

//  --------------------------------------------------------------------
//  Builders: each returns 0 and a new buffer (caller owns *out_p), or -1.

//  A text: plain conversation, or an extended text when it quotes a
//  message (reply_id with the quoted sender and chat) or mentions.
int wa_message_build_text(const char *text, const char *reply_id,
                          const char *reply_participant, const char *reply_chat,
                          uint8_t **out_p, size_t *out_len);

//  Wrap a serialised Message for our own other devices.
int wa_message_build_dsm(const uint8_t *inner, size_t inner_len,
                         const char *destination, uint8_t **out_p,
                         size_t *out_len);

//  A Message carrying only a sender-key distribution for `group`.
int wa_message_build_skdm(const char *group, const uint8_t *skdm,
                          size_t skdm_len, uint8_t **out_p, size_t *out_len);

//  A reaction (emoji, "" removes) to message (chat, from_me, id,
//  participant).
int wa_message_build_reaction(const char *chat, bool from_me, const char *id,
                              const char *participant, const char *emoji,
                              int64_t timestamp_ms, uint8_t **out_p,
                              size_t *out_len);

void wa_message_test(bool verbose);

#endif
