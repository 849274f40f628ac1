/*  sim_hub - shared state of the simulated server and the helpers the
    stanza handlers use: connections by device, delivery with queues,
    JID resolution, IQ replies

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_hub.h"
#include "wa/wa_binary.h"
#include "wa/wa_cert.h"
#include "wa/wa_jid.h"

struct _sim_hub_t {
    zloop_t *loop;                    //  owner's loop (borrowed)
    const sim_config_t *config;       //  settings (borrowed)
    sim_model_t *model;               //  the world
    sim_log_t *log;                   //  stanza log
    sim_fault_t *faults;              //  fault rules
    sim_ledger_t *ledger;             //  Signal counters used
    uint8_t static_priv[SIM_KEY_LEN]; //  server Noise static key
    uint8_t *cert;                    //  certificate chain
    size_t cert_len;                  //  bytes in cert
    zlistx_t *conns;                  //  sim_conn_t * (not owned)
    zhashx_t *bound;                  //  "phone:dev" -> sim_conn_t *
    char *media_host;                 //  media host "host:port"
    char *media_scheme;               //  its URL scheme, NULL: https
    char *media_auth;                 //  media upload auth
    uint64_t next_id;                 //  server stanza id counter
    char id_buf[32];                  //  last id handed out
    sim_hub_linked_fn *linked_fn;     //  device-linked hook
    void *linked_arg;                 //  its argument
    sim_hub_channel_fn *channel_fn;   //  channel stanza hook
    void *channel_arg;                //  its argument
    sim_hub_hist_sync_fn *hist_fn;    //  hist_sync receipt hook
    sim_hub_peer_fn *peer_fn;         //  peer message to the phone hook
    void *peer_arg;                   //  its argument
    void *hist_arg;                   //  its argument
    zloop_t *own_loop;                //  sim_hub_new_test's loop
    sim_config_t *own_config;         //  and settings
};

sim_hub_t *
sim_hub_new(zloop_t *loop, const sim_config_t *config,
            const uint8_t root_priv[SIM_KEY_LEN])
{
    sim_hub_t *self = (sim_hub_t *)cm_alloc(sizeof(sim_hub_t));
    self->loop = loop;
    self->config = config;
    uint8_t static_pub[SIM_KEY_LEN];
    if (wa_x25519_keypair(self->static_priv, static_pub)) {
        free(self);
        return NULL;
    }
    self->cert = wa_cert_chain_issue(
        root_priv, static_pub, (uint64_t)(cm_now_ms() / 1000), &self->cert_len);
    if (!self->cert) {
        free(self);
        return NULL;
    }
    self->model = sim_model_new();
    self->log = sim_log_new(0);
    self->faults = sim_fault_new();
    self->ledger = sim_ledger_new();
    self->conns = zlistx_new();
    self->bound = zhashx_new();
    cm_random(&self->next_id, sizeof self->next_id);
    self->next_id = 10000 + self->next_id % 1000000;
    return self;
}

void
sim_hub_destroy(sim_hub_t **self_p)
{
    assert(self_p);
    sim_hub_t *self = *self_p;
    if (self) {
        zlistx_destroy(&self->conns);
        zhashx_destroy(&self->bound);
        sim_ledger_destroy(&self->ledger);
        sim_fault_destroy(&self->faults);
        sim_log_destroy(&self->log);
        sim_model_destroy(&self->model);
        wa_crypto_wipe(self->static_priv, sizeof self->static_priv);
        free(self->cert);
        free(self->media_host);
        free(self->media_scheme);
        free(self->media_auth);
        sim_config_destroy(&self->own_config);
        zloop_destroy(&self->own_loop);
        free(self);
        *self_p = NULL;
    }
}

sim_hub_t *
sim_hub_new_test(void)
{
    zloop_t *loop = zloop_new();
    sim_config_t *config = sim_config_new(0, NULL);
    uint8_t root_priv[SIM_KEY_LEN], root_pub[SIM_KEY_LEN];
    sim_hub_t *self = NULL;
    if (config && wa_x25519_keypair(root_priv, root_pub) == 0) {
        self = sim_hub_new(loop, config, root_priv);
    }
    wa_crypto_wipe(root_priv, sizeof root_priv);
    if (!self) {
        sim_config_destroy(&config);
        zloop_destroy(&loop);
        return NULL;
    }
    self->own_loop = loop;
    self->own_config = config;
    return self;
}

zloop_t *
sim_hub_loop(sim_hub_t *self)
{
    return self->loop;
}

const sim_config_t *
sim_hub_config(sim_hub_t *self)
{
    return self->config;
}

sim_model_t *
sim_hub_model(sim_hub_t *self)
{
    return self->model;
}

sim_log_t *
sim_hub_log(sim_hub_t *self)
{
    return self->log;
}

sim_fault_t *
sim_hub_faults(sim_hub_t *self)
{
    return self->faults;
}

sim_ledger_t *
sim_hub_ledger(sim_hub_t *self)
{
    return self->ledger;
}

const uint8_t *
sim_hub_static_priv(sim_hub_t *self)
{
    return self->static_priv;
}

const uint8_t *
sim_hub_cert(sim_hub_t *self, size_t *len_p)
{
    *len_p = self->cert_len;
    return self->cert;
}

void
sim_hub_set_media(sim_hub_t *self, const char *host, const char *auth)
{
    free(self->media_host);
    free(self->media_auth);
    self->media_host = cm_strdup(host);
    self->media_auth = cm_strdup(auth);
}

const char *
sim_hub_media_host(sim_hub_t *self)
{
    return self->media_host;
}

void
sim_hub_set_media_scheme(sim_hub_t *self, const char *scheme)
{
    free(self->media_scheme);
    self->media_scheme = cm_strdup(scheme);
}

const char *
sim_hub_media_scheme(sim_hub_t *self)
{
    return self->media_scheme ? self->media_scheme : "https";
}

const char *
sim_hub_media_auth(sim_hub_t *self)
{
    return self->media_auth;
}

void
sim_hub_set_linked_fn(sim_hub_t *self, sim_hub_linked_fn *fn, void *arg)
{
    self->linked_fn = fn;
    self->linked_arg = arg;
}

void
sim_hub_linked(sim_hub_t *self, sim_device_t *dev)
{
    if (self->linked_fn) {
        self->linked_fn(self->linked_arg, dev);
    }
}

void
sim_hub_set_channel_fn(sim_hub_t *self, sim_hub_channel_fn *fn, void *arg)
{
    self->channel_fn = fn;
    self->channel_arg = arg;
}

bool
sim_hub_channel(sim_hub_t *self, sim_conn_t *conn, const wa_node_t *node)
{
    if (!self->channel_fn) {
        return false;
    }
    self->channel_fn(self->channel_arg, conn, node);
    return true;
}

void
sim_hub_set_hist_sync_fn(sim_hub_t *self, sim_hub_hist_sync_fn *fn, void *arg)
{
    self->hist_fn = fn;
    self->hist_arg = arg;
}

bool
sim_hub_hist_sync(sim_hub_t *self, sim_device_t *dev, const wa_node_t *receipt)
{
    return self->hist_fn && self->hist_fn(self->hist_arg, dev, receipt);
}

void
sim_hub_set_peer_fn(sim_hub_t *self, sim_hub_peer_fn *fn, void *arg)
{
    self->peer_fn = fn;
    self->peer_arg = arg;
}

bool
sim_hub_peer(sim_hub_t *self, sim_device_t *from, const wa_node_t *msg,
             const wa_node_t *enc)
{
    return self->peer_fn && self->peer_fn(self->peer_arg, from, msg, enc);
}

void
sim_hub_conn_add(sim_hub_t *self, sim_conn_t *conn)
{
    zlistx_add_end(self->conns, conn);
}

static char *
s_key(sim_device_t *dev)
{
    return cm_sprintf("%s:%u", dev->account->phone, dev->id);
}

void
sim_hub_conn_remove(sim_hub_t *self, sim_conn_t *conn)
{
    void *handle = zlistx_find(self->conns, conn);
    if (handle) {
        zlistx_delete(self->conns, handle);
    }
    sim_device_t *dev = sim_conn_device(conn);
    if (dev) {
        char *key = s_key(dev);
        if (zhashx_lookup(self->bound, key) == conn) {
            zhashx_delete(self->bound, key);
            sim_device_queue_unsent(dev);
        }
        free(key);
    }
}

zlistx_t *
sim_hub_conns(sim_hub_t *self)
{
    return self->conns;
}

sim_conn_t *
sim_hub_conn(sim_hub_t *self, int64_t id)
{
    sim_conn_t *conn = (sim_conn_t *)zlistx_first(self->conns);
    while (conn) {
        if (sim_conn_id(conn) == id) {
            return conn;
        }
        conn = (sim_conn_t *)zlistx_next(self->conns);
    }
    return NULL;
}

void
sim_hub_bind(sim_hub_t *self, sim_conn_t *conn, sim_device_t *dev)
{
    char *key = s_key(dev);
    sim_conn_t *old = (sim_conn_t *)zhashx_lookup(self->bound, key);
    if (old && old != conn) {
        cm_log_info("replacing connection",
                    "device=%s old=%" PRId64 " new=%" PRId64, key,
                    sim_conn_id(old), sim_conn_id(conn));
        sim_conn_stream_error(old, NULL, "replaced");
    }
    sim_device_queue_unsent(dev);
    zhashx_update(self->bound, key, conn);
    sim_conn_set_device(conn, dev);
    free(key);
}

sim_conn_t *
sim_hub_device_conn(sim_hub_t *self, sim_device_t *dev)
{
    char *key = s_key(dev);
    sim_conn_t *conn = (sim_conn_t *)zhashx_lookup(self->bound, key);
    free(key);
    if (conn && sim_conn_state(conn) != SIM_CONN_LOGGED_IN) {
        return NULL;
    }
    return conn;
}

void
sim_hub_device_gone(sim_hub_t *self, sim_device_t *dev, bool kick)
{
    char *key = s_key(dev);
    sim_conn_t *conn = (sim_conn_t *)zhashx_lookup(self->bound, key);
    zhashx_delete(self->bound, key);
    free(key);
    //  Connections still in pairing for this device are closed too.
    sim_conn_t *c = (sim_conn_t *)zlistx_first(self->conns);
    while (c) {
        if (sim_conn_device(c) == dev) {
            if (kick && sim_conn_state(c) != SIM_CONN_CLOSED) {
                sim_conn_stream_error(c, "401", "device_removed");
            }
            sim_conn_set_device(c, NULL);
        }
        c = (sim_conn_t *)zlistx_next(self->conns);
    }
    (void)conn;
}

//  Decode a queued item back to a node marked offline.
static wa_node_t *
s_pending_node(sim_pending_t *item)
{
    wa_node_t *node = wa_binary_decode_node(item->data, item->len, NULL, NULL);
    if (node) {
        wa_node_set_attr(node, "offline", "1");
    }
    return node;
}

void
sim_hub_deliver(sim_hub_t *self, sim_device_t *dev, const wa_node_t *node,
                const char *cls)
{
    assert(dev && node && cls);
    if (dev->id == 0) {
        return; //  the simulated phone swallows everything
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (wa_binary_encode_node(node, &data, &len, NULL)) {
        cm_log_error("could not encode stanza for queue");
        return;
    }
    sim_pending_t *item = sim_pending_new(
        wa_node_attr(node, "id"), cls, wa_node_attr(node, "from"), data, len);
    free(data);
    sim_conn_t *conn = sim_hub_device_conn(self, dev);
    if (conn && !sim_conn_passive(conn)) {
        if (sim_conn_send(conn, node) == 0) {
            item->sent = true;
        }
    }
    sim_device_queue_push(dev, &item);
}

size_t
sim_hub_flush(sim_hub_t *self, sim_device_t *dev)
{
    sim_conn_t *conn = sim_hub_device_conn(self, dev);
    if (!conn) {
        return 0;
    }
    size_t sent = 0;
    sim_pending_t *item = (sim_pending_t *)zlistx_first(dev->queue);
    while (item) {
        if (!item->sent) {
            wa_node_t *node = s_pending_node(item);
            if (node && sim_conn_send(conn, node) == 0) {
                item->sent = true;
                sent++;
            }
            wa_node_destroy(&node);
        }
        item = (sim_pending_t *)zlistx_next(dev->queue);
    }
    return sent;
}

sim_account_t *
sim_hub_account_of(sim_hub_t *self, const char *jid, bool *is_lid)
{
    wa_jid_t *parsed = jid ? wa_jid_new_from(jid) : NULL;
    if (!parsed) {
        return NULL;
    }
    sim_account_t *acc = NULL;
    if (wa_jid_is_lid(parsed)) {
        acc = sim_model_account_by_lid(self->model, wa_jid_user(parsed));
        if (is_lid) {
            *is_lid = true;
        }
    } else if (wa_jid_is_pn(parsed)) {
        acc = sim_model_account(self->model, wa_jid_user(parsed));
        if (is_lid) {
            *is_lid = false;
        }
    }
    wa_jid_destroy(&parsed);
    return acc;
}

sim_device_t *
sim_hub_device_of(sim_hub_t *self, const char *jid, bool *is_lid)
{
    sim_account_t *acc = sim_hub_account_of(self, jid, is_lid);
    if (!acc) {
        return NULL;
    }
    wa_jid_t *parsed = wa_jid_new_from(jid);
    uint16_t device = parsed ? wa_jid_device(parsed) : 0;
    wa_jid_destroy(&parsed);
    return sim_account_device(acc, device);
}

const char *
sim_hub_next_id(sim_hub_t *self)
{
    snprintf(self->id_buf, sizeof self->id_buf, "%" PRIu64, self->next_id++);
    return self->id_buf;
}

//  Start an IQ reply with the request's id.
static wa_node_t *
s_reply(const wa_node_t *iq, const char *type)
{
    wa_node_t *reply = wa_node_new("iq");
    wa_node_set_attr(reply, "from", SIM_SERVER_JID);
    const char *id = wa_node_attr(iq, "id");
    wa_node_set_attr(reply, "id", id ? id : "");
    wa_node_set_attr(reply, "type", type);
    return reply;
}

int
sim_hub_iq_result(sim_conn_t *conn, const wa_node_t *iq, wa_node_t **child_p)
{
    wa_node_t *reply = s_reply(iq, "result");
    if (child_p && *child_p) {
        wa_node_append(reply, child_p);
    }
    return sim_conn_send_take(conn, &reply);
}

void
sim_hub_iq_ok(sim_hub_t *self, void *state, sim_conn_t *conn,
              const wa_node_t *iq)
{
    sim_hub_iq_result(conn, iq, NULL);
}

int
sim_hub_iq_error(sim_conn_t *conn, const wa_node_t *iq, int code,
                 const char *text)
{
    wa_node_t *reply = s_reply(iq, "error");
    wa_node_t *error = wa_node_add(reply, "error");
    wa_node_set_attr_int(error, "code", code);
    wa_node_set_attr(error, "text", text);
    return sim_conn_send_take(conn, &reply);
}

wa_node_t *
sim_hub_ack(const char *cls, const char *id, const char *from)
{
    wa_node_t *ack = wa_node_new("ack");
    wa_node_set_attr(ack, "class", cls);
    wa_node_set_attr(ack, "id", id);
    if (from) {
        wa_node_set_attr(ack, "from", from);
    }
    wa_node_set_attr_int(ack, "t", cm_now_ms() / 1000);
    return ack;
}

void
sim_hub_nack(sim_conn_t *conn, const wa_node_t *node, const char *cls,
             int error)
{
    const char *id = wa_node_attr(node, "id");
    if (!id) {
        return;
    }
    wa_node_t *ack = sim_hub_ack(cls, id, wa_node_attr(node, "to"));
    wa_node_set_attr_int(ack, "error", error);
    sim_conn_send_take(conn, &ack);
}

wa_node_t *
sim_hub_notification(sim_hub_t *self, const char *type, const char *from,
                     const char *participant)
{
    assert(self);
    wa_node_t *note = wa_node_new("notification");
    wa_node_set_attr(note, "from", from);
    wa_node_set_attr(note, "id", sim_hub_next_id(self));
    if (participant) {
        wa_node_set_attr(note, "participant", participant);
    }
    wa_node_set_attr_int(note, "t", cm_now_ms() / 1000);
    wa_node_set_attr(note, "type", type);
    return note;
}

char *
sim_hub_user_jid(sim_account_t *acc, bool lid)
{
    return lid ? cm_sprintf("%s@lid", acc->lid)
               : cm_sprintf("%s@s.whatsapp.net", acc->phone);
}

void
sim_hub_set_uint(wa_node_t *node, uint32_t value, size_t n)
{
    assert(n >= 1 && n <= 4);
    uint8_t buf[4];
    for (size_t i = 0; i < n; i++) {
        buf[i] = (uint8_t)(value >> (8 * (n - 1 - i)));
    }
    wa_node_set_bytes(node, buf, n);
}

int
sim_hub_get_uint(const wa_node_t *node, uint32_t *value)
{
    size_t len = 0;
    const uint8_t *data = node ? wa_node_bytes(node, &len) : NULL;
    if (!data || len < 1 || len > 4) {
        return -1;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        v = (v << 8) | data[i];
    }
    *value = v;
    return 0;
}

void
sim_hub_test(bool verbose)
{
    printf(" * sim_hub: ");
    zloop_t *loop = zloop_new();
    sim_config_t *config = sim_config_new(0, NULL);
    uint8_t root_priv[32], root_pub[32];
    assert(wa_x25519_keypair(root_priv, root_pub) == 0);
    sim_hub_t *hub = sim_hub_new(loop, config, root_priv);
    assert(hub);
    size_t cert_len = 0;
    const uint8_t *cert = sim_hub_cert(hub, &cert_len);
    uint8_t static_pub[32];
    assert(wa_x25519_public(sim_hub_static_priv(hub), static_pub) == 0);
    assert(wa_cert_chain_verify(cert, cert_len, root_pub, static_pub,
                                (uint64_t)(cm_now_ms() / 1000), NULL) == 0);

    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *acc = sim_model_account_add(model, "15551230000", "A");
    sim_device_t *dev = sim_account_device_add(acc);
    char *lid = cm_sprintf("%s:%u@lid", acc->lid, dev->id);
    bool is_lid = false;
    assert(sim_hub_device_of(hub, lid, &is_lid) == dev && is_lid);
    assert(sim_hub_device_of(hub, "15551230000:1@s.whatsapp.net", &is_lid) ==
           dev);
    assert(!is_lid);
    assert(sim_hub_device_of(hub, "15551230000@s.whatsapp.net", NULL) ==
           sim_account_device(acc, 0));
    assert(!sim_hub_device_of(hub, "15551230000:9@s.whatsapp.net", NULL));
    assert(!sim_hub_device_of(hub, "1@g.us", NULL));
    assert(!sim_hub_device_of(hub, "garbage", NULL));
    assert(!sim_hub_device_of(hub, NULL, NULL));
    free(lid);

    //  Envelopes and acks the capabilities share.
    wa_node_t *note = sim_hub_notification(hub, "w:gp2", "1-2@g.us",
                                           "15551230000@s.whatsapp.net");
    assert(wa_node_is(note, "notification"));
    assert(wa_node_attr_eq(note, "type", "w:gp2"));
    assert(wa_node_attr_eq(note, "from", "1-2@g.us"));
    assert(wa_node_attr_eq(note, "participant", "15551230000@s.whatsapp.net"));
    assert(wa_node_attr(note, "id") && wa_node_attr(note, "t"));
    wa_node_destroy(&note);
    note = sim_hub_notification(hub, "encrypt", SIM_SERVER_JID, NULL);
    assert(!wa_node_attr(note, "participant"));
    wa_node_destroy(&note);
    wa_node_t *ack = sim_hub_ack("receipt", "R1", NULL);
    assert(wa_node_attr_eq(ack, "class", "receipt"));
    assert(wa_node_attr_eq(ack, "id", "R1") && !wa_node_attr(ack, "from"));
    wa_node_destroy(&ack);
    char *jid = sim_hub_user_jid(acc, false);
    assert(cm_streq(jid, "15551230000@s.whatsapp.net"));
    free(jid);
    jid = sim_hub_user_jid(acc, true);
    assert(strncmp(jid, acc->lid, strlen(acc->lid)) == 0 &&
           strstr(jid, "@lid"));
    free(jid);

    //  Offline delivery queues; the phone swallows.
    wa_node_t *msg = wa_node_new("message");
    wa_node_set_attr(msg, "id", "ABC");
    wa_node_set_attr(msg, "from", "15559999999@s.whatsapp.net");
    sim_hub_deliver(hub, dev, msg, "message");
    sim_hub_deliver(hub, sim_account_device(acc, 0), msg, "message");
    assert(zlistx_size(dev->queue) == 1);
    assert(zlistx_size(sim_account_device(acc, 0)->queue) == 0);
    sim_pending_t *item = (sim_pending_t *)zlistx_first(dev->queue);
    assert(!item->sent && cm_streq(item->peer, "15559999999@s.whatsapp.net"));
    wa_node_t *back = s_pending_node(item);
    assert(back && wa_node_attr_eq(back, "offline", "1"));
    assert(wa_node_attr_eq(back, "id", "ABC"));
    wa_node_destroy(&back);
    wa_node_destroy(&msg);
    assert(sim_hub_flush(hub, dev) == 0); //  offline

    char first[32];
    snprintf(first, sizeof first, "%s", sim_hub_next_id(hub));
    assert(!cm_streq(first, sim_hub_next_id(hub)));

    wa_node_t *n = wa_node_new("id");
    sim_hub_set_uint(n, 0x010203, 3);
    uint32_t v = 0;
    assert(sim_hub_get_uint(n, &v) == 0 && v == 0x010203);
    wa_node_set_bytes(n, "12345", 5);
    assert(sim_hub_get_uint(n, &v) == -1);
    wa_node_destroy(&n);

    sim_hub_destroy(&hub);
    assert(!hub);
    sim_config_destroy(&config);
    zloop_destroy(&loop);

    //  A test hub owns its loop and settings.
    hub = sim_hub_new_test();
    assert(hub && sim_hub_loop(hub) && sim_hub_config(hub));
    assert(sim_hub_config(hub)->phone_device);
    sim_hub_destroy(&hub);
    assert(!hub);
    printf("OK\n");
}
