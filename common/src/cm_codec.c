/*  cm_codec - base64 and QR code rendering

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"
#include <png.h>
#include <qrencode.h>

//  Longest text we put into a QR code (WhatsApp's are ~250 chars).
#define CM_QR_MAX_TEXT 2048
//  Quiet zone around the code, in modules.
#define CM_QR_MARGIN 4

static const char s_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
cm_base64_encode(const uint8_t *data, size_t len)
{
    char *out = cm_alloc(4 * ((len + 2) / 3) + 1);
    size_t o = 0;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t) data[i] << 16 | (uint32_t) data[i + 1] << 8
                     | data[i + 2];
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = s_b64[(v >> 6) & 63];
        out[o++] = s_b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t) data[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t) data[i + 1] << 8;
        }
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? s_b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return out;
}

static int
s_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+' || c == '-') {
        return 62;
    }
    if (c == '/' || c == '_') {
        return 63;
    }
    return -1;
}

int
cm_base64_decode(const char *text, size_t max, uint8_t **out_p,
                 size_t *out_len)
{
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == '=') {
        len--;
    }
    if (len % 4 == 1 || (len / 4) * 3 + 2 > max + 2) {
        return -1;
    }
    size_t cap = len / 4 * 3 + 3;
    uint8_t *out = cm_alloc(cap);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = s_b64_value(text[i]);
        if (v < 0) {
            free(out);
            return -1;
        }
        acc = acc << 6 | (uint32_t) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t) (acc >> bits);
        }
    }
    if (o > max) {
        free(out);
        return -1;
    }
    *out_p = out;
    *out_len = o;
    return 0;
}

//  libpng writes into this growing buffer.
typedef struct {
    uint8_t *data;  //  bytes so far
    size_t len;     //  used
    size_t cap;     //  allocated
} s_pngbuf_t;

static void
s_png_write(png_structp png, png_bytep data, png_size_t len)
{
    s_pngbuf_t *buf = (s_pngbuf_t *) png_get_io_ptr(png);
    if (buf->len + len > buf->cap) {
        size_t cap = (buf->cap ? buf->cap * 2 : 4096) + len;
        uint8_t *grown = realloc(buf->data, cap);
        if (!grown) {
            abort();
        }
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
}

static void
s_png_flush(png_structp png)
{
}

int
cm_qr_png(const char *text, int scale, uint8_t **png_p, size_t *png_len)
{
    if (!text || !*text || strlen(text) > CM_QR_MAX_TEXT || scale < 1
        || scale > 32) {
        return -1;
    }
    QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L);
    if (!qr) {
        cm_log_warn("could not encode QR code", "err=\"%s\"", strerror(errno));
        return -1;
    }
    int side = (qr->width + 2 * CM_QR_MARGIN) * scale;
    s_pngbuf_t buf = {NULL, 0, 0};
    png_bytep row = cm_alloc((size_t) side);
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = -1;
    if (!png || !info) {
        goto cleanup;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(buf.data);
        buf.data = NULL;
        goto cleanup;
    }
    png_set_write_fn(png, &buf, s_png_write, s_png_flush);
    png_set_IHDR(png, info, (png_uint_32) side, (png_uint_32) side, 8,
                 PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < side; y++) {
        int my = y / scale - CM_QR_MARGIN;
        for (int x = 0; x < side; x++) {
            int mx = x / scale - CM_QR_MARGIN;
            bool dark = my >= 0 && my < qr->width && mx >= 0
                        && mx < qr->width
                        && (qr->data[my * qr->width + mx] & 1);
            row[x] = dark ? 0 : 255;
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    *png_p = buf.data;
    *png_len = buf.len;
    rc = 0;
cleanup:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(row);
    QRcode_free(qr);
    return rc;
}

int
cm_png_gray(const uint8_t *pixels, int width, int height, uint8_t **png_p,
            size_t *png_len)
{
    if (!pixels || width < 1 || height < 1 || width > 4096 || height > 4096) {
        return -1;
    }
    s_pngbuf_t buf = {NULL, 0, 0};
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = -1;
    if (!png || !info) {
        goto cleanup;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(buf.data);
        buf.data = NULL;
        goto cleanup;
    }
    png_set_write_fn(png, &buf, s_png_write, s_png_flush);
    png_set_IHDR(png, info, (png_uint_32) width, (png_uint_32) height, 8,
                 PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep) (pixels + (size_t) y * width));
    }
    png_write_end(png, NULL);
    *png_p = buf.data;
    *png_len = buf.len;
    rc = 0;
cleanup:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    return rc;
}

char *
cm_qr_data_uri(const char *text, int scale)
{
    uint8_t *png = NULL;
    size_t len = 0;
    if (cm_qr_png(text, scale, &png, &len) != 0) {
        return NULL;
    }
    char *b64 = cm_base64_encode(png, len);
    char *uri = cm_sprintf("data:image/png;base64,%s", b64);
    free(b64);
    free(png);
    return uri;
}

void
cm_codec_test(bool verbose)
{
    printf(" * cm_codec: ");
    struct {
        const char *plain;
        const char *b64;
    } vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                   {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                   {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char *e = cm_base64_encode((const uint8_t *) vectors[i].plain,
                                   strlen(vectors[i].plain));
        assert(streq(e, vectors[i].b64));
        free(e);
        uint8_t *d = NULL;
        size_t n = 0;
        assert(cm_base64_decode(vectors[i].b64, 100, &d, &n) == 0);
        assert(n == strlen(vectors[i].plain)
               && memcmp(d, vectors[i].plain, n) == 0);
        free(d);
    }
    uint8_t *d = NULL;
    size_t n = 0;
    assert(cm_base64_decode("Zm9vYmFy", 3, &d, &n) == -1);  //  too long
    assert(cm_base64_decode("Zm9v!mFy", 100, &d, &n) == -1); //  bad char
    assert(cm_base64_decode("Z", 100, &d, &n) == -1);        //  bad length
    assert(cm_base64_decode("-_-_", 100, &d, &n) == 0 && n == 3); //  url-safe
    assert(d[0] == 0xfb && d[1] == 0xff && d[2] == 0xbf);
    free(d);

    //  QR code: a real PNG of the right size
    uint8_t *png = NULL;
    size_t len = 0;
    const char *ref = "2@AbCdEf,GhIj,KlMn,OpQr,StUv";
    assert(cm_qr_png(ref, 4, &png, &len) == 0);
    assert(len > 100 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    //  IHDR width: (21 + 8) * 4 for a version-2 code or larger
    uint32_t w = (uint32_t) png[16] << 24 | (uint32_t) png[17] << 16
                 | (uint32_t) png[18] << 8 | png[19];
    assert(w % 4 == 0 && w >= (21 + 8) * 4);
    free(png);
    char *uri = cm_qr_data_uri(ref, 2);
    assert(uri && strncmp(uri, "data:image/png;base64,iVBORw0KGgo", 33) == 0);
    free(uri);
    assert(cm_qr_png("", 4, &png, &len) == -1);
    //  Any grey image
    uint8_t grey[6] = {0, 64, 128, 255, 0, 32};
    assert(cm_png_gray(grey, 3, 2, &png, &len) == 0);
    assert(memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0 && png[19] == 3
           && png[23] == 2);
    free(png);
    assert(cm_png_gray(grey, 0, 2, &png, &len) == -1);
    assert(cm_qr_png(ref, 0, &png, &len) == -1);
    printf("OK\n");
}
