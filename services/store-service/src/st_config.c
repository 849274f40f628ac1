/*  st_config - store-service configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

struct _st_config_t {
    char *database_url;    //  DATABASE_URL
    char *bind;            //  STORE_BIND
    char *pub_bind;        //  STORE_PUB_BIND
    int pool_size;         //  STORE_POOL_SIZE
    int statement_timeout; //  STORE_STATEMENT_TIMEOUT_MS
    char *log_level;       //  APP_LOG_LEVEL
    char *engine;          //  WHATSAPP_DEFAULT_ENGINE
};

st_config_t *
st_config_new(void)
{
    st_config_t *self = cm_alloc(sizeof *self);
    self->log_level =
        cm_env_choice("APP_LOG_LEVEL", "info", "error|warn|info|debug");
    self->engine = cm_env_choice("WHATSAPP_DEFAULT_ENGINE",
                                 CM_WAHA_ENGINE_DEFAULT, CM_WAHA_ENGINES);
    self->database_url = cm_env_str("DATABASE_URL", NULL);
    if (!self->database_url) {
        cm_env_fail("DATABASE_URL", "is required (a PostgreSQL URL)");
    }
    self->bind = cm_env_str("STORE_BIND", ST_CONFIG_BIND);
    self->pub_bind = cm_env_str("STORE_PUB_BIND", ST_CONFIG_PUB_BIND);
    if (strstr(self->bind, "://") == NULL) {
        cm_env_fail("STORE_BIND", "not a ZeroMQ endpoint");
    }
    if (strstr(self->pub_bind, "://") == NULL) {
        cm_env_fail("STORE_PUB_BIND", "not a ZeroMQ endpoint");
    }
    self->pool_size = (int)cm_env_long("STORE_POOL_SIZE", ST_CONFIG_POOL_SIZE,
                                       1, ST_CONFIG_POOL_MAX);
    self->statement_timeout =
        (int)cm_env_long("STORE_STATEMENT_TIMEOUT_MS",
                         ST_CONFIG_STATEMENT_TIMEOUT_MS, 0, 3600000);
    return self;
}

void
st_config_destroy(st_config_t **self_p)
{
    assert(self_p);
    st_config_t *self = *self_p;
    if (self) {
        free(self->database_url);
        free(self->bind);
        free(self->pub_bind);
        free(self->log_level);
        free(self->engine);
        free(self);
        *self_p = NULL;
    }
}

const char *
st_config_engine(const st_config_t *self)
{
    return self->engine;
}

const char *
st_config_database_url(const st_config_t *self)
{
    return self->database_url;
}

const char *
st_config_bind(const st_config_t *self)
{
    return self->bind;
}

const char *
st_config_pub_bind(const st_config_t *self)
{
    return self->pub_bind;
}

int
st_config_pool_size(const st_config_t *self)
{
    return self->pool_size;
}

int
st_config_statement_timeout(const st_config_t *self)
{
    return self->statement_timeout;
}

const char *
st_config_log_level(const st_config_t *self)
{
    return self->log_level;
}

//  Run st_config_new in a child with one variable set; return its exit
//  status (0 when it returned).
static int
s_child_exit(const char *name, const char *value)
{
    pid_t pid = fork();
    assert(pid >= 0);
    if (pid == 0) {
        fclose(stderr); //  keep the expected error out of test output
        setenv(name, value, 1);
        st_config_t *cfg = st_config_new();
        st_config_destroy(&cfg);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
st_config_test(bool verbose)
{
    printf(" * st_config: ");
    fflush(stdout);
    unsetenv("STORE_BIND");
    unsetenv("STORE_PUB_BIND");
    unsetenv("STORE_POOL_SIZE");
    unsetenv("STORE_STATEMENT_TIMEOUT_MS");
    setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:1/db", 1);
    st_config_t *cfg = st_config_new();
    assert(cm_streq(st_config_database_url(cfg),
                    "postgresql://u:p@127.0.0.1:1/db"));
    assert(cm_streq(st_config_bind(cfg), ST_CONFIG_BIND));
    assert(cm_streq(st_config_pub_bind(cfg), ST_CONFIG_PUB_BIND));
    assert(st_config_pool_size(cfg) == ST_CONFIG_POOL_SIZE);
    assert(st_config_statement_timeout(cfg) == ST_CONFIG_STATEMENT_TIMEOUT_MS);
    assert(cm_streq(st_config_log_level(cfg), "info"));
    st_config_destroy(&cfg);
    st_config_destroy(&cfg);

    setenv("STORE_POOL_SIZE", "7", 1);
    setenv("STORE_BIND", "tcp://127.0.0.1:9", 1);
    cfg = st_config_new();
    assert(st_config_pool_size(cfg) == 7);
    assert(cm_streq(st_config_bind(cfg), "tcp://127.0.0.1:9"));
    st_config_destroy(&cfg);
    unsetenv("STORE_POOL_SIZE");
    unsetenv("STORE_BIND");

    //  bad values exit 78
    assert(s_child_exit("STORE_POOL_SIZE", "0") == CM_EX_CONFIG);
    assert(s_child_exit("STORE_POOL_SIZE", "65") == CM_EX_CONFIG);
    assert(s_child_exit("STORE_POOL_SIZE", "four") == CM_EX_CONFIG);
    assert(s_child_exit("STORE_STATEMENT_TIMEOUT_MS", "-1") == CM_EX_CONFIG);
    assert(s_child_exit("STORE_BIND", "nowhere") == CM_EX_CONFIG);
    assert(s_child_exit("APP_LOG_LEVEL", "loud") == CM_EX_CONFIG);
    assert(s_child_exit("DATABASE_URL", "") == CM_EX_CONFIG);
    assert(s_child_exit("STORE_POOL_SIZE", "64") == 0);
    unsetenv("DATABASE_URL");
    printf("OK\n");
}
