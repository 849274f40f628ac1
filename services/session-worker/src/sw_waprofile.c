/*  sw_waprofile - the profile capability of the WhatsApp engine: the
    account's own name, about text and picture

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_contacts.h"
#include "wa/wa_jid.h"
#include "wa/wa_profile.h"

static json_t *
s_get_done(sw_wasess_t *sess, const wa_node_t *reply, void *ctx, int *st_p,
           char **reason_p)
{
    char *url = NULL;
    char *id = NULL;
    int code =
        wa_node_attr_eq(reply, "type", "error") ? wa_iq_error_code(reply) : 0;
    if (code && code != 404 && code != 204) {
        return NULL;
    }
    if (!code) {
        wa_contacts_picture_parse(reply, &url, &id);
    }
    const char *name = sw_wasess_push_name(sess);
    json_t *body = json_pack("{s:s, s:o, s:o}", "id", sw_wasess_me_id(sess),
                             "name", json_string(name ? name : ""), "picture",
                             url ? json_string(url) : json_null());
    free(url);
    free(id);
    return body;
}

void
sw_waprofile_get(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *me = sw_wasess_me_id(sess);
    char *wire = me ? wa_jid_normalize(me) : NULL;
    wa_node_t *iq = wire ? wa_contacts_picture_query(wire, false, NULL) : NULL;
    free(wire);
    if (!iq) {
        sw_cmd_reply(cmd_p, 422, "the session has no account yet", NULL);
        return;
    }
    sw_wacontacts_ask(sess, cmd_p, &iq, "get the profile", s_get_done, NULL);
}

void
sw_waprofile_set_name(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *name = cm_msg_str(sw_cmd_request(*cmd_p), "pushName");
    if (!name || !*name || strlen(name) > WA_PROFILE_NAME_MAX) {
        char *reason =
            cm_sprintf("pushName must be 1 to %d bytes", WA_PROFILE_NAME_MAX);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return;
    }
    if (!sw_wasess_client(sess)) {
        sw_cmd_reply(cmd_p, 409,
                     "Session status is not as expected: not connected to "
                     "WhatsApp",
                     NULL);
        return;
    }
    //  Presence carries it now; the credentials and `me` keep it
    sw_wasess_set_push_name(sess, name);
    wa_client_set_push_name(sw_wasess_client(sess), name);
    sw_session_t *session = sw_wasess_session(sess);
    json_t *me = sw_wasess_me(sess);
    if (me) {
        json_t *body = json_pack("{s:s, s:O}", "status", "WORKING", "me", me);
        sw_session_write(session, "session.set_status", &body, NULL, NULL);
    }
    json_decref(me);
    json_t *body = json_pack("{s:b}", "success", 1);
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

static json_t *
s_ok_done(sw_wasess_t *sess, const wa_node_t *reply, void *ctx, int *st_p,
          char **reason_p)
{
    if (!wa_node_attr_eq(reply, "type", "result")) {
        return NULL;
    }
    json_t *body = json_pack("{s:b}", "success", 1);
    char *id = wa_profile_picture_id(reply);
    if (id) {
        json_object_set_new(body, "pictureId", json_string(id));
    }
    free(id);
    return body;
}

void
sw_waprofile_set_status(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), "status");
    wa_node_t *iq = text ? wa_profile_about_iq(text) : NULL;
    if (!iq) {
        char *reason = cm_sprintf("status must be a text of at most %d bytes",
                                  WA_PROFILE_ABOUT_MAX);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return;
    }
    sw_wacontacts_ask(sess, cmd_p, &iq, "set the about text", s_ok_done, NULL);
}

void
sw_waprofile_set_picture(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    zframe_t *full = cm_msg_blob_count(req) >= 1 ? cm_msg_blob(req, 0) : NULL;
    zframe_t *prev = cm_msg_blob_count(req) >= 2 ? cm_msg_blob(req, 1) : NULL;
    wa_node_t *iq =
        full ? wa_profile_picture_iq(zframe_data(full), zframe_size(full),
                                     prev ? zframe_data(prev) : NULL,
                                     prev ? zframe_size(prev) : 0)
             : NULL;
    if (!iq) {
        sw_cmd_reply(cmd_p, 400,
                     "the picture must come as JPEG blobs (full, preview) "
                     "of at most 1 MiB",
                     NULL);
        return;
    }
    sw_wacontacts_ask(sess, cmd_p, &iq, "set the profile picture", s_ok_done,
                      NULL);
}

void
sw_waprofile_delete_picture(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    wa_node_t *iq = wa_profile_picture_iq(NULL, 0, NULL, 0);
    sw_wacontacts_ask(sess, cmd_p, &iq, "delete the profile picture", s_ok_done,
                      NULL);
}

//  --------------------------------------------------------------------
//  Self test

static cm_msg_t *
t_run(sw_wasess_rig_t *rig, sw_wacmd_fn *handler, json_t *body)
{
    sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, "profile.test", body);
    handler(sw_wasess_rig_sess(rig), &cmd);
    assert(!cmd);
    return sw_wasess_rig_recv(rig, 1000);
}

void
sw_waprofile_test(bool verbose)
{
    printf(" * sw_waprofile: ");
    static const sw_wacmd_t table[] = {
        SW_WAPROFILE_COMMANDS,
        SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(table, 1000);
    cm_msg_t *reply =
        t_run(rig, sw_waprofile_set_name, json_pack("{s:s}", "pushName", ""));
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "pushName must be"));
    cm_msg_destroy(&reply);
    reply = t_run(rig, sw_waprofile_set_status, json_object());
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "status must be"));
    cm_msg_destroy(&reply);
    //  No blobs, or not JPEGs: 400 before anything is sent
    reply = t_run(rig, sw_waprofile_set_picture, json_object());
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, "profile.test", json_object());
    cm_msg_add_blob(sw_cmd_request(cmd), "GIF89a", 6);
    sw_waprofile_set_picture(sw_wasess_rig_sess(rig), &cmd);
    reply = sw_wasess_rig_recv(rig, 1000);
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    //  No account yet: 422
    reply = t_run(rig, sw_waprofile_get, json_object());
    assert(reply && cm_msg_status(reply) == 422);
    cm_msg_destroy(&reply);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
