/*  st_migrate - apply the embedded SQL migrations at start

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Migrations are services/store-service/sql/NNNN_name.sql, embedded by
    the build into st_migrations[] (sorted by version). At start every
    store-service takes a PostgreSQL advisory lock, creates
    schema_migrations if needed, and applies each migration not recorded
    there, in order, each in its own transaction together with its
    schema_migrations row. Two store-services starting together therefore
    apply each migration exactly once; the second waits for the lock and
    then finds nothing to do. A migration must be transactional (no
    CREATE INDEX CONCURRENTLY) and is never edited once landed: add a new
    file instead.
*/
#ifndef ST_MIGRATE_H_INCLUDED
#define ST_MIGRATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Advisory lock key held while migrating ("Wharf" in ASCII).
#define ST_MIGRATE_LOCK_KEY 0x5768617266LL

//  One migration file.
typedef struct {
    const char *version; //  "0001"
    const char *name;    //  "core"
    const char *sql;     //  file contents
} st_migration_t;

//  The embedded migrations (generated), ending with a NULL row.
extern const st_migration_t st_migrations[];
extern const size_t st_migrations_count;

//  Outcome of st_migrate_run.
typedef enum {
    ST_MIGRATE_OK = 0,     //  schema is current
    ST_MIGRATE_RETRY = -1, //  database unreachable: try again later
    ST_MIGRATE_FAILED = -2 //  a migration failed: fatal
} st_migrate_result_t;

typedef struct _st_db_t st_db_t;

//  Apply pending migrations from `list` (`count` rows) over the connected
//  `db`. Sets *applied to the number applied when not NULL.
st_migrate_result_t st_migrate_run(st_db_t *db, const st_migration_t *list,
                                   size_t count, int *applied);

//  True if versions are strictly increasing, four digits, and every SQL
//  text is non-empty.
bool st_migrate_valid(const st_migration_t *list, size_t count);

void st_migrate_test(bool verbose);

#endif
