/*  wd_sender - many HTTP POSTs at once over libcurl multi, fairly shared
    between targets

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A target is a URL. At most `per_target` requests to one target are in
    flight and at most `max_in_flight` in total; the rest wait in their
    target's queue, so a slow receiver fills only its own slots and never
    holds up requests to other targets. Requests that wait for a global
    slot are started target by target, round robin.

    The sender does no I/O of its own: the owner's poll loop asks for the
    file descriptors curl watches (wd_sender_poll_items), polls them with
    its ZeroMQ sockets, and hands the results back (wd_sender_process),
    which runs curl and the completion callbacks. Callbacks may post new
    requests. Single-threaded.
*/
#ifndef WD_SENDER_H_INCLUDED
#define WD_SENDER_H_INCLUDED

#include <curl/curl.h>
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "cm/cm_net.h"

typedef struct _wd_sender_t wd_sender_t;

//  What happened to one request.
typedef struct {
    int http_status;   //  HTTP status, 0 when no response arrived
    int latency_ms;    //  from start to completion
    int64_t at_ms;     //  epoch ms when the request started
    const char *error; //  NULL on 2xx, else why (borrowed, callback only)
} wd_outcome_t;

//  Called once per posted request, from wd_sender_process.
typedef void(wd_sender_fn)(const wd_outcome_t *outcome, void *arg);

//  New sender. timeout_ms bounds each request (connect included); user
//  agent is "Wharf/<version>". NULL if curl cannot start.
wd_sender_t *wd_sender_new(int max_in_flight, int per_target, int timeout_ms);

//  Abort every request (their callbacks are not called) and free all.
void wd_sender_destroy(wd_sender_t **self_p);

//  From now on, requests to any URL but `trusted_url` (the operator's
//  global webhook; NULL for none) connect only to addresses `net`
//  permits (cm_net: no loopback, private, link-local... unless allowed),
//  with no proxy from the environment; a refused one fails with an error
//  saying so. A request whose scheme, host and port are the trusted
//  URL's takes a new connection (the pool may hold one made without the
//  check). Takes `net`. Without a policy every address may be reached.
void wd_sender_set_policy(wd_sender_t *self, cm_net_t **net_p,
                          const char *trusted_url);

//  Queue a POST of `len` bytes of *body_p to `url` with *headers_p.
//  Takes both (on all paths). `fn` is called exactly once, later, from
//  wd_sender_process (also when the request could not start).
void wd_sender_post(wd_sender_t *self, const char *url,
                    struct curl_slist **headers_p, char **body_p, size_t len,
                    wd_sender_fn *fn, void *arg);

//  Requests to `url` in flight or queued.
size_t wd_sender_load(wd_sender_t *self, const char *url);

//  True when `url` has all its slots busy (new requests would queue).
bool wd_sender_saturated(wd_sender_t *self, const char *url);

//  Requests in flight plus queued, over all targets.
size_t wd_sender_active(wd_sender_t *self);

//  Write up to `max` poll items for the sockets curl watches into `items`
//  (fd items, socket NULL). Returns how many.
int wd_sender_poll_items(wd_sender_t *self, zmq_pollitem_t *items, int max);

//  Milliseconds until wd_sender_process must run even with no socket
//  activity; -1 when it need not.
int wd_sender_timeout(wd_sender_t *self);

//  Act on the polled items (those written by wd_sender_poll_items, with
//  revents set) and on due timers; run completion callbacks.
void wd_sender_process(wd_sender_t *self, zmq_pollitem_t *items, int count);

void wd_sender_test(bool verbose);

#endif
