/*  gw_swagger - Swagger UI and the OpenAPI document at WAHA's paths

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET /                    Swagger UI (WAHA's place for it)
      GET /-json               the OpenAPI document (WAHA's path; the same
                               as /api/openapi.json)
      GET /swagger-ui/{file}   Swagger UI's files

    Swagger UI is the npm package swagger-ui-dist, copied into
    GATEWAY_WWW_DIR/swagger-ui by scripts/www-npm.sh at build or test-setup
    time (the Docker image ships it): nothing is fetched from elsewhere at
    run time. The page (www/docs/index.html and swagger-init.js) loads the
    document from /api/openapi.json; without the npm files it says so and
    links the document. No key is needed for these: the page holds no
    secret, and "Authorize" sends the key the user types.

    The OpenAPI document also carries examples for the main operations
    (gw_swagger_examples), keyed by operationId.
*/
#ifndef GW_SWAGGER_H_INCLUDED
#define GW_SWAGGER_H_INCLUDED

#include <jansson.h>

#include "gw_req.h"

#define GW_SWAGGER_TAG "UI"

#define GW_SWAGGER_ROUTES                                                      \
    {                                                                          \
        "GET",                                                                 \
        "/",                                                                   \
        gw_swagger_index,                                                      \
        GW_AUTH_NONE,                                                          \
        200,                                                                   \
        GW_SWAGGER_TAG,                                                        \
        "swaggerUi",                                                           \
        "Swagger UI (HTML)",                                                   \
        NULL,                                                                  \
        "HtmlPage",                                                            \
        NULL,                                                                  \
        false},                                                                \
        {"GET",                                                                \
         "/-json",                                                             \
         gw_server_openapi,                                                    \
         GW_AUTH_NONE,                                                         \
         200,                                                                  \
         GW_SWAGGER_TAG,                                                       \
         "openapiWaha",                                                        \
         "This OpenAPI document (WAHA's path)",                                \
         NULL,                                                                 \
         "OpenApiDocument",                                                    \
         NULL,                                                                 \
         false},                                                               \
        {"GET",                                                                \
         "/swagger-ui/{file}",                                                 \
         gw_swagger_file,                                                      \
         GW_AUTH_NONE,                                                         \
         200,                                                                  \
         GW_SWAGGER_TAG,                                                       \
         "swaggerUiFile",                                                      \
         "A file of Swagger UI",                                               \
         NULL,                                                                 \
         "StaticFile",                                                         \
         NULL,                                                                 \
         false},

void gw_swagger_index(gw_req_t *req);
void gw_swagger_file(gw_req_t *req);

//  Add request and response examples of the main operations to `doc`
//  (an OpenAPI document); operations it lacks are skipped.
void gw_swagger_examples(json_t *doc);

json_t *gw_swagger_schemas(void);

void gw_swagger_test(bool verbose);

#endif
