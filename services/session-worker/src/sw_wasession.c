/*  sw_wasession - the session capability of the WhatsApp engine: the QR
    shown, a pairing code instead of the QR, and our account

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

void
sw_wasession_qr(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    wa_client_t *client = sw_wasess_client(sess);
    const char *qr = client ? wa_client_qr(client) : NULL;
    if (sw_session_status(sw_wasess_session(sess)) != SW_STATUS_SCAN_QR_CODE ||
        !qr) {
        sw_cmd_reply(cmd_p, 409, "session is not in SCAN_QR_CODE", NULL);
        return;
    }
    json_t *body = json_pack("{s:s}", "value", qr);
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

void
sw_wasession_pair_code(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    wa_client_t *client = sw_wasess_client(sess);
    const char *phone = cm_msg_str(sw_cmd_request(*cmd_p), "phoneNumber");
    if (!client || sw_wasess_idle(sess)) {
        sw_cmd_reply(cmd_p, 409,
                     "Session status is not as expected: the "
                     "session is not linking",
                     NULL);
        return;
    }
    if (wa_client_paired(client)) {
        sw_cmd_reply(cmd_p, 409, "the session is already linked", NULL);
        return;
    }
    char code[WA_CLIENT_CODE_MAX];
    if (!phone || wa_client_request_pair_code(client, phone, code) != 0) {
        sw_cmd_reply(cmd_p, 400,
                     "phoneNumber must be a phone number in international "
                     "format",
                     NULL);
        return;
    }
    //  Answered by sw_wasession_pair_done when WhatsApp took it
    json_t *data = json_pack("{s:s}", "code", code);
    sw_wasess_hold(sess, cmd_p, SW_WASESSION_PAIR_KEY,
                   "WhatsApp did not confirm the pairing code in time", &data);
}

void
sw_wasession_me(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    json_t *me = sw_session_status(sw_wasess_session(sess)) == SW_STATUS_WORKING
                     ? sw_wasess_me(sess)
                     : NULL;
    json_t *body = json_pack("{s:o}", "me", me ? me : json_null());
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

void
sw_wasession_pair_done(sw_wasess_t *sess, int st, const char *code,
                       const char *reason)
{
    json_t *data = NULL;
    sw_cmd_t *cmd = sw_wasess_release(sess, SW_WASESSION_PAIR_KEY, &data);
    if (cmd && st == 200) {
        const char *asked = json_string_value(json_object_get(data, "code"));
        json_t *body = json_pack("{s:s}", "code", code ? code : asked);
        sw_cmd_reply(&cmd, 200, NULL, &body);
    } else if (cmd) {
        sw_cmd_reply(&cmd, st, reason, NULL);
    }
    json_decref(data);
}

//  --------------------------------------------------------------------
//  Self test: the answers that need no WhatsApp server (the QR and the
//  code themselves are exercised against wa-sim by sw_wa's test)

static const sw_wacmd_t t_table[] = {
    SW_WASESSION_COMMANDS, SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

void
sw_wasession_test(bool verbose)
{
    printf(" * sw_wasession: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    assert(sw_wacmd_find(t_table, "session.pair_code")->timeout_ms ==
           SW_WA_PAIR_TIMEOUT_MS);
    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    //  No QR shown
    cm_msg_t *reply = sw_wasess_rig_call(rig, "session.qr", NULL, 1000);
    assert(reply && cm_msg_status(reply) == 409);
    assert(cm_streq(cm_msg_reason(reply), "session is not in SCAN_QR_CODE"));
    cm_msg_destroy(&reply);
    //  No client (still loading): not linking
    reply = sw_wasess_rig_call(rig, "session.pair_code",
                               json_pack("{s:s}", "phoneNumber", "15550001111"),
                               1000);
    assert(reply && cm_msg_status(reply) == 409);
    assert(strstr(cm_msg_reason(reply), "not linking"));
    cm_msg_destroy(&reply);
    //  me: null until WORKING, then the account
    sw_wasess_set_me(sess, "15550001111@c.us", NULL, "Al");
    reply = sw_wasess_rig_call(rig, "session.me", NULL, 1000);
    assert(reply && cm_msg_status(reply) == 200);
    assert(json_is_null(json_object_get(cm_msg_body(reply), "me")));
    cm_msg_destroy(&reply);
    sw_session_set_status(sw_wasess_session(sess), SW_STATUS_WORKING, NULL);
    reply = sw_wasess_rig_call(rig, "session.me", NULL, 1000);
    json_t *me = json_object_get(cm_msg_body(reply), "me");
    assert(cm_streq(json_string_value(json_object_get(me, "id")),
                    "15550001111@c.us"));
    assert(cm_streq(json_string_value(json_object_get(me, "pushName")), "Al"));
    cm_msg_destroy(&reply);
    //  A held request is answered with the code WhatsApp confirmed, once
    sw_wasession_pair_done(sess, 200, "ABCD-EFGH", NULL); //  none held
    sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, "session.pair_code", NULL);
    json_t *data = json_pack("{s:s}", "code", "WXYZ-1234");
    sw_wasess_hold(sess, &cmd, SW_WASESSION_PAIR_KEY, NULL, &data);
    assert(sw_wasess_holds(sess, SW_WASESSION_PAIR_KEY));
    sw_wasession_pair_done(sess, 200, NULL, NULL);
    assert(!sw_wasess_holds(sess, SW_WASESSION_PAIR_KEY));
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 200);
    assert(cm_streq(cm_msg_str(reply, "code"), "WXYZ-1234"));
    cm_msg_destroy(&reply);
    sw_wasession_pair_done(sess, 502, NULL, "refused"); //  answered already
    assert(!sw_wasess_rig_recv(rig, 20));
    //  Refused: the status and reason given
    cmd = sw_wasess_rig_cmd(rig, "session.pair_code", NULL);
    sw_wasess_hold(sess, &cmd, SW_WASESSION_PAIR_KEY, NULL, NULL);
    sw_wasession_pair_done(sess, 502, NULL, "refused");
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 502);
    assert(cm_streq(cm_msg_reason(reply), "refused"));
    cm_msg_destroy(&reply);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
