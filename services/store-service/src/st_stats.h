/*  st_stats - how long the store's database requests take

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every database request a pool worker handles (a router entry with
    ST_ROUTER_DB: its statements, retries included) is timed and counted
    by its type ("event.append": family "event", op "append") in one
    histogram per type, shared by the process's workers (a mutex), with
    the Prometheus client's default bounds. `store.stats` (a request of
    its own, no database) answers the lot; the api-gateway asks for it at
    each scrape and renders wharf_store_statement_duration_seconds
    {family, op} (ARCHITECTURE.md, Metrics). Counts run from the store's
    start; at most ST_STATS_MAX types are kept.
*/
#ifndef ST_STATS_H_INCLUDED
#define ST_STATS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

//  Most request types kept (the registered types stay far below).
#define ST_STATS_MAX 256

//  One request of `type` took `micros` (any thread).
void st_stats_observe(const char *type, int64_t micros);

//  {bounds:[s…], ops:[{family, op, count, sum (s), buckets:[count per
//  bound, not cumulative]}], dropped}. Caller owns return value.
json_t *st_stats_json(void);

//  Forget everything (tests).
void st_stats_reset(void);

void st_stats_test(bool verbose);

#endif
