/*  wa_binary - WhatsApp binary-XML codec (nodes <-> frame payloads)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A decrypted transport frame is one flag byte and a node; flag bit 0x02
    means the rest is a zlib stream of the node bytes. The encoder writes
    strings in this order of preference (protocol guide §4.4): token,
    NIBBLE_8, HEX_8, JID (strings of the form user@server on a known
    server: AD_JID for devices on s.whatsapp.net/lid and for hosted users,
    FB_JID for msgr, INTEROP_JID for interop, JID_PAIR otherwise), raw
    BINARY_8/20/32. Every choice decodes back to the same text, so
    decode(encode(node)) equals node. The empty string is written as
    BINARY_8 of length 0, as Baileys does.

    The decoder treats its input as hostile: every read is bounded, and
    the limits below cap nesting, list sizes, string sizes, the frame and
    the inflated size, and the number of nodes plus attributes. Failures
    return NULL with a static reason string, never a crash.
*/
#ifndef WA_BINARY_H_INCLUDED
#define WA_BINARY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa/wa_node.h"

//  Tag bytes (protocol guide §4.2)
#define WA_BINARY_LIST_EMPTY 0
#define WA_BINARY_DICTIONARY_0 236
#define WA_BINARY_DICTIONARY_3 239
#define WA_BINARY_INTEROP_JID 245
#define WA_BINARY_FB_JID 246
#define WA_BINARY_AD_JID 247
#define WA_BINARY_LIST_8 248
#define WA_BINARY_LIST_16 249
#define WA_BINARY_JID_PAIR 250
#define WA_BINARY_HEX_8 251
#define WA_BINARY_BINARY_8 252
#define WA_BINARY_BINARY_20 253
#define WA_BINARY_BINARY_32 254
#define WA_BINARY_NIBBLE_8 255
//  Longest string written packed
#define WA_BINARY_PACKED_MAX 127
//  Frame flag bit: payload is zlib-compressed
#define WA_BINARY_FLAG_ZLIB 0x02

//  Decoder limits; wa_binary_limits_default fills in the defaults below
typedef struct {
    size_t max_depth;    //  deepest node nesting (root = 1); default 64
    size_t max_list;     //  most children in one list; default 65535
    size_t max_string;   //  longest string or bytes; default 16 MiB
    size_t max_input;    //  longest frame/node input; default 16 MiB
    size_t max_inflated; //  largest inflated payload; default 16 MiB
    size_t max_items;    //  most nodes + attributes; default 262144
} wa_binary_limits_t;

#define WA_BINARY_DEFAULT_MAX_DEPTH 64
#define WA_BINARY_DEFAULT_MAX_LIST 65535
#define WA_BINARY_DEFAULT_MAX_STRING (16u << 20)
#define WA_BINARY_DEFAULT_MAX_INPUT (16u << 20)
#define WA_BINARY_DEFAULT_MAX_INFLATED (16u << 20)
#define WA_BINARY_DEFAULT_MAX_ITEMS 262144

//  Fill `limits` with the defaults.
void wa_binary_limits_default(wa_binary_limits_t *limits);

//  Encode `node` as a frame payload: flag byte 0x00 then the node. On
//  success returns 0 and sets *out_p (caller owns, free()) and *len_p.
//  Returns -1 (and sets *reason_p if not NULL) when the node cannot be
//  represented: more than 65535 children or attributes, or bytes over
//  4 GiB.
int wa_binary_encode(const wa_node_t *node, uint8_t **out_p, size_t *len_p,
                     const char **reason_p);

//  As wa_binary_encode without the flag byte.
int wa_binary_encode_node(const wa_node_t *node, uint8_t **out_p, size_t *len_p,
                          const char **reason_p);

//  Inflate a zlib stream into at most `max` bytes (a frame payload, a
//  history-sync blob). Returns a buffer the caller frees (*out_len_p
//  bytes), or NULL with a static reason in *reason_p: corrupt, truncated,
//  trailing bytes, or larger than `max`.
uint8_t *wa_binary_inflate(const uint8_t *data, size_t len, size_t max,
                           size_t *out_len_p, const char **reason_p);

//  Decode a frame payload (flag byte, then a node or a zlib stream of
//  one). `limits` may be NULL for the defaults. Returns the node (caller
//  owns), or NULL with a static reason in *reason_p (if not NULL).
wa_node_t *wa_binary_decode(const uint8_t *data, size_t len,
                            const wa_binary_limits_t *limits,
                            const char **reason_p);

//  Decode node bytes without a flag byte. Trailing bytes are an error.
wa_node_t *wa_binary_decode_node(const uint8_t *data, size_t len,
                                 const wa_binary_limits_t *limits,
                                 const char **reason_p);

//  Self test
void wa_binary_test(bool verbose);

#endif
