/*  wd_sender - many HTTP POSTs at once over libcurl multi, fairly shared
    between targets

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "wd_classes.h"

//  Most response body bytes we read (and discard) per request.
#define WD_SENDER_RESPONSE_MAX (64 * 1024)

typedef struct _s_target_t s_target_t;

//  One request, from post to callback.
typedef struct {
    wd_sender_t *sender;         //  owner
    s_target_t *target;          //  its target
    CURL *easy;                  //  curl handle once started
    struct curl_slist *headers;  //  request headers
    char *body;                  //  request body
    size_t len;                  //  body length
    wd_sender_fn *fn;            //  completion callback
    void *arg;                   //  its argument
    int64_t start_mono;          //  monotonic ms at start
    int64_t start_ms;            //  epoch ms at start
    size_t received;             //  response bytes read
    void *running_handle;        //  its place in sender->running
    const char *fail;            //  why it could not start, or NULL
    bool refused;                //  the policy refused an address
    char error[CURL_ERROR_SIZE]; //  curl's error text
} s_req_t;

//  Requests to one URL.
struct _s_target_t {
    char *url;       //  the target (hash key)
    int in_flight;   //  requests started and not completed
    zlistx_t *queue; //  s_req_t waiting for a slot (not owned)
    bool waiting;    //  in sender->waiting
    bool checked;    //  connections go through the policy
    bool fresh;      //  checked, and the trusted URL's origin: no reuse
};

//  A socket curl asked us to watch.
typedef struct {
    curl_socket_t fd; //  the socket
    short events;     //  ZMQ_POLLIN / ZMQ_POLLOUT
} s_sock_t;

struct _wd_sender_t {
    CURLM *multi;         //  curl multi handle
    int max_in_flight;    //  global bound
    int per_target;       //  bound per URL
    int timeout_ms;       //  per request
    int in_flight;        //  requests started
    size_t queued;        //  requests in target queues
    zhashx_t *targets;    //  url -> s_target_t, owned
    zlistx_t *waiting;    //  s_target_t with work blocked by the global
                          //  bound, oldest first (not owned)
    zlistx_t *failed;     //  s_req_t that could not start (not owned)
    zlistx_t *running;    //  s_req_t started (not owned)
    s_sock_t *socks;      //  sockets curl watches
    size_t sock_count;    //  used entries
    size_t sock_cap;      //  allocated entries
    int64_t timer_at;     //  monotonic ms curl wants a timeout, or -1
    char user_agent[64];  //  "Wharf/<version>"
    cm_net_t *net;        //  address policy, or NULL
    char *trusted_url;    //  URL the policy spares, or NULL
    char *trusted_origin; //  its "scheme://host:port", or NULL
};

static void
s_target_free(void **item_p)
{
    s_target_t *t = (s_target_t *)*item_p;
    if (t) {
        zlistx_destroy(&t->queue);
        free(t->url);
        free(t);
        *item_p = NULL;
    }
}

static int
s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    wd_sender_t *self = (wd_sender_t *)userp;
    size_t i = 0;
    while (i < self->sock_count && self->socks[i].fd != fd) {
        i++;
    }
    if (what == CURL_POLL_REMOVE) {
        if (i < self->sock_count) {
            self->socks[i] = self->socks[--self->sock_count];
        }
        return 0;
    }
    if (i == self->sock_count) {
        if (self->sock_count == self->sock_cap) {
            size_t cap = self->sock_cap ? self->sock_cap * 2 : 64;
            s_sock_t *grown = cm_alloc(cap * sizeof *grown);
            if (self->sock_count) {
                memcpy(grown, self->socks, self->sock_count * sizeof *grown);
            }
            free(self->socks);
            self->socks = grown;
            self->sock_cap = cap;
        }
        self->socks[self->sock_count++].fd = fd;
    }
    short events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) {
        events |= ZMQ_POLLIN;
    }
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
        events |= ZMQ_POLLOUT;
    }
    self->socks[i].events = events;
    return 0;
}

static int
s_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    wd_sender_t *self = (wd_sender_t *)userp;
    self->timer_at = timeout_ms < 0 ? -1 : cm_mono_ms() + timeout_ms;
    return 0;
}

static size_t
s_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    s_req_t *req = (s_req_t *)userp;
    size_t n = size * nmemb;
    req->received += n;
    //  Returning less than n aborts the transfer: a receiver that sends
    //  an endless body cannot keep a slot forever.
    return req->received > WD_SENDER_RESPONSE_MAX ? 0 : n;
}

wd_sender_t *
wd_sender_new(int max_in_flight, int per_target, int timeout_ms)
{
    assert(max_in_flight > 0 && per_target > 0 && timeout_ms > 0);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cm_log_error("could not initialize libcurl");
        return NULL;
    }
    wd_sender_t *self = cm_alloc(sizeof *self);
    self->multi = curl_multi_init();
    if (!self->multi) {
        cm_log_error("could not create curl multi handle");
        free(self);
        curl_global_cleanup();
        return NULL;
    }
    self->max_in_flight = max_in_flight;
    self->per_target = per_target;
    self->timeout_ms = timeout_ms;
    self->targets = zhashx_new();
    zhashx_set_destructor(self->targets, s_target_free);
    self->waiting = zlistx_new();
    self->failed = zlistx_new();
    self->running = zlistx_new();
    self->timer_at = -1;
    snprintf(self->user_agent, sizeof self->user_agent, "Wharf/%s",
             WHARF_VERSION);
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERDATA, self);
    curl_multi_setopt(self->multi, CURLMOPT_MAXCONNECTS, (long)max_in_flight);
    return self;
}

static void
s_req_destroy(s_req_t **req_p)
{
    s_req_t *req = *req_p;
    if (req) {
        if (req->easy) {
            curl_multi_remove_handle(req->sender->multi, req->easy);
            curl_easy_cleanup(req->easy);
        }
        curl_slist_free_all(req->headers);
        free(req->body);
        free(req);
        *req_p = NULL;
    }
}

void
wd_sender_destroy(wd_sender_t **self_p)
{
    assert(self_p);
    wd_sender_t *self = *self_p;
    if (!self) {
        return;
    }
    //  Started requests, including those that failed to start.
    s_req_t *req;
    while ((req = (s_req_t *)zlistx_detach(self->running, NULL))) {
        s_req_destroy(&req);
    }
    zlistx_t *keys = zhashx_keys(self->targets);
    for (const char *k = (const char *)zlistx_first(keys); k;
         k = (const char *)zlistx_next(keys)) {
        s_target_t *t = (s_target_t *)zhashx_lookup(self->targets, k);
        while ((req = (s_req_t *)zlistx_detach(t->queue, NULL))) {
            s_req_destroy(&req);
        }
    }
    zlistx_destroy(&keys);
    zhashx_destroy(&self->targets);
    zlistx_destroy(&self->waiting);
    zlistx_destroy(&self->failed);
    zlistx_destroy(&self->running);
    curl_multi_cleanup(self->multi);
    free(self->socks);
    cm_net_destroy(&self->net);
    free(self->trusted_url);
    free(self->trusted_origin);
    free(self);
    curl_global_cleanup();
    *self_p = NULL;
}

//  "scheme://host:port" of `url` (default port filled in), lower case;
//  NULL when curl cannot parse it. Caller owns return value.
static char *
s_origin(const char *url)
{
    CURLU *u = curl_url();
    char *origin = NULL;
    char *scheme = NULL;
    char *host = NULL;
    char *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
            CURLUE_OK) {
        origin = cm_sprintf("%s://%s:%s", scheme, host, port);
        for (char *c = origin; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return origin;
}

void
wd_sender_set_policy(wd_sender_t *self, cm_net_t **net_p,
                     const char *trusted_url)
{
    assert(self && net_p && *net_p);
    cm_net_destroy(&self->net);
    free(self->trusted_url);
    free(self->trusted_origin);
    self->net = *net_p;
    *net_p = NULL;
    self->trusted_url = trusted_url ? cm_strdup(trusted_url) : NULL;
    self->trusted_origin = trusted_url ? s_origin(trusted_url) : NULL;
}

//  curl's socket opener for checked requests: refuses what the policy
//  does not permit (after DNS, for every connection, redirects none).
static curl_socket_t
s_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
    s_req_t *req = (s_req_t *)arg;
    (void)purpose;
    if (!cm_net_permitted(req->sender->net, &address->addr)) {
        req->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

//  Start `req` now; on failure it goes to the failed list.
static void
s_start(wd_sender_t *self, s_req_t *req)
{
    req->start_mono = cm_mono_ms();
    req->start_ms = cm_now_ms();
    req->target->in_flight++;
    self->in_flight++;
    req->running_handle = zlistx_add_end(self->running, req);
    req->easy = curl_easy_init();
    if (!req->easy) {
        req->fail = "could not create curl handle";
        zlistx_add_end(self->failed, req);
        return;
    }
    CURL *e = req->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->target->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, self->user_agent);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)self->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)self->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (req->target->checked) {
        //  No proxy from the environment: it would connect for us
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, s_open_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, req);
        if (req->target->fresh) {
            curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        }
    }
    CURLMcode rc = curl_multi_add_handle(self->multi, e);
    if (rc != CURLM_OK) {
        cm_log_warn("could not add request to curl", "reason=\"%s\"",
                    curl_multi_strerror(rc));
        req->fail = "could not start request";
        curl_easy_cleanup(req->easy);
        req->easy = NULL;
        zlistx_add_end(self->failed, req);
    }
}

//  Start queued requests while slots are free. Targets take turns: each
//  start sends its target to the back of the line, so a target with a
//  long queue cannot starve the others of global slots.
static void
s_pump(wd_sender_t *self, s_target_t *target)
{
    if (target && zlistx_size(target->queue) > 0 &&
        target->in_flight < self->per_target && !target->waiting) {
        target->waiting = true;
        zlistx_add_end(self->waiting, target);
    }
    while (self->in_flight < self->max_in_flight &&
           zlistx_size(self->waiting) > 0) {
        s_target_t *t = (s_target_t *)zlistx_detach(self->waiting, NULL);
        t->waiting = false;
        if (zlistx_size(t->queue) == 0 || t->in_flight >= self->per_target) {
            continue;
        }
        s_req_t *req = (s_req_t *)zlistx_detach(t->queue, NULL);
        self->queued--;
        s_start(self, req);
        if (zlistx_size(t->queue) > 0 && t->in_flight < self->per_target) {
            t->waiting = true;
            zlistx_add_end(self->waiting, t);
        }
    }
}

void
wd_sender_post(wd_sender_t *self, const char *url,
               struct curl_slist **headers_p, char **body_p, size_t len,
               wd_sender_fn *fn, void *arg)
{
    assert(self && url && headers_p && body_p && fn);
    s_req_t *req = cm_alloc(sizeof *req);
    req->sender = self;
    req->headers = *headers_p;
    *headers_p = NULL;
    req->body = *body_p;
    *body_p = NULL;
    req->len = len;
    req->fn = fn;
    req->arg = arg;
    s_target_t *t = (s_target_t *)zhashx_lookup(self->targets, url);
    if (!t) {
        t = cm_alloc(sizeof *t);
        t->url = cm_strdup(url);
        t->queue = zlistx_new();
        if (self->net &&
            !(self->trusted_url && cm_streq(url, self->trusted_url))) {
            t->checked = true;
            char *origin = s_origin(url);
            t->fresh = !origin || (self->trusted_origin &&
                                   cm_streq(origin, self->trusted_origin));
            free(origin);
        }
        zhashx_insert(self->targets, url, t);
    }
    req->target = t;
    zlistx_add_end(t->queue, req);
    self->queued++;
    s_pump(self, t);
}

size_t
wd_sender_load(wd_sender_t *self, const char *url)
{
    s_target_t *t = (s_target_t *)zhashx_lookup(self->targets, url);
    return t ? (size_t)t->in_flight + zlistx_size(t->queue) : 0;
}

bool
wd_sender_saturated(wd_sender_t *self, const char *url)
{
    return wd_sender_load(self, url) >= (size_t)self->per_target;
}

size_t
wd_sender_active(wd_sender_t *self)
{
    return (size_t)self->in_flight + self->queued;
}

int
wd_sender_poll_items(wd_sender_t *self, zmq_pollitem_t *items, int max)
{
    int n = 0;
    for (size_t i = 0; i < self->sock_count && n < max; i++) {
        items[n].socket = NULL;
        items[n].fd = self->socks[i].fd;
        items[n].events = self->socks[i].events;
        items[n].revents = 0;
        n++;
    }
    return n;
}

int
wd_sender_timeout(wd_sender_t *self)
{
    if (zlistx_size(self->failed) > 0) {
        return 0;
    }
    if (self->timer_at < 0) {
        return -1;
    }
    int64_t left = self->timer_at - cm_mono_ms();
    return left < 0 ? 0 : (int)left;
}

//  Report `req` to its callback, free it and refill slots.
static void
s_finish(wd_sender_t *self, s_req_t *req, CURLcode code)
{
    wd_outcome_t out = {0};
    out.at_ms = req->start_ms;
    out.latency_ms = (int)(cm_mono_ms() - req->start_mono);
    char why[CURL_ERROR_SIZE + 32];
    if (req->fail) {
        out.error = req->fail;
    } else {
        long status = 0;
        curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
        out.http_status = (int)status;
        if (code != CURLE_OK && req->refused) {
            snprintf(why, sizeof why,
                     "the address is not allowed (loopback, private, "
                     "link-local or reserved; DISPATCHER_ALLOW)");
            out.error = why;
        } else if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && status)) {
            snprintf(why, sizeof why, "%s",
                     *req->error ? req->error : curl_easy_strerror(code));
            out.error = why;
        } else if (status < 200 || status > 299) {
            snprintf(why, sizeof why, "HTTP %ld", status);
            out.error = why;
        }
    }
    zlistx_detach(self->running, req->running_handle);
    s_target_t *t = req->target;
    t->in_flight--;
    self->in_flight--;
    wd_sender_fn *fn = req->fn;
    void *arg = req->arg;
    fn(&out, arg);
    s_req_destroy(&req);
    s_pump(self, t);
    if (t->in_flight == 0 && zlistx_size(t->queue) == 0 && !t->waiting) {
        zhashx_delete(self->targets, t->url);
    }
}

void
wd_sender_process(wd_sender_t *self, zmq_pollitem_t *items, int count)
{
    int running = 0;
    for (int i = 0; i < count; i++) {
        if (items[i].socket || !items[i].revents) {
            continue;
        }
        int mask = 0;
        if (items[i].revents & ZMQ_POLLIN) {
            mask |= CURL_CSELECT_IN;
        }
        if (items[i].revents & ZMQ_POLLOUT) {
            mask |= CURL_CSELECT_OUT;
        }
        if (items[i].revents & ZMQ_POLLERR) {
            mask |= CURL_CSELECT_ERR;
        }
        curl_multi_socket_action(self->multi, items[i].fd, mask, &running);
    }
    if (self->timer_at >= 0 && cm_mono_ms() >= self->timer_at) {
        self->timer_at = -1;
        curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        s_req_t *req = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
        assert(req);
        s_finish(self, req, msg->data.result);
    }
    s_req_t *req;
    while ((req = (s_req_t *)zlistx_detach(self->failed, NULL))) {
        s_finish(self, req, CURLE_OK);
    }
}

//  ---------------------------------------------------------------------
//  Self test: a libmicrohttpd receiver on 127.0.0.1 (its own threads,
//  test only).

#include <microhttpd.h>

#include "wd_receiver.h"

//  What the test receiver saw.
typedef struct {
    zlistx_t *paths;     //  request paths in arrival order (strings)
    char last_body[256]; //  body of the last /ok request
    char last_ua[64];    //  its User-Agent
    char last_x[64];     //  its X-Test header
} s_seen_t;

static unsigned
s_request(struct MHD_Connection *conn, const char *url, const char *body,
          size_t len, void *arg)
{
    s_seen_t *seen = (s_seen_t *)arg;
    //  The receiver's threads only append to a zlistx guarded by the test
    //  reading it after the sender loop; good enough for a self test.
    zlistx_add_end(seen->paths, (void *)url);
    unsigned status = 200;
    if (strcmp(url, "/ok") == 0) {
        snprintf(seen->last_body, sizeof seen->last_body, "%s", body);
        snprintf(seen->last_ua, sizeof seen->last_ua, "%s",
                 wd_receiver_header(conn, "User-Agent"));
        snprintf(seen->last_x, sizeof seen->last_x, "%s",
                 wd_receiver_header(conn, "X-Test"));
    } else if (strcmp(url, "/fail") == 0) {
        status = 503;
    } else if (strcmp(url, "/slow") == 0) {
        zclock_sleep(300);
    } else if (strcmp(url, "/hang") == 0) {
        zclock_sleep(1500);
    }
    return status;
}

//  Collects outcomes in the test.
typedef struct {
    int count;          //  callbacks so far
    int status[16];     //  http_status by tag
    char error[16][64]; //  error by tag
    int order[16];      //  tags in completion order
} s_results_t;

typedef struct {
    s_results_t *results;
    int tag;
} s_tag_t;

static void
s_done(const wd_outcome_t *out, void *arg)
{
    s_tag_t *tag = (s_tag_t *)arg;
    s_results_t *r = tag->results;
    r->status[tag->tag] = out->http_status;
    snprintf(r->error[tag->tag], sizeof r->error[0], "%s",
             out->error ? out->error : "");
    assert(out->at_ms > 0 && out->latency_ms >= 0);
    r->order[r->count++] = tag->tag;
}

static void
s_post(wd_sender_t *sender, const char *base, const char *path, s_tag_t *tag)
{
    char *url = cm_sprintf("%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, "X-Test: yes");
    h = curl_slist_append(h, "Content-Type: application/json");
    char *body = cm_strdup("{\"n\":1}");
    wd_sender_post(sender, url, &h, &body, strlen("{\"n\":1}"), s_done, tag);
    assert(!h && !body);
    free(url);
}

static void
s_run(wd_sender_t *sender, s_results_t *r, int want, int limit_ms)
{
    int64_t until = cm_mono_ms() + limit_ms;
    while (r->count < want && cm_mono_ms() < until) {
        zmq_pollitem_t items[64];
        int n = wd_sender_poll_items(sender, items, 64);
        int t = wd_sender_timeout(sender);
        if (t < 0 || t > 50) {
            t = 50;
        }
        zmq_poll(items, n, t);
        wd_sender_process(sender, items, n);
    }
    assert(r->count == want);
}

void
wd_sender_test(bool verbose)
{
    printf(" * wd_sender: ");
    s_seen_t seen = {0};
    seen.paths = zlistx_new();
    wd_receiver_opts_t rx_opts = {.flags = MHD_USE_INTERNAL_POLLING_THREAD |
                                           MHD_USE_THREAD_PER_CONNECTION};
    wd_receiver_t *rx = wd_receiver_new(&rx_opts, s_request, &seen);
    assert(rx);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", wd_receiver_port(rx));

    s_results_t r = {0};
    s_tag_t tags[16];
    for (int i = 0; i < 16; i++) {
        tags[i].results = &r;
        tags[i].tag = i;
    }

    //  Success, failure status, refused connection
    wd_sender_t *sender = wd_sender_new(8, 2, 1000);
    assert(sender);
    s_post(sender, base, "/ok", &tags[0]);
    s_post(sender, base, "/fail", &tags[1]);
    s_post(sender, "http://127.0.0.1:1", "/x", &tags[2]);
    s_run(sender, &r, 3, 5000);
    assert(r.status[0] == 200 && !*r.error[0]);
    assert(cm_streq(seen.last_body, "{\"n\":1}"));
    assert(cm_streq(seen.last_x, "yes"));
    assert(strncmp(seen.last_ua, "Wharf/", 6) == 0);
    assert(r.status[1] == 503 && cm_streq(r.error[1], "HTTP 503"));
    assert(r.status[2] == 0 && *r.error[2]);

    //  A slow target holds only its own slots: five slow requests with
    //  two slots, then a fast one that overtakes them.
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 5; i++) {
        s_post(sender, base, "/slow", &tags[i]);
    }
    char *slow = cm_sprintf("%s/slow", base);
    assert(wd_sender_load(sender, slow) == 5);
    assert(wd_sender_saturated(sender, slow));
    assert(wd_sender_active(sender) == 5);
    s_post(sender, base, "/ok", &tags[5]);
    s_run(sender, &r, 6, 10000);
    assert(r.order[0] == 5);
    for (int i = 0; i < 5; i++) {
        assert(r.status[i] == 200);
    }
    assert(wd_sender_load(sender, slow) == 0);
    assert(!wd_sender_saturated(sender, slow));
    free(slow);
    wd_sender_destroy(&sender);

    //  The global bound: one slot in total, requests still all complete
    //  and take turns between targets.
    sender = wd_sender_new(1, 4, 1000);
    memset(&r, 0, sizeof r);
    s_post(sender, base, "/slow", &tags[0]);
    s_post(sender, base, "/slow", &tags[1]);
    s_post(sender, base, "/slow", &tags[2]);
    s_post(sender, base, "/ok", &tags[3]);
    s_run(sender, &r, 4, 10000);
    assert(r.order[0] == 0 && r.order[1] == 1 && r.order[2] == 3 &&
           r.order[3] == 2);

    //  A request that takes longer than the timeout fails
    wd_sender_destroy(&sender);
    sender = wd_sender_new(4, 4, 300);
    memset(&r, 0, sizeof r);
    s_post(sender, base, "/hang", &tags[0]);
    s_run(sender, &r, 1, 5000);
    if (verbose) {
        fprintf(stderr, "timeout error: %d %s\n", r.status[0], r.error[0]);
    }
    assert(r.status[0] == 0 && strstr(r.error[0], "timed out"));

    //  Address policy: the trusted URL passes; any other URL to
    //  loopback is refused, the trusted one's host and port included
    //  (its kept-alive connection is not reused), by name too
    wd_sender_destroy(&sender);
    sender = wd_sender_new(4, 4, 1000);
    char *trusted = cm_sprintf("%s/ok", base);
    cm_net_t *net = cm_net_new("");
    wd_sender_set_policy(sender, &net, trusted);
    assert(net == NULL);
    memset(&r, 0, sizeof r);
    size_t before = zlistx_size(seen.paths);
    s_post(sender, base, "/ok", &tags[0]);
    s_run(sender, &r, 1, 5000);
    assert(r.status[0] == 200);
    s_post(sender, base, "/other", &tags[1]);
    s_run(sender, &r, 2, 5000);
    if (verbose) {
        fprintf(stderr, "refused: %d %s\n", r.status[1], r.error[1]);
    }
    assert(r.status[1] == 0 && strstr(r.error[1], "not allowed"));
    char local[64];
    snprintf(local, sizeof local, "http://localhost:%u", wd_receiver_port(rx));
    s_post(sender, local, "/x", &tags[2]);
    s_run(sender, &r, 3, 5000);
    assert(r.status[2] == 0 && strstr(r.error[2], "not allowed"));
    assert(zlistx_size(seen.paths) == before + 1);
    //  Allowed by the list
    net = cm_net_new("127.0.0.1");
    wd_sender_set_policy(sender, &net, NULL);
    s_post(sender, base, "/other", &tags[3]);
    s_run(sender, &r, 4, 5000);
    assert(r.status[3] == 200);
    free(trusted);

    //  Destroy with requests in flight and queued: no callbacks, no leaks
    wd_sender_destroy(&sender);
    sender = wd_sender_new(1, 1, 1000);
    wd_sender_destroy(&sender);
    sender = wd_sender_new(1, 1, 1000);
    memset(&r, 0, sizeof r);
    s_post(sender, base, "/slow", &tags[0]);
    s_post(sender, base, "/slow", &tags[1]);
    zmq_pollitem_t items[8];
    int n = wd_sender_poll_items(sender, items, 8);
    zmq_poll(items, n, 10);
    wd_sender_process(sender, items, n);
    wd_sender_destroy(&sender);
    wd_sender_destroy(&sender);
    assert(r.count == 0);

    wd_receiver_destroy(&rx);
    zlistx_destroy(&seen.paths);
    printf("OK\n");
}
