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
*/
#ifndef ST_SIGNAL_H_INCLUDED
#define ST_SIGNAL_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  Most rows in one signal.put.
#define ST_SIGNAL_MAX_ROWS 4096
//  Longest key and base64 data accepted.
#define ST_SIGNAL_MAX_KEY 400
#define ST_SIGNAL_MAX_DATA (96 * 1024)

//  Register the family on `r`. Returns 0.
int st_signal_register(st_router_t *r);

void st_signal_test(bool verbose);

#endif
