/*  gw_req - one HTTP request and its response

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

struct _gw_req_t {
    char *method;                     //  HTTP method
    char *path;                       //  decoded path, without the query
    gw_family_t family;               //  API family of the path
    json_t *headers;                  //  lower-case name -> string
    json_t *query;                    //  name -> string
    json_t *query_all;                //  name -> [string...], every value
    json_t *params;                   //  path parameters
    char *body;                       //  raw body, or NULL
    size_t body_len;                  //  bytes in body
    size_t body_cap;                  //  allocated bytes
    bool too_large;                   //  body past the limit
    json_t *json;                     //  parsed JSON body object, or NULL
    json_t *form;                     //  parsed form fields, or NULL
    bool admin;                       //  authenticated with the admin key
    int64_t deadline;                 //  monotonic ms
    int64_t created_us;               //  monotonic µs when the head came
    const gw_config_t *config;        //  borrowed
    gw_link_t *link;                  //  borrowed
    int status;                       //  response status, 0 until set
    char *response;                   //  serialized response body
    size_t response_len;              //  its length
    char *content_type;               //  response type when not JSON, or NULL
    char *allow;                      //  Allow header for 405
    json_t *out_headers;              //  extra response headers, name -> string
    gw_req_upgrade_fn *upgrade;       //  takes the socket after a 101
    void *upgrade_arg;                //  its argument, owned until it runs
    void (*upgrade_free)(void **arg); //  frees upgrade_arg
    char peer[48];                    //  the client's address, or ""
};

gw_req_t *
gw_req_new(const char *method, const char *path)
{
    assert(method && path);
    gw_req_t *self = cm_alloc(sizeof *self);
    self->method = cm_strdup(method);
    self->path = cm_strdup(path);
    self->family = (strncmp(path, "/v2/", 4) == 0 || streq(path, "/v2"))
                       ? GW_FAMILY_WAWP
                       : GW_FAMILY_WAHA;
    self->headers = json_object();
    self->query = json_object();
    self->params = json_object();
    self->deadline = cm_mono_ms() + 30000;
    self->created_us = zclock_usecs();
    return self;
}

void
gw_req_destroy(gw_req_t **self_p)
{
    assert(self_p);
    gw_req_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->method);
    free(self->path);
    json_decref(self->headers);
    json_decref(self->query);
    json_decref(self->query_all);
    json_decref(self->params);
    free(self->body);
    json_decref(self->json);
    json_decref(self->form);
    free(self->response);
    free(self->content_type);
    free(self->allow);
    json_decref(self->out_headers);
    if (self->upgrade_arg && self->upgrade_free) {
        self->upgrade_free(&self->upgrade_arg);
    }
    free(self);
    *self_p = NULL;
}

void
gw_req_set_context(gw_req_t *self, const gw_config_t *config, gw_link_t *link)
{
    self->config = config;
    self->link = link;
    if (config) {
        self->deadline = cm_mono_ms() + gw_config_request_timeout(config);
    }
}

const gw_config_t *
gw_req_config(gw_req_t *self)
{
    return self->config;
}

gw_link_t *
gw_req_link(gw_req_t *self)
{
    return self->link;
}

const char *
gw_req_method(gw_req_t *self)
{
    return self->method;
}

const char *
gw_req_path(gw_req_t *self)
{
    return self->path;
}

gw_family_t
gw_req_family(gw_req_t *self)
{
    return self->family;
}

//  Set obj[name] = value unless present; json_string rejects invalid
//  UTF-8, so such values are dropped.
static void
s_set_first(json_t *obj, const char *name, const char *value)
{
    if (!name || !value || json_object_get(obj, name)) {
        return;
    }
    json_t *v = json_string(value);
    if (v) {
        json_object_set_new(obj, name, v);
    }
}

void
gw_req_set_header(gw_req_t *self, const char *name, const char *value)
{
    if (!name) {
        return;
    }
    char *lower = cm_strdup(name);
    for (char *p = lower; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    s_set_first(self->headers, lower, value);
    free(lower);
}

void
gw_req_set_query(gw_req_t *self, const char *name, const char *value)
{
    s_set_first(self->query, name, value ? value : "");
    if (!self->query_all) {
        self->query_all = json_object();
    }
    json_t *all = json_object_get(self->query_all, name);
    if (!all) {
        all = json_array();
        json_object_set_new(self->query_all, name, all);
    }
    json_array_append_new(all, json_string(value ? value : ""));
}

json_t *
gw_req_query_all(gw_req_t *self, const char *name)
{
    return self->query_all ? json_object_get(self->query_all, name) : NULL;
}

const char *
gw_req_header(gw_req_t *self, const char *name)
{
    char lower[128];
    size_t i = 0;
    for (; name[i] && i < sizeof lower - 1; i++) {
        lower[i] = (char)tolower((unsigned char)name[i]);
    }
    lower[i] = 0;
    return json_string_value(json_object_get(self->headers, lower));
}

const char *
gw_req_query(gw_req_t *self, const char *name)
{
    return json_string_value(json_object_get(self->query, name));
}

json_t *
gw_req_params(gw_req_t *self)
{
    return self->params;
}

const char *
gw_req_param(gw_req_t *self, const char *name)
{
    return json_string_value(json_object_get(self->params, name));
}

int
gw_req_append_body(gw_req_t *self, const char *data, size_t len, size_t limit)
{
    if (self->too_large) {
        return -1;
    }
    if (len > limit || self->body_len > limit - len) {
        gw_req_set_too_large(self);
        return -1;
    }
    if (self->body_len + len + 1 > self->body_cap) {
        size_t cap = self->body_cap ? self->body_cap : 1024;
        while (cap < self->body_len + len + 1) {
            cap *= 2;
        }
        char *grown = realloc(self->body, cap);
        assert(grown);
        self->body = grown;
        self->body_cap = cap;
    }
    memcpy(self->body + self->body_len, data, len);
    self->body_len += len;
    self->body[self->body_len] = 0;
    return 0;
}

void
gw_req_set_too_large(gw_req_t *self)
{
    self->too_large = true;
    free(self->body);
    self->body = NULL;
    self->body_len = 0;
    self->body_cap = 0;
}

bool
gw_req_too_large(gw_req_t *self)
{
    return self->too_large;
}

size_t
gw_req_body_len(gw_req_t *self)
{
    return self->body_len;
}

//  Decode a form component in place ('+' is a space, %XX a byte).
static void
s_form_decode(char *s)
{
    char *out = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') {
            *out++ = ' ';
        } else if (*p == '%' && cm_hex_digit(p[1]) >= 0 &&
                   cm_hex_digit(p[2]) >= 0) {
            *out++ = (char)(cm_hex_digit(p[1]) * 16 + cm_hex_digit(p[2]));
            p += 2;
        } else {
            *out++ = *p;
        }
    }
    *out = 0;
}

static void
s_parse_form(gw_req_t *self)
{
    self->form = json_object();
    char *save = NULL;
    for (char *pair = strtok_r(self->body, "&", &save); pair;
         pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (eq) {
            *eq = 0;
        }
        s_form_decode(pair);
        if (eq) {
            s_form_decode(eq + 1);
        }
        if (*pair) {
            s_set_first(self->form, pair, eq ? eq + 1 : "");
        }
    }
}

int
gw_req_parse_body(gw_req_t *self)
{
    if (!self->body_len) {
        return 0;
    }
    const char *ctype = gw_req_header(self, "Content-Type");
    if (ctype &&
        strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) {
        if (memchr(self->body, 0, self->body_len)) {
            gw_req_fail_invalid(self, "form body must not contain NUL bytes");
            return -1;
        }
        s_parse_form(self);
        return 0;
    }
    json_error_t err;
    json_t *json = json_loadb(self->body, self->body_len, 0, &err);
    if (!json) {
        gw_req_fail(self, 400, "bad_request",
                    "malformed JSON body: %s (line %d, column %d)", err.text,
                    err.line, err.column);
        return -1;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        gw_req_fail_invalid(self, "request body must be a JSON object");
        return -1;
    }
    self->json = json;
    return 0;
}

void
gw_req_set_peer(gw_req_t *self, const char *peer)
{
    snprintf(self->peer, sizeof self->peer, "%s", peer ? peer : "");
}

const char *
gw_req_peer(gw_req_t *self)
{
    return self->peer;
}

json_t *
gw_req_json(gw_req_t *self)
{
    return self->json;
}

json_t *
gw_req_form(gw_req_t *self)
{
    return self->form;
}

json_t *
gw_req_input(gw_req_t *self, const char *name)
{
    json_t *v = json_object_get(self->json, name);
    if (!v) {
        v = json_object_get(self->form, name);
    }
    if (!v) {
        v = json_object_get(self->query, name);
    }
    return v;
}

const char *
gw_req_input_str(gw_req_t *self, const char *name)
{
    return json_string_value(gw_req_input(self, name));
}

void
gw_req_set_admin(gw_req_t *self, bool admin)
{
    self->admin = admin;
}

bool
gw_req_admin(gw_req_t *self)
{
    return self->admin;
}

const char *
gw_req_credential(gw_req_t *self)
{
    const char *v = gw_req_header(self, "access-token");
    if (!v) {
        v = gw_req_input_str(self, "access_token");
    }
    if (!v) {
        v = gw_req_header(self, "X-Api-Key");
    }
    if (!v) {
        v = gw_req_query(self, "x-api-key");
    }
    return v;
}

int
gw_req_time_left(gw_req_t *self)
{
    int64_t left = self->deadline - cm_mono_ms();
    return left < 1 ? 1 : (int)left;
}

cm_msg_t *
gw_req_call(gw_req_t *self, const char *dest, cm_msg_t **msg_p, int cap_ms)
{
    assert(self->link);
    int timeout = gw_req_time_left(self);
    if (cap_ms > 0 && cap_ms < timeout) {
        timeout = cap_ms;
    }
    return gw_link_call(self->link, dest, msg_p, timeout);
}

void
gw_req_reply(gw_req_t *self, int status, json_t **body_p)
{
    json_t *body = body_p && *body_p ? *body_p : json_null();
    if (body_p) {
        *body_p = NULL;
    }
    free(self->response);
    self->response = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    assert(self->response);
    self->response_len = strlen(self->response);
    free(self->content_type);
    self->content_type = NULL;
    self->status = status;
    json_decref(body);
}

void
gw_req_reply_bytes(gw_req_t *self, int status, const char *content_type,
                   const void *data, size_t len)
{
    assert(content_type && (data || len == 0));
    free(self->response);
    self->response = cm_alloc(len + 1);
    if (len) {
        memcpy(self->response, data, len);
    }
    self->response[len] = 0;
    self->response_len = len;
    free(self->content_type);
    self->content_type = cm_strdup(content_type);
    self->status = status;
}

const char *
gw_req_content_type(gw_req_t *self)
{
    return self->content_type;
}

const char *
gw_req_reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 422:
        return "Unprocessable Entity";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

static const char *
s_wawp_code(int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 401:
        return "invalid_access_token";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 409:
        return "conflict";
    case 413:
        return "payload_too_large";
    case 422:
        return "unprocessable_entity";
    case 502:
        return "wawp_upstream_error";
    case 503:
        return "service_unavailable";
    case 504:
        return "upstream_timeout";
    default:
        return status < 500 ? "bad_request" : "internal_error";
    }
}

//  Error body with `message` (taken).
static void
s_fail(gw_req_t *self, int status, const char *code, json_t *message)
{
    json_t *body = NULL;
    if (self->family == GW_FAMILY_WAWP) {
        if (json_is_array(message)) {
            json_t *first = json_incref(json_array_get(message, 0));
            json_decref(message);
            message = first;
        }
        body = json_pack("{s:i, s:o, s:s}", "status", status, "message",
                         message, "error", code ? code : s_wawp_code(status));
    } else {
        body = json_pack("{s:i, s:o, s:s}", "statusCode", status, "message",
                         message, "error", gw_req_reason_phrase(status));
    }
    assert(body);
    gw_req_reply(self, status, &body);
}

void
gw_req_fail(gw_req_t *self, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = cm_vsprintf(fmt, ap);
    va_end(ap);
    //  Outside data may end up in messages: keep the JSON valid.
    json_t *message = json_string(text);
    if (!message) {
        message = json_string(gw_req_reason_phrase(status));
    }
    free(text);
    s_fail(self, status, code, message);
}

void
gw_req_fail_invalid(gw_req_t *self, const char *message)
{
    json_t *m = json_string(message);
    if (!m) {
        m = json_string("invalid request");
    }
    s_fail(self, 400, "bad_request", json_pack("[o]", m));
}

void
gw_req_fail_session_status(gw_req_t *self, const char *session,
                           const char *status, const char *const *expected)
{
    const char *text = "Session status is not as expected. Try again later "
                       "or restart the session.";
    json_t *list = json_array();
    for (size_t i = 0; expected && expected[i]; i++) {
        json_array_append_new(list, json_string(expected[i]));
    }
    if (self->family == GW_FAMILY_WAWP) {
        char *joined = cm_json_dumps(list, NULL);
        json_decref(list);
        gw_req_fail(self, 422, "session_not_ready",
                    "%s Session status: %s, expected: %s", text,
                    status ? status : "unknown", joined ? joined : "[]");
        free(joined);
        return;
    }
    json_t *body =
        json_pack("{s:s, s:s?, s:s, s:o}", "error", text, "session", session,
                  "status", status ? status : "FAILED", "expected", list);
    if (body && !session) {
        json_object_set_new(body, "session", json_string(""));
    }
    assert(body);
    gw_req_reply(self, 422, &body);
}

void
gw_req_fail_unauthorized(gw_req_t *self)
{
    json_t *body = NULL;
    if (self->family == GW_FAMILY_WAWP) {
        body = json_pack("{s:i, s:s, s:s}", "status", 401, "message",
                         "Invalid or missing access token", "error",
                         "invalid_access_token");
    } else {
        body = json_pack("{s:s, s:i}", "message", "Unauthorized", "statusCode",
                         401);
    }
    gw_req_reply(self, 401, &body);
}

void
gw_req_fail_bus(gw_req_t *self, cm_msg_t *reply, const char *what)
{
    int st = cm_msg_status(reply);
    const char *reason = cm_msg_reason(reply);
    if (st == 504) {
        gw_req_fail(self, 504, NULL, "%s did not answer in time", what);
    } else if (st == 503) {
        gw_req_fail(self, 503, NULL, "%s is unavailable", what);
    } else if (st >= 400 && st < 500) {
        gw_req_fail(self, 502, NULL, "%s refused the request: %s", what,
                    reason ? reason : "no reason given");
    } else {
        gw_req_fail(self, 502, NULL, "%s failed: %s", what,
                    reason ? reason : "no reason given");
    }
}

void
gw_req_set_allow(gw_req_t *self, const char *allow)
{
    free(self->allow);
    self->allow = cm_strdup(allow);
}

const char *
gw_req_allow(gw_req_t *self)
{
    return self->allow;
}

int64_t
gw_req_age_us(gw_req_t *self)
{
    return zclock_usecs() - self->created_us;
}

void
gw_req_add_response_header(gw_req_t *self, const char *name, const char *value)
{
    if (!self->out_headers) {
        self->out_headers = json_object();
    }
    json_object_set_new(self->out_headers, name, json_string(value));
}

json_t *
gw_req_response_headers(gw_req_t *self)
{
    return self->out_headers;
}

void
gw_req_set_upgrade(gw_req_t *self, gw_req_upgrade_fn *fn, void *arg,
                   void (*free_fn)(void **arg))
{
    assert(fn && !self->upgrade);
    self->upgrade = fn;
    self->upgrade_arg = arg;
    self->upgrade_free = free_fn;
    self->status = 101;
}

bool
gw_req_upgrading(gw_req_t *self)
{
    return self->upgrade != NULL && self->status == 101;
}

void
gw_req_run_upgrade(gw_req_t *self, int fd, const char *extra, size_t extra_len,
                   void *handle)
{
    assert(self->upgrade);
    void *arg = self->upgrade_arg;
    self->upgrade_arg = NULL;
    self->upgrade(arg, fd, extra, extra_len, handle);
}

int
gw_req_status(gw_req_t *self)
{
    return self->status;
}

const char *
gw_req_response(gw_req_t *self)
{
    return self->response;
}

char *
gw_req_take_response(gw_req_t *self, size_t *len_p)
{
    char *out = self->response;
    self->response = NULL;
    if (len_p) {
        *len_p = out ? self->response_len : 0;
    }
    self->response_len = 0;
    return out;
}

int
gw_req_query_int(gw_req_t *req, const char *key, int64_t min, int64_t max,
                 int64_t dflt, int64_t *out, bool *given)
{
    const char *v = gw_req_query(req, key);
    *out = dflt;
    if (given) {
        *given = false;
    }
    if (!v) {
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max ||
        !isdigit((unsigned char)*v)) {
        char *msg =
            cm_sprintf("%s must be an integer from %" PRId64 " to %" PRId64,
                       key, min, max);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return -1;
    }
    *out = n;
    if (given) {
        *given = true;
    }
    return 0;
}

int
gw_req_input_bool(gw_req_t *req, const char *name, bool dflt, bool *out)
{
    json_t *v = gw_req_input(req, name);
    *out = dflt;
    if (!v || json_is_null(v)) {
        return 0;
    }
    const char *s = json_string_value(v);
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
    } else if (s && (streq(s, "true") || streq(s, "1"))) {
        *out = true;
    } else if (s && (streq(s, "false") || streq(s, "0"))) {
        *out = false;
    } else {
        char *msg = cm_sprintf("%s must be a boolean", name);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return -1;
    }
    return 0;
}

int
gw_req_input_opt_str(gw_req_t *req, const char *name, size_t max,
                     const char **out)
{
    return gw_req_value_opt_str(req, gw_req_input(req, name), name, max, out);
}

int
gw_req_value_opt_str(gw_req_t *req, json_t *v, const char *name, size_t max,
                     const char **out)
{
    *out = NULL;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) > max) {
        char *msg =
            cm_sprintf("%s must be a string of at most %zu bytes", name, max);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int
gw_req_query_bool(gw_req_t *req, const char *key, bool dflt, bool *out)
{
    const char *v = gw_req_query(req, key);
    *out = dflt;
    if (!v) {
        return 0;
    }
    if (streq(v, "true") || streq(v, "1")) {
        *out = true;
    } else if (streq(v, "false") || streq(v, "0")) {
        *out = false;
    } else {
        char *msg = cm_sprintf("%s must be true or false", key);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return -1;
    }
    return 0;
}

void
gw_req_test(bool verbose)
{
    printf(" * gw_req: ");
    gw_req_t *req = gw_req_new("POST", "/api/sessions");
    assert(gw_req_family(req) == GW_FAMILY_WAHA);
    gw_req_set_header(req, "Content-Type", "application/json");
    gw_req_set_header(req, "X-API-KEY", "k1");
    gw_req_set_header(req, "x-api-key", "k2");
    assert(streq(gw_req_header(req, "x-api-key"), "k1"));
    assert(streq(gw_req_header(req, "content-type"), "application/json"));
    assert(gw_req_append_body(req, "{\"name\":", 8, 100) == 0);
    assert(gw_req_append_body(req, "\"a\"}", 4, 100) == 0);
    assert(gw_req_parse_body(req) == 0);
    assert(streq(gw_req_input_str(req, "name"), "a"));
    gw_req_destroy(&req);
    assert(!req);

    //  Malformed JSON: 400 in WAHA shape, message a string.
    req = gw_req_new("POST", "/api/sessions");
    gw_req_append_body(req, "{\"name\":", 8, 100);
    assert(gw_req_parse_body(req) == -1);
    assert(gw_req_status(req) == 400);
    json_t *body = json_loads(gw_req_response(req), 0, NULL);
    assert(json_integer_value(json_object_get(body, "statusCode")) == 400);
    assert(streq(json_string_value(json_object_get(body, "error")),
                 "Bad Request"));
    assert(strstr(json_string_value(json_object_get(body, "message")),
                  "malformed JSON"));
    json_decref(body);
    gw_req_destroy(&req);

    //  Not an object; validation errors carry an array on /api.
    req = gw_req_new("POST", "/api/sessions");
    gw_req_append_body(req, "[1]", 3, 100);
    assert(gw_req_parse_body(req) == -1);
    body = json_loads(gw_req_response(req), 0, NULL);
    assert(json_is_array(json_object_get(body, "message")));
    json_decref(body);
    gw_req_destroy(&req);

    //  Too large
    req = gw_req_new("POST", "/api/sessions");
    assert(gw_req_append_body(req, "0123456789", 10, 15) == 0);
    assert(gw_req_append_body(req, "0123456789", 10, 15) == -1);
    assert(gw_req_too_large(req));
    assert(gw_req_body_len(req) == 0);
    assert(gw_req_append_body(req, "x", 1, 15) == -1);
    gw_req_destroy(&req);

    //  Wawp: form body, query, credentials, error shape.
    req = gw_req_new("POST", "/v2/session/start");
    assert(gw_req_family(req) == GW_FAMILY_WAWP);
    gw_req_set_header(req, "Content-Type",
                      "application/x-www-form-urlencoded; charset=utf-8");
    const char *form = "instance_id=ABC%20D&access_token=t+1&empty=&x";
    gw_req_append_body(req, form, strlen(form), 1000);
    gw_req_set_query(req, "instance_id", "FROMQUERY");
    gw_req_set_query(req, "config", "{}");
    assert(gw_req_parse_body(req) == 0);
    assert(streq(gw_req_input_str(req, "instance_id"), "ABC D"));
    assert(streq(gw_req_input_str(req, "empty"), ""));
    assert(streq(gw_req_input_str(req, "x"), ""));
    assert(streq(gw_req_input_str(req, "config"), "{}"));
    assert(streq(gw_req_credential(req), "t 1"));
    gw_req_fail(req, 404, "invalid_instance", "Instance %s not found", "X");
    body = json_loads(gw_req_response(req), 0, NULL);
    assert(json_integer_value(json_object_get(body, "status")) == 404);
    assert(streq(json_string_value(json_object_get(body, "error")),
                 "invalid_instance"));
    json_decref(body);
    gw_req_fail_invalid(req, "instance_id is required");
    body = json_loads(gw_req_response(req), 0, NULL);
    assert(streq(json_string_value(json_object_get(body, "message")),
                 "instance_id is required"));
    json_decref(body);
    gw_req_fail_unauthorized(req);
    assert(gw_req_status(req) == 401);
    assert(strstr(gw_req_response(req), "invalid_access_token"));
    gw_req_destroy(&req);

    //  WAHA 401 is exactly Nest's.
    req = gw_req_new("GET", "/api/sessions");
    gw_req_fail_unauthorized(req);
    assert(streq(gw_req_response(req),
                 "{\"message\":\"Unauthorized\",\"statusCode\":401}"));
    //  Invalid UTF-8 in a message never breaks the JSON.
    gw_req_fail(req, 404, NULL, "Session '%s' not found", "\xff\xfe");
    body = json_loads(gw_req_response(req), 0, NULL);
    assert(body);
    json_decref(body);
    json_t *null_body = NULL;
    gw_req_reply(req, 200, &null_body);
    assert(streq(gw_req_response(req), "null"));
    size_t len = 0;
    char *text = gw_req_take_response(req, &len);
    assert(len == 4);
    free(text);
    gw_req_destroy(&req);
    //  Repeated query values, response headers
    req = gw_req_new("GET", "/ws");
    gw_req_set_query(req, "events", "message");
    gw_req_set_query(req, "events", "session.status");
    assert(streq(gw_req_query(req, "events"), "message"));
    assert(json_array_size(gw_req_query_all(req, "events")) == 2);
    assert(!gw_req_query_all(req, "nope"));
    assert(!gw_req_response_headers(req));
    gw_req_add_response_header(req, "Retry-After", "1");
    gw_req_add_response_header(req, "Retry-After", "2");
    assert(streq(json_string_value(json_object_get(gw_req_response_headers(req),
                                                   "Retry-After")),
                 "2"));
    gw_req_destroy(&req);
    //  Query integers
    gw_req_t *qreq = gw_req_new("GET", "/api/default/events");
    gw_req_set_query(qreq, "after", "12");
    gw_req_set_query(qreq, "limit", "abc");
    int64_t v = 0;
    assert(gw_req_query_int(qreq, "after", 0, 100, 0, &v, NULL) == 0 &&
           v == 12);
    assert(gw_req_query_int(qreq, "missing", 0, 100, 7, &v, NULL) == 0 &&
           v == 7);
    assert(gw_req_query_int(qreq, "limit", 1, 100, 1, &v, NULL) == -1);
    assert(gw_req_status(qreq) == 400);
    assert(strstr(gw_req_response(qreq), "limit"));
    gw_req_destroy(&qreq);
    qreq = gw_req_new("GET", "/api/default/events");
    gw_req_set_query(qreq, "after", "-1");
    assert(gw_req_query_int(qreq, "after", 0, 100, 0, &v, NULL) == -1);
    gw_req_destroy(&qreq);
    //  Body booleans and strings (the query stands in for a body field)
    qreq = gw_req_new("POST", "/api/default/status/text");
    const char *jbody = "{\"on\":true,\"off\":\"0\",\"bad\":3,\"text\":\"hi\","
                        "\"none\":null,\"long\":\"abcdef\"}";
    assert(gw_req_append_body(qreq, jbody, strlen(jbody), 1000) == 0);
    assert(gw_req_parse_body(qreq) == 0);
    gw_req_set_query(qreq, "q", "true");
    bool bv = false;
    const char *sv = NULL;
    assert(gw_req_input_bool(qreq, "on", false, &bv) == 0 && bv);
    assert(gw_req_input_bool(qreq, "off", true, &bv) == 0 && !bv);
    assert(gw_req_input_bool(qreq, "none", true, &bv) == 0 && bv);
    assert(gw_req_input_bool(qreq, "missing", false, &bv) == 0 && !bv);
    assert(gw_req_input_opt_str(qreq, "text", 10, &sv) == 0 && streq(sv, "hi"));
    assert(gw_req_input_opt_str(qreq, "none", 10, &sv) == 0 && !sv);
    assert(gw_req_input_opt_str(qreq, "long", 10, &sv) == 0 &&
           streq(sv, "abcdef"));
    assert(gw_req_input_opt_str(qreq, "long", 3, &sv) == -1);
    assert(gw_req_status(qreq) == 400);
    assert(strstr(gw_req_response(qreq), "long must be a string of at most 3"));
    gw_req_destroy(&qreq);
    qreq = gw_req_new("POST", "/api/default/status/text");
    assert(gw_req_append_body(qreq, jbody, strlen(jbody), 1000) == 0);
    assert(gw_req_parse_body(qreq) == 0);
    assert(gw_req_input_bool(qreq, "bad", false, &bv) == -1);
    assert(strstr(gw_req_response(qreq), "bad must be a boolean"));
    gw_req_destroy(&qreq);
    //  Query booleans
    qreq = gw_req_new("GET", "/api/default/channels/x/messages/preview");
    gw_req_set_query(qreq, "downloadMedia", "true");
    gw_req_set_query(qreq, "quiet", "0");
    gw_req_set_query(qreq, "odd", "yes");
    bool b = false;
    assert(gw_req_query_bool(qreq, "downloadMedia", false, &b) == 0 && b);
    assert(gw_req_query_bool(qreq, "quiet", true, &b) == 0 && !b);
    assert(gw_req_query_bool(qreq, "missing", true, &b) == 0 && b);
    assert(gw_req_query_bool(qreq, "odd", false, &b) == -1);
    assert(gw_req_status(qreq) == 400);
    assert(strstr(gw_req_response(qreq), "odd must be true or false"));
    gw_req_destroy(&qreq);
    printf("OK\n");
}
