/*  gw_profile - the account's own profile: name, about, picture
    (WAHA /api/{session}/profile..., Wawp /v2/profile...)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Routes and the worker commands they send (proto/PROTOCOL.md):
      GET    …/profile          profile.get -> {id, name, picture}
      PUT    …/profile/name     {name} -> profile.set_name {pushName}
      PUT    …/profile/status   {status} -> profile.set_status
      PUT    …/profile/picture  {file:{url | data, mimetype?}}: the image
             (JPEG, PNG or WebP) goes to media-service
             (media.profile_picture), which crops it square and makes
             the 640x640 picture and its 96x96 preview; both go to
             profile.set_picture as blobs
      DELETE …/profile/picture  profile.delete_picture
    Setters answer {success:true}. Bad input is a 400 naming the field
    with nothing sent (a file that is not an image: media-service's 400).
*/
#ifndef GW_PROFILE_H_INCLUDED
#define GW_PROFILE_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Longest name and about, bytes.
#define GW_PROFILE_NAME_MAX 100
#define GW_PROFILE_STATUS_MAX 1024
//  Largest picture file taken (before media-service makes it 640x640).
#define GW_PROFILE_FILE_MAX (16 * 1024 * 1024)
//  Wait for WhatsApp's answer, ms.
#define GW_PROFILE_TIMEOUT_MS 20000

void gw_profile_get(gw_req_t *req);
void gw_profile_set_name(gw_req_t *req);
void gw_profile_set_status(gw_req_t *req);
void gw_profile_set_picture(gw_req_t *req);

//  The request's picture input {file:{url | data (base64, or a data:
//  URL)}} as a media.profile_picture request for media-service. NULL
//  after a 400 naming the field. Caller owns return value.
cm_msg_t *gw_profile_picture_input(gw_req_t *req);
//  The same from input `field` (a channel's "picture"), 400s naming it.
cm_msg_t *gw_profile_picture_field(gw_req_t *req, const char *field);

//  Send that request (taken) to media-service: its reply, blob 0 the
//  centre square as a 640x640 JPEG, blob 1 as a 96x96 one. NULL after
//  a response (media-service's 4xx as they are: not an image, too
//  large, a refused URL; else 502/503/504). Caller owns return value.
cm_msg_t *gw_profile_picture_make(gw_req_t *req, cm_msg_t **msg_p);
void gw_profile_delete_picture(gw_req_t *req);

json_t *gw_profile_schemas(void);

#define GW_PROFILE_TAG "🆔 Profile"
#define GW_PROFILE_WAWP_TAG "Wawp: Profile"
#define GW_PROFILE_WAWP_Q                                                      \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

#define GW_PROFILE_ROUTE(method, path, handler, auth, tag, op, sum, req, res,  \
                         query)                                                \
    {                                                                          \
        method, path, handler, auth, 200, tag, op, sum, req, res, query, false \
    }

#define GW_PROFILE_ROUTES                                                      \
    GW_PROFILE_ROUTE("GET", "/api/{session}/profile", gw_profile_get,          \
                     GW_AUTH_ADMIN, GW_PROFILE_TAG, "profileGet",              \
                     "The account's profile", NULL, "MyProfile", NULL),        \
        GW_PROFILE_ROUTE("PUT", "/api/{session}/profile/name",                 \
                         gw_profile_set_name, GW_AUTH_ADMIN, GW_PROFILE_TAG,   \
                         "profileSetName", "Set the display (push) name",      \
                         "ProfileNameRequest", "SuccessResponse", NULL),       \
        GW_PROFILE_ROUTE("PUT", "/api/{session}/profile/status",               \
                         gw_profile_set_status, GW_AUTH_ADMIN, GW_PROFILE_TAG, \
                         "profileSetStatus", "Set the about text",             \
                         "ProfileStatusRequest", "SuccessResponse", NULL),     \
        GW_PROFILE_ROUTE("PUT", "/api/{session}/profile/picture",              \
                         gw_profile_set_picture, GW_AUTH_ADMIN,                \
                         GW_PROFILE_TAG, "profileSetPicture",                  \
                         "Set the profile picture", "ProfilePictureRequest",   \
                         "SuccessResponse", NULL),                             \
        GW_PROFILE_ROUTE("DELETE", "/api/{session}/profile/picture",           \
                         gw_profile_delete_picture, GW_AUTH_ADMIN,             \
                         GW_PROFILE_TAG, "profileDeletePicture",               \
                         "Remove the profile picture", NULL,                   \
                         "SuccessResponse", NULL),                             \
        GW_PROFILE_ROUTE("GET", "/v2/profile", gw_profile_get,                 \
                         GW_AUTH_INSTANCE, GW_PROFILE_WAWP_TAG,                \
                         "wawpProfileGet", "The account's profile", NULL,      \
                         "MyProfile", GW_PROFILE_WAWP_Q),                      \
        GW_PROFILE_ROUTE("PUT", "/v2/profile/name", gw_profile_set_name,       \
                         GW_AUTH_INSTANCE, GW_PROFILE_WAWP_TAG,                \
                         "wawpProfileSetName", "Set the display (push) name",  \
                         "ProfileNameRequest", "SuccessResponse",              \
                         GW_PROFILE_WAWP_Q),                                   \
        GW_PROFILE_ROUTE("PUT", "/v2/profile/status", gw_profile_set_status,   \
                         GW_AUTH_INSTANCE, GW_PROFILE_WAWP_TAG,                \
                         "wawpProfileSetStatus", "Set the about text",         \
                         "ProfileStatusRequest", "SuccessResponse",            \
                         GW_PROFILE_WAWP_Q),                                   \
        GW_PROFILE_ROUTE("PUT", "/v2/profile/picture", gw_profile_set_picture, \
                         GW_AUTH_INSTANCE, GW_PROFILE_WAWP_TAG,                \
                         "wawpProfileSetPicture", "Set the profile picture",   \
                         "ProfilePictureRequest", "SuccessResponse",           \
                         GW_PROFILE_WAWP_Q),                                   \
        GW_PROFILE_ROUTE("DELETE", "/v2/profile/picture",                      \
                         gw_profile_delete_picture, GW_AUTH_INSTANCE,          \
                         GW_PROFILE_WAWP_TAG, "wawpProfileDeletePicture",      \
                         "Remove the profile picture", NULL,                   \
                         "SuccessResponse", GW_PROFILE_WAWP_Q),

void gw_profile_test(bool verbose);

#endif
