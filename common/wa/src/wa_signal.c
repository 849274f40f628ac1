/*  wa_signal - libsignal-protocol-c context with an OpenSSL crypto provider

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <curve.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_signal.h"
#include "wa/wa_vectors.h"

struct _wa_signal_t {
    signal_context *ctx; //  libsignal global context, provider installed
    EVP_MAC_CTX *hmac;   //  keyed HMAC-SHA256, duplicated per HMAC (a
                         //  fetch of the algorithm and digest per HMAC
                         //  costs more than the HMAC), or NULL
    EVP_CIPHER *cbc;     //  AES-256-CBC fetched once (message bodies), or
                         //  NULL
};

//  libsignal log lines are diagnostics: never above warn.
static void
s_log(int level, const char *message, size_t len, void *user_data)
{
    int n = len > 1000 ? 1000 : (int)len;
    if (level <= SG_LOG_WARNING) {
        cm_log_warn("libsignal reported a problem", "detail=\"%.*s\"", n,
                    message);
    } else {
        cm_log_debug("libsignal", "detail=\"%.*s\"", n, message);
    }
}

static int
s_random(uint8_t *data, size_t len, void *user_data)
{
    return wa_random(data, len) == 0 ? 0 : SG_ERR_UNKNOWN;
}

static int
s_hmac_init(void **hmac_context, const uint8_t *key, size_t key_len,
            void *user_data)
{
    static const uint8_t empty_key[1] = {0};
    wa_signal_t *owner = (wa_signal_t *)user_data;
    if (owner && owner->hmac) {
        EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(owner->hmac);
        if (!ctx) {
            return SG_ERR_NOMEM;
        }
        if (EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, NULL) != 1) {
            EVP_MAC_CTX_free(ctx);
            return SG_ERR_UNKNOWN;
        }
        *hmac_context = ctx;
        return 0;
    }
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac) {
        return SG_ERR_UNKNOWN;
    }
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (!ctx) {
        return SG_ERR_NOMEM;
    }
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return SG_ERR_UNKNOWN;
    }
    *hmac_context = ctx;
    return 0;
}

static int
s_hmac_update(void *hmac_context, const uint8_t *data, size_t data_len,
              void *user_data)
{
    if (data_len == 0) {
        return 0;
    }
    return EVP_MAC_update(hmac_context, data, data_len) == 1 ? 0
                                                             : SG_ERR_UNKNOWN;
}

static int
s_hmac_final(void *hmac_context, signal_buffer **output, void *user_data)
{
    uint8_t md[WA_SHA256_LEN];
    size_t len = 0;
    if (EVP_MAC_final(hmac_context, md, &len, sizeof(md)) != 1 ||
        len != sizeof(md)) {
        return SG_ERR_UNKNOWN;
    }
    *output = signal_buffer_create(md, len);
    return *output ? 0 : SG_ERR_NOMEM;
}

static void
s_hmac_cleanup(void *hmac_context, void *user_data)
{
    EVP_MAC_CTX_free(hmac_context);
}

static int
s_sha512_init(void **digest_context, void *user_data)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        return SG_ERR_NOMEM;
    }
    if (EVP_DigestInit_ex2(ctx, EVP_sha512(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return SG_ERR_UNKNOWN;
    }
    *digest_context = ctx;
    return 0;
}

static int
s_sha512_update(void *digest_context, const uint8_t *data, size_t data_len,
                void *user_data)
{
    if (data_len == 0) {
        return 0;
    }
    return EVP_DigestUpdate(digest_context, data, data_len) == 1
               ? 0
               : SG_ERR_UNKNOWN;
}

//  Finalize and re-initialize, so the context can be reused (contract).
static int
s_sha512_final(void *digest_context, signal_buffer **output, void *user_data)
{
    uint8_t md[WA_SHA512_LEN];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(digest_context, md, &len) != 1 ||
        len != sizeof(md) ||
        EVP_DigestInit_ex2(digest_context, EVP_sha512(), NULL) != 1) {
        return SG_ERR_UNKNOWN;
    }
    *output = signal_buffer_create(md, len);
    return *output ? 0 : SG_ERR_NOMEM;
}

static void
s_sha512_cleanup(void *digest_context, void *user_data)
{
    EVP_MD_CTX_free(digest_context);
}

static const EVP_CIPHER *
s_cipher(int cipher, size_t key_len)
{
    if (cipher == SG_CIPHER_AES_CBC_PKCS5) {
        return key_len == 16   ? EVP_aes_128_cbc()
               : key_len == 24 ? EVP_aes_192_cbc()
               : key_len == 32 ? EVP_aes_256_cbc()
                               : NULL;
    }
    if (cipher == SG_CIPHER_AES_CTR_NOPADDING) {
        return key_len == 16   ? EVP_aes_128_ctr()
               : key_len == 24 ? EVP_aes_192_ctr()
               : key_len == 32 ? EVP_aes_256_ctr()
                               : NULL;
    }
    return NULL;
}

static int
s_crypt(bool enc, signal_buffer **output, int cipher, const uint8_t *key,
        size_t key_len, const uint8_t *iv, size_t iv_len, const uint8_t *in,
        size_t in_len, wa_signal_t *owner)
{
    const EVP_CIPHER *evp = s_cipher(cipher, key_len);
    if (evp && owner && owner->cbc && cipher == SG_CIPHER_AES_CBC_PKCS5 &&
        key_len == 32) {
        evp = owner->cbc; //  no implicit fetch per message
    }
    if (!evp || iv_len != 16 || in_len > INT32_MAX - 64 ||
        (!enc && cipher == SG_CIPHER_AES_CBC_PKCS5 &&
         (in_len == 0 || in_len % 16))) {
        return SG_ERR_INVAL;
    }
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t *out = cm_alloc(in_len + 16);
    int rc = SG_ERR_UNKNOWN;
    int n1 = 0;
    int n2 = 0;
    if (!ctx || EVP_CipherInit_ex2(ctx, evp, key, iv, enc ? 1 : 0, NULL) != 1) {
        goto cleanup;
    }
    if (in_len > 0 && EVP_CipherUpdate(ctx, out, &n1, in, (int)in_len) != 1) {
        goto cleanup;
    }
    if (EVP_CipherFinal_ex(ctx, out + n1, &n2) != 1) {
        goto cleanup;
    }
    *output = signal_buffer_create(out, (size_t)n1 + (size_t)n2);
    rc = *output ? 0 : SG_ERR_NOMEM;
cleanup:
    wa_crypto_wipe(out, in_len + 16);
    free(out);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static int
s_encrypt(signal_buffer **output, int cipher, const uint8_t *key,
          size_t key_len, const uint8_t *iv, size_t iv_len,
          const uint8_t *plaintext, size_t plaintext_len, void *user_data)
{
    return s_crypt(true, output, cipher, key, key_len, iv, iv_len, plaintext,
                   plaintext_len, (wa_signal_t *)user_data);
}

static int
s_decrypt(signal_buffer **output, int cipher, const uint8_t *key,
          size_t key_len, const uint8_t *iv, size_t iv_len,
          const uint8_t *ciphertext, size_t ciphertext_len, void *user_data)
{
    return s_crypt(false, output, cipher, key, key_len, iv, iv_len, ciphertext,
                   ciphertext_len, (wa_signal_t *)user_data);
}

void
wa_signal_provider(signal_crypto_provider *provider)
{
    assert(provider);
    memset(provider, 0, sizeof(*provider));
    provider->random_func = s_random;
    provider->hmac_sha256_init_func = s_hmac_init;
    provider->hmac_sha256_update_func = s_hmac_update;
    provider->hmac_sha256_final_func = s_hmac_final;
    provider->hmac_sha256_cleanup_func = s_hmac_cleanup;
    provider->sha512_digest_init_func = s_sha512_init;
    provider->sha512_digest_update_func = s_sha512_update;
    provider->sha512_digest_final_func = s_sha512_final;
    provider->sha512_digest_cleanup_func = s_sha512_cleanup;
    provider->encrypt_func = s_encrypt;
    provider->decrypt_func = s_decrypt;
    provider->user_data = NULL;
}

wa_signal_t *
wa_signal_new(void)
{
    wa_signal_t *self = cm_alloc(sizeof(*self));
    signal_crypto_provider provider;
    wa_signal_provider(&provider);
    //  The HMAC template: fetched and keyed once (a dummy key; each HMAC
    //  sets its own on a copy). Without it HMACs fetch as they go.
    void *hmac = NULL;
    if (s_hmac_init(&hmac, (const uint8_t *)"wharf", 5, NULL) == 0) {
        self->hmac = (EVP_MAC_CTX *)hmac;
    }
    self->cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    provider.user_data = self;
    if (signal_context_create(&self->ctx, self) != 0 ||
        signal_context_set_crypto_provider(self->ctx, &provider) != 0 ||
        signal_context_set_log_function(self->ctx, s_log) != 0) {
        wa_signal_destroy(&self);
        return NULL;
    }
    return self;
}

void
wa_signal_destroy(wa_signal_t **self_p)
{
    assert(self_p);
    wa_signal_t *self = *self_p;
    if (!self) {
        return;
    }
    if (self->ctx) {
        signal_context_destroy(self->ctx);
    }
    EVP_MAC_CTX_free(self->hmac);
    EVP_CIPHER_free(self->cbc);
    free(self);
    *self_p = NULL;
}

signal_context *
wa_signal_context(wa_signal_t *self)
{
    assert(self);
    return self->ctx;
}

void
wa_signal_djb_encode(const uint8_t pub[32], uint8_t out[WA_DJB_KEY_LEN])
{
    out[0] = WA_DJB_TYPE;
    memcpy(out + 1, pub, 32);
}

int
wa_signal_djb_decode(const uint8_t *in, size_t len, uint8_t out[32])
{
    if (!in) {
        return -1;
    }
    if (len == WA_DJB_KEY_LEN && in[0] == WA_DJB_TYPE) {
        memcpy(out, in + 1, 32);
        return 0;
    }
    if (len == 32) {
        memcpy(out, in, 32);
        return 0;
    }
    return -1;
}

ec_public_key *
wa_signal_public_key(wa_signal_t *self, const uint8_t pub[32])
{
    assert(self);
    uint8_t djb[WA_DJB_KEY_LEN];
    wa_signal_djb_encode(pub, djb);
    ec_public_key *key = NULL;
    if (curve_decode_point(&key, djb, sizeof(djb), self->ctx) != 0) {
        return NULL;
    }
    return key;
}

ec_private_key *
wa_signal_private_key(wa_signal_t *self, const uint8_t priv[32])
{
    assert(self);
    uint8_t clamped[32];
    memcpy(clamped, priv, 32);
    wa_x25519_clamp(clamped);
    ec_private_key *key = NULL;
    int rc = curve_decode_private_point(&key, clamped, 32, self->ctx);
    wa_crypto_wipe(clamped, sizeof(clamped));
    return rc == 0 ? key : NULL;
}

int
wa_signal_public_raw(const ec_public_key *key, uint8_t out[32])
{
    signal_buffer *buf = NULL;
    if (!key || ec_public_key_serialize(&buf, key) != 0) {
        return -1;
    }
    int rc = wa_signal_djb_decode(signal_buffer_data(buf),
                                  signal_buffer_len(buf), out);
    signal_buffer_free(buf);
    return rc;
}

int
wa_signal_private_raw(const ec_private_key *key, uint8_t out[32])
{
    signal_buffer *buf = NULL;
    if (!key || ec_private_key_serialize(&buf, key) != 0) {
        return -1;
    }
    int rc = -1;
    if (signal_buffer_len(buf) == 32) {
        memcpy(out, signal_buffer_data(buf), 32);
        rc = 0;
    }
    signal_buffer_bzero_free(buf);
    return rc;
}

//  --------------------------------------------------------------------------
//  Self test

void
wa_signal_test(bool verbose)
{
    printf(" * wa_signal: ");
    wa_signal_t *signal = wa_signal_new();
    assert(signal);
    signal_context *ctx = wa_signal_context(signal);
    assert(ctx);

    //  djb encoding
    uint8_t raw[32];
    uint8_t djb[33];
    uint8_t back[32];
    for (int i = 0; i < 32; i++) {
        raw[i] = (uint8_t)(i * 3);
    }
    wa_signal_djb_encode(raw, djb);
    assert(djb[0] == 0x05 && memcmp(djb + 1, raw, 32) == 0);
    assert(wa_signal_djb_decode(djb, 33, back) == 0);
    assert(memcmp(back, raw, 32) == 0);
    assert(wa_signal_djb_decode(raw, 32, back) == 0);
    assert(wa_signal_djb_decode(djb, 31, back) == -1);
    djb[0] = 0x06;
    assert(wa_signal_djb_decode(djb, 33, back) == -1);
    assert(wa_signal_djb_decode(NULL, 33, back) == -1);

    //  libsignal key generation uses our random source, and its keys
    //  agree with OpenSSL's X25519.
    uint8_t counter = 1;
    wa_crypto_set_random(wa_vectors_counter_random, &counter);
    ec_key_pair *pair = NULL;
    assert(curve_generate_key_pair(ctx, &pair) == 0);
    wa_crypto_set_random(NULL, NULL);
    uint8_t priv[32];
    uint8_t pub[32];
    uint8_t expect[32];
    assert(wa_signal_private_raw(ec_key_pair_get_private(pair), priv) == 0);
    assert(wa_signal_public_raw(ec_key_pair_get_public(pair), pub) == 0);
    for (int i = 0; i < 32; i++) {
        expect[i] = (uint8_t)(i + 1);
    }
    wa_x25519_clamp(expect);
    assert(memcmp(priv, expect, 32) == 0);
    assert(wa_x25519_public(priv, expect) == 0);
    assert(memcmp(pub, expect, 32) == 0);

    //  Agreement: libsignal versus OpenSSL.
    uint8_t priv2[32];
    uint8_t pub2[32];
    assert(wa_x25519_keypair(priv2, pub2) == 0);
    ec_public_key *pub2_key = wa_signal_public_key(signal, pub2);
    assert(pub2_key);
    uint8_t *shared = NULL;
    assert(curve_calculate_agreement(&shared, pub2_key,
                                     ec_key_pair_get_private(pair)) == 32);
    uint8_t shared2[32];
    assert(wa_x25519_shared(priv2, pub, shared2) == 0);
    assert(memcmp(shared, shared2, 32) == 0);
    free(shared);

    //  Signatures: ours verify with libsignal directly and vice versa.
    const char *msg = "provider test";
    uint8_t sig[64];
    assert(wa_xeddsa_sign(priv, msg, strlen(msg), sig) == 0);
    assert(curve_verify_signature(ec_key_pair_get_public(pair),
                                  (const uint8_t *)msg, strlen(msg), sig,
                                  64) == 1);
    signal_buffer *lsig = NULL;
    assert(curve_calculate_signature(ctx, &lsig, ec_key_pair_get_private(pair),
                                     (const uint8_t *)msg, strlen(msg)) == 0);
    assert(wa_xeddsa_verify(pub, msg, strlen(msg), signal_buffer_data(lsig),
                            signal_buffer_len(lsig)) == 0);
    signal_buffer_free(lsig);

    //  Private key objects from raw bytes round-trip (clamped).
    ec_private_key *pk = wa_signal_private_key(signal, priv2);
    assert(pk);
    assert(wa_signal_private_raw(pk, back) == 0);
    assert(memcmp(back, priv2, 32) == 0);
    SIGNAL_UNREF(pk);

    //  Provider callbacks against wa_crypto.
    signal_crypto_provider p;
    wa_signal_provider(&p);
    void *hctx = NULL;
    signal_buffer *outb = NULL;
    assert(p.hmac_sha256_init_func(&hctx, (const uint8_t *)"Jefe", 4, NULL) ==
           0);
    assert(p.hmac_sha256_update_func(hctx, (const uint8_t *)"what do ya ", 11,
                                     NULL) == 0);
    assert(p.hmac_sha256_update_func(hctx, (const uint8_t *)"want for nothing?",
                                     17, NULL) == 0);
    assert(p.hmac_sha256_final_func(hctx, &outb, NULL) == 0);
    p.hmac_sha256_cleanup_func(hctx, NULL);
    uint8_t mac[32];
    assert(wa_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac) ==
           0);
    assert(signal_buffer_len(outb) == 32);
    assert(memcmp(signal_buffer_data(outb), mac, 32) == 0);
    signal_buffer_free(outb);
    //  The same through a context's HMAC template, twice, and with an
    //  empty key
    assert(signal->hmac);
    for (int i = 0; i < 2; i++) {
        assert(p.hmac_sha256_init_func(&hctx, (const uint8_t *)"Jefe", 4,
                                       signal) == 0);
        assert(p.hmac_sha256_update_func(
                   hctx, (const uint8_t *)"what do ya want for nothing?", 28,
                   signal) == 0);
        assert(p.hmac_sha256_final_func(hctx, &outb, signal) == 0);
        p.hmac_sha256_cleanup_func(hctx, signal);
        assert(signal_buffer_len(outb) == 32);
        assert(memcmp(signal_buffer_data(outb), mac, 32) == 0);
        signal_buffer_free(outb);
    }
    assert(wa_hmac_sha256("", 0, "x", 1, mac) == 0);
    assert(p.hmac_sha256_init_func(&hctx, NULL, 0, signal) == 0);
    assert(p.hmac_sha256_update_func(hctx, (const uint8_t *)"x", 1, signal) ==
           0);
    assert(p.hmac_sha256_final_func(hctx, &outb, signal) == 0);
    p.hmac_sha256_cleanup_func(hctx, signal);
    assert(memcmp(signal_buffer_data(outb), mac, 32) == 0);
    signal_buffer_free(outb);

    void *dctx = NULL;
    uint8_t md[64];
    assert(p.sha512_digest_init_func(&dctx, NULL) == 0);
    for (int round = 0; round < 2; round++) {
        assert(p.sha512_digest_update_func(dctx, (const uint8_t *)"abc", 3,
                                           NULL) == 0);
        assert(p.sha512_digest_final_func(dctx, &outb, NULL) == 0);
        assert(wa_sha512("abc", 3, md) == 0);
        assert(signal_buffer_len(outb) == 64);
        assert(memcmp(signal_buffer_data(outb), md, 64) == 0);
        signal_buffer_free(outb);
    }
    p.sha512_digest_cleanup_func(dctx, NULL);

    uint8_t key[32];
    uint8_t iv[16];
    memset(key, 0x42, 32);
    memset(iv, 0x24, 16);
    const char *plain = "signal provider round trip, longer than one block";
    size_t plain_len = strlen(plain);
    uint8_t ref[128];
    size_t ref_len = 0;
    assert(wa_aes_cbc_encrypt(key, iv, plain, plain_len, ref, &ref_len) == 0);
    assert(p.encrypt_func(&outb, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16,
                          (const uint8_t *)plain, plain_len, NULL) == 0);
    assert(signal_buffer_len(outb) == ref_len);
    assert(memcmp(signal_buffer_data(outb), ref, ref_len) == 0);
    signal_buffer *dec = NULL;
    assert(p.decrypt_func(&dec, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16,
                          signal_buffer_data(outb), signal_buffer_len(outb),
                          NULL) == 0);
    assert(signal_buffer_len(dec) == plain_len);
    assert(memcmp(signal_buffer_data(dec), plain, plain_len) == 0);
    signal_buffer_free(dec);
    dec = NULL;
    //  The same through a context's fetched cipher, twice
    assert(signal->cbc);
    for (int i = 0; i < 2; i++) {
        signal_buffer *enc2 = NULL;
        assert(p.encrypt_func(&enc2, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16,
                              (const uint8_t *)plain, plain_len, signal) == 0);
        assert(signal_buffer_len(enc2) == ref_len);
        assert(memcmp(signal_buffer_data(enc2), ref, ref_len) == 0);
        assert(p.decrypt_func(&dec, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16,
                              signal_buffer_data(enc2), signal_buffer_len(enc2),
                              signal) == 0);
        assert(signal_buffer_len(dec) == plain_len);
        assert(memcmp(signal_buffer_data(dec), plain, plain_len) == 0);
        signal_buffer_free(dec);
        dec = NULL;
        signal_buffer_free(enc2);
    }
    //  Truncated CBC input and bad key sizes are refused.
    assert(p.decrypt_func(&dec, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16,
                          signal_buffer_data(outb), 15, NULL) < 0);
    assert(p.encrypt_func(&dec, SG_CIPHER_AES_CBC_PKCS5, key, 31, iv, 16,
                          (const uint8_t *)plain, plain_len, NULL) < 0);
    assert(p.encrypt_func(&dec, 99, key, 32, iv, 16, (const uint8_t *)plain,
                          plain_len, NULL) < 0);
    assert(dec == NULL);
    signal_buffer_free(outb);
    assert(wa_aes_ctr(key, iv, plain, plain_len, ref) == 0);
    assert(p.encrypt_func(&outb, SG_CIPHER_AES_CTR_NOPADDING, key, 32, iv, 16,
                          (const uint8_t *)plain, plain_len, NULL) == 0);
    assert(signal_buffer_len(outb) == plain_len);
    assert(memcmp(signal_buffer_data(outb), ref, plain_len) == 0);
    assert(p.decrypt_func(&dec, SG_CIPHER_AES_CTR_NOPADDING, key, 32, iv, 16,
                          signal_buffer_data(outb), plain_len, NULL) == 0);
    assert(memcmp(signal_buffer_data(dec), plain, plain_len) == 0);
    signal_buffer_free(dec);
    signal_buffer_free(outb);

    SIGNAL_UNREF(pub2_key);
    SIGNAL_UNREF(pair);
    wa_signal_destroy(&signal);
    assert(signal == NULL);
    wa_signal_destroy(&signal);
    printf("OK\n");
}
