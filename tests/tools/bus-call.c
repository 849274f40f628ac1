/*  bus-call - send one bus request (or raw frames) and print the reply

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    For tests and debugging: talks to any Wharf bus server (ROUTER) or
    PUB socket from the command line and prints JSON a script can parse.

      bus-call [opts] ENDPOINT TYPE [JSON-BODY]
          One request (body default {}). Prints one line
          {"st":N,"reason":R,"type":T,"corr":C,"body":{...}}.
      bus-call --raw [opts] ENDPOINT FRAME...
          Send these frames as one message and print the first reply the
          same way. FRAME is s:TEXT (bytes), x:HEX (bytes), j:JSON
          (msgpack of any JSON value), h: (a valid header with a fresh
          id) or h:JSON (msgpack of that header map).
      bus-call --sub [opts] ENDPOINT [TOPIC]
          Subscribe (TOPIC prefix, default all) and print one line
          {"type":T,"body":{...}} per message until --count messages.
    Options: --timeout MS (default 5000), --deadline MS (deadline_ms =
    now + MS; may be negative; default now + timeout), --version V,
    --id ID (request id), --count N (--sub, default 1).
    Exit: 0 reply (any status) or count reached, 2 no reply before the
    timeout (prints st 0), 64 usage error.
*/
#include <czmq.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"

#define BUS_CALL_EX_USAGE 64
#define BUS_CALL_EX_NOREPLY 2

typedef struct {
    int timeout;       //  ms
    bool has_deadline; //  --deadline given
    int64_t deadline;  //  relative ms
    int version;       //  header v, 0 = default
    const char *id;    //  request id, NULL = fresh
    int count;         //  --sub messages
} s_opts_t;

static void
s_usage(void)
{
    fprintf(stderr,
            "usage: bus-call [--timeout MS] [--deadline MS] [--version V] "
            "[--id ID] ENDPOINT TYPE [JSON-BODY]\n"
            "       bus-call --raw [--timeout MS] ENDPOINT FRAME...\n"
            "       bus-call --sub [--timeout MS] [--count N] ENDPOINT "
            "[TOPIC]\n");
    exit(BUS_CALL_EX_USAGE);
}

static void
s_pack(msgpack_packer *pk, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        msgpack_pack_map(pk, json_object_size(v));
        json_object_foreach(v, key, item)
        {
            msgpack_pack_str(pk, strlen(key));
            msgpack_pack_str_body(pk, key, strlen(key));
            s_pack(pk, item);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        msgpack_pack_array(pk, json_array_size(v));
        json_array_foreach(v, i, item)
        {
            s_pack(pk, item);
        }
        break;
    }
    case JSON_STRING:
        msgpack_pack_str(pk, json_string_length(v));
        msgpack_pack_str_body(pk, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(v));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        break;
    }
}

static json_t *
s_parse(const char *text, const char *what)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!v) {
        fprintf(stderr, "bus-call: %s is not JSON: %s\n", what, err.text);
        exit(BUS_CALL_EX_USAGE);
    }
    return v;
}

static zframe_t *
s_pack_frame(json_t *v)
{
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    s_pack(&pk, v);
    zframe_t *f = zframe_new(sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
    return f;
}

//  One FRAME argument of --raw.
static zframe_t *
s_raw_frame(const char *arg)
{
    if (!strncmp(arg, "s:", 2)) {
        return zframe_new(arg + 2, strlen(arg + 2));
    }
    if (!strncmp(arg, "x:", 2)) {
        size_t len = strlen(arg + 2) / 2;
        uint8_t *buf = cm_alloc(len + 1);
        if (cm_unhex(arg + 2, buf, len + 1) != (int)len) {
            fprintf(stderr, "bus-call: bad hex frame\n");
            exit(BUS_CALL_EX_USAGE);
        }
        zframe_t *f = zframe_new(buf, len);
        free(buf);
        return f;
    }
    if (!strncmp(arg, "j:", 2) || (!strncmp(arg, "h:", 2) && arg[2])) {
        json_t *v = s_parse(arg + 2, "frame");
        zframe_t *f = s_pack_frame(v);
        json_decref(v);
        return f;
    }
    if (!strcmp(arg, "h:")) {
        cm_msg_t *m = cm_msg_new("x.x");
        zmsg_t *z = cm_msg_encode(m);
        cm_msg_destroy(&m);
        zframe_t *first = zmsg_pop(z);
        zframe_destroy(&first);
        zframe_t *hdr = zmsg_pop(z);
        zmsg_destroy(&z);
        return hdr;
    }
    fprintf(stderr, "bus-call: bad frame '%s'\n", arg);
    exit(BUS_CALL_EX_USAGE);
}

static void
s_print(cm_msg_t *reply)
{
    json_t *out = json_object();
    json_object_set_new(out, "st", json_integer(cm_msg_status(reply)));
    json_object_set_new(out, "reason",
                        cm_msg_reason(reply) ? json_string(cm_msg_reason(reply))
                                             : json_null());
    json_object_set_new(out, "type", json_string(cm_msg_type(reply)));
    json_object_set_new(out, "corr",
                        cm_msg_corr(reply) ? json_string(cm_msg_corr(reply))
                                           : json_null());
    json_object_set(out, "body", cm_msg_body(reply));
    if (cm_msg_error(reply)) {
        json_object_set_new(out, "error", json_string(cm_msg_error(reply)));
    }
    char *text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(out);
}

static void
s_print_none(void)
{
    printf("{\"st\":0,\"reason\":\"no reply\",\"type\":null,\"corr\":null,"
           "\"body\":null}\n");
}

//  Wait for a reply on sock (matching corr when given). NULL on timeout.
static cm_msg_t *
s_wait(zsock_t *sock, const char *corr, int timeout)
{
    int64_t until = cm_mono_ms() + timeout;
    zpoller_t *poller = zpoller_new(sock, NULL);
    cm_msg_t *reply = NULL;
    while (!reply) {
        int64_t left = until - cm_mono_ms();
        if (left <= 0 || !zpoller_wait(poller, (int)left)) {
            break;
        }
        reply = cm_msg_recv(sock, false);
        if (reply && corr && !cm_streq(cm_msg_corr(reply), corr)) {
            cm_msg_destroy(&reply);
        }
    }
    zpoller_destroy(&poller);
    return reply;
}

static zsock_t *
s_dealer(const char *endpoint, int timeout)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    cm_msg_sock_defaults(sock);
    zsock_set_sndtimeo(sock, timeout);
    zsock_set_linger(sock, 0);
    if (zsock_connect(sock, "%s", endpoint) != 0) {
        fprintf(stderr, "bus-call: could not connect to %s\n", endpoint);
        exit(BUS_CALL_EX_USAGE);
    }
    return sock;
}

static int
s_call(s_opts_t *o, int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        s_usage();
    }
    cm_msg_t *req = cm_msg_new(argv[1]);
    if (argc == 3) {
        json_t *body = s_parse(argv[2], "body");
        if (!json_is_object(body)) {
            fprintf(stderr, "bus-call: body must be a JSON object\n");
            return BUS_CALL_EX_USAGE;
        }
        cm_msg_set_body(req, &body);
    }
    if (o->version) {
        cm_msg_set_version(req, o->version);
    }
    cm_msg_set_deadline(req, cm_now_ms() +
                                 (o->has_deadline ? o->deadline : o->timeout));
    zmsg_t *zmsg = cm_msg_encode(req);
    char id[CM_MSG_MAX_ID + 1];
    snprintf(id, sizeof id, "%s", cm_msg_id(req));
    cm_msg_destroy(&req);
    if (o->id) {
        //  replace the header's id: re-encode through a JSON header
        zframe_t *type = zmsg_pop(zmsg);
        zframe_t *hdr = zmsg_pop(zmsg);
        zframe_destroy(&hdr);
        json_t *h = json_pack(
            "{s:i, s:s, s:I, s:I}", "v",
            o->version ? o->version : CM_MSG_VERSION, "id", o->id, "ts_ms",
            (json_int_t)cm_now_ms(), "deadline_ms",
            (json_int_t)(cm_now_ms() +
                         (o->has_deadline ? o->deadline : o->timeout)));
        hdr = s_pack_frame(h);
        json_decref(h);
        zmsg_prepend(zmsg, &hdr);
        zmsg_prepend(zmsg, &type);
        snprintf(id, sizeof id, "%s", o->id);
    }
    zsock_t *sock = s_dealer(argv[0], o->timeout);
    int rc = zmsg_send(&zmsg, sock);
    zmsg_destroy(&zmsg);
    cm_msg_t *reply = rc == 0 ? s_wait(sock, id, o->timeout) : NULL;
    zsock_destroy(&sock);
    if (!reply) {
        s_print_none();
        return BUS_CALL_EX_NOREPLY;
    }
    s_print(reply);
    cm_msg_destroy(&reply);
    return 0;
}

static int
s_raw(s_opts_t *o, int argc, char **argv)
{
    if (argc < 2) {
        s_usage();
    }
    zmsg_t *zmsg = zmsg_new();
    for (int i = 1; i < argc; i++) {
        zframe_t *f = s_raw_frame(argv[i]);
        zmsg_append(zmsg, &f);
    }
    zsock_t *sock = s_dealer(argv[0], o->timeout);
    int rc = zmsg_send(&zmsg, sock);
    zmsg_destroy(&zmsg);
    cm_msg_t *reply = rc == 0 ? s_wait(sock, NULL, o->timeout) : NULL;
    zsock_destroy(&sock);
    if (!reply) {
        s_print_none();
        return BUS_CALL_EX_NOREPLY;
    }
    s_print(reply);
    cm_msg_destroy(&reply);
    return 0;
}

static int
s_sub(s_opts_t *o, int argc, char **argv)
{
    if (argc < 1 || argc > 2) {
        s_usage();
    }
    zsock_t *sock = zsock_new(ZMQ_SUB);
    cm_msg_sock_defaults(sock);
    zsock_set_subscribe(sock, argc == 2 ? argv[1] : "");
    if (zsock_connect(sock, "%s", argv[0]) != 0) {
        fprintf(stderr, "bus-call: could not connect to %s\n", argv[0]);
        return BUS_CALL_EX_USAGE;
    }
    //  say when subscribed, so a script can start publishing
    fprintf(stderr, "subscribed\n");
    int got = 0;
    int64_t until = cm_mono_ms() + o->timeout;
    while (got < o->count) {
        int64_t left = until - cm_mono_ms();
        if (left <= 0) {
            break;
        }
        zsock_set_rcvtimeo(sock, (int)left);
        cm_msg_t *msg = cm_msg_recv(sock, false);
        if (!msg) {
            continue;
        }
        json_t *out = json_object();
        json_object_set_new(out, "type", json_string(cm_msg_type(msg)));
        json_object_set(out, "body", cm_msg_body(msg));
        char *text = json_dumps(out, JSON_COMPACT);
        printf("%s\n", text);
        fflush(stdout);
        free(text);
        json_decref(out);
        cm_msg_destroy(&msg);
        got++;
    }
    zsock_destroy(&sock);
    return got < o->count ? BUS_CALL_EX_NOREPLY : 0;
}

int
main(int argc, char **argv)
{
    cm_log_init("bus-call", "error");
    s_opts_t o = {5000, false, 0, 0, NULL, 1};
    enum { CALL, RAW, SUB } mode = CALL;
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--raw")) {
            mode = RAW;
        } else if (!strcmp(a, "--sub")) {
            mode = SUB;
        } else if (!strcmp(a, "--timeout") && has_value) {
            o.timeout = atoi(argv[++i]);
        } else if (!strcmp(a, "--deadline") && has_value) {
            o.has_deadline = true;
            o.deadline = strtoll(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--version") && has_value) {
            o.version = atoi(argv[++i]);
        } else if (!strcmp(a, "--id") && has_value) {
            o.id = argv[++i];
        } else if (!strcmp(a, "--count") && has_value) {
            o.count = atoi(argv[++i]);
        } else {
            s_usage();
        }
    }
    if (o.timeout <= 0) {
        s_usage();
    }
    zsys_init();
    zsys_handler_set(NULL);
    int rc = mode == RAW   ? s_raw(&o, argc - i, argv + i)
             : mode == SUB ? s_sub(&o, argc - i, argv + i)
                           : s_call(&o, argc - i, argv + i);
    zsys_shutdown();
    return rc;
}
