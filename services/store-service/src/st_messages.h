/*  st_messages - messages and chats kept from the events that carry them

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The engine reports messages only as events (`message`, `message.any`,
    `message.ack`). event.append hands each one to st_messages_record in
    its own transaction, so a message row and its chat are written exactly
    when its event is: nothing to reconcile after a crash, and a
    redelivered event (same id, answered as a duplicate before this runs)
    writes nothing twice.
    Family `chat`/`message` (read side, for the API):
    - `chat.list` {session, limit?, offset?} -> {chats:[{id, name,
      conversationTimestamp}]}, by sortBy (conversationTimestamp, id,
      name) and sortOrder (desc, asc), most recent first by default;
    - `message.list` {session, chat, limit?, offset?, fromMe?} ->
      {messages:[WAMessage...]}, newest first; the recorded ack and, for
      a starred message (messages.starred), _data.starred are merged in.
*/
#ifndef ST_MESSAGES_H_INCLUDED
#define ST_MESSAGES_H_INCLUDED

//  Longest page of chat.list / message.list, and the default.
#define ST_MESSAGES_LIST_MAX 1000
#define ST_MESSAGES_LIST_DEFAULT 100

//  Pseudo event name of a message from history sync (st_history): a row
//  like `message.any`'s, never unread.
#define ST_MESSAGES_HISTORY "history"

//  The row an event payload gives, borrowed from the payload.
typedef struct {
    const char *id;     //  WAHA message id
    const char *chat;   //  chat JID (API form)
    const char *sender; //  who wrote it; NULL when unknown
    bool from_me;       //  sent by the session's account
    int64_t ts;         //  seconds
    const char *type;   //  "chat", "image", ...
    const char *body;   //  text or caption; NULL when none
    int ack;            //  WAHA ack level
} st_messages_row_t;

//  Fill `row` from a `message`/`message.any` payload. Returns 0, or -1
//  when the payload lacks what a row needs (id, chat, timestamp).
int st_messages_row(json_t *payload, st_messages_row_t *row);

//  Keep what event `event` with `payload` says about messages and chats
//  of `session`, inside the caller's transaction: a new message and its
//  chat, or a higher ack. Other events are ignored. Returns 0, or -1 on a
//  database error.
int st_messages_record(st_router_t *r, const char *session, const char *event,
                       json_t *payload);

//  As st_messages_record for every {event, payload} of `events`, in as
//  few statements as the kinds of rows written (new messages and their
//  chats, then acks). Returns 0, or -1 on a database error.
int st_messages_record_batch(st_router_t *r, const char *session,
                             json_t *events);

//  The JSON texts of the rows a batch of events writes, for one
//  statement (st_events' one-statement batch): new messages (with the
//  acks of the batch that name them folded in, since a statement does not
//  see the rows it inserts), their chats, and every ack.
typedef struct {
    char *rows;  //  [{id, chat, from_me, sender, ts, type, body, payload,
                 //  ack, ack_name, unread, starred}...]
    char *chats; //  [{jid, ts}...]
    char *acks;  //  [{id, ack, name}...]
} st_messages_texts_t;

//  Fill `texts` (never NULL members; "[]" when none, or when the rows are
//  not valid UTF-8: then they are skipped with a warning, as
//  st_messages_record_batch does).
void st_messages_batch_texts(const char *session, json_t *events,
                             st_messages_texts_t *texts);

//  As st_messages_batch_texts, with "k": k in every row, chat and ack
//  (which request of a group they belong to; k < 0: none).
void st_messages_batch_texts_k(const char *session, json_t *events,
                               json_int_t k, st_messages_texts_t *texts);

//  Free the members of `texts`.
void st_messages_texts_free(st_messages_texts_t *texts);

//  Register family chat/message and its statements.
int st_messages_register(st_router_t *r);

void st_messages_test(bool verbose);

#endif
