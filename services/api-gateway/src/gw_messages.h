/*  gw_messages - sending texts and read receipts (WAHA /api/sendText,
    its deprecated /api/reply,
    /api/sendSeen; Wawp /v2/send/text, /v2/send/seen), and the steps
    every engine-backed route shares

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A route that needs the WhatsApp engine looks the session up in the
    store, checks its status and sends a command to the session-worker
    holding it (proto/PROTOCOL.md, family worker):
      message.send_text {name, chatId, text, reply_to?} -> WAMessage,
        answered once the WhatsApp server acknowledged the message
      message.send_seen {name, chatId, messageIds[], participant?} -> {}
    sendSeen without ids reads the chat's unread messages of the last 7
    days as the store keeps them (message.unread, then message.mark_read;
    the ids given are marked read too).
    Errors: unknown session 404; a session that is not WORKING 422
    ("Session status is not as expected", as WAHA says); no worker holds
    the session, or it does not answer: 503 / 504; a bad chatId or text
    400 naming the field. Chat ids are normalised: bare numbers with '+',
    spaces, dashes, dots or parentheses become "<digits>@c.us".
*/
#ifndef GW_MESSAGES_H_INCLUDED
#define GW_MESSAGES_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "cm/cm_msg.h"
#include "gw_req.h"

//  Longest text accepted in one message, bytes.
#define GW_MESSAGES_TEXT_MAX 65536
//  Most message ids in one sendSeen.
#define GW_MESSAGES_SEEN_MAX 1000
//  sendSeen without ids: unread messages of the last days.
#define GW_MESSAGES_UNREAD_DAYS 7

//  The WAHA session name of a "chatting" request: `session` from the
//  body or query, default "default". NULL after a 400.
const char *gw_messages_session_name(gw_req_t *req);

//  The store's session object for `name`, or NULL after a response (404
//  in the family's shape, 5xx). Caller owns return value.
json_t *gw_messages_session(gw_req_t *req, const char *name);

//  True if the session has one of the statuses in `statuses` (a
//  NULL-terminated list); else sets 422 naming the status and returns
//  false.
bool gw_messages_status_is(gw_req_t *req, json_t *session,
                           const char *const *statuses);

//  Send a command of `type` for `session` (object) to the worker
//  holding it: body (taken, may be NULL) gets the name and the holder
//  hint. Waits up to cap_ms (0: the request's deadline). Returns the
//  reply when the worker answered 2xx; else NULL after an error response
//  (503 no worker, 504 no answer, the worker's 4xx with its reason, 409
//  as 422, 404 only when the reply names what is `missing`: a bare 404
//  means no worker holds the session). Caller owns return value.
cm_msg_t *gw_messages_command(gw_req_t *req, json_t *session, const char *type,
                              json_t **body_p, int cap_ms);

//  As gw_messages_command, with a prepared message (body and blobs set;
//  taken on all paths).
cm_msg_t *gw_messages_command_msg(gw_req_t *req, json_t *session,
                                  cm_msg_t **msg_p, int cap_ms);

//  Read the chat's unread messages (store: message.unread, newest first,
//  at most `limit`, not older than `since`, unix seconds): read receipts
//  through the worker (message.send_seen), then message.mark_read. Sets
//  *ids_p to the ids read (caller owns; empty when none). Returns 0, or
//  -1 after an error response.
int gw_messages_read_unread(gw_req_t *req, json_t *session, const char *chat,
                            int64_t limit, int64_t since, json_t **ids_p);

//  Kinds of chat an input may name (gw_messages_chat_id_of).
#define GW_CHAT_PERSON 1 //  phone number (…@c.us) or …@lid
#define GW_CHAT_GROUP 2  //  …@g.us
#define GW_CHAT_OTHER 4  //  status@broadcast, lists, newsletters, bots
#define GW_CHAT_ANY 7

//  Check and normalise an API chat id to the API form. Ids are refused,
//  never rewritten, unless they have the shape of their server:
//    phone numbers: 6..15 digits, no leading 0; bare numbers may carry
//      '+' first and spaces, '-', '.', '(' and ')' between digits
//      ("+1 (555) 123-4567" → "15551234567@c.us"); with @c.us (or
//      @s.whatsapp.net) digits only
//    …@lid: 12..20 digits, no leading 0
//    …@g.us: 18 digits, or the old "<phone>-<10-digit seconds>"
//    …@newsletter: 15..20 digits; …@broadcast: "status" or digits;
//    …@bot: digits. Other servers are refused.
//  NULL when invalid or not of the `kinds` wanted. Caller owns return
//  value.
char *gw_messages_chat_id_of(const char *text, int kinds);
//  gw_messages_chat_id_of(text, GW_CHAT_ANY).
char *gw_messages_chat_id(const char *text);

//  Handlers.
void gw_messages_send_text(gw_req_t *req);
void gw_messages_send_text_get(gw_req_t *req);
void gw_messages_send_seen(gw_req_t *req);
void gw_messages_wawp_send_text(gw_req_t *req);
void gw_messages_wawp_send_seen(gw_req_t *req);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_messages_schemas(void);

#define GW_MESSAGES_TAG "📤 Chatting"
#define GW_MESSAGES_WAWP_TAG "Wawp: Send"
#define GW_MESSAGES_WAWP_Q                                                     \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

//  Rows of gw_api's route table.
#define GW_MESSAGES_ROUTES                                                     \
    {"POST",                                                                   \
     "/api/sendText",                                                          \
     gw_messages_send_text,                                                    \
     GW_AUTH_ADMIN,                                                            \
     201,                                                                      \
     GW_MESSAGES_TAG,                                                          \
     "sendText",                                                               \
     "Send a text message",                                                    \
     "MessageTextRequest",                                                     \
     "WAMessage",                                                              \
     NULL,                                                                     \
     false},                                                                   \
        {"GET",                                                                \
         "/api/sendText",                                                      \
         gw_messages_send_text_get,                                            \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_MESSAGES_TAG,                                                      \
         "sendTextGet",                                                        \
         "Send a text message (use POST)",                                     \
         NULL,                                                                 \
         "WAMessage",                                                          \
         "phone|string|Phone number or chat id;text|string|Text;"              \
         "session|string|Session name (default: default)",                     \
         true},                                                                \
        {"POST",                                                               \
         "/api/reply",                                                         \
         gw_messages_send_text,                                                \
         GW_AUTH_ADMIN,                                                        \
         201,                                                                  \
         GW_MESSAGES_TAG,                                                      \
         "reply",                                                              \
         "Reply to a message (use sendText with reply_to)",                    \
         "MessageTextRequest",                                                 \
         "WAMessage",                                                          \
         NULL,                                                                 \
         true},                                                                \
        {"POST",                                                               \
         "/api/sendSeen",                                                      \
         gw_messages_send_seen,                                                \
         GW_AUTH_ADMIN,                                                        \
         201,                                                                  \
         GW_MESSAGES_TAG,                                                      \
         "sendSeen",                                                           \
         "Mark messages as read",                                              \
         "SendSeenRequest",                                                    \
         "Empty",                                                              \
         NULL,                                                                 \
         false},                                                               \
        {"GET",                                                                \
         "/v2/send/text",                                                      \
         gw_messages_wawp_send_text,                                           \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_MESSAGES_WAWP_TAG,                                                 \
         "wawpSendTextGet",                                                    \
         "Send a text message",                                                \
         NULL,                                                                 \
         "WAMessage",                                                          \
         GW_MESSAGES_WAWP_Q ";chatId|string|Chat id or phone number;"          \
                            "message|string|Text;reply_to|string|Message id "  \
                            "to quote",                                        \
         false},                                                               \
        {"POST",                                                               \
         "/v2/send/text",                                                      \
         gw_messages_wawp_send_text,                                           \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_MESSAGES_WAWP_TAG,                                                 \
         "wawpSendText",                                                       \
         "Send a text message",                                                \
         "WawpSendTextRequest",                                                \
         "WAMessage",                                                          \
         GW_MESSAGES_WAWP_Q,                                                   \
         false},                                                               \
        {"GET",                                                                \
         "/v2/send/seen",                                                      \
         gw_messages_wawp_send_seen,                                           \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_MESSAGES_WAWP_TAG,                                                 \
         "wawpSendSeenGet",                                                    \
         "Mark messages as read",                                              \
         NULL,                                                                 \
         "Empty",                                                              \
         GW_MESSAGES_WAWP_Q ";chatId|string|Chat id;messageIds|string|"        \
                            "Message ids (comma-separated);"                   \
                            "participant|string|Group message sender",         \
         false},                                                               \
        {"POST",                                                               \
         "/v2/send/seen",                                                      \
         gw_messages_wawp_send_seen,                                           \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_MESSAGES_WAWP_TAG,                                                 \
         "wawpSendSeen",                                                       \
         "Mark messages as read",                                              \
         "WawpSendSeenRequest",                                                \
         "Empty",                                                              \
         GW_MESSAGES_WAWP_Q,                                                   \
         false},

void gw_messages_test(bool verbose);

#endif
