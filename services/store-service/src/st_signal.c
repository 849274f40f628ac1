/*  st_signal - the `signal` message family: a session's Signal state

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#include <openssl/crypto.h>

//  The Signal record kinds, and the app-state ones the engine keeps
//  beside them (wa_syncd: sync keys, collection versions and LTHashes,
//  index -> value MAC maps), and the privacy tokens (wa_tctoken).
// clang-format off
static const char *s_kinds[] = {"session",       "identity",     "prekey",
                                "signed_prekey", "sender_key",   "appstate_key",
                                "appstate_coll", "appstate_mac", "tctoken",
                                "nct_salt",      NULL};
// clang-format on

//  The last entry per (kind, key) of the batch in $2, in batch order.
#define S_LAST_ROWS                                                            \
    "(SELECT DISTINCT ON (e.v->>'kind', e.v->>'key') e.v->>'kind' AS kind, "   \
    "e.v->>'key' AS key, e.v->>'data' AS data "                                \
    "FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(v, ord) "       \
    "ORDER BY e.v->>'kind', e.v->>'key', e.ord DESC) last"

//  As S_LAST_ROWS for the rows of several sessions in $1 (each with its
//  session), ordered by session, kind and key.
#define S_LAST_GROUP_ROWS                                                      \
    "(SELECT DISTINCT ON (e.v->>'session', e.v->>'kind', e.v->>'key') "        \
    "e.v->>'session' AS session, e.v->>'kind' AS kind, "                       \
    "e.v->>'key' AS key, e.v->>'data' AS data "                                \
    "FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, ord) "       \
    "ORDER BY e.v->>'session', e.v->>'kind', e.v->>'key', e.ord DESC) last"

static bool
s_known_kind(const char *kind)
{
    for (int i = 0; s_kinds[i]; i++) {
        if (cm_streq(kind, s_kinds[i])) {
            return true;
        }
    }
    return false;
}

static bool
s_base64(const char *text)
{
    for (const char *p = text; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '/' &&
            *p != '=') {
            return false;
        }
    }
    return true;
}

//  Check every row; NULL when fine, else the 400 reply.
cm_msg_t *
st_signal_check(cm_msg_t *request, const char *field, json_t *rows)
{
    if (!json_is_array(rows) || json_array_size(rows) > ST_SIGNAL_MAX_ROWS) {
        char *why = cm_sprintf("field '%s' must be an array of at most %d "
                               "rows",
                               field, ST_SIGNAL_MAX_ROWS);
        cm_msg_t *reply = cm_msg_new_reply(request, 400, why);
        free(why);
        return reply;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *kind = json_string_value(json_object_get(row, "kind"));
        const char *key = json_string_value(json_object_get(row, "key"));
        json_t *data = json_object_get(row, "data");
        const char *why = NULL;
        if (!s_known_kind(kind)) {
            why = "kind is not a Signal record kind";
        } else if (!key || !*key || strlen(key) > ST_SIGNAL_MAX_KEY) {
            why = "key must be a string of 1..400 bytes";
        } else if (!json_is_null(data) &&
                   (!json_is_string(data) ||
                    json_string_length(data) > ST_SIGNAL_MAX_DATA ||
                    !s_base64(json_string_value(data)))) {
            why = "data must be base64 text or null";
        }
        if (why) {
            char *text = cm_sprintf("%s[%zu]: %s", field, i, why);
            cm_msg_t *reply = cm_msg_new_reply(request, 400, text);
            free(text);
            return reply;
        }
    }
    return NULL;
}

//  The rows (checked) with each record sealed for its row under the
//  current key. Caller owns return value.
static json_t *
s_seal_rows(const st_seal_t *seal, const char *name, json_t *rows)
{
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *kind = json_string_value(json_object_get(row, "kind"));
        const char *key = json_string_value(json_object_get(row, "key"));
        const char *data = json_string_value(json_object_get(row, "data"));
        char *sealed = NULL;
        if (data) {
            size_t ad_len = 0;
            char *ad =
                st_seal_ad(&ad_len, "signal_keys", name, kind, key, NULL);
            sealed = st_seal_close_b64(seal, ad, ad_len, data);
            assert(sealed); //  st_signal_check let only base64 through
            free(ad);
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:s?}", "kind", kind,
                                             "key", key, "data", sealed));
        free(sealed);
    }
    return out;
}

static cm_msg_t *
s_load(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    PGresult *res = st_router_by_name(self, request, "st_signal_load", &reply);
    if (!res) {
        return reply;
    }
    const st_seal_t *seal = st_router_seal(self);
    const char *name = cm_msg_str(request, "name");
    json_t *rows = json_array();
    for (int r = 0; r < PQntuples(res); r++) {
        const char *kind = st_db_text(res, r, 0);
        const char *key = st_db_text(res, r, 1);
        const char *kid = st_db_text(res, r, 3);
        char *data = NULL;
        if (kid) {
            size_t ad_len = 0;
            char *ad =
                st_seal_ad(&ad_len, "signal_keys", name, kind, key, NULL);
            int why = 0;
            data = st_seal_open_b64(seal, kid, ad, ad_len,
                                    st_db_text(res, r, 2), &why);
            free(ad);
            if (!data) {
                reply = st_devices_sealed_fail(request, seal, "signal_keys",
                                               name, kid, why);
                json_decref(rows);
                PQclear(res);
                return reply;
            }
        }
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:s}", "kind", kind, "key", key, "data",
                            data ? data : st_db_text(res, r, 2)));
        if (data) {
            OPENSSL_cleanse(data, strlen(data));
            free(data);
        }
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "rows", rows);
    return reply;
}

bool
st_signal_deletes(json_t *rows)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (!json_is_string(json_object_get(row, "data"))) {
            return true;
        }
    }
    return false;
}

char *
st_signal_text(st_router_t *self, const char *name, json_t *rows)
{
    const st_seal_t *seal = st_router_seal(self);
    json_t *sealed = st_seal_kid(seal) ? s_seal_rows(seal, name, rows) : NULL;
    char *text = cm_json_dumps(sealed ? sealed : rows, NULL);
    json_decref(sealed);
    return text;
}

void
st_signal_add_rows(st_router_t *self, const char *name, json_t *rows,
                   json_t *out)
{
    const st_seal_t *seal = st_router_seal(self);
    json_t *sealed = st_seal_kid(seal) ? s_seal_rows(seal, name, rows)
                                       : json_deep_copy(rows);
    size_t i;
    json_t *row;
    json_array_foreach(sealed, i, row)
    {
        json_object_set_new(row, "session", json_string(name));
        json_array_append(out, row);
    }
    json_decref(sealed);
}

//  Count the sessions of the rows of `res` (column 0) into `counts`.
static void
s_count(PGresult *res, json_t *counts)
{
    for (int r = 0; r < PQntuples(res); r++) {
        const char *session = st_db_text(res, r, 0);
        json_t *n = json_object_get(counts, session);
        json_object_set_new(counts, session,
                            json_integer(n ? json_integer_value(n) + 1 : 1));
    }
}

int
st_signal_write_group(st_router_t *self, json_t *rows, bool deletes,
                      json_t *written, json_t *deleted)
{
    st_db_t *db = st_router_db(self);
    char *text = cm_json_dumps(rows, NULL);
    if (!text) {
        return -1; //  checked base64 and names: not reached
    }
    const char *params[] = {text, st_seal_kid(st_router_seal(self))};
    PGresult *put = st_db_exec(db, "st_signal_upsert_group", 2, params);
    if (put) {
        s_count(put, written);
        PQclear(put);
    }
    PGresult *del = put && deletes
                        ? st_db_exec(db, "st_signal_delete_group", 1, params)
                        : NULL;
    if (del) {
        s_count(del, deleted);
        PQclear(del);
    }
    free(text);
    return !put || (deletes && !del) ? -1 : 0;
}

int
st_signal_write(st_router_t *self, const char *name, const char *text,
                bool deletes, int64_t *written, int64_t *deleted)
{
    st_db_t *db = st_router_db(self);
    const char *params[] = {name, text, st_seal_kid(st_router_seal(self))};
    PGresult *put = st_db_exec(db, "st_signal_upsert", 3, params);
    if (!put) {
        return -1;
    }
    *written = atoll(PQcmdTuples(put));
    PQclear(put);
    *deleted = 0;
    if (deletes) {
        //  Only a row with null data deletes: skip the statement otherwise
        PGresult *del = st_db_exec(db, "st_signal_delete", 2, params);
        if (!del) {
            return -1;
        }
        *deleted = atoll(PQcmdTuples(del));
        PQclear(del);
    }
    return 0;
}

static cm_msg_t *
s_put(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    json_t *rows = json_object_get(cm_msg_body(request), "rows");
    reply = st_signal_check(request, "rows", rows);
    if (reply) {
        return reply;
    }
    //  Seal each record for its row (outside the transaction)
    char *text = st_signal_text(self, lease.name, rows);
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        free(text);
        return reply;
    }
    int64_t written = 0;
    int64_t deleted = 0;
    int rc = st_signal_write(self, lease.name, text, st_signal_deletes(rows),
                             &written, &deleted);
    free(text);
    if (rc != 0 || st_db_commit(st_router_db(self))) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "written", written);
    cm_msg_set_int(reply, "deleted", deleted);
    return reply;
}

int
st_signal_register(st_router_t *r)
{
    st_router_prepare(r, "st_signal_load",
                      "SELECT kind, key_id, "
                      "translate(encode(data, 'base64'), E'\\n', ''), kid "
                      "FROM signal_keys WHERE session = $1");
    //  $3: the key id of the sealed records, NULL when in the clear
    st_router_prepare(r, "st_signal_upsert",
                      "INSERT INTO signal_keys (session, kind, key_id, data, "
                      "kid) SELECT $1, kind, key, decode(data, 'base64'), "
                      "$3::text FROM " S_LAST_ROWS " WHERE data IS NOT NULL "
                      "ON CONFLICT (session, kind, key_id) DO UPDATE "
                      "SET data = EXCLUDED.data, kid = EXCLUDED.kid, "
                      "updated_at = now()");
    st_router_prepare(r, "st_signal_delete",
                      "DELETE FROM signal_keys s USING " S_LAST_ROWS
                      " WHERE last.data IS NULL AND s.session = $1 "
                      "AND s.kind = last.kind AND s.key_id = last.key");
    //  The rows of several sessions ($1: [{session, kind, key, data}],
    //  the last entry per session, kind and key kept), in one statement
    //  each: a group's writes (st_events). Each returns the session of
    //  every row it wrote or deleted.
    st_router_prepare(r, "st_signal_upsert_group",
                      "INSERT INTO signal_keys (session, kind, key_id, data, "
                      "kid) SELECT session, kind, key, decode(data, "
                      "'base64'), $2::text FROM " S_LAST_GROUP_ROWS
                      " WHERE data IS NOT NULL "
                      "ON CONFLICT (session, kind, key_id) DO UPDATE "
                      "SET data = EXCLUDED.data, kid = EXCLUDED.kid, "
                      "updated_at = now() RETURNING session");
    st_router_prepare(r, "st_signal_delete_group",
                      "DELETE FROM signal_keys s USING " S_LAST_GROUP_ROWS
                      " WHERE last.data IS NULL AND s.session = last.session "
                      "AND s.kind = last.kind AND s.key_id = last.key "
                      "RETURNING s.session");
    st_router_add(r, "signal.load", 1, s_load, ST_ROUTER_DB);
    st_router_add(r, "signal.put", 1, s_put, ST_ROUTER_DB);
    return 0;
}

void
st_signal_test(bool verbose)
{
    printf(" * st_signal: ");
    cm_log_init(NULL, "error");
    //  row validation happens before any database work
    cm_msg_t *req = cm_msg_new("signal.put");
    cm_msg_set(req, "rows",
               json_pack("[{s:s, s:s, s:s}]", "kind", "session", "key",
                         "1555.0", "data", "AAEC"));
    assert(st_signal_check(req, "rows",
                           json_object_get(cm_msg_body(req), "rows")) == NULL);
    const char *bad[] = {
        "[{\"kind\":\"bogus\",\"key\":\"k\",\"data\":\"AA==\"}]",
        "[{\"kind\":\"prekey\",\"key\":\"\",\"data\":\"AA==\"}]",
        "[{\"kind\":\"prekey\",\"key\":\"1\",\"data\":\"not base64!\"}]",
        "[{\"kind\":\"prekey\",\"key\":\"1\",\"data\":5}]",
        "{}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        json_t *rows = json_loads(bad[i], 0, NULL);
        cm_msg_t *reply = st_signal_check(req, "rows", rows);
        assert(reply && cm_msg_status(reply) == 400);
        cm_msg_destroy(&reply);
        json_decref(rows);
    }
    //  a null data is a deletion and is fine
    json_t *rows = json_loads(
        "[{\"kind\":\"prekey\",\"key\":\"1\",\"data\":null}]", 0, NULL);
    assert(st_signal_check(req, "rows", rows) == NULL);
    json_decref(rows);
    cm_msg_destroy(&req);

    //  without a database the handlers answer 503
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_signal_register(r) == 0);
    const char *types[] = {"signal.load", "signal.put", NULL};
    for (int i = 0; types[i]; i++) {
        assert(st_router_status(r, types[i],
                                "{\"name\":\"x\",\"worker\":\"w\","
                                "\"epoch\":1,\"rows\":[]}") == 503);
    }
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
