/*  st_migrate - apply the embedded SQL migrations at start

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

bool
st_migrate_valid(const st_migration_t *list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const st_migration_t *m = &list[i];
        if (!m->version || strlen(m->version) != 4 || !m->name || !*m->name ||
            !m->sql || !*m->sql) {
            return false;
        }
        for (int k = 0; k < 4; k++) {
            if (!isdigit((unsigned char)m->version[k])) {
                return false;
            }
        }
        if (i > 0 && strcmp(list[i - 1].version, m->version) >= 0) {
            return false;
        }
    }
    return true;
}

//  Failure outcome for the last database error.
static st_migrate_result_t
s_failure(st_db_t *db)
{
    return st_db_connected(db) ? ST_MIGRATE_FAILED : ST_MIGRATE_RETRY;
}

static st_migrate_result_t
s_apply(st_db_t *db, const st_migration_t *m)
{
    if (st_db_begin(db) != 0) {
        return s_failure(db);
    }
    //  Multi-statement text goes through the simple query protocol
    if (st_db_run(db, m->sql) != 0) {
        cm_log_error("could not apply migration",
                     "version=%s name=%s "
                     "sqlstate=%s reason=\"%s\"",
                     m->version, m->name, st_db_sqlstate(db),
                     st_db_error_reason(db));
        st_migrate_result_t rc = s_failure(db);
        st_db_rollback(db);
        return rc;
    }
    const char *params[] = {m->version, m->name};
    PGresult *res = st_db_query(
        db, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
        params);
    if (!res) {
        st_migrate_result_t rc = s_failure(db);
        st_db_rollback(db);
        return rc;
    }
    PQclear(res);
    if (st_db_commit(db) != 0) {
        return s_failure(db);
    }
    cm_log_info("applied migration", "version=%s name=%s", m->version, m->name);
    return ST_MIGRATE_OK;
}

st_migrate_result_t
st_migrate_run(st_db_t *db, const st_migration_t *list, size_t count,
               int *applied)
{
    assert(db && list);
    if (applied) {
        *applied = 0;
    }
    if (!st_migrate_valid(list, count)) {
        cm_log_error("could not migrate: embedded migrations are invalid");
        return ST_MIGRATE_FAILED;
    }
    if (!st_db_connected(db)) {
        return ST_MIGRATE_RETRY;
    }
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%lld)",
             (long long)ST_MIGRATE_LOCK_KEY);
    if (st_db_run(db, lock) != 0) {
        return s_failure(db);
    }
    st_migrate_result_t rc = ST_MIGRATE_OK;
    zhashx_t *done = zhashx_new();
    PGresult *res = NULL;
    if (st_db_run(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version text PRIMARY KEY,"
                      " name text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())") != 0) {
        rc = s_failure(db);
        goto cleanup;
    }
    res = st_db_query(db, "SELECT version FROM schema_migrations", 0, NULL);
    if (!res) {
        rc = s_failure(db);
        goto cleanup;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        zhashx_insert(done, PQgetvalue(res, i, 0), (void *)1);
    }
    for (size_t i = 0; i < count && rc == ST_MIGRATE_OK; i++) {
        if (zhashx_lookup(done, list[i].version)) {
            continue;
        }
        rc = s_apply(db, &list[i]);
        if (rc == ST_MIGRATE_OK && applied) {
            (*applied)++;
        }
    }
    if (rc == ST_MIGRATE_OK && (size_t)PQntuples(res) > count) {
        cm_log_warn("database schema is newer than this store-service",
                    "known=%zu applied=%d", count, PQntuples(res));
    }
cleanup:
    PQclear(res);
    zhashx_destroy(&done);
    if (st_db_connected(db)) {
        snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(%lld)",
                 (long long)ST_MIGRATE_LOCK_KEY);
        st_db_run(db, lock);
    }
    return rc;
}

void
st_migrate_test(bool verbose)
{
    printf(" * st_migrate: ");
    //  The embedded list is well-formed and starts with the core schema
    assert(st_migrate_valid(st_migrations, st_migrations_count));
    assert(st_migrations_count >= 1);
    assert(cm_streq(st_migrations[0].version, "0001"));
    assert(cm_streq(st_migrations[0].name, "core"));
    assert(strstr(st_migrations[0].sql, "CREATE TABLE sessions"));
    assert(st_migrations[st_migrations_count].version == NULL);

    st_migration_t bad_order[] = {{"0002", "b", "SELECT 1"},
                                  {"0001", "a", "SELECT 1"}};
    assert(!st_migrate_valid(bad_order, 2));
    st_migration_t dup[] = {{"0001", "a", "SELECT 1"}, {"0001", "b", "x"}};
    assert(!st_migrate_valid(dup, 2));
    st_migration_t bad_ver[] = {{"01a1", "a", "SELECT 1"}};
    assert(!st_migrate_valid(bad_ver, 1));
    st_migration_t empty[] = {{"0001", "a", ""}};
    assert(!st_migrate_valid(empty, 1));

    //  Without a database the caller is told to retry
    cm_log_init(NULL, "error");
    st_db_t *db = st_db_new("postgresql://nobody@127.0.0.1:1/none", 0);
    assert(st_migrate_run(db, st_migrations, st_migrations_count, NULL) ==
           ST_MIGRATE_RETRY);
    assert(st_migrate_run(db, bad_order, 2, NULL) == ST_MIGRATE_FAILED);
    st_db_destroy(&db);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
