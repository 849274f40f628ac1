/*  sw_wareceipt - group receipts and messages waiting for a resend

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

bool
sw_wareceipt_on_ack(sw_wasess_t *sess, const wa_client_ack_t *a)
{
    if (a->from_me || !a->participant || !a->chat ||
        !strstr(a->chat, "@g.us")) {
        return false;
    }
    const char *me = sw_wasess_me_id(sess);
    json_t *payload =
        sw_wamsg_ack(a->chat, a->id, a->participant, me, true, a->ack);
    //  One event per (message, member, level): a receipt delivered again
    //  is stored once
    char *key =
        cm_sprintf("%s|%s|%s|%d", a->chat, a->id, a->participant, a->ack);
    char id[SW_WAMSG_EVENT_ID_MAX];
    int64_t ts = a->timestamp ? a->timestamp * 1000 : cm_now_ms();
    sw_wamsg_event_id(sw_wasess_name(sess), "message.ack.group", key, ts, id);
    sw_session_emit_id(sw_wasess_session(sess), id, "message.ack.group",
                       &payload, NULL, NULL);
    free(key);
    return true;
}

void
sw_wareceipt_on_waiting(sw_wasess_t *sess, const wa_client_waiting_t *w)
{
    sw_wamsg_t m = {0};
    m.id = w->id;
    m.chat = w->chat;
    m.participant = w->participant;
    m.me = sw_wasess_me_id(sess);
    m.from_me = w->from_me;
    m.timestamp = w->timestamp;
    m.type = "ciphertext";
    m.push_name = w->push_name;
    m.source = w->from_me ? "app" : NULL;
    m.ack = w->from_me ? SW_WAMSG_ACK_SERVER : SW_WAMSG_ACK_DEVICE;
    json_t *payload = sw_wamsg_message(&m);
    json_object_set_new(payload, "body", json_null());
    char *key = cm_sprintf("%s|%s|%s", w->chat, w->id,
                           w->participant ? w->participant : "");
    char id[SW_WAMSG_EVENT_ID_MAX];
    sw_wamsg_event_id(sw_wasess_name(sess), "message.waiting", key,
                      w->timestamp * 1000, id);
    sw_session_emit_id(sw_wasess_session(sess), id, "message.waiting", &payload,
                       NULL, NULL);
    free(key);
}

//  --------------------------------------------------------------------

static const sw_wacmd_t t_table[] = {
    SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

void
sw_wareceipt_test(bool verbose)
{
    printf(" * sw_wareceipt: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_session_t *session = sw_wasess_session(sess);
    sw_wasess_set_me(sess, "15550001111@c.us", NULL, NULL);
    size_t queued = sw_session_queued(session);
    //  A member's read receipt in a group: message.ack.group
    wa_client_ack_t g = {
        "M1",  "120363000000000001@g.us", "15550002222:1@s.whatsapp.net",
        false, WA_CLIENT_ACK_READ,        1700000003};
    assert(sw_wareceipt_on_ack(sess, &g));
    assert(sw_session_queued(session) == queued + 1);
    //  1:1 receipts and our own devices' are message.ack's
    wa_client_ack_t one = {
        "M2",  "15550002222@s.whatsapp.net", "15550002222@s.whatsapp.net",
        false, WA_CLIENT_ACK_READ,           1700000003};
    assert(!sw_wareceipt_on_ack(sess, &one));
    g.from_me = true;
    assert(!sw_wareceipt_on_ack(sess, &g));
    g.from_me = false;
    g.participant = NULL;
    assert(!sw_wareceipt_on_ack(sess, &g));
    assert(sw_session_queued(session) == queued + 1);
    //  A message waiting for a resend
    wa_client_waiting_t w = {"W1",
                             "15550002222@s.whatsapp.net",
                             "15550002222@s.whatsapp.net",
                             NULL,
                             false,
                             false,
                             1700000004,
                             "Bob"};
    sw_wareceipt_on_waiting(sess, &w);
    assert(sw_session_queued(session) == queued + 2);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
