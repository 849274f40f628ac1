/*  sim_server - wa-sim's core: the world model, the listeners and the
    actions the control API triggers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_control.h"
#include "sim_media.h"
#include "sim_server.h"

struct _sim_server_t {
    zloop_t *loop;                   //  owner's loop (borrowed)
    const sim_config_t *config;      //  settings (borrowed)
    sim_model_t *model;              //  accounts, devices, groups, media
    sim_log_t *log;                  //  stanza metadata log
    sim_fault_t *faults;             //  fault injection rules
    sim_control_t *control;          //  control API listener
    sim_media_t *media;              //  media host listener
    uint8_t root_priv[SIM_KEY_LEN];  //  certificate root private key
    uint8_t root_pub[SIM_KEY_LEN];   //  its public key (clients pin it)
    uint16_t ws_port;                //  WebSocket port bound
};

sim_server_t *
sim_server_new(zloop_t *loop, const sim_config_t *config)
{
    assert(loop);
    assert(config);
    sim_server_t *self = (sim_server_t *) cm_alloc(sizeof(sim_server_t));
    self->loop = loop;
    self->config = config;
    self->model = sim_model_new();
    self->log = sim_log_new(0);
    self->faults = sim_fault_new();

    if (config->root_priv) {
        cm_unhex(config->root_priv, self->root_priv, SIM_KEY_LEN);
        wa_x25519_clamp(self->root_priv);
        if (wa_x25519_public(self->root_priv, self->root_pub)) {
            cm_log_error("could not derive root public key");
            sim_server_destroy(&self);
            return NULL;
        }
    }
    else if (sim_model_keypair(self->root_priv, self->root_pub)) {
        cm_log_error("could not generate root key pair");
        sim_server_destroy(&self);
        return NULL;
    }
    if (config->state_file && access(config->state_file, R_OK) == 0
        && sim_model_load(self->model, config->state_file)) {
        sim_server_destroy(&self);
        return NULL;
    }
    self->control =
        sim_control_new(loop, config->bind, config->control_port, self);
    self->media = sim_media_new(loop, config->bind, config->media_port,
                                self->model);
    if (!self->control || !self->media) {
        sim_server_destroy(&self);
        return NULL;
    }
    return self;
}

void
sim_server_destroy(sim_server_t **self_p)
{
    assert(self_p);
    sim_server_t *self = *self_p;
    if (self) {
        if (self->config->state_file && self->control) {
            sim_server_save(self);
        }
        sim_control_destroy(&self->control);
        sim_media_destroy(&self->media);
        sim_fault_destroy(&self->faults);
        sim_log_destroy(&self->log);
        sim_model_destroy(&self->model);
        wa_crypto_wipe(self->root_priv, sizeof self->root_priv);
        free(self);
        *self_p = NULL;
    }
}

sim_model_t *
sim_server_model(sim_server_t *self)
{
    assert(self);
    return self->model;
}

sim_log_t *
sim_server_log(sim_server_t *self)
{
    assert(self);
    return self->log;
}

sim_fault_t *
sim_server_faults(sim_server_t *self)
{
    assert(self);
    return self->faults;
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
                          (unsigned) self->ws_port);
    char *control = cm_sprintf("http://%s:%u", self->config->bind,
                               (unsigned) sim_control_port(self->control));
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
    return json_array();
}

int
sim_server_scan_qr(sim_server_t *self, const char *phone, const char *qr,
                   json_t **result_p, const char **reason)
{
    assert(self);
    *reason = "no companion is showing this QR ref";
    return 404;
}

int
sim_server_enter_code(sim_server_t *self, const char *phone,
                      const char *code, json_t **result_p,
                      const char **reason)
{
    assert(self);
    *reason = "no companion is waiting for this code";
    return 404;
}

int
sim_server_unlink(sim_server_t *self, const char *phone, uint32_t id,
                  const char **reason)
{
    assert(self);
    sim_account_t *acc = sim_model_account(self->model, phone);
    if (!acc) {
        *reason = "no such account";
        return 404;
    }
    if (id == 0) {
        *reason = "device 0 is the phone itself";
        return 400;
    }
    if (sim_account_device_remove(acc, id)) {
        *reason = "no such device";
        return 404;
    }
    cm_log_info("unlinked device", "phone=%s device=%u", phone, id);
    return 200;
}

int
sim_server_remove_account(sim_server_t *self, const char *phone,
                          const char **reason)
{
    assert(self);
    if (sim_model_account_remove(self->model, phone)) {
        *reason = "no such account";
        return 404;
    }
    cm_log_info("removed account", "phone=%s", phone);
    return 200;
}

int
sim_server_drop(sim_server_t *self, int64_t conn_id, const char **reason)
{
    assert(self);
    *reason = "no such connection";
    return 404;
}

int
sim_server_stream_error(sim_server_t *self, int64_t conn_id,
                        const char *code, const char *conflict,
                        const char **reason)
{
    assert(self);
    *reason = "no such connection";
    return 404;
}

int
sim_server_save(sim_server_t *self)
{
    assert(self);
    if (!self->config->state_file) {
        return -1;
    }
    return sim_model_save(self->model, self->config->state_file);
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
                   "http://127.0.0.1:", 17)
           == 0);
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
    assert(sim_server_remove_account(server, "15550001111", &reason)
           == 404);
    assert(sim_server_save(server) == -1); //  no state file
    sim_server_destroy(&server);
    assert(!server);
    sim_config_destroy(&config);
    zloop_destroy(&loop);
    printf("OK\n");
}
