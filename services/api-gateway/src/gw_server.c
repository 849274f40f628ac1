/*  gw_server - service routes: ping, health, version, OpenAPI

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

void
gw_server_ping(gw_req_t *req)
{
    json_t *body = json_pack("{s:s}", "message", "pong");
    gw_req_reply(req, 200, &body);
}

//  One indicator of WAHA's health body: name -> {status: up|down, ...}
//  (taken) into `details` and into `info` (up) or `error` (down).
static void
s_indicator(json_t *body, const char *name, bool up, json_t *indicator)
{
    json_object_set_new(indicator, "status", json_string(up ? "up" : "down"));
    json_object_set(json_object_get(body, "details"), name, indicator);
    json_object_set_new(json_object_get(body, up ? "info" : "error"), name,
                        indicator);
}

void
gw_server_health(gw_req_t *req)
{
    //  WAHA's (NestJS terminus) shape: status ok|error, info (indicators
    //  up), error (indicators down), details (all); Wharf's own summary
    //  in store, workers and worker_list next to it.
    json_t *body = json_pack("{s:{}, s:{}, s:{}}", "info", "error", "details");
    cm_msg_t *msg = cm_msg_new("health.ping");
    cm_msg_t *reply =
        gw_req_call(req, GW_DEST_STORE, &msg, GW_SERVER_HEALTH_TIMEOUT_MS);
    json_t *store = NULL;
    bool ok = cm_msg_status(reply) == 200;
    if (ok) {
        store = json_pack("{s:s, s:s?, s:s?}", "status", "ok", "service",
                          cm_msg_str(reply, "service"), "version",
                          cm_msg_str(reply, "version"));
        s_indicator(body, "store", true, json_object());
    } else {
        const char *reason = cm_msg_reason(reply);
        store = json_pack("{s:s, s:i, s:s?}", "status", "error", "code",
                          cm_msg_status(reply), "reason", reason);
        s_indicator(body, "store", false,
                    json_pack("{s:s}", "message",
                              "store-service did not answer health.ping"));
    }
    cm_msg_destroy(&reply);

    msg = cm_msg_new("gw.workers");
    reply = gw_req_call(req, GW_DEST_LOCAL, &msg, GW_SERVER_HEALTH_TIMEOUT_MS);
    json_t *workers = json_object_get(cm_msg_body(reply), "workers");
    size_t n = json_array_size(workers);
    if (n == 0) {
        ok = false;
        s_indicator(body, "workers", false,
                    json_pack("{s:I, s:s}", "count", (json_int_t)0, "message",
                              "no session-worker has sent a heartbeat in the "
                              "last 3 s"));
    } else {
        s_indicator(body, "workers", true,
                    json_pack("{s:I}", "count", (json_int_t)n));
    }
    json_object_set_new(body, "status", json_string(ok ? "ok" : "error"));
    json_object_set_new(body, "store", store);
    json_object_set_new(body, "workers", json_integer((json_int_t)n));
    json_object_set(body, "worker_list", workers ? workers : json_null());
    cm_msg_destroy(&reply);
    gw_req_reply(req, ok ? 200 : 503, &body);
}

void
gw_server_version(gw_req_t *req)
{
    const gw_config_t *config = gw_req_config(req);
    //  The gateway serves every session: no worker of its own (id null)
    json_t *body = cm_waha_environment(
        config ? gw_config_engine(config) : CM_WAHA_ENGINE_DEFAULT, NULL, NULL);
    gw_req_reply(req, 200, &body);
}

void
gw_server_openapi(gw_req_t *req)
{
    json_t *doc = gw_api_openapi(gw_req_config(req));
    gw_req_reply(req, 200, &doc);
}

void
gw_server_test(bool verbose)
{
    printf(" * gw_server: ");
    gw_req_t *req = gw_req_new("GET", "/ping");
    gw_server_ping(req);
    assert(gw_req_status(req) == 200);
    assert(streq(gw_req_response(req), "{\"message\":\"pong\"}"));
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/api/server/version");
    gw_server_version(req);
    json_t *body = json_loads(gw_req_response(req), 0, NULL);
    assert(streq(json_string_value(json_object_get(body, "engine")),
                 CM_WAHA_ENGINE_DEFAULT));
    assert(streq(json_string_value(json_object_get(body, "tier")), "CORE"));
    assert(json_is_string(json_object_get(body, "browser")));
    assert(json_is_object(json_object_get(body, "worker")));
    assert(strchr(json_string_value(json_object_get(body, "platform")), '/'));
    json_decref(body);
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/api/openapi.json");
    gw_server_openapi(req);
    body = json_loads(gw_req_response(req), 0, NULL);
    assert(streq(json_string_value(json_object_get(body, "openapi")), "3.0.3"));
    json_decref(body);
    gw_req_destroy(&req);
    //  gw_server_health needs the core: covered by gw_http_test and the
    //  integration tests.
    printf("OK\n");
}
