/*  sim_appstate - app-state sync storage (xmlns w:sync:app:state)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_appstate.h"
#include "wa/wa_media.h"
#include "wa/wa_syncd.h"
#include "wa/wa_syncd.pb-c.h"

//  Longest collection name accepted.
#define SIM_APPSTATE_NAME_MAX 64

//  One collection of one account: patches in version order.
typedef struct {
    zlistx_t *patches;       //  zchunk_t *, patch i has version i + 1
    zhashx_t *served;        //  "version" -> zchunk_t *: the patch as served
                             //  when its mutations went to an external blob
    zchunk_t *snapshot;      //  ExternalBlobReference of the phone's snapshot
    size_t snapshot_version; //  ... the version it stands for
} s_collection_t;

struct _sim_appstate_t {
    sim_hub_t *hub;        //  shared state (borrowed)
    zhashx_t *collections; //  "phone/name" -> s_collection_t *
    zhashx_t *fetches;     //  phone -> json_t array of the account's
                           //  fetches [{device, collection, version}]
};

//  Fetches remembered per account (the newest).
#define S_FETCHES_MAX 1000

static void
s_chunk_free(void **item)
{
    zchunk_destroy((zchunk_t **)item);
}

static void
s_json_free(void **item)
{
    json_decref((json_t *)*item);
    *item = NULL;
}

static void
s_collection_free(void **item)
{
    s_collection_t *c = (s_collection_t *)*item;
    if (c) {
        zlistx_destroy(&c->patches);
        zhashx_destroy(&c->served);
        zchunk_destroy(&c->snapshot);
        free(c);
        *item = NULL;
    }
}

sim_appstate_t *
sim_appstate_new(sim_hub_t *hub)
{
    sim_appstate_t *self = (sim_appstate_t *)cm_alloc(sizeof(sim_appstate_t));
    self->hub = hub;
    self->collections = zhashx_new();
    zhashx_set_destructor(self->collections, s_collection_free);
    self->fetches = zhashx_new();
    zhashx_set_destructor(self->fetches, s_json_free);
    return self;
}

void
sim_appstate_destroy(sim_appstate_t **self_p)
{
    assert(self_p);
    sim_appstate_t *self = *self_p;
    if (self) {
        zhashx_destroy(&self->collections);
        zhashx_destroy(&self->fetches);
        free(self);
        *self_p = NULL;
    }
}

static s_collection_t *
s_collection(sim_appstate_t *self, const char *phone, const char *name,
             bool create)
{
    char key[128];
    snprintf(key, sizeof key, "%s/%s", phone, name);
    s_collection_t *c = (s_collection_t *)zhashx_lookup(self->collections, key);
    if (!c && create) {
        c = (s_collection_t *)cm_alloc(sizeof(s_collection_t));
        c->patches = zlistx_new();
        zlistx_set_destructor(c->patches, s_chunk_free);
        c->served = zhashx_new();
        zhashx_set_destructor(c->served, s_chunk_free);
        zhashx_insert(self->collections, key, c);
    }
    return c;
}

//  The stored patch with its version set: a SyncdPatch field 1
//  (SyncdVersion{version = 1}) appended; the last occurrence wins when
//  protobuf merges it.
static zchunk_t *
s_stamped(zchunk_t *patch, uint64_t version)
{
    uint8_t tail[16];
    size_t n = 0;
    uint8_t varint[10];
    size_t vn = 0;
    uint64_t v = version;
    do {
        varint[vn++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    tail[n++] = 0x0a;
    tail[n++] = (uint8_t)(1 + vn);
    tail[n++] = 0x08;
    memcpy(tail + n, varint, vn);
    n += vn;
    zchunk_t *out = zchunk_new(NULL, zchunk_size(patch) + n);
    zchunk_append(out, zchunk_data(patch), zchunk_size(patch));
    zchunk_append(out, tail, n);
    return out;
}

static bool
s_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > SIM_APPSTATE_NAME_MAX) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_') {
            return false;
        }
    }
    return true;
}

//  Tell the account's other devices that a collection moved on.
static void
s_notify(sim_appstate_t *self, sim_device_t *from, const char *name,
         size_t version)
{
    wa_node_t *note =
        sim_hub_notification(self->hub, "server_sync", SIM_SERVER_JID, NULL);
    wa_node_t *c = wa_node_add(note, "collection");
    wa_node_set_attr(c, "name", name);
    wa_node_set_attr_int(c, "version", (int64_t)version);
    zlistx_t *devs = sim_account_devices_copy(from->account);
    sim_device_t *d = (sim_device_t *)zlistx_first(devs);
    while (d) {
        if (d != from && d->id != 0 && d->linked) {
            sim_hub_deliver(self->hub, d, note, "notification");
        }
        d = (sim_device_t *)zlistx_next(devs);
    }
    zlistx_destroy(&devs);
    wa_node_destroy(&note);
}

//  One <collection> of a request; returns the answer's collection node.
static wa_node_t *
s_one(sim_appstate_t *self, sim_device_t *dev, const wa_node_t *req)
{
    const char *name = wa_node_attr(req, "name");
    int64_t version = wa_node_attr_int_or(req, "version", -1);
    wa_node_t *out = wa_node_new("collection");
    wa_node_set_attr(out, "name", name ? name : "");
    if (!s_name_valid(name) || version < 0) {
        wa_node_set_attr(out, "type", "error");
        wa_node_t *e = wa_node_add(out, "error");
        wa_node_set_attr(e, "code", "400");
        wa_node_set_attr(e, "text", "bad-request");
        return out;
    }
    s_collection_t *c = s_collection(self, dev->account->phone, name, true);
    size_t current = zlistx_size(c->patches);
    const wa_node_t *patch = wa_node_child(req, "patch");
    if (patch) {
        //  Upload: on top of the current version only.
        size_t len = 0;
        const uint8_t *data = wa_node_bytes(patch, &len);
        if ((size_t)version != current || !data || len == 0 ||
            current >= SIM_APPSTATE_MAX) {
            wa_node_set_attr(out, "type", "error");
            wa_node_t *e = wa_node_add(out, "error");
            wa_node_set_attr(e, "code", data && len ? "409" : "400");
            wa_node_set_attr(e, "text",
                             data && len ? "conflict" : "bad-request");
            wa_node_set_attr_int(out, "version", (int64_t)current);
            return out;
        }
        for (const wa_node_t *p = wa_node_child_next(req, "patch", NULL); p;
             p = wa_node_child_next(req, "patch", p)) {
            data = wa_node_bytes(p, &len);
            if (data && len) {
                zlistx_add_end(c->patches, zchunk_new(data, len));
            }
        }
        current = zlistx_size(c->patches);
        wa_node_set_attr_int(out, "version", (int64_t)current);
        s_notify(self, dev, name, current);
        return out;
    }
    //  Fetch: the patches after `version`.
    json_t *log = (json_t *)zhashx_lookup(self->fetches, dev->account->phone);
    if (!log) {
        log = json_array();
        zhashx_insert(self->fetches, dev->account->phone, log);
    }
    if (json_array_size(log) >= S_FETCHES_MAX) {
        json_array_remove(log, 0);
    }
    json_t *entry = json_object();
    json_object_set_new(entry, "device", json_integer((json_int_t)dev->id));
    json_object_set_new(entry, "collection", json_string(name));
    json_object_set_new(entry, "version", json_integer((json_int_t)version));
    json_array_append_new(log, entry);
    size_t from = (size_t)version < current ? (size_t)version : current;
    //  From nothing, when asked: the phone's snapshot and what follows it
    if (version == 0 && c->snapshot &&
        wa_node_attr_eq(req, "return_snapshot", "true")) {
        wa_node_set_bytes(wa_node_add(out, "snapshot"),
                          zchunk_data(c->snapshot), zchunk_size(c->snapshot));
        from = c->snapshot_version;
        json_object_set_new(entry, "snapshot", json_integer((json_int_t)from));
    }
    size_t until =
        from + SIM_APPSTATE_PAGE < current ? from + SIM_APPSTATE_PAGE : current;
    wa_node_set_attr_int(out, "version", (int64_t)until);
    if (until < current) {
        wa_node_set_attr(out, "has_more_patches", "true");
    }
    if (until > from) {
        wa_node_t *patches = wa_node_add(out, "patches");
        size_t i = 0;
        zchunk_t *stored = (zchunk_t *)zlistx_first(c->patches);
        while (stored && i < until) {
            if (i >= from) {
                char v[24];
                snprintf(v, sizeof v, "%zu", i + 1);
                zchunk_t *as = (zchunk_t *)zhashx_lookup(c->served, v);
                zchunk_t *stamped =
                    s_stamped(as ? as : stored, (uint64_t)i + 1);
                wa_node_set_bytes(wa_node_add(patches, "patch"),
                                  zchunk_data(stamped), zchunk_size(stamped));
                zchunk_destroy(&stamped);
            }
            i++;
            stored = (zchunk_t *)zlistx_next(c->patches);
        }
    }
    return out;
}

static void
s_handle(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    sim_appstate_t *self = (sim_appstate_t *)state;
    sim_device_t *dev = sim_conn_device(conn);
    const wa_node_t *sync = wa_node_child(iq, "sync");
    if (!dev || !sync || !wa_node_attr_eq(iq, "type", "set")) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    wa_node_t *out = wa_node_new("sync");
    size_t n = 0;
    for (const wa_node_t *c = wa_node_child_next(sync, "collection", NULL); c;
         c = wa_node_child_next(sync, "collection", c)) {
        if (++n > 16) {
            break;
        }
        wa_node_t *answer = s_one(self, dev, c);
        wa_node_append(out, &answer);
    }
    sim_hub_iq_result(conn, iq, &out);
}

json_t *
sim_appstate_fetches(sim_appstate_t *self, const char *phone)
{
    json_t *log = (json_t *)zhashx_lookup(self->fetches, phone);
    return log ? json_deep_copy(log) : json_array();
}

int
sim_appstate_tamper(sim_appstate_t *self, sim_account_t *acc, const char *name,
                    const char **reason)
{
    s_collection_t *c =
        s_name_valid(name) ? s_collection(self, acc->phone, name, false) : NULL;
    zchunk_t *last = c ? (zchunk_t *)zlistx_last(c->patches) : NULL;
    if (!last) {
        *reason = "the collection has no patch";
        return 404;
    }
    Wa__Syncd__SyncdPatch *p = wa__syncd__syncd_patch__unpack(
        NULL, zchunk_size(last), zchunk_data(last));
    if (!p || !p->has_patch_mac || p->patch_mac.len == 0) {
        if (p) {
            wa__syncd__syncd_patch__free_unpacked(p, NULL);
        }
        *reason = "the last patch has no patch MAC";
        return 409;
    }
    p->patch_mac.data[0] ^= 0x01;
    size_t len = wa__syncd__syncd_patch__get_packed_size(p);
    uint8_t *buf = (uint8_t *)cm_alloc(len);
    wa__syncd__syncd_patch__pack(p, buf);
    zchunk_t *copy = zchunk_new(buf, len);
    free(buf);
    wa__syncd__syncd_patch__free_unpacked(p, NULL);
    zlistx_add_end(c->patches, copy);
    //  Everyone hears of it (the phone device 0 is not a companion)
    sim_device_t phone = {.account = acc, .id = 0};
    s_notify(self, &phone, name, zlistx_size(c->patches));
    return 200;
}

//  A collection's state as its patches leave it: LTHash and index MAC
//  (hex) -> value MAC.
typedef struct {
    uint8_t hash[WA_LTHASH_LEN];
    zhashx_t *macs; //  hex index MAC -> 32-byte value MAC (zchunk_t)
} s_replay_t;

static int
s_replay_lookup(void *arg, const uint8_t *index_mac, uint8_t *value_mac)
{
    s_replay_t *r = (s_replay_t *)arg;
    char hex[2 * WA_APPSTATE_MAC_LEN + 1];
    cm_hex(index_mac, WA_APPSTATE_MAC_LEN, hex);
    zchunk_t *mac = (zchunk_t *)zhashx_lookup(r->macs, hex);
    if (!mac) {
        return -1;
    }
    memcpy(value_mac, zchunk_data(mac), WA_APPSTATE_MAC_LEN);
    return 0;
}

//  Apply a patch's mutations to the replay (MACs are not checked: the
//  phone trusts what the server stored).
static void
s_replay_patch(s_replay_t *r, zchunk_t *stored)
{
    Wa__Syncd__SyncdPatch *p = wa__syncd__syncd_patch__unpack(
        NULL, zchunk_size(stored), zchunk_data(stored));
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->n_mutations; i++) {
        Wa__Syncd__SyncdMutation *m = p->mutations[i];
        Wa__Syncd__SyncdRecord *rec = m->record;
        if (!rec || !rec->index || rec->index->blob.len != 32 || !rec->value ||
            rec->value->blob.len < 32) {
            continue;
        }
        wa_appstate_mutation_t one;
        one.op = m->operation == WA__SYNCD__SYNCD_MUTATION__OPERATION__REMOVE
                     ? WA_APPSTATE_REMOVE
                     : WA_APPSTATE_SET;
        one.index_mac = rec->index->blob.data;
        one.value_mac = rec->value->blob.data + rec->value->blob.len - 32;
        wa_appstate_lthash_apply(r->hash, &one, 1, s_replay_lookup, r);
        char hex[2 * WA_APPSTATE_MAC_LEN + 1];
        cm_hex(one.index_mac, WA_APPSTATE_MAC_LEN, hex);
        if (one.op == WA_APPSTATE_REMOVE) {
            zhashx_delete(r->macs, hex);
        } else {
            zhashx_update(r->macs, hex, zchunk_new(one.value_mac, 32));
        }
    }
    wa__syncd__syncd_patch__free_unpacked(p, NULL);
}

//  Encrypt `data` as an app-state blob (md-app-state), put it on the
//  media host under a fresh path (unless gone), and return its
//  ExternalBlobReference (packed), or NULL.
static zchunk_t *
s_upload(sim_appstate_t *self, const uint8_t *data, size_t len, bool gone)
{
    uint8_t key[WA_MEDIA_KEY_LEN];
    cm_random(key, sizeof key);
    uint8_t *enc = (uint8_t *)cm_alloc(WA_MEDIA_ENC_LEN(len));
    size_t enc_len = 0;
    wa_media_hashes_t hashes;
    if (wa_media_encrypt(key, sizeof key, WA_MEDIA_APP_STATE, data, len, enc,
                         &enc_len, &hashes)) {
        free(enc);
        return NULL;
    }
    uint8_t rnd[16];
    cm_random(rnd, sizeof rnd);
    char hex[33];
    cm_hex(rnd, sizeof rnd, hex);
    char *path = cm_sprintf("/v/t62.15575-24/%s.enc", hex);
    //  gone: referred to, never put (its downloads get 404)
    int rc = gone ? 0
                  : sim_model_media_put(sim_hub_model(self->hub), path, enc,
                                        enc_len);
    free(enc);
    if (rc) {
        free(path);
        return NULL;
    }
    Wa__Syncd__ExternalBlobReference ref =
        WA__SYNCD__EXTERNAL_BLOB_REFERENCE__INIT;
    ref.has_media_key = 1;
    ref.media_key.data = key;
    ref.media_key.len = sizeof key;
    ref.direct_path = path;
    ref.has_file_size_bytes = 1;
    ref.file_size_bytes = len;
    ref.has_file_sha256 = 1;
    ref.file_sha256.data = hashes.file_sha256;
    ref.file_sha256.len = 32;
    ref.has_file_enc_sha256 = 1;
    ref.file_enc_sha256.data = hashes.file_enc_sha256;
    ref.file_enc_sha256.len = 32;
    size_t n = wa__syncd__external_blob_reference__get_packed_size(&ref);
    uint8_t *buf = (uint8_t *)cm_alloc(n);
    wa__syncd__external_blob_reference__pack(&ref, buf);
    zchunk_t *out = zchunk_new(buf, n);
    free(buf);
    free(path);
    return out;
}

//  The patch as served with its mutations in an external blob, or NULL.
static zchunk_t *
s_externalize(sim_appstate_t *self, const uint8_t *patch, size_t len, bool gone)
{
    Wa__Syncd__SyncdPatch *p = wa__syncd__syncd_patch__unpack(NULL, len, patch);
    if (!p) {
        return NULL;
    }
    Wa__Syncd__SyncdMutations sm = WA__SYNCD__SYNCD_MUTATIONS__INIT;
    sm.n_mutations = p->n_mutations;
    sm.mutations = p->mutations;
    size_t mlen = wa__syncd__syncd_mutations__get_packed_size(&sm);
    uint8_t *mbuf = (uint8_t *)cm_alloc(mlen ? mlen : 1);
    wa__syncd__syncd_mutations__pack(&sm, mbuf);
    zchunk_t *ref = s_upload(self, mbuf, mlen, gone);
    free(mbuf);
    zchunk_t *out = NULL;
    Wa__Syncd__ExternalBlobReference *r =
        ref ? wa__syncd__external_blob_reference__unpack(NULL, zchunk_size(ref),
                                                         zchunk_data(ref))
            : NULL;
    if (r) {
        size_t n_keep = p->n_mutations;
        Wa__Syncd__SyncdMutation **keep = p->mutations;
        p->n_mutations = 0;
        p->mutations = NULL;
        p->external_mutations = r;
        size_t olen = wa__syncd__syncd_patch__get_packed_size(p);
        uint8_t *obuf = (uint8_t *)cm_alloc(olen);
        wa__syncd__syncd_patch__pack(p, obuf);
        out = zchunk_new(obuf, olen);
        free(obuf);
        p->external_mutations = NULL;
        p->n_mutations = n_keep;
        p->mutations = keep;
        wa__syncd__external_blob_reference__free_unpacked(r, NULL);
    }
    zchunk_destroy(&ref);
    wa__syncd__syncd_patch__free_unpacked(p, NULL);
    return out;
}

static void
s_zchunk_free(void **item)
{
    zchunk_destroy((zchunk_t **)item);
}

//  One patch of the phone on top of collection `name`.
static int
s_phone_patch(sim_appstate_t *self, sim_account_t *acc, const char *name,
              const uint8_t *key_id, size_t key_id_len, const uint8_t *key,
              const json_t *actions, int external, json_t *out)
{
    s_collection_t *c = s_collection(self, acc->phone, name, true);
    if (zlistx_size(c->patches) >= SIM_APPSTATE_MAX) {
        return -1;
    }
    s_replay_t r;
    memset(r.hash, 0, sizeof r.hash);
    r.macs = zhashx_new();
    zhashx_set_destructor(r.macs, s_zchunk_free);
    for (zchunk_t *p = (zchunk_t *)zlistx_first(c->patches); p;
         p = (zchunk_t *)zlistx_next(c->patches)) {
        s_replay_patch(&r, p);
    }
    uint64_t version = zlistx_size(c->patches) + 1;
    uint8_t *packed = NULL;
    size_t len = 0;
    int rc = wa_syncd_encode(key_id, key_id_len, key, name, version, r.hash,
                             s_replay_lookup, &r, actions, cm_now_ms(), &packed,
                             &len, NULL);
    zhashx_destroy(&r.macs);
    if (rc) {
        return -1;
    }
    if (external) {
        zchunk_t *served = s_externalize(self, packed, len, external == 2);
        if (!served) {
            free(packed);
            return -1;
        }
        char v[24];
        snprintf(v, sizeof v, "%" PRIu64, version);
        zhashx_update(c->served, v, served);
    }
    zlistx_add_end(c->patches, zchunk_new(packed, len));
    free(packed);
    json_array_append_new(out, json_pack("{s:s, s:I}", "collection", name,
                                         "version", (json_int_t)version));
    sim_device_t phone = {.account = acc, .id = 0};
    s_notify(self, &phone, name, (size_t)version);
    return 0;
}

int
sim_appstate_phone_act(sim_appstate_t *self, sim_account_t *acc,
                       const uint8_t *key_id, size_t key_id_len,
                       const uint8_t key[32], const json_t *actions,
                       int external, json_t **result_p, const char **reason)
{
    assert(self && acc);
    if (!json_is_array(actions) || json_array_size(actions) == 0 ||
        json_array_size(actions) > WA_SYNCD_PUSH_MAX) {
        *reason = "actions must be an array of 1..16 actions";
        return 400;
    }
    //  Group by collection, in order of first appearance
    json_t *groups = json_object();
    json_t *order = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        const char *why = NULL;
        const char *coll = wa_syncd_action_collection(a, &why);
        if (!coll) {
            json_decref(groups);
            json_decref(order);
            *reason = why;
            return 400;
        }
        json_t *list = json_object_get(groups, coll);
        if (!list) {
            list = json_array();
            json_object_set_new(groups, coll, list);
            json_array_append_new(order, json_string(coll));
        }
        json_array_append(list, a);
    }
    json_t *out = json_array();
    int st = 200;
    json_array_foreach(order, i, a)
    {
        const char *coll = json_string_value(a);
        if (s_phone_patch(self, acc, coll, key_id, key_id_len, key,
                          json_object_get(groups, coll), external, out)) {
            *reason = "could not encode the patch";
            st = 500;
            break;
        }
    }
    json_decref(groups);
    json_decref(order);
    if (st != 200) {
        json_decref(out);
        return st;
    }
    cm_log_info("phone changed its app state", "phone=%s patches=%zu",
                acc->phone, json_array_size(out));
    *result_p = json_pack("{s:o}", "patches", out);
    return 200;
}

int
sim_appstate_phone_snapshot(sim_appstate_t *self, sim_account_t *acc,
                            const char *name, const uint8_t *key_id,
                            size_t key_id_len, const uint8_t key[32],
                            json_t **result_p, const char **reason)
{
    assert(self && acc);
    s_collection_t *c =
        s_name_valid(name) ? s_collection(self, acc->phone, name, false) : NULL;
    size_t n = c ? zlistx_size(c->patches) : 0;
    if (!n) {
        *reason = "the collection has no patch";
        return 404;
    }
    const uint8_t **ps = (const uint8_t **)cm_alloc(n * sizeof *ps);
    size_t *ls = (size_t *)cm_alloc(n * sizeof *ls);
    size_t i = 0;
    for (zchunk_t *p = (zchunk_t *)zlistx_first(c->patches); p;
         p = (zchunk_t *)zlistx_next(c->patches)) {
        ps[i] = zchunk_data(p);
        ls[i++] = zchunk_size(p);
    }
    uint8_t *snap = NULL;
    size_t snap_len = 0;
    int rc = wa_syncd_snapshot(key_id, key_id_len, key, name, n, ps, ls, n,
                               &snap, &snap_len);
    free(ps);
    free(ls);
    zchunk_t *ref = rc == 0 ? s_upload(self, snap, snap_len, false) : NULL;
    free(snap);
    if (!ref) {
        *reason = "could not make the snapshot";
        return 500;
    }
    zchunk_destroy(&c->snapshot);
    c->snapshot = ref;
    c->snapshot_version = n;
    cm_log_info("phone made an app-state snapshot",
                "phone=%s collection=%s "
                "version=%zu",
                acc->phone, name, n);
    *result_p =
        json_pack("{s:s, s:I}", "collection", name, "version", (json_int_t)n);
    return 200;
}

json_t *
sim_appstate_versions(sim_appstate_t *self, const char *phone)
{
    json_t *out = json_object();
    size_t plen = strlen(phone);
    s_collection_t *c = (s_collection_t *)zhashx_first(self->collections);
    while (c) {
        const char *key = (const char *)zhashx_cursor(self->collections);
        if (strncmp(key, phone, plen) == 0 && key[plen] == '/') {
            json_object_set_new(
                out, key + plen + 1,
                json_integer((json_int_t)zlistx_size(c->patches)));
        }
        c = (s_collection_t *)zhashx_next(self->collections);
    }
    return out;
}

void
sim_appstate_forget(sim_appstate_t *self, const char *phone)
{
    zhashx_delete(self->fetches, phone);
    zlistx_t *keys = zhashx_keys(self->collections);
    size_t plen = strlen(phone);
    const char *key = (const char *)zlistx_first(keys);
    while (key) {
        if (strncmp(key, phone, plen) == 0 && key[plen] == '/') {
            zhashx_delete(self->collections, key);
        }
        key = (const char *)zlistx_next(keys);
    }
    zlistx_destroy(&keys);
}

static void *
s_cap_new(sim_hub_t *hub)
{
    return sim_appstate_new(hub);
}

static void
s_cap_destroy(void **self_p)
{
    sim_appstate_destroy((sim_appstate_t **)self_p);
}

static void
s_account_gone(void *state, const char *phone)
{
    sim_appstate_forget((sim_appstate_t *)state, phone);
}

static const sim_iq_route_t s_iqs[] = {{"w:sync:app:state", NULL, 0, s_handle},
                                       {NULL, NULL, 0, NULL}};

static const char *const s_notifications[] = {"server_sync", NULL};

const sim_cap_t sim_appstate_cap = {
    .name = "appstate",
    .new_fn = s_cap_new,
    .destroy_fn = s_cap_destroy,
    .iqs = s_iqs,
    .notifications = s_notifications,
    .account_gone_fn = s_account_gone,
};

void
sim_appstate_test(bool verbose)
{
    printf(" * sim_appstate: ");
    //  Version stamping: appended field 1 = SyncdVersion{version}
    zchunk_t *patch = zchunk_new("\x12\x00", 2);
    zchunk_t *stamped = s_stamped(patch, 300);
    const uint8_t want[] = {0x12, 0x00, 0x0a, 0x03, 0x08, 0xac, 0x02};
    assert(zchunk_size(stamped) == sizeof want);
    assert(memcmp(zchunk_data(stamped), want, sizeof want) == 0);
    zchunk_destroy(&stamped);
    zchunk_destroy(&patch);
    assert(s_name_valid("regular_high"));
    assert(!s_name_valid("a/b"));
    assert(!s_name_valid(""));
    assert(!s_name_valid(NULL));

    sim_hub_t *hub = sim_hub_new_test();
    sim_appstate_t *as = sim_appstate_new(hub);
    sim_account_t *a =
        sim_model_account_add(sim_hub_model(hub), "15550005551", "A");
    sim_device_t *d1 = sim_account_device_add(a);
    sim_device_t *d2 = sim_account_device_add(a);
    d1->linked = d2->linked = true;

    //  Upload on version 0, then a stale upload conflicts
    wa_node_t *req = wa_node_new("collection");
    wa_node_set_attr(req, "name", "regular");
    wa_node_set_attr(req, "version", "0");
    wa_node_set_bytes(wa_node_add(req, "patch"), "P1", 2);
    wa_node_t *out = s_one(as, d1, req);
    assert(wa_node_attr_eq(out, "version", "1") &&
           !wa_node_child(out, "error"));
    wa_node_destroy(&out);
    assert(zlistx_size(d2->queue) == 1); //  server_sync for the other
    assert(zlistx_size(d1->queue) == 0);
    out = s_one(as, d1, req);
    assert(wa_node_attr_eq(wa_node_child(out, "error"), "code", "409"));
    wa_node_destroy(&out);
    wa_node_destroy(&req);

    //  Fetch from 0 returns the patch stamped with version 1
    req = wa_node_new("collection");
    wa_node_set_attr(req, "name", "regular");
    wa_node_set_attr(req, "version", "0");
    out = s_one(as, d2, req);
    assert(wa_node_attr_eq(out, "version", "1"));
    size_t len = 0;
    const uint8_t *bytes =
        wa_node_bytes(wa_node_find(out, "patches/patch"), &len);
    assert(bytes && len == 6 && bytes[2] == 0x0a && bytes[3] == 2);
    assert(bytes[4] == 0x08 && bytes[5] == 1);
    wa_node_destroy(&out);
    wa_node_set_attr(req, "version", "1");
    out = s_one(as, d2, req);
    assert(!wa_node_child(out, "patches"));
    wa_node_destroy(&out);
    wa_node_set_attr(req, "name", "bad/name");
    out = s_one(as, d2, req);
    assert(wa_node_attr_eq(out, "type", "error"));
    wa_node_destroy(&out);
    wa_node_destroy(&req);

    //  The phone acts: a patch on top of the companion's, server_sync to
    //  both companions; a bad action is refused
    uint8_t kid[6] = {0, 0, 0, 0, 1, 2}, key[32];
    memset(key, 7, sizeof key);
    json_t *acts = json_loads("[{\"index\":[\"label_edit\",\"5\"],"
                              "\"value\":{\"name\":\"P\",\"color\":1}}]",
                              0, NULL);
    json_t *result = NULL;
    const char *why = NULL;
    size_t q1 = zlistx_size(d1->queue), q2 = zlistx_size(d2->queue);
    assert(sim_appstate_phone_act(as, a, kid, 6, key, acts, 0, &result, &why) ==
           200);
    json_t *p0 = json_array_get(json_object_get(result, "patches"), 0);
    assert(cm_streq(json_string_value(json_object_get(p0, "collection")),
                    "regular"));
    assert(json_integer_value(json_object_get(p0, "version")) == 2);
    assert(zlistx_size(d1->queue) == q1 + 1 &&
           zlistx_size(d2->queue) == q2 + 1);
    json_decref(result);
    json_decref(acts);
    acts = json_loads("[{\"index\":[\"nothing\"]}]", 0, NULL);
    assert(sim_appstate_phone_act(as, a, kid, 6, key, acts, 0, &result, &why) ==
               400 &&
           why);
    json_decref(acts);
    assert(sim_appstate_phone_act(as, a, kid, 6, key, NULL, 0, &result, &why) ==
           400);

    //  External mutations: the patch as served refers to a blob on the
    //  media host; a snapshot answers a fetch from 0 that asks for one
    acts = json_loads("[{\"index\":[\"label_edit\",\"6\"],"
                      "\"value\":{\"name\":\"Q\",\"color\":2}}]",
                      0, NULL);
    assert(sim_appstate_phone_act(as, a, kid, 6, key, acts, 1, &result, &why) ==
           200);
    json_decref(result);
    json_decref(acts);
    req = wa_node_new("collection");
    wa_node_set_attr(req, "name", "regular");
    wa_node_set_attr(req, "version", "2");
    out = s_one(as, d2, req);
    bytes = wa_node_bytes(wa_node_find(out, "patches/patch"), &len);
    Wa__Syncd__SyncdPatch *xp =
        wa__syncd__syncd_patch__unpack(NULL, len, bytes);
    assert(xp && xp->n_mutations == 0 && xp->external_mutations &&
           xp->external_mutations->direct_path);
    size_t blob_len = 0;
    assert(sim_model_media_get(sim_hub_model(hub),
                               xp->external_mutations->direct_path,
                               &blob_len) &&
           blob_len > 0);
    wa__syncd__syncd_patch__free_unpacked(xp, NULL);
    wa_node_destroy(&out);
    assert(sim_appstate_phone_snapshot(as, a, "regular", kid, 6, key, &result,
                                       &why) == 200);
    assert(json_integer_value(json_object_get(result, "version")) == 3);
    json_decref(result);
    wa_node_set_attr(req, "version", "0");
    out = s_one(as, d2, req); //  no return_snapshot: patches from 0
    assert(!wa_node_child(out, "snapshot"));
    wa_node_destroy(&out);
    wa_node_set_attr(req, "return_snapshot", "true");
    out = s_one(as, d2, req);
    assert(wa_node_child(out, "snapshot") && !wa_node_child(out, "patches"));
    assert(wa_node_attr_eq(out, "version", "3"));
    wa_node_destroy(&out);
    wa_node_destroy(&req);
    assert(sim_appstate_phone_snapshot(as, a, "nothing", kid, 6, key, &result,
                                       &why) == 404);

    json_t *versions = sim_appstate_versions(as, a->phone);
    assert(json_integer_value(json_object_get(versions, "regular")) == 3);
    json_decref(versions);
    sim_appstate_forget(as, a->phone);
    versions = sim_appstate_versions(as, a->phone);
    assert(json_object_size(versions) == 0);
    json_t *fetches = sim_appstate_fetches(as, a->phone);
    assert(json_array_size(fetches) == 0);
    json_decref(fetches);
    json_decref(versions);

    sim_appstate_destroy(&as);
    assert(!as);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
