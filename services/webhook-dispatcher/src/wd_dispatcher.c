/*  wd_dispatcher - the webhook delivery loop

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "wd_classes.h"

//  Wait before resending a report or the start-up release that failed.
#define WD_BACKOFF_MS 1000
//  Longest error text stored per attempt.
#define WD_ERROR_MAX 512
//  Most results per delivery.result message.
#define WD_REPORT_MAX 2000
//  Most streams one claim asks for (bounds the reply size; claims repeat
//  while they come back full).
#define WD_CLAIM_STREAMS 200
//  Streams held per URL, in multiples of DISPATCHER_PER_TARGET: the extra
//  ones wait in the sender's queue, so a URL's slots stay busy while
//  finished streams are reported and new ones claimed.
#define WD_STREAMS_PER_SLOT 4
//  First prune this long after start.
#define WD_FIRST_PRUNE_MS 10000

//  A delivery claimed from the store, waiting to be sent.
typedef struct {
    int64_t id;   //  delivery id
    json_t *hook; //  webhook config in full form (reference)
    char *body;   //  exact request body (moved to the sender)
    size_t len;   //  body length
    int attempts; //  attempts made before this claim
} s_delivery_t;

//  Deliveries of one session to one URL, sent one at a time in order.
typedef struct {
    wd_dispatcher_t *owner; //  the dispatcher
    char *key;              //  "session\x1furl" (hash key)
    char *session;          //  session name
    char *url;              //  webhook URL
    zlistx_t *queue;        //  s_delivery_t in order, owned; head in flight
    bool sending;           //  head is in the sender
    char request_id[40];    //  X-Webhook-Request-Id of the head's request
    uint64_t claim;         //  number of the claim that created it
} s_stream_t;

struct _wd_dispatcher_t {
    const wd_config_t *config;   //  settings (borrowed)
    cm_client_t *store;          //  DEALER to the store-services
    zsock_t *sub;                //  SUB for event.new
    wd_sender_t *sender;         //  HTTP requests; NULL once stopped
    zhashx_t *streams;           //  key -> s_stream_t, owned
    json_t *results;             //  attempts not yet reported
    json_t *release;             //  streams to release in the next report
    json_t *reporting_results;   //  attempts in the report in flight
    json_t *reporting_release;   //  releases in the report in flight
    bool ready;                  //  start-up release done
    bool release_inflight;       //  start-up release sent
    bool fanout_inflight;        //  delivery.fanout sent
    bool claim_inflight;         //  delivery.claim sent
    bool report_inflight;        //  delivery.result sent
    bool renew_inflight;         //  delivery.renew sent
    bool prune_inflight;         //  delivery.prune sent
    bool fanout_due;             //  fan out at the next chance
    bool claim_due;              //  claim at the next chance
    bool stopping;               //  no new work
    int64_t next_poll;           //  mono ms of the next periodic poll
    int64_t next_renew;          //  mono ms of the next lease renewal
    int64_t next_prune;          //  mono ms of the next prune
    int64_t retry_at;            //  mono ms before which no resend
    int64_t next_due;            //  mono ms a retry becomes due, or 0
    int64_t last_warn;           //  mono ms of the last store warning
    uint64_t claim_count;        //  claim replies handled
    int64_t claim_sent;          //  mono ms the claim in flight was sent
    int64_t report_sent;         //  mono ms the report in flight was sent
    int64_t fanout_sent;         //  mono ms the fan-out in flight was sent
    wd_dispatcher_stats_t stats; //  counters
    zmq_pollitem_t *items;       //  poll items
    int items_cap;               //  their number
};

static void
s_delivery_free(void **item_p)
{
    s_delivery_t *d = (s_delivery_t *)*item_p;
    if (d) {
        json_decref(d->hook);
        free(d->body);
        free(d);
        *item_p = NULL;
    }
}

static void
s_stream_free(void **item_p)
{
    s_stream_t *s = (s_stream_t *)*item_p;
    if (s) {
        zlistx_destroy(&s->queue);
        free(s->key);
        free(s->session);
        free(s->url);
        free(s);
        *item_p = NULL;
    }
}

wd_dispatcher_t *
wd_dispatcher_new(const wd_config_t *config)
{
    assert(config);
    wd_dispatcher_t *self = cm_alloc(sizeof *self);
    self->config = config;
    self->store = cm_client_new(config->store_endpoints);
    if (!self->store) {
        cm_log_error("could not connect to store", "endpoints=\"%s\"",
                     config->store_endpoints);
        wd_dispatcher_destroy(&self);
        return NULL;
    }
    self->sub = zsock_new(ZMQ_SUB);
    assert(self->sub);
    cm_msg_sock_defaults(self->sub);
    char *list = cm_strdup(config->pub_endpoints);
    char *save = NULL;
    for (char *ep = strtok_r(list, ",", &save); ep;
         ep = strtok_r(NULL, ",", &save)) {
        while (*ep == ' ') {
            ep++;
        }
        if (*ep && zsock_connect(self->sub, "%s", ep) != 0) {
            cm_log_error("could not connect notification socket",
                         "endpoint=\"%s\"", ep);
            free(list);
            wd_dispatcher_destroy(&self);
            return NULL;
        }
    }
    free(list);
    zsock_set_subscribe(self->sub, "event.new");
    self->sender = wd_sender_new(config->max_in_flight, config->per_target,
                                 config->timeout_ms);
    if (!self->sender) {
        wd_dispatcher_destroy(&self);
        return NULL;
    }
    //  Sessions' webhooks are callers' URLs; the global one is the
    //  operator's own
    cm_net_t *net = cm_net_new(config->allow);
    assert(net); //  checked by wd_config
    json_t *global_url = config->global_hook
                             ? json_object_get(config->global_hook, "url")
                             : NULL;
    wd_sender_set_policy(self->sender, &net,
                         global_url ? json_string_value(global_url) : NULL);
    self->streams = zhashx_new();
    zhashx_set_destructor(self->streams, s_stream_free);
    self->results = json_array();
    self->release = json_array();
    self->items_cap = 1 + (int)cm_client_sock_count(self->store) +
                      2 * config->max_in_flight + 64;
    self->items = cm_alloc((size_t)self->items_cap * sizeof *self->items);
    int64_t now = cm_mono_ms();
    self->next_poll = now;
    self->next_prune = now + WD_FIRST_PRUNE_MS;
    return self;
}

void
wd_dispatcher_destroy(wd_dispatcher_t **self_p)
{
    assert(self_p);
    wd_dispatcher_t *self = *self_p;
    if (!self) {
        return;
    }
    //  The sender first: it calls back into streams.
    wd_sender_destroy(&self->sender);
    zhashx_destroy(&self->streams);
    json_decref(self->results);
    json_decref(self->release);
    json_decref(self->reporting_results);
    json_decref(self->reporting_release);
    zsock_destroy(&self->sub);
    cm_client_destroy(&self->store);
    free(self->items);
    free(self);
    *self_p = NULL;
}

wd_dispatcher_stats_t
wd_dispatcher_stats(wd_dispatcher_t *self)
{
    self->stats.streams = zhashx_size(self->streams);
    return self->stats;
}

//  The host part of a URL, for logs: paths and queries can carry
//  secrets, hosts do not.
static void
s_url_host(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(out, size, "%.*s", (int)n, p);
}

//  Log a store failure at most once a second.
static void
s_store_warn(wd_dispatcher_t *self, const char *what, cm_msg_t *reply)
{
    int64_t now = cm_mono_ms();
    if (now - self->last_warn >= 1000) {
        self->last_warn = now;
        cm_log_warn("store request failed", "type=%s st=%d reason=\"%s\"", what,
                    cm_msg_status(reply),
                    cm_msg_reason(reply) ? cm_msg_reason(reply) : "");
    }
}

static bool
s_ok(cm_msg_t *reply)
{
    int st = cm_msg_status(reply);
    return st >= 200 && st < 300;
}

//  ---------------------------------------------------------------------
//  Sending

static void s_send_head(wd_dispatcher_t *self, s_stream_t *stream);

//  Stop holding a stream: its release goes out with the next report.
static void
s_stream_done(wd_dispatcher_t *self, s_stream_t *stream)
{
    json_array_append_new(self->release,
                          json_pack("{s:s, s:s}", "session", stream->session,
                                    "url", stream->url));
    zhashx_delete(self->streams, stream->key);
}

static void
s_on_outcome(const wd_outcome_t *out, void *arg)
{
    s_stream_t *stream = (s_stream_t *)arg;
    wd_dispatcher_t *self = stream->owner;
    s_delivery_t *d = (s_delivery_t *)zlistx_first(stream->queue);
    assert(d && stream->sending);
    stream->sending = false;
    bool ok = out->error == NULL;
    self->stats.sent++;
    if (ok) {
        self->stats.ok++;
    } else {
        self->stats.failed++;
    }
    json_t *r =
        json_pack("{s:I, s:s, s:b, s:I, s:I}", "id", (json_int_t)d->id,
                  "request_id", stream->request_id, "ok", ok, "latency_ms",
                  (json_int_t)out->latency_ms, "at", (json_int_t)out->at_ms);
    json_object_set_new(r, "http_status",
                        out->http_status ? json_integer(out->http_status)
                                         : json_null());
    if (out->error) {
        char err[WD_ERROR_MAX + 1];
        snprintf(err, sizeof err, "%s", out->error);
        json_object_set_new(r, "error", json_string(err));
    }
    json_array_append_new(self->results, r);
    char host[256];
    s_url_host(stream->url, host, sizeof host);
    if (ok) {
        cm_log_debug("delivered webhook",
                     "delivery=%" PRId64
                     " session=\"%s\" host=\"%s\" status=%d latency_ms=%d",
                     d->id, stream->session, host, out->http_status,
                     out->latency_ms);
    } else {
        cm_log_info("webhook attempt failed",
                    "delivery=%" PRId64
                    " session=\"%s\" host=\"%s\" attempt=%d status=%d "
                    "latency_ms=%d error=\"%s\"",
                    d->id, stream->session, host, d->attempts + 1,
                    out->http_status, out->latency_ms, out->error);
    }
    zlistx_delete(stream->queue, NULL);
    //  After a failure the rest of the stream waits for the retry, so
    //  order holds; after a success the next one goes at once.
    if (ok && !self->stopping && zlistx_size(stream->queue) > 0) {
        s_send_head(self, stream);
    } else {
        s_stream_done(self, stream);
    }
}

static struct curl_slist *s_header(struct curl_slist *list, const char *fmt,
                                   ...) __attribute__((format(printf, 2, 3)));

static struct curl_slist *
s_header(struct curl_slist *list, const char *fmt, ...)
{
    char line[CM_WEBHOOK_HEADER_NAME_MAX + CM_WEBHOOK_HEADER_VALUE_MAX + 8];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    struct curl_slist *grown = curl_slist_append(list, line);
    if (!grown) {
        fprintf(stderr, "out of memory building headers\n");
        abort();
    }
    return grown;
}

static void
s_send_head(wd_dispatcher_t *self, s_stream_t *stream)
{
    s_delivery_t *d = (s_delivery_t *)zlistx_first(stream->queue);
    assert(d && d->body && !stream->sending);
    uint8_t rnd[16];
    cm_random(rnd, sizeof rnd);
    char hex[33];
    cm_hex(rnd, sizeof rnd, hex);
    snprintf(stream->request_id, sizeof stream->request_id, "req_%s", hex);

    struct curl_slist *h = NULL;
    h = s_header(h, "Content-Type: application/json");
    //  No "Expect: 100-continue" round trip for larger bodies.
    h = s_header(h, "Expect:");
    h = s_header(h, "X-Webhook-Request-Id: %s", stream->request_id);
    h = s_header(h, "X-Webhook-Timestamp: %" PRId64, cm_now_ms());
    const char *key = json_string_value(
        json_object_get(json_object_get(d->hook, "hmac"), "key"));
    if (key && *key) {
        char mac[CM_WEBHOOK_HMAC_HEX_SIZE];
        cm_webhook_hmac_hex(key, d->body, d->len, mac);
        h = s_header(h, "X-Webhook-Hmac: %s", mac);
        h = s_header(h, "X-Webhook-Hmac-Algorithm: sha512");
    }
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(d->hook, "customHeaders"), i, ch)
    {
        const char *name = json_string_value(json_object_get(ch, "name"));
        const char *value = json_string_value(json_object_get(ch, "value"));
        if (!name || !value) {
            continue;
        }
        //  curl sends "Name;" as an empty header; "Name:" would remove it.
        h = *value ? s_header(h, "%s: %s", name, value)
                   : s_header(h, "%s;", name);
    }
    stream->sending = true;
    wd_sender_post(self->sender, stream->url, &h, &d->body, d->len,
                   s_on_outcome, stream);
}

//  ---------------------------------------------------------------------
//  Store requests

static void
s_send(wd_dispatcher_t *self, cm_msg_t **msg_p, cm_client_fn *fn)
{
    cm_client_send(self->store, msg_p, self->config->store_timeout_ms, fn,
                   self);
}

static void
s_on_release(cm_msg_t **reply_p, void *arg)
{
    wd_dispatcher_t *self = (wd_dispatcher_t *)arg;
    self->release_inflight = false;
    if (!s_ok(*reply_p)) {
        s_store_warn(self, "delivery.release", *reply_p);
        self->retry_at = cm_mono_ms() + WD_BACKOFF_MS;
        return;
    }
    self->ready = true;
    self->fanout_due = true;
    self->claim_due = true;
    cm_log_info("ready", "dispatcher=\"%s\" released=%" PRId64,
                self->config->id, cm_msg_int(*reply_p, "released", 0));
}

static void
s_on_fanout(cm_msg_t **reply_p, void *arg)
{
    wd_dispatcher_t *self = (wd_dispatcher_t *)arg;
    self->fanout_inflight = false;
    if (!s_ok(*reply_p)) {
        s_store_warn(self, "delivery.fanout", *reply_p);
        return;
    }
    self->stats.fanouts++;
    cm_log_debug("fanned out",
                 "events=%" PRId64 " deliveries=%" PRId64 " ms=%" PRId64,
                 cm_msg_int(*reply_p, "events", 0),
                 cm_msg_int(*reply_p, "deliveries", 0),
                 cm_mono_ms() - self->fanout_sent);
    if (cm_msg_bool(*reply_p, "more", false)) {
        self->fanout_due = true;
    }
    if (cm_msg_int(*reply_p, "deliveries", 0) > 0) {
        self->claim_due = true;
    }
}

static void
s_fanout(wd_dispatcher_t *self)
{
    cm_msg_t *msg = cm_msg_new("delivery.fanout");
    json_t *global = json_array();
    if (self->config->global_hook) {
        json_array_append(global, self->config->global_hook);
    }
    cm_msg_set(msg, "global", global);
    cm_msg_set_int(msg, "limit", self->config->fanout_limit);
    self->fanout_due = false;
    self->fanout_inflight = true;
    self->fanout_sent = cm_mono_ms();
    s_send(self, &msg, s_on_fanout);
}

//  Take the deliveries of a claim reply into streams and start them.
static void
s_on_claim(cm_msg_t **reply_p, void *arg)
{
    wd_dispatcher_t *self = (wd_dispatcher_t *)arg;
    self->claim_inflight = false;
    cm_msg_t *reply = *reply_p;
    if (!s_ok(reply)) {
        s_store_warn(self, "delivery.claim", reply);
        return;
    }
    self->stats.claims++;
    json_t *body = cm_msg_body(reply);
    json_t *hooks = json_object_get(body, "hooks");
    json_t *list = json_object_get(body, "deliveries");
    int64_t due = cm_msg_int(reply, "next_due_ms", 0);
    if (due > 0) {
        int64_t in = due - cm_now_ms();
        self->next_due = cm_mono_ms() + (in > 0 ? in : 0);
    }
    uint64_t claim = ++self->claim_count;
    cm_log_debug("claimed", "streams=%" PRId64 " deliveries=%zu ms=%" PRId64,
                 cm_msg_int(reply, "streams", 0), json_array_size(list),
                 cm_mono_ms() - self->claim_sent);
    zlistx_t *fresh = zlistx_new();
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *session =
            json_string_value(json_object_get(item, "session"));
        const char *url = json_string_value(json_object_get(item, "url"));
        const char *body_text =
            json_string_value(json_object_get(item, "body"));
        const char *hook_id = json_string_value(json_object_get(item, "hook"));
        json_t *hook = hook_id ? json_object_get(hooks, hook_id) : NULL;
        json_t *id = json_object_get(item, "id");
        if (!session || !url || !body_text || !json_is_object(hook) ||
            !json_is_integer(id)) {
            cm_log_warn("dropped malformed claimed delivery", "index=%zu", i);
            continue;
        }
        char *key = cm_sprintf("%s\x1f%s", session, url);
        s_stream_t *stream = (s_stream_t *)zhashx_lookup(self->streams, key);
        if (stream && stream->claim != claim) {
            //  Still ours from an earlier claim (our lease ran out in
            //  between): keep sending the queue we have.
            free(key);
            continue;
        }
        if (!stream) {
            stream = cm_alloc(sizeof *stream);
            stream->owner = self;
            stream->key = key;
            stream->session = cm_strdup(session);
            stream->url = cm_strdup(url);
            stream->queue = zlistx_new();
            stream->claim = claim;
            zlistx_set_destructor(stream->queue, s_delivery_free);
            zhashx_insert(self->streams, key, stream);
            zlistx_add_end(fresh, stream);
        } else {
            free(key);
        }
        s_delivery_t *d = cm_alloc(sizeof *d);
        d->id = json_integer_value(id);
        d->hook = json_incref(hook);
        d->body = wd_body_compact(body_text, &d->len);
        d->attempts =
            (int)json_integer_value(json_object_get(item, "attempts"));
        zlistx_add_end(stream->queue, d);
    }
    for (s_stream_t *s = (s_stream_t *)zlistx_first(fresh); s;
         s = (s_stream_t *)zlistx_next(fresh)) {
        s_send_head(self, s);
    }
    //  A full claim means more may be waiting.
    if (cm_msg_int(reply, "streams", 0) > 0 &&
        zhashx_size(self->streams) < (size_t)self->config->max_streams) {
        self->claim_due = true;
    }
    zlistx_destroy(&fresh);
}

static void
s_claim(wd_dispatcher_t *self)
{
    const wd_config_t *cfg = self->config;
    size_t held = zhashx_size(self->streams);
    //  URLs with enough streams queued are left for later claims.
    zhashx_t *per_url = zhashx_new();
    json_t *skip = json_array();
    for (s_stream_t *s = (s_stream_t *)zhashx_first(self->streams); s;
         s = (s_stream_t *)zhashx_next(self->streams)) {
        size_t n = (size_t)zhashx_lookup(per_url, s->url) + 1;
        zhashx_update(per_url, s->url, (void *)n);
        if (n == (size_t)cfg->per_target * WD_STREAMS_PER_SLOT) {
            json_array_append_new(skip, json_string(s->url));
        }
    }
    zhashx_destroy(&per_url);
    cm_msg_t *msg = cm_msg_new("delivery.claim");
    cm_msg_set_str(msg, "worker", cfg->id);
    int64_t want = cfg->max_streams - (int64_t)held;
    cm_msg_set_int(msg, "max_streams",
                   want < WD_CLAIM_STREAMS ? want : WD_CLAIM_STREAMS);
    cm_msg_set_int(msg, "per_stream", cfg->batch);
    cm_msg_set_int(msg, "per_url",
                   (int64_t)cfg->per_target * WD_STREAMS_PER_SLOT);
    cm_msg_set_int(msg, "lease_ms", cfg->lease_ms);
    cm_msg_set(msg, "skip_urls", skip);
    self->claim_due = false;
    self->claim_inflight = true;
    self->claim_sent = cm_mono_ms();
    s_send(self, &msg, s_on_claim);
}

static void
s_on_report(cm_msg_t **reply_p, void *arg)
{
    wd_dispatcher_t *self = (wd_dispatcher_t *)arg;
    self->report_inflight = false;
    cm_msg_t *reply = *reply_p;
    int st = cm_msg_status(reply);
    cm_log_debug("reported", "st=%d results=%zu released=%zu ms=%" PRId64, st,
                 json_array_size(self->reporting_results),
                 json_array_size(self->reporting_release),
                 cm_mono_ms() - self->report_sent);
    if (st >= 500) {
        //  Send the same attempts again: the store ignores request ids
        //  it has already recorded. Older ones go first.
        s_store_warn(self, "delivery.result", reply);
        json_array_extend(self->reporting_results, self->results);
        json_decref(self->results);
        self->results = self->reporting_results;
        json_array_extend(self->reporting_release, self->release);
        json_decref(self->release);
        self->release = self->reporting_release;
        self->reporting_results = NULL;
        self->reporting_release = NULL;
        self->retry_at = cm_mono_ms() + WD_BACKOFF_MS;
        return;
    }
    if (st >= 400) {
        cm_log_error("store refused delivery results", "st=%d reason=\"%s\"",
                     st, cm_msg_reason(reply) ? cm_msg_reason(reply) : "");
    } else {
        self->stats.reports++;
    }
    if (json_array_size(self->reporting_release) > 0) {
        self->claim_due = true;
    }
    json_decref(self->reporting_results);
    json_decref(self->reporting_release);
    self->reporting_results = NULL;
    self->reporting_release = NULL;
}

static void
s_report(wd_dispatcher_t *self)
{
    cm_msg_t *msg = cm_msg_new("delivery.result");
    cm_msg_set_str(msg, "worker", self->config->id);
    if (json_array_size(self->results) <= WD_REPORT_MAX) {
        self->reporting_results = self->results;
        self->results = json_array();
    } else {
        //  Oversized backlog (store was away): the oldest first, and
        //  releases only with the last part so each stream's results
        //  reach the store before its release.
        self->reporting_results = json_array();
        for (size_t i = 0; i < WD_REPORT_MAX; i++) {
            json_array_append(self->reporting_results,
                              json_array_get(self->results, i));
        }
        json_t *rest = json_array();
        for (size_t i = WD_REPORT_MAX; i < json_array_size(self->results);
             i++) {
            json_array_append(rest, json_array_get(self->results, i));
        }
        json_decref(self->results);
        self->results = rest;
    }
    if (json_array_size(self->results) == 0) {
        self->reporting_release = self->release;
        self->release = json_array();
    } else {
        self->reporting_release = json_array();
    }
    cm_msg_set(msg, "results", json_incref(self->reporting_results));
    cm_msg_set(msg, "release", json_incref(self->reporting_release));
    self->report_inflight = true;
    self->report_sent = cm_mono_ms();
    s_send(self, &msg, s_on_report);
}

static void
s_on_renew(cm_msg_t **reply_p, void *arg)
{
    wd_dispatcher_t *self = (wd_dispatcher_t *)arg;
    self->renew_inflight = false;
    if (!s_ok(*reply_p)) {
        s_store_warn(self, "delivery.renew", *reply_p);
    }
}

static void
s_on_prune(cm_msg_t **reply_p, void *arg)
{
    wd_dispatcher_t *self = (wd_dispatcher_t *)arg;
    self->prune_inflight = false;
    if (!s_ok(*reply_p)) {
        s_store_warn(self, "delivery.prune", *reply_p);
        return;
    }
    int64_t n = cm_msg_int(*reply_p, "deliveries", 0);
    int64_t e = cm_msg_int(*reply_p, "events", 0);
    if (n || e) {
        cm_log_info("pruned webhook history",
                    "deliveries=%" PRId64 " events=%" PRId64, n, e);
    }
}

//  Issue whatever store requests are due.
static void
s_act(wd_dispatcher_t *self)
{
    const wd_config_t *cfg = self->config;
    int64_t now = cm_mono_ms();
    if (!self->ready) {
        if (!self->release_inflight && now >= self->retry_at &&
            !self->stopping) {
            cm_msg_t *msg = cm_msg_new("delivery.release");
            cm_msg_set_str(msg, "worker", cfg->id);
            self->release_inflight = true;
            s_send(self, &msg, s_on_release);
        }
        return;
    }
    if (!self->stopping) {
        if (now >= self->next_poll) {
            self->next_poll = now + cfg->poll_ms;
            self->fanout_due = true;
            self->claim_due = true;
        }
        if (self->next_due && now >= self->next_due) {
            self->next_due = 0;
            self->claim_due = true;
        }
        if (self->fanout_due && !self->fanout_inflight) {
            s_fanout(self);
        }
        if (self->claim_due && !self->claim_inflight &&
            zhashx_size(self->streams) < (size_t)cfg->max_streams) {
            s_claim(self);
        }
        if (cfg->retention_days > 0 && now >= self->next_prune &&
            !self->prune_inflight) {
            self->next_prune = now + cfg->prune_interval_ms;
            cm_msg_t *msg = cm_msg_new("delivery.prune");
            cm_msg_set_int(msg, "before_ms",
                           cm_now_ms() -
                               (int64_t)cfg->retention_days * 86400000);
            cm_msg_set_bool(msg, "events", cfg->prune_events);
            self->prune_inflight = true;
            s_send(self, &msg, s_on_prune);
        }
    }
    if (zhashx_size(self->streams) > 0 && now >= self->next_renew &&
        !self->renew_inflight) {
        self->next_renew = now + cfg->lease_ms / 3;
        cm_msg_t *msg = cm_msg_new("delivery.renew");
        cm_msg_set_str(msg, "worker", cfg->id);
        cm_msg_set_int(msg, "lease_ms", cfg->lease_ms);
        self->renew_inflight = true;
        s_send(self, &msg, s_on_renew);
    }
    if (!self->report_inflight && now >= self->retry_at &&
        (json_array_size(self->results) > 0 ||
         json_array_size(self->release) > 0)) {
        s_report(self);
    }
}

//  Milliseconds the next poll may wait.
static int
s_wait_ms(wd_dispatcher_t *self, int max_wait_ms)
{
    int64_t now = cm_mono_ms();
    int64_t wait = max_wait_ms;
    int64_t at[4] = {self->ready && !self->stopping ? self->next_poll : 0,
                     self->next_due, 0, 0};
    if (zhashx_size(self->streams) > 0) {
        at[2] = self->next_renew;
    }
    if (self->retry_at > now) {
        at[3] = self->retry_at;
    }
    for (int i = 0; i < 4; i++) {
        if (at[i] > 0 && at[i] - now < wait) {
            wait = at[i] - now;
        }
    }
    int t = self->sender ? wd_sender_timeout(self->sender) : -1;
    if (t >= 0 && t < wait) {
        wait = t;
    }
    t = cm_client_expire(self->store);
    if (t >= 0 && t < wait) {
        wait = t;
    }
    return wait < 0 ? 0 : (int)wait;
}

void
wd_dispatcher_step(wd_dispatcher_t *self, int max_wait_ms)
{
    s_act(self);
    zmq_pollitem_t *items = self->items;
    //  The store client's DEALERs and connection monitors, then the SUB,
    //  then the sender's
    int socks = (int)cm_client_sock_count(self->store);
    for (int i = 0; i < socks; i++) {
        items[i] = (zmq_pollitem_t){
            zsock_resolve(cm_client_sock(self->store, (size_t)i)), 0,
            ZMQ_POLLIN, 0};
    }
    items[socks] = (zmq_pollitem_t){zsock_resolve(self->sub), 0, ZMQ_POLLIN, 0};
    int n = socks + 1;
    if (self->sender) {
        n += wd_sender_poll_items(self->sender, items + n, self->items_cap - n);
    }
    int rc = zmq_poll(items, n, s_wait_ms(self, max_wait_ms));
    if (rc < 0 && errno != EINTR) {
        cm_log_error("could not poll sockets", "reason=\"%s\"",
                     zmq_strerror(errno));
    }
    bool replies = false;
    for (int i = 0; rc > 0 && i < socks; i++) {
        replies = replies || (items[i].revents & ZMQ_POLLIN);
    }
    if (replies) {
        cm_client_dispatch(self->store);
    }
    cm_client_expire(self->store);
    if (rc > 0 && (items[socks].revents & ZMQ_POLLIN)) {
        while (zsock_events(self->sub) & ZMQ_POLLIN) {
            zmsg_t *m = zmsg_recv(self->sub);
            zmsg_destroy(&m);
        }
        self->fanout_due = true;
    }
    if (self->sender) {
        wd_sender_process(self->sender, items + socks + 1, n - socks - 1);
    }
    s_act(self);
}

void
wd_dispatcher_run(wd_dispatcher_t *self)
{
    while (!zsys_interrupted) {
        wd_dispatcher_step(self, 1000);
    }
    wd_dispatcher_stop(self, 5000);
}

int
wd_dispatcher_stop(wd_dispatcher_t *self, int grace_ms)
{
    self->stopping = true;
    int64_t until = cm_mono_ms() + grace_ms;
    while (self->sender && wd_sender_active(self->sender) > 0 &&
           cm_mono_ms() < until) {
        wd_dispatcher_step(self, 50);
    }
    //  Whatever is still in flight is abandoned and released: it will be
    //  sent again (at-least-once).
    wd_sender_destroy(&self->sender);
    while (zhashx_size(self->streams) > 0) {
        s_stream_t *s = (s_stream_t *)zhashx_first(self->streams);
        s_stream_done(self, s);
    }
    until = cm_mono_ms() + 3000;
    self->retry_at = 0;
    while ((self->report_inflight || json_array_size(self->results) > 0 ||
            json_array_size(self->release) > 0) &&
           cm_mono_ms() < until) {
        wd_dispatcher_step(self, 50);
    }
    bool clean = !self->report_inflight &&
                 json_array_size(self->results) == 0 &&
                 json_array_size(self->release) == 0;
    cm_log_info("stopped", "sent=%" PRIu64 " clean=%s", self->stats.sent,
                clean ? "true" : "false");
    return clean ? 0 : -1;
}

//  ---------------------------------------------------------------------
//  Self test: a fake store on a ROUTER and a libmicrohttpd receiver (its
//  own thread, test only; a mutex guards what it records).

#include <microhttpd.h>
#include <pthread.h>

#include "wd_receiver.h"

//  One request the receiver saw.
typedef struct {
    char path[32];
    char body[256];
    char request_id[64];
    char timestamp[32];
    char hmac[160];
    char algorithm[16];
    char tenant[16];
} s_seen_req_t;

typedef struct {
    pthread_mutex_t lock;
    s_seen_req_t reqs[32];
    int count;
} s_receiver_t;

static unsigned
s_request(struct MHD_Connection *conn, const char *url, const char *body,
          size_t len, void *arg)
{
    s_receiver_t *rx = (s_receiver_t *)arg;
    pthread_mutex_lock(&rx->lock);
    if (rx->count < 32) {
        s_seen_req_t *r = &rx->reqs[rx->count++];
        snprintf(r->path, sizeof r->path, "%s", url);
        snprintf(r->body, sizeof r->body, "%s", body);
        const struct {
            const char *name;
            char *out;
            size_t size;
        } headers[] = {
            {"X-Webhook-Request-Id", r->request_id, sizeof r->request_id},
            {"X-Webhook-Timestamp", r->timestamp, sizeof r->timestamp},
            {"X-Webhook-Hmac", r->hmac, sizeof r->hmac},
            {"X-Webhook-Hmac-Algorithm", r->algorithm, sizeof r->algorithm},
            {"X-Tenant", r->tenant, sizeof r->tenant}};
        for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
            snprintf(headers[i].out, headers[i].size, "%s",
                     wd_receiver_header(conn, headers[i].name));
        }
    }
    pthread_mutex_unlock(&rx->lock);
    return strcmp(url, "/fail") == 0 ? 503 : 200;
}

//  What the fake store saw and answers.
typedef struct {
    zsock_t *router;
    char base[64];    //  receiver base URL
    int releases;     //  delivery.release calls
    int fanouts;      //  delivery.fanout calls
    int claims;       //  delivery.claim calls
    int reports;      //  delivery.result calls
    int renews;       //  delivery.renew calls
    json_t *results;  //  results of accepted reports
    json_t *released; //  releases of accepted reports
    json_t *refused;  //  results of the refused (503) report
    bool global_ok;   //  fanout carried the global hook
} s_store_t;

static void
s_serve(s_store_t *st)
{
    while (zsock_events(st->router) & ZMQ_POLLIN) {
        cm_msg_t *req = cm_msg_recv(st->router, true);
        assert(req);
        const char *type = cm_msg_type(req);
        cm_msg_t *rep = cm_msg_new_reply(req, 200, NULL);
        if (cm_streq(type, "delivery.release")) {
            assert(cm_streq(cm_msg_str(req, "worker"), "wd-test"));
            st->releases++;
            cm_msg_set_int(rep, "released", 0);
        } else if (cm_streq(type, "delivery.fanout")) {
            json_t *g = json_object_get(cm_msg_body(req), "global");
            st->global_ok = json_array_size(g) == 1 &&
                            strstr(json_string_value(json_object_get(
                                       json_array_get(g, 0), "url")),
                                   "/global");
            st->fanouts++;
            cm_msg_set_int(rep, "events", st->fanouts == 1 ? 2 : 0);
            cm_msg_set_int(rep, "deliveries", st->fanouts == 1 ? 3 : 0);
            cm_msg_set_bool(rep, "more", false);
        } else if (cm_streq(type, "delivery.claim")) {
            assert(cm_msg_int(req, "per_stream", 0) == 10);
            st->claims++;
            json_t *hooks = json_object();
            json_t *list = json_array();
            if (st->claims == 1) {
                char *ok = cm_sprintf("%s/ok", st->base);
                char *fail = cm_sprintf("%s/fail", st->base);
                json_object_set_new(
                    hooks, "h1",
                    json_pack("{s:s, s:[s], s:{s:s}, s:[{s:s, s:s}]}", "url",
                              ok, "events", "*", "hmac", "key", "my-secret-key",
                              "customHeaders", "name", "X-Tenant", "value",
                              "t1"));
                json_object_set_new(hooks, "h2",
                                    json_pack("{s:s}", "url", fail));
                json_array_append_new(
                    list,
                    json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "id", 1,
                              "session", "s1", "url", ok, "hook", "h1", "body",
                              "{\"id\": \"evt_1\", \"n\": 1}", "attempts", 0));
                json_array_append_new(
                    list,
                    json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "id", 2,
                              "session", "s1", "url", ok, "hook", "h1", "body",
                              "{\"id\": \"evt_2\", \"n\": 2}", "attempts", 0));
                json_array_append_new(
                    list,
                    json_pack("{s:i, s:s, s:s, s:s, s:s, s:i}", "id", 3,
                              "session", "s2", "url", fail, "hook", "h2",
                              "body", "{\"id\": \"evt_3\"}", "attempts", 4));
                //  Malformed entries are dropped, not fatal.
                json_array_append_new(list, json_pack("{s:i}", "id", 9));
                free(ok);
                free(fail);
            }
            cm_msg_set(rep, "hooks", hooks);
            cm_msg_set(rep, "deliveries", list);
            cm_msg_set_int(rep, "streams", st->claims == 1 ? 2 : 0);
        } else if (cm_streq(type, "delivery.result")) {
            st->reports++;
            json_t *body = cm_msg_body(req);
            if (st->reports == 1) {
                //  The first report is refused: it must come again.
                cm_msg_destroy(&rep);
                rep = cm_msg_new_reply(req, 503, "database unavailable");
                json_array_extend(st->refused,
                                  json_object_get(body, "results"));
            } else {
                json_array_extend(st->results,
                                  json_object_get(body, "results"));
                json_array_extend(st->released,
                                  json_object_get(body, "release"));
            }
        } else if (cm_streq(type, "delivery.renew")) {
            st->renews++;
        }
        cm_msg_destroy(&req);
        cm_msg_send(&rep, st->router);
    }
}

static json_t *
s_result(json_t *results, int64_t id)
{
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r)
    {
        if (json_integer_value(json_object_get(r, "id")) == id) {
            return r;
        }
    }
    return NULL;
}

void
wd_dispatcher_test(bool verbose)
{
    printf(" * wd_dispatcher: ");
    s_receiver_t rx = {0};
    pthread_mutex_init(&rx.lock, NULL);
    wd_receiver_t *mhd = wd_receiver_new(NULL, s_request, &rx);
    assert(mhd);
    s_store_t st = {0};
    snprintf(st.base, sizeof st.base, "http://127.0.0.1:%u",
             wd_receiver_port(mhd));
    st.router = zsock_new_router("tcp://127.0.0.1:*");
    assert(st.router);
    zsock_t *pub = zsock_new_pub("tcp://127.0.0.1:*");
    assert(pub);
    st.results = json_array();
    st.released = json_array();
    st.refused = json_array();

    wd_config_t cfg = {0};
    cfg.store_endpoints = cm_strdup(zsock_endpoint(st.router));
    cfg.pub_endpoints = cm_strdup(zsock_endpoint(pub));
    cfg.id = cm_strdup("wd-test");
    char *global = cm_sprintf("%s/global", st.base);
    json_t *g = json_pack("{s:s, s:[s]}", "url", global, "events", "*");
    cfg.global_hook = cm_webhook_normalize(g);
    json_decref(g);
    free(global);
    cfg.poll_ms = 60000;
    cfg.max_streams = 10;
    cfg.batch = 10;
    cfg.fanout_limit = 10;
    cfg.max_in_flight = 8;
    cfg.per_target = 4;
    cfg.timeout_ms = 2000;
    cfg.lease_ms = 5000;
    cfg.store_timeout_ms = 1000;
    //  The test receiver is on loopback: sessions' webhooks may reach it
    cfg.allow = cm_strdup("127.0.0.1");

    wd_dispatcher_t *d = wd_dispatcher_new(&cfg);
    assert(d);
    int64_t until = cm_mono_ms() + 10000;
    while (
        (json_array_size(st.results) < 3 || json_array_size(st.released) < 2) &&
        cm_mono_ms() < until) {
        wd_dispatcher_step(d, 10);
        s_serve(&st);
    }
    assert(st.releases == 1 && st.fanouts >= 1 && st.claims >= 1);
    assert(st.global_ok);

    //  The refused report came again, with the same request ids.
    assert(json_array_size(st.refused) >= 1);
    size_t i;
    json_t *r;
    json_array_foreach(st.refused, i, r)
    {
        json_t *again =
            s_result(st.results, json_integer_value(json_object_get(r, "id")));
        assert(again);
        assert(
            cm_streq(json_string_value(json_object_get(r, "request_id")),
                     json_string_value(json_object_get(again, "request_id"))));
    }
    assert(json_array_size(st.results) == 3);
    assert(json_is_true(json_object_get(s_result(st.results, 1), "ok")));
    assert(json_is_true(json_object_get(s_result(st.results, 2), "ok")));
    json_t *failed = s_result(st.results, 3);
    assert(json_is_false(json_object_get(failed, "ok")));
    assert(json_integer_value(json_object_get(failed, "http_status")) == 503);
    assert(cm_streq(json_string_value(json_object_get(failed, "error")),
                    "HTTP 503"));
    assert(json_array_size(st.released) == 2);

    //  The receiver saw s1's events in order, signed, and /fail once.
    pthread_mutex_lock(&rx.lock);
    assert(rx.count == 3);
    s_seen_req_t *ok[2] = {NULL, NULL};
    int n_ok = 0;
    int n_fail = 0;
    for (int k = 0; k < rx.count; k++) {
        if (cm_streq(rx.reqs[k].path, "/ok")) {
            ok[n_ok++] = &rx.reqs[k];
        } else {
            n_fail++;
            assert(!*rx.reqs[k].hmac && !*rx.reqs[k].algorithm);
        }
    }
    assert(n_ok == 2 && n_fail == 1);
    assert(cm_streq(ok[0]->body, "{\"id\":\"evt_1\",\"n\":1}"));
    assert(cm_streq(ok[1]->body, "{\"id\":\"evt_2\",\"n\":2}"));
    for (int k = 0; k < 2; k++) {
        char mac[CM_WEBHOOK_HMAC_HEX_SIZE];
        cm_webhook_hmac_hex("my-secret-key", ok[k]->body, strlen(ok[k]->body),
                            mac);
        assert(cm_streq(ok[k]->hmac, mac));
        assert(cm_streq(ok[k]->algorithm, "sha512"));
        assert(cm_streq(ok[k]->tenant, "t1"));
        assert(strncmp(ok[k]->request_id, "req_", 4) == 0);
        int64_t ts = strtoll(ok[k]->timestamp, NULL, 10);
        assert(llabs(ts - cm_now_ms()) < 60000);
    }
    assert(!cm_streq(ok[0]->request_id, ok[1]->request_id));
    pthread_mutex_unlock(&rx.lock);

    //  An event.new wake-up makes it fan out long before the poll.
    int fanouts = st.fanouts;
    until = cm_mono_ms() + 5000;
    while (st.fanouts == fanouts && cm_mono_ms() < until) {
        zstr_sendm(pub, "event.new");
        zstr_send(pub, "");
        wd_dispatcher_step(d, 10);
        s_serve(&st);
    }
    assert(st.fanouts > fanouts);

    wd_dispatcher_stats_t stats = wd_dispatcher_stats(d);
    assert(stats.sent == 3 && stats.ok == 2 && stats.failed == 1);
    assert(stats.streams == 0);
    assert(wd_dispatcher_stop(d, 1000) == 0);
    wd_dispatcher_destroy(&d);
    wd_dispatcher_destroy(&d);

    json_decref(st.results);
    json_decref(st.released);
    json_decref(st.refused);
    zsock_destroy(&pub);
    zsock_destroy(&st.router);
    wd_receiver_destroy(&mhd);
    pthread_mutex_destroy(&rx.lock);
    free(cfg.store_endpoints);
    free(cfg.pub_endpoints);
    free(cfg.allow);
    free(cfg.id);
    json_decref(cfg.global_hook);
    printf("OK\n");
}
