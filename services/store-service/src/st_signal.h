/*  st_signal - the `signal` message family: a session's Signal state

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Rows of (kind, key, data) as kept by the engine's wa_sigstore
    (session, identity, prekey, signed_prekey, sender_key). Data travels
    as base64 text inside the body.

      signal.load  {name}                       -> {rows:[{kind,key,data}]}
      signal.put   {name, worker, epoch,
                    rows:[{kind,key,data|null}]} -> {written, deleted}

    put is fenced by the caller's lease and applies a batch in one
    transaction; within a batch the last entry for a (kind, key) wins and
    a null data deletes the row. device.clear removes these rows too.
    event.append_batch may carry the same rows as `signal`, stored in
    the events' transaction (st_signal_check, _text, _write).
*/
#ifndef ST_SIGNAL_H_INCLUDED
#define ST_SIGNAL_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cm/cm.h"

typedef struct _st_router_t st_router_t;

//  Most rows in one signal.put.
#define ST_SIGNAL_MAX_ROWS 4096
//  Longest key and base64 data accepted.
#define ST_SIGNAL_MAX_KEY 400
#define ST_SIGNAL_MAX_DATA (96 * 1024)

//  Register the family on `r`. Returns 0.
int st_signal_register(st_router_t *r);

//  Check the rows of a put (`field` names them in the reply). Returns
//  NULL when fine, else the 400 reply.
cm_msg_t *st_signal_check(cm_msg_t *request, const char *field, json_t *rows);

//  The checked rows of session `name` as the text st_signal_write takes,
//  each record sealed under the current key (outside any transaction: it
//  is only CPU). Caller frees.
char *st_signal_text(st_router_t *r, const char *name, json_t *rows);

//  Inside the caller's transaction (the session locked and the lease
//  checked): store the rows `text` from st_signal_text; `deletes` when a
//  row has null data. Returns 0, or -1 on a database error.
int st_signal_write(st_router_t *r, const char *name, const char *text,
                    bool deletes, int64_t *written, int64_t *deleted);

//  Append the checked rows of session `name` to `out`, each record sealed
//  as st_signal_text does and with "session": name.
void st_signal_add_rows(st_router_t *r, const char *name, json_t *rows,
                        json_t *out);

//  Inside the caller's transaction (each session locked and its lease
//  checked): store `rows` of several sessions (st_signal_add_rows) in one
//  statement, and delete those with null data in one more when
//  `deletes`. Counts the rows written and deleted per session into
//  `written` and `deleted` ({session: n}). Returns 0, or -1 on a
//  database error.
int st_signal_write_group(st_router_t *r, json_t *rows, bool deletes,
                          json_t *written, json_t *deleted);

//  True when a row of the (checked) rows has null data.
bool st_signal_deletes(json_t *rows);

void st_signal_test(bool verbose);

#endif
