/*  st_apikeys - the `apikey` message family: keys made through /api/keys

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A key travels as {id, hash, isAdmin, session, isActive, actions,
    createdAt} (sql/0040_api_keys.sql); the key itself never reaches the
    store, only its SHA-512 in hex.

      apikey.create  {id, hash, isAdmin, session?, isActive?, actions?}
                                                            -> the key
      apikey.list    {}                                     -> {keys:[...]}
      apikey.update  {id, isAdmin?, session?, isActive?, actions?}
                                                            -> the key
      apikey.delete  {id}                                   -> {}

    A non-admin key must name a session (400). create answers 409 when
    the id or hash exists; update and delete 404 for an unknown id. The
    gateways load the whole list every second (gw_keys).
*/
#ifndef ST_APIKEYS_H_INCLUDED
#define ST_APIKEYS_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  Most keys the store holds (create answers 409 past it).
#define ST_APIKEYS_MAX 10000

//  Register the family on `r`. Returns 0.
int st_apikeys_register(st_router_t *r);

void st_apikeys_test(bool verbose);

#endif
