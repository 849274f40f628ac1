/*  bench_crypto - throughput of the wa crypto modules

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Media encryption/decryption in MB/s (one-shot and streamed in 64 KiB
    chunks), XEdDSA signatures and X25519 agreements per second, app-state
    value encryption per second. Usage: bench_crypto [megabytes]
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm/cm.h"
#include "wa/wa_appstate.h"
#include "wa/wa_crypto.h"
#include "wa/wa_media.h"

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
s_report(const char *what, double count, double secs, const char *unit)
{
    printf("%-40s %12.1f %s\n", what, count / secs, unit);
}

int
main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 64;
    if (mb == 0 || mb > 4096) {
        fprintf(stderr, "usage: bench_crypto [megabytes 1-4096]\n");
        return 2;
    }
    size_t len = mb << 20;
    uint8_t *plain = malloc(len);
    uint8_t *enc = malloc(WA_MEDIA_ENC_LEN(len));
    uint8_t *out = malloc(WA_MEDIA_ENC_LEN(len));
    assert(plain && enc && out);
    memset(plain, 0x5a, len);
    uint8_t media_key[32];
    assert(wa_random(media_key, sizeof(media_key)) == 0);

    //  One-shot media encryption and verified decryption.
    size_t enc_len = 0;
    size_t out_len = 0;
    wa_media_hashes_t h;
    double t0 = s_now();
    assert(wa_media_encrypt(media_key, 32, WA_MEDIA_VIDEO, plain, len, enc,
                            &enc_len, &h) == 0);
    double t1 = s_now();
    assert(wa_media_decrypt(media_key, 32, WA_MEDIA_VIDEO, enc, enc_len,
                            h.file_enc_sha256, h.file_sha256, out,
                            &out_len) == 0);
    double t2 = s_now();
    assert(out_len == len && memcmp(out, plain, len) == 0);
    printf("media: %zu MiB\n", mb);
    s_report("media encrypt (one-shot, +hashes)", (double)mb, t1 - t0, "MiB/s");
    s_report("media decrypt (one-shot, verified)", (double)mb, t2 - t1,
             "MiB/s");

    //  Streamed in 64 KiB chunks.
    const size_t chunk = 64 * 1024;
    wa_media_enc_t *se = wa_media_enc_new(media_key, 32, WA_MEDIA_VIDEO);
    assert(se);
    size_t pos = 0;
    t0 = s_now();
    for (size_t i = 0; i < len; i += chunk) {
        size_t n = len - i < chunk ? len - i : chunk;
        size_t w = 0;
        assert(wa_media_enc_update(se, plain + i, n, enc + pos, &w) == 0);
        pos += w;
    }
    size_t w = 0;
    assert(wa_media_enc_final(se, enc + pos, &w, &h) == 0);
    pos += w;
    t1 = s_now();
    wa_media_enc_destroy(&se);
    assert(pos == enc_len);
    wa_media_dec_t *sd = wa_media_dec_new(media_key, 32, WA_MEDIA_VIDEO,
                                          h.file_enc_sha256, h.file_sha256);
    assert(sd);
    pos = 0;
    t1 = s_now();
    for (size_t i = 0; i < enc_len; i += chunk) {
        size_t n = enc_len - i < chunk ? enc_len - i : chunk;
        assert(wa_media_dec_update(sd, enc + i, n, out + pos, &w) == 0);
        pos += w;
    }
    assert(wa_media_dec_final(sd, out + pos, &w) == 0);
    t2 = s_now();
    wa_media_dec_destroy(&sd);
    s_report("media encrypt (64 KiB stream)", (double)mb, t1 - t0, "MiB/s");
    s_report("media decrypt (64 KiB stream)", (double)mb, t2 - t1, "MiB/s");

    //  XEdDSA and X25519.
    uint8_t priv[32];
    uint8_t pub[32];
    uint8_t peer_priv[32];
    uint8_t peer_pub[32];
    uint8_t sig[64];
    uint8_t shared[32];
    assert(wa_x25519_keypair(priv, pub) == 0);
    assert(wa_x25519_keypair(peer_priv, peer_pub) == 0);
    const char *msg = "bench message of a typical ADV/prekey length......";
    const int rounds = 2000;
    t0 = s_now();
    for (int i = 0; i < rounds; i++) {
        assert(wa_xeddsa_sign(priv, msg, strlen(msg), sig) == 0);
    }
    t1 = s_now();
    for (int i = 0; i < rounds; i++) {
        assert(wa_xeddsa_verify(pub, msg, strlen(msg), sig, 64) == 0);
    }
    t2 = s_now();
    s_report("xeddsa sign", rounds, t1 - t0, "ops/s");
    s_report("xeddsa verify", rounds, t2 - t1, "ops/s");
    t0 = s_now();
    for (int i = 0; i < rounds; i++) {
        assert(wa_x25519_shared(priv, peer_pub, shared) == 0);
    }
    t1 = s_now();
    s_report("x25519 shared secret", rounds, t1 - t0, "ops/s");

    //  App-state value encryption (typical 64-byte SyncActionData).
    wa_appstate_keys_t keys;
    assert(wa_appstate_keys(media_key, 32, &keys) == 0);
    uint8_t blob[WA_APPSTATE_VALUE_LEN(64)];
    uint8_t key_id[6] = {0, 0, 0, 1, 0, 1};
    size_t blob_len = 0;
    t0 = s_now();
    for (int i = 0; i < rounds * 10; i++) {
        assert(wa_appstate_value_encrypt(&keys, WA_APPSTATE_SET, key_id, 6,
                                         plain, 64, blob, &blob_len) == 0);
    }
    t1 = s_now();
    s_report("app-state value encrypt (64 B)", rounds * 10, t1 - t0, "ops/s");
    uint8_t lthash[WA_LTHASH_LEN] = {0};
    t0 = s_now();
    for (int i = 0; i < rounds * 10; i++) {
        assert(wa_appstate_lthash_add(lthash, blob, 32) == 0);
    }
    t1 = s_now();
    s_report("lthash add", rounds * 10, t1 - t0, "ops/s");

    free(plain);
    free(enc);
    free(out);
    return 0;
}
