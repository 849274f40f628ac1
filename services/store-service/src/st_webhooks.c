/*  st_webhooks - the `delivery` message family: webhook deliveries, their
    streams, attempts, replay and retention

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

//  Epoch milliseconds of a timestamptz expression, in SQL.
#define ST_WH_MS(x) "(extract(epoch FROM " x ") * 1000)::bigint"

//  A delivery row `d` as the JSON object of proto/PROTOCOL.md.
// clang-format off
#define ST_WH_DELIVERY_JSON                                                  \
    "json_build_object('id', d.id, 'event_id', d.event_id, "                 \
    "'event', d.event, 'session', d.session, 'seq', d.seq, 'url', d.url, "   \
    "'source', d.source, 'status', d.status, 'attempts', d.attempts, "       \
    "'next_attempt_at', " ST_WH_MS("d.next_attempt_at") ", "                 \
    "'last_status', d.last_status, 'last_error', d.last_error, "             \
    "'replays', d.replays, "                                                 \
    "'created_at', " ST_WH_MS("d.created_at") ", "                           \
    "'updated_at', " ST_WH_MS("d.updated_at") ", "                           \
    "'delivered_at', " ST_WH_MS("d.delivered_at") ")"
// clang-format on

//  The `id` fields of the objects in JSON array parameter `p` as a bigint
//  array, computed once: `d.id = ANY <this>` makes the planner probe the
//  primary key instead of scanning the table for a join.
#define ST_WH_IDS(p)                                                           \
    "(ARRAY(SELECT (e->>'id')::bigint FROM jsonb_array_elements(" p            \
    "::jsonb) AS e))"

//  (session, upto): how far each session's committed events go, live
//  sessions and deleted ones (sql/0006_fanout_cursor.sql).
#define ST_WH_COMMITTED                                                        \
    "SELECT session, max(upto) AS upto FROM (SELECT name AS session, "         \
    "event_seq AS upto FROM sessions UNION ALL SELECT session, upto "          \
    "FROM event_orphans) a GROUP BY session"

//  Release streams of $1 listed in $2: drop the claim and make each due
//  when its first pending delivery is (never, when none is).
#define ST_WH_RELEASE_SET                                                      \
    "UPDATE webhook_streams w SET claimed_by = NULL, claimed_until = NULL, "   \
    "next_at = (SELECT d.next_attempt_at FROM webhook_deliveries d "           \
    "WHERE d.session = w.session AND d.url = w.url "                           \
    "AND d.status = 'pending' ORDER BY d.order_key LIMIT 1) "

//  Run prepared statement `name` whose parameters are given as text, with
//  JSON values dumped. Returns the result or NULL (see st_db_exec).
static PGresult *
s_exec(st_router_t *self, const char *name, int n, const char *const *params)
{
    return st_db_exec(st_router_db(self), name, n, params);
}

//  Compact JSON text of `v`. Caller owns return value.
static char *
s_text(json_t *v)
{
    char *text = cm_json_dumps(v, NULL);
    assert(text);
    return text;
}

//  Run `name` with one JSON parameter (and an optional text one before
//  it). Returns the result or NULL.
static PGresult *
s_exec_json(st_router_t *self, const char *name, const char *first, json_t *v)
{
    char *text = s_text(v);
    const char *params[2] = {first, text};
    PGresult *res = first ? s_exec(self, name, 2, params)
                          : s_exec(self, name, 1, params + 1);
    free(text);
    return res;
}

//  Advance the order-key sequence past `count` keys; returns the base
//  (keys are base + 1 .. base + count) or -1. Hold the advisory lock.
static int64_t
s_order_keys(st_router_t *self, int64_t count)
{
    PGresult *res = s_exec(self, "st_wh_order_base", 0, NULL);
    if (!res) {
        return -1;
    }
    int64_t base = st_db_int(res, 0, 0);
    PQclear(res);
    char last[24];
    snprintf(last, sizeof last, "%" PRId64, base + count);
    const char *params[] = {last};
    res = s_exec(self, "st_wh_order_set", 1, params);
    if (!res) {
        return -1;
    }
    PQclear(res);
    return base;
}

//  ---------------------------------------------------------------------
//  delivery.fanout

//  The usable webhooks of a session config's `webhooks` (borrowed): each
//  valid one in full form. Invalid ones are skipped with a warning.
//  Caller owns return value.
static json_t *
s_session_hooks(const char *session, json_t *webhooks)
{
    json_t *out = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(webhooks, i, h)
    {
        char *err = NULL;
        char where[64];
        snprintf(where, sizeof where, "config.webhooks[%zu]", i);
        if (cm_webhook_validate(h, where, &err)) {
            cm_log_warn("skipped invalid webhook",
                        "session=\"%s\" "
                        "reason=\"%s\"",
                        session, err);
            free(err);
            continue;
        }
        json_array_append_new(out, cm_webhook_normalize(h));
    }
    return out;
}

//  Add the deliveries of one event for `hooks` (full form) to
//  `deliveries`, skipping URLs already in `urls`; register configs in
//  `configs` (id -> {id, url, config}).
static void
s_fan_event(json_t *row, json_t *hooks, const char *source, json_t *urls,
            json_t *configs, json_t *deliveries)
{
    const char *event = json_string_value(json_object_get(row, "event"));
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        const char *url = json_string_value(json_object_get(h, "url"));
        if (!json_is_true(json_object_get(h, "is_active")) ||
            !cm_webhook_matches(json_object_get(h, "events"), event) ||
            json_object_get(urls, url)) {
            continue;
        }
        json_object_set_new(urls, url, json_true());
        char id[CM_WEBHOOK_ID_SIZE];
        cm_webhook_id(h, id);
        if (!json_object_get(configs, id)) {
            json_object_set_new(configs, id,
                                json_pack("{s:s, s:s, s:O}", "id", id, "url",
                                          url, "config", h));
        }
        json_t *d = json_deep_copy(row);
        json_object_set_new(d, "url", json_string(url));
        json_object_set_new(d, "hook_id", json_string(id));
        json_object_set_new(d, "source", json_string(source));
        json_object_set_new(
            d, "ord",
            json_integer((json_int_t)json_array_size(deliveries) + 1));
        json_array_append_new(deliveries, d);
    }
}

//  Insert the fanned-out deliveries and their configs.
static int
s_fan_insert(st_router_t *self, json_t *configs, json_t *deliveries)
{
    json_t *list = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(configs, key, v)
    {
        json_array_append(list, v);
    }
    PGresult *res = s_exec_json(self, "st_wh_hooks_insert", NULL, list);
    json_decref(list);
    if (!res) {
        return -1;
    }
    PQclear(res);
    int64_t base = s_order_keys(self, (int64_t)json_array_size(deliveries));
    if (base < 0) {
        return -1;
    }
    char base_s[24];
    snprintf(base_s, sizeof base_s, "%" PRId64, base);
    char *text = s_text(deliveries);
    const char *params[] = {text, base_s};
    res = s_exec(self, "st_wh_deliveries_insert", 2, params);
    free(text);
    if (!res) {
        return -1;
    }
    PQclear(res);
    return 0;
}

static cm_msg_t *
s_fanout(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    int64_t limit = 0;
    if (st_router_int(request, "limit", 1, ST_WEBHOOKS_FANOUT_MAX, false,
                      ST_WEBHOOKS_FANOUT_DEFAULT, &limit, &reply)) {
        return reply;
    }
    json_t *given = json_object_get(cm_msg_body(request), "global");
    if (given && !json_is_null(given) && !json_is_array(given)) {
        return cm_msg_new_reply(request, 400,
                                "field 'global' must be an array of "
                                "webhooks");
    }
    json_t *global = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(given, i, h)
    {
        char *err = NULL;
        char where[32];
        snprintf(where, sizeof where, "global[%zu]", i);
        if (cm_webhook_validate(h, where, &err)) {
            reply = cm_msg_new_reply(request, 400, err);
            free(err);
            json_decref(global);
            return reply;
        }
        json_array_append_new(global, cm_webhook_normalize(h));
    }

    st_db_t *db = st_router_db(self);
    json_t *configs = json_object();
    json_t *deliveries = json_array();
    json_t *session_hooks = NULL;
    char *session = NULL;
    int64_t picked = 0;
    PGresult *res = NULL;
    if (st_db_begin(db)) {
        goto failed;
    }
    if (!(res = s_exec(self, "st_wh_fanout_lock", 0, NULL))) {
        goto failed;
    }
    bool locked = cm_streq(st_db_text(res, 0, 0), "t");
    PQclear(res);
    if (!locked) {
        //  Another fan-out is running; it will pick these events up.
        st_db_rollback(db);
        reply = cm_msg_new_reply(request, 200, NULL);
        cm_msg_set_int(reply, "events", 0);
        cm_msg_set_int(reply, "deliveries", 0);
        cm_msg_set_bool(reply, "more", true);
        goto done;
    }
    char limit_s[24];
    snprintf(limit_s, sizeof limit_s, "%" PRId64, limit);
    const char *p1[] = {limit_s};
    if (!(res = s_exec(self, "st_wh_fanout_pick", 1, p1))) {
        goto failed;
    }
    //  Each session's cursor moves to the end of its range, except the
    //  last session's when the row limit may have cut its range short:
    //  then to its last event seen
    int rows = PQntuples(res);
    int events = 0;
    json_t *cursors = json_array();
    for (int r = 0; r < rows; r++) {
        const char *name = st_db_text(res, r, 1);
        if (!cm_streq(name, session)) {
            free(session);
            session = cm_strdup(name);
            json_decref(session_hooks);
            json_t *webhooks = st_db_json(res, r, 4);
            session_hooks = s_session_hooks(name, webhooks);
            json_decref(webhooks);
        }
        bool last_of_session =
            r + 1 == rows || !cm_streq(st_db_text(res, r + 1, 1), name);
        if (!PQgetisnull(res, r, 0)) {
            events++;
            json_t *row = json_pack("{s:s, s:s, s:I, s:s}", "event_id",
                                    st_db_text(res, r, 0), "session", name,
                                    "seq", (json_int_t)st_db_int(res, r, 2),
                                    "event", st_db_text(res, r, 3));
            json_t *urls = json_object();
            s_fan_event(row, session_hooks, "session", urls, configs,
                        deliveries);
            s_fan_event(row, global, "global", urls, configs, deliveries);
            json_decref(urls);
            json_decref(row);
        }
        if (last_of_session) {
            bool cut = r + 1 == rows && rows >= limit;
            int64_t to = cut ? st_db_int(res, r, 2) : st_db_int(res, r, 5);
            json_array_append_new(cursors,
                                  json_pack("{s:s, s:I}", "session", name,
                                            "fanned", (json_int_t)to));
        }
    }
    picked = rows;
    PQclear(res);
    if (json_array_size(deliveries) > 0 &&
        s_fan_insert(self, configs, deliveries)) {
        json_decref(cursors);
        goto failed;
    }
    if (json_array_size(cursors) > 0) {
        res = s_exec_json(self, "st_wh_fanout_mark", NULL, cursors);
        json_decref(cursors);
        if (!res) {
            goto failed;
        }
        PQclear(res);
    } else {
        json_decref(cursors);
    }
    //  Streams last: their rows stay locked (and skipped by claims) only
    //  until the commit.
    if (json_array_size(deliveries) > 0) {
        if (!(res =
                  s_exec_json(self, "st_wh_streams_touch", NULL, deliveries))) {
            goto failed;
        }
        PQclear(res);
    }
    if (st_db_commit(db)) {
        goto failed;
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "events", events);
    cm_msg_set_int(reply, "deliveries", (int64_t)json_array_size(deliveries));
    cm_msg_set_bool(reply, "more", picked >= limit);
    goto done;
failed:
    reply = st_router_db_fail(self, request);
done:
    free(session);
    json_decref(session_hooks);
    json_decref(global);
    json_decref(configs);
    json_decref(deliveries);
    return reply;
}

//  ---------------------------------------------------------------------
//  delivery.claim

//  Read `worker` (required). Returns it or NULL with *reply_p set.
static const char *
s_worker(cm_msg_t *request, cm_msg_t **reply_p)
{
    return st_router_str(request, "worker", ST_ROUTER_NAME_MAX, reply_p);
}

//  Check an optional array of strings field. Returns 0 or -1 with a 400.
static int
s_string_array(cm_msg_t *request, const char *key, cm_msg_t **reply_p)
{
    json_t *v = json_object_get(cm_msg_body(request), key);
    if (!v || json_is_null(v)) {
        return 0;
    }
    bool ok = json_is_array(v);
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        ok = ok && json_is_string(s);
    }
    if (!ok) {
        char *why = cm_sprintf("field '%s' must be an array of strings", key);
        *reply_p = cm_msg_new_reply(request, 400, why);
        free(why);
        return -1;
    }
    return 0;
}

//  Check an optional array of {session, url} field; returns it (borrowed,
//  an empty array when absent: caller decrefs *owned_p) or NULL with a
//  400.
static json_t *
s_streams_arg(cm_msg_t *request, const char *key, json_t **owned_p,
              cm_msg_t **reply_p)
{
    json_t *v = json_object_get(cm_msg_body(request), key);
    *owned_p = NULL;
    if (!v || json_is_null(v)) {
        *owned_p = json_array();
        return *owned_p;
    }
    bool ok = json_is_array(v);
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        ok = ok && json_is_string(json_object_get(s, "session")) &&
             json_is_string(json_object_get(s, "url"));
    }
    if (!ok) {
        char *why =
            cm_sprintf("field '%s' must be an array of {session, url}", key);
        *reply_p = cm_msg_new_reply(request, 400, why);
        free(why);
        return NULL;
    }
    return v;
}

//  Release streams of `worker` listed in `streams`. Returns the number
//  released or -1.
static int64_t
s_release(st_router_t *self, const char *worker, json_t *streams)
{
    if (json_array_size(streams) == 0) {
        return 0;
    }
    //  Lock the rows first and compute their schedule in a second
    //  statement: its fresh snapshot then sees deliveries a concurrent
    //  fan-out committed while we waited for the lock (one statement
    //  would miss them and leave the stream without a due time).
    PGresult *res = s_exec_json(self, "st_wh_release_lock", worker, streams);
    if (!res) {
        return -1;
    }
    PQclear(res);
    res = s_exec_json(self, "st_wh_release", worker, streams);
    if (!res) {
        return -1;
    }
    int64_t n = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

//  The deliveries of the claimed `streams`: appended to `list` with their
//  bodies; configs they use go into `hooks`. Deliveries whose event is no
//  longer stored are marked dead; streams left with nothing are
//  released. Returns 0 or -1.
static int
s_claim_rows(st_router_t *self, const char *worker, json_t *streams,
             const char *per_stream, json_t *list, json_t *hooks)
{
    char *text = s_text(streams);
    const char *params[] = {text, per_stream};
    PGresult *res = s_exec(self, "st_wh_claim_rows", 2, params);
    free(text);
    if (!res) {
        return -1;
    }
    json_t *missing = json_array();
    json_t *served = json_object();
    json_t *hook_ids = json_array();
    for (int r = 0; r < PQntuples(res); r++) {
        const char *body = st_db_text(res, r, 8);
        if (!body) {
            json_array_append_new(missing, json_integer(st_db_int(res, r, 0)));
            continue;
        }
        const char *hook = st_db_text(res, r, 3);
        if (!json_object_get(hooks, hook)) {
            json_object_set_new(hooks, hook, json_null());
            json_array_append_new(hook_ids, json_string(hook));
        }
        char *key = cm_sprintf("%s\x1f%s", st_db_text(res, r, 1),
                               st_db_text(res, r, 2));
        json_object_set_new(served, key, json_true());
        free(key);
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}",
                            "id", (json_int_t)st_db_int(res, r, 0), "session",
                            st_db_text(res, r, 1), "url", st_db_text(res, r, 2),
                            "hook", hook, "event_id", st_db_text(res, r, 4),
                            "event", st_db_text(res, r, 5), "seq",
                            (json_int_t)st_db_int(res, r, 6), "attempts",
                            (json_int_t)st_db_int(res, r, 7), "body", body));
    }
    PQclear(res);
    int rc = 0;
    if (json_array_size(missing) > 0) {
        cm_log_warn("marked deliveries of pruned events dead", "count=%zu",
                    json_array_size(missing));
        if (!(res = s_exec_json(self, "st_wh_dead_missing", NULL, missing))) {
            rc = -1;
            goto done;
        }
        PQclear(res);
    }
    json_t *empty = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(streams, i, s)
    {
        char *key = cm_sprintf("%s\x1f%s",
                               json_string_value(json_object_get(s, "session")),
                               json_string_value(json_object_get(s, "url")));
        if (!json_object_get(served, key)) {
            json_array_append(empty, s);
        }
        free(key);
    }
    rc = s_release(self, worker, empty) < 0 ? -1 : 0;
    json_decref(empty);
    if (rc == 0 && json_array_size(hook_ids) > 0) {
        if (!(res = s_exec_json(self, "st_wh_hooks_get", NULL, hook_ids))) {
            rc = -1;
            goto done;
        }
        for (int r = 0; r < PQntuples(res); r++) {
            json_t *config = st_db_json(res, r, 1);
            json_object_set_new(hooks, st_db_text(res, r, 0),
                                config ? config : json_null());
        }
        PQclear(res);
    }
done:
    json_decref(missing);
    json_decref(served);
    json_decref(hook_ids);
    return rc;
}

static cm_msg_t *
s_claim(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *worker = s_worker(request, &reply);
    int64_t max = 0;
    int64_t per_stream = 0;
    int64_t per_url = 0;
    int64_t lease = 0;
    if (!worker ||
        st_router_int(request, "max_streams", 1, ST_WEBHOOKS_CLAIM_STREAMS_MAX,
                      false, 100, &max, &reply) ||
        st_router_int(request, "per_stream", 1, ST_WEBHOOKS_PER_STREAM_MAX,
                      false, 50, &per_stream, &reply) ||
        st_router_int(request, "per_url", 1, ST_WEBHOOKS_CLAIM_STREAMS_MAX,
                      false, ST_WEBHOOKS_CLAIM_STREAMS_MAX, &per_url, &reply) ||
        st_router_int(request, "lease_ms", ST_WEBHOOKS_LEASE_MIN,
                      ST_WEBHOOKS_LEASE_MAX, true, 0, &lease, &reply) ||
        s_string_array(request, "skip_urls", &reply)) {
        return reply;
    }
    json_t *skip = json_object_get(cm_msg_body(request), "skip_urls");
    char max_s[24], per_stream_s[24], per_url_s[24], lease_s[24];
    snprintf(max_s, sizeof max_s, "%" PRId64, max);
    snprintf(per_stream_s, sizeof per_stream_s, "%" PRId64, per_stream);
    snprintf(per_url_s, sizeof per_url_s, "%" PRId64, per_url);
    snprintf(lease_s, sizeof lease_s, "%" PRId64, lease);
    char *skip_s = json_is_array(skip) ? s_text(skip) : cm_strdup("[]");
    st_db_t *db = st_router_db(self);
    json_t *streams = json_array();
    json_t *list = json_array();
    json_t *hooks = json_object();
    PGresult *res = NULL;
    int64_t next_due = 0;
    if (st_db_begin(db)) {
        goto failed;
    }
    const char *p1[] = {worker, max_s, lease_s, skip_s, per_url_s};
    if (!(res = s_exec(self, "st_wh_claim", 5, p1))) {
        goto failed;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        json_array_append_new(streams, json_pack("{s:s, s:s}", "session",
                                                 st_db_text(res, r, 0), "url",
                                                 st_db_text(res, r, 1)));
    }
    PQclear(res);
    if (json_array_size(streams) > 0 &&
        s_claim_rows(self, worker, streams, per_stream_s, list, hooks)) {
        goto failed;
    }
    if (!(res = s_exec(self, "st_wh_next_due", 0, NULL))) {
        goto failed;
    }
    next_due = st_db_int(res, 0, 0);
    PQclear(res);
    if (st_db_commit(db)) {
        goto failed;
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "hooks", json_incref(hooks));
    cm_msg_set(reply, "deliveries", json_incref(list));
    cm_msg_set_int(reply, "streams", (int64_t)json_array_size(streams));
    cm_msg_set(reply, "next_due_ms",
               next_due > 0 ? json_integer(next_due) : json_null());
    goto done;
failed:
    reply = st_router_db_fail(self, request);
done:
    free(skip_s);
    json_decref(streams);
    json_decref(list);
    json_decref(hooks);
    return reply;
}

//  ---------------------------------------------------------------------
//  delivery.result

//  Check one result entry. Returns NULL or the reason.
static const char *
s_result_problem(json_t *r)
{
    json_t *rid = json_object_get(r, "request_id");
    json_t *status = json_object_get(r, "http_status");
    json_t *err = json_object_get(r, "error");
    if (!json_is_integer(json_object_get(r, "id"))) {
        return "field 'results[].id' must be an integer";
    }
    if (!json_is_string(rid) || json_string_length(rid) == 0 ||
        json_string_length(rid) > ST_WEBHOOKS_REQUEST_ID_MAX) {
        return "field 'results[].request_id' must be a string of 1 to 64 "
               "bytes";
    }
    if (!json_is_boolean(json_object_get(r, "ok"))) {
        return "field 'results[].ok' must be a boolean";
    }
    if (status && !json_is_null(status) && !json_is_integer(status)) {
        return "field 'results[].http_status' must be an integer";
    }
    if (!json_is_integer(json_object_get(r, "latency_ms")) ||
        !json_is_integer(json_object_get(r, "at"))) {
        return "fields 'results[].latency_ms' and 'at' must be integers";
    }
    if (err && !json_is_null(err) && !json_is_string(err)) {
        return "field 'results[].error' must be a string";
    }
    return NULL;
}

//  Schedule the failed attempts in `failed` (new ones only): the next
//  retry per policy, or dead. Counts go into *retrying and *dead.
static int
s_schedule_failures(st_router_t *self, const char *worker, json_t *failed,
                    int64_t *retrying, int64_t *dead)
{
    json_t *ids = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(failed, i, r)
    {
        json_array_append(ids, json_object_get(r, "id"));
    }
    PGresult *res = s_exec_json(self, "st_wh_failed_info", NULL, ids);
    json_decref(ids);
    if (!res) {
        return -1;
    }
    //  id -> {attempts, config}
    json_t *info = json_object();
    for (int k = 0; k < PQntuples(res); k++) {
        json_t *config = st_db_json(res, k, 2);
        json_object_set_new(info, st_db_text(res, k, 0),
                            json_pack("{s:I, s:o}", "attempts",
                                      (json_int_t)st_db_int(res, k, 1),
                                      "config",
                                      config ? config : json_object()));
    }
    PQclear(res);
    json_t *updates = json_array();
    json_array_foreach(failed, i, r)
    {
        char id_s[24];
        snprintf(id_s, sizeof id_s, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(r, "id")));
        json_t *inf = json_object_get(info, id_s);
        if (!inf) {
            continue; //  no longer pending
        }
        int64_t made = json_integer_value(json_object_get(inf, "attempts")) + 1;
        json_object_set_new(inf, "attempts", json_integer(made));
        json_t *config = json_object_get(inf, "config");
        int64_t end = json_integer_value(json_object_get(r, "at")) +
                      json_integer_value(json_object_get(r, "latency_ms"));
        bool is_dead = made > cm_webhook_retry_attempts(config);
        uint32_t rnd = 0;
        cm_random(&rnd, sizeof rnd);
        int64_t next =
            end + (is_dead ? 0
                           : cm_webhook_retry_delay_ms(
                                 config, (int)made, (double)rnd / UINT32_MAX));
        json_t *err = json_object_get(r, "error");
        const char *text = json_string_value(err);
        json_t *status = json_object_get(r, "http_status");
        char cut[ST_WEBHOOKS_ERROR_MAX + 1];
        snprintf(cut, sizeof cut, "%s", text ? text : "failed");
        json_array_append_new(
            updates,
            json_pack("{s:O, s:s, s:I, s:O, s:s, s:O, s:O, s:O}", "id",
                      json_object_get(r, "id"), "status",
                      is_dead ? "dead" : "pending", "next_ms", (json_int_t)next,
                      "http_status", status ? status : json_null(), "error",
                      cut, "at", json_object_get(r, "at"), "latency_ms",
                      json_object_get(r, "latency_ms"), "request_id",
                      json_object_get(r, "request_id")));
        if (is_dead) {
            (*dead)++;
        } else {
            (*retrying)++;
        }
    }
    json_decref(info);
    int rc = 0;
    if (json_array_size(updates) > 0) {
        char *text = s_text(updates);
        const char *params[] = {text, worker};
        res = s_exec(self, "st_wh_failed", 2, params);
        free(text);
        rc = res ? 0 : -1;
        PQclear(res);
    }
    json_decref(updates);
    return rc;
}

static cm_msg_t *
s_result(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *worker = s_worker(request, &reply);
    if (!worker) {
        return reply;
    }
    json_t *results = json_object_get(cm_msg_body(request), "results");
    if (results && !json_is_null(results) && !json_is_array(results)) {
        return cm_msg_new_reply(request, 400,
                                "field 'results' must be an array");
    }
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r)
    {
        const char *why = s_result_problem(r);
        if (why) {
            return cm_msg_new_reply(request, 400, why);
        }
    }
    json_t *owned = NULL;
    json_t *release = s_streams_arg(request, "release", &owned, &reply);
    if (!release) {
        return reply;
    }
    st_db_t *db = st_router_db(self);
    json_t *fresh = json_object();
    json_t *delivered = json_array();
    json_t *failed = json_array();
    int64_t recorded = 0;
    int64_t retrying = 0;
    int64_t dead = 0;
    int64_t released = 0;
    PGresult *res = NULL;
    if (st_db_begin(db)) {
        goto failed;
    }
    //  Successes finish their pending delivery and are recorded on its
    //  row (a resent one finds it delivered and changes nothing);
    //  failures get attempt rows, deduplicated by request id.
    json_t *failures = json_array();
    json_array_foreach(results, i, r)
    {
        json_array_append(
            json_is_true(json_object_get(r, "ok")) ? delivered : failures, r);
    }
    int64_t ok_count = 0;
    if (json_array_size(delivered) > 0) {
        char *text = s_text(delivered);
        const char *params[] = {text, worker};
        res = s_exec(self, "st_wh_delivered", 2, params);
        free(text);
        if (!res) {
            json_decref(failures);
            goto failed;
        }
        ok_count = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    if (json_array_size(failures) > 0) {
        if (!(res = s_exec_json(self, "st_wh_attempts_insert", worker,
                                failures))) {
            json_decref(failures);
            goto failed;
        }
        for (int k = 0; k < PQntuples(res); k++) {
            json_object_set_new(fresh, st_db_text(res, k, 0), json_true());
        }
        PQclear(res);
        json_array_foreach(failures, i, r)
        {
            const char *rid =
                json_string_value(json_object_get(r, "request_id"));
            if (json_object_get(fresh, rid)) {
                json_object_del(fresh, rid);
                json_array_append(failed, r);
            }
        }
    }
    json_decref(failures);
    recorded = ok_count + (int64_t)json_array_size(failed);
    if (json_array_size(failed) > 0 &&
        s_schedule_failures(self, worker, failed, &retrying, &dead)) {
        goto failed;
    }
    released = s_release(self, worker, release);
    if (released < 0 || st_db_commit(db)) {
        goto failed;
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "recorded", recorded);
    cm_msg_set_int(reply, "delivered", recorded - retrying - dead);
    cm_msg_set_int(reply, "retrying", retrying);
    cm_msg_set_int(reply, "dead", dead);
    cm_msg_set_int(reply, "released", released);
    goto done;
failed:
    reply = st_router_db_fail(self, request);
done:
    json_decref(owned);
    json_decref(fresh);
    json_decref(delivered);
    json_decref(failed);
    return reply;
}

//  ---------------------------------------------------------------------
//  delivery.renew, delivery.release

static cm_msg_t *
s_renew(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *worker = s_worker(request, &reply);
    int64_t lease = 0;
    if (!worker ||
        st_router_int(request, "lease_ms", ST_WEBHOOKS_LEASE_MIN,
                      ST_WEBHOOKS_LEASE_MAX, true, 0, &lease, &reply)) {
        return reply;
    }
    char lease_s[24];
    snprintf(lease_s, sizeof lease_s, "%" PRId64, lease);
    const char *params[] = {worker, lease_s};
    PGresult *res = s_exec(self, "st_wh_renew", 2, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "held", strtoll(PQcmdTuples(res), NULL, 10));
    PQclear(res);
    return reply;
}

static cm_msg_t *
s_release_handler(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *worker = s_worker(request, &reply);
    if (!worker) {
        return reply;
    }
    json_t *streams = json_object_get(cm_msg_body(request), "streams");
    int64_t n = 0;
    if (!streams || json_is_null(streams)) {
        //  Lock, then schedule with a fresh snapshot (see s_release).
        st_db_t *db = st_router_db(self);
        const char *params[] = {worker};
        PGresult *res = NULL;
        if (st_db_begin(db) ||
            !(res = s_exec(self, "st_wh_release_all_lock", 1, params))) {
            return st_router_db_fail(self, request);
        }
        PQclear(res);
        if (!(res = s_exec(self, "st_wh_release_all", 1, params))) {
            return st_router_db_fail(self, request);
        }
        n = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        if (st_db_commit(db)) {
            return st_router_db_fail(self, request);
        }
    } else {
        json_t *owned = NULL;
        streams = s_streams_arg(request, "streams", &owned, &reply);
        if (!streams) {
            return reply;
        }
        st_db_t *db = st_router_db(self);
        n = st_db_begin(db) ? -1 : s_release(self, worker, streams);
        json_decref(owned);
        if (n < 0 || st_db_commit(db)) {
            return st_router_db_fail(self, request);
        }
    }
    if (n > 0) {
        cm_log_info("released webhook streams", "worker=\"%s\" count=%" PRId64,
                    worker, n);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "released", n);
    return reply;
}

//  ---------------------------------------------------------------------
//  delivery.list, delivery.get

static bool
s_status_valid(const char *s)
{
    return cm_streq(s, "pending") || cm_streq(s, "delivered") ||
           cm_streq(s, "dead");
}

//  Optional integer field as text into buf, or NULL when absent. Returns
//  0 or -1 with a 400.
static int
s_opt_int_text(cm_msg_t *request, const char *key, int64_t min, char *buf,
               size_t size, const char **out, cm_msg_t **reply_p)
{
    *out = NULL;
    json_t *v = json_object_get(cm_msg_body(request), key);
    if (!v || json_is_null(v)) {
        return 0;
    }
    int64_t n = 0;
    if (st_router_int(request, key, min, INT64_MAX, true, 0, &n, reply_p)) {
        return -1;
    }
    snprintf(buf, size, "%" PRId64, n);
    *out = buf;
    return 0;
}

static cm_msg_t *
s_list(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *session =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (!session) {
        return reply;
    }
    const char *status = st_router_opt_str(request, "status", 16, &reply);
    const char *event =
        reply ? NULL
              : st_router_opt_str(request, "event", ST_ROUTER_NAME_MAX, &reply);
    const char *url =
        reply ? NULL
              : st_router_opt_str(request, "url", CM_WEBHOOK_URL_MAX, &reply);
    if (reply) {
        return reply;
    }
    if (status && !s_status_valid(status)) {
        return cm_msg_new_reply(request, 400,
                                "field 'status' must be pending, delivered "
                                "or dead");
    }
    char since_b[24], until_b[24], before_b[24], limit_s[24];
    const char *since = NULL;
    const char *until = NULL;
    const char *before = NULL;
    int64_t limit = 0;
    if (s_opt_int_text(request, "since", 0, since_b, sizeof since_b, &since,
                       &reply) ||
        s_opt_int_text(request, "until", 0, until_b, sizeof until_b, &until,
                       &reply) ||
        s_opt_int_text(request, "before", 1, before_b, sizeof before_b, &before,
                       &reply) ||
        st_router_int(request, "limit", 1, ST_WEBHOOKS_LIST_MAX, false,
                      ST_WEBHOOKS_LIST_DEFAULT, &limit, &reply)) {
        return reply;
    }
    //  One more row than asked tells whether there is a next page.
    snprintf(limit_s, sizeof limit_s, "%" PRId64, limit + 1);
    const char *params[] = {session, status, event,  url,
                            since,   until,  before, limit_s};
    PGresult *res = s_exec(self, "st_wh_list", 8, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *list = json_array();
    json_t *next = json_null();
    for (int r = 0; r < PQntuples(res); r++) {
        if (r == limit) {
            next = json_integer(st_db_int(res, r - 1, 0));
            break;
        }
        json_t *d = st_db_json(res, r, 1);
        if (d) {
            json_array_append_new(list, d);
        }
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "deliveries", list);
    cm_msg_set(reply, "next", next);
    return reply;
}

static cm_msg_t *
s_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    int64_t id = 0;
    if (st_router_int(request, "id", 1, INT64_MAX, true, 0, &id, &reply)) {
        return reply;
    }
    const char *session =
        st_router_opt_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (reply) {
        return reply;
    }
    char id_s[24];
    snprintf(id_s, sizeof id_s, "%" PRId64, id);
    const char *params[] = {id_s, session};
    PGresult *res = s_exec(self, "st_wh_get", 2, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *d = PQntuples(res) ? st_db_json(res, 0, 0) : NULL;
    PQclear(res);
    if (!d) {
        return cm_msg_new_reply(request, 404, "delivery not found");
    }
    res = s_exec(self, "st_wh_log", 1, params);
    if (!res) {
        json_decref(d);
        return st_router_db_fail(self, request);
    }
    json_t *log = json_array();
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *a = st_db_json(res, r, 0);
        if (a) {
            json_array_append_new(log, a);
        }
    }
    PQclear(res);
    json_object_set_new(d, "log", log);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "delivery", d);
    return reply;
}

//  ---------------------------------------------------------------------
//  delivery.replay

static cm_msg_t *
s_replay(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *session =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (!session) {
        return reply;
    }
    char id_b[24];
    const char *id = NULL;
    if (s_opt_int_text(request, "id", 1, id_b, sizeof id_b, &id, &reply)) {
        return reply;
    }
    st_db_t *db = st_router_db(self);
    PGresult *res = NULL;
    int64_t replayed = 0;
    if (st_db_begin(db)) {
        goto failed;
    }
    if (!(res = s_exec(self, "st_wh_lock", 0, NULL))) {
        goto failed;
    }
    PQclear(res);
    if (id) {
        const char *p1[] = {id, session};
        if (!(res = s_exec(self, "st_wh_status", 2, p1))) {
            goto failed;
        }
        const char *status = PQntuples(res) ? st_db_text(res, 0, 0) : NULL;
        int st = !status ? 404 : cm_streq(status, "pending") ? 409 : 200;
        PQclear(res);
        if (st != 200) {
            st_db_rollback(db);
            return cm_msg_new_reply(request, st,
                                    st == 404 ? "delivery not found"
                                              : "delivery is pending");
        }
    }
    //  Count first, so the order keys can be reserved in one step.
    const char *p2[] = {session, id};
    if (!(res = s_exec(self, "st_wh_replay_count", 2, p2))) {
        goto failed;
    }
    int64_t count = st_db_int(res, 0, 0);
    PQclear(res);
    if (count > 0) {
        int64_t base = s_order_keys(self, count);
        if (base < 0) {
            goto failed;
        }
        char base_s[24];
        snprintf(base_s, sizeof base_s, "%" PRId64, base);
        const char *p3[] = {session, id, base_s};
        if (!(res = s_exec(self, "st_wh_replay_keep", 2, p3))) {
            goto failed;
        }
        PQclear(res);
        if (!(res = s_exec(self, "st_wh_replay", 3, p3))) {
            goto failed;
        }
        replayed = strtoll(PQcmdTuples(res), NULL, 10);
        json_t *streams = json_array();
        for (int r = 0; r < PQntuples(res); r++) {
            json_array_append_new(streams,
                                  json_pack("{s:s, s:s}", "session",
                                            st_db_text(res, r, 0), "url",
                                            st_db_text(res, r, 1)));
        }
        PQclear(res);
        res = s_exec_json(self, "st_wh_streams_touch", NULL, streams);
        json_decref(streams);
        if (!res) {
            goto failed;
        }
        PQclear(res);
    }
    if (st_db_commit(db)) {
        goto failed;
    }
    if (replayed > 0) {
        cm_log_info("replayed webhook deliveries",
                    "session=\"%s\" count=%" PRId64, session, replayed);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "replayed", replayed);
    return reply;
failed:
    return st_router_db_fail(self, request);
}

//  ---------------------------------------------------------------------
//  delivery.prune, delivery.stats

static cm_msg_t *
s_prune(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    int64_t before = 0;
    if (st_router_int(request, "before_ms", 0, INT64_MAX, true, 0, &before,
                      &reply)) {
        return reply;
    }
    bool events = cm_msg_bool(request, "events", false);
    char before_s[24];
    snprintf(before_s, sizeof before_s, "%" PRId64, before);
    const char *params[] = {before_s};
    const char *steps[] = {"st_wh_prune_deliveries", "st_wh_prune_hooks",
                           "st_wh_prune_streams", "st_wh_prune_events"};
    int64_t counts[4] = {0, 0, 0, 0};
    st_db_t *db = st_router_db(self);
    PGresult *res = NULL;
    if (st_db_begin(db)) {
        goto failed;
    }
    if (!(res = s_exec(self, "st_wh_lock", 0, NULL))) {
        goto failed;
    }
    PQclear(res);
    for (int i = 0; i < 4; i++) {
        if (i == 3 && !events) {
            break;
        }
        if (!(res = s_exec(self, steps[i], i == 2 ? 0 : 1, params))) {
            goto failed;
        }
        counts[i] = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    if (st_db_commit(db)) {
        goto failed;
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "deliveries", counts[0]);
    cm_msg_set_int(reply, "hooks", counts[1]);
    cm_msg_set_int(reply, "events", counts[3]);
    return reply;
failed:
    return st_router_db_fail(self, request);
}

static cm_msg_t *
s_stats(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *session =
        st_router_opt_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (reply) {
        return reply;
    }
    const char *params[] = {session};
    PGresult *res = s_exec(self, "st_wh_stats", 1, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    const char *names[] = {"pending",  "delivered",    "dead",
                           "attempts", "streams_held", "events_unfanned"};
    for (int i = 0; i < 6; i++) {
        cm_msg_set_int(reply, names[i], st_db_int(res, 0, i));
    }
    PQclear(res);
    return reply;
}

//  ---------------------------------------------------------------------

// clang-format off
int
st_webhooks_register(st_router_t *r)
{
    st_router_prepare(r, "st_wh_fanout_lock",
                      "SELECT pg_try_advisory_xact_lock(" ST_WEBHOOKS_LOCK ")");
    st_router_prepare(r, "st_wh_lock",
                      "SELECT pg_advisory_xact_lock(" ST_WEBHOOKS_LOCK ")");
    //  Sessions with events past their fan-out cursor (those fanned out
    //  longest ago first), and up to $1 of those events each, in seq
    //  order; $1 rows at most. A session whose range holds no event
    //  comes as one row with a NULL event.
    st_router_prepare(
        r, "st_wh_fanout_pick",
        "WITH u AS (" ST_WH_COMMITTED "), "
        "c AS (SELECT u.session, COALESCE(f.fanned, 0) AS fanned, u.upto, "
        "f.fanned_at FROM u LEFT JOIN event_fanned f ON f.session = u.session "
        "WHERE u.upto > COALESCE(f.fanned, 0) "
        "ORDER BY f.fanned_at NULLS FIRST, u.session LIMIT $1) "
        "SELECT e.id, c.session, e.seq, e.event, s.config -> 'webhooks', "
        "c.upto FROM c LEFT JOIN LATERAL (SELECT e.id, e.seq, e.event "
        "FROM events e WHERE e.session = c.session AND e.seq > c.fanned "
        "AND e.seq <= c.upto ORDER BY e.seq LIMIT $1) e ON true "
        "LEFT JOIN sessions s ON s.name = c.session "
        "ORDER BY c.fanned_at NULLS FIRST, c.session, e.seq LIMIT $1");
    st_router_prepare(
        r, "st_wh_hooks_insert",
        "INSERT INTO webhook_hooks (id, url, config) "
        "SELECT x.id, x.url, x.config FROM jsonb_to_recordset($1::jsonb) "
        "AS x(id text, url text, config jsonb) ON CONFLICT (id) DO NOTHING");
    st_router_prepare(r, "st_wh_order_base",
                      "SELECT nextval('webhook_delivery_order')");
    st_router_prepare(r, "st_wh_order_set",
                      "SELECT setval('webhook_delivery_order', $1::bigint)");
    st_router_prepare(
        r, "st_wh_deliveries_insert",
        "INSERT INTO webhook_deliveries (event_id, session, seq, event, url, "
        "hook_id, source, order_key) "
        "SELECT x.event_id, x.session, x.seq, x.event, x.url, x.hook_id, "
        "x.source, $2::bigint + x.ord FROM jsonb_to_recordset($1::jsonb) AS "
        "x(event_id text, session text, seq bigint, event text, url text, "
        "hook_id text, source text, ord bigint)");
    st_router_prepare(
        r, "st_wh_streams_touch",
        "INSERT INTO webhook_streams (session, url, next_at) "
        "SELECT DISTINCT x.session, x.url, now() "
        "FROM jsonb_to_recordset($1::jsonb) AS x(session text, url text) "
        "ORDER BY 1, 2 "
        "ON CONFLICT (session, url) DO UPDATE "
        "SET next_at = COALESCE(webhook_streams.next_at, now())");
    //  Move the cursors of $1 [{session, fanned}]; a deleted session
    //  fanned out to its end is forgotten.
    st_router_prepare(
        r, "st_wh_fanout_mark",
        "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS "
        "x(session text, fanned bigint)), "
        "o AS (DELETE FROM event_orphans o USING x WHERE o.session = "
        "x.session AND o.upto <= x.fanned) "
        "INSERT INTO event_fanned (session, fanned) "
        "SELECT session, fanned FROM x ORDER BY session "
        "ON CONFLICT (session) DO UPDATE SET fanned = "
        "GREATEST(event_fanned.fanned, EXCLUDED.fanned), fanned_at = now()");
    st_router_prepare(
        r, "st_wh_claim",
        "WITH c AS (SELECT session, url, next_at, row_number() OVER "
        "(PARTITION BY url ORDER BY next_at) AS rn FROM "
        "(SELECT session, url, next_at FROM webhook_streams "
        "WHERE next_at <= now() AND (claimed_until IS NULL "
        "OR claimed_until < now()) AND url NOT IN "
        "(SELECT jsonb_array_elements_text($4::jsonb)) "
        "ORDER BY next_at LIMIT $2::bigint * 4) z), "
        "p AS (SELECT w.session, w.url FROM webhook_streams w "
        "JOIN c ON c.session = w.session AND c.url = w.url "
        "WHERE c.rn <= $5::bigint AND w.next_at <= now() "
        "AND (w.claimed_until IS NULL OR w.claimed_until < now()) "
        "ORDER BY c.next_at LIMIT $2::bigint FOR UPDATE OF w SKIP LOCKED) "
        "UPDATE webhook_streams w SET claimed_by = $1, claimed_until = now() "
        "+ $3::bigint * interval '1 millisecond' FROM p "
        "WHERE w.session = p.session AND w.url = p.url "
        "RETURNING w.session, w.url");
    st_router_prepare(
        r, "st_wh_claim_rows",
        "SELECT d.id, d.session, d.url, d.hook_id, d.event_id, d.event, "
        "d.seq, d.attempts, e.envelope::text "
        "FROM jsonb_to_recordset($1::jsonb) AS c(session text, url text) "
        "CROSS JOIN LATERAL (SELECT * FROM webhook_deliveries q "
        "WHERE q.session = c.session AND q.url = c.url "
        "AND q.status = 'pending' ORDER BY q.order_key LIMIT $2::bigint) d "
        "LEFT JOIN events e ON e.id = d.event_id "
        "ORDER BY d.session, d.url, d.order_key");
    st_router_prepare(r, "st_wh_dead_missing",
                      "UPDATE webhook_deliveries SET status = 'dead', "
                      "last_error = 'event no longer stored', "
                      "updated_at = now() WHERE id = ANY "
                      "(ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))"
                      "::bigint)) AND status = 'pending'");
    st_router_prepare(r, "st_wh_hooks_get",
                      "SELECT id, config FROM webhook_hooks WHERE id = ANY "
                      "(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))");
    st_router_prepare(r, "st_wh_next_due",
                      "SELECT " ST_WH_MS("min(next_at)")
                      " FROM webhook_streams WHERE next_at > now()");
    st_router_prepare(
        r, "st_wh_attempts_insert",
        "INSERT INTO webhook_attempts (delivery_id, request_id, at, "
        "http_status, latency_ms, error, dispatcher) "
        "SELECT x.id, x.request_id, to_timestamp(x.at / 1000.0), "
        "x.http_status, x.latency_ms, left(x.error, 1024), $1 "
        "FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, request_id text, "
        "at bigint, http_status int, latency_ms int, error text) "
        "JOIN webhook_deliveries d ON d.id = x.id "
        "WHERE d.id = ANY " ST_WH_IDS("$2")
        " ON CONFLICT (request_id) DO NOTHING RETURNING request_id");
    st_router_prepare(
        r, "st_wh_delivered",
        "UPDATE webhook_deliveries d SET status = 'delivered', "
        "attempts = d.attempts + 1, last_status = x.http_status, "
        "last_error = NULL, delivered_at = to_timestamp((x.at + "
        "x.latency_ms) / 1000.0), updated_at = now(), "
        "last_at = to_timestamp(x.at / 1000.0), "
        "last_latency_ms = x.latency_ms, last_request_id = x.request_id, "
        "last_dispatcher = $2 "
        "FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, http_status int, "
        "at bigint, latency_ms int, request_id text) "
        "WHERE d.id = x.id AND d.status = 'pending' "
        "AND d.id = ANY " ST_WH_IDS("$1"));
    st_router_prepare(
        r, "st_wh_failed_info",
        "SELECT d.id, d.attempts, h.config FROM webhook_deliveries d "
        "JOIN webhook_hooks h ON h.id = d.hook_id WHERE d.id = ANY "
        "(ARRAY(SELECT (jsonb_array_elements($1::jsonb))::text::bigint)) "
        "AND d.status = 'pending' FOR UPDATE OF d");
    st_router_prepare(
        r, "st_wh_failed",
        "UPDATE webhook_deliveries d SET status = x.status, "
        "attempts = d.attempts + 1, "
        "next_attempt_at = to_timestamp(x.next_ms / 1000.0), "
        "last_status = x.http_status, last_error = x.error, "
        "last_at = to_timestamp(x.at / 1000.0), "
        "last_latency_ms = x.latency_ms, last_request_id = x.request_id, "
        "last_dispatcher = $2, "
        "updated_at = now() FROM jsonb_to_recordset($1::jsonb) AS "
        "x(id bigint, status text, next_ms bigint, http_status int, "
        "error text, at bigint, latency_ms int, request_id text) "
        "WHERE d.id = x.id AND d.status = 'pending' "
        "AND d.id = ANY " ST_WH_IDS("$1"));
    st_router_prepare(r, "st_wh_release",
                      ST_WH_RELEASE_SET
                      "FROM jsonb_to_recordset($2::jsonb) AS "
                      "x(session text, url text) WHERE w.session = x.session "
                      "AND w.url = x.url AND w.claimed_by = $1");
    st_router_prepare(r, "st_wh_release_lock",
                      "SELECT 1 FROM webhook_streams w "
                      "JOIN jsonb_to_recordset($2::jsonb) AS "
                      "x(session text, url text) ON w.session = x.session "
                      "AND w.url = x.url WHERE w.claimed_by = $1 "
                      "ORDER BY w.session, w.url FOR UPDATE OF w");
    st_router_prepare(r, "st_wh_release_all_lock",
                      "SELECT 1 FROM webhook_streams w WHERE w.claimed_by = "
                      "$1 ORDER BY w.session, w.url FOR UPDATE");
    st_router_prepare(r, "st_wh_release_all",
                      ST_WH_RELEASE_SET "WHERE w.claimed_by = $1");
    st_router_prepare(r, "st_wh_renew",
                      "UPDATE webhook_streams SET claimed_until = now() + "
                      "$2::bigint * interval '1 millisecond' "
                      "WHERE claimed_by = $1");
    st_router_prepare(
        r, "st_wh_list",
        "SELECT d.id, " ST_WH_DELIVERY_JSON " FROM webhook_deliveries d "
        "WHERE d.session = $1 AND ($2::text IS NULL OR d.status = $2) "
        "AND ($3::text IS NULL OR d.event = $3) "
        "AND ($4::text IS NULL OR d.url = $4) "
        "AND ($5::bigint IS NULL OR d.created_at >= "
        "to_timestamp($5::bigint / 1000.0)) "
        "AND ($6::bigint IS NULL OR d.created_at < "
        "to_timestamp($6::bigint / 1000.0)) "
        "AND ($7::bigint IS NULL OR d.id < $7::bigint) "
        "ORDER BY d.id DESC LIMIT $8::bigint");
    st_router_prepare(r, "st_wh_get",
                      "SELECT " ST_WH_DELIVERY_JSON
                      " FROM webhook_deliveries d WHERE d.id = $1::bigint "
                      "AND ($2::text IS NULL OR d.session = $2)");
    st_router_prepare(
        r, "st_wh_log",
        "SELECT j FROM (SELECT a.id AS k, json_build_object("
        "'at', " ST_WH_MS("a.at") ", 'http_status', a.http_status, "
        "'latency_ms', a.latency_ms, 'error', a.error, "
        "'request_id', a.request_id, 'dispatcher', a.dispatcher) AS j "
        "FROM webhook_attempts a WHERE a.delivery_id = $1::bigint "
        "UNION ALL SELECT 9223372036854775807, json_build_object("
        "'at', " ST_WH_MS("d.last_at") ", 'http_status', d.last_status, "
        "'latency_ms', d.last_latency_ms, 'error', NULL, "
        "'request_id', d.last_request_id, 'dispatcher', d.last_dispatcher) "
        "FROM webhook_deliveries d WHERE d.id = $1::bigint "
        "AND d.status = 'delivered' AND d.last_request_id IS NOT NULL) x "
        "ORDER BY k");
    st_router_prepare(r, "st_wh_status",
                      "SELECT status FROM webhook_deliveries "
                      "WHERE id = $1::bigint AND session = $2 FOR UPDATE");
    st_router_prepare(r, "st_wh_replay_count",
                      "SELECT count(*) FROM webhook_deliveries "
                      "WHERE session = $1 AND CASE WHEN $2::bigint IS NULL "
                      "THEN status = 'dead' ELSE id = $2::bigint END");
    //  A replayed delivered delivery keeps its successful attempt in the
    //  log: move it from the row into webhook_attempts first.
    st_router_prepare(
        r, "st_wh_replay_keep",
        "INSERT INTO webhook_attempts (delivery_id, request_id, at, "
        "http_status, latency_ms, error, dispatcher) "
        "SELECT id, last_request_id, last_at, last_status, "
        "COALESCE(last_latency_ms, 0), NULL, last_dispatcher "
        "FROM webhook_deliveries WHERE session = $1 AND $2::bigint IS NOT "
        "NULL AND id = $2::bigint AND status = 'delivered' "
        "AND last_request_id IS NOT NULL AND last_at IS NOT NULL "
        "ON CONFLICT (request_id) DO NOTHING");
    st_router_prepare(
        r, "st_wh_replay",
        "WITH x AS (SELECT id, row_number() OVER (ORDER BY order_key) AS rn "
        "FROM webhook_deliveries WHERE session = $1 AND CASE WHEN "
        "$2::bigint IS NULL THEN status = 'dead' ELSE id = $2::bigint END) "
        "UPDATE webhook_deliveries d SET status = 'pending', attempts = 0, "
        "replays = d.replays + 1, order_key = $3::bigint + x.rn, "
        "next_attempt_at = now(), updated_at = now() FROM x "
        "WHERE d.id = x.id RETURNING d.session, d.url");
    st_router_prepare(
        r, "st_wh_prune_deliveries",
        "WITH x AS (SELECT id FROM webhook_deliveries WHERE status <> "
        "'pending' AND created_at < to_timestamp($1::bigint / 1000.0) "
        "LIMIT " ST_WEBHOOKS_PRUNE_BATCH ") "
        "DELETE FROM webhook_deliveries d USING x WHERE d.id = x.id");
    st_router_prepare(
        r, "st_wh_prune_hooks",
        "DELETE FROM webhook_hooks h WHERE h.created_at < "
        "to_timestamp($1::bigint / 1000.0) AND h.id NOT IN (SELECT "
        "d.hook_id FROM webhook_deliveries d)");
    st_router_prepare(r, "st_wh_prune_streams",
                      "DELETE FROM webhook_streams w WHERE w.next_at IS NULL "
                      "AND w.claimed_by IS NULL AND NOT EXISTS (SELECT 1 FROM "
                      "webhook_deliveries d WHERE d.session = w.session "
                      "AND d.url = w.url AND d.status = 'pending')");
    st_router_prepare(
        r, "st_wh_prune_events",
        "WITH x AS (SELECT id FROM events e JOIN event_fanned f "
        "ON f.session = e.session AND e.seq <= f.fanned "
        "WHERE e.created_at < to_timestamp($1::bigint / 1000.0) "
        "AND e.id NOT IN (SELECT d.event_id FROM webhook_deliveries d "
        "WHERE d.status = 'pending') "
        "LIMIT " ST_WEBHOOKS_PRUNE_BATCH ") "
        "DELETE FROM events e USING x WHERE e.id = x.id");
    st_router_prepare(
        r, "st_wh_stats",
        "SELECT count(*) FILTER (WHERE d.status = 'pending'), "
        "count(*) FILTER (WHERE d.status = 'delivered'), "
        "count(*) FILTER (WHERE d.status = 'dead'), "
        "(SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries "
        "q ON q.id = a.delivery_id WHERE $1::text IS NULL "
        "OR q.session = $1) + count(*) FILTER (WHERE d.status = "
        "'delivered' AND d.last_request_id IS NOT NULL), "
        "(SELECT count(*) FROM webhook_streams w WHERE w.claimed_until > "
        "now() AND ($1::text IS NULL OR w.session = $1)), "
        "(SELECT COALESCE(sum(u.upto - COALESCE(f.fanned, 0)), 0) "
        "FROM (" ST_WH_COMMITTED ") u LEFT JOIN event_fanned f "
        "ON f.session = u.session WHERE u.upto > COALESCE(f.fanned, 0) "
        "AND ($1::text IS NULL OR u.session = $1)) "
        "FROM webhook_deliveries d WHERE $1::text IS NULL "
        "OR d.session = $1");
    st_router_add(r, "delivery.fanout", 1, s_fanout, ST_ROUTER_DB);
    st_router_add(r, "delivery.claim", 1, s_claim, ST_ROUTER_DB);
    st_router_add(r, "delivery.result", 1, s_result, ST_ROUTER_DB);
    st_router_add(r, "delivery.renew", 1, s_renew, ST_ROUTER_DB);
    st_router_add(r, "delivery.release", 1, s_release_handler, ST_ROUTER_DB);
    st_router_add(r, "delivery.list", 1, s_list, ST_ROUTER_DB);
    st_router_add(r, "delivery.get", 1, s_get, ST_ROUTER_DB);
    st_router_add(r, "delivery.replay", 1, s_replay, ST_ROUTER_DB);
    st_router_add(r, "delivery.prune", 1, s_prune, ST_ROUTER_DB);
    st_router_add(r, "delivery.stats", 1, s_stats, ST_ROUTER_DB);
    return 0;
}
// clang-format on

void
st_webhooks_test(bool verbose)
{
    printf(" * st_webhooks: ");
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_webhooks_register(r) == 0);
    const char *types[] = {"delivery.fanout",
                           "delivery.claim",
                           "delivery.result",
                           "delivery.renew",
                           "delivery.release",
                           "delivery.list",
                           "delivery.get",
                           "delivery.replay",
                           "delivery.prune",
                           "delivery.stats",
                           NULL};
    for (int i = 0; types[i]; i++) {
        assert(st_router_has(r, types[i]));
        //  without a database every handler answers 503
        assert(st_router_status(r, types[i], NULL) == 503);
    }
    //  Argument checks that need no database
    cm_msg_t *req = cm_msg_new("delivery.result");
    cm_msg_set(req, "results",
               json_pack("[{s:i, s:s, s:b, s:i, s:i}]", "id", 1, "request_id",
                         "r", "ok", 1, "latency_ms", 1, "at", 1));
    json_t *good =
        json_array_get(json_object_get(cm_msg_body(req), "results"), 0);
    assert(s_result_problem(good) == NULL);
    json_object_set_new(good, "ok", json_string("yes"));
    assert(s_result_problem(good) != NULL);
    json_object_set_new(good, "ok", json_true());
    json_object_set_new(good, "request_id", json_string(""));
    assert(s_result_problem(good) != NULL);
    cm_msg_destroy(&req);
    assert(s_status_valid("dead") && !s_status_valid("lost"));

    //  Fan-out of one event: session hooks first, one delivery per URL
    json_t *row = json_pack("{s:s, s:s, s:i, s:s}", "event_id", "evt_1",
                            "session", "s", "seq", 1, "event", "message");
    json_t *cfg = json_loads(
        "[{\"url\":\"http://a\",\"events\":[\"message\"]},"
        "{\"url\":\"http://b\",\"events\":[\"session.status\"]},"
        "{\"url\":\"http://c\",\"events\":[\"*\"],\"is_active\":false},"
        "{\"url\":\"ftp://bad\",\"events\":[\"*\"]}]",
        0, NULL);
    json_t *hooks = s_session_hooks("s", cfg);
    assert(json_array_size(hooks) == 3);
    json_t *global = json_loads("[{\"url\":\"http://a\",\"events\":[\"*\"]},"
                                "{\"url\":\"http://g\",\"events\":[\"*\"]}]",
                                0, NULL);
    json_t *gfull = s_session_hooks("global", global);
    json_t *urls = json_object();
    json_t *configs = json_object();
    json_t *deliveries = json_array();
    s_fan_event(row, hooks, "session", urls, configs, deliveries);
    s_fan_event(row, gfull, "global", urls, configs, deliveries);
    assert(json_array_size(deliveries) == 2);
    json_t *d0 = json_array_get(deliveries, 0);
    json_t *d1 = json_array_get(deliveries, 1);
    assert(cm_streq(json_string_value(json_object_get(d0, "url")), "http://a"));
    assert(
        cm_streq(json_string_value(json_object_get(d0, "source")), "session"));
    assert(json_integer_value(json_object_get(d0, "ord")) == 1);
    assert(cm_streq(json_string_value(json_object_get(d1, "url")), "http://g"));
    assert(json_integer_value(json_object_get(d1, "ord")) == 2);
    assert(json_object_size(configs) == 2);
    json_decref(urls);
    json_decref(configs);
    json_decref(deliveries);
    json_decref(hooks);
    json_decref(gfull);
    json_decref(global);
    json_decref(cfg);
    json_decref(row);
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
