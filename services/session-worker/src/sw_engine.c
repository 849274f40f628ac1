/*  sw_engine - the interface between the worker and a WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

static const char *s_status_names[] = {"STOPPED", "STARTING", "SCAN_QR_CODE",
                                       "WORKING", "FAILED"};

const char *
sw_status_name(sw_status_t status)
{
    assert((unsigned)status <= SW_STATUS_FAILED);
    return s_status_names[status];
}

int
sw_status_parse(const char *name, sw_status_t *status)
{
    for (int i = 0; i <= SW_STATUS_FAILED; i++) {
        if (cm_streq(name, s_status_names[i])) {
            *status = (sw_status_t)i;
            return 0;
        }
    }
    return -1;
}

bool
sw_status_can_move(sw_status_t from, sw_status_t to)
{
    //  Row: from, bit: to.
    static const unsigned allowed[] = {
        [SW_STATUS_STOPPED] = 1u << SW_STATUS_STARTING,
        [SW_STATUS_STARTING] = 1u << SW_STATUS_SCAN_QR_CODE |
                               1u << SW_STATUS_WORKING |
                               1u << SW_STATUS_FAILED | 1u << SW_STATUS_STOPPED,
        [SW_STATUS_SCAN_QR_CODE] =
            1u << SW_STATUS_SCAN_QR_CODE | 1u << SW_STATUS_WORKING |
            1u << SW_STATUS_STARTING | 1u << SW_STATUS_FAILED |
            1u << SW_STATUS_STOPPED,
        [SW_STATUS_WORKING] = 1u << SW_STATUS_STARTING |
                              1u << SW_STATUS_FAILED | 1u << SW_STATUS_STOPPED,
        [SW_STATUS_FAILED] = 1u << SW_STATUS_STARTING | 1u << SW_STATUS_STOPPED,
    };
    if ((unsigned)from > SW_STATUS_FAILED || (unsigned)to > SW_STATUS_FAILED) {
        return false;
    }
    return (allowed[from] & (1u << to)) != 0;
}

struct _sw_engine_t {
    const sw_engine_ops_t *ops; //  operations, static
    void *state;                //  engine state, owned via ops->destroy
};

sw_engine_t *
sw_engine_new(const sw_engine_ops_t *ops, void **state_p)
{
    assert(ops && ops->name && ops->start && ops->stop && ops->logout &&
           ops->command && ops->destroy && state_p);
    sw_engine_t *self = cm_alloc(sizeof *self);
    self->ops = ops;
    self->state = *state_p;
    *state_p = NULL;
    return self;
}

void
sw_engine_destroy(sw_engine_t **self_p)
{
    assert(self_p);
    sw_engine_t *self = *self_p;
    if (!self) {
        return;
    }
    self->ops->destroy(&self->state);
    free(self);
    *self_p = NULL;
}

const char *
sw_engine_name(sw_engine_t *self)
{
    return self->ops->name;
}

bool
sw_engine_handles(sw_engine_t *self, const char *type)
{
    if (self->ops->handles) {
        return self->ops->handles(type);
    }
    for (int i = 0; self->ops->commands && self->ops->commands[i]; i++) {
        if (cm_streq(self->ops->commands[i], type)) {
            return true;
        }
    }
    return false;
}

int
sw_engine_start(sw_engine_t *self, sw_session_t *session)
{
    return self->ops->start(self->state, session);
}

void
sw_engine_stop(sw_engine_t *self, sw_session_t *session)
{
    self->ops->stop(self->state, session);
}

void
sw_engine_logout(sw_engine_t *self, sw_session_t *session)
{
    self->ops->logout(self->state, session);
}

int
sw_engine_command(sw_engine_t *self, sw_session_t *session, sw_cmd_t **cmd_p)
{
    return self->ops->command(self->state, session, cmd_p);
}

//  --------------------------------------------------------------------
//  Commands

struct _sw_cmd_t {
    cm_msg_t *request; //  the gateway request
    zsock_t *reply_to; //  gateway socket it came from, borrowed
};

sw_cmd_t *
sw_cmd_new(cm_msg_t **request_p, zsock_t *reply_to)
{
    assert(request_p && *request_p);
    sw_cmd_t *self = cm_alloc(sizeof *self);
    self->request = *request_p;
    *request_p = NULL;
    self->reply_to = reply_to;
    return self;
}

void
sw_cmd_destroy(sw_cmd_t **self_p)
{
    assert(self_p);
    if (*self_p) {
        sw_cmd_reply(self_p, 500, "command dropped", NULL);
    }
}

cm_msg_t *
sw_cmd_request(sw_cmd_t *self)
{
    return self->request;
}

const char *
sw_cmd_type(sw_cmd_t *self)
{
    return cm_msg_type(self->request);
}

int
sw_cmd_reply(sw_cmd_t **self_p, int st, const char *reason, json_t **body_p)
{
    assert(self_p && *self_p);
    sw_cmd_t *self = *self_p;
    cm_msg_t *reply = cm_msg_new_reply(self->request, st, reason);
    if (body_p && *body_p) {
        cm_msg_set_body(reply, body_p);
    }
    int rc = 0;
    if (self->reply_to) {
        rc = cm_msg_send(&reply, self->reply_to);
        if (rc != 0) {
            cm_log_warn("could not send reply", "type=%s st=%d",
                        cm_msg_type(self->request), st);
        }
    }
    cm_msg_destroy(&reply);
    cm_msg_destroy(&self->request);
    free(self);
    *self_p = NULL;
    return rc;
}

//  --------------------------------------------------------------------
//  Self test

typedef struct {
    int starts;    //  start calls
    int stops;     //  stop calls
    int destroyed; //  destroy calls (via a counter outside the state)
} s_fake_t;

static int
s_fake_start(void *state, sw_session_t *session)
{
    ((s_fake_t *)state)->starts++;
    return 0;
}

static void
s_fake_stop(void *state, sw_session_t *session)
{
    ((s_fake_t *)state)->stops++;
}

static void
s_fake_logout(void *state, sw_session_t *session)
{
}

static int
s_fake_command(void *state, sw_session_t *session, sw_cmd_t **cmd_p)
{
    if (!cm_streq(sw_cmd_type(*cmd_p), "session.qr")) {
        return SW_CMD_DECLINED;
    }
    json_t *body = json_pack("{s:s}", "value", "qr-text");
    sw_cmd_reply(cmd_p, 200, NULL, &body);
    return SW_CMD_TAKEN;
}

static void
s_fake_destroy(void **state_p)
{
    s_fake_t *fake = (s_fake_t *)*state_p;
    fake->destroyed++;
    *state_p = NULL;
}

static const char *const s_fake_commands[] = {"session.qr", NULL};
static const sw_engine_ops_t s_fake_ops = {
    "fake",        s_fake_commands, s_fake_start,   s_fake_stop,
    s_fake_logout, s_fake_command,  s_fake_destroy, NULL};

void
sw_engine_test(bool verbose)
{
    printf(" * sw_engine: ");
    //  Status names and the transition table
    sw_status_t st;
    for (int i = 0; i <= SW_STATUS_FAILED; i++) {
        assert(sw_status_parse(sw_status_name((sw_status_t)i), &st) == 0);
        assert((int)st == i);
    }
    assert(sw_status_parse("RUNNING", &st) == -1);
    assert(sw_status_parse(NULL, &st) == -1);
    assert(sw_status_can_move(SW_STATUS_STOPPED, SW_STATUS_STARTING));
    assert(!sw_status_can_move(SW_STATUS_STOPPED, SW_STATUS_WORKING));
    assert(!sw_status_can_move(SW_STATUS_STOPPED, SW_STATUS_FAILED));
    assert(sw_status_can_move(SW_STATUS_STARTING, SW_STATUS_FAILED));
    assert(sw_status_can_move(SW_STATUS_STARTING, SW_STATUS_SCAN_QR_CODE));
    assert(!sw_status_can_move(SW_STATUS_STARTING, SW_STATUS_STARTING));
    assert(sw_status_can_move(SW_STATUS_SCAN_QR_CODE, SW_STATUS_SCAN_QR_CODE));
    assert(sw_status_can_move(SW_STATUS_SCAN_QR_CODE, SW_STATUS_WORKING));
    assert(sw_status_can_move(SW_STATUS_WORKING, SW_STATUS_STARTING));
    assert(!sw_status_can_move(SW_STATUS_WORKING, SW_STATUS_SCAN_QR_CODE));
    assert(!sw_status_can_move(SW_STATUS_WORKING, SW_STATUS_WORKING));
    assert(sw_status_can_move(SW_STATUS_FAILED, SW_STATUS_STARTING));
    assert(!sw_status_can_move(SW_STATUS_FAILED, SW_STATUS_WORKING));
    assert(!sw_status_can_move(SW_STATUS_FAILED, SW_STATUS_FAILED));
    for (int i = 0; i <= SW_STATUS_FAILED; i++) {
        assert(sw_status_can_move((sw_status_t)i, SW_STATUS_STOPPED) ==
               (i != SW_STATUS_STOPPED));
    }
    assert(!sw_status_can_move((sw_status_t)9, SW_STATUS_STOPPED));

    //  Engine dispatch
    s_fake_t fake = {0};
    void *state = &fake;
    sw_engine_t *engine = sw_engine_new(&s_fake_ops, &state);
    assert(!state);
    assert(cm_streq(sw_engine_name(engine), "fake"));
    assert(sw_engine_handles(engine, "session.qr"));
    assert(!sw_engine_handles(engine, "session.stop"));
    assert(sw_engine_start(engine, NULL) == 0 && fake.starts == 1);
    sw_engine_stop(engine, NULL);
    assert(fake.stops == 1);

    //  Commands: replies carry corr and the body; a dropped one gets 500
    zsock_t *gw = zsock_new_pair("@inproc://sw_engine_test");
    zsock_t *wk = zsock_new_pair(">inproc://sw_engine_test");
    cm_msg_t *req = cm_msg_new("session.qr");
    char id[CM_MSG_MAX_ID + 1];
    snprintf(id, sizeof id, "%s", cm_msg_id(req));
    sw_cmd_t *cmd = sw_cmd_new(&req, wk);
    assert(!req && cm_streq(sw_cmd_type(cmd), "session.qr"));
    assert(sw_cmd_request(cmd));
    assert(sw_engine_command(engine, NULL, &cmd) == SW_CMD_TAKEN && !cmd);
    cm_msg_t *reply = cm_msg_recv(gw, false);
    assert(reply && cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_corr(reply), id));
    assert(cm_streq(cm_msg_str(reply, "value"), "qr-text"));
    cm_msg_destroy(&reply);

    req = cm_msg_new("session.other");
    cmd = sw_cmd_new(&req, wk);
    assert(sw_engine_command(engine, NULL, &cmd) == SW_CMD_DECLINED && cmd);
    sw_cmd_destroy(&cmd);
    sw_cmd_destroy(&cmd);
    reply = cm_msg_recv(gw, false);
    assert(reply && cm_msg_status(reply) == 500);
    cm_msg_destroy(&reply);

    sw_engine_destroy(&engine);
    sw_engine_destroy(&engine);
    assert(fake.destroyed == 1);
    zsock_destroy(&wk);
    zsock_destroy(&gw);
    printf("OK\n");
}
