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

void
gw_server_health(gw_req_t *req)
{
    json_t *details = json_array();
    cm_msg_t *msg = cm_msg_new("health.ping");
    cm_msg_t *reply =
        gw_req_call(req, GW_DEST_STORE, &msg, GW_SERVER_HEALTH_TIMEOUT_MS);
    json_t *store = NULL;
    bool ok = cm_msg_status(reply) == 200;
    if (ok) {
        store = json_pack("{s:s, s:s?, s:s?}", "status", "ok", "service",
                          cm_msg_str(reply, "service"), "version",
                          cm_msg_str(reply, "version"));
    } else {
        const char *reason = cm_msg_reason(reply);
        store = json_pack("{s:s, s:i, s:s?}", "status", "error", "code",
                          cm_msg_status(reply), "reason", reason);
        json_array_append_new(details,
                              json_string("store-service did not answer "
                                          "health.ping"));
    }
    cm_msg_destroy(&reply);

    msg = cm_msg_new("gw.workers");
    reply = gw_req_call(req, GW_DEST_LOCAL, &msg, GW_SERVER_HEALTH_TIMEOUT_MS);
    json_t *workers = json_object_get(cm_msg_body(reply), "workers");
    size_t n = json_array_size(workers);
    if (n == 0) {
        ok = false;
        json_array_append_new(
            details, json_string("no session-worker has sent a heartbeat "
                                 "in the last 3 s"));
    }
    json_t *body =
        json_pack("{s:s, s:o, s:I, s:O}", "status", ok ? "ok" : "error",
                  "store", store, "workers", (json_int_t)n, "worker_list",
                  workers ? workers : json_null());
    cm_msg_destroy(&reply);
    if (json_array_size(details)) {
        json_object_set(body, "details", details);
    }
    json_decref(details);
    gw_req_reply(req, ok ? 200 : 503, &body);
}

void
gw_server_platform(char *out, size_t size)
{
    struct utsname u;
    const char *arch = "unknown";
    const char *os = "linux";
    if (uname(&u) == 0) {
        arch = u.machine;
        if (streq(u.machine, "x86_64")) {
            arch = "x64";
        } else if (streq(u.machine, "aarch64")) {
            arch = "arm64";
        } else if (streq(u.machine, "i686") || streq(u.machine, "i386")) {
            arch = "ia32";
        }
        if (!streq(u.sysname, "Linux")) {
            os = u.sysname;
        }
    }
    snprintf(out, size, "%s/%s", os, arch);
}

void
gw_server_version(gw_req_t *req)
{
    char platform[64];
    gw_server_platform(platform, sizeof platform);
    json_t *body = json_pack("{s:s, s:s, s:s, s:n, s:s, s:n}", "version",
                             WHARF_VERSION, "engine", "WHARF", "tier", "CORE",
                             "browser", "platform", platform, "worker");
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
    assert(streq(json_string_value(json_object_get(body, "engine")), "WHARF"));
    assert(streq(json_string_value(json_object_get(body, "tier")), "CORE"));
    assert(json_is_null(json_object_get(body, "browser")));
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
