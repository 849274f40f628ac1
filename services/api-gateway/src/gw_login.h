/*  gw_login - linking a session to a WhatsApp account: the QR code and
    the pairing code (WAHA /api/{session}/auth/..., Wawp /v2/auth/...)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The QR string comes from the session-worker holding the session
    (session.qr -> {value}) while it is SCAN_QR_CODE; the gateway renders
    it:
      GET /api/{session}/auth/qr            image/png (default, and with
                                            format=image or Accept:
                                            image/png)
                 Accept: application/json   {mimetype:"image/png", data}
                 ?format=raw                {value}
      GET|POST /v2/auth/qr                  {mimetype, data}; format=raw
                                            gives {value}
      GET|POST /v2/auth/qr-image            {mimetype, data}; image/png
                                            with Accept: image/png
    The pairing code: session.pair_code {name, phoneNumber} -> {code}
    ("ABCD-EFGH"), while the session is STARTING or SCAN_QR_CODE.
*/
#ifndef GW_LOGIN_H_INCLUDED
#define GW_LOGIN_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  QR PNG pixels per module.
#define GW_LOGIN_QR_SCALE 6
//  Wait for the worker's pairing code (the server round trip), ms.
#define GW_LOGIN_CODE_TIMEOUT_MS 20000

//  Digits of a phone number ("+1 555-123 4567" -> "15551234567") into
//  out (size bytes). Returns 0, or -1 unless 7..15 digits.
int gw_login_phone(const char *text, char *out, size_t size);

void gw_login_qr(gw_req_t *req);
void gw_login_request_code(gw_req_t *req);
void gw_login_wawp_qr(gw_req_t *req);
void gw_login_wawp_qr_image(gw_req_t *req);
void gw_login_wawp_request_code(gw_req_t *req);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_login_schemas(void);

#define GW_LOGIN_TAG "🔑 Auth"
#define GW_LOGIN_WAWP_TAG "Wawp: Auth"
#define GW_LOGIN_WAWP_Q                                                        \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

//  Rows of gw_api's route table.
#define GW_LOGIN_ROUTES                                                        \
    {"GET",                                                                    \
     "/api/{session}/auth/qr",                                                 \
     gw_login_qr,                                                              \
     GW_AUTH_ADMIN,                                                            \
     200,                                                                      \
     GW_LOGIN_TAG,                                                             \
     "authQr",                                                                 \
     "The QR code to link the session (PNG, base64 JSON or raw text)",         \
     NULL,                                                                     \
     "QRCodeValue",                                                            \
     "format|string|image (default) or raw",                                   \
     false},                                                                   \
        {"POST",                                                               \
         "/api/{session}/auth/request-code",                                   \
         gw_login_request_code,                                                \
         GW_AUTH_ADMIN,                                                        \
         201,                                                                  \
         GW_LOGIN_TAG,                                                         \
         "authRequestCode",                                                    \
         "Link with a phone number: get the code to type on the phone",        \
         "RequestCodeRequest",                                                 \
         "RequestCodeResponse",                                                \
         NULL,                                                                 \
         false},                                                               \
        {"GET",                                                                \
         "/v2/auth/qr",                                                        \
         gw_login_wawp_qr,                                                     \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_LOGIN_WAWP_TAG,                                                    \
         "wawpAuthQrGet",                                                      \
         "The QR code (base64 PNG, or raw text with format=raw)",              \
         NULL,                                                                 \
         "QRCodeValue",                                                        \
         GW_LOGIN_WAWP_Q ";format|string|raw for the QR text",                 \
         false},                                                               \
        {"POST",                                                               \
         "/v2/auth/qr",                                                        \
         gw_login_wawp_qr,                                                     \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_LOGIN_WAWP_TAG,                                                    \
         "wawpAuthQr",                                                         \
         "The QR code (base64 PNG, or raw text with format=raw)",              \
         "WawpQrRequest",                                                      \
         "QRCodeValue",                                                        \
         GW_LOGIN_WAWP_Q,                                                      \
         false},                                                               \
        {"GET",                                                                \
         "/v2/auth/qr-image",                                                  \
         gw_login_wawp_qr_image,                                               \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_LOGIN_WAWP_TAG,                                                    \
         "wawpAuthQrImageGet",                                                 \
         "The QR code as a base64 PNG",                                        \
         NULL,                                                                 \
         "QRCodeValue",                                                        \
         GW_LOGIN_WAWP_Q,                                                      \
         false},                                                               \
        {"POST",                                                               \
         "/v2/auth/qr-image",                                                  \
         gw_login_wawp_qr_image,                                               \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_LOGIN_WAWP_TAG,                                                    \
         "wawpAuthQrImage",                                                    \
         "The QR code as a base64 PNG",                                        \
         "WawpInstanceRequest",                                                \
         "QRCodeValue",                                                        \
         GW_LOGIN_WAWP_Q,                                                      \
         false},                                                               \
        {"POST",                                                               \
         "/v2/auth/request-code",                                              \
         gw_login_wawp_request_code,                                           \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         GW_LOGIN_WAWP_TAG,                                                    \
         "wawpAuthRequestCode",                                                \
         "Link with a phone number: get the code to type on the phone",        \
         "WawpRequestCodeRequest",                                             \
         "RequestCodeResponse",                                                \
         GW_LOGIN_WAWP_Q ";phone_number|string|Phone number, international",   \
         false},

void gw_login_test(bool verbose);

#endif
