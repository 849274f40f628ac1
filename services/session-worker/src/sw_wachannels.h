/*  sw_wachannels - the channels (newsletters) capability of the WhatsApp
    engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WACHANNELS_COMMANDS; 409 unless WORKING). A channel
    `id` is "<15-20 digits>@newsletter"; where an invite is allowed
    (info, preview) also an invite code or link
    ("https://whatsapp.com/channel/<code>"). Channel is WAHA's object
    {id, name, invite (link), preview?, picture?, role (OWNER|ADMIN|
    SUBSCRIBER|GUEST), description, verified, subscribersCount};
    ChannelPublicInfo is the same without role.
      channel.list {role?} -> {list: [Channel]}: those we own, administer or
          follow (w:mex subscribed), role filtered
      channel.create {title (the channel's name), description?}, blob 0 = a JPEG
   picture (optional, made square by media-service) -> Channel channel.info {id}
   -> Channel (by JID or invite) channel.delete {id} -> {}   (the owner only:
   403 else) channel.follow / channel.unfollow / channel.mute / channel.unmute
          {id} -> {}
      channel.preview {id, limit, downloadMedia?} -> {list: [{message:
          WAMessage, reactions: {emoji: count}, viewCount}]}, oldest first;
          with downloadMedia each post's media is downloaded first
          (sw_wamedia_download, stored as "<session>/<WAHA message id>")
          and its message carries media {url, mimetype} (or {error})
      channel.search_view {view, countries[], categories[], limit,
          startCursor} -> {page:{startCursor, endCursor, hasNextPage,
          hasPreviousPage}, channels:[ChannelPublicInfo]}
      channel.search_text {text, categories[], limit, startCursor} ->
          the same
    WhatsApp's answers: 404 no such channel, 403 not allowed, 400
    refused as invalid, 502 anything else, 504 no answer in time, 503
    connection lost (sw_wacontacts_ask).
*/
#ifndef SW_WACHANNELS_H_INCLUDED
#define SW_WACHANNELS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sw_wacontacts.h"
#include "sw_wamedia.h"
#include "sw_wasess.h"

//  Where picture and preview URLs point (the media host WhatsApp's
//  clients download channel pictures from).
#define SW_WACHANNELS_MEDIA_HOST "https://mmg.whatsapp.net"
//  The invite link prefix.
#define SW_WACHANNELS_INVITE_URL "https://www.whatsapp.com/channel/"
//  Largest picture taken, bytes.
#define SW_WACHANNELS_PICTURE_MAX (1024 * 1024)
//  Longest name, description and search text, bytes.
#define SW_WACHANNELS_NAME_MAX 100
#define SW_WACHANNELS_DESCRIPTION_MAX 2048
#define SW_WACHANNELS_TEXT_MAX 256
//  Largest search page.
#define SW_WACHANNELS_PAGE_MAX 100
//  Longest wait of a preview: the IQ, then its media downloads.
#define SW_WACHANNELS_PREVIEW_MS                                               \
    (SW_WA_IQ_TIMEOUT_MS + SW_WAMEDIA_DOWNLOAD_MS / 2 + SW_WACMD_GRACE_MS)

#define SW_WACHANNELS_CMD(type, fn)                                            \
    SW_WACMD(type, SW_WACMD_WORKING, SW_WACONTACTS_TIMEOUT_MS, fn)

#define SW_WACHANNELS_COMMANDS                                                 \
    SW_WACHANNELS_CMD("channel.list", sw_wachannels_list),                     \
        SW_WACHANNELS_CMD("channel.create", sw_wachannels_create),             \
        SW_WACHANNELS_CMD("channel.info", sw_wachannels_info),                 \
        SW_WACHANNELS_CMD("channel.delete", sw_wachannels_delete),             \
        SW_WACHANNELS_CMD("channel.follow", sw_wachannels_follow),             \
        SW_WACHANNELS_CMD("channel.unfollow", sw_wachannels_unfollow),         \
        SW_WACHANNELS_CMD("channel.mute", sw_wachannels_mute),                 \
        SW_WACHANNELS_CMD("channel.unmute", sw_wachannels_unmute),             \
        SW_WACMD("channel.preview", SW_WACMD_WORKING,                          \
                 SW_WACHANNELS_PREVIEW_MS, sw_wachannels_preview),             \
        SW_WACHANNELS_CMD("channel.search_view", sw_wachannels_search_view),   \
        SW_WACHANNELS_CMD("channel.search_text", sw_wachannels_search_text)

void sw_wachannels_list(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_create(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_info(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_delete(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_follow(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_unfollow(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_mute(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_unmute(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_preview(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_search_view(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wachannels_search_text(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  WAHA's Channel object of a channel's metadata (whatsmeow's shape,
//  wa_channels.h); with_role false gives ChannelPublicInfo. NULL when
//  the metadata has no id. Caller owns return value.
json_t *sw_wachannels_channel(const json_t *meta, bool with_role);

void sw_wachannels_test(bool verbose);

#endif
