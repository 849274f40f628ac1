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

//  The account's blocklist: <list><item jid=LID pn_jid=PN/>...</list>.
static wa_node_t *
s_blocklist_node(sim_model_t *model, sim_account_t *acc)
{
    wa_node_t *list = wa_node_new("list");
    wa_node_set_list(list);
    for (const char *phone = (const char *)zhashx_first(acc->blocked); phone;
         phone = (const char *)zhashx_next(acc->blocked)) {
        const char *key = (const char *)zhashx_cursor(acc->blocked);
        sim_account_t *other = sim_model_account(model, key);
        if (!other) {
            continue;
        }
        wa_node_t *item = wa_node_add(list, "item");
        char *lid = sim_hub_user_jid(other, true);
        char *pn = sim_hub_user_jid(other, false);
        wa_node_set_attr(item, "jid", lid);
        wa_node_set_attr(item, "pn_jid", pn);
        free(lid);
        free(pn);
    }
    return list;
}

//  Apply one <item action jid [pn_jid]/>. Returns 0, or an error code.
static int
s_block_item(sim_hub_t *hub, sim_account_t *acc, const wa_node_t *item)
{
    const char *action = item ? wa_node_attr(item, "action") : NULL;
    bool block = cm_streq(action, "block");
    if (!block && !cm_streq(action, "unblock")) {
        return 400;
    }
    const char *jid = wa_node_attr(item, "jid");
    sim_account_t *other = jid ? sim_hub_account_of(hub, jid, NULL) : NULL;
    if (!other && wa_node_attr(item, "pn_jid")) {
        other = sim_hub_account_of(hub, wa_node_attr(item, "pn_jid"), NULL);
    }
    if (!other) {
        return 404;
    }
    if (other == acc) {
        return 406;
    }
    sim_account_set_blocked(acc, other, block);
    cm_log_info(block ? "blocked" : "unblocked", "phone=%s other=%s",
                acc->phone, other->phone);
    return 0;
}

static void
s_blocklist(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    sim_account_t *acc = sim_conn_device(conn)->account;
    if (wa_node_attr_eq(iq, "type", "set")) {
        int rc = s_block_item(hub, acc, wa_node_child(iq, "item"));
        if (rc) {
            sim_hub_iq_error(conn, iq, rc,
                             rc == 404   ? "item-not-found"
                             : rc == 406 ? "not-acceptable"
                                         : "bad-request");
            return;
        }
    }
    wa_node_t *list = s_blocklist_node(sim_hub_model(hub), acc);
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

    //  Blocking by LID or phone number, unblocking, bad items
    sim_hub_t *hub = sim_hub_new_test();
    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *a = sim_model_account_add(model, "15550000071", "A");
    sim_account_t *b = sim_model_account_add(model, "15550000072", "B");
    wa_node_t *item = wa_node_new("item");
    wa_node_set_attr(item, "action", "block");
    char *blid = sim_hub_user_jid(b, true);
    wa_node_set_attr(item, "jid", blid);
    assert(s_block_item(hub, a, item) == 0);
    assert(sim_account_blocks(a, b) && !sim_account_blocks(b, a));
    wa_node_t *list = s_blocklist_node(model, a);
    assert(wa_node_child_count(list) == 1);
    assert(wa_node_attr_eq(wa_node_child_at(list, 0), "jid", blid));
    assert(wa_node_attr_eq(wa_node_child_at(list, 0), "pn_jid",
                           "15550000072@s.whatsapp.net"));
    wa_node_destroy(&list);
    free(blid);
    wa_node_set_attr(item, "action", "unblock");
    wa_node_set_attr(item, "jid", "15550000072@s.whatsapp.net");
    assert(s_block_item(hub, a, item) == 0);
    assert(!sim_account_blocks(a, b));
    wa_node_set_attr(item, "jid", "15550000079@s.whatsapp.net");
    assert(s_block_item(hub, a, item) == 404);
    wa_node_set_attr(item, "action", "mute");
    assert(s_block_item(hub, a, item) == 400);
    assert(s_block_item(hub, a, NULL) == 400);
    wa_node_destroy(&item);
    sim_hub_destroy(&hub);
    //  Handlers run against real clients in sim_server's test.
    printf("OK\n");
}
