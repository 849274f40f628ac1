/*  wa_kinds - the message kinds beyond plain text

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_kinds.h"
#include "wa/wa_pb.h"
#include "wa_client_int.h"

//  Largest serialised Message built.
#define S_MAX (4 * 1024 * 1024)
//  IV length of votes and event responses.
#define S_IV_LEN 12
//  Longest vote or response plaintext opened.
#define S_OPEN_MAX 4096

typedef Wa__E2e__Message s_pbmsg_t;

const wa_client_cap_t wa_kinds_cap = {.name = "kinds"};

int
wa_kinds_send(wa_client_t *client, const char *chat, const uint8_t *msg,
              size_t len, const char *want, char id[WA_CLIENT_ID_MAX])
{
    if (want) {
        for (const char *p = want; *p; p++) {
            //  ids are printable and never carry the separators of WAHA's
            //  long ids
            if (*p <= ' ' || *p > '~' || *p == '_' || *p == '@') {
                return -1;
            }
        }
    }
    return wa_outbox_send_message_as(client, chat, msg, len, want, id);
}

static int
s_pack(const s_pbmsg_t *m, uint8_t **out_p, size_t *out_len)
{
    size_t n = wa__e2e__message__get_packed_size(m);
    if (n > S_MAX) {
        return -1;
    }
    *out_p = cm_alloc(n ? n : 1);
    *out_len = wa__e2e__message__pack(m, *out_p);
    return 0;
}

//  Fill ctx_pb from ctx; *quoted_p gets the unpacked quoted Message to
//  free after packing. Returns the ContextInfo to attach, or NULL.
static Wa__E2e__ContextInfo *
s_context(const wa_kinds_context_t *ctx, Wa__E2e__ContextInfo *pb,
          s_pbmsg_t **quoted_p)
{
    *quoted_p = NULL;
    if (!ctx) {
        return NULL;
    }
    bool any = false;
    if (ctx->reply_id) {
        pb->stanza_id = (char *)ctx->reply_id;
        pb->participant = (char *)ctx->reply_participant;
        pb->remote_jid = (char *)ctx->reply_chat;
        if (ctx->quoted && ctx->quoted_len &&
            wa_pb_check(&wa__e2e__message__descriptor, ctx->quoted,
                        ctx->quoted_len, WA_PB_MAX_DEPTH - 2) == 0) {
            *quoted_p =
                wa__e2e__message__unpack(NULL, ctx->quoted_len, ctx->quoted);
            pb->quoted_message = *quoted_p;
        }
        any = true;
    }
    if (ctx->nmentions) {
        pb->n_mentioned_jid = ctx->nmentions;
        pb->mentioned_jid = (char **)ctx->mentions;
        any = true;
    }
    if (ctx->forwarded) {
        pb->has_is_forwarded = true;
        pb->is_forwarded = true;
        any = true;
    }
    return any ? pb : NULL;
}

static void
s_key(const wa_kinds_key_t *k, Wa__E2e__MessageKey *pb)
{
    pb->remote_jid = (char *)k->chat;
    pb->has_from_me = true;
    pb->from_me = k->from_me;
    pb->id = (char *)k->id;
    pb->participant = (char *)k->participant;
}

void
wa_kinds_set_preview(Wa__E2e__ExtendedTextMessage *ext,
                     const wa_kinds_preview_t *preview)
{
    ext->matched_text = (char *)preview->url;
    ext->title = (char *)preview->title;
    ext->description = (char *)preview->description;
    if (preview->thumb && preview->thumb_len) {
        ext->has_jpeg_thumbnail = true;
        ext->jpeg_thumbnail.data = (uint8_t *)preview->thumb;
        ext->jpeg_thumbnail.len = preview->thumb_len;
    }
    ext->has_preview_type = true; //  0: a page
    if (preview->hq_path && preview->hq_media_key && preview->hq_sha256 &&
        preview->hq_enc_sha256) {
        ext->thumbnail_direct_path = (char *)preview->hq_path;
        ext->has_media_key = true;
        ext->media_key.data = (uint8_t *)preview->hq_media_key;
        ext->media_key.len = 32;
        ext->has_thumbnail_sha256 = true;
        ext->thumbnail_sha256.data = (uint8_t *)preview->hq_sha256;
        ext->thumbnail_sha256.len = 32;
        ext->has_thumbnail_enc_sha256 = true;
        ext->thumbnail_enc_sha256.data = (uint8_t *)preview->hq_enc_sha256;
        ext->thumbnail_enc_sha256.len = 32;
        ext->has_media_key_timestamp = true;
        ext->media_key_timestamp = preview->hq_key_timestamp;
        ext->has_thumbnail_width = preview->hq_width > 0;
        ext->thumbnail_width = preview->hq_width;
        ext->has_thumbnail_height = preview->hq_height > 0;
        ext->thumbnail_height = preview->hq_height;
    }
}

int
wa_kinds_build_text(const char *text, const wa_kinds_context_t *ctx,
                    const wa_kinds_preview_t *preview, uint8_t **out_p,
                    size_t *out_len)
{
    if (!text) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ExtendedTextMessage ext = WA__E2E__EXTENDED_TEXT_MESSAGE__INIT;
    Wa__E2e__ContextInfo cpb = WA__E2E__CONTEXT_INFO__INIT;
    s_pbmsg_t *quoted = NULL;
    ext.context_info = s_context(ctx, &cpb, &quoted);
    if (!ext.context_info && !preview) {
        m.conversation = (char *)text;
    } else {
        ext.text = (char *)text;
        if (preview) {
            wa_kinds_set_preview(&ext, preview);
        }
        m.extended_text_message = &ext;
    }
    int rc = s_pack(&m, out_p, out_len);
    if (quoted) {
        wa__e2e__message__free_unpacked(quoted, NULL);
    }
    return rc;
}

int
wa_kinds_build_location(double latitude, double longitude, const char *name,
                        const char *address, const wa_kinds_context_t *ctx,
                        uint8_t **out_p, size_t *out_len)
{
    if (!isfinite(latitude) || !isfinite(longitude) || latitude < -90 ||
        latitude > 90 || longitude < -180 || longitude > 180) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__LocationMessage loc = WA__E2E__LOCATION_MESSAGE__INIT;
    Wa__E2e__ContextInfo cpb = WA__E2E__CONTEXT_INFO__INIT;
    s_pbmsg_t *quoted = NULL;
    loc.has_degrees_latitude = true;
    loc.degrees_latitude = latitude;
    loc.has_degrees_longitude = true;
    loc.degrees_longitude = longitude;
    loc.name = (char *)name;
    loc.address = (char *)address;
    loc.context_info = s_context(ctx, &cpb, &quoted);
    m.location_message = &loc;
    int rc = s_pack(&m, out_p, out_len);
    if (quoted) {
        wa__e2e__message__free_unpacked(quoted, NULL);
    }
    return rc;
}

int
wa_kinds_build_contacts(const char *const *names, const char *const *vcards,
                        size_t n, const wa_kinds_context_t *ctx,
                        uint8_t **out_p, size_t *out_len)
{
    if (n == 0 || n > WA_KINDS_CONTACTS_MAX) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !*names[i] || !vcards[i] || !*vcards[i]) {
            return -1;
        }
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ContextInfo cpb = WA__E2E__CONTEXT_INFO__INIT;
    s_pbmsg_t *quoted = NULL;
    Wa__E2e__ContextInfo *cinfo = s_context(ctx, &cpb, &quoted);
    Wa__E2e__ContactMessage *cards = cm_alloc(n * sizeof *cards);
    Wa__E2e__ContactMessage **ptrs = cm_alloc(n * sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        wa__e2e__contact_message__init(&cards[i]);
        cards[i].display_name = (char *)names[i];
        cards[i].vcard = (char *)vcards[i];
        ptrs[i] = &cards[i];
    }
    Wa__E2e__ContactsArrayMessage arr = WA__E2E__CONTACTS_ARRAY_MESSAGE__INIT;
    if (n == 1) {
        cards[0].context_info = cinfo;
        m.contact_message = &cards[0];
    } else {
        arr.display_name = cm_sprintf("%zu contacts", n);
        arr.n_contacts = n;
        arr.contacts = ptrs;
        arr.context_info = cinfo;
        m.contacts_array_message = &arr;
    }
    int rc = s_pack(&m, out_p, out_len);
    free(arr.display_name);
    free(ptrs);
    free(cards);
    if (quoted) {
        wa__e2e__message__free_unpacked(quoted, NULL);
    }
    return rc;
}

static bool
s_text_ok(const char *s)
{
    return s && *s && strlen(s) <= WA_KINDS_POLL_TEXT_MAX;
}

int
wa_kinds_build_poll(const char *name, const char *const *options, size_t n,
                    bool multiple, const uint8_t secret[WA_KINDS_SECRET_LEN],
                    const wa_kinds_context_t *ctx, uint8_t **out_p,
                    size_t *out_len)
{
    if (!s_text_ok(name) || n < WA_KINDS_POLL_OPTIONS_MIN ||
        n > WA_KINDS_POLL_OPTIONS_MAX || !secret) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!s_text_ok(options[i])) {
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (cm_streq(options[i], options[j])) {
                return -1; //  votes name options by their hash
            }
        }
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__PollCreationMessage poll = WA__E2E__POLL_CREATION_MESSAGE__INIT;
    Wa__E2e__MessageContextInfo mci = WA__E2E__MESSAGE_CONTEXT_INFO__INIT;
    Wa__E2e__ContextInfo cpb = WA__E2E__CONTEXT_INFO__INIT;
    s_pbmsg_t *quoted = NULL;
    Wa__E2e__PollOption *opts = cm_alloc(n * sizeof *opts);
    Wa__E2e__PollOption **ptrs = cm_alloc(n * sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        wa__e2e__poll_option__init(&opts[i]);
        opts[i].option_name = (char *)options[i];
        ptrs[i] = &opts[i];
    }
    poll.name = (char *)name;
    poll.n_options = n;
    poll.options = ptrs;
    poll.has_selectable_options_count = true;
    poll.selectable_options_count = multiple ? 0 : 1;
    poll.context_info = s_context(ctx, &cpb, &quoted);
    mci.has_message_secret = true;
    mci.message_secret.data = (uint8_t *)secret;
    mci.message_secret.len = WA_KINDS_SECRET_LEN;
    //  Single-choice polls are version 3, as WhatsApp's apps send them
    if (multiple) {
        m.poll_creation_message = &poll;
    } else {
        m.poll_creation_message_v3 = &poll;
    }
    m.message_context_info = &mci;
    int rc = s_pack(&m, out_p, out_len);
    free(ptrs);
    free(opts);
    if (quoted) {
        wa__e2e__message__free_unpacked(quoted, NULL);
    }
    return rc;
}

//  The key of a vote or event response (see the header).
static int
s_derive(const char *id, const char *creator, const char *voter,
         const char *purpose, const uint8_t secret[WA_KINDS_SECRET_LEN],
         uint8_t key[WA_SHA256_LEN])
{
    uint8_t zero[32] = {0};
    uint8_t k0[WA_SHA256_LEN];
    if (wa_hmac_sha256(zero, sizeof zero, secret, WA_KINDS_SECRET_LEN, k0)) {
        return -1;
    }
    const uint8_t one = 1;
    wa_part_t parts[] = {{id, strlen(id)},
                         {creator, strlen(creator)},
                         {voter, strlen(voter)},
                         {purpose, strlen(purpose)},
                         {&one, 1}};
    int rc = wa_hmac_sha256_parts(k0, sizeof k0, parts, 5, key);
    explicit_bzero(k0, sizeof k0);
    return rc;
}

//  Seal plain for (id, creator, voter, purpose): ciphertext||tag into
//  *ct_p, IV into iv. 0 or -1.
static int
s_seal(const char *id, const char *creator, const char *voter,
       const char *purpose, const uint8_t secret[WA_KINDS_SECRET_LEN],
       const uint8_t *plain, size_t len, uint8_t iv[S_IV_LEN], uint8_t **ct_p)
{
    uint8_t key[WA_SHA256_LEN];
    if (s_derive(id, creator, voter, purpose, secret, key) ||
        wa_random(iv, S_IV_LEN)) {
        return -1;
    }
    char *aad = cm_sprintf("%s%c%s", id, 0, voter);
    size_t aad_len = strlen(id) + 1 + strlen(voter);
    *ct_p = cm_alloc(len + 16);
    int rc =
        wa_aes_gcm_encrypt(key, iv, S_IV_LEN, aad, aad_len, plain, len, *ct_p);
    free(aad);
    explicit_bzero(key, sizeof key);
    if (rc) {
        free(*ct_p);
        *ct_p = NULL;
    }
    return rc;
}

//  Open ct (with tag) for (id, creator, voter, purpose): *plain_p
//  (caller owns) and *len. 0 or -1.
static int
s_open(const char *id, const char *creator, const char *voter,
       const char *purpose, const uint8_t secret[WA_KINDS_SECRET_LEN],
       const uint8_t *ct, size_t ct_len, const uint8_t *iv, size_t iv_len,
       uint8_t **plain_p, size_t *len)
{
    if (!id || !creator || !voter || !ct || ct_len < 16 ||
        ct_len > S_OPEN_MAX || !iv || iv_len == 0 || iv_len > 64) {
        return -1;
    }
    uint8_t key[WA_SHA256_LEN];
    if (s_derive(id, creator, voter, purpose, secret, key)) {
        return -1;
    }
    char *aad = cm_sprintf("%s%c%s", id, 0, voter);
    size_t aad_len = strlen(id) + 1 + strlen(voter);
    *plain_p = cm_alloc(ct_len - 16 + 1);
    int rc =
        wa_aes_gcm_decrypt(key, iv, iv_len, aad, aad_len, ct, ct_len, *plain_p);
    free(aad);
    explicit_bzero(key, sizeof key);
    if (rc) {
        free(*plain_p);
        *plain_p = NULL;
        return -1;
    }
    *len = ct_len - 16;
    return 0;
}

void
wa_kinds_option_hash(const char *name, uint8_t out[WA_KINDS_HASH_LEN])
{
    int rc = wa_sha256(name, strlen(name), out);
    assert(rc == 0);
}

int
wa_kinds_build_vote(const wa_kinds_key_t *poll, const char *creator,
                    const char *voter,
                    const uint8_t secret[WA_KINDS_SECRET_LEN],
                    const char *const *selected, size_t n, int64_t timestamp_ms,
                    uint8_t **out_p, size_t *out_len)
{
    if (!poll || !poll->id || !poll->chat || !creator || !voter || !secret ||
        n > WA_KINDS_POLL_OPTIONS_MAX) {
        return -1;
    }
    //  The plaintext: the hashes of the chosen options
    uint8_t(*hashes)[WA_KINDS_HASH_LEN] =
        cm_alloc((n ? n : 1) * sizeof *hashes);
    ProtobufCBinaryData *bins = cm_alloc((n ? n : 1) * sizeof *bins);
    for (size_t i = 0; i < n; i++) {
        if (!selected[i]) {
            free(hashes);
            free(bins);
            return -1;
        }
        wa_kinds_option_hash(selected[i], hashes[i]);
        bins[i].data = hashes[i];
        bins[i].len = WA_KINDS_HASH_LEN;
    }
    Wa__E2e__PollVoteMessage vote = WA__E2E__POLL_VOTE_MESSAGE__INIT;
    vote.n_selected_options = n;
    vote.selected_options = bins;
    size_t plen = wa__e2e__poll_vote_message__get_packed_size(&vote);
    uint8_t *plain = cm_alloc(plen ? plen : 1);
    wa__e2e__poll_vote_message__pack(&vote, plain);
    free(bins);
    free(hashes);
    uint8_t iv[S_IV_LEN];
    uint8_t *ct = NULL;
    int rc = s_seal(poll->id, creator, voter, "Poll Vote", secret, plain, plen,
                    iv, &ct);
    free(plain);
    if (rc) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__PollUpdateMessage up = WA__E2E__POLL_UPDATE_MESSAGE__INIT;
    Wa__E2e__PollEncValue enc = WA__E2E__POLL_ENC_VALUE__INIT;
    Wa__E2e__MessageKey key = WA__E2E__MESSAGE_KEY__INIT;
    s_key(poll, &key);
    enc.has_enc_payload = true;
    enc.enc_payload.data = ct;
    enc.enc_payload.len = plen + 16;
    enc.has_enc_iv = true;
    enc.enc_iv.data = iv;
    enc.enc_iv.len = S_IV_LEN;
    up.poll_creation_message_key = &key;
    up.vote = &enc;
    up.has_sender_timestamp_ms = true;
    up.sender_timestamp_ms = timestamp_ms;
    m.poll_update_message = &up;
    rc = s_pack(&m, out_p, out_len);
    free(ct);
    return rc;
}

int
wa_kinds_build_edit(const wa_kinds_key_t *key, const char *text,
                    int64_t timestamp_ms, uint8_t **out_p, size_t *out_len)
{
    if (!key || !key->id || !key->chat || !text || !*text) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    s_pbmsg_t edited = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ProtocolMessage p = WA__E2E__PROTOCOL_MESSAGE__INIT;
    Wa__E2e__MessageKey k = WA__E2E__MESSAGE_KEY__INIT;
    s_key(key, &k);
    edited.conversation = (char *)text;
    p.key = &k;
    p.has_type = true;
    p.type = WA__E2E__PROTOCOL_MESSAGE__TYPE__MESSAGE_EDIT;
    p.edited_message = &edited;
    p.has_timestamp_ms = true;
    p.timestamp_ms = timestamp_ms;
    m.protocol_message = &p;
    return s_pack(&m, out_p, out_len);
}

int
wa_kinds_build_revoke(const wa_kinds_key_t *key, uint8_t **out_p,
                      size_t *out_len)
{
    if (!key || !key->id || !key->chat) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ProtocolMessage p = WA__E2E__PROTOCOL_MESSAGE__INIT;
    Wa__E2e__MessageKey k = WA__E2E__MESSAGE_KEY__INIT;
    s_key(key, &k);
    p.key = &k;
    p.has_type = true;
    p.type = WA__E2E__PROTOCOL_MESSAGE__TYPE__REVOKE;
    m.protocol_message = &p;
    return s_pack(&m, out_p, out_len);
}

int
wa_kinds_build_pin(const wa_kinds_key_t *key, bool pin, uint32_t duration,
                   int64_t timestamp_ms, uint8_t **out_p, size_t *out_len)
{
    if (!key || !key->id || !key->chat) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__PinInChatMessage p = WA__E2E__PIN_IN_CHAT_MESSAGE__INIT;
    Wa__E2e__MessageKey k = WA__E2E__MESSAGE_KEY__INIT;
    Wa__E2e__MessageContextInfo mci = WA__E2E__MESSAGE_CONTEXT_INFO__INIT;
    s_key(key, &k);
    p.key = &k;
    p.has_type = true;
    p.type = pin ? WA__E2E__PIN_IN_CHAT_MESSAGE__TYPE__PIN_FOR_ALL
                 : WA__E2E__PIN_IN_CHAT_MESSAGE__TYPE__UNPIN_FOR_ALL;
    p.has_sender_timestamp_ms = true;
    p.sender_timestamp_ms = timestamp_ms;
    mci.has_message_add_on_duration_in_secs = true;
    mci.message_add_on_duration_in_secs = pin ? duration : 0;
    m.pin_in_chat_message = &p;
    m.message_context_info = &mci;
    return s_pack(&m, out_p, out_len);
}

int
wa_kinds_build_event(const wa_kinds_event_t *event,
                     const uint8_t secret[WA_KINDS_SECRET_LEN],
                     const wa_kinds_context_t *ctx, uint8_t **out_p,
                     size_t *out_len)
{
    if (!event || !event->name || !*event->name || !secret ||
        event->start_time <= 0 ||
        (event->end_time && event->end_time < event->start_time)) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__EventMessage ev = WA__E2E__EVENT_MESSAGE__INIT;
    Wa__E2e__LocationMessage loc = WA__E2E__LOCATION_MESSAGE__INIT;
    Wa__E2e__MessageContextInfo mci = WA__E2E__MESSAGE_CONTEXT_INFO__INIT;
    Wa__E2e__ContextInfo cpb = WA__E2E__CONTEXT_INFO__INIT;
    s_pbmsg_t *quoted = NULL;
    ev.name = (char *)event->name;
    ev.description = (char *)event->description;
    ev.has_start_time = true;
    ev.start_time = event->start_time;
    if (event->end_time) {
        ev.has_end_time = true;
        ev.end_time = event->end_time;
    }
    if (event->location) {
        loc.name = (char *)event->location;
        ev.location = &loc;
    }
    ev.has_extra_guests_allowed = true;
    ev.extra_guests_allowed = event->extra_guests;
    ev.has_is_canceled = true;
    ev.is_canceled = false;
    ev.context_info = s_context(ctx, &cpb, &quoted);
    mci.has_message_secret = true;
    mci.message_secret.data = (uint8_t *)secret;
    mci.message_secret.len = WA_KINDS_SECRET_LEN;
    m.event_message = &ev;
    m.message_context_info = &mci;
    int rc = s_pack(&m, out_p, out_len);
    if (quoted) {
        wa__e2e__message__free_unpacked(quoted, NULL);
    }
    return rc;
}

int
wa_kinds_build_event_response(const wa_kinds_key_t *event, const char *creator,
                              const char *responder,
                              const uint8_t secret[WA_KINDS_SECRET_LEN],
                              int response, int64_t timestamp_ms,
                              uint8_t **out_p, size_t *out_len)
{
    if (!event || !event->id || !event->chat || !creator || !responder ||
        !secret || response < 0 || response > 3) {
        return -1;
    }
    Wa__E2e__EventResponseMessage r = WA__E2E__EVENT_RESPONSE_MESSAGE__INIT;
    r.has_response = true;
    r.response = (Wa__E2e__EventResponseMessage__Response)response;
    r.has_timestamp_ms = true;
    r.timestamp_ms = timestamp_ms;
    size_t plen = wa__e2e__event_response_message__get_packed_size(&r);
    uint8_t *plain = cm_alloc(plen ? plen : 1);
    wa__e2e__event_response_message__pack(&r, plain);
    uint8_t iv[S_IV_LEN];
    uint8_t *ct = NULL;
    int rc = s_seal(event->id, creator, responder, "Event Response", secret,
                    plain, plen, iv, &ct);
    free(plain);
    if (rc) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__EncEventResponseMessage enc =
        WA__E2E__ENC_EVENT_RESPONSE_MESSAGE__INIT;
    Wa__E2e__MessageKey key = WA__E2E__MESSAGE_KEY__INIT;
    s_key(event, &key);
    enc.event_creation_message_key = &key;
    enc.has_enc_payload = true;
    enc.enc_payload.data = ct;
    enc.enc_payload.len = plen + 16;
    enc.has_enc_iv = true;
    enc.enc_iv.data = iv;
    enc.enc_iv.len = S_IV_LEN;
    m.enc_event_response_message = &enc;
    rc = s_pack(&m, out_p, out_len);
    free(ct);
    return rc;
}

//  The ContextInfo field of the content kind of m, for writing.
static Wa__E2e__ContextInfo **
s_context_slot(s_pbmsg_t *m)
{
    if (m->extended_text_message) {
        return &m->extended_text_message->context_info;
    }
    if (m->image_message) {
        return &m->image_message->context_info;
    }
    if (m->video_message) {
        return &m->video_message->context_info;
    }
    if (m->audio_message) {
        return &m->audio_message->context_info;
    }
    if (m->document_message) {
        return &m->document_message->context_info;
    }
    if (m->location_message) {
        return &m->location_message->context_info;
    }
    if (m->contact_message) {
        return &m->contact_message->context_info;
    }
    if (m->contacts_array_message) {
        return &m->contacts_array_message->context_info;
    }
    return NULL;
}

int
wa_kinds_build_forward(const uint8_t *msg, size_t len, uint8_t **out_p,
                       size_t *out_len)
{
    wa_message_t *orig = msg ? wa_message_decode(msg, len) : NULL;
    if (!orig) {
        return -1;
    }
    //  Repack the content alone (no wrappers, no secret), marked forwarded
    size_t n = wa__e2e__message__get_packed_size(wa_message_content(orig));
    uint8_t *buf = cm_alloc(n ? n : 1);
    wa__e2e__message__pack(wa_message_content(orig), buf);
    wa_message_destroy(&orig);
    s_pbmsg_t *m = wa__e2e__message__unpack(NULL, n, buf);
    free(buf);
    if (!m) {
        return -1;
    }
    //  No secret or device list of the original goes along
    Wa__E2e__MessageContextInfo *mci = m->message_context_info;
    m->message_context_info = NULL;
    Wa__E2e__ContextInfo fwd = WA__E2E__CONTEXT_INFO__INIT;
    fwd.has_is_forwarded = true;
    fwd.is_forwarded = true;
    char *saved_conv = NULL;
    Wa__E2e__ExtendedTextMessage ext = WA__E2E__EXTENDED_TEXT_MESSAGE__INIT;
    Wa__E2e__ContextInfo **slot = s_context_slot(m);
    Wa__E2e__ContextInfo *old = slot ? *slot : NULL;
    if (m->conversation) {
        //  A plain text is forwarded as an extended text
        saved_conv = m->conversation;
        ext.text = saved_conv;
        ext.context_info = &fwd;
        m->conversation = NULL;
        m->extended_text_message = &ext;
    } else if (slot) {
        *slot = &fwd;
    } else if (!m->poll_creation_message && !m->poll_creation_message_v3 &&
               !m->event_message) {
        m->message_context_info = mci;
        wa__e2e__message__free_unpacked(m, NULL);
        return -1;
    }
    int rc = s_pack(m, out_p, out_len);
    //  Put back what free_unpacked owns
    if (saved_conv) {
        m->extended_text_message = NULL;
        m->conversation = saved_conv;
    } else if (slot) {
        *slot = old;
    }
    m->message_context_info = mci;
    wa__e2e__message__free_unpacked(m, NULL);
    return rc;
}

const char *
wa_kinds_edit_attr(const uint8_t *msg, size_t len)
{
    wa_message_t *m = wa_message_decode(msg, len);
    if (!m) {
        return NULL;
    }
    const s_pbmsg_t *c = wa_message_content(m);
    const char *attr = NULL;
    if (c->pin_in_chat_message) {
        attr = "2";
    } else if (c->protocol_message && c->protocol_message->has_type) {
        if (c->protocol_message->type ==
            WA__E2E__PROTOCOL_MESSAGE__TYPE__MESSAGE_EDIT) {
            attr = "1";
        } else if (c->protocol_message->type ==
                   WA__E2E__PROTOCOL_MESSAGE__TYPE__REVOKE) {
            attr = "7";
        }
    }
    wa_message_destroy(&m);
    return attr;
}

//  --------------------------------------------------------------------
//  Readers

void
wa_kinds_degrees(double v, char out[WA_KINDS_DEGREES_MAX])
{
    //  The shortest text that reads back as the same number
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, WA_KINDS_DEGREES_MAX, "%.*g", prec, v);
        if (strtod(out, NULL) == v) {
            return;
        }
    }
}

static json_t *
s_location(const Wa__E2e__LocationMessage *l, bool live)
{
    json_t *o = json_object();
    char text[WA_KINDS_DEGREES_MAX];
    wa_kinds_degrees(l->degrees_latitude, text);
    json_object_set_new(o, "latitude", json_string(text));
    wa_kinds_degrees(l->degrees_longitude, text);
    json_object_set_new(o, "longitude", json_string(text));
    json_object_set_new(o, "live", json_boolean(live || l->is_live));
    if (l->name) {
        json_object_set_new(o, "name", json_string(l->name));
    }
    if (l->address) {
        json_object_set_new(o, "address", json_string(l->address));
    }
    if (l->url) {
        json_object_set_new(o, "url", json_string(l->url));
    }
    if (l->comment) {
        json_object_set_new(o, "description", json_string(l->comment));
    }
    return o;
}

static void
s_set_str(json_t *o, const char *key, const char *v)
{
    if (v && json_is_object(o)) {
        json_t *s = json_string(v);
        if (s) { //  NULL when not valid UTF-8
            json_object_set_new(o, key, s);
        }
    }
}

//  bytes as base64 into o[key] when present
static void
s_set_b64(json_t *o, const char *key, bool has, ProtobufCBinaryData b)
{
    if (has && b.len) {
        char *v = cm_base64_encode(b.data, b.len);
        json_object_set_new(o, key, json_string(v));
        free(v);
    }
}

//  linkPreview of a text with a preview
static json_t *
s_link_preview(const Wa__E2e__ExtendedTextMessage *ext)
{
    json_t *p = json_object();
    s_set_str(p, "url", ext->matched_text);
    s_set_str(p, "canonicalUrl", ext->canonical_url);
    s_set_str(p, "title", ext->title);
    s_set_str(p, "description", ext->description);
    s_set_b64(p, "thumbnail", ext->has_jpeg_thumbnail, ext->jpeg_thumbnail);
    return p;
}

int
wa_kinds_preview_read(const wa_message_t *msg, wa_kinds_preview_t *out)
{
    assert(out);
    memset(out, 0, sizeof *out);
    const s_pbmsg_t *m = msg ? wa_message_content(msg) : NULL;
    const Wa__E2e__ExtendedTextMessage *ext =
        m ? m->extended_text_message : NULL;
    if (!ext || !ext->matched_text || !*ext->matched_text) {
        return -1;
    }
    out->url = ext->matched_text;
    out->title = ext->title;
    out->description = ext->description;
    if (ext->has_jpeg_thumbnail && ext->jpeg_thumbnail.len) {
        out->thumb = ext->jpeg_thumbnail.data;
        out->thumb_len = ext->jpeg_thumbnail.len;
    }
    //  The high-quality image: all of its keys and hashes, or nothing
    if (ext->thumbnail_direct_path && *ext->thumbnail_direct_path == '/' &&
        ext->has_media_key && ext->media_key.len == 32 &&
        ext->has_thumbnail_sha256 && ext->thumbnail_sha256.len == 32 &&
        ext->has_thumbnail_enc_sha256 && ext->thumbnail_enc_sha256.len == 32) {
        out->hq_path = ext->thumbnail_direct_path;
        out->hq_media_key = ext->media_key.data;
        out->hq_sha256 = ext->thumbnail_sha256.data;
        out->hq_enc_sha256 = ext->thumbnail_enc_sha256.data;
        out->hq_key_timestamp =
            ext->has_media_key_timestamp ? ext->media_key_timestamp : 0;
        out->hq_width = ext->has_thumbnail_width ? ext->thumbnail_width : 0;
        out->hq_height = ext->has_thumbnail_height ? ext->thumbnail_height : 0;
    }
    return 0;
}

json_t *
wa_kinds_describe(const wa_message_t *msg)
{
    const s_pbmsg_t *m = wa_message_content(msg);
    json_t *out = json_object();
    if (m->location_message) {
        json_object_set_new(out, "location",
                            s_location(m->location_message, false));
    }
    if (m->contact_message && m->contact_message->vcard) {
        json_t *a = json_array();
        json_array_append_new(a, json_string(m->contact_message->vcard));
        json_object_set_new(out, "vCards", a);
    }
    if (m->contacts_array_message) {
        json_t *a = json_array();
        for (size_t i = 0; i < m->contacts_array_message->n_contacts; i++) {
            const char *v = m->contacts_array_message->contacts[i]->vcard;
            json_t *s = v ? json_string(v) : NULL;
            if (s) {
                json_array_append_new(a, s);
            }
        }
        json_object_set_new(out, "vCards", a);
    }
    const Wa__E2e__PollCreationMessage *p =
        m->poll_creation_message      ? m->poll_creation_message
        : m->poll_creation_message_v2 ? m->poll_creation_message_v2
                                      : m->poll_creation_message_v3;
    if (p) {
        json_t *poll = json_object();
        s_set_str(poll, "name", p->name ? p->name : "");
        json_t *opts = json_array();
        for (size_t i = 0; i < p->n_options; i++) {
            const char *name = p->options[i]->option_name;
            json_t *s = name ? json_string(name) : NULL;
            if (s) {
                json_array_append_new(opts, s);
            }
        }
        json_object_set_new(poll, "options", opts);
        json_object_set_new(poll, "multipleAnswers",
                            json_boolean(!p->has_selectable_options_count ||
                                         p->selectable_options_count != 1));
        json_object_set_new(out, "poll", poll);
    }
    if (m->event_message) {
        const Wa__E2e__EventMessage *e = m->event_message;
        json_t *ev = json_object();
        s_set_str(ev, "name", e->name ? e->name : "");
        s_set_str(ev, "description", e->description);
        json_object_set_new(ev, "startTime", json_integer(e->start_time));
        if (e->has_end_time) {
            json_object_set_new(ev, "endTime", json_integer(e->end_time));
        }
        if (e->location) {
            json_t *loc = json_object();
            s_set_str(loc, "name", e->location->name);
            json_object_set_new(ev, "location", loc);
        }
        json_object_set_new(ev, "extraGuestsAllowed",
                            json_boolean(e->extra_guests_allowed));
        json_object_set_new(ev, "isCanceled", json_boolean(e->is_canceled));
        json_object_set_new(out, "event", ev);
    }
    const Wa__E2e__ExtendedTextMessage *ext = m->extended_text_message;
    if (ext && ext->matched_text && *ext->matched_text) {
        json_object_set_new(out, "linkPreview", s_link_preview(ext));
    }
    const Wa__E2e__ContextInfo *ctx = wa_message_context(msg);
    if (ctx && ctx->stanza_id) {
        json_t *r = json_object();
        s_set_str(r, "id", ctx->stanza_id);
        s_set_str(r, "participant", ctx->participant);
        bool media = false;
        if (ctx->quoted_message) {
            //  Read the quote as a message of its own
            size_t n = wa__e2e__message__get_packed_size(ctx->quoted_message);
            uint8_t *buf = cm_alloc(n ? n : 1);
            wa__e2e__message__pack(ctx->quoted_message, buf);
            wa_message_t *q = wa_message_decode(buf, n);
            free(buf);
            if (q) {
                s_set_str(r, "body", wa_message_body(q));
                media = wa_message_has_media(q);
                wa_message_destroy(&q);
            }
        }
        json_object_set_new(r, "hasMedia", json_boolean(media));
        json_object_set_new(out, "replyTo", r);
    }
    if (ctx && ctx->n_mentioned_jid) {
        json_t *a = json_array();
        for (size_t i = 0; i < ctx->n_mentioned_jid; i++) {
            json_t *s = json_string(ctx->mentioned_jid[i]);
            if (s) {
                json_array_append_new(a, s);
            }
        }
        json_object_set_new(out, "mentionedIds", a);
    }
    if (ctx && ctx->is_forwarded) {
        json_object_set_new(out, "isForwarded", json_true());
    }
    return out;
}

int
wa_kinds_secret(const wa_message_t *msg, uint8_t out[WA_KINDS_SECRET_LEN])
{
    const s_pbmsg_t *m = wa_message_content(msg);
    const Wa__E2e__MessageContextInfo *mci = m->message_context_info;
    if (!mci || !mci->has_message_secret ||
        mci->message_secret.len != WA_KINDS_SECRET_LEN) {
        return -1;
    }
    memcpy(out, mci->message_secret.data, WA_KINDS_SECRET_LEN);
    return 0;
}

static int
s_from_key(const Wa__E2e__MessageKey *k, wa_kinds_key_t *key)
{
    if (!k || !k->id) {
        return -1;
    }
    key->chat = k->remote_jid;
    key->from_me = k->has_from_me && k->from_me;
    key->id = k->id;
    key->participant = k->participant;
    return 0;
}

int
wa_kinds_target(const wa_message_t *msg, wa_kinds_key_t *key)
{
    const s_pbmsg_t *m = wa_message_content(msg);
    memset(key, 0, sizeof *key);
    if (m->reaction_message) {
        return s_from_key(m->reaction_message->key, key);
    }
    if (m->poll_update_message) {
        return s_from_key(m->poll_update_message->poll_creation_message_key,
                          key);
    }
    if (m->pin_in_chat_message) {
        return s_from_key(m->pin_in_chat_message->key, key);
    }
    if (m->enc_event_response_message) {
        return s_from_key(
            m->enc_event_response_message->event_creation_message_key, key);
    }
    if (m->protocol_message && m->protocol_message->has_type &&
        (m->protocol_message->type == WA__E2E__PROTOCOL_MESSAGE__TYPE__REVOKE ||
         m->protocol_message->type ==
             WA__E2E__PROTOCOL_MESSAGE__TYPE__MESSAGE_EDIT)) {
        return s_from_key(m->protocol_message->key, key);
    }
    return -1;
}

const char *
wa_kinds_edit_text(const wa_message_t *msg)
{
    const s_pbmsg_t *m = wa_message_content(msg);
    const Wa__E2e__ProtocolMessage *p = m->protocol_message;
    if (!p || !p->has_type ||
        p->type != WA__E2E__PROTOCOL_MESSAGE__TYPE__MESSAGE_EDIT ||
        !p->edited_message) {
        return NULL;
    }
    const s_pbmsg_t *e = p->edited_message;
    if (e->conversation) {
        return e->conversation;
    }
    if (e->extended_text_message) {
        return e->extended_text_message->text;
    }
    if (e->image_message) {
        return e->image_message->caption;
    }
    if (e->video_message) {
        return e->video_message->caption;
    }
    if (e->document_message) {
        return e->document_message->caption;
    }
    return NULL;
}

int
wa_kinds_pin(const wa_message_t *msg, uint32_t *duration)
{
    const s_pbmsg_t *m = wa_message_content(msg);
    if (!m->pin_in_chat_message || !m->pin_in_chat_message->has_type) {
        return -1;
    }
    *duration =
        m->message_context_info &&
                m->message_context_info->has_message_add_on_duration_in_secs
            ? m->message_context_info->message_add_on_duration_in_secs
            : 0;
    return (int)m->pin_in_chat_message->type;
}

int
wa_kinds_open_vote(const wa_message_t *msg, const char *creator,
                   const char *voter, const uint8_t secret[WA_KINDS_SECRET_LEN],
                   uint8_t **hashes_p, size_t *n, int64_t *timestamp_ms)
{
    const s_pbmsg_t *m = wa_message_content(msg);
    const Wa__E2e__PollUpdateMessage *up = m->poll_update_message;
    if (!up || !up->vote || !up->poll_creation_message_key ||
        !up->poll_creation_message_key->id || !up->vote->has_enc_payload ||
        !up->vote->has_enc_iv) {
        return -1;
    }
    uint8_t *plain = NULL;
    size_t plen = 0;
    if (s_open(up->poll_creation_message_key->id, creator, voter, "Poll Vote",
               secret, up->vote->enc_payload.data, up->vote->enc_payload.len,
               up->vote->enc_iv.data, up->vote->enc_iv.len, &plain, &plen)) {
        return -1;
    }
    Wa__E2e__PollVoteMessage *vote = NULL;
    if (wa_pb_check(&wa__e2e__poll_vote_message__descriptor, plain, plen,
                    WA_PB_MAX_DEPTH) == 0) {
        vote = wa__e2e__poll_vote_message__unpack(NULL, plen, plain);
    }
    free(plain);
    if (!vote || vote->n_selected_options > WA_KINDS_POLL_OPTIONS_MAX) {
        if (vote) {
            wa__e2e__poll_vote_message__free_unpacked(vote, NULL);
        }
        return -1;
    }
    size_t count = 0;
    *hashes_p = cm_alloc((vote->n_selected_options + 1) * WA_KINDS_HASH_LEN);
    for (size_t i = 0; i < vote->n_selected_options; i++) {
        if (vote->selected_options[i].len == WA_KINDS_HASH_LEN) {
            memcpy(*hashes_p + count * WA_KINDS_HASH_LEN,
                   vote->selected_options[i].data, WA_KINDS_HASH_LEN);
            count++;
        }
    }
    *n = count;
    *timestamp_ms = up->has_sender_timestamp_ms ? up->sender_timestamp_ms : 0;
    wa__e2e__poll_vote_message__free_unpacked(vote, NULL);
    return 0;
}

int
wa_kinds_open_event_response(const wa_message_t *msg, const char *creator,
                             const char *responder,
                             const uint8_t secret[WA_KINDS_SECRET_LEN],
                             int *response, int *guests, int64_t *timestamp_ms)
{
    const s_pbmsg_t *m = wa_message_content(msg);
    const Wa__E2e__EncEventResponseMessage *e = m->enc_event_response_message;
    if (!e || !e->event_creation_message_key ||
        !e->event_creation_message_key->id || !e->has_enc_payload ||
        !e->has_enc_iv) {
        return -1;
    }
    uint8_t *plain = NULL;
    size_t plen = 0;
    if (s_open(e->event_creation_message_key->id, creator, responder,
               "Event Response", secret, e->enc_payload.data,
               e->enc_payload.len, e->enc_iv.data, e->enc_iv.len, &plain,
               &plen)) {
        return -1;
    }
    Wa__E2e__EventResponseMessage *r = NULL;
    if (wa_pb_check(&wa__e2e__event_response_message__descriptor, plain, plen,
                    WA_PB_MAX_DEPTH) == 0) {
        r = wa__e2e__event_response_message__unpack(NULL, plen, plain);
    }
    free(plain);
    if (!r) {
        return -1;
    }
    *response = r->has_response ? (int)r->response : 0;
    *guests = r->has_extra_guest_count ? r->extra_guest_count : 0;
    *timestamp_ms = r->has_timestamp_ms ? r->timestamp_ms : 0;
    wa__e2e__event_response_message__free_unpacked(r, NULL);
    return 0;
}

const char *
wa_kinds_response_name(int response)
{
    static const char *const names[] = {"UNKNOWN", "GOING", "NOT_GOING",
                                        "MAYBE"};
    return response >= 0 && response <= 3 ? names[response] : "UNKNOWN";
}

//  --------------------------------------------------------------------

void
wa_kinds_test(bool verbose)
{
    printf(" * wa_kinds: ");
    uint8_t *buf = NULL;
    size_t len = 0;
    wa_message_t *m = NULL;

    //  A text with a high-quality preview: the fields written, and read
    //  back as linkPreview
    {
        uint8_t key[32], sha[32], enc[32], jpg[4] = {0xFF, 0xD8, 0xFF, 0xD9};
        memset(key, 1, 32);
        memset(sha, 2, 32);
        memset(enc, 3, 32);
        wa_kinds_preview_t pv = {.url = "https://x.test/a",
                                 .title = "A",
                                 .description = "about a",
                                 .thumb = jpg,
                                 .thumb_len = 4,
                                 .hq_path = "/o1/v/t62/abc",
                                 .hq_media_key = key,
                                 .hq_sha256 = sha,
                                 .hq_enc_sha256 = enc,
                                 .hq_key_timestamp = 1700000000,
                                 .hq_width = 640,
                                 .hq_height = 480};
        assert(wa_kinds_build_text("see https://x.test/a", NULL, &pv, &buf,
                                   &len) == 0);
        Wa__E2e__Message *pm = wa__e2e__message__unpack(NULL, len, buf);
        const Wa__E2e__ExtendedTextMessage *e = pm->extended_text_message;
        assert(e && cm_streq(e->thumbnail_direct_path, "/o1/v/t62/abc"));
        assert(e->has_media_key && e->media_key.len == 32 &&
               memcmp(e->media_key.data, key, 32) == 0);
        assert(e->has_thumbnail_sha256 &&
               memcmp(e->thumbnail_sha256.data, sha, 32) == 0);
        assert(e->has_thumbnail_enc_sha256 &&
               memcmp(e->thumbnail_enc_sha256.data, enc, 32) == 0);
        assert(e->media_key_timestamp == 1700000000);
        assert(e->thumbnail_width == 640 && e->thumbnail_height == 480);
        assert(e->has_preview_type && e->preview_type == 0);
        wa__e2e__message__free_unpacked(pm, NULL);
        m = wa_message_decode(buf, len);
        json_t *d = wa_kinds_describe(m);
        json_t *lp = json_object_get(d, "linkPreview");
        assert(json_object_size(lp) == 4);
        assert(cm_streq(json_string_value(json_object_get(lp, "url")),
                        "https://x.test/a"));
        assert(cm_streq(json_string_value(json_object_get(lp, "title")), "A"));
        assert(cm_streq(json_string_value(json_object_get(lp, "description")),
                        "about a"));
        assert(cm_streq(json_string_value(json_object_get(lp, "thumbnail")),
                        "/9j/2Q=="));
        json_decref(d);
        //  ... and read back whole, the high-quality image's fields too
        wa_kinds_preview_t rd;
        assert(wa_kinds_preview_read(m, &rd) == 0);
        assert(cm_streq(rd.url, "https://x.test/a") && rd.thumb_len == 4);
        assert(cm_streq(rd.hq_path, "/o1/v/t62/abc"));
        assert(memcmp(rd.hq_media_key, key, 32) == 0 &&
               memcmp(rd.hq_sha256, sha, 32) == 0 &&
               memcmp(rd.hq_enc_sha256, enc, 32) == 0);
        assert(rd.hq_key_timestamp == 1700000000 && rd.hq_width == 640 &&
               rd.hq_height == 480);
        wa_message_destroy(&m);
        free(buf);
        //  without the image: no hq fields
        pv.hq_path = NULL;
        assert(wa_kinds_build_text("see https://x.test/a", NULL, &pv, &buf,
                                   &len) == 0);
        m = wa_message_decode(buf, len);
        assert(wa_kinds_preview_read(m, &rd) == 0 && !rd.hq_path &&
               !rd.hq_media_key && cm_streq(rd.title, "A"));
        wa_message_destroy(&m);
        free(buf);
        //  no preview: no linkPreview
        assert(wa_kinds_build_text("plain", NULL, NULL, &buf, &len) == 0);
        m = wa_message_decode(buf, len);
        assert(wa_kinds_preview_read(m, &rd) == -1);
        d = wa_kinds_describe(m);
        assert(!json_object_get(d, "linkPreview"));
        json_decref(d);
        wa_message_destroy(&m);
        free(buf);
        buf = NULL;
    }

    //  Location, with a quote of a text
    uint8_t *q = NULL;
    size_t qlen = 0;
    assert(wa_kinds_build_text("quoted", NULL, NULL, &q, &qlen) == 0);
    wa_kinds_context_t ctx = {.reply_id = "3EB0AA",
                              .reply_participant = "1555@s.whatsapp.net",
                              .quoted = q,
                              .quoted_len = qlen};
    assert(wa_kinds_build_location(52.5, 13.4, "Office", "Main St 1", &ctx,
                                   &buf, &len) == 0);
    m = wa_message_decode(buf, len);
    assert(m && cm_streq(wa_message_type(m), "location"));
    json_t *d = wa_kinds_describe(m);
    json_t *loc = json_object_get(d, "location");
    assert(
        cm_streq(json_string_value(json_object_get(loc, "latitude")), "52.5"));
    assert(
        cm_streq(json_string_value(json_object_get(loc, "longitude")), "13.4"));
    char deg[WA_KINDS_DEGREES_MAX];
    wa_kinds_degrees(-33.865143, deg);
    assert(cm_streq(deg, "-33.865143"));
    wa_kinds_degrees(0.1 + 0.2, deg);
    assert(strtod(deg, NULL) == 0.1 + 0.2);
    assert(cm_streq(json_string_value(json_object_get(loc, "name")), "Office"));
    assert(cm_streq(json_string_value(json_object_get(loc, "address")),
                    "Main St 1"));
    assert(json_is_false(json_object_get(loc, "live")));
    json_t *r = json_object_get(d, "replyTo");
    assert(cm_streq(json_string_value(json_object_get(r, "id")), "3EB0AA"));
    assert(cm_streq(json_string_value(json_object_get(r, "body")), "quoted"));
    json_decref(d);
    wa_message_destroy(&m);
    free(buf);
    free(q);
    assert(wa_kinds_build_location(91, 0, NULL, NULL, NULL, &buf, &len) == -1);
    assert(wa_kinds_build_location(0, -180.5, NULL, NULL, NULL, &buf, &len) ==
           -1);
    assert(wa_kinds_build_location(NAN, 0, NULL, NULL, NULL, &buf, &len) == -1);

    //  Contacts: one, then two
    const char *names[] = {"Ann", "Bob"};
    const char *cards[] = {"BEGIN:VCARD\nFN:Ann\nEND:VCARD",
                           "BEGIN:VCARD\nFN:Bob\nEND:VCARD"};
    assert(wa_kinds_build_contacts(names, cards, 1, NULL, &buf, &len) == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "vcard"));
    d = wa_kinds_describe(m);
    assert(json_array_size(json_object_get(d, "vCards")) == 1);
    json_decref(d);
    wa_message_destroy(&m);
    free(buf);
    assert(wa_kinds_build_contacts(names, cards, 2, NULL, &buf, &len) == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "multi_vcard"));
    d = wa_kinds_describe(m);
    assert(cm_streq(
        json_string_value(json_array_get(json_object_get(d, "vCards"), 1)),
        cards[1]));
    json_decref(d);
    wa_message_destroy(&m);
    free(buf);
    const char *noname[] = {""};
    assert(wa_kinds_build_contacts(noname, cards, 1, NULL, &buf, &len) == -1);

    //  Poll, vote, and the vote opened with the same secret
    uint8_t secret[WA_KINDS_SECRET_LEN];
    memset(secret, 7, sizeof secret);
    const char *opts[] = {"Tea", "Coffee", "Water"};
    assert(wa_kinds_build_poll("Drink?", opts, 3, false, secret, NULL, &buf,
                               &len) == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "poll_creation"));
    uint8_t got[WA_KINDS_SECRET_LEN];
    assert(wa_kinds_secret(m, got) == 0 && !memcmp(got, secret, 32));
    d = wa_kinds_describe(m);
    json_t *poll = json_object_get(d, "poll");
    assert(
        cm_streq(json_string_value(json_object_get(poll, "name")), "Drink?"));
    assert(json_array_size(json_object_get(poll, "options")) == 3);
    assert(json_is_false(json_object_get(poll, "multipleAnswers")));
    json_decref(d);
    wa_message_destroy(&m);
    free(buf);
    assert(wa_kinds_build_poll("x", opts, 1, false, secret, NULL, &buf, &len) ==
           -1);
    const char *dup[] = {"a", "a"};
    assert(wa_kinds_build_poll("x", dup, 2, false, secret, NULL, &buf, &len) ==
           -1);

    wa_kinds_key_t pk = {"1555@s.whatsapp.net", false, "3EB0POLL", NULL};
    const char *pick[] = {"Coffee"};
    assert(wa_kinds_build_vote(&pk, "1555@s.whatsapp.net",
                               "1666@s.whatsapp.net", secret, pick, 1,
                               1700000000000, &buf, &len) == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "poll_vote"));
    wa_kinds_key_t tk;
    assert(wa_kinds_target(m, &tk) == 0 && cm_streq(tk.id, "3EB0POLL"));
    uint8_t *hashes = NULL;
    size_t nh = 0;
    int64_t ts = 0;
    assert(wa_kinds_open_vote(m, "1555@s.whatsapp.net", "1666@s.whatsapp.net",
                              secret, &hashes, &nh, &ts) == 0);
    uint8_t h[WA_KINDS_HASH_LEN];
    wa_kinds_option_hash("Coffee", h);
    assert(nh == 1 && !memcmp(hashes, h, 32) && ts == 1700000000000);
    free(hashes);
    //  the wrong voter does not open it
    assert(wa_kinds_open_vote(m, "1555@s.whatsapp.net", "1777@s.whatsapp.net",
                              secret, &hashes, &nh, &ts) == -1);
    wa_message_destroy(&m);
    free(buf);

    //  Edit, revoke, pin: the target and the stanza's edit attribute
    wa_kinds_key_t mine = {"1555@s.whatsapp.net", true, "3EB0MINE", NULL};
    assert(wa_kinds_build_edit(&mine, "fixed", 1, &buf, &len) == 0);
    assert(cm_streq(wa_kinds_edit_attr(buf, len), "1"));
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_kinds_edit_text(m), "fixed"));
    assert(wa_kinds_target(m, &tk) == 0 && tk.from_me &&
           cm_streq(tk.id, "3EB0MINE"));
    wa_message_destroy(&m);
    free(buf);
    assert(wa_kinds_build_revoke(&mine, &buf, &len) == 0);
    assert(cm_streq(wa_kinds_edit_attr(buf, len), "7"));
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "revoked"));
    wa_message_destroy(&m);
    free(buf);
    assert(wa_kinds_build_pin(&mine, true, 86400, 1, &buf, &len) == 0);
    assert(cm_streq(wa_kinds_edit_attr(buf, len), "2"));
    m = wa_message_decode(buf, len);
    uint32_t dur = 0;
    assert(wa_kinds_pin(m, &dur) == 1 && dur == 86400);
    wa_message_destroy(&m);
    free(buf);
    assert(wa_kinds_build_text("t", NULL, NULL, &buf, &len) == 0);
    assert(wa_kinds_edit_attr(buf, len) == NULL);

    //  Forward: a text becomes an extended text marked forwarded
    uint8_t *fw = NULL;
    size_t fwlen = 0;
    assert(wa_kinds_build_forward(buf, len, &fw, &fwlen) == 0);
    m = wa_message_decode(fw, fwlen);
    assert(cm_streq(wa_message_body(m), "t"));
    d = wa_kinds_describe(m);
    assert(json_is_true(json_object_get(d, "isForwarded")));
    json_decref(d);
    wa_message_destroy(&m);
    free(fw);
    free(buf);

    //  Text with mentions and a preview
    const char *mentions[] = {"1555@s.whatsapp.net"};
    wa_kinds_context_t mc = {.mentions = mentions, .nmentions = 1};
    wa_kinds_preview_t pv = {.url = "https://example.com",
                             .title = "Example",
                             .description = "Desc"};
    assert(wa_kinds_build_text("@1555 see https://example.com", &mc, &pv, &buf,
                               &len) == 0);
    m = wa_message_decode(buf, len);
    d = wa_kinds_describe(m);
    assert(cm_streq(json_string_value(
                        json_array_get(json_object_get(d, "mentionedIds"), 0)),
                    "1555@s.whatsapp.net"));
    json_decref(d);
    wa_message_destroy(&m);
    free(buf);

    //  Event and a response
    wa_kinds_event_t ev = {"Party",    "Fun",  1800000000,
                           1800003600, "Home", true};
    assert(wa_kinds_build_event(&ev, secret, NULL, &buf, &len) == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "event"));
    d = wa_kinds_describe(m);
    json_t *e = json_object_get(d, "event");
    assert(json_integer_value(json_object_get(e, "startTime")) == 1800000000);
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(e, "location"), "name")),
                    "Home"));
    json_decref(d);
    wa_message_destroy(&m);
    free(buf);
    wa_kinds_key_t ek = {"1555@s.whatsapp.net", false, "3EB0EV", NULL};
    assert(wa_kinds_build_event_response(&ek, "1555@s.whatsapp.net",
                                         "1666@s.whatsapp.net", secret, 1, 5,
                                         &buf, &len) == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "event_response"));
    int resp = 0, guests = 0;
    assert(wa_kinds_open_event_response(m, "1555@s.whatsapp.net",
                                        "1666@s.whatsapp.net", secret, &resp,
                                        &guests, &ts) == 0);
    assert(resp == 1 && ts == 5);
    assert(cm_streq(wa_kinds_response_name(resp), "GOING"));
    wa_message_destroy(&m);
    free(buf);
    printf("OK\n");
}
