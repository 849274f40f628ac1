/*  sw_wagroup - WAHA shapes of groups for the WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_jid.h"

static json_t *
s_api_or_null(const char *jid)
{
    char *api = jid ? sw_wamsg_api_jid(jid) : NULL;
    json_t *out = api ? json_string(api) : json_null();
    free(api);
    return out;
}

static bool
s_is_lid(const char *jid)
{
    const char *at = jid ? strchr(jid, '@') : NULL;
    return at && strcmp(at, "@lid") == 0;
}

json_t *
sw_wagroup_participants(const wa_group_t *group)
{
    assert(group);
    json_t *out = json_array();
    size_t n = 0;
    const char *const *users = wa_group_participants(group, &n);
    for (size_t i = 0; i < n; i++) {
        const char *user = users[i];
        const char *alt = wa_group_alt(group, i);
        //  The phone number form is the id when known
        const char *pn = s_is_lid(user) ? alt : user;
        const char *lid = s_is_lid(user) ? user : alt;
        const char *id = pn ? pn : user;
        wa_group_role_t role = wa_group_role(group, i);
        const char *name = role == WA_GROUP_SUPERADMIN ? "superadmin"
                           : role == WA_GROUP_ADMIN    ? "admin"
                                                       : "participant";
        json_t *p = json_object();
        json_object_set_new(p, "id", s_api_or_null(id));
        if (lid && !cm_streq(lid, id)) {
            json_object_set_new(p, "lid", s_api_or_null(lid));
        }
        json_object_set_new(p, "role", json_string(name));
        json_object_set_new(p, "admin",
                            role == WA_GROUP_MEMBER ? json_null()
                                                    : json_string(name));
        json_object_set_new(p, "isAdmin",
                            json_boolean(role != WA_GROUP_MEMBER));
        json_object_set_new(p, "isSuperAdmin",
                            json_boolean(role == WA_GROUP_SUPERADMIN));
        json_array_append_new(out, p);
    }
    return out;
}

json_t *
sw_wagroup_json(const wa_group_t *group)
{
    assert(group);
    size_t n = 0;
    wa_group_participants(group, &n);
    json_t *out = json_object();
    json_object_set_new(out, "id", s_api_or_null(wa_group_jid(group)));
    json_object_set_new(out, "subject", json_string(wa_group_subject(group)));
    const char *desc = wa_group_description(group);
    json_object_set_new(out, "description",
                        desc ? json_string(desc) : json_null());
    json_object_set_new(out, "owner", s_api_or_null(wa_group_creator(group)));
    json_object_set_new(out, "creation",
                        json_integer(wa_group_creation(group)));
    json_object_set_new(out, "size", json_integer((json_int_t)n));
    json_object_set_new(out, "addressingMode",
                        json_string(wa_group_is_lid(group) ? "lid" : "pn"));
    json_object_set_new(out, "announce",
                        json_boolean(wa_group_announce(group)));
    json_object_set_new(out, "restrict", json_boolean(wa_group_locked(group)));
    json_object_set_new(out, "participants", sw_wagroup_participants(group));
    return out;
}

json_t *
sw_wagroup_results(const wa_node_t *reply, const char *action)
{
    const wa_node_t *node =
        reply && action ? wa_node_child(reply, action) : NULL;
    if (!node) {
        return NULL;
    }
    json_t *out = json_array();
    const wa_node_t *p = NULL;
    while ((p = wa_node_child_next(node, "participant", p))) {
        const char *jid = wa_node_attr(p, "jid");
        char *api = jid ? wa_jid_to_api(jid) : NULL;
        if (!api) {
            continue;
        }
        int64_t error = 0;
        int status = 200;
        if (wa_node_attr_int(p, "error", &error) == 0 && error != 0) {
            status = error >= 100 && error < 1000 ? (int)error : 500;
        }
        json_array_append_new(
            out, json_pack("{s:s, s:i}", "id", api, "status", status));
        free(api);
    }
    return out;
}

int
sw_wagroup_error(int code, const char *what, char **reason_p)
{
    assert(what && reason_p);
    int st = 502;
    const char *why = "WhatsApp refused the request";
    switch (code) {
    case 400:
    case 406:
        st = 400;
        why = "WhatsApp refused the request as invalid";
        break;
    case 401:
    case 403:
        st = 403;
        why = "not allowed: not a member or not an admin of the group";
        break;
    case 404:
        st = 404;
        why = "group not found";
        break;
    case 409:
        st = 422;
        why = "conflict";
        break;
    case 420:
    case 429:
        st = 429;
        why = "rate limited by WhatsApp";
        break;
    default:
        break;
    }
    *reason_p = code > 0
                    ? cm_sprintf("could not %s: %s (error %d)", what, why, code)
                    : cm_sprintf("could not %s: %s", what, why);
    return st;
}

//  --------------------------------------------------------------------

void
sw_wagroup_test(bool verbose)
{
    printf(" * sw_wagroup: ");
    (void)verbose;
    wa_node_t *reply = wa_node_new_from_text(
        "<iq type=\"result\" id=\"1\">"
        "<group id=\"120363000000000001\" subject=\"Team\" "
        "creator=\"15550001111@s.whatsapp.net\" creation=\"1700000000\" "
        "addressing_mode=\"pn\">"
        "<participant jid=\"15550001111@s.whatsapp.net\" type=\"superadmin\" "
        "lid=\"111@lid\"/>"
        "<participant jid=\"15550002222@s.whatsapp.net\"/>"
        "<locked/></group></iq>",
        NULL);
    wa_group_t *g = wa_group_parse(NULL, reply);
    assert(g);
    json_t *obj = sw_wagroup_json(g);
    char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    assert(cm_streq(
        text,
        "{\"addressingMode\":\"pn\",\"announce\":false,\"creation\":"
        "1700000000,\"description\":null,\"id\":\"120363000000000001@g.us\","
        "\"owner\":\"15550001111@c.us\",\"participants\":[{\"admin\":"
        "\"superadmin\",\"id\":\"15550001111@c.us\",\"isAdmin\":true,"
        "\"isSuperAdmin\":true,\"lid\":\"111@lid\",\"role\":\"superadmin\"},"
        "{\"admin\":null,\"id\":\"15550002222@c.us\",\"isAdmin\":false,"
        "\"isSuperAdmin\":false,\"role\":\"participant\"}],\"restrict\":true,"
        "\"size\":2,\"subject\":\"Team\"}"));
    free(text);
    json_decref(obj);
    wa_group_destroy(&g);
    wa_node_destroy(&reply);

    //  LID groups: the phone number is the id when the server gave it
    reply = wa_node_new_from_text(
        "<iq type=\"result\" id=\"1\">"
        "<group id=\"120363000000000002\" addressing_mode=\"lid\">"
        "<participant jid=\"111@lid\" phone_number="
        "\"15550001111@s.whatsapp.net\" type=\"admin\"/>"
        "<participant jid=\"222@lid\"/></group></iq>",
        NULL);
    g = wa_group_parse(NULL, reply);
    json_t *parts = sw_wagroup_participants(g);
    assert(json_array_size(parts) == 2);
    json_t *p0 = json_array_get(parts, 0);
    assert(cm_streq(json_string_value(json_object_get(p0, "id")),
                    "15550001111@c.us"));
    assert(cm_streq(json_string_value(json_object_get(p0, "lid")), "111@lid"));
    assert(cm_streq(json_string_value(json_object_get(p0, "admin")), "admin"));
    json_t *p1 = json_array_get(parts, 1);
    assert(cm_streq(json_string_value(json_object_get(p1, "id")), "222@lid"));
    assert(!json_object_get(p1, "lid"));
    json_decref(parts);
    wa_group_destroy(&g);
    wa_node_destroy(&reply);

    //  Change results
    reply = wa_node_new_from_text(
        "<iq type=\"result\" id=\"1\"><add>"
        "<participant jid=\"15550002222@s.whatsapp.net\"/>"
        "<participant jid=\"15550003333@s.whatsapp.net\" error=\"409\"/>"
        "<participant jid=\"garbage\"/>"
        "<participant jid=\"15550004444@s.whatsapp.net\" error=\"7\"/>"
        "</add></iq>",
        NULL);
    json_t *res = sw_wagroup_results(reply, "add");
    text = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
    assert(cm_streq(text, "[{\"id\":\"15550002222@c.us\",\"status\":200},"
                          "{\"id\":\"15550003333@c.us\",\"status\":409},"
                          "{\"id\":\"15550004444@c.us\",\"status\":500}]"));
    free(text);
    json_decref(res);
    assert(!sw_wagroup_results(reply, "remove"));
    wa_node_destroy(&reply);

    //  Errors
    char *reason = NULL;
    assert(sw_wagroup_error(403, "add participants", &reason) == 403);
    assert(strstr(reason, "not an admin") && strstr(reason, "error 403"));
    free(reason);
    assert(sw_wagroup_error(404, "get the group", &reason) == 404);
    free(reason);
    assert(sw_wagroup_error(406, "create the group", &reason) == 400);
    free(reason);
    assert(sw_wagroup_error(409, "x", &reason) == 422);
    free(reason);
    assert(sw_wagroup_error(500, "x", &reason) == 502);
    free(reason);
    assert(sw_wagroup_error(-1, "x", &reason) == 502);
    assert(!strstr(reason, "error -1"));
    free(reason);
    printf("OK\n");
}
