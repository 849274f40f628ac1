/*  gw_server - service routes: ping, health, version, OpenAPI

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef GW_SERVER_H_INCLUDED
#define GW_SERVER_H_INCLUDED

#include "gw_req.h"

//  Health waits at most this long for the store's health.ping.
#define GW_SERVER_HEALTH_TIMEOUT_MS 2000

//  GET /ping -> {"message":"pong"}
void gw_server_ping(gw_req_t *req);

//  GET /health -> 200 {status:"ok", store:{...}, workers:n} when the store
//  answers health.ping and at least one worker heartbeats, else 503 with
//  the same fields saying what is wrong.
void gw_server_health(gw_req_t *req);

//  GET /api/server/version -> {version, engine, tier, browser, platform,
//  worker}
void gw_server_version(gw_req_t *req);

//  GET /api/openapi.json -> the OpenAPI document
void gw_server_openapi(gw_req_t *req);

void gw_server_test(bool verbose);

#endif
