/*  gw_presence - presence and chat states (WAHA /api/{session}/presence,
    /api/startTyping, /api/stopTyping; Wawp /v2 aliases)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Routes (GW_PRESENCE_ROUTES, listed in gw_api's table), each one
    command to the worker holding the session (proto/PROTOCOL.md, family
    worker; 422 unless WORKING):
      POST /api/{session}/presence {presence, chatId?}        presence.set
          presence: online, offline, typing, recording, paused; chatId
          (a person or group) is required for the last three
      GET  /api/{session}/presence                            presence.get
          -> WAHAChatPresences[] of every chat heard from
      GET  /api/{session}/presence/{chatId}     presence.get {subscribe}
          -> WAHAChatPresences {id, presences:[{participant,
             lastKnownPresence, lastSeen}]}: subscribes, answers the last
             known (empty presences until WhatsApp told any)
      POST /api/{session}/presence/{chatId}/subscribe   presence.subscribe
      POST /api/startTyping, /api/stopTyping {session?, chatId}
          typing / paused -> {result:true}; /api/startRecording and
          /api/stopRecording (Wharf's) the same with recording
      Wawp: POST /v2/presence, GET /v2/presence, GET /v2/presence/{chatId},
          POST /v2/presence/{chatId}/subscribe, POST /v2/send/start-typing,
          /v2/send/stop-typing (instance_id, access_token)
    Errors: an unknown presence, a missing or malformed chatId: 400
    naming the field.
*/
#ifndef GW_PRESENCE_H_INCLUDED
#define GW_PRESENCE_H_INCLUDED

#include <jansson.h>

#include "gw_req.h"

void gw_presence_set(gw_req_t *req);
void gw_presence_list(gw_req_t *req);
void gw_presence_get(gw_req_t *req);
void gw_presence_subscribe(gw_req_t *req);
void gw_presence_start_typing(gw_req_t *req);
void gw_presence_stop_typing(gw_req_t *req);
void gw_presence_start_recording(gw_req_t *req);
void gw_presence_stop_recording(gw_req_t *req);
void gw_presence_wawp_set(gw_req_t *req);
void gw_presence_wawp_list(gw_req_t *req);
void gw_presence_wawp_get(gw_req_t *req);
void gw_presence_wawp_subscribe(gw_req_t *req);
void gw_presence_wawp_start_typing(gw_req_t *req);
void gw_presence_wawp_stop_typing(gw_req_t *req);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_presence_schemas(void);

#define GW_PRESENCE_TAG "✅ Presence"
#define GW_PRESENCE_WAWP_Q                                                     \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

#define GW_PRESENCE_ROW(method, path, fn, auth, status, op, summary, request,  \
                        response, query)                                       \
    {                                                                          \
        method, path, fn, auth, status, GW_PRESENCE_TAG, op, summary, request, \
            response, query, false                                             \
    }

//  Rows of gw_api's route table.
#define GW_PRESENCE_ROUTES                                                     \
    GW_PRESENCE_ROW("POST", "/api/{session}/presence", gw_presence_set,        \
                    GW_AUTH_ADMIN, 201, "presenceSet",                         \
                    "Set the session's presence or a chat state",              \
                    "WAHASessionPresence", "Empty", NULL),                     \
        GW_PRESENCE_ROW("GET", "/api/{session}/presence", gw_presence_list,    \
                        GW_AUTH_ADMIN, 200, "presenceGetAll",                  \
                        "The last known presences of every chat", NULL,        \
                        "WAHAChatPresencesList", NULL),                        \
        GW_PRESENCE_ROW("GET", "/api/{session}/presence/{chatId}",             \
                        gw_presence_get, GW_AUTH_ADMIN, 200, "presenceGet",    \
                        "Subscribe to a chat's presence and get the last "     \
                        "known",                                               \
                        NULL, "WAHAChatPresences", NULL),                      \
        GW_PRESENCE_ROW(                                                       \
            "POST", "/api/{session}/presence/{chatId}/subscribe",              \
            gw_presence_subscribe, GW_AUTH_ADMIN, 201, "presenceSubscribe",    \
            "Subscribe to a contact's presence", NULL, "Empty", NULL),         \
        GW_PRESENCE_ROW("POST", "/api/startTyping", gw_presence_start_typing,  \
                        GW_AUTH_ADMIN, 201, "startTyping",                     \
                        "Show 'typing…' in a chat", "ChatRequest",             \
                        "ResultTrue", NULL),                                   \
        GW_PRESENCE_ROW("POST", "/api/stopTyping", gw_presence_stop_typing,    \
                        GW_AUTH_ADMIN, 201, "stopTyping",                      \
                        "Stop showing 'typing…' in a chat", "ChatRequest",     \
                        "ResultTrue", NULL),                                   \
        GW_PRESENCE_ROW("POST", "/api/startRecording",                         \
                        gw_presence_start_recording, GW_AUTH_ADMIN, 201,       \
                        "startRecording",                                      \
                        "Show 'recording audio…' in a chat (Wharf)",           \
                        "ChatRequest", "ResultTrue", NULL),                    \
        GW_PRESENCE_ROW("POST", "/api/stopRecording",                          \
                        gw_presence_stop_recording, GW_AUTH_ADMIN, 201,        \
                        "stopRecording",                                       \
                        "Stop showing 'recording audio…' (Wharf)",             \
                        "ChatRequest", "ResultTrue", NULL),                    \
        GW_PRESENCE_ROW("POST", "/v2/presence", gw_presence_wawp_set,          \
                        GW_AUTH_INSTANCE, 200, "wawpPresenceSet",              \
                        "Set the presence or a chat state (Wawp)",             \
                        "WAHASessionPresence", "Empty", GW_PRESENCE_WAWP_Q),   \
        GW_PRESENCE_ROW("GET", "/v2/presence", gw_presence_wawp_list,          \
                        GW_AUTH_INSTANCE, 200, "wawpPresenceGetAll",           \
                        "The last known presences (Wawp)", NULL,               \
                        "WAHAChatPresencesList", GW_PRESENCE_WAWP_Q),          \
        GW_PRESENCE_ROW("GET", "/v2/presence/{chatId}", gw_presence_wawp_get,  \
                        GW_AUTH_INSTANCE, 200, "wawpPresenceGet",              \
                        "Subscribe and get a chat's presence (Wawp)", NULL,    \
                        "WAHAChatPresences", GW_PRESENCE_WAWP_Q),              \
        GW_PRESENCE_ROW("POST", "/v2/presence/{chatId}/subscribe",             \
                        gw_presence_wawp_subscribe, GW_AUTH_INSTANCE, 200,     \
                        "wawpPresenceSubscribe",                               \
                        "Subscribe to a contact's presence (Wawp)", NULL,      \
                        "Empty", GW_PRESENCE_WAWP_Q),                          \
        GW_PRESENCE_ROW("POST", "/v2/send/start-typing",                       \
                        gw_presence_wawp_start_typing, GW_AUTH_INSTANCE, 200,  \
                        "wawpStartTyping", "Show 'typing…' (Wawp)",            \
                        "ChatRequest", "ResultTrue", GW_PRESENCE_WAWP_Q),      \
        GW_PRESENCE_ROW("POST", "/v2/send/stop-typing",                        \
                        gw_presence_wawp_stop_typing, GW_AUTH_INSTANCE, 200,   \
                        "wawpStopTyping", "Stop showing 'typing…' (Wawp)",     \
                        "ChatRequest", "ResultTrue", GW_PRESENCE_WAWP_Q),

void gw_presence_test(bool verbose);

#endif
