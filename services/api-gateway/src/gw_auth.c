/*  gw_auth - hashing and comparison of API keys and access tokens

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

void
gw_auth_digest(const char *secret, uint8_t out[GW_AUTH_DIGEST])
{
    assert(secret);
    unsigned int len = 0;
    int rc = EVP_Digest(secret, strlen(secret), out, &len, EVP_sha512(), NULL);
    //  Only fails on out-of-memory inside OpenSSL.
    assert(rc == 1 && len == GW_AUTH_DIGEST);
}

void
gw_auth_digest_hex(const char *secret, char out[GW_AUTH_HEX_SIZE])
{
    uint8_t d[GW_AUTH_DIGEST];
    gw_auth_digest(secret, d);
    cm_hex(d, sizeof d, out);
    OPENSSL_cleanse(d, sizeof d);
}

bool
gw_auth_check(const char *secret, const uint8_t digest[GW_AUTH_DIGEST])
{
    if (!secret) {
        return false;
    }
    uint8_t d[GW_AUTH_DIGEST];
    gw_auth_digest(secret, d);
    bool ok = CRYPTO_memcmp(d, digest, GW_AUTH_DIGEST) == 0;
    OPENSSL_cleanse(d, sizeof d);
    return ok;
}

bool
gw_auth_check_hex(const char *secret, const char *hex)
{
    if (!secret || !hex || strlen(hex) != 2 * GW_AUTH_DIGEST) {
        return false;
    }
    uint8_t want[GW_AUTH_DIGEST];
    if (cm_unhex(hex, want, sizeof want) != GW_AUTH_DIGEST) {
        return false;
    }
    return gw_auth_check(secret, want);
}

char *
gw_auth_token_new(void)
{
    uint8_t r[GW_AUTH_TOKEN_BYTES];
    cm_random(r, sizeof r);
    char *out = cm_alloc(2 * sizeof r + 1);
    cm_hex(r, sizeof r, out);
    return out;
}

char *
gw_auth_instance_new(void)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint8_t r[GW_AUTH_INSTANCE_LEN];
    char *out = cm_alloc(GW_AUTH_INSTANCE_LEN + 1);
    //  Rejection sampling keeps the distribution uniform: 252 = 7 * 36.
    for (size_t i = 0; i < GW_AUTH_INSTANCE_LEN;) {
        cm_random(r, sizeof r);
        for (size_t j = 0; j < sizeof r && i < GW_AUTH_INSTANCE_LEN; j++) {
            if (r[j] < 252) {
                out[i++] = alphabet[r[j] % 36];
            }
        }
    }
    return out;
}

void
gw_auth_test(bool verbose)
{
    printf(" * gw_auth: ");
    //  Known answer: SHA-512("abc") (FIPS 180-2).
    char hex[GW_AUTH_HEX_SIZE];
    gw_auth_digest_hex("abc", hex);
    assert(streq(hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9e"
                      "eee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423"
                      "643ce80e2a9ac94fa54ca49f"));
    uint8_t d[GW_AUTH_DIGEST];
    gw_auth_digest("secret", d);
    assert(gw_auth_check("secret", d));
    assert(!gw_auth_check("Secret", d));
    assert(!gw_auth_check("", d));
    assert(!gw_auth_check(NULL, d));

    gw_auth_digest_hex("token", hex);
    assert(gw_auth_check_hex("token", hex));
    assert(!gw_auth_check_hex("tokem", hex));
    assert(!gw_auth_check_hex("token", NULL));
    assert(!gw_auth_check_hex("token", "abcd"));
    hex[5] = 'x';
    assert(!gw_auth_check_hex("token", hex));

    char *t1 = gw_auth_token_new();
    char *t2 = gw_auth_token_new();
    assert(strlen(t1) == 2 * GW_AUTH_TOKEN_BYTES);
    assert(!streq(t1, t2));
    free(t1);
    free(t2);

    char *id = gw_auth_instance_new();
    assert(strlen(id) == GW_AUTH_INSTANCE_LEN);
    for (const char *p = id; *p; p++) {
        assert(isdigit((unsigned char)*p) || isupper((unsigned char)*p));
    }
    free(id);
    printf("OK\n");
}
