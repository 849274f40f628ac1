/*  gw_kinds - the message kinds and the actions on messages

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"
#include "wa/wa_crypto.h"

static const char *const s_working[] = {"WORKING", NULL};

//  What a command needs read from the store before it goes.
#define S_QUOTE 1    //  reply_to: quote the stored message
#define S_TARGET 2   //  messageId names a stored message (404 if not)
#define S_MINE 4     //  ... one this session sent
#define S_FORWARD 8  //  ... put whole into `message`
#define S_BEFORE 16  //  ... put whole into `target`
#define S_PREVIEW 32 //  preview {url}: media-service fills it (media.preview)
#define S_THUMB 64   //  preview.image: media-service makes the thumbnail
#define S_KEY 128    //  ... its key: bare messageId, fromMe, messageTimestamp

//  --------------------------------------------------------------------
//  Inputs

//  Input `name` as a JSON object or array (`type`), also given as JSON
//  text (Wawp's query form). New reference, or NULL when absent; -1
//  in *bad when present but not of that type.
static json_t *
s_json_input(gw_req_t *req, const char *name, json_type type, bool *bad)
{
    json_t *v = gw_req_input(req, name);
    *bad = false;
    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (json_typeof(v) == type) {
        return json_incref(v);
    }
    if (json_is_string(v) && json_string_length(v) <= 256 * 1024) {
        json_t *parsed = json_loads(json_string_value(v), 0, NULL);
        if (parsed && json_typeof(parsed) == type) {
            return parsed;
        }
        json_decref(parsed);
    }
    *bad = true;
    return NULL;
}

//  A number input (JSON number or numeric text). 0, 1 absent, -1 bad.
static int
s_number(gw_req_t *req, const char *name, double *out)
{
    json_t *v = gw_req_input(req, name);
    if (!v || json_is_null(v)) {
        return 1;
    }
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 64) {
        return -1;
    }
    char *end = NULL;
    *out = strtod(s, &end);
    return end && *end == 0 && isfinite(*out) ? 0 : -1;
}

//  The chat of `field`, normalised; NULL after a 400.
static char *
s_chat(gw_req_t *req, const char *field)
{
    const char *text = gw_req_input_str(req, field);
    char *chat = gw_messages_chat_id_of(text, GW_CHAT_PERSON | GW_CHAT_GROUP);
    if (!chat) {
        char *msg = text && *text
                        ? cm_sprintf("%s must be a phone number or a chat id "
                                     "such as 12132132130@c.us",
                                     field)
                        : cm_sprintf("%s is required", field);
        gw_req_fail_invalid(req, msg);
        free(msg);
    }
    return chat;
}

//  Common fields of a send: reply_to and id into body. -1 after a 400.
static int
s_common(gw_req_t *req, json_t *body)
{
    const char *reply_to = NULL, *id = NULL;
    if (gw_req_input_opt_str(req, "reply_to", 512, &reply_to) ||
        gw_req_input_opt_str(req, "id", 128, &id)) {
        return -1;
    }
    if (reply_to && *reply_to) {
        json_object_set_new(body, "reply_to", json_string(reply_to));
    }
    if (id && *id) {
        for (const char *p = id; *p; p++) {
            if ((unsigned char)*p <= ' ' || *p == '"') {
                gw_req_fail_invalid(req, "id must be a message id");
                return -1;
            }
        }
        json_object_set_new(body, "id", json_string(id));
    }
    return 0;
}

//  --------------------------------------------------------------------
//  Link previews: media-service reads the page

char *
gw_kinds_first_url(const char *text)
{
    for (const char *p = text; p && *p; p++) {
        bool http = strncasecmp(p, "http://", 7) == 0;
        if ((!http && strncasecmp(p, "https://", 8) != 0) ||
            (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '/'))) {
            continue;
        }
        size_t n = strcspn(p, " \t\r\n<>\"");
        //  Punctuation that ends a sentence is not part of the link
        while (n > 0 && strchr(".,;:!?)]}'*", p[n - 1])) {
            n--;
        }
        if (n > (http ? 7u : 8u) && n <= GW_KINDS_PREVIEW_URL_MAX) {
            return cm_strndup(p, n);
        }
    }
    return NULL;
}

//  The linkPreview and linkPreviewHighQuality inputs: 0 with *on (true
//  when absent, as WAHA) and *hq (hq_default when absent), or -1 after a
//  400.
static int
s_link_preview_on(gw_req_t *req, bool *on, bool *hq, bool hq_default)
{
    static const char *const names[] = {"linkPreview",
                                        "linkPreviewHighQuality"};
    for (int i = 0; i < 2; i++) {
        json_t *v = gw_req_input(req, names[i]);
        const char *t = json_string_value(v);
        bool value = i == 0 ? true : hq_default;
        if (json_is_boolean(v)) {
            value = json_is_true(v);
        } else if (t && (cm_streq(t, "true") || cm_streq(t, "false"))) {
            value = cm_streq(t, "true");
        } else if (v && !json_is_null(v)) {
            char *msg = cm_sprintf("%s must be true or false", names[i]);
            gw_req_fail_invalid(req, msg);
            free(msg);
            return -1;
        }
        *(i == 0 ? on : hq) = value;
    }
    return 0;
}

//  Fill body.preview {url} from the page (media.preview): title and
//  description, and *thumb_p the JPEG thumbnail when there is one. A
//  page that cannot be read (refused or unreachable address, not HTML,
//  nothing to show, too slow) leaves the text without a preview.
static void
s_preview_fetch(gw_req_t *req, json_t *body, zframe_t **thumb_p)
{
    json_t *preview = json_object_get(body, "preview");
    const char *url = json_string_value(json_object_get(preview, "url"));
    cm_msg_t *msg = cm_msg_new("media.preview");
    cm_msg_set_str(msg, "url", url ? url : "");
    cm_msg_t *reply =
        gw_req_call(req, GW_DEST_MEDIA, &msg, GW_KINDS_PREVIEW_WAIT_MS);
    const char *title = cm_msg_str(reply, "title");
    const char *desc = cm_msg_str(reply, "description");
    if (cm_msg_status(reply) != 200 || (!title && !desc)) {
        cm_log_info("link preview skipped", "st=%d reason=\"%s\"",
                    cm_msg_status(reply),
                    cm_msg_reason(reply) ? cm_msg_reason(reply) : "");
        json_object_del(body, "preview");
    } else {
        if (title) {
            json_object_set_new(preview, "title", json_string(title));
        }
        if (desc) {
            json_object_set_new(preview, "description", json_string(desc));
        }
        zframe_t *jpeg = cm_msg_bool(reply, "thumbnail", false)
                             ? cm_msg_blob(reply, 0)
                             : NULL;
        if (jpeg && zframe_size(jpeg) <= GW_KINDS_PREVIEW_THUMB_MAX) {
            *thumb_p = zframe_dup(jpeg);
        }
        //  linkPreviewHighQuality: the worker uploads the page's image
        const char *image = cm_msg_str(reply, "image");
        if (json_is_true(json_object_get(preview, "highQuality")) && image &&
            jpeg) {
            json_object_set_new(preview, "highQuality",
                                json_pack("{s:s}", "url", image));
        }
    }
    if (!json_is_object(json_object_get(preview, "highQuality"))) {
        json_object_del(preview, "highQuality");
    }
    cm_msg_destroy(&reply);
}

void
gw_kinds_preview_page(gw_req_t *req, json_t *body, zframe_t **thumb_p)
{
    s_preview_fetch(req, body, thumb_p);
}

//  The JPEG thumbnail of a custom preview's image (preview.image {url}
//  or {data}, taken out of the body) into *thumb_p; an image that cannot
//  be read leaves the preview without one. With preview.highQuality
//  (true) the image goes to the worker to upload too: highQuality {url},
//  or {data: true} and its bytes in *image_p.
static void
s_preview_thumb(gw_req_t *req, json_t *body, zframe_t **thumb_p,
                zframe_t **image_p)
{
    json_t *preview = json_object_get(body, "preview");
    json_t *image = json_incref(json_object_get(preview, "image"));
    json_object_del(preview, "image");
    bool hq = json_is_true(json_object_get(preview, "highQuality"));
    json_object_del(preview, "highQuality");
    const char *url = json_string_value(json_object_get(image, "url"));
    const char *data = json_string_value(json_object_get(image, "data"));
    cm_msg_t *msg = cm_msg_new("media.thumbnail");
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (url) {
        cm_msg_set(msg, "file", json_pack("{s:s}", "url", url));
    } else if (data && cm_base64_decode(data, GW_KINDS_PREVIEW_IMAGE_MAX,
                                        &bytes, &len) == 0) {
        cm_msg_add_blob(msg, bytes, len);
    }
    cm_msg_t *reply =
        gw_req_call(req, GW_DEST_MEDIA, &msg, GW_KINDS_PREVIEW_WAIT_MS);
    zframe_t *jpeg = cm_msg_status(reply) == 200 ? cm_msg_blob(reply, 0) : NULL;
    if (jpeg && zframe_size(jpeg) <= GW_KINDS_PREVIEW_THUMB_MAX) {
        *thumb_p = zframe_dup(jpeg);
        //  an image media-service could read: upload it in full
        if (hq && url) {
            json_object_set_new(preview, "highQuality",
                                json_pack("{s:s}", "url", url));
        } else if (hq && bytes) {
            json_object_set_new(preview, "highQuality",
                                json_pack("{s:b}", "data", 1));
            *image_p = zframe_new(bytes, len);
        }
    } else {
        cm_log_info("link preview image skipped", "st=%d reason=\"%s\"",
                    cm_msg_status(reply),
                    cm_msg_reason(reply) ? cm_msg_reason(reply) : "");
    }
    free(bytes);
    json_decref(image);
    cm_msg_destroy(&reply);
}

//  --------------------------------------------------------------------
//  Running a command

//  The stored message `id`, or NULL (404 answered when `required`).
//  A send is answered once WhatsApp took it, and its row is stored just
//  after: a message of ours ("true_...") not found yet is asked for again
//  for up to GW_KINDS_OWN_WAIT_MS, so that a client may act on what it
//  was just told it sent.
static json_t *
s_stored(gw_req_t *req, const char *name, const char *id, bool required,
         bool *failed)
{
    *failed = false;
    bool ours = strncmp(id, "true_", 5) == 0;
    int64_t until = cm_mono_ms() + GW_KINDS_OWN_WAIT_MS;
    cm_msg_t *reply = NULL;
    int st;
    while (true) {
        cm_msg_t *msg = cm_msg_new("message.get");
        cm_msg_set_str(msg, "session", name);
        cm_msg_set_str(msg, "id", id);
        reply = gw_req_call(req, GW_DEST_STORE, &msg, 0);
        st = cm_msg_status(reply);
        if (st != 404 || !ours || cm_mono_ms() >= until) {
            break;
        }
        cm_msg_destroy(&reply);
        usleep(GW_KINDS_OWN_POLL_MS * 1000);
    }
    json_t *m = NULL;
    if (st == 200) {
        m = json_incref(json_object_get(cm_msg_body(reply), "message"));
    } else if (st == 404) {
        if (required) {
            gw_req_fail(req, 404, NULL, "Message not found: %s", id);
            *failed = true;
        }
    } else {
        gw_req_fail_bus(req, reply, "store-service");
        *failed = true;
    }
    cm_msg_destroy(&reply);
    return m;
}

json_t *
gw_kinds_quoted(gw_req_t *req, const char *name, const char *reply_to,
                bool *failed)
{
    assert(req && name && reply_to && failed);
    json_t *q = s_stored(req, name, reply_to, false, failed);
    if (!q) {
        return NULL;
    }
    json_t *quoted = json_object();
    json_object_set(quoted, "id", json_object_get(q, "id"));
    json_object_set(quoted, "body", json_object_get(q, "body"));
    json_object_set(quoted, "hasMedia", json_object_get(q, "hasMedia"));
    json_t *part = json_object_get(q, "participant");
    json_object_set(quoted, "participant",
                    json_is_string(part) ? part : json_object_get(q, "from"));
    json_decref(q);
    return quoted;
}

//  The key of stored message t into body: messageId bare (WAHA's id is
//  "<fromMe>_<chat>_<id>[_<participant>]"), fromMe, messageTimestamp
//  (ms). Returns 0, or -1 after a 500.
static int
s_key(gw_req_t *req, json_t *body, const json_t *t)
{
    const char *full = json_string_value(json_object_get(t, "id"));
    const char *rest = full ? strchr(full, '_') : NULL;
    const char *sep = rest ? strchr(rest + 1, '_') : NULL;
    if (!sep || !sep[1]) {
        gw_req_fail(req, 500, NULL, "stored message id %s has no key",
                    full ? full : "?");
        return -1;
    }
    char *bare = cm_strdup(sep + 1);
    char *tail = strchr(bare, '_');
    if (tail) {
        *tail = 0;
    }
    json_object_set_new(body, "messageId", json_string(bare));
    free(bare);
    json_object_set_new(
        body, "fromMe",
        json_boolean(json_is_true(json_object_get(t, "fromMe"))));
    json_t *ts = json_object_get(t, "timestamp");
    if (json_is_integer(ts) && json_integer_value(ts) > 0) {
        json_object_set_new(body, "messageTimestamp",
                            json_integer(json_integer_value(ts) * 1000));
    }
    return 0;
}

//  Send `type` with body (taken) for session `name`, after the store
//  reads `flags` asks for; answer `success` with the worker's body.
static void
s_run(gw_req_t *req, const char *name, const char *type, json_t *body,
      int flags, int success)
{
    json_t *session = gw_messages_session(req, name);
    bool ok = session && gw_messages_status_is(req, session, s_working);
    bool failed = false;
    if (ok && (flags & S_QUOTE)) {
        const char *reply_to =
            json_string_value(json_object_get(body, "reply_to"));
        json_t *quoted =
            reply_to ? gw_kinds_quoted(req, name, reply_to, &failed) : NULL;
        if (quoted) {
            //  the stored id is the full one (chat, participant)
            json_object_set(body, "reply_to", json_object_get(quoted, "id"));
            json_object_set_new(body, "quoted", quoted);
        }
        ok = !failed;
    }
    if (ok && (flags & S_TARGET)) {
        const char *field = json_object_get(body, "pollMessageId")
                                ? "pollMessageId"
                                : "messageId";
        const char *id = json_string_value(json_object_get(body, field));
        json_t *t = s_stored(req, name, id, true, &failed);
        ok = t != NULL;
        if (ok && (flags & S_MINE) &&
            !json_is_true(json_object_get(t, "fromMe"))) {
            gw_req_fail_invalid(req, "messageId names a message another "
                                     "user sent: only your own messages can "
                                     "be edited");
            ok = false;
        }
        if (ok && cm_streq(field, "pollMessageId") &&
            !json_is_object(json_object_get(t, "poll"))) {
            gw_req_fail_invalid(req, "pollMessageId names no poll");
            ok = false;
        }
        if (ok && cm_streq(field, "pollMessageId")) {
            //  every vote must be an option of the poll
            json_t *options =
                json_object_get(json_object_get(t, "poll"), "options");
            size_t i, j;
            json_t *v, *o;
            json_array_foreach(json_object_get(body, "votes"), i, v)
            {
                bool known = false;
                json_array_foreach(options, j, o)
                {
                    known = known || json_equal(o, v);
                }
                if (!known && ok) {
                    char *msg = cm_sprintf("votes: \"%s\" is not an option "
                                           "of the poll",
                                           json_string_value(v));
                    gw_req_fail_invalid(req, msg);
                    free(msg);
                    ok = false;
                }
            }
        }
        if (ok) {
            json_object_set(body, field, json_object_get(t, "id"));
            if (flags & S_FORWARD) {
                json_object_set(body, "message", t);
            }
            if (flags & S_BEFORE) {
                json_object_set(body, "target", t);
            }
            if (flags & S_KEY) {
                ok = s_key(req, body, t) == 0;
            }
        }
        json_decref(t);
    }
    zframe_t *thumb = NULL, *image = NULL;
    if (ok && (flags & S_PREVIEW)) {
        s_preview_fetch(req, body, &thumb);
    }
    if (ok && (flags & S_THUMB)) {
        s_preview_thumb(req, body, &thumb, &image);
    }
    if (ok) {
        cm_msg_t *msg = cm_msg_new(type);
        cm_msg_set_body(msg, &body);
        if (thumb || image) {
            //  blob 0 the thumbnail (maybe empty), blob 1 the full image
            zframe_t *t = thumb ? thumb : zframe_new(NULL, 0);
            thumb = NULL;
            cm_msg_add_frame(msg, &t);
        }
        if (image) {
            cm_msg_add_frame(msg, &image);
        }
        cm_msg_t *reply = gw_messages_command_msg(req, session, &msg, 0);
        if (reply) {
            json_t *out = json_incref(cm_msg_body(reply));
            gw_req_reply(req, success, &out);
            cm_msg_destroy(&reply);
        }
    }
    zframe_destroy(&thumb);
    zframe_destroy(&image);
    json_decref(body);
    json_decref(session);
}

//  The session of each family of routes; NULL after a 400/404.
static char *
s_name_waha(gw_req_t *req)
{
    const char *name = gw_messages_session_name(req);
    return name ? cm_strdup(name) : NULL;
}

//  {session}, or a /v2 form's instance
static char *
s_name_path(gw_req_t *req)
{
    const char *name = gw_sessions_path_name(req);
    return name ? cm_strdup(name) : NULL;
}

//  --------------------------------------------------------------------
//  Location

static void
s_location(gw_req_t *req, char *name, const char *address_field, int success)
{
    char *chat = name ? s_chat(req, "chatId") : NULL;
    if (!chat) {
        free(name);
        return;
    }
    double lat = 0, lng = 0;
    int rl = s_number(req, "latitude", &lat);
    int rg = s_number(req, "longitude", &lng);
    const char *title = NULL, *address = NULL;
    json_t *body = json_pack("{s:s}", "chatId", chat);
    if (rl != 0 || lat < -90 || lat > 90) {
        gw_req_fail_invalid(req, rl == 1 ? "latitude is required"
                                         : "latitude must be a number "
                                           "between -90 and 90");
    } else if (rg != 0 || lng < -180 || lng > 180) {
        gw_req_fail_invalid(req, rg == 1 ? "longitude is required"
                                         : "longitude must be a number "
                                           "between -180 and 180");
    } else if (gw_req_input_opt_str(req, "title", GW_KINDS_TEXT_MAX, &title) ==
                   0 &&
               gw_req_input_opt_str(req, address_field, GW_KINDS_TEXT_MAX,
                                    &address) == 0 &&
               s_common(req, body) == 0) {
        json_object_set_new(body, "latitude", json_real(lat));
        json_object_set_new(body, "longitude", json_real(lng));
        if (title && *title) {
            json_object_set_new(body, "title", json_string(title));
        }
        if (address && *address) {
            json_object_set_new(body, "address", json_string(address));
        }
        s_run(req, name, "message.send_location", body, S_QUOTE, success);
        body = NULL;
    }
    json_decref(body);
    free(chat);
    free(name);
}

void
gw_kinds_send_location(gw_req_t *req)
{
    s_location(req, s_name_waha(req), "address", 201);
}

void
gw_kinds_wawp_send_location(gw_req_t *req)
{
    //  Wawp calls the address `message`
    s_location(req, gw_sessions_wawp_instance(req),
               gw_req_input(req, "message") ? "message" : "address", 200);
}

//  --------------------------------------------------------------------
//  Contacts

//  The value of vCard property `prop` (e.g. "FN") in card, or NULL.
//  Caller owns return value.
static char *
s_vcard_prop(const char *card, const char *prop)
{
    size_t n = strlen(prop);
    for (const char *line = card; line && *line;) {
        const char *end = strpbrk(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n && strncasecmp(line, prop, n) == 0 &&
            (line[n] == ':' || line[n] == ';')) {
            const char *colon = memchr(line, ':', len);
            if (colon) {
                char *v =
                    cm_strndup(colon + 1, len - (size_t)(colon + 1 - line));
                for (char *p = v; *p; p++) {
                    if (*p != ' ' && *p != ';') {
                        return v;
                    }
                }
                free(v);
            }
        }
        if (!end) {
            break;
        }
        line = end + 1;
    }
    return NULL;
}

//  vCard lines take no line breaks; backslash-escape what the format
//  reserves.
static char *
s_vcard_text(const char *s)
{
    size_t n = strlen(s);
    char *out = cm_alloc(2 * n + 1);
    char *o = out;
    for (const char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *o++ = ' ';
            continue;
        }
        if (*p == ',' || *p == ';' || *p == '\\') {
            *o++ = '\\';
        }
        *o++ = *p;
    }
    *o = 0;
    return out;
}

//  One contact of the request as {name, vcard}, or NULL after a 400.
static json_t *
s_contact(gw_req_t *req, json_t *c, size_t i)
{
    char *msg = NULL;
    json_t *out = NULL;
    const char *vcard = json_string_value(json_object_get(c, "vcard"));
    if (!json_is_object(c)) {
        msg = cm_sprintf("contacts[%zu] must be an object", i);
    } else if (vcard) {
        char *fn = strlen(vcard) <= GW_KINDS_VCARD_MAX
                       ? s_vcard_prop(vcard, "FN")
                       : NULL;
        if (strlen(vcard) > GW_KINDS_VCARD_MAX) {
            msg = cm_sprintf("contacts[%zu].vcard is longer than %d bytes", i,
                             GW_KINDS_VCARD_MAX);
        } else if (!strstr(vcard, "BEGIN:VCARD") ||
                   !strstr(vcard, "END:VCARD")) {
            msg = cm_sprintf("contacts[%zu].vcard must be a vCard "
                             "(BEGIN:VCARD ... END:VCARD)",
                             i);
        } else if (!fn) {
            msg = cm_sprintf("contacts[%zu].vcard has no name (FN)", i);
        } else {
            out = json_pack("{s:s, s:s}", "name", fn, "vcard", vcard);
        }
        free(fn);
    } else {
        const char *full = json_string_value(json_object_get(c, "fullName"));
        const char *org = json_string_value(json_object_get(c, "organization"));
        const char *phone =
            json_string_value(json_object_get(c, "phoneNumber"));
        const char *waid = json_string_value(json_object_get(c, "whatsappId"));
        char digits[32] = "";
        size_t nd = 0;
        for (const char *p = phone ? phone : ""; *p && nd < 20; p++) {
            if (isdigit((unsigned char)*p)) {
                digits[nd++] = *p;
            }
        }
        digits[nd] = 0;
        if (!full || !*full || strlen(full) > GW_KINDS_TEXT_MAX) {
            msg = cm_sprintf("contacts[%zu].fullName is required (1 to %d "
                             "bytes)",
                             i, GW_KINDS_TEXT_MAX);
        } else if (!phone || nd < 3 || strlen(phone) > 32) {
            msg = cm_sprintf("contacts[%zu].phoneNumber must be a phone "
                             "number",
                             i);
        } else if ((org && strlen(org) > GW_KINDS_TEXT_MAX) ||
                   (waid && strlen(waid) > 32)) {
            msg = cm_sprintf("contacts[%zu]: organization or whatsappId too "
                             "long",
                             i);
        } else {
            char *fn = s_vcard_text(full);
            char *o = org ? s_vcard_text(org) : NULL;
            char *p = s_vcard_text(phone);
            char *card = cm_sprintf(
                "BEGIN:VCARD\nVERSION:3.0\nFN:%s\n%s%s%sTEL;type=CELL;"
                "type=VOICE;waid=%s:%s\nEND:VCARD",
                fn, o ? "ORG:" : "", o ? o : "", o ? ";\n" : "",
                waid && *waid ? waid : digits, p);
            out = json_pack("{s:s, s:s}", "name", full, "vcard", card);
            free(card);
            free(p);
            free(o);
            free(fn);
        }
    }
    if (msg) {
        gw_req_fail_invalid(req, msg);
        free(msg);
    }
    return out;
}

static void
s_contacts(gw_req_t *req, char *name, int success)
{
    char *chat = name ? s_chat(req, "chatId") : NULL;
    if (!chat) {
        free(name);
        return;
    }
    bool bad = false;
    json_t *contacts = s_json_input(req, "contacts", JSON_ARRAY, &bad);
    json_t *list = json_array();
    json_t *body = json_pack("{s:s}", "chatId", chat);
    bool ok = true;
    if (!contacts) {
        gw_req_fail_invalid(req, bad ? "contacts must be an array"
                                     : "contacts is required");
        ok = false;
    } else if (json_array_size(contacts) == 0 ||
               json_array_size(contacts) > GW_KINDS_CONTACTS_MAX) {
        gw_req_fail_invalid(req, "contacts must hold 1 to 32 contacts");
        ok = false;
    }
    size_t i;
    json_t *c;
    json_array_foreach(contacts, i, c)
    {
        if (!ok) {
            break;
        }
        json_t *one = s_contact(req, c, i);
        if (!one) {
            ok = false;
        } else {
            json_array_append_new(list, one);
        }
    }
    if (ok && s_common(req, body) == 0) {
        json_object_set(body, "contacts", list);
        s_run(req, name, "message.send_contacts", body, S_QUOTE, success);
        body = NULL;
    }
    json_decref(body);
    json_decref(list);
    json_decref(contacts);
    free(chat);
    free(name);
}

void
gw_kinds_send_contacts(gw_req_t *req)
{
    s_contacts(req, s_name_waha(req), 201);
}

void
gw_kinds_wawp_send_contacts(gw_req_t *req)
{
    s_contacts(req, gw_sessions_wawp_instance(req), 200);
}

//  --------------------------------------------------------------------
//  Polls

static bool
s_poll_text(json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0 &&
           json_string_length(v) <= GW_KINDS_POLL_TEXT_MAX;
}

static void
s_poll(gw_req_t *req, char *name, int success)
{
    char *chat = name ? s_chat(req, "chatId") : NULL;
    if (!chat) {
        free(name);
        return;
    }
    bool bad = false;
    json_t *poll = s_json_input(req, "poll", JSON_OBJECT, &bad);
    json_t *options = json_object_get(poll, "options");
    json_t *multi = json_object_get(poll, "multipleAnswers");
    json_t *body = json_pack("{s:s}", "chatId", chat);
    size_t n = json_array_size(options);
    bool ok = false;
    if (!poll) {
        gw_req_fail_invalid(req, bad ? "poll must be an object {name, "
                                       "options, multipleAnswers}"
                                     : "poll is required");
    } else if (!s_poll_text(json_object_get(poll, "name"))) {
        gw_req_fail_invalid(req, "poll.name must be 1 to 255 bytes");
    } else if (!json_is_array(options) || n < GW_KINDS_POLL_OPTIONS_MIN ||
               n > GW_KINDS_POLL_OPTIONS_MAX) {
        gw_req_fail_invalid(req, "poll.options must hold 2 to 12 options");
    } else if (multi && !json_is_boolean(multi) && !json_is_null(multi)) {
        gw_req_fail_invalid(req, "poll.multipleAnswers must be a boolean");
    } else {
        ok = true;
        for (size_t i = 0; ok && i < n; i++) {
            json_t *o = json_array_get(options, i);
            if (!s_poll_text(o)) {
                gw_req_fail_invalid(req, "poll.options must be strings of 1 "
                                         "to 255 bytes");
                ok = false;
            }
            for (size_t j = 0; ok && j < i; j++) {
                if (json_equal(o, json_array_get(options, j))) {
                    gw_req_fail_invalid(req, "poll.options must be distinct");
                    ok = false;
                }
            }
        }
    }
    if (ok && s_common(req, body) == 0) {
        json_object_set_new(body, "poll",
                            json_pack("{s:O, s:O, s:b}", "name",
                                      json_object_get(poll, "name"), "options",
                                      options, "multipleAnswers",
                                      json_is_true(multi)));
        s_run(req, name, "message.send_poll", body, S_QUOTE, success);
        body = NULL;
    }
    json_decref(body);
    json_decref(poll);
    free(chat);
    free(name);
}

void
gw_kinds_send_poll(gw_req_t *req)
{
    s_poll(req, s_name_waha(req), 201);
}

void
gw_kinds_wawp_send_poll(gw_req_t *req)
{
    s_poll(req, gw_sessions_wawp_instance(req), 200);
}

static void
s_poll_vote(gw_req_t *req, char *name, int success)
{
    char *chat = name ? s_chat(req, "chatId") : NULL;
    if (!chat) {
        free(name);
        return;
    }
    bool bad = false;
    json_t *votes = s_json_input(req, "votes", JSON_ARRAY, &bad);
    const char *poll = NULL;
    json_t *body = json_pack("{s:s}", "chatId", chat);
    bool ok = gw_req_input_opt_str(req, "pollMessageId", 512, &poll) == 0;
    if (ok && (!poll || !*poll)) {
        gw_req_fail_invalid(req, "pollMessageId is required");
        ok = false;
    } else if (ok && !votes) {
        gw_req_fail_invalid(req, bad ? "votes must be an array of option "
                                       "names"
                                     : "votes is required");
        ok = false;
    } else if (ok && json_array_size(votes) > GW_KINDS_POLL_OPTIONS_MAX) {
        gw_req_fail_invalid(req, "votes holds more than 12 options");
        ok = false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(votes, i, v)
    {
        if (ok && !s_poll_text(v)) {
            gw_req_fail_invalid(req, "votes must be option names");
            ok = false;
        }
    }
    if (ok) {
        json_object_set_new(body, "pollMessageId", json_string(poll));
        json_object_set(body, "votes", votes);
        s_run(req, name, "message.send_poll_vote", body, S_TARGET, success);
        body = NULL;
    }
    json_decref(body);
    json_decref(votes);
    free(chat);
    free(name);
}

void
gw_kinds_send_poll_vote(gw_req_t *req)
{
    s_poll_vote(req, s_name_waha(req), 201);
}

void
gw_kinds_wawp_send_poll_vote(gw_req_t *req)
{
    s_poll_vote(req, gw_sessions_wawp_instance(req), 200);
}

//  --------------------------------------------------------------------
//  Events

static void
s_event(gw_req_t *req, char *name, int success)
{
    char *chat = name ? s_chat(req, "chatId") : NULL;
    if (!chat) {
        free(name);
        return;
    }
    bool bad = false;
    json_t *ev = s_json_input(req, "event", JSON_OBJECT, &bad);
    json_t *body = json_pack("{s:s}", "chatId", chat);
    json_t *start = json_object_get(ev, "startTime");
    json_t *end = json_object_get(ev, "endTime");
    json_t *desc = json_object_get(ev, "description");
    json_t *loc = json_object_get(json_object_get(ev, "location"), "name");
    bool ok = false;
    if (!ev) {
        gw_req_fail_invalid(req, bad ? "event must be an object"
                                     : "event is required");
    } else if (!s_poll_text(json_object_get(ev, "name"))) {
        gw_req_fail_invalid(req, "event.name must be 1 to 255 bytes");
    } else if (!json_is_integer(start) || json_integer_value(start) <= 0) {
        gw_req_fail_invalid(req, "event.startTime must be unix seconds");
    } else if (end && !json_is_null(end) &&
               (!json_is_integer(end) ||
                json_integer_value(end) < json_integer_value(start))) {
        gw_req_fail_invalid(req, "event.endTime must be unix seconds after "
                                 "startTime");
    } else if ((desc && !json_is_null(desc) &&
                (!json_is_string(desc) || json_string_length(desc) > 2048)) ||
               (loc && !s_poll_text(loc))) {
        gw_req_fail_invalid(req, "event.description (at most 2048 bytes) or "
                                 "event.location.name (1 to 255) is invalid");
    } else {
        ok = true;
    }
    if (ok && s_common(req, body) == 0) {
        json_t *e =
            json_pack("{s:O, s:O, s:b}", "name", json_object_get(ev, "name"),
                      "startTime", start, "extraGuestsAllowed",
                      json_is_true(json_object_get(ev, "extraGuestsAllowed")));
        if (json_is_integer(end)) {
            json_object_set(e, "endTime", end);
        }
        if (json_is_string(desc)) {
            json_object_set(e, "description", desc);
        }
        if (loc) {
            json_object_set_new(e, "location", json_pack("{s:O}", "name", loc));
        }
        json_object_set_new(body, "event", e);
        s_run(req, name, "message.send_event", body, S_QUOTE, success);
        body = NULL;
    }
    json_decref(body);
    json_decref(ev);
    free(chat);
    free(name);
}

void
gw_kinds_send_event(gw_req_t *req)
{
    s_event(req, s_name_path(req), 201);
}

void
gw_kinds_wawp_send_event(gw_req_t *req)
{
    s_event(req, gw_sessions_wawp_instance(req), 200);
}

//  --------------------------------------------------------------------
//  Reactions, forwards

static void
s_react(gw_req_t *req, char *name, int success)
{
    if (!name) {
        return;
    }
    const char *id = NULL, *reaction = NULL;
    json_t *rv = gw_req_input(req, "reaction");
    if (gw_req_input_opt_str(req, "messageId", 512, &id) == 0 &&
        gw_req_input_opt_str(req, "reaction", GW_KINDS_REACTION_MAX,
                             &reaction) == 0) {
        if (!id || !*id) {
            gw_req_fail_invalid(req, "messageId is required");
        } else if (!rv || !reaction) {
            gw_req_fail_invalid(req, "reaction is required (\"\" removes "
                                     "it)");
        } else {
            json_t *body =
                json_pack("{s:s, s:s}", "messageId", id, "reaction", reaction);
            s_run(req, name, "message.react", body, S_TARGET, success);
        }
    }
    free(name);
}

void
gw_kinds_react(gw_req_t *req)
{
    s_react(req, s_name_waha(req), 200);
}

void
gw_kinds_wawp_react(gw_req_t *req)
{
    s_react(req, gw_sessions_wawp_instance(req), 200);
}

void
gw_kinds_forward(gw_req_t *req)
{
    char *name = s_name_waha(req);
    char *chat = name ? s_chat(req, "chatId") : NULL;
    const char *id = NULL;
    if (chat && gw_req_input_opt_str(req, "messageId", 512, &id) == 0) {
        if (!id || !*id) {
            gw_req_fail_invalid(req, "messageId is required");
        } else {
            json_t *body =
                json_pack("{s:s, s:s}", "chatId", chat, "messageId", id);
            s_run(req, name, "message.forward", body, S_TARGET | S_FORWARD,
                  201);
        }
    }
    free(chat);
    free(name);
}

//  --------------------------------------------------------------------
//  Texts: mentions, quotes, caller ids, link previews

bool
gw_kinds_text_wanted(gw_req_t *req, const char *text_field)
{
    json_t *mentions = gw_req_input(req, "mentions");
    const char *id = gw_req_input_str(req, "id");
    const char *reply_to = gw_req_input_str(req, "reply_to");
    if ((mentions && !json_is_null(mentions)) || (id && *id) ||
        (reply_to && *reply_to)) {
        return true;
    }
    //  A link to preview (or a linkPreview that s_text refuses)
    json_t *lp = gw_req_input(req, "linkPreview");
    if (json_is_false(lp) || cm_streq(json_string_value(lp), "false")) {
        return false;
    }
    char *url = gw_kinds_first_url(gw_req_input_str(req, text_field));
    bool wanted = url != NULL;
    free(url);
    return wanted;
}

//  A text with its mentions and an optional preview (taken).
static void
s_text(gw_req_t *req, const char *name, const char *chat_field,
       const char *text_field, json_t *preview, int success)
{
    char *chat = s_chat(req, chat_field);
    const char *text = chat ? gw_req_input_str(req, text_field) : NULL;
    bool bad = false;
    json_t *mentions =
        chat ? s_json_input(req, "mentions", JSON_ARRAY, &bad) : NULL;
    json_t *body = NULL;
    if (!chat) {
        goto done;
    }
    if (!text || !*text || strlen(text) > GW_MESSAGES_TEXT_MAX) {
        char *msg = cm_sprintf("%s must be 1 to %d bytes", text_field,
                               GW_MESSAGES_TEXT_MAX);
        gw_req_fail_invalid(req, msg);
        free(msg);
        goto done;
    }
    if (bad || json_array_size(mentions) > GW_KINDS_MENTIONS_MAX) {
        gw_req_fail_invalid(req, "mentions must be an array of chat ids");
        goto done;
    }
    body = json_pack("{s:s, s:s}", "chatId", chat, "text", text);
    if (json_array_size(mentions)) {
        json_t *list = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(mentions, i, v)
        {
            char *m =
                gw_messages_chat_id_of(json_string_value(v), GW_CHAT_PERSON);
            if (!m) {
                gw_req_fail_invalid(req, "mentions must be an array of chat "
                                         "ids of persons");
                json_decref(list);
                goto done;
            }
            json_array_append_new(list, json_string(m));
            free(m);
        }
        json_object_set_new(body, "mentions", list);
    }
    int flags = S_QUOTE;
    //  WAHA's linkPreview (on unless false) and linkPreviewHighQuality
    //  (off for sendText, on for a custom preview)
    bool on = true, hq = false;
    if (s_link_preview_on(req, &on, &hq, preview != NULL) != 0) {
        goto done;
    }
    if (!preview) {
        //  the first URL's page
        char *url = on ? gw_kinds_first_url(text) : NULL;
        if (url) {
            preview = json_pack("{s:s}", "url", url);
            flags |= S_PREVIEW;
        }
        free(url);
    }
    if (preview) {
        if (hq && ((flags & S_PREVIEW) || json_object_get(preview, "image"))) {
            json_object_set_new(preview, "highQuality", json_true());
        }
        json_object_set(body, "preview", preview);
        if (json_object_get(preview, "image")) {
            flags |= S_THUMB;
        }
    }
    if (s_common(req, body) == 0) {
        s_run(req, name, "message.send_rich", body, flags, success);
        body = NULL;
    }
done:
    json_decref(body);
    json_decref(mentions);
    json_decref(preview);
    free(chat);
}

void
gw_kinds_send_text(gw_req_t *req, const char *name, const char *chat_field,
                   const char *text_field, int success)
{
    s_text(req, name, chat_field, text_field, NULL, success);
}

//  The preview {url, title?, description?} of `obj` (or the flat
//  fields of the request when obj is NULL), checked against text; NULL
//  after a 400.
static json_t *
s_preview(gw_req_t *req, json_t *obj, const char *text)
{
    const char *url = NULL, *title = NULL, *desc = NULL;
    if (obj) {
        url = json_string_value(json_object_get(obj, "url"));
        title = json_string_value(json_object_get(obj, "title"));
        desc = json_string_value(json_object_get(obj, "description"));
    } else {
        url = gw_req_input_str(req, "url");
        title = gw_req_input_str(req, "title");
        desc = gw_req_input_str(req, "description");
    }
    if (!url || !*url || strlen(url) > 2048 ||
        (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        gw_req_fail_invalid(req, "preview.url must be an http(s) URL");
        return NULL;
    }
    if (!text || !strstr(text, url)) {
        gw_req_fail_invalid(req, "text must contain preview.url");
        return NULL;
    }
    if ((title && strlen(title) > GW_KINDS_TEXT_MAX) ||
        (desc && strlen(desc) > 4 * GW_KINDS_TEXT_MAX)) {
        gw_req_fail_invalid(req, "preview.title or preview.description is "
                                 "too long");
        return NULL;
    }
    //  The image: WAHA's preview.image {url} or {data}, Wawp's thumbnail
    json_t *image = obj ? json_object_get(obj, "image") : NULL;
    const char *thumb = obj ? NULL : gw_req_input_str(req, "thumbnail");
    const char *iurl = thumb && *thumb
                           ? thumb
                           : json_string_value(json_object_get(image, "url"));
    const char *idata = json_string_value(json_object_get(image, "data"));
    uint8_t *bytes = NULL;
    size_t blen = 0;
    if (image && !json_is_null(image) && !iurl && !idata) {
        gw_req_fail_invalid(req, "preview.image must be {url} or {data}");
        return NULL;
    }
    if (iurl &&
        (strlen(iurl) > GW_KINDS_PREVIEW_URL_MAX ||
         (strncmp(iurl, "http://", 7) && strncmp(iurl, "https://", 8)))) {
        gw_req_fail_invalid(req, "preview.image.url must be an http(s) URL");
        return NULL;
    }
    if (!iurl && idata &&
        (cm_base64_decode(idata, GW_KINDS_PREVIEW_IMAGE_MAX, &bytes, &blen) !=
             0 ||
         blen == 0)) {
        free(bytes);
        gw_req_fail_invalid(req, "preview.image.data must be base64 (at most "
                                 "16 MiB)");
        return NULL;
    }
    free(bytes);
    json_t *p = json_pack("{s:s}", "url", url);
    if (title) {
        json_object_set_new(p, "title", json_string(title));
    }
    if (desc) {
        json_object_set_new(p, "description", json_string(desc));
    }
    if (iurl) {
        json_object_set_new(p, "image", json_pack("{s:s}", "url", iurl));
    } else if (idata) {
        json_object_set_new(p, "image", json_pack("{s:s}", "data", idata));
    }
    return p;
}

void
gw_kinds_link_preview_old(gw_req_t *req)
{
    //  WAHA's deprecated {chatId, url, title}: the url is the text, and
    //  the preview names it
    json_t *body = gw_req_json(req);
    const char *url = json_string_value(json_object_get(body, "url"));
    json_t *title = json_object_get(body, "title");
    if (!json_is_object(body) || !url || !*url ||
        (title && !json_is_string(title))) {
        gw_req_fail_invalid(req, "url is required (and title is a string)");
        return;
    }
    if (!json_object_get(body, "text")) {
        json_object_set_new(body, "text", json_string(url));
    }
    json_t *preview = json_pack("{s:s}", "url", url);
    if (title) {
        json_object_set(preview, "title", title);
    }
    json_object_set_new(body, "preview", preview);
    gw_kinds_link_preview(req);
}

void
gw_kinds_link_preview(gw_req_t *req)
{
    char *name = s_name_waha(req);
    if (!name) {
        return;
    }
    bool bad = false;
    json_t *obj = s_json_input(req, "preview", JSON_OBJECT, &bad);
    if (!obj) {
        gw_req_fail_invalid(req, bad ? "preview must be an object"
                                     : "preview is required");
    } else {
        json_t *p = s_preview(req, obj, gw_req_input_str(req, "text"));
        if (p) {
            s_text(req, name, "chatId", "text", p, 201);
        }
    }
    json_decref(obj);
    free(name);
}

void
gw_kinds_wawp_link_preview(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (!name) {
        return;
    }
    const char *field = gw_req_input(req, "text") ? "text" : "message";
    json_t *p = s_preview(req, NULL, gw_req_input_str(req, field));
    if (p) {
        s_text(req, name, "chatId", field, p, 200);
    }
    free(name);
}

//  --------------------------------------------------------------------
//  One message: get, edit, delete, pin

//  The {chatId} and {messageId} of the path; the id made a full WAHA id
//  when a bare one was given. NULL after a 400.
static char *
s_path_message(gw_req_t *req, char **chat_p)
{
    const char *param = gw_req_param(req, "chatId");
    const char *id = gw_req_param(req, "messageId");
    *chat_p = param ? gw_messages_chat_id(param) : NULL;
    if (!*chat_p) {
        gw_req_fail_invalid(req, "chatId must be a phone number or a chat id");
        return NULL;
    }
    if (!id || !*id || strlen(id) > 512) {
        gw_req_fail_invalid(req, "messageId must be a message id");
        free(*chat_p);
        *chat_p = NULL;
        return NULL;
    }
    return cm_strdup(id);
}

void
gw_kinds_get(gw_req_t *req)
{
    char *name = s_name_path(req);
    char *chat = NULL;
    char *id = name ? s_path_message(req, &chat) : NULL;
    const char *dl = id ? gw_req_query(req, "downloadMedia") : NULL;
    if (dl && !cm_streq(dl, "true") && !cm_streq(dl, "1") &&
        !cm_streq(dl, "false") && !cm_streq(dl, "0")) {
        gw_req_fail_invalid(req, "downloadMedia must be true or false");
    } else if (id) {
        bool failed = false;
        json_t *m = s_stored(req, name, id, true, &failed);
        if (m && dl && (cm_streq(dl, "false") || cm_streq(dl, "0"))) {
            gw_media_undownload(m);
        } else if (m) { //  downloadMedia=true, WAHA's default
            json_t *one = json_pack("[O]", m);
            gw_media_download(req, name, one);
            json_decref(one);
        }
        if (m) {
            gw_req_reply(req, 200, &m);
        }
    }
    free(id);
    free(chat);
    free(name);
}

void
gw_kinds_edit(gw_req_t *req)
{
    char *name = s_name_path(req);
    char *chat = NULL;
    char *id = name ? s_path_message(req, &chat) : NULL;
    const char *text = id ? gw_req_input_str(req, "text") : NULL;
    if (id && (!text || !*text || strlen(text) > GW_MESSAGES_TEXT_MAX)) {
        gw_req_fail_invalid(req, "text is required (at most 65536 bytes)");
    } else if (id) {
        json_t *body = json_pack("{s:s, s:s, s:s}", "chatId", chat, "messageId",
                                 id, "text", text);
        s_run(req, name, "message.edit", body, S_TARGET | S_MINE, 200);
    }
    free(id);
    free(chat);
    free(name);
}

void
gw_kinds_delete(gw_req_t *req)
{
    char *name = s_name_path(req);
    char *chat = NULL;
    char *id = name ? s_path_message(req, &chat) : NULL;
    const char *all = id ? gw_req_query(req, "forEveryone") : NULL;
    bool me = cm_streq(all, "false") || cm_streq(all, "0");
    if (all && !me && !cm_streq(all, "true") && !cm_streq(all, "1")) {
        gw_req_fail_invalid(req, "forEveryone must be true or false");
    } else if (id && me) {
        //  Wharf's extension: for this account's devices only (app state)
        json_t *body = json_pack("{s:s, s:s}", "chatId", chat, "messageId", id);
        s_run(req, name, "message.delete_me", body, S_TARGET | S_KEY, 200);
    } else if (id) {
        json_t *body = json_pack("{s:s, s:s}", "chatId", chat, "messageId", id);
        s_run(req, name, "message.revoke", body, S_TARGET | S_BEFORE, 200);
    }
    free(id);
    free(chat);
    free(name);
}

static void
s_pin(gw_req_t *req, bool pin)
{
    char *name = s_name_path(req);
    char *chat = NULL;
    char *id = name ? s_path_message(req, &chat) : NULL;
    double duration = 86400;
    int rc = id && pin ? s_number(req, "duration", &duration) : 1;
    if (id && (rc < 0 || (pin && duration != 86400 && duration != 604800 &&
                          duration != 2592000))) {
        gw_req_fail_invalid(req, "duration must be 86400, 604800 or 2592000 "
                                 "seconds");
    } else if (id) {
        json_t *body =
            json_pack("{s:s, s:s, s:b, s:I}", "chatId", chat, "messageId", id,
                      "pin", pin, "duration", (json_int_t)duration);
        s_run(req, name, "message.pin", body, S_TARGET, 201);
    }
    free(id);
    free(chat);
    free(name);
}

void
gw_kinds_pin(gw_req_t *req)
{
    s_pin(req, true);
}

void
gw_kinds_unpin(gw_req_t *req)
{
    s_pin(req, false);
}

void
gw_kinds_new_id(gw_req_t *req)
{
    char *name = s_name_path(req);
    if (!name) {
        return;
    }
    //  As WhatsApp's own: "3EB0" and 18 upper-case hex digits
    uint8_t rnd[9];
    if (wa_random(rnd, sizeof rnd) != 0) {
        gw_req_fail(req, 500, NULL, "no randomness");
        free(name);
        return;
    }
    char id[32] = "3EB0";
    for (size_t i = 0; i < sizeof rnd; i++) {
        snprintf(id + 4 + 2 * i, 3, "%02X", rnd[i]);
    }
    json_t *out = json_pack("{s:s}", "id", id);
    gw_req_reply(req, 200, &out);
    free(name);
}

//  --------------------------------------------------------------------
//  OpenAPI

static const char *s_schemas =
    "{"
    "\"MessageLocationRequest\":{\"type\":\"object\",\"required\":"
    "[\"chatId\",\"latitude\",\"longitude\"],\"properties\":{\"session\":"
    "{\"type\":\"string\",\"default\":\"default\"},\"chatId\":{\"type\":"
    "\"string\"},\"latitude\":{\"type\":\"number\",\"minimum\":-90,"
    "\"maximum\":90},\"longitude\":{\"type\":\"number\",\"minimum\":-180,"
    "\"maximum\":180},\"title\":{\"type\":\"string\"},\"address\":{\"type\":"
    "\"string\"},\"reply_to\":{\"type\":\"string\"},\"id\":{\"type\":"
    "\"string\"}}},"
    "\"MessageContactVcardRequest\":{\"type\":\"object\",\"required\":"
    "[\"chatId\",\"contacts\"],\"properties\":{\"session\":{\"type\":"
    "\"string\"},\"chatId\":{\"type\":\"string\"},\"contacts\":{\"type\":"
    "\"array\",\"minItems\":1,\"maxItems\":32,\"items\":{\"type\":\"object\","
    "\"properties\":{\"fullName\":{\"type\":\"string\"},\"organization\":"
    "{\"type\":\"string\"},\"phoneNumber\":{\"type\":\"string\"},"
    "\"whatsappId\":{\"type\":\"string\"},\"vcard\":{\"type\":\"string\"}}}},"
    "\"reply_to\":{\"type\":\"string\"},\"id\":{\"type\":\"string\"}}},"
    "\"MessagePoll\":{\"type\":\"object\",\"required\":[\"name\","
    "\"options\"],\"properties\":{\"name\":{\"type\":\"string\"},\"options\":"
    "{\"type\":\"array\",\"minItems\":2,\"maxItems\":12,\"items\":{\"type\":"
    "\"string\"}},\"multipleAnswers\":{\"type\":\"boolean\",\"default\":"
    "false}}},"
    "\"MessagePollRequest\":{\"type\":\"object\",\"required\":[\"chatId\","
    "\"poll\"],\"properties\":{\"session\":{\"type\":\"string\"},\"chatId\":"
    "{\"type\":\"string\"},\"poll\":{\"$ref\":\"#/components/schemas/"
    "MessagePoll\"},\"reply_to\":{\"type\":\"string\"},\"id\":{\"type\":"
    "\"string\"}}},"
    "\"MessagePollVoteRequest\":{\"type\":\"object\",\"required\":"
    "[\"chatId\",\"pollMessageId\",\"votes\"],\"properties\":{\"session\":"
    "{\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},"
    "\"pollMessageId\":{\"type\":\"string\"},\"votes\":{\"type\":\"array\","
    "\"items\":{\"type\":\"string\"}}}},"
    "\"MessageReactionRequest\":{\"type\":\"object\",\"required\":"
    "[\"messageId\",\"reaction\"],\"properties\":{\"session\":{\"type\":"
    "\"string\"},\"messageId\":{\"type\":\"string\"},\"reaction\":{\"type\":"
    "\"string\",\"description\":\"An emoji; empty removes the "
    "reaction\"}}},"
    "\"MessageForwardRequest\":{\"type\":\"object\",\"required\":"
    "[\"chatId\",\"messageId\"],\"properties\":{\"session\":{\"type\":"
    "\"string\"},\"chatId\":{\"type\":\"string\"},\"messageId\":{\"type\":"
    "\"string\"}}},"
    "\"MessageLinkPreviewRequest\":{\"type\":\"object\",\"required\":"
    "[\"chatId\",\"url\"],\"properties\":{\"session\":{\"type\":"
    "\"string\"},\"chatId\":{\"type\":\"string\"},\"url\":{\"type\":"
    "\"string\"},\"title\":{\"type\":\"string\"}}},"
    "\"MessageLinkCustomPreviewRequest\":{\"type\":\"object\",\"required\":"
    "[\"chatId\",\"text\",\"preview\"],\"properties\":{\"session\":{\"type\":"
    "\"string\"},\"chatId\":{\"type\":\"string\"},\"text\":{\"type\":"
    "\"string\"},\"preview\":{\"type\":\"object\",\"properties\":{\"url\":"
    "{\"type\":\"string\"},\"title\":{\"type\":\"string\"},\"description\":"
    "{\"type\":\"string\"},\"image\":{\"type\":\"object\",\"description\":"
    "\"{url} or {data} (base64): the preview's thumbnail\",\"properties\":{"
    "\"url\":{\"type\":\"string\"},\"data\":{\"type\":\"string\"}}}}},"
    "\"reply_to\":{\"type\":\"string\"},\"linkPreviewHighQuality\":{"
    "\"type\":\"boolean\",\"default\":true,\"description\":\"Send the "
    "image in full too, not only its thumbnail\"}}},"
    "\"EventMessageRequest\":{\"type\":\"object\",\"required\":[\"chatId\","
    "\"event\"],\"properties\":{\"chatId\":{\"type\":\"string\"},\"event\":"
    "{\"type\":\"object\",\"required\":[\"name\",\"startTime\"],"
    "\"properties\":{\"name\":{\"type\":\"string\"},\"description\":"
    "{\"type\":\"string\"},\"startTime\":{\"type\":\"integer\"},\"endTime\":"
    "{\"type\":\"integer\"},\"location\":{\"type\":\"object\",\"properties\":"
    "{\"name\":{\"type\":\"string\"}}},\"extraGuestsAllowed\":{\"type\":"
    "\"boolean\"}}},\"reply_to\":{\"type\":\"string\"}}},"
    "\"NewMessageId\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"string\",\"example\":\"3EB0A1B2C3D4E5F6A7B8C9\"}}},"
    "\"EditMessageRequest\":{\"type\":\"object\",\"required\":[\"text\"],"
    "\"properties\":{\"text\":{\"type\":\"string\"}}},"
    "\"PinMessageRequest\":{\"type\":\"object\",\"properties\":{\"duration\":"
    "{\"type\":\"integer\",\"enum\":[86400,604800,2592000]}}},"
    "\"PinResult\":{\"type\":\"object\",\"properties\":{\"success\":{\"type\":"
    "\"boolean\"}}},"
    "\"WawpLocationRequest\":{\"type\":\"object\",\"properties\":"
    "{\"instance_id\":{\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},"
    "\"latitude\":{\"type\":\"number\"},\"longitude\":{\"type\":\"number\"},"
    "\"title\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},"
    "\"reply_to\":{\"type\":\"string\"}}},"
    "\"WawpContactRequest\":{\"type\":\"object\",\"properties\":"
    "{\"instance_id\":{\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},"
    "\"contacts\":{\"description\":\"Array of contacts, or its JSON "
    "text\"}}},"
    "\"WawpPollRequest\":{\"type\":\"object\",\"properties\":{\"instance_id\":"
    "{\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},\"poll\":"
    "{\"description\":\"Poll object, or its JSON text\"}}},"
    "\"WawpPollVoteRequest\":{\"type\":\"object\",\"properties\":"
    "{\"instance_id\":{\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},"
    "\"pollMessageId\":{\"type\":\"string\"},\"votes\":{\"description\":"
    "\"Array of option names, or its JSON text\"}}},"
    "\"WawpReactionRequest\":{\"type\":\"object\",\"properties\":"
    "{\"instance_id\":{\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},"
    "\"messageId\":{\"type\":\"string\"},\"reaction\":{\"type\":"
    "\"string\"}}},"
    "\"WawpLinkPreviewRequest\":{\"type\":\"object\",\"properties\":"
    "{\"instance_id\":{\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},"
    "\"text\":{\"type\":\"string\"},\"url\":{\"type\":\"string\"},\"title\":"
    "{\"type\":\"string\"},\"description\":{\"type\":\"string\"},"
    "\"thumbnail\":{\"type\":\"string\",\"description\":\"Image URL\"},"
    "\"reply_to\":{\"type\":\"string\"}}},"
    "\"WawpEventRequest\":{\"type\":\"object\",\"properties\":"
    "{\"instance_id\":{\"type\":\"string\"},\"chatId\":{\"type\":\"string\"},"
    "\"event\":{\"description\":\"Event object, or its JSON text\"}}}"
    "}";

json_t *
gw_kinds_schemas(void)
{
    json_t *schemas = json_loads(s_schemas, 0, NULL);
    assert(schemas); //  a static string of ours
    return schemas;
}

//  --------------------------------------------------------------------

void
gw_kinds_test(bool verbose)
{
    printf(" * gw_kinds: ");
    //  vCard names
    char *fn = s_vcard_prop("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\n"
                            "END:VCARD",
                            "FN");
    assert(cm_streq(fn, "Ann Lee"));
    free(fn);
    assert(!s_vcard_prop("BEGIN:VCARD\nN:;;;\nEND:VCARD", "FN"));
    assert(!s_vcard_prop("BEGIN:VCARD\nFN:\nEND:VCARD", "FN"));
    char *esc = s_vcard_text("a,b;c\nd");
    assert(cm_streq(esc, "a\\,b\\;c d"));
    free(esc);

    //  The first http(s) URL of a text, without the sentence's end
    const char *urls[][2] = {
        {"see https://example.com/x.", "https://example.com/x"},
        {"(http://h:8/a?b=1&c=2), then", "http://h:8/a?b=1&c=2"},
        {"HTTPS://H/ first, http://second/", "HTTPS://H/"},
        {"a\nhttp://h/p\tb", "http://h/p"},
        {"nohttp://h/ but <https://ok/>", "https://ok/"},
        {"http:// alone", NULL},
        {"ftp://h/x and mailto:x@y", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char *u = gw_kinds_first_url(urls[i][0]);
        assert(urls[i][1] ? cm_streq(u, urls[i][1]) : !u);
        free(u);
    }

    //  Bad input is refused before any bus call: 400 naming the field
    struct {
        void (*fn)(gw_req_t *);
        const char *body;
        const char *want;
    } cases[] = {
        {gw_kinds_send_location,
         "{\"chatId\":\"15551234567\",\"latitude\":91,\"longitude\":0}",
         "latitude"},
        {gw_kinds_send_location,
         "{\"chatId\":\"15551234567\",\"latitude\":1,\"longitude\":-181}",
         "longitude"},
        {gw_kinds_send_location, "{\"latitude\":1,\"longitude\":1}",
         "chatId is required"},
        {gw_messages_send_text,
         "{\"chatId\":\"15551234567\",\"text\":\"https://h/\","
         "\"linkPreview\":\"sometimes\"}",
         "linkPreview must be true or false"},
        {gw_kinds_link_preview,
         "{\"chatId\":\"15551234567\",\"text\":\"https://h/\",\"preview\":"
         "{\"url\":\"https://h/\",\"title\":\"t\",\"image\":{}}}",
         "preview.image must be {url} or {data}"},
        {gw_kinds_link_preview,
         "{\"chatId\":\"15551234567\",\"text\":\"https://h/\",\"preview\":"
         "{\"url\":\"https://h/\",\"image\":{\"url\":\"file:///x\"}}}",
         "preview.image.url must be"},
        {gw_kinds_link_preview,
         "{\"chatId\":\"15551234567\",\"text\":\"https://h/\",\"preview\":"
         "{\"url\":\"https://h/\",\"image\":{\"data\":\"***\"}}}",
         "preview.image.data must be base64"},
        {gw_messages_send_text,
         "{\"chatId\":\"15551234567\",\"text\":\"https://h/\","
         "\"linkPreviewHighQuality\":7}",
         "linkPreviewHighQuality must be true or false"},
        {gw_kinds_send_contacts,
         "{\"chatId\":\"15551234567\",\"contacts\":[{\"vcard\":"
         "\"BEGIN:VCARD\\nTEL:1\\nEND:VCARD\"}]}",
         "has no name"},
        {gw_kinds_send_contacts,
         "{\"chatId\":\"15551234567\",\"contacts\":[{\"phoneNumber\":"
         "\"+1555\"}]}",
         "fullName"},
        {gw_kinds_send_contacts, "{\"chatId\":\"15551234567\",\"contacts\":[]}",
         "1 to 32"},
        {gw_kinds_send_poll,
         "{\"chatId\":\"15551234567\",\"poll\":{\"name\":\"q\",\"options\":"
         "[\"a\"]}}",
         "2 to 12"},
        {gw_kinds_send_poll,
         "{\"chatId\":\"15551234567\",\"poll\":{\"name\":\"q\",\"options\":"
         "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
         "\"12\",\"13\",\"14\",\"15\",\"16\",\"17\",\"18\",\"19\",\"20\"]}}",
         "2 to 12"},
        {gw_kinds_send_poll,
         "{\"chatId\":\"15551234567\",\"poll\":{\"name\":\"q\",\"options\":"
         "[\"a\",\"a\"]}}",
         "distinct"},
        {gw_kinds_send_poll_vote,
         "{\"chatId\":\"15551234567\",\"votes\":[\"a\"]}", "pollMessageId"},
        {gw_kinds_react, "{\"reaction\":\"x\"}", "messageId is required"},
        {gw_kinds_react, "{\"messageId\":\"ABC\"}", "reaction is required"},
        {gw_kinds_link_preview,
         "{\"chatId\":\"15551234567\",\"text\":\"hi\",\"preview\":{\"url\":"
         "\"https://example.com\"}}",
         "must contain"},
        {NULL, NULL, NULL}};
    for (int i = 0; cases[i].fn; i++) {
        gw_req_t *req = gw_req_new("POST", "/api/x");
        assert(gw_req_append_body(req, cases[i].body, strlen(cases[i].body),
                                  1 << 20) == 0);
        gw_req_set_header(req, "Content-Type", "application/json");
        assert(gw_req_parse_body(req) == 0);
        cases[i].fn(req);
        assert(gw_req_status(req) == 400);
        assert(strstr(gw_req_response(req), cases[i].want));
        gw_req_destroy(&req);
    }
    //  JSON text in the query (Wawp)
    gw_req_t *req = gw_req_new("POST", "/v2/send/poll");
    gw_req_set_query(req, "poll", "{\"name\":\"q\",\"options\":[\"a\",\"b\"]}");
    bool bad = true;
    json_t *poll = s_json_input(req, "poll", JSON_OBJECT, &bad);
    assert(poll && !bad);
    assert(json_array_size(json_object_get(poll, "options")) == 2);
    json_decref(poll);
    gw_req_set_query(req, "votes", "not json");
    assert(!s_json_input(req, "votes", JSON_ARRAY, &bad) && bad);
    gw_req_destroy(&req);

    json_t *schemas = gw_kinds_schemas();
    assert(json_object_get(schemas, "MessagePollRequest"));
    json_decref(schemas);
    printf("OK\n");
}
