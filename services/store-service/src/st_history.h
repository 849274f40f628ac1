/*  st_history - what history sync brings: chats, messages, contacts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Message family (proto/PROTOCOL.md, family `history`):
      history.put {name, worker, epoch, chats?: [chat], messages?:
          [WAMessage], contacts?: [contact]}  fenced, one transaction:
            chat {id, name?, ts?, archived?, pinned?, mutedUntil? (unix s,
                  -1 forever), unread? (count, -1 marked unread)}: the
                  chat is made if new; a known one takes only a missing
                  name and a later ts; the flags given are set, absent
                  ones kept (a RECENT chunk names its chats without
                  them), and a flag app state ever set is kept too:
                  app state wins over the history's snapshot
                  (chats.appstate_flags, sql/0095)
            WAMessage: a message row as `message.any` writes it, read
                  (never counted unread), kept once per id
            contact {id, pushName?}: the push name of a contact
          -> {chats, messages, contacts} (rows given)
      contact.list {name} -> {contacts: [{id, name, pushName, shortName}]}
          the address book and push names (contacts table), by id
    Chats and contacts are API ids ("…@c.us", "…@g.us").
*/
#ifndef ST_HISTORY_H_INCLUDED
#define ST_HISTORY_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  Most rows of each kind in one history.put.
#define ST_HISTORY_ROWS_MAX 1000
//  Most contacts contact.list returns.
#define ST_HISTORY_CONTACTS_MAX 10000

int st_history_register(st_router_t *r);
void st_history_test(bool verbose);

#endif
