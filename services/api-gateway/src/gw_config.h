/*  gw_config - api-gateway configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Read once at start by gw_config_new(); immutable afterwards, so every
    thread may read it. A bad value exits with 78. The admin API key is
    kept only as its SHA-512 digest.
*/
#ifndef GW_CONFIG_H_INCLUDED
#define GW_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _gw_config_t gw_config_t;

//  Read the configuration (see README.md for every variable). Exits 78 on
//  a bad or missing value. Caller owns return value.
gw_config_t *gw_config_new(void);

void gw_config_destroy(gw_config_t **self_p);

//  APP_LOG_LEVEL.
const char *gw_config_log_level(const gw_config_t *self);
//  WHATSAPP_API_PORT and WHATSAPP_API_HOSTNAME.
int gw_config_port(const gw_config_t *self);
//  The WAHA engine reported by /api/server/version
//  (WHATSAPP_DEFAULT_ENGINE, one of CM_WAHA_ENGINES).
const char *gw_config_engine(const gw_config_t *self);
const char *gw_config_hostname(const gw_config_t *self);
//  Bus endpoints: STORE_ENDPOINTS, STORE_PUB_ENDPOINTS, MEDIA_ENDPOINTS,
//  GATEWAY_WORKERS_BIND.
const char *gw_config_store_endpoints(const gw_config_t *self);
const char *gw_config_store_pub_endpoints(const gw_config_t *self);
const char *gw_config_media_endpoints(const gw_config_t *self);
const char *gw_config_workers_bind(const gw_config_t *self);
//  Private inproc endpoint of the core actor (unique per config).
const char *gw_config_core_endpoint(const gw_config_t *self);
//  GATEWAY_BODY_LIMIT, bytes.
size_t gw_config_body_limit(const gw_config_t *self);
//  GATEWAY_REQUEST_TIMEOUT_MS.
int gw_config_request_timeout(const gw_config_t *self);
//  GATEWAY_CACHE_MS (0 = no cache).
int gw_config_cache_ms(const gw_config_t *self);
//  GATEWAY_COMMAND_CACHE_MS: how old a cached session row an engine
//  command's lookup may use (never less than GATEWAY_CACHE_MS; 0 when the
//  cache is off).
int gw_config_command_cache_ms(const gw_config_t *self);
//  GATEWAY_MAX_CONNECTIONS: open HTTP connections in all.
int gw_config_max_connections(const gw_config_t *self);
//  GATEWAY_STOP_TIMEOUT_MS: how long a stop waits for the worker.
int gw_config_stop_timeout(const gw_config_t *self);
//  GATEWAY_MAX_CONNECTIONS_PER_IP (0 = no per-address limit).
int gw_config_max_per_ip(const gw_config_t *self);
//  GATEWAY_HTTP_THREADS: event-loop threads serving the connections.
int gw_config_http_threads(const gw_config_t *self);
//  GATEWAY_HANDLER_THREADS: threads running route handlers.
int gw_config_handler_threads(const gw_config_t *self);
//  GATEWAY_IDLE_TIMEOUT_S: an idle connection is closed after this.
int gw_config_idle_timeout(const gw_config_t *self);
//  GATEWAY_KEEPALIVE_TIMEOUT_MS: time a kept-alive connection has, from
//  the end of one request, to send the whole head of the next.
int gw_config_keepalive_timeout(const gw_config_t *self);
//  GATEWAY_HEADER_TIMEOUT_MS: time allowed for a request's head.
int gw_config_header_timeout(const gw_config_t *self);
//  GATEWAY_BODY_MEMORY: bytes all request bodies may hold at once.
size_t gw_config_body_memory(const gw_config_t *self);
//  GATEWAY_SIDE_EFFECT_GETS: whether GET forms of state-changing routes
//  (Wawp's session start/stop/restart/logout, send text/seen, WAHA's
//  deprecated GET sendText) are served. True for a NULL config.
bool gw_config_side_effect_gets(const gw_config_t *self);
//  GATEWAY_WWW_DIR: the static files (Swagger UI, dashboard). Default:
//  the build tree's www when the gateway runs from it, else
//  GW_CONFIG_WWW_INSTALLED. NULL config: the installed one.
#define GW_CONFIG_WWW_INSTALLED "/usr/local/share/wharf/www"
const char *gw_config_www_dir(const gw_config_t *self);

//  True if `key` is the admin API key (constant time).
bool gw_config_key_matches(const gw_config_t *self, const char *key);

//  True if `path` (with or without its leading '/') is listed in
//  WAHA_API_KEY_EXCLUDE_PATH and so needs no key.
bool gw_config_path_excluded(const gw_config_t *self, const char *path);

void gw_config_test(bool verbose);

#endif
