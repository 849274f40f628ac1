/*  wa_media - WhatsApp media encryption (keys, encrypt, verify + decrypt)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The streaming objects keep three running digests (HMAC over iv and
    ciphertext, SHA-256 of the enc file, SHA-256 of the plaintext) next to
    one OpenSSL CBC context, so each input byte is touched once.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_media.h"
#include "wa/wa_vectors.h"

static const struct {
    const char *info; //  HKDF info string
    const char *mms;  //  upload path type, NULL if none of its own
} s_types[WA_MEDIA_TYPE_COUNT] = {
    [WA_MEDIA_IMAGE] = {"WhatsApp Image Keys", "image"},
    [WA_MEDIA_VIDEO] = {"WhatsApp Video Keys", "video"},
    [WA_MEDIA_AUDIO] = {"WhatsApp Audio Keys", "audio"},
    [WA_MEDIA_DOCUMENT] = {"WhatsApp Document Keys", "document"},
    [WA_MEDIA_HISTORY] = {"WhatsApp History Keys", "md-msg-hist"},
    [WA_MEDIA_APP_STATE] = {"WhatsApp App State Keys", "md-app-state"},
    [WA_MEDIA_LINK_THUMBNAIL] = {"WhatsApp Link Thumbnail Keys",
                                 "thumbnail-link"},
    [WA_MEDIA_IMAGE_THUMBNAIL] = {"WhatsApp Image Thumbnail Keys", NULL},
    [WA_MEDIA_VIDEO_THUMBNAIL] = {"WhatsApp Video Thumbnail Keys", NULL},
    [WA_MEDIA_DOCUMENT_THUMBNAIL] = {"WhatsApp Document Thumbnail Keys", NULL},
    [WA_MEDIA_PAYMENT_BACKGROUND] = {"WhatsApp Payment Background Keys", NULL},
    [WA_MEDIA_STICKER_PACK] = {"WhatsApp Sticker Pack Keys", "sticker-pack"},
};

static const struct {
    const char *name;     //  message / mms name
    wa_media_type_t type; //  key type it uses
} s_names[] = {
    {"image", WA_MEDIA_IMAGE},
    {"sticker", WA_MEDIA_IMAGE},
    {"product", WA_MEDIA_IMAGE},
    {"product-catalog-image", WA_MEDIA_IMAGE},
    {"biz-cover-photo", WA_MEDIA_IMAGE},
    {"video", WA_MEDIA_VIDEO},
    {"gif", WA_MEDIA_VIDEO},
    {"ptv", WA_MEDIA_VIDEO},
    {"audio", WA_MEDIA_AUDIO},
    {"ptt", WA_MEDIA_AUDIO},
    {"document", WA_MEDIA_DOCUMENT},
    {"history", WA_MEDIA_HISTORY},
    {"md-msg-hist", WA_MEDIA_HISTORY},
    {"app-state", WA_MEDIA_APP_STATE},
    {"md-app-state", WA_MEDIA_APP_STATE},
    {"thumbnail-link", WA_MEDIA_LINK_THUMBNAIL},
    {"thumbnail-image", WA_MEDIA_IMAGE_THUMBNAIL},
    {"thumbnail-video", WA_MEDIA_VIDEO_THUMBNAIL},
    {"thumbnail-document", WA_MEDIA_DOCUMENT_THUMBNAIL},
    {"payment-bg-image", WA_MEDIA_PAYMENT_BACKGROUND},
    {"sticker-pack", WA_MEDIA_STICKER_PACK},
};

const char *
wa_media_info(wa_media_type_t type)
{
    if ((int)type < 0 || type >= WA_MEDIA_TYPE_COUNT) {
        return NULL;
    }
    return s_types[type].info;
}

const char *
wa_media_mms_type(wa_media_type_t type)
{
    if ((int)type < 0 || type >= WA_MEDIA_TYPE_COUNT) {
        return NULL;
    }
    return s_types[type].mms;
}

int
wa_media_type_parse(const char *name, wa_media_type_t *type)
{
    if (!name || !type) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(s_names) / sizeof(s_names[0]); i++) {
        if (strcmp(name, s_names[i].name) == 0) {
            *type = s_names[i].type;
            return 0;
        }
    }
    return -1;
}

int
wa_media_keys(const uint8_t *media_key, size_t key_len, wa_media_type_t type,
              wa_media_keys_t *keys)
{
    const char *info = wa_media_info(type);
    if (!media_key || key_len != WA_MEDIA_KEY_LEN || !info || !keys) {
        return -1;
    }
    uint8_t expanded[112];
    if (wa_hkdf_sha256(NULL, 0, media_key, key_len, info, strlen(info),
                       expanded, sizeof(expanded)) != 0) {
        return -1;
    }
    memcpy(keys->iv, expanded, 16);
    memcpy(keys->cipher_key, expanded + 16, 32);
    memcpy(keys->mac_key, expanded + 48, 32);
    memcpy(keys->ref_key, expanded + 80, 32);
    wa_crypto_wipe(expanded, sizeof(expanded));
    return 0;
}

int
wa_media_retry_key(const uint8_t *media_key, size_t key_len, uint8_t out[32])
{
    static const char info[] = "WhatsApp Media Retry Notification";
    if (!media_key || key_len != WA_MEDIA_KEY_LEN || !out) {
        return -1;
    }
    return wa_hkdf_sha256(NULL, 0, media_key, key_len, info, strlen(info), out,
                          32);
}

//  --------------------------------------------------------------------------
//  Shared streaming state

typedef struct {
    EVP_CIPHER_CTX *cipher; //  AES-256-CBC, PKCS#7
    EVP_MAC_CTX *mac;       //  HMAC-SHA256(macKey) over iv || ciphertext
    EVP_MD_CTX *enc_hash;   //  SHA-256 of the enc file
    EVP_MD_CTX *plain_hash; //  SHA-256 of the plaintext
    uint64_t plain_len;     //  plaintext bytes so far
    uint64_t cipher_len;    //  ciphertext bytes so far
    bool failed;            //  a library call failed; refuse further work
    bool done;              //  final was called
} s_stream_t;

static void
s_stream_free(s_stream_t *s)
{
    EVP_CIPHER_CTX_free(s->cipher);
    EVP_MAC_CTX_free(s->mac);
    EVP_MD_CTX_free(s->enc_hash);
    EVP_MD_CTX_free(s->plain_hash);
    memset(s, 0, sizeof(*s));
}

static int
s_stream_init(s_stream_t *s, bool enc, const uint8_t *media_key, size_t key_len,
              wa_media_type_t type)
{
    wa_media_keys_t keys;
    if (wa_media_keys(media_key, key_len, type, &keys) != 0) {
        return -1;
    }
    int rc = -1;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    s->cipher = EVP_CIPHER_CTX_new();
    s->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
    s->enc_hash = EVP_MD_CTX_new();
    s->plain_hash = EVP_MD_CTX_new();
    EVP_MAC_free(mac);
    if (!s->cipher || !s->mac || !s->enc_hash || !s->plain_hash) {
        goto cleanup;
    }
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_CipherInit_ex2(s->cipher, EVP_aes_256_cbc(), keys.cipher_key,
                           keys.iv, enc ? 1 : 0, NULL) != 1 ||
        EVP_MAC_init(s->mac, keys.mac_key, sizeof(keys.mac_key), params) != 1 ||
        EVP_MAC_update(s->mac, keys.iv, sizeof(keys.iv)) != 1 ||
        EVP_DigestInit_ex2(s->enc_hash, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex2(s->plain_hash, EVP_sha256(), NULL) != 1) {
        goto cleanup;
    }
    rc = 0;
cleanup:
    wa_crypto_wipe(&keys, sizeof(keys));
    if (rc != 0) {
        s_stream_free(s);
    }
    return rc;
}

//  Account for ciphertext bytes (MAC and enc hash).
static int
s_stream_cipher(s_stream_t *s, const uint8_t *ct, size_t len)
{
    if (len == 0) {
        return 0;
    }
    s->cipher_len += len;
    if (EVP_MAC_update(s->mac, ct, len) != 1 ||
        EVP_DigestUpdate(s->enc_hash, ct, len) != 1) {
        s->failed = true;
        return -1;
    }
    return 0;
}

//  Account for plaintext bytes.
static int
s_stream_plain(s_stream_t *s, const uint8_t *pt, size_t len)
{
    if (len == 0) {
        return 0;
    }
    s->plain_len += len;
    if (EVP_DigestUpdate(s->plain_hash, pt, len) != 1) {
        s->failed = true;
        return -1;
    }
    return 0;
}

//  Run the CBC context over in, in pieces OpenSSL's int lengths accept.
static int
s_stream_crypt(s_stream_t *s, const uint8_t *in, size_t len, uint8_t *out,
               size_t *out_len)
{
    size_t written = 0;
    while (len > 0) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        int n = 0;
        if (EVP_CipherUpdate(s->cipher, out + written, &n, in, (int)chunk) !=
            1) {
            s->failed = true;
            return -1;
        }
        written += (size_t)n;
        in += chunk;
        len -= chunk;
    }
    *out_len = written;
    return 0;
}

//  --------------------------------------------------------------------------
//  Encryption

struct _wa_media_enc_t {
    s_stream_t s; //  cipher and digests
};

wa_media_enc_t *
wa_media_enc_new(const uint8_t *media_key, size_t key_len, wa_media_type_t type)
{
    wa_media_enc_t *self = cm_alloc(sizeof(*self));
    if (s_stream_init(&self->s, true, media_key, key_len, type) != 0) {
        free(self);
        return NULL;
    }
    return self;
}

void
wa_media_enc_destroy(wa_media_enc_t **self_p)
{
    assert(self_p);
    wa_media_enc_t *self = *self_p;
    if (!self) {
        return;
    }
    s_stream_free(&self->s);
    free(self);
    *self_p = NULL;
}

int
wa_media_enc_update(wa_media_enc_t *self, const void *in, size_t len,
                    uint8_t *out, size_t *out_len)
{
    assert(self);
    if (!out_len || (len > 0 && (!in || !out)) || self->s.failed ||
        self->s.done) {
        return -1;
    }
    *out_len = 0;
    if (len == 0) {
        return 0;
    }
    if (s_stream_plain(&self->s, in, len) != 0 ||
        s_stream_crypt(&self->s, in, len, out, out_len) != 0 ||
        s_stream_cipher(&self->s, out, *out_len) != 0) {
        return -1;
    }
    return 0;
}

int
wa_media_enc_final(wa_media_enc_t *self, uint8_t *out, size_t *out_len,
                   wa_media_hashes_t *hashes)
{
    assert(self);
    s_stream_t *s = &self->s;
    if (!out || !out_len || s->failed || s->done) {
        return -1;
    }
    s->done = true;
    int n = 0;
    uint8_t mac[WA_SHA256_LEN];
    size_t mac_len = 0;
    if (EVP_CipherFinal_ex(s->cipher, out, &n) != 1 ||
        s_stream_cipher(s, out, (size_t)n) != 0 ||
        EVP_MAC_final(s->mac, mac, &mac_len, sizeof(mac)) != 1 ||
        mac_len != sizeof(mac)) {
        s->failed = true;
        return -1;
    }
    memcpy(out + n, mac, WA_MEDIA_MAC_LEN);
    *out_len = (size_t)n + WA_MEDIA_MAC_LEN;
    wa_media_hashes_t h;
    memcpy(h.mac, mac, WA_MEDIA_MAC_LEN);
    h.file_length = s->plain_len;
    if (EVP_DigestUpdate(s->enc_hash, mac, WA_MEDIA_MAC_LEN) != 1 ||
        EVP_DigestFinal_ex(s->enc_hash, h.file_enc_sha256, NULL) != 1 ||
        EVP_DigestFinal_ex(s->plain_hash, h.file_sha256, NULL) != 1) {
        s->failed = true;
        return -1;
    }
    if (hashes) {
        *hashes = h;
    }
    return 0;
}

int
wa_media_encrypt(const uint8_t *media_key, size_t key_len, wa_media_type_t type,
                 const void *plain, size_t len, uint8_t *out, size_t *out_len,
                 wa_media_hashes_t *hashes)
{
    if (!out || !out_len || (len > 0 && !plain)) {
        return -1;
    }
    wa_media_enc_t *enc = wa_media_enc_new(media_key, key_len, type);
    if (!enc) {
        return -1;
    }
    size_t n1 = 0;
    size_t n2 = 0;
    int rc = -1;
    if (wa_media_enc_update(enc, plain, len, out, &n1) == 0 &&
        wa_media_enc_final(enc, out + n1, &n2, hashes) == 0) {
        *out_len = n1 + n2;
        rc = 0;
    }
    wa_media_enc_destroy(&enc);
    return rc;
}

//  --------------------------------------------------------------------------
//  Decryption

struct _wa_media_dec_t {
    s_stream_t s;                   //  cipher and digests
    uint8_t tail[WA_MEDIA_MAC_LEN]; //  last bytes seen: maybe the MAC
    size_t tail_len;                //  bytes in tail
    uint8_t enc_sha256[32];         //  expected fileEncSHA256
    uint8_t plain_sha256[32];       //  expected fileSHA256
    bool check_enc;                 //  enc_sha256 was given
    bool check_plain;               //  plain_sha256 was given
};

wa_media_dec_t *
wa_media_dec_new(const uint8_t *media_key, size_t key_len, wa_media_type_t type,
                 const uint8_t *enc_sha256, const uint8_t *plain_sha256)
{
    wa_media_dec_t *self = cm_alloc(sizeof(*self));
    if (s_stream_init(&self->s, false, media_key, key_len, type) != 0) {
        free(self);
        return NULL;
    }
    if (enc_sha256) {
        memcpy(self->enc_sha256, enc_sha256, 32);
        self->check_enc = true;
    }
    if (plain_sha256) {
        memcpy(self->plain_sha256, plain_sha256, 32);
        self->check_plain = true;
    }
    return self;
}

void
wa_media_dec_destroy(wa_media_dec_t **self_p)
{
    assert(self_p);
    wa_media_dec_t *self = *self_p;
    if (!self) {
        return;
    }
    s_stream_free(&self->s);
    free(self);
    *self_p = NULL;
}

//  Decrypt ciphertext bytes known not to be part of the MAC.
static int
s_dec_cipher(wa_media_dec_t *self, const uint8_t *ct, size_t len, uint8_t *out,
             size_t *written)
{
    size_t n = 0;
    if (len == 0) {
        return 0;
    }
    if (s_stream_cipher(&self->s, ct, len) != 0 ||
        s_stream_crypt(&self->s, ct, len, out, &n) != 0 ||
        s_stream_plain(&self->s, out, n) != 0) {
        return -1;
    }
    *written += n;
    return 0;
}

int
wa_media_dec_update(wa_media_dec_t *self, const void *in, size_t len,
                    uint8_t *out, size_t *out_len)
{
    assert(self);
    if (!out_len || (len > 0 && (!in || !out)) || self->s.failed ||
        self->s.done) {
        return -1;
    }
    *out_len = 0;
    const uint8_t *src = in;
    size_t total = self->tail_len + len;
    if (total <= WA_MEDIA_MAC_LEN) {
        if (len > 0) {
            memcpy(self->tail + self->tail_len, src, len);
        }
        self->tail_len = total;
        return 0;
    }
    //  All but the last 10 bytes seen so far are ciphertext.
    size_t cipher_len = total - WA_MEDIA_MAC_LEN;
    size_t from_tail =
        cipher_len < self->tail_len ? cipher_len : self->tail_len;
    size_t from_in = cipher_len - from_tail;
    //  The tail is consumed first; copy it so out may be written freely.
    uint8_t head[WA_MEDIA_MAC_LEN];
    memcpy(head, self->tail, from_tail);
    size_t written = 0;
    if (s_dec_cipher(self, head, from_tail, out, &written) != 0 ||
        s_dec_cipher(self, src, from_in, out + written, &written) != 0) {
        return -1;
    }
    //  New tail: what is left of the old tail, then the end of in.
    size_t keep = self->tail_len - from_tail;
    memmove(self->tail, self->tail + from_tail, keep);
    memcpy(self->tail + keep, src + from_in, len - from_in);
    self->tail_len = keep + len - from_in;
    assert(self->tail_len == WA_MEDIA_MAC_LEN);
    *out_len = written;
    return 0;
}

int
wa_media_dec_final(wa_media_dec_t *self, uint8_t *out, size_t *out_len)
{
    assert(self);
    s_stream_t *s = &self->s;
    if (!out || !out_len || s->failed || s->done) {
        return -1;
    }
    s->done = true;
    *out_len = 0;
    if (self->tail_len != WA_MEDIA_MAC_LEN || s->cipher_len == 0 ||
        s->cipher_len % 16) {
        return -1;
    }
    uint8_t mac[WA_SHA256_LEN];
    size_t mac_len = 0;
    uint8_t digest[WA_SHA256_LEN];
    if (EVP_MAC_final(s->mac, mac, &mac_len, sizeof(mac)) != 1 ||
        mac_len != sizeof(mac) ||
        !wa_crypto_equal(mac, self->tail, WA_MEDIA_MAC_LEN)) {
        return -1;
    }
    if (EVP_DigestUpdate(s->enc_hash, self->tail, WA_MEDIA_MAC_LEN) != 1 ||
        EVP_DigestFinal_ex(s->enc_hash, digest, NULL) != 1 ||
        (self->check_enc && !wa_crypto_equal(digest, self->enc_sha256, 32))) {
        return -1;
    }
    //  MAC verified: only now look at the padding.
    int n = 0;
    if (EVP_CipherFinal_ex(s->cipher, out, &n) != 1 ||
        s_stream_plain(s, out, (size_t)n) != 0 ||
        EVP_DigestFinal_ex(s->plain_hash, digest, NULL) != 1 ||
        (self->check_plain &&
         !wa_crypto_equal(digest, self->plain_sha256, 32))) {
        wa_crypto_wipe(out, 16);
        return -1;
    }
    *out_len = (size_t)n;
    return 0;
}

int
wa_media_decrypt(const uint8_t *media_key, size_t key_len, wa_media_type_t type,
                 const void *enc, size_t enc_len, const uint8_t *enc_sha256,
                 const uint8_t *plain_sha256, uint8_t *out, size_t *out_len)
{
    if (!enc || !out || !out_len || enc_len < 16 + WA_MEDIA_MAC_LEN ||
        (enc_len - WA_MEDIA_MAC_LEN) % 16) {
        return -1;
    }
    wa_media_dec_t *dec =
        wa_media_dec_new(media_key, key_len, type, enc_sha256, plain_sha256);
    if (!dec) {
        return -1;
    }
    size_t n1 = 0;
    size_t n2 = 0;
    int rc = -1;
    if (wa_media_dec_update(dec, enc, enc_len, out, &n1) == 0 &&
        wa_media_dec_final(dec, out + n1, &n2) == 0) {
        *out_len = n1 + n2;
        rc = 0;
    } else {
        wa_crypto_wipe(out, enc_len);
    }
    wa_media_dec_destroy(&dec);
    return rc;
}

//  --------------------------------------------------------------------------
//  Self test

//  Stream-encrypt with chunks of `step` bytes; check against the vector.
static void
s_test_stream_enc(const uint8_t *key, wa_media_type_t type,
                  const uint8_t *plain, size_t len, const uint8_t *expect,
                  size_t expect_len, size_t step)
{
    wa_media_enc_t *enc = wa_media_enc_new(key, 32, type);
    assert(enc);
    uint8_t *out = cm_alloc(expect_len + 64);
    size_t pos = 0;
    for (size_t i = 0; i < len; i += step) {
        size_t chunk = len - i < step ? len - i : step;
        size_t n = 0;
        assert(wa_media_enc_update(enc, plain + i, chunk, out + pos, &n) == 0);
        pos += n;
    }
    size_t n = 0;
    wa_media_hashes_t h;
    assert(wa_media_enc_final(enc, out + pos, &n, &h) == 0);
    pos += n;
    assert(pos == expect_len && memcmp(out, expect, pos) == 0);
    assert(h.file_length == len);
    //  Final twice or update after final is refused.
    assert(wa_media_enc_final(enc, out, &n, &h) == -1);
    assert(wa_media_enc_update(enc, plain, 1, out, &n) == -1);
    wa_media_enc_destroy(&enc);
    assert(enc == NULL);
    free(out);
}

//  Stream-decrypt with chunks of `step`; returns final's result.
static int
s_stream_dec(const uint8_t *key, wa_media_type_t type, const uint8_t *enc,
             size_t enc_len, const uint8_t *enc_sha, const uint8_t *plain_sha,
             size_t step, uint8_t *out, size_t *out_len)
{
    wa_media_dec_t *dec = wa_media_dec_new(key, 32, type, enc_sha, plain_sha);
    assert(dec);
    size_t pos = 0;
    for (size_t i = 0; i < enc_len; i += step) {
        size_t chunk = enc_len - i < step ? enc_len - i : step;
        size_t n = 0;
        assert(wa_media_dec_update(dec, enc + i, chunk, out + pos, &n) == 0);
        pos += n;
    }
    size_t n = 0;
    int rc = wa_media_dec_final(dec, out + pos, &n);
    *out_len = pos + n;
    wa_media_dec_destroy(&dec);
    return rc;
}

void
wa_media_test(bool verbose)
{
    printf(" * wa_media: ");
    assert(strcmp(wa_media_info(WA_MEDIA_IMAGE), "WhatsApp Image Keys") == 0);
    assert(wa_media_info(WA_MEDIA_TYPE_COUNT) == NULL);
    assert(wa_media_info((wa_media_type_t)-1) == NULL);
    assert(strcmp(wa_media_mms_type(WA_MEDIA_HISTORY), "md-msg-hist") == 0);
    assert(wa_media_mms_type(WA_MEDIA_IMAGE_THUMBNAIL) == NULL);
    wa_media_type_t type;
    assert(wa_media_type_parse("ptt", &type) == 0 && type == WA_MEDIA_AUDIO);
    assert(wa_media_type_parse("sticker", &type) == 0 &&
           type == WA_MEDIA_IMAGE);
    assert(wa_media_type_parse("gif", &type) == 0 && type == WA_MEDIA_VIDEO);
    assert(wa_media_type_parse("bogus", &type) == -1);
    for (int t = 0; t < WA_MEDIA_TYPE_COUNT; t++) {
        assert(wa_media_info((wa_media_type_t)t));
    }

    json_t *root = wa_vectors_load("media.json");
    uint8_t *media_key = wa_vectors_field(root, "mediaKey", NULL);
    size_t plain_len = 0;
    uint8_t *plain = wa_vectors_field(root, "plaintext_hex", &plain_len);
    json_t *types = json_object_get(root, "types");
    assert(json_object_size(types) == 7);
    const char *name;
    json_t *vec;
    int checked = 0;
    json_object_foreach(types, name, vec)
    {
        assert(wa_media_type_parse(name, &type) == 0);
        const char *info = json_string_value(json_object_get(vec, "hkdf_info"));
        assert(info && strcmp(wa_media_info(type), info) == 0);
        wa_media_keys_t keys;
        assert(wa_media_keys(media_key, 32, type, &keys) == 0);
        assert(wa_vectors_field_eq(vec, "iv", keys.iv, 16));
        assert(wa_vectors_field_eq(vec, "cipher_key", keys.cipher_key, 32));
        assert(wa_vectors_field_eq(vec, "mac_key", keys.mac_key, 32));
        assert(wa_vectors_field_eq(vec, "ref_key", keys.ref_key, 32));
        assert(wa_vectors_field_eq(vec, "expanded_hex", (uint8_t *)&keys, 112));

        size_t enc_len = 0;
        uint8_t *expect = wa_vectors_field(vec, "enc_file_hex", &enc_len);
        assert(enc_len == WA_MEDIA_ENC_LEN(plain_len));
        uint8_t *enc = cm_alloc(WA_MEDIA_ENC_LEN(plain_len));
        size_t n = 0;
        wa_media_hashes_t h;
        assert(wa_media_encrypt(media_key, 32, type, plain, plain_len, enc, &n,
                                &h) == 0);
        assert(n == enc_len && memcmp(enc, expect, n) == 0);
        assert(wa_vectors_field_eq(vec, "mac10", h.mac, WA_MEDIA_MAC_LEN));
        assert(wa_vectors_field_eq(vec, "file_sha256", h.file_sha256, 32));
        assert(
            wa_vectors_field_eq(vec, "file_enc_sha256", h.file_enc_sha256, 32));
        assert(h.file_length == (uint64_t)json_integer_value(
                                    json_object_get(vec, "file_length")));
        s_test_stream_enc(media_key, type, plain, plain_len, expect, enc_len,
                          1);
        s_test_stream_enc(media_key, type, plain, plain_len, expect, enc_len,
                          7);
        s_test_stream_enc(media_key, type, plain, plain_len, expect, enc_len,
                          1000);

        //  Decrypt: one-shot with and without hashes, streamed in every
        //  chunk size from 1 to enc_len.
        uint8_t *out = cm_alloc(enc_len + 32);
        assert(wa_media_decrypt(media_key, 32, type, enc, enc_len,
                                h.file_enc_sha256, h.file_sha256, out,
                                &n) == 0);
        assert(n == plain_len && memcmp(out, plain, n) == 0);
        assert(wa_media_decrypt(media_key, 32, type, enc, enc_len, NULL, NULL,
                                out, &n) == 0);
        for (size_t step = 1; step <= enc_len; step += step < 20 ? 1 : 17) {
            memset(out, 0, enc_len);
            assert(s_stream_dec(media_key, type, enc, enc_len,
                                h.file_enc_sha256, h.file_sha256, step, out,
                                &n) == 0);
            assert(n == plain_len && memcmp(out, plain, n) == 0);
        }

        //  Tampering: every region fails; so do wrong hashes and keys.
        size_t spots[] = {0, 15, 16, enc_len - 11, enc_len - 10, enc_len - 1};
        for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
            enc[spots[i]] ^= 0x01;
            assert(wa_media_decrypt(media_key, 32, type, enc, enc_len, NULL,
                                    NULL, out, &n) == -1);
            assert(s_stream_dec(media_key, type, enc, enc_len, NULL, NULL, 3,
                                out, &n) == -1);
            enc[spots[i]] ^= 0x01;
        }
        uint8_t bad_hash[32];
        memcpy(bad_hash, h.file_enc_sha256, 32);
        bad_hash[31] ^= 1;
        assert(wa_media_decrypt(media_key, 32, type, enc, enc_len, bad_hash,
                                NULL, out, &n) == -1);
        memcpy(bad_hash, h.file_sha256, 32);
        bad_hash[0] ^= 1;
        assert(wa_media_decrypt(media_key, 32, type, enc, enc_len, NULL,
                                bad_hash, out, &n) == -1);
        assert(s_stream_dec(media_key, type, enc, enc_len, NULL, bad_hash, 5,
                            out, &n) == -1);
        wa_media_type_t other =
            type == WA_MEDIA_IMAGE ? WA_MEDIA_VIDEO : WA_MEDIA_IMAGE;
        assert(wa_media_decrypt(media_key, 32, other, enc, enc_len, NULL, NULL,
                                out, &n) == -1);
        //  Bad lengths: truncated, MAC only, off-block, wrong key size.
        assert(wa_media_decrypt(media_key, 32, type, enc, enc_len - 1, NULL,
                                NULL, out, &n) == -1);
        assert(wa_media_decrypt(media_key, 32, type, enc, 10, NULL, NULL, out,
                                &n) == -1);
        assert(wa_media_decrypt(media_key, 32, type, enc, 0, NULL, NULL, out,
                                &n) == -1);
        assert(s_stream_dec(media_key, type, enc, 9, NULL, NULL, 4, out, &n) ==
               -1);
        assert(s_stream_dec(media_key, type, enc, enc_len - 16, NULL, NULL, 4,
                            out, &n) == -1);
        assert(wa_media_decrypt(media_key, 31, type, enc, enc_len, NULL, NULL,
                                out, &n) == -1);
        free(out);
        free(enc);
        free(expect);
        checked++;
    }
    assert(checked == 7);

    //  Empty plaintext and a block-sized one round-trip.
    for (size_t len = 0; len <= 48; len += 16) {
        uint8_t enc[WA_MEDIA_ENC_LEN(48)];
        uint8_t out[WA_MEDIA_ENC_LEN(48)];
        size_t n = 0;
        size_t m = 0;
        wa_media_hashes_t h;
        assert(wa_media_encrypt(media_key, 32, WA_MEDIA_DOCUMENT, plain, len,
                                enc, &n, &h) == 0);
        assert(n == WA_MEDIA_ENC_LEN(len));
        assert(wa_media_decrypt(media_key, 32, WA_MEDIA_DOCUMENT, enc, n,
                                h.file_enc_sha256, h.file_sha256, out,
                                &m) == 0);
        assert(m == len && memcmp(out, plain, len) == 0);
    }
    //  Bad arguments
    assert(wa_media_enc_new(media_key, 16, WA_MEDIA_IMAGE) == NULL);
    assert(wa_media_enc_new(media_key, 32, WA_MEDIA_TYPE_COUNT) == NULL);
    assert(wa_media_dec_new(NULL, 32, WA_MEDIA_IMAGE, NULL, NULL) == NULL);
    uint8_t retry[32];
    assert(wa_media_retry_key(media_key, 32, retry) == 0);
    assert(wa_media_retry_key(media_key, 0, retry) == -1);
    wa_media_enc_t *none = NULL;
    wa_media_enc_destroy(&none);

    free(plain);
    free(media_key);
    json_decref(root);
    printf("OK\n");
}
