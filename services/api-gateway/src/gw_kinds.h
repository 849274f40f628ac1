/*  gw_kinds - the message kinds and the actions on messages: locations,
    contact cards, polls and votes, events, reactions, edits, deletes,
    pins, forwards, texts with mentions, quotes or link previews, one
    stored message, new message ids (WAHA routes and the Wawp /v2 aliases)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every send checks its fields (400 naming the field, nothing sent),
    the session (404) and its status (422), then sends a worker command
    of family worker (proto/PROTOCOL.md; sw_wakinds): message.send_rich,
    message.send_location, message.send_contacts, message.send_poll,
    message.send_event, message.send_poll_vote, message.react,
    message.edit, message.revoke, message.pin, message.forward; and
    DELETE .../messages/{messageId}?forEveryone=false, Wharf's extension
    (WAHA has no delete-for-me route), message.delete_me of sw_waappstate:
    the message goes from this account's devices only.
    What a command needs from the store is read here first (store family
    kinds, st_kinds): `reply_to` names a stored message whose body is
    quoted; a reaction, vote, edit, delete, pin or forward names a
    stored message, and an unknown one is 404 "Message not found"; only
    our own messages are edited (400).
    Wawp forms take every field from the query, a form or a JSON body,
    with nested objects and arrays (poll, contacts, votes, event) also as
    JSON text.
*/
#ifndef GW_KINDS_H_INCLUDED
#define GW_KINDS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Limits of the inputs.
#define GW_KINDS_TEXT_MAX 1024      //  title, address, names
#define GW_KINDS_VCARD_MAX 65536    //  one vCard
#define GW_KINDS_CONTACTS_MAX 32    //  contacts per message
#define GW_KINDS_POLL_OPTIONS_MIN 2 //  options per poll
#define GW_KINDS_POLL_OPTIONS_MAX 12
#define GW_KINDS_POLL_TEXT_MAX 255     //  poll name, option
#define GW_KINDS_REACTION_MAX 64       //  bytes of a reaction
#define GW_KINDS_MENTIONS_MAX 256      //  mentions per text
#define GW_KINDS_PREVIEW_URL_MAX 2048  //  bytes of a previewed URL
#define GW_KINDS_PREVIEW_WAIT_MS 15000 //  media.preview, then no preview
#define GW_KINDS_PREVIEW_THUMB_MAX (64 * 1024)        //  bytes of its thumbnail
#define GW_KINDS_PREVIEW_IMAGE_MAX (16 * 1024 * 1024) //  custom image

//  A message of ours not stored yet (sends are answered before their row
//  is written) is looked up again every POLL ms for up to WAIT ms.
#define GW_KINDS_OWN_WAIT_MS 2000
#define GW_KINDS_OWN_POLL_MS 25

//  The first http(s) URL of `text` (sentence punctuation after it left
//  out), or NULL. Caller owns return value.
char *gw_kinds_first_url(const char *text);

//  A text with mentions, a caller's id, a reply_to or a link to preview
//  goes through message.send_rich (the quote read from the store):
//  sendText and /v2/send/text hand over here when gw_kinds_text_wanted
//  says so. A link preview (WAHA's linkPreview, on unless false) is of
//  the text's first http(s) URL: media-service fetches the page under
//  the policy of media URLs (media.preview) and gives its title,
//  description and a JPEG thumbnail (blob 0 of message.send_rich); a
//  page that cannot be read leaves the text without a preview, and the
//  text is sent all the same. linkPreviewHighQuality is accepted and
//  not used.
bool gw_kinds_text_wanted(gw_req_t *req, const char *text_field);

//  What a send's reply_to quotes: the stored message it names as the
//  worker's `quoted` {id (the full stored id), participant, body,
//  hasMedia}, new reference; NULL when it is not stored (the send
//  quotes the bare id) or after a store error (*failed, answered).
json_t *gw_kinds_quoted(gw_req_t *req, const char *name, const char *reply_to,
                        bool *failed);
void gw_kinds_send_text(gw_req_t *req, const char *name, const char *chat_field,
                        const char *text_field, int success);

//  Handlers.
void gw_kinds_send_location(gw_req_t *req);
void gw_kinds_send_contacts(gw_req_t *req);
void gw_kinds_send_poll(gw_req_t *req);
void gw_kinds_send_poll_vote(gw_req_t *req);
void gw_kinds_react(gw_req_t *req);
void gw_kinds_forward(gw_req_t *req);
void gw_kinds_link_preview(gw_req_t *req);
//  POST /api/sendLinkPreview (WAHA, deprecated) {session, chatId, url,
//  title}: link-custom-preview with the url as the text.
void gw_kinds_link_preview_old(gw_req_t *req);
void gw_kinds_send_event(gw_req_t *req);

//  For other capabilities (status): read the page of body.preview {url}
//  (media.preview) into its title and description, and *thumb_p its
//  JPEG thumbnail when there is one (caller owns); a page that cannot be
//  read removes body.preview.
void gw_kinds_preview_page(gw_req_t *req, json_t *body, zframe_t **thumb_p);
void gw_kinds_new_id(gw_req_t *req);
void gw_kinds_get(gw_req_t *req);
void gw_kinds_edit(gw_req_t *req);
void gw_kinds_delete(gw_req_t *req);
void gw_kinds_pin(gw_req_t *req);
void gw_kinds_unpin(gw_req_t *req);
void gw_kinds_wawp_send_location(gw_req_t *req);
void gw_kinds_wawp_send_contacts(gw_req_t *req);
void gw_kinds_wawp_send_poll(gw_req_t *req);
void gw_kinds_wawp_send_poll_vote(gw_req_t *req);
void gw_kinds_wawp_react(gw_req_t *req);
void gw_kinds_wawp_link_preview(gw_req_t *req);
void gw_kinds_wawp_send_event(gw_req_t *req);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_kinds_schemas(void);

//  Query of the message delete routes.
#define GW_KINDS_DELETE_Q                                                      \
    "forEveryone|boolean|true (default): revoke it for everyone. false "       \
    "(Wharf extension): delete it for me, from this account's devices only "   \
    "(app state deleteMessageForMe), answering {success: true}"

//  Rows of gw_api's route table.
// clang-format off
#define GW_KINDS_ROUTES \
    {"POST", "/api/sendLocation", gw_kinds_send_location, GW_AUTH_ADMIN, 201, GW_MESSAGES_TAG, "sendLocation", "Send a location", "MessageLocationRequest", "WAMessage", NULL, false}, \
    {"POST", "/api/sendContactVcard", gw_kinds_send_contacts, GW_AUTH_ADMIN, 201, GW_MESSAGES_TAG, "sendContactVcard", "Send contact cards", "MessageContactVcardRequest", "WAMessage", NULL, false}, \
    {"POST", "/api/sendPoll", gw_kinds_send_poll, GW_AUTH_ADMIN, 201, GW_MESSAGES_TAG, "sendPoll", "Send a poll", "MessagePollRequest", "WAMessage", NULL, false}, \
    {"POST", "/api/sendPollVote", gw_kinds_send_poll_vote, GW_AUTH_ADMIN, 201, GW_MESSAGES_TAG, "sendPollVote", "Vote on a poll", "MessagePollVoteRequest", "WAMessage", NULL, false}, \
    {"PUT", "/api/reaction", gw_kinds_react, GW_AUTH_ADMIN, 200, GW_MESSAGES_TAG, "setReaction", "React to a message (\"\" removes the reaction)", "MessageReactionRequest", "WAMessage", NULL, false}, \
    {"POST", "/api/forwardMessage", gw_kinds_forward, GW_AUTH_ADMIN, 201, GW_MESSAGES_TAG, "forwardMessage", "Forward a stored message", "MessageForwardRequest", "WAMessage", NULL, false}, \
    {"POST", "/api/send/link-custom-preview", gw_kinds_link_preview, GW_AUTH_ADMIN, 201, GW_MESSAGES_TAG, "sendLinkCustomPreview", "Send a text with a custom link preview", "MessageLinkCustomPreviewRequest", "WAMessage", NULL, false}, \
    {"POST", "/api/{session}/events", gw_kinds_send_event, GW_AUTH_ADMIN, 201, GW_MESSAGES_TAG, "sendEvent", "Send an event (calendar) message", "EventMessageRequest", "WAMessage", NULL, false}, \
    {"GET", "/api/{session}/new-message-id", gw_kinds_new_id, GW_AUTH_ADMIN, 200, GW_MESSAGES_TAG, "newMessageId", "A message id to pass as `id` in a send", NULL, "NewMessageId", NULL, false}, \
    {"GET", "/api/{session}/chats/{chatId}/messages/{messageId}", gw_kinds_get, GW_AUTH_ADMIN, 200, GW_CHATS_TAG, "chatsGetMessage", "One stored message", NULL, "WAMessage", "downloadMedia|boolean|true (default): media not downloaded yet (or whose download failed) is downloaded now (media.url, or media.error), false: media without the downloaded file (media.url)", false}, \
    {"PUT", "/api/{session}/chats/{chatId}/messages/{messageId}", gw_kinds_edit, GW_AUTH_ADMIN, 200, GW_CHATS_TAG, "chatsEditMessage", "Edit a message this session sent", "EditMessageRequest", "WAMessage", NULL, false}, \
    {"DELETE", "/api/{session}/chats/{chatId}/messages/{messageId}", gw_kinds_delete, GW_AUTH_ADMIN, 200, GW_CHATS_TAG, "chatsDeleteMessage", "Delete a message for everyone, or for me (forEveryone=false)", NULL, "WAMessage", GW_KINDS_DELETE_Q, false}, \
    {"POST", "/api/{session}/chats/{chatId}/messages/{messageId}/pin", gw_kinds_pin, GW_AUTH_ADMIN, 201, GW_CHATS_TAG, "chatsPinMessage", "Pin a message", "PinMessageRequest", "PinResult", NULL, false}, \
    {"POST", "/api/{session}/chats/{chatId}/messages/{messageId}/unpin", gw_kinds_unpin, GW_AUTH_ADMIN, 201, GW_CHATS_TAG, "chatsUnpinMessage", "Unpin a message", NULL, "PinResult", NULL, false}, \
    {"POST", "/api/sendLinkPreview", gw_kinds_link_preview_old, GW_AUTH_ADMIN, 201, GW_MESSAGES_TAG, "sendLinkPreviewDeprecated", "Send a link with its preview (deprecated: use /api/send/link-custom-preview)", "MessageLinkPreviewRequest", "WAMessage", NULL, false}, \
    {"GET", "/v2/chats/{chatId}/messages/{messageId}", gw_kinds_get, GW_AUTH_INSTANCE, 200, GW_CHATS_TAG, "wawpChatsGetMessage", "One stored message (Wawp)", NULL, "WAMessage", GW_MESSAGES_WAWP_Q ";downloadMedia|boolean|true (default): media not downloaded yet is downloaded now", false}, \
    {"PUT", "/v2/chats/{chatId}/messages/{messageId}", gw_kinds_edit, GW_AUTH_INSTANCE, 200, GW_CHATS_TAG, "wawpChatsEditMessage", "Edit a message this session sent (Wawp)", "EditMessageRequest", "WAMessage", GW_MESSAGES_WAWP_Q, false}, \
    {"DELETE", "/v2/chats/{chatId}/messages/{messageId}", gw_kinds_delete, GW_AUTH_INSTANCE, 200, GW_CHATS_TAG, "wawpChatsDeleteMessage", "Delete a message for everyone, or for me (Wawp)", NULL, "WAMessage", GW_MESSAGES_WAWP_Q ";" GW_KINDS_DELETE_Q, false}, \
    {"POST", "/v2/chats/{chatId}/messages/{messageId}/pin", gw_kinds_pin, GW_AUTH_INSTANCE, 201, GW_CHATS_TAG, "wawpChatsPinMessage", "Pin a message (Wawp)", "PinMessageRequest", "PinResult", GW_MESSAGES_WAWP_Q, false}, \
    {"POST", "/v2/chats/{chatId}/messages/{messageId}/unpin", gw_kinds_unpin, GW_AUTH_INSTANCE, 201, GW_CHATS_TAG, "wawpChatsUnpinMessage", "Unpin a message (Wawp)", NULL, "PinResult", GW_MESSAGES_WAWP_Q, false}, \
    {"GET", "/v2/send/location", gw_kinds_wawp_send_location, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendLocationGet", "Send a location", NULL, "WAMessage", GW_MESSAGES_WAWP_Q ";chatId|string|Chat id;latitude|number|Latitude;longitude|number|Longitude;title|string|Place name;message|string|Address", false}, \
    {"POST", "/v2/send/location", gw_kinds_wawp_send_location, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendLocation", "Send a location", "WawpLocationRequest", "WAMessage", GW_MESSAGES_WAWP_Q, false}, \
    {"POST", "/v2/send/contact", gw_kinds_wawp_send_contacts, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendContact", "Send contact cards (contacts may be JSON text)", "WawpContactRequest", "WAMessage", GW_MESSAGES_WAWP_Q ";contacts|string|JSON array of contacts", false}, \
    {"POST", "/v2/send/poll", gw_kinds_wawp_send_poll, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendPoll", "Send a poll (poll may be JSON text)", "WawpPollRequest", "WAMessage", GW_MESSAGES_WAWP_Q ";poll|string|JSON poll object", false}, \
    {"POST", "/v2/send/poll-vote", gw_kinds_wawp_send_poll_vote, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendPollVote", "Vote on a poll (votes may be JSON text)", "WawpPollVoteRequest", "WAMessage", GW_MESSAGES_WAWP_Q ";votes|string|JSON array of option names", false}, \
    {"PUT", "/v2/send/reaction", gw_kinds_wawp_react, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendReaction", "React to a message", "WawpReactionRequest", "WAMessage", GW_MESSAGES_WAWP_Q, false}, \
    {"GET", "/v2/send/link-preview", gw_kinds_wawp_link_preview, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendLinkPreviewGet", "Send a text with a link preview", NULL, "WAMessage", GW_MESSAGES_WAWP_Q ";chatId|string|Chat id;text|string|Text with the URL;url|string|URL;title|string|Title;description|string|Description", false}, \
    {"POST", "/v2/send/link-preview", gw_kinds_wawp_link_preview, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendLinkPreview", "Send a text with a link preview", "WawpLinkPreviewRequest", "WAMessage", GW_MESSAGES_WAWP_Q, false}, \
    {"POST", "/v2/send/event", gw_kinds_wawp_send_event, GW_AUTH_INSTANCE, 200, GW_MESSAGES_WAWP_TAG, "wawpSendEvent", "Send an event (event may be JSON text)", "WawpEventRequest", "WAMessage", GW_MESSAGES_WAWP_Q ";event|string|JSON event object", false},
// clang-format on

void gw_kinds_test(bool verbose);

#endif
