/*  gw_login - linking a session to a WhatsApp account: the QR code and
    the pairing code

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"
#include "gw_messages.h"

static const char *const s_qr_statuses[] = {"SCAN_QR_CODE", NULL};
static const char *const s_code_statuses[] = {"STARTING", "SCAN_QR_CODE",
                                              NULL};

int
gw_login_phone(const char *text, char *out, size_t size)
{
    if (!text) {
        return -1;
    }
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n + 1 >= size || n >= 15) {
                return -1;
            }
            out[n++] = *p;
        } else if (!(*p == '+' && n == 0) && *p != ' ' && *p != '-' &&
                   *p != '(' && *p != ')' && *p != '.') {
            return -1;
        }
    }
    if (n < 7) {
        return -1;
    }
    out[n] = 0;
    return 0;
}

//  The current QR string of session `name` (caller owns), or NULL after
//  a response.
static char *
s_qr_value(gw_req_t *req, const char *name)
{
    json_t *session = gw_messages_session(req, name);
    char *value = NULL;
    if (session && gw_messages_status_is(req, session, s_qr_statuses)) {
        cm_msg_t *reply =
            gw_messages_command(req, session, "session.qr", NULL, 5000);
        if (reply) {
            const char *v = cm_msg_str(reply, "value");
            if (v && *v) {
                value = cm_strdup(v);
            } else {
                gw_req_fail(req, 502, NULL, "session-worker sent no QR");
            }
            cm_msg_destroy(&reply);
        }
    }
    json_decref(session);
    return value;
}

typedef enum {
    S_QR_RAW,  //  {value}
    S_QR_JSON, //  {mimetype, data}
    S_QR_PNG   //  image/png
} s_qr_form_t;

static void
s_qr_reply(gw_req_t *req, const char *value, s_qr_form_t form)
{
    if (form == S_QR_RAW) {
        json_t *body = json_pack("{s:s}", "value", value);
        gw_req_reply(req, 200, &body);
        return;
    }
    uint8_t *png = NULL;
    size_t len = 0;
    if (cm_qr_png(value, GW_LOGIN_QR_SCALE, &png, &len) != 0) {
        gw_req_fail(req, 500, NULL, "could not render the QR code");
        return;
    }
    if (form == S_QR_PNG) {
        gw_req_reply_bytes(req, 200, "image/png", png, len);
    } else {
        char *b64 = cm_base64_encode(png, len);
        json_t *body =
            json_pack("{s:s, s:s}", "mimetype", "image/png", "data", b64);
        gw_req_reply(req, 200, &body);
        free(b64);
    }
    free(png);
}

//  True if the Accept header names `type`.
static bool
s_accepts(gw_req_t *req, const char *type)
{
    const char *accept = gw_req_header(req, "Accept");
    return accept && strstr(accept, type);
}

void
gw_login_qr(gw_req_t *req)
{
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return;
    }
    const char *format = gw_req_query(req, "format");
    if (format && !cm_streq(format, "raw") && !cm_streq(format, "image")) {
        gw_req_fail_invalid(req, "format must be one of: image, raw");
        return;
    }
    s_qr_form_t form = S_QR_PNG;
    if (cm_streq(format, "raw")) {
        form = S_QR_RAW;
    } else if (!s_accepts(req, "image/") &&
               s_accepts(req, "application/json")) {
        form = S_QR_JSON;
    }
    char *value = s_qr_value(req, name);
    if (value) {
        s_qr_reply(req, value, form);
        free(value);
    }
}

void
gw_login_wawp_qr(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (!name) {
        return;
    }
    const char *format = gw_req_input_str(req, "format");
    char *value = s_qr_value(req, name);
    if (value) {
        s_qr_reply(req, value, cm_streq(format, "raw") ? S_QR_RAW : S_QR_JSON);
        free(value);
    }
    free(name);
}

void
gw_login_wawp_qr_image(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (!name) {
        return;
    }
    char *value = s_qr_value(req, name);
    if (value) {
        s_qr_reply(req, value,
                   s_accepts(req, "image/png") ? S_QR_PNG : S_QR_JSON);
        free(value);
    }
    free(name);
}

static void
s_request_code(gw_req_t *req, const char *name, const char *field,
               int success)
{
    json_t *pv = gw_req_input(req, field);
    char phone[16];
    if (gw_login_phone(json_string_value(pv), phone, sizeof phone) != 0) {
        char *msg = cm_sprintf(pv ? "%s must be a phone number with 7 to 15 "
                                    "digits, in international format"
                                  : "%s is required",
                               field);
        gw_req_fail_invalid(req, msg);
        free(msg);
        return;
    }
    json_t *method = gw_req_input(req, "method");
    if (method && !json_is_null(method) && !json_is_string(method)) {
        gw_req_fail_invalid(req, "method must be a string");
        return;
    }
    json_t *session = gw_messages_session(req, name);
    if (session && gw_messages_status_is(req, session, s_code_statuses)) {
        json_t *body = json_pack("{s:s}", "phoneNumber", phone);
        cm_msg_t *reply = gw_messages_command(
            req, session, "session.pair_code", &body, GW_LOGIN_CODE_TIMEOUT_MS);
        if (reply) {
            const char *code = cm_msg_str(reply, "code");
            if (code) {
                json_t *out = json_pack("{s:s}", "code", code);
                gw_req_reply(req, success, &out);
            } else {
                gw_req_fail(req, 502, NULL, "session-worker sent no code");
            }
            cm_msg_destroy(&reply);
        }
    }
    json_decref(session);
}

void
gw_login_request_code(gw_req_t *req)
{
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return;
    }
    s_request_code(req, name, "phoneNumber", 201);
}

void
gw_login_wawp_request_code(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (name) {
        s_request_code(req, name,
                       gw_req_input(req, "phone_number") ? "phone_number"
                                                         : "phoneNumber",
                       200);
        free(name);
    }
}

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"QRCodeValue\":{\"type\":\"object\",\"description\":\"{value} with "
    "format=raw, else {mimetype, data} (base64 PNG); the WAHA route "
    "answers image/png unless JSON is asked for\",\"properties\":{\"value\":"
    "{\"type\":\"string\"},\"mimetype\":{\"type\":\"string\",\"example\":"
    "\"image/png\"},\"data\":{\"type\":\"string\",\"format\":\"byte\"}}},"
    "\"RequestCodeRequest\":{\"type\":\"object\",\"required\":["
    "\"phoneNumber\"],\"properties\":{\"phoneNumber\":{\"type\":\"string\","
    "\"example\":\"12132132130\"},\"method\":{\"type\":\"string\","
    "\"nullable\":true,\"description\":\"Empty: link with the code typed "
    "on the phone\"}}},"
    "\"RequestCodeResponse\":{\"type\":\"object\",\"properties\":{\"code\":"
    "{\"type\":\"string\",\"example\":\"ABCD-EFGH\"}}},"
    "\"WawpQrRequest\":{\"type\":\"object\",\"properties\":{\"instance_id\":"
    "{\"type\":\"string\"},\"access_token\":{\"type\":\"string\"},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"raw\",\"image\"]}}},"
    "\"WawpRequestCodeRequest\":{\"type\":\"object\",\"required\":["
    "\"instance_id\",\"phone_number\"],\"properties\":{\"instance_id\":"
    "{\"type\":\"string\"},\"access_token\":{\"type\":\"string\"},"
    "\"phone_number\":{\"type\":\"string\"}}}"
    "}";

json_t *
gw_login_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------

void
gw_login_test(bool verbose)
{
    printf(" * gw_login: ");
    char out[16];
    assert(gw_login_phone("+1 (555) 123-4567", out, sizeof out) == 0);
    assert(cm_streq(out, "15551234567"));
    assert(gw_login_phone("447441429009", out, sizeof out) == 0);
    assert(gw_login_phone("12345", out, sizeof out) == -1);
    assert(gw_login_phone("1234567890123456", out, sizeof out) == -1);
    assert(gw_login_phone("12345x67", out, sizeof out) == -1);
    assert(gw_login_phone("1+2345678", out, sizeof out) == -1);
    assert(gw_login_phone(NULL, out, sizeof out) == -1);
    assert(gw_login_phone("1234567", out, 4) == -1);

    //  The three QR forms
    gw_req_t *req = gw_req_new("GET", "/api/default/auth/qr");
    s_qr_reply(req, "https://wa.me/settings/linked_devices#R,N,I,A,1",
               S_QR_RAW);
    assert(gw_req_status(req) == 200 && !gw_req_content_type(req));
    json_t *body = json_loads(gw_req_response(req), 0, NULL);
    assert(cm_streq(json_string_value(json_object_get(body, "value")),
                    "https://wa.me/settings/linked_devices#R,N,I,A,1"));
    json_decref(body);
    s_qr_reply(req, "qr-text", S_QR_PNG);
    assert(cm_streq(gw_req_content_type(req), "image/png"));
    size_t len = 0;
    char *png = gw_req_take_response(req, &len);
    assert(len > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    free(png);
    s_qr_reply(req, "qr-text", S_QR_JSON);
    assert(!gw_req_content_type(req));
    body = json_loads(gw_req_response(req), 0, NULL);
    assert(cm_streq(json_string_value(json_object_get(body, "mimetype")),
                    "image/png"));
    uint8_t *raw = NULL;
    assert(cm_base64_decode(json_string_value(json_object_get(body, "data")),
                            1 << 20, &raw, &len) == 0);
    assert(len > 8 && memcmp(raw, "\x89PNG", 4) == 0);
    free(raw);
    json_decref(body);
    gw_req_destroy(&req);

    //  Input checks come first
    req = gw_req_new("GET", "/api/default/auth/qr");
    json_object_set_new(gw_req_params(req), "session",
                        json_string("default"));
    gw_req_set_query(req, "format", "svg");
    gw_login_qr(req);
    assert(gw_req_status(req) == 400 && strstr(gw_req_response(req), "format"));
    gw_req_destroy(&req);
    req = gw_req_new("POST", "/api/default/auth/request-code");
    json_object_set_new(gw_req_params(req), "session",
                        json_string("default"));
    gw_req_set_query(req, "phoneNumber", "12");
    gw_login_request_code(req);
    assert(gw_req_status(req) == 400 &&
           strstr(gw_req_response(req), "phoneNumber"));
    gw_req_destroy(&req);

    json_t *schemas = gw_login_schemas();
    assert(json_object_get(schemas, "QRCodeValue"));
    json_decref(schemas);
    printf("OK\n");
}
