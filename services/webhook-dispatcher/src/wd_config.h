/*  wd_config - webhook-dispatcher configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Read once at start; a bad value exits 78 naming the variable. The
    WHATSAPP_HOOK_* variables describe the global webhook (WAHA names);
    DISPATCHER_* tune delivery. See services/webhook-dispatcher/README.md.
*/
#ifndef WD_CONFIG_H_INCLUDED
#define WD_CONFIG_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

//  Settings, immutable after wd_config_new.
typedef struct {
    char *log_level;       //  APP_LOG_LEVEL
    char *store_endpoints; //  STORE_ENDPOINTS
    char *pub_endpoints;   //  STORE_PUB_ENDPOINTS
    json_t *global_hook;   //  WHATSAPP_HOOK_* in full form, or NULL
    char *id;              //  DISPATCHER_ID (default: host name)
    int poll_ms;           //  DISPATCHER_POLL_MS: poll without wake-ups
    int max_streams;       //  DISPATCHER_MAX_STREAMS: streams held at once
    int batch;             //  DISPATCHER_BATCH: deliveries claimed per stream
    int fanout_limit;      //  DISPATCHER_FANOUT_LIMIT: events per fan-out
    int max_in_flight;     //  DISPATCHER_MAX_IN_FLIGHT: HTTP requests
    int per_target;        //  DISPATCHER_PER_TARGET: requests per URL
    int timeout_ms;        //  DISPATCHER_TIMEOUT_MS: per HTTP request
    int lease_ms;          //  DISPATCHER_LEASE_MS: stream claim lease
    int retention_days;    //  DISPATCHER_RETENTION_DAYS (0 = keep)
    int prune_interval_ms; //  DISPATCHER_PRUNE_INTERVAL_MS
    bool prune_events;     //  DISPATCHER_PRUNE_EVENTS
    int store_timeout_ms;  //  DISPATCHER_STORE_TIMEOUT_MS: bus requests
    char *allow;           //  DISPATCHER_ALLOW: addresses / CIDRs a
                           //  session's webhook may reach although
                           //  refused by range (cm_net)
} wd_config_t;

//  Read the environment; exits 78 on bad values. Caller owns return value.
wd_config_t *wd_config_new(void);

void wd_config_destroy(wd_config_t **self_p);

//  Parse WHATSAPP_HOOK_CUSTOM_HEADERS text ("H1:V1;H2:V2") into a
//  customHeaders array. Returns NULL and sets *err_p (caller frees) when
//  an entry has no ':' or an empty name. Caller owns return value.
json_t *wd_config_parse_headers(const char *text, char **err_p);

void wd_config_test(bool verbose);

#endif
