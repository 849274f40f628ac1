/*  wa_cert - the Noise server certificate chain (issue and verify)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    During the handshake the server sends, encrypted, a CertChain of two
    certificates: an intermediate signed (XEdDSA) by the WhatsApp root key
    and a leaf over the server's static Noise key signed by the
    intermediate. Each certificate carries serialised Details {serial,
    issuer serial, key, not before, not after}.

    The client side verifies it with whatsmeow's strict rules: both
    signatures (64 bytes), intermediate issuer serial == root serial (0),
    32-byte keys, leaf issuer serial == intermediate serial, leaf key ==
    the static key decrypted in the handshake, and not_before <= now <=
    not_after for both certificates. The root public key is a parameter:
    production passes wa_cert_root_pub (the pinned WhatsApp key); tests
    and wa-sim use their own root.

    The server side (wa-sim) issues chains from a root private key.
*/
#ifndef WA_CERT_H_INCLUDED
#define WA_CERT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Serial of the root; the intermediate's issuer serial must equal it.
#define WA_CERT_ROOT_SERIAL 0
//  Default serial of an issued intermediate (leaf gets serial + 1).
#define WA_CERT_INTERMEDIATE_SERIAL 1
//  Default validity of issued certificates around "now", in seconds.
#define WA_CERT_BACKDATE_S (24 * 3600)
#define WA_CERT_INTERMEDIATE_LIFETIME_S (365 * 24 * 3600)
#define WA_CERT_LEAF_LIFETIME_S (30 * 24 * 3600)

//  The pinned WhatsApp root public key (X25519, 32 bytes).
extern const uint8_t wa_cert_root_pub[32];

//  Contents of one certificate.
typedef struct {
    uint32_t serial;        //  serial number of this certificate
    uint32_t issuer_serial; //  serial of the certificate that signed it
    uint8_t key[32];        //  certified X25519 public key
    uint64_t not_before;    //  unix seconds
    uint64_t not_after;     //  unix seconds
} wa_cert_details_t;

//  Build and sign a chain: intermediate (signed by root_priv) and leaf
//  (signed by intermediate_priv). The key fields of the details are used
//  as given (intermediate->key must be the public key of
//  intermediate_priv for the chain to verify). Signatures draw nonces
//  from wa_random. Returns the serialised CertChain and sets *len_p, or
//  NULL on failure. Caller owns return value.
uint8_t *wa_cert_chain_build(const uint8_t root_priv[32],
                             const wa_cert_details_t *intermediate,
                             const uint8_t intermediate_priv[32],
                             const wa_cert_details_t *leaf, size_t *len_p);

//  Issue a chain for the server static key static_pub the way the
//  service does: a fresh intermediate key pair (from wa_random) with
//  serial WA_CERT_INTERMEDIATE_SERIAL and issuer serial
//  WA_CERT_ROOT_SERIAL, a leaf with serial + 1, validity from now -
//  WA_CERT_BACKDATE_S for the default lifetimes. Returns the serialised
//  CertChain or NULL. Caller owns return value.
uint8_t *wa_cert_chain_issue(const uint8_t root_priv[32],
                             const uint8_t static_pub[32], uint64_t now,
                             size_t *len_p);

//  Parse a serialised chain into its two details (either output may be
//  NULL). Does not check signatures. Returns 0, or -1 if malformed.
int wa_cert_chain_parse(const uint8_t *chain, size_t len,
                        wa_cert_details_t *intermediate,
                        wa_cert_details_t *leaf);

//  Verify a serialised chain against root_pub and the server static key
//  at time now (unix seconds). Returns 0 if valid, else -1 and, if
//  reason_p is not NULL, a static description of the first failed check.
int wa_cert_chain_verify(const uint8_t *chain, size_t len,
                         const uint8_t root_pub[32],
                         const uint8_t static_pub[32], uint64_t now,
                         const char **reason_p);

//  Self test.
void wa_cert_test(bool verbose);

#endif
