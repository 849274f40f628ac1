/*  sim_session - keepalive, passive/active, AB props, dirty bits

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_pair.h"
#include "sim_session.h"

static void
s_passive(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    if (wa_node_child(iq, "active")) {
        sim_hub_iq_result(conn, iq, NULL);
        sim_pair_activate(hub, conn);
    } else if (wa_node_child(iq, "passive")) {
        sim_conn_set_passive(conn, true);
        sim_hub_iq_result(conn, iq, NULL);
    } else {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
    }
}

//  The AB props answer: protocol 1, no props.
static wa_node_t *
s_props_node(void)
{
    wa_node_t *props = wa_node_new("props");
    wa_node_set_attr(props, "protocol", "1");
    wa_node_set_attr(props, "hash", "sim1");
    wa_node_set_list(props);
    return props;
}

static void
s_abt(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    wa_node_t *props = s_props_node();
    sim_hub_iq_result(conn, iq, &props);
}

//  Telemetry (unified_session), offline_batch: nothing to do.
static void
s_ignore(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *node)
{
}

static const sim_iq_route_t s_iqs[] = {
    {"w:p", NULL, SIM_IQ_OPEN, sim_hub_iq_ok},
    {"w:stats", NULL, SIM_IQ_OPEN, sim_hub_iq_ok},
    {"passive", NULL, 0, s_passive},
    {"abt", NULL, 0, s_abt},
    {"urn:xmpp:whatsapp:dirty", NULL, 0, sim_hub_iq_ok},
    {"urn:xmpp:whatsapp:account", NULL, 0, sim_hub_iq_ok},
    {NULL, NULL, 0, NULL}};

static const sim_stanza_route_t s_stanzas[] = {
    {"ib", s_ignore}, {"notification", s_ignore}, {NULL, NULL}};

const sim_cap_t sim_session_cap = {
    .name = "session",
    .iqs = s_iqs,
    .stanzas = s_stanzas,
};

void
sim_session_test(bool verbose)
{
    printf(" * sim_session: ");
    wa_node_t *props = s_props_node();
    assert(wa_node_is(props, "props"));
    assert(wa_node_attr_eq(props, "protocol", "1"));
    assert(wa_node_attr_eq(props, "hash", "sim1"));
    assert(wa_node_child_count(props) == 0);
    wa_node_destroy(&props);
    //  Pings answer before login; passive needs a logged-in device.
    assert(s_iqs[0].flags == SIM_IQ_OPEN && cm_streq(s_iqs[0].xmlns, "w:p"));
    assert(s_iqs[2].flags == 0 && cm_streq(s_iqs[2].xmlns, "passive"));
    //  Handlers run against real clients in sim_server's test.
    printf("OK\n");
}
