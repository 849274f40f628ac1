/*  wa_message - build and read WhatsApp end-to-end Message protobufs

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_message.h"
#include "wa/wa_pb.h"

//  Largest serialised Message accepted.
#define WA_MESSAGE_MAX (4 * 1024 * 1024)
//  Containers unwrapped at most this many times.
#define WA_MESSAGE_MAX_UNWRAP 8

typedef Wa__E2e__Message s_pbmsg_t;

struct _wa_message_t {
    s_pbmsg_t *pb;            //  the decoded protobuf (owned)
    const s_pbmsg_t *inner;   //  the content after unwrapping
    const char *type;         //  static type name
    const char *body;         //  borrowed from pb
    const char *mimetype;     //  borrowed from pb
    bool has_media;           //  media kinds
    const Wa__E2e__ContextInfo *context; //  reply/mention data, borrowed
    const char *dsm_destination; //  device-sent copy destination
    bool ephemeral;           //  came in an ephemeral wrapper
    bool view_once;           //  came in a view-once wrapper
};

//  The wrapped message of a container, if `m` is one.
static const s_pbmsg_t *
s_unwrap_one(const s_pbmsg_t *m, wa_message_t *self)
{
    if (m->device_sent_message && m->device_sent_message->message) {
        self->dsm_destination = m->device_sent_message->destination_jid;
        return m->device_sent_message->message;
    }
    if (m->ephemeral_message && m->ephemeral_message->message) {
        self->ephemeral = true;
        return m->ephemeral_message->message;
    }
    if (m->view_once_message && m->view_once_message->message) {
        self->view_once = true;
        return m->view_once_message->message;
    }
    if (m->view_once_message_v2 && m->view_once_message_v2->message) {
        self->view_once = true;
        return m->view_once_message_v2->message;
    }
    if (m->document_with_caption_message
        && m->document_with_caption_message->message) {
        return m->document_with_caption_message->message;
    }
    if (m->edited_message && m->edited_message->message) {
        return m->edited_message->message;
    }
    return NULL;
}

static void
s_classify(wa_message_t *self)
{
    const s_pbmsg_t *m = self->inner;
    self->type = "unknown";
    if (m->conversation) {
        self->type = "chat";
        self->body = m->conversation;
    }
    else if (m->extended_text_message) {
        self->type = "chat";
        self->body = m->extended_text_message->text;
        self->context = m->extended_text_message->context_info;
    }
    else if (m->image_message) {
        self->type = "image";
        self->has_media = true;
        self->body = m->image_message->caption;
        self->mimetype = m->image_message->mimetype;
        self->context = m->image_message->context_info;
    }
    else if (m->video_message) {
        self->type = "video";
        self->has_media = true;
        self->body = m->video_message->caption;
        self->mimetype = m->video_message->mimetype;
        self->context = m->video_message->context_info;
    }
    else if (m->audio_message) {
        self->type = m->audio_message->has_ptt && m->audio_message->ptt
                         ? "ptt"
                         : "audio";
        self->has_media = true;
        self->mimetype = m->audio_message->mimetype;
        self->context = m->audio_message->context_info;
    }
    else if (m->document_message) {
        self->type = "document";
        self->has_media = true;
        self->body = m->document_message->caption;
        self->mimetype = m->document_message->mimetype;
        self->context = m->document_message->context_info;
    }
    else if (m->sticker_message) {
        self->type = "sticker";
        self->has_media = true;
        self->mimetype = m->sticker_message->mimetype;
        self->context = m->sticker_message->context_info;
    }
    else if (m->ptv_message) {
        self->type = "video";
        self->has_media = true;
        self->mimetype = m->ptv_message->mimetype;
        self->context = m->ptv_message->context_info;
    }
    else if (m->location_message) {
        self->type = "location";
        self->context = m->location_message->context_info;
    }
    else if (m->has_live_location_message) {
        self->type = "location";
    }
    else if (m->contact_message) {
        self->type = "vcard";
        self->body = m->contact_message->vcard;
        self->context = m->contact_message->context_info;
    }
    else if (m->contacts_array_message) {
        self->type = "multi_vcard";
        self->context = m->contacts_array_message->context_info;
    }
    else if (m->poll_creation_message || m->poll_creation_message_v2
             || m->poll_creation_message_v3) {
        const Wa__E2e__PollCreationMessage *p =
            m->poll_creation_message      ? m->poll_creation_message
            : m->poll_creation_message_v2 ? m->poll_creation_message_v2
                                          : m->poll_creation_message_v3;
        self->type = "poll_creation";
        self->body = p->name;
        self->context = p->context_info;
    }
    else if (m->poll_update_message) {
        self->type = "poll_vote";
    }
    else if (m->reaction_message) {
        self->type = "reaction";
    }
    else if (m->protocol_message) {
        self->type = m->protocol_message->has_type
                             && m->protocol_message->type
                                    == WA__E2E__PROTOCOL_MESSAGE__TYPE__REVOKE
                         ? "revoked"
                         : "protocol";
    }
    else if (m->has_call) {
        self->type = "call_log";
    }
    else if (m->has_group_invite_message) {
        self->type = "group_invite";
    }
    else if (m->has_list_message) {
        self->type = "list";
    }
    else if (m->has_buttons_message) {
        self->type = "buttons";
    }
    else if (m->event_message) {
        self->type = "event";
        self->body = m->event_message->name;
        self->context = m->event_message->context_info;
    }
    else if (m->enc_event_response_message) {
        self->type = "event_response";
    }
    else if (m->pin_in_chat_message) {
        self->type = "pin";
    }
    else if (m->has_keep_in_chat_message) {
        self->type = "keep_in_chat";
    }
}

wa_message_t *
wa_message_decode(const uint8_t *data, size_t len)
{
    if (len > WA_MESSAGE_MAX
        || wa_pb_check(&wa__e2e__message__descriptor, data, len,
                       WA_PB_MAX_DEPTH)
               != 0) {
        return NULL;
    }
    s_pbmsg_t *pb = wa__e2e__message__unpack(NULL, len, data);
    if (!pb) {
        return NULL;
    }
    wa_message_t *self = cm_alloc(sizeof *self);
    self->pb = pb;
    self->inner = pb;
    for (int i = 0; i < WA_MESSAGE_MAX_UNWRAP; i++) {
        const s_pbmsg_t *next = s_unwrap_one(self->inner, self);
        if (!next) {
            break;
        }
        self->inner = next;
    }
    s_classify(self);
    return self;
}

void
wa_message_destroy(wa_message_t **self_p)
{
    assert(self_p);
    wa_message_t *self = *self_p;
    if (self) {
        wa__e2e__message__free_unpacked(self->pb, NULL);
        free(self);
        *self_p = NULL;
    }
}

const char *
wa_message_type(const wa_message_t *self)
{
    return self->type;
}

const char *
wa_message_body(const wa_message_t *self)
{
    return self->body;
}

bool
wa_message_has_media(const wa_message_t *self)
{
    return self->has_media;
}

const char *
wa_message_mimetype(const wa_message_t *self)
{
    return self->mimetype;
}

const char *
wa_message_reply_id(const wa_message_t *self)
{
    return self->context ? self->context->stanza_id : NULL;
}

const char *
wa_message_reply_participant(const wa_message_t *self)
{
    return self->context ? self->context->participant : NULL;
}

const char *
wa_message_dsm_destination(const wa_message_t *self)
{
    return self->dsm_destination;
}

int
wa_message_skdm(const wa_message_t *self, const char **group,
                const uint8_t **data, size_t *len)
{
    //  the distribution rides next to the content, possibly at top level
    const Wa__E2e__SenderKeyDistributionMessage *s =
        self->inner->sender_key_distribution_message
            ? self->inner->sender_key_distribution_message
            : self->pb->sender_key_distribution_message;
    if (!s || !s->group_id
        || !s->has_axolotl_sender_key_distribution_message) {
        return -1;
    }
    *group = s->group_id;
    *data = s->axolotl_sender_key_distribution_message.data;
    *len = s->axolotl_sender_key_distribution_message.len;
    return 0;
}

int
wa_message_reaction(const wa_message_t *self, const char **target_id,
                    const char **text)
{
    const Wa__E2e__ReactionMessage *r = self->inner->reaction_message;
    if (!r || !r->key || !r->key->id) {
        return -1;
    }
    *target_id = r->key->id;
    *text = r->text ? r->text : "";
    return 0;
}

int
wa_message_protocol_type(const wa_message_t *self)
{
    const Wa__E2e__ProtocolMessage *p = self->inner->protocol_message;
    return p && p->has_type ? (int) p->type : -1;
}

const char *
wa_message_protocol_target(const wa_message_t *self)
{
    const Wa__E2e__ProtocolMessage *p = self->inner->protocol_message;
    return p && p->key ? p->key->id : NULL;
}

const uint8_t *
wa_message_lid_sync(const wa_message_t *self, size_t *len)
{
    const Wa__E2e__ProtocolMessage *p = self->inner->protocol_message;
    if (!p || !p->lid_migration_mapping_sync_message ||
        !p->lid_migration_mapping_sync_message->has_encoded_mapping_payload) {
        return NULL;
    }
    *len = p->lid_migration_mapping_sync_message->encoded_mapping_payload.len;
    return p->lid_migration_mapping_sync_message->encoded_mapping_payload.data;
}

const void *
wa_message_context(const wa_message_t *self)
{
    return self->context;
}

bool
wa_message_is_ephemeral(const wa_message_t *self)
{
    return self->ephemeral;
}

bool
wa_message_is_view_once(const wa_message_t *self)
{
    return self->view_once;
}

const void *
wa_message_content(const wa_message_t *self)
{
    return self->inner;
}

//  --------------------------------------------------------------------

static int
s_pack(const s_pbmsg_t *m, uint8_t **out_p, size_t *out_len)
{
    size_t n = wa__e2e__message__get_packed_size(m);
    if (n > WA_MESSAGE_MAX) {
        return -1;
    }
    *out_p = cm_alloc(n ? n : 1);
    *out_len = wa__e2e__message__pack(m, *out_p);
    return 0;
}

int
wa_message_build_text(const char *text, const char *reply_id,
                      const char *reply_participant, const char *reply_chat,
                      uint8_t **out_p, size_t *out_len)
{
    if (!text) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ExtendedTextMessage ext = WA__E2E__EXTENDED_TEXT_MESSAGE__INIT;
    Wa__E2e__ContextInfo ctx = WA__E2E__CONTEXT_INFO__INIT;
    if (reply_id) {
        ext.text = (char *) text;
        ctx.stanza_id = (char *) reply_id;
        ctx.participant = (char *) reply_participant;
        ctx.remote_jid = (char *) reply_chat;
        ext.context_info = &ctx;
        m.extended_text_message = &ext;
    }
    else {
        m.conversation = (char *) text;
    }
    return s_pack(&m, out_p, out_len);
}

int
wa_message_build_dsm(const uint8_t *inner, size_t inner_len,
                     const char *destination, uint8_t **out_p,
                     size_t *out_len)
{
    if (wa_pb_check(&wa__e2e__message__descriptor, inner, inner_len,
                    WA_PB_MAX_DEPTH - 1)
        != 0) {
        return -1;
    }
    s_pbmsg_t *in = wa__e2e__message__unpack(NULL, inner_len, inner);
    if (!in) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__DeviceSentMessage dsm = WA__E2E__DEVICE_SENT_MESSAGE__INIT;
    dsm.destination_jid = (char *) destination;
    dsm.message = in;
    m.device_sent_message = &dsm;
    m.message_context_info = in->message_context_info;
    int rc = s_pack(&m, out_p, out_len);
    wa__e2e__message__free_unpacked(in, NULL);
    return rc;
}

int
wa_message_build_skdm(const char *group, const uint8_t *skdm, size_t skdm_len,
                      uint8_t **out_p, size_t *out_len)
{
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__SenderKeyDistributionMessage s =
        WA__E2E__SENDER_KEY_DISTRIBUTION_MESSAGE__INIT;
    s.group_id = (char *) group;
    s.has_axolotl_sender_key_distribution_message = true;
    s.axolotl_sender_key_distribution_message.data = (uint8_t *) skdm;
    s.axolotl_sender_key_distribution_message.len = skdm_len;
    m.sender_key_distribution_message = &s;
    return s_pack(&m, out_p, out_len);
}

int
wa_message_build_reaction(const char *chat, bool from_me, const char *id,
                          const char *participant, const char *emoji,
                          int64_t timestamp_ms, uint8_t **out_p,
                          size_t *out_len)
{
    if (!chat || !id || !emoji) {
        return -1;
    }
    s_pbmsg_t m = WA__E2E__MESSAGE__INIT;
    Wa__E2e__ReactionMessage r = WA__E2E__REACTION_MESSAGE__INIT;
    Wa__E2e__MessageKey key = WA__E2E__MESSAGE_KEY__INIT;
    key.remote_jid = (char *) chat;
    key.has_from_me = true;
    key.from_me = from_me;
    key.id = (char *) id;
    key.participant = (char *) participant;
    r.key = &key;
    r.text = (char *) emoji;
    r.has_sender_timestamp_ms = true;
    r.sender_timestamp_ms = timestamp_ms;
    m.reaction_message = &r;
    return s_pack(&m, out_p, out_len);
}

void
wa_message_test(bool verbose)
{
    printf(" * wa_message: ");
    uint8_t *buf = NULL, *dsm = NULL;
    size_t len = 0, dsm_len = 0;

    //  plain text
    assert(wa_message_build_text("hello", NULL, NULL, NULL, &buf, &len) == 0);
    wa_message_t *m = wa_message_decode(buf, len);
    assert(m);
    assert(cm_streq(wa_message_type(m), "chat"));
    assert(cm_streq(wa_message_body(m), "hello"));
    assert(!wa_message_has_media(m) && !wa_message_reply_id(m));
    wa_message_destroy(&m);

    //  wrapped for our own devices
    assert(wa_message_build_dsm(buf, len, "15551234567@s.whatsapp.net", &dsm,
                                &dsm_len)
           == 0);
    free(buf);
    m = wa_message_decode(dsm, dsm_len);
    assert(m && cm_streq(wa_message_body(m), "hello"));
    assert(cm_streq(wa_message_dsm_destination(m),
                    "15551234567@s.whatsapp.net"));
    wa_message_destroy(&m);
    free(dsm);

    //  reply
    assert(wa_message_build_text("re", "3EB0AA", "1555@s.whatsapp.net",
                                 "1555@s.whatsapp.net", &buf, &len)
           == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "chat"));
    assert(cm_streq(wa_message_body(m), "re"));
    assert(cm_streq(wa_message_reply_id(m), "3EB0AA"));
    assert(cm_streq(wa_message_reply_participant(m), "1555@s.whatsapp.net"));
    wa_message_destroy(&m);
    free(buf);

    //  sender key distribution
    const char *group = NULL;
    const uint8_t *data = NULL;
    size_t dlen = 0;
    assert(wa_message_build_skdm("123@g.us", (const uint8_t *) "\x01\x02", 2,
                                 &buf, &len)
           == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "unknown"));
    assert(wa_message_skdm(m, &group, &data, &dlen) == 0);
    assert(cm_streq(group, "123@g.us") && dlen == 2 && data[1] == 2);
    wa_message_destroy(&m);
    free(buf);

    //  reaction
    const char *target = NULL, *emoji = NULL;
    assert(wa_message_build_reaction("1555@s.whatsapp.net", false, "3EB0BB",
                                     NULL, "\xf0\x9f\x91\x8d", 1700000000000,
                                     &buf, &len)
           == 0);
    m = wa_message_decode(buf, len);
    assert(cm_streq(wa_message_type(m), "reaction"));
    assert(wa_message_reaction(m, &target, &emoji) == 0);
    assert(cm_streq(target, "3EB0BB") && strlen(emoji) == 4);
    assert(wa_message_skdm(m, &group, &data, &dlen) == -1);
    wa_message_destroy(&m);
    free(buf);

    //  location (5) with a name, image with caption (3)
    m = wa_message_decode((const uint8_t *) "\x2a\x03\x1a\x01x", 5);
    assert(m && cm_streq(wa_message_type(m), "location"));
    assert(!wa_message_has_media(m));
    wa_message_destroy(&m);
    //  image: field 3 {mimetype(2)="image/jpeg", caption(3)="cap"}
    m = wa_message_decode((const uint8_t *) "\x1a\x11\x12\x0aimage/jpeg"
                                            "\x1a\x03" "cap",
                          19);
    assert(m && cm_streq(wa_message_type(m), "image"));
    assert(wa_message_has_media(m));
    assert(cm_streq(wa_message_body(m), "cap"));
    assert(cm_streq(wa_message_mimetype(m), "image/jpeg"));
    wa_message_destroy(&m);
    //  ephemeral wrapper around a conversation
    m = wa_message_decode((const uint8_t *) "\xc2\x02\x05\x0a\x03\x0a\x01x",
                          8);
    assert(m && wa_message_is_ephemeral(m));
    assert(cm_streq(wa_message_body(m), "x"));
    wa_message_destroy(&m);
    //  revoke
    m = wa_message_decode((const uint8_t *) "\x62\x06\x0a\x02\x1a\x00\x10\x00",
                          8);
    assert(m && cm_streq(wa_message_type(m), "revoked"));
    assert(wa_message_protocol_type(m) == 0);
    wa_message_destroy(&m);

    //  garbage
    assert(wa_message_decode((const uint8_t *) "\x0a\x09hi", 4) == NULL);
    assert(wa_message_decode((const uint8_t *) "\x0b", 1) == NULL);
    printf("OK\n");
}
