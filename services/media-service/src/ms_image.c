/*  ms_image - image size, JPEG thumbnails, square pictures, stickers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <webp/decode.h>
#include <webp/encode.h>

//  An RGB picture (RGBA when channels is 4).
typedef struct {
    uint8_t *rgb;
    int width;
    int height;
    int channels;
} s_picture_t;

//  libjpeg error handling: longjmp back instead of exit()
typedef struct {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
} s_jpeg_error_t;

static void
s_jpeg_fail(j_common_ptr cinfo)
{
    s_jpeg_error_t *err = (s_jpeg_error_t *)cinfo->err;
    longjmp(err->jump, 1);
}

static void
s_jpeg_quiet(j_common_ptr cinfo, int level)
{
    (void)cinfo;
    (void)level;
}

//  Decode a JPEG at the smallest DCT scale that stays >= want pixels on
//  the longest side (want 0: full size only reads the header).
static int
s_jpeg_decode(const uint8_t *data, size_t len, int want, s_picture_t *pic,
              int *full_w, int *full_h)
{
    struct jpeg_decompress_struct cinfo;
    s_jpeg_error_t err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = s_jpeg_fail;
    err.mgr.emit_message = s_jpeg_quiet;
    uint8_t *volatile rgb = NULL;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    *full_w = (int)cinfo.image_width;
    *full_h = (int)cinfo.image_height;
    if (!pic) {
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    if ((long)cinfo.image_width * cinfo.image_height > MS_IMAGE_MAX_PIXELS) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    int longest = cinfo.image_width > cinfo.image_height
                      ? (int)cinfo.image_width
                      : (int)cinfo.image_height;
    int denom = 1;
    while (denom < 8 && longest / (denom * 2) >= want) {
        denom *= 2;
    }
    cinfo.scale_num = 1;
    cinfo.scale_denom = (unsigned)denom;
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    rgb = cm_alloc((size_t)w * h * 3);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = rgb + (size_t)cinfo.output_scanline * w * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    pic->rgb = rgb;
    pic->width = w;
    pic->height = h;
    return 0;
}

static int
s_png_decode(const uint8_t *data, size_t len, s_picture_t *pic, int *w, int *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len)) {
        return -1;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    if (!pic) {
        png_image_free(&img);
        return 0;
    }
    if ((long)img.width * img.height > MS_IMAGE_MAX_PIXELS) {
        png_image_free(&img);
        return -1;
    }
    //  RGBA when asked for (stickers keep their transparency); else
    //  transparent pixels over white, as WhatsApp shows them
    img.format = pic->channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    uint8_t *rgb = cm_alloc(PNG_IMAGE_SIZE(img));
    png_color white = {255, 255, 255};
    if (!png_image_finish_read(&img, &white, rgb, 0, NULL)) {
        png_image_free(&img);
        free(rgb);
        return -1;
    }
    pic->rgb = rgb;
    pic->width = (int)img.width;
    pic->height = (int)img.height;
    return 0;
}

static int
s_webp_decode(const uint8_t *data, size_t len, s_picture_t *pic, int *w, int *h)
{
    if (!WebPGetInfo(data, len, w, h)) {
        return -1;
    }
    if (!pic) {
        return 0;
    }
    if ((long)*w * *h > MS_IMAGE_MAX_PIXELS) {
        return -1;
    }
    int pw, ph;
    int ch = pic->channels == 4 ? 4 : 3;
    uint8_t *rgb = ch == 4 ? WebPDecodeRGBA(data, len, &pw, &ph)
                           : WebPDecodeRGB(data, len, &pw, &ph);
    if (!rgb) {
        return -1;
    }
    pic->rgb = cm_alloc((size_t)pw * ph * ch);
    memcpy(pic->rgb, rgb, (size_t)pw * ph * ch);
    WebPFree(rgb);
    pic->width = pw;
    pic->height = ph;
    return 0;
}

//  RGB pixels as RGBA (opaque), in place of pic->rgb.
static void
s_add_alpha(s_picture_t *pic)
{
    size_t n = (size_t)pic->width * pic->height;
    uint8_t *rgba = cm_alloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        memcpy(rgba + i * 4, pic->rgb + i * 3, 3);
        rgba[i * 4 + 3] = 255;
    }
    free(pic->rgb);
    pic->rgb = rgba;
}

//  Decode (pic non-NULL) or only size any supported image. pic->channels
//  says what the caller wants: 4 for RGBA, else RGB (set to 3).
static int
s_decode(const uint8_t *data, size_t len, int want, s_picture_t *pic, int *w,
         int *h)
{
    const char *type = ms_sniff_mimetype(data, len);
    if (pic && pic->channels != 4) {
        pic->channels = 3;
    }
    if (streq(type, "image/jpeg")) {
        int rc = s_jpeg_decode(data, len, want, pic, w, h);
        if (rc == 0 && pic && pic->channels == 4) {
            s_add_alpha(pic);
        }
        return rc;
    }
    if (streq(type, "image/png")) {
        return s_png_decode(data, len, pic, w, h);
    }
    if (streq(type, "image/webp")) {
        return s_webp_decode(data, len, pic, w, h);
    }
    if (streq(type, "image/gif") && !pic && len >= 10) {
        *w = data[6] | (data[7] << 8);
        *h = data[8] | (data[9] << 8);
        return *w > 0 && *h > 0 ? 0 : -1;
    }
    return -1;
}

int
ms_image_size(const uint8_t *data, size_t len, int *width, int *height)
{
    return s_decode(data, len, 0, NULL, width, height);
}

//  Box-filter scale of an RGB or RGBA picture to w x h.
static uint8_t *
s_scale(const s_picture_t *src, int w, int h)
{
    int ch = src->channels == 4 ? 4 : 3;
    uint8_t *out = cm_alloc((size_t)w * h * ch);
    for (int y = 0; y < h; y++) {
        int y0 = (int)((long)y * src->height / h);
        int y1 = (int)((long)(y + 1) * src->height / h);
        if (y1 <= y0) {
            y1 = y0 + 1;
        }
        for (int x = 0; x < w; x++) {
            int x0 = (int)((long)x * src->width / w);
            int x1 = (int)((long)(x + 1) * src->width / w);
            if (x1 <= x0) {
                x1 = x0 + 1;
            }
            unsigned long sum[4] = {0, 0, 0, 0};
            for (int yy = y0; yy < y1; yy++) {
                const uint8_t *p =
                    src->rgb + ((size_t)yy * src->width + x0) * ch;
                for (int xx = x0; xx < x1; xx++, p += ch) {
                    for (int c = 0; c < ch; c++) {
                        sum[c] += p[c];
                    }
                }
            }
            unsigned long n = (unsigned long)(y1 - y0) * (x1 - x0);
            uint8_t *o = out + ((size_t)y * w + x) * ch;
            for (int c = 0; c < ch; c++) {
                o[c] = (uint8_t)(sum[c] / n);
            }
        }
    }
    return out;
}

static int
s_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, uint8_t **out_p,
              size_t *out_len)
{
    struct jpeg_compress_struct cinfo;
    s_jpeg_error_t err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = s_jpeg_fail;
    err.mgr.emit_message = s_jpeg_quiet;
    unsigned char *volatile buf = NULL;
    unsigned long size = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buf);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *mem = NULL;
    jpeg_mem_dest(&cinfo, &mem, &size);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * w * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    buf = mem;
    jpeg_destroy_compress(&cinfo);
    *out_p = (uint8_t *)buf;
    *out_len = size;
    return 0;
}

bool
ms_image_webp_animated(const uint8_t *data, size_t len)
{
    WebPBitstreamFeatures features;
    return data && len &&
           WebPGetFeatures(data, len, &features) == VP8_STATUS_OK &&
           features.has_animation;
}

int
ms_image_thumbnail(const uint8_t *data, size_t len, int side, uint8_t **thumb_p,
                   size_t *thumb_len)
{
    s_picture_t pic = {NULL, 0, 0, 3};
    int fw, fh;
    if (side < 1 || s_decode(data, len, side, &pic, &fw, &fh) != 0) {
        return -1;
    }
    int w = pic.width, h = pic.height;
    if (w > side || h > side) {
        if (w >= h) {
            h = (int)((long)h * side / w);
            w = side;
        } else {
            w = (int)((long)w * side / h);
            h = side;
        }
    }
    if (w < 1) {
        w = 1;
    }
    if (h < 1) {
        h = 1;
    }
    uint8_t *scaled = s_scale(&pic, w, h);
    free(pic.rgb);
    int rc =
        s_jpeg_encode(scaled, w, h, MS_IMAGE_THUMB_QUALITY, thumb_p, thumb_len);
    free(scaled);
    return rc;
}

int
ms_image_square(const uint8_t *data, size_t len, int side, int quality,
                uint8_t **out_p, size_t *out_len)
{
    s_picture_t pic = {NULL, 0, 0, 3};
    int fw, fh;
    if (side < 1 || s_decode(data, len, side, &pic, &fw, &fh) != 0) {
        return -1;
    }
    //  The centre square, then scaled (up or down) to side x side
    int n = pic.width < pic.height ? pic.width : pic.height;
    int x0 = (pic.width - n) / 2;
    int y0 = (pic.height - n) / 2;
    s_picture_t sq = {cm_alloc((size_t)n * n * 3), n, n, 3};
    for (int y = 0; y < n; y++) {
        memcpy(sq.rgb + (size_t)y * n * 3,
               pic.rgb + ((size_t)(y + y0) * pic.width + x0) * 3,
               (size_t)n * 3);
    }
    free(pic.rgb);
    uint8_t *scaled = s_scale(&sq, side, side);
    free(sq.rgb);
    int rc = s_jpeg_encode(scaled, side, side, quality, out_p, out_len);
    free(scaled);
    return rc;
}

int
ms_image_sticker(const uint8_t *data, size_t len, uint8_t **out_p,
                 size_t *out_len)
{
    s_picture_t pic = {NULL, 0, 0, 4};
    int fw, fh;
    const int side = MS_IMAGE_STICKER_SIDE;
    if (s_decode(data, len, side, &pic, &fw, &fh) != 0) {
        return -1;
    }
    //  Fit inside side x side, centred on a transparent canvas
    int w = side, h = side;
    if (pic.width >= pic.height) {
        h = (int)((long)pic.height * side / pic.width);
    } else {
        w = (int)((long)pic.width * side / pic.height);
    }
    w = w < 1 ? 1 : w;
    h = h < 1 ? 1 : h;
    uint8_t *scaled = s_scale(&pic, w, h);
    free(pic.rgb);
    uint8_t *canvas = cm_alloc((size_t)side * side * 4);
    memset(canvas, 0, (size_t)side * side * 4);
    int x0 = (side - w) / 2, y0 = (side - h) / 2;
    for (int y = 0; y < h; y++) {
        memcpy(canvas + ((size_t)(y + y0) * side + x0) * 4,
               scaled + (size_t)y * w * 4, (size_t)w * 4);
    }
    free(scaled);
    uint8_t *webp = NULL;
    size_t size = WebPEncodeRGBA(canvas, side, side, side * 4,
                                 MS_IMAGE_STICKER_QUALITY, &webp);
    free(canvas);
    if (size == 0 || !webp) {
        return -1;
    }
    *out_p = cm_alloc(size);
    memcpy(*out_p, webp, size);
    *out_len = size;
    WebPFree(webp);
    return 0;
}

//  --------------------------------------------------------------------

void
ms_image_test(bool verbose)
{
    printf(" * ms_image: ");
    //  A 640x360 gradient as JPEG, then as PNG
    int w = 640, h = 360;
    uint8_t *rgb = cm_alloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)x;
            p[1] = (uint8_t)y;
            p[2] = 128;
        }
    }
    uint8_t *jpeg = NULL;
    size_t jpeg_len = 0;
    assert(s_jpeg_encode(rgb, w, h, 90, &jpeg, &jpeg_len) == 0);
    int iw = 0, ih = 0;
    assert(ms_image_size(jpeg, jpeg_len, &iw, &ih) == 0);
    assert(iw == 640 && ih == 360);
    uint8_t *thumb = NULL;
    size_t thumb_len = 0;
    assert(ms_image_thumbnail(jpeg, jpeg_len, MS_IMAGE_THUMB_SIDE, &thumb,
                              &thumb_len) == 0);
    assert(ms_image_size(thumb, thumb_len, &iw, &ih) == 0);
    assert(iw == 96 && ih == 54);
    free(thumb);

    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    png_alloc_size_t png_len = 0;
    assert(png_image_write_get_memory_size(img, png_len, 0, rgb, 0, NULL));
    uint8_t *png = cm_alloc(png_len);
    assert(png_image_write_to_memory(&img, png, &png_len, 0, rgb, 0, NULL));
    assert(ms_image_size(png, png_len, &iw, &ih) == 0);
    assert(iw == 640 && ih == 360);
    assert(ms_image_thumbnail(png, png_len, 32, &thumb, &thumb_len) == 0);
    assert(ms_image_size(thumb, thumb_len, &iw, &ih) == 0);
    assert(iw == 32 && ih == 18);
    free(thumb);

    //  Profile pictures: the centre square, scaled up or down
    uint8_t *sq = NULL;
    size_t sq_len = 0;
    assert(ms_image_square(png, png_len, 640, 85, &sq, &sq_len) == 0);
    assert(ms_image_size(sq, sq_len, &iw, &ih) == 0);
    assert(iw == 640 && ih == 640);
    free(sq);
    assert(ms_image_square(jpeg, jpeg_len, 96, 60, &sq, &sq_len) == 0);
    assert(ms_image_size(sq, sq_len, &iw, &ih) == 0);
    assert(iw == 96 && ih == 96);
    free(sq);
    assert(ms_image_square((const uint8_t *)"%PDF-1.4", 8, 96, 60, &sq,
                           &sq_len) == -1);

    //  Stickers: a 512x512 WebP, the picture fitted inside with
    //  transparent margins; a transparent PNG stays transparent
    uint8_t *stk = NULL;
    size_t stk_len = 0;
    assert(ms_image_sticker(jpeg, jpeg_len, &stk, &stk_len) == 0);
    assert(streq(ms_sniff_mimetype(stk, stk_len), "image/webp"));
    //  a still WebP is no animation, nor is a JPEG
    assert(!ms_image_webp_animated(stk, stk_len));
    assert(!ms_image_webp_animated(jpeg, jpeg_len));
    assert(!ms_image_webp_animated(NULL, 0));
    assert(ms_image_size(stk, stk_len, &iw, &ih) == 0);
    assert(iw == 512 && ih == 512);
    int dw, dh;
    uint8_t *px = WebPDecodeRGBA(stk, stk_len, &dw, &dh);
    assert(px && dw == 512 && dh == 512);
    assert(px[3] == 0);                                   //  top margin
    assert(px[((size_t)256 * 512 + 256) * 4 + 3] == 255); //  the picture
    WebPFree(px);
    free(stk);
    uint8_t *rgba = cm_alloc((size_t)64 * 64 * 4);
    memset(rgba, 0, (size_t)64 * 64 * 4); //  fully transparent
    png_image timg;
    memset(&timg, 0, sizeof timg);
    timg.version = PNG_IMAGE_VERSION;
    timg.width = timg.height = 64;
    timg.format = PNG_FORMAT_RGBA;
    png_alloc_size_t tlen = 0;
    assert(png_image_write_get_memory_size(timg, tlen, 0, rgba, 0, NULL));
    uint8_t *tpng = cm_alloc(tlen);
    assert(png_image_write_to_memory(&timg, tpng, &tlen, 0, rgba, 0, NULL));
    assert(ms_image_sticker(tpng, tlen, &stk, &stk_len) == 0);
    px = WebPDecodeRGBA(stk, stk_len, &dw, &dh);
    assert(px && px[((size_t)256 * 512 + 256) * 4 + 3] == 0);
    WebPFree(px);
    free(stk);
    free(tpng);
    free(rgba);
    assert(ms_image_sticker((const uint8_t *)"%PDF-1.4", 8, &stk, &stk_len) ==
           -1);

    //  Damaged or foreign data: -1, never a crash
    assert(ms_image_size(jpeg, 20, &iw, &ih) == 0 ||
           ms_image_size(jpeg, 20, &iw, &ih) == -1);
    assert(ms_image_thumbnail(jpeg, jpeg_len / 3, 96, &thumb, &thumb_len) ==
               -1 ||
           (free(thumb), true));
    assert(ms_image_thumbnail(png, 100, 96, &thumb, &thumb_len) == -1);
    assert(ms_image_thumbnail((const uint8_t *)"%PDF-1.4", 8, 96, &thumb,
                              &thumb_len) == -1);
    assert(ms_image_size((const uint8_t *)"GIF89a\x02\0\x03\0", 10, &iw, &ih) ==
           0);
    assert(iw == 2 && ih == 3);
    free(png);
    free(jpeg);
    free(rgb);
    printf("OK\n");
}
