/*  wa_keys - prekey stanzas: upload, count, bundle fetch, retry key bundles

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    wa-protocol.md §6.2 and §7.3. All stanzas live in xmlns "encrypt":

      upload  <iq type="set"><registration>4</registration><type>05</type>
              <identity>32</identity><list><key><id>3</id><value>32</value>
              </key>...</list><skey><id/><value/><signature>64</signature>
              </skey></iq>
      count   <iq type="get"><count/></iq> -> <count value="N"/>
      fetch   <iq type="get"><key><user jid="DEVICE" reason="identity"/>
              ...</key></iq> -> <list><user jid>bundle</user>...</list>

    A bundle is <registration>, <type>, <identity>, optional <key> and
    <skey>, directly under <user> or wrapped in <keys>. Retry receipts
    carry the same children in <keys> (§7.8). Prekey ids are 3 bytes big
    endian, registration ids 4. Keys on the wire are the 32-byte raw
    form; a 33-byte 0x05-prefixed key is accepted too.

    Builders return <iq> nodes without an id (the caller assigns one).
*/
#ifndef WA_KEYS_H_INCLUDED
#define WA_KEYS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_e2e.h"
#include "wa_node.h"
#include "wa_sigstore.h"

//  Most prekeys one upload may carry.
#define WA_KEYS_MAX_UPLOAD 812

//  The upload <iq> for one-time prekeys first..first+count-1 (already in
//  the store, ids wrapping like wa_sigstore_generate_prekeys) and signed
//  prekey skey_id. NULL when the identity or a key is missing or count is
//  0 or over WA_KEYS_MAX_UPLOAD. Caller owns return value.
wa_node_t *wa_keys_upload(wa_sigstore_t *store, uint32_t skey_id,
                          uint32_t first, unsigned count);

//  The prekey count query <iq>. Caller owns return value.
wa_node_t *wa_keys_count_query(void);

//  Count from a count result (<count value="N"/>), or -1.
int wa_keys_count(const wa_node_t *reply);

//  The bundle fetch <iq> for `count` device JIDs. NULL when count is 0.
//  Caller owns return value.
wa_node_t *wa_keys_fetch(const char *const *devices, size_t count);

//  Called for each <user> of a fetch result: the device JID (borrowed)
//  and its bundle, or NULL when the entry holds an error or is malformed.
typedef void(wa_keys_bundle_fn)(void *arg, const char *jid,
                                const wa_bundle_t *bundle);

//  Walk a fetch result. Returns the number of <user> entries seen, or -1
//  when the stanza is not a result with a <list>.
int wa_keys_bundles(const wa_node_t *reply, wa_keys_bundle_fn *fn, void *arg);

//  Parse the bundle children of `node` (a <user> or <keys> node; a
//  <keys> child is looked into). The registration id is taken from
//  `node` or, if absent there, from `registration` (may be NULL; a
//  <registration> node). Returns 0, or -1 when a required part is
//  missing or has the wrong size.
int wa_keys_parse_bundle(const wa_node_t *node, const wa_node_t *registration,
                         wa_bundle_t *bundle);

//  A <key> (prekey; sig NULL) or <skey> (signed prekey; sig 64 bytes)
//  node: <id>3 bytes</id><value>32</value>[<signature>64</signature>].
//  Caller owns return value.
wa_node_t *wa_keys_key_node(const char *tag, uint32_t id, const uint8_t pub[32],
                            const uint8_t *sig);

//  The <keys> node of a retry receipt: <type>, <identity>, <key> for
//  one-time prekey prekey_id, <skey> and, when identity is not NULL,
//  <device-identity> (our ADV signed identity). NULL when a key is
//  missing from the store. Caller owns return value.
wa_node_t *wa_keys_retry_keys(wa_sigstore_t *store, uint32_t prekey_id,
                              uint32_t skey_id, const uint8_t *identity,
                              size_t identity_len);

//  4-byte big-endian encoding of a registration id into out.
void wa_keys_put_u32(uint32_t value, uint8_t out[4]);

//  Self test
void wa_keys_test(bool verbose);

#endif
