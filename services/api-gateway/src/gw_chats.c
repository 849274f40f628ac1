/*  gw_chats - chats and their messages, as kept by store-service

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  Parse optional boolean query `key` ("true"/"false"/"1"/"0"): *out is
//  1, 0, or -1 when absent. Returns 0, or -1 after a 400.
static int
s_query_bool(gw_req_t *req, const char *key, int *out)
{
    const char *v = gw_req_query(req, key);
    *out = -1;
    if (!v) {
        return 0;
    }
    if (cm_streq(v, "true") || cm_streq(v, "1")) {
        *out = 1;
    } else if (cm_streq(v, "false") || cm_streq(v, "0")) {
        *out = 0;
    } else {
        char *msg = cm_sprintf("%s must be true or false", key);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return -1;
    }
    return 0;
}

//  limit and offset into `msg`. Returns 0, or -1 after a 400.
static int
s_page(gw_req_t *req, cm_msg_t *msg)
{
    int64_t limit = 0, offset = 0;
    if (gw_req_query_int(req, "limit", 1, GW_CHATS_LIST_MAX,
                         GW_CHATS_LIST_DEFAULT, &limit, NULL) ||
        gw_req_query_int(req, "offset", 0, 1000000, 0, &offset, NULL)) {
        return -1;
    }
    cm_msg_set_int(msg, "limit", limit);
    cm_msg_set_int(msg, "offset", offset);
    return 0;
}

//  Ask the store and answer with the array under `key`, or the error.
static void
s_answer(gw_req_t *req, const char *name, cm_msg_t **msg_p, const char *key)
{
    json_t *session = gw_messages_session(req, name);
    if (!session) {
        cm_msg_destroy(msg_p);
        return; //  404 or 5xx already answered
    }
    json_decref(session);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, msg_p, 0);
    int st = cm_msg_status(reply);
    json_t *list = json_object_get(cm_msg_body(reply), key);
    if (st == 200 && json_is_array(list)) {
        json_incref(list);
        gw_req_reply(req, 200, &list);
    } else if (st == 400) {
        gw_req_fail_invalid(req, cm_msg_str(reply, "reason")
                                     ? cm_msg_str(reply, "reason")
                                     : "bad request");
    } else {
        gw_req_fail_bus(req, reply, "store-service");
    }
    cm_msg_destroy(&reply);
}

static void
s_list(gw_req_t *req, const char *name)
{
    const char *sort_by = gw_req_query(req, "sortBy");
    const char *order = gw_req_query(req, "sortOrder");
    if (sort_by && !cm_streq(sort_by, "conversationTimestamp") &&
        !cm_streq(sort_by, "id") && !cm_streq(sort_by, "name")) {
        gw_req_fail_invalid(req,
                            "sortBy must be conversationTimestamp, id or name");
        return;
    }
    if (order && strcasecmp(order, "asc") != 0 &&
        strcasecmp(order, "desc") != 0) {
        gw_req_fail_invalid(req, "sortOrder must be asc or desc");
        return;
    }
    cm_msg_t *msg = cm_msg_new("chat.list");
    cm_msg_set_str(msg, "session", name);
    if (sort_by) {
        cm_msg_set_str(msg, "sortBy", sort_by);
    }
    if (order) {
        cm_msg_set_str(msg, "sortOrder", order);
    }
    if (s_page(req, msg)) {
        cm_msg_destroy(&msg);
        return;
    }
    s_answer(req, name, &msg, "chats");
}

static void
s_messages(gw_req_t *req, const char *name)
{
    const char *param = gw_req_param(req, "chatId");
    char *chat = param ? gw_messages_chat_id(param) : NULL;
    if (!chat) {
        gw_req_fail_invalid(req, "chatId must be a phone number or a chat id "
                                 "(…@c.us, …@g.us)");
        return;
    }
    int from_me = -1, download = -1;
    if (s_query_bool(req, "filter.fromMe", &from_me) ||
        s_query_bool(req, "downloadMedia", &download)) {
        free(chat);
        return;
    }
    cm_msg_t *msg = cm_msg_new("message.list");
    cm_msg_set_str(msg, "session", name);
    cm_msg_set_str(msg, "chat", chat);
    free(chat);
    if (from_me >= 0) {
        cm_msg_set_bool(msg, "fromMe", from_me == 1);
    }
    if (s_page(req, msg)) {
        cm_msg_destroy(&msg);
        return;
    }
    s_answer(req, name, &msg, "messages");
}

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

void
gw_chats_list(gw_req_t *req)
{
    const char *name = s_path_session(req);
    if (name) {
        s_list(req, name);
    }
}

void
gw_chats_messages(gw_req_t *req)
{
    const char *name = s_path_session(req);
    if (name) {
        s_messages(req, name);
    }
}

void
gw_chats_read(gw_req_t *req)
{
    const char *name = s_path_session(req);
    if (!name) {
        return;
    }
    const char *param = gw_req_param(req, "chatId");
    char *chat =
        param ? gw_messages_chat_id_of(param, GW_CHAT_PERSON | GW_CHAT_GROUP)
              : NULL;
    if (!chat) {
        gw_req_fail_invalid(req, "chatId must be a phone number or a person "
                                 "or group chat id (…@c.us, …@g.us)");
        return;
    }
    int64_t count = 0, days = 0;
    if (gw_req_query_int(req, "messages", 1, GW_MESSAGES_SEEN_MAX, 30, &count,
                         NULL) ||
        gw_req_query_int(req, "days", 1, 365, 7, &days, NULL)) {
        free(chat);
        return;
    }
    static const char *const working[] = {"WORKING", NULL};
    json_t *session = gw_messages_session(req, name);
    json_t *ids = NULL;
    if (session && gw_messages_status_is(req, session, working) &&
        gw_messages_read_unread(req, session, chat, count,
                                cm_now_ms() / 1000 - days * 86400, &ids) == 0) {
        json_t *out = json_pack("{s:O}", "ids", ids);
        gw_req_reply(req, 201, &out);
    }
    json_decref(ids);
    json_decref(session);
    free(chat);
}

void
gw_chats_wawp_list(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (name) {
        s_list(req, name);
        free(name);
    }
}

void
gw_chats_wawp_messages(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (name) {
        s_messages(req, name);
        free(name);
    }
}

static const char *s_schemas =
    "{\"Chat\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\",\"example\":\"11111111111@c.us\"},\"name\":{\"type\":"
    "\"string\",\"nullable\":true},\"conversationTimestamp\":{\"type\":"
    "\"integer\",\"description\":\"Unix seconds of the last message\"}}},"
    "\"ChatList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/Chat\"}},"
    "\"WAMessageList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/WAMessage\"}},"
    "\"ReadChatMessagesResponse\":{\"type\":\"object\",\"properties\":"
    "{\"ids\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
    "\"description\":\"Ids of the messages read\"}}}}";

json_t *
gw_chats_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas);
    return schemas;
}

//  --------------------------------------------------------------------

void
gw_chats_test(bool verbose)
{
    printf(" * gw_chats: ");
    json_t *schemas = gw_chats_schemas();
    assert(json_object_get(schemas, "ChatList"));
    assert(json_object_get(schemas, "WAMessageList"));
    json_decref(schemas);

    //  Input checks answer before anything is asked of the store
    gw_req_t *req = gw_req_new("GET", "/api/default/chats");
    gw_req_set_query(req, "sortBy", "unread");
    s_list(req, "default");
    assert(gw_req_status(req) == 400 && strstr(gw_req_response(req), "sortBy"));
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/api/default/chats");
    gw_req_set_query(req, "sortOrder", "up");
    s_list(req, "default");
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "sortOrder"));
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/api/default/chats");
    gw_req_set_query(req, "limit", "0");
    s_list(req, "default");
    assert(gw_req_status(req) == 400 && strstr(gw_req_response(req), "limit"));
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/api/default/chats/x/messages");
    gw_req_set_query(req, "filter.fromMe", "maybe");
    int v = 0;
    assert(s_query_bool(req, "filter.fromMe", &v) == -1);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "filter.fromMe"));
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/api/default/chats/x/messages");
    gw_req_set_query(req, "filter.fromMe", "false");
    assert(s_query_bool(req, "filter.fromMe", &v) == 0 && v == 0);
    assert(s_query_bool(req, "downloadMedia", &v) == 0 && v == -1);
    gw_req_destroy(&req);
    printf("OK\n");
}
