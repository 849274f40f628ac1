/*  wa_e2e - WhatsApp's end-to-end message layer over libsignal

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    What WhatsApp adds around the Signal protocol (wa-protocol.md §7):
    random padding of plaintexts (1..16 bytes, each equal to the count),
    the <enc> types pkmsg / msg / skmsg, sessions built from the prekey
    bundles the server hands out, sender keys for groups with their
    distribution messages (SKDM), Signal addresses derived from JIDs, and
    message ids.

    Every function works on one session's wa_sigstore and leaves all
    persistence to the store's change journal.
*/
#ifndef WA_E2E_H_INCLUDED
#define WA_E2E_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_sigstore.h"

//  Largest plaintext or ciphertext handled (a Message protobuf).
#define WA_E2E_MAX_SIZE (4 * 1024 * 1024)
//  Outcomes beyond 0 / -1.
#define WA_E2E_DUPLICATE (-2)   //  already decrypted (old counter)
#define WA_E2E_NO_SESSION (-3)  //  no session / sender key to decrypt with
//  Length of a message id from wa_e2e_message_id (without the NUL).
#define WA_E2E_ID_LEN 22

typedef enum {
    WA_ENC_MSG = 0,    //  SignalMessage in an existing session
    WA_ENC_PKMSG = 1,  //  PreKeySignalMessage that starts a session
    WA_ENC_SKMSG = 2   //  SenderKeyMessage (groups, status)
} wa_enc_type_t;

//  A prekey bundle from <iq xmlns="encrypt">: raw 32-byte keys.
typedef struct {
    uint32_t registration_id;  //  the device's registration id
    uint8_t identity[32];      //  identity key
    bool has_prekey;           //  one-time prekey present
    uint32_t prekey_id;        //  its id
    uint8_t prekey[32];        //  its public key
    uint32_t skey_id;          //  signed prekey id
    uint8_t skey[32];          //  signed prekey public key
    uint8_t skey_sig[64];      //  its XEdDSA signature
} wa_bundle_t;

//  "pkmsg", "msg" or "skmsg".
const char *wa_e2e_type_name(wa_enc_type_t type);
//  Parse an <enc type>. Returns -1 on anything else.
int wa_e2e_type_parse(const char *name, wa_enc_type_t *type);

//  Pad `len` bytes: a new buffer of len + p bytes (p random in 1..16).
//  Caller owns *out_p.
int wa_e2e_pad(const uint8_t *in, size_t len, uint8_t **out_p,
               size_t *out_len);
//  Length of the plaintext inside padded bytes, or -1 when the padding
//  is not valid.
int wa_e2e_unpad(const uint8_t *in, size_t len, size_t *plain_len);

//  Signal address name for a JID user and domain type: the user, plus
//  "_<domain>" when domain is not 0 (LID 1, hosted 128, hosted LID 129).
//  Writes at most size bytes into out.
void wa_e2e_address(const char *user, int domain, char *out, size_t size);

//  A new message id: "3EB0" and 18 upper-case hex digits. out has
//  WA_E2E_ID_LEN + 1 bytes.
void wa_e2e_message_id(const char *own_user, char *out);

//  Start a session with device (name, device) from its bundle; checks the
//  signed prekey's signature. Returns 0 or -1.
int wa_e2e_process_bundle(wa_sigstore_t *store, const char *name, int device,
                          const wa_bundle_t *bundle);

//  True if a session with (name, device) exists.
bool wa_e2e_has_session(wa_sigstore_t *store, const char *name, int device);

//  Pad and encrypt for (name, device). *type gets pkmsg or msg. Caller
//  owns *ct_p. Returns 0, WA_E2E_NO_SESSION or -1.
int wa_e2e_encrypt(wa_sigstore_t *store, const char *name, int device,
                   const uint8_t *plain, size_t len, wa_enc_type_t *type,
                   uint8_t **ct_p, size_t *ct_len);

//  Decrypt a pkmsg or msg from (name, device) and strip the padding.
//  Caller owns *plain_p. Returns 0, WA_E2E_DUPLICATE, WA_E2E_NO_SESSION or
//  -1 (bad message).
int wa_e2e_decrypt(wa_sigstore_t *store, const char *name, int device,
                   wa_enc_type_t type, const uint8_t *ct, size_t len,
                   uint8_t **plain_p, size_t *plain_len);

//  The sender's identity key (32 bytes, no type byte) a PreKeySignal
//  message (pkmsg) carries. Returns 0, or -1 when it is not one.
int wa_e2e_pkmsg_identity(wa_sigstore_t *store, const uint8_t *ct, size_t len,
                          uint8_t pub[32]);

//  Pad and encrypt for `group` with our sender key (created on first use)
//  as (own_name, own_device). Returns the skmsg and, when skdm_p is not
//  NULL, the serialised distribution message for members that lack our
//  key. Caller owns both buffers.
int wa_e2e_group_encrypt(wa_sigstore_t *store, const char *group,
                         const char *own_name, int own_device,
                         const uint8_t *plain, size_t len, uint8_t **skmsg_p,
                         size_t *skmsg_len, uint8_t **skdm_p,
                         size_t *skdm_len);

//  Accept a sender's distribution message for `group`. 0 or -1.
int wa_e2e_group_process_skdm(wa_sigstore_t *store, const char *group,
                              const char *name, int device,
                              const uint8_t *skdm, size_t len);

//  Decrypt a group skmsg from (name, device) and strip the padding. Caller
//  owns *plain_p. Returns 0, WA_E2E_DUPLICATE, WA_E2E_NO_SESSION or -1.
int wa_e2e_group_decrypt(wa_sigstore_t *store, const char *group,
                         const char *name, int device, const uint8_t *skmsg,
                         size_t len, uint8_t **plain_p, size_t *plain_len);

void wa_e2e_test(bool verbose);

#endif
