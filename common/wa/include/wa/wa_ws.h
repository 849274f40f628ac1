/*  wa_ws - WebSocket client and server connections in one event loop

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Built on libwebsockets 4.1. Debian's build has no external-poll
    callbacks, so lws runs on a private libuv loop and the whole loop is
    exposed to the owner as ONE pollable file descriptor (libuv's epoll
    fd). Many connections share it; there is no thread per connection.

    Driving it from a zmq_poll loop:

        wa_ws_t *ws = wa_ws_new();
        zmq_pollitem_t items[8];
        while (running) {
            int n = 0;
            items[n++] = (zmq_pollitem_t){bus_socket, 0, ZMQ_POLLIN, 0};
            n += wa_ws_pollitems(ws, items + n, 8 - n);   //  adds 1
            long timeout = wa_ws_timeout(ws);             //  ms, -1 none
            //  (combine with the owner's own timers)
            zmq_poll(items, n, timeout);
            ... handle the bus socket ...
            wa_ws_service(ws);   //  always; cheap when nothing is ready
        }

    wa_ws_service runs every ready callback (events below) and returns;
    call it after every zmq_poll wake-up, ready or not: it also runs timers
    and applies sends queued since the last call. wa_ws_timeout returns 0
    while queued work is pending.

    Connections (wa_ws_conn_t) are owned by the wa_ws_t. The owner keeps
    the pointer until it either receives WA_WS_CLOSED (the pointer is
    invalid once that callback returns) or calls wa_ws_conn_close (which
    consumes the pointer; no further events). Data arrives as raw bytes of
    binary WebSocket messages, possibly a fragment of a message: the WA
    framing on top is a byte stream (wa_frame), so message boundaries do
    not matter. Text messages are ignored.

    Memory: no buffer is held for an idle connection beyond libwebsockets'
    own per-connection state; sends are queued only until written. TLS
    client contexts load the system CA directory lazily and release
    OpenSSL's I/O buffers when idle.

    Proxies (client side, per connection): "http://[user:pass@]host:port"
    uses HTTP CONNECT; "socks5://[user:pass@]host:port" is tunnelled
    through a loopback CONNECT bridge inside wa_ws that speaks SOCKS5 to
    the proxy. One lws vhost is kept per distinct proxy.
*/
#ifndef WA_WS_H_INCLUDED
#define WA_WS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

//  Origin header WhatsApp Web sends.
#define WA_WS_ORIGIN "https://web.whatsapp.com"
//  The real service.
#define WA_WS_URL "wss://web.whatsapp.com/ws/chat"
//  Path the server side listens on by default.
#define WA_WS_PATH "/ws/chat"

typedef struct _wa_ws_t wa_ws_t;
typedef struct _wa_ws_conn_t wa_ws_conn_t;

typedef enum {
    WA_WS_CONNECTED = 1, //  client: upgrade done; server: accepted
    WA_WS_MESSAGE = 2,   //  bytes received (data, len)
    WA_WS_WRITABLE = 3,  //  send queue drained
    WA_WS_TIMER = 4,     //  the timer set with wa_ws_conn_set_timer fired
    WA_WS_CLOSED = 5     //  closed; data is a NUL-terminated reason text
} wa_ws_event_t;

//  Why a connection closed (wa_ws_conn_close_reason).
typedef enum {
    WA_WS_CLOSE_NONE = 0,   //  still open
    WA_WS_CLOSE_REMOTE = 1, //  the peer closed (close code available)
    WA_WS_CLOSE_ERROR = 2,  //  could not connect, or the transport broke
    WA_WS_CLOSE_LOCAL = 3   //  closed by wa_ws_conn_close
} wa_ws_close_t;

//  Event callback. data/len: WA_WS_MESSAGE bytes (borrowed for the call),
//  WA_WS_CLOSED reason text. Calling wa_ws_conn_close or sending from the
//  callback is allowed.
typedef void(wa_ws_event_fn)(wa_ws_conn_t *conn, wa_ws_event_t event,
                             const uint8_t *data, size_t len, void *arg);

//  Server: a new connection was accepted on a listener. The callback must
//  install a handler (wa_ws_conn_set_handler) or close the connection.
typedef void(wa_ws_accept_fn)(wa_ws_conn_t *conn, void *arg);

//  Client connection options; NULL fields take the defaults.
typedef struct {
    const char *origin;     //  Origin header (default WA_WS_ORIGIN)
    const char *user_agent; //  User-Agent header (default: none)
    const char *proxy;      //  proxy URL (http:// or socks5://), or NULL
    bool insecure;          //  wss: accept any server certificate (tests)
} wa_ws_opts_t;

//  Create an event loop. Returns NULL if libwebsockets or libuv cannot
//  start. Caller owns return value.
wa_ws_t *wa_ws_new(void);

//  Close every connection (no events) and destroy the loop. NULL-safe;
//  sets *self_p to NULL.
void wa_ws_destroy(wa_ws_t **self_p);

//  The loop's pollable descriptor (readable when work is ready).
int wa_ws_fd(wa_ws_t *self);

//  Fill up to max zmq_pollitem_t entries (ZMQ_POLLIN on wa_ws_fd).
//  Returns the number filled (1, or 0 if max is 0).
int wa_ws_pollitems(wa_ws_t *self, zmq_pollitem_t *items, int max);

//  Milliseconds until wa_ws_service must run again at the latest: 0 if
//  work is pending, -1 if only fd activity matters.
long wa_ws_timeout(wa_ws_t *self);

//  Run all ready work (I/O, timers, queued sends) without blocking and
//  deliver events. Returns 0.
int wa_ws_service(wa_ws_t *self);

//  True when sends (or other work) were queued since the last
//  wa_ws_service began, by the owner or by its callbacks: a service now
//  writes them. An owner that services on its own wake-ups (not on
//  wa_ws_timeout) services again at once while this holds.
bool wa_ws_pending(wa_ws_t *self);

//  For an owner with nothing else to poll (tools, tests, benchmarks):
//  wait for the loop's fd at most max_ms (less when wa_ws_timeout says
//  so), then wa_ws_service. Returns 0, or -1 if zmq_poll failed (other
//  than on a signal).
int wa_ws_run(wa_ws_t *self, long max_ms);

//  Run the loop (wa_ws_run, 50 ms slices) until the expression `cond`
//  holds or timeout_ms pass; cond is evaluated before every slice. The
//  caller checks cond afterwards. Needs cm_mono_ms (cm/cm_util.h).
#define wa_ws_run_until(ws, cond, timeout_ms)                                  \
    do {                                                                       \
        int64_t wa_ws_until_ = cm_mono_ms() + (timeout_ms);                    \
        while (!(cond) && cm_mono_ms() < wa_ws_until_) {                       \
            wa_ws_run((ws), 50);                                               \
        }                                                                      \
    } while (0)

//  Self tests: wa_ws_run_until for 5 s, then assert(cond).
#define wa_ws_test_run(ws, cond)                                               \
    do {                                                                       \
        wa_ws_run_until((ws), cond, 5000);                                     \
        assert(cond);                                                          \
    } while (0)

//  Number of open connections (client and server).
size_t wa_ws_conn_count(wa_ws_t *self);

//  Server: listen on address:port (port 0 picks a free port) for
//  WebSocket upgrades on path (NULL = WA_WS_PATH); other paths are
//  refused. Returns the bound port, or -1.
int wa_ws_listen(wa_ws_t *self, const char *address, int port, const char *path,
                 wa_ws_accept_fn *fn, void *arg);

//  A new self-signed P-256 certificate for `host` (CN), valid from an
//  hour ago to an hour from now, and its private key, both in PEM, for
//  wa_ws_listen_tls in tests, benchmarks and local setups. Returns 0 and
//  sets both (caller owns them), or -1 on an OpenSSL failure.
int wa_ws_self_signed(const char *host, char **cert_p, char **key_p);

//  Server over TLS (wss://): as wa_ws_listen with a certificate chain
//  and private key in PEM (copied by libwebsockets). Returns the bound
//  port, or -1.
int wa_ws_listen_tls(wa_ws_t *self, const char *address, int port,
                     const char *path, const char *cert_pem,
                     const char *key_pem, wa_ws_accept_fn *fn, void *arg);

//  Client: open a connection to url (ws:// or wss://host[:port]/path).
//  Events go to fn. Returns the connection, or NULL if the URL or proxy
//  is invalid or the connect failed at once (no event is then sent).
//  Connect failures found later arrive as WA_WS_CLOSED.
wa_ws_conn_t *wa_ws_connect(wa_ws_t *self, const char *url,
                            const wa_ws_opts_t *opts, wa_ws_event_fn *fn,
                            void *arg);

//  Install or replace the event handler of a connection.
void wa_ws_conn_set_handler(wa_ws_conn_t *conn, wa_ws_event_fn *fn, void *arg);

//  Queue a binary message (copied). Returns 0, or -1 if the connection is
//  closing.
int wa_ws_conn_send(wa_ws_conn_t *conn, const uint8_t *data, size_t len);

//  Queue a binary message of len bytes and return its buffer: the caller
//  fills it before returning to the loop (no copy). Returns NULL if the
//  connection is closing.
uint8_t *wa_ws_conn_reserve(wa_ws_conn_t *conn, size_t len);

//  Bytes queued and not yet handed to the socket (back-pressure).
size_t wa_ws_conn_queued(wa_ws_conn_t *conn);

//  Fire WA_WS_TIMER once after ms milliseconds (replaces a previous
//  timer); ms < 0 cancels it.
void wa_ws_conn_set_timer(wa_ws_conn_t *conn, long ms);

//  True once the upgrade is done (WA_WS_CONNECTED was delivered).
bool wa_ws_conn_open(wa_ws_conn_t *conn);

//  Peer address as text ("127.0.0.1"). Borrowed.
const char *wa_ws_conn_peer(wa_ws_conn_t *conn);

//  Close reason and the peer's close code (0 if none), valid during the
//  WA_WS_CLOSED callback.
wa_ws_close_t wa_ws_conn_close_reason(wa_ws_conn_t *conn);
int wa_ws_conn_close_code(wa_ws_conn_t *conn);

//  Close the connection after the queued messages are written (normal
//  close, code 1000). Consumes *conn_p: no further events; sets *conn_p
//  to NULL. NULL-safe.
void wa_ws_conn_close(wa_ws_conn_t **conn_p);

//  Self test.
void wa_ws_test(bool verbose);

#endif
