/*  sim_conn - one client connection as the server sees it: framing,
    the responder Noise handshake, the transport cipher and stanza I/O

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_conn.h"
#include "wa/wa_binary.h"
#include "wa/wa_cert.h"
#include "wa/wa_conn.h"

struct _sim_conn_t {
    int64_t id;                         //  connection number
    char *remote;                       //  peer address
    int64_t since_ms;                   //  accept time
    sim_conn_state_t state;             //  protocol state
    sim_log_t *log;                     //  stanza log (borrowed)
    sim_conn_handler_t handler;         //  owner callbacks
    void *handler_arg;                  //  their argument
    wa_conn_t *wconn;                   //  transport, NULL once closed
    uint8_t remote_static[SIM_KEY_LEN]; //  client's Noise static key
    sim_device_t *device;               //  logged-in device (borrowed)
    void *data;                         //  owner data
    void (*data_destructor)(void **);   //  owner data destructor
    bool passive;                       //  client's passive flag
    bool available;                     //  client's presence
    uint64_t stanzas_in;                //  stanzas received
    uint64_t stanzas_out;               //  stanzas sent
};

static void s_on_event(wa_conn_t *wconn, wa_conn_event_t event,
                       const uint8_t *data, size_t len, void *arg);

sim_conn_t *
sim_conn_new(int64_t id, wa_ws_conn_t *ws_conn,
             const uint8_t static_priv[SIM_KEY_LEN], const uint8_t *cert,
             size_t cert_len, sim_log_t *log, const sim_conn_handler_t *handler,
             void *handler_arg)
{
    assert(ws_conn && static_priv && cert && log && handler);
    sim_conn_t *self = (sim_conn_t *)cm_alloc(sizeof(sim_conn_t));
    self->id = id;
    self->remote = cm_strdup(wa_ws_conn_peer(ws_conn));
    self->since_ms = cm_now_ms();
    self->log = log;
    self->handler = *handler;
    self->handler_arg = handler_arg;
    self->passive = true;
    self->wconn =
        wa_conn_accept(ws_conn, static_priv, cert, cert_len, s_on_event, self);
    assert(self->wconn);
    return self;
}

void
sim_conn_destroy(sim_conn_t **self_p)
{
    assert(self_p);
    sim_conn_t *self = *self_p;
    if (self) {
        if (self->data && self->data_destructor) {
            self->data_destructor(&self->data);
        }
        wa_conn_destroy(&self->wconn);
        free(self->remote);
        free(self);
        *self_p = NULL;
    }
}

//  JID of the logged-in device for the log, "" before login.
static char *
s_jid(sim_conn_t *self)
{
    return self->device ? sim_device_jid(self->device) : cm_strdup("");
}

static void
s_log(sim_conn_t *self, const char *dir, const wa_node_t *node, size_t size)
{
    //  Every stanza in and out: kept compact, as JSON only when asked for
    char *jid = s_jid(self);
    sim_log_stanza_t st = {dir,           self->id, jid, wa_node_tag(node),
                           (int64_t)size, {NULL},   NULL};
    for (int i = 0; i < SIM_LOG_ATTR_COUNT; i++) {
        st.attrs[i] = wa_node_attr(node, SIM_LOG_ATTRS[i]);
    }
    wa_node_t *child = wa_node_child_at(node, 0);
    st.child = child ? wa_node_tag(child) : NULL;
    int64_t seq = sim_log_add_stanza(self->log, &st);
    if (cm_log_enabled(CM_LOG_DEBUG)) {
        json_t *entries = sim_log_query(self->log, seq - 1, 1, 0, NULL);
        char *text = json_dumps(json_array_get(entries, 0), JSON_COMPACT);
        cm_log_debug("stanza", "conn=%" PRId64 " %s", self->id, text);
        free(text);
        json_decref(entries);
    }
    free(jid);
}

//  Mark closed and tell the owner (once).
static void
s_closed(sim_conn_t *self)
{
    if (self->state == SIM_CONN_CLOSED) {
        return;
    }
    self->state = SIM_CONN_CLOSED;
    self->handler.closed(self->handler_arg, self);
}

int
sim_conn_send(sim_conn_t *self, const wa_node_t *node)
{
    assert(self);
    assert(node);
    if (self->state == SIM_CONN_CLOSED || !self->wconn ||
        !wa_conn_ready(self->wconn)) {
        return -1;
    }
    uint8_t *plain = NULL;
    size_t len = 0;
    const char *reason = NULL;
    if (wa_binary_encode(node, &plain, &len, &reason)) {
        cm_log_error("could not encode stanza",
                     "conn=%" PRId64 " tag=%s reason=\"%s\"", self->id,
                     wa_node_tag(node), reason ? reason : "");
        return -1;
    }
    int rc = wa_conn_send(self->wconn, plain, len);
    if (rc == 0) {
        self->stanzas_out++;
        s_log(self, "out", node, len);
    }
    free(plain);
    return rc;
}

int
sim_conn_send_take(sim_conn_t *self, wa_node_t **node_p)
{
    assert(node_p);
    int rc = sim_conn_send(self, *node_p);
    wa_node_destroy(node_p);
    return rc;
}

void
sim_conn_close(sim_conn_t *self)
{
    assert(self);
    //  wa_conn_destroy closes after the queued messages are written.
    wa_conn_destroy(&self->wconn);
    s_closed(self);
}

void
sim_conn_stream_error(sim_conn_t *self, const char *code, const char *conflict)
{
    assert(self);
    wa_node_t *node = wa_node_new("stream:error");
    if (code) {
        wa_node_set_attr(node, "code", code);
    }
    if (conflict) {
        wa_node_t *child = wa_node_add(node, "conflict");
        wa_node_set_attr(child, "type", conflict);
    }
    cm_log_info("sending stream error", "conn=%" PRId64 " code=%s conflict=%s",
                self->id, code ? code : "", conflict ? conflict : "");
    sim_conn_send_take(self, &node);
    sim_conn_close(self);
}

static void
s_on_open(sim_conn_t *self, const uint8_t *payload, size_t len)
{
    const uint8_t *rs = wa_conn_remote_static(self->wconn);
    assert(rs);
    memcpy(self->remote_static, rs, SIM_KEY_LEN);
    self->state = SIM_CONN_FINISH;
    wa_payload_info_t *info = wa_payload_parse(payload, len);
    if (!info) {
        cm_log_warn("closing connection",
                    "conn=%" PRId64
                    " remote=%s reason=\"malformed ClientPayload\"",
                    self->id, self->remote);
        sim_conn_close(self);
        return;
    }
    self->passive = info->passive;
    if (self->handler.handshake(self->handler_arg, self, &info)) {
        sim_conn_close(self);
    }
    wa_payload_info_destroy(&info);
}

static void
s_on_frame(sim_conn_t *self, const uint8_t *frame, size_t len)
{
    const char *reason = NULL;
    wa_node_t *node = wa_binary_decode(frame, len, NULL, &reason);
    if (!node) {
        cm_log_warn("closing connection",
                    "conn=%" PRId64 " remote=%s what=stanza reason=\"%s\"",
                    self->id, self->remote, reason ? reason : "");
        wa_node_t *error = wa_node_new("stream:error");
        wa_node_add(error, "xml-not-well-formed");
        sim_conn_send_take(self, &error);
        sim_conn_close(self);
        return;
    }
    self->stanzas_in++;
    if (self->device) {
        self->device->last_seen_ms = cm_now_ms();
    }
    s_log(self, "in", node, len);
    self->handler.stanza(self->handler_arg, self, &node);
    wa_node_destroy(&node);
}

static void
s_on_event(wa_conn_t *wconn, wa_conn_event_t event, const uint8_t *data,
           size_t len, void *arg)
{
    sim_conn_t *self = (sim_conn_t *)arg;
    if (self->state == SIM_CONN_CLOSED) {
        return;
    }
    if (event == WA_CONN_OPEN) {
        s_on_open(self, data, len);
    } else if (event == WA_CONN_FRAME) {
        s_on_frame(self, data, len);
    } else if (event == WA_CONN_CLOSED) {
        cm_log_debug("connection closed", "conn=%" PRId64 " reason=\"%.*s\"",
                     self->id, (int)len, (const char *)data);
        wa_conn_destroy(&self->wconn);
        s_closed(self);
    }
}

int64_t
sim_conn_id(sim_conn_t *self)
{
    assert(self);
    return self->id;
}

sim_conn_state_t
sim_conn_state(sim_conn_t *self)
{
    assert(self);
    return self->state;
}

void
sim_conn_set_state(sim_conn_t *self, sim_conn_state_t state)
{
    assert(self);
    if (self->state != SIM_CONN_CLOSED) {
        self->state = state;
    }
}

const char *
sim_conn_state_name(sim_conn_state_t state)
{
    switch (state) {
    case SIM_CONN_HELLO:
        return "hello";
    case SIM_CONN_FINISH:
        return "finish";
    case SIM_CONN_REGISTER:
        return "unpaired";
    case SIM_CONN_PAIRING:
        return "pairing";
    case SIM_CONN_LOGGED_IN:
        return "logged_in";
    case SIM_CONN_CLOSED:
        return "closed";
    }
    return "unrecognized";
}

const uint8_t *
sim_conn_remote_static(sim_conn_t *self)
{
    assert(self);
    return self->remote_static;
}

sim_device_t *
sim_conn_device(sim_conn_t *self)
{
    assert(self);
    return self->device;
}

void
sim_conn_set_device(sim_conn_t *self, sim_device_t *device)
{
    assert(self);
    self->device = device;
}

void *
sim_conn_data(sim_conn_t *self)
{
    assert(self);
    return self->data;
}

void
sim_conn_set_data(sim_conn_t *self, void *data,
                  void (*destructor)(void **data_p))
{
    assert(self);
    if (self->data && self->data_destructor) {
        self->data_destructor(&self->data);
    }
    self->data = data;
    self->data_destructor = destructor;
}

bool
sim_conn_passive(sim_conn_t *self)
{
    assert(self);
    return self->passive;
}

void
sim_conn_set_passive(sim_conn_t *self, bool passive)
{
    assert(self);
    self->passive = passive;
}

bool
sim_conn_available(sim_conn_t *self)
{
    assert(self);
    return self->available;
}

void
sim_conn_set_available(sim_conn_t *self, bool available)
{
    assert(self);
    self->available = available;
}

json_t *
sim_conn_to_json(sim_conn_t *self)
{
    assert(self);
    char *jid = s_jid(self);
    json_t *obj = json_pack(
        "{s:I, s:s, s:s, s:s, s:I, s:b, s:b, s:I, s:I}", "id",
        (json_int_t)self->id, "state", sim_conn_state_name(self->state), "jid",
        jid, "remote", self->remote, "since_ms", (json_int_t)self->since_ms,
        "passive", self->passive, "available", self->available, "in",
        (json_int_t)self->stanzas_in, "out", (json_int_t)self->stanzas_out);
    free(jid);
    return obj;
}

//  The self test runs a client built from the wire library (wa_conn
//  initiator with a wa_payload login) against a sim_conn over a real
//  loopback WebSocket.

typedef struct {
    wa_ws_t *ws;             //  one loop for both sides
    sim_log_t *log;          //  stanza log
    uint8_t static_priv[32]; //  server key
    uint8_t *cert;           //  server chain
    size_t cert_len;         //  its length
    sim_conn_t *conn;        //  server side
    int handshakes;          //  handshake callbacks
    int stanzas;             //  stanza callbacks
    int closed;              //  closed callbacks
    wa_payload_info_t *info; //  last payload
    wa_node_t *last;         //  last stanza at the server
    wa_conn_t *client;       //  client side
    bool client_open;        //  client handshake done
    bool client_closed;      //  client saw the close
    zlistx_t *client_frames; //  wa_node_t * received by the client
} s_test_t;

static int
s_test_handshake(void *arg, sim_conn_t *conn, wa_payload_info_t **info_p)
{
    s_test_t *t = (s_test_t *)arg;
    t->handshakes++;
    wa_payload_info_destroy(&t->info);
    t->info = *info_p;
    *info_p = NULL;
    sim_conn_set_state(conn, SIM_CONN_LOGGED_IN);
    wa_node_t *success = wa_node_new("success");
    wa_node_set_attr(success, "t", "1700000000");
    sim_conn_send_take(conn, &success);
    return 0;
}

static void
s_test_stanza(void *arg, sim_conn_t *conn, wa_node_t **node_p)
{
    s_test_t *t = (s_test_t *)arg;
    t->stanzas++;
    wa_node_destroy(&t->last);
    t->last = *node_p;
    *node_p = NULL;
    if (wa_node_is(t->last, "iq")) {
        wa_node_t *reply = wa_node_new("iq");
        wa_node_set_attr(reply, "id", wa_node_attr(t->last, "id"));
        wa_node_set_attr(reply, "type", "result");
        sim_conn_send_take(conn, &reply);
    }
}

static void
s_test_closed(void *arg, sim_conn_t *conn)
{
    ((s_test_t *)arg)->closed++;
}

static void
s_test_accept(wa_ws_conn_t *ws_conn, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    static const sim_conn_handler_t handler = {s_test_handshake, s_test_stanza,
                                               s_test_closed};
    assert(!t->conn);
    t->conn = sim_conn_new(7, ws_conn, t->static_priv, t->cert, t->cert_len,
                           t->log, &handler, t);
}

static void
s_test_client(wa_conn_t *conn, wa_conn_event_t event, const uint8_t *data,
              size_t len, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    if (event == WA_CONN_OPEN) {
        t->client_open = true;
    } else if (event == WA_CONN_FRAME) {
        wa_node_t *node = wa_binary_decode(data, len, NULL, NULL);
        assert(node);
        zlistx_add_end(t->client_frames, node);
    } else if (event == WA_CONN_CLOSED) {
        t->client_closed = true;
    }
}

static void
s_node_free(void **item)
{
    wa_node_destroy((wa_node_t **)item);
}

//  Run the loop until *flag is true or 5 s pass.
static void
s_spin(s_test_t *t, bool *flag, size_t *count, size_t want)
{
    int64_t deadline = cm_mono_ms() + 5000;
    while (cm_mono_ms() < deadline) {
        if ((flag && *flag) || (count && *count >= want)) {
            return;
        }
        wa_ws_run(t->ws, 50);
    }
}

void
sim_conn_test(bool verbose)
{
    printf(" * sim_conn: ");
    s_test_t t;
    memset(&t, 0, sizeof t);
    uint8_t root_priv[32], root_pub[32], server_pub[32];
    uint8_t client_priv[32], client_pub[32];
    assert(wa_x25519_keypair(root_priv, root_pub) == 0);
    assert(wa_x25519_keypair(t.static_priv, server_pub) == 0);
    assert(wa_x25519_keypair(client_priv, client_pub) == 0);
    t.cert = wa_cert_chain_issue(root_priv, server_pub,
                                 (uint64_t)(cm_now_ms() / 1000), &t.cert_len);
    assert(t.cert);
    t.log = sim_log_new(100);
    t.client_frames = zlistx_new();
    zlistx_set_destructor(t.client_frames, s_node_free);
    t.ws = wa_ws_new();
    assert(t.ws);
    int port = wa_ws_listen(t.ws, "127.0.0.1", 0, NULL, s_test_accept, &t);
    assert(port > 0);

    wa_payload_t *settings = wa_payload_new();
    wa_payload_login_t login;
    wa_payload_login_init(&login, 15551234567ULL, 3);
    size_t payload_len = 0;
    uint8_t *payload = wa_payload_login(settings, &login, &payload_len);
    char *url = cm_sprintf("ws://127.0.0.1:%d/ws/chat", port);
    wa_conn_opts_t opts;
    memset(&opts, 0, sizeof opts);
    opts.url = url;
    opts.root_pub = root_pub;
    t.client = wa_conn_connect(t.ws, client_priv, payload, payload_len, &opts,
                               s_test_client, &t);
    free(payload);
    assert(t.client);
    size_t frames = 0;
    s_spin(&t, &t.client_open, NULL, 0);
    assert(t.client_open);
    frames = zlistx_size(t.client_frames);
    while (frames < 1) {
        s_spin(&t, NULL, &frames, 1);
        frames = zlistx_size(t.client_frames);
    }
    assert(t.conn && t.handshakes == 1);
    assert(t.info && t.info->is_login && t.info->username == 15551234567ULL);
    assert(t.info->device == 3);
    assert(memcmp(sim_conn_remote_static(t.conn), client_pub, 32) == 0);
    assert(sim_conn_state(t.conn) == SIM_CONN_LOGGED_IN);
    wa_node_t *success = (wa_node_t *)zlistx_first(t.client_frames);
    assert(wa_node_is(success, "success"));

    //  The client sends an iq and gets the result.
    wa_node_t *node = wa_node_new("iq");
    wa_node_set_attr(node, "id", "1.2-3");
    wa_node_set_attr(node, "xmlns", "w:p");
    wa_node_set_attr(node, "type", "get");
    wa_node_add(node, "ping");
    uint8_t *enc = NULL;
    size_t len = 0;
    assert(wa_binary_encode(node, &enc, &len, NULL) == 0);
    wa_node_destroy(&node);
    assert(wa_conn_send(t.client, enc, len) == 0);
    free(enc);
    while (zlistx_size(t.client_frames) < 2) {
        size_t n = zlistx_size(t.client_frames);
        s_spin(&t, NULL, &n, 2);
        if (zlistx_size(t.client_frames) == n) {
            break;
        }
    }
    assert(zlistx_size(t.client_frames) == 2);
    assert(t.stanzas == 1 && wa_node_attr_eq(t.last, "xmlns", "w:p"));
    wa_node_t *reply = (wa_node_t *)zlistx_last(t.client_frames);
    assert(wa_node_attr_eq(reply, "id", "1.2-3"));
    json_t *entries = sim_log_query(t.log, 0, 100, 7, NULL);
    assert(json_array_size(entries) == 3); //  success, iq in, iq out
    json_decref(entries);
    json_t *view = sim_conn_to_json(t.conn);
    assert(json_integer_value(json_object_get(view, "in")) == 1);
    json_decref(view);

    //  A frame that is not a binary node: stream error, then close.
    uint8_t junk[6] = {0, 0xf8, 0x09, 0xff, 0xff, 0xff};
    assert(wa_conn_send(t.client, junk, sizeof junk) == 0);
    s_spin(&t, &t.client_closed, NULL, 0);
    assert(t.client_closed);
    assert(t.closed == 1);
    assert(sim_conn_state(t.conn) == SIM_CONN_CLOSED);
    wa_node_t *error = (wa_node_t *)zlistx_last(t.client_frames);
    assert(wa_node_is(error, "stream:error"));
    assert(sim_conn_send(t.conn, error) == -1);
    sim_conn_close(t.conn); //  idempotent
    assert(t.closed == 1);
    sim_conn_destroy(&t.conn);
    assert(!t.conn);

    wa_conn_destroy(&t.client);
    free(url);
    wa_payload_destroy(&settings);
    wa_ws_destroy(&t.ws);
    wa_payload_info_destroy(&t.info);
    wa_node_destroy(&t.last);
    zlistx_destroy(&t.client_frames);
    sim_log_destroy(&t.log);
    free(t.cert);
    printf("OK\n");
}
