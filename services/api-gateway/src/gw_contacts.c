/*  gw_contacts - contacts: is a number on WhatsApp, contact info, about,
    profile picture, block and unblock

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

static const char *const s_working[] = {"WORKING", NULL};

//  The contact id input (path {id}, else `contactId`) as an API chat id
//  of a person. Caller owns; NULL after a 400.
static char *
s_contact_id(gw_req_t *req)
{
    const char *text = gw_req_param(req, "id");
    const char *field = "id";
    if (!text) {
        text = gw_req_input_str(req, "contactId");
        field = "contactId";
    }
    char *id = text ? gw_messages_chat_id_of(text, GW_CHAT_PERSON) : NULL;
    if (!id) {
        char *msg = text ? cm_sprintf("%s must be a phone number or a "
                                      "person's chat id such as "
                                      "12132132130@c.us",
                                      field)
                         : cm_sprintf("%s is required", field);
        gw_req_fail_invalid(req, msg);
        free(msg);
    }
    return id;
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
                                    GW_CONTACTS_TIMEOUT_MS);
    }
    json_decref(*body_p);
    *body_p = NULL;
    json_decref(session);
    return reply;
}

//  The digits of an API person id ("123@c.us" -> "123"), or NULL for a
//  LID. Caller owns.
static char *
s_number(const char *id)
{
    const char *at = id ? strchr(id, '@') : NULL;
    return at && cm_streq(at, "@c.us") ? cm_strndup(id, at - id) : NULL;
}

//  WAHA's Contact from what is known.
static json_t *
s_contact(const char *id, const char *me, const char *name,
          const char *pushname, json_t *wa_contact, bool blocked)
{
    char *number = s_number(id);
    json_t *out =
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:O, s:b, s:b}", "id",
                  id, "number", number ? json_string(number) : json_null(),
                  "name", name ? json_string(name) : json_null(), "pushname",
                  pushname ? json_string(pushname) : json_null(), "shortName",
                  json_null(), "isMe", cm_streq(id, me), "isGroup", 0,
                  "isWAContact", wa_contact ? wa_contact : json_null(),
                  "isMyContact", 0, "isBlocked", blocked);
    free(number);
    return out;
}

void
gw_contacts_get(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_contact_id(req) : NULL;
    if (id) {
        json_t *body = json_pack("{s:s}", "id", id);
        cm_msg_t *reply = s_command(req, name, "contact.info", &body);
        if (reply) {
            json_t *info = cm_msg_body(reply);
            const char *push =
                json_string_value(json_object_get(info, "pushname"));
            json_t *out =
                s_contact(id, cm_msg_str(reply, "me"), push, push,
                          json_object_get(info, "isWAContact"),
                          json_is_true(json_object_get(info, "isBlocked")));
            gw_req_reply(req, 200, &out);
            cm_msg_destroy(&reply);
        }
    }
    free(id);
    free(name);
}

static int
s_compare_id(const void *a, const void *b)
{
    json_t *ja = *(json_t *const *)a;
    json_t *jb = *(json_t *const *)b;
    return strcmp(json_string_value(json_object_get(ja, "id")),
                  json_string_value(json_object_get(jb, "id")));
}

//  By name, contacts without one last, then by id.
static int
s_compare_name(const void *a, const void *b)
{
    json_t *ja = *(json_t *const *)a;
    json_t *jb = *(json_t *const *)b;
    const char *na = json_string_value(json_object_get(ja, "name"));
    const char *nb = json_string_value(json_object_get(jb, "name"));
    if (!na || !nb || strcmp(na, nb) == 0) {
        return na && !nb ? -1 : !na && nb ? 1 : s_compare_id(a, b);
    }
    return strcmp(na, nb);
}

//  The session's address book and push names (store contact.list) as
//  id -> {name, pushName, shortName}; empty when the store cannot say.
static json_t *
s_book(gw_req_t *req, const char *name)
{
    cm_msg_t *msg = cm_msg_new("contact.list");
    cm_msg_set_str(msg, "name", name);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    json_t *book = json_object();
    json_t *list = cm_msg_status(reply) == 200
                       ? json_object_get(cm_msg_body(reply), "contacts")
                       : NULL;
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (id) {
            json_object_set(book, id, c);
        }
    }
    cm_msg_destroy(&reply);
    return book;
}

void
gw_contacts_all(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    const char *sort_by = gw_req_query(req, "sortBy");
    const char *order = gw_req_query(req, "sortOrder");
    int64_t limit = 0, offset = 0;
    if (sort_by && !cm_streq(sort_by, "id") && !cm_streq(sort_by, "name")) {
        gw_req_fail_invalid(req, "sortBy must be id or name");
    } else if (order && strcasecmp(order, "asc") != 0 &&
               strcasecmp(order, "desc") != 0) {
        gw_req_fail_invalid(req, "sortOrder must be asc or desc");
    } else if (gw_req_query_int(req, "limit", 1, GW_CONTACTS_LIST_MAX,
                                GW_CONTACTS_LIST_DEFAULT, &limit, NULL) == 0 &&
               gw_req_query_int(req, "offset", 0, 1000000, 0, &offset, NULL) ==
                   0) {
        //  Blocked contacts from the session, the rest from its chats
        json_t *body = json_object();
        cm_msg_t *blocked = s_command(req, name, "contact.blocked", &body);
        if (!blocked) {
            free(name);
            return;
        }
        cm_msg_t *msg = cm_msg_new("chat.list");
        cm_msg_set_str(msg, "session", name);
        cm_msg_set_str(msg, "sortBy", sort_by ? sort_by : "id");
        cm_msg_set_str(msg, "sortOrder", order ? order : "asc");
        cm_msg_set_int(msg, "limit", GW_CONTACTS_LIST_MAX);
        cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
        json_t *chats = json_object_get(cm_msg_body(reply), "chats");
        if (cm_msg_status(reply) != 200 || !json_is_array(chats)) {
            gw_req_fail_bus(req, reply, "store-service");
        } else {
            json_t *list =
                cm_msg_body(blocked)
                    ? json_object_get(cm_msg_body(blocked), "blocked")
                    : NULL;
            json_t *book = s_book(req, name);
            json_t *out = json_array();
            size_t i;
            json_t *chat;
            json_array_foreach(chats, i, chat)
            {
                const char *id = json_string_value(json_object_get(chat, "id"));
                char *person =
                    id ? gw_messages_chat_id_of(id, GW_CHAT_PERSON) : NULL;
                if (!person) {
                    continue;
                }
                bool is_blocked = false;
                size_t k;
                json_t *b;
                json_array_foreach(list, k, b)
                {
                    is_blocked |= cm_streq(json_string_value(b), person);
                }
                //  The address book's name first, then the chat's
                const char *cname =
                    json_string_value(json_object_get(chat, "name"));
                json_t *entry = json_object_get(book, person);
                const char *bname =
                    json_string_value(json_object_get(entry, "name"));
                const char *push =
                    json_string_value(json_object_get(entry, "pushName"));
                json_array_append_new(
                    out, s_contact(person, cm_msg_str(blocked, "me"),
                                   bname ? bname : cname, push ? push : cname,
                                   json_true(), is_blocked));
                json_object_del(book, person);
                free(person);
            }
            //  People of the address book and history without a chat
            const char *bid;
            json_t *entry;
            json_object_foreach(book, bid, entry)
            {
                char *person = gw_messages_chat_id_of(bid, GW_CHAT_PERSON);
                if (person) {
                    bool is_blocked = false;
                    size_t k;
                    json_t *b;
                    json_array_foreach(list, k, b)
                    {
                        is_blocked |= cm_streq(json_string_value(b), person);
                    }
                    json_array_append_new(
                        out, s_contact(person, cm_msg_str(blocked, "me"),
                                       json_string_value(
                                           json_object_get(entry, "name")),
                                       json_string_value(
                                           json_object_get(entry, "pushName")),
                                       json_true(), is_blocked));
                }
                free(person);
            }
            json_decref(book);
            {
                //  Chats and the address book together: sort here
                size_t n = json_array_size(out);
                json_t **items = cm_alloc((n ? n : 1) * sizeof *items);
                for (size_t k = 0; k < n; k++) {
                    items[k] = json_incref(json_array_get(out, k));
                }
                qsort(items, n, sizeof *items,
                      cm_streq(sort_by, "name") ? s_compare_name
                                                : s_compare_id);
                json_array_clear(out);
                bool desc = order && strcasecmp(order, "desc") == 0;
                for (size_t k = 0; k < n; k++) {
                    json_array_append_new(out, items[desc ? n - 1 - k : k]);
                }
                free(items);
            }
            json_t *page = json_array();
            for (size_t k = (size_t)offset;
                 k < json_array_size(out) && k < (size_t)(offset + limit);
                 k++) {
                json_array_append(page, json_array_get(out, k));
            }
            json_decref(out);
            gw_req_reply(req, 200, &page);
        }
        cm_msg_destroy(&reply);
        cm_msg_destroy(&blocked);
    }
    free(name);
}

void
gw_contacts_check(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    const char *phone = gw_req_input_str(req, "phone");
    char *id = phone && !strchr(phone, '@')
                   ? gw_messages_chat_id_of(phone, GW_CHAT_PERSON)
                   : NULL;
    char *digits = s_number(id);
    if (!digits) {
        gw_req_fail_invalid(req, phone ? "phone must be a phone number in "
                                         "international form, such as "
                                         "+1 213 213 2130"
                                       : "phone is required");
    } else {
        json_t *body = json_pack("{s:s}", "phone", digits);
        cm_msg_t *reply = s_command(req, name, "contact.check", &body);
        if (reply) {
            json_t *in = cm_msg_body(reply);
            json_t *out = json_pack("{s:O}", "numberExists",
                                    json_object_get(in, "numberExists")
                                        ? json_object_get(in, "numberExists")
                                        : json_false());
            json_t *chat = json_object_get(in, "chatId");
            if (json_is_string(chat)) {
                json_object_set(out, "chatId", chat);
                json_object_set(out, "pn", chat);
            }
            gw_req_reply(req, 200, &out);
            cm_msg_destroy(&reply);
        }
    }
    free(digits);
    free(id);
    free(name);
}

void
gw_contacts_about(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_contact_id(req) : NULL;
    if (id) {
        json_t *body = json_pack("{s:s}", "id", id);
        cm_msg_t *reply = s_command(req, name, "contact.about", &body);
        if (reply) {
            json_t *about = json_object_get(cm_msg_body(reply), "about");
            json_t *out = json_pack("{s:s, s:O}", "id", id, "about",
                                    about ? about : json_null());
            gw_req_reply(req, 200, &out);
            cm_msg_destroy(&reply);
        }
    }
    free(id);
    free(name);
}

void
gw_contacts_picture(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_contact_id(req) : NULL;
    const char *refresh = id ? gw_req_input_str(req, "refresh") : NULL;
    if (id && refresh && !cm_streq(refresh, "true") &&
        !cm_streq(refresh, "false")) {
        gw_req_fail_invalid(req, "refresh must be true or false");
    } else if (id) {
        json_t *body = json_pack("{s:s, s:b}", "id", id, "refresh",
                                 cm_streq(refresh, "true"));
        cm_msg_t *reply = s_command(req, name, "contact.picture", &body);
        if (reply) {
            json_t *url = json_object_get(cm_msg_body(reply), "url");
            json_t *out = json_pack("{s:O}", "profilePictureURL",
                                    json_is_string(url) ? url : json_null());
            gw_req_reply(req, 200, &out);
            cm_msg_destroy(&reply);
        }
    }
    free(id);
    free(name);
}

static void
s_block(gw_req_t *req, bool block)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_contact_id(req) : NULL;
    if (id) {
        json_t *body = json_pack("{s:s, s:b}", "id", id, "block", block);
        cm_msg_t *reply = s_command(req, name, "contact.block", &body);
        if (reply) {
            //  WAHA answers 201, Wawp 200
            json_t *out = json_pack("{s:b}", "success", 1);
            gw_req_reply(req, gw_req_family(req) == GW_FAMILY_WAWP ? 200 : 201,
                         &out);
            cm_msg_destroy(&reply);
        }
    }
    free(id);
    free(name);
}

void
gw_contacts_block(gw_req_t *req)
{
    s_block(req, true);
}

void
gw_contacts_unblock(gw_req_t *req)
{
    s_block(req, false);
}

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"SuccessResponse\":{\"type\":\"object\",\"properties\":{\"success\":"
    "{\"type\":\"boolean\"}}},"
    "\"Contact\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\",\"example\":\"12132132130@c.us\"},\"number\":{\"type\":"
    "\"string\",\"nullable\":true},\"name\":{\"type\":\"string\","
    "\"nullable\":true},\"pushname\":{\"type\":\"string\",\"nullable\":"
    "true},\"shortName\":{\"type\":\"string\",\"nullable\":true},\"isMe\":"
    "{\"type\":\"boolean\"},\"isGroup\":{\"type\":\"boolean\"},"
    "\"isWAContact\":{\"type\":\"boolean\",\"nullable\":true},"
    "\"isMyContact\":{\"type\":\"boolean\"},\"isBlocked\":{\"type\":"
    "\"boolean\"}}},"
    "\"ContactList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/Contact\"}},"
    "\"NumberExistResult\":{\"type\":\"object\",\"required\":["
    "\"numberExists\"],\"properties\":{\"numberExists\":{\"type\":"
    "\"boolean\"},\"chatId\":{\"type\":\"string\",\"example\":"
    "\"12132132130@c.us\"},\"pn\":{\"type\":\"string\"}}},"
    "\"ContactAbout\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\"},\"about\":{\"type\":\"string\",\"nullable\":true}}},"
    "\"ProfilePictureUrl\":{\"type\":\"object\",\"properties\":{"
    "\"profilePictureURL\":{\"type\":\"string\",\"nullable\":true}}},"
    "\"ContactRequest\":{\"type\":\"object\",\"required\":[\"contactId\"],"
    "\"properties\":{\"contactId\":{\"type\":\"string\",\"example\":"
    "\"12132132130@c.us\"},\"session\":{\"type\":\"string\",\"default\":"
    "\"default\"}}},"
    "\"WawpContactRequest\":{\"type\":\"object\",\"required\":["
    "\"instance_id\",\"contactId\"],\"properties\":{\"instance_id\":{"
    "\"type\":\"string\"},\"access_token\":{\"type\":\"string\"},"
    "\"contactId\":{\"type\":\"string\"}}}"
    "}";

json_t *
gw_contacts_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------
//  Self test

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

//  Run handler and check a 400 naming `field` (before any bus call).
static void
t_invalid(gw_handler_fn *handler, const char *path, const char *session,
          const char *id, const char *query_key, const char *query,
          const char *body, const char *field)
{
    gw_req_t *req = t_req("GET", path, session, id, body);
    if (query_key) {
        gw_req_set_query(req, query_key, query);
    }
    handler(req);
    if (gw_req_status(req) != 400 || !strstr(gw_req_response(req), field)) {
        fprintf(stderr, "%s: %d %s\n", path, gw_req_status(req),
                gw_req_response(req));
        assert(false);
    }
    gw_req_destroy(&req);
}

void
gw_contacts_test(bool verbose)
{
    printf(" * gw_contacts: ");
    (void)verbose;
    //  Malformed phone numbers and ids: 400 naming the field
    t_invalid(gw_contacts_check, "/api/contacts/check-exists", NULL, NULL,
              "phone", "12ab", NULL, "phone must be");
    t_invalid(gw_contacts_check, "/api/contacts/check-exists", NULL, NULL,
              "phone", "0123", NULL, "phone must be");
    t_invalid(gw_contacts_check, "/api/contacts/check-exists", NULL, NULL,
              "phone", "1555@c.us", NULL, "phone must be");
    t_invalid(gw_contacts_check, "/api/contacts/check-exists", NULL, NULL, NULL,
              NULL, NULL, "phone is required");
    t_invalid(gw_contacts_check, "/api/contacts/check-exists", NULL, NULL,
              "session", "bad name!", NULL, "session must match");
    t_invalid(gw_contacts_about, "/api/contacts/about", NULL, NULL, "contactId",
              "120363000000000001@g.us", NULL, "contactId must be");
    t_invalid(gw_contacts_about, "/api/s1/contacts/x/about", "s1", "x", NULL,
              NULL, NULL, "id must be");
    t_invalid(gw_contacts_picture, "/api/contacts/profile-picture", NULL, NULL,
              NULL, NULL, NULL, "contactId is required");
    t_invalid(gw_contacts_block, "/api/contacts/block", NULL, NULL, NULL, NULL,
              "{\"contactId\":\"nope\",\"session\":\"default\"}",
              "contactId must be");

    char *n = s_number("15551234567@c.us");
    assert(cm_streq(n, "15551234567"));
    free(n);
    assert(!s_number("123456789012@lid"));
    json_t *c = s_contact("15551234567@c.us", "15551234567@c.us", "Ann", "Ann",
                          json_true(), true);
    assert(json_is_true(json_object_get(c, "isMe")));
    assert(json_is_true(json_object_get(c, "isBlocked")));
    assert(json_is_false(json_object_get(c, "isGroup")));
    assert(cm_streq(json_string_value(json_object_get(c, "number")),
                    "15551234567"));
    json_decref(c);
    json_t *schemas = gw_contacts_schemas();
    assert(json_object_get(schemas, "Contact"));
    json_decref(schemas);
    printf("OK\n");
}
