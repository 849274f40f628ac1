/*  gw_lids - a session's LID <-> phone number map (WAHA
    /api/{session}/lids…, Wawp /v2/lids…: list, count, {lid}, pn/{pn})

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    WhatsApp names a user by phone number and by LID ("<digits>@lid").
    The session-worker learns the pairs (wa_lidmap) and store-service
    keeps them (proto/PROTOCOL.md, family lid); these routes read them:
      list    lid.list {session, limit, offset} -> [{lid, pn}]
      count   lid.count {session}               -> {count}
      by LID  lid.get {session, lid}            -> {lid, pn}
      by PN   lid.get {session, pn}             -> {lid, pn}
    An unknown pair answers 200 with only the side asked about (WAHA's
    LidToPhoneNumber has both sides optional);
    a LID that is not a LID is 422 (WAHA), a bad number 400. The
    session must exist (404); it need not be WORKING, since the map is
    stored.
*/
#ifndef GW_LIDS_H_INCLUDED
#define GW_LIDS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Pairs per page.
#define GW_LIDS_LIST_MAX 10000
#define GW_LIDS_LIST_DEFAULT 100

void gw_lids_list(gw_req_t *req);
void gw_lids_count(gw_req_t *req);
void gw_lids_by_lid(gw_req_t *req);
void gw_lids_by_pn(gw_req_t *req);

json_t *gw_lids_schemas(void);

#define GW_LIDS_TAG "🆔 LIDs"
#define GW_LIDS_PAGE_Q                                                         \
    "limit|integer|Most pairs returned (default 100);offset|integer|Pairs "    \
    "skipped"
#define GW_LIDS_WAWP_Q "instance_id|string|Instance id"

#define GW_LIDS_ROUTE(method, path, handler, auth, op, sum, res, query)        \
    {                                                                          \
        method, path, handler, auth, 200, GW_LIDS_TAG, op, sum, NULL, res,     \
            query, false                                                       \
    }

#define GW_LIDS_ROUTES                                                         \
    GW_LIDS_ROUTE("GET", "/api/{session}/lids", gw_lids_list, GW_AUTH_ADMIN,   \
                  "lidsList", "Known LIDs and their phone numbers", "LidList", \
                  GW_LIDS_PAGE_Q),                                             \
        GW_LIDS_ROUTE("GET", "/api/{session}/lids/count", gw_lids_count,       \
                      GW_AUTH_ADMIN, "lidsCount", "How many LIDs are known",   \
                      "CountResponse", NULL),                                  \
        GW_LIDS_ROUTE("GET", "/api/{session}/lids/pn/{phoneNumber}",           \
                      gw_lids_by_pn, GW_AUTH_ADMIN, "lidsByPhoneNumber",       \
                      "The LID of a phone number", "LidToPhoneNumber", NULL),  \
        GW_LIDS_ROUTE("GET", "/api/{session}/lids/{lid}", gw_lids_by_lid,      \
                      GW_AUTH_ADMIN, "lidsByLid", "The phone number of a LID", \
                      "LidToPhoneNumber", NULL),                               \
        GW_LIDS_ROUTE("GET", "/v2/lids", gw_lids_list, GW_AUTH_INSTANCE,       \
                      "wawpLidsList", "Known LIDs and their phone numbers",    \
                      "LidList", GW_LIDS_WAWP_Q ";" GW_LIDS_PAGE_Q),           \
        GW_LIDS_ROUTE("GET", "/v2/lids/count", gw_lids_count,                  \
                      GW_AUTH_INSTANCE, "wawpLidsCount",                       \
                      "How many LIDs are known", "CountResponse",              \
                      GW_LIDS_WAWP_Q),                                         \
        GW_LIDS_ROUTE("GET", "/v2/lids/pn/{phoneNumber}", gw_lids_by_pn,       \
                      GW_AUTH_INSTANCE, "wawpLidsByPhoneNumber",               \
                      "The LID of a phone number", "LidToPhoneNumber",         \
                      GW_LIDS_WAWP_Q),                                         \
        GW_LIDS_ROUTE("GET", "/v2/lids/{lid}", gw_lids_by_lid,                 \
                      GW_AUTH_INSTANCE, "wawpLidsByLid",                       \
                      "The phone number of a LID", "LidToPhoneNumber",         \
                      GW_LIDS_WAWP_Q),

void gw_lids_test(bool verbose);

#endif
