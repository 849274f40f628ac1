/*  sw_wasess - one session of the WhatsApp engine as its capability
    modules see it: the command table and its dispatcher, commands held
    until WhatsApp answers, and per-capability state

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

//  A command waiting for WhatsApp.
typedef struct {
    sw_wasess_t *sess; //  owner
    char *key;         //  its key in `held`
    sw_cmd_t *cmd;     //  the command, or NULL once released
    json_t *data;      //  the handler's data, or NULL
    char *late;        //  the 504 reason, or NULL
    uint64_t timer;    //  deadline, 0 when none
} s_held_t;

//  A capability's per-session state.
typedef struct {
    void *state;           //  the state
    sw_wasess_free_fn *fn; //  its destructor
} s_state_t;

struct _sw_wasess_t {
    sw_session_t *session;   //  the session, borrowed
    const sw_wacmd_t *table; //  command table, borrowed
    int send_timeout_ms;     //  resolves SW_WACMD_SEND
    wa_client_t *client;     //  the client, borrowed, or NULL
    bool idle;               //  stopped for good until a restart
    char *me_id;             //  "<phone>@c.us" or NULL
    char *me_lid;            //  "<lid>@lid" or NULL
    char *push_name;         //  our push name or NULL
    zhashx_t *held;          //  key -> s_held_t
    zhashx_t *states;        //  capability -> s_state_t
    uint64_t next_key;       //  counter for fresh keys
};

static void
s_held_free(void **item_p)
{
    s_held_t *h = (s_held_t *)*item_p;
    if (!h) {
        return;
    }
    if (h->timer) {
        sw_loop_timer_cancel(sw_wasess_loop(h->sess), h->timer);
    }
    if (h->cmd) {
        sw_cmd_reply(&h->cmd, 503, "session stopped", NULL);
    }
    json_decref(h->data);
    free(h->late);
    free(h->key);
    free(h);
    *item_p = NULL;
}

static void
s_state_free(void **item_p)
{
    s_state_t *s = (s_state_t *)*item_p;
    if (s) {
        s->fn(&s->state);
        free(s);
        *item_p = NULL;
    }
}

sw_wasess_t *
sw_wasess_new(sw_session_t *session, const sw_wacmd_t *table,
              int send_timeout_ms)
{
    assert(session && table);
    sw_wasess_t *self = cm_alloc(sizeof *self);
    self->session = session;
    self->table = table;
    self->send_timeout_ms = send_timeout_ms;
    self->held = zhashx_new();
    zhashx_set_destructor(self->held, s_held_free);
    self->states = zhashx_new();
    zhashx_set_destructor(self->states, s_state_free);
    return self;
}

void
sw_wasess_destroy(sw_wasess_t **self_p)
{
    assert(self_p);
    sw_wasess_t *self = *self_p;
    if (!self) {
        return;
    }
    zhashx_destroy(&self->held);
    zhashx_destroy(&self->states);
    free(self->me_id);
    free(self->me_lid);
    free(self->push_name);
    free(self);
    *self_p = NULL;
}

const sw_wacmd_t *
sw_wacmd_find(const sw_wacmd_t *table, const char *type)
{
    for (const sw_wacmd_t *row = table; type && row->type; row++) {
        if (cm_streq(row->type, type)) {
            return row;
        }
    }
    return NULL;
}

int
sw_wasess_command(sw_wasess_t *self, sw_cmd_t **cmd_p)
{
    const sw_wacmd_t *row = sw_wacmd_find(self->table, sw_cmd_type(*cmd_p));
    if (!row) {
        return SW_CMD_DECLINED;
    }
    if (row->working && !sw_wasess_working(self)) {
        //  The gateway turns this 409 into WAHA's 422
        char *reason = cm_sprintf(
            "Session status is not as expected. Try again later or "
            "restart the session. Session status: %s, expected: WORKING",
            sw_status_name(sw_session_status(self->session)));
        sw_cmd_reply(cmd_p, 409, reason, NULL);
        free(reason);
        return SW_CMD_TAKEN;
    }
    row->handler(self, cmd_p);
    assert(*cmd_p == NULL); //  answered or held
    return SW_CMD_TAKEN;
}

sw_session_t *
sw_wasess_session(sw_wasess_t *self)
{
    return self->session;
}

const char *
sw_wasess_name(sw_wasess_t *self)
{
    return sw_session_name(self->session);
}

sw_loop_t *
sw_wasess_loop(sw_wasess_t *self)
{
    return sw_session_loop(self->session);
}

wa_client_t *
sw_wasess_client(sw_wasess_t *self)
{
    return self->client;
}

void
sw_wasess_set_client(sw_wasess_t *self, wa_client_t *client)
{
    self->client = client;
}

bool
sw_wasess_idle(sw_wasess_t *self)
{
    return self->idle;
}

void
sw_wasess_set_idle(sw_wasess_t *self, bool idle)
{
    self->idle = idle;
}

bool
sw_wasess_working(sw_wasess_t *self)
{
    return sw_session_status(self->session) == SW_STATUS_WORKING &&
           self->client && wa_client_ready(self->client);
}

const char *
sw_wasess_me_id(sw_wasess_t *self)
{
    return self->me_id;
}

const char *
sw_wasess_me_lid(sw_wasess_t *self)
{
    return self->me_lid;
}

const char *
sw_wasess_push_name(sw_wasess_t *self)
{
    return self->push_name;
}

static void
s_set_str(char **field, const char *value)
{
    free(*field);
    *field = value ? cm_strdup(value) : NULL;
}

void
sw_wasess_set_me(sw_wasess_t *self, const char *id, const char *lid,
                 const char *push_name)
{
    s_set_str(&self->me_id, id);
    s_set_str(&self->me_lid, lid);
    s_set_str(&self->push_name, push_name);
}

void
sw_wasess_set_push_name(sw_wasess_t *self, const char *push_name)
{
    s_set_str(&self->push_name, push_name);
}

json_t *
sw_wasess_me(sw_wasess_t *self)
{
    if (!self->me_id) {
        return NULL;
    }
    json_t *me = json_pack("{s:s}", "id", self->me_id);
    if (self->me_lid) {
        json_object_set_new(me, "lid", json_string(self->me_lid));
    }
    //  WAHA's MeInfo requires pushName; before WhatsApp has told us ours
    //  it is "" (as GOWS reports an unknown one)
    json_object_set_new(me, "pushName",
                        json_string(self->push_name ? self->push_name : ""));
    return me;
}

//  --------------------------------------------------------------------
//  Held commands

static void
s_deadline(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_held_t *h = (s_held_t *)arg;
    h->timer = 0;
    cm_log_warn("command not answered in time", "session=\"%s\" type=%s",
                sw_wasess_name(h->sess), sw_cmd_type(h->cmd));
    sw_cmd_reply(&h->cmd, 504,
                 h->late ? h->late : "WhatsApp did not answer in time", NULL);
    zhashx_delete(h->sess->held, h->key);
}

//  The deadline of a held command of this type, ms (0: none).
static int
s_timeout(sw_wasess_t *self, const char *type)
{
    const sw_wacmd_t *row = sw_wacmd_find(self->table, type);
    int ms = row ? row->timeout_ms : SW_WACMD_NOW;
    if (ms == SW_WACMD_SEND) {
        ms = self->send_timeout_ms + SW_WACMD_GRACE_MS;
    }
    return ms > 0 ? ms : 0;
}

const char *
sw_wasess_hold(sw_wasess_t *self, sw_cmd_t **cmd_p, const char *key,
               const char *late, json_t **data_p)
{
    assert(cmd_p && *cmd_p);
    char fresh[SW_WASESS_KEY_MAX];
    if (!key) {
        snprintf(fresh, sizeof fresh, "#%" PRIu64, ++self->next_key);
        key = fresh;
    }
    sw_cmd_t *old = sw_wasess_release(self, key, NULL);
    if (old) {
        sw_cmd_reply(&old, 409, "superseded by a newer request", NULL);
    }
    s_held_t *h = cm_alloc(sizeof *h);
    h->sess = self;
    h->key = cm_strdup(key);
    h->cmd = *cmd_p;
    *cmd_p = NULL;
    if (data_p) {
        h->data = *data_p;
        *data_p = NULL;
    }
    h->late = late ? cm_strdup(late) : NULL;
    int ms = s_timeout(self, sw_cmd_type(h->cmd));
    if (ms > 0) {
        h->timer =
            sw_loop_timer_add(sw_wasess_loop(self), ms, false, s_deadline, h);
    }
    zhashx_insert(self->held, h->key, h);
    return h->key;
}

json_t *
sw_wasess_held(sw_wasess_t *self, const char *key)
{
    s_held_t *h = (s_held_t *)zhashx_lookup(self->held, key);
    return h ? h->data : NULL;
}

bool
sw_wasess_holds(sw_wasess_t *self, const char *key)
{
    return zhashx_lookup(self->held, key) != NULL;
}

sw_cmd_t *
sw_wasess_release(sw_wasess_t *self, const char *key, json_t **data_p)
{
    if (data_p) {
        *data_p = NULL;
    }
    s_held_t *h = key ? (s_held_t *)zhashx_lookup(self->held, key) : NULL;
    if (!h) {
        return NULL;
    }
    sw_cmd_t *cmd = h->cmd;
    h->cmd = NULL;
    if (data_p) {
        *data_p = h->data;
        h->data = NULL;
    }
    zhashx_delete(self->held, key);
    return cmd;
}

//  --------------------------------------------------------------------
//  Capability states

void *
sw_wasess_state(sw_wasess_t *self, const char *capability)
{
    s_state_t *s = (s_state_t *)zhashx_lookup(self->states, capability);
    return s ? s->state : NULL;
}

void
sw_wasess_set_state(sw_wasess_t *self, const char *capability, void *state,
                    sw_wasess_free_fn *fn)
{
    assert(state && fn);
    s_state_t *s = cm_alloc(sizeof *s);
    s->state = state;
    s->fn = fn;
    zhashx_delete(self->states, capability);
    zhashx_insert(self->states, capability, s);
}

//  --------------------------------------------------------------------
//  Test rig

struct _sw_wasess_rig_t {
    sw_config_t *config;   //  worker configuration
    sw_loop_t *loop;       //  the loop
    zsock_t *store_sock;   //  a store that never answers
    cm_client_t *store;    //  the host's store client
    sw_host_t *host;       //  the host
    sw_session_t *session; //  session "t"
    sw_wasess_t *sess;     //  its engine state
    zsock_t *gw;           //  gateway end of the command pair
    zsock_t *wk;           //  worker end
};

sw_wasess_rig_t *
sw_wasess_rig_new(const sw_wacmd_t *table, int send_timeout_ms)
{
    sw_wasess_rig_t *self = cm_alloc(sizeof *self);
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://sw_wasess_rig_%p", (void *)self);
    setenv("WORKER_ID", "w-rig", 1);
    self->config = sw_config_new();
    unsetenv("WORKER_ID");
    self->loop = sw_loop_new();
    self->store_sock = zsock_new_router(ep);
    self->store = cm_client_new(ep);
    self->host = sw_host_new(self->store, self->loop, self->config, NULL);
    self->session = sw_session_new(self->host, "t", 1, NULL);
    sw_session_set_status(self->session, SW_STATUS_STARTING, NULL);
    self->sess = sw_wasess_new(self->session, table, send_timeout_ms);
    char gw[70];
    snprintf(gw, sizeof gw, "@%s_gw", ep);
    self->gw = zsock_new_pair(gw);
    gw[0] = '>';
    self->wk = zsock_new_pair(gw);
    return self;
}

void
sw_wasess_rig_destroy(sw_wasess_rig_t **self_p)
{
    assert(self_p);
    sw_wasess_rig_t *self = *self_p;
    if (!self) {
        return;
    }
    sw_wasess_destroy(&self->sess);
    sw_session_finish(&self->session, 0, NULL, NULL);
    sw_host_destroy(&self->host);
    cm_client_destroy(&self->store);
    zsock_destroy(&self->store_sock);
    zsock_destroy(&self->wk);
    zsock_destroy(&self->gw);
    sw_loop_destroy(&self->loop);
    sw_config_destroy(&self->config);
    free(self);
    *self_p = NULL;
}

sw_wasess_t *
sw_wasess_rig_sess(sw_wasess_rig_t *self)
{
    return self->sess;
}

void
sw_wasess_rig_stop(sw_wasess_rig_t *self)
{
    sw_wasess_destroy(&self->sess);
}

sw_cmd_t *
sw_wasess_rig_cmd(sw_wasess_rig_t *self, const char *type, json_t *body)
{
    cm_msg_t *req = cm_msg_new(type);
    if (!body) {
        body = json_object();
    }
    json_object_set_new(body, "name", json_string("t"));
    cm_msg_set_body(req, &body);
    return sw_cmd_new(&req, self->wk);
}

cm_msg_t *
sw_wasess_rig_call(sw_wasess_rig_t *self, const char *type, json_t *body,
                   int ms)
{
    sw_cmd_t *cmd = sw_wasess_rig_cmd(self, type, body);
    if (sw_wasess_command(self->sess, &cmd) != SW_CMD_TAKEN) {
        sw_cmd_reply(&cmd, 400, "unrecognized message type", NULL);
    }
    return sw_wasess_rig_recv(self, ms);
}

cm_msg_t *
sw_wasess_rig_recv(sw_wasess_rig_t *self, int ms)
{
    int64_t until = cm_mono_ms() + ms;
    do {
        if (zsock_events(self->gw) & ZMQ_POLLIN) {
            return cm_msg_recv(self->gw, false);
        }
        sw_loop_once(self->loop, 2);
    } while (cm_mono_ms() < until);
    return NULL;
}

//  --------------------------------------------------------------------
//  Self test

static void
t_now(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    json_t *body = json_pack("{s:s}", "who", sw_wasess_name(sess));
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

//  Holds under the request's "key" (NULL: a fresh one) with data.
static void
t_hold(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *key = cm_msg_str(sw_cmd_request(*cmd_p), "key");
    json_t *data = json_pack("{s:i}", "n", 7);
    sw_wasess_hold(sess, cmd_p, key, "too slow", &data);
    assert(!data);
}

static const sw_wacmd_t t_table[] = {
    SW_WACMD("t.now", SW_WACMD_ANY, SW_WACMD_NOW, t_now),
    SW_WACMD("t.work", SW_WACMD_WORKING, SW_WACMD_NOW, t_now),
    SW_WACMD("t.hold", SW_WACMD_ANY, 100, t_hold),
    SW_WACMD("t.send", SW_WACMD_ANY, SW_WACMD_SEND, t_hold),
    SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

static void
t_state_free(void **state_p)
{
    free(*state_p);
    *state_p = NULL;
}

void
sw_wasess_test(bool verbose)
{
    printf(" * sw_wasess: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    assert(sw_wacmd_find(t_table, "t.hold") == &t_table[2]);
    assert(!sw_wacmd_find(t_table, "t.none") && !sw_wacmd_find(t_table, NULL));
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 50);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    assert(cm_streq(sw_wasess_name(sess), "t") && !sw_wasess_client(sess));
    assert(sw_session_name(sw_wasess_session(sess)) == sw_wasess_name(sess));

    //  Answered at once; a row for WORKING answers 409 before its handler
    cm_msg_t *reply = sw_wasess_rig_call(rig, "t.now", NULL, 1000);
    assert(reply && cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "who"), "t"));
    cm_msg_destroy(&reply);
    assert(!sw_wasess_working(sess));
    reply = sw_wasess_rig_call(rig, "t.work", NULL, 1000);
    assert(reply && cm_msg_status(reply) == 409);
    assert(strstr(cm_msg_reason(reply),
                  "Session status: STARTING, expected: WORKING"));
    cm_msg_destroy(&reply);
    //  Not in the table: declined, the caller answers
    reply = sw_wasess_rig_call(rig, "t.none", NULL, 1000);
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);

    //  Held, then released and answered by whoever has the answer
    assert(!sw_wasess_rig_call(rig, "t.hold", json_pack("{s:s}", "key", "k1"),
                               20));
    assert(sw_wasess_holds(sess, "k1"));
    assert(json_integer_value(
               json_object_get(sw_wasess_held(sess, "k1"), "n")) == 7);
    json_t *data = NULL;
    sw_cmd_t *cmd = sw_wasess_release(sess, "k1", &data);
    assert(cmd && data && !sw_wasess_holds(sess, "k1"));
    json_decref(data);
    sw_cmd_reply(&cmd, 201, NULL, NULL);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 201);
    cm_msg_destroy(&reply);
    assert(!sw_wasess_release(sess, "k1", &data) && !data);
    assert(!sw_wasess_held(sess, "k1"));

    //  The same key again: the older one is superseded
    assert(!sw_wasess_rig_call(rig, "t.hold", json_pack("{s:s}", "key", "k2"),
                               10));
    reply = sw_wasess_rig_call(rig, "t.hold", json_pack("{s:s}", "key", "k2"),
                               1000);
    assert(reply && cm_msg_status(reply) == 409);
    assert(cm_streq(cm_msg_reason(reply), "superseded by a newer request"));
    cm_msg_destroy(&reply);
    //  Its deadline: 504 with the handler's reason, then gone
    int64_t t0 = cm_mono_ms();
    reply = sw_wasess_rig_recv(rig, 2000);
    assert(reply && cm_msg_status(reply) == 504);
    assert(cm_streq(cm_msg_reason(reply), "too slow"));
    assert(cm_mono_ms() - t0 >= 80);
    cm_msg_destroy(&reply);
    assert(!sw_wasess_holds(sess, "k2"));
    //  SW_WACMD_SEND: the send timeout plus the grace
    t0 = cm_mono_ms();
    assert(!sw_wasess_rig_call(rig, "t.send", NULL, 10));
    reply = sw_wasess_rig_recv(rig, 5000);
    assert(reply && cm_msg_status(reply) == 504);
    assert(cm_mono_ms() - t0 >= 50 + SW_WACMD_GRACE_MS - 20);
    cm_msg_destroy(&reply);
    //  Fresh keys differ
    cm_msg_t *req = cm_msg_new("t.now");
    cmd = sw_cmd_new(&req, NULL);
    char first[SW_WASESS_KEY_MAX];
    snprintf(first, sizeof first, "%s",
             sw_wasess_hold(sess, &cmd, NULL, NULL, NULL));
    req = cm_msg_new("t.now");
    cmd = sw_cmd_new(&req, NULL);
    const char *second = sw_wasess_hold(sess, &cmd, NULL, NULL, NULL);
    assert(!cm_streq(first, second) && sw_wasess_holds(sess, first));
    cmd = sw_wasess_release(sess, first, NULL);
    sw_cmd_destroy(&cmd);
    assert(!sw_wasess_rig_call(rig, "t.hold", json_pack("{s:s}", "key", "k3"),
                               10));

    //  Our account
    assert(!sw_wasess_me(sess));
    sw_wasess_set_me(sess, "1555@c.us", "9@lid", NULL);
    sw_wasess_set_push_name(sess, "Al");
    json_t *me = sw_wasess_me(sess);
    char *text = json_dumps(me, JSON_COMPACT | JSON_SORT_KEYS);
    assert(cm_streq(text,
                    "{\"id\":\"1555@c.us\",\"lid\":\"9@lid\",\"pushName\":"
                    "\"Al\"}"));
    free(text);
    json_decref(me);
    assert(cm_streq(sw_wasess_me_lid(sess), "9@lid"));
    assert(cm_streq(sw_wasess_push_name(sess), "Al"));
    assert(!sw_wasess_idle(sess));
    sw_wasess_set_idle(sess, true);
    assert(sw_wasess_idle(sess));

    //  Capability states, replaced and freed
    assert(!sw_wasess_state(sess, "x"));
    sw_wasess_set_state(sess, "x", cm_strdup("one"), t_state_free);
    sw_wasess_set_state(sess, "x", cm_strdup("two"), t_state_free);
    assert(cm_streq((char *)sw_wasess_state(sess, "x"), "two"));

    //  The stop answers the command still held
    sw_wasess_rig_stop(rig);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 503);
    assert(cm_streq(cm_msg_reason(reply), "session stopped"));
    cm_msg_destroy(&reply);
    sw_wasess_rig_destroy(&rig);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
