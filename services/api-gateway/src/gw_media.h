/*  gw_media - sending media (WAHA /api/sendImage, /api/sendFile,
    /api/sendVoice, /api/sendVideo; Wawp /v2/send/image|pdf|voice|video;
    and stickers, /api/sendSticker and /v2/send/sticker, which neither
    WAHA nor Wawp documents: a WebP is sent as it is, animated or not, a
    JPEG or PNG is made a 512x512 WebP and a GIF an animated one by
    media-service),
    converting it (/api/{session}/media/convert/voice|video) and serving
    downloaded files (/api/files/...)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Inputs are checked here and refused with 400 naming the field before
    anything is sent: the chat id, `file` with exactly one of `url`
    (http or https) and `data` (base64, decoded here: the bytes travel on
    as a blob frame, never as base64 on the bus), `mimetype`, `filename`,
    `caption`, `reply_to`, `mentions`, `convert`, `asNote`. Wawp's flat
    keys `file[url]`, `file[data]`, `file[mimetype]`, `file[filename]` are
    accepted from the query, a form or a JSON body.

    A send goes to the worker holding the session as message.send_media
    (proto/PROTOCOL.md); the worker has media-service fetch, check,
    process, encrypt and upload the file, then sends the WhatsApp message.
    media-service's 4xx (unreachable or refused URL, too large, content
    that is not the declared type) come back with its reason. Conversions
    and files go to media-service directly (media.convert,
    media.file.get). Files are answered as raw bytes with their mimetype;
    a missing one is WAHA's 404 {error:{code:404, key:"FILE_NOT_FOUND",
    message, details}}.
*/
#ifndef GW_MEDIA_H_INCLUDED
#define GW_MEDIA_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Longest caption, bytes.
#define GW_MEDIA_CAPTION_MAX 65536
//  Longest file.url, bytes.
#define GW_MEDIA_URL_MAX 8192
//  Most mentioned ids.
#define GW_MEDIA_MENTIONS_MAX 1024
//  Most stored messages whose media one request downloads on demand.
#define GW_MEDIA_FETCH_MAX 100
//  Of the request's time left, what the gateway keeps for itself (its
//  wait for the worker) and what the worker keeps over its downloads, ms.
#define GW_MEDIA_FETCH_MARGIN_MS 1000
#define GW_MEDIA_FETCH_WORKER_MARGIN_MS 1500

//  Handlers.
void gw_media_send_image(gw_req_t *req);
void gw_media_send_file(gw_req_t *req);
void gw_media_send_voice(gw_req_t *req);
void gw_media_send_video(gw_req_t *req);
void gw_media_send_sticker(gw_req_t *req);
void gw_media_wawp_send_image(gw_req_t *req);
void gw_media_wawp_send_pdf(gw_req_t *req);
void gw_media_wawp_send_voice(gw_req_t *req);
void gw_media_wawp_send_video(gw_req_t *req);
void gw_media_wawp_send_sticker(gw_req_t *req);
void gw_media_convert_voice(gw_req_t *req);
void gw_media_convert_video(gw_req_t *req);
void gw_media_file(gw_req_t *req);
void gw_media_file_default(gw_req_t *req);

//  For other capabilities (status): the request's `file` ({url | data,
//  mimetype, filename} or Wawp's flat keys) as the bus object, and the
//  decoded bytes of file.data (caller owns both). Returns 0, or -1 after
//  a 400 naming the field.
int gw_media_file_input(gw_req_t *req, const char *dflt_mimetype,
                        json_t **file_p, uint8_t **data_p, size_t *len_p);

//  A stored WAMessage as WAHA answers it with downloadMedia=false: a
//  media message keeps hasMedia and media {mimetype, filename}, without
//  the downloaded file (media.url, media.s3 and mediaUrl go), as if it
//  had been received with WHATSAPP_DOWNLOAD_MEDIA=false. The quoted
//  message (replyTo.media) likewise. Other messages are left as they are.
void gw_media_undownload(json_t *message);

//  downloadMedia=true (WAHA's default) on stored messages: the media of
//  every message in `messages` (an array of WAMessages) that has none
//  downloaded (no media.url: received while downloads were off, or its
//  download failed) and keeps what a download needs (_data.message) is
//  downloaded now by the worker holding session `name`
//  (message.download_media): at most GW_MEDIA_FETCH_MAX per
//  request, within the request's deadline. Each gets media.url (and
//  mediaUrl), or media.error {message} saying why not (gone from the
//  server, failed verification, session not WORKING, no worker, out of
//  time, too many in one request). Never fails the request.
void gw_media_download(gw_req_t *req, const char *name, json_t *messages);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_media_schemas(void);

#define GW_MEDIA_TAG "🖼️ Media"
#define GW_MEDIA_WAWP_Q                                                        \
    "instance_id|string|Instance id (also accepted in a JSON or form body);"   \
    "chatId|string|Chat id or phone number;file[url]|string|File URL;"         \
    "file[mimetype]|string|Mimetype;file[filename]|string|File name;"          \
    "caption|string|Caption;reply_to|string|Message id to quote"

#define GW_MEDIA_SEND_ROUTE(m, path, fn, status, tag, op, summary, body, q)    \
    {                                                                          \
        m, path, fn, GW_AUTH_ADMIN, status, tag, op, summary, body,            \
            "WAMessage", q, false                                              \
    }
#define GW_MEDIA_FILE_ROUTE(m, path, fn, status, op, summary, body, dep)       \
    {                                                                          \
        m, path, fn, GW_AUTH_ADMIN, status, GW_MEDIA_TAG, op, summary, body,   \
            "MediaFileContent", NULL, dep                                      \
    }
#define GW_MEDIA_WAWP_ROUTE(m, path, fn, op, summary, body)                    \
    {                                                                          \
        m, path, fn, GW_AUTH_INSTANCE, 200, "Wawp: Send", op, summary, body,   \
            "WAMessage", GW_MEDIA_WAWP_Q, false                                \
    }

//  Rows of gw_api's route table.
#define GW_MEDIA_ROUTES                                                        \
    GW_MEDIA_SEND_ROUTE("POST", "/api/sendImage", gw_media_send_image, 201,    \
                        "📤 Chatting", "sendImage", "Send an image",            \
                        "MessageImageRequest", NULL),                          \
        GW_MEDIA_SEND_ROUTE("POST", "/api/sendFile", gw_media_send_file, 201,  \
                            "📤 Chatting", "sendFile", "Send a file",           \
                            "MessageFileRequest", NULL),                       \
        GW_MEDIA_SEND_ROUTE(                                                   \
            "POST", "/api/sendVoice", gw_media_send_voice, 201, "📤 Chatting",  \
            "sendVoice", "Send a voice message", "MessageVoiceRequest", NULL), \
        GW_MEDIA_SEND_ROUTE("POST", "/api/sendVideo", gw_media_send_video,     \
                            201, "📤 Chatting", "sendVideo", "Send a video",    \
                            "MessageVideoRequest", NULL),                      \
        GW_MEDIA_SEND_ROUTE(                                                   \
            "POST", "/api/sendSticker", gw_media_send_sticker, 201,            \
            "📤 Chatting", "sendSticker",                                       \
            "Send a sticker (WebP; JPEG and PNG are made one)",                \
            "MessageStickerRequest", NULL),                                    \
        GW_MEDIA_WAWP_ROUTE("GET", "/v2/send/sticker",                         \
                            gw_media_wawp_send_sticker, "wawpSendStickerGet",  \
                            "Send a sticker", NULL),                           \
        GW_MEDIA_WAWP_ROUTE("POST", "/v2/send/sticker",                        \
                            gw_media_wawp_send_sticker, "wawpSendSticker",     \
                            "Send a sticker", "WawpSendMediaRequest"),         \
        GW_MEDIA_WAWP_ROUTE("GET", "/v2/send/image", gw_media_wawp_send_image, \
                            "wawpSendImageGet", "Send an image", NULL),        \
        GW_MEDIA_WAWP_ROUTE("POST", "/v2/send/image",                          \
                            gw_media_wawp_send_image, "wawpSendImage",         \
                            "Send an image", "WawpSendMediaRequest"),          \
        GW_MEDIA_WAWP_ROUTE("GET", "/v2/send/pdf", gw_media_wawp_send_pdf,     \
                            "wawpSendPdfGet", "Send a file", NULL),            \
        GW_MEDIA_WAWP_ROUTE("POST", "/v2/send/pdf", gw_media_wawp_send_pdf,    \
                            "wawpSendPdf", "Send a file",                      \
                            "WawpSendMediaRequest"),                           \
        GW_MEDIA_WAWP_ROUTE("GET", "/v2/send/voice", gw_media_wawp_send_voice, \
                            "wawpSendVoiceGet", "Send a voice message", NULL), \
        GW_MEDIA_WAWP_ROUTE("POST", "/v2/send/voice",                          \
                            gw_media_wawp_send_voice, "wawpSendVoice",         \
                            "Send a voice message", "WawpSendMediaRequest"),   \
        GW_MEDIA_WAWP_ROUTE("GET", "/v2/send/video", gw_media_wawp_send_video, \
                            "wawpSendVideoGet", "Send a video", NULL),         \
        GW_MEDIA_WAWP_ROUTE("POST", "/v2/send/video",                          \
                            gw_media_wawp_send_video, "wawpSendVideo",         \
                            "Send a video", "WawpSendMediaRequest"),           \
        GW_MEDIA_FILE_ROUTE("POST", "/api/{session}/media/convert/voice",      \
                            gw_media_convert_voice, 201, "convertVoice",       \
                            "Convert audio to a voice note (OGG/Opus)",        \
                            "MediaConvertRequest", false),                     \
        GW_MEDIA_FILE_ROUTE("POST", "/api/{session}/media/convert/video",      \
                            gw_media_convert_video, 201, "convertVideo",       \
                            "Convert a video to MP4 (H.264/AAC)",              \
                            "MediaConvertRequest", false),                     \
        GW_MEDIA_FILE_ROUTE(                                                   \
            "GET", "/api/files/{session}/{filename}", gw_media_file, 200,      \
            "getFile", "A downloaded media file (media.url)", NULL, false),    \
        GW_MEDIA_FILE_ROUTE("GET", "/api/files/{filename}",                    \
                            gw_media_file_default, 200, "getFileDefault",      \
                            "A downloaded media file of session default",      \
                            NULL, true),

void gw_media_test(bool verbose);

#endif
