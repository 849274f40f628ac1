/*  st_events - the `event` message family and the event outbox

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    event.append stores an event (idempotent on its id) in its final WAHA
    envelope, built here from the session row; event.list reads a
    session's events by seq. Other families append events inside their
    own transactions with st_events_insert and announce them with
    st_events_announce after commit.
*/
#ifndef ST_EVENTS_H_INCLUDED
#define ST_EVENTS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _st_router_t st_router_t;

//  Event id prefix and the size of a buffer for one id.
#define ST_EVENTS_ID_PREFIX "evt_"
#define ST_EVENTS_ID_MAX 64
//  event.list limits.
#define ST_EVENTS_LIST_MAX 1000
//  Most events in one event.append_batch.
#define ST_EVENTS_BATCH_MAX 100
#define ST_EVENTS_LIST_DEFAULT 100

//  Register the family on `r`. Returns 0.
int st_events_register(st_router_t *r);

//  Inside the caller's transaction: take the next seq of session `name`,
//  build the envelope from the session row as it is now, and insert event
//  `id` (a new id when NULL; written to id_out, ST_EVENTS_ID_MAX bytes).
//  `payload` is borrowed; `worker` and `qr` may be NULL. Returns the seq,
//  0 when the session does not exist, -1 on a database error.
int64_t st_events_insert(st_router_t *r, const char *name, const char *id,
                         const char *event, json_t *payload, const char *worker,
                         const char *qr, char *id_out);

//  Publish event.new {session, id, seq, event} (after commit); `event`
//  (the event's name) may be NULL.
void st_events_announce(st_router_t *r, const char *session, const char *id,
                        int64_t seq, const char *event);

//  The WAHA envelope for an event of `session` (a session object, see
//  ST_SESSION_JSON; borrowed), with `payload` (borrowed). For
//  session.status it adds Wawp's instance_id, status, qr, ts. Caller owns
//  return value.
//  `engine` is the WAHA engine name (st_router_engine) and `worker` the
//  session-worker (environment.worker.id, null when NULL).
json_t *st_events_envelope(json_t *session, const char *id, int64_t ts_ms,
                           const char *event, json_t *payload,
                           const char *engine, const char *worker,
                           const char *qr);

//  session.status payload {name, status, statuses, data:null} of a session
//  object (borrowed). Caller owns return value.
json_t *st_events_status_payload(json_t *session);

void st_events_test(bool verbose);

#endif
