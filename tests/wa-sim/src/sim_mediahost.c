/*  sim_mediahost - the media host: HTTP upload and download of encrypted
    blobs, as announced by media_conn

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_http.h"
#include "sim_mediahost.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct _sim_mediahost_t {
    sim_http_t *http;   //  HTTP(S) listener
    bool tls;           //  serving HTTPS
    sim_model_t *model; //  blob store (borrowed)
    char *host;         //  "bind:port"
    char *auth;         //  upload auth token
    uint64_t counter;   //  object id source
};

//  URL-safe Base64 of data, without padding. Caller owns return value.
static char *
s_base64url(const uint8_t *data, size_t len)
{
    zarmour_t *armour = zarmour_new();
    zarmour_set_mode(armour, ZARMOUR_MODE_BASE64_URL);
    zarmour_set_pad(armour, false);
    char *text = zarmour_encode(armour, data, len);
    zarmour_destroy(&armour);
    return text;
}

//  True if token is the URL-safe Base64 of SHA-256(body), with or
//  without '=' padding (standard-alphabet tokens are accepted too).
static bool
s_token_matches(const char *token, const uint8_t *body, size_t len)
{
    uint8_t hash[WA_SHA256_LEN];
    if (!token || wa_sha256(body, len, hash)) {
        return false;
    }
    char *want = s_base64url(hash, sizeof hash);
    size_t n = strlen(want);
    bool ok = strlen(token) >= n;
    for (size_t i = 0; ok && i < n; i++) {
        char c = token[i];
        c = c == '+' ? '-' : c == '/' ? '_' : c;
        ok = c == want[i];
    }
    //  Only padding may follow ("=" or its URL encoding).
    const char *rest = ok ? token + n : "";
    while (ok && *rest) {
        if (*rest == '=') {
            rest++;
        } else if (strncasecmp(rest, "%3D", 3) == 0) {
            rest += 3;
        } else {
            ok = false;
        }
    }
    free(want);
    return ok;
}

char *
sim_mediahost_handle(const char *path)
{
    assert(path);
    size_t n = strcspn(path, "?");
    char *bare = cm_sprintf("wa-sim media handle %.*s", (int)n, path);
    uint8_t hash[WA_SHA256_LEN];
    wa_sha256(bare, strlen(bare), hash);
    free(bare);
    char *text = s_base64url(hash, 16);
    return text;
}

static void
s_upload(sim_mediahost_t *self, sim_http_req_t *req, const char *token,
         bool channel)
{
    const char *auth = sim_http_arg(req, "auth");
    if (!auth || !cm_streq(auth, self->auth)) {
        sim_http_reply_error(req, 401, "bad or missing auth");
        return;
    }
    size_t len = 0;
    const uint8_t *body = sim_http_body(req, &len);
    if (len == 0) {
        sim_http_reply_error(req, 400, "empty body");
        return;
    }
    if (!s_token_matches(token, body, len)) {
        sim_http_reply_error(req, 400, "token does not match body hash");
        return;
    }
    uint8_t rnd[16];
    cm_random(rnd, sizeof rnd);
    char hex[33];
    cm_hex(rnd, sizeof rnd, hex);
    //  Channel media is kept as sent (plaintext); the rest is enc files
    char *path = channel ? cm_sprintf("/v/t62.7161-24/%s", hex)
                         : cm_sprintf("/v/t62.7118-24/%s.enc", hex);
    if (sim_model_media_put(self->model, path, body, len)) {
        free(path);
        sim_http_reply_error(req, 507, "media store full");
        return;
    }
    int64_t expires = cm_now_ms() / 1000 + 14 * 86400;
    cm_hex(rnd, 8, hex);
    char *direct =
        cm_sprintf("%s?ccb=11-4&oh=01_%s&oe=%08" PRIX64 "&_nc_sid=5e03e0", path,
                   hex, (uint64_t)expires);
    char *url = cm_sprintf("%s://%s%s&mms3=true", sim_mediahost_scheme(self),
                           self->host, direct);
    char *object_id = cm_sprintf("%" PRIu64, ++self->counter);
    //  The handle a channel post names its media by (media_id)
    char *handle = sim_mediahost_handle(path);
    json_t *reply =
        json_pack("{s:s, s:s, s:s, s:s, s:I}", "url", url, "direct_path",
                  direct, "handle", handle, "object_id", object_id, "ts",
                  (json_int_t)(cm_now_ms() / 1000));
    free(handle);
    cm_log_debug("stored media blob", "path=\"%s\" size=%zu", path, len);
    sim_http_reply_json(req, 200, &reply);
    free(object_id);
    free(url);
    free(direct);
    free(path);
}

static void
s_download(sim_mediahost_t *self, sim_http_req_t *req)
{
    size_t len = 0;
    const uint8_t *blob =
        sim_model_media_get(self->model, sim_http_path(req), &len);
    if (!blob) {
        sim_http_reply_error(req, 404, "no such media");
        return;
    }
    sim_http_reply_bytes(req, 200, "application/octet-stream", blob, len);
}

static void
s_handle(void *arg, sim_http_req_t *req)
{
    sim_mediahost_t *self = (sim_mediahost_t *)arg;
    const char *method = sim_http_method(req);
    const char *path = sim_http_path(req);
    if (cm_streq(method, "POST")) {
        //  /mms/<type>/<token> or /newsletter/newsletter-<type>/<token>
        const char *token = strrchr(path, '/');
        if ((strncmp(path, "/mms/", 5) == 0 ||
             strncmp(path, "/newsletter/", 12) == 0 ||
             strncmp(path, "/product/", 9) == 0 ||
             strncmp(path, "/pps/", 5) == 0) &&
            token && token[1]) {
            s_upload(self, req, token + 1,
                     strncmp(path, "/newsletter/", 12) == 0);
            return;
        }
        sim_http_reply_error(req, 404, "unrecognized upload path");
        return;
    }
    if (cm_streq(method, "GET")) {
        s_download(self, req);
        return;
    }
    sim_http_reply_error(req, 405, "method not allowed");
}

//  PEM text of a BIO. Caller owns return value.
static char *
s_bio_text(BIO *bio)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    return cm_strndup(data, len > 0 ? (size_t)len : 0);
}

//  A self-signed EC P-256 certificate for `host` (an IP address or a
//  name), valid for two days; PEM certificate and key. Returns 0 / -1.
static int
s_make_cert(const char *host, char **cert_pem, char **key_pem)
{
    int rc = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    BIO *cbio = BIO_new(BIO_s_mem());
    BIO *kbio = BIO_new(BIO_s_mem());
    X509_EXTENSION *ext = NULL;
    if (!key || !cert || !cbio || !kbio) {
        goto cleanup;
    }
    uint8_t serial[8];
    cm_random(serial, sizeof serial);
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 2 * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)host, -1, -1, 0);
    X509_set_issuer_name(cert, name);
    bool ip = strspn(host, "0123456789.") == strlen(host) || strchr(host, ':');
    char *san = cm_sprintf("%s:%s,DNS:localhost", ip ? "IP" : "DNS", host);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    free(san);
    if (!ext || !X509_add_ext(cert, ext, -1) ||
        !X509_sign(cert, key, EVP_sha256()) ||
        !PEM_write_bio_X509(cbio, cert) ||
        !PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL)) {
        goto cleanup;
    }
    *cert_pem = s_bio_text(cbio);
    *key_pem = s_bio_text(kbio);
    rc = 0;
cleanup:
    X509_EXTENSION_free(ext);
    BIO_free(cbio);
    BIO_free(kbio);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

sim_mediahost_t *
sim_mediahost_new(zloop_t *loop, const char *bind, uint16_t port,
                  sim_model_t *model, const char *cert_path)
{
    assert(model);
    const char *addr = bind ? bind : "127.0.0.1";
    char *cert_pem = NULL, *key_pem = NULL;
    if (cert_path) {
        FILE *f = NULL;
        if (s_make_cert(addr, &cert_pem, &key_pem) != 0 ||
            !(f = fopen(cert_path, "w")) || fputs(cert_pem, f) < 0 ||
            fclose(f) != 0) {
            cm_log_error("could not make the media host certificate",
                         "path=\"%s\"", cert_path);
            free(cert_pem);
            free(key_pem);
            return NULL;
        }
    }
    sim_mediahost_t *self =
        (sim_mediahost_t *)cm_alloc(sizeof(sim_mediahost_t));
    self->model = model;
    self->tls = cert_path != NULL;
    self->http = sim_http_new_tls(loop, bind, port, SIM_MEDIAHOST_BLOB_MAX,
                                  cert_pem, key_pem, s_handle, self);
    if (key_pem) {
        memset(key_pem, 0, strlen(key_pem));
    }
    free(key_pem);
    free(cert_pem);
    if (!self->http) {
        free(self);
        return NULL;
    }
    self->host = cm_sprintf("%s:%u", bind, sim_http_port(self->http));
    uint8_t rnd[24];
    cm_random(rnd, sizeof rnd);
    self->auth = s_base64url(rnd, sizeof rnd);
    return self;
}

void
sim_mediahost_destroy(sim_mediahost_t **self_p)
{
    assert(self_p);
    sim_mediahost_t *self = *self_p;
    if (self) {
        sim_http_destroy(&self->http);
        free(self->host);
        free(self->auth);
        free(self);
        *self_p = NULL;
    }
}

const char *
sim_mediahost_scheme(sim_mediahost_t *self)
{
    assert(self);
    return self->tls ? "https" : "http";
}

uint16_t
sim_mediahost_port(sim_mediahost_t *self)
{
    assert(self);
    return sim_http_port(self->http);
}

const char *
sim_mediahost_host(sim_mediahost_t *self)
{
    assert(self);
    return self->host;
}

const char *
sim_mediahost_auth(sim_mediahost_t *self)
{
    assert(self);
    return self->auth;
}

void
sim_mediahost_test(bool verbose)
{
    printf(" * sim_mediahost: ");
    uint8_t body[5] = {'h', 'e', 'l', 'l', 'o'};
    uint8_t hash[WA_SHA256_LEN];
    assert(wa_sha256(body, sizeof body, hash) == 0);
    char *token = s_base64url(hash, sizeof hash);
    assert(!strchr(token, '='));
    assert(s_token_matches(token, body, sizeof body));
    char *padded = cm_sprintf("%s=", token);
    assert(s_token_matches(padded, body, sizeof body));
    free(padded);
    padded = cm_sprintf("%s%%3D", token);
    assert(s_token_matches(padded, body, sizeof body));
    free(padded);
    padded = cm_sprintf("%sx", token);
    assert(!s_token_matches(padded, body, sizeof body));
    free(padded);
    assert(!s_token_matches(token, body, 4));
    assert(!s_token_matches(NULL, body, 4));
    free(token);
    //  A handle names a path, whatever its query
    char *h1 = sim_mediahost_handle("/v/t62.7161-24/ab");
    char *h2 = sim_mediahost_handle("/v/t62.7161-24/ab?ccb=11-4");
    char *h3 = sim_mediahost_handle("/v/t62.7161-24/ac");
    assert(cm_streq(h1, h2) && !cm_streq(h1, h3) && strlen(h1) >= 20);
    free(h1);
    free(h2);
    free(h3);

    zloop_t *loop = zloop_new();
    sim_model_t *model = sim_model_new();
    sim_mediahost_t *media =
        sim_mediahost_new(loop, "127.0.0.1", 0, model, NULL);
    assert(media);
    assert(sim_mediahost_port(media) > 0);
    assert(strncmp(sim_mediahost_host(media), "127.0.0.1:", 10) == 0);
    assert(strlen(sim_mediahost_auth(media)) >= 32);
    assert(cm_streq(sim_mediahost_scheme(media), "http"));
    sim_mediahost_destroy(&media);
    assert(!media);
    //  HTTPS: the certificate is written for clients to trust
    char path[] = "/tmp/sim_mediahost_test_XXXXXX";
    int fd = mkstemp(path);
    assert(fd >= 0);
    close(fd);
    media = sim_mediahost_new(loop, "127.0.0.1", 0, model, path);
    assert(media);
    assert(cm_streq(sim_mediahost_scheme(media), "https"));
    FILE *f = fopen(path, "r");
    assert(f);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert(cert);
    assert(X509_check_ip_asc(cert, "127.0.0.1", 0) == 1);
    X509_free(cert);
    sim_mediahost_destroy(&media);
    unlink(path);
    sim_model_destroy(&model);
    zloop_destroy(&loop);
    printf("OK\n");
}
