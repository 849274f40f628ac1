/*  webhook-dispatcher - delivers stored events to webhook receivers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Parses configuration, runs the delivery loop until SIGINT or SIGTERM,
    then stops gracefully and tears everything down in reverse order.
*/
#include "wd_classes.h"

int
main(void)
{
    bool sigint_ignored = cm_signal_ignored(SIGINT);
    wd_config_t *config = wd_config_new();
    cm_log_init("webhook", config->log_level);
    zsys_init();
    if (sigint_ignored) {
        signal(SIGINT, SIG_IGN); //  stopped by SIGTERM only (run.sh)
    }
    wd_dispatcher_t *dispatcher = wd_dispatcher_new(config);
    if (!dispatcher) {
        wd_config_destroy(&config);
        zsys_shutdown();
        return 1;
    }
    char host[256] = "";
    if (config->global_hook) {
        const char *url =
            json_string_value(json_object_get(config->global_hook, "url"));
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        snprintf(host, sizeof host, "%.*s", (int)strcspn(p, "/?#"), p);
    }
    cm_log_info("started",
                "dispatcher=\"%s\" store=\"%s\" global_hook=\"%s\" "
                "version=%s",
                config->id, config->store_endpoints, host, WHARF_VERSION);
    //  czmq's signal handler sets zsys_interrupted on SIGINT/SIGTERM
    wd_dispatcher_run(dispatcher);
    wd_dispatcher_destroy(&dispatcher);
    wd_config_destroy(&config);
    zsys_shutdown();
    return 0;
}
