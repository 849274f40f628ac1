/*  st_config - store-service configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

#include <openssl/crypto.h>

struct _st_config_t {
    char *database_url;    //  DATABASE_URL
    char *bind;            //  STORE_BIND
    char *pub_bind;        //  STORE_PUB_BIND
    int pool_size;         //  STORE_POOL_SIZE
    int statement_timeout; //  STORE_STATEMENT_TIMEOUT_MS
    char *log_level;       //  APP_LOG_LEVEL
    char *engine;          //  WHATSAPP_DEFAULT_ENGINE
    st_seal_t *seal;       //  STORE_SECRET_KEY, STORE_SECRET_KEY_OLD
};

//  Read key variable `name` (or its _FILE) into key. Returns false when
//  unset; exits 78 when it is not a key.
static bool
s_key(const char *name, uint8_t key[ST_SEAL_KEY_LEN])
{
    char *text = cm_env_str(name, NULL);
    if (!text) {
        return false;
    }
    int rc = st_seal_parse_key(text, key);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (rc != 0) {
        cm_env_fail(name, "not a key: 32 random bytes as 64 hex digits "
                          "(openssl rand -hex 32) or base64");
    }
    return true;
}

static st_seal_t *
s_seal(void)
{
    uint8_t key[ST_SEAL_KEY_LEN];
    uint8_t old[ST_SEAL_KEY_LEN];
    bool has_key = s_key("STORE_SECRET_KEY", key);
    bool has_old = s_key("STORE_SECRET_KEY_OLD", old);
    bool plaintext = cm_env_bool("STORE_SECRETS_PLAINTEXT", false);
    if (has_key && plaintext) {
        cm_env_fail("STORE_SECRETS_PLAINTEXT",
                    "cannot be true together with STORE_SECRET_KEY");
    }
    if (!has_key && !plaintext) {
        cm_env_fail("STORE_SECRET_KEY",
                    "is required: it encrypts the device secrets at rest "
                    "(32 random bytes as 64 hex digits: openssl rand -hex "
                    "32); STORE_SECRETS_PLAINTEXT=true stores them "
                    "unencrypted instead");
    }
    st_seal_t *seal = st_seal_new(has_key ? key : NULL, has_old ? old : NULL);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(old, sizeof old);
    return seal;
}

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
    self->seal = s_seal();
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
        st_seal_destroy(&self->seal);
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

const st_seal_t *
st_config_seal(const st_config_t *self)
{
    return self->seal;
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
    unsetenv("STORE_SECRET_KEY_OLD");
    unsetenv("STORE_SECRETS_PLAINTEXT");
    setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:1/db", 1);
    setenv("STORE_SECRET_KEY", ST_CONFIG_TEST_KEY, 1);
    st_config_t *cfg = st_config_new();
    assert(cm_streq(st_seal_kid(st_config_seal(cfg)), "7f2c7f12"));
    assert(st_seal_old_kid(st_config_seal(cfg)) == NULL);
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
    //  the secret key: bad, missing, or in conflict with plaintext
    assert(s_child_exit("STORE_SECRET_KEY", "00ff") == CM_EX_CONFIG);
    assert(s_child_exit("STORE_SECRET_KEY_OLD", "xyz") == CM_EX_CONFIG);
    assert(s_child_exit("STORE_SECRETS_PLAINTEXT", "1") == CM_EX_CONFIG);
    unsetenv("STORE_SECRET_KEY");
    assert(s_child_exit("DATABASE_URL", "postgresql://u@h/db") == CM_EX_CONFIG);
    assert(s_child_exit("STORE_SECRETS_PLAINTEXT", "1") == 0);
    setenv("STORE_SECRETS_PLAINTEXT", "yes", 1);
    cfg = st_config_new();
    assert(st_seal_kid(st_config_seal(cfg)) == NULL);
    st_config_destroy(&cfg);
    unsetenv("STORE_SECRETS_PLAINTEXT");
    //  base64 and _FILE forms; an old key only opens
    setenv("STORE_SECRET_KEY",
           "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=", 1);
    char path[] = "/tmp/st_config_key_XXXXXX";
    int fd = mkstemp(path);
    assert(fd >= 0);
    const char *hex = ST_CONFIG_TEST_KEY "\n";
    assert(write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex));
    close(fd);
    setenv("STORE_SECRET_KEY_OLD_FILE", path, 1);
    cfg = st_config_new();
    assert(cm_streq(st_seal_old_kid(st_config_seal(cfg)), "7f2c7f12"));
    assert(!cm_streq(st_seal_kid(st_config_seal(cfg)), "7f2c7f12"));
    st_config_destroy(&cfg);
    unlink(path);
    unsetenv("STORE_SECRET_KEY_OLD_FILE");
    unsetenv("STORE_SECRET_KEY");
    unsetenv("DATABASE_URL");
    printf("OK\n");
}
