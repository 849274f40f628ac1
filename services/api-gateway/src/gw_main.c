/*  api-gateway - Wharf HTTP API (WAHA /api, Wawp /v2)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Parses configuration, starts the core actor and the HTTP server, waits
    for SIGINT or SIGTERM, then drains and tears down in reverse order.
    `api-gateway --openapi` prints the OpenAPI document (default
    configuration) and exits, for tools and tests.
*/
#include "gw_classes.h"
#include "wa/wa_crypto.h"

#include <malloc.h>

//  ZeroMQ sockets beyond one per handler thread (core, bus, czmq).
#define GW_MAIN_SPARE_SOCKETS 256

int
main(int argc, char **argv)
{
    if (argc == 2 && streq(argv[1], "--openapi")) {
        json_t *doc = gw_api_openapi(NULL);
        int rc = json_dumpf(doc, stdout, JSON_INDENT(1)) == 0 ? 0 : 1;
        json_decref(doc);
        putchar('\n');
        return rc;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: api-gateway [--openapi]\n");
        return 64;
    }
    bool sigint_ignored = cm_signal_ignored(SIGINT);
    cm_log_init("gateway", "info");
    gw_config_t *config = gw_config_new();
    cm_log_init(NULL, gw_config_log_level(config));
    //  Every HTTP connection holds a descriptor and every handler thread
    //  an inproc link (a ZeroMQ socket): make room for them.
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            cm_log_warn("could not raise the open file limit", "reason=\"%s\"",
                        strerror(errno));
        }
    }
    zsys_set_max_sockets((size_t)gw_config_handler_threads(config) +
                         GW_MAIN_SPARE_SOCKETS);
    //  Large bodies always get their own mappings, given back when freed
    //  (glibc would otherwise raise its mmap threshold after the first
    //  free and keep later bodies in the heap), and few arenas.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_ARENA_MAX, 4);
    zsys_init();
    if (sigint_ignored) {
        signal(SIGINT, SIG_IGN); //  stopped by SIGTERM only (run.sh)
    }
    //  OpenSSL's first fetch of each algorithm (the key digests, ...),
    //  before the handler threads
    if (wa_crypto_warmup() != 0) {
        cm_log_warn("OpenSSL warm-up failed");
    }

    zactor_t *core = zactor_new(gw_core_actor, config);
    char *status = zstr_recv(core);
    bool ready = status && streq(status, "READY");
    zstr_free(&status);
    if (!ready) {
        zactor_destroy(&core);
        gw_config_destroy(&config);
        return 1;
    }
    gw_http_t *http = gw_http_new(config, -1);
    if (!http) {
        zactor_destroy(&core);
        gw_config_destroy(&config);
        return 1;
    }
    cm_log_info("started", "hostname=%s port=%d version=%s",
                gw_config_hostname(config), gw_http_port(http), WHARF_VERSION);
    //  czmq's signal handler sets zsys_interrupted on SIGINT/SIGTERM
    while (!zsys_interrupted) {
        zclock_sleep(100);
    }
    cm_log_info("stopping");
    //  Answer whatever handlers wait for, then let MHD finish them.
    zstr_send(core, "DRAIN");
    zsock_wait(core);
    gw_http_destroy(&http);
    zactor_destroy(&core);
    gw_config_destroy(&config);
    zsys_shutdown();
    return 0;
}
