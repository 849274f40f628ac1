/*  st_config - store-service configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Read once at start (CONTRACT/README): DATABASE_URL (required),
    STORE_BIND, STORE_PUB_BIND, STORE_POOL_SIZE, STORE_STATEMENT_TIMEOUT_MS,
    APP_LOG_LEVEL, and the key sealing device secrets (st_seal):
    STORE_SECRET_KEY (required unless STORE_SECRETS_PLAINTEXT is true)
    and STORE_SECRET_KEY_OLD, each with a _FILE variant. A missing or bad
    value exits with 78.
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
//  A secret key for the self tests (bytes 0..31), never for a deployment.
#define ST_CONFIG_TEST_KEY                                                     \
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

typedef struct _st_config_t st_config_t;
typedef struct _st_seal_t st_seal_t;

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
//  The sealer of device secrets (keyless with STORE_SECRETS_PLAINTEXT).
const st_seal_t *st_config_seal(const st_config_t *self);

void st_config_test(bool verbose);

#endif
