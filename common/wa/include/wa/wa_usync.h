/*  wa_usync - device discovery (usync) and a per-user device list cache

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Before a message is encrypted the sender needs every device of every
    recipient and of itself (wa-protocol.md §7.2). The query is

        <iq xmlns="usync" type="get" to="@s.whatsapp.net">
          <usync sid mode="query" context="message" last="true" index="0">
            <query><devices version="2"/><lid/></query>
            <list><user jid="U1"/>...</list>
          </usync>
        </iq>

    and the result lists, per <user jid>, a <devices><device-list> of
    <device id [key-index] [is_hosted]/>. The cache keeps one device list
    per user (keyed by the user JID without device); entries are dropped
    on <notification type="devices"> and when the cache outgrows its
    limit. Device lists hold device JIDs in wire text
    ("15551234567:12@s.whatsapp.net", device 0 without ":0"; hosted
    devices on the hosted / hosted.lid servers).
*/
#ifndef WA_USYNC_H_INCLUDED
#define WA_USYNC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_node.h"

//  Most devices kept per user (more are ignored).
#define WA_USYNC_MAX_DEVICES 64
//  Longest signed key-index list kept.
#define WA_USYNC_MAX_KIL 4096

typedef struct _wa_usync_t wa_usync_t;

//  New cache holding at most max_users users (0 = 4096). Caller owns
//  return value.
wa_usync_t *wa_usync_new(size_t max_users);

//  Destroy. NULL-safe; sets *self_p to NULL.
void wa_usync_destroy(wa_usync_t **self_p);

//  The devices query <iq> for `count` user JIDs (devices in them are
//  dropped; invalid JIDs are skipped), without an id attribute. `sid` is
//  the usync session id (any unique string). Returns NULL when no valid
//  user is left. Caller owns return value.
wa_node_t *wa_usync_query(const char *const *users, size_t count,
                          const char *sid);

//  Cache the device lists found in a usync result. Users without a
//  <device-list> (errors) are not cached. Returns the number of users
//  cached, or -1 when the stanza is not a usync result.
int wa_usync_parse(wa_usync_t *self, const wa_node_t *reply);

//  Device JIDs of `user` (any JID of the user; borrowed, valid until the
//  cache changes) and their count, or NULL when the user is not cached.
//  A cached user may have zero devices (not on WhatsApp).
const char *const *wa_usync_devices(wa_usync_t *self, const char *user,
                                    size_t *count);

//  Store a device list for `user` directly (tests, preloading). Returns
//  0, or -1 when user or a device JID is invalid.
int wa_usync_put(wa_usync_t *self, const char *user, const char *const *devices,
                 size_t count);

//  Forget `user`'s devices (no-op when not cached).
//  The signed key-index list (ADVSignedKeyIndexList bytes) of a user's
//  last device list, borrowed, or NULL (*len 0).
const uint8_t *wa_usync_key_index_list(wa_usync_t *self, const char *user,
                                       size_t *len);

//  The key-index a device was listed with, or -1.
int64_t wa_usync_key_index(wa_usync_t *self, const char *device);

//  What wa_devident found of a user's list: WA_USYNC_UNCHECKED (also for
//  an unknown user), WA_USYNC_SIGNED (*valid gets the signed key indexes,
//  borrowed), WA_USYNC_FORGED (the signature does not hold), or
//  WA_USYNC_UNSIGNED (no list came). Reset when the list is fetched again.
#define WA_USYNC_UNCHECKED 0
#define WA_USYNC_SIGNED 1
#define WA_USYNC_FORGED 2
#define WA_USYNC_UNSIGNED 3
int wa_usync_verdict(wa_usync_t *self, const char *user, const uint32_t **valid,
                     size_t *nvalid);
void wa_usync_set_verdict(wa_usync_t *self, const char *user, int verdict,
                          const uint32_t *valid, size_t nvalid);

void wa_usync_invalidate(wa_usync_t *self, const char *user);

//  Forget everything.
void wa_usync_clear(wa_usync_t *self);

//  Number of users cached.
size_t wa_usync_size(wa_usync_t *self);

//  Self test
void wa_usync_test(bool verbose);

#endif
