/*  wa_mediamsg - media messages: the session's media_conn, and building
    and reading image, video, audio, document and sticker Messages

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (wa_client_int.h). The media bytes
    themselves never pass through the engine: media-service encrypts and
    uploads them (and downloads, verifies and decrypts received ones)
    with the media_conn this module fetches; the engine only carries the
    resulting fields in the Message protobuf (wa-protocol.md §7.10, §8).

    media_conn: `<iq xmlns="w:m" type="set"><media_conn/></iq>` answers
    an auth token and the media hosts; the answer is cached until its
    ttl runs out (WA_MEDIAMSG_CONN_MARGIN_S early), so one IQ serves
    every upload meanwhile; requests made while it is in flight wait for
    the same answer. A refresh (an upload the hosts refused) asks again.
*/
#ifndef WA_MEDIAMSG_H_INCLUDED
#define WA_MEDIAMSG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_client.h"
#include "wa_message.h"

//  Most hosts kept from a media_conn.
#define WA_MEDIAMSG_HOSTS_MAX 8
//  A cached media_conn is asked for again this long before its ttl ends.
#define WA_MEDIAMSG_CONN_MARGIN_S 30
//  Most mentions in a media message.
#define WA_MEDIAMSG_MENTIONS_MAX 1024

//  A media_conn answer (all borrowed for the duration of the call).
typedef struct {
    const char *auth;                         //  upload auth token
    const char *hosts[WA_MEDIAMSG_HOSTS_MAX]; //  host names, in order
    size_t nhosts;                            //  their number (>= 1)
    int64_t ttl_s;                            //  seconds it is valid
} wa_mediamsg_conn_t;

//  The media_conn, or NULL with the reason (error) when it could not be
//  had (not connected, refused, no answer in time, connection lost).
typedef void(wa_mediamsg_conn_fn)(void *arg, const wa_mediamsg_conn_t *conn,
                                  const char *error);

//  Get the media_conn: fn runs exactly once, before return when the
//  cached one is still good (refresh: ask the server anyway), else with
//  the server's answer. fn must not destroy the client. Returns 0, or
//  -1 when not logged in (fn not called).
int wa_mediamsg_conn(wa_client_t *client, bool refresh, wa_mediamsg_conn_fn *fn,
                     void *arg);

//  The fields of a media message. Strings and bytes are borrowed (from
//  the caller when building, from the message when reading).
typedef struct {
    //  Kind: "image", "video", "gif", "ptv" (round video note), "audio",
    //  "ptt" (voice note), "document" or "sticker"; also the name of
    //  its media keys and download path (wa_media_type_parse).
    const char *kind;
    const char *mimetype;
    const char *caption;  //  image, video, document
    const char *filename; //  document
    const char *url;
    const char *direct_path;
    const uint8_t *media_key; //  32 bytes
    size_t media_key_len;
    const uint8_t *file_sha256;     //  32 bytes
    const uint8_t *file_enc_sha256; //  32 bytes
    uint64_t file_length;
    int64_t media_key_timestamp; //  seconds
    bool animated;               //  sticker: an animated WebP (isAnimated)
    uint32_t width;              //  image, video, sticker
    uint32_t height;
    uint32_t seconds;        //  audio, video
    const uint8_t *waveform; //  ptt: 64 values 0..100
    size_t waveform_len;
    const uint8_t *thumbnail; //  JPEG (image, video, document)
    size_t thumbnail_len;
    //  Channel (newsletter) media: uploaded unencrypted, so no media
    //  key, no enc hash and no key timestamp; file_sha256 is the hash of
    //  the bytes on the media host.
    bool plain;
    //  Context: the quoted message and mentions (building only).
    const char *reply_id;          //  quoted message id, or NULL
    const char *reply_participant; //  its sender (wire JID)
    const char *reply_chat;        //  group chats: the chat (wire JID)
    const uint8_t *quoted;         //  the quoted message (an encoded
    size_t quoted_len;             //  Message, checked), or NULL
    const char *const *mentions;   //  mentioned user JIDs (wire)
    size_t nmentions;
} wa_mediamsg_t;

//  Serialise a media Message. Returns 0 and a new buffer (caller owns
//  *out_p), or -1 when a required field (kind, mimetype, media key,
//  hashes, direct path) is missing or wrong, or `plain` is set with a
//  media key or an enc hash.
int wa_mediamsg_build(const wa_mediamsg_t *m, uint8_t **out_p, size_t *out_len);

//  The media fields of a received message (borrowed from msg). Returns
//  0, or -1 when it is no media message or lacks what a download needs
//  (media key, or for channel media (plain set) the file hash; direct
//  path or url).
int wa_mediamsg_read(const wa_message_t *msg, wa_mediamsg_t *out);

void wa_mediamsg_test(bool verbose);

#endif
