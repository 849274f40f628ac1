/*  wa_call - call stanzas

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h). Calls are
    not handled yet: every <call> (offer, terminate, …) is acknowledged
    so that the server does not deliver it again (wa-protocol.md §6.1),
    and logged. Rejecting calls and reporting them as events go here.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_recv.h"
#include "wa_client_int.h"

static int
s_on_call(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const wa_node_t *what = wa_node_child(node, NULL);
    cm_log_debug("call stanza", "session=%s id=%s from=%s kind=%s",
                 wa_client_name(self), wa_node_attr_or(node, "id", ""),
                 wa_node_attr_or(node, "from", ""),
                 what ? wa_node_tag(what) : "");
    wa_node_t *ack = wa_recv_ack(node, 0);
    wa_client_send_node(self, &ack);
    return 0;
}

static const wa_router_route_t s_routes[] = {{"call", NULL, NULL, s_on_call},
                                             {NULL, NULL, NULL, NULL}};

const wa_client_cap_t wa_call_cap = {.name = "call", .routes = s_routes};

//  ---------------------------------------------------------------------
//  Self test

void
wa_call_test(bool verbose)
{
    printf(" * wa_call: ");
    (void)verbose;
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");

    //  An offer is acked with the call's id, from and type
    assert(wa_client_kit_handle(
               kit, "<call id=\"c1\" from=\"15550000002@s.whatsapp.net\" "
                    "t=\"1700000000\"><offer call-id=\"X\"/></call>") == 0);
    wa_node_t *ack = wa_client_kit_take(kit, "ack");
    assert(ack);
    assert(wa_node_attr_eq(ack, "class", "call"));
    assert(wa_node_attr_eq(ack, "id", "c1"));
    assert(wa_node_attr_eq(ack, "to", "15550000002@s.whatsapp.net"));
    wa_node_destroy(&ack);
    assert(zlistx_size(kit->out) == 0);

    //  A call stanza without id cannot be acked: nothing goes out
    assert(wa_client_kit_handle(kit,
                                "<call from=\"15550000002@s.whatsapp.net\">"
                                "<terminate/></call>") == 0);
    assert(zlistx_size(kit->out) == 0);

    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
