/*  wa_e2e - WhatsApp's end-to-end message layer over libsignal

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group_cipher.h>
#include <group_session_builder.h>
#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_e2e.h"

const char *
wa_e2e_type_name(wa_enc_type_t type)
{
    switch (type) {
    case WA_ENC_PKMSG:
        return "pkmsg";
    case WA_ENC_SKMSG:
        return "skmsg";
    default:
        return "msg";
    }
}

int
wa_e2e_type_parse(const char *name, wa_enc_type_t *type)
{
    if (cm_streq(name, "msg")) {
        *type = WA_ENC_MSG;
    }
    else if (cm_streq(name, "pkmsg")) {
        *type = WA_ENC_PKMSG;
    }
    else if (cm_streq(name, "skmsg")) {
        *type = WA_ENC_SKMSG;
    }
    else {
        return -1;
    }
    return 0;
}

int
wa_e2e_pad(const uint8_t *in, size_t len, uint8_t **out_p, size_t *out_len)
{
    if (len > WA_E2E_MAX_SIZE) {
        return -1;
    }
    uint8_t r = 0;
    if (wa_random(&r, 1) != 0) {
        return -1;
    }
    uint8_t p = (uint8_t) ((r & 0x0F) + 1);
    uint8_t *out = cm_alloc(len + p);
    memcpy(out, in, len);
    memset(out + len, p, p);
    *out_p = out;
    *out_len = len + p;
    return 0;
}

int
wa_e2e_unpad(const uint8_t *in, size_t len, size_t *plain_len)
{
    if (len == 0) {
        return -1;
    }
    uint8_t p = in[len - 1];
    if (p == 0 || p > len) {
        return -1;
    }
    for (size_t i = len - p; i < len; i++) {
        if (in[i] != p) {
            return -1;
        }
    }
    *plain_len = len - p;
    return 0;
}

void
wa_e2e_address(const char *user, int domain, char *out, size_t size)
{
    if (domain) {
        snprintf(out, size, "%s_%d", user, domain);
    }
    else {
        snprintf(out, size, "%s", user);
    }
}

void
wa_e2e_message_id(const char *own_user, char *out)
{
    uint8_t buf[8 + 64 + 5 + 16];
    size_t at = 0;
    uint64_t secs = (uint64_t) (cm_now_ms() / 1000);
    for (int i = 7; i >= 0; i--) {
        buf[at++] = (uint8_t) (secs >> (8 * i));
    }
    size_t ulen = own_user ? strlen(own_user) : 0;
    if (ulen > 64) {
        ulen = 64;
    }
    memcpy(buf + at, own_user ? own_user : "", ulen);
    at += ulen;
    memcpy(buf + at, "@c.us", 5);
    at += 5;
    cm_random(buf + at, 16);
    at += 16;
    uint8_t hash[WA_SHA256_LEN];
    wa_sha256(buf, at, hash);
    static const char hex[] = "0123456789ABCDEF";
    memcpy(out, "3EB0", 4);
    for (int i = 0; i < 9; i++) {
        out[4 + 2 * i] = hex[hash[i] >> 4];
        out[5 + 2 * i] = hex[hash[i] & 15];
    }
    out[WA_E2E_ID_LEN] = 0;
}

static signal_context *
s_ctx(wa_sigstore_t *store)
{
    return wa_signal_context(wa_sigstore_signal(store));
}

int
wa_e2e_process_bundle(wa_sigstore_t *store, const char *name, int device,
                      const wa_bundle_t *b)
{
    wa_signal_t *sig = wa_sigstore_signal(store);
    //  libsignal checks this too; checking first gives a clearer failure
    uint8_t djb[WA_DJB_KEY_LEN];
    wa_signal_djb_encode(b->skey, djb);
    if (wa_xeddsa_verify(b->identity, djb, sizeof djb, b->skey_sig, 64) != 0) {
        cm_log_warn("rejected prekey bundle", "reason=\"bad signed prekey "
                                              "signature\" device=%d",
                    device);
        return -1;
    }
    ec_public_key *identity = wa_signal_public_key(sig, b->identity);
    ec_public_key *skey = wa_signal_public_key(sig, b->skey);
    ec_public_key *prekey =
        b->has_prekey ? wa_signal_public_key(sig, b->prekey) : NULL;
    session_pre_key_bundle *bundle = NULL;
    session_builder *builder = NULL;
    signal_protocol_address addr = {name, strlen(name), device};
    int rc = -1;
    if (!identity || !skey || (b->has_prekey && !prekey)) {
        goto cleanup;
    }
    if (session_pre_key_bundle_create(
            &bundle, b->registration_id, device,
            b->has_prekey ? b->prekey_id : PRE_KEY_MEDIUM_MAX_VALUE, prekey,
            b->skey_id, skey, b->skey_sig, 64, identity)
        != 0) {
        goto cleanup;
    }
    if (session_builder_create(&builder, wa_sigstore_context(store), &addr,
                               s_ctx(store))
            == 0
        && session_builder_process_pre_key_bundle(builder, bundle) == 0) {
        rc = 0;
    }
cleanup:
    if (builder) {
        session_builder_free(builder);
    }
    SIGNAL_UNREF(bundle);
    SIGNAL_UNREF(identity);
    SIGNAL_UNREF(skey);
    SIGNAL_UNREF(prekey);
    return rc;
}

bool
wa_e2e_has_session(wa_sigstore_t *store, const char *name, int device)
{
    signal_protocol_address addr = {name, strlen(name), device};
    return signal_protocol_session_contains_session(wa_sigstore_context(store),
                                                    &addr)
           == 1;
}

//  Move a signal_buffer's bytes into a plain heap buffer.
static void
s_take(signal_buffer *buf, uint8_t **out_p, size_t *out_len)
{
    *out_len = signal_buffer_len(buf);
    *out_p = cm_alloc(*out_len);
    memcpy(*out_p, signal_buffer_data(buf), *out_len);
}

int
wa_e2e_encrypt(wa_sigstore_t *store, const char *name, int device,
               const uint8_t *plain, size_t len, wa_enc_type_t *type,
               uint8_t **ct_p, size_t *ct_len)
{
    if (!wa_e2e_has_session(store, name, device)) {
        return WA_E2E_NO_SESSION;
    }
    uint8_t *padded = NULL;
    size_t padded_len = 0;
    if (wa_e2e_pad(plain, len, &padded, &padded_len) != 0) {
        return -1;
    }
    signal_protocol_address addr = {name, strlen(name), device};
    session_cipher *cipher = NULL;
    ciphertext_message *msg = NULL;
    int rc = -1;
    if (session_cipher_create(&cipher, wa_sigstore_context(store), &addr,
                              s_ctx(store))
            == 0
        && session_cipher_encrypt(cipher, padded, padded_len, &msg) == 0) {
        *type = ciphertext_message_get_type(msg) == CIPHERTEXT_PREKEY_TYPE
                    ? WA_ENC_PKMSG
                    : WA_ENC_MSG;
        s_take(ciphertext_message_get_serialized(msg), ct_p, ct_len);
        rc = 0;
    }
    SIGNAL_UNREF(msg);
    if (cipher) {
        session_cipher_free(cipher);
    }
    free(padded);
    return rc;
}

//  Map a libsignal decrypt result to ours.
static int
s_result(int rc)
{
    if (rc == SG_ERR_DUPLICATE_MESSAGE) {
        return WA_E2E_DUPLICATE;
    }
    if (rc == SG_ERR_NO_SESSION) {
        return WA_E2E_NO_SESSION;
    }
    return rc == 0 ? 0 : -1;
}

//  Strip padding from a decrypted buffer into a new plain buffer.
static int
s_unpadded(signal_buffer *buf, uint8_t **plain_p, size_t *plain_len)
{
    size_t n = 0;
    if (wa_e2e_unpad(signal_buffer_data(buf), signal_buffer_len(buf), &n)
        != 0) {
        return -1;
    }
    *plain_p = cm_alloc(n ? n : 1);
    memcpy(*plain_p, signal_buffer_data(buf), n);
    *plain_len = n;
    return 0;
}

int
wa_e2e_decrypt(wa_sigstore_t *store, const char *name, int device,
               wa_enc_type_t type, const uint8_t *ct, size_t len,
               uint8_t **plain_p, size_t *plain_len)
{
    if (len == 0 || len > WA_E2E_MAX_SIZE || type == WA_ENC_SKMSG) {
        return -1;
    }
    signal_protocol_address addr = {name, strlen(name), device};
    session_cipher *cipher = NULL;
    signal_buffer *plain = NULL;
    int rc = -1;
    if (session_cipher_create(&cipher, wa_sigstore_context(store), &addr,
                              s_ctx(store))
        != 0) {
        return -1;
    }
    if (type == WA_ENC_PKMSG) {
        pre_key_signal_message *m = NULL;
        if (pre_key_signal_message_deserialize(&m, ct, len, s_ctx(store))
            == 0) {
            rc = s_result(session_cipher_decrypt_pre_key_signal_message(
                cipher, m, NULL, &plain));
        }
        SIGNAL_UNREF(m);
    }
    else {
        signal_message *m = NULL;
        if (signal_message_deserialize(&m, ct, len, s_ctx(store)) == 0) {
            rc = s_result(
                session_cipher_decrypt_signal_message(cipher, m, NULL, &plain));
        }
        SIGNAL_UNREF(m);
    }
    session_cipher_free(cipher);
    if (rc == 0 && s_unpadded(plain, plain_p, plain_len) != 0) {
        rc = -1;
    }
    signal_buffer_free(plain);
    return rc;
}

int
wa_e2e_pkmsg_identity(wa_sigstore_t *store, const uint8_t *ct, size_t len,
                      uint8_t pub[32])
{
    if (!ct || len == 0 || len > WA_E2E_MAX_SIZE) {
        return -1;
    }
    pre_key_signal_message *m = NULL;
    signal_buffer *key = NULL;
    int rc = -1;
    if (pre_key_signal_message_deserialize(&m, ct, len, s_ctx(store)) == 0 &&
        ec_public_key_serialize(
            &key, pre_key_signal_message_get_identity_key(m)) == 0 &&
        signal_buffer_len(key) == 33) {
        memcpy(pub, signal_buffer_data(key) + 1, 32);
        rc = 0;
    }
    signal_buffer_free(key);
    SIGNAL_UNREF(m);
    return rc;
}

int
wa_e2e_group_encrypt(wa_sigstore_t *store, const char *group,
                     const char *own_name, int own_device,
                     const uint8_t *plain, size_t len, uint8_t **skmsg_p,
                     size_t *skmsg_len, uint8_t **skdm_p, size_t *skdm_len)
{
    signal_protocol_sender_key_name name = {
        group, strlen(group), {own_name, strlen(own_name), own_device}};
    group_session_builder *builder = NULL;
    sender_key_distribution_message *skdm = NULL;
    group_cipher *cipher = NULL;
    ciphertext_message *msg = NULL;
    uint8_t *padded = NULL;
    size_t padded_len = 0;
    int rc = -1;
    //  create_session returns the current key's distribution message,
    //  creating the key on first use
    if (group_session_builder_create(&builder, wa_sigstore_context(store),
                                     s_ctx(store))
            != 0
        || group_session_builder_create_session(builder, &skdm, &name) != 0) {
        goto cleanup;
    }
    if (wa_e2e_pad(plain, len, &padded, &padded_len) != 0
        || group_cipher_create(&cipher, wa_sigstore_context(store), &name,
                               s_ctx(store))
               != 0
        || group_cipher_encrypt(cipher, padded, padded_len, &msg) != 0) {
        goto cleanup;
    }
    s_take(ciphertext_message_get_serialized(msg), skmsg_p, skmsg_len);
    if (skdm_p) {
        s_take(ciphertext_message_get_serialized((ciphertext_message *) skdm),
               skdm_p, skdm_len);
    }
    rc = 0;
cleanup:
    free(padded);
    SIGNAL_UNREF(msg);
    SIGNAL_UNREF(skdm);
    if (cipher) {
        group_cipher_free(cipher);
    }
    if (builder) {
        group_session_builder_free(builder);
    }
    return rc;
}

int
wa_e2e_group_process_skdm(wa_sigstore_t *store, const char *group,
                          const char *sender, int device,
                          const uint8_t *data, size_t len)
{
    if (len == 0 || len > WA_E2E_MAX_SIZE) {
        return -1;
    }
    signal_protocol_sender_key_name name = {
        group, strlen(group), {sender, strlen(sender), device}};
    sender_key_distribution_message *skdm = NULL;
    group_session_builder *builder = NULL;
    int rc = -1;
    if (sender_key_distribution_message_deserialize(&skdm, data, len,
                                                    s_ctx(store))
            == 0
        && group_session_builder_create(&builder, wa_sigstore_context(store),
                                        s_ctx(store))
               == 0
        && group_session_builder_process_session(builder, &name, skdm) == 0) {
        rc = 0;
    }
    if (builder) {
        group_session_builder_free(builder);
    }
    SIGNAL_UNREF(skdm);
    return rc;
}

int
wa_e2e_group_decrypt(wa_sigstore_t *store, const char *group,
                     const char *sender, int device, const uint8_t *data,
                     size_t len, uint8_t **plain_p, size_t *plain_len)
{
    if (len == 0 || len > WA_E2E_MAX_SIZE) {
        return -1;
    }
    signal_protocol_sender_key_name name = {
        group, strlen(group), {sender, strlen(sender), device}};
    sender_key_message *msg = NULL;
    group_cipher *cipher = NULL;
    signal_buffer *plain = NULL;
    int rc = -1;
    if (sender_key_message_deserialize(&msg, data, len, s_ctx(store)) == 0
        && group_cipher_create(&cipher, wa_sigstore_context(store), &name,
                               s_ctx(store))
               == 0) {
        rc = s_result(group_cipher_decrypt(cipher, msg, NULL, &plain));
    }
    if (rc == 0 && s_unpadded(plain, plain_p, plain_len) != 0) {
        rc = -1;
    }
    signal_buffer_free(plain);
    if (cipher) {
        group_cipher_free(cipher);
    }
    SIGNAL_UNREF(msg);
    return rc;
}

//  --------------------------------------------------------------------
//  Self test

//  A device with its store and a published bundle.
typedef struct {
    wa_sigstore_t *store;  //  its Signal state
    wa_bundle_t bundle;    //  what the server would hand out
} s_dev_t;

static void
s_dev_init(s_dev_t *d, wa_signal_t *sig, uint32_t prekey_id)
{
    d->store = wa_sigstore_new(sig);
    assert(wa_sigstore_generate_identity(d->store) == 0);
    assert(wa_sigstore_identity(d->store, NULL, d->bundle.identity,
                                &d->bundle.registration_id)
           == 0);
    assert(wa_sigstore_generate_signed_prekey(d->store, 1, d->bundle.skey,
                                              d->bundle.skey_sig)
           == 0);
    d->bundle.skey_id = 1;
    assert(wa_sigstore_generate_prekeys(d->store, prekey_id, 5) == 0);
    d->bundle.has_prekey = true;
    d->bundle.prekey_id = prekey_id;
    assert(wa_sigstore_prekey(d->store, prekey_id, d->bundle.prekey) == 0);
}

static void
s_roundtrip(s_dev_t *from, const char *from_name, s_dev_t *to,
            const char *to_name, const char *text, wa_enc_type_t want)
{
    wa_enc_type_t type;
    uint8_t *ct = NULL, *pt = NULL;
    size_t ct_len = 0, pt_len = 0;
    assert(wa_e2e_encrypt(from->store, to_name, 0, (const uint8_t *) text,
                          strlen(text), &type, &ct, &ct_len)
           == 0);
    assert(type == want);
    assert(wa_e2e_decrypt(to->store, from_name, 0, type, ct, ct_len, &pt,
                          &pt_len)
           == 0);
    assert(pt_len == strlen(text) && memcmp(pt, text, pt_len) == 0);
    free(pt);
    //  the same ciphertext again is a duplicate
    assert(wa_e2e_decrypt(to->store, from_name, 0, type, ct, ct_len, &pt,
                          &pt_len)
           == WA_E2E_DUPLICATE);
    free(ct);
}

void
wa_e2e_test(bool verbose)
{
    printf(" * wa_e2e: ");
    cm_log_init(NULL, "error");
    //  padding
    uint8_t *padded = NULL;
    size_t plen = 0, n = 0;
    for (int i = 0; i < 50; i++) {
        assert(wa_e2e_pad((const uint8_t *) "abc", 3, &padded, &plen) == 0);
        assert(plen >= 4 && plen <= 19);
        assert(wa_e2e_unpad(padded, plen, &n) == 0 && n == 3);
        free(padded);
    }
    assert(wa_e2e_unpad((const uint8_t *) "ab\x03", 3, &n) == -1);
    assert(wa_e2e_unpad((const uint8_t *) "a\x02\x01", 3, &n) == 0 && n == 2);
    assert(wa_e2e_unpad((const uint8_t *) "", 0, &n) == -1);
    assert(wa_e2e_unpad((const uint8_t *) "a\x00", 2, &n) == -1);
    //  names
    wa_enc_type_t t;
    assert(wa_e2e_type_parse("pkmsg", &t) == 0 && t == WA_ENC_PKMSG);
    assert(wa_e2e_type_parse("bogus", &t) == -1);
    assert(cm_streq(wa_e2e_type_name(WA_ENC_SKMSG), "skmsg"));
    char addr[64];
    wa_e2e_address("12345", 1, addr, sizeof addr);
    assert(cm_streq(addr, "12345_1"));
    wa_e2e_address("12345", 0, addr, sizeof addr);
    assert(cm_streq(addr, "12345"));
    char id1[WA_E2E_ID_LEN + 1], id2[WA_E2E_ID_LEN + 1];
    wa_e2e_message_id("15551234567", id1);
    wa_e2e_message_id("15551234567", id2);
    assert(strlen(id1) == 22 && strncmp(id1, "3EB0", 4) == 0);
    assert(strcmp(id1, id2) != 0);

    //  1:1 between two devices
    wa_signal_t *sig = wa_signal_new();
    s_dev_t alice, bob, carol;
    s_dev_init(&alice, sig, 10);
    s_dev_init(&bob, sig, 20);
    s_dev_init(&carol, sig, 30);
    wa_enc_type_t type;
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    assert(wa_e2e_encrypt(alice.store, "bob", 0, (const uint8_t *) "x", 1,
                          &type, &ct, &ct_len)
           == WA_E2E_NO_SESSION);
    //  a bundle with a forged signature is refused
    wa_bundle_t forged = bob.bundle;
    forged.skey_sig[0] ^= 1;
    assert(wa_e2e_process_bundle(alice.store, "bob", 0, &forged) == -1);
    assert(!wa_e2e_has_session(alice.store, "bob", 0));
    assert(wa_e2e_process_bundle(alice.store, "bob", 0, &bob.bundle) == 0);
    assert(wa_e2e_has_session(alice.store, "bob", 0));
    s_roundtrip(&alice, "alice", &bob, "bob", "hello bob", WA_ENC_PKMSG);
    s_roundtrip(&bob, "bob", &alice, "alice", "hi alice", WA_ENC_MSG);
    s_roundtrip(&alice, "alice", &bob, "bob", "all good", WA_ENC_MSG);
    //  a bundle without a one-time prekey works too
    wa_bundle_t no_otk = carol.bundle;
    no_otk.has_prekey = false;
    assert(wa_e2e_process_bundle(bob.store, "carol", 0, &no_otk) == 0);
    s_roundtrip(&bob, "bob", &carol, "carol", "no otk", WA_ENC_PKMSG);
    //  garbage ciphertext
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    assert(wa_e2e_decrypt(bob.store, "alice", 0, WA_ENC_MSG,
                          (const uint8_t *) "garbage", 7, &pt, &pt_len)
           == -1);
    assert(wa_e2e_decrypt(bob.store, "alice", 0, WA_ENC_PKMSG,
                          (const uint8_t *) "", 0, &pt, &pt_len)
           == -1);

    //  group: alice sends with a sender key; bob and carol get the SKDM
    const char *group = "120363000000000001@g.us";
    uint8_t *skmsg = NULL, *skdm = NULL;
    size_t skmsg_len = 0, skdm_len = 0;
    assert(wa_e2e_group_encrypt(alice.store, group, "alice", 0,
                                (const uint8_t *) "hi group", 8, &skmsg,
                                &skmsg_len, &skdm, &skdm_len)
           == 0);
    //  before the SKDM, bob cannot read it
    assert(wa_e2e_group_decrypt(bob.store, group, "alice", 0, skmsg,
                                skmsg_len, &pt, &pt_len)
           != 0);
    assert(wa_e2e_group_process_skdm(bob.store, group, "alice", 0, skdm,
                                     skdm_len)
           == 0);
    assert(wa_e2e_group_process_skdm(carol.store, group, "alice", 0, skdm,
                                     skdm_len)
           == 0);
    assert(wa_e2e_group_decrypt(bob.store, group, "alice", 0, skmsg,
                                skmsg_len, &pt, &pt_len)
           == 0);
    assert(pt_len == 8 && memcmp(pt, "hi group", 8) == 0);
    free(pt);
    assert(wa_e2e_group_decrypt(carol.store, group, "alice", 0, skmsg,
                                skmsg_len, &pt, &pt_len)
           == 0);
    free(pt);
    assert(wa_e2e_group_decrypt(carol.store, group, "alice", 0, skmsg,
                                skmsg_len, &pt, &pt_len)
           == WA_E2E_DUPLICATE);
    free(skmsg);
    free(skdm);
    //  the next group message needs no new SKDM
    assert(wa_e2e_group_encrypt(alice.store, group, "alice", 0,
                                (const uint8_t *) "second", 6, &skmsg,
                                &skmsg_len, NULL, NULL)
           == 0);
    assert(wa_e2e_group_decrypt(bob.store, group, "alice", 0, skmsg,
                                skmsg_len, &pt, &pt_len)
           == 0);
    assert(pt_len == 6 && memcmp(pt, "second", 6) == 0);
    free(pt);
    free(skmsg);
    assert(wa_e2e_group_process_skdm(bob.store, group, "x", 0,
                                     (const uint8_t *) "junk", 4)
           == -1);

    wa_sigstore_destroy(&alice.store);
    wa_sigstore_destroy(&bob.store);
    wa_sigstore_destroy(&carol.store);
    wa_signal_destroy(&sig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
