/*  wa_noise - WhatsApp's Noise_XX_25519_AESGCM_SHA256 handshake

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The symmetric state follows the Noise specification with WhatsApp's
    conventions (docs/wa-protocol.md §2): h and ck start as the 32-byte
    name, one counter n serves both directions during the handshake and
    is reset by mixKey, and handshake ciphertexts use h as associated
    data. Keys are wiped when they are no longer needed.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_cert.h"
#include "wa/wa_crypto.h"
#include "wa/wa_frame.h"
#include "wa/wa_handshake.pb-c.h"
#include "wa/wa_noise.h"
#include "wa/wa_vectors.h"

typedef Wa__Hs__HandshakeMessage pb_msg_t;

typedef enum {
    S_START,        //  nothing sent or received yet
    S_HELLO,        //  client: hello sent; server: hello read
    S_SERVER_HELLO, //  client: server hello read; server: it was sent
    S_READY,        //  transport mode
    S_FAILED        //  a step failed; the connection must be dropped
} state_t;

struct _wa_noise_t {
    wa_noise_role_t role;     //  initiator or responder
    state_t state;            //  handshake progress
    uint8_t h[32];            //  handshake hash
    uint8_t ck[32];           //  chaining key
    uint8_t k[32];            //  current handshake cipher key
    uint32_t n;               //  handshake nonce counter
    bool has_k;               //  k is set (after the first mixKey)
    uint8_t s_priv[32];       //  our static private key
    uint8_t s_pub[32];        //  our static public key
    uint8_t e_priv[32];       //  our ephemeral private key
    uint8_t e_pub[32];        //  our ephemeral public key
    uint8_t re[32];           //  peer ephemeral public key
    uint8_t rs[32];           //  peer static public key
    bool has_rs;              //  rs is known
    uint8_t root[32];         //  trusted certificate root (initiator)
    uint64_t now;             //  fixed check time, 0 = wall clock
    uint8_t *payload;         //  decrypted ClientPayload (responder)
    size_t payload_len;       //  its length
    uint8_t write_key[32];    //  transport key for sending
    uint8_t read_key[32];     //  transport key for receiving
    wa_gcm_t *writer;         //  write_key's keyed cipher, or NULL
    wa_gcm_t *reader;         //  read_key's keyed cipher, or NULL
    uint64_t write_n;         //  transport send counter
    uint64_t read_n;          //  transport receive counter
    const char *error;        //  why the object failed
    wa_noise_trace_fn *trace; //  test hook, or NULL
    void *trace_arg;          //  its argument
};

static void
s_trace(wa_noise_t *self, const char *step)
{
    if (self->trace) {
        self->trace(self->trace_arg, step, self->h, self->ck, self->k);
    }
}

static int
s_fail(wa_noise_t *self, const char *error)
{
    self->state = S_FAILED;
    self->error = error;
    return -1;
}

static void
s_mix_hash(wa_noise_t *self, const uint8_t *data, size_t len)
{
    wa_part_t parts[2] = {{self->h, 32}, {data, len}};
    int rc = wa_sha256_parts(parts, 2, self->h);
    assert(rc == 0);
    s_trace(self, "mix_hash");
}

//  ck, k = HKDF(salt = ck, ikm, info = "", 64); n = 0.
static int
s_mix_key(wa_noise_t *self, const uint8_t *ikm, size_t ikm_len)
{
    uint8_t out[64];
    if (wa_hkdf_sha256(self->ck, 32, ikm, ikm_len, "", 0, out, 64)) {
        return -1;
    }
    memcpy(self->ck, out, 32);
    memcpy(self->k, out + 32, 32);
    wa_crypto_wipe(out, sizeof(out));
    self->n = 0;
    self->has_k = true;
    s_trace(self, "mix_key");
    return 0;
}

//  mixKey(DH(priv, pub)).
static int
s_mix_dh(wa_noise_t *self, const uint8_t priv[32], const uint8_t pub[32])
{
    uint8_t shared[32];
    if (wa_x25519_shared(priv, pub, shared)) {
        return -1;
    }
    int rc = s_mix_key(self, shared, sizeof(shared));
    wa_crypto_wipe(shared, sizeof(shared));
    return rc;
}

static void
s_iv(uint64_t n, uint8_t iv[WA_GCM_IV_LEN])
{
    memset(iv, 0, WA_GCM_IV_LEN);
    iv[8] = (uint8_t)(n >> 24);
    iv[9] = (uint8_t)(n >> 16);
    iv[10] = (uint8_t)(n >> 8);
    iv[11] = (uint8_t)n;
}

//  Handshake encrypt with ad = h, then mixHash(ciphertext). out holds
//  len + 16 bytes.
static int
s_encrypt_hash(wa_noise_t *self, const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t iv[WA_GCM_IV_LEN];
    s_iv(self->n, iv);
    if (wa_aes_gcm_encrypt(self->k, iv, sizeof(iv), self->h, 32, in, len,
                           out)) {
        return -1;
    }
    self->n++;
    s_mix_hash(self, out, len + WA_NOISE_TAG_LEN);
    return 0;
}

//  Handshake decrypt with ad = h, then mixHash(ciphertext). out holds
//  len - 16 bytes.
static int
s_decrypt_hash(wa_noise_t *self, const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t iv[WA_GCM_IV_LEN];
    if (len < WA_NOISE_TAG_LEN) {
        return -1;
    }
    s_iv(self->n, iv);
    if (wa_aes_gcm_decrypt(self->k, iv, sizeof(iv), self->h, 32, in, len,
                           out)) {
        return -1;
    }
    self->n++;
    s_mix_hash(self, in, len);
    return 0;
}

//  Derive the transport keys and forget the handshake secrets.
static int
s_split(wa_noise_t *self)
{
    //  HKDF over ck with empty input key material (Noise Split)
    uint8_t out[64];
    if (wa_hkdf_sha256(self->ck, 32, NULL, 0, "", 0, out, 64)) {
        return -1;
    }
    bool initiator = self->role == WA_NOISE_INITIATOR;
    memcpy(self->write_key, initiator ? out : out + 32, 32);
    memcpy(self->read_key, initiator ? out + 32 : out, 32);
    if (self->trace) {
        self->trace(self->trace_arg, "split", self->h, out, out + 32);
    }
    wa_crypto_wipe(out, sizeof(out));
    wa_crypto_wipe(self->ck, 32);
    wa_crypto_wipe(self->k, 32);
    wa_crypto_wipe(self->e_priv, 32);
    //  Keyed once for the connection (NULL: the one-shot calls serve)
    wa_gcm_destroy(&self->writer);
    wa_gcm_destroy(&self->reader);
    self->writer = wa_gcm_new(self->write_key, true);
    self->reader = wa_gcm_new(self->read_key, false);
    self->write_n = self->read_n = 0;
    self->state = S_READY;
    return 0;
}

wa_noise_t *
wa_noise_new(wa_noise_role_t role, const uint8_t static_priv[32],
             const uint8_t *prologue, size_t prologue_len)
{
    assert(static_priv);
    assert(prologue || prologue_len == 0);
    wa_noise_t *self = cm_alloc(sizeof(wa_noise_t));
    self->role = role;
    memcpy(self->s_priv, static_priv, 32);
    if (wa_x25519_public(self->s_priv, self->s_pub)) {
        wa_noise_destroy(&self);
        return NULL;
    }
    memcpy(self->root, wa_cert_root_pub, 32);
    //  The name is exactly 32 bytes, so it is used as is, not hashed.
    memcpy(self->h, WA_NOISE_NAME, 32);
    memcpy(self->ck, WA_NOISE_NAME, 32);
    s_trace(self, "init");
    s_mix_hash(self, prologue, prologue_len);
    return self;
}

void
wa_noise_destroy(wa_noise_t **self_p)
{
    if (self_p && *self_p) {
        wa_noise_t *self = *self_p;
        wa_noise_payload_free(self);
        wa_gcm_destroy(&self->writer);
        wa_gcm_destroy(&self->reader);
        wa_crypto_wipe(self, sizeof(wa_noise_t));
        free(self);
        *self_p = NULL;
    }
}

void
wa_noise_set_root(wa_noise_t *self, const uint8_t root_pub[32])
{
    assert(self && root_pub);
    memcpy(self->root, root_pub, 32);
}

void
wa_noise_set_time(wa_noise_t *self, uint64_t now)
{
    assert(self);
    self->now = now;
}

void
wa_noise_set_trace(wa_noise_t *self, wa_noise_trace_fn *fn, void *arg)
{
    assert(self);
    self->trace = fn;
    self->trace_arg = arg;
}

//  Serialise a HandshakeMessage. Caller owns return value.
static uint8_t *
s_pack(const pb_msg_t *msg, size_t *len_p)
{
    *len_p = wa__hs__handshake_message__get_packed_size(msg);
    uint8_t *out = cm_alloc(*len_p);
    wa__hs__handshake_message__pack(msg, out);
    return out;
}

uint8_t *
wa_noise_client_hello(wa_noise_t *self, size_t *len_p)
{
    assert(self && len_p);
    assert(self->role == WA_NOISE_INITIATOR && self->state == S_START);
    if (wa_x25519_keypair(self->e_priv, self->e_pub)) {
        s_fail(self, "could not generate ephemeral key");
        return NULL;
    }
    s_mix_hash(self, self->e_pub, 32);
    Wa__Hs__HandshakeMessage__ClientHello hello =
        WA__HS__HANDSHAKE_MESSAGE__CLIENT_HELLO__INIT;
    hello.has_ephemeral = true;
    hello.ephemeral.data = self->e_pub;
    hello.ephemeral.len = 32;
    pb_msg_t msg = WA__HS__HANDSHAKE_MESSAGE__INIT;
    msg.client_hello = &hello;
    self->state = S_HELLO;
    return s_pack(&msg, len_p);
}

int
wa_noise_read_server_hello(wa_noise_t *self, const uint8_t *data, size_t len)
{
    assert(self);
    assert(self->role == WA_NOISE_INITIATOR && self->state == S_HELLO);
    pb_msg_t *msg = wa__hs__handshake_message__unpack(NULL, len, data);
    const Wa__Hs__HandshakeMessage__ServerHello *hello =
        msg ? msg->server_hello : NULL;
    int rc = -1;
    uint8_t *cert = NULL;
    if (!hello || !hello->has_ephemeral || hello->ephemeral.len != 32 ||
        !hello->has_static_key ||
        hello->static_key.len != 32 + WA_NOISE_TAG_LEN || !hello->has_payload ||
        hello->payload.len < WA_NOISE_TAG_LEN) {
        s_fail(self, "malformed server hello");
        goto cleanup;
    }
    memcpy(self->re, hello->ephemeral.data, 32);
    s_mix_hash(self, self->re, 32);
    if (s_mix_dh(self, self->e_priv, self->re)) {
        s_fail(self, "bad server ephemeral key");
        goto cleanup;
    }
    if (s_decrypt_hash(self, hello->static_key.data, hello->static_key.len,
                       self->rs)) {
        s_fail(self, "could not decrypt server static key");
        goto cleanup;
    }
    self->has_rs = true;
    if (s_mix_dh(self, self->e_priv, self->rs)) {
        s_fail(self, "bad server static key");
        goto cleanup;
    }
    size_t cert_len = hello->payload.len - WA_NOISE_TAG_LEN;
    cert = cm_alloc(cert_len);
    if (s_decrypt_hash(self, hello->payload.data, hello->payload.len, cert)) {
        s_fail(self, "could not decrypt server certificate");
        goto cleanup;
    }
    uint64_t now = self->now ? self->now : (uint64_t)(cm_now_ms() / 1000);
    const char *reason = NULL;
    if (wa_cert_chain_verify(cert, cert_len, self->root, self->rs, now,
                             &reason)) {
        s_fail(self, reason);
        goto cleanup;
    }
    self->state = S_SERVER_HELLO;
    rc = 0;
cleanup:
    free(cert);
    if (msg) {
        wa__hs__handshake_message__free_unpacked(msg, NULL);
    }
    return rc;
}

uint8_t *
wa_noise_client_finish(wa_noise_t *self, const uint8_t *payload, size_t len,
                       size_t *out_len_p)
{
    assert(self && out_len_p);
    assert(payload || len == 0);
    assert(self->role == WA_NOISE_INITIATOR && self->state == S_SERVER_HELLO);
    uint8_t static_ct[32 + WA_NOISE_TAG_LEN];
    uint8_t *payload_ct = cm_alloc(len + WA_NOISE_TAG_LEN);
    uint8_t *out = NULL;
    if (s_encrypt_hash(self, self->s_pub, 32, static_ct) ||
        s_mix_dh(self, self->s_priv, self->re) ||
        s_encrypt_hash(self, payload, len, payload_ct)) {
        s_fail(self, "could not encrypt client finish");
        goto cleanup;
    }
    Wa__Hs__HandshakeMessage__ClientFinish finish =
        WA__HS__HANDSHAKE_MESSAGE__CLIENT_FINISH__INIT;
    finish.has_static_key = finish.has_payload = true;
    finish.static_key.data = static_ct;
    finish.static_key.len = sizeof(static_ct);
    finish.payload.data = payload_ct;
    finish.payload.len = len + WA_NOISE_TAG_LEN;
    pb_msg_t msg = WA__HS__HANDSHAKE_MESSAGE__INIT;
    msg.client_finish = &finish;
    if (s_split(self)) {
        s_fail(self, "could not derive transport keys");
        goto cleanup;
    }
    out = s_pack(&msg, out_len_p);
cleanup:
    free(payload_ct);
    return out;
}

int
wa_noise_read_client_hello(wa_noise_t *self, const uint8_t *data, size_t len)
{
    assert(self);
    assert(self->role == WA_NOISE_RESPONDER && self->state == S_START);
    pb_msg_t *msg = wa__hs__handshake_message__unpack(NULL, len, data);
    const Wa__Hs__HandshakeMessage__ClientHello *hello =
        msg ? msg->client_hello : NULL;
    int rc = -1;
    if (!hello || !hello->has_ephemeral || hello->ephemeral.len != 32) {
        s_fail(self, "malformed client hello");
    } else {
        memcpy(self->re, hello->ephemeral.data, 32);
        s_mix_hash(self, self->re, 32);
        self->state = S_HELLO;
        rc = 0;
    }
    if (msg) {
        wa__hs__handshake_message__free_unpacked(msg, NULL);
    }
    return rc;
}

uint8_t *
wa_noise_server_hello(wa_noise_t *self, const uint8_t *cert, size_t cert_len,
                      size_t *len_p)
{
    assert(self && len_p);
    assert(cert || cert_len == 0);
    assert(self->role == WA_NOISE_RESPONDER && self->state == S_HELLO);
    uint8_t static_ct[32 + WA_NOISE_TAG_LEN];
    uint8_t *cert_ct = cm_alloc(cert_len + WA_NOISE_TAG_LEN);
    uint8_t *out = NULL;
    if (wa_x25519_keypair(self->e_priv, self->e_pub)) {
        s_fail(self, "could not generate ephemeral key");
        goto cleanup;
    }
    s_mix_hash(self, self->e_pub, 32);
    if (s_mix_dh(self, self->e_priv, self->re)) {
        s_fail(self, "bad client ephemeral key");
        goto cleanup;
    }
    if (s_encrypt_hash(self, self->s_pub, 32, static_ct) ||
        s_mix_dh(self, self->s_priv, self->re) ||
        s_encrypt_hash(self, cert, cert_len, cert_ct)) {
        s_fail(self, "could not encrypt server hello");
        goto cleanup;
    }
    Wa__Hs__HandshakeMessage__ServerHello hello =
        WA__HS__HANDSHAKE_MESSAGE__SERVER_HELLO__INIT;
    hello.has_ephemeral = hello.has_static_key = hello.has_payload = true;
    hello.ephemeral.data = self->e_pub;
    hello.ephemeral.len = 32;
    hello.static_key.data = static_ct;
    hello.static_key.len = sizeof(static_ct);
    hello.payload.data = cert_ct;
    hello.payload.len = cert_len + WA_NOISE_TAG_LEN;
    pb_msg_t msg = WA__HS__HANDSHAKE_MESSAGE__INIT;
    msg.server_hello = &hello;
    self->state = S_SERVER_HELLO;
    out = s_pack(&msg, len_p);
cleanup:
    free(cert_ct);
    return out;
}

int
wa_noise_read_client_finish(wa_noise_t *self, const uint8_t *data, size_t len)
{
    assert(self);
    assert(self->role == WA_NOISE_RESPONDER && self->state == S_SERVER_HELLO);
    pb_msg_t *msg = wa__hs__handshake_message__unpack(NULL, len, data);
    const Wa__Hs__HandshakeMessage__ClientFinish *finish =
        msg ? msg->client_finish : NULL;
    int rc = -1;
    if (!finish || !finish->has_static_key ||
        finish->static_key.len != 32 + WA_NOISE_TAG_LEN ||
        !finish->has_payload || finish->payload.len < WA_NOISE_TAG_LEN) {
        s_fail(self, "malformed client finish");
        goto cleanup;
    }
    if (s_decrypt_hash(self, finish->static_key.data, finish->static_key.len,
                       self->rs)) {
        s_fail(self, "could not decrypt client static key");
        goto cleanup;
    }
    self->has_rs = true;
    if (s_mix_dh(self, self->e_priv, self->rs)) {
        s_fail(self, "bad client static key");
        goto cleanup;
    }
    self->payload_len = finish->payload.len - WA_NOISE_TAG_LEN;
    self->payload = cm_alloc(self->payload_len);
    if (s_decrypt_hash(self, finish->payload.data, finish->payload.len,
                       self->payload)) {
        wa_noise_payload_free(self);
        s_fail(self, "could not decrypt client payload");
        goto cleanup;
    }
    if (s_split(self)) {
        s_fail(self, "could not derive transport keys");
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (msg) {
        wa__hs__handshake_message__free_unpacked(msg, NULL);
    }
    return rc;
}

const uint8_t *
wa_noise_payload(wa_noise_t *self, size_t *len_p)
{
    assert(self && len_p);
    *len_p = self->payload_len;
    return self->payload;
}

void
wa_noise_payload_free(wa_noise_t *self)
{
    assert(self);
    if (self->payload) {
        wa_crypto_wipe(self->payload, self->payload_len);
        free(self->payload);
        self->payload = NULL;
        self->payload_len = 0;
    }
}

const uint8_t *
wa_noise_remote_static(wa_noise_t *self)
{
    assert(self);
    return self->has_rs ? self->rs : NULL;
}

const uint8_t *
wa_noise_handshake_hash(wa_noise_t *self)
{
    assert(self);
    return self->h;
}

const uint8_t *
wa_noise_local_static(wa_noise_t *self)
{
    assert(self);
    return self->s_pub;
}

bool
wa_noise_ready(wa_noise_t *self)
{
    assert(self);
    return self->state == S_READY;
}

bool
wa_noise_failed(wa_noise_t *self)
{
    assert(self);
    return self->state == S_FAILED;
}

const char *
wa_noise_error(wa_noise_t *self)
{
    assert(self);
    return self->error;
}

int
wa_noise_encrypt(wa_noise_t *self, const uint8_t *in, size_t len, uint8_t *out)
{
    assert(self && out);
    assert(in || len == 0);
    if (self->state != S_READY || len > WA_NOISE_MAX_PLAINTEXT ||
        self->write_n > UINT32_MAX) {
        return -1;
    }
    uint8_t iv[WA_GCM_IV_LEN];
    s_iv(self->write_n, iv);
    if (self->writer ? wa_gcm_seal(self->writer, iv, NULL, 0, in, len, out)
                     : wa_aes_gcm_encrypt(self->write_key, iv, sizeof(iv), NULL,
                                          0, in, len, out)) {
        return -1;
    }
    self->write_n++;
    return 0;
}

int
wa_noise_decrypt(wa_noise_t *self, const uint8_t *in, size_t len, uint8_t *out)
{
    assert(self && out);
    assert(in || len == 0);
    if (self->state != S_READY) {
        return -1;
    }
    if (len < WA_NOISE_TAG_LEN || self->read_n > UINT32_MAX) {
        return s_fail(self, "short transport frame");
    }
    uint8_t iv[WA_GCM_IV_LEN];
    s_iv(self->read_n, iv);
    if (self->reader ? wa_gcm_open(self->reader, iv, NULL, 0, in, len, out)
                     : wa_aes_gcm_decrypt(self->read_key, iv, sizeof(iv), NULL,
                                          0, in, len, out)) {
        return s_fail(self, "could not decrypt transport frame");
    }
    self->read_n++;
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test

typedef struct {
    const uint8_t *chunks[4]; //  random outputs to hand out, in order
    size_t next;              //  next chunk
} test_random_t;

static int
s_test_random(void *arg, uint8_t *buf, size_t len)
{
    test_random_t *self = arg;
    assert(len == 32);
    assert(self->next < 4 && self->chunks[self->next]);
    memcpy(buf, self->chunks[self->next++], 32);
    return 0;
}

#define TEST_MAX_TRACE 24

typedef struct {
    char step[TEST_MAX_TRACE][16];  //  step names
    uint8_t h[TEST_MAX_TRACE][32];  //  h after each step
    uint8_t ck[TEST_MAX_TRACE][32]; //  ck after each step
    uint8_t k[TEST_MAX_TRACE][32];  //  k after each step
    size_t count;                   //  steps recorded
} test_trace_t;

static void
s_test_trace(void *arg, const char *step, const uint8_t h[32],
             const uint8_t ck[32], const uint8_t k[32])
{
    test_trace_t *self = arg;
    assert(self->count < TEST_MAX_TRACE);
    snprintf(self->step[self->count], 16, "%s", step);
    memcpy(self->h[self->count], h, 32);
    memcpy(self->ck[self->count], ck, 32);
    memcpy(self->k[self->count], k, 32);
    self->count++;
}

//  The trace of either side must match the vector's trace entries, in
//  order: each entry lists the values that changed at that step.
static void
s_check_trace(test_trace_t *trace, json_t *vector)
{
    //  The vector's 12 entries are: init, prologue (both inside
    //  wa_noise_new, checked separately), then the ten traced steps.
    json_t *entries = json_object_get(vector, "trace");
    assert(json_array_size(entries) == 12);
    assert(trace->count == 10);
    const char *steps[] = {"mix_hash", "mix_hash", "mix_key",  "mix_hash",
                           "mix_key",  "mix_hash", "mix_hash", "mix_key",
                           "mix_hash", "split"};
    for (size_t i = 0; i < 10; i++) {
        json_t *entry = json_array_get(entries, i + 2);
        assert(strcmp(trace->step[i], steps[i]) == 0);
        if (json_object_get(entry, "h")) {
            assert(wa_vectors_field_eq(entry, "h", trace->h[i], 32));
        }
        if (json_object_get(entry, "ck")) {
            assert(wa_vectors_field_eq(entry, "ck", trace->ck[i], 32));
        }
        if (json_object_get(entry, "k")) {
            assert(wa_vectors_field_eq(entry, "k", trace->k[i], 32));
        }
        if (json_object_get(entry, "client_write")) {
            assert(
                wa_vectors_field_eq(entry, "client_write", trace->ck[i], 32));
            assert(wa_vectors_field_eq(entry, "client_read", trace->k[i], 32));
        }
    }
}

//  Frame one message (as the given side would) and compare with the hex.
static void
s_check_frame(wa_frame_t *frame, const uint8_t *msg, size_t len, json_t *frames,
              const char *key)
{
    size_t out_len;
    uint8_t *out = wa_frame_encode(frame, msg, len, &out_len);
    assert(out);
    assert(wa_vectors_field_eq(frames, key, out, out_len));
    free(out);
}

void
wa_noise_test(bool verbose)
{
    printf(" * wa_noise: ");
    if (verbose) {
        printf("\n");
    }
    json_t *vector = wa_vectors_load("noise-handshake.json");
    json_t *keys = json_object_get(vector, "keys");
    json_t *frames = json_object_get(vector, "frames");
    json_t *transport = json_object_get(frames, "transport");
    uint8_t *ce_priv = wa_vectors_field(keys, "client_ephemeral_priv", NULL);
    uint8_t *se_priv = wa_vectors_field(keys, "server_ephemeral_priv", NULL);
    uint8_t *cs_priv = wa_vectors_field(keys, "client_noise_static_priv", NULL);
    uint8_t *cs_pub = wa_vectors_field(keys, "client_noise_static_pub", NULL);
    uint8_t *ss_priv = wa_vectors_field(keys, "server_static_priv", NULL);
    uint8_t *ss_pub = wa_vectors_field(keys, "server_static_pub", NULL);
    uint8_t *root_pub = wa_vectors_field(keys, "fake_root_pub", NULL);
    size_t cert_len, payload_len;
    uint8_t *cert =
        wa_vectors_field(vector, "cert_chain_plaintext_hex", &cert_len);
    uint8_t *payload =
        wa_vectors_field(vector, "client_payload_plaintext_hex", &payload_len);
    assert(wa_vectors_field_eq(vector, "pattern_hex",
                               (const uint8_t *)WA_NOISE_NAME, 32));

    //  Known answer: both sides in memory, fixed ephemeral keys.
    test_random_t rnd = {{ce_priv, se_priv, NULL, NULL}, 0};
    wa_crypto_set_random(s_test_random, &rnd);
    test_trace_t *ctrace = cm_alloc(sizeof(test_trace_t));
    test_trace_t *strace = cm_alloc(sizeof(test_trace_t));

    wa_frame_t *cframe = wa_frame_new(WA_FRAME_CLIENT, 0);
    wa_frame_t *sframe = wa_frame_new(WA_FRAME_SERVER, 0);
    wa_noise_t *client =
        wa_noise_new(WA_NOISE_INITIATOR, cs_priv, wa_frame_intro(cframe),
                     WA_FRAME_INTRO_LEN);
    assert(client);
    //  Trace entries 0 and 1 (init, prologue) happen inside new.
    json_t *entries = json_object_get(vector, "trace");
    assert(wa_vectors_field_eq(json_array_get(entries, 0), "h",
                               (const uint8_t *)WA_NOISE_NAME, 32));
    assert(wa_vectors_field_eq(json_array_get(entries, 1), "h",
                               wa_noise_handshake_hash(client), 32));
    wa_noise_set_trace(client, s_test_trace, ctrace);
    wa_noise_set_root(client, root_pub);
    assert(memcmp(wa_noise_local_static(client), cs_pub, 32) == 0);
    assert(wa_noise_remote_static(client) == NULL);

    size_t len;
    uint8_t *msg = wa_noise_client_hello(client, &len);
    assert(msg);
    s_check_frame(cframe, msg, len, frames, "client_hello_ws_message_hex");

    //  Server: receives the framed hello, takes the prologue from the
    //  intro it saw.
    size_t wire_len;
    uint8_t *wire =
        wa_vectors_field(frames, "client_hello_ws_message_hex", &wire_len);
    assert(wa_frame_feed(sframe, wire, wire_len) == 0);
    free(wire);
    size_t flen;
    const uint8_t *f = wa_frame_next(sframe, &flen);
    assert(f && flen == len && memcmp(f, msg, len) == 0);
    free(msg);
    wa_noise_t *server =
        wa_noise_new(WA_NOISE_RESPONDER, ss_priv, wa_frame_intro(sframe),
                     WA_FRAME_INTRO_LEN);
    assert(server);
    wa_noise_set_trace(server, s_test_trace, strace);
    assert(memcmp(wa_noise_handshake_hash(server),
                  wa_noise_handshake_hash(client),
                  32) != 0); //  the client already mixed its ephemeral key
    assert(wa_noise_read_client_hello(server, f, flen) == 0);
    assert(memcmp(wa_noise_handshake_hash(server),
                  wa_noise_handshake_hash(client), 32) == 0);
    msg = wa_noise_server_hello(server, cert, cert_len, &len);
    assert(msg);
    s_check_frame(sframe, msg, len, frames, "server_hello_ws_message_hex");
    assert(wa_noise_read_server_hello(client, msg, len) == 0);
    free(msg);
    assert(memcmp(wa_noise_remote_static(client), ss_pub, 32) == 0);

    msg = wa_noise_client_finish(client, payload, payload_len, &len);
    assert(msg);
    assert(wa_noise_ready(client));
    s_check_frame(cframe, msg, len, frames, "client_finish_ws_message_hex");
    assert(wa_noise_read_client_finish(server, msg, len) == 0);
    free(msg);
    assert(wa_noise_ready(server));
    assert(memcmp(wa_noise_remote_static(server), cs_pub, 32) == 0);
    const uint8_t *got = wa_noise_payload(server, &len);
    assert(got && len == payload_len && memcmp(got, payload, len) == 0);
    wa_noise_payload_free(server);
    assert(wa_noise_payload(server, &len) == NULL && len == 0);
    wa_crypto_set_random(NULL, NULL);
    assert(rnd.next == 2);

    s_check_trace(ctrace, vector);
    s_check_trace(strace, vector);

    //  Transport frames, both directions.
    size_t pt_len;
    uint8_t *pt =
        wa_vectors_field(transport, "first_client_node_plaintext_hex", &pt_len);
    uint8_t ct[64], back[64];
    assert(pt_len + WA_NOISE_TAG_LEN <= sizeof(ct));
    const char *client_frames[] = {"first_client_node_ws_message_hex",
                                   "second_client_node_ws_message_hex"};
    for (size_t i = 0; i < 2; i++) {
        assert(wa_noise_encrypt(client, pt, pt_len, ct) == 0);
        s_check_frame(cframe, ct, pt_len + WA_NOISE_TAG_LEN, transport,
                      client_frames[i]);
        assert(wa_noise_decrypt(server, ct, pt_len + WA_NOISE_TAG_LEN, back) ==
               0);
        assert(memcmp(back, pt, pt_len) == 0);
    }
    free(pt);
    pt =
        wa_vectors_field(transport, "first_server_node_plaintext_hex", &pt_len);
    assert(wa_noise_encrypt(server, pt, pt_len, ct) == 0);
    s_check_frame(sframe, ct, pt_len + WA_NOISE_TAG_LEN, transport,
                  "first_server_node_ws_message_hex");
    //  A replayed or corrupted frame fails and the stream stays failed.
    uint8_t bad[64];
    memcpy(bad, ct, pt_len + WA_NOISE_TAG_LEN);
    bad[0] ^= 1;
    assert(wa_noise_decrypt(client, bad, pt_len + WA_NOISE_TAG_LEN, back) ==
           -1);
    assert(wa_noise_failed(client));
    assert(wa_noise_decrypt(client, ct, pt_len + WA_NOISE_TAG_LEN, back) == -1);
    assert(wa_noise_encrypt(client, pt, pt_len, ct) == -1);
    assert(wa_noise_decrypt(server, ct, 5, back) == -1);
    free(pt);
    wa_noise_destroy(&client);
    wa_noise_destroy(&server);
    wa_noise_destroy(&server);
    wa_frame_destroy(&cframe);
    wa_frame_destroy(&sframe);

    //  Negative paths with random keys: wrong root, tampered messages,
    //  garbage.
    for (int round = 0; round < 6; round++) {
        client = wa_noise_new(WA_NOISE_INITIATOR, cs_priv,
                              (const uint8_t *)"WA\x06\x03", 4);
        server = wa_noise_new(WA_NOISE_RESPONDER, ss_priv,
                              (const uint8_t *)"WA\x06\x03", 4);
        if (round != 0) {
            wa_noise_set_root(client, root_pub);
        }
        uint8_t *hello = wa_noise_client_hello(client, &len);
        if (round == 1) {
            assert(wa_noise_read_client_hello(server, hello, 3) == -1);
            assert(wa_noise_failed(server));
            assert(strstr(wa_noise_error(server), "malformed"));
            free(hello);
            goto next;
        }
        assert(wa_noise_read_client_hello(server, hello, len) == 0);
        free(hello);
        msg = wa_noise_server_hello(server, cert, cert_len, &len);
        if (round == 2) {
            msg[len - 1] ^= 0x80; //  corrupt the certificate tag
        }
        if (round == 3) {
            //  Garbage that is not a HandshakeMessage.
            assert(wa_noise_read_server_hello(client, msg + 1, len - 1) == -1);
            free(msg);
            goto next;
        }
        int rc = wa_noise_read_server_hello(client, msg, len);
        free(msg);
        if (round == 0) {
            //  The vector chain is not signed by the WhatsApp root.
            assert(rc == -1);
            assert(strstr(wa_noise_error(client), "root"));
            goto next;
        }
        if (round == 2) {
            assert(rc == -1);
            assert(strstr(wa_noise_error(client), "certificate"));
            goto next;
        }
        assert(rc == 0);
        msg = wa_noise_client_finish(client, payload, payload_len, &len);
        assert(msg);
        if (round == 4) {
            msg[len - 3] ^= 0x01;
            assert(wa_noise_read_client_finish(server, msg, len) == -1);
            assert(strstr(wa_noise_error(server), "payload"));
            assert(wa_noise_payload(server, &flen) == NULL);
        } else {
            assert(wa_noise_read_client_finish(server, msg, len) == 0);
            //  Many frames in a row keep both counters in step.
            for (int i = 0; i < 100; i++) {
                uint8_t p[8] = {(uint8_t)i};
                assert(wa_noise_encrypt(server, p, 8, ct) == 0);
                assert(wa_noise_decrypt(client, ct, 24, back) == 0);
                assert(back[0] == i);
            }
        }
        free(msg);
    next:
        wa_noise_destroy(&client);
        wa_noise_destroy(&server);
    }
    //  A server static key that does not match the certificate leaf.
    client = wa_noise_new(WA_NOISE_INITIATOR, cs_priv,
                          (const uint8_t *)"WA\x06\x03", 4);
    wa_noise_set_root(client, root_pub);
    server = wa_noise_new(WA_NOISE_RESPONDER, cs_priv,
                          (const uint8_t *)"WA\x06\x03", 4);
    msg = wa_noise_client_hello(client, &len);
    assert(wa_noise_read_client_hello(server, msg, len) == 0);
    free(msg);
    msg = wa_noise_server_hello(server, cert, cert_len, &len);
    assert(wa_noise_read_server_hello(client, msg, len) == -1);
    assert(strstr(wa_noise_error(client), "static"));
    free(msg);
    wa_noise_destroy(&client);
    wa_noise_destroy(&server);
    //  Prologue mismatch: the server saw a different intro.
    client = wa_noise_new(WA_NOISE_INITIATOR, cs_priv,
                          (const uint8_t *)"WA\x06\x03", 4);
    wa_noise_set_root(client, root_pub);
    server = wa_noise_new(WA_NOISE_RESPONDER, ss_priv,
                          (const uint8_t *)"WA\x06\x02", 4);
    msg = wa_noise_client_hello(client, &len);
    assert(wa_noise_read_client_hello(server, msg, len) == 0);
    free(msg);
    msg = wa_noise_server_hello(server, cert, cert_len, &len);
    assert(wa_noise_read_server_hello(client, msg, len) == -1);
    free(msg);
    wa_noise_destroy(&client);
    wa_noise_destroy(&server);

    free(ctrace);
    free(strace);
    free(ce_priv);
    free(se_priv);
    free(cs_priv);
    free(cs_pub);
    free(ss_priv);
    free(ss_pub);
    free(root_pub);
    free(cert);
    free(payload);
    json_decref(vector);
    printf("OK\n");
}
