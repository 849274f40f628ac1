/*  gw_templink - temporary QR links (Wawp /v2/session/temp-link)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET    /v2/session/temp-link   the instance's link: {status, link:
                                     null | {active, created_at,
                                     expires_at, expires_in}, last}
      POST   /v2/session/temp-link   {expires_in?: s}: a new link (the
                                     old one stops working); its url is
                                     in this answer only
      DELETE /v2/session/temp-link   revoke it
      GET    /temp-qr/{token}        the QR page (no API key)
      GET    /temp-qr/{token}/state  what the page polls: {status,
                                     connected, qr, expiresAt, expiresIn}
      GET    /temp-qr-files/{file}   the page's script and style sheet

    An operator sends the url to someone who is to scan a session's QR
    without an API key. The token (GW_TEMPLINK_TOKEN_BYTES random bytes,
    hex) is shown once; the store keeps its SHA-256 (templink.*,
    sql/0171_temp_links.sql), no log line holds it (request logs show these
    paths with the token replaced by ***). It reaches the page and its state
   only: that one session's status and QR, nothing of the API. A link lasts
    expires_in seconds (GW_TEMPLINK_TTL_MIN..MAX, default
    GW_TEMPLINK_TTL_DEFAULT); an unknown or replaced token gets 404, an
    expired or revoked one 410 (an HTML page, or JSON from /state).
    Guessing is rate limited: every token lookup costs a token from the
    client address's bucket (GW_TEMPLINK_GUESS_PER_MIN a minute, burst
    GW_TEMPLINK_GUESS_BURST) and from one shared by all addresses
    (GW_TEMPLINK_GUESS_PER_S a second, burst GW_TEMPLINK_GUESS_ALL_BURST);
    a lookup that finds an active link gives both back, so a page that
    polls costs nothing, but one link answers at most GW_TEMPLINK_POLL_PER_S
    lookups a second. Past any of them: 429 with Retry-After.

    The page (www/templink/) polls /state every GW_TEMPLINK_POLL_MS: the
    QR as a PNG (data URI) while SCAN_QR_CODE, replaced as it rotates,
    "Connected" once WORKING, and a message once the link is gone.
*/
#ifndef GW_TEMPLINK_H_INCLUDED
#define GW_TEMPLINK_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

#define GW_TEMPLINK_TOKEN_BYTES 32
#define GW_TEMPLINK_TTL_MIN 60
#define GW_TEMPLINK_TTL_MAX 86400
#define GW_TEMPLINK_TTL_DEFAULT 600
#define GW_TEMPLINK_GUESS_PER_MIN 20
#define GW_TEMPLINK_GUESS_BURST 20
#define GW_TEMPLINK_GUESS_PER_S 20
#define GW_TEMPLINK_GUESS_ALL_BURST 100
//  Lookups of one active link, a second (burst: twice that).
#define GW_TEMPLINK_POLL_PER_S 5
#define GW_TEMPLINK_POLL_MS 2000
//  Longest Host header taken for the link's url (without WAHA_BASE_URL).
#define GW_TEMPLINK_HOST_MAX 255

#define GW_TEMPLINK_TAG "Wawp: Session"

#define GW_TEMPLINK_ROUTES                                                     \
    {"GET",                                                                    \
     "/v2/session/temp-link",                                                  \
     gw_templink_get,                                                          \
     GW_AUTH_INSTANCE,                                                         \
     200,                                                                      \
     GW_TEMPLINK_TAG,                                                          \
     "wawpSessionTempLinkGet",                                                 \
     "The instance's temporary QR link (its state; never its token)",          \
     NULL,                                                                     \
     "WawpTempLink",                                                           \
     "instance_id|string|Instance id",                                         \
     false},                                                                   \
        {"POST",                                                               \
         "/v2/session/temp-link",                                              \
         gw_templink_create,                                                   \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_TEMPLINK_TAG,                                                      \
         "wawpSessionTempLinkCreate",                                          \
         "Make a temporary QR link (replaces the last one); its url is in "    \
         "this answer only",                                                   \
         "WawpTempLinkRequest",                                                \
         "WawpTempLink",                                                       \
         "instance_id|string|Instance id;"                                     \
         "expires_in|integer|Seconds the link lasts (60..86400, default "      \
         "600)",                                                               \
         false},                                                               \
        {"DELETE",                                                             \
         "/v2/session/temp-link",                                              \
         gw_templink_revoke,                                                   \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_TEMPLINK_TAG,                                                      \
         "wawpSessionTempLinkDelete",                                          \
         "Revoke the temporary QR link",                                       \
         NULL,                                                                 \
         "WawpTempLink",                                                       \
         "instance_id|string|Instance id",                                     \
         false},                                                               \
        {"GET",                                                                \
         "/temp-qr/{token}",                                                   \
         gw_templink_page,                                                     \
         GW_AUTH_NONE,                                                         \
         200,                                                                  \
         GW_TEMPLINK_TAG,                                                      \
         "tempQrPage",                                                         \
         "The QR page of a temporary link (HTML; the token is the only "       \
         "credential)",                                                        \
         NULL,                                                                 \
         "HtmlPage",                                                           \
         NULL,                                                                 \
         false},                                                               \
        {"GET",                                                                \
         "/temp-qr/{token}/state",                                             \
         gw_templink_state,                                                    \
         GW_AUTH_NONE,                                                         \
         200,                                                                  \
         GW_TEMPLINK_TAG,                                                      \
         "tempQrState",                                                        \
         "The session's status and QR, for the page of a temporary link",      \
         NULL,                                                                 \
         "TempQrState",                                                        \
         NULL,                                                                 \
         false},                                                               \
        {"GET",                                                                \
         "/temp-qr-files/{file}",                                              \
         gw_templink_file,                                                     \
         GW_AUTH_NONE,                                                         \
         200,                                                                  \
         GW_TEMPLINK_TAG,                                                      \
         "tempQrFile",                                                         \
         "A file of the temporary link page",                                  \
         NULL,                                                                 \
         "StaticFile",                                                         \
         NULL,                                                                 \
         false},

void gw_templink_get(gw_req_t *req);
void gw_templink_create(gw_req_t *req);
void gw_templink_revoke(gw_req_t *req);
void gw_templink_page(gw_req_t *req);
void gw_templink_state(gw_req_t *req);
void gw_templink_file(gw_req_t *req);

//  `path` as request logs may show it: a link's paths with the token
//  replaced by *** (it never reaches a log), else `path`. Borrowed/static.
const char *gw_templink_log_path(const char *path);

json_t *gw_templink_schemas(void);

void gw_templink_test(bool verbose);

#endif
