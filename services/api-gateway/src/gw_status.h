/*  gw_status - the server's status and environment (WAHA's)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET /api/server/status        {startTimestamp, uptime} (ms)
      GET /api/server/environment   the process's WAHA_*, WHATSAPP_* and
                                    DEBUG variables, sorted by name
                                    (?all=true: every variable)

    Values of variables whose names say they hold a secret (KEY, SECRET,
    PASSWORD, TOKEN, PASS, DATABASE_URL, a URL with a password) are
    replaced by "***": WAHA shows them, Wharf does not.
*/
#ifndef GW_STATUS_H_INCLUDED
#define GW_STATUS_H_INCLUDED

#include "gw_req.h"

#define GW_STATUS_TAG "Observability"

#define GW_STATUS_ROUTES                                                       \
    {"GET",                                                                    \
     "/api/server/status",                                                     \
     gw_status_status,                                                         \
     GW_AUTH_ADMIN,                                                            \
     200,                                                                      \
     GW_STATUS_TAG,                                                            \
     "serverStatus",                                                           \
     "The server status",                                                      \
     NULL,                                                                     \
     "ServerStatusResponse",                                                   \
     NULL,                                                                     \
     false},                                                                   \
        {"GET",                                                                \
         "/api/server/environment",                                            \
         gw_status_environment,                                                \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_STATUS_TAG,                                                        \
         "serverEnvironment",                                                  \
         "The server environment (secrets masked)",                            \
         NULL,                                                                 \
         "ServerEnvironment",                                                  \
         "all|boolean|Every variable, not only WAHA_*, WHATSAPP_* and DEBUG",  \
         false},

void gw_status_status(gw_req_t *req);
void gw_status_environment(gw_req_t *req);

//  Milliseconds since the epoch when the process started.
int64_t gw_status_started_ms(void);

//  The environment object as the route answers it (all: every variable).
//  Caller owns return value.
json_t *gw_status_env(char **env, bool all);

json_t *gw_status_schemas(void);

void gw_status_test(bool verbose);

#endif
