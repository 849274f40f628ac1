/*  sw_engine - the interface between the worker and a WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The worker owns sessions, leases and the bus; an engine owns the
    connection to the WhatsApp server for each session it is given. An
    engine is one object per worker (it may hold shared state, such as a
    libwebsockets context) plus per-session state it hangs on the session
    with sw_session_set_engine_data().

    Threading: everything runs on the worker's one sw_loop. An engine
    registers its descriptors and timers there (sw_session_loop()) and
    never blocks.

    Calls from the worker into the engine (sw_engine_ops_t):
      start    the worker holds a fresh lease; connect and report progress
               with sw_session_set_status() (STARTING, SCAN_QR_CODE,
               WORKING, FAILED). The session is STOPPED on entry.
      stop     tear down synchronously: close descriptors, cancel timers,
               reply to commands held, free per-session state. No upcall
               on this session may follow.
      logout   unlink the device on the server, then call
               sw_session_logout_done() (synchronously or later). The
               worker then clears the stored credentials, sets STOPPED and
               releases the lease.
      command  a gateway request for this session whose type the engine
               listed in `commands`, or said yes to in `handles`
               (session.qr, session.pair_code, message.send_text, ...).
               The engine takes the sw_cmd_t and answers it exactly once
               with sw_cmd_reply().
      destroy  free the engine object after every session is stopped.
      handles  (optional) true for the message types `command` takes,
               for an engine whose types are in a table of its own

    Upcalls from the engine (sw_session.h): sw_session_set_status(),
    sw_session_emit() (an event for the outbox), sw_session_store_send()
    (any store request, answered only while the session lives).

    Status machine (sw_status_can_move):
        STOPPED      -> STARTING
        STARTING     -> SCAN_QR_CODE | WORKING | FAILED | STOPPED
        SCAN_QR_CODE -> SCAN_QR_CODE (new QR) | WORKING | STARTING |
                        FAILED | STOPPED
        WORKING      -> STARTING (reconnect) | FAILED | STOPPED
        FAILED       -> STARTING (retry) | STOPPED
*/
#ifndef SW_ENGINE_H_INCLUDED
#define SW_ENGINE_H_INCLUDED

#include "cm/cm.h"
#include <stdbool.h>

typedef enum {
    SW_STATUS_STOPPED = 0,
    SW_STATUS_STARTING = 1,
    SW_STATUS_SCAN_QR_CODE = 2,
    SW_STATUS_WORKING = 3,
    SW_STATUS_FAILED = 4
} sw_status_t;

//  A session held by the worker (sw_session.h).
typedef struct _sw_session_t sw_session_t;
//  A gateway request waiting for its reply.
typedef struct _sw_cmd_t sw_cmd_t;
//  An engine: operations plus its state.
typedef struct _sw_engine_t sw_engine_t;

//  Results of the command operation.
#define SW_CMD_TAKEN 0    //  the engine took the command
#define SW_CMD_DECLINED 1 //  not taken: the worker answers 400

typedef struct {
    //  Engine name for logs and environment.engine.
    const char *name;
    //  NULL-terminated list of gateway message types sent to `command`.
    const char *const *commands;
    int (*start)(void *state, sw_session_t *session);
    void (*stop)(void *state, sw_session_t *session);
    void (*logout)(void *state, sw_session_t *session);
    int (*command)(void *state, sw_session_t *session, sw_cmd_t **cmd_p);
    void (*destroy)(void **state_p);
    //  May be NULL: `commands` says which types go to `command`.
    bool (*handles)(const char *type);
} sw_engine_ops_t;

//  Canonical name ("STARTING", ...) of a status.
const char *sw_status_name(sw_status_t status);

//  Parse a status name. Returns 0 and sets *status, or -1.
int sw_status_parse(const char *name, sw_status_t *status);

//  True if the state machine allows from -> to. Moving to the same status
//  is allowed only for SCAN_QR_CODE (QR rotation).
bool sw_status_can_move(sw_status_t from, sw_status_t to);

//  Wrap engine operations and state (taken; freed by ops->destroy).
//  Caller owns return value.
sw_engine_t *sw_engine_new(const sw_engine_ops_t *ops, void **state_p);

//  Destroy the engine (calls ops->destroy on the state).
void sw_engine_destroy(sw_engine_t **self_p);

//  The engine's name.
const char *sw_engine_name(sw_engine_t *self);

//  True if `type` is in the engine's command list (or its handles says
//  so).
bool sw_engine_handles(sw_engine_t *self, const char *type);

//  Dispatch to the operations (see the file comment).
int sw_engine_start(sw_engine_t *self, sw_session_t *session);
void sw_engine_stop(sw_engine_t *self, sw_session_t *session);
void sw_engine_logout(sw_engine_t *self, sw_session_t *session);
int sw_engine_command(sw_engine_t *self, sw_session_t *session,
                      sw_cmd_t **cmd_p);

//  A command from gateway socket `reply_to` (borrowed; must outlive the
//  command). Takes the request. Caller owns return value.
sw_cmd_t *sw_cmd_new(cm_msg_t **request_p, zsock_t *reply_to);

//  Destroy; a command not answered yet gets a 500 reply first, so the
//  gateway never waits for a dropped command.
void sw_cmd_destroy(sw_cmd_t **self_p);

//  The request (borrowed).
cm_msg_t *sw_cmd_request(sw_cmd_t *self);

//  The request type (borrowed).
const char *sw_cmd_type(sw_cmd_t *self);

//  Answer with status st (2xx ok), optional reason and optional body
//  (taken; an object), then destroy the command. Returns 0, or -1 if the
//  reply could not be sent (the gateway then times out).
int sw_cmd_reply(sw_cmd_t **self_p, int st, const char *reason,
                 json_t **body_p);

void sw_engine_test(bool verbose);

#endif
