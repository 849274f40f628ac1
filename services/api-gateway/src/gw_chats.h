/*  gw_chats - chats and their messages, as kept by store-service

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Routes (GW_CHATS_ROUTES, listed in gw_api's table):
      GET /api/{session}/chats?sortBy=&sortOrder=&limit=&offset=   chat.list
      GET /api/{session}/chats/{chatId}/messages?limit=&offset=&filter.fromMe=
                                                                 message.list
      GET /v2/chats, GET /v2/chats/{chatId}/messages   the same, Wawp auth
      POST /api/{session}/chats/{chatId}/messages/read?messages=30&days=7
          read receipts for the chat's unread messages (the store keeps
          which are unread) -> {ids:[...]} (gw_messages_read_unread)
      GET /api/{session}/chats/{chatId}/picture?refresh=   contact.picture
          {id, refresh} -> {url} (null: no picture; kept 24 hours unless
          refresh=true), for a person or a group
      GET|POST /api/{session}/chats/overview   ChatSummary list
          {id, name, picture, lastMessage, _chat} (GET: limit, offset,
          ids; POST: {pagination: {limit, offset}, filter: {ids}})
    App-state actions (session-worker sw_waappstate; an unknown chat is
    404 before anything is uploaded; answers {success: true}):
      POST   /api/{session}/chats/{chatId}/archive|unarchive   chat.archive
      POST   /api/{session}/chats/{chatId}/unread               chat.mark
      POST   /api/{session}/chats/{chatId}/pin|unpin            chat.pin
      POST   /api/{session}/chats/{chatId}/mute|unmute {duration?} chat.mute
      DELETE /api/{session}/chats/{chatId}                      chat.delete
      DELETE /api/{session}/chats/{chatId}/messages             chat.clear
      PUT    /api/star {session, chatId, messageId, star}       message.star
      PUT    /api/{session}/contacts/{chatId} {firstName, lastName}
                                                             contact.upsert
    Every message and chat a session sent or received since Wharf linked
    it is kept (store-service writes them with their events), with the
    flags app state sets (archived, pinned, muted, unread).
*/
#ifndef GW_CHATS_H_INCLUDED
#define GW_CHATS_H_INCLUDED

#include <jansson.h>

#include "gw_req.h"

//  Page sizes.
#define GW_CHATS_LIST_MAX 1000
#define GW_CHATS_LIST_DEFAULT 100
//  filter.timestamp.gte/lte: seconds up to the end of year 9999
#define GW_CHATS_TS_MAX 253402300799LL

//  Longest wait for an app-state change (a fetch and an upload).
#define GW_CHATS_ACTION_TIMEOUT_MS 20000

void gw_chats_list(gw_req_t *req);
void gw_chats_overview(gw_req_t *req);
void gw_chats_archive(gw_req_t *req);
void gw_chats_unarchive(gw_req_t *req);
void gw_chats_unread(gw_req_t *req);
void gw_chats_pin(gw_req_t *req);
void gw_chats_unpin(gw_req_t *req);
void gw_chats_mute(gw_req_t *req);
void gw_chats_unmute(gw_req_t *req);
void gw_chats_delete(gw_req_t *req);
void gw_chats_clear(gw_req_t *req);
void gw_chats_star(gw_req_t *req);
//  GET /api/messages?session=&chatId= (WAHA, deprecated)
void gw_chats_messages_old(gw_req_t *req);
void gw_chats_contact_upsert(gw_req_t *req);
void gw_chats_messages(gw_req_t *req);
void gw_chats_read(gw_req_t *req);
void gw_chats_picture(gw_req_t *req);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_chats_schemas(void);

#define GW_CHATS_TAG "💬 Chats"
#define GW_CHATS_LIST_Q                                                        \
    "sortBy|string|conversationTimestamp (default), id or name;"               \
    "sortOrder|string|desc (default) or asc;"                                  \
    "limit|integer|Chats per page, 1..1000 (default 100);"                     \
    "offset|integer|Chats to skip"
#define GW_CHATS_MESSAGES_Q                                                    \
    "limit|integer|Messages per page, 1..1000 (default 100);"                  \
    "offset|integer|Messages to skip;"                                         \
    "filter.fromMe|boolean|Only sent (true) or received (false) ones;"         \
    "filter.timestamp.gte|integer|Only messages at or after this time "        \
    "(seconds);"                                                               \
    "filter.timestamp.lte|integer|Only messages at or before this time "       \
    "(seconds);"                                                               \
    "filter.ack|string|Only messages at this ack: ERROR, PENDING, SERVER, "    \
    "DEVICE, READ or PLAYED (or -1..4);"                                       \
    "sortBy|string|timestamp (alias messageTimestamp), the only order;"        \
    "sortOrder|string|desc (default, newest first) or asc;"                    \
    "downloadMedia|boolean|true (default): media not downloaded yet (or "      \
    "whose download failed) is downloaded now (media.url, or media.error), "   \
    "false: media without the downloaded file (media.url)"
#define GW_CHATS_WAWP_Q                                                        \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

#define GW_CHATS_ACTION(m, p, fn, st, op, sum, rq)                             \
    {                                                                          \
        m, p, fn, GW_AUTH_ADMIN, st, GW_CHATS_TAG, op, sum, rq, "Success",     \
            NULL, false                                                        \
    }
//  The Wawp /v2 form of a WAHA chat route: the same handler, the
//  session named by instance_id (api-surface.md 5.1).
#define GW_CHATS_WAWP(m, p, fn, st, op, sum, rq, rs, q)                        \
    {                                                                          \
        m, p, fn, GW_AUTH_INSTANCE, st, GW_CHATS_TAG, op, sum, rq, rs,         \
            GW_CHATS_WAWP_Q q, false                                           \
    }
#define GW_CHATS_OVERVIEW_Q                                                    \
    "limit|integer|Chats per page, 1..1000 (default 20);"                      \
    "offset|integer|Chats to skip;"                                            \
    "ids|string|Only these chat ids (comma separated)"

#define GW_CHATS_ROUTES                                                        \
    {"GET",                                                                    \
     "/api/{session}/chats/overview",                                          \
     gw_chats_overview,                                                        \
     GW_AUTH_ADMIN,                                                            \
     200,                                                                      \
     GW_CHATS_TAG,                                                             \
     "chatsGetChatsOverview",                                                  \
     "Chats with their last message",                                          \
     NULL,                                                                     \
     "ChatSummaryList",                                                        \
     GW_CHATS_OVERVIEW_Q,                                                      \
     false},                                                                   \
        {"POST",                                                               \
         "/api/{session}/chats/overview",                                      \
         gw_chats_overview,                                                    \
         GW_AUTH_ADMIN,                                                        \
         201,                                                                  \
         GW_CHATS_TAG,                                                         \
         "chatsPostChatsOverview",                                             \
         "Chats with their last message (filter in the body)",                 \
         "ChatsOverviewRequest",                                               \
         "ChatSummaryList",                                                    \
         NULL,                                                                 \
         false},                                                               \
        GW_CHATS_ACTION("POST", "/api/{session}/chats/{chatId}/archive",       \
                        gw_chats_archive, 201, "chatsArchiveChat",             \
                        "Archive a chat", NULL),                               \
        GW_CHATS_ACTION("POST", "/api/{session}/chats/{chatId}/unarchive",     \
                        gw_chats_unarchive, 201, "chatsUnarchiveChat",         \
                        "Unarchive a chat", NULL),                             \
        GW_CHATS_ACTION("POST", "/api/{session}/chats/{chatId}/unread",        \
                        gw_chats_unread, 201, "chatsUnreadChat",               \
                        "Mark a chat unread", NULL),                           \
        GW_CHATS_ACTION("POST", "/api/{session}/chats/{chatId}/pin",           \
                        gw_chats_pin, 201, "chatsPinChat", "Pin a chat",       \
                        NULL),                                                 \
        GW_CHATS_ACTION("POST", "/api/{session}/chats/{chatId}/unpin",         \
                        gw_chats_unpin, 201, "chatsUnpinChat", "Unpin a chat", \
                        NULL),                                                 \
        GW_CHATS_ACTION("POST", "/api/{session}/chats/{chatId}/mute",          \
                        gw_chats_mute, 201, "chatsMuteChat",                   \
                        "Mute a chat (duration in seconds; none: forever)",    \
                        "MuteRequest"),                                        \
        GW_CHATS_ACTION("POST", "/api/{session}/chats/{chatId}/unmute",        \
                        gw_chats_unmute, 201, "chatsUnmuteChat",               \
                        "Unmute a chat", NULL),                                \
        GW_CHATS_ACTION("DELETE", "/api/{session}/chats/{chatId}",             \
                        gw_chats_delete, 200, "chatsDeleteChat",               \
                        "Delete a chat", NULL),                                \
        GW_CHATS_ACTION("DELETE", "/api/{session}/chats/{chatId}/messages",    \
                        gw_chats_clear, 200, "chatsClearMessages",             \
                        "Clear the messages of a chat", NULL),                 \
        GW_CHATS_ACTION("PUT", "/api/star", gw_chats_star, 200, "setStar",     \
                        "Star or unstar a message", "StarRequest"),            \
        GW_CHATS_ACTION("PUT", "/api/{session}/contacts/{chatId}",             \
                        gw_chats_contact_upsert, 200, "contactsUpsert",        \
                        "Create or update a contact in the address book",      \
                        "ContactUpsertRequest"),                               \
        {"GET",                                                                \
         "/api/{session}/chats",                                               \
         gw_chats_list,                                                        \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_CHATS_TAG,                                                         \
         "chatsList",                                                          \
         "Chats with a message since linking, most recent first",              \
         NULL,                                                                 \
         "ChatList",                                                           \
         GW_CHATS_LIST_Q,                                                      \
         false},                                                               \
        {"GET",                                                                \
         "/api/{session}/chats/{chatId}/picture",                              \
         gw_chats_picture,                                                     \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_CHATS_TAG,                                                         \
         "chatsGetChatPicture",                                                \
         "The chat's picture URL (a person's or a group's)",                   \
         NULL,                                                                 \
         "ChatPictureResponse",                                                \
         "refresh|boolean|Ask WhatsApp again instead of the copy kept 24 "     \
         "hours",                                                              \
         false},                                                               \
        {"GET",                                                                \
         "/api/{session}/chats/{chatId}/messages",                             \
         gw_chats_messages,                                                    \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_CHATS_TAG,                                                         \
         "chatsGetMessages",                                                   \
         "Messages in a chat, newest first",                                   \
         NULL,                                                                 \
         "WAMessageList",                                                      \
         GW_CHATS_MESSAGES_Q,                                                  \
         false},                                                               \
        {"POST",                                                               \
         "/api/{session}/chats/{chatId}/messages/read",                        \
         gw_chats_read,                                                        \
         GW_AUTH_ADMIN,                                                        \
         201,                                                                  \
         GW_CHATS_TAG,                                                         \
         "chatsReadMessages",                                                  \
         "Read the chat's unread messages (send read receipts)",               \
         NULL,                                                                 \
         "ReadChatMessagesResponse",                                           \
         "messages|integer|Newest unread messages to read, 1..1000 "           \
         "(default 30);days|integer|Only those of the last days, 1..365 "      \
         "(default 7)",                                                        \
         false},                                                               \
        GW_CHATS_WAWP("PUT", "/v2/send/star", gw_chats_star, 200,              \
                      "wawpSetStar", "Star or unstar a message (Wawp)",        \
                      "StarRequest", "Success", ""),                           \
        {"GET",                                                                \
         "/api/messages",                                                      \
         gw_chats_messages_old,                                                \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_CHATS_TAG,                                                         \
         "getMessagesDeprecated",                                              \
         "Messages in a chat (deprecated: use "                                \
         "/api/{session}/chats/{chatId}/messages)",                            \
         NULL,                                                                 \
         "WAMessageList",                                                      \
         "session|string|Session name (default: default);chatId|string|Chat "  \
         "id;" GW_CHATS_MESSAGES_Q,                                            \
         false},                                                               \
        GW_CHATS_WAWP("GET", "/v2/chats/overview", gw_chats_overview, 200,     \
                      "wawpChatsOverview",                                     \
                      "Chats with their last message "                         \
                      "(Wawp)",                                                \
                      NULL, "ChatSummaryList", ";" GW_CHATS_OVERVIEW_Q),       \
        GW_CHATS_WAWP("POST", "/v2/chats/overview", gw_chats_overview, 201,    \
                      "wawpChatsPostOverview",                                 \
                      "Chats with their last message, filter in the body "     \
                      "(Wawp)",                                                \
                      "ChatsOverviewRequest", "ChatSummaryList", ""),          \
        GW_CHATS_WAWP("POST", "/v2/chats/{chatId}/archive", gw_chats_archive,  \
                      201, "wawpChatsArchive", "Archive a chat (Wawp)", NULL,  \
                      "Success", ""),                                          \
        GW_CHATS_WAWP("POST", "/v2/chats/{chatId}/unarchive",                  \
                      gw_chats_unarchive, 201, "wawpChatsUnarchive",           \
                      "Unarchive a chat (Wawp)", NULL, "Success", ""),         \
        GW_CHATS_WAWP("POST", "/v2/chats/{chatId}/unread", gw_chats_unread,    \
                      201, "wawpChatsUnread", "Mark a chat unread (Wawp)",     \
                      NULL, "Success", ""),                                    \
        GW_CHATS_WAWP("DELETE", "/v2/chats/{chatId}", gw_chats_delete, 200,    \
                      "wawpChatsDelete", "Delete a chat (Wawp)", NULL,         \
                      "Success", ""),                                          \
        GW_CHATS_WAWP("DELETE", "/v2/chats/{chatId}/messages", gw_chats_clear, \
                      200, "wawpChatsClearMessages",                           \
                      "Clear the messages of a chat (Wawp)", NULL, "Success",  \
                      ""),                                                     \
        GW_CHATS_WAWP("POST", "/v2/chats/{chatId}/messages/read",              \
                      gw_chats_read, 201, "wawpChatsReadMessages",             \
                      "Mark a chat's unread messages read (Wawp)", NULL,       \
                      "ReadChatMessagesResponse",                              \
                      ";messages|integer|Newest unread messages to read, "     \
                      "1..1000 (default 30);days|integer|Only those of the "   \
                      "last days, 1..365 (default 7)"),                        \
        GW_CHATS_WAWP("GET", "/v2/chats/{chatId}/picture", gw_chats_picture,   \
                      200, "wawpChatsGetPicture",                              \
                      "The chat's picture URL (Wawp)", NULL,                   \
                      "ChatPictureResponse",                                   \
                      ";refresh|boolean|Ask WhatsApp again instead of the "    \
                      "copy kept 24 hours"),                                   \
        GW_CHATS_WAWP("PUT", "/v2/contacts/{chatId}", gw_chats_contact_upsert, \
                      200, "wawpContactsUpsert",                               \
                      "Create or update a contact in the address book "        \
                      "(Wawp)",                                                \
                      "ContactUpsertRequest", "Success", ""),                  \
        {"GET",                                                                \
         "/v2/chats",                                                          \
         gw_chats_list,                                                        \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_CHATS_TAG,                                                         \
         "wawpChatsList",                                                      \
         "Chats with a message since linking (Wawp)",                          \
         NULL,                                                                 \
         "ChatList",                                                           \
         GW_CHATS_WAWP_Q ";" GW_CHATS_LIST_Q,                                  \
         false},                                                               \
        {"GET",                                                                \
         "/v2/chats/{chatId}/messages",                                        \
         gw_chats_messages,                                                    \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_CHATS_TAG,                                                         \
         "wawpChatsGetMessages",                                               \
         "Messages in a chat, newest first (Wawp)",                            \
         NULL,                                                                 \
         "WAMessageList",                                                      \
         GW_CHATS_WAWP_Q ";" GW_CHATS_MESSAGES_Q,                              \
         false},

void gw_chats_test(bool verbose);

#endif
