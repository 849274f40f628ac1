/*  cm_webhook - webhook event names, configuration checks, retry delays,
    signatures

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

//  WAHA's WAHAEvents enum. The last two are internal and not part of "*".
static const char *s_events[] = {"session.status",
                                 "message",
                                 "message.reaction",
                                 "message.any",
                                 "message.ack",
                                 "message.ack.group",
                                 "message.waiting",
                                 "message.revoked",
                                 "message.edited",
                                 "group.v2.join",
                                 "group.v2.leave",
                                 "group.v2.update",
                                 "group.v2.participants",
                                 "group.v2.participants.join-request",
                                 "group.join",
                                 "group.leave",
                                 "presence.update",
                                 "poll.vote",
                                 "poll.vote.failed",
                                 "chat.archive",
                                 "call.received",
                                 "call.accepted",
                                 "call.rejected",
                                 "label.upsert",
                                 "label.deleted",
                                 "label.chat.added",
                                 "label.chat.deleted",
                                 "event.response",
                                 "event.response.failed",
                                 "engine.event",
                                 "state.change"};
#define S_EVENT_COUNT (sizeof s_events / sizeof s_events[0])
//  How many of s_events (from the start) "*" includes.
#define S_EVENT_IN_ALL (S_EVENT_COUNT - 2)

//  Header names a custom header may not set: hop-by-hop and framing
//  headers curl owns, and the headers the dispatcher signs with.
static const char *s_reserved_headers[] = {"host",
                                           "content-length",
                                           "transfer-encoding",
                                           "connection",
                                           "keep-alive",
                                           "upgrade",
                                           "te",
                                           "trailer",
                                           "expect",
                                           "proxy-connection",
                                           "content-type",
                                           "x-webhook-request-id",
                                           "x-webhook-timestamp",
                                           "x-webhook-hmac",
                                           "x-webhook-hmac-algorithm"};

size_t
cm_webhook_event_count(void)
{
    return S_EVENT_COUNT;
}

const char *
cm_webhook_event_at(size_t i)
{
    return i < S_EVENT_COUNT ? s_events[i] : NULL;
}

static int
s_event_index(const char *name)
{
    if (!name) {
        return -1;
    }
    for (size_t i = 0; i < S_EVENT_COUNT; i++) {
        if (strcmp(s_events[i], name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

bool
cm_webhook_event_known(const char *name)
{
    return s_event_index(name) >= 0;
}

bool
cm_webhook_event_in_all(const char *name)
{
    int i = s_event_index(name);
    return i >= 0 && (size_t)i < S_EVENT_IN_ALL;
}

bool
cm_webhook_matches(json_t *events, const char *name)
{
    if (!json_is_array(events) || !name) {
        return false;
    }
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        const char *s = json_string_value(e);
        if (!s) {
            continue;
        }
        if (strcmp(s, name) == 0 && cm_webhook_event_known(name)) {
            return true;
        }
        if (strcmp(s, "*") == 0 && cm_webhook_event_in_all(name)) {
            return true;
        }
    }
    return false;
}

//  Set *err_p to "<path>: <message>" and return -1.
static int s_fail(char **err_p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
s_fail(char **err_p, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(msg, sizeof msg, fmt, args);
    va_end(args);
    if (err_p) {
        free(*err_p);
        *err_p = cm_sprintf("%s: %s", path, msg);
    }
    return -1;
}

//  Quote at most 64 bytes of outside text for a message, replacing
//  anything unprintable, so errors stay short and safe to log.
static void
s_quote(const char *s, char *out, size_t size)
{
    assert(size > 8);
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; s[i] && o + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] =
            (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
        if (i == 63 && s[i + 1]) {
            out[o++] = '.';
            out[o++] = '.';
            out[o++] = '.';
            break;
        }
    }
    out[o++] = '"';
    out[o] = 0;
}

static bool
s_host_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '%';
}

//  Check an http(s) URL: scheme, a host, an optional numeric port, no
//  whitespace, control or non-ASCII bytes. Returns NULL or the reason.
static const char *
s_url_problem(const char *url)
{
    size_t len = strlen(url);
    if (len == 0) {
        return "must not be empty";
    }
    if (len > CM_WEBHOOK_URL_MAX) {
        return "longer than 2048 bytes";
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f) {
            return "contains whitespace, control or non-ASCII characters";
        }
    }
    const char *rest;
    if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        rest = url + 8;
    } else {
        return "scheme must be http or https";
    }
    size_t auth_len = strcspn(rest, "/?#");
    //  Skip user:password@ when present.
    const char *host = rest;
    for (size_t i = 0; i < auth_len; i++) {
        if (rest[i] == '@') {
            host = rest + i + 1;
        }
    }
    const char *end = rest + auth_len;
    const char *port = NULL;
    if (host < end && *host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close || close == host + 1) {
            return "has a malformed IPv6 host";
        }
        for (const char *p = host + 1; p < close; p++) {
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.') {
                return "has a malformed IPv6 host";
            }
        }
        if (close + 1 < end) {
            if (close[1] != ':') {
                return "has a malformed IPv6 host";
            }
            port = close + 2;
        }
    } else {
        const char *p = host;
        while (p < end && *p != ':') {
            if (!s_host_char(*p)) {
                return "has an invalid host";
            }
            p++;
        }
        if (p == host) {
            return "has no host";
        }
        if (p < end) {
            port = p + 1;
        }
    }
    if (port) {
        if (port == end || end - port > 5) {
            return "has an invalid port";
        }
        long n = 0;
        for (const char *p = port; p < end; p++) {
            if (!isdigit((unsigned char)*p)) {
                return "has an invalid port";
            }
            n = n * 10 + (*p - '0');
        }
        if (n < 1 || n > 65535) {
            return "has an invalid port";
        }
    }
    return NULL;
}

//  RFC 9110 token character.
static bool
s_token_char(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int
s_check_events(json_t *events, const char *path, char **err_p)
{
    char where[320];
    snprintf(where, sizeof where, "%s.events", path);
    if (!events || json_is_null(events)) {
        return s_fail(err_p, where, "is required");
    }
    if (!json_is_array(events)) {
        return s_fail(err_p, where, "must be an array of event names");
    }
    if (json_array_size(events) == 0) {
        return s_fail(err_p, where, "must not be empty");
    }
    if (json_array_size(events) > CM_WEBHOOK_EVENTS_MAX) {
        return s_fail(err_p, where, "has more than %d entries",
                      CM_WEBHOOK_EVENTS_MAX);
    }
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        snprintf(where, sizeof where, "%s.events[%zu]", path, i);
        const char *name = json_string_value(e);
        if (!name) {
            return s_fail(err_p, where, "must be a string");
        }
        if (strcmp(name, "*") != 0 && !cm_webhook_event_known(name)) {
            char q[80];
            s_quote(name, q, sizeof q);
            return s_fail(err_p, where, "unrecognized event %s", q);
        }
    }
    return 0;
}

static int
s_check_hmac(json_t *hmac, const char *path, char **err_p)
{
    char where[320];
    snprintf(where, sizeof where, "%s.hmac", path);
    if (!hmac || json_is_null(hmac)) {
        return 0;
    }
    if (!json_is_object(hmac)) {
        return s_fail(err_p, where, "must be an object");
    }
    json_t *key = json_object_get(hmac, "key");
    snprintf(where, sizeof where, "%s.hmac.key", path);
    if (!key || json_is_null(key)) {
        return 0;
    }
    if (!json_is_string(key)) {
        return s_fail(err_p, where, "must be a string");
    }
    if (json_string_length(key) > CM_WEBHOOK_HMAC_KEY_MAX) {
        return s_fail(err_p, where, "longer than %d bytes",
                      CM_WEBHOOK_HMAC_KEY_MAX);
    }
    if (strlen(json_string_value(key)) != json_string_length(key)) {
        return s_fail(err_p, where, "must not contain NUL characters");
    }
    return 0;
}

static int
s_check_retries(json_t *retries, const char *path, char **err_p)
{
    char where[320];
    snprintf(where, sizeof where, "%s.retries", path);
    if (!retries || json_is_null(retries)) {
        return 0;
    }
    if (!json_is_object(retries)) {
        return s_fail(err_p, where, "must be an object");
    }
    json_t *policy = json_object_get(retries, "policy");
    if (policy && !json_is_null(policy)) {
        snprintf(where, sizeof where, "%s.retries.policy", path);
        const char *p = json_string_value(policy);
        if (!p) {
            return s_fail(err_p, where, "must be a string");
        }
        if (strcmp(p, "constant") && strcmp(p, "linear") &&
            strcmp(p, "exponential")) {
            char q[80];
            s_quote(p, q, sizeof q);
            return s_fail(err_p, where,
                          "unrecognized policy %s (constant, linear or "
                          "exponential)",
                          q);
        }
    }
    json_t *delay = json_object_get(retries, "delaySeconds");
    if (delay && !json_is_null(delay)) {
        snprintf(where, sizeof where, "%s.retries.delaySeconds", path);
        if (!json_is_number(delay)) {
            return s_fail(err_p, where, "must be a number");
        }
        double d = json_number_value(delay);
        if (!(d >= 0 && d <= CM_WEBHOOK_DELAY_MAX)) {
            return s_fail(err_p, where, "must be between 0 and %d",
                          CM_WEBHOOK_DELAY_MAX);
        }
    }
    json_t *attempts = json_object_get(retries, "attempts");
    if (attempts && !json_is_null(attempts)) {
        snprintf(where, sizeof where, "%s.retries.attempts", path);
        if (!json_is_number(attempts)) {
            return s_fail(err_p, where, "must be an integer");
        }
        double a = json_number_value(attempts);
        if (a != (double)(long)a) {
            return s_fail(err_p, where, "must be an integer");
        }
        if (a < 0 || a > CM_WEBHOOK_ATTEMPTS_MAX) {
            return s_fail(err_p, where, "must be between 0 and %d",
                          CM_WEBHOOK_ATTEMPTS_MAX);
        }
    }
    return 0;
}

static int
s_check_header(json_t *h, const char *where, char **err_p)
{
    char field[360];
    if (!json_is_object(h)) {
        return s_fail(err_p, where, "must be an object {name, value}");
    }
    snprintf(field, sizeof field, "%s.name", where);
    const char *name = json_string_value(json_object_get(h, "name"));
    if (!name) {
        return s_fail(err_p, field, "must be a string");
    }
    size_t len = strlen(name);
    if (len == 0 || len > CM_WEBHOOK_HEADER_NAME_MAX) {
        return s_fail(err_p, field, "must be 1 to %d bytes",
                      CM_WEBHOOK_HEADER_NAME_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        if (!s_token_char(name[i])) {
            return s_fail(err_p, field, "is not a valid header name");
        }
    }
    for (size_t i = 0;
         i < sizeof s_reserved_headers / sizeof s_reserved_headers[0]; i++) {
        if (strcasecmp(name, s_reserved_headers[i]) == 0) {
            char q[80];
            s_quote(name, q, sizeof q);
            return s_fail(err_p, field, "header %s cannot be set", q);
        }
    }
    snprintf(field, sizeof field, "%s.value", where);
    json_t *value = json_object_get(h, "value");
    if (!json_is_string(value)) {
        return s_fail(err_p, field, "must be a string");
    }
    const char *v = json_string_value(value);
    size_t vlen = json_string_length(value);
    if (vlen > CM_WEBHOOK_HEADER_VALUE_MAX) {
        return s_fail(err_p, field, "longer than %d bytes",
                      CM_WEBHOOK_HEADER_VALUE_MAX);
    }
    for (size_t i = 0; i < vlen; i++) {
        if (v[i] == '\r' || v[i] == '\n' || v[i] == 0) {
            return s_fail(err_p, field, "must not contain CR, LF or NUL");
        }
    }
    return 0;
}

static int
s_check_headers(json_t *headers, const char *path, char **err_p)
{
    char where[320];
    snprintf(where, sizeof where, "%s.customHeaders", path);
    if (!headers || json_is_null(headers)) {
        return 0;
    }
    if (!json_is_array(headers)) {
        return s_fail(err_p, where, "must be an array");
    }
    if (json_array_size(headers) > CM_WEBHOOK_HEADERS_MAX) {
        return s_fail(err_p, where, "has more than %d entries",
                      CM_WEBHOOK_HEADERS_MAX);
    }
    size_t i;
    json_t *h;
    json_array_foreach(headers, i, h)
    {
        snprintf(where, sizeof where, "%s.customHeaders[%zu]", path, i);
        if (s_check_header(h, where, err_p)) {
            return -1;
        }
    }
    return 0;
}

//  is_active: absent, null, true/false or 0/1. Returns -1 on anything
//  else, otherwise 0 and *active.
static int
s_is_active(json_t *v, bool *active)
{
    *active = true;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (json_is_boolean(v)) {
        *active = json_is_true(v);
        return 0;
    }
    if (json_is_integer(v) &&
        (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *active = json_integer_value(v) == 1;
        return 0;
    }
    return -1;
}

int
cm_webhook_validate(json_t *hook, const char *path, char **err_p)
{
    assert(path);
    char where[320];
    if (!json_is_object(hook)) {
        return s_fail(err_p, path, "must be an object");
    }
    snprintf(where, sizeof where, "%s.url", path);
    json_t *url = json_object_get(hook, "url");
    if (!url || json_is_null(url)) {
        return s_fail(err_p, where, "is required");
    }
    if (!json_is_string(url)) {
        return s_fail(err_p, where, "must be a string");
    }
    if (strlen(json_string_value(url)) != json_string_length(url)) {
        return s_fail(err_p, where, "must not contain NUL characters");
    }
    const char *problem = s_url_problem(json_string_value(url));
    if (problem) {
        return s_fail(err_p, where, "%s", problem);
    }
    if (s_check_events(json_object_get(hook, "events"), path, err_p) ||
        s_check_hmac(json_object_get(hook, "hmac"), path, err_p) ||
        s_check_retries(json_object_get(hook, "retries"), path, err_p) ||
        s_check_headers(json_object_get(hook, "customHeaders"), path, err_p)) {
        return -1;
    }
    bool active;
    if (s_is_active(json_object_get(hook, "is_active"), &active)) {
        snprintf(where, sizeof where, "%s.is_active", path);
        return s_fail(err_p, where, "must be a boolean");
    }
    return 0;
}

int
cm_webhook_validate_list(json_t *hooks, const char *path, char **err_p)
{
    assert(path);
    if (!hooks || json_is_null(hooks)) {
        return 0;
    }
    if (!json_is_array(hooks)) {
        return s_fail(err_p, path, "must be an array");
    }
    if (json_array_size(hooks) > CM_WEBHOOK_HOOKS_MAX) {
        return s_fail(err_p, path, "has more than %d webhooks",
                      CM_WEBHOOK_HOOKS_MAX);
    }
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        char where[300];
        snprintf(where, sizeof where, "%s[%zu]", path, i);
        if (cm_webhook_validate(h, where, err_p)) {
            return -1;
        }
    }
    return 0;
}

int
cm_webhook_validate_config(json_t *config, char **err_p)
{
    if (!config || json_is_null(config)) {
        return 0;
    }
    if (!json_is_object(config)) {
        return s_fail(err_p, "config", "must be an object");
    }
    return cm_webhook_validate_list(json_object_get(config, "webhooks"),
                                    "config.webhooks", err_p);
}

json_t *
cm_webhook_normalize(json_t *hook)
{
    if (cm_webhook_validate(hook, "webhook", NULL)) {
        return NULL;
    }
    json_t *out = json_object();
    json_object_set(out, "url", json_object_get(hook, "url"));
    json_object_set_new(out, "events",
                        json_deep_copy(json_object_get(hook, "events")));
    const char *key = json_string_value(
        json_object_get(json_object_get(hook, "hmac"), "key"));
    if (key && *key) {
        json_object_set_new(out, "hmac", json_pack("{s:s}", "key", key));
    } else {
        json_object_set_new(out, "hmac", json_null());
    }
    json_t *retries = json_object_get(hook, "retries");
    const char *policy = json_string_value(json_object_get(retries, "policy"));
    json_t *delay = json_object_get(retries, "delaySeconds");
    json_t *attempts = json_object_get(retries, "attempts");
    json_t *r = json_object();
    json_object_set_new(
        r, "policy", json_string(policy ? policy : CM_WEBHOOK_DEFAULT_POLICY));
    if (json_is_integer(delay)) {
        json_object_set(r, "delaySeconds", delay);
    } else if (json_is_real(delay)) {
        double d = json_real_value(delay);
        if (d == (double)(long)d) {
            json_object_set_new(r, "delaySeconds", json_integer((long)d));
        } else {
            json_object_set(r, "delaySeconds", delay);
        }
    } else {
        json_object_set_new(r, "delaySeconds",
                            json_integer(CM_WEBHOOK_DEFAULT_DELAY));
    }
    json_object_set_new(
        r, "attempts",
        json_integer(json_is_number(attempts)
                         ? (json_int_t)json_number_value(attempts)
                         : CM_WEBHOOK_DEFAULT_ATTEMPTS));
    json_object_set_new(out, "retries", r);
    json_t *headers = json_array();
    json_t *given = json_object_get(hook, "customHeaders");
    size_t i;
    json_t *h;
    json_array_foreach(given, i, h)
    {
        json_array_append_new(
            headers, json_pack("{s:O, s:O}", "name", json_object_get(h, "name"),
                               "value", json_object_get(h, "value")));
    }
    json_object_set_new(out, "customHeaders", headers);
    bool active;
    int rc = s_is_active(json_object_get(hook, "is_active"), &active);
    assert(rc == 0);
    json_object_set_new(out, "is_active", json_boolean(active));
    return out;
}

int64_t
cm_webhook_retry_delay_ms(json_t *hook, int n, double jitter)
{
    json_t *retries = json_object_get(hook, "retries");
    const char *policy = json_string_value(json_object_get(retries, "policy"));
    json_t *dv = json_object_get(retries, "delaySeconds");
    double d =
        json_is_number(dv) ? json_number_value(dv) : CM_WEBHOOK_DEFAULT_DELAY;
    if (!(d >= 0)) {
        d = 0;
    }
    if (d > CM_WEBHOOK_DELAY_MAX) {
        d = CM_WEBHOOK_DELAY_MAX;
    }
    if (n < 1) {
        n = 1;
    }
    if (!(jitter >= 0)) {
        jitter = 0;
    }
    if (jitter > 1) {
        jitter = 1;
    }
    double ms = d * 1000.0;
    if (cm_streq(policy, "linear")) {
        ms *= n;
    } else if (cm_streq(policy, "exponential")) {
        ms *= (n - 1 < 62 ? (double)(1LL << (n - 1)) : 4.6e18);
        ms *= 1.0 + 0.2 * jitter;
    }
    if (ms > (double)CM_WEBHOOK_RETRY_CAP_MS) {
        return CM_WEBHOOK_RETRY_CAP_MS;
    }
    return (int64_t)(ms + 0.5);
}

int
cm_webhook_retry_attempts(json_t *hook)
{
    json_t *a = json_object_get(json_object_get(hook, "retries"), "attempts");
    if (!json_is_number(a)) {
        return CM_WEBHOOK_DEFAULT_ATTEMPTS;
    }
    double v = json_number_value(a);
    if (!(v >= 0)) {
        return 0;
    }
    if (v > CM_WEBHOOK_ATTEMPTS_MAX) {
        return CM_WEBHOOK_ATTEMPTS_MAX;
    }
    return (int)v;
}

void
cm_webhook_hmac_hex(const char *key, const void *body, size_t len, char *out)
{
    assert(key);
    assert(out);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    uint8_t *rc = HMAC(EVP_sha512(), key, (int)strlen(key),
                       (const uint8_t *)body, len, mac, &mac_len);
    //  HMAC fails only on out-of-memory or a broken OpenSSL.
    if (!rc || mac_len != 64) {
        fprintf(stderr, "could not compute HMAC-SHA512\n");
        abort();
    }
    cm_hex(mac, mac_len, out);
}

void
cm_webhook_id(json_t *hook, char *out)
{
    assert(out);
    char *text =
        json_dumps(hook, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert(text);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(text, strlen(text), md, &md_len, EVP_sha256(), NULL) ||
        md_len != 32) {
        fprintf(stderr, "could not compute SHA-256\n");
        abort();
    }
    free(text);
    cm_hex(md, md_len, out);
}

//  Validate `text` as one webhook; returns the error (caller frees) or
//  NULL when valid.
static char *
s_try(const char *text)
{
    json_error_t jerr;
    json_t *hook = json_loads(text, JSON_ALLOW_NUL, &jerr);
    assert(hook);
    char *err = NULL;
    int rc = cm_webhook_validate(hook, "config.webhooks[0]", &err);
    assert((rc == 0) == (err == NULL));
    json_decref(hook);
    return err;
}

static void
s_expect(const char *text, const char *want)
{
    char *err = s_try(text);
    if (!want) {
        if (err) {
            fprintf(stderr, "unexpected error for %s: %s\n", text, err);
        }
        assert(err == NULL);
        return;
    }
    if (!err || !strstr(err, want)) {
        fprintf(stderr, "for %s want \"%s\", got \"%s\"\n", text, want,
                err ? err : "(valid)");
    }
    assert(err && strstr(err, want));
    free(err);
}

void
cm_webhook_test(bool verbose)
{
    printf(" * cm_webhook: ");

    //  Names
    assert(cm_webhook_event_count() == 31);
    assert(cm_streq(cm_webhook_event_at(0), "session.status"));
    assert(cm_webhook_event_at(31) == NULL);
    assert(cm_webhook_event_known("message.ack.group"));
    assert(cm_webhook_event_known("engine.event"));
    assert(!cm_webhook_event_known("*"));
    assert(!cm_webhook_event_known("foo"));
    assert(!cm_webhook_event_known(NULL));
    assert(cm_webhook_event_in_all("message"));
    assert(!cm_webhook_event_in_all("engine.event"));
    assert(!cm_webhook_event_in_all("state.change"));
    size_t in_all = 0;
    for (size_t i = 0; i < cm_webhook_event_count(); i++) {
        in_all += cm_webhook_event_in_all(cm_webhook_event_at(i));
    }
    assert(in_all == 29);
    assert(cm_webhook_event_in_all("group.v2.participants.join-request"));

    //  Matching
    json_t *star = json_pack("[s]", "*");
    json_t *some = json_pack("[s,s]", "message", "engine.event");
    assert(cm_webhook_matches(star, "session.status"));
    assert(!cm_webhook_matches(star, "engine.event"));
    assert(!cm_webhook_matches(star, "made.up"));
    assert(cm_webhook_matches(some, "message"));
    assert(cm_webhook_matches(some, "engine.event"));
    assert(!cm_webhook_matches(some, "message.any"));
    assert(!cm_webhook_matches(NULL, "message"));
    assert(!cm_webhook_matches(some, NULL));
    json_decref(star);
    json_decref(some);

    //  Valid configurations
    s_expect("{\"url\":\"http://127.0.0.1:8080/hook\",\"events\":[\"*\"]}",
             NULL);
    s_expect("{\"url\":\"HTTPS://user:pw@example.com\","
             "\"events\":[\"message\",\"session.status\"],"
             "\"hmac\":{\"key\":\"k\"},"
             "\"retries\":{\"policy\":\"exponential\",\"delaySeconds\":0.5,"
             "\"attempts\":0},"
             "\"customHeaders\":[{\"name\":\"X-Tenant\",\"value\":\"a b\"}],"
             "\"is_active\":1, \"other\":true}",
             NULL);
    s_expect("{\"url\":\"http://[::1]:3000/x?y#z\",\"events\":[\"message\"],"
             "\"hmac\":null,\"retries\":null,\"customHeaders\":null}",
             NULL);
    s_expect("{\"url\":\"http://h\",\"events\":[\"message\"],"
             "\"hmac\":{\"key\":null},\"retries\":{\"attempts\":100,"
             "\"delaySeconds\":3600,\"policy\":null}}",
             NULL);

    //  Invalid ones, each naming the field
    s_expect("[]", "config.webhooks[0]: must be an object");
    s_expect("{\"events\":[\"*\"]}", "config.webhooks[0].url: is required");
    s_expect("{\"url\":5,\"events\":[\"*\"]}", ".url: must be a string");
    s_expect("{\"url\":\"ftp://h/x\",\"events\":[\"*\"]}",
             ".url: scheme must be http or https");
    s_expect("{\"url\":\"http://\",\"events\":[\"*\"]}", ".url: has no host");
    s_expect("{\"url\":\"http:///x\",\"events\":[\"*\"]}", "has no host");
    s_expect("{\"url\":\"http://h:0/\",\"events\":[\"*\"]}",
             "has an invalid port");
    s_expect("{\"url\":\"http://h:99999/\",\"events\":[\"*\"]}",
             "has an invalid port");
    s_expect("{\"url\":\"http://h:/\",\"events\":[\"*\"]}",
             "has an invalid port");
    s_expect("{\"url\":\"http://h x/\",\"events\":[\"*\"]}", "whitespace");
    s_expect("{\"url\":\"http://h\\r\\nX: y\",\"events\":[\"*\"]}",
             "whitespace");
    s_expect("{\"url\":\"http://[zz]/\",\"events\":[\"*\"]}", "IPv6");
    s_expect("{\"url\":\"http://a/b\\u0000c\",\"events\":[\"*\"]}", "NUL");
    s_expect("{\"url\":\"http://h\"}",
             "config.webhooks[0].events: is required");
    s_expect("{\"url\":\"http://h\",\"events\":[]}",
             "config.webhooks[0].events: must not be empty");
    s_expect("{\"url\":\"http://h\",\"events\":\"*\"}",
             ".events: must be an array");
    s_expect("{\"url\":\"http://h\",\"events\":[\"message\",\"foo\"]}",
             "config.webhooks[0].events[1]: unrecognized event \"foo\"");
    s_expect("{\"url\":\"http://h\",\"events\":[\"message\",7]}",
             ".events[1]: must be a string");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],\"hmac\":\"k\"}",
             ".hmac: must be an object");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],\"hmac\":{\"key\":1}}",
             ".hmac.key: must be a string");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"retries\":{\"policy\":\"random\"}}",
             ".retries.policy: unrecognized policy \"random\"");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"retries\":{\"delaySeconds\":-1}}",
             ".retries.delaySeconds: must be between 0 and 3600");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"retries\":{\"delaySeconds\":3601}}",
             ".retries.delaySeconds: must be between 0 and 3600");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"retries\":{\"attempts\":-1}}",
             "config.webhooks[0].retries.attempts: must be between 0 and 100");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"retries\":{\"attempts\":1.5}}",
             ".retries.attempts: must be an integer");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"retries\":{\"attempts\":\"3\"}}",
             ".retries.attempts: must be an integer");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"customHeaders\":{}}",
             ".customHeaders: must be an array");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"customHeaders\":[{\"name\":\"Host\",\"value\":\"x\"}]}",
             ".customHeaders[0].name: header \"Host\" cannot be set");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"customHeaders\":[{\"name\":\"a\",\"value\":\"b\"},"
             "{\"name\":\"Content-Length\",\"value\":\"1\"}]}",
             ".customHeaders[1].name: header \"Content-Length\" cannot");
    s_expect(
        "{\"url\":\"http://h\",\"events\":[\"*\"],"
        "\"customHeaders\":[{\"name\":\"X-Webhook-Hmac\",\"value\":\"x\"}]}",
        "cannot be set");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"customHeaders\":[{\"name\":\"a b\",\"value\":\"x\"}]}",
             ".customHeaders[0].name: is not a valid header name");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"customHeaders\":[{\"name\":\"a:\",\"value\":\"x\"}]}",
             "is not a valid header name");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"customHeaders\":[{\"name\":\"a\",\"value\":\"x\\r\\nB: c\"}]}",
             ".customHeaders[0].value: must not contain CR, LF or NUL");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],"
             "\"customHeaders\":[{\"name\":\"a\"}]}",
             ".customHeaders[0].value: must be a string");
    s_expect("{\"url\":\"http://h\",\"events\":[\"*\"],\"is_active\":\"y\"}",
             ".is_active: must be a boolean");

    //  Long values: a URL of exactly 2048 bytes passes, 2049 fails
    char *path = cm_alloc(CM_WEBHOOK_URL_MAX);
    memset(path, 'a', CM_WEBHOOK_URL_MAX - 9);
    char *text =
        cm_sprintf("{\"url\":\"http://h/%s\",\"events\":[\"*\"]}", path);
    s_expect(text, NULL);
    free(text);
    path[CM_WEBHOOK_URL_MAX - 9] = 'a';
    text = cm_sprintf("{\"url\":\"http://h/%s\",\"events\":[\"*\"]}", path);
    s_expect(text, "longer than 2048 bytes");
    free(text);
    free(path);
    char key[CM_WEBHOOK_HMAC_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    text = cm_sprintf("{\"url\":\"http://h\",\"events\":[\"*\"],"
                      "\"hmac\":{\"key\":\"%s\"}}",
                      key);
    s_expect(text, ".hmac.key: longer than 256 bytes");
    free(text);

    //  Lists and session configs
    char *err = NULL;
    json_t *cfg = json_loads("{\"metadata\":{},\"webhooks\":["
                             "{\"url\":\"http://a\",\"events\":[\"*\"]},"
                             "{\"url\":\"http://b\",\"events\":[\"x\"]}]}",
                             0, NULL);
    assert(cfg);
    assert(cm_webhook_validate_config(cfg, &err) == -1);
    assert(cm_streq(err, "config.webhooks[1].events[0]: unrecognized event "
                         "\"x\""));
    free(err);
    err = NULL;
    json_array_remove(json_object_get(cfg, "webhooks"), 1);
    assert(cm_webhook_validate_config(cfg, &err) == 0 && !err);
    json_object_set_new(cfg, "webhooks", json_string("x"));
    assert(cm_webhook_validate_config(cfg, &err) == -1);
    assert(cm_streq(err, "config.webhooks: must be an array"));
    free(err);
    err = NULL;
    json_decref(cfg);
    assert(cm_webhook_validate_config(NULL, &err) == 0);
    json_t *s = json_string("x");
    assert(cm_webhook_validate_config(s, &err) == -1);
    assert(cm_streq(err, "config: must be an object"));
    free(err);
    err = NULL;
    json_decref(s);
    assert(cm_webhook_validate_list(json_null(), "w", &err) == 0);

    //  Normal form
    json_t *hook = json_loads("{\"url\":\"http://a\",\"events\":[\"*\"],"
                              "\"junk\":1,\"hmac\":{\"key\":\"\"},"
                              "\"retries\":{\"delaySeconds\":3.0}}",
                              0, NULL);
    json_t *full = cm_webhook_normalize(hook);
    assert(full);
    char *dump = json_dumps(full, JSON_COMPACT);
    assert(cm_streq(dump,
                    "{\"url\":\"http://a\",\"events\":[\"*\"],\"hmac\":null,"
                    "\"retries\":{\"policy\":\"constant\",\"delaySeconds\":3,"
                    "\"attempts\":15},\"customHeaders\":[],"
                    "\"is_active\":true}"));
    free(dump);
    assert(cm_webhook_retry_attempts(full) == 15);
    assert(cm_webhook_retry_delay_ms(full, 1, 0) == 3000);
    assert(cm_webhook_retry_delay_ms(full, 7, 1) == 3000);
    json_decref(full);
    json_decref(hook);
    hook = json_pack("{s:s}", "url", "http://a");
    assert(cm_webhook_normalize(hook) == NULL);
    json_decref(hook);

    //  Retry delays
    hook = json_loads("{\"retries\":{\"policy\":\"linear\","
                      "\"delaySeconds\":2,\"attempts\":4}}",
                      0, NULL);
    assert(cm_webhook_retry_attempts(hook) == 4);
    assert(cm_webhook_retry_delay_ms(hook, 1, 0.5) == 2000);
    assert(cm_webhook_retry_delay_ms(hook, 3, 0) == 6000);
    json_object_set_new(json_object_get(hook, "retries"), "policy",
                        json_string("exponential"));
    assert(cm_webhook_retry_delay_ms(hook, 1, 0) == 2000);
    assert(cm_webhook_retry_delay_ms(hook, 2, 0) == 4000);
    assert(cm_webhook_retry_delay_ms(hook, 3, 0) == 8000);
    assert(cm_webhook_retry_delay_ms(hook, 3, 1) == 9600);
    assert(cm_webhook_retry_delay_ms(hook, 2, 0.25) == 4200);
    assert(cm_webhook_retry_delay_ms(hook, 100, 0) == CM_WEBHOOK_RETRY_CAP_MS);
    json_decref(hook);
    assert(cm_webhook_retry_delay_ms(NULL, 1, 0) == 2000);
    assert(cm_webhook_retry_attempts(NULL) == 15);

    //  Config ids do not depend on key order
    json_t *a =
        json_loads("{\"url\":\"http://a\",\"events\":[\"*\"]}", 0, NULL);
    json_t *b =
        json_loads("{\"events\":[\"*\"],\"url\":\"http://a\"}", 0, NULL);
    char ida[CM_WEBHOOK_ID_SIZE];
    char idb[CM_WEBHOOK_ID_SIZE];
    cm_webhook_id(a, ida);
    cm_webhook_id(b, idb);
    assert(strlen(ida) == 64 && cm_streq(ida, idb));
    json_object_set_new(b, "url", json_string("http://b"));
    cm_webhook_id(b, idb);
    assert(!cm_streq(ida, idb));
    json_decref(a);
    json_decref(b);

    //  HMAC known answer (WAHA docs' example)
    const char *body =
        "{\"event\":\"message\",\"session\":\"default\",\"engine\":\"WEBJS\"}";
    char hex[CM_WEBHOOK_HMAC_HEX_SIZE];
    cm_webhook_hmac_hex("my-secret-key", body, strlen(body), hex);
    assert(cm_streq(hex, "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b"
                         "90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a6"
                         "3f6752c2c1631777076153fa89"));
    cm_webhook_hmac_hex("", "", 0, hex);
    assert(strlen(hex) == 128);

    if (verbose) {
        char *e = s_try("{\"url\":\"http://h\",\"events\":[\"nope\"]}");
        printf("\n   sample error: %s\n   ", e);
        free(e);
    }
    printf("OK\n");
}
