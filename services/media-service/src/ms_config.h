/*  ms_config - media-service configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Read once at start; a bad value exits 78. Every variable is listed
    with its default in services/media-service/README.md.
*/
#ifndef MS_CONFIG_H_INCLUDED
#define MS_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  Highest MEDIA_MAX_BYTES: a file and its bus frames stay below the
//  bus message limit (CM_MSG_MAX_SIZE).
#define MS_CONFIG_MAX_BYTES_MAX (72L * 1024 * 1024)

typedef struct _ms_config_t ms_config_t;

//  Where downloaded media is kept.
typedef enum {
    MS_STORAGE_LOCAL = 0, //  files under WHATSAPP_FILES_FOLDER
    MS_STORAGE_S3 = 1     //  an S3-compatible bucket (AWS SigV4)
} ms_storage_t;

//  Read the environment; exits 78 on bad values. Caller owns return value.
ms_config_t *ms_config_new(void);
void ms_config_destroy(ms_config_t **self_p);

//  ZeroMQ endpoint the request ROUTER binds (MEDIA_BIND).
const char *ms_config_bind(const ms_config_t *self);
//  Log level name (APP_LOG_LEVEL).
const char *ms_config_log_level(const ms_config_t *self);
//  Worker threads serving requests (MEDIA_WORKERS).
int ms_config_workers(const ms_config_t *self);
//  Largest media file accepted or fetched, bytes (MEDIA_MAX_BYTES).
int64_t ms_config_max_bytes(const ms_config_t *self);
//  Whole-transfer time limit of a file.url fetch (MEDIA_FETCH_TIMEOUT_MS).
long ms_config_fetch_timeout_ms(const ms_config_t *self);
//  Redirects followed by a file.url fetch (MEDIA_FETCH_MAX_REDIRECTS).
long ms_config_fetch_max_redirects(const ms_config_t *self);
//  Comma list of addresses / CIDRs a fetch may reach even though they
//  are loopback, private, link-local or metadata (MEDIA_FETCH_ALLOW).
const char *ms_config_fetch_allow(const ms_config_t *self);
//  Time limit of one upload or download to a WhatsApp media host
//  (MEDIA_TRANSFER_TIMEOUT_MS).
long ms_config_transfer_timeout_ms(const ms_config_t *self);
//  Extra CA bundle for HTTPS (MEDIA_CA_FILE), or NULL for the system's.
const char *ms_config_ca_file(const ms_config_t *self);
//  ffmpeg / ffprobe programs (MEDIA_FFMPEG, MEDIA_FFPROBE).
const char *ms_config_ffmpeg(const ms_config_t *self);
const char *ms_config_ffprobe(const ms_config_t *self);
//  Where temporary files go (TMPDIR, default /tmp; ms_scratch).
const char *ms_config_tmp_dir(const ms_config_t *self);
//  Time limit of one ffmpeg run (MEDIA_FFMPEG_TIMEOUT_MS).
long ms_config_ffmpeg_timeout_ms(const ms_config_t *self);
//  Storage backend (WAHA_MEDIA_STORAGE = LOCAL | S3).
ms_storage_t ms_config_storage(const ms_config_t *self);
//  Local folder (WHATSAPP_FILES_FOLDER).
const char *ms_config_files_folder(const ms_config_t *self);
//  Seconds a stored file lives, 0 = forever (WHATSAPP_FILES_LIFETIME).
long ms_config_files_lifetime(const ms_config_t *self);
//  S3 settings (WAHA_S3_*). Strings are NULL when unset.
const char *ms_config_s3_endpoint(const ms_config_t *self);
const char *ms_config_s3_region(const ms_config_t *self);
const char *ms_config_s3_bucket(const ms_config_t *self);
const char *ms_config_s3_access_key(const ms_config_t *self);
const char *ms_config_s3_secret_key(const ms_config_t *self);
bool ms_config_s3_path_style(const ms_config_t *self);

void ms_config_test(bool verbose);

#endif
