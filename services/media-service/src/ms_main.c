/*  media-service - Wharf media encryption, upload, download, conversion
    and storage

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Parses configuration, starts the server actor, waits for SIGINT or
    SIGTERM, and tears everything down in reverse order.
*/
#include "ms_classes.h"

int
main(void)
{
    bool sigint_ignored = cm_signal_ignored(SIGINT);
    ms_config_t *config = ms_config_new();
    cm_log_init("media", ms_config_log_level(config));
    cm_net_t *net = cm_net_new(ms_config_fetch_allow(config));
    if (!net) {
        cm_env_fail("MEDIA_FETCH_ALLOW",
                    "must be a comma list of IP addresses and CIDRs");
    }
    cm_net_destroy(&net);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    //  OpenSSL's first fetch of each algorithm, before the worker threads
    if (wa_crypto_warmup() != 0) {
        cm_log_warn("OpenSSL warm-up failed");
    }
    zsys_init();
    if (sigint_ignored) {
        signal(SIGINT, SIG_IGN); //  stopped by SIGTERM only (run.sh)
    }

    ms_server_t *server = ms_server_new(config);
    if (!server) {
        curl_global_cleanup();
        ms_config_destroy(&config);
        return 1;
    }
    cm_log_info("started", "bind=\"%s\" workers=%d storage=%s version=%s",
                ms_config_bind(config), ms_config_workers(config),
                ms_config_storage(config) == MS_STORAGE_S3 ? "S3" : "LOCAL",
                WHARF_VERSION);
    //  czmq's signal handler sets zsys_interrupted on SIGINT/SIGTERM
    while (!zsys_interrupted) {
        zclock_sleep(100);
    }
    cm_log_info("stopping");
    ms_server_destroy(&server);
    curl_global_cleanup();
    ms_config_destroy(&config);
    zsys_shutdown();
    return 0;
}
