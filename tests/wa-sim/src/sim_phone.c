/*  sim_phone - the simulated primary phones as message senders

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_phone.h"
#include "sim_server.h"
#include "sim_history.h"
#include "sim_tctoken.h"
#include "wa/wa_binary.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_e2e.h"
#include "wa/wa_history.h"
#include "wa/wa_jid.h"
#include "wa/wa_syncd.pb-c.h"
#include "wa/wa_adv.pb-c.h"
#include "wa/wa_message.h"
#include "wa/wa_pair.h"
#include "wa/wa_signal.h"
#include "wa/wa_sigstore.h"

//  Longest text a phone sends.
#define SIM_PHONE_TEXT_MAX 65536

struct _sim_phone_t {
    sim_hub_t *hub;      //  shared state (borrowed)
    wa_signal_t *signal; //  libsignal context for every store
    zhashx_t *stores;    //  phone -> s_state_t *
};

//  One phone's Signal store and app-state key.
typedef struct {
    wa_sigstore_t *store;                 //  Signal state
    bool has_key;                         //  app-state key made
    uint8_t key_id[SIM_PHONE_KEY_ID_LEN]; //  its id
    uint8_t key_data[32];                 //  the key
    int64_t key_ts_ms;                    //  when it was made
    size_t key_requests;                  //  key requests from companions
    size_t key_answers;                   //  ... answered with a share
    json_t *history;                      //  seeded history, or NULL
    zhashx_t *hist;                       //  "<device id>" -> s_hist_t
} s_state_t;

//  The history notifications on their way to one companion: one at a
//  time, the next once the companion's hist_sync receipt for the one in
//  flight came (as a phone moves on to the next chunk).
typedef struct {
    zlistx_t *queue;      //  serialised notifications (zchunk_t) not sent
    char *in_flight;      //  message id of the one sent, or NULL
    zchunk_t *note;       //  the one in flight (for a re-upload)
    bool reuploaded;      //  its blob was uploaded again already
    size_t sent;          //  notifications sent
    size_t receipts;      //  hist_sync receipts for them
    size_t server_errors; //  server-error receipts (blob asked again)
    size_t unexpected;    //  receipts for nothing in flight, or that
                          //  do not open
} s_hist_t;

static void
s_hist_free(void **item)
{
    s_hist_t *h = (s_hist_t *)*item;
    if (h) {
        zlistx_destroy(&h->queue);
        free(h->in_flight);
        zchunk_destroy(&h->note);
        free(h);
        *item = NULL;
    }
}

static void
s_store_free(void **item)
{
    s_state_t *st = (s_state_t *)*item;
    if (st) {
        wa_sigstore_destroy(&st->store);
        zhashx_destroy(&st->hist);
        json_decref(st->history);
        wa_crypto_wipe(st->key_data, sizeof st->key_data);
        free(st);
        *item = NULL;
    }
}

sim_phone_t *
sim_phone_new(sim_hub_t *hub)
{
    sim_phone_t *self = (sim_phone_t *)cm_alloc(sizeof(sim_phone_t));
    self->hub = hub;
    self->signal = wa_signal_new();
    if (!self->signal) {
        free(self);
        return NULL;
    }
    self->stores = zhashx_new();
    zhashx_set_destructor(self->stores, s_store_free);
    return self;
}

void
sim_phone_destroy(sim_phone_t **self_p)
{
    assert(self_p);
    sim_phone_t *self = *self_p;
    if (self) {
        zhashx_destroy(&self->stores);
        wa_signal_destroy(&self->signal);
        free(self);
        *self_p = NULL;
    }
}

void
sim_phone_forget(sim_phone_t *self, const char *phone)
{
    assert(self);
    zhashx_delete(self->stores, phone);
}

//  The phone's state, made on first use with the account identity.
static s_state_t *
s_state(sim_phone_t *self, sim_account_t *acc)
{
    s_state_t *st = (s_state_t *)zhashx_lookup(self->stores, acc->phone);
    if (st) {
        return st;
    }
    wa_sigstore_t *store = wa_sigstore_new(self->signal);
    if (!store ||
        wa_sigstore_set_identity(store, acc->identity_priv, acc->identity_pub,
                                 acc->registration_id)) {
        wa_sigstore_destroy(&store);
        return NULL;
    }
    st = (s_state_t *)cm_alloc(sizeof(s_state_t));
    st->store = store;
    zhashx_insert(self->stores, acc->phone, st);
    return st;
}

static wa_sigstore_t *
s_store(sim_phone_t *self, sim_account_t *acc)
{
    s_state_t *st = s_state(self, acc);
    return st ? st->store : NULL;
}

//  Signal address of a device: its LID user with the LID domain.
static void
s_address(sim_device_t *dev, char *out, size_t size)
{
    wa_e2e_address(dev->account->lid, WA_JID_DOMAIN_LID, out, size);
}

//  Encrypt `plain` for `dev`, starting a session from its stored bundle
//  when needed. Returns 0 or -1; *type_p and *ct_p as wa_e2e_encrypt.
static int
s_encrypt(sim_phone_t *self, wa_sigstore_t *store, sim_device_t *dev,
          const uint8_t *plain, size_t len, wa_enc_type_t *type_p,
          uint8_t **ct_p, size_t *ct_len)
{
    char name[64];
    s_address(dev, name, sizeof name);
    if (!wa_e2e_has_session(store, name, (int)dev->id)) {
        if (!dev->has_identity || !dev->has_spk) {
            return -1;
        }
        wa_bundle_t bundle;
        memset(&bundle, 0, sizeof bundle);
        bundle.registration_id = dev->registration_id;
        memcpy(bundle.identity, dev->identity_pub, 32);
        sim_prekey_t key;
        if (sim_device_prekey_take(dev, &key) == 0) {
            bundle.has_prekey = true;
            bundle.prekey_id = key.id;
            memcpy(bundle.prekey, key.pub, 32);
        }
        bundle.skey_id = dev->spk_id;
        memcpy(bundle.skey, dev->spk_pub, 32);
        memcpy(bundle.skey_sig, dev->spk_sig, 64);
        if (wa_e2e_process_bundle(store, name, (int)dev->id, &bundle)) {
            return -1;
        }
    }
    return wa_e2e_encrypt(store, name, (int)dev->id, plain, len, type_p, ct_p,
                          ct_len) == 0
               ? 0
               : -1;
}

static wa_node_t *
s_enc_node(wa_enc_type_t type, const uint8_t *ct, size_t len)
{
    wa_node_t *enc = wa_node_new("enc");
    wa_node_set_attr(enc, "v", "2");
    wa_node_set_attr(enc, "type", wa_e2e_type_name(type));
    wa_node_set_bytes(enc, ct, len);
    return enc;
}

//  Linked companions of `acc` (borrowed pointers). Caller owns the list.
static zlistx_t *
s_companions(sim_account_t *acc)
{
    zlistx_t *list = zlistx_new();
    sim_device_t *dev = (sim_device_t *)zlistx_first(acc->devices);
    while (dev) {
        if (dev->id != 0 && dev->linked) {
            zlistx_add_end(list, dev);
        }
        dev = (sim_device_t *)zlistx_next(acc->devices);
    }
    return list;
}

static wa_node_t *
s_message_node(sim_account_t *me, const char *id, const char *from)
{
    wa_node_t *msg = wa_node_new("message");
    wa_node_set_attr(msg, "from", from);
    wa_node_set_attr(msg, "id", id);
    wa_node_set_attr_int(msg, "t", cm_now_ms() / 1000);
    wa_node_set_attr(msg, "type", "text");
    if (*me->push_name) {
        wa_node_set_attr(msg, "notify", me->push_name);
    }
    return msg;
}

static int
s_send_direct(sim_phone_t *self, wa_sigstore_t *store, sim_account_t *me,
              sim_account_t *to, const char *id, const uint8_t *msg,
              size_t msg_len, size_t *copies)
{
    char *from = cm_sprintf("%s@s.whatsapp.net", me->phone);
    char *lid = cm_sprintf("%s@lid", me->lid);
    char *chat = cm_sprintf("%s@s.whatsapp.net", to->phone);
    uint8_t *dsm = NULL;
    size_t dsm_len = 0;
    int rc = wa_message_build_dsm(msg, msg_len, chat, &dsm, &dsm_len);
    zlistx_t *targets = s_companions(to);
    zlistx_t *own = to != me ? s_companions(me) : zlistx_new();
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        zlistx_t *list = pass == 0 ? targets : own;
        sim_device_t *dev = (sim_device_t *)zlistx_first(list);
        while (dev) {
            wa_enc_type_t type;
            uint8_t *ct = NULL;
            size_t ct_len = 0;
            if (s_encrypt(self, store, dev, pass == 0 ? msg : dsm,
                          pass == 0 ? msg_len : dsm_len, &type, &ct,
                          &ct_len) == 0) {
                wa_node_t *node = s_message_node(me, id, from);
                if (pass == 1 ||
                    !sim_fault_rules(sim_hub_faults(self->hub), me->phone)
                         ->lid_hidden) {
                    wa_node_set_attr(node, "sender_lid", lid);
                }
                if (pass == 1) {
                    wa_node_set_attr(node, "recipient", chat);
                }
                wa_node_t *enc = s_enc_node(type, ct, ct_len);
                wa_node_append(node, &enc);
                sim_hub_deliver(self->hub, dev, node, "message");
                wa_node_destroy(&node);
                free(ct);
                (*copies)++;
            } else {
                cm_log_warn("phone could not encrypt for device",
                            "phone=%s device=%s:%u", me->phone,
                            dev->account->phone, dev->id);
            }
            dev = (sim_device_t *)zlistx_next(list);
        }
    }
    zlistx_destroy(&targets);
    zlistx_destroy(&own);
    free(dsm);
    free(chat);
    free(lid);
    free(from);
    return rc;
}

static int
s_send_group(sim_phone_t *self, wa_sigstore_t *store, sim_account_t *me,
             sim_group_t *group, const char *id, const uint8_t *msg,
             size_t msg_len, size_t *copies)
{
    char *group_jid = cm_sprintf("%s@g.us", group->id);
    char own[64];
    wa_e2e_address(me->lid, WA_JID_DOMAIN_LID, own, sizeof own);
    uint8_t *skmsg = NULL, *skdm = NULL, *skdm_msg = NULL;
    size_t skmsg_len = 0, skdm_len = 0, skdm_msg_len = 0;
    int rc = wa_e2e_group_encrypt(store, group_jid, own, 0, msg, msg_len,
                                  &skmsg, &skmsg_len, &skdm, &skdm_len);
    if (rc == 0) {
        rc = wa_message_build_skdm(group_jid, skdm, skdm_len, &skdm_msg,
                                   &skdm_msg_len);
    }
    //  The phone as the group addresses it, the other form beside
    char *pn = cm_sprintf("%s@s.whatsapp.net", me->phone);
    char *lid = cm_sprintf("%s@lid", me->lid);
    const char *participant = group->lid ? lid : pn;
    const char *participant_alt = group->lid ? pn : lid;
    zlistx_t *targets = zlistx_new();
    sim_participant_t *p =
        (sim_participant_t *)zlistx_first(group->participants);
    while (rc == 0 && p) {
        sim_account_t *acc =
            sim_model_account(sim_hub_model(self->hub), p->phone);
        if (acc) {
            zlistx_t *devs = s_companions(acc);
            sim_device_t *d = (sim_device_t *)zlistx_first(devs);
            while (d) {
                zlistx_add_end(targets, d);
                d = (sim_device_t *)zlistx_next(devs);
            }
            zlistx_destroy(&devs);
        }
        p = (sim_participant_t *)zlistx_next(group->participants);
    }
    sim_device_t *dev = (sim_device_t *)zlistx_first(targets);
    while (rc == 0 && dev) {
        wa_enc_type_t type;
        uint8_t *ct = NULL;
        size_t ct_len = 0;
        if (s_encrypt(self, store, dev, skdm_msg, skdm_msg_len, &type, &ct,
                      &ct_len) == 0) {
            wa_node_t *node = s_message_node(me, id, group_jid);
            wa_node_set_attr(node, "participant", participant);
            wa_node_set_attr(node,
                             group->lid ? "participant_pn" : "participant_lid",
                             participant_alt);
            wa_node_set_attr(node, "addressing_mode",
                             group->lid ? "lid" : "pn");
            wa_node_t *enc = s_enc_node(type, ct, ct_len);
            wa_node_append(node, &enc);
            enc = s_enc_node(WA_ENC_SKMSG, skmsg, skmsg_len);
            wa_node_append(node, &enc);
            sim_hub_deliver(self->hub, dev, node, "message");
            wa_node_destroy(&node);
            free(ct);
            (*copies)++;
        }
        dev = (sim_device_t *)zlistx_next(targets);
    }
    zlistx_destroy(&targets);
    free(pn);
    free(lid);
    free(skmsg);
    free(skdm);
    free(skdm_msg);
    free(group_jid);
    return rc;
}

//  Protobuf writing for the one message our trimmed schemas keep as
//  bytes (AppStateSyncKeyShare): tag/varint/length-delimited helpers.
static void
s_pb_varint(zchunk_t *out, uint64_t v)
{
    uint8_t buf[10];
    size_t n = 0;
    do {
        buf[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    zchunk_extend(out, buf, n);
}

static void
s_pb_bytes(zchunk_t *out, uint32_t field, const void *data, size_t len)
{
    s_pb_varint(out, (uint64_t)field << 3 | 2);
    s_pb_varint(out, len);
    zchunk_extend(out, data, len);
}

static void
s_pb_uint(zchunk_t *out, uint32_t field, uint64_t v)
{
    s_pb_varint(out, (uint64_t)field << 3);
    s_pb_varint(out, v);
}

//  AppStateSyncKeyShare{keys: [AppStateSyncKey{keyID{keyID}, keyData{
//  keyData, fingerprint{rawID, currentIndex}, timestamp}}]}.
static zchunk_t *
s_key_share(const s_state_t *st, uint32_t raw_id, uint32_t index)
{
    zchunk_t *fingerprint = zchunk_new(NULL, 16);
    s_pb_uint(fingerprint, 1, raw_id);
    s_pb_uint(fingerprint, 2, index);
    zchunk_t *data = zchunk_new(NULL, 64);
    s_pb_bytes(data, 1, st->key_data, sizeof st->key_data);
    s_pb_bytes(data, 2, zchunk_data(fingerprint), zchunk_size(fingerprint));
    s_pb_uint(data, 3, (uint64_t)st->key_ts_ms);
    zchunk_t *id = zchunk_new(NULL, 16);
    s_pb_bytes(id, 1, st->key_id, sizeof st->key_id);
    zchunk_t *key = zchunk_new(NULL, 128);
    s_pb_bytes(key, 1, zchunk_data(id), zchunk_size(id));
    s_pb_bytes(key, 2, zchunk_data(data), zchunk_size(data));
    zchunk_t *share = zchunk_new(NULL, 160);
    s_pb_bytes(share, 1, zchunk_data(key), zchunk_size(key));
    zchunk_destroy(&fingerprint);
    zchunk_destroy(&data);
    zchunk_destroy(&id);
    zchunk_destroy(&key);
    return share;
}

//  Send `plain` (a serialised Message) to our own companion `dev` as a
//  peer message from the phone. Returns 0 or -1.
static int
s_send_peer(sim_phone_t *self, s_state_t *st, sim_device_t *dev,
            const uint8_t *plain, size_t len, char *id_out)
{
    sim_account_t *acc = dev->account;
    wa_enc_type_t type;
    uint8_t *ct = NULL;
    size_t ct_len = 0;
    if (s_encrypt(self, st->store, dev, plain, len, &type, &ct, &ct_len)) {
        return -1;
    }
    char id[WA_E2E_ID_LEN + 1];
    wa_e2e_message_id(acc->phone, id);
    if (id_out) {
        memcpy(id_out, id, sizeof id);
    }
    char *from = cm_sprintf("%s@s.whatsapp.net", acc->phone);
    wa_node_t *node = s_message_node(acc, id, from);
    wa_node_set_attr(node, "category", "peer");
    char *lid = cm_sprintf("%s@lid", acc->lid);
    wa_node_set_attr(node, "sender_lid", lid);
    free(lid);
    wa_node_t *enc = s_enc_node(type, ct, ct_len);
    wa_node_append(node, &enc);
    sim_hub_deliver(self->hub, dev, node, "message");
    wa_node_destroy(&node);
    free(from);
    free(ct);
    return 0;
}

int
sim_phone_share_keys(sim_phone_t *self, sim_device_t *dev)
{
    assert(self);
    assert(dev);
    sim_account_t *acc = dev->account;
    s_state_t *st = s_state(self, acc);
    if (!st) {
        return -1;
    }
    if (!st->has_key) {
        //  Key ids look like 00 00 00 00 xx xx in the wild.
        memset(st->key_id, 0, sizeof st->key_id);
        cm_random(st->key_id + 4, 2);
        cm_random(st->key_data, sizeof st->key_data);
        st->key_ts_ms = cm_now_ms();
        st->has_key = true;
    }
    zchunk_t *share =
        s_key_share(st, (uint32_t)(strtoull(acc->lid, NULL, 10) & 0xffffffffu),
                    acc->next_key_index - 1);
    Wa__E2e__ProtocolMessage pm = WA__E2E__PROTOCOL_MESSAGE__INIT;
    pm.has_type = 1;
    pm.type = WA__E2E__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_SHARE;
    pm.has_app_state_sync_key_share = 1;
    pm.app_state_sync_key_share.data = zchunk_data(share);
    pm.app_state_sync_key_share.len = zchunk_size(share);
    Wa__E2e__Message msg = WA__E2E__MESSAGE__INIT;
    msg.protocol_message = &pm;
    size_t len = wa__e2e__message__get_packed_size(&msg);
    uint8_t *plain = (uint8_t *)cm_alloc(len);
    wa__e2e__message__pack(&msg, plain);
    zchunk_destroy(&share);
    int rc = s_send_peer(self, st, dev, plain, len, NULL);
    free(plain);
    if (rc) {
        cm_log_warn("phone could not share app-state keys",
                    "phone=%s device=%u", acc->phone, dev->id);
        return -1;
    }
    cm_log_info("phone shared its app-state key", "phone=%s device=%u",
                acc->phone, dev->id);
    return 0;
}

//  Pairs the LID migration mapping sync message carries at most.
#define S_LID_SYNC_MAX 1000

int
sim_phone_lid_sync(sim_phone_t *self, sim_account_t *acc, json_t **result_p,
                   const char **reason)
{
    assert(self && acc);
    s_state_t *st = s_state(self, acc);
    if (!st) {
        *reason = "could not make the phone's state";
        return 500;
    }
    //  LIDMigrationMappingSyncPayload{pnToLidMappings: the account's
    //  chats (here: every other account), chatDbMigrationTimestamp}
    zlistx_t *accounts = sim_model_accounts(sim_hub_model(self->hub));
    size_t n = 0, cap = zlistx_size(accounts);
    Wa__E2e__LIDMigrationMapping *maps =
        (Wa__E2e__LIDMigrationMapping *)cm_alloc((cap ? cap : 1) *
                                                 sizeof *maps);
    Wa__E2e__LIDMigrationMapping **ptrs =
        (Wa__E2e__LIDMigrationMapping **)cm_alloc((cap ? cap : 1) *
                                                  sizeof *ptrs);
    for (sim_account_t *a = (sim_account_t *)zlistx_first(accounts);
         a && n < S_LID_SYNC_MAX; a = (sim_account_t *)zlistx_next(accounts)) {
        if (a == acc) {
            continue;
        }
        Wa__E2e__LIDMigrationMapping init = WA__E2E__LIDMIGRATION_MAPPING__INIT;
        maps[n] = init;
        maps[n].has_pn = maps[n].has_assigned_lid = 1;
        maps[n].pn = strtoull(a->phone, NULL, 10);
        maps[n].assigned_lid = strtoull(a->lid, NULL, 10);
        ptrs[n] = &maps[n];
        n++;
    }
    Wa__E2e__LIDMigrationMappingSyncPayload payload =
        WA__E2E__LIDMIGRATION_MAPPING_SYNC_PAYLOAD__INIT;
    payload.n_pn_to_lid_mappings = n;
    payload.pn_to_lid_mappings = ptrs;
    payload.has_chat_db_migration_timestamp = 1;
    payload.chat_db_migration_timestamp = (uint64_t)(cm_now_ms() / 1000);
    size_t plen =
        wa__e2e__lidmigration_mapping_sync_payload__get_packed_size(&payload);
    uint8_t *pbuf = (uint8_t *)cm_alloc(plen ? plen : 1);
    wa__e2e__lidmigration_mapping_sync_payload__pack(&payload, pbuf);
    free(maps);
    free(ptrs);

    Wa__E2e__LIDMigrationMappingSyncMessage sync =
        WA__E2E__LIDMIGRATION_MAPPING_SYNC_MESSAGE__INIT;
    sync.has_encoded_mapping_payload = 1;
    sync.encoded_mapping_payload.data = pbuf;
    sync.encoded_mapping_payload.len = plen;
    Wa__E2e__ProtocolMessage pm = WA__E2E__PROTOCOL_MESSAGE__INIT;
    pm.has_type = 1;
    pm.type = WA__E2E__PROTOCOL_MESSAGE__TYPE__LID_MIGRATION_MAPPING_SYNC;
    pm.lid_migration_mapping_sync_message = &sync;
    Wa__E2e__Message msg = WA__E2E__MESSAGE__INIT;
    msg.protocol_message = &pm;
    size_t len = wa__e2e__message__get_packed_size(&msg);
    uint8_t *plain = (uint8_t *)cm_alloc(len);
    wa__e2e__message__pack(&msg, plain);
    free(pbuf);

    size_t copies = 0;
    zlistx_t *companions = s_companions(acc);
    for (sim_device_t *dev = (sim_device_t *)zlistx_first(companions); dev;
         dev = (sim_device_t *)zlistx_next(companions)) {
        copies += s_send_peer(self, st, dev, plain, len, NULL) == 0;
    }
    zlistx_destroy(&companions);
    free(plain);
    cm_log_info("phone sent its LID migration mappings",
                "phone=%s pairs=%zu copies=%zu", acc->phone, n, copies);
    *result_p = json_pack("{s:s, s:I, s:I}", "lid", acc->lid, "pairs",
                          (json_int_t)n, "copies", (json_int_t)copies);
    return 200;
}

int
sim_phone_app_state_key(sim_phone_t *self, sim_account_t *acc,
                        uint8_t id[SIM_PHONE_KEY_ID_LEN], uint8_t key[32])
{
    assert(self && acc);
    s_state_t *st = (s_state_t *)zhashx_lookup(self->stores, acc->phone);
    if (!st || !st->has_key) {
        return -1;
    }
    memcpy(id, st->key_id, SIM_PHONE_KEY_ID_LEN);
    memcpy(key, st->key_data, 32);
    return 0;
}

int
sim_phone_seed_history(sim_phone_t *self, sim_account_t *acc, json_t *seed,
                       json_t **result_p, const char **reason)
{
    assert(self && acc);
    if (sim_history_check(seed, reason)) {
        return 400;
    }
    s_state_t *st = s_state(self, acc);
    if (!st) {
        *reason = "could not make the phone's state";
        return 500;
    }
    json_decref(st->history);
    st->history = json_deep_copy(seed);
    size_t messages = 0, i;
    json_t *c;
    json_array_foreach(json_object_get(seed, "chats"), i, c)
    {
        messages += json_array_size(json_object_get(c, "messages"));
    }
    *result_p = json_pack(
        "{s:I, s:I, s:I}", "chats",
        (json_int_t)json_array_size(json_object_get(seed, "chats")), "messages",
        (json_int_t)messages, "contacts",
        (json_int_t)json_array_size(json_object_get(seed, "contacts")));
    return 200;
}

//  The history queue of `dev` (made on first use).
static s_hist_t *
s_hist(s_state_t *st, sim_device_t *dev)
{
    if (!st->hist) {
        st->hist = zhashx_new();
        zhashx_set_destructor(st->hist, s_hist_free);
    }
    char key[16];
    snprintf(key, sizeof key, "%u", (unsigned)dev->id);
    s_hist_t *h = (s_hist_t *)zhashx_lookup(st->hist, key);
    if (!h) {
        h = (s_hist_t *)cm_alloc(sizeof *h);
        h->queue = zlistx_new();
        zlistx_set_destructor(h->queue, (zlistx_destructor_fn *)zchunk_destroy);
        zhashx_insert(st->hist, key, h);
    }
    return h;
}

//  Send the next queued notification unless one is in flight.
static void
s_hist_next(sim_phone_t *self, s_state_t *st, sim_device_t *dev, s_hist_t *h)
{
    while (!h->in_flight && zlistx_size(h->queue) > 0) {
        zchunk_t *n = (zchunk_t *)zlistx_detach(h->queue, NULL);
        char id[WA_E2E_ID_LEN + 1];
        if (s_send_peer(self, st, dev, zchunk_data(n), zchunk_size(n), id) ==
            0) {
            h->in_flight = cm_strdup(id);
            h->sent++;
            zchunk_destroy(&h->note);
            h->note = n;
            h->reuploaded = false;
            n = NULL;
        }
        zchunk_destroy(&n);
    }
    if (!h->in_flight) {
        cm_log_info("phone sent its history", "phone=%s device=%u sent=%zu",
                    dev->account->phone, dev->id, h->sent);
    }
}

//  Send a newly linked companion the seeded history, if any.
static void
s_send_history(sim_phone_t *self, sim_device_t *dev)
{
    s_state_t *st = s_state(self, dev->account);
    if (!st || !st->history) {
        return;
    }
    zlistx_t *notes = sim_history_build(sim_hub_model(self->hub), dev->account,
                                        st->history, dev->full_sync);
    if (!notes) {
        cm_log_warn("phone could not build its history", "phone=%s device=%u",
                    dev->account->phone, dev->id);
        return;
    }
    s_hist_t *h = s_hist(st, dev);
    zchunk_t *n;
    while ((n = (zchunk_t *)zlistx_detach(notes, NULL))) {
        zlistx_add_end(h->queue, n);
    }
    zlistx_destroy(&notes);
    s_hist_next(self, st, dev, h);
}

bool
sim_phone_hist_sync(sim_phone_t *self, sim_device_t *dev, const char *id)
{
    assert(self && dev);
    s_state_t *st =
        (s_state_t *)zhashx_lookup(self->stores, dev->account->phone);
    s_hist_t *h = st && st->hist ? s_hist(st, dev) : NULL;
    if (!h || !h->in_flight || !id || strcmp(h->in_flight, id)) {
        if (h) {
            h->unexpected++;
        }
        cm_log_info("hist_sync receipt for no history chunk in flight",
                    "phone=%s device=%u id=%s", dev->account->phone, dev->id,
                    id ? id : "");
        return false;
    }
    h->receipts++;
    zstr_free(&h->in_flight);
    s_hist_next(self, st, dev, h);
    return true;
}

bool
sim_phone_hist_retry(sim_phone_t *self, sim_device_t *dev,
                     const wa_node_t *receipt)
{
    assert(self && dev && receipt);
    const char *id = wa_node_attr(receipt, "id");
    s_state_t *st =
        (s_state_t *)zhashx_lookup(self->stores, dev->account->phone);
    s_hist_t *h = st && st->hist ? s_hist(st, dev) : NULL;
    wa_history_note_t *note =
        h && h->in_flight && id && !strcmp(h->in_flight, id) && h->note
            ? wa_history_note(zchunk_data(h->note), zchunk_size(h->note))
            : NULL;
    const wa_node_t *enc = wa_node_child(receipt, "encrypt");
    const wa_node_t *p = wa_node_child(enc, "enc_p");
    const wa_node_t *iv = wa_node_child(enc, "enc_iv");
    size_t p_len = 0, iv_len = 0;
    const uint8_t *p_data = p ? wa_node_bytes(p, &p_len) : NULL;
    const uint8_t *iv_data = iv ? wa_node_bytes(iv, &iv_len) : NULL;
    if (!note || !note->has_media_key || !note->direct_path ||
        wa_history_retry_open(note->media_key.data, note->media_key.len, id,
                              p_data, p_len, iv_data, iv_len) != 0) {
        if (h) {
            h->unexpected++;
        }
        cm_log_info("server-error receipt for no history chunk in flight, "
                    "or it does not open",
                    "phone=%s device=%u id=%s", dev->account->phone, dev->id,
                    id ? id : "");
        wa_history_note_free(&note);
        return false;
    }
    h->server_errors++;
    zstr_free(&h->in_flight);
    if (!h->reuploaded) {
        //  Upload the blob again (one withheld as gone is now there) and
        //  send the notification again, under a new message id
        char *path =
            cm_strndup(note->direct_path, strcspn(note->direct_path, "?"));
        char *held = cm_sprintf("%s%s", SIM_HISTORY_HELD, path);
        size_t len = 0;
        const uint8_t *blob =
            sim_model_media_get(sim_hub_model(self->hub), held, &len);
        if (blob && sim_model_media_put(sim_hub_model(self->hub), path, blob,
                                        len) == 0) {
            sim_model_media_del(sim_hub_model(self->hub), held);
        }
        free(held);
        free(path);
        char nid[WA_E2E_ID_LEN + 1];
        if (s_send_peer(self, st, dev, zchunk_data(h->note),
                        zchunk_size(h->note), nid) == 0) {
            h->in_flight = cm_strdup(nid);
            h->sent++;
            h->reuploaded = true;
        }
        cm_log_info("phone uploaded a history blob again",
                    "phone=%s device=%u id=%s", dev->account->phone, dev->id,
                    id);
    }
    wa_history_note_free(&note);
    s_hist_next(self, st, dev, h);
    return true;
}

json_t *
sim_phone_history_status(sim_phone_t *self, sim_account_t *acc)
{
    assert(self && acc);
    json_t *devices = json_array();
    s_state_t *st = (s_state_t *)zhashx_lookup(self->stores, acc->phone);
    zlistx_t *keys = st && st->hist ? zhashx_keys(st->hist) : NULL;
    if (keys) {
        zlistx_set_comparator(keys, (zlistx_comparator_fn *)strcmp);
        zlistx_sort(keys);
    }
    for (const char *k = keys ? (const char *)zlistx_first(keys) : NULL; k;
         k = (const char *)zlistx_next(keys)) {
        s_hist_t *h = (s_hist_t *)zhashx_lookup(st->hist, k);
        json_array_append_new(
            devices,
            json_pack("{s:i, s:I, s:I, s:I, s:I, s:I}", "device", atoi(k),
                      "sent", (json_int_t)h->sent, "receipts",
                      (json_int_t)h->receipts, "serverErrors",
                      (json_int_t)h->server_errors, "pending",
                      (json_int_t)(zlistx_size(h->queue) + !!h->in_flight),
                      "unexpected", (json_int_t)h->unexpected));
    }
    zlistx_destroy(&keys);
    return json_pack("{s:b, s:o}", "seeded", st && st->history, "devices",
                     devices);
}

int
sim_phone_resend_history(sim_phone_t *self, sim_account_t *acc,
                         json_t **result_p, const char **reason)
{
    assert(self && acc);
    s_state_t *st = (s_state_t *)zhashx_lookup(self->stores, acc->phone);
    if (!st || !st->history) {
        *reason = "no history seeded";
        return 409;
    }
    zlistx_t *devs = s_companions(acc);
    size_t n = 0;
    for (sim_device_t *dev = (sim_device_t *)zlistx_first(devs); dev;
         dev = (sim_device_t *)zlistx_next(devs)) {
        s_send_history(self, dev);
        n++;
    }
    zlistx_destroy(&devs);
    *result_p = json_pack("{s:I}", "companions", (json_int_t)n);
    return 200;
}

int
sim_phone_send_text(sim_phone_t *self, const char *phone, const char *to,
                    const char *text, json_t **result_p, const char **reason)
{
    assert(self);
    if (!text || !*text || strlen(text) > SIM_PHONE_TEXT_MAX) {
        *reason = "text must be 1..65536 bytes";
        return 400;
    }
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    if (wa_message_build_text(text, NULL, NULL, NULL, &msg, &msg_len)) {
        *reason = "could not build the message";
        return 500;
    }
    int st =
        sim_phone_send_message(self, phone, to, msg, msg_len, result_p, reason);
    free(msg);
    return st;
}

int
sim_phone_send_message(sim_phone_t *self, const char *phone, const char *to,
                       const uint8_t *msg, size_t msg_len, json_t **result_p,
                       const char **reason)
{
    assert(self);
    sim_model_t *model = sim_hub_model(self->hub);
    sim_account_t *me = sim_model_account(model, phone);
    if (!me) {
        *reason = "no such account";
        return 404;
    }
    char *wire = to ? wa_jid_normalize(to) : NULL;
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    free(wire);
    if (!jid) {
        *reason = "to must be a phone number or a user or group JID";
        return 400;
    }
    sim_group_t *group = NULL;
    sim_account_t *target = NULL;
    if (wa_jid_is_group(jid)) {
        group = sim_model_group(model, wa_jid_user(jid));
    } else {
        target = sim_hub_account_of(self->hub, wa_jid_str(jid), NULL);
    }
    wa_jid_destroy(&jid);
    if (!group && !target) {
        *reason = "no such recipient";
        return 404;
    }
    if (group && !sim_group_participant(group, me->phone)) {
        *reason = "the phone is not in that group";
        return 403;
    }
    if (target && sim_account_blocks(target, me)) {
        //  As WhatsApp does: taken, delivered to nobody
        char id[WA_E2E_ID_LEN + 1];
        wa_e2e_message_id(me->phone, id);
        cm_log_info("phone's text to a blocker dropped", "phone=%s id=%s",
                    me->phone, id);
        *result_p = json_pack("{s:s, s:i}", "id", id, "copies", 0);
        return 200;
    }
    wa_sigstore_t *store = s_store(self, me);
    if (!store) {
        *reason = "could not build the message";
        return 500;
    }
    char id[WA_E2E_ID_LEN + 1];
    wa_e2e_message_id(me->phone, id);
    size_t copies = 0;
    int rc =
        group
            ? s_send_group(self, store, me, group, id, msg, msg_len, &copies)
            : s_send_direct(self, store, me, target, id, msg, msg_len, &copies);
    if (rc) {
        *reason = "could not encrypt the message";
        return 500;
    }
    if (target && target != me &&
        sim_fault_rules(sim_hub_faults(self->hub), me->phone)->tctoken) {
        //  As WhatsApp's apps do after a DM: the contact gets our
        //  privacy token, so its answer is accepted (sim_tctoken)
        sim_tctoken_issue(self->hub, me, target);
    }
    cm_log_info("phone sent a message", "phone=%s id=%s copies=%zu", me->phone,
                id, copies);
    *result_p = json_pack("{s:s, s:I}", "id", id, "copies", (json_int_t)copies);
    return 200;
}

//  An ADVSignedDeviceIdentity of `acc` for its companion `device` whose
//  identity key is the signing key `priv`/`pub` (the account key, or a
//  foreign one; forge: account signature broken). Caller owns *out_p.
//  Returns 0 or -1.
static int
s_device_identity(sim_account_t *acc, const uint8_t priv[32],
                  const uint8_t pub[32], uint32_t key_index, bool forge,
                  uint8_t **out_p, size_t *out_len)
{
    uint8_t secret[32];
    cm_random(secret, sizeof secret);
    uint8_t *container = NULL;
    size_t container_len = 0;
    if (wa_pair_adv_issue(priv, pub, secret,
                          (uint32_t)strtoul(acc->lid, NULL, 10),
                          (uint64_t)(cm_now_ms() / 1000), key_index, false,
                          &container, &container_len) != 0) {
        return -1;
    }
    wa_pair_adv_t *adv =
        wa_pair_adv_accept(container, container_len, secret, priv, NULL);
    free(container);
    if (!adv) {
        return -1;
    }
    size_t len = 0;
    const uint8_t *id = wa_pair_adv_identity(adv, &len);
    Wa__Adv__SignedDeviceIdentity *sdi =
        wa__adv__signed_device_identity__unpack(NULL, len, id);
    wa_pair_adv_destroy(&adv);
    if (!sdi || !sdi->has_account_signature ||
        sdi->account_signature.len == 0) {
        if (sdi) {
            wa__adv__signed_device_identity__free_unpacked(sdi, NULL);
        }
        return -1;
    }
    if (forge) {
        sdi->account_signature.data[0] ^= 0x01;
    }
    *out_len = wa__adv__signed_device_identity__get_packed_size(sdi);
    *out_p = (uint8_t *)cm_alloc(*out_len);
    wa__adv__signed_device_identity__pack(sdi, *out_p);
    wa__adv__signed_device_identity__free_unpacked(sdi, NULL);
    return 0;
}

int
sim_phone_send_as(sim_phone_t *self, const char *phone, const char *to,
                  const char *text, uint32_t device, int forge,
                  int64_t key_index, json_t **result_p, const char **reason)
{
    assert(self);
    sim_model_t *model = sim_hub_model(self->hub);
    sim_account_t *me = sim_model_account(model, phone);
    if (key_index < 0 && me) {
        sim_device_t *known = sim_account_device(me, device);
        key_index = known ? known->key_index : device;
    }
    char *wire = to ? wa_jid_normalize(to) : NULL;
    sim_account_t *target =
        wire ? sim_hub_account_of(self->hub, wire, NULL) : NULL;
    free(wire);
    if (!me || !target || target == me) {
        *reason = "no such account or recipient";
        return 404;
    }
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    uint8_t *identity = NULL;
    size_t identity_len = 0;
    //  The key it signs with: the account's, or another (forge_account)
    uint8_t priv[32], pub[32];
    memcpy(priv, me->identity_priv, 32);
    memcpy(pub, me->identity_pub, 32);
    if (forge == SIM_FORGE_ACCOUNT && wa_x25519_keypair(priv, pub) != 0) {
        *reason = "could not make a key";
        return 500;
    }
    //  A store of its own: every copy is a pkmsg from a new session
    wa_sigstore_t *store = wa_sigstore_new(self->signal);
    uint32_t reg = 0;
    cm_random(&reg, sizeof reg);
    if (!store ||
        wa_sigstore_set_identity(store, priv, pub, 1 + reg % 16380) != 0 ||
        wa_message_build_text(text, NULL, NULL, NULL, &msg, &msg_len) != 0 ||
        s_device_identity(me, priv, pub, (uint32_t)key_index,
                          forge == SIM_FORGE_SIGNATURE, &identity,
                          &identity_len) != 0) {
        wa_sigstore_destroy(&store);
        free(msg);
        *reason = "could not build the message";
        return 500;
    }
    char id[WA_E2E_ID_LEN + 1];
    wa_e2e_message_id(me->phone, id);
    char *from = cm_sprintf("%s:%u@s.whatsapp.net", me->phone, device);
    char *lid = cm_sprintf("%s:%u@lid", me->lid, device);
    size_t copies = 0;
    zlistx_t *targets = s_companions(target);
    for (sim_device_t *dev = (sim_device_t *)zlistx_first(targets); dev;
         dev = (sim_device_t *)zlistx_next(targets)) {
        wa_enc_type_t type;
        uint8_t *ct = NULL;
        size_t ct_len = 0;
        if (s_encrypt(self, store, dev, msg, msg_len, &type, &ct, &ct_len)) {
            continue;
        }
        wa_node_t *node = s_message_node(me, id, from);
        if (!sim_fault_rules(sim_hub_faults(self->hub), me->phone)
                 ->lid_hidden) {
            wa_node_set_attr(node, "sender_lid", lid); //  LID-migrated
        }
        wa_node_t *enc = s_enc_node(type, ct, ct_len);
        wa_node_append(node, &enc);
        wa_node_set_bytes(wa_node_add(node, "device-identity"), identity,
                          identity_len);
        sim_hub_deliver(self->hub, dev, node, "message");
        wa_node_destroy(&node);
        free(ct);
        copies++;
    }
    zlistx_destroy(&targets);
    wa_sigstore_destroy(&store);
    free(identity);
    free(msg);
    free(from);
    free(lid);
    cm_log_info("phone sent as a companion",
                "phone=%s device=%u id=%s "
                "forged=%s copies=%zu",
                me->phone, device, id,
                forge == SIM_FORGE_ACCOUNT     ? "account"
                : forge == SIM_FORGE_SIGNATURE ? "signature"
                                               : "no",
                copies);
    *result_p = json_pack("{s:s, s:I}", "id", id, "copies", (json_int_t)copies);
    return 200;
}

int
sim_phone_send_undecryptable(sim_phone_t *self, const char *phone,
                             const char *to, json_t **result_p,
                             const char **reason)
{
    assert(self);
    sim_model_t *model = sim_hub_model(self->hub);
    sim_account_t *me = sim_model_account(model, phone);
    char *wire = to ? wa_jid_normalize(to) : NULL;
    sim_account_t *target =
        wire ? sim_hub_account_of(self->hub, wire, NULL) : NULL;
    free(wire);
    if (!me || !target) {
        *reason = me ? "no such recipient" : "no such account";
        return 404;
    }
    char id[WA_E2E_ID_LEN + 1];
    wa_e2e_message_id(me->phone, id);
    char *from = cm_sprintf("%s@s.whatsapp.net", me->phone);
    //  A SignalMessage no session can open: version byte, then noise
    uint8_t junk[48];
    for (size_t i = 0; i < sizeof junk; i++) {
        junk[i] = (uint8_t)(random() & 0xFF);
    }
    junk[0] = 0x33;
    size_t copies = 0;
    zlistx_t *targets = s_companions(target);
    for (sim_device_t *dev = (sim_device_t *)zlistx_first(targets); dev;
         dev = (sim_device_t *)zlistx_next(targets)) {
        wa_node_t *node = s_message_node(me, id, from);
        wa_node_t *enc = s_enc_node(WA_ENC_MSG, junk, sizeof junk);
        wa_node_append(node, &enc);
        sim_hub_deliver(self->hub, dev, node, "message");
        wa_node_destroy(&node);
        copies++;
    }
    zlistx_destroy(&targets);
    free(from);
    cm_log_info("phone sent an undecryptable message", "phone=%s id=%s",
                me->phone, id);
    *result_p = json_pack("{s:s, s:I}", "id", id, "copies", (json_int_t)copies);
    return 200;
}

int
sim_phone_new_app_state_key(sim_phone_t *self, sim_account_t *acc,
                            json_t **result_p, const char **reason)
{
    assert(self && acc);
    s_state_t *st = (s_state_t *)zhashx_lookup(self->stores, acc->phone);
    if (!st || !st->has_key) {
        *reason = "the phone has no app-state key yet: link a companion first";
        return 409;
    }
    uint8_t old[SIM_PHONE_KEY_ID_LEN];
    memcpy(old, st->key_id, sizeof old);
    do {
        cm_random(st->key_id + 4, 2);
    } while (memcmp(old, st->key_id, sizeof old) == 0);
    cm_random(st->key_data, sizeof st->key_data);
    st->key_ts_ms = cm_now_ms();
    char hex[2 * SIM_PHONE_KEY_ID_LEN + 1];
    cm_hex(st->key_id, sizeof st->key_id, hex);
    cm_log_info("phone made a new app-state key, not shared", "phone=%s key=%s",
                acc->phone, hex);
    *result_p = json_pack("{s:s}", "keyId", hex);
    return 200;
}

json_t *
sim_phone_key_requests(sim_phone_t *self, sim_account_t *acc)
{
    assert(self && acc);
    s_state_t *st = (s_state_t *)zhashx_lookup(self->stores, acc->phone);
    return json_pack("{s:I, s:I}", "requests",
                     (json_int_t)(st ? st->key_requests : 0), "answered",
                     (json_int_t)(st ? st->key_answers : 0));
}

//  A companion's peer message to its phone: an APP_STATE_SYNC_KEY_REQUEST
//  naming the phone's key is answered with a key share to that
//  companion (other peer messages are read and dropped).
static bool
s_on_peer(void *arg, sim_device_t *from, const wa_node_t *msg,
          const wa_node_t *enc)
{
    (void)msg;
    sim_phone_t *self = (sim_phone_t *)arg;
    s_state_t *st = s_state(self, from->account);
    size_t ct_len = 0;
    const uint8_t *ct = wa_node_bytes(enc, &ct_len);
    if (!st || !ct || !ct_len) {
        return false;
    }
    char name[64];
    s_address(from, name, sizeof name);
    wa_enc_type_t type =
        wa_node_attr_eq(enc, "type", "pkmsg") ? WA_ENC_PKMSG : WA_ENC_MSG;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (wa_e2e_decrypt(st->store, name, (int)from->id, type, ct, ct_len, &plain,
                       &plain_len) != 0) {
        cm_log_info("phone could not read a peer message", "phone=%s device=%u",
                    from->account->phone, from->id);
        return true;
    }
    Wa__E2e__Message *m = wa__e2e__message__unpack(NULL, plain_len, plain);
    free(plain);
    const Wa__E2e__ProtocolMessage *pm = m ? m->protocol_message : NULL;
    Wa__Syncd__AppStateSyncKeyRequest *req =
        pm &&
                pm->type ==
                    WA__E2E__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_REQUEST &&
                pm->has_app_state_sync_key_request
            ? wa__syncd__app_state_sync_key_request__unpack(
                  NULL, pm->app_state_sync_key_request.len,
                  pm->app_state_sync_key_request.data)
            : NULL;
    if (req) {
        st->key_requests++;
        bool ours = false;
        for (size_t i = 0; i < req->n_key_ids; i++) {
            const Wa__Syncd__AppStateSyncKeyId *k = req->key_ids[i];
            ours = ours ||
                   (st->has_key && k->has_key_id &&
                    k->key_id.len == sizeof st->key_id &&
                    memcmp(k->key_id.data, st->key_id, sizeof st->key_id) == 0);
        }
        cm_log_info("phone got an app-state key request",
                    "phone=%s device=%u keys=%zu ours=%s", from->account->phone,
                    from->id, req->n_key_ids, ours ? "yes" : "no");
        if (ours && sim_phone_share_keys(self, from) == 0) {
            st->key_answers++;
        }
        wa__syncd__app_state_sync_key_request__free_unpacked(req, NULL);
    }
    if (m) {
        wa__e2e__message__free_unpacked(m, NULL);
    }
    return true;
}

static bool
s_on_hist_sync(void *arg, sim_device_t *dev, const wa_node_t *receipt)
{
    if (wa_node_attr_eq(receipt, "type", "server-error")) {
        return sim_phone_hist_retry((sim_phone_t *)arg, dev, receipt);
    }
    return sim_phone_hist_sync((sim_phone_t *)arg, dev,
                               wa_node_attr(receipt, "id"));
}

static void *
s_cap_new(sim_hub_t *hub)
{
    sim_phone_t *self = sim_phone_new(hub);
    if (self) {
        sim_hub_set_hist_sync_fn(hub, s_on_hist_sync, self);
        sim_hub_set_peer_fn(hub, s_on_peer, self);
    }
    return self;
}

static void
s_cap_destroy(void **self_p)
{
    sim_phone_t *self = (sim_phone_t *)*self_p;
    if (self) {
        sim_hub_set_hist_sync_fn(self->hub, NULL, NULL);
    }
    sim_phone_destroy((sim_phone_t **)self_p);
}

//  A companion was linked: the phone shares its app-state key with it.
static void
s_linked(void *state, sim_device_t *dev)
{
    sim_phone_share_keys((sim_phone_t *)state, dev);
    s_send_history((sim_phone_t *)state, dev);
}

static void
s_account_gone(void *state, const char *phone)
{
    sim_phone_forget((sim_phone_t *)state, phone);
}

const sim_cap_t sim_phone_cap = {
    .name = "phone",
    .new_fn = s_cap_new,
    .destroy_fn = s_cap_destroy,
    .linked_fn = s_linked,
    .account_gone_fn = s_account_gone,
};

void
sim_phone_test(bool verbose)
{
    printf(" * sim_phone: ");
    sim_hub_t *hub = sim_hub_new_test();
    sim_phone_t *phone = sim_phone_new(hub);
    assert(phone);
    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *a = sim_model_account_add(model, "15550003331", "A");
    sim_account_t *b = sim_model_account_add(model, "15550003332", "B");

    //  A companion of B with a real Signal store, so the phone's pkmsg
    //  can be decrypted here the way a client would.
    wa_signal_t *signal = wa_signal_new();
    wa_sigstore_t *bstore = wa_sigstore_new(signal);
    assert(wa_sigstore_generate_identity(bstore) == 0);
    sim_device_t *dev = sim_account_device_add(b);
    dev->linked = true;
    dev->has_identity = true;
    dev->has_spk = true;
    uint8_t priv[32];
    assert(wa_sigstore_identity(bstore, priv, dev->identity_pub,
                                &dev->registration_id) == 0);
    dev->spk_id = 1;
    assert(wa_sigstore_generate_signed_prekey(bstore, 1, dev->spk_pub,
                                              dev->spk_sig) == 0);
    assert(wa_sigstore_generate_prekeys(bstore, 1, 2) == 0);
    for (uint32_t i = 1; i <= 2; i++) {
        uint8_t key[32];
        assert(wa_sigstore_prekey(bstore, i, key) == 0);
        sim_device_prekey_add(dev, i, key);
    }

    json_t *result = NULL;
    const char *reason = NULL;
    assert(sim_phone_send_text(phone, a->phone, "+1 555 000-3332", "hi B",
                               &result, &reason) == 200);
    assert(json_integer_value(json_object_get(result, "copies")) == 1);
    json_decref(result);
    assert(sim_device_prekey_count(dev) == 1);
    sim_pending_t *item = (sim_pending_t *)zlistx_first(dev->queue);
    assert(item && cm_streq(item->peer, "15550003331@s.whatsapp.net"));
    wa_node_t *node = wa_binary_decode_node(item->data, item->len, NULL, NULL);
    assert(node);
    char *lid = cm_sprintf("%s@lid", a->lid);
    assert(wa_node_attr_eq(node, "sender_lid", lid));
    free(lid);
    const wa_node_t *enc = wa_node_child(node, "enc");
    assert(wa_node_attr_eq(enc, "type", "pkmsg"));
    size_t ct_len = 0;
    const uint8_t *ct = wa_node_bytes(enc, &ct_len);
    char name[64];
    wa_e2e_address(a->lid, WA_JID_DOMAIN_LID, name, sizeof name);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    assert(wa_e2e_decrypt(bstore, name, 0, WA_ENC_PKMSG, ct, ct_len, &plain,
                          &plain_len) == 0);
    wa_message_t *message = wa_message_decode(plain, plain_len);
    assert(message && cm_streq(wa_message_body(message), "hi B"));
    wa_message_destroy(&message);
    free(plain);
    wa_node_destroy(&node);

    assert(sim_phone_send_text(phone, "1", "x", "t", &result, &reason) == 404);
    assert(sim_phone_send_text(phone, a->phone, "19999999999", "t", &result,
                               &reason) == 404);
    assert(sim_phone_send_text(phone, a->phone, "not a jid @@", "t", &result,
                               &reason) == 400);
    assert(sim_phone_send_text(phone, a->phone, b->phone, "", &result,
                               &reason) == 400);
    sim_group_t *group = sim_model_group_add(model, b->phone, "G");
    char *gjid = cm_sprintf("%s@g.us", group->id);
    assert(sim_phone_send_text(phone, a->phone, gjid, "t", &result, &reason) ==
           403);
    sim_group_participant_add(group, a->phone, NULL);
    assert(sim_phone_send_text(phone, a->phone, gjid, "to the group", &result,
                               &reason) == 200);
    assert(json_integer_value(json_object_get(result, "copies")) == 1);
    json_decref(result);
    free(gjid);

    //  B's history goes to its companion one chunk at a time: the next
    //  once the companion's hist_sync receipt for the one in flight came
    json_t *seed = json_loads(
        "{\"chats\":[{\"id\":\"15550003331@c.us\",\"messages\":[{"
        "\"text\":\"old\",\"timestamp\":1700000000}]}],\"contacts\":[{"
        "\"id\":\"15550003331@c.us\",\"pushName\":\"A\"}]}",
        0, NULL);
    assert(sim_phone_seed_history(phone, b, seed, &result, &reason) == 200);
    json_decref(result);
    json_decref(seed);
    size_t queued = zlistx_size(dev->queue);
    s_send_history(phone, dev);
    assert(zlistx_size(dev->queue) == queued + 1);
    s_state_t *st = (s_state_t *)zhashx_lookup(phone->stores, b->phone);
    s_hist_t *h = s_hist(st, dev);
    //  INITIAL_BOOTSTRAP in flight, PUSH_NAME waiting
    assert(h->in_flight && h->sent == 1 && zlistx_size(h->queue) == 1);
    assert(!sim_phone_hist_sync(phone, dev, "3EB0NOTINFLIGHT"));
    assert(h->unexpected == 1 && h->sent == 1);
    char *first = cm_strdup(h->in_flight);
    assert(sim_phone_hist_sync(phone, dev, first));
    assert(zlistx_size(dev->queue) == queued + 2);
    assert(h->sent == 2 && h->receipts == 1 && h->in_flight &&
           strcmp(h->in_flight, first));
    free(first);
    char *second = cm_strdup(h->in_flight);
    assert(sim_phone_hist_sync(phone, dev, second));
    free(second);
    assert(!h->in_flight && h->receipts == 2);
    json_t *status = sim_phone_history_status(phone, b);
    json_t *d0 = json_array_get(json_object_get(status, "devices"), 0);
    assert(json_is_true(json_object_get(status, "seeded")));
    assert(json_integer_value(json_object_get(d0, "device")) == (int)dev->id);
    assert(json_integer_value(json_object_get(d0, "sent")) == 2);
    assert(json_integer_value(json_object_get(d0, "receipts")) == 2);
    assert(json_integer_value(json_object_get(d0, "pending")) == 0);
    assert(json_integer_value(json_object_get(d0, "unexpected")) == 1);
    json_decref(status);
    //  Sent again on request: the same two chunks
    assert(sim_phone_resend_history(phone, b, &result, &reason) == 200);
    assert(json_integer_value(json_object_get(result, "companions")) == 1);
    json_decref(result);
    assert(h->sent == 3 && h->in_flight && zlistx_size(h->queue) == 1);
    //  A server-error receipt sealed with the blob's media key: sent
    //  again under a new id, once; one that does not open is unexpected
    wa_history_note_t *hn =
        wa_history_note(zchunk_data(h->note), zchunk_size(h->note));
    assert(hn && hn->has_media_key);
    for (int round = 0; round < 3; round++) {
        char *rid = cm_strdup(h->in_flight);
        uint8_t *sealed = NULL, iv[12];
        size_t enc_len = 0;
        uint8_t wrong[32] = {0};
        assert(wa_history_retry_seal(round == 0 ? wrong : hn->media_key.data,
                                     32, rid, &sealed, &enc_len, iv) == 0);
        wa_node_t *r = wa_node_new("receipt");
        wa_node_set_attr(r, "id", rid);
        wa_node_set_attr(r, "type", "server-error");
        wa_node_set_attr(r, "category", "peer");
        wa_node_t *e = wa_node_add(r, "encrypt");
        wa_node_set_bytes(wa_node_add(e, "enc_p"), sealed, enc_len);
        wa_node_set_bytes(wa_node_add(e, "enc_iv"), iv, sizeof iv);
        free(sealed);
        size_t unexpected = h->unexpected;
        assert(s_on_hist_sync(phone, dev, r) == (round > 0));
        wa_node_destroy(&r);
        if (round == 0) {
            assert(h->unexpected == unexpected + 1 && h->sent == 3);
        } else if (round == 1) {
            //  the same chunk again, new id
            assert(h->server_errors == 1 && h->sent == 4 && h->in_flight &&
                   strcmp(h->in_flight, rid) && zlistx_size(h->queue) == 1);
        } else {
            //  asked twice: the phone moves on to the next chunk
            assert(h->server_errors == 2 && h->sent == 5 &&
                   zlistx_size(h->queue) == 0);
        }
        free(rid);
    }
    wa_history_note_free(&hn);
    assert(sim_phone_resend_history(phone, a, &result, &reason) == 409);
    sim_phone_forget(phone, a->phone);

    wa_sigstore_destroy(&bstore);
    wa_signal_destroy(&signal);
    sim_phone_destroy(&phone);
    assert(!phone);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
