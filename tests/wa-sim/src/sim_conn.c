/*  sim_conn - one client connection as the server sees it: framing,
    the responder Noise handshake, the transport cipher and stanza I/O

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_conn.h"
#include "wa/wa_binary.h"
#include "wa/wa_cert.h"
#include "wa/wa_frame.h"
#include "wa/wa_noise.h"

struct _sim_conn_t {
    int64_t id;                         //  connection number
    char *remote;                       //  peer address
    int64_t since_ms;                   //  accept time
    sim_conn_state_t state;             //  protocol state
    const uint8_t *static_priv;         //  server Noise key (borrowed)
    const uint8_t *cert;                //  certificate chain (borrowed)
    size_t cert_len;                    //  bytes in cert
    sim_log_t *log;                     //  stanza log (borrowed)
    sim_conn_handler_t handler;         //  owner callbacks
    void *handler_arg;                  //  their argument
    sim_conn_transport_t transport;     //  transport callbacks
    void *transport_arg;                //  their argument
    bool transport_closed;              //  close already requested/seen
    wa_frame_t *frame;                  //  framing codec (server role)
    wa_noise_t *noise;                  //  handshake + transport cipher
    uint8_t remote_static[SIM_KEY_LEN]; //  client's Noise static key
    sim_device_t *device;               //  logged-in device (borrowed)
    void *data;                         //  owner data
    void (*data_destructor)(void **);   //  owner data destructor
    bool passive;                       //  client's passive flag
    bool available;                     //  client's presence
    uint64_t stanzas_in;                //  stanzas received
    uint64_t stanzas_out;               //  stanzas sent
};

sim_conn_t *
sim_conn_new(int64_t id, const char *remote,
             const uint8_t static_priv[SIM_KEY_LEN], const uint8_t *cert,
             size_t cert_len, sim_log_t *log,
             const sim_conn_handler_t *handler, void *handler_arg,
             const sim_conn_transport_t *transport, void *transport_arg)
{
    assert(static_priv && cert && log && handler && transport);
    sim_conn_t *self = (sim_conn_t *) cm_alloc(sizeof(sim_conn_t));
    self->id = id;
    self->remote = cm_strdup(remote ? remote : "");
    self->since_ms = cm_now_ms();
    self->static_priv = static_priv;
    self->cert = cert;
    self->cert_len = cert_len;
    self->log = log;
    self->handler = *handler;
    self->handler_arg = handler_arg;
    self->transport = *transport;
    self->transport_arg = transport_arg;
    self->frame = wa_frame_new(WA_FRAME_SERVER, 0);
    self->passive = true;
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
        wa_noise_destroy(&self->noise);
        wa_frame_destroy(&self->frame);
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
    char *jid = s_jid(self);
    json_t *entry = json_pack("{s:s, s:I, s:s, s:s, s:I}", "dir", dir,
                              "conn", (json_int_t) self->id, "jid", jid,
                              "tag", wa_node_tag(node), "size",
                              (json_int_t) size);
    free(jid);
    static const char *const keys[] = {"id",    "type",        "to",
                                       "from",  "xmlns",       "class",
                                       "participant", "recipient", NULL};
    for (int i = 0; keys[i]; i++) {
        const char *value = wa_node_attr(node, keys[i]);
        if (value) {
            json_object_set_new(entry, keys[i], json_string(value));
        }
    }
    wa_node_t *child = wa_node_child_at(node, 0);
    if (child) {
        json_object_set_new(entry, "child", json_string(wa_node_tag(child)));
    }
    if (cm_log_enabled(CM_LOG_DEBUG)) {
        char *text = json_dumps(entry, JSON_COMPACT);
        cm_log_debug("stanza", "conn=%" PRId64 " %s", self->id, text);
        free(text);
    }
    sim_log_add(self->log, &entry);
}

static int
s_send_raw(sim_conn_t *self, const uint8_t *payload, size_t len)
{
    size_t framed_len = 0;
    uint8_t *framed = wa_frame_encode(self->frame, payload, len, &framed_len);
    if (!framed) {
        return -1;
    }
    int rc = self->transport.send(self->transport_arg, framed, framed_len);
    free(framed);
    return rc;
}

int
sim_conn_send(sim_conn_t *self, const wa_node_t *node)
{
    assert(self);
    assert(node);
    if (self->state == SIM_CONN_CLOSED || !self->noise
        || !wa_noise_ready(self->noise)) {
        return -1;
    }
    uint8_t *plain = NULL;
    size_t len = 0;
    const char *reason = NULL;
    if (wa_binary_encode(node, &plain, &len, &reason)) {
        cm_log_error("could not encode stanza", "conn=%" PRId64
                     " tag=%s reason=\"%s\"", self->id, wa_node_tag(node),
                     reason ? reason : "");
        return -1;
    }
    uint8_t *sealed = (uint8_t *) cm_alloc(len + WA_NOISE_TAG_LEN);
    int rc = wa_noise_encrypt(self->noise, plain, len, sealed);
    if (rc == 0) {
        rc = s_send_raw(self, sealed, len + WA_NOISE_TAG_LEN);
    }
    if (rc == 0) {
        self->stanzas_out++;
        s_log(self, "out", node, len);
    }
    free(sealed);
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
    self->state = SIM_CONN_CLOSED;
    if (!self->transport_closed) {
        self->transport_closed = true;
        self->transport.close(self->transport_arg);
    }
}

void
sim_conn_lost(sim_conn_t *self)
{
    assert(self);
    self->state = SIM_CONN_CLOSED;
    self->transport_closed = true;
}

void
sim_conn_stream_error(sim_conn_t *self, const char *code,
                      const char *conflict)
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

//  Close with a stream error naming a malformed-input condition (the
//  connection is unusable after a framing or cipher failure).
static int
s_fail(sim_conn_t *self, const char *what, const char *reason)
{
    cm_log_warn("closing connection", "conn=%" PRId64
                " remote=%s what=\"%s\" reason=\"%s\"", self->id,
                self->remote, what, reason ? reason : "");
    if (self->noise && wa_noise_ready(self->noise)
        && self->state != SIM_CONN_CLOSED) {
        wa_node_t *node = wa_node_new("stream:error");
        wa_node_add(node, "xml-not-well-formed");
        sim_conn_send_take(self, &node);
    }
    sim_conn_close(self);
    return -1;
}

static int
s_on_hello(sim_conn_t *self, const uint8_t *msg, size_t len)
{
    const uint8_t *intro = wa_frame_intro(self->frame);
    assert(intro);
    self->noise = wa_noise_new(WA_NOISE_RESPONDER, self->static_priv, intro,
                               WA_FRAME_INTRO_LEN);
    if (!self->noise || wa_noise_read_client_hello(self->noise, msg, len)) {
        return s_fail(self, "client hello",
                      self->noise ? wa_noise_error(self->noise) : "");
    }
    size_t out_len = 0;
    uint8_t *out = wa_noise_server_hello(self->noise, self->cert,
                                         self->cert_len, &out_len);
    if (!out) {
        return s_fail(self, "server hello", wa_noise_error(self->noise));
    }
    int rc = s_send_raw(self, out, out_len);
    free(out);
    self->state = SIM_CONN_FINISH;
    return rc;
}

static int
s_on_finish(sim_conn_t *self, const uint8_t *msg, size_t len)
{
    if (wa_noise_read_client_finish(self->noise, msg, len)) {
        return s_fail(self, "client finish", wa_noise_error(self->noise));
    }
    memcpy(self->remote_static, wa_noise_remote_static(self->noise),
           SIM_KEY_LEN);
    size_t payload_len = 0;
    const uint8_t *payload = wa_noise_payload(self->noise, &payload_len);
    wa_payload_info_t *info =
        payload ? wa_payload_parse(payload, payload_len) : NULL;
    wa_noise_payload_free(self->noise);
    if (!info) {
        //  A real server ends such a stream; there is nothing to reply
        //  to yet.
        return s_fail(self, "client payload", "malformed ClientPayload");
    }
    self->passive = info->passive;
    if (self->handler.handshake(self->handler_arg, self, &info)) {
        wa_payload_info_destroy(&info);
        sim_conn_close(self);
        return -1;
    }
    wa_payload_info_destroy(&info);
    return 0;
}

static int
s_on_frame(sim_conn_t *self, const uint8_t *frame, size_t len)
{
    if (self->state == SIM_CONN_HELLO) {
        return s_on_hello(self, frame, len);
    }
    if (self->state == SIM_CONN_FINISH) {
        return s_on_finish(self, frame, len);
    }
    if (len < WA_NOISE_TAG_LEN) {
        return s_fail(self, "frame", "shorter than the tag");
    }
    size_t plain_len = len - WA_NOISE_TAG_LEN;
    uint8_t *plain = (uint8_t *) cm_alloc(plain_len);
    if (wa_noise_decrypt(self->noise, frame, len, plain)) {
        free(plain);
        return s_fail(self, "frame", "could not decrypt");
    }
    const char *reason = NULL;
    wa_node_t *node = wa_binary_decode(plain, plain_len, NULL, &reason);
    free(plain);
    if (!node) {
        return s_fail(self, "stanza", reason);
    }
    self->stanzas_in++;
    if (self->device) {
        self->device->last_seen_ms = cm_now_ms();
    }
    s_log(self, "in", node, plain_len);
    self->handler.stanza(self->handler_arg, self, &node);
    wa_node_destroy(&node);
    return self->state == SIM_CONN_CLOSED ? -1 : 0;
}

int
sim_conn_feed(sim_conn_t *self, const uint8_t *data, size_t len)
{
    assert(self);
    if (self->state == SIM_CONN_CLOSED) {
        return -1;
    }
    if (wa_frame_feed(self->frame, data, len)) {
        return s_fail(self, "framing", "bad intro or frame too large");
    }
    size_t frame_len = 0;
    const uint8_t *frame;
    while (self->state != SIM_CONN_CLOSED
           && (frame = wa_frame_next(self->frame, &frame_len))) {
        //  wa_frame_next data is valid until the next call: copy it, as
        //  handlers may send (which does not touch the read side) but
        //  keep the code obviously safe.
        uint8_t *copy = (uint8_t *) cm_alloc(frame_len);
        memcpy(copy, frame, frame_len);
        int rc = s_on_frame(self, copy, frame_len);
        free(copy);
        if (rc) {
            return -1;
        }
    }
    return self->state == SIM_CONN_CLOSED ? -1 : 0;
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
        (json_int_t) self->id, "state", sim_conn_state_name(self->state),
        "jid", jid, "remote", self->remote, "since_ms",
        (json_int_t) self->since_ms, "passive", self->passive, "available",
        self->available, "in", (json_int_t) self->stanzas_in, "out",
        (json_int_t) self->stanzas_out);
    free(jid);
    return obj;
}

//  The self test runs a real client handshake (wa_noise initiator,
//  wa_frame client, wa_payload) against a conn over an in-memory pipe.

typedef struct {
    zlistx_t *to_client;   //  zchunk_t * written by the server
    bool closed;           //  transport closed by the conn
    int handshakes;        //  handshake callbacks
    int stanzas;           //  stanza callbacks
    wa_payload_info_t *info; //  last payload
    wa_node_t *last;       //  last stanza
} s_test_t;

static int
s_test_send(void *arg, const uint8_t *data, size_t len)
{
    s_test_t *t = (s_test_t *) arg;
    zlistx_add_end(t->to_client, zchunk_new(data, len));
    return 0;
}

static void
s_test_close(void *arg)
{
    ((s_test_t *) arg)->closed = true;
}

static int
s_test_handshake(void *arg, sim_conn_t *conn, wa_payload_info_t **info_p)
{
    s_test_t *t = (s_test_t *) arg;
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
    s_test_t *t = (s_test_t *) arg;
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
s_chunk_free(void **item)
{
    zchunk_destroy((zchunk_t **) item);
}

//  Take every chunk the server wrote and feed it to the client codec.
static void
s_test_drain(s_test_t *t, wa_frame_t *frame)
{
    zchunk_t *chunk;
    while ((chunk = (zchunk_t *) zlistx_first(t->to_client))) {
        int rc = wa_frame_feed(frame, zchunk_data(chunk), zchunk_size(chunk));
        assert(rc == 0);
        zlistx_delete(t->to_client, zlistx_cursor(t->to_client));
    }
}

void
sim_conn_test(bool verbose)
{
    printf(" * sim_conn: ");
    uint8_t root_priv[32], root_pub[32], server_priv[32], server_pub[32];
    uint8_t client_priv[32], client_pub[32];
    assert(wa_x25519_keypair(root_priv, root_pub) == 0);
    assert(wa_x25519_keypair(server_priv, server_pub) == 0);
    assert(wa_x25519_keypair(client_priv, client_pub) == 0);
    size_t cert_len = 0;
    uint8_t *cert = wa_cert_chain_issue(root_priv, server_pub,
                                        (uint64_t) (cm_now_ms() / 1000),
                                        &cert_len);
    assert(cert);
    sim_log_t *log = sim_log_new(100);
    s_test_t t;
    memset(&t, 0, sizeof t);
    t.to_client = zlistx_new();
    zlistx_set_destructor(t.to_client, s_chunk_free);
    sim_conn_handler_t handler = {s_test_handshake, s_test_stanza};
    sim_conn_transport_t transport = {s_test_send, s_test_close};
    sim_conn_t *conn = sim_conn_new(7, "127.0.0.1", server_priv, cert,
                                    cert_len, log, &handler, &t, &transport,
                                    &t);
    assert(sim_conn_state(conn) == SIM_CONN_HELLO);

    //  Client side: hello
    wa_frame_t *cframe = wa_frame_new(WA_FRAME_CLIENT, 0);
    wa_noise_t *cnoise = wa_noise_new(WA_NOISE_INITIATOR, client_priv,
                                      wa_frame_intro(cframe),
                                      WA_FRAME_INTRO_LEN);
    wa_noise_set_root(cnoise, root_pub);
    size_t len = 0;
    uint8_t *msg = wa_noise_client_hello(cnoise, &len);
    size_t wire_len = 0;
    uint8_t *wire = wa_frame_encode(cframe, msg, len, &wire_len);
    free(msg);
    //  Split the first message to exercise reassembly.
    assert(sim_conn_feed(conn, wire, 3) == 0);
    assert(sim_conn_feed(conn, wire + 3, wire_len - 3) == 0);
    free(wire);
    assert(sim_conn_state(conn) == SIM_CONN_FINISH);
    s_test_drain(&t, cframe);
    const uint8_t *frame = wa_frame_next(cframe, &len);
    assert(frame);
    assert(wa_noise_read_server_hello(cnoise, frame, len) == 0);

    //  Client side: finish with a login payload
    wa_payload_t *settings = wa_payload_new();
    wa_payload_login_t login;
    wa_payload_login_init(&login, 15551234567ULL, 3);
    size_t payload_len = 0;
    uint8_t *payload = wa_payload_login(settings, &login, &payload_len);
    msg = wa_noise_client_finish(cnoise, payload, payload_len, &len);
    free(payload);
    wire = wa_frame_encode(cframe, msg, len, &wire_len);
    free(msg);
    assert(sim_conn_feed(conn, wire, wire_len) == 0);
    free(wire);
    assert(t.handshakes == 1);
    assert(t.info && t.info->is_login && t.info->username == 15551234567ULL);
    assert(t.info->device == 3);
    assert(memcmp(sim_conn_remote_static(conn), client_pub, 32) == 0);

    //  Client reads <success>
    s_test_drain(&t, cframe);
    frame = wa_frame_next(cframe, &len);
    assert(frame && len > WA_NOISE_TAG_LEN);
    uint8_t plain[256];
    assert(wa_noise_decrypt(cnoise, frame, len, plain) == 0);
    wa_node_t *node =
        wa_binary_decode(plain, len - WA_NOISE_TAG_LEN, NULL, NULL);
    assert(node && wa_node_is(node, "success"));
    wa_node_destroy(&node);

    //  Client sends an iq, gets the result
    node = wa_node_new("iq");
    wa_node_set_attr(node, "id", "1.2-3");
    wa_node_set_attr(node, "xmlns", "w:p");
    wa_node_set_attr(node, "type", "get");
    wa_node_add(node, "ping");
    uint8_t *enc = NULL;
    assert(wa_binary_encode(node, &enc, &len, NULL) == 0);
    wa_node_destroy(&node);
    uint8_t *sealed = (uint8_t *) cm_alloc(len + WA_NOISE_TAG_LEN);
    assert(wa_noise_encrypt(cnoise, enc, len, sealed) == 0);
    wire = wa_frame_encode(cframe, sealed, len + WA_NOISE_TAG_LEN, &wire_len);
    free(sealed);
    free(enc);
    assert(sim_conn_feed(conn, wire, wire_len) == 0);
    free(wire);
    assert(t.stanzas == 1 && wa_node_attr_eq(t.last, "xmlns", "w:p"));
    s_test_drain(&t, cframe);
    frame = wa_frame_next(cframe, &len);
    assert(frame);
    assert(wa_noise_decrypt(cnoise, frame, len, plain) == 0);
    node = wa_binary_decode(plain, len - WA_NOISE_TAG_LEN, NULL, NULL);
    assert(node && wa_node_attr_eq(node, "id", "1.2-3"));
    wa_node_destroy(&node);
    json_t *entries = sim_log_query(log, 0, 100, 7, NULL);
    assert(json_array_size(entries) == 3); //  success, iq in, iq out
    json_decref(entries);
    json_t *view = sim_conn_to_json(conn);
    assert(json_integer_value(json_object_get(view, "in")) == 1);
    json_decref(view);

    //  Garbage after the handshake: the tag fails, the conn closes with
    //  no crash, and later input is refused.
    uint8_t junk[40];
    memset(junk, 0xab, sizeof junk);
    wire = wa_frame_encode(cframe, junk, sizeof junk, &wire_len);
    assert(sim_conn_feed(conn, wire, wire_len) == -1);
    assert(sim_conn_feed(conn, wire, wire_len) == -1);
    free(wire);
    assert(t.closed);
    assert(sim_conn_state(conn) == SIM_CONN_CLOSED);
    sim_conn_destroy(&conn);
    assert(!conn);

    //  A conn that gets a bad intro fails at once.
    t.closed = false;
    conn = sim_conn_new(8, "x", server_priv, cert, cert_len, log, &handler,
                        &t, &transport, &t);
    assert(sim_conn_feed(conn, (const uint8_t *) "GET / HTTP/1.1\r\n", 16)
           == -1);
    assert(t.closed);
    sim_conn_destroy(&conn);

    wa_payload_destroy(&settings);
    wa_noise_destroy(&cnoise);
    wa_frame_destroy(&cframe);
    wa_payload_info_destroy(&t.info);
    wa_node_destroy(&t.last);
    zlistx_destroy(&t.to_client);
    sim_log_destroy(&log);
    free(cert);
    printf("OK\n");
}
