/*  gw_metrics - Prometheus /metrics of the api-gateway

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

#include <pthread.h>

//  Histogram bounds in seconds (Prometheus client defaults).
static const double s_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                  0.5,   1,    2.5,   5,    10};
#define S_BUCKETS (sizeof s_bounds / sizeof s_bounds[0])

//  One labelled series of a counter and histogram pair.
typedef struct {
    char labels[96];             //  rendered labels: a="x",b="y"
    uint64_t count;              //  observations
    uint64_t buckets[S_BUCKETS]; //  cumulative at render time
    double sum;                  //  seconds
} s_series_t;

//  At most this many label sets per family (methods x statuses, dests
//  x statuses stay far below).
#define S_SERIES_MAX 256

typedef struct {
    s_series_t series[S_SERIES_MAX];
    size_t size;
    uint64_t dropped; //  observations past S_SERIES_MAX
} s_family_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_family_t s_http;
static s_family_t s_bus;

static void
s_observe(s_family_t *f, const char *labels, int64_t micros)
{
    pthread_mutex_lock(&s_lock);
    s_series_t *s = NULL;
    for (size_t i = 0; i < f->size; i++) {
        if (streq(f->series[i].labels, labels)) {
            s = &f->series[i];
            break;
        }
    }
    if (!s && f->size < S_SERIES_MAX) {
        s = &f->series[f->size++];
        memset(s, 0, sizeof *s);
        snprintf(s->labels, sizeof s->labels, "%s", labels);
    }
    if (s) {
        double secs = (double)micros / 1e6;
        s->count++;
        s->sum += secs;
        for (size_t b = 0; b < S_BUCKETS; b++) {
            if (secs <= s_bounds[b]) {
                s->buckets[b]++;
                break; //  cumulated when rendered
            }
        }
    } else {
        f->dropped++;
    }
    pthread_mutex_unlock(&s_lock);
}

//  A method name as a label value: known methods only.
static const char *
s_method(const char *method)
{
    static const char *const known[] = {"GET",   "POST", "PUT",     "DELETE",
                                        "PATCH", "HEAD", "OPTIONS", NULL};
    for (int i = 0; known[i]; i++) {
        if (method && streq(method, known[i])) {
            return known[i];
        }
    }
    return "OTHER";
}

void
gw_metrics_http(const char *method, const char *path, int status,
                int64_t micros)
{
    if (path && streq(path, "/metrics")) {
        return;
    }
    char labels[96];
    snprintf(labels, sizeof labels, "method=\"%s\",status=\"%d\"",
             s_method(method), status);
    s_observe(&s_http, labels, micros);
}

void
gw_metrics_bus(const char *dest, int status, int64_t micros)
{
    static const char *const known[] = {GW_DEST_STORE, GW_DEST_WORKER,
                                        GW_DEST_MEDIA, GW_DEST_LOCAL, NULL};
    const char *d = "other";
    for (int i = 0; known[i]; i++) {
        if (dest && streq(dest, known[i])) {
            d = known[i];
        }
    }
    char labels[96];
    snprintf(labels, sizeof labels, "dest=\"%s\",status=\"%d\"", d, status);
    s_observe(&s_bus, labels, micros);
}

static void
s_render_family(zchunk_t *out, s_family_t *f, const char *counter,
                const char *counter_help, const char *histogram,
                const char *histogram_help)
{
    char *text = cm_sprintf("# HELP %s %s\n# TYPE %s counter\n", counter,
                            counter_help, counter);
    zchunk_extend(out, text, strlen(text));
    free(text);
    for (size_t i = 0; i < f->size; i++) {
        text = cm_sprintf("%s{%s} %" PRIu64 "\n", counter, f->series[i].labels,
                          f->series[i].count);
        zchunk_extend(out, text, strlen(text));
        free(text);
    }
    text = cm_sprintf("# HELP %s %s\n# TYPE %s histogram\n", histogram,
                      histogram_help, histogram);
    zchunk_extend(out, text, strlen(text));
    free(text);
    for (size_t i = 0; i < f->size; i++) {
        s_series_t *s = &f->series[i];
        uint64_t cumulative = 0;
        for (size_t b = 0; b < S_BUCKETS; b++) {
            cumulative += s->buckets[b];
            text = cm_sprintf("%s_bucket{%s,le=\"%g\"} %" PRIu64 "\n",
                              histogram, s->labels, s_bounds[b], cumulative);
            zchunk_extend(out, text, strlen(text));
            free(text);
        }
        text = cm_sprintf("%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n"
                          "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n",
                          histogram, s->labels, s->count, histogram, s->labels,
                          s->sum, histogram, s->labels, s->count);
        zchunk_extend(out, text, strlen(text));
        free(text);
    }
}

static void
s_line(zchunk_t *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        char *text = cm_alloc((size_t)n + 1);
        vsnprintf(text, (size_t)n + 1, fmt, again);
        zchunk_extend(out, text, (size_t)n);
        free(text);
    }
    va_end(again);
}

char *
gw_metrics_local_text(void)
{
    zchunk_t *out = zchunk_new(NULL, 8192);
    s_line(out, "# HELP waha_up 1 if the server is serving metrics\n"
                "# TYPE waha_up gauge\nwaha_up 1\n");
    pthread_mutex_lock(&s_lock);
    s_render_family(out, &s_http, "waha_http_requests_total",
                    "HTTP requests handled",
                    "waha_http_request_duration_seconds",
                    "HTTP request duration in seconds");
    s_render_family(out, &s_bus, "wharf_bus_requests_total",
                    "Bus requests the gateway made, by destination and reply "
                    "status",
                    "wharf_bus_request_duration_seconds",
                    "Bus request latency in seconds");
    uint64_t dropped = s_http.dropped + s_bus.dropped;
    pthread_mutex_unlock(&s_lock);
    s_line(out,
           "# HELP wharf_metrics_dropped_total Observations past the label "
           "set limit\n# TYPE wharf_metrics_dropped_total counter\n"
           "wharf_metrics_dropped_total %" PRIu64 "\n",
           dropped);
    s_line(out,
           "# HELP wharf_ws_streams Open /ws streams\n# TYPE wharf_ws_streams "
           "gauge\nwharf_ws_streams %d\n",
           gw_ws_count());
    s_line(out,
           "# HELP process_resident_memory_bytes Resident memory of the "
           "api-gateway\n# TYPE process_resident_memory_bytes gauge\n"
           "process_resident_memory_bytes %" PRId64 "\n",
           cm_rss_bytes());
    s_line(out,
           "# HELP process_start_time_seconds Start time of the api-gateway "
           "since the epoch\n# TYPE process_start_time_seconds gauge\n"
           "process_start_time_seconds %.3f\n",
           (double)gw_status_started_ms() / 1000.0);
    size_t size = zchunk_size(out);
    char *text = cm_alloc(size + 1);
    memcpy(text, zchunk_data(out), size);
    text[size] = 0;
    zchunk_destroy(&out);
    return text;
}

//  A label value with \ " and newlines escaped (caller owns).
static char *
s_label(const char *value)
{
    size_t n = strlen(value);
    char *out = cm_alloc(2 * n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (value[i] == '\\' || value[i] == '"') {
            out[o++] = '\\';
            out[o++] = value[i];
        } else if (value[i] == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = value[i];
        }
    }
    out[o] = 0;
    return out;
}

void
gw_metrics_store_text(zchunk_t *out, const json_t *stats)
{
    const char *name = "wharf_store_statement_duration_seconds";
    s_line(out,
           "# HELP %s Database requests of the store-service (their "
           "statements, retries included), by family and op\n"
           "# TYPE %s histogram\n",
           name, name);
    json_t *bounds = json_object_get(stats, "bounds");
    size_t i;
    json_t *op;
    json_array_foreach(json_object_get(stats, "ops"), i, op)
    {
        const char *f = json_string_value(json_object_get(op, "family"));
        const char *o = json_string_value(json_object_get(op, "op"));
        json_t *buckets = json_object_get(op, "buckets");
        if (!f || !o || strlen(f) > 64 || strlen(o) > 64 ||
            json_array_size(buckets) != json_array_size(bounds)) {
            continue;
        }
        char *family = s_label(f);
        char *opname = s_label(o);
        json_int_t cumulative = 0;
        for (size_t b = 0; b < json_array_size(bounds); b++) {
            cumulative += json_integer_value(json_array_get(buckets, b));
            s_line(out,
                   "%s_bucket{family=\"%s\",op=\"%s\",le=\"%g\"} "
                   "%" JSON_INTEGER_FORMAT "\n",
                   name, family, opname,
                   json_number_value(json_array_get(bounds, b)), cumulative);
        }
        json_int_t count = json_integer_value(json_object_get(op, "count"));
        s_line(out,
               "%s_bucket{family=\"%s\",op=\"%s\",le=\"+Inf\"} "
               "%" JSON_INTEGER_FORMAT "\n"
               "%s_sum{family=\"%s\",op=\"%s\"} %.6f\n"
               "%s_count{family=\"%s\",op=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
               name, family, opname, count, name, family, opname,
               json_number_value(json_object_get(op, "sum")), name, family,
               opname, count);
        free(opname);
        free(family);
    }
}

//  What the store and the core know, at scrape time.
static void
s_render_cluster(gw_req_t *req, zchunk_t *out)
{
    //  Sessions by status
    cm_msg_t *msg = cm_msg_new("session.list");
    cm_msg_set_bool(msg, "all", true);
    cm_msg_t *reply = gw_req_call(req, GW_DEST_STORE, &msg, 5000);
    bool up = cm_msg_status(reply) == 200;
    s_line(out,
           "# HELP wharf_store_up 1 when the store-service answered "
           "this scrape\n# TYPE wharf_store_up gauge\nwharf_store_up "
           "%d\n",
           up ? 1 : 0);
    if (up) {
        static const char *const statuses[] = {
            "STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED", NULL};
        json_t *counts = json_object();
        for (int i = 0; statuses[i]; i++) {
            json_object_set_new(counts, statuses[i], json_integer(0));
        }
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(cm_msg_body(reply), "sessions"), i,
                           row)
        {
            const char *st = json_string_value(json_object_get(row, "status"));
            if (st && strlen(st) < 32) {
                json_t *c = json_object_get(counts, st);
                json_object_set_new(counts, st,
                                    json_integer(json_integer_value(c) + 1));
            }
        }
        s_line(out, "# HELP waha_sessions WhatsApp sessions by status and "
                    "engine\n# TYPE waha_sessions gauge\n");
        const char *st;
        json_t *c;
        json_object_foreach(counts, st, c)
        {
            char *label = s_label(st);
            //  The engine WAHA clients see (WHATSAPP_DEFAULT_ENGINE)
            s_line(out,
                   "waha_sessions{status=\"%s\",engine=\"%s\"} "
                   "%" JSON_INTEGER_FORMAT "\n",
                   label,
                   gw_req_config(req) ? gw_config_engine(gw_req_config(req))
                                      : CM_WAHA_ENGINE_DEFAULT,
                   json_integer_value(c));
            free(label);
        }
        json_decref(counts);
    }
    cm_msg_destroy(&reply);

    //  Webhook deliveries and the outbox
    msg = cm_msg_new("delivery.stats");
    reply = gw_req_call(req, GW_DEST_STORE, &msg, 5000);
    if (cm_msg_status(reply) == 200) {
        s_line(out,
               "# HELP wharf_webhook_deliveries Webhook deliveries by state\n"
               "# TYPE wharf_webhook_deliveries gauge\n"
               "wharf_webhook_deliveries{state=\"pending\"} %" PRId64 "\n"
               "wharf_webhook_deliveries{state=\"delivered\"} %" PRId64 "\n"
               "wharf_webhook_deliveries{state=\"dead\"} %" PRId64 "\n"
               "# HELP wharf_webhook_attempts Webhook delivery attempts "
               "recorded\n# TYPE wharf_webhook_attempts gauge\n"
               "wharf_webhook_attempts %" PRId64 "\n"
               "# HELP wharf_outbox_depth Stored events not yet fanned out "
               "to webhook deliveries\n# TYPE wharf_outbox_depth gauge\n"
               "wharf_outbox_depth %" PRId64 "\n",
               cm_msg_int(reply, "pending", 0),
               cm_msg_int(reply, "delivered", 0), cm_msg_int(reply, "dead", 0),
               cm_msg_int(reply, "attempts", 0),
               cm_msg_int(reply, "events_unfanned", 0));
    }
    cm_msg_destroy(&reply);

    //  Database request latency, measured by the store-service
    msg = cm_msg_new("store.stats");
    reply = gw_req_call(req, GW_DEST_STORE, &msg, 5000);
    if (cm_msg_status(reply) == 200) {
        gw_metrics_store_text(out, cm_msg_body(reply));
    }
    cm_msg_destroy(&reply);

    //  Session-workers from their heartbeats
    msg = cm_msg_new("gw.workers");
    reply = gw_req_call(req, GW_DEST_LOCAL, &msg, 2000);
    json_t *workers = json_object_get(cm_msg_body(reply), "workers");
    s_line(out,
           "# HELP waha_messages_total Messages (message.any events) by "
           "direction, from the session-workers' heartbeats\n"
           "# TYPE waha_messages_total counter\n"
           "waha_messages_total{direction=\"incoming\"} %" PRId64 "\n"
           "waha_messages_total{direction=\"outgoing\"} %" PRId64 "\n",
           cm_msg_int(reply, "messages_in", 0),
           cm_msg_int(reply, "messages_out", 0));
    s_line(out,
           "# HELP wharf_workers Session-workers heard from in the last 3 s\n"
           "# TYPE wharf_workers gauge\nwharf_workers %zu\n",
           json_array_size(workers));
    //  Two families, each with its HELP/TYPE once, then its samples
    for (int family = 0; family < 2; family++) {
        s_line(out, "%s",
               family == 0
                   ? "# HELP wharf_worker_sessions Sessions each "
                     "session-worker holds\n# TYPE wharf_worker_sessions "
                     "gauge\n"
                   : "# HELP wharf_worker_memory_bytes Resident memory of "
                     "each session-worker\n# TYPE wharf_worker_memory_bytes "
                     "gauge\n");
        size_t i;
        json_t *w;
        json_array_foreach(workers, i, w)
        {
            const char *id = json_string_value(json_object_get(w, "id"));
            json_t *v = json_object_get(w, family == 0 ? "sessions" : "rss");
            if (!id || !json_is_integer(v) || json_integer_value(v) < 0) {
                continue;
            }
            char *label = s_label(id);
            s_line(out, "%s{worker=\"%s\"} %" PRId64 "\n",
                   family == 0 ? "wharf_worker_sessions"
                               : "wharf_worker_memory_bytes",
                   label, (int64_t)json_integer_value(v));
            free(label);
        }
    }
    cm_msg_destroy(&reply);
}

void
gw_metrics_get(gw_req_t *req)
{
    const char *on = getenv("WAHA_PROMETHEUS_ENABLED");
    if (!on || !(streq(on, "true") || streq(on, "1"))) {
        gw_req_fail(req, 404, NULL,
                    "metrics are off: set WAHA_PROMETHEUS_ENABLED=true");
        return;
    }
    char *local = gw_metrics_local_text();
    zchunk_t *out = zchunk_new(local, strlen(local));
    free(local);
    s_render_cluster(req, out);
    gw_req_add_response_header(req, "Cache-Control", "no-store");
    gw_req_reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                       zchunk_data(out), zchunk_size(out));
    zchunk_destroy(&out);
}

json_t *
gw_metrics_schemas(void)
{
    json_t *schemas = json_loads(
        "{\"PrometheusText\":{\"type\":\"string\",\"description\":"
        "\"Prometheus text exposition (text/plain; version=0.0.4)\","
        "\"example\":\"waha_up 1\",\"x-media-type\":\"text/plain\"}}",
        0, NULL);
    assert(schemas);
    return schemas;
}

void
gw_metrics_test(bool verbose)
{
    printf(" * gw_metrics: ");
    gw_metrics_http("GET", "/api/sessions", 200, 3000);    //  3 ms
    gw_metrics_http("GET", "/api/sessions", 200, 2000000); //  2 s
    gw_metrics_http("BREW", "/api/sessions", 404, 100);
    gw_metrics_http("GET", "/metrics", 200, 100); //  not counted
    gw_metrics_bus(GW_DEST_STORE, 200, 1500);
    char *text = gw_metrics_local_text();
    assert(strstr(text, "waha_up 1\n"));
    assert(strstr(
        text, "waha_http_requests_total{method=\"GET\",status=\"200\"} 2\n"));
    assert(strstr(
        text, "waha_http_requests_total{method=\"OTHER\",status=\"404\"} 1\n"));
    assert(strstr(text,
                  "waha_http_request_duration_seconds_bucket{method=\"GET\","
                  "status=\"200\",le=\"0.005\"} 1\n"));
    assert(strstr(text,
                  "waha_http_request_duration_seconds_bucket{method=\"GET\","
                  "status=\"200\",le=\"1\"} 1\n"));
    assert(strstr(text,
                  "waha_http_request_duration_seconds_bucket{method=\"GET\","
                  "status=\"200\",le=\"2.5\"} 2\n"));
    assert(strstr(text,
                  "waha_http_request_duration_seconds_count{method=\"GET\","
                  "status=\"200\"} 2\n"));
    assert(strstr(
        text, "wharf_bus_requests_total{dest=\"store\",status=\"200\"} 1\n"));
    assert(!strstr(text, "/metrics"));
    assert(strstr(text, "wharf_ws_streams 0\n"));
    free(text);
    //  The store's latencies: cumulative buckets, +Inf, sum and count;
    //  an entry whose buckets do not match the bounds is left out
    json_t *stats = json_loads(
        "{\"bounds\":[0.005,0.01],\"ops\":[{\"family\":\"event\",\"op\":"
        "\"append\",\"count\":3,\"sum\":0.5,\"buckets\":[1,1]},"
        "{\"family\":\"x\",\"op\":\"y\",\"count\":1,\"sum\":1,"
        "\"buckets\":[1]}]}",
        0, NULL);
    zchunk_t *chunk = zchunk_new(NULL, 1024);
    gw_metrics_store_text(chunk, stats);
    zchunk_extend(chunk, "", 1);
    const char *st = (const char *)zchunk_data(chunk);
    assert(strstr(st, "# TYPE wharf_store_statement_duration_seconds "
                      "histogram\n"));
    assert(strstr(st, "wharf_store_statement_duration_seconds_bucket{family="
                      "\"event\",op=\"append\",le=\"0.005\"} 1\n"));
    assert(strstr(st, "wharf_store_statement_duration_seconds_bucket{family="
                      "\"event\",op=\"append\",le=\"0.01\"} 2\n"));
    assert(strstr(st, "wharf_store_statement_duration_seconds_bucket{family="
                      "\"event\",op=\"append\",le=\"+Inf\"} 3\n"));
    assert(strstr(st, "wharf_store_statement_duration_seconds_sum{family="
                      "\"event\",op=\"append\"} 0.500000\n"));
    assert(strstr(st, "wharf_store_statement_duration_seconds_count{family="
                      "\"event\",op=\"append\"} 3\n"));
    assert(!strstr(st, "family=\"x\""));
    zchunk_destroy(&chunk);
    json_decref(stats);
    char *l = s_label("a\"b\\c\nd");
    assert(streq(l, "a\\\"b\\\\c\\nd"));
    free(l);

    //  Off by default: 404
    unsetenv("WAHA_PROMETHEUS_ENABLED");
    gw_req_t *req = gw_req_new("GET", "/metrics");
    gw_metrics_get(req);
    assert(gw_req_status(req) == 404);
    gw_req_destroy(&req);
    if (verbose) {
        printf("(exposition) ");
    }
    printf("OK\n");
}
