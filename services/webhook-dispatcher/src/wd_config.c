/*  wd_config - webhook-dispatcher configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "wd_classes.h"

json_t *
wd_config_parse_headers(const char *text, char **err_p)
{
    json_t *headers = json_array();
    char *list = cm_strdup(text ? text : "");
    char *save = NULL;
    for (char *item = strtok_r(list, ";", &save); item;
         item = strtok_r(NULL, ";", &save)) {
        while (isspace((unsigned char)*item)) {
            item++;
        }
        if (!*item) {
            continue;
        }
        char *colon = strchr(item, ':');
        if (!colon) {
            *err_p = cm_sprintf("entry \"%.64s\" has no ':'", item);
            json_decref(headers);
            free(list);
            return NULL;
        }
        *colon = 0;
        char *name = item;
        char *end = colon;
        while (end > name && isspace((unsigned char)end[-1])) {
            *--end = 0;
        }
        char *value = colon + 1;
        while (isspace((unsigned char)*value)) {
            value++;
        }
        end = value + strlen(value);
        while (end > value && isspace((unsigned char)end[-1])) {
            *--end = 0;
        }
        if (!*name) {
            *err_p = cm_strdup("a header has an empty name");
            json_decref(headers);
            free(list);
            return NULL;
        }
        json_array_append_new(
            headers, json_pack("{s:s, s:s}", "name", name, "value", value));
    }
    free(list);
    return headers;
}

//  The variable a cm_webhook error message is about.
static const char *
s_variable_for(const char *err)
{
    if (strstr(err, ".events")) {
        return "WHATSAPP_HOOK_EVENTS";
    }
    if (strstr(err, ".hmac")) {
        return "WHATSAPP_HOOK_HMAC_KEY";
    }
    if (strstr(err, ".customHeaders")) {
        return "WHATSAPP_HOOK_CUSTOM_HEADERS";
    }
    if (strstr(err, ".retries")) {
        return "WHATSAPP_HOOK_RETRIES_POLICY";
    }
    return "WHATSAPP_HOOK_URL";
}

//  The global webhook from WHATSAPP_HOOK_*, in full form, or NULL when
//  WHATSAPP_HOOK_URL is not set.
static json_t *
s_global_hook(void)
{
    char *url = cm_env_str("WHATSAPP_HOOK_URL", NULL);
    if (!url) {
        return NULL;
    }
    json_t *hook = json_object();
    json_object_set_new(hook, "url", json_string(url));
    free(url);

    char *events = cm_env_str("WHATSAPP_HOOK_EVENTS", "*");
    json_t *names = json_array();
    char *save = NULL;
    for (char *e = strtok_r(events, ",", &save); e;
         e = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*e)) {
            e++;
        }
        char *end = e + strlen(e);
        while (end > e && isspace((unsigned char)end[-1])) {
            *--end = 0;
        }
        if (*e) {
            json_array_append_new(names, json_string(e));
        }
    }
    free(events);
    json_object_set_new(hook, "events", names);

    char *key = cm_env_str("WHATSAPP_HOOK_HMAC_KEY", NULL);
    if (key) {
        json_object_set_new(hook, "hmac", json_pack("{s:s}", "key", key));
        free(key);
    }
    char *policy = cm_env_choice("WHATSAPP_HOOK_RETRIES_POLICY", "constant",
                                 "constant|linear|exponential");
    for (char *p = policy; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    long delay = cm_env_long("WHATSAPP_HOOK_RETRIES_DELAY_SECONDS",
                             CM_WEBHOOK_DEFAULT_DELAY, 0, CM_WEBHOOK_DELAY_MAX);
    long attempts =
        cm_env_long("WHATSAPP_HOOK_RETRIES_ATTEMPTS",
                    CM_WEBHOOK_DEFAULT_ATTEMPTS, 0, CM_WEBHOOK_ATTEMPTS_MAX);
    json_object_set_new(hook, "retries",
                        json_pack("{s:s, s:I, s:I}", "policy", policy,
                                  "delaySeconds", (json_int_t)delay, "attempts",
                                  (json_int_t)attempts));
    free(policy);

    char *text = cm_env_str("WHATSAPP_HOOK_CUSTOM_HEADERS", NULL);
    if (text) {
        char *err = NULL;
        json_t *headers = wd_config_parse_headers(text, &err);
        free(text);
        if (!headers) {
            json_decref(hook);
            cm_env_fail("WHATSAPP_HOOK_CUSTOM_HEADERS", err);
        }
        json_object_set_new(hook, "customHeaders", headers);
    }

    char *err = NULL;
    if (cm_webhook_validate(hook, "global webhook", &err)) {
        json_decref(hook);
        cm_env_fail(s_variable_for(err), err);
    }
    json_t *full = cm_webhook_normalize(hook);
    json_decref(hook);
    assert(full);
    return full;
}

wd_config_t *
wd_config_new(void)
{
    wd_config_t *self = cm_alloc(sizeof *self);
    self->log_level =
        cm_env_choice("APP_LOG_LEVEL", "info", "error|warn|info|debug");
    self->store_endpoints =
        cm_env_str("STORE_ENDPOINTS", "tcp://127.0.0.1:7401");
    self->pub_endpoints =
        cm_env_str("STORE_PUB_ENDPOINTS", "tcp://127.0.0.1:7402");
    self->global_hook = s_global_hook();
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !*host) {
        snprintf(host, sizeof host, "dispatcher");
    }
    self->id = cm_env_str("DISPATCHER_ID", host);
    if (strlen(self->id) > 128) {
        cm_env_fail("DISPATCHER_ID", "longer than 128 bytes");
    }
    self->poll_ms = (int)cm_env_long("DISPATCHER_POLL_MS", 1000, 10, 600000);
    self->max_streams =
        (int)cm_env_long("DISPATCHER_MAX_STREAMS", 2000, 1, 100000);
    self->batch = (int)cm_env_long("DISPATCHER_BATCH", 100, 1, 1000);
    self->fanout_limit =
        (int)cm_env_long("DISPATCHER_FANOUT_LIMIT", 5000, 1, 10000);
    self->max_in_flight =
        (int)cm_env_long("DISPATCHER_MAX_IN_FLIGHT", 512, 1, 10000);
    self->per_target = (int)cm_env_long("DISPATCHER_PER_TARGET", 32, 1, 10000);
    self->timeout_ms =
        (int)cm_env_long("DISPATCHER_TIMEOUT_MS", 10000, 100, 600000);
    self->lease_ms =
        (int)cm_env_long("DISPATCHER_LEASE_MS", 30000, 1000, 3600000);
    if (self->lease_ms < self->timeout_ms + 1000) {
        cm_env_fail("DISPATCHER_LEASE_MS",
                    "must exceed DISPATCHER_TIMEOUT_MS by at least 1000");
    }
    self->retention_days =
        (int)cm_env_long("DISPATCHER_RETENTION_DAYS", 7, 0, 3650);
    self->prune_interval_ms = (int)cm_env_long("DISPATCHER_PRUNE_INTERVAL_MS",
                                               3600000, 1000, 86400000);
    self->prune_events = cm_env_bool("DISPATCHER_PRUNE_EVENTS", false);
    self->store_timeout_ms =
        (int)cm_env_long("DISPATCHER_STORE_TIMEOUT_MS", 10000, 100, 600000);
    self->allow = cm_env_str("DISPATCHER_ALLOW", "");
    cm_net_t *net = cm_net_new(self->allow);
    if (!net) {
        cm_env_fail("DISPATCHER_ALLOW",
                    "not a comma list of addresses and CIDRs (at most 64)");
    }
    cm_net_destroy(&net);
    return self;
}

void
wd_config_destroy(wd_config_t **self_p)
{
    assert(self_p);
    wd_config_t *self = *self_p;
    if (self) {
        free(self->log_level);
        free(self->store_endpoints);
        free(self->pub_endpoints);
        json_decref(self->global_hook);
        free(self->id);
        free(self->allow);
        free(self);
        *self_p = NULL;
    }
}

static const char *s_vars[] = {"WHATSAPP_HOOK_URL",
                               "WHATSAPP_HOOK_EVENTS",
                               "WHATSAPP_HOOK_HMAC_KEY",
                               "WHATSAPP_HOOK_RETRIES_POLICY",
                               "WHATSAPP_HOOK_RETRIES_DELAY_SECONDS",
                               "WHATSAPP_HOOK_RETRIES_ATTEMPTS",
                               "WHATSAPP_HOOK_CUSTOM_HEADERS",
                               "DISPATCHER_ID",
                               "DISPATCHER_LEASE_MS",
                               "DISPATCHER_TIMEOUT_MS",
                               "DISPATCHER_PER_TARGET",
                               "DISPATCHER_ALLOW"};

static void
s_clear_env(void)
{
    for (size_t i = 0; i < sizeof s_vars / sizeof s_vars[0]; i++) {
        unsetenv(s_vars[i]);
    }
}

//  Exit status of wd_config_new in a child with `name`=`value` set.
static int
s_exit_code(const char *name, const char *value)
{
    fflush(stdout);
    pid_t pid = fork();
    assert(pid >= 0);
    if (pid == 0) {
        //  Quiet child: the message is expected.
        if (!freopen("/dev/null", "w", stderr)) {
            _exit(1);
        }
        setenv("WHATSAPP_HOOK_URL", "http://127.0.0.1:1/h", 1);
        setenv(name, value, 1);
        wd_config_t *cfg = wd_config_new();
        wd_config_destroy(&cfg);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
wd_config_test(bool verbose)
{
    printf(" * wd_config: ");
    s_clear_env();
    wd_config_t *cfg = wd_config_new();
    assert(cfg->global_hook == NULL);
    assert(cm_streq(cfg->store_endpoints, "tcp://127.0.0.1:7401") ||
           getenv("STORE_ENDPOINTS"));
    assert(cfg->id && *cfg->id);
    assert(cfg->batch == 100);
    wd_config_destroy(&cfg);
    wd_config_destroy(&cfg);

    setenv("WHATSAPP_HOOK_URL", "http://127.0.0.1:9/hook", 1);
    setenv("WHATSAPP_HOOK_EVENTS", " message , session.status,", 1);
    setenv("WHATSAPP_HOOK_HMAC_KEY", "sekrit", 1);
    setenv("WHATSAPP_HOOK_RETRIES_POLICY", "Exponential", 1);
    setenv("WHATSAPP_HOOK_RETRIES_DELAY_SECONDS", "0", 1);
    setenv("WHATSAPP_HOOK_RETRIES_ATTEMPTS", "3", 1);
    setenv("WHATSAPP_HOOK_CUSTOM_HEADERS", "X-A: 1; X-B:two words ;", 1);
    setenv("DISPATCHER_ID", "d1", 1);
    cfg = wd_config_new();
    char *dump = json_dumps(cfg->global_hook, JSON_COMPACT);
    if (verbose) {
        fprintf(stderr, "%s\n", dump);
    }
    assert(cm_streq(dump,
                    "{\"url\":\"http://127.0.0.1:9/hook\",\"events\":["
                    "\"message\",\"session.status\"],\"hmac\":{\"key\":"
                    "\"sekrit\"},\"retries\":{\"policy\":\"exponential\","
                    "\"delaySeconds\":0,\"attempts\":3},\"customHeaders\":"
                    "[{\"name\":\"X-A\",\"value\":\"1\"},{\"name\":\"X-B\","
                    "\"value\":\"two words\"}],\"is_active\":true}"));
    free(dump);
    assert(cm_streq(cfg->id, "d1"));
    wd_config_destroy(&cfg);
    s_clear_env();

    char *err = NULL;
    assert(wd_config_parse_headers("novalue", &err) == NULL);
    assert(err && strstr(err, "no ':'"));
    free(err);
    err = NULL;
    assert(wd_config_parse_headers(" :x", &err) == NULL);
    free(err);
    json_t *empty = wd_config_parse_headers("", &err);
    assert(json_array_size(empty) == 0);
    json_decref(empty);

    //  Bad values exit 78
    assert(s_exit_code("WHATSAPP_HOOK_EVENTS", "message,foo") == 78);
    assert(s_exit_code("WHATSAPP_HOOK_URL", "ftp://x") == 78);
    assert(s_exit_code("WHATSAPP_HOOK_RETRIES_ATTEMPTS", "-1") == 78);
    assert(s_exit_code("WHATSAPP_HOOK_RETRIES_POLICY", "sometimes") == 78);
    assert(s_exit_code("WHATSAPP_HOOK_CUSTOM_HEADERS", "Host:x") == 78);
    assert(s_exit_code("DISPATCHER_PER_TARGET", "0") == 78);
    assert(s_exit_code("DISPATCHER_LEASE_MS", "5000") == 78);
    assert(s_exit_code("DISPATCHER_ALLOW", "localhost") == 78);
    assert(s_exit_code("DISPATCHER_ALLOW", "10.0.0.0/40") == 78);
    assert(s_exit_code("DISPATCHER_ALLOW", "127.0.0.1, 10.1.0.0/16") == 0);
    assert(s_exit_code("WHATSAPP_HOOK_EVENTS", "*") == 0);
    s_clear_env();
    printf("OK\n");
}
