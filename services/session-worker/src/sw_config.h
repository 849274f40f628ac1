/*  sw_config - session-worker configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Read once at start (services/session-worker/README.md lists every
    variable); a bad value logs a clear message and exits 78. The result
    is immutable and passed down to every module.
*/
#ifndef SW_CONFIG_H_INCLUDED
#define SW_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  Heartbeat period towards every gateway (CONTRACT: 1000 ms).
#define SW_HEARTBEAT_MS 1000
//  Length of the WhatsApp root public key.
#define SW_ROOT_KEY_LEN 32
//  The pinned WhatsApp Noise root public key (hex).
#define SW_ROOT_KEY_DEFAULT                                                    \
    "142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b"

typedef struct _sw_config_t sw_config_t;

//  Read and check every variable; exits 78 on bad values. Caller owns
//  return value.
sw_config_t *sw_config_new(void);
void sw_config_destroy(sw_config_t **self_p);

//  WORKER_ID, default "<hostname>-<pid>".
const char *sw_config_worker_id(const sw_config_t *self);
//  GATEWAY_ENDPOINTS, comma-separated.
const char *sw_config_gateway_endpoints(const sw_config_t *self);
//  STORE_ENDPOINTS, comma-separated.
const char *sw_config_store_endpoints(const sw_config_t *self);
//  MEDIA_ENDPOINTS, comma-separated.
const char *sw_config_media_endpoints(const sw_config_t *self);
//  WA_URL (checked to be a ws:// or wss:// URL).
const char *sw_config_wa_url(const sw_config_t *self);

//  WAHA_BASE_URL without a trailing slash: media.url of downloaded files
//  is it + "/api/files/<session>/<file>".
const char *sw_config_base_url(const sw_config_t *self);
//  WHATSAPP_DOWNLOAD_MEDIA: download received media (default true).
bool sw_config_download_media(const sw_config_t *self);
//  WA_ROOT_KEY, 32 bytes (borrowed).
const uint8_t *sw_config_root_key(const sw_config_t *self);
//  LEASE_TTL_MS.
int sw_config_lease_ttl_ms(const sw_config_t *self);
//  WORKER_MAX_SESSIONS.
int sw_config_max_sessions(const sw_config_t *self);
//  WORKER_CLAIM_INTERVAL_MS.
int sw_config_claim_interval_ms(const sw_config_t *self);
//  WORKER_CLAIM_BATCH: most sessions taken per claim, so several
//  workers share a burst of sessions instead of the first taking all.
int sw_config_claim_batch(const sw_config_t *self);
//  WA_RECONNECT_MIN_MS and WA_RECONNECT_MAX_MS (min <= max).
int sw_config_reconnect_min_ms(const sw_config_t *self);
int sw_config_reconnect_max_ms(const sw_config_t *self);
//  APP_LOG_LEVEL.
const char *sw_config_log_level(const sw_config_t *self);

void sw_config_test(bool verbose);

#endif
