/*  sim_privacy - privacy settings and the blocklist

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_privacy.h"

//  The default settings every account has.
static wa_node_t *
s_privacy_node(void)
{
    static const char *const categories[][2] = {
        {"last", "all"},        {"online", "all"},   {"profile", "all"},
        {"status", "contacts"}, {"groupadd", "all"}, {"readreceipts", "all"},
        {"calladd", "all"},     {"messages", "all"}, {NULL, NULL}};
    wa_node_t *privacy = wa_node_new("privacy");
    for (int i = 0; categories[i][0]; i++) {
        wa_node_t *c = wa_node_add(privacy, "category");
        wa_node_set_attr(c, "name", categories[i][0]);
        wa_node_set_attr(c, "value", categories[i][1]);
    }
    return privacy;
}

static void
s_privacy(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    bool is_get = wa_node_attr_eq(iq, "type", "get");
    if (!is_get || !wa_node_child(iq, "privacy")) {
        sim_hub_iq_result(conn, iq, NULL);
        return;
    }
    wa_node_t *privacy = s_privacy_node();
    sim_hub_iq_result(conn, iq, &privacy);
}

static void
s_blocklist(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    wa_node_t *list = NULL;
    if (wa_node_attr_eq(iq, "type", "get")) {
        list = wa_node_new("list");
        wa_node_set_list(list);
    }
    sim_hub_iq_result(conn, iq, &list);
}

static const sim_iq_route_t s_iqs[] = {{"privacy", NULL, 0, s_privacy},
                                       {"blocklist", NULL, 0, s_blocklist},
                                       {NULL, NULL, 0, NULL}};

const sim_cap_t sim_privacy_cap = {
    .name = "privacy",
    .iqs = s_iqs,
};

void
sim_privacy_test(bool verbose)
{
    printf(" * sim_privacy: ");
    wa_node_t *privacy = s_privacy_node();
    assert(wa_node_child_count(privacy) == 8);
    const wa_node_t *c = wa_node_child_at(privacy, 3);
    assert(wa_node_is(c, "category"));
    assert(wa_node_attr_eq(c, "name", "status"));
    assert(wa_node_attr_eq(c, "value", "contacts"));
    c = wa_node_child_at(privacy, 0);
    assert(wa_node_attr_eq(c, "name", "last"));
    assert(wa_node_attr_eq(c, "value", "all"));
    wa_node_destroy(&privacy);
    //  Handlers run against real clients in sim_server's test.
    printf("OK\n");
}
