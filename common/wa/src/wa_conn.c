/*  wa_conn - a WhatsApp connection: WebSocket + framing + Noise

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The owner may destroy the object from inside its callback. Every place
    that calls the owner therefore goes through s_emit, which reports
    whether the object is still alive; a destroy during a callback only
    marks the object, and the outermost dispatcher frees it.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_cert.h"
#include "wa/wa_conn.h"
#include "wa/wa_crypto.h"
#include "wa/wa_frame.h"
#include "wa/wa_noise.h"

typedef enum {
    S_CONNECTING, //  client: waiting for the WebSocket
    S_HANDSHAKE,  //  Noise messages in flight
    S_OPEN,       //  transport mode
    S_CLOSED      //  over; inert until destroyed
} state_t;

struct _wa_conn_t {
    wa_ws_conn_t *ws;        //  transport, NULL once closed
    wa_frame_t *frame;       //  framing codec
    wa_noise_t *noise;       //  handshake / transport cipher
    bool is_server;          //  accepted side
    state_t state;           //  progress
    uint8_t static_priv[32]; //  server: static key (noise made lazily)
    uint8_t *payload;        //  client: ClientPayload to send; server:
    size_t payload_len;      //  the certificate chain to send
    uint8_t root[32];        //  client: trusted root
    long handshake_ms;       //  handshake timeout
    long owner_timer_ms;     //  timer requested before OPEN, or -1
    wa_conn_close_t reason;  //  why it closed
    char peer[64];           //  peer address
    wa_conn_event_fn *fn;    //  owner callback
    void *arg;               //  its argument
    int depth;               //  nesting of owner callbacks
    bool dead;               //  destroyed inside a callback
};

static void s_on_ws(wa_ws_conn_t *ws, wa_ws_event_t event, const uint8_t *data,
                    size_t len, void *arg);

static void
s_free(wa_conn_t *self)
{
    wa_ws_conn_close(&self->ws);
    wa_frame_destroy(&self->frame);
    wa_noise_destroy(&self->noise);
    if (self->payload) {
        wa_crypto_wipe(self->payload, self->payload_len);
        free(self->payload);
    }
    wa_crypto_wipe(self->static_priv, sizeof(self->static_priv));
    free(self);
}

//  Call the owner. Returns false if the owner destroyed the object
//  during the call (the caller must then unwind without using it). Every
//  entry point that can reach here holds a depth reference (s_enter), so
//  a destroy inside the callback only marks the object.
static bool
s_emit(wa_conn_t *self, wa_conn_event_t event, const uint8_t *data, size_t len)
{
    assert(self->depth > 0);
    if (self->dead) {
        return false;
    }
    if (self->fn) {
        self->fn(self, event, data, len, self->arg);
    }
    return !self->dead;
}

static void
s_enter(wa_conn_t *self)
{
    self->depth++;
}

//  Drop the depth reference; frees the object if it was destroyed while
//  referenced. Returns false if it is gone.
static bool
s_leave(wa_conn_t *self)
{
    assert(self->depth > 0);
    self->depth--;
    if (self->dead && self->depth == 0) {
        s_free(self);
        return false;
    }
    return true;
}

//  End the connection with a reason; returns s_emit's answer.
static bool
s_close(wa_conn_t *self, wa_conn_close_t reason, const char *text)
{
    if (self->state == S_CLOSED) {
        return !self->dead;
    }
    self->state = S_CLOSED;
    self->reason = reason;
    wa_ws_conn_close(&self->ws);
    if (reason == WA_CONN_CLOSE_PROTOCOL || reason == WA_CONN_CLOSE_TIMEOUT) {
        cm_log_info("closing whatsapp connection", "peer=%s reason=\"%s\"",
                    self->peer, text);
    }
    return s_emit(self, WA_CONN_CLOSED, (const uint8_t *)text, strlen(text));
}

//  Frame msg (header + bytes) into a new queued WebSocket message.
static int
s_send_raw(wa_conn_t *self, const uint8_t *msg, size_t len)
{
    size_t hdr = wa_frame_header_len(self->frame);
    uint8_t *buf = wa_ws_conn_reserve(self->ws, hdr + len);
    if (!buf) {
        return -1;
    }
    int n = wa_frame_write_header(self->frame, len, buf);
    assert(n == (int)hdr);
    memcpy(buf + hdr, msg, len);
    return 0;
}

static wa_conn_t *
s_new(wa_conn_event_fn *fn, void *arg)
{
    wa_conn_t *self = cm_alloc(sizeof(wa_conn_t));
    self->fn = fn;
    self->arg = arg;
    self->owner_timer_ms = -1;
    return self;
}

wa_conn_t *
wa_conn_connect(wa_ws_t *ws, const uint8_t noise_priv[32],
                const uint8_t *payload, size_t payload_len,
                const wa_conn_opts_t *opts, wa_conn_event_fn *fn, void *arg)
{
    assert(ws && noise_priv && fn);
    assert(payload || payload_len == 0);
    wa_conn_t *self = s_new(fn, arg);
    self->frame = wa_frame_new(WA_FRAME_CLIENT, 0);
    if (opts && opts->routing_info &&
        wa_frame_set_routing_info(self->frame, opts->routing_info,
                                  opts->routing_len)) {
        s_free(self);
        return NULL;
    }
    self->noise = wa_noise_new(WA_NOISE_INITIATOR, noise_priv,
                               wa_frame_intro(self->frame), WA_FRAME_INTRO_LEN);
    if (!self->noise) {
        s_free(self);
        return NULL;
    }
    if (opts && opts->root_pub) {
        wa_noise_set_root(self->noise, opts->root_pub);
    }
    self->payload = cm_alloc(payload_len ? payload_len : 1);
    if (payload_len) {
        memcpy(self->payload, payload, payload_len);
    }
    self->payload_len = payload_len;
    self->handshake_ms = opts && opts->handshake_timeout_ms > 0
                             ? opts->handshake_timeout_ms
                             : WA_CONN_HANDSHAKE_TIMEOUT_MS;
    const char *url = opts && opts->url ? opts->url : WA_WS_URL;
    self->ws = wa_ws_connect(ws, url, opts ? &opts->ws : NULL, s_on_ws, self);
    if (!self->ws) {
        s_free(self);
        return NULL;
    }
    self->state = S_CONNECTING;
    return self;
}

wa_conn_t *
wa_conn_accept(wa_ws_conn_t *ws_conn, const uint8_t static_priv[32],
               const uint8_t *cert, size_t cert_len, wa_conn_event_fn *fn,
               void *arg)
{
    assert(ws_conn && static_priv && fn);
    assert(cert || cert_len == 0);
    wa_conn_t *self = s_new(fn, arg);
    self->is_server = true;
    self->ws = ws_conn;
    self->frame = wa_frame_new(WA_FRAME_SERVER, 0);
    memcpy(self->static_priv, static_priv, 32);
    self->payload = cm_alloc(cert_len ? cert_len : 1);
    if (cert_len) {
        memcpy(self->payload, cert, cert_len);
    }
    self->payload_len = cert_len;
    self->state = S_HANDSHAKE;
    snprintf(self->peer, sizeof(self->peer), "%s", wa_ws_conn_peer(ws_conn));
    wa_ws_conn_set_handler(ws_conn, s_on_ws, self);
    self->handshake_ms = WA_CONN_HANDSHAKE_TIMEOUT_MS;
    wa_ws_conn_set_timer(ws_conn, self->handshake_ms);
    return self;
}

void
wa_conn_destroy(wa_conn_t **self_p)
{
    if (self_p && *self_p) {
        wa_conn_t *self = *self_p;
        *self_p = NULL;
        self->fn = NULL;
        if (self->depth > 0) {
            //  Inside our own callback: the dispatcher frees it.
            self->dead = true;
            wa_ws_conn_close(&self->ws);
            return;
        }
        s_free(self);
    }
}

//  The handshake finished: forget its material, tell the owner.
static bool
s_opened(wa_conn_t *self, const uint8_t *payload, size_t len)
{
    self->state = S_OPEN;
    wa_ws_conn_set_timer(self->ws, self->owner_timer_ms);
    self->owner_timer_ms = -1;
    return s_emit(self, WA_CONN_OPEN, payload, len);
}

//  One complete frame. Returns false if the object is gone or closed.
static bool
s_on_frame(wa_conn_t *self, const uint8_t *data, size_t len)
{
    if (self->state == S_OPEN) {
        if (len < WA_NOISE_TAG_LEN) {
            return s_close(self, WA_CONN_CLOSE_PROTOCOL,
                           "short transport frame");
        }
        size_t pt_len = len - WA_NOISE_TAG_LEN;
        uint8_t stack[512];
        uint8_t *pt = pt_len <= sizeof(stack) ? stack : cm_alloc(pt_len);
        bool alive;
        if (wa_noise_decrypt(self->noise, data, len, pt)) {
            s_close(self, WA_CONN_CLOSE_PROTOCOL, wa_noise_error(self->noise));
            alive = false;
        } else {
            alive = s_emit(self, WA_CONN_FRAME, pt, pt_len);
        }
        wa_crypto_wipe(pt, pt_len);
        if (pt != stack) {
            free(pt);
        }
        return alive && self->state == S_OPEN;
    }
    if (!self->is_server) {
        //  ServerHello, then our ClientFinish.
        if (wa_noise_read_server_hello(self->noise, data, len)) {
            s_close(self, WA_CONN_CLOSE_PROTOCOL, wa_noise_error(self->noise));
            return false;
        }
        size_t out_len;
        uint8_t *out = wa_noise_client_finish(self->noise, self->payload,
                                              self->payload_len, &out_len);
        wa_crypto_wipe(self->payload, self->payload_len);
        free(self->payload);
        self->payload = NULL;
        self->payload_len = 0;
        if (!out || s_send_raw(self, out, out_len)) {
            free(out);
            s_close(self, WA_CONN_CLOSE_PROTOCOL, "could not send finish");
            return false;
        }
        free(out);
        return s_opened(self, NULL, 0) && self->state == S_OPEN;
    }
    //  Server: ClientHello, then ClientFinish.
    if (!self->noise) {
        self->noise =
            wa_noise_new(WA_NOISE_RESPONDER, self->static_priv,
                         wa_frame_intro(self->frame), WA_FRAME_INTRO_LEN);
        wa_crypto_wipe(self->static_priv, sizeof(self->static_priv));
        if (!self->noise ||
            wa_noise_read_client_hello(self->noise, data, len)) {
            s_close(self, WA_CONN_CLOSE_PROTOCOL, "bad client hello");
            return false;
        }
        size_t out_len;
        uint8_t *out = wa_noise_server_hello(self->noise, self->payload,
                                             self->payload_len, &out_len);
        free(self->payload);
        self->payload = NULL;
        self->payload_len = 0;
        if (!out || s_send_raw(self, out, out_len)) {
            free(out);
            s_close(self, WA_CONN_CLOSE_PROTOCOL, "could not send hello");
            return false;
        }
        free(out);
        return true;
    }
    if (wa_noise_read_client_finish(self->noise, data, len)) {
        s_close(self, WA_CONN_CLOSE_PROTOCOL, wa_noise_error(self->noise));
        return false;
    }
    size_t plen;
    const uint8_t *payload = wa_noise_payload(self->noise, &plen);
    bool alive = s_opened(self, payload, plen);
    if (alive) {
        wa_noise_payload_free(self->noise);
    }
    return alive && self->state == S_OPEN;
}

static void
s_dispatch(wa_conn_t *self, wa_ws_conn_t *ws, wa_ws_event_t event,
           const uint8_t *data, size_t len)
{
    switch (event) {
    case WA_WS_CONNECTED: {
        snprintf(self->peer, sizeof(self->peer), "%s", wa_ws_conn_peer(ws));
        if (self->is_server) {
            return;
        }
        self->state = S_HANDSHAKE;
        wa_ws_conn_set_timer(ws, self->handshake_ms);
        size_t len_hello;
        uint8_t *hello = wa_noise_client_hello(self->noise, &len_hello);
        if (!hello || s_send_raw(self, hello, len_hello)) {
            free(hello);
            s_close(self, WA_CONN_CLOSE_PROTOCOL, "could not send hello");
            return;
        }
        free(hello);
        return;
    }
    case WA_WS_MESSAGE: {
        if (self->state == S_CLOSED) {
            return;
        }
        if (wa_frame_feed(self->frame, data, len)) {
            s_close(self, WA_CONN_CLOSE_PROTOCOL, "malformed framing");
            return;
        }
        //  Several frames may be complete; each may end the connection.
        size_t flen;
        const uint8_t *f;
        bool alive = true;
        while (alive && (f = wa_frame_next(self->frame, &flen)) != NULL) {
            alive = s_on_frame(self, f, flen);
        }
        return;
    }
    case WA_WS_TIMER:
        if (self->state != S_OPEN) {
            s_close(self, WA_CONN_CLOSE_TIMEOUT, "handshake timed out");
            return;
        }
        s_emit(self, WA_CONN_TIMER, NULL, 0);
        return;
    case WA_WS_WRITABLE:
        return;
    case WA_WS_CLOSED: {
        //  The ws connection is gone after this callback.
        self->ws = NULL;
        wa_conn_close_t reason =
            wa_ws_conn_close_reason(ws) == WA_WS_CLOSE_REMOTE
                ? WA_CONN_CLOSE_REMOTE
                : WA_CONN_CLOSE_TRANSPORT;
        char text[200];
        snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)data);
        s_close(self, reason, text);
        return;
    }
    }
}

static void
s_on_ws(wa_ws_conn_t *ws, wa_ws_event_t event, const uint8_t *data, size_t len,
        void *arg)
{
    wa_conn_t *self = arg;
    assert(self->ws == ws);
    s_enter(self);
    s_dispatch(self, ws, event, data, len);
    s_leave(self);
}

int
wa_conn_send(wa_conn_t *self, const uint8_t *data, size_t len)
{
    assert(self);
    assert(data || len == 0);
    if (self->state != S_OPEN || !self->ws || len > WA_NOISE_MAX_PLAINTEXT) {
        return -1;
    }
    size_t hdr = wa_frame_header_len(self->frame);
    size_t ct_len = len + WA_NOISE_TAG_LEN;
    uint8_t *buf = wa_ws_conn_reserve(self->ws, hdr + ct_len);
    if (!buf) {
        return -1;
    }
    int n = wa_frame_write_header(self->frame, ct_len, buf);
    assert(n == (int)hdr);
    if (wa_noise_encrypt(self->noise, data, len, buf + hdr)) {
        //  Counter exhausted: the queued frame is garbage, so the
        //  connection cannot continue.
        memset(buf + hdr, 0, ct_len);
        s_enter(self);
        s_close(self, WA_CONN_CLOSE_PROTOCOL, "could not encrypt frame");
        s_leave(self);
        return -1;
    }
    return 0;
}

void
wa_conn_set_timer(wa_conn_t *self, long ms)
{
    assert(self);
    if (self->state == S_OPEN && self->ws) {
        wa_ws_conn_set_timer(self->ws, ms);
    } else {
        self->owner_timer_ms = ms;
    }
}

bool
wa_conn_ready(wa_conn_t *self)
{
    assert(self);
    return self->state == S_OPEN;
}

wa_conn_close_t
wa_conn_close_reason(wa_conn_t *self)
{
    assert(self);
    return self->reason;
}

const uint8_t *
wa_conn_remote_static(wa_conn_t *self)
{
    assert(self);
    return self->noise ? wa_noise_remote_static(self->noise) : NULL;
}

size_t
wa_conn_queued(wa_conn_t *self)
{
    assert(self);
    return self->ws ? wa_ws_conn_queued(self->ws) : 0;
}

const uint8_t *
wa_conn_routing_info(wa_conn_t *self, size_t *len_p)
{
    assert(self);
    return wa_frame_routing_info(self->frame, len_p);
}

const char *
wa_conn_peer(wa_conn_t *self)
{
    assert(self);
    return self->peer;
}

//  --------------------------------------------------------------------------
//  Self test: client and server from this library over ws://127.0.0.1.

#include "wa/wa_binary.h"
#include "wa/wa_node.h"
#include "wa/wa_payload.h"

typedef struct {
    wa_ws_t *ws;                   //  the shared loop
    uint8_t server_priv[32];       //  server static key
    uint8_t *cert;                 //  chain the server sends
    size_t cert_len;               //  its length
    wa_conn_t *server;             //  accepted connection
    wa_conn_t *client;             //  client connection
    int server_open;               //  OPEN events on the server
    int client_open;               //  OPEN events on the client
    int server_closed;             //  CLOSED events on the server
    int client_closed;             //  CLOSED events on the client
    int client_frames;             //  frames the client received
    int server_frames;             //  frames the server received
    int timers;                    //  client timer events
    wa_payload_info_t *info;       //  payload the server received
    wa_conn_close_t client_reason; //  client close reason
    char client_text[200];         //  client close text
    bool destroy_on_frame;         //  client destroys itself on a frame
    bool silent;                   //  server accepts but never answers
} test_state_t;

static void
s_test_server_event(wa_conn_t *conn, wa_conn_event_t event, const uint8_t *data,
                    size_t len, void *arg)
{
    test_state_t *st = arg;
    switch (event) {
    case WA_CONN_OPEN: {
        st->server_open++;
        st->info = wa_payload_parse(data, len);
        assert(st->info);
        //  Greet with a binary node, as the real server does.
        wa_node_t *node = wa_node_new("iq");
        wa_node_set_attr(node, "type", "set");
        wa_node_set_attr(node, "id", "1");
        wa_node_add(node, "pair-device");
        uint8_t *out;
        size_t out_len;
        assert(wa_binary_encode(node, &out, &out_len, NULL) == 0);
        assert(wa_conn_send(conn, out, out_len) == 0);
        free(out);
        wa_node_destroy(&node);
        break;
    }
    case WA_CONN_FRAME: {
        st->server_frames++;
        //  Echo every node back with tag "echo".
        wa_node_t *node = wa_binary_decode(data, len, NULL, NULL);
        assert(node);
        wa_node_t *echo = wa_node_new("echo");
        wa_node_set_attr(echo, "of", wa_node_tag(node));
        uint8_t *out;
        size_t out_len;
        assert(wa_binary_encode(echo, &out, &out_len, NULL) == 0);
        assert(wa_conn_send(conn, out, out_len) == 0);
        free(out);
        wa_node_destroy(&echo);
        wa_node_destroy(&node);
        break;
    }
    case WA_CONN_CLOSED:
        st->server_closed++;
        wa_conn_destroy(&st->server);
        break;
    case WA_CONN_TIMER:
        break;
    }
}

static void
s_test_accept(wa_ws_conn_t *ws_conn, void *arg)
{
    test_state_t *st = arg;
    if (st->silent) {
        wa_ws_conn_set_handler(ws_conn, NULL, NULL);
        return;
    }
    assert(st->server == NULL);
    st->server = wa_conn_accept(ws_conn, st->server_priv, st->cert,
                                st->cert_len, s_test_server_event, st);
    assert(st->server);
}

static void
s_test_client_event(wa_conn_t *conn, wa_conn_event_t event, const uint8_t *data,
                    size_t len, void *arg)
{
    test_state_t *st = arg;
    switch (event) {
    case WA_CONN_OPEN:
        st->client_open++;
        break;
    case WA_CONN_FRAME: {
        st->client_frames++;
        wa_node_t *node = wa_binary_decode(data, len, NULL, NULL);
        assert(node);
        //  The server's greeting, or an echo of one of our nodes.
        assert((wa_node_is(node, "iq") && wa_node_child(node, "pair-device")) ||
               (wa_node_is(node, "echo") && wa_node_attr(node, "of") != NULL));
        wa_node_destroy(&node);
        if (st->destroy_on_frame) {
            wa_conn_destroy(&st->client);
        }
        break;
    }
    case WA_CONN_TIMER:
        st->timers++;
        break;
    case WA_CONN_CLOSED:
        st->client_closed++;
        st->client_reason = wa_conn_close_reason(conn);
        snprintf(st->client_text, sizeof(st->client_text), "%.*s", (int)len,
                 (const char *)data);
        break;
    }
}

#define TEST_RUN(st, cond) wa_ws_test_run((st)->ws, cond)

static void
s_test_send_node(wa_conn_t *conn, const char *tag)
{
    wa_node_t *node = wa_node_new(tag);
    wa_node_set_attr(node, "id", "42");
    uint8_t *out;
    size_t out_len;
    assert(wa_binary_encode(node, &out, &out_len, NULL) == 0);
    assert(wa_conn_send(conn, out, out_len) == 0);
    free(out);
    wa_node_destroy(&node);
}

void
wa_conn_test(bool verbose)
{
    printf(" * wa_conn: ");
    if (verbose) {
        printf("\n");
    }
    test_state_t *st = cm_alloc(sizeof(test_state_t));
    st->ws = wa_ws_new();
    assert(st->ws);
    int port = wa_ws_listen(st->ws, "127.0.0.1", 0, NULL, s_test_accept, st);
    assert(port > 0);
    char *url = cm_sprintf("ws://127.0.0.1:%d/ws/chat", port);

    //  A test root issues the server's chain.
    uint8_t root_priv[32], root_pub[32], server_pub[32];
    assert(wa_x25519_keypair(root_priv, root_pub) == 0);
    assert(wa_x25519_keypair(st->server_priv, server_pub) == 0);
    uint64_t now = (uint64_t)(cm_now_ms() / 1000);
    st->cert = wa_cert_chain_issue(root_priv, server_pub, now, &st->cert_len);
    assert(st->cert);

    //  Client with a registration payload.
    uint8_t noise_priv[32], noise_pub[32];
    assert(wa_x25519_keypair(noise_priv, noise_pub) == 0);
    wa_payload_t *settings = wa_payload_new();
    wa_payload_reg_t reg = {.registration_id = 4242, .signed_prekey_id = 1};
    uint8_t ident_priv[32], skey_priv[32];
    assert(wa_x25519_keypair(ident_priv, reg.identity_pub) == 0);
    assert(wa_x25519_keypair(skey_priv, reg.signed_prekey_pub) == 0);
    uint8_t msg[33] = {0x05};
    memcpy(msg + 1, reg.signed_prekey_pub, 32);
    assert(wa_xeddsa_sign(ident_priv, msg, 33, reg.signed_prekey_sig) == 0);
    size_t payload_len;
    uint8_t *payload = wa_payload_registration(settings, &reg, &payload_len);

    wa_conn_opts_t opts = {.url = url, .root_pub = root_pub};
    st->client = wa_conn_connect(st->ws, noise_priv, payload, payload_len,
                                 &opts, s_test_client_event, st);
    assert(st->client);
    assert(!wa_conn_ready(st->client));
    assert(wa_conn_send(st->client, (const uint8_t *)"x", 1) == -1);
    wa_conn_set_timer(st->client, 30); //  starts after OPEN
    TEST_RUN(st, st->client_open == 1 && st->server_open == 1);
    assert(wa_conn_ready(st->client) && wa_conn_ready(st->server));
    assert(memcmp(wa_conn_remote_static(st->client), server_pub, 32) == 0);
    assert(memcmp(wa_conn_remote_static(st->server), noise_pub, 32) == 0);
    assert(strcmp(wa_conn_peer(st->server), "127.0.0.1") == 0);
    assert(st->info && !st->info->is_login && st->info->has_registration);
    assert(st->info->reg.registration_id == 4242);
    assert(wa_payload_info_reg_valid(st->info));
    wa_payload_info_destroy(&st->info);

    //  Server greets; client sends nodes, server echoes them.
    TEST_RUN(st, st->client_frames == 1);
    for (int i = 0; i < 20; i++) {
        s_test_send_node(st->client, "ping");
    }
    TEST_RUN(st, st->client_frames == 21 && st->server_frames == 20);
    TEST_RUN(st, st->timers == 1);
    assert(wa_conn_queued(st->client) == 0);

    //  Client destroys itself inside its frame callback; the server sees
    //  the close.
    st->destroy_on_frame = true;
    s_test_send_node(st->client, "bye");
    TEST_RUN(st, st->client == NULL);
    TEST_RUN(st, st->server_closed == 1 && st->server == NULL);
    st->destroy_on_frame = false;
    assert(st->client_closed == 0);

    //  Login payload with edge-routing info; the server closes first.
    wa_payload_login_t login;
    wa_payload_login_init(&login, 15551234567ull, 3);
    free(payload);
    payload = wa_payload_login(settings, &login, &payload_len);
    wa_conn_opts_t routed = opts;
    routed.routing_info = (const uint8_t *)"\x08\x02\x10\x05";
    routed.routing_len = 4;
    st->client = wa_conn_connect(st->ws, noise_priv, payload, payload_len,
                                 &routed, s_test_client_event, st);
    TEST_RUN(st, st->client_open == 2 && st->info);
    assert(st->info->is_login && st->info->username == 15551234567ull);
    assert(st->info->device == 3);
    size_t routing_len;
    const uint8_t *routing = wa_conn_routing_info(st->server, &routing_len);
    assert(routing && routing_len == 4 &&
           memcmp(routing, "\x08\x02\x10\x05", 4) == 0);
    wa_payload_info_destroy(&st->info);
    wa_conn_destroy(&st->server);
    TEST_RUN(st, st->client_closed == 1);
    assert(st->client_reason == WA_CONN_CLOSE_REMOTE);
    assert(!wa_conn_ready(st->client));
    assert(wa_conn_send(st->client, (const uint8_t *)"x", 1) == -1);
    wa_conn_destroy(&st->client);

    //  A chain signed by another root is refused by the client.
    uint8_t other_priv[32], other_pub[32];
    assert(wa_x25519_keypair(other_priv, other_pub) == 0);
    wa_conn_opts_t wrong = opts;
    wrong.root_pub = other_pub;
    st->client = wa_conn_connect(st->ws, noise_priv, payload, payload_len,
                                 &wrong, s_test_client_event, st);
    TEST_RUN(st, st->client_closed == 2);
    assert(st->client_reason == WA_CONN_CLOSE_PROTOCOL);
    assert(strstr(st->client_text, "root"));
    assert(st->client_open == 2);
    wa_conn_destroy(&st->client);
    TEST_RUN(st, st->server_closed == 2);
    assert(st->server_open == 2);

    //  The default root (WhatsApp's) refuses the test chain as well.
    wrong.root_pub = NULL;
    st->client = wa_conn_connect(st->ws, noise_priv, payload, payload_len,
                                 &wrong, s_test_client_event, st);
    TEST_RUN(st, st->client_closed == 3);
    assert(st->client_reason == WA_CONN_CLOSE_PROTOCOL);
    wa_conn_destroy(&st->client);
    TEST_RUN(st, st->server_closed == 3);

    //  A server that never answers: handshake timeout.
    st->silent = true;
    wa_conn_opts_t quick = opts;
    quick.handshake_timeout_ms = 100;
    st->client = wa_conn_connect(st->ws, noise_priv, payload, payload_len,
                                 &quick, s_test_client_event, st);
    TEST_RUN(st, st->client_closed == 4);
    assert(st->client_reason == WA_CONN_CLOSE_TIMEOUT);
    wa_conn_destroy(&st->client);
    st->silent = false;

    //  Nothing listening: transport error.
    char *dead_url = cm_sprintf("ws://127.0.0.1:1/ws/chat");
    wa_conn_opts_t dead = opts;
    dead.url = dead_url;
    st->client = wa_conn_connect(st->ws, noise_priv, payload, payload_len,
                                 &dead, s_test_client_event, st);
    if (st->client) {
        TEST_RUN(st, st->client_closed == 5);
        assert(st->client_reason == WA_CONN_CLOSE_TRANSPORT);
        wa_conn_destroy(&st->client);
    }
    free(dead_url);
    dead.url = "bogus://";
    assert(wa_conn_connect(st->ws, noise_priv, payload, payload_len, &dead,
                           s_test_client_event, st) == NULL);

    //  Garbage instead of the intro: the server drops it.
    wa_ws_conn_t *raw = wa_ws_connect(st->ws, url, NULL, NULL, NULL);
    assert(raw);
    assert(wa_ws_conn_send(raw, (const uint8_t *)"GET / HTTP", 10) == 0);
    TEST_RUN(st, st->server_closed == 4);
    wa_ws_conn_close(&raw);
    TEST_RUN(st, wa_ws_conn_count(st->ws) == 0);

    //  Destroy with a connection half-way.
    st->client = wa_conn_connect(st->ws, noise_priv, payload, payload_len,
                                 &opts, s_test_client_event, st);
    TEST_RUN(st, st->server != NULL);
    wa_conn_destroy(&st->client);
    wa_conn_destroy(&st->server);

    free(payload);
    free(url);
    free(st->cert);
    wa_crypto_wipe(ident_priv, 32);
    wa_crypto_wipe(skey_priv, 32);
    wa_payload_destroy(&settings);
    wa_ws_destroy(&st->ws);
    free(st);
    printf("OK\n");
}
