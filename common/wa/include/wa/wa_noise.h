/*  wa_noise - WhatsApp's Noise_XX_25519_AESGCM_SHA256 handshake

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One object per connection, initiator (client) or responder (server).
    The handshake messages are serialised HandshakeMessage protobufs; the
    caller frames them with wa_frame and carries them over the socket.

    Initiator:                          Responder:
      wa_noise_client_hello    ----->     wa_noise_read_client_hello
      wa_noise_read_server_hello <---     wa_noise_server_hello
      wa_noise_client_finish   ----->     wa_noise_read_client_finish
    After client_finish / read_client_finish both sides are in transport
    mode: wa_noise_encrypt / wa_noise_decrypt use two independent 32-bit
    counters and no associated data.

    WhatsApp quirks: the 32-byte protocol name is used as h and ck without
    hashing; the intro bytes ("WA" 06 03) are the prologue; one counter
    is shared by encryption and decryption during the handshake and reset
    by every mixKey.

    The initiator verifies the server certificate chain (wa_cert) against
    a configurable root key (default: the pinned WhatsApp root). Ephemeral
    keys come from wa_random (replaceable for known-answer tests).

    Every step returns -1 on bad input (malformed message, failed tag,
    bad certificate) and the object is then failed; the connection must be
    dropped. wa_noise_error gives the reason.
*/
#ifndef WA_NOISE_H_INCLUDED
#define WA_NOISE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Noise protocol name, padded to 32 bytes with NULs.
#define WA_NOISE_NAME "Noise_XX_25519_AESGCM_SHA256\0\0\0\0"
//  Bytes added by every encryption (the GCM tag).
#define WA_NOISE_TAG_LEN 16
//  Largest plaintext of one transport frame.
#define WA_NOISE_MAX_PLAINTEXT (0xffffffu - WA_NOISE_TAG_LEN)

typedef enum {
    WA_NOISE_INITIATOR = 0, //  client
    WA_NOISE_RESPONDER = 1  //  server
} wa_noise_role_t;

typedef struct _wa_noise_t wa_noise_t;

//  Trace hook (tests, diagnostics): called after init, every mixHash,
//  every mixKey and the split, with the current h, ck and k. For "split",
//  ck and k are the initiator's write and read keys. The values are
//  secrets: never log them outside tests.
typedef void(wa_noise_trace_fn)(void *arg, const char *step,
                                const uint8_t h[32], const uint8_t ck[32],
                                const uint8_t k[32]);

//  Create a handshake for one connection. static_priv is the long-term
//  Noise private key (client: the account's noise key; server: the server
//  static key). prologue is the intro the client writes (wa_frame_intro),
//  prologue_len bytes (normally 4). Caller owns return value.
wa_noise_t *wa_noise_new(wa_noise_role_t role, const uint8_t static_priv[32],
                         const uint8_t *prologue, size_t prologue_len);

//  Destroy the object and wipe its keys. NULL-safe; sets *self_p to NULL.
void wa_noise_destroy(wa_noise_t **self_p);

//  Initiator: trust root_pub (32 bytes) instead of the pinned WhatsApp
//  root for the server certificate chain.
void wa_noise_set_root(wa_noise_t *self, const uint8_t root_pub[32]);

//  Initiator: check certificate validity at this unix time instead of the
//  wall clock (tests). 0 restores the wall clock.
void wa_noise_set_time(wa_noise_t *self, uint64_t now);

//  Install a trace hook (tests). fn NULL removes it.
void wa_noise_set_trace(wa_noise_t *self, wa_noise_trace_fn *fn, void *arg);

//  Initiator: generate the ephemeral key and produce the ClientHello
//  message. Returns the serialised HandshakeMessage (sets *len_p) or NULL.
//  Caller owns return value.
uint8_t *wa_noise_client_hello(wa_noise_t *self, size_t *len_p);

//  Initiator: process the ServerHello message: decrypt the server static
//  key and the certificate chain and verify the chain. Returns 0 or -1.
int wa_noise_read_server_hello(wa_noise_t *self, const uint8_t *msg,
                               size_t len);

//  Initiator: produce the ClientFinish message carrying our static key
//  and the encrypted ClientPayload (payload, len bytes, from wa_payload),
//  then switch to transport mode. Returns the serialised HandshakeMessage
//  (sets *out_len_p) or NULL. Caller owns return value.
uint8_t *wa_noise_client_finish(wa_noise_t *self, const uint8_t *payload,
                                size_t len, size_t *out_len_p);

//  Responder: process the ClientHello message. Returns 0 or -1.
int wa_noise_read_client_hello(wa_noise_t *self, const uint8_t *msg,
                               size_t len);

//  Responder: generate the ephemeral key and produce the ServerHello
//  message carrying our encrypted static key and the encrypted certificate
//  chain (cert, cert_len bytes, from wa_cert). Returns the serialised
//  HandshakeMessage (sets *len_p) or NULL. Caller owns return value.
uint8_t *wa_noise_server_hello(wa_noise_t *self, const uint8_t *cert,
                               size_t cert_len, size_t *len_p);

//  Responder: process the ClientFinish message: decrypt the client static
//  key and the ClientPayload, then switch to transport mode. Returns 0 or
//  -1.
int wa_noise_read_client_finish(wa_noise_t *self, const uint8_t *msg,
                                size_t len);

//  Responder: the decrypted ClientPayload bytes (after
//  wa_noise_read_client_finish), or NULL. Borrowed; *len_p gets the length.
const uint8_t *wa_noise_payload(wa_noise_t *self, size_t *len_p);

//  Release the decrypted ClientPayload once it has been parsed.
void wa_noise_payload_free(wa_noise_t *self);

//  The peer's static public key once known (initiator: after ServerHello;
//  responder: after ClientFinish), else NULL. Borrowed, 32 bytes.
const uint8_t *wa_noise_remote_static(wa_noise_t *self);

//  The current handshake hash h (public; after the handshake it
//  identifies the session). Borrowed, 32 bytes.
const uint8_t *wa_noise_handshake_hash(wa_noise_t *self);

//  Our static public key. Borrowed, 32 bytes.
const uint8_t *wa_noise_local_static(wa_noise_t *self);

//  True once the handshake is complete (transport mode).
bool wa_noise_ready(wa_noise_t *self);

//  True once a step has failed.
bool wa_noise_failed(wa_noise_t *self);

//  Static description of the failure, or NULL.
const char *wa_noise_error(wa_noise_t *self);

//  Transport: encrypt len bytes into out (len + WA_NOISE_TAG_LEN bytes;
//  out may not overlap in). Returns 0 or -1 (not ready, counter
//  exhausted, len above WA_NOISE_MAX_PLAINTEXT).
int wa_noise_encrypt(wa_noise_t *self, const uint8_t *in, size_t len,
                     uint8_t *out);

//  Transport: decrypt a frame of len bytes into out (len -
//  WA_NOISE_TAG_LEN bytes). Returns 0, or -1 on a short frame or a bad tag
//  (the object is then failed: the stream is unusable).
int wa_noise_decrypt(wa_noise_t *self, const uint8_t *in, size_t len,
                     uint8_t *out);

//  Self test.
void wa_noise_test(bool verbose);

#endif
