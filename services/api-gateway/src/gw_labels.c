/*  gw_labels - WhatsApp Business labels

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"
#include "wa/wa_syncd.h"

static const char *const s_working[] = {"WORKING", NULL};

//  Ask the store; the reply on 200, else NULL after a response.
static cm_msg_t *
s_store(gw_req_t *req, cm_msg_t **msg_p)
{
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, msg_p, 0);
    if (cm_msg_status(reply) == 200) {
        return reply;
    }
    if (cm_msg_status(reply) == 400) {
        gw_req_fail_invalid(req, cm_msg_reason(reply) ? cm_msg_reason(reply)
                                                      : "bad request");
    } else {
        gw_req_fail_bus(req, reply, "store-service");
    }
    cm_msg_destroy(&reply);
    return NULL;
}

//  The session's labels (caller owns), or NULL after a response.
static json_t *
s_labels(gw_req_t *req, const char *name, const char *chat)
{
    cm_msg_t *msg = cm_msg_new(chat ? "chat.labels" : "label.list");
    cm_msg_set_str(msg, "name", name);
    if (chat) {
        cm_msg_set_str(msg, "chat", chat);
    }
    cm_msg_t *reply = s_store(req, &msg);
    if (!reply) {
        return NULL;
    }
    json_t *labels = json_object_get(cm_msg_body(reply), "labels");
    labels = json_is_array(labels) ? json_incref(labels) : json_array();
    cm_msg_destroy(&reply);
    return labels;
}

//  The label with `id` in labels (borrowed), or NULL.
static json_t *
s_find(json_t *labels, const char *id)
{
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l)
    {
        if (cm_streq(json_string_value(json_object_get(l, "id")), id)) {
            return l;
        }
    }
    return NULL;
}

//  Session row (caller owns) of a WORKING session, or NULL after a
//  response.
static json_t *
s_working_session(gw_req_t *req, const char *name)
{
    json_t *session = gw_messages_session(req, name);
    if (session && !gw_messages_status_is(req, session, s_working)) {
        json_decref(session);
        return NULL;
    }
    return session;
}

//  Send a worker command (body taken). Returns true when it succeeded;
//  false after a response.
static bool
s_command(gw_req_t *req, json_t *session, const char *type, json_t **body_p)
{
    cm_msg_t *reply =
        gw_messages_command(req, session, type, body_p, GW_LABELS_TIMEOUT_MS);
    json_decref(*body_p);
    *body_p = NULL;
    if (!reply) {
        return false;
    }
    cm_msg_destroy(&reply);
    return true;
}

//  name and color of a create/update body. Returns 0, or -1 after a 400.
//  `dflt` is the color when none is given.
static int
s_body(gw_req_t *req, const char **name_p, int *color_p, int dflt)
{
    const char *name = gw_req_input_str(req, "name");
    if (!name || !*name || strlen(name) > GW_LABELS_NAME_MAX) {
        char *msg = cm_sprintf("name must be 1..%d bytes", GW_LABELS_NAME_MAX);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return -1;
    }
    json_t *color = gw_req_input(req, "color");
    const char *hex = gw_req_input_str(req, "colorHex");
    int c = dflt;
    if (color && !json_is_null(color)) {
        c = json_is_integer(color) ? (int)json_integer_value(color) : -1;
        if (json_is_string(color)) {
            char *end = NULL;
            long v = strtol(json_string_value(color), &end, 10);
            c = end && !*end && *json_string_value(color) ? (int)v : -1;
        }
        if (!wa_syncd_label_hex(c)) {
            gw_req_fail_invalid(req, "color must be 0..19");
            return -1;
        }
    } else if (hex) {
        c = wa_syncd_label_color(hex);
        if (c < 0) {
            gw_req_fail_invalid(req, "colorHex must be one of WhatsApp's "
                                     "label colors (#ff9485, #64c4ff, ...)");
            return -1;
        }
    }
    *name_p = name;
    *color_p = c;
    return 0;
}

static json_t *
s_label(const char *id, const char *name, int color)
{
    return json_pack("{s:s, s:s, s:i, s:s}", "id", id, "name", name, "color",
                     color, "colorHex", wa_syncd_label_hex(color));
}

//  A label id path parameter (digits), or NULL after a 400.
static const char *
s_label_id(gw_req_t *req)
{
    const char *id = gw_req_param(req, "labelId");
    size_t n = id ? strlen(id) : 0;
    bool ok = n > 0 && n <= 32;
    for (size_t i = 0; ok && i < n; i++) {
        ok = isdigit((unsigned char)id[i]);
    }
    if (!ok) {
        gw_req_fail_invalid(req, "labelId must be a label id (digits)");
        return NULL;
    }
    return id;
}

//  The chatId path parameter in API form (caller owns), or NULL after a
//  400.
static char *
s_chat(gw_req_t *req)
{
    char *chat = gw_messages_chat_id(gw_req_param(req, "chatId"));
    if (!chat) {
        gw_req_fail_invalid(req, "chatId must be a phone number or a chat id "
                                 "(…@c.us, …@g.us)");
    }
    return chat;
}

void
gw_labels_list(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    json_t *session = name ? gw_messages_session(req, name) : NULL;
    json_t *labels = session ? s_labels(req, name, NULL) : NULL;
    if (labels) {
        gw_req_reply(req, 200, &labels);
    }
    json_decref(session);
}

//  Create (id NULL) or update a label.
static void
s_upsert(gw_req_t *req, const char *id)
{
    const char *name = gw_sessions_path_name(req);
    json_t *session = name ? s_working_session(req, name) : NULL;
    json_t *labels = session ? s_labels(req, name, NULL) : NULL;
    if (!labels) {
        json_decref(session);
        return;
    }
    json_t *old = id ? s_find(labels, id) : NULL;
    const char *label_name = NULL;
    int color = 0;
    char next[24];
    if (id && !old) {
        gw_req_fail(req, 404, NULL, "Label %s not found", id);
    } else if (s_body(
                   req, &label_name, &color,
                   old ? (int)json_integer_value(json_object_get(old, "color"))
                       : 0) == 0) {
        if (!id) {
            //  The next free id
            long max = 0;
            size_t i;
            json_t *l;
            json_array_foreach(labels, i, l)
            {
                long v = atol(json_string_value(json_object_get(l, "id")));
                max = v > max ? v : max;
            }
            snprintf(next, sizeof next, "%ld", max + 1);
            id = next;
        }
        json_t *body = json_pack("{s:s, s:s, s:i}", "id", id, "title",
                                 label_name, "color", color);
        if (s_command(req, session, "label.upsert", &body)) {
            json_t *out = s_label(id, label_name, color);
            gw_req_reply(req, old ? 200 : 201, &out);
        }
    }
    json_decref(labels);
    json_decref(session);
}

void
gw_labels_create(gw_req_t *req)
{
    s_upsert(req, NULL);
}

void
gw_labels_update(gw_req_t *req)
{
    const char *id = s_label_id(req);
    if (id) {
        s_upsert(req, id);
    }
}

void
gw_labels_delete(gw_req_t *req)
{
    const char *id = s_label_id(req);
    const char *name = id ? gw_sessions_path_name(req) : NULL;
    json_t *session = name ? s_working_session(req, name) : NULL;
    json_t *labels = session ? s_labels(req, name, NULL) : NULL;
    if (labels) {
        json_t *old = s_find(labels, id);
        if (!old) {
            gw_req_fail(req, 404, NULL, "Label %s not found", id);
        } else {
            json_t *body = json_pack("{s:s, s:O}", "id", id, "title",
                                     json_object_get(old, "name"));
            if (s_command(req, session, "label.delete", &body)) {
                json_t *out = json_deep_copy(old);
                gw_req_reply(req, 200, &out);
            }
        }
    }
    json_decref(labels);
    json_decref(session);
}

void
gw_labels_of_chat(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    char *chat = name ? s_chat(req) : NULL;
    json_t *session = chat ? gw_messages_session(req, name) : NULL;
    json_t *labels = session ? s_labels(req, name, chat) : NULL;
    if (labels) {
        gw_req_reply(req, 200, &labels);
    }
    json_decref(session);
    free(chat);
}

void
gw_labels_set_chat(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    char *chat = name ? s_chat(req) : NULL;
    if (!chat) {
        return;
    }
    json_t *want = gw_req_input(req, "labels");
    if (!json_is_array(want) || json_array_size(want) > GW_LABELS_SET_MAX) {
        gw_req_fail_invalid(req, "labels must be an array of {id} (at most "
                                 "20)");
        free(chat);
        return;
    }
    json_t *session = s_working_session(req, name);
    json_t *all = session ? s_labels(req, name, NULL) : NULL;
    json_t *have = all ? s_labels(req, name, chat) : NULL;
    json_t *ids = json_array();
    size_t i;
    json_t *l;
    bool ok = have != NULL;
    json_array_foreach(want, i, l)
    {
        if (!ok) {
            break;
        }
        json_t *idv = json_object_get(l, "id");
        const char *id = json_string_value(idv);
        char num[24];
        if (json_is_integer(idv)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(idv));
            id = num;
        }
        if (!id) {
            gw_req_fail_invalid(req, "labels must be an array of {id}");
            ok = false;
        } else if (!s_find(all, id)) {
            gw_req_fail(req, 404, NULL, "Label %s not found", id);
            ok = false;
        } else {
            json_array_append_new(ids, json_string(id));
        }
    }
    //  Add what is wanted and missing, remove what is there and unwanted
    for (int pass = 0; ok && pass < 2; pass++) {
        json_t *from = pass == 0 ? ids : have;
        json_array_foreach(from, i, l)
        {
            const char *id = pass == 0
                                 ? json_string_value(l)
                                 : json_string_value(json_object_get(l, "id"));
            bool in_have = s_find(have, id) != NULL;
            bool in_want = false;
            size_t k;
            json_t *w;
            json_array_foreach(ids, k, w)
            {
                in_want = in_want || cm_streq(json_string_value(w), id);
            }
            if ((pass == 0 && in_have) || (pass == 1 && in_want)) {
                continue;
            }
            json_t *body = json_pack("{s:s, s:s, s:b}", "labelId", id, "chatId",
                                     chat, "labeled", pass == 0);
            if (!s_command(req, session, "label.chat", &body)) {
                ok = false;
                break;
            }
        }
    }
    if (ok) {
        json_t *out = json_array();
        json_array_foreach(ids, i, l)
        {
            json_array_append(out, s_find(all, json_string_value(l)));
        }
        gw_req_reply(req, 200, &out);
    }
    json_decref(ids);
    json_decref(have);
    json_decref(all);
    json_decref(session);
    free(chat);
}

void
gw_labels_chats(gw_req_t *req)
{
    const char *id = s_label_id(req);
    const char *name = id ? gw_sessions_path_name(req) : NULL;
    json_t *session = name ? gw_messages_session(req, name) : NULL;
    if (!session) {
        return;
    }
    json_decref(session);
    cm_msg_t *msg = cm_msg_new("label.chats");
    cm_msg_set_str(msg, "name", name);
    cm_msg_set_str(msg, "labelId", id);
    cm_msg_t *reply = s_store(req, &msg);
    if (!reply) {
        return;
    }
    json_t *ids = json_object_get(cm_msg_body(reply), "chats");
    msg = cm_msg_new("chat.list");
    cm_msg_set_str(msg, "session", name);
    cm_msg_set(msg, "ids",
               json_is_array(ids) ? json_incref(ids) : json_array());
    cm_msg_set_int(msg, "limit", 1000);
    cm_msg_set_int(msg, "offset", 0);
    cm_msg_destroy(&reply);
    reply = s_store(req, &msg);
    if (reply) {
        json_t *chats = json_object_get(cm_msg_body(reply), "chats");
        chats = json_is_array(chats) ? json_incref(chats) : json_array();
        gw_req_reply(req, 200, &chats);
        cm_msg_destroy(&reply);
    }
}

static const char *s_schemas =
    "{\"Label\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\",\"example\":\"1\"},\"name\":{\"type\":\"string\","
    "\"example\":\"New customer\"},\"color\":{\"type\":\"integer\","
    "\"description\":\"WhatsApp label color, 0..19\"},\"colorHex\":{"
    "\"type\":\"string\",\"example\":\"#ff9485\"}}},"
    "\"LabelList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/Label\"}},"
    "\"LabelBody\":{\"type\":\"object\",\"required\":[\"name\"],"
    "\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":100},"
    "\"color\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":19},"
    "\"colorHex\":{\"type\":\"string\"}}},"
    "\"SetLabelsRequest\":{\"type\":\"object\",\"required\":[\"labels\"],"
    "\"properties\":{\"labels\":{\"type\":\"array\",\"items\":{\"type\":"
    "\"object\",\"properties\":{\"id\":{\"type\":\"string\"}}}}}}}";

json_t *
gw_labels_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas);
    return schemas;
}

void
gw_labels_test(bool verbose)
{
    printf(" * gw_labels: ");
    (void)verbose;
    json_t *schemas = gw_labels_schemas();
    assert(json_object_get(schemas, "Label"));
    assert(json_object_get(schemas, "SetLabelsRequest"));
    json_decref(schemas);

    //  Input checks before anything is asked of the store
    gw_req_t *req = gw_req_new("PUT", "/api/default/labels/abc");
    json_object_set_new(gw_req_params(req), "labelId", json_string("abc"));
    gw_labels_update(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "labelId"));
    gw_req_destroy(&req);

    json_t *l = s_label("3", "VIP", 2);
    assert(
        cm_streq(json_string_value(json_object_get(l, "colorHex")), "#ffd429"));
    json_t *labels = json_pack("[O]", l);
    assert(s_find(labels, "3") && !s_find(labels, "4"));
    json_decref(labels);
    json_decref(l);
    printf("OK\n");
}
