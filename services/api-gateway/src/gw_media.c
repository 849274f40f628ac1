/*  gw_media - sending media, converting it and serving downloaded files

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

static const char *const s_working[] = {"WORKING", NULL};

//  Kinds of media sends: name on the bus, default mimetype, whether
//  caption / convert / asNote apply.
typedef struct {
    const char *kind;
    const char *mimetype;
    bool caption;
    bool convert;
    bool as_note;
} s_kind_t;

static const s_kind_t s_image = {"image", NULL, true, false, false};
static const s_kind_t s_file = {"document", NULL, true, false, false};
static const s_kind_t s_voice = {"voice", "audio/ogg; codecs=opus", false, true,
                                 false};
static const s_kind_t s_video = {"video", "video/mp4", true, true, true};
//  A WebP as it is; media-service makes a JPEG or PNG one
static const s_kind_t s_sticker = {"sticker", NULL, false, false, false};

//  A file field: nested file.<name>, or Wawp's flat "file[<name>]".
static json_t *
s_file_field(gw_req_t *req, json_t *file, const char *name)
{
    json_t *v = json_object_get(file, name);
    if (!v) {
        char flat[32];
        snprintf(flat, sizeof flat, "file[%s]", name);
        v = gw_req_input(req, flat);
    }
    return v && !json_is_null(v) ? v : NULL;
}

//  The input file of a request (`file`, or the input "file" when NULL):
//  its body object for the bus (url, mimetype, filename) and the decoded
//  bytes of file.data. Returns 0, or -1 after a 400.
static int
s_file_input(gw_req_t *req, json_t *file, const char *dflt_mimetype,
             json_t **file_p, uint8_t **data_p, size_t *len_p)
{
    *file_p = NULL;
    *data_p = NULL;
    *len_p = 0;
    if (!file) {
        file = gw_req_input(req, "file");
    }
    if (file && !json_is_null(file) && !json_is_object(file)) {
        gw_req_fail_invalid(req, "file must be an object {url | data, "
                                 "mimetype, filename}");
        return -1;
    }
    const char *url, *data, *mimetype, *filename;
    if (gw_req_value_opt_str(req, s_file_field(req, file, "url"), "file.url",
                             GW_MEDIA_URL_MAX, &url) != 0 ||
        gw_req_value_opt_str(req, s_file_field(req, file, "data"), "file.data",
                             SIZE_MAX, &data) != 0 ||
        gw_req_value_opt_str(req, s_file_field(req, file, "mimetype"),
                             "file.mimetype", 255, &mimetype) != 0 ||
        gw_req_value_opt_str(req, s_file_field(req, file, "filename"),
                             "file.filename", 255, &filename) != 0) {
        return -1;
    }
    if (url && !*url) {
        url = NULL;
    }
    if (data && !*data) {
        data = NULL;
    }
    if (!url == !data) {
        gw_req_fail_invalid(req, url ? "file must have url or data, not both"
                                     : "file.url or file.data is required");
        return -1;
    }
    if (url && strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0) {
        gw_req_fail_invalid(req, "file.url must be an http or https URL");
        return -1;
    }
    if (data) {
        //  A data: URI is accepted too
        if (strncmp(data, "data:", 5) == 0) {
            const char *comma = strstr(data, ";base64,");
            if (!comma) {
                gw_req_fail_invalid(req, "file.data must be base64");
                return -1;
            }
            data = comma + 8;
        }
        size_t max = gw_config_body_limit(gw_req_config(req));
        if (cm_base64_decode(data, max, data_p, len_p) != 0 || *len_p == 0) {
            free(*data_p);
            *data_p = NULL;
            gw_req_fail_invalid(req, "file.data must be base64");
            return -1;
        }
    }
    json_t *out = json_object();
    if (url) {
        json_object_set_new(out, "url", json_string(url));
    }
    if (mimetype && *mimetype) {
        json_object_set_new(out, "mimetype", json_string(mimetype));
    } else if (dflt_mimetype) {
        json_object_set_new(out, "mimetype", json_string(dflt_mimetype));
    }
    if (filename && *filename) {
        json_object_set_new(out, "filename", json_string(filename));
    }
    *file_p = out;
    return 0;
}

int
gw_media_file_input(gw_req_t *req, const char *dflt_mimetype, json_t **file_p,
                    uint8_t **data_p, size_t *len_p)
{
    return s_file_input(req, NULL, dflt_mimetype, file_p, data_p, len_p);
}

//  Mentions: an array of chat ids, normalised. Returns 0 (*out may be
//  NULL), or -1 after a 400.
static int
s_mentions(gw_req_t *req, json_t **out)
{
    *out = NULL;
    json_t *v = gw_req_input(req, "mentions");
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) > GW_MEDIA_MENTIONS_MAX) {
        gw_req_fail_invalid(req, "mentions must be an array of chat ids");
        return -1;
    }
    json_t *list = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        char *id = gw_messages_chat_id(json_string_value(item));
        if (!id) {
            json_decref(list);
            gw_req_fail_invalid(req, "mentions must be an array of chat ids");
            return -1;
        }
        json_array_append_new(list, json_string(id));
        free(id);
    }
    *out = list;
    return 0;
}

static void
s_send_media(gw_req_t *req, const char *name, const s_kind_t *kind, int success)
{
    const char *chat_text = gw_req_input_str(req, "chatId");
    char *chat = gw_messages_chat_id(chat_text);
    if (!chat) {
        gw_req_fail_invalid(req, chat_text
                                     ? "chatId must be a phone number or chat "
                                       "id such as 12132132130@c.us"
                                     : "chatId is required");
        return;
    }
    json_t *file = NULL, *mentions = NULL, *session = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    const char *caption = NULL, *reply_to = NULL;
    bool convert = false, as_note = false;
    if (s_file_input(req, NULL, kind->mimetype, &file, &data, &len) != 0 ||
        gw_req_value_opt_str(
            req, kind->caption ? gw_req_input(req, "caption") : NULL, "caption",
            GW_MEDIA_CAPTION_MAX, &caption) != 0 ||
        gw_req_value_opt_str(req, gw_req_input(req, "reply_to"), "reply_to",
                             512, &reply_to) != 0 ||
        (kind->convert &&
         gw_req_input_bool(req, "convert", false, &convert) != 0) ||
        (kind->as_note &&
         gw_req_input_bool(req, "asNote", false, &as_note) != 0) ||
        s_mentions(req, &mentions) != 0) {
        goto cleanup;
    }
    session = gw_messages_session(req, name);
    if (!session || !gw_messages_status_is(req, session, s_working)) {
        goto cleanup;
    }
    cm_msg_t *msg = cm_msg_new("message.send_media");
    cm_msg_set_str(msg, "chatId", chat);
    cm_msg_set_str(msg, "kind", kind->kind);
    cm_msg_set(msg, "file", file);
    file = NULL;
    if (caption && *caption) {
        cm_msg_set_str(msg, "caption", caption);
    }
    if (reply_to && *reply_to) {
        //  Quote the stored message, as the other kinds do (gw_kinds)
        bool failed = false;
        json_t *quoted = gw_kinds_quoted(req, name, reply_to, &failed);
        if (failed) {
            cm_msg_destroy(&msg);
            goto cleanup;
        }
        cm_msg_set_str(msg, "reply_to",
                       quoted ? json_string_value(json_object_get(quoted, "id"))
                              : reply_to);
        if (quoted) {
            cm_msg_set(msg, "quoted", quoted);
        }
    }
    if (kind->convert) {
        cm_msg_set_bool(msg, "convert", convert);
    }
    if (kind->as_note) {
        cm_msg_set_bool(msg, "asNote", as_note);
    }
    if (mentions) {
        cm_msg_set(msg, "mentions", mentions);
        mentions = NULL;
    }
    if (data) {
        cm_msg_add_blob(msg, data, len);
    }
    cm_msg_t *reply = gw_messages_command_msg(req, session, &msg, 0);
    if (reply) {
        json_t *out = json_incref(cm_msg_body(reply));
        gw_req_reply(req, success, &out);
        cm_msg_destroy(&reply);
    } else if (gw_req_status(req) == 400 &&
               strstr(gw_req_response(req), "unrecognized message type")) {
        //  A worker from before media support
        gw_req_fail(req, 501, "not_implemented",
                    "The session-worker holding the session cannot send "
                    "media (message.send_media)");
    }
cleanup:
    json_decref(session);
    json_decref(mentions);
    json_decref(file);
    free(data);
    free(chat);
}

void
gw_media_send_image(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_send_media(req, name, &s_image, 201);
    }
}

void
gw_media_send_file(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_send_media(req, name, &s_file, 201);
    }
}

void
gw_media_send_voice(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_send_media(req, name, &s_voice, 201);
    }
}

void
gw_media_send_video(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_send_media(req, name, &s_video, 201);
    }
}

void
gw_media_send_sticker(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    if (name) {
        s_send_media(req, name, &s_sticker, 201);
    }
}

static void
s_wawp_send(gw_req_t *req, const s_kind_t *kind)
{
    char *name = gw_sessions_wawp_instance(req);
    if (name) {
        s_send_media(req, name, kind, 200);
        free(name);
    }
}

void
gw_media_wawp_send_image(gw_req_t *req)
{
    s_wawp_send(req, &s_image);
}

void
gw_media_wawp_send_pdf(gw_req_t *req)
{
    s_wawp_send(req, &s_file);
}

void
gw_media_wawp_send_voice(gw_req_t *req)
{
    s_wawp_send(req, &s_voice);
}

void
gw_media_wawp_send_video(gw_req_t *req)
{
    s_wawp_send(req, &s_video);
}

void
gw_media_wawp_send_sticker(gw_req_t *req)
{
    s_wawp_send(req, &s_sticker);
}

//  --------------------------------------------------------------------
//  Conversions

//  True if the Accept header asks for JSON.
static bool
s_wants_json(gw_req_t *req)
{
    const char *accept = gw_req_header(req, "Accept");
    return accept && strstr(accept, "application/json");
}

//  Answer a media-service error reply.
static void
s_media_fail(gw_req_t *req, cm_msg_t *reply)
{
    int st = cm_msg_status(reply);
    const char *reason = cm_msg_reason(reply);
    if (st >= 400 && st < 500 && st != 404) {
        gw_req_fail(req, st, NULL, "%s", reason ? reason : "bad request");
    } else {
        gw_req_fail_bus(req, reply, "media-service");
    }
}

static void
s_convert(gw_req_t *req, const char *kind)
{
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail(req, 404, NULL, "Session not found");
        return;
    }
    //  WAHA's body is {url | data}; a nested file object is accepted too
    json_t *file = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    json_t *body = gw_req_json(req);
    json_t *whole =
        body && !json_object_get(body, "file") &&
                (json_object_get(body, "url") || json_object_get(body, "data"))
            ? body
            : NULL;
    if (s_file_input(req, whole, NULL, &file, &data, &len) != 0) {
        return;
    }
    json_t *session = gw_messages_session(req, name);
    if (!session) {
        json_decref(file);
        free(data);
        return;
    }
    json_decref(session);
    cm_msg_t *msg = cm_msg_new("media.convert");
    cm_msg_set_str(msg, "kind", kind);
    cm_msg_set(msg, "file", file);
    if (data) {
        cm_msg_add_blob(msg, data, len);
        free(data);
    }
    cm_msg_t *reply = gw_req_call(req, GW_DEST_MEDIA, &msg, 0);
    zframe_t *out = cm_msg_blob(reply, 0);
    if (cm_msg_status(reply) == 200 && out) {
        const char *mimetype = cm_msg_str(reply, "mimetype");
        if (s_wants_json(req)) {
            char *b64 = cm_base64_encode(zframe_data(out), zframe_size(out));
            json_t *res = json_pack("{s:s, s:s}", "mimetype",
                                    mimetype ? mimetype : "", "data", b64);
            free(b64);
            gw_req_reply(req, 201, &res);
        } else {
            gw_req_reply_bytes(req, 201,
                               mimetype ? mimetype : "application/octet-stream",
                               zframe_data(out), zframe_size(out));
        }
    } else {
        s_media_fail(req, reply);
    }
    cm_msg_destroy(&reply);
}

void
gw_media_convert_voice(gw_req_t *req)
{
    s_convert(req, "voice");
}

void
gw_media_convert_video(gw_req_t *req)
{
    s_convert(req, "video");
}

//  --------------------------------------------------------------------
//  Files

static void
s_file_not_found(gw_req_t *req, const char *file)
{
    json_t *body = json_pack("{s:{s:i, s:s, s:s, s:s}}", "error", "code", 404,
                             "key", "FILE_NOT_FOUND", "message",
                             "File not found", "details", file ? file : "");
    gw_req_reply(req, 404, &body);
}

static void
s_serve_file(gw_req_t *req, const char *session, const char *file)
{
    char *key = cm_sprintf("%s/%s", session ? session : "", file ? file : "");
    cm_msg_t *msg = cm_msg_new("media.file.get");
    cm_msg_set_str(msg, "key", key);
    free(key);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_MEDIA, &msg, 0);
    int st = cm_msg_status(reply);
    zframe_t *out = cm_msg_blob(reply, 0);
    if (st == 200 && out) {
        const char *mimetype = cm_msg_str(reply, "mimetype");
        gw_req_reply_bytes(req, 200,
                           mimetype ? mimetype : "application/octet-stream",
                           zframe_data(out), zframe_size(out));
    } else if (st == 404 || st == 400) {
        s_file_not_found(req, file);
    } else {
        gw_req_fail_bus(req, reply, "media-service");
    }
    cm_msg_destroy(&reply);
}

void
gw_media_file(gw_req_t *req)
{
    s_serve_file(req, gw_req_param(req, "session"),
                 gw_req_param(req, "filename"));
}

void
gw_media_file_default(gw_req_t *req)
{
    s_serve_file(req, "default", gw_req_param(req, "filename"));
}

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"RemoteFile\":{\"type\":\"object\",\"required\":[\"url\"],"
    "\"properties\":{\"mimetype\":{\"type\":\"string\"},\"filename\":"
    "{\"type\":\"string\"},\"url\":{\"type\":\"string\",\"format\":\"uri\"}}},"
    "\"BinaryFile\":{\"type\":\"object\",\"required\":[\"data\"],"
    "\"properties\":{\"mimetype\":{\"type\":\"string\"},\"filename\":"
    "{\"type\":\"string\"},\"data\":{\"type\":\"string\",\"description\":"
    "\"Base64\"}}},"
    "\"MediaFile\":{\"oneOf\":[{\"$ref\":\"#/components/schemas/RemoteFile\"},"
    "{\"$ref\":\"#/components/schemas/BinaryFile\"}]},"
    "\"MessageImageRequest\":{\"type\":\"object\",\"required\":[\"chatId\","
    "\"file\"],\"properties\":{\"session\":{\"type\":\"string\",\"default\":"
    "\"default\"},\"chatId\":{\"type\":\"string\"},\"file\":{\"$ref\":"
    "\"#/components/schemas/MediaFile\"},\"caption\":{\"type\":\"string\"},"
    "\"reply_to\":{\"type\":\"string\"},\"mentions\":{\"type\":\"array\","
    "\"items\":{\"type\":\"string\"}}}},"
    "\"MessageFileRequest\":{\"allOf\":[{\"$ref\":\"#/components/schemas/"
    "MessageImageRequest\"}]},"
    "\"MessageStickerRequest\":{\"type\":\"object\",\"required\":["
    "\"chatId\",\"file\"],\"properties\":{\"session\":{\"type\":\"string\","
    "\"default\":\"default\"},\"chatId\":{\"type\":\"string\"},\"file\":{"
    "\"$ref\":\"#/components/schemas/MediaFile\"},\"reply_to\":{\"type\":"
    "\"string\"}},\"description\":\"file: a WebP, sent as it is, or a JPEG "
    "or PNG, made a 512x512 WebP\"},"
    "\"MessageVoiceRequest\":{\"type\":\"object\",\"required\":[\"chatId\","
    "\"file\"],\"properties\":{\"session\":{\"type\":\"string\",\"default\":"
    "\"default\"},\"chatId\":{\"type\":\"string\"},\"file\":{\"$ref\":"
    "\"#/components/schemas/MediaFile\"},\"convert\":{\"type\":\"boolean\","
    "\"default\":false,\"description\":\"Transcode to OGG/Opus first\"},"
    "\"reply_to\":{\"type\":\"string\"}}},"
    "\"MessageVideoRequest\":{\"type\":\"object\",\"required\":[\"chatId\","
    "\"file\"],\"properties\":{\"session\":{\"type\":\"string\",\"default\":"
    "\"default\"},\"chatId\":{\"type\":\"string\"},\"file\":{\"$ref\":"
    "\"#/components/schemas/MediaFile\"},\"caption\":{\"type\":\"string\"},"
    "\"asNote\":{\"type\":\"boolean\",\"default\":false,\"description\":"
    "\"Round video note\"},\"convert\":{\"type\":\"boolean\",\"default\":"
    "false,\"description\":\"Transcode to H.264/AAC MP4 first\"},"
    "\"reply_to\":{\"type\":\"string\"}}},"
    "\"WawpSendMediaRequest\":{\"type\":\"object\",\"required\":["
    "\"instance_id\",\"chatId\"],\"properties\":{\"instance_id\":{\"type\":"
    "\"string\"},\"access_token\":{\"type\":\"string\"},\"chatId\":{\"type\":"
    "\"string\"},\"file[url]\":{\"type\":\"string\"},\"file[filename]\":"
    "{\"type\":\"string\"},\"file[mimetype]\":{\"type\":\"string\"},"
    "\"caption\":{\"type\":\"string\"},\"convert\":{\"type\":\"boolean\"},"
    "\"reply_to\":{\"type\":\"string\"}}},"
    "\"MediaFileContent\":{\"type\":\"string\",\"format\":\"binary\","
    "\"description\":\"The file's bytes with its mimetype as Content-Type; "
    "{mimetype, data (base64)} with Accept: application/json on "
    "conversions\"},"
    "\"MediaConvertRequest\":{\"type\":\"object\",\"properties\":{\"url\":"
    "{\"type\":\"string\"},\"data\":{\"type\":\"string\",\"description\":"
    "\"Base64\"}}}"
    "}";

//  media {url, s3, ...} without the downloaded file's fields.
static void
s_undownload_media(json_t *media)
{
    if (json_is_object(media)) {
        json_object_del(media, "url");
        json_object_del(media, "s3");
    }
}

void
gw_media_undownload(json_t *message)
{
    if (!json_is_object(message)) {
        return;
    }
    if (json_is_true(json_object_get(message, "hasMedia"))) {
        s_undownload_media(json_object_get(message, "media"));
        json_object_del(message, "mediaUrl");
    }
    json_t *quoted = json_object_get(message, "replyTo");
    if (json_is_object(quoted)) {
        s_undownload_media(json_object_get(quoted, "media"));
    }
}

//  True if message is stored media without a downloaded file that a
//  download could fetch.
static bool
s_undownloaded(json_t *message)
{
    json_t *media = json_object_get(message, "media");
    return json_is_true(json_object_get(message, "hasMedia")) &&
           json_is_object(media) &&
           !json_is_string(json_object_get(media, "url")) &&
           json_is_string(json_object_get(message, "id")) &&
           json_is_object(
               json_object_get(json_object_get(message, "_data"), "message"));
}

//  media.error {message} on a message, its url gone.
static void
s_media_error(json_t *message, const char *text)
{
    json_t *media = json_object_get(message, "media");
    json_object_del(media, "url");
    json_object_del(message, "mediaUrl");
    json_object_set_new(media, "error", json_pack("{s:s}", "message", text));
}

void
gw_media_download(gw_req_t *req, const char *name, json_t *messages)
{
    json_t *todo = json_array(); //  the messages to download, borrowed
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (!s_undownloaded(m)) {
            continue;
        }
        if (json_array_size(todo) < GW_MEDIA_FETCH_MAX) {
            json_array_append(todo, m);
        } else {
            s_media_error(m, "not downloaded: at most 100 media files are "
                             "downloaded on demand per request");
        }
    }
    size_t n = json_array_size(todo);
    if (n == 0) {
        json_decref(todo);
        return;
    }
    //  The session's status and holder, as the store last saw them
    cm_msg_t *ask = cm_msg_new("session.get");
    cm_msg_set_str(ask, "name", name);
    cm_msg_t *sreply = gw_req_call(req, GW_DEST_STORE, &ask, 0);
    json_t *session = json_object_get(cm_msg_body(sreply), "session");
    const char *status = json_string_value(json_object_get(session, "status"));
    char *error = NULL;
    cm_msg_t *reply = NULL;
    json_t *got = NULL;
    if (cm_msg_status(sreply) != 200 || !json_is_object(session)) {
        error = cm_strdup("not downloaded: store-service did not answer");
    } else if (!cm_streq(status, "WORKING")) {
        error = cm_sprintf("not downloaded: the session is %s, not WORKING",
                           status ? status : "unknown");
    } else {
        int cap = gw_req_time_left(req) - GW_MEDIA_FETCH_MARGIN_MS;
        if (cap < 1000) {
            cap = 1000;
        }
        int wait = cap - GW_MEDIA_FETCH_WORKER_MARGIN_MS;
        json_t *list = json_array();
        json_array_foreach(todo, i, m)
        {
            json_array_append_new(
                list,
                json_pack(
                    "{s:O, s:O}", "id", json_object_get(m, "id"), "message",
                    json_object_get(json_object_get(m, "_data"), "message")));
        }
        cm_msg_t *msg = cm_msg_new("message.download_media");
        json_t *body = json_pack("{s:s, s:o, s:i}", "name", name, "messages",
                                 list, "timeout_ms", wait < 100 ? 100 : wait);
        const char *holder =
            json_string_value(json_object_get(session, "worker"));
        if (holder) {
            json_object_set_new(body, GW_HOLDER_HINT, json_string(holder));
        }
        cm_msg_set_body(msg, &body);
        reply = gw_req_call(req, GW_DEST_WORKER, &msg, cap);
        int st = cm_msg_status(reply);
        got = json_object_get(cm_msg_body(reply), "media");
        if (st == 200 && json_array_size(got) == n) {
            error = NULL;
        } else if (st == 409) {
            error = cm_strdup("not downloaded: the session is not WORKING");
        } else if (st == GW_NO_WORKER || st == 503) {
            error = cm_strdup("not downloaded: no session-worker serves the "
                              "session right now");
        } else if (st == 504) {
            error = cm_strdup("not downloaded: the download did not finish "
                              "in time");
        } else {
            const char *reason = cm_msg_reason(reply);
            error = cm_sprintf("not downloaded: %s",
                               reason && *reason ? reason : "worker error");
        }
    }
    json_array_foreach(todo, i, m)
    {
        if (error) {
            s_media_error(m, error);
            continue;
        }
        json_t *media = json_array_get(got, i);
        if (!json_is_object(media)) {
            s_media_error(m, "not downloaded: the worker sent no media");
            continue;
        }
        json_object_set(m, "media", media);
        json_t *url = json_object_get(media, "url");
        if (json_is_string(url)) {
            json_object_set(m, "mediaUrl", url);
        }
    }
    free(error);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&sreply);
    json_decref(todo);
}

json_t *
gw_media_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------

void
gw_media_test(bool verbose)
{
    //  downloadMedia=false: the file's fields go, the rest stays
    json_t *m = json_pack(
        "{s:b, s:{s:s, s:s, s:s, s:{s:s}}, s:s, s:s, s:{s:b, s:{s:s, s:s}}}",
        "hasMedia", 1, "media", "url", "http://h/api/files/b/x.jpg", "mimetype",
        "image/jpeg", "filename", "x.jpg", "s3", "Key", "k", "mediaUrl",
        "http://h/api/files/b/x.jpg", "body", "hi", "replyTo", "hasMedia", 1,
        "media", "url", "http://h/q.jpg", "mimetype", "image/png");
    gw_media_undownload(m);
    json_t *media = json_object_get(m, "media");
    assert(json_object_size(media) == 2);
    assert(cm_streq(json_string_value(json_object_get(media, "mimetype")),
                    "image/jpeg"));
    assert(cm_streq(json_string_value(json_object_get(media, "filename")),
                    "x.jpg"));
    assert(!json_object_get(m, "mediaUrl"));
    assert(cm_streq(json_string_value(json_object_get(m, "body")), "hi"));
    media = json_object_get(json_object_get(m, "replyTo"), "media");
    assert(json_object_size(media) == 1 && json_object_get(media, "mimetype"));
    json_decref(m);
    //  a text message, or null media: left as it is
    m = json_pack("{s:b, s:n, s:s}", "hasMedia", 0, "media", "body", "x");
    gw_media_undownload(m);
    assert(json_is_null(json_object_get(m, "media")) &&
           json_object_size(m) == 3);
    json_decref(m);
    gw_media_undownload(NULL);
    //  downloadMedia=true: which stored messages a download on demand
    //  takes (media without url that keeps _data.message), and the error
    //  shape when it cannot
    m = json_pack("{s:s, s:b, s:{s:s}, s:{s:{s:{}}}}", "id", "false_1@c.us_A",
                  "hasMedia", 1, "media", "mimetype", "image/jpeg", "_data",
                  "message", "imageMessage");
    assert(s_undownloaded(m));
    s_media_error(m, "not downloaded: why");
    media = json_object_get(m, "media");
    assert(json_object_size(media) == 2);
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(media, "error"), "message")),
                    "not downloaded: why"));
    json_object_set_new(media, "url", json_string("http://h/api/files/x"));
    assert(!s_undownloaded(m)); //  downloaded already
    json_object_del(media, "url");
    json_object_del(json_object_get(m, "_data"), "message");
    assert(!s_undownloaded(m)); //  nothing to download it with
    json_object_set_new(m, "hasMedia", json_false());
    assert(!s_undownloaded(m));
    json_decref(m);

    printf(" * gw_media: ");
    setenv("WAHA_API_KEY", "k", 1);
    gw_config_t *cfg = gw_config_new();
    struct {
        const char *chat;
        const char *file_json;
        const char *flat_url;
        const char *says;
    } cases[] = {
        {NULL, NULL, NULL, "chatId is required"},
        {"nope", NULL, NULL, "chatId must be"},
        {"15551234567", NULL, NULL, "file.url or file.data is required"},
        {"15551234567", "{\"data\":\"***\"}", NULL, "file.data must be base64"},
        {"15551234567", "{\"data\":\"data:image/png,xx\"}", NULL,
         "file.data must be base64"},
        {"15551234567", "{\"url\":\"ftp://x/y\"}", NULL,
         "file.url must be an http or https URL"},
        {"15551234567", "{\"url\":\"http://x/y\",\"data\":\"AAAA\"}", NULL,
         "not both"},
        {"15551234567", "{\"url\":5}", NULL, "file.url must be a string"},
        {"15551234567", "\"str\"", NULL, "file must be an object"},
        {"15551234567", NULL, "file:///etc/passwd",
         "file.url must be an http or https URL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_req_t *req = gw_req_new("POST", "/api/sendImage");
        gw_req_set_context(req, cfg, NULL);
        json_t *body = json_object();
        if (cases[i].chat) {
            json_object_set_new(body, "chatId", json_string(cases[i].chat));
        }
        if (cases[i].file_json) {
            json_object_set_new(
                body, "file",
                json_loads(cases[i].file_json, JSON_DECODE_ANY, NULL));
        }
        char *text = json_dumps(body, 0);
        json_decref(body);
        gw_req_set_header(req, "Content-Type", "application/json");
        gw_req_append_body(req, text, strlen(text), 1 << 20);
        free(text);
        if (cases[i].flat_url) {
            gw_req_set_query(req, "file[url]", cases[i].flat_url);
        }
        assert(gw_req_parse_body(req) == 0);
        gw_media_send_image(req);
        if (gw_req_status(req) != 400 ||
            !strstr(gw_req_response(req), cases[i].says)) {
            printf("case %zu: %d %s\n", i, gw_req_status(req),
                   gw_req_response(req));
        }
        assert(gw_req_status(req) == 400);
        assert(strstr(gw_req_response(req), cases[i].says));
        gw_req_destroy(&req);
    }
    //  Flat Wawp keys are read from the query
    gw_req_t *req = gw_req_new("GET", "/v2/send/image");
    gw_req_set_context(req, cfg, NULL);
    gw_req_set_query(req, "file[url]", "https://example.com/a.jpg");
    gw_req_set_query(req, "file[mimetype]", "image/jpeg");
    json_t *file = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    assert(s_file_input(req, NULL, NULL, &file, &data, &len) == 0);
    assert(cm_streq(json_string_value(json_object_get(file, "url")),
                    "https://example.com/a.jpg"));
    assert(cm_streq(json_string_value(json_object_get(file, "mimetype")),
                    "image/jpeg"));
    assert(!data);
    json_decref(file);
    gw_req_destroy(&req);
    //  base64 is decoded here, data: URIs too; voice gets its default type
    req = gw_req_new("POST", "/api/sendVoice");
    gw_req_set_context(req, cfg, NULL);
    gw_req_set_query(req, "file[data]", "data:audio/ogg;base64,T2dnUw==");
    assert(s_file_input(req, NULL, "audio/ogg; codecs=opus", &file, &data,
                        &len) == 0);
    assert(len == 4 && memcmp(data, "OggS", 4) == 0);
    assert(cm_streq(json_string_value(json_object_get(file, "mimetype")),
                    "audio/ogg; codecs=opus"));
    free(data);
    json_decref(file);
    //  Booleans from strings
    bool b = false;
    gw_req_set_query(req, "convert", "true");
    assert(gw_req_input_bool(req, "convert", false, &b) == 0 && b);
    gw_req_set_query(req, "asNote", "maybe");
    assert(gw_req_input_bool(req, "asNote", false, &b) == -1);
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);

    json_t *schemas = gw_media_schemas();
    assert(json_object_get(schemas, "MessageImageRequest"));
    json_decref(schemas);
    gw_config_destroy(&cfg);
    unsetenv("WAHA_API_KEY");
    printf("OK\n");
}
