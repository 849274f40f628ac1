/*  st_router - a worker's dispatch table and what its handlers need

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

//  One registered handler; the cm_handlers argument.
typedef struct {
    st_router_t *router; //  back pointer
    st_handler_fn *fn;   //  the handler
    int flags;           //  ST_ROUTER_*
} s_entry_t;

struct _st_router_t {
    cm_handlers_t *handlers; //  type -> s_call(entry)
    zlistx_t *entries;       //  s_entry_t, owned
    st_db_t *db;             //  borrowed, may be NULL
    char *store_id;          //  for health replies
    cm_ulid_t *ulid;         //  id generator
    st_publish_fn *publish;  //  notification sink, or NULL
    void *publish_arg;       //  its argument
    char *engine;            //  WAHA engine name for event envelopes
    const st_seal_t *seal;   //  borrowed, may be NULL (keyless)
    zlistx_t *held;          //  notifications held until a group commits
    st_group_fn *group_fn;   //  the group writer, or NULL
};

static void
s_entry_free(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

static cm_msg_t *
s_health(st_router_t *self, cm_msg_t *request)
{
    return cm_handlers_health(request, "store-service", self->store_id);
}

//  store.stats: the database request latencies of the process (st_stats).
static cm_msg_t *
s_stats(st_router_t *self, cm_msg_t *request)
{
    (void)self;
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    json_t *body = st_stats_json();
    cm_msg_set_body(reply, &body);
    return reply;
}

st_router_t *
st_router_new(st_db_t *db, const char *store_id)
{
    assert(store_id);
    st_router_t *self = cm_alloc(sizeof *self);
    self->handlers = cm_handlers_new();
    self->entries = zlistx_new();
    zlistx_set_destructor(self->entries, s_entry_free);
    self->db = db;
    self->store_id = cm_strdup(store_id);
    self->engine = cm_strdup(CM_WAHA_ENGINE_DEFAULT);
    self->ulid = cm_ulid_new();
    st_router_add(self, "health.ping", 1, s_health, 0);
    st_router_add(self, "store.stats", 1, s_stats, 0);
    return self;
}

void
st_router_destroy(st_router_t **self_p)
{
    assert(self_p);
    st_router_t *self = *self_p;
    if (!self) {
        return;
    }
    cm_handlers_destroy(&self->handlers);
    zlistx_destroy(&self->entries);
    cm_ulid_destroy(&self->ulid);
    free(self->store_id);
    free(self->engine);
    free(self);
    *self_p = NULL;
}

//  The cm_handlers callback: database gate, retries.
static cm_msg_t *
s_call(cm_msg_t *request, void *arg)
{
    s_entry_t *e = (s_entry_t *)arg;
    st_router_t *self = e->router;
    if (e->flags & ST_ROUTER_DB) {
        if (!self->db || st_db_connect(self->db) != 0) {
            return cm_msg_new_reply(request, 503, "database unavailable");
        }
    }
    cm_msg_t *reply = NULL;
    int64_t started = (e->flags & ST_ROUTER_DB) ? zclock_usecs() : 0;
    for (int attempt = 1; attempt <= ST_ROUTER_RETRIES; attempt++) {
        cm_msg_destroy(&reply);
        reply = e->fn(self, request);
        if (!reply || cm_msg_status(reply) < 500 || !self->db ||
            !st_db_retryable(self->db)) {
            break;
        }
        cm_log_debug("retrying after serialization failure",
                     "type=%s "
                     "attempt=%d",
                     cm_msg_type(request), attempt);
    }
    if (e->flags & ST_ROUTER_DB) {
        st_stats_observe(cm_msg_type(request), zclock_usecs() - started);
    }
    if (self->db && !st_db_grouped(self->db) &&
        st_db_in_transaction(self->db)) {
        //  a handler bug; keep the connection usable for the next request
        cm_log_error("handler left a transaction open", "type=%s",
                     cm_msg_type(request));
        st_db_rollback(self->db);
    }
    if (reply && cm_msg_status(reply) >= 500) {
        cm_log_warn("could not handle request", "type=%s st=%d reason=\"%s\"",
                    cm_msg_type(request), cm_msg_status(reply),
                    cm_msg_reason(reply) ? cm_msg_reason(reply) : "");
    }
    return reply;
}

void
st_router_add(st_router_t *self, const char *type, int max_version,
              st_handler_fn *fn, int flags)
{
    assert(type && fn);
    s_entry_t *e = cm_alloc(sizeof *e);
    e->router = self;
    e->fn = fn;
    e->flags = flags;
    zlistx_add_end(self->entries, e);
    cm_handlers_add(self->handlers, type, max_version, s_call, e);
}

void
st_router_prepare(st_router_t *self, const char *name, const char *sql)
{
    if (self->db) {
        st_db_prepare(self->db, name, sql);
    }
}

bool
st_router_has(st_router_t *self, const char *type)
{
    return cm_handlers_has(self->handlers, type);
}

cm_msg_t *
st_router_dispatch(st_router_t *self, cm_msg_t *request)
{
    return cm_handlers_dispatch(self->handlers, request);
}

st_db_t *
st_router_db(st_router_t *self)
{
    return self->db;
}

void
st_router_set_engine(st_router_t *self, const char *engine)
{
    assert(cm_waha_engine_valid(engine));
    free(self->engine);
    self->engine = cm_strdup(engine);
}

const char *
st_router_engine(st_router_t *self)
{
    return self->engine;
}

const char *
st_router_store_id(st_router_t *self)
{
    return self->store_id;
}

int
st_router_new_id(st_router_t *self, const char *prefix, char *out, size_t size)
{
    return cm_ulid_next(self->ulid, prefix, out, size);
}

void
st_router_set_publish(st_router_t *self, st_publish_fn *fn, void *arg)
{
    self->publish = fn;
    self->publish_arg = arg;
}

void
st_router_set_seal(st_router_t *self, const st_seal_t *seal)
{
    self->seal = seal;
}

const st_seal_t *
st_router_seal(st_router_t *self)
{
    return self->seal;
}

void
st_router_publish(st_router_t *self, const char *type, json_t **body_p)
{
    assert(body_p && *body_p);
    cm_msg_t *msg = cm_msg_new(type);
    cm_msg_set_body(msg, body_p);
    if (self->held) {
        //  in a group: announced once it committed
        zlistx_add_end(self->held, msg);
        return;
    }
    if (self->publish) {
        self->publish(&msg, self->publish_arg);
    }
    cm_msg_destroy(&msg);
}

void
st_router_set_group_writer(st_router_t *self, st_group_fn *fn)
{
    self->group_fn = fn;
}

bool
st_router_groups(const char *type)
{
    return cm_streq(type, "event.append_batch") ||
           cm_streq(type, "event.append") || cm_streq(type, "signal.put");
}

//  Run requests one by one, each in its own transaction.
static void
s_dispatch_each(st_router_t *self, cm_msg_t **requests, size_t n,
                cm_msg_t **replies)
{
    for (size_t i = 0; i < n; i++) {
        replies[i] = st_router_dispatch(self, requests[i]);
    }
}

size_t
st_router_dispatch_group(st_router_t *self, cm_msg_t **requests, size_t n,
                         cm_msg_t **replies)
{
    st_db_t *db = self->db;
    if (n < 2 || !db || st_db_connect(db) != 0 || st_db_group_begin(db)) {
        s_dispatch_each(self, requests, n, replies);
        return 0;
    }
    self->held = zlistx_new();
    bool ok = true;
    //  what the group writer answered (stored, or refused alone)
    bool *answered = cm_alloc(n * sizeof *answered);
    for (size_t i = 0; i < n; i++) {
        replies[i] = NULL;
    }
    if (self->group_fn) {
        int64_t started = zclock_usecs();
        ok = self->group_fn(self, requests, n, replies) == 0;
        int64_t took = zclock_usecs() - started;
        for (size_t i = 0; ok && i < n; i++) {
            answered[i] = replies[i] != NULL;
            if (answered[i]) {
                st_stats_observe(cm_msg_type(requests[i]), took);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (answered[i]) {
            continue;
        }
        replies[i] = ok ? st_router_dispatch(self, requests[i]) : NULL;
        if (ok && replies[i] && cm_msg_status(replies[i]) >= 300) {
            //  a refusal or a failure: no request of the group is kept
            st_db_rollback(db);
            ok = false;
        }
    }
    free(answered);
    ok = st_db_group_end(db) == 0 && ok;
    zlistx_t *held = self->held;
    self->held = NULL;
    cm_msg_t *msg;
    while ((msg = (cm_msg_t *)zlistx_first(held))) {
        zlistx_detach_cur(held);
        if (ok && self->publish) {
            self->publish(&msg, self->publish_arg);
        }
        cm_msg_destroy(&msg);
    }
    zlistx_destroy(&held);
    if (ok) {
        cm_log_debug("group committed", "requests=%zu", n);
        return n;
    }
    //  Nothing of the group was stored: each request again by itself,
    //  so the one refused gets its answer and the others theirs
    cm_log_debug("group transaction rolled back, running requests alone",
                 "requests=%zu", n);
    for (size_t i = 0; i < n; i++) {
        cm_msg_destroy(&replies[i]);
    }
    s_dispatch_each(self, requests, n, replies);
    return 0;
}

cm_msg_t *
st_router_db_fail(st_router_t *self, cm_msg_t *request)
{
    if (!self->db) {
        return cm_msg_new_reply(request, 503, "database unavailable");
    }
    st_db_rollback(self->db);
    return cm_msg_new_reply(request, st_db_error_status(self->db),
                            st_db_error_reason(self->db));
}

static cm_msg_t *
s_bad(cm_msg_t *request, const char *key, const char *want)
{
    char *why = cm_sprintf("field '%s' must be %s", key, want);
    cm_msg_t *reply = cm_msg_new_reply(request, 400, why);
    free(why);
    return reply;
}

const char *
st_router_opt_str(cm_msg_t *request, const char *key, size_t max,
                  cm_msg_t **reply_p)
{
    json_t *v = json_object_get(cm_msg_body(request), key);
    if (!v || json_is_null(v)) {
        return NULL;
    }
    size_t len = json_string_length(v);
    if (!json_is_string(v) || len == 0 || len > max ||
        strlen(json_string_value(v)) != len) {
        char want[64];
        snprintf(want, sizeof want, "a string of 1..%zu bytes", max);
        *reply_p = s_bad(request, key, want);
        return NULL;
    }
    return json_string_value(v);
}

const char *
st_router_str(cm_msg_t *request, const char *key, size_t max,
              cm_msg_t **reply_p)
{
    const char *s = st_router_opt_str(request, key, max, reply_p);
    if (!s && !*reply_p) {
        char want[64];
        snprintf(want, sizeof want, "a string of 1..%zu bytes", max);
        *reply_p = s_bad(request, key, want);
    }
    return s;
}

int
st_router_int(cm_msg_t *request, const char *key, int64_t min, int64_t max,
              bool required, int64_t dflt, int64_t *value, cm_msg_t **reply_p)
{
    json_t *v = json_object_get(cm_msg_body(request), key);
    if ((!v || json_is_null(v)) && !required) {
        *value = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max) {
        char want[96];
        snprintf(want, sizeof want, "an integer in [%" PRId64 ", %" PRId64 "]",
                 min, max);
        *reply_p = s_bad(request, key, want);
        return -1;
    }
    *value = json_integer_value(v);
    return 0;
}

json_t *
st_router_obj(cm_msg_t *request, const char *key, bool required,
              cm_msg_t **reply_p)
{
    json_t *v = json_object_get(cm_msg_body(request), key);
    if ((!v || json_is_null(v)) && !required) {
        return NULL;
    }
    if (!json_is_object(v)) {
        *reply_p = s_bad(request, key, "an object");
        return NULL;
    }
    return v;
}

int
st_router_lease(cm_msg_t *request, const char *name_key, bool required,
                st_router_lease_t *lease, cm_msg_t **reply_p)
{
    *lease = (st_router_lease_t){NULL, NULL, 0};
    lease->name = st_router_str(request, name_key, ST_ROUTER_NAME_MAX, reply_p);
    if (!lease->name) {
        return -1;
    }
    lease->worker =
        required
            ? st_router_str(request, "worker", ST_ROUTER_NAME_MAX, reply_p)
            : st_router_opt_str(request, "worker", ST_ROUTER_NAME_MAX, reply_p);
    if (*reply_p) {
        return -1;
    }
    return st_router_int(request, "epoch", 0, INT64_MAX, lease->worker != NULL,
                         0, &lease->epoch, reply_p);
}

PGresult *
st_router_by_name(st_router_t *self, cm_msg_t *request, const char *stmt,
                  cm_msg_t **reply_p)
{
    const char *name =
        st_router_str(request, "name", ST_ROUTER_NAME_MAX, reply_p);
    if (!name) {
        return NULL;
    }
    const char *params[] = {name};
    PGresult *res = st_db_exec(self->db, stmt, 1, params);
    if (!res) {
        *reply_p = st_router_db_fail(self, request);
    }
    return res;
}

int
st_router_status(st_router_t *self, const char *type, const char *body)
{
    cm_msg_t *req = cm_msg_new(type);
    if (body) {
        json_t *b = json_loads(body, JSON_ALLOW_NUL, NULL);
        assert(b);
        cm_msg_set_body(req, &b);
    }
    cm_msg_t *reply = st_router_dispatch(self, req);
    int st = reply ? cm_msg_status(reply) : 0;
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    return st;
}

int
st_router_call_status(st_router_t *self, st_handler_fn *fn, const char *body)
{
    cm_msg_t *req = cm_msg_new("test.call");
    if (body) {
        json_t *b = json_loads(body, JSON_ALLOW_NUL, NULL);
        assert(b);
        cm_msg_set_body(req, &b);
    }
    cm_msg_t *reply = fn(self, req);
    int st = reply ? cm_msg_status(reply) : 0;
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    return st;
}

static cm_msg_t *
s_test_echo(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name = st_router_str(request, "name", 8, &reply);
    if (!name) {
        return reply;
    }
    int64_t n = 0;
    if (st_router_int(request, "n", 0, 10, false, 3, &n, &reply)) {
        return reply;
    }
    json_t *obj = st_router_obj(request, "obj", false, &reply);
    if (reply) {
        return reply;
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_str(reply, "name", name);
    cm_msg_set_int(reply, "n", n);
    cm_msg_set_bool(reply, "obj", obj != NULL);
    json_t *note = json_pack("{ss}", "name", name);
    st_router_publish(self, "test.note", &note);
    return reply;
}

static cm_msg_t *
s_test_db(st_router_t *self, cm_msg_t *request)
{
    assert(false); //  never called without a database
    return NULL;
}

static void
s_test_msg_free(void **item_p)
{
    cm_msg_destroy((cm_msg_t **)item_p);
}

static void
s_test_collect(cm_msg_t **msg_p, void *arg)
{
    zlistx_add_end((zlistx_t *)arg, *msg_p);
    *msg_p = NULL;
}

void
st_router_test(bool verbose)
{
    printf(" * st_router: ");
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "store-test");
    zlistx_t *published = zlistx_new();
    st_router_set_publish(r, s_test_collect, published);
    st_router_add(r, "test.echo", 1, s_test_echo, 0);
    st_router_add(r, "test.db", 1, s_test_db, ST_ROUTER_DB);
    st_router_prepare(r, "noop", "SELECT 1");
    assert(st_router_has(r, "test.echo"));
    assert(st_router_has(r, "health.ping"));
    assert(!st_router_has(r, "test.none"));
    assert(st_router_db(r) == NULL);
    assert(cm_streq(st_router_store_id(r), "store-test"));

    //  health
    cm_msg_t *req = cm_msg_new("health.ping");
    cm_msg_t *reply = st_router_dispatch(r, req);
    assert(cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "service"), "store-service"));
    assert(cm_streq(cm_msg_str(reply, "id"), "store-test"));
    assert(cm_msg_str(reply, "version"));
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);

    //  store.stats answers the process's database request latencies
    req = cm_msg_new("store.stats");
    reply = st_router_dispatch(r, req);
    assert(cm_msg_status(reply) == 200);
    assert(json_is_array(json_object_get(cm_msg_body(reply), "ops")));
    assert(json_array_size(json_object_get(cm_msg_body(reply), "bounds")) > 0);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);

    //  argument checks
    assert(st_router_status(r, "test.echo", "{\"name\":\"x\"}") == 200);
    assert(zlistx_size(published) == 1);
    cm_msg_t *note = (cm_msg_t *)zlistx_first(published);
    assert(cm_streq(cm_msg_type(note), "test.note"));
    assert(cm_streq(cm_msg_str(note, "name"), "x"));
    assert(st_router_status(r, "test.echo",
                            "{\"name\":\"x\",\"n\":10,\"obj\":{}}") == 200);
    assert(st_router_status(r, "test.echo", "{\"name\":\"x\",\"obj\":null}") ==
           200);
    assert(st_router_status(r, "test.echo", "{}") == 400);
    assert(st_router_status(r, "test.echo", "{\"name\":\"\"}") == 400);
    assert(st_router_status(r, "test.echo", "{\"name\":\"123456789\"}") == 400);
    assert(st_router_status(r, "test.echo", "{\"name\":5}") == 400);
    assert(st_router_status(r, "test.echo", "{\"name\":\"a\\u0000b\"}") == 400);
    assert(st_router_status(r, "test.echo", "{\"name\":\"x\",\"n\":11}") ==
           400);
    assert(st_router_status(r, "test.echo", "{\"name\":\"x\",\"n\":\"1\"}") ==
           400);
    assert(st_router_status(r, "test.echo", "{\"name\":\"x\",\"obj\":[]}") ==
           400);
    //  unknown type, database handler without a database
    assert(st_router_status(r, "test.none", "{}") == 400);
    assert(st_router_status(r, "test.db", "{}") == 503);

    //  a reason names the field
    req = cm_msg_new("test.echo");
    reply = st_router_dispatch(r, req);
    assert(strstr(cm_msg_reason(reply), "'name'"));
    cm_msg_destroy(&reply);
    cm_msg_t *fail = st_router_db_fail(r, req);
    assert(cm_msg_status(fail) == 503);
    cm_msg_destroy(&fail);
    cm_msg_destroy(&req);

    //  lease fields: name, worker required or optional, epoch with a worker
    struct {
        const char *body;
        bool required;
        const char *worker; //  read on success; NULL: none, or a 400
        bool ok;
    } lease_cases[] = {
        {"{\"name\":\"s\",\"worker\":\"w\",\"epoch\":3}", true, "w", true},
        {"{\"name\":\"s\",\"epoch\":3}", true, NULL, false},
        {"{\"worker\":\"w\",\"epoch\":3}", false, NULL, false},
        {"{\"name\":\"s\",\"worker\":\"w\"}", false, NULL, false},
        {"{\"name\":\"s\",\"worker\":\"w\",\"epoch\":-1}", true, NULL, false},
        {"{\"name\":\"s\",\"worker\":5,\"epoch\":3}", false, NULL, false},
        {"{\"name\":\"s\"}", false, NULL, true},
        {"{\"name\":\"s\",\"worker\":null,\"epoch\":\"x\"}", false, NULL,
         false},
    };
    for (size_t i = 0; i < sizeof lease_cases / sizeof lease_cases[0]; i++) {
        req = cm_msg_new("test.lease");
        json_t *b = json_loads(lease_cases[i].body, 0, NULL);
        assert(b);
        cm_msg_set_body(req, &b);
        st_router_lease_t lease;
        int rc = st_router_lease(req, "name", lease_cases[i].required, &lease,
                                 &reply);
        assert((rc == 0) == lease_cases[i].ok);
        assert((reply != NULL) == (rc != 0));
        if (rc == 0) {
            assert(cm_streq(lease.name, "s"));
            assert(cm_streq(lease.worker, lease_cases[i].worker) ||
                   (!lease.worker && !lease_cases[i].worker));
            assert(lease.epoch == (lease.worker ? 3 : 0));
        } else {
            assert(cm_msg_status(reply) == 400);
        }
        cm_msg_destroy(&reply);
        cm_msg_destroy(&req);
    }
    //  a statement by name: a bad name is a 400 before any database work
    req = cm_msg_new("test.byname");
    assert(st_router_by_name(r, req, "noop", &reply) == NULL);
    assert(cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);

    //  ids
    char id[64];
    assert(st_router_new_id(r, "evt_", id, sizeof id) == 0);
    assert(strlen(id) == 30 && cm_ulid_valid(id + 4));

    zlistx_set_destructor(published, s_test_msg_free);
    zlistx_destroy(&published);
    st_router_destroy(&r);
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
