/*  gw_metrics - Prometheus /metrics of the api-gateway

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET /metrics    text exposition 0.0.4; 404 unless
                      WAHA_PROMETHEUS_ENABLED=true (as WAHA); no key, as
                      WAHA (so in-cluster scrapers can collect it)

    Counted here, in the process: HTTP requests and their durations (by
    method and status, /metrics itself left out), bus requests the
    gateway makes and their latency (by destination: store, worker,
    media, local), open /ws streams. Asked for at each scrape (the
    gateway aggregates): sessions by status (store: session.list),
    webhook deliveries and attempts and the event outbox (store:
    delivery.stats), the store's database request latency by family and
    op (store: store.stats, wharf_store_statement_duration_seconds), live
   session-workers and the sessions each holds (the core's heartbeat map). Other
   services export nothing of their own; see ARCHITECTURE.md.

    WAHA's names where WAHA has them: waha_up, waha_http_requests_total,
    waha_http_request_duration_seconds, waha_sessions. Wharf's own
    carry the wharf_ prefix.
*/
#ifndef GW_METRICS_H_INCLUDED
#define GW_METRICS_H_INCLUDED

#include "gw_req.h"

#define GW_METRICS_TAG "Observability"

#define GW_METRICS_ROUTES                                                      \
    {"GET",                                                                    \
     "/metrics",                                                               \
     gw_metrics_get,                                                           \
     GW_AUTH_NONE,                                                             \
     200,                                                                      \
     GW_METRICS_TAG,                                                           \
     "metrics",                                                                \
     "Prometheus metrics (404 unless WAHA_PROMETHEUS_ENABLED=true)",           \
     NULL,                                                                     \
     "PrometheusText",                                                         \
     NULL,                                                                     \
     false},

void gw_metrics_get(gw_req_t *req);

//  One HTTP request answered (any thread).
void gw_metrics_http(const char *method, const char *path, int status,
                     int64_t micros);

//  One bus request made through a gw_link (any thread).
void gw_metrics_bus(const char *dest, int status, int64_t micros);

//  The exposition text of the in-process metrics (caller owns).
char *gw_metrics_local_text(void);

//  Append wharf_store_statement_duration_seconds{family,op} of a
//  store.stats reply body ({bounds, ops:[{family, op, count, sum,
//  buckets}]}, buckets not cumulative) to out.
void gw_metrics_store_text(zchunk_t *out, const json_t *stats);

json_t *gw_metrics_schemas(void);

void gw_metrics_test(bool verbose);

#endif
