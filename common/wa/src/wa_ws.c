/*  wa_ws - WebSocket client and server connections in one event loop

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    libwebsockets runs on a libuv loop owned by this object (a "foreign"
    loop for lws). The owner polls libuv's backend fd and calls
    uv_run(UV_RUN_NOWAIT) through wa_ws_service.

    Lifetime of a connection: a wa_ws_conn_t is bound to its lws wsi as
    the wsi's user pointer and freed on LWS_CALLBACK_WSI_DESTROY. The
    owner's view ends earlier: at WA_WS_CLOSED or at wa_ws_conn_close
    (which detaches the handler). A connection the owner closed is only
    "closing" until lws has written the close frame.
*/
#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netdb.h>

#include <libwebsockets.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <uv.h>

#include "cm/cm.h"
#include "wa/wa_ws.h"

//  Name of our lws protocol (never sent: no subprotocol header).
#define WA_WS_PROTOCOL "wa-ws"
//  lws receive buffer per connection; frames may span several reads.
#define WA_WS_RX_BUFFER 1024
//  lws 4.1's internal write type for a close frame (not in its public
//  header).
#define WA_WS_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)
//  Largest accepted URL host and path.
#define WA_WS_MAX_HOST 256
#define WA_WS_MAX_PATH 1024

//  One queued outgoing message; buf holds LWS_PRE headroom + len bytes.
typedef struct _ws_msg_t {
    struct _ws_msg_t *next; //  next in the connection's queue
    size_t len;             //  payload length
    uint8_t buf[];          //  LWS_PRE bytes, then the payload
} ws_msg_t;

//  A listening vhost.
typedef struct _ws_listener_t {
    struct _ws_listener_t *next; //  next listener
    struct lws_vhost *vhost;     //  the lws vhost that listens
    char *path;                  //  accepted upgrade path
    wa_ws_accept_fn *fn;         //  accept callback
    void *arg;                   //  its argument
} ws_listener_t;

typedef struct _ws_socks_t ws_socks_t;

//  A client vhost for one proxy setting ("" = direct).
typedef struct _ws_client_vh_t {
    struct _ws_client_vh_t *next; //  next client vhost
    char *proxy;                  //  proxy URL as given, "" direct
    struct lws_vhost *vhost;      //  the lws vhost
    ws_socks_t *socks;            //  SOCKS5 bridge, or NULL
} ws_client_vh_t;

//  What a client connection needs until lws takes it over.
typedef struct _ws_dial_t {
    uv_getaddrinfo_t req;      //  resolver request (first member)
    wa_ws_conn_t *conn;        //  connection, NULL if abandoned
    struct lws_vhost *vhost;   //  client vhost
    char host[WA_WS_MAX_HOST]; //  host name (Host header, SNI)
    char path[WA_WS_MAX_PATH]; //  request path
    char *origin;              //  Origin header
    int port;                  //  server port
    bool tls;                  //  wss
    bool insecure;             //  accept any certificate
} ws_dial_t;

struct _wa_ws_conn_t {
    wa_ws_t *ws;             //  owning loop
    struct lws *wsi;         //  lws connection, NULL once destroyed
    wa_ws_event_fn *fn;      //  owner's handler, NULL when detached
    void *arg;               //  its argument
    ws_msg_t *head;          //  first queued message
    ws_msg_t *tail;          //  last queued message
    size_t queued;           //  bytes in the queue
    bool is_server;          //  accepted by a listener
    bool open;               //  upgrade done
    bool closing;            //  close requested by the owner
    bool closed;             //  WA_WS_CLOSED delivered or suppressed
    bool want_writable;      //  owner asked for WA_WS_WRITABLE
    wa_ws_close_t reason;    //  why it closed
    int close_code;          //  peer's close code
    char peer[64];           //  peer address
    char *user_agent;        //  User-Agent header, or NULL
    struct _ws_dial_t *dial; //  pending name resolution, or NULL
    wa_ws_conn_t *prev;      //  in the loop's connection list
    wa_ws_conn_t *next;      //  in the loop's connection list
};

struct _wa_ws_t {
    uv_loop_t loop;               //  the event loop lws runs on
    struct lws_context *ctx;      //  lws context
    ws_listener_t *listeners;     //  server vhosts
    ws_client_vh_t *clients;      //  client vhosts, one per proxy
    wa_ws_conn_t *conns;          //  all live connections
    size_t conn_count;            //  their number
    bool pending;                 //  work queued outside wa_ws_service
    bool destroying;              //  in wa_ws_destroy: no events
    wa_ws_conn_t *connecting;     //  connection being created by connect
    ws_socks_t *bridges;          //  SOCKS5 bridges (one per proxy)
    struct _ws_tunnel_t *tunnels; //  open proxy tunnels
    int vhost_seq;                //  makes vhost names unique
};

static struct lws_protocols s_protocols[];
static void s_bridges_close(wa_ws_t *ws);

//  --------------------------------------------------------------------------
//  Connection bookkeeping

static wa_ws_conn_t *
s_conn_new(wa_ws_t *ws, bool is_server)
{
    wa_ws_conn_t *conn = cm_alloc(sizeof(wa_ws_conn_t));
    conn->ws = ws;
    conn->is_server = is_server;
    conn->next = ws->conns;
    if (ws->conns) {
        ws->conns->prev = conn;
    }
    ws->conns = conn;
    ws->conn_count++;
    return conn;
}

static void
s_conn_free(wa_ws_conn_t *conn)
{
    wa_ws_t *ws = conn->ws;
    if (conn->prev) {
        conn->prev->next = conn->next;
    } else {
        ws->conns = conn->next;
    }
    if (conn->next) {
        conn->next->prev = conn->prev;
    }
    ws->conn_count--;
    free(conn->user_agent);
    while (conn->head) {
        ws_msg_t *msg = conn->head;
        conn->head = msg->next;
        free(msg);
    }
    free(conn);
}

static void
s_emit(wa_ws_conn_t *conn, wa_ws_event_t event, const uint8_t *data, size_t len)
{
    if (conn->fn && !conn->ws->destroying) {
        conn->fn(conn, event, data, len, conn->arg);
    }
}

//  Deliver WA_WS_CLOSED once (unless the owner closed or detached).
static void
s_emit_closed(wa_ws_conn_t *conn, wa_ws_close_t reason, const char *text)
{
    if (conn->closed) {
        return;
    }
    conn->closed = true;
    if (conn->reason == WA_WS_CLOSE_NONE) {
        conn->reason = reason;
    }
    const char *t = text ? text : "";
    s_emit(conn, WA_WS_CLOSED, (const uint8_t *)t, strlen(t));
    conn->fn = NULL;
}

//  --------------------------------------------------------------------------
//  lws callback

static ws_listener_t *
s_listener_of(wa_ws_t *ws, struct lws *wsi)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    for (ws_listener_t *l = ws->listeners; l; l = l->next) {
        if (l->vhost == vh) {
            return l;
        }
    }
    return NULL;
}

//  Write the next queued message; returns -1 to close the connection.
static int
s_writable(wa_ws_conn_t *conn)
{
    if (conn->head) {
        ws_msg_t *msg = conn->head;
        int n = lws_write(conn->wsi, msg->buf + LWS_PRE, msg->len,
                          LWS_WRITE_BINARY);
        conn->head = msg->next;
        if (!conn->head) {
            conn->tail = NULL;
        }
        conn->queued -= msg->len;
        free(msg);
        if (n < 0) {
            return -1;
        }
        if (conn->head || conn->closing) {
            lws_callback_on_writable(conn->wsi);
            conn->ws->pending = true;
            return 0;
        }
        if (conn->want_writable) {
            conn->want_writable = false;
            s_emit(conn, WA_WS_WRITABLE, NULL, 0);
        }
        return 0;
    }
    if (conn->closing) {
        //  Send the close frame (1000) ourselves, then drop the socket:
        //  lws_close_reason + return -1 does not send it in lws 4.1.
        uint8_t frame[LWS_PRE + 2];
        frame[LWS_PRE] = (uint8_t)(LWS_CLOSE_STATUS_NORMAL >> 8);
        frame[LWS_PRE + 1] = (uint8_t)LWS_CLOSE_STATUS_NORMAL;
        lws_write(conn->wsi, frame + LWS_PRE, 2, WA_WS_LWS_WRITE_CLOSE);
        return -1;
    }
    return 0;
}

static int
s_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
           void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    wa_ws_t *ws = ctx ? lws_context_user(ctx) : NULL;
    wa_ws_conn_t *conn = user;

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS: {
        //  user is the client SSL_CTX: the system CA directory is looked up
        //  lazily (not the whole bundle in memory), and idle connections
        //  give their I/O buffers back.
        SSL_CTX *ssl_ctx = user;
        if (ssl_ctx) {
            SSL_CTX_load_verify_dir(ssl_ctx, X509_get_default_cert_dir());
            SSL_CTX_set_mode(ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
        }
        return 0;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        //  Server: refuse upgrades on other paths.
        ws_listener_t *l = ws ? s_listener_of(ws, wsi) : NULL;
        char uri[WA_WS_MAX_PATH];
        if (!l || lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
            strcmp(uri, l->path) != 0) {
            return 1;
        }
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        ws_listener_t *l = ws ? s_listener_of(ws, wsi) : NULL;
        if (!l) {
            return -1;
        }
        conn = s_conn_new(ws, true);
        conn->wsi = wsi;
        conn->open = true;
        lws_set_wsi_user(wsi, conn);
        lws_get_peer_simple(wsi, conn->peer, sizeof(conn->peer));
        l->fn(conn, l->arg);
        if (conn->closing) {
            lws_callback_on_writable(wsi);
        } else {
            s_emit(conn, WA_WS_CONNECTED, NULL, 0);
        }
        return 0;
    }
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        //  whatsmeow's extra headers; the user agent if configured.
        unsigned char **p = in;
        unsigned char *end = *p + len;
        if (lws_add_http_header_by_name(
                wsi, (const unsigned char *)"cache-control:",
                (const unsigned char *)"no-cache", 8, p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"pragma:",
                                        (const unsigned char *)"no-cache", 8, p,
                                        end)) {
            return -1;
        }
        const char *ua = conn ? lws_get_opaque_user_data(wsi) : NULL;
        if (ua && *ua &&
            lws_add_http_header_by_name(
                wsi, (const unsigned char *)"user-agent:",
                (const unsigned char *)ua, (int)strlen(ua), p, end)) {
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!conn) {
            return -1;
        }
        conn->open = true;
        lws_get_peer_simple(wsi, conn->peer, sizeof(conn->peer));
        if (conn->head || conn->closing) {
            lws_callback_on_writable(wsi);
        }
        s_emit(conn, WA_WS_CONNECTED, NULL, 0);
        return 0;

    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!conn || conn->closing || conn->closed) {
            return 0;
        }
        if (lws_frame_is_binary(wsi) && len) {
            s_emit(conn, WA_WS_MESSAGE, in, len);
        }
        return 0;

    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!conn) {
            return 0;
        }
        return s_writable(conn);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (conn && len >= 2) {
            const uint8_t *code = in;
            conn->close_code = (code[0] << 8) | code[1];
        }
        return 0;

    case LWS_CALLBACK_TIMER:
        if (conn && !conn->closing && !conn->closed) {
            s_emit(conn, WA_WS_TIMER, NULL, 0);
        }
        return 0;

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (conn) {
            char text[160];
            snprintf(text, sizeof(text), "could not connect: %s",
                     in ? (const char *)in : "unrecognized error");
            if (ws && ws->connecting == conn) {
                //  Failed inside wa_ws_connect: reported by its return.
                conn->closed = true;
            }
            s_emit_closed(conn, WA_WS_CLOSE_ERROR, text);
        }
        return 0;

    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (conn) {
            s_emit_closed(
                conn, conn->close_code ? WA_WS_CLOSE_REMOTE : WA_WS_CLOSE_ERROR,
                conn->close_code ? "closed by peer" : "connection lost");
        }
        return 0;

    case LWS_CALLBACK_WSI_DESTROY:
        if (conn) {
            s_emit_closed(conn, WA_WS_CLOSE_ERROR, "connection lost");
            conn->wsi = NULL;
            if (ws && ws->connecting == conn) {
                return 0; //  wa_ws_connect frees it
            }
            s_conn_free(conn);
        }
        return 0;

    case LWS_CALLBACK_HTTP:
        //  Plain HTTP requests are not served.
        return -1;

    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static struct lws_protocols s_protocols[] = {
    {WA_WS_PROTOCOL, s_callback, 0, WA_WS_RX_BUFFER, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

//  Route lws' own log lines to cm_log; the CA-path complaint is expected
//  (we load the system CA directory ourselves).
static void
s_lws_log(int level, const char *line)
{
    if (strstr(line, "LWS_OPENSSL_CLIENT_CERTS")) {
        return;
    }
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        n--;
    }
    if (level & LLL_ERR) {
        cm_log_warn("libwebsockets error", "detail=\"%.*s\"", (int)n, line);
    } else {
        cm_log_debug("libwebsockets", "detail=\"%.*s\"", (int)n, line);
    }
}

//  --------------------------------------------------------------------------
//  Loop

wa_ws_t *
wa_ws_new(void)
{
    wa_ws_t *self = cm_alloc(sizeof(wa_ws_t));
    if (uv_loop_init(&self->loop)) {
        free(self);
        return NULL;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, s_lws_log);
    void *foreign[1] = {&self->loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = foreign;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = s_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = self;
    info.timeout_secs = 20;
    info.connect_timeout_secs = 20;
    info.pcontext = &self->ctx;
    self->ctx = lws_create_context(&info);
    if (!self->ctx) {
        cm_log_error("could not create websocket context");
        uv_loop_close(&self->loop);
        free(self);
        return NULL;
    }
    return self;
}

void
wa_ws_destroy(wa_ws_t **self_p)
{
    if (self_p && *self_p) {
        wa_ws_t *self = *self_p;
        self->destroying = true;
        for (wa_ws_conn_t *c = self->conns; c; c = c->next) {
            c->fn = NULL;
            c->closed = true;
            if (c->dial) {
                //  The resolver callback frees the request only.
                c->dial->conn = NULL;
                uv_cancel((uv_req_t *)&c->dial->req);
                c->dial = NULL;
            }
        }
        s_bridges_close(self);
        //  With a foreign loop lws closes its libuv handles first; the loop
        //  must run for that, and a second destroy call frees the context
        //  (lws clears self->ctx through info.pcontext when it is gone).
        lws_context_destroy(self->ctx);
        uv_run(&self->loop, UV_RUN_DEFAULT);
        if (self->ctx) {
            lws_context_destroy(self->ctx);
            uv_run(&self->loop, UV_RUN_DEFAULT);
        }
        int rc = uv_loop_close(&self->loop);
        if (rc) {
            cm_log_warn("could not close websocket loop", "error=\"%s\"",
                        uv_strerror(rc));
        }
        //  Connections lws never reported destroyed.
        while (self->conns) {
            s_conn_free(self->conns);
        }
        while (self->listeners) {
            ws_listener_t *l = self->listeners;
            self->listeners = l->next;
            free(l->path);
            free(l);
        }
        while (self->clients) {
            ws_client_vh_t *c = self->clients;
            self->clients = c->next;
            free(c->proxy);
            free(c);
        }
        free(self);
        *self_p = NULL;
    }
}

int
wa_ws_fd(wa_ws_t *self)
{
    assert(self);
    return uv_backend_fd(&self->loop);
}

int
wa_ws_pollitems(wa_ws_t *self, zmq_pollitem_t *items, int max)
{
    assert(self);
    if (max < 1) {
        return 0;
    }
    assert(items);
    items[0].socket = NULL;
    items[0].fd = uv_backend_fd(&self->loop);
    items[0].events = ZMQ_POLLIN;
    items[0].revents = 0;
    return 1;
}

long
wa_ws_timeout(wa_ws_t *self)
{
    assert(self);
    if (self->pending) {
        return 0;
    }
    uv_update_time(&self->loop);
    return uv_backend_timeout(&self->loop);
}

int
wa_ws_service(wa_ws_t *self)
{
    assert(self);
    self->pending = false;
    uv_run(&self->loop, UV_RUN_NOWAIT);
    return 0;
}

int
wa_ws_run(wa_ws_t *self, long max_ms)
{
    assert(self && max_ms >= 0);
    zmq_pollitem_t item;
    wa_ws_pollitems(self, &item, 1);
    long timeout = wa_ws_timeout(self);
    if (timeout < 0 || timeout > max_ms) {
        timeout = max_ms;
    }
    int rc = zmq_poll(&item, 1, timeout);
    wa_ws_service(self);
    return rc < 0 && errno != EINTR ? -1 : 0;
}

//  PEM of an OpenSSL object written by `write` into a new string, or NULL.
static char *
s_pem(int (*write)(BIO *bio, void *obj), void *obj)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    char *data = NULL;
    if (bio && write(bio, obj) == 1) {
        long len = BIO_get_mem_data(bio, &data);
        pem = len > 0 ? cm_strndup(data, (size_t)len) : NULL;
    }
    BIO_free(bio);
    return pem;
}

static int
s_pem_cert(BIO *bio, void *x)
{
    return PEM_write_bio_X509(bio, (X509 *)x);
}

static int
s_pem_key(BIO *bio, void *pkey)
{
    return PEM_write_bio_PrivateKey(bio, (EVP_PKEY *)pkey, NULL, NULL, 0, NULL,
                                    NULL);
}

int
wa_ws_self_signed(const char *host, char **cert_p, char **key_p)
{
    assert(host && cert_p && key_p);
    *cert_p = NULL;
    *key_p = NULL;
    int rc = -1;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = pkey ? X509_new() : NULL;
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    if (!name || ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 3600) ||
        X509_set_pubkey(x, pkey) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)host, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, name) != 1 ||
        X509_sign(x, pkey, EVP_sha256()) <= 0) {
        goto cleanup;
    }
    *cert_p = s_pem(s_pem_cert, x);
    *key_p = s_pem(s_pem_key, pkey);
    if (*cert_p && *key_p) {
        rc = 0;
    } else {
        free(*cert_p);
        free(*key_p);
        *cert_p = NULL;
        *key_p = NULL;
    }
cleanup:
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}

bool
wa_ws_pending(wa_ws_t *self)
{
    assert(self);
    return self->pending;
}

size_t
wa_ws_conn_count(wa_ws_t *self)
{
    assert(self);
    return self->conn_count;
}

static int
s_listen(wa_ws_t *self, const char *address, int port, const char *path,
         const char *cert_pem, const char *key_pem, wa_ws_accept_fn *fn,
         void *arg)
{
    assert(self && fn);
    if (port < 0 || port > 65535) {
        return -1;
    }
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.port = port;
    info.iface = address;
    info.protocols = s_protocols;
    if (cert_pem) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.server_ssl_cert_mem = cert_pem;
        info.server_ssl_cert_mem_len = (unsigned int)strlen(cert_pem);
        info.server_ssl_private_key_mem = key_pem;
        info.server_ssl_private_key_mem_len = (unsigned int)strlen(key_pem);
    }
    char name[32];
    snprintf(name, sizeof(name), "listen-%d", self->vhost_seq++);
    info.vhost_name = name;
    //  Listener first, so the callback can find it during the first
    //  connection.
    ws_listener_t *l = cm_alloc(sizeof(ws_listener_t));
    l->path = cm_strdup(path ? path : WA_WS_PATH);
    l->fn = fn;
    l->arg = arg;
    l->vhost = lws_create_vhost(self->ctx, &info);
    if (!l->vhost) {
        cm_log_warn("could not listen", "address=%s port=%d",
                    address ? address : "*", port);
        free(l->path);
        free(l);
        return -1;
    }
    l->next = self->listeners;
    self->listeners = l;
    self->pending = true;
    return lws_get_vhost_listen_port(l->vhost);
}

int
wa_ws_listen(wa_ws_t *self, const char *address, int port, const char *path,
             wa_ws_accept_fn *fn, void *arg)
{
    return s_listen(self, address, port, path, NULL, NULL, fn, arg);
}

int
wa_ws_listen_tls(wa_ws_t *self, const char *address, int port, const char *path,
                 const char *cert_pem, const char *key_pem, wa_ws_accept_fn *fn,
                 void *arg)
{
    assert(cert_pem && key_pem);
    return s_listen(self, address, port, path, cert_pem, key_pem, fn, arg);
}

//  --------------------------------------------------------------------------
//  Proxies
//
//  HTTP CONNECT proxies are lws' own (one client vhost per proxy). lws
//  4.1 as built by Debian has no SOCKS5, so a SOCKS5 proxy gets a
//  loopback "bridge": a listener on 127.0.0.1 that lws uses as its HTTP
//  CONNECT proxy; each tunnel reads lws' CONNECT request, opens the SOCKS5
//  session to the real proxy and then relays bytes both ways. TLS (wss)
//  runs end to end through the tunnel.

//  Parts of a proxy URL.
typedef struct {
    bool socks;     //  socks5:// (else http://)
    char user[256]; //  user name, "" if none
    char pass[256]; //  password, "" if none
    char host[256]; //  proxy host
    int port;       //  proxy port
} ws_proxy_t;

//  Parse [http|socks5|socks5h]://[user[:pass]@]host:port. Returns 0 or -1.
static int
s_parse_proxy(const char *url, ws_proxy_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *p;
    if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncmp(url, "socks5://", 9) == 0) {
        out->socks = true;
        p = url + 9;
    } else if (strncmp(url, "socks5h://", 10) == 0) {
        out->socks = true;
        p = url + 10;
    } else {
        return -1;
    }
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = (size_t)((colon ? colon : at) - p);
        size_t plen = colon ? (size_t)(at - colon - 1) : 0;
        if (ulen == 0 || ulen >= sizeof(out->user) ||
            plen >= sizeof(out->pass)) {
            return -1;
        }
        memcpy(out->user, p, ulen);
        if (colon) {
            memcpy(out->pass, colon + 1, plen);
        }
        p = at + 1;
    }
    const char *end;
    size_t hlen;
    if (*p == '[') {
        end = strchr(p, ']');
        if (!end) {
            return -1;
        }
        p++;
        hlen = (size_t)(end - p);
        end++;
    } else {
        end = strrchr(p, ':');
        if (!end) {
            return -1;
        }
        hlen = (size_t)(end - p);
    }
    if (hlen == 0 || hlen >= sizeof(out->host) || *end != ':') {
        return -1;
    }
    memcpy(out->host, p, hlen);
    char *tail;
    errno = 0;
    long port = strtol(end + 1, &tail, 10);
    if (errno || tail == end + 1 || (*tail && strcmp(tail, "/") != 0) ||
        port < 1 || port > 65535) {
        return -1;
    }
    out->port = (int)port;
    return 0;
}

//  Tunnel states.
typedef enum {
    T_REQUEST,  //  reading lws' CONNECT request
    T_RESOLVE,  //  resolving the SOCKS proxy
    T_CONNECT,  //  connecting to the SOCKS proxy
    T_GREETING, //  waiting for the method choice
    T_AUTH,     //  waiting for the user/password verdict
    T_REPLY,    //  waiting for the CONNECT reply
    T_RELAY,    //  relaying bytes
    T_CLOSING   //  handles closing
} tunnel_state_t;

//  Most bytes a handshake step may buffer.
#define WS_TUNNEL_HS_MAX 1024
//  Stop reading one side while the other has this much unwritten.
#define WS_TUNNEL_HIGH_WATER (1024 * 1024)
//  Read buffer size during relaying.
#define WS_TUNNEL_READ_SIZE 16384

struct _ws_socks_t {
    ws_socks_t *next;  //  next bridge
    wa_ws_t *ws;       //  owning loop
    uv_tcp_t listener; //  127.0.0.1 listener lws connects to
    int port;          //  its port
    ws_proxy_t proxy;  //  the SOCKS5 proxy
    bool is_test;      //  test proxy (selftest only): serves CONNECT and
                       //  SOCKS5 itself instead of bridging
    void *test_arg;    //  test state
};

typedef struct _ws_tunnel_t {
    struct _ws_tunnel_t *next; //  in the loop's tunnel list
    struct _ws_tunnel_t *prev; //  in the loop's tunnel list
    ws_socks_t *socks;         //  bridge it belongs to
    tunnel_state_t state;      //  progress
    uv_tcp_t down;             //  accepted side (lws)
    uv_tcp_t up;               //  far side (SOCKS proxy, or target)
    bool up_init;              //  up is initialised
    int open_handles;          //  handles not yet closed
    uv_getaddrinfo_t resolve;  //  resolver request
    uv_connect_t connect;      //  connect request
    char host[256];            //  CONNECT target host
    int port;                  //  CONNECT target port
    uint8_t *hs;               //  handshake bytes (freed when relaying)
    size_t hs_len;             //  bytes in hs
    int test_phase;            //  test proxy: server handshake step
    int test_reply;            //  test proxy: reply kind once connected
} ws_tunnel_t;

//  A write that owns its buffer.
typedef struct {
    uv_write_t req;    //  libuv request
    ws_tunnel_t *tun;  //  tunnel
    uv_stream_t *from; //  side to resume reading when drained
    uv_buf_t buf;      //  owned bytes
} ws_write_t;

static void s_tunnel_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf);
static void s_tunnel_alloc(uv_handle_t *handle, size_t suggested,
                           uv_buf_t *buf);

//  Drop one reference (a handle or a pending resolve); the last one frees
//  the tunnel.
static void
s_tunnel_unref(ws_tunnel_t *tun)
{
    if (--tun->open_handles > 0) {
        return;
    }
    wa_ws_t *ws = tun->socks->ws;
    if (tun->prev) {
        tun->prev->next = tun->next;
    } else {
        ws->tunnels = tun->next;
    }
    if (tun->next) {
        tun->next->prev = tun->prev;
    }
    free(tun->hs);
    free(tun);
}

static void
s_tunnel_closed(uv_handle_t *handle)
{
    s_tunnel_unref(handle->data);
}

static void
s_tunnel_close(ws_tunnel_t *tun)
{
    if (tun->state == T_CLOSING) {
        return;
    }
    if (tun->state == T_RESOLVE) {
        uv_cancel((uv_req_t *)&tun->resolve);
    }
    tun->state = T_CLOSING;
    if (!uv_is_closing((uv_handle_t *)&tun->down)) {
        uv_close((uv_handle_t *)&tun->down, s_tunnel_closed);
    }
    if (tun->up_init && !uv_is_closing((uv_handle_t *)&tun->up)) {
        uv_close((uv_handle_t *)&tun->up, s_tunnel_closed);
    }
}

static void
s_tunnel_written(uv_write_t *req, int status)
{
    ws_write_t *w = (ws_write_t *)req;
    ws_tunnel_t *tun = w->tun;
    free(w->buf.base);
    uv_stream_t *from = w->from;
    free(w);
    if (status < 0) {
        s_tunnel_close(tun);
        return;
    }
    //  Resume the side that was paused for back-pressure.
    if (from && tun->state == T_RELAY) {
        uv_read_start(from, s_tunnel_alloc, s_tunnel_read);
    }
}

//  Queue len bytes (copied) to a side. Returns 0 or -1.
static int
s_tunnel_write(ws_tunnel_t *tun, uv_tcp_t *to, const void *data, size_t len)
{
    ws_write_t *w = cm_alloc(sizeof(ws_write_t));
    w->tun = tun;
    w->buf = uv_buf_init(malloc(len ? len : 1), (unsigned int)len);
    if (!w->buf.base) {
        fprintf(stderr, "out of memory allocating %zu bytes\n", len);
        abort();
    }
    memcpy(w->buf.base, data, len);
    if (uv_write(&w->req, (uv_stream_t *)to, &w->buf, 1, s_tunnel_written)) {
        free(w->buf.base);
        free(w);
        return -1;
    }
    return 0;
}

static void
s_tunnel_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    size_t size = WS_TUNNEL_READ_SIZE;
    buf->base = malloc(size);
    if (!buf->base) {
        fprintf(stderr, "out of memory allocating %zu bytes\n", size);
        abort();
    }
    buf->len = size;
}

//  Keep handshake bytes; false if too many.
static bool
s_tunnel_keep(ws_tunnel_t *tun, const char *data, size_t len)
{
    if (tun->hs_len + len > WS_TUNNEL_HS_MAX) {
        return false;
    }
    if (!tun->hs) {
        tun->hs = cm_alloc(WS_TUNNEL_HS_MAX);
    }
    memcpy(tun->hs + tun->hs_len, data, len);
    tun->hs_len += len;
    return true;
}

static void
s_tunnel_consume(ws_tunnel_t *tun, size_t n)
{
    memmove(tun->hs, tun->hs + n, tun->hs_len - n);
    tun->hs_len -= n;
}

//  Switch to relaying; bytes left in hs go to the lws side.
static void
s_tunnel_relay(ws_tunnel_t *tun, bool reply_200)
{
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    tun->state = T_RELAY;
    if (reply_200 && s_tunnel_write(tun, &tun->down, ok, sizeof(ok) - 1)) {
        s_tunnel_close(tun);
        return;
    }
    if (tun->hs_len && s_tunnel_write(tun, &tun->down, tun->hs, tun->hs_len)) {
        s_tunnel_close(tun);
        return;
    }
    free(tun->hs);
    tun->hs = NULL;
    tun->hs_len = 0;
    uv_read_start((uv_stream_t *)&tun->down, s_tunnel_alloc, s_tunnel_read);
}

static void
s_tunnel_fail(ws_tunnel_t *tun, const char *why)
{
    cm_log_warn("could not open proxy tunnel", "proxy=%s:%d reason=\"%s\"",
                tun->socks->proxy.host, tun->socks->proxy.port, why);
    static const char bad[] = "HTTP/1.1 502 Bad Gateway\r\n\r\n";
    if (tun->state != T_CLOSING) {
        s_tunnel_write(tun, &tun->down, bad, sizeof(bad) - 1);
    }
    s_tunnel_close(tun);
}

//  SOCKS5 CONNECT request for host:port.
static void
s_socks_request(ws_tunnel_t *tun)
{
    uint8_t req[4 + 1 + 255 + 2];
    size_t n = 0;
    req[n++] = 5;
    req[n++] = 1; //  CONNECT
    req[n++] = 0;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, tun->host, &a4) == 1) {
        req[n++] = 1;
        memcpy(req + n, &a4, 4);
        n += 4;
    } else if (inet_pton(AF_INET6, tun->host, &a6) == 1) {
        req[n++] = 4;
        memcpy(req + n, &a6, 16);
        n += 16;
    } else {
        size_t hlen = strlen(tun->host);
        req[n++] = 3;
        req[n++] = (uint8_t)hlen;
        memcpy(req + n, tun->host, hlen);
        n += hlen;
    }
    req[n++] = (uint8_t)(tun->port >> 8);
    req[n++] = (uint8_t)tun->port;
    tun->state = T_REPLY;
    if (s_tunnel_write(tun, &tun->up, req, n)) {
        s_tunnel_fail(tun, "could not write to the socks proxy");
    }
}

//  Handshake bytes from the SOCKS proxy.
static void
s_socks_step(ws_tunnel_t *tun)
{
    const ws_proxy_t *px = &tun->socks->proxy;
    if (tun->state == T_GREETING) {
        if (tun->hs_len < 2) {
            return;
        }
        uint8_t method = tun->hs[1];
        if (tun->hs[0] != 5 || (method != 0 && method != 2) ||
            (method == 2 && !*px->user)) {
            s_tunnel_fail(tun, "socks proxy refused our methods");
            return;
        }
        s_tunnel_consume(tun, 2);
        if (method == 0) {
            s_socks_request(tun);
            return;
        }
        uint8_t auth[3 + 2 * 255];
        size_t ulen = strlen(px->user), plen = strlen(px->pass);
        size_t n = 0;
        auth[n++] = 1;
        auth[n++] = (uint8_t)ulen;
        memcpy(auth + n, px->user, ulen);
        n += ulen;
        auth[n++] = (uint8_t)plen;
        memcpy(auth + n, px->pass, plen);
        n += plen;
        tun->state = T_AUTH;
        if (s_tunnel_write(tun, &tun->up, auth, n)) {
            s_tunnel_fail(tun, "could not write to the socks proxy");
        }
        return;
    }
    if (tun->state == T_AUTH) {
        if (tun->hs_len < 2) {
            return;
        }
        if (tun->hs[1] != 0) {
            s_tunnel_fail(tun, "socks proxy refused the credentials");
            return;
        }
        s_tunnel_consume(tun, 2);
        s_socks_request(tun);
        return;
    }
    if (tun->state == T_REPLY) {
        if (tun->hs_len < 5) {
            return;
        }
        if (tun->hs[0] != 5 || tun->hs[1] != 0) {
            s_tunnel_fail(tun, "socks proxy could not connect");
            return;
        }
        size_t need;
        switch (tun->hs[3]) {
        case 1:
            need = 4 + 4 + 2;
            break;
        case 4:
            need = 4 + 16 + 2;
            break;
        case 3:
            need = 4 + 1 + tun->hs[4] + 2;
            break;
        default:
            s_tunnel_fail(tun, "malformed socks reply");
            return;
        }
        if (tun->hs_len < need) {
            return;
        }
        s_tunnel_consume(tun, need);
        s_tunnel_relay(tun, true);
    }
}

static void
s_tunnel_connected(uv_connect_t *req, int status)
{
    ws_tunnel_t *tun = req->data;
    if (tun->state == T_CLOSING) {
        return;
    }
    if (status < 0) {
        s_tunnel_fail(tun, uv_strerror(status));
        return;
    }
    uv_read_start((uv_stream_t *)&tun->up, s_tunnel_alloc, s_tunnel_read);
    if (tun->socks->is_test) {
        //  Test proxy: the far side is the target itself.
        static const uint8_t socks_ok[10] = {5, 0, 0, 1};
        if (tun->test_reply == 2 &&
            s_tunnel_write(tun, &tun->down, socks_ok, sizeof(socks_ok))) {
            s_tunnel_close(tun);
            return;
        }
        s_tunnel_relay(tun, tun->test_reply == 1);
        return;
    }
    const ws_proxy_t *px = &tun->socks->proxy;
    uint8_t hello[4] = {5, 1, 0, 0};
    size_t n = 3;
    if (*px->user) {
        hello[1] = 2;
        hello[3] = 2;
        n = 4;
    }
    tun->state = T_GREETING;
    if (s_tunnel_write(tun, &tun->up, hello, n)) {
        s_tunnel_fail(tun, "could not write to the socks proxy");
    }
}

static void
s_tunnel_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ws_tunnel_t *tun = req->data;
    if (tun->state == T_CLOSING) {
        uv_freeaddrinfo(res);
        s_tunnel_unref(tun);
        return;
    }
    if (status < 0 || !res) {
        uv_freeaddrinfo(res);
        s_tunnel_fail(tun, "could not resolve the proxy host");
        s_tunnel_unref(tun);
        return;
    }
    uv_tcp_init(&tun->socks->ws->loop, &tun->up);
    tun->up.data = tun;
    tun->up_init = true;
    tun->open_handles++;
    tun->connect.data = tun;
    tun->state = T_CONNECT;
    int rc = uv_tcp_connect(&tun->connect, &tun->up, res->ai_addr,
                            s_tunnel_connected);
    uv_freeaddrinfo(res);
    if (rc) {
        s_tunnel_fail(tun, uv_strerror(rc));
    }
    s_tunnel_unref(tun);
}

//  Connect the far side to host:port (resolving it first).
static void
s_tunnel_dial(ws_tunnel_t *tun, const char *host, int port)
{
    char service[8];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    tun->resolve.data = tun;
    tun->state = T_RESOLVE;
    tun->open_handles++; //  the pending resolve holds a reference
    int rc = uv_getaddrinfo(&tun->socks->ws->loop, &tun->resolve,
                            s_tunnel_resolved, host, service, &hints);
    if (rc) {
        tun->open_handles--;
        s_tunnel_fail(tun, uv_strerror(rc));
    }
}

static void s_test_proxy_step(ws_tunnel_t *tun);

//  Position of the first CRLFCRLF, or NULL.
static uint8_t *
s_find_crlf2(uint8_t *data, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++) {
        if (memcmp(data + i, "\r\n\r\n", 4) == 0) {
            return data + i;
        }
    }
    return NULL;
}

//  lws' CONNECT request.
static void
s_tunnel_request(ws_tunnel_t *tun)
{
    uint8_t *end = s_find_crlf2(tun->hs, tun->hs_len);
    if (!end) {
        return;
    }
    char line[WS_TUNNEL_HS_MAX + 1];
    size_t llen =
        (size_t)((uint8_t *)memchr(tun->hs, '\r', tun->hs_len) - tun->hs);
    memcpy(line, tun->hs, llen);
    line[llen] = 0;
    s_tunnel_consume(tun, (size_t)(end + 4 - tun->hs));
    char target[300];
    if (sscanf(line, "CONNECT %299s HTTP/1.%*c", target) != 1) {
        s_tunnel_fail(tun, "malformed CONNECT request");
        return;
    }
    char *colon = strrchr(target, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (!colon || port < 1 || port > 65535) {
        s_tunnel_fail(tun, "malformed CONNECT target");
        return;
    }
    *colon = 0;
    char *host = target;
    if (*host == '[' && colon[-1] == ']') {
        host++;
        colon[-1] = 0;
    }
    if (strlen(host) >= sizeof(tun->host)) {
        s_tunnel_fail(tun, "CONNECT host too long");
        return;
    }
    memcpy(tun->host, host, strlen(host) + 1);
    tun->port = (int)port;
    uv_read_stop((uv_stream_t *)&tun->down);
    if (tun->socks->is_test) {
        s_test_proxy_step(tun);
        return;
    }
    s_tunnel_dial(tun, tun->socks->proxy.host, tun->socks->proxy.port);
}

static void
s_tunnel_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    ws_tunnel_t *tun = stream->data;
    if (n < 0 || tun->state == T_CLOSING) {
        free(buf->base);
        s_tunnel_close(tun);
        return;
    }
    if (n == 0) {
        free(buf->base);
        return;
    }
    bool from_down = stream == (uv_stream_t *)&tun->down;
    if (tun->state == T_RELAY) {
        //  Hand the buffer over to a write on the other side.
        uv_tcp_t *to = from_down ? &tun->up : &tun->down;
        ws_write_t *w = cm_alloc(sizeof(ws_write_t));
        w->tun = tun;
        w->buf = uv_buf_init(buf->base, (unsigned int)n);
        if (uv_write(&w->req, (uv_stream_t *)to, &w->buf, 1,
                     s_tunnel_written)) {
            free(buf->base);
            free(w);
            s_tunnel_close(tun);
            return;
        }
        if (uv_stream_get_write_queue_size((uv_stream_t *)to) >=
            WS_TUNNEL_HIGH_WATER) {
            w->from = stream;
            uv_read_stop(stream);
        }
        return;
    }
    bool kept = s_tunnel_keep(tun, buf->base, (size_t)n);
    free(buf->base);
    if (!kept) {
        s_tunnel_fail(tun, "handshake too long");
        return;
    }
    if (tun->socks->is_test) {
        if (from_down) {
            s_test_proxy_step(tun);
        } else {
            s_tunnel_fail(tun, "unexpected bytes");
        }
    } else if (from_down && tun->state == T_REQUEST) {
        s_tunnel_request(tun);
    } else if (!from_down) {
        s_socks_step(tun);
    }
}

static void
s_bridge_accept(uv_stream_t *listener, int status)
{
    ws_socks_t *socks = listener->data;
    if (status < 0) {
        return;
    }
    ws_tunnel_t *tun = cm_alloc(sizeof(ws_tunnel_t));
    tun->socks = socks;
    uv_tcp_init(&socks->ws->loop, &tun->down);
    tun->down.data = tun;
    tun->open_handles = 1;
    wa_ws_t *ws = socks->ws;
    tun->next = ws->tunnels;
    if (tun->next) {
        tun->next->prev = tun;
    }
    ws->tunnels = tun;
    if (uv_accept(listener, (uv_stream_t *)&tun->down)) {
        s_tunnel_close(tun);
        return;
    }
    tun->state = T_REQUEST;
    uv_read_start((uv_stream_t *)&tun->down, s_tunnel_alloc, s_tunnel_read);
}

static void
s_bridge_closed(uv_handle_t *handle)
{
    free(handle->data);
}

//  Close every tunnel and bridge (wa_ws_destroy); the loop frees them.
static void
s_bridges_close(wa_ws_t *ws)
{
    for (ws_tunnel_t *t = ws->tunnels; t; t = t->next) {
        s_tunnel_close(t);
    }
    while (ws->bridges) {
        ws_socks_t *socks = ws->bridges;
        ws->bridges = socks->next;
        uv_close((uv_handle_t *)&socks->listener, s_bridge_closed);
    }
}

//  Start a loopback listener for a bridge (or the test proxy). Returns
//  the bridge or NULL.
static ws_socks_t *
s_bridge_new(wa_ws_t *ws, const ws_proxy_t *proxy, bool is_test)
{
    ws_socks_t *socks = cm_alloc(sizeof(ws_socks_t));
    socks->ws = ws;
    if (proxy) {
        socks->proxy = *proxy;
    }
    socks->is_test = is_test;
    uv_tcp_init(&ws->loop, &socks->listener);
    socks->listener.data = socks;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    if (uv_tcp_bind(&socks->listener, (const struct sockaddr *)&addr, 0) ||
        uv_listen((uv_stream_t *)&socks->listener, 64, s_bridge_accept) ||
        uv_tcp_getsockname(&socks->listener, (struct sockaddr *)&bound,
                           &blen)) {
        uv_close((uv_handle_t *)&socks->listener, s_bridge_closed);
        return NULL;
    }
    socks->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    socks->next = ws->bridges;
    ws->bridges = socks;
    return socks;
}

//  The client vhost for a proxy setting ("" = direct), created on first
//  use. Returns NULL if the proxy URL is invalid.
static struct lws_vhost *
s_client_vhost(wa_ws_t *self, const char *proxy)
{
    for (ws_client_vh_t *c = self->clients; c; c = c->next) {
        if (strcmp(c->proxy, proxy) == 0) {
            return c->vhost;
        }
    }
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = s_protocols;
    char name[32];
    snprintf(name, sizeof(name), "client-%d", self->vhost_seq++);
    info.vhost_name = name;
    ws_socks_t *socks = NULL;
    char lws_proxy[800];
    if (*proxy) {
        ws_proxy_t px;
        if (s_parse_proxy(proxy, &px)) {
            cm_log_warn("could not parse proxy url");
            return NULL;
        }
        if (px.socks) {
            socks = s_bridge_new(self, &px, false);
            if (!socks) {
                return NULL;
            }
            snprintf(lws_proxy, sizeof(lws_proxy), "127.0.0.1:%d", socks->port);
        } else if (*px.user) {
            snprintf(lws_proxy, sizeof(lws_proxy), "%s:%s@%s:%d", px.user,
                     px.pass, px.host, px.port);
        } else {
            snprintf(lws_proxy, sizeof(lws_proxy), "%s:%d", px.host, px.port);
        }
        info.http_proxy_address = lws_proxy;
    }
    ws_client_vh_t *c = cm_alloc(sizeof(ws_client_vh_t));
    c->proxy = cm_strdup(proxy);
    c->socks = socks;
    c->vhost = lws_create_vhost(self->ctx, &info);
    if (!c->vhost) {
        free(c->proxy);
        free(c);
        return NULL;
    }
    c->next = self->clients;
    self->clients = c;
    return c->vhost;
}

//  Split ws[s]://host[:port][/path] into its parts. Returns 0 or -1.
static int
s_parse_url(const char *url, bool *tls, char *host, int *port, char *path)
{
    const char *p;
    if (strncmp(url, "wss://", 6) == 0) {
        *tls = true;
        *port = 443;
        p = url + 6;
    } else if (strncmp(url, "ws://", 5) == 0) {
        *tls = false;
        *port = 80;
        p = url + 5;
    } else {
        return -1;
    }
    size_t hlen = strcspn(p, ":/?#");
    if (hlen == 0 || hlen >= WA_WS_MAX_HOST) {
        return -1;
    }
    memcpy(host, p, hlen);
    host[hlen] = 0;
    p += hlen;
    if (*p == ':') {
        char *end;
        errno = 0;
        long v = strtol(p + 1, &end, 10);
        if (errno || end == p + 1 || v < 1 || v > 65535) {
            return -1;
        }
        *port = (int)v;
        p = end;
    }
    if (*p == 0) {
        strcpy(path, "/");
        return 0;
    }
    if (*p != '/' || strlen(p) >= WA_WS_MAX_PATH) {
        return -1;
    }
    strcpy(path, p);
    return 0;
}

static void
s_dial_free(ws_dial_t *d)
{
    free(d->origin);
    free(d);
}

//  Hand the connection to lws, connecting to address (an IP literal, or
//  the host name when a proxy resolves it). Returns 0, or -1 if lws failed
//  at once: the connection is then released, after a WA_WS_CLOSED event
//  if notify is set.
static int
s_dial(wa_ws_conn_t *conn, ws_dial_t *d, const char *address, bool notify)
{
    wa_ws_t *self = conn->ws;
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = self->ctx;
    ci.vhost = d->vhost;
    ci.address = address;
    ci.port = d->port;
    ci.path = d->path;
    ci.host = d->host;
    ci.origin = d->origin;
    ci.ssl_connection = d->tls ? LCCSCF_USE_SSL : 0;
    if (d->tls && d->insecure) {
        ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
                             LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                             LCCSCF_ALLOW_EXPIRED;
    }
    ci.local_protocol_name = WA_WS_PROTOCOL;
    ci.userdata = conn;
    ci.opaque_user_data = conn->user_agent;
    ci.pwsi = &conn->wsi;
    self->connecting = conn;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    self->connecting = NULL;
    if (wsi && !conn->closed) {
        self->pending = true;
        return 0;
    }
    cm_log_warn("could not connect websocket", "host=%s port=%d", d->host,
                d->port);
    if (notify) {
        conn->closed = false;
        s_emit_closed(conn, WA_WS_CLOSE_ERROR, "could not connect");
    }
    //  lws may or may not still hold the wsi.
    if (conn->wsi && wsi) {
        conn->fn = NULL;
        conn->closing = true;
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        self->pending = true;
    } else {
        s_conn_free(conn);
    }
    return -1;
}

//  The host name is resolved: connect, or report the failure.
static void
s_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ws_dial_t *d = (ws_dial_t *)req;
    char ip[INET6_ADDRSTRLEN] = "";
    if (status == 0 && res) {
        const void *addr =
            res->ai_family == AF_INET6
                ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)
                      ->sin6_addr
                : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
        inet_ntop(res->ai_family, addr, ip, sizeof(ip));
    }
    uv_freeaddrinfo(res);
    wa_ws_conn_t *conn = d->conn;
    if (!conn) {
        s_dial_free(d); //  abandoned by wa_ws_destroy
        return;
    }
    conn->dial = NULL;
    if (conn->closing) {
        s_conn_free(conn); //  closed by the owner meanwhile
    } else if (!*ip) {
        cm_log_warn("could not resolve websocket host", "host=%s error=\"%s\"",
                    d->host, uv_strerror(status));
        s_emit_closed(conn, WA_WS_CLOSE_ERROR, "could not resolve host");
        s_conn_free(conn);
    } else {
        s_dial(conn, d, ip, true);
    }
    s_dial_free(d);
}

wa_ws_conn_t *
wa_ws_connect(wa_ws_t *self, const char *url, const wa_ws_opts_t *opts,
              wa_ws_event_fn *fn, void *arg)
{
    assert(self && url);
    ws_dial_t *d = cm_alloc(sizeof(ws_dial_t));
    if (s_parse_url(url, &d->tls, d->host, &d->port, d->path)) {
        cm_log_warn("could not parse websocket url", "url=\"%s\"", url);
        s_dial_free(d);
        return NULL;
    }
    const char *proxy = opts && opts->proxy ? opts->proxy : "";
    d->vhost = s_client_vhost(self, proxy);
    if (!d->vhost) {
        s_dial_free(d);
        return NULL;
    }
    d->origin = cm_strdup(opts && opts->origin ? opts->origin : WA_WS_ORIGIN);
    d->insecure = opts && opts->insecure;
    wa_ws_conn_t *conn = s_conn_new(self, false);
    conn->fn = fn;
    conn->arg = arg;
    if (opts && opts->user_agent) {
        conn->user_agent = cm_strdup(opts->user_agent);
    }
    //  Through a proxy, or to an IP literal: connect now. Otherwise
    //  resolve first on libuv's resolver, so a slow DNS answer never
    //  blocks the loop (lws 4.1 here resolves synchronously).
    uint8_t addr[16];
    if (*proxy || inet_pton(AF_INET, d->host, addr) == 1 ||
        inet_pton(AF_INET6, d->host, addr) == 1) {
        int rc = s_dial(conn, d, d->host, false);
        s_dial_free(d);
        return rc ? NULL : conn;
    }
    char service[8];
    snprintf(service, sizeof(service), "%d", d->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    d->conn = conn;
    conn->dial = d;
    if (uv_getaddrinfo(&self->loop, &d->req, s_resolved, d->host, service,
                       &hints)) {
        s_conn_free(conn);
        s_dial_free(d);
        return NULL;
    }
    return conn;
}

//  --------------------------------------------------------------------------
//  Connection

void
wa_ws_conn_set_handler(wa_ws_conn_t *conn, wa_ws_event_fn *fn, void *arg)
{
    assert(conn);
    conn->fn = fn;
    conn->arg = arg;
}

uint8_t *
wa_ws_conn_reserve(wa_ws_conn_t *conn, size_t len)
{
    assert(conn);
    if (conn->closing || conn->closed || (!conn->wsi && !conn->dial)) {
        return NULL;
    }
    ws_msg_t *msg = malloc(sizeof(ws_msg_t) + LWS_PRE + len);
    if (!msg) {
        fprintf(stderr, "out of memory allocating %zu bytes\n", len);
        abort();
    }
    msg->next = NULL;
    msg->len = len;
    if (conn->tail) {
        conn->tail->next = msg;
    } else {
        conn->head = msg;
    }
    conn->tail = msg;
    conn->queued += len;
    if (conn->open) {
        lws_callback_on_writable(conn->wsi);
        conn->ws->pending = true;
    }
    return msg->buf + LWS_PRE;
}

int
wa_ws_conn_send(wa_ws_conn_t *conn, const uint8_t *data, size_t len)
{
    assert(conn);
    assert(data || len == 0);
    uint8_t *buf = wa_ws_conn_reserve(conn, len);
    if (!buf) {
        return -1;
    }
    if (len) {
        memcpy(buf, data, len);
    }
    return 0;
}

size_t
wa_ws_conn_queued(wa_ws_conn_t *conn)
{
    assert(conn);
    return conn->queued;
}

void
wa_ws_conn_set_timer(wa_ws_conn_t *conn, long ms)
{
    assert(conn);
    if (!conn->wsi) {
        return;
    }
    lws_set_timer_usecs(conn->wsi, ms < 0 ? LWS_SET_TIMER_USEC_CANCEL
                                          : (lws_usec_t)ms * 1000);
    conn->ws->pending = true;
}

bool
wa_ws_conn_open(wa_ws_conn_t *conn)
{
    assert(conn);
    return conn->open && !conn->closed;
}

const char *
wa_ws_conn_peer(wa_ws_conn_t *conn)
{
    assert(conn);
    return conn->peer;
}

wa_ws_close_t
wa_ws_conn_close_reason(wa_ws_conn_t *conn)
{
    assert(conn);
    return conn->reason;
}

int
wa_ws_conn_close_code(wa_ws_conn_t *conn)
{
    assert(conn);
    return conn->close_code;
}

void
wa_ws_conn_close(wa_ws_conn_t **conn_p)
{
    if (!conn_p || !*conn_p) {
        return;
    }
    wa_ws_conn_t *conn = *conn_p;
    *conn_p = NULL;
    conn->fn = NULL;
    conn->arg = NULL;
    if (conn->closing) {
        return;
    }
    conn->closing = true;
    if (conn->reason == WA_WS_CLOSE_NONE) {
        conn->reason = WA_WS_CLOSE_LOCAL;
    }
    if (conn->dial) {
        //  Still resolving: freed when the resolver answers.
        uv_cancel((uv_req_t *)&conn->dial->req);
        return;
    }
    if (!conn->wsi || conn->closed) {
        return; //  lws already dropped it; freed on WSI_DESTROY
    }
    if (conn->open) {
        lws_callback_on_writable(conn->wsi);
    } else {
        //  Not upgraded yet: nothing to flush, drop it.
        lws_set_timeout(conn->wsi, PENDING_TIMEOUT_CLOSE_SEND,
                        LWS_TO_KILL_ASYNC);
    }
    conn->ws->pending = true;
}

//  --------------------------------------------------------------------------
//  Self test

//  Test proxy: one loopback listener that serves HTTP CONNECT and SOCKS5
//  (with optional user/password) itself and connects to the target.
typedef struct {
    const char *user;  //  required SOCKS5 user, or NULL
    const char *pass;  //  its password
    int http_tunnels;  //  CONNECT tunnels opened
    int socks_tunnels; //  SOCKS5 tunnels opened
    char auth[128];    //  Proxy-authorization value seen, if any
} test_proxy_t;

enum { TP_START, TP_HTTP, TP_SOCKS_HELLO, TP_SOCKS_AUTH, TP_SOCKS_REQ };

static void
s_test_proxy_step(ws_tunnel_t *tun)
{
    test_proxy_t *tp = tun->socks->test_arg;
    if (tun->test_phase == TP_START) {
        if (tun->hs_len == 0) {
            return;
        }
        tun->test_phase = tun->hs[0] == 5 ? TP_SOCKS_HELLO : TP_HTTP;
    }
    if (tun->test_phase == TP_HTTP) {
        if (tun->port == 0) {
            uint8_t *end = s_find_crlf2(tun->hs, tun->hs_len);
            if (!end) {
                return;
            }
            //  Note the Proxy-authorization header (any case).
            static const char key[] = "proxy-authorization:";
            for (uint8_t *h = tun->hs; h + sizeof(key) - 1 < end; h++) {
                size_t i = 0;
                while (i < sizeof(key) - 1 &&
                       tolower(h[i]) == (unsigned char)key[i]) {
                    i++;
                }
                if (i == sizeof(key) - 1) {
                    const uint8_t *v = h + i;
                    while (*v == ' ') {
                        v++;
                    }
                    size_t vlen = 0;
                    while (v + vlen < end && v[vlen] != '\r') {
                        vlen++;
                    }
                    snprintf(tp->auth, sizeof(tp->auth), "%.*s", (int)vlen,
                             (const char *)v);
                    break;
                }
            }
            s_tunnel_request(tun); //  parses, comes back with port set
            return;
        }
        tp->http_tunnels++;
        tun->test_reply = 1;
        s_tunnel_dial(tun, tun->host, tun->port);
        return;
    }
    if (tun->test_phase == TP_SOCKS_HELLO) {
        if (tun->hs_len < 2 || tun->hs_len < 2u + tun->hs[1]) {
            return;
        }
        bool has_pass = memchr(tun->hs + 2, 2, tun->hs[1]) != NULL;
        bool has_none = memchr(tun->hs + 2, 0, tun->hs[1]) != NULL;
        uint8_t method =
            tp->user ? (has_pass ? 2 : 0xff) : (has_none ? 0 : 0xff);
        s_tunnel_consume(tun, 2u + tun->hs[1]);
        uint8_t reply[2] = {5, method};
        s_tunnel_write(tun, &tun->down, reply, 2);
        if (method == 0xff) {
            s_tunnel_close(tun);
            return;
        }
        tun->test_phase = method == 2 ? TP_SOCKS_AUTH : TP_SOCKS_REQ;
    }
    if (tun->test_phase == TP_SOCKS_AUTH) {
        if (tun->hs_len < 2 || tun->hs_len < 3u + tun->hs[1] ||
            tun->hs_len < 3u + tun->hs[1] + tun->hs[2 + tun->hs[1]]) {
            return;
        }
        size_t ulen = tun->hs[1];
        size_t plen = tun->hs[2 + ulen];
        bool ok = ulen == strlen(tp->user) && plen == strlen(tp->pass) &&
                  memcmp(tun->hs + 2, tp->user, ulen) == 0 &&
                  memcmp(tun->hs + 3 + ulen, tp->pass, plen) == 0;
        s_tunnel_consume(tun, 3 + ulen + plen);
        uint8_t reply[2] = {1, ok ? 0 : 1};
        s_tunnel_write(tun, &tun->down, reply, 2);
        if (!ok) {
            s_tunnel_close(tun);
            return;
        }
        tun->test_phase = TP_SOCKS_REQ;
    }
    if (tun->test_phase == TP_SOCKS_REQ) {
        //  Only IPv4 targets are needed here.
        if (tun->hs_len < 10) {
            return;
        }
        if (tun->hs[1] != 1 || tun->hs[3] != 1) {
            s_tunnel_close(tun);
            return;
        }
        inet_ntop(AF_INET, tun->hs + 4, tun->host, sizeof(tun->host));
        tun->port = (tun->hs[8] << 8) | tun->hs[9];
        s_tunnel_consume(tun, 10);
        tp->socks_tunnels++;
        tun->test_reply = 2;
        uv_read_stop((uv_stream_t *)&tun->down);
        s_tunnel_dial(tun, tun->host, tun->port);
    }
}

typedef struct {
    wa_ws_t *ws;                //  loop under test
    wa_ws_conn_t *server;       //  accepted connection
    wa_ws_conn_t *client;       //  client connection
    int accepted;               //  accept callbacks
    int connected;              //  WA_WS_CONNECTED on the client
    int server_closed;          //  WA_WS_CLOSED on the server side
    int client_closed;          //  WA_WS_CLOSED on the client side
    int timers;                 //  WA_WS_TIMER events
    int writable;               //  WA_WS_WRITABLE events
    size_t server_rx;           //  bytes the server received
    size_t client_rx;           //  bytes the client received
    uint8_t last[16];           //  first bytes of the last message
    wa_ws_close_t close_reason; //  reason seen by the last close
    char close_text[160];       //  its text
} test_state_t;

static void
s_test_server_event(wa_ws_conn_t *conn, wa_ws_event_t event,
                    const uint8_t *data, size_t len, void *arg)
{
    test_state_t *st = arg;
    if (event == WA_WS_MESSAGE) {
        st->server_rx += len;
        memcpy(st->last, data, len < 16 ? len : 16);
        //  Echo back.
        assert(wa_ws_conn_send(conn, data, len) == 0);
    } else if (event == WA_WS_CLOSED) {
        st->server_closed++;
        st->close_reason = wa_ws_conn_close_reason(conn);
        st->server = NULL;
    }
}

static void
s_test_accept(wa_ws_conn_t *conn, void *arg)
{
    test_state_t *st = arg;
    st->accepted++;
    st->server = conn;
    wa_ws_conn_set_handler(conn, s_test_server_event, st);
}

static void
s_test_client_event(wa_ws_conn_t *conn, wa_ws_event_t event,
                    const uint8_t *data, size_t len, void *arg)
{
    test_state_t *st = arg;
    switch (event) {
    case WA_WS_CONNECTED:
        st->connected++;
        break;
    case WA_WS_MESSAGE:
        st->client_rx += len;
        break;
    case WA_WS_TIMER:
        st->timers++;
        break;
    case WA_WS_WRITABLE:
        st->writable++;
        break;
    case WA_WS_CLOSED:
        st->client_closed++;
        st->close_reason = wa_ws_conn_close_reason(conn);
        snprintf(st->close_text, sizeof(st->close_text), "%.*s", (int)len,
                 (const char *)data);
        st->client = NULL;
        break;
    }
}

#define TEST_RUN(st, cond) wa_ws_test_run((st)->ws, cond)

void
wa_ws_test(bool verbose)
{
    printf(" * wa_ws: ");
    if (verbose) {
        printf("\n");
    }
    test_state_t *st = cm_alloc(sizeof(test_state_t));
    st->ws = wa_ws_new();
    assert(st->ws);
    assert(wa_ws_fd(st->ws) >= 0);
    zmq_pollitem_t items[2];
    assert(wa_ws_pollitems(st->ws, items, 0) == 0);
    assert(wa_ws_pollitems(st->ws, items, 2) == 1);
    assert(items[0].fd == wa_ws_fd(st->ws) && items[0].events == ZMQ_POLLIN);
    int64_t start = cm_mono_ms();
    assert(wa_ws_run(st->ws, 0) == 0); //  nothing to do: returns at once
    assert(cm_mono_ms() - start < 1000);

    int port = wa_ws_listen(st->ws, "127.0.0.1", 0, NULL, s_test_accept, st);
    assert(port > 0);
    char *url = cm_sprintf("ws://127.0.0.1:%d/ws/chat", port);

    //  Bad URLs are refused at once.
    assert(wa_ws_connect(st->ws, "http://x/", NULL, s_test_client_event, st) ==
           NULL);
    assert(wa_ws_connect(st->ws, "ws://:80/", NULL, s_test_client_event, st) ==
           NULL);
    assert(wa_ws_connect(st->ws, "ws://h:99999/", NULL, s_test_client_event,
                         st) == NULL);

    //  Connect, queue before the upgrade, echo round trips.
    st->client = wa_ws_connect(st->ws, url, NULL, s_test_client_event, st);
    assert(st->client);
    assert(!wa_ws_conn_open(st->client));
    assert(wa_ws_conn_send(st->client, (const uint8_t *)"early", 5) == 0);
    assert(wa_ws_conn_queued(st->client) == 5);
    TEST_RUN(st, st->connected == 1 && st->accepted == 1);
    assert(wa_ws_conn_open(st->client));
    assert(strcmp(wa_ws_conn_peer(st->server), "127.0.0.1") == 0);
    TEST_RUN(st, st->client_rx == 5);
    assert(memcmp(st->last, "early", 5) == 0);
    assert(wa_ws_conn_count(st->ws) == 2);

    //  Many messages and a large one (fragmented by lws on receive).
    size_t big_len = 300000;
    uint8_t *big = wa_ws_conn_reserve(st->client, big_len);
    assert(big);
    for (size_t i = 0; i < big_len; i++) {
        big[i] = (uint8_t)i;
    }
    for (int i = 0; i < 50; i++) {
        uint8_t m[100];
        memset(m, i, sizeof(m));
        assert(wa_ws_conn_send(st->client, m, sizeof(m)) == 0);
    }
    TEST_RUN(st, st->client_rx == 5 + big_len + 5000);
    assert(st->server_rx == 5 + big_len + 5000);
    assert(wa_ws_conn_queued(st->client) == 0);

    //  A burst queued outside a callback is written by servicing while
    //  wa_ws_pending holds (one frame per writable round), with no
    //  wake-up from the descriptor in between
    size_t burst_before = st->server_rx;
    for (int i = 0; i < 20; i++) {
        uint8_t m[10];
        memset(m, i, sizeof(m));
        assert(wa_ws_conn_send(st->client, m, sizeof(m)) == 0);
    }
    assert(wa_ws_pending(st->ws));
    for (int i = 0; i < 200 && wa_ws_conn_queued(st->client) > 0 &&
                    wa_ws_pending(st->ws);
         i++) {
        wa_ws_service(st->ws);
    }
    assert(wa_ws_conn_queued(st->client) == 0);
    TEST_RUN(st, st->server_rx == burst_before + 200);

    //  Timer.
    wa_ws_conn_set_timer(st->client, 20);
    TEST_RUN(st, st->timers == 1);
    wa_ws_conn_set_timer(st->client, 20);
    wa_ws_conn_set_timer(st->client, -1);

    //  Client closes: server sees a remote close with code 1000.
    wa_ws_conn_close(&st->client);
    assert(st->client == NULL);
    TEST_RUN(st, st->server_closed == 1);
    assert(st->close_reason == WA_WS_CLOSE_REMOTE);
    TEST_RUN(st, wa_ws_conn_count(st->ws) == 0);
    assert(st->client_closed == 0);

    //  Server closes: client sees a remote close.
    st->client = wa_ws_connect(st->ws, url, NULL, s_test_client_event, st);
    TEST_RUN(st, st->connected == 2 && st->server);
    wa_ws_conn_close(&st->server);
    TEST_RUN(st, st->client_closed == 1);
    assert(st->close_reason == WA_WS_CLOSE_REMOTE);
    TEST_RUN(st, wa_ws_conn_count(st->ws) == 0);

    //  A host name is resolved asynchronously; closing while it resolves
    //  sends no event.
    char *named = cm_sprintf("ws://localhost:%d/ws/chat", port);
    wa_ws_opts_t ua_opts = {.user_agent = "Wharf-Test/1"};
    st->client =
        wa_ws_connect(st->ws, named, &ua_opts, s_test_client_event, st);
    assert(st->client);
    assert(wa_ws_conn_send(st->client, (const uint8_t *)"named", 5) == 0);
    int before = st->connected;
    size_t rx_before = st->client_rx;
    TEST_RUN(st, st->connected == before + 1);
    TEST_RUN(st, st->client_rx == rx_before + 5);
    wa_ws_conn_close(&st->client);
    st->client = wa_ws_connect(st->ws, named, NULL, s_test_client_event, st);
    assert(st->client);
    wa_ws_conn_close(&st->client);
    wa_ws_conn_t *abandoned =
        wa_ws_connect(st->ws, named, NULL, s_test_client_event, st);
    assert(abandoned); //  still resolving at destroy below, maybe
    wa_ws_conn_close(&abandoned);
    free(named);
    TEST_RUN(st, wa_ws_conn_count(st->ws) == 0 && st->server == NULL);

    //  Wrong path: refused, the client reports an error.
    int accepted = st->accepted;
    char *bad = cm_sprintf("ws://127.0.0.1:%d/other", port);
    st->client = wa_ws_connect(st->ws, bad, NULL, s_test_client_event, st);
    assert(st->client);
    TEST_RUN(st, st->client_closed == 2);
    assert(st->close_reason == WA_WS_CLOSE_ERROR);
    assert(strstr(st->close_text, "could not connect"));
    assert(st->accepted == accepted);
    free(bad);

    //  Nothing listening: connection error event.
    char *closed_url = cm_sprintf("ws://127.0.0.1:1/ws/chat");
    st->client =
        wa_ws_connect(st->ws, closed_url, NULL, s_test_client_event, st);
    if (st->client) {
        TEST_RUN(st, st->client_closed == 3);
        assert(st->close_reason == WA_WS_CLOSE_ERROR);
    }
    free(closed_url);
    TEST_RUN(st, wa_ws_conn_count(st->ws) == 0);

    //  Proxies: HTTP CONNECT (lws) without and with credentials, SOCKS5
    //  through the bridge without and with credentials, all against the
    //  test proxy.
    test_proxy_t *tp = cm_alloc(sizeof(test_proxy_t));
    ws_socks_t *tps = s_bridge_new(st->ws, NULL, true);
    assert(tps);
    tps->test_arg = tp;
    const char *schemes[] = {"http://", "http://alice:secret@", "socks5://",
                             "socks5://alice:secret@"};
    for (int i = 0; i < 4; i++) {
        if (i == 3) {
            tp->user = "alice";
            tp->pass = "secret";
        }
        char *purl = cm_sprintf("%s127.0.0.1:%d", schemes[i], tps->port);
        wa_ws_opts_t popts = {.proxy = purl};
        int connected = st->connected;
        int server_closed = st->server_closed;
        size_t rx = st->client_rx;
        st->client =
            wa_ws_connect(st->ws, url, &popts, s_test_client_event, st);
        assert(st->client);
        TEST_RUN(st, st->connected == connected + 1);
        assert(wa_ws_conn_send(st->client, (const uint8_t *)"proxied", 7) == 0);
        TEST_RUN(st, st->client_rx == rx + 7);
        wa_ws_conn_close(&st->client);
        TEST_RUN(st, st->server_closed == server_closed + 1);
        free(purl);
    }
    assert(tp->http_tunnels == 2 && tp->socks_tunnels == 2);
    assert(strstr(tp->auth, "YWxpY2U6c2VjcmV0")); //  alice:secret
    //  Wrong SOCKS5 password: the connection fails.
    char *purl = cm_sprintf("socks5://alice:wrong@127.0.0.1:%d", tps->port);
    wa_ws_opts_t popts = {.proxy = purl};
    int closed = st->client_closed;
    st->client = wa_ws_connect(st->ws, url, &popts, s_test_client_event, st);
    if (st->client) {
        TEST_RUN(st, st->client_closed == closed + 1);
        assert(st->close_reason == WA_WS_CLOSE_ERROR);
    }
    free(purl);
    //  Malformed proxy URLs.
    const char *bad_proxies[] = {"ftp://h:1", "socks5://h", "http://h:0",
                                 "http://:5", "socks5://@h:5"};
    for (size_t i = 0; i < sizeof(bad_proxies) / sizeof(bad_proxies[0]); i++) {
        wa_ws_opts_t bopts = {.proxy = bad_proxies[i]};
        assert(wa_ws_connect(st->ws, url, &bopts, s_test_client_event, st) ==
               NULL);
    }
    ws_proxy_t px;
    assert(s_parse_proxy("socks5h://u:p@[::1]:1080", &px) == 0);
    assert(px.socks && px.port == 1080 && strcmp(px.host, "::1") == 0);
    assert(strcmp(px.user, "u") == 0 && strcmp(px.pass, "p") == 0);
    TEST_RUN(st, wa_ws_conn_count(st->ws) == 0);

    //  wss: a TLS listener with a self-signed certificate. Refused by
    //  default (system CA store), accepted with insecure.
    char *cert_pem, *key_pem;
    assert(wa_ws_self_signed("localhost", &cert_pem, &key_pem) == 0);
    assert(strstr(cert_pem, "-----BEGIN CERTIFICATE-----"));
    assert(strstr(key_pem, "PRIVATE KEY-----"));
    int tls_port = wa_ws_listen_tls(st->ws, "127.0.0.1", 0, NULL, cert_pem,
                                    key_pem, s_test_accept, st);
    assert(tls_port > 0);
    free(cert_pem);
    free(key_pem);
    char *wss_url = cm_sprintf("wss://127.0.0.1:%d/ws/chat", tls_port);
    closed = st->client_closed;
    st->client = wa_ws_connect(st->ws, wss_url, NULL, s_test_client_event, st);
    if (st->client) {
        TEST_RUN(st, st->client_closed == closed + 1);
        assert(st->close_reason == WA_WS_CLOSE_ERROR);
    }
    wa_ws_opts_t tls_opts = {.insecure = true};
    int connected = st->connected;
    size_t rx = st->client_rx;
    st->client =
        wa_ws_connect(st->ws, wss_url, &tls_opts, s_test_client_event, st);
    assert(st->client);
    TEST_RUN(st, st->connected == connected + 1);
    assert(wa_ws_conn_send(st->client, (const uint8_t *)"secret", 6) == 0);
    TEST_RUN(st, st->client_rx == rx + 6);
    //  And through the SOCKS5 bridge, end to end.
    wa_ws_conn_close(&st->client);
    purl = cm_sprintf("socks5://alice:secret@127.0.0.1:%d", tps->port);
    tls_opts.proxy = purl;
    st->client =
        wa_ws_connect(st->ws, wss_url, &tls_opts, s_test_client_event, st);
    assert(st->client);
    TEST_RUN(st, st->connected == connected + 2);
    assert(wa_ws_conn_send(st->client, (const uint8_t *)"socks+tls", 9) == 0);
    TEST_RUN(st, st->client_rx == rx + 6 + 9);
    assert(tp->socks_tunnels == 3);
    wa_ws_conn_close(&st->client);
    free(purl);
    free(wss_url);
    TEST_RUN(st, wa_ws_conn_count(st->ws) == 0);

    //  Close before the upgrade completes, and destroy with live
    //  connections.
    st->client = wa_ws_connect(st->ws, url, NULL, s_test_client_event, st);
    wa_ws_conn_close(&st->client);
    wa_ws_conn_t *live =
        wa_ws_connect(st->ws, url, NULL, s_test_client_event, st);
    assert(live);
    TEST_RUN(st, st->server != NULL && wa_ws_conn_open(live));
    free(url);
    wa_ws_destroy(&st->ws);
    assert(st->ws == NULL);
    wa_ws_destroy(&st->ws);
    free(tp);
    free(st);
    printf("OK\n");
}
