/*  st_kinds - what the message kinds need kept beyond their events: one
    stored message by id, edits of stored messages, and the secrets of
    polls and events

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Family `kinds` (proto/PROTOCOL.md):
    - `message.get` {session, id} -> {message: WAMessage}; id is a WAHA
      id, or a bare stanza id (the newest message with it); 404
      {missing:"message"} when there is none.
    - `message.edit` {name, worker, epoch, id, body} (fenced) -> {edited}:
      the stored message `id` gets the new body (column and payload).
    - `message.secret_put` {name, worker, epoch, id, secret (base64 of
      32 bytes), info (object)} (fenced) -> {}: sealed at rest with
      STORE_SECRET_KEY as signal_keys are (table message_secrets).
    - `message.secret_get` {session, id} -> {secret, info}; 404
      {missing:"secret"}.
*/
#ifndef ST_KINDS_H_INCLUDED
#define ST_KINDS_H_INCLUDED

//  Longest info object accepted, bytes of JSON text.
#define ST_KINDS_INFO_MAX 16384
//  Longest edited body, bytes.
#define ST_KINDS_BODY_MAX 65536

//  Register family kinds and its statements.
int st_kinds_register(st_router_t *r);

void st_kinds_test(bool verbose);

#endif
