/*  gw_presence - presence and chat states

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

static const char *const s_working[] = {"WORKING", NULL};

static const char *const s_presences[] = {"online",    "offline", "typing",
                                          "recording", "paused",  NULL};

//  The {session} path parameter, or NULL after a 400.
static const char *
s_path_session(gw_req_t *req)
{
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return NULL;
    }
    return name;
}

//  A person or group chat id from `text`, normalised; NULL after a 400
//  naming `field` (`required`: absent is an error too, else NULL without
//  a response when absent).
static char *
s_chat(gw_req_t *req, const char *text, const char *field, bool required,
       bool *absent)
{
    *absent = !text || !*text;
    if (*absent && !required) {
        return NULL;
    }
    char *chat =
        *absent ? NULL
                : gw_messages_chat_id_of(text, GW_CHAT_PERSON | GW_CHAT_GROUP);
    if (!chat) {
        char *msg = *absent ? cm_sprintf("%s is required", field)
                            : cm_sprintf("%s must be a phone number or a "
                                         "person or group chat id (…@c.us, "
                                         "…@lid, …@g.us)",
                                         field);
        gw_req_fail_invalid(req, msg);
        free(msg);
    }
    return chat;
}

//  Look the session up, check it is WORKING and run `type` with body
//  (taken). Returns the worker's reply, or NULL after an error response.
static cm_msg_t *
s_command(gw_req_t *req, const char *name, const char *type, json_t **body_p)
{
    json_t *session = gw_messages_session(req, name);
    cm_msg_t *reply = NULL;
    if (session && gw_messages_status_is(req, session, s_working)) {
        reply = gw_messages_command(req, session, type, body_p, 0);
    }
    json_decref(session);
    json_decref(body_p ? *body_p : NULL);
    if (body_p) {
        *body_p = NULL;
    }
    return reply;
}

//  presence.set for `presence` in chatId (NULL for online/offline);
//  answers `success` with {} or, when `result`, {result:true}.
static void
s_set(gw_req_t *req, const char *name, const char *presence, int success,
      bool result)
{
    bool chat_state =
        !cm_streq(presence, "online") && !cm_streq(presence, "offline");
    bool absent = false;
    char *chat =
        s_chat(req, gw_req_input_str(req, "chatId"), "chatId", false, &absent);
    if (!chat && !absent) {
        return; //  400 answered
    }
    if (chat_state && absent) {
        free(chat);
        gw_req_fail_invalid(req, "chatId is required for typing, recording "
                                 "and paused");
        return;
    }
    json_t *body = json_pack("{s:s}", "presence", presence);
    if (chat && chat_state) {
        json_object_set_new(body, "chatId", json_string(chat));
    }
    free(chat);
    cm_msg_t *reply = s_command(req, name, "presence.set", &body);
    if (reply) {
        json_t *out = result ? json_pack("{s:b}", "result", 1) : json_object();
        gw_req_reply(req, success, &out);
        cm_msg_destroy(&reply);
    }
}

//  POST presence: the presence from the input.
static void
s_set_input(gw_req_t *req, const char *name, int success)
{
    json_t *v = gw_req_input(req, "presence");
    const char *presence = json_string_value(v);
    bool known = false;
    for (size_t i = 0; presence && s_presences[i]; i++) {
        known = known || cm_streq(presence, s_presences[i]);
    }
    if (!known) {
        gw_req_fail_invalid(req, v ? "presence must be one of online, "
                                     "offline, typing, recording, paused"
                                   : "presence is required");
        return;
    }
    s_set(req, name, presence, success, false);
}

static void
s_list(gw_req_t *req, const char *name)
{
    cm_msg_t *reply = s_command(req, name, "presence.get", NULL);
    if (reply) {
        json_t *list = json_object_get(cm_msg_body(reply), "presences");
        json_t *out = json_is_array(list) ? json_incref(list) : json_array();
        gw_req_reply(req, 200, &out);
        cm_msg_destroy(&reply);
    }
}

static void
s_get(gw_req_t *req, const char *name)
{
    bool absent = false;
    char *chat =
        s_chat(req, gw_req_param(req, "chatId"), "chatId", true, &absent);
    if (!chat) {
        return;
    }
    json_t *body = json_pack("{s:s, s:b}", "chatId", chat, "subscribe", 1);
    free(chat);
    cm_msg_t *reply = s_command(req, name, "presence.get", &body);
    if (reply) {
        json_t *out = json_incref(cm_msg_body(reply));
        gw_req_reply(req, 200, &out);
        cm_msg_destroy(&reply);
    }
}

static void
s_subscribe(gw_req_t *req, const char *name, int success)
{
    bool absent = false;
    char *chat =
        s_chat(req, gw_req_param(req, "chatId"), "chatId", true, &absent);
    if (!chat) {
        return;
    }
    json_t *body = json_pack("{s:s}", "chatId", chat);
    free(chat);
    cm_msg_t *reply = s_command(req, name, "presence.subscribe", &body);
    if (reply) {
        json_t *out = json_object();
        gw_req_reply(req, success, &out);
        cm_msg_destroy(&reply);
    }
}

void
gw_presence_set(gw_req_t *req)
{
    const char *name = s_path_session(req);
    if (name) {
        s_set_input(req, name, 201);
    }
}

void
gw_presence_list(gw_req_t *req)
{
    const char *name = s_path_session(req);
    if (name) {
        s_list(req, name);
    }
}

void
gw_presence_get(gw_req_t *req)
{
    const char *name = s_path_session(req);
    if (name) {
        s_get(req, name);
    }
}

void
gw_presence_subscribe(gw_req_t *req)
{
    const char *name = s_path_session(req);
    if (name) {
        s_subscribe(req, name, 201);
    }
}

//  startTyping and friends: chatId is required.
static void
s_typing(gw_req_t *req, const char *name, const char *presence, int success)
{
    const char *text = gw_req_input_str(req, "chatId");
    if (!text || !*text) {
        gw_req_fail_invalid(req, "chatId is required");
        return;
    }
    s_set(req, name, presence, success, true);
}

void
gw_presence_start_typing(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_typing(req, name, "typing", 201);
    }
}

void
gw_presence_stop_typing(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_typing(req, name, "paused", 201);
    }
}

void
gw_presence_start_recording(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_typing(req, name, "recording", 201);
    }
}

void
gw_presence_stop_recording(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_typing(req, name, "paused", 201);
    }
}

//  Wawp: the instance names the session.
#define S_WAWP(fn, call)                                                       \
    void fn(gw_req_t *req)                                                     \
    {                                                                          \
        char *name = gw_sessions_wawp_instance(req);                           \
        if (name) {                                                            \
            call;                                                              \
            free(name);                                                        \
        }                                                                      \
    }
S_WAWP(gw_presence_wawp_set, s_set_input(req, name, 200))
S_WAWP(gw_presence_wawp_list, s_list(req, name))
S_WAWP(gw_presence_wawp_get, s_get(req, name))
S_WAWP(gw_presence_wawp_subscribe, s_subscribe(req, name, 200))
S_WAWP(gw_presence_wawp_start_typing, s_typing(req, name, "typing", 200))
S_WAWP(gw_presence_wawp_stop_typing, s_typing(req, name, "paused", 200))
#undef S_WAWP

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"WAHASessionPresence\":{\"type\":\"object\",\"required\":["
    "\"presence\"],\"properties\":{\"chatId\":{\"type\":\"string\","
    "\"example\":\"11111111111@c.us\",\"description\":\"Required for "
    "typing, recording and paused\"},\"presence\":{\"type\":\"string\","
    "\"enum\":[\"offline\",\"online\",\"typing\",\"recording\","
    "\"paused\"]}}},"
    "\"WAHAPresenceData\":{\"type\":\"object\",\"properties\":"
    "{\"participant\":{\"type\":\"string\",\"example\":"
    "\"11111111111@c.us\"},\"lastKnownPresence\":{\"type\":\"string\","
    "\"enum\":[\"offline\",\"online\",\"typing\",\"recording\","
    "\"paused\"]},\"lastSeen\":{\"type\":\"integer\",\"nullable\":true,"
    "\"description\":\"Unix seconds\"}}},"
    "\"WAHAChatPresences\":{\"type\":\"object\",\"properties\":{\"id\":"
    "{\"type\":\"string\",\"example\":\"11111111111@c.us\"},"
    "\"presences\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/WAHAPresenceData\"}}}},"
    "\"WAHAChatPresencesList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/WAHAChatPresences\"}},"
    "\"ChatRequest\":{\"type\":\"object\",\"required\":[\"chatId\"],"
    "\"properties\":{\"session\":{\"type\":\"string\",\"default\":"
    "\"default\"},\"chatId\":{\"type\":\"string\",\"example\":"
    "\"11111111111@c.us\"}}},"
    "\"ResultTrue\":{\"type\":\"object\",\"properties\":{\"result\":"
    "{\"type\":\"boolean\",\"example\":true}}}"
    "}";

json_t *
gw_presence_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------

void
gw_presence_test(bool verbose)
{
    printf(" * gw_presence: ");
    (void)verbose;
    json_t *schemas = gw_presence_schemas();
    const char *names[] = {"WAHASessionPresence", "WAHAPresenceData",
                           "WAHAChatPresences",   "WAHAChatPresencesList",
                           "ChatRequest",         "ResultTrue"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert(json_is_object(json_object_get(schemas, names[i])));
    }
    json_decref(schemas);
    for (size_t i = 0; s_presences[i]; i++) {
        assert(*s_presences[i]);
    }
    printf("OK\n");
}
