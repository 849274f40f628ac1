/*  wacli - one WhatsApp session on the command line (wa_client over wa_conn)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A small driver for wa_client, for tests against wa-sim and for
    debugging the protocol by hand:

        wacli --url ws://127.0.0.1:7480/ws/chat --root-key HEX \
              --creds /tmp/alice.json [--name alice] [--push-name Alice]

    Credentials and Signal state live in the --creds JSON file (created on
    first run, rewritten after every change, removed on logout). Events
    go to stdout as JSON lines:

        {"event":"status","state":"QR","qr":"https://wa.me/..."}
        {"event":"status","state":"WORKING","me":{"id":"…@c.us",...}}
        {"event":"message","id","chat","sender","participant","from_me",
         "timestamp","push_name","type","body","has_media","reply_to"}
        {"event":"ack","id","chat","participant","ack":2}
        {"event":"sent","id","chat","ok":true,"timestamp"} (or error)
        {"event":"queued","id"} {"event":"code","code":"ABCD-EFGH"}
        {"event":"iq","tag":"group","id":"…"} {"event":"error","error":"…"}

    Commands on stdin, one per line:

        send CHAT TEXT...            reply CHAT ID TEXT...
        seen CHAT ID [PARTICIPANT]   paircode PHONE
        group SUBJECT JID [JID...]   logout    quit

    RESTART reconnects at once, RETRY after a second; QR_EXPIRED,
    CONFLICT, OUTDATED and LOGGED_OUT end the program (exit status 0,
    3, 3, 4).
*/
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_binary.h"
#include "wa/wa_client.h"
#include "wa/wa_conn.h"
#include "wa/wa_jid.h"
#include "wa/wa_ws.h"

#define CLI_RETRY_MS 1000
#define CLI_LINE_MAX 65536

typedef struct {
    wa_ws_t *ws;             //  event loop
    wa_conn_t *conn;         //  current connection, or NULL
    wa_client_t *client;     //  the session
    const char *url;         //  server URL
    uint8_t root[32];        //  certificate root
    bool have_root;          //  root given
    const char *creds_path;  //  state file
    json_t *rows;            //  Signal rows: "kind|key" -> base64
    bool dirty;              //  state file needs writing
    bool close_conn;         //  drop the connection at the next turn
    int64_t wake_at;         //  client wake-up (mono ms), -1 none
    int64_t reconnect_at;    //  next connect (mono ms), -1 none
    bool quit;               //  leave the loop
    int exit_code;           //  program status
    char line[CLI_LINE_MAX]; //  stdin buffer
    size_t line_len;         //  bytes in it
    bool stdin_open;         //  stdin not at EOF
} cli_t;

static void
s_print(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(obj);
}

static void
s_error(const char *what)
{
    s_print(json_pack("{s:s,s:s}", "event", "error", "error", what));
}

static json_t *
s_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

//  ---------------------------------------------------------------------
//  State file

static void
s_save(cli_t *self)
{
    if (!self->dirty || !self->creds_path) {
        return;
    }
    self->dirty = false;
    json_t *creds = wa_client_creds(self->client);
    json_t *doc = json_pack("{s:o,s:O}", "creds", creds ? creds : json_null(),
                            "signal", self->rows);
    char *tmp = cm_sprintf("%s.tmp", self->creds_path);
    if (json_dump_file(doc, tmp, JSON_COMPACT) != 0 ||
        rename(tmp, self->creds_path) != 0) {
        cm_log_error("could not write state file", "path=%s", self->creds_path);
    }
    free(tmp);
    json_decref(doc);
}

static void
s_load(cli_t *self)
{
    json_error_t err;
    json_t *doc = json_load_file(self->creds_path, 0, &err);
    if (!doc) {
        return; //  a new device
    }
    json_t *creds = json_object_get(doc, "creds");
    if (json_is_object(creds) &&
        wa_client_load_creds(self->client, creds) != 0) {
        cm_log_warn("could not load credentials, starting over", "path=%s",
                    self->creds_path);
        json_decref(doc);
        return;
    }
    json_t *rows = json_object_get(doc, "signal");
    const char *key;
    json_t *value;
    json_object_foreach(rows, key, value)
    {
        const char *b64 = json_string_value(value);
        const char *bar = strchr(key, '|');
        uint8_t *data = NULL;
        size_t len = 0;
        if (!b64 || !bar ||
            cm_base64_decode(b64, WA_SIGSTORE_MAX_RECORD, &data, &len) != 0) {
            continue;
        }
        char *kind = cm_strndup(key, (size_t)(bar - key));
        if (wa_client_load_signal(self->client, kind, bar + 1, data, len) ==
            0) {
            json_object_set(self->rows, key, value);
        }
        free(kind);
        free(data);
    }
    json_decref(doc);
}

//  ---------------------------------------------------------------------
//  Client callbacks

static int
s_send(void *arg, const wa_node_t *node)
{
    cli_t *self = (cli_t *)arg;
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *reason = NULL;
    if (!self->conn || wa_binary_encode(node, &buf, &len, &reason) != 0) {
        return -1;
    }
    if (cm_log_enabled(CM_LOG_DEBUG)) {
        char *text = wa_node_text(node, 200);
        cm_log_debug("sent stanza", "node=\"%s\"", text);
        free(text);
    }
    int rc = wa_conn_send(self->conn, buf, len);
    free(buf);
    return rc;
}

static void
s_timer(void *arg, int64_t delay_ms)
{
    cli_t *self = (cli_t *)arg;
    self->wake_at = delay_ms < 0 ? -1 : cm_mono_ms() + delay_ms;
}

static void
s_status(void *arg, const wa_client_status_t *st)
{
    cli_t *self = (cli_t *)arg;
    json_t *o = json_pack("{s:s,s:s}", "event", "status", "state",
                          wa_client_state_name(st->state));
    if (st->qr) {
        json_object_set_new(o, "qr", json_string(st->qr));
    }
    if (st->code) {
        json_object_set_new(o, "code", json_string(st->code));
    }
    if (st->reason) {
        json_object_set_new(o, "reason", json_string(st->reason));
    }
    if (st->error) {
        json_object_set_new(o, "error", json_integer(st->error));
    }
    if (st->me_id) {
        json_object_set_new(o, "me",
                            json_pack("{s:s,s:o,s:o}", "id", st->me_id, "lid",
                                      s_str(st->me_lid), "pushName",
                                      s_str(st->push_name)));
    }
    s_print(o);
    if (!wa_client_state_closing(st->state)) {
        return;
    }
    self->close_conn = true;
    switch (st->state) {
    case WA_CLIENT_RESTART:
        self->reconnect_at = cm_mono_ms();
        break;
    case WA_CLIENT_RETRY:
        self->reconnect_at = cm_mono_ms() + CLI_RETRY_MS;
        break;
    case WA_CLIENT_LOGGED_OUT:
        if (self->creds_path) {
            unlink(self->creds_path);
        }
        json_object_clear(self->rows);
        self->dirty = false;
        self->exit_code = 4;
        self->quit = true;
        break;
    case WA_CLIENT_CONFLICT:
    case WA_CLIENT_OUTDATED:
        self->exit_code = 3;
        self->quit = true;
        break;
    default:
        self->quit = true;
        break;
    }
}

static void
s_creds(void *arg)
{
    ((cli_t *)arg)->dirty = true;
}

static void
s_signal(void *arg, const char *kind, const char *key, const uint8_t *data,
         size_t len)
{
    cli_t *self = (cli_t *)arg;
    char *k = cm_sprintf("%s|%s", kind, key);
    if (data) {
        char *b64 = cm_base64_encode(data, len);
        json_object_set_new(self->rows, k, json_string(b64));
        free(b64);
    } else {
        json_object_del(self->rows, k);
    }
    free(k);
    self->dirty = true;
}

static bool
s_event(void *arg, const wa_client_event_t *ev)
{
    cli_t *self = (cli_t *)arg;
    if (ev->type == WA_CLIENT_EVENT_MESSAGE) {
        const wa_client_message_t *m = &ev->u.message;
        s_print(json_pack(
            "{s:s,s:s,s:s,s:s,s:o,s:b,s:b,s:I,s:o,s:s,s:o,s:b,s:o}", "event",
            "message", "id", m->id, "chat", m->chat, "sender", m->sender,
            "participant", s_str(m->participant), "from_me", m->from_me,
            "is_group", m->is_group, "timestamp", (json_int_t)m->timestamp,
            "push_name", s_str(m->push_name), "type", m->type, "body",
            s_str(m->body), "has_media", m->has_media, "reply_to",
            s_str(m->reply_to)));
        //  Stored (printed): confirm after this turn's state write
        s_save(self);
        return false;
    }
    if (ev->type == WA_CLIENT_EVENT_ACK) {
        const wa_client_ack_t *a = &ev->u.ack;
        s_print(json_pack("{s:s,s:s,s:s,s:o,s:b,s:i,s:I}", "event", "ack", "id",
                          a->id, "chat", a->chat, "participant",
                          s_str(a->participant), "from_me", a->from_me, "ack",
                          a->ack, "timestamp", (json_int_t)a->timestamp));
        return false;
    }
    if (ev->type != WA_CLIENT_EVENT_SENT) {
        //  Group, call, presence and other events: their type alone
        s_print(json_pack("{s:s,s:i}", "event", "other", "type", ev->type));
        return false;
    }
    const wa_client_sent_t *s = &ev->u.sent;
    s_print(json_pack("{s:s,s:s,s:s,s:b,s:i,s:o,s:I}", "event", "sent", "id",
                      s->id, "chat", s->chat, "ok", s->ok, "error", s->error,
                      "reason", s_str(s->reason), "timestamp",
                      (json_int_t)s->timestamp));
    return false;
}

//  ---------------------------------------------------------------------
//  Connection

static void
s_on_conn(wa_conn_t *conn, wa_conn_event_t event, const uint8_t *data,
          size_t len, void *arg)
{
    cli_t *self = (cli_t *)arg;
    (void)conn;
    if (event == WA_CONN_OPEN) {
        wa_client_connected(self->client);
    } else if (event == WA_CONN_FRAME) {
        const char *reason = NULL;
        wa_node_t *node = wa_binary_decode(data, len, NULL, &reason);
        if (!node) {
            cm_log_warn("could not decode frame", "reason=\"%s\"", reason);
            return;
        }
        if (cm_log_enabled(CM_LOG_DEBUG)) {
            char *text = wa_node_text(node, 200);
            cm_log_debug("received stanza", "node=\"%s\"", text);
            free(text);
        }
        wa_client_handle(self->client, node);
        wa_node_destroy(&node);
    } else if (event == WA_CONN_CLOSED) {
        s_print(json_pack("{s:s,s:s}", "event", "disconnected", "reason",
                          data ? (const char *)data : ""));
        self->close_conn = true;
        if (!self->quit && self->reconnect_at < 0) {
            self->reconnect_at = cm_mono_ms() + CLI_RETRY_MS;
        }
    }
}

static void
s_connect(cli_t *self)
{
    self->reconnect_at = -1;
    uint8_t priv[32];
    uint8_t pub[32];
    size_t len = 0;
    uint8_t *payload = NULL;
    if (wa_client_noise_key(self->client, priv, pub) != 0 ||
        !(payload = wa_client_payload(self->client, &len))) {
        s_error("could not build the login payload");
        self->quit = true;
        self->exit_code = 1;
        return;
    }
    wa_conn_opts_t opts = {.url = self->url,
                           .root_pub = self->have_root ? self->root : NULL};
    self->conn =
        wa_conn_connect(self->ws, priv, payload, len, &opts, s_on_conn, self);
    free(payload);
    if (!self->conn) {
        s_error("could not connect");
        self->reconnect_at = cm_mono_ms() + CLI_RETRY_MS;
    }
    s_save(self);
}

//  ---------------------------------------------------------------------
//  Commands

static void
s_on_iq(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    (void)arg;
    if (outcome != WA_IQ_RESULT) {
        s_print(json_pack("{s:s,s:i,s:i}", "event", "iq", "outcome",
                          (int)outcome, "code", wa_iq_error_code(reply)));
        return;
    }
    const wa_node_t *child = wa_node_child(reply, NULL);
    json_t *o = json_pack("{s:s,s:s}", "event", "iq", "tag",
                          child ? wa_node_tag(child) : "");
    for (size_t i = 0; child && i < wa_node_attr_count(child); i++) {
        size_t n = 0;
        const char *v = wa_node_attr_value_at(child, i, &n);
        json_object_set_new(o, wa_node_attr_key_at(child, i),
                            json_stringn(v, n));
    }
    s_print(o);
}

//  Next space-separated word of *at (NULL at the end); advances *at.
static char *
s_word(char **at)
{
    char *p = *at;
    while (*p == ' ') {
        p++;
    }
    if (!*p) {
        return NULL;
    }
    char *w = p;
    while (*p && *p != ' ') {
        p++;
    }
    if (*p) {
        *p++ = 0;
    }
    *at = p;
    return w;
}

static void
s_command(cli_t *self, char *line)
{
    char *at = line;
    char *cmd = s_word(&at);
    char id[WA_CLIENT_ID_MAX];
    if (!cmd) {
        return;
    }
    if (cm_streq(cmd, "send") || cm_streq(cmd, "reply")) {
        char *chat = s_word(&at);
        char *reply = cm_streq(cmd, "reply") ? s_word(&at) : NULL;
        while (*at == ' ') {
            at++;
        }
        if (!chat || (cm_streq(cmd, "reply") && !reply) ||
            wa_client_send_text(self->client, chat, at, reply, NULL, id) != 0) {
            s_error("could not send");
            return;
        }
        s_print(json_pack("{s:s,s:s}", "event", "queued", "id", id));
    } else if (cm_streq(cmd, "seen")) {
        char *chat = s_word(&at);
        char *mid = s_word(&at);
        char *participant = s_word(&at);
        const char *ids[] = {mid};
        if (!chat || !mid ||
            wa_client_send_seen(self->client, chat, participant, ids, 1,
                                false) != 0) {
            s_error("could not send receipt");
        }
    } else if (cm_streq(cmd, "paircode")) {
        char *phone = s_word(&at);
        char code[WA_CLIENT_CODE_MAX];
        if (!phone ||
            wa_client_request_pair_code(self->client, phone, code) != 0) {
            s_error("could not request a pair code");
            return;
        }
        s_print(json_pack("{s:s,s:s}", "event", "code", "code", code));
    } else if (cm_streq(cmd, "group")) {
        char *subject = s_word(&at);
        wa_node_t *iq = wa_node_new("iq");
        wa_node_set_attr(iq, "xmlns", "w:g2");
        wa_node_set_attr(iq, "type", "set");
        wa_node_set_attr(iq, "to", "@g.us");
        wa_node_t *create = wa_node_add(iq, "create");
        wa_node_set_attr(create, "subject", subject ? subject : "group");
        char *p;
        while ((p = s_word(&at))) {
            char *jid = wa_jid_normalize(p);
            if (jid) {
                wa_node_set_attr(wa_node_add(create, "participant"), "jid",
                                 jid);
            }
            free(jid);
        }
        if (wa_client_iq(self->client, &iq, s_on_iq, self) != 0) {
            s_error("could not create group");
        }
    } else if (cm_streq(cmd, "logout")) {
        if (wa_client_logout(self->client) != 0) {
            s_error("could not log out");
        }
    } else if (cm_streq(cmd, "quit")) {
        self->quit = true;
    } else {
        s_error("unrecognized command");
    }
}

static void
s_read_stdin(cli_t *self)
{
    ssize_t n = read(0, self->line + self->line_len,
                     sizeof self->line - 1 - self->line_len);
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            self->stdin_open = false;
            self->quit = true;
        }
        return;
    }
    self->line_len += (size_t)n;
    char *nl;
    while ((nl = memchr(self->line, '\n', self->line_len))) {
        *nl = 0;
        s_command(self, self->line);
        size_t used = (size_t)(nl + 1 - self->line);
        memmove(self->line, nl + 1, self->line_len - used);
        self->line_len -= used;
    }
    if (self->line_len == sizeof self->line - 1) {
        self->line_len = 0; //  an overlong line is dropped
    }
}

//  ---------------------------------------------------------------------
//  Main

static void
s_usage(void)
{
    fprintf(stderr, "usage: wacli --url URL [--root-key HEX] --creds FILE "
                    "[--name NAME] [--push-name NAME]\n");
}

int
main(int argc, char **argv)
{
    cli_t self_ = {.wake_at = -1, .reconnect_at = -1, .stdin_open = true};
    cli_t *self = &self_;
    const char *name = "wacli";
    const char *push_name = NULL;
    const char *root_hex = NULL;
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"root-key", required_argument, NULL, 'r'},
        {"creds", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"push-name", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "u:r:c:n:p:", longopts, NULL)) !=
           -1) {
        switch (opt) {
        case 'u':
            self->url = optarg;
            break;
        case 'r':
            root_hex = optarg;
            break;
        case 'c':
            self->creds_path = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'p':
            push_name = optarg;
            break;
        default:
            s_usage();
            return 64;
        }
    }
    if (!self->url || !self->creds_path) {
        s_usage();
        return 64;
    }
    if (root_hex) {
        if (strlen(root_hex) != 64 ||
            cm_unhex(root_hex, self->root, 32) != 32) {
            fprintf(stderr, "wacli: --root-key must be 64 hex digits\n");
            return 64;
        }
        self->have_root = true;
    }
    cm_log_init("wacli",
                getenv("APP_LOG_LEVEL") ? getenv("APP_LOG_LEVEL") : "info");
    self->ws = wa_ws_new();
    if (!self->ws) {
        fprintf(stderr, "wacli: could not start the WebSocket loop\n");
        return 1;
    }
    wa_client_config_t cfg;
    wa_client_config_default(&cfg);
    cfg.name = name;
    wa_client_ops_t ops = {.send = s_send,
                           .timer = s_timer,
                           .status = s_status,
                           .creds = s_creds,
                           .signal = s_signal,
                           .event = s_event};
    self->client = wa_client_new(&cfg, &ops, self);
    self->rows = json_object();
    s_load(self);
    if (push_name) {
        wa_client_set_push_name(self->client, push_name);
    }
    self->dirty = true;
    s_connect(self);
    while (!self->quit) {
        zmq_pollitem_t items[2];
        int n = wa_ws_pollitems(self->ws, items, 1);
        if (self->stdin_open) {
            items[n++] = (zmq_pollitem_t){NULL, 0, ZMQ_POLLIN, 0};
        }
        int64_t now = cm_mono_ms();
        long timeout = wa_ws_timeout(self->ws);
        int64_t deadlines[2] = {self->wake_at, self->reconnect_at};
        for (int i = 0; i < 2; i++) {
            if (deadlines[i] >= 0) {
                long d = deadlines[i] > now ? (long)(deadlines[i] - now) : 0;
                timeout = timeout < 0 || d < timeout ? d : timeout;
            }
        }
        if (zmq_poll(items, n, timeout) < 0 && errno != EINTR) {
            break;
        }
        if (self->stdin_open && n > 1 && (items[n - 1].revents & ZMQ_POLLIN)) {
            s_read_stdin(self);
        }
        wa_ws_service(self->ws);
        now = cm_mono_ms();
        if (self->wake_at >= 0 && now >= self->wake_at) {
            self->wake_at = -1;
            wa_client_wake(self->client);
        }
        if (self->close_conn) {
            self->close_conn = false;
            wa_conn_destroy(&self->conn);
            wa_client_disconnected(self->client, "closed");
        }
        if (!self->quit && !self->conn && self->reconnect_at >= 0 &&
            now >= self->reconnect_at) {
            s_connect(self);
        }
        s_save(self);
    }
    s_save(self);
    wa_conn_destroy(&self->conn);
    wa_client_destroy(&self->client);
    wa_ws_destroy(&self->ws);
    json_decref(self->rows);
    return self->exit_code;
}
