/*  wa_devices - notifications that a device list changed

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h). The core
    caches every user's device list (wa_usync) for sending; these
    notifications say a list changed, so the cached one is dropped and
    the next send fetches it again (wa-protocol.md §6.3):

        <notification type="devices" from=USER>…</notification>
        <notification type="account_sync" from=…>…</notification>

    account_sync is about our own account: our own list goes too. The
    core acks the notifications.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_usync.h"
#include "wa_client_int.h"

static int
s_on_devices(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const char *from = wa_node_attr(node, "from");
    if (from) {
        wa_usync_invalidate(self->usync, from);
    }
    if (wa_node_attr_eq(node, "type", "account_sync") && self->me_pn_user) {
        wa_usync_invalidate(self->usync, self->me_pn_user);
    }
    return 0;
}

static const wa_router_route_t s_routes[] = {
    {"notification", "type", "devices", s_on_devices},
    {"notification", "type", "account_sync", s_on_devices},
    {NULL, NULL, NULL, NULL}};

const wa_client_cap_t wa_devices_cap = {.name = "devices", .routes = s_routes};

//  ---------------------------------------------------------------------
//  Self test

//  Cache one device for user.
static void
t_put(wa_client_t *client, const char *user, const char *device)
{
    assert(wa_usync_put(client->usync, user, &device, 1) == 0);
    assert(wa_usync_devices(client->usync, user, NULL));
}

void
wa_devices_test(bool verbose)
{
    printf(" * wa_devices: ");
    (void)verbose;
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *client = kit->client;
    const char *me = "15550000001@s.whatsapp.net";
    const char *bob = "15550000002@s.whatsapp.net";
    const char *carol = "15550000003@s.whatsapp.net";

    //  A contact's list changed: only theirs goes; the notification is
    //  acked
    t_put(client, me, "15550000001:1@s.whatsapp.net");
    t_put(client, bob, "15550000002:1@s.whatsapp.net");
    t_put(client, carol, "15550000003:1@s.whatsapp.net");
    assert(wa_client_kit_handle(kit, "<notification type=\"devices\" id=\"d1\" "
                                     "from=\"15550000002@s.whatsapp.net\">"
                                     "<add/></notification>") == 0);
    assert(!wa_usync_devices(client->usync, bob, NULL));
    assert(wa_usync_devices(client->usync, carol, NULL));
    assert(wa_usync_devices(client->usync, me, NULL));
    wa_node_t *ack = wa_client_kit_take(kit, "ack");
    assert(ack && wa_node_attr_eq(ack, "class", "notification"));
    assert(wa_node_attr_eq(ack, "id", "d1"));
    assert(wa_node_attr_eq(ack, "type", "devices"));
    wa_node_destroy(&ack);

    //  Our own account changed: our list goes as well
    assert(wa_client_kit_handle(kit, "<notification type=\"account_sync\" "
                                     "id=\"d2\" from=\"15550000003@s."
                                     "whatsapp.net\"/>") == 0);
    assert(!wa_usync_devices(client->usync, carol, NULL));
    assert(!wa_usync_devices(client->usync, me, NULL));
    ack = wa_client_kit_take(kit, "ack");
    assert(ack && wa_node_attr_eq(ack, "id", "d2"));
    wa_node_destroy(&ack);

    //  No from: nothing to drop, nothing to ack
    t_put(client, bob, "15550000002:1@s.whatsapp.net");
    assert(wa_client_kit_handle(kit, "<notification type=\"devices\" "
                                     "id=\"d3\"/>") == 0);
    assert(wa_usync_devices(client->usync, bob, NULL));
    assert(zlistx_size(kit->out) == 0);

    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
