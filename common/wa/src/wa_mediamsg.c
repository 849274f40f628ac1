/*  wa_mediamsg - media messages: the session's media_conn, and building
    and reading image, video, audio, document and sticker Messages

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_mediamsg.h"
#include "wa/wa_pb.h"
#include "wa_client_int.h"

//  A caller waiting for the media_conn IQ in flight.
typedef struct _s_waiter_t {
    struct _s_waiter_t *next;
    wa_mediamsg_conn_fn *fn;
    void *arg;
} s_waiter_t;

struct _wa_mediamsg_state_t {
    char *auth;                         //  cached auth, or NULL
    char *hosts[WA_MEDIAMSG_HOSTS_MAX]; //  cached hosts
    size_t nhosts;                      //  their number
    int64_t expires;                    //  client clock (ms) it ends
    int64_t ttl_s;                      //  ttl the server gave
    bool inflight;                      //  an IQ is out
    s_waiter_t *waiters;                //  who waits for it (LIFO)
};

static void
s_cache_clear(wa_mediamsg_state_t *st)
{
    free(st->auth);
    st->auth = NULL;
    for (size_t i = 0; i < st->nhosts; i++) {
        free(st->hosts[i]);
        st->hosts[i] = NULL;
    }
    st->nhosts = 0;
    st->expires = 0;
}

//  Call every waiter with conn or error, oldest first.
static void
s_notify(wa_mediamsg_state_t *st, const wa_mediamsg_conn_t *conn,
         const char *error)
{
    //  Reverse the LIFO list so callers are answered in request order
    s_waiter_t *list = NULL;
    while (st->waiters) {
        s_waiter_t *w = st->waiters;
        st->waiters = w->next;
        w->next = list;
        list = w;
    }
    while (list) {
        s_waiter_t *w = list;
        list = w->next;
        w->fn(w->arg, conn, error);
        free(w);
    }
}

//  The cached media_conn as the callback gets it.
static void
s_view(wa_client_t *self, wa_mediamsg_conn_t *out)
{
    wa_mediamsg_state_t *st = self->media;
    memset(out, 0, sizeof *out);
    out->auth = st->auth;
    for (size_t i = 0; i < st->nhosts; i++) {
        out->hosts[i] = st->hosts[i];
    }
    out->nhosts = st->nhosts;
    int64_t left = (st->expires - wa_client_now(self)) / 1000;
    out->ttl_s = left > 0 ? left : 0;
}

//  Parse <media_conn auth ttl><host hostname/>...</media_conn> into the
//  cache. Returns 0, or -1 when it has no auth or no host.
static int
s_parse(wa_client_t *self, const wa_node_t *reply)
{
    wa_mediamsg_state_t *st = self->media;
    const wa_node_t *mc = reply ? wa_node_child(reply, "media_conn") : NULL;
    const char *auth = mc ? wa_node_attr(mc, "auth") : NULL;
    if (!auth || !*auth || strlen(auth) > 1024) {
        return -1;
    }
    s_cache_clear(st);
    for (size_t i = 0; i < wa_node_child_count(mc); i++) {
        const wa_node_t *h = wa_node_child_at(mc, i);
        const char *name =
            wa_node_is(h, "host") ? wa_node_attr(h, "hostname") : NULL;
        if (name && *name && strlen(name) < 256 &&
            st->nhosts < WA_MEDIAMSG_HOSTS_MAX) {
            st->hosts[st->nhosts++] = cm_strdup(name);
        }
    }
    if (st->nhosts == 0) {
        return -1;
    }
    st->auth = cm_strdup(auth);
    int64_t ttl = wa_node_attr_int_or(mc, "ttl", 0);
    if (ttl <= 0 || ttl > 7 * 86400) {
        ttl = 300;
    }
    st->ttl_s = ttl;
    //  Ask again a little before the server's end of it
    int64_t usable = ttl > 2 * WA_MEDIAMSG_CONN_MARGIN_S
                         ? ttl - WA_MEDIAMSG_CONN_MARGIN_S
                         : ttl / 2;
    st->expires = wa_client_now(self) + usable * 1000;
    return 0;
}

static void
s_on_reply(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_client_t *self = (wa_client_t *)arg;
    wa_mediamsg_state_t *st = self->media;
    st->inflight = false;
    if (outcome == WA_IQ_RESULT && s_parse(self, reply) == 0) {
        wa_mediamsg_conn_t conn;
        s_view(self, &conn);
        cm_log_debug("media_conn", "session=\"%s\" hosts=%zu ttl=%lld",
                     wa_client_name(self), conn.nhosts, (long long)st->ttl_s);
        s_notify(st, &conn, NULL);
        return;
    }
    const char *error =
        outcome == WA_IQ_RESULT    ? "WhatsApp sent no usable media_conn"
        : outcome == WA_IQ_ERROR   ? "WhatsApp refused the media_conn request"
        : outcome == WA_IQ_TIMEOUT ? "WhatsApp did not answer the media_conn "
                                     "request in time"
                                   : "the connection to WhatsApp was lost";
    cm_log_warn("no media_conn", "session=\"%s\" reason=\"%s\"",
                wa_client_name(self), error);
    s_notify(st, NULL, error);
}

int
wa_mediamsg_conn(wa_client_t *self, bool refresh, wa_mediamsg_conn_fn *fn,
                 void *arg)
{
    assert(self && fn);
    wa_mediamsg_state_t *st = self->media;
    if (!wa_client_ready(self)) {
        return -1;
    }
    if (!refresh && st->auth && wa_client_now(self) < st->expires) {
        wa_mediamsg_conn_t conn;
        s_view(self, &conn);
        fn(arg, &conn, NULL);
        return 0;
    }
    s_waiter_t *w = cm_alloc(sizeof *w);
    w->fn = fn;
    w->arg = arg;
    w->next = st->waiters;
    st->waiters = w;
    if (st->inflight) {
        return 0;
    }
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "to", "@s.whatsapp.net");
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "xmlns", "w:m");
    wa_node_add(iq, "media_conn");
    st->inflight = true;
    if (wa_client_request(self, &iq, s_on_reply, self) != 0) {
        wa_node_destroy(&iq);
        st->inflight = false;
        s_notify(st, NULL, "not connected to WhatsApp");
    }
    return 0;
}

//  --------------------------------------------------------------------
//  Build

static int
s_pack(const Wa__E2e__Message *m, uint8_t **out_p, size_t *out_len)
{
    size_t n = wa__e2e__message__get_packed_size(m);
    *out_p = cm_alloc(n ? n : 1);
    *out_len = wa__e2e__message__pack(m, *out_p);
    return 0;
}

static ProtobufCBinaryData
s_bin(const uint8_t *data, size_t len)
{
    ProtobufCBinaryData b = {len, (uint8_t *)data};
    return b;
}

int
wa_mediamsg_build(const wa_mediamsg_t *f, uint8_t **out_p, size_t *out_len)
{
    assert(f && out_p && out_len);
    *out_p = NULL;
    *out_len = 0;
    const char *k = f->kind;
    //  Channel media (plain) has no media key and no enc hash
    bool keyed = !f->plain;
    bool keys_ok =
        keyed ? f->media_key && f->media_key_len == 32 && f->file_enc_sha256
              : !f->media_key && !f->file_enc_sha256;
    if (!k || !f->mimetype || !*f->mimetype || !keys_ok || !f->file_sha256 ||
        !f->direct_path || *f->direct_path != '/' ||
        f->nmentions > WA_MEDIAMSG_MENTIONS_MAX) {
        return -1;
    }
    Wa__E2e__ContextInfo ctx = WA__E2E__CONTEXT_INFO__INIT;
    bool has_ctx = false;
    Wa__E2e__Message *quoted = NULL;
    if (f->reply_id) {
        ctx.stanza_id = (char *)f->reply_id;
        ctx.participant = (char *)f->reply_participant;
        ctx.remote_jid = (char *)f->reply_chat;
        //  The quoted message itself, so that apps show the quote
        if (f->quoted && f->quoted_len &&
            wa_pb_check(&wa__e2e__message__descriptor, f->quoted, f->quoted_len,
                        WA_PB_MAX_DEPTH - 2) == 0) {
            quoted = wa__e2e__message__unpack(NULL, f->quoted_len, f->quoted);
            ctx.quoted_message = quoted;
        }
        has_ctx = true;
    }
    if (f->nmentions) {
        ctx.n_mentioned_jid = f->nmentions;
        ctx.mentioned_jid = (char **)f->mentions;
        has_ctx = true;
    }
    Wa__E2e__ContextInfo *cp = has_ctx ? &ctx : NULL;
    char *caption = f->caption && *f->caption ? (char *)f->caption : NULL;
    ProtobufCBinaryData key = s_bin(f->media_key, 32);
    ProtobufCBinaryData sha = s_bin(f->file_sha256, 32);
    ProtobufCBinaryData enc = s_bin(f->file_enc_sha256, 32);
    ProtobufCBinaryData thumb = s_bin(f->thumbnail, f->thumbnail_len);
    bool has_thumb = f->thumbnail && f->thumbnail_len;
    int64_t ts = keyed ? f->media_key_timestamp : 0;

    //  The fields every media message kind has, under the same names in
    //  each kind's generated struct
#define S_WRITE_BLOB(x)                                                        \
    do {                                                                       \
        (x).url = (char *)f->url;                                              \
        (x).direct_path = (char *)f->direct_path;                              \
        (x).has_file_sha256 = 1;                                               \
        (x).file_sha256 = sha;                                                 \
        (x).has_media_key = (x).has_file_enc_sha256 = keyed;                   \
        (x).media_key = key;                                                   \
        (x).file_enc_sha256 = enc;                                             \
        (x).has_file_length = 1;                                               \
        (x).file_length = f->file_length;                                      \
        (x).has_media_key_timestamp = ts > 0;                                  \
        (x).media_key_timestamp = ts;                                          \
    } while (0)
    Wa__E2e__Message m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ImageMessage img = WA__E2E__IMAGE_MESSAGE__INIT;
    Wa__E2e__VideoMessage vid = WA__E2E__VIDEO_MESSAGE__INIT;
    Wa__E2e__AudioMessage aud = WA__E2E__AUDIO_MESSAGE__INIT;
    Wa__E2e__DocumentMessage doc = WA__E2E__DOCUMENT_MESSAGE__INIT;
    Wa__E2e__StickerMessage stk = WA__E2E__STICKER_MESSAGE__INIT;
    Wa__E2e__FutureProofMessage wrap = WA__E2E__FUTURE_PROOF_MESSAGE__INIT;
    Wa__E2e__Message inner = WA__E2E__MESSAGE__INIT;

    if (cm_streq(k, "image")) {
        img.mimetype = (char *)f->mimetype;
        img.caption = caption;
        S_WRITE_BLOB(img);
        img.has_width = img.has_height = f->width && f->height;
        img.width = f->width;
        img.height = f->height;
        img.has_jpeg_thumbnail = has_thumb;
        img.jpeg_thumbnail = thumb;
        img.context_info = cp;
        m.image_message = &img;
    } else if (cm_streq(k, "video") || cm_streq(k, "gif") ||
               cm_streq(k, "ptv")) {
        vid.mimetype = (char *)f->mimetype;
        vid.caption = cm_streq(k, "ptv") ? NULL : caption;
        S_WRITE_BLOB(vid);
        vid.has_seconds = 1;
        vid.seconds = f->seconds;
        vid.has_gif_playback = cm_streq(k, "gif");
        vid.gif_playback = cm_streq(k, "gif");
        vid.has_width = vid.has_height = f->width && f->height;
        vid.width = f->width;
        vid.height = f->height;
        vid.has_jpeg_thumbnail = has_thumb;
        vid.jpeg_thumbnail = thumb;
        vid.context_info = cp;
        if (cm_streq(k, "ptv")) {
            m.ptv_message = &vid;
        } else {
            m.video_message = &vid;
        }
    } else if (cm_streq(k, "audio") || cm_streq(k, "ptt")) {
        aud.mimetype = (char *)f->mimetype;
        S_WRITE_BLOB(aud);
        aud.has_seconds = 1;
        aud.seconds = f->seconds;
        aud.has_ptt = 1;
        aud.ptt = cm_streq(k, "ptt");
        aud.has_waveform = f->waveform && f->waveform_len;
        aud.waveform = s_bin(f->waveform, f->waveform_len);
        aud.context_info = cp;
        m.audio_message = &aud;
    } else if (cm_streq(k, "document")) {
        doc.mimetype = (char *)f->mimetype;
        doc.title = (char *)f->filename;
        doc.file_name = (char *)f->filename;
        doc.caption = caption;
        S_WRITE_BLOB(doc);
        doc.has_jpeg_thumbnail = has_thumb;
        doc.jpeg_thumbnail = thumb;
        doc.context_info = cp;
        if (caption) {
            //  A captioned document travels in its wrapper, as the apps
            //  send it
            inner.document_message = &doc;
            wrap.message = &inner;
            m.document_with_caption_message = &wrap;
        } else {
            m.document_message = &doc;
        }
    } else if (cm_streq(k, "sticker")) {
        stk.mimetype = (char *)f->mimetype;
        S_WRITE_BLOB(stk);
        stk.has_width = stk.has_height = f->width && f->height;
        stk.width = f->width;
        stk.height = f->height;
        stk.has_is_animated = f->animated;
        stk.is_animated = f->animated;
        stk.context_info = cp;
        m.sticker_message = &stk;
    } else {
        if (quoted) {
            wa__e2e__message__free_unpacked(quoted, NULL);
        }
        return -1;
    }
#undef S_WRITE_BLOB
    int rc = s_pack(&m, out_p, out_len);
    if (quoted) {
        wa__e2e__message__free_unpacked(quoted, NULL);
    }
    return rc;
}

//  --------------------------------------------------------------------
//  Read

static const uint8_t *
s_b32(bool has, ProtobufCBinaryData b)
{
    return has && b.len == 32 ? b.data : NULL;
}

//  The fields every media message kind has, under the same names in
//  each kind's generated struct
#define S_READ_BLOB(out, x)                                                    \
    do {                                                                       \
        (out)->url = (x)->url;                                                 \
        (out)->file_sha256 = s_b32((x)->has_file_sha256, (x)->file_sha256);    \
        (out)->file_enc_sha256 =                                               \
            s_b32((x)->has_file_enc_sha256, (x)->file_enc_sha256);             \
        (out)->media_key = (x)->has_media_key ? (x)->media_key.data : NULL;    \
        (out)->media_key_len = (x)->has_media_key ? (x)->media_key.len : 0;    \
        (out)->direct_path = (x)->direct_path;                                 \
        (out)->file_length = (x)->file_length;                                 \
        (out)->media_key_timestamp = (x)->media_key_timestamp;                 \
    } while (0)

int
wa_mediamsg_read(const wa_message_t *msg, wa_mediamsg_t *out)
{
    assert(out);
    memset(out, 0, sizeof *out);
    const Wa__E2e__Message *m =
        msg ? (const Wa__E2e__Message *)wa_message_content(msg) : NULL;
    if (!m) {
        return -1;
    }
    if (m->image_message) {
        const Wa__E2e__ImageMessage *x = m->image_message;
        out->kind = "image";
        out->mimetype = x->mimetype;
        out->caption = x->caption;
        S_READ_BLOB(out, x);
        out->width = x->width;
        out->height = x->height;
    } else if (m->video_message || m->ptv_message) {
        const Wa__E2e__VideoMessage *x =
            m->video_message ? m->video_message : m->ptv_message;
        out->kind = m->ptv_message ? "ptv" : x->gif_playback ? "gif" : "video";
        out->mimetype = x->mimetype;
        out->caption = x->caption;
        S_READ_BLOB(out, x);
        out->seconds = x->seconds;
        out->width = x->width;
        out->height = x->height;
    } else if (m->audio_message) {
        const Wa__E2e__AudioMessage *x = m->audio_message;
        out->kind = x->ptt ? "ptt" : "audio";
        out->mimetype = x->mimetype;
        S_READ_BLOB(out, x);
        out->seconds = x->seconds;
        out->waveform = x->has_waveform ? x->waveform.data : NULL;
        out->waveform_len = x->has_waveform ? x->waveform.len : 0;
    } else if (m->document_message) {
        const Wa__E2e__DocumentMessage *x = m->document_message;
        out->kind = "document";
        out->mimetype = x->mimetype;
        out->caption = x->caption;
        out->filename = x->file_name ? x->file_name : x->title;
        S_READ_BLOB(out, x);
    } else if (m->sticker_message) {
        const Wa__E2e__StickerMessage *x = m->sticker_message;
        out->kind = "sticker";
        out->mimetype = x->mimetype ? x->mimetype : "image/webp";
        S_READ_BLOB(out, x);
        out->width = x->width;
        out->height = x->height;
        out->animated = x->has_is_animated && x->is_animated;
    } else {
        return -1;
    }
    bool where = (out->direct_path && *out->direct_path == '/') ||
                 (out->url && *out->url);
    //  Channel media: no media key, the plaintext's hash instead
    out->plain = !out->media_key && out->file_sha256;
    bool keyed = out->media_key && out->media_key_len == 32;
    return (keyed || out->plain) && where ? 0 : -1;
}

//  --------------------------------------------------------------------
//  Capability hooks

static void
s_start(wa_client_t *self)
{
    self->media = cm_alloc(sizeof *self->media);
}

static void
s_forget(wa_client_t *self)
{
    s_cache_clear(self->media);
}

static void
s_stop(wa_client_t *self)
{
    wa_mediamsg_state_t *st = self->media;
    if (!st) {
        return;
    }
    //  The IQ was cancelled with the connection; nobody should wait, but
    //  whoever does is answered
    s_notify(st, NULL, "the session stopped");
    s_cache_clear(st);
    free(st);
    self->media = NULL;
}

const wa_client_cap_t wa_mediamsg_cap = {
    .name = "mediamsg", .start = s_start, .stop = s_stop, .forget = s_forget};

//  --------------------------------------------------------------------
//  Self test

typedef struct {
    int calls;
    char auth[64];
    char host0[64];
    size_t nhosts;
    char error[128];
} s_test_t;

static void
s_test_fn(void *arg, const wa_mediamsg_conn_t *conn, const char *error)
{
    s_test_t *t = (s_test_t *)arg;
    t->calls++;
    t->auth[0] = t->host0[0] = t->error[0] = 0;
    t->nhosts = 0;
    if (conn) {
        snprintf(t->auth, sizeof t->auth, "%s", conn->auth);
        snprintf(t->host0, sizeof t->host0, "%s", conn->hosts[0]);
        t->nhosts = conn->nhosts;
    } else {
        snprintf(t->error, sizeof t->error, "%s", error);
    }
}

//  Answer the media_conn IQ the kit recorded with `inner` (a result
//  with that content, or an error when NULL).
static void
s_answer(wa_client_kit_t *kit, const char *inner)
{
    wa_node_t *iq = wa_client_kit_take(kit, "iq");
    assert(iq);
    assert(wa_node_attr_eq(iq, "xmlns", "w:m"));
    assert(wa_node_attr_eq(iq, "type", "set"));
    assert(wa_node_child(iq, "media_conn"));
    char *text = inner ? cm_sprintf("<iq from=\"@s.whatsapp.net\" id=\"%s\" "
                                    "type=\"result\">%s</iq>",
                                    wa_node_attr(iq, "id"), inner)
                       : cm_sprintf("<iq from=\"@s.whatsapp.net\" id=\"%s\" "
                                    "type=\"error\"><error code=\"500\" "
                                    "text=\"internal-server-error\"/></iq>",
                                    wa_node_attr(iq, "id"));
    assert(wa_client_kit_handle(kit, text) == 0);
    free(text);
    wa_node_destroy(&iq);
}

void
wa_mediamsg_test(bool verbose)
{
    printf(" * wa_mediamsg: ");
    (void)verbose;

    //  media_conn: one IQ for two callers, then the cache until the ttl
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    s_test_t a = {0}, b = {0};
    assert(wa_mediamsg_conn(kit->client, false, s_test_fn, &a) == 0);
    assert(wa_mediamsg_conn(kit->client, false, s_test_fn, &b) == 0);
    assert(a.calls == 0 && b.calls == 0);
    s_answer(kit, "<media_conn auth=\"AUTH1\" ttl=\"300\"><host "
                  "hostname=\"mmg.example\"/><host hostname=\"h2.example\"/>"
                  "<other/></media_conn>");
    assert(zlistx_size(kit->out) == 0); //  one IQ only
    assert(a.calls == 1 && b.calls == 1);
    assert(cm_streq(a.auth, "AUTH1") && cm_streq(a.host0, "mmg.example"));
    assert(a.nhosts == 2 && b.nhosts == 2);
    //  Cached: answered before return, no IQ
    assert(wa_mediamsg_conn(kit->client, false, s_test_fn, &a) == 0);
    assert(a.calls == 2 && cm_streq(a.auth, "AUTH1"));
    assert(!wa_client_kit_take(kit, "iq"));
    //  Past ttl minus the margin: asked again
    kit->now += (300 - WA_MEDIAMSG_CONN_MARGIN_S) * 1000;
    assert(wa_mediamsg_conn(kit->client, false, s_test_fn, &a) == 0);
    assert(a.calls == 2);
    s_answer(kit, "<media_conn auth=\"AUTH2\" ttl=\"600\"><host "
                  "hostname=\"127.0.0.1:4443\"/></media_conn>");
    assert(a.calls == 3 && cm_streq(a.auth, "AUTH2"));
    assert(cm_streq(a.host0, "127.0.0.1:4443") && a.nhosts == 1);
    //  Refresh asks anyway; an error answers the reason
    assert(wa_mediamsg_conn(kit->client, true, s_test_fn, &a) == 0);
    s_answer(kit, NULL);
    assert(a.calls == 4 && strstr(a.error, "refused"));
    //  An answer without hosts is no media_conn
    assert(wa_mediamsg_conn(kit->client, true, s_test_fn, &a) == 0);
    s_answer(kit, "<media_conn auth=\"X\" ttl=\"10\"/>");
    assert(a.calls == 5 && strstr(a.error, "no usable"));
    //  Connection lost while asking: the waiter hears it
    assert(wa_mediamsg_conn(kit->client, true, s_test_fn, &b) == 0);
    wa_client_disconnected(kit->client, "test");
    assert(b.calls == 2 && strstr(b.error, "lost"));
    //  Not connected: refused without a call
    assert(wa_mediamsg_conn(kit->client, false, s_test_fn, &b) == -1);
    assert(b.calls == 2);
    wa_client_kit_destroy(&kit);

    //  Build and read back every kind
    uint8_t key[32], sha[32], enc[32], wave[64];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)i;
        sha[i] = (uint8_t)(100 + i);
        enc[i] = (uint8_t)(200 + i);
    }
    for (int i = 0; i < 64; i++) {
        wave[i] = (uint8_t)(i % 100);
    }
    const char *kinds[] = {"image", "video", "gif",      "ptv",
                           "audio", "ptt",   "document", "sticker"};
    const char *types[] = {"image", "video", "video",    "video",
                           "audio", "ptt",   "document", "sticker"};
    const char *mentions[] = {"15550000002@s.whatsapp.net"};
    //  The quoted message rides in the context
    uint8_t *qbuf = NULL;
    size_t qlen = 0;
    assert(wa_message_build_text("quoted words", NULL, NULL, NULL, &qbuf,
                                 &qlen) == 0);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        wa_mediamsg_t f = {0};
        f.kind = kinds[i];
        f.mimetype = "x/y";
        f.caption = "cap";
        f.filename = "a.pdf";
        f.url = "https://mmg.example/e";
        f.direct_path = "/v/t62/abc?x=1";
        f.media_key = key;
        f.media_key_len = 32;
        f.file_sha256 = sha;
        f.file_enc_sha256 = enc;
        f.file_length = 12345;
        f.media_key_timestamp = 1700000000;
        f.width = 640;
        f.height = 480;
        f.seconds = 7;
        f.waveform = wave;
        f.waveform_len = sizeof wave;
        f.animated = cm_streq(kinds[i], "sticker");
        f.reply_id = "QUOTED";
        f.reply_participant = "15550000002@s.whatsapp.net";
        f.quoted = qbuf;
        f.quoted_len = qlen;
        f.mentions = mentions;
        f.nmentions = 1;
        uint8_t *buf = NULL;
        size_t len = 0;
        assert(wa_mediamsg_build(&f, &buf, &len) == 0);
        wa_message_t *msg = wa_message_decode(buf, len);
        assert(msg);
        assert(cm_streq(wa_message_type(msg), types[i]));
        assert(wa_message_has_media(msg));
        assert(cm_streq(wa_message_mimetype(msg), "x/y"));
        assert(cm_streq(wa_message_reply_id(msg), "QUOTED"));
        const Wa__E2e__ContextInfo *ci = wa_message_context(msg);
        assert(ci && ci->quoted_message &&
               cm_streq(ci->quoted_message->conversation, "quoted words"));
        wa_mediamsg_t r;
        assert(wa_mediamsg_read(msg, &r) == 0);
        assert(cm_streq(r.kind, kinds[i]));
        assert(cm_streq(r.direct_path, "/v/t62/abc?x=1"));
        assert(cm_streq(r.url, "https://mmg.example/e"));
        assert(r.media_key_len == 32 && memcmp(r.media_key, key, 32) == 0);
        assert(memcmp(r.file_sha256, sha, 32) == 0);
        assert(memcmp(r.file_enc_sha256, enc, 32) == 0);
        assert(r.file_length == 12345);
        assert(r.media_key_timestamp == 1700000000);
        if (cm_streq(kinds[i], "image") || cm_streq(kinds[i], "video") ||
            cm_streq(kinds[i], "document")) {
            assert(cm_streq(r.caption, "cap"));
            assert(cm_streq(wa_message_body(msg), "cap"));
        }
        if (cm_streq(kinds[i], "document")) {
            assert(cm_streq(r.filename, "a.pdf"));
        }
        if (cm_streq(kinds[i], "ptt")) {
            assert(r.seconds == 7 && r.waveform_len == 64);
            assert(memcmp(r.waveform, wave, 64) == 0);
        }
        if (cm_streq(kinds[i], "image") || cm_streq(kinds[i], "sticker")) {
            assert(r.width == 640 && r.height == 480);
        }
        //  only stickers say isAnimated
        assert(r.animated == cm_streq(kinds[i], "sticker"));
        wa_message_destroy(&msg);
        free(buf);
    }
    free(qbuf);
    //  Missing fields: nothing built
    wa_mediamsg_t bad = {0};
    bad.kind = "image";
    bad.mimetype = "image/jpeg";
    uint8_t *buf = NULL;
    size_t len = 0;
    assert(wa_mediamsg_build(&bad, &buf, &len) == -1);
    bad.media_key = key;
    bad.media_key_len = 16;
    bad.file_sha256 = sha;
    bad.file_enc_sha256 = enc;
    bad.direct_path = "/p";
    assert(wa_mediamsg_build(&bad, &buf, &len) == -1);
    bad.media_key_len = 32;
    bad.kind = "gif89";
    assert(wa_mediamsg_build(&bad, &buf, &len) == -1);
    //  A text is no media message; a media message without a key cannot
    //  be downloaded
    assert(wa_message_build_text("hi", NULL, NULL, NULL, &buf, &len) == 0);
    wa_message_t *msg = wa_message_decode(buf, len);
    wa_mediamsg_t r;
    assert(msg && wa_mediamsg_read(msg, &r) == -1);
    wa_message_destroy(&msg);
    free(buf);
    Wa__E2e__Message m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ImageMessage img = WA__E2E__IMAGE_MESSAGE__INIT;
    img.mimetype = "image/jpeg";
    img.direct_path = "/p";
    m.image_message = &img;
    s_pack(&m, &buf, &len);
    msg = wa_message_decode(buf, len);
    assert(msg && wa_mediamsg_read(msg, &r) == -1);
    assert(cm_streq(r.kind, "image"));
    wa_message_destroy(&msg);
    free(buf);

    //  Channel media: plain, no key, no enc hash, no key timestamp
    wa_mediamsg_t pl = {0};
    pl.kind = "image";
    pl.mimetype = "image/jpeg";
    pl.direct_path = "/v/t62.7161-24/abc";
    pl.file_sha256 = sha;
    pl.file_length = 99;
    pl.media_key_timestamp = 1700000000;
    pl.plain = true;
    assert(wa_mediamsg_build(&pl, &buf, &len) == 0);
    msg = wa_message_decode(buf, len);
    const Wa__E2e__Message *pm =
        (const Wa__E2e__Message *)wa_message_content(msg);
    assert(pm && pm->image_message);
    assert(!pm->image_message->has_media_key);
    assert(!pm->image_message->has_file_enc_sha256);
    assert(!pm->image_message->has_media_key_timestamp);
    assert(pm->image_message->has_file_sha256);
    assert(wa_mediamsg_read(msg, &r) == 0);
    assert(r.plain && !r.media_key && !r.file_enc_sha256);
    assert(memcmp(r.file_sha256, sha, 32) == 0 && r.file_length == 99);
    wa_message_destroy(&msg);
    free(buf);
    //  plain with a key or an enc hash is refused, as is a keyed one
    //  without them
    pl.media_key = key;
    pl.media_key_len = 32;
    assert(wa_mediamsg_build(&pl, &buf, &len) == -1);
    pl.media_key = NULL;
    pl.media_key_len = 0;
    pl.file_enc_sha256 = enc;
    assert(wa_mediamsg_build(&pl, &buf, &len) == -1);
    pl.file_enc_sha256 = NULL;
    pl.plain = false;
    assert(wa_mediamsg_build(&pl, &buf, &len) == -1);
    printf("OK\n");
}
