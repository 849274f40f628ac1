/*  gw_link - an HTTP handler thread's connection to the gateway core

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  Extra time a handler waits beyond the request deadline: the core
//  answers every request by its deadline, so this only covers a stalled
//  core.
#define GW_LINK_GRACE_MS 1000

struct _gw_link_t {
    zsock_t *sock; //  DEALER connected to the core
};

gw_link_t *
gw_link_new(const char *endpoint)
{
    assert(endpoint);
    gw_link_t *self = cm_alloc(sizeof *self);
    self->sock = zsock_new(ZMQ_DEALER);
    if (!self->sock) {
        //  Out of sockets or file descriptors: the caller answers 503.
        cm_log_warn("could not create link to gateway core", "reason=\"%s\"",
                    zmq_strerror(errno));
        free(self);
        return NULL;
    }
    zsock_set_linger(self->sock, 0);
    zsock_set_sndhwm(self->sock, 1000);
    zsock_set_rcvhwm(self->sock, 1000);
    if (zsock_connect(self->sock, "%s", endpoint) != 0) {
        cm_log_error("could not connect to gateway core", "endpoint=%s",
                     endpoint);
        gw_link_destroy(&self);
    }
    return self;
}

void
gw_link_destroy(gw_link_t **self_p)
{
    assert(self_p);
    gw_link_t *self = *self_p;
    if (self) {
        zsock_destroy(&self->sock);
        free(self);
        *self_p = NULL;
    }
}

static int
s_send(gw_link_t *self, const char *dest, cm_msg_t *msg)
{
    zmsg_t *zmsg = cm_msg_encode(msg);
    zmsg_pushstr(zmsg, dest);
    int rc = zmsg_send(&zmsg, self->sock);
    zmsg_destroy(&zmsg);
    return rc;
}

cm_msg_t *
gw_link_call(gw_link_t *self, const char *dest, cm_msg_t **msg_p,
             int timeout_ms)
{
    assert(msg_p && *msg_p);
    cm_msg_t *msg = *msg_p;
    *msg_p = NULL;
    int64_t started = cm_mono_ms();
    if (timeout_ms < 1) {
        timeout_ms = 1;
    }
    cm_msg_set_deadline(msg, cm_now_ms() + timeout_ms);
    char id[CM_MSG_MAX_ID + 1];
    snprintf(id, sizeof id, "%s", cm_msg_id(msg));
    cm_msg_t *reply = NULL;
    if (s_send(self, dest, msg) != 0) {
        reply = cm_msg_new_reply(msg, 503, "could not reach gateway core");
        cm_msg_destroy(&msg);
        return reply;
    }
    int64_t until = cm_mono_ms() + timeout_ms + GW_LINK_GRACE_MS;
    //  A poll item, not a zpoller: nothing to allocate per call.
    zmq_pollitem_t item = {zsock_resolve(self->sock), 0, ZMQ_POLLIN, 0};
    while (!reply) {
        int64_t left = until - cm_mono_ms();
        if (left <= 0 || zsys_interrupted) {
            break; //  zpoller stops on SIGINT/SIGTERM too
        }
        int rc = zmq_poll(&item, 1, (long)left);
        if (rc < 0 && (errno == ETERM || errno == EINTR)) {
            break; //  interrupted or shutting down, as zpoller would
        }
        if (rc <= 0 || !(item.revents & ZMQ_POLLIN)) {
            continue;
        }
        zmsg_t *zmsg = zmsg_recv(self->sock);
        if (!zmsg) {
            break;
        }
        char *rid = zmsg_popstr(zmsg);
        if (!rid || !streq(rid, id)) {
            //  A late answer to an earlier call that timed out.
            zstr_free(&rid);
            zmsg_destroy(&zmsg);
            continue;
        }
        zstr_free(&rid);
        reply = cm_msg_decode(&zmsg, false);
    }
    if (!reply) {
        reply = cm_msg_new_reply(msg, 504, "no reply from gateway core");
    }
    cm_msg_destroy(&msg);
    gw_metrics_bus(dest, cm_msg_status(reply), (cm_mono_ms() - started) * 1000);
    return reply;
}

void
gw_link_send(gw_link_t *self, const char *dest, cm_msg_t **msg_p)
{
    assert(msg_p && *msg_p);
    s_send(self, dest, *msg_p);
    cm_msg_destroy(msg_p);
}

//  --------------------------------------------------------------------
//  Self test: a fake core that answers "store" requests, once late.

static void
s_fake_core(zsock_t *pipe, void *args)
{
    zsock_t *router = zsock_new_router((const char *)args);
    assert(router);
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    while (zpoller_wait(poller, -1) == router) {
        zmsg_t *zmsg = zmsg_recv(router);
        zframe_t *identity = zmsg_pop(zmsg);
        char *dest = zmsg_popstr(zmsg);
        cm_msg_t *req = cm_msg_decode(&zmsg, false);
        assert(req);
        if (!streq(dest, "nudge")) {
            if (cm_streq(cm_msg_type(req), "test.slow")) {
                zclock_sleep(1300);
            }
            cm_msg_t *reply = cm_msg_new_reply(req, 200, NULL);
            cm_msg_set_str(reply, "dest", dest);
            zmsg_t *out = cm_msg_encode(reply);
            zmsg_pushstr(out, cm_msg_id(req));
            zmsg_push(out, identity);
            identity = NULL;
            zmsg_send(&out, router);
            zmsg_destroy(&out);
            cm_msg_destroy(&reply);
        }
        zframe_destroy(&identity);
        zstr_free(&dest);
        cm_msg_destroy(&req);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

void
gw_link_test(bool verbose)
{
    printf(" * gw_link: ");
    const char *ep = "inproc://gw_link_test";
    zactor_t *core = zactor_new(s_fake_core, (void *)ep);
    gw_link_t *link = gw_link_new(ep);
    assert(link);

    cm_msg_t *msg = cm_msg_new("session.get");
    cm_msg_t *reply = gw_link_call(link, GW_DEST_STORE, &msg, 1000);
    assert(!msg);
    assert(cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "dest"), "store"));
    cm_msg_destroy(&reply);

    //  A call that times out gives 504; its late answer is skipped by the
    //  next call.
    msg = cm_msg_new("test.slow");
    reply = gw_link_call(link, GW_DEST_STORE, &msg, 1);
    cm_msg_destroy(&reply);
    msg = cm_msg_new("session.list");
    reply = gw_link_call(link, GW_DEST_WORKER, &msg, 2000);
    assert(cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_type(reply), "session.list"));
    assert(cm_streq(cm_msg_str(reply, "dest"), "worker"));
    cm_msg_destroy(&reply);

    msg = cm_msg_new("worker.nudge");
    gw_link_send(link, GW_DEST_NUDGE, &msg);
    assert(!msg);

    gw_link_destroy(&link);
    assert(!link);
    zactor_destroy(&core);
    printf("OK\n");
}
