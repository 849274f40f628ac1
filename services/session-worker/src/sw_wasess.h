/*  sw_wasess - one session of the WhatsApp engine as its capability
    modules see it: the command table and its dispatcher, commands held
    until WhatsApp answers, and per-capability state

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The engine (sw_wa) owns the connection and the wa_client of each
    session; everything a gateway command does lives in a capability
    module, sw_wa<capability>.c (sw_wasession: QR, pairing code, me;
    sw_wamessage: texts and read receipts; sw_wagroup: groups). Each
    capability lists its commands in its header as a macro of table rows
    (SW_WASESSION_COMMANDS, ...), and sw_wa's table is those macros. A
    row says:

      type       the bus message type ("message.send_text")
      working    true: the dispatcher answers 409 unless the session is
                 WORKING on a live connection, before the handler runs
      timeout_ms how long the command may wait for WhatsApp once the
                 handler holds it (sw_wasess_hold); the dispatcher then
                 answers 504. SW_WACMD_NOW (0): the handler answers
                 before it returns. SW_WACMD_SEND: the session's send
                 timeout (WA_SEND_TIMEOUT_MS) plus SW_WACMD_GRACE_MS
      handler    takes the command: answers it (sw_cmd_reply) or holds
                 it; it never keeps the sw_cmd_t itself

    Adding a command is one row in its capability's macro plus its
    handler (docs/adding-a-feature.md).

    Held commands are kept by key (a message id, "session.pair_code", or
    a fresh key): whatever answers later (a server ack, an IQ reply, a
    status change) takes the command back with sw_wasess_release and
    answers it; one that was already answered at its deadline or at a
    stop is gone, so each command is answered exactly once. Stopping the
    session answers those still held 503 "session stopped".

    Threading: the worker's one loop, as the rest of the engine.
*/
#ifndef SW_WASESS_H_INCLUDED
#define SW_WASESS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sw_engine.h"
#include "sw_loop.h"
#include "wa/wa_client.h"

//  The engine's state of one session (capability view).
typedef struct _sw_wasess_t sw_wasess_t;

//  A command handler (see the file comment).
typedef void(sw_wacmd_fn)(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  A row of the command table.
typedef struct {
    const char *type;     //  bus message type; NULL ends the table
    bool working;         //  409 unless WORKING, checked before the handler
    int timeout_ms;       //  longest hold, or SW_WACMD_NOW / SW_WACMD_SEND
    sw_wacmd_fn *handler; //  takes the command
} sw_wacmd_t;

//  One row of a capability's macro.
#define SW_WACMD(type, working, timeout_ms, handler)                           \
    {                                                                          \
        (type), (working), (timeout_ms), (handler)                             \
    }
//  working: 409 unless WORKING; or any status (the handler checks).
#define SW_WACMD_WORKING true
#define SW_WACMD_ANY false
//  timeout_ms: the handler answers before it returns.
#define SW_WACMD_NOW 0
//  timeout_ms: the session's send timeout plus SW_WACMD_GRACE_MS.
#define SW_WACMD_SEND (-1)
//  Margin over a deadline the engine enforces itself (a send, an IQ), so
//  its own answer comes first; the dispatcher's only makes sure every
//  command is answered, ms.
#define SW_WACMD_GRACE_MS 1000
//  IQ reply deadline of the engine's clients (wa_client iq_timeout_ms).
#define SW_WA_IQ_TIMEOUT_MS 60000
//  Longest key of a held command (with NUL).
#define SW_WASESS_KEY_MAX 80

//  Destructor of a capability's per-session state.
typedef void(sw_wasess_free_fn)(void **state_p);

//  New state of `session` (borrowed) dispatching through `table`
//  (borrowed, static); send_timeout_ms resolves SW_WACMD_SEND. Caller
//  owns return value.
sw_wasess_t *sw_wasess_new(sw_session_t *session, const sw_wacmd_t *table,
                           int send_timeout_ms);

//  Destroy: commands still held are answered 503 "session stopped",
//  capability states are freed. NULL-safe; sets *self_p to NULL.
void sw_wasess_destroy(sw_wasess_t **self_p);

//  Dispatch a command: the row for its type checks WORKING and calls the
//  handler. Returns SW_CMD_TAKEN, or SW_CMD_DECLINED (command untouched)
//  when the table has no row for the type.
int sw_wasess_command(sw_wasess_t *self, sw_cmd_t **cmd_p);

//  The table row for `type`, or NULL.
const sw_wacmd_t *sw_wacmd_find(const sw_wacmd_t *table, const char *type);

//  The session (borrowed), its name and the worker's loop.
sw_session_t *sw_wasess_session(sw_wasess_t *self);
const char *sw_wasess_name(sw_wasess_t *self);
sw_loop_t *sw_wasess_loop(sw_wasess_t *self);

//  The session's client (borrowed), NULL until its state is loaded.
wa_client_t *sw_wasess_client(sw_wasess_t *self);
//  For the engine: set (or with NULL clear) the client (borrowed).
void sw_wasess_set_client(sw_wasess_t *self, wa_client_t *client);

//  True once the engine stopped the session for good (QR expired,
//  logged out, replaced) until it is restarted.
bool sw_wasess_idle(sw_wasess_t *self);
void sw_wasess_set_idle(sw_wasess_t *self, bool idle);

//  True when the session is WORKING on a live connection (sends work).
bool sw_wasess_working(sw_wasess_t *self);

//  Our account: "<phone>@c.us", "<lid>@lid", push name; each NULL when
//  unknown (borrowed).
const char *sw_wasess_me_id(sw_wasess_t *self);
const char *sw_wasess_me_lid(sw_wasess_t *self);
const char *sw_wasess_push_name(sw_wasess_t *self);
//  Set them (copied; NULL: unknown).
void sw_wasess_set_me(sw_wasess_t *self, const char *id, const char *lid,
                      const char *push_name);
void sw_wasess_set_push_name(sw_wasess_t *self, const char *push_name);
//  The `me` object {id, lid?, pushName?}, or NULL when id is unknown.
//  Caller owns return value.
json_t *sw_wasess_me(sw_wasess_t *self);

//  Hold the command (taken) under `key` (copied; NULL: a fresh key)
//  with `data` (taken; may be NULL or *data_p NULL) until
//  sw_wasess_release, its row's deadline (504 `late`, or "WhatsApp did
//  not answer in time" when NULL), or the stop. A command already held
//  under key is answered 409 "superseded by a newer request". Returns
//  the key (borrowed, valid while held).
const char *sw_wasess_hold(sw_wasess_t *self, sw_cmd_t **cmd_p, const char *key,
                           const char *late, json_t **data_p);

//  The data of the command held under key (borrowed), or NULL.
json_t *sw_wasess_held(sw_wasess_t *self, const char *key);

//  True if a command is held under key.
bool sw_wasess_holds(sw_wasess_t *self, const char *key);

//  Take back the command held under key to answer it; its data goes to
//  *data_p (caller owns; data_p may be NULL). Returns NULL (and *data_p
//  NULL) when none is held. Caller owns return value.
sw_cmd_t *sw_wasess_release(sw_wasess_t *self, const char *key,
                            json_t **data_p);

//  A capability's per-session state by name (borrowed), or NULL.
void *sw_wasess_state(sw_wasess_t *self, const char *capability);
//  Set it (taken; freed with fn at destroy or when replaced).
void sw_wasess_set_state(sw_wasess_t *self, const char *capability, void *state,
                         sw_wasess_free_fn *fn);

//  --------------------------------------------------------------------
//  A rig for the capability self-tests: session "t" of a host whose
//  store never answers, a sw_wasess over `table` and a gateway socket.

typedef struct _sw_wasess_rig_t sw_wasess_rig_t;

//  New rig; the session is STARTING, with no client, and SW_WACMD_SEND
//  means send_timeout_ms. Caller owns return value.
sw_wasess_rig_t *sw_wasess_rig_new(const sw_wacmd_t *table,
                                   int send_timeout_ms);

//  Destroy (the sw_wasess first). NULL-safe; sets *self_p to NULL.
void sw_wasess_rig_destroy(sw_wasess_rig_t **self_p);

//  The rig's sw_wasess.
sw_wasess_t *sw_wasess_rig_sess(sw_wasess_rig_t *self);

//  Destroy the rig's sw_wasess, as the engine does at a stop.
void sw_wasess_rig_stop(sw_wasess_rig_t *self);

//  A `type` command with body (taken; may be NULL) whose reply goes to
//  the rig's gateway socket. Caller owns return value.
sw_cmd_t *sw_wasess_rig_cmd(sw_wasess_rig_t *self, const char *type,
                            json_t *body);

//  Dispatch a `type` command with body (taken; may be NULL) and run the
//  loop until its reply or `ms`. Returns the reply, or NULL. Caller owns
//  return value.
cm_msg_t *sw_wasess_rig_call(sw_wasess_rig_t *self, const char *type,
                             json_t *body, int ms);

//  Run the loop until the next reply (to a command held earlier) or
//  `ms`. Returns the reply, or NULL. Caller owns return value.
cm_msg_t *sw_wasess_rig_recv(sw_wasess_rig_t *self, int ms);

void sw_wasess_test(bool verbose);

#endif
