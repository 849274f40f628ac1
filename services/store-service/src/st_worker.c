/*  st_worker - one pool worker: a PostgreSQL connection and a router

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#include <openssl/crypto.h>

//  How often an idle worker without a connection tries to reconnect, ms.
#define ST_WORKER_IDLE_RETRY_MS 1000

//  How often worker 0 looks for hot tables whose planner statistics are
//  stale, ms.
#define ST_WORKER_STATS_MS 2000

//  Tables that grow from empty at hundreds of rows a second. Autovacuum
//  analyzes them only once a minute at best, and until then the planner
//  takes a fresh install's empty tables for what they hold: the generic
//  plans of the hot statements pick the wrong index or scan the whole
//  table (the outbox fan-out went 20x slower that way). Worker 0 analyzes
//  each one again once its rows changed by 1,000 plus half its size
//  (sql/0004_hot_tables.sql keeps these ANALYZE runs small).
static const char *s_stats_sql =
    "DO $$DECLARE t text; BEGIN "
    "FOR t IN SELECT quote_ident(relname) FROM pg_stat_user_tables "
    "WHERE schemaname = current_schema() AND relname IN ('events', "
    "'messages', 'chats', 'webhook_deliveries', 'webhook_streams', "
    "'signal_keys', 'sessions') "
    "AND n_mod_since_analyze > 1000 + n_live_tup / 2 "
    "LOOP EXECUTE 'ANALYZE ' || t; END LOOP; END$$";

//  Publish hook: hand the message to the server, which owns the PUB.
static void
s_publish(cm_msg_t **msg_p, void *arg)
{
    zsock_t *dealer = (zsock_t *)arg;
    zmsg_t *zmsg = cm_msg_encode(*msg_p);
    cm_msg_destroy(msg_p);
    zmsg_pushstr(zmsg, "PUB");
    if (zmsg_send(&zmsg, dealer) != 0) {
        cm_log_warn("could not queue notification");
    }
    zmsg_destroy(&zmsg);
}

//  Most requests the server hands one worker at once (its S_GROUP_MAX).
#define S_GROUP_MAX 32

//  Send a reply (or, for NULL, nothing) to the server under `cmd`.
static void
s_answer(zsock_t *dealer, cm_msg_t **reply_p, const char *cmd)
{
    zmsg_t *out = NULL;
    if (*reply_p) {
        out = cm_msg_encode(*reply_p);
        cm_msg_destroy(reply_p);
        zmsg_pushstr(out, cmd);
    } else if (cm_streq(cmd, "REPLY")) {
        out = zmsg_new();
        zmsg_addstr(out, "READY");
    } else {
        return;
    }
    if (zmsg_send(&out, dealer) != 0) {
        cm_log_error("could not answer server");
    }
    zmsg_destroy(&out);
}

//  Run the requests the server handed over at once (see st_server's
//  s_to_worker): the writes among them in one transaction, each reply
//  sent after its commit; then tell the server we are idle.
static void
s_serve_group(st_router_t *router, zsock_t *dealer, cm_msg_t **requests,
              size_t n)
{
    cm_msg_t *group[S_GROUP_MAX];
    cm_msg_t *replies[S_GROUP_MAX];
    size_t grouped = 0;
    for (size_t i = 0; i < n; i++) {
        if (requests[i] && st_router_groups(cm_msg_type(requests[i]))) {
            group[grouped++] = requests[i];
            continue;
        }
        cm_msg_t *reply =
            requests[i] ? st_router_dispatch(router, requests[i]) : NULL;
        s_answer(dealer, &reply, "OUT");
    }
    st_router_dispatch_group(router, group, grouped, replies);
    for (size_t i = 0; i < grouped; i++) {
        s_answer(dealer, &replies[i], "OUT");
    }
    zmsg_t *out = zmsg_new();
    zmsg_addstr(out, "READY");
    if (zmsg_send(&out, dealer) != 0) {
        cm_log_error("could not answer server");
    }
    zmsg_destroy(&out);
}

//  Run one request (or a group of them) from the server and answer.
static void
s_serve(st_router_t *router, zsock_t *dealer)
{
    cm_msg_t *requests[S_GROUP_MAX];
    size_t n = 0;
    bool more = true;
    while (more) {
        zmsg_t *zmsg = zmsg_recv(dealer);
        if (!zmsg) {
            break; //  interrupted
        }
        char *cmd = zmsg_popstr(zmsg);
        more = cm_streq(cmd, "MORE") && n + 1 < S_GROUP_MAX;
        zstr_free(&cmd);
        requests[n++] = cm_msg_decode(&zmsg, true);
        zmsg_destroy(&zmsg);
    }
    if (n == 0) {
        return;
    }
    if (n > 1) {
        s_serve_group(router, dealer, requests, n);
    } else {
        cm_msg_t *reply =
            requests[0] ? st_router_dispatch(router, requests[0]) : NULL;
        s_answer(dealer, &reply, "REPLY");
    }
    for (size_t i = 0; i < n; i++) {
        cm_msg_destroy(&requests[i]);
    }
}

void
st_worker_actor(zsock_t *pipe, void *args)
{
    st_worker_args_t *a = (st_worker_args_t *)args;
    st_db_t *db = st_db_new(st_config_database_url(a->config),
                            st_config_statement_timeout(a->config));
    st_router_t *router = st_router_new(db, a->store_id);
    st_router_set_engine(router, st_config_engine(a->config));
    int index = a->index;
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    assert(dealer);
    zsock_set_sndhwm(dealer, 0);
    zsock_set_rcvhwm(dealer, 0);
    zsock_set_linger(dealer, 0);
    int rc = zsock_connect(dealer, "%s", a->backend);
    assert(rc == 0);
    st_router_set_publish(router, s_publish, dealer);
    st_router_set_seal(router, st_config_seal(a->config));
    bool ok = st_families_register(router) == 0;
    st_db_connect_now(db);
    //  the arguments are ours (st_worker_actor takes them): done with them
    free(a);
    zsock_signal(pipe, 0);
    if (ok) {
        zstr_send(dealer, "READY");
    }
    cm_log_debug("worker started", "worker=%d connected=%d", index,
                 st_db_connected(db));

    zpoller_t *poller = zpoller_new(pipe, dealer, NULL);
    zpoller_set_nonstop(poller, true);
    int64_t stats_at = zclock_mono() + ST_WORKER_STATS_MS;
    while (true) {
        int timeout = st_db_connected(db) ? -1 : ST_WORKER_IDLE_RETRY_MS;
        if (index == 0) {
            int64_t now = zclock_mono();
            if (now >= stats_at) {
                if (st_db_connected(db) && st_db_run(db, s_stats_sql) != 0) {
                    cm_log_warn("could not refresh planner statistics",
                                "reason=\"%s\"", st_db_error_reason(db));
                }
                stats_at = now + ST_WORKER_STATS_MS;
            }
            int left = (int)(stats_at - now);
            timeout = timeout < 0 || left < timeout ? left : timeout;
        }
        zsock_t *which = (zsock_t *)zpoller_wait(poller, timeout);
        if (which == pipe) {
            char *cmd = zstr_recv(pipe);
            bool term = !cmd || streq(cmd, "$TERM");
            zstr_free(&cmd);
            if (term) {
                break;
            }
        } else if (which == dealer) {
            s_serve(router, dealer);
        } else if (!st_db_connected(db)) {
            st_db_connect(db);
        }
    }
    zpoller_destroy(&poller);
    zsock_destroy(&dealer);
    st_router_destroy(&router);
    st_db_destroy(&db);
    //  OpenSSL keeps per-thread state (error queue, digest fetches of
    //  cm_webhook_id) that it frees from a thread-exit destructor. czmq
    //  actor threads are detached, so the process could exit before that
    //  destructor ran, and LeakSanitizer reported the state as leaked.
    //  Free it here, before the actor signals that it is done.
    OPENSSL_thread_stop();
}

//  Selftest: hand the worker `req` (destroyed) with command `how`.
static void
s_test_send(zsock_t *backend, zframe_t *id, cm_msg_t **req_p, const char *how)
{
    zframe_t *client = zframe_new("client", 6);
    cm_msg_set_routing(*req_p, &client);
    zmsg_t *m = cm_msg_encode(*req_p);
    cm_msg_destroy(req_p);
    zmsg_pushstr(m, how);
    zmsg_prepend(m, (zframe_t *[]){zframe_dup(id)});
    zmsg_send(&m, backend);
}

//  Selftest: the worker's next message is command `want` from `id`;
//  returns its reply (NULL for READY).
static cm_msg_t *
s_test_expect(zsock_t *backend, zframe_t *id, const char *want)
{
    zmsg_t *m = zmsg_recv(backend);
    zframe_t *from = zmsg_pop(m);
    assert(!id || zframe_eq(from, id));
    zframe_destroy(&from);
    char *cmd = zmsg_popstr(m);
    assert(cm_streq(cmd, want));
    zstr_free(&cmd);
    cm_msg_t *reply = NULL;
    if (cm_streq(want, "READY")) {
        zmsg_destroy(&m);
    } else {
        reply = cm_msg_decode(&m, true);
        assert(reply);
    }
    return reply;
}

void
st_worker_test(bool verbose)
{
    printf(" * st_worker: ");
    //  Drive one worker over its backend protocol, without a database
    cm_log_init(NULL, "error");
    setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none", 1);
    setenv("STORE_SECRET_KEY", ST_CONFIG_TEST_KEY, 1);
    st_config_t *config = st_config_new();
    zsock_t *backend = zsock_new_router("inproc://st_worker_test");
    assert(backend);
    st_worker_args_t *args = cm_alloc(sizeof *args);
    *args = (st_worker_args_t){config, "inproc://st_worker_test", "store-t", 0};
    zactor_t *worker = zactor_new(st_worker_actor, args);

    zmsg_t *m = zmsg_recv(backend);
    zframe_t *id = zmsg_pop(m);
    char *cmd = zmsg_popstr(m);
    assert(cm_streq(cmd, "READY"));
    zstr_free(&cmd);
    zmsg_destroy(&m);

    //  a request: routing id + message frames
    cm_msg_t *req = cm_msg_new("health.ping");
    char *req_id = cm_strdup(cm_msg_id(req));
    s_test_send(backend, id, &req, "ONE");
    cm_msg_t *reply = s_test_expect(backend, id, "REPLY");
    assert(cm_msg_status(reply) == 200);
    assert(zframe_streq(cm_msg_routing(reply), "client"));
    assert(cm_streq(cm_msg_corr(reply), req_id));
    free(req_id);
    cm_msg_destroy(&reply);

    //  garbage: no reply, worker says READY again
    m = zmsg_new();
    zmsg_append(m, (zframe_t *[]){zframe_dup(id)});
    zmsg_addstr(m, "ONE");
    zmsg_addstr(m, "client");
    zmsg_addstr(m, "junk");
    zmsg_send(&m, backend);
    assert(s_test_expect(backend, id, "READY") == NULL);

    //  a database request without a database: 503
    req = cm_msg_new("session.get");
    cm_msg_set_str(req, "name", "x");
    s_test_send(backend, id, &req, "ONE");
    reply = s_test_expect(backend, id, "REPLY");
    assert(cm_msg_status(reply) == 503);
    cm_msg_destroy(&reply);

    //  a group (MORE..LAST): a reply each (OUT), then READY once; the
    //  write among them (event.append) runs alone without a database
    const char *types[] = {"health.ping", "event.append", "health.ping"};
    for (int i = 0; i < 3; i++) {
        req = cm_msg_new(types[i]);
        cm_msg_set_str(req, "session", "x");
        cm_msg_set_str(req, "id", "evt_1");
        cm_msg_set_str(req, "event", "message");
        s_test_send(backend, id, &req, i < 2 ? "MORE" : "LAST");
    }
    int st[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        reply = s_test_expect(backend, id, "OUT");
        st[i] = cm_msg_status(reply);
        cm_msg_destroy(&reply);
    }
    //  the two pings first, the write after them
    assert(st[0] == 200 && st[1] == 200 && st[2] == 503);
    assert(s_test_expect(backend, id, "READY") == NULL);
    zframe_destroy(&id);

    zactor_destroy(&worker);
    zsock_destroy(&backend);
    st_config_destroy(&config);
    unsetenv("DATABASE_URL");
    unsetenv("STORE_SECRET_KEY");
    cm_log_init(NULL, "info");
    printf("OK\n");
}
