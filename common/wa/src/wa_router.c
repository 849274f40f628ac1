/*  wa_router - a handler table for incoming stanzas

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A hash of tags, each with its routes that select by an attribute (in
    the order they were added, searched linearly: a tag has a handful)
    and its route without one.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_router.h"

//  A route that selects by an attribute.
typedef struct {
    char *attr;       //  attribute name
    char *value;      //  its value
    wa_router_fn *fn; //  handler
} s_route_t;

//  The routes of one tag.
typedef struct {
    s_route_t *routes; //  by attribute, in the order added
    size_t count;      //  used
    size_t size;       //  allocated
    wa_router_fn *any; //  the tag's route without attribute, or NULL
} s_tag_t;

struct _wa_router_t {
    zhashx_t *tags; //  tag -> s_tag_t
    size_t count;   //  routes
};

static void
s_tag_destroy(void **item_p)
{
    s_tag_t *t = (s_tag_t *)*item_p;
    if (t) {
        for (size_t i = 0; i < t->count; i++) {
            free(t->routes[i].attr);
            free(t->routes[i].value);
        }
        free(t->routes);
        free(t);
        *item_p = NULL;
    }
}

wa_router_t *
wa_router_new(void)
{
    wa_router_t *self = cm_alloc(sizeof *self);
    self->tags = zhashx_new();
    zhashx_set_destructor(self->tags, s_tag_destroy);
    return self;
}

void
wa_router_destroy(wa_router_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wa_router_t *self = *self_p;
    zhashx_destroy(&self->tags);
    free(self);
    *self_p = NULL;
}

static bool
s_name_ok(const char *s)
{
    return s && *s && strlen(s) < WA_ROUTER_NAME_MAX;
}

int
wa_router_add(wa_router_t *self, const char *tag, const char *attr,
              const char *value, wa_router_fn *fn)
{
    assert(self);
    if (!s_name_ok(tag) || !fn || (attr && !s_name_ok(attr)) ||
        (attr && (!value || strlen(value) >= WA_ROUTER_NAME_MAX))) {
        return -1;
    }
    s_tag_t *t = (s_tag_t *)zhashx_lookup(self->tags, tag);
    if (!t) {
        t = cm_alloc(sizeof *t);
        zhashx_insert(self->tags, tag, t);
    }
    if (!attr) {
        if (t->any) {
            return -1;
        }
        t->any = fn;
        self->count++;
        return 0;
    }
    for (size_t i = 0; i < t->count; i++) {
        if (cm_streq(t->routes[i].attr, attr) &&
            cm_streq(t->routes[i].value, value)) {
            return -1;
        }
    }
    if (t->count == t->size) {
        t->size = t->size ? t->size * 2 : 4;
        t->routes = realloc(t->routes, t->size * sizeof *t->routes);
        assert(t->routes);
    }
    s_route_t *r = &t->routes[t->count++];
    r->attr = cm_strdup(attr);
    r->value = cm_strdup(value);
    r->fn = fn;
    self->count++;
    return 0;
}

int
wa_router_add_table(wa_router_t *self, const wa_router_route_t *routes)
{
    for (size_t i = 0; routes && routes[i].tag; i++) {
        if (wa_router_add(self, routes[i].tag, routes[i].attr, routes[i].value,
                          routes[i].fn) != 0) {
            return -1;
        }
    }
    return 0;
}

wa_router_fn *
wa_router_lookup(wa_router_t *self, const wa_node_t *node)
{
    assert(self);
    const char *tag = node ? wa_node_tag(node) : NULL;
    s_tag_t *t = tag ? (s_tag_t *)zhashx_lookup(self->tags, tag) : NULL;
    if (!t) {
        return NULL;
    }
    for (size_t i = 0; i < t->count; i++) {
        if (wa_node_attr_eq(node, t->routes[i].attr, t->routes[i].value)) {
            return t->routes[i].fn;
        }
    }
    return t->any;
}

size_t
wa_router_size(wa_router_t *self)
{
    assert(self);
    return self->count;
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

void
wa_router_test(bool verbose)
{
    printf(" * wa_router: ");
    (void)verbose;
    wa_router_t *router = wa_router_new();
    assert(wa_router_size(router) == 0);
    assert(s_route(router, "<message id=\"1\"/>") == 0);

    //  A tag's route takes every stanza with the tag
    assert(wa_router_add(router, "message", NULL, NULL, s_fn_one) == 0);
    assert(s_route(router, "<message id=\"1\"/>") == 1);
    assert(s_route(router, "<message type=\"text\"/>") == 1);
    assert(s_route(router, "<receipt id=\"1\"/>") == 0);

    //  A route by attribute wins over the tag's route; the rest of the
    //  tag still goes to the tag's route
    const wa_router_route_t table[] = {
        {"receipt", NULL, NULL, s_fn_one},
        {"receipt", "type", "retry", s_fn_two},
        {"notification", "type", "w:gp2", s_fn_two},
        {"notification", "type", "devices", s_fn_three},
        {"iq", "xmlns", "urn:xmpp:ping", s_fn_one},
        {NULL, NULL, NULL, NULL}};
    assert(wa_router_add_table(router, table) == 0);
    assert(wa_router_size(router) == 6);
    assert(s_route(router, "<receipt id=\"1\"/>") == 1);
    assert(s_route(router, "<receipt id=\"1\" type=\"read\"/>") == 1);
    assert(s_route(router, "<receipt id=\"1\" type=\"retry\"/>") == 2);
    assert(s_route(router, "<notification type=\"w:gp2\"/>") == 2);
    assert(s_route(router, "<notification type=\"devices\"/>") == 3);
    //  No route for the tag without attribute: unrouted
    assert(s_route(router, "<notification type=\"encrypt\"/>") == 0);
    assert(s_route(router, "<notification/>") == 0);
    assert(s_route(router, "<iq xmlns=\"urn:xmpp:ping\" type=\"get\"/>") == 1);
    assert(s_route(router, "<iq xmlns=\"md\" type=\"set\"/>") == 0);
    assert(s_route(router, "<call id=\"c1\"><offer/></call>") == 0);

    //  The first route added of two attributes that both match wins
    assert(wa_router_add(router, "ack", "class", "message", s_fn_one) == 0);
    assert(wa_router_add(router, "ack", "type", "text", s_fn_two) == 0);
    assert(s_route(router, "<ack class=\"message\" type=\"text\"/>") == 1);
    assert(s_route(router, "<ack class=\"receipt\" type=\"text\"/>") == 2);
    assert(s_route(router, "<ack class=\"receipt\"/>") == 0);

    //  The same route twice, and bad arguments, are refused
    size_t size = wa_router_size(router);
    assert(wa_router_add(router, "message", NULL, NULL, s_fn_two) == -1);
    assert(wa_router_add(router, "receipt", "type", "retry", s_fn_one) == -1);
    assert(wa_router_add(router, NULL, NULL, NULL, s_fn_one) == -1);
    assert(wa_router_add(router, "", NULL, NULL, s_fn_one) == -1);
    assert(wa_router_add(router, "presence", NULL, NULL, NULL) == -1);
    assert(wa_router_add(router, "presence", "type", NULL, s_fn_one) == -1);
    assert(wa_router_add(router, "presence", "", "x", s_fn_one) == -1);
    char long_name[WA_ROUTER_NAME_MAX + 1];
    memset(long_name, 'a', WA_ROUTER_NAME_MAX);
    long_name[WA_ROUTER_NAME_MAX] = 0;
    assert(wa_router_add(router, long_name, NULL, NULL, s_fn_one) == -1);
    assert(wa_router_add(router, "presence", "type", long_name, s_fn_one) ==
           -1);
    //  A table stops at its first refused row
    const wa_router_route_t clash[] = {{"chatstate", NULL, NULL, s_fn_one},
                                       {"message", NULL, NULL, s_fn_two},
                                       {"presence", NULL, NULL, s_fn_one},
                                       {NULL, NULL, NULL, NULL}};
    assert(wa_router_add_table(router, clash) == -1);
    assert(wa_router_size(router) == size + 1);
    assert(s_route(router, "<chatstate from=\"x\"><composing/></chatstate>") ==
           1);
    assert(s_route(router, "<presence type=\"available\"/>") == 0);
    assert(wa_router_add_table(router, NULL) == 0);
    assert(wa_router_lookup(router, NULL) == NULL);

    wa_router_destroy(&router);
    assert(router == NULL);
    wa_router_destroy(&router);
    printf("OK\n");
}
