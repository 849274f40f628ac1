/*  cm_waha - the values Wharf reports where WAHA reports its own identity

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    WAHA's webhook envelopes carry `engine` (one of its engines) and an
    `environment` object, which GET /api/server/version also answers. A
    client generated from WAHA's OpenAPI document rejects any other engine
    name, so Wharf reports the WAHA engine it is configured to stand in for
    (WHATSAPP_DEFAULT_ENGINE, WAHA's own variable) and puts its own name in
    environment.browser (a free string in WAHA's schema).
*/
#ifndef CM_WAHA_H_INCLUDED
#define CM_WAHA_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

//  WAHA's engine names, as cm_env_choice() takes them.
#define CM_WAHA_ENGINES "WEBJS|WPP|NOWEB|GOWS"
//  The default: GOWS is WAHA's browserless multi-device engine, the
//  closest to what Wharf is (and the one WAHA recommends).
#define CM_WAHA_ENGINE_DEFAULT "GOWS"
//  WAHA's tier name for its free edition.
#define CM_WAHA_TIER "CORE"

//  True if `engine` is one of CM_WAHA_ENGINES.
bool cm_waha_engine_valid(const char *engine);

//  WAHA's environment object: {version, engine, tier, browser, platform,
//  worker: {id}}; `platform` like "linux/x64" (NULL: this machine's);
//  `worker` may be NULL (worker.id is then null). Caller owns return value.
json_t *cm_waha_environment(const char *engine, const char *platform,
                            const char *worker);

//  This machine as WAHA names platforms ("linux/x64", "linux/arm64").
void cm_waha_platform(char *out, size_t size);

void cm_waha_test(bool verbose);

#endif
