/*  sim_pair - registration, login and linking: pair-device refs, the
    phone scanning a QR or typing a pairing code, pair-success and the
    device signature, the 515 restart, <success>, unlinking

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_pair.h"
#include "wa/wa_adv.pb-c.h"
#include "wa/wa_jid.h"
#include "wa/wa_pair.h"
#include "wa/wa_signal.h"

//  Signature prefix of a key index list (account key). [U] neither
//  client library verifies it; 06 02 follows the ADV prefix series.
static const uint8_t s_key_index_prefix[2] = {0x06, 0x02};

//  Registration state of an unpaired connection (conn data).
typedef struct {
    sim_hub_t *hub;       //  back pointer
    wa_payload_reg_t reg; //  keys from the payload
    char *platform;       //  display name of the client
    bool full_sync;       //  DeviceProps.requireFullSync
    char **refs;          //  pair-device refs
    int nrefs;            //  number of refs
    int64_t start_ms;     //  when pair-device was sent
    char *pair_device_id; //  id of our pair-device iq
    //  pairing code ("link with phone number")
    char *code_phone;                          //  phone the code is for
    uint8_t code_wrapped[WA_PAIR_WRAPPED_LEN]; //  companion eph, wrapped
    char *code_ref;                            //  link_code_pairing_ref
    bool code_entered;                         //  the phone typed a code
    uint8_t primary_eph_priv[SIM_KEY_LEN];     //  phone's ephemeral key
    uint8_t companion_eph_pub[SIM_KEY_LEN];    //  as unwrapped by the phone
    //  pair-success sent, waiting for pair-device-sign
    char *phone;        //  account being linked
    uint32_t device_id; //  device being linked
    char *success_id;   //  id of the pair-success iq
    uint8_t *details;   //  issued ADVDeviceIdentity
    size_t details_len; //  bytes in details
} s_reg_t;

static void
s_reg_destroy(void **data_p)
{
    s_reg_t *reg = (s_reg_t *)*data_p;
    if (!reg) {
        return;
    }
    for (int i = 0; i < reg->nrefs; i++) {
        free(reg->refs[i]);
    }
    free(reg->refs);
    free(reg->platform);
    free(reg->pair_device_id);
    free(reg->code_phone);
    free(reg->code_ref);
    free(reg->phone);
    free(reg->success_id);
    free(reg->details);
    wa_crypto_wipe(reg->primary_eph_priv, sizeof reg->primary_eph_priv);
    free(reg);
    *data_p = NULL;
}

static int64_t
s_now_s(void)
{
    return cm_now_ms() / 1000;
}

static char *
s_base64(const uint8_t *data, size_t len, bool url)
{
    zarmour_t *armour = zarmour_new();
    zarmour_set_mode(armour,
                     url ? ZARMOUR_MODE_BASE64_URL : ZARMOUR_MODE_BASE64_STD);
    zarmour_set_pad(armour, !url);
    char *text = zarmour_encode(armour, data, len);
    zarmour_destroy(&armour);
    return text;
}

//  Decode standard Base64 (padded) into exactly `len` bytes.
static int
s_unbase64(const char *text, uint8_t *out, size_t len)
{
    if (!text || strlen(text) != 4 * ((len + 2) / 3)) {
        return -1;
    }
    for (const char *p = text; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("+/=", *p)) {
            return -1;
        }
    }
    zarmour_t *armour = zarmour_new();
    zarmour_set_mode(armour, ZARMOUR_MODE_BASE64_STD);
    zarmour_set_pad(armour, true);
    zchunk_t *chunk = zarmour_decode(armour, text);
    zarmour_destroy(&armour);
    int rc = -1;
    //  zarmour appends a NUL byte to what it decodes.
    if (chunk && (zchunk_size(chunk) == len || zchunk_size(chunk) == len + 1)) {
        memcpy(out, zchunk_data(chunk), len);
        rc = 0;
    }
    zchunk_destroy(&chunk);
    return rc;
}

static const char *
s_platform_name(int type)
{
    static const char *const names[] = {
        "Unknown",   "Chrome",  "Firefox",  "IE",        "Opera",
        "Safari",    "Edge",    "Desktop",  "iPad",      "Android",
        "Ohana",     "Aloha",   "Catalina", "TCL TV",    "iPhone",
        "Catalyst",  "Android", "Android",  "Wear OS",   "AR Wrist",
        "AR Device", "UWP",     "VR",       "Cloud API", "Smart Glasses"};
    if (type < 0 || type >= (int)(sizeof names / sizeof names[0])) {
        return "Unknown";
    }
    return names[type];
}

//  <failure reason=N/> then close (login refused).
static int
s_failure(sim_conn_t *conn, int reason)
{
    wa_node_t *node = wa_node_new("failure");
    wa_node_set_attr_int(node, "reason", reason);
    wa_node_set_attr(node, "location", "sim");
    sim_conn_send_take(conn, &node);
    sim_conn_close(conn);
    return -1;
}

int
sim_pair_phone_keys(sim_account_t *acc)
{
    sim_device_t *phone = sim_account_device(acc, 0);
    assert(phone);
    if (phone->has_spk) {
        return 0;
    }
    uint8_t priv[SIM_KEY_LEN];
    uint8_t djb[WA_DJB_KEY_LEN];
    if (wa_x25519_keypair(priv, phone->spk_pub)) {
        return -1;
    }
    wa_crypto_wipe(priv, sizeof priv);
    wa_signal_djb_encode(phone->spk_pub, djb);
    if (wa_xeddsa_sign(acc->identity_priv, djb, sizeof djb, phone->spk_sig)) {
        return -1;
    }
    phone->spk_id = 1;
    phone->has_spk = true;
    return 0;
}

sim_device_t *
sim_pair_shadow_device(sim_account_t *acc)
{
    assert(acc);
    uint8_t priv[SIM_KEY_LEN];
    uint8_t djb[WA_DJB_KEY_LEN];
    sim_device_t *dev = sim_account_device_add(acc);
    int rc = wa_x25519_keypair(priv, dev->identity_pub);
    uint8_t spk_priv[SIM_KEY_LEN];
    rc = rc ? rc : wa_x25519_keypair(spk_priv, dev->spk_pub);
    wa_crypto_wipe(spk_priv, sizeof spk_priv);
    wa_signal_djb_encode(dev->spk_pub, djb);
    rc = rc ? rc : wa_xeddsa_sign(priv, djb, sizeof djb, dev->spk_sig);
    wa_crypto_wipe(priv, sizeof priv);
    //  A few one-time prekeys (public halves: nobody decrypts)
    for (uint32_t i = 1; rc == 0 && i <= 5; i++) {
        uint8_t pub[SIM_KEY_LEN];
        uint8_t one[SIM_KEY_LEN];
        rc = wa_x25519_keypair(one, pub);
        wa_crypto_wipe(one, sizeof one);
        rc = rc ? rc : sim_device_prekey_add(dev, i, pub);
    }
    if (rc) {
        sim_account_device_remove(acc, dev->id);
        return NULL;
    }
    uint32_t reg = 0;
    cm_random(&reg, sizeof reg);
    dev->registration_id = 1 + reg % 16380;
    dev->has_identity = true;
    dev->spk_id = 1;
    dev->has_spk = true;
    dev->platform = cm_strdup("shadow");
    dev->created_ms = cm_now_ms();
    dev->linked = true;
    return dev;
}

static uint32_t
s_raw_id(sim_account_t *acc)
{
    return (uint32_t)(strtoull(acc->lid, NULL, 10) & 0xffffffffu);
}

wa_node_t *
sim_pair_key_index_list(sim_hub_t *hub, sim_account_t *acc)
{
    Wa__Adv__KeyIndexList list = WA__ADV__KEY_INDEX_LIST__INIT;
    uint32_t indexes[64];
    size_t n = 0;
    sim_device_t *dev = (sim_device_t *)zlistx_first(acc->devices);
    while (dev && n < 64) {
        if (dev->id != 0 && dev->linked && !dev->forged) {
            indexes[n++] = dev->key_index;
        }
        dev = (sim_device_t *)zlistx_next(acc->devices);
    }
    int64_t ts = s_now_s();
    list.has_raw_id = 1;
    list.raw_id = s_raw_id(acc);
    list.has_timestamp = 1;
    list.timestamp = (uint64_t)ts;
    list.has_current_index = 1;
    list.current_index = acc->next_key_index - 1;
    list.n_valid_indexes = n;
    list.valid_indexes = indexes;
    size_t dlen = wa__adv__key_index_list__get_packed_size(&list);
    uint8_t *details = (uint8_t *)cm_alloc(dlen + 2);
    memcpy(details, s_key_index_prefix, 2);
    wa__adv__key_index_list__pack(&list, details + 2);
    uint8_t sig[SIM_SIG_LEN];
    memset(sig, 0, sizeof sig);
    if (wa_xeddsa_sign(acc->identity_priv, details, dlen + 2, sig)) {
        cm_log_warn("could not sign key index list");
    }
    Wa__Adv__SignedKeyIndexList signed_list =
        WA__ADV__SIGNED_KEY_INDEX_LIST__INIT;
    signed_list.has_details = 1;
    signed_list.details.data = details + 2;
    signed_list.details.len = dlen;
    signed_list.has_account_signature = 1;
    signed_list.account_signature.data = sig;
    signed_list.account_signature.len = sizeof sig;
    size_t slen = wa__adv__signed_key_index_list__get_packed_size(&signed_list);
    uint8_t *out = (uint8_t *)cm_alloc(slen);
    wa__adv__signed_key_index_list__pack(&signed_list, out);
    wa_node_t *node = wa_node_new("key-index-list");
    wa_node_set_attr_int(node, "ts", ts);
    wa_node_set_bytes(node, out, slen);
    free(out);
    free(details);
    return node;
}

//  Tell every linked device of every account that `acc`'s device list
//  changed (tag "add" or "remove" for device `dev`).
static void
s_notify_devices(sim_hub_t *hub, sim_account_t *acc, const char *tag,
                 uint32_t dev_id, uint32_t key_index)
{
    char *from = cm_sprintf("%s@s.whatsapp.net", acc->phone);
    wa_node_t *note = sim_hub_notification(hub, "devices", from, NULL);
    wa_node_t *child = wa_node_add(note, tag);
    wa_node_t *device = wa_node_add(child, "device");
    char *jid = cm_sprintf("%s:%u@s.whatsapp.net", acc->phone, dev_id);
    wa_node_set_attr(device, "jid", jid);
    wa_node_set_attr_int(device, "key-index", key_index);
    wa_node_t *kil = sim_pair_key_index_list(hub, acc);
    wa_node_append(child, &kil);
    free(jid);
    free(from);
    zlistx_t *accounts = sim_model_accounts(sim_hub_model(hub));
    //  Collect targets first: delivery must not disturb the cursors.
    zlistx_t *targets = zlistx_new();
    sim_account_t *a = (sim_account_t *)zlistx_first(accounts);
    while (a) {
        sim_device_t *d = (sim_device_t *)zlistx_first(a->devices);
        while (d) {
            if (d->id != 0 && d->linked && !(a == acc && d->id == dev_id)) {
                zlistx_add_end(targets, d);
            }
            d = (sim_device_t *)zlistx_next(a->devices);
        }
        a = (sim_account_t *)zlistx_next(accounts);
    }
    sim_device_t *d = (sim_device_t *)zlistx_first(targets);
    while (d) {
        sim_hub_deliver(hub, d, note, "notification");
        d = (sim_device_t *)zlistx_next(targets);
    }
    zlistx_destroy(&targets);
    wa_node_destroy(&note);
}

//  --------------------------------------------------------------------
//  Handshake

//  The client's WA Web version is older than the rules allow (phone:
//  the account's rules, NULL: the global ones).
static bool
s_outdated(sim_hub_t *hub, const char *phone, const wa_payload_info_t *info)
{
    int64_t min = sim_fault_rules(sim_hub_faults(hub), phone)->min_web_version;
    if (min > 0 && (int64_t)info->version[2] < min) {
        cm_log_info("refusing outdated client",
                    "phone=%s version=%u.%u.%u min=%" PRId64,
                    phone ? phone : "", info->version[0], info->version[1],
                    info->version[2], min);
        return true;
    }
    return false;
}

static int
s_login(sim_hub_t *hub, sim_conn_t *conn, wa_payload_info_t *info)
{
    char phone[24];
    snprintf(phone, sizeof phone, "%" PRIu64, info->username);
    sim_account_t *acc = sim_model_account(sim_hub_model(hub), phone);
    sim_device_t *dev = acc && info->device <= 0xffff
                            ? sim_account_device(acc, (uint32_t)info->device)
                            : NULL;
    if (!dev || dev->id == 0 || !dev->linked || !dev->has_noise ||
        memcmp(dev->noise_pub, sim_conn_remote_static(conn), SIM_KEY_LEN) !=
            0) {
        cm_log_info("refusing login of unknown device",
                    "conn=%" PRId64 " phone=%s device=%u", sim_conn_id(conn),
                    phone, info->device);
        return s_failure(conn, 401);
    }
    if (s_outdated(hub, phone, info)) {
        return s_failure(conn, 405);
    }
    sim_conn_set_state(conn, SIM_CONN_LOGGED_IN);
    sim_hub_bind(hub, conn, dev);
    dev->last_seen_ms = cm_now_ms();
    wa_node_t *success = wa_node_new("success");
    wa_node_set_attr_int(success, "t", s_now_s());
    //  A not LID-migrated account's companion is told no LID (whatsmeow
    //  and Baileys 7 take their own LID from this attribute)
    if (!sim_fault_rules(sim_hub_faults(hub), acc->phone)->lid_hidden) {
        char *lid = sim_device_lid_jid(dev);
        wa_node_set_attr(success, "lid", lid);
        free(lid);
    }
    wa_node_set_attr_int(success, "creation", acc->created_ms / 1000);
    wa_node_set_attr(success, "location", "sim");
    sim_conn_send_take(conn, &success);
    cm_log_info("device logged in",
                "conn=%" PRId64 " phone=%s device=%u "
                "passive=%d",
                sim_conn_id(conn), phone, dev->id, info->passive);
    if (!info->passive) {
        sim_pair_activate(hub, conn);
    }
    return 0;
}

static char *
s_new_ref(void)
{
    uint8_t rnd[24];
    cm_random(rnd, sizeof rnd);
    char *b64 = s_base64(rnd, sizeof rnd, false);
    char *ref = cm_sprintf("2@%s", b64);
    free(b64);
    return ref;
}

static int
s_register(sim_hub_t *hub, sim_conn_t *conn, wa_payload_info_t *info)
{
    if (!info->has_registration || !wa_payload_info_reg_valid(info)) {
        cm_log_info("refusing registration with bad keys", "conn=%" PRId64,
                    sim_conn_id(conn));
        return s_failure(conn, 400);
    }
    if (s_outdated(hub, NULL, info)) {
        return s_failure(conn, 405);
    }
    const sim_config_t *config = sim_hub_config(hub);
    s_reg_t *reg = (s_reg_t *)cm_alloc(sizeof(s_reg_t));
    reg->hub = hub;
    reg->reg = info->reg;
    if (info->device_os) {
        reg->platform =
            cm_sprintf("%s (%s)", s_platform_name(info->device_platform_type),
                       info->device_os);
    } else {
        reg->platform = cm_strdup(s_platform_name(info->device_platform_type));
    }
    reg->full_sync = info->require_full_sync;
    reg->nrefs = config->qr_refs;
    reg->refs = (char **)cm_alloc(sizeof(char *) * (size_t)reg->nrefs);
    for (int i = 0; i < reg->nrefs; i++) {
        reg->refs[i] = s_new_ref();
    }
    reg->start_ms = cm_mono_ms();
    reg->pair_device_id = cm_strdup(sim_hub_next_id(hub));
    sim_conn_set_data(conn, reg, s_reg_destroy);
    sim_conn_set_state(conn, SIM_CONN_REGISTER);

    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "from", SIM_SERVER_JID);
    wa_node_set_attr(iq, "id", reg->pair_device_id);
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "xmlns", "md");
    wa_node_t *pd = wa_node_add(iq, "pair-device");
    for (int i = 0; i < reg->nrefs; i++) {
        wa_node_t *ref = wa_node_add(pd, "ref");
        wa_node_set_bytes(ref, reg->refs[i], strlen(reg->refs[i]));
    }
    cm_log_info("companion registering",
                "conn=%" PRId64 " platform=\"%s\" full_sync=%s",
                sim_conn_id(conn), reg->platform,
                reg->full_sync ? "true" : "false");
    return sim_conn_send_take(conn, &iq);
}

int
sim_pair_handshake(sim_hub_t *hub, sim_conn_t *conn, wa_payload_info_t **info_p)
{
    wa_payload_info_t *info = *info_p;
    *info_p = NULL;
    int rc =
        info->is_login ? s_login(hub, conn, info) : s_register(hub, conn, info);
    wa_payload_info_destroy(&info);
    return rc;
}

static void
s_free_data(void **data_p)
{
    free(*data_p);
    *data_p = NULL;
}

void
sim_pair_activate(sim_hub_t *hub, sim_conn_t *conn)
{
    sim_device_t *dev = sim_conn_device(conn);
    if (!dev || sim_conn_state(conn) != SIM_CONN_LOGGED_IN) {
        return;
    }
    bool was_passive = sim_conn_passive(conn);
    sim_conn_set_passive(conn, false);
    if (!was_passive && sim_conn_data(conn)) {
        return; //  already activated once on this connection
    }
    //  A marker so the offline batch is sent once per connection.
    sim_conn_set_data(conn, cm_strdup("active"), s_free_data);
    size_t sent = sim_hub_flush(hub, dev);
    wa_node_t *ib = wa_node_new("ib");
    wa_node_t *offline = wa_node_add(ib, "offline");
    wa_node_set_attr_int(offline, "count", (int64_t)sent);
    sim_conn_send_take(conn, &ib);
}

//  --------------------------------------------------------------------
//  Linking

//  Find the unpaired connection showing `ref` (valid now). *expired is
//  set when the ref is known but past its life.
static sim_conn_t *
s_find_ref(sim_hub_t *hub, const char *ref, size_t ref_len, bool *expired)
{
    const sim_config_t *config = sim_hub_config(hub);
    int64_t now = cm_mono_ms();
    zlistx_t *conns = sim_hub_conns(hub);
    sim_conn_t *conn = (sim_conn_t *)zlistx_first(conns);
    while (conn) {
        s_reg_t *reg = (s_reg_t *)sim_conn_data(conn);
        if (sim_conn_state(conn) == SIM_CONN_REGISTER && reg) {
            for (int i = 0; i < reg->nrefs; i++) {
                if (strlen(reg->refs[i]) == ref_len &&
                    memcmp(reg->refs[i], ref, ref_len) == 0) {
                    int64_t end = reg->start_ms + config->qr_first_ms +
                                  (int64_t)i * config->qr_next_ms;
                    if (now > end) {
                        *expired = true;
                        return NULL;
                    }
                    return conn;
                }
            }
        }
        conn = (sim_conn_t *)zlistx_next(conns);
    }
    return NULL;
}

//  Issue the ADV identity for a new device of `acc` and send
//  pair-success on `conn`. Returns 0 or -1; *result_p gets the JIDs.
static int
s_pair_success(sim_hub_t *hub, sim_conn_t *conn, sim_account_t *acc,
               const uint8_t adv_secret[32], json_t **result_p,
               const char **reason)
{
    s_reg_t *reg = (s_reg_t *)sim_conn_data(conn);
    if (sim_pair_phone_keys(acc)) {
        *reason = "could not make the phone's keys";
        return 500;
    }
    sim_device_t *dev = sim_account_device_add(acc);
    dev->platform = cm_strdup(reg->platform);
    dev->full_sync = reg->full_sync;
    dev->has_noise = true;
    memcpy(dev->noise_pub, sim_conn_remote_static(conn), SIM_KEY_LEN);
    dev->has_identity = true;
    memcpy(dev->identity_pub, reg->reg.identity_pub, SIM_KEY_LEN);
    dev->registration_id = reg->reg.registration_id;
    dev->has_spk = true;
    dev->spk_id = reg->reg.signed_prekey_id & 0xffffff;
    memcpy(dev->spk_pub, reg->reg.signed_prekey_pub, SIM_KEY_LEN);
    memcpy(dev->spk_sig, reg->reg.signed_prekey_sig, SIM_SIG_LEN);

    uint8_t *container = NULL;
    size_t container_len = 0;
    if (wa_pair_adv_issue(acc->identity_priv, dev->identity_pub, adv_secret,
                          s_raw_id(acc), (uint64_t)s_now_s(), dev->key_index,
                          false, &container, &container_len)) {
        sim_account_device_remove(acc, dev->id);
        *reason = "could not issue the device identity";
        return 500;
    }
    //  Keep the inner ADVDeviceIdentity to check the countersignature.
    Wa__Adv__SignedDeviceIdentityHMAC *hmac =
        wa__adv__signed_device_identity_hmac__unpack(NULL, container_len,
                                                     container);
    Wa__Adv__SignedDeviceIdentity *identity =
        hmac && hmac->has_details
            ? wa__adv__signed_device_identity__unpack(NULL, hmac->details.len,
                                                      hmac->details.data)
            : NULL;
    if (!identity || !identity->has_details) {
        wa__adv__signed_device_identity__free_unpacked(identity, NULL);
        wa__adv__signed_device_identity_hmac__free_unpacked(hmac, NULL);
        free(container);
        sim_account_device_remove(acc, dev->id);
        *reason = "could not read back the device identity";
        return 500;
    }
    free(reg->details);
    reg->details_len = identity->details.len;
    reg->details = (uint8_t *)cm_alloc(reg->details_len);
    memcpy(reg->details, identity->details.data, reg->details_len);
    wa__adv__signed_device_identity__free_unpacked(identity, NULL);
    wa__adv__signed_device_identity_hmac__free_unpacked(hmac, NULL);

    free(reg->phone);
    reg->phone = cm_strdup(acc->phone);
    reg->device_id = dev->id;
    free(reg->success_id);
    reg->success_id = cm_strdup(sim_hub_next_id(hub));
    char *jid = sim_device_jid(dev);
    char *lid = sim_device_lid_jid(dev);

    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "from", SIM_SERVER_JID);
    wa_node_set_attr(iq, "id", reg->success_id);
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "xmlns", "md");
    wa_node_set_attr_int(iq, "t", s_now_s());
    wa_node_t *ps = wa_node_add(iq, "pair-success");
    wa_node_t *di = wa_node_add(ps, "device-identity");
    wa_node_set_bytes(di, container, container_len);
    wa_node_t *device = wa_node_add(ps, "device");
    wa_node_set_attr(device, "jid", jid);
    if (!sim_fault_rules(sim_hub_faults(hub), acc->phone)->lid_hidden) {
        wa_node_set_attr(device, "lid", lid); //  none when not migrated
    }
    wa_node_t *platform = wa_node_add(ps, "platform");
    wa_node_set_attr(platform, "name", "android");
    free(container);
    sim_conn_set_state(conn, SIM_CONN_PAIRING);
    sim_conn_set_device(conn, dev);
    int rc = sim_conn_send_take(conn, &iq);
    cm_log_info("phone linked a companion", "conn=%" PRId64 " jid=%s",
                sim_conn_id(conn), jid);
    *result_p = json_pack("{s:s, s:s, s:I}", "jid", jid, "lid", lid, "conn",
                          (json_int_t)sim_conn_id(conn));
    free(jid);
    free(lid);
    if (rc) {
        *reason = "could not send pair-success";
        return 502;
    }
    return 200;
}

int
sim_pair_scan(sim_hub_t *hub, const char *phone, const char *qr,
              json_t **result_p, const char **reason)
{
    sim_account_t *acc = sim_model_account(sim_hub_model(hub), phone);
    if (!acc) {
        *reason = "no such account";
        return 404;
    }
    const char *body = qr;
    size_t prefix_len = strlen(WA_PAIR_QR_PREFIX);
    if (strncmp(body, WA_PAIR_QR_PREFIX, prefix_len) == 0) {
        body += prefix_len;
    }
    //  REF,NOISE,IDENTITY,ADV[,PLATFORM]
    char *copy = cm_strdup(body);
    char *parts[6];
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && n < 6;
         tok = strtok_r(NULL, ",", &save)) {
        parts[n++] = tok;
    }
    uint8_t noise[32], identity[32], adv[32];
    if ((n != 4 && n != 5) || s_unbase64(parts[1], noise, 32) ||
        s_unbase64(parts[2], identity, 32) || s_unbase64(parts[3], adv, 32)) {
        free(copy);
        *reason = "malformed QR string";
        return 400;
    }
    bool expired = false;
    sim_conn_t *conn = s_find_ref(hub, parts[0], strlen(parts[0]), &expired);
    free(copy);
    if (!conn) {
        *reason = expired ? "QR ref expired" : "no companion shows this QR";
        return expired ? 410 : 404;
    }
    s_reg_t *reg = (s_reg_t *)sim_conn_data(conn);
    if (memcmp(noise, sim_conn_remote_static(conn), 32) != 0 ||
        memcmp(identity, reg->reg.identity_pub, 32) != 0) {
        *reason = "QR keys do not match the companion's connection";
        return 400;
    }
    int st = s_pair_success(hub, conn, acc, adv, result_p, reason);
    wa_crypto_wipe(adv, sizeof adv);
    return st;
}

//  Normalise a typed code: drop '-' and spaces, upper-case. 0 or -1.
static int
s_code_clean(const char *code, char out[WA_PAIR_CODE_LEN + 1])
{
    size_t n = 0;
    for (const char *p = code; *p; p++) {
        if (*p == '-' || *p == ' ') {
            continue;
        }
        if (n == WA_PAIR_CODE_LEN || !isalnum((unsigned char)*p)) {
            return -1;
        }
        out[n++] = (char)toupper((unsigned char)*p);
    }
    out[n] = 0;
    return n == WA_PAIR_CODE_LEN ? 0 : -1;
}

int
sim_pair_enter_code(sim_hub_t *hub, const char *phone, const char *code,
                    json_t **result_p, const char **reason)
{
    sim_account_t *acc = sim_model_account(sim_hub_model(hub), phone);
    if (!acc) {
        *reason = "no such account";
        return 404;
    }
    char clean[WA_PAIR_CODE_LEN + 1];
    if (s_code_clean(code, clean)) {
        *reason = "a code is 8 letters or digits (ABCD-EFGH)";
        return 400;
    }
    sim_conn_t *conn = (sim_conn_t *)zlistx_first(sim_hub_conns(hub));
    s_reg_t *reg = NULL;
    while (conn) {
        reg = (s_reg_t *)sim_conn_data(conn);
        if (sim_conn_state(conn) == SIM_CONN_REGISTER && reg &&
            reg->code_phone && cm_streq(reg->code_phone, phone) &&
            !reg->code_entered) {
            break;
        }
        conn = (sim_conn_t *)zlistx_next(sim_hub_conns(hub));
    }
    if (!conn) {
        *reason = "no companion waits for a code for this number";
        return 404;
    }
    uint8_t primary_eph_pub[32];
    uint8_t wrapped[WA_PAIR_WRAPPED_LEN];
    if (wa_pair_code_unwrap(clean, reg->code_wrapped, WA_PAIR_WRAPPED_LEN,
                            reg->companion_eph_pub) ||
        wa_x25519_keypair(reg->primary_eph_priv, primary_eph_pub) ||
        wa_pair_code_wrap(clean, primary_eph_pub, wrapped) ||
        sim_pair_phone_keys(acc)) {
        *reason = "could not derive the pairing keys";
        return 500;
    }
    reg->code_entered = true;
    wa_node_t *note = sim_hub_notification(hub, "link_code_companion_reg",
                                           SIM_SERVER_JID, NULL);
    wa_node_t *lc = wa_node_add(note, "link_code_companion_reg");
    wa_node_t *ref = wa_node_add(lc, "link_code_pairing_ref");
    wa_node_set_bytes(ref, reg->code_ref, strlen(reg->code_ref));
    wa_node_t *w =
        wa_node_add(lc, "link_code_pairing_wrapped_primary_ephemeral_pub");
    wa_node_set_bytes(w, wrapped, sizeof wrapped);
    wa_node_t *ip = wa_node_add(lc, "primary_identity_pub");
    wa_node_set_bytes(ip, acc->identity_pub, SIM_KEY_LEN);
    int rc = sim_conn_send_take(conn, &note);
    *result_p = json_pack("{s:I, s:s}", "conn", (json_int_t)sim_conn_id(conn),
                          "status", "code sent to the companion");
    return rc ? 502 : 200;
}

//  <link_code_companion_reg stage="companion_hello"|"companion_finish">
static void
s_link_code(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq,
            const wa_node_t *lc)
{
    s_reg_t *reg = (s_reg_t *)sim_conn_data(conn);
    if (sim_conn_state(conn) != SIM_CONN_REGISTER || !reg) {
        sim_hub_iq_error(conn, iq, 405, "not-allowed");
        return;
    }
    const char *stage = wa_node_attr(lc, "stage");
    wa_jid_t *jid = wa_jid_new_from(wa_node_attr_or(lc, "jid", ""));
    sim_account_t *acc =
        jid && wa_jid_is_pn(jid)
            ? sim_model_account(sim_hub_model(hub), wa_jid_user(jid))
            : NULL;
    if (!jid || !wa_jid_is_pn(jid)) {
        wa_jid_destroy(&jid);
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    wa_jid_destroy(&jid);
    if (!acc) {
        sim_hub_iq_error(conn, iq, 404, "item-not-found");
        return;
    }
    if (cm_streq(stage, "companion_hello")) {
        size_t wlen = 0, klen = 0;
        const wa_node_t *w = wa_node_child(
            lc, "link_code_pairing_wrapped_companion_ephemeral_pub");
        const wa_node_t *k = wa_node_child(lc, "companion_server_auth_key_pub");
        const uint8_t *wrapped = w ? wa_node_bytes(w, &wlen) : NULL;
        const uint8_t *key = k ? wa_node_bytes(k, &klen) : NULL;
        if (!wrapped || wlen != WA_PAIR_WRAPPED_LEN || !key || klen != 32) {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
            return;
        }
        if (memcmp(key, sim_conn_remote_static(conn), 32) != 0) {
            sim_hub_iq_error(conn, iq, 401, "not-authorized");
            return;
        }
        const wa_node_t *display =
            wa_node_child(lc, "companion_platform_display");
        const char *text = display ? wa_node_text_content(display) : NULL;
        if (text && *text) {
            free(reg->platform);
            reg->platform = cm_strdup(text);
        }
        memcpy(reg->code_wrapped, wrapped, WA_PAIR_WRAPPED_LEN);
        free(reg->code_phone);
        reg->code_phone = cm_strdup(acc->phone);
        reg->code_entered = false;
        free(reg->code_ref);
        reg->code_ref = s_new_ref();
        wa_node_t *res = wa_node_new("link_code_companion_reg");
        wa_node_t *ref = wa_node_add(res, "link_code_pairing_ref");
        wa_node_set_bytes(ref, reg->code_ref, strlen(reg->code_ref));
        sim_hub_iq_result(conn, iq, &res);
        cm_log_info("companion asked for a pairing code",
                    "conn=%" PRId64 " phone=%s", sim_conn_id(conn), acc->phone);
        return;
    }
    if (cm_streq(stage, "companion_finish")) {
        size_t blen = 0, ilen = 0, rlen = 0;
        const wa_node_t *b =
            wa_node_child(lc, "link_code_pairing_wrapped_key_bundle");
        const wa_node_t *i = wa_node_child(lc, "companion_identity_public");
        const wa_node_t *r = wa_node_child(lc, "link_code_pairing_ref");
        const uint8_t *bundle = b ? wa_node_bytes(b, &blen) : NULL;
        const uint8_t *ident = i ? wa_node_bytes(i, &ilen) : NULL;
        const uint8_t *ref = r ? wa_node_bytes(r, &rlen) : NULL;
        if (!bundle || !ident || ilen != 32 || !ref) {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
            return;
        }
        if (!reg->code_entered || !cm_streq(reg->code_phone, acc->phone) ||
            rlen != strlen(reg->code_ref) ||
            memcmp(ref, reg->code_ref, rlen) != 0) {
            sim_hub_iq_error(conn, iq, 404, "item-not-found");
            return;
        }
        uint8_t companion_identity[32];
        uint8_t adv_secret[32];
        if (wa_pair_code_open(reg->primary_eph_priv, reg->companion_eph_pub,
                              acc->identity_priv, acc->identity_pub, bundle,
                              blen, companion_identity, adv_secret) ||
            memcmp(companion_identity, ident, 32) != 0 ||
            memcmp(companion_identity, reg->reg.identity_pub, 32) != 0) {
            //  Wrong code typed on the phone, or a tampered bundle.
            cm_log_info("pairing code did not match", "conn=%" PRId64,
                        sim_conn_id(conn));
            reg->code_entered = false;
            sim_hub_iq_error(conn, iq, 403, "forbidden");
            return;
        }
        sim_hub_iq_result(conn, iq, NULL);
        json_t *result = NULL;
        const char *reason = NULL;
        s_pair_success(hub, conn, acc, adv_secret, &result, &reason);
        json_decref(result);
        wa_crypto_wipe(adv_secret, sizeof adv_secret);
        return;
    }
    sim_hub_iq_error(conn, iq, 400, "bad-request");
}

//  The companion answered pair-success.
static void
s_pair_reply(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq)
{
    s_reg_t *reg = (s_reg_t *)sim_conn_data(conn);
    sim_account_t *acc = sim_model_account(sim_hub_model(hub), reg->phone);
    sim_device_t *dev = acc ? sim_account_device(acc, reg->device_id) : NULL;
    if (!dev) {
        sim_conn_close(conn);
        return;
    }
    const wa_node_t *sign = wa_node_child(iq, "pair-device-sign");
    const wa_node_t *di = sign ? wa_node_child(sign, "device-identity") : NULL;
    size_t len = 0;
    const uint8_t *bytes = di ? wa_node_bytes(di, &len) : NULL;
    uint32_t key_index = 0;
    wa_pair_status_t st =
        bytes && wa_node_attr_eq(iq, "type", "result")
            ? wa_pair_adv_check_reply(bytes, len, reg->details,
                                      reg->details_len, acc->identity_pub,
                                      dev->identity_pub, &key_index)
            : WA_PAIR_BAD_INPUT;
    if (st != WA_PAIR_OK || key_index != dev->key_index) {
        const wa_node_t *error = wa_node_child(iq, "error");
        cm_log_warn("companion refused or mis-signed the device identity",
                    "conn=%" PRId64 " status=%d error=%s", sim_conn_id(conn),
                    (int)st, error ? wa_node_attr_or(error, "text", "") : "");
        sim_hub_device_gone(hub, dev, false);
        sim_account_device_remove(acc, reg->device_id);
        sim_conn_set_device(conn, NULL);
        sim_conn_close(conn);
        return;
    }
    dev->linked = true;
    free(dev->adv);
    dev->adv = (uint8_t *)cm_alloc(len);
    memcpy(dev->adv, bytes, len);
    dev->adv_len = len;
    cm_log_info("companion signed its device identity",
                "conn=%" PRId64 " phone=%s device=%u", sim_conn_id(conn),
                acc->phone, dev->id);
    s_notify_devices(hub, acc, "add", dev->id, dev->key_index);
    sim_hub_linked(hub, dev);
    //  Restart required: the companion logs in on a new connection.
    sim_conn_stream_error(conn, "515", NULL);
}

int
sim_pair_unlink(sim_hub_t *hub, const char *phone, uint32_t id,
                const char **reason)
{
    sim_account_t *acc = sim_model_account(sim_hub_model(hub), phone);
    if (!acc) {
        *reason = "no such account";
        return 404;
    }
    if (id == 0) {
        *reason = "device 0 is the phone itself";
        return 400;
    }
    sim_device_t *dev = sim_account_device(acc, id);
    if (!dev) {
        *reason = "no such device";
        return 404;
    }
    uint32_t key_index = dev->key_index;
    bool linked = dev->linked;
    sim_hub_device_gone(hub, dev, true);
    sim_account_device_remove(acc, id);
    if (linked) {
        s_notify_devices(hub, acc, "remove", id, key_index);
    }
    cm_log_info("unlinked device", "phone=%s device=%u", phone, id);
    return 200;
}

//  An iq result or error: true if it answers our pair-device or
//  pair-success.
static bool
s_iq_reply(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    const char *id = wa_node_attr(iq, "id");
    s_reg_t *reg = sim_conn_state(conn) == SIM_CONN_REGISTER ||
                           sim_conn_state(conn) == SIM_CONN_PAIRING
                       ? (s_reg_t *)sim_conn_data(conn)
                       : NULL;
    if (reg && reg->pair_device_id && cm_streq(id, reg->pair_device_id)) {
        return true; //  the companion took the refs
    }
    if (reg && reg->success_id && cm_streq(id, reg->success_id) &&
        sim_conn_state(conn) == SIM_CONN_PAIRING) {
        s_pair_reply(hub, conn, iq);
        return true;
    }
    return false;
}

//  <iq xmlns="md"> get/set, in any connection state.
static void
s_md(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    const char *type = wa_node_attr(iq, "type");
    const wa_node_t *lc = wa_node_child(iq, "link_code_companion_reg");
    if (lc && cm_streq(type, "set")) {
        s_link_code(hub, conn, iq, lc);
        return;
    }
    const wa_node_t *remove = wa_node_child(iq, "remove-companion-device");
    if (remove && cm_streq(type, "set")) {
        sim_device_t *self_dev = sim_conn_device(conn);
        sim_device_t *target =
            sim_hub_device_of(hub, wa_node_attr(remove, "jid"), NULL);
        if (sim_conn_state(conn) != SIM_CONN_LOGGED_IN || !self_dev) {
            sim_hub_iq_error(conn, iq, 401, "not-authorized");
        } else if (!target || target->id == 0) {
            sim_hub_iq_error(conn, iq, 404, "item-not-found");
        } else if (target->account != self_dev->account) {
            sim_hub_iq_error(conn, iq, 403, "forbidden");
        } else {
            sim_hub_iq_result(conn, iq, NULL);
            const char *unused = NULL;
            sim_pair_unlink(hub, target->account->phone, target->id, &unused);
        }
        return;
    }
    sim_hub_iq_error(conn, iq, 501, "feature-not-implemented");
}

static const sim_iq_route_t s_iqs[] = {{"md", NULL, SIM_IQ_EARLY, s_md},
                                       {NULL, NULL, 0, NULL}};

static const char *const s_notifications[] = {"devices",
                                              "link_code_companion_reg", NULL};

const sim_cap_t sim_pair_cap = {
    .name = "pair",
    .iqs = s_iqs,
    .notifications = s_notifications,
    .iq_reply_fn = s_iq_reply,
};

void
sim_pair_test(bool verbose)
{
    printf(" * sim_pair: ");
    char clean[WA_PAIR_CODE_LEN + 1];
    assert(s_code_clean("abcd-efgh", clean) == 0 &&
           cm_streq(clean, "ABCDEFGH"));
    assert(s_code_clean("ABCD EFGH", clean) == 0);
    assert(s_code_clean("ABCD-EFG", clean) == -1);
    assert(s_code_clean("ABCD-EFGHI", clean) == -1);
    assert(s_code_clean("ABC!-EFGH", clean) == -1);

    uint8_t key[32], back[32];
    cm_random(key, sizeof key);
    char *b64 = s_base64(key, sizeof key, false);
    assert(s_unbase64(b64, back, 32) == 0 && memcmp(key, back, 32) == 0);
    assert(s_unbase64(b64, back, 31) == -1);
    b64[3] = ',';
    assert(s_unbase64(b64, back, 32) == -1);
    free(b64);
    assert(s_unbase64(NULL, back, 32) == -1);

    char *ref = s_new_ref();
    assert(strncmp(ref, "2@", 2) == 0 && !strchr(ref, ','));
    free(ref);
    assert(cm_streq(s_platform_name(1), "Chrome"));
    assert(cm_streq(s_platform_name(-1), "Unknown"));
    assert(cm_streq(s_platform_name(999), "Unknown"));

    //  The phone's bundle verifies with the account key.
    sim_model_t *model = sim_model_new();
    sim_account_t *acc = sim_model_account_add(model, "15550009999", "P");
    assert(sim_pair_phone_keys(acc) == 0);
    sim_device_t *phone = sim_account_device(acc, 0);
    uint8_t djb[WA_DJB_KEY_LEN];
    wa_signal_djb_encode(phone->spk_pub, djb);
    assert(wa_xeddsa_verify(acc->identity_pub, djb, sizeof djb, phone->spk_sig,
                            SIM_SIG_LEN) == 0);
    assert(sim_pair_phone_keys(acc) == 0); //  idempotent
    sim_model_destroy(&model);
    //  Full flows run over real sockets in sim_server's test.
    printf("OK\n");
}
