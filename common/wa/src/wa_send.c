/*  wa_send - outgoing message stanzas: per-device encryption and helpers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_e2e.h"
#include "wa/wa_jid.h"
#include "wa/wa_message.h"
#include "wa/wa_send.h"

int
wa_send_address(const char *jid, char name[WA_SEND_NAME_MAX], int *device)
{
    wa_jid_t *j = jid ? wa_jid_new_from(jid) : NULL;
    int domain = j ? wa_jid_domain(j) : -1;
    if (!j || wa_jid_is_server(j) || domain < 0) {
        wa_jid_destroy(&j);
        return -1;
    }
    wa_e2e_address(wa_jid_user(j), domain, name, WA_SEND_NAME_MAX);
    *device = wa_jid_device(j);
    wa_jid_destroy(&j);
    return 0;
}

wa_node_t *
wa_send_enc(wa_sigstore_t *store, const char *device, const uint8_t *plain,
            size_t len, bool *pkmsg)
{
    char name[WA_SEND_NAME_MAX];
    int dev = 0;
    if (wa_send_address(device, name, &dev) != 0) {
        return NULL;
    }
    wa_enc_type_t type = WA_ENC_MSG;
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    if (wa_e2e_encrypt(store, name, dev, plain, len, &type, &ct, &ct_len) !=
        0) {
        return NULL;
    }
    wa_node_t *enc = wa_node_new("enc");
    wa_node_set_attr(enc, "v", "2");
    wa_node_set_attr(enc, "type", wa_e2e_type_name(type));
    wa_node_set_bytes(enc, ct, ct_len);
    free(ct);
    if (pkmsg) {
        *pkmsg = type == WA_ENC_PKMSG;
    }
    return enc;
}

int
wa_send_add_participant(wa_sigstore_t *store, wa_node_t *participants,
                        const char *device, const uint8_t *plain, size_t len,
                        bool *pkmsg)
{
    wa_node_t *enc = wa_send_enc(store, device, plain, len, pkmsg);
    if (!enc) {
        return -1;
    }
    wa_node_t *to = wa_node_add(participants, "to");
    wa_node_set_attr(to, "jid", device);
    wa_node_append(to, &enc);
    return 0;
}

const char *
wa_send_stanza_type(const uint8_t *msg, size_t len)
{
    wa_message_t *m = wa_message_decode(msg, len);
    const char *type = "text";
    if (m) {
        const char *kind = wa_message_type(m);
        if (cm_streq(kind, "reaction")) {
            type = "reaction";
        } else if (cm_streq(kind, "poll_creation") ||
                   cm_streq(kind, "poll_vote")) {
            type = "poll";
        } else if (wa_message_has_media(m)) {
            type = "media";
        }
    }
    wa_message_destroy(&m);
    return type;
}

static int
s_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
wa_send_phash(const char *const *devices, size_t count)
{
    char **forms = cm_alloc((count ? count : 1) * sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        wa_jid_t *j = devices[i] ? wa_jid_new_from(devices[i]) : NULL;
        if (j && !wa_jid_is_server(j)) {
            forms[n++] = cm_sprintf(
                "%s.%u:%u@%s", wa_jid_user(j), (unsigned)wa_jid_agent(j),
                (unsigned)wa_jid_device(j), wa_jid_server(j));
        }
        wa_jid_destroy(&j);
    }
    qsort(forms, n, sizeof(char *), s_strcmp);
    wa_part_t *parts = cm_alloc((n ? n : 1) * sizeof(wa_part_t));
    for (size_t i = 0; i < n; i++) {
        parts[i].data = forms[i];
        parts[i].len = strlen(forms[i]);
    }
    uint8_t hash[WA_SHA256_LEN];
    int rc = wa_sha256_parts(parts, n, hash);
    assert(rc == 0);
    char *b64 = cm_base64_encode(hash, 6);
    char *out = cm_sprintf("2:%s", b64);
    free(b64);
    for (size_t i = 0; i < n; i++) {
        free(forms[i]);
    }
    free(parts);
    free(forms);
    return out;
}

//  --------------------------------------------------------------------
//  Self test

void
wa_send_test(bool verbose)
{
    printf(" * wa_send: ");
    (void)verbose;
    char name[WA_SEND_NAME_MAX];
    int device = -1;
    assert(wa_send_address("15551234567:12@s.whatsapp.net", name, &device) ==
           0);
    assert(strcmp(name, "15551234567") == 0 && device == 12);
    assert(wa_send_address("123456789012345:3@lid", name, &device) == 0);
    assert(strcmp(name, "123456789012345_1") == 0 && device == 3);
    assert(wa_send_address("15551234567:99@hosted", name, &device) == 0);
    assert(strcmp(name, "15551234567_128") == 0 && device == 99);
    assert(wa_send_address("15551234567@s.whatsapp.net", name, &device) == 0);
    assert(device == 0);
    assert(wa_send_address("120363012345678901@g.us", name, &device) == -1);
    assert(wa_send_address("@s.whatsapp.net", name, &device) == -1);
    assert(wa_send_address("junk", name, &device) == -1);
    assert(wa_send_address(NULL, name, &device) == -1);

    //  Stanza types
    uint8_t *msg = NULL;
    size_t len = 0;
    assert(wa_message_build_text("hi", NULL, NULL, NULL, &msg, &len) == 0);
    assert(strcmp(wa_send_stanza_type(msg, len), "text") == 0);
    free(msg);
    assert(wa_message_build_reaction("1@s.whatsapp.net", true, "X", NULL, "+",
                                     1, &msg, &len) == 0);
    assert(strcmp(wa_send_stanza_type(msg, len), "reaction") == 0);
    free(msg);
    uint8_t junk[3] = {0xff, 0xff, 0xff};
    assert(strcmp(wa_send_stanza_type(junk, 3), "text") == 0);

    //  phash: order-independent, 8 Base64 characters after "2:"
    const char *a[] = {"2@s.whatsapp.net", "1:3@s.whatsapp.net", "x"};
    const char *b[] = {"1:3@s.whatsapp.net", "2@s.whatsapp.net"};
    char *ha = wa_send_phash(a, 3);
    char *hb = wa_send_phash(b, 2);
    assert(strcmp(ha, hb) == 0);
    assert(strncmp(ha, "2:", 2) == 0 && strlen(ha) == 10);
    //  Known answer: SHA-256("1.0:3@s.whatsapp.net2.0:0@s.whatsapp.net")
    uint8_t hash[WA_SHA256_LEN];
    const char *pre = "1.0:3@s.whatsapp.net2.0:0@s.whatsapp.net";
    wa_sha256(pre, strlen(pre), hash);
    char *b64 = cm_base64_encode(hash, 6);
    assert(strcmp(ha + 2, b64) == 0);
    free(b64);
    free(ha);
    free(hb);

    //  Encrypt for a device: no session first, then one from a bundle
    wa_signal_t *signal = wa_signal_new();
    wa_sigstore_t *alice = wa_sigstore_new(signal);
    wa_sigstore_t *bob = wa_sigstore_new(signal);
    assert(wa_sigstore_generate_identity(alice) == 0);
    assert(wa_sigstore_generate_identity(bob) == 0);
    wa_bundle_t bundle = {0};
    uint8_t priv[32];
    assert(wa_sigstore_identity(bob, priv, bundle.identity,
                                &bundle.registration_id) == 0);
    assert(wa_sigstore_generate_signed_prekey(bob, 1, bundle.skey,
                                              bundle.skey_sig) == 0);
    bundle.skey_id = 1;
    assert(wa_sigstore_generate_prekeys(bob, 1, 1) == 0);
    assert(wa_sigstore_prekey(bob, 1, bundle.prekey) == 0);
    bundle.prekey_id = 1;
    bundle.has_prekey = true;
    const char *bob_dev = "15550000002:4@s.whatsapp.net";
    wa_node_t *participants = wa_node_new("participants");
    bool pk = false;
    assert(wa_send_add_participant(alice, participants, bob_dev,
                                   (const uint8_t *)"hello", 5, &pk) == -1);
    assert(wa_send_enc(alice, "bad", (const uint8_t *)"x", 1, &pk) == NULL);
    assert(wa_e2e_process_bundle(alice, "15550000002", 4, &bundle) == 0);
    assert(wa_send_add_participant(alice, participants, bob_dev,
                                   (const uint8_t *)"hello", 5, &pk) == 0);
    assert(pk);
    const wa_node_t *to = wa_node_child(participants, "to");
    assert(to && wa_node_attr_eq(to, "jid", bob_dev));
    const wa_node_t *enc = wa_node_child(to, "enc");
    assert(wa_node_attr_eq(enc, "v", "2") &&
           wa_node_attr_eq(enc, "type", "pkmsg"));
    //  Bob decrypts it
    size_t ct_len = 0;
    const uint8_t *ct = wa_node_bytes(enc, &ct_len);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    assert(wa_e2e_decrypt(bob, "15550000001", 7, WA_ENC_PKMSG, ct, ct_len,
                          &plain, &plain_len) == 0);
    assert(plain_len == 5 && memcmp(plain, "hello", 5) == 0);
    free(plain);
    wa_node_destroy(&participants);
    wa_sigstore_destroy(&alice);
    wa_sigstore_destroy(&bob);
    wa_signal_destroy(&signal);
    printf("OK\n");
}
