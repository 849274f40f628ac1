/*  st_apikeys - the `apikey` message family: keys made through /api/keys

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#define S_COLUMNS                                                              \
    "id, key_hash, is_admin, session, is_active, actions::text, "              \
    "(extract(epoch FROM created_at) * 1000)::bigint"

static const char *const s_actions[] = {"read", "send",   "control", "setting",
                                        "app",  "delete", NULL};

//  One row as the bus carries it. Caller owns return value.
static json_t *
s_row(PGresult *res, int i)
{
    json_t *actions = json_loads(st_db_text(res, i, 5), 0, NULL);
    const char *session = PQgetisnull(res, i, 3) ? NULL : st_db_text(res, i, 3);
    return json_pack("{s:s, s:s, s:b, s:s?, s:b, s:o, s:I}", "id",
                     st_db_text(res, i, 0), "hash", st_db_text(res, i, 1),
                     "isAdmin", st_db_text(res, i, 2)[0] == 't', "session",
                     session, "isActive", st_db_text(res, i, 4)[0] == 't',
                     "actions", actions ? actions : json_object(), "createdAt",
                     (json_int_t)atoll(st_db_text(res, i, 6)));
}

//  The actions object of the request as JSON text ({} when absent), or
//  NULL with *reply_p set to a 400.
static char *
s_actions_text(cm_msg_t *request, cm_msg_t **reply_p)
{
    json_t *in = json_object_get(cm_msg_body(request), "actions");
    if (!in || json_is_null(in)) {
        return cm_strdup("{}");
    }
    json_t *out = json_object();
    const char *k;
    json_t *v;
    bool ok = json_is_object(in);
    json_object_foreach(in, k, v)
    {
        bool known = false;
        for (size_t i = 0; s_actions[i]; i++) {
            known |= streq(k, s_actions[i]);
        }
        if (!known || !json_is_boolean(v)) {
            ok = false;
            break;
        }
        json_object_set(out, k, v);
    }
    if (!ok) {
        json_decref(out);
        *reply_p = cm_msg_new_reply(request, 400,
                                    "field 'actions' must map read, send, "
                                    "control, setting, app, delete to "
                                    "booleans");
        return NULL;
    }
    char *text = cm_json_dumps(out, NULL);
    json_decref(out);
    return text;
}

//  A boolean field as "t"/"f", `dflt` when absent, NULL after a 400.
static const char *
s_bool(cm_msg_t *request, const char *key, const char *dflt, cm_msg_t **reply_p)
{
    json_t *v = json_object_get(cm_msg_body(request), key);
    if (!v || json_is_null(v)) {
        return dflt;
    }
    if (!json_is_boolean(v)) {
        char *why = cm_sprintf("field '%s' must be a boolean", key);
        *reply_p = cm_msg_new_reply(request, 400, why);
        free(why);
        return NULL;
    }
    return json_is_true(v) ? "t" : "f";
}

static cm_msg_t *
s_reply_row(cm_msg_t *request, PGresult *res)
{
    json_t *row = s_row(res, 0);
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_body(reply, &row);
    return reply;
}

static cm_msg_t *
s_create(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *id = st_router_str(request, "id", 64, &reply);
    const char *hash = id ? st_router_str(request, "hash", 128, &reply) : NULL;
    const char *session =
        hash ? st_router_opt_str(request, "session", ST_ROUTER_NAME_MAX, &reply)
             : NULL;
    if (!hash || reply) {
        return reply;
    }
    const char *admin = s_bool(request, "isAdmin", "f", &reply);
    const char *active =
        admin ? s_bool(request, "isActive", "t", &reply) : NULL;
    if (!active) {
        return reply;
    }
    if (*admin == 'f' && !session) {
        return cm_msg_new_reply(request, 400,
                                "a key that is not an admin key needs a "
                                "session");
    }
    if (strlen(hash) != 128) {
        return cm_msg_new_reply(request, 400, "field 'hash' must be 128 hex");
    }
    char *actions = s_actions_text(request, &reply);
    if (!actions) {
        return reply;
    }
    const char *p[] = {id, hash, admin, session, active, actions};
    PGresult *res = st_db_exec(st_router_db(self), "st_apikey_create", 6, p);
    free(actions);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 409,
                                "a key with that id or secret exists, or "
                                "there are too many keys");
    }
    reply = s_reply_row(request, res);
    PQclear(res);
    return reply;
}

static cm_msg_t *
s_list(st_router_t *self, cm_msg_t *request)
{
    PGresult *res = st_db_exec(st_router_db(self), "st_apikey_list", 0, NULL);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *keys = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_array_append_new(keys, s_row(res, i));
    }
    PQclear(res);
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "keys", keys);
    return reply;
}

static cm_msg_t *
s_update(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *id = st_router_str(request, "id", 64, &reply);
    const char *session =
        id ? st_router_opt_str(request, "session", ST_ROUTER_NAME_MAX, &reply)
           : NULL;
    if (!id || reply) {
        return reply;
    }
    const char *admin = s_bool(request, "isAdmin", NULL, &reply);
    const char *active =
        reply ? NULL : s_bool(request, "isActive", NULL, &reply);
    if (reply) {
        return reply;
    }
    char *actions = NULL;
    if (json_object_get(cm_msg_body(request), "actions")) {
        actions = s_actions_text(request, &reply);
        if (!actions) {
            return reply;
        }
    }
    const char *p[] = {id, admin, session, active, actions};
    PGresult *res = st_db_exec(st_router_db(self), "st_apikey_update", 5, p);
    free(actions);
    if (!res) {
        //  The CHECK: a key left without admin and without session
        return st_router_db_fail(self, request);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 404, "no such key");
    }
    reply = s_reply_row(request, res);
    PQclear(res);
    return reply;
}

static cm_msg_t *
s_delete(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *id = st_router_str(request, "id", 64, &reply);
    if (!id) {
        return reply;
    }
    const char *p[] = {id};
    PGresult *res = st_db_exec(st_router_db(self), "st_apikey_delete", 1, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    bool found = atoll(PQcmdTuples(res)) > 0;
    PQclear(res);
    return found ? cm_msg_new_reply(request, 200, NULL)
                 : cm_msg_new_reply(request, 404, "no such key");
}

int
st_apikeys_register(st_router_t *r)
{
    char *create = cm_sprintf(
        "INSERT INTO api_keys (id, key_hash, is_admin, session, is_active, "
        "actions) SELECT $1, $2, $3::boolean, $4, $5::boolean, $6::jsonb "
        "WHERE (SELECT count(*) FROM api_keys) < %d "
        "ON CONFLICT DO NOTHING RETURNING " S_COLUMNS,
        ST_APIKEYS_MAX);
    st_router_prepare(r, "st_apikey_create", create);
    free(create);
    st_router_prepare(r, "st_apikey_list",
                      "SELECT " S_COLUMNS " FROM api_keys ORDER BY created_at, "
                      "id");
    //  A NULL parameter keeps the column; a session is cleared only by
    //  making the key an admin key
    st_router_prepare(
        r, "st_apikey_update",
        "UPDATE api_keys SET is_admin = coalesce($2::boolean, is_admin), "
        "session = CASE WHEN coalesce($2::boolean, is_admin) AND $3::text IS NULL "
        "THEN NULL ELSE coalesce($3::text, session) END, "
        "is_active = coalesce($4::boolean, is_active), "
        "actions = coalesce($5::jsonb, actions), updated_at = now() "
        "WHERE id = $1 RETURNING " S_COLUMNS);
    st_router_prepare(r, "st_apikey_delete",
                      "DELETE FROM api_keys WHERE id = $1");
    st_router_add(r, "apikey.create", 1, s_create, ST_ROUTER_DB);
    st_router_add(r, "apikey.list", 1, s_list, ST_ROUTER_DB);
    st_router_add(r, "apikey.update", 1, s_update, ST_ROUTER_DB);
    st_router_add(r, "apikey.delete", 1, s_delete, ST_ROUTER_DB);
    return 0;
}

void
st_apikeys_test(bool verbose)
{
    printf(" * st_apikeys: ");
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_apikeys_register(r) == 0);
    //  Checked before any database work
    char hash[129];
    memset(hash, 'a', 128);
    hash[128] = 0;
    char *bad[] = {
        cm_strdup("{\"id\":\"k1\"}"),
        cm_sprintf("{\"id\":\"k1\",\"hash\":\"%s\"}", hash),
        cm_sprintf("{\"id\":\"k1\",\"hash\":\"%s\",\"session\":\"s\","
                   "\"actions\":{\"fly\":true}}",
                   hash),
        cm_sprintf("{\"id\":\"k1\",\"hash\":\"%s\",\"isAdmin\":\"yes\"}", hash),
        cm_strdup("{\"id\":\"k1\",\"hash\":\"abc\",\"isAdmin\":true}"),
        NULL};
    for (int i = 0; bad[i]; i++) {
        cm_msg_t *req = cm_msg_new("apikey.create");
        json_t *b = json_loads(bad[i], 0, NULL);
        assert(b);
        cm_msg_set_body(req, &b);
        cm_msg_t *reply = s_create(r, req);
        assert(reply && cm_msg_status(reply) == 400);
        cm_msg_destroy(&reply);
        cm_msg_destroy(&req);
        free(bad[i]);
    }
    cm_msg_t *req = cm_msg_new("apikey.update");
    cm_msg_set(req, "id", json_string("k1"));
    cm_msg_set(req, "isActive", json_string("no"));
    cm_msg_t *reply = s_update(r, req);
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    //  Without a database the handlers answer 503
    assert(st_router_status(r, "apikey.list", "{}") == 503);
    assert(st_router_status(r, "apikey.delete", "{\"id\":\"k\"}") == 503);
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
