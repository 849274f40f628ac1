/*  sw_wafetch - the media of stored messages, downloaded on demand

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "sw_wafetch.h"
#include "wa/wa_kinds.h"
#include "wa/wa_mediamsg.h"

//  wa_mediamsg kind -> the Message field that carries it, and the flag
//  that tells it apart from its siblings.
static const struct {
    const char *kind;
    const char *field;
    const char *flag; //  true in the raw message, or NULL
} s_fields[] = {
    {"image", "imageMessage", NULL},        {"video", "videoMessage", NULL},
    {"gif", "videoMessage", "gifPlayback"}, {"ptv", "ptvMessage", NULL},
    {"audio", "audioMessage", NULL},        {"ptt", "audioMessage", "ptt"},
    {"document", "documentMessage", NULL},  {"sticker", "stickerMessage", NULL},
};
#define S_FIELDS (sizeof s_fields / sizeof s_fields[0])

static void
s_b64(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
    if (data && len) {
        char *b = cm_base64_encode(data, len);
        json_object_set_new(obj, key, json_string(b));
        free(b);
    }
}

static void
s_str(json_t *obj, const char *key, const char *value)
{
    json_t *v = value && *value ? json_string(value) : NULL;
    if (v) { //  NULL too when not UTF-8
        json_object_set_new(obj, key, v);
    }
}

static void
s_uint(json_t *obj, const char *key, uint64_t value)
{
    if (value > 0 && value <= (uint64_t)INT64_MAX) {
        json_object_set_new(obj, key, json_integer((json_int_t)value));
    }
}

//  A text's high-quality link-preview image, as WAHA's raw message
//  shows it: {"extendedTextMessage": {thumbnailDirectPath, mediaKey,
//  thumbnailSha256, thumbnailEncSha256, mediaKeyTimestamp,
//  thumbnailWidth, thumbnailHeight}}; NULL when the text has none.
static json_t *
s_preview_data(const wa_message_t *msg)
{
    wa_kinds_preview_t pv;
    if (wa_kinds_preview_read(msg, &pv) != 0 || !pv.hq_path) {
        return NULL;
    }
    json_t *x = json_object();
    s_str(x, "thumbnailDirectPath", pv.hq_path);
    s_b64(x, "mediaKey", pv.hq_media_key, 32);
    s_b64(x, "thumbnailSha256", pv.hq_sha256, 32);
    s_b64(x, "thumbnailEncSha256", pv.hq_enc_sha256, 32);
    s_uint(x, "mediaKeyTimestamp", (uint64_t)pv.hq_key_timestamp);
    s_uint(x, "thumbnailWidth", pv.hq_width);
    s_uint(x, "thumbnailHeight", pv.hq_height);
    return json_pack("{s:o}", "extendedTextMessage", x);
}

json_t *
sw_wafetch_data(const wa_message_t *msg)
{
    wa_mediamsg_t f;
    if (!msg) {
        return NULL;
    }
    if (wa_mediamsg_read(msg, &f) != 0) {
        return s_preview_data(msg);
    }
    size_t i = 0;
    while (i < S_FIELDS && !cm_streq(s_fields[i].kind, f.kind)) {
        i++;
    }
    if (i == S_FIELDS) {
        return NULL;
    }
    json_t *x = json_object();
    s_str(x, "url", f.url);
    s_str(x, "mimetype", f.mimetype);
    s_b64(x, "fileSha256", f.file_sha256, f.file_sha256 ? 32 : 0);
    s_b64(x, "fileEncSha256", f.file_enc_sha256, f.file_enc_sha256 ? 32 : 0);
    s_b64(x, "mediaKey", f.media_key, f.media_key_len);
    if (f.direct_path && *f.direct_path == '/') {
        s_str(x, "directPath", f.direct_path);
    }
    s_uint(x, "fileLength", f.file_length);
    s_uint(x, "mediaKeyTimestamp", (uint64_t)f.media_key_timestamp);
    s_uint(x, "width", f.width);
    s_uint(x, "height", f.height);
    s_uint(x, "seconds", f.seconds);
    if (s_fields[i].flag) {
        json_object_set_new(x, s_fields[i].flag, json_true());
    }
    if (cm_streq(f.kind, "sticker")) {
        json_object_set_new(x, "isAnimated", json_boolean(f.animated));
    }
    s_str(x, "fileName", f.filename);
    return json_pack("{s:o}", s_fields[i].field, x);
}

//  A string field of at most max bytes, or NULL.
static const char *
s_field(json_t *x, const char *key, size_t max)
{
    const char *v = json_string_value(json_object_get(x, key));
    return v && *v && strlen(v) <= max ? v : NULL;
}

json_t *
sw_wafetch_request(json_t *data)
{
    if (!json_is_object(data)) {
        return NULL;
    }
    for (size_t i = 0; i < S_FIELDS; i++) {
        json_t *x = json_object_get(data, s_fields[i].field);
        if (!json_is_object(x)) {
            continue;
        }
        //  The kind whose flag the message carries, else the plain one
        size_t k = i;
        for (size_t j = i; j < S_FIELDS; j++) {
            if (cm_streq(s_fields[j].field, s_fields[i].field) &&
                s_fields[j].flag &&
                json_is_true(json_object_get(x, s_fields[j].flag))) {
                k = j;
            }
        }
        json_t *req = json_pack("{s:s}", "kind", s_fields[k].kind);
        static const struct {
            const char *key;
            size_t max;
        } keep[] = {{"mediaKey", 64},      {"fileSha256", 64},
                    {"fileEncSha256", 64}, {"directPath", 2048},
                    {"url", 4096},         {"mimetype", 255}};
        for (size_t j = 0; j < sizeof keep / sizeof keep[0]; j++) {
            const char *v = s_field(x, keep[j].key, keep[j].max);
            if (v) {
                json_object_set_new(req, keep[j].key, json_string(v));
            }
        }
        return req;
    }
    return NULL;
}

//  --------------------------------------------------------------------
//  message.download_media

//  One download of a command's.
typedef struct {
    char *key;    //  the held command
    size_t index; //  its message
} s_item_t;

//  The held command's data: {media: [WAMedia], left: downloads to come}.
static void
s_done(sw_wasess_t *sess, const char *key)
{
    json_t *data = NULL;
    sw_cmd_t *cmd = sw_wasess_release(sess, key, &data);
    json_t *body = json_pack("{s:O}", "media", json_object_get(data, "media"));
    sw_cmd_reply(&cmd, 200, NULL, &body);
    json_decref(data);
}

static void
s_item_reply(sw_wasess_t *sess, int st, const char *reason, cm_msg_t *reply,
             void *arg)
{
    s_item_t *item = (s_item_t *)arg;
    //  NULL: the session stopped, the command was answered 503; not
    //  held: answered at its deadline
    json_t *data = sess ? sw_wasess_held(sess, item->key) : NULL;
    if (data) {
        json_t *media =
            json_array_get(json_object_get(data, "media"), item->index);
        if (st == 200 && cm_msg_str(reply, "key")) {
            char *url = sw_wamedia_file_url(sess, cm_msg_str(reply, "key"));
            json_object_set_new(media, "url", json_string(url));
            free(url);
            if (!json_object_get(media, "mimetype") &&
                cm_msg_str(reply, "mimetype")) {
                json_object_set_new(media, "mimetype",
                                    json_string(cm_msg_str(reply, "mimetype")));
            }
        } else {
            json_object_set_new(
                media, "error",
                json_pack("{s:s}", "message",
                          reason && *reason
                              ? reason
                              : "the media could not be downloaded"));
        }
        json_int_t left = json_integer_value(json_object_get(data, "left"));
        json_object_set_new(data, "left", json_integer(left - 1));
        if (left <= 1) {
            s_done(sess, item->key);
        }
    }
    free(item->key);
    free(item);
}

//  True if id can name a stored file ("<session>/<id>.<ext>").
static bool
s_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 190 || *id == '.') {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("@._-", *p)) {
            return false;
        }
    }
    return true;
}

void
sw_wafetch_download(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *request = sw_cmd_request(*cmd_p);
    json_t *messages = json_object_get(cm_msg_body(request), "messages");
    size_t n = json_array_size(messages);
    if (n < 1 || n > SW_WAFETCH_MAX) {
        sw_cmd_reply(cmd_p, 400, "messages must list 1 to 100 messages", NULL);
        return;
    }
    int64_t timeout = cm_msg_int(request, "timeout_ms", SW_WAFETCH_TIMEOUT_MS);
    if (timeout < 100 || timeout > SW_WAFETCH_TIMEOUT_MAX_MS) {
        sw_cmd_reply(cmd_p, 400, "timeout_ms must be 100 to 110000", NULL);
        return;
    }
    //  media: what is known before the download (mimetype, filename)
    json_t *media = json_array();
    json_t *requests = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        const char *id = json_string_value(json_object_get(m, "id"));
        json_t *data = json_object_get(m, "message");
        json_t *req = sw_wafetch_request(data);
        json_t *out = json_object();
        if (req && json_object_get(req, "mimetype")) {
            json_object_set(out, "mimetype", json_object_get(req, "mimetype"));
        }
        json_t *x = NULL;
        const char *k;
        json_t *v;
        json_object_foreach(data, k, v)
        {
            x = v;
        }
        const char *name = s_field(x, "fileName", 1024);
        if (name) {
            json_object_set_new(out, "filename", json_string(name));
        }
        if (!req || !s_id_valid(id)) {
            json_object_set_new(
                out, "error",
                json_pack("{s:s}", "message",
                          req ? "the message id cannot name a file"
                              : "the message has no media to download"));
            json_decref(req);
            req = json_null();
        } else {
            char *store = cm_sprintf("%s/%s", sw_wasess_name(sess), id);
            json_object_set_new(req, "store", json_string(store));
            json_object_set_new(req, "reuse", json_true());
            free(store);
        }
        json_array_append_new(media, out);
        json_array_append_new(requests, req);
    }
    size_t left = 0;
    json_array_foreach(requests, i, m)
    {
        left += json_is_object(m) ? 1 : 0;
    }
    json_t *data =
        json_pack("{s:o, s:I}", "media", media, "left", (json_int_t)left);
    char *key = cm_strdup(
        sw_wasess_hold(sess, cmd_p, NULL,
                       "the media downloads did not finish in time", &data));
    if (left == 0) {
        s_done(sess, key);
    }
    json_array_foreach(requests, i, m)
    {
        if (!json_is_object(m)) {
            continue;
        }
        s_item_t *item = cm_alloc(sizeof *item);
        item->key = cm_strdup(key);
        item->index = i;
        json_t *req = json_incref(m);
        sw_wamedia_download_within(sess, &req, (int)timeout, s_item_reply,
                                   item);
    }
    free(key);
    json_decref(requests);
}

//  --------------------------------------------------------------------
//  Self test: _data.message both ways, and the command's answers when
//  no media-service is configured (downloads through media-service and
//  wa-sim run in the integration tests)

static const sw_wacmd_t t_table[] = {
    SW_WAFETCH_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

//  A received media Message, decoded.
static wa_message_t *
t_message(const char *kind, bool animated)
{
    uint8_t key[32], sha[32], enc[32];
    memset(key, 1, 32);
    memset(sha, 2, 32);
    memset(enc, 3, 32);
    wa_mediamsg_t f = {0};
    f.kind = kind;
    f.mimetype = cm_streq(kind, "sticker")    ? "image/webp"
                 : cm_streq(kind, "document") ? "application/pdf"
                 : cm_streq(kind, "ptt")      ? "audio/ogg; codecs=opus"
                                              : "image/jpeg";
    f.filename = cm_streq(kind, "document") ? "a.pdf" : NULL;
    f.url = "https://mmg.example/v/x?h=1";
    f.direct_path = "/v/x?h=1";
    f.media_key = key;
    f.media_key_len = 32;
    f.file_sha256 = sha;
    f.file_enc_sha256 = enc;
    f.file_length = 1234;
    f.media_key_timestamp = 1700000000;
    f.width = 512;
    f.height = 512;
    f.seconds = cm_streq(kind, "ptt") ? 3 : 0;
    f.animated = animated;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = wa_mediamsg_build(&f, &buf, &len);
    assert(rc == 0);
    wa_message_t *msg = wa_message_decode(buf, len);
    assert(msg);
    free(buf);
    return msg;
}

void
sw_wafetch_test(bool verbose)
{
    printf(" * sw_wafetch: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    //  An animated sticker: isAnimated where WAHA's raw message has it
    wa_message_t *msg = t_message("sticker", true);
    json_t *d = sw_wafetch_data(msg);
    json_t *x = json_object_get(d, "stickerMessage");
    assert(json_object_size(d) == 1 && x);
    assert(json_is_true(json_object_get(x, "isAnimated")));
    assert(cm_streq(json_string_value(json_object_get(x, "mimetype")),
                    "image/webp"));
    assert(cm_streq(json_string_value(json_object_get(x, "mediaKey")),
                    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="));
    assert(cm_streq(json_string_value(json_object_get(x, "directPath")),
                    "/v/x?h=1"));
    assert(json_integer_value(json_object_get(x, "fileLength")) == 1234);
    assert(json_integer_value(json_object_get(x, "mediaKeyTimestamp")) ==
           1700000000);
    //  ... and back: the media.download of it
    json_t *req = sw_wafetch_request(d);
    assert(
        cm_streq(json_string_value(json_object_get(req, "kind")), "sticker"));
    assert(cm_streq(json_string_value(json_object_get(req, "url")),
                    "https://mmg.example/v/x?h=1"));
    assert(json_object_get(req, "fileSha256") &&
           json_object_get(req, "fileEncSha256") &&
           json_object_get(req, "mediaKey"));
    assert(!json_object_get(req, "isAnimated"));
    json_decref(req);
    json_decref(d);
    wa_message_destroy(&msg);
    //  A still one says so
    msg = t_message("sticker", false);
    d = sw_wafetch_data(msg);
    assert(json_is_false(
        json_object_get(json_object_get(d, "stickerMessage"), "isAnimated")));
    json_decref(d);
    wa_message_destroy(&msg);
    //  A voice note: audioMessage with ptt, kind ptt again
    msg = t_message("ptt", false);
    d = sw_wafetch_data(msg);
    x = json_object_get(d, "audioMessage");
    assert(json_is_true(json_object_get(x, "ptt")));
    assert(json_integer_value(json_object_get(x, "seconds")) == 3);
    req = sw_wafetch_request(d);
    assert(cm_streq(json_string_value(json_object_get(req, "kind")), "ptt"));
    json_decref(req);
    json_decref(d);
    wa_message_destroy(&msg);
    //  A document keeps its file name
    msg = t_message("document", false);
    d = sw_wafetch_data(msg);
    x = json_object_get(d, "documentMessage");
    assert(
        cm_streq(json_string_value(json_object_get(x, "fileName")), "a.pdf"));
    json_decref(d);
    wa_message_destroy(&msg);
    //  Nothing to download
    assert(!sw_wafetch_data(NULL));
    assert(!sw_wafetch_request(NULL));
    d = json_pack("{s:{s:s}}", "conversation", "text", "hi");
    assert(!sw_wafetch_request(d));
    json_decref(d);
    //  A text with a high-quality preview image: its fields, as WAHA's
    //  raw message has them; a download on demand does not take it
    uint8_t hkey[32], hsha[32], henc[32];
    memset(hkey, 4, 32);
    memset(hsha, 5, 32);
    memset(henc, 6, 32);
    wa_kinds_preview_t pv = {.url = "https://x.test/a",
                             .title = "A",
                             .hq_path = "/o1/v/t62/hq",
                             .hq_media_key = hkey,
                             .hq_sha256 = hsha,
                             .hq_enc_sha256 = henc,
                             .hq_key_timestamp = 1700000001,
                             .hq_width = 1280,
                             .hq_height = 720};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert(wa_kinds_build_text("see https://x.test/a", NULL, &pv, &buf, &len) ==
           0);
    msg = wa_message_decode(buf, len);
    free(buf);
    d = sw_wafetch_data(msg);
    x = json_object_get(d, "extendedTextMessage");
    assert(json_object_size(d) == 1 && json_object_size(x) == 7);
    assert(
        cm_streq(json_string_value(json_object_get(x, "thumbnailDirectPath")),
                 "/o1/v/t62/hq"));
    assert(cm_streq(json_string_value(json_object_get(x, "mediaKey")),
                    "BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ="));
    assert(json_integer_value(json_object_get(x, "thumbnailWidth")) == 1280);
    assert(json_integer_value(json_object_get(x, "mediaKeyTimestamp")) ==
           1700000001);
    assert(!sw_wafetch_request(d));
    json_decref(d);
    wa_message_destroy(&msg);
    //  without the image, or a plain text: nothing
    pv.hq_path = NULL;
    assert(wa_kinds_build_text("see https://x.test/a", NULL, &pv, &buf, &len) ==
           0);
    msg = wa_message_decode(buf, len);
    free(buf);
    assert(!sw_wafetch_data(msg));
    wa_message_destroy(&msg);
    assert(s_id_valid("false_1555@c.us_3EB0AA"));
    assert(!s_id_valid("../x") && !s_id_valid("a/b") && !s_id_valid(""));

    //  The command: WORKING first; then bad input; then each message
    //  answered (no media-service here: its error per message)
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    cm_msg_t *reply = sw_wasess_rig_call(
        rig, "message.download_media",
        json_pack("{s:[{s:s}]}", "messages", "id", "x"), 1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);
    sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, "message.download_media",
                                      json_pack("{s:[]}", "messages"));
    sw_wafetch_download(sess, &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cmd == NULL && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    msg = t_message("image", false);
    d = sw_wafetch_data(msg);
    wa_message_destroy(&msg);
    cmd = sw_wasess_rig_cmd(
        rig, "message.download_media",
        json_pack("{s:[{s:s, s:O}, {s:s, s:{s:{s:s}}}, {s:s, s:O}], s:i}",
                  "messages", "id", "false_1555@c.us_AA", "message", d, "id",
                  "false_1555@c.us_BB", "message", "conversation", "text", "hi",
                  "id", "../etc", "message", d, "timeout_ms", 500));
    sw_wafetch_download(sess, &cmd);
    reply = sw_wasess_rig_recv(rig, 5000);
    assert(reply && cm_msg_status(reply) == 200);
    json_t *got = json_object_get(cm_msg_body(reply), "media");
    assert(json_array_size(got) == 3);
    json_t *m0 = json_array_get(got, 0);
    assert(!json_object_get(m0, "url"));
    assert(cm_streq(json_string_value(json_object_get(m0, "mimetype")),
                    "image/jpeg"));
    assert(json_is_string(
        json_object_get(json_object_get(m0, "error"), "message")));
    assert(strstr(
        json_string_value(json_object_get(
            json_object_get(json_array_get(got, 1), "error"), "message")),
        "no media"));
    assert(strstr(
        json_string_value(json_object_get(
            json_object_get(json_array_get(got, 2), "error"), "message")),
        "cannot name a file"));
    cm_msg_destroy(&reply);
    json_decref(d);
    sw_wasess_rig_destroy(&rig);
    printf("OK\n");
}
