/*  sw_wamsg - WAHA shapes of messages, acks and ids for the WhatsApp
    engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Pure functions, no state:
    - WAHA message ids "{fromMe}_{chatId}_{id}[_{participant}]" (chat and
      participant in API form, "@c.us"), built and parsed;
    - ack names (-1 ERROR .. 4 PLAYED);
    - the WAMessage payload of `message` / `message.any` events and send
      replies, and the `message.ack` payload;
    - event ids derived from what an event is about: the same message
      always maps to the same "evt_<ulid>", so event.append (idempotent
      on the id) stores a message delivered twice only once.
*/
#ifndef SW_WAMSG_H_INCLUDED
#define SW_WAMSG_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

//  Room for an event id ("evt_" + ULID + NUL).
#define SW_WAMSG_EVENT_ID_MAX 32
//  Longest part of a parsed message id.
#define SW_WAMSG_PART_MAX 128

//  WAHA ack levels.
#define SW_WAMSG_ACK_ERROR (-1)
#define SW_WAMSG_ACK_PENDING 0
#define SW_WAMSG_ACK_SERVER 1
#define SW_WAMSG_ACK_DEVICE 2
#define SW_WAMSG_ACK_READ 3
#define SW_WAMSG_ACK_PLAYED 4

//  A message as the engine reports it. JIDs may be wire
//  ("…@s.whatsapp.net", device JIDs) or API forms; they are written in
//  API form. NULL strings are absent.
typedef struct {
    const char *id;          //  message id (stanza id)
    const char *chat;        //  chat: the other user, or the group
    const char *participant; //  groups: the sender; else NULL
    const char *me;          //  our own user JID
    bool from_me;            //  sent by our account
    int64_t timestamp;       //  seconds
    const char *body;        //  text or caption
    bool has_media;          //  media kinds
    const char *mimetype;    //  media mimetype when known, or NULL
    const char *filename;    //  document file name when known, or NULL
    const char *type;        //  "chat", "image", ...
    const char *reply_to;    //  quoted message id
    const char *push_name;   //  sender's push name
    const char *source;      //  fromMe only: "api" or "app"
    int ack;                 //  SW_WAMSG_ACK_*
    json_t *extra;           //  fields of the message's kind merged in
                             //  last (sw_wakinds), or NULL; borrowed
} sw_wamsg_t;

//  Parsed WAHA message id. A bare id sets only `id` (has_chat false).
typedef struct {
    bool has_chat;                       //  the long form was given
    bool from_me;                        //  its fromMe part
    char chat[SW_WAMSG_PART_MAX];        //  chat (API form)
    char id[SW_WAMSG_PART_MAX];          //  stanza id
    char participant[SW_WAMSG_PART_MAX]; //  participant, or ""
} sw_wamsg_ref_t;

//  Name of an ack level ("SERVER", ...); "UNKNOWN" outside -1..4.
const char *sw_wamsg_ack_name(int ack);

//  API form of a JID ("1555@c.us" for "1555:3@s.whatsapp.net"); other
//  text is copied as it is. NULL gives NULL. Caller owns return value.
char *sw_wamsg_api_jid(const char *jid);

//  The WAHA message id. Caller owns return value.
char *sw_wamsg_id(bool from_me, const char *chat, const char *id,
                  const char *participant);

//  Parse a WAHA message id or a bare one. Returns 0, or -1 when empty,
//  too long or malformed.
int sw_wamsg_parse_id(const char *text, sw_wamsg_ref_t *ref);

//  The WAMessage object. Caller owns return value.
json_t *sw_wamsg_message(const sw_wamsg_t *msg);

//  The message.ack payload for message `id` in `chat` (from_me: one of
//  ours), acked by `participant` in groups (NULL otherwise). Caller owns
//  return value.
json_t *sw_wamsg_ack(const char *chat, const char *id, const char *participant,
                     const char *me, bool from_me, int ack);

//  Event id for (session, event, key) at time ts_ms (the ULID time part,
//  so ids still sort roughly by time); the random part is a hash of the
//  three strings. Writes "evt_<ulid>" into out.
void sw_wamsg_event_id(const char *session, const char *event, const char *key,
                       int64_t ts_ms, char out[SW_WAMSG_EVENT_ID_MAX]);

void sw_wamsg_test(bool verbose);

#endif
