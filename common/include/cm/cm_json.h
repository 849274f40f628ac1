/*  cm_json - compact JSON text of a jansson value, fast

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    json_dumps(v, JSON_COMPACT) as the hot paths need it (event envelopes,
    batches of rows for PostgreSQL, API responses), without jansson's
    per-container loop check (a formatted pointer in a hash table for
    every object and array) and with one buffer that doubles as it grows.
    The text is the same as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)
    gives: keys in insertion order, '/' and non-ASCII characters as they
    are, reals as "%.17g" with ".0" added when that reads as an integer.
    Strings must be valid UTF-8, and values must not contain themselves
    (jansson refuses to build such values).
*/
#ifndef CM_JSON_H_INCLUDED
#define CM_JSON_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

//  Compact JSON text of `v` (any value), NUL-terminated, its length in
//  *len_out when not NULL. Returns NULL when `v` is NULL, a string is not
//  valid UTF-8, or a real is not finite. Caller frees.
char *cm_json_dumps(const json_t *v, size_t *len_out);

void cm_json_test(bool verbose);

#endif
