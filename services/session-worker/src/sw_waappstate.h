/*  sw_waappstate - the app-state capability of the WhatsApp engine:
    chat and label actions as app-state patches, and what the account's
    other devices change

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WAAPPSTATE_COMMANDS, listed in sw_wa's table; 409
    unless WORKING). Each uploads one app-state patch (wa_syncd) and is
    held until WhatsApp took it; the answer is {success: true}. A chatId
    is in API form ("…@c.us", "…@g.us"), labels are WhatsApp's label ids:
      chat.archive  {chatId, archived}
      chat.pin      {chatId, pinned}
      chat.mute     {chatId, muted, until? (unix s; absent: forever)}
      chat.mark     {chatId, read}
      chat.delete   {chatId}
      chat.clear    {chatId}
      message.star  {chatId, messageId, fromMe, star}
      message.delete_me {chatId, messageId, fromMe}
      contact.upsert {chatId, firstName, lastName?}
      appstate.push_name {pushName}
      label.upsert  {id, title, color}
      label.delete  {id, title?}
      label.chat    {labelId, chatId, labeled}
    503 until the phone shared its app-state keys; 502 when WhatsApp
    refused the patch.

    Every mutation applied (ours once uploaded, the other devices') is
    written to the store (appstate.apply, in order with the session's
    other writes) and, unless it came with the first sync of its
    collection, reported as WAHA events: chat.archive {id, archived,
    timestamp}, label.upsert / label.deleted {id, name, color, colorHex},
    label.chat.added / label.chat.deleted {labelId, chatId, label}. The
    label of label.chat.* is read back from the store (label.get) once
    the association is written, so a label made in the same patch is in
    it; it is null when the store does not know the label.

    A snapshot or a patch whose mutations are in an external blob is
    downloaded through media-service (media.download, kind md-app-state)
    and handed back to the engine, which applies it (MACs checked) and
    goes on with the fetch.
*/
#ifndef SW_WAAPPSTATE_H_INCLUDED
#define SW_WAAPPSTATE_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sw_wasess.h"

//  Longest wait of an app-state command: a fetch and an upload, twice.
#define SW_WAAPPSTATE_TIMEOUT_MS (SW_WA_IQ_TIMEOUT_MS + SW_WACMD_GRACE_MS)
//  Longest label name and contact name (bytes).
#define SW_WAAPPSTATE_NAME_MAX 100

#define SW_WAAPPSTATE_ROW(type, fn)                                            \
    SW_WACMD(type, SW_WACMD_WORKING, SW_WAAPPSTATE_TIMEOUT_MS, fn)

//  The capability's rows of the command table.
#define SW_WAAPPSTATE_COMMANDS                                                 \
    SW_WAAPPSTATE_ROW("chat.archive", sw_waappstate_archive),                  \
        SW_WAAPPSTATE_ROW("chat.pin", sw_waappstate_pin),                      \
        SW_WAAPPSTATE_ROW("chat.mute", sw_waappstate_mute),                    \
        SW_WAAPPSTATE_ROW("chat.mark", sw_waappstate_mark),                    \
        SW_WAAPPSTATE_ROW("chat.delete", sw_waappstate_delete_chat),           \
        SW_WAAPPSTATE_ROW("chat.clear", sw_waappstate_clear_chat),             \
        SW_WAAPPSTATE_ROW("message.star", sw_waappstate_star),                 \
        SW_WAAPPSTATE_ROW("message.delete_me", sw_waappstate_delete_message),  \
        SW_WAAPPSTATE_ROW("contact.upsert", sw_waappstate_contact),            \
        SW_WAAPPSTATE_ROW("appstate.push_name", sw_waappstate_push_name),      \
        SW_WAAPPSTATE_ROW("label.upsert", sw_waappstate_label_upsert),         \
        SW_WAAPPSTATE_ROW("label.delete", sw_waappstate_label_delete),         \
        SW_WAAPPSTATE_ROW("label.chat", sw_waappstate_label_chat)

//  Handlers (sw_wacmd_fn).
void sw_waappstate_archive(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_pin(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_mute(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_mark(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_delete_chat(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_clear_chat(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_star(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_delete_message(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_contact(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_push_name(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_label_upsert(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_label_delete(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waappstate_label_chat(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  The engine applied a mutation / finished a push.
void sw_waappstate_on_appstate(sw_wasess_t *sess,
                               const wa_client_appstate_t *ev);
void sw_waappstate_on_pushed(sw_wasess_t *sess, const wa_client_pushed_t *ev);
//  App state needs an external blob (a snapshot, a patch's mutations):
//  downloaded through media-service (md-app-state), then handed back
//  with wa_client_appstate_blob (NULL when the download failed).
void sw_waappstate_on_blob(sw_wasess_t *sess,
                           const wa_client_appstate_blob_t *ev);

//  WAHA's hex of a WhatsApp label color index (0..19), or NULL.
const char *sw_waappstate_color_hex(int color);

//  What a mutation means: the store change and, when it has one, the
//  WAHA event name and payload (*event_p / *payload_p NULL otherwise).
//  NULL when the mutation is none of ours. Caller owns return values.
json_t *sw_waappstate_change(const json_t *action, const char **event_p,
                             json_t **payload_p);

void sw_waappstate_test(bool verbose);

#endif
