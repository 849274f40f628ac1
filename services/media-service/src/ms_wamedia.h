/*  ms_wamedia - encrypted media on WhatsApp's media hosts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Upload: a fresh 32-byte media key, the per-type keys (HKDF, wa_media),
    AES-256-CBC and the 10-byte MAC; the enc file goes by POST to
    https://<host>/mms/<mms-type>/<token>?auth=<auth>&token=<token>
    (token = URL-safe base64 of SHA-256(enc)) on each media_conn host in
    turn until one answers 2xx with {url, direct_path}.
    Download: GET the message's URL, else https://<host><directPath> for
    each host; SHA-256 of the enc file, MAC and the plaintext hash are
    checked before the plaintext is handed out. 404 / 410 / 403 mean the
    media is gone from the server (expired).

    Channel (newsletter) media is not encrypted (whatsmeow's
    UploadNewsletter): the plaintext goes by POST to
    https://<host>/newsletter/newsletter-<mms-type>/<token> (token = URL-
    safe base64 of SHA-256(plaintext)), and the answer's `handle` is the
    post's media_id. Its download has no media key: the bytes fetched
    must hash to the message's fileSha256.
*/
#ifndef MS_WAMEDIA_H_INCLUDED
#define MS_WAMEDIA_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms_http.h"
#include "wa/wa_media.h"

//  Result of an upload.
typedef struct {
    uint8_t media_key[WA_MEDIA_KEY_LEN];
    wa_media_hashes_t hashes; //  fileSHA256, fileEncSHA256, length
    char *url;                //  owned
    char *direct_path;        //  owned
    char *host;               //  the host that took it, owned
    char *handle;             //  channel media: the host's handle, owned
} ms_wamedia_upload_t;

//  How a download ended.
typedef enum {
    MS_WAMEDIA_OK = 0,
    MS_WAMEDIA_EXPIRED,     //  the server no longer has it (403/404/410)
    MS_WAMEDIA_UNREACHABLE, //  network or 5xx on every host
    MS_WAMEDIA_INVALID,     //  hash, MAC or padding check failed
    MS_WAMEDIA_TOO_LARGE
} ms_wamedia_rc_t;

//  Encrypt `plain` for `type` and upload it to `hosts` (count of them)
//  with `auth`; `mms` is the upload path type ("image", "audio",
//  "video", "document"). `channel`: upload it unencrypted for a channel
//  post (no media key; hashes.file_enc_sha256 unset; up->handle set).
//  Returns 0 with *up filled (free with ms_wamedia_upload_clear), or -1
//  with err set.
int ms_wamedia_upload(ms_http_t *http, const uint8_t *plain, size_t len,
                      bool channel, wa_media_type_t type, const char *mms,
                      const char *const *hosts, size_t count, const char *auth,
                      long timeout_ms, ms_wamedia_upload_t *up, char *err,
                      size_t err_size);

void ms_wamedia_upload_clear(ms_wamedia_upload_t *up);

//  Download and verify. `url` (may be NULL) is tried first, then each
//  host with `direct_path` (may be NULL). The url comes from the sender's
//  message, so it is an untrusted one: its addresses are checked against
//  `net` (the fetch policy, MEDIA_FETCH_ALLOW); the hosts come from the
//  server's media_conn and are not. enc_sha256 / plain_sha256 may
//  be NULL to skip those checks. media_key NULL: channel media, not
//  encrypted; plain_sha256 is then required and checked. *plain_p is
//  caller-owned on MS_WAMEDIA_OK.
ms_wamedia_rc_t ms_wamedia_download(
    ms_http_t *http, cm_net_t *net, const char *url, const char *direct_path,
    const char *const *hosts, size_t count, const uint8_t *media_key,
    wa_media_type_t type, const uint8_t *enc_sha256,
    const uint8_t *plain_sha256, int64_t max_bytes, long timeout_ms,
    uint8_t **plain_p, size_t *plain_len, char *err, size_t err_size);

void ms_wamedia_test(bool verbose);

#endif
