/*  wa_vectors - test vectors and hex fields for the self tests

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Self-test support only: loads the committed vector files under
    $WHARF_SOURCE_DIR/tests/vectors/wa/ and turns their hex fields into
    bytes. Every function asserts on missing or malformed data, since a
    broken vector is a broken test, never outside input: do not call
    these from library or service code.
*/
#ifndef WA_VECTORS_H_INCLUDED
#define WA_VECTORS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Load tests/vectors/wa/<name> below $WHARF_SOURCE_DIR (or "."), or
//  assert after printing why not. Caller owns return value (json_decref).
json_t *wa_vectors_load(const char *name);

//  Decode the hex text into a new buffer (one spare byte, so an empty
//  string gives a valid pointer); *len_p (may be NULL) gets its length.
//  Caller owns return value.
uint8_t *wa_vectors_unhex(const char *hex, size_t *len_p);

//  Decode the hex text into out (at most max bytes). Returns its length.
size_t wa_vectors_unhex_into(const char *hex, uint8_t *out, size_t max);

//  True if data[0..len) is the hex text (either case); prints both to
//  stderr when not.
bool wa_vectors_hex_eq(const uint8_t *data, size_t len, const char *hex);

//  The hex string field `key` of obj decoded into a new buffer, as
//  wa_vectors_unhex. Caller owns return value.
uint8_t *wa_vectors_field(json_t *obj, const char *key, size_t *len_p);

//  The hex string field `key` of obj decoded into out, which it must
//  fill exactly (len bytes).
void wa_vectors_field_into(json_t *obj, const char *key, uint8_t *out,
                           size_t len);

//  True if data[0..len) is the hex string field `key` of obj; names the
//  field and prints both on stderr when not.
bool wa_vectors_field_eq(json_t *obj, const char *key, const uint8_t *data,
                         size_t len);

//  A deterministic random source (a wa_random_fn) for tests: the bytes
//  count up from the uint8_t that arg points to, which it advances.
//  Returns 0.
int wa_vectors_counter_random(void *arg, uint8_t *buf, size_t len);

void wa_vectors_test(bool verbose);

#endif
