/*  st_devices - the `device` message family: WhatsApp device credentials

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#include <openssl/crypto.h>

//  Rows sealed again per transaction by st_devices_reseal.
#define S_RESEAL_CREDS 100
#define S_RESEAL_SIGNAL 1000
#define S_RESEAL_SECRETS 1000
#define S_STR(x) #x
#define S_XSTR(x) S_STR(x)

cm_msg_t *
st_devices_sealed_fail(cm_msg_t *request, const st_seal_t *seal,
                       const char *table, const char *session, const char *kid,
                       int why)
{
    const char *have = st_seal_kid(seal) ? st_seal_kid(seal) : "none";
    const char *old = st_seal_old_kid(seal) ? st_seal_old_kid(seal) : "none";
    cm_log_error(why == ST_SEAL_UNKNOWN_KEY
                     ? "sealed with a key this store does not hold"
                     : "sealed value does not open",
                 "table=%s session=\"%s\" kid=%s key_kid=%s old_kid=%s", table,
                 session, kid, have, old);
    char *text =
        why == ST_SEAL_UNKNOWN_KEY
            ? cm_sprintf("device secrets are sealed with key id %s, which "
                         "this store-service does not hold (key %s, old "
                         "key %s): start it with that STORE_SECRET_KEY",
                         kid, have, old)
            : cm_sprintf("device secrets sealed with key id %s do not open: "
                         "altered or moved rows",
                         kid);
    cm_msg_t *reply = cm_msg_new_reply(request, 500, text);
    free(text);
    return reply;
}

static cm_msg_t *
s_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    PGresult *res = st_router_by_name(self, request, "st_device_get", &reply);
    if (!res) {
        return reply;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 404, "session not found");
    }
    const char *kid = st_db_text(res, 0, 2);
    json_t *creds = NULL;
    if (!kid) {
        creds = st_db_json(res, 0, 0); //  plaintext (or no row: null)
    } else {
        const st_seal_t *seal = st_router_seal(self);
        const char *name = cm_msg_str(request, "name");
        size_t ad_len = 0;
        char *ad = st_seal_ad(&ad_len, "device_creds", name, NULL);
        uint8_t *sealed = NULL;
        size_t sealed_len = 0;
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        int why = ST_SEAL_FORGED;
        const char *b64 = st_db_text(res, 0, 1);
        if (b64 &&
            cm_base64_decode(b64, ST_SEAL_MAX * 2, &sealed, &sealed_len) == 0) {
            why = st_seal_open(seal, kid, ad, ad_len, sealed, sealed_len,
                               &plain, &plain_len);
        }
        free(sealed);
        free(ad);
        if (why != ST_SEAL_OK) {
            reply = st_devices_sealed_fail(request, seal, "device_creds", name,
                                           kid, why);
            PQclear(res);
            return reply;
        }
        creds = json_loadb((const char *)plain, plain_len, 0, NULL);
        OPENSSL_cleanse(plain, plain_len);
        free(plain);
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "creds", creds ? creds : json_null());
    return reply;
}

cm_msg_t *
st_devices_begin(st_router_t *self, cm_msg_t *request,
                 const st_router_lease_t *lease)
{
    if (st_db_begin(st_router_db(self))) {
        return st_router_db_fail(self, request);
    }
    return st_devices_lock(self, request, lease);
}

cm_msg_t *
st_devices_lock(st_router_t *self, cm_msg_t *request,
                const st_router_lease_t *lease)
{
    st_db_t *db = st_router_db(self);
    const char *params[] = {lease->name};
    PGresult *res = st_db_exec(db, "st_device_lock", 1, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found) {
        st_db_rollback(db);
        return cm_msg_new_reply(request, 404, "session not found");
    }
    return st_leases_fence(self, request, lease);
}

static cm_msg_t *
s_put(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    json_t *creds = st_router_obj(request, "creds", true, &reply);
    if (!creds) {
        return reply;
    }
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        return reply;
    }
    st_db_t *db = st_router_db(self);
    char *text = json_dumps(creds, JSON_COMPACT);
    const st_seal_t *seal = st_router_seal(self);
    const char *kid = st_seal_kid(seal);
    char *sealed = NULL;
    if (kid) {
        size_t ad_len = 0;
        char *ad = st_seal_ad(&ad_len, "device_creds", lease.name, NULL);
        uint8_t *out = NULL;
        size_t out_len = 0;
        int rc = st_seal_close(seal, ad, ad_len, (const uint8_t *)text,
                               strlen(text), &out, &out_len);
        assert(rc == 0); //  a request is far below ST_SEAL_MAX
        sealed = cm_base64_encode(out, out_len);
        free(out);
        free(ad);
    }
    const char *params[] = {lease.name, kid ? NULL : text, sealed, kid};
    PGresult *res = st_db_exec(db, "st_device_put", 4, params);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    free(sealed);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    PQclear(res);
    if (st_db_commit(db)) {
        return st_router_db_fail(self, request);
    }
    return cm_msg_new_reply(request, 200, NULL);
}

static cm_msg_t *
s_clear(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", false, &lease, &reply)) {
        return reply;
    }
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        return reply;
    }
    st_db_t *db = st_router_db(self);
    const char *params[] = {lease.name};
    PGresult *res = st_db_exec(db, "st_device_clear", 1, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    bool cleared = PQntuples(res) > 0;
    PQclear(res);
    if (st_db_commit(db)) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_bool(reply, "cleared", cleared);
    return reply;
}

//  Open one stored value: plaintext when kid is NULL, else sealed (base64)
//  for the row `ad`. Returns the plaintext bytes (caller owns them, NUL
//  after *len) or NULL with *why set.
static uint8_t *
s_open_value(const st_seal_t *seal, const char *kid, const char *ad,
             size_t ad_len, const char *b64, size_t *len, int *why)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    *why = ST_SEAL_FORGED;
    if (!st_seal_knows(seal, kid) && kid) {
        *why = ST_SEAL_UNKNOWN_KEY;
        return NULL;
    }
    if (cm_base64_decode(b64 ? b64 : "", ST_SEAL_MAX * 2, &raw, &raw_len) !=
        0) {
        return NULL;
    }
    if (!kid) {
        uint8_t *plain = cm_alloc(raw_len + 1);
        if (raw_len) {
            memcpy(plain, raw, raw_len);
        }
        free(raw);
        *len = raw_len;
        *why = ST_SEAL_OK;
        return plain;
    }
    uint8_t *plain = NULL;
    *why = st_seal_open(seal, kid, ad, ad_len, raw, raw_len, &plain, len);
    free(raw);
    return plain;
}

//  Seal `plain` for row `ad` under the current key, as base64; NULL when
//  keyless (the row is then written in the clear).
static char *
s_seal_value(const st_seal_t *seal, const char *ad, size_t ad_len,
             const uint8_t *plain, size_t len)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (!st_seal_kid(seal) ||
        st_seal_close(seal, ad, ad_len, plain, len, &out, &out_len) != 0) {
        return NULL;
    }
    char *text = cm_base64_encode(out, out_len);
    free(out);
    return text;
}

//  Log a row that cannot be sealed again; true when that is fatal.
static bool
s_reseal_refused(const st_seal_t *seal, const char *table, const char *session,
                 const char *kid, int why)
{
    cm_msg_t *request = cm_msg_new("reseal");
    cm_msg_t *reply =
        st_devices_sealed_fail(request, seal, table, session, kid, why);
    if (why == ST_SEAL_UNKNOWN_KEY) {
        fprintf(stderr, "configuration error: STORE_SECRET_KEY: %s\n",
                cm_msg_reason(reply));
    }
    cm_msg_destroy(&reply);
    cm_msg_destroy(&request);
    return why == ST_SEAL_UNKNOWN_KEY;
}

//  One batch of device_creds rows after `last` (updated). Returns rows
//  seen, or ST_DEVICES_RESEAL_* (< 0).
static int
s_reseal_creds(st_db_t *db, const st_seal_t *seal, char **last, int64_t *count)
{
    const char *kid = st_seal_kid(seal);
    if (st_db_begin(db)) {
        return ST_DEVICES_RESEAL_DB;
    }
    const char *params[] = {kid, *last};
    PGresult *res = st_db_query(
        db,
        "SELECT session, encode(convert_to(creds::text, 'UTF8'), 'base64'), "
        "encode(sealed, 'base64'), kid FROM device_creds "
        "WHERE kid IS DISTINCT FROM $1::text AND session > $2 "
        "ORDER BY session LIMIT " S_XSTR(S_RESEAL_CREDS) " FOR UPDATE",
        2, params);
    if (!res) {
        st_db_rollback(db);
        return ST_DEVICES_RESEAL_DB;
    }
    int rows = PQntuples(res);
    int rc = rows;
    for (int i = 0; i < rows && rc >= 0; i++) {
        const char *session = st_db_text(res, i, 0);
        const char *row_kid = st_db_text(res, i, 3);
        char *b64 = cm_strdup(st_db_text(res, i, row_kid ? 2 : 1));
        //  encode() breaks base64 lines every 76 characters
        char *w = b64;
        for (const char *c = b64; *c; c++) {
            if (*c != '\n') {
                *w++ = *c;
            }
        }
        *w = 0;
        free(*last);
        *last = cm_strdup(session);
        size_t ad_len = 0;
        char *ad = st_seal_ad(&ad_len, "device_creds", session, NULL);
        size_t len = 0;
        int why = 0;
        uint8_t *plain =
            s_open_value(seal, row_kid, ad, ad_len, b64, &len, &why);
        free(b64);
        if (!plain) {
            if (s_reseal_refused(seal, "device_creds", session, row_kid, why)) {
                rc = ST_DEVICES_RESEAL_KEY;
            }
            free(ad);
            continue;
        }
        char *sealed = s_seal_value(seal, ad, ad_len, plain, len);
        const char *up[] = {session, kid ? NULL : (const char *)plain, sealed,
                            kid};
        PGresult *done = st_db_query(
            db,
            "UPDATE device_creds SET creds = $2::jsonb, "
            "sealed = decode($3, 'base64'), kid = $4 WHERE session = $1",
            4, up);
        OPENSSL_cleanse(plain, len);
        free(plain);
        free(sealed);
        free(ad);
        if (!done) {
            rc = ST_DEVICES_RESEAL_DB;
            break;
        }
        PQclear(done);
        (*count)++;
    }
    PQclear(res);
    if (rc < 0) {
        st_db_rollback(db);
        return rc;
    }
    return st_db_commit(db) ? ST_DEVICES_RESEAL_DB : rc;
}

//  The rows of a signal_keys batch sealed again, one UPDATE for all
#define S_RESEAL_SIGNAL_UPDATE                                                 \
    "UPDATE signal_keys s SET data = decode(v->>'data', 'base64'), "           \
    "kid = $2 FROM jsonb_array_elements($1::jsonb) v "                         \
    "WHERE s.session = v->>'session' AND s.kind = v->>'kind' "                 \
    "AND s.key_id = v->>'key'"
//  The rows of a message_secrets batch sealed again
#define S_RESEAL_SECRETS_UPDATE                                                \
    "UPDATE message_secrets m SET secret = v->>'secret', kid = $2 "            \
    "FROM jsonb_array_elements($1::jsonb) v "                                  \
    "WHERE m.session = v->>'session' AND m.id = v->>'id'"

//  Ends a batch of s_reseal_signal or s_reseal_secrets: writes `batch`
//  (a JSON array of rows, taken) under `kid` with `update`, then commits,
//  or rolls back when rc < 0. Returns rc, or ST_DEVICES_RESEAL_DB.
static int
s_reseal_batch_end(st_db_t *db, const char *update, const char *kid,
                   json_t **batch_p, int rc, int64_t *count)
{
    if (rc >= 0 && json_array_size(*batch_p) > 0) {
        char *text = cm_json_dumps(*batch_p, NULL);
        const char *up[] = {text, kid};
        PGresult *done = st_db_query(db, update, 2, up);
        free(text);
        if (done) {
            *count += atoll(PQcmdTuples(done));
            PQclear(done);
        } else {
            rc = ST_DEVICES_RESEAL_DB;
        }
    }
    json_decref(*batch_p);
    *batch_p = NULL;
    if (rc < 0) {
        st_db_rollback(db);
        return rc;
    }
    return st_db_commit(db) ? ST_DEVICES_RESEAL_DB : rc;
}

//  One batch of signal_keys rows after (session, kind, key_id) in
//  last[3] (updated). Returns rows seen, or ST_DEVICES_RESEAL_* (< 0).
static int
s_reseal_signal(st_db_t *db, const st_seal_t *seal, char *last[3],
                int64_t *count)
{
    const char *kid = st_seal_kid(seal);
    if (st_db_begin(db)) {
        return ST_DEVICES_RESEAL_DB;
    }
    const char *params[] = {kid, last[0], last[1], last[2]};
    PGresult *res =
        st_db_query(db,
                    "SELECT session, kind, key_id, "
                    "translate(encode(data, 'base64'), E'\\n', ''), kid "
                    "FROM signal_keys WHERE kid IS DISTINCT FROM $1::text "
                    "AND (session, kind, key_id) > ($2, $3, $4) "
                    "ORDER BY session, kind, key_id LIMIT " S_XSTR(
                        S_RESEAL_SIGNAL) " FOR UPDATE",
                    4, params);
    if (!res) {
        st_db_rollback(db);
        return ST_DEVICES_RESEAL_DB;
    }
    int rows = PQntuples(res);
    int rc = rows;
    json_t *batch = json_array();
    for (int i = 0; i < rows && rc >= 0; i++) {
        const char *session = st_db_text(res, i, 0);
        const char *kind = st_db_text(res, i, 1);
        const char *key = st_db_text(res, i, 2);
        const char *row_kid = st_db_text(res, i, 4);
        for (int k = 0; k < 3; k++) {
            free(last[k]);
            last[k] = cm_strdup(st_db_text(res, i, k));
        }
        size_t ad_len = 0;
        char *ad = st_seal_ad(&ad_len, "signal_keys", session, kind, key, NULL);
        size_t len = 0;
        int why = 0;
        uint8_t *plain = s_open_value(seal, row_kid, ad, ad_len,
                                      st_db_text(res, i, 3), &len, &why);
        if (!plain) {
            if (s_reseal_refused(seal, "signal_keys", session, row_kid, why)) {
                rc = ST_DEVICES_RESEAL_KEY;
            }
            free(ad);
            continue;
        }
        char *data = kid ? s_seal_value(seal, ad, ad_len, plain, len)
                         : cm_base64_encode(plain, len);
        OPENSSL_cleanse(plain, len);
        free(plain);
        free(ad);
        json_array_append_new(batch, json_pack("{s:s, s:s, s:s, s:s}",
                                               "session", session, "kind", kind,
                                               "key", key, "data", data));
        free(data);
    }
    PQclear(res);
    return s_reseal_batch_end(db, S_RESEAL_SIGNAL_UPDATE, kid, &batch, rc,
                              count);
}

//  One batch of message_secrets rows (poll and event secrets, st_kinds:
//  `secret` the base64 text, sealed as text) after (session, id) in
//  last[2] (updated). Returns rows seen, or ST_DEVICES_RESEAL_* (< 0).
static int
s_reseal_secrets(st_db_t *db, const st_seal_t *seal, char *last[2],
                 int64_t *count)
{
    const char *kid = st_seal_kid(seal);
    if (st_db_begin(db)) {
        return ST_DEVICES_RESEAL_DB;
    }
    const char *params[] = {kid, last[0], last[1]};
    PGresult *res = st_db_query(
        db,
        "SELECT session, id, secret, kid FROM message_secrets "
        "WHERE kid IS DISTINCT FROM $1::text AND (session, id) > ($2, $3) "
        "ORDER BY session, id LIMIT " S_XSTR(S_RESEAL_SECRETS) " FOR UPDATE",
        3, params);
    if (!res) {
        st_db_rollback(db);
        return ST_DEVICES_RESEAL_DB;
    }
    int rows = PQntuples(res);
    int rc = rows;
    json_t *batch = json_array();
    for (int i = 0; i < rows && rc >= 0; i++) {
        const char *session = st_db_text(res, i, 0);
        const char *id = st_db_text(res, i, 1);
        const char *stored = st_db_text(res, i, 2);
        const char *row_kid =
            PQgetisnull(res, i, 3) ? NULL : st_db_text(res, i, 3);
        for (int k = 0; k < 2; k++) {
            free(last[k]);
            last[k] = cm_strdup(st_db_text(res, i, k));
        }
        size_t ad_len = 0;
        char *ad = st_seal_ad(&ad_len, "message_secrets", session, id, NULL);
        int why = ST_SEAL_OK;
        char *text =
            row_kid ? st_seal_open_b64(seal, row_kid, ad, ad_len, stored, &why)
                    : cm_strdup(stored);
        if (!text) {
            if (s_reseal_refused(seal, "message_secrets", session, row_kid,
                                 why)) {
                rc = ST_DEVICES_RESEAL_KEY;
            }
            free(ad);
            continue;
        }
        char *value =
            kid ? st_seal_close_b64(seal, ad, ad_len, text) : cm_strdup(text);
        OPENSSL_cleanse(text, strlen(text));
        free(text);
        free(ad);
        if (value) {
            json_array_append_new(batch, json_pack("{s:s, s:s, s:s}", "session",
                                                   session, "id", id, "secret",
                                                   value));
            free(value);
        }
    }
    PQclear(res);
    return s_reseal_batch_end(db, S_RESEAL_SECRETS_UPDATE, kid, &batch, rc,
                              count);
}

int
st_devices_reseal(st_db_t *db, const st_seal_t *seal, int64_t *count)
{
    *count = 0;
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%lld)",
             (long long)ST_SEAL_LOCK_KEY);
    if (st_db_run(db, lock) != 0) {
        return ST_DEVICES_RESEAL_DB;
    }
    int rc = 0;
    char *last = cm_strdup("");
    while ((rc = s_reseal_creds(db, seal, &last, count)) == S_RESEAL_CREDS) {
    }
    free(last);
    char *keys[3] = {cm_strdup(""), cm_strdup(""), cm_strdup("")};
    while (rc >= 0 &&
           (rc = s_reseal_signal(db, seal, keys, count)) == S_RESEAL_SIGNAL) {
    }
    for (int k = 0; k < 3; k++) {
        free(keys[k]);
    }
    char *ids[2] = {cm_strdup(""), cm_strdup("")};
    while (rc >= 0 &&
           (rc = s_reseal_secrets(db, seal, ids, count)) == S_RESEAL_SECRETS) {
    }
    free(ids[0]);
    free(ids[1]);
    snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(%lld)",
             (long long)ST_SEAL_LOCK_KEY);
    if (st_db_connected(db)) {
        st_db_run(db, lock);
    }
    return rc < 0 ? rc : 0;
}

int
st_devices_register(st_router_t *r)
{
    st_router_prepare(r, "st_device_get",
                      "SELECT d.creds, "
                      "translate(encode(d.sealed, 'base64'), E'\\n', ''), "
                      "d.kid FROM sessions s LEFT JOIN device_creds "
                      "d ON d.session = s.name WHERE s.name = $1");
    st_router_prepare(r, "st_device_lock",
                      "SELECT 1 FROM sessions WHERE name = $1 FOR SHARE");
    //  Plaintext ($2) or sealed ($3, base64, under key $4)
    st_router_prepare(r, "st_device_put",
                      "INSERT INTO device_creds (session, creds, sealed, kid) "
                      "VALUES ($1, $2::jsonb, decode($3, 'base64'), $4) "
                      "ON CONFLICT (session) DO UPDATE "
                      "SET creds = EXCLUDED.creds, sealed = EXCLUDED.sealed, "
                      "kid = EXCLUDED.kid, updated_at = now()");
    st_router_prepare(r, "st_device_clear",
                      "WITH keys AS (DELETE FROM signal_keys "
                      "WHERE session = $1), "
                      "lids AS (DELETE FROM lid_map WHERE session = $1) "
                      "DELETE FROM device_creds WHERE session = $1 "
                      "RETURNING session");
    st_router_add(r, "device.get", 1, s_get, ST_ROUTER_DB);
    st_router_add(r, "device.put", 1, s_put, ST_ROUTER_DB);
    st_router_add(r, "device.clear", 1, s_clear, ST_ROUTER_DB);
    return 0;
}

void
st_devices_test(bool verbose)
{
    printf(" * st_devices: ");
    //  Without a database every handler answers 503 and nothing crashes
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_devices_register(r) == 0);
    const char *types[] = {"device.get", "device.put", "device.clear", NULL};
    for (int i = 0; types[i]; i++) {
        assert(st_router_status(r, types[i], "{\"name\":\"x\"}") == 503);
    }
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
