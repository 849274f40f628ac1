/*  st_appstate - app state: chat flags, labels, contact names

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Message family (proto/PROTOCOL.md, family `appstate`):
      appstate.apply {name, worker, epoch, changes: [change]}  fenced;
          each change is one app-state mutation the engine applied:
            {kind:"chat", chat, archived?, pinned?, mutedUntil? (unix s,
             -1 forever, 0 unmuted), unread? (0 read, -1 marked unread)}
            {kind:"chat_clear", chat}     the chat's messages go
            {kind:"chat_delete", chat}    the chat, its messages, labels
            {kind:"message_delete", chat, id, fromMe?}
            {kind:"star", chat, id, fromMe?, starred}  messages.starred
            {kind:"contact", jid, name?, shortName?}
            {kind:"label", id, name, color, deleted}
            {kind:"label_chat", labelId, chat, labeled}
          -> {applied}
      label.list {name} -> {labels: [{id, name, color, colorHex}]}
      label.chats {name, labelId} -> {chats: [chatId]}
      label.get {name, labelId} -> {label: {id, name, color, colorHex}}
          or 404 (unknown, or only seen in an association so far)
      chat.labels {name, chat} -> {labels: [...]}
      chat.get {name, chat} -> {chat} or 404
    Chats are API ids ("…@c.us", "…@g.us").
*/
#ifndef ST_APPSTATE_H_INCLUDED
#define ST_APPSTATE_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  Most changes in one appstate.apply.
#define ST_APPSTATE_CHANGES_MAX 256

int st_appstate_register(st_router_t *r);
void st_appstate_test(bool verbose);

#endif
