/*  st_lids - the `lid` message family: a session's LID <-> phone number
    map

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

//  Digits of a user part at most.
#define S_DIGITS_MAX 20

bool
st_lids_digits(const char *text, bool lid, char *out, size_t size)
{
    if (!text || size < S_DIGITS_MAX + 1) {
        return false;
    }
    const char *at = strchr(text, '@');
    size_t end = at ? (size_t)(at - text) : strlen(text);
    if (at) {
        const char *server = at + 1;
        bool ok = lid ? cm_streq(server, "lid")
                      : (cm_streq(server, "c.us") ||
                         cm_streq(server, "s.whatsapp.net"));
        if (!ok) {
            return false;
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < end; i++) {
        char ch = text[i];
        if (ch >= '0' && ch <= '9') {
            if (n == S_DIGITS_MAX) {
                return false;
            }
            out[n++] = ch;
        } else if (lid || at || !(ch == '+' && i == 0)) {
            //  A bare number may start with '+'; nothing else is allowed
            return false;
        }
    }
    out[n] = 0;
    return n > 0;
}

//  The pairs of a lid.put as [{lid, pn}] in digits, or NULL with *reply_p
//  set to a 400 naming the bad entry.
static json_t *
s_pairs(cm_msg_t *request, cm_msg_t **reply_p)
{
    json_t *pairs = json_object_get(cm_msg_body(request), "pairs");
    if (!json_is_array(pairs) || json_array_size(pairs) == 0 ||
        json_array_size(pairs) > ST_LIDS_PUT_MAX) {
        char *why = cm_sprintf("field 'pairs' must be an array of 1..%d pairs",
                               ST_LIDS_PUT_MAX);
        *reply_p = cm_msg_new_reply(request, 400, why);
        free(why);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *pair;
    json_array_foreach(pairs, i, pair)
    {
        const char *lid = json_string_value(json_object_get(pair, "lid"));
        const char *pn = json_string_value(json_object_get(pair, "pn"));
        char l[S_DIGITS_MAX + 1], p[S_DIGITS_MAX + 1];
        if (!lid || !strchr(lid, '@') ||
            !st_lids_digits(lid, true, l, sizeof l) || !pn ||
            !strchr(pn, '@') || !st_lids_digits(pn, false, p, sizeof p)) {
            char *why = cm_sprintf("pairs[%zu]: lid must be \"<digits>@lid\" "
                                   "and pn \"<digits>@c.us\"",
                                   i);
            *reply_p = cm_msg_new_reply(request, 400, why);
            free(why);
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, json_pack("{s:s, s:s}", "lid", l, "pn", p));
    }
    return out;
}

//  One pair as the bus carries it. Caller owns return value.
static json_t *
s_pair_json(const char *lid, const char *pn)
{
    char l[S_DIGITS_MAX + 8], p[S_DIGITS_MAX + 8];
    snprintf(l, sizeof l, "%s@lid", lid);
    snprintf(p, sizeof p, "%s@c.us", pn);
    return json_pack("{s:s, s:s}", "lid", l, "pn", p);
}

static cm_msg_t *
s_put(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    json_t *pairs = s_pairs(request, &reply);
    if (!pairs) {
        return reply;
    }
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        json_decref(pairs);
        return reply;
    }
    st_db_t *db = st_router_db(self);
    char *text = cm_json_dumps(pairs, NULL);
    json_decref(pairs);
    const char *params[] = {lease.name, text};
    PGresult *drop = st_db_exec(db, "st_lid_drop", 2, params);
    PGresult *put = drop ? st_db_exec(db, "st_lid_upsert", 2, params) : NULL;
    free(text);
    if (!drop || !put) {
        if (drop) {
            PQclear(drop);
        }
        return st_router_db_fail(self, request);
    }
    int64_t written = atoll(PQcmdTuples(put));
    PQclear(drop);
    PQclear(put);
    if (st_db_commit(db)) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "written", written);
    return reply;
}

static cm_msg_t *
s_list(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    int64_t limit = 0, offset = 0;
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (!name ||
        st_router_int(request, "limit", 1, ST_LIDS_LIST_MAX, false,
                      ST_LIDS_LIST_DEFAULT, &limit, &reply) ||
        st_router_int(request, "offset", 0, INT32_MAX, false, 0, &offset,
                      &reply)) {
        return reply;
    }
    char limit_s[24], offset_s[24];
    snprintf(limit_s, sizeof limit_s, "%" PRId64, limit);
    snprintf(offset_s, sizeof offset_s, "%" PRId64, offset);
    const char *p[] = {name, limit_s, offset_s};
    PGresult *res = st_db_exec(st_router_db(self), "st_lid_list", 3, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *lids = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_array_append_new(
            lids, s_pair_json(st_db_text(res, i, 0), st_db_text(res, i, 1)));
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "lids", lids);
    return reply;
}

static cm_msg_t *
s_count(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (!name) {
        return reply;
    }
    const char *p[] = {name};
    PGresult *res = st_db_exec(st_router_db(self), "st_lid_count", 1, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    int64_t count = PQntuples(res) ? atoll(st_db_text(res, 0, 0)) : 0;
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "count", count);
    return reply;
}

static cm_msg_t *
s_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    const char *lid =
        name ? st_router_opt_str(request, "lid", 64, &reply) : NULL;
    const char *pn =
        name && !reply ? st_router_opt_str(request, "pn", 64, &reply) : NULL;
    if (!name || reply) {
        return reply;
    }
    if (!lid == !pn) {
        return cm_msg_new_reply(request, 400, "give one of 'lid' and 'pn'");
    }
    char digits[S_DIGITS_MAX + 1];
    if (!st_lids_digits(lid ? lid : pn, lid != NULL, digits, sizeof digits)) {
        return cm_msg_new_reply(request, 400,
                                lid ? "field 'lid' is not a LID"
                                    : "field 'pn' is not a phone number");
    }
    const char *p[] = {name, digits};
    PGresult *res = st_db_exec(st_router_db(self),
                               lid ? "st_lid_by_lid" : "st_lid_by_pn", 2, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 404, "no such pair");
    }
    json_t *pair = s_pair_json(st_db_text(res, 0, 0), st_db_text(res, 0, 1));
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_body(reply, &pair);
    return reply;
}

//  The last pair per LID, then per number, of the batch in $2.
#define S_LAST_PAIRS                                                           \
    "(SELECT DISTINCT ON (pn) lid, pn FROM "                                   \
    "(SELECT DISTINCT ON (e.v->>'lid') e.v->>'lid' AS lid, "                   \
    "e.v->>'pn' AS pn, e.ord FROM jsonb_array_elements($2::jsonb) "            \
    "WITH ORDINALITY AS e(v, ord) ORDER BY e.v->>'lid', e.ord DESC) by_lid "   \
    "ORDER BY pn, ord DESC) b"

int
st_lids_register(st_router_t *r)
{
    //  The old pairs of the batch's numbers and LIDs that the batch
    //  changes go first, so the upsert never hits the unique number
    st_router_prepare(r, "st_lid_drop",
                      "DELETE FROM lid_map m USING " S_LAST_PAIRS
                      " WHERE m.session = $1 AND ((m.pn = b.pn AND "
                      "m.lid <> b.lid) OR (m.lid = b.lid AND m.pn <> b.pn))");
    st_router_prepare(r, "st_lid_upsert",
                      "INSERT INTO lid_map (session, lid, pn) "
                      "SELECT $1, lid, pn FROM " S_LAST_PAIRS
                      " ON CONFLICT (session, lid) DO NOTHING");
    st_router_prepare(r, "st_lid_list",
                      "SELECT lid, pn FROM lid_map WHERE session = $1 "
                      "ORDER BY lid LIMIT $2::bigint OFFSET $3::bigint");
    st_router_prepare(r, "st_lid_count",
                      "SELECT count(*) FROM lid_map WHERE session = $1");
    st_router_prepare(r, "st_lid_by_lid",
                      "SELECT lid, pn FROM lid_map "
                      "WHERE session = $1 AND lid = $2");
    st_router_prepare(r, "st_lid_by_pn",
                      "SELECT lid, pn FROM lid_map "
                      "WHERE session = $1 AND pn = $2");
    st_router_add(r, "lid.put", 1, s_put, ST_ROUTER_DB);
    st_router_add(r, "lid.list", 1, s_list, ST_ROUTER_DB);
    st_router_add(r, "lid.count", 1, s_count, ST_ROUTER_DB);
    st_router_add(r, "lid.get", 1, s_get, ST_ROUTER_DB);
    return 0;
}

void
st_lids_test(bool verbose)
{
    printf(" * st_lids: ");
    cm_log_init(NULL, "error");
    char d[S_DIGITS_MAX + 1];
    assert(st_lids_digits("123@lid", true, d, sizeof d) && cm_streq(d, "123"));
    assert(st_lids_digits("123", true, d, sizeof d) && cm_streq(d, "123"));
    assert(!st_lids_digits("123@c.us", true, d, sizeof d));
    assert(!st_lids_digits("+123", true, d, sizeof d));
    assert(st_lids_digits("+1555", false, d, sizeof d) && cm_streq(d, "1555"));
    assert(st_lids_digits("1555@c.us", false, d, sizeof d));
    assert(st_lids_digits("1555@s.whatsapp.net", false, d, sizeof d));
    assert(!st_lids_digits("1555@lid", false, d, sizeof d));
    assert(!st_lids_digits("+1555@c.us", false, d, sizeof d));
    assert(!st_lids_digits("15-55", false, d, sizeof d));
    assert(!st_lids_digits("", false, d, sizeof d));
    assert(!st_lids_digits("@c.us", false, d, sizeof d));
    assert(!st_lids_digits("123456789012345678901", false, d, sizeof d));
    assert(!st_lids_digits("1", false, d, 4)); //  no room
    assert(!st_lids_digits(NULL, false, d, sizeof d));

    //  Pairs are checked before any database work
    cm_msg_t *req = cm_msg_new("lid.put");
    cm_msg_t *reply = NULL;
    cm_msg_set(req, "pairs",
               json_pack("[{s:s, s:s}]", "lid", "111@lid", "pn", "1555@c.us"));
    json_t *pairs = s_pairs(req, &reply);
    assert(pairs && !reply);
    assert(cm_streq(
        json_string_value(json_object_get(json_array_get(pairs, 0), "lid")),
        "111"));
    json_decref(pairs);
    const char *bad[] = {"[]",
                         "[{\"lid\":\"111\",\"pn\":\"1555@c.us\"}]",
                         "[{\"lid\":\"111@lid\",\"pn\":\"1555\"}]",
                         "[{\"lid\":\"111@lid\"}]",
                         "{}",
                         "[5]",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        cm_msg_set(req, "pairs", json_loads(bad[i], 0, NULL));
        assert(s_pairs(req, &reply) == NULL);
        assert(reply && cm_msg_status(reply) == 400);
        cm_msg_destroy(&reply);
    }
    cm_msg_destroy(&req);

    //  Without a database the handlers answer 503
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_lids_register(r) == 0);
    const char *types[] = {"lid.put", "lid.list", "lid.count", "lid.get", NULL};
    for (int i = 0; types[i]; i++) {
        assert(st_router_status(r, types[i],
                                "{\"session\":\"x\",\"name\":\"x\","
                                "\"worker\":\"w\","
                                "\"epoch\":1,\"lid\":\"1@lid\"}") == 503);
    }
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
