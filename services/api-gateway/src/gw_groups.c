/*  gw_groups - WhatsApp groups: create, list, get, participants

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"
#include "wa/wa_group.h"

static const char *const s_working[] = {"WORKING", NULL};

char *
gw_groups_id(const char *text)
{
    if (!text || !*text || strlen(text) > 128) {
        return NULL;
    }
    //  Bare ids get the server; the shape is gw_messages_chat_id_of's
    char *full =
        strchr(text, '@') ? cm_strdup(text) : cm_sprintf("%s@g.us", text);
    char *id = gw_messages_chat_id_of(full, GW_CHAT_GROUP);
    free(full);
    return id;
}

//  The group id from the path (or, when Wawp's path says "{id}", from
//  `id` in the query or body). Caller owns; NULL after a 400.
static char *
s_group_input(gw_req_t *req)
{
    const char *text = gw_req_param(req, "id");
    if (!text || !*text || cm_streq(text, "{id}")) {
        text = gw_req_input_str(req, "id");
    }
    char *id = gw_groups_id(text);
    if (!id) {
        gw_req_fail_invalid(req, text ? "id must be a group id such as "
                                        "120363000000000000@g.us"
                                      : "id is required");
    }
    return id;
}

//  The `participants` input as an array of API chat ids (persons only,
//  duplicates dropped). Caller owns; NULL after a 400.
static json_t *
s_people_input(gw_req_t *req)
{
    json_t *v = gw_req_input(req, "participants");
    json_t *parsed = NULL;
    if (json_is_string(v)) {
        //  Wawp puts JSON in the query: participants=[{"id":"…"}]
        parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
        v = parsed;
    }
    json_t *out = NULL;
    size_t n = json_array_size(v);
    if (!v) {
        gw_req_fail_invalid(req, "participants is required");
    } else if (!json_is_array(v)) {
        gw_req_fail_invalid(req, "participants must be an array of {id}");
    } else if (n == 0) {
        gw_req_fail_invalid(req, "participants must not be empty");
    } else if (n > GW_GROUPS_MAX_PARTICIPANTS) {
        char *msg = cm_sprintf("participants must hold at most %d entries",
                               GW_GROUPS_MAX_PARTICIPANTS);
        gw_req_fail_invalid(req, msg);
        free(msg);
    } else {
        out = json_array();
        for (size_t i = 0; i < n && out; i++) {
            json_t *item = json_array_get(v, i);
            const char *text =
                json_is_object(item)
                    ? json_string_value(json_object_get(item, "id"))
                    : json_string_value(item);
            char *chat = gw_messages_chat_id_of(text, GW_CHAT_PERSON);
            if (!chat) {
                char *msg = cm_sprintf(
                    "participants[%zu].id must be a phone number or chat "
                    "id such as 12132132130@c.us",
                    i);
                gw_req_fail_invalid(req, msg);
                free(msg);
                json_decref(out);
                out = NULL;
            } else {
                bool dup = false;
                size_t k;
                json_t *seen;
                json_array_foreach(out, k, seen)
                {
                    dup |= cm_streq(json_string_value(seen), chat);
                }
                if (!dup) {
                    json_array_append_new(out, json_string(chat));
                }
            }
            free(chat);
        }
    }
    json_decref(parsed);
    return out;
}

//  Send command `type` with `body` (taken) for session `name` once it is
//  WORKING. Returns the worker's reply, or NULL after a response.
static cm_msg_t *
s_command(gw_req_t *req, const char *name, const char *type, json_t **body_p)
{
    json_t *session = gw_messages_session(req, name);
    cm_msg_t *reply = NULL;
    if (session && gw_messages_status_is(req, session, s_working)) {
        reply = gw_messages_command(req, session, type, body_p,
                                    GW_GROUPS_TIMEOUT_MS);
    }
    json_decref(*body_p);
    *body_p = NULL;
    json_decref(session);
    return reply;
}

//  Answer with the reply body (or its member `key`) and free the reply.
static void
s_answer(gw_req_t *req, cm_msg_t **reply_p, const char *key, int success)
{
    json_t *body = cm_msg_body(*reply_p);
    json_t *out = key ? json_object_get(body, key) : body;
    if (!out || (key && !json_is_array(out))) {
        gw_req_fail(req, 502, NULL, "session-worker sent no %s",
                    key ? key : "group");
    } else {
        json_incref(out);
        gw_req_reply(req, success, &out);
    }
    cm_msg_destroy(reply_p);
}

static int
s_success(gw_req_t *req)
{
    return gw_req_family(req) == GW_FAMILY_WAWP ? 200 : 201;
}

void
gw_groups_create(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    json_t *sv = gw_req_input(req, "name");
    const char *subject = json_string_value(sv);
    json_t *people = NULL;
    if (!wa_group_subject_ok(subject)) {
        char *msg = cm_sprintf(sv ? "name must be 1 to %d characters"
                                  : "name is required",
                               WA_GROUP_SUBJECT_MAX);
        gw_req_fail_invalid(req, msg);
        free(msg);
    } else if ((people = s_people_input(req))) {
        json_t *body =
            json_pack("{s:s, s:o}", "subject", subject, "participants", people);
        cm_msg_t *reply = s_command(req, name, "group.create", &body);
        if (reply) {
            s_answer(req, &reply, NULL, s_success(req));
        }
    }
    free(name);
}

//  A group in the list with its sort key (each item carries the order,
//  so qsort needs no shared state).
typedef struct {
    json_t *group;   //  borrowed
    const char *key; //  sort key ("" when absent)
    bool desc;       //  descending
} s_item_t;

static int
s_compare(const void *a, const void *b)
{
    const s_item_t *ia = (const s_item_t *)a;
    const s_item_t *ib = (const s_item_t *)b;
    int c = strcmp(ia->key, ib->key);
    return ia->desc ? -c : c;
}

//  What a list request asks for.
typedef struct {
    int64_t limit;  //  most groups, when has_limit
    bool has_limit; //  limit given
    int64_t offset; //  groups skipped
    const char *by; //  sort key, or NULL: the worker's order
    bool desc;      //  descending
    bool lean;      //  without participants
} s_list_opts_t;

//  Read the list options. Returns 0, or -1 after a 400.
static int
s_list_opts(gw_req_t *req, s_list_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    const char *by = gw_req_query(req, "sortBy");
    const char *order = gw_req_query(req, "sortOrder");
    const char *exclude = gw_req_query(req, "exclude");
    if (gw_req_query_int(req, "limit", 0, 1000000, 0, &opts->limit,
                         &opts->has_limit) ||
        gw_req_query_int(req, "offset", 0, 1000000, 0, &opts->offset, NULL)) {
        return -1;
    }
    if (by && !cm_streq(by, "id") && !cm_streq(by, "subject")) {
        gw_req_fail_invalid(req, "sortBy must be one of: id, subject");
        return -1;
    }
    if (order && strcasecmp(order, "asc") != 0 &&
        strcasecmp(order, "desc") != 0) {
        gw_req_fail_invalid(req, "sortOrder must be one of: asc, desc");
        return -1;
    }
    opts->by = by ? by : (order ? "id" : NULL);
    opts->desc = order && strcasecmp(order, "desc") == 0;
    opts->lean = exclude && strstr(exclude, "participants");
    return 0;
}

//  The page of `groups` (borrowed) the options ask for. Caller owns.
static json_t *
s_page(const s_list_opts_t *opts, json_t *groups)
{
    size_t n = json_array_size(groups);
    s_item_t *items = cm_alloc((n ? n : 1) * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].group = json_array_get(groups, i);
        const char *key =
            opts->by
                ? json_string_value(json_object_get(items[i].group, opts->by))
                : NULL;
        items[i].key = key ? key : "";
        items[i].desc = opts->desc;
    }
    if (opts->by) {
        qsort(items, n, sizeof *items, s_compare);
    }
    json_t *out = json_array();
    for (size_t i = (size_t)opts->offset;
         i < n &&
         (!opts->has_limit || json_array_size(out) < (size_t)opts->limit);
         i++) {
        json_t *g = json_copy(items[i].group);
        if (opts->lean) {
            json_object_del(g, "participants");
        }
        json_array_append_new(out, g);
    }
    free(items);
    return out;
}

//  The groups of the request's session (group.list), or NULL after a
//  response. Sets *name_p (caller owns) when name_p is given. Caller owns
//  return value.
static json_t *
s_groups(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return NULL;
    }
    json_t *body = json_object();
    cm_msg_t *reply = s_command(req, name, "group.list", &body);
    free(name);
    json_t *groups = NULL;
    if (reply) {
        groups = json_object_get(cm_msg_body(reply), "groups");
        if (json_is_array(groups)) {
            json_incref(groups);
        } else {
            groups = NULL;
            gw_req_fail(req, 502, NULL, "session-worker sent no groups");
        }
        cm_msg_destroy(&reply);
    }
    return groups;
}

void
gw_groups_list(gw_req_t *req)
{
    s_list_opts_t opts;
    if (s_list_opts(req, &opts) != 0) {
        return;
    }
    json_t *groups = s_groups(req);
    if (groups) {
        json_t *page = s_page(&opts, groups);
        gw_req_reply(req, 200, &page);
        json_decref(groups);
    }
}

void
gw_groups_count(gw_req_t *req)
{
    json_t *groups = s_groups(req);
    if (groups) {
        json_t *out =
            json_pack("{s:I}", "count", (json_int_t)json_array_size(groups));
        gw_req_reply(req, 200, &out);
        json_decref(groups);
    }
}

void
gw_groups_refresh(gw_req_t *req)
{
    //  Wharf keeps no copy of the groups: every read asks WhatsApp, so a
    //  refresh is one read (which also checks the session works)
    json_t *groups = s_groups(req);
    if (groups) {
        json_t *out = json_pack("{s:b}", "success", 1);
        gw_req_reply(req, 200, &out);
        json_decref(groups);
    }
}

//  Send `type` with body (taken) for the request's group (`id` added).
//  Returns the reply, or NULL after a response.
static cm_msg_t *
s_group_command(gw_req_t *req, const char *type, json_t **body_p)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_group_input(req) : NULL;
    cm_msg_t *reply = NULL;
    if (id) {
        json_object_set_new(*body_p, "id", json_string(id));
        reply = s_command(req, name, type, body_p);
    }
    json_decref(*body_p);
    *body_p = NULL;
    free(id);
    free(name);
    return reply;
}

//  group.get for the request's group; the reply or NULL after a
//  response.
static cm_msg_t *
s_get(gw_req_t *req)
{
    json_t *body = json_object();
    return s_group_command(req, "group.get", &body);
}

void
gw_groups_get(gw_req_t *req)
{
    cm_msg_t *reply = s_get(req);
    if (reply) {
        s_answer(req, &reply, NULL, 200);
    }
}

void
gw_groups_participants(gw_req_t *req)
{
    cm_msg_t *reply = s_get(req);
    if (reply) {
        s_answer(req, &reply, "participants", 200);
    }
}

//  WAHA 2026.8's names beside Wharf's in join-request items (in place):
//  requesterId (the LID in LID groups), requesterPn (the number or
//  null), requestMethod, timestamp (s), addedById and parentGroupId
//  (null: WhatsApp's list names neither for the requests Wharf parses).
static void
s_requests_waha(json_t *list)
{
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        json_t *id = json_object_get(r, "id");
        json_t *lid = json_object_get(r, "lid");
        const char *text = json_string_value(id);
        bool pn = text && strlen(text) > 5 &&
                  cm_streq(text + strlen(text) - 5, "@c.us");
        json_object_set(r, "requesterId", lid ? lid : id);
        json_object_set_new(r, "requesterPn",
                            pn ? json_incref(id) : json_null());
        json_object_set_new(r, "addedById", json_null());
        json_object_set_new(r, "parentGroupId", json_null());
        json_t *method = json_object_get(r, "method");
        json_object_set_new(r, "requestMethod",
                            method ? json_incref(method) : json_null());
        json_t *at = json_object_get(r, "requestedAt");
        json_object_set_new(r, "timestamp", at ? json_incref(at) : json_null());
    }
}

//  WAHA 2026.8's names beside Wharf's in approve/reject results (in
//  place): requesterId, success, and error (WhatsApp's code) unless 200.
static void
s_results_waha(json_t *list)
{
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        json_t *status = json_object_get(r, "status");
        bool ok = json_integer_value(status) == 200;
        json_object_set(r, "requesterId", json_object_get(r, "id"));
        json_object_set_new(r, "success", json_boolean(ok));
        if (!ok && status) {
            json_object_set(r, "error", status);
        }
    }
}

//  `type` {id, action, participants} for the request's group and
//  people (group.participants, group.requests_action): answers 200 (as
//  WAHA declares for these POSTs) with the per-participant results.
static void
s_people_command(gw_req_t *req, const char *type, const char *action)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_group_input(req) : NULL;
    json_t *people = id ? s_people_input(req) : NULL;
    if (people) {
        json_t *body = json_pack("{s:s, s:s, s:o}", "id", id, "action", action,
                                 "participants", people);
        cm_msg_t *reply = s_command(req, name, type, &body);
        if (reply && cm_streq(type, "group.requests_action")) {
            s_results_waha(json_object_get(cm_msg_body(reply), "participants"));
        }
        if (reply) {
            s_answer(req, &reply, "participants", 200);
        }
    }
    free(id);
    free(name);
}

static void
s_change(gw_req_t *req, const char *action)
{
    s_people_command(req, "group.participants", action);
}

void
gw_groups_add(gw_req_t *req)
{
    s_change(req, "add");
}

void
gw_groups_remove(gw_req_t *req)
{
    s_change(req, "remove");
}

void
gw_groups_promote(gw_req_t *req)
{
    s_change(req, "promote");
}

void
gw_groups_demote(gw_req_t *req)
{
    s_change(req, "demote");
}

void
gw_groups_requests(gw_req_t *req)
{
    json_t *body = json_object();
    cm_msg_t *reply = s_group_command(req, "group.requests", &body);
    if (reply) {
        s_requests_waha(json_object_get(cm_msg_body(reply), "requests"));
        s_answer(req, &reply, "requests", 200);
    }
}

void
gw_groups_requests_approve(gw_req_t *req)
{
    s_people_command(req, "group.requests_action", "approve");
}

void
gw_groups_requests_reject(gw_req_t *req)
{
    s_people_command(req, "group.requests_action", "reject");
}

//  Answer {"success": true} with `status` and free the reply.
static void
s_done(gw_req_t *req, cm_msg_t **reply_p, int status)
{
    cm_msg_destroy(reply_p);
    json_t *out = json_pack("{s:b}", "success", 1);
    gw_req_reply(req, status, &out);
}

//  The `code` input (a code or an invite link); NULL after a 400.
static char *
s_code_input(gw_req_t *req)
{
    const char *text = gw_req_input_str(req, "code");
    char *code = wa_group_code_of(text);
    if (!code) {
        gw_req_fail_invalid(req, text ? "code must be an invite code or a "
                                        "https://chat.whatsapp.com/ link"
                                      : "code is required");
    }
    return code;
}

//  Send `type` {code} for the request's invite code. Returns the reply,
//  or NULL after a response.
static cm_msg_t *
s_code_command(gw_req_t *req, const char *type)
{
    char *name = gw_sessions_name_of(req);
    char *code = name ? s_code_input(req) : NULL;
    cm_msg_t *reply = NULL;
    if (code) {
        json_t *body = json_pack("{s:s}", "code", code);
        reply = s_command(req, name, type, &body);
    }
    free(code);
    free(name);
    return reply;
}

void
gw_groups_join_info(gw_req_t *req)
{
    cm_msg_t *reply = s_code_command(req, "group.join_info");
    if (reply) {
        s_answer(req, &reply, NULL, 200);
    }
}

void
gw_groups_join(gw_req_t *req)
{
    cm_msg_t *reply = s_code_command(req, "group.join");
    if (reply) {
        const char *id = cm_msg_str(reply, "id");
        if (!id) {
            gw_req_fail(req, 502, NULL, "session-worker sent no group id");
        } else {
            json_t *out = json_pack("{s:s}", "id", id);
            gw_req_reply(req, 200, &out);
        }
        cm_msg_destroy(&reply);
    }
}

void
gw_groups_leave(gw_req_t *req)
{
    json_t *body = json_object();
    cm_msg_t *reply = s_group_command(req, "group.leave", &body);
    if (reply) {
        s_done(req, &reply, 200);
    }
}

void
gw_groups_delete(gw_req_t *req)
{
    //  WhatsApp has no "delete" for a group: an admin deletes it by
    //  removing everyone else, then leaving
    json_t *body = json_object();
    cm_msg_t *reply = s_group_command(req, "group.get", &body);
    if (!reply) {
        return;
    }
    json_t *parts = json_object_get(cm_msg_body(reply), "participants");
    json_t *others = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(parts, i, p)
    {
        //  The worker leaves this account out of the list by itself
        const char *pid = json_string_value(json_object_get(p, "id"));
        if (pid) {
            json_array_append_new(others, json_string(pid));
        }
    }
    cm_msg_destroy(&reply);
    if (json_array_size(others) > 1) {
        body =
            json_pack("{s:s, s:O}", "action", "remove", "participants", others);
        reply = s_group_command(req, "group.participants", &body);
        if (!reply) {
            json_decref(others);
            return;
        }
        cm_msg_destroy(&reply);
    }
    json_decref(others);
    body = json_object();
    reply = s_group_command(req, "group.leave", &body);
    if (reply) {
        s_done(req, &reply, 200);
    }
}

void
gw_groups_subject(gw_req_t *req)
{
    json_t *v = gw_req_input(req, "subject");
    const char *subject = json_string_value(v);
    if (!wa_group_subject_ok(subject)) {
        char *msg = cm_sprintf(v ? "subject must be 1 to %d characters "
                                   "without control characters"
                                 : "subject is required",
                               WA_GROUP_SUBJECT_MAX);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return;
    }
    json_t *body = json_pack("{s:s}", "subject", subject);
    cm_msg_t *reply = s_group_command(req, "group.subject", &body);
    if (reply) {
        s_done(req, &reply, 200);
    }
}

void
gw_groups_description(gw_req_t *req)
{
    json_t *v = gw_req_input(req, "description");
    const char *text = json_string_value(v);
    if (!json_is_string(v) ||
        (*text && !wa_group_text_ok(text, WA_GROUP_DESCRIPTION_MAX, true))) {
        char *msg = cm_sprintf(v ? "description must be at most %d "
                                   "characters without control characters"
                                 : "description is required",
                               WA_GROUP_DESCRIPTION_MAX);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return;
    }
    json_t *body = json_pack("{s:s}", "description", text);
    cm_msg_t *reply = s_group_command(req, "group.description", &body);
    if (reply) {
        s_done(req, &reply, 200);
    }
}

//  GET a security setting: {key} from the group's `field`.
static void
s_setting_get(gw_req_t *req, const char *field, const char *key)
{
    json_t *body = json_object();
    cm_msg_t *reply = s_group_command(req, "group.get", &body);
    if (reply) {
        json_t *v = json_object_get(cm_msg_body(reply), field);
        json_t *out = json_pack("{s:b}", key, json_is_true(v));
        gw_req_reply(req, 200, &out);
        cm_msg_destroy(&reply);
    }
}

//  PUT a security setting from {key}.
static void
s_setting_set(gw_req_t *req, const char *setting, const char *key)
{
    json_t *v = gw_req_input(req, key);
    if (json_is_string(v)) {
        //  A form or query value
        const char *t = json_string_value(v);
        v = cm_streq(t, "true")    ? json_true()
            : cm_streq(t, "false") ? json_false()
                                   : v;
    }
    if (!json_is_boolean(v)) {
        char *text =
            cm_sprintf(v ? "%s must be true or false" : "%s is required", key);
        gw_req_fail_invalid(req, text);
        free(text);
        return;
    }
    bool on = json_is_true(v);
    json_t *body = json_pack("{s:s, s:b}", "setting", setting, "on", on);
    cm_msg_t *reply = s_group_command(req, "group.setting", &body);
    if (reply) {
        cm_msg_destroy(&reply);
        json_t *out = json_pack("{s:b}", key, on);
        gw_req_reply(req, 200, &out);
    }
}

void
gw_groups_info_admin_only(gw_req_t *req)
{
    if (cm_streq(gw_req_method(req), "GET")) {
        s_setting_get(req, "restrict", "adminsOnly");
    } else {
        s_setting_set(req, "locked", "adminsOnly");
    }
}

void
gw_groups_membership_approval(gw_req_t *req)
{
    if (cm_streq(gw_req_method(req), "GET")) {
        s_setting_get(req, "approval", "newMembersApprovalRequired");
    } else {
        s_setting_set(req, "approval", "newMembersApprovalRequired");
    }
}

void
gw_groups_messages_admin_only(gw_req_t *req)
{
    if (cm_streq(gw_req_method(req), "GET")) {
        s_setting_get(req, "announce", "adminsOnly");
    } else {
        s_setting_set(req, "announcement", "adminsOnly");
    }
}

//  The invite link (a JSON string, as WAHA answers) of group.invite.
static void
s_invite(gw_req_t *req, bool revoke, int status)
{
    json_t *body = json_pack("{s:b}", "revoke", revoke);
    cm_msg_t *reply = s_group_command(req, "group.invite", &body);
    if (reply) {
        const char *link = cm_msg_str(reply, "link");
        if (!link) {
            gw_req_fail(req, 502, NULL, "session-worker sent no invite link");
        } else {
            json_t *out = json_string(link);
            gw_req_reply(req, status, &out);
        }
        cm_msg_destroy(&reply);
    }
}

void
gw_groups_invite_code(gw_req_t *req)
{
    s_invite(req, false, 200);
}

void
gw_groups_invite_revoke(gw_req_t *req)
{
    s_invite(req, true, 200);
}

json_t *
gw_groups_participants_v2(const json_t *group)
{
    bool lid = cm_streq(
        json_string_value(json_object_get(group, "addressingMode")), "lid");
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(group, "participants"), i, p)
    {
        const char *id = json_string_value(json_object_get(p, "id"));
        const char *plid = json_string_value(json_object_get(p, "lid"));
        const char *role = json_string_value(json_object_get(p, "role"));
        json_t *v2 = json_object();
        if (lid && plid) {
            //  LID groups name members by LID, with the phone number
            json_object_set_new(v2, "id", json_string(plid));
            json_object_set_new(v2, "pn", json_string(id ? id : ""));
        } else {
            json_object_set_new(v2, "id", json_string(id ? id : ""));
        }
        json_object_set_new(v2, "role",
                            json_string(role ? role : "participant"));
        json_array_append_new(out, v2);
    }
    return out;
}

void
gw_groups_participants2(gw_req_t *req)
{
    cm_msg_t *reply = s_get(req);
    if (reply) {
        json_t *out = gw_groups_participants_v2(cm_msg_body(reply));
        gw_req_reply(req, 200, &out);
        cm_msg_destroy(&reply);
    }
}

void
gw_groups_picture_get(gw_req_t *req)
{
    const char *refresh = gw_req_input_str(req, "refresh");
    if (refresh && !cm_streq(refresh, "true") && !cm_streq(refresh, "false")) {
        gw_req_fail_invalid(req, "refresh must be true or false");
        return;
    }
    json_t *body = json_pack("{s:b}", "refresh", cm_streq(refresh, "true"));
    cm_msg_t *reply = s_group_command(req, "contact.picture", &body);
    if (reply) {
        json_t *url = json_object_get(cm_msg_body(reply), "url");
        json_t *out =
            json_pack("{s:O}", "url", json_is_string(url) ? url : json_null());
        gw_req_reply(req, 200, &out);
        cm_msg_destroy(&reply);
    }
}

void
gw_groups_picture_set(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_group_input(req) : NULL;
    cm_msg_t *msg = id ? gw_profile_picture_input(req) : NULL;
    json_t *session = msg ? gw_messages_session(req, name) : NULL;
    if (session && gw_messages_status_is(req, session, s_working)) {
        //  media-service makes it the square 640x640 JPEG WhatsApp takes
        cm_msg_t *pics = gw_profile_picture_make(req, &msg);
        if (pics) {
            cm_msg_t *cmd = cm_msg_new("group.picture");
            cm_msg_set_str(cmd, "id", id);
            zframe_t *full = zframe_dup(cm_msg_blob(pics, 0));
            cm_msg_add_frame(cmd, &full);
            cm_msg_t *reply = gw_messages_command_msg(req, session, &cmd,
                                                      GW_GROUPS_TIMEOUT_MS);
            if (reply) {
                s_done(req, &reply, 200);
            }
            cm_msg_destroy(&pics);
        }
    }
    cm_msg_destroy(&msg);
    json_decref(session);
    free(id);
    free(name);
}

void
gw_groups_picture_delete(gw_req_t *req)
{
    json_t *body = json_object();
    cm_msg_t *reply = s_group_command(req, "group.picture", &body);
    if (reply) {
        s_done(req, &reply, 200);
    }
}

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"GroupParticipantId\":{\"type\":\"object\",\"required\":[\"id\"],"
    "\"properties\":{\"id\":{\"type\":\"string\",\"example\":"
    "\"12132132130@c.us\"}}},"
    "\"CreateGroupRequest\":{\"type\":\"object\",\"required\":[\"name\","
    "\"participants\"],\"properties\":{\"name\":{\"type\":\"string\","
    "\"maxLength\":100},\"participants\":{\"type\":\"array\",\"maxItems\":"
    "1023,\"items\":{\"$ref\":\"#/components/schemas/GroupParticipantId\"}}}},"
    "\"WawpCreateGroupRequest\":{\"type\":\"object\",\"required\":["
    "\"instance_id\",\"name\",\"participants\"],\"properties\":{"
    "\"instance_id\":{\"type\":\"string\"},\"access_token\":{\"type\":"
    "\"string\"},\"name\":{\"type\":\"string\"},\"participants\":{\"type\":"
    "\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/GroupParticipantId\"}}}},"
    "\"ParticipantsRequest\":{\"type\":\"object\",\"required\":["
    "\"participants\"],\"properties\":{\"participants\":{\"type\":\"array\","
    "\"items\":{\"$ref\":\"#/components/schemas/GroupParticipantId\"}}}},"
    "\"WawpParticipantsRequest\":{\"type\":\"object\",\"required\":["
    "\"instance_id\",\"participants\"],\"properties\":{\"instance_id\":"
    "{\"type\":\"string\"},\"access_token\":{\"type\":\"string\"},\"id\":"
    "{\"type\":\"string\"},\"participants\":{\"type\":\"array\",\"items\":"
    "{\"$ref\":\"#/components/schemas/GroupParticipantId\"}}}},"
    "\"GroupParticipant\":{\"type\":\"object\",\"properties\":{\"id\":"
    "{\"type\":\"string\",\"example\":\"12132132130@c.us\"},\"lid\":{\"type\":"
    "\"string\"},\"role\":{\"type\":\"string\",\"enum\":[\"participant\","
    "\"admin\",\"superadmin\"]},\"admin\":{\"type\":\"string\",\"nullable\":"
    "true,\"enum\":[\"admin\",\"superadmin\"]},\"isAdmin\":{\"type\":"
    "\"boolean\"},\"isSuperAdmin\":{\"type\":\"boolean\"}}},"
    "\"GroupParticipantList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/GroupParticipant\"}},"
    "\"GroupInfo\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\",\"example\":\"120363000000000000@g.us\"},\"subject\":"
    "{\"type\":\"string\"},\"description\":{\"type\":\"string\",\"nullable\":"
    "true},\"owner\":{\"type\":\"string\",\"nullable\":true},\"creation\":"
    "{\"type\":\"integer\",\"description\":\"Unix seconds\"},\"size\":"
    "{\"type\":\"integer\"},\"addressingMode\":{\"type\":\"string\",\"enum\":"
    "[\"pn\",\"lid\"]},\"announce\":{\"type\":\"boolean\"},\"restrict\":"
    "{\"type\":\"boolean\"},\"approval\":{\"type\":\"boolean\","
    "\"description\":\"membership approval mode\"},\"participants\":{\"$ref\":"
    "\"#/components/schemas/GroupParticipantList\"}}},"
    "\"CountResponse\":{\"type\":\"object\",\"required\":[\"count\"],"
    "\"properties\":{\"count\":{\"type\":\"integer\",\"example\":3}}},"
    "\"GroupInfoList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/GroupInfo\"}},"
    "\"ParticipantResult\":{\"type\":\"object\",\"properties\":{\"id\":"
    "{\"type\":\"string\"},\"status\":{\"type\":\"integer\",\"description\":"
    "\"200 done, else WhatsApp's code (403 not allowed, 404 not on "
    "WhatsApp, 409 already a member)\"}}},"
    "\"ParticipantResultList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/ParticipantResult\"}},"
    "\"JoinGroupRequest\":{\"type\":\"object\",\"required\":[\"code\"],"
    "\"properties\":{\"code\":{\"type\":\"string\",\"description\":"
    "\"Invite code or https://chat.whatsapp.com/ link\",\"example\":"
    "\"https://chat.whatsapp.com/1234567890abcdef\"}}},"
    "\"JoinGroupResponse\":{\"type\":\"object\",\"properties\":{\"id\":"
    "{\"type\":\"string\",\"example\":\"120363000000000000@g.us\"}}},"
    "\"SubjectRequest\":{\"type\":\"object\",\"required\":[\"subject\"],"
    "\"properties\":{\"subject\":{\"type\":\"string\",\"minLength\":1,"
    "\"maxLength\":100}}},"
    "\"DescriptionRequest\":{\"type\":\"object\",\"required\":["
    "\"description\"],\"properties\":{\"description\":{\"type\":"
    "\"string\",\"maxLength\":2048,\"description\":\"Empty deletes "
    "it\"}}},"
    "\"SettingsSecurityChangeInfo\":{\"type\":\"object\",\"required\":["
    "\"adminsOnly\"],\"properties\":{\"adminsOnly\":{\"type\":"
    "\"boolean\",\"example\":true}}},"
    "\"GroupResult\":{\"type\":\"object\",\"properties\":{\"success\":"
    "{\"type\":\"boolean\",\"example\":true}}},"
    "\"MembershipApproval\":{\"type\":\"object\",\"required\":["
    "\"newMembersApprovalRequired\"],\"properties\":{"
    "\"newMembersApprovalRequired\":{\"type\":\"boolean\",\"example\":"
    "true,\"description\":\"true: joins by link are requests admins "
    "approve\"}}},"
    "\"JoinRequest\":{\"type\":\"object\",\"properties\":{\"id\":{"
    "\"type\":\"string\",\"example\":\"12132132130@c.us\"},\"lid\":{"
    "\"type\":\"string\",\"description\":\"LID groups: the LID that "
    "asked\"},\"requestedAt\":{\"type\":\"integer\",\"description\":"
    "\"When they asked (s since the epoch; 0 unknown)\"},\"method\":{"
    "\"type\":\"string\",\"nullable\":true,\"example\":"
    "\"invite_link\"},\"requesterId\":{\"type\":\"string\","
    "\"description\":\"WAHA 2026.8: as the group names them (@lid in LID "
    "groups)\"},\"requesterPn\":{\"type\":\"string\",\"nullable\":"
    "true},\"requestMethod\":{\"type\":\"string\",\"nullable\":true},"
    "\"timestamp\":{\"type\":\"integer\"},\"addedById\":{\"type\":"
    "\"string\",\"nullable\":true},\"parentGroupId\":{\"type\":"
    "\"string\",\"nullable\":true}}},"
    "\"JoinRequestList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/JoinRequest\"}},"
    "\"JoinRequestResult\":{\"type\":\"object\",\"properties\":{\"id\":"
    "{\"type\":\"string\"},\"status\":{\"type\":\"integer\","
    "\"description\":\"200 done, 404 no request of theirs pending\"},"
    "\"requesterId\":{\"type\":\"string\"},\"success\":{\"type\":"
    "\"boolean\"},\"error\":{\"type\":\"integer\",\"description\":"
    "\"WhatsApp's code when not done\"}}},"
    "\"JoinRequestResultList\":{\"type\":\"array\",\"items\":{"
    "\"$ref\":\"#/components/schemas/JoinRequestResult\"}},"
    "\"GroupPictureResponse\":{\"type\":\"object\",\"properties\":{"
    "\"url\":{\"type\":\"string\",\"nullable\":true,\"description\":"
    "\"null when the group has no picture\"}}},"
    "\"InviteLink\":{\"type\":\"string\",\"example\":"
    "\"https://chat.whatsapp.com/1234567890abcdef\"},"
    "\"GroupParticipantV2\":{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"string\",\"example\":\"12132132130@c.us\"},"
    "\"pn\":{\"type\":\"string\"},\"role\":{\"type\":\"string\","
    "\"enum\":[\"left\",\"participant\",\"admin\",\"superadmin\"]}}},"
    "\"GroupParticipantV2List\":{\"type\":\"array\",\"items\":{"
    "\"$ref\":\"#/components/schemas/GroupParticipantV2\"}}"
    "}";

json_t *
gw_groups_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------

//  A request for `path` with `method` and path parameters; body as
//  JSON text or NULL.
static gw_req_t *
t_req(const char *method, const char *path, const char *session, const char *id,
      const char *body)
{
    gw_req_t *req = gw_req_new(method, path);
    if (session) {
        json_object_set_new(gw_req_params(req), "session",
                            json_string(session));
    }
    if (id) {
        json_object_set_new(gw_req_params(req), "id", json_string(id));
    }
    if (body) {
        assert(gw_req_append_body(req, body, strlen(body), 1 << 20) == 0);
        gw_req_set_header(req, "Content-Type", "application/json");
        assert(gw_req_parse_body(req) == 0);
    }
    return req;
}

//  Run handler on a request and check a 400 naming `field`.
static void
t_invalid(gw_handler_fn *handler, const char *path, const char *id,
          const char *body, const char *field)
{
    gw_req_t *req = t_req("POST", path, "default", id, body);
    handler(req);
    if (gw_req_status(req) != 400 || !strstr(gw_req_response(req), field)) {
        fprintf(stderr, "%s %s: %d %s\n", path, body ? body : "",
                gw_req_status(req), gw_req_response(req));
        assert(false);
    }
    gw_req_destroy(&req);
}

void
gw_groups_test(bool verbose)
{
    printf(" * gw_groups: ");
    (void)verbose;
    struct {
        const char *in;
        const char *out;
    } ids[] = {{"120363012345678901@g.us", "120363012345678901@g.us"},
               {"120363012345678901", "120363012345678901@g.us"},
               {"120363012345678901@G.US", "120363012345678901@g.us"},
               {"15551234567-1600000000@g.us", "15551234567-1600000000@g.us"},
               {"15551234567@c.us", NULL},
               {"-1@g.us", NULL},
               {"1203630@g.us", NULL},
               {"1203630123456789012@g.us", NULL},
               {"15551234567-16@g.us", NULL},
               {"12 34@g.us", NULL},
               {"@g.us", NULL},
               {"{id}", NULL},
               {"", NULL},
               {NULL, NULL}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char *out = gw_groups_id(ids[i].in);
        assert(cm_streq(out, ids[i].out) || (!out && !ids[i].out));
        free(out);
    }
    //  Join requests and their results carry WAHA's names too
    json_t *reqs = json_loads(
        "[{\"id\":\"15550001111@c.us\",\"lid\":\"111@lid\","
        "\"requestedAt\":1700000000,\"method\":\"invite_link\"},"
        "{\"id\":\"222@lid\",\"requestedAt\":1700000001,\"method\":null}]",
        0, NULL);
    s_requests_waha(reqs);
    char *dump = json_dumps(reqs, JSON_COMPACT | JSON_SORT_KEYS);
    assert(cm_streq(
        dump,
        "[{\"addedById\":null,\"id\":\"15550001111@c.us\",\"lid\":"
        "\"111@lid\",\"method\":\"invite_link\",\"parentGroupId\":null,"
        "\"requestMethod\":\"invite_link\",\"requestedAt\":1700000000,"
        "\"requesterId\":\"111@lid\",\"requesterPn\":\"15550001111@c.us\","
        "\"timestamp\":1700000000},{\"addedById\":null,\"id\":"
        "\"222@lid\",\"method\":null,\"parentGroupId\":null,"
        "\"requestMethod\":null,\"requestedAt\":1700000001,"
        "\"requesterId\":\"222@lid\",\"requesterPn\":null,"
        "\"timestamp\":1700000001}]"));
    free(dump);
    json_decref(reqs);
    json_t *res = json_loads("[{\"id\":\"1@c.us\",\"status\":200},"
                             "{\"id\":\"2@c.us\",\"status\":404}]",
                             0, NULL);
    s_results_waha(res);
    dump = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
    assert(cm_streq(dump, "[{\"id\":\"1@c.us\",\"requesterId\":\"1@c.us\","
                          "\"status\":200,\"success\":true},{\"error\":404,"
                          "\"id\":\"2@c.us\",\"requesterId\":\"2@c.us\","
                          "\"status\":404,\"success\":false}]"));
    free(dump);
    json_decref(res);

    //  Wawp's forms: fixed segments never fall into {id}
    struct {
        const char *method;
        const char *path;
        gw_handler_fn *handler;
    } wawp[] = {
        {"GET", "/v2/groups/count", gw_groups_count},
        {"POST", "/v2/groups/refresh", gw_groups_refresh},
        {"GET", "/v2/groups/join-info", gw_groups_join_info},
        {"POST", "/v2/groups/join", gw_groups_join},
        {"DELETE", "/v2/groups/{id}", gw_groups_delete},
        {"GET", "/v2/groups/{id}", gw_groups_get},
        {"POST", "/v2/groups/1203630@g.us/leave", gw_groups_leave},
        {"PUT", "/v2/groups/{id}/subject", gw_groups_subject},
        {"PUT", "/v2/groups/{id}/description", gw_groups_description},
        {"PUT", "/v2/groups/{id}/settings/security/info-admin-only",
         gw_groups_info_admin_only},
        {"GET", "/v2/groups/{id}/settings/security/messages-admin-only",
         gw_groups_messages_admin_only},
        {"PUT", "/v2/groups/{id}/settings/security/membership-approval",
         gw_groups_membership_approval},
        {"GET", "/v2/groups/{id}/invite-code", gw_groups_invite_code},
        {"POST", "/v2/groups/{id}/invite-code/revoke", gw_groups_invite_revoke},
        {"GET", "/v2/groups/{id}/participants/v2", gw_groups_participants2},
        {"GET", "/v2/groups/{id}/participants", gw_groups_participants},
        {"GET", "/v2/groups/{id}/participants/join-requests",
         gw_groups_requests},
        {"POST", "/v2/groups/{id}/participants/join-requests/approve",
         gw_groups_requests_approve},
        {"POST", "/v2/groups/{id}/participants/join-requests/reject",
         gw_groups_requests_reject},
    };
    for (size_t i = 0; i < sizeof wawp / sizeof wawp[0]; i++) {
        char *allow = NULL;
        json_t *params = json_object();
        const gw_route_t *r =
            gw_api_match(wawp[i].method, wawp[i].path, params, &allow);
        assert(r && r->handler == wawp[i].handler && !allow);
        json_decref(params);
    }

    //  Bad input is refused before any bus call: 400 naming the field
    const char *create = "/api/default/groups";
    t_invalid(gw_groups_create, create, NULL, "{\"participants\":[]}",
              "name is required");
    t_invalid(gw_groups_create, create, NULL,
              "{\"name\":\"\",\"participants\":[]}", "name must be 1 to 100");
    t_invalid(gw_groups_create, create, NULL,
              "{\"name\":7,\"participants\":[]}", "name must be");
    char big[400];
    snprintf(big, sizeof big, "{\"name\":\"%0101d\",\"participants\":[]}", 0);
    t_invalid(gw_groups_create, create, NULL, big, "name must be 1 to 100");
    t_invalid(gw_groups_create, create, NULL, "{\"name\":\"T\"}",
              "participants is required");
    t_invalid(gw_groups_create, create, NULL,
              "{\"name\":\"T\",\"participants\":{}}",
              "participants must be an array");
    t_invalid(gw_groups_create, create, NULL,
              "{\"name\":\"T\",\"participants\":[]}",
              "participants must not be empty");
    t_invalid(gw_groups_create, create, NULL,
              "{\"name\":\"T\",\"participants\":[{\"id\":\"x\"}]}",
              "participants[0].id");
    t_invalid(gw_groups_create, create, NULL,
              "{\"name\":\"T\",\"participants\":[{\"id\":\"15551234567\"},"
              "{\"id\":\"120363012345678901@g.us\"}]}",
              "participants[1].id");
    t_invalid(gw_groups_create, create, NULL,
              "{\"name\":\"T\",\"participants\":[{\"jid\":\"15551234567\"}]}",
              "participants[0].id");
    //  Too many
    size_t cap = 64 + 32 * (GW_GROUPS_MAX_PARTICIPANTS + 1);
    char *many = cm_alloc(cap);
    size_t len = (size_t)snprintf(many, cap,
                                  "{\"name\":\"T\","
                                  "\"participants\":[");
    for (int i = 0; i <= GW_GROUPS_MAX_PARTICIPANTS; i++) {
        len += (size_t)snprintf(many + len, cap - len,
                                "%s{\"id\":\"1555%07d\"}", i ? "," : "", i);
    }
    snprintf(many + len, cap - len, "]}");
    t_invalid(gw_groups_create, create, NULL, many, "at most 1023");
    free(many);
    //  Changes need a group id and someone to change
    const char *add = "/api/default/groups/x/participants/add";
    t_invalid(gw_groups_add, add, "15551234567@c.us",
              "{\"participants\":[{\"id\":\"15551234567\"}]}",
              "id must be a group id");
    t_invalid(gw_groups_add, add, "120363012345678901@g.us",
              "{\"participants\":[]}", "participants must not be empty");
    t_invalid(gw_groups_remove, add, "120363012345678901@g.us", "{}",
              "participants is required");
    t_invalid(gw_groups_promote, add, "nope", "{}", "id must be a group id");
    t_invalid(gw_groups_demote, add, "120363012345678901@g.us",
              "{\"participants\":[\"bad\"]}", "participants[0].id");
    //  Pictures: a group id, an image as url or base64, refresh a boolean
    const char *pic = "/api/default/groups/x/picture";
    t_invalid(gw_groups_picture_set, pic, "nope", "{\"file\":{}}",
              "id must be a group id");
    t_invalid(gw_groups_picture_set, pic, "120363012345678901@g.us", "{}",
              "file is required");
    t_invalid(gw_groups_picture_set, pic, "120363012345678901@g.us",
              "{\"file\":{\"data\":\"***\"}}", "file.data must be base64");
    t_invalid(gw_groups_picture_set, pic, "120363012345678901@g.us",
              "{\"file\":{\"url\":\"file:///etc/passwd\"}}",
              "file.url must be an http");
    t_invalid(gw_groups_picture_delete, pic, "15551234567@c.us", NULL,
              "id must be a group id");
    gw_req_t *req =
        t_req("GET", pic, "default", "120363012345678901@g.us", NULL);
    gw_req_set_query(req, "refresh", "yes");
    gw_groups_picture_get(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "refresh must be true or false"));
    gw_req_destroy(&req);
    //  A bad session name
    req = t_req("GET", "/api/bad name/groups", "bad name", NULL, NULL);
    gw_groups_list(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "session"));
    gw_req_destroy(&req);
    req = t_req("GET", "/api/default/groups/x", "default", "{id}", NULL);
    gw_groups_get(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "id is required"));
    gw_req_destroy(&req);

    //  Participants: objects or strings, normalised, de-duplicated; Wawp's
    //  JSON string
    req = t_req("POST", create, "default", NULL,
                "{\"participants\":[{\"id\":\"+1 555 123 4567\"},"
                "\"15551234567@c.us\",{\"id\":\"123456789012345@lid\"}]}");
    json_t *people = s_people_input(req);
    char *text = json_dumps(people, JSON_COMPACT);
    assert(cm_streq(text, "[\"15551234567@c.us\",\"123456789012345@lid\"]"));
    free(text);
    json_decref(people);
    gw_req_destroy(&req);
    req = t_req("POST", "/v2/groups", NULL, NULL, NULL);
    gw_req_set_query(req, "participants", "[{\"id\":\"15551234567\"}]");
    people = s_people_input(req);
    assert(json_array_size(people) == 1);
    json_decref(people);
    gw_req_destroy(&req);
    req = t_req("POST", "/v2/groups", NULL, NULL, NULL);
    gw_req_set_query(req, "participants", "not json");
    assert(!s_people_input(req));
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);

    //  Paging, sorting, exclude
    json_t *groups = json_pack(
        "[{s:s, s:s, s:[]}, {s:s, s:s, s:[]}, {s:s, s:s, s:[]}]", "id",
        "2@g.us", "subject", "b", "participants", "id", "1@g.us", "subject",
        "c", "participants", "id", "3@g.us", "subject", "a", "participants");
    s_list_opts_t opts;
    req = t_req("GET", "/api/default/groups", "default", NULL, NULL);
    gw_req_set_query(req, "sortBy", "subject");
    gw_req_set_query(req, "sortOrder", "DESC");
    gw_req_set_query(req, "limit", "2");
    gw_req_set_query(req, "offset", "0");
    gw_req_set_query(req, "exclude", "participants");
    assert(s_list_opts(req, &opts) == 0);
    json_t *page = s_page(&opts, groups);
    text = json_dumps(page, JSON_COMPACT | JSON_SORT_KEYS);
    assert(cm_streq(text, "[{\"id\":\"1@g.us\",\"subject\":\"c\"},"
                          "{\"id\":\"2@g.us\",\"subject\":\"b\"}]"));
    free(text);
    json_decref(page);
    gw_req_destroy(&req);
    req = t_req("GET", "/api/default/groups", "default", NULL, NULL);
    gw_req_set_query(req, "sortBy", "id");
    gw_req_set_query(req, "offset", "1");
    assert(s_list_opts(req, &opts) == 0);
    page = s_page(&opts, groups);
    assert(json_array_size(page) == 2);
    assert(cm_streq(
        json_string_value(json_object_get(json_array_get(page, 0), "id")),
        "2@g.us"));
    assert(json_object_get(json_array_get(page, 0), "participants"));
    json_decref(page);
    gw_req_destroy(&req);
    //  No options: the worker's order
    req = t_req("GET", "/api/default/groups", "default", NULL, NULL);
    assert(s_list_opts(req, &opts) == 0);
    page = s_page(&opts, groups);
    assert(json_equal(page, groups));
    json_decref(page);
    gw_req_destroy(&req);
    req = t_req("GET", "/api/default/groups", "default", NULL, NULL);
    gw_req_set_query(req, "sortBy", "name");
    assert(s_list_opts(req, &opts) == -1 && gw_req_status(req) == 400);
    gw_req_destroy(&req);
    req = t_req("GET", "/api/default/groups", "default", NULL, NULL);
    gw_req_set_query(req, "sortOrder", "up");
    assert(s_list_opts(req, &opts) == -1 && gw_req_status(req) == 400);
    gw_req_destroy(&req);
    req = t_req("GET", "/api/default/groups", "default", NULL, NULL);
    gw_req_set_query(req, "limit", "-1");
    assert(s_list_opts(req, &opts) == -1 && gw_req_status(req) == 400);
    gw_req_destroy(&req);
    json_decref(groups);

    //  The other routes: their input first
    const char *gpath = "/api/default/groups/x/subject";
    const char *gid = "120363012345678901@g.us";
    t_invalid(gw_groups_subject, gpath, gid, "{}", "subject is required");
    t_invalid(gw_groups_subject, gpath, gid, "{\"subject\":\"\"}",
              "subject must be 1 to 100");
    snprintf(big, sizeof big, "{\"subject\":\"%0101d\"}", 0);
    t_invalid(gw_groups_subject, gpath, gid, big, "subject must be 1 to 100");
    t_invalid(gw_groups_subject, gpath, "nope", "{\"subject\":\"x\"}",
              "id must be a group id");
    t_invalid(gw_groups_description, gpath, gid, "{}",
              "description is required");
    t_invalid(gw_groups_description, gpath, gid, "{\"description\":1}",
              "description must be at most 2048");
    t_invalid(gw_groups_join, gpath, NULL, "{}", "code is required");
    t_invalid(gw_groups_join, gpath, NULL, "{\"code\":\"a b\"}",
              "code must be an invite code");
    t_invalid(gw_groups_join_info, gpath, NULL,
              "{\"code\":\"https://example.com/x\"}",
              "code must be an invite code");
    req = t_req("PUT", gpath, "default", gid, "{\"adminsOnly\":\"x\"}");
    gw_groups_info_admin_only(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "adminsOnly must be true or false"));
    gw_req_destroy(&req);
    req = t_req("PUT", gpath, "default", gid, "{}");
    gw_groups_messages_admin_only(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "adminsOnly is required"));
    gw_req_destroy(&req);
    t_invalid(gw_groups_leave, gpath, "15551234567@c.us", NULL,
              "id must be a group id");
    t_invalid(gw_groups_invite_code, gpath, "x", NULL, "id must be a group id");

    //  participants/v2: LID groups name members by LID
    json_t *group = json_pack(
        "{s:s, s:[{s:s, s:s, s:s}, {s:s, s:s}]}", "addressingMode", "lid",
        "participants", "id", "15550001111@c.us", "lid", "111@lid", "role",
        "superadmin", "id", "222@lid", "role", "participant");
    json_t *v2 = gw_groups_participants_v2(group);
    text = json_dumps(v2, JSON_COMPACT | JSON_SORT_KEYS);
    assert(cm_streq(text, "[{\"id\":\"111@lid\",\"pn\":\"15550001111@c.us\","
                          "\"role\":\"superadmin\"},{\"id\":\"222@lid\","
                          "\"role\":\"participant\"}]"));
    free(text);
    json_decref(v2);
    json_object_set_new(group, "addressingMode", json_string("pn"));
    v2 = gw_groups_participants_v2(group);
    assert(cm_streq(
        json_string_value(json_object_get(json_array_get(v2, 0), "id")),
        "15550001111@c.us"));
    assert(!json_object_get(json_array_get(v2, 0), "pn"));
    json_decref(v2);
    json_decref(group);

    json_t *schemas = gw_groups_schemas();
    assert(json_object_get(schemas, "GroupInfo"));
    json_decref(schemas);
    printf("OK\n");
}
