/*  sw_wamsg - WAHA shapes of messages, acks and ids for the WhatsApp
    engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_crypto.h"
#include "wa/wa_jid.h"

const char *
sw_wamsg_ack_name(int ack)
{
    switch (ack) {
    case SW_WAMSG_ACK_ERROR:
        return "ERROR";
    case SW_WAMSG_ACK_PENDING:
        return "PENDING";
    case SW_WAMSG_ACK_SERVER:
        return "SERVER";
    case SW_WAMSG_ACK_DEVICE:
        return "DEVICE";
    case SW_WAMSG_ACK_READ:
        return "READ";
    case SW_WAMSG_ACK_PLAYED:
        return "PLAYED";
    default:
        return "UNKNOWN";
    }
}

char *
sw_wamsg_api_jid(const char *jid)
{
    if (!jid) {
        return NULL;
    }
    char *api = wa_jid_to_api(jid);
    return api ? api : cm_strdup(jid);
}

char *
sw_wamsg_id(bool from_me, const char *chat, const char *id,
            const char *participant)
{
    assert(chat && id);
    char *c = sw_wamsg_api_jid(chat);
    char *p = participant ? sw_wamsg_api_jid(participant) : NULL;
    char *out =
        p ? cm_sprintf("%s_%s_%s_%s", from_me ? "true" : "false", c, id, p)
          : cm_sprintf("%s_%s_%s", from_me ? "true" : "false", c, id);
    free(c);
    free(p);
    return out;
}

//  Copy [from, to) into out (SW_WAMSG_PART_MAX). Returns 0 or -1.
static int
s_part(const char *from, const char *to, char *out)
{
    size_t n = (size_t)(to - from);
    if (n == 0 || n >= SW_WAMSG_PART_MAX) {
        return -1;
    }
    memcpy(out, from, n);
    out[n] = 0;
    return 0;
}

int
sw_wamsg_parse_id(const char *text, sw_wamsg_ref_t *ref)
{
    assert(ref);
    memset(ref, 0, sizeof *ref);
    if (!text || !*text || strlen(text) >= 3 * SW_WAMSG_PART_MAX) {
        return -1;
    }
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p <= ' ') {
            return -1;
        }
    }
    bool from_me = strncmp(text, "true_", 5) == 0;
    if (!from_me && strncmp(text, "false_", 6) != 0) {
        //  A bare stanza id
        return s_part(text, text + strlen(text), ref->id);
    }
    const char *chat = text + (from_me ? 5 : 6);
    //  The chat ends at the '_' after its '@'
    const char *at = strchr(chat, '@');
    const char *end = at ? strchr(at, '_') : NULL;
    if (!end || s_part(chat, end, ref->chat) != 0) {
        return -1;
    }
    const char *id = end + 1;
    //  Stanza ids have no '_' nor '@'; a participant follows a '_'
    const char *sep = strchr(id, '_');
    if (sep) {
        if (s_part(id, sep, ref->id) != 0 ||
            s_part(sep + 1, sep + 1 + strlen(sep + 1), ref->participant) != 0 ||
            !strchr(ref->participant, '@')) {
            return -1;
        }
    } else if (s_part(id, id + strlen(id), ref->id) != 0) {
        return -1;
    }
    if (strchr(ref->id, '@')) {
        return -1;
    }
    ref->has_chat = true;
    ref->from_me = from_me;
    return 0;
}

static json_t *
s_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *
sw_wamsg_message(const sw_wamsg_t *m)
{
    assert(m && m->id && m->chat);
    char *chat = sw_wamsg_api_jid(m->chat);
    char *me = sw_wamsg_api_jid(m->me);
    char *participant = sw_wamsg_api_jid(m->participant);
    char *id = sw_wamsg_id(m->from_me, chat, m->id, participant);
    //  WAHA: from is the chat for incoming messages and our own id for
    //  ours; to is the other side.
    const char *from = m->from_me ? (me ? me : chat) : chat;
    const char *to = m->from_me ? chat : (me ? me : chat);
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(id));
    json_object_set_new(out, "timestamp", json_integer(m->timestamp));
    json_object_set_new(out, "from", json_string(from));
    json_object_set_new(out, "fromMe", json_boolean(m->from_me));
    if (m->from_me) {
        json_object_set_new(out, "source",
                            json_string(m->source ? m->source : "app"));
    }
    json_object_set_new(out, "to", json_string(to));
    json_object_set_new(out, "participant", s_str_or_null(participant));
    json_object_set_new(out, "body", json_string(m->body ? m->body : ""));
    json_object_set_new(out, "hasMedia", json_boolean(m->has_media));
    //  WAHA: an object for media messages (url only once downloaded,
    //  which Wharf does not do yet), null otherwise
    if (m->has_media) {
        json_t *media = json_object();
        if (m->mimetype) {
            json_object_set_new(media, "mimetype", json_string(m->mimetype));
        }
        json_t *name = m->filename ? json_string(m->filename) : NULL;
        if (name) { //  NULL when not valid UTF-8
            json_object_set_new(media, "filename", name);
        }
        json_object_set_new(out, "media", media);
    } else {
        json_object_set_new(out, "media", json_null());
    }
    json_object_set_new(out, "ack", json_integer(m->ack));
    json_object_set_new(out, "ackName", json_string(sw_wamsg_ack_name(m->ack)));
    if (m->reply_to) {
        //  The quoted message is not decoded: no media known
        json_object_set_new(
            out, "replyTo",
            json_pack("{s:s, s:b}", "id", m->reply_to, "hasMedia", 0));
    } else {
        json_object_set_new(out, "replyTo", json_null());
    }
    json_t *key = json_pack("{s:s, s:b, s:s}", "remoteJid", chat, "fromMe",
                            m->from_me, "id", m->id);
    if (participant) {
        json_object_set_new(key, "participant", json_string(participant));
    }
    json_t *data =
        json_pack("{s:o, s:I, s:s}", "key", key, "messageTimestamp",
                  (json_int_t)m->timestamp, "type", m->type ? m->type : "chat");
    if (m->push_name) {
        json_object_set_new(data, "pushName", json_string(m->push_name));
    }
    json_object_set_new(out, "_data", data);
    if (json_is_object(m->extra)) {
        json_object_update(out, m->extra);
    }
    free(id);
    free(participant);
    free(me);
    free(chat);
    return out;
}

json_t *
sw_wamsg_ack(const char *chat, const char *id, const char *participant,
             const char *me, bool from_me, int ack)
{
    assert(chat && id);
    char *c = sw_wamsg_api_jid(chat);
    char *p = sw_wamsg_api_jid(participant);
    char *m = sw_wamsg_api_jid(me);
    //  The id names the message: in groups its sender is the participant
    //  (us for our own messages)
    bool group = strstr(c, "@g.us") != NULL;
    const char *sender = group ? (from_me ? m : p) : NULL;
    char *wid = sw_wamsg_id(from_me, c, id, sender);
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(wid));
    json_object_set_new(out, "from", json_string(c));
    json_object_set_new(out, "to", s_str_or_null(m));
    //  In groups the participant is the one the id names when the receipt
    //  does not say (the server's ack of our own message)
    json_object_set_new(out, "participant",
                        s_str_or_null(p ? p : (group ? sender : NULL)));
    json_object_set_new(out, "fromMe", json_boolean(from_me));
    json_object_set_new(out, "ack", json_integer(ack));
    json_object_set_new(out, "ackName", json_string(sw_wamsg_ack_name(ack)));
    json_object_set_new(out, "_data",
                        json_pack("{s:s, s:s, s:b}", "id", id, "remoteJid", c,
                                  "fromMe", from_me));
    free(wid);
    free(m);
    free(p);
    free(c);
    return out;
}

void
sw_wamsg_event_id(const char *session, const char *event, const char *key,
                  int64_t ts_ms, char out[SW_WAMSG_EVENT_ID_MAX])
{
    assert(session && event && key);
    size_t ls = strlen(session), le = strlen(event), lk = strlen(key);
    size_t len = ls + le + lk + 3;
    uint8_t *buf = cm_alloc(len);
    memcpy(buf, session, ls + 1);
    memcpy(buf + ls + 1, event, le + 1);
    memcpy(buf + ls + le + 2, key, lk + 1);
    uint8_t digest[WA_SHA256_LEN];
    int rc = wa_sha256(buf, len, digest);
    assert(rc == 0);
    free(buf);
    if (ts_ms < 0) {
        ts_ms = 0;
    }
    memcpy(out, "evt_", 4);
    cm_ulid_encode((uint64_t)ts_ms & 0xFFFFFFFFFFFFull, digest, out + 4);
    for (char *p = out + 4; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
}

//  --------------------------------------------------------------------

void
sw_wamsg_test(bool verbose)
{
    printf(" * sw_wamsg: ");
    assert(cm_streq(sw_wamsg_ack_name(-1), "ERROR"));
    assert(cm_streq(sw_wamsg_ack_name(1), "SERVER"));
    assert(cm_streq(sw_wamsg_ack_name(3), "READ"));
    assert(cm_streq(sw_wamsg_ack_name(4), "PLAYED"));
    assert(cm_streq(sw_wamsg_ack_name(9), "UNKNOWN"));

    //  Ids: 1:1 and group, wire JIDs become API ones
    char *id = sw_wamsg_id(false, "1555@s.whatsapp.net", "3EB0AA", NULL);
    assert(cm_streq(id, "false_1555@c.us_3EB0AA"));
    free(id);
    id = sw_wamsg_id(true, "120363@g.us", "3EB0BB", "1777:4@s.whatsapp.net");
    assert(cm_streq(id, "true_120363@g.us_3EB0BB_1777@c.us"));
    sw_wamsg_ref_t ref;
    assert(sw_wamsg_parse_id(id, &ref) == 0);
    assert(ref.has_chat && ref.from_me);
    assert(cm_streq(ref.chat, "120363@g.us"));
    assert(cm_streq(ref.id, "3EB0BB"));
    assert(cm_streq(ref.participant, "1777@c.us"));
    free(id);
    assert(sw_wamsg_parse_id("false_1555@c.us_ABC", &ref) == 0);
    assert(!ref.from_me && cm_streq(ref.chat, "1555@c.us"));
    assert(cm_streq(ref.id, "ABC") && ref.participant[0] == 0);
    assert(sw_wamsg_parse_id("ABCDEF0123", &ref) == 0);
    assert(!ref.has_chat && cm_streq(ref.id, "ABCDEF0123"));
    assert(sw_wamsg_parse_id("", &ref) == -1);
    assert(sw_wamsg_parse_id(NULL, &ref) == -1);
    assert(sw_wamsg_parse_id("true_nochat", &ref) == -1);
    assert(sw_wamsg_parse_id("true_1@c.us_", &ref) == -1);
    assert(sw_wamsg_parse_id("true_1@c.us_A_nojid", &ref) == -1);
    assert(sw_wamsg_parse_id("a b", &ref) == -1);
    char big[600];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert(sw_wamsg_parse_id(big, &ref) == -1);

    //  Incoming 1:1 message
    sw_wamsg_t m = {0};
    m.id = "3EB0CC";
    m.chat = "1555@s.whatsapp.net";
    m.me = "1999@s.whatsapp.net";
    m.timestamp = 1700000000;
    m.body = "hi";
    m.type = "chat";
    m.push_name = "Bob";
    m.ack = SW_WAMSG_ACK_DEVICE;
    json_t *j = sw_wamsg_message(&m);
    assert(cm_streq(json_string_value(json_object_get(j, "id")),
                    "false_1555@c.us_3EB0CC"));
    assert(
        cm_streq(json_string_value(json_object_get(j, "from")), "1555@c.us"));
    assert(cm_streq(json_string_value(json_object_get(j, "to")), "1999@c.us"));
    assert(json_is_false(json_object_get(j, "fromMe")));
    assert(!json_object_get(j, "source"));
    assert(json_is_null(json_object_get(j, "participant")));
    assert(cm_streq(json_string_value(json_object_get(j, "body")), "hi"));
    assert(json_is_false(json_object_get(j, "hasMedia")));
    assert(json_integer_value(json_object_get(j, "timestamp")) == 1700000000);
    assert(json_integer_value(json_object_get(j, "ack")) == 2);
    assert(
        cm_streq(json_string_value(json_object_get(j, "ackName")), "DEVICE"));
    assert(json_is_null(json_object_get(j, "replyTo")));
    json_t *data = json_object_get(j, "_data");
    assert(
        cm_streq(json_string_value(json_object_get(data, "pushName")), "Bob"));
    json_decref(j);

    //  Our own group message sent through the API, quoting another
    m.from_me = true;
    m.chat = "120363@g.us";
    m.participant = "1999:2@s.whatsapp.net";
    m.source = "api";
    m.reply_to = "3EB0DD";
    m.ack = SW_WAMSG_ACK_SERVER;
    m.push_name = NULL;
    j = sw_wamsg_message(&m);
    assert(cm_streq(json_string_value(json_object_get(j, "id")),
                    "true_120363@g.us_3EB0CC_1999@c.us"));
    assert(
        cm_streq(json_string_value(json_object_get(j, "from")), "1999@c.us"));
    assert(
        cm_streq(json_string_value(json_object_get(j, "to")), "120363@g.us"));
    assert(cm_streq(json_string_value(json_object_get(j, "source")), "api"));
    assert(cm_streq(json_string_value(json_object_get(j, "participant")),
                    "1999@c.us"));
    assert(cm_streq(
        json_string_value(json_object_get(json_object_get(j, "replyTo"), "id")),
        "3EB0DD"));
    assert(json_is_false(
        json_object_get(json_object_get(j, "replyTo"), "hasMedia")));
    assert(json_is_null(json_object_get(j, "media")));
    json_decref(j);

    //  A media message carries a media object, with the mimetype known
    m.has_media = true;
    m.mimetype = "image/jpeg";
    j = sw_wamsg_message(&m);
    assert(json_is_true(json_object_get(j, "hasMedia")));
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(j, "media"), "mimetype")),
                    "image/jpeg"));
    assert(!json_object_get(json_object_get(j, "media"), "filename"));
    json_decref(j);
    //  and a document its file name
    m.filename = "a.pdf";
    j = sw_wamsg_message(&m);
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(j, "media"), "filename")),
                    "a.pdf"));
    json_decref(j);
    m.filename = NULL;
    m.has_media = false;
    m.mimetype = NULL;

    //  Acks
    j = sw_wamsg_ack("1555@s.whatsapp.net", "3EB0EE", "1555:2@s.whatsapp.net",
                     "1999@s.whatsapp.net", true, SW_WAMSG_ACK_READ);
    assert(cm_streq(json_string_value(json_object_get(j, "id")),
                    "true_1555@c.us_3EB0EE"));
    assert(
        cm_streq(json_string_value(json_object_get(j, "from")), "1555@c.us"));
    assert(cm_streq(json_string_value(json_object_get(j, "to")), "1999@c.us"));
    assert(cm_streq(json_string_value(json_object_get(j, "participant")),
                    "1555@c.us"));
    assert(cm_streq(json_string_value(json_object_get(j, "ackName")), "READ"));
    json_decref(j);
    j = sw_wamsg_ack("120363@g.us", "3EB0FF", "1777@s.whatsapp.net",
                     "1999@s.whatsapp.net", true, SW_WAMSG_ACK_DEVICE);
    assert(cm_streq(json_string_value(json_object_get(j, "id")),
                    "true_120363@g.us_3EB0FF_1999@c.us"));
    json_decref(j);
    //  The server's ack of our group message: the participant is ours,
    //  as in the id
    j = sw_wamsg_ack("120363@g.us", "3EB0FF", NULL, "1999@s.whatsapp.net", true,
                     SW_WAMSG_ACK_SERVER);
    assert(cm_streq(json_string_value(json_object_get(j, "id")),
                    "true_120363@g.us_3EB0FF_1999@c.us"));
    assert(cm_streq(json_string_value(json_object_get(j, "participant")),
                    "1999@c.us"));
    json_decref(j);

    //  Event ids: deterministic, distinct per event and key, valid ULIDs
    char a[SW_WAMSG_EVENT_ID_MAX], b[SW_WAMSG_EVENT_ID_MAX],
        c[SW_WAMSG_EVENT_ID_MAX];
    sw_wamsg_event_id("s1", "message", "3EB0CC", 1700000000000, a);
    sw_wamsg_event_id("s1", "message", "3EB0CC", 1700000000000, b);
    assert(cm_streq(a, b));
    assert(strncmp(a, "evt_", 4) == 0 && cm_ulid_valid(a + 4));
    for (const char *p = a; *p; p++) {
        assert(!isupper((unsigned char)*p));
    }
    sw_wamsg_event_id("s1", "message.any", "3EB0CC", 1700000000000, c);
    assert(!cm_streq(a, c));
    sw_wamsg_event_id("s2", "message", "3EB0CC", 1700000000000, c);
    assert(!cm_streq(a, c));
    sw_wamsg_event_id("s1", "message", "3EB0CD", 1700000000000, c);
    assert(!cm_streq(a, c));
    //  Time sorts first
    sw_wamsg_event_id("s1", "message", "3EB0CC", 1700000001000, c);
    assert(strcmp(a, c) < 0);
    printf("OK\n");
}
