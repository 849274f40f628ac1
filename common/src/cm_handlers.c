/*  cm_handlers - dispatch table for a bus server

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

typedef struct {
    cm_handler_fn *fn;  //  the handler
    void *arg;          //  its argument
    int max_version;    //  newest version it understands
} s_entry_t;

struct _cm_handlers_t {
    zhashx_t *table;  //  type -> s_entry_t, owned
};

static void
s_entry_free(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

cm_handlers_t *
cm_handlers_new(void)
{
    cm_handlers_t *self = cm_alloc(sizeof *self);
    self->table = zhashx_new();
    zhashx_set_destructor(self->table, s_entry_free);
    return self;
}

void
cm_handlers_destroy(cm_handlers_t **self_p)
{
    assert(self_p);
    if (*self_p) {
        zhashx_destroy(&(*self_p)->table);
        free(*self_p);
        *self_p = NULL;
    }
}

void
cm_handlers_add(cm_handlers_t *self, const char *type, int max_version,
                cm_handler_fn *fn, void *arg)
{
    assert(type && fn && max_version >= 1);
    s_entry_t *e = cm_alloc(sizeof *e);
    e->fn = fn;
    e->arg = arg;
    e->max_version = max_version;
    zhashx_update(self->table, type, e);
}

bool
cm_handlers_has(cm_handlers_t *self, const char *type)
{
    return zhashx_lookup(self->table, type) != NULL;
}

cm_msg_t *
cm_handlers_dispatch(cm_handlers_t *self, cm_msg_t *request)
{
    if (cm_msg_is_reply(request)) {
        cm_log_debug("ignored unexpected reply", "%s", cm_msg_summary(request));
        return NULL;
    }
    if (cm_msg_error(request)) {
        cm_log_warn("rejected malformed request", "type=%s reason=\"%s\"",
                    cm_msg_type(request), cm_msg_error(request));
        return cm_msg_new_reply(request, 400, cm_msg_error(request));
    }
    s_entry_t *e = (s_entry_t *) zhashx_lookup(self->table, cm_msg_type(request));
    if (!e) {
        cm_log_warn("rejected request", "type=%s reason=unrecognized",
                    cm_msg_type(request));
        return cm_msg_new_reply(request, 400, "unrecognized message type");
    }
    if (cm_msg_version(request) > e->max_version) {
        char *why = cm_sprintf("unsupported version %d of %s (max %d)",
                               cm_msg_version(request), cm_msg_type(request),
                               e->max_version);
        cm_msg_t *reply = cm_msg_new_reply(request, 400, why);
        free(why);
        return reply;
    }
    if (cm_msg_expired(request)) {
        cm_log_debug("dropped expired request", "%s", cm_msg_summary(request));
        return NULL;
    }
    return e->fn(request, e->arg);
}

int
cm_handlers_serve_one(cm_handlers_t *self, zsock_t *router)
{
    zmsg_t *zmsg = zmsg_recv(router);
    if (!zmsg) {
        return -1;
    }
    cm_msg_t *request = cm_msg_decode(&zmsg, true);
    if (!request) {
        return 0;
    }
    cm_msg_t *reply = cm_handlers_dispatch(self, request);
    if (reply) {
        cm_msg_send(&reply, router);
    }
    cm_msg_destroy(&request);
    return 0;
}

cm_msg_t *
cm_handlers_health(cm_msg_t *request, const char *service, const char *id)
{
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_str(reply, "service", service);
    cm_msg_set_str(reply, "version", WHARF_VERSION);
    cm_msg_set_str(reply, "id", id);
    return reply;
}

static cm_msg_t *
s_test_echo(cm_msg_t *request, void *arg)
{
    int *calls = (int *) arg;
    (*calls)++;
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_str(reply, "text", cm_msg_str(request, "text"));
    return reply;
}

void
cm_handlers_test(bool verbose)
{
    printf(" * cm_handlers: ");
    cm_log_init(NULL, "error");
    int calls = 0;
    cm_handlers_t *h = cm_handlers_new();
    cm_handlers_add(h, "test.echo", 2, s_test_echo, &calls);
    assert(cm_handlers_has(h, "test.echo"));
    assert(!cm_handlers_has(h, "test.nope"));

    cm_msg_t *req = cm_msg_new("test.echo");
    cm_msg_set_str(req, "text", "hi");
    cm_msg_t *reply = cm_handlers_dispatch(h, req);
    assert(reply && cm_msg_status(reply) == 200 && calls == 1);
    assert(cm_streq(cm_msg_str(reply, "text"), "hi"));
    cm_msg_destroy(&reply);

    //  version too new
    cm_msg_set_version(req, 3);
    reply = cm_handlers_dispatch(h, req);
    assert(cm_msg_status(reply) == 400 && calls == 1);
    cm_msg_destroy(&reply);
    cm_msg_set_version(req, 1);
    //  a newer minor of a known major is served (additions are ignored)
    cm_msg_set_minor(req, 7);
    cm_msg_set_str(req, "added_in_minor_7", "x");
    reply = cm_handlers_dispatch(h, req);
    assert(reply && cm_msg_status(reply) == 200 && calls == 2);
    assert(cm_streq(cm_msg_str(reply, "text"), "hi"));
    cm_msg_destroy(&reply);
    //  every major up to the highest known (2) is served; the next is
    //  refused with a reason naming both versions
    cm_msg_set_version(req, 2);
    reply = cm_handlers_dispatch(h, req);
    assert(reply && cm_msg_status(reply) == 200 && calls == 3);
    cm_msg_destroy(&reply);
    cm_msg_set_version(req, 3);
    reply = cm_handlers_dispatch(h, req);
    assert(cm_msg_status(reply) == 400 && calls == 3);
    assert(cm_streq(cm_msg_reason(reply),
                    "unsupported version 3 of test.echo (max 2)"));
    cm_msg_destroy(&reply);
    cm_msg_set_version(req, 1);
    cm_msg_set_minor(req, 0);

    //  expired: dropped
    cm_msg_set_deadline(req, cm_now_ms() - 10);
    assert(cm_handlers_dispatch(h, req) == NULL && calls == 3);
    cm_msg_destroy(&req);

    //  unknown type
    req = cm_msg_new("test.nope");
    reply = cm_handlers_dispatch(h, req);
    assert(cm_msg_status(reply) == 400);
    assert(cm_streq(cm_msg_reason(reply), "unrecognized message type"));
    //  replies are ignored
    assert(cm_handlers_dispatch(h, reply) == NULL);
    cm_msg_destroy(&reply);

    //  health
    reply = cm_handlers_health(req, "test", "t1");
    assert(cm_streq(cm_msg_str(reply, "service"), "test"));
    assert(cm_streq(cm_msg_str(reply, "version"), WHARF_VERSION));
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);

    //  over a real ROUTER
    zsock_t *router = zsock_new_router("inproc://cm_handlers_test");
    cm_client_t *client = cm_client_new("inproc://cm_handlers_test");
    req = cm_msg_new("test.echo");
    cm_msg_send(&req, cm_client_sock(client, 0));
    assert(cm_handlers_serve_one(h, router) == 0);
    cm_client_destroy(&client);
    zsock_destroy(&router);

    cm_handlers_destroy(&h);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
