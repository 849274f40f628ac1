/*  sw_wafetch - the media of stored messages, downloaded on demand

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A received media message keeps what a later download needs in its
    WAMessage, where WAHA (NOWEB) keeps the engine's raw message:
    `_data.message` = {"<x>Message": {url, mimetype, fileSha256,
    fileEncSha256, mediaKey, directPath, fileLength, mediaKeyTimestamp,
    width, height, seconds, ptt, gifPlayback, isAnimated, fileName}},
    <x> one of image, video, ptv, audio, document, sticker (the
    Message's field names; bytes in base64, absent fields left out). A
    sticker's isAnimated is always there (WAHA's payload has it only
    there). A text whose link preview has a high-quality image (sent
    with linkPreviewHighQuality) keeps its fields likewise:
    {"extendedTextMessage": {thumbnailDirectPath, mediaKey,
    thumbnailSha256, thumbnailEncSha256, mediaKeyTimestamp,
    thumbnailWidth, thumbnailHeight}}. That image is not downloaded:
    WAHA downloads message media only (a text has hasMedia false and no
    media), so there is no WAHA field a url of it would go in; a client
    can fetch it from these fields as from WAHA's raw message.

    Command (SW_WAFETCH_COMMANDS, 409 unless WORKING):
      message.download_media {messages: [{id (WAHA id), message (its
          _data.message)}] (1..SW_WAFETCH_MAX), timeout_ms?} -> {media:
          [WAMedia]}, one per message in order: {url, mimetype,
          filename?} once downloaded and stored as
          "<session>/<id>.<ext>", or {mimetype, filename?, error
          {message}} (expired on the server, failed verification,
          unreachable, no answer within timeout_ms, nothing to
          download).
    The gateway sends it for GET .../messages and GET of one message
    with downloadMedia=true (WAHA's default) for stored media that has
    no url (downloads were off, or the download failed). Each file goes
    through sw_wamedia_download (the session's media_conn hosts) with
    `reuse`: a file media-service still keeps under that name is not
    downloaded again. The downloads run side by side; the command is
    answered once every one is in, at most timeout_ms (default
    SW_WAFETCH_TIMEOUT_MS) after it came.
*/
#ifndef SW_WAFETCH_H_INCLUDED
#define SW_WAFETCH_H_INCLUDED

#include "sw_wasess.h"
#include "wa/wa_message.h"

//  Most messages of one message.download_media.
#define SW_WAFETCH_MAX 100
//  Default and longest wait for the downloads of one command, ms.
#define SW_WAFETCH_TIMEOUT_MS 25000
#define SW_WAFETCH_TIMEOUT_MAX_MS 110000

#define SW_WAFETCH_COMMANDS                                                    \
    SW_WACMD("message.download_media", SW_WACMD_WORKING,                       \
             SW_WAFETCH_TIMEOUT_MAX_MS + 5000, sw_wafetch_download)

//  Handler (sw_wacmd_fn).
void sw_wafetch_download(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  The `_data.message` of a received message: its media's download
//  fields, or a text's high-quality preview image's (above); NULL when
//  it has neither.
//  Caller owns return value.
json_t *sw_wafetch_data(const wa_message_t *msg);

//  The media.download body for a stored `_data.message` (kind, keys,
//  hashes, directPath, url, mimetype), or NULL when it names no
//  media. Caller owns return value.
json_t *sw_wafetch_request(json_t *data);

void sw_wafetch_test(bool verbose);

#endif
