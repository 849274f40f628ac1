/*  st_config - store-service configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Read once at start (CONTRACT/README): DATABASE_URL (required),
    STORE_BIND, STORE_PUB_BIND, STORE_POOL_SIZE, STORE_STATEMENT_TIMEOUT_MS,
    APP_LOG_LEVEL. A bad value exits with 78.
*/
#ifndef ST_CONFIG_H_INCLUDED
#define ST_CONFIG_H_INCLUDED

#include <stdbool.h>

//  Defaults and limits.
#define ST_CONFIG_BIND "tcp://127.0.0.1:7401"
#define ST_CONFIG_PUB_BIND "tcp://127.0.0.1:7402"
#define ST_CONFIG_POOL_SIZE 4
#define ST_CONFIG_POOL_MAX 64
#define ST_CONFIG_STATEMENT_TIMEOUT_MS 10000

typedef struct _st_config_t st_config_t;

//  Read the environment; exits 78 on a missing DATABASE_URL or a bad
//  value. Caller owns return value.
st_config_t *st_config_new(void);

void st_config_destroy(st_config_t **self_p);

//  libpq connection string or URI (a secret: never log it).
const char *st_config_database_url(const st_config_t *self);
//  The engine name every event envelope carries (WHATSAPP_DEFAULT_ENGINE,
//  one of WAHA's WEBJS|WPP|NOWEB|GOWS; default CM_WAHA_ENGINE_DEFAULT).
const char *st_config_engine(const st_config_t *self);
//  ROUTER endpoint for requests.
const char *st_config_bind(const st_config_t *self);
//  PUB endpoint for notifications.
const char *st_config_pub_bind(const st_config_t *self);
//  Number of worker actors, each with its own PostgreSQL connection.
int st_config_pool_size(const st_config_t *self);
//  statement_timeout set on every connection, ms (0 = none).
int st_config_statement_timeout(const st_config_t *self);
//  Log level name.
const char *st_config_log_level(const st_config_t *self);

void st_config_test(bool verbose);

#endif
