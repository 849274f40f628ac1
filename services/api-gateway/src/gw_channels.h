/*  gw_channels - channels (newsletters): WAHA /api/{session}/channels...,
    Wawp /v2/channels...

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Routes (GW_CHANNELS_ROUTES) and the worker commands they send
    (proto/PROTOCOL.md, family worker; 422 unless WORKING). {id} is a
    channel id "<15-20 digits>@newsletter"; info and preview also take
    an invite code or link (https://whatsapp.com/channel/<code>).
      GET    …/channels?role=OWNER|ADMIN|SUBSCRIBER  channel.list
             -> Channel[]
      POST   …/channels {name, description?, picture?: {url | data}}
             -> 201 Channel   (channel.create; the picture goes through
             media-service's media.profile_picture first)
      GET    …/channels/{id}                   channel.info -> Channel
      DELETE …/channels/{id}                   channel.delete -> {}
      GET    …/channels/{id}/messages/preview?limit=10  channel.preview
             -> [{message: WAMessage, reactions:{emoji:count},
             viewCount}]
      POST   …/channels/{id}/follow|unfollow|mute|unmute -> 201 {}
      POST   …/channels/search/by-view {view, countries, categories,
             limit, startCursor} -> ChannelListResult (200, as WAHA)
      POST   …/channels/search/by-text {text, categories, limit,
             startCursor} -> ChannelListResult
      GET    …/channels/search/views|countries|categories: the values
             search takes (answered here, no worker)
    Wawp: the same under /v2/channels… with instance_id, 200 on success.
    Bad input is a 400 naming the field; an unknown channel 404; an
    action the session may not take (delete a channel it does not own)
    403.
*/
#ifndef GW_CHANNELS_H_INCLUDED
#define GW_CHANNELS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Longest name, description and search text, bytes.
#define GW_CHANNELS_NAME_MAX 100
#define GW_CHANNELS_DESCRIPTION_MAX 2048
#define GW_CHANNELS_TEXT_MAX 256
//  Largest search page and preview.
#define GW_CHANNELS_LIMIT_MAX 100
//  Wait for WhatsApp's answer, ms.
#define GW_CHANNELS_TIMEOUT_MS 20000
//  ... and of a preview that downloads the posts' media.
#define GW_CHANNELS_PREVIEW_MS 80000

void gw_channels_list(gw_req_t *req);
void gw_channels_create(gw_req_t *req);
void gw_channels_info(gw_req_t *req);
void gw_channels_delete(gw_req_t *req);
void gw_channels_preview(gw_req_t *req);
void gw_channels_follow(gw_req_t *req);
void gw_channels_unfollow(gw_req_t *req);
void gw_channels_mute(gw_req_t *req);
void gw_channels_unmute(gw_req_t *req);
void gw_channels_search_view(gw_req_t *req);
void gw_channels_search_text(gw_req_t *req);
void gw_channels_views(gw_req_t *req);
void gw_channels_countries(gw_req_t *req);
void gw_channels_categories(gw_req_t *req);

json_t *gw_channels_schemas(void);

#define GW_CHANNELS_TAG "📢 Channels"
#define GW_CHANNELS_WAWP_TAG "Wawp: Channels"
#define GW_CHANNELS_WAWP_Q                                                     \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"
#define GW_CHANNELS_ROLE_Q "role|string|OWNER, ADMIN or SUBSCRIBER"
#define GW_CHANNELS_PREVIEW_Q                                                  \
    "limit|integer|Posts, 1 to 100 (10);downloadMedia|boolean|Ignored: "       \
    "no media is downloaded"

//  A WAHA row (/api/{session}/channels + path) and its Wawp twin
//  (/v2/channels + path, 200).
#define GW_CHANNELS_ROW(method, path, fn, status, op, summary, request,        \
                        response, query)                                       \
    {method,  "/api/{session}/channels" path,                                  \
     fn,      GW_AUTH_ADMIN,                                                   \
     status,  GW_CHANNELS_TAG,                                                 \
     op,      summary,                                                         \
     request, response,                                                        \
     query,   false},                                                          \
    {                                                                          \
        method, "/v2/channels" path, fn, GW_AUTH_INSTANCE, 200,                \
            GW_CHANNELS_WAWP_TAG, "wawp_" op, summary " (Wawp)", request,      \
            response, GW_CHANNELS_WAWP_Q, false                                \
    }

#define GW_CHANNELS_ROUTES                                                     \
    GW_CHANNELS_ROW("GET", "", gw_channels_list, 200, "channelsList",          \
                    "The channels the session owns, administers or follows",   \
                    NULL, "ChannelList", GW_CHANNELS_ROLE_Q),                  \
        GW_CHANNELS_ROW("POST", "", gw_channels_create, 201, "channelsCreate", \
                        "Create a channel", "CreateChannelRequest", "Channel", \
                        NULL),                                                 \
        GW_CHANNELS_ROW("POST", "/search/by-view", gw_channels_search_view,    \
                        200, "channelsSearchByView",                           \
                        "Search the channel directory by view",                \
                        "ChannelSearchByView", "ChannelListResult", NULL),     \
        GW_CHANNELS_ROW("POST", "/search/by-text", gw_channels_search_text,    \
                        200, "channelsSearchByText",                           \
                        "Search the channel directory by text",                \
                        "ChannelSearchByText", "ChannelListResult", NULL),     \
        GW_CHANNELS_ROW("GET", "/search/views", gw_channels_views, 200,        \
                        "channelsSearchViews", "Views channel search takes",   \
                        NULL, "ChannelViewList", NULL),                        \
        GW_CHANNELS_ROW("GET", "/search/countries", gw_channels_countries,     \
                        200, "channelsSearchCountries",                        \
                        "Countries channel search takes", NULL,                \
                        "ChannelCountryList", NULL),                           \
        GW_CHANNELS_ROW("GET", "/search/categories", gw_channels_categories,   \
                        200, "channelsSearchCategories",                       \
                        "Categories channel search takes", NULL,               \
                        "ChannelCategoryList", NULL),                          \
        GW_CHANNELS_ROW("GET", "/{id}", gw_channels_info, 200, "channelsGet",  \
                        "A channel's info, by id or invite code", NULL,        \
                        "Channel", NULL),                                      \
        GW_CHANNELS_ROW("DELETE", "/{id}", gw_channels_delete, 200,            \
                        "channelsDelete", "Delete a channel the session owns", \
                        NULL, "Empty", NULL),                                  \
        GW_CHANNELS_ROW("GET", "/{id}/messages/preview", gw_channels_preview,  \
                        200, "channelsPreviewMessages",                        \
                        "A channel's latest posts with reactions and views",   \
                        NULL, "ChannelMessageList", GW_CHANNELS_PREVIEW_Q),    \
        GW_CHANNELS_ROW("POST", "/{id}/follow", gw_channels_follow, 201,       \
                        "channelsFollow", "Follow a channel", NULL, "Empty",   \
                        NULL),                                                 \
        GW_CHANNELS_ROW("POST", "/{id}/unfollow", gw_channels_unfollow, 201,   \
                        "channelsUnfollow", "Unfollow a channel", NULL,        \
                        "Empty", NULL),                                        \
        GW_CHANNELS_ROW("POST", "/{id}/mute", gw_channels_mute, 201,           \
                        "channelsMute", "Mute a followed channel", NULL,       \
                        "Empty", NULL),                                        \
        GW_CHANNELS_ROW("POST", "/{id}/unmute", gw_channels_unmute, 201,       \
                        "channelsUnmute", "Unmute a followed channel", NULL,   \
                        "Empty", NULL),

void gw_channels_test(bool verbose);

#endif
