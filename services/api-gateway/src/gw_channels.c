/*  gw_channels - channels (newsletters)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

static const char *const s_working[] = {"WORKING", NULL};

//  What channel search takes (WAHA's search metadata routes). The
//  directory's views and categories are WhatsApp's; the country list is
//  the ISO 3166 codes the directory is most asked for.
static const char *const s_views[][2] = {{"RECOMMENDED", "Recommended"},
                                         {"TRENDING", "Trending"},
                                         {"POPULAR", "Popular"},
                                         {"NEW", "New"},
                                         {NULL, NULL}};
static const char *const s_categories[][2] = {
    {"BUSINESS", "Business"},
    {"ENTERTAINMENT", "Entertainment"},
    {"LIFESTYLE", "Lifestyle"},
    {"NEWS", "News & Information"},
    {"PEOPLE", "People"},
    {"SPORTS", "Sports"},
    {NULL, NULL}};
static const char *const s_countries[][2] = {
    {"AR", "Argentina"},    {"AU", "Australia"},
    {"BR", "Brazil"},       {"CA", "Canada"},
    {"CO", "Colombia"},     {"DE", "Germany"},
    {"EG", "Egypt"},        {"ES", "Spain"},
    {"FR", "France"},       {"GB", "United Kingdom"},
    {"ID", "Indonesia"},    {"IN", "India"},
    {"IT", "Italy"},        {"MX", "Mexico"},
    {"NG", "Nigeria"},      {"PK", "Pakistan"},
    {"RU", "Russia"},       {"SA", "Saudi Arabia"},
    {"TR", "Turkey"},       {"US", "United States"},
    {"ZA", "South Africa"}, {NULL, NULL}};

//  The success status: WAHA's, or 200 under /v2.
static int
s_ok(gw_req_t *req, int waha)
{
    return gw_req_family(req) == GW_FAMILY_WAWP ? 200 : waha;
}

//  Run `type` with body (taken) for the session the request names, once
//  it is WORKING. The worker's reply, or NULL after an error response.
static cm_msg_t *
s_run_msg(gw_req_t *req, const char *name, cm_msg_t **msg_p, int cap_ms)
{
    json_t *session = gw_messages_session(req, name);
    cm_msg_t *reply = NULL;
    if (session && gw_messages_status_is(req, session, s_working)) {
        reply = gw_messages_command_msg(req, session, msg_p, cap_ms);
    }
    cm_msg_destroy(msg_p);
    json_decref(session);
    return reply;
}

static cm_msg_t *
s_run(gw_req_t *req, const char *name, const char *type, json_t **body_p)
{
    cm_msg_t *msg = cm_msg_new(type);
    cm_msg_set_body(msg, body_p);
    return s_run_msg(req, name, &msg, GW_CHANNELS_TIMEOUT_MS);
}

//  Answer with the reply's body (array or object), or `empty` when the
//  worker answered none.
static void
s_answer(gw_req_t *req, cm_msg_t **reply_p, int status)
{
    if (!*reply_p) {
        return;
    }
    json_t *body = cm_msg_body(*reply_p);
    json_t *list = json_object_get(body, "list");
    json_t *out = json_is_array(list) ? json_incref(list)
                  : body              ? json_incref(body)
                                      : json_object();
    gw_req_reply(req, status, &out);
    cm_msg_destroy(reply_p);
}

//  True when text is n digits within [lo, hi].
static bool
s_digits(const char *text, size_t n, size_t lo, size_t hi)
{
    if (n < lo || n > hi) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)text[i])) {
            return false;
        }
    }
    return true;
}

//  The {id} of the path (Wawp: also `id` in the query or body when the
//  path says "{id}"): a channel id, or with `invite` an invite code or
//  link too. Caller owns; NULL after a 400.
static char *
s_channel_id(gw_req_t *req, bool invite)
{
    const char *text = gw_req_param(req, "id");
    if (!text || !*text || cm_streq(text, "{id}")) {
        text = gw_req_input_str(req, "id");
    }
    size_t n = text ? strlen(text) : 0;
    const char *at = text ? strchr(text, '@') : NULL;
    if (at && strcasecmp(at, "@newsletter") == 0 &&
        s_digits(text, (size_t)(at - text), 15, 20)) {
        char *id = cm_strndup(text, (size_t)(at - text) + 11);
        memcpy(id + (at - text), "@newsletter", 11);
        return id;
    }
    if (invite && text && !at && n >= 10 && n <= 256) {
        const char *slash = strrchr(text, '/');
        const char *code = slash ? slash + 1 : text;
        size_t len = strlen(code);
        bool ok = len >= 10 && len <= 64;
        for (size_t i = 0; ok && i < len; i++) {
            ok = isalnum((unsigned char)code[i]) != 0;
        }
        if (ok) {
            return cm_strdup(code);
        }
    }
    gw_req_fail_invalid(
        req, !n       ? "id is required"
             : invite ? "id must be a channel id such as "
                        "120363000000000000@newsletter, or an invite "
                        "code or link"
                      : "id must be a channel id such as "
                        "120363000000000000@newsletter");
    return NULL;
}

void
gw_channels_list(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    json_t *v = gw_req_input(req, "role");
    const char *role = json_string_value(v);
    if (v && (!role ||
              (*role && !cm_streq(role, "OWNER") && !cm_streq(role, "ADMIN") &&
               !cm_streq(role, "SUBSCRIBER")))) {
        gw_req_fail_invalid(req, "role must be OWNER, ADMIN or SUBSCRIBER");
        free(name);
        return;
    }
    json_t *body = json_object();
    if (role && *role) {
        json_object_set_new(body, "role", json_string(role));
    }
    cm_msg_t *reply = s_run(req, name, "channel.list", &body);
    s_answer(req, &reply, 200);
    free(name);
}

//  A text input of at most max bytes (required: 1 at least); *absent
//  tells it was not given. NULL after a 400, or when absent.
static const char *
s_text(gw_req_t *req, const char *key, size_t max, bool required, bool *bad)
{
    json_t *v = gw_req_input(req, key);
    const char *text = json_string_value(v);
    *bad = false;
    if ((!v || json_is_null(v)) && !required) {
        return NULL;
    }
    if (!text || (required && !*text) || strlen(text) > max) {
        char *msg = !v ? cm_sprintf("%s is required", key)
                       : cm_sprintf("%s must be a text of %s to %zu bytes", key,
                                    required ? "1" : "0", max);
        gw_req_fail_invalid(req, msg);
        free(msg);
        *bad = true;
        return NULL;
    }
    return text;
}

void
gw_channels_create(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    bool bad = false;
    const char *title = s_text(req, "name", GW_CHANNELS_NAME_MAX, true, &bad);
    const char *desc = bad ? NULL
                           : s_text(req, "description",
                                    GW_CHANNELS_DESCRIPTION_MAX, false, &bad);
    json_t *picture = bad ? NULL : gw_req_input(req, "picture");
    cm_msg_t *pics = NULL;
    if (!bad && picture && !json_is_null(picture)) {
        //  media-service makes the square JPEG (as for profile pictures)
        cm_msg_t *up = gw_profile_picture_field(req, "picture");
        pics = up ? gw_profile_picture_make(req, &up) : NULL;
        bad = !pics;
    }
    if (bad) {
        cm_msg_destroy(&pics);
        free(name);
        return;
    }
    cm_msg_t *cmd = cm_msg_new("channel.create");
    cm_msg_set_str(cmd, "title", title);
    if (desc && *desc) {
        cm_msg_set_str(cmd, "description", desc);
    }
    if (pics) {
        zframe_t *full = zframe_dup(cm_msg_blob(pics, 0));
        cm_msg_add_frame(cmd, &full);
    }
    cm_msg_destroy(&pics);
    cm_msg_t *reply = s_run_msg(req, name, &cmd, GW_CHANNELS_TIMEOUT_MS);
    s_answer(req, &reply, s_ok(req, 201));
    free(name);
}

//  An operation on one channel: {id} -> `type`, answered with the
//  worker's body or {}.
static void
s_on_channel(gw_req_t *req, const char *type, bool invite, int status)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_channel_id(req, invite) : NULL;
    if (id) {
        json_t *body = json_pack("{s:s}", "id", id);
        cm_msg_t *reply = s_run(req, name, type, &body);
        s_answer(req, &reply, s_ok(req, status));
    }
    free(id);
    free(name);
}

void
gw_channels_info(gw_req_t *req)
{
    s_on_channel(req, "channel.info", true, 200);
}

void
gw_channels_delete(gw_req_t *req)
{
    s_on_channel(req, "channel.delete", false, 200);
}

void
gw_channels_follow(gw_req_t *req)
{
    s_on_channel(req, "channel.follow", false, 201);
}

void
gw_channels_unfollow(gw_req_t *req)
{
    s_on_channel(req, "channel.unfollow", false, 201);
}

void
gw_channels_mute(gw_req_t *req)
{
    s_on_channel(req, "channel.mute", false, 201);
}

void
gw_channels_unmute(gw_req_t *req)
{
    s_on_channel(req, "channel.unmute", false, 201);
}

void
gw_channels_preview(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    char *id = name ? s_channel_id(req, true) : NULL;
    int64_t limit = 10;
    bool download = false;
    if (id &&
        (gw_req_query_int(req, "limit", 1, GW_CHANNELS_LIMIT_MAX, 10, &limit,
                          NULL) != 0 ||
         gw_req_query_bool(req, "downloadMedia", false, &download) != 0)) {
        free(id); //  400 answered
        id = NULL;
    }
    if (id) {
        cm_msg_t *msg = cm_msg_new("channel.preview");
        json_t *body = json_pack("{s:s, s:I, s:b}", "id", id, "limit",
                                 (json_int_t)limit, "downloadMedia", download);
        cm_msg_set_body(msg, &body);
        //  Downloading the posts' media may take longer than a query
        cm_msg_t *reply = s_run_msg(req, name, &msg,
                                    download ? GW_CHANNELS_PREVIEW_MS
                                             : GW_CHANNELS_TIMEOUT_MS);
        s_answer(req, &reply, 200);
    }
    free(id);
    free(name);
}

//  Search --------------------------------------------------------------

//  A list of codes from input `key` (absent: empty), each one of
//  `known` (or any short text when known is NULL). NULL after a 400.
static json_t *
s_codes(gw_req_t *req, const char *key, const char *const (*known)[2])
{
    json_t *v = gw_req_input(req, key);
    if (!v || json_is_null(v)) {
        return json_array();
    }
    json_t *list = json_is_string(v) ? json_pack("[O]", v) : json_incref(v);
    bool ok = json_is_array(list) && json_array_size(list) <= 64;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *s = json_string_value(item);
        bool found = s && *s && strlen(s) <= 64 && !known;
        for (size_t k = 0; s && known && known[k][0]; k++) {
            found = found || strcasecmp(s, known[k][0]) == 0;
        }
        ok = ok && found;
    }
    if (!ok) {
        json_decref(list);
        char *msg = cm_sprintf("%s must be a list of at most 64 values from "
                               "GET …/channels/search/%s",
                               key, key);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return NULL;
    }
    //  The directory takes upper case
    json_t *out = json_array();
    json_array_foreach(list, i, item)
    {
        char *up = cm_strdup(json_string_value(item));
        for (char *p = up; *p; p++) {
            *p = (char)toupper((unsigned char)*p);
        }
        json_array_append_new(out, json_string(up));
        free(up);
    }
    json_decref(list);
    return out;
}

//  limit and startCursor into body; -1 after a 400.
static int
s_paging(gw_req_t *req, json_t *body)
{
    json_t *lim = gw_req_input(req, "limit");
    json_int_t limit = 50;
    if (lim && !json_is_null(lim)) {
        const char *s = json_string_value(lim);
        char *end = NULL;
        limit = json_is_integer(lim) ? json_integer_value(lim)
                : s                  ? (json_int_t)strtoll(s, &end, 10)
                                     : 0;
        if ((s && (!*s || *end)) || limit < 1 ||
            limit > GW_CHANNELS_LIMIT_MAX) {
            gw_req_fail_invalid(req, "limit must be an integer from 1 to 100");
            return -1;
        }
    }
    bool bad = false;
    const char *cursor = s_text(req, "startCursor", 512, false, &bad);
    if (bad) {
        return -1;
    }
    json_object_set_new(body, "limit", json_integer(limit));
    if (cursor && *cursor) {
        json_object_set_new(body, "startCursor", json_string(cursor));
    }
    return 0;
}

void
gw_channels_search_view(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    json_t *v = gw_req_input(req, "view");
    const char *view = v ? json_string_value(v) : "RECOMMENDED";
    bool known = false;
    for (size_t k = 0; view && s_views[k][0]; k++) {
        known = known || cm_streq(view, s_views[k][0]);
    }
    json_t *countries = NULL;
    json_t *categories = NULL;
    if (!known) {
        gw_req_fail_invalid(req, "view must be one of RECOMMENDED, TRENDING, "
                                 "POPULAR, NEW");
    } else if ((countries = s_codes(req, "countries", s_countries)) &&
               (categories = s_codes(req, "categories", s_categories))) {
        json_t *body = json_pack("{s:s, s:O, s:O}", "view", view, "countries",
                                 countries, "categories", categories);
        if (s_paging(req, body) == 0) {
            cm_msg_t *reply = s_run(req, name, "channel.search_view", &body);
            s_answer(req, &reply, 200);
        }
        json_decref(body);
    }
    json_decref(countries);
    json_decref(categories);
    free(name);
}

void
gw_channels_search_text(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (!name) {
        return;
    }
    bool bad = false;
    const char *text = s_text(req, "text", GW_CHANNELS_TEXT_MAX, true, &bad);
    json_t *categories = bad ? NULL : s_codes(req, "categories", s_categories);
    if (categories) {
        json_t *body =
            json_pack("{s:s, s:O}", "text", text, "categories", categories);
        if (s_paging(req, body) == 0) {
            cm_msg_t *reply = s_run(req, name, "channel.search_text", &body);
            s_answer(req, &reply, 200);
        }
        json_decref(body);
    }
    json_decref(categories);
    free(name);
}

//  A search metadata list, once the session is known.
static void
s_metadata(gw_req_t *req, const char *const (*table)[2], const char *key)
{
    char *name = gw_sessions_name_of(req);
    json_t *session = name ? gw_messages_session(req, name) : NULL;
    if (session) {
        json_t *out = json_array();
        for (size_t k = 0; table[k][0]; k++) {
            json_array_append_new(out, json_pack("{s:s, s:s}", key, table[k][0],
                                                 "name", table[k][1]));
        }
        gw_req_reply(req, 200, &out);
    }
    json_decref(session);
    free(name);
}

void
gw_channels_views(gw_req_t *req)
{
    s_metadata(req, s_views, "value");
}

void
gw_channels_countries(gw_req_t *req)
{
    s_metadata(req, s_countries, "code");
}

void
gw_channels_categories(gw_req_t *req)
{
    s_metadata(req, s_categories, "value");
}

//  --------------------------------------------------------------------
//  OpenAPI (WAHA's schemas, as its document has them)

static const char *s_schemas =
    "{"
    "\"Channel\":{\"type\":\"object\",\"required\":[\"id\",\"name\","
    "\"invite\",\"role\",\"verified\",\"subscribersCount\"],\"properties\":{"
    "\"id\":{\"type\":\"string\",\"example\":\"123123123123@newsletter\"},"
    "\"name\":{\"type\":\"string\"},\"invite\":{\"type\":\"string\","
    "\"example\":\"https://www.whatsapp.com/channel/"
    "111111111111111111111111\"},\"preview\":{\"type\":\"string\"},"
    "\"picture\":{\"type\":\"string\"},\"role\":{\"type\":\"string\","
    "\"enum\":[\"OWNER\",\"ADMIN\",\"SUBSCRIBER\",\"GUEST\"]},"
    "\"description\":{\"type\":\"string\"},\"verified\":{\"type\":"
    "\"boolean\"},\"subscribersCount\":{\"type\":\"number\"}}},"
    "\"ChannelList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/Channel\"}},"
    "\"CreateChannelRequest\":{\"type\":\"object\",\"required\":[\"name\"],"
    "\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":100},"
    "\"description\":{\"type\":\"string\",\"maxLength\":2048},\"picture\":"
    "{\"type\":\"object\",\"description\":\"{url} or {data (base64), "
    "mimetype}: made a square JPEG\",\"properties\":{\"url\":{\"type\":"
    "\"string\"},\"data\":{\"type\":\"string\"},\"mimetype\":{\"type\":"
    "\"string\"}}}}},"
    "\"ChannelMessage\":{\"type\":\"object\",\"required\":[\"reactions\","
    "\"message\",\"viewCount\"],\"properties\":{\"reactions\":{\"type\":"
    "\"object\",\"additionalProperties\":{\"type\":\"number\"}},"
    "\"message\":{\"$ref\":\"#/components/schemas/WAMessage\"},"
    "\"viewCount\":{\"type\":\"number\"}}},"
    "\"ChannelMessageList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/ChannelMessage\"}},"
    "\"ChannelSearchByView\":{\"type\":\"object\",\"required\":[\"view\"],"
    "\"properties\":{\"view\":{\"type\":\"string\",\"enum\":["
    "\"RECOMMENDED\",\"TRENDING\",\"POPULAR\",\"NEW\"]},\"countries\":{"
    "\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"categories\":{"
    "\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"limit\":{"
    "\"type\":\"number\",\"default\":50},\"startCursor\":{\"type\":"
    "\"string\",\"default\":\"\"}}},"
    "\"ChannelSearchByText\":{\"type\":\"object\",\"required\":[\"text\"],"
    "\"properties\":{\"text\":{\"type\":\"string\"},\"categories\":{"
    "\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"limit\":{"
    "\"type\":\"number\",\"default\":50},\"startCursor\":{\"type\":"
    "\"string\",\"default\":\"\"}}},"
    "\"ChannelPagination\":{\"type\":\"object\",\"required\":["
    "\"startCursor\",\"endCursor\",\"hasNextPage\",\"hasPreviousPage\"],"
    "\"properties\":{\"startCursor\":{\"type\":\"string\",\"nullable\":"
    "true},\"endCursor\":{\"type\":\"string\",\"nullable\":true},"
    "\"hasNextPage\":{\"type\":\"boolean\"},\"hasPreviousPage\":{\"type\":"
    "\"boolean\"}}},"
    "\"ChannelPublicInfo\":{\"type\":\"object\",\"required\":[\"id\","
    "\"name\",\"invite\",\"verified\",\"subscribersCount\"],\"properties\":"
    "{\"id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
    "\"invite\":{\"type\":\"string\"},\"preview\":{\"type\":\"string\"},"
    "\"picture\":{\"type\":\"string\"},\"description\":{\"type\":"
    "\"string\"},\"verified\":{\"type\":\"boolean\"},\"subscribersCount\":"
    "{\"type\":\"number\"}}},"
    "\"ChannelListResult\":{\"type\":\"object\",\"required\":[\"page\","
    "\"channels\"],\"properties\":{\"page\":{\"$ref\":"
    "\"#/components/schemas/ChannelPagination\"},\"channels\":{\"type\":"
    "\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/ChannelPublicInfo\"}}}},"
    "\"ChannelView\":{\"type\":\"object\",\"required\":[\"value\",\"name\"],"
    "\"properties\":{\"value\":{\"type\":\"string\"},\"name\":{\"type\":"
    "\"string\"}}},"
    "\"ChannelViewList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/ChannelView\"}},"
    "\"ChannelCountry\":{\"type\":\"object\",\"required\":[\"code\","
    "\"name\"],\"properties\":{\"code\":{\"type\":\"string\"},\"name\":{"
    "\"type\":\"string\"}}},"
    "\"ChannelCountryList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/ChannelCountry\"}},"
    "\"ChannelCategory\":{\"type\":\"object\",\"required\":[\"value\","
    "\"name\"],\"properties\":{\"value\":{\"type\":\"string\"},\"name\":{"
    "\"type\":\"string\"}}},"
    "\"ChannelCategoryList\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/ChannelCategory\"}}"
    "}";

json_t *
gw_channels_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------
//  Self test

static void
t_invalid(gw_handler_fn *handler, const char *method, const char *id,
          const char *body, const char *field)
{
    gw_req_t *req = gw_req_new(method, "/api/s1/channels/x");
    json_object_set_new(gw_req_params(req), "session", json_string("s1"));
    if (id) {
        json_object_set_new(gw_req_params(req), "id", json_string(id));
    }
    if (body) {
        assert(gw_req_append_body(req, body, strlen(body), 1 << 20) == 0);
        gw_req_set_header(req, "Content-Type", "application/json");
        assert(gw_req_parse_body(req) == 0);
    }
    handler(req);
    if (gw_req_status(req) != 400 || !strstr(gw_req_response(req), field)) {
        fprintf(stderr, "%s: %d %s\n", body ? body : "", gw_req_status(req),
                gw_req_response(req));
        assert(false);
    }
    gw_req_destroy(&req);
}

void
gw_channels_test(bool verbose)
{
    printf(" * gw_channels: ");
    (void)verbose;
    t_invalid(gw_channels_create, "POST", NULL, "{}", "name is required");
    t_invalid(gw_channels_create, "POST", NULL, "{\"name\":\"\"}",
              "name must be");
    t_invalid(gw_channels_create, "POST", NULL,
              "{\"name\":\"N\",\"description\":5}", "description must be");
    t_invalid(gw_channels_create, "POST", NULL,
              "{\"name\":\"N\",\"picture\":\"x\"}", "picture must be");
    t_invalid(gw_channels_list, "GET", NULL, "{\"role\":\"GUEST\"}",
              "role must be");
    t_invalid(gw_channels_follow, "POST", "0029VaABCDEFGHIJ", NULL,
              "id must be a channel id");
    t_invalid(gw_channels_follow, "POST", "123@newsletter", NULL,
              "id must be a channel id");
    t_invalid(gw_channels_info, "GET", "not a code!", NULL, "invite code");
    t_invalid(gw_channels_info, "GET", NULL, NULL, "id is required");
    t_invalid(gw_channels_search_view, "POST", NULL, "{\"view\":\"X\"}",
              "view must be");
    t_invalid(gw_channels_search_view, "POST", NULL,
              "{\"view\":\"NEW\",\"countries\":[\"XX\"]}", "countries must be");
    t_invalid(gw_channels_search_view, "POST", NULL,
              "{\"view\":\"NEW\",\"limit\":0}", "limit must be");
    t_invalid(gw_channels_search_text, "POST", NULL, "{}", "text is required");
    t_invalid(gw_channels_search_text, "POST", NULL,
              "{\"text\":\"x\",\"categories\":[\"NOPE\"]}",
              "categories must be");
    json_t *schemas = gw_channels_schemas();
    assert(json_object_get(schemas, "Channel"));
    assert(json_object_get(schemas, "ChannelListResult"));
    json_decref(schemas);
    printf("OK\n");
}
