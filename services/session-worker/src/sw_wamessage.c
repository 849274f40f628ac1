/*  sw_wamessage - the messages capability of the WhatsApp engine: texts
    and read receipts we send, and the events of messages and receipts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_jid.h"
#include "wa/wa_mediamsg.h"
#include "wa/wa_message.h"

static void
s_str_free(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

//  True if events for `chat` (wire JID) are ignored by config.ignore.
static bool
s_ignored(sw_wasess_t *sess, const char *chat)
{
    json_t *ignore =
        json_object_get(sw_session_config(sw_wasess_session(sess)), "ignore");
    if (!json_is_object(ignore) || !chat) {
        return false;
    }
    const char *at = strchr(chat, '@');
    const char *server = at ? at + 1 : "";
    if (cm_streq(chat, WA_JID_STATUS)) {
        return json_is_true(json_object_get(ignore, "status"));
    }
    if (cm_streq(server, WA_JID_SERVER_GROUP)) {
        return json_is_true(json_object_get(ignore, "groups"));
    }
    if (cm_streq(server, WA_JID_SERVER_NEWSLETTER)) {
        return json_is_true(json_object_get(ignore, "channels"));
    }
    if (cm_streq(server, WA_JID_SERVER_BROADCAST)) {
        return json_is_true(json_object_get(ignore, "broadcast"));
    }
    return false;
}

//  --------------------------------------------------------------------
//  message.send_text

void
sw_wamessage_send_text(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *chat = cm_msg_str(req, "chatId");
    const char *text = cm_msg_str(req, "text");
    const char *reply_to = cm_msg_str(req, "reply_to");
    if (!chat || !text || !*text) {
        sw_cmd_reply(cmd_p, 400, "chatId and text are required", NULL);
        return;
    }
    sw_wamsg_ref_t ref;
    const char *reply_id = NULL;
    const char *reply_part = NULL;
    if (reply_to && *reply_to) {
        if (sw_wamsg_parse_id(reply_to, &ref) != 0) {
            sw_cmd_reply(cmd_p, 400, "reply_to must be a message id", NULL);
            return;
        }
        reply_id = ref.id;
        if (ref.participant[0]) {
            reply_part = ref.participant;
        } else if (ref.has_chat && ref.from_me) {
            reply_part = sw_wasess_me_id(sess);
        }
    }
    char id[WA_CLIENT_ID_MAX];
    if (wa_client_send_text(sw_wasess_client(sess), chat, text, reply_id,
                            reply_part, id) != 0) {
        sw_cmd_reply(cmd_p, 400,
                     "chatId is not a chat this session can "
                     "send to",
                     NULL);
        return;
    }
    //  Answered by sw_wamessage_on_sent when the server acked it. A LID
    //  whose number is known is that number's chat (wa_lidmap)
    char *pn = wa_client_pn_of(sw_wasess_client(sess), chat);
    char *chat_api = sw_wamsg_api_jid(pn ? pn : chat);
    free(pn);
    json_t *data = json_pack("{s:s, s:s}", "chat", chat_api, "text", text);
    if (reply_id) {
        json_object_set_new(data, "reply_to", json_string(reply_id));
    }
    free(chat_api);
    sw_wasess_hold(sess, cmd_p, id,
                   "could not send the message: WhatsApp did not answer in "
                   "time",
                   &data);
}

//  Emit message.any and message.ack SERVER for a send the server took.
static void
s_sent_events(sw_wasess_t *sess, const sw_wamsg_t *w)
{
    const char *name = sw_wasess_name(sess);
    sw_session_t *session = sw_wasess_session(sess);
    char *key = cm_sprintf("%s|%s|", w->chat, w->id);
    char id[SW_WAMSG_EVENT_ID_MAX];
    json_t *payload = sw_wamsg_message(w);
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

void
sw_wamessage_on_sent(sw_wasess_t *sess, const wa_client_sent_t *s)
{
    if (sw_wakinds_on_sent(sess, s)) {
        return; //  a reaction, vote, edit, revoke or pin (sw_wakinds)
    }
    json_t *send = NULL;
    sw_cmd_t *cmd = sw_wasess_release(sess, s->id, &send);
    if (!s->ok) {
        cm_log_warn("could not send message",
                    "session=\"%s\" id=%s error=%d reason=\"%s\"",
                    sw_wasess_name(sess), s->id, s->error,
                    s->reason ? s->reason : "");
        if (cmd) {
            //  404: WhatsApp knows no such user or group. That is the
            //  caller's mistake (422, as WAHA answers a request it cannot
            //  carry out), not a failing upstream.
            const char *chat = json_string_value(json_object_get(send, "chat"));
            //  403: not allowed to write there (not a member, or an
            //  announcement group and not an admin): the caller's too.
            //  A channel that does not exist is a 404 of its own.
            bool channel = chat && strstr(chat, "@newsletter");
            int st = s->error == 404   ? (channel ? 404 : 422)
                     : s->error == 403 ? 403
                     : s->error        ? 502
                                       : 500;
            char *reason =
                channel && s->error == 404
                    ? cm_sprintf("no such channel %s (error 404)", chat)
                : channel && s->error == 403
                    ? cm_sprintf("not allowed to post in %s: only the "
                                 "channel's owner and admins may post "
                                 "(error 403)",
                                 chat)
                : s->error == 404
                    ? cm_sprintf("Recipient %s is not on WhatsApp (%s)",
                                 chat ? chat : "",
                                 s->reason ? s->reason : "not found")
                : s->error == 403
                    ? cm_sprintf("not allowed to write in %s: not a member, "
                                 "or only admins may send there (error 403)",
                                 chat ? chat : "the chat")
                : s->error
                    ? cm_sprintf("WhatsApp did not accept the message: "
                                 "%s (error %d)",
                                 s->reason ? s->reason : "refused", s->error)
                    : cm_sprintf("could not send the message: %s",
                                 s->reason ? s->reason : "failed");
            json_t *missing =
                st == 404 ? json_pack("{s:s}", "missing", "channel") : NULL;
            sw_cmd_reply(&cmd, st, reason, missing ? &missing : NULL);
            free(reason);
        }
        json_decref(send);
        return;
    }
    sw_wamsg_t w = {0};
    w.id = s->id;
    w.chat = send ? json_string_value(json_object_get(send, "chat")) : s->chat;
    w.me = sw_wasess_me_id(sess);
    w.from_me = true;
    w.timestamp = s->timestamp ? s->timestamp : cm_now_ms() / 1000;
    w.body = json_string_value(json_object_get(send, "text"));
    const char *type = json_string_value(json_object_get(send, "type"));
    w.type = type ? type : "chat";
    w.extra = json_object_get(send, "extra");
    w.reply_to = json_string_value(json_object_get(send, "reply_to"));
    w.source = "api";
    w.ack = SW_WAMSG_ACK_SERVER;
    bool group = w.chat && strstr(w.chat, "@g.us");
    w.participant = group ? w.me : NULL;
    if (cmd) {
        json_t *body = sw_wamsg_message(&w);
        sw_cmd_reply(&cmd, 200, NULL, &body);
    }
    if (!s_ignored(sess, w.chat)) {
        s_sent_events(sess, &w);
    }
    json_decref(send);
}

//  --------------------------------------------------------------------
//  message.send_seen

//  Send read receipts for `items` ("id|participant" strings) in chat,
//  one receipt per participant. Returns 0, or -1 if one failed.
static int
s_seen(wa_client_t *client, const char *chat, zlistx_t *items)
{
    size_t n = zlistx_size(items);
    if (n == 0) {
        return 0;
    }
    char **ids = cm_alloc(n * sizeof *ids);
    const char **parts = cm_alloc(n * sizeof *parts);
    const char **batch = cm_alloc(n * sizeof *batch);
    bool *done = cm_alloc(n * sizeof *done);
    size_t i = 0;
    for (const char *e = (const char *)zlistx_first(items); e && i < n;
         e = (const char *)zlistx_next(items), i++) {
        ids[i] = cm_strdup(e);
        char *bar = strchr(ids[i], '|');
        parts[i] = "";
        if (bar) {
            *bar = 0;
            parts[i] = bar + 1;
        }
    }
    int rc = 0;
    for (i = 0; i < n; i++) {
        if (done[i]) {
            continue;
        }
        size_t m = 0;
        for (size_t j = i; j < n; j++) {
            if (!done[j] && cm_streq(parts[j], parts[i])) {
                batch[m++] = ids[j];
                done[j] = true;
            }
        }
        if (wa_client_send_seen(client, chat, *parts[i] ? parts[i] : NULL,
                                batch, m, false) != 0) {
            rc = -1;
        }
    }
    for (i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
    free(parts);
    free(batch);
    free(done);
    return rc;
}

void
sw_wamessage_send_seen(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *chat = cm_msg_str(req, "chatId");
    const char *participant = cm_msg_str(req, "participant");
    json_t *ids = json_object_get(cm_msg_body(req), "messageIds");
    if (!chat) {
        sw_cmd_reply(cmd_p, 400, "chatId is required", NULL);
        return;
    }
    char *chat_api = sw_wamsg_api_jid(chat);
    zlistx_t *items = zlistx_new();
    zlistx_set_destructor(items, s_str_free);
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        sw_wamsg_ref_t ref;
        if (sw_wamsg_parse_id(json_string_value(v), &ref) != 0) {
            zlistx_destroy(&items);
            free(chat_api);
            sw_cmd_reply(cmd_p, 400, "messageIds must hold message ids", NULL);
            return;
        }
        const char *part = ref.participant[0] ? ref.participant : participant;
        zlistx_add_end(items, cm_sprintf("%s|%s", ref.id, part ? part : ""));
    }
    //  No ids: nothing to send (the gateway reads the chat's unread
    //  messages from the store and passes their ids)
    int rc = s_seen(sw_wasess_client(sess), chat_api, items);
    zlistx_destroy(&items);
    free(chat_api);
    if (rc != 0) {
        sw_cmd_reply(cmd_p, 400, "could not send read receipts for that chat",
                     NULL);
        return;
    }
    json_t *body = json_object();
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

//  --------------------------------------------------------------------
//  Received messages and receipts

//  The last event of a received message is stored: send its receipt.
static void
s_stored(sw_session_t *session, int st, void *arg)
{
    sw_wasess_t *sess = sw_wa_sess(session);
    wa_client_t *client = sess ? sw_wasess_client(sess) : NULL;
    if (!client) {
        return;
    }
    if (st < 200 || st >= 300) {
        //  Refused for good (a 4xx): the server would only send it again
        cm_log_error("could not store message event; confirming it anyway",
                     "session=\"%s\" st=%d", sw_session_name(session), st);
    }
    wa_client_receipt_commit(client, (uint64_t)(uintptr_t)arg);
}

//  True for messages that are no chat message of their own: protocol
//  messages (key shares, history notifications, revokes' carriers) and
//  bare sender-key distributions.
static bool
s_internal(const wa_client_message_t *m)
{
    if (cm_streq(m->type, "protocol")) {
        return true;
    }
    const char *group = NULL;
    const uint8_t *key = NULL;
    size_t len = 0;
    return cm_streq(m->type, "unknown") && !m->body && m->message &&
           wa_message_skdm(m->message, &group, &key, &len) == 0;
}

void
sw_wamessage_push_name(sw_wasess_t *sess, const char *push_name)
{
    if (!push_name || !*push_name ||
        cm_streq(push_name, sw_wasess_push_name(sess))) {
        return;
    }
    sw_wasess_set_push_name(sess, push_name);
    if (sw_wasess_client(sess)) {
        wa_client_set_push_name(sw_wasess_client(sess), push_name);
    }
    sw_session_t *session = sw_wasess_session(sess);
    json_t *me = sw_wasess_me(sess);
    if (me && sw_session_status(session) == SW_STATUS_WORKING) {
        json_t *body = json_pack("{s:s, s:O}", "status", "WORKING", "me", me);
        sw_session_write(session, "session.set_status", &body, NULL, NULL);
    }
    json_decref(me);
}

//  Messages our other devices send carry our push name (notify).
static void
s_learn_push_name(sw_wasess_t *sess, const wa_client_message_t *m)
{
    if (m->from_me) {
        sw_wamessage_push_name(sess, m->push_name);
    }
}

json_t *
sw_wamessage_payload(sw_wasess_t *sess, const wa_client_message_t *m, int ack)
{
    sw_wamsg_t w = {0};
    w.id = m->id;
    w.chat = m->chat;
    w.participant = m->participant;
    w.me = sw_wasess_me_id(sess);
    w.from_me = m->from_me;
    w.timestamp = m->timestamp;
    w.body = m->body;
    w.has_media = m->has_media;
    w.mimetype = m->message ? wa_message_mimetype(m->message) : NULL;
    wa_mediamsg_t f;
    if (m->has_media && m->message && wa_mediamsg_read(m->message, &f) == 0) {
        w.filename = f.filename; //  documents (borrowed from m->message)
    }
    w.type = m->type;
    w.reply_to = m->reply_to;
    w.push_name = m->push_name;
    w.source = "app";
    w.ack = ack;
    w.extra = sw_wakinds_on_content(sess, m); //  location, vCards, poll, ...
    json_t *payload = sw_wamsg_message(&w);
    json_decref(w.extra);
    json_t *raw = sw_wafetch_data(m->message);
    if (raw) { //  what a download on demand needs (sw_wafetch)
        json_object_set_new(json_object_get(payload, "_data"), "message", raw);
    }
    return payload;
}

bool
sw_wamessage_on_message(sw_wasess_t *sess, const wa_client_message_t *m)
{
    s_learn_push_name(sess, m);
    if (sw_wahistory_on_message(sess, m)) {
        return false; //  history sync: stored by sw_wahistory
    }
    if (s_ignored(sess, m->chat)) {
        return false;
    }
    int kind = sw_wakinds_on_message(sess, m); //  reactions, edits, ...
    if (kind >= 0) {
        return kind == 1;
    }
    if (s_internal(m)) {
        return false;
    }
    const char *name = sw_wasess_name(sess);
    sw_session_t *session = sw_wasess_session(sess);
    json_t *payload = sw_wamessage_payload(
        sess, m, m->from_me ? SW_WAMSG_ACK_SERVER : SW_WAMSG_ACK_DEVICE);
    char *key = cm_sprintf("%s|%s|%s", m->chat, m->id,
                           m->participant ? m->participant : "");
    int64_t ts = m->timestamp * 1000;
    char id[SW_WAMSG_EVENT_ID_MAX];
    void *token = (void *)(uintptr_t)m->token;
    if (!m->from_me) {
        json_t *copy = json_deep_copy(payload);
        sw_wamedia_fill(sess, m->chat, m->id, copy);
        sw_wamsg_event_id(name, "message", key, ts, id);
        sw_session_emit_id(session, id, "message", &copy, NULL, NULL);
    }
    sw_wamedia_fill(sess, m->chat, m->id, payload);
    sw_wamsg_event_id(name, "message.any", key, ts, id);
    //  Writes are answered in order: once the last one is stored, so is
    //  every event of the message
    sw_session_emit_id(session, id, "message.any", &payload, s_stored, token);
    free(key);
    //  The receipt waits for s_stored (never, if the session stops first:
    //  the server then delivers the message again)
    return true;
}

void
sw_wamessage_on_ack(sw_wasess_t *sess, const wa_client_ack_t *a)
{
    if (s_ignored(sess, a->chat)) {
        return;
    }
    json_t *payload = sw_wamsg_ack(a->chat, a->id, a->participant,
                                   sw_wasess_me_id(sess), !a->from_me, a->ack);
    //  from_me on a receipt means one of our devices read a message
    //  somebody sent us; otherwise it is about one of ours
    char *key =
        cm_sprintf("%s|%s|%s|%d|%d", a->chat, a->id,
                   a->participant ? a->participant : "", a->ack, a->from_me);
    char id[SW_WAMSG_EVENT_ID_MAX];
    int64_t ts = a->timestamp ? a->timestamp * 1000 : cm_now_ms();
    sw_wamsg_event_id(sw_wasess_name(sess), "message.ack", key, ts, id);
    sw_session_emit_id(sw_wasess_session(sess), id, "message.ack", &payload,
                       NULL, NULL);
    free(key);
}

//  --------------------------------------------------------------------
//  Self test: answers and events from the engine's events (sending
//  itself is exercised against wa-sim by sw_wa's test)

static const sw_wacmd_t t_table[] = {
    SW_WAMESSAGE_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

void
sw_wamessage_test(bool verbose)
{
    printf(" * sw_wamessage: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_session_t *session = sw_wasess_session(sess);
    sw_wasess_set_me(sess, "15550001111@c.us", NULL, NULL);
    //  Both commands want a WORKING session
    cm_msg_t *reply = sw_wasess_rig_call(
        rig, "message.send_text",
        json_pack("{s:s, s:s}", "chatId", "15550002222@c.us", "text", "x"),
        1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);
    reply = sw_wasess_rig_call(rig, "message.send_seen",
                               json_pack("{s:s}", "chatId", "15550002222@c.us"),
                               1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);

    //  The server acked a held send: the WAMessage, message.any and
    //  message.ack SERVER
    size_t queued = sw_session_queued(session);
    sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, "message.send_text", NULL);
    json_t *data =
        json_pack("{s:s, s:s}", "chat", "15550002222@c.us", "text", "hello");
    sw_wasess_hold(sess, &cmd, "M1", NULL, &data);
    wa_client_sent_t sent = {
        "M1", "15550002222@s.whatsapp.net", true, 0, NULL, 1700000000};
    sw_wamessage_on_sent(sess, &sent);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "id"), "true_15550002222@c.us_M1"));
    assert(cm_streq(cm_msg_str(reply, "body"), "hello"));
    assert(cm_streq(cm_msg_str(reply, "to"), "15550002222@c.us"));
    assert(cm_msg_int(reply, "ack", 0) == SW_WAMSG_ACK_SERVER);
    cm_msg_destroy(&reply);
    assert(sw_session_queued(session) == queued + 2);
    //  Refused by the server: 502 with its code
    cmd = sw_wasess_rig_cmd(rig, "message.send_text", NULL);
    sw_wasess_hold(sess, &cmd, "M2", NULL, NULL);
    wa_client_sent_t refused = {
        "M2", "15550002222@s.whatsapp.net", false, 479, "refused", 0};
    sw_wamessage_on_sent(sess, &refused);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 502);
    assert(strstr(cm_msg_reason(reply), "(error 479)"));
    cm_msg_destroy(&reply);
    //  A recipient WhatsApp does not know: 422 naming it
    cmd = sw_wasess_rig_cmd(rig, "message.send_text", NULL);
    data = json_pack("{s:s}", "chat", "15550009999@c.us");
    sw_wasess_hold(sess, &cmd, "M4", NULL, &data);
    wa_client_sent_t unknown = {
        "M4", "15550009999@s.whatsapp.net", false, 404, "not found", 0};
    sw_wamessage_on_sent(sess, &unknown);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 422);
    assert(cm_streq(cm_msg_reason(reply),
                    "Recipient 15550009999@c.us is not on WhatsApp (not "
                    "found)"));
    cm_msg_destroy(&reply);
    //  A send nobody waits for (sent from the phone's API before a
    //  restart) still gives its events
    queued = sw_session_queued(session);
    wa_client_sent_t lone = {
        "M3", "15550002222@s.whatsapp.net", true, 0, NULL, 1700000001};
    sw_wamessage_on_sent(sess, &lone);
    assert(sw_session_queued(session) == queued + 2);

    //  A received message: message and message.any, its receipt waits
    //  for the store; config.ignore is not set
    wa_client_message_t m = {0};
    m.id = "IN1";
    m.chat = "15550002222@s.whatsapp.net";
    m.sender = "15550002222@s.whatsapp.net";
    m.timestamp = 1700000002;
    m.type = "chat";
    m.body = "hi";
    queued = sw_session_queued(session);
    assert(sw_wamessage_on_message(sess, &m));
    assert(sw_session_queued(session) == queued + 2);
    //  Ours from another device: message.any only
    m.id = "IN2";
    m.from_me = true;
    queued = sw_session_queued(session);
    assert(sw_wamessage_on_message(sess, &m));
    assert(sw_session_queued(session) == queued + 1);
    //  A receipt: message.ack
    wa_client_ack_t ack = {"M1",  "15550002222@s.whatsapp.net", NULL,
                           false, WA_CLIENT_ACK_READ,           1700000003};
    queued = sw_session_queued(session);
    sw_wamessage_on_ack(sess, &ack);
    assert(sw_session_queued(session) == queued + 1);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
