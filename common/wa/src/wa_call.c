/*  wa_call - calls: incoming call stanzas become events; rejecting

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h). Every <call>
    is acknowledged so that the server does not deliver it again
    (wa-protocol.md §6.1); offers, accepts, rejects and terminations are
    reported to the owner.
*/
#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_call.h"
#include "wa/wa_jid.h"
#include "wa/wa_recv.h"
#include "wa_client_int.h"

//  The event kind of a call child's tag, or 0 for the others.
static wa_client_call_kind_t
s_kind(const char *tag)
{
    return cm_streq(tag, "offer")       ? WA_CLIENT_CALL_OFFER
           : cm_streq(tag, "accept")    ? WA_CLIENT_CALL_ACCEPT
           : cm_streq(tag, "reject")    ? WA_CLIENT_CALL_REJECT
           : cm_streq(tag, "terminate") ? WA_CLIENT_CALL_TERMINATE
                                        : (wa_client_call_kind_t)0;
}

//  Report the call stanza. Returns 0, or -1 when malformed.
static int
s_report(wa_client_t *self, const wa_node_t *node)
{
    const wa_node_t *what = wa_node_child(node, NULL);
    wa_client_call_kind_t kind = what ? s_kind(wa_node_tag(what)) : 0;
    if (!kind) {
        return 0; //  transport, relay, preaccept…: nothing to report
    }
    const char *call_id = wa_node_attr(what, "call-id");
    const char *creator = wa_node_attr(what, "call-creator");
    char *from = wa_client_user_of(creator ? creator
                                           : wa_node_attr_or(node, "from", ""));
    if (!call_id || !*call_id || strlen(call_id) > WA_CALL_ID_MAX || !from) {
        free(from);
        return -1;
    }
    const char *group = wa_node_attr(what, "group-jid");
    wa_client_event_t ev = {.type = WA_CLIENT_EVENT_CALL};
    wa_client_call_t *c = &ev.u.call;
    c->kind = kind;
    c->call_id = call_id;
    c->from = from;
    c->group = group;
    c->is_video = wa_node_child(what, "video") != NULL;
    c->is_group = group || wa_node_attr_eq(what, "type", "group");
    c->offline = wa_node_attr(node, "offline") != NULL;
    c->timestamp = wa_node_attr_int_or(node, "t", 0);
    if (c->timestamp <= 0) {
        c->timestamp = wa_client_wall_s();
    }
    c->reason = wa_node_attr(what, "reason");
    wa_client_emit(self, &ev);
    free(from);
    return 0;
}

static int
s_on_call(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const wa_node_t *what = wa_node_child(node, NULL);
    cm_log_debug("call stanza", "session=%s id=%s from=%s kind=%s",
                 wa_client_name(self), wa_node_attr_or(node, "id", ""),
                 wa_node_attr_or(node, "from", ""),
                 what ? wa_node_tag(what) : "");
    //  Acked first: a stanza the owner cannot use is not sent again
    wa_node_t *ack = wa_recv_ack(node, 0);
    wa_client_send_node(self, &ack);
    return s_report(self, node);
}

int
wa_call_reject(wa_client_t *client, const char *call_id, const char *caller)
{
    assert(client);
    if (!wa_client_ready(client) || !call_id || !*call_id ||
        strlen(call_id) > WA_CALL_ID_MAX || !caller) {
        return -1;
    }
    char *wire = wa_jid_normalize(caller);
    char *user = wire ? wa_client_user_of(wire) : NULL;
    free(wire);
    wa_jid_t *jid = user ? wa_jid_new_from(user) : NULL;
    bool person = jid && !wa_jid_is_server(jid) &&
                  (wa_jid_is_pn(jid) || wa_jid_is_lid(jid));
    wa_jid_destroy(&jid);
    if (!person) {
        free(user);
        return -1;
    }
    uint8_t raw[8];
    cm_random(raw, sizeof raw);
    char id[2 * sizeof raw + 1];
    cm_hex(raw, sizeof raw, id);
    for (char *p = id; *p; p++) {
        *p = (char)toupper((unsigned char)*p);
    }
    wa_node_t *node = wa_node_new("call");
    wa_node_set_attr(node, "from", client->me_pn_user);
    wa_node_set_attr(node, "to", user);
    wa_node_set_attr(node, "id", id);
    wa_node_t *reject = wa_node_add(node, "reject");
    wa_node_set_attr(reject, "call-id", call_id);
    wa_node_set_attr(reject, "call-creator", user);
    wa_node_set_attr(reject, "count", "0");
    free(user);
    return wa_client_send_node(client, &node) == 0 ? 0 : -1;
}

static const wa_router_route_t s_routes[] = {{"call", NULL, NULL, s_on_call},
                                             {NULL, NULL, NULL, NULL}};

const wa_client_cap_t wa_call_cap = {.name = "call", .routes = s_routes};

//  ---------------------------------------------------------------------
//  Self test

void
wa_call_test(bool verbose)
{
    printf(" * wa_call: ");
    (void)verbose;
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");

    //  An offer is acked with the call's id, from and type, and reported
    assert(wa_client_kit_handle(
               kit, "<call id=\"c1\" from=\"15550000002@s.whatsapp.net\" "
                    "t=\"1700000000\"><offer call-id=\"X\" "
                    "call-creator=\"15550000002@s.whatsapp.net\"><video/>"
                    "</offer></call>") == 0);
    wa_node_t *ack = wa_client_kit_take(kit, "ack");
    assert(ack);
    assert(wa_node_attr_eq(ack, "class", "call"));
    assert(wa_node_attr_eq(ack, "id", "c1"));
    assert(wa_node_attr_eq(ack, "to", "15550000002@s.whatsapp.net"));
    wa_node_destroy(&ack);
    assert(zlistx_size(kit->out) == 0);
    wa_client_kit_expect(kit, "call 1 X 15550000002@s.whatsapp.net video");

    //  Terminate and accept: the caller from call-creator
    assert(wa_client_kit_handle(
               kit, "<call id=\"c2\" from=\"15550000002:3@s.whatsapp.net\">"
                    "<terminate call-id=\"X\"/></call>") == 0);
    wa_client_kit_expect(kit, "call 4 X 15550000002@s.whatsapp.net");
    wa_node_destroy(&ack);
    ack = wa_client_kit_take(kit, "ack");
    wa_node_destroy(&ack);

    //  A call stanza without id cannot be acked: nothing goes out
    assert(wa_client_kit_handle(kit,
                                "<call from=\"15550000002@s.whatsapp.net\">"
                                "<transport call-id=\"X\"/></call>") == 0);
    assert(zlistx_size(kit->out) == 0);
    assert(!wa_client_kit_event(kit));
    //  Malformed: an offer without call-id
    assert(wa_client_kit_handle(kit,
                                "<call from=\"15550000002@s.whatsapp.net\">"
                                "<offer/></call>") == -1);

    //  Rejecting
    assert(wa_call_reject(kit->client, "X", "15550000002@c.us") == 0);
    wa_node_t *call = wa_client_kit_take(kit, "call");
    assert(call && wa_node_attr_eq(call, "to", "15550000002@s.whatsapp.net"));
    assert(wa_node_attr_eq(call, "from", "15550000001@s.whatsapp.net"));
    assert(wa_node_attr(call, "id"));
    const wa_node_t *reject = wa_node_child(call, "reject");
    assert(reject && wa_node_attr_eq(reject, "call-id", "X"));
    assert(
        wa_node_attr_eq(reject, "call-creator", "15550000002@s.whatsapp.net"));
    assert(wa_node_attr_eq(reject, "count", "0"));
    wa_node_destroy(&call);
    assert(wa_call_reject(kit->client, "X", "120363000000000001@g.us") == -1);
    assert(wa_call_reject(kit->client, "", "15550000002@c.us") == -1);

    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
