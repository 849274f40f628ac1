/*  st_leases - the `lease` message family: which worker runs a session

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

cm_msg_t *
st_leases_fence(st_router_t *r, cm_msg_t *request,
                const st_router_lease_t *lease)
{
    if (!lease->worker) {
        return NULL;
    }
    char epoch_s[24];
    snprintf(epoch_s, sizeof epoch_s, "%" PRId64, lease->epoch);
    const char *params[] = {lease->name, lease->worker, epoch_s};
    PGresult *res = st_db_exec(st_router_db(r), "st_lease_check", 3, params);
    if (!res) {
        return st_router_db_fail(r, request);
    }
    bool held = PQntuples(res) > 0;
    PQclear(res);
    if (!held) {
        st_db_rollback(st_router_db(r));
        return cm_msg_new_reply(request, 409, "lease not held");
    }
    return NULL;
}

//  Read worker and ttl_ms, common to claim and renew.
static int
s_worker_ttl(cm_msg_t *request, const char **worker, char *ttl_s, size_t size,
             cm_msg_t **reply_p)
{
    *worker = st_router_str(request, "worker", ST_ROUTER_NAME_MAX, reply_p);
    int64_t ttl = 0;
    if (!*worker || st_router_int(request, "ttl_ms", ST_LEASES_TTL_MIN,
                                  ST_LEASES_TTL_MAX, true, 0, &ttl, reply_p)) {
        return -1;
    }
    snprintf(ttl_s, size, "%" PRId64, ttl);
    return 0;
}

static cm_msg_t *
s_claim(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *worker = NULL;
    char ttl_s[24];
    int64_t max = 0;
    if (s_worker_ttl(request, &worker, ttl_s, sizeof ttl_s, &reply) ||
        st_router_int(request, "max", 0, ST_LEASES_MAX_CLAIM, false, 1, &max,
                      &reply)) {
        return reply;
    }
    json_t *list = json_array();
    if (max > 0) {
        char max_s[24];
        snprintf(max_s, sizeof max_s, "%" PRId64, max);
        const char *params[] = {worker, max_s, ttl_s};
        PGresult *res =
            st_db_exec(st_router_db(self), "st_lease_claim", 3, params);
        if (!res) {
            json_decref(list);
            return st_router_db_fail(self, request);
        }
        for (int i = 0; i < PQntuples(res); i++) {
            json_t *config = st_db_json(res, i, 2);
            json_array_append_new(
                list,
                json_pack("{s:s, s:I, s:o}", "name", st_db_text(res, i, 0),
                          "epoch", (json_int_t)st_db_int(res, i, 1), "config",
                          config ? config : json_object()));
        }
        PQclear(res);
    }
    if (json_array_size(list) > 0) {
        cm_log_info("claimed sessions", "worker=\"%s\" count=%zu", worker,
                    json_array_size(list));
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "sessions", list);
    return reply;
}

//  Append the first column of every row of res (consumed) to `drop`
//  unless already there.
static void
s_add_names(json_t *drop, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = st_db_text(res, i, 0);
        bool seen = false;
        size_t k;
        json_t *v;
        json_array_foreach(drop, k, v)
        {
            seen = seen || cm_streq(json_string_value(v), name);
        }
        if (!seen) {
            json_array_append_new(drop, json_string(name));
        }
    }
    PQclear(res);
}

static cm_msg_t *
s_renew(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *worker = NULL;
    char ttl_s[24];
    if (s_worker_ttl(request, &worker, ttl_s, sizeof ttl_s, &reply)) {
        return reply;
    }
    json_t *running = json_object_get(cm_msg_body(request), "sessions");
    if (running && !json_is_array(running) && !json_is_null(running)) {
        return cm_msg_new_reply(request, 400,
                                "field 'sessions' must be an array of names");
    }
    st_db_t *db = st_router_db(self);
    const char *p1[] = {worker};
    const char *p2[] = {worker, ttl_s};
    json_t *held = json_array();
    json_t *drop = json_array();
    PGresult *res = NULL;
    if (st_db_begin(db)) {
        goto failed;
    }
    //  Leases that ran out: lost. Forget them (their epoch lives on in
    //  sessions.lease_epoch) and tell the worker once.
    if (!(res = st_db_exec(db, "st_lease_expire", 1, p1))) {
        goto failed;
    }
    s_add_names(drop, res);
    if (!(res = st_db_exec(db, "st_lease_renew", 2, p2))) {
        goto failed;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        json_array_append_new(
            held, json_pack("{s:s, s:I}", "name", st_db_text(res, i, 0),
                            "epoch", (json_int_t)st_db_int(res, i, 1)));
    }
    PQclear(res);
    //  Live leases of sessions nobody wants running any more
    if (!(res = st_db_exec(db, "st_lease_unwanted", 1, p1))) {
        goto failed;
    }
    s_add_names(drop, res);
    if (st_db_commit(db)) {
        goto failed;
    }
    //  Sessions the worker says it runs but does not hold (deleted, or
    //  lost long ago)
    size_t i;
    json_t *v;
    json_array_foreach(running, i, v)
    {
        if (!json_is_string(v)) {
            continue;
        }
        bool holds = false;
        size_t k;
        json_t *h;
        json_array_foreach(held, k, h)
        {
            holds =
                holds || cm_streq(json_string_value(json_object_get(h, "name")),
                                  json_string_value(v));
        }
        bool listed = false;
        json_array_foreach(drop, k, h)
        {
            listed =
                listed || cm_streq(json_string_value(h), json_string_value(v));
        }
        if (!holds && !listed) {
            json_array_append(drop, v);
        }
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "held", held);
    cm_msg_set(reply, "drop", drop);
    return reply;
failed:
    json_decref(held);
    json_decref(drop);
    return st_router_db_fail(self, request);
}

static cm_msg_t *
s_release(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *worker =
        st_router_str(request, "worker", ST_ROUTER_NAME_MAX, &reply);
    const char *name =
        worker ? st_router_str(request, "name", ST_ROUTER_NAME_MAX, &reply)
               : NULL;
    int64_t epoch = 0;
    if (!name || st_router_int(request, "epoch", 0, INT64_MAX, true, 0, &epoch,
                               &reply)) {
        return reply;
    }
    char epoch_s[24];
    snprintf(epoch_s, sizeof epoch_s, "%" PRId64, epoch);
    const char *params[] = {name, worker, epoch_s};
    PGresult *res =
        st_db_exec(st_router_db(self), "st_lease_release", 3, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    bool released = PQntuples(res) > 0;
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_bool(reply, "released", released);
    return reply;
}

int
st_leases_register(st_router_t *r)
{
    st_router_prepare(r, "st_lease_check",
                      "SELECT 1 FROM session_leases WHERE session = $1 "
                      "AND worker = $2 AND epoch = $3 AND expires_at > now()");
    //  Candidates are locked with SKIP LOCKED so concurrent claimers take
    //  different sessions without waiting. A claimer whose snapshot is
    //  stale (another one committed a lease meanwhile) still cannot take
    //  a live lease: the ON CONFLICT update re-checks the expiry on the
    //  latest row version.
    st_router_prepare(
        r, "st_lease_claim",
        "WITH cand AS ("
        " SELECT s.name FROM sessions s WHERE s.desired = 'running'"
        " AND NOT EXISTS (SELECT 1 FROM session_leases l"
        "  WHERE l.session = s.name AND l.expires_at > now())"
        " ORDER BY s.updated_at, s.name LIMIT $2"
        " FOR UPDATE OF s SKIP LOCKED), "
        "bumped AS ("
        " UPDATE sessions s SET lease_epoch = s.lease_epoch + 1"
        " FROM cand WHERE s.name = cand.name"
        " RETURNING s.name, s.lease_epoch, s.config), "
        "ins AS ("
        " INSERT INTO session_leases AS l (session, worker, expires_at, epoch)"
        " SELECT name, $1, now() + $3::float8 * interval '1 millisecond', "
        "lease_epoch"
        " FROM bumped"
        " ON CONFLICT (session) DO UPDATE SET worker = EXCLUDED.worker,"
        " expires_at = EXCLUDED.expires_at, epoch = EXCLUDED.epoch"
        " WHERE l.expires_at <= now()"
        " RETURNING l.session, l.epoch) "
        "SELECT ins.session, ins.epoch, bumped.config FROM ins"
        " JOIN bumped ON bumped.name = ins.session ORDER BY ins.session");
    st_router_prepare(r, "st_lease_expire",
                      "DELETE FROM session_leases WHERE worker = $1 "
                      "AND expires_at <= now() RETURNING session");
    st_router_prepare(
        r, "st_lease_renew",
        "UPDATE session_leases l SET expires_at = now() + $2::float8 * "
        "interval '1 millisecond' FROM sessions s WHERE l.worker = $1 "
        "AND s.name = l.session AND s.desired = 'running' "
        "RETURNING l.session, l.epoch");
    st_router_prepare(r, "st_lease_unwanted",
                      "SELECT l.session FROM session_leases l JOIN sessions s "
                      "ON s.name = l.session WHERE l.worker = $1 "
                      "AND s.desired <> 'running'");
    st_router_prepare(r, "st_lease_release",
                      "DELETE FROM session_leases WHERE session = $1 "
                      "AND worker = $2 AND epoch = $3 RETURNING session");
    st_router_add(r, "lease.claim", 1, s_claim, ST_ROUTER_DB);
    st_router_add(r, "lease.renew", 1, s_renew, ST_ROUTER_DB);
    st_router_add(r, "lease.release", 1, s_release, ST_ROUTER_DB);
    return 0;
}

void
st_leases_test(bool verbose)
{
    printf(" * st_leases: ");
    //  Argument checks happen before the database is touched
    cm_log_init(NULL, "error");
    cm_msg_t *req = cm_msg_new("lease.claim");
    cm_msg_t *reply = NULL;
    const char *worker = NULL;
    char ttl[24];
    assert(s_worker_ttl(req, &worker, ttl, sizeof ttl, &reply) == -1);
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    cm_msg_set_str(req, "worker", "w1");
    cm_msg_set_int(req, "ttl_ms", 5);
    assert(s_worker_ttl(req, &worker, ttl, sizeof ttl, &reply) == -1);
    assert(strstr(cm_msg_reason(reply), "ttl_ms"));
    cm_msg_destroy(&reply);
    cm_msg_set_int(req, "ttl_ms", 3000);
    assert(s_worker_ttl(req, &worker, ttl, sizeof ttl, &reply) == 0);
    assert(cm_streq(worker, "w1") && cm_streq(ttl, "3000"));
    cm_msg_destroy(&req);

    cm_log_init(NULL, "info");
    printf("OK\n");
}
