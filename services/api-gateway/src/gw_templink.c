/*  gw_templink - temporary QR links (Wawp /v2/session/temp-link)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

#define S_HEX_LEN (2 * GW_TEMPLINK_TOKEN_BYTES)

//  Lower-case hex SHA-256 of `text` into out (65 bytes).
static void
s_sha256_hex(const char *text, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    int rc = EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    assert(rc == 1 && len == 32);
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    OPENSSL_cleanse(md, sizeof md);
}

//  True if `token` looks like one of ours (64 lower-case hex digits).
static bool
s_token_ok(const char *token)
{
    return token && strlen(token) == S_HEX_LEN &&
           strspn(token, "0123456789abcdef") == S_HEX_LEN;
}

const char *
gw_templink_log_path(const char *path)
{
    if (path && (strncmp(path, "/temp-qr/", 9) == 0)) {
        return "/temp-qr/***";
    }
    return path;
}

//  --------------------------------------------------------------------
//  /v2/session/temp-link

//  The base of the link's url: WAHA_BASE_URL, else http://<Host>, else
//  "" (a relative url). Caller owns return value.
static char *
s_base(gw_req_t *req)
{
    const char *env = getenv("WAHA_BASE_URL");
    if (env && *env && strlen(env) < 1024) {
        char *base = cm_strdup(env);
        size_t n = strlen(base);
        while (n && base[n - 1] == '/') {
            base[--n] = 0;
        }
        return base;
    }
    const char *host = gw_req_header(req, "Host");
    if (host && *host && strlen(host) <= GW_TEMPLINK_HOST_MAX &&
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-:[]") == strlen(host)) {
        return cm_sprintf("http://%s", host);
    }
    return cm_strdup("");
}

//  The answer of the three routes from the store's link (NULL or null:
//  none); `url` only when just made. Caller owns return value.
static json_t *
s_view(const char *iid, json_t *link, const char *url)
{
    const char *state = json_string_value(json_object_get(link, "state"));
    json_t *created = json_object_get(link, "createdAt");
    json_t *expires = json_object_get(link, "expiresAt");
    json_t *revoked = json_object_get(link, "revokedAt");
    json_t *body = json_pack("{s:s, s:s}", "instance_id", iid, "status",
                             state ? state : "none");
    if (state && streq(state, "active")) {
        int64_t left =
            (json_integer_value(expires) - (int64_t)zclock_time() + 999) / 1000;
        json_t *l = json_pack("{s:b, s:O, s:O, s:I}", "active", 1, "created_at",
                              created, "expires_at", expires, "expires_in",
                              (json_int_t)(left > 0 ? left : 0));
        if (url) {
            json_object_set_new(l, "url", json_string(url));
        }
        json_object_set_new(body, "link", l);
    } else {
        json_object_set_new(body, "link", json_null());
    }
    json_object_set_new(body, "last",
                        state ? json_pack("{s:s, s:O, s:O, s:O}", "state",
                                          state, "created_at", created,
                                          "expires_at", expires, "revoked_at",
                                          revoked ? revoked : json_null())
                              : json_null());
    return body;
}

//  Send a templink request for the instance the request names and
//  answer with the link. `fill` sets the fields beyond the session.
static void
s_call(gw_req_t *req, const char *type, const char *hash, int64_t ttl_ms,
       const char *url)
{
    char *name = gw_sessions_wawp_instance(req);
    if (!name) {
        return;
    }
    cm_msg_t *msg = cm_msg_new(type);
    cm_msg_set_str(msg, "session", name);
    if (hash) {
        cm_msg_set_str(msg, "hash", hash);
        cm_msg_set(msg, "ttl_ms", json_integer(ttl_ms));
    }
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    const char *iid = gw_req_input_str(req, "instance_id");
    if (cm_msg_status(reply) == 404) {
        gw_req_fail(req, 404, "invalid_instance", "Instance not found");
    } else if (cm_msg_status(reply) != 200) {
        gw_req_fail_bus(req, reply, "store-service");
    } else {
        json_t *link = hash ? cm_msg_body(reply)
                            : json_object_get(cm_msg_body(reply), "link");
        json_t *body = s_view(iid ? iid : name, link, url);
        gw_req_reply(req, 200, &body);
        if (hash) {
            cm_log_info("temporary QR link made", "session=%s ttl_s=%d", name,
                        (int)(ttl_ms / 1000));
        }
    }
    cm_msg_destroy(&reply);
    free(name);
}

void
gw_templink_get(gw_req_t *req)
{
    s_call(req, "templink.get", NULL, 0, NULL);
}

void
gw_templink_revoke(gw_req_t *req)
{
    s_call(req, "templink.revoke", NULL, 0, NULL);
}

void
gw_templink_create(gw_req_t *req)
{
    int64_t ttl = GW_TEMPLINK_TTL_DEFAULT;
    json_t *v = gw_req_input(req, "expires_in");
    if (v && !json_is_null(v)) {
        const char *text = json_string_value(v);
        char *end = NULL;
        if (json_is_integer(v)) {
            ttl = json_integer_value(v);
        } else if (text && *text && strlen(text) <= 10) {
            errno = 0;
            ttl = strtoll(text, &end, 10);
            if (errno || *end) {
                ttl = -1;
            }
        } else {
            ttl = -1;
        }
        if (ttl < GW_TEMPLINK_TTL_MIN || ttl > GW_TEMPLINK_TTL_MAX) {
            gw_req_fail(req, 400, "bad_request",
                        "expires_in must be an integer %d..%d (seconds)",
                        GW_TEMPLINK_TTL_MIN, GW_TEMPLINK_TTL_MAX);
            return;
        }
    }
    uint8_t raw[GW_TEMPLINK_TOKEN_BYTES];
    cm_random(raw, sizeof raw);
    char token[S_HEX_LEN + 1];
    for (int i = 0; i < GW_TEMPLINK_TOKEN_BYTES; i++) {
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    }
    OPENSSL_cleanse(raw, sizeof raw);
    char hash[65];
    s_sha256_hex(token, hash);
    char *base = s_base(req);
    char *url = cm_sprintf("%s/temp-qr/%s", base, token);
    free(base);
    s_call(req, "templink.create", hash, ttl * 1000, url);
    OPENSSL_cleanse(token, sizeof token);
    OPENSSL_cleanse(url, strlen(url));
    free(url);
}

//  --------------------------------------------------------------------
//  The page

typedef enum { S_HTML, S_JSON } s_form_t;

//  An answer that the page shows: JSON in the API's error shape, or a
//  small HTML page in the style of the link page.
static void
s_refuse(gw_req_t *req, s_form_t form, int status, const char *title,
         const char *text)
{
    if (form == S_JSON) {
        gw_req_fail(req, status, NULL, "%s", text);
    } else {
        char *html = cm_sprintf(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
            "charset=\"utf-8\">\n<title>%s</title>\n<meta name=\"viewport\" "
            "content=\"width=device-width, initial-scale=1\">\n<link "
            "rel=\"stylesheet\" href=\"/temp-qr-files/templink.css\">\n"
            "</head>\n<body>\n<main class=\"card\">\n<h1>%s</h1>\n<p "
            "id=\"message\" data-status=\"%d\">%s</p>\n</main>\n</body>\n"
            "</html>\n",
            title, title, status, text);
        gw_req_reply_bytes(req, status, "text/html; charset=utf-8", html,
                           strlen(html));
        free(html);
    }
}

//  Headers every answer under /temp-qr carries.
static void
s_headers(gw_req_t *req)
{
    gw_req_add_response_header(req, "Cache-Control", "no-store");
    gw_req_add_response_header(req, "Referrer-Policy", "no-referrer");
    gw_req_add_response_header(req, "X-Robots-Tag", "noindex");
    gw_req_add_response_header(req, "X-Content-Type-Options", "nosniff");
    gw_req_add_response_header(req, "X-Frame-Options", "DENY");
    gw_req_add_response_header(
        req, "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
}

//  The active link of the path's token (the store's link object; caller
//  owns), or NULL after an answer (429, 404, 410, 5xx).
//  429 with Retry-After `wait` seconds.
static void
s_too_many(gw_req_t *req, s_form_t form, int wait)
{
    char text[16];
    snprintf(text, sizeof text, "%d", wait);
    gw_req_add_response_header(req, "Retry-After", text);
    char *why = cm_sprintf("Too many tries; try again in %d s.", wait);
    s_refuse(req, form, 429, "Too many tries", why);
    free(why);
}

static json_t *
s_resolve(gw_req_t *req, s_form_t form)
{
    s_headers(req);
    //  Guessing costs: the address's bucket and everyone's
    char *mine = cm_sprintf("tq:%s", gw_req_peer(req));
    const char *all = "tq:*";
    int64_t now = cm_mono_ms();
    int wait = gw_limits_take(mine, GW_TEMPLINK_GUESS_PER_MIN / 60.0,
                              GW_TEMPLINK_GUESS_BURST, now);
    if (!wait) {
        wait = gw_limits_take(all, GW_TEMPLINK_GUESS_PER_S,
                              GW_TEMPLINK_GUESS_ALL_BURST, now);
        if (wait) {
            gw_limits_give(mine, GW_TEMPLINK_GUESS_BURST);
        }
    }
    if (wait) {
        free(mine);
        s_too_many(req, form, wait);
        return NULL;
    }
    json_t *link = NULL;
    const char *token = gw_req_param(req, "token");
    char hash[65] = "";
    if (s_token_ok(token)) {
        s_sha256_hex(token, hash);
        cm_msg_t *msg = cm_msg_new("templink.resolve");
        cm_msg_set_str(msg, "hash", hash);
        cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 5000);
        int st = cm_msg_status(reply);
        if (st == 200) {
            link = json_incref(cm_msg_body(reply));
        } else if (st != 404) {
            gw_req_fail_bus(req, reply, "store-service");
            cm_msg_destroy(&reply);
            free(mine);
            return NULL;
        }
        cm_msg_destroy(&reply);
    }
    const char *state = json_string_value(json_object_get(link, "state"));
    if (!link || !state) {
        s_refuse(req, form, 404, "Link not valid",
                 "This link is not valid. Ask for a new one.");
    } else if (streq(state, "expired")) {
        s_refuse(req, form, 410, "Link expired",
                 "This link has expired. Ask for a new one.");
    } else if (!streq(state, "active")) {
        s_refuse(req, form, 410, "Link revoked",
                 "This link was revoked. Ask for a new one.");
    } else {
        //  A good token: the tries it cost are given back, but one link
        //  is looked up only so often
        gw_limits_give(mine, GW_TEMPLINK_GUESS_BURST);
        gw_limits_give(all, GW_TEMPLINK_GUESS_ALL_BURST);
        free(mine);
        char *polls = cm_sprintf("tp:%s", hash);
        wait = gw_limits_take(polls, GW_TEMPLINK_POLL_PER_S,
                              2 * GW_TEMPLINK_POLL_PER_S, cm_mono_ms());
        free(polls);
        if (wait) {
            json_decref(link);
            s_too_many(req, form, wait);
            return NULL;
        }
        return link;
    }
    json_decref(link);
    free(mine);
    return NULL;
}

void
gw_templink_page(gw_req_t *req)
{
    json_t *link = s_resolve(req, S_HTML);
    if (link) {
        json_decref(link);
        size_t len = 0;
        char *html = gw_static_read(gw_config_www_dir(gw_req_config(req)),
                                    "templink", "index.html", &len);
        if (!html) {
            s_refuse(req, S_HTML, 500, "Page missing",
                     "The page's files are not installed.");
            return;
        }
        gw_req_reply_bytes(req, 200, "text/html; charset=utf-8", html, len);
        free(html);
    }
}

void
gw_templink_state(gw_req_t *req)
{
    json_t *link = s_resolve(req, S_JSON);
    if (!link) {
        return;
    }
    const char *name = json_string_value(json_object_get(link, "session"));
    json_t *session = name ? gw_messages_session(req, name) : NULL;
    if (!session) {
        json_decref(link);
        return; //  answered (404, 5xx)
    }
    const char *status = json_string_value(json_object_get(session, "status"));
    json_t *qr = json_null();
    if (status && streq(status, "SCAN_QR_CODE")) {
        cm_msg_t *reply =
            gw_messages_command(req, session, "session.qr", NULL, 3000);
        const char *value = reply ? cm_msg_str(reply, "value") : NULL;
        uint8_t *png = NULL;
        size_t len = 0;
        if (value && *value &&
            cm_qr_png(value, GW_LOGIN_QR_SCALE, &png, &len) == 0) {
            char *b64 = cm_base64_encode(png, len);
            char *uri = cm_sprintf("data:image/png;base64,%s", b64);
            qr = json_pack("{s:s, s:s}", "value", value, "image", uri);
            free(uri);
            free(b64);
            free(png);
        }
        cm_msg_destroy(&reply);
    }
    json_int_t expires = json_integer_value(json_object_get(link, "expiresAt"));
    int64_t left = (expires - (int64_t)zclock_time() + 999) / 1000;
    json_t *body = json_pack(
        "{s:s, s:b, s:o, s:I, s:I}", "status", status ? status : "STOPPED",
        "connected", status && streq(status, "WORKING"), "qr", qr, "expiresAt",
        expires, "expiresIn", (json_int_t)(left > 0 ? left : 0));
    //  (a failed QR call may have set an error: this answer replaces it)
    gw_req_reply(req, 200, &body);
    json_decref(session);
    json_decref(link);
}

void
gw_templink_file(gw_req_t *req)
{
    gw_static_serve(req, "templink", gw_req_param(req, "file"));
    gw_req_add_response_header(req, "X-Content-Type-Options", "nosniff");
}

json_t *
gw_templink_schemas(void)
{
    const char *text =
        "{\"WawpTempLink\":{\"type\":\"object\",\"properties\":{"
        "\"instance_id\":{\"type\":\"string\"},\"status\":{\"type\":"
        "\"string\",\"enum\":[\"active\",\"expired\",\"revoked\",\"none\"]},"
        "\"link\":{\"type\":\"object\",\"nullable\":true,\"description\":"
        "\"The active link, null when none; url only in POST's answer\","
        "\"properties\":{\"url\":{\"type\":\"string\"},\"active\":{\"type\":"
        "\"boolean\"},\"created_at\":{\"type\":\"integer\",\"description\":"
        "\"ms\"},\"expires_at\":{\"type\":\"integer\",\"description\":\"ms\"},"
        "\"expires_in\":{\"type\":\"integer\",\"description\":\"seconds\"}}},"
        "\"last\":{\"type\":\"object\",\"nullable\":true,\"description\":"
        "\"The last link made, whatever its state\",\"properties\":{"
        "\"state\":{\"type\":\"string\"},\"created_at\":{\"type\":"
        "\"integer\"},\"expires_at\":{\"type\":\"integer\"},\"revoked_at\":"
        "{\"type\":\"integer\",\"nullable\":true}}}},\"required\":["
        "\"instance_id\",\"status\",\"link\"]},"
        "\"WawpTempLinkRequest\":{\"type\":\"object\",\"properties\":{"
        "\"instance_id\":{\"type\":\"string\",\"maxLength\":128},"
        "\"access_token\":{\"type\":\"string\"},\"expires_in\":{\"type\":"
        "\"integer\",\"minimum\":60,\"maximum\":86400,\"default\":600}}},"
        "\"TempQrState\":{\"type\":\"object\",\"properties\":{\"status\":"
        "{\"type\":\"string\"},\"connected\":{\"type\":\"boolean\"},\"qr\":"
        "{\"type\":\"object\",\"nullable\":true,\"properties\":{\"value\":"
        "{\"type\":\"string\"},\"image\":{\"type\":\"string\",\"description\":"
        "\"data:image/png;base64,...\"}}},\"expiresAt\":{\"type\":"
        "\"integer\"},\"expiresIn\":{\"type\":\"integer\"}},\"required\":["
        "\"status\",\"connected\",\"qr\",\"expiresAt\"]}}";
    json_t *schemas = json_loads(text, 0, NULL);
    assert(schemas);
    return schemas;
}

void
gw_templink_test(bool verbose)
{
    printf(" * gw_templink: ");
    //  SHA-256 of "abc"
    char hex[65];
    s_sha256_hex("abc", hex);
    assert(streq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff6"
                      "1f20015ad"));
    char token[65];
    memset(token, 'a', 64);
    token[64] = 0;
    assert(s_token_ok(token));
    token[3] = 'A';
    assert(!s_token_ok(token));
    assert(!s_token_ok("abc") && !s_token_ok(NULL));
    //  Logs never hold a token
    assert(
        streq(gw_templink_log_path("/temp-qr/abcdef/state"), "/temp-qr/***"));
    assert(streq(gw_templink_log_path("/api/sessions"), "/api/sessions"));
    //  The views
    json_t *link = json_pack("{s:s, s:I, s:I, s:n}", "state", "active",
                             "createdAt", (json_int_t)1, "expiresAt",
                             (json_int_t)zclock_time() + 60000, "revokedAt");
    json_t *v = s_view("I1", link, "http://x/temp-qr/t");
    json_t *l = json_object_get(v, "link");
    assert(streq(json_string_value(json_object_get(v, "status")), "active"));
    assert(json_is_true(json_object_get(l, "active")));
    assert(streq(json_string_value(json_object_get(l, "url")),
                 "http://x/temp-qr/t"));
    int64_t left = json_integer_value(json_object_get(l, "expires_in"));
    assert(left >= 59 && left <= 60);
    json_decref(v);
    v = s_view("I1", link, NULL);
    assert(!json_object_get(json_object_get(v, "link"), "url"));
    json_decref(v);
    json_object_set_new(link, "state", json_string("revoked"));
    v = s_view("I1", link, NULL);
    assert(json_is_null(json_object_get(v, "link")));
    assert(streq(
        json_string_value(json_object_get(json_object_get(v, "last"), "state")),
        "revoked"));
    json_decref(v);
    json_decref(link);
    v = s_view("I1", NULL, NULL);
    assert(streq(json_string_value(json_object_get(v, "status")), "none"));
    assert(json_is_null(json_object_get(v, "last")));
    json_decref(v);
    //  A request: bad inputs answer before any bus call
    gw_req_t *req = gw_req_new("POST", "/v2/session/temp-link");
    gw_req_set_query(req, "expires_in", "5");
    gw_templink_create(req);
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);
    req = gw_req_new("POST", "/v2/session/temp-link");
    gw_req_set_query(req, "expires_in", "12x");
    gw_templink_create(req);
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);
    //  The HTML refusal
    req = gw_req_new("GET", "/temp-qr/x");
    s_refuse(req, S_HTML, 410, "Link expired", "gone");
    assert(gw_req_status(req) == 410);
    assert(streq(gw_req_content_type(req), "text/html; charset=utf-8"));
    assert(strstr(gw_req_response(req), "data-status=\"410\""));
    gw_req_destroy(&req);
    json_t *schemas = gw_templink_schemas();
    assert(json_object_get(schemas, "WawpTempLink"));
    json_decref(schemas);
    printf("OK\n");
}
