/*  wa_status - status updates (24-hour stories)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_iq.h"
#include "wa/wa_jid.h"
#include "wa/wa_message.h"
#include "wa/wa_status.h"
#include "wa/wa_usync.h"
#include "wa_client_int.h"

//  Largest serialised Message built.
#define S_MAX (4 * 1024 * 1024)
//  Longest URL taken for a preview.
#define S_URL_MAX 2048

int
wa_status_send(wa_client_t *client, const uint8_t *msg, size_t len,
               const char *const *recipients, size_t n, const char *want,
               char id[WA_CLIENT_ID_MAX])
{
    if (!client || n == 0 || n > WA_STATUS_RECIPIENTS_MAX) {
        return -1;
    }
    for (const char *p = want; p && *p; p++) {
        //  ids are printable and never carry the separators of WAHA's
        //  long ids
        if (*p <= ' ' || *p > '~' || *p == '_' || *p == '@') {
            return -1;
        }
    }
    return wa_outbox_send_status(client, msg, len, recipients, n, want, id);
}

bool
wa_status_font_valid(int font)
{
    return (font >= 0 && font <= 2) ||
           (font >= 6 && font <= WA_STATUS_FONT_MAX);
}

static int
s_pack(const Wa__E2e__Message *m, uint8_t **out_p, size_t *out_len)
{
    size_t n = wa__e2e__message__get_packed_size(m);
    if (n > S_MAX) {
        return -1;
    }
    *out_p = cm_alloc(n ? n : 1);
    *out_len = wa__e2e__message__pack(m, *out_p);
    return 0;
}

int
wa_status_build_text(const char *text, uint32_t background_argb, int font,
                     const wa_kinds_preview_t *preview, uint8_t **out_p,
                     size_t *out_len)
{
    if (!text || !*text || !wa_status_font_valid(font)) {
        return -1;
    }
    Wa__E2e__Message m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ExtendedTextMessage ext = WA__E2E__EXTENDED_TEXT_MESSAGE__INIT;
    ext.text = (char *)text;
    if (preview && preview->url) {
        //  As a chat's link preview, with its uploaded high-quality
        //  thumbnail when there is one
        wa_kinds_set_preview(&ext, preview);
        ext.has_preview_type = preview->title || preview->description;
    }
    ext.has_text_argb = true;
    ext.text_argb = WA_STATUS_TEXT_ARGB;
    ext.has_background_argb = true;
    ext.background_argb = background_argb;
    ext.has_font = true;
    ext.font = font;
    m.extended_text_message = &ext;
    return s_pack(&m, out_p, out_len);
}

int
wa_status_set_audio_background(uint8_t **msg_p, size_t *len_p,
                               uint32_t background_argb)
{
    //  Decoded and packed again (unknown fields are kept): a second
    //  audioMessage appended would replace the first in some decoders
    //  (protobufjs) instead of merging into it
    if (!msg_p || !*msg_p || !len_p) {
        return -1;
    }
    Wa__E2e__Message *m = wa__e2e__message__unpack(NULL, *len_p, *msg_p);
    if (!m || !m->audio_message) {
        if (m) {
            wa__e2e__message__free_unpacked(m, NULL);
        }
        return -1;
    }
    m->audio_message->has_background_argb = true;
    m->audio_message->background_argb = background_argb;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = s_pack(m, &out, &out_len);
    wa__e2e__message__free_unpacked(m, NULL);
    if (rc != 0) {
        return -1;
    }
    free(*msg_p);
    *msg_p = out;
    *len_p = out_len;
    return 0;
}

int
wa_status_parse_color(const char *text, uint32_t *argb)
{
    if (!text) {
        return -1;
    }
    const char *p = *text == '#' ? text + 1 : text;
    size_t n = strlen(p);
    if (n != 6 && n != 8) {
        return -1;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)p[i])) {
            return -1;
        }
        char c = (char)tolower((unsigned char)p[i]);
        v = (v << 4) | (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    *argb = n == 6 ? 0xFF000000u | v : v;
    return 0;
}

wa_node_t *
wa_status_privacy_iq(void)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "status");
    wa_node_set_attr(iq, "type", "get");
    wa_node_set_attr(iq, "to", WA_JID_SERVER_PN);
    wa_node_add(iq, "privacy");
    return iq;
}

int
wa_status_privacy_parse(const wa_node_t *reply, const char **type_p,
                        char ***users_p, size_t *n_p)
{
    static const char *const types[] = {"contacts", "blacklist", "whitelist"};
    assert(reply && type_p && users_p && n_p);
    *type_p = types[0];
    *users_p = NULL;
    *n_p = 0;
    if (!wa_node_attr_eq(reply, "type", "result")) {
        return wa_iq_error_code(reply) == 404 ? 0 : -1;
    }
    const wa_node_t *privacy = wa_node_child(reply, "privacy");
    const wa_node_t *use = NULL;
    for (const wa_node_t *l =
             privacy ? wa_node_child_next(privacy, "list", NULL) : NULL;
         l; l = wa_node_child_next(privacy, "list", l)) {
        if (!use || wa_node_attr_eq(l, "default", "true")) {
            use = l;
        }
    }
    if (!use) {
        return 0;
    }
    const char *type = NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (wa_node_attr_eq(use, "type", types[i])) {
            type = types[i];
        }
    }
    if (!type) {
        return -1;
    }
    *type_p = type;
    size_t cap = 0;
    for (const wa_node_t *u = wa_node_child_next(use, "user", NULL);
         u && *n_p < WA_STATUS_PRIVACY_MAX;
         u = wa_node_child_next(use, "user", u)) {
        char *jid = wa_jid_normalize(wa_node_attr(u, "jid"));
        if (!jid) {
            continue;
        }
        if (*n_p == cap) {
            cap = cap ? cap * 2 : 16;
            *users_p = realloc(*users_p, cap * sizeof **users_p);
            assert(*users_p);
        }
        (*users_p)[(*n_p)++] = jid;
    }
    return 0;
}

char *
wa_status_find_url(const char *text)
{
    if (!text) {
        return NULL;
    }
    const char *p = text;
    while ((p = strstr(p, "http")) != NULL) {
        bool at_word = p == text || isspace((unsigned char)p[-1]) ||
                       strchr("([<\"'", p[-1]);
        size_t scheme = strncmp(p, "https://", 8) == 0  ? 8
                        : strncmp(p, "http://", 7) == 0 ? 7
                                                        : 0;
        if (at_word && scheme) {
            size_t n = scheme;
            while (p[n] && !isspace((unsigned char)p[n]) &&
                   !strchr("<>\"'", p[n])) {
                n++;
            }
            //  A sentence's full stop or comma is not part of the URL
            while (n > scheme && strchr(".,;:!?)]", p[n - 1])) {
                n--;
            }
            if (n > scheme && n <= S_URL_MAX) {
                char *url = cm_alloc(n + 1);
                memcpy(url, p, n);
                return url;
            }
        }
        p += 4;
    }
    return NULL;
}

//  ---------------------------------------------------------------------
//  Self test

void
wa_status_test(bool verbose)
{
    printf(" * wa_status: ");
    (void)verbose;
    //  Status privacy: the IQ, and the default list of a reply
    wa_node_t *piq = wa_status_privacy_iq();
    assert(wa_node_attr_eq(piq, "xmlns", "status") &&
           wa_node_attr_eq(piq, "type", "get") &&
           wa_node_child(piq, "privacy"));
    wa_node_destroy(&piq);
    const char *ptype = NULL;
    char **users = NULL;
    size_t nusers = 0;
    wa_node_t *pr = wa_node_new_from_text(
        "<iq type=\"result\"><privacy><list type=\"whitelist\"><user "
        "jid=\"1@s.whatsapp.net\"/></list><list type=\"blacklist\" "
        "default=\"true\"><user jid=\"15550000002@s.whatsapp.net\"/><user "
        "jid=\"15550000003@c.us\"/><user/></list></privacy></iq>",
        NULL);
    assert(wa_status_privacy_parse(pr, &ptype, &users, &nusers) == 0);
    assert(cm_streq(ptype, "blacklist") && nusers == 2);
    assert(cm_streq(users[0], "15550000002@s.whatsapp.net"));
    assert(cm_streq(users[1], "15550000003@s.whatsapp.net"));
    for (size_t i = 0; i < nusers; i++) {
        free(users[i]);
    }
    free(users);
    wa_node_destroy(&pr);
    //  No list, or a 404: contacts; another error or type: -1
    const char *replies[][2] = {
        {"<iq type=\"result\"/>", "0"},
        {"<iq type=\"error\"><error code=\"404\"/></iq>", "0"},
        {"<iq type=\"error\"><error code=\"500\"/></iq>", "-1"},
        {"<iq type=\"result\"><privacy><list type=\"nobody\" "
         "default=\"true\"/></privacy></iq>",
         "-1"}};
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        pr = wa_node_new_from_text(replies[i][0], NULL);
        assert(pr);
        int rc = wa_status_privacy_parse(pr, &ptype, &users, &nusers);
        assert(rc == atoi(replies[i][1]));
        assert(rc != 0 || (cm_streq(ptype, "contacts") && nusers == 0));
        wa_node_destroy(&pr);
    }
    //  Colours
    uint32_t argb = 0;
    assert(wa_status_parse_color("#38b42f", &argb) == 0 && argb == 0xFF38B42Fu);
    assert(wa_status_parse_color("80FF0000", &argb) == 0 &&
           argb == 0x80FF0000u);
    assert(wa_status_parse_color("red", &argb) == -1);
    assert(wa_status_parse_color("#12345", &argb) == -1);
    assert(wa_status_parse_color("#GGGGGG", &argb) == -1);
    assert(wa_status_parse_color("", &argb) == -1);
    assert(wa_status_parse_color(NULL, &argb) == -1);
    assert(wa_status_font_valid(0) && wa_status_font_valid(2) &&
           !wa_status_font_valid(3) && wa_status_font_valid(10) &&
           !wa_status_font_valid(11) && !wa_status_font_valid(-1));
    //  URLs
    char *url = wa_status_find_url("see https://example.org/a?b=1, ok");
    assert(cm_streq(url, "https://example.org/a?b=1"));
    free(url);
    assert(!wa_status_find_url("no link: xhttp://a.b"));
    assert(!wa_status_find_url("http://"));
    //  A text status: the fields on the wire
    uint8_t *buf = NULL;
    size_t len = 0;
    assert(wa_status_build_text("hello", 0xFF38B42Fu, 3, NULL, &buf, &len) ==
           -1);
    assert(wa_status_build_text("", 0xFF38B42Fu, 0, NULL, &buf, &len) == -1);
    wa_kinds_preview_t pv = {.url = "https://x.org"};
    assert(wa_status_build_text("hi https://x.org", 0xFF38B42Fu, 2, &pv, &buf,
                                &len) == 0);
    Wa__E2e__Message *m = wa__e2e__message__unpack(NULL, len, buf);
    assert(m && m->extended_text_message);
    Wa__E2e__ExtendedTextMessage *e = m->extended_text_message;
    assert(cm_streq(e->text, "hi https://x.org"));
    assert(cm_streq(e->matched_text, "https://x.org"));
    assert(e->has_background_argb && e->background_argb == 0xFF38B42Fu);
    assert(e->has_text_argb && e->text_argb == WA_STATUS_TEXT_ARGB);
    assert(e->has_font && e->font == 2);
    assert(!e->title && !e->has_jpeg_thumbnail && !e->has_preview_type);
    wa__e2e__message__free_unpacked(m, NULL);
    wa_message_t *wm = wa_message_decode(buf, len);
    assert(wm && cm_streq(wa_message_body(wm), "hi https://x.org"));
    wa_message_destroy(&wm);
    free(buf);
    //  A preview with the page's title, description and thumbnail
    const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 1, 2};
    pv.title = "X";
    pv.description = "About X";
    pv.thumb = jpeg;
    pv.thumb_len = sizeof jpeg;
    assert(wa_status_build_text("hi https://x.org", 0xFF38B42Fu, 0, &pv, &buf,
                                &len) == 0);
    m = wa__e2e__message__unpack(NULL, len, buf);
    e = m ? m->extended_text_message : NULL;
    assert(e && cm_streq(e->matched_text, "https://x.org"));
    assert(cm_streq(e->title, "X") && cm_streq(e->description, "About X"));
    assert(e->has_jpeg_thumbnail && e->jpeg_thumbnail.len == sizeof jpeg);
    assert(e->has_preview_type && e->preview_type == 0);
    assert(e->has_background_argb && e->has_text_argb);
    assert(!e->thumbnail_direct_path && !e->has_media_key);
    wa__e2e__message__free_unpacked(m, NULL);
    free(buf);
    //  linkPreviewHighQuality: the uploaded image's media fields
    uint8_t k32[32], s32[32], e32[32];
    memset(k32, 1, sizeof k32);
    memset(s32, 2, sizeof s32);
    memset(e32, 3, sizeof e32);
    pv.hq_path = "/o1/v/t62/hq";
    pv.hq_media_key = k32;
    pv.hq_sha256 = s32;
    pv.hq_enc_sha256 = e32;
    pv.hq_key_timestamp = 1700000000;
    pv.hq_width = 640;
    pv.hq_height = 480;
    assert(wa_status_build_text("hi https://x.org", 0xFF38B42Fu, 0, &pv, &buf,
                                &len) == 0);
    m = wa__e2e__message__unpack(NULL, len, buf);
    e = m ? m->extended_text_message : NULL;
    assert(e && cm_streq(e->thumbnail_direct_path, "/o1/v/t62/hq"));
    assert(e->has_media_key && e->media_key.len == 32 &&
           e->media_key.data[0] == 1);
    assert(e->has_thumbnail_sha256 && e->thumbnail_sha256.data[0] == 2);
    assert(e->has_thumbnail_enc_sha256 && e->thumbnail_enc_sha256.data[0] == 3);
    assert(e->media_key_timestamp == 1700000000);
    assert(e->thumbnail_width == 640 && e->thumbnail_height == 480);
    assert(e->has_jpeg_thumbnail && e->has_background_argb && e->has_font);
    wa__e2e__message__free_unpacked(m, NULL);
    free(buf);
    memset(&pv, 0, sizeof pv);
    //  A voice status gains its background colour
    Wa__E2e__Message am = WA__E2E__MESSAGE__INIT;
    Wa__E2e__AudioMessage audio = WA__E2E__AUDIO_MESSAGE__INIT;
    audio.mimetype = "audio/ogg; codecs=opus";
    audio.has_ptt = true;
    audio.ptt = true;
    am.audio_message = &audio;
    assert(s_pack(&am, &buf, &len) == 0);
    size_t before = len;
    assert(wa_status_set_audio_background(&buf, &len, 0xFF112233u) == 0);
    //  One audioMessage gains the field (tag 2 bytes + fixed32), no
    //  second audioMessage (8 bytes more) to merge
    assert(len == before + 6);
    m = wa__e2e__message__unpack(NULL, len, buf);
    assert(m && m->audio_message && m->audio_message->ptt);
    assert(cm_streq(m->audio_message->mimetype, "audio/ogg; codecs=opus"));
    assert(m->audio_message->has_background_argb &&
           m->audio_message->background_argb == 0xFF112233u);
    wa__e2e__message__free_unpacked(m, NULL);
    uint8_t *tbuf = NULL;
    size_t tlen = 0;
    assert(wa_status_build_text("x", 0, 0, NULL, &tbuf, &tlen) == 0);
    assert(wa_status_set_audio_background(&tbuf, &tlen, 1) == -1);
    free(tbuf);

    //  Sending: recipients are users; the job asks for their devices
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *client = kit->client;
    char id[WA_CLIENT_ID_MAX];
    const char *bad[] = {"120363000000000001@g.us"};
    assert(wa_status_send(client, buf, len, bad, 1, NULL, id) == -1);
    const char *dev[] = {"15550000002:3@s.whatsapp.net"};
    assert(wa_status_send(client, buf, len, dev, 1, NULL, id) == -1);
    const char *bob[] = {"15550000002@c.us"};
    assert(wa_status_send(client, buf, len, bob, 0, NULL, id) == -1);
    assert(wa_status_send(client, buf, len, bob, 1, "A_B", id) == -1);
    assert(wa_status_send(client, buf, len, bob, 1, "3EB0STATUS1", id) == 0);
    assert(cm_streq(id, "3EB0STATUS1"));
    assert(kit->deadline == kit->now);
    kit->deadline = -1;
    wa_client_wake(client);
    wa_node_t *iq = wa_client_kit_take(kit, "iq");
    assert(iq && wa_node_attr_eq(iq, "xmlns", "usync"));
    //  Bob's and our own devices are asked for
    char *text = wa_node_text(iq, 65536);
    assert(strstr(text, "15550000002@s.whatsapp.net"));
    free(text);
    wa_node_destroy(&iq);
    free(buf);
    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
