/*  ms_server - media-service request server

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

struct _ms_server_t {
    zactor_t *actor;
    void *actor_args; //  the actor's arguments, freed after it
};

typedef struct {
    const ms_config_t *config;
    zsock_t *router;
    bool failed; //  set by the actor before its start signal
} s_args_t;

static void
s_actor(zsock_t *pipe, void *arg)
{
    s_args_t *a = (s_args_t *)arg;
    const ms_config_t *config = a->config;
    zsock_t *router = a->router;
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "inproc://ms-workers-%p", (void *)a);
    zsock_t *backend = zsock_new(ZMQ_DEALER);
    assert(backend);
    cm_msg_sock_defaults(backend);
    int rc = zsock_bind(backend, "%s", endpoint);
    assert(rc == 0);
    int count = ms_config_workers(config);
    zactor_t **workers = cm_alloc(sizeof(zactor_t *) * (size_t)count);
    ms_worker_args_t *wargs = cm_alloc(sizeof *wargs * (size_t)count);
    //  Our temporary files, in a directory of our own; those of
    //  media-services killed before go first
    ms_scratch_t *scratch = ms_scratch_new(ms_config_tmp_dir(config));
    bool ok = scratch != NULL;
    for (int i = 0; i < count && ok; i++) {
        wargs[i] = (ms_worker_args_t){config, endpoint,
                                      ms_scratch_path(scratch), i, false};
        workers[i] = zactor_new(ms_worker_actor, &wargs[i]);
        ok = workers[i] != NULL && !wargs[i].failed;
    }
    ms_http_t *http = ms_http_new(config);
    ms_store_t *store = http ? ms_store_new(config, http) : NULL;
    ok = ok && store;
    a->failed = !ok;
    zsock_signal(pipe, ok ? 0 : 1);

    zpoller_t *poller = zpoller_new(pipe, router, backend, NULL);
    //  The first sweep at once: it also clears the files folder of the
    //  temporary files of writes a killed media-service left
    int64_t next_sweep = cm_mono_ms();
    while (ok) {
        int64_t wait = next_sweep - cm_mono_ms();
        zsock_t *which =
            (zsock_t *)zpoller_wait(poller, wait > 0 ? (int)wait : 0);
        if (which == router || which == backend) {
            zmsg_t *msg = zmsg_recv(which);
            if (msg) {
                zsock_t *to = which == router ? backend : router;
                if (zmsg_send(&msg, to) != 0) {
                    zmsg_destroy(&msg);
                }
            }
        } else if (which == pipe || zpoller_terminated(poller)) {
            break;
        }
        if (cm_mono_ms() >= next_sweep) {
            int n = ms_store_sweep(store);
            if (n > 0) {
                cm_log_info("expired or abandoned media files deleted",
                            "count=%d", n);
            }
            next_sweep = cm_mono_ms() + MS_SERVER_SWEEP_MS;
        }
    }
    zpoller_destroy(&poller);
    for (int i = 0; i < count; i++) {
        zactor_destroy(&workers[i]); //  NULL-safe
    }
    free(workers);
    free(wargs);
    ms_scratch_destroy(&scratch);
    ms_store_destroy(&store);
    ms_http_destroy(&http);
    zsock_destroy(&backend);
    zsock_destroy(&router);
}

ms_server_t *
ms_server_new(const ms_config_t *config)
{
    const char *bind = ms_config_bind(config);
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    assert(router);
    cm_msg_sock_defaults(router);
    if (zsock_bind(router, "%s", bind) < 0) {
        cm_log_error("could not bind request socket",
                     "endpoint=\"%s\" err=\"%s\"", bind,
                     zmq_strerror(zmq_errno()));
        zsock_destroy(&router);
        return NULL;
    }
    ms_server_t *self = cm_alloc(sizeof *self);
    s_args_t *args = cm_alloc(sizeof *args);
    args->config = config;
    args->router = router;
    self->actor = zactor_new(s_actor, args);
    if (!self->actor || args->failed) {
        zactor_destroy(&self->actor);
        free(args);
        free(self);
        return NULL;
    }
    self->actor_args = args;
    return self;
}

void
ms_server_destroy(ms_server_t **self_p)
{
    assert(self_p);
    ms_server_t *self = *self_p;
    if (self) {
        zactor_destroy(&self->actor);
        free(self->actor_args);
        free(self);
        *self_p = NULL;
    }
}

void
ms_server_test(bool verbose)
{
    printf(" * ms_server: ");
    char dir[] = "/tmp/ms_server_test_XXXXXX";
    assert(mkdtemp(dir));
    setenv("WHATSAPP_FILES_FOLDER", dir, 1);
    setenv("MEDIA_BIND", "inproc://ms_server_test", 1);
    setenv("MEDIA_WORKERS", "2", 1);
    ms_config_t *cfg = ms_config_new();
    ms_server_t *server = ms_server_new(cfg);
    assert(server);
    cm_client_t *client = cm_client_new("inproc://ms_server_test");
    cm_msg_t *req = cm_msg_new("health.ping");
    cm_msg_t *reply = cm_client_call(client, &req, 2000);
    assert(cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "service"), "media-service"));
    cm_msg_destroy(&reply);
    //  an unknown type gets 400 and the server keeps serving
    cm_log_init(NULL, "error");
    req = cm_msg_new("media.bogus");
    reply = cm_client_call(client, &req, 2000);
    assert(cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    cm_log_init(NULL, "info");
    //  blobs cross the server both ways
    uint8_t big[100000];
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (uint8_t)(i * 7);
    }
    req = cm_msg_new("media.file.put");
    cm_msg_set_str(req, "key", "s/f.bin");
    cm_msg_add_blob(req, big, sizeof big);
    reply = cm_client_call(client, &req, 2000);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    req = cm_msg_new("media.file.get");
    cm_msg_set_str(req, "key", "s/f.bin");
    reply = cm_client_call(client, &req, 2000);
    assert(cm_msg_status(reply) == 200);
    assert(zframe_size(cm_msg_blob(reply, 0)) == sizeof big);
    assert(memcmp(zframe_data(cm_msg_blob(reply, 0)), big, sizeof big) == 0);
    cm_msg_destroy(&reply);
    cm_client_destroy(&client);
    ms_server_destroy(&server);
    ms_server_destroy(&server);
    //  a second bind of the same endpoint fails cleanly
    setenv("MEDIA_BIND", "bogus://nowhere", 1);
    ms_config_t *bad = ms_config_new();
    cm_log_init(NULL, "error");
    assert(ms_server_new(bad) == NULL);
    cm_log_init(NULL, "info");
    ms_config_destroy(&bad);
    ms_config_destroy(&cfg);
    char path[128];
    snprintf(path, sizeof path, "%s/s/f.bin", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/s", dir);
    rmdir(path);
    rmdir(dir);
    unsetenv("WHATSAPP_FILES_FOLDER");
    unsetenv("MEDIA_BIND");
    unsetenv("MEDIA_WORKERS");
    printf("OK\n");
}
