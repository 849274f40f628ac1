/*  sim_presence - presence and chat state between clients

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_presence.h"
#include "wa/wa_jid.h"

//  State: who subscribed to whose presence.
typedef struct {
    sim_hub_t *hub;        //  shared state (borrowed)
    zhashx_t *subscribers; //  target phone -> zlistx of "phone:dev"
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
    return self;
}

static void
s_destroy(void **self_p)
{
    assert(self_p);
    s_presence_t *self = (s_presence_t *)*self_p;
    if (self) {
        zhashx_destroy(&self->subscribers);
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
        wa_node_set_attr(out, "type", "unavailable");
        wa_node_set_attr_int(out, "last", cm_now_ms() / 1000);
    }
    return out;
}

//  Tell subscribers of acc its current presence.
static void
s_publish_presence(s_presence_t *self, sim_account_t *acc)
{
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

static void
s_chatstate(sim_hub_t *hub, void *state, sim_conn_t *conn,
            const wa_node_t *node)
{
    s_presence_t *self = (s_presence_t *)state;
    sim_device_t *dev = sim_conn_device(conn);
    const char *to = wa_node_attr(node, "to");
    wa_jid_t *jid = to ? wa_jid_new_from(to) : NULL;
    const wa_node_t *kind = wa_node_child_at(node, 0);
    if (!jid || !kind) {
        wa_jid_destroy(&jid);
        return;
    }
    wa_node_t *out = wa_node_new("chatstate");
    wa_node_t *child = wa_node_dup(kind);
    wa_node_append(out, &child);
    if (wa_jid_is_group(jid)) {
        sim_group_t *group =
            sim_model_group(sim_hub_model(self->hub), wa_jid_user(jid));
        if (group && sim_group_participant(group, dev->account->phone)) {
            char *participant = sim_hub_user_jid(dev->account, false);
            wa_node_set_attr(out, "from", to);
            wa_node_set_attr(out, "participant", participant);
            free(participant);
            sim_participant_t *p =
                (sim_participant_t *)zlistx_first(group->participants);
            while (p) {
                sim_account_t *acc =
                    sim_model_account(sim_hub_model(self->hub), p->phone);
                if (acc && acc != dev->account) {
                    s_to_online(self, acc, out, NULL);
                }
                p = (sim_participant_t *)zlistx_next(group->participants);
            }
        }
    } else {
        bool lid = false;
        sim_account_t *acc = sim_hub_account_of(self->hub, to, &lid);
        if (acc) {
            char *from = sim_hub_user_jid(dev->account, lid);
            wa_node_set_attr(out, "from", from);
            free(from);
            s_to_online(self, acc, out, dev);
        }
    }
    wa_jid_destroy(&jid);
    wa_node_destroy(&out);
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
    void *state = self;
    s_destroy(&state);
    assert(!state);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
