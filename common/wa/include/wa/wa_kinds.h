/*  wa_kinds - the message kinds beyond plain text: locations, contact
    cards, polls and their votes, reactions, edits, deletes, pins,
    events and their responses, mentions, quotes and link previews

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Builders write a serialised waE2E.Message (wa-protocol.md §7.10) for
    wa_client_send_message; readers turn a received wa_message_t into
    what Wharf's events carry (WAHA's `location`, `vCards`, `replyTo`,
    ...) as JSON. Poll votes and event responses are encrypted with the
    secret of the message they answer (messageContextInfo.messageSecret,
    32 bytes): key = HMAC-SHA256(HMAC-SHA256(0^32, secret), id || creator
    || voter || "Poll Vote" | "Event Response" || 0x01), AES-256-GCM with
    a 12-byte IV and additional data id || 0x00 || voter. The creator and
    voter are user JIDs (wire form, no device).

    The engine capability (wa_kinds_cap) has no stanza routes: incoming
    kinds arrive as WA_CLIENT_EVENT_MESSAGE like every message.
*/
#ifndef WA_KINDS_H_INCLUDED
#define WA_KINDS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_client.h"
#include "wa_message.h"

//  Length of a message secret.
#define WA_KINDS_SECRET_LEN 32
//  Length of a poll option hash (SHA-256 of its name).
#define WA_KINDS_HASH_LEN 32
//  Poll limits: options per poll, bytes of a name or an option.
#define WA_KINDS_POLL_OPTIONS_MIN 2
#define WA_KINDS_POLL_OPTIONS_MAX 12
#define WA_KINDS_POLL_TEXT_MAX 255
//  Most contacts in one message.
#define WA_KINDS_CONTACTS_MAX 32

//  A message as a MessageKey names it (wire JIDs).
typedef struct {
    const char *chat;        //  remoteJid
    bool from_me;            //  sent by our account
    const char *id;          //  stanza id
    const char *participant; //  groups: its sender; else NULL
} wa_kinds_key_t;

//  What every kind may carry in its ContextInfo. All optional.
typedef struct {
    const char *reply_id;          //  quoted message id
    const char *reply_participant; //  its sender (user JID)
    const char *reply_chat;        //  its chat in groups
    const uint8_t *quoted;         //  the quoted Message (serialised)
    size_t quoted_len;             //  its length
    const char *const *mentions;   //  mentioned user JIDs
    size_t nmentions;              //  their number
    bool forwarded;                //  isForwarded
} wa_kinds_context_t;

//  A link preview for a text (extended text fields).
typedef struct {
    const char *url;         //  matchedText
    const char *title;       //  title
    const char *description; //  description
    const uint8_t *thumb;    //  JPEG thumbnail, or NULL
    size_t thumb_len;        //  its length
    //  High quality: the full image uploaded as media type
    //  "thumbnail-link" (wa_media WA_MEDIA_LINK_THUMB); hq_path NULL: none
    const char *hq_path;          //  thumbnailDirectPath
    const uint8_t *hq_media_key;  //  mediaKey, 32 bytes
    const uint8_t *hq_sha256;     //  thumbnailSha256, 32 bytes
    const uint8_t *hq_enc_sha256; //  thumbnailEncSha256, 32 bytes
    int64_t hq_key_timestamp;     //  mediaKeyTimestamp, unix seconds
    uint32_t hq_width, hq_height; //  thumbnailWidth, thumbnailHeight
} wa_kinds_preview_t;

//  An event (calendar) message.
typedef struct {
    const char *name;        //  required
    const char *description; //  or NULL
    int64_t start_time;      //  unix seconds
    int64_t end_time;        //  unix seconds, 0: none
    const char *location;    //  location name, or NULL
    bool extra_guests;       //  extraGuestsAllowed
} wa_kinds_event_t;

//  Send a serialised Message built here to `chat` as
//  wa_client_send_message does, under the id `want` (a caller's id from
//  new-message-id; NULL: a new one). The stanza carries the `edit`
//  attribute the kind needs. Returns 0, or -1 when not ready or the chat
//  or id is invalid.
int wa_kinds_send(wa_client_t *client, const char *chat, const uint8_t *msg,
                  size_t len, const char *want, char id[WA_CLIENT_ID_MAX]);

//  --------------------------------------------------------------------
//  Builders: 0 and a new buffer in *out_p (caller owns), or -1.

//  A text with context (quote, mentions) and an optional preview.
int wa_kinds_build_text(const char *text, const wa_kinds_context_t *ctx,
                        const wa_kinds_preview_t *preview, uint8_t **out_p,
                        size_t *out_len);

//  A location; latitude in [-90, 90], longitude in [-180, 180].
int wa_kinds_build_location(double latitude, double longitude, const char *name,
                            const char *address, const wa_kinds_context_t *ctx,
                            uint8_t **out_p, size_t *out_len);

//  One contact card (n == 1) or several; each with a display name and
//  a vCard text.
int wa_kinds_build_contacts(const char *const *names, const char *const *vcards,
                            size_t n, const wa_kinds_context_t *ctx,
                            uint8_t **out_p, size_t *out_len);

//  A poll with its secret; `multiple` lets voters pick several options.
int wa_kinds_build_poll(const char *name, const char *const *options, size_t n,
                        bool multiple,
                        const uint8_t secret[WA_KINDS_SECRET_LEN],
                        const wa_kinds_context_t *ctx, uint8_t **out_p,
                        size_t *out_len);

//  A vote on poll `poll` created by `creator`, cast by `voter` (user
//  JIDs), for the options named (none: the vote is withdrawn).
int wa_kinds_build_vote(const wa_kinds_key_t *poll, const char *creator,
                        const char *voter,
                        const uint8_t secret[WA_KINDS_SECRET_LEN],
                        const char *const *selected, size_t n,
                        int64_t timestamp_ms, uint8_t **out_p, size_t *out_len);

//  The new text of message `key` (ours).
int wa_kinds_build_edit(const wa_kinds_key_t *key, const char *text,
                        int64_t timestamp_ms, uint8_t **out_p, size_t *out_len);

//  Delete message `key` for everyone.
int wa_kinds_build_revoke(const wa_kinds_key_t *key, uint8_t **out_p,
                          size_t *out_len);

//  Pin message `key` for `duration` seconds, or unpin it (pin false).
int wa_kinds_build_pin(const wa_kinds_key_t *key, bool pin, uint32_t duration,
                       int64_t timestamp_ms, uint8_t **out_p, size_t *out_len);

//  An event with its secret.
int wa_kinds_build_event(const wa_kinds_event_t *event,
                         const uint8_t secret[WA_KINDS_SECRET_LEN],
                         const wa_kinds_context_t *ctx, uint8_t **out_p,
                         size_t *out_len);

//  A response (1 going, 2 not going, 3 maybe) to event `event` created by
//  `creator`, from `responder`.
int wa_kinds_build_event_response(const wa_kinds_key_t *event,
                                  const char *creator, const char *responder,
                                  const uint8_t secret[WA_KINDS_SECRET_LEN],
                                  int response, int64_t timestamp_ms,
                                  uint8_t **out_p, size_t *out_len);

//  A copy of a serialised Message marked forwarded (its quote dropped).
int wa_kinds_build_forward(const uint8_t *msg, size_t len, uint8_t **out_p,
                           size_t *out_len);

//  The `edit` attribute of the <message> stanza for a serialised Message:
//  "1" edit, "2" pin, "7" revoke, or NULL.
const char *wa_kinds_edit_attr(const uint8_t *msg, size_t len);

//  --------------------------------------------------------------------
//  Readers

//  What a message says beyond its type and body, in WAHA's names: any of
//  `location` {latitude, longitude (strings, as WAHA's WALocation), live,
//  name?, address?, url?},
//  `vCards` [text], `poll` {name, options[], multipleAnswers},
//  `event` {name, description?, startTime, endTime?, location?,
//  extraGuestsAllowed}, `replyTo` {id, participant?, body?, hasMedia},
//  `mentionedIds` [jid], `linkPreview` {url (the matched text),
//  canonicalUrl?, title?, description?, thumbnail? (the inline JPEG,
//  base64)}. Caller owns return value (an object, maybe empty).
json_t *wa_kinds_describe(const wa_message_t *m);

//  The link preview of a text (borrowed from m): matched text, title,
//  description, inline thumbnail, and the high-quality image's direct
//  path, key, hashes, key timestamp and size (hq_path NULL when the text
//  has none, or not all of its keys and hashes). 0, or -1 when m is no
//  text with a preview.
int wa_kinds_preview_read(const wa_message_t *m, wa_kinds_preview_t *out);

//  The message secret of a poll or event, copied into out. 0 or -1.
int wa_kinds_secret(const wa_message_t *m, uint8_t out[WA_KINDS_SECRET_LEN]);

//  The message a reaction, vote, edit, revoke, pin or event response is
//  about (borrowed strings). 0 or -1 when `m` is none of those.
int wa_kinds_target(const wa_message_t *m, wa_kinds_key_t *key);

//  Edit: the new text. NULL when `m` is no edit. Borrowed.
const char *wa_kinds_edit_text(const wa_message_t *m);

//  Pin: 1 pinned, 2 unpinned, -1 not a pin; *duration its seconds.
int wa_kinds_pin(const wa_message_t *m, uint32_t *duration);

//  Open a vote: the hashes of the chosen options into *hashes_p (caller
//  owns, n * WA_KINDS_HASH_LEN bytes) and their number into *n, and the
//  sender's time (ms). -1 when `m` is no vote or it does not open.
int wa_kinds_open_vote(const wa_message_t *m, const char *creator,
                       const char *voter,
                       const uint8_t secret[WA_KINDS_SECRET_LEN],
                       uint8_t **hashes_p, size_t *n, int64_t *timestamp_ms);

//  Open an event response: the response (0..3), guests and time (ms).
//  -1 when `m` is none or it does not open.
int wa_kinds_open_event_response(const wa_message_t *m, const char *creator,
                                 const char *responder,
                                 const uint8_t secret[WA_KINDS_SECRET_LEN],
                                 int *response, int *guests,
                                 int64_t *timestamp_ms);

//  Room for a coordinate as text.
#define WA_KINDS_DEGREES_MAX 32
//  A coordinate as WAHA writes it (a string): the shortest decimal text
//  that reads back as the same double.
void wa_kinds_degrees(double v, char out[WA_KINDS_DEGREES_MAX]);

//  The hash of a poll option name.
void wa_kinds_option_hash(const char *name, uint8_t out[WA_KINDS_HASH_LEN]);

//  Name of an event response (0..3): UNKNOWN, GOING, NOT_GOING, MAYBE.
const char *wa_kinds_response_name(int response);

void wa_kinds_test(bool verbose);

#endif
