/*  sw_waappstate - the app-state capability of the WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_jid.h"
#include "wa/wa_syncd.h"

const char *
sw_waappstate_color_hex(int color)
{
    return wa_syncd_label_hex(color);
}

//  ---------------------------------------------------------------------
//  Commands

//  The request's chatId as a wire JID, or NULL after a 400.
static char *
s_chat(sw_cmd_t **cmd_p, const char *field)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), field);
    char *wire = text && strlen(text) <= 128 ? wa_jid_normalize(text) : NULL;
    if (!wire) {
        char *reason =
            cm_sprintf("%s must be a chat id (…@c.us, …@g.us)", field);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
    }
    return wire;
}

//  A required boolean field: 0/1, or -1 after a 400.
static int
s_bool(sw_cmd_t **cmd_p, const char *field)
{
    json_t *v = json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), field);
    if (!json_is_boolean(v)) {
        char *reason = cm_sprintf("%s must be true or false", field);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return -1;
    }
    return json_is_true(v) ? 1 : 0;
}

//  A label id: 1..32 digits. NULL after a 400.
static const char *
s_label_id(sw_cmd_t **cmd_p, const char *field)
{
    const char *id = cm_msg_str(sw_cmd_request(*cmd_p), field);
    size_t n = id ? strlen(id) : 0;
    bool ok = n > 0 && n <= 32;
    for (size_t i = 0; ok && i < n; i++) {
        ok = isdigit((unsigned char)id[i]);
    }
    if (!ok) {
        char *reason = cm_sprintf("%s must be a label id (digits)", field);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return NULL;
    }
    return id;
}

//  One action: {index: [...], value}; value taken (may be NULL).
static json_t *
s_action(json_t *index, json_t *value, bool remove)
{
    json_t *a = json_pack("{s:o}", "index", index);
    if (value) {
        json_object_set_new(a, "value", value);
    }
    if (remove) {
        json_object_set_new(a, "op", json_string("remove"));
    }
    return a;
}

//  Upload the actions (taken) and hold the command until the push ends.
static void
s_push(sw_wasess_t *sess, sw_cmd_t **cmd_p, json_t *actions)
{
    wa_client_t *client = sw_wasess_client(sess);
    char id[WA_CLIENT_ID_MAX];
    if (!client || !wa_client_appstate_ready(client)) {
        json_decref(actions);
        sw_cmd_reply(cmd_p, 503,
                     "the phone has not shared its app-state keys yet", NULL);
        return;
    }
    if (wa_client_appstate_push(client, actions, id) != 0) {
        json_decref(actions);
        sw_cmd_reply(cmd_p, 400, "could not encode the change", NULL);
        return;
    }
    json_decref(actions);
    sw_wasess_hold(sess, cmd_p, id,
                   "could not change app state: WhatsApp did not answer in "
                   "time",
                   NULL);
}

//  One chat action [name, chat] with value (taken).
static void
s_chat_action(sw_wasess_t *sess, sw_cmd_t **cmd_p, const char *name,
              json_t *value)
{
    char *chat = s_chat(cmd_p, "chatId");
    if (!chat) {
        json_decref(value);
        return;
    }
    json_t *actions = json_array();
    json_array_append_new(
        actions, s_action(json_pack("[s,s]", name, chat), value, false));
    free(chat);
    s_push(sess, cmd_p, actions);
}

void
sw_waappstate_archive(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    int archived = s_bool(cmd_p, "archived");
    if (archived >= 0) {
        s_chat_action(sess, cmd_p, "archive",
                      json_pack("{s:b}", "archived", archived));
    }
}

void
sw_waappstate_pin(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    int pinned = s_bool(cmd_p, "pinned");
    if (pinned >= 0) {
        s_chat_action(sess, cmd_p, "pin_v1",
                      json_pack("{s:b}", "pinned", pinned));
    }
}

void
sw_waappstate_mute(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    int muted = s_bool(cmd_p, "muted");
    if (muted < 0) {
        return;
    }
    json_t *until =
        json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), "until");
    if (until && !json_is_null(until) &&
        (!json_is_integer(until) || json_integer_value(until) <= 0)) {
        sw_cmd_reply(cmd_p, 400, "until must be unix seconds", NULL);
        return;
    }
    json_t *value = json_pack("{s:b}", "muted", muted);
    if (muted) {
        json_object_set_new(value, "muteEndTimestamp",
                            json_integer(json_is_integer(until)
                                             ? json_integer_value(until) * 1000
                                             : -1));
    }
    s_chat_action(sess, cmd_p, "mute", value);
}

void
sw_waappstate_mark(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    int read = s_bool(cmd_p, "read");
    if (read >= 0) {
        s_chat_action(sess, cmd_p, "markChatAsRead",
                      json_pack("{s:b}", "read", read));
    }
}

void
sw_waappstate_delete_chat(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    char *chat = s_chat(cmd_p, "chatId");
    if (!chat) {
        return;
    }
    json_t *actions = json_array();
    json_array_append_new(
        actions, s_action(json_pack("[s,s,s]", "deleteChat", chat, "1"),
                          json_object(), false));
    free(chat);
    s_push(sess, cmd_p, actions);
}

void
sw_waappstate_clear_chat(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    char *chat = s_chat(cmd_p, "chatId");
    if (!chat) {
        return;
    }
    json_t *actions = json_array();
    json_array_append_new(
        actions, s_action(json_pack("[s,s,s,s]", "clearChat", chat, "1", "0"),
                          json_object(), false));
    free(chat);
    s_push(sess, cmd_p, actions);
}

//  [name, chat, id, fromMe, "0"] with value (taken).
static void
s_message_action(sw_wasess_t *sess, sw_cmd_t **cmd_p, const char *name,
                 json_t *value)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *id = cm_msg_str(req, "messageId");
    if (!id || !*id || strlen(id) > 128) {
        json_decref(value);
        sw_cmd_reply(cmd_p, 400, "messageId must be a message id", NULL);
        return;
    }
    json_t *from_me = json_object_get(cm_msg_body(req), "fromMe");
    char *chat = s_chat(cmd_p, "chatId");
    if (!chat) {
        json_decref(value);
        return;
    }
    json_t *actions = json_array();
    json_array_append_new(
        actions, s_action(json_pack("[s,s,s,s,s]", name, chat, id,
                                    json_is_true(from_me) ? "1" : "0", "0"),
                          value, false));
    free(chat);
    s_push(sess, cmd_p, actions);
}

void
sw_waappstate_star(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    int star = s_bool(cmd_p, "star");
    if (star >= 0) {
        s_message_action(sess, cmd_p, "star",
                         json_pack("{s:b}", "starred", star));
    }
}

void
sw_waappstate_delete_message(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    json_t *value = json_pack("{s:b}", "deleteMedia", false);
    json_t *ts = json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)),
                                 "messageTimestamp");
    if (json_is_integer(ts) && json_integer_value(ts) > 0) {
        json_object_set(value, "messageTimestamp", ts);
    }
    s_message_action(sess, cmd_p, "deleteMessageForMe", value);
}

//  A name field: 1..SW_WAAPPSTATE_NAME_MAX bytes (optional: NULL ok).
//  Returns 0, or -1 after a 400.
static int
s_name(sw_cmd_t **cmd_p, const char *field, bool required, const char **out)
{
    *out = cm_msg_str(sw_cmd_request(*cmd_p), field);
    if ((!*out && required) ||
        (*out && (!**out || strlen(*out) > SW_WAAPPSTATE_NAME_MAX))) {
        char *reason =
            cm_sprintf("%s must be 1..%d bytes", field, SW_WAAPPSTATE_NAME_MAX);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return -1;
    }
    return 0;
}

void
sw_waappstate_contact(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *first = NULL, *last = NULL;
    if (s_name(cmd_p, "firstName", true, &first) ||
        s_name(cmd_p, "lastName", false, &last)) {
        return;
    }
    char *chat = s_chat(cmd_p, "chatId");
    if (!chat) {
        return;
    }
    if (!strstr(chat, "@s.whatsapp.net")) {
        free(chat);
        sw_cmd_reply(cmd_p, 400, "chatId must be a contact (…@c.us)", NULL);
        return;
    }
    char *full = last ? cm_sprintf("%s %s", first, last) : cm_strdup(first);
    json_t *value = json_pack("{s:s, s:s, s:s}", "fullName", full, "firstName",
                              first, "pnJid", chat);
    free(full);
    json_t *actions = json_array();
    json_array_append_new(
        actions, s_action(json_pack("[s,s]", "contact", chat), value, false));
    free(chat);
    s_push(sess, cmd_p, actions);
}

void
sw_waappstate_push_name(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *name = NULL;
    if (s_name(cmd_p, "pushName", true, &name)) {
        return;
    }
    json_t *actions = json_array();
    json_array_append_new(actions,
                          s_action(json_pack("[s]", "setting_pushName"),
                                   json_pack("{s:s}", "name", name), false));
    s_push(sess, cmd_p, actions);
}

void
sw_waappstate_label_upsert(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *id = s_label_id(cmd_p, "id");
    const char *name = NULL;
    if (!id || s_name(cmd_p, "title", true, &name)) {
        return;
    }
    json_t *color =
        json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), "color");
    if (!json_is_integer(color) ||
        !sw_waappstate_color_hex((int)json_integer_value(color))) {
        sw_cmd_reply(cmd_p, 400, "color must be 0..19", NULL);
        return;
    }
    json_t *value = json_pack("{s:s, s:I, s:b}", "name", name, "color",
                              json_integer_value(color), "deleted", false);
    json_t *actions = json_array();
    json_array_append_new(
        actions, s_action(json_pack("[s,s]", "label_edit", id), value, false));
    s_push(sess, cmd_p, actions);
}

void
sw_waappstate_label_delete(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *id = s_label_id(cmd_p, "id");
    if (!id) {
        return;
    }
    const char *name = cm_msg_str(sw_cmd_request(*cmd_p), "title");
    json_t *value = json_pack("{s:b}", "deleted", true);
    if (name && strlen(name) <= SW_WAAPPSTATE_NAME_MAX) {
        json_object_set_new(value, "name", json_string(name));
    }
    json_t *actions = json_array();
    json_array_append_new(
        actions, s_action(json_pack("[s,s]", "label_edit", id), value, false));
    s_push(sess, cmd_p, actions);
}

void
sw_waappstate_label_chat(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *id = s_label_id(cmd_p, "labelId");
    if (!id) {
        return;
    }
    int labeled = s_bool(cmd_p, "labeled");
    if (labeled < 0) {
        return;
    }
    char *chat = s_chat(cmd_p, "chatId");
    if (!chat) {
        return;
    }
    json_t *actions = json_array();
    json_array_append_new(
        actions, s_action(json_pack("[s,s,s]", "label_jid", id, chat),
                          json_pack("{s:b}", "labeled", labeled), false));
    free(chat);
    s_push(sess, cmd_p, actions);
}

//  The store took every change the push made (an empty appstate.apply
//  after them, in order): answer the command held under the key.
static void
s_stored(sw_session_t *session, int st, void *arg)
{
    char *key = (char *)arg;
    sw_wasess_t *sess = sw_wa_sess(session);
    sw_cmd_t *cmd = sess ? sw_wasess_release(sess, key, NULL) : NULL;
    if (cmd && st >= 200 && st < 300) {
        json_t *body = json_pack("{s:b}", "success", true);
        sw_cmd_reply(&cmd, 200, NULL, &body);
    } else if (cmd) {
        sw_cmd_reply(&cmd, 503, "could not store the change", NULL);
    }
    free(key);
}

void
sw_waappstate_on_pushed(sw_wasess_t *sess, const wa_client_pushed_t *ev)
{
    sw_cmd_t *cmd = sw_wasess_release(sess, ev->id, NULL);
    if (!cmd) {
        return;
    }
    if (ev->ok) {
        //  Answer once the store has what the push changed, so that a
        //  read right after the answer sees it
        char *key = cm_sprintf("%s-stored", ev->id);
        sw_wasess_hold(sess, &cmd, key, "could not store the change in time",
                       NULL);
        json_t *body = json_pack("{s:[]}", "changes");
        if (sw_session_write(sw_wasess_session(sess), "appstate.apply", &body,
                             s_stored, key) != 0) {
            free(key);
        }
    } else if (ev->error == 0) {
        sw_cmd_reply(&cmd, 503, ev->reason ? ev->reason : "not ready", NULL);
    } else {
        char *reason =
            cm_sprintf("WhatsApp did not take the change: %s "
                       "(error %d)",
                       ev->reason ? ev->reason : "refused", ev->error);
        sw_cmd_reply(&cmd, 502, reason, NULL);
        free(reason);
    }
}

//  ---------------------------------------------------------------------
//  External blobs

static void
s_b64(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
    if (data && len) {
        char *b = cm_base64_encode(data, len);
        json_object_set_new(obj, key, json_string(b));
        free(b);
    }
}

static void
s_blob_done(sw_wasess_t *sess, int st, const char *reason, cm_msg_t *reply,
            void *arg)
{
    char *id = (char *)arg;
    zframe_t *blob = st == 200 && reply ? cm_msg_blob(reply, 0) : NULL;
    wa_client_t *client = sess ? sw_wasess_client(sess) : NULL;
    if (client) {
        if (!blob) {
            cm_log_warn("app-state blob not downloaded",
                        "session=\"%s\" id=%s st=%d reason=\"%s\"",
                        sw_wasess_name(sess), id, st, reason ? reason : "");
        }
        wa_client_appstate_blob(client, id, blob ? zframe_data(blob) : NULL,
                                blob ? zframe_size(blob) : 0);
    }
    free(id);
}

void
sw_waappstate_on_blob(sw_wasess_t *sess, const wa_client_appstate_blob_t *ev)
{
    json_t *req = json_pack("{s:s, s:s, s:b}", "kind", "md-app-state",
                            "directPath", ev->direct_path, "return", 1);
    s_b64(req, "mediaKey", ev->media_key, ev->media_key_len);
    s_b64(req, "fileSha256", ev->file_sha256, ev->file_sha256_len);
    s_b64(req, "fileEncSha256", ev->file_enc_sha256, ev->file_enc_sha256_len);
    sw_wamedia_download(sess, &req, s_blob_done, cm_strdup(ev->id));
}

//  ---------------------------------------------------------------------
//  Mutations into store changes and events

static json_t *
s_api(const char *wire)
{
    char *api = wire ? wa_jid_to_api(wire) : NULL;
    json_t *out = api ? json_string(api) : NULL;
    free(api);
    return out;
}

static json_t *
s_label_json(const char *id, const json_t *value)
{
    json_t *color = json_object_get(value, "color");
    int c = json_is_integer(color) ? (int)json_integer_value(color) : 0;
    const char *hex = sw_waappstate_color_hex(c);
    const char *name = json_string_value(json_object_get(value, "name"));
    return json_pack("{s:s, s:s, s:i, s:s}", "id", id, "name", name ? name : "",
                     "color", c, "colorHex", hex ? hex : wa_syncd_label_hex(0));
}

json_t *
sw_waappstate_change(const json_t *action, const char **event_p,
                     json_t **payload_p)
{
    *event_p = NULL;
    *payload_p = NULL;
    const json_t *index = json_object_get(action, "index");
    const json_t *value = json_object_get(action, "value");
    bool remove =
        cm_streq(json_string_value(json_object_get(action, "op")), "remove");
    int64_t ts_ms = json_integer_value(json_object_get(action, "timestamp"));
    const char *name = json_string_value(json_array_get(index, 0));
    const char *a1 = json_string_value(json_array_get(index, 1));
    const char *a2 = json_string_value(json_array_get(index, 2));
    const char *a3 = json_string_value(json_array_get(index, 3));
    if (!name) {
        return NULL;
    }
    json_t *chat = NULL;
    json_t *change = NULL;
    if (!strcmp(name, "archive") && (chat = s_api(a1))) {
        bool archived =
            !remove && json_is_true(json_object_get(value, "archived"));
        change = json_pack("{s:s, s:O, s:b}", "kind", "chat", "chat", chat,
                           "archived", archived);
        *event_p = "chat.archive";
        *payload_p =
            json_pack("{s:O, s:b, s:I}", "id", chat, "archived", archived,
                      "timestamp", (json_int_t)(ts_ms / 1000));
    } else if (!strcmp(name, "pin_v1") && (chat = s_api(a1))) {
        change = json_pack(
            "{s:s, s:O, s:b}", "kind", "chat", "chat", chat, "pinned",
            !remove && json_is_true(json_object_get(value, "pinned")));
    } else if (!strcmp(name, "mute") && (chat = s_api(a1))) {
        bool muted = !remove && json_is_true(json_object_get(value, "muted"));
        json_t *end = json_object_get(value, "muteEndTimestamp");
        int64_t until = !muted ? 0
                        : json_is_integer(end) && json_integer_value(end) > 0
                            ? json_integer_value(end) / 1000
                            : -1;
        change = json_pack("{s:s, s:O, s:I}", "kind", "chat", "chat", chat,
                           "mutedUntil", (json_int_t)until);
    } else if (!strcmp(name, "markChatAsRead") && (chat = s_api(a1))) {
        bool read = remove || json_is_true(json_object_get(value, "read"));
        change = json_pack("{s:s, s:O, s:i}", "kind", "chat", "chat", chat,
                           "unread", read ? 0 : -1);
    } else if (!strcmp(name, "star") && a2 && (chat = s_api(a1))) {
        change = json_pack(
            "{s:s, s:O, s:s, s:b, s:b}", "kind", "star", "chat", chat, "id", a2,
            "fromMe", cm_streq(a3, "1"), "starred",
            !remove && json_is_true(json_object_get(value, "starred")));
    } else if (!strcmp(name, "deleteMessageForMe") && a2 &&
               (chat = s_api(a1))) {
        change = json_pack("{s:s, s:O, s:s, s:b}", "kind", "message_delete",
                           "chat", chat, "id", a2, "fromMe", cm_streq(a3, "1"));
    } else if (!strcmp(name, "clearChat") && (chat = s_api(a1))) {
        change = json_pack("{s:s, s:O}", "kind", "chat_clear", "chat", chat);
    } else if (!strcmp(name, "deleteChat") && (chat = s_api(a1))) {
        change = json_pack("{s:s, s:O}", "kind", "chat_delete", "chat", chat);
    } else if (!strcmp(name, "contact") && (chat = s_api(a1))) {
        const char *full =
            json_string_value(json_object_get(value, "fullName"));
        const char *first =
            json_string_value(json_object_get(value, "firstName"));
        change = json_pack("{s:s, s:O, s:s?, s:s?}", "kind", "contact", "jid",
                           chat, "name", remove ? NULL : full, "shortName",
                           remove ? NULL : first);
    } else if (!strcmp(name, "label_edit") && a1) {
        bool deleted =
            remove || json_is_true(json_object_get(value, "deleted"));
        json_t *label = s_label_json(a1, value);
        change =
            json_pack("{s:s, s:s, s:O, s:O, s:O, s:b}", "kind", "label", "id",
                      a1, "name", json_object_get(label, "name"), "color",
                      json_object_get(label, "color"), "colorHex",
                      json_object_get(label, "colorHex"), "deleted", deleted);
        *event_p = deleted ? "label.deleted" : "label.upsert";
        *payload_p = label;
    } else if (!strcmp(name, "label_jid") && a1 && (chat = s_api(a2))) {
        bool labeled =
            !remove && json_is_true(json_object_get(value, "labeled"));
        change = json_pack("{s:s, s:s, s:O, s:b}", "kind", "label_chat",
                           "labelId", a1, "chat", chat, "labeled", labeled);
        *event_p = labeled ? "label.chat.added" : "label.chat.deleted";
        *payload_p = json_pack("{s:s, s:O, s:n}", "labelId", a1, "chatId", chat,
                               "label");
    }
    json_decref(chat);
    return change;
}

//  label.chat.* events waiting for their label: the association is
//  written first, then the label is read back from the store (so a
//  label made in the same patch is there), then the event goes out. An
//  event is kept here, not in a callback's argument, so that a stop in
//  between frees it.
#define S_LABEL_EVENTS "appstate.label_events"

typedef struct {
    zhashx_t *pending; //  "<seq>" -> payload (json_t)
    uint64_t next;     //  next sequence number
} s_label_events_t;

static void
s_label_events_free(void **state_p)
{
    s_label_events_t *self = (s_label_events_t *)*state_p;
    if (self) {
        zhashx_destroy(&self->pending);
        free(self);
        *state_p = NULL;
    }
}

static void
s_json_free(void **item_p)
{
    json_t *j = (json_t *)*item_p;
    json_decref(j);
    *item_p = NULL;
}

static s_label_events_t *
s_label_events(sw_wasess_t *sess)
{
    s_label_events_t *self =
        (s_label_events_t *)sw_wasess_state(sess, S_LABEL_EVENTS);
    if (!self) {
        self = cm_alloc(sizeof *self);
        self->pending = zhashx_new();
        zhashx_set_destructor(self->pending, s_json_free);
        sw_wasess_set_state(sess, S_LABEL_EVENTS, self, s_label_events_free);
    }
    return self;
}

//  Take back the event under seq (caller owns), or NULL.
static json_t *
s_label_event_take(sw_session_t *session, void *arg)
{
    sw_wasess_t *sess = sw_wa_sess(session);
    s_label_events_t *self =
        sess ? (s_label_events_t *)sw_wasess_state(sess, S_LABEL_EVENTS) : NULL;
    if (!self) {
        return NULL;
    }
    char key[24];
    snprintf(key, sizeof key, "%" PRIuPTR, (uintptr_t)arg);
    json_t *payload = (json_t *)zhashx_lookup(self->pending, key);
    if (payload) {
        json_incref(payload);
        zhashx_delete(self->pending, key);
    }
    return payload;
}

static void
s_label_emit(sw_session_t *session, json_t *payload)
{
    const char *event = json_is_true(json_object_get(payload, "_added"))
                            ? "label.chat.added"
                            : "label.chat.deleted";
    json_object_del(payload, "_added");
    sw_session_emit(session, event, &payload);
}

static void
s_label_got(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    json_t *payload = s_label_event_take(session, arg);
    if (!payload) {
        return;
    }
    json_t *label = *reply_p && cm_msg_status(*reply_p) == 200
                        ? json_object_get(cm_msg_body(*reply_p), "label")
                        : NULL;
    if (json_is_object(label)) {
        json_object_set(payload, "label", label);
    }
    s_label_emit(session, payload);
}

static void
s_label_written(sw_session_t *session, int st, void *arg)
{
    sw_wasess_t *sess = sw_wa_sess(session);
    s_label_events_t *self =
        sess ? (s_label_events_t *)sw_wasess_state(sess, S_LABEL_EVENTS) : NULL;
    if (!self) {
        return;
    }
    char key[24];
    snprintf(key, sizeof key, "%" PRIuPTR, (uintptr_t)arg);
    json_t *payload = (json_t *)zhashx_lookup(self->pending, key);
    if (!payload) {
        return;
    }
    if (st < 200 || st >= 300) {
        //  Not stored: the event still says what changed
        s_label_emit(session, s_label_event_take(session, arg));
        return;
    }
    cm_msg_t *get = cm_msg_new("label.get");
    cm_msg_set_str(get, "name", sw_wasess_name(sess));
    cm_msg_set_str(get, "labelId",
                   json_string_value(json_object_get(payload, "labelId")));
    sw_session_store_send(session, &get, SW_WRITE_TIMEOUT_MS, s_label_got, arg);
}

//  Write the association (body taken), then emit its event (taken) with
//  the label as the store has it.
static void
s_label_chat_event(sw_wasess_t *sess, json_t **body_p, json_t **payload_p,
                   bool added)
{
    s_label_events_t *self = s_label_events(sess);
    uintptr_t seq = (uintptr_t)++self->next;
    char key[24];
    snprintf(key, sizeof key, "%" PRIuPTR, seq);
    json_object_set_new(*payload_p, "_added", json_boolean(added));
    zhashx_insert(self->pending, key, *payload_p);
    *payload_p = NULL;
    sw_session_write(sw_wasess_session(sess), "appstate.apply", body_p,
                     s_label_written, (void *)seq);
}

void
sw_waappstate_on_appstate(sw_wasess_t *sess, const wa_client_appstate_t *ev)
{
    sw_session_t *session = sw_wasess_session(sess);
    const json_t *index = json_object_get(ev->action, "index");
    const char *name = json_string_value(json_array_get(index, 0));
    if (cm_streq(name, "setting_pushName")) {
        const char *push = json_string_value(
            json_object_get(json_object_get(ev->action, "value"), "name"));
        sw_wamessage_push_name(sess, push); //  me, presence, engine
        return;
    }
    const char *event = NULL;
    json_t *payload = NULL;
    json_t *change = sw_waappstate_change(ev->action, &event, &payload);
    if (!change) {
        cm_log_debug("app-state mutation kept in the state only",
                     "session=\"%s\" collection=%s action=%s",
                     sw_wasess_name(sess), ev->collection, name ? name : "?");
        return;
    }
    json_t *body = json_pack("{s:[o]}", "changes", change);
    if (event && !ev->initial && !strncmp(event, "label.chat.", 11)) {
        s_label_chat_event(sess, &body, &payload,
                           cm_streq(event, "label.chat.added"));
        return;
    }
    sw_session_write(session, "appstate.apply", &body, NULL, NULL);
    if (event && !ev->initial) {
        sw_session_emit(session, event, &payload);
    }
    json_decref(payload);
}

//  ---------------------------------------------------------------------

void
sw_waappstate_test(bool verbose)
{
    printf(" * sw_waappstate: ");
    (void)verbose;
    assert(cm_streq(sw_waappstate_color_hex(0), "#ff9485"));
    assert(cm_streq(sw_waappstate_color_hex(19), "#9368cf"));
    assert(!sw_waappstate_color_hex(20));
    assert(!sw_waappstate_color_hex(-1));

    const char *event = NULL;
    json_t *payload = NULL;
    json_t *a = json_loads(
        "{\"index\":[\"archive\",\"15550000002@s.whatsapp.net\"],\"op\":"
        "\"set\",\"timestamp\":1700000000123,\"value\":{\"archived\":true}}",
        0, NULL);
    json_t *c = sw_waappstate_change(a, &event, &payload);
    assert(c && cm_streq(event, "chat.archive"));
    assert(cm_streq(json_string_value(json_object_get(c, "chat")),
                    "15550000002@c.us"));
    assert(json_is_true(json_object_get(c, "archived")));
    assert(cm_streq(json_string_value(json_object_get(payload, "id")),
                    "15550000002@c.us"));
    assert(json_integer_value(json_object_get(payload, "timestamp")) ==
           1700000000);
    assert(json_object_size(payload) == 3);
    json_decref(c);
    json_decref(payload);
    json_decref(a);

    a = json_loads(
        "{\"index\":[\"label_edit\",\"3\"],\"op\":\"set\","
        "\"value\":{\"name\":\"VIP\",\"color\":2,\"deleted\":false}}",
        0, NULL);
    c = sw_waappstate_change(a, &event, &payload);
    assert(c && cm_streq(event, "label.upsert"));
    assert(cm_streq(json_string_value(json_object_get(payload, "colorHex")),
                    "#ffd429"));
    assert(json_integer_value(json_object_get(payload, "color")) == 2);
    assert(json_object_size(payload) == 4);
    json_decref(c);
    json_decref(payload);
    json_decref(a);

    a = json_loads("{\"index\":[\"label_jid\",\"3\",\"120363000000000001@g."
                   "us\"],\"op\":\"set\",\"value\":{\"labeled\":false}}",
                   0, NULL);
    c = sw_waappstate_change(a, &event, &payload);
    assert(c && cm_streq(event, "label.chat.deleted"));
    assert(cm_streq(json_string_value(json_object_get(payload, "chatId")),
                    "120363000000000001@g.us"));
    assert(json_is_null(json_object_get(payload, "label")));
    json_decref(c);
    json_decref(payload);
    json_decref(a);

    a = json_loads("{\"index\":[\"mute\",\"15550000002@s.whatsapp.net\"],"
                   "\"value\":{\"muted\":true,\"muteEndTimestamp\":-1}}",
                   0, NULL);
    c = sw_waappstate_change(a, &event, &payload);
    assert(c && !event && !payload);
    assert(json_integer_value(json_object_get(c, "mutedUntil")) == -1);
    json_decref(c);
    json_decref(a);

    //  delete for me of our own message: the store needs fromMe
    a = json_loads("{\"index\":[\"deleteMessageForMe\",\"15550000002@s."
                   "whatsapp.net\",\"3EB0AA\",\"1\",\"0\"],\"value\":{"
                   "\"deleteMedia\":false}}",
                   0, NULL);
    c = sw_waappstate_change(a, &event, &payload);
    assert(c && !event && !payload);
    assert(cm_streq(json_string_value(json_object_get(c, "kind")),
                    "message_delete"));
    assert(cm_streq(json_string_value(json_object_get(c, "id")), "3EB0AA"));
    assert(json_is_true(json_object_get(c, "fromMe")));
    json_decref(c);
    json_decref(a);

    a = json_loads("{\"index\":[\"quick_reply\",\"1\"]}", 0, NULL);
    assert(!sw_waappstate_change(a, &event, &payload));
    json_decref(a);
    printf("OK\n");
}
