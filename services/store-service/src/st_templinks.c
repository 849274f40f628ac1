/*  st_templinks - the `templink` message family: temporary QR links

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#define S_COLUMNS                                                              \
    "t.session, s.instance_id, CASE WHEN t.revoked_at IS NOT NULL THEN "       \
    "'revoked' WHEN t.expires_at <= now() THEN 'expired' ELSE 'active' END, "  \
    "(extract(epoch FROM t.created_at) * 1000)::bigint, "                      \
    "(extract(epoch FROM t.expires_at) * 1000)::bigint, "                      \
    "(extract(epoch FROM t.revoked_at) * 1000)::bigint"

//  One row as the bus carries it. Caller owns return value.
static json_t *
s_row(PGresult *res, int i)
{
    json_t *revoked =
        PQgetisnull(res, i, 5)
            ? json_null()
            : json_integer((json_int_t)atoll(st_db_text(res, i, 5)));
    return json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:o}", "session", st_db_text(res, i, 0),
        "instance_id", st_db_text(res, i, 1), "state", st_db_text(res, i, 2),
        "createdAt", (json_int_t)atoll(st_db_text(res, i, 3)), "expiresAt",
        (json_int_t)atoll(st_db_text(res, i, 4)), "revokedAt", revoked);
}

//  Reply with the first row as the body, 404 `none` when there is none.
static cm_msg_t *
s_reply_row(cm_msg_t *request, PGresult *res, const char *none)
{
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 404, none);
    }
    json_t *row = s_row(res, 0);
    PQclear(res);
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_body(reply, &row);
    return reply;
}

//  Reply {link: the first row or null}.
static cm_msg_t *
s_reply_link(cm_msg_t *request, PGresult *res)
{
    json_t *row = PQntuples(res) ? s_row(res, 0) : json_null();
    PQclear(res);
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "link", row);
    return reply;
}

//  A 64-hex-digit hash field, or NULL after a 400.
static const char *
s_hash(cm_msg_t *request, cm_msg_t **reply_p)
{
    const char *hash = st_router_str(request, "hash", 64, reply_p);
    if (hash && (strlen(hash) != 64 ||
                 strspn(hash, "0123456789abcdef") != strlen(hash))) {
        *reply_p = cm_msg_new_reply(request, 400,
                                    "field 'hash' must be 64 lower-case hex "
                                    "digits");
        return NULL;
    }
    return hash;
}

static cm_msg_t *
s_create(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *session =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    const char *hash = session ? s_hash(request, &reply) : NULL;
    int64_t ttl = 0;
    if (!hash || st_router_int(request, "ttl_ms", 1000, ST_TEMPLINKS_TTL_MAX,
                               true, 0, &ttl, &reply) != 0) {
        return reply;
    }
    char ttl_text[24];
    snprintf(ttl_text, sizeof ttl_text, "%" PRId64, ttl);
    const char *p[] = {session, hash, ttl_text};
    PGresult *res = st_db_exec(st_router_db(self), "st_templink_create", 3, p);
    if (!res) {
        //  The unique hash (another session's link): a 23505
        return st_router_db_fail(self, request);
    }
    return s_reply_row(request, res, "no such session");
}

static cm_msg_t *
s_by_session(st_router_t *self, cm_msg_t *request, const char *stmt)
{
    cm_msg_t *reply = NULL;
    const char *session =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (!session) {
        return reply;
    }
    const char *p[] = {session};
    PGresult *res = st_db_exec(st_router_db(self), stmt, 1, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    return s_reply_link(request, res);
}

static cm_msg_t *
s_get(st_router_t *self, cm_msg_t *request)
{
    return s_by_session(self, request, "st_templink_get");
}

static cm_msg_t *
s_revoke(st_router_t *self, cm_msg_t *request)
{
    return s_by_session(self, request, "st_templink_revoke");
}

static cm_msg_t *
s_resolve(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *hash = s_hash(request, &reply);
    if (!hash) {
        return reply;
    }
    const char *p[] = {hash};
    PGresult *res = st_db_exec(st_router_db(self), "st_templink_resolve", 1, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    return s_reply_row(request, res, "no such link");
}

int
st_templinks_register(st_router_t *r)
{
    //  No row when the session does not exist (404)
    st_router_prepare(
        r, "st_templink_create",
        "WITH t AS (INSERT INTO temp_links (session, token_hash, expires_at) "
        "SELECT name, $2, now() + $3::bigint * interval '1 millisecond' "
        "FROM sessions WHERE name = $1 "
        "ON CONFLICT (session) DO UPDATE SET token_hash = EXCLUDED.token_hash, "
        "created_at = now(), expires_at = EXCLUDED.expires_at, "
        "revoked_at = NULL RETURNING *) "
        "SELECT " S_COLUMNS " FROM t JOIN sessions s ON s.name = t.session");
    st_router_prepare(r, "st_templink_get",
                      "SELECT " S_COLUMNS " FROM temp_links t JOIN sessions s "
                      "ON s.name = t.session WHERE t.session = $1");
    st_router_prepare(
        r, "st_templink_revoke",
        "WITH t AS (UPDATE temp_links SET revoked_at = coalesce(revoked_at, "
        "now()) WHERE session = $1 RETURNING *) "
        "SELECT " S_COLUMNS " FROM t JOIN sessions s ON s.name = t.session");
    st_router_prepare(r, "st_templink_resolve",
                      "SELECT " S_COLUMNS " FROM temp_links t JOIN sessions s "
                      "ON s.name = t.session WHERE t.token_hash = $1");
    st_router_add(r, "templink.create", 1, s_create, ST_ROUTER_DB);
    st_router_add(r, "templink.get", 1, s_get, ST_ROUTER_DB);
    st_router_add(r, "templink.revoke", 1, s_revoke, ST_ROUTER_DB);
    st_router_add(r, "templink.resolve", 1, s_resolve, ST_ROUTER_DB);
    return 0;
}

void
st_templinks_test(bool verbose)
{
    printf(" * st_templinks: ");
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_templinks_register(r) == 0);
    const char *h = "0123456789abcdef0123456789abcdef"
                    "0123456789abcdef0123456789abcdef";
    char *ok =
        cm_sprintf("{\"session\":\"s\",\"hash\":\"%s\",\"ttl_ms\":600000}", h);
    //  Checked before any database work
    assert(st_router_call_status(r, s_create,
                                 "{\"hash\":\"ab\",\"ttl_ms\":1000}") == 400);
    char *bad = cm_sprintf("{\"session\":\"s\",\"hash\":\"%s\"}", h);
    assert(st_router_call_status(r, s_create, bad) == 400); //  no ttl
    free(bad);
    bad = cm_sprintf("{\"session\":\"s\",\"hash\":\"%s\",\"ttl_ms\":999}", h);
    assert(st_router_call_status(r, s_create, bad) == 400);
    free(bad);
    bad = cm_sprintf("{\"session\":\"s\",\"hash\":\"%s\",\"ttl_ms\":86400001}",
                     h);
    assert(st_router_call_status(r, s_create, bad) == 400);
    free(bad);
    assert(st_router_call_status(r, s_resolve, "{\"hash\":\"ABCDEF\"}") == 400);
    bad = cm_sprintf("{\"hash\":\"%.63sX\"}", h);
    assert(st_router_call_status(r, s_resolve, bad) == 400); //  not hex
    free(bad);
    assert(st_router_call_status(r, s_get, "{}") == 400);
    assert(st_router_call_status(r, s_revoke, "{\"session\":7}") == 400);
    //  Without a database the handlers answer 503
    assert(st_router_status(r, "templink.create", ok) == 503);
    assert(st_router_status(r, "templink.get", "{\"session\":\"s\"}") == 503);
    free(ok);
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
