/*  sw_probe - the "connect probe" engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "sw_session.h"

//  Engine state, shared by every session.
typedef struct {
    const sw_config_t *config;    //  configuration, borrowed
    sw_url_t *url;                //  parsed WA_URL
    struct sockaddr_storage addr; //  resolved server address
    socklen_t addr_len;           //  0 when not resolved
    char *resolve_error;          //  last resolution failure
    int64_t resolved_at;          //  mono ms of the last resolution
    bool resolved;                //  a resolution result is cached
} s_probe_t;

//  Per-session state (about 40 bytes).
typedef struct {
    s_probe_t *probe;      //  the engine
    sw_session_t *session; //  the session
    uint64_t timer;        //  retry or connect timeout, 0 when none
    int fd;                //  the TCP connection, -1 when none
    unsigned attempt;      //  failures in a row
    bool connected;        //  connect completed
} s_conn_t;

static void s_attempt(s_conn_t *conn);

//  Resolve the server address (cached). Returns 0 or -1 with *error set
//  (borrowed).
static int
s_resolve(s_probe_t *self, const char **error)
{
    int64_t now = cm_mono_ms();
    if (self->resolved && now - self->resolved_at < SW_PROBE_DNS_CACHE_MS) {
        *error = self->resolve_error;
        return self->addr_len ? 0 : -1;
    }
    free(self->resolve_error);
    self->resolve_error = NULL;
    self->addr_len = 0;
    char port[8];
    snprintf(port, sizeof port, "%d", sw_url_port(self->url));
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(sw_url_host(self->url), port, &hints, &res);
    if (rc != 0 || !res) {
        self->resolve_error =
            cm_sprintf("could not resolve \"%s\": %s", sw_url_host(self->url),
                       rc ? gai_strerror(rc) : "no address");
    } else {
        memcpy(&self->addr, res->ai_addr, res->ai_addrlen);
        self->addr_len = res->ai_addrlen;
    }
    if (res) {
        freeaddrinfo(res);
    }
    self->resolved = true;
    self->resolved_at = now;
    *error = self->resolve_error;
    return self->addr_len ? 0 : -1;
}

static void
s_close(s_conn_t *conn)
{
    sw_loop_t *loop = sw_session_loop(conn->session);
    if (conn->fd >= 0) {
        sw_loop_fd_remove(loop, conn->fd);
        close(conn->fd);
        conn->fd = -1;
    }
    if (conn->timer) {
        sw_loop_timer_cancel(loop, conn->timer);
        conn->timer = 0;
    }
    conn->connected = false;
}

static void
s_retry_timer(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_conn_t *conn = (s_conn_t *)arg;
    conn->timer = 0;
    s_attempt(conn);
}

//  The attempt failed: FAILED with `reason`, retry after a backoff.
static void
s_fail(s_conn_t *conn, const char *reason)
{
    s_close(conn);
    sw_session_set_status(conn->session, SW_STATUS_FAILED, reason);
    const sw_config_t *cfg = conn->probe->config;
    int delay =
        sw_backoff_delay(sw_config_reconnect_min_ms(cfg),
                         sw_config_reconnect_max_ms(cfg), conn->attempt);
    if (conn->attempt < 64) {
        conn->attempt++;
    }
    cm_log_debug("will retry", "session=\"%s\" delay_ms=%d attempt=%u",
                 sw_session_name(conn->session), delay, conn->attempt);
    conn->timer = sw_loop_timer_add(sw_session_loop(conn->session), delay,
                                    false, s_retry_timer, conn);
}

static void
s_fail_errno(s_conn_t *conn, int err)
{
    char *reason =
        cm_sprintf("could not connect to %s: %s",
                   sw_url_authority(conn->probe->url), strerror(err));
    s_fail(conn, reason);
    free(reason);
}

static void
s_connected(s_conn_t *conn)
{
    conn->connected = true;
    conn->attempt = 0;
    if (conn->timer) {
        sw_loop_timer_cancel(sw_session_loop(conn->session), conn->timer);
        conn->timer = 0;
    }
    sw_loop_fd_set_events(sw_session_loop(conn->session), conn->fd, POLLIN);
    cm_log_info("connected, but the WhatsApp engine is not built yet; "
                "staying in STARTING",
                "session=\"%s\" server=%s", sw_session_name(conn->session),
                sw_url_authority(conn->probe->url));
}

static void
s_fd_ready(sw_loop_t *loop, int fd, int revents, void *arg)
{
    s_conn_t *conn = (s_conn_t *)arg;
    if (!conn->connected) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        if (err) {
            s_fail_errno(conn, err);
        } else if (revents & POLLOUT) {
            s_connected(conn);
        }
        return;
    }
    //  Connected: the server sends nothing we understand yet; drain it
    //  and notice when it hangs up.
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) {
        return;
    }
    char *reason = n == 0 ? cm_sprintf("connection to %s closed by the server",
                                       sw_url_authority(conn->probe->url))
                          : cm_sprintf("connection to %s failed: %s",
                                       sw_url_authority(conn->probe->url),
                                       strerror(errno));
    s_fail(conn, reason);
    free(reason);
}

static void
s_connect_timeout(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_conn_t *conn = (s_conn_t *)arg;
    conn->timer = 0;
    s_fail_errno(conn, ETIMEDOUT);
}

static void
s_attempt(s_conn_t *conn)
{
    sw_session_set_status(conn->session, SW_STATUS_STARTING, NULL);
    const char *error = NULL;
    if (s_resolve(conn->probe, &error) != 0) {
        s_fail(conn, error);
        return;
    }
    s_probe_t *probe = conn->probe;
    int fd = socket(probe->addr.ss_family,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        s_fail_errno(conn, errno);
        return;
    }
    conn->fd = fd;
    sw_loop_t *loop = sw_session_loop(conn->session);
    if (sw_loop_fd_add(loop, fd, POLLOUT, s_fd_ready, conn) != 0) {
        close(fd);
        conn->fd = -1;
        s_fail(conn, "could not watch the connection");
        return;
    }
    if (connect(fd, (struct sockaddr *)&probe->addr, probe->addr_len) == 0) {
        s_connected(conn);
        return;
    }
    if (errno != EINPROGRESS) {
        s_fail_errno(conn, errno);
        return;
    }
    conn->timer = sw_loop_timer_add(loop, SW_PROBE_CONNECT_TIMEOUT_MS, false,
                                    s_connect_timeout, conn);
}

static int
s_start(void *state, sw_session_t *session)
{
    s_conn_t *conn = cm_alloc(sizeof *conn);
    conn->probe = (s_probe_t *)state;
    conn->session = session;
    conn->fd = -1;
    sw_session_set_engine_data(session, conn);
    s_attempt(conn);
    return 0;
}

static void
s_stop(void *state, sw_session_t *session)
{
    s_conn_t *conn = (s_conn_t *)sw_session_engine_data(session);
    if (!conn) {
        return;
    }
    s_close(conn);
    sw_session_set_engine_data(session, NULL);
    free(conn);
}

static void
s_logout(void *state, sw_session_t *session)
{
    //  No device on any server: nothing to unlink.
    sw_session_logout_done(session, 0, NULL);
}

static int
s_command(void *state, sw_session_t *session, sw_cmd_t **cmd_p)
{
    if (cm_streq(sw_cmd_type(*cmd_p), "session.qr")) {
        sw_cmd_reply(cmd_p, 409, "session is not in SCAN_QR_CODE", NULL);
        return SW_CMD_TAKEN;
    }
    return SW_CMD_DECLINED;
}

static void
s_destroy(void **state_p)
{
    s_probe_t *self = (s_probe_t *)*state_p;
    if (self) {
        sw_url_destroy(&self->url);
        free(self->resolve_error);
        free(self);
        *state_p = NULL;
    }
}

static const char *const s_commands[] = {"session.qr", NULL};
static const sw_engine_ops_t s_ops = {"probe",  s_commands, s_start,   s_stop,
                                      s_logout, s_command,  s_destroy, NULL};

sw_engine_t *
sw_probe_new(const sw_config_t *config)
{
    s_probe_t *self = cm_alloc(sizeof *self);
    self->config = config;
    self->url = sw_url_new(sw_config_wa_url(config));
    assert(self->url); //  sw_config checked it
    void *state = self;
    return sw_engine_new(&s_ops, &state);
}

//  --------------------------------------------------------------------
//  Self test: sessions against a closed port and a listening one

//  Pump the loop (and a fake store that says 200 to everything) until
//  the session reaches `status` or the timeout passes; return the number
//  of set_status writes seen meanwhile.
static int
s_pump_until(sw_loop_t *loop, zsock_t *router, sw_session_t *session,
             sw_status_t status, int timeout_ms, char *reason, size_t max)
{
    int writes = 0;
    int64_t until = cm_mono_ms() + timeout_ms;
    while (cm_mono_ms() < until) {
        while (zsock_events(router) & ZMQ_POLLIN) {
            cm_msg_t *req = cm_msg_recv(router, true);
            assert(req);
            if (cm_streq(cm_msg_type(req), "session.set_status")) {
                writes++;
                if (reason && cm_msg_str(req, "reason")) {
                    snprintf(reason, max, "%s", cm_msg_str(req, "reason"));
                }
            }
            cm_msg_t *reply = cm_msg_new_reply(req, 200, NULL);
            cm_msg_send(&reply, router);
            cm_msg_destroy(&req);
        }
        if (sw_session_status(session) == status &&
            sw_session_queued(session) == 0) {
            break;
        }
        sw_loop_once(loop, 5);
    }
    return writes;
}

//  Answer everything until the host has no session left.
static void
s_drain(sw_loop_t *loop, zsock_t *router, sw_host_t *host)
{
    int64_t until = cm_mono_ms() + 2000;
    while (sw_host_sessions(host) > 0 && cm_mono_ms() < until) {
        while (zsock_events(router) & ZMQ_POLLIN) {
            cm_msg_t *req = cm_msg_recv(router, true);
            cm_msg_t *reply = cm_msg_new_reply(req, 200, NULL);
            cm_msg_send(&reply, router);
            cm_msg_destroy(&req);
        }
        sw_loop_once(loop, 5);
    }
    assert(sw_host_sessions(host) == 0);
}

void
sw_probe_test(bool verbose)
{
    printf(" * sw_probe: ");
    cm_log_init(NULL, "error");
    //  A port that refuses connections
    int closed_port = 0;
    {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
        socklen_t len = sizeof a;
        getsockname(s, (struct sockaddr *)&a, &len);
        closed_port = ntohs(a.sin_port);
        close(s);
    }
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ws/chat", closed_port);
    setenv("WA_URL", url, 1);
    setenv("WA_RECONNECT_MIN_MS", "20", 1);
    setenv("WA_RECONNECT_MAX_MS", "80", 1);
    setenv("WORKER_ID", "w-probe", 1);
    sw_config_t *config = sw_config_new();
    unsetenv("WA_URL");
    unsetenv("WA_RECONNECT_MIN_MS");
    unsetenv("WA_RECONNECT_MAX_MS");
    unsetenv("WORKER_ID");

    sw_loop_t *loop = sw_loop_new();
    zsock_t *router = zsock_new_router("inproc://sw_probe_test");
    cm_client_t *store = cm_client_new("inproc://sw_probe_test");
    sw_engine_t *engine = sw_probe_new(config);
    assert(cm_streq(sw_engine_name(engine), "probe"));
    assert(sw_engine_handles(engine, "session.qr"));
    sw_host_t *host = sw_host_new(store, loop, config, engine);

    //  Refused: FAILED with the reason, then STARTING again, repeatedly
    sw_session_t *s = sw_session_new(host, "p1", 1, NULL);
    assert(sw_session_start(s) == 0);
    char reason[256] = "";
    s_pump_until(loop, router, s, SW_STATUS_FAILED, 2000, reason,
                 sizeof reason);
    assert(sw_session_status(s) == SW_STATUS_FAILED);
    char expect[128];
    snprintf(expect, sizeof expect,
             "could not connect to 127.0.0.1:%d: Connection refused",
             closed_port);
    assert(cm_streq(reason, expect));
    //  Retries: at least two more FAILED/STARTING rounds within 1 s
    int writes = s_pump_until(loop, router, s, (sw_status_t)99, 1000, NULL, 0);
    assert(writes >= 4);
    s_conn_t *conn = (s_conn_t *)sw_session_engine_data(s);
    assert(conn && conn->attempt >= 2);

    //  session.qr: 409
    zsock_t *gw = zsock_new_pair("@inproc://sw_probe_gw");
    zsock_t *wk = zsock_new_pair(">inproc://sw_probe_gw");
    cm_msg_t *req = cm_msg_new("session.qr");
    sw_cmd_t *cmd = sw_cmd_new(&req, wk);
    assert(sw_engine_command(engine, s, &cmd) == SW_CMD_TAKEN && !cmd);
    cm_msg_t *reply = cm_msg_recv(gw, false);
    assert(cm_msg_status(reply) == 409);
    assert(cm_streq(cm_msg_reason(reply), "session is not in SCAN_QR_CODE"));
    cm_msg_destroy(&reply);
    req = cm_msg_new("session.nope");
    cmd = sw_cmd_new(&req, wk);
    assert(sw_engine_command(engine, s, &cmd) == SW_CMD_DECLINED && cmd);
    sw_cmd_destroy(&cmd);
    reply = cm_msg_recv(gw, false);
    cm_msg_destroy(&reply);
    zsock_destroy(&wk);
    zsock_destroy(&gw);

    //  Stop closes everything: no descriptors left; the write in flight
    //  is answered before the host goes
    sw_session_finish(&s, 0, NULL, NULL);
    assert(sw_loop_fd_count(loop) == 0);
    s_drain(loop, router, host);

    //  A listening server: the session connects and stays STARTING
    int lsock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert(bind(lsock, (struct sockaddr *)&a, sizeof a) == 0);
    assert(listen(lsock, 4) == 0);
    socklen_t alen = sizeof a;
    getsockname(lsock, (struct sockaddr *)&a, &alen);
    sw_host_destroy(&host);
    sw_engine_destroy(&engine);
    sw_config_destroy(&config);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ws/chat", ntohs(a.sin_port));
    setenv("WA_URL", url, 1);
    config = sw_config_new();
    unsetenv("WA_URL");
    engine = sw_probe_new(config);
    host = sw_host_new(store, loop, config, engine);
    s = sw_session_new(host, "p2", 1, NULL);
    assert(sw_session_start(s) == 0);
    int64_t until = cm_mono_ms() + 2000;
    conn = (s_conn_t *)sw_session_engine_data(s);
    while (!conn->connected && cm_mono_ms() < until) {
        s_pump_until(loop, router, s, SW_STATUS_STARTING, 10, NULL, 0);
    }
    assert(conn->connected);
    int peer = accept(lsock, NULL, NULL);
    assert(peer >= 0);
    s_pump_until(loop, router, s, (sw_status_t)99, 100, NULL, 0);
    assert(sw_session_status(s) == SW_STATUS_STARTING);
    assert(sw_loop_fd_count(loop) == 1);
    //  The server hangs up: FAILED, then retried
    close(peer);
    reason[0] = 0;
    s_pump_until(loop, router, s, SW_STATUS_FAILED, 2000, reason,
                 sizeof reason);
    assert(strstr(reason, "closed by the server"));
    //  Logout completes at once (no device to unlink)
    assert(sw_session_logout(s) == 0);
    sw_session_finish(&s, 0, NULL, NULL);
    assert(sw_loop_fd_count(loop) == 0);
    close(lsock);

    sw_host_destroy(&host);
    cm_client_destroy(&store);
    sw_engine_destroy(&engine);
    zsock_destroy(&router);
    sw_loop_destroy(&loop);
    sw_config_destroy(&config);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
