/*  store-service - the only Wharf process that talks to PostgreSQL

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Parses configuration, applies the embedded schema migrations (waiting
    for PostgreSQL if it is not up yet), seals the device secrets not yet
    under the current key (st_devices_reseal; exits 78 when some are
    sealed with a key it does not hold), starts the server actor with its
    worker pool, waits for SIGINT or SIGTERM, and tears everything down in
    reverse order.
*/
#include "st_classes.h"

//  Seal again the device secrets not under the current key (plaintext
//  rows, rows of STORE_SECRET_KEY_OLD) over the connected `db`. Returns
//  0, 1 to try again, or CM_EX_CONFIG when rows are sealed with a key
//  this store does not hold.
static int
s_reseal(st_db_t *db, const st_seal_t *seal)
{
    int64_t count = 0;
    int64_t start = zclock_mono();
    int result = st_devices_reseal(db, seal, &count);
    if (result == ST_DEVICES_RESEAL_KEY) {
        return CM_EX_CONFIG;
    }
    if (result != 0) {
        return 1;
    }
    const char *kid = st_seal_kid(seal);
    if (!kid) {
        cm_log_warn("device secrets are stored unencrypted "
                    "(STORE_SECRETS_PLAINTEXT)",
                    "rows_opened=%" PRId64, count);
    } else {
        const char *old = st_seal_old_kid(seal);
        cm_log_info("device secrets sealed",
                    "kid=%s old_kid=%s rows_resealed=%" PRId64 " ms=%" PRId64,
                    kid, old ? old : "none", count, zclock_mono() - start);
    }
    return 0;
}

//  Apply migrations, then seal again the device secrets (s_reseal),
//  retrying while PostgreSQL is unreachable. Returns 0 when done, 1 on a
//  failed migration, CM_EX_CONFIG on rows under a key we lack, -1 on
//  interrupt.
static int
s_prepare(const st_config_t *config)
{
    st_db_t *db = st_db_new(st_config_database_url(config), 0);
    int rc = -1;
    bool migrated = false;
    while (!zsys_interrupted) {
        if (st_db_connect(db) == 0 && !migrated) {
            int applied = 0;
            st_migrate_result_t result = st_migrate_run(
                db, st_migrations, st_migrations_count, &applied);
            if (result == ST_MIGRATE_OK) {
                cm_log_info("database schema is current",
                            "applied=%d "
                            "known=%zu",
                            applied, st_migrations_count);
                migrated = true;
            } else if (result == ST_MIGRATE_FAILED) {
                rc = 1;
                break;
            }
        }
        if (migrated && st_db_connected(db)) {
            int sealed = s_reseal(db, st_config_seal(config));
            if (sealed != 1) {
                rc = sealed;
                break;
            }
        }
        zclock_sleep(100);
    }
    st_db_destroy(&db);
    return rc;
}

int
main(int argc, char **argv)
{
    bool sigint_ignored = cm_signal_ignored(SIGINT);
    //  `store-service --reseal`: migrate, seal again, exit (key rotation)
    bool reseal_only = argc == 2 && cm_streq(argv[1], "--reseal");
    if (argc > 1 && !reseal_only) {
        fprintf(stderr, "usage: store-service [--reseal]\n");
        return 64;
    }
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
    int prepared = s_prepare(config);
    if (prepared != 0 || reseal_only) {
        rc = prepared < 0 ? 0 : prepared;
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
