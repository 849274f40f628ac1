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
    Every message and chat a session sent or received since Wharf linked
    it is kept (store-service writes them with their events); history
    from before linking is not synced.
*/
#ifndef GW_CHATS_H_INCLUDED
#define GW_CHATS_H_INCLUDED

#include <jansson.h>

#include "gw_req.h"

//  Page sizes.
#define GW_CHATS_LIST_MAX 1000
#define GW_CHATS_LIST_DEFAULT 100

void gw_chats_list(gw_req_t *req);
void gw_chats_messages(gw_req_t *req);
void gw_chats_wawp_list(gw_req_t *req);
void gw_chats_wawp_messages(gw_req_t *req);
void gw_chats_read(gw_req_t *req);

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
    "downloadMedia|boolean|Accepted for WAHA clients (media is not inlined)"
#define GW_CHATS_WAWP_Q                                                        \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

#define GW_CHATS_ROUTES                                                        \
    {"GET",                                                                    \
     "/api/{session}/chats",                                                   \
     gw_chats_list,                                                            \
     GW_AUTH_ADMIN,                                                            \
     200,                                                                      \
     GW_CHATS_TAG,                                                             \
     "chatsList",                                                              \
     "Chats with a message since linking, most recent first",                  \
     NULL,                                                                     \
     "ChatList",                                                               \
     GW_CHATS_LIST_Q,                                                          \
     false},                                                                   \
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
        {"GET",                                                                \
         "/v2/chats",                                                          \
         gw_chats_wawp_list,                                                   \
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
         gw_chats_wawp_messages,                                               \
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
