/*  wa_lidmap - one account's LID <-> phone number map, and the client's
    capability module that keeps it

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The map (include/wa/wa_lidmap.h) is two hash tables of user JIDs,
    LID -> PN and PN -> LID, kept in step.

    The capability module (see wa_client_int.h) holds one map per
    client and learns from (wa-protocol.md §7.2, §7.3, §7.6, §10.5,
    §11):
      - every incoming stanza's attribute pairs (its `see` hook, before
        routing): from + sender_lid / sender_pn, participant +
        participant_lid / participant_pn, recipient + peer_recipient_pn /
        peer_recipient_lid;
      - elements inside notifications and IQ replies (usync results,
        group metadata, whoever asked):
        <user jid><lid val/></user>, <participant jid lid|phone_number>,
        <user jid pn_jid|lid_jid>;
      - wa_client_learn_lid (history sync, the LID migration mapping
        sync message, the owner).
    Each new pair goes to the owner (ops.lid) to be stored; the owner
    puts stored pairs back with wa_client_load_lid before connecting.
    Our own pair is answered from the credentials (me_jid / me_lid).
*/
#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_jid.h"
#include "wa/wa_lidmap.h"
#include "wa/wa_recv.h"
#include "wa/wa_send.h"
#include "wa/wa_sigstore.h"

#include <protocol.h>
#include "wa_client_int.h"

//  Longest user JID text kept ("<20 digits>@s.whatsapp.net").
#define S_USER_MAX 48
//  Elements looked at in one stanza at most (hostile input).
#define S_WALK_MAX 2048
//  Depth walked into a stanza.
#define S_WALK_DEPTH 4
//  Pairs read from one LID migration mapping sync message at most.
#define S_SYNC_MAX 20000

struct _wa_lidmap_t {
    zhashx_t *by_lid; //  "123@lid" -> "1555@s.whatsapp.net"
    zhashx_t *by_pn;  //  "1555@s.whatsapp.net" -> "123@lid"
    size_t max;       //  pairs at most
    bool full_logged; //  "map full" was logged
};

wa_lidmap_t *
wa_lidmap_new(size_t max)
{
    wa_lidmap_t *self = cm_alloc(sizeof *self);
    self->by_lid = zhashx_new();
    self->by_pn = zhashx_new();
    zhashx_set_destructor(self->by_lid, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_destructor(self->by_pn, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_duplicator(self->by_lid, (zhashx_duplicator_fn *)strdup);
    zhashx_set_duplicator(self->by_pn, (zhashx_duplicator_fn *)strdup);
    self->max = max ? max : WA_LIDMAP_MAX;
    return self;
}

void
wa_lidmap_destroy(wa_lidmap_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wa_lidmap_t *self = *self_p;
    zhashx_destroy(&self->by_lid);
    zhashx_destroy(&self->by_pn);
    free(self);
    *self_p = NULL;
}

bool
wa_lidmap_user(const char *jid, char *out, size_t size, bool *is_lid)
{
    if (!jid) {
        return false;
    }
    const char *at = strchr(jid, '@');
    if (!at || at == jid) {
        return false;
    }
    //  user part: digits up to the agent ('.', '_') or device (':')
    size_t n = 0;
    while (jid + n < at && jid[n] >= '0' && jid[n] <= '9') {
        n++;
    }
    if (n == 0 || n > 20) {
        return false;
    }
    const char *rest = jid + n;
    if (rest < at && *rest != ':' && *rest != '.' && *rest != '_') {
        return false;
    }
    const char *server = at + 1;
    bool lid;
    if (cm_streq(server, WA_JID_SERVER_LID)) {
        lid = true;
    } else if (cm_streq(server, WA_JID_SERVER_PN) ||
               cm_streq(server, WA_JID_SERVER_LEGACY)) {
        lid = false;
    } else {
        return false;
    }
    int w = snprintf(out, size, "%.*s@%s", (int)n, jid,
                     lid ? WA_JID_SERVER_LID : WA_JID_SERVER_PN);
    if (w < 0 || (size_t)w >= size) {
        return false;
    }
    if (is_lid) {
        *is_lid = lid;
    }
    return true;
}

int
wa_lidmap_put(wa_lidmap_t *self, const char *lid, const char *pn)
{
    assert(self);
    char l[S_USER_MAX], p[S_USER_MAX];
    bool l_is_lid = false, p_is_lid = true;
    if (!wa_lidmap_user(lid, l, sizeof l, &l_is_lid) || !l_is_lid ||
        !wa_lidmap_user(pn, p, sizeof p, &p_is_lid) || p_is_lid) {
        return -1;
    }
    const char *known = (const char *)zhashx_lookup(self->by_lid, l);
    if (known && cm_streq(known, p)) {
        return 0;
    }
    //  Drop the old pairs of both sides
    if (known) {
        zhashx_delete(self->by_pn, known);
        zhashx_delete(self->by_lid, l);
    }
    const char *old_lid = (const char *)zhashx_lookup(self->by_pn, p);
    if (old_lid) {
        zhashx_delete(self->by_lid, old_lid);
        zhashx_delete(self->by_pn, p);
    }
    if (zhashx_size(self->by_lid) >= self->max) {
        if (!self->full_logged) {
            cm_log_warn("LID map is full; new pairs are not kept", "max=%zu",
                        self->max);
            self->full_logged = true;
        }
        return -1;
    }
    zhashx_insert(self->by_lid, l, p);
    zhashx_insert(self->by_pn, p, l);
    return 1;
}

const char *
wa_lidmap_lid(wa_lidmap_t *self, const char *pn)
{
    char p[S_USER_MAX];
    bool is_lid = true;
    if (!self || !wa_lidmap_user(pn, p, sizeof p, &is_lid) || is_lid) {
        return NULL;
    }
    return (const char *)zhashx_lookup(self->by_pn, p);
}

const char *
wa_lidmap_pn(wa_lidmap_t *self, const char *lid)
{
    char l[S_USER_MAX];
    bool is_lid = false;
    if (!self || !wa_lidmap_user(lid, l, sizeof l, &is_lid) || !is_lid) {
        return NULL;
    }
    return (const char *)zhashx_lookup(self->by_lid, l);
}

const char *
wa_lidmap_alt(wa_lidmap_t *self, const char *jid)
{
    char u[S_USER_MAX];
    bool is_lid = false;
    if (!self || !wa_lidmap_user(jid, u, sizeof u, &is_lid)) {
        return NULL;
    }
    return (const char *)zhashx_lookup(is_lid ? self->by_lid : self->by_pn, u);
}

size_t
wa_lidmap_size(wa_lidmap_t *self)
{
    return self ? zhashx_size(self->by_lid) : 0;
}

void
wa_lidmap_clear(wa_lidmap_t *self)
{
    if (self) {
        zhashx_purge(self->by_lid);
        zhashx_purge(self->by_pn);
        self->full_logged = false;
    }
}

//  ---------------------------------------------------------------------
//  The client's map

//  Move the Signal sessions (and identities) of the devices of PN user
//  `pn` to the LID user `lid`'s addresses, so that what was said under
//  the phone number goes on under the LID (wa-protocol.md §7.3: both
//  libraries migrate; one ratchet per peer, never two). A device that
//  has a LID session already keeps it; its PN one goes.
static void
s_migrate(wa_client_t *self, const char *lid, const char *pn)
{
    char lid_name[WA_SEND_NAME_MAX], pn_name[WA_SEND_NAME_MAX];
    int dev = 0;
    if (wa_send_address(lid, lid_name, &dev) != 0 ||
        wa_send_address(pn, pn_name, &dev) != 0) {
        return;
    }
    signal_int_list *list = NULL;
    if (signal_protocol_session_get_sub_device_sessions(
            wa_sigstore_context(self->store), &list, pn_name, strlen(pn_name)) <
            0 ||
        !list) {
        return;
    }
    size_t moved = 0;
    for (unsigned i = 0; i < signal_int_list_size(list); i++) {
        int d = signal_int_list_at(list, i);
        char from[WA_SEND_NAME_MAX + 16], to[WA_SEND_NAME_MAX + 16];
        snprintf(from, sizeof from, "%s.%d", pn_name, d);
        snprintf(to, sizeof to, "%s.%d", lid_name, d);
        const char *kinds[] = {"session", "identity"};
        for (int k = 0; k < 2; k++) {
            size_t len = 0;
            const uint8_t *data =
                wa_sigstore_get(self->store, kinds[k], from, &len);
            if (!data) {
                continue;
            }
            if (!wa_sigstore_get(self->store, kinds[k], to, NULL)) {
                //  A copy first: put may reallocate nothing of `from`,
                //  but remove frees it
                uint8_t *copy = cm_alloc(len ? len : 1);
                memcpy(copy, data, len);
                wa_sigstore_put(self->store, kinds[k], to, copy, len);
                free(copy);
                moved += k == 0;
            }
            wa_sigstore_remove(self->store, kinds[k], from);
        }
    }
    signal_int_list_free(list);
    if (moved) {
        cm_log_info("moved Signal sessions to the LID",
                    "session=%s lid=%s "
                    "pn=%s devices=%zu",
                    wa_client_name(self), lid, pn, moved);
    }
}

int
wa_client_learn_lid(wa_client_t *self, const char *a, const char *b)
{
    if (!self || !self->lidmap || !a || !b) {
        return -1;
    }
    //  Either order: find which side is the LID
    char ua[S_USER_MAX], ub[S_USER_MAX];
    bool a_lid = false, b_lid = false;
    if (!wa_lidmap_user(a, ua, sizeof ua, &a_lid) ||
        !wa_lidmap_user(b, ub, sizeof ub, &b_lid) || a_lid == b_lid) {
        return -1;
    }
    const char *lid = a_lid ? ua : ub;
    const char *pn = a_lid ? ub : ua;
    //  Our own pair comes from the credentials
    if (cm_streq(pn, self->me_pn_user) || cm_streq(lid, self->me_lid_user)) {
        return 0;
    }
    int rc = wa_lidmap_put(self->lidmap, lid, pn);
    if (rc == 1) {
        cm_log_debug("learnt LID", "session=%s lid=%s pn=%s",
                     wa_client_name(self), lid, pn);
        s_migrate(self, lid, pn);
        if (self->ops.lid && !self->destroying) {
            self->ops.lid(self->arg, lid, pn);
        }
    }
    return rc;
}

int
wa_client_lid_sync(wa_client_t *self, const uint8_t *data, size_t len)
{
    if (!self || !data) {
        return -1;
    }
    Wa__E2e__LIDMigrationMappingSyncPayload *p =
        wa__e2e__lidmigration_mapping_sync_payload__unpack(NULL, len, data);
    if (!p) {
        cm_log_warn("bad LID migration mapping sync payload",
                    "session=%s len=%zu", wa_client_name(self), len);
        return -1;
    }
    size_t read = 0, learnt = 0;
    for (size_t i = 0; i < p->n_pn_to_lid_mappings && read < S_SYNC_MAX; i++) {
        const Wa__E2e__LIDMigrationMapping *m = p->pn_to_lid_mappings[i];
        if (!m->has_pn || !m->has_assigned_lid || !m->pn || !m->assigned_lid) {
            continue;
        }
        char lid[S_USER_MAX], pn[S_USER_MAX];
        snprintf(lid, sizeof lid, "%" PRIu64 "@lid", m->assigned_lid);
        snprintf(pn, sizeof pn, "%" PRIu64 "@s.whatsapp.net", m->pn);
        read++;
        learnt += wa_client_learn_lid(self, lid, pn) == 1;
    }
    cm_log_info("LID migration mapping sync",
                "session=%s pairs=%zu new=%zu "
                "migrated_at=%" PRIu64,
                wa_client_name(self), read, learnt,
                p->has_chat_db_migration_timestamp
                    ? p->chat_db_migration_timestamp
                    : 0);
    wa__e2e__lidmigration_mapping_sync_payload__free_unpacked(p, NULL);
    return (int)read;
}

int
wa_client_load_lid(wa_client_t *self, const char *lid, const char *pn)
{
    if (!self || !self->lidmap) {
        return -1;
    }
    return wa_lidmap_put(self->lidmap, lid, pn) < 0 ? -1 : 0;
}

const char *
wa_client_lid_for(wa_client_t *self, const char *jid)
{
    char u[S_USER_MAX];
    bool is_lid = true;
    if (!self || !wa_lidmap_user(jid, u, sizeof u, &is_lid)) {
        return NULL;
    }
    if (is_lid) {
        return NULL;
    }
    if (self->me_lid_user && cm_streq(u, self->me_pn_user)) {
        return self->me_lid_user;
    }
    return wa_lidmap_lid(self->lidmap, u);
}

const char *
wa_client_pn_for(wa_client_t *self, const char *jid)
{
    char u[S_USER_MAX];
    bool is_lid = false;
    if (!self || !wa_lidmap_user(jid, u, sizeof u, &is_lid) || !is_lid) {
        return NULL;
    }
    if (self->me_lid_user && cm_streq(u, self->me_lid_user)) {
        return self->me_pn_user;
    }
    return wa_lidmap_pn(self->lidmap, u);
}

char *
wa_client_lid_of(wa_client_t *self, const char *jid)
{
    const char *lid = wa_client_lid_for(self, jid);
    return lid ? cm_strdup(lid) : NULL;
}

char *
wa_client_pn_of(wa_client_t *self, const char *jid)
{
    const char *pn = wa_client_pn_for(self, jid);
    return pn ? cm_strdup(pn) : NULL;
}

//  True when jid (any JID text) is one of our own account's users.
static bool
s_is_own(wa_client_t *self, const char *jid)
{
    char u[S_USER_MAX];
    return wa_lidmap_user(jid, u, sizeof u, NULL) &&
           (cm_streq(u, self->me_pn_user) || cm_streq(u, self->me_lid_user));
}

char *
wa_client_lid_device(wa_client_t *self, const char *device)
{
    if (!self || !device || s_is_own(self, device)) {
        return NULL;
    }
    const char *lid = wa_client_lid_for(self, device);
    if (!lid) {
        return NULL;
    }
    wa_jid_t *d = wa_jid_new_from(device);
    wa_jid_t *l = wa_jid_new_from(lid);
    char *out = NULL;
    if (d && l && wa_jid_set_device(l, wa_jid_device(d)) == 0) {
        out = cm_strdup(wa_jid_str(l));
    }
    wa_jid_destroy(&d);
    wa_jid_destroy(&l);
    return out;
}

char *
wa_client_pn_device(wa_client_t *self, const char *device)
{
    if (!self || !device || s_is_own(self, device)) {
        return NULL;
    }
    const char *pn = wa_client_pn_for(self, device);
    if (!pn) {
        return NULL;
    }
    wa_jid_t *d = wa_jid_new_from(device);
    wa_jid_t *p = wa_jid_new_from(pn);
    char *out = NULL;
    if (d && p && wa_jid_set_device(p, wa_jid_device(d)) == 0) {
        out = cm_strdup(wa_jid_str(p));
    }
    wa_jid_destroy(&d);
    wa_jid_destroy(&p);
    return out;
}

char *
wa_client_lid_chat(wa_client_t *self, const char *chat)
{
    const char *pn = wa_client_pn_for(self, chat);
    char u[S_USER_MAX];
    //  Only a user JID (no device) is a chat
    if (!pn || !wa_lidmap_user(chat, u, sizeof u, NULL) || !cm_streq(u, chat)) {
        return NULL;
    }
    return cm_strdup(pn);
}

//  Replace *field (owned) with value (copied).
static void
s_set(char **field, const char *value)
{
    char *copy = cm_strdup(value);
    free(*field);
    *field = copy;
}

void
wa_client_lid_source(wa_client_t *self, wa_recv_source_t *src)
{
    if (!self || !src) {
        return;
    }
    //  The other identity, when the stanza did not say it
    if (!src->sender_alt && src->sender_user) {
        const char *alt = wa_lidmap_alt(self->lidmap, src->sender_user);
        if (alt) {
            src->sender_alt = cm_strdup(alt);
        }
    }
    //  The sending device as its number's device (decryption maps it
    //  back to the LID address: wa_client_lid_device)
    char *sender_pn = wa_client_pn_device(self, src->sender);
    if (sender_pn) {
        free(src->sender);
        src->sender = sender_pn;
    }
    //  One chat per person: the phone number when it is known
    if (!src->is_group && src->chat) {
        const char *pn = wa_client_pn_for(self, src->chat);
        if (pn) {
            s_set(&src->chat, pn);
        }
    }
    if (src->is_group && src->sender_user) {
        const char *pn = wa_client_pn_for(self, src->sender_user);
        if (pn && !s_is_own(self, src->sender_user)) {
            s_set(&src->sender_user, pn);
        }
    }
}

size_t
wa_client_lid_count(wa_client_t *self)
{
    return self ? wa_lidmap_size(self->lidmap) : 0;
}

//  Learn the pair (node[key], node[alt]) when both are there.
static void
s_learn_attrs(wa_client_t *self, const wa_node_t *node, const char *key,
              const char *alt_lid, const char *alt_pn)
{
    const char *jid = wa_node_attr(node, key);
    if (!jid) {
        return;
    }
    const char *alt = wa_node_attr(node, alt_lid);
    if (!alt) {
        alt = wa_node_attr(node, alt_pn);
    }
    if (alt) {
        wa_client_learn_lid(self, jid, alt);
    }
}

//  Learn from one element: its attribute pairs and a <lid val> child.
static void
s_learn_element(wa_client_t *self, const wa_node_t *node)
{
    s_learn_attrs(self, node, "from", "sender_lid", "sender_pn");
    s_learn_attrs(self, node, "participant", "participant_lid",
                  "participant_pn");
    s_learn_attrs(self, node, "recipient", "peer_recipient_lid",
                  "peer_recipient_pn");
    s_learn_attrs(self, node, "jid", "lid", "phone_number");
    s_learn_attrs(self, node, "jid", "lid_jid", "pn_jid");
    wa_node_t *lid = wa_node_child(node, "lid");
    const char *val = lid ? wa_node_attr(lid, "val") : NULL;
    const char *jid = wa_node_attr(node, "jid");
    if (val && jid) {
        wa_client_learn_lid(self, jid, val);
    }
}

static void
s_walk(wa_client_t *self, const wa_node_t *node, int depth, size_t *budget)
{
    if (*budget == 0) {
        return;
    }
    (*budget)--;
    s_learn_element(self, node);
    if (depth >= S_WALK_DEPTH) {
        return;
    }
    size_t n = wa_node_child_count(node);
    for (size_t i = 0; i < n && *budget; i++) {
        s_walk(self, wa_node_child_at(node, i), depth + 1, budget);
    }
}

void
wa_client_lid_learn_node(wa_client_t *self, const wa_node_t *node)
{
    if (!self || !node) {
        return;
    }
    size_t budget = S_WALK_MAX;
    s_walk(self, node, 0, &budget);
}

//  Every incoming stanza, before it is routed. Messages and receipts
//  carry their pairs as attributes (their children are ciphertexts);
//  notifications may hold participants and users.
static void
s_see(wa_client_t *self, const wa_node_t *node)
{
    if (wa_node_is(node, "message") || wa_node_is(node, "receipt") ||
        wa_node_is(node, "call") || wa_node_is(node, "presence")) {
        s_learn_element(self, node);
    } else if (wa_node_is(node, "notification") ||
               (wa_node_is(node, "iq") &&
                wa_node_attr_eq(node, "type", "result"))) {
        wa_client_lid_learn_node(self, node);
    }
}

static void
s_start(wa_client_t *self)
{
    self->lidmap = wa_lidmap_new(0);
}

static void
s_stop(wa_client_t *self)
{
    wa_lidmap_destroy(&self->lidmap);
}

static void
s_forget(wa_client_t *self)
{
    wa_lidmap_clear(self->lidmap);
}

const wa_client_cap_t wa_lidmap_cap = {.name = "lidmap",
                                       .start = s_start,
                                       .stop = s_stop,
                                       .forget = s_forget,
                                       .see = s_see};

//  ---------------------------------------------------------------------
//  Self test

void
wa_lidmap_test(bool verbose)
{
    printf(" * wa_lidmap: ");
    (void)verbose;
    cm_log_init(NULL, "error");
    char u[S_USER_MAX];
    bool is_lid = false;

    //  User JIDs of any form
    assert(wa_lidmap_user("1555:2@c.us", u, sizeof u, &is_lid) && !is_lid);
    assert(cm_streq(u, "1555@s.whatsapp.net"));
    assert(wa_lidmap_user("123.1:4@lid", u, sizeof u, &is_lid) && is_lid);
    assert(cm_streq(u, "123@lid"));
    assert(!wa_lidmap_user("x@g.us", u, sizeof u, NULL));
    assert(!wa_lidmap_user("120363@g.us", u, sizeof u, NULL));
    assert(!wa_lidmap_user("@s.whatsapp.net", u, sizeof u, NULL));
    assert(!wa_lidmap_user("12a@lid", u, sizeof u, NULL));
    assert(!wa_lidmap_user("123456789012345678901@lid", u, sizeof u, NULL));
    assert(!wa_lidmap_user(NULL, u, sizeof u, NULL));
    assert(!wa_lidmap_user("1@lid", u, 4, NULL)); //  no room

    //  Put, look up both ways, replace
    wa_lidmap_t *map = wa_lidmap_new(3);
    assert(wa_lidmap_put(map, "111:3@lid", "1555:2@s.whatsapp.net") == 1);
    assert(wa_lidmap_put(map, "111@lid", "1555@c.us") == 0);
    assert(cm_streq(wa_lidmap_lid(map, "1555@c.us"), "111@lid"));
    assert(cm_streq(wa_lidmap_pn(map, "111:9@lid"), "1555@s.whatsapp.net"));
    assert(cm_streq(wa_lidmap_alt(map, "111@lid"), "1555@s.whatsapp.net"));
    assert(cm_streq(wa_lidmap_alt(map, "1555@s.whatsapp.net"), "111@lid"));
    assert(!wa_lidmap_lid(map, "111@lid"));
    assert(!wa_lidmap_pn(map, "1555@s.whatsapp.net"));
    assert(!wa_lidmap_alt(map, "1666@s.whatsapp.net"));
    assert(wa_lidmap_put(map, "1555@c.us", "111@lid") == -1); //  swapped
    assert(wa_lidmap_put(map, "111@lid", "x@g.us") == -1);
    //  The number moved to another account: the old LID loses it
    assert(wa_lidmap_put(map, "222@lid", "1555@s.whatsapp.net") == 1);
    assert(!wa_lidmap_pn(map, "111@lid"));
    assert(cm_streq(wa_lidmap_lid(map, "1555@s.whatsapp.net"), "222@lid"));
    //  The LID got a new number: the old number is unmapped
    assert(wa_lidmap_put(map, "222@lid", "1777@s.whatsapp.net") == 1);
    assert(!wa_lidmap_lid(map, "1555@s.whatsapp.net"));
    assert(wa_lidmap_size(map) == 1);
    //  Full
    assert(wa_lidmap_put(map, "333@lid", "1888@s.whatsapp.net") == 1);
    assert(wa_lidmap_put(map, "444@lid", "1999@s.whatsapp.net") == 1);
    assert(wa_lidmap_put(map, "555@lid", "2000@s.whatsapp.net") == -1);
    assert(wa_lidmap_size(map) == 3);
    wa_lidmap_clear(map);
    assert(wa_lidmap_size(map) == 0 && !wa_lidmap_pn(map, "222@lid"));
    wa_lidmap_destroy(&map);
    wa_lidmap_destroy(&map);

    //  The client learns from stanzas and reports new pairs
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *c = kit->client;
    //  A 1:1 message from a LID with the phone number alongside
    assert(wa_client_kit_handle(kit, "<receipt id=\"r1\" "
                                     "from=\"900000000000002:3@lid\" "
                                     "sender_pn=\"15550000002@s.whatsapp."
                                     "net\"/>") == 0);
    assert(cm_streq(wa_client_lid_for(c, "15550000002@c.us"),
                    "900000000000002@lid"));
    assert(cm_streq(wa_client_pn_for(c, "900000000000002:7@lid"),
                    "15550000002@s.whatsapp.net"));
    char *text = (char *)zlistx_first(kit->lids);
    assert(cm_streq(text, "900000000000002@lid 15550000002@s.whatsapp.net"));
    //  Known again: not reported twice
    assert(wa_client_kit_handle(kit,
                                "<receipt id=\"r2\" "
                                "from=\"15550000002@s.whatsapp.net\" "
                                "sender_lid=\"900000000000002@lid\"/>") == 0);
    assert(zlistx_size(kit->lids) == 1);
    //  A group participant with its phone number
    assert(wa_client_kit_handle(kit, "<receipt id=\"r3\" from=\"1203@g.us\" "
                                     "participant=\"900000000000003:1@lid\" "
                                     "participant_pn=\"15550000003@s."
                                     "whatsapp.net\"/>") == 0);
    assert(cm_streq(wa_client_pn_for(c, "900000000000003@lid"),
                    "15550000003@s.whatsapp.net"));
    //  A group notification's participants
    assert(wa_client_kit_handle(kit,
                                "<notification type=\"w:gp2\" id=\"n1\" "
                                "from=\"1203@g.us\" "
                                "participant=\"900000000000003@lid\">"
                                "<add><participant jid=\"900000000000004@lid\" "
                                "phone_number=\"15550000004@s.whatsapp.net\"/>"
                                "</add></notification>") == 0);
    assert(cm_streq(wa_client_lid_for(c, "15550000004@s.whatsapp.net"),
                    "900000000000004@lid"));
    //  A usync reply (an IQ reply nobody waits for is still looked at)
    assert(wa_client_kit_handle(kit,
                                "<iq type=\"result\" id=\"u1\"><usync><list>"
                                "<user jid=\"15550000005@s.whatsapp.net\">"
                                "<lid val=\"900000000000005@lid\"/></user>"
                                "<user jid=\"15550000006@s.whatsapp.net\">"
                                "<lid/></user></list></usync></iq>") == -1);
    char *error = NULL;
    wa_node_t *reply = NULL;
    assert(cm_streq(wa_client_lid_for(c, "15550000005@s.whatsapp.net"),
                    "900000000000005@lid"));
    assert(!wa_client_lid_for(c, "15550000006@s.whatsapp.net"));
    //  Group metadata in LID addressing
    reply = wa_node_new_from_text(
        "<iq type=\"result\"><group id=\"1204\" addressing_mode=\"lid\">"
        "<participant jid=\"900000000000007@lid\" "
        "phone_number=\"15550000007@s.whatsapp.net\"/>"
        "<participant jid=\"900000000000008@lid\"/></group></iq>",
        &error);
    wa_client_lid_learn_node(c, reply);
    wa_node_destroy(&reply);
    assert(cm_streq(wa_client_pn_for(c, "900000000000007@lid"),
                    "15550000007@s.whatsapp.net"));
    assert(!wa_client_pn_for(c, "900000000000008@lid"));
    assert(wa_client_lid_count(c) == 5 && zlistx_size(kit->lids) == 5);
    //  Garbage is ignored
    assert(wa_client_learn_lid(c, "x@g.us", "1@lid") == -1);
    assert(wa_client_learn_lid(c, "1@lid", "2@lid") == -1);
    assert(wa_client_kit_handle(kit, "<receipt id=\"r4\" from=\"junk\" "
                                     "sender_lid=\"also junk\"/>") == 0);
    //  Stored pairs come back without a report
    assert(wa_client_load_lid(c, "900000000000009@lid",
                              "15550000009@s.whatsapp.net") == 0);
    assert(wa_client_load_lid(c, "bad", "15550000009@s.whatsapp.net") == -1);
    char *pn = wa_client_pn_of(c, "900000000000009@lid");
    assert(cm_streq(pn, "15550000009@s.whatsapp.net"));
    free(pn);
    assert(zlistx_size(kit->lids) == 5);
    //  A new pair moves the number's Signal sessions to the LID
    wa_sigstore_t *st = c->store;
    assert(wa_sigstore_put(st, "session", "15550000010.2", (const uint8_t *)"S",
                           1) == 0);
    assert(wa_sigstore_put(st, "identity", "15550000010.2",
                           (const uint8_t *)"I", 1) == 0);
    assert(wa_sigstore_put(st, "session", "15550000010.3", (const uint8_t *)"P",
                           1) == 0);
    assert(wa_sigstore_put(st, "session", "900000000000010_1.3",
                           (const uint8_t *)"L", 1) == 0);
    assert(wa_client_learn_lid(c, "15550000010:2@s.whatsapp.net",
                               "900000000000010@lid") == 1);
    size_t len = 0;
    const uint8_t *rec =
        wa_sigstore_get(st, "session", "900000000000010_1.2", &len);
    assert(rec && len == 1 && rec[0] == 'S');
    assert(wa_sigstore_get(st, "identity", "900000000000010_1.2", NULL));
    assert(!wa_sigstore_get(st, "session", "15550000010.2", NULL));
    rec = wa_sigstore_get(st, "session", "900000000000010_1.3", &len);
    assert(rec && rec[0] == 'L'); //  a LID session already there wins
    assert(!wa_sigstore_get(st, "session", "15550000010.3", NULL));
    //  ... and devices of the number map to the LID
    char *dev = wa_client_lid_device(c, "15550000010:2@s.whatsapp.net");
    assert(cm_streq(dev, "900000000000010:2@lid"));
    free(dev);
    assert(!wa_client_lid_device(c, "15550000011:2@s.whatsapp.net"));
    assert(!wa_client_lid_device(c, "15550000001:2@s.whatsapp.net")); //  own
    //  ... and back, for what the API shows
    dev = wa_client_pn_device(c, "900000000000010:2@lid");
    assert(cm_streq(dev, "15550000010:2@s.whatsapp.net"));
    free(dev);
    assert(!wa_client_pn_device(c, "900000000000011:2@lid"));
    assert(!wa_client_pn_device(c, "15550000010:2@s.whatsapp.net"));
    assert(!wa_client_pn_device(c, NULL));
    char *chat = wa_client_lid_chat(c, "900000000000010@lid");
    assert(cm_streq(chat, "15550000010@s.whatsapp.net"));
    free(chat);
    assert(!wa_client_lid_chat(c, "900000000000010:1@lid"));
    //  A received stanza's source: LID sender address, one chat per person
    wa_recv_source_t src = {0};
    src.chat = cm_strdup("900000000000010@lid");
    src.sender = cm_strdup("900000000000010:2@lid");
    src.sender_user = cm_strdup("900000000000010@lid");
    wa_client_lid_source(c, &src);
    assert(cm_streq(src.chat, "15550000010@s.whatsapp.net"));
    assert(cm_streq(src.sender, "15550000010:2@s.whatsapp.net"));
    assert(cm_streq(src.sender_alt, "15550000010@s.whatsapp.net"));
    wa_recv_source_clear(&src);
    src.chat = cm_strdup("15550000010@s.whatsapp.net");
    src.sender = cm_strdup("15550000010:2@s.whatsapp.net");
    src.sender_user = cm_strdup("15550000010@s.whatsapp.net");
    wa_client_lid_source(c, &src);
    assert(cm_streq(src.chat, "15550000010@s.whatsapp.net"));
    assert(cm_streq(src.sender, "15550000010:2@s.whatsapp.net"));
    wa_recv_source_clear(&src);
    //  LID first: a DM to the number asks for the LID's devices
    zlistx_purge(kit->out);
    char id[WA_CLIENT_ID_MAX];
    assert(wa_client_send_text(c, "15550000010@c.us", "hi", NULL, NULL, id) ==
           0);
    kit->now += 1;
    wa_client_wake(c);
    wa_node_t *iq = wa_client_kit_take(kit, "iq");
    assert(iq);
    wa_node_t *list = wa_node_find(iq, "usync/list");
    assert(list && wa_node_attr_eq(wa_node_child_at(list, 0), "jid",
                                   "900000000000010@lid"));
    assert(wa_node_find(iq, "usync/query/lid"));
    wa_node_destroy(&iq);
    //  Our own pair is never stored; the account's LID answers for us
    assert(wa_client_learn_lid(c, "15550000001@s.whatsapp.net",
                               "900000000000001@lid") == 0);
    assert(zlistx_size(kit->lids) == 6);
    //  The LID migration mapping sync payload: pairs learnt (assigned
    //  LID), sessions moved, incomplete entries skipped, junk refused
    assert(wa_sigstore_put(st, "session", "15550000012.0", (const uint8_t *)"M",
                           1) == 0);
    Wa__E2e__LIDMigrationMapping m1 = WA__E2E__LIDMIGRATION_MAPPING__INIT;
    m1.has_pn = m1.has_assigned_lid = m1.has_latest_lid = 1;
    m1.pn = 15550000012ULL;
    m1.assigned_lid = 900000000000012ULL;
    m1.latest_lid = 900000000000099ULL;
    Wa__E2e__LIDMigrationMapping m2 = WA__E2E__LIDMIGRATION_MAPPING__INIT;
    m2.has_pn = 1;
    m2.pn = 15550000013ULL; //  no LID: skipped
    Wa__E2e__LIDMigrationMapping *ms[] = {&m1, &m2};
    Wa__E2e__LIDMigrationMappingSyncPayload sp =
        WA__E2E__LIDMIGRATION_MAPPING_SYNC_PAYLOAD__INIT;
    sp.n_pn_to_lid_mappings = 2;
    sp.pn_to_lid_mappings = ms;
    sp.has_chat_db_migration_timestamp = 1;
    sp.chat_db_migration_timestamp = 1790000000;
    uint8_t spb[128];
    size_t splen =
        wa__e2e__lidmigration_mapping_sync_payload__get_packed_size(&sp);
    assert(splen <= sizeof spb);
    wa__e2e__lidmigration_mapping_sync_payload__pack(&sp, spb);
    assert(wa_client_lid_sync(c, spb, splen) == 1);
    assert(cm_streq(wa_client_lid_for(c, "15550000012@s.whatsapp.net"),
                    "900000000000012@lid"));
    assert(zlistx_size(kit->lids) == 7);
    rec = wa_sigstore_get(st, "session", "900000000000012_1.0", &len);
    assert(rec && len == 1 && rec[0] == 'M');
    assert(!wa_sigstore_get(st, "session", "15550000012.0", NULL));
    assert(wa_client_lid_sync(c, spb, splen) == 1); //  known: no report
    assert(zlistx_size(kit->lids) == 7);
    assert(wa_client_lid_sync(c, (const uint8_t *)"\x0a\xff", 2) == -1);
    assert(wa_client_lid_sync(c, NULL, 0) == -1);
    wa_client_kit_destroy(&kit);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
