/*  st_server - store-service front end: ROUTER, PUB and the worker pool

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

struct _st_server_t {
    zactor_t *actor; //  the broker
};

//  What the broker actor starts with (read before it signals).
typedef struct {
    const st_config_t *config; //  borrowed
    const char *store_id;      //  borrowed
    zsock_t *frontend;         //  bound ROUTER, handed over
    zsock_t *pub;              //  bound PUB, handed over
} s_args_t;

static zsock_t *
s_bind(int type, const char *endpoint, const char *what)
{
    zsock_t *sock = zsock_new(type);
    assert(sock);
    cm_msg_sock_defaults(sock);
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        cm_log_error("could not bind socket",
                     "socket=%s endpoint=\"%s\" "
                     "reason=\"%s\"",
                     what, endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
    }
    return sock;
}

//  Most requests the broker hands one worker at once (group commit).
#define S_GROUP_MAX 32

//  One message from a worker.
static void
s_from_worker(zsock_t *backend, zsock_t *frontend, zsock_t *pub, zlist_t *ready)
{
    zmsg_t *msg = zmsg_recv(backend);
    if (!msg) {
        return;
    }
    zframe_t *id = zmsg_pop(msg);
    char *cmd = zmsg_popstr(msg);
    bool idle = false;
    if (cm_streq(cmd, "READY")) {
        idle = true;
    } else if (cm_streq(cmd, "REPLY") || cm_streq(cmd, "OUT")) {
        //  OUT: one reply of several, the worker is still busy
        if (zmsg_send(&msg, frontend) != 0) {
            cm_log_debug("could not send reply");
        }
        idle = cm_streq(cmd, "REPLY");
    } else if (cm_streq(cmd, "PUB")) {
        if (zmsg_send(&msg, pub) != 0) {
            cm_log_warn("could not publish notification");
        }
    } else {
        assert(false); //  workers speak only the commands above
    }
    if (idle) {
        zlist_append(ready, id);
        id = NULL;
    }
    zframe_destroy(&id);
    zstr_free(&cmd);
    zmsg_destroy(&msg);
}

//  Hand the next request to an idle worker. The last idle worker takes
//  every request waiting behind it too (up to S_GROUP_MAX): while all
//  workers are busy requests queue up, and one worker can then store the
//  writes among them in one transaction (st_router_dispatch_group). Each
//  request goes as [worker][command][request frames], the command "ONE"
//  for a request alone, "MORE" for one of a group but the last, "LAST".
static void
s_to_worker(zsock_t *frontend, zsock_t *backend, zlist_t *ready)
{
    zmsg_t *msg = zmsg_recv(frontend);
    if (!msg) {
        return;
    }
    zframe_t *worker = (zframe_t *)zlist_pop(ready);
    bool drain = zlist_size(ready) == 0;
    int count = 1;
    while (msg) {
        zmsg_t *next = NULL;
        if (drain && count < S_GROUP_MAX &&
            (zsock_events(frontend) & ZMQ_POLLIN)) {
            next = zmsg_recv(frontend);
        }
        const char *cmd = next ? "MORE" : count == 1 ? "ONE" : "LAST";
        zmsg_pushstr(msg, cmd);
        zframe_t *to = zframe_dup(worker);
        zmsg_prepend(msg, &to);
        if (zmsg_send(&msg, backend) != 0) {
            cm_log_error("could not hand request to worker");
        }
        zmsg_destroy(&msg);
        msg = next;
        count++;
    }
    if (count > 2) {
        cm_log_debug("requests handed over as a group", "requests=%d",
                     count - 1);
    }
    zframe_destroy(&worker);
}

static void
s_actor(zsock_t *pipe, void *args)
{
    s_args_t *a = (s_args_t *)args;
    zsock_t *frontend = a->frontend;
    zsock_t *pub = a->pub;
    zsock_t *backend = zsock_new(ZMQ_ROUTER);
    assert(backend);
    zsock_set_sndhwm(backend, 0);
    zsock_set_rcvhwm(backend, 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://st-backend-%p",
             (void *)backend);
    int rc = zsock_bind(backend, "%s", endpoint);
    assert(rc == 0);
    int pool = st_config_pool_size(a->config);
    zactor_t **workers = cm_alloc(sizeof(zactor_t *) * (size_t)pool);
    for (int i = 0; i < pool; i++) {
        st_worker_args_t *wargs = cm_alloc(sizeof *wargs);
        *wargs = (st_worker_args_t){a->config, endpoint, a->store_id, i};
        workers[i] = zactor_new(st_worker_actor, wargs);
    }
    zsock_signal(pipe, 0);

    zlist_t *ready = zlist_new();
    zpoller_t *poller = zpoller_new(pipe, backend, NULL);
    zpoller_set_nonstop(poller, true);
    bool polling_frontend = false;
    while (true) {
        //  Read requests only while a worker is idle
        if (!polling_frontend && zlist_size(ready) > 0) {
            zpoller_add(poller, frontend);
            polling_frontend = true;
        } else if (polling_frontend && zlist_size(ready) == 0) {
            zpoller_remove(poller, frontend);
            polling_frontend = false;
        }
        zsock_t *which = (zsock_t *)zpoller_wait(poller, -1);
        if (which == pipe) {
            char *cmd = zstr_recv(pipe);
            bool term = !cmd || streq(cmd, "$TERM");
            zstr_free(&cmd);
            if (term) {
                break;
            }
        } else if (which == backend) {
            s_from_worker(backend, frontend, pub, ready);
        } else if (which == frontend) {
            s_to_worker(frontend, backend, ready);
        }
    }
    zpoller_destroy(&poller);
    for (int i = pool - 1; i >= 0; i--) {
        zactor_destroy(&workers[i]);
    }
    free(workers);
    zframe_t *id;
    while ((id = (zframe_t *)zlist_pop(ready))) {
        zframe_destroy(&id);
    }
    zlist_destroy(&ready);
    zsock_destroy(&backend);
    zsock_destroy(&pub);
    zsock_destroy(&frontend);
    free(a);
}

st_server_t *
st_server_new(const st_config_t *config, const char *store_id)
{
    assert(config && store_id);
    zsock_t *frontend = s_bind(ZMQ_ROUTER, st_config_bind(config), "requests");
    zsock_t *pub =
        frontend ? s_bind(ZMQ_PUB, st_config_pub_bind(config), "notifications")
                 : NULL;
    if (!pub) {
        zsock_destroy(&frontend);
        return NULL;
    }
    st_server_t *self = cm_alloc(sizeof *self);
    //  The actor owns its arguments: if a signal interrupts zactor_new's
    //  wait we return while the actor is still starting, so they must not
    //  live in this stack frame.
    s_args_t *args = cm_alloc(sizeof *args);
    *args = (s_args_t){config, store_id, frontend, pub};
    self->actor = zactor_new(s_actor, args);
    return self;
}

void
st_server_destroy(st_server_t **self_p)
{
    assert(self_p);
    st_server_t *self = *self_p;
    if (self) {
        zactor_destroy(&self->actor);
        free(self);
        *self_p = NULL;
    }
}

void
st_server_test(bool verbose)
{
    printf(" * st_server: ");
    //  A pool without a database still answers: health, 400s, 503s
    cm_log_init(NULL, "error");
    setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none", 1);
    setenv("STORE_SECRET_KEY", ST_CONFIG_TEST_KEY, 1);
    setenv("STORE_BIND", "inproc://st_server_test", 1);
    setenv("STORE_PUB_BIND", "inproc://st_server_test_pub", 1);
    setenv("STORE_POOL_SIZE", "2", 1);
    st_config_t *config = st_config_new();
    st_server_t *server = st_server_new(config, "store-test");
    assert(server);
    //  a second server cannot bind the same endpoint
    assert(st_server_new(config, "store-test-2") == NULL);

    cm_client_t *client = cm_client_new("inproc://st_server_test");
    cm_msg_t *req = cm_msg_new("health.ping");
    cm_msg_t *reply = cm_client_call(client, &req, 5000);
    assert(cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "service"), "store-service"));
    assert(cm_streq(cm_msg_str(reply, "id"), "store-test"));
    cm_msg_destroy(&reply);

    req = cm_msg_new("nope.nothing");
    reply = cm_client_call(client, &req, 5000);
    assert(cm_msg_status(reply) == 400);
    assert(cm_streq(cm_msg_reason(reply), "unrecognized message type"));
    cm_msg_destroy(&reply);

    //  malformed frames are dropped and the server keeps serving
    zsock_t *raw = zsock_new_dealer("inproc://st_server_test");
    zstr_send(raw, "garbage");
    zstr_sendx(raw, "session.get", "not msgpack", "x", NULL);
    zsock_destroy(&raw);

    //  more requests in flight than workers: all answered, in any order
    int sent = 20;
    int answered = 0;
    for (int i = 0; i < sent; i++) {
        req = cm_msg_new(i % 2 ? "session.get" : "health.ping");
        cm_msg_set_str(req, "name", "x");
        zmsg_t *m = cm_msg_encode(req);
        cm_msg_destroy(&req);
        zmsg_send(&m, cm_client_sock(client, 0));
    }
    while (answered < sent) {
        zsock_set_rcvtimeo(cm_client_sock(client, 0), 5000);
        reply = cm_msg_recv(cm_client_sock(client, 0), false);
        assert(reply);
        int st = cm_msg_status(reply);
        assert(cm_streq(cm_msg_type(reply), "health.ping") ? st == 200
                                                           : st == 503);
        cm_msg_destroy(&reply);
        answered++;
    }
    cm_client_destroy(&client);
    st_server_destroy(&server);
    st_server_destroy(&server);
    st_config_destroy(&config);
    unsetenv("DATABASE_URL");
    unsetenv("STORE_SECRET_KEY");
    unsetenv("STORE_BIND");
    unsetenv("STORE_PUB_BIND");
    unsetenv("STORE_POOL_SIZE");
    cm_log_init(NULL, "info");
    printf("OK\n");
}
