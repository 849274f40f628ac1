/*  sw_wamedia - the media capability of the WhatsApp engine: sending
    images, documents, voice notes, videos and stickers, and downloading
    the media of received messages

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WAMEDIA_COMMANDS, listed in sw_wa's table; 409 unless
    WORKING):
      message.send_media {chatId, kind: image|document|voice|audio|video|
          sticker, file {url?, mimetype?, filename?}, caption?, reply_to?,
          mentions?, convert?, asNote?}, blob 0 = the file unless file.url
          -> the WAMessage (hasMedia, media {url, mimetype, filename,
          error}) once the server acked it.

    Sending never blocks the worker's loop: the session's media_conn
    (wa_mediamsg, cached until its ttl) -> media.upload to media-service
    (fetch, check, thumbnail / convert, encrypt, upload, and a copy kept
    in the file store for media.url) -> the Message built from its fields
    (wa_mediamsg_build) -> the engine's encrypt-and-send path
    (wa_client_send_message) -> the server ack answers the command.
    media-service's 4xx (bad URL, refused address, wrong type, too
    large) are passed on with their reason and nothing is sent; an upload
    the hosts refused asks for a fresh media_conn once.

    Receiving: a media message (image, video, audio, voice, document,
    sticker) is held back (sw_wamedia_defer) while media-service
    downloads it (media.download: url / direct path, MAC and hashes
    checked, decrypted, stored as "<session>/<WAHA message id>.<ext>");
    then its events go out as sw_wamessage makes them, with
    `media {url, mimetype, filename, error}` (sw_wamedia_fill): url is
    WAHA_BASE_URL + "/api/files/<session>/<file>" (and WAHA's deprecated
    mediaUrl), error {message} the reason when the download failed
    (expired, failed verification, unreachable: no url then). Absent
    fields are left out, never null (WAHA's WAMedia schema). The
    delivery receipt waits for the events, as for any
    message. WHATSAPP_DOWNLOAD_MEDIA=false turns downloads off (media
    then carries the mimetype, and a document's filename).

    Channel posts (a chatId …@newsletter): the file is uploaded
    unencrypted (media.upload `channel`), the Message carries no media
    key, and the post names the upload by the host's handle (media_id,
    wa_client_send_post). Received channel media has no key either:
    media-service checks the bytes against fileSha256.

    Any capability that needs an image uploaded (profile and group
    pictures, status, link-preview thumbnails, channel posts) uses
    sw_wamedia_upload: it gets the encrypted media fields back in a
    callback; sw_wamedia_build makes the media Message of them,
    sw_wamedia_sent_media the WAMessage's `media`, and
    sw_wamedia_sent_events the sender's message.any and message.ack.
    See docs/adding-a-feature.md.
*/
#ifndef SW_WAMEDIA_H_INCLUDED
#define SW_WAMEDIA_H_INCLUDED

#include "sw_wamsg.h"
#include "sw_wasess.h"
#include "wa/wa_mediamsg.h"

//  Longest a media send may take: fetch, conversion, upload and the
//  server's ack, ms.
#define SW_WAMEDIA_TIMEOUT_MS 150000
//  media-service request deadline for an upload (fetch + convert +
//  upload) and for a download, ms.
#define SW_WAMEDIA_UPLOAD_MS 140000
#define SW_WAMEDIA_DOWNLOAD_MS 90000
//  The reason of an upload media-service could not take (not running, or
//  it died with the upload); message.send_media answers it with 503 and
//  {unavailable: "media-service"}
#define SW_WAMEDIA_UNAVAILABLE "media-service is unavailable: nothing was sent"
//  Received media messages waiting for their download, per session;
//  past it they go out without downloading.
#define SW_WAMEDIA_PENDING_MAX 256

//  The capability's rows of the command table.
#define SW_WAMEDIA_COMMANDS                                                    \
    SW_WACMD("message.send_media", SW_WACMD_WORKING, SW_WAMEDIA_TIMEOUT_MS,    \
             sw_wamedia_send)

//  Handler (sw_wacmd_fn).
void sw_wamedia_send(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  The outcome of an upload: st 200 and media-service's reply (fields as
//  proto/PROTOCOL.md media.upload: mediaKey, fileSha256, fileEncSha256,
//  directPath, url, fileLength, mimetype, ...; blob 0 the JPEG
//  thumbnail when `thumbnail`), or st >= 400 with reason and reply NULL.
//  sess is NULL when the session stopped meanwhile. The reply is
//  borrowed.
typedef void(sw_wamedia_upload_fn)(sw_wasess_t *sess, int st,
                                   const char *reason, cm_msg_t *reply,
                                   void *arg);

//  Upload a file for any capability: `request` (taken) is a
//  media.upload without media_conn (kind, file, convert?, asNote?,
//  store?; blob 0 = the bytes); the session's media_conn is added, and
//  fn runs exactly once. Never blocks.
void sw_wamedia_upload(sw_wasess_t *sess, cm_msg_t **request_p,
                       sw_wamedia_upload_fn *fn, void *arg);

//  The media Message of an upload reply (as sw_wamedia_upload_fn gets
//  it): the caller sets f's kind and, as they apply, caption, reply and
//  mentions; the upload's fields (mimetype, filename, url, direct path,
//  key, hashes, sizes, waveform, thumbnail; plain when the reply has no
//  media key: channel media) are filled in from the reply (strings
//  borrowed from it; the byte fields are cleared again on return).
//  Returns 0 and *buf_p (caller frees), or -1 when fields are missing.
int sw_wamedia_build(cm_msg_t *reply, wa_mediamsg_t *f, uint8_t **buf_p,
                     size_t *len_p);

//  The WAMessage `media` of a sent upload: {url (the stored copy, when
//  the reply names one), mimetype, filename?}. Caller owns.
json_t *sw_wamedia_sent_media(sw_wasess_t *sess, cm_msg_t *reply);

//  Put `media` (and WAHA's deprecated mediaUrl, = media.url) into a
//  WAMessage payload.
void sw_wamedia_set_media(json_t *payload, json_t *media);

//  Emit message.any (with media when not NULL) and message.ack SERVER
//  for a message of ours the server took.
void sw_wamedia_sent_events(sw_wasess_t *sess, const sw_wamsg_t *w,
                            json_t *media);

//  The outcome of a download: st 200 and media-service's reply
//  (mimetype, size, key?; blob 0 the plaintext when `return`), or st >=
//  400 with reason and reply NULL (410 expired, 422 failed verification,
//  502 unreachable, 503, 504). sess is NULL when the session stopped
//  meanwhile. The reply is borrowed.
typedef void(sw_wamedia_download_fn)(sw_wasess_t *sess, int st,
                                     const char *reason, cm_msg_t *reply,
                                     void *arg);

//  Download a blob for any capability: `request` (taken) is a
//  media.download body without hosts (kind, mediaKey, fileSha256?,
//  fileEncSha256?, directPath / url, return? / store?); the session's
//  media_conn hosts are added, and fn runs exactly once. Never blocks.
void sw_wamedia_download(sw_wasess_t *sess, json_t **request_p,
                         sw_wamedia_download_fn *fn, void *arg);
//  As sw_wamedia_download, waiting at most timeout_ms for media-service
//  (past it fn gets 504) instead of SW_WAMEDIA_DOWNLOAD_MS.
void sw_wamedia_download_within(sw_wasess_t *sess, json_t **request_p,
                                int timeout_ms, sw_wamedia_download_fn *fn,
                                void *arg);

//  media.url of a stored file, key "<session>/<file>":
//  WAHA_BASE_URL/api/files/<key>. Caller owns return value.
char *sw_wamedia_file_url(sw_wasess_t *sess, const char *key);

//  The media.download request for the media of a received message
//  `msg` (kind, key, hashes, direct path / url, mimetype?, filename?,
//  store "<session>/<wid>": stored as WAHA names its files, wid the
//  WAHA message id), or NULL when it has nothing to download or
//  downloads are off (WHATSAPP_DOWNLOAD_MEDIA=false). Caller owns.
json_t *sw_wamedia_fetch_request(sw_wasess_t *sess, const wa_message_t *msg,
                                 const char *wid);

//  A finished sw_wamedia_fetch: the WAMessage `media` (url, mimetype,
//  filename?; or error {message} when the download failed; borrowed),
//  or sess and media NULL when the session stopped meanwhile.
typedef void(sw_wamedia_fetch_fn)(sw_wasess_t *sess, json_t *media, void *arg);

//  Download the media of a received message that is not live (history
//  sync) as live media is: request (taken) from
//  sw_wamedia_fetch_request. fn runs exactly once. Never blocks.
void sw_wamedia_fetch(sw_wasess_t *sess, json_t **request_p,
                      sw_wamedia_fetch_fn *fn, void *arg);

//  For the engine: a received message. Returns true when it was held
//  back for its media download (its events follow, its receipt waits);
//  false: handle it now (sw_wamessage_on_message).
bool sw_wamedia_defer(sw_wasess_t *sess, const wa_client_message_t *msg);

//  For sw_wamessage: put the downloaded media's `media` object into a
//  WAMessage payload of message `id` in `chat` (no-op when none).
void sw_wamedia_fill(sw_wasess_t *sess, const char *chat, const char *id,
                     json_t *payload);

//  For the engine: the outcome of a send. Returns true when it was a
//  media send (answered here), false otherwise.
bool sw_wamedia_on_sent(sw_wasess_t *sess, const wa_client_sent_t *sent);

void sw_wamedia_test(bool verbose);

#endif
