/*  sw_wakinds - the message kinds capability of the WhatsApp engine:
    locations, contact cards, polls and votes, events and responses,
    reactions, edits, deletes and pins, sent and received

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WAKINDS_COMMANDS; 409 unless WORKING). The sends answer
    a WAMessage once the server acked the message (held under its id, as
    message.send_text); `reply_to` quotes a message (`quoted` {id,
    participant?, body?} as the gateway read it from the store) and `id`
    is a caller's message id:
      message.send_rich {chatId, text, mentions?:[chat id], preview?:{url,
          title?, description?, highQuality?:{url} | {data:true}}},
          blob 0 the preview's JPEG thumbnail, blob 1 the full image
          with highQuality.data (a text with mentions, a preview, a
          quote or a caller's id); highQuality: the image is uploaded
          first (media.upload kind link-thumbnail) and the text carries
          its media fields (none when the upload fails)
      message.send_location {chatId, latitude, longitude, title?,
          address?}
      message.send_contacts {chatId, contacts:[{name, vcard}]}
      message.send_poll {chatId, poll:{name, options[], multipleAnswers}}
      message.send_event {chatId, event:{name, description?, startTime,
          endTime?, location?:{name}, extraGuestsAllowed?}}
      message.send_poll_vote {chatId, pollMessageId, votes[]}
      message.react {messageId, reaction}   ("" removes)
      message.edit {chatId, messageId, text}
      message.revoke {chatId, messageId}
      message.pin {chatId, messageId, pin, duration}
      message.forward {chatId, message (the stored WAMessage)}
    Message ids are WAHA ids ("true_<chat>_<id>[_<participant>]").

    Secrets: the secret of every poll and event sent or received is kept
    in memory and in the store (message.secret_put, fenced like every
    session write), so votes and responses open after a restart or on
    another worker (message.secret_get on a miss).

    Events (the receive side, from sw_wamessage's dispatch lines):
    `message.reaction`, `message.edited` (and the stored body updated),
    `message.revoked` (with `before` from the store), `poll.vote` /
    `poll.vote.failed`, `event.response` / `event.response.failed`; the
    other kinds are ordinary `message`s whose WAHA fields (`location`,
    `vCards`, `poll`, `event`, `replyTo` with the quoted body, ...) come
    from sw_wakinds_on_content.
*/
#ifndef SW_WAKINDS_H_INCLUDED
#define SW_WAKINDS_H_INCLUDED

#include "sw_wasess.h"
#include "wa/wa_kinds.h"

//  Poll and event secrets remembered per session (the rest from the
//  store).
#define SW_WAKINDS_SECRETS_MAX 1024
//  Store read timeout (secrets, revoked messages), ms.
#define SW_WAKINDS_STORE_MS 3000
//  Largest link preview thumbnail taken, bytes (a larger one is left
//  out).
#define SW_WAKINDS_THUMB_MAX (64 * 1024)

//  Sends a text whose link preview's full image was uploaded first: hq
//  is media-service's answer, NULL when there is none.
typedef void(sw_wakinds_preview_send_fn)(sw_wasess_t *sess, sw_cmd_t **cmd_p,
                                         cm_msg_t *hq);

//  The capability's rows of the command table.
#define SW_WAKINDS_COMMANDS                                                    \
    SW_WACMD("message.send_rich", SW_WACMD_WORKING, SW_WACMD_SEND,             \
             sw_wakinds_send_rich),                                            \
        SW_WACMD("message.send_location", SW_WACMD_WORKING, SW_WACMD_SEND,     \
                 sw_wakinds_send_location),                                    \
        SW_WACMD("message.send_contacts", SW_WACMD_WORKING, SW_WACMD_SEND,     \
                 sw_wakinds_send_contacts),                                    \
        SW_WACMD("message.send_poll", SW_WACMD_WORKING, SW_WACMD_SEND,         \
                 sw_wakinds_send_poll),                                        \
        SW_WACMD("message.send_event", SW_WACMD_WORKING, SW_WACMD_SEND,        \
                 sw_wakinds_send_event),                                       \
        SW_WACMD("message.send_poll_vote", SW_WACMD_WORKING, SW_WACMD_SEND,    \
                 sw_wakinds_send_poll_vote),                                   \
        SW_WACMD("message.react", SW_WACMD_WORKING, SW_WACMD_SEND,             \
                 sw_wakinds_react),                                            \
        SW_WACMD("message.edit", SW_WACMD_WORKING, SW_WACMD_SEND,              \
                 sw_wakinds_edit),                                             \
        SW_WACMD("message.revoke", SW_WACMD_WORKING, SW_WACMD_SEND,            \
                 sw_wakinds_revoke),                                           \
        SW_WACMD("message.pin", SW_WACMD_WORKING, SW_WACMD_SEND,               \
                 sw_wakinds_pin),                                              \
        SW_WACMD("message.forward", SW_WACMD_WORKING, SW_WACMD_SEND,           \
                 sw_wakinds_forward)

//  Handlers (sw_wacmd_fn).
void sw_wakinds_send_rich(sw_wasess_t *sess, sw_cmd_t **cmd_p);
//  Upload the link preview's full image (fetched from url, or a copy of
//  image) as media kind link-thumbnail, holding the command meanwhile,
//  then call send with the answer (NULL when the upload failed: the text
//  goes without the image). Neither url nor image: send at once. what
//  names the message in errors ("text", "status"; static).
void sw_wakinds_with_preview_image(sw_wasess_t *sess, sw_cmd_t **cmd_p,
                                   const char *url, zframe_t *image,
                                   sw_wakinds_preview_send_fn *send,
                                   const char *what);
void sw_wakinds_send_location(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_send_contacts(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_send_poll(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_send_event(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_send_poll_vote(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_react(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_edit(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_revoke(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_pin(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wakinds_forward(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  Dispatch hook of sw_wamessage for a received message: the kinds that
//  are no `message` of their own (reactions, votes, edits, revokes,
//  event responses) become their events here. Returns -1 when `m` is
//  none of those (the caller goes on), else 1 when its receipt waits
//  for the events to be stored, 0 when it can go now.
int sw_wakinds_on_message(sw_wasess_t *sess, const wa_client_message_t *m);

//  Dispatch hook of sw_wamessage for a received `message`: the WAHA
//  fields of its kind (location, vCards, poll, event, replyTo, ...), or
//  NULL; keeps the secret of a poll or event. Caller owns return value.
json_t *sw_wakinds_on_content(sw_wasess_t *sess, const wa_client_message_t *m);

//  Dispatch hook of sw_wamessage for a send's outcome: true when it was
//  an action of this capability (reaction, vote, edit, revoke, pin),
//  answered and reported here.
bool sw_wakinds_on_sent(sw_wasess_t *sess, const wa_client_sent_t *sent);

//  The high-quality link preview image's fields from its media.upload
//  reply (kind link-thumbnail) into pv: strings borrowed from hq, the
//  decoded keys appended to keep (a list that frees its items). Returns
//  0, or -1 when the reply lacks one of them.
int sw_wakinds_hq_fields(cm_msg_t *hq, wa_kinds_preview_t *pv, zlistx_t *keep);

void sw_wakinds_test(bool verbose);

#endif
