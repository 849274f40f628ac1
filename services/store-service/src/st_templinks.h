/*  st_templinks - the `templink` message family: temporary QR links

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Wawp's /v2/session/temp-link (sql/0171_temp_links.sql): one link per
    session, known by the SHA-256 (64 hex) of its token only. A link
    travels as {session, instance_id, state: "active"|"expired"|"revoked",
    createdAt, expiresAt, revokedAt: null|int} (ms); `state` is computed
    with the database's clock.

      templink.create   {session, hash, ttl_ms}  -> the link (replaces any)
      templink.get      {session}                -> {link: null|the link}
      templink.revoke   {session}                -> {link: null|the link}
      templink.resolve  {hash}                   -> the link

    create answers 404 for an unknown session, 409 when the hash is taken
    (never, with random tokens); resolve 404 for a hash no link has (a
    replaced link's among them). ttl_ms is 1000..ST_TEMPLINKS_TTL_MAX.
*/
#ifndef ST_TEMPLINKS_H_INCLUDED
#define ST_TEMPLINKS_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  Longest life of a link, ms (one day).
#define ST_TEMPLINKS_TTL_MAX 86400000

//  Register the family on `r`. Returns 0.
int st_templinks_register(st_router_t *r);

void st_templinks_test(bool verbose);

#endif
