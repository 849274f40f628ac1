/*  st_ratelimits - the `ratelimit` message family: sessions' send policies

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#define S_COLUMNS                                                              \
    "r.session, r.policy, r.limits::text, "                                    \
    "(extract(epoch FROM r.updated_at) * 1000)::bigint"

//  One row as the bus carries it (columns from `first`). Caller owns.
static json_t *
s_row(PGresult *res, int i)
{
    json_t *limits = json_loads(st_db_text(res, i, 2), 0, NULL);
    return json_pack("{s:s, s:s, s:o, s:I}", "session", st_db_text(res, i, 0),
                     "policy", st_db_text(res, i, 1), "limits",
                     limits ? limits : json_object(), "updatedAt",
                     (json_int_t)atoll(st_db_text(res, i, 3)));
}

static cm_msg_t *
s_set(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *session =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    const char *policy =
        session
            ? st_router_str(request, "policy", ST_RATELIMITS_POLICY_MAX, &reply)
            : NULL;
    if (!policy) {
        return reply;
    }
    json_t *limits = st_router_obj(request, "limits", false, &reply);
    if (reply) {
        return reply;
    }
    char *text = limits ? cm_json_dumps(limits, NULL) : cm_strdup("{}");
    if (strlen(text) > ST_RATELIMITS_LIMITS_MAX) {
        free(text);
        return cm_msg_new_reply(request, 400, "field 'limits' is too large");
    }
    const char *p[] = {session, policy, text};
    PGresult *res = st_db_exec(st_router_db(self), "st_ratelimit_set", 3, p);
    free(text);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 404, "no such session");
    }
    json_t *row = s_row(res, 0);
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_body(reply, &row);
    return reply;
}

static cm_msg_t *
s_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *session =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (!session) {
        return reply;
    }
    const char *p[] = {session};
    PGresult *res = st_db_exec(st_router_db(self), "st_ratelimit_get", 1, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *row = PQntuples(res) ? s_row(res, 0) : json_null();
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "policy", row);
    return reply;
}

static cm_msg_t *
s_clear(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *session =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (!session) {
        return reply;
    }
    const char *p[] = {session};
    PGresult *res = st_db_exec(st_router_db(self), "st_ratelimit_clear", 1, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    PQclear(res);
    return cm_msg_new_reply(request, 200, NULL);
}

static cm_msg_t *
s_list(st_router_t *self, cm_msg_t *request)
{
    PGresult *res =
        st_db_exec(st_router_db(self), "st_ratelimit_list", 0, NULL);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *row = s_row(res, i);
        json_object_set_new(row, "instance_id",
                            json_string(st_db_text(res, i, 4)));
        json_object_set_new(row, "access_token_hash",
                            PQgetisnull(res, i, 5)
                                ? json_null()
                                : json_string(st_db_text(res, i, 5)));
        json_array_append_new(list, row);
    }
    PQclear(res);
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "policies", list);
    return reply;
}

int
st_ratelimits_register(st_router_t *r)
{
    //  No row when the session does not exist (404)
    st_router_prepare(
        r, "st_ratelimit_set",
        "INSERT INTO session_rate_limits AS r (session, policy, limits) "
        "SELECT name, $2, $3::jsonb FROM sessions WHERE name = $1 "
        "ON CONFLICT (session) DO UPDATE SET policy = EXCLUDED.policy, "
        "limits = EXCLUDED.limits, updated_at = now() RETURNING " S_COLUMNS);
    st_router_prepare(r, "st_ratelimit_get",
                      "SELECT " S_COLUMNS
                      " FROM session_rate_limits r WHERE r.session = $1");
    st_router_prepare(r, "st_ratelimit_clear",
                      "DELETE FROM session_rate_limits WHERE session = $1");
    st_router_prepare(r, "st_ratelimit_list",
                      "SELECT " S_COLUMNS
                      ", s.instance_id, s.access_token_hash "
                      "FROM session_rate_limits r JOIN sessions s "
                      "ON s.name = r.session ORDER BY r.session");
    st_router_add(r, "ratelimit.set", 1, s_set, ST_ROUTER_DB);
    st_router_add(r, "ratelimit.get", 1, s_get, ST_ROUTER_DB);
    st_router_add(r, "ratelimit.clear", 1, s_clear, ST_ROUTER_DB);
    st_router_add(r, "ratelimit.list", 1, s_list, ST_ROUTER_DB);
    return 0;
}

void
st_ratelimits_test(bool verbose)
{
    printf(" * st_ratelimits: ");
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_ratelimits_register(r) == 0);
    //  Checked before any database work
    assert(st_router_call_status(r, s_set, "{\"policy\":\"strict\"}") == 400);
    assert(st_router_call_status(r, s_set, "{\"session\":\"s\"}") == 400);
    assert(st_router_call_status(r, s_set,
                                 "{\"session\":\"s\",\"policy\":\"strict\","
                                 "\"limits\":[1]}") == 400);
    assert(st_router_call_status(r, s_set,
                                 "{\"session\":\"s\",\"policy\":"
                                 "\"0123456789012345678901234567890123\"}") ==
           400);
    char *big = cm_sprintf("{\"session\":\"s\",\"policy\":\"custom\","
                           "\"limits\":{\"x\":\"%01100d\"}}",
                           0);
    assert(st_router_call_status(r, s_set, big) == 400);
    free(big);
    assert(st_router_call_status(r, s_get, "{}") == 400);
    assert(st_router_call_status(r, s_clear, "{\"session\":1}") == 400);
    //  Without a database the handlers answer 503
    assert(st_router_status(r, "ratelimit.list", "{}") == 503);
    assert(st_router_status(r, "ratelimit.get", "{\"session\":\"s\"}") == 503);
    assert(st_router_status(r, "ratelimit.set",
                            "{\"session\":\"s\",\"policy\":\"strict\"}") ==
           503);
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
