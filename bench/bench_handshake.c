/*  bench_handshake - Noise handshakes per second and idle connection memory

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    1. in-memory: initiator and responder wa_noise objects in one thread,
       full handshake including the certificate chain check.
    2. loopback: wa_conn clients against a wa_conn server over
       ws://127.0.0.1 (the server runs in a forked child, so both sides
       have a core), with a fixed number of handshakes in flight.
    3. idle: open many client connections, then report heap and RSS per
       idle connection on the client side; the same over wss:// (TLS,
       self-signed server certificate).

    Usage: bench_handshake [in-memory] [loopback] [idle] [idle over TLS]
*/
#include <malloc.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cm/cm.h"
#include "wa/wa_cert.h"
#include "wa/wa_conn.h"
#include "wa/wa_crypto.h"
#include "wa/wa_noise.h"
#include "wa/wa_payload.h"
#include "wa/wa_ws.h"

#define BENCH_IN_FLIGHT 32

typedef struct {
    uint8_t root_priv[32];   //  test root
    uint8_t root_pub[32];    //  its public key
    uint8_t server_priv[32]; //  server static key
    uint8_t server_pub[32];  //  its public key
    uint8_t client_priv[32]; //  client noise key
    uint8_t *cert;           //  server chain
    size_t cert_len;         //  its length
    uint8_t *payload;        //  client payload
    size_t payload_len;      //  its length
} keys_t;

static const uint8_t s_intro[4] = {'W', 'A', 6, 3};

static void
s_in_memory(keys_t *k, int count)
{
    int64_t start = cm_mono_ms();
    for (int i = 0; i < count; i++) {
        wa_noise_t *c =
            wa_noise_new(WA_NOISE_INITIATOR, k->client_priv, s_intro, 4);
        wa_noise_t *s =
            wa_noise_new(WA_NOISE_RESPONDER, k->server_priv, s_intro, 4);
        wa_noise_set_root(c, k->root_pub);
        size_t len;
        uint8_t *m = wa_noise_client_hello(c, &len);
        if (wa_noise_read_client_hello(s, m, len)) {
            abort();
        }
        free(m);
        m = wa_noise_server_hello(s, k->cert, k->cert_len, &len);
        if (wa_noise_read_server_hello(c, m, len)) {
            abort();
        }
        free(m);
        m = wa_noise_client_finish(c, k->payload, k->payload_len, &len);
        if (wa_noise_read_client_finish(s, m, len)) {
            abort();
        }
        free(m);
        wa_noise_destroy(&c);
        wa_noise_destroy(&s);
    }
    int64_t ms = cm_mono_ms() - start;
    printf("in-memory: %d handshakes in %lld ms = %.0f handshakes/s\n", count,
           (long long)ms, ms ? count * 1000.0 / (double)ms : 0.0);
}

//  ---------------------------------------------------------------------
//  Server child

typedef struct {
    keys_t *keys;      //  shared keys
    wa_conn_t **conns; //  open server connections
    size_t count;      //  used slots
    size_t cap;        //  allocated slots
} server_t;

static void
s_server_event(wa_conn_t *conn, wa_conn_event_t event, const uint8_t *data,
               size_t len, void *arg)
{
    server_t *srv = arg;
    if (event == WA_CONN_CLOSED) {
        for (size_t i = 0; i < srv->count; i++) {
            if (srv->conns[i] == conn) {
                srv->conns[i] = srv->conns[--srv->count];
                break;
            }
        }
        wa_conn_destroy(&conn);
    }
}

static void
s_server_accept(wa_ws_conn_t *ws_conn, void *arg)
{
    server_t *srv = arg;
    wa_conn_t *conn =
        wa_conn_accept(ws_conn, srv->keys->server_priv, srv->keys->cert,
                       srv->keys->cert_len, s_server_event, srv);
    if (srv->count == srv->cap) {
        srv->cap = srv->cap ? srv->cap * 2 : 64;
        srv->conns = realloc(srv->conns, srv->cap * sizeof(wa_conn_t *));
        if (!srv->conns) {
            abort();
        }
    }
    srv->conns[srv->count++] = conn;
}

static void
s_server_main(keys_t *keys, int port_pipe)
{
    wa_ws_t *ws = wa_ws_new();
    server_t srv = {.keys = keys};
    char *cert, *key;
    if (wa_ws_self_signed("localhost", &cert, &key) != 0) {
        fprintf(stderr, "bench_handshake: could not make a certificate\n");
        exit(1);
    }
    int ports[2];
    ports[0] = wa_ws_listen(ws, "127.0.0.1", 0, NULL, s_server_accept, &srv);
    ports[1] = wa_ws_listen_tls(ws, "127.0.0.1", 0, NULL, cert, key,
                                s_server_accept, &srv);
    if (write(port_pipe, ports, sizeof(ports)) != sizeof(ports)) {
        _exit(1);
    }
    close(port_pipe);
    while (true) {
        wa_ws_run(ws, 1000);
        if (getppid() == 1) {
            break;
        }
    }
    _exit(0);
}

//  ---------------------------------------------------------------------
//  Clients

typedef struct {
    wa_ws_t *ws;         //  client loop
    keys_t *keys;        //  shared keys
    wa_conn_opts_t opts; //  connect options
    int started;         //  connections started
    int opened;          //  handshakes completed
    int failed;          //  connections that closed early
    int in_flight;       //  handshakes running
    bool keep;           //  keep connections open (idle test)
    wa_conn_t **kept;    //  kept connections
} client_t;

static void s_client_event(wa_conn_t *conn, wa_conn_event_t event,
                           const uint8_t *data, size_t len, void *arg);

static void
s_client_start(client_t *cl)
{
    wa_conn_t *conn =
        wa_conn_connect(cl->ws, cl->keys->client_priv, cl->keys->payload,
                        cl->keys->payload_len, &cl->opts, s_client_event, cl);
    if (!conn) {
        abort();
    }
    if (cl->keep) {
        cl->kept[cl->started] = conn;
    }
    cl->started++;
    cl->in_flight++;
}

static void
s_client_event(wa_conn_t *conn, wa_conn_event_t event, const uint8_t *data,
               size_t len, void *arg)
{
    client_t *cl = arg;
    if (event == WA_CONN_OPEN) {
        cl->opened++;
        cl->in_flight--;
        if (!cl->keep) {
            wa_conn_destroy(&conn);
        }
    } else if (event == WA_CONN_CLOSED) {
        cl->failed++;
        cl->in_flight--;
        if (!cl->keep) {
            wa_conn_destroy(&conn);
        }
    }
}

static long
s_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void
s_loopback(keys_t *keys, const char *scheme, int port, int count, int idle)
{
    client_t cl = {.keys = keys};
    cl.ws = wa_ws_new();
    char *url = cm_sprintf("%s://127.0.0.1:%d/ws/chat", scheme, port);
    cl.opts.url = url;
    cl.opts.root_pub = keys->root_pub;
    cl.opts.ws.insecure = true;

    int64_t start = cm_mono_ms();
    while (cl.opened + cl.failed < count) {
        while (cl.started < count && cl.in_flight < BENCH_IN_FLIGHT) {
            s_client_start(&cl);
        }
        wa_ws_run(cl.ws, 100);
    }
    int64_t ms = cm_mono_ms() - start;
    printf("loopback %s: %d handshakes (%d failed) in %lld ms = %.0f "
           "handshakes/s, %d in flight\n",
           scheme, cl.opened, cl.failed, (long long)ms,
           ms ? cl.opened * 1000.0 / (double)ms : 0.0, BENCH_IN_FLIGHT);

    if (idle > 0) {
        //  Let the loop settle, then measure.
        for (int i = 0; i < 20; i++) {
            wa_ws_run(cl.ws, 10);
        }
        struct mallinfo2 before = mallinfo2();
        long rss_before = s_rss_kb();
        cl.keep = true;
        cl.kept = calloc((size_t)idle, sizeof(wa_conn_t *));
        cl.started = cl.opened = cl.failed = cl.in_flight = 0;
        start = cm_mono_ms();
        while (cl.opened + cl.failed < idle) {
            while (cl.started < idle && cl.in_flight < BENCH_IN_FLIGHT) {
                s_client_start(&cl);
            }
            wa_ws_run(cl.ws, 100);
        }
        for (int i = 0; i < 50; i++) {
            wa_ws_run(cl.ws, 10);
        }
        ms = cm_mono_ms() - start;
        struct mallinfo2 after = mallinfo2();
        long rss_after = s_rss_kb();
        double heap = (double)(after.uordblks - before.uordblks) / (double)idle;
        double rss = (double)(rss_after - rss_before) * 1024.0 / (double)idle;
        printf("idle %s: %d client connections open (%d failed) in %lld ms; "
               "heap %.0f B/connection, RSS %.0f B/connection\n",
               scheme, cl.opened, cl.failed, (long long)ms, heap, rss);
        for (int i = 0; i < idle; i++) {
            wa_conn_destroy(&cl.kept[i]);
        }
        free(cl.kept);
        for (int i = 0; i < 20; i++) {
            wa_ws_run(cl.ws, 10);
        }
    }
    wa_ws_destroy(&cl.ws);
    free(url);
}

int
main(int argc, char **argv)
{
    int mem_count = argc > 1 ? atoi(argv[1]) : 2000;
    int loop_count = argc > 2 ? atoi(argv[2]) : 2000;
    int idle_count = argc > 3 ? atoi(argv[3]) : 1000;
    int tls_idle_count = argc > 4 ? atoi(argv[4]) : 500;
    cm_log_init("bench", "warn");

    keys_t keys;
    memset(&keys, 0, sizeof(keys));
    if (wa_x25519_keypair(keys.root_priv, keys.root_pub) ||
        wa_x25519_keypair(keys.server_priv, keys.server_pub)) {
        return 1;
    }
    uint8_t client_pub[32];
    if (wa_x25519_keypair(keys.client_priv, client_pub)) {
        return 1;
    }
    keys.cert =
        wa_cert_chain_issue(keys.root_priv, keys.server_pub,
                            (uint64_t)(cm_now_ms() / 1000), &keys.cert_len);
    wa_payload_t *settings = wa_payload_new();
    wa_payload_login_t login;
    wa_payload_login_init(&login, 15551234567ull, 1);
    keys.payload = wa_payload_login(settings, &login, &keys.payload_len);
    wa_payload_destroy(&settings);

    if (mem_count > 0) {
        s_in_memory(&keys, mem_count);
    }
    if (loop_count > 0 || idle_count > 0) {
        int fds[2];
        if (pipe(fds)) {
            return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            return 1;
        }
        if (pid == 0) {
            close(fds[0]);
            s_server_main(&keys, fds[1]);
        }
        close(fds[1]);
        int ports[2] = {0, 0};
        if (read(fds[0], ports, sizeof(ports)) != sizeof(ports) ||
            ports[0] <= 0 || ports[1] <= 0) {
            fprintf(stderr, "server did not start\n");
            return 1;
        }
        close(fds[0]);
        s_loopback(&keys, "ws", ports[0], loop_count, idle_count);
        if (tls_idle_count > 0) {
            s_loopback(&keys, "wss", ports[1], loop_count / 4, tls_idle_count);
        }
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    free(keys.cert);
    free(keys.payload);
    return 0;
}
