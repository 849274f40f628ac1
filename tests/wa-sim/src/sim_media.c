/*  sim_media - media_conn

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_media.h"

//  media_conn lifetime announced, seconds.
#define SIM_MEDIA_TTL_S 300

//  The media_conn answer for a host ("host:port") and auth token.
static wa_node_t *
s_media_conn_node(const char *host, const char *auth)
{
    wa_node_t *mc = wa_node_new("media_conn");
    wa_node_set_attr(mc, "auth", auth);
    wa_node_set_attr_int(mc, "ttl", SIM_MEDIA_TTL_S);
    wa_node_set_attr_int(mc, "auth_ttl", SIM_MEDIA_TTL_S);
    wa_node_set_attr(mc, "max_buckets", "12");
    wa_node_t *h = wa_node_add(mc, "host");
    wa_node_set_attr(h, "hostname", host);
    wa_node_set_attr(h, "maxContentLengthBytes", "67108864");
    return mc;
}

static void
s_media_conn(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    const char *host = sim_hub_media_host(hub);
    if (!host) {
        sim_hub_iq_error(conn, iq, 503, "service-unavailable");
        return;
    }
    wa_node_t *mc = s_media_conn_node(host, sim_hub_media_auth(hub));
    sim_hub_iq_result(conn, iq, &mc);
}

static const sim_iq_route_t s_iqs[] = {{"w:m", "media_conn", 0, s_media_conn},
                                       {NULL, NULL, 0, NULL}};

const sim_cap_t sim_media_cap = {
    .name = "media",
    .iqs = s_iqs,
};

void
sim_media_test(bool verbose)
{
    printf(" * sim_media: ");
    wa_node_t *mc = s_media_conn_node("127.0.0.1:7482", "tok");
    assert(wa_node_attr_eq(mc, "auth", "tok"));
    assert(wa_node_attr_eq(mc, "ttl", "300"));
    assert(wa_node_attr_eq(mc, "auth_ttl", "300"));
    const wa_node_t *h = wa_node_child(mc, "host");
    assert(h && wa_node_attr_eq(h, "hostname", "127.0.0.1:7482"));
    assert(wa_node_attr_eq(h, "maxContentLengthBytes", "67108864"));
    wa_node_destroy(&mc);
    //  Handlers run against real clients in sim_server's test.
    printf("OK\n");
}
