/*  gw_stories - status updates, WhatsApp's 24-hour stories (WAHA
    /api/{session}/status/…, Wawp /v2/status/…)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    (Named stories: gw_status is the server's own status.)

    Routes (GW_STORIES_ROUTES), each one command to the worker holding
    the session (proto/PROTOCOL.md, family worker; 422 unless WORKING),
    answered with the WAMessage once WhatsApp took it:
      POST /api/{session}/status/text  {text, backgroundColor?, font?,
          linkPreview? (true), linkPreviewHighQuality?, contacts?, id?}
                                                    status.send_text
      POST /api/{session}/status/image {file, caption?, contacts?, id?}
      POST /api/{session}/status/voice {file, convert?, backgroundColor?,
          contacts?, id?}
      POST /api/{session}/status/video {file, convert?, caption?,
          contacts?, id?}                           status.send_media
      POST /api/{session}/status/delete {id, contacts?}  status.delete
      GET  /api/{session}/status/new-message-id -> {id} (gw_kinds')
      Wawp: POST /v2/status/text|image|voice|video|delete
    `contacts` (chat ids, at most WA_STATUS_RECIPIENTS_MAX) restricts the
    recipients; without it the status goes to the session's contacts:
    the person chats the store knows (as /contacts/all lists them); none
    is a 422. `id` (from new-message-id) sends one status to its contacts
    in batches. `delete` takes our status's id (bare or
    true_status@broadcast_<id>), checked against the stored messages: an
    unknown one is 404. Errors name the field: a backgroundColor that is
    no #RRGGBB / #AARRGGBB colour, a font other than 0-2 and 6-10, a
    missing text or file: 400.
*/
#ifndef GW_STORIES_H_INCLUDED
#define GW_STORIES_H_INCLUDED

#include <jansson.h>

#include "gw_req.h"

//  Most of the session's contacts a status goes to when the caller
//  names none (the newest chats; the store's largest page).
#define GW_STORIES_CONTACTS_MAX 1000
//  Longest status text, bytes.
#define GW_STORIES_TEXT_MAX 65536

void gw_stories_text(gw_req_t *req);
void gw_stories_image(gw_req_t *req);
void gw_stories_voice(gw_req_t *req);
void gw_stories_video(gw_req_t *req);
void gw_stories_delete(gw_req_t *req);
void gw_stories_wawp_text(gw_req_t *req);
void gw_stories_wawp_image(gw_req_t *req);
void gw_stories_wawp_voice(gw_req_t *req);
void gw_stories_wawp_video(gw_req_t *req);
void gw_stories_wawp_delete(gw_req_t *req);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_stories_schemas(void);

#define GW_STORIES_TAG "🖼️ Status"
#define GW_STORIES_WAWP_Q                                                      \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

#define GW_STORIES_ROW(method, path, fn, auth, status, op, summary, request,   \
                       response)                                               \
    {                                                                          \
        method, path, fn, auth, status, GW_STORIES_TAG, op, summary, request,  \
            response, NULL, false                                              \
    }
#define GW_STORIES_WAWP(path, fn, op, summary, request)                        \
    {                                                                          \
        "POST", path, fn, GW_AUTH_INSTANCE, 200, "Wawp: Status", op, summary,  \
            request, "WAMessage", GW_STORIES_WAWP_Q, false                     \
    }

//  Rows of gw_api's route table.
#define GW_STORIES_ROUTES                                                      \
    GW_STORIES_ROW("POST", "/api/{session}/status/text", gw_stories_text,      \
                   GW_AUTH_ADMIN, 201, "statusText", "Send a text status",     \
                   "StatusTextRequest", "WAMessage"),                          \
        GW_STORIES_ROW("POST", "/api/{session}/status/image",                  \
                       gw_stories_image, GW_AUTH_ADMIN, 201, "statusImage",    \
                       "Send an image status", "StatusImageRequest",           \
                       "WAMessage"),                                           \
        GW_STORIES_ROW("POST", "/api/{session}/status/voice",                  \
                       gw_stories_voice, GW_AUTH_ADMIN, 201, "statusVoice",    \
                       "Send a voice status", "StatusVoiceRequest",            \
                       "WAMessage"),                                           \
        GW_STORIES_ROW("POST", "/api/{session}/status/video",                  \
                       gw_stories_video, GW_AUTH_ADMIN, 201, "statusVideo",    \
                       "Send a video status", "StatusVideoRequest",            \
                       "WAMessage"),                                           \
        GW_STORIES_ROW("POST", "/api/{session}/status/delete",                 \
                       gw_stories_delete, GW_AUTH_ADMIN, 201, "statusDelete",  \
                       "Delete a status", "StatusDeleteRequest", "WAMessage"), \
        GW_STORIES_ROW("GET", "/api/{session}/status/new-message-id",          \
                       gw_kinds_new_id, GW_AUTH_ADMIN, 200,                    \
                       "statusNewMessageId",                                   \
                       "A message id for a status sent in batches", NULL,      \
                       "NewMessageId"),                                        \
        GW_STORIES_WAWP("/v2/status/text", gw_stories_wawp_text,               \
                        "wawpStatusText", "Send a text status (Wawp)",         \
                        "StatusTextRequest"),                                  \
        GW_STORIES_WAWP("/v2/status/image", gw_stories_wawp_image,             \
                        "wawpStatusImage", "Send an image status (Wawp)",      \
                        "StatusImageRequest"),                                 \
        GW_STORIES_WAWP("/v2/status/voice", gw_stories_wawp_voice,             \
                        "wawpStatusVoice", "Send a voice status (Wawp)",       \
                        "StatusVoiceRequest"),                                 \
        GW_STORIES_WAWP("/v2/status/video", gw_stories_wawp_video,             \
                        "wawpStatusVideo", "Send a video status (Wawp)",       \
                        "StatusVideoRequest"),                                 \
        GW_STORIES_WAWP("/v2/status/delete", gw_stories_wawp_delete,           \
                        "wawpStatusDelete", "Delete a status (Wawp)",          \
                        "StatusDeleteRequest"),

void gw_stories_test(bool verbose);

#endif
