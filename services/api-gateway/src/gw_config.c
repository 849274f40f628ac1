/*  gw_config - api-gateway configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

struct _gw_config_t {
    char *log_level;             //  APP_LOG_LEVEL
    char *engine;                //  WHATSAPP_DEFAULT_ENGINE
    int port;                    //  WHATSAPP_API_PORT
    char *hostname;              //  WHATSAPP_API_HOSTNAME
    char *store_endpoints;       //  STORE_ENDPOINTS
    char *store_pub_endpoints;   //  STORE_PUB_ENDPOINTS
    char *media_endpoints;       //  MEDIA_ENDPOINTS
    char *workers_bind;          //  GATEWAY_WORKERS_BIND
    char *core_endpoint;         //  inproc endpoint of the core actor
    size_t body_limit;           //  GATEWAY_BODY_LIMIT
    int request_timeout;         //  GATEWAY_REQUEST_TIMEOUT_MS
    int cache_ms;                //  GATEWAY_CACHE_MS
    int command_cache_ms;        //  GATEWAY_COMMAND_CACHE_MS
    int max_connections;         //  GATEWAY_MAX_CONNECTIONS
    int stop_timeout;            //  GATEWAY_STOP_TIMEOUT_MS
    int max_per_ip;              //  GATEWAY_MAX_CONNECTIONS_PER_IP
    int http_threads;            //  GATEWAY_HTTP_THREADS
    int handler_threads;         //  GATEWAY_HANDLER_THREADS
    int idle_timeout;            //  GATEWAY_IDLE_TIMEOUT_S
    int keepalive_timeout;       //  GATEWAY_KEEPALIVE_TIMEOUT_MS
    int header_timeout;          //  GATEWAY_HEADER_TIMEOUT_MS
    size_t body_memory;          //  GATEWAY_BODY_MEMORY
    bool side_effect_gets;       //  GATEWAY_SIDE_EFFECT_GETS
    char *www_dir;               //  GATEWAY_WWW_DIR
    uint8_t key[GW_AUTH_DIGEST]; //  SHA-512 of the admin API key
    char **exclude;              //  paths without a leading '/', NULL-ended
    size_t exclude_count;        //  entries in exclude
};

//  Parse the key (plain or "sha512:<hex>") into its digest.
static void
s_read_key(gw_config_t *self)
{
    const char *var = "WAHA_API_KEY";
    char *key = cm_env_str(var, NULL);
    if (!key) {
        var = "WHATSAPP_API_KEY";
        key = cm_env_str(var, NULL);
    }
    if (!key) {
        cm_env_fail("WAHA_API_KEY", "must be set (plain or sha512:<hex>)");
    }
    if (strncasecmp(key, "sha512:", 7) == 0) {
        const char *hex = key + 7;
        if (strlen(hex) != 2 * GW_AUTH_DIGEST ||
            cm_unhex(hex, self->key, sizeof self->key) != GW_AUTH_DIGEST) {
            OPENSSL_cleanse(key, strlen(key));
            free(key);
            cm_env_fail(var, "sha512: must be followed by 128 hex digits");
        }
    } else {
        gw_auth_digest(key, self->key);
    }
    OPENSSL_cleanse(key, strlen(key));
    free(key);
}

//  GATEWAY_WWW_DIR, else the build tree's www (a gateway run from its
//  build directory), else the installed one.
static char *
s_www_dir(void)
{
    char *dir = cm_env_str("GATEWAY_WWW_DIR", NULL);
    if (dir) {
        return dir;
    }
#ifdef WHARF_WWW_BUILD
    if (access(WHARF_WWW_BUILD "/dashboard/index.html", R_OK) == 0) {
        return cm_strdup(WHARF_WWW_BUILD);
    }
#endif
    return cm_strdup(GW_CONFIG_WWW_INSTALLED);
}

gw_config_t *
gw_config_new(void)
{
    gw_config_t *self = cm_alloc(sizeof *self);
    self->log_level =
        cm_env_choice("APP_LOG_LEVEL", "info", "error|warn|info|debug");
    self->engine = cm_env_choice("WHATSAPP_DEFAULT_ENGINE",
                                 CM_WAHA_ENGINE_DEFAULT, CM_WAHA_ENGINES);
    self->port = (int)cm_env_long("WHATSAPP_API_PORT", 3000, 1, 65535);
    self->hostname = cm_env_str("WHATSAPP_API_HOSTNAME", "127.0.0.1");
    self->store_endpoints =
        cm_env_str("STORE_ENDPOINTS", "tcp://127.0.0.1:7401");
    self->store_pub_endpoints =
        cm_env_str("STORE_PUB_ENDPOINTS", "tcp://127.0.0.1:7402");
    self->media_endpoints =
        cm_env_str("MEDIA_ENDPOINTS", "tcp://127.0.0.1:7404");
    self->workers_bind =
        cm_env_str("GATEWAY_WORKERS_BIND", "tcp://127.0.0.1:7403");
    self->body_limit =
        (size_t)cm_env_long("GATEWAY_BODY_LIMIT", 67108864, 1024, 1073741824L);
    self->request_timeout =
        (int)cm_env_long("GATEWAY_REQUEST_TIMEOUT_MS", 30000, 100, 600000);
    self->cache_ms = (int)cm_env_long("GATEWAY_CACHE_MS", 500, 0, 60000);
    self->command_cache_ms =
        (int)cm_env_long("GATEWAY_COMMAND_CACHE_MS", 5000, 0, 60000);
    self->max_connections =
        (int)cm_env_long("GATEWAY_MAX_CONNECTIONS", 16384, 1, 1000000);
    self->stop_timeout =
        (int)cm_env_long("GATEWAY_STOP_TIMEOUT_MS", 10000, 100, 600000);
    self->max_per_ip =
        (int)cm_env_long("GATEWAY_MAX_CONNECTIONS_PER_IP", 256, 0, 1000000);
    self->http_threads = (int)cm_env_long("GATEWAY_HTTP_THREADS", 2, 1, 64);
    self->handler_threads =
        (int)cm_env_long("GATEWAY_HANDLER_THREADS", 128, 1, 4096);
    self->idle_timeout =
        (int)cm_env_long("GATEWAY_IDLE_TIMEOUT_S", 30, 1, 3600);
    self->keepalive_timeout =
        (int)cm_env_long("GATEWAY_KEEPALIVE_TIMEOUT_MS", 5000, 100, 3600000);
    self->header_timeout =
        (int)cm_env_long("GATEWAY_HEADER_TIMEOUT_MS", 10000, 100, 600000);
    self->body_memory = (size_t)cm_env_long("GATEWAY_BODY_MEMORY", 268435456L,
                                            1048576L, 17179869184L);
    self->side_effect_gets = cm_env_bool("GATEWAY_SIDE_EFFECT_GETS", true);
    self->www_dir = s_www_dir();
    s_read_key(self);

    char *list = cm_env_str("WAHA_API_KEY_EXCLUDE_PATH", "ping,health");
    char *save = NULL;
    for (char *p = strtok_r(list, ",", &save); p;
         p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ' || *p == '/') {
            p++;
        }
        size_t n = strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '/')) {
            p[--n] = 0;
        }
        if (n) {
            self->exclude = realloc(self->exclude,
                                    (self->exclude_count + 2) * sizeof(char *));
            assert(self->exclude);
            self->exclude[self->exclude_count++] = cm_strdup(p);
            self->exclude[self->exclude_count] = NULL;
        }
    }
    free(list);

    uint8_t r[8];
    char hex[17];
    cm_random(r, sizeof r);
    cm_hex(r, sizeof r, hex);
    self->core_endpoint = cm_sprintf("inproc://gw-core-%s", hex);
    return self;
}

void
gw_config_destroy(gw_config_t **self_p)
{
    assert(self_p);
    gw_config_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->engine);
    free(self->log_level);
    free(self->hostname);
    free(self->store_endpoints);
    free(self->store_pub_endpoints);
    free(self->media_endpoints);
    free(self->workers_bind);
    free(self->core_endpoint);
    free(self->www_dir);
    for (size_t i = 0; i < self->exclude_count; i++) {
        free(self->exclude[i]);
    }
    free(self->exclude);
    OPENSSL_cleanse(self->key, sizeof self->key);
    free(self);
    *self_p = NULL;
}

const char *
gw_config_log_level(const gw_config_t *self)
{
    return self->log_level;
}

const char *
gw_config_engine(const gw_config_t *self)
{
    return self->engine;
}

int
gw_config_port(const gw_config_t *self)
{
    return self->port;
}

const char *
gw_config_hostname(const gw_config_t *self)
{
    return self->hostname;
}

const char *
gw_config_store_endpoints(const gw_config_t *self)
{
    return self->store_endpoints;
}

const char *
gw_config_store_pub_endpoints(const gw_config_t *self)
{
    return self->store_pub_endpoints;
}

const char *
gw_config_media_endpoints(const gw_config_t *self)
{
    return self->media_endpoints;
}

const char *
gw_config_workers_bind(const gw_config_t *self)
{
    return self->workers_bind;
}

const char *
gw_config_core_endpoint(const gw_config_t *self)
{
    return self->core_endpoint;
}

size_t
gw_config_body_limit(const gw_config_t *self)
{
    return self->body_limit;
}

int
gw_config_request_timeout(const gw_config_t *self)
{
    return self->request_timeout;
}

int
gw_config_cache_ms(const gw_config_t *self)
{
    return self->cache_ms;
}

int
gw_config_command_cache_ms(const gw_config_t *self)
{
    if (self->cache_ms == 0) {
        return 0;
    }
    return self->command_cache_ms > self->cache_ms ? self->command_cache_ms
                                                   : self->cache_ms;
}

int
gw_config_max_connections(const gw_config_t *self)
{
    return self->max_connections;
}

int
gw_config_stop_timeout(const gw_config_t *self)
{
    return self->stop_timeout;
}

int
gw_config_max_per_ip(const gw_config_t *self)
{
    return self->max_per_ip;
}

int
gw_config_http_threads(const gw_config_t *self)
{
    return self->http_threads;
}

int
gw_config_handler_threads(const gw_config_t *self)
{
    return self->handler_threads;
}

int
gw_config_idle_timeout(const gw_config_t *self)
{
    return self->idle_timeout;
}

int
gw_config_keepalive_timeout(const gw_config_t *self)
{
    return self->keepalive_timeout;
}

int
gw_config_header_timeout(const gw_config_t *self)
{
    return self->header_timeout;
}

size_t
gw_config_body_memory(const gw_config_t *self)
{
    return self->body_memory;
}

const char *
gw_config_www_dir(const gw_config_t *self)
{
    return self ? self->www_dir : GW_CONFIG_WWW_INSTALLED;
}

bool
gw_config_side_effect_gets(const gw_config_t *self)
{
    return !self || self->side_effect_gets;
}

bool
gw_config_key_matches(const gw_config_t *self, const char *key)
{
    return gw_auth_check(key, self->key);
}

bool
gw_config_path_excluded(const gw_config_t *self, const char *path)
{
    if (!path) {
        return false;
    }
    while (*path == '/') {
        path++;
    }
    for (size_t i = 0; i < self->exclude_count; i++) {
        if (streq(self->exclude[i], path)) {
            return true;
        }
    }
    return false;
}

void
gw_config_test(bool verbose)
{
    printf(" * gw_config: ");
    setenv("WAHA_API_KEY", "plain-key", 1);
    setenv("WAHA_API_KEY_EXCLUDE_PATH", " ping , /health/,api/server/version",
           1);
    setenv("GATEWAY_CACHE_MS", "0", 1);
    gw_config_t *config = gw_config_new();
    assert(gw_config_port(config) == 3000);
    assert(streq(gw_config_hostname(config), "127.0.0.1"));
    assert(gw_config_cache_ms(config) == 0);
    assert(gw_config_command_cache_ms(config) == 0);
    assert(gw_config_body_limit(config) == 67108864);
    assert(gw_config_max_connections(config) == 16384);
    assert(gw_config_max_per_ip(config) == 256);
    assert(gw_config_side_effect_gets(config));
    assert(gw_config_www_dir(config) && *gw_config_www_dir(config));
    assert(gw_config_key_matches(config, "plain-key"));
    assert(!gw_config_key_matches(config, "plain-kez"));
    assert(!gw_config_key_matches(config, NULL));
    assert(gw_config_path_excluded(config, "/ping"));
    assert(gw_config_path_excluded(config, "health"));
    assert(gw_config_path_excluded(config, "/api/server/version"));
    assert(!gw_config_path_excluded(config, "/api/sessions"));
    assert(!gw_config_path_excluded(config, "/pin"));
    assert(strncmp(gw_config_core_endpoint(config), "inproc://", 9) == 0);
    gw_config_destroy(&config);
    assert(!config);

    //  sha512:<hex> form; WHATSAPP_API_KEY as the older name.
    char hex[GW_AUTH_HEX_SIZE];
    gw_auth_digest_hex("hashed-key", hex);
    char *val = cm_sprintf("sha512:%s", hex);
    unsetenv("WAHA_API_KEY");
    setenv("WHATSAPP_API_KEY", val, 1);
    free(val);
    config = gw_config_new();
    assert(gw_config_key_matches(config, "hashed-key"));
    assert(!gw_config_key_matches(config, hex));
    gw_config_destroy(&config);
    unsetenv("WHATSAPP_API_KEY");
    unsetenv("WAHA_API_KEY_EXCLUDE_PATH");
    unsetenv("GATEWAY_CACHE_MS");

    //  An engine command's lookup may be older than a plain read, never
    //  younger.
    setenv("WAHA_API_KEY", "plain-key", 1);
    config = gw_config_new();
    assert(gw_config_cache_ms(config) == 500);
    assert(gw_config_command_cache_ms(config) == 5000);
    gw_config_destroy(&config);
    setenv("GATEWAY_COMMAND_CACHE_MS", "100", 1);
    config = gw_config_new();
    assert(gw_config_command_cache_ms(config) == 500);
    gw_config_destroy(&config);
    unsetenv("GATEWAY_COMMAND_CACHE_MS");
    unsetenv("WAHA_API_KEY");

    //  A missing key or a bad value exits 78 (checked in a child).
    fflush(stdout);
    pid_t pid = fork();
    assert(pid >= 0);
    if (pid == 0) {
        cm_log_init(NULL, "error");
        freopen("/dev/null", "w", stderr);
        gw_config_t *c = gw_config_new();
        gw_config_destroy(&c);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert(WIFEXITED(status) && WEXITSTATUS(status) == CM_EX_CONFIG);
    fflush(stdout);
    pid = fork();
    assert(pid >= 0);
    if (pid == 0) {
        cm_log_init(NULL, "error");
        freopen("/dev/null", "w", stderr);
        setenv("WAHA_API_KEY", "sha512:abcd", 1);
        gw_config_t *c = gw_config_new();
        gw_config_destroy(&c);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    assert(WIFEXITED(status) && WEXITSTATUS(status) == CM_EX_CONFIG);
    printf("OK\n");
}
