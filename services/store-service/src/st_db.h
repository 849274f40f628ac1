/*  st_db - one PostgreSQL connection with prepared statements

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Owned by one worker actor. Statements registered with st_db_prepare
    are prepared again on every (re)connect. When the server goes away the
    connection is dropped and st_db_connect retries with exponential
    backoff (ST_DB_BACKOFF_MIN_MS .. ST_DB_BACKOFF_MAX_MS); callers answer
    503 meanwhile. After a failed call, st_db_error_status maps the
    SQLSTATE to a bus status (see st_db.c) so handlers reply consistently.
*/
#ifndef ST_DB_H_INCLUDED
#define ST_DB_H_INCLUDED

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#define ST_DB_BACKOFF_MIN_MS 100
#define ST_DB_BACKOFF_MAX_MS 2000
//  Seconds libpq waits for a TCP connection.
#define ST_DB_CONNECT_TIMEOUT "3"

typedef struct _st_db_t st_db_t;

//  New, unconnected. `url` is a libpq URI or key=value string; statements
//  get `statement_timeout_ms` (0 = none). Caller owns return value.
st_db_t *st_db_new(const char *url, int statement_timeout_ms);

void st_db_destroy(st_db_t **self_p);

//  Register a statement `name` prepared on every connection (and at once
//  when connected). Both strings are copied.
void st_db_prepare(st_db_t *self, const char *name, const char *sql);

//  Connect unless connected, at most once per backoff interval. Returns 0
//  when connected (statements prepared), -1 otherwise.
int st_db_connect(st_db_t *self);

//  Connect now, ignoring the backoff interval. Returns 0 or -1.
int st_db_connect_now(st_db_t *self);

//  True while a connection is up.
bool st_db_connected(st_db_t *self);

//  Execute prepared statement `name` with text parameters (NULL = SQL
//  NULL). Returns a result with status TUPLES_OK or COMMAND_OK (caller
//  PQclears it), or NULL on any failure (then see st_db_error_*).
PGresult *st_db_exec(st_db_t *self, const char *name, int nparams,
                     const char *const *values);

//  As st_db_exec for SQL text (not prepared).
PGresult *st_db_query(st_db_t *self, const char *sql, int nparams,
                      const char *const *values);

//  Run SQL text with no result rows wanted. Returns 0 or -1.
int st_db_run(st_db_t *self, const char *sql);

//  BEGIN / COMMIT / ROLLBACK. Returns 0 or -1 (rollback cannot fail for
//  the caller: a broken connection ends the transaction anyway).
int st_db_begin(st_db_t *self);
int st_db_commit(st_db_t *self);
void st_db_rollback(st_db_t *self);

//  True while a transaction is open (or failed and not yet rolled back).
bool st_db_in_transaction(st_db_t *self);

//  Group commit: one transaction for several requests. st_db_group_begin
//  opens it; until st_db_group_end, st_db_begin and st_db_commit join it
//  (no statement) and st_db_rollback ends it for all of them: every
//  statement after is refused (503), so the caller can run each request
//  again by itself. st_db_group_end commits, and returns 0 only when
//  nothing was rolled back and the COMMIT succeeded (else it rolls back,
//  -1). Returns 0 or -1.
int st_db_group_begin(st_db_t *self);
int st_db_group_end(st_db_t *self);

//  True between st_db_group_begin and st_db_group_end.
bool st_db_grouped(st_db_t *self);

//  After a failure: bus status for it (400 bad data, 404 missing
//  reference, 409 conflict, 503 unavailable or retryable, 504 statement
//  timeout, 500 otherwise), a short reason, the SQLSTATE ("" when the
//  connection failed), and whether running the transaction again may work
//  (serialization failure or deadlock).
int st_db_error_status(st_db_t *self);
const char *st_db_error_reason(st_db_t *self);
const char *st_db_sqlstate(st_db_t *self);
bool st_db_retryable(st_db_t *self);

//  Map a SQLSTATE to a bus status (pure; for tests and callers).
int st_db_status_for(const char *sqlstate);

//  The raw connection (NULL when down), for the migration runner only.
PGconn *st_db_conn(st_db_t *self);

//  Value of (row, col) parsed as JSON; SQL NULL gives json null, bad JSON
//  gives NULL. Caller owns return value.
json_t *st_db_json(const PGresult *res, int row, int col);

//  Value of (row, col) as an integer (0 when NULL or not a number).
int64_t st_db_int(const PGresult *res, int row, int col);

//  Value of (row, col) as text, NULL when SQL NULL. Borrowed from res.
const char *st_db_text(const PGresult *res, int row, int col);

void st_db_test(bool verbose);

#endif
