/*  st_db - one PostgreSQL connection with prepared statements

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

//  A statement prepared on every connection.
typedef struct {
    char *name; //  statement name
    char *sql;  //  its text
} s_stmt_t;

struct _st_db_t {
    char *url;             //  connection string (secret)
    int statement_timeout; //  ms, 0 = none
    PGconn *conn;          //  NULL while down
    zlistx_t *stmts;       //  s_stmt_t, owned
    int64_t next_attempt;  //  monotonic ms of the next connect try
    int backoff;           //  current backoff, ms
    bool ever_connected;   //  for log wording
    int err_status;        //  bus status of the last failure
    char err_state[6];     //  SQLSTATE of the last failure, "" if none
    char err_reason[256];  //  short reason of the last failure
    bool grouped;          //  in a group transaction (st_db_group_begin)
    bool group_failed;     //  ... and a request of it rolled back
};

static void
s_stmt_free(void **item_p)
{
    s_stmt_t *s = (s_stmt_t *)*item_p;
    if (s) {
        free(s->name);
        free(s->sql);
        free(s);
        *item_p = NULL;
    }
}

//  libpq prints NOTICEs to stderr by default; route them to debug logs.
static void
s_notice(void *arg, const char *message)
{
    cm_log_debug("database notice", "text=\"%.*s\"",
                 (int)strcspn(message, "\n"), message);
}

st_db_t *
st_db_new(const char *url, int statement_timeout_ms)
{
    assert(url);
    st_db_t *self = cm_alloc(sizeof *self);
    self->url = cm_strdup(url);
    self->statement_timeout = statement_timeout_ms;
    self->stmts = zlistx_new();
    zlistx_set_destructor(self->stmts, s_stmt_free);
    self->backoff = ST_DB_BACKOFF_MIN_MS;
    return self;
}

void
st_db_destroy(st_db_t **self_p)
{
    assert(self_p);
    st_db_t *self = *self_p;
    if (!self) {
        return;
    }
    if (self->conn) {
        PQfinish(self->conn);
    }
    zlistx_destroy(&self->stmts);
    free(self->url);
    free(self);
    *self_p = NULL;
}

static void
s_set_error(st_db_t *self, int status, const char *state, const char *reason)
{
    self->err_status = status;
    snprintf(self->err_state, sizeof self->err_state, "%s", state ? state : "");
    //  first line only: details may carry data values
    snprintf(self->err_reason, sizeof self->err_reason, "%.*s",
             reason ? (int)strcspn(reason, "\n") : 0, reason ? reason : "");
}

static void
s_disconnect(st_db_t *self)
{
    if (self->conn) {
        PQfinish(self->conn);
        self->conn = NULL;
    }
    self->next_attempt = cm_mono_ms() + self->backoff;
    self->backoff = self->backoff * 2 > ST_DB_BACKOFF_MAX_MS
                        ? ST_DB_BACKOFF_MAX_MS
                        : self->backoff * 2;
}

static int
s_prepare_one(st_db_t *self, s_stmt_t *s)
{
    PGresult *res = PQprepare(self->conn, s->name, s->sql, 0, NULL);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        cm_log_error("could not prepare statement", "name=%s reason=\"%.*s\"",
                     s->name, (int)strcspn(PQerrorMessage(self->conn), "\n"),
                     PQerrorMessage(self->conn));
        rc = -1;
    }
    PQclear(res);
    return rc;
}

int
st_db_connect_now(st_db_t *self)
{
    if (self->conn) {
        return 0;
    }
    const char *keys[] = {"dbname", "connect_timeout", "application_name",
                          NULL};
    const char *values[] = {self->url, ST_DB_CONNECT_TIMEOUT, "store-service",
                            NULL};
    self->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(self->conn) != CONNECTION_OK) {
        s_set_error(self, 503, "", "database unavailable");
        cm_log_warn("could not connect to database",
                    "reason=\"%.*s\" retry_ms=%d",
                    (int)strcspn(PQerrorMessage(self->conn), "\n"),
                    PQerrorMessage(self->conn), self->backoff);
        s_disconnect(self);
        return -1;
    }
    PQsetNoticeProcessor(self->conn, s_notice, NULL);
    char sql[96];
    snprintf(sql, sizeof sql, "SET statement_timeout = %d",
             self->statement_timeout);
    PGresult *res = PQexec(self->conn, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    for (s_stmt_t *s = (s_stmt_t *)zlistx_first(self->stmts); s && ok;
         s = (s_stmt_t *)zlistx_next(self->stmts)) {
        ok = s_prepare_one(self, s) == 0;
    }
    if (!ok) {
        s_set_error(self, 503, "", "database unavailable");
        s_disconnect(self);
        return -1;
    }
    if (self->ever_connected) {
        cm_log_info("reconnected to database");
    }
    self->ever_connected = true;
    self->backoff = ST_DB_BACKOFF_MIN_MS;
    return 0;
}

int
st_db_connect(st_db_t *self)
{
    if (self->conn) {
        return 0;
    }
    if (cm_mono_ms() < self->next_attempt) {
        s_set_error(self, 503, "", "database unavailable");
        return -1;
    }
    return st_db_connect_now(self);
}

bool
st_db_connected(st_db_t *self)
{
    return self->conn != NULL;
}

void
st_db_prepare(st_db_t *self, const char *name, const char *sql)
{
    assert(name && sql);
    s_stmt_t *s = cm_alloc(sizeof *s);
    s->name = cm_strdup(name);
    s->sql = cm_strdup(sql);
    zlistx_add_end(self->stmts, s);
    if (self->conn && s_prepare_one(self, s) != 0) {
        s_disconnect(self);
    }
}

int
st_db_status_for(const char *sqlstate)
{
    if (!sqlstate || !*sqlstate) {
        return 503;
    }
    if (!strcmp(sqlstate, "23505") || !strcmp(sqlstate, "23P01")) {
        return 409;
    }
    if (!strcmp(sqlstate, "23503")) {
        return 404;
    }
    if (!strncmp(sqlstate, "22", 2) || !strcmp(sqlstate, "23502") ||
        !strcmp(sqlstate, "23514")) {
        return 400;
    }
    if (!strcmp(sqlstate, "57014")) {
        return 504;
    }
    if (!strcmp(sqlstate, "40001") || !strcmp(sqlstate, "40P01") ||
        !strncmp(sqlstate, "08", 2) || !strncmp(sqlstate, "57P", 3) ||
        !strcmp(sqlstate, "53300")) {
        return 503;
    }
    return 500;
}

//  Check a result; on failure record the error, drop a broken connection
//  and return NULL.
static PGresult *
s_check(st_db_t *self, PGresult *res, const char *what)
{
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) {
        self->err_status = 0;
        self->err_state[0] = 0;
        self->err_reason[0] = 0;
        return res;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!primary) {
        primary = PQerrorMessage(self->conn);
    }
    bool lost = PQstatus(self->conn) == CONNECTION_BAD;
    int status = lost ? 503 : st_db_status_for(state);
    s_set_error(self, status, lost ? "" : state,
                lost ? "database unavailable" : primary);
    if (lost) {
        cm_log_warn("lost connection to database", "reason=\"%.*s\"",
                    (int)strcspn(PQerrorMessage(self->conn), "\n"),
                    PQerrorMessage(self->conn));
        //  reconnect at the next request, without waiting
        PQfinish(self->conn);
        self->conn = NULL;
        self->next_attempt = 0;
        self->backoff = ST_DB_BACKOFF_MIN_MS;
    } else if (status >= 500) {
        cm_log_warn("could not run statement",
                    "statement=%s sqlstate=%s "
                    "reason=\"%s\"",
                    what, self->err_state, self->err_reason);
    } else {
        cm_log_debug("statement failed",
                     "statement=%s sqlstate=%s reason=\"%s\"", what,
                     self->err_state, self->err_reason);
    }
    PQclear(res);
    return NULL;
}

//  True (with the error set) when a failed group transaction refuses
//  further statements: its requests run again one by one.
static bool
s_group_refuses(st_db_t *self)
{
    if (self->grouped && self->group_failed) {
        s_set_error(self, 503, "", "group transaction rolled back");
        return true;
    }
    return false;
}

PGresult *
st_db_exec(st_db_t *self, const char *name, int nparams,
           const char *const *values)
{
    if (s_group_refuses(self)) {
        return NULL;
    }
    if (!self->conn) {
        s_set_error(self, 503, "", "database unavailable");
        return NULL;
    }
    PGresult *res =
        PQexecPrepared(self->conn, name, nparams, values, NULL, NULL, 0);
    return s_check(self, res, name);
}

PGresult *
st_db_query(st_db_t *self, const char *sql, int nparams,
            const char *const *values)
{
    if (s_group_refuses(self)) {
        return NULL;
    }
    if (!self->conn) {
        s_set_error(self, 503, "", "database unavailable");
        return NULL;
    }
    PGresult *res =
        PQexecParams(self->conn, sql, nparams, NULL, values, NULL, NULL, 0);
    return s_check(self, res, "(text)");
}

int
st_db_run(st_db_t *self, const char *sql)
{
    if (s_group_refuses(self)) {
        return -1;
    }
    if (!self->conn) {
        s_set_error(self, 503, "", "database unavailable");
        return -1;
    }
    PGresult *res = s_check(self, PQexec(self->conn, sql), sql);
    if (!res) {
        return -1;
    }
    PQclear(res);
    return 0;
}

int
st_db_begin(st_db_t *self)
{
    if (self->grouped) {
        //  the group's transaction is open: the request joins it
        return s_group_refuses(self) ? -1 : 0;
    }
    return st_db_run(self, "BEGIN");
}

int
st_db_commit(st_db_t *self)
{
    if (self->grouped) {
        //  committed with the group (st_db_group_end)
        return s_group_refuses(self) ? -1 : 0;
    }
    return st_db_run(self, "COMMIT");
}

void
st_db_rollback(st_db_t *self)
{
    if (self->grouped) {
        //  One request's rollback undoes the whole group: its statements
        //  are refused from now on, and the caller runs each request
        //  again by itself
        self->group_failed = true;
    }
    if (self->conn && PQtransactionStatus(self->conn) != PQTRANS_IDLE) {
        //  keep the error of the failed statement for the reply
        int status = self->err_status;
        char state[6];
        char reason[256];
        memcpy(state, self->err_state, sizeof state);
        memcpy(reason, self->err_reason, sizeof reason);
        PGresult *res = PQexec(self->conn, "ROLLBACK");
        PQclear(res);
        if (PQstatus(self->conn) == CONNECTION_BAD) {
            PQfinish(self->conn);
            self->conn = NULL;
            self->next_attempt = 0;
        }
        self->err_status = status;
        memcpy(self->err_state, state, sizeof state);
        memcpy(self->err_reason, reason, sizeof reason);
    }
}

int
st_db_group_begin(st_db_t *self)
{
    assert(!self->grouped);
    if (st_db_run(self, "BEGIN") != 0) {
        return -1;
    }
    self->grouped = true;
    self->group_failed = false;
    return 0;
}

int
st_db_group_end(st_db_t *self)
{
    assert(self->grouped);
    bool failed = self->group_failed;
    self->grouped = false;
    self->group_failed = false;
    if (failed) {
        st_db_rollback(self); //  ended already, unless the rollback failed
        return -1;
    }
    if (st_db_run(self, "COMMIT") != 0) {
        st_db_rollback(self);
        return -1;
    }
    return 0;
}

bool
st_db_grouped(st_db_t *self)
{
    return self->grouped;
}

bool
st_db_in_transaction(st_db_t *self)
{
    return self->conn && PQtransactionStatus(self->conn) != PQTRANS_IDLE;
}

int
st_db_error_status(st_db_t *self)
{
    return self->err_status ? self->err_status : 500;
}

const char *
st_db_error_reason(st_db_t *self)
{
    return self->err_reason[0] ? self->err_reason : "database error";
}

const char *
st_db_sqlstate(st_db_t *self)
{
    return self->err_state;
}

bool
st_db_retryable(st_db_t *self)
{
    return !strcmp(self->err_state, "40001") ||
           !strcmp(self->err_state, "40P01");
}

PGconn *
st_db_conn(st_db_t *self)
{
    return self->conn;
}

json_t *
st_db_json(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return json_null();
    }
    return json_loads(PQgetvalue(res, row, col), JSON_DECODE_ANY, NULL);
}

int64_t
st_db_int(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return 0;
    }
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *
st_db_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

void
st_db_test(bool verbose)
{
    printf(" * st_db: ");
    assert(st_db_status_for("23505") == 409);
    assert(st_db_status_for("23503") == 404);
    assert(st_db_status_for("22P02") == 400);
    assert(st_db_status_for("23514") == 400);
    assert(st_db_status_for("57014") == 504);
    assert(st_db_status_for("40001") == 503);
    assert(st_db_status_for("08006") == 503);
    assert(st_db_status_for("57P01") == 503);
    assert(st_db_status_for("") == 503);
    assert(st_db_status_for("42P01") == 500);

    //  No server: connect fails, backs off, calls fail with 503
    cm_log_init(NULL, "error");
    st_db_t *db = st_db_new("postgresql://nobody@127.0.0.1:1/none", 1000);
    st_db_prepare(db, "one", "SELECT 1");
    assert(!st_db_connected(db));
    assert(st_db_connect(db) == -1);
    assert(st_db_error_status(db) == 503);
    //  inside the backoff interval no attempt is made
    int64_t t0 = cm_mono_ms();
    assert(st_db_connect(db) == -1);
    assert(cm_mono_ms() - t0 < 50);
    assert(st_db_exec(db, "one", 0, NULL) == NULL);
    assert(st_db_error_status(db) == 503);
    assert(st_db_query(db, "SELECT 1", 0, NULL) == NULL);
    assert(st_db_begin(db) == -1);
    st_db_rollback(db);
    assert(!st_db_retryable(db));
    assert(st_db_conn(db) == NULL);
    st_db_destroy(&db);
    st_db_destroy(&db);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
