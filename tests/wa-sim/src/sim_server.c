/*  sim_server - wa-sim's core: the world model, the listeners and the
    actions the control API triggers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_control.h"
#include "sim_hub.h"
#include "sim_iq.h"
#include "sim_media.h"
#include "sim_pair.h"
#include "sim_relay.h"
#include "sim_server.h"
#include "wa/wa_ws.h"

//  Period of the service tick that flushes WebSocket sends queued from
//  HTTP handlers and timers, and reaps closed connections.
#define SIM_TICK_MS 10

struct _sim_server_t {
    zloop_t *loop;                  //  owner's loop (borrowed)
    const sim_config_t *config;     //  settings (borrowed)
    sim_hub_t *hub;                 //  model, log, faults, connections
    sim_relay_t *relay;             //  message routing
    sim_control_t *control;         //  control API listener
    sim_media_t *media;             //  media host listener
    wa_ws_t *ws;                    //  WebSocket loop
    int ws_fd;                      //  its pollable descriptor
    int tick_id;                    //  service tick timer
    uint16_t ws_port;               //  WebSocket port bound
    int64_t next_conn;              //  connection id counter
    zlistx_t *dead;                 //  closed sim_conn_t * to destroy
    uint8_t root_priv[SIM_KEY_LEN]; //  certificate root private key
    uint8_t root_pub[SIM_KEY_LEN];  //  its public key (clients pin it)
};

static void
s_reap(sim_server_t *self)
{
    sim_conn_t *conn;
    while ((conn = (sim_conn_t *)zlistx_first(self->dead))) {
        zlistx_delete(self->dead, zlistx_cursor(self->dead));
        sim_hub_conn_remove(self->hub, conn);
        sim_conn_destroy(&conn);
    }
}

static void
s_service(sim_server_t *self)
{
    wa_ws_service(self->ws);
    s_reap(self);
}

static int
s_on_ws(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_service((sim_server_t *)arg);
    return 0;
}

static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    s_service((sim_server_t *)arg);
    return 0;
}

static int
s_on_handshake(void *arg, sim_conn_t *conn, wa_payload_info_t **info_p)
{
    sim_server_t *self = (sim_server_t *)arg;
    return sim_pair_handshake(self->hub, conn, info_p);
}

static void
s_on_stanza(void *arg, sim_conn_t *conn, wa_node_t **node_p)
{
    sim_server_t *self = (sim_server_t *)arg;
    const wa_node_t *node = *node_p;
    if (wa_node_is(node, "iq")) {
        if (sim_pair_iq(self->hub, conn, node)) {
            return;
        }
        const char *type = wa_node_attr(node, "type");
        if (cm_streq(type, "result") || cm_streq(type, "error")) {
            return; //  answers to nothing we asked
        }
        sim_iq_handle(self->hub, conn, node);
        return;
    }
    if (sim_conn_state(conn) == SIM_CONN_LOGGED_IN) {
        sim_relay_handle(self->relay, conn, node);
    } else {
        cm_log_debug("ignoring stanza before login", "conn=%" PRId64 " tag=%s",
                     sim_conn_id(conn), wa_node_tag(node));
    }
}

static void
s_on_closed(void *arg, sim_conn_t *conn)
{
    sim_server_t *self = (sim_server_t *)arg;
    cm_log_debug("connection over", "conn=%" PRId64, sim_conn_id(conn));
    sim_relay_conn_gone(self->relay, conn);
    zlistx_add_end(self->dead, conn);
}

static void
s_on_accept(wa_ws_conn_t *ws_conn, void *arg)
{
    sim_server_t *self = (sim_server_t *)arg;
    static const sim_conn_handler_t handler = {s_on_handshake, s_on_stanza,
                                               s_on_closed};
    size_t cert_len = 0;
    const uint8_t *cert = sim_hub_cert(self->hub, &cert_len);
    sim_conn_t *conn =
        sim_conn_new(++self->next_conn, ws_conn, sim_hub_static_priv(self->hub),
                     cert, cert_len, sim_hub_log(self->hub), &handler, self);
    sim_hub_conn_add(self->hub, conn);
    cm_log_debug("accepted connection", "conn=%" PRId64 " remote=%s",
                 sim_conn_id(conn), wa_ws_conn_peer(ws_conn));
}

sim_server_t *
sim_server_new(zloop_t *loop, const sim_config_t *config)
{
    assert(loop);
    assert(config);
    sim_server_t *self = (sim_server_t *)cm_alloc(sizeof(sim_server_t));
    self->loop = loop;
    self->config = config;
    self->tick_id = -1;
    self->dead = zlistx_new();
    if (config->root_priv) {
        cm_unhex(config->root_priv, self->root_priv, SIM_KEY_LEN);
        wa_x25519_clamp(self->root_priv);
        if (wa_x25519_public(self->root_priv, self->root_pub)) {
            cm_log_error("could not derive root public key");
            sim_server_destroy(&self);
            return NULL;
        }
    } else if (sim_model_keypair(self->root_priv, self->root_pub)) {
        cm_log_error("could not generate root key pair");
        sim_server_destroy(&self);
        return NULL;
    }
    self->hub = sim_hub_new(loop, config, self->root_priv);
    if (!self->hub) {
        cm_log_error("could not issue server certificate chain");
        sim_server_destroy(&self);
        return NULL;
    }
    self->relay = sim_relay_new(self->hub);
    if (config->state_file && access(config->state_file, R_OK) == 0 &&
        sim_model_load(sim_hub_model(self->hub), config->state_file)) {
        sim_server_destroy(&self);
        return NULL;
    }
    self->control =
        sim_control_new(loop, config->bind, config->control_port, self);
    self->media = sim_media_new(loop, config->bind, config->media_port,
                                sim_hub_model(self->hub));
    self->ws = wa_ws_new();
    if (!self->control || !self->media || !self->ws) {
        sim_server_destroy(&self);
        return NULL;
    }
    sim_hub_set_media(self->hub, sim_media_host(self->media),
                      sim_media_auth(self->media));
    int port = wa_ws_listen(self->ws, config->bind, config->port, WA_WS_PATH,
                            s_on_accept, self);
    if (port <= 0) {
        cm_log_error("could not listen for WebSocket connections",
                     "bind=\"%s\" port=%u", config->bind,
                     (unsigned)config->port);
        sim_server_destroy(&self);
        return NULL;
    }
    self->ws_port = (uint16_t)port;
    self->ws_fd = wa_ws_fd(self->ws);
    zmq_pollitem_t item = {NULL, self->ws_fd, ZMQ_POLLIN, 0};
    zloop_poller(loop, &item, s_on_ws, self);
    self->tick_id = zloop_timer(loop, SIM_TICK_MS, 0, s_on_tick, self);
    return self;
}

void
sim_server_destroy(sim_server_t **self_p)
{
    assert(self_p);
    sim_server_t *self = *self_p;
    if (self) {
        if (self->config->state_file && self->control && self->hub) {
            sim_server_save(self);
        }
        if (self->tick_id != -1) {
            zloop_timer_end(self->loop, self->tick_id);
        }
        if (self->ws) {
            zmq_pollitem_t item = {NULL, self->ws_fd, ZMQ_POLLIN, 0};
            zloop_poller_end(self->loop, &item);
        }
        //  Close every connection, then the loop that carries them.
        if (self->hub) {
            zlistx_t *conns = zlistx_dup(sim_hub_conns(self->hub));
            sim_conn_t *conn = (sim_conn_t *)zlistx_first(conns);
            while (conn) {
                if (sim_conn_state(conn) != SIM_CONN_CLOSED) {
                    sim_conn_close(conn);
                }
                conn = (sim_conn_t *)zlistx_next(conns);
            }
            zlistx_destroy(&conns);
        }
        s_reap(self);
        wa_ws_destroy(&self->ws);
        zlistx_destroy(&self->dead);
        sim_control_destroy(&self->control);
        sim_media_destroy(&self->media);
        sim_relay_destroy(&self->relay);
        sim_hub_destroy(&self->hub);
        wa_crypto_wipe(self->root_priv, sizeof self->root_priv);
        free(self);
        *self_p = NULL;
    }
}

sim_model_t *
sim_server_model(sim_server_t *self)
{
    assert(self);
    return sim_hub_model(self->hub);
}

sim_log_t *
sim_server_log(sim_server_t *self)
{
    assert(self);
    return sim_hub_log(self->hub);
}

sim_fault_t *
sim_server_faults(sim_server_t *self)
{
    assert(self);
    return sim_hub_faults(self->hub);
}

const uint8_t *
sim_server_root_key(sim_server_t *self)
{
    assert(self);
    return self->root_pub;
}

json_t *
sim_server_info(sim_server_t *self)
{
    assert(self);
    char root[2 * SIM_KEY_LEN + 1];
    cm_hex(self->root_pub, SIM_KEY_LEN, root);
    char *ws = cm_sprintf("ws://%s:%u/ws/chat", self->config->bind,
                          (unsigned)self->ws_port);
    char *control = cm_sprintf("http://%s:%u", self->config->bind,
                               (unsigned)sim_control_port(self->control));
    char *media = cm_sprintf("http://%s", sim_media_host(self->media));
    json_t *info = json_pack("{s:s, s:s, s:s, s:s, s:s}", "ws_url", ws,
                             "control_url", control, "media_url", media,
                             "root_key", root, "version", WHARF_VERSION);
    free(ws);
    free(control);
    free(media);
    return info;
}

json_t *
sim_server_connections(sim_server_t *self)
{
    assert(self);
    json_t *list = json_array();
    zlistx_t *conns = sim_hub_conns(self->hub);
    sim_conn_t *conn = (sim_conn_t *)zlistx_first(conns);
    while (conn) {
        if (sim_conn_state(conn) != SIM_CONN_CLOSED) {
            json_array_append_new(list, sim_conn_to_json(conn));
        }
        conn = (sim_conn_t *)zlistx_next(conns);
    }
    return list;
}

int
sim_server_scan_qr(sim_server_t *self, const char *phone, const char *qr,
                   json_t **result_p, const char **reason)
{
    assert(self);
    return sim_pair_scan(self->hub, phone, qr, result_p, reason);
}

int
sim_server_enter_code(sim_server_t *self, const char *phone, const char *code,
                      json_t **result_p, const char **reason)
{
    assert(self);
    return sim_pair_enter_code(self->hub, phone, code, result_p, reason);
}

int
sim_server_unlink(sim_server_t *self, const char *phone, uint32_t id,
                  const char **reason)
{
    assert(self);
    return sim_pair_unlink(self->hub, phone, id, reason);
}

int
sim_server_remove_account(sim_server_t *self, const char *phone,
                          const char **reason)
{
    assert(self);
    sim_model_t *model = sim_hub_model(self->hub);
    sim_account_t *acc = sim_model_account(model, phone);
    if (!acc) {
        *reason = "no such account";
        return 404;
    }
    zlistx_t *devs = sim_account_devices_copy(acc);
    sim_device_t *dev = (sim_device_t *)zlistx_first(devs);
    while (dev) {
        sim_hub_device_gone(self->hub, dev, true);
        dev = (sim_device_t *)zlistx_next(devs);
    }
    zlistx_destroy(&devs);
    sim_model_account_remove(model, phone);
    cm_log_info("removed account", "phone=%s", phone);
    return 200;
}

int
sim_server_drop(sim_server_t *self, int64_t conn_id, const char **reason)
{
    assert(self);
    sim_conn_t *conn = sim_hub_conn(self->hub, conn_id);
    if (!conn || sim_conn_state(conn) == SIM_CONN_CLOSED) {
        *reason = "no such connection";
        return 404;
    }
    cm_log_info("dropping connection", "conn=%" PRId64, conn_id);
    sim_conn_close(conn);
    return 200;
}

int
sim_server_stream_error(sim_server_t *self, int64_t conn_id, const char *code,
                        const char *conflict, const char **reason)
{
    assert(self);
    sim_conn_t *conn = sim_hub_conn(self->hub, conn_id);
    if (!conn || sim_conn_state(conn) == SIM_CONN_CLOSED) {
        *reason = "no such connection";
        return 404;
    }
    sim_conn_stream_error(conn, code, conflict);
    return 200;
}

int
sim_server_save(sim_server_t *self)
{
    assert(self);
    if (!self->config->state_file) {
        return -1;
    }
    return sim_model_save(sim_hub_model(self->hub), self->config->state_file);
}

void
sim_server_test(bool verbose)
{
    printf(" * sim_server: ");
    zloop_t *loop = zloop_new();
    sim_config_t *config = sim_config_new(0, NULL);
    free(config->root_priv);
    config->root_priv = cm_strdup(
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    sim_server_t *server = sim_server_new(loop, config);
    assert(server);
    json_t *info = sim_server_info(server);
    const char *root = json_string_value(json_object_get(info, "root_key"));
    assert(root && strlen(root) == 64);
    //  Same private key, same public key: clients can keep WA_ROOT_KEY.
    uint8_t priv[SIM_KEY_LEN];
    uint8_t pub[SIM_KEY_LEN];
    cm_unhex(config->root_priv, priv, SIM_KEY_LEN);
    assert(wa_x25519_public(priv, pub) == 0);
    assert(memcmp(pub, sim_server_root_key(server), SIM_KEY_LEN) == 0);
    assert(strncmp(json_string_value(json_object_get(info, "control_url")),
                   "http://127.0.0.1:", 17) == 0);
    json_decref(info);

    const char *reason = NULL;
    sim_model_t *model = sim_server_model(server);
    sim_account_t *acc = sim_model_account_add(model, "15550001111", "A");
    assert(acc);
    uint32_t dev_id = sim_account_device_add(acc)->id;
    assert(sim_server_unlink(server, "15550001111", 0, &reason) == 400);
    assert(sim_server_unlink(server, "15550001111", dev_id, &reason) == 200);
    assert(sim_server_unlink(server, "15550001111", dev_id, &reason) == 404);
    assert(sim_server_unlink(server, "1", 1, &reason) == 404);
    assert(sim_server_drop(server, 99, &reason) == 404);
    assert(sim_server_remove_account(server, "15550001111", &reason) == 200);
    assert(sim_server_remove_account(server, "15550001111", &reason) == 404);
    assert(sim_server_save(server) == -1); //  no state file
    sim_server_destroy(&server);
    assert(!server);
    sim_config_destroy(&config);
    zloop_destroy(&loop);
    printf("OK\n");
}
