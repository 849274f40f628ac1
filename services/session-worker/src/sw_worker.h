/*  sw_worker - leases, heartbeats and gateway commands of one worker

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Everything runs on one sw_loop:
    - one DEALER per gateway (ZMQ_IDENTITY = WORKER_ID) sends worker.hello
      until the gateway answers, then worker.heartbeat every 1000 ms with
      the sessions held; it receives session commands and worker.nudge;
    - a cm_client DEALER to the store(s), used only asynchronously;
    - lease.claim every WORKER_CLAIM_INTERVAL_MS and at once on
      worker.nudge, for at most WORKER_MAX_SESSIONS sessions in all;
    - lease.renew every LEASE_TTL_MS/3; sessions the store lists in `drop`
      are stopped (STOPPED, lease released);
    - self-fencing: a session whose lease may have expired (no successful
      claim or renew for LEASE_TTL_MS minus a margin) is stopped locally
      before any other worker can claim it;
    - sw_worker_shutdown (SIGTERM) stops every session, releases every
      lease so other workers can claim them at once, and stops the loop.
*/
#ifndef SW_WORKER_H_INCLUDED
#define SW_WORKER_H_INCLUDED

#include "sw_config.h"
#include "sw_engine.h"
#include "sw_loop.h"

typedef struct _sw_worker_t sw_worker_t;

//  Longest wait for lease releases at shutdown, ms.
#define SW_SHUTDOWN_MS 3000
//  Stop a session this long before its lease could expire, at most.
#define SW_FENCE_MARGIN_MS 500
//  A failed lease renewal is tried again after this long (ms), not at
//  the next periodic renewal.
#define SW_RENEW_RETRY_MS 250

//  New worker on `loop` (borrowed) with `config` (borrowed); takes the
//  engine. Creates and connects its sockets. NULL (logged) when an
//  endpoint is invalid. Caller owns return value.
sw_worker_t *sw_worker_new(const sw_config_t *config, sw_loop_t *loop,
                           sw_engine_t **engine_p);

//  Destroy: stops every engine still running without writing to the
//  store (use sw_worker_shutdown first for a clean exit), answers pending
//  gateway commands with 500, closes the sockets.
void sw_worker_destroy(sw_worker_t **self_p);

//  Say hello to the gateways, start the heartbeat, claim, renew timers.
void sw_worker_start(sw_worker_t *self);

//  Claim now (as on worker.nudge).
void sw_worker_claim(sw_worker_t *self);

//  How long a nudge's claim waits: a millisecond per session held, at
//  most 100, so the least loaded worker claims a new session first.
int sw_worker_nudge_delay_ms(sw_worker_t *self);

//  Graceful stop: stop every session, release its lease, tell the
//  gateways we hold nothing, then stop the loop when every release is
//  answered or after SW_SHUTDOWN_MS.
void sw_worker_shutdown(sw_worker_t *self);

//  True once a shutdown finished (or timed out).
bool sw_worker_finished(sw_worker_t *self);

//  Sessions held (running).
size_t sw_worker_sessions(sw_worker_t *self);

//  True if the worker holds session `name`.
bool sw_worker_holds(sw_worker_t *self, const char *name);

void sw_worker_test(bool verbose);

#endif
