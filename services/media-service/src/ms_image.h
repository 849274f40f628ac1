/*  ms_image - image size, JPEG thumbnails, square pictures and WebP
    stickers (libjpeg-turbo, libpng, libwebp)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    WhatsApp image, video and document messages carry a small JPEG
    preview (JPEGThumbnail) and the picture's width and height. JPEG is
    decoded at a reduced DCT scale when the picture is large, so a 20
    megapixel photo costs little more than its thumbnail.
*/
#ifndef MS_IMAGE_H_INCLUDED
#define MS_IMAGE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Longest side of a thumbnail, pixels.
#define MS_IMAGE_THUMB_SIDE 96
//  JPEG quality of thumbnails.
#define MS_IMAGE_THUMB_QUALITY 60
//  Side of a sticker, pixels, and its WebP quality.
#define MS_IMAGE_STICKER_SIDE 512
#define MS_IMAGE_STICKER_QUALITY 80
//  Largest picture decoded, in pixels (width * height).
#define MS_IMAGE_MAX_PIXELS (100L * 1000 * 1000)

//  Width and height of a JPEG, PNG, GIF or WebP. Returns 0, or -1 when the
//  data is none of these or is damaged.
int ms_image_size(const uint8_t *data, size_t len, int *width, int *height);

//  True when data is an animated WebP (libwebp's bitstream features).
bool ms_image_webp_animated(const uint8_t *data, size_t len);

//  Decode a JPEG, PNG or WebP and encode a JPEG thumbnail whose longest
//  side is at most `side` pixels. *thumb_p is malloc'd (caller owns it).
//  Returns 0, or -1 when the image cannot be decoded.
int ms_image_thumbnail(const uint8_t *data, size_t len, int side,
                       uint8_t **thumb_p, size_t *thumb_len);

//  Decode a JPEG, PNG or WebP, crop its centre square and encode it as a
//  side x side JPEG of `quality` (profile pictures). *out_p is malloc'd
//  (caller owns it). Returns 0, or -1 when the image cannot be decoded.
int ms_image_square(const uint8_t *data, size_t len, int side, int quality,
                    uint8_t **out_p, size_t *out_len);

//  Decode a JPEG, PNG or WebP and make it a WhatsApp sticker: a
//  MS_IMAGE_STICKER_SIDE square lossy WebP with the picture fitted
//  inside, centred on a transparent canvas (PNG and WebP transparency
//  kept). *out_p is malloc'd (caller owns it). Returns 0, or -1 when the
//  image cannot be decoded or encoded.
int ms_image_sticker(const uint8_t *data, size_t len, uint8_t **out_p,
                     size_t *out_len);

void ms_image_test(bool verbose);

#endif
