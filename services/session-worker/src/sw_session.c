/*  sw_session - one session held by the worker: its lease, its status
    and the ordered stream of writes it sends to the store

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

//  What a store call was made for.
typedef enum {
    S_CALL_WRITE,  //  the head of a session's write queue
    S_CALL_ENGINE, //  sw_session_store_send
    S_CALL_WORKER, //  sw_host_call
    S_CALL_MEDIA   //  sw_session_media_send
} s_call_kind_t;

//  A store request in flight; freed when answered or with the host.
typedef struct _s_call_t {
    struct _s_call_t *prev;         //  host list
    struct _s_call_t *next;         //  host list
    sw_host_t *host;                //  the host
    sw_session_t *session;          //  holds a reference, or NULL
    s_call_kind_t kind;             //  what it is for
    sw_session_reply_fn *engine_fn; //  S_CALL_ENGINE callback
    sw_host_reply_fn *worker_fn;    //  S_CALL_WORKER callback
    void *arg;                      //  callback argument
} s_call_t;

//  A queued write.
typedef struct _s_write_t {
    struct _s_write_t *next; //  queue link
    const char *type;        //  message type, static string
    json_t *body;            //  request body, owned
    sw_session_write_fn *fn; //  engine callback when answered, or NULL
    void *arg;               //  its argument
    int attempts;            //  sends that failed so far
} s_write_t;

//  Session phases.
typedef enum {
    S_RUNNING,   //  engine runs, writes flow
    S_FINISHING, //  engine stopped; draining the last writes
    S_DONE       //  nothing left but calls in flight
} s_phase_t;

struct _sw_host_t {
    cm_client_t *store;        //  store client, borrowed
    cm_client_t *media;        //  media-service client, borrowed, or NULL
    sw_loop_t *loop;           //  the loop, borrowed
    const sw_config_t *config; //  configuration, borrowed
    sw_engine_t *engine;       //  the engine, borrowed
    sw_host_fenced_fn *fenced; //  lease lost callback
    sw_host_logout_fn *logout; //  logout finished callback
    void *arg;                 //  their argument
    s_call_t *calls;           //  calls in flight
    cm_ulid_t *ulid;           //  event id generator
    sw_session_t *all;         //  every session allocated
    size_t sessions;           //  sessions allocated
    int write_timeout_ms;      //  store timeout for writes
    bool no_batch;             //  the store refused event.append_batch
    bool no_signal_batch;      //  the store ignored `signal` in a batch
    int64_t msgs_in;           //  message.any events, not fromMe
    int64_t msgs_out;          //  message.any events, fromMe
};

struct _sw_session_t {
    sw_host_t *host;             //  the host
    sw_session_t *prev;          //  host list of all sessions
    sw_session_t *next;          //  host list of all sessions
    char *name;                  //  session name
    json_t *config;              //  session config, referenced
    void *engine_data;           //  engine's per-session state
    s_write_t *head;             //  first queued write (maybe in flight)
    s_write_t *tail;             //  last queued write
    sw_session_done_fn *done_fn; //  finish callback
    void *done_arg;              //  its argument
    int64_t epoch;               //  lease epoch
    int64_t valid_until;         //  lease surely valid until (mono ms)
    uint64_t retry_timer;        //  pending resend, 0 when none
    uint32_t refs;               //  owner + calls in flight + finishing
    uint32_t queued;             //  writes queued
    int done_st;                 //  status reported to done_fn
    uint8_t status;              //  sw_status_t
    uint8_t phase;               //  s_phase_t
    bool inflight;               //  head write is in flight
    uint32_t batch;              //  writes in flight as one batch, or 0
    bool batch_signal;           //  a signal.put rides in that batch
    bool started;                //  engine start was called
    bool logging_out;            //  engine logout in progress
};

static void s_pump(sw_session_t *self);

//  --------------------------------------------------------------------
//  Host

static void
s_client_readable(sw_loop_t *loop, zsock_t *sock, void *arg)
{
    cm_client_dispatch((cm_client_t *)arg);
}

//  Have the loop poll every socket of a client (its DEALERs and their
//  connection monitors).
static void
s_client_add(sw_loop_t *loop, cm_client_t *client)
{
    for (size_t i = 0; i < cm_client_sock_count(client); i++) {
        sw_loop_sock_add(loop, cm_client_sock(client, i), s_client_readable,
                         client);
    }
}

static void
s_client_remove(sw_loop_t *loop, cm_client_t *client)
{
    for (size_t i = 0; i < cm_client_sock_count(client); i++) {
        sw_loop_sock_remove(loop, cm_client_sock(client, i));
    }
}

//  Both clients' next deadline (ms, -1 none).
static int
s_client_prepare(sw_loop_t *loop, void *arg)
{
    sw_host_t *host = (sw_host_t *)arg;
    int next = cm_client_expire(host->store);
    if (host->media) {
        int m = cm_client_expire(host->media);
        if (m >= 0 && (next < 0 || m < next)) {
            next = m;
        }
    }
    return next;
}

sw_host_t *
sw_host_new(cm_client_t *store, sw_loop_t *loop, const sw_config_t *config,
            sw_engine_t *engine)
{
    assert(store && loop && config);
    sw_host_t *self = cm_alloc(sizeof *self);
    self->store = store;
    self->loop = loop;
    self->config = config;
    self->engine = engine;
    self->write_timeout_ms = SW_WRITE_TIMEOUT_MS;
    self->ulid = cm_ulid_new();
    //  Replies and timeouts of the store client are driven by the loop. A
    //  store-service that dies takes the writes and lease requests it held
    //  with it: its connection monitor fails them (503) at once, so they
    //  are resent (to another store-service, or once it is back) rather
    //  than at their deadline (3 s, a third of the lease)
    s_client_add(loop, store);
    sw_loop_set_prepare(loop, s_client_prepare, self);
    return self;
}

void
sw_host_set_media(sw_host_t *self, cm_client_t *media)
{
    assert(!self->media && media);
    self->media = media;
    //  A media-service that dies takes its uploads and downloads with it:
    //  they go to another one (cm_client_set_resend, sw_worker), or fail
    //  at once (503) when none is up rather than at their deadline
    //  (minutes), so a send answers and a held incoming message goes out
    s_client_add(self->loop, media);
}

static void s_free(sw_session_t *self);
static void s_unref(sw_session_t **self_p);

void
sw_host_destroy(sw_host_t **self_p)
{
    assert(self_p);
    sw_host_t *self = *self_p;
    if (!self) {
        return;
    }
    while (self->calls) {
        s_call_t *call = self->calls;
        self->calls = call->next;
        if (call->kind == S_CALL_MEDIA) {
            //  Its argument is the engine's to free
            cm_msg_t *none = NULL;
            call->engine_fn(call->session, &none, call->arg);
        }
        free(call);
    }
    while (self->all) {
        s_free(self->all);
    }
    s_client_remove(self->loop, self->store);
    if (self->media) {
        s_client_remove(self->loop, self->media);
    }
    sw_loop_set_prepare(self->loop, NULL, NULL);
    cm_ulid_destroy(&self->ulid);
    free(self);
    *self_p = NULL;
}

void
sw_host_set_callbacks(sw_host_t *self, sw_host_fenced_fn *fenced,
                      sw_host_logout_fn *logout, void *arg)
{
    self->fenced = fenced;
    self->logout = logout;
    self->arg = arg;
}

size_t
sw_host_sessions(sw_host_t *self)
{
    return self->sessions;
}

void
sw_host_message_counts(sw_host_t *self, int64_t *incoming, int64_t *outgoing)
{
    *incoming = self->msgs_in;
    *outgoing = self->msgs_out;
}

static void
s_call_unlink(s_call_t *call)
{
    sw_host_t *host = call->host;
    if (call->prev) {
        call->prev->next = call->next;
    } else {
        host->calls = call->next;
    }
    if (call->next) {
        call->next->prev = call->prev;
    }
}

static void s_on_write(sw_session_t *self, cm_msg_t **reply_p);

//  Every store reply comes here first.
static void
s_call_done(cm_msg_t **reply_p, void *arg)
{
    s_call_t *call = (s_call_t *)arg;
    s_call_unlink(call);
    sw_session_t *session = call->session;
    switch (call->kind) {
    case S_CALL_WORKER:
        call->worker_fn(reply_p, call->arg);
        break;
    case S_CALL_ENGINE:
        if (session->phase == S_RUNNING) {
            call->engine_fn(session, reply_p, call->arg);
        }
        break;
    case S_CALL_MEDIA:
        //  Always: the engine frees what it lent the call
        call->engine_fn(session, reply_p, call->arg);
        break;
    case S_CALL_WRITE:
        s_on_write(session, reply_p);
        break;
    }
    cm_msg_destroy(reply_p);
    if (session) {
        s_unref(&session);
    }
    free(call);
}

//  Track and send a store request. Every field is set before sending: a
//  failed send calls back at once.
static int
s_call(sw_host_t *host, sw_session_t *session, s_call_kind_t kind,
       cm_msg_t **request_p, int timeout_ms, sw_session_reply_fn *engine_fn,
       sw_host_reply_fn *worker_fn, void *arg)
{
    s_call_t *call = cm_alloc(sizeof *call);
    call->host = host;
    call->kind = kind;
    call->engine_fn = engine_fn;
    call->worker_fn = worker_fn;
    call->arg = arg;
    if (session) {
        call->session = session;
        session->refs++;
    }
    call->next = host->calls;
    if (host->calls) {
        host->calls->prev = call;
    }
    host->calls = call;
    cm_client_t *client = kind == S_CALL_MEDIA ? host->media : host->store;
    return cm_client_send(client, request_p, timeout_ms, s_call_done, call);
}

int
sw_host_call(sw_host_t *self, cm_msg_t **request_p, int timeout_ms,
             sw_host_reply_fn *fn, void *arg)
{
    assert(fn);
    return s_call(self, NULL, S_CALL_WORKER, request_p, timeout_ms, NULL, fn,
                  arg);
}

//  --------------------------------------------------------------------
//  Sessions

sw_session_t *
sw_session_new(sw_host_t *host, const char *name, int64_t epoch, json_t *config)
{
    assert(host && name);
    sw_session_t *self = cm_alloc(sizeof *self);
    self->host = host;
    self->name = cm_strdup(name);
    self->config = json_is_object(config) ? json_incref(config) : json_object();
    self->epoch = epoch;
    self->refs = 1;
    self->status = SW_STATUS_STOPPED;
    self->phase = S_RUNNING;
    self->done_st = 200;
    self->next = host->all;
    if (host->all) {
        host->all->prev = self;
    }
    host->all = self;
    host->sessions++;
    return self;
}

static void
s_write_free(s_write_t **write_p)
{
    s_write_t *write = *write_p;
    json_decref(write->body);
    free(write);
    *write_p = NULL;
}

//  Drop queued writes that are not in flight.
static void
s_queue_clear(sw_session_t *self)
{
    s_write_t *keep = self->inflight ? self->head : NULL;
    s_write_t *w = keep ? keep->next : self->head;
    while (w) {
        s_write_t *next = w->next;
        s_write_free(&w);
        self->queued--;
        w = next;
    }
    if (keep) {
        keep->next = NULL;
    }
    self->head = self->tail = keep;
    if (self->retry_timer) {
        sw_loop_timer_cancel(self->host->loop, self->retry_timer);
        self->retry_timer = 0;
    }
}

static void
s_free(sw_session_t *self)
{
    sw_host_t *host = self->host;
    if (self->prev) {
        self->prev->next = self->next;
    } else {
        host->all = self->next;
    }
    if (self->next) {
        self->next->prev = self->prev;
    }
    host->sessions--;
    self->inflight = false;
    s_queue_clear(self);
    json_decref(self->config);
    free(self->name);
    free(self);
}

static void
s_unref(sw_session_t **self_p)
{
    sw_session_t *self = *self_p;
    *self_p = NULL;
    assert(self->refs > 0);
    if (--self->refs == 0) {
        s_free(self);
    }
}

static void
s_enqueue_cb(sw_session_t *self, const char *type, json_t *body,
             sw_session_write_fn *fn, void *arg)
{
    s_write_t *write = cm_alloc(sizeof *write);
    write->type = type;
    write->body = body;
    write->fn = fn;
    write->arg = arg;
    if (self->tail) {
        self->tail->next = write;
    } else {
        self->head = write;
    }
    self->tail = write;
    self->queued++;
    s_pump(self);
}

static void
s_enqueue(sw_session_t *self, const char *type, json_t *body)
{
    s_enqueue_cb(self, type, body, NULL, NULL);
}

//  Remove the head write after its reply.
static void
s_pop(sw_session_t *self)
{
    s_write_t *write = self->head;
    assert(write);
    self->head = write->next;
    if (!self->head) {
        self->tail = NULL;
    }
    self->queued--;
    s_write_free(&write);
}

static void
s_retry_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    sw_session_t *self = (sw_session_t *)arg;
    self->retry_timer = 0;
    s_pump(self);
}

//  The queued event.append writes from the head on (at most
//  SW_WRITE_BATCH_MAX, all fenced by the same lease) as one
//  event.append_batch, or NULL when fewer than two writes would go. One
//  signal.put among them rides along as the batch's `signal` rows: the
//  store writes them in the events' transaction, so a Signal change that
//  stanzas wait for (sw_wa's outbox) costs no round trip and no commit
//  of its own, and is never stored before the events queued ahead of
//  it. Sets self->batch to how many writes it took.
static cm_msg_t *
s_batch(sw_session_t *self)
{
    s_write_t *w = self->head;
    if (self->host->no_batch) {
        return NULL;
    }
    json_t *first = w->body;
    json_t *events = json_array();
    json_t *signal = NULL;
    uint32_t n = 0;
    for (; w && json_array_size(events) < SW_WRITE_BATCH_MAX; w = w->next) {
        bool event = cm_streq(w->type, "event.append");
        bool rows = !signal && !self->host->no_signal_batch &&
                    cm_streq(w->type, "signal.put");
        if ((!event && !rows) ||
            !json_equal(json_object_get(w->body, "worker"),
                        json_object_get(first, "worker")) ||
            !json_equal(json_object_get(w->body, "epoch"),
                        json_object_get(first, "epoch"))) {
            break;
        }
        n++;
        if (rows) {
            signal = json_object_get(w->body, "rows");
            continue;
        }
        json_t *ev = json_object();
        const char *keys[] = {"id", "event", "payload"};
        for (size_t i = 0; i < 3; i++) {
            json_t *v = json_object_get(w->body, keys[i]);
            if (v) {
                json_object_set(ev, keys[i], v);
            }
        }
        json_array_append_new(events, ev);
    }
    if (n < 2 || json_array_size(events) == 0) {
        json_decref(events);
        return NULL;
    }
    cm_msg_t *req = cm_msg_new("event.append_batch");
    cm_msg_set(req, "session", json_string(self->name));
    const char *keys[] = {"worker", "epoch"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(first, keys[i]);
        if (v) {
            cm_msg_set(req, keys[i], json_incref(v));
        }
    }
    cm_msg_set(req, "events", events);
    if (signal) {
        cm_msg_set(req, "signal", json_incref(signal));
    }
    self->batch = n;
    self->batch_signal = signal != NULL;
    return req;
}

//  Send the head write (or the queued events from it as one batch) if
//  nothing is in flight; finish when drained.
static void
s_pump(sw_session_t *self)
{
    if (self->inflight || self->retry_timer) {
        return;
    }
    if (self->head) {
        self->batch = 0;
        self->batch_signal = false;
        cm_msg_t *req = s_batch(self);
        if (!req) {
            req = cm_msg_new(self->head->type);
            json_t *body = json_incref(self->head->body);
            cm_msg_set_body(req, &body);
        }
        self->inflight = true;
        s_call(self->host, self, S_CALL_WRITE, &req,
               self->host->write_timeout_ms, NULL, NULL, NULL);
        return;
    }
    if (self->phase == S_FINISHING) {
        self->phase = S_DONE;
        if (self->done_fn) {
            self->done_fn(self, self->done_st, self->done_arg);
        }
        s_unref(&self); //  the reference finish took over
    }
}

//  An event.append_batch of n writes from the head was stored: each
//  write's result (200, or a 4xx for that event alone) as if sent alone.
static void
s_batch_done(sw_session_t *self, cm_msg_t *reply, uint32_t n)
{
    //  Take the writes off the queue first: a callback may clear it
    json_t *results = json_object_get(cm_msg_body(reply), "results");
    s_write_t *taken[SW_WRITE_BATCH_MAX + 1];
    uint32_t count = 0;
    while (count < n && self->head) {
        s_write_t *w = self->head;
        self->head = w->next;
        if (!self->head) {
            self->tail = NULL;
        }
        self->queued--;
        w->next = NULL;
        taken[count++] = w;
    }
    size_t ev = 0; //  results are the events', in order
    for (uint32_t i = 0; i < count; i++) {
        s_write_t *w = taken[i];
        if (!cm_streq(w->type, "event.append")) {
            //  The signal.put: stored with the batch (s_on_write checked)
            if (w->fn && self->phase == S_RUNNING) {
                w->fn(self, 200, w->arg);
            }
            s_write_free(&w);
            continue;
        }
        json_t *r = json_array_get(results, ev++);
        json_t *item_st = json_object_get(r, "status");
        int st =
            json_is_integer(item_st) ? (int)json_integer_value(item_st) : 200;
        if (st < 200 || st >= 300) {
            const char *why = json_string_value(json_object_get(r, "reason"));
            cm_log_warn("could not write session state",
                        "session=\"%s\" type=event.append st=%d "
                        "reason=\"%s\"",
                        self->name, st, why ? why : "");
        }
        if (w->fn && self->phase == S_RUNNING) {
            w->fn(self, st, w->arg);
        }
        s_write_free(&w);
    }
}

static void
s_on_write(sw_session_t *self, cm_msg_t **reply_p)
{
    self->inflight = false;
    uint32_t batch = self->batch;
    bool batch_signal = self->batch_signal;
    self->batch = 0;
    self->batch_signal = false;
    if (self->phase == S_DONE || !self->head) {
        return;
    }
    int st = cm_msg_status(*reply_p);
    if (batch) {
        if (st >= 200 && st < 300 && batch_signal &&
            !json_is_object(json_object_get(cm_msg_body(*reply_p), "signal"))) {
            //  A store that does not know `signal` stored the events only:
            //  send the put by itself (the events again are duplicates)
            cm_log_info("store ignored the Signal rows of an event batch: "
                        "sending them by themselves",
                        "session=\"%s\"", self->name);
            self->host->no_signal_batch = true;
            s_pump(self);
            return;
        }
        if (st >= 200 && st < 300) {
            s_batch_done(self, *reply_p, batch);
            s_pump(self);
            return;
        }
        if (st >= 400 && st < 500 && st != 404 && st != 409) {
            //  A store that does not know batches (or refused this one):
            //  the same events one at a time from now on
            cm_log_info("store refused an event batch: sending events one "
                        "at a time",
                        "session=\"%s\" st=%d", self->name, st);
            self->host->no_batch = true;
            s_pump(self);
            return;
        }
        if (self->phase != S_RUNNING &&
            self->head->attempts + 1 >= SW_FINISH_ATTEMPTS) {
            //  Giving up below drops the head: drop the rest of the batch
            for (uint32_t i = 1; i < batch && self->head->next; i++) {
                s_write_t *w = self->head->next;
                self->head->next = w->next;
                if (self->tail == w) {
                    self->tail = self->head;
                }
                self->queued--;
                s_write_free(&w);
            }
        }
        //  404/409 and retries: as for the head alone
    }
    const char *type = self->head->type;
    sw_session_write_fn *fn = self->head->fn;
    void *fn_arg = self->head->arg;
    if (st >= 200 && st < 300) {
        if (cm_streq(type, "lease.release")) {
            self->done_st = st;
        }
        self->head->attempts = 0;
        s_pop(self);
        if (fn && self->phase == S_RUNNING) {
            fn(self, st, fn_arg);
        }
    } else if (st == 409 || st == 404) {
        cm_log_warn("lease lost",
                    "session=\"%s\" epoch=%" PRId64
                    " type=%s st=%d reason=\"%s\"",
                    self->name, self->epoch, type, st,
                    cm_msg_reason(*reply_p) ? cm_msg_reason(*reply_p) : "");
        s_pop(self);
        s_queue_clear(self);
        self->done_st = st;
        if (self->phase == S_RUNNING && self->host->fenced) {
            //  The worker finishes us (flags 0) from here; the call in
            //  flight still holds a reference.
            self->host->fenced(self, st, self->host->arg);
        }
    } else if (st >= 400 && st < 500) {
        cm_log_warn("could not write session state",
                    "session=\"%s\" "
                    "type=%s st=%d reason=\"%s\"",
                    self->name, type, st,
                    cm_msg_reason(*reply_p) ? cm_msg_reason(*reply_p) : "");
        if (cm_streq(type, "lease.release")) {
            self->done_st = st;
        }
        s_pop(self);
        if (fn && self->phase == S_RUNNING) {
            fn(self, st, fn_arg);
        }
    } else {
        int attempts = ++self->head->attempts;
        if (self->phase != S_RUNNING && attempts >= SW_FINISH_ATTEMPTS) {
            cm_log_warn("could not write session state, giving up",
                        "session=\"%s\" type=%s st=%d", self->name, type, st);
            self->done_st = st;
            s_pop(self);
        } else {
            int delay = SW_WRITE_RETRY_MIN_MS;
            for (int i = 1; i < attempts && delay < SW_WRITE_RETRY_MAX_MS;
                 i++) {
                delay *= 2;
            }
            if (delay > SW_WRITE_RETRY_MAX_MS) {
                delay = SW_WRITE_RETRY_MAX_MS;
            }
            cm_log_debug("will resend session write",
                         "session=\"%s\" "
                         "type=%s st=%d delay_ms=%d",
                         self->name, type, st, delay);
            self->retry_timer = sw_loop_timer_add(self->host->loop, delay,
                                                  false, s_retry_timer, self);
            return;
        }
    }
    s_pump(self);
}

int
sw_session_start(sw_session_t *self)
{
    assert(self->phase == S_RUNNING && !self->started);
    self->started = true;
    if (!self->host->engine) {
        return 0;
    }
    if (sw_engine_start(self->host->engine, self) != 0) {
        cm_log_warn("could not start engine", "session=\"%s\"", self->name);
        if (self->status == SW_STATUS_STOPPED) {
            sw_session_set_status(self, SW_STATUS_STARTING, NULL);
        }
        sw_session_set_status(self, SW_STATUS_FAILED,
                              "could not start the engine");
        return -1;
    }
    return 0;
}

static json_t *
s_status_body(sw_session_t *self, sw_status_t status, const char *reason)
{
    json_t *body = json_object();
    json_object_set_new(body, "name", json_string(self->name));
    json_object_set_new(body, "worker",
                        json_string(sw_config_worker_id(self->host->config)));
    json_object_set_new(body, "epoch", json_integer(self->epoch));
    json_object_set_new(body, "status", json_string(sw_status_name(status)));
    if (reason) {
        json_object_set_new(body, "reason", json_string(reason));
    }
    return body;
}

static json_t *
s_lease_body(sw_session_t *self)
{
    json_t *body = json_object();
    json_object_set_new(body, "name", json_string(self->name));
    json_object_set_new(body, "worker",
                        json_string(sw_config_worker_id(self->host->config)));
    json_object_set_new(body, "epoch", json_integer(self->epoch));
    return body;
}

void
sw_session_finish(sw_session_t **self_p, int flags, sw_session_done_fn *fn,
                  void *arg)
{
    assert(self_p && *self_p);
    sw_session_t *self = *self_p;
    *self_p = NULL;
    assert(self->phase == S_RUNNING);
    //  Stop the engine first: no upcall may follow.
    if (self->started && self->host->engine) {
        sw_engine_stop(self->host->engine, self);
    }
    self->engine_data = NULL;
    self->logging_out = false;
    self->phase = S_FINISHING;
    self->done_fn = fn;
    self->done_arg = arg;
    if (flags == 0) {
        s_queue_clear(self); //  fenced: the store is not ours to write
    }
    if (flags & SW_FINISH_CLEAR) {
        json_t *body = json_object();
        json_object_set_new(body, "name", json_string(self->name));
        json_object_set_new(
            body, "worker",
            json_string(sw_config_worker_id(self->host->config)));
        json_object_set_new(body, "epoch", json_integer(self->epoch));
        s_enqueue(self, "device.clear", body);
    }
    if (flags & SW_FINISH_STATUS) {
        self->status = SW_STATUS_STOPPED;
        s_enqueue(self, "session.set_status",
                  s_status_body(self, SW_STATUS_STOPPED, NULL));
    }
    if (flags & SW_FINISH_RELEASE) {
        s_enqueue(self, "lease.release", s_lease_body(self));
    }
    s_pump(self);
}

int
sw_session_logout(sw_session_t *self)
{
    if (self->phase != S_RUNNING || self->logging_out) {
        return -1;
    }
    self->logging_out = true;
    if (self->started && self->host->engine) {
        sw_engine_logout(self->host->engine, self);
    } else {
        sw_session_logout_done(self, 0, NULL);
    }
    return 0;
}

void
sw_session_logout_done(sw_session_t *self, int rc, const char *reason)
{
    if (self->phase != S_RUNNING || !self->logging_out) {
        return;
    }
    self->logging_out = false;
    if (self->host->logout) {
        self->host->logout(self, rc, reason, self->host->arg);
    }
}

int64_t
sw_session_epoch(sw_session_t *self)
{
    return self->epoch;
}

void
sw_session_set_epoch(sw_session_t *self, int64_t epoch)
{
    self->epoch = epoch;
}

int64_t
sw_session_valid_until(sw_session_t *self)
{
    return self->valid_until;
}

void
sw_session_set_valid_until(sw_session_t *self, int64_t mono_ms)
{
    self->valid_until = mono_ms;
}

size_t
sw_session_queued(sw_session_t *self)
{
    return self->queued;
}

bool
sw_session_running(sw_session_t *self)
{
    return self->phase == S_RUNNING;
}

const char *
sw_session_name(sw_session_t *self)
{
    return self->name;
}

json_t *
sw_session_config(sw_session_t *self)
{
    return self->config;
}

const char *
sw_session_worker(sw_session_t *self)
{
    return sw_config_worker_id(self->host->config);
}

sw_loop_t *
sw_session_loop(sw_session_t *self)
{
    return self->host->loop;
}

const sw_config_t *
sw_session_cfg(sw_session_t *self)
{
    return self->host->config;
}

sw_status_t
sw_session_status(sw_session_t *self)
{
    return (sw_status_t)self->status;
}

void *
sw_session_engine_data(sw_session_t *self)
{
    return self->engine_data;
}

void
sw_session_set_engine_data(sw_session_t *self, void *data)
{
    self->engine_data = data;
}

int
sw_session_set_status(sw_session_t *self, sw_status_t status,
                      const char *reason)
{
    return sw_session_set_status_full(self, status, reason, NULL, NULL);
}

int
sw_session_set_status_full(sw_session_t *self, sw_status_t status,
                           const char *reason, json_t *me, const char *qr)
{
    if (self->phase != S_RUNNING) {
        return -1;
    }
    sw_status_t from = (sw_status_t)self->status;
    if (from == status && status != SW_STATUS_SCAN_QR_CODE) {
        return 0;
    }
    if (!sw_status_can_move(from, status)) {
        cm_log_error("refused status change", "session=\"%s\" from=%s to=%s",
                     self->name, sw_status_name(from), sw_status_name(status));
        return -1;
    }
    self->status = (uint8_t)status;
    if (status == SW_STATUS_FAILED) {
        cm_log_info("session failed", "session=\"%s\" reason=\"%s\"",
                    self->name, reason ? reason : "");
    } else {
        cm_log_debug("session status", "session=\"%s\" status=%s", self->name,
                     sw_status_name(status));
    }
    json_t *body = s_status_body(self, status, reason);
    if (me) {
        json_object_set(body, "me", me);
    }
    if (qr) {
        json_object_set_new(body, "qr", json_string(qr));
    }
    s_enqueue(self, "session.set_status", body);
    return 0;
}

int
sw_session_emit(sw_session_t *self, const char *event, json_t **payload_p)
{
    return sw_session_emit_id(self, NULL, event, payload_p, NULL, NULL);
}

int
sw_session_emit_id(sw_session_t *self, const char *id, const char *event,
                   json_t **payload_p, sw_session_write_fn *fn, void *arg)
{
    assert(event && payload_p && *payload_p);
    json_t *payload = *payload_p;
    *payload_p = NULL;
    if (self->phase != S_RUNNING) {
        json_decref(payload);
        return -1;
    }
    char fresh[CM_ULID_LEN + 8];
    if (!id) {
        int rc = cm_ulid_next(self->host->ulid, "evt_", fresh, sizeof fresh);
        assert(rc == 0);
        id = fresh;
    }
    if (strcmp(event, "message.any") == 0) {
        if (json_is_true(json_object_get(payload, "fromMe"))) {
            self->host->msgs_out++;
        } else {
            self->host->msgs_in++;
        }
    }
    json_t *body = s_lease_body(self);
    json_object_set_new(body, "id", json_string(id));
    json_object_set_new(body, "session", json_string(self->name));
    json_object_set_new(body, "event", json_string(event));
    json_object_set_new(body, "payload", payload);
    s_enqueue_cb(self, "event.append", body, fn, arg);
    return 0;
}

int
sw_session_write(sw_session_t *self, const char *type, json_t **body_p,
                 sw_session_write_fn *fn, void *arg)
{
    assert(type && body_p && json_is_object(*body_p));
    json_t *body = *body_p;
    *body_p = NULL;
    if (self->phase != S_RUNNING) {
        json_decref(body);
        return -1;
    }
    json_t *lease = s_lease_body(self);
    json_object_update(body, lease);
    json_decref(lease);
    s_enqueue_cb(self, type, body, fn, arg);
    return 0;
}

int
sw_session_store_send(sw_session_t *self, cm_msg_t **request_p, int timeout_ms,
                      sw_session_reply_fn *fn, void *arg)
{
    assert(request_p && *request_p && fn);
    if (self->phase != S_RUNNING) {
        cm_msg_destroy(request_p);
        return -1;
    }
    return s_call(self->host, self, S_CALL_ENGINE, request_p, timeout_ms, fn,
                  NULL, arg);
}

int
sw_session_media_send(sw_session_t *self, cm_msg_t **request_p, int timeout_ms,
                      sw_session_reply_fn *fn, void *arg)
{
    assert(request_p && *request_p && fn);
    if (self->phase != S_RUNNING || !self->host->media) {
        cm_msg_destroy(request_p);
        return -1;
    }
    //  A send that fails already called fn with a 503
    s_call(self->host, self, S_CALL_MEDIA, request_p, timeout_ms, fn, NULL,
           arg);
    return 0;
}

//  --------------------------------------------------------------------
//  Self test: a fake store (ROUTER on inproc) and a fake engine

typedef struct {
    int starts;      //  engine starts
    int stops;       //  engine stops
    int logouts;     //  engine logouts
    int fenced;      //  fenced callbacks
    int fenced_st;   //  status given to fenced
    int logout_done; //  logout callbacks
    int done;        //  finish callbacks
    int done_st;     //  status given to done
    int replies;     //  engine store replies delivered
    int written;     //  write callbacks
    int written_st;  //  status given to the last one
    bool fail_start; //  make start fail
} s_test_t;

static s_test_t *
s_test_state(void *state)
{
    return (s_test_t *)state;
}

static int
s_fake_start(void *state, sw_session_t *session)
{
    s_test_t *t = s_test_state(state);
    t->starts++;
    if (t->fail_start) {
        return -1;
    }
    sw_session_set_engine_data(session, t);
    return sw_session_set_status(session, SW_STATUS_STARTING, NULL);
}

static void
s_fake_stop(void *state, sw_session_t *session)
{
    s_test_state(state)->stops++;
    sw_session_set_engine_data(session, NULL);
}

static void
s_fake_logout(void *state, sw_session_t *session)
{
    s_test_state(state)->logouts++;
    sw_session_logout_done(session, 0, NULL);
}

static int
s_fake_command(void *state, sw_session_t *session, sw_cmd_t **cmd_p)
{
    return SW_CMD_DECLINED;
}

static void
s_fake_destroy(void **state_p)
{
    *state_p = NULL;
}

static const sw_engine_ops_t s_fake_ops = {
    "fake",        NULL,           s_fake_start,   s_fake_stop,
    s_fake_logout, s_fake_command, s_fake_destroy, NULL};

static void
s_test_fenced(sw_session_t *session, int st, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    t->fenced++;
    t->fenced_st = st;
}

static void
s_test_logout(sw_session_t *session, int rc, const char *reason, void *arg)
{
    ((s_test_t *)arg)->logout_done++;
}

static void
s_test_done(sw_session_t *session, int st, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    t->done++;
    t->done_st = st;
}

static void
s_test_written(sw_session_t *session, int st, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    t->written++;
    t->written_st = st;
}

static void
s_test_reply(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    t->replies++;
    assert(cm_msg_status(*reply_p) == 200);
}

//  Run the loop until the fake store receives a request; return it.
static cm_msg_t *
s_store_recv(sw_loop_t *loop, zsock_t *router, int timeout_ms)
{
    int64_t until = cm_mono_ms() + timeout_ms;
    while (cm_mono_ms() < until) {
        if (zsock_events(router) & ZMQ_POLLIN) {
            return cm_msg_recv(router, true);
        }
        sw_loop_once(loop, 5);
    }
    return NULL;
}

static void
s_store_reply(zsock_t *router, cm_msg_t **request_p, int st)
{
    cm_msg_t *reply =
        cm_msg_new_reply(*request_p, st, st == 200 ? NULL : "test");
    cm_msg_send(&reply, router);
    cm_msg_destroy(request_p);
}

//  Expect a set_status with `status` and reply st.
static void
s_expect_status(sw_loop_t *loop, zsock_t *router, const char *status, int st)
{
    cm_msg_t *req = s_store_recv(loop, router, 2000);
    assert(req);
    assert(cm_streq(cm_msg_type(req), "session.set_status"));
    assert(cm_streq(cm_msg_str(req, "status"), status));
    assert(cm_streq(cm_msg_str(req, "worker"), "w-test"));
    s_store_reply(router, &req, st);
}

static void
s_spin(sw_loop_t *loop, int ms)
{
    int64_t until = cm_mono_ms() + ms;
    while (cm_mono_ms() < until) {
        sw_loop_once(loop, 5);
    }
}

void
sw_session_test(bool verbose)
{
    printf(" * sw_session: ");
    cm_log_init(NULL, "error");
    setenv("WORKER_ID", "w-test", 1);
    sw_config_t *config = sw_config_new();
    unsetenv("WORKER_ID");
    sw_loop_t *loop = sw_loop_new();
    zsock_t *router = zsock_new_router("inproc://sw_session_test");
    cm_client_t *store = cm_client_new("inproc://sw_session_test");
    s_test_t t;
    memset(&t, 0, sizeof t);
    void *state = &t;
    sw_engine_t *engine = sw_engine_new(&s_fake_ops, &state);
    sw_host_t *host = sw_host_new(store, loop, config, engine);
    sw_host_set_callbacks(host, s_test_fenced, s_test_logout, &t);

    //  Start: STARTING goes to the store with (worker, epoch)
    json_t *cfg = json_pack("{s:b}", "debug", 1);
    sw_session_t *s = sw_session_new(host, "alpha", 7, cfg);
    json_decref(cfg);
    assert(cm_streq(sw_session_name(s), "alpha"));
    assert(json_is_true(json_object_get(sw_session_config(s), "debug")));
    assert(cm_streq(sw_session_worker(s), "w-test"));
    assert(sw_session_loop(s) == loop && sw_session_cfg(s) == config);
    assert(sw_session_epoch(s) == 7 && sw_session_running(s));
    assert(sw_session_start(s) == 0 && t.starts == 1);
    assert(sw_session_engine_data(s) == &t);
    assert(sw_session_status(s) == SW_STATUS_STARTING);
    cm_msg_t *req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "session.set_status"));
    assert(cm_streq(cm_msg_str(req, "name"), "alpha"));
    assert(cm_msg_int(req, "epoch", 0) == 7);
    assert(cm_streq(cm_msg_str(req, "status"), "STARTING"));
    assert(!json_object_get(cm_msg_body(req), "reason"));

    //  Writes are ordered: FAILED and STARTING wait for the first reply
    assert(sw_session_set_status(s, SW_STATUS_STARTING, NULL) == 0);
    assert(sw_session_set_status(s, SW_STATUS_FAILED, "boom") == 0);
    assert(sw_session_set_status(s, SW_STATUS_WORKING, NULL) == -1);
    assert(sw_session_set_status(s, SW_STATUS_STARTING, NULL) == 0);
    assert(sw_session_queued(s) == 3);
    s_spin(loop, 30);
    assert(!(zsock_events(router) & ZMQ_POLLIN));
    s_store_reply(router, &req, 200);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_str(req, "status"), "FAILED"));
    assert(cm_streq(cm_msg_str(req, "reason"), "boom"));
    //  A 503 is resent after a pause, with the same content
    s_store_reply(router, &req, 503);
    int64_t t0 = cm_mono_ms();
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_str(req, "status"), "FAILED"));
    assert(cm_mono_ms() - t0 >= SW_WRITE_RETRY_MIN_MS - 5);
    s_store_reply(router, &req, 200);
    s_expect_status(loop, router, "STARTING", 200);
    s_spin(loop, 20);
    assert(sw_session_queued(s) == 0);

    //  Events: event.append with an evt_ id, worker and epoch
    json_t *payload = json_pack("{s:i}", "n", 1);
    assert(sw_session_emit(s, "test.event", &payload) == 0 && !payload);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "event.append"));
    assert(strncmp(cm_msg_str(req, "id"), "evt_", 4) == 0);
    assert(cm_ulid_valid(cm_msg_str(req, "id") + 4));
    assert(cm_streq(cm_msg_str(req, "session"), "alpha"));
    assert(cm_streq(cm_msg_str(req, "event"), "test.event"));
    assert(cm_msg_int(req, "epoch", 0) == 7);
    s_store_reply(router, &req, 200);
    s_spin(loop, 20);

    //  Events with a given id and a callback once stored; any fenced
    //  write; status with me and qr (the event goes at once, the put
    //  by itself after it)
    payload = json_pack("{s:i}", "n", 2);
    assert(sw_session_emit_id(s, "evt_fixed", "message", &payload,
                              s_test_written, &t) == 0);
    json_t *wbody = json_pack("{s:[]}", "rows");
    assert(sw_session_write(s, "signal.put", &wbody, s_test_written, &t) == 0 &&
           !wbody);
    json_t *me = json_pack("{s:s}", "id", "1555@c.us");
    assert(sw_session_set_status_full(s, SW_STATUS_SCAN_QR_CODE, NULL, NULL,
                                      "data:qr1") == 0);
    assert(sw_session_set_status_full(s, SW_STATUS_SCAN_QR_CODE, NULL, NULL,
                                      "data:qr2") == 0);
    assert(sw_session_set_status_full(s, SW_STATUS_WORKING, NULL, me, NULL) ==
           0);
    json_decref(me);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "event.append"));
    assert(cm_streq(cm_msg_str(req, "id"), "evt_fixed"));
    assert(t.written == 0);
    s_store_reply(router, &req, 200);
    req = s_store_recv(loop, router, 2000);
    assert(t.written == 1 && t.written_st == 200);
    assert(req && cm_streq(cm_msg_type(req), "signal.put"));
    assert(cm_streq(cm_msg_str(req, "name"), "alpha"));
    assert(cm_streq(cm_msg_str(req, "worker"), "w-test"));
    assert(cm_msg_int(req, "epoch", 0) == 7);
    assert(json_is_array(json_object_get(cm_msg_body(req), "rows")));
    s_store_reply(router, &req, 400); //  refused: dropped, reported
    req = s_store_recv(loop, router, 2000);
    assert(t.written == 2 && t.written_st == 400);
    assert(req && cm_streq(cm_msg_str(req, "qr"), "data:qr1"));
    s_store_reply(router, &req, 200);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_str(req, "qr"), "data:qr2"));
    assert(!json_object_get(cm_msg_body(req), "me"));
    s_store_reply(router, &req, 200);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_str(req, "status"), "WORKING"));
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(cm_msg_body(req), "me"), "id")),
                    "1555@c.us"));
    assert(!json_object_get(cm_msg_body(req), "qr"));
    s_store_reply(router, &req, 200);
    s_spin(loop, 20);
    assert(sw_session_queued(s) == 0);
    //  Events queued behind one in flight go as one event.append_batch,
    //  in order, up to the next other write; each callback gets its own
    //  result. A signal.put among them rides along as `signal`, answered
    //  with the batch
    const char *ids[] = {"evt_b0", "evt_b1", "evt_b2"};
    const char *names[] = {"message", "message.any", "message.ack"};
    for (int i = 0; i < 3; i++) {
        payload = json_pack("{s:i}", "n", 10 + i);
        assert(sw_session_emit_id(s, ids[i], names[i], &payload, s_test_written,
                                  &t) == 0);
    }
    wbody = json_pack("{s:[{s:s, s:s, s:s}]}", "rows", "kind", "session", "key",
                      "k.0", "data", "AA==");
    assert(sw_session_write(s, "signal.put", &wbody, s_test_written, &t) == 0);
    wbody = json_pack("{s:{}}", "creds");
    assert(sw_session_write(s, "device.put", &wbody, NULL, NULL) == 0);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "event.append"));
    assert(cm_streq(cm_msg_str(req, "id"), "evt_b0"));
    s_store_reply(router, &req, 200);
    req = s_store_recv(loop, router, 2000);
    assert(t.written == 3 && t.written_st == 200);
    assert(req && cm_streq(cm_msg_type(req), "event.append_batch"));
    assert(cm_streq(cm_msg_str(req, "session"), "alpha"));
    assert(cm_streq(cm_msg_str(req, "worker"), "w-test"));
    assert(cm_msg_int(req, "epoch", 0) == 7);
    json_t *events = json_object_get(cm_msg_body(req), "events");
    assert(json_array_size(events) == 2);
    for (int i = 0; i < 2; i++) {
        json_t *ev = json_array_get(events, i);
        assert(
            cm_streq(json_string_value(json_object_get(ev, "id")), ids[i + 1]));
        assert(cm_streq(json_string_value(json_object_get(ev, "event")),
                        names[i + 1]));
        assert(json_integer_value(json_object_get(
                   json_object_get(ev, "payload"), "n")) == 11 + i);
    }
    json_t *rows = json_object_get(cm_msg_body(req), "signal");
    assert(json_array_size(rows) == 1);
    assert(cm_streq(
        json_string_value(json_object_get(json_array_get(rows, 0), "key")),
        "k.0"));
    cm_msg_t *breply = cm_msg_new_reply(req, 200, NULL);
    cm_msg_set(breply, "results",
               json_pack("[{s:i}, {s:i, s:s}]", "seq", 2, "status", 400,
                         "reason", "test"));
    cm_msg_set(breply, "signal",
               json_pack("{s:i, s:i}", "written", 1, "deleted", 0));
    cm_msg_send(&breply, router);
    cm_msg_destroy(&req);
    req = s_store_recv(loop, router, 2000);
    //  b1, b2 (400) and the signal.put answered; device.put goes by itself
    assert(t.written == 6 && t.written_st == 200);
    assert(req && cm_streq(cm_msg_type(req), "device.put"));
    s_store_reply(router, &req, 200);
    s_spin(loop, 20);
    //  A store that takes batches but ignores `signal` (no `signal` in its
    //  reply): the events again, the rows by themselves after that
    payload = json_pack("{s:i}", "n", 40);
    assert(sw_session_emit(s, "message", &payload) == 0);
    payload = json_pack("{s:i}", "n", 41);
    assert(sw_session_emit(s, "message", &payload) == 0);
    wbody = json_pack("{s:[]}", "rows");
    assert(sw_session_write(s, "signal.put", &wbody, s_test_written, &t) == 0);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "event.append"));
    s_store_reply(router, &req, 200);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "event.append_batch") &&
           json_is_array(json_object_get(cm_msg_body(req), "signal")));
    breply = cm_msg_new_reply(req, 200, NULL);
    cm_msg_set(breply, "results", json_pack("[{s:i}]", "seq", 9));
    cm_msg_send(&breply, router);
    cm_msg_destroy(&req);
    req = s_store_recv(loop, router, 2000);
    assert(t.written == 6);
    assert(req && cm_streq(cm_msg_type(req), "event.append"));
    assert(json_integer_value(json_object_get(
               json_object_get(cm_msg_body(req), "payload"), "n")) == 41);
    s_store_reply(router, &req, 200);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "signal.put"));
    s_store_reply(router, &req, 200);
    s_spin(loop, 20);
    assert(t.written == 7 && sw_session_queued(s) == 0);
    //  A store that does not know batches: the same events one at a time,
    //  and no batches after that
    for (int i = 0; i < 3; i++) {
        payload = json_pack("{s:i}", "n", 20 + i);
        assert(sw_session_emit(s, "message", &payload) == 0);
    }
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "event.append"));
    s_store_reply(router, &req, 200);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "event.append_batch"));
    s_store_reply(router, &req, 400);
    for (int i = 1; i < 3; i++) {
        req = s_store_recv(loop, router, 2000);
        assert(req && cm_streq(cm_msg_type(req), "event.append"));
        assert(json_integer_value(json_object_get(
                   json_object_get(cm_msg_body(req), "payload"), "n")) ==
               20 + i);
        s_store_reply(router, &req, 200);
    }
    s_spin(loop, 20);
    for (int i = 0; i < 2; i++) {
        payload = json_pack("{s:i}", "n", 30 + i);
        assert(sw_session_emit(s, "message", &payload) == 0);
    }
    for (int i = 0; i < 2; i++) {
        req = s_store_recv(loop, router, 2000);
        assert(req && cm_streq(cm_msg_type(req), "event.append"));
        s_store_reply(router, &req, 200);
    }
    s_spin(loop, 20);
    assert(sw_session_queued(s) == 0);
    //  A write still queued when the session finishes: no callback
    payload = json_pack("{}");
    assert(sw_session_emit_id(s, NULL, "late", &payload, s_test_written, &t) ==
           0);
    cm_msg_t *pending = s_store_recv(loop, router, 2000);
    assert(pending && strncmp(cm_msg_str(pending, "id"), "evt_", 4) == 0);

    //  Engine store calls are answered while running
    req = cm_msg_new("device.get");
    assert(sw_session_store_send(s, &req, 1000, s_test_reply, &t) == 0);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "device.get"));
    s_store_reply(router, &req, 200);
    s_spin(loop, 20);
    assert(t.replies == 1);

    //  ... and dropped once the session finished
    req = cm_msg_new("device.get");
    assert(sw_session_store_send(s, &req, 1000, s_test_reply, &t) == 0);
    cm_msg_t *late = s_store_recv(loop, router, 2000);
    assert(late);

    //  Finish: engine stop, STOPPED, lease.release, done
    sw_session_finish(&s, SW_FINISH_STATUS | SW_FINISH_RELEASE, s_test_done,
                      &t);
    assert(!s && t.stops == 1);
    assert(sw_host_sessions(host) == 1);
    s_store_reply(router, &pending, 200);
    s_expect_status(loop, router, "STOPPED", 200);
    assert(t.written == 7);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "lease.release"));
    assert(cm_streq(cm_msg_str(req, "name"), "alpha"));
    assert(cm_msg_int(req, "epoch", 0) == 7);
    s_store_reply(router, &req, 200);
    s_spin(loop, 20);
    assert(t.done == 1 && t.done_st == 200);
    assert(sw_host_sessions(host) == 1); //  the late call holds it
    s_store_reply(router, &late, 200);
    s_spin(loop, 20);
    assert(t.replies == 1);
    assert(sw_host_sessions(host) == 0);

    //  409: fenced; the worker then finishes with no flags
    s = sw_session_new(host, "beta", 3, NULL);
    assert(json_is_object(sw_session_config(s)));
    assert(sw_session_start(s) == 0);
    sw_session_set_status(s, SW_STATUS_FAILED, "x");
    s_expect_status(loop, router, "STARTING", 409);
    s_spin(loop, 20);
    assert(t.fenced == 1 && t.fenced_st == 409);
    assert(sw_session_queued(s) == 0); //  FAILED was dropped
    sw_session_finish(&s, 0, s_test_done, &t);
    assert(t.done == 2 && t.done_st == 409);
    assert(sw_host_sessions(host) == 0);
    s_spin(loop, 20);
    assert(!(zsock_events(router) & ZMQ_POLLIN));

    //  Engine refuses to start: FAILED with a reason
    t.fail_start = true;
    s = sw_session_new(host, "gamma", 1, NULL);
    assert(sw_session_start(s) == -1);
    assert(sw_session_status(s) == SW_STATUS_FAILED);
    s_expect_status(loop, router, "STARTING", 200);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_str(req, "status"), "FAILED"));
    assert(cm_streq(cm_msg_str(req, "reason"), "could not start the engine"));
    s_store_reply(router, &req, 200);
    t.fail_start = false;

    //  Logout: engine callback, then the worker's
    assert(sw_session_logout(s) == 0);
    assert(t.logouts == 1 && t.logout_done == 1);
    //  Finishing with clear + status + release, a write that keeps
    //  failing is given up after SW_FINISH_ATTEMPTS
    sw_session_finish(&s,
                      SW_FINISH_CLEAR | SW_FINISH_STATUS | SW_FINISH_RELEASE,
                      s_test_done, &t);
    req = s_store_recv(loop, router, 2000);
    assert(req && cm_streq(cm_msg_type(req), "device.clear"));
    s_store_reply(router, &req, 200);
    for (int i = 0; i < SW_FINISH_ATTEMPTS; i++) {
        req = s_store_recv(loop, router, 3000);
        assert(req && cm_streq(cm_msg_type(req), "session.set_status"));
        s_store_reply(router, &req, 500);
    }
    req = s_store_recv(loop, router, 3000);
    assert(req && cm_streq(cm_msg_type(req), "lease.release"));
    s_store_reply(router, &req, 200);
    s_spin(loop, 20);
    assert(t.done == 3 && t.done_st == 200);
    assert(sw_host_sessions(host) == 0);

    //  Calls still in flight are freed with the host
    s = sw_session_new(host, "delta", 1, NULL);
    sw_session_start(s);
    req = s_store_recv(loop, router, 2000);
    assert(req);
    cm_msg_destroy(&req);
    sw_session_finish(&s, SW_FINISH_RELEASE, NULL, NULL);
    assert(sw_host_sessions(host) == 1);

    sw_host_destroy(&host);
    sw_host_destroy(&host);
    cm_client_destroy(&store);
    sw_engine_destroy(&engine);
    zsock_destroy(&router);
    sw_loop_destroy(&loop);
    sw_config_destroy(&config);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
