/*  sw_wahistory - history sync of the WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_jid.h"
#include "wa/wa_message.h"

//  One blob on its way: what names it in the logs.
typedef struct {
    char *type;      //  sync type name
    uint32_t chunk;  //  chunk order
    char *id;        //  id of the carrying message
    uint8_t key[32]; //  the blob's media key (a retry's key)
    char *blob;      //  the blob's fileEncSha256 (base64) or NULL
} s_job_t;

static void
s_job_destroy(s_job_t **job_p)
{
    s_job_t *job = *job_p;
    if (job) {
        free(job->type);
        free(job->id);
        free(job->blob);
        free(job);
        *job_p = NULL;
    }
}

//  noweb.store of the session's config.
static json_t *
s_store_cfg(sw_wasess_t *sess)
{
    json_t *cfg = sw_session_config(sw_wasess_session(sess));
    return json_object_get(json_object_get(cfg, "noweb"), "store");
}

static bool
s_enabled(sw_wasess_t *sess)
{
    return !json_is_false(json_object_get(s_store_cfg(sess), "enabled"));
}

static bool
s_full(sw_wasess_t *sess)
{
    return json_is_true(json_object_get(s_store_cfg(sess), "fullSync"));
}

bool
sw_wahistory_full_sync(sw_wasess_t *sess)
{
    return s_enabled(sess) && s_full(sess);
}

//  The chat's wire JID: a LID chat whose number is known becomes the
//  number's (one chat per person, as live messages are reported).
static char *
s_chat_jid(sw_wasess_t *sess, const char *jid)
{
    wa_client_t *client = sw_wasess_client(sess);
    if (client && jid && strstr(jid, "@lid")) {
        char *pn = wa_client_pn_of(client, jid);
        if (pn) {
            return pn;
        }
    }
    return jid ? cm_strdup(jid) : NULL;
}

//  An API chat id Wharf keeps: a person, a group or a LID.
static char *
s_api(const char *wire)
{
    char *api = wire ? sw_wamsg_api_jid(wire) : NULL;
    if (api && !strstr(api, "@c.us") && !strstr(api, "@g.us") &&
        !strstr(api, "@lid")) {
        free(api);
        api = NULL;
    }
    return api;
}

//  Mute end from history: seconds, or ms from some phones; all ones
//  (-1 as uint64) or beyond year 9999 is "always".
static int64_t
s_mute(uint64_t v)
{
    if (v == 0) {
        return 0;
    }
    if ((int64_t)v < 0) {
        return -1;
    }
    if (v > 253402300799ull) {
        v /= 1000; //  milliseconds
    }
    return v > 253402300799ull ? -1 : (int64_t)v;
}

//  WAHA ack of a WebMessageInfo status (ERROR 0 .. PLAYED 5).
static int
s_ack(const Wa__History__WebMessageInfo *w, bool from_me)
{
    if (!w->has_status) {
        return from_me ? SW_WAMSG_ACK_SERVER : SW_WAMSG_ACK_DEVICE;
    }
    int ack = (int)w->status - 1;
    return ack < SW_WAMSG_ACK_ERROR    ? SW_WAMSG_ACK_ERROR
           : ack > SW_WAMSG_ACK_PLAYED ? SW_WAMSG_ACK_PLAYED
                                       : ack;
}

//  Where a message's pending media download waits in its payload until
//  s_store takes it out (never stored).
#define S_FETCH "_wharf_fetch"

//  The WAMessage of one history message, or NULL when it is none worth
//  keeping (no id, does not decode, a protocol message or reaction).
static json_t *
s_message(sw_wasess_t *sess, const char *chat, bool group,
          const Wa__History__WebMessageInfo *w)
{
    const Wa__History__MessageKey *key = w->key;
    if (!key || !key->id || !*key->id || !w->has_message ||
        w->message.len == 0) {
        return NULL;
    }
    wa_message_t *msg = wa_message_decode(w->message.data, w->message.len);
    if (!msg) {
        return NULL;
    }
    const char *type = wa_message_type(msg);
    if (cm_streq(type, "protocol") || cm_streq(type, "reaction") ||
        (cm_streq(type, "unknown") && !wa_message_body(msg))) {
        wa_message_destroy(&msg);
        return NULL;
    }
    bool from_me = key->has_from_me && key->from_me;
    const char *participant =
        group ? (key->participant && *key->participant ? key->participant
                                                       : w->participant)
              : NULL;
    wa_client_message_t m = {0};
    m.id = key->id;
    m.chat = chat;
    m.sender = participant ? participant : chat;
    m.participant = participant;
    m.to = from_me ? chat : sw_wasess_me_id(sess);
    m.from_me = from_me;
    m.is_group = group;
    m.timestamp = (int64_t)w->message_timestamp;
    m.push_name = w->push_name;
    m.type = type;
    m.body = wa_message_body(msg);
    m.has_media = wa_message_has_media(msg);
    m.reply_to = wa_message_reply_id(msg);
    m.message = msg;
    m.raw = w->message.data;
    m.raw_len = w->message.len;
    json_t *payload = sw_wamessage_payload(sess, &m, s_ack(w, from_me));
    if (m.has_media) {
        //  Downloaded before the batch is stored (s_store), as live
        //  media is before its event
        json_t *fetch = sw_wamedia_fetch_request(
            sess, msg, json_string_value(json_object_get(payload, "id")));
        if (fetch) {
            json_object_set_new(payload, S_FETCH, fetch);
        }
    }
    if (w->has_starred && w->starred) {
        //  history.put keeps it in messages.starred
        json_object_set_new(json_object_get(payload, "_data"), "starred",
                            json_true());
    }
    wa_message_destroy(&msg);
    return payload;
}

//  Start a new batch when the current one is full.
static json_t *
s_batch(json_t *batches, const char *kind)
{
    json_t *last = json_array_get(batches, json_array_size(batches) - 1);
    if (!last ||
        json_array_size(json_object_get(last, kind)) >= SW_WAHISTORY_BATCH) {
        last = json_pack("{s:[], s:[], s:[]}", "chats", "messages", "contacts");
        json_array_append_new(batches, last);
    }
    return json_object_get(last, kind);
}

json_t *
sw_wahistory_batches(sw_wasess_t *sess, const wa_history_t *hs,
                     int64_t keep_from, json_t **stats_p)
{
    json_t *batches = json_array();
    size_t n_chats = 0, n_msgs = 0, n_contacts = 0, dropped = 0, seen = 0;
    wa_client_t *client = sw_wasess_client(sess);
    size_t n_tokens = 0;
    if (client && hs->has_nct_salt) {
        //  The account's NCT salt, a backfill (app state wins)
        wa_client_set_nct_salt(client, hs->nct_salt.data, hs->nct_salt.len,
                               true);
    }
    //  LID pairs first: the chats below may be named by either side
    for (size_t i = 0; client && i < hs->n_phone_number_to_lid_mappings; i++) {
        const Wa__History__PhoneNumberToLidMapping *p =
            hs->phone_number_to_lid_mappings[i];
        if (p->pn_jid && p->lid_jid) {
            wa_client_learn_lid(client, p->lid_jid, p->pn_jid);
        }
    }
    for (size_t i = 0; i < hs->n_conversations; i++) {
        const Wa__History__Conversation *c = hs->conversations[i];
        if (client) {
            //  The chat's other identity (Conversation lidJid 42 / pnJid
            //  39): beside each other, or beside the chat's own id (a LID
            //  chat names its number, a number's chat its LID). Baileys
            //  7 history.ts; a pair of the wrong kinds is refused.
            if (c->lid_jid && c->pn_jid) {
                wa_client_learn_lid(client, c->lid_jid, c->pn_jid);
            } else if (c->id && (c->lid_jid || c->pn_jid)) {
                wa_client_learn_lid(client, c->id,
                                    c->lid_jid ? c->lid_jid : c->pn_jid);
            }
        }
        if (client && c->has_tc_token && c->id) {
            //  The contact's privacy token for us (wa_tctoken)
            n_tokens += wa_client_learn_tctoken(
                            client, c->id, c->tc_token.data, c->tc_token.len,
                            (int64_t)c->tc_token_timestamp,
                            (int64_t)c->tc_token_sender_timestamp) == 1;
        }
        char *wire =
            i < SW_WAHISTORY_CHATS_MAX ? s_chat_jid(sess, c->id) : NULL;
        char *api = s_api(wire);
        if (!api) {
            dropped += c->n_messages;
            free(wire);
            continue;
        }
        bool group = strstr(api, "@g.us") != NULL;
        const char *name = c->name && *c->name ? c->name : c->display_name;
        uint64_t ts = c->has_conversation_timestamp ? c->conversation_timestamp
                                                    : c->last_msg_timestamp;
        //  Flags only when the blob has them (a RECENT chunk names the
        //  chat only)
        json_t *chat = json_pack("{s:s}", "id", api);
        if (c->has_archived) {
            json_object_set_new(chat, "archived", json_boolean(c->archived));
        }
        if (c->has_pinned) {
            json_object_set_new(chat, "pinned", json_boolean(c->pinned > 0));
        }
        if (name && *name) {
            json_object_set_new(chat, "name", json_string(name));
        }
        if (ts > 0 && ts < INT64_MAX) {
            json_object_set_new(chat, "ts", json_integer((json_int_t)ts));
        }
        if (c->has_mute_end_time && s_mute(c->mute_end_time) != 0) {
            json_object_set_new(chat, "mutedUntil",
                                json_integer(s_mute(c->mute_end_time)));
        }
        if (c->has_marked_as_unread && c->marked_as_unread) {
            json_object_set_new(chat, "unread", json_integer(-1));
        } else if (c->has_unread_count) {
            json_object_set_new(chat, "unread",
                                json_integer((json_int_t)c->unread_count));
        }
        json_array_append_new(s_batch(batches, "chats"), chat);
        n_chats++;
        for (size_t k = 0; k < c->n_messages; k++) {
            const Wa__History__WebMessageInfo *w = c->messages[k]->message;
            json_t *payload = NULL;
            if (w && seen++ < SW_WAHISTORY_MESSAGES_MAX &&
                (int64_t)w->message_timestamp >= keep_from) {
                payload = s_message(sess, wire, group, w);
            }
            if (payload) {
                json_array_append_new(s_batch(batches, "messages"), payload);
                n_msgs++;
            } else {
                dropped++;
            }
        }
        free(api);
        free(wire);
    }
    for (size_t i = 0; i < hs->n_pushnames; i++) {
        const Wa__History__Pushname *p = hs->pushnames[i];
        char *wire =
            p->pushname && *p->pushname ? s_chat_jid(sess, p->id) : NULL;
        char *api = s_api(wire);
        if (api && !strstr(api, "@g.us")) {
            json_array_append_new(
                s_batch(batches, "contacts"),
                json_pack("{s:s, s:s}", "id", api, "pushName", p->pushname));
            n_contacts++;
        }
        free(api);
        free(wire);
    }
    if (stats_p) {
        *stats_p = json_pack(
            "{s:I, s:I, s:I, s:I, s:I}", "chats", (json_int_t)n_chats,
            "messages", (json_int_t)n_msgs, "contacts", (json_int_t)n_contacts,
            "dropped", (json_int_t)dropped, "tokens", (json_int_t)n_tokens);
    }
    return batches;
}

//  A history.put was answered.
static void
s_put_done(sw_session_t *session, int st, void *arg)
{
    if (st < 200 || st >= 300) {
        cm_log_warn("could not store history", "session=\"%s\" st=%d",
                    sw_session_name(session), st);
    }
}

//  The batches of one blob, held while its media downloads.
typedef struct {
    sw_session_t *session; //  its session
    json_t *batches;       //  history.put bodies
    size_t pending;        //  downloads (+1 while they are started)
    size_t media;          //  downloads started
} s_put_t;

//  One media download of a held blob.
typedef struct {
    s_put_t *put;    //  the blob
    json_t *payload; //  the WAMessage (a reference)
} s_fetch_t;

//  Every download of the blob ended: store its batches.
static void
s_put_finish(sw_wasess_t *sess, s_put_t *put)
{
    size_t i;
    json_t *body;
    json_array_foreach(put->batches, i, body)
    {
        json_t *b = json_incref(body);
        if (sess) {
            sw_session_write(put->session, "history.put", &b, s_put_done, NULL);
        }
        json_decref(b);
    }
    if (!sess) {
        cm_log_info("history dropped: the session stopped", "media=%zu",
                    put->media);
    }
    json_decref(put->batches);
    free(put);
}

static void
s_put_release(sw_wasess_t *sess, s_put_t *put)
{
    if (--put->pending == 0) {
        s_put_finish(sess, put);
    }
}

static void
s_fetched(sw_wasess_t *sess, json_t *media, void *arg)
{
    s_fetch_t *f = (s_fetch_t *)arg;
    if (media) {
        sw_wamedia_set_media(f->payload, media);
    }
    json_decref(f->payload);
    s_put_t *put = f->put;
    free(f);
    s_put_release(sess, put);
}

//  Start the media downloads of a blob's messages (at most
//  SW_WAHISTORY_MEDIA_MAX; the rest keep their mimetype only); the
//  batches are stored once all ended.
static size_t
s_put(sw_wasess_t *sess, json_t *batches)
{
    s_put_t *put = cm_alloc(sizeof *put);
    put->session = sw_wasess_session(sess);
    put->batches = batches;
    put->pending = 1;
    size_t i, k;
    json_t *body, *m;
    json_array_foreach(batches, i, body)
    {
        json_array_foreach(json_object_get(body, "messages"), k, m)
        {
            json_t *req = json_incref(json_object_get(m, S_FETCH));
            json_object_del(m, S_FETCH);
            if (!req) {
                continue;
            }
            if (put->media >= SW_WAHISTORY_MEDIA_MAX) {
                json_decref(req);
                continue;
            }
            s_fetch_t *f = cm_alloc(sizeof *f);
            f->put = put;
            f->payload = json_incref(m);
            put->pending++;
            put->media++;
            sw_wamedia_fetch(sess, &req, s_fetched, f);
        }
    }
    size_t media = put->media;
    s_put_release(sess, put);
    return media;
}

//  Inflate, parse and store one blob.
static void
s_store(sw_wasess_t *sess, const s_job_t *job, const uint8_t *blob, size_t len)
{
    const char *reason = NULL;
    wa_history_t *hs = wa_history_decode(blob, len, 0, &reason);
    if (!hs) {
        cm_log_warn("history blob skipped",
                    "session=\"%s\" type=%s chunk=%u id=%s reason=\"%s\"",
                    sw_wasess_name(sess), job->type, job->chunk,
                    job->id ? job->id : "", reason ? reason : "");
        return;
    }
    int64_t keep_from =
        s_full(sess)
            ? 0
            : cm_now_ms() / 1000 - (int64_t)SW_WAHISTORY_RECENT_DAYS * 86400;
    json_t *stats = NULL;
    json_t *batches = sw_wahistory_batches(sess, hs, keep_from, &stats);
    size_t media = s_put(sess, batches);
    cm_log_info("history stored",
                "session=\"%s\" type=%s chunk=%u progress=%u "
                "chats=%" JSON_INTEGER_FORMAT " messages=%" JSON_INTEGER_FORMAT
                " contacts=%" JSON_INTEGER_FORMAT
                " dropped=%" JSON_INTEGER_FORMAT " tokens=%" JSON_INTEGER_FORMAT
                " media=%zu",
                sw_wasess_name(sess), wa_history_type_name(hs->sync_type),
                job->chunk, hs->has_progress ? hs->progress : 0,
                json_integer_value(json_object_get(stats, "chats")),
                json_integer_value(json_object_get(stats, "messages")),
                json_integer_value(json_object_get(stats, "contacts")),
                json_integer_value(json_object_get(stats, "dropped")),
                json_integer_value(json_object_get(stats, "tokens")), media);
    json_decref(stats);
    wa_history_free(&hs);
}

//  The notification `id` was handled (stored, dropped or skipped): tell
//  the phone, which then moves on to the next chunk.
static void
s_receipt(sw_wasess_t *sess, const char *id)
{
    wa_client_t *client = sess ? sw_wasess_client(sess) : NULL;
    if (client && id &&
        wa_client_send_protocol_receipt(client, id, "hist_sync") != 0) {
        cm_log_debug("hist_sync receipt not sent", "session=\"%s\" id=%s",
                     sw_wasess_name(sess), id);
    }
}

static void
s_retried_free(void **state_p)
{
    zhashx_destroy((zhashx_t **)state_p);
}

//  Blobs the phone was already asked to upload again, by
//  fileEncSha256 (one retry each).
static zhashx_t *
s_retried(sw_wasess_t *sess)
{
    zhashx_t *set = (zhashx_t *)sw_wasess_state(sess, "history.retried");
    if (!set) {
        set = zhashx_new();
        sw_wasess_set_state(sess, "history.retried", set, s_retried_free);
    }
    return set;
}

//  A blob that is gone from the media host (410: expired or missing):
//  ask the phone once to upload it again, with the server-error receipt
//  a real companion sends (not hist_sync; the phone then sends the
//  notification again). Returns true when asked.
static bool
s_retry(sw_wasess_t *sess, const s_job_t *job, int st)
{
    wa_client_t *client = sw_wasess_client(sess);
    zhashx_t *retried = s_retried(sess);
    if (st != 410 || !client || !job->id || !job->blob ||
        zhashx_lookup(retried, job->blob)) {
        return false;
    }
    if (wa_client_send_history_retry(client, job->id, job->key,
                                     sizeof job->key) != 0) {
        return false;
    }
    if (zhashx_size(retried) >= SW_WAHISTORY_RETRIED_MAX) {
        zhashx_purge(retried);
    }
    zhashx_insert(retried, job->blob, (void *)"1");
    cm_log_warn("history blob gone: asked the phone to upload it again",
                "session=\"%s\" type=%s chunk=%u id=%s st=%d",
                sw_wasess_name(sess), job->type, job->chunk, job->id, st);
    return true;
}

static void
s_downloaded(sw_wasess_t *sess, int st, const char *reason, cm_msg_t *reply,
             void *arg)
{
    s_job_t *job = (s_job_t *)arg;
    zframe_t *blob = reply ? cm_msg_blob(reply, 0) : NULL;
    if (!sess) {
        //  The session stopped meanwhile: the phone does not send it again
        cm_log_info("history blob dropped: the session stopped",
                    "type=%s chunk=%u", job->type, job->chunk);
    } else if (st != 200 && s_retry(sess, job, st)) {
        s_job_destroy(&job);
        return;
    } else if (st != 200 || !blob) {
        cm_log_warn("history blob skipped",
                    "session=\"%s\" type=%s chunk=%u id=%s st=%d "
                    "reason=\"%s\"",
                    sw_wasess_name(sess), job->type, job->chunk,
                    job->id ? job->id : "", st,
                    reason ? reason : "no blob in the reply");
    } else {
        s_store(sess, job, zframe_data(blob), zframe_size(blob));
    }
    s_receipt(sess, job->id);
    s_job_destroy(&job);
}

static void
s_set_b64(json_t *obj, const char *key, const ProtobufCBinaryData *data,
          bool has)
{
    if (has && data->len > 0) {
        char *b = cm_base64_encode(data->data, data->len);
        json_object_set_new(obj, key, json_string(b));
        free(b);
    }
}

bool
sw_wahistory_on_message(sw_wasess_t *sess, const wa_client_message_t *m)
{
    if (!m->from_me || !m->message || !m->raw ||
        wa_message_protocol_type(m->message) != WA_HISTORY_PROTOCOL_TYPE) {
        return false;
    }
    const char *name = sw_wasess_name(sess);
    wa_history_note_t *note = wa_history_note(m->raw, m->raw_len);
    if (!note) {
        cm_log_warn("history blob skipped",
                    "session=\"%s\" id=%s reason=\"the notification does "
                    "not parse\"",
                    name, m->id ? m->id : "");
        s_receipt(sess, m->id);
        return true;
    }
    s_job_t *job = cm_alloc(sizeof *job);
    job->type = cm_strdup(
        wa_history_type_name(note->has_sync_type ? (int)note->sync_type : -1));
    job->chunk = note->has_chunk_order ? note->chunk_order : 0;
    job->id = m->id ? cm_strdup(m->id) : NULL;
    if (!s_enabled(sess)) {
        cm_log_info("history not stored: noweb.store.enabled is false",
                    "session=\"%s\" type=%s chunk=%u", name, job->type,
                    job->chunk);
    } else if (note->has_initial_hist_bootstrap_inline_payload &&
               note->initial_hist_bootstrap_inline_payload.len > 0) {
        s_store(sess, job, note->initial_hist_bootstrap_inline_payload.data,
                note->initial_hist_bootstrap_inline_payload.len);
    } else if (!note->has_media_key || !note->direct_path ||
               *note->direct_path != '/') {
        cm_log_warn("history blob skipped",
                    "session=\"%s\" type=%s chunk=%u id=%s reason=\"no "
                    "media key or direct path\"",
                    name, job->type, job->chunk, job->id ? job->id : "");
    } else {
        if (note->media_key.len == sizeof job->key) {
            memcpy(job->key, note->media_key.data, sizeof job->key);
            if (note->has_file_enc_sha256 && note->file_enc_sha256.len > 0) {
                job->blob = cm_base64_encode(note->file_enc_sha256.data,
                                             note->file_enc_sha256.len);
            }
        }
        json_t *req = json_pack("{s:s, s:s, s:b}", "kind", "md-msg-hist",
                                "directPath", note->direct_path, "return", 1);
        s_set_b64(req, "mediaKey", &note->media_key, note->has_media_key);
        s_set_b64(req, "fileSha256", &note->file_sha256, note->has_file_sha256);
        s_set_b64(req, "fileEncSha256", &note->file_enc_sha256,
                  note->has_file_enc_sha256);
        cm_log_info("history notification: downloading",
                    "session=\"%s\" type=%s chunk=%u", name, job->type,
                    job->chunk);
        sw_wamedia_download(sess, &req, s_downloaded, job);
        job = NULL;
    }
    if (job) {
        s_receipt(sess, job->id);
    }
    s_job_destroy(&job);
    wa_history_note_free(&note);
    return true;
}

//  --------------------------------------------------------------------

void
sw_wahistory_test(bool verbose)
{
    printf(" * sw_wahistory: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    static const sw_wacmd_t table[] = {
        SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};
    sw_wasess_rig_t *rig = sw_wasess_rig_new(table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_wasess_set_me(sess, "15550001111@c.us", NULL, NULL);

    //  Two chats: a person with an old and a new text, a group; a
    //  status broadcast that is no chat; a push name
    uint8_t *tbuf = NULL;
    size_t tlen = 0;
    assert(wa_message_build_text("from before", NULL, NULL, NULL, &tbuf,
                                 &tlen) == 0);
    Wa__History__MessageKey k1 = WA__HISTORY__MESSAGE_KEY__INIT;
    k1.remote_jid = "15550002222@s.whatsapp.net";
    k1.id = "OLD1";
    Wa__History__MessageKey k2 = k1;
    k2.id = "NEW1";
    k2.has_from_me = 1;
    k2.from_me = 1;
    Wa__History__MessageKey k3 = WA__HISTORY__MESSAGE_KEY__INIT;
    k3.remote_jid = "120363000000000001@g.us";
    k3.id = "G1";
    k3.participant = "15550003333@s.whatsapp.net";
    Wa__History__WebMessageInfo w1 = WA__HISTORY__WEB_MESSAGE_INFO__INIT;
    w1.key = &k1;
    w1.has_message = 1;
    w1.message.data = tbuf;
    w1.message.len = tlen;
    w1.has_message_timestamp = 1;
    w1.message_timestamp = 1000;
    Wa__History__WebMessageInfo w2 = w1;
    w2.key = &k2;
    w2.message_timestamp = 2000000000;
    w2.has_status = 1;
    w2.status = WA__HISTORY__WEB_MESSAGE_INFO__STATUS__READ;
    Wa__History__WebMessageInfo w3 = w1;
    w3.key = &k3;
    w3.message_timestamp = 2000000001;
    w3.push_name = "Carol";
    Wa__History__HistorySyncMsg h1 = WA__HISTORY__HISTORY_SYNC_MSG__INIT;
    Wa__History__HistorySyncMsg h2 = h1, h3 = h1;
    h1.message = &w1;
    h2.message = &w2;
    h3.message = &w3;
    Wa__History__HistorySyncMsg *m1[] = {&h1, &h2};
    Wa__History__HistorySyncMsg *m3[] = {&h3};
    Wa__History__Conversation c1 = WA__HISTORY__CONVERSATION__INIT;
    c1.id = "15550002222@s.whatsapp.net";
    c1.name = "Bob";
    c1.n_messages = 2;
    c1.messages = m1;
    c1.has_archived = 1;
    c1.archived = 1;
    c1.has_mute_end_time = 1;
    c1.mute_end_time = UINT64_MAX;
    c1.has_unread_count = 1;
    c1.unread_count = 2;
    c1.has_conversation_timestamp = 1;
    c1.conversation_timestamp = 2000000000;
    Wa__History__Conversation c2 = WA__HISTORY__CONVERSATION__INIT;
    c2.id = "120363000000000001@g.us";
    c2.n_messages = 1;
    c2.messages = m3;
    c2.has_pinned = 1;
    c2.pinned = 1700000000;
    c2.has_marked_as_unread = 1;
    c2.marked_as_unread = 1;
    Wa__History__Conversation c3 = WA__HISTORY__CONVERSATION__INIT;
    c3.id = "status@broadcast";
    Wa__History__Conversation *convs[] = {&c1, &c2, &c3};
    Wa__History__Pushname p1 = WA__HISTORY__PUSHNAME__INIT;
    p1.id = "15550002222@s.whatsapp.net";
    p1.pushname = "Bobby";
    Wa__History__Pushname *pns[] = {&p1};
    wa_history_t hs = WA__HISTORY__HISTORY_SYNC__INIT;
    hs.has_sync_type = 1;
    hs.n_conversations = 3;
    hs.conversations = convs;
    hs.n_pushnames = 1;
    hs.pushnames = pns;

    json_t *stats = NULL;
    json_t *batches = sw_wahistory_batches(sess, &hs, 1500000000, &stats);
    assert(json_array_size(batches) == 1);
    json_t *b = json_array_get(batches, 0);
    json_t *chats = json_object_get(b, "chats");
    assert(json_array_size(chats) == 2);
    json_t *bob = json_array_get(chats, 0);
    assert(cm_streq(json_string_value(json_object_get(bob, "id")),
                    "15550002222@c.us"));
    assert(cm_streq(json_string_value(json_object_get(bob, "name")), "Bob"));
    assert(json_is_true(json_object_get(bob, "archived")));
    assert(json_integer_value(json_object_get(bob, "mutedUntil")) == -1);
    assert(json_integer_value(json_object_get(bob, "unread")) == 2);
    assert(json_integer_value(json_object_get(bob, "ts")) == 2000000000);
    json_t *grp = json_array_get(chats, 1);
    assert(json_is_true(json_object_get(grp, "pinned")));
    assert(json_integer_value(json_object_get(grp, "unread")) == -1);
    assert(!json_object_get(grp, "name"));
    //  The old text is dropped, the new one and the group's are kept
    json_t *msgs = json_object_get(b, "messages");
    assert(json_array_size(msgs) == 2);
    json_t *mine = json_array_get(msgs, 0);
    assert(cm_streq(json_string_value(json_object_get(mine, "id")),
                    "true_15550002222@c.us_NEW1"));
    assert(cm_streq(json_string_value(json_object_get(mine, "body")),
                    "from before"));
    assert(json_integer_value(json_object_get(mine, "ack")) ==
           SW_WAMSG_ACK_READ);
    assert(cm_streq(json_string_value(json_object_get(mine, "to")),
                    "15550002222@c.us"));
    json_t *gm = json_array_get(msgs, 1);
    assert(cm_streq(json_string_value(json_object_get(gm, "id")),
                    "false_120363000000000001@g.us_G1_15550003333@c.us"));
    assert(cm_streq(json_string_value(json_object_get(gm, "participant")),
                    "15550003333@c.us"));
    json_t *contacts = json_object_get(b, "contacts");
    assert(json_array_size(contacts) == 1);
    assert(cm_streq(json_string_value(json_object_get(
                        json_array_get(contacts, 0), "pushName")),
                    "Bobby"));
    assert(json_integer_value(json_object_get(stats, "dropped")) == 1);
    json_decref(stats);
    json_decref(batches);
    //  fullSync: the old one too
    batches = sw_wahistory_batches(sess, &hs, 0, NULL);
    assert(json_array_size(
               json_object_get(json_array_get(batches, 0), "messages")) == 3);
    json_decref(batches);
    assert(s_mute(0) == 0 && s_mute(1700000000) == 1700000000);
    assert(s_mute(1700000000000ull) == 1700000000);
    free(tbuf);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
