/*  sim_control - the control and inspection API (JSON over HTTP)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_control.h"
#include "sim_pair.h"
#include "sim_http.h"
#include "sim_profile.h"
#include "sim_server.h"

struct _sim_control_t {
    sim_http_t *http;     //  HTTP listener
    sim_server_t *server; //  what the routes act on (borrowed)
};

//  Split the path into at most `max` segments (copies into buf).
static int
s_split(const char *path, char *buf, size_t size, char **seg, int max)
{
    snprintf(buf, size, "%s", path);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, "/", &save); tok;
         tok = strtok_r(NULL, "/", &save)) {
        if (n == max) {
            return -1;
        }
        seg[n++] = tok;
    }
    return n;
}

//  Parse a non-negative decimal id. Returns -1 when not one.
static int64_t
s_id(const char *text)
{
    if (!text || !*text || strlen(text) > 15) {
        return -1;
    }
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            return -1;
        }
    }
    return strtoll(text, NULL, 10);
}

static void
s_reply_status(sim_http_req_t *req, int status, const char *reason,
               json_t **result_p)
{
    if (status >= 300) {
        json_decref(result_p ? *result_p : NULL);
        sim_http_reply_error(req, status, reason ? reason : "failed");
        return;
    }
    json_t *body = result_p && *result_p ? *result_p : json_object();
    if (result_p) {
        *result_p = NULL;
    }
    sim_http_reply_json(req, status, &body);
}

static void
s_accounts(sim_control_t *self, sim_http_req_t *req, char **seg, int n)
{
    sim_model_t *model = sim_server_model(self->server);
    const char *method = sim_http_method(req);
    if (n == 1 && cm_streq(method, "GET")) {
        json_t *list = json_array();
        zlistx_t *accounts = sim_model_accounts(model);
        sim_account_t *acc = (sim_account_t *)zlistx_first(accounts);
        while (acc) {
            json_array_append_new(list, sim_account_to_json(acc, true));
            acc = (sim_account_t *)zlistx_next(accounts);
        }
        json_t *body = json_pack("{s:o}", "accounts", list);
        sim_http_reply_json(req, 200, &body);
        return;
    }
    if (n == 1 && cm_streq(method, "POST")) {
        json_t *in = sim_http_json(req);
        const char *phone = json_string_value(json_object_get(in, "phone"));
        json_t *name = json_object_get(in, "push_name");
        if (!in || !phone || (name && !json_is_string(name))) {
            json_decref(in);
            sim_http_reply_error(req, 400, "body must be {phone, push_name?}");
            return;
        }
        //  Accept "+1 555 123-4567" style input as a convenience.
        char digits[32];
        size_t len = 0;
        for (const char *p = phone; *p && len < sizeof digits - 1; p++) {
            if (isdigit((unsigned char)*p)) {
                digits[len++] = *p;
            } else if (!strchr("+ -()", *p)) {
                len = 0;
                break;
            }
        }
        digits[len] = 0;
        if (!sim_model_phone_valid(digits)) {
            json_decref(in);
            sim_http_reply_error(req, 400,
                                 "phone must be 7-15 digits, no leading 0");
            return;
        }
        if (sim_model_account(model, digits)) {
            json_decref(in);
            sim_http_reply_error(req, 409, "account exists");
            return;
        }
        sim_account_t *acc = sim_model_account_add(
            model, digits, name ? json_string_value(name) : digits);
        json_decref(in);
        if (!acc) {
            sim_http_reply_error(req, 500, "could not create account");
            return;
        }
        cm_log_info("created account", "phone=%s lid=%s", acc->phone, acc->lid);
        json_t *body = sim_account_to_json(acc, true);
        sim_http_reply_json(req, 201, &body);
        return;
    }
    sim_account_t *acc = n >= 2 ? sim_model_account(model, seg[1]) : NULL;
    if (!acc) {
        sim_http_reply_error(req, 404, "no such account");
        return;
    }
    const char *reason = NULL;
    json_t *result = NULL;
    if (n == 2 && cm_streq(method, "GET")) {
        json_t *body = sim_account_to_json(acc, true);
        sim_http_reply_json(req, 200, &body);
    } else if (n == 2 && cm_streq(method, "DELETE")) {
        int st = sim_server_remove_account(self->server, seg[1], &reason);
        s_reply_status(req, st, reason, NULL);
    } else if (n == 3 && cm_streq(seg[2], "devices") &&
               cm_streq(method, "GET")) {
        json_t *list = json_array();
        sim_device_t *dev = (sim_device_t *)zlistx_first(acc->devices);
        while (dev) {
            json_array_append_new(list, sim_device_to_json(dev));
            dev = (sim_device_t *)zlistx_next(acc->devices);
        }
        json_t *body = json_pack("{s:o}", "devices", list);
        sim_http_reply_json(req, 200, &body);
    } else if (n == 3 && cm_streq(seg[2], "devices") &&
               cm_streq(method, "POST")) {
        //  A companion nobody is told about (stale device lists); with
        //  {"forged": true} one the account never signed (a device the
        //  server slipped in: left out of the signed key-index list)
        json_t *in = sim_http_json(req);
        json_t *forged = json_object_get(in, "forged");
        if (forged && !json_is_boolean(forged)) {
            json_decref(in);
            sim_http_reply_error(req, 400, "body must be {forged?: bool}");
            return;
        }
        sim_device_t *dev = sim_pair_shadow_device(acc);
        if (!dev) {
            json_decref(in);
            sim_http_reply_error(req, 500, "could not add a device");
            return;
        }
        dev->forged = json_is_true(forged);
        json_decref(in);
        cm_log_info("added a silent device", "phone=%s device=%u", acc->phone,
                    dev->id);
        json_t *body = sim_device_to_json(dev);
        sim_http_reply_json(req, 201, &body);
    } else if (n == 4 && cm_streq(seg[2], "devices") &&
               cm_streq(method, "DELETE")) {
        int64_t id = s_id(seg[3]);
        if (id < 0 || id > UINT32_MAX) {
            sim_http_reply_error(req, 400, "bad device id");
            return;
        }
        int st =
            sim_server_unlink(self->server, acc->phone, (uint32_t)id, &reason);
        s_reply_status(req, st, reason, NULL);
    } else if (n == 3 && cm_streq(seg[2], "app-state") &&
               cm_streq(method, "GET")) {
        json_t *body =
            json_pack("{s:o, s:o, s:o}", "collections",
                      sim_server_app_state(self->server, acc->phone), "fetches",
                      sim_server_app_state_fetches(self->server, acc->phone),
                      "keyRequests",
                      sim_server_phone_key_requests(self->server, acc->phone));
        sim_http_reply_json(req, 200, &body);
    } else if (n == 5 && cm_streq(seg[2], "app-state") &&
               cm_streq(seg[4], "tamper") && cm_streq(method, "POST")) {
        int st = sim_server_app_state_tamper(self->server, acc->phone, seg[3],
                                             &reason);
        s_reply_status(req, st, reason, NULL);
    } else if (n == 4 && cm_streq(seg[2], "app-state") &&
               cm_streq(seg[3], "actions") && cm_streq(method, "POST")) {
        json_t *in = sim_http_json(req);
        json_t *actions = json_object_get(in, "actions");
        //  external: true (mutations in an external blob) or "gone"
        //  (... never put on the media host)
        json_t *ext = json_object_get(in, "external");
        int external = json_is_true(ext)                          ? 1
                       : cm_streq(json_string_value(ext), "gone") ? 2
                                                                  : 0;
        int st = sim_server_phone_app_state(self->server, acc->phone, actions,
                                            external, &result, &reason);
        json_decref(in);
        s_reply_status(req, st, reason, &result);
    } else if (n == 4 && cm_streq(seg[2], "app-state") &&
               cm_streq(seg[3], "key") && cm_streq(method, "POST")) {
        int st = sim_server_phone_app_state_key(self->server, acc->phone,
                                                &result, &reason);
        s_reply_status(req, st, reason, &result);
    } else if (n == 5 && cm_streq(seg[2], "app-state") &&
               cm_streq(seg[4], "snapshot") && cm_streq(method, "POST")) {
        int st = sim_server_phone_app_state_snapshot(self->server, acc->phone,
                                                     seg[3], &result, &reason);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(seg[2], "history") &&
               cm_streq(method, "PUT")) {
        json_t *in = sim_http_json(req);
        int st = sim_server_phone_history(self->server, acc->phone, in, &result,
                                          &reason);
        json_decref(in);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(seg[2], "history") &&
               cm_streq(method, "GET")) {
        int st = sim_server_phone_history_status(self->server, acc->phone,
                                                 &result, &reason);
        s_reply_status(req, st, reason, &result);
    } else if (n == 4 && cm_streq(seg[2], "history") &&
               cm_streq(seg[3], "send") && cm_streq(method, "POST")) {
        int st = sim_server_phone_history_send(self->server, acc->phone,
                                               &result, &reason);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(method, "POST") && cm_streq(seg[2], "send")) {
        json_t *in = sim_http_json(req);
        const char *to = json_string_value(json_object_get(in, "to"));
        const char *text = json_string_value(json_object_get(in, "text"));
        if (!to || !text) {
            json_decref(in);
            sim_http_reply_error(req, 400, "body must be {to, text}");
            return;
        }
        int st = sim_server_phone_send(self->server, acc->phone, to, text,
                                       &result, &reason);
        json_decref(in);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(seg[2], "profile") &&
               cm_streq(method, "PUT")) {
        //  {about?: str|null, picture?: base64 JPEG|null, statusPrivacy?:
        //  {type, users}}: as its phone
        json_t *in = sim_http_json(req);
        json_t *about = json_object_get(in, "about");
        json_t *pic = json_object_get(in, "picture");
        json_t *sp = json_object_get(in, "statusPrivacy");
        uint8_t *jpeg = NULL;
        size_t len = 0;
        int st = 200;
        if (!json_is_object(in) ||
            (about && !json_is_string(about) && !json_is_null(about))) {
            st = 400;
        } else if (sp && sim_profile_set_status_privacy(acc, sp) != 0) {
            st = 400;
        } else if (pic && !json_is_null(pic) &&
                   (!json_is_string(pic) ||
                    cm_base64_decode(json_string_value(pic),
                                     SIM_CONTROL_BODY_MAX, &jpeg, &len))) {
            st = 400;
        }
        if (st == 200 && pic) {
            st = sim_profile_set_picture(sim_server_model(self->server), acc,
                                         jpeg, len);
            st = st ? (st == 406 ? 400 : st) : 200;
        }
        if (st == 200 && about) {
            sim_profile_set_about(acc, json_string_value(about));
        }
        free(jpeg);
        json_decref(in);
        if (st != 200) {
            sim_http_reply_error(req, st,
                                 "body must be {about?: string, picture?: "
                                 "base64 JPEG, statusPrivacy?: {type: "
                                 "contacts|blacklist|whitelist, users: "
                                 "[phone]}}");
            return;
        }
        json_t *body = sim_account_to_json(acc, false);
        sim_http_reply_json(req, 200, &body);
    } else if (n == 3 && cm_streq(seg[2], "calls") && cm_streq(method, "GET")) {
        json_t *body = json_pack("{s:o}", "calls",
                                 sim_server_calls(self->server, acc->phone));
        sim_http_reply_json(req, 200, &body);
    } else if (n == 3 && cm_streq(seg[2], "calls") &&
               cm_streq(method, "POST")) {
        json_t *in = sim_http_json(req);
        json_t *video = json_object_get(in, "video");
        const char *to = json_string_value(json_object_get(in, "to"));
        if (!to || (video && !json_is_boolean(video))) {
            json_decref(in);
            sim_http_reply_error(req, 400, "body must be {to, video?:bool}");
            return;
        }
        char *copy = cm_strdup(to);
        bool is_video = json_is_true(video);
        json_decref(in);
        int st = sim_server_call_place(self->server, acc->phone, copy, is_video,
                                       &result, &reason);
        free(copy);
        s_reply_status(req, st, reason, &result);
    } else if (n == 5 && cm_streq(seg[2], "calls") &&
               cm_streq(method, "POST")) {
        int st = sim_server_call_act(self->server, acc->phone, seg[3], seg[4],
                                     &result, &reason);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(method, "POST") &&
               cm_streq(seg[2], "send-kind")) {
        json_t *in = sim_http_json(req);
        if (!json_is_object(in)) {
            json_decref(in);
            sim_http_reply_error(req, 400, "body must be {to, kind, ...}");
            return;
        }
        int st = sim_server_phone_send_kind(self->server, acc->phone, in,
                                            &result, &reason);
        json_decref(in);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(method, "POST") &&
               cm_streq(seg[2], "send-as")) {
        //  {to, text, device, forge?, forge_account?, key_index?, then?}:
        //  a text from the account's companion `device` with its device
        //  identity (forge: a broken account signature; forge_account:
        //  identity and signatures made by another key than the
        //  account's; key_index: the identity's index, e.g. one the
        //  account's list does not hold); then: a text the primary sends
        //  `to` right after, written before anything `to` answers
        json_t *in = sim_http_json(req);
        const char *to = json_string_value(json_object_get(in, "to"));
        const char *text = json_string_value(json_object_get(in, "text"));
        json_t *then = json_object_get(in, "then");
        json_t *device = json_object_get(in, "device");
        json_t *forge = json_object_get(in, "forge");
        json_t *kidx = json_object_get(in, "key_index");
        json_t *foreign = json_object_get(in, "forge_account");
        if (!to || !text || strlen(to) > 128 || !json_is_integer(device) ||
            json_integer_value(device) < 1 ||
            json_integer_value(device) > 0xffff ||
            (forge && !json_is_boolean(forge)) ||
            (foreign && !json_is_boolean(foreign)) ||
            (then && !json_is_string(then)) ||
            (kidx && (!json_is_integer(kidx) || json_integer_value(kidx) < 0 ||
                      json_integer_value(kidx) > UINT32_MAX))) {
            json_decref(in);
            sim_http_reply_error(req, 400,
                                 "body must be {to, text, device: 1..65535, "
                                 "forge?: bool, forge_account?: bool, "
                                 "key_index?: uint32, then?: string}");
            return;
        }
        int st = sim_server_phone_send_as(
            self->server, acc->phone, to, text,
            (uint32_t)json_integer_value(device),
            json_is_true(foreign) ? SIM_FORGE_ACCOUNT
            : json_is_true(forge) ? SIM_FORGE_SIGNATURE
                                  : SIM_FORGE_NONE,
            kidx ? json_integer_value(kidx) : -1, &result, &reason);
        if (st == 200 && then) {
            json_t *second = NULL;
            st = sim_server_phone_send(self->server, acc->phone, to,
                                       json_string_value(then), &second,
                                       &reason);
            if (st == 200) {
                json_object_set_new(result, "then", second);
            } else {
                json_decref(second);
            }
        }
        json_decref(in);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(method, "POST") &&
               cm_streq(seg[2], "migrate-lid")) {
        //  PN -> LID mid-conversation: LID revealed, the phone sends its
        //  companions the LID migration mapping sync message
        int st = sim_server_phone_lid_migrate(self->server, acc->phone, &result,
                                              &reason);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(method, "POST") &&
               cm_streq(seg[2], "send-undecryptable")) {
        json_t *in = sim_http_json(req);
        const char *to = json_string_value(json_object_get(in, "to"));
        if (!to || strlen(to) > 128) {
            json_decref(in);
            sim_http_reply_error(req, 400, "body must be {to}");
            return;
        }
        int st = sim_server_phone_send_undecryptable(self->server, acc->phone,
                                                     to, &result, &reason);
        json_decref(in);
        s_reply_status(req, st, reason, &result);
    } else if (n == 3 && cm_streq(method, "POST") &&
               cm_streq(seg[2], "presence")) {
        json_t *in = sim_http_json(req);
        const char *p = json_string_value(json_object_get(in, "presence"));
        if (!cm_streq(p, "available") && !cm_streq(p, "unavailable")) {
            json_decref(in);
            sim_http_reply_error(req, 400,
                                 "body must be {presence: available|"
                                 "unavailable}");
            return;
        }
        int st = sim_server_phone_presence(self->server, acc->phone,
                                           cm_streq(p, "available"), &reason);
        json_decref(in);
        s_reply_status(req, st, reason, NULL);
    } else if (n == 3 && cm_streq(method, "POST") &&
               cm_streq(seg[2], "chatstate")) {
        json_t *in = sim_http_json(req);
        const char *to = json_string_value(json_object_get(in, "to"));
        const char *st_in = json_string_value(json_object_get(in, "state"));
        if (!to || !st_in || strlen(to) > 128) {
            json_decref(in);
            sim_http_reply_error(req, 400,
                                 "body must be {to, state: composing|"
                                 "recording|paused}");
            return;
        }
        int st = sim_server_phone_chatstate(self->server, acc->phone, to, st_in,
                                            &reason);
        json_decref(in);
        s_reply_status(req, st, reason, NULL);
    } else if (n == 3 && cm_streq(method, "POST") &&
               (cm_streq(seg[2], "scan") || cm_streq(seg[2], "pair-code"))) {
        bool scan = cm_streq(seg[2], "scan");
        json_t *in = sim_http_json(req);
        const char *text =
            json_string_value(json_object_get(in, scan ? "qr" : "code"));
        if (!text) {
            json_decref(in);
            sim_http_reply_error(
                req, 400, scan ? "body must be {qr}" : "body must be {code}");
            return;
        }
        char *copy = cm_strdup(text);
        json_decref(in);
        int st = scan ? sim_server_scan_qr(self->server, acc->phone, copy,
                                           &result, &reason)
                      : sim_server_enter_code(self->server, acc->phone, copy,
                                              &result, &reason);
        free(copy);
        s_reply_status(req, st, reason, &result);
    } else {
        sim_http_reply_error(req, 404, "unrecognized route");
    }
}

static void
s_connections(sim_control_t *self, sim_http_req_t *req, char **seg, int n)
{
    const char *method = sim_http_method(req);
    if (n == 1 && cm_streq(method, "GET")) {
        json_t *body = json_pack("{s:o}", "connections",
                                 sim_server_connections(self->server));
        sim_http_reply_json(req, 200, &body);
        return;
    }
    int64_t id = n == 3 ? s_id(seg[1]) : -1;
    if (id < 0 || !cm_streq(method, "POST")) {
        sim_http_reply_error(req, 404, "unrecognized route");
        return;
    }
    const char *reason = NULL;
    if (cm_streq(seg[2], "drop")) {
        int st = sim_server_drop(self->server, id, &reason);
        s_reply_status(req, st, reason, NULL);
    } else if (cm_streq(seg[2], "stream-error")) {
        json_t *in = sim_http_json(req);
        json_t *code = json_object_get(in, "code");
        json_t *conflict = json_object_get(in, "conflict");
        char num[16] = "";
        if (json_is_integer(code)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(code));
        } else if (json_is_string(code)) {
            snprintf(num, sizeof num, "%s", json_string_value(code));
        }
        if (!in || (code && !*num) || (conflict && !json_is_string(conflict)) ||
            (!code && !conflict)) {
            json_decref(in);
            sim_http_reply_error(req, 400,
                                 "body must be {code?, conflict?} (one "
                                 "at least)");
            return;
        }
        char *conflict_copy = cm_strdup(json_string_value(conflict));
        json_decref(in);
        int st = sim_server_stream_error(self->server, id, *num ? num : NULL,
                                         conflict_copy, &reason);
        free(conflict_copy);
        s_reply_status(req, st, reason, NULL);
    } else {
        sim_http_reply_error(req, 404, "unrecognized route");
    }
}

static void
s_stanzas(sim_control_t *self, sim_http_req_t *req)
{
    sim_log_t *log = sim_server_log(self->server);
    if (cm_streq(sim_http_method(req), "DELETE")) {
        sim_log_clear(log);
        json_t *body = json_object();
        sim_http_reply_json(req, 200, &body);
        return;
    }
    const char *since = sim_http_arg(req, "since");
    const char *limit = sim_http_arg(req, "limit");
    const char *conn = sim_http_arg(req, "conn");
    int64_t since_v = since ? s_id(since) : 0;
    int64_t limit_v = limit ? s_id(limit) : 1000;
    int64_t conn_v = conn ? s_id(conn) : 0;
    if (since_v < 0 || limit_v < 0 || conn_v < 0) {
        sim_http_reply_error(req, 400, "since, limit and conn are numbers");
        return;
    }
    if (limit_v > SIM_CONTROL_LOG_PAGE) {
        limit_v = SIM_CONTROL_LOG_PAGE;
    }
    json_t *entries = sim_log_query(log, since_v, (size_t)limit_v, conn_v,
                                    sim_http_arg(req, "jid"));
    json_t *body = json_pack("{s:o, s:I}", "stanzas", entries, "last",
                             (json_int_t)sim_log_last(log));
    sim_http_reply_json(req, 200, &body);
}

static void
s_faults(sim_control_t *self, sim_http_req_t *req)
{
    sim_fault_t *faults = sim_server_faults(self->server);
    const char *method = sim_http_method(req);
    if (cm_streq(method, "PUT") || cm_streq(method, "POST")) {
        json_t *in = sim_http_json(req);
        const char *error = NULL;
        int rc = sim_fault_update(faults, in, &error);
        json_decref(in);
        if (rc) {
            sim_http_reply_error(req, 400, error);
            return;
        }
        cm_log_info("changed fault rules");
    } else if (cm_streq(method, "DELETE")) {
        sim_fault_reset(faults);
    } else if (!cm_streq(method, "GET")) {
        sim_http_reply_error(req, 405, "method not allowed");
        return;
    }
    json_t *body = sim_fault_to_json(faults);
    sim_http_reply_json(req, 200, &body);
}

//  The Signal counter ledger (sim_ledger): GET, or DELETE to clear it.
static void
s_signal(sim_control_t *self, sim_http_req_t *req)
{
    sim_ledger_t *ledger = sim_server_ledger(self->server);
    const char *method = sim_http_method(req);
    if (cm_streq(method, "DELETE")) {
        sim_ledger_clear(ledger);
    } else if (!cm_streq(method, "GET")) {
        sim_http_reply_error(req, 405, "method not allowed");
        return;
    }
    json_t *body = sim_ledger_to_json(ledger);
    sim_http_reply_json(req, 200, &body);
}

static void
s_handle(void *arg, sim_http_req_t *req)
{
    sim_control_t *self = (sim_control_t *)arg;
    char buf[512];
    char *seg[6];
    int n = s_split(sim_http_path(req), buf, sizeof buf, seg, 6);
    const char *method = sim_http_method(req);
    if (n < 0) {
        sim_http_reply_error(req, 404, "unrecognized route");
    } else if (n == 0 || (n == 1 && cm_streq(seg[0], "info"))) {
        json_t *body = sim_server_info(self->server);
        sim_http_reply_json(req, 200, &body);
    } else if (n == 1 && cm_streq(seg[0], "health")) {
        json_t *body = json_pack("{s:b}", "ok", 1);
        sim_http_reply_json(req, 200, &body);
    } else if (cm_streq(seg[0], "accounts")) {
        s_accounts(self, req, seg, n);
    } else if (cm_streq(seg[0], "connections")) {
        s_connections(self, req, seg, n);
    } else if (n == 1 && cm_streq(seg[0], "stanzas")) {
        s_stanzas(self, req);
    } else if (n == 1 && cm_streq(seg[0], "faults")) {
        s_faults(self, req);
    } else if (n == 1 && cm_streq(seg[0], "signal")) {
        s_signal(self, req);
    } else if (n == 1 && cm_streq(seg[0], "groups") &&
               cm_streq(method, "GET")) {
        json_t *list = json_array();
        zlistx_t *groups = sim_model_groups(sim_server_model(self->server));
        sim_group_t *group = (sim_group_t *)zlistx_first(groups);
        while (group) {
            json_array_append_new(list, sim_group_to_json(group));
            group = (sim_group_t *)zlistx_next(groups);
        }
        json_t *body = json_pack("{s:o}", "groups", list);
        sim_http_reply_json(req, 200, &body);
    } else if (n == 3 && cm_streq(seg[0], "groups") &&
               cm_streq(seg[2], "addressing") && cm_streq(method, "POST")) {
        //  {mode: "lid"|"pn"}: the group moves to another addressing
        //  mode (members named by LID or by number from now on)
        char gid[128];
        snprintf(gid, sizeof gid, "%s", seg[1]);
        char *at = strchr(gid, '@');
        if (at) {
            *at = 0;
        }
        sim_group_t *group =
            sim_model_group(sim_server_model(self->server), gid);
        json_t *in = sim_http_json(req);
        const char *mode = json_string_value(json_object_get(in, "mode"));
        if (!group) {
            sim_http_reply_error(req, 404, "no such group");
        } else if (!cm_streq(mode, "lid") && !cm_streq(mode, "pn")) {
            sim_http_reply_error(req, 400, "body must be {mode: lid|pn}");
        } else {
            group->lid = cm_streq(mode, "lid");
            cm_log_info("group addressing changed", "group=%s mode=%s",
                        group->id, mode);
            json_t *body = sim_group_to_json(group);
            sim_http_reply_json(req, 200, &body);
        }
        json_decref(in);
    } else if (n >= 3 && n <= 4 && cm_streq(seg[0], "groups") &&
               cm_streq(seg[2], "requests") &&
               ((n == 3 && cm_streq(method, "POST")) ||
                (n == 4 && cm_streq(method, "DELETE")))) {
        //  POST {phone}: that phone asks to join; DELETE …/<phone>: it
        //  cancels its request
        json_t *in = n == 3 ? sim_http_json(req) : NULL;
        const char *phone =
            n == 4 ? seg[3] : json_string_value(json_object_get(in, "phone"));
        const char *reason = NULL;
        int st = sim_server_group_request(self->server, seg[1], phone, n == 4,
                                          &reason);
        json_t *body = st == 200 ? json_pack("{s:b}", "ok", 1) : NULL;
        s_reply_status(req, st, reason, &body);
        json_decref(in);
    } else if (n == 1 && cm_streq(seg[0], "media") && cm_streq(method, "GET")) {
        sim_model_t *model = sim_server_model(self->server);
        json_t *body = json_pack(
            "{s:I, s:I}", "blobs", (json_int_t)sim_model_media_count(model),
            "bytes", (json_int_t)sim_model_media_bytes(model));
        sim_http_reply_json(req, 200, &body);
    } else if (n == 2 && cm_streq(seg[0], "media") &&
               cm_streq(seg[1], "expire") && cm_streq(method, "POST")) {
        //  {direct_path}: the blob is gone, its downloads answer 404
        json_t *in = sim_http_json(req);
        const char *dp = json_string_value(json_object_get(in, "direct_path"));
        char *path = dp ? cm_strndup(dp, strcspn(dp, "?")) : NULL;
        if (!path && json_is_true(json_object_get(in, "all"))) {
            //  {all: true}: every blob
            json_t *body = json_pack("{s:I}", "expired",
                                     (json_int_t)sim_model_media_clear(
                                         sim_server_model(self->server)));
            sim_http_reply_json(req, 200, &body);
        } else if (!path) {
            sim_http_reply_error(req, 400, "direct_path is required");
        } else if (sim_model_media_del(sim_server_model(self->server), path)) {
            sim_http_reply_error(req, 404, "no such media");
        } else {
            json_t *body = json_pack("{s:s}", "expired", path);
            sim_http_reply_json(req, 200, &body);
        }
        free(path);
        json_decref(in);
    } else if (cm_streq(seg[0], "channels")) {
        json_t *in = cm_streq(method, "POST") ? sim_http_json(req) : NULL;
        json_t *result = NULL;
        const char *reason = NULL;
        int st = sim_server_channels(self->server, method, seg + 1, n - 1, in,
                                     &result, &reason);
        json_decref(in);
        s_reply_status(req, st, reason, &result);
    } else if (n == 1 && cm_streq(seg[0], "save") && cm_streq(method, "POST")) {
        if (sim_server_save(self->server)) {
            sim_http_reply_error(req, 409,
                                 "no state file configured or write failed");
            return;
        }
        json_t *body = json_object();
        sim_http_reply_json(req, 200, &body);
    } else {
        sim_http_reply_error(req, 404, "unrecognized route");
    }
}

sim_control_t *
sim_control_new(zloop_t *loop, const char *bind, uint16_t port,
                sim_server_t *server)
{
    assert(server);
    sim_control_t *self = (sim_control_t *)cm_alloc(sizeof(sim_control_t));
    self->server = server;
    self->http =
        sim_http_new(loop, bind, port, SIM_CONTROL_BODY_MAX, s_handle, self);
    if (!self->http) {
        free(self);
        return NULL;
    }
    return self;
}

void
sim_control_destroy(sim_control_t **self_p)
{
    assert(self_p);
    sim_control_t *self = *self_p;
    if (self) {
        sim_http_destroy(&self->http);
        free(self);
        *self_p = NULL;
    }
}

uint16_t
sim_control_port(sim_control_t *self)
{
    assert(self);
    return sim_http_port(self->http);
}

void
sim_control_test(bool verbose)
{
    printf(" * sim_control: ");
    char buf[64];
    char *seg[4];
    assert(s_split("/accounts/1555/devices", buf, sizeof buf, seg, 4) == 3);
    assert(cm_streq(seg[0], "accounts") && cm_streq(seg[2], "devices"));
    assert(s_split("/", buf, sizeof buf, seg, 4) == 0);
    assert(s_split("/a/b/c/d/e", buf, sizeof buf, seg, 4) == -1);
    assert(s_id("12") == 12);
    assert(s_id("-1") == -1);
    assert(s_id("1x") == -1);
    assert(s_id("") == -1);
    assert(s_id(NULL) == -1);
    //  The routes themselves are exercised end to end by
    //  tests/integration/test_wasim_control.py against the real binary.
    printf("OK\n");
}
