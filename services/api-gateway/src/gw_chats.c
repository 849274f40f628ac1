/*  gw_chats - chats and their messages, as kept by store-service

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  Parse optional boolean query `key` ("true"/"false"/"1"/"0"): *out is
//  1, 0, or -1 when absent. Returns 0, or -1 after a 400.
static int
s_query_bool(gw_req_t *req, const char *key, int *out)
{
    bool value = false;
    *out = -1;
    if (!gw_req_query(req, key)) {
        return 0;
    }
    if (gw_req_query_bool(req, key, false, &value)) {
        return -1;
    }
    *out = value ? 1 : 0;
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
//  download: 1 downloadMedia=true (WAHA's default): media not downloaded
//  yet is now; 0 false: without the downloaded files; -1 as stored.
static void
s_answer(gw_req_t *req, const char *name, cm_msg_t **msg_p, const char *key,
         int download)
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
        size_t i;
        json_t *m;
        json_array_foreach(list, i, m)
        {
            if (download == 0) { //  downloadMedia=false
                gw_media_undownload(m);
            }
        }
        if (download == 1) {
            gw_media_download(req, name, list);
        }
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
    s_answer(req, name, &msg, "chats", -1);
}

//  WAHA's ack names, by level (-1..4)
static const char *const s_ack_names[] = {"ERROR",  "PENDING", "SERVER",
                                          "DEVICE", "READ",    "PLAYED"};

//  The messages list's sort and filters onto msg: sortBy, sortOrder,
//  filter.timestamp.gte/lte (seconds) and filter.ack (a name or -1..4).
//  Returns 0, or -1 after a 400 naming the field.
static int
s_messages_filters(gw_req_t *req, cm_msg_t *msg)
{
    const char *sort_by = gw_req_query(req, "sortBy");
    const char *order = gw_req_query(req, "sortOrder");
    if (sort_by && !cm_streq(sort_by, "timestamp") &&
        !cm_streq(sort_by, "messageTimestamp")) {
        gw_req_fail_invalid(req,
                            "sortBy must be timestamp or messageTimestamp");
        return -1;
    }
    if (order && strcasecmp(order, "asc") != 0 &&
        strcasecmp(order, "desc") != 0) {
        gw_req_fail_invalid(req, "sortOrder must be asc or desc");
        return -1;
    }
    if (order && strcasecmp(order, "asc") == 0) {
        cm_msg_set_str(msg, "sortOrder", "asc");
    }
    int64_t gte = 0, lte = 0;
    bool has_gte = false, has_lte = false;
    if (gw_req_query_int(req, "filter.timestamp.gte", 0, GW_CHATS_TS_MAX, 0,
                         &gte, &has_gte) ||
        gw_req_query_int(req, "filter.timestamp.lte", 0, GW_CHATS_TS_MAX, 0,
                         &lte, &has_lte)) {
        return -1;
    }
    if (has_gte) {
        cm_msg_set_int(msg, "tsGte", gte);
    }
    if (has_lte) {
        cm_msg_set_int(msg, "tsLte", lte);
    }
    const char *ack = gw_req_query(req, "filter.ack");
    if (ack) {
        int level = -2;
        for (int i = 0; i < 6; i++) {
            char num[4];
            snprintf(num, sizeof num, "%d", i - 1);
            if (strcasecmp(ack, s_ack_names[i]) == 0 || cm_streq(ack, num)) {
                level = i - 1;
            }
        }
        if (level == -2) {
            gw_req_fail_invalid(req, "filter.ack must be one of ERROR, "
                                     "PENDING, SERVER, DEVICE, READ, "
                                     "PLAYED (or -1..4)");
            return -1;
        }
        cm_msg_set_int(msg, "ack", level);
    }
    return 0;
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
    if (s_messages_filters(req, msg)) {
        cm_msg_destroy(&msg);
        return;
    }
    if (s_page(req, msg)) {
        cm_msg_destroy(&msg);
        return;
    }
    //  WAHA's default is true
    s_answer(req, name, &msg, "messages", download == 0 ? 0 : 1);
}

void
gw_chats_list(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    if (name) {
        s_list(req, name);
    }
}

void
gw_chats_messages(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    if (name) {
        s_messages(req, name);
    }
}

void
gw_chats_messages_old(gw_req_t *req)
{
    //  WAHA's deprecated GET /api/messages?session=&chatId=: the chat's
    //  messages route with chatId from the query
    const char *name = gw_messages_session_name(req);
    const char *chat = name ? gw_req_query(req, "chatId") : NULL;
    if (chat) {
        json_object_set_new(gw_req_params(req), "chatId", json_string(chat));
    }
    if (name) {
        s_messages(req, name);
    }
}

void
gw_chats_read(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
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

//  --------------------------------------------------------------------
//  Overview

void
gw_chats_overview(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    if (!name) {
        return;
    }
    int64_t limit = 20, offset = 0;
    json_t *ids = NULL;
    json_t *body = gw_req_json(req);
    if (body && cm_streq(gw_req_method(req), "POST")) {
        json_t *page = json_object_get(body, "pagination");
        json_t *filter = json_object_get(body, "filter");
        json_t *l = json_object_get(page, "limit");
        json_t *o = json_object_get(page, "offset");
        if ((l && !json_is_integer(l)) || (o && !json_is_integer(o))) {
            gw_req_fail_invalid(req, "pagination.limit and pagination.offset "
                                     "must be integers");
            return;
        }
        limit = l ? json_integer_value(l) : limit;
        offset = o ? json_integer_value(o) : offset;
        json_t *fids = json_object_get(filter, "ids");
        if (fids && !json_is_null(fids)) {
            if (!json_is_array(fids) || json_array_size(fids) > 1000) {
                gw_req_fail_invalid(req, "filter.ids must be an array of chat "
                                         "ids");
                return;
            }
            ids = json_array();
            size_t i;
            json_t *v;
            json_array_foreach(fids, i, v)
            {
                char *id = gw_messages_chat_id(json_string_value(v));
                if (!id) {
                    json_decref(ids);
                    gw_req_fail_invalid(req, "filter.ids must be an array of "
                                             "chat ids");
                    return;
                }
                json_array_append_new(ids, json_string(id));
                free(id);
            }
        }
    } else {
        if (gw_req_query_int(req, "limit", 1, GW_CHATS_LIST_MAX, 20, &limit,
                             NULL) ||
            gw_req_query_int(req, "offset", 0, 1000000, 0, &offset, NULL)) {
            return;
        }
        const char *q = gw_req_query(req, "ids");
        if (q && strlen(q) > 64 * 1024) {
            gw_req_fail_invalid(req, "ids is too long");
            return;
        }
        if (q && *q) {
            ids = json_array();
            char *copy = cm_strdup(q);
            char *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t;
                 t = strtok_r(NULL, ",", &save)) {
                char *id = gw_messages_chat_id(t);
                if (!id || json_array_size(ids) >= 1000) {
                    free(id);
                    free(copy);
                    json_decref(ids);
                    gw_req_fail_invalid(req, "ids must be chat ids separated "
                                             "by commas");
                    return;
                }
                json_array_append_new(ids, json_string(id));
                free(id);
            }
            free(copy);
        }
    }
    if (limit < 1 || limit > GW_CHATS_LIST_MAX || offset < 0) {
        json_decref(ids);
        gw_req_fail_invalid(req, "limit must be 1..1000 and offset >= 0");
        return;
    }
    json_t *session = gw_messages_session(req, name);
    if (!session) {
        json_decref(ids);
        return;
    }
    json_decref(session);
    cm_msg_t *msg = cm_msg_new("chat.list");
    cm_msg_set_str(msg, "session", name);
    cm_msg_set_int(msg, "limit", limit);
    cm_msg_set_int(msg, "offset", offset);
    if (ids) {
        cm_msg_set(msg, "ids", ids);
    }
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    json_t *chats = json_object_get(cm_msg_body(reply), "chats");
    if (cm_msg_status(reply) != 200 || !json_is_array(chats)) {
        gw_req_fail_bus(req, reply, "store-service");
        cm_msg_destroy(&reply);
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(chats, i, c)
    {
        json_array_append_new(
            out, json_pack("{s:O, s:O, s:O, s:O, s:O}", "id",
                           json_object_get(c, "id"), "name",
                           json_object_get(c, "name"), "picture",
                           json_object_get(c, "picture"), "lastMessage",
                           json_object_get(c, "lastMessage"), "_chat", c));
    }
    cm_msg_destroy(&reply);
    gw_req_reply(req, cm_streq(gw_req_method(req), "POST") ? 201 : 200, &out);
}

//  --------------------------------------------------------------------
//  App-state actions

static const char *const s_working[] = {"WORKING", NULL};

//  Send `type` with body (taken) to the worker of session `name`; answer
//  {success: true} with `status`. When `chat` is set the chat must be
//  known to the store (404 otherwise).
static void
s_action(gw_req_t *req, const char *name, const char *chat, const char *type,
         json_t *body, int status)
{
    json_t *session = gw_messages_session(req, name);
    if (!session || !gw_messages_status_is(req, session, s_working)) {
        json_decref(session);
        json_decref(body);
        return;
    }
    if (chat) {
        cm_msg_t *msg = cm_msg_new("chat.get");
        cm_msg_set_str(msg, "name", name);
        cm_msg_set_str(msg, "chat", chat);
        cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
        int st = cm_msg_status(reply);
        if (st == 404) {
            gw_req_fail(req, 404, NULL, "Chat %s not found", chat);
        } else if (st != 200) {
            gw_req_fail_bus(req, reply, "store-service");
        }
        cm_msg_destroy(&reply);
        if (st != 200) {
            json_decref(session);
            json_decref(body);
            return;
        }
    }
    cm_msg_t *reply = gw_messages_command(req, session, type, &body,
                                          GW_CHATS_ACTION_TIMEOUT_MS);
    json_decref(body);
    json_decref(session);
    if (reply) {
        json_t *out = json_pack("{s:b}", "success", true);
        gw_req_reply(req, status, &out);
        cm_msg_destroy(&reply);
    }
}

//  A chat action on the {chatId} path parameter with body (taken; chatId
//  is added).
static void
s_chat_action(gw_req_t *req, const char *type, json_t *body, int status)
{
    const char *name = gw_sessions_path_name(req);
    char *chat = name ? gw_messages_chat_id(gw_req_param(req, "chatId")) : NULL;
    if (!chat) {
        if (name) {
            gw_req_fail_invalid(req, "chatId must be a phone number or a "
                                     "chat id (…@c.us, …@g.us)");
        }
        json_decref(body);
        return;
    }
    json_object_set_new(body, "chatId", json_string(chat));
    s_action(req, name, chat, type, body, status);
    free(chat);
}

void
gw_chats_archive(gw_req_t *req)
{
    s_chat_action(req, "chat.archive", json_pack("{s:b}", "archived", true),
                  201);
}

void
gw_chats_unarchive(gw_req_t *req)
{
    s_chat_action(req, "chat.archive", json_pack("{s:b}", "archived", false),
                  201);
}

void
gw_chats_unread(gw_req_t *req)
{
    s_chat_action(req, "chat.mark", json_pack("{s:b}", "read", false), 201);
}

void
gw_chats_pin(gw_req_t *req)
{
    s_chat_action(req, "chat.pin", json_pack("{s:b}", "pinned", true), 201);
}

void
gw_chats_unpin(gw_req_t *req)
{
    s_chat_action(req, "chat.pin", json_pack("{s:b}", "pinned", false), 201);
}

void
gw_chats_mute(gw_req_t *req)
{
    json_t *d = gw_req_input(req, "duration");
    json_t *body = json_pack("{s:b}", "muted", true);
    if (d && !json_is_null(d)) {
        if (!json_is_integer(d) || json_integer_value(d) <= 0 ||
            json_integer_value(d) > 10LL * 365 * 86400) {
            json_decref(body);
            gw_req_fail_invalid(req, "duration must be seconds (1..10 "
                                     "years)");
            return;
        }
        json_object_set_new(
            body, "until",
            json_integer((json_int_t)time(NULL) + json_integer_value(d)));
    }
    s_chat_action(req, "chat.mute", body, 201);
}

void
gw_chats_unmute(gw_req_t *req)
{
    s_chat_action(req, "chat.mute", json_pack("{s:b}", "muted", false), 201);
}

void
gw_chats_delete(gw_req_t *req)
{
    s_chat_action(req, "chat.delete", json_object(), 200);
}

void
gw_chats_clear(gw_req_t *req)
{
    s_chat_action(req, "chat.clear", json_object(), 200);
}

void
gw_chats_star(gw_req_t *req)
{
    const char *name = NULL;
    if (gw_req_family(req) == GW_FAMILY_WAWP) {
        name = gw_sessions_path_name(req); //  instance_id
        if (!name) {
            return;
        }
    } else {
        name = gw_req_input_str(req, "session");
        if (!gw_sessions_name_valid(name)) {
            gw_req_fail_invalid(req,
                                "session must match ^[A-Za-z0-9_-]{1,64}$");
            return;
        }
    }
    char *chat = gw_messages_chat_id(gw_req_input_str(req, "chatId"));
    const char *mid = gw_req_input_str(req, "messageId");
    json_t *star = gw_req_input(req, "star");
    if (!chat) {
        gw_req_fail_invalid(req, "chatId must be a chat id");
        return;
    }
    if (!mid || !*mid || strlen(mid) > 256) {
        free(chat);
        gw_req_fail_invalid(req, "messageId must be a message id");
        return;
    }
    if (!json_is_boolean(star)) {
        free(chat);
        gw_req_fail_invalid(req, "star must be true or false");
        return;
    }
    //  WAHA's id "true_<chat>_<id>[_<participant>]" or a bare id
    bool from_me = false;
    char *raw = NULL;
    if (strncmp(mid, "true_", 5) == 0 || strncmp(mid, "false_", 6) == 0) {
        from_me = mid[0] == 't';
        const char *rest = strchr(mid, '_') + 1;
        const char *sep = strchr(rest, '_');
        if (!sep || !sep[1]) {
            free(chat);
            gw_req_fail_invalid(req, "messageId must be a message id");
            return;
        }
        raw = cm_strdup(sep + 1);
        char *tail = strchr(raw, '_');
        if (tail) {
            *tail = 0;
        }
    } else {
        raw = cm_strdup(mid);
    }
    json_t *body = json_pack("{s:s, s:s, s:b, s:O}", "chatId", chat,
                             "messageId", raw, "fromMe", from_me, "star", star);
    s_action(req, name, NULL, "message.star", body, 200);
    free(raw);
    free(chat);
}

void
gw_chats_contact_upsert(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    char *chat = name ? gw_messages_chat_id(gw_req_param(req, "chatId")) : NULL;
    if (!chat || !strstr(chat, "@c.us")) {
        if (name) {
            gw_req_fail_invalid(req, "chatId must be a phone number or a "
                                     "contact id (…@c.us)");
        }
        free(chat);
        return;
    }
    const char *first = gw_req_input_str(req, "firstName");
    const char *last = gw_req_input_str(req, "lastName");
    if (!first || !*first || strlen(first) > 100 ||
        (last && strlen(last) > 100)) {
        free(chat);
        gw_req_fail_invalid(req, "firstName must be 1..100 bytes, lastName "
                                 "at most 100");
        return;
    }
    json_t *body = json_pack("{s:s, s:s}", "chatId", chat, "firstName", first);
    if (last && *last) {
        json_object_set_new(body, "lastName", json_string(last));
    }
    s_action(req, name, NULL, "contact.upsert", body, 200);
    free(chat);
}

void
gw_chats_picture(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    char *chat = name ? gw_messages_chat_id(gw_req_param(req, "chatId")) : NULL;
    const char *refresh = chat ? gw_req_input_str(req, "refresh") : NULL;
    if (!chat) {
        if (name) {
            gw_req_fail_invalid(req, "chatId must be a phone number or a "
                                     "chat id (…@c.us, …@g.us)");
        }
        return;
    }
    if (refresh && !cm_streq(refresh, "true") && !cm_streq(refresh, "false")) {
        gw_req_fail_invalid(req, "refresh must be true or false");
        free(chat);
        return;
    }
    json_t *session = gw_messages_session(req, name);
    if (session && gw_messages_status_is(req, session, s_working)) {
        //  The person's or the group's picture, as the contact and group
        //  routes read it (kept 24 hours unless refresh=true)
        json_t *body = json_pack("{s:s, s:b}", "id", chat, "refresh",
                                 cm_streq(refresh, "true"));
        cm_msg_t *reply = gw_messages_command(
            req, session, "contact.picture", &body, GW_CHATS_ACTION_TIMEOUT_MS);
        json_decref(body);
        if (reply) {
            json_t *url = json_object_get(cm_msg_body(reply), "url");
            json_t *out = json_pack("{s:O}", "url",
                                    json_is_string(url) ? url : json_null());
            gw_req_reply(req, 200, &out);
            cm_msg_destroy(&reply);
        }
    }
    json_decref(session);
    free(chat);
}

static const char *s_schemas =
    "{\"Chat\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\",\"example\":\"11111111111@c.us\"},\"name\":{\"type\":"
    "\"string\",\"nullable\":true},\"conversationTimestamp\":{\"type\":"
    "\"integer\",\"description\":\"Unix seconds of the last message\"}}},"
    "\"ChatList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/Chat\"}},"
    "\"ChatSummary\":{\"type\":\"object\",\"properties\":{\"id\":{"
    "\"type\":\"string\"},\"name\":{\"type\":\"string\",\"nullable\":"
    "true},\"picture\":{\"type\":\"string\",\"nullable\":true},"
    "\"lastMessage\":{\"type\":\"object\",\"nullable\":true},\"_chat\":"
    "{\"$ref\":\"#/components/schemas/Chat\"}}},"
    "\"ChatSummaryList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/ChatSummary\"}},"
    "\"ChatsOverviewRequest\":{\"type\":\"object\",\"properties\":{"
    "\"pagination\":{\"type\":\"object\",\"properties\":{\"limit\":{"
    "\"type\":\"integer\"},\"offset\":{\"type\":\"integer\"}}},"
    "\"filter\":{\"type\":\"object\",\"properties\":{\"ids\":{"
    "\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}}},"
    "\"MuteRequest\":{\"type\":\"object\",\"properties\":{\"duration\":"
    "{\"type\":\"integer\",\"description\":\"seconds; none: forever\"}}},"
    "\"StarRequest\":{\"type\":\"object\",\"required\":[\"session\","
    "\"chatId\",\"messageId\",\"star\"],\"properties\":{\"session\":{"
    "\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},"
    "\"messageId\":{\"type\":\"string\"},\"star\":{\"type\":"
    "\"boolean\"}}},"
    "\"ContactUpsertRequest\":{\"type\":\"object\",\"required\":["
    "\"firstName\"],\"properties\":{\"firstName\":{\"type\":\"string\"},"
    "\"lastName\":{\"type\":\"string\"}}},"
    "\"ChatPictureResponse\":{\"type\":\"object\",\"properties\":{"
    "\"url\":{\"type\":\"string\",\"nullable\":true,\"description\":"
    "\"null when the chat has no picture\"}}},"
    "\"Success\":{\"type\":\"object\",\"properties\":{\"success\":{"
    "\"type\":\"boolean\"}}},"
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
