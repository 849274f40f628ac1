/*  wa_signal - libsignal-protocol-c context with an OpenSSL crypto provider

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    libsignal-protocol-c does no cryptography of its own: it calls a
    signal_crypto_provider (random, HMAC-SHA256, SHA-512, AES-CBC/CTR).
    This module implements that provider with OpenSSL 3 (random bytes come
    from wa_random(), so the wa_crypto test hook also makes libsignal
    deterministic) and wraps a signal_context that uses it, with
    libsignal's log output routed to cm_log.

    It also converts between raw 32-byte X25519 keys (what WhatsApp
    stanzas carry) and libsignal's key objects / 33-byte "djb" encoding
    (0x05 || key).

    A wa_signal_t belongs to one thread.
*/
#ifndef WA_SIGNAL_H_INCLUDED
#define WA_SIGNAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <signal_protocol.h>

#define WA_DJB_TYPE 0x05
#define WA_DJB_KEY_LEN 33

typedef struct _wa_signal_t wa_signal_t;

//  Create a signal_context with the OpenSSL provider. Returns NULL if
//  libsignal fails to initialize.
wa_signal_t *wa_signal_new(void);

//  Destroy the context. NULL-safe; sets *self_p to NULL.
void wa_signal_destroy(wa_signal_t **self_p);

//  The libsignal context (borrowed; valid until wa_signal_destroy).
signal_context *wa_signal_context(wa_signal_t *self);

//  Fill *provider with the OpenSSL callbacks (user_data NULL), for callers
//  that manage their own signal_context.
void wa_signal_provider(signal_crypto_provider *provider);

//  Encode a raw 32-byte public key as 0x05 || key.
void wa_signal_djb_encode(const uint8_t pub[32], uint8_t out[WA_DJB_KEY_LEN]);

//  Decode a public key given as 33 bytes (0x05 || key) or 32 raw bytes
//  into raw form. Returns -1 on any other length or type byte.
int wa_signal_djb_decode(const uint8_t *in, size_t len, uint8_t out[32]);

//  libsignal public key object from a raw 32-byte key. Caller owns the
//  result (SIGNAL_UNREF). Returns NULL on failure.
ec_public_key *wa_signal_public_key(wa_signal_t *self, const uint8_t pub[32]);

//  libsignal private key object from a raw 32-byte key (clamped first).
//  Caller owns the result (SIGNAL_UNREF). Returns NULL on failure.
ec_private_key *wa_signal_private_key(wa_signal_t *self,
                                      const uint8_t priv[32]);

//  Raw 32 bytes of a libsignal public / private key. Return 0 / -1.
int wa_signal_public_raw(const ec_public_key *key, uint8_t out[32]);
int wa_signal_private_raw(const ec_private_key *key, uint8_t out[32]);

//  Self test
void wa_signal_test(bool verbose);

#endif
