/*  wa_sigstore - one session's Signal state for libsignal-protocol-c

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Implements libsignal's five stores (sessions, pre-keys, signed
    pre-keys, identities, sender keys) over one compact in-memory map of
    records, keyed by kind and key:

      kind            key                         record
      session         "<name>.<device>"           libsignal session record
      identity        "<name>.<device>"           33-byte djb public key
      prekey          decimal id                  libsignal pre-key record
      signed_prekey   decimal id                  libsignal signed pre-key
      sender_key      "<group>::<name>.<device>"  libsignal sender-key record
      appstate_key    hex key id / "latest"       app-state sync key (wa_syncd)
      appstate_coll   collection name             version and LTHash
      appstate_mac    "<collection>:<hex index MAC>"  value MAC
      tctoken         contact user JID            privacy token (wa_tctoken)
      nct_salt        "salt"                      NCT salt for cstokens

    The local identity key pair and registration id are set once
    (generated at pairing, then loaded from the database).

    Persistence is the owner's job: every change is reported to a change
    callback (data NULL for a deletion) so the session-worker can write it
    to store-service, and wa_sigstore_load() puts stored rows back. All
    callbacks run synchronously on the owner's thread.
*/
#ifndef WA_SIGSTORE_H_INCLUDED
#define WA_SIGSTORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <signal_protocol.h>

#include "wa_signal.h"

//  Largest record accepted from the database or from libsignal.
#define WA_SIGSTORE_MAX_RECORD (64 * 1024)

typedef struct _wa_sigstore_t wa_sigstore_t;

//  Called for every change: kind and key as above; data/len the new
//  record, or NULL/0 when it was deleted.
typedef void(wa_sigstore_change_fn)(void *arg, const char *kind,
                                    const char *key, const uint8_t *data,
                                    size_t len);

//  New empty store using `signal` (borrowed; must outlive the store).
wa_sigstore_t *wa_sigstore_new(wa_signal_t *signal);
void wa_sigstore_destroy(wa_sigstore_t **self_p);

//  Report changes to fn (NULL to stop reporting).
void wa_sigstore_set_change_fn(wa_sigstore_t *self, wa_sigstore_change_fn *fn,
                               void *arg);

//  Set the local identity (raw 32-byte X25519 keys) and registration id.
int wa_sigstore_set_identity(wa_sigstore_t *self, const uint8_t priv[32],
                             const uint8_t pub[32], uint32_t registration_id);

//  Generate a new identity key pair and registration id (for a new device).
int wa_sigstore_generate_identity(wa_sigstore_t *self);

//  Local identity: raw keys and registration id. Return 0, or -1 if unset.
int wa_sigstore_identity(wa_sigstore_t *self, uint8_t priv[32], uint8_t pub[32],
                         uint32_t *registration_id);

//  Generate and store the signed pre-key `id`, signed by the identity key.
//  Fills the raw public key and the 64-byte signature when not NULL.
int wa_sigstore_generate_signed_prekey(wa_sigstore_t *self, uint32_t id,
                                       uint8_t pub[32], uint8_t sig[64]);

//  The signed pre-key `id`: raw public key and signature. 0 or -1.
int wa_sigstore_signed_prekey(wa_sigstore_t *self, uint32_t id, uint8_t pub[32],
                              uint8_t sig[64]);

//  Generate `count` one-time pre-keys with ids start..start+count-1
//  (wrapping within 1..0xFFFFFF as WhatsApp's 3-byte ids do).
int wa_sigstore_generate_prekeys(wa_sigstore_t *self, uint32_t start,
                                 unsigned count);

//  Raw public key of one-time pre-key `id`. 0, or -1 if absent.
int wa_sigstore_prekey(wa_sigstore_t *self, uint32_t id, uint8_t pub[32]);

//  Number of records of `kind` currently held.
size_t wa_sigstore_count(wa_sigstore_t *self, const char *kind);

//  Put a stored row back (no change callback). Returns -1 on an unknown
//  kind or an oversized record.
int wa_sigstore_load(wa_sigstore_t *self, const char *kind, const char *key,
                     const uint8_t *data, size_t len);

//  The record for (kind, key), borrowed, or NULL. *len_p gets its size.
const uint8_t *wa_sigstore_get(wa_sigstore_t *self, const char *kind,
                               const char *key, size_t *len_p);

//  Store a record of one of the app-state kinds (or any known kind),
//  reporting the change. Returns -1 on an unknown kind or an oversized
//  record or key.
int wa_sigstore_put(wa_sigstore_t *self, const char *kind, const char *key,
                    const uint8_t *data, size_t len);

//  Delete the record for (kind, key), reporting the deletion to the
//  change callback. Returns 0, or -1 when there was none.
int wa_sigstore_remove(wa_sigstore_t *self, const char *kind, const char *key);

//  The wa_signal context the store was made with (borrowed).
wa_signal_t *wa_sigstore_signal(wa_sigstore_t *self);

//  The libsignal store context over this store (borrowed).
signal_protocol_store_context *wa_sigstore_context(wa_sigstore_t *self);

//  Approximate heap bytes held by the records (for memory accounting).
size_t wa_sigstore_bytes(wa_sigstore_t *self);

void wa_sigstore_test(bool verbose);

#endif
