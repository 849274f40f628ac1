/*  gw_messages - sending texts and read receipts, and the steps every
    engine-backed route shares

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"
#include "wa/wa_jid.h"

static const char *const s_working[] = {"WORKING", NULL};

const char *
gw_messages_session_name(gw_req_t *req)
{
    json_t *v = gw_req_input(req, "session");
    if (!v || json_is_null(v)) {
        return "default";
    }
    const char *name = json_string_value(v);
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return NULL;
    }
    return name;
}

json_t *
gw_messages_session(gw_req_t *req, const char *name)
{
    cm_msg_t *msg = cm_msg_new("session.get");
    cm_msg_set_str(msg, "name", name);
    //  What a command needs of the row (status, holder) is announced
    //  when it changes: an older cached copy will do.
    cm_msg_set_bool(msg, GW_COMMAND_LOOKUP, true);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    int st = cm_msg_status(reply);
    json_t *session = NULL;
    if (st == 200) {
        session = json_object_get(cm_msg_body(reply), "session");
        if (json_is_object(session)) {
            json_incref(session);
        } else {
            session = NULL;
            gw_req_fail(req, 502, NULL, "store-service sent no session object");
        }
    } else if (st == 404) {
        if (gw_req_family(req) == GW_FAMILY_WAWP) {
            gw_req_fail(req, 404, "invalid_instance", "Instance not found");
        } else {
            gw_req_fail(req, 404, NULL, "Session not found");
        }
    } else {
        gw_req_fail_bus(req, reply, "store-service");
    }
    cm_msg_destroy(&reply);
    return session;
}

bool
gw_messages_status_is(gw_req_t *req, json_t *session,
                      const char *const *statuses)
{
    const char *status = json_string_value(json_object_get(session, "status"));
    for (size_t i = 0; statuses[i]; i++) {
        if (cm_streq(status, statuses[i])) {
            return true;
        }
    }
    gw_req_fail_session_status(
        req, json_string_value(json_object_get(session, "name")), status,
        statuses);
    return false;
}

cm_msg_t *
gw_messages_command(gw_req_t *req, json_t *session, const char *type,
                    json_t **body_p, int cap_ms)
{
    cm_msg_t *msg = cm_msg_new(type);
    if (body_p && *body_p) {
        cm_msg_set_body(msg, body_p);
    }
    return gw_messages_command_msg(req, session, &msg, cap_ms);
}

cm_msg_t *
gw_messages_command_msg(gw_req_t *req, json_t *session, cm_msg_t **msg_p,
                        int cap_ms)
{
    cm_msg_t *msg = *msg_p;
    *msg_p = NULL;
    const char *name = json_string_value(json_object_get(session, "name"));
    cm_msg_set_str(msg, "name", name ? name : "");
    const char *holder = json_string_value(json_object_get(session, "worker"));
    if (holder) {
        cm_msg_set_str(msg, GW_HOLDER_HINT, holder);
    }
    cm_msg_t *reply = gw_req_call(req, GW_DEST_WORKER, &msg, cap_ms);
    int st = cm_msg_status(reply);
    if (st >= 200 && st < 300) {
        return reply;
    }
    const char *reason = cm_msg_reason(reply);
    if (st == 404 && cm_msg_str(reply, "missing")) {
        //  The engine found no such thing (a group, ...)
        gw_req_fail(req, 404, NULL, "%s", reason ? reason : "not found");
    } else if (st == 503 && cm_msg_str(reply, "unavailable")) {
        //  The worker is there; a service behind it is not (media-service)
        gw_req_fail(req, 503, NULL, "%s",
                    reason ? reason : "a service is unavailable");
    } else if (st == GW_NO_WORKER || st == 503) {
        gw_req_fail(req, 503, "worker_unavailable",
                    "No session-worker serves the session right now; try "
                    "again later");
    } else if (st == 504) {
        gw_req_fail(req, 504, NULL, "session-worker did not answer in time");
    } else if (st == 409) {
        //  The worker holds the session but it is not (or no longer)
        //  logged in: WAHA's 422 with the status the store last saw.
        static const char *const working[] = {"WORKING", NULL};
        const char *status =
            json_string_value(json_object_get(session, "status"));
        gw_req_fail_session_status(
            req, name, cm_streq(status, "WORKING") ? "STARTING" : status,
            working);
    } else if (st >= 400 && st < 600) {
        gw_req_fail(req, st, NULL, "%s", reason ? reason : "request failed");
    } else {
        gw_req_fail(req, 502, NULL, "session-worker sent status %d", st);
    }
    cm_msg_destroy(&reply);
    return NULL;
}

//  True if s[0..n) is only digits, n in [min, max], no leading 0 unless
//  `zero`.
static bool
s_digits(const char *s, size_t n, size_t min, size_t max, bool zero)
{
    if (n < min || n > max || (!zero && s[0] == '0')) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

//  A bare phone number: '+' first, then digits with single separators
//  (space, '-', '.', '(' , ')') between them.
static bool
s_bare_phone(const char *s, size_t n)
{
    size_t i = 0;
    size_t digits = 0;
    if (i < n && s[i] == '+') {
        i++;
    }
    if (i < n && s[i] == ' ') {
        i++;
    }
    if (i >= n || !(isdigit((unsigned char)s[i]) || s[i] == '(')) {
        return false;
    }
    char first = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (isdigit((unsigned char)c)) {
            if (!digits++) {
                first = c;
            }
        } else if (!strchr(" -.()", c)) {
            return false;
        }
    }
    return isdigit((unsigned char)s[n - 1]) && digits >= 6 && digits <= 15 &&
           first != '0';
}

//  The kind of a well-shaped id (user[0..n) @ server), or 0.
static int
s_chat_kind(const char *user, size_t n, const char *server)
{
    if (!strcasecmp(server, "c.us") || !strcasecmp(server, "s.whatsapp.net")) {
        return s_digits(user, n, 6, 15, false) ? GW_CHAT_PERSON : 0;
    }
    if (!strcasecmp(server, "lid")) {
        return s_digits(user, n, 12, 20, false) ? GW_CHAT_PERSON : 0;
    }
    if (!strcasecmp(server, "g.us")) {
        const char *dash = memchr(user, '-', n);
        if (!dash) {
            return s_digits(user, n, 18, 18, false) ? GW_CHAT_GROUP : 0;
        }
        size_t head = (size_t)(dash - user);
        return s_digits(user, head, 6, 15, false) &&
                       s_digits(dash + 1, n - head - 1, 10, 10, true)
                   ? GW_CHAT_GROUP
                   : 0;
    }
    if (!strcasecmp(server, "newsletter")) {
        return s_digits(user, n, 15, 20, false) ? GW_CHAT_OTHER : 0;
    }
    if (!strcasecmp(server, "broadcast")) {
        return (n == 6 && !memcmp(user, "status", 6)) ||
                       s_digits(user, n, 1, 20, true)
                   ? GW_CHAT_OTHER
                   : 0;
    }
    if (!strcasecmp(server, "bot")) {
        return s_digits(user, n, 1, 20, false) ? GW_CHAT_OTHER : 0;
    }
    return 0;
}

char *
gw_messages_chat_id_of(const char *text, int kinds)
{
    if (!text || strlen(text) > 256) {
        return NULL;
    }
    while (*text == ' ') {
        text++;
    }
    size_t len = strlen(text);
    while (len && text[len - 1] == ' ') {
        len--;
    }
    if (!len) {
        return NULL;
    }
    const char *at = memchr(text, '@', len);
    int kind = 0;
    if (at) {
        char server[33];
        size_t slen = len - (size_t)(at - text) - 1;
        if (slen == 0 || slen >= sizeof server || memchr(at + 1, '@', slen)) {
            return NULL;
        }
        memcpy(server, at + 1, slen);
        server[slen] = 0;
        kind = s_chat_kind(text, (size_t)(at - text), server);
    } else if (s_bare_phone(text, len)) {
        kind = GW_CHAT_PERSON;
    }
    if (!(kind & kinds)) {
        return NULL;
    }
    char *trimmed = cm_strndup(text, len);
    wa_jid_t *jid = wa_jid_new();
    char *out = NULL;
    if (wa_jid_parse_api(jid, trimmed) == 0 && !wa_jid_is_server(jid)) {
        out = cm_strdup(wa_jid_api(jid));
    }
    wa_jid_destroy(&jid);
    free(trimmed);
    return out;
}

char *
gw_messages_chat_id(const char *text)
{
    return gw_messages_chat_id_of(text, GW_CHAT_ANY);
}

//  The chat id from input `field`, normalised, of the `kinds` wanted;
//  NULL after a 400.
static char *
s_chat_input(gw_req_t *req, const char *field, int kinds)
{
    json_t *v = gw_req_input(req, field);
    const char *text = json_string_value(v);
    char *chat = gw_messages_chat_id_of(text, kinds);
    if (!chat) {
        char *any = gw_messages_chat_id(text);
        char *msg = NULL;
        if (!v || (text && !*text)) {
            msg = cm_sprintf("%s is required", field);
        } else if (any) {
            msg = cm_sprintf("%s must be a person or group chat (…@c.us, "
                             "…@lid, …@g.us)",
                             field);
        } else {
            msg = cm_sprintf("%s must be a phone number or chat id such as "
                             "12132132130@c.us",
                             field);
        }
        free(any);
        gw_req_fail_invalid(req, msg);
        free(msg);
    }
    return chat;
}

//  Send a text through the engine and answer with the WAMessage.
static void
s_send_text(gw_req_t *req, const char *name, const char *chat_field,
            const char *text_field, int success)
{
    //  mentions, quotes, ids, link previews (gw_kinds)
    if (gw_kinds_text_wanted(req, text_field)) {
        gw_kinds_send_text(req, name, chat_field, text_field, success);
        return;
    }
    char *chat = s_chat_input(req, chat_field, GW_CHAT_ANY);
    if (!chat) {
        return;
    }
    json_t *tv = gw_req_input(req, text_field);
    const char *text = json_string_value(tv);
    json_t *reply_to = gw_req_input(req, "reply_to");
    if (!text || !*text) {
        char *msg =
            cm_sprintf(tv ? "%s must be a non-empty string" : "%s is required",
                       text_field);
        gw_req_fail_invalid(req, msg);
        free(msg);
    } else if (strlen(text) > GW_MESSAGES_TEXT_MAX) {
        char *msg = cm_sprintf("%s must be at most %d bytes", text_field,
                               GW_MESSAGES_TEXT_MAX);
        gw_req_fail_invalid(req, msg);
        free(msg);
    } else if (reply_to && !json_is_null(reply_to) &&
               (!json_is_string(reply_to) ||
                json_string_length(reply_to) > 512)) {
        gw_req_fail_invalid(req, "reply_to must be a message id");
    } else {
        json_t *session = gw_messages_session(req, name);
        if (session && gw_messages_status_is(req, session, s_working)) {
            json_t *body =
                json_pack("{s:s, s:s}", "chatId", chat, "text", text);
            if (json_is_string(reply_to) && json_string_length(reply_to)) {
                json_object_set(body, "reply_to", reply_to);
            }
            cm_msg_t *reply = gw_messages_command(
                req, session, "message.send_text", &body, 0);
            if (reply) {
                json_t *msg = json_incref(cm_msg_body(reply));
                gw_req_reply(req, success, &msg);
                cm_msg_destroy(&reply);
            }
        }
        json_decref(session);
    }
    free(chat);
}

void
gw_messages_send_text(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_send_text(req, name, "chatId", "text", 201);
    }
}

void
gw_messages_send_text_get(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_send_text(req, name, "phone", "text", 200);
    }
}

void
gw_messages_wawp_send_text(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (name) {
        //  Wawp says `message`; accept WAHA's `text` as well
        s_send_text(req, name, "chatId",
                    gw_req_input(req, "message") ? "message" : "text", 200);
        free(name);
    }
}

//  Append the ids in `v` (an array of strings, or a string with
//  comma-separated ids) to `ids`. Returns 0, or -1 after a 400.
static int
s_add_ids(gw_req_t *req, json_t *ids, json_t *v, const char *field)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (json_is_string(v)) {
        char *copy = cm_strdup(json_string_value(v));
        char *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t;
             t = strtok_r(NULL, ", ", &save)) {
            json_array_append_new(ids, json_string(t));
        }
        free(copy);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item) || json_string_length(item) == 0 ||
                json_string_length(item) > 512) {
                char *msg =
                    cm_sprintf("%s must be an array of message ids", field);
                gw_req_fail_invalid(req, msg);
                free(msg);
                return -1;
            }
            json_array_append(ids, item);
        }
    } else {
        char *msg = cm_sprintf("%s must be an array of message ids", field);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return -1;
    }
    if (json_array_size(ids) > GW_MESSAGES_SEEN_MAX) {
        char *msg = cm_sprintf("%s holds more than %d ids", field,
                               GW_MESSAGES_SEEN_MAX);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return -1;
    }
    return 0;
}

//  Mark `ids` read in the store (best effort: the receipts went out).
//  Returns the ids that were unread, or NULL. Caller owns return value.
static json_t *
s_mark_read(gw_req_t *req, const char *name, const char *chat, json_t *ids)
{
    cm_msg_t *msg = cm_msg_new("message.mark_read");
    cm_msg_set_str(msg, "session", name);
    cm_msg_set_str(msg, "chat", chat);
    cm_msg_set(msg, "ids", json_incref(ids));
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    json_t *marked = NULL;
    if (cm_msg_status(reply) == 200) {
        marked = json_incref(json_object_get(cm_msg_body(reply), "ids"));
    } else {
        cm_log_warn("could not mark messages read", "session=\"%s\" st=%d",
                    name, cm_msg_status(reply));
    }
    cm_msg_destroy(&reply);
    return marked;
}

int
gw_messages_read_unread(gw_req_t *req, json_t *session, const char *chat,
                        int64_t limit, int64_t since, json_t **ids_p)
{
    *ids_p = NULL;
    const char *name = json_string_value(json_object_get(session, "name"));
    cm_msg_t *msg = cm_msg_new("message.unread");
    cm_msg_set_str(msg, "session", name ? name : "");
    cm_msg_set_str(msg, "chat", chat);
    cm_msg_set_int(msg, "limit", limit);
    cm_msg_set_int(msg, "since", since);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    json_t *ids = json_object_get(cm_msg_body(reply), "ids");
    if (cm_msg_status(reply) != 200 || !json_is_array(ids)) {
        gw_req_fail_bus(req, reply, "store-service");
        cm_msg_destroy(&reply);
        return -1;
    }
    json_incref(ids);
    cm_msg_destroy(&reply);
    if (json_array_size(ids) > 0) {
        json_t *body =
            json_pack("{s:s, s:O}", "chatId", chat, "messageIds", ids);
        reply =
            gw_messages_command(req, session, "message.send_seen", &body, 0);
        if (!reply) {
            json_decref(ids);
            return -1;
        }
        cm_msg_destroy(&reply);
        json_decref(s_mark_read(req, name, chat, ids));
    }
    *ids_p = ids;
    return 0;
}

static void
s_send_seen(gw_req_t *req, const char *name, int success)
{
    //  Read receipts go to people and groups only
    char *chat = s_chat_input(req, "chatId", GW_CHAT_PERSON | GW_CHAT_GROUP);
    if (!chat) {
        return;
    }
    json_t *ids = json_array();
    json_t *participant = gw_req_input(req, "participant");
    char *part = NULL;
    if (s_add_ids(req, ids, gw_req_input(req, "messageIds"), "messageIds") ==
            0 &&
        s_add_ids(req, ids, gw_req_input(req, "messageId"), "messageId") == 0) {
        bool ok = true;
        if (participant && !json_is_null(participant)) {
            part = gw_messages_chat_id_of(json_string_value(participant),
                                          GW_CHAT_PERSON);
            if (!part) {
                gw_req_fail_invalid(req, "participant must be a chat id");
                ok = false;
            }
        }
        json_t *session = ok ? gw_messages_session(req, name) : NULL;
        json_t *read = NULL;
        if (session && json_array_size(ids) == 0 &&
            gw_messages_status_is(req, session, s_working)) {
            //  WAHA: no ids reads the chat's unread messages of the last
            //  GW_MESSAGES_UNREAD_DAYS days, kept by the store
            if (gw_messages_read_unread(
                    req, session, chat, GW_MESSAGES_SEEN_MAX,
                    cm_now_ms() / 1000 - GW_MESSAGES_UNREAD_DAYS * 86400,
                    &read) == 0) {
                json_t *out = json_object();
                gw_req_reply(req, success, &out);
            }
            json_decref(read);
        } else if (session && gw_messages_status_is(req, session, s_working)) {
            json_t *body =
                json_pack("{s:s, s:O}", "chatId", chat, "messageIds", ids);
            if (part) {
                json_object_set_new(body, "participant", json_string(part));
            }
            cm_msg_t *reply = gw_messages_command(
                req, session, "message.send_seen", &body, 0);
            if (reply) {
                json_decref(s_mark_read(req, name, chat, ids));
                json_t *out = json_object();
                gw_req_reply(req, success, &out);
                cm_msg_destroy(&reply);
            }
        }
        json_decref(session);
    }
    free(part);
    json_decref(ids);
    free(chat);
}

void
gw_messages_send_seen(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_send_seen(req, name, 201);
    }
}

void
gw_messages_wawp_send_seen(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (name) {
        s_send_seen(req, name, 200);
        free(name);
    }
}

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"MessageTextRequest\":{\"type\":\"object\",\"required\":[\"chatId\","
    "\"text\"],\"properties\":{\"session\":{\"type\":\"string\","
    "\"default\":\"default\"},\"chatId\":{\"type\":\"string\",\"example\":"
    "\"11111111111@c.us\"},\"text\":{\"type\":\"string\"},\"reply_to\":"
    "{\"type\":\"string\",\"nullable\":true,\"description\":\"Message id "
    "to quote\"},\"linkPreview\":{\"type\":\"boolean\",\"default\":true},"
    "\"linkPreviewHighQuality\":{\"type\":\"boolean\",\"default\":false}}},"
    "\"SendSeenRequest\":{\"type\":\"object\",\"required\":[\"chatId\"],"
    "\"properties\":{\"session\":{\"type\":\"string\",\"default\":"
    "\"default\"},\"chatId\":{\"type\":\"string\"},\"messageIds\":"
    "{\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"messageId\":"
    "{\"type\":\"string\",\"deprecated\":true},\"participant\":{\"type\":"
    "\"string\",\"nullable\":true}}},"
    "\"WawpSendTextRequest\":{\"type\":\"object\",\"required\":["
    "\"instance_id\",\"chatId\",\"message\"],\"properties\":"
    "{\"instance_id\":{\"type\":\"string\"},\"access_token\":{\"type\":"
    "\"string\"},\"chatId\":{\"type\":\"string\"},\"message\":{\"type\":"
    "\"string\"},\"reply_to\":{\"type\":\"string\"}}},"
    "\"WawpSendSeenRequest\":{\"type\":\"object\",\"required\":["
    "\"instance_id\",\"chatId\"],\"properties\":{\"instance_id\":{\"type\":"
    "\"string\"},\"access_token\":{\"type\":\"string\"},\"chatId\":"
    "{\"type\":\"string\"},\"messageIds\":{\"type\":\"array\",\"items\":"
    "{\"type\":\"string\"}},\"participant\":{\"type\":\"string\"}}},"
    "\"WAMessageReply\":{\"type\":\"object\",\"properties\":{\"id\":"
    "{\"type\":\"string\"},\"participant\":{\"type\":\"string\"},\"body\":"
    "{\"type\":\"string\"}}},"
    "\"WAMessage\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\",\"example\":\"true_11111111111@c.us_3EB0AAAAAAAAAAAAAAAA\"},"
    "\"timestamp\":{\"type\":\"integer\",\"description\":\"Unix seconds\"},"
    "\"from\":{\"type\":\"string\"},\"fromMe\":{\"type\":\"boolean\"},"
    "\"source\":{\"type\":\"string\",\"enum\":[\"api\",\"app\"]},\"to\":"
    "{\"type\":\"string\"},\"participant\":{\"type\":\"string\","
    "\"nullable\":true},\"body\":{\"type\":\"string\"},\"hasMedia\":"
    "{\"type\":\"boolean\"},\"media\":{\"type\":\"object\",\"nullable\":"
    "true},\"ack\":{\"type\":\"integer\",\"enum\":[-1,0,1,2,3,4]},"
    "\"ackName\":{\"type\":\"string\",\"enum\":[\"ERROR\",\"PENDING\","
    "\"SERVER\",\"DEVICE\",\"READ\",\"PLAYED\"]},\"replyTo\":{\"allOf\":"
    "[{\"$ref\":\"#/components/schemas/WAMessageReply\"}],\"nullable\":"
    "true},\"_data\":{\"type\":\"object\"}}}"
    "}";

json_t *
gw_messages_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------

void
gw_messages_test(bool verbose)
{
    printf(" * gw_messages: ");
    //  Chat ids
    struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"+1 (555) 123-4567", "15551234567@c.us"},
        {"15551234567", "15551234567@c.us"},
        {"15551234567@c.us", "15551234567@c.us"},
        {"15551234567@s.whatsapp.net", "15551234567@c.us"},
        {"120363012345678901@g.us", "120363012345678901@g.us"},
        {"15551234567-1600000000@g.us", "15551234567-1600000000@g.us"},
        {"123456789012345@lid", "123456789012345@lid"},
        {"status@broadcast", "status@broadcast"},
        {"120363123456789012@newsletter", "120363123456789012@newsletter"},
        //  Refused, not rewritten
        {"-1@c.us", NULL},
        {"-15551234567@c.us", NULL},
        {"15550000002.0@c.us", NULL},
        {"+15551234567@c.us", NULL},
        {"0@c.us", NULL},
        {"05551234567@c.us", NULL},
        {"1555 123 4567@c.us", NULL},
        {"123456789@lid", NULL},
        {"12345678901234567890123@lid", NULL},
        {"1203630@g.us", NULL},
        {"1203630123456789012345@g.us", NULL},
        {"x@c.us", NULL},
        {"1@hosted", NULL},
        {"15551234567@c.us@c.us", NULL},
        {"-15551234567", NULL},
        {"15551234567-", NULL},
        {"1 2 3", NULL},
        {"", NULL},
        {"abc", NULL},
        {"1@nowhere.example", NULL},
        {NULL, NULL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = gw_messages_chat_id(cases[i].in);
        assert(cm_streq(out, cases[i].out) || (!out && !cases[i].out));
        free(out);
    }

    //  Session names
    gw_req_t *req = gw_req_new("POST", "/api/sendText");
    assert(cm_streq(gw_messages_session_name(req), "default"));
    gw_req_set_query(req, "session", "s1");
    assert(cm_streq(gw_messages_session_name(req), "s1"));
    gw_req_destroy(&req);
    req = gw_req_new("POST", "/api/sendText");
    gw_req_set_query(req, "session", "bad name");
    assert(!gw_messages_session_name(req));
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);

    //  Status checks answer 422 with the status
    req = gw_req_new("POST", "/api/sendText");
    json_t *session = json_pack("{s:s}", "status", "SCAN_QR_CODE");
    assert(!gw_messages_status_is(req, session, s_working));
    assert(gw_req_status(req) == 422);
    json_t *err = json_loads(gw_req_response(req), 0, NULL);
    assert(cm_streq(json_string_value(json_object_get(err, "status")),
                    "SCAN_QR_CODE"));
    assert(cm_streq(json_string_value(json_object_get(err, "session")), ""));
    assert(cm_streq(
        json_string_value(json_array_get(json_object_get(err, "expected"), 0)),
        "WORKING"));
    assert(json_array_size(json_object_get(err, "expected")) == 1);
    assert(strstr(json_string_value(json_object_get(err, "error")),
                  "not as expected"));
    assert(!json_object_get(err, "statusCode"));
    json_decref(err);
    json_decref(session);
    session = json_pack("{s:s}", "status", "WORKING");
    assert(gw_messages_status_is(req, session, s_working));
    json_decref(session);
    gw_req_destroy(&req);

    //  Bad input is refused before any bus call: 400 naming the field
    req = gw_req_new("POST", "/api/sendText");
    gw_req_set_query(req, "chatId", "nope");
    gw_messages_send_text(req);
    assert(gw_req_status(req) == 400 && strstr(gw_req_response(req), "chatId"));
    gw_req_destroy(&req);
    req = gw_req_new("POST", "/api/sendText");
    gw_req_set_query(req, "chatId", "15551234567");
    gw_messages_send_text(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "text is required"));
    gw_req_destroy(&req);
    req = gw_req_new("GET", "/api/sendText");
    gw_req_set_query(req, "text", "hi");
    gw_messages_send_text_get(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "phone is required"));
    gw_req_destroy(&req);

    //  Message id lists
    req = gw_req_new("POST", "/api/sendSeen");
    json_t *ids = json_array();
    json_t *v = json_string("a, b,c");
    assert(s_add_ids(req, ids, v, "messageIds") == 0);
    assert(json_array_size(ids) == 3);
    json_decref(v);
    v = json_pack("[s,s]", "d", "e");
    assert(s_add_ids(req, ids, v, "messageIds") == 0);
    assert(json_array_size(ids) == 5);
    json_decref(v);
    v = json_pack("[i]", 5);
    assert(s_add_ids(req, ids, v, "messageIds") == -1);
    assert(gw_req_status(req) == 400);
    json_decref(v);
    json_decref(ids);
    gw_req_destroy(&req);

    json_t *schemas = gw_messages_schemas();
    assert(json_object_get(schemas, "WAMessage"));
    json_decref(schemas);
    printf("OK\n");
}
