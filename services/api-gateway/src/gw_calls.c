/*  gw_calls - calls: reject an incoming call

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

static const char *const s_working[] = {"WORKING", NULL};

void
gw_calls_reject(gw_req_t *req)
{
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return;
    }
    const char *from = gw_req_input_str(req, "from");
    const char *id = gw_req_input_str(req, "id");
    char *caller = from ? gw_messages_chat_id_of(from, GW_CHAT_PERSON) : NULL;
    if (!caller) {
        gw_req_fail_invalid(req, from ? "from must be the caller's chat id, "
                                        "such as 12132132130@c.us"
                                      : "from is required");
        return;
    }
    if (!id || !*id || strlen(id) > GW_CALLS_ID_MAX) {
        free(caller);
        gw_req_fail_invalid(req, id ? "id must be the call's id (at most 128 "
                                      "bytes)"
                                    : "id is required");
        return;
    }
    json_t *session = gw_messages_session(req, name);
    if (session && gw_messages_status_is(req, session, s_working)) {
        json_t *body = json_pack("{s:s, s:s}", "from", caller, "id", id);
        cm_msg_t *reply =
            gw_messages_command(req, session, "call.reject", &body, 0);
        json_decref(body);
        if (reply) {
            json_t *out = json_pack("{s:b}", "success", 1);
            gw_req_reply(req, 200, &out);
            cm_msg_destroy(&reply);
        }
    }
    json_decref(session);
    free(caller);
}

static const char *s_schemas =
    "{\"RejectCallRequest\":{\"type\":\"object\",\"required\":[\"from\","
    "\"id\"],\"properties\":{\"from\":{\"type\":\"string\",\"example\":"
    "\"12132132130@c.us\"},\"id\":{\"type\":\"string\",\"example\":"
    "\"ABCDEFGABCDEFGABCDEFGABCDEFG\"}}}}";

json_t *
gw_calls_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

void
gw_calls_test(bool verbose)
{
    printf(" * gw_calls: ");
    (void)verbose;
    const char *bodies[][2] = {
        {"{\"id\":\"C1\"}", "from is required"},
        {"{\"from\":\"x\",\"id\":\"C1\"}", "from must be"},
        {"{\"from\":\"15551234567@c.us\"}", "id is required"},
        {"{\"from\":\"15551234567@c.us\",\"id\":\"\"}", "id must be"},
        {NULL, NULL}};
    for (int i = 0; bodies[i][0]; i++) {
        gw_req_t *req = gw_req_new("POST", "/api/s1/calls/reject");
        json_object_set_new(gw_req_params(req), "session", json_string("s1"));
        assert(gw_req_append_body(req, bodies[i][0], strlen(bodies[i][0]),
                                  1 << 20) == 0);
        gw_req_set_header(req, "Content-Type", "application/json");
        assert(gw_req_parse_body(req) == 0);
        gw_calls_reject(req);
        assert(gw_req_status(req) == 400);
        assert(strstr(gw_req_response(req), bodies[i][1]));
        gw_req_destroy(&req);
    }
    json_t *schemas = gw_calls_schemas();
    assert(json_object_get(schemas, "RejectCallRequest"));
    json_decref(schemas);
    printf("OK\n");
}
