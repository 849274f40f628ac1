/*  st_stats - how long the store's database requests take

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#include <pthread.h>

//  Histogram bounds in seconds (the Prometheus client's defaults, as the
//  gateway's own histograms).
static const double s_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                  0.5,   1,    2.5,   5,    10};
#define S_BUCKETS (sizeof s_bounds / sizeof s_bounds[0])

typedef struct {
    char type[64];               //  request type
    uint64_t count;              //  requests
    uint64_t buckets[S_BUCKETS]; //  per bound, not cumulative
    double sum;                  //  seconds
} s_series_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_series_t s_series[ST_STATS_MAX];
static size_t s_size;
static uint64_t s_dropped;

void
st_stats_observe(const char *type, int64_t micros)
{
    if (!type || strlen(type) >= sizeof s_series[0].type) {
        return;
    }
    double secs = micros > 0 ? (double)micros / 1e6 : 0;
    pthread_mutex_lock(&s_lock);
    s_series_t *s = NULL;
    for (size_t i = 0; i < s_size && !s; i++) {
        if (streq(s_series[i].type, type)) {
            s = &s_series[i];
        }
    }
    if (!s && s_size < ST_STATS_MAX) {
        s = &s_series[s_size++];
        memset(s, 0, sizeof *s);
        snprintf(s->type, sizeof s->type, "%s", type);
    }
    if (s) {
        s->count++;
        s->sum += secs;
        for (size_t b = 0; b < S_BUCKETS; b++) {
            if (secs <= s_bounds[b]) {
                s->buckets[b]++;
                break;
            }
        }
    } else {
        s_dropped++;
    }
    pthread_mutex_unlock(&s_lock);
}

json_t *
st_stats_json(void)
{
    json_t *bounds = json_array();
    for (size_t b = 0; b < S_BUCKETS; b++) {
        json_array_append_new(bounds, json_real(s_bounds[b]));
    }
    json_t *ops = json_array();
    pthread_mutex_lock(&s_lock);
    for (size_t i = 0; i < s_size; i++) {
        s_series_t *s = &s_series[i];
        const char *dot = strchr(s->type, '.');
        char family[64];
        snprintf(family, sizeof family, "%.*s",
                 dot ? (int)(dot - s->type) : (int)strlen(s->type), s->type);
        json_t *buckets = json_array();
        for (size_t b = 0; b < S_BUCKETS; b++) {
            json_array_append_new(buckets,
                                  json_integer((json_int_t)s->buckets[b]));
        }
        json_array_append_new(
            ops, json_pack("{s:s, s:s, s:I, s:f, s:o}", "family", family, "op",
                           dot ? dot + 1 : "", "count", (json_int_t)s->count,
                           "sum", s->sum, "buckets", buckets));
    }
    json_int_t dropped = (json_int_t)s_dropped;
    pthread_mutex_unlock(&s_lock);
    return json_pack("{s:o, s:o, s:I}", "bounds", bounds, "ops", ops, "dropped",
                     dropped);
}

void
st_stats_reset(void)
{
    pthread_mutex_lock(&s_lock);
    s_size = 0;
    s_dropped = 0;
    pthread_mutex_unlock(&s_lock);
}

void
st_stats_test(bool verbose)
{
    printf(" * st_stats: ");
    st_stats_reset();
    st_stats_observe("event.append", 3000);     //  3 ms: first bucket
    st_stats_observe("event.append", 30000);    //  30 ms: 0.05
    st_stats_observe("session.list", 2000000);  //  2 s: 2.5
    st_stats_observe("session.list", 20000000); //  20 s: past every bound
    st_stats_observe(NULL, 1);
    json_t *j = st_stats_json();
    assert(json_array_size(json_object_get(j, "bounds")) == S_BUCKETS);
    json_t *ops = json_object_get(j, "ops");
    assert(json_array_size(ops) == 2);
    json_t *ev = json_array_get(ops, 0);
    assert(streq(json_string_value(json_object_get(ev, "family")), "event"));
    assert(streq(json_string_value(json_object_get(ev, "op")), "append"));
    assert(json_integer_value(json_object_get(ev, "count")) == 2);
    double sum = json_real_value(json_object_get(ev, "sum"));
    assert(sum > 0.0329 && sum < 0.0331);
    json_t *b = json_object_get(ev, "buckets");
    assert(json_integer_value(json_array_get(b, 0)) == 1);
    assert(json_integer_value(json_array_get(b, 3)) == 1);
    json_t *sl = json_array_get(ops, 1);
    b = json_object_get(sl, "buckets");
    assert(json_integer_value(json_object_get(sl, "count")) == 2);
    assert(json_integer_value(json_array_get(b, 8)) == 1);
    uint64_t in_buckets = 0;
    for (size_t i = 0; i < S_BUCKETS; i++) {
        in_buckets += (uint64_t)json_integer_value(json_array_get(b, i));
    }
    assert(in_buckets == 1); //  the 20 s one counts only in +Inf
    json_decref(j);
    //  A bounded number of types
    char type[32];
    for (int i = 0; i < ST_STATS_MAX + 5; i++) {
        snprintf(type, sizeof type, "t.%d", i);
        st_stats_observe(type, 1);
    }
    j = st_stats_json();
    assert(json_array_size(json_object_get(j, "ops")) == ST_STATS_MAX);
    assert(json_integer_value(json_object_get(j, "dropped")) == 7);
    json_decref(j);
    st_stats_reset();
    printf("OK\n");
    (void)verbose;
}
