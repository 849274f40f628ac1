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

//  The session name (caller owns), or NULL after a response: WAHA's
//  path parameter, Wawp's instance (its credential checked).
static char *
s_session_name(gw_req_t *req)
{
    if (gw_req_family(req) == GW_FAMILY_WAWP) {
        return gw_sessions_wawp_instance(req);
    }
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return NULL;
    }
    return cm_strdup(name);
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
    char *name = s_session_name(req);
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

void
gw_groups_list(gw_req_t *req)
{
    char *name = s_session_name(req);
    s_list_opts_t opts;
    if (!name || s_list_opts(req, &opts) != 0) {
        free(name);
        return;
    }
    json_t *body = json_object();
    cm_msg_t *reply = s_command(req, name, "group.list", &body);
    if (reply) {
        json_t *groups = json_object_get(cm_msg_body(reply), "groups");
        if (!json_is_array(groups)) {
            gw_req_fail(req, 502, NULL, "session-worker sent no groups");
        } else {
            json_t *page = s_page(&opts, groups);
            gw_req_reply(req, 200, &page);
        }
        cm_msg_destroy(&reply);
    }
    free(name);
}

void
gw_groups_count(gw_req_t *req)
{
    char *name = s_session_name(req);
    if (!name) {
        return;
    }
    json_t *body = json_object();
    cm_msg_t *reply = s_command(req, name, "group.list", &body);
    if (reply) {
        json_t *groups = json_object_get(cm_msg_body(reply), "groups");
        if (!json_is_array(groups)) {
            gw_req_fail(req, 502, NULL, "session-worker sent no groups");
        } else {
            json_t *out = json_pack("{s:I}", "count",
                                    (json_int_t)json_array_size(groups));
            gw_req_reply(req, 200, &out);
        }
        cm_msg_destroy(&reply);
    }
    free(name);
}

//  group.get for the request's group; the reply or NULL after a
//  response.
static cm_msg_t *
s_get(gw_req_t *req)
{
    char *name = s_session_name(req);
    char *id = name ? s_group_input(req) : NULL;
    cm_msg_t *reply = NULL;
    if (id) {
        json_t *body = json_pack("{s:s}", "id", id);
        reply = s_command(req, name, "group.get", &body);
    }
    free(id);
    free(name);
    return reply;
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

static void
s_change(gw_req_t *req, const char *action)
{
    char *name = s_session_name(req);
    char *id = name ? s_group_input(req) : NULL;
    json_t *people = id ? s_people_input(req) : NULL;
    if (people) {
        json_t *body = json_pack("{s:s, s:s, s:o}", "id", id, "action", action,
                                 "participants", people);
        cm_msg_t *reply = s_command(req, name, "group.participants", &body);
        if (reply) {
            //  WAHA declares 200 for add/remove/promote/demote
            s_answer(req, &reply, "participants", 200);
        }
    }
    free(id);
    free(name);
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
    "{\"type\":\"boolean\"},\"participants\":{\"$ref\":"
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
    "\"#/components/schemas/ParticipantResult\"}}"
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
    //  A bad session name
    gw_req_t *req =
        t_req("GET", "/api/bad name/groups", "bad name", NULL, NULL);
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

    json_t *schemas = gw_groups_schemas();
    assert(json_object_get(schemas, "GroupInfo"));
    json_decref(schemas);
    printf("OK\n");
}
