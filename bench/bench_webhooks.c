/*  bench_webhooks - webhook deliveries per second and event-to-delivery
    latency against a running store-service and webhook-dispatcher

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Runs a local receiver (libmicrohttpd), creates `sessions` sessions
    whose `hooks` webhooks point at it, appends `events` events through
    event.append (spread over the sessions, `rate` per second or as fast
    as the store takes them), and waits for every delivery. Latency is
    receipt time minus the envelope's timestamp (set by the store when it
    stored the event). bench/bench_webhooks.py starts the stack and runs
    this; see bench/README.md.

      bench_webhooks --store ENDPOINTS [--sessions N] [--hooks K]
                     [--events E] [--rate R] [--window W] [--timeout S]
                     [--prefix P] [--port N] [--phase both|append|receive]
    --phase append only creates the sessions and stores the events (for a
    backlog, with the dispatcher stopped); --phase receive only receives
    (events*hooks deliveries) on --port. Prints one JSON line.
*/
#include <czmq.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wd_receiver.h"

//  Receiver state, shared with libmicrohttpd's threads (atomics only).
typedef struct {
    atomic_long received; //  requests
    atomic_long bad;      //  requests without a timestamp
    int64_t *latency;     //  ms per request, `cap` slots
    int64_t *arrival;     //  mono ms per request
    long cap;
} s_rx_t;

static unsigned
s_request(struct MHD_Connection *conn, const char *url, const char *body,
          size_t len, void *arg)
{
    s_rx_t *rx = (s_rx_t *)arg;
    int64_t now = cm_now_ms();
    long i = atomic_fetch_add(&rx->received, 1);
    const char *ts = strstr(body, "\"timestamp\":");
    if (i < rx->cap) {
        rx->arrival[i] = cm_mono_ms();
        rx->latency[i] = ts ? now - strtoll(ts + 12, NULL, 10) : -1;
    }
    if (!ts) {
        atomic_fetch_add(&rx->bad, 1);
    }
    return 200;
}

static int
s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

//  Append state.
typedef struct {
    int in_flight;
    long stored;
    long failed;
} s_gen_t;

static void
s_on_append(cm_msg_t **reply_p, void *arg)
{
    s_gen_t *g = (s_gen_t *)arg;
    g->in_flight--;
    if (cm_msg_status(*reply_p) == 200) {
        g->stored++;
    } else {
        g->failed++;
    }
}

int
main(int argc, char **argv)
{
    const char *store = NULL;
    const char *prefix = "bench";
    int sessions = 50;
    int hooks = 1;
    long events = 20000;
    double rate = 0;
    int window = 256;
    int timeout_s = 180;
    unsigned fixed_port = 0;
    const char *phase = "both";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--store")) {
            store = argv[i + 1];
        } else if (!strcmp(argv[i], "--sessions")) {
            sessions = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--hooks")) {
            hooks = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--events")) {
            events = atol(argv[i + 1]);
        } else if (!strcmp(argv[i], "--rate")) {
            rate = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--window")) {
            window = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--timeout")) {
            timeout_s = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--prefix")) {
            prefix = argv[i + 1];
        } else if (!strcmp(argv[i], "--port")) {
            fixed_port = (unsigned)atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--phase")) {
            phase = argv[i + 1];
        }
    }
    if (!store || sessions < 1 || hooks < 1 || events < 1 || window < 1) {
        fprintf(stderr,
                "usage: bench_webhooks --store ENDPOINTS [--sessions N] "
                "[--hooks K] [--events E] [--rate R] [--window W] "
                "[--timeout S] [--prefix P]\n");
        return 64;
    }
    cm_log_init("bench", "warn");
    zsys_init();
    long expected = events * hooks;
    s_rx_t rx = {0};
    rx.cap = expected * 2;
    rx.latency = cm_alloc((size_t)rx.cap * sizeof(int64_t));
    rx.arrival = cm_alloc((size_t)rx.cap * sizeof(int64_t));
    bool do_append = strcmp(phase, "receive") != 0;
    bool do_receive = strcmp(phase, "append") != 0;
    wd_receiver_opts_t rx_opts = {.port = (unsigned)fixed_port,
                                  .flags = MHD_USE_EPOLL_INTERNAL_THREAD,
                                  .threads = 2,
                                  .connections = 4096,
                                  .max_body = 4095};
    wd_receiver_t *mhd =
        do_receive ? wd_receiver_new(&rx_opts, s_request, &rx) : NULL;
    if (do_receive && !mhd) {
        fprintf(stderr, "bench_webhooks: could not start the receiver\n");
        return 1;
    }
    unsigned port = mhd ? wd_receiver_port(mhd) : (unsigned)fixed_port;

    cm_client_t *client = cm_client_new(store);
    if (!client) {
        return 1;
    }
    //  Sessions with `hooks` webhooks each (distinct URLs: distinct
    //  streams and targets).
    for (int s = 0; do_append && s < sessions; s++) {
        json_t *list = json_array();
        for (int k = 0; k < hooks; k++) {
            char *url = cm_sprintf("http://127.0.0.1:%u/h%d", port, k);
            json_array_append_new(list, json_pack("{s:s, s:[s]}", "url", url,
                                                  "events", "message"));
            free(url);
        }
        char name[64];
        snprintf(name, sizeof name, "%s%d", prefix, s);
        cm_msg_t *msg = cm_msg_new("session.create");
        cm_msg_set_str(msg, "name", name);
        cm_msg_set(msg, "config", json_pack("{s:O}", "webhooks", list));
        cm_msg_t *reply = cm_client_call_retry(client, &msg, 5000, 10);
        int st = cm_msg_status(reply);
        cm_msg_destroy(&reply);
        if (st == 409) {
            msg = cm_msg_new("session.update");
            cm_msg_set_str(msg, "name", name);
            cm_msg_set(msg, "config", json_pack("{s:O}", "webhooks", list));
            reply = cm_client_call_retry(client, &msg, 5000, 10);
            st = cm_msg_status(reply) == 200 ? 201 : cm_msg_status(reply);
            cm_msg_destroy(&reply);
        }
        json_decref(list);
        if (st != 201) {
            fprintf(stderr, "bench_webhooks: could not create %s: %d\n", name,
                    st);
            return 1;
        }
    }

    //  Append
    cm_ulid_t *ulid = cm_ulid_new();
    s_gen_t gen = {0};
    int64_t start = cm_mono_ms();
    long next = 0;
    //  The client's DEALERs and connection monitors
    size_t nsock = cm_client_sock_count(client);
    zmq_pollitem_t *items = calloc(nsock, sizeof *items);
    assert(items);
    for (size_t i = 0; i < nsock; i++) {
        items[i] = (zmq_pollitem_t){zsock_resolve(cm_client_sock(client, i)), 0,
                                    ZMQ_POLLIN, 0};
    }
    if (!do_append) {
        next = events;
    }
    while ((next < events || gen.in_flight > 0) && !zsys_interrupted) {
        while (next < events && gen.in_flight < window &&
               (rate <= 0 || next < (cm_mono_ms() - start) * rate / 1000.0)) {
            char id[64];
            cm_ulid_next(ulid, "evt_", id, sizeof id);
            char name[64];
            snprintf(name, sizeof name, "%s%ld", prefix, next % sessions);
            cm_msg_t *msg = cm_msg_new("event.append");
            cm_msg_set_str(msg, "id", id);
            cm_msg_set_str(msg, "session", name);
            cm_msg_set_str(msg, "event", "message");
            cm_msg_set(msg, "payload",
                       json_pack("{s:I, s:s}", "n", (json_int_t)next, "body",
                                 "benchmark message body of moderate size"));
            gen.in_flight++;
            cm_client_send(client, &msg, 30000, s_on_append, &gen);
            next++;
        }
        if (zmq_poll(items, (int)nsock, 5) > 0) {
            cm_client_dispatch(client);
        }
        cm_client_expire(client);
    }
    free(items);
    int64_t appended_ms = cm_mono_ms() - start;

    //  Wait for the deliveries
    int64_t until = cm_mono_ms() + (int64_t)timeout_s * 1000;
    if (do_receive) {
        //  Time from the first delivery when only receiving.
        while (!do_append && atomic_load(&rx.received) == 0 &&
               cm_mono_ms() < until) {
            zclock_sleep(1);
        }
        if (!do_append) {
            start = cm_mono_ms();
        }
    }
    while (do_receive && atomic_load(&rx.received) < expected &&
           cm_mono_ms() < until && !zsys_interrupted) {
        zclock_sleep(20);
    }
    long got = atomic_load(&rx.received);
    long n = got < rx.cap ? got : rx.cap;
    int64_t last = n ? rx.arrival[n - 1] : start;
    for (long i = 0; i < n; i++) {
        last = rx.arrival[i] > last ? rx.arrival[i] : last;
    }
    //  Steady rate: between the 10th and the 90th percentile arrivals
    int64_t *arr = cm_alloc((size_t)(n ? n : 1) * sizeof(int64_t));
    memcpy(arr, rx.arrival, (size_t)n * sizeof(int64_t));
    qsort(arr, (size_t)n, sizeof(int64_t), s_cmp);
    double steady = 0;
    if (n >= 10) {
        long a = n / 10;
        long b = n * 9 / 10;
        int64_t span = arr[b] - arr[a];
        steady = span > 0 ? (double)(b - a) * 1000.0 / (double)span : 0;
    }
    qsort(rx.latency, (size_t)n, sizeof(int64_t), s_cmp);
    int64_t p50 = n ? rx.latency[n / 2] : -1;
    int64_t p90 = n ? rx.latency[n * 9 / 10] : -1;
    int64_t p99 = n ? rx.latency[n * 99 / 100] : -1;
    int64_t max = n ? rx.latency[n - 1] : -1;
    double total_s = (double)(last - start) / 1000.0;
    printf(
        "{\"sessions\":%d,\"hooks\":%d,\"events\":%ld,\"stored\":%ld,"
        "\"append_failed\":%ld,\"append_s\":%.2f,\"append_per_s\":%.0f,"
        "\"deliveries\":%ld,\"expected\":%ld,\"total_s\":%.2f,"
        "\"deliveries_per_s\":%.0f,\"steady_per_s\":%.0f,"
        "\"latency_ms\":{\"p50\":%" PRId64 ",\"p90\":%" PRId64
        ",\"p99\":%" PRId64 ",\"max\":%" PRId64 "}}\n",
        sessions, hooks, events, gen.stored, gen.failed, appended_ms / 1000.0,
        appended_ms ? gen.stored * 1000.0 / appended_ms : 0, got, expected,
        total_s, total_s > 0 ? got / total_s : 0, steady, p50, p90, p99, max);
    free(arr);
    cm_ulid_destroy(&ulid);
    cm_client_destroy(&client);
    wd_receiver_destroy(&mhd);
    free(rx.latency);
    free(rx.arrival);
    zsys_shutdown();
    return !do_receive || got >= expected ? 0 : 1;
}
