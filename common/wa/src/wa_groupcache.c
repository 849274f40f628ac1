/*  wa_groupcache - the client's knowledge of its groups

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h). Sending to a
    group needs its metadata (participants, addressing mode: wa_group
    parses it; wa_outbox fetches it) and the set of member devices that
    already hold our sender key (wa-protocol.md §7.5). Both are kept here
    per group JID, and dropped when the group changes:

        <notification type="w:gp2" from=GROUP>…</notification>

    drops the metadata; when someone left or was removed (<remove>,
    <leave>) it also drops our sender key and the record of who has it,
    so that the next send starts a new key that only the members left
    get (wa-protocol.md §10.1). It then reports the notification to the
    owner (WA_CLIENT_EVENT_GROUP), who turns it into group events. The
    core acks the notification.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_group.h"
#include "wa/wa_sigstore.h"
#include "wa_client_int.h"

zhashx_t *
wa_groupcache_holders(wa_client_t *self, const char *group)
{
    zhashx_t *set = (zhashx_t *)zhashx_lookup(self->skdm, group);
    if (!set) {
        set = zhashx_new();
        zhashx_insert(self->skdm, group, set);
    }
    return set;
}

void
wa_groupcache_forget(wa_client_t *self, const char *group)
{
    assert(self);
    if (group) {
        zhashx_delete(self->groups, group);
    }
}

void
wa_groupcache_rotate(wa_client_t *self, const char *group)
{
    assert(self);
    if (!group) {
        return;
    }
    zhashx_delete(self->groups, group);
    zhashx_delete(self->skdm, group);
    //  Our sender key under either address space the group may use
    for (int lid = 0; lid < 2; lid++) {
        char name[WA_SEND_NAME_MAX];
        wa_client_own_address(self, lid == 1, name);
        if (*name) {
            char *key = cm_sprintf("%s::%s.%d", group, name, self->me_device);
            wa_sigstore_remove(self->store, "sender_key", key);
            free(key);
        }
    }
}

static int
s_on_gp2(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const char *from = wa_node_attr(node, "from");
    //  Someone left or was removed: they hold our sender key, so the
    //  next send starts a new one (distributed to the members left)
    if (from &&
        (wa_node_child(node, "remove") || wa_node_child(node, "leave"))) {
        wa_groupcache_rotate(self, from);
    } else if (from) {
        zhashx_delete(self->groups, from);
    }
    char *group = from ? wa_client_user_of(from) : NULL;
    if (group && wa_node_child_count(node) > 0) {
        char *actor = wa_client_user_of(wa_node_attr(node, "participant"));
        wa_client_event_t ev = {.type = WA_CLIENT_EVENT_GROUP};
        ev.u.group.id = wa_node_attr_or(node, "id", "");
        ev.u.group.group = group;
        ev.u.group.actor = actor;
        ev.u.group.timestamp = wa_node_attr_int_or(node, "t", 0);
        ev.u.group.node = node;
        wa_client_emit(self, &ev);
        free(actor);
    }
    free(group);
    return 0;
}

static const wa_router_route_t s_routes[] = {
    {"notification", "type", "w:gp2", s_on_gp2}, {NULL, NULL, NULL, NULL}};

static void
s_start(wa_client_t *self)
{
    self->groups = zhashx_new();
    zhashx_set_destructor(self->groups,
                          (zhashx_destructor_fn *)wa_group_destroy);
    self->skdm = zhashx_new();
    zhashx_set_destructor(self->skdm, (zhashx_destructor_fn *)zhashx_destroy);
}

static void
s_forget(wa_client_t *self)
{
    zhashx_purge(self->groups);
    zhashx_purge(self->skdm);
}

static void
s_stop(wa_client_t *self)
{
    zhashx_destroy(&self->skdm);
    zhashx_destroy(&self->groups);
}

const wa_client_cap_t wa_groupcache_cap = {.name = "groupcache",
                                           .routes = s_routes,
                                           .start = s_start,
                                           .stop = s_stop,
                                           .forget = s_forget};

//  ---------------------------------------------------------------------
//  Self test

#define T_GROUP "120363000000000001@g.us"

//  Cache metadata and a sender key holder for T_GROUP.
static void
t_fill(wa_client_t *client)
{
    char *error = NULL;
    wa_node_t *node = wa_node_new_from_text(
        "<group id=\"120363000000000001\" subject=\"Team\">"
        "<participant jid=\"15550000002@s.whatsapp.net\"/></group>",
        &error);
    assert(node);
    wa_group_t *g = wa_group_parse_node(node);
    assert(g);
    wa_node_destroy(&node);
    zhashx_update(client->groups, T_GROUP, g);
    zhashx_update(wa_groupcache_holders(client, T_GROUP),
                  "15550000002:1@s.whatsapp.net", (void *)1);
}

//  The kit's client acked notification n-id (and sent nothing else).
static void
t_acked(wa_client_kit_t *kit, const char *id)
{
    wa_node_t *ack = wa_client_kit_take(kit, "ack");
    assert(ack);
    assert(wa_node_attr_eq(ack, "class", "notification"));
    assert(wa_node_attr_eq(ack, "id", id));
    assert(wa_node_attr_eq(ack, "to", T_GROUP));
    assert(wa_node_attr_eq(ack, "type", "w:gp2"));
    wa_node_destroy(&ack);
    assert(zlistx_size(kit->out) == 0);
}

void
wa_groupcache_test(bool verbose)
{
    printf(" * wa_groupcache: ");
    (void)verbose;
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *client = kit->client;

    //  The holders' set is made on first use and kept
    zhashx_t *set = wa_groupcache_holders(client, T_GROUP);
    assert(set && zhashx_size(set) == 0);
    assert(wa_groupcache_holders(client, T_GROUP) == set);

    //  A change (subject, ...) drops the metadata, not the sender key
    t_fill(client);
    assert(wa_client_kit_handle(
               kit, "<notification type=\"w:gp2\" id=\"n1\" from=\"" T_GROUP
                    "\" t=\"1700000000\"><subject subject=\"New\"/>"
                    "</notification>") == 0);
    t_acked(kit, "n1");
    assert(!zhashx_lookup(client->groups, T_GROUP));
    //  ... and is reported to the owner
    wa_client_kit_expect(kit, "group n1 " T_GROUP " - subject");
    assert(zhashx_size(wa_groupcache_holders(client, T_GROUP)) == 1);

    //  A member removed or leaving drops the holders too
    t_fill(client);
    assert(wa_client_kit_handle(
               kit, "<notification type=\"w:gp2\" id=\"n2\" from=\"" T_GROUP
                    "\" participant=\"15550000003:2@s.whatsapp.net\">"
                    "<remove><participant jid=\"15550000002@s.whatsapp.net"
                    "\"/></remove></notification>") == 0);
    t_acked(kit, "n2");
    wa_client_kit_expect(kit, "group n2 " T_GROUP
                              " 15550000003@s.whatsapp.net remove");
    assert(!zhashx_lookup(client->groups, T_GROUP));
    assert(!zhashx_lookup(client->skdm, T_GROUP));
    t_fill(client);
    assert(wa_client_kit_handle(kit, "<notification type=\"w:gp2\" id=\"n3\" "
                                     "from=\"" T_GROUP "\"><leave/>"
                                     "</notification>") == 0);
    t_acked(kit, "n3");
    wa_client_kit_expect(kit, "group n3 " T_GROUP " - leave");
    assert(!zhashx_lookup(client->skdm, T_GROUP));

    //  Without a from there is no group to drop (and no ack: it needs
    //  the from)
    t_fill(client);
    assert(wa_client_kit_handle(kit, "<notification type=\"w:gp2\" id=\"n4\">"
                                     "<remove/></notification>") == 0);
    assert(zlistx_size(kit->out) == 0);
    assert(zhashx_lookup(client->groups, T_GROUP));

    //  The owner's calls do the same
    wa_client_forget_group(client, T_GROUP);
    assert(!zhashx_lookup(client->groups, T_GROUP));
    assert(zhashx_lookup(client->skdm, T_GROUP));
    t_fill(client);
    wa_client_rotate_group_key(client, T_GROUP);
    assert(!zhashx_lookup(client->groups, T_GROUP));
    assert(!zhashx_lookup(client->skdm, T_GROUP));
    wa_client_forget_group(client, NULL);
    wa_client_rotate_group_key(client, NULL);

    //  Logging out forgets every group
    t_fill(client);
    assert(wa_client_logout(client) == 0);
    wa_node_t *iq = wa_client_kit_take(kit, "iq");
    assert(iq && wa_node_child(iq, "remove-companion-device"));
    char *reply = cm_sprintf("<iq type=\"result\" id=\"%s\" "
                             "from=\"s.whatsapp.net\"/>",
                             wa_node_attr(iq, "id"));
    wa_node_destroy(&iq);
    assert(wa_client_kit_handle(kit, reply) == 0);
    free(reply);
    assert(!wa_client_paired(client));
    assert(zhashx_size(client->groups) == 0);
    assert(zhashx_size(client->skdm) == 0);
    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
