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

//  User JID (no device) of a JID naming a person, or NULL. Caller owns.
static char *
s_user_of(const char *text)
{
    wa_jid_t *jid = text ? wa_jid_new_from(text) : NULL;
    char *out = NULL;
    if (jid && !wa_jid_is_server(jid) &&
        (wa_jid_is_pn(jid) || wa_jid_is_lid(jid))) {
        wa_jid_t *u = wa_jid_new_parts(wa_jid_user(jid), wa_jid_server(jid), 0);
        out = u ? cm_strdup(wa_jid_str(u)) : NULL;
        wa_jid_destroy(&u);
    }
    wa_jid_destroy(&jid);
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
    //  The owner's number when the group names it by LID
    const char *owner = wa_group_creator_pn(group);
    json_object_set_new(out, "owner",
                        s_api_or_null(owner ? owner : wa_group_creator(group)));
    json_object_set_new(out, "creation",
                        json_integer(wa_group_creation(group)));
    json_object_set_new(out, "size", json_integer((json_int_t)n));
    json_object_set_new(out, "addressingMode",
                        json_string(wa_group_is_lid(group) ? "lid" : "pn"));
    json_object_set_new(out, "announce",
                        json_boolean(wa_group_announce(group)));
    json_object_set_new(out, "restrict", json_boolean(wa_group_locked(group)));
    json_object_set_new(out, "approval",
                        json_boolean(wa_group_approval(group)));
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
//  Commands: each one is a w:g2 IQ (description and participant changes
//  read the group first); its reply (or failure) answers it

typedef enum {
    S_GROUP_CREATE,
    S_GROUP_GET,
    S_GROUP_LIST,
    S_GROUP_CHANGE,
    S_GROUP_CHECK,     //  metadata read before remove/promote/demote
    S_GROUP_INVITE,    //  invite code
    S_GROUP_REVOKE,    //  new invite code
    S_GROUP_JOIN_INFO, //  what an invite leads to
    S_GROUP_JOIN,      //  join by invite
    S_GROUP_LEAVE,     //  leave
    S_GROUP_SUBJECT,   //  set the subject
    S_GROUP_DESC_READ, //  metadata read before setting the description
    S_GROUP_DESC,      //  set the description
    S_GROUP_SETTING,   //  announcement / locked
    S_GROUP_PICTURE,   //  set or remove the picture
    S_GROUP_REQUESTS,  //  list the join requests
    S_GROUP_DECIDE,    //  approve or reject join requests
    S_GROUP_JOINED     //  metadata for a group.v2.join event (no command)
} s_group_op_t;

//  A group IQ in flight; its command is held in the session under key.
typedef struct {
    sw_wasess_t *sess; //  the session
    char *key;         //  where the command is held (NULL: JOINED)
    s_group_op_t op;   //  what is asked now
    char *group;       //  group JID (get, change, ...)
    char *action;      //  change: add, remove, promote, demote
    char **people;     //  check: the participants to change
    int npeople;       //  their number
    char *text;        //  description: the new text ("" deletes)
    json_t *data;      //  JOINED: the event's _data
    int64_t timestamp; //  JOINED: the event's time (s)
    char *event_key;   //  JOINED: what the event id derives from
} s_group_call_t;

static const char *
s_group_what(s_group_op_t op)
{
    switch (op) {
    case S_GROUP_CREATE:
        return "create the group";
    case S_GROUP_GET:
    case S_GROUP_JOINED:
        return "get the group";
    case S_GROUP_LIST:
        return "list the groups";
    case S_GROUP_INVITE:
        return "get the invite code";
    case S_GROUP_REVOKE:
        return "revoke the invite code";
    case S_GROUP_JOIN_INFO:
        return "get the invite's group";
    case S_GROUP_JOIN:
        return "join the group";
    case S_GROUP_LEAVE:
        return "leave the group";
    case S_GROUP_SUBJECT:
        return "set the subject";
    case S_GROUP_DESC_READ:
    case S_GROUP_DESC:
        return "set the description";
    case S_GROUP_SETTING:
        return "change the setting";
    case S_GROUP_PICTURE:
        return "change the picture";
    case S_GROUP_REQUESTS:
        return "list the join requests";
    case S_GROUP_DECIDE:
        return "answer the join requests";
    case S_GROUP_CHANGE:
    case S_GROUP_CHECK:
        break;
    }
    return "change the participants";
}

static void
s_free_people(char **people, int count)
{
    for (int i = 0; i < count; i++) {
        free(people[i]);
    }
    free(people);
}

static void
s_group_call_free(s_group_call_t **call_p)
{
    s_group_call_t *call = *call_p;
    free(call->key);
    free(call->group);
    free(call->action);
    s_free_people(call->people, call->npeople);
    free(call->text);
    json_decref(call->data);
    free(call->event_key);
    free(call);
    *call_p = NULL;
}

static void s_group_reply(void *arg, const wa_node_t *reply,
                          wa_iq_outcome_t outcome);

//  A fresh description version id: 16 hex digits.
static char *
s_version_id(void)
{
    uint8_t raw[8];
    cm_random(raw, sizeof raw);
    char *out = cm_alloc(2 * sizeof raw + 1);
    for (size_t i = 0; i < sizeof raw; i++) {
        snprintf(out + 2 * i, 3, "%02X", raw[i]);
    }
    return out;
}

//  The IQ that follows a metadata read (check, description), or NULL
//  with *st_p and *reason_p (caller owns) set.
static wa_node_t *
s_group_next(s_group_call_t *call, const wa_node_t *reply, int *st_p,
             char **reason_p)
{
    wa_group_t *group = wa_group_parse(call->group, reply);
    if (!group) {
        *st_p = 502;
        *reason_p = cm_strdup("WhatsApp sent no group");
        return NULL;
    }
    wa_node_t *iq = NULL;
    if (call->op == S_GROUP_DESC_READ) {
        char *id = s_version_id();
        iq = wa_group_set_description(call->group, call->text, id,
                                      wa_group_description_id(group));
        free(id);
        call->op = S_GROUP_DESC;
    } else {
        for (int i = 0; i < call->npeople; i++) {
            if (!wa_group_has(group, call->people[i])) {
                //  Its other JID (LID for a phone number) may be listed
                bool found = false;
                size_t n = 0;
                wa_group_participants(group, &n);
                for (size_t k = 0; k < n && !found; k++) {
                    found = cm_streq(wa_group_alt(group, k), call->people[i]);
                }
                if (!found) {
                    char *api = wa_jid_to_api(call->people[i]);
                    *st_p = 400;
                    *reason_p = cm_sprintf("could not %s: %s is not a "
                                           "member of the group",
                                           s_group_what(call->op),
                                           api ? api : call->people[i]);
                    free(api);
                    wa_group_destroy(&group);
                    return NULL;
                }
            }
        }
        iq = wa_group_change(call->group, call->action,
                             (const char *const *)call->people,
                             (size_t)call->npeople);
        call->op = S_GROUP_CHANGE;
    }
    wa_group_destroy(&group);
    if (!iq) {
        *st_p = 400;
        *reason_p =
            cm_sprintf("could not %s: invalid request", s_group_what(call->op));
    }
    return iq;
}

//  The answer to a successful IQ. Returns the body, or NULL with *st_p
//  and *reason_p (caller owns) set.
static json_t *
s_group_result(s_group_call_t *call, const wa_node_t *reply, int *st_p,
               char **reason_p)
{
    *st_p = 502;
    wa_client_t *client = sw_wasess_client(call->sess);
    switch (call->op) {
    case S_GROUP_LIST: {
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
    case S_GROUP_CHANGE: {
        json_t *results = sw_wagroup_results(reply, call->action);
        if (!results) {
            *reason_p = cm_strdup("WhatsApp sent no participant results");
            return NULL;
        }
        //  Our next send to the group must see the new members; after a
        //  removal, with a new sender key the removed ones do not have
        if (cm_streq(call->action, "remove")) {
            wa_client_rotate_group_key(client, call->group);
        } else {
            wa_client_forget_group(client, call->group);
        }
        return json_pack("{s:o}", "participants", results);
    }
    case S_GROUP_INVITE:
    case S_GROUP_REVOKE: {
        const char *code = wa_group_invite_code(reply);
        if (!code) {
            *reason_p = cm_strdup("WhatsApp sent no invite code");
            return NULL;
        }
        char *link = cm_sprintf("%s%s", WA_GROUP_LINK_PREFIX, code);
        json_t *body = json_pack("{s:s, s:s}", "code", code, "link", link);
        free(link);
        return body;
    }
    case S_GROUP_JOIN: {
        char *jid = wa_group_joined(reply);
        char *api = jid ? sw_wamsg_api_jid(jid) : NULL;
        json_t *body = api ? json_pack("{s:s}", "id", api) : NULL;
        if (!body) {
            *reason_p = cm_strdup("WhatsApp did not say which group");
        }
        free(api);
        free(jid);
        return body;
    }
    case S_GROUP_LEAVE: {
        //  Per group: <leave><group id [error]/></leave>
        const wa_node_t *g = wa_node_find(reply, "leave/group");
        int64_t error = 0;
        if (g && wa_node_attr_int(g, "error", &error) == 0 && error != 0) {
            *st_p =
                sw_wagroup_error((int)error, s_group_what(call->op), reason_p);
            return NULL;
        }
        wa_client_rotate_group_key(client, call->group);
        return json_object();
    }
    case S_GROUP_SUBJECT:
    case S_GROUP_DESC:
    case S_GROUP_SETTING:
        wa_client_forget_group(client, call->group);
        return json_object();
    case S_GROUP_PICTURE: {
        const char *id = wa_group_picture_id(reply);
        //  contact.picture forgets what it knew of the old one
        wa_client_picture_t pic = {.jid = call->group, .id = id};
        sw_wacontacts_on_picture(call->sess, &pic);
        return id ? json_pack("{s:s}", "pictureId", id) : json_object();
    }
    case S_GROUP_REQUESTS: {
        size_t n = 0;
        wa_group_request_t *items = wa_group_requests_parse(reply, &n);
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            const char *pn = s_is_lid(items[i].jid) ? items[i].pn : NULL;
            json_t *r = json_object();
            json_object_set_new(r, "id", s_api_or_null(pn ? pn : items[i].jid));
            if (pn) {
                json_object_set_new(r, "lid", s_api_or_null(items[i].jid));
            }
            json_object_set_new(r, "requestedAt",
                                json_integer((json_int_t)items[i].time));
            json_object_set_new(r, "method",
                                items[i].method ? json_string(items[i].method)
                                                : json_null());
            json_array_append_new(list, r);
        }
        wa_group_requests_free(&items, n);
        return json_pack("{s:o}", "requests", list);
    }
    case S_GROUP_DECIDE: {
        json_t *results = sw_wagroup_results(
            wa_node_child(reply, "membership_requests_action"), call->action);
        if (!results) {
            *reason_p = cm_strdup("WhatsApp sent no participant results");
            return NULL;
        }
        wa_client_forget_group(client, call->group);
        return json_pack("{s:o}", "participants", results);
    }
    default:
        break;
    }
    //  create, get, join info: a <group>
    wa_group_t *group = wa_group_parse(call->group, reply);
    if (!group) {
        *reason_p = cm_strdup("WhatsApp sent no group");
        return NULL;
    }
    json_t *body = sw_wagroup_json(group);
    wa_group_destroy(&group);
    return body;
}

static void s_joined_emit(s_group_call_t *call, const wa_node_t *reply);

//  The status and reason of an IQ error for op (caller owns *reason_p).
static int
s_group_failure(s_group_call_t *call, int code, char **reason_p)
{
    if ((call->op == S_GROUP_JOIN || call->op == S_GROUP_JOIN_INFO) &&
        (code == 404 || code == 406 || code == 410)) {
        *reason_p = cm_sprintf("could not %s: the invite code does not "
                               "exist or was revoked (error %d)",
                               s_group_what(call->op), code);
        return 404;
    }
    return sw_wagroup_error(code, s_group_what(call->op), reason_p);
}

//  Send the call's next IQ (taken). Returns 0, or -1 (iq destroyed)
//  without a connection.
static int
s_group_iq(s_group_call_t *call, wa_node_t **iq_p)
{
    if (!*iq_p || wa_client_iq(sw_wasess_client(call->sess), iq_p,
                               s_group_reply, call) != 0) {
        wa_node_destroy(iq_p);
        return -1;
    }
    return 0;
}

static void
s_group_reply(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_group_call_t *call = (s_group_call_t *)arg;
    if (call->op == S_GROUP_JOINED) {
        s_joined_emit(call, outcome == WA_IQ_RESULT ? reply : NULL);
        s_group_call_free(&call);
        return;
    }
    const char *what = s_group_what(call->op);
    int st = 200;
    char *reason = NULL;
    json_t *body = NULL;
    if (outcome == WA_IQ_RESULT &&
        (call->op == S_GROUP_CHECK || call->op == S_GROUP_DESC_READ)) {
        //  A read before the change: the change goes out only when the
        //  command still waits
        if (!sw_wasess_holds(call->sess, call->key)) {
            s_group_call_free(&call);
            return;
        }
        wa_node_t *iq = s_group_next(call, reply, &st, &reason);
        if (iq && s_group_iq(call, &iq) == 0) {
            return;
        }
        if (!reason) {
            st = 409;
            reason = cm_strdup("Session status is not as expected: not "
                               "connected to WhatsApp");
        }
    } else if (outcome == WA_IQ_RESULT) {
        body = s_group_result(call, reply, &st, &reason);
    } else if (outcome == WA_IQ_ERROR) {
        st = s_group_failure(call, wa_iq_error_code(reply), &reason);
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
        json_t *missing =
            json_pack("{s:s}", "missing",
                      call->op == S_GROUP_JOIN || call->op == S_GROUP_JOIN_INFO
                          ? "invite"
                          : "group");
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

//  A new call for op on group (may be NULL).
static s_group_call_t *
s_group_call_new(sw_wasess_t *sess, s_group_op_t op, const char *group)
{
    s_group_call_t *call = cm_alloc(sizeof *call);
    call->sess = sess;
    call->op = op;
    call->group = group ? cm_strdup(group) : NULL;
    return call;
}

//  Hold the command and send the IQ (taken) for the call (taken); the
//  reply answers it.
static void
s_group_start(sw_cmd_t **cmd_p, s_group_call_t *call, wa_node_t **iq_p)
{
    char *late = cm_sprintf("could not %s: WhatsApp did not answer in time",
                            s_group_what(call->op));
    call->key = cm_strdup(sw_wasess_hold(call->sess, cmd_p, NULL, late, NULL));
    free(late);
    if (s_group_iq(call, iq_p) != 0) {
        sw_cmd_t *cmd = sw_wasess_release(call->sess, call->key, NULL);
        sw_cmd_reply(&cmd, 409,
                     "Session status is not as expected: "
                     "not connected to WhatsApp",
                     NULL);
        s_group_call_free(&call);
    }
}

//  Hold the command and send the IQ (taken) for it; the reply answers it.
static void
s_group_send(sw_wasess_t *sess, sw_cmd_t **cmd_p, s_group_op_t op,
             wa_node_t **iq_p, const char *group, const char *action)
{
    s_group_call_t *call = s_group_call_new(sess, op, group);
    call->action = action ? cm_strdup(action) : NULL;
    s_group_start(cmd_p, call, iq_p);
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
            s_free_people(out, (int)count);
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

//  The request's invite `code` (a code or a link); NULL after a 400.
static char *
s_group_code(sw_cmd_t **cmd_p)
{
    char *code = wa_group_code_of(cm_msg_str(sw_cmd_request(*cmd_p), "code"));
    if (!code) {
        sw_cmd_reply(cmd_p, 400,
                     "code must be an invite code or a "
                     "https://chat.whatsapp.com/ link",
                     NULL);
    }
    return code;
}

//  The common shape: the request's group id, one IQ `make` builds for
//  it, the command held until WhatsApp answers.
static void
s_group_by_id(sw_wasess_t *sess, sw_cmd_t **cmd_p, s_group_op_t op,
              wa_node_t *(*make)(const char *group))
{
    char *group = s_group_id(cmd_p);
    if (group) {
        wa_node_t *iq = make(group);
        s_group_send(sess, cmd_p, op, &iq, group, NULL);
        free(group);
    }
}

//  The request's `participants` other than this account, as wire JIDs
//  (*out_p, caller frees with s_free_people). Returns their count, or -1
//  after a 400.
static int
s_group_others(sw_wasess_t *sess, sw_cmd_t **cmd_p, char ***out_p)
{
    int n = s_group_people(sess, cmd_p, false, out_p);
    if (n == 0) {
        s_free_people(*out_p, 0);
        *out_p = NULL;
        sw_cmd_reply(cmd_p, 400,
                     "participants must name someone other than this account",
                     NULL);
        return -1;
    }
    return n;
}

//  The request's `action` (one of `actions`, NULL-ended, listed in
//  `names` for the 400), group id (*group_p) and participants other
//  than this account (*people_p, s_free_people). Returns the people's
//  count, or -1 after a 400 (nothing to free).
static int
s_group_action_input(sw_wasess_t *sess, sw_cmd_t **cmd_p,
                     const char *const *actions, const char *names,
                     const char **action_p, char **group_p, char ***people_p)
{
    *action_p = cm_msg_str(sw_cmd_request(*cmd_p), "action");
    *group_p = NULL;
    *people_p = NULL;
    bool known = false;
    for (size_t i = 0; actions[i] && !known; i++) {
        known = cm_streq(*action_p, actions[i]);
    }
    if (!known) {
        char *reason = cm_sprintf("action must be one of: %s", names);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return -1;
    }
    *group_p = s_group_id(cmd_p);
    int n = *group_p ? s_group_others(sess, cmd_p, people_p) : -1;
    if (n < 0) {
        free(*group_p);
        *group_p = NULL;
    }
    return n;
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
    s_group_by_id(sess, cmd_p, S_GROUP_GET, wa_group_query);
}

void
sw_wagroup_change(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    static const char *const actions[] = {"add", "remove", "promote", "demote",
                                          NULL};
    const char *action = NULL;
    char *group = NULL;
    char **people = NULL;
    int n = s_group_action_input(sess, cmd_p, actions,
                                 "add, remove, promote, demote", &action,
                                 &group, &people);
    if (n > 0 && cm_streq(action, "add")) {
        wa_node_t *iq = wa_group_change(group, action,
                                        (const char *const *)people, (size_t)n);
        s_free_people(people, n);
        s_group_send(sess, cmd_p, S_GROUP_CHANGE, &iq, group, action);
    } else if (n > 0) {
        //  Only members can be removed, promoted or demoted: read the
        //  group first, so that a wrong one is a 400 and nothing changes
        s_group_call_t *call = s_group_call_new(sess, S_GROUP_CHECK, group);
        call->action = cm_strdup(action);
        call->people = people;
        call->npeople = n;
        wa_node_t *iq = wa_group_query(group);
        s_group_start(cmd_p, call, &iq);
    }
    free(group);
}

void
sw_wagroup_invite(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    bool revoke = json_is_true(
        json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), "revoke"));
    char *group = s_group_id(cmd_p);
    if (group) {
        wa_node_t *iq = wa_group_invite(group, revoke);
        s_group_send(sess, cmd_p, revoke ? S_GROUP_REVOKE : S_GROUP_INVITE, &iq,
                     group, NULL);
        free(group);
    }
}

void
sw_wagroup_join_info(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    char *code = s_group_code(cmd_p);
    if (code) {
        wa_node_t *iq = wa_group_join(code, false);
        s_group_send(sess, cmd_p, S_GROUP_JOIN_INFO, &iq, NULL, NULL);
        free(code);
    }
}

void
sw_wagroup_join(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    char *code = s_group_code(cmd_p);
    if (code) {
        wa_node_t *iq = wa_group_join(code, true);
        s_group_send(sess, cmd_p, S_GROUP_JOIN, &iq, NULL, NULL);
        free(code);
    }
}

void
sw_wagroup_leave(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_group_by_id(sess, cmd_p, S_GROUP_LEAVE, wa_group_leave);
}

void
sw_wagroup_subject(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *subject = cm_msg_str(sw_cmd_request(*cmd_p), "subject");
    if (!wa_group_subject_ok(subject)) {
        char *reason = cm_sprintf("subject must be 1 to %d characters "
                                  "without control characters",
                                  WA_GROUP_SUBJECT_MAX);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return;
    }
    char *group = s_group_id(cmd_p);
    if (group) {
        wa_node_t *iq = wa_group_set_subject(group, subject);
        s_group_send(sess, cmd_p, S_GROUP_SUBJECT, &iq, group, NULL);
        free(group);
    }
}

void
sw_wagroup_description(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), "description");
    if (!text ||
        (*text && !wa_group_text_ok(text, WA_GROUP_DESCRIPTION_MAX, true))) {
        char *reason = cm_sprintf("description must be at most %d "
                                  "characters without control characters",
                                  WA_GROUP_DESCRIPTION_MAX);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return;
    }
    char *group = s_group_id(cmd_p);
    if (group) {
        //  The change names the version it replaces: read it first
        s_group_call_t *call = s_group_call_new(sess, S_GROUP_DESC_READ, group);
        call->text = cm_strdup(text);
        wa_node_t *iq = wa_group_query(group);
        s_group_start(cmd_p, call, &iq);
        free(group);
    }
}

void
sw_wagroup_setting(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    json_t *body = cm_msg_body(sw_cmd_request(*cmd_p));
    const char *setting = json_string_value(json_object_get(body, "setting"));
    json_t *on = json_object_get(body, "on");
    if (!cm_streq(setting, "announcement") && !cm_streq(setting, "locked") &&
        !cm_streq(setting, "approval")) {
        sw_cmd_reply(cmd_p, 400,
                     "setting must be one of: announcement, locked, approval",
                     NULL);
        return;
    }
    if (!json_is_boolean(on)) {
        sw_cmd_reply(cmd_p, 400, "on must be true or false", NULL);
        return;
    }
    char *group = s_group_id(cmd_p);
    if (group) {
        wa_node_t *iq =
            cm_streq(setting, "approval")
                ? wa_group_set_approval(group, json_is_true(on))
                : wa_group_set_setting(group, setting, json_is_true(on));
        s_group_send(sess, cmd_p, S_GROUP_SETTING, &iq, group, NULL);
        free(group);
    }
}

void
sw_wagroup_requests(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_group_by_id(sess, cmd_p, S_GROUP_REQUESTS, wa_group_requests);
}

void
sw_wagroup_decide(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    static const char *const actions[] = {"approve", "reject", NULL};
    const char *action = NULL;
    char *group = NULL;
    char **people = NULL;
    int n = s_group_action_input(sess, cmd_p, actions, "approve, reject",
                                 &action, &group, &people);
    if (n > 0) {
        wa_node_t *iq =
            wa_group_requests_action(group, cm_streq(action, "approve"),
                                     (const char *const *)people, (size_t)n);
        s_group_send(sess, cmd_p, S_GROUP_DECIDE, &iq, group, action);
        s_free_people(people, n);
    }
    free(group);
}

void
sw_wagroup_picture(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    zframe_t *jpeg = cm_msg_blob_count(req) >= 1 ? cm_msg_blob(req, 0) : NULL;
    char *group = s_group_id(cmd_p);
    if (!group) {
        return;
    }
    wa_node_t *iq = wa_group_set_picture(group, jpeg ? zframe_data(jpeg) : NULL,
                                         jpeg ? zframe_size(jpeg) : 0);
    if (iq) {
        s_group_send(sess, cmd_p, S_GROUP_PICTURE, &iq, group, NULL);
    } else {
        sw_cmd_reply(cmd_p, 400,
                     "the picture must come as a JPEG blob of at most 1 MiB",
                     NULL);
    }
    free(group);
}

//  --------------------------------------------------------------------
//  Events: w:gp2 notifications become WAHA's group.v2.* events

json_t *
sw_wagroup_info(const wa_group_t *group)
{
    assert(group);
    json_t *out = json_object();
    json_object_set_new(out, "id", s_api_or_null(wa_group_jid(group)));
    json_object_set_new(out, "subject", json_string(wa_group_subject(group)));
    const char *desc = wa_group_description(group);
    json_object_set_new(out, "description", json_string(desc ? desc : ""));
    json_object_set_new(out, "membersCanAddNewMember",
                        json_boolean(wa_group_members_add(group)));
    json_object_set_new(out, "membersCanSendMessages",
                        json_boolean(!wa_group_announce(group)));
    json_object_set_new(out, "newMembersApprovalRequired",
                        json_boolean(wa_group_approval(group)));
    json_t *parts = json_array();
    size_t n = 0;
    const char *const *users = wa_group_participants(group, &n);
    for (size_t i = 0; i < n; i++) {
        wa_group_role_t role = wa_group_role(group, i);
        const char *alt = wa_group_alt(group, i);
        json_array_append_new(
            parts,
            sw_wagroup_participant(users[i], s_is_lid(users[i]) ? alt : NULL,
                                   role == WA_GROUP_SUPERADMIN ? "superadmin"
                                   : role == WA_GROUP_ADMIN    ? "admin"
                                                            : "participant"));
    }
    json_object_set_new(out, "participants", parts);
    return out;
}

json_t *
sw_wagroup_participant(const char *jid, const char *pn, const char *role)
{
    json_t *p = json_object();
    json_object_set_new(p, "id", s_api_or_null(jid));
    if (pn) {
        json_object_set_new(p, "pn", s_api_or_null(pn));
    }
    json_object_set_new(p, "role", json_string(role));
    return p;
}

//  A node as JSON for _data: {tag, attrs, content: [nodes] | text}
//  (JIDs left in their wire form). Depth-limited.
static json_t *
s_node_json(const wa_node_t *node, int depth)
{
    json_t *out = json_object();
    json_object_set_new(out, "tag", json_string(wa_node_tag(node)));
    json_t *attrs = json_object();
    for (size_t i = 0; i < wa_node_attr_count(node); i++) {
        size_t len = 0;
        const char *v = wa_node_attr_value_at(node, i, &len);
        json_t *value = v ? json_stringn(v, len) : NULL;
        if (value) {
            json_object_set_new(attrs, wa_node_attr_key_at(node, i), value);
        }
    }
    json_object_set_new(out, "attrs", attrs);
    size_t n = wa_node_child_count(node);
    if (n > 0 && depth < 4) {
        json_t *content = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(
                content, s_node_json(wa_node_child_at(node, i), depth + 1));
        }
        json_object_set_new(out, "content", content);
    } else if (n == 0) {
        const char *text = wa_node_text_content(node);
        json_t *value = text ? json_string(text) : NULL;
        if (value) {
            json_object_set_new(out, "content", value);
        }
    }
    return out;
}

//  Emit `event` with payload (taken); its id derives from the
//  notification and `what`, so a notification delivered twice is
//  stored once.
static void
s_emit(sw_wasess_t *sess, const wa_client_group_t *ev, const char *event,
       const char *what, json_t **payload_p)
{
    char *key = cm_sprintf("%s|%s|%s", ev->group, ev->id, what);
    char id[SW_WAMSG_EVENT_ID_MAX];
    int64_t ts = ev->timestamp > 0 ? ev->timestamp : cm_now_ms() / 1000;
    sw_wamsg_event_id(sw_wasess_name(sess), event, key, ts * 1000, id);
    sw_session_emit_id(sw_wasess_session(sess), id, event, payload_p, NULL,
                       NULL);
    free(key);
}

//  The event's header: {timestamp, group:{id}} plus _data.
static json_t *
s_payload(const wa_client_group_t *ev, json_t *data)
{
    int64_t ts = ev->timestamp > 0 ? ev->timestamp : cm_now_ms() / 1000;
    json_t *group = json_object();
    json_object_set_new(group, "id", s_api_or_null(ev->group));
    return json_pack("{s:I, s:o, s:O}", "timestamp", (json_int_t)ts, "group",
                     group, "_data", data);
}

//  True when the user JID is this account.
static bool
s_is_me(sw_wasess_t *sess, const char *jid)
{
    char *api = jid ? sw_wamsg_api_jid(jid) : NULL;
    bool me = api && (cm_streq(api, sw_wasess_me_id(sess)) ||
                      cm_streq(api, sw_wasess_me_lid(sess)));
    free(api);
    return me;
}

static void
s_joined_emit(s_group_call_t *call, const wa_node_t *reply)
{
    wa_group_t *group = reply ? wa_group_parse(call->group, reply) : NULL;
    json_t *info = NULL;
    if (group) {
        info = sw_wagroup_info(group);
        wa_group_destroy(&group);
    } else {
        info = json_object();
        json_object_set_new(info, "id", s_api_or_null(call->group));
    }
    wa_client_group_t ev = {.id = call->event_key,
                            .group = call->group,
                            .timestamp = call->timestamp};
    json_t *payload = s_payload(&ev, call->data);
    json_object_set_new(payload, "group", info);
    s_emit(call->sess, &ev, "group.v2.join", "join", &payload);
}

//  We joined: group.v2.join with the group's info, read from `create`'s
//  <group>, or asked for.
static void
s_joined(sw_wasess_t *sess, const wa_client_group_t *ev, const wa_node_t *g,
         json_t *data)
{
    if (g) {
        wa_group_t *group = wa_group_parse_node(g);
        if (group) {
            json_t *payload = s_payload(ev, data);
            json_object_set_new(payload, "group", sw_wagroup_info(group));
            wa_group_destroy(&group);
            s_emit(sess, ev, "group.v2.join", "join", &payload);
            return;
        }
    }
    s_group_call_t *call = s_group_call_new(sess, S_GROUP_JOINED, ev->group);
    call->data = json_incref(data);
    call->timestamp = ev->timestamp;
    call->event_key = cm_strdup(ev->id);
    wa_node_t *iq = wa_group_query(ev->group);
    if (s_group_iq(call, &iq) != 0) {
        s_joined_emit(call, NULL);
        s_group_call_free(&call);
    }
}

//  True when the user JIDs a and b (either may be NULL) name the same
//  user.
static bool
s_same_user(const char *a, const char *b)
{
    char *ua = s_user_of(a);
    char *ub = s_user_of(b);
    bool same = ua && ub && cm_streq(ua, ub);
    free(ua);
    free(ub);
    return same;
}

//  Join requests of an approval-mode group: <created_membership_requests
//  request_method><requested_user jid [phone_number]/>… (someone asked)
//  or <revoked_membership_requests><participant jid [phone_number]/>…
//  (an admin rejected it, or the requester, the notification's
//  participant, cancelled it). Returns one {action, requesterId,
//  requesterPn, requestMethod} per requester. Caller owns.
static json_t *
s_requests_changed(const wa_client_group_t *ev, const wa_node_t *change)
{
    bool created = wa_node_is(change, "created_membership_requests");
    const char *method =
        created ? wa_node_attr(change, "request_method") : NULL;
    const char *actor_pn = wa_node_attr(ev->node, "participant_pn");
    json_t *out = json_array();
    const wa_node_t *p = NULL;
    while ((p = wa_node_child_next(
                change, created ? "requested_user" : "participant", p)) &&
           json_array_size(out) < WA_GROUP_MAX_PARTICIPANTS) {
        char *jid = s_user_of(wa_node_attr(p, "jid"));
        if (!jid) {
            continue;
        }
        char *pn = s_is_lid(jid) ? s_user_of(wa_node_attr(p, "phone_number"))
                                 : cm_strdup(jid);
        const char *action = "created";
        if (!created) {
            bool own = s_same_user(ev->actor, jid) ||
                       (pn && (s_same_user(ev->actor, pn) ||
                               s_same_user(actor_pn, pn)));
            action = own ? "revoked" : "rejected";
        }
        json_t *r = json_object();
        json_object_set_new(r, "action", json_string(action));
        json_object_set_new(r, "requesterId", s_api_or_null(jid));
        json_object_set_new(r, "requesterPn", s_api_or_null(pn));
        json_object_set_new(r, "requestMethod",
                            method ? json_string(method) : json_null());
        json_array_append_new(out, r);
        free(pn);
        free(jid);
    }
    return out;
}

//  group.v2.participants.join-request for each requester of the change.
static void
s_on_requests(sw_wasess_t *sess, const wa_client_group_t *ev,
              const wa_node_t *change, const char *what, json_t *data)
{
    json_t *list = s_requests_changed(ev, change);
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        json_t *payload = s_payload(ev, data);
        json_object_update(payload, r);
        char key[96];
        snprintf(key, sizeof key, "%s|%zu", what, i);
        s_emit(sess, ev, "group.v2.participants.join-request", key, &payload);
    }
    json_decref(list);
}

//  One change of a notification: its events.
static void
s_on_change(sw_wasess_t *sess, const wa_client_group_t *ev,
            const wa_node_t *change, size_t index, json_t *data)
{
    const char *tag = wa_node_tag(change);
    char what[64];
    snprintf(what, sizeof what, "%zu|%s", index, tag);
    if (cm_streq(tag, "create")) {
        s_joined(sess, ev, wa_node_child(change, "group"), data);
        return;
    }
    if (cm_streq(tag, "created_membership_requests") ||
        cm_streq(tag, "revoked_membership_requests")) {
        s_on_requests(sess, ev, change, what, data);
        return;
    }
    const char *type = cm_streq(tag, "add")       ? "join"
                       : cm_streq(tag, "remove")  ? "leave"
                       : cm_streq(tag, "leave")   ? "leave"
                       : cm_streq(tag, "promote") ? "promote"
                       : cm_streq(tag, "demote")  ? "demote"
                                                  : NULL;
    if (type) {
        const char *role = cm_streq(type, "leave")     ? "left"
                           : cm_streq(type, "promote") ? "admin"
                                                       : "participant";
        json_t *parts = json_array();
        bool me = false;
        const wa_node_t *p = NULL;
        while ((p = wa_node_child_next(change, "participant", p))) {
            char *jid = s_user_of(wa_node_attr(p, "jid"));
            if (!jid) {
                continue;
            }
            char *pn = s_is_lid(jid)
                           ? s_user_of(wa_node_attr(p, "phone_number"))
                           : NULL;
            me |= s_is_me(sess, jid) || (pn && s_is_me(sess, pn));
            json_array_append_new(parts, sw_wagroup_participant(jid, pn, role));
            free(pn);
            free(jid);
        }
        if (json_array_size(parts) == 0 && cm_streq(tag, "leave")) {
            //  <leave/> alone: the actor left
            char *jid = s_user_of(ev->actor);
            if (jid) {
                me |= s_is_me(sess, jid);
                json_array_append_new(parts,
                                      sw_wagroup_participant(jid, NULL, role));
            }
            free(jid);
        }
        json_t *payload = s_payload(ev, data);
        json_object_set_new(payload, "type", json_string(type));
        json_object_set_new(payload, "participants", parts);
        s_emit(sess, ev, "group.v2.participants", what, &payload);
        if (me && cm_streq(type, "join")) {
            s_joined(sess, ev, NULL, data);
        } else if (me && cm_streq(type, "leave")) {
            payload = s_payload(ev, data);
            s_emit(sess, ev, "group.v2.leave", "leave", &payload);
        }
        return;
    }
    json_t *partial = json_object();
    json_object_set_new(partial, "id", s_api_or_null(ev->group));
    if (cm_streq(tag, "subject")) {
        const char *subject = wa_node_attr(change, "subject");
        if (!subject) {
            subject = wa_node_text_content(change);
        }
        json_object_set_new(partial, "subject",
                            json_string(subject ? subject : ""));
    } else if (cm_streq(tag, "description")) {
        const wa_node_t *body = wa_node_child(change, "body");
        const char *text = body ? wa_node_text_content(body) : NULL;
        json_object_set_new(partial, "description",
                            json_string(text ? text : ""));
    } else if (cm_streq(tag, "announcement") ||
               cm_streq(tag, "not_announcement")) {
        json_object_set_new(partial, "membersCanSendMessages",
                            json_boolean(cm_streq(tag, "not_announcement")));
    } else if (cm_streq(tag, "member_add_mode")) {
        const char *mode = wa_node_text_content(change);
        json_object_set_new(partial, "membersCanAddNewMember",
                            json_boolean(cm_streq(mode, "all_member_add")));
    } else if (cm_streq(tag, "membership_approval_mode")) {
        const wa_node_t *join = wa_node_child(change, "group_join");
        json_object_set_new(
            partial, "newMembersApprovalRequired",
            json_boolean(join && wa_node_attr_eq(join, "state", "on")));
    } else if (!cm_streq(tag, "locked") && !cm_streq(tag, "unlocked")) {
        //  Nothing WAHA reports (invite link changes, ...)
        json_decref(partial);
        return;
    }
    //  locked/unlocked: WAHA's GroupInfo has no field for it; _data says
    json_t *payload = s_payload(ev, data);
    json_object_set_new(payload, "group", partial);
    s_emit(sess, ev, "group.v2.update", what, &payload);
}

//  A group's picture set (<set id/>) or removed (<delete/>): group.v2.update
//  with {id, picture: the new picture id, or null}.
static void
s_on_picture(sw_wasess_t *sess, const wa_client_group_t *ev, json_t *data)
{
    const wa_node_t *what = wa_node_child_at(ev->node, 0);
    bool set = what && wa_node_is(what, "set");
    if (!set && !(what && wa_node_is(what, "delete"))) {
        return; //  <request/>: nothing changed
    }
    const char *id = set ? wa_node_attr(what, "id") : NULL;
    json_t *partial = json_object();
    json_object_set_new(partial, "id", s_api_or_null(ev->group));
    json_object_set_new(partial, "picture", id ? json_string(id) : json_null());
    json_t *payload = s_payload(ev, data);
    json_object_set_new(payload, "group", partial);
    s_emit(sess, ev, "group.v2.update", set ? "picture|set" : "picture|delete",
           &payload);
}

void
sw_wagroup_on_group(sw_wasess_t *sess, const wa_client_group_t *ev)
{
    assert(sess && ev && ev->node && ev->group);
    json_t *data = s_node_json(ev->node, 0);
    if (wa_node_attr_eq(ev->node, "type", "picture")) {
        s_on_picture(sess, ev, data);
        json_decref(data);
        return;
    }
    size_t n = wa_node_child_count(ev->node);
    for (size_t i = 0; i < n && i < 64; i++) {
        s_on_change(sess, ev, wa_node_child_at(ev->node, i), i, data);
    }
    json_decref(data);
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
        "{\"addressingMode\":\"pn\",\"announce\":false,\"approval\":false,"
        "\"creation\":"
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
    t_expect(rig, sw_wagroup_join, json_pack("{s:s}", "code", "bad code"),
             "code must be an invite code");
    t_expect(rig, sw_wagroup_join_info, json_object(),
             "code must be an invite code");
    {
        sw_cmd_t *cmd = sw_wasess_rig_cmd(
            rig, "group.test",
            json_pack("{s:s}", "id", "120363000000000001@g.us"));
        const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0D};
        cm_msg_add_blob(sw_cmd_request(cmd), png, sizeof png);
        sw_wagroup_picture(sw_wasess_rig_sess(rig), &cmd);
        cm_msg_t *pic = sw_wasess_rig_recv(rig, 1000);
        assert(pic && cm_msg_status(pic) == 400 &&
               strstr(cm_msg_reason(pic), "JPEG"));
        cm_msg_destroy(&pic);
    }
    t_expect(rig, sw_wagroup_invite, json_pack("{s:s}", "id", "x"),
             "id must be a group id");
    t_expect(rig, sw_wagroup_leave, json_object(), "id must be a group id");
    char big[WA_GROUP_DESCRIPTION_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    t_expect(rig, sw_wagroup_subject,
             json_pack("{s:s, s:s}", "id", "120363000000000001@g.us", "subject",
                       big + WA_GROUP_DESCRIPTION_MAX - 100),
             "subject must be 1 to 100");
    t_expect(rig, sw_wagroup_description,
             json_pack("{s:s, s:s}", "id", "120363000000000001@g.us",
                       "description", big),
             "description must be at most 2048");
    t_expect(rig, sw_wagroup_setting,
             json_pack("{s:s, s:s, s:b}", "id", "120363000000000001@g.us",
                       "setting", "ephemeral", "on", 1),
             "setting must be one of");
    t_expect(rig, sw_wagroup_setting,
             json_pack("{s:s, s:s}", "id", "120363000000000001@g.us", "setting",
                       "locked"),
             "on must be true or false");
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");

    //  Join requests: asked (LID group: the number beside), rejected by
    //  an admin, cancelled by the requester (named by number or LID)
    {
        wa_node_t *note = wa_node_new_from_text(
            "<notification type=\"w:gp2\" id=\"N1\" "
            "participant=\"333@lid\" "
            "participant_pn=\"15550003333@s.whatsapp.net\">"
            "<created_membership_requests request_method=\"invite_link\">"
            "<requested_user jid=\"333@lid\" "
            "phone_number=\"15550003333@s.whatsapp.net\"/>"
            "<requested_user jid=\"garbage\"/>"
            "<requested_user jid=\"15550004444@s.whatsapp.net\"/>"
            "</created_membership_requests>"
            "<revoked_membership_requests>"
            "<participant jid=\"333@lid\" "
            "phone_number=\"15550003333@s.whatsapp.net\"/>"
            "<participant jid=\"15550004444@s.whatsapp.net\"/>"
            "</revoked_membership_requests></notification>",
            NULL);
        assert(note);
        wa_client_group_t ev = {.id = "N1",
                                .group = "120363000000000001@g.us",
                                .actor = "333@lid",
                                .timestamp = 1700000000,
                                .node = note};
        json_t *list = s_requests_changed(&ev, wa_node_child_at(note, 0));
        text = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
        assert(cm_streq(
            text,
            "[{\"action\":\"created\",\"requestMethod\":\"invite_link\","
            "\"requesterId\":\"333@lid\",\"requesterPn\":"
            "\"15550003333@c.us\"},{\"action\":\"created\","
            "\"requestMethod\":\"invite_link\",\"requesterId\":"
            "\"15550004444@c.us\",\"requesterPn\":\"15550004444@c.us\"}]"));
        free(text);
        json_decref(list);
        list = s_requests_changed(&ev, wa_node_child_at(note, 1));
        text = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
        assert(cm_streq(
            text, "[{\"action\":\"revoked\",\"requestMethod\":null,"
                  "\"requesterId\":\"333@lid\",\"requesterPn\":"
                  "\"15550003333@c.us\"},{\"action\":\"rejected\","
                  "\"requestMethod\":null,\"requesterId\":\"15550004444@c.us\","
                  "\"requesterPn\":\"15550004444@c.us\"}]"));
        free(text);
        json_decref(list);
        //  The actor named by number only: still the requester's own
        ev.actor = "15550003333@s.whatsapp.net";
        list = s_requests_changed(&ev, wa_node_child_at(note, 1));
        assert(cm_streq(json_string_value(
                            json_object_get(json_array_get(list, 0), "action")),
                        "revoked"));
        json_decref(list);
        wa_node_destroy(&note);
    }

    //  WAHA's GroupInfo and participants
    reply = wa_node_new_from_text(
        "<iq type=\"result\" id=\"1\">"
        "<group id=\"120363000000000003\" subject=\"Team\" "
        "addressing_mode=\"lid\">"
        "<participant jid=\"111@lid\" phone_number="
        "\"15550001111@s.whatsapp.net\" type=\"superadmin\"/>"
        "<participant jid=\"222@lid\"/>"
        "<description id=\"D1\"><body>About</body></description>"
        "<announcement/><member_add_mode>admin_add</member_add_mode>"
        "</group></iq>",
        NULL);
    g = wa_group_parse(NULL, reply);
    obj = sw_wagroup_info(g);
    text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    assert(cm_streq(
        text, "{\"description\":\"About\",\"id\":\"120363000000000003@g.us\","
              "\"membersCanAddNewMember\":false,\"membersCanSendMessages\":"
              "false,\"newMembersApprovalRequired\":false,\"participants\":["
              "{\"id\":\"111@lid\",\"pn\":\"15550001111@c.us\",\"role\":"
              "\"superadmin\"},{\"id\":\"222@lid\",\"role\":\"participant\"}],"
              "\"subject\":\"Team\"}"));
    free(text);
    json_decref(obj);
    wa_group_destroy(&g);
    wa_node_destroy(&reply);
    printf("OK\n");
}
