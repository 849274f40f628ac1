/*  sw_config - session-worker configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include "wa/wa_payload.h"

struct _sw_config_t {
    char *worker_id;                   //  WORKER_ID
    char *gateway_endpoints;           //  GATEWAY_ENDPOINTS
    char *store_endpoints;             //  STORE_ENDPOINTS
    char *media_endpoints;             //  MEDIA_ENDPOINTS
    char *wa_url;                      //  WA_URL
    uint8_t root_key[SW_ROOT_KEY_LEN]; //  WA_ROOT_KEY, decoded
    int lease_ttl_ms;                  //  LEASE_TTL_MS
    int max_sessions;                  //  WORKER_MAX_SESSIONS
    int claim_interval_ms;             //  WORKER_CLAIM_INTERVAL_MS
    int claim_batch;                   //  WORKER_CLAIM_BATCH
    int reconnect_min_ms;              //  WA_RECONNECT_MIN_MS
    int reconnect_max_ms;              //  WA_RECONNECT_MAX_MS
    char *log_level;                   //  APP_LOG_LEVEL
    char *base_url;                    //  WAHA_BASE_URL
    bool download_media;               //  WHATSAPP_DOWNLOAD_MEDIA
};

//  A worker id is a ZeroMQ routing id and a log field: printable ASCII
//  without spaces or quotes, 1..64 bytes.
static bool
s_valid_id(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len > 64) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

sw_config_t *
sw_config_new(void)
{
    sw_config_t *self = cm_alloc(sizeof *self);
    char host[256] = "worker";
    if (gethostname(host, sizeof host) != 0) {
        snprintf(host, sizeof host, "worker");
    }
    host[sizeof host - 1] = 0;
    char *dflt = cm_sprintf("%.40s-%d", host, (int)getpid());
    self->worker_id = cm_env_str("WORKER_ID", dflt);
    free(dflt);
    if (!s_valid_id(self->worker_id)) {
        cm_env_fail("WORKER_ID", "must be 1..64 printable characters "
                                 "without spaces or quotes");
    }
    self->gateway_endpoints =
        cm_env_str("GATEWAY_ENDPOINTS", "tcp://127.0.0.1:7403");
    self->store_endpoints =
        cm_env_str("STORE_ENDPOINTS", "tcp://127.0.0.1:7401");
    self->media_endpoints =
        cm_env_str("MEDIA_ENDPOINTS", "tcp://127.0.0.1:7404");
    self->wa_url = cm_env_str("WA_URL", "wss://web.whatsapp.com/ws/chat");
    sw_url_t *url = sw_url_new(self->wa_url);
    if (!url) {
        cm_env_fail("WA_URL", "must be a ws:// or wss:// URL with a host");
    }
    sw_url_destroy(&url);
    char *key = cm_env_str("WA_ROOT_KEY", SW_ROOT_KEY_DEFAULT);
    if (strlen(key) != 2 * SW_ROOT_KEY_LEN ||
        cm_unhex(key, self->root_key, sizeof self->root_key) !=
            SW_ROOT_KEY_LEN) {
        free(key);
        cm_env_fail("WA_ROOT_KEY", "must be 64 hex digits (32 bytes)");
    }
    free(key);
    self->lease_ttl_ms = (int)cm_env_long("LEASE_TTL_MS", 15000, 1000, 600000);
    self->max_sessions =
        (int)cm_env_long("WORKER_MAX_SESSIONS", 10000, 1, 1000000);
    self->claim_batch = (int)cm_env_long("WORKER_CLAIM_BATCH", 100, 1, 1000);
    self->claim_interval_ms =
        (int)cm_env_long("WORKER_CLAIM_INTERVAL_MS", 1000, 50, 600000);
    self->reconnect_min_ms =
        (int)cm_env_long("WA_RECONNECT_MIN_MS", 1000, 10, 3600000);
    self->reconnect_max_ms =
        (int)cm_env_long("WA_RECONNECT_MAX_MS", 60000, 10, 3600000);
    if (self->reconnect_max_ms < self->reconnect_min_ms) {
        cm_env_fail("WA_RECONNECT_MAX_MS",
                    "must not be less than WA_RECONNECT_MIN_MS");
    }
    self->log_level =
        cm_env_choice("APP_LOG_LEVEL", "info", "error|warn|info|debug");
    //  media.url of downloaded files: the gateway's address as clients
    //  reach it (WAHA's name and default)
    self->base_url = cm_env_str("WAHA_BASE_URL", "http://localhost:3000");
    size_t blen = strlen(self->base_url);
    while (blen > 0 && self->base_url[blen - 1] == '/') {
        self->base_url[--blen] = 0;
    }
    if ((strncmp(self->base_url, "http://", 7) != 0 &&
         strncmp(self->base_url, "https://", 8) != 0) ||
        blen > 512 || strpbrk(self->base_url, " \"?#")) {
        cm_env_fail("WAHA_BASE_URL", "must be an http:// or https:// URL");
    }
    self->download_media = cm_env_bool("WHATSAPP_DOWNLOAD_MEDIA", true);
    //  The client identity of every session (wa_payload.h: the defaults
    //  and where they come from)
    char *version = cm_env_str("WA_WEB_VERSION", WA_IDENT_WEB_VERSION);
    char *name = cm_env_str("WA_DEVICE_NAME", WA_IDENT_DEVICE_NAME);
    char *platform = cm_env_choice("WA_DEVICE_PLATFORM", "chrome",
                                   "chrome|firefox|safari|edge|desktop");
    static const struct {
        const char *name;
        int type;
    } platforms[] = {{"chrome", WA_PAYLOAD_DEVICE_CHROME},
                     {"firefox", WA_PAYLOAD_DEVICE_FIREFOX},
                     {"safari", WA_PAYLOAD_DEVICE_SAFARI},
                     {"edge", WA_PAYLOAD_DEVICE_EDGE},
                     {"desktop", WA_PAYLOAD_DEVICE_DESKTOP}};
    int type = WA_IDENT_DEVICE_PLATFORM;
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++) {
        if (cm_streq(platform, platforms[i].name)) {
            type = platforms[i].type;
        }
    }
    if (wa_payload_set_defaults(version, NULL, -1) != 0) {
        cm_env_fail("WA_WEB_VERSION", "must be a version a.b.c");
    }
    if (wa_payload_set_defaults(NULL, name, type) != 0) {
        cm_env_fail("WA_DEVICE_NAME", "must be 1..64 bytes");
    }
    free(version);
    free(name);
    free(platform);
    return self;
}

void
sw_config_destroy(sw_config_t **self_p)
{
    assert(self_p);
    sw_config_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->worker_id);
    free(self->gateway_endpoints);
    free(self->store_endpoints);
    free(self->media_endpoints);
    free(self->wa_url);
    free(self->log_level);
    free(self->base_url);
    free(self);
    *self_p = NULL;
}

const char *
sw_config_worker_id(const sw_config_t *self)
{
    return self->worker_id;
}

const char *
sw_config_gateway_endpoints(const sw_config_t *self)
{
    return self->gateway_endpoints;
}

const char *
sw_config_store_endpoints(const sw_config_t *self)
{
    return self->store_endpoints;
}

const char *
sw_config_media_endpoints(const sw_config_t *self)
{
    return self->media_endpoints;
}

const char *
sw_config_base_url(const sw_config_t *self)
{
    return self->base_url;
}

bool
sw_config_download_media(const sw_config_t *self)
{
    return self->download_media;
}

const char *
sw_config_wa_url(const sw_config_t *self)
{
    return self->wa_url;
}

const uint8_t *
sw_config_root_key(const sw_config_t *self)
{
    return self->root_key;
}

int
sw_config_lease_ttl_ms(const sw_config_t *self)
{
    return self->lease_ttl_ms;
}

int
sw_config_max_sessions(const sw_config_t *self)
{
    return self->max_sessions;
}

int
sw_config_claim_interval_ms(const sw_config_t *self)
{
    return self->claim_interval_ms;
}

int
sw_config_claim_batch(const sw_config_t *self)
{
    return self->claim_batch;
}

int
sw_config_reconnect_min_ms(const sw_config_t *self)
{
    return self->reconnect_min_ms;
}

int
sw_config_reconnect_max_ms(const sw_config_t *self)
{
    return self->reconnect_max_ms;
}

const char *
sw_config_log_level(const sw_config_t *self)
{
    return self->log_level;
}

//  Run sw_config_new in a child with `name=value` set; return its exit
//  status (0 when the config was accepted).
static int
s_child_status(const char *name, const char *value)
{
    fflush(stdout);
    pid_t pid = fork();
    assert(pid >= 0);
    if (pid == 0) {
        cm_log_init(NULL, "error");
        //  Silence the expected error line.
        if (!freopen("/dev/null", "w", stderr)) {
            _exit(2);
        }
        setenv(name, value, 1);
        sw_config_t *cfg = sw_config_new();
        sw_config_destroy(&cfg);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
sw_config_test(bool verbose)
{
    printf(" * sw_config: ");
    const char *vars[] = {"WORKER_ID",
                          "GATEWAY_ENDPOINTS",
                          "WA_URL",
                          "WA_ROOT_KEY",
                          "LEASE_TTL_MS",
                          "WORKER_MAX_SESSIONS",
                          "WORKER_CLAIM_INTERVAL_MS",
                          "WA_RECONNECT_MIN_MS",
                          "WA_RECONNECT_MAX_MS",
                          "APP_LOG_LEVEL",
                          NULL};
    for (int i = 0; vars[i]; i++) {
        unsetenv(vars[i]);
    }
    sw_config_t *cfg = sw_config_new();
    assert(strlen(sw_config_worker_id(cfg)) > 2);
    assert(cm_streq(sw_config_gateway_endpoints(cfg), "tcp://127.0.0.1:7403"));
    assert(cm_streq(sw_config_wa_url(cfg), "wss://web.whatsapp.com/ws/chat"));
    assert(sw_config_root_key(cfg)[0] == 0x14);
    assert(sw_config_root_key(cfg)[31] == 0x6b);
    assert(sw_config_lease_ttl_ms(cfg) == 15000);
    assert(sw_config_max_sessions(cfg) == 10000);
    assert(sw_config_claim_interval_ms(cfg) == 1000);
    assert(sw_config_claim_batch(cfg) == 100);
    assert(sw_config_reconnect_min_ms(cfg) == 1000);
    assert(sw_config_reconnect_max_ms(cfg) == 60000);
    assert(cm_streq(sw_config_log_level(cfg), "info"));
    sw_config_destroy(&cfg);
    sw_config_destroy(&cfg);

    setenv("WORKER_ID", "worker-7", 1);
    setenv("LEASE_TTL_MS", "3000", 1);
    setenv("WA_URL", "ws://127.0.0.1:9/ws/chat", 1);
    cfg = sw_config_new();
    assert(cm_streq(sw_config_worker_id(cfg), "worker-7"));
    assert(sw_config_lease_ttl_ms(cfg) == 3000);
    assert(cm_streq(sw_config_wa_url(cfg), "ws://127.0.0.1:9/ws/chat"));
    sw_config_destroy(&cfg);
    for (int i = 0; vars[i]; i++) {
        unsetenv(vars[i]);
    }

    //  Bad values exit 78
    assert(s_child_status("LEASE_TTL_MS", "999") == CM_EX_CONFIG);
    assert(s_child_status("LEASE_TTL_MS", "abc") == CM_EX_CONFIG);
    assert(s_child_status("WORKER_MAX_SESSIONS", "0") == CM_EX_CONFIG);
    assert(s_child_status("WORKER_CLAIM_BATCH", "1001") == CM_EX_CONFIG);
    assert(s_child_status("WA_URL", "http://x/") == CM_EX_CONFIG);
    assert(s_child_status("WA_URL", "ws://:80/") == CM_EX_CONFIG);
    assert(s_child_status("WA_ROOT_KEY", "abcd") == CM_EX_CONFIG);
    assert(s_child_status("WORKER_ID", "has space") == CM_EX_CONFIG);
    assert(s_child_status("WA_RECONNECT_MIN_MS", "70000") == CM_EX_CONFIG);
    assert(s_child_status("APP_LOG_LEVEL", "loud") == CM_EX_CONFIG);
    assert(s_child_status("WA_WEB_VERSION", "2.3000") == CM_EX_CONFIG);
    assert(s_child_status("WA_DEVICE_PLATFORM", "toaster") == CM_EX_CONFIG);
    assert(s_child_status("WA_DEVICE_NAME",
                          "a name far longer than the sixty-four bytes a "
                          "device name may take") == CM_EX_CONFIG);
    assert(s_child_status("WA_URL", "ws://127.0.0.1:1/") == 0);
    printf("OK\n");
}
