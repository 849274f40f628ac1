/*  media-service - Wharf media encryption, upload and download

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
    zsys_init();
    if (sigint_ignored) {
        signal(SIGINT, SIG_IGN); //  stopped by SIGTERM only (run.sh)
    }

    zsock_t *router = ms_server_bind(ms_config_bind(config));
    if (!router) {
        ms_config_destroy(&config);
        return 1;
    }
    zactor_t *server = zactor_new(ms_server_actor, router);
    cm_log_info("started", "bind=\"%s\" version=%s", ms_config_bind(config),
                WHARF_VERSION);
    //  czmq's signal handler sets zsys_interrupted on SIGINT/SIGTERM
    while (!zsys_interrupted) {
        zclock_sleep(100);
    }
    cm_log_info("stopping");
    zactor_destroy(&server);
    ms_config_destroy(&config);
    zsys_shutdown();
    return 0;
}
