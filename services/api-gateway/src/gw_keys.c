/*  gw_keys - API keys made through /api/keys: admin and session keys

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

#include <pthread.h>

static const char *const s_action_names[] = {"read",    "send", "control",
                                             "setting", "app",  "delete"};

//  The process's key table: hex SHA-512 -> gw_keys_entry_t (owned).
static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    zhashx_t *keys;
    pthread_t thread;
    bool running;
    bool stopping;
    bool reload; //  reload now
    char *endpoint;
} s_keys = {.lock = PTHREAD_MUTEX_INITIALIZER,
            .wake = PTHREAD_COND_INITIALIZER};

static void
s_entry_free(void **item)
{
    free(*item);
    *item = NULL;
}

//  A store row into an entry (caller owns), or NULL when malformed.
static gw_keys_entry_t *
s_entry_of(json_t *row)
{
    const char *id = json_string_value(json_object_get(row, "id"));
    const char *session = json_string_value(json_object_get(row, "session"));
    bool admin = json_is_true(json_object_get(row, "isAdmin"));
    if (!id || (!admin && !session)) {
        return NULL;
    }
    gw_keys_entry_t *e = cm_alloc(sizeof *e);
    e->admin = admin;
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->session, sizeof e->session, "%s", session ? session : "");
    //  Scopes not given are allowed (WAHA: a key without actions may do
    //  everything its session allows)
    json_t *actions = json_object_get(row, "actions");
    e->actions = GW_KEYS_ALL;
    for (unsigned i = 0; i < 6; i++) {
        if (json_is_false(json_object_get(actions, s_action_names[i]))) {
            e->actions &= ~(1u << i);
        }
    }
    return e;
}

//  Put (or, when inactive, remove) a store row into the table.
static void
s_apply_row(zhashx_t *table, json_t *row)
{
    const char *hash = json_string_value(json_object_get(row, "hash"));
    if (!hash) {
        return;
    }
    gw_keys_entry_t *e =
        json_is_true(json_object_get(row, "isActive")) ? s_entry_of(row) : NULL;
    if (e) {
        zhashx_update(table, hash, e);
    } else {
        zhashx_delete(table, hash);
    }
}

static void *
s_refresher(void *arg)
{
    gw_link_t *link = gw_link_new(s_keys.endpoint);
    pthread_mutex_lock(&s_keys.lock);
    while (!s_keys.stopping) {
        s_keys.reload = false;
        pthread_mutex_unlock(&s_keys.lock);
        cm_msg_t *msg = cm_msg_new("apikey.list");
        cm_msg_t *reply =
            link ? gw_link_call(link, GW_DEST_STORE, &msg, 3000) : NULL;
        cm_msg_destroy(&msg);
        pthread_mutex_lock(&s_keys.lock);
        if (reply && cm_msg_status(reply) == 200) {
            zhashx_t *table = zhashx_new();
            zhashx_set_destructor(table, s_entry_free);
            size_t i;
            json_t *row;
            json_array_foreach(json_object_get(cm_msg_body(reply), "keys"), i,
                               row)
            {
                s_apply_row(table, row);
            }
            zhashx_destroy(&s_keys.keys);
            s_keys.keys = table;
        }
        cm_msg_destroy(&reply);
        if (!s_keys.stopping && !s_keys.reload) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += GW_KEYS_REFRESH_MS / 1000;
            until.tv_nsec += (GW_KEYS_REFRESH_MS % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s_keys.wake, &s_keys.lock, &until);
        }
    }
    pthread_mutex_unlock(&s_keys.lock);
    gw_link_destroy(&link);
    return NULL;
}

int
gw_keys_start(const gw_config_t *config)
{
    pthread_mutex_lock(&s_keys.lock);
    int rc = 0;
    if (!s_keys.running) {
        if (!s_keys.keys) {
            s_keys.keys = zhashx_new();
            zhashx_set_destructor(s_keys.keys, s_entry_free);
        }
        free(s_keys.endpoint);
        s_keys.endpoint = cm_strdup(gw_config_core_endpoint(config));
        s_keys.stopping = false;
        rc = pthread_create(&s_keys.thread, NULL, s_refresher, NULL) ? -1 : 0;
        s_keys.running = rc == 0;
    }
    pthread_mutex_unlock(&s_keys.lock);
    return rc;
}

void
gw_keys_stop(void)
{
    pthread_mutex_lock(&s_keys.lock);
    bool running = s_keys.running;
    s_keys.stopping = true;
    pthread_cond_broadcast(&s_keys.wake);
    pthread_mutex_unlock(&s_keys.lock);
    if (running) {
        pthread_join(s_keys.thread, NULL);
    }
    pthread_mutex_lock(&s_keys.lock);
    s_keys.running = false;
    zhashx_destroy(&s_keys.keys);
    free(s_keys.endpoint);
    s_keys.endpoint = NULL;
    pthread_mutex_unlock(&s_keys.lock);
}

bool
gw_keys_lookup(const char *secret, gw_keys_entry_t *entry)
{
    if (!secret ||
        strncmp(secret, GW_KEYS_PREFIX, strlen(GW_KEYS_PREFIX)) != 0 ||
        strlen(secret) > 256) {
        return false;
    }
    char hex[GW_AUTH_HEX_SIZE];
    gw_auth_digest_hex(secret, hex);
    pthread_mutex_lock(&s_keys.lock);
    gw_keys_entry_t *e = s_keys.keys ? zhashx_lookup(s_keys.keys, hex) : NULL;
    if (e) {
        *entry = *e;
    }
    pthread_mutex_unlock(&s_keys.lock);
    OPENSSL_cleanse(hex, sizeof hex);
    return e != NULL;
}

unsigned
gw_keys_action(const char *method, const char *path)
{
    if (streq(method, "GET") || streq(method, "HEAD")) {
        return GW_KEYS_READ;
    }
    if (streq(method, "DELETE")) {
        return GW_KEYS_DELETE;
    }
    if (streq(method, "PUT") || streq(method, "PATCH")) {
        return GW_KEYS_SETTING;
    }
    return strstr(path, "/send") ? GW_KEYS_SEND : GW_KEYS_CONTROL;
}

//  Request schemas with a top-level `session` property (or in one of
//  their allOf parts), from the OpenAPI document, built once.
static zhashx_t *s_session_schemas;
static pthread_once_t s_schemas_once = PTHREAD_ONCE_INIT;

static bool
s_has_session(json_t *schemas, json_t *schema, int depth)
{
    if (!json_is_object(schema) || depth > 4) {
        return false;
    }
    const char *ref = json_string_value(json_object_get(schema, "$ref"));
    if (ref && strncmp(ref, "#/components/schemas/", 21) == 0) {
        return s_has_session(schemas, json_object_get(schemas, ref + 21),
                             depth + 1);
    }
    if (json_object_get(json_object_get(schema, "properties"), "session")) {
        return true;
    }
    size_t i;
    json_t *part;
    json_array_foreach(json_object_get(schema, "allOf"), i, part)
    {
        if (s_has_session(schemas, part, depth + 1)) {
            return true;
        }
    }
    return false;
}

static void
s_schemas_build(void)
{
    s_session_schemas = zhashx_new();
    json_t *doc = gw_api_openapi(NULL);
    json_t *schemas =
        json_object_get(json_object_get(doc, "components"), "schemas");
    const char *name;
    json_t *schema;
    json_object_foreach(schemas, name, schema)
    {
        if (s_has_session(schemas, schema, 0)) {
            zhashx_insert(s_session_schemas, name, (void *)"");
        }
    }
    json_decref(doc);
}

bool
gw_keys_route_scoped(const gw_route_t *route)
{
    //  The keys API is the admin's: its `session` field names the session
    //  of a key to make, not a session to act on
    if (route->handler == gw_keys_list || route->handler == gw_keys_create ||
        route->handler == gw_keys_update || route->handler == gw_keys_delete) {
        return false;
    }
    if (strstr(route->path, "{session}")) {
        return true;
    }
    if (route->query && (strncmp(route->query, "session|", 8) == 0 ||
                         strstr(route->query, ";session|"))) {
        return true;
    }
    if (route->request) {
        pthread_once(&s_schemas_once, s_schemas_build);
        return zhashx_lookup(s_session_schemas, route->request) != NULL;
    }
    return false;
}

int
gw_keys_check(gw_req_t *req, const gw_route_t *route,
              const gw_keys_entry_t *entry)
{
    const char *method = route->method;
    const char *path = route->path;
    if (!gw_keys_route_scoped(route)) {
        gw_req_fail(req, 403, "forbidden",
                    "this API key is for session %s only; %s %s is not a "
                    "session's route",
                    entry->session, method, path);
        return -1;
    }
    //  Every place a handler may read `session` from (gw_req_input: the
    //  JSON body, a form body, the query; the path), every value there:
    //  each must be a string naming the key's own session. A JSON null
    //  would make a handler fall back to "default", another type is not
    //  a name: both are refused too.
    json_t *values = json_array();
    json_t *param = json_object_get(gw_req_params(req), "session");
    if (param) {
        json_array_append(values, param);
    }
    json_t *body = gw_req_json(req);
    if (json_is_object(body) && json_object_get(body, "session")) {
        json_array_append(values, json_object_get(body, "session"));
    }
    json_t *form = gw_req_form(req);
    if (json_is_object(form) && json_object_get(form, "session")) {
        json_array_append(values, json_object_get(form, "session"));
    }
    json_t *query = gw_req_query_all(req, "session");
    if (query) {
        json_array_extend(values, query);
    }
    size_t count = json_array_size(values);
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (!json_is_string(v) ||
            !streq(json_string_value(v), entry->session)) {
            json_decref(values);
            gw_req_fail(req, 403, "forbidden",
                        "this API key is for session %s only", entry->session);
            return -1;
        }
    }
    json_decref(values);
    if (count == 0) {
        gw_req_fail(req, 403, "forbidden",
                    "this API key is for session %s only; the request names "
                    "no session",
                    entry->session);
        return -1;
    }
    unsigned need = gw_keys_action(method, path);
    if (!(entry->actions & need)) {
        unsigned bit = 0;
        while (!(need & (1u << bit))) {
            bit++;
        }
        gw_req_fail(req, 403, "forbidden",
                    "this API key may not %s (its actions)",
                    s_action_names[bit]);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------
//  Routes

//  A store row in WAHA's shape (no hash). Caller owns return value.
static json_t *
s_public(json_t *row)
{
    json_t *out = json_deep_copy(row);
    json_object_del(out, "hash");
    json_t *at = json_object_get(row, "createdAt");
    json_object_set_new(out, "createdAt", json_integer(json_integer_value(at)));
    json_t *actions = json_object();
    for (unsigned i = 0; i < 6; i++) {
        json_object_set_new(
            actions, s_action_names[i],
            json_boolean(!json_is_false(json_object_get(
                json_object_get(row, "actions"), s_action_names[i]))));
    }
    json_object_set_new(out, "actions", actions);
    if (!json_object_get(out, "session")) {
        json_object_set_new(out, "session", json_null());
    }
    return out;
}

//  Copy the request's key fields into msg. Returns 0, or -1 after a 400.
static int
s_fields(gw_req_t *req, cm_msg_t *msg)
{
    json_t *body = gw_req_json(req);
    if (body && !json_is_object(body)) {
        gw_req_fail_invalid(req, "the body must be a JSON object");
        return -1;
    }
    const char *flags[] = {"isAdmin", "isActive", NULL};
    for (size_t i = 0; flags[i]; i++) {
        json_t *v = json_object_get(body, flags[i]);
        if (v && !json_is_boolean(v)) {
            char *why = cm_sprintf("%s must be a boolean", flags[i]);
            gw_req_fail_invalid(req, why);
            free(why);
            return -1;
        }
        if (v) {
            cm_msg_set(msg, flags[i], json_incref(v));
        }
    }
    json_t *session = json_object_get(body, "session");
    if (session && !json_is_null(session) &&
        (!json_is_string(session) || json_string_length(session) == 0 ||
         json_string_length(session) > 64)) {
        gw_req_fail_invalid(req, "session must be a session name (1..64) or "
                                 "null");
        return -1;
    }
    if (json_is_string(session)) {
        cm_msg_set(msg, "session", json_incref(session));
    }
    json_t *actions = json_object_get(body, "actions");
    if (actions && !json_is_null(actions)) {
        bool ok = json_is_object(actions);
        const char *k;
        json_t *v;
        json_object_foreach(actions, k, v)
        {
            bool known = false;
            for (unsigned i = 0; i < 6; i++) {
                known |= streq(k, s_action_names[i]);
            }
            ok = ok && known && json_is_boolean(v);
        }
        if (!ok) {
            gw_req_fail_invalid(req, "actions must map read, send, control, "
                                     "setting, app, delete to booleans");
            return -1;
        }
        cm_msg_set(msg, "actions", json_incref(actions));
    }
    return 0;
}

//  Apply a store row to this gateway's table at once.
static void
s_local(json_t *row, bool remove)
{
    pthread_mutex_lock(&s_keys.lock);
    if (s_keys.keys) {
        if (remove) {
            json_object_set_new(row, "isActive", json_false());
        }
        s_apply_row(s_keys.keys, row);
    }
    s_keys.reload = true;
    pthread_cond_broadcast(&s_keys.wake);
    pthread_mutex_unlock(&s_keys.lock);
}

void
gw_keys_list(gw_req_t *req)
{
    cm_msg_t *msg = cm_msg_new("apikey.list");
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    if (cm_msg_status(reply) != 200) {
        gw_req_fail_bus(req, reply, "the store");
        cm_msg_destroy(&reply);
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(cm_msg_body(reply), "keys"), i, row)
    {
        json_array_append_new(out, s_public(row));
    }
    cm_msg_destroy(&reply);
    gw_req_reply(req, 200, &out);
}

void
gw_keys_create(gw_req_t *req)
{
    cm_msg_t *msg = cm_msg_new("apikey.create");
    if (s_fields(req, msg)) {
        cm_msg_destroy(&msg);
        return;
    }
    json_t *body = cm_msg_body(msg);
    if (!json_is_true(json_object_get(body, "isAdmin")) &&
        !json_object_get(body, "session")) {
        cm_msg_destroy(&msg);
        gw_req_fail_invalid(req, "session is required for a key that is "
                                 "not an admin key (isAdmin: true)");
        return;
    }
    if (json_is_true(json_object_get(body, "isAdmin"))) {
        json_object_del(body, "session"); //  an admin key reaches all
    }
    char *token = gw_auth_token_new();
    char *secret = cm_sprintf("%s%s", GW_KEYS_PREFIX, token);
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    char hex[GW_AUTH_HEX_SIZE];
    gw_auth_digest_hex(secret, hex);
    uint8_t r[10];
    cm_random(r, sizeof r);
    char id[2 * sizeof r + 1];
    cm_hex(r, sizeof r, id);
    cm_msg_set(msg, "id", json_string(id));
    cm_msg_set(msg, "hash", json_string(hex));
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    int st = cm_msg_status(reply);
    if (st == 200) {
        json_t *row = cm_msg_body(reply);
        s_local(row, false);
        json_t *out = s_public(row);
        json_object_set_new(out, "key", json_string(secret));
        gw_req_reply(req, 201, &out);
        cm_log_info("api key made", "id=%s admin=%s session=%s", id,
                    json_is_true(json_object_get(row, "isAdmin")) ? "yes"
                                                                  : "no",
                    json_string_value(json_object_get(row, "session"))
                        ? json_string_value(json_object_get(row, "session"))
                        : "-");
    } else if (st == 400) {
        gw_req_fail_invalid(req, cm_msg_reason(reply) ? cm_msg_reason(reply)
                                                      : "invalid key");
    } else if (st == 409) {
        gw_req_fail(req, 422, NULL, "%s", "too many API keys");
    } else {
        gw_req_fail_bus(req, reply, "the store");
    }
    cm_msg_destroy(&reply);
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    OPENSSL_cleanse(hex, sizeof hex);
}

void
gw_keys_update(gw_req_t *req)
{
    cm_msg_t *msg = cm_msg_new("apikey.update");
    if (s_fields(req, msg)) {
        cm_msg_destroy(&msg);
        return;
    }
    cm_msg_set(msg, "id", json_string(gw_req_param(req, "id")));
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    int st = cm_msg_status(reply);
    if (st == 200) {
        s_local(cm_msg_body(reply), false);
        json_t *out = s_public(cm_msg_body(reply));
        gw_req_reply(req, 200, &out);
    } else if (st == 404) {
        gw_req_fail(req, 404, NULL, "API key %s not found",
                    gw_req_param(req, "id"));
    } else if (st == 400 || st == 409) {
        gw_req_fail_invalid(req, "a key that is not an admin key needs a "
                                 "session");
    } else {
        gw_req_fail_bus(req, reply, "the store");
    }
    cm_msg_destroy(&reply);
}

void
gw_keys_delete(gw_req_t *req)
{
    cm_msg_t *msg = cm_msg_new("apikey.delete");
    cm_msg_set(msg, "id", json_string(gw_req_param(req, "id")));
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
    int st = cm_msg_status(reply);
    if (st == 200) {
        //  Drop it here at once; the reload confirms
        pthread_mutex_lock(&s_keys.lock);
        const char *id = gw_req_param(req, "id");
        for (gw_keys_entry_t *e = s_keys.keys ? zhashx_first(s_keys.keys)
                                              : NULL;
             e; e = zhashx_next(s_keys.keys)) {
            if (streq(e->id, id)) {
                zhashx_delete(s_keys.keys, zhashx_cursor(s_keys.keys));
                break;
            }
        }
        s_keys.reload = true;
        pthread_cond_broadcast(&s_keys.wake);
        pthread_mutex_unlock(&s_keys.lock);
        json_t *out = json_object();
        gw_req_reply(req, 200, &out);
    } else if (st == 404) {
        gw_req_fail(req, 404, NULL, "API key %s not found",
                    gw_req_param(req, "id"));
    } else {
        gw_req_fail_bus(req, reply, "the store");
    }
    cm_msg_destroy(&reply);
}

json_t *
gw_keys_schemas(void)
{
    json_t *schemas = json_loads(
        "{\"ApiKeyActions\":{\"type\":\"object\",\"description\":\"WAHA's "
        "scopes; a missing one is allowed\",\"properties\":{\"read\":"
        "{\"type\":\"boolean\"},\"send\":{\"type\":\"boolean\"},\"control\":"
        "{\"type\":\"boolean\"},\"setting\":{\"type\":\"boolean\"},\"app\":"
        "{\"type\":\"boolean\"},\"delete\":{\"type\":\"boolean\"}}},"
        "\"ApiKeyRequest\":{\"type\":\"object\",\"properties\":{\"isAdmin\":"
        "{\"type\":\"boolean\",\"default\":false},\"session\":{\"type\":"
        "\"string\",\"nullable\":true,\"maxLength\":64,\"example\":"
        "\"default\"},\"isActive\":{\"type\":\"boolean\",\"default\":true},"
        "\"actions\":{\"$ref\":\"#/components/schemas/ApiKeyActions\"}}},"
        "\"ApiKey\":{\"type\":\"object\",\"required\":[\"id\",\"isAdmin\","
        "\"session\",\"isActive\",\"actions\"],\"properties\":{\"id\":"
        "{\"type\":\"string\"},\"isAdmin\":{\"type\":\"boolean\"},\"session\":"
        "{\"type\":\"string\",\"nullable\":true},\"isActive\":{\"type\":"
        "\"boolean\"},\"actions\":{\"$ref\":\"#/components/schemas/"
        "ApiKeyActions\"},\"createdAt\":{\"type\":\"integer\",\"description\":"
        "\"ms since the epoch\"}}},"
        "\"ApiKeyCreated\":{\"allOf\":[{\"$ref\":\"#/components/schemas/"
        "ApiKey\"},{\"type\":\"object\",\"required\":[\"key\"],\"properties\":"
        "{\"key\":{\"type\":\"string\",\"description\":\"The key: shown in "
        "this answer only\"}}}]},"
        "\"ApiKeyList\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/"
        "schemas/ApiKey\"}}}",
        0, NULL);
    assert(schemas);
    return schemas;
}

void
gw_keys_test(bool verbose)
{
    printf(" * gw_keys: ");
    assert(gw_keys_action("GET", "/api/sessions") == GW_KEYS_READ);
    assert(gw_keys_action("POST", "/api/sendText") == GW_KEYS_SEND);
    assert(gw_keys_action("POST", "/v2/send/text") == GW_KEYS_SEND);
    assert(gw_keys_action("POST", "/api/sessions/s/stop") == GW_KEYS_CONTROL);
    assert(gw_keys_action("PUT", "/api/sessions/s") == GW_KEYS_SETTING);
    assert(gw_keys_action("DELETE", "/api/sessions/s") == GW_KEYS_DELETE);

    //  A table row becomes an entry; inactive rows are left out
    zhashx_t *table = zhashx_new();
    zhashx_set_destructor(table, s_entry_free);
    json_t *row = json_pack("{s:s, s:s, s:b, s:s, s:b, s:{s:b}}", "id", "k1",
                            "hash", "h1", "isAdmin", 0, "session", "a",
                            "isActive", 1, "actions", "send", 0);
    s_apply_row(table, row);
    gw_keys_entry_t *e = zhashx_lookup(table, "h1");
    assert(e && !e->admin && streq(e->session, "a"));
    assert(e->actions == (GW_KEYS_ALL & ~GW_KEYS_SEND));
    json_object_set_new(row, "isActive", json_false());
    s_apply_row(table, row);
    assert(!zhashx_lookup(table, "h1"));
    json_decref(row);
    zhashx_destroy(&table);

    //  A session key: its own session only, named somewhere
    gw_keys_entry_t k = {.admin = false, .actions = GW_KEYS_ALL};
    snprintf(k.session, sizeof k.session, "a");
    char *allow = NULL;
    const gw_route_t *get =
        gw_api_match("GET", "/api/sessions/a", NULL, &allow);
    const gw_route_t *list = gw_api_match("GET", "/api/sessions", NULL, &allow);
    const gw_route_t *send =
        gw_api_match("POST", "/api/sendText", NULL, &allow);
    assert(get && list && send && !allow);
    assert(gw_keys_route_scoped(get) && gw_keys_route_scoped(send));
    assert(!gw_keys_route_scoped(list));
    //  A session key never makes keys, whatever the body says
    const gw_route_t *make = gw_api_match("POST", "/api/keys", NULL, &allow);
    assert(make && !gw_keys_route_scoped(make));
    gw_req_t *req = gw_req_new("GET", "/api/sessions/a");
    json_object_set_new(gw_req_params(req), "session", json_string("a"));
    assert(gw_keys_check(req, get, &k) == 0);
    gw_req_set_query(req, "session", "b");
    assert(gw_keys_check(req, get, &k) == -1);
    assert(gw_req_status(req) == 403);
    gw_req_destroy(&req);
    //  A route that lists every session is not for a session key, even
    //  when the request names the key's session
    req = gw_req_new("GET", "/api/sessions");
    gw_req_set_query(req, "session", "a");
    assert(gw_keys_check(req, list, &k) == -1);
    gw_req_destroy(&req);
    req = gw_req_new("POST", "/api/sendText");
    assert(gw_keys_check(req, send, &k) == -1); //  names no session
    gw_req_destroy(&req);
    req = gw_req_new("POST", "/api/sendText");
    gw_req_append_body(req, "{\"session\":\"a\"}", 15, 1024);
    gw_req_set_header(req, "Content-Type", "application/json");
    assert(gw_req_parse_body(req) == 0);
    assert(gw_keys_check(req, send, &k) == 0);
    k.actions &= ~GW_KEYS_SEND;
    assert(gw_keys_check(req, send, &k) == -1);
    assert(strstr(gw_req_response(req), "may not send"));
    gw_req_destroy(&req);
    k.actions = GW_KEYS_ALL;
    //  Another session by a way the check did not look at: a form body
    //  (handlers read it, gw_req_input), a JSON null (handlers fall back
    //  to "default"), a non-string, a second query value
    const char *bodies[][2] = {
        {"application/x-www-form-urlencoded", "session=b&text=x"},
        {"application/json", "{\"session\":null}"},
        {"application/json", "{\"session\":[\"b\"]}"},
        {"application/json", "{\"session\":\"a\"}"}};
    for (size_t i = 0; i < 4; i++) {
        req = gw_req_new("POST", "/api/sendText");
        gw_req_set_query(req, "session", "a");
        if (i == 3) {
            gw_req_set_query(req, "session", "b");
        }
        gw_req_append_body(req, bodies[i][1], strlen(bodies[i][1]), 1024);
        gw_req_set_header(req, "Content-Type", bodies[i][0]);
        assert(gw_req_parse_body(req) == 0);
        assert(gw_keys_check(req, send, &k) == -1);
        assert(gw_req_status(req) == 403);
        gw_req_destroy(&req);
    }
    req = gw_req_new("POST", "/api/sendText");
    gw_req_append_body(req, "session=a&text=x", 16, 1024);
    gw_req_set_header(req, "Content-Type", "application/x-www-form-urlencoded");
    assert(gw_req_parse_body(req) == 0);
    assert(gw_keys_check(req, send, &k) == 0); //  a form may name it
    gw_req_destroy(&req);

    //  Only made keys are looked up
    gw_keys_entry_t out;
    assert(!gw_keys_lookup("plain", &out));
    assert(!gw_keys_lookup(NULL, &out));
    assert(!gw_keys_lookup("wharf_unknown", &out));
    json_decref(gw_keys_schemas());
    zhashx_destroy(&s_session_schemas);
    s_schemas_once = (pthread_once_t)PTHREAD_ONCE_INIT;
    printf("OK\n");
}
