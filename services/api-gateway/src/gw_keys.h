/*  gw_keys - API keys made through /api/keys: admin and session keys

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET    /api/keys        list (no secrets)
      POST   /api/keys        {isAdmin, session, isActive, actions}: make a
                              key; the answer holds `key`, shown once
      PUT    /api/keys/{id}   change isAdmin, session, isActive, actions
      DELETE /api/keys/{id}   delete

    WAHA's Keys API. Only the admin key of the environment or an admin key
    may call these. A key is 64 random hex digits after "wharf_"; the
    store keeps its SHA-512 only (sql/0040_api_keys.sql), and nothing
    logs it.

    Every gateway keeps the whole list in memory, reloaded from the store
    every GW_KEYS_REFRESH_MS by a thread of its own (and at once by the
    gateway that changed it), so checking a key costs no bus call and can
    happen before any body byte is read. A key deleted or deactivated on
    another gateway stops working there within GW_KEYS_REFRESH_MS.

    An admin key (isAdmin) is the environment's key. A session key
    reaches one session. It may call a route that takes a session (a
    {session} path segment, a documented `session` query parameter, a
    request schema with a `session` field), and every session the request
    names there (path, query, JSON body) must be its own and at least one
    must be named; any other route (list or create sessions, /api/keys,
    server routes, /v2 routes) and a request naming another session or
    none (/ws with session=*, a send without `session`) get 403. Its `actions`
   (WAHA's scopes; all true when not given) must allow the route: GET is read,
   DELETE delete, PUT setting, a POST whose path sends (send*, /send) send, any
   other POST control. The check is generic over the route table (gw_api), so a
    route added later is covered.
*/
#ifndef GW_KEYS_H_INCLUDED
#define GW_KEYS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_api.h"
#include "gw_config.h"
#include "gw_req.h"

#define GW_KEYS_REFRESH_MS 1000
#define GW_KEYS_PREFIX "wharf_"

//  Scopes (WAHA's actions)
#define GW_KEYS_READ 0x01
#define GW_KEYS_SEND 0x02
#define GW_KEYS_CONTROL 0x04
#define GW_KEYS_SETTING 0x08
#define GW_KEYS_APP 0x10
#define GW_KEYS_DELETE 0x20
#define GW_KEYS_ALL 0x3f

//  What a key may do.
typedef struct {
    bool admin;       //  an admin key
    char session[72]; //  a session key's session
    unsigned actions; //  GW_KEYS_* bits
    char id[40];      //  its id
} gw_keys_entry_t;

#define GW_KEYS_TAG "🔑 Api Keys"

#define GW_KEYS_ROUTES                                                         \
    {"GET",         "/api/keys",                                               \
     gw_keys_list,  GW_AUTH_ADMIN,                                             \
     200,           GW_KEYS_TAG,                                               \
     "apiKeysList", "List the API keys (their secrets are never shown again)", \
     NULL,          "ApiKeyList",                                              \
     NULL,          false},                                                    \
        {"POST",                                                               \
         "/api/keys",                                                          \
         gw_keys_create,                                                       \
         GW_AUTH_ADMIN,                                                        \
         201,                                                                  \
         GW_KEYS_TAG,                                                          \
         "apiKeysCreate",                                                      \
         "Make an admin or session key; the key is in this answer only",       \
         "ApiKeyRequest",                                                      \
         "ApiKeyCreated",                                                      \
         NULL,                                                                 \
         false},                                                               \
        {"PUT",                                                                \
         "/api/keys/{id}",                                                     \
         gw_keys_update,                                                       \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_KEYS_TAG,                                                          \
         "apiKeysUpdate",                                                      \
         "Change a key",                                                       \
         "ApiKeyRequest",                                                      \
         "ApiKey",                                                             \
         NULL,                                                                 \
         false},                                                               \
        {"DELETE",                                                             \
         "/api/keys/{id}",                                                     \
         gw_keys_delete,                                                       \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_KEYS_TAG,                                                          \
         "apiKeysDelete",                                                      \
         "Delete a key",                                                       \
         NULL,                                                                 \
         "Empty",                                                              \
         NULL,                                                                 \
         false},

void gw_keys_list(gw_req_t *req);
void gw_keys_create(gw_req_t *req);
void gw_keys_update(gw_req_t *req);
void gw_keys_delete(gw_req_t *req);

//  Start the thread that reloads the keys (once per process; later calls
//  do nothing). Returns 0 or -1.
int gw_keys_start(const gw_config_t *config);
//  Stop it.
void gw_keys_stop(void);

//  The active key `secret` into *entry (memory only, any thread). False
//  when it is no made key or not active.
bool gw_keys_lookup(const char *secret, gw_keys_entry_t *entry);

//  The scope a route needs (GW_KEYS_* bit), from its method and path.
unsigned gw_keys_action(const char *method, const char *path);

//  True if `route` takes a session: a {session} path segment, a
//  `session` query parameter or a request schema with a `session`
//  property (from the route table and the OpenAPI schemas).
bool gw_keys_route_scoped(const gw_route_t *route);

//  Whether session key `entry` may make request `req` on `route`: 0, or
//  -1 after a 403 response.
int gw_keys_check(gw_req_t *req, const gw_route_t *route,
                  const gw_keys_entry_t *entry);

json_t *gw_keys_schemas(void);

void gw_keys_test(bool verbose);

#endif
