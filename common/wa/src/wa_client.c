/*  wa_client - one session's WhatsApp Web multi-device client protocol

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The session's core: state and helpers; credentials; connection life
    (login, pairing, keepalive, stream errors); prekeys; the router that
    hands every other stanza to the capability module that registered
    for it (wa_client_int.h lists them: wa_inbox, wa_outbox,
    wa_groupcache, wa_devices, wa_call); the public actions; the self
    test (a scripted server and a small relay that lets two clients
    talk), which drives the whole client, capabilities included.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_client.h"
#include "wa/wa_crypto.h"
#include "wa/wa_e2e.h"
#include "wa/wa_group.h"
#include "wa/wa_history.h"
#include "wa/wa_iq.h"
#include "wa/wa_jid.h"
#include "wa/wa_keys.h"
#include "wa/wa_pair.h"
#include "wa/wa_recv.h"
#include "wa/wa_router.h"
#include "wa/wa_send.h"
#include "wa/wa_signal.h"
#include "wa/wa_usync.h"
#include "wa_client_int.h"

//  Signed prekey id of a new device.
#define S_SKEY_ID 1
//  Logout request deadline.
#define S_LOGOUT_TIMEOUT_MS 10000
//  Creds format version.
#define S_CREDS_VERSION 1

//  The capability modules (WA_CLIENT_CAPS), in order.
#define S_CAP_ROW(name) &wa_##name##_cap,
static const wa_client_cap_t *const s_caps[] = {WA_CLIENT_CAPS(S_CAP_ROW) NULL};
#undef S_CAP_ROW

static void s_close(wa_client_t *self, wa_client_state_t state,
                    const char *reason, int error);
static wa_router_t *s_router_new(void);

//  ---------------------------------------------------------------------
//  Small helpers

int64_t
wa_client_now(wa_client_t *self)
{
    return self->ops.now ? self->ops.now(self->arg) : cm_mono_ms();
}

int64_t
wa_client_wall_s(void)
{
    return cm_now_ms() / 1000;
}

const char *
wa_client_name(wa_client_t *self)
{
    return self->cfg.name ? self->cfg.name : "";
}

bool
wa_client_live(wa_client_t *self)
{
    return self->conn != WA_CLIENT_CONN_OFFLINE &&
           self->conn != WA_CLIENT_CONN_CLOSED;
}

//  Send a stanza (taken). Dropped when there is no live connection.
int
wa_client_send_node(wa_client_t *self, wa_node_t **node_p)
{
    int rc = -1;
    if (*node_p && wa_client_live(self)) {
        rc = self->ops.send(self->arg, *node_p);
    }
    wa_node_destroy(node_p);
    return rc;
}

//  Send an IQ (taken) with a fresh id and a waiter. Returns 0, or -1 when
//  there is no live connection (no waiter registered).
static int
s_iq_until(wa_client_t *self, wa_node_t **iq_p, int64_t timeout_ms,
           wa_iq_fn *fn, void *arg)
{
    if (!*iq_p || !wa_client_live(self)) {
        wa_node_destroy(iq_p);
        return -1;
    }
    char id[WA_IQ_ID_MAX];
    wa_iq_next_id(self->iq, id);
    wa_node_set_attr(*iq_p, "id", id);
    int rc = wa_iq_add(self->iq, id, wa_client_now(self) + timeout_ms, fn, arg);
    assert(rc == 0);
    wa_client_send_node(self, iq_p);
    return 0;
}

int
wa_client_request(wa_client_t *self, wa_node_t **iq_p, wa_iq_fn *fn, void *arg)
{
    return s_iq_until(self, iq_p, self->cfg.iq_timeout_ms, fn, arg);
}

//  A waiter for fire-and-forget IQs.
static void
s_iq_ignore(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    (void)arg;
    (void)reply;
    (void)outcome;
}

//  <iq to="@s.whatsapp.net" type xmlns>.
static wa_node_t *
s_iq_node(const char *type, const char *xmlns)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "to", "@s.whatsapp.net");
    wa_node_set_attr(iq, "type", type);
    if (xmlns) {
        wa_node_set_attr(iq, "xmlns", xmlns);
    }
    return iq;
}

//  Answer a server IQ with an empty result.
static void
s_iq_result(wa_client_t *self, const wa_node_t *iq)
{
    wa_node_t *r = wa_node_new("iq");
    wa_node_set_attr(r, "to", wa_node_attr_or(iq, "from", "@s.whatsapp.net"));
    wa_node_set_attr(r, "id", wa_node_attr_or(iq, "id", ""));
    wa_node_set_attr(r, "type", "result");
    wa_client_send_node(self, &r);
}

//  User JID text (no device) of any JID text, or NULL. Caller owns.
char *
wa_client_user_of(const char *text)
{
    wa_jid_t *jid = text ? wa_jid_new_from(text) : NULL;
    char *out = NULL;
    if (jid && !wa_jid_is_server(jid)) {
        wa_jid_t *u = wa_jid_new_parts(wa_jid_user(jid), wa_jid_server(jid), 0);
        out = u ? cm_strdup(wa_jid_str(u)) : NULL;
        wa_jid_destroy(&u);
    }
    wa_jid_destroy(&jid);
    return out;
}

static void
s_set_str(char **field, const char *value)
{
    free(*field);
    *field = value ? cm_strdup(value) : NULL;
}

//  Bytes of a node's content when the node exists.
static const uint8_t *
s_bytes(const wa_node_t *node, size_t *len)
{
    *len = 0;
    return node ? wa_node_bytes(node, len) : NULL;
}

//  ---------------------------------------------------------------------
//  Upcalls

static void
s_status(wa_client_t *self, wa_client_state_t state, const char *reason,
         int error)
{
    if (self->destroying) {
        return;
    }
    wa_client_status_t st = {.state = state,
                             .qr = state == WA_CLIENT_QR ? self->qr : NULL,
                             .reason = reason,
                             .error = error,
                             .me_id = self->paired ? self->me_api : NULL,
                             .me_lid = self->paired ? self->me_lid_api : NULL,
                             .me_jid = self->paired ? self->me_jid : NULL,
                             .push_name = self->push_name};
    char code[WA_PAIR_CODE_LEN + 2];
    if (state == WA_CLIENT_PAIR_CODE) {
        wa_pair_code_display(self->pc_code, code);
        st.code = code;
    }
    self->ops.status(self->arg, &st);
}

void
wa_client_creds_changed(wa_client_t *self)
{
    if (self->ops.creds && !self->destroying) {
        self->ops.creds(self->arg);
    }
}

bool
wa_client_emit(wa_client_t *self, const wa_client_event_t *ev)
{
    if (self->ops.event && !self->destroying) {
        return self->ops.event(self->arg, ev);
    }
    return false;
}

static void
s_on_signal_change(void *arg, const char *kind, const char *key,
                   const uint8_t *data, size_t len)
{
    wa_client_t *self = (wa_client_t *)arg;
    if (self->ops.signal && !self->destroying) {
        self->ops.signal(self->arg, kind, key, data, len);
    }
}

//  ---------------------------------------------------------------------
//  Construction

const char *
wa_client_state_name(wa_client_state_t state)
{
    switch (state) {
    case WA_CLIENT_QR:
        return "QR";
    case WA_CLIENT_PAIR_CODE:
        return "PAIR_CODE";
    case WA_CLIENT_PAIR_CODE_FAILED:
        return "PAIR_CODE_FAILED";
    case WA_CLIENT_PAIRED:
        return "PAIRED";
    case WA_CLIENT_WORKING:
        return "WORKING";
    case WA_CLIENT_RESTART:
        return "RESTART";
    case WA_CLIENT_RETRY:
        return "RETRY";
    case WA_CLIENT_QR_EXPIRED:
        return "QR_EXPIRED";
    case WA_CLIENT_LOGGED_OUT:
        return "LOGGED_OUT";
    case WA_CLIENT_CONFLICT:
        return "CONFLICT";
    case WA_CLIENT_OUTDATED:
        return "OUTDATED";
    }
    return "?";
}

bool
wa_client_state_closing(wa_client_state_t state)
{
    return state >= WA_CLIENT_RESTART;
}

void
wa_client_config_default(wa_client_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->name = "";
    cfg->qr_first_ms = 60000;
    cfg->qr_next_ms = 20000;
    cfg->pair_code_timeout_ms = 180000;
    cfg->iq_timeout_ms = 60000;
    cfg->send_timeout_ms = 60000;
    cfg->keepalive_ms = 25000;
    cfg->keepalive_timeout_ms = 10000;
    cfg->keepalive_misses = 2;
    cfg->prekey_batch = 30;
    cfg->prekey_min = 5;
    cfg->max_retries = 5;
    cfg->platform = "1";
    cfg->platform_display = "Chrome (Linux)";
}

static void
s_store_new(wa_client_t *self)
{
    wa_sigstore_destroy(&self->store);
    self->store = wa_sigstore_new(self->signal);
    assert(self->store);
    wa_sigstore_set_change_fn(self->store, s_on_signal_change, self);
}

wa_client_t *
wa_client_new(const wa_client_config_t *cfg, const wa_client_ops_t *ops,
              void *arg)
{
    assert(ops && ops->send && ops->timer && ops->status);
    wa_client_t *self = cm_alloc(sizeof *self);
    wa_client_config_default(&self->cfg);
    if (cfg) {
        self->cfg = *cfg;
    }
    wa_client_config_t dflt;
    wa_client_config_default(&dflt);
    self->cfg.name = cm_strdup(self->cfg.name ? self->cfg.name : "");
    self->cfg.platform =
        cm_strdup(self->cfg.platform ? self->cfg.platform : dflt.platform);
    self->cfg.platform_display =
        cm_strdup(self->cfg.platform_display ? self->cfg.platform_display
                                             : dflt.platform_display);
    self->ops = *ops;
    self->arg = arg;
    self->signal = wa_signal_new();
    if (!self->signal) {
        free((char *)self->cfg.name);
        free((char *)self->cfg.platform);
        free((char *)self->cfg.platform_display);
        free(self);
        return NULL;
    }
    s_store_new(self);
    self->payload = wa_payload_new();
    self->iq = wa_iq_new();
    self->usync = wa_usync_new(0);
    self->qr_deadline = -1;
    self->pc_deadline = -1;
    self->ka_due = -1;
    self->armed = -1;
    self->router = s_router_new();
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->start) {
            s_caps[i]->start(self);
        }
    }
    return self;
}

static void s_drop_connection(wa_client_t *self);

static void
s_forget_identity(wa_client_t *self)
{
    self->have_creds = false;
    self->paired = false;
    wa_crypto_wipe(self->noise_priv, sizeof self->noise_priv);
    wa_crypto_wipe(self->adv_secret, sizeof self->adv_secret);
    free(self->me_jid);
    free(self->me_lid);
    free(self->platform_name);
    free(self->business_name);
    free(self->account);
    free(self->me_pn_user);
    free(self->me_lid_user);
    free(self->me_api);
    free(self->me_lid_api);
    self->me_jid = self->me_lid = self->platform_name = NULL;
    self->business_name = NULL;
    self->account = NULL;
    self->account_len = 0;
    self->me_pn_user = self->me_lid_user = self->me_api = NULL;
    self->me_lid_api = NULL;
    self->me_device = 0;
    self->key_index = 0;
    self->skey_id = 0;
    self->next_prekey_id = 0;
    wa_usync_clear(self->usync);
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->forget) {
            s_caps[i]->forget(self);
        }
    }
}

static void
s_pair_code_reset(wa_client_t *self)
{
    self->pc_wanted = false;
    self->pc_sent = false;
    wa_crypto_wipe(self->pc_priv, sizeof self->pc_priv);
    memset(self->pc_code, 0, sizeof self->pc_code);
    free(self->pc_phone);
    self->pc_phone = NULL;
    free(self->pc_ref);
    self->pc_ref = NULL;
    self->pc_ref_len = 0;
    self->pc_deadline = -1;
}

static void
s_qr_reset(wa_client_t *self)
{
    for (size_t i = 0; i < self->nrefs; i++) {
        free(self->refs[i]);
    }
    free(self->refs);
    self->refs = NULL;
    self->nrefs = 0;
    self->ref_at = 0;
    free(self->qr);
    self->qr = NULL;
    self->qr_deadline = -1;
}

void
wa_client_destroy(wa_client_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wa_client_t *self = *self_p;
    self->destroying = true;
    s_drop_connection(self);
    s_forget_identity(self);
    s_pair_code_reset(self);
    s_qr_reset(self);
    free(self->push_name);
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->stop) {
            s_caps[i]->stop(self);
        }
    }
    wa_router_destroy(&self->router);
    wa_usync_destroy(&self->usync);
    wa_iq_destroy(&self->iq);
    wa_payload_destroy(&self->payload);
    wa_sigstore_destroy(&self->store);
    wa_signal_destroy(&self->signal);
    free((char *)self->cfg.name);
    free((char *)self->cfg.platform);
    free((char *)self->cfg.platform_display);
    free(self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------
//  Credentials

//  Recompute the fields derived from me_jid / me_lid. Returns -1 when
//  me_jid is not a phone-number device JID.
static int
s_derive_me(wa_client_t *self)
{
    free(self->me_pn_user);
    free(self->me_api);
    free(self->me_lid_user);
    free(self->me_lid_api);
    self->me_pn_user = self->me_api = NULL;
    self->me_lid_user = self->me_lid_api = NULL;
    wa_jid_t *jid = self->me_jid ? wa_jid_new_from(self->me_jid) : NULL;
    if (!jid || !wa_jid_is_pn(jid)) {
        wa_jid_destroy(&jid);
        return -1;
    }
    self->me_device = wa_jid_device(jid);
    self->me_pn_user = wa_client_user_of(self->me_jid);
    self->me_api = wa_jid_to_api(self->me_pn_user);
    wa_jid_destroy(&jid);
    wa_jid_t *lid = self->me_lid ? wa_jid_new_from(self->me_lid) : NULL;
    if (lid && wa_jid_is_lid(lid)) {
        self->me_lid_user = wa_client_user_of(self->me_lid);
        self->me_lid_api = cm_strdup(self->me_lid_user);
    }
    wa_jid_destroy(&lid);
    return 0;
}

//  New device keys. Reports the new credentials.
static int
s_creds_create(wa_client_t *self)
{
    if (wa_x25519_keypair(self->noise_priv, self->noise_pub) != 0 ||
        wa_random(self->adv_secret, sizeof self->adv_secret) != 0) {
        return -1;
    }
    s_store_new(self);
    if (wa_sigstore_generate_identity(self->store) != 0 ||
        wa_sigstore_generate_signed_prekey(self->store, S_SKEY_ID, NULL,
                                           NULL) != 0) {
        return -1;
    }
    self->skey_id = S_SKEY_ID;
    self->next_prekey_id = 1;
    self->paired = false;
    self->have_creds = true;
    wa_client_creds_changed(self);
    return 0;
}

static int
s_ensure_creds(wa_client_t *self)
{
    return self->have_creds ? 0 : s_creds_create(self);
}

static void
s_json_b64(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
    char *b64 = cm_base64_encode(data, len);
    json_object_set_new(obj, key, json_string(b64));
    free(b64);
}

static void
s_json_str(json_t *obj, const char *key, const char *value)
{
    json_object_set_new(obj, key, value ? json_string(value) : json_null());
}

json_t *
wa_client_creds(wa_client_t *self)
{
    if (s_ensure_creds(self) != 0) {
        return NULL;
    }
    uint8_t priv[32];
    uint8_t pub[32];
    uint32_t reg_id = 0;
    if (wa_sigstore_identity(self->store, priv, pub, &reg_id) != 0) {
        return NULL;
    }
    json_t *c = json_object();
    json_object_set_new(c, "v", json_integer(S_CREDS_VERSION));
    s_json_b64(c, "noise_priv", self->noise_priv, 32);
    s_json_b64(c, "noise_pub", self->noise_pub, 32);
    s_json_b64(c, "identity_priv", priv, 32);
    s_json_b64(c, "identity_pub", pub, 32);
    wa_crypto_wipe(priv, sizeof priv);
    json_object_set_new(c, "registration_id", json_integer(reg_id));
    json_object_set_new(c, "signed_prekey_id", json_integer(self->skey_id));
    char key[16];
    snprintf(key, sizeof key, "%u", self->skey_id);
    size_t len = 0;
    const uint8_t *rec =
        wa_sigstore_get(self->store, "signed_prekey", key, &len);
    if (rec) {
        s_json_b64(c, "signed_prekey", rec, len);
    }
    s_json_b64(c, "adv_secret", self->adv_secret, 32);
    json_object_set_new(c, "next_prekey_id",
                        json_integer(self->next_prekey_id));
    json_object_set_new(c, "paired", json_boolean(self->paired));
    s_json_str(c, "me_jid", self->me_jid);
    s_json_str(c, "me_lid", self->me_lid);
    s_json_str(c, "push_name", self->push_name);
    s_json_str(c, "platform", self->platform_name);
    s_json_str(c, "business_name", self->business_name);
    if (self->account) {
        s_json_b64(c, "account", self->account, self->account_len);
    } else {
        json_object_set_new(c, "account", json_null());
    }
    json_object_set_new(c, "key_index", json_integer(self->key_index));
    return c;
}

//  Decode base64 field `key` of exactly `len` bytes (0 = any up to max)
//  into a new buffer. Returns NULL on any problem.
static uint8_t *
s_json_bytes(const json_t *obj, const char *key, size_t len, size_t max,
             size_t *out_len)
{
    const char *text = json_string_value(json_object_get(obj, key));
    uint8_t *out = NULL;
    size_t n = 0;
    if (!text || cm_base64_decode(text, max, &out, &n) != 0) {
        return NULL;
    }
    if ((len && n != len) || n == 0) {
        free(out);
        return NULL;
    }
    if (out_len) {
        *out_len = n;
    }
    return out;
}

static int
s_json_key32(const json_t *obj, const char *key, uint8_t out[32])
{
    uint8_t *b = s_json_bytes(obj, key, 32, 32, NULL);
    if (!b) {
        return -1;
    }
    memcpy(out, b, 32);
    wa_crypto_wipe(b, 32);
    free(b);
    return 0;
}

static const char *
s_json_opt_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int
wa_client_load_creds(wa_client_t *self, const json_t *c)
{
    s_forget_identity(self);
    s_store_new(self);
    if (!json_is_object(c)) {
        return -1;
    }
    uint8_t id_priv[32];
    uint8_t id_pub[32];
    json_int_t reg = json_integer_value(json_object_get(c, "registration_id"));
    json_int_t skey =
        json_integer_value(json_object_get(c, "signed_prekey_id"));
    json_int_t next = json_integer_value(json_object_get(c, "next_prekey_id"));
    size_t rec_len = 0;
    uint8_t *rec = NULL;
    int rc = -1;
    if (s_json_key32(c, "noise_priv", self->noise_priv) != 0 ||
        s_json_key32(c, "noise_pub", self->noise_pub) != 0 ||
        s_json_key32(c, "identity_priv", id_priv) != 0 ||
        s_json_key32(c, "identity_pub", id_pub) != 0 ||
        s_json_key32(c, "adv_secret", self->adv_secret) != 0 || reg < 0 ||
        reg > UINT32_MAX || skey < 1 || skey > WA_CLIENT_PREKEY_ID_MAX ||
        next < 1 || next > WA_CLIENT_PREKEY_ID_MAX) {
        goto cleanup;
    }
    rec = s_json_bytes(c, "signed_prekey", 0, WA_SIGSTORE_MAX_RECORD, &rec_len);
    char key[16];
    snprintf(key, sizeof key, "%u", (unsigned)skey);
    if (!rec ||
        wa_sigstore_set_identity(self->store, id_priv, id_pub, (uint32_t)reg) !=
            0 ||
        wa_sigstore_load(self->store, "signed_prekey", key, rec, rec_len) !=
            0) {
        goto cleanup;
    }
    self->skey_id = (uint32_t)skey;
    self->next_prekey_id = (uint32_t)next;
    s_set_str(&self->push_name, s_json_opt_str(c, "push_name"));
    if (json_is_true(json_object_get(c, "paired"))) {
        s_set_str(&self->me_jid, s_json_opt_str(c, "me_jid"));
        s_set_str(&self->me_lid, s_json_opt_str(c, "me_lid"));
        s_set_str(&self->platform_name, s_json_opt_str(c, "platform"));
        s_set_str(&self->business_name, s_json_opt_str(c, "business_name"));
        self->account = s_json_bytes(c, "account", 0, 4096, &self->account_len);
        json_int_t ki = json_integer_value(json_object_get(c, "key_index"));
        self->key_index = ki > 0 && ki <= UINT32_MAX ? (uint32_t)ki : 0;
        if (s_derive_me(self) != 0 || !self->account) {
            goto cleanup;
        }
        self->paired = true;
    }
    self->have_creds = true;
    rc = 0;
cleanup:
    wa_crypto_wipe(id_priv, sizeof id_priv);
    free(rec);
    if (rc != 0) {
        s_forget_identity(self);
        s_store_new(self);
        cm_log_warn("could not load credentials", "session=%s",
                    wa_client_name(self));
    }
    return rc;
}

int
wa_client_load_signal(wa_client_t *self, const char *kind, const char *key,
                      const uint8_t *data, size_t len)
{
    if (!kind || !key || !data) {
        return -1;
    }
    return wa_sigstore_load(self->store, kind, key, data, len);
}

bool
wa_client_paired(wa_client_t *self)
{
    return self->paired;
}

int
wa_client_noise_key(wa_client_t *self, uint8_t priv[32], uint8_t pub[32])
{
    if (s_ensure_creds(self) != 0) {
        return -1;
    }
    memcpy(priv, self->noise_priv, 32);
    memcpy(pub, self->noise_pub, 32);
    return 0;
}

uint8_t *
wa_client_payload(wa_client_t *self, size_t *len_p)
{
    if (s_ensure_creds(self) != 0) {
        return NULL;
    }
    wa_payload_set_push_name(self->payload, self->push_name);
    if (self->paired) {
        wa_jid_t *jid = wa_jid_new_from(self->me_jid);
        uint64_t username = jid ? strtoull(wa_jid_user(jid), NULL, 10) : 0;
        wa_jid_destroy(&jid);
        wa_payload_login_t login;
        wa_payload_login_init(&login, username, (uint32_t)self->me_device);
        return wa_payload_login(self->payload, &login, len_p);
    }
    wa_payload_reg_t reg;
    memset(&reg, 0, sizeof reg);
    uint8_t priv[32];
    if (wa_sigstore_identity(self->store, priv, reg.identity_pub,
                             &reg.registration_id) != 0 ||
        wa_sigstore_signed_prekey(self->store, self->skey_id,
                                  reg.signed_prekey_pub,
                                  reg.signed_prekey_sig) != 0) {
        return NULL;
    }
    wa_crypto_wipe(priv, sizeof priv);
    reg.signed_prekey_id = self->skey_id;
    return wa_payload_registration(self->payload, &reg, len_p);
}

wa_payload_t *
wa_client_payload_settings(wa_client_t *self)
{
    return self->payload;
}

void
wa_client_set_push_name(wa_client_t *self, const char *push_name)
{
    if (cm_streq(push_name, self->push_name) ||
        (!push_name && !self->push_name)) {
        return;
    }
    s_set_str(&self->push_name, push_name);
    if (self->have_creds) {
        wa_client_creds_changed(self);
    }
    if (self->conn == WA_CLIENT_CONN_ONLINE) {
        wa_node_t *p = wa_node_new("presence");
        wa_node_set_attr(p, "type", "available");
        if (push_name) {
            wa_node_set_attr(p, "name", push_name);
        }
        wa_client_send_node(self, &p);
    }
}

wa_sigstore_t *
wa_client_sigstore(wa_client_t *self)
{
    return self->store;
}

//  ---------------------------------------------------------------------
//  Timer

static int64_t
s_min(int64_t best, int64_t t)
{
    if (t < 0) {
        return best;
    }
    return best < 0 || t < best ? t : best;
}

void
wa_client_rearm(wa_client_t *self)
{
    if (self->destroying) {
        return;
    }
    int64_t now = wa_client_now(self);
    int64_t next = wa_iq_next_deadline(self->iq);
    next = s_min(next, self->qr_deadline);
    next = s_min(next, self->pc_deadline);
    next = s_min(next, self->ka_due);
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->deadline) {
            next = s_min(next, s_caps[i]->deadline(self, now));
        }
    }
    if (next == self->armed) {
        return;
    }
    self->armed = next;
    self->ops.timer(self->arg, next < 0 ? -1 : (next > now ? next - now : 0));
}

//  Our Signal address for a chat's address space.
void
wa_client_own_address(wa_client_t *self, bool lid, char name[WA_SEND_NAME_MAX])
{
    int device = 0;
    const char *jid = lid && self->me_lid ? self->me_lid : self->me_jid;
    if (wa_send_address(jid, name, &device) != 0) {
        snprintf(name, WA_SEND_NAME_MAX, "%s", "");
    }
}

//  ---------------------------------------------------------------------
//  Prekeys

static void
s_on_upload(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_client_t *self = (wa_client_t *)arg;
    self->uploading = false;
    if (outcome == WA_IQ_RESULT) {
        cm_log_debug("uploaded prekeys", "session=%s", wa_client_name(self));
    } else if (outcome != WA_IQ_CANCELLED) {
        cm_log_warn("could not upload prekeys", "session=%s code=%d",
                    wa_client_name(self), wa_iq_error_code(reply));
    }
}

static void
s_upload_prekeys(wa_client_t *self)
{
    if (self->uploading || self->conn != WA_CLIENT_CONN_ONLINE) {
        return;
    }
    unsigned count = (unsigned)self->cfg.prekey_batch;
    if (count == 0 || count > WA_KEYS_MAX_UPLOAD) {
        count = 30;
    }
    uint32_t first = self->next_prekey_id;
    if (wa_sigstore_generate_prekeys(self->store, first, count) != 0) {
        cm_log_warn("could not generate prekeys", "session=%s",
                    wa_client_name(self));
        return;
    }
    uint32_t next = first + count;
    self->next_prekey_id =
        next > WA_CLIENT_PREKEY_ID_MAX ? next - WA_CLIENT_PREKEY_ID_MAX : next;
    wa_client_creds_changed(self);
    wa_node_t *iq = wa_keys_upload(self->store, self->skey_id, first, count);
    if (!iq) {
        cm_log_warn("could not build prekey upload", "session=%s",
                    wa_client_name(self));
        return;
    }
    self->uploading = true;
    if (wa_client_request(self, &iq, s_on_upload, self) != 0) {
        self->uploading = false;
    }
}

static void
s_on_count(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_client_t *self = (wa_client_t *)arg;
    if (outcome != WA_IQ_RESULT) {
        if (outcome != WA_IQ_CANCELLED) {
            cm_log_warn("could not query prekey count", "session=%s",
                        wa_client_name(self));
        }
        return;
    }
    int count = wa_keys_count(reply);
    if (count >= 0 && count < self->cfg.prekey_min) {
        s_upload_prekeys(self);
    }
}

//  ---------------------------------------------------------------------
//  Connection life

static int64_t
s_keepalive_interval(wa_client_t *self)
{
    int64_t base = self->cfg.keepalive_ms;
    int64_t spread = base / 5;
    uint32_t r = 0;
    cm_random(&r, sizeof r);
    return spread > 0 ? base - spread + (int64_t)(r % (uint32_t)(2 * spread))
                      : base;
}

//  Fail or drop everything tied to the connection.
static void
s_drop_connection(wa_client_t *self)
{
    self->conn = WA_CLIENT_CONN_OFFLINE;
    self->restart_pending = false;
    self->online_reported = false;
    self->ka_due = -1;
    self->ka_inflight = false;
    self->ka_misses = 0;
    self->uploading = false;
    s_qr_reset(self);
    //  A requested pair code dies with its connection
    if (self->pc_sent) {
        s_pair_code_reset(self);
    }
    self->pc_deadline = -1;
    //  Waiters first: they end their jobs
    wa_iq_cancel_all(self->iq);
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->drop) {
            s_caps[i]->drop(self);
        }
    }
}

static void
s_close(wa_client_t *self, wa_client_state_t state, const char *reason,
        int error)
{
    cm_log_info("closing WhatsApp connection",
                "session=%s state=%s "
                "reason=\"%s\" code=%d",
                wa_client_name(self), wa_client_state_name(state),
                reason ? reason : "", error);
    s_drop_connection(self);
    self->conn = WA_CLIENT_CONN_CLOSED;
    if (state == WA_CLIENT_LOGGED_OUT) {
        s_forget_identity(self);
        s_store_new(self);
    }
    s_status(self, state, reason, error);
}

static void
s_on_keepalive(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_client_t *self = (wa_client_t *)arg;
    (void)reply;
    self->ka_inflight = false;
    if (outcome == WA_IQ_CANCELLED) {
        return;
    }
    if (outcome == WA_IQ_TIMEOUT) {
        if (++self->ka_misses >= self->cfg.keepalive_misses) {
            s_close(self, WA_CLIENT_RETRY, "keepalive timeout", 0);
            return;
        }
    } else {
        self->ka_misses = 0;
    }
    self->ka_due = wa_client_now(self) + s_keepalive_interval(self);
}

static void
s_keepalive(wa_client_t *self)
{
    self->ka_due = -1;
    wa_node_t *iq = s_iq_node("get", "w:p");
    self->ka_inflight = true;
    if (s_iq_until(self, &iq, self->cfg.keepalive_timeout_ms, s_on_keepalive,
                   self) != 0) {
        self->ka_inflight = false;
    }
}

void
wa_client_connected(wa_client_t *self)
{
    if (wa_client_live(self)) {
        s_drop_connection(self);
    }
    s_ensure_creds(self);
    self->conn = self->paired ? WA_CLIENT_CONN_LOGIN : WA_CLIENT_CONN_UNPAIRED;
    self->ka_due = wa_client_now(self) + s_keepalive_interval(self);
    self->ka_misses = 0;
    cm_log_debug("WhatsApp connection up", "session=%s paired=%s",
                 wa_client_name(self), self->paired ? "true" : "false");
    wa_client_rearm(self);
}

void
wa_client_disconnected(wa_client_t *self, const char *reason)
{
    if (self->conn != WA_CLIENT_CONN_OFFLINE) {
        cm_log_debug("WhatsApp connection down", "session=%s reason=\"%s\"",
                     wa_client_name(self), reason ? reason : "");
        s_drop_connection(self);
    }
    wa_client_rearm(self);
}

bool
wa_client_ready(wa_client_t *self)
{
    return self->conn == WA_CLIENT_CONN_ONLINE;
}

const char *
wa_client_qr(wa_client_t *self)
{
    return self->qr;
}

//  Show ref_at's QR for `life` ms (unless a pair code holds rotation).
static void
s_show_qr(wa_client_t *self, int64_t life)
{
    uint8_t priv[32];
    uint8_t pub[32];
    uint32_t reg = 0;
    if (wa_sigstore_identity(self->store, priv, pub, &reg) != 0) {
        return;
    }
    wa_crypto_wipe(priv, sizeof priv);
    const char *ref = self->refs[self->ref_at];
    free(self->qr);
    self->qr = wa_pair_qr_string(ref, strlen(ref), self->noise_pub, pub,
                                 self->adv_secret, self->cfg.platform);
    if (!self->qr) {
        s_close(self, WA_CLIENT_RETRY, "could not build QR code", 0);
        return;
    }
    self->qr_deadline = self->pc_wanted ? -1 : wa_client_now(self) + life;
    s_status(self, WA_CLIENT_QR, NULL, 0);
}

static int
s_on_pair_device(wa_client_t *self, const wa_node_t *iq, const wa_node_t *pd)
{
    s_iq_result(self, iq);
    size_t n = 0;
    const wa_node_t *ref = NULL;
    char **refs = cm_alloc((wa_node_child_count(pd) + 1) * sizeof(char *));
    while ((ref = wa_node_child_next(pd, "ref", ref))) {
        size_t len = 0;
        const uint8_t *b = wa_node_bytes(ref, &len);
        if (!b || len == 0 || len > 512 || memchr(b, ',', len) ||
            memchr(b, 0, len)) {
            continue;
        }
        refs[n++] = cm_strndup((const char *)b, len);
    }
    if (n == 0) {
        free(refs);
        cm_log_warn("could not use pair-device: no refs", "session=%s",
                    wa_client_name(self));
        return -1;
    }
    s_qr_reset(self);
    self->refs = refs;
    self->nrefs = n;
    s_show_qr(self, self->cfg.qr_first_ms);
    return 0;
}

static void
s_pair_error(wa_client_t *self, const wa_node_t *iq, int code, const char *text)
{
    wa_node_t *r = wa_node_new("iq");
    wa_node_set_attr(r, "to", "@s.whatsapp.net");
    wa_node_set_attr(r, "type", "error");
    wa_node_set_attr(r, "id", wa_node_attr_or(iq, "id", ""));
    wa_node_t *e = wa_node_add(r, "error");
    wa_node_set_attr_int(e, "code", code);
    wa_node_set_attr(e, "text", text);
    wa_client_send_node(self, &r);
}

static int
s_on_pair_success(wa_client_t *self, const wa_node_t *iq, const wa_node_t *ps)
{
    size_t di_len = 0;
    const uint8_t *di = s_bytes(wa_node_child(ps, "device-identity"), &di_len);
    const wa_node_t *device = wa_node_child(ps, "device");
    const char *jid_text = device ? wa_node_attr(device, "jid") : NULL;
    const char *lid_text = device ? wa_node_attr(device, "lid") : NULL;
    wa_jid_t *jid = jid_text ? wa_jid_new_from(jid_text) : NULL;
    wa_jid_t *lid = lid_text ? wa_jid_new_from(lid_text) : NULL;
    bool jid_ok = jid && wa_jid_is_pn(jid) && wa_jid_device(jid) != 0;
    bool lid_ok = lid && wa_jid_is_lid(lid);
    wa_jid_destroy(&jid);
    wa_jid_destroy(&lid);
    if (!di || !jid_ok) {
        s_pair_error(self, iq, 500, "internal-error");
        s_close(self, WA_CLIENT_RETRY,
                "pairing failed: malformed "
                "pair-success",
                0);
        return -1;
    }
    uint8_t priv[32];
    uint8_t pub[32];
    uint32_t reg = 0;
    wa_pair_status_t st = WA_PAIR_INTERNAL;
    wa_pair_adv_t *adv = NULL;
    if (wa_sigstore_identity(self->store, priv, pub, &reg) == 0) {
        adv = wa_pair_adv_accept(di, di_len, self->adv_secret, priv, &st);
    }
    wa_crypto_wipe(priv, sizeof priv);
    if (!adv) {
        const char *text = st == WA_PAIR_BAD_HMAC        ? "hmac-mismatch"
                           : st == WA_PAIR_BAD_SIGNATURE ? "signature-mismatch"
                                                         : "internal-error";
        int code =
            st == WA_PAIR_BAD_HMAC || st == WA_PAIR_BAD_SIGNATURE ? 401 : 500;
        s_pair_error(self, iq, code, text);
        char *reason = cm_sprintf("pairing failed: %s", text);
        s_close(self, WA_CLIENT_RETRY, reason, code);
        free(reason);
        return -1;
    }
    s_set_str(&self->me_jid, jid_text);
    s_set_str(&self->me_lid, lid_ok ? lid_text : NULL);
    const wa_node_t *platform = wa_node_child(ps, "platform");
    s_set_str(&self->platform_name,
              platform ? wa_node_attr(platform, "name") : NULL);
    const wa_node_t *biz = wa_node_child(ps, "biz");
    s_set_str(&self->business_name, biz ? wa_node_attr(biz, "name") : NULL);
    size_t len = 0;
    const uint8_t *account = wa_pair_adv_identity(adv, &len);
    free(self->account);
    self->account = cm_alloc(len);
    memcpy(self->account, account, len);
    self->account_len = len;
    self->key_index = wa_pair_adv_key_index(adv);
    s_derive_me(self);
    //  pair-device-sign, same IQ id
    wa_node_t *r = wa_node_new("iq");
    wa_node_set_attr(r, "to", "@s.whatsapp.net");
    wa_node_set_attr(r, "type", "result");
    wa_node_set_attr(r, "id", wa_node_attr_or(iq, "id", ""));
    wa_node_t *sign = wa_node_add(r, "pair-device-sign");
    wa_node_t *ident = wa_node_add(sign, "device-identity");
    wa_node_set_attr_int(ident, "key-index", self->key_index);
    const uint8_t *reply = wa_pair_adv_reply(adv, &len);
    wa_node_set_bytes(ident, reply, len);
    wa_pair_adv_destroy(&adv);
    wa_client_send_node(self, &r);
    self->paired = true;
    self->restart_pending = true;
    s_qr_reset(self);
    s_pair_code_reset(self);
    cm_log_info("device linked", "session=%s jid=%s", wa_client_name(self),
                self->me_jid);
    wa_client_creds_changed(self);
    s_status(self, WA_CLIENT_PAIRED, NULL, 0);
    return 0;
}

static void
s_on_pair_hello(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_client_t *self = (wa_client_t *)arg;
    if (outcome == WA_IQ_CANCELLED || !self->pc_wanted) {
        return;
    }
    size_t len = 0;
    const uint8_t *ref =
        outcome == WA_IQ_RESULT
            ? s_bytes(wa_node_find(reply, "link_code_companion_reg/"
                                          "link_code_pairing_ref"),
                      &len)
            : NULL;
    if (!ref || len == 0 || len > 1024) {
        char *reason =
            outcome == WA_IQ_TIMEOUT ? cm_strdup("pair code request timed out")
            : outcome == WA_IQ_ERROR
                ? cm_sprintf("pair code request failed: %d %s",
                             wa_iq_error_code(reply), wa_iq_error_text(reply))
                : cm_strdup("pair code request failed: no ref");
        int code = outcome == WA_IQ_ERROR ? wa_iq_error_code(reply) : 0;
        s_pair_code_reset(self);
        //  Back to the QR, if there is one
        if (self->nrefs) {
            self->qr_deadline = wa_client_now(self) + self->cfg.qr_next_ms;
        }
        s_status(self, WA_CLIENT_PAIR_CODE_FAILED, reason, code > 0 ? code : 0);
        free(reason);
        return;
    }
    free(self->pc_ref);
    self->pc_ref = cm_alloc(len);
    memcpy(self->pc_ref, ref, len);
    self->pc_ref_len = len;
    s_status(self, WA_CLIENT_PAIR_CODE, NULL, 0);
}

static void
s_pair_hello(wa_client_t *self)
{
    uint8_t wrapped[WA_PAIR_WRAPPED_LEN];
    if (wa_pair_code_wrap(self->pc_code, self->pc_pub, wrapped) != 0) {
        s_pair_code_reset(self);
        s_status(self, WA_CLIENT_PAIR_CODE_FAILED, "could not wrap pairing key",
                 0);
        return;
    }
    wa_node_t *iq = s_iq_node("set", "md");
    wa_node_t *reg = wa_node_add(iq, "link_code_companion_reg");
    char *jid = cm_sprintf("%s@s.whatsapp.net", self->pc_phone);
    wa_node_set_attr(reg, "jid", jid);
    free(jid);
    wa_node_set_attr(reg, "stage", "companion_hello");
    wa_node_set_attr(reg, "should_show_push_notification", "true");
    wa_node_set_bytes(
        wa_node_add(reg, "link_code_pairing_wrapped_companion_ephemeral_pub"),
        wrapped, sizeof wrapped);
    wa_node_set_bytes(wa_node_add(reg, "companion_server_auth_key_pub"),
                      self->noise_pub, 32);
    wa_node_set_string(wa_node_add(reg, "companion_platform_id"),
                       self->cfg.platform);
    wa_node_set_string(wa_node_add(reg, "companion_platform_display"),
                       self->cfg.platform_display);
    wa_node_set_string(wa_node_add(reg, "link_code_pairing_nonce"), "0");
    self->pc_sent = true;
    self->qr_deadline = -1;
    self->pc_deadline = wa_client_now(self) + self->cfg.pair_code_timeout_ms;
    wa_client_request(self, &iq, s_on_pair_hello, self);
}

static void
s_on_pair_finish(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_client_t *self = (wa_client_t *)arg;
    if (outcome == WA_IQ_ERROR || outcome == WA_IQ_TIMEOUT) {
        char *reason = cm_sprintf("pair code confirmation failed: %d",
                                  wa_iq_error_code(reply));
        s_pair_code_reset(self);
        s_status(self, WA_CLIENT_PAIR_CODE_FAILED, reason, 0);
        free(reason);
    }
}

//  The phone entered our code: derive the ADV secret and finish.
static int
s_on_pair_code_notification(wa_client_t *self, const wa_node_t *node)
{
    const wa_node_t *reg = wa_node_child(node, "link_code_companion_reg");
    size_t ref_len = 0;
    size_t wrapped_len = 0;
    size_t pid_len = 0;
    const uint8_t *ref =
        s_bytes(wa_node_child(reg, "link_code_pairing_ref"), &ref_len);
    const uint8_t *wrapped = s_bytes(
        wa_node_child(reg, "link_code_pairing_wrapped_primary_ephemeral_pub"),
        &wrapped_len);
    const uint8_t *pid =
        s_bytes(wa_node_child(reg, "primary_identity_pub"), &pid_len);
    if (!self->pc_wanted || !self->pc_ref || !ref ||
        ref_len != self->pc_ref_len ||
        memcmp(ref, self->pc_ref, ref_len) != 0 || !wrapped || !pid ||
        pid_len != 32) {
        cm_log_warn("could not use pair code notification", "session=%s",
                    wa_client_name(self));
        return -1;
    }
    uint8_t primary_eph[32];
    uint8_t id_priv[32];
    uint8_t id_pub[32];
    uint32_t reg_id = 0;
    uint8_t bundle[WA_PAIR_BUNDLE_LEN];
    uint8_t adv[32];
    if (wa_pair_code_unwrap(self->pc_code, wrapped, wrapped_len, primary_eph) !=
            0 ||
        wa_sigstore_identity(self->store, id_priv, id_pub, &reg_id) != 0 ||
        wa_pair_code_finish(self->pc_priv, primary_eph, id_priv, id_pub, pid,
                            bundle, adv) != 0) {
        wa_crypto_wipe(id_priv, sizeof id_priv);
        cm_log_warn("could not finish pair code", "session=%s",
                    wa_client_name(self));
        return -1;
    }
    wa_crypto_wipe(id_priv, sizeof id_priv);
    memcpy(self->adv_secret, adv, 32);
    wa_crypto_wipe(adv, sizeof adv);
    wa_client_creds_changed(self);
    wa_node_t *iq = s_iq_node("set", "md");
    wa_node_t *fin = wa_node_add(iq, "link_code_companion_reg");
    char *jid = cm_sprintf("%s@s.whatsapp.net", self->pc_phone);
    wa_node_set_attr(fin, "jid", jid);
    free(jid);
    wa_node_set_attr(fin, "stage", "companion_finish");
    wa_node_set_bytes(wa_node_add(fin, "link_code_pairing_wrapped_key_bundle"),
                      bundle, sizeof bundle);
    wa_node_set_bytes(wa_node_add(fin, "companion_identity_public"), id_pub,
                      32);
    wa_node_set_bytes(wa_node_add(fin, "link_code_pairing_ref"), self->pc_ref,
                      self->pc_ref_len);
    wa_client_request(self, &iq, s_on_pair_finish, self);
    return 0;
}

static int
s_on_success(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    if (self->conn != WA_CLIENT_CONN_LOGIN) {
        cm_log_warn("unexpected success stanza", "session=%s",
                    wa_client_name(self));
        return 0;
    }
    const char *lid = wa_node_attr(node, "lid");
    if (lid && !self->me_lid) {
        wa_jid_t *j = wa_jid_new_from(lid);
        if (j && wa_jid_is_lid(j)) {
            wa_jid_t *d = wa_jid_new_parts(wa_jid_user(j), WA_JID_SERVER_LID,
                                           (uint16_t)self->me_device);
            if (d) {
                s_set_str(&self->me_lid, wa_jid_str(d));
                s_derive_me(self);
                wa_client_creds_changed(self);
            }
            wa_jid_destroy(&d);
        }
        wa_jid_destroy(&j);
    }
    self->conn = WA_CLIENT_CONN_ONLINE;
    wa_node_t *count = wa_keys_count_query();
    wa_client_request(self, &count, s_on_count, self);
    wa_node_t *active = s_iq_node("set", "passive");
    wa_node_add(active, "active");
    wa_client_request(self, &active, s_iq_ignore, NULL);
    wa_node_t *presence = wa_node_new("presence");
    wa_node_set_attr(presence, "type", "available");
    if (self->push_name) {
        wa_node_set_attr(presence, "name", self->push_name);
    }
    wa_client_send_node(self, &presence);
    cm_log_info("logged in", "session=%s jid=%s", wa_client_name(self),
                self->me_jid);
    self->online_reported = true;
    s_status(self, WA_CLIENT_WORKING, NULL, 0);
    return 0;
}

static int
s_on_failure(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    int64_t reason = wa_node_attr_int_or(node, "reason", 0);
    const char *text;
    wa_client_state_t state = WA_CLIENT_RETRY;
    switch (reason) {
    case 401:
        text = "logged out from another device";
        state = WA_CLIENT_LOGGED_OUT;
        break;
    case 403:
        text = "account locked or main device gone";
        state = WA_CLIENT_LOGGED_OUT;
        break;
    case 406:
        text = "account banned or unknown logout";
        state = WA_CLIENT_LOGGED_OUT;
        break;
    case 402:
        text = "account temporarily banned";
        break;
    case 405:
        //  Retrying with the same version meets the same answer
        //  (whatsmeow ConnectFailureClientOutdated): stop, say which
        text = "client version outdated";
        state = WA_CLIENT_OUTDATED;
        break;
    case 409:
        text = "bad user agent";
        break;
    default:
        text = "login failed";
        break;
    }
    char *reason_text =
        state == WA_CLIENT_OUTDATED
            ? cm_sprintf("WhatsApp refused client version %s as outdated "
                         "(failure 405): set WA_WEB_VERSION to the current "
                         "WhatsApp Web version and restart the session",
                         wa_payload_version(self->payload))
            : cm_sprintf("%s (failure %lld)", text, (long long)reason);
    s_close(self, state, reason_text, (int)reason);
    free(reason_text);
    return 0;
}

static int
s_on_stream_error(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    int64_t code = wa_node_attr_int_or(node, "code", 0);
    const wa_node_t *conflict = wa_node_child(node, "conflict");
    const char *ctype = conflict ? wa_node_attr_or(conflict, "type", "") : "";
    if (code == 515) {
        s_close(self, WA_CLIENT_RESTART, "restart required", 515);
    } else if (cm_streq(ctype, "replaced")) {
        s_close(self, WA_CLIENT_CONFLICT, "replaced by another connection",
                (int)code);
    } else if (code == 401 || cm_streq(ctype, "device_removed")) {
        s_close(self, WA_CLIENT_LOGGED_OUT, "device removed", (int)code);
    } else {
        char *reason = cm_sprintf("stream error %lld", (long long)code);
        s_close(self, WA_CLIENT_RETRY, reason, (int)code);
        free(reason);
    }
    return 0;
}

static int
s_on_stream_end(void *arg, const wa_node_t *node)
{
    (void)node;
    s_close((wa_client_t *)arg, WA_CLIENT_RETRY, "server ended the stream", 0);
    return 0;
}

//  <iq type="get" xmlns="urn:xmpp:ping">: the server checks we are alive.
static int
s_on_ping(void *arg, const wa_node_t *node)
{
    if (!wa_node_attr_eq(node, "type", "get")) {
        return -1;
    }
    s_iq_result((wa_client_t *)arg, node);
    return 0;
}

//  <iq type="set" xmlns="md">: pairing (pair-device, pair-success).
static int
s_on_md(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const char *type = wa_node_attr_or(node, "type", "");
    const wa_node_t *child = wa_node_child(node, NULL);
    //  The server JID; a bare "s.whatsapp.net" parses to it as well
    bool from_server = wa_node_attr_eq(node, "from", "@s.whatsapp.net") ||
                       wa_node_attr_eq(node, "from", "s.whatsapp.net") ||
                       !wa_node_attr(node, "from");
    if (!cm_streq(type, "set") || !child || !from_server) {
        return -1;
    }
    if (wa_node_is(child, "pair-device") &&
        self->conn == WA_CLIENT_CONN_UNPAIRED && !self->paired) {
        return s_on_pair_device(self, node, child);
    }
    if (wa_node_is(child, "pair-success") &&
        self->conn == WA_CLIENT_CONN_UNPAIRED && !self->paired) {
        return s_on_pair_success(self, node, child);
    }
    cm_log_debug("unhandled server iq", "session=%s child=%s",
                 wa_client_name(self), wa_node_tag(child));
    return -1;
}

//  <notification type="encrypt"><count value/>: the server runs low on
//  our one-time prekeys.
static int
s_on_prekey_count(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const wa_node_t *count = wa_node_child(node, "count");
    int64_t value = -1;
    if (count && wa_node_attr_int(count, "value", &value) == 0 && value >= 0 &&
        value < self->cfg.prekey_min) {
        s_upload_prekeys(self);
    }
    return 0;
}

//  <notification type="link_code_companion_reg">: see
//  s_on_pair_code_notification.
static int
s_on_link_code(void *arg, const wa_node_t *node)
{
    s_on_pair_code_notification((wa_client_t *)arg, node);
    return 0;
}

static int
s_on_ib(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    if (wa_node_child(node, "offline_preview")) {
        wa_node_t *ib = wa_node_new("ib");
        wa_node_set_attr(wa_node_add(ib, "offline_batch"), "count", "100");
        wa_client_send_node(self, &ib);
    }
    const wa_node_t *dirty = wa_node_child(node, "dirty");
    if (dirty && wa_node_attr(dirty, "type")) {
        wa_node_t *iq = s_iq_node("set", "urn:xmpp:whatsapp:dirty");
        wa_node_t *clean = wa_node_add(iq, "clean");
        wa_node_set_attr(clean, "type", wa_node_attr(dirty, "type"));
        wa_node_set_attr(clean, "timestamp",
                         wa_node_attr_or(dirty, "timestamp", "0"));
        wa_client_request(self, &iq, s_iq_ignore, NULL);
    }
    if (wa_node_child(node, "downgrade_webclient")) {
        cm_log_warn("account cannot link companion devices", "session=%s",
                    wa_client_name(self));
    }
    return 0;
}

//  The core's own stanzas; the capability modules add theirs (s_caps).
static const wa_router_route_t s_routes[] = {
    {"success", NULL, NULL, s_on_success},
    {"failure", NULL, NULL, s_on_failure},
    {"stream:error", NULL, NULL, s_on_stream_error},
    {"xmlstreamend", NULL, NULL, s_on_stream_end},
    {"iq", "xmlns", "urn:xmpp:ping", s_on_ping},
    {"iq", "xmlns", "md", s_on_md},
    {"notification", "type", "encrypt", s_on_prekey_count},
    {"notification", "type", "link_code_companion_reg", s_on_link_code},
    {"ib", NULL, NULL, s_on_ib},
    {NULL, NULL, NULL, NULL}};

//  The core's routes, then every capability module's.
static wa_router_t *
s_router_new(void)
{
    wa_router_t *router = wa_router_new();
    int rc = wa_router_add(router, s_routes);
    assert(rc == 0);
    for (size_t i = 0; s_caps[i]; i++) {
        //  Two modules routing the same stanza is a bug
        rc = wa_router_add(router, s_caps[i]->routes);
        assert(rc == 0);
    }
    return router;
}

//  A stanza no module routes. The server waits for an ack of messages,
//  receipts, notifications and calls (wa-protocol.md §6.1): send it (for
//  notifications wa_client_handle does), so that it does not deliver them
//  again; anything else is dropped.
static int
s_on_unrouted(wa_client_t *self, const wa_node_t *node)
{
    const char *tag = wa_node_tag(node);
    cm_log_debug("unhandled stanza", "session=%s tag=%s type=%s xmlns=%s",
                 wa_client_name(self), tag, wa_node_attr_or(node, "type", ""),
                 wa_node_attr_or(node, "xmlns", ""));
    if (cm_streq(tag, "message") || cm_streq(tag, "receipt") ||
        cm_streq(tag, "call")) {
        wa_node_t *ack = wa_recv_ack(node, 0);
        wa_client_send_node(self, &ack);
    }
    //  An IQ nobody answers was unexpected
    return cm_streq(tag, "iq") ? -1 : 0;
}

int
wa_client_handle(wa_client_t *self, const wa_node_t *node)
{
    if (!node || !wa_client_live(self)) {
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->see) {
            s_caps[i]->see(self, node);
        }
    }
    //  Replies to our own requests go to their waiters
    if (!wa_node_is(node, "iq") || !wa_iq_dispatch(self->iq, node)) {
        wa_router_fn *fn = wa_router_lookup(self->router, node);
        rc = fn ? fn(self, node) : s_on_unrouted(self, node);
    }
    //  Every notification is acknowledged, after its handler (handlers
    //  never ack notifications themselves)
    if (wa_node_is(node, "notification")) {
        wa_node_t *ack = wa_recv_ack(node, 0);
        wa_client_send_node(self, &ack);
    }
    wa_client_rearm(self);
    return rc;
}

void
wa_client_wake(wa_client_t *self)
{
    int64_t now = wa_client_now(self);
    self->armed = -1;
    wa_iq_expire(self->iq, now);
    if (self->qr_deadline >= 0 && now >= self->qr_deadline &&
        wa_client_live(self)) {
        self->qr_deadline = -1;
        if (self->ref_at + 1 < self->nrefs) {
            self->ref_at++;
            s_show_qr(self, self->cfg.qr_next_ms);
        } else {
            s_close(self, WA_CLIENT_QR_EXPIRED,
                    "QR code was not scanned in time", 0);
        }
    }
    if (self->pc_deadline >= 0 && now >= self->pc_deadline &&
        wa_client_live(self)) {
        self->pc_deadline = -1;
        s_close(self, WA_CLIENT_QR_EXPIRED,
                "pairing code was not entered in time", 0);
    }
    if (self->ka_due >= 0 && now >= self->ka_due && wa_client_live(self) &&
        !self->ka_inflight) {
        s_keepalive(self);
    }
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->wake) {
            s_caps[i]->wake(self, now);
        }
    }
    wa_client_rearm(self);
}

//  ---------------------------------------------------------------------
//  Actions

int
wa_client_request_pair_code(wa_client_t *self, const char *phone,
                            char code[WA_CLIENT_CODE_MAX])
{
    if (self->paired || !phone) {
        return -1;
    }
    char digits[32];
    size_t n = 0;
    for (const char *p = phone; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n >= 20) {
                return -1;
            }
            digits[n++] = *p;
        } else if (!strchr("+ -().", *p)) {
            return -1;
        }
    }
    digits[n] = 0;
    if (n < 7 || digits[0] == '0' || s_ensure_creds(self) != 0) {
        return -1;
    }
    s_pair_code_reset(self);
    if (wa_pair_code_generate(self->pc_code) != 0 ||
        wa_x25519_keypair(self->pc_priv, self->pc_pub) != 0) {
        return -1;
    }
    self->pc_phone = cm_strdup(digits);
    self->pc_wanted = true;
    char shown[WA_PAIR_CODE_LEN + 2];
    wa_pair_code_display(self->pc_code, shown);
    snprintf(code, WA_CLIENT_CODE_MAX, "%s", shown);
    if (self->conn == WA_CLIENT_CONN_UNPAIRED) {
        s_pair_hello(self);
    }
    wa_client_rearm(self);
    return 0;
}

int
wa_client_send_message(wa_client_t *self, const char *chat, const uint8_t *msg,
                       size_t len, char id[WA_CLIENT_ID_MAX])
{
    return wa_outbox_send_message(self, chat, msg, len, id);
}

int
wa_client_send_post(wa_client_t *self, const char *chat, const uint8_t *msg,
                    size_t len, const char *media_id, char id[WA_CLIENT_ID_MAX])
{
    return wa_outbox_send_post(self, chat, msg, len, media_id, id);
}

int
wa_client_send_text(wa_client_t *self, const char *chat, const char *text,
                    const char *reply_id, const char *reply_participant,
                    char id[WA_CLIENT_ID_MAX])
{
    return wa_outbox_send_text(self, chat, text, reply_id, reply_participant,
                               id);
}

int
wa_client_send_seen(wa_client_t *self, const char *chat,
                    const char *participant, const char *const *ids,
                    size_t count, bool played)
{
    return wa_inbox_send_seen(self, chat, participant, ids, count, played);
}

int
wa_client_send_protocol_receipt(wa_client_t *self, const char *id,
                                const char *type)
{
    assert(self);
    if (!id || !*id || strlen(id) >= WA_CLIENT_ID_MAX || !type || !*type ||
        !self->me_pn_user) {
        return -1;
    }
    wa_node_t *r = wa_node_new("receipt");
    wa_node_set_attr(r, "id", id);
    wa_node_set_attr(r, "type", type);
    wa_node_set_attr(r, "to", self->me_pn_user);
    return wa_client_send_node(self, &r);
}

int
wa_client_send_history_retry(wa_client_t *self, const char *id,
                             const uint8_t *media_key, size_t key_len)
{
    assert(self);
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    uint8_t iv[12];
    if (!id || !*id || strlen(id) >= WA_CLIENT_ID_MAX || !self->me_pn_user ||
        wa_history_retry_seal(media_key, key_len, id, &enc, &enc_len, iv) !=
            0) {
        return -1;
    }
    wa_node_t *r = wa_node_new("receipt");
    wa_node_set_attr(r, "id", id);
    wa_node_set_attr(r, "type", "server-error");
    wa_node_set_attr(r, "to", self->me_pn_user);
    wa_node_set_attr(r, "category", "peer");
    wa_node_t *e = wa_node_add(r, "encrypt");
    wa_node_set_bytes(wa_node_add(e, "enc_p"), enc, enc_len);
    wa_node_set_bytes(wa_node_add(e, "enc_iv"), iv, sizeof iv);
    free(enc);
    return wa_client_send_node(self, &r);
}

int
wa_client_receipt_commit(wa_client_t *self, uint64_t token)
{
    return wa_inbox_commit(self, token);
}

int
wa_client_iq(wa_client_t *self, wa_node_t **iq_p, wa_iq_fn *fn, void *arg)
{
    assert(fn);
    if (!iq_p || !*iq_p || self->conn != WA_CLIENT_CONN_ONLINE ||
        !wa_node_is(*iq_p, "iq")) {
        wa_node_destroy(iq_p);
        return -1;
    }
    if (!wa_node_attr(*iq_p, "to")) {
        wa_node_set_attr(*iq_p, "to", "@s.whatsapp.net");
    }
    int rc = wa_client_request(self, iq_p, fn, arg);
    wa_client_rearm(self);
    return rc;
}

static void
s_on_logout(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_client_t *self = (wa_client_t *)arg;
    (void)reply;
    if (outcome != WA_IQ_CANCELLED) {
        s_close(self, WA_CLIENT_LOGGED_OUT, "logged out", 0);
    }
}

void
wa_client_forget_group(wa_client_t *self, const char *group)
{
    wa_groupcache_forget(self, group);
}

void
wa_client_rotate_group_key(wa_client_t *self, const char *group)
{
    wa_groupcache_rotate(self, group);
}

int
wa_client_logout(wa_client_t *self)
{
    if (!self->paired) {
        return -1;
    }
    if (self->conn == WA_CLIENT_CONN_ONLINE) {
        wa_node_t *iq = s_iq_node("set", "md");
        wa_node_t *rm = wa_node_add(iq, "remove-companion-device");
        wa_node_set_attr(rm, "jid", self->me_jid);
        wa_node_set_attr(rm, "reason", "user_initiated");
        int64_t timeout = self->cfg.iq_timeout_ms < S_LOGOUT_TIMEOUT_MS
                              ? self->cfg.iq_timeout_ms
                              : S_LOGOUT_TIMEOUT_MS;
        if (s_iq_until(self, &iq, timeout, s_on_logout, self) == 0) {
            wa_client_rearm(self);
            return 0;
        }
    }
    s_close(self, WA_CLIENT_LOGGED_OUT, "logged out", 0);
    wa_client_rearm(self);
    return 0;
}

//  ---------------------------------------------------------------------
//  Test support (wa_client_int.h)

static int
s_kit_send(void *arg, const wa_node_t *node)
{
    zlistx_add_end(((wa_client_kit_t *)arg)->out, wa_node_dup(node));
    return 0;
}

static void
s_kit_timer(void *arg, int64_t delay_ms)
{
    wa_client_kit_t *kit = (wa_client_kit_t *)arg;
    kit->deadline = delay_ms < 0 ? -1 : kit->now + delay_ms;
}

static int64_t
s_kit_now(void *arg)
{
    return ((wa_client_kit_t *)arg)->now;
}

static void
s_kit_status(void *arg, const wa_client_status_t *status)
{
    (void)arg;
    (void)status;
}

static bool
s_kit_event(void *arg, const wa_client_event_t *ev)
{
    wa_client_kit_t *kit = (wa_client_kit_t *)arg;
    char *text = NULL;
    if (ev->type == WA_CLIENT_EVENT_MESSAGE) {
        const wa_client_message_t *m = &ev->u.message;
        text = cm_sprintf("message %s %s", m->id, m->body ? m->body : "");
        kit->message_t = m->timestamp;
    } else if (ev->type == WA_CLIENT_EVENT_ACK) {
        text = cm_sprintf("ack %s %d", ev->u.ack.id, ev->u.ack.ack);
    } else if (ev->type == WA_CLIENT_EVENT_PRESENCE) {
        const wa_client_presence_t *p = &ev->u.presence;
        text = cm_sprintf("presence %s %s %s %" PRId64, p->chat, p->participant,
                          p->state, p->last_seen);
    } else if (ev->type == WA_CLIENT_EVENT_WAITING) {
        text =
            cm_sprintf("waiting %s %s", ev->u.waiting.id, ev->u.waiting.chat);
    } else if (ev->type == WA_CLIENT_EVENT_GROUP) {
        const wa_node_t *what = wa_node_child_at(ev->u.group.node, 0);
        text =
            cm_sprintf("group %s %s %s %s", ev->u.group.id, ev->u.group.group,
                       ev->u.group.actor ? ev->u.group.actor : "-",
                       what ? wa_node_tag(what) : "-");
    } else if (ev->type == WA_CLIENT_EVENT_APPSTATE) {
        char *action =
            json_dumps(ev->u.appstate.action, JSON_COMPACT | JSON_SORT_KEYS);
        text = cm_sprintf("appstate %s %s %s", ev->u.appstate.collection,
                          ev->u.appstate.from_me ? "me" : "peer", action);
        free(action);
    } else if (ev->type == WA_CLIENT_EVENT_APPSTATE_PUSHED) {
        text = ev->u.pushed.ok
                   ? cm_sprintf("pushed %s ok", ev->u.pushed.id)
                   : cm_sprintf("pushed %s fail %d", ev->u.pushed.id,
                                ev->u.pushed.error);
    } else if (ev->type == WA_CLIENT_EVENT_APPSTATE_BLOB) {
        text = cm_sprintf("blob %s %s %s", ev->u.blob.id, ev->u.blob.collection,
                          ev->u.blob.direct_path);
    } else if (ev->type == WA_CLIENT_EVENT_CALL) {
        const wa_client_call_t *c = &ev->u.call;
        text = cm_sprintf("call %d %s %s%s", (int)c->kind, c->call_id, c->from,
                          c->is_video ? " video" : "");
    } else if (ev->type == WA_CLIENT_EVENT_PICTURE) {
        text = cm_sprintf("picture %s %s", ev->u.picture.jid,
                          ev->u.picture.id ? ev->u.picture.id : "-");
    } else if (ev->u.sent.ok) {
        text = cm_sprintf("sent %s ok", ev->u.sent.id);
    } else {
        text = cm_sprintf("sent %s %d", ev->u.sent.id, ev->u.sent.error);
    }
    zlistx_add_end(kit->events, text);
    return false;
}

static void
s_kit_lid(void *arg, const char *lid, const char *pn)
{
    wa_client_kit_t *kit = (wa_client_kit_t *)arg;
    zlistx_add_end(kit->lids, cm_sprintf("%s %s", lid, pn));
}

static void
s_kit_node_destroy(void **item_p)
{
    wa_node_destroy((wa_node_t **)item_p);
}

static void
s_kit_text_destroy(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

wa_client_kit_t *
wa_client_kit_new(const char *phone)
{
    wa_client_kit_t *self = cm_alloc(sizeof *self);
    self->out = zlistx_new();
    zlistx_set_destructor(self->out, s_kit_node_destroy);
    self->events = zlistx_new();
    zlistx_set_destructor(self->events, s_kit_text_destroy);
    self->lids = zlistx_new();
    zlistx_set_destructor(self->lids, s_kit_text_destroy);
    self->now = 1000000;
    self->deadline = -1;
    wa_client_ops_t ops = {.send = s_kit_send,
                           .timer = s_kit_timer,
                           .now = s_kit_now,
                           .status = s_kit_status,
                           .event = s_kit_event,
                           .lid = s_kit_lid};
    wa_client_config_t cfg;
    wa_client_config_default(&cfg);
    cfg.name = "kit";
    self->client = wa_client_new(&cfg, &ops, self);
    assert(self->client);
    json_t *creds = wa_client_creds(self->client);
    char *jid = cm_sprintf("%s:1@s.whatsapp.net", phone);
    json_object_set_new(creds, "paired", json_true());
    json_object_set_new(creds, "me_jid", json_string(jid));
    json_object_set_new(creds, "account", json_string("QURWIGlkZW50aXR5"));
    int rc = wa_client_load_creds(self->client, creds);
    assert(rc == 0);
    json_decref(creds);
    free(jid);
    wa_client_connected(self->client);
    rc = wa_client_kit_handle(self, "<success t=\"1700000000\"/>");
    assert(rc == 0 && wa_client_ready(self->client));
    //  What login sent is not the capability tests' business
    zlistx_purge(self->out);
    return self;
}

void
wa_client_kit_destroy(wa_client_kit_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wa_client_kit_t *self = *self_p;
    wa_client_destroy(&self->client);
    zlistx_destroy(&self->out);
    zlistx_destroy(&self->events);
    zlistx_destroy(&self->lids);
    free(self);
    *self_p = NULL;
}

//  A test stanza written as text. Caller owns return value.
static wa_node_t *
s_test_node(const char *text)
{
    char *error = NULL;
    wa_node_t *node = wa_node_new_from_text(text, &error);
    if (!node) {
        fprintf(stderr, "bad test stanza: %s\n", error);
        assert(false);
    }
    return node;
}

int
wa_client_kit_handle(wa_client_kit_t *self, const char *text)
{
    wa_node_t *node = s_test_node(text);
    int rc = wa_client_handle(self->client, node);
    wa_node_destroy(&node);
    return rc;
}

wa_node_t *
wa_client_kit_take(wa_client_kit_t *self, const char *tag)
{
    for (wa_node_t *n = (wa_node_t *)zlistx_first(self->out); n;
         n = (wa_node_t *)zlistx_next(self->out)) {
        if (wa_node_is(n, tag)) {
            return (wa_node_t *)zlistx_detach_cur(self->out);
        }
    }
    return NULL;
}

char *
wa_client_kit_event(wa_client_kit_t *self)
{
    return (char *)zlistx_detach(self->events, NULL);
}

void
wa_client_kit_expect(wa_client_kit_t *self, const char *text)
{
    char *ev = wa_client_kit_event(self);
    if (!cm_streq(ev, text)) {
        fprintf(stderr, "event \"%s\", expected \"%s\"\n", ev ? ev : "", text);
        assert(false);
    }
    free(ev);
}

//  ---------------------------------------------------------------------
//  Self test
//
//  A world holds a clock, test peers (a client plus a record of what it
//  did) and a relay that plays the server for online peers: it answers
//  prekey, usync and group queries, routes messages and receipts between
//  devices and acks messages. The QR and pair code tests script the
//  server by hand instead.

#define T_MAX_PEERS 8
#define T_BASE_T 1700000000

typedef struct _t_world_t t_world_t;

typedef struct {
    char *id;          //  message id
    char *chat;        //  chat
    char *sender;      //  sending device
    char *participant; //  group sender
    char *body;        //  text
    char *reply_to;    //  quoted id
    char *push_name;   //  notify
    bool from_me;      //  own message
    bool is_group;     //  group chat
    uint64_t token;    //  receipt token
} t_msg_t;

typedef struct {
    char *id;          //  message id
    char *participant; //  reader
    int ack;           //  level
} t_ack_t;

typedef struct {
    char *id;  //  message id
    bool ok;   //  taken by the server
    int error; //  error code
} t_sent_t;

typedef struct {
    t_world_t *world;             //  owner
    wa_client_t *client;          //  the client
    char name[32];                //  label
    zlistx_t *out;                //  stanzas the client sent
    int64_t deadline;             //  armed wake-up, -1 none
    wa_client_state_t states[64]; //  status history
    size_t nstates;               //  its length
    char *qr;                     //  last QR
    char *code;                   //  last pair code
    char *reason;                 //  last reason
    char *me_id;                  //  last me_id
    char *me_lid;                 //  last me_lid
    zlistx_t *msgs;               //  t_msg_t
    zlistx_t *acks;               //  t_ack_t
    zlistx_t *sents;              //  t_sent_t
    bool defer;                   //  hold message receipts
    int creds_changes;            //  creds callbacks
    zhashx_t *rows;               //  "kind|key" -> zchunk_t (Signal rows)
    bool online;                  //  connected to the relay
    char *jid;                    //  device JID (relay view)
    char *user;                   //  user JID
    wa_node_t *upload;            //  last prekey upload
    size_t keys_used;             //  prekeys handed out
} t_peer_t;

struct _t_world_t {
    int64_t now;                  //  clock
    t_peer_t *peers[T_MAX_PEERS]; //  peers
    size_t npeers;                //  their number
    zlistx_t *queue;              //  t_delivery_t
    char *group;                  //  the one group
    char *members[4];             //  its member users
    size_t nmembers;              //  their number
    int nack_next;                //  error for the next message ack
    bool last_had_participants;   //  last routed message had some
    bool last_had_identity;       //  and a <device-identity>
    int routed;                   //  messages routed
    bool drop_receipts;           //  swallow receipts (for held tests)
    int keepalive_ms;             //  for new peers
    wa_node_t *last;              //  last message routed
};

typedef struct {
    t_peer_t *to;    //  target
    wa_node_t *node; //  stanza
} t_delivery_t;

static void
t_msg_destroy(void **item_p)
{
    t_msg_t *m = (t_msg_t *)*item_p;
    if (m) {
        free(m->id);
        free(m->chat);
        free(m->sender);
        free(m->participant);
        free(m->body);
        free(m->reply_to);
        free(m->push_name);
        free(m);
        *item_p = NULL;
    }
}

static void
t_ack_destroy(void **item_p)
{
    t_ack_t *a = (t_ack_t *)*item_p;
    if (a) {
        free(a->id);
        free(a->participant);
        free(a);
        *item_p = NULL;
    }
}

static void
t_sent_destroy(void **item_p)
{
    t_sent_t *s = (t_sent_t *)*item_p;
    if (s) {
        free(s->id);
        free(s);
        *item_p = NULL;
    }
}

static void
t_node_destroy(void **item_p)
{
    wa_node_destroy((wa_node_t **)item_p);
}

static void
t_chunk_destroy(void **item_p)
{
    zchunk_destroy((zchunk_t **)item_p);
}

static char *
t_dup(const char *s)
{
    return s ? cm_strdup(s) : NULL;
}

static int
t_send(void *arg, const wa_node_t *node)
{
    t_peer_t *p = (t_peer_t *)arg;
    zlistx_add_end(p->out, wa_node_dup(node));
    return 0;
}

static void
t_timer(void *arg, int64_t delay_ms)
{
    t_peer_t *p = (t_peer_t *)arg;
    p->deadline = delay_ms < 0 ? -1 : p->world->now + delay_ms;
}

static int64_t
t_now(void *arg)
{
    return ((t_peer_t *)arg)->world->now;
}

static void
t_status(void *arg, const wa_client_status_t *st)
{
    t_peer_t *p = (t_peer_t *)arg;
    assert(p->nstates < 64);
    p->states[p->nstates++] = st->state;
    if (st->qr) {
        free(p->qr);
        p->qr = cm_strdup(st->qr);
    }
    if (st->code) {
        free(p->code);
        p->code = cm_strdup(st->code);
    }
    free(p->reason);
    p->reason = t_dup(st->reason);
    if (st->me_id) {
        free(p->me_id);
        free(p->me_lid);
        p->me_id = cm_strdup(st->me_id);
        p->me_lid = t_dup(st->me_lid);
    }
    assert(wa_client_state_closing(st->state) ==
           (st->state >= WA_CLIENT_RESTART));
}

static void
t_creds(void *arg)
{
    ((t_peer_t *)arg)->creds_changes++;
}

static void
t_signal(void *arg, const char *kind, const char *key, const uint8_t *data,
         size_t len)
{
    t_peer_t *p = (t_peer_t *)arg;
    char *k = cm_sprintf("%s|%s", kind, key);
    if (data) {
        zhashx_update(p->rows, k, zchunk_new(data, len));
    } else {
        zhashx_delete(p->rows, k);
    }
    free(k);
}

static bool
t_event(void *arg, const wa_client_event_t *ev)
{
    t_peer_t *p = (t_peer_t *)arg;
    if (ev->type == WA_CLIENT_EVENT_MESSAGE) {
        const wa_client_message_t *m = &ev->u.message;
        t_msg_t *r = cm_alloc(sizeof *r);
        r->id = cm_strdup(m->id);
        r->chat = cm_strdup(m->chat);
        r->sender = cm_strdup(m->sender);
        r->participant = t_dup(m->participant);
        r->body = t_dup(m->body);
        r->reply_to = t_dup(m->reply_to);
        r->push_name = t_dup(m->push_name);
        r->from_me = m->from_me;
        r->is_group = m->is_group;
        r->token = m->token;
        assert(m->message && m->raw && m->raw_len);
        assert(cm_streq(m->type, wa_message_type(m->message)));
        zlistx_add_end(p->msgs, r);
        return p->defer;
    }
    if (ev->type != WA_CLIENT_EVENT_SENT && ev->type != WA_CLIENT_EVENT_ACK) {
        return false; //  presence, waiting: other modules' tests
    }
    if (ev->type == WA_CLIENT_EVENT_ACK) {
        t_ack_t *a = cm_alloc(sizeof *a);
        a->id = cm_strdup(ev->u.ack.id);
        a->participant = t_dup(ev->u.ack.participant);
        a->ack = ev->u.ack.ack;
        zlistx_add_end(p->acks, a);
        return false;
    }
    if (ev->type == WA_CLIENT_EVENT_GROUP) {
        return false; //  wa_groupcache's self-test checks these
    }
    t_sent_t *s = cm_alloc(sizeof *s);
    s->id = cm_strdup(ev->u.sent.id);
    s->ok = ev->u.sent.ok;
    s->error = ev->u.sent.error;
    assert(s->ok || ev->u.sent.reason);
    zlistx_add_end(p->sents, s);
    return false;
}

static t_world_t *
t_world_new(void)
{
    t_world_t *w = cm_alloc(sizeof *w);
    w->now = 1000000;
    w->queue = zlistx_new();
    w->keepalive_ms = 30000;
    return w;
}

static t_peer_t *
t_peer_new(t_world_t *w, const char *name)
{
    assert(w->npeers < T_MAX_PEERS);
    t_peer_t *p = cm_alloc(sizeof *p);
    p->world = w;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->out = zlistx_new();
    zlistx_set_destructor(p->out, t_node_destroy);
    p->msgs = zlistx_new();
    zlistx_set_destructor(p->msgs, t_msg_destroy);
    p->acks = zlistx_new();
    zlistx_set_destructor(p->acks, t_ack_destroy);
    p->sents = zlistx_new();
    zlistx_set_destructor(p->sents, t_sent_destroy);
    p->rows = zhashx_new();
    zhashx_set_destructor(p->rows, t_chunk_destroy);
    p->deadline = -1;
    wa_client_config_t cfg;
    wa_client_config_default(&cfg);
    cfg.name = name;
    cfg.keepalive_ms = w->keepalive_ms;
    cfg.keepalive_timeout_ms = 5000;
    cfg.iq_timeout_ms = 10000;
    cfg.send_timeout_ms = 20000;
    wa_client_ops_t ops = {.send = t_send,
                           .timer = t_timer,
                           .now = t_now,
                           .status = t_status,
                           .creds = t_creds,
                           .signal = t_signal,
                           .event = t_event};
    p->client = wa_client_new(&cfg, &ops, p);
    assert(p->client);
    w->peers[w->npeers++] = p;
    return p;
}

static void
t_peer_destroy(t_peer_t **p_p)
{
    t_peer_t *p = *p_p;
    wa_client_destroy(&p->client);
    zlistx_destroy(&p->out);
    zlistx_destroy(&p->msgs);
    zlistx_destroy(&p->acks);
    zlistx_destroy(&p->sents);
    zhashx_destroy(&p->rows);
    wa_node_destroy(&p->upload);
    free(p->qr);
    free(p->code);
    free(p->reason);
    free(p->me_id);
    free(p->me_lid);
    free(p->jid);
    free(p->user);
    free(p);
    *p_p = NULL;
}

static void
t_world_destroy(t_world_t **w_p)
{
    t_world_t *w = *w_p;
    for (size_t i = 0; i < w->npeers; i++) {
        t_peer_destroy(&w->peers[i]);
    }
    t_delivery_t *d;
    while ((d = (t_delivery_t *)zlistx_detach(w->queue, NULL))) {
        wa_node_destroy(&d->node);
        free(d);
    }
    zlistx_destroy(&w->queue);
    wa_node_destroy(&w->last);
    free(w->group);
    for (size_t i = 0; i < w->nmembers; i++) {
        free(w->members[i]);
    }
    free(w);
    *w_p = NULL;
}

static wa_client_state_t
t_last_state(t_peer_t *p)
{
    assert(p->nstates > 0);
    return p->states[p->nstates - 1];
}

//  Fire every due wake-up once. Returns true if any fired.
static bool
t_fire_due(t_world_t *w)
{
    bool any = false;
    for (size_t i = 0; i < w->npeers; i++) {
        t_peer_t *p = w->peers[i];
        if (p->client && p->deadline >= 0 && p->deadline <= w->now) {
            p->deadline = -1;
            wa_client_wake(p->client);
            any = true;
        }
    }
    return any;
}

//  Move the clock forward by ms, firing wake-ups in time order.
static void
t_advance(t_world_t *w, int64_t ms)
{
    int64_t target = w->now + ms;
    for (;;) {
        int64_t next = -1;
        for (size_t i = 0; i < w->npeers; i++) {
            int64_t d = w->peers[i]->deadline;
            if (d >= 0 && d <= target && (next < 0 || d < next)) {
                next = d;
            }
        }
        if (next < 0) {
            break;
        }
        if (next > w->now) {
            w->now = next;
        }
        t_fire_due(w);
    }
    w->now = target;
}

//  The first stanza in p's output with `tag` (and child `child` when
//  not NULL), detached (caller owns), or NULL.
static wa_node_t *
t_take(t_peer_t *p, const char *tag, const char *child)
{
    for (wa_node_t *n = (wa_node_t *)zlistx_first(p->out); n;
         n = (wa_node_t *)zlistx_next(p->out)) {
        if (wa_node_is(n, tag) && (!child || wa_node_child(n, child))) {
            return (wa_node_t *)zlistx_detach_cur(p->out);
        }
    }
    return NULL;
}

static void
t_handle_text(t_peer_t *p, const char *text)
{
    wa_node_t *n = s_test_node(text);
    wa_client_handle(p->client, n);
    wa_node_destroy(&n);
}

static wa_node_t *
t_result_for(const wa_node_t *iq)
{
    wa_node_t *r = wa_node_new("iq");
    wa_node_set_attr(r, "from", wa_node_attr_or(iq, "to", "@s.whatsapp.net"));
    wa_node_set_attr(r, "id", wa_node_attr_or(iq, "id", ""));
    wa_node_set_attr(r, "type", "result");
    return r;
}

//  ---------------------------------------------------------------------
//  Relay

static t_peer_t *
t_find_device(t_world_t *w, const char *jid)
{
    for (size_t i = 0; jid && i < w->npeers; i++) {
        if (w->peers[i]->jid && cm_streq(w->peers[i]->jid, jid)) {
            return w->peers[i];
        }
    }
    return NULL;
}

static void
t_deliver(t_world_t *w, t_peer_t *to, wa_node_t **node_p)
{
    t_delivery_t *d = cm_alloc(sizeof *d);
    d->to = to;
    d->node = *node_p;
    *node_p = NULL;
    zlistx_add_end(w->queue, d);
}

static void
t_append_dup(wa_node_t *parent, const wa_node_t *child)
{
    if (child) {
        wa_node_t *c = wa_node_dup(child);
        wa_node_append(parent, &c);
    }
}

//  The account key of a phone number in this world (its primary's
//  identity; t_peer_paired signs each device's identity with it).
static void
t_account_key(const char *phone, size_t len, uint8_t priv[32], uint8_t pub[32])
{
    assert(wa_sha256(phone, len, priv) == 0);
    priv[0] &= 248;
    priv[31] = (priv[31] & 127) | 64;
    assert(wa_x25519_public(priv, pub) == 0);
}

//  The bundle of the primary (device 0, no client here) of a user the
//  world has devices of: its identity is the account key. Added to
//  `user`; false when jid is no such primary.
static bool
t_primary_bundle(t_world_t *w, const char *jid, wa_node_t *user)
{
    wa_jid_t *j = jid ? wa_jid_new_from(jid) : NULL;
    bool ok = j && wa_jid_device(j) == 0 && wa_jid_is_pn(j);
    bool known = false;
    for (size_t i = 0; ok && i < w->npeers; i++) {
        known = known || (w->peers[i]->user &&
                          cm_streq(w->peers[i]->user, wa_jid_str(j)));
    }
    if (ok && known) {
        const char *phone = wa_jid_user(j);
        uint8_t priv[32], pub[32], spriv[32], spub[32], sig[64];
        uint8_t djb[WA_DJB_KEY_LEN], reg[4] = {0, 0, 0, 9}, type = 5;
        t_account_key(phone, strlen(phone), priv, pub);
        assert(wa_x25519_keypair(spriv, spub) == 0);
        wa_signal_djb_encode(spub, djb);
        assert(wa_xeddsa_sign(priv, djb, sizeof djb, sig) == 0);
        wa_node_set_bytes(wa_node_add(user, "registration"), reg, 4);
        wa_node_set_bytes(wa_node_add(user, "type"), &type, 1);
        wa_node_set_bytes(wa_node_add(user, "identity"), pub, 32);
        wa_node_t *skey = wa_keys_key_node("skey", 1, spub, sig);
        wa_node_append(user, &skey);
    }
    wa_jid_destroy(&j);
    return ok && known;
}

static void
t_relay_iq(t_world_t *w, t_peer_t *p, const wa_node_t *iq)
{
    const char *type = wa_node_attr_or(iq, "type", "");
    if (!cm_streq(type, "get") && !cm_streq(type, "set")) {
        return;
    }
    const char *xmlns = wa_node_attr_or(iq, "xmlns", "");
    wa_node_t *r = t_result_for(iq);
    if (cm_streq(xmlns, "encrypt") && wa_node_child(iq, "list")) {
        wa_node_destroy(&p->upload);
        p->upload = wa_node_dup(iq);
        p->keys_used = 0;
    } else if (cm_streq(xmlns, "encrypt") && wa_node_child(iq, "count")) {
        size_t have =
            p->upload ? wa_node_child_count(wa_node_child(p->upload, "list"))
                      : 0;
        wa_node_set_attr_int(wa_node_add(r, "count"), "value",
                             (int64_t)(have - p->keys_used));
    } else if (cm_streq(xmlns, "encrypt") && wa_node_child(iq, "key")) {
        wa_node_t *list = wa_node_add(r, "list");
        const wa_node_t *u = NULL;
        while ((u = wa_node_child_next(wa_node_child(iq, "key"), "user", u))) {
            const char *jid = wa_node_attr(u, "jid");
            t_peer_t *t = t_find_device(w, jid);
            wa_node_t *user = wa_node_add(list, "user");
            wa_node_set_attr(user, "jid", jid);
            if (!t && t_primary_bundle(w, jid, user)) {
                continue; //  a phone the world has no client for
            }
            if (!t || !t->upload) {
                wa_node_set_attr(wa_node_add(user, "error"), "code", "404");
                continue;
            }
            t_append_dup(user, wa_node_child(t->upload, "registration"));
            t_append_dup(user, wa_node_child(t->upload, "type"));
            t_append_dup(user, wa_node_child(t->upload, "identity"));
            const wa_node_t *keys = wa_node_child(t->upload, "list");
            if (t->keys_used < wa_node_child_count(keys)) {
                t_append_dup(user, wa_node_child_at(keys, t->keys_used++));
            }
            t_append_dup(user, wa_node_child(t->upload, "skey"));
        }
    } else if (cm_streq(xmlns, "usync")) {
        wa_node_t *list = wa_node_add(wa_node_add(r, "usync"), "list");
        const wa_node_t *u = NULL;
        while ((u = wa_node_child_next(wa_node_find(iq, "usync/list"), "user",
                                       u))) {
            const char *jid = wa_node_attr(u, "jid");
            wa_node_t *user = wa_node_add(list, "user");
            wa_node_set_attr(user, "jid", jid);
            wa_node_t *dl =
                wa_node_add(wa_node_add(user, "devices"), "device-list");
            wa_node_set_list(dl);
            for (size_t i = 0; i < w->npeers; i++) {
                t_peer_t *d = w->peers[i];
                if (d->user && cm_streq(d->user, jid)) {
                    wa_jid_t *j = wa_jid_new_from(d->jid);
                    wa_node_set_attr_int(wa_node_add(dl, "device"), "id",
                                         wa_jid_device(j));
                    wa_jid_destroy(&j);
                }
            }
        }
    } else if (cm_streq(xmlns, "w:g2")) {
        if (w->group && wa_node_attr_eq(iq, "to", w->group)) {
            wa_node_t *g = wa_node_add(r, "group");
            wa_node_set_attr(g, "subject", "Test group");
            wa_node_set_attr(g, "addressing_mode", "pn");
            for (size_t i = 0; i < w->nmembers; i++) {
                wa_node_set_attr(wa_node_add(g, "participant"), "jid",
                                 w->members[i]);
            }
        } else {
            wa_node_set_attr(r, "type", "error");
            wa_node_set_attr(wa_node_add(r, "error"), "code", "404");
        }
    }
    t_deliver(w, p, &r);
}

//  A delivered message's envelope as the relay writes it.
static wa_node_t *
t_envelope(t_world_t *w, t_peer_t *p, const wa_node_t *m, bool group)
{
    wa_node_t *e = wa_node_new("message");
    wa_node_set_attr(e, "id", wa_node_attr_or(m, "id", ""));
    wa_node_set_attr(e, "from", group ? wa_node_attr(m, "to") : p->jid);
    if (group) {
        wa_node_set_attr(e, "participant", p->jid);
    }
    wa_node_set_attr_int(e, "t", T_BASE_T + w->now / 1000);
    wa_node_set_attr(e, "notify", p->name);
    wa_node_set_attr(e, "type", wa_node_attr_or(m, "type", "text"));
    return e;
}

static bool
t_same_user(const char *a, const char *b)
{
    wa_jid_t *ja = a ? wa_jid_new_from(a) : NULL;
    wa_jid_t *jb = b ? wa_jid_new_from(b) : NULL;
    bool same = ja && jb && wa_jid_same_user(ja, jb);
    wa_jid_destroy(&ja);
    wa_jid_destroy(&jb);
    return same;
}

static void
t_relay_message(t_world_t *w, t_peer_t *p, const wa_node_t *m)
{
    const char *to = wa_node_attr_or(m, "to", "");
    const char *id = wa_node_attr_or(m, "id", "");
    w->routed++;
    wa_node_t *ack = wa_node_new("ack");
    wa_node_set_attr(ack, "class", "message");
    wa_node_set_attr(ack, "id", id);
    wa_node_set_attr(ack, "from", to);
    wa_node_set_attr_int(ack, "t", T_BASE_T + w->now / 1000);
    if (w->nack_next) {
        wa_node_set_attr_int(ack, "error", w->nack_next);
        w->nack_next = 0;
        t_deliver(w, p, &ack);
        return;
    }
    bool group = w->group && cm_streq(to, w->group);
    const wa_node_t *participants = wa_node_child(m, "participants");
    const wa_node_t *identity = wa_node_child(m, "device-identity");
    const wa_node_t *skmsg = NULL;
    const wa_node_t *direct = NULL;
    const wa_node_t *enc = NULL;
    while ((enc = wa_node_child_next(m, "enc", enc))) {
        if (wa_node_attr_eq(enc, "type", "skmsg")) {
            skmsg = enc;
        } else {
            direct = enc;
        }
    }
    w->last_had_participants = participants != NULL;
    w->last_had_identity = identity != NULL;
    wa_node_destroy(&w->last);
    w->last = wa_node_dup(m);
    t_peer_t *done[T_MAX_PEERS] = {0};
    size_t ndone = 0;
    const wa_node_t *t = NULL;
    while (participants && (t = wa_node_child_next(participants, "to", t))) {
        t_peer_t *target = t_find_device(w, wa_node_attr(t, "jid"));
        if (!target) {
            continue;
        }
        wa_node_t *e = t_envelope(w, p, m, group);
        if (!group && t_same_user(target->jid, p->jid)) {
            wa_node_set_attr(e, "recipient", to);
        }
        t_append_dup(e, wa_node_child(t, "enc"));
        t_append_dup(e, skmsg);
        t_append_dup(e, identity);
        t_deliver(w, target, &e);
        done[ndone++] = target;
    }
    if (group && skmsg) {
        for (size_t i = 0; i < w->npeers; i++) {
            t_peer_t *d = w->peers[i];
            bool member = false;
            for (size_t k = 0; k < w->nmembers && d->user; k++) {
                member |= cm_streq(w->members[k], d->user);
            }
            bool seen = d == p;
            for (size_t k = 0; k < ndone; k++) {
                seen |= done[k] == d;
            }
            if (member && !seen) {
                wa_node_t *e = t_envelope(w, p, m, group);
                t_append_dup(e, skmsg);
                t_deliver(w, d, &e);
            }
        }
    }
    if (direct && !participants) {
        //  A resend for one device
        t_peer_t *target =
            t_find_device(w, group ? wa_node_attr(m, "participant") : to);
        if (target) {
            wa_node_t *e = t_envelope(w, p, m, group);
            const char *recipient = wa_node_attr(m, "recipient");
            if (recipient) {
                wa_node_set_attr(e, "recipient", recipient);
            }
            t_append_dup(e, direct);
            t_append_dup(e, identity);
            t_deliver(w, target, &e);
        }
    }
    t_deliver(w, p, &ack);
}

static void
t_relay_receipt(t_world_t *w, t_peer_t *p, const wa_node_t *r)
{
    if (w->drop_receipts && !wa_node_attr_eq(r, "type", "retry")) {
        return;
    }
    const char *to = wa_node_attr_or(r, "to", "");
    bool group = w->group && cm_streq(to, w->group);
    const char *target = group ? wa_node_attr(r, "participant") : to;
    for (size_t i = 0; i < w->npeers; i++) {
        t_peer_t *d = w->peers[i];
        if (d == p || !d->jid ||
            !(cm_streq(d->jid, target) ||
              (d->user && cm_streq(d->user, target)))) {
            continue;
        }
        wa_node_t *e = wa_node_new("receipt");
        wa_node_set_attr(e, "id", wa_node_attr_or(r, "id", ""));
        wa_node_set_attr(e, "from", group ? to : p->jid);
        if (group) {
            wa_node_set_attr(e, "participant", p->jid);
        }
        const char *keys[] = {"type", "recipient", "t"};
        for (size_t k = 0; k < 3; k++) {
            const char *v = wa_node_attr(r, keys[k]);
            if (v) {
                wa_node_set_attr(e, keys[k], v);
            }
        }
        for (size_t k = 0; k < wa_node_child_count(r); k++) {
            t_append_dup(e, wa_node_child_at(r, k));
        }
        t_deliver(w, d, &e);
    }
}

static void
t_relay(t_world_t *w, t_peer_t *p, const wa_node_t *node)
{
    if (wa_node_is(node, "iq")) {
        t_relay_iq(w, p, node);
    } else if (wa_node_is(node, "message")) {
        t_relay_message(w, p, node);
    } else if (wa_node_is(node, "receipt")) {
        t_relay_receipt(w, p, node);
    }
}

//  Run the relay until nothing moves.
static void
t_pump(t_world_t *w)
{
    for (int rounds = 0;; rounds++) {
        assert(rounds < 10000);
        bool progress = false;
        for (size_t i = 0; i < w->npeers; i++) {
            t_peer_t *p = w->peers[i];
            wa_node_t *n;
            while (p->online &&
                   (n = (wa_node_t *)zlistx_detach(p->out, NULL))) {
                t_relay(w, p, n);
                wa_node_destroy(&n);
                progress = true;
            }
        }
        t_delivery_t *d;
        while ((d = (t_delivery_t *)zlistx_detach(w->queue, NULL))) {
            if (d->to->online && d->to->client) {
                wa_client_handle(d->to->client, d->node);
            }
            wa_node_destroy(&d->node);
            free(d);
            progress = true;
        }
        progress |= t_fire_due(w);
        if (!progress) {
            break;
        }
    }
}

//  A peer with a linked device (no pairing dance), logged in to the
//  relay.
static t_peer_t *
t_peer_paired(t_world_t *w, const char *name, const char *phone, int device)
{
    t_peer_t *p = t_peer_new(w, name);
    json_t *c = wa_client_creds(p->client);
    assert(c);
    char *jid = cm_sprintf("%s:%d@s.whatsapp.net", phone, device);
    char *lid = cm_sprintf("9%s:%d@lid", phone, device);
    json_object_set_new(c, "paired", json_true());
    json_object_set_new(c, "me_jid", json_string(jid));
    json_object_set_new(c, "me_lid", json_string(lid));
    //  A real ADV identity: the phone's account key (one per phone
    //  number) signs this device's identity key (wa_devident checks it)
    uint8_t account_priv[32], account_pub[32], device_priv[32], device_pub[32],
        secret[32];
    t_account_key(phone, strlen(phone), account_priv, account_pub);
    memset(secret, 7, sizeof secret);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    const char *b64 = json_string_value(json_object_get(c, "identity_priv"));
    assert(b64 && cm_base64_decode(b64, 64, &raw, &raw_len) == 0 &&
           raw_len == 32);
    memcpy(device_priv, raw, 32);
    free(raw);
    assert(wa_x25519_public(device_priv, device_pub) == 0);
    uint8_t *container = NULL;
    size_t container_len = 0;
    assert(wa_pair_adv_issue(account_priv, device_pub, secret, 1, 1700000000,
                             (uint32_t)device, false, &container,
                             &container_len) == 0);
    wa_pair_adv_t *adv =
        wa_pair_adv_accept(container, container_len, secret, device_priv, NULL);
    assert(adv);
    size_t id_len = 0;
    const uint8_t *id = wa_pair_adv_identity(adv, &id_len);
    s_json_b64(c, "account", id, id_len);
    wa_pair_adv_destroy(&adv);
    free(container);
    wa_crypto_wipe(device_priv, sizeof device_priv);
    assert(wa_client_load_creds(p->client, c) == 0);
    json_decref(c);
    assert(wa_client_paired(p->client));
    p->jid = jid;
    p->user = cm_sprintf("%s@s.whatsapp.net", phone);
    free(lid);
    p->online = true;
    wa_client_connected(p->client);
    t_handle_text(p, "<success t=\"1700000000\"/>");
    t_pump(w);
    assert(t_last_state(p) == WA_CLIENT_WORKING);
    assert(wa_client_ready(p->client));
    assert(p->upload);
    assert(wa_node_child_count(wa_node_child(p->upload, "list")) == 30);
    return p;
}

static t_msg_t *
t_last_msg(t_peer_t *p)
{
    return (t_msg_t *)zlistx_last(p->msgs);
}

//  ---------------------------------------------------------------------
//  Tests

//  Split a QR string into its five parts (in place); returns 0 or -1.
static int
t_qr_parts(char *qr, char *parts[5])
{
    if (strncmp(qr, WA_PAIR_QR_PREFIX, strlen(WA_PAIR_QR_PREFIX)) != 0) {
        return -1;
    }
    char *at = qr + strlen(WA_PAIR_QR_PREFIX);
    for (int i = 0; i < 5; i++) {
        parts[i] = at;
        char *comma = strchr(at, ',');
        if (i < 4) {
            if (!comma) {
                return -1;
            }
            *comma = 0;
            at = comma + 1;
        }
    }
    return 0;
}

static void
t_decode32(const char *b64, uint8_t out[32])
{
    uint8_t *b = NULL;
    size_t n = 0;
    assert(cm_base64_decode(b64, 32, &b, &n) == 0 && n == 32);
    memcpy(out, b, 32);
    free(b);
}

//  pair-success for the companion whose identity/adv are given.
static wa_node_t *
t_pair_success(const uint8_t account_priv[32], const uint8_t identity[32],
               const uint8_t adv[32], const char *jid, const char *lid)
{
    uint8_t *container = NULL;
    size_t len = 0;
    assert(wa_pair_adv_issue(account_priv, identity, adv, 7, T_BASE_T, 3, false,
                             &container, &len) == 0);
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "from", "@s.whatsapp.net");
    wa_node_set_attr(iq, "id", "ps-1");
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "xmlns", "md");
    wa_node_t *ps = wa_node_add(iq, "pair-success");
    wa_node_set_bytes(wa_node_add(ps, "device-identity"), container, len);
    wa_node_t *device = wa_node_add(ps, "device");
    wa_node_set_attr(device, "jid", jid);
    wa_node_set_attr(device, "lid", lid);
    wa_node_set_attr(wa_node_add(ps, "platform"), "name", "android");
    free(container);
    return iq;
}

//  Check the companion's pair-device-sign for the issued identity.
static void
t_check_sign(t_peer_t *p, const uint8_t account_pub[32],
             const uint8_t identity[32])
{
    wa_node_t *sign = t_take(p, "iq", "pair-device-sign");
    assert(sign && wa_node_attr_eq(sign, "id", "ps-1"));
    assert(wa_node_attr_eq(sign, "type", "result"));
    const wa_node_t *di =
        wa_node_find(sign, "pair-device-sign/device-identity");
    assert(di && wa_node_attr_eq(di, "key-index", "3"));
    size_t len = 0;
    const uint8_t *reply = wa_node_bytes(di, &len);
    uint32_t ki = 0;
    assert(wa_pair_adv_check_reply(reply, len, NULL, 0, account_pub, identity,
                                   &ki) == WA_PAIR_OK);
    assert(ki == 3);
    wa_node_destroy(&sign);
}

//  Advance the clock in small steps until the peer sends a keepalive
//  ping; return it (caller owns).
static wa_node_t *
t_wait_ping(t_peer_t *p)
{
    for (int i = 0; i < 400; i++) {
        t_advance(p->world, 100);
        wa_node_t *n = (wa_node_t *)zlistx_first(p->out);
        for (; n; n = (wa_node_t *)zlistx_next(p->out)) {
            if (wa_node_is(n, "iq") && wa_node_attr_eq(n, "xmlns", "w:p")) {
                return (wa_node_t *)zlistx_detach_cur(p->out);
            }
        }
    }
    assert(false);
    return NULL;
}

static void
t_test_qr_login(void)
{
    t_world_t *w = t_world_new();
    w->keepalive_ms = 1000000000; //  nobody answers pings here
    t_peer_t *p = t_peer_new(w, "qr");
    wa_client_t *c = p->client;
    assert(!wa_client_paired(c));
    assert(!wa_client_ready(c));
    assert(wa_client_send_text(c, "15550000001@c.us", "x", NULL, NULL,
                               (char[WA_CLIENT_ID_MAX]){0}) == -1);

    //  Registration payload with valid keys
    size_t len = 0;
    uint8_t *payload = wa_client_payload(c, &len);
    assert(payload && p->creds_changes == 1);
    wa_payload_info_t *info = wa_payload_parse(payload, len);
    assert(info && !info->is_login && info->has_registration);
    assert(wa_payload_info_reg_valid(info));
    uint8_t noise_priv[32];
    uint8_t noise_pub[32];
    assert(wa_client_noise_key(c, noise_priv, noise_pub) == 0);
    wa_payload_info_destroy(&info);
    free(payload);

    //  Refs rotate: 60 s, then 20 s each, then the session gives up
    wa_client_connected(c);
    t_handle_text(p, "<iq from=\"@s.whatsapp.net\" id=\"pd-1\" type=\"set\" "
                     "xmlns=\"md\"><pair-device><ref>R-one</ref>"
                     "<ref>R-two</ref><ref>R-three</ref></pair-device></iq>");
    wa_node_t *ack = t_take(p, "iq", NULL);
    assert(ack && wa_node_attr_eq(ack, "id", "pd-1") &&
           wa_node_attr_eq(ack, "type", "result"));
    wa_node_destroy(&ack);
    assert(t_last_state(p) == WA_CLIENT_QR);
    assert(strstr(p->qr, WA_PAIR_QR_PREFIX "R-one,") == p->qr);
    assert(cm_streq(wa_client_qr(c), p->qr));
    char *noise_b64 = cm_base64_encode(noise_pub, 32);
    assert(strstr(p->qr, noise_b64));
    free(noise_b64);
    t_advance(w, 59999);
    assert(p->nstates == 1);
    t_advance(w, 1);
    assert(p->nstates == 2 && strstr(p->qr, "#R-two,"));
    t_advance(w, 20000);
    assert(p->nstates == 3 && strstr(p->qr, "#R-three,"));
    t_advance(w, 20000);
    assert(t_last_state(p) == WA_CLIENT_QR_EXPIRED);
    assert(p->reason && strstr(p->reason, "not scanned"));
    assert(!wa_client_qr(c));
    //  Closed: stanzas are ignored until a new connection
    assert(wa_client_handle(c, NULL) == -1);
    wa_node_t *late = wa_node_new("success");
    assert(wa_client_handle(c, late) == -1);
    wa_node_destroy(&late);
    wa_client_disconnected(c, "closed");
    wa_client_disconnected(c, "closed");
    zlistx_purge(p->out);

    //  New connection, the phone scans
    wa_client_connected(c);
    t_handle_text(p, "<iq from=\"@s.whatsapp.net\" id=\"pd-2\" type=\"set\" "
                     "xmlns=\"md\"><pair-device><ref>R-four</ref>"
                     "</pair-device></iq>");
    assert(t_last_state(p) == WA_CLIENT_QR);
    char *qr = cm_strdup(p->qr);
    char *parts[5];
    assert(t_qr_parts(qr, parts) == 0);
    assert(cm_streq(parts[0], "R-four") && cm_streq(parts[4], "1"));
    uint8_t identity[32];
    uint8_t adv[32];
    t_decode32(parts[2], identity);
    t_decode32(parts[3], adv);
    free(qr);
    uint8_t account_priv[32];
    uint8_t account_pub[32];
    assert(wa_x25519_keypair(account_priv, account_pub) == 0);
    //  A container with the wrong ADV secret is refused first
    uint8_t wrong[32] = {1};
    wa_node_t *bad =
        t_pair_success(account_priv, identity, wrong,
                       "15551234567:7@s.whatsapp.net", "99887766:7@lid");
    int creds_before = p->creds_changes;
    wa_client_handle(c, bad);
    wa_node_destroy(&bad);
    wa_node_t *err = t_take(p, "iq", "error");
    assert(err && wa_node_attr_eq(err, "type", "error"));
    assert(wa_iq_error_code(err) == 401);
    assert(cm_streq(wa_iq_error_text(err), "hmac-mismatch"));
    wa_node_destroy(&err);
    assert(t_last_state(p) == WA_CLIENT_RETRY && !wa_client_paired(c));
    assert(p->creds_changes == creds_before);
    wa_client_disconnected(c, "closed");
    zlistx_purge(p->out);
    wa_client_connected(c);
    t_handle_text(p, "<iq from=\"@s.whatsapp.net\" id=\"pd-3\" type=\"set\" "
                     "xmlns=\"md\"><pair-device><ref>R-five</ref>"
                     "</pair-device></iq>");
    wa_node_t *ps =
        t_pair_success(account_priv, identity, adv,
                       "15551234567:7@s.whatsapp.net", "99887766:7@lid");
    wa_client_handle(c, ps);
    wa_node_destroy(&ps);
    t_check_sign(p, account_pub, identity);
    assert(t_last_state(p) == WA_CLIENT_PAIRED);
    assert(wa_client_paired(c) && p->creds_changes > creds_before);
    assert(cm_streq(p->me_id, "15551234567@c.us"));
    assert(cm_streq(p->me_lid, "99887766@lid"));
    assert(!wa_client_qr(c));
    t_handle_text(p, "<stream:error code=\"515\"/>");
    assert(t_last_state(p) == WA_CLIENT_RESTART);
    wa_client_disconnected(c, "restart");

    //  A fresh client from the saved credentials logs in
    json_t *creds = wa_client_creds(c);
    assert(json_is_true(json_object_get(creds, "paired")));
    char *dump = json_dumps(creds, JSON_COMPACT);
    json_decref(creds);
    w->keepalive_ms = 30000;
    t_peer_t *q = t_peer_new(w, "qr-again");
    json_t *loaded = json_loads(dump, 0, NULL);
    free(dump);
    assert(wa_client_load_creds(q->client, loaded) == 0);
    json_decref(loaded);
    for (void *row = zhashx_first(p->rows); row; row = zhashx_next(p->rows)) {
        char *k = cm_strdup((const char *)zhashx_cursor(p->rows));
        char *bar = strchr(k, '|');
        *bar = 0;
        zchunk_t *chunk = (zchunk_t *)row;
        assert(wa_client_load_signal(q->client, k, bar + 1, zchunk_data(chunk),
                                     zchunk_size(chunk)) == 0);
        free(k);
    }
    assert(wa_client_load_signal(q->client, "nonsense", "1",
                                 (const uint8_t *)"x", 1) == -1);
    assert(wa_client_paired(q->client));
    uint8_t again_priv[32];
    uint8_t again_pub[32];
    assert(wa_client_noise_key(q->client, again_priv, again_pub) == 0);
    assert(memcmp(again_pub, noise_pub, 32) == 0);
    payload = wa_client_payload(q->client, &len);
    info = wa_payload_parse(payload, len);
    assert(info && info->is_login && info->username == 15551234567ULL);
    assert(info->device == 7 && info->passive && info->pull);
    wa_payload_info_destroy(&info);
    free(payload);
    wa_client_connected(q->client);
    t_handle_text(q, "<success t=\"1700000000\" lid=\"99887766@lid\"/>");
    assert(t_last_state(q) == WA_CLIENT_WORKING);
    assert(cm_streq(q->me_id, "15551234567@c.us"));
    assert(wa_client_ready(q->client));
    wa_node_t *count = t_take(q, "iq", "count");
    wa_node_t *active = t_take(q, "iq", "active");
    wa_node_t *presence = t_take(q, "presence", NULL);
    assert(count && active && presence);
    assert(wa_node_attr_eq(active, "xmlns", "passive"));
    assert(wa_node_attr_eq(presence, "type", "available"));
    //  Server has no prekeys: a batch goes up
    wa_node_t *r = t_result_for(count);
    wa_node_set_attr(wa_node_add(r, "count"), "value", "0");
    wa_client_handle(q->client, r);
    wa_node_destroy(&r);
    wa_node_t *upload = t_take(q, "iq", "list");
    assert(upload && wa_node_attr_eq(upload, "xmlns", "encrypt"));
    assert(wa_node_child_count(wa_node_child(upload, "list")) == 30);
    r = t_result_for(upload);
    wa_client_handle(q->client, r);
    wa_node_destroy(&r);
    //  A low-count notification refills; a high one does not
    t_handle_text(q, "<notification from=\"@s.whatsapp.net\" id=\"n1\" "
                     "type=\"encrypt\"><count value=\"20\"/></notification>");
    assert(!t_take(q, "iq", "list"));
    wa_node_t *nack = t_take(q, "ack", NULL);
    assert(nack && wa_node_attr_eq(nack, "class", "notification"));
    assert(wa_node_attr_eq(nack, "type", "encrypt"));
    wa_node_destroy(&nack);
    t_handle_text(q, "<notification from=\"@s.whatsapp.net\" id=\"n2\" "
                     "type=\"encrypt\"><count value=\"2\"/></notification>");
    wa_node_t *refill = t_take(q, "iq", "list");
    assert(refill);
    const wa_node_t *first = wa_node_child_at(wa_node_child(refill, "list"), 0);
    const uint8_t *idb = wa_node_bytes(wa_node_child(first, "id"), &len);
    assert(idb && len == 3 && idb[2] == 31); //  ids continue at 31
    wa_node_destroy(&refill);
    wa_node_destroy(&count);
    wa_node_destroy(&active);
    wa_node_destroy(&presence);
    wa_node_destroy(&upload);

    //  Keepalive: answered pings keep going, two misses mean RETRY
    zlistx_purge(q->out);
    wa_node_t *ping = t_wait_ping(q);
    r = t_result_for(ping);
    wa_client_handle(q->client, r);
    wa_node_destroy(&r);
    wa_node_destroy(&ping);
    size_t before = q->nstates;
    ping = t_wait_ping(q);
    wa_node_destroy(&ping);
    t_advance(w, 5000);
    assert(q->nstates == before); //  one miss is tolerated
    ping = t_wait_ping(q);
    wa_node_destroy(&ping);
    t_advance(w, 5000);
    assert(t_last_state(q) == WA_CLIENT_RETRY);
    assert(strstr(q->reason, "keepalive"));
    wa_client_disconnected(q->client, "keepalive");

    //  Stream errors and login failures
    struct {
        const char *stanza;
        wa_client_state_t state;
    } cases[] = {
        {"<stream:error code=\"409\"><conflict type=\"replaced\"/>"
         "</stream:error>",
         WA_CLIENT_CONFLICT},
        {"<stream:error code=\"503\"/>", WA_CLIENT_RETRY},
        {"<failure reason=\"405\"/>", WA_CLIENT_OUTDATED},
        {"<failure reason=\"402\"/>", WA_CLIENT_RETRY},
        {"<xmlstreamend/>", WA_CLIENT_RETRY},
        {"<stream:error code=\"401\"><conflict type=\"device_removed\"/>"
         "</stream:error>",
         WA_CLIENT_LOGGED_OUT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wa_client_connected(q->client);
        t_handle_text(q, "<success t=\"1700000000\"/>");
        t_handle_text(q, cases[i].stanza);
        assert(t_last_state(q) == cases[i].state);
        assert(q->reason && *q->reason);
        wa_client_disconnected(q->client, "closed");
    }
    //  Logged out: the credentials are gone, a new device starts over
    assert(!wa_client_paired(q->client));
    json_t *fresh = wa_client_creds(q->client);
    assert(json_is_false(json_object_get(fresh, "paired")));
    json_decref(fresh);
    t_world_destroy(&w);
}

static void
t_test_pair_code(void)
{
    t_world_t *w = t_world_new();
    w->keepalive_ms = 1000000000;
    t_peer_t *p = t_peer_new(w, "code");
    wa_client_t *c = p->client;
    char code[WA_CLIENT_CODE_MAX];
    assert(wa_client_request_pair_code(c, "123", code) == -1);
    assert(wa_client_request_pair_code(c, "+1 555 12x", code) == -1);
    wa_client_connected(c);
    t_handle_text(p, "<iq from=\"@s.whatsapp.net\" id=\"pd-1\" type=\"set\" "
                     "xmlns=\"md\"><pair-device><ref>R1</ref><ref>R2</ref>"
                     "</pair-device></iq>");
    zlistx_purge(p->out);
    assert(wa_client_request_pair_code(c, "+1 (555) 123-4567", code) == 0);
    assert(strlen(code) == 9 && code[4] == '-');
    wa_node_t *hello = t_take(p, "iq", "link_code_companion_reg");
    assert(hello);
    const wa_node_t *reg = wa_node_child(hello, "link_code_companion_reg");
    assert(wa_node_attr_eq(reg, "stage", "companion_hello"));
    assert(wa_node_attr_eq(reg, "jid", "15551234567@s.whatsapp.net"));
    size_t len = 0;
    const uint8_t *wrapped = wa_node_bytes(
        wa_node_child(reg, "link_code_pairing_wrapped_companion_ephemeral_pub"),
        &len);
    assert(wrapped && len == WA_PAIR_WRAPPED_LEN);
    char plain_code[WA_PAIR_CODE_LEN + 1];
    memcpy(plain_code, code, 4);
    memcpy(plain_code + 4, code + 5, 4);
    plain_code[8] = 0;
    uint8_t companion_eph[32];
    assert(wa_pair_code_unwrap(plain_code, wrapped, len, companion_eph) == 0);
    //  The server answers with a ref: the code is confirmed
    wa_node_t *r = t_result_for(hello);
    wa_node_set_bytes(wa_node_add(wa_node_add(r, "link_code_companion_reg"),
                                  "link_code_pairing_ref"),
                      "REF-1", 5);
    wa_client_handle(c, r);
    wa_node_destroy(&r);
    wa_node_destroy(&hello);
    assert(t_last_state(p) == WA_CLIENT_PAIR_CODE);
    assert(cm_streq(p->code, code));
    //  QR rotation is held while the code is pending
    size_t before = p->nstates;
    t_advance(w, 70000);
    assert(p->nstates == before);
    //  The phone enters the code
    uint8_t pe_priv[32];
    uint8_t pe_pub[32];
    uint8_t account_priv[32];
    uint8_t account_pub[32];
    assert(wa_x25519_keypair(pe_priv, pe_pub) == 0);
    assert(wa_x25519_keypair(account_priv, account_pub) == 0);
    uint8_t primary_wrapped[WA_PAIR_WRAPPED_LEN];
    assert(wa_pair_code_wrap(plain_code, pe_pub, primary_wrapped) == 0);
    wa_node_t *n = wa_node_new("notification");
    wa_node_set_attr(n, "from", "@s.whatsapp.net");
    wa_node_set_attr(n, "id", "n-1");
    wa_node_set_attr(n, "type", "link_code_companion_reg");
    wa_node_t *nreg = wa_node_add(n, "link_code_companion_reg");
    wa_node_set_bytes(wa_node_add(nreg, "link_code_pairing_ref"), "REF-1", 5);
    wa_node_set_bytes(
        wa_node_add(nreg, "link_code_pairing_wrapped_primary_ephemeral_pub"),
        primary_wrapped, sizeof primary_wrapped);
    wa_node_set_bytes(wa_node_add(nreg, "primary_identity_pub"), account_pub,
                      32);
    wa_client_handle(c, n);
    wa_node_destroy(&n);
    wa_node_t *ack = t_take(p, "ack", NULL);
    assert(ack && wa_node_attr_eq(ack, "class", "notification"));
    wa_node_destroy(&ack);
    wa_node_t *fin = t_take(p, "iq", "link_code_companion_reg");
    assert(fin);
    reg = wa_node_child(fin, "link_code_companion_reg");
    assert(wa_node_attr_eq(reg, "stage", "companion_finish"));
    const uint8_t *bundle = wa_node_bytes(
        wa_node_child(reg, "link_code_pairing_wrapped_key_bundle"), &len);
    assert(bundle && len == WA_PAIR_BUNDLE_LEN);
    uint8_t companion_identity[32];
    uint8_t adv[32];
    assert(wa_pair_code_open(pe_priv, companion_eph, account_priv, account_pub,
                             bundle, len, companion_identity, adv) == 0);
    const uint8_t *ci =
        wa_node_bytes(wa_node_child(reg, "companion_identity_public"), &len);
    assert(ci && len == 32 && memcmp(ci, companion_identity, 32) == 0);
    r = t_result_for(fin);
    wa_client_handle(c, r);
    wa_node_destroy(&r);
    wa_node_destroy(&fin);
    //  pair-success keyed by the derived secret
    wa_node_t *ps =
        t_pair_success(account_priv, companion_identity, adv,
                       "15551234567:8@s.whatsapp.net", "99887766:8@lid");
    wa_client_handle(c, ps);
    wa_node_destroy(&ps);
    t_check_sign(p, account_pub, companion_identity);
    assert(t_last_state(p) == WA_CLIENT_PAIRED);
    assert(wa_client_paired(c));
    assert(wa_client_request_pair_code(c, "15551234567", code) == -1);
    wa_client_disconnected(c, "restart");

    //  A refused request reports PAIR_CODE_FAILED and goes back to QRs
    t_peer_t *q = t_peer_new(w, "code-refused");
    assert(wa_client_request_pair_code(q->client, "15550001111", code) == 0);
    assert(!t_take(q, "iq", NULL)); //  not connected yet
    wa_client_connected(q->client);
    t_handle_text(q, "<iq from=\"@s.whatsapp.net\" id=\"pd-9\" type=\"set\" "
                     "xmlns=\"md\"><pair-device><ref>R1</ref></pair-device>"
                     "</iq>");
    assert(wa_client_request_pair_code(q->client, "15550001111", code) == 0);
    hello = t_take(q, "iq", "link_code_companion_reg");
    assert(hello);
    r = t_result_for(hello);
    wa_node_set_attr(r, "type", "error");
    wa_node_set_attr(wa_node_add(r, "error"), "code", "429");
    wa_client_handle(q->client, r);
    wa_node_destroy(&r);
    wa_node_destroy(&hello);
    assert(t_last_state(q) == WA_CLIENT_PAIR_CODE_FAILED);
    assert(strstr(q->reason, "429"));
    t_advance(w, 20001);
    assert(t_last_state(q) == WA_CLIENT_QR_EXPIRED);
    t_world_destroy(&w);
}

static void
t_iq_fn(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    assert(outcome == WA_IQ_RESULT);
    assert(wa_node_child(reply, "group"));
    (*(int *)arg)++;
}

//  Two accounts through the relay: alice on two devices, bob on one.
static void
t_test_relay(void)
{
    t_world_t *w = t_world_new();
    t_peer_t *alice = t_peer_paired(w, "alice", "15550000001", 1);
    t_peer_t *alice2 = t_peer_paired(w, "alice2", "15550000001", 2);
    t_peer_t *bob = t_peer_paired(w, "bob", "15550000002", 1);
    const char *alice_user = "15550000001@s.whatsapp.net";
    const char *bob_user = "15550000002@s.whatsapp.net";

    //  1:1, first contact (pkmsg to bob and alice2)
    char id[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(alice->client, "15550000002@c.us", "hello bob",
                               NULL, NULL, id) == 0);
    assert(strncmp(id, "3EB0", 4) == 0);
    t_pump(w);
    assert(w->last_had_identity);
    assert(zlistx_size(bob->msgs) == 1);
    t_msg_t *m = t_last_msg(bob);
    assert(cm_streq(m->id, id) && cm_streq(m->body, "hello bob"));
    assert(cm_streq(m->chat, alice_user) && !m->from_me && !m->is_group);
    assert(cm_streq(m->sender, alice->jid));
    assert(cm_streq(m->push_name, "alice"));
    assert(zlistx_size(alice2->msgs) == 1);
    m = t_last_msg(alice2);
    assert(m->from_me && cm_streq(m->chat, bob_user));
    assert(cm_streq(m->body, "hello bob"));
    assert(zlistx_size(alice->msgs) == 0);
    t_sent_t *s = (t_sent_t *)zlistx_last(alice->sents);
    assert(s && s->ok && cm_streq(s->id, id));
    assert(zlistx_size(alice->acks) == 1);
    t_ack_t *a = (t_ack_t *)zlistx_last(alice->acks);
    assert(a->ack == WA_CLIENT_ACK_DEVICE && cm_streq(a->id, id));
    assert(cm_streq(a->participant, bob->jid));

    //  Read receipt back to alice's devices
    const char *ids[] = {id};
    assert(wa_client_send_seen(bob->client, alice_user, NULL, ids, 1, false) ==
           0);
    t_pump(w);
    a = (t_ack_t *)zlistx_last(alice->acks);
    assert(a->ack == WA_CLIENT_ACK_READ && cm_streq(a->id, id));
    a = (t_ack_t *)zlistx_last(alice2->acks);
    assert(a && a->ack == WA_CLIENT_ACK_READ);

    //  Bob answers quoting it; both alice devices get it (msg now)
    char id2[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(bob->client, alice_user, "hi alice", id,
                               alice_user, id2) == 0);
    t_pump(w);
    m = t_last_msg(alice);
    assert(m && cm_streq(m->id, id2) && cm_streq(m->body, "hi alice"));
    assert(cm_streq(m->reply_to, id));
    m = t_last_msg(alice2);
    assert(m && cm_streq(m->id, id2) && !m->from_me);
    //  Established sessions: no device identity needed any more
    char id3[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(alice->client, bob_user, "second", NULL, NULL,
                               id3) == 0);
    t_pump(w);
    assert(cm_streq(t_last_msg(bob)->body, "second"));
    const wa_node_t *to = NULL;
    const wa_node_t *parts = wa_node_child(w->last, "participants");
    while ((to = wa_node_child_next(parts, "to", to))) {
        const wa_node_t *enc = wa_node_child(to, "enc");
        if (wa_node_attr_eq(to, "jid", bob->jid)) {
            assert(wa_node_attr_eq(enc, "type", "msg"));
        } else {
            //  alice2 never answered: still a prekey message
            assert(wa_node_attr_eq(to, "jid", alice2->jid));
            assert(wa_node_attr_eq(enc, "type", "pkmsg"));
        }
    }

    //  Group: sender key distribution on first use only
    w->group = cm_strdup("120363000000000001@g.us");
    w->members[w->nmembers++] = cm_strdup(alice_user);
    w->members[w->nmembers++] = cm_strdup(bob_user);
    char gid[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(alice->client, w->group, "hello group", NULL,
                               NULL, gid) == 0);
    t_pump(w);
    assert(w->last_had_participants);
    m = t_last_msg(bob);
    assert(cm_streq(m->id, gid) && cm_streq(m->body, "hello group"));
    assert(m->is_group && cm_streq(m->chat, w->group));
    assert(cm_streq(m->participant, alice_user));
    m = t_last_msg(alice2);
    assert(cm_streq(m->id, gid) && m->from_me && m->is_group);
    s = (t_sent_t *)zlistx_last(alice->sents);
    assert(s->ok && cm_streq(s->id, gid));
    a = (t_ack_t *)zlistx_last(alice->acks);
    assert(cm_streq(a->id, gid) && a->ack == WA_CLIENT_ACK_DEVICE);
    assert(cm_streq(a->participant, bob->jid));
    char gid2[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(alice->client, w->group, "again", NULL, NULL,
                               gid2) == 0);
    t_pump(w);
    assert(!w->last_had_participants);
    assert(cm_streq(t_last_msg(bob)->body, "again"));
    assert(cm_streq(t_last_msg(alice2)->body, "again"));
    //  Bob writes to the group; group read receipt to alice
    char gid3[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(bob->client, w->group, "hello from bob", NULL,
                               NULL, gid3) == 0);
    t_pump(w);
    assert(cm_streq(t_last_msg(alice)->body, "hello from bob"));
    assert(cm_streq(t_last_msg(alice2)->body, "hello from bob"));
    assert(cm_streq(t_last_msg(alice)->participant, bob_user));
    const char *gids[] = {gid3};
    assert(wa_client_send_seen(alice->client, w->group, bob->jid, gids, 1,
                               false) == 0);
    t_pump(w);
    a = (t_ack_t *)zlistx_last(bob->acks);
    assert(cm_streq(a->id, gid3) && a->ack == WA_CLIENT_ACK_READ);
    assert(cm_streq(a->participant, alice->jid));

    //  Membership change: carol joins (w:gp2 drops alice's metadata).
    //  Another change lands while alice's send waits for carol's device
    //  list: the send fetches the metadata again instead of failing.
    //  Carol alone gets the sender key; bob's copy is skmsg only.
    t_peer_t *carol = t_peer_paired(w, "carol", "15550000003", 1);
    const char *carol_user = "15550000003@s.whatsapp.net";
    w->members[w->nmembers++] = cm_strdup(carol_user);
    char *note =
        cm_sprintf("<notification from=\"%s\" id=\"n1\" type=\"w:gp2\" "
                   "participant=\"%s\"><add><participant jid=\"%s\"/></add>"
                   "</notification>",
                   w->group, alice_user, carol_user);
    t_handle_text(alice, note);
    char gid4[WA_CLIENT_ID_MAX];
    size_t alice_sents = zlistx_size(alice->sents);
    assert(wa_client_send_text(alice->client, w->group, "welcome carol", NULL,
                               NULL, gid4) == 0);
    t_fire_due(w); //  the job starts
    wa_node_t *qiq = t_take(alice, "iq", "query");
    assert(qiq && wa_node_attr_eq(qiq, "xmlns", "w:g2"));
    t_relay(w, alice, qiq);
    wa_node_destroy(&qiq);
    t_delivery_t *dv = (t_delivery_t *)zlistx_detach(w->queue, NULL);
    assert(dv && dv->to == alice);
    wa_client_handle(alice->client, dv->node); //  the metadata
    wa_node_destroy(&dv->node);
    free(dv);
    wa_node_t *uiq = t_take(alice, "iq", "usync");
    assert(uiq);                //  carol's devices are asked for
    t_handle_text(alice, note); //  the group changes again meanwhile
    free(note);
    t_relay(w, alice, uiq);
    wa_node_destroy(&uiq);
    t_pump(w);
    assert(zlistx_size(alice->sents) == alice_sents + 1);
    s = (t_sent_t *)zlistx_last(alice->sents);
    assert(s->ok && cm_streq(s->id, gid4));
    m = t_last_msg(carol);
    assert(m && cm_streq(m->id, gid4) && cm_streq(m->body, "welcome carol"));
    assert(cm_streq(t_last_msg(bob)->body, "welcome carol"));
    bool to_carol = false;
    to = NULL;
    parts = wa_node_child(w->last, "participants");
    while ((to = wa_node_child_next(parts, "to", to))) {
        assert(!wa_node_attr_eq(to, "jid", bob->jid));
        assert(!wa_node_attr_eq(to, "jid", alice2->jid));
        to_carol |= wa_node_attr_eq(to, "jid", carol->jid);
    }
    assert(to_carol);
    //  Carol writes back: everyone reads her sender key message
    char gid5[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(carol->client, w->group, "thanks", NULL, NULL,
                               gid5) == 0);
    t_pump(w);
    assert(cm_streq(t_last_msg(alice)->body, "thanks"));
    assert(cm_streq(t_last_msg(bob)->body, "thanks"));
    assert(cm_streq(t_last_msg(alice)->participant, carol_user));

    //  Carol is removed: alice drops her sender key; the next send makes
    //  a new one and gives it to every device left (bob and alice's own
    //  second device), and carol gets nothing
    free(w->members[--w->nmembers]);
    note = cm_sprintf("<notification from=\"%s\" id=\"n2\" type=\"w:gp2\" "
                      "participant=\"%s\"><remove><participant jid=\"%s\"/>"
                      "</remove></notification>",
                      w->group, alice_user, carol_user);
    char skey[256];
    char own[WA_SEND_NAME_MAX];
    int own_dev = 0;
    assert(wa_send_address(alice->jid, own, &own_dev) == 0);
    snprintf(skey, sizeof skey, "%s::%s.%d", w->group, own, own_dev);
    wa_sigstore_t *astore = wa_client_sigstore(alice->client);
    assert(wa_sigstore_get(astore, "sender_key", skey, NULL));
    t_handle_text(alice, note);
    free(note);
    assert(!wa_sigstore_get(astore, "sender_key", skey, NULL));
    size_t carol_msgs = zlistx_size(carol->msgs);
    char gid6[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(alice->client, w->group, "carol has gone", NULL,
                               NULL, gid6) == 0);
    t_pump(w);
    assert(wa_sigstore_get(astore, "sender_key", skey, NULL));
    assert(cm_streq(t_last_msg(bob)->body, "carol has gone"));
    assert(cm_streq(t_last_msg(alice2)->body, "carol has gone"));
    assert(zlistx_size(carol->msgs) == carol_msgs);
    bool to_bob = false;
    to = NULL;
    parts = wa_node_child(w->last, "participants");
    while ((to = wa_node_child_next(parts, "to", to))) {
        assert(!wa_node_attr_eq(to, "jid", carol->jid));
        to_bob |= wa_node_attr_eq(to, "jid", bob->jid);
    }
    assert(to_bob); //  bob got the new key

    //  Decryption failure -> retry receipt -> resend -> delivered. Bob
    //  loses his session with alice's first device.
    char name[WA_SEND_NAME_MAX];
    int dev = 0;
    assert(wa_send_address(alice->jid, name, &dev) == 0);
    signal_protocol_address addr = {name, strlen(name), dev};
    assert(signal_protocol_session_delete_session(
               wa_sigstore_context(wa_client_sigstore(bob->client)), &addr) ==
           1);
    size_t bob_msgs = zlistx_size(bob->msgs);
    char rid[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(alice->client, bob_user, "after reset", NULL,
                               NULL, rid) == 0);
    t_pump(w);
    assert(zlistx_size(bob->msgs) == bob_msgs + 1);
    m = t_last_msg(bob);
    assert(cm_streq(m->id, rid) && cm_streq(m->body, "after reset"));
    a = (t_ack_t *)zlistx_last(alice->acks);
    assert(cm_streq(a->id, rid) && a->ack == WA_CLIENT_ACK_DEVICE);
    assert(w->last_had_identity); //  the resend started a new session
    //  and the repaired session keeps working both ways
    assert(wa_client_send_text(bob->client, alice_user, "fixed?", NULL, NULL,
                               id2) == 0);
    t_pump(w);
    assert(cm_streq(t_last_msg(alice)->body, "fixed?"));

    //  A sender that lost its last ratchet steps (a worker that died
    //  before they were stored) encrypts with a counter used already:
    //  bob asks for a retry instead of dropping the message as a
    //  duplicate, and alice sends it again with a fresh message key
    {
        zlistx_t *saved_keys = zlistx_new();
        zlistx_t *saved_rows = zlistx_new();
        zlistx_t *keys = zhashx_keys(alice->rows);
        for (const char *k = (const char *)zlistx_first(keys); k;
             k = (const char *)zlistx_next(keys)) {
            if (strncmp(k, "session|", 8) == 0) {
                zlistx_add_end(saved_keys, cm_strdup(k + 8));
                zlistx_add_end(saved_rows, zchunk_dup((zchunk_t *)zhashx_lookup(
                                               alice->rows, k)));
            }
        }
        zlistx_destroy(&keys);
        assert(zlistx_size(saved_keys) > 0);
        char one[WA_CLIENT_ID_MAX];
        assert(wa_client_send_text(alice->client, bob_user, "one", NULL, NULL,
                                   one) == 0);
        t_pump(w);
        assert(cm_streq(t_last_msg(bob)->body, "one"));
        //  Alice's sessions back as they were before "one"
        zchunk_t *c = (zchunk_t *)zlistx_first(saved_rows);
        for (char *k = (char *)zlistx_first(saved_keys); k;
             k = (char *)zlistx_next(saved_keys)) {
            assert(wa_client_load_signal(alice->client, "session", k,
                                         zchunk_data(c), zchunk_size(c)) == 0);
            zchunk_destroy(&c);
            free(k);
            c = (zchunk_t *)zlistx_next(saved_rows);
        }
        zlistx_destroy(&saved_keys);
        zlistx_destroy(&saved_rows);
        char two[WA_CLIENT_ID_MAX];
        assert(wa_client_send_text(alice->client, bob_user, "two", NULL, NULL,
                                   two) == 0);
        t_pump(w);
        m = t_last_msg(bob);
        assert(cm_streq(m->id, two) && cm_streq(m->body, "two"));
    }

    //  Held receipts: no receipt until the owner commits; a delivery of
    //  the same stanza meanwhile is not reported twice
    bob->defer = true;
    size_t acks = zlistx_size(alice->acks);
    char hid[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(alice->client, bob_user, "hold me", NULL, NULL,
                               hid) == 0);
    t_pump(w);
    m = t_last_msg(bob);
    assert(cm_streq(m->id, hid) && m->token);
    assert(zlistx_size(alice->acks) == acks);
    assert(wa_client_receipt_commit(bob->client, m->token + 1000) == -1);
    assert(wa_client_receipt_commit(bob->client, m->token) == 0);
    assert(wa_client_receipt_commit(bob->client, m->token) == -1);
    t_pump(w);
    assert(zlistx_size(alice->acks) == acks + 1);
    //  Three held at once, committed out of order: middle, newest, oldest
    uint64_t tokens[3];
    for (int i = 0; i < 3; i++) {
        assert(wa_client_send_text(alice->client, bob_user, "held", NULL, NULL,
                                   hid) == 0);
        t_pump(w);
        tokens[i] = t_last_msg(bob)->token;
        assert(tokens[i] && (i == 0 || tokens[i] != tokens[i - 1]));
    }
    assert(zlistx_size(alice->acks) == acks + 1);
    assert(wa_client_receipt_commit(bob->client, tokens[1]) == 0);
    assert(wa_client_receipt_commit(bob->client, tokens[2]) == 0);
    assert(wa_client_receipt_commit(bob->client, tokens[1]) == -1);
    assert(wa_client_receipt_commit(bob->client, tokens[0]) == 0);
    assert(wa_client_receipt_commit(bob->client, tokens[0]) == -1);
    t_pump(w);
    assert(zlistx_size(alice->acks) == acks + 4);
    bob->defer = false;

    //  Server refusal and unknown recipients end in SENT errors
    w->nack_next = 479;
    assert(wa_client_send_text(alice->client, bob_user, "nack", NULL, NULL,
                               id) == 0);
    t_pump(w);
    s = (t_sent_t *)zlistx_last(alice->sents);
    assert(cm_streq(s->id, id) && !s->ok && s->error == 479);
    assert(wa_client_send_text(alice->client, "15559999999", "nobody", NULL,
                               NULL, id) == 0);
    t_pump(w);
    s = (t_sent_t *)zlistx_last(alice->sents);
    assert(cm_streq(s->id, id) && !s->ok && s->error == 404);
    assert(wa_client_send_text(alice->client, "120363000000000099@g.us", "?",
                               NULL, NULL, id) == 0);
    t_pump(w);
    s = (t_sent_t *)zlistx_last(alice->sents);
    assert(cm_streq(s->id, id) && !s->ok && s->error == 404);
    assert(wa_client_send_text(alice->client, "not a chat", "x", NULL, NULL,
                               id) == -1);
    assert(wa_client_send_seen(alice->client, bob_user, NULL, ids, 0, false) ==
           -1);

    //  Any IQ through the client: the reply reaches the caller once
    int iq_calls = 0;
    wa_node_t *giq = wa_node_new("iq");
    wa_node_set_attr(giq, "xmlns", "w:g2");
    wa_node_set_attr(giq, "type", "get");
    wa_node_set_attr(giq, "to", w->group);
    wa_node_add(giq, "query");
    assert(wa_client_iq(alice->client, &giq, t_iq_fn, &iq_calls) == 0);
    assert(giq == NULL);
    t_pump(w);
    assert(iq_calls == 1);
    giq = wa_node_new("message");
    assert(wa_client_iq(alice->client, &giq, t_iq_fn, &iq_calls) == -1);
    assert(giq == NULL && iq_calls == 1);

    //  A lost connection fails sends in flight
    assert(wa_client_send_text(alice->client, bob_user, "lost", NULL, NULL,
                               id) == 0);
    wa_client_disconnected(alice->client, "gone");
    s = (t_sent_t *)zlistx_last(alice->sents);
    assert(cm_streq(s->id, id) && !s->ok);
    assert(!wa_client_ready(alice->client));

    //  Logout on a live connection asks the server, then reports
    assert(wa_client_logout(bob->client) == 0);
    wa_node_t *rm = t_take(bob, "iq", "remove-companion-device");
    assert(rm);
    wa_node_t *r = t_result_for(rm);
    wa_client_handle(bob->client, r);
    wa_node_destroy(&r);
    wa_node_destroy(&rm);
    assert(t_last_state(bob) == WA_CLIENT_LOGGED_OUT);
    assert(!wa_client_paired(bob->client));
    assert(wa_client_logout(bob->client) == -1);
    t_world_destroy(&w);
}

//  Garbage from the server never crashes the client and leaves it usable.
static void
t_test_malformed(void)
{
    t_world_t *w = t_world_new();
    t_peer_t *alice = t_peer_paired(w, "alice", "15550000001", 1);
    t_peer_t *bob = t_peer_paired(w, "bob", "15550000002", 1);
    const char *stanzas[] = {
        "<message/>",
        "<message id=\"1\"/>",
        "<message from=\"15550000002:1@s.whatsapp.net\"/>",
        "<message id=\"1\" from=\"x\"><enc type=\"msg\"/></message>",
        "<message id=\"2\" from=\"15550000002:1@s.whatsapp.net\">"
        "<enc v=\"2\" type=\"pkmsg\">0x00</enc></message>",
        "<message id=\"3\" from=\"15550000002:1@s.whatsapp.net\">"
        "<enc v=\"2\" type=\"msg\">garbage</enc>"
        "<enc v=\"2\" type=\"skmsg\">garbage</enc></message>",
        "<message id=\"4\" from=\"120363000000000001@g.us\" "
        "participant=\"15550000002:1@s.whatsapp.net\">"
        "<enc v=\"2\" type=\"skmsg\">0x0102</enc></message>",
        "<message id=\"5\" from=\"1@newsletter\"><plaintext>0xff</plaintext>"
        "</message>",
        "<message id=\"6\" from=\"15550000002:1@s.whatsapp.net\">"
        "<enc/><enc type=\"\"/><unavailable/></message>",
        "<receipt/>",
        "<receipt id=\"x\"/>",
        "<receipt id=\"x\" from=\"1@g.us\"><participants/></receipt>",
        "<receipt id=\"x\" from=\"15550000002@s.whatsapp.net\" "
        "type=\"retry\"/>",
        "<receipt id=\"x\" from=\"15550000002@s.whatsapp.net\" type=\"retry\">"
        "<retry count=\"zz\"/></receipt>",
        "<receipt id=\"unknown\" from=\"15550000002:1@s.whatsapp.net\" "
        "type=\"retry\"><retry count=\"2\"/><keys><type>0x05</type></keys>"
        "</receipt>",
        "<receipt id=\"x\" from=\"15550000002:1@s.whatsapp.net\" "
        "type=\"read\"><list><item/><item id=\"\"/></list></receipt>",
        "<notification/>",
        "<notification type=\"encrypt\"><count value=\"x\"/></notification>",
        "<notification type=\"devices\" from=\"garbage\"/>",
        "<notification type=\"w:gp2\" id=\"1\" from=\"1@g.us\"/>",
        "<notification type=\"link_code_companion_reg\" id=\"1\" "
        "from=\"@s.whatsapp.net\"><link_code_companion_reg/></notification>",
        "<ack/>",
        "<ack class=\"message\" id=\"nope\"/>",
        "<ack class=\"message\" error=\"zz\"/>",
        "<iq/>",
        "<iq type=\"result\" id=\"no-such-request\"/>",
        "<iq type=\"set\" from=\"@s.whatsapp.net\" id=\"q\"><pair-device>"
        "<ref>R</ref></pair-device></iq>",
        "<iq type=\"set\" from=\"@s.whatsapp.net\" id=\"q\"><pair-success/>"
        "</iq>",
        "<iq type=\"get\" xmlns=\"urn:xmpp:ping\" id=\"p\" "
        "from=\"@s.whatsapp.net\"/>",
        "<success/>",
        "<ib><offline_preview count=\"3\"/><dirty type=\"groups\" "
        "timestamp=\"5\"/><downgrade_webclient/></ib>",
        "<ib><dirty/></ib>",
        "<call id=\"c1\" from=\"15550000002@s.whatsapp.net\"><offer/></call>",
        "<presence from=\"15550000002@s.whatsapp.net\"/>",
        "<chatstate/>",
        "<whatever>0x00</whatever>"};
    for (size_t i = 0; i < sizeof stanzas / sizeof stanzas[0]; i++) {
        t_handle_text(alice, stanzas[i]);
        t_pump(w);
    }
    assert(wa_client_ready(alice->client));
    assert(zlistx_size(alice->msgs) == 0);

    //  Random trees of plausible tags, attributes and contents
    static const char *tags[] = {
        "message",     "receipt",      "notification", "iq",      "ack",
        "enc",         "participants", "to",           "list",    "item",
        "retry",       "keys",         "registration", "user",    "devices",
        "device-list", "device",       "ib",           "success", "plaintext",
        "call",        "count",        "identity",     "key",     "skey"};
    static const char *keys[] = {
        "id",    "from",  "to",       "type",   "participant", "recipient",
        "t",     "class", "count",    "jid",    "v",           "value",
        "error", "code",  "category", "notify", "key",         "xmlns"};
    static const char *values[] = {"",
                                   "1",
                                   "x",
                                   "msg",
                                   "pkmsg",
                                   "skmsg",
                                   "retry",
                                   "read",
                                   "result",
                                   "error",
                                   "message",
                                   "encrypt",
                                   "devices",
                                   "w:gp2",
                                   "2",
                                   "-1",
                                   "99999999999999999999",
                                   "15550000002:1@s.whatsapp.net",
                                   "15550000001@s.whatsapp.net",
                                   "120363000000000001@g.us",
                                   "@s.whatsapp.net",
                                   "1@newsletter",
                                   "status@broadcast",
                                   "9@lid",
                                   "peer"};
    uint32_t seed = 12345;
    for (int round = 0; round < 3000; round++) {
        seed = seed * 1103515245 + 12345;
        wa_node_t *root = wa_node_new(tags[seed % 5]);
        wa_node_t *at = root;
        for (int k = 0; k < 12; k++) {
            seed = seed * 1103515245 + 12345;
            unsigned r = seed >> 8;
            switch (r % 4) {
            case 0:
                wa_node_set_attr(at, keys[r / 4 % 18], values[r / 72 % 25]);
                break;
            case 1:
                at = wa_node_add(at, tags[r / 4 % 25]);
                break;
            case 2: {
                uint8_t bytes[40];
                for (size_t b = 0; b < sizeof bytes; b++) {
                    bytes[b] = (uint8_t)(r >> (b % 24));
                }
                if (wa_node_content_type(at) != WA_NODE_LIST) {
                    wa_node_set_bytes(at, bytes, (r / 4) % sizeof bytes);
                }
                break;
            }
            default:
                at = root;
                break;
            }
        }
        wa_client_handle(alice->client, root);
        wa_node_destroy(&root);
        t_pump(w);
    }
    assert(wa_client_ready(alice->client));
    //  Still talks
    char id[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(alice->client, bob->user, "still here", NULL,
                               NULL, id) == 0);
    t_pump(w);
    assert(cm_streq(t_last_msg(bob)->body, "still here"));
    t_world_destroy(&w);
}

void
wa_client_test(bool verbose)
{
    printf(" * wa_client: ");
    (void)verbose;
    t_test_qr_login();
    t_test_pair_code();
    t_test_relay();
    t_test_malformed();
    printf("OK\n");
}
