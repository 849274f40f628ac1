/*  ms_store - where downloaded media files are kept

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>

struct _ms_store_t {
    ms_storage_t kind;
    char *folder;    //  LOCAL
    long lifetime;   //  seconds, 0 = forever
    ms_http_t *http; //  S3, borrowed
    char *endpoint;  //  S3: scheme://host[:port], no trailing slash
    char *bucket;
    char *sigv4;   //  "aws:amz:<region>:s3"
    char *userpwd; //  "<access>:<secret>"
    bool path_style;
    long timeout_ms;
};

static int
s_mkdir_p(const char *path)
{
    char buf[1024];
    if (strlen(path) >= sizeof buf) {
        return -1;
    }
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

ms_store_t *
ms_store_new(const ms_config_t *config, ms_http_t *http)
{
    ms_store_t *self = cm_alloc(sizeof *self);
    self->kind = ms_config_storage(config);
    self->lifetime = ms_config_files_lifetime(config);
    self->http = http;
    self->timeout_ms = ms_config_transfer_timeout_ms(config);
    if (self->kind == MS_STORAGE_LOCAL) {
        self->folder = cm_strdup(ms_config_files_folder(config));
        if (s_mkdir_p(self->folder) != 0) {
            cm_log_error("could not create the media folder",
                         "folder=\"%s\" err=\"%s\"", self->folder,
                         strerror(errno));
            ms_store_destroy(&self);
        }
        return self;
    }
    const char *region = ms_config_s3_region(config);
    const char *endpoint = ms_config_s3_endpoint(config);
    self->endpoint = endpoint
                         ? cm_strdup(endpoint)
                         : cm_sprintf("https://s3.%s.amazonaws.com", region);
    size_t n = strlen(self->endpoint);
    while (n && self->endpoint[n - 1] == '/') {
        self->endpoint[--n] = 0;
    }
    self->bucket = cm_strdup(ms_config_s3_bucket(config));
    self->sigv4 = cm_sprintf("aws:amz:%s:s3", region);
    self->userpwd = cm_sprintf("%s:%s", ms_config_s3_access_key(config),
                               ms_config_s3_secret_key(config));
    self->path_style = ms_config_s3_path_style(config);
    return self;
}

void
ms_store_destroy(ms_store_t **self_p)
{
    assert(self_p);
    ms_store_t *self = *self_p;
    if (self) {
        free(self->folder);
        free(self->endpoint);
        free(self->bucket);
        free(self->sigv4);
        if (self->userpwd) {
            memset(self->userpwd, 0, strlen(self->userpwd));
        }
        free(self->userpwd);
        free(self);
        *self_p = NULL;
    }
}

bool
ms_store_key_valid(const char *key)
{
    if (!key) {
        return false;
    }
    const char *slash = strchr(key, '/');
    if (!slash) {
        return false;
    }
    size_t slen = (size_t)(slash - key);
    if (slen < 1 || slen > 64) {
        return false;
    }
    for (const char *p = key; p < slash; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
            return false;
        }
    }
    const char *file = slash + 1;
    size_t flen = strlen(file);
    if (flen < 1 || flen > 200 || *file == '.') {
        return false;
    }
    for (const char *p = file; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("@._-", *p)) {
            return false;
        }
    }
    return true;
}

//  "x-amz-content-sha256: <hex>" of a payload: SigV4 signs it and S3
//  requires it (curl does not add it by itself).
static struct curl_slist *
s_payload_header(struct curl_slist *headers, const uint8_t *data, size_t len)
{
    uint8_t digest[32];
    unsigned int n = 0;
    int rc = EVP_Digest(data ? data : (const uint8_t *)"", len, digest, &n,
                        EVP_sha256(), NULL);
    assert(rc == 1 && n == 32);
    char hex[65];
    cm_hex(digest, 32, hex);
    char line[96];
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", hex);
    return curl_slist_append(headers, line);
}

//  key with every byte but SigV4's unreserved ones and '/' as %XX. libcurl
//  (7.88) signs the path exactly as it sends it, while AWS's canonical URI
//  encodes each segment: a raw '@' (every WAHA file name has one) would be
//  signed as '@' and checked as %40, and S3 refuses the request. Caller
//  owns return value.
static char *
s_key_path(const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(key);
    char *out = cm_alloc(3 * n + 1);
    char *p = out;
    for (const unsigned char *k = (const unsigned char *)key; *k; k++) {
        if (isalnum(*k) || strchr("-_.~/", *k)) {
            *p++ = (char)*k;
        } else {
            *p++ = '%';
            *p++ = hex[*k >> 4];
            *p++ = hex[*k & 15];
        }
    }
    *p = 0;
    return out;
}

//  The object URL of key.
static char *
s_url(ms_store_t *self, const char *key)
{
    char *path = s_key_path(key);
    char *url;
    if (self->path_style) {
        url = cm_sprintf("%s/%s/%s", self->endpoint, self->bucket, path);
    } else {
        const char *host = strstr(self->endpoint, "://");
        size_t scheme_len = (size_t)(host - self->endpoint) + 3;
        url = cm_sprintf("%.*s%s.%s/%s", (int)scheme_len, self->endpoint,
                         self->bucket, self->endpoint + scheme_len, path);
    }
    free(path);
    return url;
}

int
ms_store_put(ms_store_t *self, const char *key, const uint8_t *data, size_t len)
{
    assert(ms_store_key_valid(key));
    if (self->kind == MS_STORAGE_LOCAL) {
        char dir[1100], tmp[1400], path[1400];
        const char *slash = strchr(key, '/');
        snprintf(dir, sizeof dir, "%s/%.*s", self->folder, (int)(slash - key),
                 key);
        char rnd[9];
        uint8_t r[4];
        cm_random(r, sizeof r);
        cm_hex(r, sizeof r, rnd);
        snprintf(path, sizeof path, "%s/%s", self->folder, key);
        snprintf(tmp, sizeof tmp, "%s/.%s.%s", dir, slash + 1, rnd);
        if (s_mkdir_p(dir) != 0) {
            cm_log_error("could not create the media folder",
                         "folder=\"%s\" err=\"%s\"", dir, strerror(errno));
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            cm_log_error("could not write media file", "path=\"%s\" err=\"%s\"",
                         tmp, strerror(errno));
            return -1;
        }
        size_t done = 0;
        while (done < len) {
            ssize_t n = write(fd, data + done, len - done);
            if (n <= 0) {
                break;
            }
            done += (size_t)n;
        }
        if (close(fd) != 0 || done != len || rename(tmp, path) != 0) {
            cm_log_error("could not write media file", "path=\"%s\" err=\"%s\"",
                         path, strerror(errno));
            unlink(tmp);
            return -1;
        }
        return 0;
    }
    char *url = s_url(self, key);
    const char *ext = strrchr(key, '.');
    char ct[160];
    snprintf(ct, sizeof ct, "Content-Type: %s",
             ms_sniff_from_extension(ext ? ext : ""));
    struct curl_slist *headers = curl_slist_append(NULL, ct);
    headers = curl_slist_append(headers, "Expect:");
    headers = s_payload_header(headers, data, len);
    ms_http_req_t req = {.method = "PUT",
                         .url = url,
                         .headers = headers,
                         .body = data,
                         .body_len = len,
                         .max_bytes = 1 << 20,
                         .timeout_ms = self->timeout_ms,
                         .aws_sigv4 = self->sigv4,
                         .userpwd = self->userpwd};
    ms_http_res_t res;
    int rc = ms_http_perform(self->http, &req, &res);
    if (rc != 0 || res.status < 200 || res.status >= 300) {
        cm_log_error("could not put media object",
                     "key=\"%s\" status=%ld "
                     "err=\"%s\"",
                     key, res.status,
                     rc ? res.error : "refused by the object store");
        rc = -1;
    }
    ms_http_res_clear(&res);
    curl_slist_free_all(headers);
    free(url);
    return rc;
}

ms_store_rc_t
ms_store_get(ms_store_t *self, const char *key, int64_t max, uint8_t **data_p,
             size_t *len_p)
{
    if (!ms_store_key_valid(key)) {
        return MS_STORE_NOT_FOUND;
    }
    if (self->kind == MS_STORAGE_LOCAL) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", self->folder, key);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return errno == ENOENT ? MS_STORE_NOT_FOUND : MS_STORE_FAILED;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > max) {
            close(fd);
            return MS_STORE_FAILED;
        }
        if (self->lifetime > 0 && st.st_mtime + self->lifetime < time(NULL)) {
            close(fd);
            return MS_STORE_NOT_FOUND; //  expired, the sweep will remove it
        }
        return cm_read_fd(fd, (size_t)max, data_p, len_p) == 0
                   ? MS_STORE_OK
                   : MS_STORE_FAILED;
    }
    char *url = s_url(self, key);
    struct curl_slist *headers = s_payload_header(NULL, NULL, 0);
    ms_http_req_t req = {.url = url,
                         .headers = headers,
                         .max_bytes = max,
                         .timeout_ms = self->timeout_ms,
                         .aws_sigv4 = self->sigv4,
                         .userpwd = self->userpwd};
    ms_http_res_t res;
    ms_store_rc_t rc = MS_STORE_FAILED;
    if (ms_http_perform(self->http, &req, &res) == 0) {
        if (res.status == 200) {
            *data_p = res.body;
            *len_p = res.len;
            res.body = NULL;
            rc = MS_STORE_OK;
        } else if (res.status == 404) {
            rc = MS_STORE_NOT_FOUND;
        } else {
            cm_log_error("could not get media object", "key=\"%s\" status=%ld",
                         key, res.status);
        }
    } else {
        cm_log_error("could not get media object", "key=\"%s\" err=\"%s\"", key,
                     res.error);
    }
    ms_http_res_clear(&res);
    curl_slist_free_all(headers);
    free(url);
    return rc;
}

ms_store_rc_t
ms_store_has(ms_store_t *self, const char *key, int64_t *size_p)
{
    if (size_p) {
        *size_p = -1;
    }
    if (!ms_store_key_valid(key)) {
        return MS_STORE_NOT_FOUND;
    }
    if (self->kind == MS_STORAGE_LOCAL) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", self->folder, key);
        struct stat st;
        if (stat(path, &st) != 0) {
            return errno == ENOENT ? MS_STORE_NOT_FOUND : MS_STORE_FAILED;
        }
        if (!S_ISREG(st.st_mode) ||
            (self->lifetime > 0 && st.st_mtime + self->lifetime < time(NULL))) {
            return MS_STORE_NOT_FOUND;
        }
        if (size_p) {
            *size_p = (int64_t)st.st_size;
        }
        return MS_STORE_OK;
    }
    char *url = s_url(self, key);
    struct curl_slist *headers = s_payload_header(NULL, NULL, 0);
    ms_http_req_t req = {.method = "HEAD",
                         .url = url,
                         .headers = headers,
                         //  no body; a large limit so that curl does
                         //  not refuse the object's Content-Length
                         .max_bytes = (int64_t)1 << 40,
                         .timeout_ms = self->timeout_ms,
                         .aws_sigv4 = self->sigv4,
                         .userpwd = self->userpwd};
    ms_http_res_t res;
    ms_store_rc_t rc = MS_STORE_FAILED;
    if (ms_http_perform(self->http, &req, &res) == 0) {
        if (res.status == 200) {
            rc = MS_STORE_OK;
        } else if (res.status == 404) {
            rc = MS_STORE_NOT_FOUND;
        } else {
            cm_log_error("could not check media object",
                         "key=\"%s\" status=%ld", key, res.status);
        }
    } else {
        cm_log_error("could not check media object", "key=\"%s\" err=\"%s\"",
                     key, res.error);
    }
    ms_http_res_clear(&res);
    curl_slist_free_all(headers);
    free(url);
    return rc;
}

int
ms_store_sweep(ms_store_t *self)
{
    if (self->kind != MS_STORAGE_LOCAL) {
        return 0;
    }
    int deleted = 0;
    time_t now = time(NULL);
    time_t cutoff = now - self->lifetime;
    //  A put writes its temporary file from memory in moments: one this
    //  old was left by a media-service killed while writing it (it is
    //  never renamed), whichever instance it was
    time_t abandoned = now - MS_STORE_TEMP_STALE_S;
    DIR *top = opendir(self->folder);
    if (!top) {
        return 0;
    }
    struct dirent *s;
    while ((s = readdir(top))) {
        if (s->d_name[0] == '.') {
            continue;
        }
        char dir[1400];
        snprintf(dir, sizeof dir, "%s/%s", self->folder, s->d_name);
        DIR *d = opendir(dir);
        if (!d) {
            continue;
        }
        struct dirent *f;
        while ((f = readdir(d))) {
            if (streq(f->d_name, ".") || streq(f->d_name, "..")) {
                continue;
            }
            //  Stored files never start with a dot (ms_store_key_valid);
            //  temporary ones do (ms_store_put)
            bool temporary = f->d_name[0] == '.';
            if (!temporary && self->lifetime <= 0) {
                continue;
            }
            char path[2000];
            snprintf(path, sizeof path, "%s/%s", dir, f->d_name);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                st.st_mtime < (temporary ? abandoned : cutoff) &&
                unlink(path) == 0) {
                deleted++;
            }
        }
        closedir(d);
        rmdir(dir); //  only succeeds when empty
    }
    closedir(top);
    return deleted;
}

//  --------------------------------------------------------------------

void
ms_store_test(bool verbose)
{
    printf(" * ms_store: ");
    //  Keys are URI-encoded as SigV4's canonical URI wants them
    char *kp = s_key_path("s1/false_1555@c.us_3EB0 x+y.jpeg");
    assert(streq(kp, "s1/false_1555%40c.us_3EB0%20x%2By.jpeg"));
    free(kp);
    assert(ms_store_key_valid("default/false_1555@c.us_ABC.jpeg"));
    assert(ms_store_key_valid("s-1_x/true_120363@g.us_3EB0_1555@c.us.pdf"));
    assert(!ms_store_key_valid("default/../etc/passwd"));
    assert(!ms_store_key_valid("../x/y.jpeg"));
    assert(!ms_store_key_valid("default/.hidden"));
    assert(!ms_store_key_valid("default/"));
    assert(!ms_store_key_valid("/x.jpeg"));
    assert(!ms_store_key_valid("a/b/c.jpeg"));
    assert(!ms_store_key_valid("nokey"));
    assert(!ms_store_key_valid(NULL));

    char dir[] = "/tmp/ms_store_test_XXXXXX";
    assert(mkdtemp(dir));
    char folder[128];
    snprintf(folder, sizeof folder, "%s/media", dir);
    setenv("WHATSAPP_FILES_FOLDER", folder, 1);
    setenv("WHATSAPP_FILES_LIFETIME", "60", 1);
    ms_config_t *cfg = ms_config_new();
    ms_store_t *store = ms_store_new(cfg, NULL);
    assert(store);
    assert(ms_store_put(store, "s1/a.jpeg", (const uint8_t *)"abc", 3) == 0);
    uint8_t *data = NULL;
    size_t len = 0;
    assert(ms_store_get(store, "s1/a.jpeg", 100, &data, &len) == MS_STORE_OK);
    assert(len == 3 && memcmp(data, "abc", 3) == 0);
    free(data);
    int64_t size = 0;
    assert(ms_store_has(store, "s1/a.jpeg", &size) == MS_STORE_OK && size == 3);
    assert(ms_store_has(store, "s1/none.jpeg", &size) == MS_STORE_NOT_FOUND);
    assert(ms_store_has(store, "s1/../x", NULL) == MS_STORE_NOT_FOUND);
    assert(ms_store_get(store, "s1/none.jpeg", 100, &data, &len) ==
           MS_STORE_NOT_FOUND);
    assert(ms_store_get(store, "s1/../x", 100, &data, &len) ==
           MS_STORE_NOT_FOUND);
    //  Too large for the caller
    assert(ms_store_get(store, "s1/a.jpeg", 2, &data, &len) == MS_STORE_FAILED);
    //  The sweep keeps fresh files and drops old ones
    assert(ms_store_sweep(store) == 0);
    char path[300];
    snprintf(path, sizeof path, "%s/s1/a.jpeg", folder);
    struct timeval old[2] = {{time(NULL) - 120, 0}, {time(NULL) - 120, 0}};
    assert(utimes(path, old) == 0);
    assert(ms_store_get(store, "s1/a.jpeg", 100, &data, &len) ==
           MS_STORE_NOT_FOUND);
    assert(ms_store_has(store, "s1/a.jpeg", NULL) == MS_STORE_NOT_FOUND);
    //  Temporary files of writes: one a killed media-service abandoned
    //  goes, one being written (by another media-service) stays
    char abandoned[300];
    char writing[300];
    snprintf(abandoned, sizeof abandoned, "%s/s1/.b.jpeg.0badf00d", folder);
    snprintf(writing, sizeof writing, "%s/s1/.c.jpeg.12345678", folder);
    FILE *f = fopen(abandoned, "w");
    assert(f);
    fclose(f);
    f = fopen(writing, "w");
    assert(f);
    fclose(f);
    time_t then = time(NULL) - MS_STORE_TEMP_STALE_S - 60;
    struct timeval stale[2] = {{then, 0}, {then, 0}};
    assert(utimes(abandoned, stale) == 0);
    assert(ms_store_sweep(store) == 2);
    assert(access(path, F_OK) != 0);
    assert(access(abandoned, F_OK) != 0);
    assert(access(writing, F_OK) == 0);
    assert(unlink(writing) == 0);
    ms_store_destroy(&store);
    ms_store_destroy(&store);
    ms_config_destroy(&cfg);
    snprintf(path, sizeof path, "%s/s1", folder);
    rmdir(path);
    rmdir(folder);
    rmdir(dir);
    unsetenv("WHATSAPP_FILES_FOLDER");
    unsetenv("WHATSAPP_FILES_LIFETIME");
    printf("OK\n");
}
