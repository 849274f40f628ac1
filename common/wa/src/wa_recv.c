/*  wa_recv - incoming message stanzas: source, decryption, receipts, acks

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_jid.h"
#include "wa/wa_keys.h"
#include "wa/wa_recv.h"
#include "wa/wa_send.h"

//  Most items taken from one receipt.
#define S_MAX_ITEMS 1024

//  The user JID (no device) of a parsed JID. Caller owns return value.
static char *
s_user_text(const wa_jid_t *jid)
{
    wa_jid_t *u = wa_jid_new_parts(wa_jid_user(jid), wa_jid_server(jid), 0);
    char *out = cm_strdup(u ? wa_jid_str(u) : wa_jid_str(jid));
    wa_jid_destroy(&u);
    return out;
}

//  True when jid is the same user as own (any JID text, may be NULL).
static bool
s_same_user(const wa_jid_t *jid, const char *own)
{
    wa_jid_t *o = own ? wa_jid_new_from(own) : NULL;
    bool same = o && wa_jid_same_user(jid, o);
    wa_jid_destroy(&o);
    return same;
}

static bool
s_is_own(const wa_jid_t *jid, const char *own_pn, const char *own_lid)
{
    return s_same_user(jid, own_pn) || s_same_user(jid, own_lid);
}

void
wa_recv_source_clear(wa_recv_source_t *src)
{
    free(src->id);
    free(src->chat);
    free(src->sender);
    free(src->sender_user);
    free(src->recipient);
    free(src->push_name);
    free(src->sender_alt);
    memset(src, 0, sizeof *src);
}

int
wa_recv_source(wa_recv_source_t *src, const wa_node_t *node, const char *own_pn,
               const char *own_lid)
{
    memset(src, 0, sizeof *src);
    const char *id = wa_node_attr(node, "id");
    const char *from_text = wa_node_attr(node, "from");
    wa_jid_t *from = from_text ? wa_jid_new_from(from_text) : NULL;
    wa_jid_t *sender = NULL;
    int rc = -1;
    if (!id || !*id || strlen(id) > 128 || !from || wa_jid_is_server(from)) {
        goto cleanup;
    }
    src->id = cm_strdup(id);
    src->timestamp = wa_node_attr_int_or(node, "t", 0);
    const char *notify = wa_node_attr(node, "notify");
    src->push_name = notify ? cm_strdup(notify) : NULL;
    const char *recipient = wa_node_attr(node, "recipient");
    src->is_peer = wa_node_attr_eq(node, "category", "peer");
    if (wa_jid_is_group(from) || wa_jid_is_broadcast(from) ||
        wa_jid_is_status(from)) {
        //  Group or broadcast: the participant sent it
        const char *p = wa_node_attr(node, "participant");
        sender = p ? wa_jid_new_from(p) : NULL;
        if (!sender || wa_jid_is_server(sender)) {
            goto cleanup;
        }
        src->is_group = true;
        src->chat = s_user_text(from);
        src->from_me = s_is_own(sender, own_pn, own_lid);
    } else if (wa_jid_is_newsletter(from)) {
        src->is_newsletter = true;
        src->chat = s_user_text(from);
        sender = wa_jid_dup(from);
    } else {
        sender = wa_jid_dup(from);
        src->from_me = s_is_own(from, own_pn, own_lid);
        wa_jid_t *r = recipient ? wa_jid_new_from(recipient) : NULL;
        if (src->from_me && r && !wa_jid_is_server(r)) {
            //  Our other device wrote to `recipient`
            src->chat = s_user_text(r);
        } else {
            src->chat = s_user_text(from);
        }
        wa_jid_destroy(&r);
    }
    //  The other address form of the sender, when the server gives it
    const char *alts[] = {"participant_pn", "participant_lid", "sender_pn",
                          "sender_lid"};
    for (size_t i = src->is_group ? 0 : 2; i < 4 && !src->sender_alt; i++) {
        const char *text = wa_node_attr(node, alts[i]);
        wa_jid_t *alt = text ? wa_jid_new_from(text) : NULL;
        if (alt && !wa_jid_is_server(alt) &&
            (wa_jid_is_pn(alt) || wa_jid_is_lid(alt))) {
            src->sender_alt = s_user_text(alt);
        }
        wa_jid_destroy(&alt);
    }
    src->recipient = recipient ? cm_strdup(recipient) : NULL;
    src->sender = cm_strdup(wa_jid_str(sender));
    src->sender_user = s_user_text(sender);
    rc = 0;
cleanup:
    wa_jid_destroy(&from);
    wa_jid_destroy(&sender);
    if (rc != 0) {
        wa_recv_source_clear(src);
    }
    return rc;
}

void
wa_recv_result_clear(wa_recv_result_t *res)
{
    wa_message_destroy(&res->message);
    free(res->plain);
    memset(res, 0, sizeof *res);
}

//  Accept a decrypted plaintext: store its key distribution, keep it as
//  the content if it has any. Returns 0, or -1 if it does not decode.
static int
s_accept(wa_sigstore_t *store, const wa_recv_source_t *src, const char *name,
         int device, uint8_t **plain_p, size_t len, wa_recv_result_t *res)
{
    wa_message_t *m = wa_message_decode(*plain_p, len);
    if (!m) {
        return -1;
    }
    const char *group = NULL;
    const uint8_t *skdm = NULL;
    size_t skdm_len = 0;
    if (wa_message_skdm(m, &group, &skdm, &skdm_len) == 0) {
        //  The distribution names its group; fall back to the chat
        const char *g = group && *group ? group : src->chat;
        if (wa_e2e_group_process_skdm(store, g, name, device, skdm, skdm_len) ==
            0) {
            res->skdm = true;
        } else {
            cm_log_warn("could not accept sender key distribution",
                        "group=%s sender=%s", g, src->sender);
        }
    }
    bool content = !cm_streq(wa_message_type(m), "unknown");
    if (content && !res->message) {
        res->message = m;
        res->plain = *plain_p;
        res->plain_len = len;
        *plain_p = NULL;
    } else {
        wa_message_destroy(&m);
    }
    return 0;
}

int
wa_recv_decrypt(wa_sigstore_t *store, const wa_node_t *node,
                const wa_recv_source_t *src, wa_recv_result_t *res)
{
    memset(res, 0, sizeof *res);
    if (src->is_newsletter) {
        const wa_node_t *pt = wa_node_child(node, "plaintext");
        size_t len = 0;
        const uint8_t *data = pt ? wa_node_bytes(pt, &len) : NULL;
        res->status = WA_RECV_EMPTY;
        if (data && len) {
            res->message = wa_message_decode(data, len);
            if (res->message) {
                res->plain = cm_alloc(len);
                memcpy(res->plain, data, len);
                res->plain_len = len;
                res->status = WA_RECV_OK;
            }
        }
        return 0;
    }
    char name[WA_SEND_NAME_MAX];
    int device = 0;
    if (wa_send_address(src->sender, name, &device) != 0) {
        res->status = WA_RECV_NACK;
        res->error = WA_RECV_NACK_PARSE;
        return 0;
    }
    size_t encs = 0;
    size_t failed = 0;
    size_t dups = 0;
    size_t bad_pb = 0;
    //  Pass 0: pairwise (pkmsg, msg); pass 1: sender key (skmsg)
    for (int pass = 0; pass < 2; pass++) {
        const wa_node_t *enc = NULL;
        while ((enc = wa_node_child_next(node, "enc", enc))) {
            wa_enc_type_t type;
            if (wa_e2e_type_parse(wa_node_attr(enc, "type"), &type) != 0) {
                continue; //  unsupported kind: not ours to read
            }
            if ((type == WA_ENC_SKMSG) != (pass == 1)) {
                continue;
            }
            encs++;
            size_t ct_len = 0;
            const uint8_t *ct = wa_node_bytes(enc, &ct_len);
            uint8_t *plain = NULL;
            size_t plain_len = 0;
            int rc = -1;
            if (!ct || ct_len == 0) {
                rc = -1;
            } else if (type == WA_ENC_SKMSG) {
                rc = src->is_group
                         ? wa_e2e_group_decrypt(store, src->chat, name, device,
                                                ct, ct_len, &plain, &plain_len)
                         : -1;
            } else {
                rc = wa_e2e_decrypt(store, name, device, type, ct, ct_len,
                                    &plain, &plain_len);
            }
            if (rc == WA_E2E_DUPLICATE) {
                dups++;
            } else if (rc != 0) {
                failed++;
            } else {
                if (type == WA_ENC_PKMSG) {
                    res->pkmsg = true;
                }
                if (s_accept(store, src, name, device, &plain, plain_len,
                             res) != 0) {
                    bad_pb++;
                }
            }
            free(plain);
        }
    }
    if (res->message) {
        res->status = WA_RECV_OK;
    } else if (failed) {
        res->status = WA_RECV_RETRY;
    } else if (bad_pb) {
        res->status = WA_RECV_NACK;
        res->error = WA_RECV_NACK_PROTOBUF;
    } else if (encs && dups == encs) {
        res->status = WA_RECV_DUPLICATE;
    } else if (encs || wa_node_child(node, "unavailable")) {
        res->status = WA_RECV_EMPTY;
    } else {
        res->status = WA_RECV_NACK;
        res->error = WA_RECV_NACK_UNRECOGNIZED;
    }
    return 0;
}

//  Copy attribute key of from to to when present.
static void
s_copy_attr(wa_node_t *to, const wa_node_t *from, const char *key)
{
    const char *v = wa_node_attr(from, key);
    if (v) {
        wa_node_set_attr(to, key, v);
    }
}

wa_node_t *
wa_recv_receipt(const wa_node_t *node, const wa_recv_source_t *src)
{
    wa_node_t *r = wa_node_new("receipt");
    wa_node_set_attr(r, "id", src->id);
    const char *from = wa_node_attr(node, "from");
    wa_node_set_attr(r, "to", from ? from : src->chat);
    s_copy_attr(r, node, "participant");
    s_copy_attr(r, node, "recipient");
    if (src->is_peer) {
        wa_node_set_attr(r, "type", "peer_msg");
    } else if (src->from_me) {
        wa_node_set_attr(r, "type", "sender");
    }
    return r;
}

wa_node_t *
wa_recv_ack(const wa_node_t *node, int error)
{
    const char *id = wa_node_attr(node, "id");
    const char *from = wa_node_attr(node, "from");
    if (!id || !from) {
        return NULL;
    }
    wa_node_t *ack = wa_node_new("ack");
    wa_node_set_attr(ack, "id", id);
    wa_node_set_attr(ack, "to", from);
    wa_node_set_attr(ack, "class", wa_node_tag(node));
    s_copy_attr(ack, node, "participant");
    s_copy_attr(ack, node, "recipient");
    if (!wa_node_is(node, "message") || error > 0) {
        s_copy_attr(ack, node, "type");
    }
    if (error > 0) {
        wa_node_set_attr_int(ack, "error", error);
    }
    return ack;
}

wa_node_t *
wa_recv_retry_receipt(const wa_node_t *node, int count,
                      uint32_t registration_id)
{
    const char *id = wa_node_attr(node, "id");
    const char *from = wa_node_attr(node, "from");
    if (!id || !from) {
        return NULL;
    }
    wa_node_t *r = wa_node_new("receipt");
    wa_node_set_attr(r, "id", id);
    wa_node_set_attr(r, "type", "retry");
    wa_node_set_attr(r, "to", from);
    s_copy_attr(r, node, "participant");
    s_copy_attr(r, node, "recipient");
    if (wa_node_attr_eq(node, "category", "peer")) {
        wa_node_set_attr(r, "category", "peer");
    }
    wa_node_t *retry = wa_node_add(r, "retry");
    wa_node_set_attr_int(retry, "count", count);
    wa_node_set_attr(retry, "id", id);
    wa_node_set_attr(retry, "t", wa_node_attr_or(node, "t", "0"));
    wa_node_set_attr(retry, "v", "1");
    uint8_t reg[4];
    wa_keys_put_u32(registration_id, reg);
    wa_node_set_bytes(wa_node_add(r, "registration"), reg, 4);
    return r;
}

void
wa_recv_receipt_clear(wa_recv_receipt_t *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].id);
        free(r->items[i].sender);
    }
    free(r->items);
    free(r->type);
    free(r->chat);
    memset(r, 0, sizeof *r);
}

static void
s_add_item(wa_recv_receipt_t *r, size_t *cap, const char *id,
           const char *sender, int64_t t)
{
    if (!id || !*id || strlen(id) > 128 || r->count >= S_MAX_ITEMS) {
        return;
    }
    if (r->count == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        r->items = realloc(r->items, *cap * sizeof(wa_recv_item_t));
        assert(r->items);
    }
    wa_recv_item_t *it = &r->items[r->count++];
    it->id = cm_strdup(id);
    it->sender = cm_strdup(sender);
    it->timestamp = t;
}

int
wa_recv_receipt_parse(wa_recv_receipt_t *r, const wa_node_t *node,
                      const char *own_pn, const char *own_lid)
{
    memset(r, 0, sizeof *r);
    if (!node || !wa_node_is(node, "receipt")) {
        return -1;
    }
    const char *type = wa_node_attr(node, "type");
    r->type = type ? cm_strdup(type) : NULL;
    int64_t t = wa_node_attr_int_or(node, "t", 0);
    size_t cap = 0;
    const wa_node_t *agg = wa_node_child(node, "participants");
    if (agg) {
        //  Aggregated group form: <participants key=MSGID><user jid t/>
        const char *from_text = wa_node_attr(node, "from");
        wa_jid_t *from = from_text ? wa_jid_new_from(from_text) : NULL;
        if (!from || !wa_jid_is_group(from)) {
            wa_jid_destroy(&from);
            wa_recv_receipt_clear(r);
            return -1;
        }
        r->chat = s_user_text(from);
        r->is_group = true;
        wa_jid_destroy(&from);
        for (; agg; agg = wa_node_child_next(node, "participants", agg)) {
            const char *key = wa_node_attr(agg, "key");
            const wa_node_t *u = NULL;
            while ((u = wa_node_child_next(agg, "user", u))) {
                const char *jid_text = wa_node_attr(u, "jid");
                wa_jid_t *jid = jid_text ? wa_jid_new_from(jid_text) : NULL;
                if (jid && !wa_jid_is_server(jid)) {
                    s_add_item(r, &cap, key, wa_jid_str(jid),
                               wa_node_attr_int_or(u, "t", t));
                }
                wa_jid_destroy(&jid);
            }
        }
        if (r->count == 0) {
            wa_recv_receipt_clear(r);
            return -1;
        }
        return 0;
    }
    wa_recv_source_t src;
    if (wa_recv_source(&src, node, own_pn, own_lid) != 0) {
        wa_recv_receipt_clear(r);
        return -1;
    }
    r->chat = cm_strdup(src.chat);
    r->from_me = src.from_me;
    r->is_group = src.is_group;
    s_add_item(r, &cap, src.id, src.sender, t);
    const wa_node_t *list = wa_node_child(node, "list");
    const wa_node_t *item = NULL;
    while (list && (item = wa_node_child_next(list, "item", item))) {
        s_add_item(r, &cap, wa_node_attr(item, "id"), src.sender, t);
    }
    wa_recv_source_clear(&src);
    return 0;
}

int
wa_recv_retry_parse(const wa_node_t *node, wa_recv_retry_t *r)
{
    memset(r, 0, sizeof *r);
    const wa_node_t *retry = node ? wa_node_child(node, "retry") : NULL;
    int64_t count = 0;
    if (!retry || wa_node_attr_int(retry, "count", &count) != 0 || count < 1 ||
        count > 1000) {
        return -1;
    }
    r->count = (int)count;
    r->timestamp = wa_node_attr_int_or(retry, "t", 0);
    const wa_node_t *reg = wa_node_child(node, "registration");
    size_t len = 0;
    const uint8_t *data = reg ? wa_node_bytes(reg, &len) : NULL;
    if (data && len == 4) {
        r->registration = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                          (uint32_t)data[2] << 8 | data[3];
        r->has_registration = true;
    }
    const wa_node_t *keys = wa_node_child(node, "keys");
    if (keys && wa_keys_parse_bundle(keys, reg, &r->bundle) == 0) {
        r->has_keys = true;
    }
    return 0;
}

//  --------------------------------------------------------------------
//  Self test

#define S_ALICE "15550000001@s.whatsapp.net"
#define S_ALICE_DEV "15550000001:2@s.whatsapp.net"
#define S_BOB "15550000002@s.whatsapp.net"
#define S_BOB_DEV "15550000002:3@s.whatsapp.net"
#define S_BOB_LID "222000000000002@lid"
#define S_GROUP "120363000000000001@g.us"

//  A device with identity, signed prekey and one prekey; its bundle.
static wa_sigstore_t *
s_device(wa_signal_t *signal, wa_bundle_t *bundle)
{
    wa_sigstore_t *store = wa_sigstore_new(signal);
    assert(wa_sigstore_generate_identity(store) == 0);
    uint8_t priv[32];
    memset(bundle, 0, sizeof *bundle);
    assert(wa_sigstore_identity(store, priv, bundle->identity,
                                &bundle->registration_id) == 0);
    assert(wa_sigstore_generate_signed_prekey(store, 1, bundle->skey,
                                              bundle->skey_sig) == 0);
    bundle->skey_id = 1;
    assert(wa_sigstore_generate_prekeys(store, 1, 2) == 0);
    assert(wa_sigstore_prekey(store, 1, bundle->prekey) == 0);
    bundle->prekey_id = 1;
    bundle->has_prekey = true;
    return store;
}

//  A <message> from `from` with one enc of plaintext `msg` for bob.
static wa_node_t *
s_message(wa_sigstore_t *sender_store, const char *id, const char *from,
          const char *participant, const uint8_t *msg, size_t len)
{
    wa_node_t *m = wa_node_new("message");
    wa_node_set_attr(m, "id", id);
    wa_node_set_attr(m, "from", from);
    if (participant) {
        wa_node_set_attr(m, "participant", participant);
    }
    wa_node_set_attr(m, "t", "1700000000");
    wa_node_set_attr(m, "notify", "Alice");
    wa_node_set_attr(m, "type", "text");
    wa_node_t *enc = wa_send_enc(sender_store, S_BOB_DEV, msg, len, NULL);
    assert(enc);
    wa_node_append(m, &enc);
    return m;
}

static void
s_test_source(void)
{
    wa_recv_source_t src;
    wa_node_t *n = wa_node_new_from_text(
        "<message id=\"A1\" from=\"15550000001:2@s.whatsapp.net\" t=\"5\" "
        "notify=\"Al\"/>",
        NULL);
    assert(wa_recv_source(&src, n, S_BOB_DEV, S_BOB_LID) == 0);
    assert(strcmp(src.id, "A1") == 0);
    assert(strcmp(src.chat, S_ALICE) == 0);
    assert(strcmp(src.sender, S_ALICE_DEV) == 0);
    assert(strcmp(src.sender_user, S_ALICE) == 0);
    assert(!src.from_me && !src.is_group && src.timestamp == 5);
    assert(strcmp(src.push_name, "Al") == 0);
    assert(src.sender_alt == NULL);
    wa_recv_source_clear(&src);
    wa_node_destroy(&n);

    //  From our other device to alice
    n = wa_node_new_from_text(
        "<message id=\"A2\" from=\"15550000002:7@s.whatsapp.net\" "
        "recipient=\"15550000001@s.whatsapp.net\"/>",
        NULL);
    assert(wa_recv_source(&src, n, S_BOB_DEV, S_BOB_LID) == 0);
    assert(src.from_me && strcmp(src.chat, S_ALICE) == 0);
    assert(strcmp(src.sender, "15550000002:7@s.whatsapp.net") == 0);
    wa_recv_source_clear(&src);
    wa_node_destroy(&n);

    //  Group, sender is the participant; from our LID = from me
    n = wa_node_new_from_text(
        "<message id=\"A3\" from=\"120363000000000001@g.us\" "
        "participant=\"222000000000002:5@lid\"/>",
        NULL);
    assert(wa_recv_source(&src, n, S_BOB_DEV, S_BOB_LID) == 0);
    assert(src.is_group && src.from_me);
    assert(strcmp(src.chat, S_GROUP) == 0);
    assert(strcmp(src.sender_user, S_BOB_LID) == 0);
    wa_recv_source_clear(&src);
    wa_node_destroy(&n);

    //  The other address form
    n = wa_node_new_from_text(
        "<message id=\"A4\" from=\"15550000001:2@s.whatsapp.net\" "
        "sender_lid=\"111000000000001:2@lid\"/>",
        NULL);
    assert(wa_recv_source(&src, n, S_BOB, NULL) == 0);
    assert(strcmp(src.sender_alt, "111000000000001@lid") == 0);
    wa_recv_source_clear(&src);
    wa_node_destroy(&n);
    n = wa_node_new_from_text(
        "<message id=\"A5\" from=\"120363000000000001@g.us\" "
        "participant=\"111000000000001:2@lid\" "
        "participant_pn=\"15550000001@s.whatsapp.net\" "
        "sender_pn=\"junk\"/>",
        NULL);
    assert(wa_recv_source(&src, n, S_BOB, NULL) == 0);
    assert(strcmp(src.sender_alt, S_ALICE) == 0);
    wa_recv_source_clear(&src);
    wa_node_destroy(&n);

    //  Channel
    n = wa_node_new_from_text(
        "<message id=\"9\" from=\"120363111@newsletter\"/>", NULL);
    assert(wa_recv_source(&src, n, NULL, NULL) == 0);
    assert(src.is_newsletter && !src.from_me);
    wa_recv_source_clear(&src);
    wa_node_destroy(&n);

    //  Garbage
    const char *bad[] = {"<message from=\"15550000001@s.whatsapp.net\"/>",
                         "<message id=\"1\"/>",
                         "<message id=\"1\" from=\"nonsense\"/>",
                         "<message id=\"1\" from=\"@s.whatsapp.net\"/>",
                         "<message id=\"1\" from=\"120363000000000001@g.us\"/>",
                         "<message id=\"1\" from=\"120363000000000001@g.us\" "
                         "participant=\"x\"/>",
                         "<message id=\"\" from=\"1@s.whatsapp.net\"/>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = wa_node_new_from_text(bad[i], NULL);
        assert(n);
        assert(wa_recv_source(&src, n, S_BOB, NULL) == -1);
        assert(src.id == NULL && src.chat == NULL);
        wa_node_destroy(&n);
    }
}

static void
s_test_receipts(void)
{
    //  Delivery receipt / ack shapes
    wa_node_t *m = wa_node_new_from_text(
        "<message id=\"X\" from=\"120363000000000001@g.us\" "
        "participant=\"15550000001:2@s.whatsapp.net\" type=\"text\" "
        "t=\"9\"/>",
        NULL);
    wa_recv_source_t src;
    assert(wa_recv_source(&src, m, S_BOB, NULL) == 0);
    wa_node_t *r = wa_recv_receipt(m, &src);
    assert(wa_node_is(r, "receipt") && wa_node_attr_eq(r, "id", "X"));
    assert(wa_node_attr_eq(r, "to", S_GROUP));
    assert(wa_node_attr_eq(r, "participant", S_ALICE_DEV));
    assert(!wa_node_attr(r, "type") && !wa_node_attr(r, "from"));
    wa_node_destroy(&r);
    wa_node_t *ack = wa_recv_ack(m, 0);
    assert(wa_node_attr_eq(ack, "class", "message"));
    assert(wa_node_attr_eq(ack, "to", S_GROUP));
    assert(!wa_node_attr(ack, "type") && !wa_node_attr(ack, "error"));
    wa_node_destroy(&ack);
    ack = wa_recv_ack(m, 491);
    assert(wa_node_attr_eq(ack, "error", "491"));
    assert(wa_node_attr_eq(ack, "type", "text"));
    wa_node_destroy(&ack);
    wa_node_t *retry = wa_recv_retry_receipt(m, 2, 0x01020304);
    assert(wa_node_attr_eq(retry, "type", "retry"));
    assert(wa_node_attr_eq(wa_node_child(retry, "retry"), "count", "2"));
    assert(wa_node_attr_eq(wa_node_child(retry, "retry"), "t", "9"));
    wa_recv_retry_t rp;
    //  The requester's view parses back (with the from attribute set)
    wa_node_set_attr(retry, "from", wa_node_attr(retry, "to"));
    assert(wa_recv_retry_parse(retry, &rp) == 0);
    assert(rp.count == 2 && rp.timestamp == 9 && !rp.has_keys);
    assert(rp.has_registration && rp.registration == 0x01020304);
    wa_node_destroy(&retry);
    wa_recv_source_clear(&src);
    wa_node_destroy(&m);
    m = wa_node_new("message");
    assert(wa_recv_ack(m, 0) == NULL);
    assert(wa_recv_retry_receipt(m, 1, 1) == NULL);
    assert(wa_recv_retry_parse(m, &rp) == -1);
    wa_node_destroy(&m);

    //  From our own other device: type sender
    m = wa_node_new_from_text(
        "<message id=\"Y\" from=\"15550000002:9@s.whatsapp.net\" "
        "recipient=\"15550000001@s.whatsapp.net\"/>",
        NULL);
    assert(wa_recv_source(&src, m, S_BOB, NULL) == 0);
    r = wa_recv_receipt(m, &src);
    assert(wa_node_attr_eq(r, "type", "sender"));
    assert(wa_node_attr_eq(r, "recipient", S_ALICE));
    wa_node_destroy(&r);
    wa_recv_source_clear(&src);
    wa_node_destroy(&m);

    //  Incoming receipts: read with a list, aggregated group form
    wa_recv_receipt_t rc;
    wa_node_t *n = wa_node_new_from_text(
        "<receipt id=\"M1\" from=\"15550000001:2@s.whatsapp.net\" "
        "type=\"read\" t=\"77\"><list><item id=\"M2\"/><item/>"
        "<item id=\"M3\"/></list></receipt>",
        NULL);
    assert(wa_recv_receipt_parse(&rc, n, S_BOB, NULL) == 0);
    assert(strcmp(rc.type, "read") == 0 && strcmp(rc.chat, S_ALICE) == 0);
    assert(rc.count == 3 && !rc.from_me && !rc.is_group);
    assert(strcmp(rc.items[0].id, "M1") == 0);
    assert(strcmp(rc.items[2].id, "M3") == 0);
    assert(strcmp(rc.items[1].sender, S_ALICE_DEV) == 0);
    assert(rc.items[1].timestamp == 77);
    wa_recv_receipt_clear(&rc);
    wa_node_destroy(&n);
    n = wa_node_new_from_text(
        "<receipt id=\"Z\" from=\"120363000000000001@g.us\">"
        "<participants key=\"M9\"><user jid=\"15550000001@s.whatsapp.net\" "
        "t=\"5\"/><user jid=\"bad\"/><user jid=\"15550000003@s.whatsapp.net\""
        "/></participants></receipt>",
        NULL);
    assert(wa_recv_receipt_parse(&rc, n, S_BOB, NULL) == 0);
    assert(rc.is_group && rc.type == NULL && rc.count == 2);
    assert(strcmp(rc.items[0].id, "M9") == 0 && rc.items[0].timestamp == 5);
    assert(strcmp(rc.items[1].sender, "15550000003@s.whatsapp.net") == 0);
    wa_recv_receipt_clear(&rc);
    wa_node_destroy(&n);
    const char *bad[] = {"<receipt/>", "<receipt id=\"1\"/>",
                         "<message id=\"1\" from=\"1@s.whatsapp.net\"/>",
                         "<receipt id=\"1\" from=\"1@s.whatsapp.net\">"
                         "<participants/></receipt>",
                         "<receipt id=\"1\" from=\"1@g.us\">"
                         "<participants key=\"k\"/></receipt>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = wa_node_new_from_text(bad[i], NULL);
        assert(n);
        assert(wa_recv_receipt_parse(&rc, n, S_BOB, NULL) == -1);
        assert(rc.count == 0 && rc.items == NULL);
        wa_node_destroy(&n);
    }
}

void
wa_recv_test(bool verbose)
{
    printf(" * wa_recv: ");
    (void)verbose;
    s_test_source();
    s_test_receipts();

    wa_signal_t *signal = wa_signal_new();
    wa_bundle_t alice_bundle;
    wa_bundle_t bob_bundle;
    wa_sigstore_t *alice = s_device(signal, &alice_bundle);
    wa_sigstore_t *bob = s_device(signal, &bob_bundle);
    assert(wa_e2e_process_bundle(alice, "15550000002", 3, &bob_bundle) == 0);

    //  1:1 text: pkmsg, then msg; replay is a duplicate
    uint8_t *msg = NULL;
    size_t len = 0;
    assert(wa_message_build_text("hello bob", NULL, NULL, NULL, &msg, &len) ==
           0);
    wa_node_t *m1 = s_message(alice, "M1", S_ALICE_DEV, NULL, msg, len);
    assert(wa_node_attr_eq(wa_node_child(m1, "enc"), "type", "pkmsg"));
    wa_recv_source_t src;
    wa_recv_result_t res;
    assert(wa_recv_source(&src, m1, S_BOB_DEV, S_BOB_LID) == 0);
    assert(wa_recv_decrypt(bob, m1, &src, &res) == 0);
    assert(res.status == WA_RECV_OK && res.pkmsg);
    assert(strcmp(wa_message_body(res.message), "hello bob") == 0);
    assert(res.plain_len == len && memcmp(res.plain, msg, len) == 0);
    wa_recv_result_clear(&res);
    assert(wa_recv_decrypt(bob, m1, &src, &res) == 0);
    assert(res.status == WA_RECV_DUPLICATE);
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    free(msg);

    //  Bob answers in the session; alice reads it
    assert(wa_message_build_text("hi alice", "M1", S_ALICE, NULL, &msg, &len) ==
           0);
    wa_node_t *m2 = wa_node_new("message");
    wa_node_set_attr(m2, "id", "M2");
    wa_node_set_attr(m2, "from", S_BOB_DEV);
    wa_node_t *enc = wa_send_enc(bob, S_ALICE_DEV, msg, len, NULL);
    assert(enc && wa_node_attr_eq(enc, "type", "msg"));
    wa_node_append(m2, &enc);
    assert(wa_recv_source(&src, m2, S_ALICE, NULL) == 0);
    assert(wa_recv_decrypt(alice, m2, &src, &res) == 0);
    assert(res.status == WA_RECV_OK && !res.pkmsg);
    assert(cm_streq(wa_message_reply_id(res.message), "M1"));
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    free(msg);

    //  Group: alice's skmsg fails for bob until the SKDM arrives in the
    //  same stanza (pairwise first)
    assert(wa_message_build_text("hello group", NULL, NULL, NULL, &msg, &len) ==
           0);
    uint8_t *skmsg = NULL;
    size_t skmsg_len = 0;
    uint8_t *skdm = NULL;
    size_t skdm_len = 0;
    assert(wa_e2e_group_encrypt(alice, S_GROUP, "15550000001", 2, msg, len,
                                &skmsg, &skmsg_len, &skdm, &skdm_len) == 0);
    wa_node_t *g = wa_node_new("message");
    wa_node_set_attr(g, "id", "G1");
    wa_node_set_attr(g, "from", S_GROUP);
    wa_node_set_attr(g, "participant", S_ALICE_DEV);
    wa_node_t *sk = wa_node_new("enc");
    wa_node_set_attr(sk, "v", "2");
    wa_node_set_attr(sk, "type", "skmsg");
    wa_node_set_bytes(sk, skmsg, skmsg_len);
    wa_node_append(g, &sk);
    assert(wa_recv_source(&src, g, S_BOB, NULL) == 0);
    assert(wa_recv_decrypt(bob, g, &src, &res) == 0);
    assert(res.status == WA_RECV_RETRY);
    wa_recv_result_clear(&res);
    //  Now with the SKDM pairwise, placed after the skmsg on purpose
    uint8_t *dist = NULL;
    size_t dist_len = 0;
    assert(wa_message_build_skdm(S_GROUP, skdm, skdm_len, &dist, &dist_len) ==
           0);
    wa_node_t *pair = wa_send_enc(alice, S_BOB_DEV, dist, dist_len, NULL);
    assert(pair);
    wa_node_append(g, &pair);
    assert(wa_recv_decrypt(bob, g, &src, &res) == 0);
    assert(res.status == WA_RECV_OK && res.skdm);
    assert(strcmp(wa_message_body(res.message), "hello group") == 0);
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    free(dist);
    free(skdm);
    free(skmsg);
    free(msg);

    //  Garbage ciphertext: RETRY; nothing to read: NACK; only an
    //  <unavailable> placeholder: EMPTY
    wa_node_t *junk = wa_node_new_from_text(
        "<message id=\"J\" from=\"15550000001:2@s.whatsapp.net\">"
        "<enc v=\"2\" type=\"msg\">0x0102</enc></message>",
        NULL);
    assert(wa_recv_source(&src, junk, S_BOB, NULL) == 0);
    assert(wa_recv_decrypt(bob, junk, &src, &res) == 0);
    assert(res.status == WA_RECV_RETRY);
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    wa_node_destroy(&junk);
    junk = wa_node_new_from_text(
        "<message id=\"J\" from=\"15550000001:2@s.whatsapp.net\"/>", NULL);
    assert(wa_recv_source(&src, junk, S_BOB, NULL) == 0);
    assert(wa_recv_decrypt(bob, junk, &src, &res) == 0);
    assert(res.status == WA_RECV_NACK &&
           res.error == WA_RECV_NACK_UNRECOGNIZED);
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    wa_node_destroy(&junk);
    junk = wa_node_new_from_text(
        "<message id=\"J\" from=\"15550000001:2@s.whatsapp.net\">"
        "<unavailable type=\"view_once\"/><enc type=\"frank\">0x01</enc>"
        "<enc v=\"2\" type=\"msg\"/></message>",
        NULL);
    assert(wa_recv_source(&src, junk, S_BOB, NULL) == 0);
    assert(wa_recv_decrypt(bob, junk, &src, &res) == 0);
    assert(res.status == WA_RECV_RETRY); //  the empty msg enc fails
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    wa_node_destroy(&junk);
    junk = wa_node_new_from_text(
        "<message id=\"J\" from=\"15550000001:2@s.whatsapp.net\">"
        "<unavailable type=\"view_once\"/></message>",
        NULL);
    assert(wa_recv_source(&src, junk, S_BOB, NULL) == 0);
    assert(wa_recv_decrypt(bob, junk, &src, &res) == 0);
    assert(res.status == WA_RECV_EMPTY);
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    wa_node_destroy(&junk);

    //  Channel plaintext
    assert(wa_message_build_text("news", NULL, NULL, NULL, &msg, &len) == 0);
    wa_node_t *nl = wa_node_new("message");
    wa_node_set_attr(nl, "id", "N1");
    wa_node_set_attr(nl, "from", "120363111@newsletter");
    wa_node_set_bytes(wa_node_add(nl, "plaintext"), msg, len);
    assert(wa_recv_source(&src, nl, S_BOB, NULL) == 0);
    assert(wa_recv_decrypt(bob, nl, &src, &res) == 0);
    assert(res.status == WA_RECV_OK);
    assert(strcmp(wa_message_body(res.message), "news") == 0);
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    wa_node_destroy(&nl);
    free(msg);

    wa_node_destroy(&g);
    wa_node_destroy(&m1);
    wa_node_destroy(&m2);
    wa_sigstore_destroy(&alice);
    wa_sigstore_destroy(&bob);
    wa_signal_destroy(&signal);
    printf("OK\n");
}
