/*  ms_worker - one media-service worker thread and its request handlers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

struct _ms_worker_t {
    const ms_config_t *config;
    char *id;
    cm_net_t *net; //  fetch policy
    ms_http_t *http;
    ms_av_t *av;
    ms_store_t *store;
    cm_handlers_t *handlers;
};

//  A file being prepared. data is owned unless borrowed from a frame.
typedef struct {
    uint8_t *data;
    size_t len;
    bool owned;
    char *mimetype; //  what it is, owned
    char *filename; //  owned, may be NULL
    int width;
    int height;
    int seconds;
    bool has_waveform;
    uint8_t waveform[MS_AV_WAVEFORM_LEN];
    uint8_t *thumb; //  JPEG, owned
    size_t thumb_len;
    bool animated; //  sticker: an animated WebP
} s_file_t;

static void
s_file_clear(s_file_t *f)
{
    if (f->owned) {
        free(f->data);
    }
    free(f->mimetype);
    free(f->filename);
    free(f->thumb);
    memset(f, 0, sizeof *f);
}

static void
s_file_take(s_file_t *f, uint8_t **data_p, size_t len)
{
    if (f->owned) {
        free(f->data);
    }
    f->data = *data_p;
    f->len = len;
    f->owned = true;
    *data_p = NULL;
}

static cm_msg_t *s_fail(cm_msg_t *request, int st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cm_msg_t *
s_fail(cm_msg_t *request, int st, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *reason = cm_vsprintf(fmt, args);
    va_end(args);
    cm_log_debug("media request refused", "type=%s st=%d reason=\"%s\"",
                 cm_msg_type(request), st, reason);
    cm_msg_t *reply = cm_msg_new_reply(request, st, reason);
    free(reason);
    return reply;
}

//  --------------------------------------------------------------------
//  Input: blob 0, or file.url fetched under the policy

//  GET an untrusted URL under the fetch policy (size, time, redirects,
//  addresses). Returns 0 with a 2xx response in *res, or -1 with
//  *reply_p the error reply (`what` names the input in its reason).
static int
s_fetch(ms_worker_t *self, cm_msg_t *request, const char *url, const char *what,
        ms_http_res_t *res, cm_msg_t **reply_p)
{
    ms_http_req_t req = {.url = url,
                         .max_bytes = ms_config_max_bytes(self->config),
                         .timeout_ms = ms_config_fetch_timeout_ms(self->config),
                         .max_redirects =
                             ms_config_fetch_max_redirects(self->config),
                         .net = self->net};
    if (ms_http_perform(self->http, &req, res) != 0) {
        int st = res->fail == MS_HTTP_TOO_LARGE ? 413 : 400;
        *reply_p =
            s_fail(request, st, "could not fetch %s: %s", what, res->error);
        ms_http_res_clear(res);
        return -1;
    }
    if (res->status < 200 || res->status >= 300) {
        *reply_p =
            s_fail(request, 400, "could not fetch %s: the server answered %ld",
                   what, res->status);
        ms_http_res_clear(res);
        return -1;
    }
    return 0;
}

//  Fill f->data from the request. Returns NULL, or an error reply.
static cm_msg_t *
s_input(ms_worker_t *self, cm_msg_t *request, json_t *file, s_file_t *f)
{
    int64_t max = ms_config_max_bytes(self->config);
    zframe_t *blob = cm_msg_blob(request, 0);
    const char *url = json_string_value(json_object_get(file, "url"));
    if (blob) {
        if ((int64_t)zframe_size(blob) > max) {
            return s_fail(request, 413, "file is larger than %lld bytes",
                          (long long)max);
        }
        f->data = zframe_data(blob);
        f->len = zframe_size(blob);
        f->owned = false;
    } else if (url) {
        if (strlen(url) > 8192) {
            return s_fail(request, 400, "file.url is too long");
        }
        ms_http_res_t res;
        cm_msg_t *reply = NULL;
        if (s_fetch(self, request, url, "file.url", &res, &reply) != 0) {
            return reply;
        }
        f->data = res.body;
        f->len = res.len;
        f->owned = true;
        res.body = NULL;
        ms_http_res_clear(&res);
    } else {
        return s_fail(request, 400, "file.url or file.data is required");
    }
    if (f->len == 0) {
        return s_fail(request, 400, "file is empty");
    }
    return NULL;
}

//  --------------------------------------------------------------------
//  Per kind

typedef enum {
    S_IMAGE,
    S_STICKER,
    S_DOCUMENT,
    S_AUDIO,
    S_VOICE,
    S_VIDEO,
    S_LINK_THUMB
} s_kind_t;

static const struct {
    const char *name;
    s_kind_t kind;
    wa_media_type_t type;
    const char *mms;
} s_kinds[] = {
    {"image", S_IMAGE, WA_MEDIA_IMAGE, "image"},
    {"sticker", S_STICKER, WA_MEDIA_IMAGE, "image"},
    {"document", S_DOCUMENT, WA_MEDIA_DOCUMENT, "document"},
    {"audio", S_AUDIO, WA_MEDIA_AUDIO, "audio"},
    {"voice", S_VOICE, WA_MEDIA_AUDIO, "audio"},
    {"video", S_VIDEO, WA_MEDIA_VIDEO, "video"},
    //  a link preview's high-quality image ("thumbnail-link")
    {"link-thumbnail", S_LINK_THUMB, WA_MEDIA_LINK_THUMBNAIL, "image"}};

static int
s_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++) {
        if (cm_streq(name, s_kinds[i].name)) {
            return (int)i;
        }
    }
    return -1;
}

//  The declared mimetype must describe the content when we can tell.
static cm_msg_t *
s_check_declared(cm_msg_t *request, const char *declared, const char *sniffed)
{
    if (declared && ms_sniff_known(declared) &&
        !ms_sniff_matches(declared, sniffed)) {
        return s_fail(request, 400, "file is not %s: its content is %s",
                      declared, sniffed);
    }
    return NULL;
}

//  A GIF sticker: made an animated 512x512 WebP by ffmpeg with libwebp's
//  animation encoder.
static cm_msg_t *
s_prepare_gif_sticker(ms_worker_t *self, cm_msg_t *request, s_file_t *f,
                      const char *declared)
{
    cm_msg_t *bad = s_check_declared(request, declared, "image/gif");
    if (bad) {
        return bad;
    }
    if (!self || ms_av_load(self->av, f->data, f->len) != 0) {
        return s_fail(request, 500, "%s",
                      self ? ms_av_error(self->av) : "no converter");
    }
    uint8_t *webp = NULL;
    size_t webp_len = 0;
    if (ms_av_convert_sticker(self->av, MS_IMAGE_STICKER_SIDE, &webp,
                              &webp_len) != 0) {
        return s_fail(request, 400,
                      "file is a GIF that cannot be converted (%s)",
                      ms_av_error(self->av));
    }
    s_file_take(f, &webp, webp_len);
    if (ms_image_size(f->data, f->len, &f->width, &f->height) != 0) {
        return s_fail(request, 500, "the converted sticker cannot be read");
    }
    f->animated = ms_image_webp_animated(f->data, f->len);
    f->mimetype = cm_strdup("image/webp");
    return NULL;
}

static cm_msg_t *
s_prepare_image(ms_worker_t *self, cm_msg_t *request, s_file_t *f,
                const char *declared, const char *sniffed, bool sticker)
{
    bool ok = streq(sniffed, "image/jpeg") || streq(sniffed, "image/png") ||
              streq(sniffed, "image/webp");
    if (sticker && streq(sniffed, "image/gif")) {
        return s_prepare_gif_sticker(self, request, f, declared);
    }
    if (!ok) {
        return s_fail(request, 400,
                      "file is not an image (JPEG, PNG or WebP): "
                      "its content is %s",
                      sniffed);
    }
    cm_msg_t *bad = s_check_declared(request, declared, sniffed);
    if (bad) {
        return bad;
    }
    if (sticker && !streq(sniffed, "image/webp")) {
        //  WhatsApp's stickers are WebP: a 512x512 one made from it
        uint8_t *webp = NULL;
        size_t webp_len = 0;
        if (ms_image_sticker(f->data, f->len, &webp, &webp_len) != 0) {
            return s_fail(request, 400, "file is a damaged %s", sniffed);
        }
        s_file_take(f, &webp, webp_len);
        sniffed = "image/webp";
    }
    //  An animated WebP goes as it is, marked animated
    f->animated = sticker && ms_image_webp_animated(f->data, f->len);
    if (ms_image_size(f->data, f->len, &f->width, &f->height) != 0) {
        return s_fail(request, 400, "file is a damaged %s", sniffed);
    }
    if (!sticker && ms_image_thumbnail(f->data, f->len, MS_IMAGE_THUMB_SIDE,
                                       &f->thumb, &f->thumb_len) != 0) {
        return s_fail(request, 400, "file is a damaged %s", sniffed);
    }
    f->mimetype = cm_strdup(sniffed);
    return NULL;
}

//  A link preview's high-quality image: a JPEG, as it is when its longest
//  side is at most MS_WORKER_LINK_THUMB_SIDE, else (and PNG or WebP)
//  re-encoded as one that size; with its small thumbnail.
static cm_msg_t *
s_prepare_link_thumb(cm_msg_t *request, s_file_t *f, const char *declared,
                     const char *sniffed)
{
    cm_msg_t *bad = s_prepare_image(NULL, request, f, declared, sniffed, false);
    if (bad) {
        return bad;
    }
    int side = f->width > f->height ? f->width : f->height;
    if (!streq(sniffed, "image/jpeg") || side > MS_WORKER_LINK_THUMB_SIDE) {
        if (side > MS_WORKER_LINK_THUMB_SIDE) {
            side = MS_WORKER_LINK_THUMB_SIDE;
        }
        uint8_t *jpeg = NULL;
        size_t jpeg_len = 0;
        if (ms_image_thumbnail(f->data, f->len, side, &jpeg, &jpeg_len) != 0 ||
            ms_image_size(jpeg, jpeg_len, &f->width, &f->height) != 0) {
            free(jpeg);
            return s_fail(request, 400, "file is a damaged %s", sniffed);
        }
        s_file_take(f, &jpeg, jpeg_len);
        free(f->mimetype);
        f->mimetype = cm_strdup("image/jpeg");
    }
    return NULL;
}

static cm_msg_t *
s_prepare_audio(ms_worker_t *self, cm_msg_t *request, s_file_t *f,
                const char *declared, const char *sniffed, bool voice,
                bool convert)
{
    bool opus = streq(sniffed, "audio/ogg; codecs=opus");
    if (!convert) {
        cm_msg_t *bad = s_check_declared(request, declared, sniffed);
        if (bad) {
            return bad;
        }
        if (voice && !opus) {
            return s_fail(request, 400,
                          "file is not audio/ogg; codecs=opus: its content "
                          "is %s (send convert: true to transcode it)",
                          sniffed);
        }
        if (!voice && strncmp(sniffed, "audio/", 6) != 0) {
            return s_fail(request, 400, "file is not audio: its content is %s",
                          sniffed);
        }
    }
    if (ms_av_load(self->av, f->data, f->len) != 0) {
        return s_fail(request, 500, "%s", ms_av_error(self->av));
    }
    ms_av_info_t info;
    if (ms_av_probe(self->av, &info) != 0 || !info.has_audio) {
        return s_fail(request, 400, "file has no audio that can be read (%s)",
                      sniffed);
    }
    if (convert && voice) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        if (ms_av_convert_voice(self->av, &out, &out_len) != 0) {
            return s_fail(request, 400,
                          "could not convert file to a voice "
                          "note: %s",
                          ms_av_error(self->av));
        }
        s_file_take(f, &out, out_len);
        if (ms_av_probe(self->av, &info) != 0) {
            return s_fail(request, 500, "%s", ms_av_error(self->av));
        }
        sniffed = "audio/ogg; codecs=opus";
    }
    f->seconds = (int)(info.seconds + 0.5);
    if (voice) {
        f->has_waveform = ms_av_waveform(self->av, f->waveform) == 0;
        f->mimetype = cm_strdup("audio/ogg; codecs=opus");
    } else {
        f->mimetype = cm_strdup(declared && !convert ? declared : sniffed);
    }
    return NULL;
}

static cm_msg_t *
s_prepare_video(ms_worker_t *self, cm_msg_t *request, s_file_t *f,
                const char *declared, const char *sniffed, bool convert,
                bool note)
{
    bool mp4 = ms_sniff_matches("video/mp4", sniffed);
    if (!convert) {
        cm_msg_t *bad = s_check_declared(request, declared, sniffed);
        if (bad) {
            return bad;
        }
        if (!mp4) {
            return s_fail(request, 400,
                          "file is not video/mp4: its content is %s (send "
                          "convert: true to transcode it)",
                          sniffed);
        }
    }
    if (ms_av_load(self->av, f->data, f->len) != 0) {
        return s_fail(request, 500, "%s", ms_av_error(self->av));
    }
    ms_av_info_t info;
    if (ms_av_probe(self->av, &info) != 0 || !info.has_video) {
        return s_fail(request, 400, "file has no video that can be read (%s)",
                      sniffed);
    }
    if (convert || (note && info.width != info.height)) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        if (ms_av_convert_video(self->av, note, &out, &out_len) != 0) {
            return s_fail(request, 400, "could not convert file to mp4: %s",
                          ms_av_error(self->av));
        }
        s_file_take(f, &out, out_len);
        if (ms_av_probe(self->av, &info) != 0) {
            return s_fail(request, 500, "%s", ms_av_error(self->av));
        }
    }
    f->seconds = (int)(info.seconds + 0.5);
    f->width = info.width;
    f->height = info.height;
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    if (ms_av_frame(self->av, &frame, &frame_len) == 0) {
        if (ms_image_thumbnail(frame, frame_len, MS_IMAGE_THUMB_SIDE, &f->thumb,
                               &f->thumb_len) != 0) {
            f->thumb = NULL;
            f->thumb_len = 0;
        }
        free(frame);
    }
    f->mimetype = cm_strdup("video/mp4");
    return NULL;
}

static cm_msg_t *
s_prepare_document(cm_msg_t *request, s_file_t *f, const char *declared,
                   const char *sniffed)
{
    cm_msg_t *bad = s_check_declared(request, declared, sniffed);
    if (bad) {
        return bad;
    }
    if (declared && strlen(declared) > 255) {
        return s_fail(request, 400, "file.mimetype is too long");
    }
    f->mimetype = cm_strdup(declared ? declared : sniffed);
    if (strncmp(sniffed, "image/", 6) == 0 &&
        ms_image_size(f->data, f->len, &f->width, &f->height) == 0) {
        if (ms_image_thumbnail(f->data, f->len, MS_IMAGE_THUMB_SIDE, &f->thumb,
                               &f->thumb_len) != 0) {
            f->thumb = NULL;
            f->thumb_len = 0;
        }
    }
    return NULL;
}

//  Read, check and process the request's file for `kind`. Returns NULL,
//  or an error reply.
static cm_msg_t *
s_prepare(ms_worker_t *self, cm_msg_t *request, s_kind_t kind, s_file_t *f)
{
    json_t *file = json_object_get(cm_msg_body(request), "file");
    if (file && !json_is_object(file)) {
        return s_fail(request, 400, "file must be an object");
    }
    cm_msg_t *bad = s_input(self, request, file, f);
    if (bad) {
        return bad;
    }
    const char *declared = json_string_value(json_object_get(file, "mimetype"));
    if (declared && !*declared) {
        declared = NULL;
    }
    const char *filename = json_string_value(json_object_get(file, "filename"));
    if (filename && *filename) {
        if (strlen(filename) > 255) {
            return s_fail(request, 400, "file.filename is too long");
        }
        f->filename = cm_strdup(filename);
    }
    bool convert = cm_msg_bool(request, "convert", false);
    const char *sniffed = ms_sniff_mimetype(f->data, f->len);
    switch (kind) {
    case S_IMAGE:
    case S_STICKER:
        return s_prepare_image(self, request, f, declared, sniffed,
                               kind == S_STICKER);
    case S_AUDIO:
    case S_VOICE:
        return s_prepare_audio(self, request, f, declared, sniffed,
                               kind == S_VOICE, convert);
    case S_VIDEO:
        return s_prepare_video(self, request, f, declared, sniffed, convert,
                               cm_msg_bool(request, "asNote", false));
    case S_DOCUMENT:
        return s_prepare_document(request, f, declared, sniffed);
    case S_LINK_THUMB:
        return s_prepare_link_thumb(request, f, declared, sniffed);
    }
    return s_fail(request, 400, "unrecognized kind");
}

//  --------------------------------------------------------------------
//  Handlers

static void
s_set_b64(cm_msg_t *msg, const char *key, const uint8_t *data, size_t len)
{
    char *b = cm_base64_encode(data, len);
    cm_msg_set_str(msg, key, b);
    free(b);
}

//  Hosts from a media_conn object or array; returns the count.
static size_t
s_hosts(json_t *list, const char *hosts[MS_WORKER_HOSTS_MAX])
{
    size_t n = 0, i;
    json_t *h;
    json_array_foreach(list, i, h)
    {
        const char *name =
            json_is_string(h)
                ? json_string_value(h)
                : json_string_value(json_object_get(h, "hostname"));
        if (name && *name && strlen(name) < 256 && !strpbrk(name, "/?#@ ") &&
            n < MS_WORKER_HOSTS_MAX) {
            hosts[n++] = name;
        }
    }
    return n;
}

//  The key a `store` request field ("<session>/<name>") gives a file of
//  `mimetype`: "<session>/<name>.<ext>". Returns NULL (and *bad set)
//  when the field is there but no valid key results; NULL with *bad
//  false when there is none. Caller owns return value.
static char *
s_store_key(cm_msg_t *request, const char *mimetype, bool *bad)
{
    const char *store = cm_msg_str(request, "store");
    *bad = false;
    if (!store) {
        return NULL;
    }
    char *key = cm_sprintf("%s.%s", store, ms_sniff_extension(mimetype));
    if (!ms_store_key_valid(key)) {
        free(key);
        *bad = true;
        return NULL;
    }
    return key;
}

static cm_msg_t *
s_upload(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    int k = s_kind_find(cm_msg_str(request, "kind"));
    if (k < 0) {
        return s_fail(request, 400,
                      "kind must be one of image, sticker, "
                      "document, audio, voice, video, link-thumbnail");
    }
    json_t *conn = json_object_get(cm_msg_body(request), "media_conn");
    const char *auth = json_string_value(json_object_get(conn, "auth"));
    const char *hosts[MS_WORKER_HOSTS_MAX];
    size_t count = s_hosts(json_object_get(conn, "hosts"), hosts);
    if (!auth || !*auth || count == 0) {
        return s_fail(request, 400, "media_conn {auth, hosts} is required");
    }
    s_file_t f;
    memset(&f, 0, sizeof f);
    int64_t t0 = cm_mono_ms();
    cm_msg_t *reply = s_prepare(self, request, s_kinds[k].kind, &f);
    if (reply) {
        s_file_clear(&f);
        return reply;
    }
    bool bad_store = false;
    char *store_key = s_store_key(request, f.mimetype, &bad_store);
    if (bad_store) {
        s_file_clear(&f);
        return s_fail(request, 400, "store must be <session>/<name>");
    }
    int64_t t1 = cm_mono_ms();
    ms_wamedia_upload_t up;
    char err[300];
    //  channel: a channel post's media, uploaded unencrypted
    bool channel = cm_msg_bool(request, "channel", false);
    if (ms_wamedia_upload(self->http, f.data, f.len, channel, s_kinds[k].type,
                          s_kinds[k].mms, hosts, count, auth,
                          ms_config_transfer_timeout_ms(self->config), &up, err,
                          sizeof err) != 0) {
        cm_log_warn("could not upload media", "kind=%s len=%zu err=\"%s\"",
                    s_kinds[k].name, f.len, err);
        s_file_clear(&f);
        free(store_key);
        return s_fail(request, 502, "could not upload the media: %s", err);
    }
    //  The sender's copy, for media.url (after the upload: a failed send
    //  stores nothing)
    if (store_key && ms_store_put(self->store, store_key, f.data, f.len) != 0) {
        cm_log_warn("could not store the sent media", "key=\"%s\"", store_key);
        free(store_key);
        store_key = NULL;
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_str(reply, "kind", s_kinds[k].name);
    cm_msg_set_str(reply, "mimetype", f.mimetype);
    if (f.filename) {
        cm_msg_set_str(reply, "filename", f.filename);
    }
    cm_msg_set_int(reply, "fileLength", (int64_t)up.hashes.file_length);
    s_set_b64(reply, "fileSha256", up.hashes.file_sha256, 32);
    if (channel) {
        cm_msg_set_str(reply, "handle", up.handle);
    } else {
        s_set_b64(reply, "fileEncSha256", up.hashes.file_enc_sha256, 32);
        s_set_b64(reply, "mediaKey", up.media_key, sizeof up.media_key);
        cm_msg_set_int(reply, "mediaKeyTimestamp", cm_now_ms() / 1000);
    }
    cm_msg_set_str(reply, "directPath", up.direct_path);
    cm_msg_set_str(reply, "url", up.url);
    cm_msg_set_str(reply, "host", up.host);
    if (store_key) {
        cm_msg_set_str(reply, "key", store_key);
        free(store_key);
    }
    if (f.width > 0 && f.height > 0) {
        cm_msg_set_int(reply, "width", f.width);
        cm_msg_set_int(reply, "height", f.height);
    }
    if (s_kinds[k].kind == S_AUDIO || s_kinds[k].kind == S_VOICE ||
        s_kinds[k].kind == S_VIDEO) {
        cm_msg_set_int(reply, "seconds", f.seconds);
    }
    if (s_kinds[k].kind == S_VOICE) {
        cm_msg_set_bool(reply, "ptt", true);
    }
    if (f.animated) {
        cm_msg_set_bool(reply, "animated", true);
    }
    if (f.has_waveform) {
        s_set_b64(reply, "waveform", f.waveform, sizeof f.waveform);
    }
    if (f.thumb) {
        cm_msg_set_bool(reply, "thumbnail", true);
        cm_msg_add_blob(reply, f.thumb, f.thumb_len);
    }
    cm_log_debug("media uploaded",
                 "kind=%s len=%zu prepare_ms=%lld "
                 "upload_ms=%lld host=\"%s\"",
                 s_kinds[k].name, f.len, (long long)(t1 - t0),
                 (long long)(cm_mono_ms() - t1), up.host);
    wa_crypto_wipe(up.media_key, sizeof up.media_key);
    ms_wamedia_upload_clear(&up);
    s_file_clear(&f);
    return reply;
}

//  A 32-byte value given in base64 under `key`. Returns 0 (absent: 1),
//  or -1 when it is there but not 32 bytes.
static int
s_get32(cm_msg_t *request, const char *key, uint8_t out[32])
{
    const char *text = cm_msg_str(request, key);
    if (!text) {
        return 1;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (cm_base64_decode(text, 64, &bytes, &len) != 0 || len != 32) {
        free(bytes);
        return -1;
    }
    memcpy(out, bytes, 32);
    free(bytes);
    return 0;
}

static cm_msg_t *
s_download(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    const char *kind = cm_msg_str(request, "kind");
    wa_media_type_t type;
    if (wa_media_type_parse(kind, &type) != 0) {
        return s_fail(request, 400, "kind is not a media type");
    }
    uint8_t key[32], enc_sha[32], plain_sha[32];
    int has_key, has_enc, has_plain;
    if ((has_key = s_get32(request, "mediaKey", key)) < 0 ||
        (has_enc = s_get32(request, "fileEncSha256", enc_sha)) < 0 ||
        (has_plain = s_get32(request, "fileSha256", plain_sha)) < 0) {
        return s_fail(request, 400,
                      "mediaKey, fileEncSha256 and fileSha256 "
                      "must be 32 bytes in base64");
    }
    //  No media key: channel media, not encrypted; its hash is the check
    if (has_key != 0 && has_plain != 0) {
        return s_fail(request, 400,
                      "mediaKey, or fileSha256 for channel media, is "
                      "required");
    }
    const char *url = cm_msg_str(request, "url");
    const char *direct_path = cm_msg_str(request, "directPath");
    if ((!url || !*url) && (!direct_path || *direct_path != '/')) {
        return s_fail(request, 400, "url or directPath is required");
    }
    const char *store_key = cm_msg_str(request, "key");
    if (store_key && !ms_store_key_valid(store_key)) {
        return s_fail(request, 400, "key must be <session>/<file>");
    }
    const char *store = cm_msg_str(request, "store");
    if (store && (store_key || !ms_store_key_valid(store))) {
        return s_fail(request, 400,
                      "store must be <session>/<name> (and no key)");
    }
    //  `reuse` (a download on demand): a file already stored under the
    //  name answers at once
    const char *want = cm_msg_str(request, "mimetype");
    if (store && want && *want && cm_msg_bool(request, "reuse", false) &&
        !cm_msg_bool(request, "return", false)) {
        bool bad = false;
        char *named = s_store_key(request, want, &bad);
        int64_t size = -1;
        if (named && ms_store_has(self->store, named, &size) == MS_STORE_OK) {
            cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
            cm_msg_set_str(reply, "mimetype", want);
            if (size >= 0) {
                cm_msg_set_int(reply, "size", size);
            }
            cm_msg_set_str(reply, "key", named);
            cm_msg_set_bool(reply, "reused", true);
            free(named);
            return reply;
        }
        free(named);
    }
    const char *hosts[MS_WORKER_HOSTS_MAX];
    size_t count =
        s_hosts(json_object_get(cm_msg_body(request), "hosts"), hosts);
    if (count == 0) {
        hosts[0] = MS_WORKER_DEFAULT_HOST;
        count = 1;
    }
    uint8_t *plain = NULL;
    size_t len = 0;
    char err[300];
    ms_wamedia_rc_t rc = ms_wamedia_download(
        self->http, self->net, url, direct_path, hosts, count,
        has_key == 0 ? key : NULL, type, has_enc == 0 ? enc_sha : NULL,
        has_plain == 0 ? plain_sha : NULL, ms_config_max_bytes(self->config),
        ms_config_transfer_timeout_ms(self->config), &plain, &len, err,
        sizeof err);
    wa_crypto_wipe(key, sizeof key);
    switch (rc) {
    case MS_WAMEDIA_OK:
        break;
    case MS_WAMEDIA_EXPIRED:
        return s_fail(request, 410, "%s", err);
    case MS_WAMEDIA_INVALID:
        return s_fail(request, 422, "%s", err);
    case MS_WAMEDIA_TOO_LARGE:
        return s_fail(request, 413, "%s", err);
    case MS_WAMEDIA_UNREACHABLE:
        return s_fail(request, 502, "could not download the media: %s", err);
    }
    const char *mimetype = cm_msg_str(request, "mimetype");
    if (!mimetype || !*mimetype) {
        mimetype = ms_sniff_mimetype(plain, len);
    }
    //  `store`: the extension follows the mimetype
    char *named = NULL;
    if (store) {
        bool bad = false;
        named = s_store_key(request, mimetype, &bad);
        if (!named) {
            free(plain);
            return s_fail(request, 400, "store must be <session>/<name>");
        }
        store_key = named;
    }
    if (store_key && ms_store_put(self->store, store_key, plain, len) != 0) {
        free(plain);
        free(named);
        return s_fail(request, 503, "could not store the media file");
    }
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_str(reply, "mimetype", mimetype);
    cm_msg_set_int(reply, "size", (int64_t)len);
    if (store_key) {
        cm_msg_set_str(reply, "key", store_key);
    }
    free(named);
    if (cm_msg_bool(request, "return", false)) {
        zframe_t *frame = zframe_new(plain, len);
        cm_msg_add_frame(reply, &frame);
    }
    free(plain);
    return reply;
}

static cm_msg_t *
s_convert(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    const char *kind = cm_msg_str(request, "kind");
    bool voice = cm_streq(kind, "voice");
    if (!voice && !cm_streq(kind, "video")) {
        return s_fail(request, 400, "kind must be voice or video");
    }
    json_t *file = json_object_get(cm_msg_body(request), "file");
    s_file_t f;
    memset(&f, 0, sizeof f);
    cm_msg_t *reply = s_input(self, request, file, &f);
    if (reply) {
        s_file_clear(&f);
        return reply;
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    ms_av_info_t info;
    if (ms_av_load(self->av, f.data, f.len) != 0) {
        reply = s_fail(request, 500, "%s", ms_av_error(self->av));
    } else if (ms_av_probe(self->av, &info) != 0 ||
               (voice ? !info.has_audio : !info.has_video)) {
        reply =
            s_fail(request, 400, "file has no %s that can be read (%s)",
                   voice ? "audio" : "video", ms_sniff_mimetype(f.data, f.len));
    } else if ((voice ? ms_av_convert_voice(self->av, &out, &out_len)
                      : ms_av_convert_video(self->av, false, &out, &out_len)) !=
               0) {
        reply = s_fail(request, 400, "could not convert file: %s",
                       ms_av_error(self->av));
    } else {
        reply = cm_msg_new_reply(request, 200, NULL);
        cm_msg_set_str(reply, "mimetype",
                       voice ? "audio/ogg; codecs=opus" : "video/mp4");
        cm_msg_set_int(reply, "size", (int64_t)out_len);
        zframe_t *frame = zframe_new(out, out_len);
        cm_msg_add_frame(reply, &frame);
    }
    free(out);
    s_file_clear(&f);
    return reply;
}

static cm_msg_t *
s_profile_picture(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    json_t *file = json_object_get(cm_msg_body(request), "file");
    s_file_t f;
    memset(&f, 0, sizeof f);
    cm_msg_t *reply = s_input(self, request, file, &f);
    if (reply) {
        s_file_clear(&f);
        return reply;
    }
    uint8_t *full = NULL;
    uint8_t *preview = NULL;
    size_t full_len = 0, preview_len = 0;
    int w = 0, h = 0;
    if (ms_image_size(f.data, f.len, &w, &h) != 0 ||
        ms_image_square(f.data, f.len, MS_WORKER_PICTURE_SIDE,
                        MS_WORKER_PICTURE_QUALITY, &full, &full_len) != 0 ||
        ms_image_square(f.data, f.len, MS_WORKER_PREVIEW_SIDE,
                        MS_WORKER_PICTURE_QUALITY, &preview,
                        &preview_len) != 0) {
        reply = s_fail(request, 400,
                       "file is not an image that can be read (JPEG, PNG "
                       "or WebP; got %s)",
                       ms_sniff_mimetype(f.data, f.len));
    } else {
        reply = cm_msg_new_reply(request, 200, NULL);
        cm_msg_set_int(reply, "width", w);
        cm_msg_set_int(reply, "height", h);
        zframe_t *frame = zframe_new(full, full_len);
        cm_msg_add_frame(reply, &frame);
        frame = zframe_new(preview, preview_len);
        cm_msg_add_frame(reply, &frame);
    }
    free(full);
    free(preview);
    s_file_clear(&f);
    return reply;
}

static cm_msg_t *
s_preview(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    const char *url = cm_msg_str(request, "url");
    if (!url || strlen(url) > MS_WORKER_PREVIEW_URL_MAX ||
        (strncasecmp(url, "http://", 7) != 0 &&
         strncasecmp(url, "https://", 8) != 0)) {
        return s_fail(request, 400, "url must be an http or https URL");
    }
    ms_http_res_t res;
    cm_msg_t *reply = NULL;
    if (s_fetch(self, request, url, "url", &res, &reply) != 0) {
        return reply;
    }
    if (!ms_preview_is_html(res.content_type, (const char *)res.body,
                            res.len)) {
        reply = s_fail(request, 400, "url is not an HTML page (%s)",
                       res.content_type ? res.content_type
                                        : ms_sniff_mimetype(res.body, res.len));
        ms_http_res_clear(&res);
        return reply;
    }
    ms_preview_t *page = ms_preview_new((const char *)res.body, res.len);
    ms_http_res_clear(&res);
    if (!page) {
        return s_fail(request, 404,
                      "the page has no title, description or image");
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_str(reply, "url", url);
    if (ms_preview_title(page)) {
        cm_msg_set_str(reply, "title", ms_preview_title(page));
    }
    if (ms_preview_description(page)) {
        cm_msg_set_str(reply, "description", ms_preview_description(page));
    }
    char *image = ms_preview_resolve(url, ms_preview_image(page));
    ms_preview_destroy(&page);
    cm_msg_t *bad = NULL;
    if (image && s_fetch(self, request, image, "the image", &res, &bad) == 0) {
        //  The thumbnail through the image path; a picture that cannot
        //  be read leaves the preview without one
        uint8_t *thumb = NULL;
        size_t thumb_len = 0;
        if (ms_image_thumbnail(res.body, res.len, MS_PREVIEW_THUMB_SIDE, &thumb,
                               &thumb_len) == 0) {
            cm_msg_set_bool(reply, "thumbnail", true);
            zframe_t *frame = zframe_new(thumb, thumb_len);
            cm_msg_add_frame(reply, &frame);
            free(thumb);
        } else {
            cm_log_debug("preview image not read", "type=%s",
                         ms_sniff_mimetype(res.body, res.len));
        }
        ms_http_res_clear(&res);
    }
    if (image) {
        cm_msg_set_str(reply, "image", image);
    }
    cm_msg_destroy(&bad);
    free(image);
    return reply;
}

static cm_msg_t *
s_thumbnail(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    json_t *file = json_object_get(cm_msg_body(request), "file");
    if (file && !json_is_object(file)) {
        return s_fail(request, 400, "file must be an object");
    }
    s_file_t f;
    memset(&f, 0, sizeof f);
    cm_msg_t *reply = s_input(self, request, file, &f);
    if (reply) {
        s_file_clear(&f);
        return reply;
    }
    uint8_t *thumb = NULL;
    size_t len = 0;
    int w = 0, h = 0;
    if (ms_image_size(f.data, f.len, &w, &h) != 0 ||
        ms_image_thumbnail(f.data, f.len, MS_PREVIEW_THUMB_SIDE, &thumb,
                           &len) != 0) {
        reply = s_fail(request, 400,
                       "file is not an image that can be read (JPEG, PNG "
                       "or WebP; got %s)",
                       ms_sniff_mimetype(f.data, f.len));
    } else {
        reply = cm_msg_new_reply(request, 200, NULL);
        cm_msg_set_int(reply, "width", w);
        cm_msg_set_int(reply, "height", h);
        zframe_t *frame = zframe_new(thumb, len);
        cm_msg_add_frame(reply, &frame);
    }
    free(thumb);
    s_file_clear(&f);
    return reply;
}

static cm_msg_t *
s_file_get(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    const char *key = cm_msg_str(request, "key");
    if (!ms_store_key_valid(key)) {
        return s_fail(request, 400, "key must be <session>/<file>");
    }
    uint8_t *data = NULL;
    size_t len = 0;
    ms_store_rc_t rc = ms_store_get(
        self->store, key, ms_config_max_bytes(self->config), &data, &len);
    if (rc == MS_STORE_NOT_FOUND) {
        return s_fail(request, 404, "file not found");
    }
    if (rc != MS_STORE_OK) {
        return s_fail(request, 503, "could not read the file");
    }
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    const char *ext = strrchr(key, '.');
    cm_msg_set_str(reply, "mimetype", ms_sniff_from_extension(ext ? ext : ""));
    cm_msg_set_int(reply, "size", (int64_t)len);
    zframe_t *frame = zframe_new(data, len);
    cm_msg_add_frame(reply, &frame);
    free(data);
    return reply;
}

static cm_msg_t *
s_file_put(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    const char *key = cm_msg_str(request, "key");
    zframe_t *blob = cm_msg_blob(request, 0);
    if (!ms_store_key_valid(key)) {
        return s_fail(request, 400, "key must be <session>/<file>");
    }
    if (!blob) {
        return s_fail(request, 400, "the file bytes (blob 0) are required");
    }
    if ((int64_t)zframe_size(blob) > ms_config_max_bytes(self->config)) {
        return s_fail(request, 413, "file is larger than %lld bytes",
                      (long long)ms_config_max_bytes(self->config));
    }
    if (ms_store_put(self->store, key, zframe_data(blob), zframe_size(blob)) !=
        0) {
        return s_fail(request, 503, "could not store the file");
    }
    cm_msg_t *reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_str(reply, "key", key);
    cm_msg_set_int(reply, "size", (int64_t)zframe_size(blob));
    return reply;
}

static cm_msg_t *
s_health(cm_msg_t *request, void *arg)
{
    ms_worker_t *self = (ms_worker_t *)arg;
    return cm_handlers_health(request, "media-service", self->id);
}

//  --------------------------------------------------------------------

ms_worker_t *
ms_worker_new(const ms_config_t *config, const char *id, const char *scratch)
{
    ms_worker_t *self = cm_alloc(sizeof *self);
    self->config = config;
    self->id = cm_strdup(id);
    self->net = cm_net_new(ms_config_fetch_allow(config));
    self->http = ms_http_new(config);
    self->av =
        ms_av_new(scratch, ms_config_ffmpeg(config), ms_config_ffprobe(config),
                  ms_config_ffmpeg_timeout_ms(config));
    self->store = self->http ? ms_store_new(config, self->http) : NULL;
    if (!self->net || !self->http || !self->av || !self->store) {
        ms_worker_destroy(&self);
        return NULL;
    }
    self->handlers = cm_handlers_new();
    cm_handlers_add(self->handlers, "health.ping", 1, s_health, self);
    cm_handlers_add(self->handlers, "media.upload", 1, s_upload, self);
    cm_handlers_add(self->handlers, "media.download", 1, s_download, self);
    cm_handlers_add(self->handlers, "media.convert", 1, s_convert, self);
    cm_handlers_add(self->handlers, "media.profile_picture", 1,
                    s_profile_picture, self);
    cm_handlers_add(self->handlers, "media.preview", 1, s_preview, self);
    cm_handlers_add(self->handlers, "media.thumbnail", 1, s_thumbnail, self);
    cm_handlers_add(self->handlers, "media.file.get", 1, s_file_get, self);
    cm_handlers_add(self->handlers, "media.file.put", 1, s_file_put, self);
    return self;
}

void
ms_worker_destroy(ms_worker_t **self_p)
{
    assert(self_p);
    ms_worker_t *self = *self_p;
    if (self) {
        cm_handlers_destroy(&self->handlers);
        ms_store_destroy(&self->store);
        ms_av_destroy(&self->av);
        ms_http_destroy(&self->http);
        cm_net_destroy(&self->net);
        free(self->id);
        free(self);
        *self_p = NULL;
    }
}

cm_msg_t *
ms_worker_handle(ms_worker_t *self, cm_msg_t *request)
{
    return cm_handlers_dispatch(self->handlers, request);
}

void
ms_worker_actor(zsock_t *pipe, void *args)
{
    ms_worker_args_t *a = (ms_worker_args_t *)args;
    char id[64];
    snprintf(id, sizeof id, "media-%d-%d", (int)getpid(), a->index);
    ms_worker_t *self = ms_worker_new(a->config, id, a->scratch);
    zsock_t *sock = self ? zsock_new(ZMQ_DEALER) : NULL;
    if (sock) {
        cm_msg_sock_defaults(sock);
        if (zsock_connect(sock, "%s", a->endpoint) != 0) {
            zsock_destroy(&sock);
        }
    }
    a->failed = sock == NULL;
    zsock_signal(pipe, sock ? 0 : 1);
    if (!sock) {
        ms_worker_destroy(&self);
        return;
    }
    zpoller_t *poller = zpoller_new(pipe, sock, NULL);
    while (true) {
        zsock_t *which = (zsock_t *)zpoller_wait(poller, -1);
        if (which != sock) {
            break; //  $TERM on the pipe, or interrupted
        }
        cm_handlers_serve_one(self->handlers, sock);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&sock);
    ms_worker_destroy(&self);
}

//  --------------------------------------------------------------------

void
ms_worker_test(bool verbose)
{
    printf(" * ms_worker: ");
    char dir[] = "/tmp/ms_worker_test_XXXXXX";
    assert(mkdtemp(dir));
    setenv("WHATSAPP_FILES_FOLDER", dir, 1);
    ms_config_t *cfg = ms_config_new();
    ms_worker_t *w = ms_worker_new(cfg, "t", dir);
    assert(w);
    cm_log_init(NULL, "error");

    //  file.put / file.get round trip, bytes in blobs
    cm_msg_t *req = cm_msg_new("media.file.put");
    cm_msg_set_str(req, "key", "s1/true_1@c.us_A.pdf");
    cm_msg_add_blob(req, "%PDF-1.4 x", 10);
    cm_msg_t *reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 200);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    req = cm_msg_new("media.file.get");
    cm_msg_set_str(req, "key", "s1/true_1@c.us_A.pdf");
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "mimetype"), "application/pdf"));
    assert(cm_msg_blob_count(reply) == 1);
    assert(zframe_size(cm_msg_blob(reply, 0)) == 10);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    req = cm_msg_new("media.file.get");
    cm_msg_set_str(req, "key", "s1/../../etc/passwd");
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    req = cm_msg_new("media.file.get");
    cm_msg_set_str(req, "key", "s1/missing.pdf");
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 404);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    //  download with `reuse`: the stored file answers, no host asked;
    //  without it (or another name) the host is asked (and unreachable)
    for (int i = 0; i < 3; i++) {
        req = cm_msg_new("media.download");
        cm_msg_set_str(req, "kind", "document");
        cm_msg_set_str(req, "mediaKey",
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        cm_msg_set_str(req, "directPath", "/v/x");
        cm_msg_set(req, "hosts", json_pack("[s]", "127.0.0.1:1"));
        cm_msg_set_str(req, "mimetype", "application/pdf");
        cm_msg_set_str(req, "store", i == 2 ? "s1/other" : "s1/true_1@c.us_A");
        cm_msg_set_bool(req, "reuse", i != 1);
        reply = ms_worker_handle(w, req);
        if (i == 0) {
            assert(cm_msg_status(reply) == 200);
            assert(cm_streq(cm_msg_str(reply, "key"), "s1/true_1@c.us_A.pdf"));
            assert(cm_msg_bool(reply, "reused", false));
            assert(cm_msg_int(reply, "size", 0) == 10);
            assert(cm_msg_blob_count(reply) == 0);
        } else {
            assert(cm_msg_status(reply) == 502);
        }
        cm_msg_destroy(&reply);
        cm_msg_destroy(&req);
    }

    //  upload: input checks come before any network
    const char *conn = "{\"auth\":\"a\",\"hosts\":[{\"hostname\":"
                       "\"127.0.0.1:1\"}]}";
    struct {
        const char *kind;
        const char *data;
        size_t len;
        const char *mimetype;
        int st;
        const char *says;
    } cases[] = {
        {"image", "%PDF-1.4 hello", 14, "image/jpeg", 400, "not an image"},
        {"document", "%PDF-1.4 hello", 14, "image/png", 400, "not image/png"},
        {"document", "just text", 9, "application/pdf", 400,
         "not application/pdf"},
        {"voice", "ID3\x04\0\0\0\0\0\0", 10, NULL, 400, "convert: true"},
        {"video", "GIF89a\x01\0\x01\0", 10, NULL, 400, "not video/mp4"},
        {"image", "\xff\xd8\xff\xe0 broken", 12, NULL, 400, "damaged"},
        {"nonsense", "x", 1, NULL, 400, "kind must be"},
        {"sticker", "%PDF-1.4 hello", 14, NULL, 400, "not an image"},
        {"sticker", "\x89PNG\r\n\x1a\n broken", 15, NULL, 400, "damaged"},
        {"document", "%PDF-1.4 hello", 14, "application/pdf", 502,
         "could not upload"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        req = cm_msg_new("media.upload");
        cm_msg_set_str(req, "kind", cases[i].kind);
        json_t *file = json_object();
        if (cases[i].mimetype) {
            json_object_set_new(file, "mimetype",
                                json_string(cases[i].mimetype));
        }
        cm_msg_set(req, "file", file);
        cm_msg_set(req, "media_conn", json_loads(conn, 0, NULL));
        cm_msg_add_blob(req, cases[i].data, cases[i].len);
        reply = ms_worker_handle(w, req);
        if (cm_msg_status(reply) != cases[i].st ||
            !strstr(cm_msg_reason(reply), cases[i].says)) {
            printf("case %zu: %d %s\n", i, cm_msg_status(reply),
                   cm_msg_reason(reply));
        }
        assert(cm_msg_status(reply) == cases[i].st);
        assert(strstr(cm_msg_reason(reply), cases[i].says));
        cm_msg_destroy(&reply);
        cm_msg_destroy(&req);
    }
    //  No input, no media_conn
    req = cm_msg_new("media.upload");
    cm_msg_set_str(req, "kind", "image");
    cm_msg_set(req, "media_conn", json_loads(conn, 0, NULL));
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "file.url or file.data"));
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    req = cm_msg_new("media.upload");
    cm_msg_set_str(req, "kind", "image");
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "media_conn"));
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    //  media.preview: an http(s) URL, on an allowed address
    const char *previews[][2] = {
        {NULL, "url must be"},
        {"ftp://x/y", "url must be"},
        {"http://169.254.169.254/latest", "not allowed"},
        {"http://10.0.0.1/", "not allowed"},
    };
    for (size_t i = 0; i < sizeof previews / sizeof previews[0]; i++) {
        req = cm_msg_new("media.preview");
        if (previews[i][0]) {
            cm_msg_set_str(req, "url", previews[i][0]);
        }
        reply = ms_worker_handle(w, req);
        assert(cm_msg_status(reply) == 400);
        assert(strstr(cm_msg_reason(reply), previews[i][1]));
        cm_msg_destroy(&reply);
        cm_msg_destroy(&req);
    }
    //  link-thumbnail: a PNG becomes a JPEG of its size, with a thumbnail
    {
        static const uint8_t png[] = {
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00,
            0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02,
            0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7b,
            0x40, 0xe8, 0xdd, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41,
            0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x44, 0x00,
            0x08, 0xfe, 0x01, 0xff, 0xc6, 0x9e, 0x79, 0xf7, 0x00, 0x00,
            0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
        req = cm_msg_new("media.upload");
        cm_msg_add_blob(req, png, sizeof png);
        s_file_t f;
        memset(&f, 0, sizeof f);
        assert(s_prepare(w, req, S_LINK_THUMB, &f) == NULL);
        assert(cm_streq(f.mimetype, "image/jpeg") && f.data[0] == 0xFF &&
               f.data[1] == 0xD8);
        assert(f.width == 2 && f.height == 1 && f.thumb && f.thumb_len > 0);
        s_file_clear(&f);
        cm_msg_destroy(&req);
        //  not an image: 400
        req = cm_msg_new("media.upload");
        cm_msg_add_blob(req, "%PDF-1.4 hello", 14);
        memset(&f, 0, sizeof f);
        reply = s_prepare(w, req, S_LINK_THUMB, &f);
        assert(cm_msg_status(reply) == 400);
        cm_msg_destroy(&reply);
        s_file_clear(&f);
        cm_msg_destroy(&req);
        assert(s_kind_find("link-thumbnail") >= 0 &&
               s_kinds[s_kind_find("link-thumbnail")].type ==
                   WA_MEDIA_LINK_THUMBNAIL);
    }
    //  media.thumbnail: an image, else a 400
    req = cm_msg_new("media.thumbnail");
    cm_msg_add_blob(req, "%PDF-1.4 hello", 14);
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "not an image"));
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    //  A URL on a refused address
    req = cm_msg_new("media.upload");
    cm_msg_set_str(req, "kind", "image");
    cm_msg_set(req, "media_conn", json_loads(conn, 0, NULL));
    cm_msg_set(req, "file",
               json_pack("{s:s}", "url", "http://169.254.169.254/latest"));
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "not allowed"));
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);

    //  download: bad keys, and an unreachable host
    req = cm_msg_new("media.download");
    cm_msg_set_str(req, "kind", "image");
    cm_msg_set_str(req, "mediaKey", "c2hvcnQ=");
    cm_msg_set_str(req, "directPath", "/v/x");
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);
    //  Neither a media key nor (channel media) the file's hash
    req = cm_msg_new("media.download");
    cm_msg_set_str(req, "kind", "image");
    cm_msg_set_str(req, "directPath", "/v/x");
    reply = ms_worker_handle(w, req);
    assert(cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "channel media"));
    cm_msg_destroy(&reply);
    cm_msg_destroy(&req);

    cm_log_init(NULL, "info");
    ms_worker_destroy(&w);
    ms_worker_destroy(&w);
    ms_config_destroy(&cfg);
    char path[128];
    snprintf(path, sizeof path, "%s/s1/true_1@c.us_A.pdf", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/s1", dir);
    rmdir(path);
    rmdir(dir);
    unsetenv("WHATSAPP_FILES_FOLDER");
    printf("OK\n");
}
