/*  gw_stories - status updates (24-hour stories)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"
#include "wa/wa_status.h"

static const char *const s_working[] = {"WORKING", NULL};

//  Media kinds: the bus kind, the default mimetype, what applies.
typedef struct {
    const char *kind;
    const char *mimetype;
    bool caption;
    bool convert;
    bool background;
} s_kind_t;

static const s_kind_t s_image = {"image", NULL, true, false, false};
static const s_kind_t s_voice = {"voice", "audio/ogg; codecs=opus", false, true,
                                 true};
static const s_kind_t s_video = {"video", "video/mp4", true, true, false};

//  backgroundColor as ARGB in *argb (dflt when absent); *given says
//  whether it was. Returns 0, or -1 after a 400.
static int
s_color(gw_req_t *req, uint32_t dflt, uint32_t *argb, bool *given)
{
    json_t *v = gw_req_input(req, "backgroundColor");
    *argb = dflt;
    *given = false;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) > 16 ||
        wa_status_parse_color(json_string_value(v), argb) != 0) {
        gw_req_fail_invalid(req, "backgroundColor must be a colour such as "
                                 "#38b42f (#RRGGBB or #AARRGGBB)");
        return -1;
    }
    *given = true;
    return 0;
}

//  font (an integer, also as text). Returns 0, or -1 after a 400.
static int
s_font(gw_req_t *req, int *font)
{
    json_t *v = gw_req_input(req, "font");
    *font = 0;
    if (!v || json_is_null(v)) {
        return 0;
    }
    const char *s = json_string_value(v);
    char *end = NULL;
    long n = json_is_integer(v) ? (long)json_integer_value(v)
             : s && *s          ? strtol(s, &end, 10)
                                : -1;
    if ((s && (!end || *end)) || n < 0 || n > WA_STATUS_FONT_MAX ||
        !wa_status_font_valid((int)n)) {
        gw_req_fail_invalid(req, "font must be 0, 1, 2 or 6 to 10");
        return -1;
    }
    *font = (int)n;
    return 0;
}

//  The caller's `contacts`, normalised (NULL when absent: the session's
//  contacts then). Returns 0, or -1 after a 400.
static int
s_contacts_input(gw_req_t *req, json_t **out)
{
    *out = NULL;
    json_t *v = gw_req_input(req, "contacts");
    json_t *parsed = NULL;
    if (json_is_string(v)) {
        //  Wawp passes JSON in the query
        parsed = json_string_length(v) < 1024 * 1024
                     ? json_loads(json_string_value(v), JSON_DECODE_ANY, NULL)
                     : NULL;
        v = parsed ? parsed : json_false();
    }
    if (!v || json_is_null(v)) {
        json_decref(parsed);
        return 0;
    }
    char *msg = cm_sprintf("contacts must be an array of 1 to %d person chat "
                           "ids (…@c.us, …@lid)",
                           WA_STATUS_RECIPIENTS_MAX);
    size_t n = json_array_size(v);
    int rc = -1;
    json_t *list = json_array();
    if (json_is_array(v) && n > 0 && n <= WA_STATUS_RECIPIENTS_MAX) {
        rc = 0;
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            char *id =
                gw_messages_chat_id_of(json_string_value(item), GW_CHAT_PERSON);
            if (!id) {
                rc = -1;
                break;
            }
            json_array_append_new(list, json_string(id));
            free(id);
        }
    }
    if (rc == 0) {
        *out = list;
    } else {
        json_decref(list);
        gw_req_fail_invalid(req, msg);
    }
    free(msg);
    json_decref(parsed);
    return rc;
}

//  Append to `out` the person ids of the session's address book (store
//  contact.list: contacts with a name, as a phone's contact list has
//  them; push names alone are not contacts) that it lacks, up to
//  WA_STATUS_RECIPIENTS_MAX in all. The address book is optional: a
//  store that cannot say adds nothing.
static void
s_address_book(gw_req_t *req, const char *name, json_t *out)
{
    cm_msg_t *msg = cm_msg_new("contact.list");
    cm_msg_set_str(msg, "name", name);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    json_t *list = cm_msg_status(reply) == 200
                       ? json_object_get(cm_msg_body(reply), "contacts")
                       : NULL;
    size_t i, k;
    json_t *c, *have;
    json_array_foreach(list, i, c)
    {
        const char *full = json_string_value(json_object_get(c, "name"));
        const char *id = json_string_value(json_object_get(c, "id"));
        char *person = full && *full && id
                           ? gw_messages_chat_id_of(id, GW_CHAT_PERSON)
                           : NULL;
        bool known = !person;
        json_array_foreach(out, k, have)
        {
            known = known || cm_streq(person, json_string_value(have));
        }
        if (!known && json_array_size(out) < WA_STATUS_RECIPIENTS_MAX) {
            json_array_append_new(out, json_string(person));
        }
        free(person);
    }
    cm_msg_destroy(&reply);
}

//  The session's contacts: its person chats in the store and its address
//  book. NULL after an error response (none is a 422).
static json_t *
s_session_contacts(gw_req_t *req, const char *name)
{
    cm_msg_t *msg = cm_msg_new("chat.list");
    cm_msg_set_str(msg, "session", name);
    cm_msg_set_str(msg, "sortBy", "conversationTimestamp");
    cm_msg_set_str(msg, "sortOrder", "desc");
    cm_msg_set_int(msg, "limit", GW_STORIES_CONTACTS_MAX);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    json_t *chats = json_object_get(cm_msg_body(reply), "chats");
    if (cm_msg_status(reply) != 200 || !json_is_array(chats)) {
        gw_req_fail_bus(req, reply, "store-service");
        cm_msg_destroy(&reply);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *chat;
    json_array_foreach(chats, i, chat)
    {
        const char *id = json_string_value(json_object_get(chat, "id"));
        char *person = id ? gw_messages_chat_id_of(id, GW_CHAT_PERSON) : NULL;
        if (person) {
            json_array_append_new(out, json_string(person));
        }
        free(person);
    }
    cm_msg_destroy(&reply);
    s_address_book(req, name, out);
    if (json_array_size(out) == 0) {
        json_decref(out);
        gw_req_fail(req, 422, NULL,
                    "The session has no contacts to send a status to: "
                    "pass contacts");
        return NULL;
    }
    return out;
}

//  `id`: a caller's message id. Returns 0, or -1 after a 400.
static int
s_id_input(gw_req_t *req, const char **id)
{
    if (gw_req_input_opt_str(req, "id", 64, id) != 0) {
        return -1;
    }
    for (const char *p = *id; p && *p; p++) {
        if (*p <= ' ' || *p > '~' || *p == '_' || *p == '@') {
            gw_req_fail_invalid(req, "id must be a message id, such as one "
                                     "from status/new-message-id");
            return -1;
        }
    }
    if (*id && !**id) {
        *id = NULL;
    }
    return 0;
}

//  The default recipients of a status, as the account's status privacy
//  (status.privacy) says: its whitelist, or the session's contacts
//  (without the blacklist's). NULL after an error response.
static json_t *
s_default_contacts(gw_req_t *req, json_t *session, const char *name)
{
    cm_msg_t *ask = cm_msg_new("status.privacy");
    cm_msg_t *reply = gw_messages_command_msg(req, session, &ask, 0);
    if (!reply) {
        return NULL;
    }
    const char *type = cm_msg_str(reply, "type");
    json_t *users = json_object_get(cm_msg_body(reply), "users");
    json_t *lids = json_object_get(cm_msg_body(reply), "lids");
    json_t *listed = json_array();
    json_t *also = json_array(); //  the blacklist's LIDs too
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        char *id = gw_messages_chat_id_of(json_string_value(u), GW_CHAT_PERSON);
        if (id) {
            json_array_append_new(listed, json_string(id));
            json_array_append_new(also, json_string(id));
        }
        free(id);
    }
    json_array_foreach(lids, i, u)
    {
        char *id = gw_messages_chat_id_of(json_string_value(u), GW_CHAT_PERSON);
        if (id) {
            json_array_append_new(also, json_string(id));
        }
        free(id);
    }
    json_t *out = NULL;
    if (cm_streq(type, "whitelist")) {
        out = json_incref(listed);
        if (json_array_size(out) == 0) {
            json_decref(out);
            out = NULL;
            gw_req_fail(req, 422, NULL,
                        "The account's status privacy shares with no one: "
                        "pass contacts");
        }
    } else {
        out = s_session_contacts(req, name);
        for (size_t k = json_array_size(out);
             out && cm_streq(type, "blacklist") && k-- > 0;) {
            const char *id = json_string_value(json_array_get(out, k));
            json_array_foreach(also, i, u)
            {
                if (cm_streq(id, json_string_value(u))) {
                    json_array_remove(out, k);
                    break;
                }
            }
        }
        if (out && json_array_size(out) == 0) {
            json_decref(out);
            out = NULL;
            gw_req_fail(req, 422, NULL,
                        "The account's status privacy leaves none of the "
                        "session's contacts: pass contacts");
        }
    }
    json_decref(listed);
    json_decref(also);
    cm_msg_destroy(&reply);
    return out;
}

//  Send msg (taken) for session `name` once it is WORKING, with the
//  recipients (taken; NULL: the default ones); answer `success` with the
//  worker's WAMessage.
static void
s_run(gw_req_t *req, const char *name, cm_msg_t **msg_p, json_t **contacts_p,
      int success)
{
    json_t *session = gw_messages_session(req, name);
    if (session && gw_messages_status_is(req, session, s_working)) {
        json_t *contacts =
            *contacts_p ? *contacts_p : s_default_contacts(req, session, name);
        *contacts_p = NULL;
        if (contacts) {
            cm_msg_set(*msg_p, "contacts", contacts);
            cm_msg_t *reply = gw_messages_command_msg(req, session, msg_p, 0);
            if (reply) {
                json_t *out = json_incref(cm_msg_body(reply));
                gw_req_reply(req, success, &out);
                cm_msg_destroy(&reply);
            }
        }
    }
    json_decref(session);
    cm_msg_destroy(msg_p);
    json_decref(*contacts_p);
    *contacts_p = NULL;
}

//  --------------------------------------------------------------------
//  Text

static void
s_text(gw_req_t *req, int success)
{
    const char *text = NULL, *id = NULL;
    uint32_t argb = 0;
    bool given = false, preview = true, hq = false;
    int font = 0;
    json_t *contacts = NULL;
    if (gw_req_input_opt_str(req, "text", GW_STORIES_TEXT_MAX, &text) != 0) {
        return;
    }
    if (!text || !*text) {
        gw_req_fail_invalid(req, "text is required");
        return;
    }
    if (s_color(req, 0xFF000000u, &argb, &given) != 0 || s_font(req, &font) ||
        gw_req_input_bool(req, "linkPreview", true, &preview) != 0 ||
        gw_req_input_bool(req, "linkPreviewHighQuality", false, &hq) != 0 ||
        s_id_input(req, &id) != 0 || s_contacts_input(req, &contacts) != 0) {
        return;
    }
    char *name = gw_sessions_name_of(req);
    if (!name) {
        json_decref(contacts);
        return;
    }
    cm_msg_t *msg = cm_msg_new("status.send_text");
    cm_msg_set_str(msg, "text", text);
    cm_msg_set_int(msg, "backgroundArgb", argb);
    cm_msg_set_int(msg, "font", font);
    char *url = preview ? wa_status_find_url(text) : NULL;
    if (url) {
        cm_msg_set_str(msg, "url", url);
        //  The page's title, description and thumbnail, as sendText's
        //  link preview reads them (none when it cannot be read)
        json_t *body = json_pack("{s:{s:s}}", "preview", "url", url);
        if (hq) {
            //  linkPreviewHighQuality: the worker uploads the page's image
            //  (preview.highQuality {url} when the page has one)
            json_object_set_new(json_object_get(body, "preview"), "highQuality",
                                json_true());
        }
        zframe_t *thumb = NULL;
        gw_kinds_preview_page(req, body, &thumb);
        json_t *page = json_object_get(body, "preview");
        if (page) {
            cm_msg_set(msg, "preview", json_incref(page));
        }
        if (thumb) {
            cm_msg_add_frame(msg, &thumb);
        }
        json_decref(body);
    }
    free(url);
    if (id) {
        cm_msg_set_str(msg, "id", id);
    }
    s_run(req, name, &msg, &contacts, success);
    free(name);
}

void
gw_stories_text(gw_req_t *req)
{
    s_text(req, 201);
}

void
gw_stories_wawp_text(gw_req_t *req)
{
    s_text(req, 200);
}

//  --------------------------------------------------------------------
//  Image, voice, video

static void
s_media(gw_req_t *req, const s_kind_t *kind, int success)
{
    json_t *file = NULL, *contacts = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    const char *caption = NULL, *id = NULL;
    bool convert = false, given = false;
    uint32_t argb = 0;
    char *name = NULL;
    if (gw_media_file_input(req, kind->mimetype, &file, &data, &len) != 0 ||
        (kind->caption &&
         gw_req_input_opt_str(req, "caption", GW_MEDIA_CAPTION_MAX, &caption) !=
             0) ||
        (kind->convert &&
         gw_req_input_bool(req, "convert", false, &convert) != 0) ||
        (kind->background && s_color(req, 0, &argb, &given) != 0) ||
        s_id_input(req, &id) != 0 || s_contacts_input(req, &contacts) != 0) {
        goto cleanup;
    }
    name = gw_sessions_name_of(req);
    if (!name) {
        goto cleanup;
    }
    cm_msg_t *msg = cm_msg_new("status.send_media");
    cm_msg_set_str(msg, "kind", kind->kind);
    cm_msg_set(msg, "file", file);
    file = NULL;
    if (caption && *caption) {
        cm_msg_set_str(msg, "caption", caption);
    }
    if (kind->convert) {
        cm_msg_set_bool(msg, "convert", convert);
    }
    if (given) {
        cm_msg_set_int(msg, "backgroundArgb", argb);
    }
    if (id) {
        cm_msg_set_str(msg, "id", id);
    }
    if (data) {
        cm_msg_add_blob(msg, data, len);
    }
    s_run(req, name, &msg, &contacts, success);
cleanup:
    json_decref(file);
    json_decref(contacts);
    free(data);
    free(name);
}

void
gw_stories_image(gw_req_t *req)
{
    s_media(req, &s_image, 201);
}

void
gw_stories_voice(gw_req_t *req)
{
    s_media(req, &s_voice, 201);
}

void
gw_stories_video(gw_req_t *req)
{
    s_media(req, &s_video, 201);
}

void
gw_stories_wawp_image(gw_req_t *req)
{
    s_media(req, &s_image, 200);
}

void
gw_stories_wawp_voice(gw_req_t *req)
{
    s_media(req, &s_voice, 200);
}

void
gw_stories_wawp_video(gw_req_t *req)
{
    s_media(req, &s_video, 200);
}

//  --------------------------------------------------------------------
//  Delete

static void
s_delete(gw_req_t *req, int success)
{
    const char *text = NULL;
    json_t *contacts = NULL;
    if (gw_req_input_opt_str(req, "id", 256, &text) != 0) {
        return;
    }
    //  Ours: bare, or WAHA's true_status@broadcast_<id>
    static const char prefix[] = "true_status@broadcast_";
    const char *bare = text && strncmp(text, prefix, sizeof prefix - 1) == 0
                           ? text + sizeof prefix - 1
                           : text;
    bool ok = bare && *bare && strlen(bare) < 64;
    for (const char *p = bare; ok && *p; p++) {
        ok = *p > ' ' && *p <= '~' && *p != '_' && *p != '@';
    }
    if (!ok) {
        gw_req_fail_invalid(req, text ? "id must be the id of one of the "
                                        "session's statuses"
                                      : "id is required");
        return;
    }
    if (s_contacts_input(req, &contacts) != 0) {
        return;
    }
    char *name = gw_sessions_name_of(req);
    if (!name) {
        json_decref(contacts);
        return;
    }
    //  Only a status this session sent can be deleted
    char *wid = cm_sprintf("%s%s", prefix, bare);
    cm_msg_t *get = cm_msg_new("message.get");
    cm_msg_set_str(get, "session", name);
    cm_msg_set_str(get, "id", wid);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &get, 0);
    int st = cm_msg_status(reply);
    if (st == 404) {
        gw_req_fail(req, 404, NULL, "Status not found: %s", wid);
    } else if (st != 200) {
        gw_req_fail_bus(req, reply, "store-service");
    } else {
        cm_msg_t *msg = cm_msg_new("status.delete");
        cm_msg_set_str(msg, "id", bare);
        //  The status as stored: message.revoked's `before`
        json_t *before = json_object_get(cm_msg_body(reply), "message");
        if (json_is_object(before)) {
            cm_msg_set(msg, "before", json_incref(before));
        }
        s_run(req, name, &msg, &contacts, success);
    }
    cm_msg_destroy(&reply);
    json_decref(contacts);
    free(wid);
    free(name);
}

void
gw_stories_delete(gw_req_t *req)
{
    s_delete(req, 201);
}

void
gw_stories_wawp_delete(gw_req_t *req)
{
    s_delete(req, 200);
}

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"StatusTextRequest\":{\"type\":\"object\",\"required\":[\"text\"],"
    "\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":65536},"
    "\"backgroundColor\":{\"type\":\"string\",\"example\":\"#38b42f\","
    "\"description\":\"#RRGGBB or #AARRGGBB\"},"
    "\"font\":{\"type\":\"integer\",\"enum\":[0,1,2,6,7,8,9,10],"
    "\"default\":0},"
    "\"linkPreview\":{\"type\":\"boolean\",\"default\":true},"
    "\"linkPreviewHighQuality\":{\"type\":\"boolean\",\"default\":false},"
    "\"contacts\":{\"$ref\":\"#/components/schemas/StatusContacts\"},"
    "\"id\":{\"type\":\"string\",\"description\":\"From "
    "status/new-message-id, to send one status in batches\"}}},"
    "\"StatusContacts\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
    "\"minItems\":1,\"maxItems\":1024,\"description\":\"Recipients "
    "(…@c.us); without it, the session's contacts\","
    "\"example\":[\"12132132130@c.us\"]},"
    "\"StatusFile\":{\"type\":\"object\",\"properties\":{\"url\":{\"type\":"
    "\"string\"},\"data\":{\"type\":\"string\",\"description\":\"base64\"},"
    "\"mimetype\":{\"type\":\"string\"},\"filename\":{\"type\":"
    "\"string\"}}},"
    "\"StatusImageRequest\":{\"type\":\"object\",\"required\":[\"file\"],"
    "\"properties\":{\"file\":{\"$ref\":\"#/components/schemas/StatusFile\"},"
    "\"caption\":{\"type\":\"string\"},"
    "\"contacts\":{\"$ref\":\"#/components/schemas/StatusContacts\"},"
    "\"id\":{\"type\":\"string\"}}},"
    "\"StatusVoiceRequest\":{\"type\":\"object\",\"required\":[\"file\"],"
    "\"properties\":{\"file\":{\"$ref\":\"#/components/schemas/StatusFile\"},"
    "\"convert\":{\"type\":\"boolean\",\"default\":false},"
    "\"backgroundColor\":{\"type\":\"string\",\"example\":\"#38b42f\"},"
    "\"contacts\":{\"$ref\":\"#/components/schemas/StatusContacts\"},"
    "\"id\":{\"type\":\"string\"}}},"
    "\"StatusVideoRequest\":{\"type\":\"object\",\"required\":[\"file\"],"
    "\"properties\":{\"file\":{\"$ref\":\"#/components/schemas/StatusFile\"},"
    "\"convert\":{\"type\":\"boolean\",\"default\":false},"
    "\"caption\":{\"type\":\"string\"},"
    "\"contacts\":{\"$ref\":\"#/components/schemas/StatusContacts\"},"
    "\"id\":{\"type\":\"string\"}}},"
    "\"StatusDeleteRequest\":{\"type\":\"object\",\"required\":[\"id\"],"
    "\"properties\":{\"id\":{\"type\":\"string\",\"description\":\"The "
    "status's message id\"},"
    "\"contacts\":{\"$ref\":\"#/components/schemas/StatusContacts\"}}}"
    "}";

json_t *
gw_stories_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------

void
gw_stories_test(bool verbose)
{
    printf(" * gw_stories: ");
    (void)verbose;
    //  Bad input is refused before any bus call: 400 naming the field
    struct {
        void (*fn)(gw_req_t *);
        const char *body;
        const char *want;
    } cases[] = {
        {gw_stories_text, "{\"backgroundColor\":\"#38b42f\"}",
         "text is required"},
        {gw_stories_text, "{\"text\":\"hi\",\"backgroundColor\":\"green\"}",
         "backgroundColor must be a colour"},
        {gw_stories_text, "{\"text\":\"hi\",\"backgroundColor\":\"#12345\"}",
         "backgroundColor must be a colour"},
        {gw_stories_text, "{\"text\":\"hi\",\"backgroundColor\":7}",
         "backgroundColor must be a colour"},
        {gw_stories_text, "{\"text\":\"hi\",\"font\":4}", "font must be"},
        {gw_stories_text, "{\"text\":\"hi\",\"font\":\"x\"}", "font must be"},
        {gw_stories_text, "{\"text\":\"hi\",\"linkPreview\":\"maybe\"}",
         "linkPreview must be a boolean"},
        {gw_stories_text, "{\"text\":\"hi\",\"contacts\":[]}",
         "contacts must be"},
        {gw_stories_text, "{\"text\":\"hi\",\"contacts\":[\"1-2@g.us\"]}",
         "contacts must be"},
        {gw_stories_text, "{\"text\":\"hi\",\"contacts\":\"x\"}",
         "contacts must be"},
        {gw_stories_text, "{\"text\":\"hi\",\"id\":\"a_b\"}",
         "id must be a message id"},
        {gw_stories_image, "{\"caption\":\"x\"}", "file.url or file.data"},
        {gw_stories_image,
         "{\"file\":{\"url\":\"ftp://x\"},\"contacts\":[\"1555\"]}",
         "file.url must be an http"},
        {gw_stories_voice,
         "{\"file\":{\"url\":\"http://x/a.ogg\"},\"backgroundColor\":\"x\"}",
         "backgroundColor"},
        {gw_stories_video,
         "{\"file\":{\"url\":\"http://x/a.mp4\"},\"convert\":\"x\"}",
         "convert must be a boolean"},
        {gw_stories_delete, "{}", "id is required"},
        {gw_stories_delete, "{\"id\":\"true_status@broadcast_\"}",
         "id must be the id"},
        {gw_stories_delete, "{\"id\":\"false_1@c.us_ABC\"}",
         "id must be the id"},
        {NULL, NULL, NULL}};
    for (int i = 0; cases[i].fn; i++) {
        gw_req_t *req = gw_req_new("POST", "/api/default/status/x");
        assert(gw_req_append_body(req, cases[i].body, strlen(cases[i].body),
                                  1 << 20) == 0);
        gw_req_set_header(req, "Content-Type", "application/json");
        assert(gw_req_parse_body(req) == 0);
        cases[i].fn(req);
        assert(gw_req_status(req) == 400);
        if (!strstr(gw_req_response(req), cases[i].want)) {
            fprintf(stderr, "case %d: %s\n", i, gw_req_response(req));
            assert(false);
        }
        gw_req_destroy(&req);
    }
    json_t *schemas = gw_stories_schemas();
    assert(json_object_get(schemas, "StatusTextRequest"));
    assert(json_object_get(schemas, "StatusDeleteRequest"));
    json_decref(schemas);
    printf("OK\n");
}
