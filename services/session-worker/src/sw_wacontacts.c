/*  sw_wacontacts - the contacts capability of the WhatsApp engine: is a
    number on WhatsApp, a contact's about text and picture, blocking

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_contacts.h"
#include "wa/wa_jid.h"

//  A cached answer.
typedef struct {
    int64_t at;   //  wall clock when learnt, s
    bool exists;  //  check: registered
    char *jid;    //  check: user JID; picture: NULL
    char *lid;    //  check: LID user JID or NULL
    char *url;    //  picture: URL or NULL (none)
    char *pic_id; //  picture: id or NULL
} s_entry_t;

//  The capability's state of one session.
typedef struct {
    zhashx_t *checks;   //  phone digits -> s_entry_t
    zhashx_t *pictures; //  "<jid>|<image|preview>" -> s_entry_t
    zhashx_t *names;    //  user JID -> push name
    zhashx_t *blocked;  //  user JID (PN) -> "1"
    int64_t window_s;   //  start of the rate window (wall s)
    int in_window;      //  uncached checks in it
} s_state_t;

static void
s_entry_free(void **item)
{
    s_entry_t *e = (s_entry_t *)*item;
    if (e) {
        free(e->jid);
        free(e->lid);
        free(e->url);
        free(e->pic_id);
        free(e);
        *item = NULL;
    }
}

static void
s_str_free(void **item)
{
    free(*item);
    *item = NULL;
}

static void
s_state_free(void **state_p)
{
    s_state_t *self = (s_state_t *)*state_p;
    if (self) {
        zhashx_destroy(&self->checks);
        zhashx_destroy(&self->pictures);
        zhashx_destroy(&self->names);
        zhashx_destroy(&self->blocked);
        free(self);
        *state_p = NULL;
    }
}

static s_state_t *
s_state(sw_wasess_t *sess)
{
    s_state_t *self = (s_state_t *)sw_wasess_state(sess, "contacts");
    if (!self) {
        self = (s_state_t *)cm_alloc(sizeof(s_state_t));
        self->checks = zhashx_new();
        zhashx_set_destructor(self->checks, s_entry_free);
        self->pictures = zhashx_new();
        zhashx_set_destructor(self->pictures, s_entry_free);
        self->names = zhashx_new();
        zhashx_set_destructor(self->names, s_str_free);
        self->blocked = zhashx_new();
        sw_wasess_set_state(sess, "contacts", self, s_state_free);
    }
    return self;
}

static int64_t
s_now_s(void)
{
    return cm_now_ms() / 1000;
}

//  Insert into a cache, dropping everything when it is full (simple and
//  bounded; the entries come back on demand).
static void
s_cache_put(zhashx_t *cache, const char *key, s_entry_t *entry)
{
    if (zhashx_size(cache) >= SW_WACONTACTS_CACHE_MAX) {
        zhashx_purge(cache);
    }
    zhashx_update(cache, key, entry);
}

//  --------------------------------------------------------------------
//  Asking WhatsApp

typedef struct {
    sw_wasess_t *sess;           //  the session
    char *key;                   //  where the command is held
    char *what;                  //  "get the about text"
    sw_wacontacts_done_fn *done; //  result -> body
    sw_wacontacts_then_fn *then; //  body -> the answer, later (or NULL)
    void *ctx;                   //  its context (freed)
} s_ask_t;

//  Status and reason of an IQ error code.
static int
s_iq_error(int code, const char *what, char **reason_p)
{
    int st = 502;
    const char *why = "WhatsApp refused the request";
    if (code == 400 || code == 406) {
        st = 400;
        why = "WhatsApp refused the request as invalid";
    } else if (code == 401 || code == 403) {
        st = 403;
        why = "not allowed by the contact's privacy settings";
    } else if (code == 404) {
        st = 404;
        why = "not found";
    } else if (code == 420 || code == 429) {
        st = 429;
        why = "rate limited by WhatsApp";
    }
    *reason_p = code > 0
                    ? cm_sprintf("could not %s: %s (error %d)", what, why, code)
                    : cm_sprintf("could not %s: %s", what, why);
    return st;
}

static void
s_ask_reply(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_ask_t *ask = (s_ask_t *)arg;
    int st = 200;
    char *reason = NULL;
    json_t *body = NULL;
    if (outcome == WA_IQ_RESULT || outcome == WA_IQ_ERROR) {
        //  done sees errors too (a 404 picture is an answer)
        body = ask->done(ask->sess, reply, ask->ctx, &st, &reason);
        if (!body && !reason) {
            st = s_iq_error(wa_iq_error_code(reply), ask->what, &reason);
        }
    } else if (outcome == WA_IQ_TIMEOUT) {
        st = 504;
        reason = cm_sprintf("could not %s: WhatsApp did not answer in time",
                            ask->what);
    } else {
        st = 503;
        reason = cm_sprintf("could not %s: the connection to WhatsApp was "
                            "lost",
                            ask->what);
    }
    if (body && ask->then) {
        //  The command stays held under its key: `then` answers it
        ask->then(ask->sess, ask->key, &body, ask->ctx);
        json_decref(body);
        free(ask->key);
        free(ask->what);
        free(ask->ctx);
        free(ask);
        return;
    }
    sw_cmd_t *cmd = sw_wasess_release(ask->sess, ask->key, NULL);
    if (!cmd) {
        json_decref(body);
    } else if (body) {
        sw_cmd_reply(&cmd, 200, NULL, &body);
    } else {
        cm_log_warn("contacts request failed",
                    "session=\"%s\" what=\"%s\" status=%d",
                    sw_wasess_name(ask->sess), ask->what, st);
        //  A 404 names what is missing, so the gateway answers 404 (and
        //  not "no worker holds the session")
        json_t *missing =
            st == 404 ? json_pack("{s:s}", "missing", ask->what) : NULL;
        sw_cmd_reply(&cmd, st, reason, missing ? &missing : NULL);
    }
    free(reason);
    free(ask->key);
    free(ask->what);
    free(ask->ctx);
    free(ask);
}

void
sw_wacontacts_ask(sw_wasess_t *sess, sw_cmd_t **cmd_p, wa_node_t **iq_p,
                  const char *what, sw_wacontacts_done_fn *done, void *ctx)
{
    sw_wacontacts_ask_then(sess, cmd_p, iq_p, what, done, NULL, ctx);
}

void
sw_wacontacts_ask_then(sw_wasess_t *sess, sw_cmd_t **cmd_p, wa_node_t **iq_p,
                       const char *what, sw_wacontacts_done_fn *done,
                       sw_wacontacts_then_fn *then, void *ctx)
{
    s_ask_t *ask = (s_ask_t *)cm_alloc(sizeof(s_ask_t));
    ask->sess = sess;
    ask->what = cm_strdup(what);
    ask->done = done;
    ask->then = then;
    ask->ctx = ctx;
    char *late =
        cm_sprintf("could not %s: WhatsApp did not answer in time", what);
    ask->key = cm_strdup(sw_wasess_hold(sess, cmd_p, NULL, late, NULL));
    free(late);
    if (wa_client_iq(sw_wasess_client(sess), iq_p, s_ask_reply, ask) != 0) {
        wa_node_destroy(iq_p);
        sw_cmd_t *cmd = sw_wasess_release(sess, ask->key, NULL);
        sw_cmd_reply(&cmd, 409,
                     "Session status is not as expected: "
                     "not connected to WhatsApp",
                     NULL);
        free(ask->key);
        free(ask->what);
        free(ask->ctx);
        free(ask);
    }
}

//  --------------------------------------------------------------------
//  Inputs

char *
sw_wacontacts_person(sw_cmd_t **cmd_p, const char *key)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), key);
    char *full = NULL;
    if (text && *text && strlen(text) <= 64) {
        full =
            strchr(text, '@') ? cm_strdup(text) : cm_sprintf("%s@c.us", text);
    }
    char *wire = full ? wa_jid_normalize(full) : NULL;
    free(full);
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    bool ok = jid && !wa_jid_is_server(jid) && wa_jid_device(jid) == 0 &&
              (wa_jid_is_pn(jid) || wa_jid_is_lid(jid));
    wa_jid_destroy(&jid);
    if (!ok) {
        free(wire);
        char *reason = cm_sprintf("%s must be a phone number or a person's "
                                  "chat id such as 12132132130@c.us",
                                  key);
        sw_cmd_reply(cmd_p, 400, reason, NULL);
        free(reason);
        return NULL;
    }
    return wire;
}

//  "123@s.whatsapp.net" -> "123@c.us" as a JSON string (null on NULL).
static json_t *
s_api(const char *jid)
{
    char *api = jid ? sw_wamsg_api_jid(jid) : NULL;
    json_t *out = api ? json_string(api) : json_null();
    free(api);
    return out;
}

//  --------------------------------------------------------------------
//  contact.check

static json_t *
s_check_body(const s_entry_t *e)
{
    json_t *body = json_pack("{s:b}", "numberExists", e->exists);
    if (e->exists && e->jid) {
        json_object_set_new(body, "chatId", s_api(e->jid));
    }
    if (e->exists && e->lid) {
        json_object_set_new(body, "lid", s_api(e->lid));
    }
    return body;
}

static json_t *
s_check_done(sw_wasess_t *sess, const wa_node_t *reply, void *ctx, int *st_p,
             char **reason_p)
{
    const char *phone = (const char *)ctx;
    wa_contacts_exists_t *items = NULL;
    size_t n = 0;
    if (!wa_node_attr_eq(reply, "type", "result") ||
        wa_contacts_exists_parse(reply, &items, &n) != 0) {
        return NULL;
    }
    s_entry_t *e = NULL;
    for (size_t i = 0; i < n && !e; i++) {
        if (cm_streq(items[i].phone, phone)) {
            e = (s_entry_t *)cm_alloc(sizeof(s_entry_t));
            e->at = s_now_s();
            e->exists = items[i].exists;
            e->jid = items[i].jid ? cm_strdup(items[i].jid) : NULL;
            e->lid = items[i].lid ? cm_strdup(items[i].lid) : NULL;
        }
    }
    wa_contacts_exists_free(&items, n);
    if (!e) {
        *st_p = 502;
        *reason_p = cm_strdup("could not check the number: WhatsApp did not "
                              "answer for it");
        return NULL;
    }
    json_t *body = s_check_body(e);
    s_cache_put(s_state(sess)->checks, phone, e);
    return body;
}

void
sw_wacontacts_check(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    const char *text = cm_msg_str(sw_cmd_request(*cmd_p), "phone");
    char digits[24];
    size_t len = 0;
    bool ok = text && strlen(text) <= 64;
    for (const char *p = text; ok && *p && *p != '@'; p++) {
        if (isdigit((unsigned char)*p)) {
            ok = len < 15;
            digits[len++] = *p;
        } else if (!strchr("+ -().", *p)) {
            ok = false;
        }
    }
    digits[len] = 0;
    if (!ok || len < 6 || digits[0] == '0') {
        sw_cmd_reply(cmd_p, 400,
                     "phone must be a phone number in international form "
                     "(6 to 15 digits, no leading 0)",
                     NULL);
        return;
    }
    s_state_t *self = s_state(sess);
    int64_t now = s_now_s();
    s_entry_t *e = (s_entry_t *)zhashx_lookup(self->checks, digits);
    if (e && now - e->at < SW_WACONTACTS_CHECK_TTL_S) {
        json_t *body = s_check_body(e);
        sw_cmd_reply(cmd_p, 200, NULL, &body);
        return;
    }
    if (now - self->window_s >= 60) {
        self->window_s = now;
        self->in_window = 0;
    }
    if (self->in_window >= SW_WACONTACTS_CHECK_RATE) {
        char *reason = cm_sprintf("too many numbers checked: at most %d "
                                  "new numbers a minute per session",
                                  SW_WACONTACTS_CHECK_RATE);
        sw_cmd_reply(cmd_p, 429, reason, NULL);
        free(reason);
        return;
    }
    self->in_window++;
    const char *phones[] = {digits};
    wa_node_t *iq = wa_contacts_exists_query(phones, 1, NULL);
    sw_wacontacts_ask(sess, cmd_p, &iq, "check the number", s_check_done,
                      cm_strdup(digits));
}

//  --------------------------------------------------------------------
//  contact.about

static json_t *
s_about_done(sw_wasess_t *sess, const wa_node_t *reply, void *ctx, int *st_p,
             char **reason_p)
{
    const char *jid = (const char *)ctx;
    if (!wa_node_attr_eq(reply, "type", "result")) {
        return NULL;
    }
    char *text = NULL;
    int64_t t = 0;
    json_t *body = json_pack("{s:o}", "id", s_api(jid));
    if (wa_contacts_about_parse(reply, &text, &t) == 0) {
        json_object_set_new(body, "about", json_string(text));
        json_object_set_new(body, "setAt", t ? json_integer(t) : json_null());
    } else {
        json_object_set_new(body, "about", json_null());
        json_object_set_new(body, "setAt", json_null());
    }
    free(text);
    return body;
}

void
sw_wacontacts_about(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    char *jid = sw_wacontacts_person(cmd_p, "id");
    if (!jid) {
        return;
    }
    wa_node_t *iq = wa_contacts_about_query(jid, NULL);
    sw_wacontacts_ask(sess, cmd_p, &iq, "get the about text", s_about_done,
                      jid);
}

//  --------------------------------------------------------------------
//  contact.picture

static json_t *
s_picture_body(const char *jid, const s_entry_t *e)
{
    return json_pack("{s:o, s:o, s:o}", "id", s_api(jid), "url",
                     e->url ? json_string(e->url) : json_null(), "pictureId",
                     e->pic_id ? json_string(e->pic_id) : json_null());
}

//  Keep what was learnt of `jid`'s picture in the store (the `picture`
//  of its chat in chat.list): url NULL when it has none or hides it.
static void
s_picture_store(sw_wasess_t *sess, const char *jid, const char *url)
{
    json_t *change =
        json_pack("{s:s, s:o, s:o}", "kind", "picture", "chat", s_api(jid),
                  "url", url ? json_string(url) : json_null());
    if (json_is_null(json_object_get(change, "chat"))) {
        json_decref(change);
        return;
    }
    json_t *body = json_pack("{s:[o]}", "changes", change);
    sw_session_write(sw_wasess_session(sess), "appstate.apply", &body, NULL,
                     NULL);
}

static json_t *
s_picture_done(sw_wasess_t *sess, const wa_node_t *reply, void *ctx, int *st_p,
               char **reason_p)
{
    const char *key = (const char *)ctx;
    s_entry_t *e = (s_entry_t *)cm_alloc(sizeof(s_entry_t));
    e->at = s_now_s();
    int code =
        wa_node_attr_eq(reply, "type", "error") ? wa_iq_error_code(reply) : 0;
    if (code == 0) {
        if (wa_contacts_picture_parse(reply, &e->url, &e->pic_id) != 0) {
            e->url = e->pic_id = NULL;
        }
    } else if (code != 404 && code != 401 && code != 204) {
        //  Not an answer about the picture: not cached
        s_entry_free((void **)&e);
        return NULL;
    }
    //  No picture, or hidden by privacy: url null
    char *jid = cm_strndup(key, strcspn(key, "|"));
    json_t *body = s_picture_body(jid, e);
    if (!strcmp(key + strcspn(key, "|"), "|image")) {
        s_picture_store(sess, jid, e->url);
    }
    free(jid);
    s_cache_put(s_state(sess)->pictures, key, e);
    return body;
}

void
sw_wacontacts_picture(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    cm_msg_t *req = sw_cmd_request(*cmd_p);
    const char *id = cm_msg_str(req, "id");
    char *jid = NULL;
    if (id && strstr(id, "@g.us")) {
        wa_jid_t *g = wa_jid_new_from(id);
        if (g && wa_jid_is_group(g) && !wa_jid_is_server(g)) {
            jid = cm_strdup(wa_jid_str(g));
        }
        wa_jid_destroy(&g);
        if (!jid) {
            sw_cmd_reply(cmd_p, 400, "id must be a chat id", NULL);
            return;
        }
    } else if (!(jid = sw_wacontacts_person(cmd_p, "id"))) {
        return;
    }
    bool refresh = cm_msg_bool(req, "refresh", false);
    bool preview = cm_msg_bool(req, "preview", false);
    char *key = cm_sprintf("%s|%s", jid, preview ? "preview" : "image");
    s_entry_t *e = (s_entry_t *)zhashx_lookup(s_state(sess)->pictures, key);
    if (e && !refresh && s_now_s() - e->at < SW_WACONTACTS_PICTURE_TTL_S) {
        json_t *body = s_picture_body(jid, e);
        sw_cmd_reply(cmd_p, 200, NULL, &body);
        free(key);
        free(jid);
        return;
    }
    wa_node_t *iq = wa_contacts_picture_query(jid, preview, NULL);
    free(jid);
    sw_wacontacts_ask(sess, cmd_p, &iq, "get the profile picture",
                      s_picture_done, key);
}

//  A picture re-read after a notification: cache and store it.
typedef struct {
    sw_session_t *session; //  its session
    char *key;             //  "<jid>|image"
} s_reread_t;

static void
s_reread_reply(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_reread_t *rr = (s_reread_t *)arg;
    //  Cancelled: the client (and maybe the session) is going away
    bool answered = outcome == WA_IQ_RESULT || outcome == WA_IQ_ERROR;
    sw_wasess_t *sess = answered && sw_session_running(rr->session)
                            ? sw_wa_sess(rr->session)
                            : NULL;
    if (sess) {
        int st = 200;
        char *reason = NULL;
        json_decref(s_picture_done(sess, reply, rr->key, &st, &reason));
        free(reason);
    }
    free(rr->key);
    free(rr);
}

void
sw_wacontacts_on_picture(sw_wasess_t *sess, const wa_client_picture_t *picture)
{
    s_state_t *self = s_state(sess);
    char *key = cm_sprintf("%s|image", picture->jid);
    zhashx_delete(self->pictures, key);
    free(key);
    key = cm_sprintf("%s|preview", picture->jid);
    zhashx_delete(self->pictures, key);
    free(key);
    if (!picture->id) {
        s_picture_store(sess, picture->jid, NULL);
        return;
    }
    //  A new picture: its URL is not in the notification, so ask for it
    //  (the stored one is stale)
    wa_client_t *client = sw_wasess_client(sess);
    wa_node_t *iq = wa_contacts_picture_query(picture->jid, false, NULL);
    s_reread_t *rr = cm_alloc(sizeof *rr);
    rr->session = sw_wasess_session(sess);
    rr->key = cm_sprintf("%s|image", picture->jid);
    if (!client || !iq || wa_client_iq(client, &iq, s_reread_reply, rr) != 0) {
        wa_node_destroy(&iq);
        free(rr->key);
        free(rr);
    }
}

//  --------------------------------------------------------------------
//  contact.block

typedef struct {
    bool block;   //  block or unblock
    char pn[80];  //  the PN user JID ("" when the id was a LID)
    char jid[80]; //  the JID asked for
} s_block_ctx_t;

static json_t *
s_block_done(sw_wasess_t *sess, const wa_node_t *reply, void *ctx, int *st_p,
             char **reason_p)
{
    s_block_ctx_t *b = (s_block_ctx_t *)ctx;
    if (!wa_node_attr_eq(reply, "type", "result")) {
        return NULL;
    }
    s_state_t *self = s_state(sess);
    const char *key = *b->pn ? b->pn : b->jid;
    if (b->block) {
        zhashx_update(self->blocked, key, (void *)"1");
    } else {
        zhashx_delete(self->blocked, key);
    }
    return json_pack("{s:o, s:b}", "id", s_api(b->jid), "blocked", b->block);
}

void
sw_wacontacts_block(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    char *jid = sw_wacontacts_person(cmd_p, "id");
    if (!jid) {
        return;
    }
    json_t *flag =
        json_object_get(cm_msg_body(sw_cmd_request(*cmd_p)), "block");
    if (!json_is_boolean(flag)) {
        free(jid);
        sw_cmd_reply(cmd_p, 400, "block must be a boolean value", NULL);
        return;
    }
    s_block_ctx_t *b = (s_block_ctx_t *)cm_alloc(sizeof(s_block_ctx_t));
    b->block = json_is_true(flag);
    snprintf(b->jid, sizeof b->jid, "%s", jid);
    //  WhatsApp addresses the blocklist by LID: use it when known
    const char *lid = NULL;
    if (strstr(jid, "@s.whatsapp.net")) {
        snprintf(b->pn, sizeof b->pn, "%s", jid);
        char digits[32];
        snprintf(digits, sizeof digits, "%.*s", (int)strcspn(jid, "@"), jid);
        s_entry_t *e =
            (s_entry_t *)zhashx_lookup(s_state(sess)->checks, digits);
        lid = e ? e->lid : NULL;
    }
    wa_node_t *iq =
        wa_contacts_block_iq(lid ? lid : jid, *b->pn ? b->pn : NULL, b->block);
    free(jid);
    sw_wacontacts_ask(sess, cmd_p, &iq,
                      b->block ? "block the contact" : "unblock the contact",
                      s_block_done, b);
}

//  --------------------------------------------------------------------
//  contact.info

void
sw_wacontacts_learn_name(sw_wasess_t *sess, const char *jid,
                         const char *push_name)
{
    if (!jid || !push_name || !*push_name || strlen(push_name) > 256) {
        return;
    }
    s_state_t *self = s_state(sess);
    const char *known = (const char *)zhashx_lookup(self->names, jid);
    if (known && cm_streq(known, push_name)) {
        return;
    }
    if (!known && zhashx_size(self->names) >= SW_WACONTACTS_CACHE_MAX) {
        return;
    }
    zhashx_update(self->names, jid, cm_strdup(push_name));
}

void
sw_wacontacts_info(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    char *jid = sw_wacontacts_person(cmd_p, "id");
    if (!jid) {
        return;
    }
    s_state_t *self = s_state(sess);
    size_t ulen = strcspn(jid, "@");
    char digits[32];
    snprintf(digits, sizeof digits, "%.*s", (int)ulen, jid);
    bool pn = strstr(jid, "@s.whatsapp.net") != NULL;
    s_entry_t *e = pn ? (s_entry_t *)zhashx_lookup(self->checks, digits) : NULL;
    const char *name = (const char *)zhashx_lookup(self->names, jid);
    json_t *body =
        json_pack("{s:o, s:s?, s:b, s:o, s:o}", "id", s_api(jid), "number",
                  pn ? digits : NULL, "isBlocked",
                  zhashx_lookup(self->blocked, jid) != NULL, "isWAContact",
                  e ? json_boolean(e->exists) : json_null(), "pushname",
                  name ? json_string(name) : json_null());
    if (!pn) {
        json_object_set_new(body, "number", json_null());
    }
    const char *me = sw_wasess_me_id(sess);
    json_object_set_new(body, "me", me ? json_string(me) : json_null());
    free(jid);
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

void
sw_wacontacts_blocked(sw_wasess_t *sess, sw_cmd_t **cmd_p)
{
    s_state_t *self = s_state(sess);
    json_t *list = json_array();
    for (void *v = zhashx_first(self->blocked); v;
         v = zhashx_next(self->blocked)) {
        json_array_append_new(
            list, s_api((const char *)zhashx_cursor(self->blocked)));
    }
    const char *me = sw_wasess_me_id(sess);
    json_t *body = json_pack("{s:o, s:o}", "blocked", list, "me",
                             me ? json_string(me) : json_null());
    sw_cmd_reply(cmd_p, 200, NULL, &body);
}

//  --------------------------------------------------------------------
//  Self test

//  Run a handler directly (past the WORKING check) with body (taken);
//  the reply it sent at once. Caller owns return value.
static cm_msg_t *
t_run(sw_wasess_rig_t *rig, sw_wacmd_fn *handler, json_t *body)
{
    sw_cmd_t *cmd = sw_wasess_rig_cmd(rig, "contact.test", body);
    handler(sw_wasess_rig_sess(rig), &cmd);
    assert(!cmd);
    return sw_wasess_rig_recv(rig, 1000);
}

void
sw_wacontacts_test(bool verbose)
{
    printf(" * sw_wacontacts: ");
    static const sw_wacmd_t table[] = {
        SW_WACONTACTS_COMMANDS,
        SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};
    cm_log_init(NULL, verbose ? "debug" : "error");
    sw_wasess_rig_t *rig = sw_wasess_rig_new(table, 1000);
    //  Not WORKING: 409 before the handler
    cm_msg_t *reply = sw_wasess_rig_call(
        rig, "contact.check", json_pack("{s:s}", "phone", "15551234567"), 1000);
    assert(reply && cm_msg_status(reply) == 409);
    cm_msg_destroy(&reply);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);

    //  Bad input: 400 naming the field, before anything is sent
    reply =
        t_run(rig, sw_wacontacts_check, json_pack("{s:s}", "phone", "12ab"));
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "phone"));
    cm_msg_destroy(&reply);
    reply =
        t_run(rig, sw_wacontacts_check, json_pack("{s:s}", "phone", "0123456"));
    assert(reply && cm_msg_status(reply) == 400);
    cm_msg_destroy(&reply);
    reply = t_run(rig, sw_wacontacts_about, json_pack("{s:s}", "id", "x@g.us"));
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "id must be"));
    cm_msg_destroy(&reply);
    reply = t_run(rig, sw_wacontacts_block,
                  json_pack("{s:s}", "id", "15551234567"));
    assert(reply && cm_msg_status(reply) == 400);
    assert(strstr(cm_msg_reason(reply), "block"));
    cm_msg_destroy(&reply);

    //  Info from what the session learnt
    sw_wacontacts_learn_name(sess, "15551234567@s.whatsapp.net", "Ann");
    reply =
        t_run(rig, sw_wacontacts_info, json_pack("{s:s}", "id", "15551234567"));
    assert(reply && cm_msg_status(reply) == 200);
    json_t *body = cm_msg_body(reply);
    assert(cm_streq(json_string_value(json_object_get(body, "id")),
                    "15551234567@c.us"));
    assert(cm_streq(json_string_value(json_object_get(body, "number")),
                    "15551234567"));
    assert(
        cm_streq(json_string_value(json_object_get(body, "pushname")), "Ann"));
    assert(json_is_false(json_object_get(body, "isBlocked")));
    assert(json_is_null(json_object_get(body, "isWAContact")));
    cm_msg_destroy(&reply);

    //  Cached checks answer without WhatsApp; the rest wait for it
    s_entry_t *e = (s_entry_t *)cm_alloc(sizeof(s_entry_t));
    e->at = s_now_s();
    e->exists = true;
    e->jid = cm_strdup("15551234567@s.whatsapp.net");
    s_cache_put(s_state(sess)->checks, "15551234567", e);
    reply = t_run(rig, sw_wacontacts_check,
                  json_pack("{s:s}", "phone", "+15551234567"));
    assert(reply && cm_msg_status(reply) == 200);
    body = cm_msg_body(reply);
    assert(json_is_true(json_object_get(body, "numberExists")));
    assert(cm_streq(json_string_value(json_object_get(body, "chatId")),
                    "15551234567@c.us"));
    cm_msg_destroy(&reply);
    //  A picture notification drops the cached picture
    e = (s_entry_t *)cm_alloc(sizeof(s_entry_t));
    e->at = s_now_s();
    e->url = cm_strdup("https://x/p.jpg");
    s_cache_put(s_state(sess)->pictures, "15551234567@s.whatsapp.net|image", e);
    reply = t_run(rig, sw_wacontacts_picture,
                  json_pack("{s:s}", "id", "15551234567@c.us"));
    assert(reply && cm_msg_status(reply) == 200);
    assert(
        cm_streq(json_string_value(json_object_get(cm_msg_body(reply), "url")),
                 "https://x/p.jpg"));
    cm_msg_destroy(&reply);
    wa_client_picture_t pic = {.jid = "15551234567@s.whatsapp.net"};
    sw_wacontacts_on_picture(sess, &pic);
    assert(zhashx_size(s_state(sess)->pictures) == 0);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
