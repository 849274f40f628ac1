/*  st_kinds - stored messages by id, edits, poll and event secrets

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#include <openssl/crypto.h>

//  Longest message id accepted.
#define S_ID_MAX 512

//  True if `id` is a bare stanza id (letters and digits only).
static bool
s_bare(const char *id)
{
    for (const char *p = id; *p; p++) {
        if (!isalnum((unsigned char)*p)) {
            return false;
        }
    }
    return *id != 0;
}

static cm_msg_t *
s_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    const char *id =
        name ? st_router_str(request, "id", S_ID_MAX, &reply) : NULL;
    if (!id) {
        return reply;
    }
    const char *p[] = {name, id, s_bare(id) ? "t" : "f"};
    PGresult *res = st_db_exec(st_router_db(self), "st_kinds_get", 3, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *m = PQntuples(res) > 0 ? st_db_json(res, 0, 0) : NULL;
    PQclear(res);
    if (!m) {
        reply = cm_msg_new_reply(request, 404, "Message not found");
        cm_msg_set_str(reply, "missing", "message");
        return reply;
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "message", m);
    return reply;
}

static cm_msg_t *
s_edit(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    const char *id = st_router_str(request, "id", S_ID_MAX, &reply);
    const char *body =
        id ? st_router_str(request, "body", ST_KINDS_BODY_MAX, &reply) : NULL;
    if (!body) {
        return reply;
    }
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        return reply;
    }
    st_db_t *db = st_router_db(self);
    const char *p[] = {lease.name, id, body};
    PGresult *res = st_db_exec(db, "st_kinds_edit", 3, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    bool edited = atoll(PQcmdTuples(res)) > 0;
    PQclear(res);
    if (st_db_commit(db)) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_bool(reply, "edited", edited);
    return reply;
}

static cm_msg_t *
s_secret_put(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    const char *id = st_router_str(request, "id", S_ID_MAX, &reply);
    const char *secret =
        id ? st_router_str(request, "secret", 128, &reply) : NULL;
    json_t *info = secret ? st_router_obj(request, "info", true, &reply) : NULL;
    if (!info) {
        return reply;
    }
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    if (cm_base64_decode(secret, 128, &raw, &raw_len) != 0 || raw_len != 32) {
        free(raw);
        return cm_msg_new_reply(request, 400,
                                "field 'secret' must be the base64 of 32 "
                                "bytes");
    }
    free(raw);
    char *info_text = cm_json_dumps(info, NULL);
    if (!info_text || strlen(info_text) > ST_KINDS_INFO_MAX) {
        free(info_text);
        return cm_msg_new_reply(request, 400,
                                "field 'info' is too large or not text");
    }
    const st_seal_t *seal = st_router_seal(self);
    const char *kid = st_seal_kid(seal);
    char *sealed = NULL;
    if (kid) {
        size_t ad_len = 0;
        char *ad = st_seal_ad(&ad_len, "message_secrets", lease.name, id, NULL);
        sealed = st_seal_close_b64(seal, ad, ad_len, secret);
        free(ad);
        assert(sealed); //  checked base64 above
    }
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        free(sealed);
        free(info_text);
        return reply;
    }
    st_db_t *db = st_router_db(self);
    const char *p[] = {lease.name, id, sealed ? sealed : secret, kid,
                       info_text};
    PGresult *res = st_db_exec(db, "st_kinds_secret_put", 5, p);
    free(sealed);
    free(info_text);
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
s_secret_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    const char *id =
        name ? st_router_str(request, "id", S_ID_MAX, &reply) : NULL;
    if (!id) {
        return reply;
    }
    const char *p[] = {name, id};
    PGresult *res = st_db_exec(st_router_db(self), "st_kinds_secret_get", 2, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        reply = cm_msg_new_reply(request, 404, "no secret for that message");
        cm_msg_set_str(reply, "missing", "secret");
        return reply;
    }
    const char *stored = st_db_text(res, 0, 0);
    const char *kid = PQgetisnull(res, 0, 1) ? NULL : st_db_text(res, 0, 1);
    json_t *info = st_db_json(res, 0, 2);
    char *secret = NULL;
    if (kid) {
        size_t ad_len = 0;
        char *ad = st_seal_ad(&ad_len, "message_secrets", name, id, NULL);
        secret = st_seal_open_b64(st_router_seal(self), kid, ad, ad_len, stored,
                                  NULL);
        free(ad);
    } else {
        secret = cm_strdup(stored);
    }
    PQclear(res);
    if (!secret) {
        json_decref(info);
        cm_log_error("could not open a message secret", "session=\"%s\"", name);
        return cm_msg_new_reply(request, 500,
                                "the stored secret does not open");
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_str(reply, "secret", secret);
    cm_msg_set(reply, "info", info ? info : json_object());
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    return reply;
}

int
st_kinds_register(st_router_t *r)
{
    //  A WAHA id names its row; a bare stanza id the newest row whose id
    //  ends with it or carries it before a participant
    st_router_prepare(
        r, "st_kinds_get",
        "SELECT CASE WHEN ack_name IS NULL THEN payload ELSE "
        "(payload::jsonb || jsonb_build_object('ack', ack, 'ackName', "
        "ack_name))::json END FROM messages WHERE session = $1 AND "
        "(id = $2 OR ($3::boolean AND (id LIKE '%\\_' || $2 OR "
        "id LIKE '%\\_' || $2 || '\\_%'))) "
        "ORDER BY (id = $2) DESC, ts DESC LIMIT 1");
    st_router_prepare(
        r, "st_kinds_edit",
        "UPDATE messages SET body = $3, payload = jsonb_set(payload::jsonb, "
        "'{body}', to_jsonb($3::text))::json WHERE session = $1 AND id = $2");
    st_router_prepare(
        r, "st_kinds_secret_put",
        "INSERT INTO message_secrets (session, id, secret, kid, info) "
        "VALUES ($1, $2, $3, $4, $5::json) ON CONFLICT (session, id) DO "
        "UPDATE SET secret = EXCLUDED.secret, kid = EXCLUDED.kid, info = "
        "EXCLUDED.info");
    st_router_prepare(r, "st_kinds_secret_get",
                      "SELECT secret, kid, info FROM message_secrets WHERE "
                      "session = $1 AND id = $2");
    st_router_add(r, "message.get", 1, s_get, ST_ROUTER_DB);
    st_router_add(r, "message.edit", 1, s_edit, ST_ROUTER_DB);
    st_router_add(r, "message.secret_put", 1, s_secret_put, ST_ROUTER_DB);
    st_router_add(r, "message.secret_get", 1, s_secret_get, ST_ROUTER_DB);
    return 0;
}

//  --------------------------------------------------------------------

typedef cm_msg_t *(*cm_handler_t)(st_router_t *, cm_msg_t *);

void
st_kinds_test(bool verbose)
{
    printf(" * st_kinds: ");
    cm_log_init(NULL, "error");
    assert(s_bare("3EB0ABC"));
    assert(!s_bare("true_1@c.us_3EB0"));
    assert(!s_bare("a%b"));
    assert(!s_bare(""));
    //  Without a database every handler answers 503
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_kinds_register(r) == 0);
    const char *types[] = {"message.get", "message.edit", "message.secret_put",
                           "message.secret_get", NULL};
    for (int i = 0; types[i]; i++) {
        assert(st_router_has(r, types[i]));
        assert(st_router_status(r, types[i], NULL) == 503);
    }
    //  Bad input is refused before any database work
    struct {
        cm_handler_t fn;
        const char *body;
    } bad[] = {{s_get, "{\"session\":\"s\"}"},
               {s_secret_get, "{\"id\":\"X\"}"},
               {s_edit, "{\"name\":\"s\",\"worker\":\"w\",\"epoch\":1,"
                        "\"id\":\"X\"}"},
               {s_secret_put, "{\"name\":\"s\",\"worker\":\"w\",\"epoch\":1,"
                              "\"id\":\"X\",\"secret\":\"AA==\",\"info\":{}}"},
               {s_secret_put, "{\"name\":\"s\",\"worker\":\"w\",\"epoch\":1,"
                              "\"id\":\"X\",\"secret\":\"AA==\"}"},
               {NULL, NULL}};
    for (int i = 0; bad[i].fn; i++) {
        cm_msg_t *req = cm_msg_new("x");
        json_t *body = json_loads(bad[i].body, 0, NULL);
        assert(body);
        cm_msg_set_body(req, &body);
        cm_msg_t *reply = bad[i].fn(r, req);
        assert(reply && cm_msg_status(reply) == 400);
        cm_msg_destroy(&reply);
        cm_msg_destroy(&req);
    }
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
