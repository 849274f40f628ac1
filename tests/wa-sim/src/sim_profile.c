/*  sim_profile - profile picture, about text, disappearing mode

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_profile.h"

static void
s_picture(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    if (wa_node_attr_eq(iq, "type", "get")) {
        sim_hub_iq_error(conn, iq, 404, "item-not-found");
    } else {
        wa_node_t *pic = wa_node_new("picture");
        wa_node_set_attr(pic, "id", sim_hub_next_id(hub));
        sim_hub_iq_result(conn, iq, &pic);
    }
}

static const sim_iq_route_t s_iqs[] = {
    {"w:profile:picture", NULL, 0, s_picture},
    {"status", NULL, 0, sim_hub_iq_ok},
    {"disappearing_mode", NULL, 0, sim_hub_iq_ok},
    {NULL, NULL, 0, NULL}};

const sim_cap_t sim_profile_cap = {
    .name = "profile",
    .iqs = s_iqs,
};

void
sim_profile_test(bool verbose)
{
    printf(" * sim_profile: ");
    //  Every route needs a logged-in device.
    size_t n = 0;
    for (const sim_iq_route_t *r = s_iqs; r->xmlns; r++, n++) {
        assert(r->flags == 0 && r->fn);
    }
    assert(n == 3);
    //  Handlers run against real clients in sim_server's test.
    printf("OK\n");
}
