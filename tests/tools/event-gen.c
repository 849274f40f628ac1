/*  event-gen - append many events through the store, fast

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    For webhook tests and benchmarks: appends `count` events with
    event.append, spread round-robin over sessions, keeping up to
    `window` requests in flight. A request that gets 503/504 is resent
    with the same event id (event.append is idempotent on it), so every
    event is stored exactly once even while store-services restart.

      event-gen [--count N] [--session NAME | --sessions N --prefix P]
                [--event NAME] [--window W] [--rate PER_S]
                [--ids FILE] ENDPOINTS
    Payload: {"n": i, "sent_ms": epoch ms}. Prints one JSON line
    {"sent":N,"stored":N,"resent":N,"ms":T}. Exit 0 when all were
    stored, 1 otherwise, 64 on usage errors.
*/
#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"

#define EVENT_GEN_EX_USAGE 64
//  Per-request timeout before resending.
#define EVENT_GEN_TIMEOUT_MS 5000

//  One event and its state.
typedef struct {
    char id[64]; //  evt_<ulid>
    int session; //  session index
    int64_t n;   //  sequence number in this run
    bool stored; //  acknowledged
} s_event_t;

//  Run state.
typedef struct {
    cm_client_t *client;
    s_event_t *events;
    int count;
    int next; //  next event never sent
    int in_flight;
    int stored;
    int resent;
    zlistx_t *retry; //  s_event_t to send again
    char **sessions;
    const char *event;
} s_run_t;

typedef struct {
    s_run_t *run;
    s_event_t *ev;
} s_ctx_t;

static void s_send(s_run_t *run, s_event_t *ev);

static void
s_on_reply(cm_msg_t **reply_p, void *arg)
{
    s_ctx_t *ctx = (s_ctx_t *)arg;
    s_run_t *run = ctx->run;
    s_event_t *ev = ctx->ev;
    free(ctx);
    run->in_flight--;
    int st = cm_msg_status(*reply_p);
    if (st == 200) {
        if (!ev->stored) {
            ev->stored = true;
            run->stored++;
        }
    } else if (st >= 500) {
        run->resent++;
        zlistx_add_end(run->retry, ev);
    } else {
        fprintf(stderr, "event-gen: %s refused: %d %s\n", ev->id, st,
                cm_msg_reason(*reply_p) ? cm_msg_reason(*reply_p) : "");
    }
}

static void
s_send(s_run_t *run, s_event_t *ev)
{
    cm_msg_t *msg = cm_msg_new("event.append");
    cm_msg_set_str(msg, "id", ev->id);
    cm_msg_set_str(msg, "session", run->sessions[ev->session]);
    cm_msg_set_str(msg, "event", run->event);
    cm_msg_set(msg, "payload",
               json_pack("{s:I, s:I}", "n", (json_int_t)ev->n, "sent_ms",
                         (json_int_t)cm_now_ms()));
    s_ctx_t *ctx = cm_alloc(sizeof *ctx);
    ctx->run = run;
    ctx->ev = ev;
    run->in_flight++;
    cm_client_send(run->client, &msg, EVENT_GEN_TIMEOUT_MS, s_on_reply, ctx);
}

static void
s_usage(void)
{
    fprintf(stderr, "usage: event-gen [--count N] [--session NAME | "
                    "--sessions N --prefix P] [--event NAME] [--window W] "
                    "[--rate PER_S] [--ids FILE] ENDPOINTS\n");
    exit(EVENT_GEN_EX_USAGE);
}

int
main(int argc, char **argv)
{
    int count = 100;
    int nsessions = 1;
    const char *session = "default";
    const char *prefix = NULL;
    const char *event = "message";
    const char *ids_file = NULL;
    int window = 64;
    double rate = 0;
    const char *endpoints = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--count") && v) {
            count = atoi(v);
            i++;
        } else if (!strcmp(a, "--session") && v) {
            session = v;
            i++;
        } else if (!strcmp(a, "--sessions") && v) {
            nsessions = atoi(v);
            i++;
        } else if (!strcmp(a, "--prefix") && v) {
            prefix = v;
            i++;
        } else if (!strcmp(a, "--event") && v) {
            event = v;
            i++;
        } else if (!strcmp(a, "--window") && v) {
            window = atoi(v);
            i++;
        } else if (!strcmp(a, "--rate") && v) {
            rate = atof(v);
            i++;
        } else if (!strcmp(a, "--ids") && v) {
            ids_file = v;
            i++;
        } else if (a[0] != '-' && !endpoints) {
            endpoints = a;
        } else {
            s_usage();
        }
    }
    if (!endpoints || count < 0 || nsessions < 1 || window < 1) {
        s_usage();
    }
    cm_log_init("event-gen", "warn");
    zsys_init();
    zsys_set_logstream(NULL);
    s_run_t run = {0};
    run.client = cm_client_new(endpoints);
    if (!run.client) {
        fprintf(stderr, "event-gen: could not connect to %s\n", endpoints);
        return EVENT_GEN_EX_USAGE;
    }
    run.count = count;
    run.event = event;
    run.retry = zlistx_new();
    run.sessions = cm_alloc((size_t)nsessions * sizeof(char *));
    for (int s = 0; s < nsessions; s++) {
        run.sessions[s] =
            prefix ? cm_sprintf("%s%d", prefix, s) : cm_strdup(session);
    }
    run.events = cm_alloc((size_t)(count ? count : 1) * sizeof(s_event_t));
    cm_ulid_t *ulid = cm_ulid_new();
    for (int i = 0; i < count; i++) {
        cm_ulid_next(ulid, "evt_", run.events[i].id, sizeof run.events[i].id);
        run.events[i].session = i % nsessions;
        run.events[i].n = i;
    }
    cm_ulid_destroy(&ulid);

    int64_t start = cm_mono_ms();
    //  The client's DEALERs and connection monitors
    size_t nsock = cm_client_sock_count(run.client);
    zmq_pollitem_t *items = calloc(nsock, sizeof *items);
    assert(items);
    for (size_t i = 0; i < nsock; i++) {
        items[i] = (zmq_pollitem_t){
            zsock_resolve(cm_client_sock(run.client, i)), 0, ZMQ_POLLIN, 0};
    }
    while (run.stored + 0 < count && !zsys_interrupted) {
        while (run.in_flight < window) {
            s_event_t *ev = (s_event_t *)zlistx_detach(run.retry, NULL);
            if (!ev && run.next < count) {
                if (rate > 0 &&
                    run.next > (cm_mono_ms() - start) * rate / 1000.0) {
                    break;
                }
                ev = &run.events[run.next++];
            }
            if (!ev) {
                break;
            }
            s_send(&run, ev);
        }
        if (run.in_flight == 0 && run.next >= count &&
            zlistx_size(run.retry) == 0) {
            break;
        }
        int wait = cm_client_expire(run.client);
        if (wait < 0 || wait > 10) {
            wait = 10;
        }
        if (zmq_poll(items, (int)nsock, wait) > 0) {
            cm_client_dispatch(run.client);
        }
        cm_client_expire(run.client);
        if (zlistx_size(run.retry) > 0 && run.in_flight == 0) {
            zclock_sleep(100); //  store away: do not spin
        }
    }
    free(items);
    int64_t ms = cm_mono_ms() - start;
    if (ids_file) {
        FILE *f = fopen(ids_file, "w");
        if (f) {
            for (int i = 0; i < count; i++) {
                fprintf(f, "%s\n", run.events[i].id);
            }
            fclose(f);
        }
    }
    printf("{\"sent\":%d,\"stored\":%d,\"resent\":%d,\"ms\":%" PRId64 "}\n",
           run.next, run.stored, run.resent, ms);
    int rc = run.stored == count ? 0 : 1;
    //  Replies still pending are dropped with the client.
    cm_client_destroy(&run.client);
    zlistx_destroy(&run.retry);
    for (int s = 0; s < nsessions; s++) {
        free(run.sessions[s]);
    }
    free(run.sessions);
    free(run.events);
    zsys_shutdown();
    return rc;
}
