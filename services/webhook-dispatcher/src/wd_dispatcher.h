/*  wd_dispatcher - the webhook delivery loop

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One thread, one poll loop over: the store DEALER (cm_client), the SUB
    socket for event.new wake-ups, and the sockets of in-flight HTTP
    requests (wd_sender). Each turn it may:
      - ask the store to fan out new events into deliveries
        (delivery.fanout), on a wake-up and every poll interval, so
        nothing depends on PUB/SUB;
      - claim streams of due deliveries (delivery.claim): a stream is the
        queue of one session's deliveries to one URL; its deliveries are
        sent one at a time, in order;
      - report attempts and release finished streams (delivery.result),
        one report in flight at a time, batched;
      - renew its stream leases (delivery.renew) and prune old rows
        (delivery.prune).
    At start it releases any stream still held under its id (a previous
    run of the same dispatcher that crashed). See README.md.
*/
#ifndef WD_DISPATCHER_H_INCLUDED
#define WD_DISPATCHER_H_INCLUDED

#include "wd_config.h"
#include <stdbool.h>

typedef struct _wd_dispatcher_t wd_dispatcher_t;

//  New dispatcher using `config` (borrowed; must outlive it). NULL when
//  the sockets or curl cannot be set up.
wd_dispatcher_t *wd_dispatcher_new(const wd_config_t *config);

//  Free everything; requests still in flight are abandoned (their
//  deliveries are sent again after the lease ends).
void wd_dispatcher_destroy(wd_dispatcher_t **self_p);

//  One turn of the loop, waiting at most max_wait_ms for activity.
void wd_dispatcher_step(wd_dispatcher_t *self, int max_wait_ms);

//  Run until zsys_interrupted, then stop gracefully (wd_dispatcher_stop).
void wd_dispatcher_run(wd_dispatcher_t *self);

//  Stop claiming, let requests in flight finish for up to grace_ms,
//  report every result and release every stream. Returns 0 when the
//  final report reached the store.
int wd_dispatcher_stop(wd_dispatcher_t *self, int grace_ms);

//  Counters for tests and logs.
typedef struct {
    uint64_t sent;    //  HTTP requests completed
    uint64_t ok;      //  ... with a 2xx
    uint64_t failed;  //  ... without
    uint64_t claims;  //  delivery.claim replies handled
    uint64_t fanouts; //  delivery.fanout replies handled
    uint64_t reports; //  delivery.result replies handled (200)
    size_t streams;   //  streams held now
} wd_dispatcher_stats_t;

wd_dispatcher_stats_t wd_dispatcher_stats(wd_dispatcher_t *self);

void wd_dispatcher_test(bool verbose);

#endif
