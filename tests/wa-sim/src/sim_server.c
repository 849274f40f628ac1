/*  sim_server - wa-sim's core: the world model, the listeners and the
    actions the control API triggers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_appstate.h"
#include "sim_tctoken.h"
#include "sim_call.h"
#include "sim_channels.h"
#include "sim_group.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "sim_control.h"
#include "sim_hub.h"
#include "sim_mediahost.h"
#include "sim_pair.h"
#include "sim_phone.h"
#include "sim_kinds.h"
#include "sim_presence.h"
#include "sim_router.h"
#include "sim_server.h"
#include "wa/wa_binary.h"
#include "wa/wa_conn.h"
#include "wa/wa_jid.h"
#include "wa/wa_pair.h"
#include "wa/wa_signal.h"
#include "wa/wa_ws.h"

//  Period of the service tick that flushes WebSocket sends queued from
//  HTTP handlers and timers, and reaps closed connections.
#define SIM_TICK_MS 10

struct _sim_server_t {
    zloop_t *loop;                  //  owner's loop (borrowed)
    const sim_config_t *config;     //  settings (borrowed)
    sim_hub_t *hub;                 //  model, log, faults, connections
    sim_router_t *router;           //  stanzas to capability modules
    sim_control_t *control;         //  control API listener
    sim_mediahost_t *media;         //  media host listener
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

//  Most WebSocket loop rounds one wake-up runs while frames queued by our
//  own callbacks (a relayed message, an ack) wait to be written; the
//  tick picks up whatever is left.
#define SIM_SERVICE_ROUNDS 64

static void
s_service(sim_server_t *self)
{
    for (int i = 0; i < SIM_SERVICE_ROUNDS; i++) {
        wa_ws_service(self->ws);
        if (!wa_ws_pending(self->ws)) {
            break;
        }
    }
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

//  A companion was linked: the capabilities' hooks run.
static void
s_on_linked(void *arg, sim_device_t *dev)
{
    sim_server_t *self = (sim_server_t *)arg;
    sim_router_linked(self->router, dev);
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
    sim_router_stanza(self->router, conn, *node_p);
}

static void
s_on_closed(void *arg, sim_conn_t *conn)
{
    sim_server_t *self = (sim_server_t *)arg;
    cm_log_debug("connection over", "conn=%" PRId64, sim_conn_id(conn));
    sim_router_conn_gone(self->router, conn);
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
    self->router = sim_router_new(self->hub);
    if (!self->router) {
        sim_server_destroy(&self);
        return NULL;
    }
    sim_hub_set_linked_fn(self->hub, s_on_linked, self);
    if (config->state_file && access(config->state_file, R_OK) == 0 &&
        sim_model_load(sim_hub_model(self->hub), config->state_file)) {
        sim_server_destroy(&self);
        return NULL;
    }
    self->control =
        sim_control_new(loop, config->bind, config->control_port, self);
    self->media =
        sim_mediahost_new(loop, config->bind, config->media_port,
                          sim_hub_model(self->hub), config->media_cert);
    self->ws = wa_ws_new();
    if (!self->control || !self->media || !self->ws) {
        sim_server_destroy(&self);
        return NULL;
    }
    sim_hub_set_media(self->hub, sim_mediahost_host(self->media),
                      sim_mediahost_auth(self->media));
    sim_hub_set_media_scheme(self->hub, sim_mediahost_scheme(self->media));
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
        sim_mediahost_destroy(&self->media);
        sim_router_destroy(&self->router);
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

sim_ledger_t *
sim_server_ledger(sim_server_t *self)
{
    assert(self);
    return sim_hub_ledger(self->hub);
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
    char *media = cm_sprintf("%s://%s", sim_mediahost_scheme(self->media),
                             sim_mediahost_host(self->media));
    json_t *info = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ws_url", ws,
                             "control_url", control, "media_url", media,
                             "media_auth", sim_mediahost_auth(self->media),
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

json_t *
sim_server_app_state(sim_server_t *self, const char *phone)
{
    assert(self);
    return sim_appstate_versions(
        (sim_appstate_t *)sim_router_state(self->router, &sim_appstate_cap),
        phone);
}

json_t *
sim_server_app_state_fetches(sim_server_t *self, const char *phone)
{
    assert(self);
    return sim_appstate_fetches(
        (sim_appstate_t *)sim_router_state(self->router, &sim_appstate_cap),
        phone);
}

//  The account of `phone`, or NULL with *reason set (the caller answers
//  404).
static sim_account_t *
s_account(sim_server_t *self, const char *phone, const char **reason)
{
    sim_account_t *acc = sim_model_account(sim_hub_model(self->hub), phone);
    if (!acc) {
        *reason = "no such account";
    }
    return acc;
}

int
sim_server_app_state_tamper(sim_server_t *self, const char *phone,
                            const char *collection, const char **reason)
{
    assert(self);
    sim_account_t *acc = s_account(self, phone, reason);
    if (!acc) {
        return 404;
    }
    return sim_appstate_tamper(
        (sim_appstate_t *)sim_router_state(self->router, &sim_appstate_cap),
        acc, collection, reason);
}

//  The phone's ["nct_salt_sync"] actions (value {salt: hex}; remove
//  clears) set the account's NCT salt, which wa-sim checks cstokens
//  against (sim_tctoken).
static void
s_phone_salt(sim_account_t *acc, const json_t *actions)
{
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        json_t *index = json_object_get(a, "index");
        if (json_array_size(index) != 1 ||
            !cm_streq(json_string_value(json_array_get(index, 0)),
                      "nct_salt_sync")) {
            continue;
        }
        if (cm_streq(json_string_value(json_object_get(a, "op")), "remove")) {
            sim_tctoken_set_salt(acc, NULL, 0);
            continue;
        }
        uint8_t salt[32];
        const char *hex = json_string_value(
            json_object_get(json_object_get(a, "value"), "salt"));
        int len = hex ? cm_unhex(hex, salt, sizeof salt) : -1;
        if (len > 0) {
            sim_tctoken_set_salt(acc, salt, (size_t)len);
        }
        wa_crypto_wipe(salt, sizeof salt);
    }
}

//  The account of `phone` and its phone's current app-state key (id and
//  key; the caller wipes the key). Returns 0, or the status to answer
//  with *reason set.
static int
s_phone_key(sim_server_t *self, const char *phone, sim_account_t **acc_p,
            uint8_t *id, uint8_t *key, const char **reason)
{
    *acc_p = s_account(self, phone, reason);
    if (!*acc_p) {
        return 404;
    }
    if (sim_phone_app_state_key(
            (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap),
            *acc_p, id, key)) {
        *reason = "the phone has no app-state key yet: link a companion "
                  "first";
        return 409;
    }
    return 0;
}

int
sim_server_phone_app_state(sim_server_t *self, const char *phone,
                           const json_t *actions, int external,
                           json_t **result_p, const char **reason)
{
    assert(self);
    sim_account_t *acc = NULL;
    uint8_t id[SIM_PHONE_KEY_ID_LEN], key[32];
    int st = s_phone_key(self, phone, &acc, id, key, reason);
    if (st) {
        return st;
    }
    st = sim_appstate_phone_act(
        (sim_appstate_t *)sim_router_state(self->router, &sim_appstate_cap),
        acc, id, sizeof id, key, actions, external, result_p, reason);
    wa_crypto_wipe(key, sizeof key);
    if (st == 200) {
        s_phone_salt(acc, actions);
    }
    return st;
}

int
sim_server_phone_app_state_key(sim_server_t *self, const char *phone,
                               json_t **result_p, const char **reason)
{
    assert(self);
    sim_account_t *acc = s_account(self, phone, reason);
    if (!acc) {
        return 404;
    }
    return sim_phone_new_app_state_key(
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap), acc,
        result_p, reason);
}

json_t *
sim_server_phone_key_requests(sim_server_t *self, const char *phone)
{
    assert(self);
    sim_account_t *acc = sim_model_account(sim_hub_model(self->hub), phone);
    return acc ? sim_phone_key_requests((sim_phone_t *)sim_router_state(
                                            self->router, &sim_phone_cap),
                                        acc)
               : json_object();
}

int
sim_server_phone_app_state_snapshot(sim_server_t *self, const char *phone,
                                    const char *collection, json_t **result_p,
                                    const char **reason)
{
    assert(self);
    sim_account_t *acc = NULL;
    uint8_t id[SIM_PHONE_KEY_ID_LEN], key[32];
    int st = s_phone_key(self, phone, &acc, id, key, reason);
    if (st) {
        return st;
    }
    st = sim_appstate_phone_snapshot(
        (sim_appstate_t *)sim_router_state(self->router, &sim_appstate_cap),
        acc, collection, id, sizeof id, key, result_p, reason);
    wa_crypto_wipe(key, sizeof key);
    return st;
}

int
sim_server_phone_history(sim_server_t *self, const char *phone, json_t *seed,
                         json_t **result_p, const char **reason)
{
    assert(self);
    sim_account_t *acc = s_account(self, phone, reason);
    if (!acc) {
        return 404;
    }
    return sim_phone_seed_history(
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap), acc,
        seed, result_p, reason);
}

int
sim_server_phone_history_status(sim_server_t *self, const char *phone,
                                json_t **result_p, const char **reason)
{
    assert(self);
    sim_account_t *acc = s_account(self, phone, reason);
    if (!acc) {
        return 404;
    }
    *result_p = sim_phone_history_status(
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap), acc);
    return 200;
}

int
sim_server_phone_history_send(sim_server_t *self, const char *phone,
                              json_t **result_p, const char **reason)
{
    assert(self);
    sim_account_t *acc = s_account(self, phone, reason);
    if (!acc) {
        return 404;
    }
    return sim_phone_resend_history(
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap), acc,
        result_p, reason);
}

int
sim_server_phone_lid_migrate(sim_server_t *self, const char *phone,
                             json_t **result_p, const char **reason)
{
    assert(self);
    sim_account_t *acc = s_account(self, phone, reason);
    if (!acc) {
        return 404;
    }
    json_t *rule =
        json_pack("{s:s, s:b}", "phone", acc->phone, "lid_hidden", 0);
    const char *error = NULL;
    int rc = sim_fault_update(sim_hub_faults(self->hub), rule, &error);
    json_decref(rule);
    if (rc) {
        *reason = error;
        return 500;
    }
    cm_log_info("account migrated to LID", "phone=%s lid=%s", acc->phone,
                acc->lid);
    return sim_phone_lid_sync(
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap), acc,
        result_p, reason);
}

int
sim_server_phone_send(sim_server_t *self, const char *phone, const char *to,
                      const char *text, json_t **result_p, const char **reason)
{
    assert(self);
    sim_phone_t *phones =
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap);
    return sim_phone_send_text(phones, phone, to, text, result_p, reason);
}

int
sim_server_channels(sim_server_t *self, const char *method, char **seg, int n,
                    json_t *in, json_t **result_p, const char **reason)
{
    assert(self);
    return sim_channels_control(
        (sim_channels_t *)sim_router_state(self->router, &sim_channels_cap),
        method, seg, n, in, result_p, reason);
}

int
sim_server_group_request(sim_server_t *self, const char *gid, const char *phone,
                         bool cancel, const char **reason)
{
    assert(self);
    return sim_group_request_control(self->hub, gid, phone, cancel, reason);
}

static sim_calls_t *
s_calls(sim_server_t *self)
{
    return (sim_calls_t *)sim_router_state(self->router, &sim_call_cap);
}

int
sim_server_call_place(sim_server_t *self, const char *phone, const char *to,
                      bool video, json_t **result_p, const char **reason)
{
    assert(self);
    return sim_call_place(s_calls(self), phone, to, video, result_p, reason);
}

int
sim_server_call_act(sim_server_t *self, const char *phone, const char *id,
                    const char *action, json_t **result_p, const char **reason)
{
    assert(self);
    return sim_call_act(s_calls(self), phone, id, action, result_p, reason);
}

json_t *
sim_server_calls(sim_server_t *self, const char *phone)
{
    assert(self);
    return sim_call_list(s_calls(self), phone);
}

int
sim_server_phone_send_undecryptable(sim_server_t *self, const char *phone,
                                    const char *to, json_t **result_p,
                                    const char **reason)
{
    assert(self);
    return sim_phone_send_undecryptable(
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap), phone,
        to, result_p, reason);
}

int
sim_server_phone_send_as(sim_server_t *self, const char *phone, const char *to,
                         const char *text, uint32_t device, int forge,
                         int64_t key_index, json_t **result_p,
                         const char **reason)
{
    assert(self);
    return sim_phone_send_as(
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap), phone,
        to, text, device, forge, key_index, result_p, reason);
}

int
sim_server_phone_send_kind(sim_server_t *self, const char *phone, json_t *in,
                           json_t **result_p, const char **reason)
{
    assert(self);
    return sim_kinds_send(
        (sim_phone_t *)sim_router_state(self->router, &sim_phone_cap), phone,
        in, result_p, reason);
}

int
sim_server_phone_presence(sim_server_t *self, const char *phone, bool available,
                          const char **reason)
{
    assert(self);
    return sim_presence_phone_set(
        (sim_presence_t *)sim_router_state(self->router, &sim_presence_cap),
        phone, available, reason);
}

int
sim_server_phone_chatstate(sim_server_t *self, const char *phone,
                           const char *to, const char *state,
                           const char **reason)
{
    assert(self);
    return sim_presence_phone_chatstate(
        (sim_presence_t *)sim_router_state(self->router, &sim_presence_cap),
        phone, to, state, reason);
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
    sim_account_t *acc = s_account(self, phone, reason);
    if (!acc) {
        return 404;
    }
    zlistx_t *devs = sim_account_devices_copy(acc);
    sim_device_t *dev = (sim_device_t *)zlistx_first(devs);
    while (dev) {
        sim_hub_device_gone(self->hub, dev, true);
        dev = (sim_device_t *)zlistx_next(devs);
    }
    zlistx_destroy(&devs);
    sim_router_account_gone(self->router, phone);
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

//  --------------------------------------------------------------------
//  Self test: a client built from the wire library (wa_conn initiator,
//  wa_payload, wa_pair) against the server over loopback: registration,
//  QR pairing, login, prekeys, bad stanzas, unlink.

typedef struct {
    zloop_t *loop;          //  the server's loop
    sim_server_t *server;   //  the server
    wa_ws_t *ws;            //  client loop
    wa_conn_t *conn;        //  client connection
    bool open;              //  handshake done
    bool closed;            //  connection over
    zlistx_t *frames;       //  wa_node_t * received
    uint8_t noise_priv[32]; //  companion keys
    uint8_t noise_pub[32];
    uint8_t identity_priv[32];
    uint8_t identity_pub[32];
    uint8_t adv[32];
    wa_payload_reg_t reg; //  registration data
} s_client_t;

static void
s_client_node_free(void **item)
{
    wa_node_destroy((wa_node_t **)item);
}

static void
s_client_event(wa_conn_t *conn, wa_conn_event_t event, const uint8_t *data,
               size_t len, void *arg)
{
    s_client_t *c = (s_client_t *)arg;
    if (event == WA_CONN_OPEN) {
        c->open = true;
    } else if (event == WA_CONN_FRAME) {
        wa_node_t *node = wa_binary_decode(data, len, NULL, NULL);
        assert(node);
        zlistx_add_end(c->frames, node);
    } else if (event == WA_CONN_CLOSED) {
        c->closed = true;
    }
}

static int
s_test_stop(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

//  Run server and client for a moment.
static void
s_step(s_client_t *c)
{
    int timer = zloop_timer(c->loop, 5, 1, s_test_stop, NULL);
    zloop_start(c->loop);
    zloop_timer_end(c->loop, timer);
    wa_ws_service(c->ws);
}

//  Wait for the next stanza with this tag (others are dropped), up to 5 s.
//  Caller owns return value; NULL on timeout.
static wa_node_t *
s_expect(s_client_t *c, const char *tag)
{
    int64_t deadline = cm_mono_ms() + 5000;
    while (cm_mono_ms() < deadline) {
        wa_node_t *node;
        while ((node = (wa_node_t *)zlistx_first(c->frames))) {
            zlistx_detach_cur(c->frames);
            if (wa_node_is(node, tag)) {
                return node;
            }
            wa_node_destroy(&node);
        }
        s_step(c);
    }
    return NULL;
}

static void
s_send(s_client_t *c, wa_node_t **node_p)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = wa_binary_encode(*node_p, &data, &len, NULL);
    assert(rc == 0);
    rc = wa_conn_send(c->conn, data, len);
    assert(rc == 0);
    free(data);
    wa_node_destroy(node_p);
}

//  Send an iq and wait for the answer with its id. Caller owns it.
static wa_node_t *
s_query(s_client_t *c, wa_node_t **iq_p)
{
    char id[64];
    snprintf(id, sizeof id, "%s", wa_node_attr(*iq_p, "id"));
    s_send(c, iq_p);
    while (true) {
        wa_node_t *reply = s_expect(c, "iq");
        if (!reply || wa_node_attr_eq(reply, "id", id)) {
            return reply;
        }
        wa_node_destroy(&reply);
    }
}

static wa_node_t *
s_iq(const char *id, const char *type, const char *xmlns)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "id", id);
    wa_node_set_attr(iq, "to", SIM_SERVER_JID);
    wa_node_set_attr(iq, "type", type);
    if (xmlns) {
        wa_node_set_attr(iq, "xmlns", xmlns);
    }
    return iq;
}

static void
s_connect(s_client_t *c, const uint8_t *payload, size_t len)
{
    json_t *info = sim_server_info(c->server);
    wa_conn_opts_t opts;
    memset(&opts, 0, sizeof opts);
    opts.url = json_string_value(json_object_get(info, "ws_url"));
    opts.root_pub = sim_server_root_key(c->server);
    c->open = false;
    c->closed = false;
    zlistx_purge(c->frames);
    wa_conn_destroy(&c->conn);
    c->conn = wa_conn_connect(c->ws, c->noise_priv, payload, len, &opts,
                              s_client_event, c);
    json_decref(info);
    assert(c->conn);
    int64_t deadline = cm_mono_ms() + 5000;
    while (!c->open && !c->closed && cm_mono_ms() < deadline) {
        s_step(c);
    }
    assert(c->open);
}

static int
s_error_code(const wa_node_t *iq)
{
    const wa_node_t *error = iq ? wa_node_child(iq, "error") : NULL;
    return error ? (int)wa_node_attr_int_or(error, "code", -1) : 0;
}

//  Register, pair by QR and log in a fresh client for `phone` (sharing
//  the loop of `c`), then go active. Returns the device id.
static uint32_t
s_link(s_client_t *c, const char *phone)
{
    assert(wa_x25519_keypair(c->noise_priv, c->noise_pub) == 0);
    assert(wa_x25519_keypair(c->identity_priv, c->identity_pub) == 0);
    cm_random(c->adv, sizeof c->adv);
    uint8_t spk_priv[32];
    memset(&c->reg, 0, sizeof c->reg);
    c->reg.registration_id = 77;
    c->reg.signed_prekey_id = 1;
    memcpy(c->reg.identity_pub, c->identity_pub, 32);
    assert(wa_x25519_keypair(spk_priv, c->reg.signed_prekey_pub) == 0);
    uint8_t djb[33];
    wa_signal_djb_encode(c->reg.signed_prekey_pub, djb);
    assert(wa_xeddsa_sign(c->identity_priv, djb, 33,
                          c->reg.signed_prekey_sig) == 0);
    wa_payload_t *settings = wa_payload_new();
    size_t len = 0;
    uint8_t *payload = wa_payload_registration(settings, &c->reg, &len);
    s_connect(c, payload, len);
    free(payload);
    wa_node_t *pd = s_expect(c, "iq");
    assert(pd);
    size_t ref_len = 0;
    const uint8_t *ref = wa_node_bytes(
        wa_node_child_at(wa_node_find(pd, "pair-device"), 0), &ref_len);
    char *qr = wa_pair_qr_string(ref, ref_len, c->noise_pub, c->identity_pub,
                                 c->adv, "1");
    json_t *result = NULL;
    const char *reason = NULL;
    int st = sim_server_scan_qr(c->server, phone, qr, &result, &reason);
    assert(st == 200);
    free(qr);
    json_decref(result);
    wa_node_destroy(&pd);
    wa_node_t *ps = s_expect(c, "iq");
    assert(ps);
    size_t cont_len = 0;
    const uint8_t *container = wa_node_bytes(
        wa_node_find(ps, "pair-success/device-identity"), &cont_len);
    wa_jid_t *jid = wa_jid_new_from(
        wa_node_attr(wa_node_find(ps, "pair-success/device"), "jid"));
    assert(jid);
    uint32_t device = wa_jid_device(jid);
    wa_jid_destroy(&jid);
    wa_pair_adv_t *adv =
        wa_pair_adv_accept(container, cont_len, c->adv, c->identity_priv, NULL);
    assert(adv);
    wa_node_t *sign = s_iq(wa_node_attr(ps, "id"), "result", NULL);
    wa_node_t *di =
        wa_node_add(wa_node_add(sign, "pair-device-sign"), "device-identity");
    wa_node_set_attr_int(di, "key-index", wa_pair_adv_key_index(adv));
    size_t reply_len = 0;
    const uint8_t *reply = wa_pair_adv_reply(adv, &reply_len);
    wa_node_set_bytes(di, reply, reply_len);
    s_send(c, &sign);
    wa_node_t *restart = s_expect(c, "stream:error");
    assert(restart);
    wa_node_destroy(&restart);
    wa_node_destroy(&ps);
    wa_pair_adv_destroy(&adv);
    wa_payload_destroy(&settings);
    return device;
}

//  Log in (again) and go active; returns the <ib><offline> count.
static int
s_login(s_client_t *c, const char *phone, uint32_t device)
{
    wa_payload_t *settings = wa_payload_new();
    wa_payload_login_t login;
    wa_payload_login_init(&login, strtoull(phone, NULL, 10), device);
    size_t len = 0;
    uint8_t *payload = wa_payload_login(settings, &login, &len);
    s_connect(c, payload, len);
    free(payload);
    wa_payload_destroy(&settings);
    wa_node_t *success = s_expect(c, "success");
    assert(success);
    wa_node_destroy(&success);
    wa_node_t *iq = s_iq("act", "set", "passive");
    wa_node_add(iq, "active");
    s_send(c, &iq);
    //  Queued stanzas come before the offline marker: keep them.
    int64_t deadline = cm_mono_ms() + 5000;
    while (cm_mono_ms() < deadline) {
        wa_node_t *node = (wa_node_t *)zlistx_first(c->frames);
        while (node) {
            const wa_node_t *off = wa_node_child(node, "offline");
            if (wa_node_is(node, "ib") && off) {
                int count = (int)wa_node_attr_int_or(off, "count", -1);
                zlistx_delete(c->frames, zlistx_cursor(c->frames));
                return count;
            }
            node = (wa_node_t *)zlistx_next(c->frames);
        }
        s_step(c);
    }
    return -1;
}

//  Blocking HTTP request to the media host while stepping the loop.
//  Returns the reply (headers and body). Caller owns return value.
static char *
s_http(s_client_t *c, const char *host, const char *head, const uint8_t *body,
       size_t body_len, size_t *len_p)
{
    char addr[64];
    snprintf(addr, sizeof addr, "%s", host);
    char *colon = strchr(addr, ':');
    assert(colon);
    *colon = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    inet_pton(AF_INET, addr, &sa.sin_addr);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    assert(rc == 0);
    ssize_t n = send(fd, head, strlen(head), 0);
    assert(n == (ssize_t)strlen(head));
    if (body_len) {
        n = send(fd, body, body_len, 0);
        assert(n == (ssize_t)body_len);
    }
    size_t cap = 1 << 16;
    char *out = (char *)cm_alloc(cap + 1);
    size_t len = 0;
    int64_t deadline = cm_mono_ms() + 5000;
    while (cm_mono_ms() < deadline && len < cap) {
        s_step(c);
        n = recv(fd, out + len, cap - len, MSG_DONTWAIT);
        if (n > 0) {
            len += (size_t)n;
        } else if (n == 0) {
            break;
        }
    }
    close(fd);
    out[len] = 0;
    *len_p = len;
    return out;
}

//  Expect the phone's app-state key share (a pkmsg peer message from
//  our own phone) and confirm it with a peer_msg receipt.
static void
s_peer_share(s_client_t *c, const char *phone)
{
    wa_node_t *msg = s_expect(c, "message");
    assert(msg && wa_node_attr_eq(msg, "category", "peer"));
    char *from = cm_sprintf("%s@s.whatsapp.net", phone);
    assert(wa_node_attr_eq(msg, "from", from));
    assert(wa_node_attr_eq(wa_node_child(msg, "enc"), "type", "pkmsg"));
    wa_node_t *receipt = wa_node_new("receipt");
    wa_node_set_attr(receipt, "id", wa_node_attr(msg, "id"));
    wa_node_set_attr(receipt, "to", from);
    wa_node_set_attr(receipt, "type", "peer_msg");
    s_send(c, &receipt);
    free(from);
    wa_node_destroy(&msg);
}

//  Two clients: a message to an offline device is queued, delivered at
//  its next login, receipts and acks flow back; media round trip.
static void
s_test_relay(s_client_t *a, s_client_t *b)
{
    const char *pa = "15550002221";
    const char *pb = "15550002222";
    sim_model_t *model = sim_server_model(a->server);
    sim_account_t *acc_a = sim_model_account_add(model, pa, "Ann");
    sim_account_t *acc_b = sim_model_account_add(model, pb, "Ben");
    assert(acc_a && acc_b);
    uint32_t da = s_link(a, pa);
    uint32_t db = s_link(b, pb);
    //  Ann missed Ben's "devices" notification while Ben was linking,
    //  and both got their phone's app-state key share
    assert(s_login(a, pa, da) == 2);
    s_peer_share(a, pa);
    wa_node_t *note = s_expect(a, "notification");
    assert(note && wa_node_attr_eq(note, "type", "devices"));
    assert(wa_node_attr_eq(note, "offline", "1"));
    wa_node_t *nack_note = wa_node_new("ack");
    wa_node_set_attr(nack_note, "id", wa_node_attr(note, "id"));
    wa_node_set_attr(nack_note, "class", "notification");
    wa_node_set_attr(nack_note, "type", "devices");
    s_send(a, &nack_note);
    wa_node_destroy(&note);
    assert(s_login(b, pb, db) == 1);
    s_peer_share(b, pb);
    //  usync: Ben has the phone and one companion, and a LID
    wa_node_t *iq = s_iq("u1", "get", "usync");
    wa_node_t *us = wa_node_add(iq, "usync");
    wa_node_set_attr(us, "sid", "s1");
    wa_node_t *q = wa_node_add(us, "query");
    wa_node_set_attr(wa_node_add(q, "devices"), "version", "2");
    wa_node_add(q, "lid");
    wa_node_add(q, "contact");
    wa_node_t *l = wa_node_add(us, "list");
    wa_node_set_attr(wa_node_add(l, "user"), "jid",
                     "15550002222@s.whatsapp.net");
    wa_node_set_string(wa_node_add(wa_node_add(l, "user"), "contact"),
                       "+15559999999");
    wa_node_t *res = s_query(a, &iq);
    assert(res);
    const wa_node_t *user = wa_node_find(res, "usync/list/user");
    assert(wa_node_attr_eq(user, "jid", "15550002222@s.whatsapp.net"));
    const wa_node_t *dl = wa_node_find(user, "devices/device-list");
    assert(dl && wa_node_child_count(dl) == 2);
    assert(wa_node_attr(wa_node_child_at(dl, 1), "key-index"));
    char *lid_b = cm_sprintf("%s@lid", acc_b->lid);
    assert(wa_node_attr_eq(wa_node_child(user, "lid"), "val", lid_b));
    free(lid_b);
    const wa_node_t *other =
        wa_node_child_at(wa_node_find(res, "usync/list"), 1);
    assert(wa_node_attr_eq(wa_node_child(other, "contact"), "type", "out"));
    wa_node_destroy(&res);

    //  Ben goes offline; Ann writes to his companion (by LID) and phone
    wa_conn_destroy(&b->conn);
    for (int i = 0; i < 20; i++) {
        s_step(a);
    }
    char *to_b = cm_sprintf("%s:%u@lid", acc_b->lid, db);
    wa_node_t *msg = wa_node_new("message");
    wa_node_set_attr(msg, "id", "3EB0SIMTEST1");
    wa_node_set_attr(msg, "to", "15550002222@s.whatsapp.net");
    wa_node_set_attr(msg, "type", "text");
    wa_node_t *parts = wa_node_add(msg, "participants");
    wa_node_t *t1 = wa_node_add(parts, "to");
    wa_node_set_attr(t1, "jid", to_b);
    wa_node_t *enc = wa_node_add(t1, "enc");
    wa_node_set_attr(enc, "v", "2");
    wa_node_set_attr(enc, "type", "pkmsg");
    wa_node_set_bytes(enc, "ciphertext-for-ben", 18);
    wa_node_t *t0 = wa_node_add(parts, "to");
    wa_node_set_attr(t0, "jid", "15550002222@s.whatsapp.net");
    wa_node_set_bytes(wa_node_add(t0, "enc"), "for-the-phone", 13);
    wa_node_set_bytes(wa_node_add(msg, "device-identity"), "ADV", 3);
    s_send(a, &msg);
    wa_node_t *ack = s_expect(a, "ack");
    assert(ack && wa_node_attr_eq(ack, "class", "message"));
    assert(wa_node_attr_eq(ack, "id", "3EB0SIMTEST1") &&
           !wa_node_attr(ack, "error"));
    wa_node_destroy(&ack);
    sim_device_t *dev_b = sim_account_device(acc_b, db);
    assert(zlistx_size(dev_b->queue) == 1);

    //  Ben comes back: the queued copy arrives, marked offline, in the
    //  addressing form Ann used, with the other form and the push name
    assert(s_login(b, pb, db) == 1);
    wa_node_t *got = s_expect(b, "message");
    assert(got && wa_node_attr_eq(got, "offline", "1"));
    char *from_a = cm_sprintf("%s:%u@lid", acc_a->lid, da);
    assert(wa_node_attr_eq(got, "from", from_a));
    free(from_a);
    assert(wa_node_attr_eq(got, "sender_pn", "15550002221@s.whatsapp.net"));
    assert(wa_node_attr_eq(got, "notify", "Ann"));
    size_t len = 0;
    const uint8_t *ct = wa_node_bytes(wa_node_child(got, "enc"), &len);
    assert(len == 18 && memcmp(ct, "ciphertext-for-ben", 18) == 0);
    assert(wa_node_child(got, "device-identity"));
    wa_node_destroy(&got);

    //  Delivery then read receipt: relayed to Ann, acked to Ben
    wa_node_t *receipt = wa_node_new("receipt");
    wa_node_set_attr(receipt, "id", "3EB0SIMTEST1");
    wa_node_set_attr(receipt, "to", "15550002221@s.whatsapp.net");
    s_send(b, &receipt);
    receipt = wa_node_new("receipt");
    wa_node_set_attr(receipt, "id", "3EB0SIMTEST1");
    wa_node_set_attr(receipt, "to", "15550002221@s.whatsapp.net");
    wa_node_set_attr(receipt, "type", "read");
    s_send(b, &receipt);
    wa_node_t *r1 = s_expect(a, "receipt");
    wa_node_t *r2 = s_expect(a, "receipt");
    assert(r1 && r2);
    char *from_b = cm_sprintf("%s:%u@s.whatsapp.net", pb, db);
    assert(wa_node_attr_eq(r1, "from", from_b) && !wa_node_attr(r1, "type"));
    assert(wa_node_attr_eq(r2, "type", "read"));
    free(from_b);
    wa_node_destroy(&r1);
    wa_node_destroy(&r2);
    ack = s_expect(b, "ack");
    assert(ack && wa_node_attr_eq(ack, "class", "receipt"));
    wa_node_destroy(&ack);
    assert(zlistx_size(dev_b->queue) == 0);
    //  Ann acks the receipts she got
    sim_device_t *dev_a = sim_account_device(acc_a, da);
    assert(zlistx_size(dev_a->queue) == 2);
    for (int i = 0; i < 2; i++) {
        wa_node_t *cack = wa_node_new("ack");
        wa_node_set_attr(cack, "id", "3EB0SIMTEST1");
        wa_node_set_attr(cack, "class", "receipt");
        s_send(a, &cack);
    }
    for (int i = 0; i < 20 && zlistx_size(dev_a->queue); i++) {
        s_step(a);
    }
    assert(zlistx_size(dev_a->queue) == 0);
    free(to_b);

    //  A group picture: Ann (a member) sets it, Ben hears of it and
    //  reads it; Ann removes it; a stranger's group is a 404
    sim_group_t *team = sim_model_group_add(model, pa, "Team");
    sim_group_participant_add(team, pb, NULL);
    char *gjid = cm_sprintf("%s@g.us", team->id);
    iq = s_iq("gp1", "set", "w:profile:picture");
    wa_node_set_attr(iq, "target", gjid);
    const uint8_t gjpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1};
    wa_node_t *gpic = wa_node_add(iq, "picture");
    wa_node_set_attr(gpic, "type", "image");
    wa_node_set_bytes(gpic, gjpeg, sizeof gjpeg);
    res = s_query(a, &iq);
    const char *gid = wa_node_attr(wa_node_child(res, "picture"), "id");
    assert(gid && cm_streq(team->picture_id, gid));
    wa_node_destroy(&res);
    note = s_expect(b, "notification");
    assert(note && wa_node_attr_eq(note, "type", "picture"));
    assert(wa_node_attr_eq(note, "from", gjid));
    const wa_node_t *gset = wa_node_child(note, "set");
    assert(gset && wa_node_attr_eq(gset, "id", team->picture_id));
    assert(wa_node_attr_eq(gset, "author", "15550002221@s.whatsapp.net"));
    wa_node_destroy(&note);
    iq = s_iq("gp2", "get", "w:profile:picture");
    wa_node_set_attr(iq, "target", gjid);
    wa_node_set_attr(wa_node_add(iq, "picture"), "type", "image");
    res = s_query(b, &iq);
    gpic = res ? wa_node_child(res, "picture") : NULL;
    assert(gpic && strstr(wa_node_attr_or(gpic, "url", ""), "/gp_"));
    wa_node_destroy(&res);
    iq = s_iq("gp3", "set", "w:profile:picture");
    wa_node_set_attr(iq, "target", gjid);
    res = s_query(a, &iq);
    assert(res && wa_node_attr_eq(res, "type", "result") && !team->picture_id);
    wa_node_destroy(&res);
    note = s_expect(b, "notification");
    assert(note && wa_node_child(note, "delete"));
    wa_node_destroy(&note);
    iq = s_iq("gp4", "get", "w:profile:picture");
    wa_node_set_attr(iq, "target", "999@g.us");
    res = s_query(a, &iq);
    assert(s_error_code(res) == 404);
    wa_node_destroy(&res);
    free(gjid);

    //  Media: media_conn, upload with the auth token, download
    iq = s_iq("m1", "set", "w:m");
    wa_node_add(iq, "media_conn");
    res = s_query(a, &iq);
    const wa_node_t *mc = res ? wa_node_child(res, "media_conn") : NULL;
    assert(mc);
    char *auth = cm_strdup(wa_node_attr(mc, "auth"));
    char *host = cm_strdup(wa_node_attr(wa_node_child(mc, "host"), "hostname"));
    wa_node_destroy(&res);
    uint8_t blob[300];
    cm_random(blob, sizeof blob);
    uint8_t hash[32];
    wa_sha256(blob, sizeof blob, hash);
    zarmour_t *armour = zarmour_new();
    zarmour_set_mode(armour, ZARMOUR_MODE_BASE64_URL);
    zarmour_set_pad(armour, false);
    char *token = zarmour_encode(armour, hash, sizeof hash);
    zarmour_destroy(&armour);
    char *head = cm_sprintf("POST /mms/image/%s?auth=%s&token=%s HTTP/1.1\r\n"
                            "Host: x\r\nConnection: close\r\n"
                            "Content-Length: %zu\r\n\r\n",
                            token, auth, token, sizeof blob);
    char *reply = s_http(a, host, head, blob, sizeof blob, &len);
    assert(strstr(reply, "HTTP/1.1 200"));
    char *dp = strstr(reply, "\"direct_path\":\"");
    assert(dp);
    dp += 15;
    char *end = strchr(dp, '"');
    *end = 0;
    char *get = cm_sprintf("GET %s HTTP/1.1\r\nHost: x\r\n"
                           "Connection: close\r\n\r\n",
                           dp);
    char *down = s_http(a, host, get, NULL, 0, &len);
    assert(strstr(down, "HTTP/1.1 200") && len > sizeof blob);
    assert(memcmp(down + len - sizeof blob, blob, sizeof blob) == 0);
    free(down);
    free(get);
    free(reply);
    free(head);
    zstr_free(&token);
    free(auth);
    free(host);
    wa_conn_destroy(&a->conn);
    wa_conn_destroy(&b->conn);
}

//  Random stanzas from a logged-in client: wa-sim answers what it can
//  and never crashes; the connection still answers a ping afterwards.
static void
s_test_random(s_client_t *c)
{
    const char *phone = "15550004441";
    sim_model_account_add(sim_server_model(c->server), phone, "R");
    sim_model_account_add(sim_server_model(c->server), "15550004442", "S");
    uint32_t device = s_link(c, phone);
    assert(s_login(c, phone, device) >= 0);
    static const char *const tags[] = {
        "iq", "message", "receipt",      "ack", "presence", "chatstate",
        "ib", "call",    "notification", "foo", NULL};
    static const char *const children[] = {"participants",
                                           "to",
                                           "enc",
                                           "list",
                                           "item",
                                           "key",
                                           "user",
                                           "usync",
                                           "query",
                                           "devices",
                                           "lid",
                                           "contact",
                                           "create",
                                           "participant",
                                           "pair-device-sign",
                                           "device-identity",
                                           "link_code_companion_reg",
                                           "media_conn",
                                           "count",
                                           "digest",
                                           "rotate",
                                           "skey",
                                           "registration",
                                           "type",
                                           "identity",
                                           "props",
                                           "privacy",
                                           "add",
                                           "remove",
                                           "subject",
                                           "leave",
                                           "group",
                                           "composing",
                                           "active",
                                           "passive",
                                           "value",
                                           "id",
                                           NULL};
    static const char *const keys[] = {
        "id",        "to",  "type",  "xmlns",   "class", "participant",
        "recipient", "jid", "stage", "subject", NULL};
    static const char *const values[] = {"",
                                         "x",
                                         "get",
                                         "set",
                                         "result",
                                         "error",
                                         "encrypt",
                                         "usync",
                                         "w:g2",
                                         "md",
                                         "passive",
                                         "w:p",
                                         "w:m",
                                         "privacy",
                                         "message",
                                         "receipt",
                                         "notification",
                                         "read",
                                         "retry",
                                         "companion_hello",
                                         "companion_finish",
                                         "15550004441@s.whatsapp.net",
                                         "15550004442@s.whatsapp.net",
                                         "15550004442:1@s.whatsapp.net",
                                         "15550004441:1@lid",
                                         "123@g.us",
                                         "@g.us",
                                         "s.whatsapp.net",
                                         "not a jid",
                                         "status@broadcast",
                                         "1@newsletter",
                                         NULL};
    size_t ntags = 0, nchildren = 0, nkeys = 0, nvalues = 0;
    while (tags[ntags]) {
        ntags++;
    }
    while (children[nchildren]) {
        nchildren++;
    }
    while (keys[nkeys]) {
        nkeys++;
    }
    while (values[nvalues]) {
        nvalues++;
    }
    unsigned seed = 4242;
    for (int round = 0; round < 400; round++) {
        wa_node_t *node = wa_node_new(tags[rand_r(&seed) % ntags]);
        int nattrs = rand_r(&seed) % 6;
        for (int a = 0; a < nattrs; a++) {
            wa_node_set_attr(node, keys[rand_r(&seed) % nkeys],
                             values[rand_r(&seed) % nvalues]);
        }
        //  Up to three levels of random children or bytes
        wa_node_t *parent = node;
        for (int depth = 0; depth < 3; depth++) {
            int kids = rand_r(&seed) % 4;
            wa_node_t *next = NULL;
            for (int k = 0; k < kids; k++) {
                wa_node_t *child =
                    wa_node_add(parent, children[rand_r(&seed) % nchildren]);
                if (rand_r(&seed) % 2) {
                    wa_node_set_attr(child, keys[rand_r(&seed) % nkeys],
                                     values[rand_r(&seed) % nvalues]);
                }
                if (rand_r(&seed) % 3 == 0) {
                    uint8_t bytes[80];
                    size_t n = (size_t)(rand_r(&seed) % 80);
                    for (size_t b = 0; b < n; b++) {
                        bytes[b] = (uint8_t)rand_r(&seed);
                    }
                    wa_node_set_bytes(child, bytes, n);
                }
                next = child;
            }
            if (!next) {
                break;
            }
            parent = next;
        }
        if (c->closed) {
            wa_node_destroy(&node);
            break;
        }
        s_send(c, &node);
        if (round % 20 == 0) {
            s_step(c);
        }
    }
    assert(!c->closed);
    wa_node_t *iq = s_iq("final-ping", "get", "w:p");
    wa_node_t *res = s_query(c, &iq);
    assert(res && wa_node_attr_eq(res, "type", "result"));
    wa_node_destroy(&res);
    wa_conn_destroy(&c->conn);
}

//  The capabilities answered from tables alone, over the wire: privacy,
//  blocklist, AB props, profile, media_conn, calls.
static void
s_test_small_caps(s_client_t *c)
{
    wa_node_t *iq = s_iq("s1", "get", "privacy");
    wa_node_add(iq, "privacy");
    wa_node_t *res = s_query(c, &iq);
    const wa_node_t *privacy = res ? wa_node_child(res, "privacy") : NULL;
    assert(privacy && wa_node_child_count(privacy) == 8);
    wa_node_destroy(&res);
    iq = s_iq("s2", "get", "blocklist");
    res = s_query(c, &iq);
    assert(res && wa_node_child(res, "list"));
    wa_node_destroy(&res);
    iq = s_iq("s3", "get", "abt");
    res = s_query(c, &iq);
    assert(res && wa_node_attr_eq(wa_node_child(res, "props"), "hash", "sim1"));
    wa_node_destroy(&res);
    iq = s_iq("s4", "get", "w:profile:picture");
    res = s_query(c, &iq);
    assert(s_error_code(res) == 404);
    wa_node_destroy(&res);
    //  A JPEG picture gets an id; a get then answers its URL; a set
    //  without a picture removes it
    iq = s_iq("s5", "set", "w:profile:picture");
    const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16};
    wa_node_t *pic = wa_node_add(iq, "picture");
    wa_node_set_attr(pic, "type", "image");
    wa_node_set_bytes(pic, jpeg, sizeof jpeg);
    res = s_query(c, &iq);
    assert(res && wa_node_attr(wa_node_child(res, "picture"), "id"));
    wa_node_destroy(&res);
    iq = s_iq("s5b", "get", "w:profile:picture");
    pic = wa_node_add(iq, "picture");
    wa_node_set_attr(pic, "type", "preview");
    res = s_query(c, &iq);
    pic = res ? wa_node_child(res, "picture") : NULL;
    assert(pic && strstr(wa_node_attr_or(pic, "url", ""), "/pp_"));
    wa_node_destroy(&res);
    iq = s_iq("s5c", "set", "w:profile:picture");
    res = s_query(c, &iq);
    assert(res && wa_node_attr_eq(res, "type", "result"));
    wa_node_destroy(&res);
    iq = s_iq("s5d", "get", "w:profile:picture");
    res = s_query(c, &iq);
    assert(s_error_code(res) == 404);
    wa_node_destroy(&res);
    iq = s_iq("s6", "set", "status");
    res = s_query(c, &iq);
    assert(res && wa_node_attr_eq(res, "type", "result"));
    wa_node_destroy(&res);
    //  media_conn names the media host; w:m without it is not served.
    iq = s_iq("s7", "set", "w:m");
    wa_node_add(iq, "media_conn");
    res = s_query(c, &iq);
    const wa_node_t *mc = res ? wa_node_child(res, "media_conn") : NULL;
    assert(mc && wa_node_attr(mc, "auth"));
    assert(strncmp(wa_node_attr_or(wa_node_child(mc, "host"), "hostname", ""),
                   "127.0.0.1:", 10) == 0);
    wa_node_destroy(&res);
    iq = s_iq("s8", "set", "w:m");
    res = s_query(c, &iq);
    assert(s_error_code(res) == 501);
    wa_node_destroy(&res);
    //  A call is acked, nothing more.
    wa_node_t *call = wa_node_new("call");
    wa_node_set_attr(call, "id", "CALL1");
    wa_node_set_attr(call, "to", "15550001111@s.whatsapp.net");
    s_send(c, &call);
    wa_node_t *ack = s_expect(c, "ack");
    assert(ack && wa_node_attr_eq(ack, "class", "call"));
    assert(wa_node_attr_eq(ack, "id", "CALL1"));
    wa_node_destroy(&ack);
}

void
sim_server_test(bool verbose)
{
    printf(" * sim_server: ");
    s_client_t c;
    memset(&c, 0, sizeof c);
    c.loop = zloop_new();
    sim_config_t *config = sim_config_new(0, NULL);
    config->qr_first_ms = 400;
    config->qr_next_ms = 400;
    config->qr_refs = 2;
    free(config->root_priv);
    config->root_priv = cm_strdup(
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    c.server = sim_server_new(c.loop, config);
    assert(c.server);
    sim_server_t *server = c.server;
    c.ws = wa_ws_new();
    c.frames = zlistx_new();
    zlistx_set_destructor(c.frames, s_client_node_free);

    //  Same private key, same public key: clients keep WA_ROOT_KEY.
    uint8_t priv[SIM_KEY_LEN];
    uint8_t pub[SIM_KEY_LEN];
    cm_unhex(config->root_priv, priv, SIM_KEY_LEN);
    assert(wa_x25519_public(priv, pub) == 0);
    assert(memcmp(pub, sim_server_root_key(server), SIM_KEY_LEN) == 0);

    const char *reason = NULL;
    json_t *result = NULL;
    sim_model_t *model = sim_server_model(server);
    sim_account_t *acc = sim_model_account_add(model, "15550001111", "A");
    assert(acc);

    //  Companion keys and its registration payload
    assert(wa_x25519_keypair(c.noise_priv, c.noise_pub) == 0);
    assert(wa_x25519_keypair(c.identity_priv, c.identity_pub) == 0);
    cm_random(c.adv, sizeof c.adv);
    uint8_t spk_priv[32];
    c.reg.registration_id = 4321;
    c.reg.signed_prekey_id = 1;
    memcpy(c.reg.identity_pub, c.identity_pub, 32);
    assert(wa_x25519_keypair(spk_priv, c.reg.signed_prekey_pub) == 0);
    uint8_t djb[33];
    wa_signal_djb_encode(c.reg.signed_prekey_pub, djb);
    assert(wa_xeddsa_sign(c.identity_priv, djb, 33, c.reg.signed_prekey_sig) ==
           0);
    wa_payload_t *settings = wa_payload_new();
    size_t len = 0;
    uint8_t *payload = wa_payload_registration(settings, &c.reg, &len);
    s_connect(&c, payload, len);
    free(payload);

    //  pair-device with the configured number of refs
    wa_node_t *pd = s_expect(&c, "iq");
    assert(pd && wa_node_find(pd, "pair-device"));
    const wa_node_t *pair = wa_node_find(pd, "pair-device");
    assert(wa_node_child_count(pair) == 2);
    size_t ref_len = 0;
    const uint8_t *ref = wa_node_bytes(wa_node_child_at(pair, 0), &ref_len);
    char *qr = wa_pair_qr_string(ref, ref_len, c.noise_pub, c.identity_pub,
                                 c.adv, "1");
    wa_node_t *ok = s_iq(wa_node_attr(pd, "id"), "result", NULL);
    s_send(&c, &ok);
    json_t *conns = sim_server_connections(server);
    assert(json_array_size(conns) == 1);
    assert(cm_streq(
        json_string_value(json_object_get(json_array_get(conns, 0), "state")),
        "unpaired"));
    json_decref(conns);

    //  Bad scans: malformed, keys of another companion, unknown ref,
    //  unknown account.
    assert(sim_server_scan_qr(server, acc->phone, "x,y", &result, &reason) ==
           400);
    uint8_t other[32];
    cm_random(other, sizeof other);
    char *bad = wa_pair_qr_string(ref, ref_len, c.noise_pub, other, c.adv, "1");
    assert(sim_server_scan_qr(server, acc->phone, bad, &result, &reason) ==
           400);
    free(bad);
    bad =
        wa_pair_qr_string("2@nope", 6, c.noise_pub, c.identity_pub, c.adv, "1");
    assert(sim_server_scan_qr(server, acc->phone, bad, &result, &reason) ==
           404);
    free(bad);
    assert(sim_server_scan_qr(server, "19999999999", qr, &result, &reason) ==
           404);

    //  The phone scans: pair-success, verify, countersign
    assert(sim_server_scan_qr(server, acc->phone, qr, &result, &reason) == 200);
    free(qr);
    assert(cm_streq(json_string_value(json_object_get(result, "jid")),
                    "15550001111:1@s.whatsapp.net"));
    json_decref(result);
    result = NULL;
    wa_node_t *ps = s_expect(&c, "iq");
    assert(ps && wa_node_find(ps, "pair-success"));
    size_t cont_len = 0;
    const uint8_t *container = wa_node_bytes(
        wa_node_find(ps, "pair-success/device-identity"), &cont_len);
    wa_pair_status_t st;
    wa_pair_adv_t *adv =
        wa_pair_adv_accept(container, cont_len, c.adv, c.identity_priv, &st);
    assert(adv && st == WA_PAIR_OK);
    assert(memcmp(wa_pair_adv_account_key(adv), acc->identity_pub, 32) == 0);
    wa_node_t *sign = s_iq(wa_node_attr(ps, "id"), "result", NULL);
    wa_node_t *di =
        wa_node_add(wa_node_add(sign, "pair-device-sign"), "device-identity");
    wa_node_set_attr_int(di, "key-index", wa_pair_adv_key_index(adv));
    size_t reply_len = 0;
    const uint8_t *reply = wa_pair_adv_reply(adv, &reply_len);
    wa_node_set_bytes(di, reply, reply_len);
    s_send(&c, &sign);
    wa_node_t *restart = s_expect(&c, "stream:error");
    assert(restart && wa_node_attr_eq(restart, "code", "515"));
    sim_device_t *dev = sim_account_device(acc, 1);
    assert(dev && dev->linked);
    wa_node_destroy(&restart);
    wa_node_destroy(&ps);
    wa_node_destroy(&pd);
    wa_pair_adv_destroy(&adv);

    //  Login: <success> with our LID
    wa_payload_login_t login;
    wa_payload_login_init(&login, 15550001111ULL, 1);
    payload = wa_payload_login(settings, &login, &len);
    s_connect(&c, payload, len);
    wa_node_t *success = s_expect(&c, "success");
    assert(success);
    char *lid = sim_device_lid_jid(dev);
    assert(wa_node_attr_eq(success, "lid", lid));
    free(lid);
    wa_node_destroy(&success);

    //  Prekeys: upload two, count, fetch consumes one
    wa_node_t *iq = s_iq("k1", "set", "encrypt");
    sim_hub_set_uint(wa_node_add(iq, "registration"), 4321, 4);
    uint8_t five = 5;
    wa_node_set_bytes(wa_node_add(iq, "type"), &five, 1);
    wa_node_set_bytes(wa_node_add(iq, "identity"), c.identity_pub, 32);
    wa_node_t *list = wa_node_add(iq, "list");
    for (uint32_t i = 1; i <= 2; i++) {
        wa_node_t *key = wa_node_add(list, "key");
        sim_hub_set_uint(wa_node_add(key, "id"), i, 3);
        wa_node_set_bytes(wa_node_add(key, "value"), other, 32);
    }
    wa_node_t *res = s_query(&c, &iq);
    assert(res && wa_node_attr_eq(res, "type", "result"));
    wa_node_destroy(&res);
    iq = s_iq("k2", "get", "encrypt");
    wa_node_add(iq, "count");
    res = s_query(&c, &iq);
    assert(res && wa_node_attr_eq(wa_node_child(res, "count"), "value", "2"));
    wa_node_destroy(&res);
    iq = s_iq("k3", "get", "encrypt");
    wa_node_t *keyq = wa_node_add(iq, "key");
    wa_node_set_attr(wa_node_add(keyq, "user"), "jid",
                     "15550001111:1@s.whatsapp.net");
    wa_node_set_attr(wa_node_add(keyq, "user"), "jid",
                     "19999999999@s.whatsapp.net");
    res = s_query(&c, &iq);
    assert(res && wa_node_find(res, "list/user/key"));
    const wa_node_t *users = wa_node_child(res, "list");
    assert(wa_node_find(wa_node_child_at(users, 1), "error"));
    wa_node_destroy(&res);
    assert(sim_device_prekey_count(dev) == 1);

    //  Faults: refused upload
    json_t *rules = json_pack("{s:b}", "refuse_prekey_upload", 1);
    const char *error = NULL;
    assert(sim_fault_update(sim_server_faults(server), rules, &error) == 0);
    json_decref(rules);
    iq = s_iq("k4", "set", "encrypt");
    wa_node_add(iq, "list");
    res = s_query(&c, &iq);
    assert(s_error_code(res) == 406);
    wa_node_destroy(&res);
    sim_fault_reset(sim_server_faults(server));

    //  Bad stanzas get errors, not crashes
    iq = s_iq("b1", "get", "nonsense");
    res = s_query(&c, &iq);
    assert(s_error_code(res) == 501);
    wa_node_destroy(&res);
    iq = s_iq("b2", "get", "usync");
    res = s_query(&c, &iq);
    assert(s_error_code(res) == 400);
    wa_node_destroy(&res);
    iq = s_iq("b3", "bogus", "encrypt");
    res = s_query(&c, &iq);
    assert(s_error_code(res) == 400);
    wa_node_destroy(&res);
    wa_node_t *msg = wa_node_new("message");
    wa_node_set_attr(msg, "id", "M1");
    s_send(&c, &msg);
    wa_node_t *nack = s_expect(&c, "ack");
    assert(nack && wa_node_attr_eq(nack, "error", "479"));
    wa_node_destroy(&nack);
    msg = wa_node_new("message");
    wa_node_set_attr(msg, "id", "M2");
    wa_node_set_attr(msg, "to", "19999999999@s.whatsapp.net");
    s_send(&c, &msg);
    nack = s_expect(&c, "ack");
    assert(nack && wa_node_attr_eq(nack, "error", "404"));
    wa_node_destroy(&nack);

    //  Ping and usync after all that
    iq = s_iq("p1", "get", "w:p");
    wa_node_add(iq, "ping");
    res = s_query(&c, &iq);
    assert(res && wa_node_attr_eq(res, "type", "result"));
    wa_node_destroy(&res);
    s_test_small_caps(&c);

    //  The phone unlinks the device: logged-out stream error
    assert(sim_server_unlink(server, acc->phone, 1, &reason) == 200);
    wa_node_t *out = s_expect(&c, "stream:error");
    assert(out && wa_node_attr_eq(out, "code", "401"));
    assert(wa_node_attr_eq(wa_node_child(out, "conflict"), "type",
                           "device_removed"));
    wa_node_destroy(&out);
    assert(!sim_account_device(acc, 1));

    //  Logging in again is refused with <failure reason="401">
    s_connect(&c, payload, len);
    wa_node_t *failure = s_expect(&c, "failure");
    assert(failure && wa_node_attr_eq(failure, "reason", "401"));
    wa_node_destroy(&failure);
    free(payload);

    //  Message relay, offline queue, receipts, media
    s_client_t b;
    memset(&b, 0, sizeof b);
    b.loop = c.loop;
    b.server = server;
    b.ws = c.ws;
    b.frames = zlistx_new();
    zlistx_set_destructor(b.frames, s_client_node_free);
    s_test_relay(&c, &b);
    zlistx_destroy(&b.frames);
    s_test_random(&c);

    //  Control-side errors
    assert(sim_server_unlink(server, acc->phone, 0, &reason) == 400);
    assert(sim_server_unlink(server, "1", 1, &reason) == 404);
    assert(sim_server_drop(server, 999, &reason) == 404);
    assert(sim_server_stream_error(server, 999, "503", NULL, &reason) == 404);
    assert(sim_server_enter_code(server, acc->phone, "ABCD-EFGH", &result,
                                 &reason) == 404);
    assert(sim_server_remove_account(server, "15550001111", &reason) == 200);
    assert(sim_server_remove_account(server, "15550001111", &reason) == 404);
    assert(sim_server_save(server) == -1); //  no state file

    wa_conn_destroy(&c.conn);
    wa_ws_destroy(&c.ws);
    zlistx_destroy(&c.frames);
    wa_payload_destroy(&settings);
    sim_server_destroy(&server);
    assert(!server);
    sim_config_destroy(&config);
    zloop_destroy(&c.loop);
    printf("OK\n");
}
