/*  wa_pair - linking crypto: QR string, pair code, ADV device identity

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §5. Three parts:

    - QR string: "https://wa.me/settings/linked_devices#REF,NOISE,IDENTITY,
      ADV,PLATFORM" (keys in standard Base64).
    - Pair code ("link with phone number"): the 8-character code, the
      PBKDF2-wrapped ephemeral keys both sides exchange, the companion's
      key bundle and the adv secret both sides derive from it.
    - ADV: the companion verifies the ADVSignedDeviceIdentityHMAC of
      <pair-success> (HMAC with the adv secret, account signature) and
      countersigns it (device signature); the simulated phone/server side
      issues such a container and checks the countersignature.

    Randomness comes from wa_random() (test hook in wa_crypto.h); the order
    in which each function draws it is documented so known-answer tests
    can replay it. Protobufs: "wa/wa_adv.pb-c.h" (package wa.adv).
*/
#ifndef WA_PAIR_H_INCLUDED
#define WA_PAIR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WA_PAIR_CODE_LEN 8 //  characters, without the dash
#define WA_PAIR_CODE_ITERATIONS 131072
#define WA_PAIR_WRAPPED_LEN 80 //  salt(32) || iv(16) || ct(32)
#define WA_PAIR_BUNDLE_LEN 156 //  salt(32) || nonce(12) || ct(96+16)
#define WA_PAIR_QR_PREFIX "https://wa.me/settings/linked_devices#"

//  Outcome of checking a device identity; the engine maps these to the
//  error IQ it sends (401 hmac-mismatch, 401 signature-mismatch, 500).
typedef enum {
    WA_PAIR_OK = 0,
    WA_PAIR_BAD_INPUT = -1,     //  malformed protobuf or wrong lengths
    WA_PAIR_BAD_HMAC = -2,      //  HMAC with the adv secret failed
    WA_PAIR_BAD_SIGNATURE = -3, //  account or device signature failed
    WA_PAIR_INTERNAL = -4       //  crypto library failure
} wa_pair_status_t;

//  QR string for one <ref>. ref/ref_len: the ref bytes (no NUL, no
//  comma); platform: companion type ("1" Chrome, ... "c", "e"). Returns
//  NULL on bad input. Caller owns return value.
char *wa_pair_qr_string(const void *ref, size_t ref_len,
                        const uint8_t noise_pub[32],
                        const uint8_t identity_pub[32],
                        const uint8_t adv_secret[32], const char *platform);

//  Pair code of 5 random bytes (base32, alphabet 1-9A-Z without I O U
//  and 0), NUL-terminated.
void wa_pair_code_encode(const uint8_t random[5],
                         char code[WA_PAIR_CODE_LEN + 1]);

//  New pair code from 5 wa_random() bytes. Returns 0 / -1.
int wa_pair_code_generate(char code[WA_PAIR_CODE_LEN + 1]);

//  "ABCD-EFGH" form of a code, for display.
void wa_pair_code_display(const char *code, char out[WA_PAIR_CODE_LEN + 2]);

//  Wrapping key: PBKDF2-HMAC-SHA256(code, salt, 131072, 32). 0 / -1.
int wa_pair_code_key(const char *code, const uint8_t salt[32], uint8_t key[32]);

//  Wrap an ephemeral public key with the code: salt(32) || iv(16) ||
//  AES-256-CTR(key, iv, pub). Draws salt then iv from wa_random. Used by
//  the companion (companion_hello) and the phone (primary ephemeral).
int wa_pair_code_wrap(const char *code, const uint8_t pub[32],
                      uint8_t out[WA_PAIR_WRAPPED_LEN]);

//  Unwrap a peer's wrapped ephemeral key (len must be 80). 0 / -1.
int wa_pair_code_unwrap(const char *code, const uint8_t *wrapped, size_t len,
                        uint8_t pub[32]);

//  Companion side of companion_finish: ephShared = X25519(eph_priv,
//  primary_eph_pub); key bundle = AES-GCM(HKDF(kbSalt, ephShared,
//  "link_code_pairing_key_bundle_encryption_key"), kbNonce, identity_pub
//  || primary_identity_pub || advRandom); adv_secret = HKDF(ephShared ||
//  X25519(identity_priv, primary_identity_pub) || advRandom,
//  "adv_secret"). Draws kbSalt(32), kbNonce(12), advRandom(32), in that
//  order. bundle receives 156 bytes. Returns 0 / -1.
int wa_pair_code_finish(const uint8_t eph_priv[32],
                        const uint8_t primary_eph_pub[32],
                        const uint8_t identity_priv[32],
                        const uint8_t identity_pub[32],
                        const uint8_t primary_identity_pub[32],
                        uint8_t bundle[WA_PAIR_BUNDLE_LEN],
                        uint8_t adv_secret[32]);

//  Phone side: open a companion's key bundle (len must be 156) with the
//  primary's ephemeral and identity keys; check it names our identity;
//  return the companion identity key and the adv secret. 0 / -1.
int wa_pair_code_open(const uint8_t primary_eph_priv[32],
                      const uint8_t companion_eph_pub[32],
                      const uint8_t primary_identity_priv[32],
                      const uint8_t primary_identity_pub[32],
                      const uint8_t *bundle, size_t len,
                      uint8_t companion_identity_pub[32],
                      uint8_t adv_secret[32]);

//  A device identity the companion has verified and countersigned.
typedef struct _wa_pair_adv_t wa_pair_adv_t;

//  Companion side of <pair-success>: parse the <device-identity> bytes
//  (ADVSignedDeviceIdentityHMAC), check the HMAC (adv_secret) and the
//  account signature over our identity key, then add our device
//  signature. *status (may be NULL) tells why NULL was returned.
wa_pair_adv_t *wa_pair_adv_accept(const uint8_t *container, size_t len,
                                  const uint8_t adv_secret[32],
                                  const uint8_t identity_priv[32],
                                  wa_pair_status_t *status);

//  Destroy. NULL-safe; sets *self_p to NULL.
void wa_pair_adv_destroy(wa_pair_adv_t **self_p);

//  The signed identity to persist and to send later in pkmsg
//  <device-identity>: ADVSignedDeviceIdentity with all four fields.
//  Borrowed; *len gets its length.
const uint8_t *wa_pair_adv_identity(wa_pair_adv_t *self, size_t *len);

//  The <pair-device-sign><device-identity> content: the same without
//  account_signature_key. Borrowed; *len gets its length.
const uint8_t *wa_pair_adv_reply(wa_pair_adv_t *self, size_t *len);

//  Primary's identity key (account signature key, 32 bytes). Borrowed.
const uint8_t *wa_pair_adv_account_key(wa_pair_adv_t *self);

//  Fields of the inner ADVDeviceIdentity.
uint32_t wa_pair_adv_key_index(wa_pair_adv_t *self);
uint32_t wa_pair_adv_raw_id(wa_pair_adv_t *self);
uint64_t wa_pair_adv_timestamp(wa_pair_adv_t *self);
//  True if the account is hosted (HMAC/account prefix 06 05).
bool wa_pair_adv_hosted(wa_pair_adv_t *self);

//  Verify a stored or received ADVSignedDeviceIdentity (all four fields,
//  e.g. from pkmsg <device-identity>) for the device whose identity key
//  is identity_pub: account and device signatures. If account_key is not
//  NULL the signing key must equal it. Returns WA_PAIR_OK or an error.
wa_pair_status_t wa_pair_adv_verify_identity(const uint8_t *identity,
                                             size_t len,
                                             const uint8_t identity_pub[32],
                                             const uint8_t *account_key);

//  Phone/server side: issue the <device-identity> container for a new
//  companion. account_priv is the primary's identity private key;
//  hosted selects the hosted prefixes and types. *out_p gets a new buffer
//  of *out_len bytes (caller frees). Returns 0 / -1.
int wa_pair_adv_issue(const uint8_t account_priv[32],
                      const uint8_t companion_identity_pub[32],
                      const uint8_t adv_secret[32], uint32_t raw_id,
                      uint64_t timestamp, uint32_t key_index, bool hosted,
                      uint8_t **out_p, size_t *out_len);

//  Phone/server side: check a <pair-device-sign> reply: its details must
//  equal the issued ones (details/details_len = serialized
//  ADVDeviceIdentity we issued) and its device signature must verify for
//  the companion identity key. *key_index (may be NULL) gets the index.
wa_pair_status_t wa_pair_adv_check_reply(const uint8_t *reply, size_t len,
                                         const uint8_t *details,
                                         size_t details_len,
                                         const uint8_t account_pub[32],
                                         const uint8_t companion_pub[32],
                                         uint32_t *key_index);

//  Self test
void wa_pair_test(bool verbose);

#endif
