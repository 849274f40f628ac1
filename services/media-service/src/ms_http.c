/*  ms_http - one libcurl handle for a worker thread's HTTP exchanges

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

struct _ms_http_t {
    CURL *curl;    //  reused: keeps connections alive
    char *ca_file; //  MEDIA_CA_FILE or NULL
};

//  Per-transfer state the callbacks see.
typedef struct {
    cm_net_t *net;
    bool refused;
    bool too_large;
    int64_t max;
    uint8_t *data;
    size_t len;
    size_t cap;
} s_xfer_t;

ms_http_t *
ms_http_new(const ms_config_t *config)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        cm_log_error("could not create a curl handle");
        return NULL;
    }
    ms_http_t *self = cm_alloc(sizeof *self);
    self->curl = curl;
    const char *ca = config ? ms_config_ca_file(config) : NULL;
    self->ca_file = ca ? cm_strdup(ca) : NULL;
    return self;
}

void
ms_http_destroy(ms_http_t **self_p)
{
    assert(self_p);
    ms_http_t *self = *self_p;
    if (self) {
        curl_easy_cleanup(self->curl);
        free(self->ca_file);
        free(self);
        *self_p = NULL;
    }
}

void
ms_http_res_clear(ms_http_res_t *res)
{
    free(res->body);
    free(res->content_type);
    memset(res, 0, sizeof *res);
}

static size_t
s_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_xfer_t *x = (s_xfer_t *)arg;
    size_t n = size * nmemb;
    if ((int64_t)(x->len + n) > x->max) {
        x->too_large = true;
        return 0; //  aborts the transfer
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 65536;
        while (cap < x->len + n + 1) {
            cap *= 2;
        }
        uint8_t *data = realloc(x->data, cap);
        if (!data) {
            abort();
        }
        x->data = data;
        x->cap = cap;
    }
    memcpy(x->data + x->len, ptr, n);
    x->len += n;
    return n;
}

static curl_socket_t
s_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
    s_xfer_t *x = (s_xfer_t *)arg;
    (void)purpose;
    if (x->net && !cm_net_permitted(x->net, &address->addr)) {
        x->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

int
ms_http_perform(ms_http_t *self, const ms_http_req_t *req, ms_http_res_t *res)
{
    assert(self && req && req->url && res);
    memset(res, 0, sizeof *res);
    if (strncasecmp(req->url, "http://", 7) != 0 &&
        strncasecmp(req->url, "https://", 8) != 0) {
        res->fail = MS_HTTP_BAD_URL;
        snprintf(res->error, sizeof res->error,
                 "only http and https URLs "
                 "are supported");
        return -1;
    }
    CURL *c = self->curl;
    curl_easy_reset(c);
    s_xfer_t x = {.net = req->net, .max = req->max_bytes};
    const char *method = req->method ? req->method : "GET";
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     req->timeout_ms < 10000 ? req->timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "Wharf/" WHARF_VERSION);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    if (self->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, self->ca_file);
    }
    if (req->max_redirects > 0) {
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, req->max_redirects);
    }
    if (req->net) {
        //  No proxy from the environment: it would connect for us
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        //  A new connection for every hop, redirects included: the
        //  handle's pool holds connections of trusted transfers (the S3
        //  store, WhatsApp's media hosts) made without the policy, and a
        //  reused one never reaches s_open_socket
        curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, s_open_socket);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
    }
    if (req->headers) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, req->headers);
    }
    if (req->aws_sigv4) {
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->aws_sigv4);
        curl_easy_setopt(c, CURLOPT_USERPWD, req->userpwd);
    }
    if (streq(method, "POST") || streq(method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                         req->body ? (const char *)req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
        if (streq(method, "PUT")) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
        }
    } else if (streq(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!streq(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        res->content_type = ct ? cm_strdup(ct) : NULL;
        res->body = x.data ? x.data : (uint8_t *)cm_alloc(1);
        res->body[x.len] = 0;
        res->len = x.len;
        return 0;
    }
    free(x.data);
    if (x.refused) {
        res->fail = MS_HTTP_REFUSED;
        snprintf(res->error, sizeof res->error,
                 "the address is not allowed (loopback, private, "
                 "link-local or reserved)");
    } else if (x.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        res->fail = MS_HTTP_TOO_LARGE;
        snprintf(res->error, sizeof res->error,
                 "the file is larger than %lld bytes",
                 (long long)req->max_bytes);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        res->fail = MS_HTTP_TIMEOUT;
        snprintf(res->error, sizeof res->error, "timed out after %ld ms",
                 req->timeout_ms);
    } else if (rc == CURLE_TOO_MANY_REDIRECTS) {
        res->fail = MS_HTTP_TOO_MANY_REDIRECTS;
        snprintf(res->error, sizeof res->error, "more than %ld redirects",
                 req->max_redirects);
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
        res->fail = MS_HTTP_BAD_URL;
        snprintf(res->error, sizeof res->error, "%s",
                 *errbuf ? errbuf : curl_easy_strerror(rc));
    } else {
        res->fail = MS_HTTP_UNREACHABLE;
        snprintf(res->error, sizeof res->error, "%s",
                 *errbuf ? errbuf : curl_easy_strerror(rc));
    }
    return -1;
}

//  --------------------------------------------------------------------
//  Self test: a one-shot HTTP server on loopback

#include <netinet/in.h>
#include <pthread.h>

//  Answers the requests of one connection with `reply`: the first only,
//  or with `keepalive` every one until the client closes it; counts the
//  requests in `served`.
typedef struct {
    int fd;
    const char *reply;
    bool keepalive;
    int served;
} s_server_t;

static void *
s_serve(void *arg)
{
    s_server_t *srv = (s_server_t *)arg;
    int conn = accept(srv->fd, NULL, NULL);
    if (conn >= 0) {
        char buf[4096];
        while (read(conn, buf, sizeof buf) > 0) {
            ssize_t w = write(conn, srv->reply, strlen(srv->reply));
            (void)w;
            srv->served++;
            if (!srv->keepalive) {
                break;
            }
        }
        close(conn);
    }
    return NULL;
}

static int
s_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    assert(rc == 0);
    rc = listen(fd, 4);
    assert(rc == 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

void
ms_http_test(bool verbose)
{
    printf(" * ms_http: ");
    ms_http_t *http = ms_http_new(NULL);
    assert(http);
    int port;
    int fd = s_listen(&port);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);

    //  Loopback is refused with a policy, and nothing connects
    cm_net_t *strict = cm_net_new("");
    ms_http_res_t res;
    ms_http_req_t req = {
        .url = url, .max_bytes = 1000, .timeout_ms = 2000, .net = strict};
    assert(ms_http_perform(http, &req, &res) == -1);
    assert(res.fail == MS_HTTP_REFUSED);
    ms_http_res_clear(&res);

    //  Allowed: the body arrives
    cm_net_t *open = cm_net_new("127.0.0.1");
    req.net = open;
    s_server_t srv = {fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                          "Content-Length: 5\r\nConnection: close\r\n\r\n"
                          "hello",
                      false, 0};
    pthread_t t;
    pthread_create(&t, NULL, s_serve, &srv);
    assert(ms_http_perform(http, &req, &res) == 0);
    pthread_join(t, NULL);
    assert(res.status == 200 && res.len == 5);
    assert(memcmp(res.body, "hello", 5) == 0);
    assert(cm_streq(res.content_type, "text/plain"));
    ms_http_res_clear(&res);

    //  Too large by Content-Length or by bytes
    srv.reply = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
                "0123456789abcdef";
    req.max_bytes = 8;
    pthread_create(&t, NULL, s_serve, &srv);
    assert(ms_http_perform(http, &req, &res) == -1);
    pthread_join(t, NULL);
    assert(res.fail == MS_HTTP_TOO_LARGE);
    ms_http_res_clear(&res);

    //  A redirect to a refused address is refused
    char reply[256];
    snprintf(reply, sizeof reply,
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:%d/y\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n",
             port);
    srv.reply = reply;
    req.max_bytes = 1000;
    req.max_redirects = 2;
    pthread_create(&t, NULL, s_serve, &srv);
    assert(ms_http_perform(http, &req, &res) == -1);
    pthread_join(t, NULL);
    assert(res.fail == MS_HTTP_REFUSED);
    ms_http_res_clear(&res);

    //  A connection a trusted transfer (no policy) left alive is not
    //  reused by an untrusted one to the same host and port
    s_server_t ka = {fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                     true, 0};
    pthread_create(&t, NULL, s_serve, &ka);
    ms_http_req_t trusted = {.url = url, .max_bytes = 1000, .timeout_ms = 2000};
    assert(ms_http_perform(http, &trusted, &res) == 0);
    assert(res.status == 200 && res.len == 2);
    ms_http_res_clear(&res);
    req.net = strict;
    req.max_redirects = 0;
    assert(ms_http_perform(http, &req, &res) == -1);
    assert(res.fail == MS_HTTP_REFUSED);
    ms_http_res_clear(&res);
    //  The kept connection saw the trusted request only; closing the
    //  handle closes it
    ms_http_destroy(&http);
    pthread_join(t, NULL);
    assert(ka.served == 1);
    http = ms_http_new(NULL);
    assert(http);
    req.net = open;

    //  Other schemes are refused before anything happens
    req.url = "file:///etc/passwd";
    assert(ms_http_perform(http, &req, &res) == -1);
    assert(res.fail == MS_HTTP_BAD_URL);
    ms_http_res_clear(&res);
    req.url = "gopher://127.0.0.1/";
    assert(ms_http_perform(http, &req, &res) == -1);
    assert(res.fail == MS_HTTP_BAD_URL);
    ms_http_res_clear(&res);

    //  Nobody listening: unreachable
    close(fd);
    req.url = url;
    assert(ms_http_perform(http, &req, &res) == -1);
    assert(res.fail == MS_HTTP_UNREACHABLE);
    ms_http_res_clear(&res);

    cm_net_destroy(&strict);
    cm_net_destroy(&open);
    ms_http_destroy(&http);
    ms_http_destroy(&http);
    printf("OK\n");
}
