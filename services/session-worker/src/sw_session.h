/*  sw_session - one session held by the worker: its lease, its status
    and the ordered stream of writes it sends to the store

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The worker creates a session when lease.claim hands it one, starts
    its engine, and ends it with sw_session_finish(). Engines use the
    "engine API" below; everything else is for the worker.

    Writes (set_status, event.append, device.clear, lease.release) go to
    the store asynchronously, one at a time per session, in the order
    they were made, each carrying (worker, epoch). A write that times out
    or gets a 5xx is sent again after a short pause. A 409 or 404 means
    the lease is gone (moved to another worker, or the session was
    deleted): the session is fenced - the host's fenced callback runs and
    the worker stops it locally without touching the store again.

    Lifetime: the worker holds one reference and gives it to
    sw_session_finish(); every store call in flight holds another. The
    session is freed when the last one goes, so a reply arriving after a
    stop never touches freed memory.
*/
#ifndef SW_SESSION_H_INCLUDED
#define SW_SESSION_H_INCLUDED

#include "sw_config.h"
#include "sw_engine.h"
#include "sw_loop.h"

//  What the worker lends to its sessions: store client, loop, engine.
typedef struct _sw_host_t sw_host_t;

//  The lease is gone (st 409 or 404): stop the session locally.
typedef void(sw_host_fenced_fn)(sw_session_t *session, int st, void *arg);
//  The engine finished a logout (rc 0 ok, -1 failed with reason).
typedef void(sw_host_logout_fn)(sw_session_t *session, int rc,
                                const char *reason, void *arg);
//  A finished session's last step is done; st is the status of the
//  lease.release reply, or of the write that ended it.
typedef void(sw_session_done_fn)(sw_session_t *session, int st, void *arg);
//  A store reply for an engine call (sw_session_store_send). The reply
//  is owned by the callback.
typedef void(sw_session_reply_fn)(sw_session_t *session, cm_msg_t **reply_p,
                                  void *arg);
//  A queued write of the engine was answered while the engine runs: st
//  is the reply status (2xx stored; another 4xx than 404/409 means the
//  store refused it and it was dropped). Not called when the lease is
//  lost (404/409: the session is then stopped) nor once finishing.
typedef void(sw_session_write_fn)(sw_session_t *session, int st, void *arg);
//  A store reply for a worker call (sw_host_call).
typedef void(sw_host_reply_fn)(cm_msg_t **reply_p, void *arg);

//  Store request timeout for session writes, ms.
#define SW_WRITE_TIMEOUT_MS 3000
//  Pause before resending a failed write: doubles from min to max.
#define SW_WRITE_RETRY_MIN_MS 100
#define SW_WRITE_RETRY_MAX_MS 2000
//  Attempts per write once a session is finishing (then it moves on).
#define SW_FINISH_ATTEMPTS 3
//  Most queued events sent as one event.append_batch (the store's limit).
#define SW_WRITE_BATCH_MAX 100

//  sw_session_finish flags.
#define SW_FINISH_CLEAR 1   //  device.clear (logout)
#define SW_FINISH_STATUS 2  //  set_status STOPPED
#define SW_FINISH_RELEASE 4 //  lease.release

//  --------------------------------------------------------------------
//  Host

//  New host lending these (all borrowed; they must outlive the host).
//  Caller owns return value.
sw_host_t *sw_host_new(cm_client_t *store, sw_loop_t *loop,
                       const sw_config_t *config, sw_engine_t *engine);

//  Destroy. Calls still in flight are forgotten without callbacks, so
//  the store client must not be dispatched again (destroy it next).
//  Every session still allocated is freed without an engine call: finish
//  them first.
void sw_host_destroy(sw_host_t **self_p);

//  Lend the host a media-service client (borrowed; it must outlive the
//  host), for sw_session_media_send.
void sw_host_set_media(sw_host_t *self, cm_client_t *media);

//  Set the callbacks for fencing and for finished logouts.
void sw_host_set_callbacks(sw_host_t *self, sw_host_fenced_fn *fenced,
                           sw_host_logout_fn *logout, void *arg);

//  Send a worker-level store request (takes it); fn gets the reply or a
//  504/503. Returns 0, or -1 if not sent (fn already ran with a 503).
int sw_host_call(sw_host_t *self, cm_msg_t **request_p, int timeout_ms,
                 sw_host_reply_fn *fn, void *arg);

//  Sessions allocated (held or finishing).
size_t sw_host_sessions(sw_host_t *self);

//  message.any events emitted since start: fromMe (outgoing) and not
//  (incoming). The worker heartbeat carries them (metrics).
void sw_host_message_counts(sw_host_t *self, int64_t *incoming,
                            int64_t *outgoing);

//  --------------------------------------------------------------------
//  Worker API

//  New session `name` under lease `epoch` with its config (borrowed and
//  referenced). Status STOPPED; the engine is not started. Caller owns
//  the returned reference.
sw_session_t *sw_session_new(sw_host_t *host, const char *name, int64_t epoch,
                             json_t *config);

//  Start the engine. If it refuses, the session goes FAILED with a
//  reason. Returns 0 or -1.
int sw_session_start(sw_session_t *self);

//  Stop the engine (if started), then, as `flags` say, queue
//  device.clear, set_status STOPPED and lease.release after any writes
//  still queued, and call fn (may be NULL) once the last of them is
//  answered. Takes the caller's reference.
void sw_session_finish(sw_session_t **self_p, int flags, sw_session_done_fn *fn,
                       void *arg);

//  Ask the engine to log out; the host's logout callback runs when it is
//  done. Returns -1 if a logout is already in progress.
int sw_session_logout(sw_session_t *self);

//  Lease epoch, and its update when a claim or renew reports a new one.
int64_t sw_session_epoch(sw_session_t *self);
void sw_session_set_epoch(sw_session_t *self, int64_t epoch);

//  Monotonic ms until which the lease surely lasts (send time of the
//  last successful claim or renew plus the TTL).
int64_t sw_session_valid_until(sw_session_t *self);
void sw_session_set_valid_until(sw_session_t *self, int64_t mono_ms);

//  Writes queued or in flight.
size_t sw_session_queued(sw_session_t *self);

//  True while the engine runs (not finishing).
bool sw_session_running(sw_session_t *self);

//  --------------------------------------------------------------------
//  Engine API

//  Session name (borrowed).
const char *sw_session_name(sw_session_t *self);
//  Session config object from the store (borrowed; never NULL).
json_t *sw_session_config(sw_session_t *self);
//  This worker's id (borrowed).
const char *sw_session_worker(sw_session_t *self);
//  The worker's loop, for descriptors and timers.
sw_loop_t *sw_session_loop(sw_session_t *self);
//  The worker's configuration (WA_URL, WA_ROOT_KEY, reconnect delays).
const sw_config_t *sw_session_cfg(sw_session_t *self);
//  Current status as last set.
sw_status_t sw_session_status(sw_session_t *self);

//  The engine's per-session state (NULL until set).
void *sw_session_engine_data(sw_session_t *self);
void sw_session_set_engine_data(sw_session_t *self, void *data);

//  Move to `status` (reason: why, for FAILED; may be NULL) and queue the
//  store write. Setting the current status again is a no-op (returns 0)
//  except for SCAN_QR_CODE. Returns -1 (and logs) on a move the state
//  machine forbids or once the session is finishing.
int sw_session_set_status(sw_session_t *self, sw_status_t status,
                          const char *reason);

//  As sw_session_set_status, also sending `me` (borrowed; NULL: field
//  not sent, json null: cleared) and `qr` (the data-URI PNG of the QR
//  shown, for the session.status event; NULL: none).
int sw_session_set_status_full(sw_session_t *self, sw_status_t status,
                               const char *reason, json_t *me,
                               const char *qr);

//  Queue an event for the outbox (event.append with a fresh evt_<ulid>
//  id); takes payload (an object). Returns 0, or -1 once finishing.
int sw_session_emit(sw_session_t *self, const char *event, json_t **payload_p);

//  As sw_session_emit with the event id `id` ("evt_..."; NULL: a fresh
//  one) and a callback once the store answered (fn may be NULL).
//  event.append is idempotent on the id, so an id derived from what the
//  event is about (a message id) stores a redelivered event only once.
int sw_session_emit_id(sw_session_t *self, const char *id, const char *event,
                       json_t **payload_p, sw_session_write_fn *fn,
                       void *arg);

//  Queue any fenced store write (signal.put, device.put, device.clear):
//  takes body (an object) and adds name, worker and epoch; it goes out
//  in order with the status and event writes, with the same resends.
//  `type` must be a static string. fn (may be NULL) runs once answered.
//  Returns 0, or -1 once finishing (body destroyed, fn not called).
int sw_session_write(sw_session_t *self, const char *type, json_t **body_p,
                     sw_session_write_fn *fn, void *arg);

//  Send any store request for this session (takes it). fn runs with the
//  reply (or a synthesized 504/503) only while the session is running;
//  after a stop the reply is dropped. Returns 0, or -1 once finishing
//  (request destroyed, fn not called).
int sw_session_store_send(sw_session_t *self, cm_msg_t **request_p,
                          int timeout_ms, sw_session_reply_fn *fn, void *arg);

//  Send a media-service request for this session (takes it). fn runs
//  exactly once with the reply (or a synthesized 504/503), even after
//  the session stopped (then sw_session_running is false and the
//  engine's data is gone), and with *reply_p NULL when the host is
//  destroyed first: it frees what arg holds. Returns 0, or -1
//  once finishing or without a media client (request destroyed, fn not
//  called).
int sw_session_media_send(sw_session_t *self, cm_msg_t **request_p,
                          int timeout_ms, sw_session_reply_fn *fn, void *arg);

//  The engine finished the logout the worker asked for.
void sw_session_logout_done(sw_session_t *self, int rc, const char *reason);

void sw_session_test(bool verbose);

#endif
