/*  wa_router - a handler table for incoming stanzas

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A route names a stanza by its tag and, optionally, by one attribute
    and its value (wa-protocol.md §6.1): <message>, <receipt type="retry">,
    <notification type="w:gp2">, <iq xmlns="urn:xmpp:ping">, <ack
    class="message">, <call>, <presence>, <chatstate>, <ib>...

        static const wa_router_route_t s_routes[] = {
            {"message", NULL, NULL, s_on_message},
            {"notification", "type", "w:gp2", s_on_gp2},
            {NULL, NULL, NULL, NULL}};

        wa_router_t *router = wa_router_new();
        wa_router_add(router, s_routes);
        wa_router_fn *fn = wa_router_lookup(router, node);
        int rc = fn ? fn(arg, node) : -1;

    A stanza goes to the first route added whose attribute matches, else
    to the route of its tag without an attribute, else nowhere (lookup
    returns NULL: what to do with an unrouted stanza is the owner's
    business). The router never calls a handler itself and keeps no
    state beyond the tables, so wa_client and wa-sim can both use it.

    Tables are borrowed, not copied (a router costs a few pointers: every
    wa_client has one): routes are static const tables. Lookup scans
    them; a session has a few dozen routes and the scan costs less than
    one stanza's decoding.
*/
#ifndef WA_ROUTER_H_INCLUDED
#define WA_ROUTER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "wa_node.h"

typedef struct _wa_router_t wa_router_t;

//  A stanza handler: arg is the owner's (wa_client: the client). Returns
//  0, or -1 when the stanza was malformed or unexpected.
typedef int(wa_router_fn)(void *arg, const wa_node_t *node);

//  One row of a route table; a table ends with a row whose tag is NULL.
typedef struct {
    const char *tag;   //  stanza tag
    const char *attr;  //  attribute that selects, or NULL: any stanza
                       //  with the tag
    const char *value; //  the attribute's value (with attr)
    wa_router_fn *fn;  //  handler
} wa_router_route_t;

//  Longest tag, attribute name or value a route takes (bytes).
#define WA_ROUTER_NAME_MAX 128

//  New empty router. Caller owns return value.
wa_router_t *wa_router_new(void);

//  Destroy. NULL-safe; sets *self_p to NULL.
void wa_router_destroy(wa_router_t **self_p);

//  Add the routes of `routes`, a table ending with a row whose tag is
//  NULL (NULL: none). The table is borrowed: it must outlive the router.
//  Returns 0, or -1 (and nothing of the table is added) when a row lacks
//  its handler, has an attribute without a value, a name longer than
//  WA_ROUTER_NAME_MAX, or routes the same stanzas as an earlier row.
int wa_router_add(wa_router_t *self, const wa_router_route_t *routes);

//  The handler for node (see above), or NULL when no route matches.
wa_router_fn *wa_router_lookup(wa_router_t *self, const wa_node_t *node);

//  Number of routes.
size_t wa_router_size(wa_router_t *self);

//  Self test
void wa_router_test(bool verbose);

#endif
