/*  sw_wajournal - Signal record changes waiting to be written to the
    store

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The WhatsApp engine reports every change of a session's Signal state
    (wa_sigstore: kind, key, record bytes or a deletion). The journal
    keeps the latest change per (kind, key) until the engine takes a
    batch of them as the rows of one `signal.put`; a record changed again
    before it was taken is written once, with its last value. A batch
    that could not be written is put back with sw_wajournal_restore
    without overwriting newer changes.
*/
#ifndef SW_WAJOURNAL_H_INCLUDED
#define SW_WAJOURNAL_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Most rows in one signal.put (store limit).
#define SW_WAJOURNAL_BATCH_MAX 4096

typedef struct _sw_wajournal_t sw_wajournal_t;

//  New empty journal. Caller owns return value.
sw_wajournal_t *sw_wajournal_new(void);

//  Destroy. NULL-safe; sets *self_p to NULL.
void sw_wajournal_destroy(sw_wajournal_t **self_p);

//  Record a change: data/len the new record (copied), or data NULL for a
//  deletion. Replaces a pending change of the same (kind, key).
void sw_wajournal_put(sw_wajournal_t *self, const char *kind, const char *key,
                      const uint8_t *data, size_t len);

//  Changes pending.
size_t sw_wajournal_size(sw_wajournal_t *self);

//  Bytes of record data pending (for flushing early).
size_t sw_wajournal_bytes(sw_wajournal_t *self);

//  Take up to max pending changes (max 0: SW_WAJOURNAL_BATCH_MAX) as
//  signal.put rows [{kind, key, data: base64 | null}]; they leave the
//  journal. NULL when nothing is pending. Caller owns return value.
json_t *sw_wajournal_take(sw_wajournal_t *self, size_t max);

//  Put rows taken earlier back (a failed write), except those changed
//  again since. Borrows rows.
void sw_wajournal_restore(sw_wajournal_t *self, json_t *rows);

//  Clear everything pending.
void sw_wajournal_clear(sw_wajournal_t *self);

void sw_wajournal_test(bool verbose);

#endif
