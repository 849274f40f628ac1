/*  gw_status - the server's status and environment (WAHA's)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

extern char **environ;

static int64_t s_started_ms;

//  Taken when the program loads, before main.
__attribute__((constructor)) static void
s_note_start(void)
{
    s_started_ms = cm_now_ms();
}

int64_t
gw_status_started_ms(void)
{
    return s_started_ms;
}

void
gw_status_status(gw_req_t *req)
{
    int64_t now = cm_now_ms();
    json_t *body =
        json_pack("{s:I, s:I, s:{s:s}}", "startTimestamp",
                  (json_int_t)s_started_ms, "uptime",
                  (json_int_t)(now - s_started_ms), "worker", "id",
                  "api-gateway");
    gw_req_reply(req, 200, &body);
}

//  True when a variable of this name (or value) holds a secret.
static bool
s_secret(const char *name, size_t len, const char *value)
{
    static const char *const words[] = {"KEY",        "SECRET", "PASSWORD",
                                        "PASS",       "TOKEN",  "DATABASE_URL",
                                        "CREDENTIAL", NULL};
    char upper[256];
    size_t n = len < sizeof upper - 1 ? len : sizeof upper - 1;
    for (size_t i = 0; i < n; i++) {
        upper[i] = (char)toupper((unsigned char)name[i]);
    }
    upper[n] = 0;
    for (int i = 0; words[i]; i++) {
        if (strstr(upper, words[i])) {
            return true;
        }
    }
    //  scheme://user:password@host
    const char *scheme = strstr(value, "://");
    if (scheme) {
        const char *at = strchr(scheme + 3, '@');
        const char *colon = strchr(scheme + 3, ':');
        if (at && colon && colon < at) {
            return true;
        }
    }
    return false;
}

json_t *
gw_status_env(char **env, bool all)
{
    //  Sorted by name: jansson's dump sorts keys with JSON_SORT_KEYS, but
    //  the order of an object is what it was built with; build it sorted.
    zlistx_t *names = zlistx_new();
    zlistx_set_comparator(names, (zlistx_comparator_fn *)strcmp);
    for (char **e = env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e) {
            continue;
        }
        size_t len = (size_t)(eq - *e);
        bool wanted = all || strncmp(*e, "WAHA_", 5) == 0 ||
                      strncmp(*e, "WHATSAPP_", 9) == 0 ||
                      (len == 5 && strncmp(*e, "DEBUG", 5) == 0);
        if (wanted) {
            zlistx_add_end(names, *e);
        }
    }
    zlistx_sort(names);
    json_t *out = json_object();
    for (const char *e = zlistx_first(names); e; e = zlistx_next(names)) {
        const char *eq = strchr(e, '=');
        size_t len = (size_t)(eq - e);
        char *name = cm_strndup(e, len);
        json_object_set_new(
            out, name,
            json_string(s_secret(name, len, eq + 1) ? "***" : eq + 1));
        free(name);
    }
    zlistx_destroy(&names);
    return out;
}

void
gw_status_environment(gw_req_t *req)
{
    const char *all = gw_req_query(req, "all");
    if (all && !streq(all, "true") && !streq(all, "false")) {
        gw_req_fail_invalid(req, "all must be a boolean value");
        return;
    }
    json_t *body = gw_status_env(environ, all && streq(all, "true"));
    gw_req_reply(req, 200, &body);
}

json_t *
gw_status_schemas(void)
{
    const char *text =
        "{\"ServerStatusResponse\":{\"type\":\"object\",\"required\":"
        "[\"startTimestamp\",\"uptime\"],\"properties\":{\"startTimestamp\":"
        "{\"type\":\"integer\",\"description\":\"When the process started "
        "(ms since the epoch)\",\"example\":1741249702485},\"uptime\":{"
        "\"type\":\"integer\",\"description\":\"Milliseconds since then\","
        "\"example\":3600000}}},"
        "\"ServerEnvironment\":{\"type\":\"object\",\"additionalProperties\":"
        "{\"type\":\"string\"},\"example\":{\"WAHA_API_KEY\":\"***\","
        "\"WHATSAPP_API_PORT\":\"3000\"}}}";
    json_t *schemas = json_loads(text, 0, NULL);
    assert(schemas);
    return schemas;
}

void
gw_status_test(bool verbose)
{
    printf(" * gw_status: ");
    char *env[] = {"WHATSAPP_API_PORT=3000",
                   "PATH=/bin",
                   "WAHA_API_KEY=plain-secret",
                   "DEBUG=1",
                   "DEBUGGER=x",
                   "WAHA_A=first",
                   "WHATSAPP_HOOK_URL=http://u:pw@h/x",
                   "WHATSAPP_HOOK_HMAC_KEY=k",
                   "DATABASE_URL=postgres://x",
                   "=odd",
                   NULL};
    json_t *out = gw_status_env(env, false);
    char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert(streq(text, "{\"DEBUG\":\"1\",\"WAHA_A\":\"first\","
                       "\"WAHA_API_KEY\":\"***\",\"WHATSAPP_API_PORT\":"
                       "\"3000\",\"WHATSAPP_HOOK_HMAC_KEY\":\"***\","
                       "\"WHATSAPP_HOOK_URL\":\"***\"}"));
    free(text);
    json_decref(out);
    out = gw_status_env(env, true);
    assert(streq(json_string_value(json_object_get(out, "PATH")), "/bin"));
    assert(
        streq(json_string_value(json_object_get(out, "DATABASE_URL")), "***"));
    assert(json_object_size(out) == 9);
    json_decref(out);

    gw_req_t *req = gw_req_new("GET", "/api/server/status");
    gw_status_status(req);
    json_t *body = json_loads(gw_req_response(req), 0, NULL);
    int64_t start = json_integer_value(json_object_get(body, "startTimestamp"));
    int64_t up = json_integer_value(json_object_get(body, "uptime"));
    assert(start > 1700000000000 && up >= 0 && start + up <= cm_now_ms());
    json_decref(body);
    gw_req_destroy(&req);

    req = gw_req_new("GET", "/api/server/environment");
    gw_req_set_query(req, "all", "yes");
    gw_status_environment(req);
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);
    json_t *schemas = gw_status_schemas();
    assert(json_object_get(schemas, "ServerStatusResponse"));
    json_decref(schemas);
    if (verbose) {
        printf("(env) ");
    }
    printf("OK\n");
}
