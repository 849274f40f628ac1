/*  gw_webhooks - webhook delivery log, replay, the pull feed and Wawp's
    webhook settings

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Routes (GW_WEBHOOKS_ROUTES, listed in gw_api's table):
      GET  /api/{session}/events?after=&limit=        event.list
      GET  /api/{session}/webhooks/deliveries?...      delivery.list
      GET  /api/{session}/webhooks/deliveries/{id}     delivery.get
      POST /api/{session}/webhooks/deliveries/{id}/replay
      POST /api/{session}/webhooks/deliveries/replay   (all dead ones)
      GET|POST /v2/session/webhook                     Wawp [{url, events,
                                                       is_active}]
    WAHA's own webhook configuration lives in SessionConfig.webhooks
    (POST/PUT /api/sessions), checked by cm_webhook.
*/
#ifndef GW_WEBHOOKS_H_INCLUDED
#define GW_WEBHOOKS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Pull feed page size.
#define GW_WEBHOOKS_EVENTS_MAX 1000
#define GW_WEBHOOKS_EVENTS_DEFAULT 100
//  Delivery list page size.
#define GW_WEBHOOKS_LIST_MAX 500
#define GW_WEBHOOKS_LIST_DEFAULT 100

void gw_webhooks_events(gw_req_t *req);
void gw_webhooks_list(gw_req_t *req);
void gw_webhooks_get(gw_req_t *req);
void gw_webhooks_replay(gw_req_t *req);
void gw_webhooks_replay_dead(gw_req_t *req);
void gw_webhooks_wawp_get(gw_req_t *req);
void gw_webhooks_wawp_set(gw_req_t *req);

//  OpenAPI schemas of these routes, merged into the document by gw_api.
//  Caller owns return value.
json_t *gw_webhooks_schemas(void);

#define GW_WEBHOOKS_TAG "🔔 Webhooks"
#define GW_WEBHOOKS_WAWP_Q                                                     \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

//  Rows of gw_api's route table.
#define GW_WEBHOOKS_ROUTES                                                     \
    {"GET",                                                                    \
     "/api/{session}/events",                                                  \
     gw_webhooks_events,                                                       \
     GW_AUTH_ADMIN,                                                            \
     200,                                                                      \
     GW_WEBHOOKS_TAG,                                                          \
     "eventsPull",                                                             \
     "Stored events in order, from a cursor (pull feed)",                      \
     NULL,                                                                     \
     "EventPage",                                                              \
     "after|integer|Cursor: the next value of the previous page (0 = from "    \
     "the start);limit|integer|Events per page, 1..1000 (default 100)",        \
     false},                                                                   \
        {"GET",                                                                \
         "/api/{session}/webhooks/deliveries",                                 \
         gw_webhooks_list,                                                     \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_WEBHOOKS_TAG,                                                      \
         "webhookDeliveriesList",                                              \
         "Webhook deliveries of a session, newest first",                      \
         NULL,                                                                 \
         "DeliveryPage",                                                       \
         "status|string|pending, delivered or dead;event|string|Event name;"   \
         "since|integer|Created at or after (ms);until|integer|Created "       \
         "before "                                                             \
         "(ms);before|integer|Cursor: the next value of the previous page;"    \
         "limit|integer|Deliveries per page, 1..500 (default 100)",            \
         false},                                                               \
        {"POST",                                                               \
         "/api/{session}/webhooks/deliveries/replay",                          \
         gw_webhooks_replay_dead,                                              \
         GW_AUTH_ADMIN,                                                        \
         201,                                                                  \
         GW_WEBHOOKS_TAG,                                                      \
         "webhookDeliveriesReplayDead",                                        \
         "Send every dead delivery of the session again",                      \
         NULL,                                                                 \
         "ReplayResult",                                                       \
         NULL,                                                                 \
         false},                                                               \
        {"GET",                                                                \
         "/api/{session}/webhooks/deliveries/{id}",                            \
         gw_webhooks_get,                                                      \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_WEBHOOKS_TAG,                                                      \
         "webhookDeliveryGet",                                                 \
         "A delivery with every attempt",                                      \
         NULL,                                                                 \
         "DeliveryWithLog",                                                    \
         NULL,                                                                 \
         false},                                                               \
        {"POST",                                                               \
         "/api/{session}/webhooks/deliveries/{id}/replay",                     \
         gw_webhooks_replay,                                                   \
         GW_AUTH_ADMIN,                                                        \
         201,                                                                  \
         GW_WEBHOOKS_TAG,                                                      \
         "webhookDeliveryReplay",                                              \
         "Send a delivered or dead delivery again",                            \
         NULL,                                                                 \
         "ReplayResult",                                                       \
         NULL,                                                                 \
         false},                                                               \
        {"GET",                                                                \
         "/v2/session/webhook",                                                \
         gw_webhooks_wawp_get,                                                 \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         "Wawp: Webhooks",                                                     \
         "wawpWebhookGet",                                                     \
         "The instance's webhooks",                                            \
         NULL,                                                                 \
         "WawpWebhooks",                                                       \
         GW_WEBHOOKS_WAWP_Q,                                                   \
         false},                                                               \
        {"POST",                                                               \
         "/v2/session/webhook",                                                \
         gw_webhooks_wawp_set,                                                 \
         GW_AUTH_INSTANCE,                                                     \
         200,                                                                  \
         "Wawp: Webhooks",                                                     \
         "wawpWebhookSet",                                                     \
         "Replace the instance's webhooks",                                    \
         "WawpWebhookRequest",                                                 \
         "WawpWebhooks",                                                       \
         GW_WEBHOOKS_WAWP_Q,                                                   \
         false},

void gw_webhooks_test(bool verbose);

#endif
