/*  gw_dashboard - the dashboard at /dashboard

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

void
gw_dashboard_index(gw_req_t *req)
{
    gw_static_serve(req, "dashboard", "index.html");
}

void
gw_dashboard_file(gw_req_t *req)
{
    gw_static_serve(req, "dashboard", gw_req_param(req, "file"));
}

json_t *
gw_dashboard_schemas(void)
{
    return json_object(); //  HtmlPage and StaticFile: gw_swagger
}

void
gw_dashboard_test(bool verbose)
{
    printf(" * gw_dashboard: ");
    char *allow = NULL;
    json_t *params = json_object();
    const gw_route_t *r =
        gw_api_match("GET", "/dashboard/dashboard.js", params, &allow);
    assert(r && r->handler == gw_dashboard_file);
    assert(streq(json_string_value(json_object_get(params, "file")),
                 "dashboard.js"));
    r = gw_api_match("GET", "/dashboard", params, &allow);
    assert(r && r->handler == gw_dashboard_index && r->auth == GW_AUTH_NONE);
    json_decref(params);
    //  A name that leaves the folder is a 404
    gw_req_t *req = gw_req_new("GET", "/dashboard/..");
    json_object_set_new(gw_req_params(req), "file", json_string(".."));
    gw_dashboard_file(req);
    assert(gw_req_status(req) == 404);
    gw_req_destroy(&req);
    printf("OK\n");
}
