/*  ms_config - media-service configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

struct _ms_config_t {
    char *bind;       //  MEDIA_BIND
    char *log_level;  //  APP_LOG_LEVEL
};

ms_config_t *
ms_config_new(void)
{
    ms_config_t *self = cm_alloc(sizeof *self);
    self->bind = cm_env_str("MEDIA_BIND", "tcp://127.0.0.1:7404");
    self->log_level = cm_env_choice("APP_LOG_LEVEL", "info",
                                    "error|warn|info|debug");
    return self;
}

void
ms_config_destroy(ms_config_t **self_p)
{
    assert(self_p);
    ms_config_t *self = *self_p;
    if (self) {
        free(self->bind);
        free(self->log_level);
        free(self);
        *self_p = NULL;
    }
}

const char *
ms_config_bind(const ms_config_t *self)
{
    return self->bind;
}

const char *
ms_config_log_level(const ms_config_t *self)
{
    return self->log_level;
}

void
ms_config_test(bool verbose)
{
    printf(" * ms_config: ");
    setenv("MEDIA_BIND", "tcp://127.0.0.1:9", 1);
    ms_config_t *cfg = ms_config_new();
    assert(cm_streq(ms_config_bind(cfg), "tcp://127.0.0.1:9"));
    assert(cm_streq(ms_config_log_level(cfg), "info"));
    ms_config_destroy(&cfg);
    ms_config_destroy(&cfg);
    unsetenv("MEDIA_BIND");
    printf("OK\n");
}
