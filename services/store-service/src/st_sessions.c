/*  st_sessions - the `session` message family

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

static const char *s_statuses[] = {"STOPPED",
                                   "STARTING",
                                   "SCAN_QR_CODE",
                                   "WORKING",
                                   "FAILED",
                                   "PASSKEY_REQUIRED",
                                   "PASSKEY_CONFIRMATION_REQUIRED",
                                   NULL};

bool
st_sessions_status_valid(const char *status)
{
    for (int i = 0; s_statuses[i]; i++) {
        if (cm_streq(status, s_statuses[i])) {
            return true;
        }
    }
    return false;
}

json_t *
st_sessions_history(json_t *statuses, const char *status, int64_t ts_ms)
{
    json_t *out = json_array();
    size_t n = json_is_array(statuses) ? json_array_size(statuses) : 0;
    size_t keep = ST_SESSIONS_HISTORY - 1;
    for (size_t i = n > keep ? n - keep : 0; i < n; i++) {
        json_array_append(out, json_array_get(statuses, i));
    }
    json_array_append_new(out, json_pack("{s:s, s:I}", "status", status,
                                         "timestamp", (json_int_t)ts_ms));
    return out;
}

//  Reply {session} from the first row, first column of res (consumed).
static cm_msg_t *
s_session_reply(cm_msg_t *request, int st, PGresult *res)
{
    json_t *session = st_db_json(res, 0, 0);
    PQclear(res);
    if (!json_is_object(session)) {
        json_decref(session);
        return cm_msg_new_reply(request, 500, "could not read session row");
    }
    cm_msg_t *reply = cm_msg_new_reply(request, st, NULL);
    cm_msg_set(reply, "session", session);
    return reply;
}

//  JSON text of v, or NULL (SQL NULL) for NULL/json null. Caller frees.
static char *
s_json_param(json_t *v)
{
    return v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)
                                 : NULL;
}

//  Inside a transaction: write the mutable fields of `session` (an object
//  we computed) back, and when `status_event` append session.status.
//  Returns the stored session (caller owns) or NULL on a database error;
//  sets event id/seq for the announcement.
static json_t *
s_write(st_router_t *self, json_t *session, bool status_event,
        const char *worker, const char *qr, char *event_id, int64_t *seq)
{
    st_db_t *db = st_router_db(self);
    char *config = s_json_param(json_object_get(session, "config"));
    char *statuses = s_json_param(json_object_get(session, "statuses"));
    char *me = s_json_param(json_object_get(session, "me"));
    const char *params[] = {
        json_string_value(json_object_get(session, "name")),
        config ? config : "{}",
        json_string_value(json_object_get(session, "desired")),
        json_string_value(json_object_get(session, "status")),
        json_string_value(json_object_get(session, "reason")),
        statuses ? statuses : "[]",
        me};
    PGresult *res = st_db_exec(db, "st_session_write", 7, params);
    free(config);
    free(statuses);
    free(me);
    if (!res) {
        return NULL;
    }
    json_t *stored = PQntuples(res) ? st_db_json(res, 0, 0) : NULL;
    PQclear(res);
    if (!json_is_object(stored)) {
        json_decref(stored);
        return NULL;
    }
    *seq = 0;
    if (status_event) {
        json_t *payload = st_events_status_payload(stored);
        *seq = st_events_insert(
            self, json_string_value(json_object_get(stored, "name")), NULL,
            "session.status", payload, worker, qr, event_id);
        json_decref(payload);
        if (*seq <= 0) {
            json_decref(stored);
            return NULL;
        }
    }
    return stored;
}

//  Inside a transaction: the session row `name`, locked FOR UPDATE.
//  Returns it (caller owns), or NULL with *reply_p set (404 or db error).
static json_t *
s_lock(st_router_t *self, cm_msg_t *request, const char *name,
       cm_msg_t **reply_p)
{
    const char *params[] = {name};
    PGresult *res =
        st_db_exec(st_router_db(self), "st_session_lock", 1, params);
    if (!res) {
        *reply_p = st_router_db_fail(self, request);
        return NULL;
    }
    json_t *session = PQntuples(res) ? st_db_json(res, 0, 0) : NULL;
    PQclear(res);
    if (!json_is_object(session)) {
        json_decref(session);
        st_db_rollback(st_router_db(self));
        *reply_p = cm_msg_new_reply(request, 404, "session not found");
        return NULL;
    }
    return session;
}

//  Publish session.changed for `name`: its row changed without an event
//  (config, desired, deleted), so caches of it (the gateways') drop it.
static void
s_announce_change(st_router_t *self, const char *name)
{
    json_t *body = json_pack("{s:s}", "session", name ? name : "");
    st_router_publish(self, "session.changed", &body);
}

//  Commit, announce the event (or the change) and reply {session}. Takes
//  session.
static cm_msg_t *
s_finish(st_router_t *self, cm_msg_t *request, int st, json_t *session,
         const char *event_id, int64_t seq)
{
    if (st_db_commit(st_router_db(self))) {
        json_decref(session);
        return st_router_db_fail(self, request);
    }
    const char *name = json_string_value(json_object_get(session, "name"));
    if (seq > 0) {
        st_events_announce(self, name, event_id, seq, "session.status");
    } else {
        s_announce_change(self, name);
    }
    cm_msg_t *reply = cm_msg_new_reply(request, st, NULL);
    cm_msg_set(reply, "session", session);
    return reply;
}

static cm_msg_t *
s_create(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_str(request, "name", ST_ROUTER_NAME_MAX, &reply);
    if (!name) {
        return reply;
    }
    json_t *config = st_router_obj(request, "config", false, &reply);
    const char *instance_id =
        reply ? NULL
              : st_router_opt_str(request, "instance_id", ST_ROUTER_NAME_MAX,
                                  &reply);
    const char *token_hash =
        reply ? NULL
              : st_router_opt_str(request, "access_token_hash",
                                  ST_ROUTER_NAME_MAX, &reply);
    if (reply) {
        return reply;
    }
    json_t *start = json_object_get(cm_msg_body(request), "start");
    if (start && !json_is_boolean(start) && !json_is_null(start)) {
        return cm_msg_new_reply(request, 400,
                                "field 'start' must be a boolean");
    }
    bool run = json_is_true(start);
    const char *status = run ? "STARTING" : "STOPPED";
    json_t *history = st_sessions_history(NULL, status, cm_now_ms());
    char *config_s = config ? json_dumps(config, JSON_COMPACT) : NULL;
    char *history_s = json_dumps(history, JSON_COMPACT);
    json_decref(history);
    const char *params[] = {name,
                            config_s ? config_s : "{}",
                            run ? "running" : "stopped",
                            status,
                            history_s,
                            instance_id,
                            token_hash};
    st_db_t *db = st_router_db(self);
    PGresult *res = NULL;
    if (st_db_begin(db) == 0) {
        res = st_db_exec(db, "st_session_insert", 7, params);
    }
    free(config_s);
    free(history_s);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *session = PQntuples(res) ? st_db_json(res, 0, 0) : NULL;
    PQclear(res);
    if (!json_is_object(session)) {
        json_decref(session);
        st_db_rollback(db);
        return cm_msg_new_reply(request, 409,
                                "session name or instance_id already exists");
    }
    char event_id[ST_EVENTS_ID_MAX] = "";
    int64_t seq = 0;
    if (run) {
        json_t *payload = st_events_status_payload(session);
        seq = st_events_insert(self, name, NULL, "session.status", payload,
                               NULL, NULL, event_id);
        json_decref(payload);
        if (seq <= 0) {
            json_decref(session);
            return st_router_db_fail(self, request);
        }
    }
    return s_finish(self, request, 201, session, event_id, seq);
}

static cm_msg_t *
s_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_opt_str(request, "name", ST_ROUTER_NAME_MAX, &reply);
    const char *iid = reply || name ? NULL
                                    : st_router_str(request, "instance_id",
                                                    ST_ROUTER_NAME_MAX, &reply);
    if (reply) {
        if (!json_object_get(cm_msg_body(request), "name")) {
            cm_msg_destroy(&reply);
            reply = cm_msg_new_reply(request, 400,
                                     "field 'name' or 'instance_id' is "
                                     "required");
        }
        return reply;
    }
    const char *params[] = {name ? name : iid};
    PGresult *res =
        st_db_exec(st_router_db(self),
                   name ? "st_session_get" : "st_session_get_iid", 1, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 404, "session not found");
    }
    return s_session_reply(request, 200, res);
}

static cm_msg_t *
s_list(st_router_t *self, cm_msg_t *request)
{
    json_t *all = json_object_get(cm_msg_body(request), "all");
    if (all && !json_is_boolean(all) && !json_is_null(all)) {
        return cm_msg_new_reply(request, 400, "field 'all' must be a boolean");
    }
    PGresult *res = st_db_exec(st_router_db(self),
                               json_is_true(all) ? "st_session_list_all"
                                                 : "st_session_list_active",
                               0, NULL);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *s = st_db_json(res, i, 0);
        if (json_is_object(s)) {
            json_array_append_new(list, s);
        } else {
            json_decref(s);
        }
    }
    PQclear(res);
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "sessions", list);
    return reply;
}

//  Set status (recording history) when it differs. Returns true if it
//  changed.
static bool
s_set_status(json_t *session, const char *status)
{
    const char *old = json_string_value(json_object_get(session, "status"));
    if (cm_streq(old, status)) {
        return false;
    }
    json_t *history = st_sessions_history(json_object_get(session, "statuses"),
                                          status, cm_now_ms());
    json_object_set_new(session, "statuses", history);
    json_object_set_new(session, "status", json_string(status));
    return true;
}

static cm_msg_t *
s_update(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_str(request, "name", ST_ROUTER_NAME_MAX, &reply);
    json_t *config =
        name ? st_router_obj(request, "config", false, &reply) : NULL;
    const char *desired =
        reply ? NULL : st_router_opt_str(request, "desired", 16, &reply);
    if (reply) {
        return reply;
    }
    if (desired && !cm_streq(desired, "running") &&
        !cm_streq(desired, "stopped")) {
        return cm_msg_new_reply(request, 400,
                                "field 'desired' must be \"running\" or "
                                "\"stopped\"");
    }
    if (st_db_begin(st_router_db(self))) {
        return st_router_db_fail(self, request);
    }
    json_t *session = s_lock(self, request, name, &reply);
    if (!session) {
        return reply;
    }
    if (config) {
        json_object_set(session, "config", config);
    }
    bool changed = false;
    if (desired) {
        json_object_set_new(session, "desired", json_string(desired));
        //  Without a live lease nobody else will report a status: say
        //  what happens next. With one, the holder reports.
        bool live = json_is_string(json_object_get(session, "worker"));
        if (!live) {
            changed = s_set_status(
                session, cm_streq(desired, "running") ? "STARTING" : "STOPPED");
        }
        if (changed) {
            json_object_set_new(session, "reason", json_null());
        }
    }
    char event_id[ST_EVENTS_ID_MAX] = "";
    int64_t seq = 0;
    json_t *stored =
        s_write(self, session, changed, NULL, NULL, event_id, &seq);
    json_decref(session);
    if (!stored) {
        return st_router_db_fail(self, request);
    }
    return s_finish(self, request, 200, stored, event_id, seq);
}

static cm_msg_t *
s_delete(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    PGresult *res =
        st_router_by_name(self, request, "st_session_delete", &reply);
    if (!res) {
        return reply;
    }
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found) {
        return cm_msg_new_reply(request, 404, "session not found");
    }
    s_announce_change(self, cm_msg_str(request, "name"));
    return cm_msg_new_reply(request, 200, NULL);
}

static cm_msg_t *
s_set_status_req(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    const char *status = st_router_str(request, "status", 64, &reply);
    if (!status) {
        return reply;
    }
    const char *reason = st_router_opt_str(request, "reason", 4096, &reply);
    const char *qr =
        reply ? NULL : st_router_opt_str(request, "qr", 1 << 20, &reply);
    if (reply) {
        return reply;
    }
    if (!st_sessions_status_valid(status)) {
        return cm_msg_new_reply(request, 400,
                                "field 'status' is not a session status");
    }
    json_t *me = json_object_get(cm_msg_body(request), "me");
    if (me && !json_is_null(me) &&
        (!json_is_object(me) || !json_is_string(json_object_get(me, "id")))) {
        return cm_msg_new_reply(request, 400,
                                "field 'me' must be null or {id, lid?, "
                                "pushName?}");
    }
    st_db_t *db = st_router_db(self);
    if (st_db_begin(db)) {
        return st_router_db_fail(self, request);
    }
    json_t *session = s_lock(self, request, lease.name, &reply);
    if (!session) {
        return reply;
    }
    reply = st_leases_fence(self, request, &lease);
    if (reply) {
        json_decref(session);
        return reply;
    }
    bool changed = s_set_status(session, status);
    json_object_set_new(session, "reason",
                        reason ? json_string(reason) : json_null());
    if (me) {
        json_object_set(session, "me", me);
    }
    char event_id[ST_EVENTS_ID_MAX] = "";
    int64_t seq = 0;
    //  a new QR is news even when the status stays SCAN_QR_CODE
    json_t *stored = s_write(self, session, changed || qr != NULL, lease.worker,
                             qr, event_id, &seq);
    json_decref(session);
    if (!stored) {
        return st_router_db_fail(self, request);
    }
    return s_finish(self, request, 200, stored, event_id, seq);
}

int
st_sessions_register(st_router_t *r)
{
    st_router_prepare(r, "st_session_get",
                      "SELECT " ST_SESSION_JSON
                      " FROM sessions s WHERE s.name = $1");
    st_router_prepare(r, "st_session_get_iid",
                      "SELECT " ST_SESSION_JSON
                      " FROM sessions s WHERE s.instance_id = $1");
    st_router_prepare(r, "st_session_lock",
                      "SELECT " ST_SESSION_JSON
                      " FROM sessions s WHERE s.name = $1 FOR UPDATE");
    st_router_prepare(r, "st_session_list_all",
                      "SELECT " ST_SESSION_JSON
                      " FROM sessions s ORDER BY s.name");
    st_router_prepare(r, "st_session_list_active",
                      "SELECT " ST_SESSION_JSON
                      " FROM sessions s WHERE s.status <> 'STOPPED' "
                      "ORDER BY s.name");
    //  A re-created name continues the seq of its old events, pruned or
    //  not (the fan-out cursor of the name stays where it was).
    st_router_prepare(
        r, "st_session_insert",
        "INSERT INTO sessions AS s (name, config, desired, status, statuses, "
        "instance_id, access_token_hash, event_seq) "
        "VALUES ($1, $2::jsonb, $3, $4, $5::jsonb, coalesce($6, $1), $7, "
        "GREATEST((SELECT max(seq) FROM events WHERE session = $1), "
        "(SELECT fanned FROM event_fanned WHERE session = $1), "
        "(SELECT upto FROM event_orphans WHERE session = $1), 0)) "
        "ON CONFLICT DO NOTHING RETURNING " ST_SESSION_JSON);
    st_router_prepare(
        r, "st_session_write",
        "UPDATE sessions AS s SET config = $2::jsonb, desired = $3, "
        "status = $4, reason = $5, statuses = $6::jsonb, me = $7::jsonb, "
        "updated_at = now() WHERE s.name = $1 RETURNING " ST_SESSION_JSON);
    st_router_prepare(r, "st_session_delete",
                      "DELETE FROM sessions WHERE name = $1 RETURNING name");
    st_router_add(r, "session.create", 1, s_create, ST_ROUTER_DB);
    st_router_add(r, "session.get", 1, s_get, ST_ROUTER_DB);
    st_router_add(r, "session.list", 1, s_list, ST_ROUTER_DB);
    st_router_add(r, "session.update", 1, s_update, ST_ROUTER_DB);
    st_router_add(r, "session.delete", 1, s_delete, ST_ROUTER_DB);
    st_router_add(r, "session.set_status", 1, s_set_status_req, ST_ROUTER_DB);
    return 0;
}

void
st_sessions_test(bool verbose)
{
    printf(" * st_sessions: ");
    assert(st_sessions_status_valid("WORKING"));
    assert(st_sessions_status_valid("SCAN_QR_CODE"));
    assert(!st_sessions_status_valid("working"));
    assert(!st_sessions_status_valid(NULL));

    json_t *h = st_sessions_history(NULL, "STARTING", 1);
    assert(json_array_size(h) == 1);
    for (int i = 2; i <= 5; i++) {
        json_t *next = st_sessions_history(h, i % 2 ? "WORKING" : "FAILED", i);
        json_decref(h);
        h = next;
    }
    assert(json_array_size(h) == ST_SESSIONS_HISTORY);
    //  oldest first, newest last
    assert(json_integer_value(
               json_object_get(json_array_get(h, 0), "timestamp")) == 3);
    assert(json_integer_value(
               json_object_get(json_array_get(h, 2), "timestamp")) == 5);
    json_decref(h);

    json_t *s = json_pack("{s:s, s:[]}", "status", "STOPPED", "statuses");
    assert(s_set_status(s, "STARTING"));
    assert(!s_set_status(s, "STARTING"));
    assert(json_array_size(json_object_get(s, "statuses")) == 1);
    json_decref(s);
    printf("OK\n");
}
