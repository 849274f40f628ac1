/*  wa_presence - presence and chat state, both ways

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h). It routes

        <presence>    a contact's presence: PRESENCE event (available, or
                      unavailable with the last seen time when shown)
        <chatstate>   a contact typing, recording or pausing in a chat
                      with us or in a group: PRESENCE event

    and sends ours (include/wa/wa_presence.h). Neither stanza is acked
    (the server expects no answer). Nothing is kept: the owner keeps the
    last known presences.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_jid.h"
#include "wa/wa_presence.h"
#include "wa_client_int.h"

//  Last seen times before this (2001) or after this (2200) are noise.
#define S_LAST_MIN 1000000000LL
#define S_LAST_MAX 7258118400LL

//  The user JID (no device) of `text` when it names a person (PN or
//  LID), else NULL. Caller owns return value.
static char *
s_user(const char *text)
{
    wa_jid_t *jid = text ? wa_jid_new_from(text) : NULL;
    bool person = jid && (wa_jid_is_pn(jid) || wa_jid_is_lid(jid)) &&
                  !wa_jid_is_server(jid);
    wa_jid_destroy(&jid);
    return person ? wa_client_user_of(text) : NULL;
}

static void
s_emit(wa_client_t *self, const char *chat, const char *participant,
       const char *state, int64_t last_seen)
{
    wa_client_event_t ev = {.type = WA_CLIENT_EVENT_PRESENCE};
    ev.u.presence.chat = chat;
    ev.u.presence.participant = participant;
    ev.u.presence.state = state;
    ev.u.presence.last_seen = last_seen;
    wa_client_emit(self, &ev);
}

static int
s_on_presence(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const char *type = wa_node_attr(node, "type");
    char *user = s_user(wa_node_attr(node, "from"));
    if (!user) {
        cm_log_debug("presence without a user", "session=%s",
                     wa_client_name(self));
        return -1;
    }
    int rc = 0;
    if (!type || cm_streq(type, "available")) {
        s_emit(self, user, user, "available", 0);
    } else if (cm_streq(type, "unavailable")) {
        //  `last` is seconds, or "deny" when the contact hides it
        int64_t last = 0;
        if (wa_node_attr_int(node, "last", &last) != 0 || last < S_LAST_MIN ||
            last > S_LAST_MAX) {
            last = 0;
        }
        s_emit(self, user, user, "unavailable", last);
    } else {
        //  error answers to a subscribe, and what we do not know
        cm_log_debug("presence of another type", "session=%s type=%s",
                     wa_client_name(self), type);
    }
    free(user);
    return rc;
}

static int
s_on_chatstate(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const char *from = wa_node_attr(node, "from");
    const wa_node_t *what = wa_node_child_at(node, 0);
    wa_jid_t *jid = from ? wa_jid_new_from(from) : NULL;
    bool group = jid && wa_jid_is_group(jid);
    wa_jid_destroy(&jid);
    char *chat = group ? wa_client_user_of(from) : s_user(from);
    char *participant =
        group ? s_user(wa_node_attr(node, "participant")) : NULL;
    const char *state = NULL;
    if (what && wa_node_is(what, "composing")) {
        state =
            wa_node_attr_eq(what, "media", "audio") ? "recording" : "composing";
    } else if (what && wa_node_is(what, "paused")) {
        state = "paused";
    }
    int rc = -1;
    if (chat && state && (!group || participant)) {
        //  Our own account typing on another device is no news
        bool ours = cm_streq(group ? participant : chat, self->me_pn_user) ||
                    (self->me_lid_user &&
                     cm_streq(group ? participant : chat, self->me_lid_user));
        if (!ours) {
            s_emit(self, chat, group ? participant : chat, state, 0);
        }
        rc = 0;
    } else {
        cm_log_debug("chatstate not understood", "session=%s from=%s",
                     wa_client_name(self), from ? from : "");
    }
    free(participant);
    free(chat);
    return rc;
}

int
wa_presence_set(wa_client_t *client, bool available)
{
    if (!wa_client_ready(client)) {
        return -1;
    }
    wa_node_t *p = wa_node_new("presence");
    wa_node_set_attr(p, "type", available ? "available" : "unavailable");
    if (client->push_name && *client->push_name) {
        wa_node_set_attr(p, "name", client->push_name);
    }
    return wa_client_send_node(client, &p);
}

int
wa_presence_subscribe(wa_client_t *client, const char *jid)
{
    if (!wa_client_ready(client) || !jid) {
        return -1;
    }
    char *wire = wa_jid_normalize(jid);
    char *user = wire ? s_user(wire) : NULL;
    free(wire);
    if (!user) {
        return -1;
    }
    wa_node_t *p = wa_node_new("presence");
    wa_node_set_attr(p, "type", "subscribe");
    wa_node_set_attr(p, "to", user);
    free(user);
    return wa_client_send_node(client, &p);
}

int
wa_presence_chatstate(wa_client_t *client, const char *chat,
                      wa_presence_chatstate_t state)
{
    if (!wa_client_ready(client) || !chat || state < WA_PRESENCE_COMPOSING ||
        state > WA_PRESENCE_PAUSED) {
        return -1;
    }
    char *wire = wa_jid_normalize(chat);
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    bool ok = jid && !wa_jid_is_server(jid) &&
              (wa_jid_is_group(jid) || wa_jid_is_pn(jid) || wa_jid_is_lid(jid));
    char *to = ok ? wa_client_user_of(wire) : NULL;
    wa_jid_destroy(&jid);
    free(wire);
    if (!to) {
        return -1;
    }
    wa_node_t *cs = wa_node_new("chatstate");
    wa_node_set_attr(cs, "to", to);
    free(to);
    wa_node_t *kind =
        wa_node_add(cs, state == WA_PRESENCE_PAUSED ? "paused" : "composing");
    if (state == WA_PRESENCE_RECORDING) {
        wa_node_set_attr(kind, "media", "audio");
    }
    return wa_client_send_node(client, &cs);
}

static const wa_router_route_t s_routes[] = {
    {"presence", NULL, NULL, s_on_presence},
    {"chatstate", NULL, NULL, s_on_chatstate},
    {NULL, NULL, NULL, NULL}};

const wa_client_cap_t wa_presence_cap = {.name = "presence",
                                         .routes = s_routes};

//  ---------------------------------------------------------------------
//  Self test

void
wa_presence_test(bool verbose)
{
    printf(" * wa_presence: ");
    (void)verbose;
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *client = kit->client;

    //  Incoming presence: available, unavailable with and without last
    assert(wa_client_kit_handle(
               kit, "<presence from=\"15550000002@s.whatsapp.net\"/>") == 0);
    wa_client_kit_expect(kit, "presence 15550000002@s.whatsapp.net "
                              "15550000002@s.whatsapp.net available 0");
    assert(wa_client_kit_handle(
               kit, "<presence from=\"15550000002:3@s.whatsapp.net\" "
                    "type=\"unavailable\" last=\"1700000000\"/>") == 0);
    wa_client_kit_expect(kit, "presence 15550000002@s.whatsapp.net "
                              "15550000002@s.whatsapp.net unavailable "
                              "1700000000");
    assert(wa_client_kit_handle(kit,
                                "<presence from=\"123456789012@lid\" "
                                "type=\"unavailable\" last=\"deny\"/>") == 0);
    wa_client_kit_expect(kit, "presence 123456789012@lid 123456789012@lid "
                              "unavailable 0");
    //  Answers we do not use, and hostile ones
    assert(wa_client_kit_handle(kit, "<presence from=\"15550000002@s."
                                     "whatsapp.net\" type=\"error\"/>") == 0);
    assert(wa_client_kit_handle(kit, "<presence/>") == -1);
    assert(wa_client_kit_handle(kit, "<presence from=\"@s.whatsapp.net\"/>") ==
           -1);
    assert(wa_client_kit_handle(kit, "<presence from=\"12036300000000000"
                                     "1@g.us\"/>") == -1);
    assert(zlistx_size(kit->events) == 0);

    //  Chat states: 1:1 and in a group
    assert(wa_client_kit_handle(
               kit, "<chatstate from=\"15550000002@s.whatsapp.net\">"
                    "<composing/></chatstate>") == 0);
    wa_client_kit_expect(kit, "presence 15550000002@s.whatsapp.net "
                              "15550000002@s.whatsapp.net composing 0");
    assert(wa_client_kit_handle(
               kit, "<chatstate from=\"15550000002@s.whatsapp.net\">"
                    "<composing media=\"audio\"/></chatstate>") == 0);
    wa_client_kit_expect(kit, "presence 15550000002@s.whatsapp.net "
                              "15550000002@s.whatsapp.net recording 0");
    assert(wa_client_kit_handle(
               kit, "<chatstate from=\"120363000000000001@g.us\" "
                    "participant=\"15550000003@s.whatsapp.net\"><paused/>"
                    "</chatstate>") == 0);
    wa_client_kit_expect(kit, "presence 120363000000000001@g.us "
                              "15550000003@s.whatsapp.net paused 0");
    //  Ours from another device: nothing
    assert(wa_client_kit_handle(
               kit, "<chatstate from=\"15550000001@s.whatsapp.net\">"
                    "<composing/></chatstate>") == 0);
    assert(zlistx_size(kit->events) == 0);
    //  Malformed: no child, unknown child, a group without participant
    assert(wa_client_kit_handle(kit, "<chatstate from=\"15550000002@s."
                                     "whatsapp.net\"/>") == -1);
    assert(wa_client_kit_handle(
               kit, "<chatstate from=\"15550000002@s.whatsapp.net\">"
                    "<dancing/></chatstate>") == -1);
    assert(wa_client_kit_handle(kit,
                                "<chatstate from=\"120363000000000001@g.us\">"
                                "<paused/></chatstate>") == -1);
    assert(zlistx_size(kit->events) == 0);
    //  Nothing was answered
    assert(zlistx_size(kit->out) == 0);

    //  Outgoing
    assert(wa_presence_set(client, false) == 0);
    wa_node_t *p = wa_client_kit_take(kit, "presence");
    assert(p && wa_node_attr_eq(p, "type", "unavailable"));
    wa_node_destroy(&p);
    wa_client_set_push_name(client, "Alice");
    p = wa_client_kit_take(kit, "presence");
    wa_node_destroy(&p);
    assert(wa_presence_set(client, true) == 0);
    p = wa_client_kit_take(kit, "presence");
    assert(p && wa_node_attr_eq(p, "type", "available"));
    assert(wa_node_attr_eq(p, "name", "Alice"));
    wa_node_destroy(&p);
    assert(wa_presence_subscribe(client, "15550000002@c.us") == 0);
    p = wa_client_kit_take(kit, "presence");
    assert(p && wa_node_attr_eq(p, "type", "subscribe"));
    assert(wa_node_attr_eq(p, "to", "15550000002@s.whatsapp.net"));
    wa_node_destroy(&p);
    assert(wa_presence_subscribe(client, "120363000000000001@g.us") == -1);
    assert(wa_presence_subscribe(client, "nonsense") == -1);
    assert(wa_presence_chatstate(client, "15550000002@c.us",
                                 WA_PRESENCE_COMPOSING) == 0);
    wa_node_t *cs = wa_client_kit_take(kit, "chatstate");
    assert(cs && wa_node_attr_eq(cs, "to", "15550000002@s.whatsapp.net"));
    assert(wa_node_is(wa_node_child_at(cs, 0), "composing"));
    assert(!wa_node_attr(wa_node_child_at(cs, 0), "media"));
    wa_node_destroy(&cs);
    assert(wa_presence_chatstate(client, "120363000000000001@g.us",
                                 WA_PRESENCE_RECORDING) == 0);
    cs = wa_client_kit_take(kit, "chatstate");
    assert(cs && wa_node_attr_eq(cs, "to", "120363000000000001@g.us"));
    assert(wa_node_attr_eq(wa_node_child_at(cs, 0), "media", "audio"));
    wa_node_destroy(&cs);
    assert(wa_presence_chatstate(client, "15550000002@c.us",
                                 WA_PRESENCE_PAUSED) == 0);
    cs = wa_client_kit_take(kit, "chatstate");
    assert(cs && wa_node_is(wa_node_child_at(cs, 0), "paused"));
    wa_node_destroy(&cs);
    assert(wa_presence_chatstate(client, "status@broadcast",
                                 WA_PRESENCE_PAUSED) == -1);
    assert(wa_presence_chatstate(client, "15550000002@c.us",
                                 (wa_presence_chatstate_t)9) == -1);
    assert(zlistx_size(kit->out) == 0);

    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
