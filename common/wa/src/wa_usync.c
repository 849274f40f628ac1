/*  wa_usync - device discovery (usync) and a per-user device list cache

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_jid.h"
#include "wa/wa_usync.h"

#define S_DEFAULT_MAX_USERS 4096

typedef struct {
    char **devices;     //  device JIDs, wire text
    size_t count;       //  number of devices
    int64_t *key_index; //  each device's key-index, -1 none (or NULL)
    uint8_t *kil;       //  the signed key-index list, or NULL
    size_t kil_len;     //  its length
    int verdict;        //  WA_USYNC_* (wa_usync_verdict)
    uint32_t *valid;    //  key indexes the account signed
    size_t nvalid;      //  their number
} s_entry_t;

struct _wa_usync_t {
    zhashx_t *users;  //  user JID text -> s_entry_t
    size_t max_users; //  limit before the cache is emptied
};

static void
s_entry_destroy(void **item_p)
{
    s_entry_t *e = (s_entry_t *)*item_p;
    if (!e) {
        return;
    }
    for (size_t i = 0; i < e->count; i++) {
        free(e->devices[i]);
    }
    free(e->devices);
    free(e->key_index);
    free(e->kil);
    free(e->valid);
    free(e);
    *item_p = NULL;
}

wa_usync_t *
wa_usync_new(size_t max_users)
{
    wa_usync_t *self = cm_alloc(sizeof *self);
    self->users = zhashx_new();
    assert(self->users);
    zhashx_set_destructor(self->users, s_entry_destroy);
    self->max_users = max_users ? max_users : S_DEFAULT_MAX_USERS;
    return self;
}

void
wa_usync_destroy(wa_usync_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wa_usync_t *self = *self_p;
    zhashx_destroy(&self->users);
    free(self);
    *self_p = NULL;
}

//  The user JID (no device, no agent) of any JID text, as a new string,
//  or NULL when the text is not a JID with a user part.
static char *
s_user_of(const char *text)
{
    wa_jid_t *jid = text ? wa_jid_new_from(text) : NULL;
    if (!jid || wa_jid_is_server(jid)) {
        wa_jid_destroy(&jid);
        return NULL;
    }
    wa_jid_t *user = wa_jid_new_parts(wa_jid_user(jid), wa_jid_server(jid), 0);
    char *out = user ? cm_strdup(wa_jid_str(user)) : NULL;
    wa_jid_destroy(&user);
    wa_jid_destroy(&jid);
    return out;
}

wa_node_t *
wa_usync_query(const char *const *users, size_t count, const char *sid)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "usync");
    wa_node_set_attr(iq, "type", "get");
    wa_node_set_attr(iq, "to", "@s.whatsapp.net");
    wa_node_t *usync = wa_node_add(iq, "usync");
    wa_node_set_attr(usync, "sid", sid ? sid : "0");
    wa_node_set_attr(usync, "mode", "query");
    wa_node_set_attr(usync, "context", "message");
    wa_node_set_attr(usync, "last", "true");
    wa_node_set_attr(usync, "index", "0");
    wa_node_t *query = wa_node_add(usync, "query");
    wa_node_set_attr(wa_node_add(query, "devices"), "version", "2");
    //  Each user's LID too (Baileys 7 asks the same): wa_lidmap learns
    //  the pairs from the reply
    wa_node_add(query, "lid");
    wa_node_t *list = wa_node_add(usync, "list");
    size_t added = 0;
    for (size_t i = 0; i < count; i++) {
        char *user = s_user_of(users[i]);
        if (!user) {
            continue;
        }
        //  Skip duplicates: the server would answer them twice
        bool dup = false;
        for (size_t j = 0; j < wa_node_child_count(list) && !dup; j++) {
            dup = wa_node_attr_eq(wa_node_child_at(list, j), "jid", user);
        }
        if (!dup) {
            wa_node_set_attr(wa_node_add(list, "user"), "jid", user);
            added++;
        }
        free(user);
    }
    if (added == 0) {
        wa_node_destroy(&iq);
    }
    return iq;
}

//  Store devices for a user key, replacing any entry; trims the cache.
//  Returns the new entry.
static s_entry_t *
s_store(wa_usync_t *self, const char *user, char ***devices_p, size_t count)
{
    if (zhashx_size(self->users) >= self->max_users &&
        !zhashx_lookup(self->users, user)) {
        //  Simple bound: device lists are cheap to fetch again
        zhashx_purge(self->users);
    }
    s_entry_t *e = cm_alloc(sizeof *e);
    e->devices = *devices_p;
    e->count = count;
    *devices_p = NULL;
    zhashx_update(self->users, user, e);
    return e;
}

//  Device JID for user JID `user` (parsed) and a <device> node, or NULL.
static char *
s_device_jid(const wa_jid_t *user, const wa_node_t *device)
{
    int64_t id = -1;
    if (wa_node_attr_int(device, "id", &id) != 0 || id < 0 || id > 255) {
        return NULL;
    }
    const char *server = wa_jid_server(user);
    if (wa_node_attr_eq(device, "is_hosted", "true")) {
        server = wa_jid_is_lid(user) ? WA_JID_SERVER_HOSTED_LID
                                     : WA_JID_SERVER_HOSTED;
    }
    wa_jid_t *jid = wa_jid_new_parts(wa_jid_user(user), server, (uint16_t)id);
    char *out = jid ? cm_strdup(wa_jid_str(jid)) : NULL;
    wa_jid_destroy(&jid);
    return out;
}

int
wa_usync_parse(wa_usync_t *self, const wa_node_t *reply)
{
    if (!reply || !wa_node_is(reply, "iq") ||
        !wa_node_attr_eq(reply, "type", "result")) {
        return -1;
    }
    const wa_node_t *list = wa_node_find(reply, "usync/list");
    if (!list) {
        return -1;
    }
    int cached = 0;
    const wa_node_t *u = NULL;
    while ((u = wa_node_child_next(list, "user", u))) {
        const wa_node_t *dl = wa_node_find(u, "devices/device-list");
        char *key = s_user_of(wa_node_attr(u, "jid"));
        wa_jid_t *user = key ? wa_jid_new_from(key) : NULL;
        if (!dl || !user) {
            wa_jid_destroy(&user);
            free(key);
            continue;
        }
        char **devices = cm_alloc(WA_USYNC_MAX_DEVICES * sizeof(char *));
        int64_t *kidx = cm_alloc(WA_USYNC_MAX_DEVICES * sizeof(int64_t));
        size_t n = 0;
        const wa_node_t *d = NULL;
        while ((d = wa_node_child_next(dl, "device", d)) &&
               n < WA_USYNC_MAX_DEVICES) {
            char *jid = s_device_jid(user, d);
            bool dup = false;
            for (size_t i = 0; jid && i < n && !dup; i++) {
                dup = strcmp(devices[i], jid) == 0;
            }
            if (jid && !dup) {
                kidx[n] = wa_node_attr_int_or(d, "key-index", -1);
                devices[n++] = jid;
            } else {
                free(jid);
            }
        }
        s_entry_t *e = s_store(self, key, &devices, n);
        e->key_index = kidx;
        const wa_node_t *kil = wa_node_find(u, "devices/key-index-list");
        size_t kil_len = 0;
        const uint8_t *bytes = kil ? wa_node_bytes(kil, &kil_len) : NULL;
        if (bytes && kil_len > 0 && kil_len <= WA_USYNC_MAX_KIL) {
            e->kil = cm_alloc(kil_len);
            memcpy(e->kil, bytes, kil_len);
            e->kil_len = kil_len;
        }
        cached++;
        wa_jid_destroy(&user);
        free(key);
    }
    return cached;
}

const char *const *
wa_usync_devices(wa_usync_t *self, const char *user, size_t *count)
{
    char *key = s_user_of(user);
    s_entry_t *e = key ? (s_entry_t *)zhashx_lookup(self->users, key) : NULL;
    free(key);
    if (!e) {
        if (count) {
            *count = 0;
        }
        return NULL;
    }
    if (count) {
        *count = e->count;
    }
    //  A cached empty list is still "known": return a valid pointer
    static const char *const s_none[1] = {NULL};
    return e->count ? (const char *const *)e->devices : s_none;
}

int
wa_usync_put(wa_usync_t *self, const char *user, const char *const *devices,
             size_t count)
{
    char *key = s_user_of(user);
    if (!key || count > WA_USYNC_MAX_DEVICES) {
        free(key);
        return -1;
    }
    char **copy = cm_alloc((count ? count : 1) * sizeof(char *));
    for (size_t i = 0; i < count; i++) {
        wa_jid_t *jid = devices[i] ? wa_jid_new_from(devices[i]) : NULL;
        if (!jid) {
            for (size_t j = 0; j < i; j++) {
                free(copy[j]);
            }
            free(copy);
            free(key);
            return -1;
        }
        copy[i] = cm_strdup(wa_jid_str(jid));
        wa_jid_destroy(&jid);
    }
    s_store(self, key, &copy, count);
    free(key);
    return 0;
}

//  The entry of the user of any JID text, or NULL.
static s_entry_t *
s_entry(wa_usync_t *self, const char *jid)
{
    char *key = s_user_of(jid);
    s_entry_t *e = key ? (s_entry_t *)zhashx_lookup(self->users, key) : NULL;
    free(key);
    return e;
}

const uint8_t *
wa_usync_key_index_list(wa_usync_t *self, const char *user, size_t *len)
{
    s_entry_t *e = s_entry(self, user);
    *len = e ? e->kil_len : 0;
    return e ? e->kil : NULL;
}

int64_t
wa_usync_key_index(wa_usync_t *self, const char *device)
{
    s_entry_t *e = s_entry(self, device);
    wa_jid_t *jid = device ? wa_jid_new_from(device) : NULL;
    int64_t out = -1;
    for (size_t i = 0; e && jid && e->key_index && i < e->count; i++) {
        wa_jid_t *d = wa_jid_new_from(e->devices[i]);
        if (d && wa_jid_device(d) == wa_jid_device(jid)) {
            out = e->key_index[i];
        }
        wa_jid_destroy(&d);
    }
    wa_jid_destroy(&jid);
    return out;
}

int
wa_usync_verdict(wa_usync_t *self, const char *user, const uint32_t **valid,
                 size_t *nvalid)
{
    s_entry_t *e = s_entry(self, user);
    if (valid) {
        *valid = e ? e->valid : NULL;
        *nvalid = e ? e->nvalid : 0;
    }
    return e ? e->verdict : WA_USYNC_UNCHECKED;
}

void
wa_usync_set_verdict(wa_usync_t *self, const char *user, int verdict,
                     const uint32_t *valid, size_t nvalid)
{
    s_entry_t *e = s_entry(self, user);
    if (!e) {
        return;
    }
    e->verdict = verdict;
    free(e->valid);
    e->valid = nvalid ? cm_alloc(nvalid * sizeof(uint32_t)) : NULL;
    if (nvalid) {
        memcpy(e->valid, valid, nvalid * sizeof(uint32_t));
    }
    e->nvalid = nvalid;
}

void
wa_usync_invalidate(wa_usync_t *self, const char *user)
{
    char *key = s_user_of(user);
    if (key) {
        zhashx_delete(self->users, key);
    }
    free(key);
}

void
wa_usync_clear(wa_usync_t *self)
{
    zhashx_purge(self->users);
}

size_t
wa_usync_size(wa_usync_t *self)
{
    return zhashx_size(self->users);
}

//  --------------------------------------------------------------------
//  Self test

void
wa_usync_test(bool verbose)
{
    printf(" * wa_usync: ");
    (void)verbose;

    //  Query: devices dropped, duplicates and garbage skipped
    const char *users[] = {"15551234567:3@s.whatsapp.net",
                           "15551234567@s.whatsapp.net", "not a jid",
                           "123456789012345@lid"};
    wa_node_t *iq = wa_usync_query(users, 4, "sid-1");
    assert(iq);
    assert(wa_node_attr_eq(iq, "xmlns", "usync"));
    assert(wa_node_attr_eq(iq, "type", "get"));
    assert(!wa_node_attr(iq, "id"));
    const wa_node_t *list = wa_node_find(iq, "usync/list");
    assert(list && wa_node_child_count(list) == 2);
    assert(wa_node_attr_eq(wa_node_child_at(list, 0), "jid",
                           "15551234567@s.whatsapp.net"));
    assert(wa_node_attr_eq(wa_node_child_at(list, 1), "jid",
                           "123456789012345@lid"));
    assert(wa_node_find(iq, "usync/query/devices"));
    assert(wa_node_attr_eq(wa_node_find(iq, "usync"), "sid", "sid-1"));
    wa_node_destroy(&iq);
    const char *junk[] = {"x", "@s.whatsapp.net"};
    assert(wa_usync_query(junk, 2, "s") == NULL);

    //  Parse a result
    const char *text =
        "<iq type=\"result\" from=\"@s.whatsapp.net\" id=\"1\">"
        "<usync><list>"
        "<user jid=\"15551234567@s.whatsapp.net\"><devices><device-list>"
        "<device id=\"0\"/><device id=\"12\" key-index=\"3\"/>"
        "<device id=\"99\" is_hosted=\"true\"/><device id=\"12\"/>"
        "<device id=\"x\"/><device id=\"300\"/>"
        "</device-list></devices></user>"
        "<user jid=\"123456789012345@lid\"><devices><device-list>"
        "<device id=\"0\"/></device-list></devices></user>"
        "<user jid=\"15550000000@s.whatsapp.net\"><devices><device-list>"
        "</device-list></devices></user>"
        "<user jid=\"15559999999@s.whatsapp.net\"><devices>"
        "<error code=\"500\"/></devices></user>"
        "<user/>"
        "</list></usync></iq>";
    wa_node_t *reply = wa_node_new_from_text(text, NULL);
    assert(reply);
    wa_usync_t *cache = wa_usync_new(0);
    assert(wa_usync_parse(cache, reply) == 3);
    assert(wa_usync_size(cache) == 3);
    size_t n = 0;
    const char *const *d =
        wa_usync_devices(cache, "15551234567:7@s.whatsapp.net", &n);
    assert(d && n == 3);
    assert(strcmp(d[0], "15551234567@s.whatsapp.net") == 0);
    assert(strcmp(d[1], "15551234567:12@s.whatsapp.net") == 0);
    assert(strcmp(d[2], "15551234567:99@hosted") == 0);
    d = wa_usync_devices(cache, "123456789012345@lid", &n);
    assert(d && n == 1 && strcmp(d[0], "123456789012345@lid") == 0);
    d = wa_usync_devices(cache, "15550000000@s.whatsapp.net", &n);
    assert(d && n == 0);
    assert(!wa_usync_devices(cache, "15559999999@s.whatsapp.net", &n));
    assert(n == 0);
    assert(!wa_usync_devices(cache, "garbage", NULL));
    wa_node_destroy(&reply);

    //  Not a usync result
    reply = wa_node_new_from_text("<iq type=\"error\" id=\"1\"/>", NULL);
    assert(wa_usync_parse(cache, reply) == -1);
    wa_node_destroy(&reply);
    reply = wa_node_new_from_text("<iq type=\"result\" id=\"1\"/>", NULL);
    assert(wa_usync_parse(cache, reply) == -1);
    wa_node_destroy(&reply);
    assert(wa_usync_parse(cache, NULL) == -1);

    //  Invalidate, put, clear
    wa_usync_invalidate(cache, "15551234567:12@s.whatsapp.net");
    assert(!wa_usync_devices(cache, "15551234567@s.whatsapp.net", NULL));
    wa_usync_invalidate(cache, "nobody");
    const char *mine[] = {"15551112222@s.whatsapp.net",
                          "15551112222:4@s.whatsapp.net"};
    assert(wa_usync_put(cache, "15551112222@s.whatsapp.net", mine, 2) == 0);
    d = wa_usync_devices(cache, "15551112222@s.whatsapp.net", &n);
    assert(d && n == 2 && strcmp(d[1], "15551112222:4@s.whatsapp.net") == 0);
    const char *bad[] = {"nope"};
    assert(wa_usync_put(cache, "15551112222@s.whatsapp.net", bad, 1) == -1);
    assert(wa_usync_put(cache, "bad", mine, 2) == -1);
    wa_usync_clear(cache);
    assert(wa_usync_size(cache) == 0);

    //  The size bound empties the cache instead of growing
    wa_usync_t *small = wa_usync_new(2);
    assert(wa_usync_put(small, "15550000001@s.whatsapp.net", mine, 1) == 0);
    assert(wa_usync_put(small, "15550000002@s.whatsapp.net", mine, 1) == 0);
    assert(wa_usync_put(small, "15550000002@s.whatsapp.net", mine, 2) == 0);
    assert(wa_usync_size(small) == 2);
    assert(wa_usync_put(small, "15550000003@s.whatsapp.net", mine, 1) == 0);
    assert(wa_usync_size(small) == 1);
    wa_usync_destroy(&small);
    wa_usync_destroy(&cache);
    assert(cache == NULL);
    wa_usync_destroy(&cache);
    printf("OK\n");
}
