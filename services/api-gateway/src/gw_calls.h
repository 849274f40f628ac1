/*  gw_calls - calls: reject an incoming call
    (WAHA POST /api/{session}/calls/reject)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    {from: caller chat id, id: call id} -> worker call.reject ->
    {success:true}. Call events (call.received, call.accepted,
    call.rejected) come from the worker; automatic rejection is the
    session config's `calls` {reject, message}.
*/
#ifndef GW_CALLS_H_INCLUDED
#define GW_CALLS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Longest call id, bytes.
#define GW_CALLS_ID_MAX 128

void gw_calls_reject(gw_req_t *req);

json_t *gw_calls_schemas(void);

#define GW_CALLS_TAG "📞 Calls"

#define GW_CALLS_ROUTES                                                        \
    {"POST",                                                                   \
     "/api/{session}/calls/reject",                                            \
     gw_calls_reject,                                                          \
     GW_AUTH_ADMIN,                                                            \
     200,                                                                      \
     GW_CALLS_TAG,                                                             \
     "callsReject",                                                            \
     "Reject an incoming call",                                                \
     "RejectCallRequest",                                                      \
     "SuccessResponse",                                                        \
     NULL,                                                                     \
     false},

void gw_calls_test(bool verbose);

#endif
