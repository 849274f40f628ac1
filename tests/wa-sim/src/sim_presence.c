/*  sim_presence - presence and chat state between clients

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_presence.h"
#include "wa/wa_jid.h"

//  State: who subscribed to whose presence, when each account was last
//  seen, which simulated phones are online.
typedef struct _sim_presence_t {
    sim_hub_t *hub;        //  shared state (borrowed)
    zhashx_t *subscribers; //  target phone -> zlistx of "phone:dev"
    zhashx_t *last_seen;   //  phone -> seconds (intptr) it went offline
    zhashx_t *phones_on;   //  phones whose simulated phone is online
} s_presence_t;

static void
s_list_free(void **item)
{
    zlistx_destroy((zlistx_t **)item);
}

static void *
s_new(sim_hub_t *hub)
{
    s_presence_t *self = (s_presence_t *)cm_alloc(sizeof(s_presence_t));
    self->hub = hub;
    self->subscribers = zhashx_new();
    zhashx_set_destructor(self->subscribers, s_list_free);
    self->last_seen = zhashx_new();
    self->phones_on = zhashx_new();
    return self;
}

static void
s_destroy(void **self_p)
{
    assert(self_p);
    s_presence_t *self = (s_presence_t *)*self_p;
    if (self) {
        zhashx_destroy(&self->subscribers);
        zhashx_destroy(&self->last_seen);
        zhashx_destroy(&self->phones_on);
        free(self);
        *self_p = NULL;
    }
}

//  Send a stanza (not queued) to every online device of an account.
static void
s_to_online(s_presence_t *self, sim_account_t *acc, const wa_node_t *node,
            sim_device_t *except)
{
    sim_device_t *d = (sim_device_t *)zlistx_first(acc->devices);
    while (d) {
        sim_conn_t *c = d != except ? sim_hub_device_conn(self->hub, d) : NULL;
        if (c && !sim_conn_passive(c)) {
            sim_conn_send(c, node);
        }
        d = (sim_device_t *)zlistx_next(acc->devices);
    }
}

static bool
s_account_available(s_presence_t *self, sim_account_t *acc)
{
    if (zhashx_lookup(self->phones_on, acc->phone)) {
        return true;
    }
    sim_device_t *d = (sim_device_t *)zlistx_first(acc->devices);
    while (d) {
        sim_conn_t *c = sim_hub_device_conn(self->hub, d);
        if (c && sim_conn_available(c)) {
            return true;
        }
        d = (sim_device_t *)zlistx_next(acc->devices);
    }
    return false;
}

static wa_node_t *
s_presence_of(s_presence_t *self, sim_account_t *acc)
{
    wa_node_t *out = wa_node_new("presence");
    char *from = sim_hub_user_jid(acc, false);
    wa_node_set_attr(out, "from", from);
    free(from);
    if (!s_account_available(self, acc)) {
        //  Last seen: when it went offline (never online: now)
        intptr_t last = (intptr_t)zhashx_lookup(self->last_seen, acc->phone);
        wa_node_set_attr(out, "type", "unavailable");
        wa_node_set_attr_int(out, "last", last ? last : cm_now_ms() / 1000);
    }
    return out;
}

//  Tell subscribers of acc its current presence.
static void
s_publish_presence(s_presence_t *self, sim_account_t *acc)
{
    if (!s_account_available(self, acc)) {
        zhashx_update(self->last_seen, acc->phone,
                      (void *)(intptr_t)(cm_now_ms() / 1000));
    }
    zlistx_t *subs = (zlistx_t *)zhashx_lookup(self->subscribers, acc->phone);
    if (!subs) {
        return;
    }
    wa_node_t *out = s_presence_of(self, acc);
    sim_model_t *model = sim_hub_model(self->hub);
    const char *key = (const char *)zlistx_first(subs);
    while (key) {
        char phone[32];
        unsigned id = 0;
        if (sscanf(key, "%31[0-9]:%u", phone, &id) == 2) {
            sim_account_t *a = sim_model_account(model, phone);
            sim_device_t *d = a ? sim_account_device(a, id) : NULL;
            sim_conn_t *c = d ? sim_hub_device_conn(self->hub, d) : NULL;
            if (c) {
                sim_conn_send(c, out);
            }
        }
        key = (const char *)zlistx_next(subs);
    }
    wa_node_destroy(&out);
}

static void
s_presence(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *node)
{
    s_presence_t *self = (s_presence_t *)state;
    sim_device_t *dev = sim_conn_device(conn);
    const char *type = wa_node_attr(node, "type");
    const char *name = wa_node_attr(node, "name");
    if (name && *name && strlen(name) < 128) {
        free(dev->account->push_name);
        dev->account->push_name = cm_strdup(name);
    }
    if (cm_streq(type, "subscribe")) {
        sim_account_t *target =
            sim_hub_account_of(self->hub, wa_node_attr(node, "to"), NULL);
        if (!target) {
            return;
        }
        zlistx_t *subs =
            (zlistx_t *)zhashx_lookup(self->subscribers, target->phone);
        if (!subs) {
            subs = zlistx_new();
            zlistx_set_destructor(subs, (zlistx_destructor_fn *)zstr_free);
            zlistx_set_comparator(subs, (zlistx_comparator_fn *)strcmp);
            zhashx_insert(self->subscribers, target->phone, subs);
        }
        char *key = cm_sprintf("%s:%u", dev->account->phone, dev->id);
        if (!zlistx_find(subs, key)) {
            zlistx_add_end(subs, key);
        } else {
            free(key);
        }
        wa_node_t *out = s_presence_of(self, target);
        sim_conn_send_take(conn, &out);
        return;
    }
    if (cm_streq(type, "unsubscribe")) {
        return;
    }
    if (!type || cm_streq(type, "available") || cm_streq(type, "unavailable")) {
        bool was = s_account_available(self, dev->account);
        sim_conn_set_available(conn, !cm_streq(type, "unavailable"));
        if (was != s_account_available(self, dev->account)) {
            s_publish_presence(self, dev->account);
        }
    }
}

//  Forward chat state `kind` (borrowed) of `from_acc` to `to` (a user
//  or group JID): to the peer's online devices but `except`, or to the
//  group's other members. Returns 0, or -1 when `to` names no account or
//  no group of from_acc.
static int
s_forward_chatstate(s_presence_t *self, sim_account_t *from_acc,
                    sim_device_t *except, const char *to, const wa_node_t *kind)
{
    wa_jid_t *jid = to ? wa_jid_new_from(to) : NULL;
    if (!jid || !kind) {
        wa_jid_destroy(&jid);
        return -1;
    }
    int rc = -1;
    wa_node_t *out = wa_node_new("chatstate");
    wa_node_t *child = wa_node_dup(kind);
    wa_node_append(out, &child);
    if (wa_jid_is_group(jid)) {
        sim_group_t *group =
            sim_model_group(sim_hub_model(self->hub), wa_jid_user(jid));
        if (group && sim_group_participant(group, from_acc->phone)) {
            char *participant = sim_hub_user_jid(from_acc, false);
            wa_node_set_attr(out, "from", to);
            wa_node_set_attr(out, "participant", participant);
            free(participant);
            sim_participant_t *p =
                (sim_participant_t *)zlistx_first(group->participants);
            while (p) {
                sim_account_t *acc =
                    sim_model_account(sim_hub_model(self->hub), p->phone);
                if (acc && acc != from_acc) {
                    s_to_online(self, acc, out, NULL);
                }
                p = (sim_participant_t *)zlistx_next(group->participants);
            }
            rc = 0;
        }
    } else {
        bool lid = false;
        sim_account_t *acc = sim_hub_account_of(self->hub, to, &lid);
        if (acc) {
            char *from = sim_hub_user_jid(from_acc, lid);
            wa_node_set_attr(out, "from", from);
            free(from);
            s_to_online(self, acc, out, except);
            rc = 0;
        }
    }
    wa_jid_destroy(&jid);
    wa_node_destroy(&out);
    return rc;
}

static void
s_chatstate(sim_hub_t *hub, void *state, sim_conn_t *conn,
            const wa_node_t *node)
{
    (void)hub;
    s_presence_t *self = (s_presence_t *)state;
    sim_device_t *dev = sim_conn_device(conn);
    s_forward_chatstate(self, dev->account, dev, wa_node_attr(node, "to"),
                        wa_node_child_at(node, 0));
}

int
sim_presence_phone_set(sim_presence_t *self, const char *phone, bool available,
                       const char **reason)
{
    sim_account_t *acc = sim_model_account(sim_hub_model(self->hub), phone);
    if (!acc) {
        *reason = "no such account";
        return 404;
    }
    bool was = s_account_available(self, acc);
    if (available) {
        zhashx_update(self->phones_on, acc->phone, (void *)1);
    } else {
        zhashx_delete(self->phones_on, acc->phone);
    }
    if (was != s_account_available(self, acc)) {
        s_publish_presence(self, acc);
    }
    return 200;
}

int
sim_presence_phone_chatstate(sim_presence_t *self, const char *phone,
                             const char *to, const char *state,
                             const char **reason)
{
    sim_account_t *acc = sim_model_account(sim_hub_model(self->hub), phone);
    if (!acc) {
        *reason = "no such account";
        return 404;
    }
    wa_node_t *kind = NULL;
    if (cm_streq(state, "composing") || cm_streq(state, "recording")) {
        kind = wa_node_new("composing");
        if (cm_streq(state, "recording")) {
            wa_node_set_attr(kind, "media", "audio");
        }
    } else if (cm_streq(state, "paused")) {
        kind = wa_node_new("paused");
    } else {
        *reason = "state must be composing, recording or paused";
        return 400;
    }
    char *wire = to ? wa_jid_normalize(to) : NULL;
    int rc = s_forward_chatstate(self, acc, NULL, wire, kind);
    free(wire);
    wa_node_destroy(&kind);
    if (rc != 0) {
        *reason = "to names no account, or no group of this account";
        return 404;
    }
    return 200;
}

//  A connection closed: forget its presence.
static void
s_conn_gone(void *state, sim_conn_t *conn)
{
    s_presence_t *self = (s_presence_t *)state;
    sim_device_t *dev = sim_conn_device(conn);
    if (dev && sim_conn_available(conn)) {
        sim_conn_set_available(conn, false);
        if (!s_account_available(self, dev->account)) {
            s_publish_presence(self, dev->account);
        }
    }
}

static const sim_stanza_route_t s_stanzas[] = {
    {"presence", s_presence}, {"chatstate", s_chatstate}, {NULL, NULL}};

const sim_cap_t sim_presence_cap = {
    .name = "presence",
    .new_fn = s_new,
    .destroy_fn = s_destroy,
    .stanzas = s_stanzas,
    .conn_gone_fn = s_conn_gone,
};

void
sim_presence_test(bool verbose)
{
    printf(" * sim_presence: ");
    sim_hub_t *hub = sim_hub_new_test();
    s_presence_t *self = (s_presence_t *)s_new(hub);
    sim_account_t *a =
        sim_model_account_add(sim_hub_model(hub), "15550000031", "A");
    //  No connection: unavailable, with the time last seen.
    assert(!s_account_available(self, a));
    wa_node_t *out = s_presence_of(self, a);
    assert(wa_node_attr_eq(out, "from", "15550000031@s.whatsapp.net"));
    assert(wa_node_attr_eq(out, "type", "unavailable"));
    assert(wa_node_attr(out, "last"));
    wa_node_destroy(&out);
    //  Nobody subscribed: publishing sends nothing and does not fail.
    s_publish_presence(self, a);
    //  The simulated phone online, then offline: last seen is then
    const char *reason = NULL;
    assert(sim_presence_phone_set(self, "15550000031", true, &reason) == 200);
    assert(s_account_available(self, a));
    out = s_presence_of(self, a);
    assert(!wa_node_attr(out, "type"));
    wa_node_destroy(&out);
    assert(sim_presence_phone_set(self, "15550000031", false, &reason) == 200);
    assert(!s_account_available(self, a));
    int64_t last =
        (int64_t)(intptr_t)zhashx_lookup(self->last_seen, "15550000031");
    assert(last > 0 && last <= cm_now_ms() / 1000);
    out = s_presence_of(self, a);
    assert(wa_node_attr_int_or(out, "last", 0) == last);
    wa_node_destroy(&out);
    assert(sim_presence_phone_set(self, "19999", true, &reason) == 404);
    //  Chat states from the phone: checked, forwarded to nobody online
    sim_model_account_add(sim_hub_model(hub), "15550000032", "B");
    assert(sim_presence_phone_chatstate(self, "15550000031", "15550000032@c.us",
                                        "composing", &reason) == 200);
    assert(sim_presence_phone_chatstate(self, "15550000031", "15550000032@c.us",
                                        "dancing", &reason) == 400);
    assert(sim_presence_phone_chatstate(self, "15550000031", "15550000099@c.us",
                                        "paused", &reason) == 404);
    void *state = self;
    s_destroy(&state);
    assert(!state);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
