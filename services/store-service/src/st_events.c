/*  st_events - the `event` message family and the event outbox

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

json_t *
st_events_status_payload(json_t *session)
{
    json_t *statuses = json_object_get(session, "statuses");
    json_t *payload = json_object();
    json_object_set(payload, "name", json_object_get(session, "name"));
    json_object_set(payload, "status", json_object_get(session, "status"));
    json_object_set_new(payload, "statuses",
                        json_is_array(statuses) ? json_incref(statuses)
                                                : json_array());
    json_object_set_new(payload, "data", json_null());
    return payload;
}

json_t *
st_events_envelope(json_t *session, const char *id, int64_t ts_ms,
                   const char *event, json_t *payload, const char *engine,
                   const char *worker, const char *qr)
{
    assert(session && id && event && payload);
    json_t *env = json_object();
    json_object_set_new(env, "id", json_string(id));
    json_object_set_new(env, "timestamp", json_integer(ts_ms));
    json_object_set_new(env, "event", json_string(event));
    json_object_set(env, "session", json_object_get(session, "name"));
    json_t *metadata =
        json_object_get(json_object_get(session, "config"), "metadata");
    if (metadata && !json_is_null(metadata)) {
        json_object_set(env, "metadata", metadata);
    }
    json_t *me = json_object_get(session, "me");
    json_object_set_new(env, "me", me ? json_incref(me) : json_null());
    json_object_set(env, "payload", payload);
    json_t *environment = cm_waha_environment(engine, NULL, worker);
    json_object_set(env, "engine", json_object_get(environment, "engine"));
    json_object_set_new(env, "environment", environment);
    if (cm_streq(event, "session.status")) {
        //  Wawp's flat status fields, next to the WAHA envelope
        json_t *status = json_object_get(payload, "status");
        if (!json_is_string(status)) {
            status = json_object_get(session, "status");
        }
        json_object_set(env, "instance_id",
                        json_object_get(session, "instance_id"));
        json_object_set(env, "status", status);
        bool scanning = cm_streq(json_string_value(status), "SCAN_QR_CODE");
        json_object_set_new(env, "qr",
                            scanning && qr ? json_string(qr) : json_null());
        json_object_set_new(env, "ts", json_integer(ts_ms / 1000));
    }
    return env;
}

int64_t
st_events_insert(st_router_t *r, const char *name, const char *id,
                 const char *event, json_t *payload, const char *worker,
                 const char *qr, char *id_out)
{
    st_db_t *db = st_router_db(r);
    char fresh[ST_EVENTS_ID_MAX];
    if (!id) {
        st_router_new_id(r, ST_EVENTS_ID_PREFIX, fresh, sizeof fresh);
        id = fresh;
    }
    if (id_out) {
        snprintf(id_out, ST_EVENTS_ID_MAX, "%s", id);
    }
    const char *p1[] = {name};
    PGresult *res = st_db_exec(db, "st_event_seq", 1, p1);
    if (!res) {
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    int64_t seq = st_db_int(res, 0, 0);
    json_t *session = st_db_json(res, 0, 1);
    PQclear(res);
    if (!json_is_object(session)) {
        json_decref(session);
        return -1;
    }
    json_t *env = st_events_envelope(session, id, cm_now_ms(), event, payload,
                                     st_router_engine(r), worker, qr);
    json_decref(session);
    char *text = cm_json_dumps(env, NULL);
    json_decref(env);
    char seq_s[24];
    snprintf(seq_s, sizeof seq_s, "%" PRId64, seq);
    const char *p2[] = {id, name, seq_s, event, text};
    res = st_db_exec(db, "st_event_insert", 5, p2);
    free(text);
    if (!res) {
        return -1;
    }
    PQclear(res);
    return seq;
}

void
st_events_announce(st_router_t *r, const char *session, const char *id,
                   int64_t seq, const char *event)
{
    json_t *body = json_pack("{s:s, s:s, s:I}", "session", session, "id", id,
                             "seq", (json_int_t)seq);
    if (event) {
        json_object_set_new(body, "event", json_string(event));
    }
    st_router_publish(r, "event.new", &body);
}

//  True if id is "evt_" followed by 1..60 characters [0-9a-zA-Z_-].
static bool
s_id_valid(const char *id)
{
    size_t plen = strlen(ST_EVENTS_ID_PREFIX);
    size_t len = strlen(id);
    if (len <= plen || len >= ST_EVENTS_ID_MAX ||
        strncmp(id, ST_EVENTS_ID_PREFIX, plen) != 0) {
        return false;
    }
    for (size_t i = plen; i < len; i++) {
        if (!isalnum((unsigned char)id[i]) && id[i] != '_' && id[i] != '-') {
            return false;
        }
    }
    return true;
}

//  The common case of event.append, for one event or a batch, in one
//  statement inside the caller's transaction: every id is new and
//  distinct, the session exists, and the lease, if given, is held.
//  `items` holds {id, event, payload}; each envelope goes without its
//  session fields (session, me, metadata), which the statement adds from
//  the session row it locks to take the next seqs. Returns 1 with the seq
//  of each item in `seqs` (item order), 0 when the common case does not
//  apply (nothing written: the caller goes on the long way, which tells a
//  resend, a missing session and a lost lease apart), or -1 on a database
//  error (*conflict when an id was inserted concurrently).
//  Append to `rows` the {n, id, event, env} of each of `items` ({id,
//  event, payload}), with "k": k when k >= 0 (its request in a group):
//  the envelope of st_events_envelope without the session fields. The
//  items share one environment (same engine and worker).
static void
s_event_rows(st_router_t *self, const char *worker, json_t *items, json_int_t k,
             json_t *rows)
{
    json_t *bare = json_object();
    int64_t now = cm_now_ms();
    json_t *environment =
        cm_waha_environment(st_router_engine(self), NULL, worker);
    json_t *engine = json_object_get(environment, "engine");
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *event = json_string_value(json_object_get(item, "event"));
        json_t *payload = json_object_get(item, "payload");
        json_t *env = json_pack("{s:s, s:I, s:s, s:O, s:O, s:O}", "id", id,
                                "timestamp", (json_int_t)now, "event", event,
                                "payload", payload ? payload : bare, "engine",
                                engine, "environment", environment);
        json_t *row = json_pack("{s:I, s:s, s:s, s:o}", "n", (json_int_t)i + 1,
                                "id", id, "event", event, "env", env);
        if (k >= 0) {
            json_object_set_new(row, "k", json_integer(k));
        }
        json_array_append_new(rows, row);
    }
    json_decref(environment);
    json_decref(bare);
}

static int
s_append_set(st_router_t *self, const st_router_lease_t *lease, json_t *items,
             const st_messages_texts_t *texts, int64_t *seqs, bool *conflict)
{
    st_db_t *db = st_router_db(self);
    const char *worker = lease->worker;
    json_t *rows = json_array();
    s_event_rows(self, worker, items, -1, rows);
    char *text = cm_json_dumps(rows, NULL);
    json_decref(rows);
    char count_s[24], epoch_s[24];
    snprintf(count_s, sizeof count_s, "%zu", json_array_size(items));
    snprintf(epoch_s, sizeof epoch_s, "%" PRId64, lease->epoch);
    const char *params[] = {text,
                            lease->name,
                            count_s,
                            worker,
                            worker ? epoch_s : NULL,
                            texts ? texts->rows : NULL,
                            texts ? texts->chats : NULL,
                            texts ? texts->acks : NULL};
    PGresult *res = texts ? st_db_exec(db, "st_event_append_all", 8, params)
                          : st_db_exec(db, "st_event_append", 5, params);
    free(text);
    if (!res) {
        *conflict = st_db_error_status(db) == 409;
        return -1;
    }
    //  the seqs are consecutive, in item order, from the lowest
    int n = PQntuples(res);
    assert(n == 0 || (size_t)n == json_array_size(items));
    int64_t first = INT64_MAX;
    for (int r = 0; r < n; r++) {
        int64_t seq = st_db_int(res, r, 0);
        first = seq < first ? seq : first;
    }
    PQclear(res);
    for (int r = 0; r < n; r++) {
        seqs[r] = first + r;
    }
    return n > 0;
}

//  Store one event in the open transaction. Returns 0 with *seq_out (and
//  *dup when the id was stored before: nothing is written), or -1 with
//  *reply_p set and the transaction rolled back: 404 no such session, 409
//  lease not held or id of another session, or the database failure
//  (*conflict when the id was inserted concurrently: try again).
static int
s_store_event(st_router_t *self, cm_msg_t *request, const char *id,
              const st_router_lease_t *lease, const char *event,
              json_t *payload, int64_t *seq_out, bool *dup, bool *conflict,
              cm_msg_t **reply_p)
{
    const char *name = lease->name;
    st_db_t *db = st_router_db(self);
    *dup = false;
    int64_t seq = 0;
    if (!cm_streq(event, "session.status")) {
        json_t *one = json_pack("[{s:s, s:s, s:O}]", "id", id, "event", event,
                                "payload", payload);
        int rc = s_append_set(self, lease, one, NULL, &seq, conflict);
        json_decref(one);
        if (rc < 0) {
            *reply_p = st_router_db_fail(self, request);
            return -1;
        }
    }
    if (seq == 0) {
        const char *p1[] = {id};
        PGresult *res = st_db_exec(db, "st_event_by_id", 1, p1);
        if (!res) {
            *reply_p = st_router_db_fail(self, request);
            return -1;
        }
        seq = PQntuples(res) ? st_db_int(res, 0, 0) : 0;
        bool same_session =
            PQntuples(res) && cm_streq(st_db_text(res, 0, 1), name);
        PQclear(res);
        if (seq > 0) {
            //  a resend: answer as the first time (another session: a
            //  clash)
            if (!same_session) {
                st_db_rollback(db);
                *reply_p = cm_msg_new_reply(
                    request, 409, "event id exists for another session");
                return -1;
            }
            *dup = true;
            *seq_out = seq;
            return 0;
        }
        seq = st_events_insert(self, name, id, event, payload, lease->worker,
                               NULL, NULL);
        if (seq < 0) {
            *conflict = st_db_error_status(db) == 409;
            *reply_p = st_router_db_fail(self, request);
            return -1;
        }
        if (seq == 0) {
            st_db_rollback(db);
            *reply_p = cm_msg_new_reply(request, 404, "session not found");
            return -1;
        }
        *reply_p = st_leases_fence(self, request, lease);
        if (*reply_p) {
            return -1;
        }
    }
    if (st_messages_record(self, name, event, payload) != 0) {
        *reply_p = st_router_db_fail(self, request);
        return -1;
    }
    *seq_out = seq;
    return 0;
}

//  One attempt at event.append. Sets *conflict when the id was inserted
//  concurrently (the caller tries again and finds it).
static cm_msg_t *
s_append_try(st_router_t *self, cm_msg_t *request, const char *id,
             const st_router_lease_t *lease, const char *event, json_t *payload,
             bool *conflict)
{
    st_db_t *db = st_router_db(self);
    *conflict = false;
    if (st_db_begin(db)) {
        return st_router_db_fail(self, request);
    }
    cm_msg_t *reply = NULL;
    int64_t seq = 0;
    bool dup = false;
    if (s_store_event(self, request, id, lease, event, payload, &seq, &dup,
                      conflict, &reply) != 0) {
        return reply;
    }
    if (st_db_commit(db)) {
        return st_router_db_fail(self, request);
    }
    if (!dup) {
        st_events_announce(self, lease->name, id, seq, event);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "seq", seq);
    if (dup) {
        cm_msg_set_bool(reply, "duplicate", true);
    }
    return reply;
}

static cm_msg_t *
s_append(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    const char *id = st_router_str(request, "id", ST_EVENTS_ID_MAX, &reply);
    if (!id || st_router_lease(request, "session", false, &lease, &reply)) {
        return reply;
    }
    const char *event =
        st_router_str(request, "event", ST_ROUTER_NAME_MAX, &reply);
    if (!event) {
        return reply;
    }
    if (!s_id_valid(id)) {
        return cm_msg_new_reply(request, 400,
                                "field 'id' must be evt_ followed by "
                                "letters and digits");
    }
    json_t *payload = json_object_get(cm_msg_body(request), "payload");
    payload = payload ? json_incref(payload) : json_object();
    bool conflict = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        cm_msg_destroy(&reply);
        reply =
            s_append_try(self, request, id, &lease, event, payload, &conflict);
        if (!conflict) {
            break;
        }
    }
    json_decref(payload);
    return reply;
}

//  True when every event of a batch can go through s_append_set: valid
//  ids, all distinct, valid names, no session.status.
static bool
s_batch_plain(json_t *events)
{
    size_t i;
    json_t *item;
    json_array_foreach(events, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *event = json_string_value(json_object_get(item, "event"));
        json_t *payload = json_object_get(item, "payload");
        if (!id || !s_id_valid(id) || !event || !*event ||
            strlen(event) > ST_ROUTER_NAME_MAX ||
            cm_streq(event, "session.status") ||
            (payload && !json_is_object(payload))) {
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            json_t *other = json_object_get(json_array_get(events, j), "id");
            if (cm_streq(json_string_value(other), id)) {
                return false;
            }
        }
    }
    return true;
}

//  A batch of plain events (s_batch_plain) and the messages, chats and
//  acks they carry in one statement: fills `results` and `stored` as the
//  long way would. Inside the caller's transaction, or outside any (the
//  statement then commits by itself: no BEGIN and COMMIT round trips).
//  Returns 1 when done, 0 when the long way must run (nothing written),
//  -1 on a database error.
static int
s_batch_fast(st_router_t *self, const st_router_lease_t *lease, json_t *events,
             json_t *results, json_t *stored, bool *conflict)
{
    if (!s_batch_plain(events)) {
        return 0;
    }
    size_t n = json_array_size(events);
    int64_t seqs[ST_EVENTS_BATCH_MAX];
    assert(n <= ST_EVENTS_BATCH_MAX);
    st_messages_texts_t texts;
    st_messages_batch_texts(lease->name, events, &texts);
    int rc = s_append_set(self, lease, events, &texts, seqs, conflict);
    st_messages_texts_free(&texts);
    if (rc <= 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(events, i);
        json_array_append_new(results,
                              json_pack("{s:I}", "seq", (json_int_t)seqs[i]));
        json_array_append_new(
            stored,
            json_pack("[O, I, O]", json_object_get(item, "id"),
                      (json_int_t)seqs[i], json_object_get(item, "event")));
    }
    return 1;
}

//  Announce the events a batch stored ([id, seq, event]...).
static void
s_batch_announce(st_router_t *self, const char *session, json_t *stored)
{
    //  A wake-up per event would cost every subscriber a message per
    //  event: the batch's message events are announced once, by the last
    //  of them; each other event (session.status...) by itself
    size_t last_message = SIZE_MAX;
    size_t i;
    json_t *item;
    json_array_foreach(stored, i, item)
    {
        if (cm_about_messages(json_string_value(json_array_get(item, 2)))) {
            last_message = i;
        }
    }
    json_array_foreach(stored, i, item)
    {
        const char *event = json_string_value(json_array_get(item, 2));
        if (!cm_about_messages(event) || i == last_message) {
            st_events_announce(
                self, session, json_string_value(json_array_get(item, 0)),
                json_integer_value(json_array_get(item, 1)), event);
        }
    }
}

//  One attempt at event.append_batch: every event in one transaction,
//  in order. Sets *conflict as s_append_try.
//  Signal rows that ride with a batch (`signal`): stored in its
//  transaction, so a session-worker's state change and the events queued
//  before it cost one round trip and one commit.
typedef struct {
    char *text;   //  the rows as st_signal_write takes them, or NULL
    bool deletes; //  a row deletes
} s_signal_t;

static cm_msg_t *
s_append_batch_try(st_router_t *self, cm_msg_t *request,
                   const st_router_lease_t *lease, json_t *events,
                   const s_signal_t *signal, bool *conflict)
{
    st_db_t *db = st_router_db(self);
    *conflict = false;
    bool try_fast = true; //  the one statement may apply in the transaction
    if (!signal->text) {
        //  The common case: one statement, committed by itself
        json_t *results = json_array();
        json_t *stored = json_array();
        int one = s_batch_fast(self, lease, events, results, stored, conflict);
        if (one != 0) {
            cm_msg_t *reply = NULL;
            if (one < 0) {
                reply = st_router_db_fail(self, request);
                json_decref(results);
            } else {
                s_batch_announce(self, lease->name, stored);
                reply = cm_msg_new_reply(request, 200, NULL);
                cm_msg_set(reply, "results", results);
            }
            json_decref(stored);
            return reply;
        }
        json_decref(results);
        json_decref(stored);
        try_fast = false; //  it did not apply: the long way
    }
    if (st_db_begin(db)) {
        return st_router_db_fail(self, request);
    }
    if (signal->text) {
        //  As signal.put: the session row locked, the lease checked
        cm_msg_t *refused = st_devices_lock(self, request, lease);
        if (refused) {
            return refused;
        }
    }
    json_t *results = json_array();
    json_t *stored = json_array(); //  [id, seq, event] of the new ones
    cm_msg_t *reply = NULL;
    size_t i;
    json_t *item;
    int fast =
        try_fast ? s_batch_fast(self, lease, events, results, stored, conflict)
                 : 0;
    if (fast < 0) {
        json_decref(results);
        json_decref(stored);
        return st_router_db_fail(self, request);
    }
    json_array_foreach(fast ? NULL : events, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *event = json_string_value(json_object_get(item, "event"));
        if (!id || strlen(id) >= ST_EVENTS_ID_MAX || !s_id_valid(id) ||
            !event || !*event || strlen(event) > ST_ROUTER_NAME_MAX) {
            json_array_append_new(
                results, json_pack("{s:i, s:s}", "status", 400, "reason",
                                   "id must be evt_ followed by letters and "
                                   "digits, event a name"));
            continue;
        }
        json_t *payload = json_object_get(item, "payload");
        payload = payload ? json_incref(payload) : json_object();
        int64_t seq = 0;
        bool dup = false;
        int rc = s_store_event(self, request, id, lease, event, payload, &seq,
                               &dup, conflict, &reply);
        json_decref(payload);
        if (rc != 0) {
            json_decref(results);
            json_decref(stored);
            return reply;
        }
        json_t *r = json_pack("{s:I}", "seq", (json_int_t)seq);
        if (dup) {
            json_object_set_new(r, "duplicate", json_true());
        } else {
            json_array_append_new(
                stored, json_pack("[s, I, s]", id, (json_int_t)seq, event));
        }
        json_array_append_new(results, r);
    }
    int64_t written = 0;
    int64_t deleted = 0;
    if ((signal->text &&
         st_signal_write(self, lease->name, signal->text, signal->deletes,
                         &written, &deleted) != 0) ||
        st_db_commit(db)) {
        json_decref(results);
        json_decref(stored);
        return st_router_db_fail(self, request);
    }
    s_batch_announce(self, lease->name, stored);
    json_decref(stored);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "results", results);
    if (signal->text) {
        cm_msg_set(reply, "signal",
                   json_pack("{s:I, s:I}", "written", (json_int_t)written,
                             "deleted", (json_int_t)deleted));
    }
    return reply;
}

//  event.append_batch: several events of one session, in order, in one
//  transaction (a session-worker's queued events in one round trip),
//  with the Signal rows of a signal.put in `signal` when given.
static cm_msg_t *
s_append_batch(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "session", false, &lease, &reply)) {
        return reply;
    }
    json_t *events = json_object_get(cm_msg_body(request), "events");
    if (!json_is_array(events) || json_array_size(events) == 0 ||
        json_array_size(events) > ST_EVENTS_BATCH_MAX) {
        char *why = cm_sprintf("field 'events' must be an array of 1..%d "
                               "events",
                               ST_EVENTS_BATCH_MAX);
        reply = cm_msg_new_reply(request, 400, why);
        free(why);
        return reply;
    }
    s_signal_t signal = {NULL, false};
    json_t *rows = json_object_get(cm_msg_body(request), "signal");
    if (rows) {
        if (!lease.worker) {
            return cm_msg_new_reply(request, 400,
                                    "field 'signal' needs worker and epoch");
        }
        reply = st_signal_check(request, "signal", rows);
        if (reply) {
            return reply;
        }
        signal.text = st_signal_text(self, lease.name, rows);
        signal.deletes = st_signal_deletes(rows);
    }
    bool conflict = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        cm_msg_destroy(&reply);
        reply = s_append_batch_try(self, request, &lease, events, &signal,
                                   &conflict);
        if (!conflict) {
            break;
        }
    }
    free(signal.text);
    return reply;
}

//  Group writes (st_router_set_group_writer): the writes of several
//  sessions that st_router_dispatch_group runs in one transaction, taken
//  together so that each table gets one statement for the whole group
//  instead of one or more per request. Each request is stored exactly as
//  it would be alone (s_append, s_append_batch's one statement, signal.put)
//  or left to run alone when that is not certain (a resend, a missing
//  session, a lost lease without Signal rows, a bad field).
typedef enum { S_GW_APPEND, S_GW_BATCH, S_GW_PUT } s_gw_kind_t;

typedef struct {
    size_t i;                //  the request's index in the group
    s_gw_kind_t kind;        //  its type
    st_router_lease_t lease; //  its session, worker and epoch
    json_t *events;          //  its events ({id, event, payload}), owned
    json_t *rows;            //  its Signal rows (borrowed), or NULL
    bool deletes;            //  a row of them deletes
    bool alone;              //  left to run alone (nothing of it written)
    bool refused;            //  answered 409 (nothing of it written)
    int64_t first;           //  the seq of its first event
    size_t stored;           //  how many of its events were stored
} s_gw_t;

//  The session a group write names, or NULL.
static const char *
s_gw_session(cm_msg_t *request)
{
    json_t *body = cm_msg_body(request);
    const char *key =
        cm_streq(cm_msg_type(request), "signal.put") ? "name" : "session";
    return json_string_value(json_object_get(body, key));
}

//  True when `request` is a write the group writer stores exactly as its
//  handler would (fields valid, events plain); fills *w.
static bool
s_gw_take(cm_msg_t *request, s_gw_t *w)
{
    memset(w, 0, sizeof *w);
    if (cm_msg_is_reply(request) || cm_msg_error(request) ||
        cm_msg_version(request) > 1 || cm_msg_expired(request)) {
        return false; //  cm_handlers_dispatch answers these
    }
    const char *type = cm_msg_type(request);
    json_t *body = cm_msg_body(request);
    cm_msg_t *reply = NULL;
    if (cm_streq(type, "signal.put")) {
        w->kind = S_GW_PUT;
        w->rows = json_object_get(body, "rows");
        if (st_router_lease(request, "name", true, &w->lease, &reply) == 0) {
            reply = st_signal_check(request, "rows", w->rows);
        }
    } else if (cm_streq(type, "event.append_batch")) {
        w->kind = S_GW_BATCH;
        json_t *events = json_object_get(body, "events");
        w->rows = json_object_get(body, "signal");
        if (st_router_lease(request, "session", false, &w->lease, &reply) ==
                0 &&
            json_is_array(events) && json_array_size(events) > 0 &&
            json_array_size(events) <= ST_EVENTS_BATCH_MAX &&
            s_batch_plain(events) && (!w->rows || w->lease.worker)) {
            w->events = json_incref(events);
            reply =
                w->rows ? st_signal_check(request, "signal", w->rows) : NULL;
        } else {
            w->rows = NULL;
        }
    } else if (cm_streq(type, "event.append")) {
        w->kind = S_GW_APPEND;
        const char *id = NULL;
        const char *event = NULL;
        if (st_router_lease(request, "session", false, &w->lease, &reply) ==
                0 &&
            (id = st_router_str(request, "id", ST_EVENTS_ID_MAX, &reply)) &&
            (event =
                 st_router_str(request, "event", ST_ROUTER_NAME_MAX, &reply))) {
            json_t *one = json_pack("[{s:s, s:s}]", "id", id, "event", event);
            json_t *payload = json_object_get(body, "payload");
            if (payload) {
                json_object_set(json_array_get(one, 0), "payload", payload);
            }
            if (s_batch_plain(one)) {
                w->events = one;
            } else {
                json_decref(one);
            }
        }
    }
    bool taken =
        !reply && (w->kind == S_GW_PUT ? w->rows != NULL : w->events != NULL);
    cm_msg_destroy(&reply);
    if (!taken) {
        json_decref(w->events);
        w->events = NULL;
        return false;
    }
    w->deletes = w->rows && st_signal_deletes(w->rows);
    return true;
}

//  Append the inside of the JSON array `text` ("[a,b]") to `buf`.
static void
s_gw_join(zchunk_t *buf, const char *text)
{
    size_t len = strlen(text);
    assert(len >= 2 && text[0] == '[' && text[len - 1] == ']');
    if (len == 2) {
        return;
    }
    if (zchunk_size(buf) > 1) {
        zchunk_extend(buf, ",", 1);
    }
    zchunk_extend(buf, text + 1, len - 2);
}

//  The text of a zchunk built by s_gw_join, closed: caller frees.
static char *
s_gw_close(zchunk_t *buf)
{
    zchunk_extend(buf, "]", 2); //  with the NUL
    return cm_strdup((const char *)zchunk_data(buf));
}

//  Lock the session rows of the writes with Signal rows and check their
//  leases, as signal.put does for one (the lease read after the lock).
//  Marks a write whose session is missing to run alone (it gets 404
//  there) and refuses one whose lease is not held. Returns 0 or -1.
static int
s_gw_fence(st_router_t *self, s_gw_t *ws, size_t m)
{
    st_db_t *db = st_router_db(self);
    json_t *names = json_array();
    json_t *leases = json_array();
    for (size_t j = 0; j < m; j++) {
        if (ws[j].rows) {
            json_array_append_new(names, json_string(ws[j].lease.name));
            json_array_append_new(leases,
                                  json_pack("{s:s, s:s, s:I}", "session",
                                            ws[j].lease.name, "worker",
                                            ws[j].lease.worker, "epoch",
                                            (json_int_t)ws[j].lease.epoch));
        }
    }
    int rc = 0;
    if (json_array_size(names) > 0) {
        char *text = cm_json_dumps(names, NULL);
        const char *p1[] = {text};
        PGresult *res = st_db_exec(db, "st_event_group_lock", 1, p1);
        free(text);
        json_t *locked = json_object();
        for (int r = 0; res && r < PQntuples(res); r++) {
            json_object_set_new(locked, st_db_text(res, r, 0), json_true());
        }
        PQclear(res);
        text = res ? cm_json_dumps(leases, NULL) : NULL;
        const char *p2[] = {text};
        PGresult *held =
            res ? st_db_exec(db, "st_event_group_leases", 1, p2) : NULL;
        free(text);
        json_t *holding = json_object();
        for (int r = 0; held && r < PQntuples(held); r++) {
            json_object_set_new(holding, st_db_text(held, r, 0), json_true());
        }
        PQclear(held);
        rc = held ? 0 : -1;
        for (size_t j = 0; rc == 0 && j < m; j++) {
            const char *name = ws[j].lease.name;
            if (!ws[j].rows) {
                continue;
            }
            if (!json_object_get(locked, name)) {
                ws[j].alone = true;
            } else if (!json_object_get(holding, name)) {
                ws[j].refused = true;
            }
        }
        json_decref(locked);
        json_decref(holding);
    }
    json_decref(names);
    json_decref(leases);
    return rc;
}

//  Store the events of the group's writes in one statement. A write whose
//  events it could not store as its handler's common case (a resend, a
//  missing session, a lost lease) is marked to run alone. Returns 0 or
//  -1.
static int
s_gw_events(st_router_t *self, s_gw_t *ws, size_t m, json_t *index)
{
    json_t *rows = json_array();
    json_t *sessions = json_array();
    zchunk_t *msgs = zchunk_new("[", 1);
    zchunk_t *chats = zchunk_new("[", 1);
    zchunk_t *acks = zchunk_new("[", 1);
    for (size_t j = 0; j < m; j++) {
        s_gw_t *w = &ws[j];
        if (!w->events || w->alone || w->refused) {
            continue;
        }
        s_event_rows(self, w->lease.worker, w->events, (json_int_t)j, rows);
        json_t *q = json_pack("{s:I, s:s, s:I, s:s?}", "k", (json_int_t)j,
                              "session", w->lease.name, "count",
                              (json_int_t)json_array_size(w->events), "worker",
                              w->lease.worker);
        if (w->lease.worker) {
            json_object_set_new(q, "epoch", json_integer(w->lease.epoch));
        }
        json_array_append_new(sessions, q);
        st_messages_texts_t texts;
        st_messages_batch_texts_k(w->lease.name, w->events, (json_int_t)j,
                                  &texts);
        s_gw_join(msgs, texts.rows);
        s_gw_join(chats, texts.chats);
        s_gw_join(acks, texts.acks);
        st_messages_texts_free(&texts);
    }
    int rc = 0;
    if (json_array_size(sessions) > 0) {
        char *p[5] = {cm_json_dumps(rows, NULL), cm_json_dumps(sessions, NULL),
                      s_gw_close(msgs), s_gw_close(chats), s_gw_close(acks)};
        PGresult *res = st_db_exec(st_router_db(self), "st_event_append_group",
                                   5, (const char **)p);
        for (int i = 0; i < 5; i++) {
            free(p[i]);
        }
        for (int r = 0; res && r < PQntuples(res); r++) {
            json_t *k = json_object_get(index, st_db_text(res, r, 0));
            s_gw_t *w = k ? &ws[json_integer_value(k)] : NULL;
            assert(w && w->events);
            int64_t seq = st_db_int(res, r, 1);
            w->first = w->stored == 0 || seq < w->first ? seq : w->first;
            w->stored++;
        }
        PQclear(res);
        rc = res ? 0 : -1;
        for (size_t j = 0; rc == 0 && j < m; j++) {
            s_gw_t *w = &ws[j];
            if (w->events && !w->alone && !w->refused) {
                assert(w->stored == 0 ||
                       w->stored == json_array_size(w->events));
                w->alone = w->stored == 0;
            }
        }
    }
    json_decref(rows);
    json_decref(sessions);
    zchunk_destroy(&msgs);
    zchunk_destroy(&chats);
    zchunk_destroy(&acks);
    return rc;
}

//  The reply to write w, stored by the group (its events announced).
static cm_msg_t *
s_gw_reply(st_router_t *self, cm_msg_t *request, s_gw_t *w, json_t *written,
           json_t *deleted)
{
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    const char *name = w->lease.name;
    if (w->kind == S_GW_APPEND) {
        json_t *ev = json_array_get(w->events, 0);
        st_events_announce(
            self, name, json_string_value(json_object_get(ev, "id")), w->first,
            json_string_value(json_object_get(ev, "event")));
        cm_msg_set_int(reply, "seq", w->first);
        return reply;
    }
    if (w->kind == S_GW_BATCH) {
        json_t *results = json_array();
        json_t *stored = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(w->events, i, item)
        {
            json_int_t seq = (json_int_t)(w->first + (int64_t)i);
            json_array_append_new(results, json_pack("{s:I}", "seq", seq));
            json_array_append_new(
                stored, json_pack("[O, I, O]", json_object_get(item, "id"), seq,
                                  json_object_get(item, "event")));
        }
        s_batch_announce(self, name, stored);
        json_decref(stored);
        cm_msg_set(reply, "results", results);
    }
    if (w->rows) {
        json_int_t n_written =
            json_integer_value(json_object_get(written, name));
        json_int_t n_deleted =
            json_integer_value(json_object_get(deleted, name));
        if (w->kind == S_GW_PUT) {
            cm_msg_set_int(reply, "written", n_written);
            cm_msg_set_int(reply, "deleted", n_deleted);
        } else {
            cm_msg_set(reply, "signal",
                       json_pack("{s:I, s:I}", "written", n_written, "deleted",
                                 n_deleted));
        }
    }
    return reply;
}

//  st_group_fn: the writes of a group with one statement per table. Takes
//  only the first write of each session (a later one waits for it: it
//  runs alone, after).
static int
s_group_write(st_router_t *self, cm_msg_t **requests, size_t n,
              cm_msg_t **replies)
{
    s_gw_t *ws = cm_alloc(n * sizeof *ws);
    json_t *seen = json_object();  //  sessions named so far
    json_t *index = json_object(); //  session -> its write in ws
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = s_gw_session(requests[i]);
        if (!name || json_object_get(seen, name)) {
            continue;
        }
        json_object_set_new(seen, name, json_true());
        if (s_gw_take(requests[i], &ws[m])) {
            ws[m].i = i;
            json_object_set_new(index, name, json_integer((json_int_t)m));
            m++;
        }
    }
    json_decref(seen);
    int rc = 0;
    json_t *sig = json_array();
    json_t *written = json_object();
    json_t *deleted = json_object();
    if (m >= 2) {
        rc = s_gw_fence(self, ws, m);
        if (rc == 0) {
            rc = s_gw_events(self, ws, m, index);
        }
        bool deletes = false;
        for (size_t j = 0; rc == 0 && j < m; j++) {
            if (ws[j].rows && !ws[j].alone && !ws[j].refused) {
                st_signal_add_rows(self, ws[j].lease.name, ws[j].rows, sig);
                deletes = deletes || ws[j].deletes;
            }
        }
        if (rc == 0 && json_array_size(sig) > 0) {
            rc = st_signal_write_group(self, sig, deletes, written, deleted);
        }
    }
    for (size_t j = 0; m >= 2 && rc == 0 && j < m; j++) {
        s_gw_t *w = &ws[j];
        cm_msg_t *request = requests[w->i];
        if (w->refused) {
            replies[w->i] = cm_msg_new_reply(request, 409, "lease not held");
        } else if (!w->alone) {
            replies[w->i] = s_gw_reply(self, request, w, written, deleted);
        }
    }
    if (rc != 0) {
        st_db_rollback(st_router_db(self));
    } else if (m >= 2) {
        size_t alone = 0, refused = 0;
        for (size_t j = 0; j < m; j++) {
            alone += ws[j].alone;
            refused += ws[j].refused;
        }
        cm_log_debug("group writes stored together",
                     "requests=%zu taken=%zu alone=%zu refused=%zu", n, m,
                     alone, refused);
    }
    for (size_t j = 0; j < m; j++) {
        json_decref(ws[j].events);
    }
    json_decref(sig);
    json_decref(written);
    json_decref(deleted);
    json_decref(index);
    free(ws);
    return rc;
}

static cm_msg_t *
s_list(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    int64_t after = 0;
    int64_t limit = 0;
    if (!name ||
        st_router_int(request, "after", 0, INT64_MAX, false, 0, &after,
                      &reply) ||
        st_router_int(request, "limit", 1, ST_EVENTS_LIST_MAX, false,
                      ST_EVENTS_LIST_DEFAULT, &limit, &reply)) {
        return reply;
    }
    json_t *tail = json_object_get(cm_msg_body(request), "tail");
    if (tail && !json_is_boolean(tail)) {
        return cm_msg_new_reply(request, 400, "tail must be a boolean");
    }
    if (json_is_true(tail)) {
        //  Where a reader that wants only new events starts
        const char *p1[] = {name};
        PGresult *res = st_db_exec(st_router_db(self), "st_event_tail", 1, p1);
        if (!res) {
            return st_router_db_fail(self, request);
        }
        int64_t last = PQntuples(res) ? st_db_int(res, 0, 0) : 0;
        PQclear(res);
        reply = cm_msg_new_reply(request, 200, NULL);
        cm_msg_set(reply, "events", json_array());
        cm_msg_set_int(reply, "next", last);
        return reply;
    }
    char after_s[24];
    char limit_s[24];
    snprintf(after_s, sizeof after_s, "%" PRId64, after);
    snprintf(limit_s, sizeof limit_s, "%" PRId64, limit);
    const char *params[] = {name, after_s, limit_s};
    PGresult *res = st_db_exec(st_router_db(self), "st_event_list", 3, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *events = json_array();
    json_t *seqs = json_array();
    int64_t next = after;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *env = st_db_json(res, i, 1);
        next = st_db_int(res, i, 0);
        if (env) {
            json_array_append_new(events, env);
            json_array_append_new(seqs, json_integer(next));
        }
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "events", events);
    cm_msg_set(reply, "seqs", seqs);
    cm_msg_set_int(reply, "next", next);
    return reply;
}

//  The start of the batch statements: x the items of $1 ({n, id,
//  event, env}), s the session row moved on by $3 seqs when no id exists
//  yet and the lease, if $4, is held (base, name and the envelope tail).
#define S_APPEND_HEAD                                                          \
    "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS "                 \
    "x(n bigint, id text, event text, env json)), "                            \
    "s AS (UPDATE sessions AS s SET event_seq = s.event_seq + $3::bigint "     \
    "WHERE s.name = $2 "                                                       \
    "AND NOT EXISTS (SELECT 1 FROM events WHERE id IN (SELECT id FROM x)) "    \
    "AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM session_leases l "         \
    "WHERE l.session = $2 AND l.worker = $4 AND l.epoch = $5::bigint "         \
    "AND l.expires_at > now())) "                                              \
    "RETURNING s.event_seq - $3::bigint AS base, s.name, " S_APPEND_TAIL ") "

//  The envelope tail of session row s: its session fields and the
//  closing brace.
#define S_APPEND_TAIL                                                          \
    "',\"session\":' || to_json(s.name)::text || ',\"me\":' || "               \
    "COALESCE(s.me::text, 'null') || "                                         \
    "CASE WHEN COALESCE(jsonb_typeof(s.config -> 'metadata'), 'null') = "      \
    "'null' THEN '' ELSE ',\"metadata\":' || "                                 \
    "(s.config -> 'metadata')::text END || '}' AS tail"

int
st_events_register(st_router_t *r)
{
    st_router_prepare(
        r, "st_event_seq",
        "UPDATE sessions AS s SET event_seq = s.event_seq + 1 "
        "WHERE s.name = $1 RETURNING s.event_seq, " ST_SESSION_JSON);
    st_router_prepare(r, "st_event_insert",
                      "INSERT INTO events (id, session, seq, event, envelope) "
                      "VALUES ($1, $2, $3, $4, $5::json)");
    //  s_append_set: $1 is [{n, id, event, env}] with n = 1..$3 and env
    //  the envelope without session, me and metadata; $4/$5 the worker
    //  and epoch whose lease must be held (NULL: no check). Returns the
    //  seqs (item n has the n-th lowest), or no row. The envelope stays
    //  text: the session fields are spliced in before its closing brace,
    //  and nothing is parsed into jsonb.
    st_router_prepare(r, "st_event_append",
                      S_APPEND_HEAD
                      "INSERT INTO events (id, session, seq, event, envelope) "
                      "SELECT x.id, s.name, s.base + x.n, x.event, "
                      "(left(x.env::text, -1) || s.tail)::json "
                      "FROM s, x ORDER BY x.n RETURNING seq");
    //  s_batch_fast: as st_event_append, with the batch's messages ($6, as
    //  st_messages_put's $2 plus ack_name), chats ($7) and acks ($8, as
    //  st_messages_ack's $2) written by the same statement when the
    //  events are (each needs `s`, which has no row otherwise). The ack
    //  update does not see the messages this statement inserts (their
    //  acks come folded into $6), only those stored before. It finds them
    //  by (session = $2, id = ANY(ids)): joined on s.name, or on the ids
    //  alone, the generic plan read every message of the session (a
    //  bitmap scan and a hash join, 0.6-1.7 ms a call with 200-300
    //  messages a session: perf10).
    st_router_prepare(
        r, "st_event_append_all",
        S_APPEND_HEAD
        ", e AS (INSERT INTO events (id, session, seq, event, envelope) "
        "SELECT x.id, s.name, s.base + x.n, x.event, "
        "(left(x.env::text, -1) || s.tail)::json "
        "FROM s, x ORDER BY x.n RETURNING seq), "
        "m AS (INSERT INTO messages (session, id, chat, from_me, sender, ts, "
        "type, body, payload, ack, ack_name, unread, starred) SELECT s.name, "
        "r.id, r.chat, r.from_me, r.sender, r.ts, r.type, r.body, r.payload, "
        "r.ack, r.ack_name, COALESCE(r.unread, false), "
        "COALESCE(r.starred, false) "
        "FROM s, json_to_recordset($6::json) AS r(id text, chat text, "
        "from_me boolean, sender text, ts bigint, type text, body text, "
        "payload json, ack integer, ack_name text, unread boolean, "
        "starred boolean) ON CONFLICT (session, id) DO NOTHING), "
        "c AS (INSERT INTO chats (session, jid, last_ts) "
        "SELECT s.name, c.jid, max(c.ts) FROM s, json_to_recordset($7::json) "
        "AS c(jid text, ts bigint) GROUP BY s.name, c.jid ORDER BY c.jid "
        "ON CONFLICT (session, jid) DO UPDATE SET last_ts = "
        "GREATEST(chats.last_ts, EXCLUDED.last_ts), updated_at = now()), "
        "a AS (UPDATE messages m SET ack = a.ack, ack_name = a.name, "
        "unread = m.unread AND a.ack < 3 "
        "FROM (SELECT DISTINCT ON (y.id) y.id, y.ack, y.name "
        "FROM json_to_recordset($8::json) AS y(id text, ack integer, "
        "name text) ORDER BY y.id, y.ack DESC) a "
        "WHERE EXISTS (SELECT 1 FROM s) AND m.session = $2 AND m.id = ANY "
        "(ARRAY(SELECT y.id FROM json_to_recordset($8::json) AS y(id text))) "
        "AND m.id = a.id AND m.ack < a.ack) "
        "SELECT seq FROM e");
    //  s_group_write: the events of several sessions' writes, with their
    //  messages, chats and acks, as st_event_append_all does for one. $1
    //  the items {k, n, id, event, env} (k: the write, n = 1..count of
    //  its items), $2 the writes {k, session, count, worker, epoch} (one
    //  per session), $3-$5 as $6-$8 there with k on each. A write with an
    //  id stored already, or whose lease is not held, gets no row and
    //  nothing written. Returns (session, seq) per event. Every table is
    //  read by key = ANY (ARRAY(...)): joined to a json_to_recordset, or
    //  tested by a correlated subquery, the generic plan scanned events,
    //  sessions, leases or messages whole (1.2 s a call at 20,000 events).
    st_router_prepare(
        r, "st_event_append_group",
        "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS "
        "x(k integer, n bigint, id text, event text, env json)), "
        "w AS (SELECT * FROM json_to_recordset($2::json) AS "
        "w(k integer, session text, count bigint, worker text, "
        "epoch bigint)), "
        "d AS (SELECT DISTINCT x.k FROM x WHERE x.id IN (SELECT v.id "
        "FROM events v WHERE v.id = ANY (ARRAY(SELECT x.id FROM x)))), "
        "h AS (SELECT l.session FROM session_leases l JOIN w "
        "ON l.session = w.session AND l.worker = w.worker "
        "AND l.epoch = w.epoch WHERE l.session = ANY "
        "(ARRAY(SELECT w.session FROM w)) AND l.expires_at > now()), "
        "q AS (SELECT * FROM w WHERE w.k NOT IN (SELECT d.k FROM d) "
        "AND (w.worker IS NULL OR w.session IN (SELECT h.session FROM h))), "
        "s AS (UPDATE sessions AS s SET event_seq = s.event_seq + q.count "
        "FROM q WHERE s.name = ANY (ARRAY(SELECT q.session FROM q)) "
        "AND s.name = q.session "
        "RETURNING q.k, s.event_seq - q.count AS base, s.name, " S_APPEND_TAIL
        "), e AS (INSERT INTO events (id, session, seq, event, envelope) "
        "SELECT x.id, s.name, s.base + x.n, x.event, "
        "(left(x.env::text, -1) || s.tail)::json "
        "FROM s JOIN x ON x.k = s.k ORDER BY x.k, x.n "
        "RETURNING session, seq), "
        "m AS (INSERT INTO messages (session, id, chat, from_me, sender, ts, "
        "type, body, payload, ack, ack_name, unread, starred) SELECT s.name, "
        "r.id, r.chat, r.from_me, r.sender, r.ts, r.type, r.body, r.payload, "
        "r.ack, r.ack_name, COALESCE(r.unread, false), "
        "COALESCE(r.starred, false) "
        "FROM s JOIN json_to_recordset($3::json) AS r(k integer, id text, "
        "chat text, from_me boolean, sender text, ts bigint, type text, "
        "body text, payload json, ack integer, ack_name text, "
        "unread boolean, starred boolean) ON r.k = s.k "
        "ON CONFLICT (session, id) DO NOTHING), "
        "c AS (INSERT INTO chats (session, jid, last_ts) "
        "SELECT s.name, c.jid, max(c.ts) FROM s JOIN "
        "json_to_recordset($4::json) AS c(k integer, jid text, ts bigint) "
        "ON c.k = s.k GROUP BY s.name, c.jid ORDER BY s.name, c.jid "
        "ON CONFLICT (session, jid) DO UPDATE SET last_ts = "
        "GREATEST(chats.last_ts, EXCLUDED.last_ts), updated_at = now()), "
        "ya AS (SELECT DISTINCT ON (s.name, y.id) s.name AS session, y.id, "
        "y.ack, y.name FROM s JOIN json_to_recordset($5::json) AS "
        "y(k integer, id text, ack integer, name text) ON y.k = s.k "
        "ORDER BY s.name, y.id, y.ack DESC), "
        "a AS (UPDATE messages m SET ack = ya.ack, ack_name = ya.name, "
        "unread = m.unread AND ya.ack < 3 FROM ya "
        "WHERE m.session = ANY (ARRAY(SELECT ya.session FROM ya)) "
        "AND m.id = ANY (ARRAY(SELECT ya.id FROM ya)) "
        "AND m.session = ya.session AND m.id = ya.id AND m.ack < ya.ack) "
        "SELECT session, seq FROM e");
    //  s_group_write: lock the session rows of writes with Signal rows
    //  ($1: their names) and then, in a statement of its own, find which
    //  of them hold their lease ($1: [{session, worker, epoch}]), as
    //  st_devices_lock and st_leases_fence do for one.
    st_router_prepare(r, "st_event_group_lock",
                      "SELECT name FROM sessions WHERE name = ANY "
                      "(ARRAY(SELECT json_array_elements_text($1::json))) "
                      "ORDER BY name FOR SHARE");
    st_router_prepare(r, "st_event_group_leases",
                      "SELECT q.session FROM json_to_recordset($1::json) AS "
                      "q(session text, worker text, epoch bigint) "
                      "JOIN session_leases l ON l.session = q.session "
                      "AND l.worker = q.worker AND l.epoch = q.epoch "
                      "WHERE l.expires_at > now()");
    st_router_set_group_writer(r, s_group_write);
    st_router_prepare(r, "st_event_by_id",
                      "SELECT seq, session FROM events WHERE id = $1");
    st_router_prepare(r, "st_event_list",
                      "SELECT seq, envelope FROM events WHERE session = $1 "
                      "AND seq > $2 ORDER BY seq LIMIT $3");
    st_router_prepare(r, "st_event_tail",
                      "SELECT event_seq FROM sessions WHERE name = $1");
    st_router_add(r, "event.append", 1, s_append, ST_ROUTER_DB);
    st_router_add(r, "event.append_batch", 1, s_append_batch, ST_ROUTER_DB);
    st_router_add(r, "event.list", 1, s_list, ST_ROUTER_DB);
    return 0;
}

void
st_events_test(bool verbose)
{
    printf(" * st_events: ");
    json_t *session = json_loads(
        "{\"name\":\"default\",\"status\":\"SCAN_QR_CODE\","
        "\"config\":{\"metadata\":{\"user.id\":\"7\"}},"
        "\"me\":null,\"statuses\":[{\"status\":\"STARTING\",\"timestamp\":1}],"
        "\"instance_id\":\"I1\"}",
        0, NULL);
    assert(session);
    json_t *payload = st_events_status_payload(session);
    assert(cm_streq(json_string_value(json_object_get(payload, "name")),
                    "default"));
    assert(json_array_size(json_object_get(payload, "statuses")) == 1);
    assert(json_is_null(json_object_get(payload, "data")));

    json_t *env =
        st_events_envelope(session, "evt_01", 1741249702485LL, "session.status",
                           payload, "NOWEB", "w1", "data:image/png;base64,AA");
    const char *want_keys[] = {
        "id",     "timestamp", "event",  "session",     "metadata",
        "me",     "payload",   "engine", "environment", "instance_id",
        "status", "qr",        "ts",     NULL};
    for (int i = 0; want_keys[i]; i++) {
        assert(json_object_get(env, want_keys[i]));
    }
    assert(json_integer_value(json_object_get(env, "ts")) == 1741249702);
    assert(cm_streq(json_string_value(json_object_get(env, "qr")),
                    "data:image/png;base64,AA"));
    assert(cm_streq(json_string_value(json_object_get(env, "status")),
                    "SCAN_QR_CODE"));
    //  engine and environment as WAHA's schema has them
    assert(
        cm_streq(json_string_value(json_object_get(env, "engine")), "NOWEB"));
    json_t *environment = json_object_get(env, "environment");
    assert(cm_streq(json_string_value(json_object_get(environment, "engine")),
                    "NOWEB"));
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(environment, "worker"), "id")),
                    "w1"));
    assert(cm_streq(json_string_value(json_object_get(environment, "tier")),
                    "CORE"));
    assert(json_is_string(json_object_get(environment, "browser")));
    json_decref(env);

    //  no QR outside SCAN_QR_CODE; no Wawp fields or metadata elsewhere
    json_object_set_new(payload, "status", json_string("WORKING"));
    env = st_events_envelope(session, "evt_02", 5000, "session.status", payload,
                             CM_WAHA_ENGINE_DEFAULT, NULL, "data:x");
    assert(json_is_null(json_object_get(env, "qr")));
    assert(json_is_null(json_object_get(
        json_object_get(json_object_get(env, "environment"), "worker"), "id")));
    json_decref(env);
    json_object_del(json_object_get(session, "config"), "metadata");
    env = st_events_envelope(session, "evt_03", 5000, "message", payload,
                             CM_WAHA_ENGINE_DEFAULT, NULL, NULL);
    assert(!json_object_get(env, "metadata"));
    assert(!json_object_get(env, "instance_id"));
    assert(!json_object_get(env, "qr"));
    assert(json_is_null(json_object_get(env, "me")));
    json_decref(env);
    json_decref(payload);
    json_decref(session);

    //  the group writer takes plain writes with valid fields only
    const char *takes[][3] = {
        {"event.append_batch",
         "{\"session\":\"a\",\"worker\":\"w\",\"epoch\":1,\"events\":"
         "[{\"id\":\"evt_1\",\"event\":\"message\"}],\"signal\":"
         "[{\"kind\":\"session\",\"key\":\"1.0\",\"data\":null}]}",
         "y"},
        {"event.append_batch",
         "{\"session\":\"a\",\"events\":[{\"id\":\"evt_1\",\"event\":"
         "\"session.status\"}]}",
         "n"},
        {"event.append_batch",
         "{\"session\":\"a\",\"events\":[{\"id\":\"evt_1\",\"event\":"
         "\"message\"}],\"signal\":[]}",
         "n"}, //  Signal rows need a lease
        {"event.append",
         "{\"session\":\"a\",\"id\":\"evt_2\",\"event\":\"message\","
         "\"payload\":{}}",
         "y"},
        {"event.append",
         "{\"session\":\"a\",\"id\":\"x\",\"event\":\"message\"}", "n"},
        {"signal.put",
         "{\"name\":\"a\",\"worker\":\"w\",\"epoch\":1,\"rows\":[]}", "y"},
        {"signal.put", "{\"name\":\"a\",\"rows\":[]}", "n"},
        {"event.list", "{\"session\":\"a\"}", "n"},
    };
    for (size_t i = 0; i < sizeof takes / sizeof takes[0]; i++) {
        cm_msg_t *req = cm_msg_new(takes[i][0]);
        json_t *body = json_loads(takes[i][1], 0, NULL);
        assert(body);
        cm_msg_set_body(req, &body);
        s_gw_t w;
        bool taken = s_gw_take(req, &w);
        assert(taken == (takes[i][2][0] == 'y'));
        assert(cm_streq(s_gw_session(req), "a"));
        if (taken) {
            assert(w.kind == S_GW_PUT ? w.events == NULL
                                      : json_array_size(w.events) == 1);
            assert(w.deletes == (i == 0));
        }
        json_decref(w.events);
        cm_msg_destroy(&req);
    }
    zchunk_t *buf = zchunk_new("[", 1);
    s_gw_join(buf, "[]");
    s_gw_join(buf, "[1,2]");
    s_gw_join(buf, "[]");
    s_gw_join(buf, "[{\"k\":3}]");
    char *joined = s_gw_close(buf);
    assert(cm_streq(joined, "[1,2,{\"k\":3}]"));
    free(joined);
    zchunk_destroy(&buf);

    assert(s_id_valid("evt_01h2xcejqtf2nbrexx3vqjhp41"));
    assert(!s_id_valid("evt_"));
    assert(!s_id_valid("ev_1"));
    assert(!s_id_valid("evt_a b"));
    printf("OK\n");
}
