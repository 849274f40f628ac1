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
#include "wa/wa_jid.h"
#include "wa/wa_ws.h"
#include <sys/prctl.h>

//  Engine state, shared by every session.
typedef struct {
    const sw_config_t *config;    //  configuration, borrowed
    sw_url_t *url;                //  parsed WA_URL
    wa_ws_t *ws;                  //  the WebSocket loop (one descriptor)
    sw_loop_t *loop;              //  the worker's loop, set on first start
    uint64_t kick_timer;          //  service the WebSocket loop now
    uint64_t deadline_timer;      //  service it when its timers are due
    int qr_first_ms;              //  WA_QR_FIRST_MS
    int qr_next_ms;               //  WA_QR_NEXT_MS
    int send_timeout_ms;          //  WA_SEND_TIMEOUT_MS
    struct sockaddr_storage addr; //  WA_URL's address, for diagnostics
    socklen_t addr_len;           //  0 when not resolved
    int64_t resolved_at;          //  mono ms of the last resolution
} s_engine_t;

//  Connection phases of a session.
typedef enum {
    S_LOADING,    //  reading creds and Signal records from the store
    S_CONNECTING, //  WebSocket + handshake under way
    S_OPEN,       //  handshake done, wa_client talks
    S_WAITING,    //  a reconnect (or a store retry) is scheduled
    S_IDLE        //  stopped for good: QR expired, logged out, replaced
} s_phase_t;

//  Per-session state.
typedef struct {
    s_engine_t *engine;        //  the engine
    sw_session_t *session;     //  the session
    sw_wasess_t *sess;         //  what the capability modules see of it
    wa_client_t *client;       //  protocol state, created once loaded
    wa_conn_t *conn;           //  the connection, or NULL
    s_phase_t phase;           //  where we are
    unsigned attempt;          //  failures in a row (backoff)
    uint64_t retry_timer;      //  reconnect / reload, 0 when none
    uint64_t client_timer;     //  wa_client wake-up, 0 when none
    uint64_t action_timer;     //  deferred closing state, 0 when none
    uint64_t flush_timer;      //  persistence flush, 0 when none
    uint64_t logout_timer;     //  logout deadline, 0 when none
    wa_client_state_t closing; //  closing state to act on, or 0
    char *closing_reason;      //  its reason
    json_t *creds;             //  device.get result until connected
    json_t *rows;              //  signal.load result until connected
    json_t *lid_rows;          //  lid.list result until connected
    json_t *lids;              //  LID pairs not written yet: lid -> pn
    int loads;                 //  loads outstanding
    bool load_failed;          //  one of them failed
    bool creds_dirty;          //  credentials changed since the last put
    int puts;                  //  device.put / signal.put in the queue
    uint64_t changes;          //  creds and Signal changes reported
    uint64_t flushing;         //  changes the puts in the queue cover
    uint64_t durable;          //  changes stored
    zlistx_t *outbox;          //  s_frame_t waiting for `durable`
    sw_wajournal_t *journal;   //  Signal changes not written yet
    bool opened;               //  the current connection got OPEN
    bool logging_out;          //  a logout runs
    int diag_fd;               //  diagnostic TCP connect, -1 when none
    uint64_t diag_timer;       //  its deadline, 0 when none
    char *diag_text;           //  what the WebSocket layer said
    bool debug_events;         //  engine.event asked for (sw_wadebug)
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
        e->deadline_timer =
            sw_loop_timer_add(e->loop, t > INT_MAX ? INT_MAX : (int)t, false,
                              s_deadline_timer, e);
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

//  Stopped for good, until the session is restarted.
static void
s_set_idle(s_sess_t *ss)
{
    ss->phase = S_IDLE;
    sw_wasess_set_idle(ss->sess, true);
}

//  --------------------------------------------------------------------
//  Persistence, and the outbox that waits for it
//
//  A stanza leaves only once every credential and Signal change made
//  before it is stored (issue 12 item 1): a ciphertext is never on the
//  wire while the ratchet step that made it could still be lost. A
//  worker that dies, and the one that takes the session over from the
//  stored state, can then never encrypt two messages with one message
//  key, and a send is never acknowledged with a state that is not
//  durable. Stanzas made while changes are unstored wait in the outbox,
//  in order, and the changes are flushed at once.

//  An encoded stanza waiting in the outbox.
typedef struct {
    uint8_t *buf;  //  encoded stanza
    size_t len;    //  its length
    uint64_t need; //  changes that must be stored before it leaves
} s_frame_t;

static void
s_frame_free(void **item_p)
{
    s_frame_t *f = (s_frame_t *)*item_p;
    if (f) {
        free(f->buf);
        free(f);
        *item_p = NULL;
    }
}

//  Send what the stored changes allow, in order.
static void
s_outbox_release(s_sess_t *ss)
{
    s_frame_t *f;
    bool sent = false;
    while ((f = (s_frame_t *)zlistx_first(ss->outbox)) &&
           f->need <= ss->durable) {
        if (ss->conn && wa_conn_ready(ss->conn)) {
            wa_conn_send(ss->conn, f->buf, f->len);
            sent = true;
        }
        zlistx_delete(ss->outbox, zlistx_cursor(ss->outbox));
    }
    if (sent) {
        s_kick(ss->engine);
    }
}

//  A device.put or signal.put was answered.
static void
s_put_done(sw_session_t *session, int st, void *arg)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    if (!ss) {
        return;
    }
    if (st < 200 || st >= 300) {
        //  Refused for good (a 4xx): holding the outbox would only stall
        //  the session
        cm_log_error("could not store WhatsApp state",
                     "session=\"%s\" type=%s st=%d", s_name(ss),
                     (const char *)arg, st);
    }
    if (ss->puts > 0) {
        ss->puts--;
    }
    if (ss->puts == 0) {
        ss->durable = ss->flushing;
        s_outbox_release(ss);
        if (ss->creds_dirty || sw_wajournal_size(ss->journal) > 0 ||
            json_object_size(ss->lids) > 0) {
            s_schedule_flush(ss);
        }
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
    if (json_object_size(ss->lids) > 0) {
        json_t *pairs = json_array();
        void *it = json_object_iter(ss->lids);
        while (it && json_array_size(pairs) < SW_WA_LID_BATCH) {
            const char *lid = json_object_iter_key(it);
            json_array_append_new(pairs,
                                  json_pack("{s:s, s:O}", "lid", lid, "pn",
                                            json_object_iter_value(it)));
            void *next = json_object_iter_next(ss->lids, it);
            json_object_del(ss->lids, lid);
            it = next;
        }
        json_t *body = json_pack("{s:o}", "pairs", pairs);
        if (sw_session_write(ss->session, "lid.put", &body, s_put_done,
                             (void *)"lid.put") == 0) {
            ss->puts++;
        }
    }
    //  These puts cover every change so far, unless the journal had more
    //  than one batch
    if (sw_wajournal_size(ss->journal) == 0 &&
        json_object_size(ss->lids) == 0) {
        ss->flushing = ss->changes;
    }
    if (ss->puts == 0) {
        ss->durable = ss->flushing;
        s_outbox_release(ss);
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
        //  A stanza waiting for the changes: no time to batch more
        int delay = zlistx_size(ss->outbox) ? 0 : SW_WA_FLUSH_MS;
        ss->flush_timer =
            sw_loop_timer_add(s_loop(ss), delay, false, s_flush_timer, ss);
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
    if (ss->debug_events) {
        sw_wadebug_stanza(ss->sess, false, node);
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *reason = NULL;
    if (wa_binary_encode(node, &buf, &len, &reason) != 0) {
        cm_log_error("could not encode stanza",
                     "session=\"%s\" tag=%s "
                     "reason=\"%s\"",
                     s_name(ss), wa_node_tag(node), reason ? reason : "");
        return -1;
    }
    if (ss->durable < ss->changes || zlistx_size(ss->outbox) > 0) {
        //  Made after changes not stored yet: it waits for them
        if (zlistx_size(ss->outbox) >= SW_WA_OUTBOX_MAX) {
            cm_log_warn("could not queue stanza: the store is not keeping "
                        "up",
                        "session=\"%s\" queued=%zu", s_name(ss),
                        zlistx_size(ss->outbox));
            free(buf);
            return -1;
        }
        s_frame_t *f = cm_alloc(sizeof *f);
        f->buf = buf;
        f->len = len;
        f->need = ss->changes;
        zlistx_add_end(ss->outbox, f);
        if (ss->puts == 0) {
            s_cancel(ss, &ss->flush_timer);
            s_schedule_flush(ss);
        }
        return 0;
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
s_op_status(void *arg, const wa_client_status_t *st)
{
    s_sess_t *ss = (s_sess_t *)arg;
    cm_log_debug("whatsapp client state", "session=\"%s\" state=%s", s_name(ss),
                 wa_client_state_name(st->state));
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
        sw_wasession_pair_done(ss->sess, 200, st->code, NULL);
        break;
    case WA_CLIENT_PAIR_CODE_FAILED:
        sw_wasession_pair_done(
            ss->sess, 502, NULL,
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
        sw_wasess_set_me(ss->sess, st->me_id, st->me_lid, st->push_name);
        json_t *me = sw_wasess_me(ss->sess);
        if (me) {
            sw_session_set_status_full(ss->session, SW_STATUS_WORKING, NULL, me,
                                       NULL);
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
                ss->action_timer =
                    sw_loop_timer_add(s_loop(ss), 0, false, s_action_timer, ss);
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
    ss->changes++;
    s_schedule_flush(ss);
}

static void
s_op_signal(void *arg, const char *kind, const char *key, const uint8_t *data,
            size_t len)
{
    s_sess_t *ss = (s_sess_t *)arg;
    sw_wajournal_put(ss->journal, kind, key, data, len);
    ss->changes++;
    s_schedule_flush(ss);
}

//  A new LID pair: written with the next flush (lid.put), in API form.
static void
s_op_lid(void *arg, const char *lid, const char *pn)
{
    s_sess_t *ss = (s_sess_t *)arg;
    char *api = wa_jid_to_api(pn);
    if (api) {
        json_object_set_new(ss->lids, lid, json_string(api));
        ss->changes++;
        s_schedule_flush(ss);
    }
    free(api);
}

static bool
s_op_event(void *arg, const wa_client_event_t *ev)
{
    s_sess_t *ss = (s_sess_t *)arg;
    switch (ev->type) {
    case WA_CLIENT_EVENT_MESSAGE:
        if (!ev->u.message.from_me) {
            wa_jid_t *user = wa_jid_new_from(ev->u.message.sender);
            if (user && wa_jid_set_device(user, 0) == 0) {
                sw_wacontacts_learn_name(ss->sess, wa_jid_str(user),
                                         ev->u.message.push_name);
            }
            wa_jid_destroy(&user);
        }
        if (sw_wamedia_defer(ss->sess, &ev->u.message)) {
            return true; //  its events follow the media download
        }
        return sw_wamessage_on_message(ss->sess, &ev->u.message);
    case WA_CLIENT_EVENT_ACK:
        //  Members' receipts in groups are message.ack.group's
        if (!sw_wareceipt_on_ack(ss->sess, &ev->u.ack)) {
            sw_wamessage_on_ack(ss->sess, &ev->u.ack);
        }
        break;
    case WA_CLIENT_EVENT_SENT:
        if (!sw_wastatus_on_sent(ss->sess, &ev->u.sent) &&
            !sw_wamedia_on_sent(ss->sess, &ev->u.sent)) {
            sw_wamessage_on_sent(ss->sess, &ev->u.sent);
        }
        break;
    case WA_CLIENT_EVENT_PRESENCE:
        sw_wapresence_on_presence(ss->sess, &ev->u.presence);
        break;
    case WA_CLIENT_EVENT_WAITING:
        sw_wareceipt_on_waiting(ss->sess, &ev->u.waiting);
        break;
    case WA_CLIENT_EVENT_GROUP:
        sw_wagroup_on_group(ss->sess, &ev->u.group);
        break;
    case WA_CLIENT_EVENT_APPSTATE:
        sw_waappstate_on_appstate(ss->sess, &ev->u.appstate);
        break;
    case WA_CLIENT_EVENT_APPSTATE_PUSHED:
        sw_waappstate_on_pushed(ss->sess, &ev->u.pushed);
        break;
    case WA_CLIENT_EVENT_APPSTATE_BLOB:
        sw_waappstate_on_blob(ss->sess, &ev->u.blob);
        break;
    case WA_CLIENT_EVENT_CALL:
        sw_wacall_on_call(ss->sess, &ev->u.call);
        break;
    case WA_CLIENT_EVENT_PICTURE:
        sw_wacontacts_on_picture(ss->sess, &ev->u.picture);
        break;
    }
    return false;
}

static const wa_client_ops_t s_client_ops = {
    s_op_send,  s_op_timer,  NULL,       s_op_status,
    s_op_creds, s_op_signal, s_op_event, s_op_lid};

//  --------------------------------------------------------------------
//  Connection

//  Close the connection (no events follow).
static void
s_drop(s_sess_t *ss, const char *why)
{
    //  Stanzas of this connection that never left: the client fails
    //  what waits on them when it learns of the disconnect
    zlistx_purge(ss->outbox);
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
    s_set_idle(ss);
    sw_wasession_pair_done(ss->sess, 409, NULL, reason);
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
        char *reason =
            cm_sprintf("could not resolve \"%s\"", sw_url_host(e->url));
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
    ss->diag_timer = sw_loop_timer_add(s_loop(ss), SW_WA_DIAG_TIMEOUT_MS, false,
                                       s_diag_timeout, ss);
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
            cm_log_warn("could not decode stanza",
                        "session=\"%s\" "
                        "reason=\"%s\"",
                        s_name(ss), reason ? reason : "");
            break;
        }
        cm_log_debug("stanza in", "session=\"%s\" tag=%s id=%s type=%s",
                     s_name(ss), wa_node_tag(node),
                     wa_node_attr_or(node, "id", ""),
                     wa_node_attr_or(node, "type", ""));
        if (ss->debug_events) {
            sw_wadebug_stanza(ss->sess, true, node);
        }
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
        cm_log_info("connection closed",
                    "session=\"%s\" kind=%d "
                    "reason=\"%s\"",
                    s_name(ss), (int)why, text);
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
            s_set_idle(ss);
            ss->logging_out = false;
            s_cancel(ss, &ss->logout_timer);
            sw_session_logout_done(ss->session, 0, NULL);
            break;
        }
        cm_log_info("logged out by the phone", "session=\"%s\" reason=\"%s\"",
                    s_name(ss), why);
        //  Forget the device: nothing of it may be written after this
        sw_wajournal_clear(ss->journal);
        json_object_clear(ss->lids);
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
    case WA_CLIENT_OUTDATED:
        //  No retry loop: the same version would be refused again
        cm_log_error("WhatsApp refused the client version",
                     "session=\"%s\" reason=\"%s\"", s_name(ss), why);
        s_idle(ss, why);
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
    cfg.iq_timeout_ms = SW_WA_IQ_TIMEOUT_MS;
    ss->client = wa_client_new(&cfg, &s_client_ops, ss);
    sw_wasess_set_client(ss->sess, ss->client);
    ss->debug_events = sw_wadebug_wanted(sw_session_config(ss->session));
    json_t *client = json_object_get(sw_session_config(ss->session), "client");
    const char *device =
        json_string_value(json_object_get(client, "deviceName"));
    if (device && *device) {
        wa_payload_set_device_props(wa_client_payload_settings(ss->client),
                                    device, 0, 1, 0, WA_PAYLOAD_DEVICE_DESKTOP);
    }
    //  Sent when pairing: the phone's whole history, or its recent part
    wa_payload_set_full_sync(wa_client_payload_settings(ss->client),
                             sw_wahistory_full_sync(ss->sess));
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
                                  data ? data : (const uint8_t *)"",
                                  len) == 0) {
            loaded++;
        } else {
            cm_log_warn("could not load Signal record",
                        "session=\"%s\" kind=%s", s_name(ss),
                        kind ? kind : "?");
        }
        free(data);
    }
    size_t lids = 0;
    json_array_foreach(ss->lid_rows, i, row)
    {
        if (wa_client_load_lid(
                ss->client, json_string_value(json_object_get(row, "lid")),
                json_string_value(json_object_get(row, "pn"))) == 0) {
            lids++;
        }
    }
    cm_log_info("session state loaded",
                "session=\"%s\" paired=%s signal_records=%zu lids=%zu",
                s_name(ss), wa_client_paired(ss->client) ? "yes" : "no", loaded,
                lids);
    json_decref(ss->creds);
    json_decref(ss->rows);
    json_decref(ss->lid_rows);
    ss->creds = NULL;
    ss->rows = NULL;
    ss->lid_rows = NULL;
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
    if (st == 400 && cm_streq(what, "lid.list")) {
        //  A store older than the lid family: start without the map
        st = 200;
    }
    if (st != 200) {
        cm_log_warn("could not load session state",
                    "session=\"%s\" type=%s st=%d reason=\"%s\"", s_name(ss),
                    what, st,
                    cm_msg_reason(*reply_p) ? cm_msg_reason(*reply_p) : "");
        ss->load_failed = true;
    } else if (cm_streq(what, "device.get")) {
        json_t *creds = json_object_get(cm_msg_body(*reply_p), "creds");
        ss->creds = json_is_object(creds) ? json_incref(creds) : NULL;
    } else if (cm_streq(what, "lid.list")) {
        json_t *rows = json_object_get(cm_msg_body(*reply_p), "lids");
        ss->lid_rows = json_is_array(rows) ? json_incref(rows) : json_array();
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
        json_decref(ss->lid_rows);
        ss->creds = ss->rows = ss->lid_rows = NULL;
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
    ss->loads = 3;
    cm_msg_t *req = cm_msg_new("device.get");
    cm_msg_set_str(req, "name", s_name(ss));
    sw_session_store_send(ss->session, &req, SW_WA_LOAD_TIMEOUT_MS,
                          s_load_reply, (void *)"device.get");
    req = cm_msg_new("signal.load");
    cm_msg_set_str(req, "name", s_name(ss));
    sw_session_store_send(ss->session, &req, SW_WA_LOAD_TIMEOUT_MS,
                          s_load_reply, (void *)"signal.load");
    req = cm_msg_new("lid.list");
    cm_msg_set_str(req, "session", s_name(ss));
    cm_msg_set_int(req, "limit", SW_WA_LID_LOAD_MAX);
    sw_session_store_send(ss->session, &req, SW_WA_LOAD_TIMEOUT_MS,
                          s_load_reply, (void *)"lid.list");
}

//  --------------------------------------------------------------------
//  The command table: every capability's rows (sw_wasess.h). A new
//  capability is its sw_wa<capability>.c plus its macro here.

static const sw_wacmd_t s_commands[] = {
    SW_WASESSION_COMMANDS,
    SW_WAMESSAGE_COMMANDS,
    SW_WAGROUP_COMMANDS,
    SW_WAAPPSTATE_COMMANDS,
    SW_WAKINDS_COMMANDS,
    SW_WAPRESENCE_COMMANDS,
    SW_WAMEDIA_COMMANDS,
    SW_WAFETCH_COMMANDS,
    SW_WACONTACTS_COMMANDS,
    SW_WAPROFILE_COMMANDS,
    SW_WACHANNELS_COMMANDS,
    SW_WACALL_COMMANDS,
    SW_WASTATUS_COMMANDS,
    SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

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
    ss->lids = json_object();
    ss->outbox = zlistx_new();
    zlistx_set_destructor(ss->outbox, s_frame_free);
    ss->sess = sw_wasess_new(session, s_commands, e->send_timeout_ms);
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
    //  Nothing waiting in the outbox leaves any more. Whatever changed
    //  and is not written yet goes into the queue now; the worker drains
    //  it before it lets the lease go
    zlistx_purge(ss->outbox);
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
    s_cancel(ss, &ss->logout_timer);
    //  The client first: group IQs still waiting are answered as
    //  cancelled; then the commands still held (sends, a pairing code)
    //  get 503 "session stopped"
    sw_wasess_set_client(ss->sess, NULL);
    wa_client_destroy(&ss->client);
    sw_wasess_destroy(&ss->sess);
    sw_wajournal_destroy(&ss->journal);
    zlistx_destroy(&ss->outbox);
    json_decref(ss->creds);
    json_decref(ss->rows);
    json_decref(ss->lid_rows);
    json_decref(ss->lids);
    free(ss->closing_reason);
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
        s_set_idle(ss);
        sw_session_logout_done(ss->session, 0, NULL);
    }
}

static void
s_logout(void *state, sw_session_t *session)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    if (!ss || !ss->client || !wa_client_paired(ss->client) || !ss->conn ||
        ss->phase != S_OPEN) {
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

sw_wasess_t *
sw_wa_sess(sw_session_t *session)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    return ss ? ss->sess : NULL;
}

static int
s_command(void *state, sw_session_t *session, sw_cmd_t **cmd_p)
{
    s_sess_t *ss = (s_sess_t *)sw_session_engine_data(session);
    if (!ss) {
        sw_cmd_reply(cmd_p, 503, "session is not running", NULL);
        return SW_CMD_TAKEN;
    }
    return sw_wasess_command(ss->sess, cmd_p);
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

static bool
s_handles(const char *type)
{
    return sw_wacmd_find(s_commands, type) != NULL;
}

static const sw_engine_ops_t s_ops = {
    "wa", NULL, s_start, s_stop, s_logout, s_command, s_destroy, s_handles};

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
    zsock_t *router;         //  the fake store
    json_t *creds;           //  name -> creds
    json_t *signal;          //  name -> {"kind\x1fkey": data}
    json_t *status;          //  name -> last set_status body
    json_t *events;          //  [event.append bodies]
    json_t *ids;             //  event ids seen -> true
    int dups;                //  appends with an id seen before
    int statuses;            //  set_status writes
    const char *hold_events; //  do not answer this session's events
    bool hold_signal;        //  do not answer signal.put
    zlistx_t *held;          //  held event.append requests
    int64_t epoch;           //  last lease epoch given out
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
            json_array_append_new(rows,
                                  json_pack("{s:s, s:s, s:O}", "kind", kind,
                                            "key", sep + 1, "data", v));
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
    } else if (cm_streq(type, "signal.put") && t->hold_signal) {
        zlistx_add_end(t->held, *req_p);
        *req_p = NULL;
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
        if (t->hold_events && cm_streq(name ? name : cm_msg_str(req, "session"),
                                       t->hold_events)) {
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
    char *req =
        cm_sprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n"
                   "%s",
                   method, path, body ? strlen(body) : 0, body ? body : "");
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
        //  A test that aborts takes its wa-sim with it
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 1);
        close(fds[0]);
        const char *log = getenv("SW_WA_TEST_SIM_LOG");
        int null =
            open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(null, 2);
        execl(bin, bin, "--log-level", log ? "debug" : "error", (char *)NULL);
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

//  a sends `text` to b while the store holds every event of b; b "crashes"
//  (stopped with no further writes) once its message event is held,
//  before (stored false) or after (true) the store took the events.
//  Returns b restarted and WORKING again.
static sw_session_t *
t_crash_and_restart(sw_host_t *host, sw_loop_t *loop, t_store_t *t,
                    sw_engine_t *engine, sw_session_t *a, sw_session_t *b,
                    const char *text, bool stored)
{
    t->hold_events = "b";
    cm_msg_t *reply = t_command(
        loop, t, engine, a, "message.send_text",
        json_pack("{s:s, s:s}", "chatId", "15550002222", "text", text), 10000);
    assert(reply && cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    //  Wait until b's message event is held. b's session writes go out
    //  one at a time, so a write of earlier events still in flight is
    //  answered here, or the message's write would wait behind it forever
    cm_msg_t *held = NULL;
    int64_t until = cm_mono_ms() + 30000;
    while (!held && cm_mono_ms() < until) {
        t_pump(loop, t, 5);
        cm_msg_t *m = (cm_msg_t *)zlistx_first(t->held);
        while (m && !held) {
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
            } else {
                zlistx_detach_cur(t->held);
                t->hold_events = NULL;
                t_store_handle(t, &m);
                t->hold_events = "b";
                m = (cm_msg_t *)zlistx_first(t->held);
            }
        }
    }
    assert(held);
    //  b's events: stored or lost; the others are answered
    t->hold_events = NULL;
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
    until = cm_mono_ms() + 30000;
    while (t_count_body(t, "b", "message", text) == 0 && cm_mono_ms() < until) {
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
    json_t *scan = json_pack("{s:s}", "qr", cm_msg_str(reply, "value"));
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
    reply = t_command(
        loop, &t, engine, s, "message.send_text",
        json_pack("{s:s, s:s}", "chatId", "1555@c.us", "text", "x"), 1000);
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
        int64_t until = cm_mono_ms() + 30000;
        while ((t_count(&t, "b", "message") == 0 ||
                t_count(&t, "b", "message.any") == 0 ||
                t_count(&t, "a", "message.any") == 0) &&
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
        //  b reads it (by id: the gateway reads unread ids from the
        //  store): READ at a
        reply =
            t_command(loop, &t, engine, b, "message.send_seen",
                      json_pack("{s:s, s:[s]}", "chatId", "15550001111@c.us",
                                "messageIds",
                                json_string_value(json_object_get(msg, "id"))),
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
        assert(ack &&
               cm_streq(json_string_value(json_object_get(ack, "ackName")),
                        "READ"));

        //  A stanza leaves only once the Signal changes made before it are
        //  stored: with signal.put held, the text waits in the outbox
        {
            zsock_t *gw = zsock_new_pair("@inproc://sw_wa_test_outbox");
            zsock_t *wk = zsock_new_pair(">inproc://sw_wa_test_outbox");
            t.hold_signal = true;
            cm_msg_t *req = cm_msg_new("message.send_text");
            json_t *body = json_pack("{s:s, s:s}", "chatId", "15550002222@c.us",
                                     "text", "durable");
            cm_msg_set_body(req, &body);
            sw_cmd_t *cmd = sw_cmd_new(&req, wk);
            assert(sw_engine_command(engine, a, &cmd) == SW_CMD_TAKEN);
            t_pump(loop, &t, 500);
            assert(!(zsock_events(gw) & ZMQ_POLLIN));
            assert(zlistx_size(t.held) > 0);
            assert(t_count_body(&t, "b", "message", "durable") == 0);
            t.hold_signal = false;
            cm_msg_t *m;
            while ((m = (cm_msg_t *)zlistx_first(t.held))) {
                zlistx_detach_cur(t.held);
                t_store_handle(&t, &m);
            }
            until = cm_mono_ms() + 10000;
            while (!(zsock_events(gw) & ZMQ_POLLIN) && cm_mono_ms() < until) {
                t_pump(loop, &t, 5);
            }
            reply = cm_msg_recv(gw, false);
            assert(reply && cm_msg_status(reply) == 200);
            cm_msg_destroy(&reply);
            until = cm_mono_ms() + 10000;
            while (t_count_body(&t, "b", "message", "durable") == 0 &&
                   cm_mono_ms() < until) {
                t_pump(loop, &t, 10);
            }
            assert(t_count_body(&t, "b", "message", "durable") == 1);
            zsock_destroy(&wk);
            zsock_destroy(&gw);
        }

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
        assert(t_http(sim.control, "POST", path, "{\"conflict\":\"replaced\"}",
                      NULL) == 200);
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
