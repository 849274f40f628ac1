/*  sw_wakinds - the message kinds capability of the WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

#include <math.h>
#include "wa/wa_crypto.h"
#include "wa/wa_jid.h"
#include "wa/wa_kinds.h"

//  Per-session state: stanza id -> {secret (base64), info}.
#define S_SECRETS "kinds.secrets"

static const char *const s_late =
    "could not send the message: WhatsApp did not answer in time";

//  --------------------------------------------------------------------
//  Helpers

static void
s_json_free(void **item_p)
{
    json_t *j = (json_t *)*item_p;
    json_decref(j);
    *item_p = NULL;
}

static void
s_secrets_free(void **state_p)
{
    zhashx_t *h = (zhashx_t *)*state_p;
    zhashx_destroy(&h);
    *state_p = NULL;
}

static zhashx_t *
s_secrets(sw_wasess_t *sess)
{
    zhashx_t *h = (zhashx_t *)sw_wasess_state(sess, S_SECRETS);
    if (!h) {
        h = zhashx_new();
        zhashx_set_destructor(h, s_json_free);
        sw_wasess_set_state(sess, S_SECRETS, h, s_secrets_free);
    }
    return h;
}

//  Keep the secret of poll or event `id` in memory and in the store.
static void
s_secret_keep(sw_wasess_t *sess, const char *id, const uint8_t *secret,
              json_t *info)
{
    char *b64 = cm_base64_encode(secret, WA_KINDS_SECRET_LEN);
    zhashx_t *h = s_secrets(sess);
    if (zhashx_size(h) >= SW_WAKINDS_SECRETS_MAX) {
        zhashx_purge(h); //  the store still has them
    }
    zhashx_update(h, id, json_pack("{s:s, s:O}", "secret", b64, "info", info));
    json_t *body =
        json_pack("{s:s, s:s, s:O}", "id", id, "secret", b64, "info", info);
    sw_session_write(sw_wasess_session(sess), "message.secret_put", &body, NULL,
                     NULL);
    free(b64);
}

//  Our user JID in wire form ("<phone>@s.whatsapp.net"). Caller owns.
static char *
s_me_wire(sw_wasess_t *sess)
{
    const char *me = sw_wasess_me_id(sess);
    char *wire = me ? wa_jid_normalize(me) : NULL;
    return wire ? wire : cm_strdup("");
}

//  The phone-number user JID (wire) of a sender: `jid` itself, or its
//  `alt` when jid is a LID. Caller owns return value.
static char *
s_user_pn(const char *jid, const char *alt)
{
    const char *use = jid;
    if (jid && strstr(jid, "@lid") && alt) {
        use = alt;
    }
    wa_jid_t *j = use ? wa_jid_new_from(use) : NULL;
    char *out = j ? cm_sprintf("%s@%s", wa_jid_user(j), wa_jid_server(j))
                  : cm_strdup(use ? use : "");
    wa_jid_destroy(&j);
    return out;
}

//  The API form of a user JID, its number's when it is a LID whose
//  number the session knows. Caller owns return value.
static char *
s_api_pn(wa_client_t *client, const char *jid)
{
    char *pn = jid && strstr(jid, "@lid") && client
                   ? wa_client_pn_of(client, jid)
                   : NULL;
    char *api = sw_wamsg_api_jid(pn ? pn : jid);
    free(pn);
    return api;
}

//  Same user? (either JID form with or without device)
static bool
s_same_user(const char *a, const char *b)
{
    if (!a || !b) {
        return false;
    }
    char *x = sw_wamsg_api_jid(a);
    char *y = sw_wamsg_api_jid(b);
    bool same = cm_streq(x, y);
    free(x);
    free(y);
    return same;
}

static bool
s_is_group(const char *chat)
{
    return chat && strstr(chat, "@g.us") != NULL;
}

//  The caller's message id for a send: `id` of the request as a bare id
//  (a WAHA id gives its stanza id), or NULL. -1 when malformed.
static int
s_want_id(cm_msg_t *req, char out[SW_WAMSG_PART_MAX], const char **want)
{
    const char *id = cm_msg_str(req, "id");
    *want = NULL;
    if (!id || !*id) {
        return 0;
    }
    sw_wamsg_ref_t ref;
    if (sw_wamsg_parse_id(id, &ref) != 0 || strlen(ref.id) >= 64) {
        return -1;
    }
    snprintf(out, SW_WAMSG_PART_MAX, "%s", ref.id);
    *want = out;
    return 0;
}

//  A quote from reply_to and the gateway's `quoted` {id, participant,
//  body}. Strings go to `keep` (freed by the caller). -1 after a 400.
static int
s_context(sw_wasess_t *sess, cm_msg_t *req, const char *chat_api,
          wa_kinds_context_t *ctx, zlistx_t *keep, uint8_t **quoted_p,
          sw_cmd_t **cmd_p)
{
    memset(ctx, 0, sizeof *ctx);
    *quoted_p = NULL;
    const char *reply_to = cm_msg_str(req, "reply_to");
    if (reply_to && *reply_to) {
        sw_wamsg_ref_t ref;
        if (sw_wamsg_parse_id(reply_to, &ref) != 0) {
            sw_cmd_reply(cmd_p, 400, "reply_to must be a message id", NULL);
            return -1;
        }
        char *id = cm_strdup(ref.id);
        zlistx_add_end(keep, id);
        ctx->reply_id = id;
        const char *part = ref.participant[0]
                               ? ref.participant
                               : (ref.has_chat && ref.from_me
                                      ? sw_wasess_me_id(sess)
                                      : (ref.has_chat ? ref.chat : chat_api));
        char *wire = wa_jid_normalize(part);
        if (wire) {
            zlistx_add_end(keep, wire);
            ctx->reply_participant = wire;
        }
        if (s_is_group(chat_api)) {
            char *c = wa_jid_normalize(chat_api);
            if (c) {
                zlistx_add_end(keep, c);
                ctx->reply_chat = c;
            }
        }
        json_t *quoted = json_object_get(cm_msg_body(req), "quoted");
        const char *body = json_string_value(json_object_get(quoted, "body"));
        if (body && *body &&
            wa_kinds_build_text(body, NULL, NULL, quoted_p, &ctx->quoted_len) ==
                0) {
            ctx->quoted = *quoted_p;
        }
    }
    json_t *mentions = json_object_get(cm_msg_body(req), "mentions");
    size_t n = json_array_size(mentions);
    if (n) {
        const char **list = cm_alloc(n * sizeof *list);
        zlistx_add_end(keep, list);
        size_t i;
        json_t *v;
        json_array_foreach(mentions, i, v)
        {
            char *wire = wa_jid_normalize(json_string_value(v));
            if (!wire) {
                sw_cmd_reply(cmd_p, 400, "mentions must hold chat ids", NULL);
                free(*quoted_p);
                *quoted_p = NULL;
                return -1;
            }
            zlistx_add_end(keep, wire);
            list[i] = wire;
        }
        ctx->mentions = list;
        ctx->nmentions = n;
    }
    return 0;
}

static void
s_free_item(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

static zlistx_t *
s_keep_new(void)
{
    zlistx_t *keep = zlistx_new();
    zlistx_set_destructor(keep, s_free_item);
    return keep;
}

//  Send a built message to chat and hold the command under its id with
//  `data` (taken). Frees msg.
static void
s_send(sw_wasess_t *sess, sw_cmd_t **cmd_p, const char *chat_api,
       uint8_t **msg_p, size_t len, json_t **data_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    char buf[SW_WAMSG_PART_MAX];
    const char *want = NULL;
    char id[WA_CLIENT_ID_MAX];
    int rc = -1;
    if (s_want_id(req, buf, &want) != 0) {
        sw_cmd_reply(cmd_p, 400, "id must be a message id", NULL);
    } else if (wa_kinds_send(sw_wasess_client(sess), chat_api, *msg_p, len,
                             want, id) != 0) {
        sw_cmd_reply(cmd_p, 400,
                     want ? "chatId is not a chat this session can send to, "
                            "or id is not a message id"
                          : "chatId is not a chat this session can send to",
                     NULL);
    } else {
        rc = 0;
    }
    free(*msg_p);
    *msg_p = NULL;
    if (rc != 0) {
        json_decref(*data_p);
        *data_p = NULL;
        return;
    }
    sw_wasess_hold(sess, cmd_p, id, s_late, data_p);
}

//  The data of a content send: what sw_wamessage_on_sent puts into the
//  WAMessage. extra taken.
static json_t *
s_content_data(const char *chat_api, const char *type, const char *body,
               const wa_kinds_context_t *ctx, json_t *extra)
{
    json_t *data = json_pack("{s:s, s:s, s:s, s:o}", "chat", chat_api, "type",
                             type, "text", body ? body : "", "extra", extra);
    if (ctx && ctx->reply_id) {
        json_object_set_new(data, "reply_to", json_string(ctx->reply_id));
    }
    return data;
}

//  replyTo of a send, from the gateway's `quoted`.
static void
s_reply_extra(cm_msg_t *req, const wa_kinds_context_t *ctx, json_t *extra)
{
    if (!ctx->reply_id) {
        return;
    }
    json_t *quoted = json_object_get(cm_msg_body(req), "quoted");
    json_t *r = json_pack("{s:s, s:b}", "id", ctx->reply_id, "hasMedia",
                          json_is_true(json_object_get(quoted, "hasMedia")));
    const char *body = json_string_value(json_object_get(quoted, "body"));
    const char *part =
        json_string_value(json_object_get(quoted, "participant"));
    if (part) {
        json_object_set_new(r, "participant", json_string(part));
    }
    if (body) {
        json_object_set_new(r, "body", json_string(body));
    }
    json_object_set_new(extra, "replyTo", r);
}

//  Chat of a command (API form), or NULL after a 400.
static char *
s_chat(sw_cmd_t **cmd_p)
{
    const char *chat = cm_msg_str(sw_cmd_request(*cmd_p), "chatId");
    char *wire = chat ? wa_jid_normalize(chat) : NULL;
    char *api = wire ? sw_wamsg_api_jid(wire) : NULL;
    free(wire);
    if (!api) {
        sw_cmd_reply(cmd_p, 400, "chatId is required", NULL);
    }
    return api;
}

//  --------------------------------------------------------------------
//  Content sends

void
sw_wakinds_send_location(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *body = cm_msg_body(req);
    char *chat = s_chat(cmd_p);
    if (!chat) {
        return;
    }
    json_t *lat = json_object_get(body, "latitude");
    json_t *lng = json_object_get(body, "longitude");
    const char *title = cm_msg_str(req, "title");
    const char *address = cm_msg_str(req, "address");
    zlistx_t *keep = s_keep_new();
    wa_kinds_context_t ctx;
    uint8_t *quoted = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    if (!json_is_number(lat) || !json_is_number(lng)) {
        sw_cmd_reply(cmd_p, 400, "latitude and longitude are required", NULL);
    } else if (s_context(sess, req, chat, &ctx, keep, &quoted, cmd_p) == 0) {
        if (wa_kinds_build_location(json_number_value(lat),
                                    json_number_value(lng), title, address,
                                    &ctx, &msg, &len) != 0) {
            sw_cmd_reply(cmd_p, 400,
                         "latitude must be within -90..90 and longitude "
                         "within -180..180",
                         NULL);
        } else {
            char la[WA_KINDS_DEGREES_MAX], lo[WA_KINDS_DEGREES_MAX];
            wa_kinds_degrees(json_number_value(lat), la);
            wa_kinds_degrees(json_number_value(lng), lo);
            json_t *loc = json_pack("{s:s, s:s, s:b}", "latitude", la,
                                    "longitude", lo, "live", 0);
            if (title) {
                json_object_set_new(loc, "name", json_string(title));
            }
            if (address) {
                json_object_set_new(loc, "address", json_string(address));
            }
            json_t *extra = json_pack("{s:o}", "location", loc);
            s_reply_extra(req, &ctx, extra);
            json_t *data = s_content_data(chat, "location", "", &ctx, extra);
            s_send(sess, cmd_p, chat, &msg, len, &data);
        }
    }
    free(quoted);
    zlistx_destroy(&keep);
    free(chat);
}

void
sw_wakinds_send_contacts(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *contacts = json_object_get(cm_msg_body(req), "contacts");
    char *chat = s_chat(cmd_p);
    if (!chat) {
        return;
    }
    size_t n = json_array_size(contacts);
    if (n == 0 || n > WA_KINDS_CONTACTS_MAX) {
        free(chat);
        sw_cmd_reply(cmd_p, 400, "contacts must hold 1 to 32 contacts", NULL);
        return;
    }
    const char **names = cm_alloc(n * sizeof *names);
    const char **cards = cm_alloc(n * sizeof *cards);
    json_t *vcards = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(contacts, i);
        names[i] = json_string_value(json_object_get(c, "name"));
        cards[i] = json_string_value(json_object_get(c, "vcard"));
        if (cards[i]) {
            json_array_append_new(vcards, json_string(cards[i]));
        }
    }
    zlistx_t *keep = s_keep_new();
    wa_kinds_context_t ctx;
    uint8_t *quoted = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    if (s_context(sess, req, chat, &ctx, keep, &quoted, cmd_p) == 0) {
        if (wa_kinds_build_contacts(names, cards, n, &ctx, &msg, &len) != 0) {
            sw_cmd_reply(cmd_p, 400, "every contact needs a name and a vCard",
                         NULL);
        } else {
            json_t *extra = json_pack("{s:O}", "vCards", vcards);
            s_reply_extra(req, &ctx, extra);
            json_t *data =
                s_content_data(chat, n == 1 ? "vcard" : "multi_vcard",
                               n == 1 ? cards[0] : "", &ctx, extra);
            s_send(sess, cmd_p, chat, &msg, len, &data);
        }
    }
    free(quoted);
    zlistx_destroy(&keep);
    json_decref(vcards);
    free(names);
    free(cards);
    free(chat);
}

void
sw_wakinds_send_poll(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *poll = json_object_get(cm_msg_body(req), "poll");
    char *chat = s_chat(cmd_p);
    if (!chat) {
        return;
    }
    const char *name = json_string_value(json_object_get(poll, "name"));
    json_t *options = json_object_get(poll, "options");
    bool multiple = json_is_true(json_object_get(poll, "multipleAnswers"));
    size_t n = json_array_size(options);
    if (!name || n < WA_KINDS_POLL_OPTIONS_MIN ||
        n > WA_KINDS_POLL_OPTIONS_MAX) {
        free(chat);
        sw_cmd_reply(cmd_p, 400, "poll needs a name and 2 to 12 options", NULL);
        return;
    }
    const char **opts = cm_alloc(n * sizeof *opts);
    for (size_t i = 0; i < n; i++) {
        opts[i] = json_string_value(json_array_get(options, i));
    }
    uint8_t secret[WA_KINDS_SECRET_LEN];
    zlistx_t *keep = s_keep_new();
    wa_kinds_context_t ctx;
    uint8_t *quoted = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    if (wa_random(secret, sizeof secret) != 0) {
        sw_cmd_reply(cmd_p, 500, "no randomness for the poll's secret", NULL);
    } else if (s_context(sess, req, chat, &ctx, keep, &quoted, cmd_p) == 0) {
        if (wa_kinds_build_poll(name, opts, n, multiple, secret, &ctx, &msg,
                                &len) != 0) {
            sw_cmd_reply(cmd_p, 400,
                         "poll options must be 1 to 255 bytes each and "
                         "distinct",
                         NULL);
        } else {
            json_t *extra =
                json_pack("{s:{s:s, s:O, s:b}}", "poll", "name", name,
                          "options", options, "multipleAnswers", multiple);
            s_reply_extra(req, &ctx, extra);
            json_t *data =
                s_content_data(chat, "poll_creation", name, &ctx, extra);
            json_object_set(data, "options", options);
            char *b64 = cm_base64_encode(secret, sizeof secret);
            json_object_set_new(data, "secret_b64", json_string(b64));
            free(b64);
            s_send(sess, cmd_p, chat, &msg, len, &data);
        }
    }
    explicit_bzero(secret, sizeof secret);
    free(quoted);
    zlistx_destroy(&keep);
    free(opts);
    free(chat);
}

void
sw_wakinds_send_event(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *event = json_object_get(cm_msg_body(req), "event");
    char *chat = s_chat(cmd_p);
    if (!chat) {
        return;
    }
    wa_kinds_event_t ev = {0};
    ev.name = json_string_value(json_object_get(event, "name"));
    ev.description = json_string_value(json_object_get(event, "description"));
    ev.start_time = json_integer_value(json_object_get(event, "startTime"));
    ev.end_time = json_integer_value(json_object_get(event, "endTime"));
    ev.location = json_string_value(
        json_object_get(json_object_get(event, "location"), "name"));
    ev.extra_guests =
        json_is_true(json_object_get(event, "extraGuestsAllowed"));
    uint8_t secret[WA_KINDS_SECRET_LEN];
    zlistx_t *keep = s_keep_new();
    wa_kinds_context_t ctx;
    uint8_t *quoted = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    if (wa_random(secret, sizeof secret) != 0) {
        sw_cmd_reply(cmd_p, 500, "no randomness for the event's secret", NULL);
    } else if (s_context(sess, req, chat, &ctx, keep, &quoted, cmd_p) == 0) {
        if (wa_kinds_build_event(&ev, secret, &ctx, &msg, &len) != 0) {
            sw_cmd_reply(cmd_p, 400,
                         "event needs a name and a startTime (unix seconds) "
                         "before its endTime",
                         NULL);
        } else {
            wa_message_t *m = wa_message_decode(msg, len);
            json_t *extra = m ? wa_kinds_describe(m) : json_object();
            wa_message_destroy(&m);
            json_object_del(extra, "replyTo");
            s_reply_extra(req, &ctx, extra);
            json_t *data = s_content_data(chat, "event", ev.name, &ctx, extra);
            char *b64 = cm_base64_encode(secret, sizeof secret);
            json_object_set_new(data, "secret_b64", json_string(b64));
            json_object_set_new(data, "options", json_array());
            free(b64);
            s_send(sess, cmd_p, chat, &msg, len, &data);
        }
    }
    explicit_bzero(secret, sizeof secret);
    free(quoted);
    zlistx_destroy(&keep);
    free(chat);
}

//  The rich text of a command, with the high-quality preview image
//  uploaded (a media.upload reply), or hq NULL.
//  32 bytes from base64 `key` of reply into keep; NULL when not so.
static const uint8_t *
s_b64_32(cm_msg_t *reply, const char *key, zlistx_t *keep)
{
    const char *v = cm_msg_str(reply, key);
    uint8_t *out = NULL;
    size_t n = 0;
    if (!v || cm_base64_decode(v, 64, &out, &n) != 0 || n != 32) {
        free(out);
        return NULL;
    }
    zlistx_add_end(keep, out);
    return out;
}

int
sw_wakinds_hq_fields(cm_msg_t *hq, wa_kinds_preview_t *pv, zlistx_t *keep)
{
    const char *path = cm_msg_str(hq, "directPath");
    const uint8_t *key = s_b64_32(hq, "mediaKey", keep);
    const uint8_t *sha = s_b64_32(hq, "fileSha256", keep);
    const uint8_t *enc = s_b64_32(hq, "fileEncSha256", keep);
    if (!path || !key || !sha || !enc) {
        return -1;
    }
    pv->hq_path = path;
    pv->hq_media_key = key;
    pv->hq_sha256 = sha;
    pv->hq_enc_sha256 = enc;
    pv->hq_key_timestamp = cm_msg_int(hq, "mediaKeyTimestamp", 0);
    int64_t w = cm_msg_int(hq, "width", 0), h = cm_msg_int(hq, "height", 0);
    pv->hq_width = w > 0 && w < 100000 ? (uint32_t)w : 0;
    pv->hq_height = h > 0 && h < 100000 ? (uint32_t)h : 0;
    return 0;
}

static void
s_send_rich(sw_wasess_t *sess, sw_cmd_t **cmd_p, cm_msg_t *hq)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *text = cm_msg_str(req, "text");
    json_t *preview = json_object_get(cm_msg_body(req), "preview");
    char *chat = s_chat(cmd_p);
    if (!chat) {
        return;
    }
    if (!text || !*text) {
        free(chat);
        sw_cmd_reply(cmd_p, 400, "text is required", NULL);
        return;
    }
    zlistx_t *keep = s_keep_new();
    wa_kinds_context_t ctx;
    uint8_t *quoted = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    wa_kinds_preview_t pv = {0};
    if (json_is_object(preview)) {
        pv.url = json_string_value(json_object_get(preview, "url"));
        pv.title = json_string_value(json_object_get(preview, "title"));
        pv.description =
            json_string_value(json_object_get(preview, "description"));
        //  blob 0: its JPEG thumbnail (media.preview's)
        zframe_t *thumb = cm_msg_blob(req, 0);
        if (thumb && zframe_size(thumb) <= SW_WAKINDS_THUMB_MAX) {
            pv.thumb = zframe_data(thumb);
            pv.thumb_len = zframe_size(thumb);
        }
        //  the uploaded image: its media fields (and its thumbnail
        //  when the gateway had none)
        zframe_t *small = hq && cm_msg_bool(hq, "thumbnail", false)
                              ? cm_msg_blob(hq, 0)
                              : NULL;
        if (!pv.thumb_len && small &&
            zframe_size(small) <= SW_WAKINDS_THUMB_MAX) {
            pv.thumb = zframe_data(small);
            pv.thumb_len = zframe_size(small);
        }
        if (hq && sw_wakinds_hq_fields(hq, &pv, keep) != 0) {
            cm_log_warn("link preview image: bad upload reply; sent "
                        "without it",
                        "session=\"%s\"", sw_wasess_name(sess));
        }
    }
    if (s_context(sess, req, chat, &ctx, keep, &quoted, cmd_p) == 0) {
        if (wa_kinds_build_text(text, &ctx, pv.url ? &pv : NULL, &msg, &len) !=
            0) {
            sw_cmd_reply(cmd_p, 400, "could not build the text", NULL);
        } else {
            json_t *extra = json_object();
            s_reply_extra(req, &ctx, extra);
            json_t *mentions = json_object_get(cm_msg_body(req), "mentions");
            if (json_array_size(mentions)) {
                json_object_set(extra, "mentionedIds", mentions);
            }
            if (pv.url) {
                json_t *p = json_pack("{s:s}", "url", pv.url);
                if (pv.title) {
                    json_object_set_new(p, "title", json_string(pv.title));
                }
                if (pv.description) {
                    json_object_set_new(p, "description",
                                        json_string(pv.description));
                }
                if (pv.hq_path) {
                    json_object_set_new(p, "highQuality", json_true());
                }
                json_object_set_new(extra, "linkPreview", p);
            }
            json_t *data = s_content_data(chat, "chat", text, &ctx, extra);
            s_send(sess, cmd_p, chat, &msg, len, &data);
        }
    }
    free(quoted);
    zlistx_destroy(&keep);
    free(chat);
}

//  A send waiting for its link preview's full image
typedef struct {
    char *key;                        //  the held command
    sw_wakinds_preview_send_fn *send; //  sends it
    const char *what;                 //  "text", "status"
} preview_wait_t;

//  The high-quality preview image is uploaded: send (without the image
//  when the upload failed).
static void
s_hq_uploaded(sw_wasess_t *sess, int st, const char *reason, cm_msg_t *reply,
              void *arg)
{
    preview_wait_t *w = (preview_wait_t *)arg;
    sw_cmd_t *cmd = sess ? sw_wasess_release(sess, w->key, NULL) : NULL;
    if (cmd) {
        if (st != 200) {
            cm_log_info("link preview image not uploaded; sent without it",
                        "session=\"%s\" what=%s st=%d reason=\"%s\"",
                        sw_wasess_name(sess), w->what, st,
                        reason ? reason : "");
        }
        w->send(sess, &cmd, st == 200 ? reply : NULL);
        if (cmd) {
            char *text = cm_sprintf("the %s was not sent", w->what);
            sw_cmd_reply(&cmd, 500, text, NULL);
            free(text);
        }
    } //  else answered at its deadline, or the session stopped
    free(w->key);
    free(w);
}

void
sw_wakinds_with_preview_image(sw_wasess_t *sess, sw_cmd_t **cmd_p,
                              const char *url, zframe_t *image,
                              sw_wakinds_preview_send_fn *send,
                              const char *what)
{
    assert(send && what);
    if ((!url && !image) || !sw_wasess_client(sess)) {
        send(sess, cmd_p, NULL);
        return;
    }
    cm_msg_t *up = cm_msg_new("media.upload");
    cm_msg_set_str(up, "kind", "link-thumbnail");
    if (url) {
        cm_msg_set(up, "file", json_pack("{s:s}", "url", url));
    } else {
        zframe_t *copy = zframe_dup(image);
        cm_msg_add_frame(up, &copy);
    }
    char *late = cm_sprintf("could not send the %s: it took too long", what);
    preview_wait_t *w = cm_alloc(sizeof *w);
    w->key = cm_strdup(sw_wasess_hold(sess, cmd_p, NULL, late, NULL));
    w->send = send;
    w->what = what;
    free(late);
    sw_wamedia_upload(sess, &up, s_hq_uploaded, w);
}

void
sw_wakinds_send_rich(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *preview = json_object_get(cm_msg_body(req), "preview");
    json_t *hq = json_object_get(preview, "highQuality");
    const char *url = json_string_value(json_object_get(hq, "url"));
    zframe_t *image =
        json_is_true(json_object_get(hq, "data")) ? cm_msg_blob(req, 1) : NULL;
    //  First the full image, uploaded as the preview's own media
    sw_wakinds_with_preview_image(sess, cmd_p, url, image, s_send_rich, "text");
}

//  --------------------------------------------------------------------
//  Actions on a message

//  The key of the message a WAHA id names, in wire form; strings into
//  keep. -1 after a 400.
static int
s_target(sw_wasess_t *sess, sw_cmd_t **cmd_p, const char *field,
         const char *chat_api, wa_kinds_key_t *key, char **chat_out,
         zlistx_t *keep)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), field);
    sw_wamsg_ref_t ref;
    if (!text || sw_wamsg_parse_id(text, &ref) != 0 ||
        (!ref.has_chat && !chat_api)) {
        char *reason = cm_sprintf("%s must be a message id such as "
                                  "true_11111111111@c.us_3EB0ABCDEF",
                                  field);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return -1;
    }
    char *chat = wa_jid_normalize(ref.has_chat ? ref.chat : chat_api);
    if (!chat) {
        sw_cmd_reply(cmd_p, 400, "the message id names no chat", NULL);
        return -1;
    }
    zlistx_add_end(keep, chat);
    char *id = cm_strdup(ref.id);
    zlistx_add_end(keep, id);
    memset(key, 0, sizeof *key);
    key->chat = chat;
    key->from_me = ref.from_me;
    key->id = id;
    if (s_is_group(chat) && ref.participant[0]) {
        char *p = wa_jid_normalize(ref.participant);
        if (p) {
            zlistx_add_end(keep, p);
            key->participant = p;
        }
    }
    *chat_out = sw_wamsg_api_jid(chat);
    (void)sess;
    return 0;
}

//  Action data: {action, chat, target (WAHA id), ...}.
static json_t *
s_action_data(const char *action, const char *chat_api,
              const wa_kinds_key_t *key, sw_wasess_t *sess)
{
    const char *me = sw_wasess_me_id(sess);
    char *target = sw_wamsg_id(
        key->from_me, chat_api, key->id,
        s_is_group(chat_api) ? (key->from_me ? me : key->participant) : NULL);
    json_t *data = json_pack("{s:s, s:s, s:s, s:s}", "action", action, "chat",
                             chat_api, "target", target, "target_id", key->id);
    free(target);
    return data;
}

//  Builds an action's message on the message `key` names, and its
//  action data; NULL, or the reason for a 400.
typedef const char *(s_build_fn)(sw_wasess_t *sess, cm_msg_t *req,
                                 const wa_kinds_key_t *key, const char *chat,
                                 uint8_t **msg_p, size_t *len_p,
                                 json_t **data_p);

//  An action on the message the request's messageId names: built, then
//  sent to the chat.
static void
s_act(sw_wasess_t *sess, sw_cmd_t **cmd_p, s_build_fn *build)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    zlistx_t *keep = s_keep_new();
    wa_kinds_key_t key;
    char *chat = NULL;
    if (s_target(sess, cmd_p, "messageId", cm_msg_str(req, "chatId"), &key,
                 &chat, keep) == 0) {
        uint8_t *msg = NULL;
        size_t len = 0;
        json_t *data = NULL;
        const char *reason = build(sess, req, &key, chat, &msg, &len, &data);
        if (reason) {
            free(msg);
            json_decref(data);
            sw_cmd_reply(cmd_p, 400, reason, NULL);
        } else {
            s_send(sess, cmd_p, chat, &msg, len, &data);
        }
    }
    free(chat);
    zlistx_destroy(&keep);
}

static const char *
s_build_reaction(sw_wasess_t *sess, cm_msg_t *req, const wa_kinds_key_t *key,
                 const char *chat, uint8_t **msg_p, size_t *len_p,
                 json_t **data_p)
{
    const char *emoji = cm_msg_str(req, "reaction");
    if (wa_message_build_reaction(key->chat, key->from_me, key->id,
                                  key->participant, emoji, cm_now_ms(), msg_p,
                                  len_p) != 0) {
        return "could not build the reaction";
    }
    *data_p = s_action_data("reaction", chat, key, sess);
    json_object_set_new(*data_p, "text", json_string(emoji));
    return NULL;
}

void
sw_wakinds_react(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *reaction = json_object_get(cm_msg_body(req), "reaction");
    if (!json_is_string(reaction) || json_string_length(reaction) > 64) {
        sw_cmd_reply(cmd_p, 400,
                     "reaction must be an emoji, or \"\" to remove it", NULL);
        return;
    }
    s_act(sess, cmd_p, s_build_reaction);
}

static const char *
s_build_edit(sw_wasess_t *sess, cm_msg_t *req, const wa_kinds_key_t *key,
             const char *chat, uint8_t **msg_p, size_t *len_p, json_t **data_p)
{
    const char *text = cm_msg_str(req, "text");
    if (!key->from_me) {
        return "only messages this session sent can be edited";
    }
    if (wa_kinds_build_edit(key, text, cm_now_ms(), msg_p, len_p) != 0) {
        return "could not build the edit";
    }
    *data_p = s_action_data("edit", chat, key, sess);
    json_object_set_new(*data_p, "text", json_string(text));
    return NULL;
}

void
sw_wakinds_edit(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), "text");
    if (!text || !*text) {
        sw_cmd_reply(cmd_p, 400, "text is required", NULL);
        return;
    }
    s_act(sess, cmd_p, s_build_edit);
}

static const char *
s_build_revoke(sw_wasess_t *sess, cm_msg_t *req, const wa_kinds_key_t *key,
               const char *chat, uint8_t **msg_p, size_t *len_p,
               json_t **data_p)
{
    if (!key->from_me && !s_is_group(key->chat)) {
        return "only messages this session sent can be deleted for everyone";
    }
    if (wa_kinds_build_revoke(key, msg_p, len_p) != 0) {
        return "could not build the delete";
    }
    *data_p = s_action_data("revoke", chat, key, sess);
    json_t *before = json_object_get(cm_msg_body(req), "target");
    if (json_is_object(before)) {
        json_object_set(*data_p, "before", before);
    }
    return NULL;
}

void
sw_wakinds_revoke(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_act(sess, cmd_p, s_build_revoke);
}

static const char *
s_build_pin(sw_wasess_t *sess, cm_msg_t *req, const wa_kinds_key_t *key,
            const char *chat, uint8_t **msg_p, size_t *len_p, json_t **data_p)
{
    bool pin = cm_msg_bool(req, "pin", true);
    int64_t duration = cm_msg_int(req, "duration", 86400);
    if (wa_kinds_build_pin(key, pin, (uint32_t)duration, cm_now_ms(), msg_p,
                           len_p) != 0) {
        return "could not build the pin";
    }
    *data_p = s_action_data(pin ? "pin" : "unpin", chat, key, sess);
    return NULL;
}

void
sw_wakinds_pin(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    bool pin = cm_msg_bool(req, "pin", true);
    int64_t duration = cm_msg_int(req, "duration", 86400);
    if (pin && duration != 86400 && duration != 604800 && duration != 2592000) {
        sw_cmd_reply(cmd_p, 400,
                     "duration must be 86400, 604800 or 2592000 seconds", NULL);
        return;
    }
    s_act(sess, cmd_p, s_build_pin);
}

void
sw_wakinds_forward(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *orig = json_object_get(cm_msg_body(req), "message");
    char *chat = s_chat(cmd_p);
    if (!chat) {
        return;
    }
    //  The stored message: its text, location or cards are sent again
    const char *body = json_string_value(json_object_get(orig, "body"));
    json_t *loc = json_object_get(orig, "location");
    json_t *vcards = json_object_get(orig, "vCards");
    wa_kinds_context_t ctx = {.forwarded = true};
    uint8_t *msg = NULL;
    size_t len = 0;
    const char *type = "chat";
    int rc = -1;
    if (json_is_object(loc)) {
        type = "location";
        const char *la = json_string_value(json_object_get(loc, "latitude"));
        const char *lo = json_string_value(json_object_get(loc, "longitude"));
        rc = wa_kinds_build_location(
            la ? strtod(la, NULL) : NAN, lo ? strtod(lo, NULL) : NAN,
            json_string_value(json_object_get(loc, "name")),
            json_string_value(json_object_get(loc, "address")), &ctx, &msg,
            &len);
        body = "";
    } else if (json_array_size(vcards) == 1) {
        type = "vcard";
        const char *card = json_string_value(json_array_get(vcards, 0));
        const char *name = "Contact";
        rc = wa_kinds_build_contacts(&name, &card, 1, &ctx, &msg, &len);
        body = card;
    } else if (body && *body &&
               !json_is_true(json_object_get(orig, "hasMedia"))) {
        rc = wa_kinds_build_text(body, &ctx, NULL, &msg, &len);
    }
    if (rc != 0) {
        free(chat);
        sw_cmd_reply(cmd_p, 400,
                     "only texts, locations and contact cards can be "
                     "forwarded",
                     NULL);
        return;
    }
    json_t *extra = json_object();
    if (json_is_object(loc)) {
        json_object_set(extra, "location", loc);
    }
    if (json_is_array(vcards)) {
        json_object_set(extra, "vCards", vcards);
    }
    json_object_set_new(extra, "isForwarded", json_true());
    json_t *data = s_content_data(chat, type, body, NULL, extra);
    s_send(sess, cmd_p, chat, &msg, len, &data);
    free(chat);
}

//  --------------------------------------------------------------------
//  Poll votes: the poll's secret from memory or the store first

typedef struct {
    char *session; //  session name
    char *key;     //  held command
    char *poll;    //  poll stanza id
} s_lookup_t;

static void
s_lookup_free(s_lookup_t **l_p)
{
    s_lookup_t *l = *l_p;
    if (l) {
        free(l->session);
        free(l->key);
        free(l->poll);
        free(l);
        *l_p = NULL;
    }
}

//  Cast the vote of held command `key` with the poll's {secret, info}.
static void
s_vote_go(sw_wasess_t *sess, const char *key, json_t *entry)
{
    json_t *data = NULL;
    sw_cmd_t *cmd = sw_wasess_release(sess, key, &data);
    if (!cmd) {
        json_decref(data);
        return;
    }
    json_t *info = json_object_get(entry, "info");
    json_t *options = json_object_get(info, "options");
    json_t *votes = json_object_get(data, "votes");
    const char *creator = json_string_value(json_object_get(info, "creator"));
    uint8_t *secret = NULL;
    size_t slen = 0;
    const char *b64 = json_string_value(json_object_get(entry, "secret"));
    if (!b64 || cm_base64_decode(b64, 128, &secret, &slen) != 0 ||
        slen != WA_KINDS_SECRET_LEN || !creator) {
        free(secret);
        json_decref(data);
        sw_cmd_reply(&cmd, 500, "the poll's secret is unusable", NULL);
        return;
    }
    size_t n = json_array_size(votes);
    const char **picked = cm_alloc((n ? n : 1) * sizeof *picked);
    for (size_t i = 0; i < n; i++) {
        picked[i] = json_string_value(json_array_get(votes, i));
        bool known = false;
        size_t j;
        json_t *o;
        json_array_foreach(options, j, o)
        {
            known = known || cm_streq(json_string_value(o), picked[i]);
        }
        if (!known) {
            char *reason = cm_sprintf("votes: \"%s\" is not an option of "
                                      "the poll",
                                      picked[i] ? picked[i] : "");
            sw_cmd_reply(&cmd, 400, reason, NULL);
            free(reason);
            free(picked);
            free(secret);
            json_decref(data);
            return;
        }
    }
    if (n > 1 && json_is_false(json_object_get(info, "multipleAnswers"))) {
        free(picked);
        free(secret);
        json_decref(data);
        sw_cmd_reply(&cmd, 400, "votes: the poll takes one answer", NULL);
        return;
    }
    char *me = s_me_wire(sess);
    wa_kinds_key_t pk = {0};
    const char *chat = json_string_value(json_object_get(data, "chat"));
    char *chat_wire = wa_jid_normalize(chat);
    pk.chat = chat_wire;
    pk.id = json_string_value(json_object_get(data, "target_id"));
    pk.from_me = s_same_user(creator, me);
    char *part = NULL;
    if (s_is_group(chat) && !pk.from_me) {
        part = cm_strdup(creator);
        pk.participant = part;
    }
    uint8_t *msg = NULL;
    size_t len = 0;
    int rc = wa_kinds_build_vote(&pk, creator, me, secret, picked, n,
                                 cm_now_ms(), &msg, &len);
    explicit_bzero(secret, slen);
    free(secret);
    free(picked);
    if (rc != 0) {
        sw_cmd_reply(&cmd, 400, "could not build the vote", NULL);
        json_decref(data);
    } else {
        char id[WA_CLIENT_ID_MAX];
        if (wa_kinds_send(sw_wasess_client(sess), chat, msg, len, NULL, id) !=
            0) {
            sw_cmd_reply(&cmd, 400,
                         "chatId is not a chat this session can "
                         "send to",
                         NULL);
            json_decref(data);
        } else {
            json_object_set_new(data, "poll_from_me", json_boolean(pk.from_me));
            sw_wasess_hold(sess, &cmd, id, s_late, &data);
        }
        free(msg);
    }
    free(part);
    free(chat_wire);
    free(me);
}

static void
s_vote_stored(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    s_lookup_t *l = (s_lookup_t *)arg;
    sw_wasess_t *sess = sw_wa_sess(session);
    cm_msg_t *reply = *reply_p;
    int st = cm_msg_status(reply);
    if (sess && st == 200) {
        json_t *entry =
            json_pack("{s:s?, s:O?}", "secret", cm_msg_str(reply, "secret"),
                      "info", json_object_get(cm_msg_body(reply), "info"));
        zhashx_update(s_secrets(sess), l->poll, json_incref(entry));
        s_vote_go(sess, l->key, entry);
        json_decref(entry);
    } else if (sess) {
        sw_cmd_t *cmd = sw_wasess_release(sess, l->key, NULL);
        if (cmd) {
            if (st == 404) {
                sw_cmd_reply(&cmd, 404,
                             "pollMessageId names no poll this session knows",
                             NULL);
            } else {
                sw_cmd_reply(&cmd, 503, "store-service did not answer", NULL);
            }
        }
    }
    cm_msg_destroy(reply_p);
    s_lookup_free(&l);
}

void
sw_wakinds_send_poll_vote(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    json_t *votes = json_object_get(cm_msg_body(req), "votes");
    if (!json_is_array(votes) ||
        json_array_size(votes) > WA_KINDS_POLL_OPTIONS_MAX) {
        sw_cmd_reply(cmd_p, 400, "votes must be an array of option names",
                     NULL);
        return;
    }
    zlistx_t *keep = s_keep_new();
    wa_kinds_key_t key;
    char *chat = NULL;
    if (s_target(sess, cmd_p, "pollMessageId", cm_msg_str(req, "chatId"), &key,
                 &chat, keep) != 0) {
        zlistx_destroy(&keep);
        return;
    }
    json_t *data = s_action_data("vote", chat, &key, sess);
    json_object_set(data, "votes", votes);
    char *poll = cm_strdup(key.id);
    free(chat);
    zlistx_destroy(&keep);
    const char *hkey = sw_wasess_hold(sess, cmd_p, NULL, s_late, &data);
    json_t *entry = (json_t *)zhashx_lookup(s_secrets(sess), poll);
    if (entry) {
        char *k = cm_strdup(hkey);
        s_vote_go(sess, k, entry);
        free(k);
        free(poll);
        return;
    }
    s_lookup_t *l = cm_alloc(sizeof *l);
    l->session = cm_strdup(sw_wasess_name(sess));
    l->key = cm_strdup(hkey);
    l->poll = poll;
    cm_msg_t *get = cm_msg_new("message.secret_get");
    cm_msg_set_str(get, "session", sw_wasess_name(sess));
    cm_msg_set_str(get, "id", poll);
    if (sw_session_store_send(sw_wasess_session(sess), &get,
                              SW_WAKINDS_STORE_MS, s_vote_stored, l) != 0) {
        sw_cmd_t *cmd = sw_wasess_release(sess, l->key, NULL);
        if (cmd) {
            sw_cmd_reply(&cmd, 503, "the session is stopping", NULL);
        }
        s_lookup_free(&l);
    }
}

//  --------------------------------------------------------------------
//  Outcome of sends

//  The WAMessage base of an event about one of our messages or theirs.
static json_t *
s_base(sw_wasess_t *sess, const char *chat, const char *id, bool from_me,
       const char *participant, int64_t ts, const char *type, const char *body,
       const char *push_name)
{
    sw_wamsg_t w = {0};
    w.id = id;
    w.chat = chat;
    w.me = sw_wasess_me_id(sess);
    w.from_me = from_me;
    w.participant = participant;
    w.timestamp = ts;
    w.type = type;
    w.body = body;
    w.push_name = push_name;
    w.source = from_me ? "api" : NULL;
    w.ack = from_me ? SW_WAMSG_ACK_SERVER : SW_WAMSG_ACK_DEVICE;
    return sw_wamsg_message(&w);
}

//  WAHA's WAMessageReaction from a base WAMessage (taken).
static json_t *
s_reaction_payload(json_t *base, const char *text, const char *target)
{
    json_t *out = json_object();
    const char *keys[] = {"id", "timestamp",   "from",  "fromMe", "source",
                          "to", "participant", "_data", NULL};
    for (int i = 0; keys[i]; i++) {
        json_t *v = json_object_get(base, keys[i]);
        if (v) {
            json_object_set(out, keys[i], v);
        }
    }
    json_object_set_new(
        out, "reaction",
        json_pack("{s:s, s:s}", "text", text, "messageId", target));
    json_decref(base);
    return out;
}

static void
s_emit(sw_wasess_t *sess, const char *event, const char *key, int64_t ts_s,
       json_t **payload_p, sw_session_write_fn *fn, void *arg)
{
    char id[SW_WAMSG_EVENT_ID_MAX];
    sw_wamsg_event_id(sw_wasess_name(sess), event, key, ts_s * 1000, id);
    sw_session_emit_id(sw_wasess_session(sess), id, event, payload_p, fn, arg);
}

//  The fields of a WAHA MessageDestination, in order.
static const char *const s_destination_keys[] = {"id", "from",        "fromMe",
                                                 "to", "participant", NULL};

//  WAHA's MessageDestination of a message ({id, from, fromMe, to}, and
//  participant in groups: a string, never null), for poll.vote's poll
//  and event.response's eventCreationKey.
static json_t *
s_destination(sw_wasess_t *sess, const char *chat, const char *id, bool from_me,
              const char *participant, const char *type)
{
    json_t *base =
        s_base(sess, chat, id, from_me, participant, 0, type, NULL, NULL);
    json_t *out = json_object();
    for (int i = 0; s_destination_keys[i]; i++) {
        json_t *v = json_object_get(base, s_destination_keys[i]);
        if (v && !json_is_null(v)) {
            json_object_set(out, s_destination_keys[i], v);
        }
    }
    json_decref(base);
    return out;
}

//  The poll.vote payload.
static json_t *
s_vote_payload(sw_wasess_t *sess, json_t *vote_base, const char *poll_chat,
               const char *poll_id, bool poll_from_me,
               const char *poll_participant, json_t *selected, int64_t ts_ms)
{
    json_t *p = s_destination(sess, poll_chat, poll_id, poll_from_me,
                              poll_participant, "poll_creation");
    json_t *v = json_object();
    for (int i = 0; s_destination_keys[i]; i++) {
        //  WAHA's PollVote names a participant only in groups too
        json_t *vv = json_object_get(vote_base, s_destination_keys[i]);
        if (vv && !json_is_null(vv)) {
            json_object_set(v, s_destination_keys[i], vv);
        }
    }
    json_object_set_new(v, "selectedOptions",
                        selected ? json_incref(selected) : json_array());
    json_object_set_new(v, "timestamp", json_integer(ts_ms));
    json_t *out = json_pack("{s:o, s:o}", "vote", v, "poll", p);
    json_object_set(out, "_data", json_object_get(vote_base, "_data"));
    return out;
}

bool
sw_wakinds_on_sent(sw_wasess_t *sess, const wa_client_sent_t *s)
{
    json_t *held = sw_wasess_held(sess, s->id);
    const char *action = json_string_value(json_object_get(held, "action"));
    if (!action) {
        //  a content kind keeps its secret once the server took it
        const char *b64 =
            json_string_value(json_object_get(held, "secret_b64"));
        if (held && b64 && s->ok) {
            uint8_t *secret = NULL;
            size_t slen = 0;
            if (cm_base64_decode(b64, 128, &secret, &slen) == 0 &&
                slen == WA_KINDS_SECRET_LEN) {
                char *me = s_me_wire(sess);
                json_t *info = json_pack(
                    "{s:s, s:s, s:s, s:O, s:b}", "kind",
                    cm_streq(json_string_value(json_object_get(held, "type")),
                             "event")
                        ? "event"
                        : "poll",
                    "chat", json_string_value(json_object_get(held, "chat")),
                    "creator", me, "options", json_object_get(held, "options"),
                    "multipleAnswers",
                    json_is_true(json_object_get(
                        json_object_get(json_object_get(held, "extra"), "poll"),
                        "multipleAnswers")));
                s_secret_keep(sess, s->id, secret, info);
                json_decref(info);
                free(me);
            }
            free(secret);
            json_object_del(held, "secret_b64");
        }
        return false;
    }
    json_t *data = NULL;
    sw_cmd_t *cmd = sw_wasess_release(sess, s->id, &data);
    if (!s->ok) {
        if (cmd) {
            char *reason =
                s->error == 404
                    ? cm_sprintf("Recipient is not on WhatsApp (%s)",
                                 s->reason ? s->reason : "not found")
                    : cm_sprintf("WhatsApp did not accept the %s: %s", action,
                                 s->reason ? s->reason : "refused");
            sw_cmd_reply(&cmd,
                         s->error == 404 ? 422
                         : s->error      ? 502
                                         : 500,
                         reason, NULL);
            free(reason);
        }
        json_decref(data);
        return true;
    }
    const char *chat = json_string_value(json_object_get(data, "chat"));
    const char *target = json_string_value(json_object_get(data, "target"));
    const char *me = sw_wasess_me_id(sess);
    int64_t ts = s->timestamp ? s->timestamp : cm_now_ms() / 1000;
    const char *text = json_string_value(json_object_get(data, "text"));
    const char *part = s_is_group(chat) ? me : NULL;
    json_t *base =
        s_base(sess, chat, s->id, true, part, ts,
               cm_streq(action, "edit") ? "chat" : action, text, NULL);
    char *key = cm_sprintf("%s|%s|", chat, s->id);
    if (cm_streq(action, "reaction")) {
        json_t *payload =
            s_reaction_payload(json_incref(base), text ? text : "", target);
        s_emit(sess, "message.reaction", key, ts, &payload, NULL, NULL);
    } else if (cm_streq(action, "edit")) {
        json_object_set_new(
            base, "editedMessageId",
            json_string(json_string_value(json_object_get(data, "target_id"))));
        json_t *payload = json_deep_copy(base);
        s_emit(sess, "message.edited", key, ts, &payload, NULL, NULL);
        json_t *body =
            json_pack("{s:s, s:s}", "id", target, "body", text ? text : "");
        sw_session_write(sw_wasess_session(sess), "message.edit", &body, NULL,
                         NULL);
    } else if (cm_streq(action, "revoke")) {
        json_t *before = json_object_get(data, "before");
        json_t *payload =
            json_pack("{s:s, s:O, s:O}", "revokedMessageId",
                      json_string_value(json_object_get(data, "target_id")),
                      "after", base, "_data", json_object_get(base, "_data"));
        if (json_is_object(before)) { //  WAHA leaves out an unknown one
            json_object_set(payload, "before", before);
        }
        s_emit(sess, "message.revoked", key, ts, &payload, NULL, NULL);
    } else if (cm_streq(action, "vote")) {
        json_t *payload = s_vote_payload(
            sess, base, chat,
            json_string_value(json_object_get(data, "target_id")),
            json_is_true(json_object_get(data, "poll_from_me")), NULL,
            json_object_get(data, "votes"), cm_now_ms());
        s_emit(sess, "poll.vote", key, ts, &payload, NULL, NULL);
    }
    free(key);
    if (cmd) {
        if (cm_streq(action, "pin") || cm_streq(action, "unpin")) {
            json_t *ok = json_pack("{s:b, s:O}", "success", 1, "message", base);
            sw_cmd_reply(&cmd, 200, NULL, &ok);
        } else {
            json_t *reply = json_incref(base);
            sw_cmd_reply(&cmd, 200, NULL, &reply);
        }
    }
    json_decref(base);
    json_decref(data);
    return true;
}

//  --------------------------------------------------------------------
//  Received kinds

//  The last event of a received message is stored: send its receipt.
static void
s_stored(sw_session_t *session, int st, void *arg)
{
    sw_wasess_t *sess = sw_wa_sess(session);
    wa_client_t *client = sess ? sw_wasess_client(sess) : NULL;
    if (client) {
        if (st < 200 || st >= 300) {
            cm_log_error("could not store an event; confirming the message "
                         "anyway",
                         "session=\"%s\" st=%d", sw_session_name(session), st);
        }
        wa_client_receipt_commit(client, (uint64_t)(uintptr_t)arg);
    }
}

//  The WAHA id (our view) of the message a received key names, in the
//  chat of `m`. Caller owns return value.
static char *
s_target_id(sw_wasess_t *sess, const wa_client_message_t *m,
            const wa_kinds_key_t *key, bool *ours_p, char **author_p)
{
    const char *me = sw_wasess_me_id(sess);
    bool group = m->is_group;
    bool ours;
    const char *author = NULL;
    if (m->from_me) {
        ours = key->from_me;
    } else if (!group) {
        ours = !key->from_me;
    } else {
        ours = !key->from_me && s_same_user(key->participant, me);
    }
    if (group) {
        author = ours ? me : (key->from_me ? m->participant : key->participant);
    }
    *ours_p = ours;
    if (author_p) {
        *author_p = author ? sw_wamsg_api_jid(author) : NULL;
    }
    return sw_wamsg_id(ours, m->chat, key->id, author);
}

//  The WAMessage base of a received message.
static json_t *
s_received(sw_wasess_t *sess, const wa_client_message_t *m, const char *type,
           const char *body)
{
    json_t *b = s_base(sess, m->chat, m->id, m->from_me, m->participant,
                       m->timestamp, type, body, m->push_name);
    if (m->from_me) {
        json_object_set_new(b, "source", json_string("app"));
    }
    return b;
}

//  An async step of a received message: what to emit once the store
//  answered.
typedef struct {
    wa_client_message_t m; //  copy of the strings we need (owned)
    char *target;          //  WAHA id of the target
    char *target_id;       //  its stanza id
    char *author;          //  its author (API), or NULL
    bool ours;             //  target is ours
    json_t *base;          //  the WAMessage of the message itself
    uint64_t token;        //  receipt token
    uint8_t *raw;          //  the message bytes (votes, responses)
    size_t raw_len;        //  their length
    char *sender_pn;       //  the sender's PN user JID (wire)
} s_pending_t;

static void
s_pending_free(s_pending_t **p_p)
{
    s_pending_t *p = *p_p;
    if (p) {
        free((char *)p->m.id);
        free((char *)p->m.chat);
        free((char *)p->m.participant);
        free(p->target);
        free(p->target_id);
        free(p->author);
        json_decref(p->base);
        free(p->raw);
        free(p->sender_pn);
        free(p);
        *p_p = NULL;
    }
}

static s_pending_t *
s_pending_new(sw_wasess_t *sess, const wa_client_message_t *m,
              const wa_kinds_key_t *key, json_t *base)
{
    s_pending_t *p = cm_alloc(sizeof *p);
    p->m.id = cm_strdup(m->id);
    p->m.chat = cm_strdup(m->chat);
    p->m.participant = m->participant ? cm_strdup(m->participant) : NULL;
    p->m.from_me = m->from_me;
    p->m.is_group = m->is_group;
    p->m.timestamp = m->timestamp;
    p->target = s_target_id(sess, m, key, &p->ours, &p->author);
    p->target_id = cm_strdup(key->id);
    p->base = base;
    p->token = m->token;
    if (m->raw && m->raw_len) {
        p->raw = cm_alloc(m->raw_len);
        memcpy(p->raw, m->raw, m->raw_len);
        p->raw_len = m->raw_len;
    }
    if (m->from_me) {
        p->sender_pn = s_me_wire(sess);
    } else {
        p->sender_pn = s_user_pn(m->sender, m->sender_alt);
    }
    return p;
}

static void
s_pending_emit(sw_wasess_t *sess, s_pending_t *p, const char *event,
               json_t **payload_p)
{
    char *key = cm_sprintf("%s|%s|%s", p->m.chat, p->m.id,
                           p->m.participant ? p->m.participant : "");
    s_emit(sess, event, key, p->m.timestamp, payload_p, s_stored,
           (void *)(uintptr_t)p->token);
    free(key);
}

//  Open a vote or response with the secret entry {secret, info}; emit.
static void
s_open_and_emit(sw_wasess_t *sess, s_pending_t *p, json_t *entry)
{
    wa_message_t *msg = wa_message_decode(p->raw, p->raw_len);
    bool vote = msg && cm_streq(wa_message_type(msg), "poll_vote");
    json_t *info = json_object_get(entry, "info");
    const char *creator = json_string_value(json_object_get(info, "creator"));
    uint8_t *secret = NULL;
    size_t slen = 0;
    const char *b64 = json_string_value(json_object_get(entry, "secret"));
    bool have = b64 && creator &&
                cm_base64_decode(b64, 128, &secret, &slen) == 0 &&
                slen == WA_KINDS_SECRET_LEN;
    if (vote) {
        uint8_t *hashes = NULL;
        size_t n = 0;
        int64_t ts_ms = p->m.timestamp * 1000;
        json_t *selected = NULL;
        if (have && wa_kinds_open_vote(msg, creator, p->sender_pn, secret,
                                       &hashes, &n, &ts_ms) == 0) {
            selected = json_array();
            json_t *options = json_object_get(info, "options");
            for (size_t i = 0; i < n; i++) {
                size_t j;
                json_t *o;
                json_array_foreach(options, j, o)
                {
                    uint8_t h[WA_KINDS_HASH_LEN];
                    const char *name = json_string_value(o);
                    if (name) {
                        wa_kinds_option_hash(name, h);
                        if (!memcmp(h, hashes + i * WA_KINDS_HASH_LEN,
                                    WA_KINDS_HASH_LEN)) {
                            json_array_append_new(selected, json_string(name));
                        }
                    }
                }
            }
            free(hashes);
        }
        json_t *payload = s_vote_payload(sess, p->base, p->m.chat, p->target_id,
                                         p->ours, p->author, selected,
                                         ts_ms ? ts_ms : p->m.timestamp * 1000);
        if (!selected) {
            cm_log_warn("could not open a poll vote", "session=\"%s\" id=%s",
                        sw_wasess_name(sess), p->m.id);
        }
        s_pending_emit(sess, p, selected ? "poll.vote" : "poll.vote.failed",
                       &payload);
        json_decref(selected);
    } else if (msg) {
        int response = 0, guests = 0;
        int64_t ts_ms = 0;
        bool ok = have && wa_kinds_open_event_response(
                              msg, creator, p->sender_pn, secret, &response,
                              &guests, &ts_ms) == 0;
        //  WAHA's EventResponsePayload: the response's WAMessage fields,
        //  eventCreationKey (a MessageDestination of the event) and
        //  eventResponse (null when it could not be opened)
        json_t *payload = json_deep_copy(p->base);
        json_object_set_new(payload, "eventCreationKey",
                            s_destination(sess, p->m.chat, p->target_id,
                                          p->ours, p->author, "event"));
        json_object_set_new(payload, "eventResponse",
                            ok ? json_pack("{s:s, s:I, s:i}", "response",
                                           wa_kinds_response_name(response),
                                           "timestampMs", (json_int_t)ts_ms,
                                           "extraGuestCount", guests)
                               : json_null());
        s_pending_emit(sess, p, ok ? "event.response" : "event.response.failed",
                       &payload);
    }
    if (secret) {
        explicit_bzero(secret, slen);
    }
    free(secret);
    wa_message_destroy(&msg);
}

static void
s_secret_answered(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    s_pending_t *p = (s_pending_t *)arg;
    sw_wasess_t *sess = sw_wa_sess(session);
    cm_msg_t *reply = *reply_p;
    if (sess) {
        json_t *entry = NULL;
        if (cm_msg_status(reply) == 200) {
            entry =
                json_pack("{s:s?, s:O?}", "secret", cm_msg_str(reply, "secret"),
                          "info", json_object_get(cm_msg_body(reply), "info"));
            zhashx_update(s_secrets(sess), p->target_id, json_incref(entry));
        }
        s_open_and_emit(sess, p, entry);
        json_decref(entry);
    }
    cm_msg_destroy(reply_p);
    s_pending_free(&p);
}

static void
s_before_answered(sw_session_t *session, cm_msg_t **reply_p, void *arg)
{
    s_pending_t *p = (s_pending_t *)arg;
    sw_wasess_t *sess = sw_wa_sess(session);
    cm_msg_t *reply = *reply_p;
    if (sess) {
        json_t *before = cm_msg_status(reply) == 200
                             ? json_object_get(cm_msg_body(reply), "message")
                             : NULL;
        json_t *payload = json_pack("{s:s, s:O, s:O}", "revokedMessageId",
                                    p->target_id, "after", p->base, "_data",
                                    json_object_get(p->base, "_data"));
        if (json_is_object(before)) { //  WAHA leaves out an unknown one
            json_object_set(payload, "before", before);
        }
        s_pending_emit(sess, p, "message.revoked", &payload);
    }
    cm_msg_destroy(reply_p);
    s_pending_free(&p);
}

int
sw_wakinds_on_message(sw_wasess_t *sess, const wa_client_message_t *m)
{
    if (!m->message) {
        return -1;
    }
    wa_kinds_key_t key;
    if (wa_kinds_target(m->message, &key) != 0) {
        return -1;
    }
    const char *type = m->type;
    const char *edit = wa_kinds_edit_text(m->message);
    void *token = (void *)(uintptr_t)m->token;
    char *evkey = cm_sprintf("%s|%s|%s", m->chat, m->id,
                             m->participant ? m->participant : "");
    int rc = -1;
    if (cm_streq(type, "reaction")) {
        const char *target_id = NULL, *text = NULL;
        wa_message_reaction(m->message, &target_id, &text);
        bool ours = false;
        char *target = s_target_id(sess, m, &key, &ours, NULL);
        json_t *payload = s_reaction_payload(
            s_received(sess, m, "reaction", text), text ? text : "", target);
        s_emit(sess, "message.reaction", evkey, m->timestamp, &payload,
               s_stored, token);
        free(target);
        rc = 1;
    } else if (edit) {
        bool ours = false;
        char *target = s_target_id(sess, m, &key, &ours, NULL);
        json_t *payload = s_received(sess, m, "chat", edit);
        json_object_set_new(payload, "editedMessageId", json_string(key.id));
        //  The stored message takes the new text first
        json_t *body = json_pack("{s:s, s:s}", "id", target, "body", edit);
        sw_session_write(sw_wasess_session(sess), "message.edit", &body, NULL,
                         NULL);
        s_emit(sess, "message.edited", evkey, m->timestamp, &payload, s_stored,
               token);
        free(target);
        rc = 1;
    } else if (cm_streq(type, "revoked")) {
        s_pending_t *p =
            s_pending_new(sess, m, &key, s_received(sess, m, "revoked", NULL));
        cm_msg_t *get = cm_msg_new("message.get");
        cm_msg_set_str(get, "session", sw_wasess_name(sess));
        cm_msg_set_str(get, "id", p->target);
        if (sw_session_store_send(sw_wasess_session(sess), &get,
                                  SW_WAKINDS_STORE_MS, s_before_answered,
                                  p) != 0) {
            s_pending_free(&p);
        }
        rc = 1;
    } else if (cm_streq(type, "poll_vote") ||
               cm_streq(type, "event_response")) {
        s_pending_t *p =
            s_pending_new(sess, m, &key, s_received(sess, m, type, NULL));
        json_t *entry = (json_t *)zhashx_lookup(s_secrets(sess), key.id);
        if (entry) {
            s_open_and_emit(sess, p, entry);
            s_pending_free(&p);
        } else {
            cm_msg_t *get = cm_msg_new("message.secret_get");
            cm_msg_set_str(get, "session", sw_wasess_name(sess));
            cm_msg_set_str(get, "id", key.id);
            if (sw_session_store_send(sw_wasess_session(sess), &get,
                                      SW_WAKINDS_STORE_MS, s_secret_answered,
                                      p) != 0) {
                s_pending_free(&p);
            }
        }
        rc = 1;
    }
    free(evkey);
    return rc;
}

json_t *
sw_wakinds_on_content(sw_wasess_t *sess, const wa_client_message_t *m)
{
    if (!m->message) {
        return NULL;
    }
    json_t *extra = wa_kinds_describe(m->message);
    //  replyTo names the quoted sender in API form, and mentions too: a
    //  LID whose number is known (ours included) as that number, as
    //  chats and senders are
    wa_client_t *client = sw_wasess_client(sess);
    json_t *r = json_object_get(extra, "replyTo");
    const char *part = json_string_value(json_object_get(r, "participant"));
    if (part) {
        char *api = s_api_pn(client, part);
        json_object_set_new(r, "participant", json_string(api));
        free(api);
    }
    json_t *mentions = json_object_get(extra, "mentionedIds");
    size_t i;
    json_t *v;
    json_array_foreach(mentions, i, v)
    {
        char *api = s_api_pn(client, json_string_value(v));
        json_array_set_new(mentions, i, json_string(api));
        free(api);
    }
    uint32_t duration = 0;
    int pin = wa_kinds_pin(m->message, &duration);
    wa_kinds_key_t key;
    if (pin > 0 && wa_kinds_target(m->message, &key) == 0) {
        bool ours = false;
        char *target = s_target_id(sess, m, &key, &ours, NULL);
        json_object_set_new(extra, "pin",
                            json_pack("{s:s, s:s, s:i}", "messageId", target,
                                      "type", pin == 1 ? "PIN" : "UNPIN",
                                      "duration", (int)duration));
        free(target);
    }
    //  Keep the secret of a poll or event for its votes and responses
    uint8_t secret[WA_KINDS_SECRET_LEN];
    json_t *poll = json_object_get(extra, "poll");
    if ((poll || json_object_get(extra, "event")) &&
        wa_kinds_secret(m->message, secret) == 0) {
        char *creator =
            m->from_me ? s_me_wire(sess) : s_user_pn(m->sender, m->sender_alt);
        char *chat = sw_wamsg_api_jid(m->chat);
        json_t *options = json_object_get(poll, "options");
        json_t *info = json_pack(
            "{s:s, s:s, s:s, s:o, s:b}", "kind", poll ? "poll" : "event",
            "chat", chat, "creator", creator, "options",
            options ? json_incref(options) : json_array(), "multipleAnswers",
            json_is_true(json_object_get(poll, "multipleAnswers")));
        s_secret_keep(sess, m->id, secret, info);
        json_decref(info);
        free(chat);
        free(creator);
        explicit_bzero(secret, sizeof secret);
    }
    if (json_object_size(extra) == 0) {
        json_decref(extra);
        return NULL;
    }
    return extra;
}

//  --------------------------------------------------------------------
//  Self test: command validation and the events of received kinds

static const sw_wacmd_t t_table[] = {
    SW_WAKINDS_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

void
sw_wakinds_test(bool verbose)
{
    printf(" * sw_wakinds: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_session_t *session = sw_wasess_session(sess);
    sw_wasess_set_me(sess, "15550001111@c.us", NULL, NULL);
    //  Every command wants a WORKING session
    const char *types[] = {
        "message.send_rich", "message.send_location", "message.send_contacts",
        "message.send_poll", "message.send_event",    "message.send_poll_vote",
        "message.react",     "message.edit",          "message.revoke",
        "message.pin",       "message.forward",       NULL};
    for (int i = 0; types[i]; i++) {
        cm_msg_t *reply = sw_wasess_rig_call(
            rig, types[i], json_pack("{s:s}", "chatId", "15550002222@c.us"),
            1000);
        assert(reply && cm_msg_status(reply) == 409);
        cm_msg_destroy(&reply);
    }

    //  A received reaction: message.reaction naming our message
    uint8_t *buf = NULL;
    size_t len = 0;
    assert(wa_message_build_reaction("15550001111@s.whatsapp.net", false,
                                     "3EB0MINE", NULL, "\xf0\x9f\x91\x8d", 1,
                                     &buf, &len) == 0);
    wa_message_t *msg = wa_message_decode(buf, len);
    wa_client_message_t m = {0};
    m.id = "R1";
    m.chat = "15550002222@s.whatsapp.net";
    m.sender = "15550002222@s.whatsapp.net";
    m.timestamp = 1700000000;
    m.type = wa_message_type(msg);
    m.message = msg;
    m.raw = buf;
    m.raw_len = len;
    size_t queued = sw_session_queued(session);
    assert(sw_wakinds_on_message(sess, &m) == 1);
    assert(sw_session_queued(session) == queued + 1);
    wa_message_destroy(&msg);
    free(buf);

    //  A received edit: the stored message is updated, message.edited
    wa_kinds_key_t theirs = {"15550001111@s.whatsapp.net", true, "3EB0THEIRS",
                             NULL};
    assert(wa_kinds_build_edit(&theirs, "fixed", 1, &buf, &len) == 0);
    msg = wa_message_decode(buf, len);
    m.id = "E1";
    m.type = wa_message_type(msg);
    m.message = msg;
    queued = sw_session_queued(session);
    assert(sw_wakinds_on_message(sess, &m) == 1);
    assert(sw_session_queued(session) == queued + 2);
    wa_message_destroy(&msg);
    free(buf);

    //  A poll: its fields and its secret kept (memory and a store write)
    uint8_t secret[WA_KINDS_SECRET_LEN];
    memset(secret, 3, sizeof secret);
    const char *opts[] = {"Yes", "No"};
    assert(wa_kinds_build_poll("Q?", opts, 2, false, secret, NULL, &buf,
                               &len) == 0);
    msg = wa_message_decode(buf, len);
    m.id = "P1";
    m.type = wa_message_type(msg);
    m.message = msg;
    assert(sw_wakinds_on_message(sess, &m) == -1);
    queued = sw_session_queued(session);
    json_t *extra = sw_wakinds_on_content(sess, &m);
    assert(sw_session_queued(session) == queued + 1);
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(extra, "poll"), "name")),
                    "Q?"));
    json_decref(extra);
    wa_message_destroy(&msg);
    free(buf);

    //  Their vote on it, opened with the kept secret: poll.vote
    wa_kinds_key_t pk = {"15550001111@s.whatsapp.net", false, "P1", NULL};
    const char *pick[] = {"No"};
    assert(wa_kinds_build_vote(&pk, "15550002222@s.whatsapp.net",
                               "15550002222@s.whatsapp.net", secret, pick, 1,
                               5000, &buf, &len) == 0);
    msg = wa_message_decode(buf, len);
    m.id = "V1";
    m.type = wa_message_type(msg);
    m.message = msg;
    m.raw = buf;
    m.raw_len = len;
    queued = sw_session_queued(session);
    assert(sw_wakinds_on_message(sess, &m) == 1);
    assert(sw_session_queued(session) == queued + 1);
    wa_message_destroy(&msg);
    free(buf);

    //  WAHA's MessageDestination of our event in a chat: a serialized
    //  id, us as from, no participant outside groups
    json_t *dest = s_destination(sess, "15550002222@s.whatsapp.net", "EV1",
                                 true, NULL, "event");
    json_t *want = json_pack(
        "{s:s, s:s, s:b, s:s}", "id", "true_15550002222@c.us_EV1", "from",
        "15550001111@c.us", "fromMe", 1, "to", "15550002222@c.us");
    assert(json_equal(dest, want));
    json_decref(dest);
    json_decref(want);

    //  A location is an ordinary message with its fields
    assert(wa_kinds_build_location(1.5, 2.5, "Here", NULL, NULL, &buf, &len) ==
           0);
    msg = wa_message_decode(buf, len);
    m.id = "L1";
    m.type = wa_message_type(msg);
    m.message = msg;
    assert(sw_wakinds_on_message(sess, &m) == -1);
    extra = sw_wakinds_on_content(sess, &m);
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(extra, "location"), "latitude")),
                    "1.5"));
    json_decref(extra);
    wa_message_destroy(&msg);
    free(buf);

    //  Target ids in our view: their reaction to our message
    wa_kinds_key_t k = {"15550001111@s.whatsapp.net", false, "X", NULL};
    m.from_me = false;
    m.is_group = false;
    bool ours = false;
    char *t = s_target_id(sess, &m, &k, &ours, NULL);
    assert(ours && cm_streq(t, "true_15550002222@c.us_X"));
    free(t);
    char *pn = s_user_pn("123456789012345:2@lid", "15550002222@s.whatsapp.net");
    assert(cm_streq(pn, "15550002222@s.whatsapp.net"));
    free(pn);

    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
