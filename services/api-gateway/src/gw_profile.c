/*  gw_profile - the account's own profile: name, about, picture

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

static const char *const s_working[] = {"WORKING", NULL};

//  The session object once it is WORKING (caller owns), or NULL after a
//  response.
static json_t *
s_working_session(gw_req_t *req, const char *name)
{
    json_t *session = gw_messages_session(req, name);
    if (session && !gw_messages_status_is(req, session, s_working)) {
        json_decref(session);
        session = NULL;
    }
    return session;
}

//  Send `type` with body (taken) and answer with the reply body (get) or
//  {success:true}.
static void
s_run(gw_req_t *req, const char *name, const char *type, json_t **body_p,
      bool echo)
{
    json_t *session = s_working_session(req, name);
    cm_msg_t *reply = session ? gw_messages_command(req, session, type, body_p,
                                                    GW_PROFILE_TIMEOUT_MS)
                              : NULL;
    json_decref(*body_p);
    *body_p = NULL;
    json_decref(session);
    if (!reply) {
        return;
    }
    json_t *out = NULL;
    if (echo) {
        json_t *in = cm_msg_body(reply);
        out = json_pack(
            "{s:O, s:O, s:O}", "id",
            json_object_get(in, "id") ? json_object_get(in, "id") : json_null(),
            "name",
            json_object_get(in, "name") ? json_object_get(in, "name")
                                        : json_null(),
            "picture",
            json_object_get(in, "picture") ? json_object_get(in, "picture")
                                           : json_null());
    } else {
        out = json_pack("{s:b}", "success", 1);
    }
    gw_req_reply(req, 200, &out);
    cm_msg_destroy(&reply);
}

void
gw_profile_get(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (name) {
        json_t *body = json_object();
        s_run(req, name, "profile.get", &body, true);
    }
    free(name);
}

//  A string input of 1..max bytes (empty allowed when `empty`); NULL
//  after a 400.
static const char *
s_text(gw_req_t *req, const char *key, size_t max, bool empty)
{
    json_t *v = gw_req_input(req, key);
    const char *text = json_string_value(v);
    if (!text || (!empty && !*text) || strlen(text) > max) {
        char *msg = !v ? cm_sprintf("%s is required", key)
                       : cm_sprintf("%s must be a text of %s to %zu bytes", key,
                                    empty ? "0" : "1", max);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return NULL;
    }
    return text;
}

void
gw_profile_set_name(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    const char *push =
        name ? s_text(req, "name", GW_PROFILE_NAME_MAX, false) : NULL;
    if (push) {
        json_t *body = json_pack("{s:s}", "pushName", push);
        s_run(req, name, "profile.set_name", &body, false);
    }
    free(name);
}

void
gw_profile_set_status(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    const char *status =
        name ? s_text(req, "status", GW_PROFILE_STATUS_MAX, true) : NULL;
    if (status) {
        json_t *body = json_pack("{s:s}", "status", status);
        s_run(req, name, "profile.set_status", &body, false);
    }
    free(name);
}

void
gw_profile_delete_picture(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    if (name) {
        json_t *body = json_object();
        s_run(req, name, "profile.delete_picture", &body, false);
    }
    free(name);
}

cm_msg_t *
gw_profile_picture_input(gw_req_t *req)
{
    return gw_profile_picture_field(req, "file");
}

cm_msg_t *
gw_profile_picture_field(gw_req_t *req, const char *field)
{
    json_t *file = gw_req_input(req, field);
    if (!json_is_object(file)) {
        char *text = file ? cm_sprintf("%s must be an object {url | data, "
                                       "mimetype}",
                                       field)
                          : cm_sprintf("%s is required", field);
        gw_req_fail_invalid(req, text);
        free(text);
        return NULL;
    }
    json_t *url = json_object_get(file, "url");
    json_t *data = json_object_get(file, "data");
    const char *u = json_string_value(url);
    const char *d = json_string_value(data);
    if ((url && !json_is_null(url) && !u) ||
        (data && !json_is_null(data) && !d) || (!u == !d)) {
        char *text =
            cm_sprintf("%s must have either url or data (base64)", field);
        gw_req_fail_invalid(req, text);
        free(text);
        return NULL;
    }
    cm_msg_t *msg = cm_msg_new("media.profile_picture");
    if (u) {
        if (strlen(u) > 4096 || (strncasecmp(u, "http://", 7) != 0 &&
                                 strncasecmp(u, "https://", 8) != 0)) {
            cm_msg_destroy(&msg);
            char *text =
                cm_sprintf("%s.url must be an http or https URL", field);
            gw_req_fail_invalid(req, text);
            free(text);
            return NULL;
        }
        cm_msg_set(msg, "file", json_pack("{s:s}", "url", u));
        return msg;
    }
    if (strncmp(d, "data:", 5) == 0) {
        const char *comma = strstr(d, ";base64,");
        d = comma ? comma + 8 : "";
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (cm_base64_decode(d, GW_PROFILE_FILE_MAX, &bytes, &len) != 0 ||
        len == 0) {
        free(bytes);
        cm_msg_destroy(&msg);
        char *text = cm_sprintf("%s.data must be base64", field);
        gw_req_fail_invalid(req, text);
        free(text);
        return NULL;
    }
    cm_msg_set(msg, "file", json_object());
    cm_msg_add_blob(msg, bytes, len);
    free(bytes);
    return msg;
}

cm_msg_t *
gw_profile_picture_make(gw_req_t *req, cm_msg_t **msg_p)
{
    cm_msg_t *pics = gw_req_call(req, GW_DEST_MEDIA, msg_p, 0);
    int st = cm_msg_status(pics);
    if (st == 200 && cm_msg_blob_count(pics) >= 2) {
        return pics;
    }
    const char *reason = cm_msg_reason(pics);
    if (st >= 400 && st < 500 && st != 404) {
        gw_req_fail(req, st, NULL, "%s", reason ? reason : "bad request");
    } else {
        gw_req_fail_bus(req, pics, "media-service");
    }
    cm_msg_destroy(&pics);
    return NULL;
}

void
gw_profile_set_picture(gw_req_t *req)
{
    char *name = gw_sessions_name_of(req);
    cm_msg_t *msg = name ? gw_profile_picture_input(req) : NULL;
    json_t *session = msg ? s_working_session(req, name) : NULL;
    if (!session) {
        cm_msg_destroy(&msg);
        free(name);
        return;
    }
    //  media-service makes the square picture and its preview
    cm_msg_t *pics = gw_profile_picture_make(req, &msg);
    if (pics) {
        cm_msg_t *cmd = cm_msg_new("profile.set_picture");
        zframe_t *full = zframe_dup(cm_msg_blob(pics, 0));
        zframe_t *prev = zframe_dup(cm_msg_blob(pics, 1));
        cm_msg_add_frame(cmd, &full);
        cm_msg_add_frame(cmd, &prev);
        cm_msg_t *reply =
            gw_messages_command_msg(req, session, &cmd, GW_PROFILE_TIMEOUT_MS);
        if (reply) {
            json_t *out = json_pack("{s:b}", "success", 1);
            gw_req_reply(req, 200, &out);
            cm_msg_destroy(&reply);
        }
    }
    cm_msg_destroy(&pics);
    json_decref(session);
    free(name);
}

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"MyProfile\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\",\"example\":\"12132132130@c.us\"},\"name\":{\"type\":"
    "\"string\",\"nullable\":true},\"picture\":{\"type\":\"string\","
    "\"nullable\":true}}},"
    "\"ProfileNameRequest\":{\"type\":\"object\",\"required\":[\"name\"],"
    "\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":100}}},"
    "\"ProfileStatusRequest\":{\"type\":\"object\",\"required\":["
    "\"status\"],\"properties\":{\"status\":{\"type\":\"string\","
    "\"maxLength\":1024}}},"
    "\"ProfilePictureRequest\":{\"type\":\"object\",\"required\":[\"file\"],"
    "\"properties\":{\"file\":{\"type\":\"object\",\"properties\":{\"url\":"
    "{\"type\":\"string\"},\"data\":{\"type\":\"string\",\"description\":"
    "\"base64\"},\"mimetype\":{\"type\":\"string\"},\"filename\":{\"type\":"
    "\"string\"}}}}}"
    "}";

json_t *
gw_profile_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------
//  Self test

static void
t_invalid(gw_handler_fn *handler, const char *body, const char *field)
{
    gw_req_t *req = gw_req_new("PUT", "/api/s1/profile/x");
    json_object_set_new(gw_req_params(req), "session", json_string("s1"));
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
gw_profile_test(bool verbose)
{
    printf(" * gw_profile: ");
    (void)verbose;
    t_invalid(gw_profile_set_name, NULL, "name is required");
    t_invalid(gw_profile_set_name, "{\"name\":\"\"}", "name must be");
    t_invalid(gw_profile_set_name, "{\"name\":5}", "name must be");
    t_invalid(gw_profile_set_status, "{}", "status is required");
    t_invalid(gw_profile_set_picture, "{}", "file is required");
    t_invalid(gw_profile_set_picture, "{\"file\":\"x\"}", "file must be");
    t_invalid(gw_profile_set_picture, "{\"file\":{}}", "either url or data");
    t_invalid(gw_profile_set_picture, "{\"file\":{\"url\":\"ftp://x/y.jpg\"}}",
              "file.url must");
    t_invalid(gw_profile_set_picture, "{\"file\":{\"data\":\"***\"}}",
              "file.data must be base64");
    json_t *schemas = gw_profile_schemas();
    assert(json_object_get(schemas, "MyProfile"));
    json_decref(schemas);
    printf("OK\n");
}
