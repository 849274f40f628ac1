/*  ms_server - media-service request server actor

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

static cm_msg_t *
s_health(cm_msg_t *request, void *arg)
{
    return cm_handlers_health(request, "media-service", (const char *) arg);
}

zsock_t *
ms_server_bind(const char *endpoint)
{
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    assert(router);
    cm_msg_sock_defaults(router);
    if (zsock_bind(router, "%s", endpoint) < 0) {
        cm_log_error("could not bind request socket",
                     "endpoint=\"%s\" err=\"%s\"", endpoint,
                     zmq_strerror(zmq_errno()));
        zsock_destroy(&router);
    }
    return router;
}

void
ms_server_actor(zsock_t *pipe, void *args)
{
    zsock_t *router = (zsock_t *) args;
    char id[64];
    snprintf(id, sizeof id, "media-%d", (int) getpid());
    cm_handlers_t *handlers = cm_handlers_new();
    cm_handlers_add(handlers, "health.ping", 1, s_health, id);
    zsock_signal(pipe, 0);

    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    while (true) {
        zsock_t *which = (zsock_t *) zpoller_wait(poller, -1);
        if (which != router) {
            break;  //  $TERM on the pipe, or interrupted
        }
        cm_handlers_serve_one(handlers, router);
    }
    zpoller_destroy(&poller);
    cm_handlers_destroy(&handlers);
    zsock_destroy(&router);
}

void
ms_server_test(bool verbose)
{
    printf(" * ms_server: ");
    zsock_t *router = ms_server_bind("inproc://ms_server_test");
    assert(router);
    zactor_t *server = zactor_new(ms_server_actor, router);
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
    req = cm_msg_new("health.ping");
    reply = cm_client_call(client, &req, 2000);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    cm_client_destroy(&client);
    zactor_destroy(&server);
    cm_log_init(NULL, "error");
    assert(ms_server_bind("bogus://nowhere") == NULL);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
