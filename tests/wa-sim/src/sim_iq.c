/*  sim_iq - server answers to client IQs after login

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_groups.h"
#include "sim_iq.h"
#include "sim_pair.h"
#include "wa/wa_jid.h"
#include "wa/wa_pair.h"

//  Prekey count under which the server warns the device.
#define SIM_PREKEY_LOW 5
//  Most users in one usync or key query.
#define SIM_QUERY_MAX_USERS 1000
//  media_conn lifetime announced, seconds.
#define SIM_MEDIA_TTL_S 300

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
sim_iq_bundle(sim_hub_t *hub, sim_device_t *dev, const char *jid)
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
        wa_node_t *note = wa_node_new("notification");
        wa_node_set_attr(note, "from", SIM_SERVER_JID);
        wa_node_set_attr(note, "id", sim_hub_next_id(hub));
        wa_node_set_attr_int(note, "t", cm_now_ms() / 1000);
        wa_node_set_attr(note, "type", "encrypt");
        wa_node_set_attr_int(wa_node_add(note, "count"), "value",
                             (int64_t)left);
        sim_hub_deliver(hub, dev, note, "notification");
        wa_node_destroy(&note);
    }
    return user;
}

static void
s_encrypt(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq, bool is_get)
{
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
            if (++n > SIM_QUERY_MAX_USERS) {
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
                user = sim_iq_bundle(hub, target, jid);
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

//  Digits of a contact query ("+1 555…", "+1555@c.us"). NULL if none.
static char *
s_contact_digits(const char *text)
{
    if (!text) {
        return NULL;
    }
    char digits[32];
    size_t n = 0;
    for (const char *p = text; *p && *p != '@'; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n == sizeof digits - 1) {
                return NULL;
            }
            digits[n++] = *p;
        }
    }
    digits[n] = 0;
    return n ? cm_strdup(digits) : NULL;
}

static wa_node_t *
s_devices_node(sim_hub_t *hub, sim_account_t *acc)
{
    wa_node_t *devices = wa_node_new("devices");
    wa_node_t *list = wa_node_add(devices, "device-list");
    wa_node_set_list(list);
    if (!acc) {
        return devices;
    }
    sim_device_t *dev = (sim_device_t *)zlistx_first(acc->devices);
    while (dev) {
        if (dev->id == 0 && sim_hub_config(hub)->phone_device) {
            wa_node_set_attr(wa_node_add(list, "device"), "id", "0");
        } else if (dev->id != 0 && dev->linked) {
            wa_node_t *d = wa_node_add(list, "device");
            wa_node_set_attr_int(d, "id", dev->id);
            wa_node_set_attr_int(d, "key-index", dev->key_index);
        }
        dev = (sim_device_t *)zlistx_next(acc->devices);
    }
    wa_node_t *kil = sim_pair_key_index_list(hub, acc);
    wa_node_append(devices, &kil);
    return devices;
}

static void
s_usync(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq)
{
    const wa_node_t *usync = wa_node_child(iq, "usync");
    const wa_node_t *query = usync ? wa_node_child(usync, "query") : NULL;
    const wa_node_t *list = usync ? wa_node_child(usync, "list") : NULL;
    if (!query || !list) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    bool want_devices = wa_node_child(query, "devices") != NULL;
    bool want_contact = wa_node_child(query, "contact") != NULL;
    bool want_lid = wa_node_child(query, "lid") != NULL;
    bool want_status = wa_node_child(query, "status") != NULL;
    bool want_dm = wa_node_child(query, "disappearing_mode") != NULL;
    wa_node_t *out = wa_node_new("usync");
    static const char *const echo[] = {"sid", "mode", "context", "index", NULL};
    for (int i = 0; echo[i]; i++) {
        const char *v = wa_node_attr(usync, echo[i]);
        if (v) {
            wa_node_set_attr(out, echo[i], v);
        }
    }
    wa_node_set_attr(out, "last", "true");
    wa_node_t *result = wa_node_add(out, "result");
    for (size_t i = 0; i < wa_node_child_count(query); i++) {
        wa_node_add(result, wa_node_tag(wa_node_child_at(query, i)));
    }
    wa_node_t *olist = wa_node_add(out, "list");
    wa_node_set_list(olist);
    size_t n = 0;
    for (const wa_node_t *u = wa_node_child_next(list, "user", NULL); u;
         u = wa_node_child_next(list, "user", u)) {
        if (++n > SIM_QUERY_MAX_USERS) {
            wa_node_destroy(&out);
            sim_hub_iq_error(conn, iq, 419, "resource-limit");
            return;
        }
        const char *jid = wa_node_attr(u, "jid");
        const wa_node_t *contact = wa_node_child(u, "contact");
        sim_account_t *acc = NULL;
        char *user_jid = NULL;
        if (jid) {
            wa_jid_t *parsed = wa_jid_new_from(jid);
            if (parsed) {
                wa_jid_set_device(parsed, 0);
                user_jid = cm_strdup(wa_jid_str(parsed));
                wa_jid_destroy(&parsed);
            }
            acc = sim_hub_account_of(hub, jid, NULL);
        }
        char *digits = NULL;
        if (!user_jid && contact) {
            digits = s_contact_digits(wa_node_text_content(contact));
            acc = digits ? sim_model_account(sim_hub_model(hub), digits) : NULL;
            if (digits) {
                user_jid = cm_sprintf("%s@s.whatsapp.net", digits);
            }
        }
        wa_node_t *ou = wa_node_add(olist, "user");
        if (user_jid) {
            wa_node_set_attr(ou, "jid", user_jid);
        }
        if (want_contact) {
            wa_node_t *c = wa_node_add(ou, "contact");
            wa_node_set_attr(c, "type", acc ? "in" : "out");
            const char *text = contact ? wa_node_text_content(contact) : NULL;
            if (text) {
                wa_node_set_string(c, text);
            }
        }
        if (want_devices) {
            wa_node_t *d = s_devices_node(hub, acc);
            wa_node_append(ou, &d);
        }
        if (want_lid && acc) {
            char *lid = cm_sprintf("%s@lid", acc->lid);
            wa_node_set_attr(wa_node_add(ou, "lid"), "val", lid);
            free(lid);
        }
        if (want_status && acc) {
            wa_node_t *s = wa_node_add(ou, "status");
            wa_node_set_attr_int(s, "t", acc->created_ms / 1000);
        }
        if (want_dm && acc) {
            wa_node_t *dm = wa_node_add(ou, "disappearing_mode");
            wa_node_set_attr(dm, "duration", "0");
            wa_node_set_attr(dm, "t", "0");
        }
        free(user_jid);
        free(digits);
    }
    sim_hub_iq_result(conn, iq, &out);
}

static void
s_privacy(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq, bool is_get)
{
    if (!is_get || !wa_node_child(iq, "privacy")) {
        sim_hub_iq_result(conn, iq, NULL);
        return;
    }
    static const char *const categories[][2] = {
        {"last", "all"},        {"online", "all"},   {"profile", "all"},
        {"status", "contacts"}, {"groupadd", "all"}, {"readreceipts", "all"},
        {"calladd", "all"},     {"messages", "all"}, {NULL, NULL}};
    wa_node_t *privacy = wa_node_new("privacy");
    for (int i = 0; categories[i][0]; i++) {
        wa_node_t *c = wa_node_add(privacy, "category");
        wa_node_set_attr(c, "name", categories[i][0]);
        wa_node_set_attr(c, "value", categories[i][1]);
    }
    sim_hub_iq_result(conn, iq, &privacy);
}

void
sim_iq_handle(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq)
{
    const char *xmlns = wa_node_attr(iq, "xmlns");
    const char *type = wa_node_attr(iq, "type");
    bool is_get = cm_streq(type, "get");
    if (!wa_node_attr(iq, "id")) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    if (cm_streq(xmlns, "w:p")) {
        sim_hub_iq_result(conn, iq, NULL);
        return;
    }
    if (cm_streq(xmlns, "w:stats")) {
        sim_hub_iq_result(conn, iq, NULL);
        return;
    }
    if (!is_get && !cm_streq(type, "set")) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    if (sim_conn_state(conn) != SIM_CONN_LOGGED_IN || !sim_conn_device(conn)) {
        sim_hub_iq_error(conn, iq, 401, "not-authorized");
        return;
    }
    if (cm_streq(xmlns, "passive")) {
        if (wa_node_child(iq, "active")) {
            sim_hub_iq_result(conn, iq, NULL);
            sim_pair_activate(hub, conn);
        } else if (wa_node_child(iq, "passive")) {
            sim_conn_set_passive(conn, true);
            sim_hub_iq_result(conn, iq, NULL);
        } else {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
        }
    } else if (cm_streq(xmlns, "encrypt")) {
        s_encrypt(hub, conn, iq, is_get);
    } else if (cm_streq(xmlns, "usync")) {
        s_usync(hub, conn, iq);
    } else if (cm_streq(xmlns, "w:m") && wa_node_child(iq, "media_conn")) {
        const char *host = sim_hub_media_host(hub);
        if (!host) {
            sim_hub_iq_error(conn, iq, 503, "service-unavailable");
            return;
        }
        wa_node_t *mc = wa_node_new("media_conn");
        wa_node_set_attr(mc, "auth", sim_hub_media_auth(hub));
        wa_node_set_attr_int(mc, "ttl", SIM_MEDIA_TTL_S);
        wa_node_set_attr_int(mc, "auth_ttl", SIM_MEDIA_TTL_S);
        wa_node_set_attr(mc, "max_buckets", "12");
        wa_node_t *h = wa_node_add(mc, "host");
        wa_node_set_attr(h, "hostname", host);
        wa_node_set_attr(h, "maxContentLengthBytes", "67108864");
        sim_hub_iq_result(conn, iq, &mc);
    } else if (cm_streq(xmlns, "privacy")) {
        s_privacy(hub, conn, iq, is_get);
    } else if (cm_streq(xmlns, "blocklist")) {
        wa_node_t *list = NULL;
        if (is_get) {
            list = wa_node_new("list");
            wa_node_set_list(list);
        }
        sim_hub_iq_result(conn, iq, &list);
    } else if (cm_streq(xmlns, "abt")) {
        wa_node_t *props = wa_node_new("props");
        wa_node_set_attr(props, "protocol", "1");
        wa_node_set_attr(props, "hash", "sim1");
        wa_node_set_list(props);
        sim_hub_iq_result(conn, iq, &props);
    } else if (cm_streq(xmlns, "w:profile:picture")) {
        if (is_get) {
            sim_hub_iq_error(conn, iq, 404, "item-not-found");
        } else {
            wa_node_t *pic = wa_node_new("picture");
            wa_node_set_attr(pic, "id", sim_hub_next_id(hub));
            sim_hub_iq_result(conn, iq, &pic);
        }
    } else if (cm_streq(xmlns, "status") ||
               cm_streq(xmlns, "urn:xmpp:whatsapp:dirty") ||
               cm_streq(xmlns, "disappearing_mode") ||
               cm_streq(xmlns, "urn:xmpp:whatsapp:account")) {
        sim_hub_iq_result(conn, iq, NULL);
    } else if (cm_streq(xmlns, "w:g2")) {
        sim_groups_handle(hub, conn, iq);
    } else {
        sim_hub_iq_error(conn, iq, 501, "feature-not-implemented");
    }
}

void
sim_iq_test(bool verbose)
{
    printf(" * sim_iq: ");
    char *d = s_contact_digits("+1 555 123-4567");
    assert(d && cm_streq(d, "15551234567"));
    free(d);
    d = s_contact_digits("+15551234567@c.us");
    assert(d && cm_streq(d, "15551234567"));
    free(d);
    assert(!s_contact_digits("abc"));
    assert(!s_contact_digits(NULL));

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
