/*  st_seal - device secrets sealed at rest (AES-256-GCM)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define S_VERSION 0x01
#define S_SALT_LEN 16
#define S_NONCE_LEN 12
#define S_TAG_LEN 16
#define S_HEAD_LEN (1 + S_SALT_LEN + S_NONCE_LEN)

static const char s_kid_label[] = "wharf-secret-key-id"; //  + its NUL
static const char s_key_label[] = "wharf-seal-v1";       //  no NUL

typedef struct {
    bool set;
    uint8_t key[ST_SEAL_KEY_LEN];
    char kid[ST_SEAL_KID_LEN + 1];
} s_key_t;

struct _st_seal_t {
    s_key_t current; //  STORE_SECRET_KEY
    s_key_t old;     //  STORE_SECRET_KEY_OLD
};

static void
s_key_set(s_key_t *k, const uint8_t *key)
{
    k->set = true;
    memcpy(k->key, key, ST_SEAL_KEY_LEN);
    uint8_t in[sizeof s_kid_label + ST_SEAL_KEY_LEN];
    memcpy(in, s_kid_label, sizeof s_kid_label);
    memcpy(in + sizeof s_kid_label, key, ST_SEAL_KEY_LEN);
    uint8_t digest[32];
    unsigned int n = 0;
    int rc = EVP_Digest(in, sizeof in, digest, &n, EVP_sha256(), NULL);
    assert(rc == 1);
    OPENSSL_cleanse(in, sizeof in);
    cm_hex(digest, ST_SEAL_KID_LEN / 2, k->kid);
}

int
st_seal_parse_key(const char *text, uint8_t key[ST_SEAL_KEY_LEN])
{
    if (!text) {
        return -1;
    }
    while (isspace((unsigned char)*text)) {
        text++;
    }
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1])) {
        len--;
    }
    char *trimmed = cm_strndup(text, len);
    int rc = -1;
    if (len == 2 * ST_SEAL_KEY_LEN) {
        rc =
            cm_unhex(trimmed, key, ST_SEAL_KEY_LEN) == ST_SEAL_KEY_LEN ? 0 : -1;
    } else {
        uint8_t *raw = NULL;
        size_t n = 0;
        if (cm_base64_decode(trimmed, ST_SEAL_KEY_LEN, &raw, &n) == 0 &&
            n == ST_SEAL_KEY_LEN) {
            memcpy(key, raw, ST_SEAL_KEY_LEN);
            rc = 0;
        }
        if (raw) {
            OPENSSL_cleanse(raw, n);
            free(raw);
        }
    }
    OPENSSL_cleanse(trimmed, len);
    free(trimmed);
    return rc;
}

st_seal_t *
st_seal_new(const uint8_t *key, const uint8_t *old_key)
{
    st_seal_t *self = cm_alloc(sizeof *self);
    if (key) {
        s_key_set(&self->current, key);
    }
    if (old_key) {
        s_key_set(&self->old, old_key);
    }
    return self;
}

void
st_seal_destroy(st_seal_t **self_p)
{
    assert(self_p);
    st_seal_t *self = *self_p;
    if (self) {
        OPENSSL_cleanse(self, sizeof *self);
        free(self);
        *self_p = NULL;
    }
}

const char *
st_seal_kid(const st_seal_t *self)
{
    return self && self->current.set ? self->current.kid : NULL;
}

const char *
st_seal_old_kid(const st_seal_t *self)
{
    return self && self->old.set ? self->old.kid : NULL;
}

static const s_key_t *
s_key_for(const st_seal_t *self, const char *kid)
{
    if (!self || !kid) {
        return NULL;
    }
    if (self->current.set && cm_streq(kid, self->current.kid)) {
        return &self->current;
    }
    if (self->old.set && cm_streq(kid, self->old.kid)) {
        return &self->old;
    }
    return NULL;
}

bool
st_seal_knows(const st_seal_t *self, const char *kid)
{
    return s_key_for(self, kid) != NULL;
}

char *
st_seal_ad(size_t *len, const char *table, ...)
{
    size_t total = strlen(table);
    va_list args;
    va_start(args, table);
    const char *part;
    while ((part = va_arg(args, const char *))) {
        total += 1 + strlen(part);
    }
    va_end(args);
    char *ad = cm_alloc(total + 1);
    size_t at = strlen(table);
    memcpy(ad, table, at);
    va_start(args, table);
    while ((part = va_arg(args, const char *))) {
        ad[at++] = 0;
        memcpy(ad + at, part, strlen(part));
        at += strlen(part);
    }
    va_end(args);
    *len = total;
    return ad;
}

//  The value's own key: HMAC-SHA256(key, label | salt).
static void
s_value_key(const s_key_t *k, const uint8_t *salt, uint8_t out[32])
{
    uint8_t in[sizeof s_key_label - 1 + S_SALT_LEN];
    memcpy(in, s_key_label, sizeof s_key_label - 1);
    memcpy(in + sizeof s_key_label - 1, salt, S_SALT_LEN);
    unsigned int n = 32;
    uint8_t *rc =
        HMAC(EVP_sha256(), k->key, ST_SEAL_KEY_LEN, in, sizeof in, out, &n);
    assert(rc && n == 32);
}

//  AES-256-GCM one shot; `encrypt` or decrypt with `tag` in/out. Returns
//  0, or -1 when the tag does not match.
static int
s_gcm(bool encrypt, const uint8_t key[32], const uint8_t *nonce, const char *ad,
      size_t ad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert(ctx);
    int n = 0;
    int ok =
        EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
                          encrypt ? 1 : 0) &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, S_NONCE_LEN, NULL) &&
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, -1) &&
        EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *)ad, (int)ad_len) &&
        EVP_CipherUpdate(ctx, out, &n, in, (int)len);
    assert(ok);
    if (!encrypt) {
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, S_TAG_LEN, tag);
        assert(ok);
    }
    int fin = 0;
    ok = EVP_CipherFinal_ex(ctx, out + n, &fin) == 1;
    if (ok && encrypt) {
        int got =
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, S_TAG_LEN, tag);
        assert(got);
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int
st_seal_close(const st_seal_t *self, const char *ad, size_t ad_len,
              const uint8_t *data, size_t len, uint8_t **out_p, size_t *out_len)
{
    if (!self || !self->current.set || len > ST_SEAL_MAX ||
        ad_len > ST_SEAL_MAX) {
        return -1;
    }
    uint8_t *out = cm_alloc(ST_SEAL_OVERHEAD + len);
    out[0] = S_VERSION;
    cm_random(out + 1, S_SALT_LEN + S_NONCE_LEN);
    uint8_t key[32];
    s_value_key(&self->current, out + 1, key);
    int rc = s_gcm(true, key, out + 1 + S_SALT_LEN, ad, ad_len, data, len,
                   out + S_HEAD_LEN, out + S_HEAD_LEN + len);
    OPENSSL_cleanse(key, sizeof key);
    assert(rc == 0);
    *out_p = out;
    *out_len = ST_SEAL_OVERHEAD + len;
    return 0;
}

int
st_seal_open(const st_seal_t *self, const char *kid, const char *ad,
             size_t ad_len, const uint8_t *sealed, size_t len, uint8_t **out_p,
             size_t *out_len)
{
    const s_key_t *k = s_key_for(self, kid);
    if (!k) {
        return ST_SEAL_UNKNOWN_KEY;
    }
    if (len < ST_SEAL_OVERHEAD || len - ST_SEAL_OVERHEAD > ST_SEAL_MAX ||
        sealed[0] != S_VERSION || ad_len > ST_SEAL_MAX) {
        return ST_SEAL_FORGED;
    }
    size_t plain_len = len - ST_SEAL_OVERHEAD;
    uint8_t *out = cm_alloc(plain_len + 1);
    uint8_t tag[S_TAG_LEN];
    memcpy(tag, sealed + S_HEAD_LEN + plain_len, S_TAG_LEN);
    uint8_t key[32];
    s_value_key(k, sealed + 1, key);
    int rc = s_gcm(false, key, sealed + 1 + S_SALT_LEN, ad, ad_len,
                   sealed + S_HEAD_LEN, plain_len, out, tag);
    OPENSSL_cleanse(key, sizeof key);
    if (rc != 0) {
        OPENSSL_cleanse(out, plain_len);
        free(out);
        return ST_SEAL_FORGED;
    }
    *out_p = out;
    *out_len = plain_len;
    return ST_SEAL_OK;
}

char *
st_seal_close_b64(const st_seal_t *self, const char *ad, size_t ad_len,
                  const char *b64)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (cm_base64_decode(b64, ST_SEAL_MAX, &plain, &plain_len) != 0) {
        return NULL;
    }
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    char *text = NULL;
    if (st_seal_close(self, ad, ad_len, plain, plain_len, &sealed,
                      &sealed_len) == 0) {
        text = cm_base64_encode(sealed, sealed_len);
        free(sealed);
    }
    if (plain) {
        OPENSSL_cleanse(plain, plain_len);
        free(plain);
    }
    return text;
}

char *
st_seal_open_b64(const st_seal_t *self, const char *kid, const char *ad,
                 size_t ad_len, const char *b64, int *why)
{
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    int rc = ST_SEAL_FORGED;
    char *text = NULL;
    if (!st_seal_knows(self, kid)) {
        rc = ST_SEAL_UNKNOWN_KEY;
    } else if (cm_base64_decode(b64, ST_SEAL_MAX + ST_SEAL_OVERHEAD, &sealed,
                                &sealed_len) == 0) {
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        rc = st_seal_open(self, kid, ad, ad_len, sealed, sealed_len, &plain,
                          &plain_len);
        if (rc == ST_SEAL_OK) {
            text = cm_base64_encode(plain, plain_len);
            OPENSSL_cleanse(plain, plain_len);
            free(plain);
        }
    }
    free(sealed);
    if (why) {
        *why = rc;
    }
    return text;
}

void
st_seal_test(bool verbose)
{
    printf(" * st_seal: ");
    uint8_t k1[ST_SEAL_KEY_LEN], k2[ST_SEAL_KEY_LEN], k[ST_SEAL_KEY_LEN];
    //  keys: 64 hex digits or base64 of 32 bytes, white space around
    assert(st_seal_parse_key(" 000102030405060708090a0b0c0d0e0f"
                             "101112131415161718191A1B1C1D1E1F\n",
                             k1) == 0);
    for (int i = 0; i < ST_SEAL_KEY_LEN; i++) {
        assert(k1[i] == i);
    }
    assert(st_seal_parse_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                             k) == 0);
    assert(memcmp(k, k1, sizeof k) == 0);
    const char *bad[] = {"",
                         "00",
                         "zz0102030405060708090a0b0c0d0e0f"
                         "101112131415161718191a1b1c1d1e1f",
                         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",
                         "not a key at all",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        assert(st_seal_parse_key(bad[i], k) == -1);
    }
    assert(st_seal_parse_key(NULL, k) == -1);
    memset(k2, 0xa5, sizeof k2);

    //  the key id is a fixed function of the key (SHA-256 vector)
    st_seal_t *s1 = st_seal_new(k1, NULL);
    assert(cm_streq(st_seal_kid(s1), "7f2c7f12"));
    assert(st_seal_old_kid(s1) == NULL);
    st_seal_t *s2 = st_seal_new(k2, NULL);
    assert(strlen(st_seal_kid(s2)) == ST_SEAL_KID_LEN);
    assert(!cm_streq(st_seal_kid(s1), st_seal_kid(s2)));

    size_t ad_len = 0;
    char *ad = st_seal_ad(&ad_len, "signal_keys", "s1", "session", "1.0", NULL);
    assert(ad_len == 26 &&
           memcmp(ad, "signal_keys\0s1\0session\0001.0", 26) == 0);
    size_t other_len = 0;
    char *other =
        st_seal_ad(&other_len, "signal_keys", "s2", "session", "1.0", NULL);

    //  round trip; every sealing differs; the plaintext does not show
    const uint8_t secret[] = "identity private key: 32 bytes!!";
    uint8_t *sealed = NULL, *again = NULL, *plain = NULL;
    size_t sealed_len = 0, again_len = 0, plain_len = 0;
    assert(st_seal_close(s1, ad, ad_len, secret, sizeof secret, &sealed,
                         &sealed_len) == 0);
    assert(sealed_len == sizeof secret + ST_SEAL_OVERHEAD);
    for (size_t i = 0; i + 8 <= sealed_len; i++) {
        assert(memcmp(sealed + i, "identity", 8) != 0);
    }
    assert(st_seal_close(s1, ad, ad_len, secret, sizeof secret, &again,
                         &again_len) == 0);
    assert(memcmp(sealed, again, sealed_len) != 0);
    free(again);
    assert(st_seal_open(s1, st_seal_kid(s1), ad, ad_len, sealed, sealed_len,
                        &plain, &plain_len) == ST_SEAL_OK);
    assert(plain_len == sizeof secret && memcmp(plain, secret, plain_len) == 0);
    free(plain);

    //  another row, another key, an altered byte: refused
    assert(st_seal_open(s1, st_seal_kid(s1), other, other_len, sealed,
                        sealed_len, &plain, &plain_len) == ST_SEAL_FORGED);
    assert(st_seal_open(s2, st_seal_kid(s1), ad, ad_len, sealed, sealed_len,
                        &plain, &plain_len) == ST_SEAL_UNKNOWN_KEY);
    for (size_t i = 0; i < sealed_len; i += 7) {
        sealed[i] ^= 0x01;
        assert(st_seal_open(s1, st_seal_kid(s1), ad, ad_len, sealed, sealed_len,
                            &plain, &plain_len) == ST_SEAL_FORGED);
        sealed[i] ^= 0x01;
    }
    assert(st_seal_open(s1, st_seal_kid(s1), ad, ad_len, sealed,
                        ST_SEAL_OVERHEAD - 1, &plain,
                        &plain_len) == ST_SEAL_FORGED);
    //  a key with the right id but other bytes would not open either
    st_seal_t *impostor = st_seal_new(k2, NULL);
    memcpy((char *)st_seal_kid(impostor), st_seal_kid(s1), ST_SEAL_KID_LEN);
    assert(st_seal_open(impostor, st_seal_kid(s1), ad, ad_len, sealed,
                        sealed_len, &plain, &plain_len) == ST_SEAL_FORGED);
    st_seal_destroy(&impostor);

    //  rotation: the new key seals, the old one still opens
    st_seal_t *rot = st_seal_new(k2, k1);
    assert(cm_streq(st_seal_kid(rot), st_seal_kid(s2)));
    assert(cm_streq(st_seal_old_kid(rot), st_seal_kid(s1)));
    assert(st_seal_knows(rot, st_seal_kid(s1)));
    assert(st_seal_open(rot, st_seal_kid(s1), ad, ad_len, sealed, sealed_len,
                        &plain, &plain_len) == ST_SEAL_OK);
    free(plain);
    free(sealed);

    //  base64 both ways, the empty value included
    char *b64 = st_seal_close_b64(rot, ad, ad_len, "AAECAw==");
    assert(b64);
    int why = 0;
    char *back = st_seal_open_b64(rot, st_seal_kid(rot), ad, ad_len, b64, &why);
    assert(why == ST_SEAL_OK && cm_streq(back, "AAECAw=="));
    free(back);
    assert(!st_seal_open_b64(s1, st_seal_kid(rot), ad, ad_len, b64, &why));
    assert(why == ST_SEAL_UNKNOWN_KEY);
    assert(
        !st_seal_open_b64(rot, st_seal_kid(rot), other, other_len, b64, &why));
    assert(why == ST_SEAL_FORGED);
    assert(!st_seal_open_b64(rot, st_seal_kid(rot), ad, ad_len, "!!", &why));
    assert(why == ST_SEAL_FORGED);
    free(b64);
    b64 = st_seal_close_b64(rot, ad, ad_len, "");
    back = st_seal_open_b64(rot, st_seal_kid(rot), ad, ad_len, b64, &why);
    assert(why == ST_SEAL_OK && cm_streq(back, ""));
    free(back);
    free(b64);
    assert(!st_seal_close_b64(rot, ad, ad_len, "not base64!"));

    //  keyless: seals nothing, opens nothing
    st_seal_t *none = st_seal_new(NULL, NULL);
    assert(st_seal_kid(none) == NULL && !st_seal_knows(none, NULL));
    assert(st_seal_close(none, ad, ad_len, secret, 4, &sealed, &sealed_len) ==
           -1);
    assert(!st_seal_knows(NULL, "7f2c7f12") && st_seal_kid(NULL) == NULL);
    st_seal_destroy(&none);

    free(ad);
    free(other);
    st_seal_destroy(&rot);
    st_seal_destroy(&s1);
    st_seal_destroy(&s2);
    st_seal_destroy(&s2);
    printf("OK\n");
}
