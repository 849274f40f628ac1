/*  gw_sessions - the session lifecycle on WAHA (/api) and Wawp (/v2)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  Outcome of a lifecycle step.
typedef enum {
    S_OK = 0,        //  done
    S_NOT_FOUND = 1, //  no such session (no response set)
    S_FAILED = 2     //  failed; the response is set
} s_result_t;

bool
gw_sessions_name_valid(const char *name)
{
    if (!name) {
        return false;
    }
    size_t n = strlen(name);
    if (n < 1 || n > GW_SESSION_NAME_MAX) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
            return false;
        }
    }
    return true;
}

//  --------------------------------------------------------------------
//  Config validation

static int
s_fail_field(char **err_p, const char *field, const char *what)
{
    *err_p = cm_sprintf("%s %s", field, what);
    return -1;
}

//  Every string in `obj` (null too when `nullable`) at most `max` bytes;
//  with `keys` (NULL-ended), only those keys.
static int
s_check_strings(json_t *obj, const char *field, bool nullable, size_t max,
                const char *const *keys, char **err_p)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        char *name = cm_sprintf("%s.%s", field, key);
        bool known = !keys;
        for (size_t i = 0; keys && keys[i] && !known; i++) {
            known = streq(keys[i], key);
        }
        int rc = 0;
        if (!known) {
            rc = s_fail_field(err_p, name, "is not a known setting");
        } else if (!json_is_string(value) &&
                   !(nullable && json_is_null(value))) {
            rc = s_fail_field(err_p, name, "must be a string");
        } else if (json_string_length(value) > max) {
            char *what = cm_sprintf("must be at most %zu bytes", max);
            rc = s_fail_field(err_p, name, what);
            free(what);
        }
        free(name);
        if (rc) {
            return -1;
        }
    }
    return 0;
}

//  The size of `v` as compact JSON.
static size_t
s_json_size(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = text ? strlen(text) : 0;
    free(text);
    return n;
}

int
gw_sessions_config_check(json_t *config, char **err_p)
{
    assert(err_p);
    *err_p = NULL;
    if (!config || json_is_null(config)) {
        return 0;
    }
    if (!json_is_object(config)) {
        return s_fail_field(err_p, "config", "must be an object");
    }
    //  WAHA's SessionConfig keys; anything else is refused, not stored
    static const char *const known[] = {"metadata", "proxy", "debug", "ignore",
                                        "client",   "noweb", "gows",  "webjs",
                                        "webhooks", "calls", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(config, key, v)
    {
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++) {
            ok = streq(known[i], key);
        }
        if (!ok) {
            char *name = cm_sprintf("config.%.64s", key);
            s_fail_field(err_p, name,
                         "is not a known setting (metadata, proxy, debug, "
                         "ignore, client, noweb, gows, webjs, webhooks, "
                         "calls)");
            free(name);
            return -1;
        }
    }
    v = json_object_get(config, "metadata");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) {
            return s_fail_field(err_p, "config.metadata", "must be an object");
        }
        if (json_object_size(v) > GW_SESSIONS_METADATA_KEYS_MAX) {
            *err_p = cm_sprintf("config.metadata must have at most %d keys",
                                GW_SESSIONS_METADATA_KEYS_MAX);
            return -1;
        }
        json_t *value;
        json_object_foreach(v, key, value)
        {
            size_t n = strlen(key);
            if (n == 0 || n > GW_SESSIONS_METADATA_KEY_MAX) {
                *err_p = cm_sprintf("config.metadata keys must be 1 to %d "
                                    "bytes",
                                    GW_SESSIONS_METADATA_KEY_MAX);
                return -1;
            }
        }
        if (s_check_strings(v, "config.metadata", false,
                            GW_SESSIONS_METADATA_VALUE_MAX, NULL, err_p) != 0) {
            return -1;
        }
    }
    v = json_object_get(config, "proxy");
    if (v && !json_is_null(v)) {
        static const char *const proxy_keys[] = {"server", "username",
                                                 "password", NULL};
        if (!json_is_object(v)) {
            return s_fail_field(err_p, "config.proxy", "must be an object");
        }
        if (!json_is_string(json_object_get(v, "server"))) {
            return s_fail_field(err_p, "config.proxy.server",
                                "must be a string");
        }
        if (s_check_strings(v, "config.proxy", true, GW_SESSIONS_PROXY_MAX,
                            proxy_keys, err_p) != 0) {
            return -1;
        }
    }
    v = json_object_get(config, "debug");
    if (v && !json_is_boolean(v)) {
        return s_fail_field(err_p, "config.debug", "must be a boolean value");
    }
    v = json_object_get(config, "ignore");
    if (v && !json_is_null(v)) {
        static const char *const ignore_keys[] = {
            "status", "groups", "channels", "broadcast", NULL};
        if (!json_is_object(v)) {
            return s_fail_field(err_p, "config.ignore", "must be an object");
        }
        json_t *flag;
        json_object_foreach(v, key, flag)
        {
            bool ok = false;
            for (size_t i = 0; ignore_keys[i] && !ok; i++) {
                ok = streq(ignore_keys[i], key);
            }
            char *name = cm_sprintf("config.ignore.%.64s", key);
            int rc = 0;
            if (!ok) {
                rc = s_fail_field(err_p, name, "is not a known setting");
            } else if (!json_is_boolean(flag)) {
                rc = s_fail_field(err_p, name, "must be a boolean value");
            }
            free(name);
            if (rc) {
                return -1;
            }
        }
    }
    v = json_object_get(config, "calls");
    if (v && !json_is_null(v)) {
        //  Wharf's: {reject: bool, message?: text} rejects every call
        json_t *reject = json_object_get(v, "reject");
        json_t *message = json_object_get(v, "message");
        if (!json_is_object(v)) {
            return s_fail_field(err_p, "config.calls", "must be an object");
        }
        if (reject && !json_is_boolean(reject)) {
            return s_fail_field(err_p, "config.calls.reject",
                                "must be a boolean value");
        }
        if (message && !json_is_null(message) &&
            (!json_is_string(message) ||
             strlen(json_string_value(message)) > GW_SESSIONS_CALL_REPLY_MAX)) {
            char *what = cm_sprintf("must be a text of at most %d bytes",
                                    GW_SESSIONS_CALL_REPLY_MAX);
            s_fail_field(err_p, "config.calls.message", what);
            free(what);
            return -1;
        }
        if (json_object_size(v) > (size_t)(!!reject + !!message)) {
            return s_fail_field(err_p, "config.calls",
                                "takes only reject and message");
        }
    }
    v = json_object_get(config, "client");
    if (v && !json_is_null(v)) {
        static const char *const client_keys[] = {"deviceName", "browserName",
                                                  NULL};
        if (!json_is_object(v)) {
            return s_fail_field(err_p, "config.client", "must be an object");
        }
        if (s_check_strings(v, "config.client", true, GW_SESSIONS_CLIENT_MAX,
                            client_keys, err_p) != 0) {
            return -1;
        }
    }
    static const char *engines[] = {"noweb", "gows", "webjs", NULL};
    for (int i = 0; engines[i]; i++) {
        v = json_object_get(config, engines[i]);
        if (v && !json_is_null(v) &&
            (!json_is_object(v) || s_json_size(v) > GW_SESSIONS_ENGINE_MAX)) {
            char *name = cm_sprintf("config.%s", engines[i]);
            char *what = cm_sprintf("must be an object of at most %d bytes",
                                    GW_SESSIONS_ENGINE_MAX);
            s_fail_field(err_p, name, what);
            free(what);
            free(name);
            return -1;
        }
    }
    if (cm_webhook_validate_config(config, err_p) != 0) {
        return -1;
    }
    if (s_json_size(config) > GW_SESSIONS_CONFIG_MAX) {
        *err_p = cm_sprintf("config must be at most %d bytes as JSON",
                            GW_SESSIONS_CONFIG_MAX);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------
//  Session objects

//  info[key] = value when it has the wanted type, else null.
static void
s_copy(json_t *info, const char *key, json_t *value, json_type type)
{
    json_object_set(info, key,
                    value && json_typeof(value) == type ? value : json_null());
}

//  Delete the keys of `obj` whose value is null (WAHA: an unset optional).
static void
s_drop_nulls(json_t *obj)
{
    const char *key;
    json_t *value;
    void *tmp;
    if (json_is_object(obj)) {
        json_object_foreach_safe(obj, tmp, key, value)
        {
            if (json_is_null(value)) {
                json_object_del(obj, key);
            }
        }
    }
}

//  obj[key] = value unless obj has key.
static void
s_default(json_t *obj, const char *key, json_t *value)
{
    if (json_is_object(obj) && !json_object_get(obj, key)) {
        json_object_set(obj, key, value);
    }
    json_decref(value);
}

json_t *
gw_sessions_waha_config(json_t *config)
{
    json_t *out =
        json_is_object(config) ? json_deep_copy(config) : json_object();
    //  null is "not set" on input; WAHA's schema types these as objects
    //  and strings, so they are left out rather than echoed as null
    s_drop_nulls(out);
    s_drop_nulls(json_object_get(out, "proxy"));
    s_drop_nulls(json_object_get(out, "client"));
    size_t i;
    json_t *hook;
    json_array_foreach(json_object_get(out, "webhooks"), i, hook)
    {
        s_drop_nulls(hook);
    }
    //  WAHA fills the defaults its schema declares as required
    json_t *noweb = json_object_get(out, "noweb");
    s_default(noweb, "markOnline", json_true());
    json_t *store = json_object_get(noweb, "store");
    s_default(store, "enabled", json_false());
    s_default(store, "fullSync", json_false());
    return out;
}

json_t *
gw_sessions_info(json_t *session)
{
    json_t *info = json_object();
    s_copy(info, "name", json_object_get(session, "name"), JSON_STRING);
    json_t *status = json_object_get(session, "status");
    if (json_is_string(status)) {
        json_object_set(info, "status", status);
    } else {
        json_object_set_new(info, "status", json_string("STOPPED"));
    }
    json_object_set_new(
        info, "config",
        gw_sessions_waha_config(json_object_get(session, "config")));
    s_copy(info, "me", json_object_get(session, "me"), JSON_OBJECT);
    //  WAHA: a string; omitted while no session-worker holds the session
    json_t *worker = json_object_get(session, "worker");
    if (json_is_string(worker)) {
        json_object_set(info, "assignedWorker", worker);
    }
    //  WAHA requires an object; Wharf keeps no session-level presence
    json_object_set_new(info, "presence", json_object());
    s_copy(info, "instance_id", json_object_get(session, "instance_id"),
           JSON_STRING);
    s_copy(info, "reason", json_object_get(session, "reason"), JSON_STRING);
    json_t *statuses = json_object_get(session, "statuses");
    if (json_is_array(statuses)) {
        json_object_set(info, "statuses", statuses);
    } else {
        json_object_set_new(info, "statuses", json_array());
    }
    json_t *timestamps = json_object();
    s_copy(timestamps, "activity", json_object_get(session, "updated_at"),
           JSON_INTEGER);
    json_object_set_new(info, "timestamps", timestamps);
    return info;
}

//  --------------------------------------------------------------------
//  Bus steps

//  A store call with the request's remaining time. Caller owns reply.
static cm_msg_t *
s_store(gw_req_t *req, cm_msg_t **msg_p)
{
    return gw_req_call(req, GW_DEST_STORE, msg_p, 0);
}

//  Take the session object out of a store reply.
static json_t *
s_session_of(cm_msg_t *reply)
{
    json_t *s = json_object_get(cm_msg_body(reply), "session");
    return json_is_object(s) ? json_incref(s) : NULL;
}

//  Handle a store reply: 2xx gives S_OK (and the session when asked),
//  404 S_NOT_FOUND, anything else a 5xx response and S_FAILED. Consumes
//  the reply.
static s_result_t
s_outcome(gw_req_t *req, cm_msg_t **reply_p, json_t **session_p)
{
    int st = cm_msg_status(*reply_p);
    s_result_t rc = S_OK;
    if (st == 200 || st == 201) {
        if (session_p) {
            *session_p = s_session_of(*reply_p);
            if (!*session_p) {
                gw_req_fail(req, 502, NULL,
                            "store-service sent no session object");
                rc = S_FAILED;
            }
        }
    } else if (st == 404) {
        rc = S_NOT_FOUND;
    } else {
        gw_req_fail_bus(req, *reply_p, "store-service");
        rc = S_FAILED;
    }
    cm_msg_destroy(reply_p);
    return rc;
}

//  A store request `type` with one field {key: value}; see s_outcome.
static s_result_t
s_call(gw_req_t *req, const char *type, const char *key, const char *value,
       json_t **session_p)
{
    cm_msg_t *msg = cm_msg_new(type);
    cm_msg_set_str(msg, key, value);
    cm_msg_t *reply = s_store(req, &msg);
    return s_outcome(req, &reply, session_p);
}

//  session.get by `key` (name or instance_id).
static s_result_t
s_get(gw_req_t *req, const char *key, const char *value, json_t **session_p)
{
    return s_call(req, "session.get", key, value, session_p);
}

//  session.update {name, desired?, config?}.
static s_result_t
s_update(gw_req_t *req, const char *name, const char *desired, json_t *config,
         json_t **session_p)
{
    cm_msg_t *msg = cm_msg_new("session.update");
    cm_msg_set_str(msg, "name", name);
    if (desired) {
        cm_msg_set_str(msg, "desired", desired);
    }
    if (config) {
        cm_msg_set(msg, "config", json_incref(config));
    }
    cm_msg_t *reply = s_store(req, &msg);
    return s_outcome(req, &reply, session_p);
}

//  A command to the worker holding `name`; returns the reply status.
//  Best effort: no worker, a refusal or no answer in time are logged, not
//  errors (the store has the desired state and the worker's lease renewal
//  enforces it).
static int
s_worker_command(gw_req_t *req, const char *type, const char *name,
                 json_t *session)
{
    cm_msg_t *msg = cm_msg_new(type);
    cm_msg_set_str(msg, "name", name);
    //  The lease holder the store knows, for sessions claimed since the
    //  worker's last heartbeat.
    const char *holder = json_string_value(json_object_get(session, "worker"));
    if (holder) {
        cm_msg_set_str(msg, GW_HOLDER_HINT, holder);
    }
    cm_msg_t *reply = gw_req_call(req, GW_DEST_WORKER, &msg,
                                  gw_config_stop_timeout(gw_req_config(req)));
    int st = cm_msg_status(reply);
    if (st != 200 && st != GW_NO_WORKER) {
        cm_log_warn("session-worker did not confirm command",
                    "type=%s session=%s status=%d reason=\"%s\"", type, name,
                    st, cm_msg_reason(reply) ? cm_msg_reason(reply) : "");
    }
    cm_msg_destroy(&reply);
    return st;
}

static void
s_nudge(gw_req_t *req)
{
    cm_msg_t *msg = cm_msg_new("worker.nudge");
    gw_link_send(gw_req_link(req), GW_DEST_NUDGE, &msg);
}

//  A lifecycle action on session `name`; *session_p (when the action
//  gives one back) gets the session after it.
typedef s_result_t(s_op_fn)(gw_req_t *req, const char *name,
                            json_t **session_p);

static s_result_t
s_op_get(gw_req_t *req, const char *name, json_t **session_p)
{
    return s_get(req, "name", name, session_p);
}

static s_result_t
s_op_start(gw_req_t *req, const char *name, json_t **session_p)
{
    s_result_t rc = s_update(req, name, "running", NULL, session_p);
    if (rc == S_OK) {
        s_nudge(req);
    }
    return rc;
}

//  Stop without fetching the result: gives no session back.
static s_result_t
s_op_halt(gw_req_t *req, const char *name, json_t **session_p)
{
    json_t *session = NULL;
    s_result_t rc = s_update(req, name, "stopped", NULL, &session);
    if (rc == S_OK) {
        s_worker_command(req, "session.stop", name, session);
    }
    json_decref(session);
    return rc;
}

static s_result_t
s_op_stop(gw_req_t *req, const char *name, json_t **session_p)
{
    s_result_t rc = s_op_halt(req, name, NULL);
    if (rc != S_OK) {
        return rc;
    }
    json_t *session = NULL;
    rc = s_get(req, "name", name, &session);
    if (rc != S_OK) {
        return rc;
    }
    //  Once the worker has let go (no live lease), the store sets STOPPED
    //  on this update; normally the worker already reported it.
    const char *status = json_string_value(json_object_get(session, "status"));
    if (!cm_streq(status, "STOPPED") &&
        !json_is_string(json_object_get(session, "worker"))) {
        json_decref(session);
        session = NULL;
        rc = s_update(req, name, "stopped", NULL, &session);
    }
    if (rc == S_OK) {
        *session_p = session;
    } else {
        json_decref(session);
    }
    return rc;
}

static s_result_t
s_op_restart(gw_req_t *req, const char *name, json_t **session_p)
{
    s_result_t rc = s_op_halt(req, name, NULL);
    return rc == S_OK ? s_op_start(req, name, session_p) : rc;
}

static s_result_t
s_device_clear(gw_req_t *req, const char *name)
{
    s_result_t rc = s_call(req, "device.clear", "name", name, NULL);
    return rc == S_NOT_FOUND ? S_OK : rc;
}

static s_result_t
s_op_logout(gw_req_t *req, const char *name, json_t **session_p)
{
    json_t *session = NULL;
    s_result_t rc = s_get(req, "name", name, &session);
    if (rc != S_OK) {
        return rc;
    }
    bool running = cm_streq(
        json_string_value(json_object_get(session, "desired")), "running");
    int st = s_worker_command(req, "session.logout", name, session);
    json_decref(session);
    //  The holder removes the device on the server while still connected,
    //  clears the creds, stops and releases; desired stays as it is, so a
    //  running session is claimed again and shows a new QR (WAHA restarts
    //  it too).
    if (st == 200) {
        if (running) {
            s_nudge(req);
        }
    } else {
        rc = s_op_halt(req, name, NULL);
        if (rc == S_OK) {
            rc = s_device_clear(req, name);
        }
        if (rc == S_OK && running) {
            rc = s_update(req, name, "running", NULL, NULL);
            s_nudge(req);
        }
    }
    return rc == S_OK ? s_get(req, "name", name, session_p) : rc;
}

//  Idempotent: a missing session is fine. Gives no session back.
static s_result_t
s_op_delete(gw_req_t *req, const char *name, json_t **session_p)
{
    //  desired=stopped first, so no worker claims it again meanwhile.
    json_t *session = NULL;
    s_result_t rc = s_update(req, name, "stopped", NULL, &session);
    if (rc == S_NOT_FOUND) {
        return S_OK;
    }
    if (rc == S_OK &&
        s_worker_command(req, "session.logout", name, session) != 200) {
        s_worker_command(req, "session.stop", name, session);
    }
    json_decref(session);
    if (rc == S_OK) {
        rc = s_device_clear(req, name);
    }
    if (rc == S_OK) {
        rc = s_call(req, "session.delete", "name", name, NULL);
    }
    return rc == S_NOT_FOUND ? S_OK : rc;
}

static s_result_t
s_op_update(gw_req_t *req, const char *name, json_t *config, json_t **session_p)
{
    json_t *session = NULL;
    s_result_t rc = s_get(req, "name", name, &session);
    if (rc != S_OK) {
        return rc;
    }
    bool running = cm_streq(
        json_string_value(json_object_get(session, "desired")), "running");
    json_decref(session);
    if (running) {
        rc = s_op_halt(req, name, NULL);
    }
    if (rc == S_OK) {
        rc = s_update(req, name, running ? "running" : NULL, config, session_p);
    }
    if (rc == S_OK && running) {
        s_nudge(req);
    }
    return rc;
}

//  session.create; 409 from the store means the name is taken.
static int
s_create(gw_req_t *req, const char *name, json_t *config, bool start,
         const char *instance_id, const char *token_hash, json_t **session_p)
{
    cm_msg_t *msg = cm_msg_new("session.create");
    cm_msg_set_str(msg, "name", name);
    cm_msg_set(msg, "config", json_incref(config));
    cm_msg_set_bool(msg, "start", start);
    cm_msg_set_str(msg, "instance_id", instance_id);
    if (token_hash) {
        cm_msg_set_str(msg, "access_token_hash", token_hash);
    }
    cm_msg_t *reply = s_store(req, &msg);
    if (cm_msg_status(reply) == 409) {
        cm_msg_destroy(&reply);
        return 409;
    }
    s_result_t rc = s_outcome(req, &reply, session_p);
    if (rc == S_NOT_FOUND) {
        gw_req_fail(req, 502, NULL, "store-service could not create session");
        rc = S_FAILED;
    }
    if (rc == S_OK && start) {
        s_nudge(req);
    }
    return rc == S_OK ? 0 : -1;
}

//  --------------------------------------------------------------------
//  Input helpers

//  Read an optional boolean (JSON bool, or "true"/"false"/"1"/"0" from
//  a form or query). Returns 0, or -1 after a 400.
static int
s_input_bool(gw_req_t *req, json_t *value, const char *field, bool *out)
{
    if (!value || json_is_null(value)) {
        return 0;
    }
    if (json_is_boolean(value)) {
        *out = json_is_true(value);
        return 0;
    }
    const char *s = json_string_value(value);
    if (s && (streq(s, "true") || streq(s, "1"))) {
        *out = true;
        return 0;
    }
    if (s && (streq(s, "false") || streq(s, "0"))) {
        *out = false;
        return 0;
    }
    char *msg = cm_sprintf("%s must be a boolean value", field);
    gw_req_fail_invalid(req, msg);
    free(msg);
    return -1;
}

//  Read an optional config (object, null, or a JSON string holding an
//  object for form/query input) and check it. Returns the config (new
//  reference, {} when absent) or NULL after a 400.
static json_t *
s_input_config(gw_req_t *req, json_t *value)
{
    json_t *config = NULL;
    if (!value || json_is_null(value)) {
        config = json_object();
    } else if (json_is_string(value)) {
        config = json_loads(json_string_value(value), 0, NULL);
        if (!json_is_object(config)) {
            json_decref(config);
            gw_req_fail_invalid(req, "config must be a JSON object");
            return NULL;
        }
    } else {
        config = json_incref(value);
    }
    char *err = NULL;
    if (gw_sessions_config_check(config, &err) != 0) {
        gw_req_fail_invalid(req, err);
        free(err);
        json_decref(config);
        return NULL;
    }
    return config;
}

//  Read an optional session name. Returns 0 (*name_p borrowed or NULL),
//  or -1 after a 400.
static int
s_input_name(gw_req_t *req, json_t *value, const char **name_p)
{
    *name_p = NULL;
    if (!value || json_is_null(value)) {
        return 0;
    }
    if (!json_is_string(value)) {
        gw_req_fail_invalid(req, "name must be a string");
        return -1;
    }
    if (!gw_sessions_name_valid(json_string_value(value))) {
        gw_req_fail_invalid(req, "name must match ^[A-Za-z0-9_-]{1,64}$");
        return -1;
    }
    *name_p = json_string_value(value);
    return 0;
}

//  The {session} path parameter, or NULL after a 400.
static const char *
s_path_name(gw_req_t *req)
{
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return NULL;
    }
    return name;
}

static void
s_not_found(gw_req_t *req)
{
    if (gw_req_family(req) == GW_FAMILY_WAWP) {
        gw_req_fail(req, 404, "invalid_instance", "Instance not found");
    } else {
        gw_req_fail(req, 404, NULL, "Session not found");
    }
}

//  Reply with the SessionInfo of `session` (taken), or the failure.
//  Wawp's `qr`: while SCAN_QR_CODE, the current QR string from the
//  worker holding the session (session.qr), else null. New reference.
static json_t *
s_qr(gw_req_t *req, json_t *session)
{
    const char *status = json_string_value(json_object_get(session, "status"));
    const char *name = json_string_value(json_object_get(session, "name"));
    if (!cm_streq(status, "SCAN_QR_CODE") || !name) {
        return json_null();
    }
    cm_msg_t *msg = cm_msg_new("session.qr");
    cm_msg_set_str(msg, "name", name);
    const char *holder = json_string_value(json_object_get(session, "worker"));
    if (holder) {
        cm_msg_set_str(msg, GW_HOLDER_HINT, holder);
    }
    cm_msg_t *reply =
        gw_req_call(req, GW_DEST_WORKER, &msg, GW_SESSIONS_QR_TIMEOUT_MS);
    const char *value =
        cm_msg_status(reply) == 200 ? cm_msg_str(reply, "value") : NULL;
    json_t *qr = value ? json_string(value) : NULL;
    cm_msg_destroy(&reply);
    return qr ? qr : json_null();
}

static void
s_reply_info(gw_req_t *req, s_result_t rc, json_t **session_p, int status)
{
    if (rc == S_OK) {
        json_t *info = gw_sessions_info(*session_p);
        if (gw_req_family(req) == GW_FAMILY_WAWP) {
            json_object_set_new(info, "qr", s_qr(req, *session_p));
        }
        gw_req_reply(req, status, &info);
    } else if (rc == S_NOT_FOUND) {
        s_not_found(req);
    }
    json_decref(*session_p);
    *session_p = NULL;
}

//  Reply with an empty object, or the failure (a session is dropped).
static void
s_reply_empty(gw_req_t *req, s_result_t rc, json_t **session_p, int status)
{
    json_decref(*session_p);
    *session_p = NULL;
    if (rc == S_OK) {
        json_t *body = json_object();
        gw_req_reply(req, status, &body);
    } else if (rc == S_NOT_FOUND) {
        s_not_found(req);
    }
}

//  Reply with the session's `me`, or the failure.
static void
s_reply_me(gw_req_t *req, s_result_t rc, json_t **session_p, int status)
{
    if (rc == S_OK) {
        json_t *me = json_object_get(*session_p, "me");
        json_t *body = json_is_object(me) ? json_incref(me) : NULL;
        gw_req_reply(req, status, &body);
    } else if (rc == S_NOT_FOUND) {
        s_not_found(req);
    }
    json_decref(*session_p);
    *session_p = NULL;
}

typedef void(s_reply_fn)(gw_req_t *req, s_result_t rc, json_t **session_p,
                         int status);

//  Run `op` on `name` and answer with `reply`.
static void
s_run(gw_req_t *req, const char *name, s_op_fn *op, s_reply_fn *reply,
      int status)
{
    json_t *session = NULL;
    s_result_t rc = op(req, name, &session);
    reply(req, rc, &session, status);
}

//  WAHA: the action on the {session} path parameter.
static void
s_waha(gw_req_t *req, s_op_fn *op, s_reply_fn *reply, int status)
{
    const char *name = s_path_name(req);
    if (name) {
        s_run(req, name, op, reply, status);
    }
}

//  --------------------------------------------------------------------
//  WAHA handlers

void
gw_sessions_list(gw_req_t *req)
{
    bool all = false;
    const char *q = gw_req_query(req, "all");
    if (q) {
        json_t *v = json_string(q);
        int rc = s_input_bool(req, v, "all", &all);
        json_decref(v);
        if (rc != 0) {
            return;
        }
    }
    cm_msg_t *msg = cm_msg_new("session.list");
    cm_msg_set_bool(msg, "all", all);
    cm_msg_t *reply = s_store(req, &msg);
    if (cm_msg_status(reply) != 200) {
        gw_req_fail_bus(req, reply, "store-service");
        cm_msg_destroy(&reply);
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *session;
    json_array_foreach(json_object_get(cm_msg_body(reply), "sessions"), i,
                       session)
    {
        json_array_append_new(list, gw_sessions_info(session));
    }
    cm_msg_destroy(&reply);
    gw_req_reply(req, 200, &list);
}

void
gw_sessions_create(gw_req_t *req)
{
    json_t *body = gw_req_json(req);
    const char *name = NULL;
    bool start = true;
    if (s_input_name(req, json_object_get(body, "name"), &name) != 0 ||
        s_input_bool(req, json_object_get(body, "start"), "start", &start) !=
            0) {
        return;
    }
    json_t *config = s_input_config(req, json_object_get(body, "config"));
    if (!config) {
        return;
    }
    char generated[32];
    if (!name) {
        uint8_t r[8];
        char hex[17];
        cm_random(r, sizeof r);
        cm_hex(r, sizeof r, hex);
        snprintf(generated, sizeof generated, "session_%s", hex);
        name = generated;
    }
    char *iid = gw_auth_instance_new();
    json_t *session = NULL;
    int rc = s_create(req, name, config, start, iid, NULL, &session);
    if (rc == 409) {
        gw_req_fail(req, 422, NULL,
                    "Session '%s' already exists. Use PUT to update it.", name);
    } else if (rc == 0) {
        s_reply_info(req, S_OK, &session, 201);
    }
    free(iid);
    json_decref(config);
}

void
gw_sessions_get(gw_req_t *req)
{
    s_waha(req, s_op_get, s_reply_info, 200);
}

void
gw_sessions_update(gw_req_t *req)
{
    const char *name = s_path_name(req);
    if (!name) {
        return;
    }
    json_t *body = gw_req_json(req);
    json_t *value = json_object_get(body, "config");
    if (!value) {
        gw_req_fail_invalid(req, "config must be an object");
        return;
    }
    json_t *config = s_input_config(req, value);
    if (!config) {
        return;
    }
    json_t *session = NULL;
    s_result_t rc = s_op_update(req, name, config, &session);
    s_reply_info(req, rc, &session, 200);
    json_decref(config);
}

void
gw_sessions_delete(gw_req_t *req)
{
    s_waha(req, s_op_delete, s_reply_empty, 200);
}

void
gw_sessions_me(gw_req_t *req)
{
    s_waha(req, s_op_get, s_reply_me, 200);
}

void
gw_sessions_start(gw_req_t *req)
{
    s_waha(req, s_op_start, s_reply_info, 201);
}

void
gw_sessions_stop(gw_req_t *req)
{
    s_waha(req, s_op_stop, s_reply_info, 201);
}

void
gw_sessions_restart(gw_req_t *req)
{
    s_waha(req, s_op_restart, s_reply_info, 201);
}

void
gw_sessions_logout(gw_req_t *req)
{
    s_waha(req, s_op_logout, s_reply_info, 201);
}

//  The deprecated body {name = "default", ...}. NULL after a 400.
static const char *
s_old_name(gw_req_t *req)
{
    const char *name = NULL;
    if (s_input_name(req, json_object_get(gw_req_json(req), "name"), &name) !=
        0) {
        return NULL;
    }
    return name ? name : "default";
}

void
gw_sessions_old_start(gw_req_t *req)
{
    const char *name = s_old_name(req);
    if (!name) {
        return;
    }
    json_t *value = json_object_get(gw_req_json(req), "config");
    json_t *config = s_input_config(req, value);
    if (!config) {
        return;
    }
    json_t *session = NULL;
    s_result_t rc = s_get(req, "name", name, &session);
    if (rc == S_OK) {
        bool running = cm_streq(
            json_string_value(json_object_get(session, "desired")), "running");
        json_decref(session);
        session = NULL;
        if (running) {
            gw_req_fail(req, 422, NULL, "Session '%s' is already started.",
                        name);
        } else {
            if (value) {
                rc = s_update(req, name, NULL, config, NULL);
            }
            if (rc == S_OK) {
                rc = s_op_start(req, name, &session);
            }
            s_reply_info(req, rc, &session, 201);
        }
    } else if (rc == S_NOT_FOUND) {
        char *iid = gw_auth_instance_new();
        int created = s_create(req, name, config, true, iid, NULL, &session);
        free(iid);
        if (created == 409) {
            gw_req_fail(req, 422, NULL, "Session '%s' already exists.", name);
        } else if (created == 0) {
            s_reply_info(req, S_OK, &session, 201);
        }
    }
    json_decref(config);
}

void
gw_sessions_old_stop(gw_req_t *req)
{
    const char *name = s_old_name(req);
    bool logout = false;
    if (!name || s_input_bool(req, json_object_get(gw_req_json(req), "logout"),
                              "logout", &logout) != 0) {
        return;
    }
    s_run(req, name, logout ? s_op_delete : s_op_halt, s_reply_empty, 201);
}

void
gw_sessions_old_logout(gw_req_t *req)
{
    const char *name = s_old_name(req);
    if (name) {
        s_run(req, name, s_op_delete, s_reply_empty, 201);
    }
}

//  --------------------------------------------------------------------
//  Wawp handlers

//  Find the instance named by instance_id and check the credential.
//  Returns the session name (caller owns it) or NULL after a response.
static char *
s_wawp_instance(gw_req_t *req)
{
    json_t *value = gw_req_input(req, "instance_id");
    const char *iid = json_string_value(value);
    if (!value || !iid || !*iid) {
        gw_req_fail(req, 400, "bad_request",
                    value ? "instance_id must be a string"
                          : "instance_id is required");
        return NULL;
    }
    if (strlen(iid) > 128) {
        gw_req_fail(req, 400, "bad_request", "instance_id is too long");
        return NULL;
    }
    json_t *session = NULL;
    s_result_t rc = s_get(req, "instance_id", iid, &session);
    if (rc == S_NOT_FOUND && gw_sessions_name_valid(iid)) {
        //  WAHA-created sessions may be addressed by name too.
        rc = s_get(req, "name", iid, &session);
    }
    if (rc == S_FAILED) {
        return NULL;
    }
    if (!gw_req_admin(req)) {
        //  Only the instance's own token; unknown instances look the same
        //  as a wrong token to callers without the admin key.
        const char *hash =
            json_string_value(json_object_get(session, "access_token_hash"));
        if (rc != S_OK || !gw_auth_check_hex(gw_req_credential(req), hash)) {
            json_decref(session);
            gw_req_fail_unauthorized(req);
            return NULL;
        }
    }
    if (rc == S_NOT_FOUND) {
        s_not_found(req);
        return NULL;
    }
    char *name = cm_strdup(json_string_value(json_object_get(session, "name")));
    json_decref(session);
    if (!name) {
        gw_req_fail(req, 502, NULL,
                    "store-service sent a session without "
                    "a name");
    }
    return name;
}

char *
gw_sessions_name_of(gw_req_t *req)
{
    if (gw_req_family(req) == GW_FAMILY_WAWP) {
        return gw_sessions_wawp_instance(req);
    }
    const char *name = gw_req_param(req, "session");
    if (name) {
        if (!gw_sessions_name_valid(name)) {
            gw_req_fail_invalid(req,
                                "session must match ^[A-Za-z0-9_-]{1,64}$");
            return NULL;
        }
        return cm_strdup(name);
    }
    name = gw_messages_session_name(req);
    return name ? cm_strdup(name) : NULL;
}

const char *
gw_sessions_path_name(gw_req_t *req)
{
    if (gw_req_family(req) == GW_FAMILY_WAWP) {
        char *instance = s_wawp_instance(req);
        if (!instance) {
            return NULL;
        }
        json_object_set_new(gw_req_params(req), "session",
                            json_string(instance));
        free(instance);
        return gw_req_param(req, "session");
    }
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return NULL;
    }
    return name;
}

char *
gw_sessions_wawp_instance(gw_req_t *req)
{
    return s_wawp_instance(req);
}

//  Wawp: the action on the instance the request names (200 on success).
static void
s_wawp(gw_req_t *req, s_op_fn *op, s_reply_fn *reply)
{
    char *name = s_wawp_instance(req);
    if (name) {
        s_run(req, name, op, reply, 200);
        free(name);
    }
}

void
gw_sessions_wawp_create(gw_req_t *req)
{
    const char *name = NULL;
    bool start = true;
    if (s_input_name(req, gw_req_input(req, "name"), &name) != 0 ||
        s_input_bool(req, gw_req_input(req, "start"), "start", &start) != 0) {
        return;
    }
    json_t *config = s_input_config(req, gw_req_input(req, "config"));
    if (!config) {
        return;
    }
    char *iid = gw_auth_instance_new();
    char generated[32];
    if (!name) {
        snprintf(generated, sizeof generated, "wawp-%s", iid);
        for (char *p = generated; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        name = generated;
    }
    char *token = gw_auth_token_new();
    char hash[GW_AUTH_HEX_SIZE];
    gw_auth_digest_hex(token, hash);
    json_t *session = NULL;
    int rc = s_create(req, name, config, start, iid, hash, &session);
    if (rc == 409) {
        gw_req_fail(req, 422, "session_exists", "Session '%s' already exists",
                    name);
    } else if (rc == 0) {
        json_t *body =
            json_pack("{s:O, s:O, s:O, s:s, s:O, s:O}", "instance_id",
                      json_object_get(session, "instance_id"), "session_name",
                      json_object_get(session, "name"), "name",
                      json_object_get(session, "name"), "access_token", token,
                      "status", json_object_get(session, "status"), "config",
                      json_object_get(session, "config"));
        if (!body) {
            gw_req_fail(req, 502, NULL,
                        "store-service sent an incomplete session");
        } else {
            gw_req_reply(req, 201, &body);
        }
    }
    json_decref(session);
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    free(iid);
    json_decref(config);
}

void
gw_sessions_wawp_info(gw_req_t *req)
{
    s_wawp(req, s_op_get, s_reply_info);
}

void
gw_sessions_wawp_start(gw_req_t *req)
{
    s_wawp(req, s_op_start, s_reply_info);
}

void
gw_sessions_wawp_stop(gw_req_t *req)
{
    s_wawp(req, s_op_stop, s_reply_info);
}

void
gw_sessions_wawp_restart(gw_req_t *req)
{
    s_wawp(req, s_op_restart, s_reply_info);
}

void
gw_sessions_wawp_logout(gw_req_t *req)
{
    s_wawp(req, s_op_logout, s_reply_info);
}

void
gw_sessions_wawp_delete(gw_req_t *req)
{
    s_wawp(req, s_op_delete, s_reply_empty);
}

void
gw_sessions_wawp_me(gw_req_t *req)
{
    s_wawp(req, s_op_get, s_reply_me);
}

//  --------------------------------------------------------------------

static void
s_expect_bad(const char *text, const char *needle)
{
    json_t *config = json_loads(text, 0, NULL);
    assert(config);
    char *err = NULL;
    assert(gw_sessions_config_check(config, &err) == -1);
    assert(err && strstr(err, needle));
    free(err);
    json_decref(config);
}

void
gw_sessions_test(bool verbose)
{
    printf(" * gw_sessions: ");
    assert(gw_sessions_name_valid("default"));
    assert(gw_sessions_name_valid("a_b-C9"));
    assert(!gw_sessions_name_valid(""));
    assert(!gw_sessions_name_valid(NULL));
    assert(!gw_sessions_name_valid("a/b"));
    assert(!gw_sessions_name_valid("a b"));
    assert(!gw_sessions_name_valid("é"));
    char longname[GW_SESSION_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert(!gw_sessions_name_valid(longname));
    longname[GW_SESSION_NAME_MAX] = 0;
    assert(gw_sessions_name_valid(longname));

    char *err = NULL;
    assert(gw_sessions_config_check(NULL, &err) == 0);
    json_t *good = json_loads(
        "{\"metadata\":{\"k\":\"v\"},\"proxy\":{\"server\":\"h:1\","
        "\"username\":null},\"debug\":false,\"ignore\":{\"groups\":true},"
        "\"webhooks\":[{\"url\":\"http://127.0.0.1:1/h\",\"events\":"
        "[\"session.status\"]}]}",
        0, NULL);
    assert(gw_sessions_config_check(good, &err) == 0);
    json_decref(good);
    s_expect_bad("[]", "config must be an object");
    s_expect_bad("{\"metadata\":{\"k\":1}}", "config.metadata.k must be");
    s_expect_bad("{\"proxy\":{}}", "config.proxy.server must be a string");
    s_expect_bad("{\"debug\":\"yes\"}", "config.debug");
    s_expect_bad("{\"ignore\":{\"groups\":1}}", "config.ignore.groups");
    s_expect_bad("{\"junk\":1}", "config.junk is not a known setting");
    s_expect_bad("{\"ignore\":{\"x\":true}}", "config.ignore.x is not");
    s_expect_bad("{\"client\":{\"deviceName\":5}}",
                 "config.client.deviceName must be a string");
    s_expect_bad("{\"noweb\":[]}", "config.noweb must be an object");
    s_expect_bad("{\"webhooks\":[{\"url\":5,\"events\":[\"message\"]}]}",
                 "config.webhooks[0]");
    s_expect_bad("{\"webhooks\":[{\"url\":\"http://x/\",\"events\":"
                 "[\"bogus\"]}]}",
                 "bogus");

    //  Config as WAHA shows it: no nulls for unset optionals, the
    //  defaults WAHA's schema requires filled in
    json_t *in = json_loads(
        "{\"metadata\":null,\"proxy\":{\"server\":\"h:1\",\"username\":"
        "null},\"noweb\":{\"store\":{\"enabled\":true}},\"webhooks\":"
        "[{\"url\":\"http://x/\",\"events\":[\"message\"],\"hmac\":null}],"
        "\"gows\":{\"storage\":{\"messages\":null}}}",
        0, NULL);
    assert(in);
    json_t *shown = gw_sessions_waha_config(in);
    assert(!json_object_get(shown, "metadata"));
    assert(!json_object_get(json_object_get(shown, "proxy"), "username"));
    assert(json_is_true(
        json_object_get(json_object_get(shown, "noweb"), "markOnline")));
    json_t *nstore = json_object_get(json_object_get(shown, "noweb"), "store");
    assert(json_is_true(json_object_get(nstore, "enabled")));
    assert(json_is_false(json_object_get(nstore, "fullSync")));
    assert(!json_object_get(
        json_array_get(json_object_get(shown, "webhooks"), 0), "hmac"));
    //  nullable in WAHA's schema: kept
    assert(json_is_null(json_object_get(
        json_object_get(json_object_get(shown, "gows"), "storage"),
        "messages")));
    //  the stored config is not changed
    assert(json_is_null(json_object_get(in, "metadata")));
    json_decref(shown);
    json_decref(in);

    //  SessionInfo keeps store-only fields out.
    json_t *session =
        json_pack("{s:s, s:s, s:s, s:{}, s:n, s:s, s:s, s:[], s:I}", "name",
                  "s1", "status", "WORKING", "desired", "running", "config",
                  "me", "instance_id", "ABC", "access_token_hash", "ff",
                  "statuses", "updated_at", (json_int_t)5);
    json_t *info = gw_sessions_info(session);
    assert(streq(json_string_value(json_object_get(info, "name")), "s1"));
    assert(json_is_null(json_object_get(info, "me")));
    assert(!json_object_get(info, "assignedWorker"));
    assert(json_is_object(json_object_get(info, "config")));
    assert(json_is_object(json_object_get(info, "presence")));
    json_decref(info);
    json_object_set_new(session, "worker", json_string("w1"));
    info = gw_sessions_info(session);
    assert(streq(json_string_value(json_object_get(info, "assignedWorker")),
                 "w1"));
    assert(!json_object_get(info, "access_token_hash"));
    assert(!json_object_get(info, "desired"));
    json_decref(info);
    json_decref(session);
    printf("OK\n");
}
