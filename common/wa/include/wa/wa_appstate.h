/*  wa_appstate - app-state ("syncd") keys, record crypto, LTHash and MACs

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The cryptography of WhatsApp app-state sync (docs/wa-protocol.md §9):

    - keys: HKDF(salt none, keyData, "WhatsApp Mutation Keys", 160) split
      into index, value encryption, value MAC, snapshot MAC and patch MAC
      keys (32 bytes each).
    - record: index MAC = HMAC-SHA256(indexKey, index JSON); value blob =
      iv(16) || AES-256-CBC(SyncActionData) || valueMAC(32), valueMAC =
      HMAC-SHA512(valueMacKey, opByte || keyId || iv||ct ||
      uint64BE(len(keyId) + 1))[0..32), opByte 1 = SET, 2 = REMOVE.
    - LTHash ("WhatsApp Patch Integrity"): 128 bytes = 64 little-endian
      uint16 lanes; add/subtract HKDF(valueMAC, info, 128) lane-wise.
    - snapshot MAC and patch MAC over the LTHash, version and collection.

    The protobuf containers (SyncdPatch, SyncActionData, ...) are in
    proto/wa/wa_syncd.proto ("wa/wa_syncd.pb-c.h", package wa.syncd).
    Value IVs come from wa_random() (see wa_crypto.h for the test hook).
*/
#ifndef WA_APPSTATE_H_INCLUDED
#define WA_APPSTATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WA_APPSTATE_MAC_LEN 32
#define WA_LTHASH_LEN 128
//  Value blob length for a SyncActionData of n bytes.
#define WA_APPSTATE_VALUE_LEN(n) (16 + (((n) / 16) + 1) * 16 + 32)

//  Mutation operation; values are the SyncdMutation.operation numbers.
typedef enum { WA_APPSTATE_SET = 0, WA_APPSTATE_REMOVE = 1 } wa_appstate_op_t;

//  The five keys expanded from one app-state sync key.
typedef struct {
    uint8_t index[32];            //  index MAC key
    uint8_t value_encryption[32]; //  AES-256-CBC key for values
    uint8_t value_mac[32];        //  value MAC key
    uint8_t snapshot_mac[32];     //  snapshot MAC key
    uint8_t patch_mac[32];        //  patch MAC key
} wa_appstate_keys_t;

//  One mutation as the LTHash sees it (borrowed pointers, 32 bytes each).
typedef struct {
    wa_appstate_op_t op;      //  SET or REMOVE
    const uint8_t *index_mac; //  record.index.blob
    const uint8_t *value_mac; //  last 32 bytes of record.value.blob
} wa_appstate_mutation_t;

//  Look up the value MAC stored for index_mac before this patch. Return
//  0 and fill value_mac if there is one, -1 if not.
typedef int(wa_appstate_lookup_fn)(void *arg, const uint8_t *index_mac,
                                   uint8_t *value_mac);

//  Expand key data (any non-zero length; 32 in practice). Returns 0 / -1.
int wa_appstate_keys(const uint8_t *key_data, size_t len,
                     wa_appstate_keys_t *keys);

//  Index MAC of an index (the JSON array bytes). Returns 0 / -1.
int wa_appstate_index_mac(const wa_appstate_keys_t *keys, const void *index,
                          size_t len, uint8_t out[WA_APPSTATE_MAC_LEN]);

//  Check index_mac against index in constant time. Returns 0 if equal.
int wa_appstate_index_verify(const wa_appstate_keys_t *keys, const void *index,
                             size_t len, const uint8_t *index_mac,
                             size_t mac_len);

//  Value MAC of enc (iv || ciphertext) for op under key_id. 0 / -1.
int wa_appstate_value_mac(const wa_appstate_keys_t *keys, wa_appstate_op_t op,
                          const uint8_t *key_id, size_t key_id_len,
                          const uint8_t *enc, size_t enc_len,
                          uint8_t out[WA_APPSTATE_MAC_LEN]);

//  Encrypt a serialized SyncActionData into a value blob (iv || ct ||
//  valueMAC, WA_APPSTATE_VALUE_LEN(len) bytes; iv from wa_random). The
//  value MAC is the blob's last 32 bytes. Returns 0 / -1.
int wa_appstate_value_encrypt(const wa_appstate_keys_t *keys,
                              wa_appstate_op_t op, const uint8_t *key_id,
                              size_t key_id_len, const void *data, size_t len,
                              uint8_t *out, size_t *out_len);

//  Verify the value MAC of a blob and decrypt it. out must hold blob_len
//  bytes; *out_len gets the SyncActionData length. Returns -1 on a short
//  or misaligned blob, a bad MAC or bad padding.
int wa_appstate_value_decrypt(const wa_appstate_keys_t *keys,
                              wa_appstate_op_t op, const uint8_t *key_id,
                              size_t key_id_len, const uint8_t *blob,
                              size_t blob_len, uint8_t *out, size_t *out_len);

//  LTHash: add / subtract the 128-byte expansion of value (a value MAC).
int wa_appstate_lthash_add(uint8_t state[WA_LTHASH_LEN], const void *value,
                           size_t len);
int wa_appstate_lthash_subtract(uint8_t state[WA_LTHASH_LEN], const void *value,
                                size_t len);

//  Apply a patch's mutations to an LTHash: for each mutation subtract the
//  value MAC previously SET for its index (an earlier mutation of this
//  patch wins over lookup(); an earlier REMOVE means none), and add the
//  value MAC of every SET. lookup may be NULL (empty state). The caller
//  updates its index -> value MAC map afterwards (SET stores, REMOVE
//  deletes). Returns -1 if a mutation has NULL MACs or hashing fails
//  (state is then unchanged).
int wa_appstate_lthash_apply(uint8_t state[WA_LTHASH_LEN],
                             const wa_appstate_mutation_t *mutations,
                             size_t count, wa_appstate_lookup_fn *lookup,
                             void *arg);

//  Snapshot MAC = HMAC-SHA256(snapshotMacKey, lthash || uint64BE(version)
//  || collection name). Returns 0 / -1.
int wa_appstate_snapshot_mac(const wa_appstate_keys_t *keys,
                             const uint8_t lthash[WA_LTHASH_LEN],
                             uint64_t version, const char *collection,
                             uint8_t out[WA_APPSTATE_MAC_LEN]);

//  Patch MAC = HMAC-SHA256(patchMacKey, snapshotMAC || valueMAC_1 || ...
//  || valueMAC_n || uint64BE(version) || collection name); value_macs is
//  count MACs of 32 bytes, back to back, in mutation order. 0 / -1.
int wa_appstate_patch_mac(const wa_appstate_keys_t *keys,
                          const uint8_t snapshot_mac[WA_APPSTATE_MAC_LEN],
                          const uint8_t *value_macs, size_t count,
                          uint64_t version, const char *collection,
                          uint8_t out[WA_APPSTATE_MAC_LEN]);

//  Self test
void wa_appstate_test(bool verbose);

#endif
