/*  gw_api - the route table, the router and the OpenAPI document

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One table lists every route the gateway serves. The router matches
    requests against it and the OpenAPI 3 document at /api/openapi.json is
    generated from it, so the two cannot drift.
*/
#ifndef GW_API_H_INCLUDED
#define GW_API_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gw_config.h"
#include "gw_req.h"

//  A route handler: reads the request and sets its response.
typedef void(gw_handler_fn)(gw_req_t *req);

//  Who may call a route (WAHA_API_KEY_EXCLUDE_PATH can lift the check).
typedef enum {
    GW_AUTH_NONE = 0,    //  anyone
    GW_AUTH_ADMIN = 1,   //  the admin API key
    GW_AUTH_INSTANCE = 2 //  the admin key or the instance's access token;
                         //  the handler checks the token
} gw_auth_t;

typedef struct {
    const char *method;     //  GET, POST, PUT, DELETE
    const char *path;       //  pattern; {name} matches one segment
    gw_handler_fn *handler; //  the handler
    gw_auth_t auth;         //  who may call it
    int success;            //  status on success (200, 201)
    const char *tag;        //  OpenAPI tag
    const char *op_id;      //  OpenAPI operationId (unique)
    const char *summary;    //  one line
    const char *request;    //  components schema of the body, or NULL
    const char *response;   //  components schema of the result, or NULL
    const char *query;      //  "name|type|description;..." or NULL
    bool deprecated;        //  kept for old clients
} gw_route_t;

//  Largest number of path parameters in a pattern.
#define GW_API_MAX_SEGMENTS 16

//  The route table and its size. Borrowed, static.
const gw_route_t *gw_api_routes(size_t *count_p);

//  The route for `method` and `path`, filling `params` (a JSON object)
//  with path parameters. NULL when none matches; then *allow_p is set
//  (caller owns it) to the methods the path accepts when the path exists
//  with other methods (405), or NULL (404). HEAD matches GET routes.
const gw_route_t *gw_api_match(const char *method, const char *path,
                               json_t *params, char **allow_p);

//  The methods `path` accepts other than `skip` ("GET, POST"), or NULL.
//  Caller owns return value.
char *gw_api_allow(const char *path, const char *skip);

//  True for a GET route that changes state (GATEWAY_SIDE_EFFECT_GETS).
bool gw_api_side_effect_get(const gw_route_t *route);

//  The OpenAPI 3 document for `config` (NULL: the defaults): routes the
//  key check does not apply to (WAHA_API_KEY_EXCLUDE_PATH) carry no
//  security requirement; side-effect GETs are left out when turned off.
//  Caller owns return value.
json_t *gw_api_openapi(const gw_config_t *config);

void gw_api_test(bool verbose);

#endif
