/*  wa_router - a handler table for incoming stanzas

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A list of borrowed route tables, scanned in the order added.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_router.h"

struct _wa_router_t {
    const wa_router_route_t **tables; //  borrowed tables, in order added
    size_t count;                     //  tables used
    size_t size;                      //  tables allocated
    size_t routes;                    //  rows in them
};

wa_router_t *
wa_router_new(void)
{
    return cm_alloc(sizeof(wa_router_t));
}

void
wa_router_destroy(wa_router_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wa_router_t *self = *self_p;
    free(self->tables);
    free(self);
    *self_p = NULL;
}

static bool
s_name_ok(const char *s)
{
    return s && *s && strlen(s) < WA_ROUTER_NAME_MAX;
}

//  True when routes a and b take the same stanzas.
static bool
s_same(const wa_router_route_t *a, const wa_router_route_t *b)
{
    if (!cm_streq(a->tag, b->tag) || !a->attr != !b->attr) {
        return false;
    }
    return !a->attr ||
           (cm_streq(a->attr, b->attr) && cm_streq(a->value, b->value));
}

//  True when route r takes the same stanzas as one in the router or one
//  of the first n rows of table.
static bool
s_taken(wa_router_t *self, const wa_router_route_t *table, size_t n,
        const wa_router_route_t *r)
{
    for (size_t i = 0; i < n; i++) {
        if (s_same(&table[i], r)) {
            return true;
        }
    }
    for (size_t t = 0; t < self->count; t++) {
        for (const wa_router_route_t *e = self->tables[t]; e->tag; e++) {
            if (s_same(e, r)) {
                return true;
            }
        }
    }
    return false;
}

int
wa_router_add(wa_router_t *self, const wa_router_route_t *routes)
{
    assert(self);
    size_t n = 0;
    for (; routes && routes[n].tag; n++) {
        const wa_router_route_t *r = &routes[n];
        if (!s_name_ok(r->tag) || !r->fn || (r->attr && !s_name_ok(r->attr)) ||
            (r->attr &&
             (!r->value || strlen(r->value) >= WA_ROUTER_NAME_MAX)) ||
            s_taken(self, routes, n, r)) {
            return -1;
        }
    }
    if (n == 0) {
        return 0;
    }
    if (self->count == self->size) {
        self->size = self->size ? self->size * 2 : 8;
        self->tables = realloc(self->tables, self->size * sizeof *self->tables);
        assert(self->tables);
    }
    self->tables[self->count++] = routes;
    self->routes += n;
    return 0;
}

wa_router_fn *
wa_router_lookup(wa_router_t *self, const wa_node_t *node)
{
    assert(self);
    const char *tag = node ? wa_node_tag(node) : NULL;
    if (!tag) {
        return NULL;
    }
    wa_router_fn *any = NULL;
    for (size_t t = 0; t < self->count; t++) {
        for (const wa_router_route_t *r = self->tables[t]; r->tag; r++) {
            if (!cm_streq(r->tag, tag)) {
                continue;
            }
            if (!r->attr) {
                any = any ? any : r->fn;
            } else if (wa_node_attr_eq(node, r->attr, r->value)) {
                return r->fn;
            }
        }
    }
    return any;
}

size_t
wa_router_size(wa_router_t *self)
{
    assert(self);
    return self->routes;
}

//  ---------------------------------------------------------------------
//  Self test

//  Which handler ran, and on what.
typedef struct {
    int which;       //  handler number, 0 none
    const char *tag; //  stanza tag
} s_probe_t;

static int
s_probe(void *arg, const wa_node_t *node, int which)
{
    s_probe_t *p = (s_probe_t *)arg;
    p->which = which;
    p->tag = wa_node_tag(node);
    return 0;
}

static int
s_fn_one(void *arg, const wa_node_t *node)
{
    return s_probe(arg, node, 1);
}

static int
s_fn_two(void *arg, const wa_node_t *node)
{
    return s_probe(arg, node, 2);
}

static int
s_fn_three(void *arg, const wa_node_t *node)
{
    (void)node;
    ((s_probe_t *)arg)->which = 3;
    return -1;
}

//  Route the stanza written as text; the handler number that ran, 0 none.
static int
s_route(wa_router_t *router, const char *text)
{
    char *error = NULL;
    wa_node_t *node = wa_node_new_from_text(text, &error);
    assert(node);
    s_probe_t probe = {0};
    wa_router_fn *fn = wa_router_lookup(router, node);
    if (fn) {
        int rc = fn(&probe, node);
        assert(rc == (probe.which == 3 ? -1 : 0));
        assert(probe.which == 3 || cm_streq(probe.tag, wa_node_tag(node)));
    }
    wa_node_destroy(&node);
    return probe.which;
}

//  A one-row table for `bad` tests (row 1 ends it).
#define T_ROW(tag, attr, value, fn)                                            \
    {                                                                          \
        {tag, attr, value, fn},                                                \
        {                                                                      \
            NULL, NULL, NULL, NULL                                             \
        }                                                                      \
    }

void
wa_router_test(bool verbose)
{
    printf(" * wa_router: ");
    (void)verbose;
    wa_router_t *router = wa_router_new();
    assert(wa_router_size(router) == 0);
    assert(s_route(router, "<message id=\"1\"/>") == 0);

    //  A tag's route takes every stanza with the tag
    const wa_router_route_t messages[] = T_ROW("message", NULL, NULL, s_fn_one);
    assert(wa_router_add(router, messages) == 0);
    assert(wa_router_size(router) == 1);
    assert(s_route(router, "<message id=\"1\"/>") == 1);
    assert(s_route(router, "<message type=\"text\"/>") == 1);
    assert(s_route(router, "<receipt id=\"1\"/>") == 0);

    //  A route by attribute wins over the tag's route, wherever it is;
    //  the rest of the tag still goes to the tag's route
    const wa_router_route_t table[] = {
        {"receipt", NULL, NULL, s_fn_one},
        {"receipt", "type", "retry", s_fn_two},
        {"notification", "type", "w:gp2", s_fn_two},
        {"notification", "type", "devices", s_fn_three},
        {"iq", "xmlns", "urn:xmpp:ping", s_fn_one},
        {"message", "type", "media", s_fn_two},
        {NULL, NULL, NULL, NULL}};
    assert(wa_router_add(router, table) == 0);
    assert(wa_router_size(router) == 7);
    assert(s_route(router, "<receipt id=\"1\"/>") == 1);
    assert(s_route(router, "<receipt id=\"1\" type=\"read\"/>") == 1);
    assert(s_route(router, "<receipt id=\"1\" type=\"retry\"/>") == 2);
    assert(s_route(router, "<message id=\"1\" type=\"media\"/>") == 2);
    assert(s_route(router, "<message id=\"1\" type=\"text\"/>") == 1);
    assert(s_route(router, "<notification type=\"w:gp2\"/>") == 2);
    assert(s_route(router, "<notification type=\"devices\"/>") == 3);
    //  No route for the tag without attribute: unrouted
    assert(s_route(router, "<notification type=\"encrypt\"/>") == 0);
    assert(s_route(router, "<notification/>") == 0);
    assert(s_route(router, "<iq xmlns=\"urn:xmpp:ping\" type=\"get\"/>") == 1);
    assert(s_route(router, "<iq xmlns=\"md\" type=\"set\"/>") == 0);
    assert(s_route(router, "<call id=\"c1\"><offer/></call>") == 0);

    //  The first route added of two attributes that both match wins
    const wa_router_route_t acks[] = {{"ack", "class", "message", s_fn_one},
                                      {"ack", "type", "text", s_fn_two},
                                      {NULL, NULL, NULL, NULL}};
    assert(wa_router_add(router, acks) == 0);
    assert(s_route(router, "<ack class=\"message\" type=\"text\"/>") == 1);
    assert(s_route(router, "<ack class=\"receipt\" type=\"text\"/>") == 2);
    assert(s_route(router, "<ack class=\"receipt\"/>") == 0);

    //  A route taken already, and bad rows, are refused with their whole
    //  table
    size_t size = wa_router_size(router);
    const wa_router_route_t dup1[] = T_ROW("message", NULL, NULL, s_fn_two);
    const wa_router_route_t dup2[] =
        T_ROW("receipt", "type", "retry", s_fn_one);
    const wa_router_route_t bad1[] = T_ROW("", NULL, NULL, s_fn_one);
    const wa_router_route_t bad2[] = T_ROW("presence", NULL, NULL, NULL);
    const wa_router_route_t bad3[] = T_ROW("presence", "type", NULL, s_fn_one);
    const wa_router_route_t bad4[] = T_ROW("presence", "", "x", s_fn_one);
    char long_name[WA_ROUTER_NAME_MAX + 1];
    memset(long_name, 'a', WA_ROUTER_NAME_MAX);
    long_name[WA_ROUTER_NAME_MAX] = 0;
    const wa_router_route_t bad5[] = T_ROW(long_name, NULL, NULL, s_fn_one);
    const wa_router_route_t bad6[] =
        T_ROW("presence", "type", long_name, s_fn_one);
    const wa_router_route_t *refused[] = {dup1, dup2, bad1, bad2,
                                          bad3, bad4, bad5, bad6};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert(wa_router_add(router, refused[i]) == -1);
    }
    const wa_router_route_t clash[] = {{"chatstate", NULL, NULL, s_fn_one},
                                       {"presence", NULL, NULL, s_fn_one},
                                       {"chatstate", NULL, NULL, s_fn_two},
                                       {NULL, NULL, NULL, NULL}};
    assert(wa_router_add(router, clash) == -1);
    assert(wa_router_size(router) == size);
    assert(s_route(router, "<chatstate from=\"x\"><composing/></chatstate>") ==
           0);
    assert(s_route(router, "<presence type=\"available\"/>") == 0);
    //  Empty tables add nothing
    const wa_router_route_t empty[] = {{NULL, NULL, NULL, NULL}};
    assert(wa_router_add(router, empty) == 0);
    assert(wa_router_add(router, NULL) == 0);
    assert(wa_router_size(router) == size);
    assert(wa_router_lookup(router, NULL) == NULL);

    wa_router_destroy(&router);
    assert(router == NULL);
    wa_router_destroy(&router);
    printf("OK\n");
}
