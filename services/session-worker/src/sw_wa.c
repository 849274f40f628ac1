/*  sw_wa - the WhatsApp engine: one wa_client per session over wa_conn
    (WebSocket + Noise), all driven by the worker's sw_loop

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "sw_wa.h"
#include "wa/wa_binary.h"
#include "wa/wa_client.h"
#include "wa/wa_conn.h"
#include "wa/wa_crypto.h"
#include "wa/wa_group.h"
#include "wa/wa_jid.h"
#include "wa/wa_message.h"
#include "wa/wa_ws.h"

//  Engine state, shared by every session.
typedef struct {
    const sw_config_t *config; //  configuration, borrowed
    sw_url_t *url;             //  parsed WA_URL
    wa_ws_t *ws;               //  the WebSocket loop (one descriptor)
    sw_loop_t *loop;           //  the worker's loop, set on first start
    uint64_t kick_timer;       //  service the WebSocket loop now
    uint64_t deadline_timer;   //  service it when its timers are due
    int qr_first_ms;           //  WA_QR_FIRST_MS
    int qr_next_ms;            //  WA_QR_NEXT_MS
    int send_timeout_ms;       //  WA_SEND_TIMEOUT_MS
    struct sockaddr_storage addr; //  WA_URL's address, for diagnostics
    socklen_t addr_len;        //  0 when not resolved
    int64_t resolved_at;       //  mono ms of the last resolution
} s_engine_t;

//  Connection phases of a session.
typedef enum {
    S_LOADING,    //  reading creds and Signal records from the store
    S_CONNECTING, //  WebSocket + handshake under way
    S_OPEN,       //  handshake done, wa_client talks
    S_WAITING,    //  a reconnect (or a store retry) is scheduled
    S_IDLE        //  stopped for good: QR expired, logged out, replaced
} s_phase_t;

//  A text being sent, until the server acks it.
typedef struct {
    sw_cmd_t *cmd;  //  the gateway command, or NULL once answered
    char *chat;     //  destination (API form)
    char *text;     //  the text
    char *reply_to; //  quoted stanza id, or NULL
} s_send_t;

//  Per-session state.
typedef struct {
    s_engine_t *engine;        //  the engine
    sw_session_t *session;     //  the session
    wa_client_t *client;       //  protocol state, created once loaded
    wa_conn_t *conn;           //  the connection, or NULL
    s_phase_t phase;           //  where we are
    unsigned attempt;          //  failures in a row (backoff)
    uint64_t retry_timer;      //  reconnect / reload, 0 when none
    uint64_t client_timer;     //  wa_client wake-up, 0 when none
    uint64_t action_timer;     //  deferred closing state, 0 when none
    uint64_t flush_timer;      //  persistence flush, 0 when none
    uint64_t pair_timer;       //  pairing code deadline, 0 when none
    uint64_t logout_timer;     //  logout deadline, 0 when none
    wa_client_state_t closing; //  closing state to act on, or 0
    char *closing_reason;      //  its reason
    json_t *creds;             //  device.get result until connected
    json_t *rows;              //  signal.load result until connected
    int loads;                 //  loads outstanding
    bool load_failed;          //  one of them failed
    bool creds_dirty;          //  credentials changed since the last put
    int puts;                  //  device.put / signal.put in the queue
    sw_wajournal_t *journal;   //  Signal changes not written yet
    zhashx_t *sends;           //  message id -> s_send_t
    sw_cmd_t *pair_cmd;        //  session.pair_code waiting for the server
    char pair_code[WA_CLIENT_CODE_MAX]; //  its code
    zhashx_t *unread;          //  chat (API) -> zlistx of ids (sendSeen)
    char *me_id;               //  "<phone>@c.us" once known
    char *me_lid;              //  "<lid>@lid" or NULL
    char *push_name;           //  our push name or NULL
    bool opened;               //  the current connection got OPEN
    bool logging_out;          //  a logout runs
    int diag_fd;               //  diagnostic TCP connect, -1 when none
    uint64_t diag_timer;       //  its deadline, 0 when none
    char *diag_text;           //  what the WebSocket layer said
} s_sess_t;

static void s_connect(s_sess_t *ss);
static void s_schedule_flush(s_sess_t *ss);

//  --------------------------------------------------------------------
//  The WebSocket loop on sw_loop: its descriptor, plus a timer for the
//  work it says is due (wa_ws_timeout); sends queued from outside its
//  callbacks "kick" it on the next loop round.

static void s_service(s_engine_t *e);

static void
s_kick_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_engine_t *e = (s_engine_t *)arg;
    e->kick_timer = 0;
    s_service(e);
}

static void
s_kick(s_engine_t *e)
{
    if (e->loop && !e->kick_timer) {
        e->kick_timer = sw_loop_timer_add(e->loop, 0, false, s_kick_timer, e);
    }
}

static void
s_deadline_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_engine_t *e = (s_engine_t *)arg;
    e->deadline_timer = 0;
    s_service(e);
}

static void
s_service(s_engine_t *e)
{
    wa_ws_service(e->ws);
    long t = wa_ws_timeout(e->ws);
    if (e->deadline_timer) {
        sw_loop_timer_cancel(e->loop, e->deadline_timer);
        e->deadline_timer = 0;
    }
    if (t == 0) {
        s_kick(e);
    } else if (t > 0) {
        e->deadline_timer = sw_loop_timer_add(
            e->loop, t > INT_MAX ? INT_MAX : (int)t, false, s_deadline_timer,
            e);
    }
}

static void
s_ws_ready(sw_loop_t *loop, int fd, int revents, void *arg)
{
    s_service((s_engine_t *)arg);
}

//  Register the WebSocket loop with the worker's loop (once).
static int
s_attach(s_engine_t *e, sw_loop_t *loop)
{
    if (e->loop) {
        assert(e->loop == loop);
        return 0;
    }
    if (sw_loop_fd_add(loop, wa_ws_fd(e->ws), POLLIN, s_ws_ready, e) != 0) {
        return -1;
    }
    e->loop = loop;
    return 0;
}

//  --------------------------------------------------------------------
//  Small helpers

static sw_loop_t *
s_loop(s_sess_t *ss)
{
    return ss->engine->loop;
}

static void
s_cancel(s_sess_t *ss, uint64_t *timer)
{
    if (*timer) {
        sw_loop_timer_cancel(s_loop(ss), *timer);
        *timer = 0;
    }
}

static const char *
s_name(s_sess_t *ss)
{
    return sw_session_name(ss->session);
}

static void
s_send_free(void **item_p)
{
    s_send_t *s = (s_send_t *)*item_p;
    if (s) {
        if (s->cmd) {
            sw_cmd_reply(&s->cmd, 503, "session stopped", NULL);
        }
        free(s->chat);
        free(s->text);
        free(s->reply_to);
        free(s);
        *item_p = NULL;
    }
}

static void
s_list_free(void **item_p)
{
    zlistx_t *list = (zlistx_t *)*item_p;
    zlistx_destroy(&list);
    *item_p = NULL;
}

static void
s_str_free(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

//  The `me` object for set_status. Caller owns return value.
static json_t *
s_me_json(s_sess_t *ss)
{
    json_t *me = json_pack("{s:s}", "id", ss->me_id);
    if (ss->me_lid) {
        json_object_set_new(me, "lid", json_string(ss->me_lid));
    }
    //  WAHA's MeInfo requires pushName; before WhatsApp has told us ours
    //  it is "" (as GOWS reports an unknown one)
    json_object_set_new(me, "pushName",
                        json_string(ss->push_name ? ss->push_name : ""));
    return me;
}

//  True if events for `chat` (wire JID) are ignored by config.ignore.
static bool
s_ignored(s_sess_t *ss, const char *chat)
{
    json_t *ignore =
        json_object_get(sw_session_config(ss->session), "ignore");
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
//  Persistence

//  A device.put or signal.put was answered.
static void
s_put_done(sw_session_t *session, int st, void *arg)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    if (!ss) {
        return;
    }
    if (st < 200 || st >= 300) {
        cm_log_error("could not store WhatsApp state",
                     "session=\"%s\" type=%s st=%d", s_name(ss),
                     (const char *)arg, st);
    }
    if (ss->puts > 0) {
        ss->puts--;
    }
    if (ss->puts == 0 &&
        (ss->creds_dirty || sw_wajournal_size(ss->journal) > 0)) {
        s_schedule_flush(ss);
    }
}

//  Queue the pending credentials and Signal changes: one put of each at
//  a time, so changes made meanwhile coalesce into the next one.
static void
s_flush(s_sess_t *ss)
{
    if (ss->puts > 0 || !ss->client) {
        return;
    }
    if (ss->creds_dirty) {
        ss->creds_dirty = false;
        json_t *body = json_pack("{s:o}", "creds", wa_client_creds(ss->client));
        if (sw_session_write(ss->session, "device.put", &body, s_put_done,
                             (void *)"device.put") == 0) {
            ss->puts++;
        }
    }
    json_t *rows = sw_wajournal_take(ss->journal, 0);
    if (rows) {
        json_t *body = json_pack("{s:o}", "rows", rows);
        if (sw_session_write(ss->session, "signal.put", &body, s_put_done,
                             (void *)"signal.put") == 0) {
            ss->puts++;
        }
    }
}

static void
s_flush_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->flush_timer = 0;
    s_flush(ss);
}

static void
s_schedule_flush(s_sess_t *ss)
{
    if (!ss->flush_timer) {
        ss->flush_timer = sw_loop_timer_add(s_loop(ss), SW_WA_FLUSH_MS, false,
                                            s_flush_timer, ss);
    }
}

//  --------------------------------------------------------------------
//  wa_client callbacks

static int
s_op_send(void *arg, const wa_node_t *node)
{
    s_sess_t *ss = (s_sess_t *)arg;
    if (!ss->conn || !wa_conn_ready(ss->conn)) {
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *reason = NULL;
    if (wa_binary_encode(node, &buf, &len, &reason) != 0) {
        cm_log_error("could not encode stanza", "session=\"%s\" tag=%s "
                     "reason=\"%s\"", s_name(ss), wa_node_tag(node),
                     reason ? reason : "");
        return -1;
    }
    int rc = wa_conn_send(ss->conn, buf, len);
    free(buf);
    s_kick(ss->engine);
    return rc;
}

static void
s_client_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->client_timer = 0;
    wa_client_wake(ss->client);
}

static void
s_op_timer(void *arg, int64_t delay_ms)
{
    s_sess_t *ss = (s_sess_t *)arg;
    s_cancel(ss, &ss->client_timer);
    if (delay_ms >= 0) {
        ss->client_timer = sw_loop_timer_add(
            s_loop(ss), delay_ms > INT_MAX ? INT_MAX : (int)delay_ms, false,
            s_client_timer, ss);
    }
}

static void s_action_timer(sw_loop_t *loop, uint64_t id, void *arg);

static void
s_reply_pair(s_sess_t *ss, int st, const char *reason)
{
    s_cancel(ss, &ss->pair_timer);
    if (!ss->pair_cmd) {
        return;
    }
    if (st == 200) {
        json_t *body = json_pack("{s:s}", "code", ss->pair_code);
        sw_cmd_reply(&ss->pair_cmd, 200, NULL, &body);
    } else {
        sw_cmd_reply(&ss->pair_cmd, st, reason, NULL);
    }
}

static void
s_op_status(void *arg, const wa_client_status_t *st)
{
    s_sess_t *ss = (s_sess_t *)arg;
    cm_log_debug("whatsapp client state", "session=\"%s\" state=%s",
                 s_name(ss), wa_client_state_name(st->state));
    switch (st->state) {
    case WA_CLIENT_QR: {
        ss->attempt = 0;
        char *uri = cm_qr_data_uri(st->qr, SW_WA_QR_SCALE);
        sw_session_set_status_full(ss->session, SW_STATUS_SCAN_QR_CODE, NULL,
                                   NULL, uri);
        free(uri);
        break;
    }
    case WA_CLIENT_PAIR_CODE:
        if (st->code) {
            snprintf(ss->pair_code, sizeof ss->pair_code, "%s", st->code);
        }
        s_reply_pair(ss, 200, NULL);
        break;
    case WA_CLIENT_PAIR_CODE_FAILED:
        s_reply_pair(ss, 502,
                     st->reason ? st->reason
                                : "WhatsApp refused the pairing code request");
        break;
    case WA_CLIENT_PAIRED:
        cm_log_info("device linked", "session=\"%s\"", s_name(ss));
        ss->creds_dirty = true;
        s_schedule_flush(ss);
        break;
    case WA_CLIENT_WORKING:
        ss->attempt = 0;
        free(ss->me_id);
        free(ss->me_lid);
        free(ss->push_name);
        ss->me_id = st->me_id ? cm_strdup(st->me_id) : NULL;
        ss->me_lid = st->me_lid ? cm_strdup(st->me_lid) : NULL;
        ss->push_name = st->push_name ? cm_strdup(st->push_name) : NULL;
        if (ss->me_id) {
            json_t *me = s_me_json(ss);
            sw_session_set_status_full(ss->session, SW_STATUS_WORKING, NULL,
                                       me, NULL);
            json_decref(me);
        } else {
            sw_session_set_status(ss->session, SW_STATUS_WORKING, NULL);
        }
        break;
    default:
        //  Closing states: act from the loop, outside the client's call
        if (wa_client_state_closing(st->state) && !ss->closing) {
            ss->closing = st->state;
            free(ss->closing_reason);
            ss->closing_reason = st->reason ? cm_strdup(st->reason) : NULL;
            if (!ss->action_timer) {
                ss->action_timer = sw_loop_timer_add(s_loop(ss), 0, false,
                                                     s_action_timer, ss);
            }
        }
        break;
    }
}

static void
s_op_creds(void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->creds_dirty = true;
    s_schedule_flush(ss);
}

static void
s_op_signal(void *arg, const char *kind, const char *key, const uint8_t *data,
            size_t len)
{
    s_sess_t *ss = (s_sess_t *)arg;
    sw_wajournal_put(ss->journal, kind, key, data, len);
    s_schedule_flush(ss);
}

//  The last event of a received message is stored: send its receipt.
static void
s_stored(sw_session_t *session, int st, void *arg)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    if (!ss || !ss->client) {
        return;
    }
    if (st < 200 || st >= 300) {
        //  Refused for good (a 4xx): the server would only send it again
        cm_log_error("could not store message event; confirming it anyway",
                     "session=\"%s\" st=%d", s_name(ss), st);
    }
    wa_client_receipt_commit(ss->client, (uint64_t)(uintptr_t)arg);
}

//  Remember an unread message for sendSeen without ids.
static void
s_unread_add(s_sess_t *ss, const char *chat_api, const char *id,
             const char *participant)
{
    zlistx_t *list = (zlistx_t *)zhashx_lookup(ss->unread, chat_api);
    if (!list) {
        if (zhashx_size(ss->unread) >= 256) {
            return;
        }
        list = zlistx_new();
        zlistx_set_destructor(list, s_str_free);
        zhashx_insert(ss->unread, chat_api, list);
    }
    if (zlistx_size(list) >= SW_WA_UNREAD_MAX && zlistx_first(list)) {
        zlistx_delete(list, zlistx_cursor(list)); //  the oldest
    }
    zlistx_add_end(list, cm_sprintf("%s|%s", id, participant ? participant
                                                              : ""));
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

//  Our push name is set on the phone; messages our other devices send
//  carry it (notify). Keep it, announce it with our presence and put it
//  in `me`.
static void
s_learn_push_name(s_sess_t *ss, const wa_client_message_t *m)
{
    if (!m->from_me || !m->push_name || !*m->push_name ||
        cm_streq(m->push_name, ss->push_name)) {
        return;
    }
    free(ss->push_name);
    ss->push_name = cm_strdup(m->push_name);
    wa_client_set_push_name(ss->client, ss->push_name);
    if (ss->me_id && sw_session_status(ss->session) == SW_STATUS_WORKING) {
        json_t *body = json_pack("{s:s, s:o}", "status", "WORKING", "me",
                                 s_me_json(ss));
        sw_session_write(ss->session, "session.set_status", &body, NULL,
                         NULL);
    }
}

static bool
s_on_message(s_sess_t *ss, const wa_client_message_t *m)
{
    s_learn_push_name(ss, m);
    if (s_ignored(ss, m->chat) || s_internal(m)) {
        return false;
    }
    sw_wamsg_t w = {0};
    w.id = m->id;
    w.chat = m->chat;
    w.participant = m->participant;
    w.me = ss->me_id;
    w.from_me = m->from_me;
    w.timestamp = m->timestamp;
    w.body = m->body;
    w.has_media = m->has_media;
    w.mimetype = m->message ? wa_message_mimetype(m->message) : NULL;
    w.type = m->type;
    w.reply_to = m->reply_to;
    w.push_name = m->push_name;
    w.source = "app";
    w.ack = m->from_me ? SW_WAMSG_ACK_SERVER : SW_WAMSG_ACK_DEVICE;
    char *key = cm_sprintf("%s|%s|%s", m->chat, m->id,
                           m->participant ? m->participant : "");
    int64_t ts = m->timestamp * 1000;
    char id[SW_WAMSG_EVENT_ID_MAX];
    void *token = (void *)(uintptr_t)m->token;
    if (!m->from_me) {
        json_t *payload = sw_wamsg_message(&w);
        sw_wamsg_event_id(s_name(ss), "message", key, ts, id);
        sw_session_emit_id(ss->session, id, "message", &payload, NULL, NULL);
        char *chat = sw_wamsg_api_jid(m->chat);
        char *part = sw_wamsg_api_jid(m->participant);
        s_unread_add(ss, chat, m->id, part);
        free(part);
        free(chat);
    }
    json_t *payload = sw_wamsg_message(&w);
    sw_wamsg_event_id(s_name(ss), "message.any", key, ts, id);
    //  Writes are answered in order: once the last one is stored, so is
    //  every event of the message
    sw_session_emit_id(ss->session, id, "message.any", &payload, s_stored,
                       token);
    free(key);
    //  The receipt waits for s_stored (never, if the session stops first:
    //  the server then delivers the message again)
    return true;
}

static void
s_on_ack(s_sess_t *ss, const wa_client_ack_t *a)
{
    if (s_ignored(ss, a->chat)) {
        return;
    }
    json_t *payload = sw_wamsg_ack(a->chat, a->id, a->participant, ss->me_id,
                                   !a->from_me, a->ack);
    //  from_me on a receipt means one of our devices read a message
    //  somebody sent us; otherwise it is about one of ours
    char *key = cm_sprintf("%s|%s|%s|%d|%d", a->chat, a->id,
                           a->participant ? a->participant : "", a->ack,
                           a->from_me);
    char id[SW_WAMSG_EVENT_ID_MAX];
    int64_t ts = a->timestamp ? a->timestamp * 1000 : cm_now_ms();
    sw_wamsg_event_id(s_name(ss), "message.ack", key, ts, id);
    sw_session_emit_id(ss->session, id, "message.ack", &payload, NULL, NULL);
    free(key);
}

static void
s_on_sent(s_sess_t *ss, const wa_client_sent_t *s)
{
    s_send_t *send = (s_send_t *)zhashx_lookup(ss->sends, s->id);
    if (!s->ok) {
        cm_log_warn("could not send message",
                    "session=\"%s\" id=%s error=%d reason=\"%s\"", s_name(ss),
                    s->id, s->error, s->reason ? s->reason : "");
        if (send && send->cmd) {
            char *reason =
                s->error ? cm_sprintf("WhatsApp did not accept the message: "
                                      "%s (error %d)",
                                      s->reason ? s->reason : "refused",
                                      s->error)
                         : cm_sprintf("could not send the message: %s",
                                      s->reason ? s->reason : "failed");
            sw_cmd_reply(&send->cmd, s->error ? 502 : 500, reason, NULL);
            free(reason);
        }
        zhashx_delete(ss->sends, s->id);
        return;
    }
    sw_wamsg_t w = {0};
    w.id = s->id;
    w.chat = send ? send->chat : s->chat;
    w.me = ss->me_id;
    w.from_me = true;
    w.timestamp = s->timestamp ? s->timestamp : cm_now_ms() / 1000;
    w.body = send ? send->text : NULL;
    w.type = "chat";
    w.reply_to = send ? send->reply_to : NULL;
    w.source = "api";
    w.ack = SW_WAMSG_ACK_SERVER;
    bool group = w.chat && strstr(w.chat, "@g.us");
    w.participant = group ? ss->me_id : NULL;
    if (send && send->cmd) {
        json_t *body = sw_wamsg_message(&w);
        sw_cmd_reply(&send->cmd, 200, NULL, &body);
    }
    if (!s_ignored(ss, w.chat)) {
        char *key = cm_sprintf("%s|%s|", w.chat, w.id);
        char id[SW_WAMSG_EVENT_ID_MAX];
        json_t *payload = sw_wamsg_message(&w);
        sw_wamsg_event_id(s_name(ss), "message.any", key, w.timestamp * 1000,
                          id);
        sw_session_emit_id(ss->session, id, "message.any", &payload, NULL,
                           NULL);
        free(key);
        payload = sw_wamsg_ack(w.chat, w.id, NULL, ss->me_id, true,
                               SW_WAMSG_ACK_SERVER);
        key = cm_sprintf("%s|%s||%d|0", w.chat, w.id, SW_WAMSG_ACK_SERVER);
        sw_wamsg_event_id(s_name(ss), "message.ack", key, w.timestamp * 1000,
                          id);
        sw_session_emit_id(ss->session, id, "message.ack", &payload, NULL,
                           NULL);
        free(key);
    }
    zhashx_delete(ss->sends, s->id);
}

static bool
s_op_event(void *arg, const wa_client_event_t *ev)
{
    s_sess_t *ss = (s_sess_t *)arg;
    switch (ev->type) {
    case WA_CLIENT_EVENT_MESSAGE:
        return s_on_message(ss, &ev->u.message);
    case WA_CLIENT_EVENT_ACK:
        s_on_ack(ss, &ev->u.ack);
        break;
    case WA_CLIENT_EVENT_SENT:
        s_on_sent(ss, &ev->u.sent);
        break;
    }
    return false;
}

static const wa_client_ops_t s_client_ops = {s_op_send,  s_op_timer,
                                             NULL,       s_op_status,
                                             s_op_creds, s_op_signal,
                                             s_op_event};

//  --------------------------------------------------------------------
//  Connection

//  Close the connection (no events follow).
static void
s_drop(s_sess_t *ss, const char *why)
{
    if (ss->conn) {
        wa_conn_destroy(&ss->conn);
        s_kick(ss->engine);
    }
    if (ss->client) {
        wa_client_disconnected(ss->client, why);
    }
    ss->opened = false;
}

static void
s_retry_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->retry_timer = 0;
    s_connect(ss);
}

//  Reconnect after a backoff. With `reason` the session is FAILED
//  meanwhile; without, STARTING.
static void
s_retry_later(s_sess_t *ss, const char *reason)
{
    const sw_config_t *cfg = ss->engine->config;
    if (reason) {
        sw_session_set_status(ss->session, SW_STATUS_FAILED, reason);
    } else {
        sw_session_set_status(ss->session, SW_STATUS_STARTING, NULL);
    }
    int delay = sw_backoff_delay(sw_config_reconnect_min_ms(cfg),
                                 sw_config_reconnect_max_ms(cfg), ss->attempt);
    if (ss->attempt < 64) {
        ss->attempt++;
    }
    cm_log_debug("will reconnect", "session=\"%s\" delay_ms=%d attempt=%u",
                 s_name(ss), delay, ss->attempt);
    ss->phase = S_WAITING;
    s_cancel(ss, &ss->retry_timer);
    ss->retry_timer =
        sw_loop_timer_add(s_loop(ss), delay, false, s_retry_timer, ss);
}

//  Stop for good (until the session is restarted): FAILED with reason.
static void
s_idle(s_sess_t *ss, const char *reason)
{
    s_drop(ss, reason);
    s_cancel(ss, &ss->retry_timer);
    ss->phase = S_IDLE;
    s_reply_pair(ss, 409, reason);
    sw_session_set_status(ss->session, SW_STATUS_FAILED, reason);
}

//  --------------------------------------------------------------------
//  Why a connection failed before the WebSocket opened. The WebSocket
//  layer only says "closed before established"; one plain TCP connect to
//  the server tells a refused or unreachable server from one that hung
//  up during the upgrade.

//  Resolve WA_URL's host (cached for SW_WA_DNS_CACHE_MS). Returns 0 or
//  -1.
static int
s_resolve(s_engine_t *e)
{
    int64_t now = cm_mono_ms();
    if (e->addr_len && now - e->resolved_at < SW_WA_DNS_CACHE_MS) {
        return 0;
    }
    e->addr_len = 0;
    char port[8];
    snprintf(port, sizeof port, "%d", sw_url_port(e->url));
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    struct addrinfo *res = NULL;
    if (getaddrinfo(sw_url_host(e->url), port, &hints, &res) == 0 && res) {
        memcpy(&e->addr, res->ai_addr, res->ai_addrlen);
        e->addr_len = res->ai_addrlen;
        e->resolved_at = now;
    }
    if (res) {
        freeaddrinfo(res);
    }
    return e->addr_len ? 0 : -1;
}

static void
s_diag_close(s_sess_t *ss)
{
    if (ss->diag_fd >= 0) {
        sw_loop_fd_remove(s_loop(ss), ss->diag_fd);
        close(ss->diag_fd);
        ss->diag_fd = -1;
    }
    s_cancel(ss, &ss->diag_timer);
}

static void s_retry_later(s_sess_t *ss, const char *reason);

//  The diagnosis is in: err is the connect error, 0 if it connected.
static void
s_diag_done(s_sess_t *ss, int err)
{
    s_diag_close(ss);
    const char *authority = sw_url_authority(ss->engine->url);
    char *reason =
        err ? cm_sprintf("could not connect to %s: %s", authority,
                         strerror(err))
            : cm_sprintf("connection to %s closed by the server before the "
                         "WebSocket upgrade (%s)",
                         authority, ss->diag_text ? ss->diag_text : "");
    free(ss->diag_text);
    ss->diag_text = NULL;
    s_retry_later(ss, reason);
    free(reason);
}

static void
s_diag_ready(sw_loop_t *loop, int fd, int revents, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    if (!err && !(revents & POLLOUT)) {
        err = ECONNRESET;
    }
    s_diag_done(ss, err);
}

static void
s_diag_timeout(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->diag_timer = 0;
    s_diag_done(ss, ETIMEDOUT);
}

//  Find out why the connection failed (text: the WebSocket layer's
//  words), then retry later with that reason.
static void
s_diagnose(s_sess_t *ss, const char *text)
{
    s_diag_close(ss);
    free(ss->diag_text);
    ss->diag_text = cm_strdup(text);
    ss->phase = S_WAITING;
    s_engine_t *e = ss->engine;
    if (s_resolve(e) != 0) {
        char *reason = cm_sprintf("could not resolve \"%s\"",
                                  sw_url_host(e->url));
        s_retry_later(ss, reason);
        free(reason);
        return;
    }
    int fd = socket(e->addr.ss_family,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        s_diag_done(ss, errno);
        return;
    }
    if (connect(fd, (struct sockaddr *)&e->addr, e->addr_len) == 0) {
        close(fd);
        s_diag_done(ss, 0);
        return;
    }
    if (errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        s_diag_done(ss, err);
        return;
    }
    if (sw_loop_fd_add(s_loop(ss), fd, POLLOUT, s_diag_ready, ss) != 0) {
        close(fd);
        s_diag_done(ss, EBADF);
        return;
    }
    ss->diag_fd = fd;
    ss->diag_timer = sw_loop_timer_add(s_loop(ss), SW_WA_DIAG_TIMEOUT_MS,
                                       false, s_diag_timeout, ss);
}

static void
s_on_conn(wa_conn_t *conn, wa_conn_event_t event, const uint8_t *data,
          size_t len, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    switch (event) {
    case WA_CONN_OPEN:
        ss->phase = S_OPEN;
        ss->opened = true;
        cm_log_debug("connected", "session=\"%s\"", s_name(ss));
        wa_client_connected(ss->client);
        break;
    case WA_CONN_FRAME: {
        const char *reason = NULL;
        wa_node_t *node = wa_binary_decode(data, len, NULL, &reason);
        if (!node) {
            cm_log_warn("could not decode stanza", "session=\"%s\" "
                        "reason=\"%s\"", s_name(ss), reason ? reason : "");
            break;
        }
        cm_log_debug("stanza in", "session=\"%s\" tag=%s id=%s type=%s",
                     s_name(ss), wa_node_tag(node),
                     wa_node_attr_or(node, "id", ""),
                     wa_node_attr_or(node, "type", ""));
        wa_client_handle(ss->client, node);
        wa_node_destroy(&node);
        break;
    }
    case WA_CONN_TIMER:
        break;
    case WA_CONN_CLOSED: {
        wa_conn_close_t why = wa_conn_close_reason(conn);
        const char *text = data ? (const char *)data : "";
        bool opened = ss->opened;
        cm_log_info("connection closed", "session=\"%s\" kind=%d "
                    "reason=\"%s\"", s_name(ss), (int)why, text);
        wa_conn_destroy(&ss->conn);
        s_drop(ss, text);
        if (ss->closing || ss->phase == S_IDLE) {
            break; //  a closing state is being handled
        }
        char *reason = NULL;
        if (!opened && why == WA_CONN_CLOSE_TRANSPORT &&
            strncmp(text, "could not connect", 17) == 0 &&
            !json_object_get(sw_session_config(ss->session), "proxy")) {
            s_diagnose(ss, text);
            break;
        } else if (!opened) {
            reason = why == WA_CONN_CLOSE_PROTOCOL
                         ? cm_sprintf("could not log in to %s: %s",
                                      sw_url_authority(ss->engine->url), text)
                         : cm_sprintf("connection to %s closed by the server "
                                      "(%s)",
                                      sw_url_authority(ss->engine->url), text);
        }
        //  A live connection that dropped: STARTING and reconnect; one
        //  that never opened: FAILED with the reason
        s_retry_later(ss, reason);
        free(reason);
        break;
    }
    }
}

//  Proxy URL from config.proxy {server, username?, password?}, or NULL.
//  Caller owns return value.
static char *
s_proxy(s_sess_t *ss)
{
    json_t *proxy = json_object_get(sw_session_config(ss->session), "proxy");
    const char *server = json_string_value(json_object_get(proxy, "server"));
    if (!server || !*server) {
        return NULL;
    }
    if (strstr(server, "://")) {
        return cm_strdup(server);
    }
    const char *user = json_string_value(json_object_get(proxy, "username"));
    const char *pass = json_string_value(json_object_get(proxy, "password"));
    if (user && *user) {
        return cm_sprintf("http://%s:%s@%s", user, pass ? pass : "", server);
    }
    return cm_sprintf("http://%s", server);
}

static void
s_connect(s_sess_t *ss)
{
    if (ss->phase == S_IDLE) {
        return;
    }
    sw_session_set_status(ss->session, SW_STATUS_STARTING, NULL);
    ss->closing = 0;
    uint8_t priv[32], pub[32];
    wa_client_noise_key(ss->client, priv, pub);
    size_t len = 0;
    uint8_t *payload = wa_client_payload(ss->client, &len);
    if (!payload) {
        wa_crypto_wipe(priv, sizeof priv);
        s_retry_later(ss, "could not build the login payload");
        return;
    }
    char *proxy = s_proxy(ss);
    wa_conn_opts_t opts;
    memset(&opts, 0, sizeof opts);
    opts.url = sw_config_wa_url(ss->engine->config);
    opts.root_pub = sw_config_root_key(ss->engine->config);
    opts.ws.proxy = proxy;
    ss->phase = S_CONNECTING;
    ss->opened = false;
    ss->conn = wa_conn_connect(ss->engine->ws, priv, payload, len, &opts,
                               s_on_conn, ss);
    wa_crypto_wipe(priv, sizeof priv);
    free(payload);
    free(proxy);
    s_kick(ss->engine);
    if (!ss->conn) {
        char *reason = cm_sprintf("could not connect to %s: invalid address "
                                  "or proxy",
                                  sw_url_authority(ss->engine->url));
        s_retry_later(ss, reason);
        free(reason);
    }
}

//  Act on a closing state the client reported.
static void
s_action_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->action_timer = 0;
    wa_client_state_t state = ss->closing;
    char *reason = ss->closing_reason;
    ss->closing_reason = NULL;
    if (!state) {
        free(reason);
        return;
    }
    const char *why = reason ? reason : wa_client_state_name(state);
    switch (state) {
    case WA_CLIENT_RESTART:
        s_drop(ss, "restart");
        ss->closing = 0;
        s_connect(ss);
        break;
    case WA_CLIENT_RETRY: {
        s_drop(ss, why);
        ss->closing = 0;
        bool working = sw_session_status(ss->session) == SW_STATUS_WORKING;
        s_retry_later(ss, working ? NULL : why);
        break;
    }
    case WA_CLIENT_QR_EXPIRED:
        s_idle(ss, "QR code was not scanned in time; restart the session "
                   "to get a new one");
        break;
    case WA_CLIENT_LOGGED_OUT:
        if (ss->logging_out) {
            s_drop(ss, "logged out");
            ss->phase = S_IDLE;
            ss->logging_out = false;
            s_cancel(ss, &ss->logout_timer);
            sw_session_logout_done(ss->session, 0, NULL);
            break;
        }
        cm_log_info("logged out by the phone", "session=\"%s\" reason=\"%s\"",
                    s_name(ss), why);
        //  Forget the device: nothing of it may be written after this
        sw_wajournal_clear(ss->journal);
        ss->creds_dirty = false;
        s_cancel(ss, &ss->flush_timer);
        {
            json_t *body = json_object();
            sw_session_write(ss->session, "device.clear", &body, NULL, NULL);
        }
        s_idle(ss, "logged out");
        break;
    case WA_CLIENT_CONFLICT:
        s_idle(ss, "replaced by another connection with the same "
                   "credentials");
        break;
    default:
        break;
    }
    free(reason);
}

//  --------------------------------------------------------------------
//  Start: load creds and Signal records, then connect

static void s_load(s_sess_t *ss);

static void
s_reload_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->retry_timer = 0;
    s_load(ss);
}

//  Put the loaded state into a new client and connect.
static void
s_loaded(s_sess_t *ss)
{
    wa_client_config_t cfg;
    wa_client_config_default(&cfg);
    cfg.name = s_name(ss);
    cfg.qr_first_ms = ss->engine->qr_first_ms;
    cfg.qr_next_ms = ss->engine->qr_next_ms;
    cfg.send_timeout_ms = ss->engine->send_timeout_ms;
    ss->client = wa_client_new(&cfg, &s_client_ops, ss);
    json_t *client = json_object_get(sw_session_config(ss->session), "client");
    const char *device = json_string_value(json_object_get(client, "deviceName"));
    if (device && *device) {
        wa_payload_set_device_props(wa_client_payload_settings(ss->client),
                                    device, 0, 1, 0, WA_PAYLOAD_DEVICE_DESKTOP);
    }
    if (json_is_object(ss->creds) &&
        wa_client_load_creds(ss->client, ss->creds) != 0) {
        cm_log_error("could not load stored credentials; linking anew",
                     "session=\"%s\"", s_name(ss));
    }
    size_t i, loaded = 0;
    json_t *row;
    json_array_foreach(ss->rows, i, row)
    {
        const char *kind = json_string_value(json_object_get(row, "kind"));
        const char *key = json_string_value(json_object_get(row, "key"));
        const char *b64 = json_string_value(json_object_get(row, "data"));
        uint8_t *data = NULL;
        size_t len = 0;
        if (kind && key && b64 &&
            (*b64 == 0 || cm_base64_decode(b64, 1 << 20, &data, &len) == 0) &&
            wa_client_load_signal(ss->client, kind, key,
                                  data ? data : (const uint8_t *)"", len) ==
                0) {
            loaded++;
        } else {
            cm_log_warn("could not load Signal record",
                        "session=\"%s\" kind=%s", s_name(ss),
                        kind ? kind : "?");
        }
        free(data);
    }
    cm_log_info("session state loaded",
                "session=\"%s\" paired=%s signal_records=%zu", s_name(ss),
                wa_client_paired(ss->client) ? "yes" : "no", loaded);
    json_decref(ss->creds);
    json_decref(ss->rows);
    ss->creds = NULL;
    ss->rows = NULL;
    s_connect(ss);
}

static void
s_load_reply(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    const char *what = (const char *)arg;
    if (!ss) {
        return;
    }
    ss->loads--;
    int st = cm_msg_status(*reply_p);
    if (st != 200) {
        cm_log_warn("could not load session state",
                    "session=\"%s\" type=%s st=%d reason=\"%s\"", s_name(ss),
                    what, st,
                    cm_msg_reason(*reply_p) ? cm_msg_reason(*reply_p) : "");
        ss->load_failed = true;
    } else if (cm_streq(what, "device.get")) {
        json_t *creds = json_object_get(cm_msg_body(*reply_p), "creds");
        ss->creds = json_is_object(creds) ? json_incref(creds) : NULL;
    } else {
        json_t *rows = json_object_get(cm_msg_body(*reply_p), "rows");
        ss->rows = json_is_array(rows) ? json_incref(rows) : json_array();
    }
    if (ss->loads > 0) {
        return;
    }
    if (ss->load_failed) {
        json_decref(ss->creds);
        json_decref(ss->rows);
        ss->creds = ss->rows = NULL;
        const sw_config_t *cfg = ss->engine->config;
        int delay =
            sw_backoff_delay(sw_config_reconnect_min_ms(cfg),
                             sw_config_reconnect_max_ms(cfg), ss->attempt);
        if (ss->attempt < 64) {
            ss->attempt++;
        }
        ss->phase = S_WAITING;
        ss->retry_timer =
            sw_loop_timer_add(s_loop(ss), delay, false, s_reload_timer, ss);
        return;
    }
    s_loaded(ss);
}

static void
s_load(s_sess_t *ss)
{
    ss->phase = S_LOADING;
    ss->load_failed = false;
    ss->loads = 2;
    cm_msg_t *req = cm_msg_new("device.get");
    cm_msg_set_str(req, "name", s_name(ss));
    sw_session_store_send(ss->session, &req, SW_WA_LOAD_TIMEOUT_MS,
                          s_load_reply, (void *)"device.get");
    req = cm_msg_new("signal.load");
    cm_msg_set_str(req, "name", s_name(ss));
    sw_session_store_send(ss->session, &req, SW_WA_LOAD_TIMEOUT_MS,
                          s_load_reply, (void *)"signal.load");
}

//  --------------------------------------------------------------------
//  Engine operations

static int
s_start(void *state, sw_session_t *session)
{
    s_engine_t *e = (s_engine_t *)state;
    if (s_attach(e, sw_session_loop(session)) != 0) {
        return -1;
    }
    s_sess_t *ss = cm_alloc(sizeof *ss);
    ss->engine = e;
    ss->session = session;
    ss->diag_fd = -1;
    ss->journal = sw_wajournal_new();
    ss->sends = zhashx_new();
    zhashx_set_destructor(ss->sends, s_send_free);
    ss->unread = zhashx_new();
    zhashx_set_destructor(ss->unread, s_list_free);
    sw_session_set_engine_data(session, ss);
    sw_session_set_status(session, SW_STATUS_STARTING, NULL);
    s_load(ss);
    return 0;
}

static void
s_stop(void *state, sw_session_t *session)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    if (!ss) {
        return;
    }
    //  Whatever changed and is not written yet goes into the queue now;
    //  the worker drains it before it lets the lease go
    s_cancel(ss, &ss->flush_timer);
    ss->puts = 0;
    s_flush(ss);
    if (ss->conn) {
        wa_conn_destroy(&ss->conn);
        s_kick(ss->engine);
    }
    s_diag_close(ss);
    free(ss->diag_text);
    s_cancel(ss, &ss->retry_timer);
    s_cancel(ss, &ss->client_timer);
    s_cancel(ss, &ss->action_timer);
    s_cancel(ss, &ss->pair_timer);
    s_cancel(ss, &ss->logout_timer);
    if (ss->pair_cmd) {
        sw_cmd_reply(&ss->pair_cmd, 503, "session stopped", NULL);
    }
    zhashx_destroy(&ss->sends);
    zhashx_destroy(&ss->unread);
    wa_client_destroy(&ss->client);
    sw_wajournal_destroy(&ss->journal);
    json_decref(ss->creds);
    json_decref(ss->rows);
    free(ss->closing_reason);
    free(ss->me_id);
    free(ss->me_lid);
    free(ss->push_name);
    sw_session_set_engine_data(session, NULL);
    free(ss);
}

static void
s_logout_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->logout_timer = 0;
    if (ss->logging_out) {
        cm_log_warn("logout not confirmed by the server in time",
                    "session=\"%s\"", s_name(ss));
        ss->logging_out = false;
        s_drop(ss, "logout");
        ss->phase = S_IDLE;
        sw_session_logout_done(ss->session, 0, NULL);
    }
}

static void
s_logout(void *state, sw_session_t *session)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    if (!ss || !ss->client || !wa_client_paired(ss->client) ||
        !ss->conn || ss->phase != S_OPEN) {
        //  Nothing linked, or no connection to tell the server on: the
        //  worker clears the stored device anyway
        if (ss && ss->client && wa_client_paired(ss->client)) {
            cm_log_warn("logging out without telling WhatsApp: not "
                        "connected",
                        "session=\"%s\"", s_name(ss));
        }
        sw_session_logout_done(session, 0, NULL);
        return;
    }
    ss->logging_out = true;
    ss->logout_timer = sw_loop_timer_add(s_loop(ss), SW_WA_LOGOUT_TIMEOUT_MS,
                                         false, s_logout_timer, ss);
    if (wa_client_logout(ss->client) != 0) {
        s_cancel(ss, &ss->logout_timer);
        ss->logging_out = false;
        sw_session_logout_done(session, 0, NULL);
    }
}

static void
s_pair_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_sess_t *ss = (s_sess_t *)arg;
    ss->pair_timer = 0;
    s_reply_pair(ss, 504, "WhatsApp did not confirm the pairing code in time");
}

static void
s_cmd_pair_code(s_sess_t *ss, sw_cmd_t **cmd_p)
{
    const char *phone = cm_msg_str(sw_cmd_request(*cmd_p), "phoneNumber");
    if (!ss->client || ss->phase == S_IDLE) {
        sw_cmd_reply(cmd_p, 409, "Session status is not as expected: the "
                                 "session is not linking",
                     NULL);
        return;
    }
    if (wa_client_paired(ss->client)) {
        sw_cmd_reply(cmd_p, 409, "the session is already linked", NULL);
        return;
    }
    char code[WA_CLIENT_CODE_MAX];
    if (!phone || wa_client_request_pair_code(ss->client, phone, code) != 0) {
        sw_cmd_reply(cmd_p, 400,
                     "phoneNumber must be a phone number in international "
                     "format",
                     NULL);
        return;
    }
    if (ss->pair_cmd) {
        sw_cmd_reply(&ss->pair_cmd, 409, "superseded by a newer request",
                     NULL);
    }
    snprintf(ss->pair_code, sizeof ss->pair_code, "%s", code);
    ss->pair_cmd = *cmd_p;
    *cmd_p = NULL;
    s_cancel(ss, &ss->pair_timer);
    ss->pair_timer = sw_loop_timer_add(s_loop(ss), SW_WA_PAIR_TIMEOUT_MS,
                                       false, s_pair_timer, ss);
}

//  True if the session can send; else answers 409 (the gateway's 422).
static bool
s_check_working(s_sess_t *ss, sw_cmd_t **cmd_p)
{
    if (sw_session_status(ss->session) == SW_STATUS_WORKING && ss->client &&
        wa_client_ready(ss->client)) {
        return true;
    }
    char *reason = cm_sprintf("Session status is not as expected. Try again "
                              "later or restart the session. Session "
                              "status: %s, expected: WORKING",
                              sw_status_name(sw_session_status(ss->session)));
    sw_cmd_reply(cmd_p, 409, reason, NULL);
    free(reason);
    return false;
}

static void
s_cmd_send_text(s_sess_t *ss, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *chat = cm_msg_str(req, "chatId");
    const char *text = cm_msg_str(req, "text");
    const char *reply_to = cm_msg_str(req, "reply_to");
    if (!chat || !text || !*text) {
        sw_cmd_reply(cmd_p, 400, "chatId and text are required", NULL);
        return;
    }
    if (!s_check_working(ss, cmd_p)) {
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
            reply_part = ss->me_id;
        }
    }
    char id[WA_CLIENT_ID_MAX];
    if (wa_client_send_text(ss->client, chat, text, reply_id, reply_part, id) !=
        0) {
        sw_cmd_reply(cmd_p, 400, "chatId is not a chat this session can "
                                 "send to",
                     NULL);
        return;
    }
    s_send_t *send = cm_alloc(sizeof *send);
    send->cmd = *cmd_p;
    *cmd_p = NULL;
    send->chat = sw_wamsg_api_jid(chat);
    send->text = cm_strdup(text);
    send->reply_to = reply_id ? cm_strdup(reply_id) : NULL;
    s_send_t *old = (s_send_t *)zhashx_lookup(ss->sends, id);
    if (old) {
        zhashx_delete(ss->sends, id);
    }
    zhashx_insert(ss->sends, id, send);
}

//  Send read receipts for `items` ("id|participant" strings) in chat,
//  one receipt per participant. Returns 0, or -1 if one failed.
static int
s_seen(s_sess_t *ss, const char *chat, zlistx_t *items)
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
        if (wa_client_send_seen(ss->client, chat, *parts[i] ? parts[i] : NULL,
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

static void
s_cmd_send_seen(s_sess_t *ss, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *chat = cm_msg_str(req, "chatId");
    const char *participant = cm_msg_str(req, "participant");
    json_t *ids = json_object_get(cm_msg_body(req), "messageIds");
    if (!chat) {
        sw_cmd_reply(cmd_p, 400, "chatId is required", NULL);
        return;
    }
    if (!s_check_working(ss, cmd_p)) {
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
            sw_cmd_reply(cmd_p, 400, "messageIds must hold message ids",
                         NULL);
            return;
        }
        const char *part = ref.participant[0] ? ref.participant : participant;
        zlistx_add_end(items, cm_sprintf("%s|%s", ref.id, part ? part : ""));
    }
    zlistx_t *unread = (zlistx_t *)zhashx_lookup(ss->unread, chat_api);
    if (json_array_size(ids) == 0 && unread) {
        //  WAHA: no ids means the unread messages of the chat
        for (const char *e = (const char *)zlistx_first(unread); e;
             e = (const char *)zlistx_next(unread)) {
            zlistx_add_end(items, cm_strdup(e));
        }
    }
    if (unread) {
        zhashx_delete(ss->unread, chat_api);
    }
    int rc = s_seen(ss, chat_api, items);
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
//  Groups: each command is one w:g2 IQ; the reply (or its failure)
//  answers the command

typedef enum {
    S_GROUP_CREATE,
    S_GROUP_GET,
    S_GROUP_LIST,
    S_GROUP_CHANGE
} s_group_op_t;

typedef struct {
    s_sess_t *ss;    //  the session
    sw_cmd_t *cmd;   //  the gateway command
    s_group_op_t op; //  what was asked
    char *group;     //  group JID (get, change)
    char *action;    //  change: add, remove, promote, demote
} s_group_call_t;

static const char *
s_group_what(s_group_op_t op)
{
    switch (op) {
    case S_GROUP_CREATE:
        return "create the group";
    case S_GROUP_GET:
        return "get the group";
    case S_GROUP_LIST:
        return "list the groups";
    case S_GROUP_CHANGE:
        break;
    }
    return "change the participants";
}

//  The answer to a successful IQ. Returns the body, or NULL with *st_p
//  and *reason_p (caller owns) set.
static json_t *
s_group_result(s_group_call_t *call, const wa_node_t *reply, int *st_p,
               char **reason_p)
{
    *st_p = 502;
    if (call->op == S_GROUP_LIST) {
        json_t *list = json_array();
        const wa_node_t *groups = wa_node_child(reply, "groups");
        const wa_node_t *g = NULL;
        while ((g = wa_node_child_next(groups, "group", g))) {
            wa_group_t *group = wa_group_parse_node(g);
            if (group) {
                json_array_append_new(list, sw_wagroup_json(group));
                wa_group_destroy(&group);
            }
        }
        return json_pack("{s:o}", "groups", list);
    }
    if (call->op == S_GROUP_CHANGE) {
        json_t *results = sw_wagroup_results(reply, call->action);
        if (!results) {
            *reason_p = cm_strdup("WhatsApp sent no participant results");
            return NULL;
        }
        //  Our next send to the group must see the new members; after a
        //  removal, with a new sender key the removed ones do not have
        if (cm_streq(call->action, "remove")) {
            wa_client_rotate_group_key(call->ss->client, call->group);
        } else {
            wa_client_forget_group(call->ss->client, call->group);
        }
        return json_pack("{s:o}", "participants", results);
    }
    wa_group_t *group = wa_group_parse(call->group, reply);
    if (!group) {
        *reason_p = cm_strdup("WhatsApp sent no group");
        return NULL;
    }
    json_t *body = sw_wagroup_json(group);
    wa_group_destroy(&group);
    return body;
}

static void
s_group_reply(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_group_call_t *call = (s_group_call_t *)arg;
    const char *what = s_group_what(call->op);
    int st = 200;
    char *reason = NULL;
    json_t *body = NULL;
    if (outcome == WA_IQ_RESULT) {
        body = s_group_result(call, reply, &st, &reason);
    } else if (outcome == WA_IQ_ERROR) {
        st = sw_wagroup_error(wa_iq_error_code(reply), what, &reason);
    } else if (outcome == WA_IQ_TIMEOUT) {
        st = 504;
        reason =
            cm_sprintf("could not %s: WhatsApp did not answer in time", what);
    } else {
        st = 503;
        reason = cm_sprintf("could not %s: the connection to WhatsApp was "
                            "lost",
                            what);
    }
    if (body) {
        sw_cmd_reply(&call->cmd, 200, NULL, &body);
    } else if (st == 404) {
        //  Not the session: the gateway tells the two 404s apart by this
        json_t *missing = json_pack("{s:s}", "missing", "group");
        sw_cmd_reply(&call->cmd, st, reason, &missing);
    } else {
        cm_log_warn("group request failed",
                    "session=\"%s\" what=\"%s\" "
                    "status=%d",
                    s_name(call->ss), what, st);
        sw_cmd_reply(&call->cmd, st, reason, NULL);
    }
    free(reason);
    free(call->group);
    free(call->action);
    free(call);
}

//  Send the IQ (taken) for a group command; the reply answers it.
static void
s_group_send(s_sess_t *ss, sw_cmd_t **cmd_p, s_group_op_t op, wa_node_t **iq_p,
             const char *group, const char *action)
{
    s_group_call_t *call = cm_alloc(sizeof *call);
    call->ss = ss;
    call->cmd = *cmd_p;
    *cmd_p = NULL;
    call->op = op;
    call->group = group ? cm_strdup(group) : NULL;
    call->action = action ? cm_strdup(action) : NULL;
    if (wa_client_iq(ss->client, iq_p, s_group_reply, call) != 0) {
        wa_node_destroy(iq_p);
        sw_cmd_reply(&call->cmd, 409,
                     "Session status is not as expected: "
                     "not connected to WhatsApp",
                     NULL);
        free(call->group);
        free(call->action);
        free(call);
    }
}

//  The `participants` of a request as wire user JIDs, without ours and
//  duplicates. Returns the count, or -1 after a 400.
static int
s_group_people(s_sess_t *ss, sw_cmd_t **cmd_p, bool allow_none, char ***out_p)
{
    json_t *list =
        json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), "participants");
    size_t n = json_array_size(list);
    if (!json_is_array(list) || (!allow_none && n == 0) ||
        n > WA_GROUP_MAX_PARTICIPANTS) {
        sw_cmd_reply(cmd_p, 400, "participants must be an array of chat ids",
                     NULL);
        return -1;
    }
    char **out = cm_alloc((n ? n : 1) * sizeof *out);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_array_get(list, i));
        char *wire = text ? wa_jid_normalize(text) : NULL;
        char *api = wire ? wa_jid_to_api(wire) : NULL;
        wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
        bool person = jid && !wa_jid_is_server(jid) &&
                      wa_jid_device(jid) == 0 &&
                      (wa_jid_is_pn(jid) || wa_jid_is_lid(jid));
        wa_jid_destroy(&jid);
        if (!person) {
            free(api);
            free(wire);
            for (size_t k = 0; k < count; k++) {
                free(out[k]);
            }
            free(out);
            char *reason = cm_sprintf("participants[%zu] is not a person's "
                                      "chat id",
                                      i);
            sw_cmd_reply(cmd_p, 400, reason, NULL);
            free(reason);
            return -1;
        }
        bool skip = cm_streq(api, ss->me_id) || cm_streq(api, ss->me_lid);
        for (size_t k = 0; k < count && !skip; k++) {
            skip = cm_streq(out[k], wire);
        }
        if (skip) {
            free(wire);
        } else {
            out[count++] = wire;
        }
        free(api);
    }
    *out_p = out;
    return (int)count;
}

static void
s_free_people(char **people, int count)
{
    for (int i = 0; i < count; i++) {
        free(people[i]);
    }
    free(people);
}

//  The request's group `id` as a group JID; NULL after a 400.
static char *
s_group_id(sw_cmd_t **cmd_p)
{
    const char *id = cm_msg_str(sw_cmd_request(*cmd_p), "id");
    wa_jid_t *jid = id ? wa_jid_new_from(id) : NULL;
    char *out = NULL;
    if (jid && wa_jid_is_group(jid) && !wa_jid_is_server(jid)) {
        out = cm_strdup(wa_jid_str(jid));
    } else {
        sw_cmd_reply(cmd_p, 400,
                     "id must be a group id such as "
                     "120363000000000000@g.us",
                     NULL);
    }
    wa_jid_destroy(&jid);
    return out;
}

static void
s_cmd_group(s_sess_t *ss, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *type = sw_cmd_type(*cmd_p);
    if (!s_check_working(ss, cmd_p)) {
        return;
    }
    if (cm_streq(type, "group.list")) {
        wa_node_t *iq = wa_group_participating();
        s_group_send(ss, cmd_p, S_GROUP_LIST, &iq, NULL, NULL);
    } else if (cm_streq(type, "group.create")) {
        const char *subject = cm_msg_str(req, "subject");
        char **people = NULL;
        int n = s_group_people(ss, cmd_p, true, &people);
        if (n < 0) {
            return;
        }
        wa_node_t *iq =
            wa_group_create(subject, (const char *const *)people, (size_t)n);
        s_free_people(people, n);
        if (!iq) {
            sw_cmd_reply(cmd_p, 400, "subject must be 1 to 100 characters",
                         NULL);
            return;
        }
        s_group_send(ss, cmd_p, S_GROUP_CREATE, &iq, NULL, NULL);
    } else if (cm_streq(type, "group.get")) {
        char *group = s_group_id(cmd_p);
        if (group) {
            wa_node_t *iq = wa_group_query(group);
            s_group_send(ss, cmd_p, S_GROUP_GET, &iq, group, NULL);
            free(group);
        }
    } else {
        const char *action = cm_msg_str(req, "action");
        if (!cm_streq(action, "add") && !cm_streq(action, "remove") &&
            !cm_streq(action, "promote") && !cm_streq(action, "demote")) {
            sw_cmd_reply(cmd_p, 400,
                         "action must be one of: add, remove, "
                         "promote, demote",
                         NULL);
            return;
        }
        char *group = s_group_id(cmd_p);
        if (!group) {
            return;
        }
        char **people = NULL;
        int n = s_group_people(ss, cmd_p, false, &people);
        if (n >= 0) {
            wa_node_t *iq =
                n ? wa_group_change(group, action, (const char *const *)people,
                                    (size_t)n)
                  : NULL;
            if (iq) {
                s_group_send(ss, cmd_p, S_GROUP_CHANGE, &iq, group, action);
            } else {
                sw_cmd_reply(cmd_p, 400,
                             "participants must name someone "
                             "other than this account",
                             NULL);
            }
            s_free_people(people, n);
        }
        free(group);
    }
}

static int
s_command(void *state, sw_session_t *session, sw_cmd_t **cmd_p)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    const char *type = sw_cmd_type(*cmd_p);
    if (!ss) {
        sw_cmd_reply(cmd_p, 503, "session is not running", NULL);
        return SW_CMD_TAKEN;
    }
    if (cm_streq(type, "session.qr")) {
        const char *qr = ss->client ? wa_client_qr(ss->client) : NULL;
        if (sw_session_status(session) != SW_STATUS_SCAN_QR_CODE || !qr) {
            sw_cmd_reply(cmd_p, 409, "session is not in SCAN_QR_CODE", NULL);
        } else {
            json_t *body = json_pack("{s:s}", "value", qr);
            sw_cmd_reply(cmd_p, 200, NULL, &body);
        }
    } else if (cm_streq(type, "session.pair_code")) {
        s_cmd_pair_code(ss, cmd_p);
    } else if (cm_streq(type, "message.send_text")) {
        s_cmd_send_text(ss, cmd_p);
    } else if (cm_streq(type, "message.send_seen")) {
        s_cmd_send_seen(ss, cmd_p);
    } else if (strncmp(type, "group.", 6) == 0) {
        s_cmd_group(ss, cmd_p);
    } else if (cm_streq(type, "session.me")) {
        json_t *body = json_object();
        json_object_set_new(body, "me",
                            ss->me_id && sw_session_status(session) ==
                                             SW_STATUS_WORKING
                                ? s_me_json(ss)
                                : json_null());
        sw_cmd_reply(cmd_p, 200, NULL, &body);
    } else {
        return SW_CMD_DECLINED;
    }
    return SW_CMD_TAKEN;
}

static void
s_destroy(void **state_p)
{
    s_engine_t *e = (s_engine_t *)*state_p;
    if (!e) {
        return;
    }
    if (e->loop) {
        sw_loop_fd_remove(e->loop, wa_ws_fd(e->ws));
        if (e->kick_timer) {
            sw_loop_timer_cancel(e->loop, e->kick_timer);
        }
        if (e->deadline_timer) {
            sw_loop_timer_cancel(e->loop, e->deadline_timer);
        }
    }
    wa_ws_destroy(&e->ws);
    sw_url_destroy(&e->url);
    free(e);
    *state_p = NULL;
}

static const char *const s_commands[] = {
    "session.qr",         "session.pair_code",
    "message.send_text",  "message.send_seen",
    "session.me",         "group.create",
    "group.get",          "group.list",
    "group.participants", NULL};
static const sw_engine_ops_t s_ops = {"wa",     s_commands, s_start, s_stop,
                                      s_logout, s_command,  s_destroy};

static int
s_env_ms(const char *name, int dflt)
{
    return (int)cm_env_long(name, dflt, 100, 3600000);
}

sw_engine_t *
sw_wa_new(const sw_config_t *config)
{
    s_engine_t *e = cm_alloc(sizeof *e);
    e->config = config;
    e->url = sw_url_new(sw_config_wa_url(config));
    assert(e->url); //  sw_config checked it
    e->ws = wa_ws_new();
    if (!e->ws) {
        sw_url_destroy(&e->url);
        free(e);
        return NULL;
    }
    e->qr_first_ms = s_env_ms("WA_QR_FIRST_MS", 60000);
    e->qr_next_ms = s_env_ms("WA_QR_NEXT_MS", 20000);
    e->send_timeout_ms = s_env_ms("WA_SEND_TIMEOUT_MS", 25000);
    void *state = e;
    return sw_engine_new(&s_ops, &state);
}

//  --------------------------------------------------------------------
//  Self test: a fake store (ROUTER) that keeps creds, Signal rows and
//  events in memory, and, when it is built, wa-sim as the server

typedef struct {
    zsock_t *router;  //  the fake store
    json_t *creds;    //  name -> creds
    json_t *signal;   //  name -> {"kind\x1fkey": data}
    json_t *status;   //  name -> last set_status body
    json_t *events;   //  [event.append bodies]
    json_t *ids;      //  event ids seen -> true
    int dups;         //  appends with an id seen before
    int statuses;     //  set_status writes
    bool hold_events; //  do not answer event.append
    zlistx_t *held;   //  held event.append requests
    int64_t epoch;    //  last lease epoch given out
} t_store_t;

static void
t_store_reply(t_store_t *t, cm_msg_t **req_p, int st, json_t *body)
{
    cm_msg_t *reply = cm_msg_new_reply(*req_p, st, st == 200 ? NULL : "test");
    if (body) {
        cm_msg_set_body(reply, &body);
    }
    cm_msg_send(&reply, t->router);
    cm_msg_destroy(req_p);
}

static void
t_store_handle(t_store_t *t, cm_msg_t **req_p)
{
    cm_msg_t *req = *req_p;
    const char *type = cm_msg_type(req);
    const char *name = cm_msg_str(req, "name");
    json_t *body = cm_msg_body(req);
    if (cm_streq(type, "device.get")) {
        json_t *c = json_object_get(t->creds, name);
        t_store_reply(t, req_p, 200,
                      json_pack("{s:O}", "creds", c ? c : json_null()));
    } else if (cm_streq(type, "signal.load")) {
        json_t *rows = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(t->signal, name), k, v)
        {
            const char *sep = strchr(k, '\x1f');
            char *kind = cm_sprintf("%.*s", (int)(sep - k), k);
            json_array_append_new(rows, json_pack("{s:s, s:s, s:O}", "kind",
                                                  kind, "key", sep + 1,
                                                  "data", v));
            free(kind);
        }
        t_store_reply(t, req_p, 200, json_pack("{s:o}", "rows", rows));
    } else if (cm_streq(type, "device.put")) {
        json_object_set(t->creds, name, json_object_get(body, "creds"));
        t_store_reply(t, req_p, 200, NULL);
    } else if (cm_streq(type, "device.clear")) {
        json_object_del(t->creds, name);
        json_object_del(t->signal, name);
        t_store_reply(t, req_p, 200, NULL);
    } else if (cm_streq(type, "signal.put")) {
        json_t *map = json_object_get(t->signal, name);
        if (!map) {
            map = json_object();
            json_object_set_new(t->signal, name, map);
        }
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(body, "rows"), i, row)
        {
            char *k = cm_sprintf(
                "%s\x1f%s", json_string_value(json_object_get(row, "kind")),
                json_string_value(json_object_get(row, "key")));
            json_t *data = json_object_get(row, "data");
            if (json_is_null(data)) {
                json_object_del(map, k);
            } else {
                json_object_set(map, k, data);
            }
            free(k);
        }
        t_store_reply(t, req_p, 200, NULL);
    } else if (cm_streq(type, "session.set_status")) {
        t->statuses++;
        json_object_set(t->status, name, body);
        t_store_reply(t, req_p, 200, NULL);
    } else if (cm_streq(type, "event.append") ||
               cm_streq(type, "event.append_batch")) {
        if (t->hold_events) {
            zlistx_add_end(t->held, *req_p);
            *req_p = NULL;
            return;
        }
        //  A batch is its events in order, each with the batch's session
        json_t *list = json_object_get(body, "events");
        bool batch = json_is_array(list);
        list = batch ? json_incref(list) : json_pack("[O]", body);
        json_t *results = json_array();
        size_t i;
        json_t *ev;
        json_array_foreach(list, i, ev)
        {
            json_t *full = json_copy(ev);
            json_object_set(full, "session", json_object_get(body, "session"));
            const char *id = json_string_value(json_object_get(full, "id"));
            if (json_object_get(t->ids, id)) {
                t->dups++;
            } else {
                json_object_set_new(t->ids, id, json_true());
                json_array_append(t->events, full);
            }
            json_decref(full);
            json_array_append_new(results, json_pack("{s:i}", "seq", 1));
        }
        json_decref(list);
        json_t *answer = NULL;
        if (batch) {
            answer = json_pack("{s:o}", "results", results);
        } else {
            json_decref(results);
            answer = json_pack("{s:i}", "seq", 1);
        }
        t_store_reply(t, req_p, 200, answer);
    } else {
        t_store_reply(t, req_p, 200, NULL);
    }
}

static void
t_pump(sw_loop_t *loop, t_store_t *t, int ms)
{
    int64_t until = cm_mono_ms() + ms;
    do {
        while (zsock_events(t->router) & ZMQ_POLLIN) {
            cm_msg_t *req = cm_msg_recv(t->router, true);
            assert(req);
            t_store_handle(t, &req);
        }
        sw_loop_once(loop, 2);
    } while (cm_mono_ms() < until);
}

//  Pump until the session is in `status` and its writes are answered.
static bool
t_until(sw_loop_t *loop, t_store_t *t, sw_session_t *s, sw_status_t status,
        int ms)
{
    int64_t until = cm_mono_ms() + ms;
    while (cm_mono_ms() < until) {
        t_pump(loop, t, 5);
        if (sw_session_status(s) == status && sw_session_queued(s) == 0) {
            return true;
        }
    }
    return false;
}

static const char *
t_status_str(t_store_t *t, const char *name, const char *field)
{
    return json_string_value(
        json_object_get(json_object_get(t->status, name), field));
}

//  Send a command; pump until its reply. Caller owns the reply.
static cm_msg_t *
t_command(sw_loop_t *loop, t_store_t *t, sw_engine_t *engine, sw_session_t *s,
          const char *type, json_t *body, int ms)
{
    static int seq = 0;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://sw_wa_test_gw_%d", ++seq);
    char bind[70];
    snprintf(bind, sizeof bind, "@%s", ep);
    zsock_t *gw = zsock_new_pair(bind);
    char conn[70];
    snprintf(conn, sizeof conn, ">%s", ep);
    zsock_t *wk = zsock_new_pair(conn);
    cm_msg_t *req = cm_msg_new(type);
    if (body) {
        cm_msg_set_body(req, &body);
    }
    sw_cmd_t *cmd = sw_cmd_new(&req, wk);
    int rc = sw_engine_command(engine, s, &cmd);
    assert(rc == SW_CMD_TAKEN);
    cm_msg_t *reply = NULL;
    int64_t until = cm_mono_ms() + ms;
    while (!reply && cm_mono_ms() < until) {
        if (zsock_events(gw) & ZMQ_POLLIN) {
            reply = cm_msg_recv(gw, false);
        } else {
            t_pump(loop, t, 5);
        }
    }
    zsock_destroy(&wk);
    zsock_destroy(&gw);
    return reply;
}

//  A small blocking HTTP client for wa-sim's control API. Returns the
//  status; *body_p gets the parsed JSON (may be NULL).
static int
t_http(int port, const char *method, const char *path, const char *body,
       json_t **body_p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    assert(rc == 0);
    char *req = cm_sprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: %zu\r\nConnection: close\r\n\r\n"
                           "%s",
                           method, path, body ? strlen(body) : 0,
                           body ? body : "");
    size_t len = strlen(req);
    ssize_t n = send(fd, req, len, 0);
    assert(n == (ssize_t)len);
    free(req);
    size_t cap = 1 << 16, got = 0;
    char *buf = cm_alloc(cap);
    while (got < cap - 1 && (n = recv(fd, buf + got, cap - 1 - got, 0)) > 0) {
        got += (size_t)n;
    }
    buf[got] = 0;
    close(fd);
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    const char *start = strstr(buf, "\r\n\r\n");
    if (body_p) {
        *body_p = start ? json_loads(start + 4, 0, NULL) : NULL;
    }
    free(buf);
    return status;
}

//  wa-sim as a child process.
typedef struct {
    pid_t pid;
    json_t *info; //  its startup line
    int control;  //  control port
} t_sim_t;

static bool
t_sim_start(t_sim_t *sim)
{
    const char *dir = getenv("WHARF_BUILD_DIR");
    char *bin = cm_sprintf("%s/bin/wa-sim", dir ? dir : ".");
    if (access(bin, X_OK) != 0) {
        free(bin);
        return false;
    }
    int fds[2];
    int rc = pipe(fds);
    assert(rc == 0);
    sim->pid = fork();
    assert(sim->pid >= 0);
    if (sim->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        const char *log = getenv("SW_WA_TEST_SIM_LOG");
        int null = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC,
                        0644);
        dup2(null, 2);
        execl(bin, bin, "--log-level", log ? "debug" : "error",
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    free(bin);
    char line[2048];
    size_t got = 0;
    while (got < sizeof line - 1) {
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, 20000) <= 0) {
            break;
        }
        ssize_t n = read(fds[0], line + got, 1);
        if (n <= 0 || line[got] == '\n') {
            break;
        }
        got++;
    }
    line[got] = 0;
    close(fds[0]);
    sim->info = json_loads(line, 0, NULL);
    assert(sim->info);
    const char *ctl =
        json_string_value(json_object_get(sim->info, "control_url"));
    const char *colon = ctl ? strrchr(ctl, ':') : NULL;
    assert(colon);
    sim->control = atoi(colon + 1);
    return true;
}

//  The id of wa-sim's connection whose JID starts with `prefix`, or -1.
static int
t_sim_conn(t_sim_t *sim, const char *prefix)
{
    json_t *body = NULL;
    int st = t_http(sim->control, "GET", "/connections", NULL, &body);
    assert(st == 200 && body);
    int id = -1;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(body, "connections"), i, c)
    {
        const char *jid = json_string_value(json_object_get(c, "jid"));
        if (jid && strncmp(jid, prefix, strlen(prefix)) == 0 &&
            cm_streq(json_string_value(json_object_get(c, "state")),
                     "logged_in")) {
            id = (int)json_integer_value(json_object_get(c, "id"));
        }
    }
    json_decref(body);
    return id;
}

static void
t_sim_stop(t_sim_t *sim)
{
    kill(sim->pid, SIGTERM);
    int status = 0;
    waitpid(sim->pid, &status, 0);
    json_decref(sim->info);
}

//  The events of `session` named `event`.
static size_t
t_count(t_store_t *t, const char *session, const char *event)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(t->events, i, e)
    {
        if (cm_streq(json_string_value(json_object_get(e, "session")),
                     session) &&
            cm_streq(json_string_value(json_object_get(e, "event")), event)) {
            n++;
        }
    }
    return n;
}

static json_t *
t_last(t_store_t *t, const char *session, const char *event)
{
    json_t *found = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(t->events, i, e)
    {
        if (cm_streq(json_string_value(json_object_get(e, "session")),
                     session) &&
            cm_streq(json_string_value(json_object_get(e, "event")), event)) {
            found = json_object_get(e, "payload");
        }
    }
    return found;
}

//  Events of `session` named `event` whose payload body is `body`.
static size_t
t_count_body(t_store_t *t, const char *session, const char *event,
             const char *body)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(t->events, i, e)
    {
        json_t *p = json_object_get(e, "payload");
        if (cm_streq(json_string_value(json_object_get(e, "session")),
                     session) &&
            cm_streq(json_string_value(json_object_get(e, "event")), event) &&
            cm_streq(json_string_value(json_object_get(p, "body")), body)) {
            n++;
        }
    }
    return n;
}

//  a sends `text` to b while the store holds every event; b "crashes"
//  (stopped with no further writes) once its message event is held,
//  before (stored false) or after (true) the store took the events.
//  Returns b restarted and WORKING again.
static sw_session_t *
t_crash_and_restart(sw_host_t *host, sw_loop_t *loop, t_store_t *t,
                    sw_engine_t *engine, sw_session_t *a, sw_session_t *b,
                    const char *text, bool stored)
{
    t->hold_events = true;
    cm_msg_t *reply = t_command(
        loop, t, engine, a, "message.send_text",
        json_pack("{s:s, s:s}", "chatId", "15550002222", "text", text), 10000);
    assert(reply && cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    //  Wait until b's message event is held
    cm_msg_t *held = NULL;
    int64_t until = cm_mono_ms() + 5000;
    while (!held && cm_mono_ms() < until) {
        t_pump(loop, t, 5);
        for (cm_msg_t *m = (cm_msg_t *)zlistx_first(t->held); m;
             m = (cm_msg_t *)zlistx_next(t->held)) {
            json_t *list = json_object_get(cm_msg_body(m), "events");
            bool message = cm_streq(cm_msg_str(m, "event"), "message");
            size_t i;
            json_t *ev;
            json_array_foreach(list, i, ev)
            {
                message =
                    message ||
                    cm_streq(json_string_value(json_object_get(ev, "event")),
                             "message");
            }
            if (cm_streq(cm_msg_str(m, "session"), "b") && message) {
                held = m;
            }
        }
    }
    assert(held);
    //  b's events: stored or lost; the others are answered
    t->hold_events = false;
    cm_msg_t *m;
    while ((m = (cm_msg_t *)zlistx_first(t->held))) {
        zlistx_detach_cur(t->held);
        if (cm_streq(cm_msg_str(m, "session"), "b") && !stored) {
            cm_msg_destroy(&m);
        } else {
            t_store_handle(t, &m);
        }
    }
    //  The crash: no reply is looked at, nothing more is written
    sw_session_finish(&b, 0, NULL, NULL);
    t_pump(loop, t, 200);
    b = sw_session_new(host, "b", ++t->epoch, NULL);
    assert(sw_session_start(b) == 0);
    assert(t_until(loop, t, b, SW_STATUS_WORKING, 10000));
    until = cm_mono_ms() + 5000;
    while (t_count_body(t, "b", "message", text) == 0 &&
           cm_mono_ms() < until) {
        t_pump(loop, t, 10);
    }
    t_pump(loop, t, 500);
    return b;
}

//  Link session `name` to wa-sim account `phone` by scanning its QR.
static sw_session_t *
t_link(sw_host_t *host, sw_loop_t *loop, t_store_t *t, sw_engine_t *engine,
       t_sim_t *sim, const char *name, const char *phone, int64_t epoch)
{
    sw_session_t *s = sw_session_new(host, name, epoch, NULL);
    assert(sw_session_start(s) == 0);
    assert(t_until(loop, t, s, SW_STATUS_SCAN_QR_CODE, 10000));
    const char *uri = t_status_str(t, name, "qr");
    assert(uri && strncmp(uri, "data:image/png;base64,", 22) == 0);
    cm_msg_t *reply = t_command(loop, t, engine, s, "session.qr", NULL, 2000);
    assert(reply && cm_msg_status(reply) == 200);
    json_t *scan =
        json_pack("{s:s}", "qr", cm_msg_str(reply, "value"));
    char *text = json_dumps(scan, JSON_COMPACT);
    char *path = cm_sprintf("/accounts/%s/scan", phone);
    int st = t_http(sim->control, "POST", path, text, NULL);
    assert(st == 200);
    free(path);
    free(text);
    json_decref(scan);
    cm_msg_destroy(&reply);
    assert(t_until(loop, t, s, SW_STATUS_WORKING, 15000));
    return s;
}

void
sw_wa_test(bool verbose)
{
    printf(" * sw_wa: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    //  A port that refuses connections
    int closed_port = 0;
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
        socklen_t alen = sizeof a;
        getsockname(fd, (struct sockaddr *)&a, &alen);
        closed_port = ntohs(a.sin_port);
        close(fd);
    }
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ws/chat", closed_port);
    setenv("WA_URL", url, 1);
    setenv("WA_RECONNECT_MIN_MS", "20", 1);
    setenv("WA_RECONNECT_MAX_MS", "80", 1);
    setenv("WORKER_ID", "w-wa", 1);
    sw_config_t *config = sw_config_new();
    unsetenv("WA_URL");

    t_store_t t = {0};
    t.router = zsock_new_router("inproc://sw_wa_test");
    t.creds = json_object();
    t.signal = json_object();
    t.status = json_object();
    t.events = json_array();
    t.ids = json_object();
    t.held = zlistx_new();
    t.epoch = 10;
    sw_loop_t *loop = sw_loop_new();
    cm_client_t *store = cm_client_new("inproc://sw_wa_test");
    sw_engine_t *engine = sw_wa_new(config);
    assert(engine && cm_streq(sw_engine_name(engine), "wa"));
    assert(sw_engine_handles(engine, "message.send_text"));
    assert(sw_engine_handles(engine, "session.pair_code"));
    sw_host_t *host = sw_host_new(store, loop, config, engine);

    //  Unreachable: FAILED with the reason, then retried
    sw_session_t *s = sw_session_new(host, "u1", 1, NULL);
    assert(sw_session_start(s) == 0);
    assert(t_until(loop, &t, s, SW_STATUS_FAILED, 5000));
    char expect[128];
    snprintf(expect, sizeof expect,
             "could not connect to 127.0.0.1:%d: Connection refused",
             closed_port);
    assert(cm_streq(t_status_str(&t, "u1", "reason"), expect));
    int before = t.statuses;
    t_pump(loop, &t, 500);
    assert(t.statuses >= before + 4); //  STARTING/FAILED rounds
    //  Not linking, not working: commands say so
    cm_msg_t *reply = t_command(loop, &t, engine, s, "session.qr", NULL, 1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);
    reply = t_command(loop, &t, engine, s, "message.send_text",
                      json_pack("{s:s, s:s}", "chatId", "1555@c.us", "text",
                                "x"),
                      1000);
    assert(reply && cm_msg_status(reply) == 409);
    assert(strstr(cm_msg_reason(reply), "expected: WORKING"));
    cm_msg_destroy(&reply);
    reply = t_command(loop, &t, engine, s, "session.me", NULL, 1000);
    assert(reply && json_is_null(json_object_get(cm_msg_body(reply), "me")));
    cm_msg_destroy(&reply);
    sw_session_finish(&s, 0, NULL, NULL);
    t_pump(loop, &t, 50);
    sw_host_destroy(&host);
    cm_client_destroy(&store);
    sw_engine_destroy(&engine);
    sw_config_destroy(&config);

    t_sim_t sim;
    if (t_sim_start(&sim)) {
        setenv("WA_URL", json_string_value(json_object_get(sim.info, "ws_url")),
               1);
        setenv("WA_ROOT_KEY",
               json_string_value(json_object_get(sim.info, "root_key")), 1);
        config = sw_config_new();
        unsetenv("WA_URL");
        unsetenv("WA_ROOT_KEY");
        engine = sw_wa_new(config);
        store = cm_client_new("inproc://sw_wa_test");
        host = sw_host_new(store, loop, config, engine);
        assert(t_http(sim.control, "POST", "/accounts",
                      "{\"phone\":\"15550001111\",\"push_name\":\"Alice\"}",
                      NULL) == 201);
        assert(t_http(sim.control, "POST", "/accounts",
                      "{\"phone\":\"15550002222\",\"push_name\":\"Bob\"}",
                      NULL) == 201);

        //  QR login: WORKING with me; creds and Signal rows stored
        sw_session_t *a =
            t_link(host, loop, &t, engine, &sim, "a", "15550001111", 1);
        json_t *me = json_object_get(json_object_get(t.status, "a"), "me");
        assert(cm_streq(json_string_value(json_object_get(me, "id")),
                        "15550001111@c.us"));
        t_pump(loop, &t, 300);
        assert(json_object_get(t.creds, "a"));
        assert(json_object_size(json_object_get(t.signal, "a")) > 0);
        reply = t_command(loop, &t, engine, a, "session.me", NULL, 1000);
        assert(cm_streq(json_string_value(json_object_get(
                            json_object_get(cm_msg_body(reply), "me"), "id")),
                        "15550001111@c.us"));
        cm_msg_destroy(&reply);

        //  Restart (a failover): WORKING again with no scan
        sw_session_finish(&a, SW_FINISH_RELEASE, NULL, NULL);
        t_pump(loop, &t, 100);
        a = sw_session_new(host, "a", 2, NULL);
        assert(sw_session_start(a) == 0);
        assert(t_until(loop, &t, a, SW_STATUS_WORKING, 10000));

        //  A second session; a text from a to b
        sw_session_t *b =
            t_link(host, loop, &t, engine, &sim, "b", "15550002222", 1);
        t_pump(loop, &t, 300);
        reply = t_command(loop, &t, engine, a, "message.send_text",
                          json_pack("{s:s, s:s}", "chatId", "15550002222@c.us",
                                    "text", "hello b"),
                          10000);
        assert(reply && cm_msg_status(reply) == 200);
        const char *mid = cm_msg_str(reply, "id");
        assert(mid && strncmp(mid, "true_15550002222@c.us_", 22) == 0);
        assert(cm_streq(cm_msg_str(reply, "body"), "hello b"));
        assert(cm_msg_int(reply, "ack", 0) == 1);
        cm_msg_destroy(&reply);
        int64_t until = cm_mono_ms() + 10000;
        while ((t_count(&t, "b", "message") == 0 ||
                t_count(&t, "b", "message.any") == 0) &&
               cm_mono_ms() < until) {
            t_pump(loop, &t, 10);
        }
        json_t *msg = t_last(&t, "b", "message");
        assert(msg);
        assert(cm_streq(json_string_value(json_object_get(msg, "body")),
                        "hello b"));
        assert(cm_streq(json_string_value(json_object_get(msg, "from")),
                        "15550001111@c.us"));
        assert(json_is_false(json_object_get(msg, "fromMe")));
        assert(t_count(&t, "b", "message.any") == 1);
        assert(t_count(&t, "a", "message.any") >= 1);
        //  The delivery receipt: DEVICE at a
        until = cm_mono_ms() + 10000;
        while (t_count(&t, "a", "message.ack") < 2 && cm_mono_ms() < until) {
            t_pump(loop, &t, 10);
        }
        assert(t_count(&t, "a", "message.ack") >= 2);
        //  b reads it (no ids: the unread ones): READ at a
        reply = t_command(loop, &t, engine, b, "message.send_seen",
                          json_pack("{s:s}", "chatId", "15550001111@c.us"),
                          5000);
        assert(reply && cm_msg_status(reply) == 200);
        cm_msg_destroy(&reply);
        until = cm_mono_ms() + 10000;
        json_t *ack = NULL;
        while (cm_mono_ms() < until) {
            ack = t_last(&t, "a", "message.ack");
            if (ack && json_integer_value(json_object_get(ack, "ack")) == 3) {
                break;
            }
            t_pump(loop, &t, 10);
        }
        assert(ack && cm_streq(json_string_value(json_object_get(ack,
                                                                 "ackName")),
                               "READ"));

        //  Nothing lost, nothing twice. 1: b dies before the events of a
        //  message are stored: the server delivers it again, it is
        //  decrypted again and stored once
        b = t_crash_and_restart(host, loop, &t, engine, a, b, "second", false);
        assert(t_count_body(&t, "b", "message", "second") == 1);
        //  2: b dies after they are stored, before the receipt went out:
        //  delivered again, the same event id is not stored twice
        int dups = t.dups;
        b = t_crash_and_restart(host, loop, &t, engine, a, b, "third", true);
        assert(t_count_body(&t, "b", "message", "third") == 1);
        assert(t.dups > dups);

        //  The server drops a's connection: STARTING, then WORKING again
        int conn_a = t_sim_conn(&sim, "15550001111:");
        assert(conn_a > 0);
        char *path = cm_sprintf("/connections/%d/drop", conn_a);
        assert(t_http(sim.control, "POST", path, "{}", NULL) == 200);
        free(path);
        int64_t t0 = cm_mono_ms();
        while (sw_session_status(a) == SW_STATUS_WORKING &&
               cm_mono_ms() - t0 < 5000) {
            t_pump(loop, &t, 5);
        }
        assert(sw_session_status(a) == SW_STATUS_STARTING);
        assert(t_until(loop, &t, a, SW_STATUS_WORKING, 10000));
        //  Replaced by another connection: FAILED, no reconnect
        conn_a = t_sim_conn(&sim, "15550001111:");
        path = cm_sprintf("/connections/%d/stream-error", conn_a);
        assert(t_http(sim.control, "POST", path,
                      "{\"conflict\":\"replaced\"}", NULL) == 200);
        free(path);
        assert(t_until(loop, &t, a, SW_STATUS_FAILED, 5000));
        assert(strstr(t_status_str(&t, "a", "reason"), "replaced"));
        t_pump(loop, &t, 300);
        assert(sw_session_status(a) == SW_STATUS_FAILED);
        //  The phone unlinks b: creds cleared, FAILED "logged out"
        assert(json_object_get(t.creds, "b"));
        assert(t_http(sim.control, "DELETE", "/accounts/15550002222/devices/1",
                      NULL, NULL) == 200);
        assert(t_until(loop, &t, b, SW_STATUS_FAILED, 5000));
        assert(cm_streq(t_status_str(&t, "b", "reason"), "logged out"));
        t_pump(loop, &t, 100);
        assert(!json_object_get(t.creds, "b"));
        assert(!json_object_get(t.signal, "b"));

        sw_session_finish(&a, SW_FINISH_RELEASE, NULL, NULL);
        sw_session_finish(&b, SW_FINISH_RELEASE, NULL, NULL);
        t_pump(loop, &t, 100);
        //  The host forgets calls in flight (b's lost events): its store
        //  client goes with it
        sw_host_destroy(&host);
        cm_client_destroy(&store);
        sw_engine_destroy(&engine);
        //  Nobody scans: the QR rotates, then FAILED with a clear reason
        setenv("WA_QR_FIRST_MS", "150", 1);
        setenv("WA_QR_NEXT_MS", "100", 1);
        engine = sw_wa_new(config);
        unsetenv("WA_QR_FIRST_MS");
        unsetenv("WA_QR_NEXT_MS");
        store = cm_client_new("inproc://sw_wa_test");
        host = sw_host_new(store, loop, config, engine);
        sw_session_t *q = sw_session_new(host, "q", 1, NULL);
        assert(sw_session_start(q) == 0);
        before = t.statuses;
        assert(t_until(loop, &t, q, SW_STATUS_FAILED, 10000));
        assert(strstr(t_status_str(&t, "q", "reason"),
                      "QR code was not scanned in time"));
        assert(t.statuses - before >= 6); //  STARTING, QRs, FAILED
        t_pump(loop, &t, 300);
        assert(sw_session_status(q) == SW_STATUS_FAILED);
        sw_session_finish(&q, SW_FINISH_RELEASE, NULL, NULL);
        t_pump(loop, &t, 50);
        sw_host_destroy(&host);
        cm_client_destroy(&store);
        sw_engine_destroy(&engine);
        sw_config_destroy(&config);
        t_sim_stop(&sim);
    }
    unsetenv("WA_RECONNECT_MIN_MS");
    unsetenv("WA_RECONNECT_MAX_MS");
    unsetenv("WORKER_ID");
    sw_loop_destroy(&loop);
    zsock_destroy(&t.router);
    json_decref(t.creds);
    json_decref(t.signal);
    json_decref(t.status);
    json_decref(t.events);
    json_decref(t.ids);
    zlistx_destroy(&t.held);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
