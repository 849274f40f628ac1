/*  st_unread - the received messages we have not read yet

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A row of `messages` from someone else is written unread
    (st_messages, sql/0020_unread.sql); it is read once we send its read
    receipt or one of our devices reads it (a READ message.ack). Family
    `message` (for the gateway's sendSeen without ids and POST
    /chats/{chatId}/messages/read):
    - `message.unread` {session, chat, limit?, since?} -> {ids:[WAHA
      message id...]}: the chat's unread messages, newest first, at most
      `limit` (1..ST_UNREAD_MAX, default ST_UNREAD_MAX), not older than
      `since` (unix seconds, default 0);
    - `message.mark_read` {session, chat, ids:[...]} (at most
      ST_UNREAD_MAX ids) -> {ids:[...]}: marks them read; answers the ids
      that were unread.
*/
#ifndef ST_UNREAD_H_INCLUDED
#define ST_UNREAD_H_INCLUDED

#include <stdbool.h>

//  Most ids read or marked at once.
#define ST_UNREAD_MAX 1000

void st_unread_test(bool verbose);

#endif
