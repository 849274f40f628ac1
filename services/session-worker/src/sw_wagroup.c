/*  sw_wagroup - the groups capability of the WhatsApp engine: its
    commands and WAHA's shapes of groups

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
//  Commands: each one is one w:g2 IQ; its reply (or failure) answers it

typedef enum {
    S_GROUP_CREATE,
    S_GROUP_GET,
    S_GROUP_LIST,
    S_GROUP_CHANGE
} s_group_op_t;

//  A group IQ in flight; its command is held in the session under key.
typedef struct {
    sw_wasess_t *sess; //  the session
    char *key;         //  where the command is held
    s_group_op_t op;   //  what was asked
    char *group;       //  group JID (get, change)
    char *action;      //  change: add, remove, promote, demote
} s_group_call_t;

static const char *
s_group_what(s_group_op_t op)
{
    switch (op) {
    case S_GROUP_CREATE:
        return "create the group";
    case S_GROUP_GET:
        return "get the group";
    case S_GROUP_LIST:
        return "list the groups";
    case S_GROUP_CHANGE:
        break;
    }
    return "change the participants";
}

static void
s_group_call_free(s_group_call_t **call_p)
{
    s_group_call_t *call = *call_p;
    free(call->key);
    free(call->group);
    free(call->action);
    free(call);
    *call_p = NULL;
}

//  The answer to a successful IQ. Returns the body, or NULL with *st_p
//  and *reason_p (caller owns) set.
static json_t *
s_group_result(s_group_call_t *call, const wa_node_t *reply, int *st_p,
               char **reason_p)
{
    *st_p = 502;
    if (call->op == S_GROUP_LIST) {
        json_t *list = json_array();
        const wa_node_t *groups = wa_node_child(reply, "groups");
        const wa_node_t *g = NULL;
        while ((g = wa_node_child_next(groups, "group", g))) {
            wa_group_t *group = wa_group_parse_node(g);
            if (group) {
                json_array_append_new(list, sw_wagroup_json(group));
                wa_group_destroy(&group);
            }
        }
        return json_pack("{s:o}", "groups", list);
    }
    if (call->op == S_GROUP_CHANGE) {
        json_t *results = sw_wagroup_results(reply, call->action);
        if (!results) {
            *reason_p = cm_strdup("WhatsApp sent no participant results");
            return NULL;
        }
        //  Our next send to the group must see the new members; after a
        //  removal, with a new sender key the removed ones do not have
        wa_client_t *client = sw_wasess_client(call->sess);
        if (cm_streq(call->action, "remove")) {
            wa_client_rotate_group_key(client, call->group);
        } else {
            wa_client_forget_group(client, call->group);
        }
        return json_pack("{s:o}", "participants", results);
    }
    wa_group_t *group = wa_group_parse(call->group, reply);
    if (!group) {
        *reason_p = cm_strdup("WhatsApp sent no group");
        return NULL;
    }
    json_t *body = sw_wagroup_json(group);
    wa_group_destroy(&group);
    return body;
}

static void
s_group_reply(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_group_call_t *call = (s_group_call_t *)arg;
    const char *what = s_group_what(call->op);
    int st = 200;
    char *reason = NULL;
    json_t *body = NULL;
    if (outcome == WA_IQ_RESULT) {
        body = s_group_result(call, reply, &st, &reason);
    } else if (outcome == WA_IQ_ERROR) {
        st = sw_wagroup_error(wa_iq_error_code(reply), what, &reason);
    } else if (outcome == WA_IQ_TIMEOUT) {
        st = 504;
        reason =
            cm_sprintf("could not %s: WhatsApp did not answer in time", what);
    } else {
        st = 503;
        reason = cm_sprintf("could not %s: the connection to WhatsApp was "
                            "lost",
                            what);
    }
    //  NULL when the command was answered at its deadline already
    sw_cmd_t *cmd = sw_wasess_release(call->sess, call->key, NULL);
    if (!cmd) {
        json_decref(body);
    } else if (body) {
        sw_cmd_reply(&cmd, 200, NULL, &body);
    } else if (st == 404) {
        //  Not the session: the gateway tells the two 404s apart by this
        json_t *missing = json_pack("{s:s}", "missing", "group");
        sw_cmd_reply(&cmd, st, reason, &missing);
    } else {
        cm_log_warn("group request failed",
                    "session=\"%s\" what=\"%s\" "
                    "status=%d",
                    sw_wasess_name(call->sess), what, st);
        sw_cmd_reply(&cmd, st, reason, NULL);
    }
    free(reason);
    s_group_call_free(&call);
}

//  Hold the command and send the IQ (taken) for it; the reply answers it.
static void
s_group_send(sw_wasess_t *sess, sw_cmd_t **cmd_p, s_group_op_t op,
             wa_node_t **iq_p, const char *group, const char *action)
{
    s_group_call_t *call = cm_alloc(sizeof *call);
    call->sess = sess;
    call->op = op;
    call->group = group ? cm_strdup(group) : NULL;
    call->action = action ? cm_strdup(action) : NULL;
    char *late = cm_sprintf("could not %s: WhatsApp did not answer in time",
                            s_group_what(op));
    call->key = cm_strdup(sw_wasess_hold(sess, cmd_p, NULL, late, NULL));
    free(late);
    if (wa_client_iq(sw_wasess_client(sess), iq_p, s_group_reply, call) != 0) {
        wa_node_destroy(iq_p);
        sw_cmd_t *cmd = sw_wasess_release(sess, call->key, NULL);
        sw_cmd_reply(&cmd, 409,
                     "Session status is not as expected: "
                     "not connected to WhatsApp",
                     NULL);
        s_group_call_free(&call);
    }
}

//  The `participants` of a request as wire user JIDs, without ours and
//  duplicates. Returns the count, or -1 after a 400.
static int
s_group_people(sw_wasess_t *sess, sw_cmd_t **cmd_p, bool allow_none,
               char ***out_p)
{
    json_t *list =
        json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), "participants");
    size_t n = json_array_size(list);
    if (!json_is_array(list) || (!allow_none && n == 0) ||
        n > WA_GROUP_MAX_PARTICIPANTS) {
        sw_cmd_reply(cmd_p, 400, "participants must be an array of chat ids",
                     NULL);
        return -1;
    }
    char **out = cm_alloc((n ? n : 1) * sizeof *out);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_array_get(list, i));
        char *wire = text ? wa_jid_normalize(text) : NULL;
        char *api = wire ? wa_jid_to_api(wire) : NULL;
        wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
        bool person = jid && !wa_jid_is_server(jid) &&
                      wa_jid_device(jid) == 0 &&
                      (wa_jid_is_pn(jid) || wa_jid_is_lid(jid));
        wa_jid_destroy(&jid);
        if (!person) {
            free(api);
            free(wire);
            for (size_t k = 0; k < count; k++) {
                free(out[k]);
            }
            free(out);
            char *reason = cm_sprintf("participants[%zu] is not a person's "
                                      "chat id",
                                      i);
            sw_cmd_reply(cmd_p, 400, reason, NULL);
            free(reason);
            return -1;
        }
        bool skip = cm_streq(api, sw_wasess_me_id(sess)) ||
                    cm_streq(api, sw_wasess_me_lid(sess));
        for (size_t k = 0; k < count && !skip; k++) {
            skip = cm_streq(out[k], wire);
        }
        if (skip) {
            free(wire);
        } else {
            out[count++] = wire;
        }
        free(api);
    }
    *out_p = out;
    return (int)count;
}

static void
s_free_people(char **people, int count)
{
    for (int i = 0; i < count; i++) {
        free(people[i]);
    }
    free(people);
}

//  The request's group `id` as a group JID; NULL after a 400.
static char *
s_group_id(sw_cmd_t **cmd_p)
{
    const char *id = cm_msg_str(sw_cmd_request(*cmd_p), "id");
    wa_jid_t *jid = id ? wa_jid_new_from(id) : NULL;
    char *out = NULL;
    if (jid && wa_jid_is_group(jid) && !wa_jid_is_server(jid)) {
        out = cm_strdup(wa_jid_str(jid));
    } else {
        sw_cmd_reply(cmd_p, 400,
                     "id must be a group id such as "
                     "120363000000000000@g.us",
                     NULL);
    }
    wa_jid_destroy(&jid);
    return out;
}

void
sw_wagroup_list(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    wa_node_t *iq = wa_group_participating();
    s_group_send(sess, cmd_p, S_GROUP_LIST, &iq, NULL, NULL);
}

void
sw_wagroup_create(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *subject = cm_msg_str(sw_cmd_request(*cmd_p), "subject");
    char **people = NULL;
    int n = s_group_people(sess, cmd_p, true, &people);
    if (n < 0) {
        return;
    }
    wa_node_t *iq =
        wa_group_create(subject, (const char *const *)people, (size_t)n);
    s_free_people(people, n);
    if (!iq) {
        sw_cmd_reply(cmd_p, 400, "subject must be 1 to 100 characters", NULL);
        return;
    }
    s_group_send(sess, cmd_p, S_GROUP_CREATE, &iq, NULL, NULL);
}

void
sw_wagroup_get(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    char *group = s_group_id(cmd_p);
    if (group) {
        wa_node_t *iq = wa_group_query(group);
        s_group_send(sess, cmd_p, S_GROUP_GET, &iq, group, NULL);
        free(group);
    }
}

void
sw_wagroup_change(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *action = cm_msg_str(sw_cmd_request(*cmd_p), "action");
    if (!cm_streq(action, "add") && !cm_streq(action, "remove") &&
        !cm_streq(action, "promote") && !cm_streq(action, "demote")) {
        sw_cmd_reply(cmd_p, 400,
                     "action must be one of: add, remove, "
                     "promote, demote",
                     NULL);
        return;
    }
    char *group = s_group_id(cmd_p);
    if (!group) {
        return;
    }
    char **people = NULL;
    int n = s_group_people(sess, cmd_p, false, &people);
    if (n >= 0) {
        wa_node_t *iq =
            n ? wa_group_change(group, action, (const char *const *)people,
                                (size_t)n)
              : NULL;
        if (iq) {
            s_group_send(sess, cmd_p, S_GROUP_CHANGE, &iq, group, action);
        } else {
            sw_cmd_reply(cmd_p, 400,
                         "participants must name someone "
                         "other than this account",
                         NULL);
        }
        s_free_people(people, n);
    }
    free(group);
}

//  --------------------------------------------------------------------
//  Self test

static const sw_wacmd_t t_table[] = {
    SW_WAGROUP_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

//  Call the handler directly (past the WORKING check) with body (taken):
//  a 400 whose reason holds `reason`.
static void
t_expect(sw_wasess_rig_t *rig, sw_wacmd_fn *handler, json_t *body,
         const char *reason)
{
    sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, "group.test", body);
    handler(sw_wasess_rig_sess(rig), &cmd);
    assert(!cmd);
    cm_msg_t *reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), reason));
    cm_msg_destroy(&reply);
}

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

    //  Commands: WORKING first, then the request is checked before any
    //  IQ goes out (the IQs themselves run against wa-sim in
    //  test_engine_groups)
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_wasess_set_me(sess, "15550001111@c.us", "111@lid", NULL);
    cm_msg_t *answer = sw_wasess_rig_call(rig, "group.list", NULL, 1000);
    assert(answer && cm_msg_status(answer) == 409);
    cm_msg_destroy(&answer);
    t_expect(rig, sw_wagroup_get, json_pack("{s:s}", "id", "15550002222"),
             "id must be a group id");
    t_expect(rig, sw_wagroup_change,
             json_pack("{s:s, s:s}", "id", "120363000000000001@g.us", "action",
                       "kick"),
             "action must be one of");
    t_expect(rig, sw_wagroup_change,
             json_pack("{s:s, s:s, s:[s,s]}", "id", "120363000000000001@g.us",
                       "action", "add", "participants", "15550002222@c.us",
                       "x@g.us"),
             "participants[1] is not a person's chat id");
    t_expect(rig, sw_wagroup_change,
             json_pack("{s:s, s:s, s:[s,s]}", "id", "120363000000000001@g.us",
                       "action", "add", "participants", "15550001111@c.us",
                       "111@lid"),
             "participants must name someone other than this account");
    t_expect(rig, sw_wagroup_create,
             json_pack("{s:s, s:s}", "subject", "x", "participants", "no"),
             "participants must be an array of chat ids");
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
