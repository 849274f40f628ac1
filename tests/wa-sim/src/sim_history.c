/*  sim_history - the history a simulated phone sends a new companion

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_history.h"
#include "sim_tctoken.h"
#include <zlib.h>
#include "wa/wa_history.h"
#include "wa/wa_jid.h"
#include "wa/wa_media.h"
#include "wa/wa_mediamsg.h"
#include "wa/wa_message.h"

static const char *const s_corrupt[] = {"download", "mac", "zlib", "proto",
                                        NULL};

static bool
s_is_str(const json_t *o, const char *key, size_t max, bool required)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        return !required;
    }
    return json_is_string(v) && json_string_length(v) > 0 &&
           json_string_length(v) <= max;
}

static bool
s_is_bool(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return !v || json_is_boolean(v);
}

static bool
s_is_int(const json_t *o, const char *key, json_int_t min, json_int_t max)
{
    json_t *v = json_object_get(o, key);
    return !v || (json_is_integer(v) && json_integer_value(v) >= min &&
                  json_integer_value(v) <= max);
}

//  A wire JID of an API chat id, or NULL.
static char *
s_wire(const char *api)
{
    return api ? wa_jid_normalize(api) : NULL;
}

//  An optional field naming a LID (`lid`) or a number: absent, or a JID
//  of that kind.
static bool
s_is_jid(const json_t *o, const char *key, bool lid)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        return true;
    }
    char *wire = json_is_string(v) && json_string_length(v) <= 128
                     ? s_wire(json_string_value(v))
                     : NULL;
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    bool ok = jid && (lid ? wa_jid_is_lid(jid) : wa_jid_is_pn(jid));
    wa_jid_destroy(&jid);
    free(wire);
    return ok;
}

static const char *const s_media_kinds[] = {
    "image", "video", "audio", "ptt", "document", "sticker", NULL};

//  A seeded message's media: 0 when well formed.
static int
s_media_check(const json_t *media)
{
    const char *kind = json_string_value(json_object_get(media, "kind"));
    bool known = false;
    for (int i = 0; kind && s_media_kinds[i]; i++) {
        known |= cm_streq(kind, s_media_kinds[i]);
    }
    return json_is_object(media) && known &&
                   s_is_str(media, "data", SIM_HISTORY_MEDIA_MAX * 4 / 3 + 4,
                            true) &&
                   s_is_str(media, "mimetype", 128, true) &&
                   s_is_str(media, "caption", SIM_HISTORY_TEXT_MAX, false) &&
                   s_is_str(media, "filename", 255, false) &&
                   s_is_bool(media, "expired")
               ? 0
               : -1;
}

int
sim_history_check(const json_t *seed, const char **reason_p)
{
    json_t *chats = json_object_get(seed, "chats");
    json_t *contacts = json_object_get(seed, "contacts");
    json_t *corrupt = json_object_get(seed, "corrupt");
    json_t *pairs = json_object_get(seed, "phoneNumberToLidMappings");
    *reason_p = "body must be {chats?: [...], contacts?: [...], corrupt?: "
                "[download|mac|zlib|proto], nctSalt?: bool, "
                "phoneNumberToLidMappings?: [{pnJid, lidJid}]}";
    if (!json_is_object(seed) || (chats && !json_is_array(chats)) ||
        (pairs && !json_is_array(pairs)) ||
        json_array_size(pairs) > SIM_HISTORY_CHATS_MAX ||
        !s_is_bool(seed, "nctSalt") || (contacts && !json_is_array(contacts)) ||
        (corrupt && !json_is_array(corrupt)) ||
        json_array_size(chats) > SIM_HISTORY_CHATS_MAX ||
        json_array_size(contacts) > SIM_HISTORY_CHATS_MAX ||
        json_array_size(corrupt) > 8) {
        return 400;
    }
    size_t i, k, total = 0;
    json_t *c, *m;
    json_array_foreach(corrupt, i, c)
    {
        bool known = false;
        for (int j = 0; s_corrupt[j]; j++) {
            known |= cm_streq(json_string_value(c), s_corrupt[j]);
        }
        if (!known) {
            *reason_p = "corrupt entries must be download, mac, zlib or proto";
            return 400;
        }
    }
    json_array_foreach(pairs, i, c)
    {
        if (!json_is_object(c) || !json_object_get(c, "pnJid") ||
            !json_object_get(c, "lidJid") || !s_is_jid(c, "pnJid", false) ||
            !s_is_jid(c, "lidJid", true)) {
            *reason_p = "a phoneNumberToLidMappings entry must be {pnJid: a "
                        "number, lidJid: a LID}";
            return 400;
        }
    }
    json_array_foreach(chats, i, c)
    {
        char *wire = s_wire(json_string_value(json_object_get(c, "id")));
        free(wire);
        json_t *msgs = json_object_get(c, "messages");
        if (!wire || !s_is_str(c, "name", 256, false) ||
            !s_is_bool(c, "archived") || !s_is_bool(c, "pinned") ||
            !s_is_bool(c, "markedUnread") ||
            !s_is_int(c, "unreadCount", 0, 1000000) ||
            !s_is_int(c, "muteEndTime", -1, INT64_MAX) ||
            !s_is_bool(c, "tctoken") ||
            !s_is_int(c, "tctokenTimestamp", 1, INT64_MAX) ||
            !s_is_int(c, "tctokenSenderTimestamp", 1, INT64_MAX) ||
            !s_is_jid(c, "lidJid", true) || !s_is_jid(c, "pnJid", false) ||
            (msgs && !json_is_array(msgs))) {
            *reason_p = "a chat must be {id, name?, archived?, pinned?, "
                        "unreadCount?, markedUnread?, muteEndTime?, "
                        "tctoken?, tctokenTimestamp?, "
                        "tctokenSenderTimestamp?, lidJid?, pnJid?, "
                        "messages?}";
            return 400;
        }
        total += json_array_size(msgs);
        json_array_foreach(msgs, k, m)
        {
            json_t *media = json_object_get(m, "media");
            if (media && s_media_check(media)) {
                *reason_p = "a message's media must be {kind: image|video|"
                            "audio|ptt|document|sticker, data (base64, at "
                            "most 1 MiB), mimetype, caption?, filename?, "
                            "expired?}";
                return 400;
            }
            if (!s_is_str(m, "text", SIM_HISTORY_TEXT_MAX, !media) ||
                !s_is_str(m, "id", 64, false) || !s_is_bool(m, "fromMe") ||
                !s_is_bool(m, "starred") ||
                !s_is_str(m, "pushName", 128, false) ||
                !s_is_str(m, "participant", 128, false) ||
                !s_is_int(m, "status", 0, 5) ||
                !s_is_int(m, "timestamp", 0, INT64_MAX) ||
                !json_object_get(m, "timestamp")) {
                *reason_p = "a message must be {text (or media), "
                            "timestamp, id?, fromMe?, participant?, "
                            "pushName?, status?, starred?}";
                return 400;
            }
        }
    }
    if (total > SIM_HISTORY_MESSAGES_MAX) {
        *reason_p = "at most 10000 messages";
        return 400;
    }
    json_array_foreach(contacts, i, c)
    {
        char *wire = s_wire(json_string_value(json_object_get(c, "id")));
        free(wire);
        if (!wire || !s_is_str(c, "pushName", 128, true)) {
            *reason_p = "a contact must be {id, pushName}";
            return 400;
        }
    }
    *reason_p = NULL;
    return 0;
}

//  Everything a HistorySync built here points at, freed together.
typedef struct {
    zlistx_t *owned; //  malloc'd pieces
} s_arena_t;

static void *
s_own(s_arena_t *a, void *p)
{
    if (p) {
        zlistx_add_end(a->owned, p);
    }
    return p;
}

static void
s_free_item(void **item)
{
    free(*item);
    *item = NULL;
}

//  The Message of a seeded media message: the file encrypted under a
//  fresh media key and put on the media host (not when `expired`: its
//  download then fails as an expired one does). Returns 0 and *body_p.
static int
s_media_msg(sim_model_t *model, const json_t *media, uint8_t **body_p,
            size_t *len_p)
{
    const char *kind = json_string_value(json_object_get(media, "kind"));
    wa_media_type_t type;
    uint8_t *data = NULL;
    size_t len = 0;
    if (wa_media_type_parse(kind, &type) ||
        cm_base64_decode(json_string_value(json_object_get(media, "data")),
                         SIM_HISTORY_MEDIA_MAX, &data, &len)) {
        return -1;
    }
    uint8_t key[WA_MEDIA_KEY_LEN];
    cm_random(key, sizeof key);
    uint8_t *enc = cm_alloc(WA_MEDIA_ENC_LEN(len));
    size_t enc_len = 0;
    wa_media_hashes_t hashes;
    int rc = wa_media_encrypt(key, sizeof key, type, data, len, enc, &enc_len,
                              &hashes);
    uint8_t rnd[16];
    cm_random(rnd, sizeof rnd);
    char hex[33];
    cm_hex(rnd, sizeof rnd, hex);
    char *path = cm_sprintf("/v/t62.7118-24/%s.enc", hex);
    if (rc == 0 && !json_is_true(json_object_get(media, "expired"))) {
        rc = sim_model_media_put(model, path, enc, enc_len);
    }
    char *direct = cm_sprintf("%s?ccb=11-4&oh=01_%.16s&oe=%08" PRIX64, path,
                              hex, (uint64_t)(cm_now_ms() / 1000 + 14 * 86400));
    wa_mediamsg_t f = {0};
    f.kind = kind;
    f.mimetype = json_string_value(json_object_get(media, "mimetype"));
    f.caption = json_string_value(json_object_get(media, "caption"));
    f.filename = json_string_value(json_object_get(media, "filename"));
    f.direct_path = direct;
    f.media_key = key;
    f.media_key_len = sizeof key;
    f.file_sha256 = hashes.file_sha256;
    f.file_enc_sha256 = hashes.file_enc_sha256;
    f.file_length = len;
    f.media_key_timestamp = cm_now_ms() / 1000;
    if (rc == 0) {
        rc = wa_mediamsg_build(&f, body_p, len_p);
    }
    free(direct);
    free(path);
    free(enc);
    free(data);
    return rc;
}

//  A WebMessageInfo of a seeded message in chat `wire`.
static Wa__History__HistorySyncMsg *
s_msg(sim_model_t *model, s_arena_t *a, const char *wire, const json_t *m,
      size_t n)
{
    Wa__History__MessageKey *key =
        s_own(a, cm_alloc(sizeof(Wa__History__MessageKey)));
    wa__history__message_key__init(key);
    key->remote_jid = (char *)wire;
    key->has_from_me = 1;
    key->from_me = json_is_true(json_object_get(m, "fromMe"));
    const char *id = json_string_value(json_object_get(m, "id"));
    if (id) {
        key->id = (char *)id;
    } else {
        key->id = s_own(a, cm_sprintf("3EB0HIST%06zu", n));
    }
    const char *part = json_string_value(json_object_get(m, "participant"));
    if (part) {
        key->participant = s_own(a, s_wire(part));
    }
    uint8_t *body = NULL;
    size_t len = 0;
    json_t *media = json_object_get(m, "media");
    if (media ? s_media_msg(model, media, &body, &len)
              : wa_message_build_text(
                    json_string_value(json_object_get(m, "text")), NULL, NULL,
                    NULL, &body, &len)) {
        return NULL;
    }
    s_own(a, body);
    Wa__History__WebMessageInfo *w =
        s_own(a, cm_alloc(sizeof(Wa__History__WebMessageInfo)));
    wa__history__web_message_info__init(w);
    w->key = key;
    w->has_message = 1;
    w->message.data = body;
    w->message.len = len;
    w->has_message_timestamp = 1;
    w->message_timestamp =
        (uint64_t)json_integer_value(json_object_get(m, "timestamp"));
    if (json_object_get(m, "status")) {
        w->has_status = 1;
        w->status = (Wa__History__WebMessageInfo__Status)json_integer_value(
            json_object_get(m, "status"));
    }
    if (json_is_true(json_object_get(m, "starred"))) {
        w->has_starred = 1;
        w->starred = 1;
    }
    w->push_name = (char *)json_string_value(json_object_get(m, "pushName"));
    Wa__History__HistorySyncMsg *h =
        s_own(a, cm_alloc(sizeof(Wa__History__HistorySyncMsg)));
    wa__history__history_sync_msg__init(h);
    h->message = w;
    return h;
}

//  `tctoken`: the chat's contact (an account) issued its token to `acc`
//  at tctokenTimestamp (default now); we last issued ours at
//  tctokenSenderTimestamp (when given).
static void
s_conv_token(s_arena_t *a, Wa__History__Conversation *conv, const json_t *c,
             sim_model_t *model, sim_account_t *acc)
{
    if (!acc || !json_is_true(json_object_get(c, "tctoken"))) {
        return;
    }
    wa_jid_t *jid = wa_jid_new_from(conv->id);
    sim_account_t *contact = jid && !wa_jid_is_lid(jid)
                                 ? sim_model_account(model, wa_jid_user(jid))
                                 : NULL;
    wa_jid_destroy(&jid);
    if (!contact || contact == acc) {
        cm_log_warn("history token skipped: the chat is no other account",
                    "phone=%s chat=%s", acc->phone, conv->id);
        return;
    }
    json_t *t = json_object_get(c, "tctokenTimestamp");
    int64_t ts = t ? json_integer_value(t) : cm_now_ms() / 1000;
    uint8_t *token = s_own(a, cm_alloc(SIM_TCTOKEN_LEN));
    sim_tctoken_mint(contact, acc, ts, token);
    conv->has_tc_token = 1;
    conv->tc_token.data = token;
    conv->tc_token.len = SIM_TCTOKEN_LEN;
    conv->has_tc_token_timestamp = 1;
    conv->tc_token_timestamp = (uint64_t)ts;
    json_t *sent = json_object_get(c, "tctokenSenderTimestamp");
    if (sent) {
        conv->has_tc_token_sender_timestamp = 1;
        conv->tc_token_sender_timestamp = (uint64_t)json_integer_value(sent);
    }
}

//  The conversation of a seeded chat; `part` 0: flags and the newest
//  messages, 1: only the older messages from `cutoff` (unix s) on, 2:
//  only the older ones before it (NULL when there are none).
static Wa__History__Conversation *
s_conv(s_arena_t *a, const json_t *c, int part, int64_t cutoff, size_t *counter,
       sim_model_t *model, sim_account_t *acc)
{
    char *wire = s_own(a, s_wire(json_string_value(json_object_get(c, "id"))));
    json_t *msgs = json_object_get(c, "messages");
    size_t n = json_array_size(msgs);
    size_t split = n > SIM_HISTORY_BOOTSTRAP_MSGS
                       ? n - SIM_HISTORY_BOOTSTRAP_MSGS
                       : 0; //  the seed lists messages oldest first
    size_t from = part == 0 ? split : 0, until = part == 0 ? n : split;
    size_t picked = 0;
    for (size_t i = from; i < until; i++) {
        json_int_t ts = json_integer_value(
            json_object_get(json_array_get(msgs, i), "timestamp"));
        picked += part == 0 || (part == 1) == (ts >= cutoff);
    }
    if (part != 0 && picked == 0) {
        return NULL;
    }
    Wa__History__Conversation *conv =
        s_own(a, cm_alloc(sizeof(Wa__History__Conversation)));
    wa__history__conversation__init(conv);
    conv->id = wire;
    //  The chat's other identity, as the phone names it (Conversation
    //  pnJid 39 beside a LID chat, lidJid 42 beside a number's)
    conv->pn_jid =
        s_own(a, s_wire(json_string_value(json_object_get(c, "pnJid"))));
    conv->lid_jid =
        s_own(a, s_wire(json_string_value(json_object_get(c, "lidJid"))));
    conv->messages = s_own(a, cm_alloc((until - from + 1) *
                                       sizeof(Wa__History__HistorySyncMsg *)));
    uint64_t last = 0;
    for (size_t i = from; i < until; i++) {
        json_t *m = json_array_get(msgs, i);
        json_int_t ts = json_integer_value(json_object_get(m, "timestamp"));
        if (part != 0 && (part == 1) != (ts >= cutoff)) {
            continue;
        }
        Wa__History__HistorySyncMsg *h = s_msg(model, a, wire, m, (*counter)++);
        if (h) {
            conv->messages[conv->n_messages++] = h;
            if (h->message->message_timestamp > last) {
                last = h->message->message_timestamp;
            }
        }
    }
    if (part == 0) {
        conv->name = (char *)json_string_value(json_object_get(c, "name"));
        conv->has_archived = 1;
        conv->archived = json_is_true(json_object_get(c, "archived"));
        if (json_is_true(json_object_get(c, "pinned"))) {
            conv->has_pinned = 1;
            conv->pinned = (uint32_t)(cm_now_ms() / 1000);
        }
        json_t *unread = json_object_get(c, "unreadCount");
        if (unread) {
            conv->has_unread_count = 1;
            conv->unread_count = (uint32_t)json_integer_value(unread);
        }
        if (json_is_true(json_object_get(c, "markedUnread"))) {
            conv->has_marked_as_unread = 1;
            conv->marked_as_unread = 1;
        }
        json_t *mute = json_object_get(c, "muteEndTime");
        if (mute) {
            conv->has_mute_end_time = 1;
            conv->mute_end_time = (uint64_t)json_integer_value(mute);
        }
        if (last) {
            conv->has_conversation_timestamp = 1;
            conv->conversation_timestamp = last;
        }
        s_conv_token(a, conv, c, model, acc);
    }
    return conv;
}

//  Encrypt `blob` as a history blob, store it under a fresh path (with
//  `corrupt` applied) and fill the notification's media fields.
static int
s_upload(sim_model_t *model, s_arena_t *a, const uint8_t *blob, size_t len,
         const char *corrupt, Wa__History__HistorySyncNotification *note)
{
    uint8_t *key = s_own(a, cm_alloc(WA_MEDIA_KEY_LEN));
    cm_random(key, WA_MEDIA_KEY_LEN);
    uint8_t *enc = cm_alloc(WA_MEDIA_ENC_LEN(len));
    size_t enc_len = 0;
    wa_media_hashes_t hashes;
    if (wa_media_encrypt(key, WA_MEDIA_KEY_LEN, WA_MEDIA_HISTORY, blob, len,
                         enc, &enc_len, &hashes)) {
        free(enc);
        return -1;
    }
    uint8_t rnd[16];
    cm_random(rnd, sizeof rnd);
    char hex[33];
    cm_hex(rnd, sizeof rnd, hex);
    char *path = cm_sprintf("/v/t62.36145-24/%s.enc", hex);
    if (cm_streq(corrupt, "mac")) {
        enc[enc_len / 2] ^= 0x01;
    }
    //  "download": held back where no direct path points, until the
    //  companion asks for the blob again (sim_phone_hist_retry)
    char *held = cm_sprintf("%s%s", SIM_HISTORY_HELD, path);
    int rc = sim_model_media_put(
        model, cm_streq(corrupt, "download") ? held : path, enc, enc_len);
    free(held);
    free(enc);
    note->direct_path =
        s_own(a, cm_sprintf("%s?ccb=9-4&oh=01_%.16s&oe=%08" PRIX64, path, hex,
                            (uint64_t)(cm_now_ms() / 1000 + 14 * 86400)));
    free(path);
    note->has_media_key = 1;
    note->media_key.data = key;
    note->media_key.len = WA_MEDIA_KEY_LEN;
    uint8_t *sha = s_own(a, cm_alloc(64));
    memcpy(sha, hashes.file_sha256, 32);
    memcpy(sha + 32, hashes.file_enc_sha256, 32);
    note->has_file_sha256 = 1;
    note->file_sha256.data = sha;
    note->file_sha256.len = 32;
    note->has_file_enc_sha256 = 1;
    note->file_enc_sha256.data = sha + 32;
    note->file_enc_sha256.len = 32;
    note->has_file_length = 1;
    note->file_length = len;
    return rc;
}

//  One notification for `hs` (or for the broken blob `corrupt`).
static zchunk_t *
s_notification(sim_model_t *model, s_arena_t *a, wa_history_t *hs,
               const char *corrupt, uint32_t chunk)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    if (cm_streq(corrupt, "zlib")) {
        blob = (uint8_t *)cm_strdup("this is not a zlib stream");
        len = strlen((char *)blob);
    } else if (cm_streq(corrupt, "proto")) {
        const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
        uLongf zl = compressBound(sizeof junk);
        blob = cm_alloc(zl);
        compress2(blob, &zl, junk, sizeof junk, 1);
        len = zl;
    } else if (wa_history_encode(hs, &blob, &len)) {
        return NULL;
    }
    Wa__History__HistorySyncNotification note =
        WA__HISTORY__HISTORY_SYNC_NOTIFICATION__INIT;
    int rc = s_upload(model, a, blob, len, corrupt, &note);
    free(blob);
    if (rc) {
        return NULL;
    }
    note.has_sync_type = 1;
    note.sync_type = hs->sync_type;
    note.has_chunk_order = 1;
    note.chunk_order = chunk;
    note.has_progress = 1;
    note.progress = 100;
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    if (wa_history_note_message(&note, &msg, &msg_len)) {
        return NULL;
    }
    zchunk_t *out = zchunk_new(msg, msg_len);
    free(msg);
    return out;
}

static void
s_chunk_free(void **item)
{
    zchunk_destroy((zchunk_t **)item);
}

zlistx_t *
sim_history_build(sim_model_t *model, sim_account_t *acc, const json_t *seed,
                  bool full_sync)
{
    s_arena_t a = {zlistx_new()};
    zlistx_set_destructor(a.owned, s_free_item);
    zlistx_t *out = zlistx_new();
    zlistx_set_destructor(out, s_chunk_free);
    bool ok = true;
    json_t *chats = json_object_get(seed, "chats");
    json_t *contacts = json_object_get(seed, "contacts");
    size_t nchats = json_array_size(chats);
    size_t counter = 0;
    //  The three blobs: bootstrap, recent, push names
    wa_history_t boot = WA__HISTORY__HISTORY_SYNC__INIT;
    boot.has_sync_type = 1;
    boot.sync_type = WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__INITIAL_BOOTSTRAP;
    boot.conversations =
        s_own(&a, cm_alloc((nchats + 1) * sizeof(Wa__History__Conversation *)));
    wa_history_t recent = boot;
    recent.sync_type = WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__RECENT;
    recent.conversations =
        s_own(&a, cm_alloc((nchats + 1) * sizeof(Wa__History__Conversation *)));
    wa_history_t full = boot;
    full.sync_type = WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__FULL;
    full.conversations =
        s_own(&a, cm_alloc((nchats + 1) * sizeof(Wa__History__Conversation *)));
    int64_t cutoff =
        cm_now_ms() / 1000 - (int64_t)SIM_HISTORY_RECENT_DAYS * 86400;
    size_t i;
    json_t *c;
    json_array_foreach(chats, i, c)
    {
        boot.conversations[boot.n_conversations++] =
            s_conv(&a, c, 0, cutoff, &counter, model, acc);
        Wa__History__Conversation *older =
            s_conv(&a, c, 1, cutoff, &counter, model, acc);
        if (older) {
            recent.conversations[recent.n_conversations++] = older;
        }
        older =
            full_sync ? s_conv(&a, c, 2, cutoff, &counter, model, acc) : NULL;
        if (older) {
            full.conversations[full.n_conversations++] = older;
        }
    }
    if (acc && json_is_true(json_object_get(seed, "nctSalt"))) {
        //  The account's NCT salt rides in the bootstrap (field 19)
        size_t salt_len = 0;
        const uint8_t *salt = sim_tctoken_salt(acc, &salt_len);
        boot.has_nct_salt = 1;
        boot.nct_salt.data = s_own(&a, cm_alloc(salt_len));
        memcpy(boot.nct_salt.data, salt, salt_len);
        boot.nct_salt.len = salt_len;
    }
    //  LID pairs the phone knows ride in the bootstrap (field 15)
    json_t *pairs = json_object_get(seed, "phoneNumberToLidMappings");
    boot.phone_number_to_lid_mappings =
        s_own(&a, cm_alloc((json_array_size(pairs) + 1) *
                           sizeof(Wa__History__PhoneNumberToLidMapping *)));
    json_array_foreach(pairs, i, c)
    {
        Wa__History__PhoneNumberToLidMapping *p =
            s_own(&a, cm_alloc(sizeof(Wa__History__PhoneNumberToLidMapping)));
        wa__history__phone_number_to_lid_mapping__init(p);
        p->pn_jid =
            s_own(&a, s_wire(json_string_value(json_object_get(c, "pnJid"))));
        p->lid_jid =
            s_own(&a, s_wire(json_string_value(json_object_get(c, "lidJid"))));
        boot.phone_number_to_lid_mappings
            [boot.n_phone_number_to_lid_mappings++] = p;
    }
    wa_history_t names = WA__HISTORY__HISTORY_SYNC__INIT;
    names.has_sync_type = 1;
    names.sync_type = WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__PUSH_NAME;
    names.pushnames = s_own(&a, cm_alloc((json_array_size(contacts) + 1) *
                                         sizeof(Wa__History__Pushname *)));
    json_array_foreach(contacts, i, c)
    {
        Wa__History__Pushname *p =
            s_own(&a, cm_alloc(sizeof(Wa__History__Pushname)));
        wa__history__pushname__init(p);
        p->id = s_own(&a, s_wire(json_string_value(json_object_get(c, "id"))));
        p->pushname = (char *)json_string_value(json_object_get(c, "pushName"));
        names.pushnames[names.n_pushnames++] = p;
    }
    //  Broken ones first, then the real ones
    json_t *corrupt = json_object_get(seed, "corrupt");
    json_array_foreach(corrupt, i, c)
    {
        zchunk_t *n =
            s_notification(model, &a, &boot, json_string_value(c), (uint32_t)i);
        ok &= n != NULL;
        if (n) {
            zlistx_add_end(out, n);
        }
    }
    wa_history_t *blobs[] = {&boot, &recent, &full, &names};
    bool present[] = {true, recent.n_conversations > 0,
                      full.n_conversations > 0, names.n_pushnames > 0};
    for (int b = 0; b < 4 && ok; b++) {
        if (present[b]) {
            zchunk_t *n = s_notification(model, &a, blobs[b], NULL, 1);
            ok &= n != NULL;
            if (n) {
                zlistx_add_end(out, n);
            }
        }
    }
    zlistx_destroy(&a.owned);
    if (!ok) {
        zlistx_destroy(&out);
    }
    return out;
}

//  --------------------------------------------------------------------

//  Self test: the history a notification `n` names, downloaded from the
//  model's media host, decrypted and parsed (asserts each step, and the
//  sync type unless `type` is -1). Caller owns the result.
static wa_history_t *
s_test_fetch(sim_model_t *model, zchunk_t *n, int type)
{
    wa_history_note_t *note = wa_history_note(zchunk_data(n), zchunk_size(n));
    assert(note && (type < 0 || (int)note->sync_type == type));
    char *path = cm_strdup(note->direct_path);
    *strchr(path, '?') = 0;
    size_t enc_len = 0;
    const uint8_t *enc = sim_model_media_get(model, path, &enc_len);
    assert(enc);
    uint8_t *plain = cm_alloc(enc_len);
    size_t plain_len = 0;
    assert(wa_media_decrypt(note->media_key.data, note->media_key.len,
                            WA_MEDIA_HISTORY, enc, enc_len,
                            note->file_enc_sha256.data, note->file_sha256.data,
                            plain, &plain_len) == 0);
    const char *reason = NULL;
    wa_history_t *hs = wa_history_decode(plain, plain_len, 0, &reason);
    assert(hs);
    free(plain);
    free(path);
    wa_history_note_free(&note);
    return hs;
}

void
sim_history_test(bool verbose)
{
    printf(" * sim_history: ");
    (void)verbose;
    const char *reason = NULL;
    json_t *seed = json_loads(
        "{\"chats\":[{\"id\":\"15550001112@c.us\",\"name\":\"Bob\","
        "\"archived\":true,\"messages\":["
        "{\"text\":\"m1\",\"timestamp\":1},{\"text\":\"m2\",\"timestamp\":2},"
        "{\"text\":\"m3\",\"timestamp\":3},{\"text\":\"m4\",\"timestamp\":4},"
        "{\"text\":\"m5\",\"timestamp\":5},{\"text\":\"m6\",\"timestamp\":6,"
        "\"fromMe\":true,\"status\":4}]}],"
        "\"contacts\":[{\"id\":\"15550001112@c.us\",\"pushName\":\"Bobby\"}],"
        "\"corrupt\":[\"zlib\"]}",
        0, NULL);
    assert(seed && sim_history_check(seed, &reason) == 0);
    sim_model_t *model = sim_model_new();
    //  m1 is older than SIM_HISTORY_RECENT_DAYS: no RECENT blob, and a
    //  FULL one only for a companion that asked for the full history
    zlistx_t *notes = sim_history_build(model, NULL, seed, false);
    assert(notes && zlistx_size(notes) == 3);
    assert(sim_model_media_count(model) == 3);
    zlistx_destroy(&notes);
    notes = sim_history_build(model, NULL, seed, true);
    assert(notes && zlistx_size(notes) == 4);
    assert(sim_model_media_count(model) == 7);
    zchunk_t *third = (zchunk_t *)zlistx_first(notes);
    third = (zchunk_t *)zlistx_next(notes);
    third = (zchunk_t *)zlistx_next(notes);
    wa_history_note_t *full =
        wa_history_note(zchunk_data(third), zchunk_size(third));
    assert(full &&
           full->sync_type == WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__FULL);
    wa_history_note_free(&full);
    //  The second notification (the bootstrap): download, decrypt, parse
    zchunk_t *n = (zchunk_t *)zlistx_first(notes);
    n = (zchunk_t *)zlistx_next(notes);
    wa_history_t *hs = s_test_fetch(
        model, n, WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__INITIAL_BOOTSTRAP);
    assert(hs->n_conversations == 1);
    assert(cm_streq(hs->conversations[0]->id, "15550001112@s.whatsapp.net"));
    assert(hs->conversations[0]->archived);
    assert(hs->conversations[0]->n_messages == SIM_HISTORY_BOOTSTRAP_MSGS);
    assert(hs->conversations[0]->conversation_timestamp == 6);
    wa_history_free(&hs);
    zlistx_destroy(&notes);
    json_decref(seed);

    //  A media message: its file on the media host, its Message a media
    //  one; an expired one's file is not there
    seed = json_loads(
        "{\"chats\":[{\"id\":\"15550001112@c.us\",\"messages\":["
        "{\"timestamp\":1,\"media\":{\"kind\":\"image\",\"data\":"
        "\"/9j/2Q==\",\"mimetype\":\"image/jpeg\",\"caption\":\"c\"}},"
        "{\"timestamp\":2,\"media\":{\"kind\":\"document\",\"data\":"
        "\"AA==\",\"mimetype\":\"application/pdf\",\"filename\":\"a.pdf\","
        "\"expired\":true}}]}]}",
        0, NULL);
    assert(seed && sim_history_check(seed, &reason) == 0);
    size_t before = sim_model_media_count(model);
    notes = sim_history_build(model, NULL, seed, false);
    assert(notes && zlistx_size(notes) == 1);
    assert(sim_model_media_count(model) == before + 2); //  image + blob
    zlistx_destroy(&notes);
    json_decref(seed);

    //  A privacy token and the NCT salt: minted for the account
    sim_account_t *me = sim_model_account_add(model, "15550001111", "Me");
    sim_account_t *bob = sim_model_account_add(model, "15550001112", "Bob");
    seed = json_loads("{\"nctSalt\":true,\"chats\":[{\"id\":"
                      "\"15550001112@c.us\",\"tctoken\":true,"
                      "\"tctokenTimestamp\":1700000000,"
                      "\"tctokenSenderTimestamp\":1700000100},{\"id\":"
                      "\"15550009999@c.us\",\"tctoken\":true}]}",
                      0, NULL);
    assert(seed && sim_history_check(seed, &reason) == 0);
    notes = sim_history_build(model, me, seed, false);
    assert(notes && zlistx_size(notes) == 1);
    hs = s_test_fetch(model, (zchunk_t *)zlistx_first(notes), -1);
    assert(hs && hs->n_conversations == 2 && hs->has_nct_salt);
    assert(hs->nct_salt.len == me->nct_salt_len &&
           memcmp(hs->nct_salt.data, me->nct_salt, me->nct_salt_len) == 0);
    Wa__History__Conversation *tc = hs->conversations[0];
    uint8_t want[SIM_TCTOKEN_LEN];
    sim_tctoken_mint(bob, me, 1700000000, want);
    assert(tc->has_tc_token && tc->tc_token.len == SIM_TCTOKEN_LEN &&
           memcmp(tc->tc_token.data, want, SIM_TCTOKEN_LEN) == 0);
    assert(tc->tc_token_timestamp == 1700000000 &&
           tc->tc_token_sender_timestamp == 1700000100);
    //  No token from a chat whose contact is no account
    assert(!hs->conversations[1]->has_tc_token);
    assert(!tc->lid_jid && !tc->pn_jid && !hs->n_phone_number_to_lid_mappings);
    wa_history_free(&hs);
    zlistx_destroy(&notes);
    json_decref(seed);

    //  LID pairs: a chat named by its LID with the number beside, one
    //  named by number with the LID beside, and the top-level list
    seed = json_loads(
        "{\"phoneNumberToLidMappings\":[{\"pnJid\":\"15550003333@c.us\","
        "\"lidJid\":\"333@lid\"}],\"chats\":[{\"id\":\"111@lid\","
        "\"pnJid\":\"15550001111\"},{\"id\":\"15550002222@c.us\","
        "\"lidJid\":\"222@lid\"}]}",
        0, NULL);
    assert(seed && sim_history_check(seed, &reason) == 0);
    notes = sim_history_build(model, me, seed, false);
    assert(notes && zlistx_size(notes) == 1);
    hs = s_test_fetch(model, (zchunk_t *)zlistx_first(notes), -1);
    assert(hs && hs->n_conversations == 2);
    assert(
        cm_streq(hs->conversations[0]->id, "111@lid") &&
        cm_streq(hs->conversations[0]->pn_jid, "15550001111@s.whatsapp.net") &&
        !hs->conversations[0]->lid_jid);
    assert(cm_streq(hs->conversations[1]->lid_jid, "222@lid") &&
           !hs->conversations[1]->pn_jid);
    assert(hs->n_phone_number_to_lid_mappings == 1 &&
           cm_streq(hs->phone_number_to_lid_mappings[0]->pn_jid,
                    "15550003333@s.whatsapp.net") &&
           cm_streq(hs->phone_number_to_lid_mappings[0]->lid_jid, "333@lid"));
    wa_history_free(&hs);
    zlistx_destroy(&notes);
    json_decref(seed);

    //  Bad seeds
    const char *bad[] = {
        "[]",
        "{\"chats\":{}}",
        "{\"chats\":[{\"id\":\"x y\"}]}",
        "{\"chats\":[{\"id\":\"1555@c.us\",\"messages\":[{\"text\":\"t\"}]}]}",
        "{\"contacts\":[{\"id\":\"1555@c.us\"}]}",
        "{\"corrupt\":[\"what\"]}",
        "{\"chats\":[{\"id\":\"1555@c.us\",\"messages\":[{\"timestamp\""
        ":1,\"media\":{\"kind\":\"gif\",\"data\":\"AA==\",\"mimetype\":"
        "\"x/y\"}}]}]}",
        "{\"chats\":[{\"id\":\"1555@c.us\",\"messages\":[{\"timestamp\""
        ":1}]}]}",
        "{\"nctSalt\":1}",
        "{\"chats\":[{\"id\":\"1555@c.us\",\"tctoken\":\"yes\"}]}",
        "{\"chats\":[{\"id\":\"1555@c.us\",\"tctokenTimestamp\":0}]}",
        "{\"chats\":[{\"id\":\"1555@c.us\",\"lidJid\":\"1555@c.us\"}]}",
        "{\"chats\":[{\"id\":\"1@lid\",\"pnJid\":\"2@lid\"}]}",
        "{\"phoneNumberToLidMappings\":{}}",
        "{\"phoneNumberToLidMappings\":[{\"pnJid\":\"1555@c.us\"}]}",
        "{\"phoneNumberToLidMappings\":[{\"pnJid\":\"1@lid\","
        "\"lidJid\":\"2@lid\"}]}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        seed = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert(sim_history_check(seed, &reason) == 400 && reason);
        json_decref(seed);
    }
    sim_model_destroy(&model);
    printf("OK\n");
}
