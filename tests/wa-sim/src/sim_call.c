/*  sim_call - calls between accounts: a simulated phone places a voice
    or video call, clients reject it, the phone ends it

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_call.h"
#include "wa/wa_binary.h"
#include "wa/wa_jid.h"

//  Most calls remembered (the oldest is forgotten first).
#define SIM_CALL_MAX 256

typedef struct {
    char *id;          //  call-id
    char *caller;      //  phone digits
    char *callee;      //  phone digits
    bool video;        //  video call
    const char *state; //  offered, accepted, rejected, ended
    char *rejected_by; //  device JID that rejected it, or NULL
} s_call_t;

struct _sim_calls_t {
    sim_hub_t *hub;  //  shared state (borrowed)
    zlistx_t *calls; //  s_call_t *, oldest first
    uint64_t next;   //  call id counter
};

static void
s_call_free(void **item)
{
    s_call_t *call = (s_call_t *)*item;
    if (call) {
        free(call->id);
        free(call->caller);
        free(call->callee);
        free(call->rejected_by);
        free(call);
        *item = NULL;
    }
}

static void *
s_new(sim_hub_t *hub)
{
    sim_calls_t *self = (sim_calls_t *)cm_alloc(sizeof(sim_calls_t));
    self->hub = hub;
    self->calls = zlistx_new();
    zlistx_set_destructor(self->calls, s_call_free);
    return self;
}

static void
s_destroy(void **self_p)
{
    sim_calls_t *self = (sim_calls_t *)*self_p;
    if (self) {
        zlistx_destroy(&self->calls);
        free(self);
        *self_p = NULL;
    }
}

static s_call_t *
s_find(sim_calls_t *self, const char *id)
{
    for (s_call_t *c = (s_call_t *)zlistx_first(self->calls); c;
         c = (s_call_t *)zlistx_next(self->calls)) {
        if (cm_streq(c->id, id)) {
            return c;
        }
    }
    return NULL;
}

static json_t *
s_call_json(const s_call_t *call)
{
    json_t *out = json_pack("{s:s, s:s, s:s, s:b, s:s}", "id", call->id, "from",
                            call->caller, "to", call->callee, "video",
                            call->video, "state", call->state);
    if (call->rejected_by) {
        json_object_set_new(out, "rejected_by", json_string(call->rejected_by));
    }
    return out;
}

//  The <call> stanza of `call` with one child `what` (offer, accept,
//  terminate) as the callee's devices get it.
static wa_node_t *
s_call_node(sim_calls_t *self, const s_call_t *call, const char *what,
            const char *reason)
{
    sim_account_t *caller =
        sim_model_account(sim_hub_model(self->hub), call->caller);
    char *from = cm_sprintf("%s@s.whatsapp.net", call->caller);
    wa_node_t *node = wa_node_new("call");
    wa_node_set_attr(node, "from", from);
    wa_node_set_attr(node, "id", sim_hub_next_id(self->hub));
    wa_node_set_attr_int(node, "t", cm_now_ms() / 1000);
    if (caller && caller->push_name && *caller->push_name) {
        wa_node_set_attr(node, "notify", caller->push_name);
    }
    wa_node_t *child = wa_node_add(node, what);
    wa_node_set_attr(child, "call-id", call->id);
    wa_node_set_attr(child, "call-creator", from);
    if (cm_streq(what, "offer")) {
        wa_node_set_attr(child, "count", "0");
        if (call->video) {
            wa_node_add(child, "video");
        }
        wa_node_t *audio = wa_node_add(child, "audio");
        wa_node_set_attr(audio, "enc", "opus");
        wa_node_set_attr(audio, "rate", "16000");
    }
    if (reason) {
        wa_node_set_attr(child, "reason", reason);
    }
    free(from);
    return node;
}

//  Send `what` to the callee's linked companions (not `skip`). Returns
//  how many got it.
static size_t
s_to_callee(sim_calls_t *self, const s_call_t *call, const char *what,
            const char *reason, sim_device_t *skip)
{
    sim_account_t *callee =
        sim_model_account(sim_hub_model(self->hub), call->callee);
    if (!callee) {
        return 0;
    }
    wa_node_t *node = s_call_node(self, call, what, reason);
    size_t n = 0;
    zlistx_t *devs = sim_account_devices_copy(callee);
    for (sim_device_t *d = (sim_device_t *)zlistx_first(devs); d;
         d = (sim_device_t *)zlistx_next(devs)) {
        if (d->id != 0 && d->linked && d != skip) {
            sim_hub_deliver(self->hub, d, node, "call");
            n++;
        }
    }
    zlistx_destroy(&devs);
    wa_node_destroy(&node);
    return n;
}

int
sim_call_place(sim_calls_t *self, const char *phone, const char *to, bool video,
               json_t **result_p, const char **reason)
{
    assert(self && result_p && reason);
    sim_model_t *model = sim_hub_model(self->hub);
    sim_account_t *me = sim_model_account(model, phone);
    if (!me) {
        *reason = "no such account";
        return 404;
    }
    char *wire = to ? wa_jid_normalize(to) : NULL;
    sim_account_t *callee =
        wire ? sim_hub_account_of(self->hub, wire, NULL) : NULL;
    free(wire);
    if (!to) {
        *reason = "body must be {to, video?}";
        return 400;
    }
    if (!callee || callee == me) {
        *reason = "no such callee";
        return 404;
    }
    if (zlistx_size(self->calls) >= SIM_CALL_MAX) {
        zlistx_first(self->calls);
        zlistx_delete(self->calls, zlistx_cursor(self->calls));
    }
    s_call_t *call = (s_call_t *)cm_alloc(sizeof(s_call_t));
    call->id = cm_sprintf("SIMCALL%08" PRIX64, ++self->next);
    call->caller = cm_strdup(me->phone);
    call->callee = cm_strdup(callee->phone);
    call->video = video;
    call->state = "offered";
    zlistx_add_end(self->calls, call);
    size_t n = s_to_callee(self, call, "offer", NULL, NULL);
    cm_log_info("phone placed a call",
                "phone=%s to=%s id=%s video=%d "
                "devices=%zu",
                me->phone, callee->phone, call->id, video, n);
    *result_p = s_call_json(call);
    return 200;
}

int
sim_call_act(sim_calls_t *self, const char *phone, const char *id,
             const char *action, json_t **result_p, const char **reason)
{
    assert(self && result_p && reason);
    s_call_t *call = id ? s_find(self, id) : NULL;
    if (!call ||
        (!cm_streq(call->caller, phone) && !cm_streq(call->callee, phone))) {
        *reason = "no such call";
        return 404;
    }
    bool accept = cm_streq(action, "accept");
    if (!accept && !cm_streq(action, "end")) {
        *reason = "action must be accept or end";
        return 400;
    }
    bool over =
        cm_streq(call->state, "rejected") || cm_streq(call->state, "ended");
    if (over || (accept && !cm_streq(call->state, "offered"))) {
        *reason = "the call is over or was answered";
        return 409;
    }
    call->state = accept ? "accepted" : "ended";
    s_to_callee(self, call, accept ? "accept" : "terminate", NULL, NULL);
    *result_p = s_call_json(call);
    return 200;
}

json_t *
sim_call_list(sim_calls_t *self, const char *phone)
{
    assert(self);
    json_t *out = json_array();
    for (s_call_t *c = (s_call_t *)zlistx_first(self->calls); c;
         c = (s_call_t *)zlistx_next(self->calls)) {
        if (cm_streq(c->caller, phone) || cm_streq(c->callee, phone)) {
            json_array_append_new(out, s_call_json(c));
        }
    }
    return out;
}

//  The server's answer to a call stanza, or NULL when it has no id.
static wa_node_t *
s_call_ack(const wa_node_t *call)
{
    const char *id = wa_node_attr(call, "id");
    return id ? sim_hub_ack("call", id, wa_node_attr(call, "to")) : NULL;
}

static void
s_call(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *node)
{
    sim_calls_t *self = (sim_calls_t *)state;
    const wa_node_t *reject = wa_node_child(node, "reject");
    s_call_t *call =
        reject ? s_find(self, wa_node_attr(reject, "call-id")) : NULL;
    sim_device_t *dev = sim_conn_device(conn);
    if (call && cm_streq(call->callee, dev->account->phone) &&
        cm_streq(call->state, "offered")) {
        call->state = "rejected";
        free(call->rejected_by);
        call->rejected_by = sim_device_jid(dev);
        cm_log_info("call rejected", "id=%s by=%s", call->id,
                    call->rejected_by);
        s_to_callee(self, call, "terminate", "rejected", dev);
    }
    wa_node_t *ack = s_call_ack(node);
    if (ack) {
        sim_conn_send_take(conn, &ack);
    }
}

static const sim_stanza_route_t s_stanzas[] = {{"call", s_call}, {NULL, NULL}};

const sim_cap_t sim_call_cap = {
    .name = "call",
    .new_fn = s_new,
    .destroy_fn = s_destroy,
    .stanzas = s_stanzas,
};

void
sim_call_test(bool verbose)
{
    printf(" * sim_call: ");
    wa_node_t *call = wa_node_new("call");
    assert(!s_call_ack(call));
    wa_node_set_attr(call, "id", "C1");
    wa_node_set_attr(call, "to", "15550000041@s.whatsapp.net");
    wa_node_t *ack = s_call_ack(call);
    assert(ack && wa_node_attr_eq(ack, "class", "call"));
    assert(wa_node_attr_eq(ack, "id", "C1"));
    assert(wa_node_attr_eq(ack, "from", "15550000041@s.whatsapp.net"));
    wa_node_destroy(&ack);
    wa_node_destroy(&call);

    //  Placing, the offer's shape, acting on it
    sim_hub_t *hub = sim_hub_new_test();
    sim_calls_t *self = (sim_calls_t *)s_new(hub);
    sim_model_t *model = sim_hub_model(hub);
    sim_model_account_add(model, "15550000081", "Caller");
    sim_account_t *b = sim_model_account_add(model, "15550000082", "B");
    sim_device_t *dev = sim_account_device_add(b);
    dev->linked = true;
    json_t *result = NULL;
    const char *reason = NULL;
    assert(sim_call_place(self, "15550000089", "15550000082", false, &result,
                          &reason) == 404);
    assert(sim_call_place(self, "15550000081", "15550000089", false, &result,
                          &reason) == 404);
    assert(sim_call_place(self, "15550000081", "15550000082@c.us", true,
                          &result, &reason) == 200);
    const char *id = json_string_value(json_object_get(result, "id"));
    s_call_t *c = s_find(self, id);
    assert(c && c->video && cm_streq(c->state, "offered"));
    json_decref(result);
    //  The companion got the offer (queued: it is offline)
    assert(zlistx_size(dev->queue) == 1);
    sim_pending_t *item = (sim_pending_t *)zlistx_first(dev->queue);
    wa_node_t *node = wa_binary_decode_node(item->data, item->len, NULL, NULL);
    assert(node && wa_node_attr_eq(node, "from", "15550000081@s.whatsapp.net"));
    assert(wa_node_attr_eq(node, "notify", "Caller"));
    const wa_node_t *offer = wa_node_child(node, "offer");
    assert(offer && wa_node_attr_eq(offer, "call-id", c->id));
    assert(
        wa_node_attr_eq(offer, "call-creator", "15550000081@s.whatsapp.net"));
    assert(wa_node_child(offer, "video"));
    wa_node_destroy(&node);
    assert(sim_call_act(self, "15550000081", c->id, "ring", &result, &reason) ==
           400);
    assert(sim_call_act(self, "15550000081", c->id, "end", &result, &reason) ==
           200);
    json_decref(result);
    assert(cm_streq(c->state, "ended") && zlistx_size(dev->queue) == 2);
    assert(sim_call_act(self, "15550000081", c->id, "accept", &result,
                        &reason) == 409);
    json_t *list = sim_call_list(self, "15550000082");
    assert(json_array_size(list) == 1);
    json_decref(list);
    s_destroy((void **)&self);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
