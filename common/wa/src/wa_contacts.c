/*  wa_contacts - who is on WhatsApp, their about text and picture, the
    blocklist

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_contacts.h"
#include "wa/wa_jid.h"
#include "wa_client_int.h"

//  ---------------------------------------------------------------------
//  Queries

//  A usync <iq> skeleton with the query's protocols; *list_p is its
//  <list>.
static wa_node_t *
s_usync_iq(const char *sid, const char *const *protocols, wa_node_t **list_p)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "usync");
    wa_node_set_attr(iq, "type", "get");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    wa_node_t *usync = wa_node_add(iq, "usync");
    wa_node_set_attr(usync, "sid", sid && *sid ? sid : "wharf");
    wa_node_set_attr(usync, "mode", "query");
    wa_node_set_attr(usync, "last", "true");
    wa_node_set_attr(usync, "index", "0");
    wa_node_set_attr(usync, "context", "interactive");
    wa_node_t *query = wa_node_add(usync, "query");
    for (size_t i = 0; protocols[i]; i++) {
        wa_node_add(query, protocols[i]);
    }
    *list_p = wa_node_add(usync, "list");
    return iq;
}

static bool
s_phone_ok(const char *phone)
{
    size_t n = phone ? strlen(phone) : 0;
    if (n < 6 || n > 15 || phone[0] == '0') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (phone[i] < '0' || phone[i] > '9') {
            return false;
        }
    }
    return true;
}

wa_node_t *
wa_contacts_exists_query(const char *const *phones, size_t count,
                         const char *sid)
{
    if (count == 0 || count > WA_CONTACTS_EXISTS_MAX) {
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (!s_phone_ok(phones[i])) {
            return NULL;
        }
    }
    static const char *const protocols[] = {"contact", "lid", NULL};
    wa_node_t *list = NULL;
    wa_node_t *iq = s_usync_iq(sid, protocols, &list);
    for (size_t i = 0; i < count; i++) {
        char *text = cm_sprintf("+%s", phones[i]);
        wa_node_set_string(wa_node_add(wa_node_add(list, "user"), "contact"),
                           text);
        free(text);
    }
    return iq;
}

//  The <list> of a usync result, or NULL.
static const wa_node_t *
s_usync_list(const wa_node_t *reply)
{
    const wa_node_t *usync = reply ? wa_node_child(reply, "usync") : NULL;
    return usync ? wa_node_child(usync, "list") : NULL;
}

//  The user JID of a JID text (no device), or NULL. Caller owns.
static char *
s_user(const char *text)
{
    return text ? wa_client_user_of(text) : NULL;
}

int
wa_contacts_exists_parse(const wa_node_t *reply, wa_contacts_exists_t **items_p,
                         size_t *count_p)
{
    assert(items_p && count_p);
    *items_p = NULL;
    *count_p = 0;
    const wa_node_t *list = s_usync_list(reply);
    if (!list) {
        return -1;
    }
    size_t n = 0;
    for (const wa_node_t *u = wa_node_child_next(list, "user", NULL); u;
         u = wa_node_child_next(list, "user", u)) {
        n++;
    }
    wa_contacts_exists_t *items = cm_alloc((n ? n : 1) * sizeof *items);
    size_t k = 0;
    for (const wa_node_t *u = wa_node_child_next(list, "user", NULL); u;
         u = wa_node_child_next(list, "user", u)) {
        const wa_node_t *c = wa_node_child(u, "contact");
        const char *text = c ? wa_node_text_content(c) : NULL;
        char digits[24];
        size_t len = 0;
        for (const char *p = text; p && *p && *p != '@'; p++) {
            if (*p >= '0' && *p <= '9' && len < sizeof digits - 1) {
                digits[len++] = *p;
            }
        }
        digits[len] = 0;
        if (!len) {
            continue;
        }
        wa_contacts_exists_t *item = &items[k++];
        item->phone = cm_strdup(digits);
        item->exists = c && wa_node_attr_eq(c, "type", "in");
        item->jid = item->exists ? s_user(wa_node_attr(u, "jid")) : NULL;
        const wa_node_t *lid = wa_node_child(u, "lid");
        item->lid =
            item->exists && lid ? s_user(wa_node_attr(lid, "val")) : NULL;
    }
    *items_p = items;
    *count_p = k;
    return 0;
}

void
wa_contacts_exists_free(wa_contacts_exists_t **items_p, size_t count)
{
    assert(items_p);
    wa_contacts_exists_t *items = *items_p;
    if (items) {
        for (size_t i = 0; i < count; i++) {
            free(items[i].phone);
            free(items[i].jid);
            free(items[i].lid);
        }
        free(items);
        *items_p = NULL;
    }
}

//  True when text is a person's user JID (PN or LID, no device).
static bool
s_person(const char *text)
{
    wa_jid_t *jid = text ? wa_jid_new_from(text) : NULL;
    bool ok = jid && !wa_jid_is_server(jid) &&
              (wa_jid_is_pn(jid) || wa_jid_is_lid(jid));
    wa_jid_destroy(&jid);
    return ok;
}

wa_node_t *
wa_contacts_about_query(const char *jid, const char *sid)
{
    char *user = s_person(jid) ? s_user(jid) : NULL;
    if (!user) {
        return NULL;
    }
    static const char *const protocols[] = {"status", NULL};
    wa_node_t *list = NULL;
    wa_node_t *iq = s_usync_iq(sid, protocols, &list);
    wa_node_set_attr(wa_node_add(list, "user"), "jid", user);
    free(user);
    return iq;
}

int
wa_contacts_about_parse(const wa_node_t *reply, char **text_p, int64_t *t_p)
{
    assert(text_p && t_p);
    *text_p = NULL;
    *t_p = 0;
    const wa_node_t *list = s_usync_list(reply);
    const wa_node_t *user = list ? wa_node_child(list, "user") : NULL;
    const wa_node_t *status = user ? wa_node_child(user, "status") : NULL;
    if (!status || wa_node_attr(status, "error") ||
        wa_node_attr(status, "code")) {
        return -1;
    }
    size_t len = 0;
    const uint8_t *bytes = wa_node_bytes(status, &len);
    *text_p = cm_strndup(bytes ? (const char *)bytes : "", len);
    *t_p = wa_node_attr_int_or(status, "t", 0);
    return 0;
}

wa_node_t *
wa_contacts_picture_query(const char *jid, bool preview, const char *known_id)
{
    wa_jid_t *parsed = jid ? wa_jid_new_from(jid) : NULL;
    bool ok = parsed && !wa_jid_is_server(parsed) &&
              (wa_jid_is_pn(parsed) || wa_jid_is_lid(parsed) ||
               wa_jid_is_group(parsed));
    wa_jid_destroy(&parsed);
    char *user = ok ? s_user(jid) : NULL;
    if (!user) {
        return NULL;
    }
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "w:profile:picture");
    wa_node_set_attr(iq, "type", "get");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    wa_node_set_attr(iq, "target", user);
    wa_node_t *pic = wa_node_add(iq, "picture");
    wa_node_set_attr(pic, "type", preview ? "preview" : "image");
    wa_node_set_attr(pic, "query", "url");
    if (known_id) {
        wa_node_set_attr(pic, "id", known_id);
    }
    free(user);
    return iq;
}

int
wa_contacts_picture_parse(const wa_node_t *reply, char **url_p, char **id_p)
{
    assert(url_p && id_p);
    *url_p = *id_p = NULL;
    const wa_node_t *pic = reply ? wa_node_child(reply, "picture") : NULL;
    const char *url = pic ? wa_node_attr(pic, "url") : NULL;
    if (!url || strlen(url) > 4096) {
        return -1;
    }
    *url_p = cm_strdup(url);
    *id_p = cm_strdup(wa_node_attr_or(pic, "id", ""));
    return 0;
}

wa_node_t *
wa_contacts_block_iq(const char *jid, const char *pn_jid, bool block)
{
    char *user = s_person(jid) ? s_user(jid) : NULL;
    if (!user || (pn_jid && !s_person(pn_jid))) {
        free(user);
        return NULL;
    }
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "blocklist");
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    wa_node_t *item = wa_node_add(iq, "item");
    wa_node_set_attr(item, "action", block ? "block" : "unblock");
    wa_node_set_attr(item, "jid", user);
    if (block && pn_jid) {
        char *pn = s_user(pn_jid);
        wa_node_set_attr(item, "pn_jid", pn);
        free(pn);
    }
    free(user);
    return iq;
}

wa_node_t *
wa_contacts_blocklist_query(void)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "blocklist");
    wa_node_set_attr(iq, "type", "get");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    return iq;
}

char **
wa_contacts_blocklist_parse(const wa_node_t *reply, size_t *count_p)
{
    assert(count_p);
    const wa_node_t *list = reply ? wa_node_child(reply, "list") : NULL;
    size_t n = 0;
    for (const wa_node_t *i = wa_node_child_next(list, "item", NULL); i;
         i = wa_node_child_next(list, "item", i)) {
        n++;
    }
    char **out = cm_alloc((n + 1) * sizeof *out);
    size_t k = 0;
    for (const wa_node_t *i = wa_node_child_next(list, "item", NULL); i;
         i = wa_node_child_next(list, "item", i)) {
        const char *pn = wa_node_attr(i, "pn_jid");
        char *user = s_user(pn ? pn : wa_node_attr(i, "jid"));
        if (user) {
            out[k++] = user;
        }
    }
    *count_p = k;
    return out;
}

//  ---------------------------------------------------------------------
//  Capability: picture change notifications

static int
s_on_picture(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    //  <set jid id/>, <delete jid/>, <request jid/>; the core acks it
    const wa_node_t *what = wa_node_child(node, NULL);
    const char *jid = what ? wa_node_attr(what, "jid") : NULL;
    char *user = s_user(jid ? jid : wa_node_attr(node, "from"));
    if (!user) {
        return -1;
    }
    wa_client_event_t ev = {.type = WA_CLIENT_EVENT_PICTURE};
    ev.u.picture.jid = user;
    ev.u.picture.id =
        what && wa_node_is(what, "set") ? wa_node_attr(what, "id") : NULL;
    wa_client_emit(self, &ev);
    //  A group's picture is a change of the group too: its owner turns
    //  the notification (type "picture") into group.v2.update
    if (what && strstr(user, "@g.us")) {
        char *actor = s_user(wa_node_attr(node, "participant"));
        if (!actor) {
            actor = s_user(wa_node_attr(what, "author"));
        }
        wa_client_event_t gev = {.type = WA_CLIENT_EVENT_GROUP};
        gev.u.group.id = wa_node_attr_or(node, "id", "");
        gev.u.group.group = user;
        gev.u.group.actor = actor;
        gev.u.group.timestamp = wa_node_attr_int_or(node, "t", 0);
        gev.u.group.node = node;
        wa_client_emit(self, &gev);
        free(actor);
    }
    free(user);
    return 0;
}

static const wa_router_route_t s_routes[] = {
    {"notification", "type", "picture", s_on_picture},
    {NULL, NULL, NULL, NULL}};

const wa_client_cap_t wa_contacts_cap = {.name = "contacts",
                                         .routes = s_routes};

//  ---------------------------------------------------------------------
//  Self test

void
wa_contacts_test(bool verbose)
{
    printf(" * wa_contacts: ");
    (void)verbose;
    //  Exists: numbers checked, '+' added, contact and lid protocols
    const char *phones[] = {"15551234567", "4915112345678"};
    wa_node_t *iq = wa_contacts_exists_query(phones, 2, "S1");
    assert(iq && wa_node_attr_eq(iq, "xmlns", "usync"));
    const wa_node_t *usync = wa_node_child(iq, "usync");
    assert(wa_node_attr_eq(usync, "context", "interactive"));
    assert(wa_node_attr_eq(usync, "sid", "S1"));
    assert(wa_node_find(usync, "query/contact"));
    assert(wa_node_find(usync, "query/lid"));
    const wa_node_t *c = wa_node_find(usync, "list/user/contact");
    assert(c && cm_streq(wa_node_text_content(c), "+15551234567"));
    wa_node_destroy(&iq);
    const char *bad[] = {"12ab"};
    assert(!wa_contacts_exists_query(bad, 1, NULL));
    assert(!wa_contacts_exists_query(phones, 0, NULL));

    wa_node_t *reply = wa_node_new_from_text(
        "<iq type=\"result\"><usync><list>"
        "<user jid=\"15551234567@s.whatsapp.net\"><contact type=\"in\">"
        "+15551234567</contact><lid val=\"123456789012345@lid\"/></user>"
        "<user><contact type=\"out\">+4915112345678</contact></user>"
        "</list></usync></iq>",
        NULL);
    assert(reply);
    wa_contacts_exists_t *items = NULL;
    size_t n = 0;
    assert(wa_contacts_exists_parse(reply, &items, &n) == 0 && n == 2);
    assert(cm_streq(items[0].phone, "15551234567") && items[0].exists);
    assert(cm_streq(items[0].jid, "15551234567@s.whatsapp.net"));
    assert(cm_streq(items[0].lid, "123456789012345@lid"));
    assert(cm_streq(items[1].phone, "4915112345678") && !items[1].exists);
    assert(!items[1].jid && !items[1].lid);
    wa_contacts_exists_free(&items, n);
    wa_node_destroy(&reply);
    assert(wa_contacts_exists_parse(NULL, &items, &n) == -1);

    //  About
    iq = wa_contacts_about_query("15551234567:3@s.whatsapp.net", NULL);
    assert(iq && wa_node_find(iq, "usync/query/status"));
    assert(wa_node_attr_eq(wa_node_find(iq, "usync/list/user"), "jid",
                           "15551234567@s.whatsapp.net"));
    wa_node_destroy(&iq);
    assert(!wa_contacts_about_query("120363000000000001@g.us", NULL));
    reply = wa_node_new_from_text(
        "<iq><usync><list><user jid=\"15551234567@s.whatsapp.net\">"
        "<status t=\"1700000000\">Busy</status></user></list></usync></iq>",
        NULL);
    char *text = NULL;
    int64_t t = 0;
    assert(wa_contacts_about_parse(reply, &text, &t) == 0);
    assert(cm_streq(text, "Busy") && t == 1700000000);
    free(text);
    wa_node_destroy(&reply);

    //  Picture
    iq = wa_contacts_picture_query("15551234567@s.whatsapp.net", true, "77");
    assert(iq && wa_node_attr_eq(iq, "target", "15551234567@s.whatsapp.net"));
    const wa_node_t *pic = wa_node_child(iq, "picture");
    assert(wa_node_attr_eq(pic, "type", "preview"));
    assert(wa_node_attr_eq(pic, "query", "url"));
    assert(wa_node_attr_eq(pic, "id", "77"));
    wa_node_destroy(&iq);
    assert(!wa_contacts_picture_query("nonsense", false, NULL));
    reply = wa_node_new_from_text(
        "<iq><picture id=\"88\" url=\"https://h/p.jpg\"/></iq>", NULL);
    char *url = NULL;
    char *id = NULL;
    assert(wa_contacts_picture_parse(reply, &url, &id) == 0);
    assert(cm_streq(url, "https://h/p.jpg") && cm_streq(id, "88"));
    free(url);
    free(id);
    wa_node_destroy(&reply);

    //  Blocklist
    iq = wa_contacts_block_iq("123456789012345@lid",
                              "15551234567@s.whatsapp.net", true);
    const wa_node_t *item = wa_node_child(iq, "item");
    assert(wa_node_attr_eq(item, "action", "block"));
    assert(wa_node_attr_eq(item, "jid", "123456789012345@lid"));
    assert(wa_node_attr_eq(item, "pn_jid", "15551234567@s.whatsapp.net"));
    wa_node_destroy(&iq);
    iq = wa_contacts_block_iq("15551234567@s.whatsapp.net", NULL, false);
    item = wa_node_child(iq, "item");
    assert(wa_node_attr_eq(item, "action", "unblock"));
    assert(!wa_node_attr(item, "pn_jid"));
    wa_node_destroy(&iq);
    assert(!wa_contacts_block_iq("x", NULL, true));
    reply = wa_node_new_from_text(
        "<iq><list><item jid=\"123456789012345@lid\" "
        "pn_jid=\"15551234567@s.whatsapp.net\"/><item "
        "jid=\"15557654321@s.whatsapp.net\"/></list></iq>",
        NULL);
    char **blocked = wa_contacts_blocklist_parse(reply, &n);
    assert(n == 2 && cm_streq(blocked[0], "15551234567@s.whatsapp.net"));
    assert(cm_streq(blocked[1], "15557654321@s.whatsapp.net"));
    for (size_t i = 0; i < n; i++) {
        free(blocked[i]);
    }
    free(blocked);
    wa_node_destroy(&reply);

    //  A picture notification becomes an event
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    assert(wa_client_kit_handle(kit,
                                "<notification type=\"picture\" id=\"n1\" "
                                "from=\"15550000002@s.whatsapp.net\"><set "
                                "jid=\"15550000002@s.whatsapp.net\" id=\"9\"/>"
                                "</notification>") == 0);
    wa_client_kit_expect(kit, "picture 15550000002@s.whatsapp.net 9");
    wa_node_t *ack = wa_client_kit_take(kit, "ack");
    assert(ack && wa_node_attr_eq(ack, "id", "n1"));
    wa_node_destroy(&ack);
    //  A group's picture: the picture event, then a group event
    assert(wa_client_kit_handle(
               kit, "<notification type=\"picture\" id=\"n2\" t=\"1700000000\" "
                    "from=\"120363000000000001@g.us\" "
                    "participant=\"15550000002@s.whatsapp.net\"><delete "
                    "jid=\"120363000000000001@g.us\"/></notification>") == 0);
    wa_client_kit_expect(kit, "picture 120363000000000001@g.us -");
    wa_client_kit_expect(
        kit,
        "group n2 120363000000000001@g.us 15550000002@s.whatsapp.net delete");
    ack = wa_client_kit_take(kit, "ack");
    assert(ack && wa_node_attr_eq(ack, "id", "n2"));
    wa_node_destroy(&ack);
    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
