/*  wa_crypto - hashes, MACs, KDFs, AES modes, X25519 and XEdDSA

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Thin, buffer-in/buffer-out wrappers over OpenSSL 3 EVP (hashes, HMAC,
    HKDF, PBKDF2, AES-256-GCM/CBC/CTR, X25519) and libsignal-protocol-c
    (XEdDSA signatures, through wa_signal's OpenSSL crypto provider).

    Keys are raw 32-byte X25519 keys everywhere. Signal's 33-byte "djb"
    form (0x05 || key) is handled by wa_signal_djb_encode/decode.

    Every function returns 0 on success and -1 on failure (bad lengths,
    bad tags/MACs, library errors); nothing asserts on outside input.
    Output buffers may not overlap inputs unless stated.

    Random source: wa_random() draws from the kernel (getrandom) by
    default. wa_crypto_set_random() replaces it process-wide, for
    known-answer tests that must be byte-exact (key generation, XEdDSA
    nonces and everything in wa_media/wa_appstate/wa_pair that draws
    randomness goes through wa_random). It is a test hook: set it before
    use, from one thread, and restore it with wa_crypto_set_random(NULL,
    NULL) when done. Production code never sets it.
*/
#ifndef WA_CRYPTO_H_INCLUDED
#define WA_CRYPTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WA_SHA256_LEN 32
#define WA_SHA512_LEN 64
#define WA_AES_KEY_LEN 32
#define WA_AES_BLOCK_LEN 16
#define WA_GCM_IV_LEN 12
#define WA_GCM_TAG_LEN 16
#define WA_X25519_LEN 32
#define WA_XEDDSA_SIG_LEN 64

//  Ciphertext length of AES-CBC/PKCS#7 for a plaintext of n bytes.
#define WA_CBC_ENC_LEN(n) (((n) / WA_AES_BLOCK_LEN + 1) * WA_AES_BLOCK_LEN)

//  One piece of a message hashed or MACed as a concatenation of parts.
typedef struct {
    const void *data; //  bytes (may be NULL when len is 0)
    size_t len;       //  number of bytes
} wa_part_t;

//  Random source: fill buf with len bytes; return 0, or -1 on failure.
typedef int(wa_random_fn)(void *arg, uint8_t *buf, size_t len);

//  Replace the process-wide random source (test hook, see banner). fn
//  NULL restores the default kernel source.
void wa_crypto_set_random(wa_random_fn *fn, void *arg);

//  Run every primitive of this module once, so that OpenSSL's algorithm
//  fetches and caches happen in the calling thread. Call it from main
//  before starting threads: OpenSSL 3.0 leaks a method when threads race
//  on the first fetch of one algorithm. Returns 0 / -1.
int wa_crypto_warmup(void);

//  Fill buf with len random bytes from the current source. Returns 0 or
//  -1 if the source failed.
int wa_random(void *buf, size_t len);

//  SHA-256 / SHA-512 of data. Return 0 / -1.
int wa_sha256(const void *data, size_t len, uint8_t out[WA_SHA256_LEN]);
int wa_sha512(const void *data, size_t len, uint8_t out[WA_SHA512_LEN]);
//  SHA-256 of the concatenation of n parts.
int wa_sha256_parts(const wa_part_t *parts, size_t n,
                    uint8_t out[WA_SHA256_LEN]);

//  HMAC-SHA256 / HMAC-SHA512 of data under key. Return 0 / -1.
int wa_hmac_sha256(const void *key, size_t key_len, const void *data,
                   size_t len, uint8_t out[WA_SHA256_LEN]);
int wa_hmac_sha512(const void *key, size_t key_len, const void *data,
                   size_t len, uint8_t out[WA_SHA512_LEN]);
//  HMAC-SHA256 / HMAC-SHA512 of the concatenation of n parts.
int wa_hmac_sha256_parts(const void *key, size_t key_len,
                         const wa_part_t *parts, size_t n,
                         uint8_t out[WA_SHA256_LEN]);
int wa_hmac_sha512_parts(const void *key, size_t key_len,
                         const wa_part_t *parts, size_t n,
                         uint8_t out[WA_SHA512_LEN]);

//  HKDF-SHA256 (RFC 5869) extract + expand into out_len bytes (at most
//  255*32). salt NULL/0 means no salt (32 zero bytes). info may be empty.
int wa_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
                   size_t ikm_len, const void *info, size_t info_len,
                   uint8_t *out, size_t out_len);
//  HKDF extract only: prk = HMAC-SHA256(salt, ikm).
int wa_hkdf_sha256_extract(const void *salt, size_t salt_len, const void *ikm,
                           size_t ikm_len, uint8_t prk[WA_SHA256_LEN]);
//  HKDF expand only, from a 32-byte prk.
int wa_hkdf_sha256_expand(const uint8_t prk[WA_SHA256_LEN], const void *info,
                          size_t info_len, uint8_t *out, size_t out_len);

//  PBKDF2-HMAC-SHA256 of password/salt with `iterations` rounds.
int wa_pbkdf2_sha256(const void *password, size_t password_len,
                     const void *salt, size_t salt_len, uint32_t iterations,
                     uint8_t *out, size_t out_len);

//  AES-256-GCM seal: out receives ciphertext || 16-byte tag, i.e. len + 16
//  bytes. iv is usually 12 bytes (any non-zero length accepted). aad may
//  be NULL/0.
int wa_aes_gcm_encrypt(const uint8_t key[WA_AES_KEY_LEN], const uint8_t *iv,
                       size_t iv_len, const void *aad, size_t aad_len,
                       const void *in, size_t len, uint8_t *out);
//  AES-256-GCM open: in is ciphertext || tag (len >= 16); out receives
//  len - 16 bytes. Returns -1 on a short input or a bad tag (out is then
//  wiped).
int wa_aes_gcm_decrypt(const uint8_t key[WA_AES_KEY_LEN], const uint8_t *iv,
                       size_t iv_len, const void *aad, size_t aad_len,
                       const void *in, size_t len, uint8_t *out);

//  AES-256-GCM with one key for many messages (a transport direction):
//  the key schedule and cipher lookup happen once, in wa_gcm_new.
typedef struct _wa_gcm_t wa_gcm_t;

//  New sealer (encrypt true) or opener for `key`; NULL on failure.
wa_gcm_t *wa_gcm_new(const uint8_t key[WA_AES_KEY_LEN], bool encrypt);
void wa_gcm_destroy(wa_gcm_t **self_p);
//  As wa_aes_gcm_encrypt / wa_aes_gcm_decrypt with the object's key and a
//  WA_GCM_IV_LEN-byte iv; a sealer only seals, an opener only opens.
int wa_gcm_seal(wa_gcm_t *self, const uint8_t iv[WA_GCM_IV_LEN],
                const void *aad, size_t aad_len, const void *in, size_t len,
                uint8_t *out);
int wa_gcm_open(wa_gcm_t *self, const uint8_t iv[WA_GCM_IV_LEN],
                const void *aad, size_t aad_len, const void *in, size_t len,
                uint8_t *out);

//  AES-256-CBC with PKCS#7 padding. out must hold WA_CBC_ENC_LEN(len)
//  bytes; *out_len gets the ciphertext length.
int wa_aes_cbc_encrypt(const uint8_t key[WA_AES_KEY_LEN],
                       const uint8_t iv[WA_AES_BLOCK_LEN], const void *in,
                       size_t len, uint8_t *out, size_t *out_len);
//  AES-256-CBC decrypt and strip PKCS#7 padding. len must be a non-zero
//  multiple of 16; out must hold len bytes; *out_len gets the plaintext
//  length. Returns -1 on bad length or bad padding.
int wa_aes_cbc_decrypt(const uint8_t key[WA_AES_KEY_LEN],
                       const uint8_t iv[WA_AES_BLOCK_LEN], const void *in,
                       size_t len, uint8_t *out, size_t *out_len);

//  AES-256-CTR (128-bit big-endian counter block = iv): encrypts and
//  decrypts. out holds len bytes and may equal in.
int wa_aes_ctr(const uint8_t key[WA_AES_KEY_LEN],
               const uint8_t iv[WA_AES_BLOCK_LEN], const void *in, size_t len,
               uint8_t *out);

//  Constant-time comparison of two len-byte buffers; true if equal.
bool wa_crypto_equal(const void *a, const void *b, size_t len);

//  Wipe len bytes so the compiler cannot optimize it away.
void wa_crypto_wipe(void *buf, size_t len);

//  Clamp a 32-byte X25519 private key in place (RFC 7748).
void wa_x25519_clamp(uint8_t priv[WA_X25519_LEN]);

//  Generate a key pair from wa_random(); priv is stored clamped.
int wa_x25519_keypair(uint8_t priv[WA_X25519_LEN], uint8_t pub[WA_X25519_LEN]);

//  Public key of priv (clamped internally; priv is not modified).
int wa_x25519_public(const uint8_t priv[WA_X25519_LEN],
                     uint8_t pub[WA_X25519_LEN]);

//  X25519 shared secret of priv and a peer's raw public key. Returns -1
//  if the result is all zeros (low-order peer key).
int wa_x25519_shared(const uint8_t priv[WA_X25519_LEN],
                     const uint8_t peer_pub[WA_X25519_LEN],
                     uint8_t out[WA_X25519_LEN]);

//  XEdDSA (Signal curve25519) signature of msg with an X25519 private key
//  (clamped internally). Randomized through wa_random().
int wa_xeddsa_sign(const uint8_t priv[WA_X25519_LEN], const void *msg,
                   size_t len, uint8_t sig[WA_XEDDSA_SIG_LEN]);

//  Verify an XEdDSA signature made by the owner of the raw 32-byte X25519
//  public key pub. Returns 0 if valid, -1 if invalid or sig_len != 64.
int wa_xeddsa_verify(const uint8_t pub[WA_X25519_LEN], const void *msg,
                     size_t len, const uint8_t *sig, size_t sig_len);

//  Self test
void wa_crypto_test(bool verbose);

#endif
