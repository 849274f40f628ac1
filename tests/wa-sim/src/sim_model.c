/*  sim_model - wa-sim's in-memory world: accounts, devices, prekeys,
    message queues, groups and media blobs

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"

//  A stored media blob.
typedef struct {
    uint8_t *data; //  encrypted bytes as uploaded
    size_t len;    //  bytes in data
} s_blob_t;

struct _sim_model_t {
    zlistx_t *accounts; //  sim_account_t *, creation order
    zhashx_t *by_phone; //  phone -> sim_account_t * (not owning)
    zhashx_t *by_lid;   //  lid -> sim_account_t * (not owning)
    zlistx_t *groups;   //  sim_group_t *
    zhashx_t *media;    //  path -> s_blob_t *
    size_t media_bytes; //  sum of blob sizes
};

static void s_account_destroy(sim_account_t **self_p);
static void s_device_destroy(sim_device_t **self_p);
static void s_group_destroy(sim_group_t **self_p);

static void
s_account_free(void **item)
{
    s_account_destroy((sim_account_t **)item);
}

static void
s_device_free(void **item)
{
    s_device_destroy((sim_device_t **)item);
}

static void
s_group_free(void **item)
{
    s_group_destroy((sim_group_t **)item);
}

static void
s_pending_free(void **item)
{
    sim_pending_destroy((sim_pending_t **)item);
}

static void
s_list_destroy(void **item)
{
    zlistx_destroy((zlistx_t **)item);
}

static void
s_free(void **item)
{
    free(*item);
    *item = NULL;
}

static void
s_blob_free(void **item)
{
    s_blob_t *blob = (s_blob_t *)*item;
    if (blob) {
        free(blob->data);
        free(blob);
        *item = NULL;
    }
}

sim_model_t *
sim_model_new(void)
{
    sim_model_t *self = (sim_model_t *)cm_alloc(sizeof(sim_model_t));
    self->accounts = zlistx_new();
    zlistx_set_destructor(self->accounts, s_account_free);
    self->by_phone = zhashx_new();
    self->by_lid = zhashx_new();
    self->groups = zlistx_new();
    zlistx_set_destructor(self->groups, s_group_free);
    self->media = zhashx_new();
    zhashx_set_destructor(self->media, s_blob_free);
    return self;
}

void
sim_model_destroy(sim_model_t **self_p)
{
    assert(self_p);
    sim_model_t *self = *self_p;
    if (self) {
        zhashx_destroy(&self->by_phone);
        zhashx_destroy(&self->by_lid);
        zlistx_destroy(&self->accounts);
        zlistx_destroy(&self->groups);
        zhashx_destroy(&self->media);
        free(self);
        *self_p = NULL;
    }
}

bool
sim_model_phone_valid(const char *phone)
{
    if (!phone) {
        return false;
    }
    size_t len = strlen(phone);
    if (len < SIM_PHONE_MIN || len > SIM_PHONE_MAX || phone[0] == '0') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)phone[i])) {
            return false;
        }
    }
    return true;
}

int
sim_model_keypair(uint8_t priv[SIM_KEY_LEN], uint8_t pub[SIM_KEY_LEN])
{
    return wa_x25519_keypair(priv, pub);
}

static uint32_t
s_random_u32(void)
{
    uint32_t v;
    cm_random(&v, sizeof v);
    return v;
}

//  15-digit LID user that no account uses yet.
static char *
s_new_lid(sim_model_t *self)
{
    while (true) {
        char lid[16];
        lid[0] = (char)('1' + s_random_u32() % 9);
        for (int i = 1; i < 15; i++) {
            lid[i] = (char)('0' + s_random_u32() % 10);
        }
        lid[15] = 0;
        if (!zhashx_lookup(self->by_lid, lid)) {
            return cm_strdup(lid);
        }
    }
}

static sim_device_t *
s_device_new(sim_account_t *account, uint32_t id)
{
    sim_device_t *self = (sim_device_t *)cm_alloc(sizeof(sim_device_t));
    self->account = account;
    self->id = id;
    self->prekeys = zlistx_new();
    zlistx_set_destructor(self->prekeys, s_free);
    self->queue = zlistx_new();
    zlistx_set_destructor(self->queue, s_pending_free);
    self->queue_index = zhashx_new();
    zhashx_set_destructor(self->queue_index, s_list_destroy);
    self->created_ms = cm_now_ms();
    return self;
}

static void
s_device_destroy(sim_device_t **self_p)
{
    assert(self_p);
    sim_device_t *self = *self_p;
    if (self) {
        zlistx_destroy(&self->prekeys);
        zhashx_destroy(&self->queue_index);
        zlistx_destroy(&self->queue);
        free(self->platform);
        free(self->adv);
        free(self);
        *self_p = NULL;
    }
}

static void
s_account_destroy(sim_account_t **self_p)
{
    assert(self_p);
    sim_account_t *self = *self_p;
    if (self) {
        zlistx_destroy(&self->devices);
        free(self->phone);
        free(self->lid);
        free(self->push_name);
        free(self->about);
        free(self->picture_id);
        free(self->picture_path);
        free(self->preview_path);
        zhashx_destroy(&self->blocked);
        json_decref(self->status_privacy);
        wa_crypto_wipe(self->identity_priv, sizeof self->identity_priv);
        free(self);
        *self_p = NULL;
    }
}

//  Bare account record, not yet indexed.
static sim_account_t *
s_account_new(const char *phone, const char *lid, const char *push_name)
{
    sim_account_t *acc = (sim_account_t *)cm_alloc(sizeof(sim_account_t));
    acc->phone = cm_strdup(phone);
    acc->lid = cm_strdup(lid);
    acc->push_name = cm_strdup(push_name ? push_name : "");
    acc->next_device = 1;
    acc->next_key_index = 1;
    acc->created_ms = cm_now_ms();
    acc->devices = zlistx_new();
    zlistx_set_destructor(acc->devices, s_device_free);
    acc->blocked = zhashx_new();
    return acc;
}

bool
sim_account_blocks(sim_account_t *self, sim_account_t *other)
{
    assert(self && other);
    return zhashx_lookup(self->blocked, other->phone) != NULL;
}

void
sim_account_set_blocked(sim_account_t *self, sim_account_t *other, bool blocked)
{
    assert(self && other);
    if (blocked) {
        zhashx_update(self->blocked, other->phone, (void *)"1");
    } else {
        zhashx_delete(self->blocked, other->phone);
    }
}

static void
s_account_index(sim_model_t *self, sim_account_t *acc)
{
    zlistx_add_end(self->accounts, acc);
    zhashx_insert(self->by_phone, acc->phone, acc);
    zhashx_insert(self->by_lid, acc->lid, acc);
}

sim_account_t *
sim_model_account_add(sim_model_t *self, const char *phone,
                      const char *push_name)
{
    assert(self);
    if (!sim_model_phone_valid(phone) || zhashx_lookup(self->by_phone, phone)) {
        return NULL;
    }
    uint8_t priv[SIM_KEY_LEN];
    uint8_t pub[SIM_KEY_LEN];
    if (sim_model_keypair(priv, pub)) {
        cm_log_error("could not generate identity key pair");
        return NULL;
    }
    char *lid = s_new_lid(self);
    sim_account_t *acc = s_account_new(phone, lid, push_name);
    free(lid);
    memcpy(acc->identity_priv, priv, SIM_KEY_LEN);
    memcpy(acc->identity_pub, pub, SIM_KEY_LEN);
    wa_crypto_wipe(priv, sizeof priv);
    acc->registration_id = 1 + s_random_u32() % 16380;

    sim_device_t *phone_dev = s_device_new(acc, 0);
    phone_dev->platform = cm_strdup("android");
    phone_dev->has_identity = true;
    memcpy(phone_dev->identity_pub, acc->identity_pub, SIM_KEY_LEN);
    phone_dev->registration_id = acc->registration_id;
    phone_dev->linked = true;
    zlistx_add_end(acc->devices, phone_dev);
    s_account_index(self, acc);
    return acc;
}

int
sim_model_account_remove(sim_model_t *self, const char *phone)
{
    assert(self);
    sim_account_t *acc = sim_model_account(self, phone);
    if (!acc) {
        return -1;
    }
    zhashx_delete(self->by_phone, acc->phone);
    zhashx_delete(self->by_lid, acc->lid);
    void *handle = zlistx_find(self->accounts, acc);
    assert(handle);
    zlistx_delete(self->accounts, handle);
    return 0;
}

sim_account_t *
sim_model_account(sim_model_t *self, const char *phone)
{
    assert(self);
    return phone ? (sim_account_t *)zhashx_lookup(self->by_phone, phone) : NULL;
}

sim_account_t *
sim_model_account_by_lid(sim_model_t *self, const char *lid)
{
    assert(self);
    return lid ? (sim_account_t *)zhashx_lookup(self->by_lid, lid) : NULL;
}

zlistx_t *
sim_model_accounts(sim_model_t *self)
{
    assert(self);
    return self->accounts;
}

sim_device_t *
sim_account_device(sim_account_t *self, uint32_t id)
{
    assert(self);
    sim_device_t *dev = (sim_device_t *)zlistx_first(self->devices);
    while (dev) {
        if (dev->id == id) {
            return dev;
        }
        dev = (sim_device_t *)zlistx_next(self->devices);
    }
    return NULL;
}

sim_device_t *
sim_account_device_add(sim_account_t *self)
{
    assert(self);
    sim_device_t *dev = s_device_new(self, self->next_device++);
    dev->key_index = self->next_key_index++;
    zlistx_add_end(self->devices, dev);
    return dev;
}

int
sim_account_device_remove(sim_account_t *self, uint32_t id)
{
    assert(self);
    if (id == 0) {
        return -1;
    }
    sim_device_t *dev = sim_account_device(self, id);
    if (!dev) {
        return -1;
    }
    void *handle = zlistx_find(self->devices, dev);
    assert(handle);
    zlistx_delete(self->devices, handle);
    return 0;
}

zlistx_t *
sim_account_devices_copy(sim_account_t *self)
{
    assert(self);
    zlistx_t *list = zlistx_new();
    sim_device_t *dev = (sim_device_t *)zlistx_first(self->devices);
    while (dev) {
        zlistx_add_end(list, dev);
        dev = (sim_device_t *)zlistx_next(self->devices);
    }
    return list;
}

size_t
sim_account_device_count(sim_account_t *self)
{
    assert(self);
    size_t n = 0;
    sim_device_t *dev = (sim_device_t *)zlistx_first(self->devices);
    while (dev) {
        n += dev->linked ? 1 : 0;
        dev = (sim_device_t *)zlistx_next(self->devices);
    }
    return n;
}

int
sim_device_prekey_add(sim_device_t *self, uint32_t id,
                      const uint8_t pub[SIM_KEY_LEN])
{
    assert(self);
    sim_prekey_t *key = (sim_prekey_t *)zlistx_first(self->prekeys);
    while (key) {
        if (key->id == id) {
            memcpy(key->pub, pub, SIM_KEY_LEN);
            return 0;
        }
        key = (sim_prekey_t *)zlistx_next(self->prekeys);
    }
    if (zlistx_size(self->prekeys) >= SIM_PREKEYS_MAX) {
        return -1;
    }
    key = (sim_prekey_t *)cm_alloc(sizeof(sim_prekey_t));
    key->id = id;
    memcpy(key->pub, pub, SIM_KEY_LEN);
    zlistx_add_end(self->prekeys, key);
    return 0;
}

int
sim_device_prekey_take(sim_device_t *self, sim_prekey_t *out)
{
    assert(self);
    assert(out);
    sim_prekey_t *key = (sim_prekey_t *)zlistx_first(self->prekeys);
    if (!key) {
        return -1;
    }
    *out = *key;
    zlistx_delete(self->prekeys, zlistx_cursor(self->prekeys));
    return 0;
}

size_t
sim_device_prekey_count(sim_device_t *self)
{
    assert(self);
    return zlistx_size(self->prekeys);
}

sim_pending_t *
sim_pending_new(const char *id, const char *cls, const char *peer,
                const uint8_t *data, size_t len)
{
    sim_pending_t *self = (sim_pending_t *)cm_alloc(sizeof(sim_pending_t));
    self->id = cm_strdup(id ? id : "");
    self->cls = cm_strdup(cls ? cls : "");
    self->peer = cm_strdup(peer ? peer : "");
    self->data = (uint8_t *)cm_alloc(len);
    if (len) {
        memcpy(self->data, data, len);
    }
    self->len = len;
    self->queued_ms = cm_now_ms();
    return self;
}

void
sim_pending_destroy(sim_pending_t **self_p)
{
    assert(self_p);
    sim_pending_t *self = *self_p;
    if (self) {
        free(self->id);
        free(self->cls);
        free(self->peer);
        free(self->data);
        free(self);
        *self_p = NULL;
    }
}

//  Index key of a queue item: class and stanza id. Caller owns it.
static char *
s_queue_key(const char *cls, const char *id)
{
    return cm_sprintf("%s\x1f%s", cls, id);
}

//  Take a queued item out of the index (not out of the queue).
static void
s_queue_unindex(sim_device_t *self, sim_pending_t *item)
{
    char *key = s_queue_key(item->cls, item->id);
    zlistx_t *same = (zlistx_t *)zhashx_lookup(self->queue_index, key);
    for (void *it = same ? zlistx_first(same) : NULL; it;
         it = zlistx_next(same)) {
        if (it == item) {
            zlistx_delete(same, zlistx_cursor(same));
            break;
        }
    }
    if (same && zlistx_size(same) == 0) {
        zhashx_delete(self->queue_index, key);
    }
    free(key);
}

void
sim_device_queue_push(sim_device_t *self, sim_pending_t **item_p)
{
    assert(self);
    assert(item_p && *item_p);
    if (zlistx_size(self->queue) >= SIM_QUEUE_MAX) {
        cm_log_warn("queue full, dropping oldest stanza", "device=%s:%u",
                    self->account->phone, self->id);
        sim_pending_t *oldest = (sim_pending_t *)zlistx_first(self->queue);
        s_queue_unindex(self, oldest);
        zlistx_delete(self->queue, oldest->handle);
    }
    sim_pending_t *item = *item_p;
    *item_p = NULL;
    item->handle = zlistx_add_end(self->queue, item);
    char *key = s_queue_key(item->cls, item->id);
    zlistx_t *same = (zlistx_t *)zhashx_lookup(self->queue_index, key);
    if (!same) {
        same = zlistx_new();
        zhashx_insert(self->queue_index, key, same);
    }
    zlistx_add_end(same, item);
    free(key);
}

bool
sim_device_queue_ack(sim_device_t *self, const char *cls, const char *id,
                     const char *peer)
{
    assert(self);
    if (!cls || !id) {
        return false;
    }
    //  The index finds the items of this class and id (oldest first)
    //  without walking a queue that may hold thousands.
    char *key = s_queue_key(cls, id);
    zlistx_t *same = (zlistx_t *)zhashx_lookup(self->queue_index, key);
    sim_pending_t *item = same ? (sim_pending_t *)zlistx_first(same) : NULL;
    while (item && peer && !cm_streq(item->peer, peer)) {
        item = (sim_pending_t *)zlistx_next(same);
    }
    if (item) {
        zlistx_delete(same, zlistx_cursor(same));
        if (zlistx_size(same) == 0) {
            zhashx_delete(self->queue_index, key);
        }
        zlistx_delete(self->queue, item->handle);
    }
    free(key);
    return item != NULL;
}

void
sim_device_queue_unsent(sim_device_t *self)
{
    assert(self);
    sim_pending_t *item = (sim_pending_t *)zlistx_first(self->queue);
    while (item) {
        item->sent = false;
        item = (sim_pending_t *)zlistx_next(self->queue);
    }
}

char *
sim_device_jid(sim_device_t *self)
{
    assert(self);
    if (self->id == 0) {
        return cm_sprintf("%s@s.whatsapp.net", self->account->phone);
    }
    return cm_sprintf("%s:%u@s.whatsapp.net", self->account->phone, self->id);
}

char *
sim_device_lid_jid(sim_device_t *self)
{
    assert(self);
    if (self->id == 0) {
        return cm_sprintf("%s@lid", self->account->lid);
    }
    return cm_sprintf("%s:%u@lid", self->account->lid, self->id);
}

static void
s_group_destroy(sim_group_t **self_p)
{
    assert(self_p);
    sim_group_t *self = *self_p;
    if (self) {
        sim_participant_t *p =
            (sim_participant_t *)zlistx_first(self->participants);
        while (p) {
            free(p->phone);
            free(p->role);
            free(p);
            p = (sim_participant_t *)zlistx_next(self->participants);
        }
        zlistx_destroy(&self->participants);
        free(self->id);
        free(self->subject);
        free(self->creator);
        free(self->subject_owner);
        free(self->description);
        free(self->description_id);
        free(self->invite);
        free(self->picture_id);
        zhashx_destroy(&self->requests);
        free(self);
        *self_p = NULL;
    }
}

sim_group_t *
sim_model_group_add(sim_model_t *self, const char *creator, const char *subject)
{
    assert(self);
    assert(creator);
    char id[19];
    do {
        memcpy(id, "120363", 6);
        for (int i = 6; i < 18; i++) {
            id[i] = (char)('0' + s_random_u32() % 10);
        }
        id[18] = 0;
    } while (sim_model_group(self, id));
    sim_group_t *group = (sim_group_t *)cm_alloc(sizeof(sim_group_t));
    group->id = cm_strdup(id);
    group->subject = cm_strdup(subject ? subject : "");
    group->creator = cm_strdup(creator);
    group->subject_owner = cm_strdup(creator);
    group->creation_s = cm_now_ms() / 1000;
    group->subject_s = group->creation_s;
    group->participants = zlistx_new();
    sim_group_participant_add(group, creator, "superadmin");
    zlistx_add_end(self->groups, group);
    return group;
}

sim_group_t *
sim_model_group(sim_model_t *self, const char *id)
{
    assert(self);
    if (!id) {
        return NULL;
    }
    sim_group_t *group = (sim_group_t *)zlistx_first(self->groups);
    while (group) {
        if (cm_streq(group->id, id)) {
            return group;
        }
        group = (sim_group_t *)zlistx_next(self->groups);
    }
    return NULL;
}

zlistx_t *
sim_model_groups(sim_model_t *self)
{
    assert(self);
    return self->groups;
}

sim_participant_t *
sim_group_participant(sim_group_t *self, const char *phone)
{
    assert(self);
    if (!phone) {
        return NULL;
    }
    sim_participant_t *p =
        (sim_participant_t *)zlistx_first(self->participants);
    while (p) {
        if (cm_streq(p->phone, phone)) {
            return p;
        }
        p = (sim_participant_t *)zlistx_next(self->participants);
    }
    return NULL;
}

sim_participant_t *
sim_group_participant_add(sim_group_t *self, const char *phone,
                          const char *role)
{
    assert(self);
    assert(phone);
    sim_participant_t *p = sim_group_participant(self, phone);
    if (p) {
        return p;
    }
    p = (sim_participant_t *)cm_alloc(sizeof(sim_participant_t));
    p->phone = cm_strdup(phone);
    p->role = cm_strdup(role);
    zlistx_add_end(self->participants, p);
    return p;
}

int
sim_group_participant_remove(sim_group_t *self, const char *phone)
{
    assert(self);
    sim_participant_t *p = sim_group_participant(self, phone);
    if (!p) {
        return -1;
    }
    zlistx_delete(self->participants, zlistx_cursor(self->participants));
    free(p->phone);
    free(p->role);
    free(p);
    return 0;
}

int
sim_model_media_put(sim_model_t *self, const char *path, const uint8_t *data,
                    size_t len)
{
    assert(self);
    assert(path);
    s_blob_t *old = (s_blob_t *)zhashx_lookup(self->media, path);
    size_t old_len = old ? old->len : 0;
    if (self->media_bytes - old_len + len > SIM_MEDIA_MAX) {
        return -1;
    }
    s_blob_t *blob = (s_blob_t *)cm_alloc(sizeof(s_blob_t));
    blob->data = (uint8_t *)cm_alloc(len);
    if (len) {
        memcpy(blob->data, data, len);
    }
    blob->len = len;
    self->media_bytes = self->media_bytes - old_len + len;
    zhashx_update(self->media, path, blob);
    return 0;
}

int
sim_model_media_del(sim_model_t *self, const char *path)
{
    assert(self);
    s_blob_t *blob = path ? (s_blob_t *)zhashx_lookup(self->media, path) : NULL;
    if (!blob) {
        return -1;
    }
    self->media_bytes -= blob->len;
    zhashx_delete(self->media, path);
    return 0;
}

size_t
sim_model_media_clear(sim_model_t *self)
{
    assert(self);
    size_t n = zhashx_size(self->media);
    zhashx_purge(self->media);
    self->media_bytes = 0;
    return n;
}

const uint8_t *
sim_model_media_get(sim_model_t *self, const char *path, size_t *len_p)
{
    assert(self);
    s_blob_t *blob = path ? (s_blob_t *)zhashx_lookup(self->media, path) : NULL;
    if (!blob) {
        return NULL;
    }
    if (len_p) {
        *len_p = blob->len;
    }
    return blob->data;
}

size_t
sim_model_media_count(sim_model_t *self)
{
    assert(self);
    return zhashx_size(self->media);
}

size_t
sim_model_media_bytes(sim_model_t *self)
{
    assert(self);
    return self->media_bytes;
}

static json_t *
s_hex_json(const uint8_t *data, size_t len)
{
    char *hex = (char *)cm_alloc(2 * len + 1);
    cm_hex(data, len, hex);
    json_t *value = json_string(hex);
    free(hex);
    return value;
}

json_t *
sim_device_to_json(sim_device_t *self)
{
    assert(self);
    char *jid = sim_device_jid(self);
    char *lid = sim_device_lid_jid(self);
    json_t *obj =
        json_pack("{s:i, s:s, s:s, s:s?, s:b, s:i, s:i, s:I, s:I, s:i, s:b}",
                  "id", (json_int_t)self->id, "jid", jid, "lid", lid,
                  "platform", self->platform, "linked", self->linked,
                  "key_index", (json_int_t)self->key_index, "prekeys",
                  (json_int_t)zlistx_size(self->prekeys), "created_ms",
                  (json_int_t)self->created_ms, "last_seen_ms",
                  (json_int_t)self->last_seen_ms, "queued",
                  (json_int_t)zlistx_size(self->queue), "forged", self->forged);
    json_object_set_new(obj, "fullSync", json_boolean(self->full_sync));
    free(jid);
    free(lid);
    if (self->has_identity) {
        json_object_set_new(obj, "identity_pub",
                            s_hex_json(self->identity_pub, SIM_KEY_LEN));
    }
    if (self->has_spk) {
        json_object_set_new(obj, "signed_prekey_id",
                            json_integer(self->spk_id));
    }
    //  Ids of the messages waiting for it
    json_t *ids = json_array();
    for (sim_pending_t *p = (sim_pending_t *)zlistx_first(self->queue); p;
         p = (sim_pending_t *)zlistx_next(self->queue)) {
        if (cm_streq(p->cls, "message") && json_array_size(ids) < 100) {
            json_array_append_new(ids, json_string(p->id));
        }
    }
    json_object_set_new(obj, "queued_messages", ids);
    return obj;
}

json_t *
sim_account_to_json(sim_account_t *self, bool with_devices)
{
    assert(self);
    char *jid = cm_sprintf("%s@s.whatsapp.net", self->phone);
    char *lid = cm_sprintf("%s@lid", self->lid);
    json_t *obj = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:i, s:I}", "phone", self->phone, "jid", jid,
        "lid", lid, "push_name", self->push_name, "identity_pub", "",
        "registration_id", (json_int_t)self->registration_id, "created_ms",
        (json_int_t)self->created_ms);
    free(jid);
    free(lid);
    json_object_set_new(obj, "identity_pub",
                        s_hex_json(self->identity_pub, SIM_KEY_LEN));
    json_object_set_new(obj, "about",
                        self->about ? json_string(self->about) : json_null());
    json_object_set_new(obj, "picture_id",
                        self->picture_id ? json_string(self->picture_id)
                                         : json_null());
    json_object_set_new(obj, "picture_path",
                        self->picture_path ? json_string(self->picture_path)
                                           : json_null());
    json_t *blocked = json_array();
    for (void *v = zhashx_first(self->blocked); v;
         v = zhashx_next(self->blocked)) {
        json_array_append_new(
            blocked, json_string((const char *)zhashx_cursor(self->blocked)));
    }
    json_object_set_new(obj, "blocked", blocked);
    json_object_set_new(obj, "nct_salt", json_boolean(self->nct_salt_len > 0));
    if (with_devices) {
        json_t *devices = json_array();
        sim_device_t *dev = (sim_device_t *)zlistx_first(self->devices);
        while (dev) {
            json_array_append_new(devices, sim_device_to_json(dev));
            dev = (sim_device_t *)zlistx_next(self->devices);
        }
        json_object_set_new(obj, "devices", devices);
    }
    return obj;
}

json_t *
sim_group_to_json(sim_group_t *self)
{
    assert(self);
    char *jid = cm_sprintf("%s@g.us", self->id);
    json_t *obj = json_pack(
        "{s:s, s:s, s:s, s:s?, s:I, s:s?, s:b, s:b, s:s?, s:s, s:b}", "id", jid,
        "subject", self->subject, "creator", self->creator, "description",
        self->description, "creation", (json_int_t)self->creation_s, "invite",
        self->invite, "announce", self->announce, "locked", self->locked,
        "picture_id", self->picture_id, "addressing_mode",
        self->lid ? "lid" : "pn", "approval", self->approval);
    free(jid);
    json_t *parts = json_array();
    sim_participant_t *p =
        (sim_participant_t *)zlistx_first(self->participants);
    while (p) {
        json_array_append_new(parts, json_pack("{s:s, s:s?}", "phone", p->phone,
                                               "role", p->role));
        p = (sim_participant_t *)zlistx_next(self->participants);
    }
    json_object_set_new(obj, "participants", parts);
    return obj;
}

//  Persistence: one JSON document, keys in hex.

static int
s_unhex_exact(json_t *obj, const char *key, uint8_t *out, size_t len)
{
    const char *hex = json_string_value(json_object_get(obj, key));
    return hex && strlen(hex) == 2 * len && cm_unhex(hex, out, len) == (int)len
               ? 0
               : -1;
}

static json_t *
s_device_save(sim_device_t *dev)
{
    json_t *obj =
        json_pack("{s:i, s:s?, s:b, s:i, s:i, s:I}", "id", (json_int_t)dev->id,
                  "platform", dev->platform, "linked", dev->linked, "key_index",
                  (json_int_t)dev->key_index, "registration_id",
                  (json_int_t)dev->registration_id, "created_ms",
                  (json_int_t)dev->created_ms);
    if (dev->full_sync) {
        json_object_set_new(obj, "full_sync", json_true());
    }
    if (dev->has_noise) {
        json_object_set_new(obj, "noise_pub",
                            s_hex_json(dev->noise_pub, SIM_KEY_LEN));
    }
    if (dev->has_identity) {
        json_object_set_new(obj, "identity_pub",
                            s_hex_json(dev->identity_pub, SIM_KEY_LEN));
    }
    if (dev->has_spk) {
        json_object_set_new(obj, "spk_id", json_integer(dev->spk_id));
        json_object_set_new(obj, "spk_pub",
                            s_hex_json(dev->spk_pub, SIM_KEY_LEN));
        json_object_set_new(obj, "spk_sig",
                            s_hex_json(dev->spk_sig, SIM_SIG_LEN));
    }
    if (dev->adv) {
        json_object_set_new(obj, "adv", s_hex_json(dev->adv, dev->adv_len));
    }
    json_t *keys = json_array();
    sim_prekey_t *key = (sim_prekey_t *)zlistx_first(dev->prekeys);
    while (key) {
        json_t *k = json_pack("{s:i}", "id", (json_int_t)key->id);
        json_object_set_new(k, "pub", s_hex_json(key->pub, SIM_KEY_LEN));
        json_array_append_new(keys, k);
        key = (sim_prekey_t *)zlistx_next(dev->prekeys);
    }
    json_object_set_new(obj, "prekeys", keys);
    return obj;
}

int
sim_model_save(sim_model_t *self, const char *path)
{
    assert(self);
    assert(path);
    json_t *accounts = json_array();
    sim_account_t *acc = (sim_account_t *)zlistx_first(self->accounts);
    while (acc) {
        json_t *obj =
            json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:I}", "phone",
                      acc->phone, "lid", acc->lid, "push_name", acc->push_name,
                      "registration_id", (json_int_t)acc->registration_id,
                      "next_device", (json_int_t)acc->next_device,
                      "next_key_index", (json_int_t)acc->next_key_index,
                      "created_ms", (json_int_t)acc->created_ms);
        json_object_set_new(obj, "identity_priv",
                            s_hex_json(acc->identity_priv, SIM_KEY_LEN));
        json_object_set_new(obj, "identity_pub",
                            s_hex_json(acc->identity_pub, SIM_KEY_LEN));
        json_t *devices = json_array();
        sim_device_t *dev = (sim_device_t *)zlistx_first(acc->devices);
        while (dev) {
            json_array_append_new(devices, s_device_save(dev));
            dev = (sim_device_t *)zlistx_next(acc->devices);
        }
        json_object_set_new(obj, "devices", devices);
        json_array_append_new(accounts, obj);
        acc = (sim_account_t *)zlistx_next(self->accounts);
    }
    json_t *groups = json_array();
    sim_group_t *group = (sim_group_t *)zlistx_first(self->groups);
    while (group) {
        json_t *obj = sim_group_to_json(group);
        json_object_set_new(obj, "id", json_string(group->id));
        json_array_append_new(groups, obj);
        group = (sim_group_t *)zlistx_next(self->groups);
    }
    json_t *doc = json_pack("{s:i, s:o, s:o}", "version", 1, "accounts",
                            accounts, "groups", groups);
    char *tmp = cm_sprintf("%s.tmp", path);
    int rc = json_dump_file(doc, tmp, JSON_INDENT(1));
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
    }
    if (rc) {
        cm_log_error("could not write state file", "path=\"%s\"", path);
        unlink(tmp);
    }
    free(tmp);
    json_decref(doc);
    return rc;
}

static int
s_device_load(sim_account_t *acc, json_t *obj)
{
    json_int_t id = json_integer_value(json_object_get(obj, "id"));
    if (id < 0 || id > 0xffff || sim_account_device(acc, (uint32_t)id)) {
        return -1;
    }
    sim_device_t *dev = s_device_new(acc, (uint32_t)id);
    zlistx_add_end(acc->devices, dev);
    const char *platform = json_string_value(json_object_get(obj, "platform"));
    dev->platform = cm_strdup(platform);
    dev->linked = json_is_true(json_object_get(obj, "linked"));
    dev->full_sync = json_is_true(json_object_get(obj, "full_sync"));
    dev->key_index =
        (uint32_t)json_integer_value(json_object_get(obj, "key_index"));
    dev->registration_id =
        (uint32_t)json_integer_value(json_object_get(obj, "registration_id"));
    dev->created_ms = json_integer_value(json_object_get(obj, "created_ms"));
    dev->has_noise =
        s_unhex_exact(obj, "noise_pub", dev->noise_pub, SIM_KEY_LEN) == 0;
    dev->has_identity =
        s_unhex_exact(obj, "identity_pub", dev->identity_pub, SIM_KEY_LEN) == 0;
    if (json_object_get(obj, "spk_id")) {
        dev->spk_id =
            (uint32_t)json_integer_value(json_object_get(obj, "spk_id"));
        dev->has_spk =
            s_unhex_exact(obj, "spk_pub", dev->spk_pub, SIM_KEY_LEN) == 0 &&
            s_unhex_exact(obj, "spk_sig", dev->spk_sig, SIM_SIG_LEN) == 0;
    }
    const char *adv = json_string_value(json_object_get(obj, "adv"));
    if (adv && strlen(adv) % 2 == 0 && strlen(adv) > 0) {
        dev->adv_len = strlen(adv) / 2;
        dev->adv = (uint8_t *)cm_alloc(dev->adv_len);
        if (cm_unhex(adv, dev->adv, dev->adv_len) != (int)dev->adv_len) {
            return -1;
        }
    }
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(obj, "prekeys"), i, k)
    {
        uint8_t pub[SIM_KEY_LEN];
        if (s_unhex_exact(k, "pub", pub, SIM_KEY_LEN)) {
            return -1;
        }
        sim_device_prekey_add(
            dev, (uint32_t)json_integer_value(json_object_get(k, "id")), pub);
    }
    return 0;
}

static int
s_account_load(sim_model_t *self, json_t *obj)
{
    const char *phone = json_string_value(json_object_get(obj, "phone"));
    const char *lid = json_string_value(json_object_get(obj, "lid"));
    if (!sim_model_phone_valid(phone) || !lid ||
        sim_model_account(self, phone) || sim_model_account_by_lid(self, lid)) {
        return -1;
    }
    sim_account_t *acc = s_account_new(
        phone, lid, json_string_value(json_object_get(obj, "push_name")));
    s_account_index(self, acc);
    acc->registration_id =
        (uint32_t)json_integer_value(json_object_get(obj, "registration_id"));
    acc->next_device =
        (uint32_t)json_integer_value(json_object_get(obj, "next_device"));
    acc->next_key_index =
        (uint32_t)json_integer_value(json_object_get(obj, "next_key_index"));
    acc->created_ms = json_integer_value(json_object_get(obj, "created_ms"));
    if (s_unhex_exact(obj, "identity_priv", acc->identity_priv, SIM_KEY_LEN) ||
        s_unhex_exact(obj, "identity_pub", acc->identity_pub, SIM_KEY_LEN)) {
        return -1;
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(obj, "devices"), i, d)
    {
        if (s_device_load(acc, d)) {
            return -1;
        }
    }
    return sim_account_device(acc, 0) ? 0 : -1;
}

static int
s_group_load(sim_model_t *self, json_t *obj)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *creator = json_string_value(json_object_get(obj, "creator"));
    if (!id || !creator || sim_model_group(self, id)) {
        return -1;
    }
    sim_group_t *group = sim_model_group_add(
        self, creator, json_string_value(json_object_get(obj, "subject")));
    free(group->id);
    group->id = cm_strdup(id);
    group->creation_s = json_integer_value(json_object_get(obj, "creation"));
    const char *desc = json_string_value(json_object_get(obj, "description"));
    group->description = cm_strdup(desc);
    group->invite =
        cm_strdup(json_string_value(json_object_get(obj, "invite")));
    group->announce = json_is_true(json_object_get(obj, "announce"));
    group->locked = json_is_true(json_object_get(obj, "locked"));
    group->lid = cm_streq(
        json_string_value(json_object_get(obj, "addressing_mode")), "lid");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(obj, "participants"), i, p)
    {
        const char *phone = json_string_value(json_object_get(p, "phone"));
        if (!phone) {
            return -1;
        }
        sim_participant_t *part = sim_group_participant_add(
            group, phone, json_string_value(json_object_get(p, "role")));
        free(part->role);
        part->role = cm_strdup(json_string_value(json_object_get(p, "role")));
    }
    return 0;
}

int
sim_model_load(sim_model_t *self, const char *path)
{
    assert(self);
    assert(path);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc) {
        cm_log_error("could not read state file", "path=\"%s\" reason=\"%s\"",
                     path, err.text);
        return -1;
    }
    int rc = 0;
    size_t i;
    json_t *obj;
    json_array_foreach(json_object_get(doc, "accounts"), i, obj)
    {
        if (rc == 0 && s_account_load(self, obj)) {
            rc = -1;
        }
    }
    json_array_foreach(json_object_get(doc, "groups"), i, obj)
    {
        if (rc == 0 && s_group_load(self, obj)) {
            rc = -1;
        }
    }
    if (rc) {
        cm_log_error("could not load state file", "path=\"%s\"", path);
    }
    json_decref(doc);
    return rc;
}

void
sim_model_test(bool verbose)
{
    printf(" * sim_model: ");
    sim_model_t *model = sim_model_new();

    assert(!sim_model_phone_valid("0123456789"));
    assert(!sim_model_phone_valid("12345"));
    assert(!sim_model_phone_valid("1555123456x"));
    assert(sim_model_phone_valid("15551234567"));

    sim_account_t *acc = sim_model_account_add(model, "15551234567", "Alice");
    assert(acc);
    assert(strlen(acc->lid) == 15);
    assert(acc->registration_id > 0);
    assert(!sim_model_account_add(model, "15551234567", "Again"));
    assert(!sim_model_account_add(model, "05551234567", "Bad"));
    assert(sim_model_account(model, "15551234567") == acc);
    assert(sim_model_account_by_lid(model, acc->lid) == acc);
    assert(sim_account_device_count(acc) == 1);

    sim_device_t *dev = sim_account_device_add(acc);
    assert(dev->id == 1 && dev->key_index == 1);
    assert(sim_account_device_count(acc) == 1);
    dev->linked = true;
    assert(sim_account_device_count(acc) == 2);
    char *jid = sim_device_jid(dev);
    assert(cm_streq(jid, "15551234567:1@s.whatsapp.net"));
    free(jid);
    jid = sim_device_jid(sim_account_device(acc, 0));
    assert(cm_streq(jid, "15551234567@s.whatsapp.net"));
    free(jid);

    //  Prekeys: consumed oldest first, duplicates replaced
    uint8_t pub[SIM_KEY_LEN];
    for (uint32_t i = 1; i <= 3; i++) {
        memset(pub, (int)i, sizeof pub);
        assert(sim_device_prekey_add(dev, i, pub) == 0);
    }
    assert(sim_device_prekey_add(dev, 2, pub) == 0);
    assert(sim_device_prekey_count(dev) == 3);
    sim_prekey_t key;
    assert(sim_device_prekey_take(dev, &key) == 0 && key.id == 1);
    assert(key.pub[0] == 1);
    assert(sim_device_prekey_take(dev, &key) == 0 && key.id == 2);
    assert(key.pub[0] == 3);
    assert(sim_device_prekey_take(dev, &key) == 0 && key.id == 3);
    assert(sim_device_prekey_take(dev, &key) == -1);

    //  Queue: acked by class + id (+ peer)
    uint8_t bytes[3] = {1, 2, 3};
    sim_pending_t *item =
        sim_pending_new("M1", "message", "1@s.whatsapp.net", bytes, 3);
    sim_device_queue_push(dev, &item);
    assert(item == NULL);
    item = sim_pending_new("M1", "receipt", "1@s.whatsapp.net", bytes, 3);
    sim_device_queue_push(dev, &item);
    assert(!sim_device_queue_ack(dev, "message", "M2", NULL));
    assert(!sim_device_queue_ack(dev, "message", "M1", "2@s.whatsapp.net"));
    assert(sim_device_queue_ack(dev, "message", "M1", "1@s.whatsapp.net"));
    assert(zlistx_size(dev->queue) == 1);
    //  Same class and id from two peers: each ack takes its own; without
    //  a peer the oldest goes first
    item = sim_pending_new("M3", "message", "1@s.whatsapp.net", bytes, 3);
    sim_device_queue_push(dev, &item);
    item = sim_pending_new("M3", "message", "2@s.whatsapp.net", bytes, 3);
    sim_device_queue_push(dev, &item);
    item = sim_pending_new("M3", "message", "3@s.whatsapp.net", bytes, 3);
    sim_device_queue_push(dev, &item);
    assert(sim_device_queue_ack(dev, "message", "M3", "2@s.whatsapp.net"));
    assert(!sim_device_queue_ack(dev, "message", "M3", "2@s.whatsapp.net"));
    assert(sim_device_queue_ack(dev, "message", "M3", NULL));
    item = (sim_pending_t *)zlistx_last(dev->queue);
    assert(cm_streq(item->peer, "3@s.whatsapp.net"));
    assert(sim_device_queue_ack(dev, "message", "M3", NULL));
    assert(!sim_device_queue_ack(dev, "message", "M3", NULL));
    assert(zlistx_size(dev->queue) == 1);
    //  A full queue drops its oldest item, which cannot be acked then
    for (int i = 0; i < SIM_QUEUE_MAX; i++) {
        char id[16];
        snprintf(id, sizeof id, "F%d", i);
        item = sim_pending_new(id, "message", "1@s.whatsapp.net", bytes, 3);
        sim_device_queue_push(dev, &item);
    }
    assert(zlistx_size(dev->queue) == SIM_QUEUE_MAX);
    assert(!sim_device_queue_ack(dev, "receipt", "M1", NULL));
    assert(sim_device_queue_ack(dev, "message", "F0", NULL));
    char last[16];
    snprintf(last, sizeof last, "F%d", SIM_QUEUE_MAX - 1);
    assert(sim_device_queue_ack(dev, "message", last, NULL));
    assert(zlistx_size(dev->queue) == SIM_QUEUE_MAX - 2);
    for (int i = 1; i < SIM_QUEUE_MAX - 1; i++) {
        char id[16];
        snprintf(id, sizeof id, "F%d", i);
        assert(sim_device_queue_ack(dev, "message", id, NULL));
    }
    assert(zlistx_size(dev->queue) == 0);
    item = sim_pending_new("M1", "receipt", "1@s.whatsapp.net", bytes, 3);
    sim_device_queue_push(dev, &item);
    sim_device_queue_unsent(dev);

    //  Groups
    sim_account_t *bob = sim_model_account_add(model, "15557654321", "Bob");
    assert(bob);
    sim_group_t *group = sim_model_group_add(model, acc->phone, "Team");
    assert(strlen(group->id) == 18);
    sim_group_participant_add(group, bob->phone, NULL);
    sim_group_participant_add(group, bob->phone, NULL);
    assert(zlistx_size(group->participants) == 2);
    assert(sim_model_group(model, group->id) == group);
    assert(
        cm_streq(sim_group_participant(group, acc->phone)->role, "superadmin"));

    //  Media
    assert(sim_model_media_put(model, "/m/1", bytes, 3) == 0);
    assert(sim_model_media_put(model, "/m/1", bytes, 2) == 0);
    size_t len = 0;
    assert(sim_model_media_get(model, "/m/1", &len) && len == 2);
    assert(sim_model_media_bytes(model) == 2);
    assert(!sim_model_media_get(model, "/m/2", &len));
    assert(sim_model_media_put(model, "/m/3", bytes, 3) == 0);
    assert(sim_model_media_del(model, "/m/3") == 0);
    assert(sim_model_media_del(model, "/m/3") == -1);
    assert(!sim_model_media_get(model, "/m/3", &len));
    assert(sim_model_media_bytes(model) == 2);

    //  JSON views never carry the private key
    json_t *view = sim_account_to_json(acc, true);
    char *text = json_dumps(view, 0);
    char priv_hex[2 * SIM_KEY_LEN + 1];
    cm_hex(acc->identity_priv, SIM_KEY_LEN, priv_hex);
    assert(!strstr(text, priv_hex));
    assert(json_array_size(json_object_get(view, "devices")) == 2);
    free(text);
    json_decref(view);

    //  Save and load round trip
    char path[] = "/tmp/sim_model_test_XXXXXX";
    int fd = mkstemp(path);
    assert(fd >= 0);
    close(fd);
    memset(pub, 9, sizeof pub);
    sim_device_prekey_add(dev, 7, pub);
    assert(sim_model_save(model, path) == 0);
    sim_model_t *copy = sim_model_new();
    assert(sim_model_load(copy, path) == 0);
    sim_account_t *acc2 = sim_model_account(copy, "15551234567");
    assert(acc2 && cm_streq(acc2->lid, acc->lid));
    assert(memcmp(acc2->identity_priv, acc->identity_priv, SIM_KEY_LEN) == 0);
    sim_device_t *dev2 = sim_account_device(acc2, 1);
    assert(dev2 && dev2->linked && sim_device_prekey_count(dev2) == 1);
    assert(acc2->next_device == 2);
    assert(sim_model_group(copy, group->id));
    assert(sim_model_load(copy, path) == -1); //  duplicates refused
    sim_model_destroy(&copy);
    unlink(path);

    assert(sim_account_device_remove(acc, 0) == -1);
    assert(sim_account_device_remove(acc, 1) == 0);
    assert(sim_account_device_remove(acc, 1) == -1);
    assert(sim_model_account_remove(model, "15551234567") == 0);
    assert(!sim_model_account(model, "15551234567"));
    assert(sim_model_account_remove(model, "15551234567") == -1);

    sim_model_destroy(&model);
    assert(model == NULL);
    sim_model_destroy(&model);
    printf("OK\n");
}
