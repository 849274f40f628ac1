/*  wa_lidmap - one account's LID <-> phone number map

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    WhatsApp addresses users by phone number (PN, "<digits>@s.whatsapp
    .net") and by LID ("<digits>@lid"), a hidden identity that stays
    with the account (wa-protocol.md §7.3, §11). The server tells which
    LID belongs to which PN in many places: usync `<lid val>`, the
    `sender_lid`/`sender_pn`/`participant_lid`/`participant_pn`/
    `peer_recipient_pn` attributes of messages and receipts, group
    participants (`lid` / `phone_number`), history sync and the LID
    migration mapping sync message.

    A map holds pairs of user JIDs (no device, no agent): at most one
    LID per PN and one PN per LID; a new pair replaces the old pairs of
    both of its sides. Lookups take any JID text of the user (device
    JIDs, "@c.us") and answer the user JID of the other side.

    The map is a plain object; the client's capability module of the
    same name (src/wa_lidmap.c, wa_client_int.h) keeps one per session,
    feeds it from stanzas and reports new pairs to the owner, which
    stores them (store family `lid`, proto/PROTOCOL.md).
*/
#ifndef WA_LIDMAP_H_INCLUDED
#define WA_LIDMAP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _wa_lidmap_t wa_lidmap_t;

//  Pairs kept at most by default (more are refused, logged once).
#define WA_LIDMAP_MAX 200000

//  New empty map holding at most max pairs (0: WA_LIDMAP_MAX). Caller
//  owns return value.
wa_lidmap_t *wa_lidmap_new(size_t max);

//  Destroy. NULL-safe; sets *self_p to NULL.
void wa_lidmap_destroy(wa_lidmap_t **self_p);

//  Record that LID `lid` and phone number `pn` (any JID text of each:
//  "123@lid", "123:4@lid"; "1555@s.whatsapp.net", "1555:2@s.whatsapp
//  .net", "1555@c.us") are one account. Returns 1 when the pair is new
//  (replacing older pairs of either side), 0 when already known, -1
//  when an argument is no LID / PN user or the map is full.
int wa_lidmap_put(wa_lidmap_t *self, const char *lid, const char *pn);

//  The LID user JID ("123@lid") of phone number pn (any JID text), or
//  NULL when unknown or pn is no PN. Borrowed, valid until the map
//  changes.
const char *wa_lidmap_lid(wa_lidmap_t *self, const char *pn);

//  The PN user JID ("1555@s.whatsapp.net") of LID lid (any JID text),
//  or NULL. Borrowed, valid until the map changes.
const char *wa_lidmap_pn(wa_lidmap_t *self, const char *lid);

//  The other side of jid: the LID of a PN, the PN of a LID (user JIDs),
//  or NULL. Borrowed, valid until the map changes.
const char *wa_lidmap_alt(wa_lidmap_t *self, const char *jid);

//  The user JID of jid on its own server when jid is a PN or LID user or
//  device ("1555:2@c.us" -> "1555@s.whatsapp.net"), written into out
//  (size bytes); false when jid is neither.
bool wa_lidmap_user(const char *jid, char *out, size_t size, bool *is_lid);

//  Pairs held.
size_t wa_lidmap_size(wa_lidmap_t *self);

//  Forget every pair.
void wa_lidmap_clear(wa_lidmap_t *self);

//  Self test
void wa_lidmap_test(bool verbose);

#endif
