/*  sw_wachannels - the channels (newsletters) capability of the WhatsApp
    engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_channels.h"
#include "wa/wa_mediamsg.h"
#include "wa/wa_message.h"

//  What a w:mex answer becomes.
typedef enum {
    S_CHANNEL = 1, //  a Channel
    S_LIST,        //  [Channel], role filtered
    S_EMPTY,       //  {}
    S_PAGE         //  {page, channels}
} s_kind_t;

//  The context of one request (one block: sw_wacontacts_ask frees it).
typedef struct {
    s_kind_t kind; //  what the answer becomes
    char path[64]; //  the data key of the answer
    char role[16]; //  list: the role wanted, or ""
    char what[48]; //  "follow the channel", for reasons
    char key[192]; //  the channel asked about
    bool download; //  preview: download the posts' media
} s_ctx_t;

static s_ctx_t *
s_ctx(s_kind_t kind, const char *path, const char *what, const char *key)
{
    s_ctx_t *ctx = (s_ctx_t *)cm_alloc(sizeof(s_ctx_t));
    ctx->kind = kind;
    snprintf(ctx->path, sizeof ctx->path, "%s", path);
    snprintf(ctx->what, sizeof ctx->what, "%s", what);
    snprintf(ctx->key, sizeof ctx->key, "%s", key ? key : "");
    return ctx;
}

//  --------------------------------------------------------------------
//  Shapes

static const char *
s_text_of(const json_t *thread, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(thread, key), "text"));
}

//  The URL of a picture object's direct_path, or NULL (caller owns).
static char *
s_picture_url(const json_t *pic)
{
    const char *dp = json_string_value(json_object_get(pic, "direct_path"));
    return dp && *dp == '/' && strlen(dp) < 1024
               ? cm_sprintf("%s%s", SW_WACHANNELS_MEDIA_HOST, dp)
               : NULL;
}

json_t *
sw_wachannels_channel(const json_t *meta, bool with_role)
{
    const char *id = json_string_value(json_object_get(meta, "id"));
    if (!id) {
        return NULL;
    }
    const json_t *thread = json_object_get(meta, "thread_metadata");
    const char *name = s_text_of(thread, "name");
    const char *desc = s_text_of(thread, "description");
    const char *invite = json_string_value(json_object_get(thread, "invite"));
    json_t *subs = json_object_get(thread, "subscribers_count");
    json_int_t count =
        json_is_integer(subs) ? json_integer_value(subs)
        : json_is_string(subs)
            ? (json_int_t)strtoll(json_string_value(subs), NULL, 10)
            : 0;
    const char *verification =
        json_string_value(json_object_get(thread, "verification"));
    char *link =
        cm_sprintf("%s%s", SW_WACHANNELS_INVITE_URL, invite ? invite : "");
    json_t *out = json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:I}", "id", id, "name", name ? name : "",
        "invite", link, "description", desc ? desc : "", "verified",
        verification && strcasecmp(verification, "verified") == 0,
        "subscribersCount", count < 0 ? (json_int_t)0 : count);
    free(link);
    char *picture = s_picture_url(json_object_get(thread, "picture"));
    char *preview = s_picture_url(json_object_get(thread, "preview"));
    if (picture) {
        json_object_set_new(out, "picture", json_string(picture));
    }
    if (preview) {
        json_object_set_new(out, "preview", json_string(preview));
    }
    free(picture);
    free(preview);
    if (with_role) {
        const char *role = json_string_value(
            json_object_get(json_object_get(meta, "viewer_metadata"), "role"));
        static const char *const roles[] = {"OWNER", "ADMIN", "SUBSCRIBER",
                                            NULL};
        const char *r = "GUEST";
        for (size_t i = 0; role && roles[i]; i++) {
            if (strcasecmp(role, roles[i]) == 0) {
                r = roles[i];
            }
        }
        json_object_set_new(out, "role", json_string(r));
    }
    return out;
}

//  {page, channels} of a directory answer.
static json_t *
s_page(const json_t *data)
{
    const json_t *info = json_object_get(data, "page_info");
    const char *start = json_string_value(json_object_get(info, "startCursor"));
    const char *end = json_string_value(json_object_get(info, "endCursor"));
    json_t *channels = json_array();
    size_t i;
    json_t *meta;
    json_array_foreach(json_object_get(data, "result"), i, meta)
    {
        json_t *c = sw_wachannels_channel(meta, false);
        if (c) {
            json_array_append_new(channels, c);
        }
    }
    return json_pack("{s:{s:o, s:o, s:b, s:b}, s:o}", "page", "startCursor",
                     start ? json_string(start) : json_null(), "endCursor",
                     end ? json_string(end) : json_null(), "hasNextPage",
                     json_is_true(json_object_get(info, "hasNextPage")),
                     "hasPreviousPage",
                     json_is_true(json_object_get(info, "hasPreviousPage")),
                     "channels", channels);
}

//  --------------------------------------------------------------------
//  Asking

static json_t *
s_mex_done(sw_wasess_t *sess, const wa_node_t *reply, void *arg, int *st_p,
           char **reason_p)
{
    s_ctx_t *ctx = (s_ctx_t *)arg;
    if (!wa_node_attr_eq(reply, "type", "result")) {
        return NULL; //  an IQ error: sw_wacontacts_ask maps its code
    }
    int error = 0;
    char *msg = NULL;
    json_t *data = wa_channels_mex_data(reply, ctx->path, &error, &msg);
    if (!data) {
        *st_p = error == 404 || error == 403 || error == 400 || error == 429
                    ? error
                    : 502;
        *reason_p = error == 404
                        ? cm_sprintf("Channel not found: %s", ctx->key)
                        : cm_sprintf("could not %s: WhatsApp answered %d (%s)",
                                     ctx->what, error, msg ? msg : "no data");
        free(msg);
        return NULL;
    }
    free(msg);
    json_t *out = NULL;
    if (ctx->kind == S_CHANNEL) {
        out = sw_wachannels_channel(data, true);
        if (!out) {
            *st_p = 502;
            *reason_p = cm_sprintf("could not %s: WhatsApp's answer names "
                                   "no channel",
                                   ctx->what);
        }
    } else if (ctx->kind == S_LIST) {
        out = json_array();
        size_t i;
        json_t *meta;
        json_array_foreach(data, i, meta)
        {
            json_t *c = sw_wachannels_channel(meta, true);
            if (c && (!*ctx->role ||
                      cm_streq(json_string_value(json_object_get(c, "role")),
                               ctx->role))) {
                json_array_append_new(out, c);
            } else {
                json_decref(c);
            }
        }
        out = json_pack("{s:o}", "list", out); //  bodies are maps
    } else if (ctx->kind == S_PAGE) {
        out = s_page(data);
    } else {
        out = json_object();
    }
    json_decref(data);
    (void)sess;
    return out;
}

static void
s_mex(sw_wasess_t *sess, sw_cmd_t **cmd_p, const char *query_id, json_t *vars,
      s_ctx_t *ctx)
{
    wa_node_t *iq = wa_channels_mex(query_id, &vars);
    sw_wacontacts_ask(sess, cmd_p, &iq, ctx->what, s_mex_done, ctx);
}

//  --------------------------------------------------------------------
//  Inputs

//  True when text is n digits within [lo, hi].
static bool
s_digits(const char *text, size_t n, size_t lo, size_t hi)
{
    if (n < lo || n > hi) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)text[i])) {
            return false;
        }
    }
    return true;
}

//  The request's `id`: a channel JID (sets *invite false) or, when
//  allowed, an invite code from a code or link (*invite true). Caller
//  owns return value; NULL after a 400.
static char *
s_channel_key(sw_cmd_t **cmd_p, bool allow_invite, bool *invite)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), "id");
    size_t n = text ? strlen(text) : 0;
    const char *at = text ? strchr(text, '@') : NULL;
    *invite = false;
    if (at && cm_streq(at, "@newsletter") &&
        s_digits(text, (size_t)(at - text), 15, 20)) {
        return cm_strdup(text);
    }
    if (allow_invite && !at && n && n <= 256) {
        const char *slash = strrchr(text, '/');
        const char *code = slash ? slash + 1 : text;
        size_t len = strlen(code);
        bool ok = len >= 10 && len <= 64;
        for (size_t i = 0; ok && i < len; i++) {
            ok = isalnum((unsigned char)code[i]) != 0;
        }
        if (ok) {
            *invite = true;
            return cm_strdup(code);
        }
    }
    sw_cmd_reply(cmd_p, 400,
                 allow_invite ? "id must be a channel id such as "
                                "120363000000000000@newsletter, or an "
                                "invite code or link"
                              : "id must be a channel id such as "
                                "120363000000000000@newsletter",
                 NULL);
    return NULL;
}

//  --------------------------------------------------------------------
//  Commands

void
sw_wachannels_list(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *role = cm_msg_str(sw_cmd_request(*cmd_p), "role");
    if (role && *role && !cm_streq(role, "OWNER") && !cm_streq(role, "ADMIN") &&
        !cm_streq(role, "SUBSCRIBER")) {
        sw_cmd_reply(cmd_p, 400, "role must be OWNER, ADMIN or SUBSCRIBER",
                     NULL);
        return;
    }
    s_ctx_t *ctx =
        s_ctx(S_LIST, "xwa2_newsletter_subscribed", "list the channels", NULL);
    snprintf(ctx->role, sizeof ctx->role, "%s", role ? role : "");
    s_mex(sess, cmd_p, WA_CHANNELS_Q_SUBSCRIBED, json_object(), ctx);
}

void
sw_wachannels_create(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    //  `name` is the session's on the bus: the channel's is `title`
    const char *name = cm_msg_str(req, "title");
    const char *desc = cm_msg_str(req, "description");
    if (!name || !*name || strlen(name) > SW_WACHANNELS_NAME_MAX) {
        sw_cmd_reply(cmd_p, 400, "name must be 1 to 100 bytes", NULL);
        return;
    }
    if (desc && strlen(desc) > SW_WACHANNELS_DESCRIPTION_MAX) {
        sw_cmd_reply(cmd_p, 400, "description must be at most 2048 bytes",
                     NULL);
        return;
    }
    json_t *input = json_pack("{s:s}", "name", name);
    if (desc && *desc) {
        json_object_set_new(input, "description", json_string(desc));
    }
    zframe_t *pic = cm_msg_blob_count(req) >= 1 ? cm_msg_blob(req, 0) : NULL;
    if (pic) {
        const uint8_t *d = zframe_data(pic);
        size_t len = zframe_size(pic);
        if (len < 4 || len > SW_WACHANNELS_PICTURE_MAX || d[0] != 0xFF ||
            d[1] != 0xD8 || d[2] != 0xFF) {
            json_decref(input);
            sw_cmd_reply(cmd_p, 400,
                         "the picture must be a JPEG of at most 1 MiB", NULL);
            return;
        }
        char *b64 = cm_base64_encode(d, len);
        json_object_set_new(input, "picture", json_string(b64));
        free(b64);
    }
    s_ctx_t *ctx =
        s_ctx(S_CHANNEL, "xwa2_newsletter_create", "create the channel", name);
    s_mex(sess, cmd_p, WA_CHANNELS_Q_CREATE,
          json_pack("{s:o}", "newsletter_input", input), ctx);
}

void
sw_wachannels_info(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    bool invite = false;
    char *key = s_channel_key(cmd_p, true, &invite);
    if (!key) {
        return;
    }
    json_t *vars =
        json_pack("{s:b, s:b, s:b, s:{s:s, s:s}}", "fetch_creation_time", 1,
                  "fetch_full_image", 1, "fetch_viewer_metadata", 1, "input",
                  "key", key, "type", invite ? "INVITE" : "JID");
    s_ctx_t *ctx = s_ctx(S_CHANNEL, "xwa2_newsletter", "get the channel", key);
    free(key);
    s_mex(sess, cmd_p, WA_CHANNELS_Q_METADATA, vars, ctx);
}

//  An action on a channel named by JID: {} when done.
static void
s_action(sw_wasess_t *sess, sw_cmd_t **cmd_p, const char *query_id,
         const char *path, const char *what)
{
    bool invite = false;
    char *key = s_channel_key(cmd_p, false, &invite);
    if (!key) {
        return;
    }
    s_ctx_t *ctx = s_ctx(S_EMPTY, path, what, key);
    s_mex(sess, cmd_p, query_id, json_pack("{s:s}", "newsletter_id", key), ctx);
    free(key);
}

void
sw_wachannels_delete(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_action(sess, cmd_p, WA_CHANNELS_Q_DELETE, "xwa2_newsletter_delete_v2",
             "delete the channel");
}

void
sw_wachannels_follow(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_action(sess, cmd_p, WA_CHANNELS_Q_FOLLOW, "xwa2_newsletter_join_v2",
             "follow the channel");
}

void
sw_wachannels_unfollow(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_action(sess, cmd_p, WA_CHANNELS_Q_UNFOLLOW, "xwa2_newsletter_leave_v2",
             "unfollow the channel");
}

void
sw_wachannels_mute(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_action(sess, cmd_p, WA_CHANNELS_Q_MUTE, "xwa2_newsletter_mute_v2",
             "mute the channel");
}

void
sw_wachannels_unmute(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_action(sess, cmd_p, WA_CHANNELS_Q_UNMUTE, "xwa2_newsletter_unmute_v2",
             "unmute the channel");
}

//  Preview ------------------------------------------------------------

typedef struct {
    sw_wasess_t *sess; //  the session
    const char *chat;  //  the channel's JID
    json_t *out;       //  the answer being built
    json_t *downloads; //  with downloadMedia: [{i, request}], else NULL
} s_preview_t;

static void
s_set_b64(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
    if (data && len) {
        char *b = cm_base64_encode(data, len);
        json_object_set_new(obj, key, json_string(b));
        free(b);
    }
}

//  The media.download request of a post's media (stored as
//  "<session>/<WAHA message id>"), or NULL when it has none to fetch.
static json_t *
s_preview_download(sw_wasess_t *sess, const wa_message_t *m, const char *wid)
{
    wa_mediamsg_t f;
    if (!m || wa_mediamsg_read(m, &f) != 0) {
        return NULL;
    }
    json_t *req = json_pack("{s:s}", "kind", f.kind);
    //  Channel media (f.plain) has no key: its hash is the check
    s_set_b64(req, "mediaKey", f.media_key, f.media_key_len);
    s_set_b64(req, "fileSha256", f.file_sha256, f.file_sha256 ? 32 : 0);
    s_set_b64(req, "fileEncSha256", f.file_enc_sha256,
              f.file_enc_sha256 ? 32 : 0);
    if (f.direct_path && *f.direct_path == '/') {
        json_object_set_new(req, "directPath", json_string(f.direct_path));
    }
    if (f.url && *f.url) {
        json_object_set_new(req, "url", json_string(f.url));
    }
    if (f.mimetype && *f.mimetype) {
        json_object_set_new(req, "mimetype", json_string(f.mimetype));
    }
    char *store = cm_sprintf("%s/%s", sw_wasess_name(sess), wid);
    json_object_set_new(req, "store", json_string(store));
    free(store);
    return req;
}

static void
s_preview_post(void *arg, const wa_channels_post_t *post)
{
    s_preview_t *pv = (s_preview_t *)arg;
    wa_message_t *m =
        post->plain ? wa_message_decode(post->plain, post->len) : NULL;
    sw_wamsg_t w = {0};
    w.id = post->id;
    w.chat = pv->chat;
    w.me = sw_wasess_me_id(pv->sess);
    w.from_me = false;
    w.timestamp = post->t;
    w.body = m ? wa_message_body(m) : NULL;
    w.has_media = m && wa_message_has_media(m);
    w.mimetype = m ? wa_message_mimetype(m) : NULL;
    w.type = m ? wa_message_type(m) : "unknown";
    w.ack = SW_WAMSG_ACK_SERVER;
    json_t *message = sw_wamsg_message(&w);
    //  WAHA's channel messages carry the server id too
    json_object_set_new(message, "serverId",
                        json_integer((json_int_t)post->server_id));
    json_t *req = pv->downloads && w.has_media
                      ? s_preview_download(
                            pv->sess, m,
                            json_string_value(json_object_get(message, "id")))
                      : NULL;
    if (req) {
        json_array_append_new(pv->downloads,
                              json_pack("{s:I, s:o}", "i",
                                        (json_int_t)json_array_size(pv->out),
                                        "request", req));
    }
    json_array_append_new(pv->out,
                          json_pack("{s:o, s:O, s:I}", "message", message,
                                    "reactions", post->reactions, "viewCount",
                                    (json_int_t)post->views));
    wa_message_destroy(&m);
}

static json_t *
s_preview_done(sw_wasess_t *sess, const wa_node_t *reply, void *arg, int *st_p,
               char **reason_p)
{
    s_ctx_t *ctx = (s_ctx_t *)arg;
    if (!wa_node_attr_eq(reply, "type", "result")) {
        if (wa_iq_error_code(reply) == 404) {
            *st_p = 404;
            *reason_p = cm_sprintf("Channel not found: %s", ctx->key);
        }
        return NULL;
    }
    const wa_node_t *msgs = wa_node_child(reply, "messages");
    const char *jid = msgs ? wa_node_attr(msgs, "jid") : NULL;
    s_preview_t pv = {sess, jid ? jid : ctx->key, json_array(),
                      ctx->download ? json_array() : NULL};
    if (wa_channels_posts(reply, s_preview_post, &pv) < 0) {
        json_decref(pv.out);
        json_decref(pv.downloads);
        *st_p = 502;
        *reason_p = cm_strdup("could not preview the channel: WhatsApp's "
                              "answer has no messages");
        return NULL;
    }
    json_t *body = json_pack("{s:o}", "list", pv.out); //  bodies are maps
    if (pv.downloads) {
        json_object_set_new(body, "downloads", pv.downloads);
    }
    return body;
}

//  A preview waiting for its media downloads.
typedef struct {
    char *key;      //  where the command is held
    json_t *list;   //  the answer's list
    size_t pending; //  downloads running, plus one while starting them
} s_pvjob_t;

typedef struct {
    s_pvjob_t *job; //  whose
    size_t i;       //  which post of the list
} s_pvitem_t;

//  One step of a preview job done; the last one answers (when the
//  session still runs: sess not NULL).
static void
s_pvjob_step(sw_wasess_t *sess, s_pvjob_t *job)
{
    if (--job->pending) {
        return;
    }
    sw_cmd_t *cmd = sess ? sw_wasess_release(sess, job->key, NULL) : NULL;
    if (cmd) {
        json_t *body = json_pack("{s:O}", "list", job->list);
        sw_cmd_reply(&cmd, 200, NULL, &body);
    }
    json_decref(job->list);
    free(job->key);
    free(job);
}

static void
s_pv_downloaded(sw_wasess_t *sess, int st, const char *reason, cm_msg_t *reply,
                void *arg)
{
    s_pvitem_t *item = (s_pvitem_t *)arg;
    s_pvjob_t *job = item->job;
    json_t *message =
        json_object_get(json_array_get(job->list, item->i), "message");
    free(item);
    if (sess && st == 200) {
        json_t *media = sw_wamedia_sent_media(sess, reply);
        sw_wamedia_set_media(message, media);
        json_decref(media);
    } else if (sess) {
        json_t *media = json_pack("{s:{s:s}}", "error", "message",
                                  reason ? reason : "download failed");
        json_t *mt =
            json_object_get(json_object_get(message, "media"), "mimetype");
        if (json_is_string(mt)) {
            json_object_set(media, "mimetype", mt);
        }
        json_object_set_new(message, "media", media);
    }
    s_pvjob_step(sess, job);
}

//  The preview with downloadMedia: fetch each post's media, then answer.
static void
s_preview_then(sw_wasess_t *sess, const char *key, json_t **body_p, void *ctx)
{
    (void)ctx;
    json_t *downloads = json_incref(json_object_get(*body_p, "downloads"));
    s_pvjob_t *job = (s_pvjob_t *)cm_alloc(sizeof(s_pvjob_t));
    job->key = cm_strdup(key);
    job->list = json_incref(json_object_get(*body_p, "list"));
    job->pending = 1 + json_array_size(downloads);
    size_t i;
    json_t *d;
    json_array_foreach(downloads, i, d)
    {
        s_pvitem_t *item = (s_pvitem_t *)cm_alloc(sizeof(s_pvitem_t));
        item->job = job;
        item->i = (size_t)json_integer_value(json_object_get(d, "i"));
        json_t *req = json_deep_copy(json_object_get(d, "request"));
        sw_wamedia_download(sess, &req, s_pv_downloaded, item);
    }
    json_decref(downloads);
    s_pvjob_step(sess, job);
}

void
sw_wachannels_preview(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    int64_t limit = cm_msg_int(sw_cmd_request(*cmd_p), "limit", 10);
    if (limit < 1 || limit > WA_CHANNELS_POSTS_MAX) {
        sw_cmd_reply(cmd_p, 400, "limit must be 1 to 100", NULL);
        return;
    }
    bool invite = false;
    char *key = s_channel_key(cmd_p, true, &invite);
    if (!key) {
        return;
    }
    wa_node_t *iq = wa_channels_posts_iq(key, invite, (int)limit);
    s_ctx_t *ctx = s_ctx(S_EMPTY, "", "preview the channel", key);
    free(key);
    ctx->download = cm_msg_bool(sw_cmd_request(*cmd_p), "downloadMedia", false);
    sw_wacontacts_ask_then(sess, cmd_p, &iq, ctx->what, s_preview_done,
                           ctx->download ? s_preview_then : NULL, ctx);
}

//  Search -------------------------------------------------------------

//  A list of up to 64 short strings from the request's `key`, or NULL
//  after a 400.
static json_t *
s_strings(sw_cmd_t **cmd_p, const char *key)
{
    json_t *v = json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), key);
    if (!v || json_is_null(v)) {
        return json_array();
    }
    bool ok = json_is_array(v) && json_array_size(v) <= 64;
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        ok = ok && json_is_string(s) && json_string_length(s) >= 1 &&
             json_string_length(s) <= 64;
    }
    if (!ok) {
        char *reason = cm_sprintf("%s must be a list of at most 64 texts", key);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return NULL;
    }
    return json_deep_copy(v);
}

//  limit and startCursor of a search, into `input`; -1 after a 400.
static int
s_paging(sw_cmd_t **cmd_p, json_t *input)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    int64_t limit = cm_msg_int(req, "limit", 50);
    const char *cursor = cm_msg_str(req, "startCursor");
    if (limit < 1 || limit > SW_WACHANNELS_PAGE_MAX) {
        sw_cmd_reply(cmd_p, 400, "limit must be 1 to 100", NULL);
        return -1;
    }
    if (cursor && strlen(cursor) > 512) {
        sw_cmd_reply(cmd_p, 400, "startCursor must be at most 512 bytes", NULL);
        return -1;
    }
    json_object_set_new(input, "limit", json_integer((json_int_t)limit));
    if (cursor && *cursor) {
        json_object_set_new(input, "start_cursor", json_string(cursor));
    }
    return 0;
}

void
sw_wachannels_search_view(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *view = cm_msg_str(sw_cmd_request(*cmd_p), "view");
    if (!view || !*view || strlen(view) > 32) {
        sw_cmd_reply(cmd_p, 400, "view is required", NULL);
        return;
    }
    json_t *countries = s_strings(cmd_p, "countries");
    json_t *categories = countries ? s_strings(cmd_p, "categories") : NULL;
    if (!categories) {
        json_decref(countries);
        return;
    }
    json_t *input =
        json_pack("{s:s, s:{s:o, s:o}}", "view", view, "filters",
                  "country_codes", countries, "categories", categories);
    if (s_paging(cmd_p, input) != 0) {
        json_decref(input);
        return;
    }
    s_ctx_t *ctx = s_ctx(S_PAGE, "xwa2_newsletters_directory_list",
                         "search the channels", view);
    s_mex(sess, cmd_p, WA_CHANNELS_Q_DIRECTORY,
          json_pack("{s:o}", "input", input), ctx);
}

void
sw_wachannels_search_text(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), "text");
    if (!text || !*text || strlen(text) > SW_WACHANNELS_TEXT_MAX) {
        sw_cmd_reply(cmd_p, 400, "text must be 1 to 256 bytes", NULL);
        return;
    }
    json_t *categories = s_strings(cmd_p, "categories");
    if (!categories) {
        return;
    }
    json_t *input =
        json_pack("{s:s, s:o}", "search_text", text, "categories", categories);
    if (s_paging(cmd_p, input) != 0) {
        json_decref(input);
        return;
    }
    s_ctx_t *ctx = s_ctx(S_PAGE, "xwa2_newsletters_directory_search",
                         "search the channels", text);
    s_mex(sess, cmd_p, WA_CHANNELS_Q_SEARCH, json_pack("{s:o}", "input", input),
          ctx);
}

//  --------------------------------------------------------------------
//  Self test

static cm_msg_t *
t_run(sw_wasess_rig_t *rig, sw_wacmd_fn *handler, json_t *body)
{
    sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, "channel.test", body);
    handler(sw_wasess_rig_sess(rig), &cmd);
    assert(!cmd);
    return sw_wasess_rig_recv(rig, 1000);
}

static void
t_bad(sw_wasess_rig_t *rig, sw_wacmd_fn *handler, json_t *body,
      const char *reason)
{
    cm_msg_t *reply = t_run(rig, handler, body);
    assert(reply && cm_msg_status(reply) == 400);
    if (!strstr(cm_msg_reason(reply), reason)) {
        fprintf(stderr, "reason: %s\n", cm_msg_reason(reply));
        assert(false);
    }
    cm_msg_destroy(&reply);
}

void
sw_wachannels_test(bool verbose)
{
    printf(" * sw_wachannels: ");
    //  WAHA's Channel from metadata
    json_t *meta = json_loads(
        "{\"id\":\"120363000000000001@newsletter\",\"thread_metadata\":{"
        "\"invite\":\"0029VaABCDEFGHIJKLMNOPQR\",\"name\":{\"text\":\"News\"},"
        "\"description\":{\"text\":\"Daily\"},\"subscribers_count\":\"12\","
        "\"verification\":\"VERIFIED\",\"picture\":{\"direct_path\":"
        "\"/v/t61/p.jpg\"},\"preview\":{}},\"viewer_metadata\":{\"role\":"
        "\"SUBSCRIBER\",\"mute\":\"OFF\"}}",
        0, NULL);
    assert(meta);
    json_t *c = sw_wachannels_channel(meta, true);
    assert(cm_streq(json_string_value(json_object_get(c, "name")), "News"));
    assert(cm_streq(json_string_value(json_object_get(c, "invite")),
                    "https://www.whatsapp.com/channel/"
                    "0029VaABCDEFGHIJKLMNOPQR"));
    assert(json_integer_value(json_object_get(c, "subscribersCount")) == 12);
    assert(json_is_true(json_object_get(c, "verified")));
    assert(
        cm_streq(json_string_value(json_object_get(c, "role")), "SUBSCRIBER"));
    assert(cm_streq(json_string_value(json_object_get(c, "picture")),
                    "https://mmg.whatsapp.net/v/t61/p.jpg"));
    assert(!json_object_get(c, "preview"));
    json_decref(c);
    c = sw_wachannels_channel(meta, false);
    assert(!json_object_get(c, "role"));
    json_decref(c);
    json_decref(meta);
    meta = json_pack("{s:{s:{s:b}}}", "page_info", "x", "y", 1);
    assert(!sw_wachannels_channel(meta, true));
    c = s_page(meta);
    assert(json_is_null(
        json_object_get(json_object_get(c, "page"), "startCursor")));
    assert(json_array_size(json_object_get(c, "channels")) == 0);
    json_decref(c);
    json_decref(meta);

    //  Bad input: 400s naming the field, before anything is sent
    static const sw_wacmd_t table[] = {
        SW_WACHANNELS_COMMANDS,
        SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(table, 1000);
    t_bad(rig, sw_wachannels_list, json_pack("{s:s}", "role", "GUEST"),
          "role must be");
    t_bad(rig, sw_wachannels_create, json_object(), "name must be");
    t_bad(rig, sw_wachannels_follow, json_pack("{s:s}", "id", "0029VaABCDEFG"),
          "id must be a channel id");
    t_bad(rig, sw_wachannels_follow, json_pack("{s:s}", "id", "12@newsletter"),
          "id must be a channel id");
    t_bad(rig, sw_wachannels_info, json_pack("{s:s}", "id", "bad code!"),
          "or an invite code");
    t_bad(rig, sw_wachannels_preview,
          json_pack("{s:s, s:i}", "id", "120363000000000001@newsletter",
                    "limit", 0),
          "limit must be");
    t_bad(rig, sw_wachannels_search_view, json_object(), "view is required");
    t_bad(rig, sw_wachannels_search_view,
          json_pack("{s:s, s:s}", "view", "NEW", "countries", "US"),
          "countries must be a list");
    t_bad(rig, sw_wachannels_search_text,
          json_pack("{s:s, s:i}", "text", "x", "limit", 1000), "limit must be");
    t_bad(rig, sw_wachannels_search_text, json_object(), "text must be");
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
