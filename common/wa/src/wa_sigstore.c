/*  wa_sigstore - one session's Signal state for libsignal-protocol-c

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <key_helper.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <protocol.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_sigstore.h"

//  One stored record.
typedef struct {
    uint32_t len;      //  bytes in data
    uint8_t data[];    //  the record
} s_record_t;

struct _wa_sigstore_t {
    wa_signal_t *signal;                    //  borrowed context
    signal_protocol_store_context *ctx;     //  libsignal's view of us
    zhashx_t *records;                      //  "kind\x1fkey" -> s_record_t
    size_t bytes;                           //  bytes held in records
    wa_sigstore_change_fn *change_fn;       //  persistence hook or NULL
    void *change_arg;                       //  its argument
    bool has_identity;                      //  identity set
    uint8_t priv[32];                       //  identity private key
    uint8_t pub[32];                        //  identity public key
    uint32_t registration_id;               //  local registration id
};

// clang-format off
static const char *s_kinds[] = {"session",       "identity",     "prekey",
                                "signed_prekey", "sender_key",   "appstate_key",
                                "appstate_coll", "appstate_mac", "tctoken",
                                "nct_salt",      NULL};
// clang-format on

static bool
s_known_kind(const char *kind)
{
    for (int i = 0; s_kinds[i]; i++) {
        if (strcmp(kind, s_kinds[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void
s_record_free(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

//  Longest map key: kind, separator and a sender-key name.
#define S_MAPKEY_MAX 704

//  Map key for (kind, key) into buf (S_MAPKEY_MAX bytes). Returns -1 when
//  it does not fit (such a key is never stored).
static int
s_mapkey(char *buf, const char *kind, const char *key)
{
    int n = snprintf(buf, S_MAPKEY_MAX, "%s\x1f%s", kind, key);
    return n < 0 || n >= S_MAPKEY_MAX ? -1 : 0;
}

static const s_record_t *
s_find(wa_sigstore_t *self, const char *kind, const char *key)
{
    char mk[S_MAPKEY_MAX];
    if (s_mapkey(mk, kind, key) != 0) {
        return NULL;
    }
    return (const s_record_t *) zhashx_lookup(self->records, mk);
}

//  Store or (data NULL) delete; reports the change when `report`.
static void
s_put(wa_sigstore_t *self, const char *kind, const char *key,
      const uint8_t *data, size_t len, bool report)
{
    char mk[S_MAPKEY_MAX];
    if (s_mapkey(mk, kind, key) != 0) {
        return;
    }
    const s_record_t *old = (const s_record_t *) zhashx_lookup(self->records, mk);
    if (old) {
        self->bytes -= old->len;
        zhashx_delete(self->records, mk);
    }
    if (data) {
        s_record_t *rec = cm_alloc(sizeof *rec + len);
        rec->len = (uint32_t) len;
        memcpy(rec->data, data, len);
        zhashx_insert(self->records, mk, rec);
        self->bytes += len;
    }
    if (report && self->change_fn && (data || old)) {
        self->change_fn(self->change_arg, kind, key, data, data ? len : 0);
    }
}

static void
s_address_key(char *buf, size_t size, const signal_protocol_address *address)
{
    snprintf(buf, size, "%.*s.%d", (int) address->name_len, address->name,
             (int) address->device_id);
}

static void
s_sender_key(char *buf, size_t size, const signal_protocol_sender_key_name *n)
{
    snprintf(buf, size, "%.*s::%.*s.%d", (int) n->group_id_len, n->group_id,
             (int) n->sender.name_len, n->sender.name,
             (int) n->sender.device_id);
}

//  --------------------------------------------------------------------
//  Session store

static int
s_load_session(signal_buffer **record, signal_buffer **user_record,
               const signal_protocol_address *address, void *user_data)
{
    char key[320];
    s_address_key(key, sizeof key, address);
    const s_record_t *r = s_find((wa_sigstore_t *) user_data, "session", key);
    if (!r) {
        return 0;
    }
    *record = signal_buffer_create(r->data, r->len);
    *user_record = NULL;
    return 1;
}

static int
s_sub_device_sessions(signal_int_list **sessions, const char *name,
                      size_t name_len, void *user_data)
{
    wa_sigstore_t *self = (wa_sigstore_t *) user_data;
    signal_int_list *list = signal_int_list_alloc();
    if (!list) {
        return SG_ERR_NOMEM;
    }
    char prefix[320];
    int plen = snprintf(prefix, sizeof prefix, "session\x1f%.*s.",
                        (int) name_len, name);
    for (void *it = zhashx_first(self->records); it;
         it = zhashx_next(self->records)) {
        const char *mk = (const char *) zhashx_cursor(self->records);
        if (strncmp(mk, prefix, (size_t) plen) == 0) {
            signal_int_list_push_back(list, atoi(mk + plen));
        }
    }
    *sessions = list;
    return (int) signal_int_list_size(list);
}

static int
s_store_session(const signal_protocol_address *address, uint8_t *record,
                size_t record_len, uint8_t *user_record,
                size_t user_record_len, void *user_data)
{
    if (record_len > WA_SIGSTORE_MAX_RECORD) {
        return SG_ERR_INVAL;
    }
    char key[320];
    s_address_key(key, sizeof key, address);
    s_put((wa_sigstore_t *) user_data, "session", key, record, record_len,
          true);
    return SG_SUCCESS;
}

static int
s_contains_session(const signal_protocol_address *address, void *user_data)
{
    char key[320];
    s_address_key(key, sizeof key, address);
    return s_find((wa_sigstore_t *) user_data, "session", key) ? 1 : 0;
}

static int
s_delete_session(const signal_protocol_address *address, void *user_data)
{
    wa_sigstore_t *self = (wa_sigstore_t *) user_data;
    char key[320];
    s_address_key(key, sizeof key, address);
    if (!s_find(self, "session", key)) {
        return 0;
    }
    s_put(self, "session", key, NULL, 0, true);
    return 1;
}

static int
s_delete_all_sessions(const char *name, size_t name_len, void *user_data)
{
    wa_sigstore_t *self = (wa_sigstore_t *) user_data;
    signal_int_list *devices = NULL;
    int n = s_sub_device_sessions(&devices, name, name_len, user_data);
    for (int i = 0; i < n; i++) {
        char key[320];
        snprintf(key, sizeof key, "%.*s.%d", (int) name_len, name,
                 signal_int_list_at(devices, (unsigned) i));
        s_put(self, "session", key, NULL, 0, true);
    }
    signal_int_list_free(devices);
    return n;
}

//  --------------------------------------------------------------------
//  Pre-key and signed pre-key stores

static int
s_load_id(wa_sigstore_t *self, const char *kind, uint32_t id,
          signal_buffer **record)
{
    char key[16];
    snprintf(key, sizeof key, "%" PRIu32, id);
    const s_record_t *r = s_find(self, kind, key);
    if (!r) {
        return SG_ERR_INVALID_KEY_ID;
    }
    *record = signal_buffer_create(r->data, r->len);
    return SG_SUCCESS;
}

static int
s_store_id(wa_sigstore_t *self, const char *kind, uint32_t id,
           const uint8_t *record, size_t len)
{
    if (len > WA_SIGSTORE_MAX_RECORD) {
        return SG_ERR_INVAL;
    }
    char key[16];
    snprintf(key, sizeof key, "%" PRIu32, id);
    s_put(self, kind, key, record, len, true);
    return SG_SUCCESS;
}

static int
s_contains_id(wa_sigstore_t *self, const char *kind, uint32_t id)
{
    char key[16];
    snprintf(key, sizeof key, "%" PRIu32, id);
    return s_find(self, kind, key) ? 1 : 0;
}

static int
s_remove_id(wa_sigstore_t *self, const char *kind, uint32_t id)
{
    char key[16];
    snprintf(key, sizeof key, "%" PRIu32, id);
    s_put(self, kind, key, NULL, 0, true);
    return SG_SUCCESS;
}

static int
s_load_pre_key(signal_buffer **record, uint32_t id, void *user_data)
{
    return s_load_id((wa_sigstore_t *) user_data, "prekey", id, record);
}

static int
s_store_pre_key(uint32_t id, uint8_t *record, size_t len, void *user_data)
{
    return s_store_id((wa_sigstore_t *) user_data, "prekey", id, record, len);
}

static int
s_contains_pre_key(uint32_t id, void *user_data)
{
    return s_contains_id((wa_sigstore_t *) user_data, "prekey", id);
}

static int
s_remove_pre_key(uint32_t id, void *user_data)
{
    return s_remove_id((wa_sigstore_t *) user_data, "prekey", id);
}

static int
s_load_signed(signal_buffer **record, uint32_t id, void *user_data)
{
    return s_load_id((wa_sigstore_t *) user_data, "signed_prekey", id, record);
}

static int
s_store_signed(uint32_t id, uint8_t *record, size_t len, void *user_data)
{
    return s_store_id((wa_sigstore_t *) user_data, "signed_prekey", id,
                      record, len);
}

static int
s_contains_signed(uint32_t id, void *user_data)
{
    return s_contains_id((wa_sigstore_t *) user_data, "signed_prekey", id);
}

static int
s_remove_signed(uint32_t id, void *user_data)
{
    return s_remove_id((wa_sigstore_t *) user_data, "signed_prekey", id);
}

//  --------------------------------------------------------------------
//  Identity store. WhatsApp clients trust a contact's new identity (the
//  contact re-installed); we record it and carry on.

static int
s_identity_pair(signal_buffer **public_data, signal_buffer **private_data,
                void *user_data)
{
    wa_sigstore_t *self = (wa_sigstore_t *) user_data;
    if (!self->has_identity) {
        return SG_ERR_INVALID_KEY;
    }
    uint8_t djb[WA_DJB_KEY_LEN];
    wa_signal_djb_encode(self->pub, djb);
    *public_data = signal_buffer_create(djb, sizeof djb);
    *private_data = signal_buffer_create(self->priv, 32);
    return SG_SUCCESS;
}

static int
s_registration_id(void *user_data, uint32_t *registration_id)
{
    wa_sigstore_t *self = (wa_sigstore_t *) user_data;
    *registration_id = self->registration_id;
    return SG_SUCCESS;
}

static int
s_save_identity(const signal_protocol_address *address, uint8_t *key_data,
                size_t key_len, void *user_data)
{
    if (key_len > 64) {
        return SG_ERR_INVAL;
    }
    char key[320];
    s_address_key(key, sizeof key, address);
    wa_sigstore_t *self = (wa_sigstore_t *) user_data;
    const s_record_t *old = s_find(self, "identity", key);
    //  Unchanged identities are not rewritten (saves a database write
    //  per message).
    if (key_data && old && old->len == key_len
        && memcmp(old->data, key_data, key_len) == 0) {
        return SG_SUCCESS;
    }
    s_put(self, "identity", key, key_data, key_data ? key_len : 0, true);
    return SG_SUCCESS;
}

static int
s_is_trusted(const signal_protocol_address *address, uint8_t *key_data,
             size_t key_len, void *user_data)
{
    return 1;
}

//  --------------------------------------------------------------------
//  Sender key store

static int
s_store_sender_key(const signal_protocol_sender_key_name *name,
                   uint8_t *record, size_t record_len, uint8_t *user_record,
                   size_t user_record_len, void *user_data)
{
    if (record_len > WA_SIGSTORE_MAX_RECORD) {
        return SG_ERR_INVAL;
    }
    char key[640];
    s_sender_key(key, sizeof key, name);
    s_put((wa_sigstore_t *) user_data, "sender_key", key, record, record_len,
          true);
    return SG_SUCCESS;
}

static int
s_load_sender_key(signal_buffer **record, signal_buffer **user_record,
                  const signal_protocol_sender_key_name *name,
                  void *user_data)
{
    char key[640];
    s_sender_key(key, sizeof key, name);
    const s_record_t *r = s_find((wa_sigstore_t *) user_data, "sender_key",
                                 key);
    if (!r) {
        return 0;
    }
    *record = signal_buffer_create(r->data, r->len);
    *user_record = NULL;
    return 1;
}

//  --------------------------------------------------------------------

wa_sigstore_t *
wa_sigstore_new(wa_signal_t *signal)
{
    assert(signal);
    wa_sigstore_t *self = cm_alloc(sizeof *self);
    self->signal = signal;
    self->records = zhashx_new();
    zhashx_set_destructor(self->records, s_record_free);
    if (signal_protocol_store_context_create(&self->ctx,
                                             wa_signal_context(signal))
        != 0) {
        wa_sigstore_destroy(&self);
        return NULL;
    }
    signal_protocol_session_store sessions = {
        .load_session_func = s_load_session,
        .get_sub_device_sessions_func = s_sub_device_sessions,
        .store_session_func = s_store_session,
        .contains_session_func = s_contains_session,
        .delete_session_func = s_delete_session,
        .delete_all_sessions_func = s_delete_all_sessions,
        .user_data = self};
    signal_protocol_pre_key_store prekeys = {
        .load_pre_key = s_load_pre_key,
        .store_pre_key = s_store_pre_key,
        .contains_pre_key = s_contains_pre_key,
        .remove_pre_key = s_remove_pre_key,
        .user_data = self};
    signal_protocol_signed_pre_key_store signed_prekeys = {
        .load_signed_pre_key = s_load_signed,
        .store_signed_pre_key = s_store_signed,
        .contains_signed_pre_key = s_contains_signed,
        .remove_signed_pre_key = s_remove_signed,
        .user_data = self};
    signal_protocol_identity_key_store identities = {
        .get_identity_key_pair = s_identity_pair,
        .get_local_registration_id = s_registration_id,
        .save_identity = s_save_identity,
        .is_trusted_identity = s_is_trusted,
        .user_data = self};
    signal_protocol_sender_key_store sender_keys = {
        .store_sender_key = s_store_sender_key,
        .load_sender_key = s_load_sender_key,
        .user_data = self};
    signal_protocol_store_context_set_session_store(self->ctx, &sessions);
    signal_protocol_store_context_set_pre_key_store(self->ctx, &prekeys);
    signal_protocol_store_context_set_signed_pre_key_store(self->ctx,
                                                           &signed_prekeys);
    signal_protocol_store_context_set_identity_key_store(self->ctx,
                                                         &identities);
    signal_protocol_store_context_set_sender_key_store(self->ctx,
                                                       &sender_keys);
    return self;
}

void
wa_sigstore_destroy(wa_sigstore_t **self_p)
{
    assert(self_p);
    wa_sigstore_t *self = *self_p;
    if (!self) {
        return;
    }
    if (self->ctx) {
        signal_protocol_store_context_destroy(self->ctx);
    }
    zhashx_destroy(&self->records);
    wa_crypto_wipe(self->priv, sizeof self->priv);
    free(self);
    *self_p = NULL;
}

void
wa_sigstore_set_change_fn(wa_sigstore_t *self, wa_sigstore_change_fn *fn,
                          void *arg)
{
    self->change_fn = fn;
    self->change_arg = arg;
}

int
wa_sigstore_set_identity(wa_sigstore_t *self, const uint8_t priv[32],
                         const uint8_t pub[32], uint32_t registration_id)
{
    memcpy(self->priv, priv, 32);
    memcpy(self->pub, pub, 32);
    self->registration_id = registration_id;
    self->has_identity = true;
    return 0;
}

int
wa_sigstore_generate_identity(wa_sigstore_t *self)
{
    uint8_t priv[32], pub[32];
    uint16_t r;
    if (wa_x25519_keypair(priv, pub) != 0 || wa_random(&r, sizeof r) != 0) {
        return -1;
    }
    //  registration ids are 14-bit and never 0, as in libsignal
    int rc = wa_sigstore_set_identity(self, priv, pub, (r & 0x3FFF) | 1);
    wa_crypto_wipe(priv, sizeof priv);
    return rc;
}

int
wa_sigstore_identity(wa_sigstore_t *self, uint8_t priv[32], uint8_t pub[32],
                     uint32_t *registration_id)
{
    if (!self->has_identity) {
        return -1;
    }
    if (priv) {
        memcpy(priv, self->priv, 32);
    }
    if (pub) {
        memcpy(pub, self->pub, 32);
    }
    if (registration_id) {
        *registration_id = self->registration_id;
    }
    return 0;
}

int
wa_sigstore_generate_signed_prekey(wa_sigstore_t *self, uint32_t id,
                                   uint8_t pub[32], uint8_t sig[64])
{
    if (!self->has_identity) {
        return -1;
    }
    signal_context *sctx = wa_signal_context(self->signal);
    ec_public_key *ipub = wa_signal_public_key(self->signal, self->pub);
    ec_private_key *ipriv = wa_signal_private_key(self->signal, self->priv);
    ratchet_identity_key_pair *pair = NULL;
    session_signed_pre_key *spk = NULL;
    signal_buffer *buf = NULL;
    int rc = -1;
    if (!ipub || !ipriv
        || ratchet_identity_key_pair_create(&pair, ipub, ipriv) != 0) {
        goto cleanup;
    }
    if (signal_protocol_key_helper_generate_signed_pre_key(
            &spk, pair, id, (uint64_t) cm_now_ms(), sctx)
            != 0
        || session_signed_pre_key_serialize(&buf, spk) != 0) {
        goto cleanup;
    }
    s_store_id(self, "signed_prekey", id, signal_buffer_data(buf),
               signal_buffer_len(buf));
    rc = wa_sigstore_signed_prekey(self, id, pub, sig);
cleanup:
    signal_buffer_free(buf);
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(pair);
    SIGNAL_UNREF(ipub);
    SIGNAL_UNREF(ipriv);
    return rc;
}

int
wa_sigstore_signed_prekey(wa_sigstore_t *self, uint32_t id, uint8_t pub[32],
                          uint8_t sig[64])
{
    char key[16];
    snprintf(key, sizeof key, "%" PRIu32, id);
    const s_record_t *r = s_find(self, "signed_prekey", key);
    session_signed_pre_key *spk = NULL;
    if (!r
        || session_signed_pre_key_deserialize(&spk, r->data, r->len,
                                              wa_signal_context(self->signal))
               != 0) {
        return -1;
    }
    int rc = 0;
    if (pub) {
        rc = wa_signal_public_raw(
            ec_key_pair_get_public(session_signed_pre_key_get_key_pair(spk)),
            pub);
    }
    if (sig && rc == 0) {
        if (session_signed_pre_key_get_signature_len(spk) != 64) {
            rc = -1;
        }
        else {
            memcpy(sig, session_signed_pre_key_get_signature(spk), 64);
        }
    }
    SIGNAL_UNREF(spk);
    return rc;
}

int
wa_sigstore_generate_prekeys(wa_sigstore_t *self, uint32_t start,
                             unsigned count)
{
    signal_protocol_key_helper_pre_key_list_node *head = NULL;
    if (signal_protocol_key_helper_generate_pre_keys(
            &head, start, count, wa_signal_context(self->signal))
        != 0) {
        return -1;
    }
    int rc = 0;
    for (signal_protocol_key_helper_pre_key_list_node *n = head; n;
         n = signal_protocol_key_helper_key_list_next(n)) {
        session_pre_key *pk = signal_protocol_key_helper_key_list_element(n);
        signal_buffer *buf = NULL;
        if (session_pre_key_serialize(&buf, pk) != 0) {
            rc = -1;
            break;
        }
        s_store_id(self, "prekey", session_pre_key_get_id(pk),
                   signal_buffer_data(buf), signal_buffer_len(buf));
        signal_buffer_free(buf);
    }
    signal_protocol_key_helper_key_list_free(head);
    return rc;
}

int
wa_sigstore_prekey(wa_sigstore_t *self, uint32_t id, uint8_t pub[32])
{
    char key[16];
    snprintf(key, sizeof key, "%" PRIu32, id);
    const s_record_t *r = s_find(self, "prekey", key);
    session_pre_key *pk = NULL;
    if (!r
        || session_pre_key_deserialize(&pk, r->data, r->len,
                                       wa_signal_context(self->signal))
               != 0) {
        return -1;
    }
    int rc = wa_signal_public_raw(
        ec_key_pair_get_public(session_pre_key_get_key_pair(pk)), pub);
    SIGNAL_UNREF(pk);
    return rc;
}

size_t
wa_sigstore_count(wa_sigstore_t *self, const char *kind)
{
    char prefix[64];
    int plen = snprintf(prefix, sizeof prefix, "%s\x1f", kind);
    size_t n = 0;
    for (void *it = zhashx_first(self->records); it;
         it = zhashx_next(self->records)) {
        if (strncmp((const char *) zhashx_cursor(self->records), prefix,
                    (size_t) plen)
            == 0) {
            n++;
        }
    }
    return n;
}

int
wa_sigstore_load(wa_sigstore_t *self, const char *kind, const char *key,
                 const uint8_t *data, size_t len)
{
    if (!kind || !key || !data || !s_known_kind(kind)
        || len > WA_SIGSTORE_MAX_RECORD || strlen(key) > 400) {
        return -1;
    }
    s_put(self, kind, key, data, len, false);
    return 0;
}

const uint8_t *
wa_sigstore_get(wa_sigstore_t *self, const char *kind, const char *key,
                size_t *len_p)
{
    const s_record_t *r = s_find(self, kind, key);
    if (len_p) {
        *len_p = r ? r->len : 0;
    }
    return r ? r->data : NULL;
}

int
wa_sigstore_put(wa_sigstore_t *self, const char *kind, const char *key,
                const uint8_t *data, size_t len)
{
    assert(self);
    if (!kind || !key || !data || !s_known_kind(kind) ||
        len > WA_SIGSTORE_MAX_RECORD) {
        return -1;
    }
    char mk[S_MAPKEY_MAX];
    if (s_mapkey(mk, kind, key) != 0) {
        return -1;
    }
    s_put(self, kind, key, data, len, true);
    return 0;
}

int
wa_sigstore_remove(wa_sigstore_t *self, const char *kind, const char *key)
{
    bool had = s_find(self, kind, key) != NULL;
    s_put(self, kind, key, NULL, 0, true);
    return had ? 0 : -1;
}

wa_signal_t *
wa_sigstore_signal(wa_sigstore_t *self)
{
    return self->signal;
}

signal_protocol_store_context *
wa_sigstore_context(wa_sigstore_t *self)
{
    return self->ctx;
}

size_t
wa_sigstore_bytes(wa_sigstore_t *self)
{
    return self->bytes + zhashx_size(self->records) * 64;
}

//  --------------------------------------------------------------------
//  Self test: Alice and Bob talk through libsignal over two stores; Bob's
//  store is then rebuilt from its change journal and the talk goes on.

typedef struct {
    wa_sigstore_t *replica;  //  store rebuilt from changes
    int changes;             //  changes seen
    int deletions;           //  deletions seen
} s_journal_t;

static void
s_journal(void *arg, const char *kind, const char *key, const uint8_t *data,
          size_t len)
{
    s_journal_t *j = (s_journal_t *) arg;
    j->changes++;
    if (!data) {
        j->deletions++;
        //  deleting in the replica: load nothing, drop the record
        s_put(j->replica, kind, key, NULL, 0, false);
    }
    else {
        assert(wa_sigstore_load(j->replica, kind, key, data, len) == 0);
    }
}

static signal_buffer *
s_encrypt(wa_sigstore_t *store, wa_signal_t *sig, const char *to,
          const char *text, int *type)
{
    signal_protocol_address addr = {to, strlen(to), 0};
    session_cipher *cipher = NULL;
    assert(session_cipher_create(&cipher, wa_sigstore_context(store), &addr,
                                 wa_signal_context(sig))
           == 0);
    ciphertext_message *msg = NULL;
    assert(session_cipher_encrypt(cipher, (const uint8_t *) text,
                                  strlen(text), &msg)
           == 0);
    *type = ciphertext_message_get_type(msg);
    signal_buffer *out =
        signal_buffer_copy(ciphertext_message_get_serialized(msg));
    SIGNAL_UNREF(msg);
    session_cipher_free(cipher);
    return out;
}

static char *
s_decrypt(wa_sigstore_t *store, wa_signal_t *sig, const char *from,
          signal_buffer *wire, int type)
{
    signal_protocol_address addr = {from, strlen(from), 0};
    session_cipher *cipher = NULL;
    assert(session_cipher_create(&cipher, wa_sigstore_context(store), &addr,
                                 wa_signal_context(sig))
           == 0);
    signal_buffer *plain = NULL;
    int rc;
    if (type == CIPHERTEXT_PREKEY_TYPE) {
        pre_key_signal_message *m = NULL;
        assert(pre_key_signal_message_deserialize(
                   &m, signal_buffer_data(wire), signal_buffer_len(wire),
                   wa_signal_context(sig))
               == 0);
        rc = session_cipher_decrypt_pre_key_signal_message(cipher, m, NULL,
                                                           &plain);
        SIGNAL_UNREF(m);
    }
    else {
        signal_message *m = NULL;
        assert(signal_message_deserialize(&m, signal_buffer_data(wire),
                                          signal_buffer_len(wire),
                                          wa_signal_context(sig))
               == 0);
        rc = session_cipher_decrypt_signal_message(cipher, m, NULL, &plain);
        SIGNAL_UNREF(m);
    }
    session_cipher_free(cipher);
    if (rc != 0) {
        return NULL;
    }
    char *text = cm_strndup((const char *) signal_buffer_data(plain),
                            signal_buffer_len(plain));
    signal_buffer_free(plain);
    return text;
}

void
wa_sigstore_test(bool verbose)
{
    printf(" * wa_sigstore: ");
    wa_signal_t *sig = wa_signal_new();
    assert(sig);
    wa_sigstore_t *alice = wa_sigstore_new(sig);
    wa_sigstore_t *bob = wa_sigstore_new(sig);
    s_journal_t journal = {wa_sigstore_new(sig), 0, 0};
    wa_sigstore_set_change_fn(bob, s_journal, &journal);

    uint8_t bpub[32], bpriv[32];
    uint32_t breg = 0;
    assert(wa_sigstore_identity(bob, NULL, NULL, NULL) == -1);
    assert(wa_sigstore_generate_identity(alice) == 0);
    assert(wa_sigstore_generate_identity(bob) == 0);
    assert(wa_sigstore_identity(bob, bpriv, bpub, &breg) == 0);
    assert(breg >= 1 && breg <= 0x3FFF);
    wa_sigstore_set_identity(journal.replica, bpriv, bpub, breg);

    //  Bob's bundle
    uint8_t spk_pub[32], spk_sig[64], pk_pub[32];
    assert(wa_sigstore_generate_signed_prekey(bob, 7, spk_pub, spk_sig) == 0);
    uint8_t djb[33];
    wa_signal_djb_encode(spk_pub, djb);
    assert(wa_xeddsa_verify(bpub, djb, sizeof djb, spk_sig, 64) == 0);
    djb[5] ^= 1;
    assert(wa_xeddsa_verify(bpub, djb, sizeof djb, spk_sig, 64) == -1);
    assert(wa_sigstore_generate_prekeys(bob, 100, 30) == 0);
    assert(wa_sigstore_count(bob, "prekey") == 30);
    assert(wa_sigstore_prekey(bob, 101, pk_pub) == 0);
    assert(wa_sigstore_prekey(bob, 99, pk_pub) == -1);
    assert(wa_sigstore_prekey(bob, 100, pk_pub) == 0);
    size_t changes_before = (size_t) journal.changes;
    assert(changes_before == 31);

    //  Alice builds a session from the bundle and writes first
    ec_public_key *k_pk = wa_signal_public_key(sig, pk_pub);
    ec_public_key *k_spk = wa_signal_public_key(sig, spk_pub);
    ec_public_key *k_id = wa_signal_public_key(sig, bpub);
    session_pre_key_bundle *bundle = NULL;
    assert(session_pre_key_bundle_create(&bundle, breg, 0, 100, k_pk, 7,
                                         k_spk, spk_sig, 64, k_id)
           == 0);
    signal_protocol_address baddr = {"bob", 3, 0};
    session_builder *builder = NULL;
    assert(session_builder_create(&builder, wa_sigstore_context(alice),
                                  &baddr, wa_signal_context(sig))
           == 0);
    assert(session_builder_process_pre_key_bundle(builder, bundle) == 0);
    session_builder_free(builder);
    SIGNAL_UNREF(bundle);
    SIGNAL_UNREF(k_pk);
    SIGNAL_UNREF(k_spk);
    SIGNAL_UNREF(k_id);

    int type = 0;
    signal_buffer *wire = s_encrypt(alice, sig, "bob", "hello bob", &type);
    assert(type == CIPHERTEXT_PREKEY_TYPE);
    char *text = s_decrypt(bob, sig, "alice", wire, type);
    assert(text && streq(text, "hello bob"));
    free(text);
    signal_buffer_free(wire);
    //  the one-time pre-key was consumed, a session and identity saved
    assert(wa_sigstore_count(bob, "prekey") == 29);
    assert(journal.deletions == 1);
    assert(wa_sigstore_count(bob, "session") == 1);
    assert(wa_sigstore_count(bob, "identity") == 1);

    //  Bob answers
    wire = s_encrypt(bob, sig, "alice", "hi alice", &type);
    assert(type == CIPHERTEXT_SIGNAL_TYPE);
    text = s_decrypt(alice, sig, "bob", wire, type);
    assert(text && streq(text, "hi alice"));
    free(text);
    signal_buffer_free(wire);

    //  Bob's replica, rebuilt only from the journal, carries on
    wire = s_encrypt(alice, sig, "bob", "still there?", &type);
    text = s_decrypt(journal.replica, sig, "alice", wire, type);
    assert(text && streq(text, "still there?"));
    free(text);
    signal_buffer_free(wire);
    assert(wa_sigstore_count(journal.replica, "prekey") == 29);

    //  A tampered message fails cleanly
    wire = s_encrypt(alice, sig, "bob", "tampered", &type);
    signal_buffer_data(wire)[signal_buffer_len(wire) - 3] ^= 0x40;
    assert(s_decrypt(bob, sig, "alice", wire, type) == NULL);
    signal_buffer_free(wire);

    //  Bad loads are refused
    assert(wa_sigstore_load(bob, "bogus", "1", (uint8_t *) "x", 1) == -1);
    assert(wa_sigstore_load(bob, "prekey", "1", (uint8_t *) "x",
                            WA_SIGSTORE_MAX_RECORD + 1)
           == -1);
    size_t len = 0;
    assert(wa_sigstore_get(bob, "session", "alice.0", &len) && len > 0);
    assert(wa_sigstore_bytes(bob) > len);

    wa_sigstore_destroy(&journal.replica);
    wa_sigstore_destroy(&alice);
    wa_sigstore_destroy(&bob);
    wa_sigstore_destroy(&bob);
    wa_signal_destroy(&sig);
    printf("OK\n");
}
