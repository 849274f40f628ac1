/*  wa_cert - the Noise server certificate chain (issue and verify)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Signatures are checked over the details bytes exactly as received,
    never over a re-serialisation.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_cert.h"
#include "wa/wa_crypto.h"
#include "wa/wa_handshake.pb-c.h"
#include "wa/wa_vectors.h"

typedef Wa__Hs__CertChain pb_chain_t;
typedef Wa__Hs__CertChain__NoiseCertificate pb_cert_t;
typedef Wa__Hs__CertChain__NoiseCertificate__Details pb_details_t;

const uint8_t wa_cert_root_pub[32] = {
    0x14, 0x23, 0x75, 0x57, 0x4d, 0x0a, 0x58, 0x71, 0x66, 0xaa, 0xe7,
    0x1e, 0xbe, 0x51, 0x64, 0x37, 0xc4, 0xa2, 0x8b, 0x73, 0xe3, 0x69,
    0x5c, 0x6c, 0xe1, 0xf7, 0xf9, 0x54, 0x5d, 0xa8, 0xee, 0x6b};

//  Serialise details into a new buffer. Caller owns return value.
static uint8_t *
s_details_pack(const wa_cert_details_t *d, size_t *len_p)
{
    pb_details_t pb = WA__HS__CERT_CHAIN__NOISE_CERTIFICATE__DETAILS__INIT;
    pb.has_serial = pb.has_issuer_serial = true;
    pb.serial = d->serial;
    pb.issuer_serial = d->issuer_serial;
    pb.has_key = true;
    pb.key.data = (uint8_t *)d->key;
    pb.key.len = 32;
    pb.has_not_before = pb.has_not_after = true;
    pb.not_before = d->not_before;
    pb.not_after = d->not_after;
    *len_p = protobuf_c_message_get_packed_size(&pb.base);
    uint8_t *out = cm_alloc(*len_p);
    protobuf_c_message_pack(&pb.base, out);
    return out;
}

uint8_t *
wa_cert_chain_build(const uint8_t root_priv[32],
                    const wa_cert_details_t *intermediate,
                    const uint8_t intermediate_priv[32],
                    const wa_cert_details_t *leaf, size_t *len_p)
{
    assert(root_priv && intermediate && intermediate_priv && leaf && len_p);
    uint8_t *out = NULL;
    size_t int_len, leaf_len;
    uint8_t *int_bytes = s_details_pack(intermediate, &int_len);
    uint8_t *leaf_bytes = s_details_pack(leaf, &leaf_len);
    uint8_t int_sig[WA_XEDDSA_SIG_LEN];
    uint8_t leaf_sig[WA_XEDDSA_SIG_LEN];
    if (wa_xeddsa_sign(root_priv, int_bytes, int_len, int_sig) ||
        wa_xeddsa_sign(intermediate_priv, leaf_bytes, leaf_len, leaf_sig)) {
        goto cleanup;
    }
    pb_cert_t pb_int = WA__HS__CERT_CHAIN__NOISE_CERTIFICATE__INIT;
    pb_int.has_details = pb_int.has_signature = true;
    pb_int.details.data = int_bytes;
    pb_int.details.len = int_len;
    pb_int.signature.data = int_sig;
    pb_int.signature.len = sizeof(int_sig);
    pb_cert_t pb_leaf = WA__HS__CERT_CHAIN__NOISE_CERTIFICATE__INIT;
    pb_leaf.has_details = pb_leaf.has_signature = true;
    pb_leaf.details.data = leaf_bytes;
    pb_leaf.details.len = leaf_len;
    pb_leaf.signature.data = leaf_sig;
    pb_leaf.signature.len = sizeof(leaf_sig);
    pb_chain_t chain = WA__HS__CERT_CHAIN__INIT;
    chain.leaf = &pb_leaf;
    chain.intermediate = &pb_int;
    *len_p = wa__hs__cert_chain__get_packed_size(&chain);
    out = cm_alloc(*len_p);
    wa__hs__cert_chain__pack(&chain, out);
cleanup:
    free(int_bytes);
    free(leaf_bytes);
    return out;
}

uint8_t *
wa_cert_chain_issue(const uint8_t root_priv[32], const uint8_t static_pub[32],
                    uint64_t now, size_t *len_p)
{
    assert(root_priv && static_pub && len_p);
    uint8_t int_priv[32];
    wa_cert_details_t inter = {.serial = WA_CERT_INTERMEDIATE_SERIAL,
                               .issuer_serial = WA_CERT_ROOT_SERIAL};
    if (wa_x25519_keypair(int_priv, inter.key)) {
        return NULL;
    }
    uint64_t start = now > WA_CERT_BACKDATE_S ? now - WA_CERT_BACKDATE_S : 0;
    inter.not_before = start;
    inter.not_after = now + WA_CERT_INTERMEDIATE_LIFETIME_S;
    wa_cert_details_t leaf = {.serial = inter.serial + 1,
                              .issuer_serial = inter.serial,
                              .not_before = start,
                              .not_after = now + WA_CERT_LEAF_LIFETIME_S};
    memcpy(leaf.key, static_pub, 32);
    uint8_t *chain =
        wa_cert_chain_build(root_priv, &inter, int_priv, &leaf, len_p);
    wa_crypto_wipe(int_priv, sizeof(int_priv));
    return chain;
}

//  Unpack one certificate's details into out. Returns 0 or -1.
static int
s_details_unpack(const pb_cert_t *cert, wa_cert_details_t *out)
{
    if (!cert || !cert->has_details) {
        return -1;
    }
    pb_details_t *pb = (pb_details_t *)protobuf_c_message_unpack(
        &wa__hs__cert_chain__noise_certificate__details__descriptor, NULL,
        cert->details.len, cert->details.data);
    if (!pb) {
        return -1;
    }
    int rc = -1;
    if (pb->has_key && pb->key.len == 32) {
        memset(out, 0, sizeof(*out));
        out->serial = pb->serial;
        out->issuer_serial = pb->issuer_serial;
        memcpy(out->key, pb->key.data, 32);
        out->not_before = pb->not_before;
        out->not_after = pb->not_after;
        rc = 0;
    }
    protobuf_c_message_free_unpacked(&pb->base, NULL);
    return rc;
}

int
wa_cert_chain_parse(const uint8_t *chain, size_t len,
                    wa_cert_details_t *intermediate, wa_cert_details_t *leaf)
{
    if (!chain && len) {
        return -1;
    }
    pb_chain_t *pb = wa__hs__cert_chain__unpack(NULL, len, chain);
    if (!pb) {
        return -1;
    }
    wa_cert_details_t tmp_int, tmp_leaf;
    int rc = s_details_unpack(pb->intermediate, &tmp_int) == 0 &&
                     s_details_unpack(pb->leaf, &tmp_leaf) == 0
                 ? 0
                 : -1;
    if (rc == 0 && intermediate) {
        *intermediate = tmp_int;
    }
    if (rc == 0 && leaf) {
        *leaf = tmp_leaf;
    }
    wa__hs__cert_chain__free_unpacked(pb, NULL);
    return rc;
}

//  First failing check, or NULL if the chain is valid.
static const char *
s_check(const pb_chain_t *pb, const uint8_t root_pub[32],
        const uint8_t static_pub[32], uint64_t now)
{
    const pb_cert_t *inter = pb->intermediate;
    const pb_cert_t *leaf = pb->leaf;
    if (!inter || !leaf) {
        return "missing leaf or intermediate certificate";
    }
    if (!inter->has_details || !inter->has_signature || !leaf->has_details ||
        !leaf->has_signature) {
        return "missing details or signature";
    }
    if (inter->signature.len != WA_XEDDSA_SIG_LEN ||
        leaf->signature.len != WA_XEDDSA_SIG_LEN) {
        return "bad signature length";
    }
    if (wa_xeddsa_verify(root_pub, inter->details.data, inter->details.len,
                         inter->signature.data, inter->signature.len)) {
        return "intermediate signature does not verify with the root key";
    }
    wa_cert_details_t d_int, d_leaf;
    if (s_details_unpack(inter, &d_int)) {
        return "malformed intermediate details";
    }
    if (d_int.issuer_serial != WA_CERT_ROOT_SERIAL) {
        return "intermediate issuer serial is not the root serial";
    }
    if (wa_xeddsa_verify(d_int.key, leaf->details.data, leaf->details.len,
                         leaf->signature.data, leaf->signature.len)) {
        return "leaf signature does not verify with the intermediate key";
    }
    if (s_details_unpack(leaf, &d_leaf)) {
        return "malformed leaf details";
    }
    if (d_leaf.issuer_serial != d_int.serial) {
        return "leaf issuer serial is not the intermediate serial";
    }
    if (!wa_crypto_equal(d_leaf.key, static_pub, 32)) {
        return "leaf key is not the server static key";
    }
    if (now < d_int.not_before || now > d_int.not_after) {
        return "intermediate certificate is not valid now";
    }
    if (now < d_leaf.not_before || now > d_leaf.not_after) {
        return "leaf certificate is not valid now";
    }
    return NULL;
}

int
wa_cert_chain_verify(const uint8_t *chain, size_t len,
                     const uint8_t root_pub[32], const uint8_t static_pub[32],
                     uint64_t now, const char **reason_p)
{
    assert(root_pub && static_pub);
    const char *reason = "malformed certificate chain";
    pb_chain_t *pb = NULL;
    if (chain || !len) {
        pb = wa__hs__cert_chain__unpack(NULL, len, chain);
    }
    if (pb) {
        reason = s_check(pb, root_pub, static_pub, now);
        wa__hs__cert_chain__free_unpacked(pb, NULL);
    }
    if (reason_p) {
        *reason_p = reason;
    }
    return reason ? -1 : 0;
}

//  --------------------------------------------------------------------------
//  Self test

//  Test random source: a fixed byte pattern.
static int
s_fixed_random(void *arg, uint8_t *buf, size_t len)
{
    uint8_t *counter = arg;
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(*counter + i * 13);
    }
    (*counter)++;
    return 0;
}

void
wa_cert_test(bool verbose)
{
    printf(" * wa_cert: ");
    if (verbose) {
        printf("\n");
    }
    json_t *root = wa_vectors_load("noise-handshake.json");
    json_t *keys = json_object_get(root, "keys");
    uint8_t root_priv[32], root_pub[32], int_priv[32], int_pub[32];
    uint8_t static_pub[32];
    wa_vectors_field_into(keys, "fake_root_priv", root_priv, 32);
    wa_vectors_field_into(keys, "fake_root_pub", root_pub, 32);
    wa_vectors_field_into(keys, "fake_intermediate_priv", int_priv, 32);
    wa_vectors_field_into(keys, "fake_intermediate_pub", int_pub, 32);
    wa_vectors_field_into(keys, "server_static_pub", static_pub, 32);
    size_t chain_len = 0;
    uint8_t *chain =
        wa_vectors_field(root, "cert_chain_plaintext_hex", &chain_len);

    //  The vector chain parses and verifies against the fake root.
    wa_cert_details_t d_int, d_leaf;
    assert(wa_cert_chain_parse(chain, chain_len, &d_int, &d_leaf) == 0);
    assert(d_int.serial == 7 && d_int.issuer_serial == 0);
    assert(d_leaf.serial == 8 && d_leaf.issuer_serial == 7);
    assert(memcmp(d_int.key, int_pub, 32) == 0);
    assert(memcmp(d_leaf.key, static_pub, 32) == 0);
    assert(d_int.not_before == 1700000000 && d_int.not_after == 4102444800);
    uint64_t now = (uint64_t)(cm_now_ms() / 1000);
    const char *reason = NULL;
    assert(wa_cert_chain_verify(chain, chain_len, root_pub, static_pub, now,
                                &reason) == 0);
    assert(reason == NULL);

    //  Each strict check refuses.
    assert(wa_cert_chain_verify(chain, chain_len, wa_cert_root_pub, static_pub,
                                now, &reason) == -1);
    assert(strstr(reason, "root"));
    assert(wa_cert_chain_verify(chain, chain_len, root_pub, int_pub, now,
                                &reason) == -1);
    assert(strstr(reason, "static"));
    assert(wa_cert_chain_verify(chain, chain_len, root_pub, static_pub,
                                1600000000, &reason) == -1);
    assert(strstr(reason, "valid"));
    assert(wa_cert_chain_verify(chain, chain_len, root_pub, static_pub,
                                4102444801, &reason) == -1);
    for (size_t i = 0; i < chain_len; i++) {
        chain[i] ^= 0x01;
        assert(wa_cert_chain_verify(chain, chain_len, root_pub, static_pub, now,
                                    NULL) == -1);
        chain[i] ^= 0x01;
    }
    for (size_t n = 0; n < chain_len; n++) {
        assert(wa_cert_chain_verify(chain, n, root_pub, static_pub, now,
                                    NULL) == -1);
    }
    assert(wa_cert_chain_verify(NULL, 0, root_pub, static_pub, now, &reason) ==
           -1);
    assert(wa_cert_chain_parse(chain, 10, NULL, NULL) == -1);

    //  Build with wrong serials: leaf issuer serial mismatch, intermediate
    //  not issued by serial 0.
    wa_cert_details_t bad_leaf = d_leaf;
    bad_leaf.issuer_serial = 9;
    size_t len;
    uint8_t *built =
        wa_cert_chain_build(root_priv, &d_int, int_priv, &bad_leaf, &len);
    assert(built);
    assert(wa_cert_chain_verify(built, len, root_pub, static_pub, now,
                                &reason) == -1);
    assert(strstr(reason, "leaf issuer serial"));
    free(built);
    wa_cert_details_t bad_int = d_int;
    bad_int.issuer_serial = 1;
    built = wa_cert_chain_build(root_priv, &bad_int, int_priv, &d_leaf, &len);
    assert(wa_cert_chain_verify(built, len, root_pub, static_pub, now,
                                &reason) == -1);
    assert(strstr(reason, "intermediate issuer serial"));
    free(built);
    //  Same details as the vector: only the (randomized) signatures differ,
    //  so the length and the details bytes match.
    built = wa_cert_chain_build(root_priv, &d_int, int_priv, &d_leaf, &len);
    assert(len == chain_len);
    assert(wa_cert_chain_verify(built, len, root_pub, static_pub, now, NULL) ==
           0);
    assert(memcmp(built + 4, chain + 4, 0x32) == 0);
    free(built);

    //  Issue a fresh chain with a deterministic random source.
    uint8_t counter = 1;
    wa_crypto_set_random(s_fixed_random, &counter);
    built = wa_cert_chain_issue(root_priv, static_pub, now, &len);
    wa_crypto_set_random(NULL, NULL);
    assert(built);
    assert(wa_cert_chain_verify(built, len, root_pub, static_pub, now, NULL) ==
           0);
    assert(wa_cert_chain_verify(built, len, root_pub, static_pub,
                                now + WA_CERT_LEAF_LIFETIME_S + 1,
                                &reason) == -1);
    assert(strstr(reason, "leaf certificate"));
    assert(wa_cert_chain_parse(built, len, &d_int, &d_leaf) == 0);
    assert(d_int.serial == WA_CERT_INTERMEDIATE_SERIAL);
    assert(d_int.issuer_serial == WA_CERT_ROOT_SERIAL);
    assert(d_leaf.serial == WA_CERT_INTERMEDIATE_SERIAL + 1);
    assert(d_leaf.issuer_serial == WA_CERT_INTERMEDIATE_SERIAL);
    assert(d_leaf.not_before == now - WA_CERT_BACKDATE_S);
    free(built);
    free(chain);
    json_decref(root);
    printf("OK\n");
}
