/*  sw_wamedia - the media capability of the WhatsApp engine: sending
    images, documents, voice notes, videos and stickers, and downloading
    the media of received messages

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "sw_wamedia.h"
#include "wa/wa_jid.h"
#include "wa/wa_kinds.h"
#include "wa/wa_mediamsg.h"
#include "wa/wa_message.h"

//  Name of the capability's per-session state.
#define S_STATE "media"

typedef struct {
    zhashx_t *sent;    //  message id -> json: a media send in flight
    zhashx_t *results; //  "chat|id" -> json media object, to fill
    size_t pending;    //  received messages waiting for a download
} s_state_t;

static void
s_json_free(void **item_p)
{
    json_t *j = (json_t *)*item_p;
    json_decref(j);
    *item_p = NULL;
}

static void
s_state_free(void **state_p)
{
    s_state_t *st = (s_state_t *)*state_p;
    if (st) {
        zhashx_destroy(&st->sent);
        zhashx_destroy(&st->results);
        free(st);
    }
    *state_p = NULL;
}

static s_state_t *
s_state(sw_wasess_t *sess)
{
    s_state_t *st = (s_state_t *)sw_wasess_state(sess, S_STATE);
    if (!st) {
        st = cm_alloc(sizeof *st);
        st->sent = zhashx_new();
        zhashx_set_destructor(st->sent, s_json_free);
        st->results = zhashx_new();
        zhashx_set_destructor(st->results, s_json_free);
        sw_wasess_set_state(sess, S_STATE, st, s_state_free);
    }
    return st;
}

static const sw_config_t *
s_cfg(sw_wasess_t *sess)
{
    return sw_session_cfg(sw_wasess_session(sess));
}

//  media.url of a stored file key "<session>/<file>". Caller owns.
static char *
s_file_url(sw_wasess_t *sess, const char *key)
{
    return cm_sprintf("%s/api/files/%s", sw_config_base_url(s_cfg(sess)), key);
}

char *
sw_wamedia_file_url(sw_wasess_t *sess, const char *key)
{
    assert(sess && key);
    return s_file_url(sess, key);
}

//  A 32-byte (or any, when want is 0) base64 field of a reply, decoded.
//  Returns the bytes (caller owns) or NULL.
static uint8_t *
s_b64(cm_msg_t *msg, const char *key, size_t want, size_t *len_p)
{
    const char *text = cm_msg_str(msg, key);
    uint8_t *out = NULL;
    size_t len = 0;
    if (!text || cm_base64_decode(text, 4096, &out, &len) != 0 ||
        (want && len != want)) {
        free(out);
        return NULL;
    }
    if (len_p) {
        *len_p = len;
    }
    return out;
}

//  --------------------------------------------------------------------
//  Uploads for any capability

typedef struct {
    sw_wasess_t *sess;        //  valid in the media_conn callback only
    sw_session_t *session;    //  the session (referenced by the call)
    cm_msg_t *request;        //  media.upload without media_conn
    sw_wamedia_upload_fn *fn; //  the caller's callback
    void *arg;                //  its argument
    bool refreshed;           //  media_conn asked again already
} s_up_t;

static void
s_up_finish(s_up_t **up_p, sw_wasess_t *sess, int st, const char *reason,
            cm_msg_t *reply)
{
    s_up_t *up = *up_p;
    up->fn(sess, st, reason, reply, up->arg);
    cm_msg_destroy(&up->request);
    free(up);
    *up_p = NULL;
}

static void s_up_conn(void *arg, const wa_mediamsg_conn_t *conn,
                      const char *error);

static void
s_up_reply(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    s_up_t *up = (s_up_t *)arg;
    sw_wasess_t *sess =
        *reply_p && sw_session_running(session) ? sw_wa_sess(session) : NULL;
    if (!*reply_p || !sess) {
        s_up_finish(&up, NULL, 503, "session stopped", NULL);
        return;
    }
    int st = cm_msg_status(*reply_p);
    wa_client_t *client = sw_wasess_client(sess);
    if (st == 502 && !up->refreshed && client) {
        //  The hosts refused it: maybe the auth is stale; ask once more
        up->refreshed = true;
        up->sess = sess;
        if (wa_mediamsg_conn(client, true, s_up_conn, up) == 0) {
            return;
        }
    }
    const char *reason = cm_msg_reason(*reply_p);
    if (st == 504) {
        reason = "media-service did not answer in time";
    } else if (st == 503) {
        //  None running, or it died with the upload and none other is up
        //  (cm_client)
        cm_log_warn("media-service unavailable", "session=\"%s\" reason=\"%s\"",
                    sw_session_name(session), reason ? reason : "");
        reason = SW_WAMEDIA_UNAVAILABLE;
    }
    s_up_finish(&up, sess, st, reason ? reason : "media upload failed",
                st == 200 ? *reply_p : NULL);
}

static void
s_up_conn(void *arg, const wa_mediamsg_conn_t *conn, const char *error)
{
    s_up_t *up = (s_up_t *)arg;
    sw_wasess_t *sess = up->sess;
    if (!conn) {
        char *reason = cm_sprintf("no media_conn: %s", error);
        s_up_finish(&up, sess, 503, reason, NULL);
        free(reason);
        return;
    }
    //  Each attempt sends a copy (moved into the socket by the send): a
    //  refresh may need the file again
    zmsg_t *z = cm_msg_encode(up->request);
    cm_msg_t *req = cm_msg_decode(&z, false);
    assert(req);
    json_t *hosts = json_array();
    for (size_t i = 0; i < conn->nhosts; i++) {
        json_array_append_new(hosts, json_string(conn->hosts[i]));
    }
    cm_msg_set(req, "media_conn",
               json_pack("{s:s, s:o, s:I}", "auth", conn->auth, "hosts", hosts,
                         "ttl", (json_int_t)conn->ttl_s));
    if (sw_session_media_send(sw_wasess_session(sess), &req,
                              SW_WAMEDIA_UPLOAD_MS, s_up_reply, up) != 0) {
        s_up_finish(&up, sess, 503, "media-service is not configured", NULL);
    }
}

void
sw_wamedia_upload(sw_wasess_t *sess, cm_msg_t **request_p,
                  sw_wamedia_upload_fn *fn, void *arg)
{
    assert(sess && request_p && *request_p && fn);
    s_up_t *up = cm_alloc(sizeof *up);
    up->sess = sess;
    up->session = sw_wasess_session(sess);
    up->request = *request_p;
    *request_p = NULL;
    up->fn = fn;
    up->arg = arg;
    wa_client_t *client = sw_wasess_client(sess);
    if (!client || wa_mediamsg_conn(client, false, s_up_conn, up) != 0) {
        s_up_finish(&up, sess, 409,
                    "Session status is not as expected: not connected "
                    "to WhatsApp",
                    NULL);
    }
}

//  --------------------------------------------------------------------
//  Downloads for other capabilities (history blobs, ...)

typedef struct {
    sw_wasess_t *sess;          //  valid in the media_conn callback only
    sw_session_t *session;      //  whose download
    json_t *request;            //  the media.download body
    sw_wamedia_download_fn *fn; //  told once
    void *arg;                  //  its argument
    int timeout_ms;             //  media-service's answer deadline
} s_down_t;

static void
s_down_reply(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    s_down_t *down = (s_down_t *)arg;
    sw_wasess_t *sess =
        *reply_p && sw_session_running(session) ? sw_wa_sess(session) : NULL;
    cm_msg_t *reply = *reply_p;
    int st = reply ? cm_msg_status(reply) : 503;
    const char *reason = reply ? cm_msg_reason(reply) : NULL;
    if (st == 504) {
        reason = "media-service did not answer in time";
    }
    down->fn(sess, st,
             st == 200 ? NULL
             : reason  ? reason
                       : "failed",
             st == 200 ? reply : NULL, down->arg);
    json_decref(down->request);
    free(down);
}

static void
s_down_conn(void *arg, const wa_mediamsg_conn_t *conn, const char *error)
{
    s_down_t *down = (s_down_t *)arg;
    (void)error;
    cm_msg_t *req = cm_msg_new("media.download");
    json_t *body = json_deep_copy(down->request);
    if (conn) {
        json_t *hosts = json_array();
        for (size_t i = 0; i < conn->nhosts; i++) {
            json_array_append_new(hosts, json_string(conn->hosts[i]));
        }
        json_object_set_new(body, "hosts", hosts);
    }
    cm_msg_set_body(req, &body);
    if (sw_session_media_send(down->session, &req, down->timeout_ms,
                              s_down_reply, down) != 0) {
        down->fn(down->sess, 503, "media-service is not configured", NULL,
                 down->arg);
        json_decref(down->request);
        free(down);
    }
}

void
sw_wamedia_download(sw_wasess_t *sess, json_t **request_p,
                    sw_wamedia_download_fn *fn, void *arg)
{
    sw_wamedia_download_within(sess, request_p, SW_WAMEDIA_DOWNLOAD_MS, fn,
                               arg);
}

void
sw_wamedia_download_within(sw_wasess_t *sess, json_t **request_p,
                           int timeout_ms, sw_wamedia_download_fn *fn,
                           void *arg)
{
    assert(sess && request_p && *request_p && fn && timeout_ms > 0);
    s_down_t *down = cm_alloc(sizeof *down);
    down->timeout_ms = timeout_ms;
    down->sess = sess;
    down->session = sw_wasess_session(sess);
    down->request = *request_p;
    *request_p = NULL;
    down->fn = fn;
    down->arg = arg;
    wa_client_t *client = sw_wasess_client(sess);
    if (!client || wa_mediamsg_conn(client, false, s_down_conn, down) != 0) {
        s_down_conn(down, NULL, "not connected");
    }
}

//  --------------------------------------------------------------------
//  message.send_media

//  Bus kind -> message kind and WAMessage type.
static const struct {
    const char *kind; //  message.send_media kind (media.upload kind)
    const char *msg;  //  wa_mediamsg kind
    const char *type; //  WAMessage type
    bool caption;     //  carries a caption
} s_kinds[] = {
    {"image", "image", "image", true},
    {"document", "document", "document", true},
    {"voice", "ptt", "ptt", false},
    {"audio", "audio", "audio", false},
    {"video", "video", "video", true},
    {"sticker", "sticker", "sticker", false},
};

static int
s_kind(const char *kind)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++) {
        if (cm_streq(kind, s_kinds[i].kind)) {
            return (int)i;
        }
    }
    return -1;
}

//  The media object of a WAMessage, in WAHA's WAMedia shape: url,
//  mimetype and filename when known (absent otherwise, never null), error
//  {message} only when the download failed. Caller owns return value.
static json_t *
s_media_json(const char *url, const char *mimetype, const char *filename,
             const char *error)
{
    json_t *m = json_object();
    if (url) {
        json_object_set_new(m, "url", json_string(url));
    }
    if (mimetype) {
        json_object_set_new(m, "mimetype", json_string(mimetype));
    }
    if (filename) {
        json_object_set_new(m, "filename", json_string(filename));
    }
    if (error) {
        json_object_set_new(m, "error", json_pack("{s:s}", "message", error));
    }
    return m;
}

void
sw_wamedia_set_media(json_t *payload, json_t *media)
{
    json_object_set(payload, "media", media);
    json_t *url = json_object_get(media, "url");
    if (json_is_string(url)) {
        json_object_set(payload, "mediaUrl", url);
    }
}

//  --------------------------------------------------------------------
//  Messages from uploads, for any capability

int
sw_wamedia_build(cm_msg_t *reply, wa_mediamsg_t *f, uint8_t **buf_p,
                 size_t *len_p)
{
    assert(reply && f && f->kind && buf_p && len_p);
    f->mimetype = cm_msg_str(reply, "mimetype");
    f->filename = cm_msg_str(reply, "filename");
    f->url = cm_msg_str(reply, "url");
    f->direct_path = cm_msg_str(reply, "directPath");
    //  No media key: channel media, uploaded unencrypted
    f->plain = !cm_msg_str(reply, "mediaKey");
    uint8_t *media_key = s_b64(reply, "mediaKey", 32, NULL);
    uint8_t *sha = s_b64(reply, "fileSha256", 32, NULL);
    uint8_t *enc = s_b64(reply, "fileEncSha256", 32, NULL);
    size_t wave_len = 0;
    uint8_t *wave = s_b64(reply, "waveform", 0, &wave_len);
    f->media_key = media_key;
    f->media_key_len = media_key ? 32 : 0;
    f->file_sha256 = sha;
    f->file_enc_sha256 = enc;
    f->file_length = (uint64_t)cm_msg_int(reply, "fileLength", 0);
    f->media_key_timestamp = cm_msg_int(reply, "mediaKeyTimestamp", 0);
    f->width = (uint32_t)cm_msg_int(reply, "width", 0);
    f->height = (uint32_t)cm_msg_int(reply, "height", 0);
    f->seconds = (uint32_t)cm_msg_int(reply, "seconds", 0);
    f->animated = cm_msg_bool(reply, "animated", false);
    f->waveform = wave;
    f->waveform_len = wave_len;
    zframe_t *thumb =
        cm_msg_bool(reply, "thumbnail", false) ? cm_msg_blob(reply, 0) : NULL;
    f->thumbnail = thumb ? zframe_data(thumb) : NULL;
    f->thumbnail_len = thumb ? zframe_size(thumb) : 0;
    int rc = wa_mediamsg_build(f, buf_p, len_p);
    f->media_key = f->file_sha256 = f->file_enc_sha256 = f->waveform = NULL;
    free(media_key);
    free(sha);
    free(enc);
    free(wave);
    return rc;
}

json_t *
sw_wamedia_sent_media(sw_wasess_t *sess, cm_msg_t *reply)
{
    const char *store_key = cm_msg_str(reply, "key");
    char *url = store_key ? s_file_url(sess, store_key) : NULL;
    json_t *media = s_media_json(url, cm_msg_str(reply, "mimetype"),
                                 cm_msg_str(reply, "filename"), NULL);
    free(url);
    return media;
}

//  The upload for a held send is done: build and send the message.
static void
s_send_uploaded(sw_wasess_t *sess, int st, const char *reason, cm_msg_t *reply,
                void *arg)
{
    char *key = (char *)arg;
    json_t *data = NULL;
    sw_cmd_t *cmd = sess ? sw_wasess_release(sess, key, &data) : NULL;
    free(key);
    if (!cmd) {
        //  Answered already (deadline, stop): nothing is sent
        json_decref(data);
        return;
    }
    if (st == 200 && cm_msg_expired(sw_cmd_request(cmd))) {
        //  The caller gave up (its 504 is out): sending now would deliver
        //  a message the caller was told failed
        cm_log_warn("media upload finished after the caller's deadline; "
                    "not sending",
                    "session=\"%s\"", sw_wasess_name(sess));
        sw_cmd_reply(&cmd, 504,
                     "could not send the media in time: nothing was sent",
                     NULL);
        json_decref(data);
        return;
    }
    if (st != 200) {
        cm_log_warn("media upload failed", "session=\"%s\" st=%d reason=\"%s\"",
                    sw_wasess_name(sess), st, reason);
        //  Tell the gateway the 503 is media-service's, not ours
        json_t *why = st == 503 && cm_streq(reason, SW_WAMEDIA_UNAVAILABLE)
                          ? json_pack("{s:s}", "unavailable", "media-service")
                          : NULL;
        sw_cmd_reply(&cmd, st, reason, why ? &why : NULL);
        json_decref(data);
        return;
    }
    const char *chat = json_string_value(json_object_get(data, "wire"));
    int k = s_kind(json_string_value(json_object_get(data, "kind")));
    assert(k >= 0 && chat);
    wa_mediamsg_t f = {0};
    f.kind = s_kinds[k].msg;
    if (k == s_kind("video") && json_is_true(json_object_get(data, "asNote"))) {
        f.kind = "ptv";
    }
    f.caption = json_string_value(json_object_get(data, "caption"));
    f.reply_id = json_string_value(json_object_get(data, "reply_id"));
    f.reply_participant =
        json_string_value(json_object_get(data, "reply_participant"));
    f.reply_chat = json_string_value(json_object_get(data, "reply_chat"));
    //  The quoted text goes along, so that apps show the quote
    uint8_t *qbuf = NULL;
    size_t qlen = 0;
    const char *qbody = json_string_value(
        json_object_get(json_object_get(data, "quoted"), "body"));
    if (f.reply_id && qbody && *qbody &&
        wa_kinds_build_text(qbody, NULL, NULL, &qbuf, &qlen) == 0) {
        f.quoted = qbuf;
        f.quoted_len = qlen;
    }
    json_t *mentions = json_object_get(data, "mentions");
    size_t nm = json_array_size(mentions);
    const char **ms = cm_alloc((nm ? nm : 1) * sizeof *ms);
    for (size_t i = 0; i < nm; i++) {
        ms[i] = json_string_value(json_array_get(mentions, i));
    }
    f.mentions = ms;
    f.nmentions = nm;
    uint8_t *buf = NULL;
    size_t len = 0;
    char id[WA_CLIENT_ID_MAX];
    int rc = sw_wamedia_build(reply, &f, &buf, &len);
    wa_client_t *client = sw_wasess_client(sess);
    //  A channel post names its unencrypted upload by the host's handle
    const char *handle = f.plain ? cm_msg_str(reply, "handle") : NULL;
    if (rc != 0 || (f.plain && !handle)) {
        sw_cmd_reply(&cmd, 502, "media-service sent incomplete media fields",
                     NULL);
    } else if (!client ||
               (f.plain
                    ? wa_client_send_post(client, chat, buf, len, handle, id)
                    : wa_client_send_message(client, chat, buf, len, id)) !=
                   0) {
        sw_cmd_reply(&cmd, 409,
                     "Session status is not as expected: not connected to "
                     "WhatsApp",
                     NULL);
    } else {
        //  What the reply and the events say once the server acked it
        json_t *sent = json_pack(
            "{s:O, s:s, s:O, s:O, s:o}", "chat", json_object_get(data, "chat"),
            "type", s_kinds[k].type, "caption",
            json_object_get(data, "caption") ? json_object_get(data, "caption")
                                             : json_null(),
            "reply_to",
            json_object_get(data, "reply_id")
                ? json_object_get(data, "reply_id")
                : json_null(),
            "media", sw_wamedia_sent_media(sess, reply));
        if (json_object_get(data, "quoted")) {
            json_object_set(sent, "quoted", json_object_get(data, "quoted"));
        }
        zhashx_update(s_state(sess)->sent, id, sent);
        cm_log_debug("media message sent to the engine",
                     "session=\"%s\" id=%s kind=%s len=%llu",
                     sw_wasess_name(sess), id, f.kind,
                     (unsigned long long)f.file_length);
        sw_wasess_hold(sess, &cmd, id,
                       "could not send the message: WhatsApp did not answer "
                       "in time",
                       NULL);
    }
    free(buf);
    free(qbuf);
    free(ms);
    json_decref(data);
}

void
sw_wamedia_send(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *chat = cm_msg_str(req, "chatId");
    const char *kind = cm_msg_str(req, "kind");
    int k = s_kind(kind);
    if (!chat || k < 0) {
        sw_cmd_reply(cmd_p, 400,
                     "chatId and kind (image, document, voice, audio, "
                     "video, sticker) are required",
                     NULL);
        return;
    }
    json_t *file = json_object_get(cm_msg_body(req), "file");
    zframe_t *blob = cm_msg_blob(req, 0);
    if (!json_is_object(file) ||
        (!blob && !json_is_string(json_object_get(file, "url")))) {
        sw_cmd_reply(cmd_p, 400, "file {url} or the file bytes are required",
                     NULL);
        return;
    }
    char *wire = wa_jid_normalize(chat);
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    bool group = jid && wa_jid_is_group(jid);
    bool channel = jid && wa_jid_is_newsletter(jid);
    wa_jid_destroy(&jid);
    if (!wire) {
        sw_cmd_reply(cmd_p, 400,
                     "chatId is not a chat this session can send to", NULL);
        return;
    }
    json_t *data = json_object();
    char *chat_api = sw_wamsg_api_jid(wire);
    json_object_set_new(data, "chat", json_string(chat_api));
    json_object_set_new(data, "wire", json_string(wire));
    json_object_set_new(data, "kind", json_string(s_kinds[k].kind));
    free(chat_api);
    const char *caption = cm_msg_str(req, "caption");
    if (s_kinds[k].caption && caption && *caption) {
        json_object_set_new(data, "caption", json_string(caption));
    }
    const char *reply_to = cm_msg_str(req, "reply_to");
    if (reply_to && *reply_to) {
        sw_wamsg_ref_t ref;
        if (sw_wamsg_parse_id(reply_to, &ref) != 0) {
            sw_cmd_reply(cmd_p, 400, "reply_to must be a message id", NULL);
            json_decref(data);
            free(wire);
            return;
        }
        const char *part = ref.participant[0]            ? ref.participant
                           : ref.has_chat && ref.from_me ? sw_wasess_me_id(sess)
                                                         : NULL;
        char *pwire = part ? wa_jid_normalize(part) : NULL;
        json_object_set_new(data, "reply_id", json_string(ref.id));
        json_object_set_new(data, "reply_participant",
                            json_string(pwire ? pwire : wire));
        if (group) {
            json_object_set_new(data, "reply_chat", json_string(wire));
        }
        free(pwire);
        //  The stored message the gateway read ({id, participant, body,
        //  hasMedia}): quoted in the message and in replyTo
        json_t *quoted = json_object_get(cm_msg_body(req), "quoted");
        if (json_is_object(quoted)) {
            json_object_set(data, "quoted", quoted);
        }
    }
    json_t *mentions = json_object_get(cm_msg_body(req), "mentions");
    if (json_array_size(mentions) > WA_MEDIAMSG_MENTIONS_MAX) {
        sw_cmd_reply(cmd_p, 400, "too many mentions", NULL);
        json_decref(data);
        free(wire);
        return;
    }
    json_t *mw = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(mentions, i, v)
    {
        char *m = wa_jid_normalize(json_string_value(v));
        if (m) {
            json_array_append_new(mw, json_string(m));
        }
        free(m);
    }
    json_object_set_new(data, "mentions", mw);
    bool as_note = cm_msg_bool(req, "asNote", false);
    json_object_set_new(data, "asNote", json_boolean(as_note));

    //  The upload request: the file (bytes as a blob), and a copy kept
    //  in the file store for media.url
    cm_msg_t *up = cm_msg_new("media.upload");
    cm_msg_set_str(up, "kind", s_kinds[k].kind);
    cm_msg_set(up, "file", json_deep_copy(file));
    cm_msg_set_bool(up, "convert", cm_msg_bool(req, "convert", false));
    cm_msg_set_bool(up, "asNote", as_note);
    if (channel) {
        //  Channel media is uploaded unencrypted; the post names it by
        //  the host's handle (media_id)
        cm_msg_set_bool(up, "channel", true);
    }
    zuuid_t *uuid = zuuid_new();
    char *store =
        cm_sprintf("%s/sent_%.20s", sw_wasess_name(sess), zuuid_str(uuid));
    zuuid_destroy(&uuid);
    cm_msg_set_str(up, "store", store);
    free(store);
    if (blob) {
        //  The bytes move on: the held command keeps no copy of them
        zframe_t *bytes = cm_msg_take_blob(req, 0);
        cm_msg_add_frame(up, &bytes);
    }
    free(wire);
    const char *key = sw_wasess_hold(sess, cmd_p, NULL,
                                     "could not send the media: it took too "
                                     "long",
                                     &data);
    sw_wamedia_upload(sess, &up, s_send_uploaded, cm_strdup(key));
}

void
sw_wamedia_sent_events(sw_wasess_t *sess, const sw_wamsg_t *w, json_t *media)
{
    const char *name = sw_wasess_name(sess);
    sw_session_t *session = sw_wasess_session(sess);
    char *key = cm_sprintf("%s|%s|", w->chat, w->id);
    char id[SW_WAMSG_EVENT_ID_MAX];
    json_t *payload = sw_wamsg_message(w);
    if (media) {
        sw_wamedia_set_media(payload, media);
    }
    sw_wamsg_event_id(name, "message.any", key, w->timestamp * 1000, id);
    sw_session_emit_id(session, id, "message.any", &payload, NULL, NULL);
    free(key);
    payload =
        sw_wamsg_ack(w->chat, w->id, NULL, w->me, true, SW_WAMSG_ACK_SERVER);
    key = cm_sprintf("%s|%s||%d|0", w->chat, w->id, SW_WAMSG_ACK_SERVER);
    sw_wamsg_event_id(name, "message.ack", key, w->timestamp * 1000, id);
    sw_session_emit_id(session, id, "message.ack", &payload, NULL, NULL);
    free(key);
}

//  {replyTo} of a sent media message that quoted a stored one (the
//  gateway's `quoted`): WAHA's ReplyToMessage {id, participant, body,
//  hasMedia}, as the other kinds answer it; NULL otherwise. Caller owns.
static json_t *
s_reply_extra(json_t *sent)
{
    const char *id = json_string_value(json_object_get(sent, "reply_to"));
    json_t *quoted = json_object_get(sent, "quoted");
    if (!id || !json_is_object(quoted)) {
        return NULL;
    }
    json_t *r = json_pack("{s:s, s:b}", "id", id, "hasMedia",
                          json_is_true(json_object_get(quoted, "hasMedia")));
    const char *keys[] = {"participant", "body", NULL};
    for (int i = 0; keys[i]; i++) {
        json_t *v = json_object_get(quoted, keys[i]);
        if (json_is_string(v)) {
            json_object_set(r, keys[i], v);
        }
    }
    return json_pack("{s:o}", "replyTo", r);
}

bool
sw_wamedia_on_sent(sw_wasess_t *sess, const wa_client_sent_t *s)
{
    s_state_t *st = (s_state_t *)sw_wasess_state(sess, S_STATE);
    json_t *sent = st ? (json_t *)zhashx_lookup(st->sent, s->id) : NULL;
    if (!sent) {
        return false;
    }
    json_incref(sent);
    zhashx_delete(st->sent, s->id);
    sw_cmd_t *cmd = sw_wasess_release(sess, s->id, NULL);
    const char *chat = json_string_value(json_object_get(sent, "chat"));
    if (!s->ok) {
        cm_log_warn("could not send media message",
                    "session=\"%s\" id=%s error=%d reason=\"%s\"",
                    sw_wasess_name(sess), s->id, s->error,
                    s->reason ? s->reason : "");
        if (cmd) {
            int code = s->error == 404 ? 422 : s->error ? 502 : 500;
            char *reason =
                s->error == 404
                    ? cm_sprintf("Recipient %s is not on WhatsApp (%s)", chat,
                                 s->reason ? s->reason : "not found")
                : s->error
                    ? cm_sprintf("WhatsApp did not accept the message: "
                                 "%s (error %d)",
                                 s->reason ? s->reason : "refused", s->error)
                    : cm_sprintf("could not send the message: %s",
                                 s->reason ? s->reason : "failed");
            sw_cmd_reply(&cmd, code, reason, NULL);
            free(reason);
        }
        json_decref(sent);
        return true;
    }
    sw_wamsg_t w = {0};
    w.id = s->id;
    w.chat = chat;
    w.me = sw_wasess_me_id(sess);
    w.from_me = true;
    w.timestamp = s->timestamp ? s->timestamp : cm_now_ms() / 1000;
    w.body = json_string_value(json_object_get(sent, "caption"));
    w.has_media = true;
    json_t *media = json_object_get(sent, "media");
    w.mimetype = json_string_value(json_object_get(media, "mimetype"));
    w.type = json_string_value(json_object_get(sent, "type"));
    w.reply_to = json_string_value(json_object_get(sent, "reply_to"));
    json_t *extra = s_reply_extra(sent);
    w.extra = extra;
    w.source = "api";
    w.ack = SW_WAMSG_ACK_SERVER;
    w.participant = chat && strstr(chat, "@g.us") ? w.me : NULL;
    if (cmd) {
        json_t *body = sw_wamsg_message(&w);
        sw_wamedia_set_media(body, media);
        sw_cmd_reply(&cmd, 200, NULL, &body);
    }
    sw_wamedia_sent_events(sess, &w, media);
    json_decref(extra);
    json_decref(sent);
    return true;
}

//  --------------------------------------------------------------------
//  Received media

//  A received message held back for its download: a deep copy.
typedef struct {
    wa_client_message_t m; //  strings point at the copies below
    char *strs[11];        //  owned strings
    uint8_t *raw;          //  serialised Message
    wa_message_t *msg;     //  decoded again from raw
    char *rkey;            //  "chat|id": results key
    json_t *request;       //  the media.download body
    sw_session_t *session; //  its session
} s_in_t;

static const char *
s_keep(s_in_t *in, size_t *n, const char *s)
{
    if (!s) {
        return NULL;
    }
    assert(*n < sizeof in->strs / sizeof in->strs[0]);
    in->strs[*n] = cm_strdup(s);
    return in->strs[(*n)++];
}

static s_in_t *
s_in_new(const wa_client_message_t *m)
{
    s_in_t *in = cm_alloc(sizeof *in);
    size_t n = 0;
    in->m = *m;
    in->m.id = s_keep(in, &n, m->id);
    in->m.chat = s_keep(in, &n, m->chat);
    in->m.sender = s_keep(in, &n, m->sender);
    in->m.participant = s_keep(in, &n, m->participant);
    in->m.to = s_keep(in, &n, m->to);
    in->m.push_name = s_keep(in, &n, m->push_name);
    in->m.sender_alt = s_keep(in, &n, m->sender_alt);
    in->m.type = s_keep(in, &n, m->type);
    in->m.body = s_keep(in, &n, m->body);
    in->m.reply_to = s_keep(in, &n, m->reply_to);
    in->m.raw = NULL;
    in->m.raw_len = 0;
    in->m.message = NULL;
    if (m->raw && m->raw_len) {
        in->raw = cm_alloc(m->raw_len);
        memcpy(in->raw, m->raw, m->raw_len);
        in->m.raw = in->raw;
        in->m.raw_len = m->raw_len;
        in->msg = wa_message_decode(in->raw, m->raw_len);
        in->m.message = in->msg;
    }
    in->rkey = cm_sprintf("%s|%s", m->chat ? m->chat : "", m->id);
    return in;
}

static void
s_in_destroy(s_in_t **in_p)
{
    s_in_t *in = *in_p;
    if (!in) {
        return;
    }
    for (size_t i = 0; i < sizeof in->strs / sizeof in->strs[0]; i++) {
        free(in->strs[i]);
    }
    wa_message_destroy(&in->msg);
    free(in->raw);
    free(in->rkey);
    json_decref(in->request);
    free(in);
    *in_p = NULL;
}

//  Hand the message to sw_wamessage with its media object.
static void
s_in_release(sw_wasess_t *sess, s_in_t **in_p, json_t *media)
{
    s_in_t *in = *in_p;
    s_state_t *st = s_state(sess);
    st->pending--;
    zhashx_update(st->results, in->rkey, media);
    bool held = sw_wamessage_on_message(sess, &in->m);
    zhashx_delete(st->results, in->rkey);
    if (!held && sw_wasess_client(sess)) {
        //  Not an event after all (ignored chat): confirm it now
        wa_client_receipt_commit(sw_wasess_client(sess), in->m.token);
    }
    s_in_destroy(in_p);
}

static json_t *s_fetched_media(sw_wasess_t *sess, const json_t *request, int st,
                               const char *reason, cm_msg_t *reply,
                               const char *id);

static void
s_download_reply(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    s_in_t *in = (s_in_t *)arg;
    sw_wasess_t *sess =
        *reply_p && sw_session_running(session) ? sw_wa_sess(session) : NULL;
    if (!sess) {
        //  Stopped: the server delivers the message again later
        s_in_destroy(&in);
        return;
    }
    cm_msg_t *reply = *reply_p;
    json_t *media = s_fetched_media(sess, in->request, cm_msg_status(reply),
                                    cm_msg_reason(reply), reply, in->m.id);
    s_in_release(sess, &in, media);
}

//  Ask media-service for the download, with the media_conn hosts when
//  there are any.
static void
s_download_conn(void *arg, const wa_mediamsg_conn_t *conn, const char *error)
{
    s_in_t *in = (s_in_t *)arg;
    (void)error;
    cm_msg_t *req = cm_msg_new("media.download");
    json_t *body = json_deep_copy(in->request);
    json_object_del(body, "filename");
    if (conn) {
        json_t *hosts = json_array();
        for (size_t i = 0; i < conn->nhosts; i++) {
            json_array_append_new(hosts, json_string(conn->hosts[i]));
        }
        json_object_set_new(body, "hosts", hosts);
    }
    cm_msg_set_body(req, &body);
    sw_session_t *session = in->session;
    if (sw_session_media_send(session, &req, SW_WAMEDIA_DOWNLOAD_MS,
                              s_download_reply, in) != 0) {
        //  Finishing or no media-service: go out without the file
        sw_wasess_t *sess = sw_wa_sess(session);
        if (sess) {
            s_in_release(sess, &in,
                         s_media_json(NULL, NULL, NULL,
                                      "media-service is not configured"));
        } else {
            s_in_destroy(&in);
        }
    }
}

static void
s_set_b64(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
    if (data && len) {
        char *b = cm_base64_encode(data, len);
        json_object_set_new(obj, key, json_string(b));
        free(b);
    }
}

json_t *
sw_wamedia_fetch_request(sw_wasess_t *sess, const wa_message_t *msg,
                         const char *wid)
{
    wa_mediamsg_t f;
    if (!msg || !wid || !sw_config_download_media(s_cfg(sess)) ||
        wa_mediamsg_read(msg, &f) != 0) {
        return NULL; //  nothing to download: mimetype only
    }
    json_t *req = json_object();
    json_object_set_new(req, "kind", json_string(f.kind));
    //  Channel media (f.plain) has no key: its hash is the check
    s_set_b64(req, "mediaKey", f.media_key, f.media_key_len);
    s_set_b64(req, "fileSha256", f.file_sha256, f.file_sha256 ? 32 : 0);
    s_set_b64(req, "fileEncSha256", f.file_enc_sha256,
              f.file_enc_sha256 ? 32 : 0);
    if (f.direct_path && *f.direct_path == '/') {
        json_object_set_new(req, "directPath", json_string(f.direct_path));
    }
    if (f.url && *f.url) {
        json_object_set_new(req, "url", json_string(f.url));
    }
    if (f.mimetype && *f.mimetype) {
        json_object_set_new(req, "mimetype", json_string(f.mimetype));
    }
    if (f.filename && *f.filename) {
        json_object_set_new(req, "filename", json_string(f.filename));
    }
    //  File name: the WAHA message id, as WAHA names its files
    char *store = cm_sprintf("%s/%s", sw_wasess_name(sess), wid);
    json_object_set_new(req, "store", json_string(store));
    free(store);
    return req;
}

//  The WAMessage `media` of a finished download of `request`.
static json_t *
s_fetched_media(sw_wasess_t *sess, const json_t *request, int st,
                const char *reason, cm_msg_t *reply, const char *id)
{
    const char *mimetype =
        json_string_value(json_object_get(request, "mimetype"));
    const char *filename =
        json_string_value(json_object_get(request, "filename"));
    if (st == 200 && reply && cm_msg_str(reply, "key")) {
        char *url = s_file_url(sess, cm_msg_str(reply, "key"));
        json_t *media = s_media_json(
            url, mimetype ? mimetype : cm_msg_str(reply, "mimetype"), filename,
            NULL);
        free(url);
        return media;
    }
    char *error = cm_sprintf(
        "%s", st == 504           ? "media-service did not answer in time"
              : st == 503         ? "media-service is unavailable"
              : reason && *reason ? reason
                                  : "the media could not be downloaded");
    cm_log_warn("could not download media",
                "session=\"%s\" id=%s st=%d reason=\"%s\"",
                sw_wasess_name(sess), id ? id : "", st, error);
    json_t *media = s_media_json(NULL, mimetype, filename, error);
    free(error);
    return media;
}

//  A download of sw_wamedia_fetch on its way.
typedef struct {
    json_t *request;         //  with mimetype and filename
    sw_wamedia_fetch_fn *fn; //  told once
    void *arg;               //  its argument
} s_fetch_t;

static void
s_fetch_done(sw_wasess_t *sess, int st, const char *reason, cm_msg_t *reply,
             void *arg)
{
    s_fetch_t *f = (s_fetch_t *)arg;
    const char *store = json_string_value(json_object_get(f->request, "store"));
    const char *wid =
        store && strchr(store, '/') ? strchr(store, '/') + 1 : store;
    json_t *media =
        sess ? s_fetched_media(sess, f->request, st, reason, reply, wid) : NULL;
    f->fn(sess, media, f->arg);
    json_decref(media);
    json_decref(f->request);
    free(f);
}

void
sw_wamedia_fetch(sw_wasess_t *sess, json_t **request_p, sw_wamedia_fetch_fn *fn,
                 void *arg)
{
    assert(sess && request_p && *request_p && fn);
    s_fetch_t *f = cm_alloc(sizeof *f);
    f->request = *request_p;
    *request_p = NULL;
    f->fn = fn;
    f->arg = arg;
    json_t *body = json_deep_copy(f->request);
    json_object_del(body, "filename");
    sw_wamedia_download(sess, &body, s_fetch_done, f);
}

bool
sw_wamedia_defer(sw_wasess_t *sess, const wa_client_message_t *m)
{
    if (!m->has_media || !m->message || !m->id) {
        return false;
    }
    s_state_t *st = s_state(sess);
    char *chat = sw_wamsg_api_jid(m->chat);
    char *part = sw_wamsg_api_jid(m->participant);
    char *wid = sw_wamsg_id(m->from_me, chat, m->id, part);
    json_t *req = sw_wamedia_fetch_request(sess, m->message, wid);
    free(wid);
    free(part);
    free(chat);
    if (!req) {
        return false; //  nothing to download, or downloads are off
    }
    if (st->pending >= SW_WAMEDIA_PENDING_MAX) {
        cm_log_warn("too many media downloads waiting; not downloading",
                    "session=\"%s\" id=%s", sw_wasess_name(sess), m->id);
        json_decref(req);
        return false;
    }
    s_in_t *in = s_in_new(m);
    in->request = req;
    in->session = sw_wasess_session(sess);
    st->pending++;
    wa_client_t *client = sw_wasess_client(sess);
    if (!client || wa_mediamsg_conn(client, false, s_download_conn, in) != 0) {
        s_download_conn(in, NULL, "not connected");
    }
    return true;
}

void
sw_wamedia_fill(sw_wasess_t *sess, const char *chat, const char *id,
                json_t *payload)
{
    s_state_t *st = (s_state_t *)sw_wasess_state(sess, S_STATE);
    if (!st || !id || !json_is_object(payload)) {
        return;
    }
    char *rkey = cm_sprintf("%s|%s", chat ? chat : "", id);
    json_t *media = (json_t *)zhashx_lookup(st->results, rkey);
    free(rkey);
    if (media) {
        sw_wamedia_set_media(payload, media);
    }
}

//  --------------------------------------------------------------------
//  Self test: the command's checks and the answers to sends (uploads and
//  downloads run through media-service and wa-sim in the integration
//  tests)

static const sw_wacmd_t t_table[] = {
    SW_WAMEDIA_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

void
sw_wamedia_test(bool verbose)
{
    printf(" * sw_wamedia: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_wasess_set_me(sess, "15550001111@c.us", NULL, NULL);
    //  Not WORKING: 409 before anything is uploaded
    cm_msg_t *reply = sw_wasess_rig_call(
        rig, "message.send_media",
        json_pack("{s:s, s:s, s:{s:s}}", "chatId", "15550002222@c.us", "kind",
                  "image", "file", "url", "http://127.0.0.1:1/x.jpg"),
        1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);
    //  Bad input, checked by the handler itself
    sw_cmd_t *cmd = sw_wasess_rig_cmd(
        rig, "message.send_media",
        json_pack("{s:s, s:s}", "chatId", "15550002222@c.us", "kind", "gif"));
    sw_wamedia_send(sess, &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    cmd = sw_wasess_rig_cmd(rig, "message.send_media",
                            json_pack("{s:s, s:s, s:{}}", "chatId",
                                      "15550002222@c.us", "kind", "image",
                                      "file"));
    sw_wamedia_send(sess, &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "file"));
    cm_msg_destroy(&reply);
    //  No client: the upload cannot start, the command gets 409
    cmd = sw_wasess_rig_cmd(rig, "message.send_media",
                            json_pack("{s:s, s:s, s:{s:s}, s:s}", "chatId",
                                      "15550002222@c.us", "kind", "image",
                                      "file", "url", "http://127.0.0.1:1/x.jpg",
                                      "reply_to", "not an id@"));
    sw_wamedia_send(sess, &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    cmd = sw_wasess_rig_cmd(
        rig, "message.send_media",
        json_pack("{s:s, s:s, s:{s:s}}", "chatId", "15550002222@c.us", "kind",
                  "image", "file", "url", "http://127.0.0.1:1/x.jpg"));
    sw_wamedia_send(sess, &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);

    //  A media send the server acked: the WAMessage with media, and
    //  message.any + message.ack
    s_state_t *st = s_state(sess);
    size_t queued = sw_session_queued(sw_wasess_session(sess));
    cmd = sw_wasess_rig_cmd(rig, "message.send_media", NULL);
    sw_wasess_hold(sess, &cmd, "MM1", NULL, NULL);
    zhashx_update(st->sent, "MM1",
                  json_pack("{s:s, s:s, s:s, s:n, s:o}", "chat",
                            "15550002222@c.us", "type", "image", "caption",
                            "look", "reply_to", "media",
                            s_media_json("http://h/api/files/t/sent_1.jpeg",
                                         "image/jpeg", NULL, NULL)));
    wa_client_sent_t sent = {
        "MM1", "15550002222@s.whatsapp.net", true, 0, NULL, 1700000000};
    assert(sw_wamedia_on_sent(sess, &sent));
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "id"), "true_15550002222@c.us_MM1"));
    assert(cm_streq(cm_msg_str(reply, "body"), "look"));
    assert(cm_msg_bool(reply, "hasMedia", false));
    json_t *media = json_object_get(cm_msg_body(reply), "media");
    assert(cm_streq(json_string_value(json_object_get(media, "url")),
                    "http://h/api/files/t/sent_1.jpeg"));
    assert(cm_streq(json_string_value(json_object_get(media, "mimetype")),
                    "image/jpeg"));
    assert(!json_object_get(media, "error"));
    assert(!json_object_get(media, "filename"));
    assert(cm_streq(cm_msg_str(reply, "mediaUrl"),
                    "http://h/api/files/t/sent_1.jpeg"));
    cm_msg_destroy(&reply);
    assert(sw_session_queued(sw_wasess_session(sess)) == queued + 2);
    //  One quoting a stored message: replyTo as the other kinds give it
    cmd = sw_wasess_rig_cmd(rig, "message.send_media", NULL);
    sw_wasess_hold(sess, &cmd, "MM2", NULL, NULL);
    zhashx_update(st->sent, "MM2",
                  json_pack("{s:s, s:s, s:n, s:s, s:{s:s, s:s, s:s, s:b}, s:o}",
                            "chat", "15550002222@c.us", "type", "image",
                            "caption", "reply_to", "Q1", "quoted", "id",
                            "false_15550002222@c.us_Q1", "participant",
                            "15550002222@c.us", "body", "the question",
                            "hasMedia", 0, "media",
                            s_media_json("http://h/api/files/t/sent_2.jpeg",
                                         "image/jpeg", NULL, NULL)));
    sent.id = "MM2";
    assert(sw_wamedia_on_sent(sess, &sent));
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 200);
    json_t *want =
        json_pack("{s:s, s:b, s:s, s:s}", "id", "Q1", "hasMedia", 0,
                  "participant", "15550002222@c.us", "body", "the question");
    assert(json_equal(json_object_get(cm_msg_body(reply), "replyTo"), want));
    json_decref(want);
    cm_msg_destroy(&reply);
    //  Not a media send: left to sw_wamessage
    sent.id = "TXT1";
    assert(!sw_wamedia_on_sent(sess, &sent));
    //  Refused: 502 with the server's code
    cmd = sw_wasess_rig_cmd(rig, "message.send_media", NULL);
    sw_wasess_hold(sess, &cmd, "MM2", NULL, NULL);
    zhashx_update(st->sent, "MM2",
                  json_pack("{s:s, s:s, s:n, s:n, s:o}", "chat",
                            "15550002222@c.us", "type", "ptt", "caption",
                            "reply_to", "media",
                            s_media_json(NULL, "audio/ogg", NULL, NULL)));
    wa_client_sent_t refused = {
        "MM2", "15550002222@s.whatsapp.net", false, 479, "refused", 0};
    assert(sw_wamedia_on_sent(sess, &refused));
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 502);
    cm_msg_destroy(&reply);

    //  fill: the result of a download goes into the payload
    zhashx_update(st->results, "c@s.whatsapp.net|IN1",
                  s_media_json("u", "image/png", "f.png", NULL));
    json_t *payload = json_pack("{s:n}", "media");
    sw_wamedia_fill(sess, "c@s.whatsapp.net", "IN1", payload);
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(payload, "media"), "filename")),
                    "f.png"));
    sw_wamedia_fill(sess, "c@s.whatsapp.net", "OTHER", payload);
    json_decref(payload);
    //  defer: no media, nothing held
    wa_client_message_t m = {0};
    m.id = "IN2";
    m.chat = "15550002222@s.whatsapp.net";
    m.type = "chat";
    assert(!sw_wamedia_defer(sess, &m));
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
