/*  sw_wacall - the calls capability of the WhatsApp engine: call events
    and rejecting calls

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_call.h"
#include "wa/wa_jid.h"

//  A call the session heard of.
typedef struct {
    char *id;     //  call-id
    char *from;   //  caller user JID (wire)
    char *group;  //  group JID or NULL
    bool video;   //  video call
    bool group_c; //  group call
    bool over;    //  rejected, accepted or ended: no more events but one
} s_call_t;

typedef struct {
    zlistx_t *calls; //  s_call_t *, oldest first
} s_state_t;

static void
s_call_free(void **item)
{
    s_call_t *c = (s_call_t *)*item;
    if (c) {
        free(c->id);
        free(c->from);
        free(c->group);
        free(c);
        *item = NULL;
    }
}

static void
s_state_free(void **state_p)
{
    s_state_t *self = (s_state_t *)*state_p;
    if (self) {
        zlistx_destroy(&self->calls);
        free(self);
        *state_p = NULL;
    }
}

static s_state_t *
s_state(sw_wasess_t *sess)
{
    s_state_t *self = (s_state_t *)sw_wasess_state(sess, "calls");
    if (!self) {
        self = (s_state_t *)cm_alloc(sizeof(s_state_t));
        self->calls = zlistx_new();
        zlistx_set_destructor(self->calls, s_call_free);
        sw_wasess_set_state(sess, "calls", self, s_state_free);
    }
    return self;
}

static s_call_t *
s_find(s_state_t *self, const char *id)
{
    for (s_call_t *c = (s_call_t *)zlistx_first(self->calls); c;
         c = (s_call_t *)zlistx_next(self->calls)) {
        if (cm_streq(c->id, id)) {
            return c;
        }
    }
    return NULL;
}

//  Remember a call (or give the one known).
static s_call_t *
s_remember(s_state_t *self, const wa_client_call_t *call)
{
    s_call_t *c = s_find(self, call->call_id);
    if (c) {
        return c;
    }
    if (zlistx_size(self->calls) >= SW_WACALL_KEEP) {
        zlistx_first(self->calls);
        zlistx_delete(self->calls, zlistx_cursor(self->calls));
    }
    c = (s_call_t *)cm_alloc(sizeof(s_call_t));
    c->id = cm_strdup(call->call_id);
    c->from = cm_strdup(call->from);
    c->group = call->group ? cm_strdup(call->group) : NULL;
    c->video = call->is_video;
    c->group_c = call->is_group;
    zlistx_add_end(self->calls, c);
    return c;
}

//  WAHA's CallData for a call and what happened to it.
static json_t *
s_payload(const s_call_t *c, int64_t timestamp, const char *status,
          bool offline, const char *reason)
{
    char *from = wa_jid_to_api(c->from);
    json_t *data = json_pack("{s:s, s:s, s:b, s:s}", "callId", c->id, "from",
                             c->from, "offline", offline, "status", status);
    if (c->group) {
        json_object_set_new(data, "groupJid", json_string(c->group));
    }
    if (reason) {
        json_object_set_new(data, "reason", json_string(reason));
    }
    json_t *out =
        json_pack("{s:s, s:s, s:I, s:b, s:b, s:o}", "id", c->id, "from",
                  from ? from : c->from, "timestamp", (json_int_t)timestamp,
                  "isVideo", c->video, "isGroup", c->group_c, "_data", data);
    free(from);
    return out;
}

static void
s_emit(sw_wasess_t *sess, const char *event, json_t **payload_p)
{
    sw_session_emit(sw_wasess_session(sess), event, payload_p);
}

//  Reject a known call: the stanza, then call.rejected. Returns 0 or -1.
static int
s_reject(sw_wasess_t *sess, s_call_t *c, const char *why)
{
    if (wa_call_reject(sw_wasess_client(sess), c->id, c->from) != 0) {
        return -1;
    }
    if (!c->over) {
        c->over = true;
        json_t *payload =
            s_payload(c, cm_now_ms() / 1000, "reject", false, why);
        s_emit(sess, "call.rejected", &payload);
    }
    return 0;
}

void
sw_wacall_on_call(sw_wasess_t *sess, const wa_client_call_t *call)
{
    s_state_t *self = s_state(sess);
    bool known = s_find(self, call->call_id) != NULL;
    s_call_t *c = s_remember(self, call);
    const char *event = NULL;
    const char *status = "offer";
    switch (call->kind) {
    case WA_CLIENT_CALL_OFFER:
        event = known ? NULL : "call.received";
        break;
    case WA_CLIENT_CALL_ACCEPT:
        event = c->over ? NULL : "call.accepted";
        status = "accept";
        break;
    case WA_CLIENT_CALL_REJECT:
        event = c->over ? NULL : "call.rejected";
        status = "reject";
        break;
    case WA_CLIENT_CALL_TERMINATE:
        //  Ended before anyone answered: WAHA reports it rejected
        event = c->over ? NULL : "call.rejected";
        status = "terminate";
        break;
    }
    if (call->kind != WA_CLIENT_CALL_OFFER) {
        c->over = true;
    }
    if (event) {
        json_t *payload =
            s_payload(c, call->timestamp, status, call->offline, call->reason);
        s_emit(sess, event, &payload);
    }
    if (call->kind != WA_CLIENT_CALL_OFFER || known || call->offline) {
        return;
    }
    //  Automatic rejection (session config `calls`)
    json_t *cfg =
        json_object_get(sw_session_config(sw_wasess_session(sess)), "calls");
    if (!json_is_true(json_object_get(cfg, "reject"))) {
        return;
    }
    if (s_reject(sess, c, "auto") != 0) {
        return;
    }
    const char *text = json_string_value(json_object_get(cfg, "message"));
    char id[WA_CLIENT_ID_MAX];
    if (text && *text &&
        wa_client_send_text(sw_wasess_client(sess), c->from, text, NULL, NULL,
                            id) != 0) {
        cm_log_warn("could not send the call reply", "session=\"%s\"",
                    sw_wasess_name(sess));
    }
    cm_log_info("call rejected automatically",
                "session=\"%s\" call=%s reply=%s", sw_wasess_name(sess), c->id,
                text && *text ? "yes" : "no");
}

void
sw_wacall_reject(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *id = cm_msg_str(req, "id");
    if (!id || !*id || strlen(id) > WA_CALL_ID_MAX) {
        sw_cmd_reply(cmd_p, 400, "id must be the call's id", NULL);
        return;
    }
    char *from = sw_wacontacts_person(cmd_p, "from");
    if (!from) {
        return;
    }
    s_state_t *self = s_state(sess);
    s_call_t *c = s_find(self, id);
    if (!c) {
        //  Not heard of (e.g. before a restart): rejected all the same
        wa_client_call_t call = {
            .kind = WA_CLIENT_CALL_OFFER, .call_id = id, .from = from};
        c = s_remember(self, &call);
    } else if (!cm_streq(c->from, from)) {
        free(from);
        sw_cmd_reply(cmd_p, 400, "from is not the caller of that call", NULL);
        return;
    }
    free(from);
    if (s_reject(sess, c, "api") != 0) {
        sw_cmd_reply(cmd_p, 409,
                     "Session status is not as expected: not connected to "
                     "WhatsApp",
                     NULL);
        return;
    }
    json_t *body = json_pack("{s:b}", "success", 1);
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

//  --------------------------------------------------------------------
//  Self test

void
sw_wacall_test(bool verbose)
{
    printf(" * sw_wacall: ");
    //  The payload in WAHA's shape
    wa_client_call_t call = {.kind = WA_CLIENT_CALL_OFFER,
                             .call_id = "C1",
                             .from = "15550000002@s.whatsapp.net",
                             .is_video = true,
                             .timestamp = 1700000000};
    s_call_t c = {
        .id = "C1", .from = "15550000002@s.whatsapp.net", .video = true};
    json_t *p = s_payload(&c, call.timestamp, "offer", false, NULL);
    assert(cm_streq(json_string_value(json_object_get(p, "id")), "C1"));
    assert(cm_streq(json_string_value(json_object_get(p, "from")),
                    "15550000002@c.us"));
    assert(json_integer_value(json_object_get(p, "timestamp")) == 1700000000);
    assert(json_is_true(json_object_get(p, "isVideo")));
    assert(json_is_false(json_object_get(p, "isGroup")));
    json_t *data = json_object_get(p, "_data");
    assert(
        cm_streq(json_string_value(json_object_get(data, "status")), "offer"));
    json_decref(p);

    static const sw_wacmd_t table[] = {
        SW_WACALL_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(table, 1000);
    cm_msg_t *reply = sw_wasess_rig_call(
        rig, "call.reject",
        json_pack("{s:s, s:s}", "id", "C1", "from", "15550000002@c.us"), 1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);
    //  Bad input, past the WORKING check
    sw_cmd_t *cmd =
        sw_wasess_rig_cmd(rig, "call.test", json_pack("{s:s}", "from", "x"));
    sw_wacall_reject(sw_wasess_rig_sess(rig), &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "id must be"));
    cm_msg_destroy(&reply);
    cmd = sw_wasess_rig_cmd(
        rig, "call.test",
        json_pack("{s:s, s:s}", "id", "C1", "from", "nobody"));
    sw_wacall_reject(sw_wasess_rig_sess(rig), &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "from must be"));
    cm_msg_destroy(&reply);
    //  Calls are remembered once
    s_state_t *self = s_state(sw_wasess_rig_sess(rig));
    s_call_t *a = s_remember(self, &call);
    assert(s_remember(self, &call) == a && zlistx_size(self->calls) == 1);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
