/*  ms_config - media-service configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef MS_CONFIG_H_INCLUDED
#define MS_CONFIG_H_INCLUDED

#include <stdbool.h>

typedef struct _ms_config_t ms_config_t;

//  Read MEDIA_BIND and APP_LOG_LEVEL; exits 78 on bad values.
//  Caller owns return value.
ms_config_t *ms_config_new(void);
void ms_config_destroy(ms_config_t **self_p);

//  ZeroMQ endpoint the request ROUTER binds.
const char *ms_config_bind(const ms_config_t *self);
//  Log level name.
const char *ms_config_log_level(const ms_config_t *self);

void ms_config_test(bool verbose);

#endif
