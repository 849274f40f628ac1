/*  gw_wsframe - WebSocket framing (RFC 6455), server side

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A decoder for what a client sends: bytes go in with
    gw_wsframe_feed, whole messages come out of gw_wsframe_next
    (fragments are joined, control frames come out as they arrive, even
    between the fragments of a message). Client frames must be masked; a
    frame that breaks the protocol stops the decoder with the close code
    to send (1002 protocol error, 1007 text that is not UTF-8, 1009 a
    message larger than the limit). The encoder writes the server's
    frames (never masked, never fragmented). gw_wsframe_accept computes
    the handshake's Sec-WebSocket-Accept. No I/O here.
*/
#ifndef GW_WSFRAME_H_INCLUDED
#define GW_WSFRAME_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Opcodes
#define GW_WSFRAME_CONTINUATION 0x0
#define GW_WSFRAME_TEXT 0x1
#define GW_WSFRAME_BINARY 0x2
#define GW_WSFRAME_CLOSE 0x8
#define GW_WSFRAME_PING 0x9
#define GW_WSFRAME_PONG 0xA

//  Close codes
#define GW_WSFRAME_CLOSE_NORMAL 1000
#define GW_WSFRAME_CLOSE_GOING_AWAY 1001
#define GW_WSFRAME_CLOSE_PROTOCOL 1002
#define GW_WSFRAME_CLOSE_POLICY 1008
#define GW_WSFRAME_CLOSE_BAD_DATA 1007
#define GW_WSFRAME_CLOSE_TOO_BIG 1009
#define GW_WSFRAME_CLOSE_ERROR 1011

//  Longest header a frame can have.
#define GW_WSFRAME_HEADER_MAX 14

typedef struct _gw_wsframe_t gw_wsframe_t;

//  New decoder taking messages of at most max_message bytes. Caller owns
//  return value.
gw_wsframe_t *gw_wsframe_new(size_t max_message);

void gw_wsframe_destroy(gw_wsframe_t **self_p);

//  Append received bytes. Returns 0, or -1 when they would hold more than
//  one largest frame can take (the decoder is then failed, 1009).
int gw_wsframe_feed(gw_wsframe_t *self, const void *data, size_t len);

//  The next whole message or control frame: 1 with *opcode_p (TEXT,
//  BINARY, CLOSE, PING, PONG), *payload_p (valid until the next call of
//  next or feed) and *len_p; 0 when more bytes are needed; -1 when the
//  stream broke the protocol (see gw_wsframe_error).
int gw_wsframe_next(gw_wsframe_t *self, int *opcode_p,
                    const uint8_t **payload_p, size_t *len_p);

//  After -1: the close code to send and a reason. Borrowed.
int gw_wsframe_error(gw_wsframe_t *self, const char **reason_p);

//  One unmasked, final server frame into out (size at least
//  len + GW_WSFRAME_HEADER_MAX). Returns the bytes written.
size_t gw_wsframe_encode(int opcode, const void *payload, size_t len,
                         uint8_t *out);

//  A CLOSE frame's payload: code and reason (truncated to fit 125 bytes)
//  into out (at least 125 bytes). Returns its length.
size_t gw_wsframe_close_payload(int code, const char *reason, uint8_t *out);

//  Sec-WebSocket-Accept for the client's Sec-WebSocket-Key into out (at
//  least 29 bytes). Returns 0, or -1 when the key is not the base64 of 16
//  bytes.
int gw_wsframe_accept(const char *key, char *out, size_t size);

//  True when data is valid UTF-8.
bool gw_wsframe_utf8_valid(const uint8_t *data, size_t len);

void gw_wsframe_test(bool verbose);

#endif
