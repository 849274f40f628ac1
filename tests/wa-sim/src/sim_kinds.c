/*  sim_kinds - a simulated phone sends the message kinds beyond text

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_kinds.h"
#include "wa/wa_jid.h"
#include "wa/wa_kinds.h"

const sim_cap_t sim_kinds_cap = {.name = "kinds"};

//  The strings of a JSON array (borrowed); NULL when not all strings.
static const char **
s_strings(json_t *a, size_t *n)
{
    *n = json_array_size(a);
    const char **out = cm_alloc((*n ? *n : 1) * sizeof *out);
    for (size_t i = 0; i < *n; i++) {
        out[i] = json_string_value(json_array_get(a, i));
        if (!out[i]) {
            free(out);
            return NULL;
        }
    }
    return out;
}

//  Build the Message of `in`. 0, or an HTTP-like status with *reason.
static int
s_build(const char *phone, json_t *in, uint8_t **msg, size_t *len,
        json_t **extra_p, const char **reason)
{
    const char *kind = json_string_value(json_object_get(in, "kind"));
    const char *to = json_string_value(json_object_get(in, "to"));
    char *chat = to ? wa_jid_normalize(to) : NULL;
    char *me = cm_sprintf("%s@s.whatsapp.net", phone);
    const char *id = json_string_value(json_object_get(in, "id"));
    const char *text = json_string_value(json_object_get(in, "text"));
    wa_kinds_key_t key = {chat, true, id, NULL};
    int rc = -1;
    *reason = "the fields of that kind are missing or invalid";
    if (!chat || !kind) {
        *reason = "body must be {to, kind, ...}";
    } else if (cm_streq(kind, "location")) {
        json_t *la = json_object_get(in, "latitude");
        json_t *lo = json_object_get(in, "longitude");
        if (json_is_number(la) && json_is_number(lo)) {
            rc = wa_kinds_build_location(
                json_number_value(la), json_number_value(lo),
                json_string_value(json_object_get(in, "name")),
                json_string_value(json_object_get(in, "address")), NULL, msg,
                len);
        }
    } else if (cm_streq(kind, "contact")) {
        const char *name = json_string_value(json_object_get(in, "name"));
        const char *card = json_string_value(json_object_get(in, "vcard"));
        if (name && card) {
            rc = wa_kinds_build_contacts(&name, &card, 1, NULL, msg, len);
        }
    } else if (cm_streq(kind, "poll")) {
        size_t n = 0;
        const char **opts = s_strings(json_object_get(in, "options"), &n);
        uint8_t secret[WA_KINDS_SECRET_LEN];
        if (opts && wa_random(secret, sizeof secret) == 0) {
            rc = wa_kinds_build_poll(
                json_string_value(json_object_get(in, "name")), opts, n,
                json_is_true(json_object_get(in, "multipleAnswers")), secret,
                NULL, msg, len);
            char *b64 = cm_base64_encode(secret, sizeof secret);
            *extra_p = json_pack("{s:s}", "secret", b64);
            free(b64);
        }
        free(opts);
    } else if (cm_streq(kind, "reaction") && id && text) {
        rc = wa_message_build_reaction(
            chat, json_is_true(json_object_get(in, "fromMe")), id, NULL, text,
            cm_now_ms(), msg, len);
    } else if (cm_streq(kind, "edit") && id && text) {
        rc = wa_kinds_build_edit(&key, text, cm_now_ms(), msg, len);
    } else if (cm_streq(kind, "revoke") && id) {
        rc = wa_kinds_build_revoke(&key, msg, len);
    } else if (cm_streq(kind, "vote") && id) {
        size_t n = 0;
        const char **opts = s_strings(json_object_get(in, "options"), &n);
        const char *creator = json_string_value(json_object_get(in, "creator"));
        const char *b64 = json_string_value(json_object_get(in, "secret"));
        uint8_t *secret = NULL;
        size_t slen = 0;
        if (opts && creator && b64 &&
            cm_base64_decode(b64, 128, &secret, &slen) == 0 &&
            slen == WA_KINDS_SECRET_LEN) {
            char *cwire = wa_jid_normalize(creator);
            wa_kinds_key_t poll = {chat, false, id, NULL};
            poll.from_me = cwire && cm_streq(cwire, me);
            rc = cwire ? wa_kinds_build_vote(&poll, cwire, me, secret, opts, n,
                                             cm_now_ms(), msg, len)
                       : -1;
            free(cwire);
        }
        free(secret);
        free(opts);
    } else {
        *reason = "kind must be location, contact, poll, reaction, edit, "
                  "revoke or vote";
    }
    free(me);
    free(chat);
    return rc == 0 ? 0 : 400;
}

int
sim_kinds_send(sim_phone_t *phones, const char *phone, json_t *in,
               json_t **result_p, const char **reason)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    json_t *extra = NULL;
    int st = s_build(phone, in, &msg, &len, &extra, reason);
    if (st == 0) {
        st = sim_phone_send_message(
            phones, phone, json_string_value(json_object_get(in, "to")), msg,
            len, result_p, reason);
        if (st == 200 && extra) {
            json_object_update(*result_p, extra);
        }
    }
    json_decref(extra);
    free(msg);
    return st;
}

void
sim_kinds_test(bool verbose)
{
    printf(" * sim_kinds: ");
    const char *reason = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    json_t *extra = NULL;
    json_t *in = json_pack("{s:s, s:s, s:f, s:f, s:s}", "to", "15550001111",
                           "kind", "location", "latitude", 1.5, "longitude",
                           2.5, "name", "Here");
    assert(s_build("15550002222", in, &msg, &len, &extra, &reason) == 0);
    wa_message_t *m = wa_message_decode(msg, len);
    assert(m && cm_streq(wa_message_type(m), "location"));
    wa_message_destroy(&m);
    free(msg);
    json_decref(in);
    in = json_pack("{s:s, s:s, s:s, s:[s,s]}", "to", "15550001111", "kind",
                   "poll", "name", "Q", "options", "a", "b");
    assert(s_build("15550002222", in, &msg, &len, &extra, &reason) == 0);
    assert(json_string_value(json_object_get(extra, "secret")));
    const char *secret = json_string_value(json_object_get(extra, "secret"));
    json_t *vote =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "to", "15550001111",
                  "kind", "vote", "id", "3EB0P", "creator", "15550002222@c.us",
                  "secret", secret, "options", "b");
    uint8_t *vmsg = NULL;
    size_t vlen = 0;
    json_t *vextra = NULL;
    assert(s_build("15550003333", vote, &vmsg, &vlen, &vextra, &reason) == 0);
    m = wa_message_decode(vmsg, vlen);
    assert(m && cm_streq(wa_message_type(m), "poll_vote"));
    wa_message_destroy(&m);
    free(vmsg);
    json_decref(vote);
    json_decref(extra);
    free(msg);
    json_decref(in);
    in = json_pack("{s:s, s:s}", "to", "15550001111", "kind", "nope");
    extra = NULL;
    assert(s_build("15550002222", in, &msg, &len, &extra, &reason) == 400);
    json_decref(in);
    printf("OK\n");
}
