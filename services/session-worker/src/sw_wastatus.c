/*  sw_wastatus - the status (stories) capability of the WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_jid.h"
#include "wa/wa_kinds.h"
#include "wa/wa_mediamsg.h"
#include "wa/wa_status.h"

//  Kinds of media statuses: the upload's kind, the message's, WAMessage
//  type, and whether a caption applies.
static const struct {
    const char *kind;
    const char *msg;
    bool caption;
} s_kinds[] = {
    {"image", "image", true},
    {"voice", "ptt", false},
    {"video", "video", true},
};

static int
s_kind(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof s_kinds / sizeof s_kinds[0]; i++) {
        if (cm_streq(kind, s_kinds[i].kind)) {
            return (int)i;
        }
    }
    return -1;
}

//  True when config.ignore.status drops the session's status events.
static bool
s_ignored(sw_wasess_t *sess)
{
    json_t *ignore =
        json_object_get(sw_session_config(sw_wasess_session(sess)), "ignore");
    return json_is_true(json_object_get(ignore, "status"));
}

//  The recipients of a request (wire user JIDs, caller owns) or NULL
//  after a 400.
static zlistx_t *
s_contacts(sw_cmd_t **cmd_p, json_t *contacts)
{
    size_t n = json_array_size(contacts);
    if (!json_is_array(contacts) || n == 0 || n > WA_STATUS_RECIPIENTS_MAX) {
        char *reason = cm_sprintf("contacts must list 1 to %d chat ids",
                                  WA_STATUS_RECIPIENTS_MAX);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return NULL;
    }
    zlistx_t *out = zlistx_new();
    zlistx_set_destructor(out, (czmq_destructor *)zstr_free);
    size_t i;
    json_t *v;
    json_array_foreach(contacts, i, v)
    {
        char *wire = wa_jid_normalize(json_string_value(v));
        wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
        bool ok = jid && (wa_jid_is_pn(jid) || wa_jid_is_lid(jid)) &&
                  wa_jid_device(jid) == 0;
        wa_jid_destroy(&jid);
        if (!ok) {
            free(wire);
            zlistx_destroy(&out);
            sw_cmd_reply(cmd_p, 400,
                         "contacts must hold person chat ids (…@c.us, …@lid)",
                         NULL);
            return NULL;
        }
        zlistx_add_end(out, wire);
    }
    return out;
}

//  Send a built status (msg) to the listed contacts and hold the command
//  under its id with `data` (taken) until the server acks it.
static void
s_send(sw_wasess_t *sess, sw_cmd_t **cmd_p, const uint8_t *msg, size_t len,
       zlistx_t *contacts, const char *want, json_t **data_p)
{
    size_t n = zlistx_size(contacts);
    const char **list = cm_alloc((n ? n : 1) * sizeof *list);
    size_t i = 0;
    for (const char *c = (const char *)zlistx_first(contacts); c;
         c = (const char *)zlistx_next(contacts)) {
        list[i++] = c;
    }
    char id[WA_CLIENT_ID_MAX];
    wa_client_t *client = sw_wasess_client(sess);
    int rc = client ? wa_status_send(client, msg, len, list, n, want, id) : -1;
    free(list);
    if (rc != 0) {
        json_decref(*data_p);
        *data_p = NULL;
        if (!client || !wa_client_ready(client)) {
            sw_cmd_reply(cmd_p, 409,
                         "Session status is not as expected: not connected "
                         "to WhatsApp",
                         NULL);
        } else {
            sw_cmd_reply(cmd_p, 400,
                         "could not send the status: id must be a message id "
                         "(letters and digits)",
                         NULL);
        }
        return;
    }
    json_object_set_new(*data_p, "status", json_true());
    sw_wasess_hold(sess, cmd_p, id,
                   "could not send the status: WhatsApp did not answer in "
                   "time",
                   data_p);
}

//  The caller's message id, or NULL (absent). Sets *bad after a 400.
static const char *
s_want(sw_cmd_t **cmd_p, bool *bad)
{
    const char *want = cm_msg_str(sw_cmd_request(*cmd_p), "id");
    *bad = false;
    if (want && (!*want || strlen(want) >= WA_CLIENT_ID_MAX)) {
        sw_cmd_reply(cmd_p, 400, "id must be a message id", NULL);
        *bad = true;
        return NULL;
    }
    return want;
}

//  backgroundArgb of a request in *argb (dflt when absent). Returns 0,
//  or -1 after a 400.
static int
s_argb(sw_cmd_t **cmd_p, uint32_t dflt, uint32_t *argb)
{
    json_t *v =
        json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), "backgroundArgb");
    *argb = dflt;
    if (!v) {
        return 0;
    }
    json_int_t i = json_integer_value(v);
    if (!json_is_integer(v) || i < 0 || i > (json_int_t)UINT32_MAX) {
        sw_cmd_reply(cmd_p, 400, "backgroundArgb must be a 32-bit ARGB value",
                     NULL);
        return -1;
    }
    *argb = (uint32_t)i;
    return 0;
}

//  --------------------------------------------------------------------
//  status.send_text

static void
s_free_item(void **item)
{
    free(*item);
    *item = NULL;
}

//  Build and send a text status; hq is the uploaded high-quality
//  preview image (a media.upload reply) or NULL.
static void
s_send_text(sw_wasess_t *sess, sw_cmd_t **cmd_p, cm_msg_t *hq)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *text = cm_msg_str(req, "text");
    const char *url = cm_msg_str(req, "url");
    int64_t font = cm_msg_int(req, "font", 0);
    uint32_t argb = 0;
    bool bad = false;
    if (!text || !*text) {
        sw_cmd_reply(cmd_p, 400, "text is required", NULL);
        return;
    }
    if (font < 0 || font > WA_STATUS_FONT_MAX ||
        !wa_status_font_valid((int)font)) {
        sw_cmd_reply(cmd_p, 400, "font must be 0, 1, 2 or 6 to 10", NULL);
        return;
    }
    if (s_argb(cmd_p, 0xFF000000u, &argb) != 0) {
        return;
    }
    const char *want = s_want(cmd_p, &bad);
    if (bad) {
        return;
    }
    zlistx_t *contacts =
        s_contacts(cmd_p, json_object_get(cm_msg_body(req), "contacts"));
    if (!contacts) {
        return;
    }
    //  The link previewed: preview {url, title?, description?} with its
    //  JPEG thumbnail as blob 0 (media.preview's), or only its url
    json_t *preview = json_object_get(cm_msg_body(req), "preview");
    wa_kinds_preview_t pv = {0};
    pv.url = json_string_value(json_object_get(preview, "url"));
    pv.url = pv.url && *pv.url ? pv.url : url && *url ? url : NULL;
    pv.title = json_string_value(json_object_get(preview, "title"));
    pv.description = json_string_value(json_object_get(preview, "description"));
    zframe_t *thumb = cm_msg_blob(req, 0);
    if (thumb && zframe_size(thumb) <= SW_WASTATUS_THUMB_MAX) {
        pv.thumb = zframe_data(thumb);
        pv.thumb_len = zframe_size(thumb);
    }
    //  linkPreviewHighQuality: the full image, uploaded
    zlistx_t *keep = zlistx_new();
    zlistx_set_destructor(keep, s_free_item);
    if (hq && pv.url && sw_wakinds_hq_fields(hq, &pv, keep) != 0) {
        cm_log_warn("status link preview image: bad upload reply; sent "
                    "without it",
                    "session=\"%s\"", sw_wasess_name(sess));
        pv.hq_path = NULL;
    }
    uint8_t *msg = NULL;
    size_t len = 0;
    if (wa_status_build_text(text, argb, (int)font, pv.url ? &pv : NULL, &msg,
                             &len) != 0) {
        zlistx_destroy(&contacts);
        zlistx_destroy(&keep);
        sw_cmd_reply(cmd_p, 400, "text is too long", NULL);
        return;
    }
    json_t *data = json_pack("{s:s, s:s}", "type", "chat", "body", text);
    if (pv.url && (pv.title || pv.description)) {
        //  As sendText's answer names it
        json_t *lp = json_pack("{s:s}", "url", pv.url);
        if (pv.title) {
            json_object_set_new(lp, "title", json_string(pv.title));
        }
        if (pv.description) {
            json_object_set_new(lp, "description", json_string(pv.description));
        }
        if (pv.hq_path) {
            json_object_set_new(lp, "highQuality", json_true());
        }
        json_object_set_new(data, "extra",
                            json_pack("{s:o}", "linkPreview", lp));
    }
    s_send(sess, cmd_p, msg, len, contacts, want, &data);
    free(msg);
    zlistx_destroy(&contacts);
    zlistx_destroy(&keep);
}

void
sw_wastatus_send_text(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *preview = json_object_get(cm_msg_body(req), "preview");
    const char *image = json_string_value(
        json_object_get(json_object_get(preview, "highQuality"), "url"));
    const char *text = cm_msg_str(req, "text");
    //  First the page's image, uploaded as the preview's own media (as
    //  a chat's linkPreviewHighQuality)
    sw_wakinds_with_preview_image(sess, cmd_p, text && *text ? image : NULL,
                                  NULL, s_send_text, "status");
}

//  --------------------------------------------------------------------
//  status.send_media

//  The media status's file is uploaded: build the message and send it.
static void
s_uploaded(sw_wasess_t *sess, int st, const char *reason, cm_msg_t *reply,
           void *arg)
{
    char *key = (char *)arg;
    json_t *data = NULL;
    sw_cmd_t *cmd = sess ? sw_wasess_release(sess, key, &data) : NULL;
    free(key);
    if (!cmd) {
        json_decref(data);
        return;
    }
    if (st == 200 && cm_msg_expired(sw_cmd_request(cmd))) {
        sw_cmd_reply(&cmd, 504,
                     "could not send the status in time: nothing was sent",
                     NULL);
        json_decref(data);
        return;
    }
    if (st != 200) {
        cm_log_warn("status upload failed",
                    "session=\"%s\" st=%d reason=\"%s\"", sw_wasess_name(sess),
                    st, reason);
        sw_cmd_reply(&cmd, st, reason, NULL);
        json_decref(data);
        return;
    }
    int k = s_kind(json_string_value(json_object_get(data, "kind")));
    assert(k >= 0);
    wa_mediamsg_t f = {0};
    f.kind = s_kinds[k].msg;
    f.caption = json_string_value(json_object_get(data, "caption"));
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = sw_wamedia_build(reply, &f, &buf, &len);
    json_t *argb = json_object_get(data, "backgroundArgb");
    if (rc == 0 && json_is_integer(argb)) {
        rc = wa_status_set_audio_background(&buf, &len,
                                            (uint32_t)json_integer_value(argb));
    }
    if (rc != 0) {
        sw_cmd_reply(&cmd, 502, "media-service sent incomplete media fields",
                     NULL);
        json_decref(data);
    } else {
        zlistx_t *contacts =
            s_contacts(&cmd, json_object_get(data, "contacts"));
        const char *want = json_string_value(json_object_get(data, "id"));
        const char *caption =
            json_string_value(json_object_get(data, "caption"));
        json_t *sent = json_pack("{s:s, s:s, s:o}", "type", s_kinds[k].msg,
                                 "body", caption ? caption : "", "media",
                                 sw_wamedia_sent_media(sess, reply));
        json_decref(data);
        if (contacts) {
            s_send(sess, &cmd, buf, len, contacts, want, &sent);
        } else {
            json_decref(sent);
        }
        zlistx_destroy(&contacts);
    }
    free(buf);
}

void
sw_wastatus_send_media(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    int k = s_kind(cm_msg_str(req, "kind"));
    bool bad = false;
    if (k < 0) {
        sw_cmd_reply(cmd_p, 400, "kind must be image, voice or video", NULL);
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
    uint32_t argb = 0;
    if (s_argb(cmd_p, 0, &argb) != 0) {
        return;
    }
    const char *want = s_want(cmd_p, &bad);
    if (bad) {
        return;
    }
    json_t *contacts_in = json_object_get(cm_msg_body(req), "contacts");
    zlistx_t *contacts = s_contacts(cmd_p, contacts_in);
    if (!contacts) {
        return;
    }
    zlistx_destroy(&contacts);
    json_t *data = json_pack("{s:s, s:O}", "kind", s_kinds[k].kind, "contacts",
                             contacts_in);
    const char *caption = cm_msg_str(req, "caption");
    if (s_kinds[k].caption && caption && *caption) {
        json_object_set_new(data, "caption", json_string(caption));
    }
    if (want) {
        json_object_set_new(data, "id", json_string(want));
    }
    if (k == s_kind("voice") &&
        json_object_get(cm_msg_body(req), "backgroundArgb")) {
        json_object_set_new(data, "backgroundArgb", json_integer(argb));
    }
    cm_msg_t *up = cm_msg_new("media.upload");
    cm_msg_set_str(up, "kind", s_kinds[k].kind);
    cm_msg_set(up, "file", json_deep_copy(file));
    cm_msg_set_bool(up, "convert", cm_msg_bool(req, "convert", false));
    zuuid_t *uuid = zuuid_new();
    char *store =
        cm_sprintf("%s/status_%.20s", sw_wasess_name(sess), zuuid_str(uuid));
    zuuid_destroy(&uuid);
    cm_msg_set_str(up, "store", store);
    free(store);
    if (blob) {
        //  The bytes move on: the held command keeps no copy of them
        zframe_t *bytes = cm_msg_take_blob(req, 0);
        cm_msg_add_frame(up, &bytes);
    }
    const char *key =
        sw_wasess_hold(sess, cmd_p, NULL,
                       "could not send the status: it took too long", &data);
    sw_wamedia_upload(sess, &up, s_uploaded, cm_strdup(key));
}

//  --------------------------------------------------------------------
//  status.delete

void
sw_wastatus_delete(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *id = cm_msg_str(req, "id");
    if (!id || !*id || strlen(id) >= WA_CLIENT_ID_MAX || strchr(id, '_') ||
        strchr(id, '@')) {
        sw_cmd_reply(cmd_p, 400, "id must be the id of one of our statuses",
                     NULL);
        return;
    }
    zlistx_t *contacts =
        s_contacts(cmd_p, json_object_get(cm_msg_body(req), "contacts"));
    if (!contacts) {
        return;
    }
    wa_kinds_key_t key = {
        .chat = WA_JID_STATUS, .from_me = true, .id = id, .participant = NULL};
    uint8_t *msg = NULL;
    size_t len = 0;
    if (wa_kinds_build_revoke(&key, &msg, &len) != 0) {
        zlistx_destroy(&contacts);
        sw_cmd_reply(cmd_p, 400, "id must be the id of one of our statuses",
                     NULL);
        return;
    }
    json_t *data = json_pack("{s:s, s:s, s:{s:s}}", "type", "revoked", "body",
                             "", "extra", "revokedMessageId", id);
    //  The status as stored (the gateway read it), for message.revoked
    json_t *before = json_object_get(cm_msg_body(req), "before");
    if (json_is_object(before)) {
        json_object_set(data, "before", before);
    }
    s_send(sess, cmd_p, msg, len, contacts, NULL, &data);
    free(msg);
    zlistx_destroy(&contacts);
}

//  --------------------------------------------------------------------
//  status.privacy

static json_t *
s_privacy_done(sw_wasess_t *sess, const wa_node_t *reply, void *ctx, int *st_p,
               char **reason_p)
{
    (void)ctx;
    const char *type = NULL;
    char **users = NULL;
    size_t n = 0;
    if (wa_status_privacy_parse(reply, &type, &users, &n) != 0) {
        *st_p = 502;
        *reason_p = cm_strdup("could not get the status privacy: WhatsApp's "
                              "answer is not a privacy list");
        return NULL;
    }
    json_t *list = json_array();
    json_t *lids = json_array();
    wa_client_t *client = sw_wasess_client(sess);
    for (size_t i = 0; i < n; i++) {
        //  A LID whose number is known is named by the number, as the
        //  session's chats name that person; `lids` has each user's LID
        //  as far as known (chats with LID-only persons are by LID)
        bool is_lid = strstr(users[i], "@lid") != NULL;
        char *pn = client && is_lid ? wa_client_pn_of(client, users[i]) : NULL;
        char *lid = is_lid   ? cm_strdup(users[i])
                    : client ? wa_client_lid_of(client, users[i])
                             : NULL;
        char *api = sw_wamsg_api_jid(pn ? pn : users[i]);
        json_array_append_new(list, json_string(api));
        if (lid) {
            json_array_append_new(lids, json_string(lid));
        }
        free(api);
        free(pn);
        free(lid);
        free(users[i]);
    }
    free(users);
    return json_pack("{s:s, s:o, s:o}", "type", type, "users", list, "lids",
                     lids);
}

void
sw_wastatus_privacy(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    wa_node_t *iq = wa_status_privacy_iq();
    sw_wacontacts_ask(sess, cmd_p, &iq, "get the status privacy",
                      s_privacy_done, NULL);
}

//  --------------------------------------------------------------------
//  The server's ack

//  message.revoked for a status of ours we deleted: the revoke as sent
//  (after) and the status as it was stored (before, when known).
static void
s_revoked_event(sw_wasess_t *sess, const sw_wamsg_t *w, json_t *after,
                json_t *before)
{
    json_t *payload = json_pack(
        "{s:s, s:O, s:O}", "revokedMessageId",
        json_string_value(json_object_get(w->extra, "revokedMessageId")),
        "after", after, "_data", json_object_get(after, "_data"));
    if (json_is_object(before)) { //  WAHA leaves out an unknown one
        json_object_set(payload, "before", before);
    }
    char *key = cm_sprintf("%s|%s|", w->chat, w->id);
    char id[SW_WAMSG_EVENT_ID_MAX];
    sw_wamsg_event_id(sw_wasess_name(sess), "message.revoked", key,
                      w->timestamp * 1000, id);
    sw_session_emit_id(sw_wasess_session(sess), id, "message.revoked", &payload,
                       NULL, NULL);
    free(key);
}

bool
sw_wastatus_on_sent(sw_wasess_t *sess, const wa_client_sent_t *s)
{
    json_t *held = sw_wasess_held(sess, s->id);
    if (!held || !json_is_true(json_object_get(held, "status"))) {
        return false;
    }
    json_t *data = NULL;
    sw_cmd_t *cmd = sw_wasess_release(sess, s->id, &data);
    if (!s->ok) {
        cm_log_warn("could not send status",
                    "session=\"%s\" id=%s error=%d reason=\"%s\"",
                    sw_wasess_name(sess), s->id, s->error,
                    s->reason ? s->reason : "");
        char *reason =
            s->error ? cm_sprintf("WhatsApp did not accept the status: %s "
                                  "(error %d)",
                                  s->reason ? s->reason : "refused", s->error)
                     : cm_sprintf("could not send the status: %s",
                                  s->reason ? s->reason : "failed");
        sw_cmd_reply(&cmd, s->error ? 502 : 500, reason, NULL);
        free(reason);
        json_decref(data);
        return true;
    }
    json_t *media = json_object_get(data, "media");
    sw_wamsg_t w = {0};
    w.id = s->id;
    w.chat = WA_JID_STATUS;
    w.me = sw_wasess_me_id(sess);
    w.from_me = true;
    w.timestamp = s->timestamp ? s->timestamp : cm_now_ms() / 1000;
    w.body = json_string_value(json_object_get(data, "body"));
    w.type = json_string_value(json_object_get(data, "type"));
    w.has_media = media != NULL;
    w.mimetype = json_string_value(json_object_get(media, "mimetype"));
    w.extra = json_object_get(data, "extra");
    w.source = "api";
    w.ack = SW_WAMSG_ACK_SERVER;
    json_t *body = sw_wamsg_message(&w);
    if (media) {
        sw_wamedia_set_media(body, media);
    }
    bool revoke = cm_streq(w.type, "revoked");
    if (!s_ignored(sess)) {
        sw_wamedia_sent_events(sess, &w, media);
        if (revoke) {
            s_revoked_event(sess, &w, body, json_object_get(data, "before"));
        }
    } else if (!revoke) {
        //  No events, but kept, so that it can be deleted later
        json_t *put = json_pack("{s:[O]}", "messages", body);
        sw_session_write(sw_wasess_session(sess), "history.put", &put, NULL,
                         NULL);
    }
    sw_cmd_reply(&cmd, 200, NULL, &body);
    json_decref(data);
    return true;
}

//  --------------------------------------------------------------------
//  Self test: input checks and answers from the engine's events
//  (sending itself is exercised against wa-sim)

static const sw_wacmd_t t_table[] = {
    SW_WASTATUS_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

void
sw_wastatus_test(bool verbose)
{
    printf(" * sw_wastatus: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_wasess_set_me(sess, "15550001111@c.us", NULL, NULL);
    //  Not WORKING: 409 before anything is sent
    cm_msg_t *reply = sw_wasess_rig_call(
        rig, "status.send_text",
        json_pack("{s:s, s:[s]}", "text", "hi", "contacts", "15550002222@c.us"),
        1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);
    //  Bad input, checked by the handlers themselves
    struct {
        const char *type;
        json_t *body;
        const char *reason;
    } bad[] = {
        {"status.send_text", json_pack("{s:[s]}", "contacts", "1555@c.us"),
         "text"},
        {"status.send_text",
         json_pack("{s:s, s:i, s:[s]}", "text", "x", "font", 3, "contacts",
                   "1555@c.us"),
         "font"},
        {"status.send_text",
         json_pack("{s:s, s:I, s:[s]}", "text", "x", "backgroundArgb",
                   (json_int_t)1 << 33, "contacts", "1555@c.us"),
         "backgroundArgb"},
        {"status.send_text", json_pack("{s:s, s:[]}", "text", "x", "contacts"),
         "contacts"},
        {"status.send_text",
         json_pack("{s:s, s:[s]}", "text", "x", "contacts", "1-2@g.us"),
         "contacts"},
        {"status.send_media",
         json_pack("{s:s, s:{s:s}, s:[s]}", "kind", "sticker", "file", "url",
                   "http://127.0.0.1:1/x", "contacts", "1555@c.us"),
         "kind"},
        {"status.send_media",
         json_pack("{s:s, s:{}, s:[s]}", "kind", "image", "file", "contacts",
                   "1555@c.us"),
         "file"},
        {"status.delete",
         json_pack("{s:s, s:[s]}", "id", "a_b", "contacts", "1555@c.us"), "id"},
        {"status.delete", json_pack("{s:s}", "id", "3EB0AA"), "contacts"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, bad[i].type, bad[i].body);
        const sw_wacmd_t *row = sw_wacmd_find(t_table, bad[i].type);
        row->handler(sess, &cmd);
        reply = sw_wasess_rig_recv(rig, 1000);
        assert(reply && cm_msg_status(reply) == 400);
        assert(strstr(cm_msg_reason(reply), bad[i].reason));
        cm_msg_destroy(&reply);
    }
    //  No client: 409
    sw_cmd_t *cmd = sw_wasess_rig_cmd(
        rig, "status.send_text",
        json_pack("{s:s, s:[s]}", "text", "x", "contacts", "1555@c.us"));
    sw_wastatus_send_text(sess, &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);

    //  A status the server acked: the WAMessage to status@broadcast
    size_t queued = sw_session_queued(sw_wasess_session(sess));
    cmd = sw_wasess_rig_cmd(rig, "status.send_text", NULL);
    json_t *data = json_pack("{s:s, s:s, s:b}", "type", "chat", "body", "story",
                             "status", 1);
    sw_wasess_hold(sess, &cmd, "ST1", NULL, &data);
    wa_client_sent_t sent = {.id = "ST1",
                             .chat = WA_JID_STATUS,
                             .ok = true,
                             .timestamp = 1700000000};
    assert(sw_wastatus_on_sent(sess, &sent));
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 200);
    json_t *b = cm_msg_body(reply);
    assert(cm_streq(json_string_value(json_object_get(b, "id")),
                    "true_status@broadcast_ST1"));
    assert(cm_streq(json_string_value(json_object_get(b, "to")),
                    "status@broadcast"));
    assert(cm_streq(json_string_value(json_object_get(b, "from")),
                    "15550001111@c.us"));
    assert(cm_streq(json_string_value(json_object_get(b, "body")), "story"));
    assert(json_is_true(json_object_get(b, "fromMe")));
    assert(json_integer_value(json_object_get(b, "ack")) == 1);
    cm_msg_destroy(&reply);
    //  message.any and message.ack went to the store
    assert(sw_session_queued(sw_wasess_session(sess)) == queued + 2);
    //  A delete the server acked: the revoke's WAMessage, and besides
    //  message.any and message.ack the sender's own message.revoked
    queued = sw_session_queued(sw_wasess_session(sess));
    cmd = sw_wasess_rig_cmd(rig, "status.delete", NULL);
    data = json_pack("{s:s, s:s, s:b, s:{s:s}, s:{s:s}}", "type", "revoked",
                     "body", "", "status", 1, "extra", "revokedMessageId",
                     "ST1", "before", "body", "story");
    sw_wasess_hold(sess, &cmd, "ST3", NULL, &data);
    sent.id = "ST3";
    assert(sw_wastatus_on_sent(sess, &sent));
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "revokedMessageId"), "ST1"));
    cm_msg_destroy(&reply);
    assert(sw_session_queued(sw_wasess_session(sess)) == queued + 3);
    //  The status privacy reply: the list in use, as chat ids
    wa_node_t *pr = wa_node_new_from_text(
        "<iq type=\"result\"><privacy><list type=\"blacklist\" "
        "default=\"true\"><user jid=\"15550002222@s.whatsapp.net\"/>"
        "</list></privacy></iq>",
        NULL);
    int pst = 0;
    char *preason = NULL;
    json_t *pbody = s_privacy_done(sess, pr, NULL, &pst, &preason);
    assert(pbody && !preason);
    assert(cm_streq(json_string_value(json_object_get(pbody, "type")),
                    "blacklist"));
    assert(cm_streq(
        json_string_value(json_array_get(json_object_get(pbody, "users"), 0)),
        "15550002222@c.us"));
    json_decref(pbody);
    wa_node_destroy(&pr);
    pr = wa_node_new_from_text("<iq type=\"result\"><privacy><list "
                               "type=\"everyone\" default=\"true\"/>"
                               "</privacy></iq>",
                               NULL);
    assert(!s_privacy_done(sess, pr, NULL, &pst, &preason));
    assert(pst == 502 && preason);
    free(preason);
    wa_node_destroy(&pr);
    //  Not ours: left to the other capabilities
    sent.id = "OTHER";
    assert(!sw_wastatus_on_sent(sess, &sent));
    //  Refused by the server: 502 with the reason
    cmd = sw_wasess_rig_cmd(rig, "status.send_text", NULL);
    data = json_pack("{s:s, s:b}", "type", "chat", "status", 1);
    sw_wasess_hold(sess, &cmd, "ST2", NULL, &data);
    sent = (wa_client_sent_t){.id = "ST2",
                              .chat = WA_JID_STATUS,
                              .ok = false,
                              .error = 479,
                              .reason = "bad"};
    assert(sw_wastatus_on_sent(sess, &sent));
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 502);
    assert(strstr(cm_msg_reason(reply), "479"));
    cm_msg_destroy(&reply);
    sw_wasess_rig_destroy(&rig);
    printf("OK\n");
}
