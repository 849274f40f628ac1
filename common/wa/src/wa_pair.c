/*  wa_pair - linking crypto: QR string, pair code, ADV device identity

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cm/cm.h"
#include "wa/wa_adv.pb-c.h"
#include "wa/wa_crypto.h"
#include "wa/wa_pair.h"
#include "wa/wa_vectors.h"

static const char s_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";
static const char s_bundle_info[] =
    "link_code_pairing_key_bundle_encryption_key";
static const char s_adv_info[] = "adv_secret";

//  Signature / HMAC prefixes (both libraries' constants).
static const uint8_t s_prefix_account[2] = {0x06, 0x00};
static const uint8_t s_prefix_device[2] = {0x06, 0x01};
static const uint8_t s_prefix_hosted_account[2] = {0x06, 0x05};

//  Standard Base64 with padding of 32 bytes (44 chars + NUL).
static void
s_base64_32(const uint8_t in[32], char out[45])
{
    int n = EVP_EncodeBlock((unsigned char *)out, in, 32);
    assert(n == 44);
    out[44] = 0;
}

char *
wa_pair_qr_string(const void *ref, size_t ref_len, const uint8_t noise_pub[32],
                  const uint8_t identity_pub[32], const uint8_t adv_secret[32],
                  const char *platform)
{
    if (!ref || ref_len == 0 || ref_len > 4096 || !noise_pub || !identity_pub ||
        !adv_secret || !platform || !*platform || strchr(platform, ',')) {
        return NULL;
    }
    if (memchr(ref, 0, ref_len) || memchr(ref, ',', ref_len)) {
        return NULL;
    }
    char noise[45];
    char identity[45];
    char adv[45];
    s_base64_32(noise_pub, noise);
    s_base64_32(identity_pub, identity);
    s_base64_32(adv_secret, adv);
    return cm_sprintf("%s%.*s,%s,%s,%s,%s", WA_PAIR_QR_PREFIX, (int)ref_len,
                      (const char *)ref, noise, identity, adv, platform);
}

void
wa_pair_code_encode(const uint8_t random[5], char code[WA_PAIR_CODE_LEN + 1])
{
    uint64_t bits = 0;
    for (int i = 0; i < 5; i++) {
        bits = bits << 8 | random[i];
    }
    for (int i = 0; i < WA_PAIR_CODE_LEN; i++) {
        code[i] = s_alphabet[(bits >> (35 - 5 * i)) & 31];
    }
    code[WA_PAIR_CODE_LEN] = 0;
}

int
wa_pair_code_generate(char code[WA_PAIR_CODE_LEN + 1])
{
    uint8_t random[5];
    if (wa_random(random, sizeof(random)) != 0) {
        return -1;
    }
    wa_pair_code_encode(random, code);
    return 0;
}

void
wa_pair_code_display(const char *code, char out[WA_PAIR_CODE_LEN + 2])
{
    size_t o = 0;
    for (size_t i = 0; code && i < WA_PAIR_CODE_LEN && code[i]; i++) {
        if (i == 4) {
            out[o++] = '-';
        }
        out[o++] = code[i];
    }
    out[o] = 0;
}

int
wa_pair_code_key(const char *code, const uint8_t salt[32], uint8_t key[32])
{
    if (!code || !*code || !salt || !key) {
        return -1;
    }
    return wa_pbkdf2_sha256(code, strlen(code), salt, 32,
                            WA_PAIR_CODE_ITERATIONS, key, 32);
}

int
wa_pair_code_wrap(const char *code, const uint8_t pub[32],
                  uint8_t out[WA_PAIR_WRAPPED_LEN])
{
    if (!code || !pub || !out || wa_random(out, 32) != 0 ||
        wa_random(out + 32, 16) != 0) {
        return -1;
    }
    uint8_t key[32];
    int rc = -1;
    if (wa_pair_code_key(code, out, key) == 0 &&
        wa_aes_ctr(key, out + 32, pub, 32, out + 48) == 0) {
        rc = 0;
    }
    wa_crypto_wipe(key, sizeof(key));
    return rc;
}

int
wa_pair_code_unwrap(const char *code, const uint8_t *wrapped, size_t len,
                    uint8_t pub[32])
{
    if (!code || !wrapped || len != WA_PAIR_WRAPPED_LEN || !pub) {
        return -1;
    }
    uint8_t key[32];
    int rc = -1;
    if (wa_pair_code_key(code, wrapped, key) == 0 &&
        wa_aes_ctr(key, wrapped + 32, wrapped + 48, 32, pub) == 0) {
        rc = 0;
    }
    wa_crypto_wipe(key, sizeof(key));
    return rc;
}

//  adv secret = HKDF(none, ephShared || idShared || advRandom, info, 32)
static int
s_adv_secret(const uint8_t eph_shared[32], const uint8_t id_shared[32],
             const uint8_t adv_random[32], uint8_t out[32])
{
    uint8_t ikm[96];
    memcpy(ikm, eph_shared, 32);
    memcpy(ikm + 32, id_shared, 32);
    memcpy(ikm + 64, adv_random, 32);
    int rc = wa_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), s_adv_info,
                            strlen(s_adv_info), out, 32);
    wa_crypto_wipe(ikm, sizeof(ikm));
    return rc;
}

//  The secrets of a link-code bundle in flight, wiped together.
typedef struct {
    uint8_t eph_shared[32]; //  ephemeral X25519 agreement
    uint8_t id_shared[32];  //  identity X25519 agreement
    uint8_t kb_key[32];     //  bundle key, from eph_shared and the salt
    uint8_t plain[96];      //  identity, primary identity, adv random
} s_bundle_keys_t;

//  Agree on the ephemeral keys and derive the bundle key with salt.
static int
s_bundle_key(const uint8_t eph_priv[32], const uint8_t peer_eph_pub[32],
             const uint8_t salt[32], s_bundle_keys_t *k)
{
    if (wa_x25519_shared(eph_priv, peer_eph_pub, k->eph_shared) != 0) {
        return -1;
    }
    return wa_hkdf_sha256(salt, 32, k->eph_shared, 32, s_bundle_info,
                          strlen(s_bundle_info), k->kb_key, 32);
}

int
wa_pair_code_finish(const uint8_t eph_priv[32],
                    const uint8_t primary_eph_pub[32],
                    const uint8_t identity_priv[32],
                    const uint8_t identity_pub[32],
                    const uint8_t primary_identity_pub[32],
                    uint8_t bundle[WA_PAIR_BUNDLE_LEN], uint8_t adv_secret[32])
{
    if (!eph_priv || !primary_eph_pub || !identity_priv || !identity_pub ||
        !primary_identity_pub || !bundle || !adv_secret) {
        return -1;
    }
    s_bundle_keys_t k;
    uint8_t *salt = bundle;
    uint8_t *nonce = bundle + 32;
    uint8_t *adv_random = k.plain + 64;
    int rc = -1;
    if (wa_random(salt, 32) != 0 || wa_random(nonce, WA_GCM_IV_LEN) != 0 ||
        wa_random(adv_random, 32) != 0) {
        goto cleanup;
    }
    memcpy(k.plain, identity_pub, 32);
    memcpy(k.plain + 32, primary_identity_pub, 32);
    if (s_bundle_key(eph_priv, primary_eph_pub, salt, &k) != 0 ||
        wa_aes_gcm_encrypt(k.kb_key, nonce, WA_GCM_IV_LEN, NULL, 0, k.plain,
                           sizeof(k.plain), bundle + 44) != 0 ||
        wa_x25519_shared(identity_priv, primary_identity_pub, k.id_shared) !=
            0 ||
        s_adv_secret(k.eph_shared, k.id_shared, adv_random, adv_secret) != 0) {
        goto cleanup;
    }
    rc = 0;
cleanup:
    wa_crypto_wipe(&k, sizeof(k));
    return rc;
}

int
wa_pair_code_open(const uint8_t primary_eph_priv[32],
                  const uint8_t companion_eph_pub[32],
                  const uint8_t primary_identity_priv[32],
                  const uint8_t primary_identity_pub[32], const uint8_t *bundle,
                  size_t len, uint8_t companion_identity_pub[32],
                  uint8_t adv_secret[32])
{
    if (!primary_eph_priv || !companion_eph_pub || !primary_identity_priv ||
        !primary_identity_pub || !bundle || len != WA_PAIR_BUNDLE_LEN ||
        !companion_identity_pub || !adv_secret) {
        return -1;
    }
    s_bundle_keys_t k;
    int rc = -1;
    if (s_bundle_key(primary_eph_priv, companion_eph_pub, bundle, &k) != 0 ||
        wa_aes_gcm_decrypt(k.kb_key, bundle + 32, WA_GCM_IV_LEN, NULL, 0,
                           bundle + 44, len - 44, k.plain) != 0 ||
        !wa_crypto_equal(k.plain + 32, primary_identity_pub, 32) ||
        wa_x25519_shared(primary_identity_priv, k.plain, k.id_shared) != 0 ||
        s_adv_secret(k.eph_shared, k.id_shared, k.plain + 64, adv_secret) !=
            0) {
        goto cleanup;
    }
    memcpy(companion_identity_pub, k.plain, 32);
    rc = 0;
cleanup:
    wa_crypto_wipe(&k, sizeof(k));
    return rc;
}

//  --------------------------------------------------------------------------
//  ADV

struct _wa_pair_adv_t {
    uint8_t *identity;       //  SignedDeviceIdentity, all four fields
    size_t identity_len;     //  its length
    uint8_t *reply;          //  the same without account_signature_key
    size_t reply_len;        //  its length
    uint8_t account_key[32]; //  primary identity key
    uint32_t key_index;      //  DeviceIdentity.key_index
    uint32_t raw_id;         //  DeviceIdentity.raw_id
    uint64_t timestamp;      //  DeviceIdentity.timestamp
    bool hosted;             //  hosted account
};

//  prefix || a || b || c as one message (c may be NULL).
static uint8_t *
s_concat(const uint8_t prefix[2], const ProtobufCBinaryData *a,
         const uint8_t *b, const uint8_t *c, size_t *len)
{
    size_t n = 2 + a->len + 32 + (c ? 32 : 0);
    uint8_t *msg = cm_alloc(n);
    memcpy(msg, prefix, 2);
    if (a->len > 0) {
        memcpy(msg + 2, a->data, a->len);
    }
    memcpy(msg + 2 + a->len, b, 32);
    if (c) {
        memcpy(msg + 2 + a->len + 32, c, 32);
    }
    *len = n;
    return msg;
}

//  Account signature: prefix (06 05 for hosted devices, else 06 00) ||
//  details || device identity key.
static bool
s_account_signature_ok(const Wa__Adv__SignedDeviceIdentity *signed_id,
                       const Wa__Adv__DeviceIdentity *device,
                       const uint8_t identity_pub[32])
{
    if (!signed_id->has_account_signature_key ||
        signed_id->account_signature_key.len != 32 ||
        !signed_id->has_account_signature ||
        signed_id->account_signature.len != WA_XEDDSA_SIG_LEN) {
        return false;
    }
    bool hosted = device->has_device_type &&
                  device->device_type == WA__ADV__ENCRYPTION_TYPE__HOSTED;
    size_t n = 0;
    uint8_t *msg = s_concat(hosted ? s_prefix_hosted_account : s_prefix_account,
                            &signed_id->details, identity_pub, NULL, &n);
    bool ok = wa_xeddsa_verify(signed_id->account_signature_key.data, msg, n,
                               signed_id->account_signature.data,
                               signed_id->account_signature.len) == 0;
    free(msg);
    return ok;
}

static int
s_device_sign(const ProtobufCBinaryData *details,
              const uint8_t identity_priv[32], const uint8_t identity_pub[32],
              const uint8_t account_key[32], uint8_t sig[64])
{
    size_t n = 0;
    uint8_t *msg =
        s_concat(s_prefix_device, details, identity_pub, account_key, &n);
    int rc = wa_xeddsa_sign(identity_priv, msg, n, sig);
    free(msg);
    return rc;
}

static bool
s_device_signature_ok(const ProtobufCBinaryData *details,
                      const ProtobufCBinaryData *sig,
                      const uint8_t identity_pub[32],
                      const uint8_t account_key[32])
{
    size_t n = 0;
    uint8_t *msg =
        s_concat(s_prefix_device, details, identity_pub, account_key, &n);
    bool ok = wa_xeddsa_verify(identity_pub, msg, n, sig->data, sig->len) == 0;
    free(msg);
    return ok;
}

static uint8_t *
s_pack_signed(const Wa__Adv__SignedDeviceIdentity *msg, size_t *len)
{
    size_t n = wa__adv__signed_device_identity__get_packed_size(msg);
    uint8_t *buf = cm_alloc(n);
    wa__adv__signed_device_identity__pack(msg, buf);
    *len = n;
    return buf;
}

//  The signed device identity in data (with details) and the device
//  identity inside its details. Returns the signed identity and sets
//  *device_p, or NULL when either does not parse. Free both with
//  s_identity_free.
static Wa__Adv__SignedDeviceIdentity *
s_identity_unpack(const uint8_t *data, size_t len,
                  Wa__Adv__DeviceIdentity **device_p)
{
    Wa__Adv__SignedDeviceIdentity *signed_id =
        wa__adv__signed_device_identity__unpack(NULL, len, data);
    *device_p = NULL;
    if (signed_id && signed_id->has_details) {
        *device_p = wa__adv__device_identity__unpack(
            NULL, signed_id->details.len, signed_id->details.data);
    }
    if (!*device_p) {
        wa__adv__signed_device_identity__free_unpacked(signed_id, NULL);
        return NULL;
    }
    return signed_id;
}

static void
s_identity_free(Wa__Adv__SignedDeviceIdentity *signed_id,
                Wa__Adv__DeviceIdentity *device)
{
    wa__adv__device_identity__free_unpacked(device, NULL);
    wa__adv__signed_device_identity__free_unpacked(signed_id, NULL);
}

wa_pair_adv_t *
wa_pair_adv_accept(const uint8_t *container, size_t len,
                   const uint8_t adv_secret[32],
                   const uint8_t identity_priv[32], wa_pair_status_t *status)
{
    wa_pair_status_t st = WA_PAIR_BAD_INPUT;
    wa_pair_adv_t *self = NULL;
    Wa__Adv__SignedDeviceIdentityHMAC *outer = NULL;
    Wa__Adv__SignedDeviceIdentity *signed_id = NULL;
    Wa__Adv__DeviceIdentity *device = NULL;
    uint8_t identity_pub[32];
    if (!container || len == 0 || !adv_secret || !identity_priv) {
        goto done;
    }
    if (wa_x25519_public(identity_priv, identity_pub) != 0) {
        st = WA_PAIR_INTERNAL;
        goto done;
    }
    outer = wa__adv__signed_device_identity_hmac__unpack(NULL, len, container);
    if (!outer || !outer->has_details || !outer->has_hmac ||
        outer->hmac.len != WA_SHA256_LEN) {
        goto done;
    }
    //  1. HMAC with the adv secret (hosted accounts prefix 06 05).
    bool hosted = outer->has_account_type &&
                  outer->account_type == WA__ADV__ENCRYPTION_TYPE__HOSTED;
    wa_part_t parts[2] = {{s_prefix_hosted_account, hosted ? 2 : 0},
                          {outer->details.data, outer->details.len}};
    uint8_t mac[WA_SHA256_LEN];
    if (wa_hmac_sha256_parts(adv_secret, 32, parts, 2, mac) != 0) {
        st = WA_PAIR_INTERNAL;
        goto done;
    }
    if (!wa_crypto_equal(mac, outer->hmac.data, sizeof(mac))) {
        st = WA_PAIR_BAD_HMAC;
        goto done;
    }
    //  2. The signed identity and its details.
    signed_id =
        s_identity_unpack(outer->details.data, outer->details.len, &device);
    if (!signed_id) {
        goto done;
    }
    //  3. Account signature over our identity key.
    if (!s_account_signature_ok(signed_id, device, identity_pub)) {
        st = signed_id->has_account_signature_key &&
                     signed_id->account_signature_key.len == 32 &&
                     signed_id->has_account_signature
                 ? WA_PAIR_BAD_SIGNATURE
                 : WA_PAIR_BAD_INPUT;
        goto done;
    }
    //  4. Our device signature.
    uint8_t device_sig[WA_XEDDSA_SIG_LEN];
    if (s_device_sign(&signed_id->details, identity_priv, identity_pub,
                      signed_id->account_signature_key.data, device_sig) != 0) {
        st = WA_PAIR_INTERNAL;
        goto done;
    }
    self = cm_alloc(sizeof(*self));
    memcpy(self->account_key, signed_id->account_signature_key.data, 32);
    self->key_index = device->has_key_index ? device->key_index : 0;
    self->raw_id = device->has_raw_id ? device->raw_id : 0;
    self->timestamp = device->has_timestamp ? device->timestamp : 0;
    self->hosted = hosted;
    signed_id->has_device_signature = 1;
    signed_id->device_signature.data = device_sig;
    signed_id->device_signature.len = sizeof(device_sig);
    self->identity = s_pack_signed(signed_id, &self->identity_len);
    signed_id->has_account_signature_key = 0;
    self->reply = s_pack_signed(signed_id, &self->reply_len);
    //  The buffers below belong to protobuf-c again before freeing.
    signed_id->has_account_signature_key = 1;
    signed_id->has_device_signature = 0;
    signed_id->device_signature.data = NULL;
    signed_id->device_signature.len = 0;
    st = WA_PAIR_OK;
done:
    s_identity_free(signed_id, device);
    wa__adv__signed_device_identity_hmac__free_unpacked(outer, NULL);
    if (status) {
        *status = st;
    }
    return self;
}

void
wa_pair_adv_destroy(wa_pair_adv_t **self_p)
{
    assert(self_p);
    wa_pair_adv_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->identity);
    free(self->reply);
    free(self);
    *self_p = NULL;
}

const uint8_t *
wa_pair_adv_identity(wa_pair_adv_t *self, size_t *len)
{
    assert(self && len);
    *len = self->identity_len;
    return self->identity;
}

const uint8_t *
wa_pair_adv_reply(wa_pair_adv_t *self, size_t *len)
{
    assert(self && len);
    *len = self->reply_len;
    return self->reply;
}

const uint8_t *
wa_pair_adv_account_key(wa_pair_adv_t *self)
{
    assert(self);
    return self->account_key;
}

uint32_t
wa_pair_adv_key_index(wa_pair_adv_t *self)
{
    assert(self);
    return self->key_index;
}

uint32_t
wa_pair_adv_raw_id(wa_pair_adv_t *self)
{
    assert(self);
    return self->raw_id;
}

uint64_t
wa_pair_adv_timestamp(wa_pair_adv_t *self)
{
    assert(self);
    return self->timestamp;
}

bool
wa_pair_adv_hosted(wa_pair_adv_t *self)
{
    assert(self);
    return self->hosted;
}

wa_pair_status_t
wa_pair_adv_verify_identity(const uint8_t *identity, size_t len,
                            const uint8_t identity_pub[32],
                            const uint8_t *account_key)
{
    if (!identity || len == 0 || !identity_pub) {
        return WA_PAIR_BAD_INPUT;
    }
    wa_pair_status_t st = WA_PAIR_BAD_INPUT;
    Wa__Adv__DeviceIdentity *device = NULL;
    Wa__Adv__SignedDeviceIdentity *signed_id =
        s_identity_unpack(identity, len, &device);
    if (!signed_id || !signed_id->has_account_signature_key ||
        signed_id->account_signature_key.len != 32 ||
        !signed_id->has_account_signature || !signed_id->has_device_signature) {
        goto done;
    }
    st = WA_PAIR_BAD_SIGNATURE;
    if (account_key &&
        !wa_crypto_equal(account_key, signed_id->account_signature_key.data,
                         32)) {
        goto done;
    }
    if (s_account_signature_ok(signed_id, device, identity_pub) &&
        s_device_signature_ok(&signed_id->details, &signed_id->device_signature,
                              identity_pub,
                              signed_id->account_signature_key.data)) {
        st = WA_PAIR_OK;
    }
done:
    s_identity_free(signed_id, device);
    return st;
}

int
wa_pair_adv_issue(const uint8_t account_priv[32],
                  const uint8_t companion_identity_pub[32],
                  const uint8_t adv_secret[32], uint32_t raw_id,
                  uint64_t timestamp, uint32_t key_index, bool hosted,
                  uint8_t **out_p, size_t *out_len)
{
    if (!account_priv || !companion_identity_pub || !adv_secret || !out_p ||
        !out_len) {
        return -1;
    }
    uint8_t account_pub[32];
    if (wa_x25519_public(account_priv, account_pub) != 0) {
        return -1;
    }
    Wa__Adv__DeviceIdentity device = WA__ADV__DEVICE_IDENTITY__INIT;
    device.has_raw_id = 1;
    device.raw_id = raw_id;
    device.has_timestamp = 1;
    device.timestamp = timestamp;
    device.has_key_index = 1;
    device.key_index = key_index;
    if (hosted) {
        device.has_account_type = 1;
        device.account_type = WA__ADV__ENCRYPTION_TYPE__HOSTED;
        device.has_device_type = 1;
        device.device_type = WA__ADV__ENCRYPTION_TYPE__HOSTED;
    }
    size_t details_len = wa__adv__device_identity__get_packed_size(&device);
    uint8_t *details = cm_alloc(details_len);
    wa__adv__device_identity__pack(&device, details);

    int rc = -1;
    uint8_t *signed_bytes = NULL;
    size_t signed_len = 0;
    uint8_t account_sig[WA_XEDDSA_SIG_LEN];
    ProtobufCBinaryData details_bin = {details_len, details};
    size_t msg_len = 0;
    uint8_t *msg =
        s_concat(hosted ? s_prefix_hosted_account : s_prefix_account,
                 &details_bin, companion_identity_pub, NULL, &msg_len);
    if (wa_xeddsa_sign(account_priv, msg, msg_len, account_sig) != 0) {
        goto cleanup;
    }
    Wa__Adv__SignedDeviceIdentity signed_id =
        WA__ADV__SIGNED_DEVICE_IDENTITY__INIT;
    signed_id.has_details = 1;
    signed_id.details = details_bin;
    signed_id.has_account_signature_key = 1;
    signed_id.account_signature_key.data = account_pub;
    signed_id.account_signature_key.len = 32;
    signed_id.has_account_signature = 1;
    signed_id.account_signature.data = account_sig;
    signed_id.account_signature.len = sizeof(account_sig);
    signed_bytes = s_pack_signed(&signed_id, &signed_len);

    wa_part_t parts[2] = {{s_prefix_hosted_account, hosted ? 2 : 0},
                          {signed_bytes, signed_len}};
    uint8_t mac[WA_SHA256_LEN];
    if (wa_hmac_sha256_parts(adv_secret, 32, parts, 2, mac) != 0) {
        goto cleanup;
    }
    Wa__Adv__SignedDeviceIdentityHMAC outer =
        WA__ADV__SIGNED_DEVICE_IDENTITY_HMAC__INIT;
    outer.has_details = 1;
    outer.details.data = signed_bytes;
    outer.details.len = signed_len;
    outer.has_hmac = 1;
    outer.hmac.data = mac;
    outer.hmac.len = sizeof(mac);
    if (hosted) {
        outer.has_account_type = 1;
        outer.account_type = WA__ADV__ENCRYPTION_TYPE__HOSTED;
    }
    *out_len = wa__adv__signed_device_identity_hmac__get_packed_size(&outer);
    *out_p = cm_alloc(*out_len);
    wa__adv__signed_device_identity_hmac__pack(&outer, *out_p);
    rc = 0;
cleanup:
    free(msg);
    free(signed_bytes);
    free(details);
    return rc;
}

wa_pair_status_t
wa_pair_adv_check_reply(const uint8_t *reply, size_t len,
                        const uint8_t *details, size_t details_len,
                        const uint8_t account_pub[32],
                        const uint8_t companion_pub[32], uint32_t *key_index)
{
    if (!reply || len == 0 || !account_pub || !companion_pub) {
        return WA_PAIR_BAD_INPUT;
    }
    wa_pair_status_t st = WA_PAIR_BAD_INPUT;
    Wa__Adv__DeviceIdentity *device = NULL;
    Wa__Adv__SignedDeviceIdentity *signed_id =
        s_identity_unpack(reply, len, &device);
    if (!signed_id || !signed_id->has_device_signature) {
        goto done;
    }
    if (details &&
        (signed_id->details.len != details_len ||
         memcmp(signed_id->details.data, details, details_len) != 0)) {
        goto done;
    }
    if (!s_device_signature_ok(&signed_id->details,
                               &signed_id->device_signature, companion_pub,
                               account_pub)) {
        st = WA_PAIR_BAD_SIGNATURE;
        goto done;
    }
    if (key_index) {
        *key_index = device->has_key_index ? device->key_index : 0;
    }
    st = WA_PAIR_OK;
done:
    s_identity_free(signed_id, device);
    return st;
}

//  --------------------------------------------------------------------------
//  Self test

typedef struct {
    uint8_t data[128]; //  bytes to hand out
    size_t len;        //  bytes loaded
    size_t pos;        //  bytes handed out
} s_replay_t;

static int
s_replay_random(void *arg, uint8_t *buf, size_t len)
{
    s_replay_t *r = arg;
    if (len > r->len - r->pos) {
        return -1;
    }
    memcpy(buf, r->data + r->pos, len);
    r->pos += len;
    return 0;
}

static void
s_replay_add(s_replay_t *r, json_t *obj, const char *key, size_t len)
{
    assert(r->len + len <= sizeof(r->data));
    wa_vectors_field_into(obj, key, r->data + r->len, len);
    r->len += len;
}

static void
s_test_qr(json_t *root)
{
    json_t *qr = json_object_get(root, "qr_example");
    uint8_t noise[32];
    uint8_t identity[32];
    uint8_t adv[32];
    wa_vectors_field_into(qr, "noise_pub", noise, 32);
    wa_vectors_field_into(qr, "identity_pub", identity, 32);
    wa_vectors_field_into(qr, "adv_secret", adv, 32);
    const char *want = json_string_value(json_object_get(qr, "string"));
    assert(want);
    //  The ref and platform are the string's first and last parts.
    const char *ref = want + strlen(WA_PAIR_QR_PREFIX);
    size_t ref_len = (size_t)(strchr(ref, ',') - ref);
    const char *platform = strrchr(want, ',') + 1;
    char *got = wa_pair_qr_string(ref, ref_len, noise, identity, adv, platform);
    assert(got && strcmp(got, want) == 0);
    free(got);
    assert(wa_pair_qr_string("a,b", 3, noise, identity, adv, "1") == NULL);
    assert(wa_pair_qr_string(ref, 0, noise, identity, adv, "1") == NULL);
    assert(wa_pair_qr_string(ref, ref_len, noise, identity, adv, "") == NULL);
}

static void
s_test_code(json_t *root)
{
    json_t *pc = json_object_get(root, "pair_code");
    uint8_t random5[5];
    wa_vectors_field_into(pc, "random5_hex", random5, 5);
    char code[WA_PAIR_CODE_LEN + 1];
    wa_pair_code_encode(random5, code);
    assert(strcmp(code, json_string_value(json_object_get(pc, "code"))) == 0);
    char shown[WA_PAIR_CODE_LEN + 2];
    wa_pair_code_display(code, shown);
    assert(strcmp(shown,
                  json_string_value(json_object_get(pc, "displayed_as"))) == 0);
    assert(strcmp(s_alphabet,
                  json_string_value(json_object_get(pc, "alphabet"))) == 0);

    //  PBKDF2 key
    json_t *pbkdf2 = json_object_get(pc, "pbkdf2");
    assert(json_integer_value(json_object_get(pbkdf2, "iterations")) ==
           WA_PAIR_CODE_ITERATIONS);
    uint8_t salt[32];
    uint8_t key[32];
    wa_vectors_field_into(pbkdf2, "salt_hex", salt, 32);
    assert(wa_pair_code_key(code, salt, key) == 0);
    assert(wa_vectors_field_eq(pbkdf2, "key_hex", key, 32));

    //  Wrap with the vector's salt and IV replayed; unwrap back.
    uint8_t eph_priv[32];
    uint8_t eph_pub[32];
    uint8_t pub[32];
    wa_vectors_field_into(pc, "companion_ephemeral_priv", eph_priv, 32);
    wa_vectors_field_into(pc, "companion_ephemeral_pub", eph_pub, 32);
    assert(wa_x25519_public(eph_priv, pub) == 0);
    assert(memcmp(pub, eph_pub, 32) == 0);
    s_replay_t replay = {.len = 0};
    s_replay_add(&replay, pbkdf2, "salt_hex", 32);
    s_replay_add(&replay, pc, "iv_hex", 16);
    wa_crypto_set_random(s_replay_random, &replay);
    uint8_t wrapped[WA_PAIR_WRAPPED_LEN];
    assert(wa_pair_code_wrap(code, eph_pub, wrapped) == 0);
    wa_crypto_set_random(NULL, NULL);
    assert(wa_vectors_field_eq(pc, "wrapped_companion_ephemeral_pub_hex",
                               wrapped, 80));
    assert(wa_pair_code_unwrap(code, wrapped, 80, pub) == 0);
    assert(memcmp(pub, eph_pub, 32) == 0);
    assert(wa_pair_code_unwrap(code, wrapped, 79, pub) == -1);
    //  A wrong code yields a different key (CTR has no integrity).
    assert(wa_pair_code_unwrap("15JMBSWB", wrapped, 80, pub) == 0);
    assert(memcmp(pub, eph_pub, 32) != 0);
}

static void
s_test_finish(json_t *root)
{
    json_t *pc = json_object_get(root, "pair_code");
    json_t *cf = json_object_get(root, "companion_finish");
    uint8_t eph_priv[32];
    uint8_t primary_eph_pub[32];
    uint8_t identity_priv[32];
    uint8_t identity_pub[32];
    uint8_t primary_identity_pub[32];
    wa_vectors_field_into(pc, "companion_ephemeral_priv", eph_priv, 32);
    wa_vectors_field_into(cf, "primary_ephemeral_pub", primary_eph_pub, 32);
    wa_vectors_field_into(cf, "companion_identity_priv", identity_priv, 32);
    wa_vectors_field_into(cf, "companion_identity_pub", identity_pub, 32);
    wa_vectors_field_into(cf, "primary_identity_pub", primary_identity_pub, 32);
    uint8_t check[32];
    assert(wa_x25519_public(identity_priv, check) == 0);
    assert(memcmp(check, identity_pub, 32) == 0);

    s_replay_t replay = {.len = 0};
    s_replay_add(&replay, cf, "key_bundle_salt", 32);
    s_replay_add(&replay, cf, "key_bundle_nonce", 12);
    s_replay_add(&replay, cf, "adv_random", 32);
    wa_crypto_set_random(s_replay_random, &replay);
    uint8_t bundle[WA_PAIR_BUNDLE_LEN];
    uint8_t adv_secret[32];
    assert(wa_pair_code_finish(eph_priv, primary_eph_pub, identity_priv,
                               identity_pub, primary_identity_pub, bundle,
                               adv_secret) == 0);
    wa_crypto_set_random(NULL, NULL);
    assert(replay.pos == replay.len);
    assert(wa_vectors_field_eq(cf, "wrapped_key_bundle_hex", bundle,
                               sizeof(bundle)));
    assert(wa_vectors_field_eq(cf, "adv_secret", adv_secret, 32));

    //  The phone side opens the vector bundle with its ephemeral key; the
    //  vector has no primary identity private key, so the full round trip
    //  runs on fresh keys below.
    uint8_t p_eph_priv[32];
    uint8_t p_eph_pub[32];
    uint8_t p_id_priv[32];
    uint8_t p_id_pub[32];
    uint8_t c_eph_priv[32];
    uint8_t c_eph_pub[32];
    assert(wa_x25519_keypair(p_eph_priv, p_eph_pub) == 0);
    assert(wa_x25519_keypair(p_id_priv, p_id_pub) == 0);
    assert(wa_x25519_keypair(c_eph_priv, c_eph_pub) == 0);
    char code[WA_PAIR_CODE_LEN + 1];
    assert(wa_pair_code_generate(code) == 0);
    assert(strlen(code) == WA_PAIR_CODE_LEN);
    uint8_t wrapped[WA_PAIR_WRAPPED_LEN];
    uint8_t unwrapped[32];
    //  companion_hello: phone learns the companion ephemeral key.
    assert(wa_pair_code_wrap(code, c_eph_pub, wrapped) == 0);
    assert(wa_pair_code_unwrap(code, wrapped, sizeof(wrapped), unwrapped) == 0);
    assert(memcmp(unwrapped, c_eph_pub, 32) == 0);
    //  notification: companion learns the primary ephemeral key.
    assert(wa_pair_code_wrap(code, p_eph_pub, wrapped) == 0);
    assert(wa_pair_code_unwrap(code, wrapped, sizeof(wrapped), unwrapped) == 0);
    assert(memcmp(unwrapped, p_eph_pub, 32) == 0);
    assert(wa_pair_code_finish(c_eph_priv, unwrapped, identity_priv,
                               identity_pub, p_id_pub, bundle,
                               adv_secret) == 0);
    uint8_t got_identity[32];
    uint8_t got_secret[32];
    assert(wa_pair_code_open(p_eph_priv, c_eph_pub, p_id_priv, p_id_pub, bundle,
                             sizeof(bundle), got_identity, got_secret) == 0);
    assert(memcmp(got_identity, identity_pub, 32) == 0);
    assert(memcmp(got_secret, adv_secret, 32) == 0);
    //  Tampered bundle, wrong identity, short input all fail.
    bundle[100] ^= 1;
    assert(wa_pair_code_open(p_eph_priv, c_eph_pub, p_id_priv, p_id_pub, bundle,
                             sizeof(bundle), got_identity, got_secret) == -1);
    bundle[100] ^= 1;
    assert(wa_pair_code_open(p_eph_priv, c_eph_pub, p_id_priv, p_id_pub, bundle,
                             sizeof(bundle) - 1, got_identity,
                             got_secret) == -1);
    assert(wa_pair_code_open(p_eph_priv, c_eph_pub, p_id_priv, identity_pub,
                             bundle, sizeof(bundle), got_identity,
                             got_secret) == -1);
}

static void
s_test_adv(json_t *root)
{
    json_t *adv = json_object_get(root, "adv");
    json_t *cf = json_object_get(root, "companion_finish");
    uint8_t adv_secret[32];
    uint8_t identity_priv[32];
    uint8_t identity_pub[32];
    uint8_t account_pub[32];
    wa_vectors_field_into(adv, "adv_secret", adv_secret, 32);
    wa_vectors_field_into(cf, "companion_identity_priv", identity_priv, 32);
    wa_vectors_field_into(cf, "companion_identity_pub", identity_pub, 32);
    wa_vectors_field_into(adv, "account_signature_key_pub", account_pub, 32);
    size_t container_len = 0;
    uint8_t *container =
        wa_vectors_field(adv, "hmac_container_hex", &container_len);
    size_t signed_len = 0;
    uint8_t *signed_bytes =
        wa_vectors_field(adv, "signed_device_identity_hex", &signed_len);
    size_t details_len = 0;
    uint8_t *details =
        wa_vectors_field(adv, "device_identity_details_hex", &details_len);

    //  HMAC of the vector (deterministic).
    uint8_t mac[32];
    assert(wa_hmac_sha256(adv_secret, 32, signed_bytes, signed_len, mac) == 0);
    assert(wa_vectors_field_eq(adv, "hmac_hex", mac, 32));

    //  Accept the container as the companion does.
    wa_pair_status_t st;
    wa_pair_adv_t *res = wa_pair_adv_accept(container, container_len,
                                            adv_secret, identity_priv, &st);
    assert(res && st == WA_PAIR_OK);
    assert(wa_pair_adv_key_index(res) ==
           (uint32_t)json_integer_value(json_object_get(adv, "key_index")));
    assert(wa_pair_adv_raw_id(res) == 1234);
    assert(wa_pair_adv_timestamp(res) > 0);
    assert(!wa_pair_adv_hosted(res));
    assert(memcmp(wa_pair_adv_account_key(res), account_pub, 32) == 0);
    //  The reply equals the vector's example except the (randomized)
    //  device signature, which must verify.
    size_t reply_len = 0;
    const uint8_t *reply = wa_pair_adv_reply(res, &reply_len);
    size_t example_len = 0;
    uint8_t *example = wa_vectors_field(
        adv, "pair_device_sign_device_identity_hex_example", &example_len);
    assert(reply_len == example_len);
    assert(memcmp(reply, example, reply_len - 64) == 0);
    uint32_t key_index = 0;
    assert(wa_pair_adv_check_reply(reply, reply_len, details, details_len,
                                   account_pub, identity_pub,
                                   &key_index) == WA_PAIR_OK);
    assert(key_index == 3);
    //  The vector's example signature verifies the same way.
    assert(wa_pair_adv_check_reply(example, example_len, details, details_len,
                                   account_pub, identity_pub,
                                   NULL) == WA_PAIR_OK);
    size_t id_len = 0;
    const uint8_t *full = wa_pair_adv_identity(res, &id_len);
    assert(id_len == reply_len + 34);
    assert(wa_pair_adv_verify_identity(full, id_len, identity_pub,
                                       account_pub) == WA_PAIR_OK);
    assert(wa_pair_adv_verify_identity(full, id_len, identity_pub,
                                       identity_pub) == WA_PAIR_BAD_SIGNATURE);
    assert(wa_pair_adv_verify_identity(full, id_len, account_pub, NULL) ==
           WA_PAIR_BAD_SIGNATURE);
    assert(wa_pair_adv_verify_identity(reply, reply_len, identity_pub, NULL) ==
           WA_PAIR_BAD_INPUT);
    wa_pair_adv_destroy(&res);
    assert(res == NULL);

    //  Failures: wrong adv secret, wrong identity, flipped signature bit,
    //  truncated and garbage input.
    uint8_t wrong[32];
    memcpy(wrong, adv_secret, 32);
    wrong[5] ^= 1;
    assert(wa_pair_adv_accept(container, container_len, wrong, identity_priv,
                              &st) == NULL &&
           st == WA_PAIR_BAD_HMAC);
    uint8_t other_priv[32];
    uint8_t other_pub[32];
    assert(wa_x25519_keypair(other_priv, other_pub) == 0);
    assert(wa_pair_adv_accept(container, container_len, adv_secret, other_priv,
                              &st) == NULL &&
           st == WA_PAIR_BAD_SIGNATURE);
    for (size_t cut = 0; cut < container_len; cut += 7) {
        assert(wa_pair_adv_accept(container, cut, adv_secret, identity_priv,
                                  &st) == NULL);
        assert(st != WA_PAIR_OK);
    }
    uint8_t garbage[64];
    memset(garbage, 0xff, sizeof(garbage));
    assert(wa_pair_adv_accept(garbage, sizeof(garbage), adv_secret,
                              identity_priv, &st) == NULL &&
           st == WA_PAIR_BAD_INPUT);
    assert(wa_pair_adv_check_reply(garbage, sizeof(garbage), NULL, 0,
                                   account_pub, identity_pub,
                                   NULL) == WA_PAIR_BAD_INPUT);
    example[example_len - 1] ^= 0x20;
    assert(wa_pair_adv_check_reply(example, example_len, details, details_len,
                                   account_pub, identity_pub,
                                   NULL) == WA_PAIR_BAD_SIGNATURE);
    assert(wa_pair_adv_check_reply(example, example_len, details,
                                   details_len - 1, account_pub, identity_pub,
                                   NULL) == WA_PAIR_BAD_INPUT);

    //  Issue as the phone does, accept as the companion, check the reply;
    //  both E2EE and hosted.
    for (int hosted = 0; hosted < 2; hosted++) {
        uint8_t acct_priv[32];
        uint8_t acct_pub[32];
        assert(wa_x25519_keypair(acct_priv, acct_pub) == 0);
        uint8_t *issued = NULL;
        size_t issued_len = 0;
        assert(wa_pair_adv_issue(acct_priv, identity_pub, adv_secret, 77,
                                 1767225600, 9, hosted, &issued,
                                 &issued_len) == 0);
        res = wa_pair_adv_accept(issued, issued_len, adv_secret, identity_priv,
                                 &st);
        assert(res && st == WA_PAIR_OK);
        assert(wa_pair_adv_hosted(res) == (bool)hosted);
        assert(wa_pair_adv_key_index(res) == 9);
        assert(wa_pair_adv_raw_id(res) == 77);
        assert(wa_pair_adv_timestamp(res) == 1767225600);
        reply = wa_pair_adv_reply(res, &reply_len);
        assert(wa_pair_adv_check_reply(reply, reply_len, NULL, 0, acct_pub,
                                       identity_pub, &key_index) == WA_PAIR_OK);
        assert(key_index == 9);
        assert(wa_pair_adv_check_reply(reply, reply_len, NULL, 0, acct_pub,
                                       other_pub,
                                       NULL) == WA_PAIR_BAD_SIGNATURE);
        full = wa_pair_adv_identity(res, &id_len);
        assert(wa_pair_adv_verify_identity(full, id_len, identity_pub,
                                           acct_pub) == WA_PAIR_OK);
        wa_pair_adv_destroy(&res);
        //  Issued for someone else: the signature check fails.
        free(issued);
        assert(wa_pair_adv_issue(acct_priv, other_pub, adv_secret, 77, 1, 9,
                                 hosted, &issued, &issued_len) == 0);
        assert(wa_pair_adv_accept(issued, issued_len, adv_secret, identity_priv,
                                  &st) == NULL &&
               st == WA_PAIR_BAD_SIGNATURE);
        free(issued);
    }

    free(example);
    free(details);
    free(signed_bytes);
    free(container);
}

void
wa_pair_test(bool verbose)
{
    printf(" * wa_pair: ");
    json_t *root = wa_vectors_load("pairing.json");
    s_test_qr(root);
    s_test_code(root);
    s_test_finish(root);
    s_test_adv(root);
    char shown[WA_PAIR_CODE_LEN + 2];
    wa_pair_code_display("AB", shown);
    assert(strcmp(shown, "AB") == 0);
    json_decref(root);
    printf("OK\n");
}
