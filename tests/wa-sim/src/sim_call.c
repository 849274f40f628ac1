/*  sim_call - calls (acknowledged only)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_call.h"

//  The server's answer to a call stanza, or NULL when it has no id.
static wa_node_t *
s_call_ack(const wa_node_t *call)
{
    const char *id = wa_node_attr(call, "id");
    return id ? sim_hub_ack("call", id, wa_node_attr(call, "to")) : NULL;
}

static void
s_call(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *node)
{
    wa_node_t *ack = s_call_ack(node);
    if (ack) {
        sim_conn_send_take(conn, &ack);
    }
}

static const sim_stanza_route_t s_stanzas[] = {{"call", s_call}, {NULL, NULL}};

const sim_cap_t sim_call_cap = {
    .name = "call",
    .stanzas = s_stanzas,
};

void
sim_call_test(bool verbose)
{
    printf(" * sim_call: ");
    wa_node_t *call = wa_node_new("call");
    assert(!s_call_ack(call));
    wa_node_set_attr(call, "id", "C1");
    wa_node_set_attr(call, "to", "15550000041@s.whatsapp.net");
    wa_node_t *ack = s_call_ack(call);
    assert(ack && wa_node_attr_eq(ack, "class", "call"));
    assert(wa_node_attr_eq(ack, "id", "C1"));
    assert(wa_node_attr_eq(ack, "from", "15550000041@s.whatsapp.net"));
    wa_node_destroy(&ack);
    wa_node_destroy(&call);
    printf("OK\n");
}
