/*  gw_dashboard - the dashboard at /dashboard

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET /dashboard           the page (www/dashboard/index.html)
      GET /dashboard/{file}    its script and style sheet

    Plain HTML, CSS and JavaScript (services/api-gateway/www/dashboard),
    no build step, served from GATEWAY_WWW_DIR/dashboard. The page calls
    the API like any client: the key is typed once and kept in the tab's
    sessionStorage only (never a cookie, never localStorage), sent as
    X-Api-Key, and on /ws as ?x-api-key=. It lists sessions and their
    status, creates, starts, stops, restarts, logs out and deletes them,
    shows the QR as it rotates (polling /api/{session}/auth/qr while
    SCAN_QR_CODE), requests a pairing code, monitors events over /ws and
    sends test messages (/api/sendText). No key is needed for the files.
*/
#ifndef GW_DASHBOARD_H_INCLUDED
#define GW_DASHBOARD_H_INCLUDED

#include <jansson.h>

#include "gw_req.h"

#define GW_DASHBOARD_ROUTES                                                    \
    {"GET",                                                                    \
     "/dashboard",                                                             \
     gw_dashboard_index,                                                       \
     GW_AUTH_NONE,                                                             \
     200,                                                                      \
     GW_SWAGGER_TAG,                                                           \
     "dashboard",                                                              \
     "The dashboard (HTML)",                                                   \
     NULL,                                                                     \
     "HtmlPage",                                                               \
     NULL,                                                                     \
     false},                                                                   \
        {"GET",                                                                \
         "/dashboard/{file}",                                                  \
         gw_dashboard_file,                                                    \
         GW_AUTH_NONE,                                                         \
         200,                                                                  \
         GW_SWAGGER_TAG,                                                       \
         "dashboardFile",                                                      \
         "A file of the dashboard",                                            \
         NULL,                                                                 \
         "StaticFile",                                                         \
         NULL,                                                                 \
         false},

void gw_dashboard_index(gw_req_t *req);
void gw_dashboard_file(gw_req_t *req);

json_t *gw_dashboard_schemas(void);

void gw_dashboard_test(bool verbose);

#endif
