/*  gw_screenshot - a picture of a session's state

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

      GET /api/screenshot?session=             WAHA
      GET|POST /v2/session/screenshot          Wawp form (instance_id)

    A PNG: the QR code while the session is in SCAN_QR_CODE, otherwise a
    status card (session, status, account, name) drawn with a built-in
    5x7 font. Binary image/png by default; {mimetype, data} (base64) when
    Accept names application/json and not an image (WAHA's shapes). The
    Wawp form answers {mimetype, data} unless Accept names image/png.
*/
#ifndef GW_SCREENSHOT_H_INCLUDED
#define GW_SCREENSHOT_H_INCLUDED

#include "gw_req.h"

//  Status card size and scale (pixels per font dot).
#define GW_SCREENSHOT_WIDTH 480
#define GW_SCREENSHOT_HEIGHT 220
#define GW_SCREENSHOT_SCALE 3

#define GW_SCREENSHOT_TAG "Screenshot"

#define GW_SCREENSHOT_ROUTES                                                   \
    {"GET",                                                                    \
     "/api/screenshot",                                                        \
     gw_screenshot_get,                                                        \
     GW_AUTH_ADMIN,                                                            \
     200,                                                                      \
     GW_SCREENSHOT_TAG,                                                        \
     "screenshot",                                                             \
     "A PNG of the session: its QR code, or a status card",                    \
     NULL,                                                                     \
     "QRCodeValue",                                                            \
     "session|string|Session name (default: default)",                         \
     false},                                                                   \
        {"GET",                                                                \
         "/v2/session/screenshot",                                             \
         gw_screenshot_wawp,                                                   \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_SCREENSHOT_TAG,                                                    \
         "wawpScreenshotGet",                                                  \
         "A PNG of the instance as base64 ({mimetype, data})",                 \
         NULL,                                                                 \
         "QRCodeValue",                                                        \
         "instance_id|string|Instance id",                                     \
         false},                                                               \
        {"POST",                                                               \
         "/v2/session/screenshot",                                             \
         gw_screenshot_wawp,                                                   \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_SCREENSHOT_TAG,                                                    \
         "wawpScreenshot",                                                     \
         "A PNG of the instance as base64 ({mimetype, data})",                 \
         "WawpInstanceRequest",                                                \
         "QRCodeValue",                                                        \
         "instance_id|string|Instance id",                                     \
         false},

void gw_screenshot_get(gw_req_t *req);
void gw_screenshot_wawp(gw_req_t *req);

//  The status card of `lines` (NULL-terminated; the first is the title)
//  as a PNG. Caller owns *png_p. Returns 0 or -1.
int gw_screenshot_card(const char *const *lines, uint8_t **png_p,
                       size_t *len_p);

json_t *gw_screenshot_schemas(void);

void gw_screenshot_test(bool verbose);

#endif
