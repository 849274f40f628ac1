/*  wa_iq - IQ request ids and the table of requests waiting for a reply

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every <iq type="get"|"set"> a client sends carries a unique id; the
    server answers with <iq type="result"|"error"> carrying the same id
    (wa-protocol.md §6.1). A wa_iq_t hands out ids ("<r1>.<r2>-<n>", r1
    and r2 random 0..65535 fixed per table, n a counter) and keeps one
    waiter per request: a callback, its argument and a deadline. Each
    waiter is called exactly once: with the reply, on timeout, or when
    the table is cancelled (connection lost, owner destroyed).

    Time is whatever clock the owner passes in (milliseconds); the table
    never reads a clock itself, so tests can drive it.

    Callbacks may add new requests and dispatch/expire/cancel again: a
    waiter is removed from the table before it is called.
*/
#ifndef WA_IQ_H_INCLUDED
#define WA_IQ_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_node.h"

typedef struct _wa_iq_t wa_iq_t;

//  Why a waiter is called.
typedef enum {
    WA_IQ_RESULT = 0,   //  <iq type="result">
    WA_IQ_ERROR = 1,    //  <iq type="error"> (see wa_iq_error_code)
    WA_IQ_TIMEOUT = 2,  //  no reply before the deadline (reply NULL)
    WA_IQ_CANCELLED = 3 //  wa_iq_cancel_all / destroy (reply NULL)
} wa_iq_outcome_t;

//  Longest id wa_iq_next_id produces, with the NUL.
#define WA_IQ_ID_MAX 32

//  A waiter. `reply` is borrowed for the duration of the call.
typedef void(wa_iq_fn)(void *arg, const wa_node_t *reply,
                       wa_iq_outcome_t outcome);

//  New empty table. Caller owns return value.
wa_iq_t *wa_iq_new(void);

//  Destroy; every pending waiter is called with WA_IQ_CANCELLED first.
//  NULL-safe; sets *self_p to NULL.
void wa_iq_destroy(wa_iq_t **self_p);

//  Write a fresh request id into id (WA_IQ_ID_MAX bytes).
void wa_iq_next_id(wa_iq_t *self, char id[WA_IQ_ID_MAX]);

//  Register a waiter for request `id` (copied) until `deadline` (ms on
//  the owner's clock). Returns 0, or -1 if the id is already waited for.
int wa_iq_add(wa_iq_t *self, const char *id, int64_t deadline, wa_iq_fn *fn,
              void *arg);

//  Give the table a received stanza. If it is an <iq type="result"|
//  "error"> whose id has a waiter, remove the waiter, call it and return
//  true; otherwise return false (the stanza is someone else's).
bool wa_iq_dispatch(wa_iq_t *self, const wa_node_t *node);

//  Call every waiter whose deadline is <= now with WA_IQ_TIMEOUT.
//  Returns the number of waiters expired.
size_t wa_iq_expire(wa_iq_t *self, int64_t now);

//  Earliest deadline among the waiters, or -1 when none is pending.
int64_t wa_iq_next_deadline(wa_iq_t *self);

//  Call every waiter with WA_IQ_CANCELLED.
void wa_iq_cancel_all(wa_iq_t *self);

//  Number of pending waiters.
size_t wa_iq_pending(wa_iq_t *self);

//  The code of an error reply's <error code="N"/>, or -1 when absent.
int wa_iq_error_code(const wa_node_t *reply);

//  The text of an error reply's <error text="..."/> (borrowed), or "".
const char *wa_iq_error_text(const wa_node_t *reply);

//  Self test
void wa_iq_test(bool verbose);

#endif
