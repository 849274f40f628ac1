/*  sim_router - dispatches stanzas to the capability modules

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_router.h"

//  The capability table: sim_caps.inc, one line per capability.
#define SIM_CAP(name) extern const sim_cap_t sim_##name##_cap;
#include "sim_caps.inc"
#undef SIM_CAP
#define SIM_CAP(name) &sim_##name##_cap,
static const sim_cap_t *const s_caps[] = {
#include "sim_caps.inc"
    NULL};
#undef SIM_CAP

#define SIM_CAPS_MAX (sizeof s_caps / sizeof s_caps[0])

struct _sim_router_t {
    sim_hub_t *hub;             //  shared state (borrowed)
    void *states[SIM_CAPS_MAX]; //  state of s_caps[i], or NULL
};

sim_router_t *
sim_router_new(sim_hub_t *hub)
{
    assert(hub);
    sim_router_t *self = (sim_router_t *)cm_alloc(sizeof(sim_router_t));
    self->hub = hub;
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->new_fn) {
            self->states[i] = s_caps[i]->new_fn(hub);
            if (!self->states[i]) {
                cm_log_error("could not start capability", "name=%s",
                             s_caps[i]->name);
                sim_router_destroy(&self);
                return NULL;
            }
        }
    }
    return self;
}

void
sim_router_destroy(sim_router_t **self_p)
{
    assert(self_p);
    sim_router_t *self = *self_p;
    if (self) {
        for (size_t i = 0; s_caps[i]; i++) {
            if (self->states[i] && s_caps[i]->destroy_fn) {
                s_caps[i]->destroy_fn(&self->states[i]);
            }
        }
        free(self);
        *self_p = NULL;
    }
}

//  The first IQ route of `xmlns` whose child condition holds: the IQ
//  carries it (iq set) or it is `child` (iq NULL). *cap_p gets the
//  capability's index.
static const sim_iq_route_t *
s_iq_route(const char *xmlns, const wa_node_t *iq, const char *child,
           size_t *cap_p)
{
    if (!xmlns) {
        return NULL;
    }
    for (size_t i = 0; s_caps[i]; i++) {
        const sim_iq_route_t *r = s_caps[i]->iqs;
        for (; r && r->xmlns; r++) {
            if (!cm_streq(r->xmlns, xmlns)) {
                continue;
            }
            bool fits = !r->child || (iq ? wa_node_child(iq, r->child) != NULL
                                         : cm_streq(r->child, child));
            if (fits) {
                *cap_p = i;
                return r;
            }
        }
    }
    return NULL;
}

static void
s_iq(sim_router_t *self, sim_conn_t *conn, const wa_node_t *iq)
{
    const char *type = wa_node_attr(iq, "type");
    if (cm_streq(type, "result") || cm_streq(type, "error")) {
        for (size_t i = 0; s_caps[i]; i++) {
            if (s_caps[i]->iq_reply_fn &&
                s_caps[i]->iq_reply_fn(self->hub, self->states[i], conn, iq)) {
                return;
            }
        }
        return; //  answers to nothing we asked
    }
    size_t cap = 0;
    const sim_iq_route_t *route =
        s_iq_route(wa_node_attr(iq, "xmlns"), iq, NULL, &cap);
    if (route && (route->flags & SIM_IQ_EARLY)) {
        route->fn(self->hub, self->states[cap], conn, iq);
        return;
    }
    if (!wa_node_attr(iq, "id")) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    if (route && (route->flags & SIM_IQ_OPEN)) {
        route->fn(self->hub, self->states[cap], conn, iq);
        return;
    }
    if (!cm_streq(type, "get") && !cm_streq(type, "set")) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    if (sim_conn_state(conn) != SIM_CONN_LOGGED_IN || !sim_conn_device(conn)) {
        sim_hub_iq_error(conn, iq, 401, "not-authorized");
        return;
    }
    if (route) {
        route->fn(self->hub, self->states[cap], conn, iq);
    } else {
        sim_hub_iq_error(conn, iq, 501, "feature-not-implemented");
    }
}

void
sim_router_stanza(sim_router_t *self, sim_conn_t *conn, const wa_node_t *node)
{
    assert(self);
    if (wa_node_is(node, "iq")) {
        s_iq(self, conn, node);
        return;
    }
    if (sim_conn_state(conn) != SIM_CONN_LOGGED_IN) {
        cm_log_debug("ignoring stanza before login", "conn=%" PRId64 " tag=%s",
                     sim_conn_id(conn), wa_node_tag(node));
        return;
    }
    if (!sim_conn_device(conn)) {
        return;
    }
    for (size_t i = 0; s_caps[i]; i++) {
        const sim_stanza_route_t *r = s_caps[i]->stanzas;
        for (; r && r->tag; r++) {
            if (wa_node_is(node, r->tag)) {
                r->fn(self->hub, self->states[i], conn, node);
                return;
            }
        }
    }
    cm_log_info("unrecognized stanza", "conn=%" PRId64 " tag=%s",
                sim_conn_id(conn), wa_node_tag(node));
    sim_hub_nack(conn, node, wa_node_tag(node), 488);
}

void
sim_router_conn_gone(sim_router_t *self, sim_conn_t *conn)
{
    assert(self);
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->conn_gone_fn) {
            s_caps[i]->conn_gone_fn(self->states[i], conn);
        }
    }
}

void
sim_router_linked(sim_router_t *self, sim_device_t *dev)
{
    assert(self);
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->linked_fn) {
            s_caps[i]->linked_fn(self->states[i], dev);
        }
    }
}

void
sim_router_account_gone(sim_router_t *self, const char *phone)
{
    assert(self);
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i]->account_gone_fn) {
            s_caps[i]->account_gone_fn(self->states[i], phone);
        }
    }
}

void *
sim_router_state(sim_router_t *self, const sim_cap_t *cap)
{
    assert(self);
    for (size_t i = 0; s_caps[i]; i++) {
        if (s_caps[i] == cap) {
            return self->states[i];
        }
    }
    return NULL;
}

const sim_cap_t *
sim_router_iq_cap(sim_router_t *self, const char *xmlns, const char *child)
{
    assert(self);
    size_t cap = 0;
    return s_iq_route(xmlns, NULL, child, &cap) ? s_caps[cap] : NULL;
}

//  True if two capabilities claim the same IQ route, stanza tag or
//  notification type (the table must leave no doubt who answers).
static bool
s_claimed_twice(void)
{
    zhashx_t *seen = zhashx_new();
    bool twice = false;
    for (size_t i = 0; s_caps[i] && !twice; i++) {
        const sim_cap_t *cap = s_caps[i];
        for (const sim_iq_route_t *r = cap->iqs; r && r->xmlns && !twice; r++) {
            char *key =
                cm_sprintf("iq %s %s", r->xmlns, r->child ? r->child : "");
            twice = zhashx_insert(seen, key, (void *)cap) != 0;
            free(key);
        }
        for (const sim_stanza_route_t *r = cap->stanzas; r && r->tag && !twice;
             r++) {
            char *key = cm_sprintf("tag %s", r->tag);
            twice = zhashx_insert(seen, key, (void *)cap) != 0;
            free(key);
        }
        for (const char *const *n = cap->notifications; n && *n && !twice;
             n++) {
            char *key = cm_sprintf("notification %s", *n);
            twice = zhashx_insert(seen, key, (void *)cap) != 0;
            free(key);
        }
    }
    zhashx_destroy(&seen);
    return twice;
}

void
sim_router_test(bool verbose)
{
    printf(" * sim_router: ");
    assert(!s_claimed_twice());
    sim_hub_t *hub = sim_hub_new_test();
    sim_router_t *router = sim_router_new(hub);
    assert(router);
    //  Every capability has a name, and each route a handler; every
    //  route resolves to the capability that registered it.
    for (size_t i = 0; s_caps[i]; i++) {
        const sim_cap_t *cap = s_caps[i];
        assert(cap->name && *cap->name);
        assert(!cap->new_fn == !sim_router_state(router, cap));
        for (const sim_iq_route_t *r = cap->iqs; r && r->xmlns; r++) {
            assert(r->fn);
            assert(sim_router_iq_cap(router, r->xmlns, r->child) == cap);
        }
        for (const sim_stanza_route_t *r = cap->stanzas; r && r->tag; r++) {
            assert(r->fn);
        }
    }
    assert(cm_streq(sim_router_iq_cap(router, "w:g2", NULL)->name, "group"));
    assert(
        cm_streq(sim_router_iq_cap(router, "encrypt", NULL)->name, "prekeys"));
    assert(cm_streq(sim_router_iq_cap(router, "md", NULL)->name, "pair"));
    //  media_conn only with its child; unknown namespaces: nobody.
    assert(sim_router_iq_cap(router, "w:m", "media_conn"));
    assert(!sim_router_iq_cap(router, "w:m", NULL));
    assert(!sim_router_iq_cap(router, "nonsense", NULL));
    assert(!sim_router_iq_cap(router, NULL, NULL));
    assert(!sim_router_state(router, NULL));
    //  Stanzas go through real connections in sim_server's test.
    sim_router_destroy(&router);
    assert(!router);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
