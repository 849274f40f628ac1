/*  sw_wastatus - the status (stories) capability of the WhatsApp engine:
    text, image, voice and video statuses, and deleting them

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WASTATUS_COMMANDS; 409 unless WORKING). `contacts` are
    the recipients (API or wire user ids, 1..WA_STATUS_RECIPIENTS_MAX);
    the gateway fills in the session's contacts when the caller gave
    none. `id` is a caller's message id (new-message-id), so one status
    can go to its contacts in batches.
      status.send_text {name, text, backgroundArgb:int (0..2^32-1),
          font:int, url?:str (the link previewed), preview?: {url, title?,
          description?} (the page, media.preview's; blob 0 its JPEG
          thumbnail), contacts, id?} -> WAMessage (`_data.type` "chat",
          to "status@broadcast"; `linkPreview` {url, title, description}
          when the page was read)
      status.send_media {name, kind: image|voice|video, file {url?,
          mimetype?, filename?}, caption? (image, video), convert?,
          backgroundArgb? (voice), contacts, id?}, blob 0 = the file
          unless file.url -> WAMessage with media (upload as
          message.send_media: sw_wamedia_upload)
      status.delete {name, id (bare stanza id of our status), contacts}
          -> WAMessage of the revoke (a REVOKE protocol message to
          status@broadcast, edit="7")
      status.privacy {name} -> {type: contacts|blacklist|whitelist,
          users: [chat id]}: the account's status privacy (who may see
          our statuses; the gateway's default recipients follow it)
    Each answers once the server acked the message (wa_status_send); our
    own statuses give message.any and message.ack like other sends
    unless config.ignore.status. Incoming statuses are messages from
    status@broadcast (sw_wamessage), dropped under config.ignore.status.
*/
#ifndef SW_WASTATUS_H_INCLUDED
#define SW_WASTATUS_H_INCLUDED

#include "sw_wacontacts.h"
#include "sw_wamedia.h"
#include "sw_wasess.h"

//  Largest link-preview thumbnail taken, bytes.
#define SW_WASTATUS_THUMB_MAX (64 * 1024)

#define SW_WASTATUS_COMMANDS                                                   \
    SW_WACMD("status.send_text", SW_WACMD_WORKING, SW_WACMD_SEND,              \
             sw_wastatus_send_text),                                           \
        SW_WACMD("status.send_media", SW_WACMD_WORKING, SW_WAMEDIA_TIMEOUT_MS, \
                 sw_wastatus_send_media),                                      \
        SW_WACMD("status.delete", SW_WACMD_WORKING, SW_WACMD_SEND,             \
                 sw_wastatus_delete),                                          \
        SW_WACMD("status.privacy", SW_WACMD_WORKING, SW_WACONTACTS_TIMEOUT_MS, \
                 sw_wastatus_privacy)

void sw_wastatus_send_text(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wastatus_send_media(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wastatus_delete(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wastatus_privacy(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  For the engine: the outcome of a send. Returns true when it was a
//  status (answered here), false otherwise.
bool sw_wastatus_on_sent(sw_wasess_t *sess, const wa_client_sent_t *sent);

void sw_wastatus_test(bool verbose);

#endif
