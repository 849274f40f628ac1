/*  sw_wapresence - the presence capability of the WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_jid.h"
#include "wa/wa_presence.h"

//  Name of the capability's per-session state: chat (API) -> json
//  object participant (API) -> {participant, lastKnownPresence,
//  lastSeen}.
#define S_LAST "presence.last"

static void
s_json_free(void **item_p)
{
    json_t *j = (json_t *)*item_p;
    json_decref(j);
    *item_p = NULL;
}

static void
s_last_free(void **state_p)
{
    zhashx_t *last = (zhashx_t *)*state_p;
    zhashx_destroy(&last);
    *state_p = NULL;
}

static zhashx_t *
s_last(sw_wasess_t *sess)
{
    zhashx_t *last = (zhashx_t *)sw_wasess_state(sess, S_LAST);
    if (!last) {
        last = zhashx_new();
        zhashx_set_destructor(last, s_json_free);
        sw_wasess_set_state(sess, S_LAST, last, s_last_free);
    }
    return last;
}

const char *
sw_wapresence_waha_name(const char *state)
{
    static const char *const map[][2] = {{"available", "online"},
                                         {"unavailable", "offline"},
                                         {"composing", "typing"},
                                         {"recording", "recording"},
                                         {"paused", "paused"}};
    for (size_t i = 0; state && i < sizeof map / sizeof map[0]; i++) {
        if (cm_streq(state, map[i][0])) {
            return map[i][1];
        }
    }
    return NULL;
}

//  WAHAChatPresences of one chat from its kept participants (borrowed).
static json_t *
s_chat_presences(const char *chat, json_t *participants)
{
    json_t *list = json_array();
    const char *key;
    json_t *entry;
    json_object_foreach(participants, key, entry)
    {
        json_array_append(list, entry);
    }
    return json_pack("{s:s, s:o}", "id", chat, "presences", list);
}

//  The chat id in API form of a chatId input (persons and groups), or
//  NULL. Caller owns return value.
static char *
s_chat_of(const char *text, bool *group)
{
    if (!text || !*text || strlen(text) > 128) {
        return NULL;
    }
    char *wire = wa_jid_normalize(text);
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    bool ok = jid && !wa_jid_is_server(jid) &&
              (wa_jid_is_pn(jid) || wa_jid_is_lid(jid) || wa_jid_is_group(jid));
    *group = ok && wa_jid_is_group(jid);
    wa_jid_destroy(&jid);
    char *api = ok ? sw_wamsg_api_jid(wire) : NULL;
    free(wire);
    return api;
}

//  --------------------------------------------------------------------
//  presence.set

void
sw_wapresence_set(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *presence = cm_msg_str(req, "presence");
    const char *chat_in = cm_msg_str(req, "chatId");
    wa_client_t *client = sw_wasess_client(sess);
    int state = 0;
    if (cm_streq(presence, "typing")) {
        state = WA_PRESENCE_COMPOSING;
    } else if (cm_streq(presence, "recording")) {
        state = WA_PRESENCE_RECORDING;
    } else if (cm_streq(presence, "paused")) {
        state = WA_PRESENCE_PAUSED;
    } else if (!cm_streq(presence, "online") &&
               !cm_streq(presence, "offline")) {
        sw_cmd_reply(cmd_p, 400,
                     "presence must be online, offline, typing, recording "
                     "or paused",
                     NULL);
        return;
    }
    int rc = 0;
    if (state) {
        bool group = false;
        char *chat = s_chat_of(chat_in, &group);
        if (!chat) {
            sw_cmd_reply(cmd_p, 400,
                         "chatId is required for typing, recording and "
                         "paused, and must be a person or group chat",
                         NULL);
            return;
        }
        rc =
            wa_presence_chatstate(client, chat, (wa_presence_chatstate_t)state);
        free(chat);
    } else {
        rc = wa_presence_set(client, cm_streq(presence, "online"));
    }
    if (rc != 0) {
        sw_cmd_reply(cmd_p, 409, "the session is not connected", NULL);
        return;
    }
    json_t *body = json_object();
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

//  --------------------------------------------------------------------
//  presence.subscribe, presence.get

//  Subscribe to chat (API form) unless it is a group. Returns 0 or -1.
static int
s_subscribe(sw_wasess_t *sess, const char *chat, bool group)
{
    if (group) {
        return 0; //  group chat states reach members without one
    }
    return wa_presence_subscribe(sw_wasess_client(sess), chat);
}

void
sw_wapresence_subscribe(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    bool group = false;
    char *chat =
        s_chat_of(cm_msg_str(sw_cmd_request(*cmd_p), "chatId"), &group);
    if (!chat) {
        sw_cmd_reply(cmd_p, 400, "chatId must be a person or group chat", NULL);
        return;
    }
    int rc = s_subscribe(sess, chat, group);
    free(chat);
    if (rc != 0) {
        sw_cmd_reply(cmd_p, 409, "the session is not connected", NULL);
        return;
    }
    json_t *body = json_object();
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

void
sw_wapresence_get(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *chat_in = cm_msg_str(req, "chatId");
    zhashx_t *last = s_last(sess);
    json_t *body = NULL;
    if (chat_in) {
        bool group = false;
        char *chat = s_chat_of(chat_in, &group);
        if (!chat) {
            sw_cmd_reply(cmd_p, 400, "chatId must be a person or group chat",
                         NULL);
            return;
        }
        if (cm_msg_bool(req, "subscribe", false) &&
            s_subscribe(sess, chat, group) != 0) {
            free(chat);
            sw_cmd_reply(cmd_p, 409, "the session is not connected", NULL);
            return;
        }
        json_t *known = (json_t *)zhashx_lookup(last, chat);
        body = known ? s_chat_presences(chat, known)
                     : json_pack("{s:s, s:[]}", "id", chat, "presences");
        free(chat);
    } else {
        json_t *all = json_array();
        for (json_t *known = (json_t *)zhashx_first(last); known;
             known = (json_t *)zhashx_next(last)) {
            json_array_append_new(
                all,
                s_chat_presences((const char *)zhashx_cursor(last), known));
        }
        body = json_pack("{s:o}", "presences", all);
    }
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

//  --------------------------------------------------------------------
//  Presences from the engine

void
sw_wapresence_on_presence(sw_wasess_t *sess, const wa_client_presence_t *p)
{
    const char *waha = sw_wapresence_waha_name(p->state);
    if (!waha || !p->chat || !p->participant) {
        return;
    }
    char *chat = sw_wamsg_api_jid(p->chat);
    char *participant = sw_wamsg_api_jid(p->participant);
    json_t *entry = json_pack("{s:s, s:s}", "participant", participant,
                              "lastKnownPresence", waha);
    json_object_set_new(entry, "lastSeen",
                        p->last_seen > 0 ? json_integer(p->last_seen)
                                         : json_null());
    //  Keep it as the last known (bounded: a full table takes no new
    //  chats, a full chat no new participants)
    zhashx_t *last = s_last(sess);
    json_t *known = (json_t *)zhashx_lookup(last, chat);
    if (!known && zhashx_size(last) < SW_WAPRESENCE_CHATS) {
        known = json_object();
        zhashx_insert(last, chat, known);
    }
    if (known && (json_object_get(known, participant) ||
                  json_object_size(known) < SW_WAPRESENCE_PARTICIPANTS)) {
        json_object_set(known, participant, entry);
    }
    json_t *payload = json_pack("{s:s, s:[O]}", "id", chat, "presences", entry);
    json_decref(entry);
    free(participant);
    free(chat);
    sw_session_emit(sw_wasess_session(sess), "presence.update", &payload);
}

//  --------------------------------------------------------------------
//  Self test: the commands' checks and the kept presences (what needs
//  WhatsApp is tested against wa-sim by the integration tests)

static const sw_wacmd_t t_table[] = {
    SW_WAPRESENCE_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

void
sw_wapresence_test(bool verbose)
{
    printf(" * sw_wapresence: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    assert(cm_streq(sw_wapresence_waha_name("available"), "online"));
    assert(cm_streq(sw_wapresence_waha_name("unavailable"), "offline"));
    assert(cm_streq(sw_wapresence_waha_name("composing"), "typing"));
    assert(cm_streq(sw_wapresence_waha_name("recording"), "recording"));
    assert(cm_streq(sw_wapresence_waha_name("paused"), "paused"));
    assert(!sw_wapresence_waha_name("dancing"));
    assert(!sw_wapresence_waha_name(NULL));

    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_session_t *session = sw_wasess_session(sess);
    //  Every command wants a WORKING session
    const char *types[] = {"presence.set", "presence.subscribe",
                           "presence.get"};
    for (size_t i = 0; i < 3; i++) {
        cm_msg_t *reply =
            sw_wasess_rig_call(rig, types[i],
                               json_pack("{s:s, s:s}", "presence", "online",
                                         "chatId", "15550002222@c.us"),
                               1000);
        assert(reply && cm_msg_status(reply) == 409);
        cm_msg_destroy(&reply);
    }
    //  Presences are kept and emitted, in WAHA's words
    size_t queued = sw_session_queued(session);
    wa_client_presence_t p = {"15550002222@s.whatsapp.net",
                              "15550002222@s.whatsapp.net", "unavailable",
                              1700000000};
    sw_wapresence_on_presence(sess, &p);
    wa_client_presence_t g = {"120363000000000001@g.us",
                              "15550003333@s.whatsapp.net", "composing", 0};
    sw_wapresence_on_presence(sess, &g);
    wa_client_presence_t bad = {"15550002222@s.whatsapp.net",
                                "15550002222@s.whatsapp.net", "dancing", 0};
    sw_wapresence_on_presence(sess, &bad);
    assert(sw_session_queued(session) == queued + 2);
    zhashx_t *last = s_last(sess);
    json_t *known = (json_t *)zhashx_lookup(last, "15550002222@c.us");
    json_t *e = json_object_get(known, "15550002222@c.us");
    assert(cm_streq(json_string_value(json_object_get(e, "lastKnownPresence")),
                    "offline"));
    assert(json_integer_value(json_object_get(e, "lastSeen")) == 1700000000);
    json_t *body = s_chat_presences("15550002222@c.us", known);
    assert(cm_streq(json_string_value(json_object_get(body, "id")),
                    "15550002222@c.us"));
    assert(json_array_size(json_object_get(body, "presences")) == 1);
    json_decref(body);
    known = (json_t *)zhashx_lookup(last, "120363000000000001@g.us");
    e = json_object_get(known, "15550003333@c.us");
    assert(cm_streq(json_string_value(json_object_get(e, "lastKnownPresence")),
                    "typing"));
    assert(json_is_null(json_object_get(e, "lastSeen")));
    //  Chat ids
    bool group = false;
    char *c = s_chat_of("15550002222@c.us", &group);
    assert(c && cm_streq(c, "15550002222@c.us") && !group);
    free(c);
    c = s_chat_of("120363000000000001@g.us", &group);
    assert(c && group);
    free(c);
    assert(!s_chat_of("status@broadcast", &group));
    assert(!s_chat_of("nonsense@", &group));
    assert(!s_chat_of("", &group));
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
