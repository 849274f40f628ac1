/*  bench_worker_sessions - memory and start-up time per session in one
    session-worker loop

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Runs N sessions (default 1000; argv[1]) in one sw_loop with the
    connect-probe engine against a local TCP listener (so every session
    holds an open connection, as an idle connected session will), with an
    in-process fake store that answers 200 to every write. Prints the
    heap growth (mallinfo2) and RSS growth per session and how long the
    loop took to bring all of them up. Build without sanitizers for
    meaningful figures:
        cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
        cmake --build build-rel --target bench_worker_sessions
        build-rel/bin/bench_worker_sessions 10000
    Loopback only.
*/
#include "sw_classes.h"
#include <malloc.h>

//  Accept whatever connects, to keep the listen backlog flowing.
static void
s_accept(sw_loop_t *loop, int fd, int revents, void *arg)
{
    zlistx_t *peers = (zlistx_t *)arg;
    while (true) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            return;
        }
        zlistx_add_end(peers, (void *)(intptr_t)(c + 1));
    }
}

static void
s_store(zsock_t *router)
{
    while (zsock_events(router) & ZMQ_POLLIN) {
        cm_msg_t *req = cm_msg_recv(router, true);
        if (req) {
            cm_msg_t *reply = cm_msg_new_reply(req, 200, NULL);
            cm_msg_send(&reply, router);
            cm_msg_destroy(&req);
        }
    }
}

static long
s_rss_kb(void)
{
    long pages = 0;
    long rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    if (n < 1 || n > 100000) {
        fprintf(stderr, "usage: bench_worker_sessions [1..100000]\n");
        return 1;
    }
    cm_log_init("bench", "warn");
    int lsock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(lsock, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(lsock, 4096) != 0 ||
        getsockname(lsock, (struct sockaddr *)&a, &alen) != 0) {
        perror("listen");
        return 1;
    }
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ws/chat", ntohs(a.sin_port));
    setenv("WA_URL", url, 1);
    setenv("WORKER_ID", "bench", 1);
    sw_config_t *config = sw_config_new();
    sw_loop_t *loop = sw_loop_new();
    zsock_t *router = zsock_new_router("inproc://bench_store");
    cm_client_t *store = cm_client_new("inproc://bench_store");
    sw_engine_t *engine = sw_probe_new(config);
    sw_host_t *host = sw_host_new(store, loop, config, engine);
    zlistx_t *peers = zlistx_new();
    sw_loop_fd_add(loop, lsock, POLLIN, s_accept, peers);

    //  Warm up allocator and sockets with one session.
    sw_session_t **sessions = cm_alloc((size_t)(n + 1) * sizeof *sessions);
    json_t *cfg = json_object();
    sessions[n] = sw_session_new(host, "warmup", 1, cfg);
    sw_session_start(sessions[n]);
    for (int i = 0; i < 50; i++) {
        s_store(router);
        sw_loop_once(loop, 2);
    }

    struct mallinfo2 m0 = mallinfo2();
    long rss0 = s_rss_kb();
    int64_t t0 = cm_mono_ms();
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "bench-%06d", i);
        sessions[i] = sw_session_new(host, name, 1, cfg);
        sw_session_start(sessions[i]);
    }
    //  Until every session is connected and its STARTING write answered.
    int64_t until = cm_mono_ms() + 60000;
    while (cm_mono_ms() < until) {
        s_store(router);
        sw_loop_once(loop, 1);
        if (zlistx_size(peers) >= (size_t)n + 1) {
            bool idle = cm_client_pending(store) == 0;
            for (int i = 0; idle && i < n; i++) {
                idle = sw_session_queued(sessions[i]) == 0;
            }
            if (idle) {
                break;
            }
        }
    }
    int64_t took = cm_mono_ms() - t0;
    struct mallinfo2 m1 = mallinfo2();
    long rss1 = s_rss_kb();
    size_t connected = zlistx_size(peers) - 1;
    printf("sessions=%d connected=%zu took_ms=%" PRId64 "\n", n, connected,
           took);
    printf("heap_bytes_per_session=%.0f rss_bytes_per_session=%.0f\n",
           (double)(m1.uordblks - m0.uordblks) / n,
           (double)(rss1 - rss0) * 1024 / n);

    for (int i = 0; i <= n; i++) {
        sw_session_finish(&sessions[i], 0, NULL, NULL);
    }
    free(sessions);
    json_decref(cfg);
    for (void *p = zlistx_first(peers); p; p = zlistx_next(peers)) {
        close((int)(intptr_t)p - 1);
    }
    zlistx_destroy(&peers);
    sw_loop_fd_remove(loop, lsock);
    close(lsock);
    sw_host_destroy(&host);
    cm_client_destroy(&store);
    sw_engine_destroy(&engine);
    zsock_destroy(&router);
    sw_loop_destroy(&loop);
    sw_config_destroy(&config);
    zsys_shutdown();
    return connected == (size_t)n ? 0 : 1;
}
