/*  sim_prekeys - Signal prekeys: upload, count, digest, rotate, bundles

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_pair.h"
#include "sim_prekeys.h"

//  Prekey count under which the server warns the device.
#define SIM_PREKEY_LOW 5
//  Most users in one key query.
#define SIM_PREKEYS_MAX_USERS 1000

//  Bytes content of child `tag` with exactly `len` bytes, or NULL.
static const uint8_t *
s_child_bytes(const wa_node_t *node, const char *tag, size_t len)
{
    const wa_node_t *child = node ? wa_node_child(node, tag) : NULL;
    size_t n = 0;
    const uint8_t *data = child ? wa_node_bytes(child, &n) : NULL;
    return data && n == len ? data : NULL;
}

//  Parse a <key> or <skey> node: 3-byte id, 32-byte value (and 64-byte
//  signature when sig is not NULL). Returns 0 or -1.
static int
s_parse_key(const wa_node_t *node, uint32_t *id, uint8_t pub[32], uint8_t *sig)
{
    const uint8_t *idb = s_child_bytes(node, "id", 3);
    const uint8_t *value = s_child_bytes(node, "value", 32);
    const uint8_t *signature =
        sig ? s_child_bytes(node, "signature", 64) : NULL;
    if (!idb || !value || (sig && !signature)) {
        return -1;
    }
    *id = ((uint32_t)idb[0] << 16) | ((uint32_t)idb[1] << 8) | idb[2];
    memcpy(pub, value, 32);
    if (sig) {
        memcpy(sig, signature, 64);
    }
    return 0;
}

static wa_node_t *
s_key_node(const char *tag, uint32_t id, const uint8_t *pub, const uint8_t *sig)
{
    wa_node_t *node = wa_node_new(tag);
    sim_hub_set_uint(wa_node_add(node, "id"), id, 3);
    wa_node_set_bytes(wa_node_add(node, "value"), pub, 32);
    if (sig) {
        wa_node_set_bytes(wa_node_add(node, "signature"), sig, 64);
    }
    return node;
}

wa_node_t *
sim_prekeys_bundle(sim_hub_t *hub, sim_device_t *dev, const char *jid)
{
    if (dev->id == 0) {
        sim_pair_phone_keys(dev->account);
    }
    wa_node_t *user = wa_node_new("user");
    wa_node_set_attr(user, "jid", jid);
    if (!dev->has_identity || !dev->has_spk) {
        wa_node_t *error = wa_node_add(user, "error");
        wa_node_set_attr(error, "code", "404");
        wa_node_set_attr(error, "text", "item-not-found");
        return user;
    }
    sim_hub_set_uint(wa_node_add(user, "registration"), dev->registration_id,
                     4);
    uint8_t type = 5;
    wa_node_set_bytes(wa_node_add(user, "type"), &type, 1);
    wa_node_set_bytes(wa_node_add(user, "identity"), dev->identity_pub, 32);
    sim_prekey_t key;
    if (sim_device_prekey_take(dev, &key) == 0) {
        wa_node_t *k = s_key_node("key", key.id, key.pub, NULL);
        wa_node_append(user, &k);
    }
    wa_node_t *skey =
        s_key_node("skey", dev->spk_id, dev->spk_pub, dev->spk_sig);
    wa_node_append(user, &skey);
    size_t left = sim_device_prekey_count(dev);
    if (dev->id != 0 && left < SIM_PREKEY_LOW) {
        //  Prekeys running low: the server tells the device.
        wa_node_t *note =
            sim_hub_notification(hub, "encrypt", SIM_SERVER_JID, NULL);
        wa_node_set_attr_int(wa_node_add(note, "count"), "value",
                             (int64_t)left);
        sim_hub_deliver(hub, dev, note, "notification");
        wa_node_destroy(&note);
    }
    return user;
}

static void
s_encrypt(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    bool is_get = wa_node_attr_eq(iq, "type", "get");
    sim_device_t *dev = sim_conn_device(conn);
    const sim_fault_rules_t *rules =
        sim_fault_rules(sim_hub_faults(hub), dev->account->phone);
    if (is_get && wa_node_child(iq, "count")) {
        wa_node_t *count = wa_node_new("count");
        wa_node_set_attr_int(count, "value",
                             (int64_t)sim_device_prekey_count(dev));
        sim_hub_iq_result(conn, iq, &count);
        return;
    }
    if (is_get && wa_node_child(iq, "digest")) {
        wa_node_t *digest = wa_node_new("digest");
        sim_hub_set_uint(wa_node_add(digest, "registration"),
                         dev->registration_id, 4);
        uint8_t type = 5;
        wa_node_set_bytes(wa_node_add(digest, "type"), &type, 1);
        wa_node_set_bytes(wa_node_add(digest, "identity"), dev->identity_pub,
                          32);
        wa_node_t *skey =
            s_key_node("skey", dev->spk_id, dev->spk_pub, dev->spk_sig);
        wa_node_append(digest, &skey);
        wa_node_t *list = wa_node_add(digest, "list");
        wa_node_set_list(list);
        //  Hash over identity, signed prekey and one-time keys.
        zchunk_t *buf = zchunk_new(NULL, 0);
        zchunk_extend(buf, dev->identity_pub, 32);
        zchunk_extend(buf, dev->spk_pub, 32);
        sim_prekey_t *key = (sim_prekey_t *)zlistx_first(dev->prekeys);
        while (key) {
            sim_hub_set_uint(wa_node_add(list, "id"), key->id, 3);
            zchunk_extend(buf, key->pub, 32);
            key = (sim_prekey_t *)zlistx_next(dev->prekeys);
        }
        uint8_t hash[WA_SHA256_LEN];
        wa_sha256(zchunk_data(buf), zchunk_size(buf), hash);
        zchunk_destroy(&buf);
        wa_node_set_bytes(wa_node_add(digest, "hash"), hash, 20);
        sim_hub_iq_result(conn, iq, &digest);
        return;
    }
    const wa_node_t *keyq = is_get ? wa_node_child(iq, "key") : NULL;
    if (keyq) {
        wa_node_t *list = wa_node_new("list");
        wa_node_set_list(list);
        size_t n = 0;
        for (const wa_node_t *u = wa_node_child_next(keyq, "user", NULL); u;
             u = wa_node_child_next(keyq, "user", u)) {
            if (++n > SIM_PREKEYS_MAX_USERS) {
                wa_node_destroy(&list);
                sim_hub_iq_error(conn, iq, 419, "resource-limit");
                return;
            }
            const char *jid = wa_node_attr(u, "jid");
            sim_device_t *target = sim_hub_device_of(hub, jid, NULL);
            const sim_fault_rules_t *trules =
                target ? sim_fault_rules(sim_hub_faults(hub),
                                         target->account->phone)
                       : rules;
            wa_node_t *user;
            if (!target || (target->id != 0 && !target->linked) ||
                rules->refuse_prekey_fetch || trules->refuse_prekey_fetch) {
                user = wa_node_new("user");
                wa_node_set_attr(user, "jid", jid ? jid : "");
                wa_node_t *error = wa_node_add(user, "error");
                wa_node_set_attr(error, "code", "404");
                wa_node_set_attr(error, "text", "item-not-found");
            } else {
                user = sim_prekeys_bundle(hub, target, jid);
            }
            wa_node_append(list, &user);
        }
        sim_hub_iq_result(conn, iq, &list);
        return;
    }
    const wa_node_t *rotate = !is_get ? wa_node_child(iq, "rotate") : NULL;
    if (rotate) {
        uint32_t id;
        uint8_t pub[32], sig[64];
        if (s_parse_key(wa_node_child(rotate, "skey"), &id, pub, sig)) {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
            return;
        }
        dev->spk_id = id;
        memcpy(dev->spk_pub, pub, 32);
        memcpy(dev->spk_sig, sig, 64);
        dev->has_spk = true;
        sim_hub_iq_result(conn, iq, NULL);
        return;
    }
    const wa_node_t *list = !is_get ? wa_node_child(iq, "list") : NULL;
    if (list || (!is_get && wa_node_child(iq, "skey"))) {
        if (rules->refuse_prekey_upload) {
            sim_hub_iq_error(conn, iq, 406, "not-acceptable");
            return;
        }
        const uint8_t *identity = s_child_bytes(iq, "identity", 32);
        const uint8_t *type = s_child_bytes(iq, "type", 1);
        uint32_t reg_id = 0;
        if (!identity || !type || type[0] != 5 ||
            sim_hub_get_uint(wa_node_child(iq, "registration"), &reg_id) ||
            memcmp(identity, dev->identity_pub, 32) != 0) {
            sim_hub_iq_error(conn, iq, 406, "not-acceptable");
            return;
        }
        uint32_t spk_id;
        uint8_t spk_pub[32], spk_sig[64];
        const wa_node_t *skey = wa_node_child(iq, "skey");
        if (skey && s_parse_key(skey, &spk_id, spk_pub, spk_sig)) {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
            return;
        }
        //  Validate every key before storing any.
        size_t n = 0;
        for (const wa_node_t *k = wa_node_child_next(list, "key", NULL); k;
             k = wa_node_child_next(list, "key", k)) {
            uint32_t id;
            uint8_t pub[32];
            if (s_parse_key(k, &id, pub, NULL) || ++n > SIM_PREKEYS_MAX) {
                sim_hub_iq_error(conn, iq, 400, "bad-request");
                return;
            }
        }
        for (const wa_node_t *k = wa_node_child_next(list, "key", NULL); k;
             k = wa_node_child_next(list, "key", k)) {
            uint32_t id;
            uint8_t pub[32];
            s_parse_key(k, &id, pub, NULL);
            if (sim_device_prekey_add(dev, id, pub)) {
                sim_hub_iq_error(conn, iq, 419, "resource-limit");
                return;
            }
        }
        if (skey) {
            dev->spk_id = spk_id;
            memcpy(dev->spk_pub, spk_pub, 32);
            memcpy(dev->spk_sig, spk_sig, 64);
            dev->has_spk = true;
        }
        dev->registration_id = reg_id;
        cm_log_debug("stored prekeys", "conn=%" PRId64 " count=%zu total=%zu",
                     sim_conn_id(conn), n, sim_device_prekey_count(dev));
        sim_hub_iq_result(conn, iq, NULL);
        return;
    }
    sim_hub_iq_error(conn, iq, 400, "bad-request");
}

static const sim_iq_route_t s_iqs[] = {{"encrypt", NULL, 0, s_encrypt},
                                       {NULL, NULL, 0, NULL}};

static const char *const s_notifications[] = {"encrypt", NULL};

const sim_cap_t sim_prekeys_cap = {
    .name = "prekeys",
    .iqs = s_iqs,
    .notifications = s_notifications,
};

void
sim_prekeys_test(bool verbose)
{
    printf(" * sim_prekeys: ");
    wa_node_t *key = s_key_node(
        "skey", 0x0a0b0c, (const uint8_t *)"0123456789abcdef0123456789abcdef",
        (const uint8_t *)"0123456789abcdef0123456789abcdef"
                         "0123456789abcdef0123456789abcdef");
    uint32_t id = 0;
    uint8_t pub[32], sig[64];
    assert(s_parse_key(key, &id, pub, sig) == 0 && id == 0x0a0b0c);
    assert(pub[0] == '0' && sig[63] == 'f');
    wa_node_destroy(&key);
    key = wa_node_new("key");
    assert(s_parse_key(key, &id, pub, NULL) == -1);
    wa_node_destroy(&key);
    //  Handlers run against real clients in sim_server's test.
    printf("OK\n");
}
