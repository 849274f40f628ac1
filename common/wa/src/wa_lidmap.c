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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_jid.h"
#include "wa/wa_lidmap.h"
#include "wa_client_int.h"

//  Longest user JID text kept ("<20 digits>@s.whatsapp.net").
#define S_USER_MAX 48
//  Elements looked at in one stanza at most (hostile input).
#define S_WALK_MAX 2048
//  Depth walked into a stanza.
#define S_WALK_DEPTH 4

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
        if (self->ops.lid && !self->destroying) {
            self->ops.lid(self->arg, lid, pn);
        }
    }
    return rc;
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
    //  Our own pair is never stored; the account's LID answers for us
    assert(wa_client_learn_lid(c, "15550000001@s.whatsapp.net",
                               "900000000000001@lid") == 0);
    assert(zlistx_size(kit->lids) == 5);
    wa_client_kit_destroy(&kit);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
