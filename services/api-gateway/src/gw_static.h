/*  gw_static - static files the gateway serves (Swagger UI, dashboard)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Files live under GATEWAY_WWW_DIR (gw_config_www_dir), one folder per
    user: swagger-ui/ (copied from the npm package swagger-ui-dist by
    scripts/www-npm.sh), docs/ (our Swagger UI page) and dashboard/
    (services/api-gateway/www/). A name is one path segment of letters,
    digits, '.', '-' and '_' that does not start with '.', so nothing
    outside the folder can be named. Files are read at each request (at
    most GW_STATIC_MAX bytes), with their Content-Type from the extension
    and no caching beyond the request.
*/
#ifndef GW_STATIC_H_INCLUDED
#define GW_STATIC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "gw_req.h"

//  Largest static file served.
#define GW_STATIC_MAX (8 * 1024 * 1024)

//  True if `name` is a file name we serve (see above).
bool gw_static_name_ok(const char *name);

//  The Content-Type for `name`'s extension.
const char *gw_static_type(const char *name);

//  Answer with <www>/<folder>/<name>: 200 and its bytes, or 404 in the
//  API's error shape when the name is not allowed or the file is missing.
void gw_static_serve(gw_req_t *req, const char *folder, const char *name);

//  The bytes of <www>/<folder>/<name> (NUL-terminated), or NULL. Caller
//  owns return value.
char *gw_static_read(const char *www, const char *folder, const char *name,
                     size_t *len_p);

void gw_static_test(bool verbose);

#endif
