/*  wa_syncd - app-state sync ("syncd"): keys, fetches, patches, uploads

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h and
    include/wa/wa_syncd.h for what it does). Routes:

        <notification type="server_sync">   a collection moved on: fetch

    and, through wa_inbox, the peer message that shares app-state keys.
    The crypto is wa_appstate's; the state lives in the Signal store
    (kinds appstate_key, appstate_coll, appstate_mac) so the owner
    persists it with the Signal records.

    One IQ at a time: a fetch of the dirty collections, or the upload of
    the first queued push. Fetches go first, so a push is always built
    on the latest version we know.
*/
#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm/cm.h"
#include "wa/wa_appstate.h"
#include "wa/wa_crypto.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_syncd.h"
#include "wa/wa_syncd.pb-c.h"
#include "wa_client_int.h"

//  The collections, in the order they are fetched.
static const char *const s_names[] = {"critical_block", "critical_unblock_low",
                                      "regular_high", "regular", "regular_low"};
#define S_NCOLL 5
#define S_ALL ((1u << S_NCOLL) - 1)
//  Tries of one push (the first and two after conflicts).
#define S_PUSH_TRIES 3
//  Longest key id kept.
#define S_KEY_ID_MAX 64
//  Most patches handled from one answer, and most fetch rounds in a row
//  for one collection (has_more_patches) before giving up until the next
//  trigger.
#define S_ROUNDS_MAX 200

typedef struct _s_cursor_t s_cursor_t;

typedef struct _s_push_t {
    char id[WA_CLIENT_ID_MAX]; //  push id
    int coll;                  //  collection index
    json_t *actions;           //  the actions (owned)
    int tries;                 //  uploads tried
    struct _s_push_t *next;    //  queue
} s_push_t;

struct _wa_syncd_state_t {
    unsigned dirty;     //  collections to fetch (bits)
    bool busy;          //  an IQ of ours is in flight
    bool synced_login;  //  the login fetch was queued on this connection
    int rounds;         //  fetch rounds in a row
    s_push_t *head;     //  pushes, oldest first
    s_push_t *tail;     //  the newest
    zhashx_t *asked;    //  hex key ids asked for
    uint64_t next_id;   //  push id counter
    uint64_t refused;   //  patches refused (for tests and logs)
    s_cursor_t *cursor; //  the fetch answer being applied
    bool waiting;       //  ... waits for a blob from the owner
};

//  Constant-time comparison of two MACs.
static bool
s_memeq(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) {
        d |= a[i] ^ b[i];
    }
    return d == 0;
}

static int
s_coll_index(const char *name)
{
    for (int i = 0; name && i < S_NCOLL; i++) {
        if (strcmp(name, s_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

//  ---------------------------------------------------------------------
//  State in the Signal store

//  Collection version and LTHash (zero when none stored). Returns true
//  when a state is stored (the collection was fetched before).
static bool
s_coll_get(wa_client_t *self, int coll, uint64_t *version, uint8_t *hash)
{
    size_t len = 0;
    const uint8_t *rec =
        wa_sigstore_get(self->store, "appstate_coll", s_names[coll], &len);
    *version = 0;
    memset(hash, 0, WA_LTHASH_LEN);
    if (rec && len == 8 + WA_LTHASH_LEN) {
        for (int i = 0; i < 8; i++) {
            *version = *version << 8 | rec[i];
        }
        memcpy(hash, rec + 8, WA_LTHASH_LEN);
        return true;
    }
    return false;
}

static void
s_coll_put(wa_client_t *self, int coll, uint64_t version, const uint8_t *hash)
{
    uint8_t rec[8 + WA_LTHASH_LEN];
    for (int i = 0; i < 8; i++) {
        rec[i] = (uint8_t)(version >> (56 - 8 * i));
    }
    memcpy(rec + 8, hash, WA_LTHASH_LEN);
    wa_sigstore_put(self->store, "appstate_coll", s_names[coll], rec,
                    sizeof rec);
}

static void
s_mac_key(char *out, int coll, const uint8_t *index_mac)
{
    int n = sprintf(out, "%s:", s_names[coll]);
    cm_hex(index_mac, WA_APPSTATE_MAC_LEN, out + n);
}

#define S_MAC_KEY_MAX (32 + 2 * WA_APPSTATE_MAC_LEN + 2)

typedef struct {
    wa_client_t *client;
    int coll;
} s_lookup_t;

static int
s_mac_lookup(void *arg, const uint8_t *index_mac, uint8_t *value_mac)
{
    s_lookup_t *l = (s_lookup_t *)arg;
    char key[S_MAC_KEY_MAX];
    s_mac_key(key, l->coll, index_mac);
    size_t len = 0;
    const uint8_t *rec =
        wa_sigstore_get(l->client->store, "appstate_mac", key, &len);
    if (!rec || len != WA_APPSTATE_MAC_LEN) {
        return -1;
    }
    memcpy(value_mac, rec, WA_APPSTATE_MAC_LEN);
    return 0;
}

//  Expanded keys for key id. Returns 0, or -1 when we do not have it.
static int
s_keys(wa_client_t *self, const uint8_t *id, size_t id_len,
       wa_appstate_keys_t *keys)
{
    if (!id || id_len == 0 || id_len > S_KEY_ID_MAX) {
        return -1;
    }
    char hex[2 * S_KEY_ID_MAX + 1];
    cm_hex(id, id_len, hex);
    size_t len = 0;
    const uint8_t *data =
        wa_sigstore_get(self->store, "appstate_key", hex, &len);
    if (!data || len < 32) {
        return -1;
    }
    return wa_appstate_keys(data, 32, keys);
}

//  The latest key's id (the one new patches use). Returns its length,
//  or 0 when we have no key.
static size_t
s_latest(wa_client_t *self, uint8_t id[S_KEY_ID_MAX])
{
    size_t len = 0;
    const uint8_t *rec =
        wa_sigstore_get(self->store, "appstate_key", "latest", &len);
    if (!rec || len <= 8 || len - 8 > S_KEY_ID_MAX) {
        return 0;
    }
    memcpy(id, rec + 8, len - 8);
    return len - 8;
}

bool
wa_client_appstate_ready(wa_client_t *self)
{
    assert(self);
    uint8_t id[S_KEY_ID_MAX];
    return s_latest(self, id) > 0;
}

//  ---------------------------------------------------------------------
//  Keys from the phone

int
wa_syncd_on_peer(wa_client_t *self, const uint8_t *msg, size_t len)
{
    Wa__E2e__Message *m = wa__e2e__message__unpack(NULL, len, msg);
    if (!m) {
        return -1;
    }
    Wa__E2e__ProtocolMessage *pm = m->protocol_message;
    if (!pm || !pm->has_type ||
        pm->type != WA__E2E__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_SHARE ||
        !pm->has_app_state_sync_key_share) {
        wa__e2e__message__free_unpacked(m, NULL);
        return 0;
    }
    Wa__Syncd__AppStateSyncKeyShare *share =
        wa__syncd__app_state_sync_key_share__unpack(
            NULL, pm->app_state_sync_key_share.len,
            pm->app_state_sync_key_share.data);
    int added = 0;
    for (size_t i = 0; share && i < share->n_keys && i < 64; i++) {
        Wa__Syncd__AppStateSyncKey *k = share->keys[i];
        if (!k->key_id || !k->key_id->has_key_id || !k->key_data ||
            !k->key_data->has_key_data || k->key_data->key_data.len != 32 ||
            k->key_id->key_id.len == 0 ||
            k->key_id->key_id.len > S_KEY_ID_MAX) {
            continue;
        }
        char hex[2 * S_KEY_ID_MAX + 1];
        cm_hex(k->key_id->key_id.data, k->key_id->key_id.len, hex);
        wa_sigstore_put(self->store, "appstate_key", hex,
                        k->key_data->key_data.data, 32);
        zhashx_delete(self->syncd->asked, hex);
        //  The latest key: the newest timestamp (ties: the last shared)
        int64_t ts = k->key_data->has_timestamp ? k->key_data->timestamp : 0;
        size_t old_len = 0;
        const uint8_t *old =
            wa_sigstore_get(self->store, "appstate_key", "latest", &old_len);
        int64_t old_ts = 0;
        for (int b = 0; old && old_len > 8 && b < 8; b++) {
            old_ts = old_ts << 8 | old[b];
        }
        if (!old || ts >= old_ts) {
            uint8_t rec[8 + S_KEY_ID_MAX];
            for (int b = 0; b < 8; b++) {
                rec[b] = (uint8_t)((uint64_t)ts >> (56 - 8 * b));
            }
            memcpy(rec + 8, k->key_id->key_id.data, k->key_id->key_id.len);
            wa_sigstore_put(self->store, "appstate_key", "latest", rec,
                            8 + k->key_id->key_id.len);
        }
        added++;
    }
    if (share) {
        wa__syncd__app_state_sync_key_share__free_unpacked(share, NULL);
    }
    wa__e2e__message__free_unpacked(m, NULL);
    cm_log_info("app-state keys shared", "session=%s keys=%d",
                wa_client_name(self), added);
    if (added) {
        //  Collections that waited for a key (or were never fetched)
        self->syncd->dirty = S_ALL;
        self->syncd->rounds = 0;
        wa_client_rearm(self);
    }
    return added ? 0 : -1;
}

//  Ask our phone for a key we lack (once per key and run): a peer
//  protocol message to our own phone.
static void
s_ask_key(wa_client_t *self, const uint8_t *id, size_t id_len)
{
    char hex[2 * S_KEY_ID_MAX + 1];
    if (!id || id_len == 0 || id_len > S_KEY_ID_MAX) {
        return;
    }
    cm_hex(id, id_len, hex);
    if (zhashx_lookup(self->syncd->asked, hex)) {
        return;
    }
    zhashx_insert(self->syncd->asked, hex, (void *)1);
    cm_log_warn("app-state patch under a key we lack, asking for it",
                "session=%s key=%s", wa_client_name(self), hex);
    Wa__Syncd__AppStateSyncKeyId kid = WA__SYNCD__APP_STATE_SYNC_KEY_ID__INIT;
    kid.has_key_id = 1;
    kid.key_id.data = (uint8_t *)id;
    kid.key_id.len = id_len;
    Wa__Syncd__AppStateSyncKeyId *kids[1] = {&kid};
    Wa__Syncd__AppStateSyncKeyRequest req =
        WA__SYNCD__APP_STATE_SYNC_KEY_REQUEST__INIT;
    req.n_key_ids = 1;
    req.key_ids = kids;
    uint8_t inner[128];
    size_t inner_len = wa__syncd__app_state_sync_key_request__pack(&req, inner);
    Wa__E2e__ProtocolMessage pm = WA__E2E__PROTOCOL_MESSAGE__INIT;
    pm.has_type = 1;
    pm.type = WA__E2E__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_REQUEST;
    pm.has_app_state_sync_key_request = 1;
    pm.app_state_sync_key_request.data = inner;
    pm.app_state_sync_key_request.len = inner_len;
    Wa__E2e__Message msg = WA__E2E__MESSAGE__INIT;
    msg.protocol_message = &pm;
    uint8_t buf[256];
    size_t len = wa__e2e__message__pack(&msg, buf);
    char msg_id[WA_CLIENT_ID_MAX];
    if (wa_outbox_send_peer(self, buf, len, msg_id) != 0) {
        cm_log_warn("could not ask for the app-state key", "session=%s key=%s",
                    wa_client_name(self), hex);
    }
}

//  ---------------------------------------------------------------------
//  Actions <-> SyncActionValue

typedef struct {
    const char *name; //  index[0]
    int coll;         //  collection index
    int version;      //  SyncActionData.version
    int nargs;        //  index elements after the name (min)
} s_action_t;

static const s_action_t s_actions[] = {{"archive", 4, 3, 1},
                                       {"pin_v1", 4, 5, 1},
                                       {"markChatAsRead", 4, 3, 1},
                                       {"mute", 2, 2, 1},
                                       {"star", 2, 2, 4},
                                       {"deleteMessageForMe", 2, 3, 4},
                                       {"clearChat", 2, 6, 1},
                                       {"deleteChat", 2, 6, 1},
                                       {"contact", 1, 2, 1},
                                       {"setting_pushName", 0, 1, 0},
                                       {"label_edit", 3, 3, 1},
                                       {"label_jid", 3, 3, 2},
                                       {"label_message", 3, 3, 3},
                                       {"nct_salt_sync", 2, 1, 0},
                                       {NULL, 0, 0, 0}};

static const s_action_t *
s_action(const char *name)
{
    for (int i = 0; name && s_actions[i].name; i++) {
        if (strcmp(name, s_actions[i].name) == 0) {
            return &s_actions[i];
        }
    }
    return NULL;
}

static bool
s_jbool(const json_t *value, const char *key, bool dflt)
{
    json_t *v = json_object_get(value, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static const char *
s_jstr(const json_t *value, const char *key)
{
    return json_string_value(json_object_get(value, key));
}

//  The value's fields into JSON (flattened, see wa_syncd.h).
static json_t *
s_value_json(const Wa__Syncd__SyncActionValue *v)
{
    json_t *o = json_object();
    if (!v) {
        return o;
    }
#define S_SETB(msg, field, key)                                                \
    if ((msg)->has_##field) {                                                  \
        json_object_set_new(o, key, json_boolean((msg)->field));               \
    }
#define S_SETI(msg, field, key)                                                \
    if ((msg)->has_##field) {                                                  \
        json_object_set_new(o, key, json_integer((msg)->field));               \
    }
#define S_SETS(msg, field, key)                                                \
    if ((msg)->field) {                                                        \
        json_object_set_new(o, key, json_string((msg)->field));                \
    }
    if (v->archive_chat_action) {
        S_SETB(v->archive_chat_action, archived, "archived");
    }
    if (v->pin_action) {
        S_SETB(v->pin_action, pinned, "pinned");
    }
    if (v->mark_chat_as_read_action) {
        S_SETB(v->mark_chat_as_read_action, read, "read");
    }
    if (v->mute_action) {
        S_SETB(v->mute_action, muted, "muted");
        S_SETI(v->mute_action, mute_end_timestamp, "muteEndTimestamp");
    }
    if (v->star_action) {
        S_SETB(v->star_action, starred, "starred");
    }
    if (v->delete_message_for_me_action) {
        S_SETB(v->delete_message_for_me_action, delete_media, "deleteMedia");
        S_SETI(v->delete_message_for_me_action, message_timestamp,
               "messageTimestamp");
    }
    if (v->contact_action) {
        S_SETS(v->contact_action, full_name, "fullName");
        S_SETS(v->contact_action, first_name, "firstName");
        S_SETS(v->contact_action, lid_jid, "lidJid");
        S_SETS(v->contact_action, pn_jid, "pnJid");
    }
    if (v->push_name_setting) {
        S_SETS(v->push_name_setting, name, "name");
    }
    if (v->label_edit_action) {
        S_SETS(v->label_edit_action, name, "name");
        S_SETI(v->label_edit_action, color, "color");
        S_SETB(v->label_edit_action, deleted, "deleted");
        S_SETI(v->label_edit_action, predefined_id, "predefinedId");
        S_SETI(v->label_edit_action, order_index, "orderIndex");
    }
    if (v->label_association_action) {
        S_SETB(v->label_association_action, labeled, "labeled");
    }
#undef S_SETB
#undef S_SETI
#undef S_SETS
    return o;
}

//  Everything a value may point to while it is packed.
typedef struct {
    Wa__Syncd__SyncActionValue v;
    Wa__Syncd__ArchiveChatAction archive;
    Wa__Syncd__PinAction pin;
    Wa__Syncd__MarkChatAsReadAction read;
    Wa__Syncd__MuteAction mute;
    Wa__Syncd__StarAction star;
    Wa__Syncd__DeleteMessageForMeAction dmfm;
    Wa__Syncd__ClearChatAction clear;
    Wa__Syncd__DeleteChatAction del;
    Wa__Syncd__ContactAction contact;
    Wa__Syncd__PushNameSetting push_name;
    Wa__Syncd__LabelEditAction label;
    Wa__Syncd__LabelAssociationAction assoc;
    Wa__Syncd__SyncActionMessageRange range;
    Wa__Syncd__NctSaltSyncAction nct;
    uint8_t salt[WA_NCT_SALT_MAX];
} s_value_t;

//  Fill a SyncActionValue for action `a` from JSON value. Strings are
//  borrowed from value.
static void
s_value_fill(s_value_t *s, const s_action_t *a, const json_t *value,
             int64_t ts_ms)
{
    *s = (s_value_t){.v = WA__SYNCD__SYNC_ACTION_VALUE__INIT};
    s->v.has_timestamp = 1;
    s->v.timestamp = ts_ms;
    s->range = (Wa__Syncd__SyncActionMessageRange)
        WA__SYNCD__SYNC_ACTION_MESSAGE_RANGE__INIT;
    s->range.has_last_message_timestamp = 1;
    s->range.last_message_timestamp = ts_ms / 1000;
    const char *n = a->name;
    if (!strcmp(n, "archive")) {
        s->archive =
            (Wa__Syncd__ArchiveChatAction)WA__SYNCD__ARCHIVE_CHAT_ACTION__INIT;
        s->archive.has_archived = 1;
        s->archive.archived = s_jbool(value, "archived", true);
        s->archive.message_range = &s->range;
        s->v.archive_chat_action = &s->archive;
    } else if (!strcmp(n, "pin_v1")) {
        s->pin = (Wa__Syncd__PinAction)WA__SYNCD__PIN_ACTION__INIT;
        s->pin.has_pinned = 1;
        s->pin.pinned = s_jbool(value, "pinned", true);
        s->v.pin_action = &s->pin;
    } else if (!strcmp(n, "markChatAsRead")) {
        s->read = (Wa__Syncd__MarkChatAsReadAction)
            WA__SYNCD__MARK_CHAT_AS_READ_ACTION__INIT;
        s->read.has_read = 1;
        s->read.read = s_jbool(value, "read", true);
        s->read.message_range = &s->range;
        s->v.mark_chat_as_read_action = &s->read;
    } else if (!strcmp(n, "mute")) {
        s->mute = (Wa__Syncd__MuteAction)WA__SYNCD__MUTE_ACTION__INIT;
        s->mute.has_muted = 1;
        s->mute.muted = s_jbool(value, "muted", true);
        json_t *end = json_object_get(value, "muteEndTimestamp");
        if (s->mute.muted) {
            s->mute.has_mute_end_timestamp = 1;
            s->mute.mute_end_timestamp =
                json_is_integer(end) ? json_integer_value(end) : -1;
        }
        s->v.mute_action = &s->mute;
    } else if (!strcmp(n, "star")) {
        s->star = (Wa__Syncd__StarAction)WA__SYNCD__STAR_ACTION__INIT;
        s->star.has_starred = 1;
        s->star.starred = s_jbool(value, "starred", true);
        s->v.star_action = &s->star;
    } else if (!strcmp(n, "deleteMessageForMe")) {
        s->dmfm = (Wa__Syncd__DeleteMessageForMeAction)
            WA__SYNCD__DELETE_MESSAGE_FOR_ME_ACTION__INIT;
        s->dmfm.has_delete_media = 1;
        s->dmfm.delete_media = s_jbool(value, "deleteMedia", false);
        json_t *mts = json_object_get(value, "messageTimestamp");
        if (json_is_integer(mts)) {
            s->dmfm.has_message_timestamp = 1;
            s->dmfm.message_timestamp = json_integer_value(mts);
        }
        s->v.delete_message_for_me_action = &s->dmfm;
    } else if (!strcmp(n, "clearChat")) {
        s->clear =
            (Wa__Syncd__ClearChatAction)WA__SYNCD__CLEAR_CHAT_ACTION__INIT;
        s->clear.message_range = &s->range;
        s->v.clear_chat_action = &s->clear;
    } else if (!strcmp(n, "deleteChat")) {
        s->del =
            (Wa__Syncd__DeleteChatAction)WA__SYNCD__DELETE_CHAT_ACTION__INIT;
        s->del.message_range = &s->range;
        s->v.delete_chat_action = &s->del;
    } else if (!strcmp(n, "contact")) {
        s->contact = (Wa__Syncd__ContactAction)WA__SYNCD__CONTACT_ACTION__INIT;
        s->contact.full_name = (char *)s_jstr(value, "fullName");
        s->contact.first_name = (char *)s_jstr(value, "firstName");
        s->contact.lid_jid = (char *)s_jstr(value, "lidJid");
        s->contact.pn_jid = (char *)s_jstr(value, "pnJid");
        s->contact.has_save_on_primary_addressbook = 1;
        s->contact.save_on_primary_addressbook = true;
        s->v.contact_action = &s->contact;
    } else if (!strcmp(n, "setting_pushName")) {
        s->push_name =
            (Wa__Syncd__PushNameSetting)WA__SYNCD__PUSH_NAME_SETTING__INIT;
        s->push_name.name = (char *)s_jstr(value, "name");
        s->v.push_name_setting = &s->push_name;
    } else if (!strcmp(n, "label_edit")) {
        s->label =
            (Wa__Syncd__LabelEditAction)WA__SYNCD__LABEL_EDIT_ACTION__INIT;
        s->label.name = (char *)s_jstr(value, "name");
        json_t *color = json_object_get(value, "color");
        if (json_is_integer(color)) {
            s->label.has_color = 1;
            s->label.color = (int32_t)json_integer_value(color);
        }
        s->label.has_deleted = 1;
        s->label.deleted = s_jbool(value, "deleted", false);
        json_t *pre = json_object_get(value, "predefinedId");
        if (json_is_integer(pre)) {
            s->label.has_predefined_id = 1;
            s->label.predefined_id = (int32_t)json_integer_value(pre);
        }
        json_t *order = json_object_get(value, "orderIndex");
        if (json_is_integer(order)) {
            s->label.has_order_index = 1;
            s->label.order_index = (int32_t)json_integer_value(order);
        }
        s->v.label_edit_action = &s->label;
    } else if (!strcmp(n, "label_jid") || !strcmp(n, "label_message")) {
        s->assoc = (Wa__Syncd__LabelAssociationAction)
            WA__SYNCD__LABEL_ASSOCIATION_ACTION__INIT;
        s->assoc.has_labeled = 1;
        s->assoc.labeled = s_jbool(value, "labeled", true);
        s->v.label_association_action = &s->assoc;
    } else if (!strcmp(n, "nct_salt_sync")) {
        //  value {salt: hex} (written by a phone: wa-sim)
        s->nct =
            (Wa__Syncd__NctSaltSyncAction)WA__SYNCD__NCT_SALT_SYNC_ACTION__INIT;
        const char *hex = s_jstr(value, "salt");
        int len = hex ? cm_unhex(hex, s->salt, sizeof s->salt) : -1;
        if (len > 0) {
            s->nct.has_salt = 1;
            s->nct.salt.data = s->salt;
            s->nct.salt.len = (size_t)len;
        }
        s->v.nct_salt_sync_action = &s->nct;
    }
}

const char *
wa_syncd_action_collection(const json_t *action, const char **reason)
{
    const char *why = NULL;
    json_t *index = json_object_get(action, "index");
    const char *op = s_jstr(action, "op");
    json_t *value = json_object_get(action, "value");
    const s_action_t *a = NULL;
    if (!json_is_array(index) || json_array_size(index) == 0 ||
        json_array_size(index) > 8) {
        why = "index must be an array of 1..8 strings";
    } else if (!(a = s_action(json_string_value(json_array_get(index, 0))))) {
        why = "index names no action Wharf writes";
    } else if (json_array_size(index) < (size_t)a->nargs + 1) {
        why = "index is too short for its action";
    } else if (op && strcmp(op, "set") != 0 && strcmp(op, "remove") != 0) {
        why = "op must be set or remove";
    } else if (value && !json_is_object(value)) {
        why = "value must be an object";
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(index, i, e)
        {
            if (!json_is_string(e) ||
                json_string_length(e) > WA_SYNCD_INDEX_MAX / 2) {
                why = "index must be an array of strings";
                break;
            }
        }
    }
    if (!why) {
        char *text = json_dumps(index, JSON_COMPACT);
        if (!text || strlen(text) > WA_SYNCD_INDEX_MAX) {
            why = "index is too long";
        }
        free(text);
    }
    if (why) {
        if (reason) {
            *reason = why;
        }
        return NULL;
    }
    return s_names[a->coll];
}

//  Label colors as WAHA shows them.
static const char *const s_label_hex[WA_SYNCD_LABEL_COLORS] = {
    "#ff9485", "#64c4ff", "#ffd429", "#dfaef0", "#99b6c1", "#55ccb3", "#ff9dff",
    "#d3a91d", "#6d7cce", "#d7e752", "#00d0e2", "#ffc5c7", "#93ceac", "#f74848",
    "#00a0f2", "#83e422", "#ffaf04", "#b5ebff", "#9ba6ff", "#9368cf"};

const char *
wa_syncd_label_hex(int color)
{
    return color >= 0 && color < WA_SYNCD_LABEL_COLORS ? s_label_hex[color]
                                                       : NULL;
}

int
wa_syncd_label_color(const char *hex)
{
    for (int i = 0; hex && i < WA_SYNCD_LABEL_COLORS; i++) {
        if (strcasecmp(hex, s_label_hex[i]) == 0) {
            return i;
        }
    }
    return -1;
}

//  ---------------------------------------------------------------------
//  Events

static void
s_emit(wa_client_t *self, int coll, json_t *action, bool from_me, bool initial)
{
    wa_client_event_t ev = {.type = WA_CLIENT_EVENT_APPSTATE};
    ev.u.appstate.collection = s_names[coll];
    ev.u.appstate.action = action;
    ev.u.appstate.from_me = from_me;
    ev.u.appstate.initial = initial;
    wa_client_emit(self, &ev);
}

static void
s_pushed(wa_client_t *self, const char *id, bool ok, int error,
         const char *reason)
{
    wa_client_event_t ev = {.type = WA_CLIENT_EVENT_APPSTATE_PUSHED};
    ev.u.pushed.id = id;
    ev.u.pushed.ok = ok;
    ev.u.pushed.error = error;
    ev.u.pushed.reason = reason;
    wa_client_emit(self, &ev);
}

//  ---------------------------------------------------------------------
//  Applying patches

//  One decoded mutation of a patch being checked.
typedef struct {
    wa_appstate_mutation_t m;      //  for the LTHash
    json_t *action;                //  decoded action (owned)
    int salt_op;                   //  ["nct_salt_sync"]: 1 set, 2 remove
    size_t salt_len;               //  the salt's length (set)
    uint8_t salt[WA_NCT_SALT_MAX]; //  the salt (never in the action)
} s_decoded_t;

typedef enum { S_APPLIED, S_SKIPPED, S_NO_KEY, S_REFUSED } s_outcome_t;

//  The account's NCT salt of an ["nct_salt_sync"] mutation (whatsmeow
//  appstate, Baileys 7 handleNctSaltMutation): kept apart, applied on
//  commit through wa_client_set_nct_salt, never put in the action the
//  owner sees. A set without a salt (or an oversized one) is ignored.
static void
s_salt_take(s_decoded_t *d, const json_t *index, wa_appstate_op_t op,
            const Wa__Syncd__SyncActionValue *v)
{
    if (json_array_size(index) != 1 ||
        !cm_streq(json_string_value(json_array_get(index, 0)),
                  "nct_salt_sync")) {
        return;
    }
    if (op == WA_APPSTATE_REMOVE) {
        d->salt_op = 2;
        return;
    }
    const Wa__Syncd__NctSaltSyncAction *a = v ? v->nct_salt_sync_action : NULL;
    if (a && a->has_salt && a->salt.len > 0 && a->salt.len <= sizeof d->salt) {
        d->salt_op = 1;
        d->salt_len = a->salt.len;
        memcpy(d->salt, a->salt.data, a->salt.len);
    }
}

//  Decode and verify one record (value MAC under its key, index MAC)
//  into d (action owned by d on success). Returns S_APPLIED, S_NO_KEY
//  (asked for) or S_REFUSED with *why.
static s_outcome_t
s_record(wa_client_t *self, const Wa__Syncd__SyncdRecord *r,
         wa_appstate_op_t op, s_decoded_t *d, const char **why)
{
    if (!r || !r->index || !r->index->has_blob || r->index->blob.len != 32 ||
        !r->value || !r->value->has_blob || r->value->blob.len < 16 + 16 + 32 ||
        !r->key_id || !r->key_id->has_id) {
        *why = "malformed record";
        return S_REFUSED;
    }
    wa_appstate_keys_t rkeys;
    if (s_keys(self, r->key_id->id.data, r->key_id->id.len, &rkeys) != 0) {
        s_ask_key(self, r->key_id->id.data, r->key_id->id.len);
        return S_NO_KEY;
    }
    uint8_t *plain = (uint8_t *)cm_alloc(r->value->blob.len);
    size_t plain_len = 0;
    if (wa_appstate_value_decrypt(&rkeys, op, r->key_id->id.data,
                                  r->key_id->id.len, r->value->blob.data,
                                  r->value->blob.len, plain, &plain_len) != 0) {
        free(plain);
        *why = "value MAC mismatch";
        return S_REFUSED;
    }
    Wa__Syncd__SyncActionData *ad =
        wa__syncd__sync_action_data__unpack(NULL, plain_len, plain);
    free(plain);
    if (!ad || !ad->has_index ||
        wa_appstate_index_verify(&rkeys, ad->index.data, ad->index.len,
                                 r->index->blob.data,
                                 r->index->blob.len) != 0) {
        if (ad) {
            wa__syncd__sync_action_data__free_unpacked(ad, NULL);
        }
        *why = "index MAC mismatch";
        return S_REFUSED;
    }
    json_t *index =
        json_loadb((const char *)ad->index.data, ad->index.len, 0, NULL);
    if (!json_is_array(index)) {
        json_decref(index);
        wa__syncd__sync_action_data__free_unpacked(ad, NULL);
        *why = "index is not a JSON array";
        return S_REFUSED;
    }
    json_t *action = json_object();
    json_object_set_new(action, "index", index);
    json_object_set_new(action, "op",
                        json_string(op == WA_APPSTATE_SET ? "set" : "remove"));
    json_object_set_new(action, "timestamp",
                        json_integer(ad->value && ad->value->has_timestamp
                                         ? ad->value->timestamp
                                         : 0));
    json_object_set_new(action, "version",
                        json_integer(ad->has_version ? ad->version : 0));
    json_object_set_new(action, "value", s_value_json(ad->value));
    s_salt_take(d, index, op, ad->value);
    wa__syncd__sync_action_data__free_unpacked(ad, NULL);
    d->m.op = op;
    d->m.index_mac = r->index->blob.data;
    d->m.value_mac = r->value->blob.data + r->value->blob.len - 32;
    d->action = action;
    return S_APPLIED;
}

//  Commit n decoded mutations of a collection: the map, the state, then
//  the events.
static void
s_commit(wa_client_t *self, int coll, s_decoded_t *dec, size_t n,
         uint64_t version, const uint8_t *hash, bool initial)
{
    for (size_t i = 0; i < n; i++) {
        char key[S_MAC_KEY_MAX];
        s_mac_key(key, coll, dec[i].m.index_mac);
        if (dec[i].m.op == WA_APPSTATE_SET) {
            wa_sigstore_put(self->store, "appstate_mac", key,
                            dec[i].m.value_mac, 32);
        } else {
            wa_sigstore_remove(self->store, "appstate_mac", key);
        }
    }
    s_coll_put(self, coll, version, hash);
    for (size_t i = 0; i < n; i++) {
        if (dec[i].salt_op) {
            wa_client_set_nct_salt(self, dec[i].salt, dec[i].salt_len, false);
        }
        s_emit(self, coll, dec[i].action, false, initial);
    }
}

static void
s_refused(wa_client_t *self, const char *what, int coll, uint64_t version,
          const char *why)
{
    self->syncd->refused++;
    cm_log_error(what,
                 "session=%s collection=%s "
                 "version=%" PRIu64 " reason=\"%s\"",
                 wa_client_name(self), s_names[coll], version,
                 why ? why : "unknown");
}

//  Check and apply one patch on top of the collection's state. Nothing
//  is changed unless every MAC checks out. A patch whose mutations are
//  in an external blob needs the blob's plaintext (a SyncdMutations) in
//  ext / ext_len.
static s_outcome_t
s_apply_patch(wa_client_t *self, int coll, const uint8_t *data, size_t len,
              bool initial, const uint8_t *ext, size_t ext_len)
{
    const char *name = s_names[coll];
    Wa__Syncd__SyncdPatch *p = wa__syncd__syncd_patch__unpack(NULL, len, data);
    if (!p) {
        cm_log_warn("app-state patch refused: not a SyncdPatch",
                    "session=%s collection=%s", wa_client_name(self), name);
        return S_REFUSED;
    }
    uint64_t cur = 0;
    uint8_t hash[WA_LTHASH_LEN];
    s_coll_get(self, coll, &cur, hash);
    uint64_t version =
        p->version && p->version->has_version ? p->version->version : cur + 1;
    if (version <= cur) {
        wa__syncd__syncd_patch__free_unpacked(p, NULL);
        return S_SKIPPED;
    }
    const char *why = NULL;
    s_outcome_t out = S_REFUSED;
    wa_appstate_keys_t keys;
    Wa__Syncd__SyncdMutations *sm = NULL;
    size_t n = p->n_mutations;
    Wa__Syncd__SyncdMutation **muts = p->mutations;
    if (p->external_mutations) {
        sm =
            ext ? wa__syncd__syncd_mutations__unpack(NULL, ext_len, ext) : NULL;
        n = sm ? sm->n_mutations : 0;
        muts = sm ? sm->mutations : NULL;
    }
    s_decoded_t *dec = (s_decoded_t *)cm_alloc((n ? n : 1) * sizeof *dec);
    uint8_t *value_macs = (uint8_t *)cm_alloc((n ? n : 1) * 32);
    size_t done = 0;
    if (p->external_mutations && !sm) {
        why = ext ? "external mutations are not a SyncdMutations"
                  : "external mutations could not be downloaded";
        goto finish;
    }
    if (!p->key_id || !p->key_id->has_id) {
        why = "no key id";
        goto finish;
    }
    if (s_keys(self, p->key_id->id.data, p->key_id->id.len, &keys) != 0) {
        s_ask_key(self, p->key_id->id.data, p->key_id->id.len);
        out = S_NO_KEY;
        goto finish;
    }
    for (; done < n; done++) {
        Wa__Syncd__SyncdMutation *mu = muts[done];
        wa_appstate_op_t op =
            mu->has_operation &&
                    mu->operation ==
                        WA__SYNCD__SYNCD_MUTATION__OPERATION__REMOVE
                ? WA_APPSTATE_REMOVE
                : WA_APPSTATE_SET;
        s_outcome_t r = s_record(self, mu->record, op, &dec[done], &why);
        if (r != S_APPLIED) {
            out = r;
            break;
        }
        memcpy(value_macs + done * 32, dec[done].m.value_mac, 32);
    }
    if (done < n) {
        goto finish;
    }
    //  LTHash, snapshot MAC and patch MAC over the new state
    uint8_t next[WA_LTHASH_LEN];
    memcpy(next, hash, sizeof next);
    s_lookup_t lk = {self, coll};
    wa_appstate_mutation_t *ms =
        (wa_appstate_mutation_t *)cm_alloc((n ? n : 1) * sizeof *ms);
    for (size_t i = 0; i < n; i++) {
        ms[i] = dec[i].m;
    }
    int rc = wa_appstate_lthash_apply(next, ms, n, s_mac_lookup, &lk);
    free(ms);
    uint8_t snap[32], pmac[32];
    if (rc != 0 ||
        wa_appstate_snapshot_mac(&keys, next, version, name, snap) != 0 ||
        !p->has_snapshot_mac || p->snapshot_mac.len != 32 ||
        !s_memeq(snap, p->snapshot_mac.data, 32)) {
        why = "snapshot MAC mismatch (LTHash)";
        goto finish;
    }
    if (wa_appstate_patch_mac(&keys, p->snapshot_mac.data, value_macs, n,
                              version, name, pmac) != 0 ||
        !p->has_patch_mac || p->patch_mac.len != 32 ||
        !s_memeq(pmac, p->patch_mac.data, 32)) {
        why = "patch MAC mismatch";
        goto finish;
    }
    s_commit(self, coll, dec, n, version, next, initial);
    out = S_APPLIED;
finish:
    if (out == S_REFUSED) {
        s_refused(self, "app-state patch refused", coll, version, why);
    }
    for (size_t i = 0; i < done && i < n; i++) {
        json_decref(dec[i].action);
    }
    wa_crypto_wipe(dec, (n ? n : 1) * sizeof *dec); //  salts
    free(dec);
    free(value_macs);
    if (sm) {
        wa__syncd__syncd_mutations__free_unpacked(sm, NULL);
    }
    wa__syncd__syncd_patch__free_unpacked(p, NULL);
    return out;
}

//  Check and apply a snapshot (the plaintext of its external blob) to a
//  collection never synced (version 0): every record's MACs, then the
//  LTHash of all its values against the snapshot MAC. Nothing is
//  changed unless all check out.
static s_outcome_t
s_apply_snapshot(wa_client_t *self, int coll, const uint8_t *data, size_t len,
                 bool initial)
{
    const char *name = s_names[coll];
    Wa__Syncd__SyncdSnapshot *sn =
        data ? wa__syncd__syncd_snapshot__unpack(NULL, len, data) : NULL;
    uint64_t version = sn && sn->version && sn->version->has_version
                           ? sn->version->version
                           : 0;
    size_t n = sn ? sn->n_records : 0;
    s_decoded_t *dec = (s_decoded_t *)cm_alloc((n ? n : 1) * sizeof *dec);
    size_t done = 0;
    const char *why = NULL;
    s_outcome_t out = S_REFUSED;
    wa_appstate_keys_t keys;
    uint64_t cur = 0;
    uint8_t hash[WA_LTHASH_LEN];
    s_coll_get(self, coll, &cur, hash);
    if (!data) {
        why = "the snapshot could not be downloaded";
        goto finish;
    }
    if (!sn || version == 0 || !sn->key_id || !sn->key_id->has_id ||
        !sn->has_mac || sn->mac.len != 32) {
        why = "not a SyncdSnapshot";
        goto finish;
    }
    if (cur != 0) {
        out = S_SKIPPED; //  we have a state of our own: patches go on
        goto finish;
    }
    if (s_keys(self, sn->key_id->id.data, sn->key_id->id.len, &keys) != 0) {
        s_ask_key(self, sn->key_id->id.data, sn->key_id->id.len);
        out = S_NO_KEY;
        goto finish;
    }
    for (; done < n; done++) {
        s_outcome_t r = s_record(self, sn->records[done], WA_APPSTATE_SET,
                                 &dec[done], &why);
        if (r != S_APPLIED) {
            out = r;
            break;
        }
    }
    if (done < n) {
        goto finish;
    }
    uint8_t next[WA_LTHASH_LEN];
    memset(next, 0, sizeof next);
    wa_appstate_mutation_t *ms =
        (wa_appstate_mutation_t *)cm_alloc((n ? n : 1) * sizeof *ms);
    for (size_t i = 0; i < n; i++) {
        ms[i] = dec[i].m;
    }
    //  From nothing: no value is replaced
    int rc = wa_appstate_lthash_apply(next, ms, n, NULL, NULL);
    free(ms);
    uint8_t mac[32];
    if (rc != 0 ||
        wa_appstate_snapshot_mac(&keys, next, version, name, mac) != 0 ||
        !s_memeq(mac, sn->mac.data, 32)) {
        why = "snapshot MAC mismatch (LTHash)";
        goto finish;
    }
    s_commit(self, coll, dec, n, version, next, initial);
    cm_log_info("app-state snapshot applied",
                "session=%s collection=%s version=%" PRIu64 " records=%zu",
                wa_client_name(self), name, version, n);
    out = S_APPLIED;
finish:
    if (out == S_REFUSED) {
        s_refused(self, "app-state snapshot refused", coll, version, why);
    }
    for (size_t i = 0; i < done && i < n; i++) {
        json_decref(dec[i].action);
    }
    wa_crypto_wipe(dec, (n ? n : 1) * sizeof *dec);
    free(dec);
    if (sn) {
        wa__syncd__syncd_snapshot__free_unpacked(sn, NULL);
    }
    return out;
}

//  ---------------------------------------------------------------------
//  Fetching

static void s_next(wa_client_t *self);

//  Where the handling of a fetch answer stands: collections are applied
//  in order, and a snapshot or a patch whose mutations are in an
//  external blob waits for the owner's download (WA_CLIENT_EVENT_
//  APPSTATE_BLOB, wa_client_appstate_blob) before the answer goes on.
struct _s_cursor_t {
    char id[WA_CLIENT_ID_MAX]; //  the blob asked for ("asb-N")
    wa_node_t *sync;           //  the answer's <sync> (owned)
    const wa_node_t *coll;     //  the <collection> being applied
    const wa_node_t *patch;    //  its next <patch> (NULL: the first)
    int stage;                 //  0 not started, 1 snapshot asked, 2 patches
    bool initial;              //  the collection's first sync
    bool stop;                 //  its patches end here (has_more ignored)
};

static void
s_cursor_free(s_cursor_t **c_p)
{
    if (*c_p) {
        wa_node_destroy(&(*c_p)->sync);
        free(*c_p);
        *c_p = NULL;
    }
}

//  Ask the owner for an external blob (ref: an ExternalBlobReference).
//  Returns 0 (the cursor waits), or -1 when ref is not one.
static int
s_ask_blob(wa_client_t *self, int coll, const uint8_t *ref, size_t ref_len,
           const Wa__Syncd__ExternalBlobReference *given)
{
    Wa__Syncd__ExternalBlobReference *r =
        given ? NULL
              : wa__syncd__external_blob_reference__unpack(NULL, ref_len, ref);
    const Wa__Syncd__ExternalBlobReference *e = given ? given : r;
    if (!e || !e->has_media_key || e->media_key.len == 0 || !e->direct_path ||
        !*e->direct_path) {
        if (r) {
            wa__syncd__external_blob_reference__free_unpacked(r, NULL);
        }
        return -1;
    }
    s_cursor_t *c = self->syncd->cursor;
    snprintf(c->id, sizeof c->id, "asb-%" PRIu64, ++self->syncd->next_id);
    wa_client_event_t ev = {.type = WA_CLIENT_EVENT_APPSTATE_BLOB};
    ev.u.blob.id = c->id;
    ev.u.blob.collection = s_names[coll];
    ev.u.blob.media_key = e->media_key.data;
    ev.u.blob.media_key_len = e->media_key.len;
    ev.u.blob.direct_path = e->direct_path;
    ev.u.blob.file_sha256 = e->has_file_sha256 ? e->file_sha256.data : NULL;
    ev.u.blob.file_sha256_len = e->has_file_sha256 ? e->file_sha256.len : 0;
    ev.u.blob.file_enc_sha256 =
        e->has_file_enc_sha256 ? e->file_enc_sha256.data : NULL;
    ev.u.blob.file_enc_sha256_len =
        e->has_file_enc_sha256 ? e->file_enc_sha256.len : 0;
    ev.u.blob.size = e->has_file_size_bytes ? e->file_size_bytes : 0;
    cm_log_info("app-state blob: downloading", "session=%s collection=%s id=%s",
                wa_client_name(self), s_names[coll], c->id);
    self->syncd->waiting = true;
    wa_client_emit(self, &ev);
    if (r) {
        wa__syncd__external_blob_reference__free_unpacked(r, NULL);
    }
    return 0;
}

//  Go on with the cursor's collection; blob is the downloaded blob the
//  cursor waited for (have: one was waited for; NULL: it failed).
//  Returns true when it waits for a blob again.
static bool
s_collection_run(wa_client_t *self, const uint8_t *blob, size_t blob_len,
                 bool have)
{
    s_cursor_t *cur = self->syncd->cursor;
    const wa_node_t *c = cur->coll;
    int coll = s_coll_index(wa_node_attr(c, "name"));
    if (coll < 0) {
        return false;
    }
    unsigned bit = 1u << coll;
    if (cur->stage == 0) {
        if (wa_node_attr_eq(c, "type", "error")) {
            cm_log_warn(
                "app-state fetch failed",
                "session=%s collection=%s "
                "code=%s",
                wa_client_name(self), s_names[coll],
                wa_node_attr_or(wa_node_child(c, "error"), "code", "?"));
            return false;
        }
        uint64_t version = 0;
        uint8_t hash[WA_LTHASH_LEN];
        //  The first sync of a collection brings its past: reported as
        //  initial (the owner stores it without events)
        cur->initial = !s_coll_get(self, coll, &version, hash);
        if (cur->initial) {
            s_coll_put(self, coll, 0, hash);
        }
        cur->stage = 2;
        const wa_node_t *snap = wa_node_child(c, "snapshot");
        size_t len = 0;
        const uint8_t *ref = snap ? wa_node_bytes(snap, &len) : NULL;
        if (snap && version == 0) {
            cur->stage = 1;
            if (ref && len && s_ask_blob(self, coll, ref, len, NULL) == 0) {
                return true;
            }
            cm_log_warn("app-state snapshot skipped: no blob reference",
                        "session=%s collection=%s", wa_client_name(self),
                        s_names[coll]);
            return false;
        }
    } else if (cur->stage == 1) {
        cur->stage = 2;
        s_outcome_t o =
            s_apply_snapshot(self, coll, blob, blob_len, cur->initial);
        if (o == S_NO_KEY || o == S_REFUSED) {
            return false; //  patches after it would not verify
        }
        have = false;
        blob = NULL;
    }
    const wa_node_t *patches = wa_node_child(c, "patches");
    const wa_node_t *holder = patches ? patches : c;
    const wa_node_t *p =
        cur->patch ? cur->patch : wa_node_child_next(holder, "patch", NULL);
    for (; p; p = wa_node_child_next(holder, "patch", p)) {
        size_t len = 0;
        const uint8_t *data = wa_node_bytes(p, &len);
        if (!data || len == 0) {
            continue;
        }
        if (!have) {
            //  Mutations in an external blob: download them first
            Wa__Syncd__SyncdPatch *pp =
                wa__syncd__syncd_patch__unpack(NULL, len, data);
            uint64_t now = 0;
            uint8_t hash[WA_LTHASH_LEN];
            s_coll_get(self, coll, &now, hash);
            bool ext = pp && pp->external_mutations &&
                       !(pp->version && pp->version->has_version &&
                         pp->version->version <= now);
            bool asked = ext && s_ask_blob(self, coll, NULL, 0,
                                           pp->external_mutations) == 0;
            if (pp) {
                wa__syncd__syncd_patch__free_unpacked(pp, NULL);
            }
            if (asked) {
                cur->patch = p;
                return true;
            }
        }
        s_outcome_t o = s_apply_patch(self, coll, data, len, cur->initial,
                                      have ? blob : NULL, blob_len);
        have = false;
        blob = NULL;
        if (o == S_NO_KEY || o == S_REFUSED) {
            //  After a patch we could not use: wait for its key (the
            //  share sets the collection dirty again) or the next
            //  server_sync.
            return false;
        }
    }
    if (wa_node_attr_eq(c, "has_more_patches", "true") &&
        self->syncd->rounds < S_ROUNDS_MAX) {
        self->syncd->dirty |= bit;
    }
    return false;
}

//  Go on with the fetch answer (blob: as s_collection_run) until it
//  waits for a blob or is done.
static void
s_cursor_run(wa_client_t *self, const uint8_t *blob, size_t blob_len, bool have)
{
    s_cursor_t *cur = self->syncd->cursor;
    while (cur->coll) {
        if (s_collection_run(self, blob, blob_len, have)) {
            return;
        }
        blob = NULL;
        have = false;
        cur->coll = wa_node_child_next(cur->sync, "collection", cur->coll);
        cur->patch = NULL;
        cur->stage = 0;
    }
    s_cursor_free(&self->syncd->cursor);
    if (!self->syncd->dirty) {
        self->syncd->rounds = 0;
    }
    s_next(self);
}

int
wa_client_appstate_blob(wa_client_t *self, const char *id, const uint8_t *data,
                        size_t len)
{
    assert(self);
    wa_syncd_state_t *s = self->syncd;
    if (!s || !s->waiting || !s->cursor || !id ||
        strcmp(id, s->cursor->id) != 0) {
        return -1;
    }
    s->waiting = false;
    if (!data) {
        cm_log_warn("app-state blob not downloaded", "session=%s id=%s",
                    wa_client_name(self), id);
    }
    s_cursor_run(self, data, len, true);
    wa_client_rearm(self);
    return 0;
}

static void
s_on_fetch(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_client_t *self = (wa_client_t *)arg;
    if (outcome == WA_IQ_CANCELLED) {
        return; //  the drop hook clears busy
    }
    self->syncd->busy = false;
    if (outcome != WA_IQ_RESULT) {
        cm_log_warn("app-state fetch failed", "session=%s outcome=%d",
                    wa_client_name(self), (int)outcome);
        s_next(self);
        return;
    }
    self->syncd->rounds++;
    const wa_node_t *sync = wa_node_child(reply, "sync");
    s_cursor_t *cur = (s_cursor_t *)cm_alloc(sizeof *cur);
    cur->sync = sync ? wa_node_dup(sync) : wa_node_new("sync");
    cur->coll = wa_node_child_next(cur->sync, "collection", NULL);
    s_cursor_free(&self->syncd->cursor);
    self->syncd->cursor = cur;
    s_cursor_run(self, NULL, 0, false);
}

static wa_node_t *
s_sync_iq(void)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "w:sync:app:state");
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    wa_node_add(iq, "sync");
    return iq;
}

static void
s_fetch(wa_client_t *self)
{
    wa_node_t *iq = s_sync_iq();
    wa_node_t *sync = wa_node_child(iq, "sync");
    unsigned dirty = self->syncd->dirty;
    for (int i = 0; i < S_NCOLL; i++) {
        if (!(dirty & (1u << i))) {
            continue;
        }
        uint64_t version = 0;
        uint8_t hash[WA_LTHASH_LEN];
        s_coll_get(self, i, &version, hash);
        wa_node_t *c = wa_node_add(sync, "collection");
        wa_node_set_attr(c, "name", s_names[i]);
        wa_node_set_attr_int(c, "version", (int64_t)version);
        wa_node_set_attr(c, "return_snapshot", version ? "false" : "true");
    }
    //  What changes while the fetch is out is fetched again after it
    self->syncd->dirty = 0;
    if (wa_client_request(self, &iq, s_on_fetch, self) == 0) {
        self->syncd->busy = true;
    } else {
        self->syncd->dirty = dirty;
        wa_node_destroy(&iq);
    }
}

//  ---------------------------------------------------------------------
//  Uploading

static void
s_push_free(s_push_t **p_p)
{
    if (*p_p) {
        json_decref((*p_p)->actions);
        free(*p_p);
        *p_p = NULL;
    }
}

//  Take the head push off the queue and report its outcome.
static void
s_push_done(wa_client_t *self, bool ok, int error, const char *reason)
{
    s_push_t *p = self->syncd->head;
    if (!p) {
        return;
    }
    self->syncd->head = p->next;
    if (!self->syncd->head) {
        self->syncd->tail = NULL;
    }
    if (!ok) {
        cm_log_warn("app-state push failed",
                    "session=%s id=%s error=%d "
                    "reason=\"%s\"",
                    wa_client_name(self), p->id, error, reason);
    }
    s_pushed(self, p->id, ok, error, reason);
    s_push_free(&p);
}

//  The mutations of the push being uploaded.
typedef struct {
    uint8_t index_mac[32];
    uint8_t *blob;   //  value blob (owned)
    size_t blob_len; //  its length
    json_t *action;  //  as reported (owned)
} s_out_t;

typedef struct {
    wa_client_t *client; //  the client
    int coll;
    uint64_t version;               //  the version the patch makes
    uint8_t hash[WA_LTHASH_LEN];    //  the LTHash it makes
    size_t n;                       //  mutations
    s_out_t out[WA_SYNCD_PUSH_MAX]; //  them
} s_built_t;

static void
s_built_free(s_built_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->out[i].blob);
        json_decref(b->out[i].action);
    }
    free(b);
}

static void s_on_push(void *arg, const wa_node_t *reply,
                      wa_iq_outcome_t outcome);

//  Encode `actions` into one patch of collection `coll` that makes
//  `version` on top of LTHash `hash` (updated in place); previous value
//  MACs from `lookup`. Fills b->out (index MAC, value blob, reported
//  action) and returns the packed SyncdPatch (caller frees), or NULL.
static uint8_t *
s_encode(const wa_appstate_keys_t *keys, const uint8_t *kid, size_t kid_len,
         int coll, uint64_t version, uint8_t *hash,
         wa_appstate_lookup_fn *lookup, void *lookup_arg, const json_t *actions,
         int64_t now_ms, s_built_t *b, size_t *len_p)
{
    size_t i;
    json_t *action;
    Wa__Syncd__KeyId key_id = WA__SYNCD__KEY_ID__INIT;
    key_id.has_id = 1;
    key_id.id.data = (uint8_t *)kid;
    key_id.id.len = kid_len;
    bool failed = false;
    json_array_foreach(actions, i, action)
    {
        if (b->n >= WA_SYNCD_PUSH_MAX) {
            failed = true;
            break;
        }
        json_t *index = json_object_get(action, "index");
        const s_action_t *a =
            s_action(json_string_value(json_array_get(index, 0)));
        if (!a) {
            failed = true;
            break;
        }
        bool remove = cm_streq(s_jstr(action, "op"), "remove");
        json_t *ts = json_object_get(action, "timestamp");
        int64_t ts_ms = json_is_integer(ts) && json_integer_value(ts) > 0
                            ? json_integer_value(ts)
                            : now_ms;
        json_t *value = json_object_get(action, "value");
        s_value_t v;
        s_value_fill(&v, a, value, ts_ms);
        char *index_text = json_dumps(index, JSON_COMPACT);
        Wa__Syncd__SyncActionData ad = WA__SYNCD__SYNC_ACTION_DATA__INIT;
        ad.has_index = 1;
        ad.index.data = (uint8_t *)index_text;
        ad.index.len = strlen(index_text);
        ad.value = &v.v;
        ad.has_padding = 1;
        ad.padding.data = NULL;
        ad.padding.len = 0;
        ad.has_version = 1;
        ad.version = a->version;
        size_t plen = wa__syncd__sync_action_data__get_packed_size(&ad);
        uint8_t *plain = (uint8_t *)cm_alloc(plen ? plen : 1);
        wa__syncd__sync_action_data__pack(&ad, plain);
        s_out_t *o = &b->out[b->n];
        o->blob = (uint8_t *)cm_alloc(WA_APPSTATE_VALUE_LEN(plen));
        wa_appstate_op_t op = remove ? WA_APPSTATE_REMOVE : WA_APPSTATE_SET;
        if (wa_appstate_value_encrypt(keys, op, kid, kid_len, plain, plen,
                                      o->blob, &o->blob_len) != 0 ||
            wa_appstate_index_mac(keys, index_text, strlen(index_text),
                                  o->index_mac) != 0) {
            failed = true;
        }
        //  The action as reported once applied
        json_t *rep = json_object();
        json_object_set(rep, "index", index);
        json_object_set_new(rep, "op", json_string(remove ? "remove" : "set"));
        json_object_set_new(rep, "timestamp", json_integer(ts_ms));
        json_object_set_new(rep, "version", json_integer(a->version));
        json_object_set_new(rep, "value", s_value_json(&v.v));
        o->action = rep;
        b->n++;
        free(plain);
        free(index_text);
        if (failed) {
            break;
        }
    }
    if (failed || b->n == 0) {
        return NULL;
    }
    //  LTHash and MACs
    wa_appstate_mutation_t ms[WA_SYNCD_PUSH_MAX];
    uint8_t value_macs[WA_SYNCD_PUSH_MAX * 32];
    for (size_t k = 0; k < b->n; k++) {
        const uint8_t *vmac = b->out[k].blob + b->out[k].blob_len - 32;
        ms[k].op = cm_streq(s_jstr(b->out[k].action, "op"), "remove")
                       ? WA_APPSTATE_REMOVE
                       : WA_APPSTATE_SET;
        ms[k].index_mac = b->out[k].index_mac;
        ms[k].value_mac = vmac;
        memcpy(value_macs + 32 * k, vmac, 32);
    }
    uint8_t snap[32], pmac[32];
    if (wa_appstate_lthash_apply(hash, ms, b->n, lookup, lookup_arg) != 0 ||
        wa_appstate_snapshot_mac(keys, hash, version, s_names[coll], snap) !=
            0 ||
        wa_appstate_patch_mac(keys, snap, value_macs, b->n, version,
                              s_names[coll], pmac) != 0) {
        return NULL;
    }
    Wa__Syncd__SyncdIndex idx[WA_SYNCD_PUSH_MAX];
    Wa__Syncd__SyncdValue val[WA_SYNCD_PUSH_MAX];
    Wa__Syncd__SyncdRecord rec[WA_SYNCD_PUSH_MAX];
    Wa__Syncd__SyncdMutation mut[WA_SYNCD_PUSH_MAX];
    Wa__Syncd__SyncdMutation *muts[WA_SYNCD_PUSH_MAX];
    for (size_t k = 0; k < b->n; k++) {
        idx[k] = (Wa__Syncd__SyncdIndex)WA__SYNCD__SYNCD_INDEX__INIT;
        idx[k].has_blob = 1;
        idx[k].blob.data = b->out[k].index_mac;
        idx[k].blob.len = 32;
        val[k] = (Wa__Syncd__SyncdValue)WA__SYNCD__SYNCD_VALUE__INIT;
        val[k].has_blob = 1;
        val[k].blob.data = b->out[k].blob;
        val[k].blob.len = b->out[k].blob_len;
        rec[k] = (Wa__Syncd__SyncdRecord)WA__SYNCD__SYNCD_RECORD__INIT;
        rec[k].index = &idx[k];
        rec[k].value = &val[k];
        rec[k].key_id = &key_id;
        mut[k] = (Wa__Syncd__SyncdMutation)WA__SYNCD__SYNCD_MUTATION__INIT;
        mut[k].has_operation = 1;
        mut[k].operation = ms[k].op == WA_APPSTATE_REMOVE
                               ? WA__SYNCD__SYNCD_MUTATION__OPERATION__REMOVE
                               : WA__SYNCD__SYNCD_MUTATION__OPERATION__SET;
        mut[k].record = &rec[k];
        muts[k] = &mut[k];
    }
    Wa__Syncd__SyncdVersion ver = WA__SYNCD__SYNCD_VERSION__INIT;
    ver.has_version = 1;
    ver.version = version;
    Wa__Syncd__SyncdPatch patch = WA__SYNCD__SYNCD_PATCH__INIT;
    patch.version = &ver;
    patch.n_mutations = b->n;
    patch.mutations = muts;
    patch.has_snapshot_mac = 1;
    patch.snapshot_mac.data = snap;
    patch.snapshot_mac.len = 32;
    patch.has_patch_mac = 1;
    patch.patch_mac.data = pmac;
    patch.patch_mac.len = 32;
    patch.key_id = &key_id;
    size_t len = wa__syncd__syncd_patch__get_packed_size(&patch);
    uint8_t *packed = (uint8_t *)cm_alloc(len);
    wa__syncd__syncd_patch__pack(&patch, packed);
    *len_p = len;
    return packed;
}

int
wa_syncd_encode(const uint8_t *key_id, size_t key_id_len,
                const uint8_t key_data[32], const char *collection,
                uint64_t version, uint8_t hash[WA_LTHASH_LEN],
                wa_appstate_lookup_fn *lookup, void *lookup_arg,
                const json_t *actions, int64_t now_ms, uint8_t **out_p,
                size_t *len_p, json_t **reported_p)
{
    int coll = s_coll_index(collection);
    wa_appstate_keys_t keys;
    if (coll < 0 || !key_id || key_id_len == 0 || key_id_len > S_KEY_ID_MAX ||
        !json_is_array(actions) ||
        json_array_size(actions) > WA_SYNCD_PUSH_MAX ||
        wa_appstate_keys(key_data, 32, &keys) != 0) {
        return -1;
    }
    s_built_t *b = (s_built_t *)cm_alloc(sizeof *b);
    size_t len = 0;
    uint8_t *packed = s_encode(&keys, key_id, key_id_len, coll, version, hash,
                               lookup, lookup_arg, actions, now_ms, b, &len);
    wa_crypto_wipe(&keys, sizeof keys);
    if (packed && reported_p) {
        *reported_p = json_array();
        for (size_t k = 0; k < b->n; k++) {
            json_array_append(*reported_p, b->out[k].action);
        }
    }
    s_built_free(b);
    if (!packed) {
        return -1;
    }
    *out_p = packed;
    *len_p = len;
    return 0;
}

static void *
s_str_dup(const void *item)
{
    return cm_strdup((const char *)item);
}

static void
s_str_free(void **item)
{
    free(*item);
    *item = NULL;
}

int
wa_syncd_snapshot(const uint8_t *key_id, size_t key_id_len,
                  const uint8_t key_data[32], const char *collection,
                  uint64_t version, const uint8_t *const *patches,
                  const size_t *lens, size_t n, uint8_t **out_p, size_t *len_p)
{
    wa_appstate_keys_t keys;
    if (s_coll_index(collection) < 0 || !key_id || key_id_len == 0 ||
        key_id_len > S_KEY_ID_MAX || (n && (!patches || !lens)) ||
        wa_appstate_keys(key_data, 32, &keys) != 0) {
        return -1;
    }
    Wa__Syncd__SyncdPatch **ps =
        (Wa__Syncd__SyncdPatch **)cm_alloc((n ? n : 1) * sizeof *ps);
    //  index MAC (hex) -> the record alive (borrowed from ps), in the
    //  order first set
    zhashx_t *alive = zhashx_new();
    zlistx_t *order = zlistx_new();
    zlistx_set_duplicator(order, s_str_dup);
    zlistx_set_destructor(order, s_str_free);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        ps[i] = wa__syncd__syncd_patch__unpack(NULL, lens[i], patches[i]);
        if (!ps[i]) {
            rc = -1;
            break;
        }
        for (size_t k = 0; k < ps[i]->n_mutations; k++) {
            Wa__Syncd__SyncdMutation *m = ps[i]->mutations[k];
            Wa__Syncd__SyncdRecord *r = m->record;
            if (!r || !r->index || r->index->blob.len != 32 || !r->value ||
                r->value->blob.len < 32) {
                rc = -1;
                break;
            }
            char hex[2 * WA_APPSTATE_MAC_LEN + 1];
            cm_hex(r->index->blob.data, WA_APPSTATE_MAC_LEN, hex);
            if (m->has_operation &&
                m->operation == WA__SYNCD__SYNCD_MUTATION__OPERATION__REMOVE) {
                zhashx_delete(alive, hex);
            } else {
                if (!zhashx_lookup(alive, hex)) {
                    zlistx_add_end(order, hex);
                }
                zhashx_update(alive, hex, r);
            }
        }
    }
    size_t nrec = 0;
    Wa__Syncd__SyncdRecord **recs = (Wa__Syncd__SyncdRecord **)cm_alloc(
        (zhashx_size(alive) ? zhashx_size(alive) : 1) * sizeof *recs);
    wa_appstate_mutation_t *ms = (wa_appstate_mutation_t *)cm_alloc(
        (zhashx_size(alive) ? zhashx_size(alive) : 1) * sizeof *ms);
    for (const char *hex = (const char *)zlistx_first(order); hex && rc == 0;
         hex = (const char *)zlistx_next(order)) {
        Wa__Syncd__SyncdRecord *r =
            (Wa__Syncd__SyncdRecord *)zhashx_lookup(alive, hex);
        if (!r || nrec == zhashx_size(alive)) {
            continue; //  removed, or set again later (listed once)
        }
        bool dup = false;
        for (size_t j = 0; j < nrec && !dup; j++) {
            dup = recs[j] == r;
        }
        if (dup) {
            continue;
        }
        recs[nrec] = r;
        ms[nrec].op = WA_APPSTATE_SET;
        ms[nrec].index_mac = r->index->blob.data;
        ms[nrec].value_mac = r->value->blob.data + r->value->blob.len - 32;
        nrec++;
    }
    uint8_t hash[WA_LTHASH_LEN], mac[32];
    memset(hash, 0, sizeof hash);
    if (rc == 0 && (wa_appstate_lthash_apply(hash, ms, nrec, NULL, NULL) != 0 ||
                    wa_appstate_snapshot_mac(&keys, hash, version, collection,
                                             mac) != 0)) {
        rc = -1;
    }
    if (rc == 0) {
        Wa__Syncd__SyncdVersion v = WA__SYNCD__SYNCD_VERSION__INIT;
        v.has_version = 1;
        v.version = version;
        Wa__Syncd__KeyId kid = WA__SYNCD__KEY_ID__INIT;
        kid.has_id = 1;
        kid.id.data = (uint8_t *)key_id;
        kid.id.len = key_id_len;
        Wa__Syncd__SyncdSnapshot sn = WA__SYNCD__SYNCD_SNAPSHOT__INIT;
        sn.version = &v;
        sn.n_records = nrec;
        sn.records = recs;
        sn.has_mac = 1;
        sn.mac.data = mac;
        sn.mac.len = 32;
        sn.key_id = &kid;
        *len_p = wa__syncd__syncd_snapshot__get_packed_size(&sn);
        *out_p = (uint8_t *)cm_alloc(*len_p ? *len_p : 1);
        wa__syncd__syncd_snapshot__pack(&sn, *out_p);
    }
    free(ms);
    free(recs);
    zlistx_destroy(&order);
    zhashx_destroy(&alive);
    for (size_t i = 0; i < n; i++) {
        if (ps[i]) {
            wa__syncd__syncd_patch__free_unpacked(ps[i], NULL);
        }
    }
    free(ps);
    wa_crypto_wipe(&keys, sizeof keys);
    return rc;
}

//  Encode the head push on the current version and upload it.
static void
s_push(wa_client_t *self)
{
    s_push_t *p = self->syncd->head;
    uint8_t kid[S_KEY_ID_MAX];
    size_t kid_len = s_latest(self, kid);
    wa_appstate_keys_t keys;
    if (!kid_len || s_keys(self, kid, kid_len, &keys) != 0) {
        s_push_done(self, false, 0, "no app-state key from the phone yet");
        return;
    }
    s_built_t *b = (s_built_t *)cm_alloc(sizeof *b);
    b->client = self;
    b->coll = p->coll;
    uint64_t cur = 0;
    s_coll_get(self, p->coll, &cur, b->hash);
    b->version = cur + 1;
    int64_t now_ms = wa_client_wall_s() * 1000;
    s_lookup_t lk = {self, p->coll};
    size_t len = 0;
    uint8_t *packed =
        s_encode(&keys, kid, kid_len, p->coll, b->version, b->hash,
                 s_mac_lookup, &lk, p->actions, now_ms, b, &len);
    if (!packed) {
        s_built_free(b);
        s_push_done(self, false, 0, "could not encode the patch");
        return;
    }

    wa_node_t *iq = s_sync_iq();
    wa_node_t *c = wa_node_add(wa_node_child(iq, "sync"), "collection");
    wa_node_set_attr(c, "name", s_names[p->coll]);
    wa_node_set_attr_int(c, "version", (int64_t)cur);
    wa_node_set_attr(c, "return_snapshot", "false");
    wa_node_set_bytes(wa_node_add(c, "patch"), packed, len);
    free(packed);
    p->tries++;
    //  The IQ waiter owns b until it is called
    if (wa_client_request(self, &iq, s_on_push, b) == 0) {
        self->syncd->busy = true;
    } else {
        wa_node_destroy(&iq);
        s_built_free(b);
    }
}

static void
s_on_push(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_built_t *b = (s_built_t *)arg;
    if (outcome == WA_IQ_CANCELLED) {
        //  The push stays queued for the next connection (or goes with
        //  the client)
        s_built_free(b);
        return;
    }
    wa_client_t *self = b->client;
    wa_syncd_state_t *s = self->syncd;
    s->busy = false;
    s_push_t *p = s->head;
    const char *name = s_names[b->coll];
    const wa_node_t *c = NULL;
    if (outcome == WA_IQ_RESULT) {
        const wa_node_t *sync = wa_node_child(reply, "sync");
        for (c = wa_node_child_next(sync, "collection", NULL); c;
             c = wa_node_child_next(sync, "collection", c)) {
            if (wa_node_attr_eq(c, "name", name)) {
                break;
            }
        }
    }
    if (!p) {
        s_built_free(b);
        s_next(self);
        return;
    }
    if (outcome == WA_IQ_TIMEOUT) {
        s_push_done(self, false, 504, "WhatsApp did not answer the upload");
    } else if (outcome == WA_IQ_ERROR || !c) {
        int code = outcome == WA_IQ_ERROR ? wa_iq_error_code(reply) : 500;
        s_push_done(self, false, code, "WhatsApp refused the upload");
    } else if (wa_node_attr_eq(c, "type", "error")) {
        const wa_node_t *e = wa_node_child(c, "error");
        int code = (int)wa_node_attr_int_or(e, "code", 500);
        if (code == 409 && p->tries < S_PUSH_TRIES) {
            //  Someone else moved the collection on: fetch, then build
            //  the patch again on top of it
            cm_log_info("app-state push conflict, rebasing",
                        "session=%s collection=%s try=%d", wa_client_name(self),
                        name, p->tries);
            s->dirty |= 1u << b->coll;
        } else {
            s_push_done(self, false, code,
                        code == 409 ? "the collection kept changing"
                                    : "WhatsApp refused the patch");
        }
    } else {
        //  Taken: our state moves on as the other devices' will
        for (size_t k = 0; k < b->n; k++) {
            char key[S_MAC_KEY_MAX];
            s_mac_key(key, b->coll, b->out[k].index_mac);
            if (cm_streq(s_jstr(b->out[k].action, "op"), "remove")) {
                wa_sigstore_remove(self->store, "appstate_mac", key);
            } else {
                wa_sigstore_put(self->store, "appstate_mac", key,
                                b->out[k].blob + b->out[k].blob_len - 32, 32);
            }
        }
        s_coll_put(self, b->coll, b->version, b->hash);
        int64_t server = wa_node_attr_int_or(c, "version", -1);
        if (server >= 0 && (uint64_t)server != b->version) {
            s->dirty |= 1u << b->coll;
        }
        for (size_t k = 0; k < b->n; k++) {
            s_emit(self, b->coll, b->out[k].action, true, false);
        }
        s_push_done(self, true, 0, NULL);
    }
    s_built_free(b);
    s_next(self);
}

//  ---------------------------------------------------------------------
//  The loop

static void
s_next(wa_client_t *self)
{
    wa_syncd_state_t *s = self->syncd;
    if (s->busy || s->waiting || self->conn != WA_CLIENT_CONN_ONLINE) {
        return;
    }
    if (!s->synced_login) {
        s->synced_login = true;
        if (wa_client_appstate_ready(self)) {
            s->dirty = S_ALL;
        }
    }
    if (s->dirty) {
        s_fetch(self);
    } else if (s->head) {
        s_push(self);
    }
}

static int64_t
s_deadline(wa_client_t *self, int64_t now)
{
    wa_syncd_state_t *s = self->syncd;
    if (!s || s->busy || s->waiting || self->conn != WA_CLIENT_CONN_ONLINE) {
        return -1;
    }
    if ((!s->synced_login && wa_client_appstate_ready(self)) || s->dirty ||
        s->head) {
        return now;
    }
    return -1;
}

static void
s_wake(wa_client_t *self, int64_t now)
{
    (void)now;
    s_next(self);
}

static int
s_on_server_sync(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    unsigned bits = 0;
    for (const wa_node_t *c = wa_node_child_next(node, "collection", NULL); c;
         c = wa_node_child_next(node, "collection", c)) {
        int i = s_coll_index(wa_node_attr(c, "name"));
        if (i >= 0) {
            bits |= 1u << i;
        }
    }
    self->syncd->dirty |= bits ? bits : S_ALL;
    self->syncd->rounds = 0;
    return 0;
}

int
wa_client_appstate_push(wa_client_t *self, const json_t *actions,
                        char id[WA_CLIENT_ID_MAX])
{
    assert(self);
    if (!self->paired || !json_is_array(actions) ||
        json_array_size(actions) == 0 ||
        json_array_size(actions) > WA_SYNCD_PUSH_MAX) {
        return -1;
    }
    int coll = -1;
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        const char *reason = NULL;
        int c = s_coll_index(wa_syncd_action_collection(a, &reason));
        if (c < 0 || (coll >= 0 && c != coll)) {
            cm_log_warn("app-state push refused", "session=%s reason=\"%s\"",
                        wa_client_name(self),
                        reason ? reason : "actions of several collections");
            return -1;
        }
        coll = c;
    }
    s_push_t *p = (s_push_t *)cm_alloc(sizeof *p);
    snprintf(p->id, sizeof p->id, "as-%" PRIu64, ++self->syncd->next_id);
    p->coll = coll;
    p->actions = json_deep_copy(actions);
    if (self->syncd->tail) {
        self->syncd->tail->next = p;
    } else {
        self->syncd->head = p;
    }
    self->syncd->tail = p;
    snprintf(id, WA_CLIENT_ID_MAX, "%s", p->id);
    wa_client_rearm(self);
    return 0;
}

static void
s_start(wa_client_t *self)
{
    self->syncd = (wa_syncd_state_t *)cm_alloc(sizeof *self->syncd);
    self->syncd->asked = zhashx_new();
}

static void
s_drop(wa_client_t *self)
{
    self->syncd->busy = false;
    self->syncd->synced_login = false;
    self->syncd->rounds = 0;
}

static void
s_forget(wa_client_t *self)
{
    while (self->syncd->head) {
        s_push_done(self, false, 0, "the session logged out");
    }
    self->syncd->dirty = 0;
    self->syncd->waiting = false;
    s_cursor_free(&self->syncd->cursor);
    zhashx_purge(self->syncd->asked);
}

static void
s_stop(wa_client_t *self)
{
    s_push_t *p = self->syncd->head;
    while (p) {
        s_push_t *next = p->next;
        s_push_free(&p);
        p = next;
    }
    zhashx_destroy(&self->syncd->asked);
    s_cursor_free(&self->syncd->cursor);
    free(self->syncd);
    self->syncd = NULL;
}

static const wa_router_route_t s_routes[] = {
    {"notification", "type", "server_sync", s_on_server_sync},
    {NULL, NULL, NULL, NULL}};

const wa_client_cap_t wa_syncd_cap = {.name = "syncd",
                                      .routes = s_routes,
                                      .start = s_start,
                                      .stop = s_stop,
                                      .drop = s_drop,
                                      .forget = s_forget,
                                      .deadline = s_deadline,
                                      .wake = s_wake};

//  ---------------------------------------------------------------------
//  Self test

//  A serialised Message sharing key `id` (6 bytes) with data `key`.
static size_t
t_share(uint8_t *out, const uint8_t *id, const uint8_t *key, int64_t ts)
{
    Wa__Syncd__AppStateSyncKeyId kid = WA__SYNCD__APP_STATE_SYNC_KEY_ID__INIT;
    kid.has_key_id = 1;
    kid.key_id.data = (uint8_t *)id;
    kid.key_id.len = 6;
    Wa__Syncd__AppStateSyncKeyData kd =
        WA__SYNCD__APP_STATE_SYNC_KEY_DATA__INIT;
    kd.has_key_data = 1;
    kd.key_data.data = (uint8_t *)key;
    kd.key_data.len = 32;
    kd.has_timestamp = 1;
    kd.timestamp = ts;
    Wa__Syncd__AppStateSyncKey k = WA__SYNCD__APP_STATE_SYNC_KEY__INIT;
    k.key_id = &kid;
    k.key_data = &kd;
    Wa__Syncd__AppStateSyncKey *keys[1] = {&k};
    Wa__Syncd__AppStateSyncKeyShare share =
        WA__SYNCD__APP_STATE_SYNC_KEY_SHARE__INIT;
    share.n_keys = 1;
    share.keys = keys;
    uint8_t inner[256];
    size_t inner_len = wa__syncd__app_state_sync_key_share__pack(&share, inner);
    Wa__E2e__ProtocolMessage pm = WA__E2E__PROTOCOL_MESSAGE__INIT;
    pm.has_type = 1;
    pm.type = WA__E2E__PROTOCOL_MESSAGE__TYPE__APP_STATE_SYNC_KEY_SHARE;
    pm.has_app_state_sync_key_share = 1;
    pm.app_state_sync_key_share.data = inner;
    pm.app_state_sync_key_share.len = inner_len;
    Wa__E2e__Message msg = WA__E2E__MESSAGE__INIT;
    msg.protocol_message = &pm;
    return wa__e2e__message__pack(&msg, out);
}

//  Wake the kit's client and take the IQ it sent.
static wa_node_t *
t_iq(wa_client_kit_t *kit)
{
    wa_client_wake(kit->client);
    return wa_client_kit_take(kit, "iq");
}

//  Answer iq with <sync> holding `c` (taken).
static void
t_answer(wa_client_kit_t *kit, const wa_node_t *iq, wa_node_t *c)
{
    wa_node_t *r = wa_node_new("iq");
    wa_node_set_attr(r, "id", wa_node_attr(iq, "id"));
    wa_node_set_attr(r, "type", "result");
    wa_node_set_attr(r, "from", "s.whatsapp.net");
    wa_node_t *sync = wa_node_add(r, "sync");
    if (c) {
        wa_node_append(sync, &c);
    }
    assert(wa_client_handle(kit->client, r) == 0);
    wa_node_destroy(&r);
}

//  A fetch answer for `name` carrying `patch` (or none).
static wa_node_t *
t_patches(const char *name, int64_t version, const uint8_t *patch, size_t len)
{
    wa_node_t *c = wa_node_new("collection");
    wa_node_set_attr(c, "name", name);
    wa_node_set_attr_int(c, "version", version);
    if (patch) {
        wa_node_set_bytes(wa_node_add(wa_node_add(c, "patches"), "patch"),
                          patch, len);
    }
    return c;
}

void
wa_syncd_test(bool verbose)
{
    printf(" * wa_syncd: ");
    (void)verbose;
    assert(wa_syncd_label_color("#FF9485") == 0);
    assert(wa_syncd_label_color("#9368cf") == 19);
    assert(wa_syncd_label_color("#000000") == -1);
    assert(!wa_syncd_label_hex(20) && !wa_syncd_label_hex(-1));
    const uint8_t key_id[6] = {0, 0, 0, 0, 0x12, 0x34};
    uint8_t key[32];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(i * 7 + 1);
    }
    uint8_t msg[512];
    size_t msg_len = t_share(msg, key_id, key, 1700000000000);

    //  Two devices of one account: A uploads, B fetches
    wa_client_kit_t *a = wa_client_kit_new("15550000001");
    wa_client_kit_t *b = wa_client_kit_new("15550000001");
    assert(!wa_client_appstate_ready(a->client));
    char id[WA_CLIENT_ID_MAX];
    const char *reason = NULL;

    //  Bad actions are refused before anything goes out
    json_t *bad = json_loads("[{\"index\":[\"nope\",\"x\"]}]", 0, NULL);
    assert(wa_client_appstate_push(a->client, bad, id) == -1);
    assert(!wa_syncd_action_collection(json_array_get(bad, 0), &reason));
    assert(reason && strstr(reason, "no action"));
    json_decref(bad);
    bad = json_loads("[{\"index\":[\"archive\",\"1@s.whatsapp.net\"]},"
                     "{\"index\":[\"mute\",\"1@s.whatsapp.net\"]}]",
                     0, NULL);
    assert(wa_client_appstate_push(a->client, bad, id) == -1);
    json_decref(bad);

    //  A push without a key fails with an event
    json_t *archive = json_loads(
        "[{\"index\":[\"archive\",\"15550000002@s.whatsapp.net\"],"
        "\"value\":{\"archived\":true},\"timestamp\":1700000000123}]",
        0, NULL);
    assert(wa_client_appstate_push(a->client, archive, id) == 0);
    wa_client_wake(a->client);
    char *ev = wa_client_kit_event(a);
    assert(ev && strcmp(ev, "pushed as-1 fail 0") == 0);
    free(ev);

    //  The key share: both fetch every collection from version 0
    assert(wa_syncd_on_peer(a->client, msg, msg_len) == 0);
    assert(wa_syncd_on_peer(b->client, msg, msg_len) == 0);
    assert(wa_client_appstate_ready(a->client));
    wa_node_t *iq = t_iq(a);
    assert(iq && wa_node_attr_eq(iq, "xmlns", "w:sync:app:state"));
    const wa_node_t *sync = wa_node_child(iq, "sync");
    size_t n = 0;
    for (const wa_node_t *c = wa_node_child_next(sync, "collection", NULL); c;
         c = wa_node_child_next(sync, "collection", c)) {
        assert(wa_node_attr_eq(c, "version", "0"));
        assert(wa_node_attr_eq(c, "return_snapshot", "true"));
        n++;
    }
    assert(n == S_NCOLL);
    t_answer(a, iq, NULL);
    wa_node_destroy(&iq);

    //  A pushes the archive: one patch on version 0
    assert(wa_client_appstate_push(a->client, archive, id) == 0);
    iq = t_iq(a);
    assert(iq);
    wa_node_t *c = wa_node_find(iq, "sync/collection");
    assert(c && wa_node_attr_eq(c, "name", "regular_low"));
    assert(wa_node_attr_eq(c, "version", "0"));
    size_t plen = 0;
    const uint8_t *pbytes = wa_node_bytes(wa_node_child(c, "patch"), &plen);
    assert(pbytes && plen > 100);
    uint8_t *patch = (uint8_t *)cm_alloc(plen);
    size_t plen1 = plen;
    memcpy(patch, pbytes, plen);
    wa_node_t *ok = wa_node_new("collection");
    wa_node_set_attr(ok, "name", "regular_low");
    wa_node_set_attr(ok, "version", "1");
    t_answer(a, iq, ok);
    wa_node_destroy(&iq);
    const char *want =
        "appstate regular_low me {\"index\":[\"archive\",\"15550000002@s."
        "whatsapp.net\"],\"op\":\"set\",\"timestamp\":1700000000123,"
        "\"value\":{\"archived\":true},\"version\":3}";
    wa_client_kit_expect(a, want);
    char *pushed = cm_sprintf("pushed %s ok", id);
    wa_client_kit_expect(a, pushed);
    free(pushed);
    uint64_t va = 0;
    uint8_t ha[WA_LTHASH_LEN];
    s_coll_get(a->client, 4, &va, ha);
    assert(va == 1);

    //  B fetches it: verified, applied, reported
    iq = t_iq(b);
    assert(iq);
    t_answer(b, iq, t_patches("regular_low", 1, patch, plen));
    wa_node_destroy(&iq);
    char *peer = cm_sprintf("appstate regular_low peer %s",
                            want + strlen("appstate regular_low me "));
    wa_client_kit_expect(b, peer);
    free(peer);
    uint64_t vb = 0;
    uint8_t hb[WA_LTHASH_LEN];
    s_coll_get(b->client, 4, &vb, hb);
    assert(vb == 1 && memcmp(ha, hb, WA_LTHASH_LEN) == 0);
    //  The same patch again is skipped (already applied)
    wa_client_kit_handle(b, "<notification type=\"server_sync\" id=\"n1\" "
                            "from=\"s.whatsapp.net\"><collection "
                            "name=\"regular_low\" version=\"1\"/>"
                            "</notification>");
    iq = t_iq(b);
    assert(iq);
    c = wa_node_find(iq, "sync/collection");
    assert(c && wa_node_attr_eq(c, "version", "1"));
    assert(wa_node_attr_eq(c, "return_snapshot", "false"));
    t_answer(b, iq, t_patches("regular_low", 1, patch, plen));
    wa_node_destroy(&iq);
    assert(!wa_client_kit_event(b));

    //  A second push from A (unarchive) conflicts once on B's side:
    //  B pushes pin on version 1, the server says 409 with version 2,
    //  B fetches A's patch and pushes again on version 2
    json_t *unarchive = json_loads(
        "[{\"index\":[\"archive\",\"15550000002@s.whatsapp.net\"],"
        "\"value\":{\"archived\":false},\"timestamp\":1700000000200}]",
        0, NULL);
    assert(wa_client_appstate_push(a->client, unarchive, id) == 0);
    iq = t_iq(a);
    c = wa_node_find(iq, "sync/collection");
    pbytes = wa_node_bytes(wa_node_child(c, "patch"), &plen);
    uint8_t *patch2 = (uint8_t *)cm_alloc(plen);
    size_t plen2 = plen;
    memcpy(patch2, pbytes, plen);
    ok = wa_node_new("collection");
    wa_node_set_attr(ok, "name", "regular_low");
    wa_node_set_attr(ok, "version", "2");
    t_answer(a, iq, ok);
    wa_node_destroy(&iq);
    free(wa_client_kit_event(a));
    free(wa_client_kit_event(a));

    json_t *pin =
        json_loads("[{\"index\":[\"pin_v1\",\"15550000003@s.whatsapp.net\"],"
                   "\"value\":{\"pinned\":true},\"timestamp\":1700000000300}]",
                   0, NULL);
    assert(wa_client_appstate_push(b->client, pin, id) == 0);
    iq = t_iq(b);
    c = wa_node_find(iq, "sync/collection");
    assert(wa_node_attr_eq(c, "version", "1"));
    wa_node_t *conflict = wa_node_new("collection");
    wa_node_set_attr(conflict, "name", "regular_low");
    wa_node_set_attr(conflict, "type", "error");
    wa_node_set_attr(conflict, "version", "2");
    wa_node_t *err = wa_node_add(conflict, "error");
    wa_node_set_attr(err, "code", "409");
    wa_node_set_attr(err, "text", "conflict");
    t_answer(b, iq, conflict);
    wa_node_destroy(&iq);
    assert(!wa_client_kit_event(b));
    iq = t_iq(b); //  the fetch
    c = wa_node_find(iq, "sync/collection");
    assert(c && !wa_node_child(c, "patch"));
    t_answer(b, iq, t_patches("regular_low", 2, patch2, plen2));
    wa_node_destroy(&iq);
    ev = wa_client_kit_event(b);
    assert(ev && strstr(ev, "peer") && strstr(ev, "\"archived\":false"));
    free(ev);
    iq = t_iq(b); //  the push again, on version 2
    c = wa_node_find(iq, "sync/collection");
    assert(c && wa_node_attr_eq(c, "version", "2") &&
           wa_node_child(c, "patch"));
    pbytes = wa_node_bytes(wa_node_child(c, "patch"), &plen);
    uint8_t *patch3 = (uint8_t *)cm_alloc(plen);
    size_t plen3 = plen;
    memcpy(patch3, pbytes, plen);
    ok = wa_node_new("collection");
    wa_node_set_attr(ok, "name", "regular_low");
    wa_node_set_attr(ok, "version", "3");
    t_answer(b, iq, ok);
    wa_node_destroy(&iq);
    ev = wa_client_kit_event(b);
    assert(ev && strstr(ev, "appstate regular_low me") &&
           strstr(ev, "\"pinned\":true"));
    free(ev);
    ev = wa_client_kit_event(b);
    assert(ev && strncmp(ev, "pushed", 6) == 0 && strstr(ev, " ok"));
    free(ev);

    //  A tampered patch is refused whole; the state stays; the good
    //  patch is applied after it
    uint8_t *bad_patch = (uint8_t *)cm_alloc(plen3);
    memcpy(bad_patch, patch3, plen3);
    bad_patch[plen3 / 2] ^= 0x01;
    wa_client_kit_handle(a, "<notification type=\"server_sync\" id=\"n2\" "
                            "from=\"s.whatsapp.net\"/>");
    iq = t_iq(a);
    uint64_t refused = a->client->syncd->refused;
    t_answer(a, iq, t_patches("regular_low", 3, bad_patch, plen3));
    wa_node_destroy(&iq);
    assert(a->client->syncd->refused == refused + 1);
    assert(!wa_client_kit_event(a));
    s_coll_get(a->client, 4, &va, ha);
    assert(va == 2);
    wa_client_kit_handle(a, "<notification type=\"server_sync\" id=\"n3\" "
                            "from=\"s.whatsapp.net\"/>");
    iq = t_iq(a);
    t_answer(a, iq, t_patches("regular_low", 3, patch3, plen3));
    wa_node_destroy(&iq);
    ev = wa_client_kit_event(a);
    assert(ev && strstr(ev, "peer") && strstr(ev, "pin_v1"));
    free(ev);
    s_coll_get(a->client, 4, &va, ha);
    s_coll_get(b->client, 4, &vb, hb);
    assert(va == 3 && vb == 3 && memcmp(ha, hb, WA_LTHASH_LEN) == 0);

    //  The NCT salt (["nct_salt_sync"], regular_high): A's phone sets
    //  it, B stores it apart (never in the action) and clears it on a
    //  remove
    json_t *salt = json_loads(
        "[{\"index\":[\"nct_salt_sync\"],\"value\":{\"salt\":"
        "\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0\"},\"timestamp\":1700000000400},"
        "{\"index\":[\"nct_salt_sync\"],\"op\":\"remove\","
        "\"timestamp\":1700000000500}]",
        0, NULL);
    for (int step = 0; step < 2; step++) {
        json_t *one = json_array();
        json_array_append(one, json_array_get(salt, (size_t)step));
        assert(wa_client_appstate_push(a->client, one, id) == 0);
        json_decref(one);
        iq = t_iq(a);
        c = wa_node_find(iq, "sync/collection");
        assert(c && wa_node_attr_eq(c, "name", "regular_high"));
        pbytes = wa_node_bytes(wa_node_child(c, "patch"), &plen);
        uint8_t *sp = (uint8_t *)cm_alloc(plen);
        size_t splen = plen;
        memcpy(sp, pbytes, plen);
        ok = wa_node_new("collection");
        wa_node_set_attr(ok, "name", "regular_high");
        wa_node_set_attr_int(ok, "version", step + 1);
        t_answer(a, iq, ok);
        wa_node_destroy(&iq);
        free(wa_client_kit_event(a));
        free(wa_client_kit_event(a));
        wa_client_kit_handle(b, "<notification type=\"server_sync\" id=\"ns\" "
                                "from=\"s.whatsapp.net\"/>");
        iq = t_iq(b);
        t_answer(b, iq, t_patches("regular_high", step + 1, sp, splen));
        wa_node_destroy(&iq);
        ev = wa_client_kit_event(b);
        assert(ev && strstr(ev, "nct_salt_sync") && !strstr(ev, "a1a2"));
        free(ev);
        size_t slen = 0;
        const uint8_t *got =
            wa_sigstore_get(b->client->store, "nct_salt", "salt", &slen);
        if (step == 0) {
            assert(got && slen == 16 && got[0] == 0xa1 && got[15] == 0xb0);
        } else {
            assert(!got);
        }
        free(sp);
    }
    json_decref(salt);

    //  A fresh device D gets a snapshot of regular_low at version 2
    //  (A's archive and unarchive: one record) as an external blob, and
    //  patch 3 (B's pin) with its mutations in another; a snapshot with
    //  a wrong MAC is refused
    {
        const uint8_t *ps[2] = {patch, patch2};
        size_t ls[2] = {plen1, plen2};
        uint8_t *snap = NULL;
        size_t snap_len = 0;
        assert(wa_syncd_snapshot(key_id, 6, key, "regular_low", 2, ps, ls, 2,
                                 &snap, &snap_len) == 0);
        Wa__Syncd__SyncdSnapshot *sn =
            wa__syncd__syncd_snapshot__unpack(NULL, snap_len, snap);
        assert(sn && sn->n_records == 1 && sn->version->version == 2);
        wa__syncd__syncd_snapshot__free_unpacked(sn, NULL);
        //  patch 3 with its mutations moved out
        Wa__Syncd__SyncdPatch *p3 =
            wa__syncd__syncd_patch__unpack(NULL, plen3, patch3);
        Wa__Syncd__SyncdMutations sm = WA__SYNCD__SYNCD_MUTATIONS__INIT;
        sm.n_mutations = p3->n_mutations;
        sm.mutations = p3->mutations;
        size_t ext_len = wa__syncd__syncd_mutations__get_packed_size(&sm);
        uint8_t *ext = (uint8_t *)cm_alloc(ext_len);
        wa__syncd__syncd_mutations__pack(&sm, ext);
        Wa__Syncd__ExternalBlobReference ref =
            WA__SYNCD__EXTERNAL_BLOB_REFERENCE__INIT;
        uint8_t mk[32] = {1};
        ref.has_media_key = 1;
        ref.media_key.data = mk;
        ref.media_key.len = 32;
        ref.direct_path = "/v/t62.1/ext";
        size_t n_keep = p3->n_mutations;
        Wa__Syncd__SyncdMutation **keep = p3->mutations;
        p3->n_mutations = 0;
        p3->mutations = NULL;
        p3->external_mutations = &ref;
        size_t xlen = wa__syncd__syncd_patch__get_packed_size(p3);
        uint8_t *xpatch = (uint8_t *)cm_alloc(xlen);
        wa__syncd__syncd_patch__pack(p3, xpatch);
        p3->external_mutations = NULL;
        p3->n_mutations = n_keep;
        p3->mutations = keep;
        wa__syncd__syncd_patch__free_unpacked(p3, NULL);
        ref.direct_path = "/v/t62.1/snap";
        size_t rlen = wa__syncd__external_blob_reference__get_packed_size(&ref);
        uint8_t rbuf[128];
        wa__syncd__external_blob_reference__pack(&ref, rbuf);

        for (int round = 0; round < 2; round++) {
            wa_client_kit_t *d = wa_client_kit_new("15550000001");
            msg_len = t_share(msg, key_id, key, 1);
            assert(wa_syncd_on_peer(d->client, msg, msg_len) == 0);
            iq = t_iq(d);
            wa_node_t *col = t_patches("regular_low", 3, xpatch, xlen);
            wa_node_set_bytes(wa_node_add(col, "snapshot"), rbuf, rlen);
            t_answer(d, iq, col);
            wa_node_destroy(&iq);
            //  it waits for the snapshot: no fetch or push meanwhile
            ev = wa_client_kit_event(d);
            assert(ev &&
                   strcmp(ev, "blob asb-1 regular_low /v/t62.1/snap") == 0);
            free(ev);
            wa_client_wake(d->client);
            assert(!wa_client_kit_take(d, "iq"));
            assert(wa_client_appstate_blob(d->client, "asb-9", snap,
                                           snap_len) == -1);
            if (round == 1) {
                //  a wrong snapshot MAC: refused, nothing applied
                Wa__Syncd__SyncdSnapshot *bs =
                    wa__syncd__syncd_snapshot__unpack(NULL, snap_len, snap);
                bs->mac.data[0] ^= 0x01;
                uint8_t *wrong = (uint8_t *)cm_alloc(snap_len);
                size_t wrong_len = wa__syncd__syncd_snapshot__pack(bs, wrong);
                wa__syncd__syncd_snapshot__free_unpacked(bs, NULL);
                uint64_t before = d->client->syncd->refused;
                assert(wa_client_appstate_blob(d->client, "asb-1", wrong,
                                               wrong_len) == 0);
                free(wrong);
                assert(d->client->syncd->refused == before + 1);
                assert(!wa_client_kit_event(d));
                s_coll_get(d->client, 4, &va, ha);
                assert(va == 0);
                wa_client_kit_destroy(&d);
                break;
            }
            assert(wa_client_appstate_blob(d->client, "asb-1", snap,
                                           snap_len) == 0);
            //  the snapshot's record (initial), then patch 3's blob
            ev = wa_client_kit_event(d);
            assert(ev && strstr(ev, "peer") &&
                   strstr(ev, "\"archived\":false"));
            free(ev);
            ev = wa_client_kit_event(d);
            assert(ev &&
                   strcmp(ev, "blob asb-2 regular_low /v/t62.1/ext") == 0);
            free(ev);
            assert(wa_client_appstate_blob(d->client, "asb-2", ext, ext_len) ==
                   0);
            ev = wa_client_kit_event(d);
            assert(ev && strstr(ev, "pin_v1"));
            free(ev);
            s_coll_get(d->client, 4, &va, ha);
            s_coll_get(b->client, 4, &vb, hb);
            assert(va == 3 && memcmp(ha, hb, WA_LTHASH_LEN) == 0);
            //  and fetching goes on
            wa_client_wake(d->client);
            wa_node_t *more = wa_client_kit_take(d, "iq");
            wa_node_destroy(&more);
            wa_client_kit_destroy(&d);
        }
        free(snap);
        free(ext);
        free(xpatch);
    }

    //  A patch under a key we lack: nothing applied, the key is asked for
    wa_client_kit_t *c3 = wa_client_kit_new("15550000001");
    const uint8_t other_id[6] = {0, 0, 0, 0, 0x99, 0x99};
    msg_len = t_share(msg, other_id, key, 1);
    assert(wa_syncd_on_peer(c3->client, msg, msg_len) == 0);
    iq = t_iq(c3);
    t_answer(c3, iq, t_patches("regular_low", 1, patch, plen1));
    wa_node_destroy(&iq);
    assert(!wa_client_kit_event(c3));
    s_coll_get(c3->client, 4, &va, ha);
    assert(va == 0);
    assert(zhashx_size(c3->client->syncd->asked) == 1);
    wa_client_kit_destroy(&c3);

    json_decref(archive);
    json_decref(unarchive);
    json_decref(pin);
    free(patch);
    free(patch2);
    free(patch3);
    free(bad_patch);
    wa_client_kit_destroy(&a);
    wa_client_kit_destroy(&b);
    printf("OK\n");
}
