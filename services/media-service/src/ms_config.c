/*  ms_config - media-service configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

struct _ms_config_t {
    char *bind;               //  MEDIA_BIND
    char *log_level;          //  APP_LOG_LEVEL
    int workers;              //  MEDIA_WORKERS
    int64_t max_bytes;        //  MEDIA_MAX_BYTES
    long fetch_timeout_ms;    //  MEDIA_FETCH_TIMEOUT_MS
    long fetch_max_redirects; //  MEDIA_FETCH_MAX_REDIRECTS
    char *fetch_allow;        //  MEDIA_FETCH_ALLOW
    long transfer_timeout_ms; //  MEDIA_TRANSFER_TIMEOUT_MS
    char *ca_file;            //  MEDIA_CA_FILE
    char *ffmpeg;             //  MEDIA_FFMPEG
    char *ffprobe;            //  MEDIA_FFPROBE
    char *tmp_dir;            //  TMPDIR
    long ffmpeg_timeout_ms;   //  MEDIA_FFMPEG_TIMEOUT_MS
    ms_storage_t storage;     //  WAHA_MEDIA_STORAGE
    char *files_folder;       //  WHATSAPP_FILES_FOLDER
    long files_lifetime;      //  WHATSAPP_FILES_LIFETIME
    char *s3_endpoint;        //  WAHA_S3_ENDPOINT
    char *s3_region;          //  WAHA_S3_REGION
    char *s3_bucket;          //  WAHA_S3_BUCKET
    char *s3_access_key;      //  WAHA_S3_ACCESS_KEY_ID
    char *s3_secret_key;      //  WAHA_S3_SECRET_ACCESS_KEY
    bool s3_path_style;       //  WAHA_S3_FORCE_PATH_STYLE
};

//  An optional string: NULL when unset or empty.
static char *
s_optional(const char *name)
{
    char *value = cm_env_str(name, "");
    if (!*value) {
        free(value);
        return NULL;
    }
    return value;
}

//  A secret from NAME or the file NAME_FILE names; NULL when neither.
static char *
s_secret(const char *name)
{
    char *value = s_optional(name);
    if (value) {
        return value;
    }
    char file_var[128];
    snprintf(file_var, sizeof file_var, "%s_FILE", name);
    char *path = s_optional(file_var);
    if (!path) {
        return NULL;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        cm_env_fail(file_var, "could not open the file");
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    free(path);
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = 0;
    }
    return n ? cm_strdup(buf) : NULL;
}

ms_config_t *
ms_config_new(void)
{
    ms_config_t *self = cm_alloc(sizeof *self);
    self->bind = cm_env_str("MEDIA_BIND", "tcp://127.0.0.1:7404");
    self->log_level =
        cm_env_choice("APP_LOG_LEVEL", "info", "error|warn|info|debug");
    self->workers = (int)cm_env_long("MEDIA_WORKERS", 4, 1, 64);
    self->max_bytes = cm_env_long("MEDIA_MAX_BYTES", 64L * 1024 * 1024, 1024,
                                  MS_CONFIG_MAX_BYTES_MAX);
    self->fetch_timeout_ms =
        cm_env_long("MEDIA_FETCH_TIMEOUT_MS", 30000, 100, 600000);
    self->fetch_max_redirects =
        cm_env_long("MEDIA_FETCH_MAX_REDIRECTS", 3, 0, 20);
    self->fetch_allow = cm_env_str("MEDIA_FETCH_ALLOW", "");
    self->transfer_timeout_ms =
        cm_env_long("MEDIA_TRANSFER_TIMEOUT_MS", 60000, 100, 600000);
    self->ca_file = s_optional("MEDIA_CA_FILE");
    self->ffmpeg = cm_env_str("MEDIA_FFMPEG", "ffmpeg");
    self->ffprobe = cm_env_str("MEDIA_FFPROBE", "ffprobe");
    self->tmp_dir = cm_env_str("TMPDIR", "/tmp");
    if (!*self->tmp_dir) {
        free(self->tmp_dir);
        self->tmp_dir = cm_strdup("/tmp");
    }
    self->ffmpeg_timeout_ms =
        cm_env_long("MEDIA_FFMPEG_TIMEOUT_MS", 120000, 100, 3600000);
    char *storage = cm_env_choice("WAHA_MEDIA_STORAGE", "LOCAL", "LOCAL|S3");
    self->storage = cm_streq(storage, "S3") ? MS_STORAGE_S3 : MS_STORAGE_LOCAL;
    free(storage);
    self->files_folder = cm_env_str("WHATSAPP_FILES_FOLDER", "./var/media");
    self->files_lifetime =
        cm_env_long("WHATSAPP_FILES_LIFETIME", 180, 0, 10L * 365 * 86400);
    self->s3_endpoint = s_optional("WAHA_S3_ENDPOINT");
    self->s3_region = cm_env_str("WAHA_S3_REGION", "us-east-1");
    self->s3_bucket = s_optional("WAHA_S3_BUCKET");
    self->s3_access_key = s_secret("WAHA_S3_ACCESS_KEY_ID");
    self->s3_secret_key = s_secret("WAHA_S3_SECRET_ACCESS_KEY");
    self->s3_path_style = cm_env_bool("WAHA_S3_FORCE_PATH_STYLE", false);
    if (self->storage == MS_STORAGE_S3) {
        if (!self->s3_bucket) {
            cm_env_fail("WAHA_S3_BUCKET", "is required with "
                                          "WAHA_MEDIA_STORAGE=S3");
        }
        if (!self->s3_access_key || !self->s3_secret_key) {
            cm_env_fail("WAHA_S3_ACCESS_KEY_ID",
                        "and WAHA_S3_SECRET_ACCESS_KEY are required with "
                        "WAHA_MEDIA_STORAGE=S3");
        }
        if (self->s3_endpoint && strncmp(self->s3_endpoint, "http://", 7) &&
            strncmp(self->s3_endpoint, "https://", 8)) {
            cm_env_fail("WAHA_S3_ENDPOINT", "must start with http(s)://");
        }
    }
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
        free(self->fetch_allow);
        free(self->ca_file);
        free(self->ffmpeg);
        free(self->ffprobe);
        free(self->tmp_dir);
        free(self->files_folder);
        free(self->s3_endpoint);
        free(self->s3_region);
        free(self->s3_bucket);
        free(self->s3_access_key);
        free(self->s3_secret_key);
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

int
ms_config_workers(const ms_config_t *self)
{
    return self->workers;
}

int64_t
ms_config_max_bytes(const ms_config_t *self)
{
    return self->max_bytes;
}

long
ms_config_fetch_timeout_ms(const ms_config_t *self)
{
    return self->fetch_timeout_ms;
}

long
ms_config_fetch_max_redirects(const ms_config_t *self)
{
    return self->fetch_max_redirects;
}

const char *
ms_config_fetch_allow(const ms_config_t *self)
{
    return self->fetch_allow;
}

long
ms_config_transfer_timeout_ms(const ms_config_t *self)
{
    return self->transfer_timeout_ms;
}

const char *
ms_config_ca_file(const ms_config_t *self)
{
    return self->ca_file;
}

const char *
ms_config_ffmpeg(const ms_config_t *self)
{
    return self->ffmpeg;
}

const char *
ms_config_ffprobe(const ms_config_t *self)
{
    return self->ffprobe;
}

const char *
ms_config_tmp_dir(const ms_config_t *self)
{
    return self->tmp_dir;
}

long
ms_config_ffmpeg_timeout_ms(const ms_config_t *self)
{
    return self->ffmpeg_timeout_ms;
}

ms_storage_t
ms_config_storage(const ms_config_t *self)
{
    return self->storage;
}

const char *
ms_config_files_folder(const ms_config_t *self)
{
    return self->files_folder;
}

long
ms_config_files_lifetime(const ms_config_t *self)
{
    return self->files_lifetime;
}

const char *
ms_config_s3_endpoint(const ms_config_t *self)
{
    return self->s3_endpoint;
}

const char *
ms_config_s3_region(const ms_config_t *self)
{
    return self->s3_region;
}

const char *
ms_config_s3_bucket(const ms_config_t *self)
{
    return self->s3_bucket;
}

const char *
ms_config_s3_access_key(const ms_config_t *self)
{
    return self->s3_access_key;
}

const char *
ms_config_s3_secret_key(const ms_config_t *self)
{
    return self->s3_secret_key;
}

bool
ms_config_s3_path_style(const ms_config_t *self)
{
    return self->s3_path_style;
}

void
ms_config_test(bool verbose)
{
    printf(" * ms_config: ");
    setenv("MEDIA_BIND", "tcp://127.0.0.1:9", 1);
    setenv("MEDIA_FETCH_ALLOW", "127.0.0.1", 1);
    ms_config_t *cfg = ms_config_new();
    assert(cm_streq(ms_config_bind(cfg), "tcp://127.0.0.1:9"));
    assert(cm_streq(ms_config_log_level(cfg), "info"));
    assert(ms_config_max_bytes(cfg) == 64 * 1024 * 1024);
    assert(ms_config_workers(cfg) == 4);
    assert(cm_streq(ms_config_fetch_allow(cfg), "127.0.0.1"));
    assert(ms_config_storage(cfg) == MS_STORAGE_LOCAL);
    assert(cm_streq(ms_config_files_folder(cfg), "./var/media"));
    assert(ms_config_files_lifetime(cfg) == 180);
    assert(ms_config_ca_file(cfg) == NULL);
    assert(cm_streq(ms_config_s3_region(cfg), "us-east-1"));
    ms_config_destroy(&cfg);
    ms_config_destroy(&cfg);
    setenv("WAHA_MEDIA_STORAGE", "S3", 1);
    setenv("WAHA_S3_BUCKET", "b", 1);
    setenv("WAHA_S3_ACCESS_KEY_ID", "k", 1);
    setenv("WAHA_S3_SECRET_ACCESS_KEY", "s", 1);
    setenv("WAHA_S3_ENDPOINT", "http://127.0.0.1:9", 1);
    setenv("WAHA_S3_FORCE_PATH_STYLE", "true", 1);
    cfg = ms_config_new();
    assert(ms_config_storage(cfg) == MS_STORAGE_S3);
    assert(cm_streq(ms_config_s3_bucket(cfg), "b"));
    assert(ms_config_s3_path_style(cfg));
    ms_config_destroy(&cfg);
    unsetenv("WAHA_MEDIA_STORAGE");
    unsetenv("WAHA_S3_BUCKET");
    unsetenv("WAHA_S3_ACCESS_KEY_ID");
    unsetenv("WAHA_S3_SECRET_ACCESS_KEY");
    unsetenv("WAHA_S3_ENDPOINT");
    unsetenv("WAHA_S3_FORCE_PATH_STYLE");
    unsetenv("MEDIA_BIND");
    unsetenv("MEDIA_FETCH_ALLOW");
    printf("OK\n");
}
