/*  cm_ulid - lexicographically sortable ids (ULID), lower-case

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A ULID is a 48-bit millisecond timestamp followed by 80 random bits,
    written as 26 Crockford base32 characters. Wharf writes them in lower
    case (WAHA event ids look like "evt_01h..."). A generator is monotonic:
    ids made within the same millisecond (or while the clock steps back)
    increment the random part, so they sort in creation order.

    A generator belongs to one thread; create one per actor.
*/
#ifndef CM_ULID_H_INCLUDED
#define CM_ULID_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Characters in a ULID, without terminator.
#define CM_ULID_LEN 26

typedef struct _cm_ulid_t cm_ulid_t;

//  New generator. Caller owns return value.
cm_ulid_t *cm_ulid_new(void);

void cm_ulid_destroy(cm_ulid_t **self_p);

//  Write `prefix` (may be NULL) and the next ULID, NUL-terminated, into
//  out (size bytes). Returns 0, or -1 when out is too small.
int cm_ulid_next(cm_ulid_t *self, const char *prefix, char *out, size_t size);

//  Write a ULID for the given time and 10 random bytes into out (at least
//  CM_ULID_LEN + 1 bytes). Pure function, for tests and parsers.
void cm_ulid_encode(uint64_t ms, const uint8_t random[10], char *out);

//  True if s is exactly CM_ULID_LEN Crockford base32 characters (either
//  case) whose value fits 128 bits.
bool cm_ulid_valid(const char *s);

void cm_ulid_test(bool verbose);

#endif
