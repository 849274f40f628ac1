/*  ms_wamedia - encrypted media on WhatsApp's media hosts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

#include <openssl/evp.h>

//  URL-safe base64 without padding. Caller owns return value.
static char *
s_b64url(const uint8_t *data, size_t len)
{
    char *b = cm_base64_encode(data, len);
    size_t n = 0;
    for (char *p = b; *p; p++) {
        if (*p == '+') {
            b[n++] = '-';
        } else if (*p == '/') {
            b[n++] = '_';
        } else if (*p != '=') {
            b[n++] = *p;
        }
    }
    b[n] = 0;
    return b;
}

void
ms_wamedia_upload_clear(ms_wamedia_upload_t *up)
{
    free(up->url);
    free(up->direct_path);
    free(up->host);
    free(up->handle);
    memset(up, 0, sizeof *up);
}

//  The body of an upload: the enc file (encrypted under a fresh media
//  key), or for a channel the plaintext itself (a copy). Returns it
//  (caller frees) with its length, and the hash its token names in
//  *token_p (caller frees); NULL when it cannot be encrypted.
static uint8_t *
s_upload_body(const uint8_t *plain, size_t len, bool channel,
              wa_media_type_t type, ms_wamedia_upload_t *up, size_t *body_len,
              char **token_p)
{
    uint8_t *body = malloc(channel ? (len ? len : 1) : WA_MEDIA_ENC_LEN(len));
    if (!body) {
        abort();
    }
    if (channel) {
        memcpy(body, plain, len);
        *body_len = len;
        wa_sha256(plain, len, up->hashes.file_sha256);
        up->hashes.file_length = len;
        *token_p = s_b64url(up->hashes.file_sha256, 32);
        return body;
    }
    cm_random(up->media_key, sizeof up->media_key);
    if (wa_media_encrypt(up->media_key, sizeof up->media_key, type, plain, len,
                         body, body_len, &up->hashes) != 0) {
        free(body);
        return NULL;
    }
    *token_p = s_b64url(up->hashes.file_enc_sha256, 32);
    return body;
}

int
ms_wamedia_upload(ms_http_t *http, const uint8_t *plain, size_t len,
                  bool channel, wa_media_type_t type, const char *mms,
                  const char *const *hosts, size_t count, const char *auth,
                  long timeout_ms, ms_wamedia_upload_t *up, char *err,
                  size_t err_size)
{
    memset(up, 0, sizeof *up);
    if (count == 0 || !auth || !*auth) {
        snprintf(err, err_size, "media_conn has no host or auth");
        return -1;
    }
    size_t enc_len = 0;
    char *token = NULL;
    uint8_t *enc =
        s_upload_body(plain, len, channel, type, up, &enc_len, &token);
    if (!enc) {
        snprintf(err, err_size, "could not encrypt the media");
        return -1;
    }
    char *auth_q = curl_easy_escape(NULL, auth, 0);
    struct curl_slist *headers =
        curl_slist_append(NULL, "Origin: https://web.whatsapp.com");
    headers = curl_slist_append(headers, "Referer: https://web.whatsapp.com/");
    headers =
        curl_slist_append(headers, "Content-Type: application/octet-stream");
    headers = curl_slist_append(headers, "Expect:");
    int rc = -1;
    snprintf(err, err_size, "no media host answered");
    for (size_t i = 0; i < count && rc != 0; i++) {
        char *url = channel
                        ? cm_sprintf("https://%s/newsletter/newsletter-%s/%s?"
                                     "auth=%s&token=%s",
                                     hosts[i], mms, token, auth_q, token)
                        : cm_sprintf("https://%s/mms/%s/%s?auth=%s&token=%s",
                                     hosts[i], mms, token, auth_q, token);
        ms_http_req_t req = {.method = "POST",
                             .url = url,
                             .headers = headers,
                             .body = enc,
                             .body_len = enc_len,
                             .max_bytes = 1 << 20,
                             .timeout_ms = timeout_ms};
        ms_http_res_t res;
        if (ms_http_perform(http, &req, &res) != 0) {
            snprintf(err, err_size, "media host %s: %s", hosts[i], res.error);
            cm_log_warn("could not upload media", "host=\"%s\" err=\"%s\"",
                        hosts[i], res.error);
        } else if (res.status < 200 || res.status >= 300) {
            snprintf(err, err_size, "media host %s answered %ld", hosts[i],
                     res.status);
            cm_log_warn("could not upload media", "host=\"%s\" status=%ld",
                        hosts[i], res.status);
        } else {
            json_t *body = json_loadb((const char *)res.body, res.len, 0, NULL);
            const char *u = json_string_value(json_object_get(body, "url"));
            const char *dp =
                json_string_value(json_object_get(body, "direct_path"));
            const char *handle =
                json_string_value(json_object_get(body, "handle"));
            if (channel && (!handle || !*handle || strlen(handle) > 256)) {
                snprintf(err, err_size, "media host %s sent no handle",
                         hosts[i]);
            } else if (dp && *dp == '/') {
                up->handle = channel ? cm_strdup(handle) : NULL;
                up->url = cm_strdup(u ? u : "");
                up->direct_path = cm_strdup(dp);
                up->host = cm_strdup(hosts[i]);
                rc = 0;
            } else {
                snprintf(err, err_size, "media host %s sent no direct_path",
                         hosts[i]);
            }
            json_decref(body);
        }
        ms_http_res_clear(&res);
        free(url);
    }
    curl_slist_free_all(headers);
    curl_free(auth_q);
    free(token);
    free(enc);
    if (rc != 0) {
        wa_crypto_wipe(up->media_key, sizeof up->media_key);
    }
    return rc;
}

ms_wamedia_rc_t
ms_wamedia_download(ms_http_t *http, cm_net_t *net, const char *url,
                    const char *direct_path, const char *const *hosts,
                    size_t count, const uint8_t *media_key,
                    wa_media_type_t type, const uint8_t *enc_sha256,
                    const uint8_t *plain_sha256, int64_t max_bytes,
                    long timeout_ms, uint8_t **plain_p, size_t *plain_len,
                    char *err, size_t err_size)
{
    struct curl_slist *headers =
        curl_slist_append(NULL, "Origin: https://web.whatsapp.com");
    headers = curl_slist_append(headers, "Referer: https://web.whatsapp.com/");
    ms_wamedia_rc_t rc = MS_WAMEDIA_UNREACHABLE;
    snprintf(err, err_size, "no URL to download the media from");
    //  The enc file is the plaintext padded to 16 plus the MAC
    int64_t enc_max = max_bytes + 16 + WA_MEDIA_MAC_LEN;
    bool expired = false;
    char expired_err[128] = "";
    for (size_t i = 0; i <= count; i++) {
        char *target = NULL;
        if (i == 0) {
            if (!url || strncmp(url, "https://", 8) != 0) {
                continue;
            }
            target = cm_strdup(url);
        } else if (direct_path && *direct_path == '/') {
            target = cm_sprintf("https://%s%s", hosts[i - 1], direct_path);
        } else {
            continue;
        }
        //  The sender names the url: checked like a client's file.url, so
        //  a message cannot make the server request an internal address
        ms_http_req_t req = {.url = target,
                             .headers = headers,
                             .max_bytes = enc_max,
                             .timeout_ms = timeout_ms,
                             .net = i == 0 ? net : NULL};
        ms_http_res_t res;
        int hrc = ms_http_perform(http, &req, &res);
        free(target);
        if (hrc != 0) {
            if (res.fail == MS_HTTP_TOO_LARGE) {
                snprintf(err, err_size, "media larger than %lld bytes",
                         (long long)max_bytes);
                ms_http_res_clear(&res);
                rc = MS_WAMEDIA_TOO_LARGE;
                break;
            }
            snprintf(err, err_size, "%s", res.error);
        } else if (res.status == 404 || res.status == 410 ||
                   res.status == 403) {
            expired = true;
            snprintf(expired_err, sizeof expired_err,
                     "the media host answered %ld: the media expired",
                     res.status);
        } else if (res.status != 200) {
            snprintf(err, err_size, "the media host answered %ld", res.status);
        } else {
            uint8_t *plain = malloc(res.len + 16);
            if (!plain) {
                abort();
            }
            size_t n = 0;
            uint8_t got[32];
            bool ok = false;
            if (!media_key) {
                //  Channel media: the bytes themselves, as hashed
                ok = plain_sha256 && (int64_t)res.len <= max_bytes &&
                     wa_sha256(res.body, res.len, got) == 0 &&
                     memcmp(got, plain_sha256, 32) == 0;
                memcpy(plain, res.body, res.len);
                n = res.len;
            } else {
                ok = wa_media_decrypt(media_key, WA_MEDIA_KEY_LEN, type,
                                      res.body, res.len, enc_sha256,
                                      plain_sha256, plain, &n) == 0;
            }
            if (ok) {
                *plain_p = plain;
                *plain_len = n;
                rc = MS_WAMEDIA_OK;
                ms_http_res_clear(&res);
                break;
            }
            free(plain);
            rc = MS_WAMEDIA_INVALID;
            snprintf(err, err_size,
                     "the media failed verification (hash "
                     "or MAC mismatch)");
            ms_http_res_clear(&res);
            break;
        }
        ms_http_res_clear(&res);
    }
    if (rc == MS_WAMEDIA_UNREACHABLE && expired) {
        rc = MS_WAMEDIA_EXPIRED;
        snprintf(err, err_size, "%s", expired_err);
    }
    curl_slist_free_all(headers);
    return rc;
}

//  --------------------------------------------------------------------

void
ms_wamedia_test(bool verbose)
{
    printf(" * ms_wamedia: ");
    char *t = s_b64url((const uint8_t *)"\xfb\xff\xfe", 3);
    assert(streq(t, "-__-"));
    free(t);
    //  No hosts: a clear error, nothing sent
    ms_http_t *http = ms_http_new(NULL);
    ms_wamedia_upload_t up;
    char err[256];
    assert(ms_wamedia_upload(http, (const uint8_t *)"x", 1, false,
                             WA_MEDIA_IMAGE, "image", NULL, 0, "auth", 1000,
                             &up, err, sizeof err) == -1);
    assert(strstr(err, "no host"));
    //  Unreachable hosts: each tried, error names the last
    const char *hosts[] = {"127.0.0.1:1", "127.0.0.1:2"};
    assert(ms_wamedia_upload(http, (const uint8_t *)"x", 1, false,
                             WA_MEDIA_IMAGE, "image", hosts, 2, "auth", 1000,
                             &up, err, sizeof err) == -1);
    assert(strstr(err, "127.0.0.1:2"));
    uint8_t key[32] = {0};
    uint8_t *plain = NULL;
    size_t len = 0;
    assert(ms_wamedia_download(http, NULL, NULL, "/v/x", hosts, 2, key,
                               WA_MEDIA_IMAGE, NULL, NULL, 100, 1000, &plain,
                               &len, err,
                               sizeof err) == MS_WAMEDIA_UNREACHABLE);
    //  A message's url to an internal address is refused before any
    //  connect (before, the server connected to it: "Connection refused"
    //  from port 1); the media hosts are still tried after it
    cm_net_t *strict = cm_net_new("");
    assert(strict);
    assert(ms_wamedia_download(http, strict, "https://127.0.0.2:1/x", NULL,
                               NULL, 0, key, WA_MEDIA_IMAGE, NULL, NULL, 100,
                               1000, &plain, &len, err,
                               sizeof err) == MS_WAMEDIA_UNREACHABLE);
    assert(strstr(err, "not allowed"));
    assert(ms_wamedia_download(http, strict, "https://10.0.0.1:1/x", "/v/x",
                               hosts, 2, key, WA_MEDIA_IMAGE, NULL, NULL, 100,
                               1000, &plain, &len, err,
                               sizeof err) == MS_WAMEDIA_UNREACHABLE);
    assert(strstr(err, "port 2"));
    cm_net_destroy(&strict);
    ms_http_destroy(&http);
    printf("OK\n");
}
