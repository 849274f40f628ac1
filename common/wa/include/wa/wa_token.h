/*  wa_token - WhatsApp binary-XML token dictionaries (DictVersion 3)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The tables come from the files in common/wa/data/ via gen_tokens.py
    (committed output: src/wa_token_table.inc). A single-byte token is the
    wire byte 1..235; a double-byte token is the byte 236 + dict followed
    by the index byte. Lookups in both directions are allocation-free.
*/
#ifndef WA_TOKEN_H_INCLUDED
#define WA_TOKEN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WA_TOKEN_DICT_VERSION 3
#define WA_TOKEN_SINGLE_COUNT 236
#define WA_TOKEN_DICTS 4
#define WA_TOKEN_DOUBLE_COUNT 256
//  wa_token_find sets *dict_p to this for a single-byte token
#define WA_TOKEN_SINGLE (-1)

//  Token of single byte `index` (1..235). Returns a static string, or NULL
//  for 0 and values past the table.
const char *wa_token_single(unsigned index);

//  Token `index` (0..255) of double-byte dictionary `dict` (0..3). Returns
//  a static string, or NULL when out of range.
const char *wa_token_double(unsigned dict, unsigned index);

//  Reverse lookup of the `len` bytes at `str`. Returns true when they are a
//  token, and sets *dict_p (WA_TOKEN_SINGLE or 0..3) and *index_p. The
//  empty string is never a token.
bool wa_token_find(const char *str, size_t len, int *dict_p, uint8_t *index_p);

//  Self test
void wa_token_test(bool verbose);

#endif
