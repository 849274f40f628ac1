/*  wd_receiver - a loopback HTTP receiver for tests and benchmarks

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "wd_classes.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>

#include "wd_receiver.h"

struct _wd_receiver_t {
    struct MHD_Daemon *daemon; //  libmicrohttpd, its own threads
    wd_receiver_fn *fn;        //  called per complete request
    void *arg;                 //  its argument
    size_t max_body;           //  body bytes kept
};

//  One request's body so far.
typedef struct {
    size_t len;
    char buf[]; //  max_body + 1 bytes
} s_upload_t;

static enum MHD_Result
s_handler(void *cls, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, const char *data,
          size_t *size, void **con_cls)
{
    wd_receiver_t *self = (wd_receiver_t *)cls;
    s_upload_t *up = (s_upload_t *)*con_cls;
    if (!up) {
        *con_cls = cm_alloc(sizeof(s_upload_t) + self->max_body + 1);
        return MHD_YES;
    }
    if (*size) {
        size_t n = *size;
        if (up->len + n > self->max_body) {
            n = self->max_body - up->len;
        }
        memcpy(up->buf + up->len, data, n);
        up->len += n;
        *size = 0;
        return MHD_YES;
    }
    up->buf[up->len] = 0;
    unsigned status = self->fn(conn, url, up->buf, up->len, self->arg);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void
s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

wd_receiver_t *
wd_receiver_new(const wd_receiver_opts_t *opts, wd_receiver_fn *fn, void *arg)
{
    assert(fn);
    wd_receiver_opts_t o = opts ? *opts : (wd_receiver_opts_t){0};
    if (o.port > 65535) {
        return NULL;
    }
    wd_receiver_t *self = cm_alloc(sizeof(wd_receiver_t));
    self->fn = fn;
    self->arg = arg;
    self->max_body = o.max_body ? o.max_body : WD_RECEIVER_BODY;
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)o.port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    //  Only the options asked for: libmicrohttpd's defaults otherwise.
    struct MHD_OptionItem extra[3];
    int n = 0;
    if (o.threads) {
        extra[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                             (intptr_t)o.threads, NULL};
    }
    if (o.connections) {
        extra[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                             (intptr_t)o.connections, NULL};
    }
    extra[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    self->daemon = MHD_start_daemon(
        o.flags ? o.flags : MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
        s_handler, self, MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_ARRAY, extra,
        MHD_OPTION_END);
    if (!self->daemon) {
        free(self);
        return NULL;
    }
    return self;
}

void
wd_receiver_destroy(wd_receiver_t **self_p)
{
    assert(self_p);
    wd_receiver_t *self = *self_p;
    if (self) {
        MHD_stop_daemon(self->daemon);
        free(self);
        *self_p = NULL;
    }
}

unsigned
wd_receiver_port(wd_receiver_t *self)
{
    assert(self);
    return MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
}

const char *
wd_receiver_header(struct MHD_Connection *conn, const char *name)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    return v ? v : "";
}

//  --------------------------------------------------------------------------
//  Self test

typedef struct {
    atomic_int requests;
    char body[16];
    char header[16];
} s_test_seen_t;

static unsigned
s_test_request(struct MHD_Connection *conn, const char *url, const char *body,
               size_t len, void *arg)
{
    s_test_seen_t *seen = arg;
    snprintf(seen->body, sizeof seen->body, "%s", body);
    snprintf(seen->header, sizeof seen->header, "%s",
             wd_receiver_header(conn, "X-Test"));
    assert(strlen(body) == len);
    atomic_fetch_add(&seen->requests, 1);
    return strcmp(url, "/fail") == 0 ? 503 : 200;
}

//  POST body to the receiver's path; returns the HTTP status (0: none).
static long
s_test_post(unsigned port, const char *path, const char *body,
            const char *header)
{
    CURL *curl = curl_easy_init();
    assert(curl);
    char *url = cm_sprintf("http://127.0.0.1:%u%s", port, path);
    struct curl_slist *headers =
        header ? curl_slist_append(NULL, header) : NULL;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *sink = fopen("/dev/null", "w");
    assert(sink);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    fclose(sink);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(url);
    return status;
}

void
wd_receiver_test(bool verbose)
{
    printf(" * wd_receiver: ");
    s_test_seen_t seen = {0};
    wd_receiver_opts_t opts = {.max_body = 5};
    wd_receiver_t *rx = wd_receiver_new(&opts, s_test_request, &seen);
    assert(rx);
    unsigned port = wd_receiver_port(rx);
    assert(port > 0);
    //  The body is cut at max_body; the callback's status is answered.
    assert(s_test_post(port, "/ok", "hello world", "X-Test: yes") == 200);
    assert(atomic_load(&seen.requests) == 1);
    assert(strcmp(seen.body, "hello") == 0);
    assert(strcmp(seen.header, "yes") == 0);
    assert(s_test_post(port, "/fail", "x", NULL) == 503);
    assert(strcmp(seen.body, "x") == 0 && strcmp(seen.header, "") == 0);
    wd_receiver_destroy(&rx);
    wd_receiver_destroy(&rx);
    assert(rx == NULL);

    //  A thread pool (epoll) with a connection limit, on a given port.
    wd_receiver_opts_t pooled = {.flags = MHD_USE_EPOLL_INTERNAL_THREAD,
                                 .threads = 2,
                                 .connections = 64,
                                 .port = port};
    rx = wd_receiver_new(&pooled, s_test_request, &seen);
    if (rx) { //  the port may have been taken meanwhile
        assert(wd_receiver_port(rx) == port);
        assert(s_test_post(port, "/ok", "pooled", NULL) == 200);
        assert(atomic_load(&seen.requests) == 3);
        wd_receiver_destroy(&rx);
    }
    opts.port = 70000;
    assert(wd_receiver_new(&opts, s_test_request, &seen) == NULL);
    printf("OK\n");
}
