/*  ms_store - where downloaded media files are kept

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A file is named by a key "<session>/<file>" (the file being WAHA's
    "<messageId>.<ext>"). LOCAL keeps it under WHATSAPP_FILES_FOLDER
    (written to a temporary name, then renamed: readers never see half a
    file); S3 keeps it as object "<session>/<file>" in WAHA_S3_BUCKET,
    signed with AWS Signature V4 (libcurl's CURLOPT_AWS_SIGV4), path-style
    or virtual-hosted. Every instance pointed at the same bucket serves
    the same files. The mimetype is derived from the extension.
    LOCAL files older than WHATSAPP_FILES_LIFETIME are deleted by
    ms_store_sweep; in S3 a lifecycle rule on the bucket does that. The
    sweep also deletes temporary files older than MS_STORE_TEMP_STALE_S:
    a media-service killed in the middle of a write leaves one.
*/
#ifndef MS_STORE_H_INCLUDED
#define MS_STORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms_config.h"
#include "ms_http.h"

typedef struct _ms_store_t ms_store_t;

//  A temporary file of a write this old (s) was abandoned: no write takes
//  that long, so whichever media-service made it, it is not writing it.
#define MS_STORE_TEMP_STALE_S 3600

//  Outcome of a read.
typedef enum {
    MS_STORE_OK = 0,
    MS_STORE_NOT_FOUND = 1,
    MS_STORE_FAILED = 2
} ms_store_rc_t;

//  Store for this configuration; uses `http` (borrowed) for S3.
//  NULL when the local folder cannot be created. Caller owns return
//  value.
ms_store_t *ms_store_new(const ms_config_t *config, ms_http_t *http);
void ms_store_destroy(ms_store_t **self_p);

//  True if `key` is "<session>/<file>": session [A-Za-z0-9_-]{1,64}, file
//  [A-Za-z0-9@._-]{1,200} not starting with a dot.
bool ms_store_key_valid(const char *key);

//  Keep len bytes under key. Returns 0, or -1 (logged).
int ms_store_put(ms_store_t *self, const char *key, const uint8_t *data,
                 size_t len);

//  Read key (at most max bytes). *data_p is caller-owned on MS_STORE_OK.
ms_store_rc_t ms_store_get(ms_store_t *self, const char *key, int64_t max,
                           uint8_t **data_p, size_t *len_p);

//  Whether key is stored (and, LOCAL, within its lifetime), without
//  reading it: a stat, or an S3 HEAD. *size_p (may be NULL) gets the
//  LOCAL file's size, -1 for S3.
ms_store_rc_t ms_store_has(ms_store_t *self, const char *key, int64_t *size_p);

//  Delete LOCAL files past their lifetime, and abandoned temporary files
//  (MS_STORE_TEMP_STALE_S). Returns the number deleted.
int ms_store_sweep(ms_store_t *self);

void ms_store_test(bool verbose);

#endif
