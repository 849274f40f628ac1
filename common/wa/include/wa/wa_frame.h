/*  wa_frame - WhatsApp connection intro and 3-byte length framing

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The client's first frame on a socket is preceded by the 4-byte intro
    "WA" 06 03 (optionally itself preceded by the edge-routing block
    "ED" 00 01 len(3) routing-info). Every frame is a 3-byte big-endian
    length followed by that many bytes. Framing is a byte stream: one
    WebSocket message may carry several frames and a frame may be split
    over several messages, so received bytes are fed in and complete
    frames are taken out.

    A server-side codec expects (and strips) the intro at the start of the
    stream; a client-side codec writes it before its first frame. Malformed
    input (bad intro, frame longer than the limit) puts the codec into a
    failed state: every later feed returns -1 and the connection must be
    dropped.

    Memory: no buffer exists while no partial frame is pending; the
    reassembly buffer grows only to the largest pending frame.
*/
#ifndef WA_FRAME_H_INCLUDED
#define WA_FRAME_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Intro bytes: "WA", magic 6, dictionary version 3.
#define WA_FRAME_INTRO_LEN 4
#define WA_FRAME_INTRO_MAGIC 6
#define WA_FRAME_DICT_VERSION 3
//  Size of the big-endian length prefix of every frame.
#define WA_FRAME_LEN_SIZE 3
//  Largest length the 3-byte prefix can carry.
#define WA_FRAME_MAX_SIZE 0xffffffu
//  Largest edge-routing block accepted from a client.
#define WA_FRAME_MAX_ROUTING 4096
//  Largest header a codec ever writes before a payload:
//  "ED" 00 01 len(3) routing, intro, length.
#define WA_FRAME_MAX_HEADER                                                    \
    (7 + WA_FRAME_MAX_ROUTING + WA_FRAME_INTRO_LEN + WA_FRAME_LEN_SIZE)

typedef enum {
    WA_FRAME_CLIENT = 0, //  writes the intro, reads plain frames
    WA_FRAME_SERVER = 1  //  reads the intro, writes plain frames
} wa_frame_role_t;

typedef struct _wa_frame_t wa_frame_t;

//  Create a codec for one connection. max_frame limits the length of a
//  received frame (0 means WA_FRAME_MAX_SIZE). Caller owns return value.
wa_frame_t *wa_frame_new(wa_frame_role_t role, size_t max_frame);

//  Destroy the codec. NULL-safe; sets *self_p to NULL.
void wa_frame_destroy(wa_frame_t **self_p);

//  Client: send the edge-routing block with routing info `data` before the
//  intro of the first frame. Must be called before the first frame is
//  written. Returns -1 if len is 0 or above WA_FRAME_MAX_ROUTING, or if the
//  first frame was already written.
int wa_frame_set_routing_info(wa_frame_t *self, const uint8_t *data,
                              size_t len);

//  The 4 intro bytes this connection uses: on a client the ones it writes,
//  on a server the ones received (NULL until the intro has arrived). They
//  are the Noise prologue. Borrowed.
const uint8_t *wa_frame_intro(wa_frame_t *self);

//  Server: the routing info the client sent before its intro, or NULL.
//  Borrowed; *len_p gets the length.
const uint8_t *wa_frame_routing_info(wa_frame_t *self, size_t *len_p);

//  Number of bytes wa_frame_write_header will write before the next
//  payload (intro plus length on a client's first frame, else 3).
size_t wa_frame_header_len(wa_frame_t *self);

//  Write the header for a payload of payload_len bytes into out (which
//  has room for wa_frame_header_len bytes) and mark the intro as sent.
//  Returns the number of bytes written, or -1 if payload_len does not fit
//  in 3 bytes.
int wa_frame_write_header(wa_frame_t *self, size_t payload_len, uint8_t *out);

//  Encode one payload into a new buffer (header + payload). Sets *len_p.
//  Returns NULL if the payload is too large. Caller owns return value.
uint8_t *wa_frame_encode(wa_frame_t *self, const uint8_t *payload, size_t len,
                         size_t *len_p);

//  Feed received bytes. Returns 0, or -1 if the stream is malformed (the
//  codec then stays failed). Complete frames are taken with wa_frame_next.
int wa_frame_feed(wa_frame_t *self, const uint8_t *data, size_t len);

//  Next complete frame, or NULL if none is complete yet. *len_p gets its
//  length. The data is borrowed until the next call to wa_frame_feed or
//  wa_frame_next.
const uint8_t *wa_frame_next(wa_frame_t *self, size_t *len_p);

//  True once the codec has seen malformed input.
bool wa_frame_failed(wa_frame_t *self);

//  Bytes currently held for partial frames (for memory accounting).
size_t wa_frame_buffered(wa_frame_t *self);

//  Self test.
void wa_frame_test(bool verbose);

#endif
