/*  wa_crypto - hashes, MACs, KDFs, AES modes, X25519 and XEdDSA

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    OpenSSL 3 EVP for everything symmetric and for X25519; libsignal (via
    wa_signal) for XEdDSA, so signatures match what WhatsApp clients make.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_signal.h"
#include "wa/wa_vectors.h"

//  Test hook (see header): the one process-wide random source.
static wa_random_fn *s_random_fn = NULL;
static void *s_random_arg = NULL;

void
wa_crypto_set_random(wa_random_fn *fn, void *arg)
{
    s_random_fn = fn;
    s_random_arg = fn ? arg : NULL;
}

int
wa_random(void *buf, size_t len)
{
    if (len == 0) {
        return 0;
    }
    assert(buf);
    if (s_random_fn) {
        return s_random_fn(s_random_arg, buf, len) == 0 ? 0 : -1;
    }
    cm_random(buf, len);
    return 0;
}

static int
s_digest_parts(const char *name, const wa_part_t *parts, size_t n, uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        return -1;
    }
    int rc = -1;
    if (EVP_DigestInit_ex2(ctx, EVP_get_digestbyname(name), NULL) != 1) {
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len > 0 &&
            EVP_DigestUpdate(ctx, parts[i].data, parts[i].len) != 1) {
            goto cleanup;
        }
    }
    if (EVP_DigestFinal_ex(ctx, out, NULL) == 1) {
        rc = 0;
    }
cleanup:
    EVP_MD_CTX_free(ctx);
    return rc;
}

int
wa_sha256(const void *data, size_t len, uint8_t out[WA_SHA256_LEN])
{
    wa_part_t part = {data, len};
    return s_digest_parts("SHA256", &part, 1, out);
}

int
wa_sha512(const void *data, size_t len, uint8_t out[WA_SHA512_LEN])
{
    wa_part_t part = {data, len};
    return s_digest_parts("SHA512", &part, 1, out);
}

int
wa_sha256_parts(const wa_part_t *parts, size_t n, uint8_t out[WA_SHA256_LEN])
{
    return s_digest_parts("SHA256", parts, n, out);
}

static int
s_hmac_parts(const char *digest, const void *key, size_t key_len,
             const wa_part_t *parts, size_t n, uint8_t *out, size_t out_len)
{
    static const uint8_t empty_key[1] = {0};
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac) {
        return -1;
    }
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    int rc = -1;
    if (!ctx) {
        goto cleanup;
    }
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, params) != 1) {
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len > 0 &&
            EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1) {
            goto cleanup;
        }
    }
    size_t written = 0;
    if (EVP_MAC_final(ctx, out, &written, out_len) == 1 && written == out_len) {
        rc = 0;
    }
cleanup:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

int
wa_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
               uint8_t out[WA_SHA256_LEN])
{
    wa_part_t part = {data, len};
    return s_hmac_parts("SHA256", key, key_len, &part, 1, out, WA_SHA256_LEN);
}

int
wa_hmac_sha512(const void *key, size_t key_len, const void *data, size_t len,
               uint8_t out[WA_SHA512_LEN])
{
    wa_part_t part = {data, len};
    return s_hmac_parts("SHA512", key, key_len, &part, 1, out, WA_SHA512_LEN);
}

int
wa_hmac_sha256_parts(const void *key, size_t key_len, const wa_part_t *parts,
                     size_t n, uint8_t out[WA_SHA256_LEN])
{
    return s_hmac_parts("SHA256", key, key_len, parts, n, out, WA_SHA256_LEN);
}

int
wa_hmac_sha512_parts(const void *key, size_t key_len, const wa_part_t *parts,
                     size_t n, uint8_t out[WA_SHA512_LEN])
{
    return s_hmac_parts("SHA512", key, key_len, parts, n, out, WA_SHA512_LEN);
}

//  HKDF through EVP_KDF; mode is one of EVP_KDF_HKDF_MODE_*.
static int
s_hkdf(int mode, const void *salt, size_t salt_len, const void *key,
       size_t key_len, const void *info, size_t info_len, uint8_t *out,
       size_t out_len)
{
    static const uint8_t zeros[WA_SHA256_LEN] = {0};
    if (out_len == 0 || !out) {
        return -1;
    }
    if (mode != EVP_KDF_HKDF_MODE_EXTRACT_ONLY &&
        out_len > 255 * WA_SHA256_LEN) {
        return -1;
    }
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (!kdf) {
        return -1;
    }
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!ctx) {
        return -1;
    }
    //  No salt is defined as HashLen zero bytes (RFC 5869 2.2).
    if (!salt || salt_len == 0) {
        salt = zeros;
        salt_len = sizeof(zeros);
    }
    //  OpenSSL rejects a zero-length key parameter. In the extract step
    //  the input key material is the HMAC *message* (the salt is the HMAC
    //  key), so an empty one cannot be padded: compute PRK = HMAC(salt, "")
    //  here and go on with expand only. (The Noise split needs this case.)
    if ((!key || key_len == 0) && mode != EVP_KDF_HKDF_MODE_EXPAND_ONLY) {
        EVP_KDF_CTX_free(ctx);
        uint8_t prk[WA_SHA256_LEN];
        if (wa_hmac_sha256(salt, salt_len, "", 0, prk) != 0) {
            return -1;
        }
        int rc = 0;
        if (mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY) {
            memcpy(out, prk, out_len < sizeof prk ? out_len : sizeof prk);
        }
        else {
            rc = s_hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk,
                        sizeof prk, info, info_len, out, out_len);
        }
        wa_crypto_wipe(prk, sizeof prk);
        return rc;
    }
    OSSL_PARAM params[6];
    size_t p = 0;
    params[p++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                   (char *)"SHA256", 0);
    params[p++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[p++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                    (void *)key, key_len);
    if (mode != EVP_KDF_HKDF_MODE_EXPAND_ONLY) {
        params[p++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                        (void *)salt, salt_len);
    }
    if (info && info_len > 0) {
        params[p++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                        (void *)info, info_len);
    }
    params[p] = OSSL_PARAM_construct_end();
    int rc = EVP_KDF_derive(ctx, out, out_len, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(ctx);
    return rc;
}

int
wa_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
               size_t ikm_len, const void *info, size_t info_len, uint8_t *out,
               size_t out_len)
{
    return s_hkdf(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, salt, salt_len, ikm,
                  ikm_len, info, info_len, out, out_len);
}

int
wa_hkdf_sha256_extract(const void *salt, size_t salt_len, const void *ikm,
                       size_t ikm_len, uint8_t prk[WA_SHA256_LEN])
{
    return s_hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, salt_len, ikm, ikm_len,
                  NULL, 0, prk, WA_SHA256_LEN);
}

int
wa_hkdf_sha256_expand(const uint8_t prk[WA_SHA256_LEN], const void *info,
                      size_t info_len, uint8_t *out, size_t out_len)
{
    return s_hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk, WA_SHA256_LEN,
                  info, info_len, out, out_len);
}

int
wa_pbkdf2_sha256(const void *password, size_t password_len, const void *salt,
                 size_t salt_len, uint32_t iterations, uint8_t *out,
                 size_t out_len)
{
    if (iterations == 0 || iterations > INT32_MAX || out_len == 0 ||
        out_len > INT32_MAX || password_len > INT32_MAX ||
        salt_len > INT32_MAX) {
        return -1;
    }
    static const uint8_t empty[1] = {0};
    int ok = PKCS5_PBKDF2_HMAC(
        password_len ? password : (const void *)empty, (int)password_len,
        salt_len ? salt : (const void *)empty, (int)salt_len, (int)iterations,
        EVP_sha256(), (int)out_len, out);
    return ok == 1 ? 0 : -1;
}

//  OpenSSL takes int lengths; refuse anything larger.
#define S_MAX_CHUNK ((size_t)INT32_MAX - 64)

static int
s_gcm(bool enc, const uint8_t *key, const uint8_t *iv, size_t iv_len,
      const void *aad, size_t aad_len, const uint8_t *in, size_t len,
      uint8_t *out, uint8_t *tag)
{
    if (!key || !iv || iv_len == 0 || iv_len > 64 || len > S_MAX_CHUNK ||
        aad_len > S_MAX_CHUNK) {
        return -1;
    }
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx) {
        return -1;
    }
    int rc = -1;
    int n = 0;
    if (EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), NULL, NULL, enc ? 1 : 0,
                           NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL) !=
            1 ||
        EVP_CipherInit_ex2(ctx, NULL, key, iv, enc ? 1 : 0, NULL) != 1) {
        goto cleanup;
    }
    if (aad && aad_len > 0 &&
        EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) {
        goto cleanup;
    }
    if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1) {
        goto cleanup;
    }
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, WA_GCM_TAG_LEN,
                                    tag) != 1) {
        goto cleanup;
    }
    uint8_t scratch[WA_AES_BLOCK_LEN];
    if (EVP_CipherFinal_ex(ctx, scratch, &n) != 1) {
        goto cleanup;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, WA_GCM_TAG_LEN,
                                   tag) != 1) {
        goto cleanup;
    }
    rc = 0;
cleanup:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int
wa_aes_gcm_encrypt(const uint8_t key[WA_AES_KEY_LEN], const uint8_t *iv,
                   size_t iv_len, const void *aad, size_t aad_len,
                   const void *in, size_t len, uint8_t *out)
{
    if (!out || (len > 0 && !in)) {
        return -1;
    }
    return s_gcm(true, key, iv, iv_len, aad, aad_len, in, len, out, out + len);
}

int
wa_aes_gcm_decrypt(const uint8_t key[WA_AES_KEY_LEN], const uint8_t *iv,
                   size_t iv_len, const void *aad, size_t aad_len,
                   const void *in, size_t len, uint8_t *out)
{
    if (!in || len < WA_GCM_TAG_LEN || (len > WA_GCM_TAG_LEN && !out)) {
        return -1;
    }
    size_t ct_len = len - WA_GCM_TAG_LEN;
    uint8_t tag[WA_GCM_TAG_LEN];
    memcpy(tag, (const uint8_t *)in + ct_len, WA_GCM_TAG_LEN);
    int rc = s_gcm(false, key, iv, iv_len, aad, aad_len, in, ct_len, out, tag);
    if (rc != 0 && ct_len > 0) {
        wa_crypto_wipe(out, ct_len);
    }
    return rc;
}

struct _wa_gcm_t {
    EVP_CIPHER_CTX *ctx; //  keyed AES-256-GCM
    bool encrypt;        //  sealer or opener
};

wa_gcm_t *
wa_gcm_new(const uint8_t key[WA_AES_KEY_LEN], bool encrypt)
{
    if (!key) {
        return NULL;
    }
    wa_gcm_t *self = cm_alloc(sizeof(wa_gcm_t));
    self->encrypt = encrypt;
    self->ctx = EVP_CIPHER_CTX_new();
    if (!self->ctx || EVP_CipherInit_ex2(self->ctx, EVP_aes_256_gcm(), key,
                                         NULL, encrypt ? 1 : 0, NULL) != 1) {
        wa_gcm_destroy(&self);
    }
    return self;
}

void
wa_gcm_destroy(wa_gcm_t **self_p)
{
    if (self_p && *self_p) {
        wa_gcm_t *self = *self_p;
        EVP_CIPHER_CTX_free(self->ctx);
        free(self);
        *self_p = NULL;
    }
}

//  One message with the keyed context: a new IV resets it (the key stays).
static int
s_gcm_keyed(wa_gcm_t *self, const uint8_t *iv, const void *aad, size_t aad_len,
            const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    if (!iv || len > S_MAX_CHUNK || aad_len > S_MAX_CHUNK) {
        return -1;
    }
    bool enc = self->encrypt;
    int n = 0;
    if (EVP_CipherInit_ex2(self->ctx, NULL, NULL, iv, enc ? 1 : 0, NULL) != 1) {
        return -1;
    }
    if (aad && aad_len > 0 &&
        EVP_CipherUpdate(self->ctx, NULL, &n, aad, (int)aad_len) != 1) {
        return -1;
    }
    if (len > 0 && EVP_CipherUpdate(self->ctx, out, &n, in, (int)len) != 1) {
        return -1;
    }
    if (!enc && EVP_CIPHER_CTX_ctrl(self->ctx, EVP_CTRL_GCM_SET_TAG,
                                    WA_GCM_TAG_LEN, tag) != 1) {
        return -1;
    }
    uint8_t scratch[WA_AES_BLOCK_LEN];
    if (EVP_CipherFinal_ex(self->ctx, scratch, &n) != 1) {
        return -1;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(self->ctx, EVP_CTRL_GCM_GET_TAG,
                                   WA_GCM_TAG_LEN, tag) != 1) {
        return -1;
    }
    return 0;
}

int
wa_gcm_seal(wa_gcm_t *self, const uint8_t iv[WA_GCM_IV_LEN], const void *aad,
            size_t aad_len, const void *in, size_t len, uint8_t *out)
{
    assert(self);
    if (!self->encrypt || !out || (len > 0 && !in)) {
        return -1;
    }
    return s_gcm_keyed(self, iv, aad, aad_len, in, len, out, out + len);
}

int
wa_gcm_open(wa_gcm_t *self, const uint8_t iv[WA_GCM_IV_LEN], const void *aad,
            size_t aad_len, const void *in, size_t len, uint8_t *out)
{
    assert(self);
    if (self->encrypt || !in || len < WA_GCM_TAG_LEN ||
        (len > WA_GCM_TAG_LEN && !out)) {
        return -1;
    }
    size_t ct_len = len - WA_GCM_TAG_LEN;
    uint8_t tag[WA_GCM_TAG_LEN];
    memcpy(tag, (const uint8_t *)in + ct_len, WA_GCM_TAG_LEN);
    int rc = s_gcm_keyed(self, iv, aad, aad_len, in, ct_len, out, tag);
    if (rc != 0 && ct_len > 0) {
        wa_crypto_wipe(out, ct_len);
    }
    return rc;
}

//  One-shot AES-256 in `cipher` mode; padding on/off as given.
static int
s_aes(const EVP_CIPHER *cipher, bool enc, bool padding, const uint8_t *key,
      const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out,
      size_t *out_len)
{
    if (!key || !iv || !out || (len > 0 && !in) || len > S_MAX_CHUNK) {
        return -1;
    }
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx) {
        return -1;
    }
    int rc = -1;
    int n1 = 0;
    int n2 = 0;
    if (EVP_CipherInit_ex2(ctx, cipher, key, iv, enc ? 1 : 0, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, padding ? 1 : 0) != 1) {
        goto cleanup;
    }
    if (len > 0 && EVP_CipherUpdate(ctx, out, &n1, in, (int)len) != 1) {
        goto cleanup;
    }
    if (EVP_CipherFinal_ex(ctx, out + n1, &n2) != 1) {
        goto cleanup;
    }
    if (out_len) {
        *out_len = (size_t)n1 + (size_t)n2;
    }
    rc = 0;
cleanup:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int
wa_aes_cbc_encrypt(const uint8_t key[WA_AES_KEY_LEN],
                   const uint8_t iv[WA_AES_BLOCK_LEN], const void *in,
                   size_t len, uint8_t *out, size_t *out_len)
{
    return s_aes(EVP_aes_256_cbc(), true, true, key, iv, in, len, out, out_len);
}

int
wa_aes_cbc_decrypt(const uint8_t key[WA_AES_KEY_LEN],
                   const uint8_t iv[WA_AES_BLOCK_LEN], const void *in,
                   size_t len, uint8_t *out, size_t *out_len)
{
    if (len == 0 || len % WA_AES_BLOCK_LEN) {
        return -1;
    }
    int rc =
        s_aes(EVP_aes_256_cbc(), false, true, key, iv, in, len, out, out_len);
    if (rc != 0 && out) {
        wa_crypto_wipe(out, len);
    }
    return rc;
}

int
wa_aes_ctr(const uint8_t key[WA_AES_KEY_LEN],
           const uint8_t iv[WA_AES_BLOCK_LEN], const void *in, size_t len,
           uint8_t *out)
{
    size_t n = 0;
    return s_aes(EVP_aes_256_ctr(), true, false, key, iv, in, len, out, &n);
}

bool
wa_crypto_equal(const void *a, const void *b, size_t len)
{
    if (len == 0) {
        return true;
    }
    return a && b && CRYPTO_memcmp(a, b, len) == 0;
}

void
wa_crypto_wipe(void *buf, size_t len)
{
    if (buf && len) {
        OPENSSL_cleanse(buf, len);
    }
}

void
wa_x25519_clamp(uint8_t priv[WA_X25519_LEN])
{
    priv[0] &= 248;
    priv[31] &= 127;
    priv[31] |= 64;
}

int
wa_x25519_keypair(uint8_t priv[WA_X25519_LEN], uint8_t pub[WA_X25519_LEN])
{
    if (wa_random(priv, WA_X25519_LEN) != 0) {
        return -1;
    }
    wa_x25519_clamp(priv);
    return wa_x25519_public(priv, pub);
}

int
wa_x25519_public(const uint8_t priv[WA_X25519_LEN], uint8_t pub[WA_X25519_LEN])
{
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
                                                 WA_X25519_LEN);
    if (!key) {
        return -1;
    }
    size_t len = WA_X25519_LEN;
    int rc =
        EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == WA_X25519_LEN
            ? 0
            : -1;
    EVP_PKEY_free(key);
    return rc;
}

int
wa_x25519_shared(const uint8_t priv[WA_X25519_LEN],
                 const uint8_t peer_pub[WA_X25519_LEN],
                 uint8_t out[WA_X25519_LEN])
{
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
                                                 WA_X25519_LEN);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL,
                                                 peer_pub, WA_X25519_LEN);
    EVP_PKEY_CTX *ctx = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    int rc = -1;
    size_t len = WA_X25519_LEN;
    //  OpenSSL refuses an all-zero result (low-order peer point).
    if (ctx && peer && EVP_PKEY_derive_init(ctx) == 1 &&
        EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
        EVP_PKEY_derive(ctx, out, &len) == 1 && len == WA_X25519_LEN) {
        rc = 0;
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(key);
    return rc;
}

int
wa_xeddsa_sign(const uint8_t priv[WA_X25519_LEN], const void *msg, size_t len,
               uint8_t sig[WA_XEDDSA_SIG_LEN])
{
    if (!priv || !sig || (len > 0 && !msg)) {
        return -1;
    }
    wa_signal_t *signal = wa_signal_new();
    if (!signal) {
        return -1;
    }
    int rc = -1;
    signal_buffer *out = NULL;
    ec_private_key *key = wa_signal_private_key(signal, priv);
    if (key &&
        curve_calculate_signature(wa_signal_context(signal), &out, key,
                                  len ? msg : (const void *)"", len) == 0 &&
        out && signal_buffer_len(out) == WA_XEDDSA_SIG_LEN) {
        memcpy(sig, signal_buffer_data(out), WA_XEDDSA_SIG_LEN);
        rc = 0;
    }
    signal_buffer_free(out);
    SIGNAL_UNREF(key);
    wa_signal_destroy(&signal);
    return rc;
}

int
wa_xeddsa_verify(const uint8_t pub[WA_X25519_LEN], const void *msg, size_t len,
                 const uint8_t *sig, size_t sig_len)
{
    if (!pub || !sig || sig_len != WA_XEDDSA_SIG_LEN || (len > 0 && !msg)) {
        return -1;
    }
    //  Decoding a public key needs no provider callbacks: pass no context.
    uint8_t djb[WA_DJB_KEY_LEN];
    wa_signal_djb_encode(pub, djb);
    ec_public_key *key = NULL;
    if (curve_decode_point(&key, djb, sizeof(djb), NULL) != 0 || !key) {
        return -1;
    }
    int valid = curve_verify_signature(key, len ? msg : (const void *)"", len,
                                       sig, sig_len);
    SIGNAL_UNREF(key);
    return valid == 1 ? 0 : -1;
}

int
wa_crypto_warmup(void)
{
    uint8_t key[WA_AES_KEY_LEN] = {1}, iv[WA_AES_BLOCK_LEN] = {2};
    uint8_t in[WA_AES_BLOCK_LEN] = {3}, out[WA_CBC_ENC_LEN(sizeof in) + 16];
    uint8_t back[sizeof out], d[WA_SHA512_LEN];
    size_t n = 0, m = 0;
    int rc = 0;
    rc |= wa_sha256(in, sizeof in, d);
    rc |= wa_sha512(in, sizeof in, d);
    rc |= wa_hmac_sha256(key, sizeof key, in, sizeof in, d);
    rc |= wa_hmac_sha512(key, sizeof key, in, sizeof in, d);
    rc |= wa_hkdf_sha256(key, sizeof key, in, sizeof in, "w", 1, d, 32);
    rc |= wa_aes_gcm_encrypt(key, iv, 12, NULL, 0, in, sizeof in, out);
    rc |= wa_aes_gcm_decrypt(key, iv, 12, NULL, 0, out, sizeof in + 16, back);
    rc |= wa_aes_cbc_encrypt(key, iv, in, sizeof in, out, &n);
    rc |= wa_aes_cbc_decrypt(key, iv, out, n, back, &m);
    rc |= wa_aes_ctr(key, iv, in, sizeof in, out);
    const char *names[] = {"AES-256-CBC", "AES-256-CTR", "AES-256-GCM"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, names[i], NULL);
        rc |= c ? 0 : -1;
        EVP_CIPHER_free(c);
    }
    wa_crypto_wipe(back, sizeof back);
    return rc ? -1 : 0;
}

//  --------------------------------------------------------------------------
//  Self test

static int
s_failing_random(void *arg, uint8_t *buf, size_t len)
{
    return -1;
}

//  A pairing.json ADV account signature (made by Baileys-era tooling),
//  checked here so XEdDSA verification is tested against outside data.
static void
s_test_foreign_signature(void)
{
    uint8_t details[16];
    size_t details_len =
        wa_vectors_unhex_into("08d2091080e2cfaa061803", details, 16);
    uint8_t account_pub[32];
    wa_vectors_unhex_into(
        "cdf07dc74f25d841e43596859c44c914097fa3de9da0397d5ec6dd3a35781303",
        account_pub, 32);
    uint8_t companion_pub[32];
    wa_vectors_unhex_into(
        "577062f4e0947d1db255ce32afd0a41727393112ed47291b9c3e1e218aaba355",
        companion_pub, 32);
    uint8_t sig[64];
    wa_vectors_unhex_into(
        "81ddeebf3b27dce2e2314f7b46abfbc4d50d3944d3a9befe31f30efc6df9f1a6"
        "23f59a922188e2b744b1493a2ee38bf7e42723a4ec25eae6e5f7f1e78cab3006",
        sig, 64);
    uint8_t msg[2 + 16 + 32];
    msg[0] = 0x06;
    msg[1] = 0x00;
    memcpy(msg + 2, details, details_len);
    memcpy(msg + 2 + details_len, companion_pub, 32);
    size_t msg_len = 2 + details_len + 32;
    assert(wa_xeddsa_verify(account_pub, msg, msg_len, sig, 64) == 0);
    msg[1] = 0x01;
    assert(wa_xeddsa_verify(account_pub, msg, msg_len, sig, 64) == -1);
}

void
wa_crypto_test(bool verbose)
{
    printf(" * wa_crypto: ");
    assert(wa_crypto_warmup() == 0);
    uint8_t buf[256];
    uint8_t out[256];
    uint8_t key[32];

    //  Hashes (FIPS 180 "abc")
    assert(wa_sha256("abc", 3, out) == 0);
    assert(wa_vectors_hex_eq(out, 32,
                             "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad"));
    assert(wa_sha512("abc", 3, out) == 0);
    assert(wa_vectors_hex_eq(
        out, 64,
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee6"
        "4b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e"
        "2a9ac94fa54ca49f"));
    wa_part_t abc[3] = {{"a", 1}, {NULL, 0}, {"bc", 2}};
    assert(wa_sha256_parts(abc, 3, buf) == 0);
    assert(wa_sha256("abc", 3, out) == 0);
    assert(memcmp(buf, out, 32) == 0);

    //  HMAC (RFC 4231 test case 2)
    const char *jefe_msg = "what do ya want for nothing?";
    assert(wa_hmac_sha256("Jefe", 4, jefe_msg, strlen(jefe_msg), out) == 0);
    assert(wa_vectors_hex_eq(out, 32,
                             "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843"));
    assert(wa_hmac_sha512("Jefe", 4, jefe_msg, strlen(jefe_msg), out) == 0);
    assert(wa_vectors_hex_eq(
        out, 64,
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7"
        "ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b"
        "636e070a38bce737"));
    wa_part_t jefe_parts[2] = {{jefe_msg, 10}, {jefe_msg + 10, 18}};
    assert(wa_hmac_sha256_parts("Jefe", 4, jefe_parts, 2, buf) == 0);
    assert(wa_hmac_sha256("Jefe", 4, jefe_msg, 28, out) == 0);
    assert(memcmp(buf, out, 32) == 0);
    assert(wa_hmac_sha512_parts("Jefe", 4, jefe_parts, 2, buf) == 0);
    assert(wa_hmac_sha512("Jefe", 4, jefe_msg, 28, out) == 0);
    assert(memcmp(buf, out, 64) == 0);
    //  Empty key and empty message are valid HMAC inputs.
    assert(wa_hmac_sha256(NULL, 0, NULL, 0, out) == 0);
    assert(wa_vectors_hex_eq(out, 32,
                             "b613679a0814d9ec772f95d778c35fc5"
                             "ff1697c493715653c6c712144292c5ad"));

    //  HKDF-Extract with empty input key material is HMAC(salt, ""): with
    //  no salt that is HMAC with a zero key over nothing (above). A bug
    //  once MACed one zero byte instead.
    uint8_t prk0[32];
    assert(wa_hkdf_sha256_extract(NULL, 0, NULL, 0, prk0) == 0);
    assert(wa_vectors_hex_eq(prk0, 32,
                             "b613679a0814d9ec772f95d778c35fc5"
                             "ff1697c493715653c6c712144292c5ad"));
    uint8_t okm0[48], okm1[48];
    assert(wa_hkdf_sha256((const uint8_t *)"salt", 4, NULL, 0,
                          (const uint8_t *)"i", 1, okm0, sizeof okm0) == 0);
    assert(wa_hmac_sha256("salt", 4, "", 0, prk0) == 0);
    assert(wa_hkdf_sha256_expand(prk0, "i", 1, okm1, sizeof okm1) == 0);
    assert(memcmp(okm0, okm1, sizeof okm0) == 0);

    //  HKDF (RFC 5869 test cases 1 and 3)
    uint8_t ikm[22];
    memset(ikm, 0x0b, sizeof(ikm));
    uint8_t salt[13];
    for (int i = 0; i < 13; i++) {
        salt[i] = (uint8_t)i;
    }
    uint8_t info[10];
    for (int i = 0; i < 10; i++) {
        info[i] = (uint8_t)(0xf0 + i);
    }
    assert(wa_hkdf_sha256(salt, 13, ikm, 22, info, 10, out, 42) == 0);
    assert(wa_vectors_hex_eq(
        out, 42,
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56"
        "ecc4c5bf34007208d5b887185865"));
    uint8_t prk[32];
    assert(wa_hkdf_sha256_extract(salt, 13, ikm, 22, prk) == 0);
    assert(wa_vectors_hex_eq(prk, 32,
                             "077709362c2e32df0ddc3f0dc47bba63"
                             "90b6c73bb50f9c3122ec844ad7c2b3e5"));
    assert(wa_hkdf_sha256_expand(prk, info, 10, buf, 42) == 0);
    assert(memcmp(buf, out, 42) == 0);
    assert(wa_hkdf_sha256(NULL, 0, ikm, 22, NULL, 0, out, 42) == 0);
    assert(wa_vectors_hex_eq(
        out, 42,
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f"
        "3c738d2d9d201395faa4b61a96c8"));
    //  No salt equals 32 zero bytes (the Noise/WhatsApp convention).
    uint8_t zeros[32] = {0};
    assert(wa_hkdf_sha256(zeros, 32, ikm, 22, NULL, 0, buf, 42) == 0);
    assert(memcmp(buf, out, 42) == 0);
    assert(wa_hkdf_sha256(NULL, 0, ikm, 22, NULL, 0, out, 0) == -1);
    assert(wa_hkdf_sha256(NULL, 0, ikm, 22, NULL, 0, out, 255 * 32 + 1) == -1);

    //  PBKDF2-HMAC-SHA256 (RFC 7914 section 11 style vectors)
    assert(wa_pbkdf2_sha256("password", 8, "salt", 4, 1, out, 32) == 0);
    assert(wa_vectors_hex_eq(out, 32,
                             "120fb6cffcf8b32c43e7225256c4f837"
                             "a86548c92ccc35480805987cb70be17b"));
    assert(wa_pbkdf2_sha256("password", 8, "salt", 4, 4096, out, 32) == 0);
    assert(wa_vectors_hex_eq(out, 32,
                             "c5e478d59288c841aa530db6845c4c8d"
                             "962893a001ce4e11a4963873aa98134a"));
    assert(wa_pbkdf2_sha256("password", 8, "salt", 4, 0, out, 32) == -1);

    //  AES-256-GCM (McGrew/Viega test cases 13, 14 and 16)
    memset(key, 0, 32);
    uint8_t iv12[12] = {0};
    assert(wa_aes_gcm_encrypt(key, iv12, 12, NULL, 0, NULL, 0, out) == 0);
    assert(wa_vectors_hex_eq(out, 16, "530f8afbc74536b9a963b4f1c4cb738b"));
    assert(wa_aes_gcm_decrypt(key, iv12, 12, NULL, 0, out, 16, buf) == 0);
    memset(buf, 0, 16);
    assert(wa_aes_gcm_encrypt(key, iv12, 12, NULL, 0, buf, 16, out) == 0);
    assert(wa_vectors_hex_eq(out, 32,
                             "cea7403d4d606b6e074ec5d3baf39d18"
                             "d0d1c8a799996bf0265b98b5d48ab919"));
    wa_vectors_unhex_into("feffe9928665731c6d6a8f9467308308"
                          "feffe9928665731c6d6a8f9467308308",
                          key, 32);
    wa_vectors_unhex_into("cafebabefacedbaddecaf888", iv12, 12);
    uint8_t aad[20];
    wa_vectors_unhex_into("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, 20);
    uint8_t pt[60];
    wa_vectors_unhex_into(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"
        "8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
        "ba637b39",
        pt, 60);
    assert(wa_aes_gcm_encrypt(key, iv12, 12, aad, 20, pt, 60, out) == 0);
    assert(wa_vectors_hex_eq(
        out, 76,
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
        "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
        "bcc9f662"
        "76fc6ece0f4e1768cddf8853bb2d551b"));
    assert(wa_aes_gcm_decrypt(key, iv12, 12, aad, 20, out, 76, buf) == 0);
    assert(memcmp(buf, pt, 60) == 0);
    out[3] ^= 1;
    assert(wa_aes_gcm_decrypt(key, iv12, 12, aad, 20, out, 76, buf) == -1);
    out[3] ^= 1;
    aad[0] ^= 1;
    assert(wa_aes_gcm_decrypt(key, iv12, 12, aad, 20, out, 76, buf) == -1);
    aad[0] ^= 1;
    out[75] ^= 0x80;
    assert(wa_aes_gcm_decrypt(key, iv12, 12, aad, 20, out, 76, buf) == -1);
    assert(wa_aes_gcm_decrypt(key, iv12, 12, aad, 20, out, 15, buf) == -1);
    out[75] ^= 0x80;

    //  Keyed GCM objects give the same bytes, message after message, and
    //  keep working after a bad tag
    wa_gcm_t *sealer = wa_gcm_new(key, true);
    wa_gcm_t *opener = wa_gcm_new(key, false);
    assert(sealer && opener);
    uint8_t out2[76];
    for (int round = 0; round < 3; round++) {
        assert(wa_gcm_seal(sealer, iv12, aad, 20, pt, 60, out2) == 0);
        assert(memcmp(out2, out, 76) == 0);
        assert(wa_gcm_open(opener, iv12, aad, 20, out2, 76, buf) == 0);
        assert(memcmp(buf, pt, 60) == 0);
        out2[10] ^= 1;
        assert(wa_gcm_open(opener, iv12, aad, 20, out2, 76, buf) == -1);
        assert(wa_gcm_open(opener, iv12, aad, 20, out2, 15, buf) == -1);
    }
    uint8_t iv_b[12];
    memcpy(iv_b, iv12, 12);
    iv_b[11] ^= 1;
    assert(wa_gcm_seal(sealer, iv_b, NULL, 0, pt, 60, out2) == 0);
    assert(wa_aes_gcm_encrypt(key, iv_b, 12, NULL, 0, pt, 60, out) == 0);
    assert(memcmp(out2, out, 76) == 0);
    assert(wa_gcm_open(opener, iv_b, NULL, 0, out2, 76, buf) == 0);
    assert(memcmp(buf, pt, 60) == 0);
    assert(wa_gcm_open(sealer, iv_b, NULL, 0, out2, 76, buf) == -1);
    assert(wa_gcm_seal(opener, iv_b, NULL, 0, pt, 60, out2) == -1);
    wa_gcm_destroy(&sealer);
    wa_gcm_destroy(&opener);
    assert(!sealer && !opener);

    //  AES-256-CBC and CTR (NIST SP 800-38A F.2.5 and F.5.5, block 1)
    wa_vectors_unhex_into("603deb1015ca71be2b73aef0857d7781"
                          "1f352c073b6108d72d9810a30914dff4",
                          key, 32);
    uint8_t iv16[16];
    wa_vectors_unhex_into("000102030405060708090a0b0c0d0e0f", iv16, 16);
    wa_vectors_unhex_into("6bc1bee22e409f96e93d7e117393172a", pt, 16);
    size_t n = 0;
    assert(wa_aes_cbc_encrypt(key, iv16, pt, 16, out, &n) == 0);
    assert(n == WA_CBC_ENC_LEN(16) && n == 32);
    assert(wa_vectors_hex_eq(out, 16, "f58c4c04d6e5f1ba779eabfb5f7bfbd6"));
    size_t m = 0;
    assert(wa_aes_cbc_decrypt(key, iv16, out, n, buf, &m) == 0);
    assert(m == 16 && memcmp(buf, pt, 16) == 0);
    //  Every plaintext length round-trips; broken padding is refused.
    for (size_t len = 0; len <= 40; len++) {
        memset(pt, (int)len, sizeof(pt));
        assert(wa_aes_cbc_encrypt(key, iv16, pt, len, out, &n) == 0);
        assert(n == WA_CBC_ENC_LEN(len));
        assert(wa_aes_cbc_decrypt(key, iv16, out, n, buf, &m) == 0);
        assert(m == len && memcmp(buf, pt, len) == 0);
    }
    assert(wa_aes_cbc_decrypt(key, iv16, out, 0, buf, &m) == -1);
    assert(wa_aes_cbc_decrypt(key, iv16, out, 17, buf, &m) == -1);
    memset(pt, 0x11, 16);
    assert(wa_aes_cbc_decrypt(key, iv16, pt, 16, buf, &m) == -1);
    wa_vectors_unhex_into("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", iv16, 16);
    wa_vectors_unhex_into("6bc1bee22e409f96e93d7e117393172a", pt, 16);
    assert(wa_aes_ctr(key, iv16, pt, 16, out) == 0);
    assert(wa_vectors_hex_eq(out, 16, "601ec313775789a5b7a7f504bbf3d228"));
    assert(wa_aes_ctr(key, iv16, out, 16, out) == 0);
    assert(memcmp(out, pt, 16) == 0);

    //  Constant-time compare
    assert(wa_crypto_equal("abcd", "abcd", 4));
    assert(!wa_crypto_equal("abcd", "abce", 4));
    assert(wa_crypto_equal(NULL, NULL, 0));

    //  X25519 (RFC 7748 section 6.1)
    uint8_t alice[32];
    uint8_t bob_pub[32];
    uint8_t pub[32];
    wa_vectors_unhex_into(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        alice, 32);
    wa_vectors_unhex_into(
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
        bob_pub, 32);
    assert(wa_x25519_public(alice, pub) == 0);
    assert(wa_vectors_hex_eq(pub, 32,
                             "8520f0098930a754748b7ddcb43ef75a"
                             "0dbf3a0d26381af4eba4a98eaa9b4e6a"));
    assert(wa_x25519_shared(alice, bob_pub, out) == 0);
    assert(wa_vectors_hex_eq(out, 32,
                             "4a5d9d5ba4ce2de1728e3bf480350f25"
                             "e07e21c947d19e3376f09b3c1e161742"));
    uint8_t low_order[32] = {0};
    assert(wa_x25519_shared(alice, low_order, out) == -1);

    //  Key generation goes through the replaceable random source.
    uint8_t counter = 0;
    wa_crypto_set_random(wa_vectors_counter_random, &counter);
    uint8_t priv[32];
    assert(wa_x25519_keypair(priv, pub) == 0);
    for (int i = 0; i < 32; i++) {
        buf[i] = (uint8_t)i;
    }
    wa_x25519_clamp(buf);
    assert(memcmp(priv, buf, 32) == 0);
    assert(wa_x25519_public(priv, out) == 0);
    assert(memcmp(pub, out, 32) == 0);
    wa_crypto_set_random(s_failing_random, NULL);
    assert(wa_random(buf, 4) == -1);
    assert(wa_x25519_keypair(priv, pub) == -1);
    wa_crypto_set_random(NULL, NULL);
    assert(wa_random(buf, 32) == 0);

    //  Shared secrets agree both ways.
    uint8_t priv2[32];
    uint8_t pub2[32];
    assert(wa_x25519_keypair(priv, pub) == 0);
    assert(wa_x25519_keypair(priv2, pub2) == 0);
    assert(wa_x25519_shared(priv, pub2, buf) == 0);
    assert(wa_x25519_shared(priv2, pub, out) == 0);
    assert(memcmp(buf, out, 32) == 0);

    //  XEdDSA: own signatures verify, flipped bits fail.
    uint8_t sig[64];
    const char *msg = "wharf xeddsa";
    assert(wa_xeddsa_sign(priv, msg, strlen(msg), sig) == 0);
    assert(wa_xeddsa_verify(pub, msg, strlen(msg), sig, 64) == 0);
    assert(wa_xeddsa_verify(pub2, msg, strlen(msg), sig, 64) == -1);
    assert(wa_xeddsa_verify(pub, msg, strlen(msg), sig, 63) == -1);
    assert(wa_xeddsa_verify(pub, msg, strlen(msg) - 1, sig, 64) == -1);
    for (int bit = 0; bit < 512; bit += 37) {
        sig[bit / 8] ^= (uint8_t)(1 << (bit % 8));
        assert(wa_xeddsa_verify(pub, msg, strlen(msg), sig, 64) == -1);
        sig[bit / 8] ^= (uint8_t)(1 << (bit % 8));
    }
    assert(wa_xeddsa_sign(priv, NULL, 0, sig) == 0);
    assert(wa_xeddsa_verify(pub, NULL, 0, sig, 64) == 0);
    //  An unclamped private key signs as its clamped form.
    memcpy(buf, priv, 32);
    buf[0] |= 7;
    buf[31] |= 128;
    assert(wa_xeddsa_sign(buf, msg, strlen(msg), sig) == 0);
    assert(wa_xeddsa_verify(pub, msg, strlen(msg), sig, 64) == 0);
    //  Fixed randomness makes signatures reproducible.
    uint8_t sig2[64];
    counter = 7;
    wa_crypto_set_random(wa_vectors_counter_random, &counter);
    assert(wa_xeddsa_sign(priv, msg, strlen(msg), sig) == 0);
    counter = 7;
    assert(wa_xeddsa_sign(priv, msg, strlen(msg), sig2) == 0);
    wa_crypto_set_random(NULL, NULL);
    assert(memcmp(sig, sig2, 64) == 0);
    assert(wa_xeddsa_sign(priv, msg, strlen(msg), sig2) == 0);
    assert(memcmp(sig, sig2, 64) != 0);
    s_test_foreign_signature();

    if (verbose) {
        printf("(vectors: FIPS 180, RFC 4231/5869/7748, SP 800-38A) ");
    }
    printf("OK\n");
}
