/*  gw_lids - a session's LID <-> phone number map

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  Ask the store about session `name` (it must exist: 404). Returns the
//  reply with status 200, 400 or 404, or NULL after a response.
static cm_msg_t *
s_ask(gw_req_t *req, const char *name, cm_msg_t **msg_p)
{
    json_t *session = gw_messages_session(req, name);
    if (!session) {
        cm_msg_destroy(msg_p);
        return NULL; //  404 or 5xx already answered
    }
    json_decref(session);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, msg_p, 0);
    int st = cm_msg_status(reply);
    if (st != 200 && st != 400 && st != 404) {
        gw_req_fail_bus(req, reply, "store-service");
        cm_msg_destroy(&reply);
    }
    return reply;
}

void
gw_lids_list(gw_req_t *req)
{
    int64_t limit = 0, offset = 0;
    if (gw_req_query_int(req, "limit", 1, GW_LIDS_LIST_MAX,
                         GW_LIDS_LIST_DEFAULT, &limit, NULL) ||
        gw_req_query_int(req, "offset", 0, INT32_MAX, 0, &offset, NULL)) {
        return;
    }
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    cm_msg_t *msg = cm_msg_new("lid.list");
    cm_msg_set_str(msg, "session", name);
    cm_msg_set_int(msg, "limit", limit);
    cm_msg_set_int(msg, "offset", offset);
    cm_msg_t *reply = s_ask(req, name, &msg);
    json_t *lids = reply ? json_object_get(cm_msg_body(reply), "lids") : NULL;
    if (reply && cm_msg_status(reply) == 200 && json_is_array(lids)) {
        json_incref(lids);
        gw_req_reply(req, 200, &lids);
    } else if (reply) {
        gw_req_fail_bus(req, reply, "store-service");
    }
    cm_msg_destroy(&reply);
    free(name);
}

void
gw_lids_count(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    cm_msg_t *msg = cm_msg_new("lid.count");
    cm_msg_set_str(msg, "session", name);
    cm_msg_t *reply = s_ask(req, name, &msg);
    json_t *count = reply ? json_object_get(cm_msg_body(reply), "count") : NULL;
    if (reply && cm_msg_status(reply) == 200 && json_is_integer(count)) {
        json_t *out = json_pack("{s:O}", "count", count);
        gw_req_reply(req, 200, &out);
    } else if (reply) {
        gw_req_fail_bus(req, reply, "store-service");
    }
    cm_msg_destroy(&reply);
    free(name);
}

//  True when s is all digits, 1 to 24 of them.
static bool
s_digits(const char *s, size_t n)
{
    if (n == 0 || n > 24) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

//  Look one side up: `key` is "lid" or "pn" with its normalized value;
//  an unknown pair answers that side alone.
static void
s_lookup(gw_req_t *req, const char *name, const char *key, const char *value)
{
    cm_msg_t *msg = cm_msg_new("lid.get");
    cm_msg_set_str(msg, "session", name);
    cm_msg_set_str(msg, key, value);
    cm_msg_t *reply = s_ask(req, name, &msg);
    if (!reply) {
        return;
    }
    int st = cm_msg_status(reply);
    const char *lid = cm_msg_str(reply, "lid");
    const char *pn = cm_msg_str(reply, "pn");
    if (st == 200 && lid && pn) {
        json_t *out = json_pack("{s:s, s:s}", "lid", lid, "pn", pn);
        gw_req_reply(req, 200, &out);
    } else if (st == 404) {
        //  Unknown: only the side asked about (WAHA's LidToPhoneNumber
        //  has both optional)
        json_t *out = json_pack("{s:s}", key, value);
        gw_req_reply(req, 200, &out);
    } else if (st == 400) {
        gw_req_fail_invalid(req, cm_msg_str(reply, "reason")
                                     ? cm_msg_str(reply, "reason")
                                     : "bad request");
    } else {
        gw_req_fail_bus(req, reply, "store-service");
    }
    cm_msg_destroy(&reply);
}

void
gw_lids_by_lid(gw_req_t *req)
{
    //  "123" or "123@lid" (WAHA appends @lid); anything else is 422
    const char *text = gw_req_param(req, "lid");
    const char *at = text ? strchr(text, '@') : NULL;
    size_t n = text ? (at ? (size_t)(at - text) : strlen(text)) : 0;
    if (!text || !s_digits(text, n) || (at && !cm_streq(at, "@lid"))) {
        gw_req_fail(req, 422, NULL, "%s",
                    "lid must be a LID such as 123123123@lid");
        return;
    }
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    char *lid = cm_sprintf("%.*s@lid", (int)n, text);
    s_lookup(req, name, "lid", lid);
    free(lid);
    free(name);
}

void
gw_lids_by_pn(gw_req_t *req)
{
    const char *text = gw_req_param(req, "phoneNumber");
    char *pn = text ? gw_messages_chat_id_of(text, GW_CHAT_PERSON) : NULL;
    if (!pn || !strstr(pn, "@c.us")) {
        free(pn);
        gw_req_fail_invalid(req, "phoneNumber must be a phone number or a "
                                 "chat id such as 12132132130@c.us");
        return;
    }
    char *name = gw_sessions_name_of(req);
    if (name) {
        s_lookup(req, name, "pn", pn);
    }
    free(name);
    free(pn);
}

static const char *s_schemas =
    "{\"LidToPhoneNumber\":{\"type\":\"object\",\"properties\":{"
    "\"lid\":{\"type\":\"string\",\"example\":\"123123123@lid\"},"
    "\"pn\":{\"type\":\"string\",\"example\":\"12132132130@c.us\"}}},"
    "\"LidList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/LidToPhoneNumber\"}}}";

json_t *
gw_lids_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

void
gw_lids_test(bool verbose)
{
    printf(" * gw_lids: ");
    (void)verbose;
    //  Input is checked before anything is asked of the store
    const char *lids[][2] = {{"abc", "422"},
                             {"123@c.us", "422"},
                             {"12a@lid", "422"},
                             {"1234567890123456789012345", "422"},
                             {NULL, NULL}};
    for (int i = 0; lids[i][0]; i++) {
        gw_req_t *req = gw_req_new("GET", "/api/s1/lids/x");
        json_object_set_new(gw_req_params(req), "session", json_string("s1"));
        json_object_set_new(gw_req_params(req), "lid", json_string(lids[i][0]));
        gw_lids_by_lid(req);
        assert(gw_req_status(req) == 422);
        assert(strstr(gw_req_response(req), "lid must be a LID"));
        gw_req_destroy(&req);
    }
    gw_req_t *req = gw_req_new("GET", "/api/s1/lids/pn/x");
    json_object_set_new(gw_req_params(req), "session", json_string("s1"));
    json_object_set_new(gw_req_params(req), "phoneNumber",
                        json_string("not-a-number"));
    gw_lids_by_pn(req);
    assert(gw_req_status(req) == 400);
    assert(strstr(gw_req_response(req), "phoneNumber must be"));
    gw_req_destroy(&req);
    req = gw_req_new("GET", "/api/s1/lids");
    json_object_set_new(gw_req_params(req), "session", json_string("bad name"));
    gw_lids_count(req);
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);
    json_t *schemas = gw_lids_schemas();
    assert(json_object_get(schemas, "LidToPhoneNumber"));
    assert(json_object_get(schemas, "LidList"));
    json_decref(schemas);
    printf("OK\n");
}
