/*  wa_appstate - app-state ("syncd") keys, record crypto, LTHash and MACs

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_appstate.h"
#include "wa/wa_crypto.h"
#include "wa/wa_syncd.pb-c.h"
#include "wa/wa_vectors.h"

#define S_KEYS_INFO "WhatsApp Mutation Keys"
#define S_LTHASH_INFO "WhatsApp Patch Integrity"

int
wa_appstate_keys(const uint8_t *key_data, size_t len, wa_appstate_keys_t *keys)
{
    if (!key_data || len == 0 || !keys) {
        return -1;
    }
    uint8_t expanded[160];
    if (wa_hkdf_sha256(NULL, 0, key_data, len, S_KEYS_INFO, strlen(S_KEYS_INFO),
                       expanded, sizeof(expanded)) != 0) {
        return -1;
    }
    memcpy(keys->index, expanded, 32);
    memcpy(keys->value_encryption, expanded + 32, 32);
    memcpy(keys->value_mac, expanded + 64, 32);
    memcpy(keys->snapshot_mac, expanded + 96, 32);
    memcpy(keys->patch_mac, expanded + 128, 32);
    wa_crypto_wipe(expanded, sizeof(expanded));
    return 0;
}

int
wa_appstate_index_mac(const wa_appstate_keys_t *keys, const void *index,
                      size_t len, uint8_t out[WA_APPSTATE_MAC_LEN])
{
    if (!keys || (len > 0 && !index) || !out) {
        return -1;
    }
    return wa_hmac_sha256(keys->index, sizeof(keys->index), index, len, out);
}

int
wa_appstate_index_verify(const wa_appstate_keys_t *keys, const void *index,
                         size_t len, const uint8_t *index_mac, size_t mac_len)
{
    uint8_t mac[WA_APPSTATE_MAC_LEN];
    if (!index_mac || mac_len != WA_APPSTATE_MAC_LEN ||
        wa_appstate_index_mac(keys, index, len, mac) != 0) {
        return -1;
    }
    return wa_crypto_equal(mac, index_mac, sizeof(mac)) ? 0 : -1;
}

int
wa_appstate_value_mac(const wa_appstate_keys_t *keys, wa_appstate_op_t op,
                      const uint8_t *key_id, size_t key_id_len,
                      const uint8_t *enc, size_t enc_len,
                      uint8_t out[WA_APPSTATE_MAC_LEN])
{
    if (!keys || (op != WA_APPSTATE_SET && op != WA_APPSTATE_REMOVE) ||
        (key_id_len > 0 && !key_id) || (enc_len > 0 && !enc) || !out ||
        key_id_len >= UINT64_MAX) {
        return -1;
    }
    uint8_t op_byte = op == WA_APPSTATE_SET ? 0x01 : 0x02;
    uint8_t trailer[8];
    uint64_t n = (uint64_t)key_id_len + 1;
    for (int i = 7; i >= 0; i--) {
        trailer[i] = (uint8_t)(n & 0xff);
        n >>= 8;
    }
    wa_part_t parts[4] = {{&op_byte, 1},
                          {key_id, key_id_len},
                          {enc, enc_len},
                          {trailer, sizeof(trailer)}};
    uint8_t full[WA_SHA512_LEN];
    if (wa_hmac_sha512_parts(keys->value_mac, sizeof(keys->value_mac), parts, 4,
                             full) != 0) {
        return -1;
    }
    memcpy(out, full, WA_APPSTATE_MAC_LEN);
    return 0;
}

int
wa_appstate_value_encrypt(const wa_appstate_keys_t *keys, wa_appstate_op_t op,
                          const uint8_t *key_id, size_t key_id_len,
                          const void *data, size_t len, uint8_t *out,
                          size_t *out_len)
{
    if (!keys || (len > 0 && !data) || !out || !out_len) {
        return -1;
    }
    uint8_t *iv = out;
    if (wa_random(iv, 16) != 0) {
        return -1;
    }
    size_t ct_len = 0;
    if (wa_aes_cbc_encrypt(keys->value_encryption, iv, data, len, out + 16,
                           &ct_len) != 0 ||
        wa_appstate_value_mac(keys, op, key_id, key_id_len, out, 16 + ct_len,
                              out + 16 + ct_len) != 0) {
        return -1;
    }
    *out_len = 16 + ct_len + WA_APPSTATE_MAC_LEN;
    return 0;
}

int
wa_appstate_value_decrypt(const wa_appstate_keys_t *keys, wa_appstate_op_t op,
                          const uint8_t *key_id, size_t key_id_len,
                          const uint8_t *blob, size_t blob_len, uint8_t *out,
                          size_t *out_len)
{
    if (!keys || !blob || !out || !out_len ||
        blob_len < 16 + 16 + WA_APPSTATE_MAC_LEN ||
        (blob_len - 16 - WA_APPSTATE_MAC_LEN) % 16) {
        return -1;
    }
    size_t enc_len = blob_len - WA_APPSTATE_MAC_LEN;
    uint8_t mac[WA_APPSTATE_MAC_LEN];
    if (wa_appstate_value_mac(keys, op, key_id, key_id_len, blob, enc_len,
                              mac) != 0 ||
        !wa_crypto_equal(mac, blob + enc_len, WA_APPSTATE_MAC_LEN)) {
        return -1;
    }
    return wa_aes_cbc_decrypt(keys->value_encryption, blob, blob + 16,
                              enc_len - 16, out, out_len);
}

static int
s_lthash_expand(const void *value, size_t len, uint8_t out[WA_LTHASH_LEN])
{
    if (!value || len == 0) {
        return -1;
    }
    return wa_hkdf_sha256(NULL, 0, value, len, S_LTHASH_INFO,
                          strlen(S_LTHASH_INFO), out, WA_LTHASH_LEN);
}

//  Lane-wise add (sign 1) or subtract (sign -1) mod 2^16, little-endian.
static void
s_lthash_mix(uint8_t state[WA_LTHASH_LEN], const uint8_t exp[WA_LTHASH_LEN],
             int sign)
{
    for (size_t i = 0; i < WA_LTHASH_LEN; i += 2) {
        uint16_t a = (uint16_t)(state[i] | state[i + 1] << 8);
        uint16_t b = (uint16_t)(exp[i] | exp[i + 1] << 8);
        uint16_t r = sign > 0 ? (uint16_t)(a + b) : (uint16_t)(a - b);
        state[i] = (uint8_t)(r & 0xff);
        state[i + 1] = (uint8_t)(r >> 8);
    }
}

int
wa_appstate_lthash_add(uint8_t state[WA_LTHASH_LEN], const void *value,
                       size_t len)
{
    uint8_t exp[WA_LTHASH_LEN];
    if (!state || s_lthash_expand(value, len, exp) != 0) {
        return -1;
    }
    s_lthash_mix(state, exp, 1);
    return 0;
}

int
wa_appstate_lthash_subtract(uint8_t state[WA_LTHASH_LEN], const void *value,
                            size_t len)
{
    uint8_t exp[WA_LTHASH_LEN];
    if (!state || s_lthash_expand(value, len, exp) != 0) {
        return -1;
    }
    s_lthash_mix(state, exp, -1);
    return 0;
}

int
wa_appstate_lthash_apply(uint8_t state[WA_LTHASH_LEN],
                         const wa_appstate_mutation_t *mutations, size_t count,
                         wa_appstate_lookup_fn *lookup, void *arg)
{
    if (!state || (count > 0 && !mutations)) {
        return -1;
    }
    uint8_t work[WA_LTHASH_LEN];
    memcpy(work, state, sizeof(work));
    for (size_t i = 0; i < count; i++) {
        const wa_appstate_mutation_t *m = &mutations[i];
        if (!m->index_mac || !m->value_mac ||
            (m->op != WA_APPSTATE_SET && m->op != WA_APPSTATE_REMOVE)) {
            return -1;
        }
        //  The value this index had just before mutation i.
        const uint8_t *prev = NULL;
        bool seen = false;
        for (size_t j = i; j-- > 0;) {
            if (memcmp(mutations[j].index_mac, m->index_mac,
                       WA_APPSTATE_MAC_LEN) == 0) {
                seen = true;
                prev = mutations[j].op == WA_APPSTATE_SET
                           ? mutations[j].value_mac
                           : NULL;
                break;
            }
        }
        uint8_t stored[WA_APPSTATE_MAC_LEN];
        if (!seen && lookup && lookup(arg, m->index_mac, stored) == 0) {
            prev = stored;
        }
        if (prev &&
            wa_appstate_lthash_subtract(work, prev, WA_APPSTATE_MAC_LEN) != 0) {
            return -1;
        }
        if (m->op == WA_APPSTATE_SET &&
            wa_appstate_lthash_add(work, m->value_mac, WA_APPSTATE_MAC_LEN) !=
                0) {
            return -1;
        }
    }
    memcpy(state, work, sizeof(work));
    return 0;
}

static void
s_be64(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

int
wa_appstate_snapshot_mac(const wa_appstate_keys_t *keys,
                         const uint8_t lthash[WA_LTHASH_LEN], uint64_t version,
                         const char *collection,
                         uint8_t out[WA_APPSTATE_MAC_LEN])
{
    if (!keys || !lthash || !collection || !out) {
        return -1;
    }
    uint8_t ver[8];
    s_be64(version, ver);
    wa_part_t parts[3] = {{lthash, WA_LTHASH_LEN},
                          {ver, sizeof(ver)},
                          {collection, strlen(collection)}};
    return wa_hmac_sha256_parts(keys->snapshot_mac, sizeof(keys->snapshot_mac),
                                parts, 3, out);
}

int
wa_appstate_patch_mac(const wa_appstate_keys_t *keys,
                      const uint8_t snapshot_mac[WA_APPSTATE_MAC_LEN],
                      const uint8_t *value_macs, size_t count, uint64_t version,
                      const char *collection, uint8_t out[WA_APPSTATE_MAC_LEN])
{
    if (!keys || !snapshot_mac || (count > 0 && !value_macs) || !collection ||
        !out || count > SIZE_MAX / WA_APPSTATE_MAC_LEN) {
        return -1;
    }
    uint8_t ver[8];
    s_be64(version, ver);
    wa_part_t parts[4] = {{snapshot_mac, WA_APPSTATE_MAC_LEN},
                          {value_macs, count * WA_APPSTATE_MAC_LEN},
                          {ver, sizeof(ver)},
                          {collection, strlen(collection)}};
    return wa_hmac_sha256_parts(keys->patch_mac, sizeof(keys->patch_mac), parts,
                                4, out);
}

//  --------------------------------------------------------------------------
//  Self test

//  Random source that replays a fixed buffer (vector IVs).
typedef struct {
    const uint8_t *data; //  bytes to hand out
    size_t len;          //  bytes left
} s_replay_t;

static int
s_replay_random(void *arg, uint8_t *buf, size_t len)
{
    s_replay_t *r = arg;
    if (len > r->len) {
        return -1;
    }
    memcpy(buf, r->data, len);
    r->data += len;
    r->len -= len;
    return 0;
}

//  Lookup over one remembered (index MAC, value MAC) pair.
typedef struct {
    uint8_t index_mac[32]; //  stored index
    uint8_t value_mac[32]; //  its value MAC
    bool set;              //  pair present
} s_store_t;

static int
s_store_lookup(void *arg, const uint8_t *index_mac, uint8_t *value_mac)
{
    s_store_t *store = arg;
    if (!store->set || memcmp(store->index_mac, index_mac, 32) != 0) {
        return -1;
    }
    memcpy(value_mac, store->value_mac, 32);
    return 0;
}

//  Build one patch from the vector, compare every intermediate value and
//  the serialized SyncdPatch; then parse the vector bytes and verify them
//  the way a receiver does.
static void
s_test_patch(json_t *root, json_t *vec, const wa_appstate_keys_t *keys,
             uint8_t lthash[WA_LTHASH_LEN], s_store_t *store)
{
    const char *collection =
        json_string_value(json_object_get(root, "collection"));
    size_t key_id_len = 0;
    uint8_t *key_id = wa_vectors_field(root, "key_id_hex", &key_id_len);
    uint64_t version =
        (uint64_t)json_integer_value(json_object_get(vec, "version"));
    size_t data_len = 0;
    uint8_t *data = wa_vectors_field(vec, "sync_action_data_hex", &data_len);

    //  The SyncActionData bytes parse with our schema and re-encode
    //  identically (field numbers of SyncActionValue/MuteAction).
    Wa__Syncd__SyncActionData *action =
        wa__syncd__sync_action_data__unpack(NULL, data_len, data);
    assert(action && action->has_index && action->value);
    assert(action->value->mute_action);
    assert(action->has_version && action->version == 2);
    assert(wa__syncd__sync_action_data__get_packed_size(action) == data_len);
    uint8_t *repacked = cm_alloc(data_len);
    wa__syncd__sync_action_data__pack(action, repacked);
    assert(memcmp(repacked, data, data_len) == 0);
    free(repacked);

    //  Index MAC over the JSON index the action carries.
    uint8_t index_mac[32];
    assert(wa_appstate_index_mac(keys, action->index.data, action->index.len,
                                 index_mac) == 0);
    if (json_object_get(vec, "index_mac")) {
        assert(wa_vectors_field_eq(vec, "index_mac", index_mac, 32));
        const char *json =
            json_string_value(json_object_get(vec, "index_json"));
        assert(json && strlen(json) == action->index.len);
        assert(memcmp(json, action->index.data, action->index.len) == 0);
    }
    assert(wa_appstate_index_verify(keys, action->index.data, action->index.len,
                                    index_mac, 32) == 0);

    //  Value blob with the vector's IV fed through the random hook.
    size_t iv_len = 0;
    uint8_t *iv = wa_vectors_field(vec, "iv", &iv_len);
    s_replay_t replay = {iv, iv_len};
    wa_crypto_set_random(s_replay_random, &replay);
    size_t blob_len = 0;
    uint8_t *blob = cm_alloc(WA_APPSTATE_VALUE_LEN(data_len));
    assert(wa_appstate_value_encrypt(keys, WA_APPSTATE_SET, key_id, key_id_len,
                                     data, data_len, blob, &blob_len) == 0);
    wa_crypto_set_random(NULL, NULL);
    assert(blob_len == WA_APPSTATE_VALUE_LEN(data_len));
    assert(
        wa_vectors_field_eq(vec, "enc_value_with_iv_hex", blob, blob_len - 32));
    const uint8_t *value_mac = blob + blob_len - 32;
    assert(wa_vectors_field_eq(vec, "value_mac", value_mac, 32));
    uint8_t mac[32];
    assert(wa_appstate_value_mac(keys, WA_APPSTATE_SET, key_id, key_id_len,
                                 blob, blob_len - 32, mac) == 0);
    assert(memcmp(mac, value_mac, 32) == 0);

    //  Decrypt it back; REMOVE or another key id fails the MAC.
    uint8_t *plain = cm_alloc(blob_len);
    size_t plain_len = 0;
    assert(wa_appstate_value_decrypt(keys, WA_APPSTATE_SET, key_id, key_id_len,
                                     blob, blob_len, plain, &plain_len) == 0);
    assert(plain_len == data_len && memcmp(plain, data, data_len) == 0);
    assert(wa_appstate_value_decrypt(keys, WA_APPSTATE_REMOVE, key_id,
                                     key_id_len, blob, blob_len, plain,
                                     &plain_len) == -1);
    assert(wa_appstate_value_decrypt(keys, WA_APPSTATE_SET, key_id,
                                     key_id_len - 1, blob, blob_len, plain,
                                     &plain_len) == -1);

    //  LTHash: previous value for this index comes from the store.
    wa_appstate_mutation_t m = {WA_APPSTATE_SET, index_mac, value_mac};
    assert(wa_appstate_lthash_apply(lthash, &m, 1, s_store_lookup, store) == 0);
    assert(wa_vectors_field_eq(vec, "lthash_after_hex", lthash, WA_LTHASH_LEN));
    memcpy(store->index_mac, index_mac, 32);
    memcpy(store->value_mac, value_mac, 32);
    store->set = true;

    uint8_t snapshot_mac[32];
    uint8_t patch_mac[32];
    assert(wa_appstate_snapshot_mac(keys, lthash, version, collection,
                                    snapshot_mac) == 0);
    assert(wa_vectors_field_eq(vec, "snapshot_mac", snapshot_mac, 32));
    assert(wa_appstate_patch_mac(keys, snapshot_mac, value_mac, 1, version,
                                 collection, patch_mac) == 0);
    assert(wa_vectors_field_eq(vec, "patch_mac", patch_mac, 32));

    //  Serialize the SyncdPatch and compare with the vector bytes.
    Wa__Syncd__SyncdVersion ver = WA__SYNCD__SYNCD_VERSION__INIT;
    ver.has_version = 1;
    ver.version = version;
    Wa__Syncd__KeyId kid = WA__SYNCD__KEY_ID__INIT;
    kid.has_id = 1;
    kid.id.data = key_id;
    kid.id.len = key_id_len;
    Wa__Syncd__SyncdIndex index = WA__SYNCD__SYNCD_INDEX__INIT;
    index.has_blob = 1;
    index.blob.data = index_mac;
    index.blob.len = 32;
    Wa__Syncd__SyncdValue value = WA__SYNCD__SYNCD_VALUE__INIT;
    value.has_blob = 1;
    value.blob.data = blob;
    value.blob.len = blob_len;
    Wa__Syncd__SyncdRecord record = WA__SYNCD__SYNCD_RECORD__INIT;
    record.index = &index;
    record.value = &value;
    record.key_id = &kid;
    Wa__Syncd__SyncdMutation mutation = WA__SYNCD__SYNCD_MUTATION__INIT;
    mutation.has_operation = 1;
    mutation.operation = WA__SYNCD__SYNCD_MUTATION__OPERATION__SET;
    mutation.record = &record;
    Wa__Syncd__SyncdMutation *mutations[1] = {&mutation};
    Wa__Syncd__SyncdPatch patch = WA__SYNCD__SYNCD_PATCH__INIT;
    patch.version = &ver;
    patch.n_mutations = 1;
    patch.mutations = mutations;
    patch.has_snapshot_mac = 1;
    patch.snapshot_mac.data = snapshot_mac;
    patch.snapshot_mac.len = 32;
    patch.has_patch_mac = 1;
    patch.patch_mac.data = patch_mac;
    patch.patch_mac.len = 32;
    patch.key_id = &kid;
    size_t packed_len = wa__syncd__syncd_patch__get_packed_size(&patch);
    uint8_t *packed = cm_alloc(packed_len);
    wa__syncd__syncd_patch__pack(&patch, packed);
    assert(wa_vectors_field_eq(vec, "syncd_patch_hex", packed, packed_len));
    free(packed);

    //  Receiver side: parse the vector's patch and verify all MACs.
    size_t wire_len = 0;
    uint8_t *wire = wa_vectors_field(vec, "syncd_patch_hex", &wire_len);
    Wa__Syncd__SyncdPatch *got =
        wa__syncd__syncd_patch__unpack(NULL, wire_len, wire);
    assert(got && got->n_mutations == 1 && got->version);
    Wa__Syncd__SyncdRecord *rec = got->mutations[0]->record;
    assert(rec && rec->value && rec->index && rec->key_id);
    assert(wa_appstate_value_decrypt(
               keys, WA_APPSTATE_SET, rec->key_id->id.data, rec->key_id->id.len,
               rec->value->blob.data, rec->value->blob.len, plain,
               &plain_len) == 0);
    Wa__Syncd__SyncActionData *inner =
        wa__syncd__sync_action_data__unpack(NULL, plain_len, plain);
    assert(inner && inner->has_index);
    assert(wa_appstate_index_verify(keys, inner->index.data, inner->index.len,
                                    rec->index->blob.data,
                                    rec->index->blob.len) == 0);
    assert(got->has_patch_mac && got->patch_mac.len == 32);
    assert(
        wa_appstate_patch_mac(keys, got->snapshot_mac.data,
                              rec->value->blob.data + rec->value->blob.len - 32,
                              1, got->version->version, collection, mac) == 0);
    assert(wa_crypto_equal(mac, got->patch_mac.data, 32));
    wa__syncd__sync_action_data__free_unpacked(inner, NULL);
    wa__syncd__syncd_patch__free_unpacked(got, NULL);
    wa__syncd__sync_action_data__free_unpacked(action, NULL);
    free(wire);
    free(plain);
    free(blob);
    free(iv);
    free(data);
    free(key_id);
}

void
wa_appstate_test(bool verbose)
{
    printf(" * wa_appstate: ");
    json_t *root = wa_vectors_load("app-state.json");
    size_t key_len = 0;
    uint8_t *key_data = wa_vectors_field(root, "key_data_hex", &key_len);
    wa_appstate_keys_t keys;
    assert(wa_appstate_keys(key_data, key_len, &keys) == 0);
    json_t *expanded = json_object_get(root, "expanded");
    assert(wa_vectors_field_eq(expanded, "index_key", keys.index, 32));
    assert(wa_vectors_field_eq(expanded, "value_encryption_key",
                               keys.value_encryption, 32));
    assert(wa_vectors_field_eq(expanded, "value_mac_key", keys.value_mac, 32));
    assert(wa_vectors_field_eq(expanded, "snapshot_mac_key", keys.snapshot_mac,
                               32));
    assert(wa_vectors_field_eq(expanded, "patch_mac_key", keys.patch_mac, 32));
    assert(wa_appstate_keys(key_data, 0, &keys) == -1);

    //  Two patches on one index: the second subtracts the first's MAC.
    uint8_t lthash[WA_LTHASH_LEN] = {0};
    s_store_t store = {.set = false};
    s_test_patch(root, json_object_get(root, "patch1"), &keys, lthash, &store);
    s_test_patch(root, json_object_get(root, "patch2"), &keys, lthash, &store);

    //  LTHash algebra: add then subtract is the identity; order of adds
    //  does not matter; within one patch a later SET replaces an earlier
    //  one and an earlier REMOVE clears it.
    uint8_t a[32];
    uint8_t b[32];
    uint8_t idx[32];
    memset(a, 0xaa, 32);
    memset(b, 0xbb, 32);
    memset(idx, 0x11, 32);
    uint8_t h1[WA_LTHASH_LEN] = {0};
    uint8_t h2[WA_LTHASH_LEN] = {0};
    uint8_t zero[WA_LTHASH_LEN] = {0};
    assert(wa_appstate_lthash_add(h1, a, 32) == 0);
    assert(wa_appstate_lthash_add(h1, b, 32) == 0);
    assert(wa_appstate_lthash_add(h2, b, 32) == 0);
    assert(wa_appstate_lthash_add(h2, a, 32) == 0);
    assert(memcmp(h1, h2, WA_LTHASH_LEN) == 0);
    assert(wa_appstate_lthash_subtract(h1, a, 32) == 0);
    assert(wa_appstate_lthash_subtract(h1, b, 32) == 0);
    assert(memcmp(h1, zero, WA_LTHASH_LEN) == 0);
    wa_appstate_mutation_t muts[3] = {{WA_APPSTATE_SET, idx, a},
                                      {WA_APPSTATE_SET, idx, b},
                                      {WA_APPSTATE_REMOVE, idx, b}};
    memset(h1, 0, sizeof(h1));
    assert(wa_appstate_lthash_apply(h1, muts, 2, NULL, NULL) == 0);
    memset(h2, 0, sizeof(h2));
    assert(wa_appstate_lthash_add(h2, b, 32) == 0);
    assert(memcmp(h1, h2, WA_LTHASH_LEN) == 0);
    memset(h1, 0, sizeof(h1));
    assert(wa_appstate_lthash_apply(h1, muts, 3, NULL, NULL) == 0);
    assert(memcmp(h1, zero, WA_LTHASH_LEN) == 0);
    wa_appstate_mutation_t remove_then_set[2] = {{WA_APPSTATE_REMOVE, idx, a},
                                                 {WA_APPSTATE_SET, idx, b}};
    s_store_t held = {.set = true};
    memcpy(held.index_mac, idx, 32);
    memcpy(held.value_mac, a, 32);
    memset(h1, 0, sizeof(h1));
    assert(wa_appstate_lthash_add(h1, a, 32) == 0);
    assert(wa_appstate_lthash_apply(h1, remove_then_set, 2, s_store_lookup,
                                    &held) == 0);
    assert(memcmp(h1, h2, WA_LTHASH_LEN) == 0);
    wa_appstate_mutation_t broken = {WA_APPSTATE_SET, idx, NULL};
    memcpy(h2, h1, sizeof(h1));
    assert(wa_appstate_lthash_apply(h1, &broken, 1, NULL, NULL) == -1);
    assert(memcmp(h1, h2, WA_LTHASH_LEN) == 0);
    assert(wa_appstate_lthash_add(h1, a, 0) == -1);

    //  Bad value blobs are refused, never read out of bounds.
    uint8_t blob[WA_APPSTATE_VALUE_LEN(20)];
    uint8_t out[sizeof(blob)];
    size_t blob_len = 0;
    size_t out_len = 0;
    uint8_t kid[2] = {1, 2};
    assert(wa_appstate_value_encrypt(&keys, WA_APPSTATE_REMOVE, kid, 2,
                                     "twenty bytes of data", 20, blob,
                                     &blob_len) == 0);
    assert(wa_appstate_value_decrypt(&keys, WA_APPSTATE_REMOVE, kid, 2, blob,
                                     blob_len, out, &out_len) == 0);
    assert(out_len == 20 && memcmp(out, "twenty bytes of data", 20) == 0);
    for (size_t cut = 0; cut < blob_len; cut += 5) {
        assert(wa_appstate_value_decrypt(&keys, WA_APPSTATE_REMOVE, kid, 2,
                                         blob, cut, out, &out_len) == -1);
    }
    blob[20] ^= 4;
    assert(wa_appstate_value_decrypt(&keys, WA_APPSTATE_REMOVE, kid, 2, blob,
                                     blob_len, out, &out_len) == -1);
    assert(wa_appstate_index_verify(&keys, "x", 1, idx, 31) == -1);
    assert(wa_appstate_index_verify(&keys, "x", 1, idx, 32) == -1);
    assert(wa_appstate_value_mac(&keys, (wa_appstate_op_t)5, kid, 2, blob, 16,
                                 out) == -1);

    free(key_data);
    json_decref(root);
    printf("OK\n");
}
