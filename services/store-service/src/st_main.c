/*  store-service - the only Wharf process that talks to PostgreSQL

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Parses configuration, applies the embedded schema migrations (waiting
    for PostgreSQL if it is not up yet), starts the server actor with its
    worker pool, waits for SIGINT or SIGTERM, and tears everything down in
    reverse order.
*/
#include "st_classes.h"

//  Apply migrations, retrying while PostgreSQL is unreachable. Returns 0
//  when the schema is current, -1 on a failed migration or interrupt.
static int
s_migrate(const st_config_t *config)
{
    st_db_t *db = st_db_new(st_config_database_url(config), 0);
    int rc = -1;
    while (!zsys_interrupted) {
        if (st_db_connect(db) == 0) {
            int applied = 0;
            st_migrate_result_t result = st_migrate_run(
                db, st_migrations, st_migrations_count, &applied);
            if (result == ST_MIGRATE_OK) {
                cm_log_info("database schema is current",
                            "applied=%d "
                            "known=%zu",
                            applied, st_migrations_count);
                rc = 0;
                break;
            }
            if (result == ST_MIGRATE_FAILED) {
                break;
            }
        }
        zclock_sleep(100);
    }
    st_db_destroy(&db);
    return rc;
}

int
main(void)
{
    bool sigint_ignored = cm_signal_ignored(SIGINT);
    st_config_t *config = st_config_new();
    cm_log_init("store", st_config_log_level(config));
    zsys_init();
    if (sigint_ignored) {
        signal(SIGINT, SIG_IGN); //  stopped by SIGTERM only (run.sh)
    }
    char host[64] = "store";
    gethostname(host, sizeof host - 1);
    char *store_id = cm_sprintf("%s-%d", host, (int)getpid());

    int rc = 0;
    st_server_t *server = NULL;
    if (s_migrate(config) != 0) {
        rc = zsys_interrupted ? 0 : 1;
        goto cleanup;
    }
    server = st_server_new(config, store_id);
    if (!server) {
        rc = 1;
        goto cleanup;
    }
    cm_log_info("started", "bind=\"%s\" pub=\"%s\" pool=%d version=%s id=%s",
                st_config_bind(config), st_config_pub_bind(config),
                st_config_pool_size(config), WHARF_VERSION, store_id);
    //  czmq's signal handler sets zsys_interrupted on SIGINT/SIGTERM
    while (!zsys_interrupted) {
        zclock_sleep(100);
    }
    cm_log_info("stopping");
cleanup:
    st_server_destroy(&server);
    free(store_id);
    st_config_destroy(&config);
    zsys_shutdown();
    return rc;
}
