/*  st_router - a worker's dispatch table and what its handlers need

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every worker actor owns one router: the message type -> handler table
    (on top of cm_handlers, which applies the protocol rules: malformed
    body 400, unrecognized type 400, newer version 400, expired request
    dropped), the worker's database connection, an id generator and the
    publish hook for notifications.

    A family module (st_sessions.c, st_leases.c, ...) registers its
    handlers and prepared statements in `int st_<family>_register
    (st_router_t *r)`, listed once in st_families.h. A handler returns the
    reply (never NULL unless the request needs no answer); the router
    answers 503 without calling it while the database is unreachable, and
    runs it again (up to ST_ROUTER_RETRIES times) when it failed on a
    serialization failure or deadlock.
*/
#ifndef ST_ROUTER_H_INCLUDED
#define ST_ROUTER_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "cm/cm_msg.h"

//  Handler flag: needs the database (503 while it is unreachable).
#define ST_ROUTER_DB 1
//  Attempts for a handler failing with a retryable database error.
#define ST_ROUTER_RETRIES 3
//  Longest session name, worker id, event name or id we accept (bytes).
#define ST_ROUTER_NAME_MAX 256

typedef struct _st_router_t st_router_t;
typedef struct _st_db_t st_db_t;
typedef struct _st_seal_t st_seal_t;

//  Handle `request`; return the reply (caller owns it).
typedef cm_msg_t *(st_handler_fn)(st_router_t *self, cm_msg_t *request);

//  Hand a notification to whoever publishes (takes the message).
typedef void(st_publish_fn)(cm_msg_t **msg_p, void *arg);

//  New router over `db` (borrowed, may be NULL: DB handlers then get 503);
//  `store_id` names this store in health replies. Registers health.ping.
//  Caller owns return value.
st_router_t *st_router_new(st_db_t *db, const char *store_id);

void st_router_destroy(st_router_t **self_p);

//  Register `fn` for `type` (versions 1..max_version) with ST_ROUTER_*
//  flags. A later registration for the same type replaces the earlier.
void st_router_add(st_router_t *self, const char *type, int max_version,
                   st_handler_fn *fn, int flags);

//  Register a prepared statement on the router's connection.
void st_router_prepare(st_router_t *self, const char *name, const char *sql);

//  True if `type` has a handler.
bool st_router_has(st_router_t *self, const char *type);

//  Apply the protocol rules and the handler. Returns the reply (caller
//  owns it) or NULL when nothing is to be sent.
cm_msg_t *st_router_dispatch(st_router_t *self, cm_msg_t *request);

//  The database connection (may be NULL in tests).
st_db_t *st_router_db(st_router_t *self);

//  The WAHA engine name event envelopes carry (default
//  CM_WAHA_ENGINE_DEFAULT; must be one of CM_WAHA_ENGINES).
void st_router_set_engine(st_router_t *self, const char *engine);
const char *st_router_engine(st_router_t *self);

//  This store's id (health replies, logs).
const char *st_router_store_id(st_router_t *self);

//  Write `prefix` + a new lower-case ULID into out. Returns 0 or -1 when
//  out is too small.
int st_router_new_id(st_router_t *self, const char *prefix, char *out,
                     size_t size);

//  Set where st_router_publish sends (default: nowhere).
void st_router_set_publish(st_router_t *self, st_publish_fn *fn, void *arg);

//  Set the sealer of device secrets (borrowed; default NULL: keyless).
void st_router_set_seal(st_router_t *self, const st_seal_t *seal);

//  The sealer of device secrets (NULL: keyless, store them in the clear).
const st_seal_t *st_router_seal(st_router_t *self);

//  Publish a notification of `type` with body *body_p (taken). Call only
//  after the transaction that it announces has committed (in a group,
//  after the request's st_db_commit: held until the group commits).
void st_router_publish(st_router_t *self, const char *type, json_t **body_p);

//  True for the request types that may share a group transaction
//  (st_router_dispatch_group): event.append, event.append_batch,
//  signal.put.
bool st_router_groups(const char *type);

//  Group commit: run n requests (of st_router_groups' types) in one
//  transaction and one COMMIT, their notifications published only after
//  it. replies[i] gets request i's reply (NULL: none). If any request is
//  refused or fails, nothing of the group is kept and each request runs
//  again in its own transaction. A reply therefore always follows the
//  commit of what it reports. Returns n when the group committed as one,
//  0 when the requests ran one by one.
size_t st_router_dispatch_group(st_router_t *self, cm_msg_t **requests,
                                size_t n, cm_msg_t **replies);

//  A writer of a group's writes taken together (st_events): called in
//  the open group transaction before the requests run one by one. It
//  sets replies[i] for each request it stored or refused (nothing of a
//  refused one written: a 4xx that does not undo the group) and leaves
//  the others NULL, to run one by one after it. Returns 0, or -1 on a
//  database error (transaction rolled back, every reply NULL).
typedef int(st_group_fn)(st_router_t *self, cm_msg_t **requests, size_t n,
                         cm_msg_t **replies);

//  Set the group writer (one per router; NULL: none).
void st_router_set_group_writer(st_router_t *self, st_group_fn *fn);

//  Reply to a failed database call: rolls back any open transaction and
//  answers with st_db's status and reason. Caller owns return value.
cm_msg_t *st_router_db_fail(st_router_t *self, cm_msg_t *request);

//  Request argument helpers. Each returns the value, or NULL/-1 with
//  *reply_p set to a 400 naming the field when it is missing (required
//  ones) or of the wrong type, size or range.
//  A string of 1..max bytes without NUL. Borrowed.
const char *st_router_str(cm_msg_t *request, const char *key, size_t max,
                          cm_msg_t **reply_p);
//  As st_router_str but absent or null gives NULL with *reply_p unset.
const char *st_router_opt_str(cm_msg_t *request, const char *key, size_t max,
                              cm_msg_t **reply_p);
//  An integer in [min, max]; when absent, `dflt` if !required. Returns 0
//  or -1.
int st_router_int(cm_msg_t *request, const char *key, int64_t min, int64_t max,
                  bool required, int64_t dflt, int64_t *value,
                  cm_msg_t **reply_p);
//  An object (borrowed); absent or null gives NULL with *reply_p unset
//  unless required.
json_t *st_router_obj(cm_msg_t *request, const char *key, bool required,
                      cm_msg_t **reply_p);

//  The fields of a write fenced by a lease (see st_leases_fence).
typedef struct {
    const char *name;   //  the session, borrowed from the request
    const char *worker; //  borrowed; NULL when absent
    int64_t epoch;      //  0 when absent
} st_router_lease_t;

//  Read a fenced write's fields: the session name under `name_key`
//  (required), "worker" (required when `required`, else optional) and
//  "epoch" (required when a worker is given). Returns 0 or -1.
int st_router_lease(cm_msg_t *request, const char *name_key, bool required,
                    st_router_lease_t *lease, cm_msg_t **reply_p);

//  Run prepared statement `stmt` with the request's "name" field as its
//  only parameter. Returns the result (caller owns it; PQclear), or NULL
//  with *reply_p set: 400 bad name, or the database failure.
PGresult *st_router_by_name(st_router_t *self, cm_msg_t *request,
                            const char *stmt, cm_msg_t **reply_p);

//  Self tests: dispatch a request of `type` with body `body` (JSON text,
//  NULL for {}) and return the reply's status (0 when there is none).
int st_router_status(st_router_t *self, const char *type, const char *body);

//  Self tests: call handler `fn` directly (no database gate), with a
//  request whose body is `body` (JSON text, NULL for {}), and return the
//  reply's status (0 when there is none). For the checks a handler makes
//  before any database work.
int st_router_call_status(st_router_t *self, st_handler_fn *fn,
                          const char *body);

void st_router_test(bool verbose);

#endif
