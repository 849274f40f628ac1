/*  wa-sim - a WhatsApp server simulator for offline tests

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Parses configuration, starts the server on one zloop, prints one JSON
    line with its URLs and root key, serves until SIGINT or SIGTERM, and
    tears everything down in reverse order.
*/
#include "sim_classes.h"
#include "sim_server.h"

//  Write text to path (replacing it). Returns 0 or -1 (logged).
static int
s_write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    if (!file || fputs(text, file) < 0) {
        cm_log_error("could not write file", "path=\"%s\" reason=\"%s\"", path,
                     strerror(errno));
        if (file) {
            fclose(file);
        }
        return -1;
    }
    return fclose(file) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    sim_config_t *config = sim_config_new(argc, argv);
    cm_log_init("wa-sim", config->log_level);
    zsys_init();
    zsys_set_logstream(stderr);

    zloop_t *loop = zloop_new();
    sim_server_t *server = sim_server_new(loop, config);
    if (!server) {
        zloop_destroy(&loop);
        sim_config_destroy(&config);
        zsys_shutdown();
        return 1;
    }
    json_t *info = sim_server_info(server);
    char *line = json_dumps(info, JSON_COMPACT);
    json_decref(info);
    printf("%s\n", line);
    fflush(stdout);
    int rc = 0;
    if (config->info_file) {
        char *text = cm_sprintf("%s\n", line);
        rc = s_write_file(config->info_file, text);
        free(text);
    }
    if (rc == 0 && config->root_key_file) {
        char root[2 * SIM_KEY_LEN + 2];
        cm_hex(sim_server_root_key(server), SIM_KEY_LEN, root);
        strcat(root, "\n");
        rc = s_write_file(config->root_key_file, root);
    }
    free(line);
    if (rc == 0) {
        cm_log_info("started", "version=%s", WHARF_VERSION);
        //  Returns on SIGINT/SIGTERM (czmq's handler) or a handler error.
        zloop_start(loop);
        cm_log_info("stopping");
    }
    sim_server_destroy(&server);
    zloop_destroy(&loop);
    sim_config_destroy(&config);
    zsys_shutdown();
    return rc ? 1 : 0;
}
