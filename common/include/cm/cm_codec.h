/*  cm_codec - base64 and QR code rendering

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Base64 (standard alphabet, with or without padding) for JSON payloads
    and tokens, and QR codes rendered to PNG with libqrencode and libpng,
    as data URIs for webhook payloads.
*/
#ifndef CM_CODEC_H_INCLUDED
#define CM_CODEC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Standard base64 of len bytes, padded. Caller owns return value.
char *cm_base64_encode(const uint8_t *data, size_t len);

//  Decode standard or URL-safe base64, padded or not, ignoring nothing
//  else. Caller owns *out_p. Returns 0, or -1 on invalid input or when the
//  result would exceed max bytes.
int cm_base64_decode(const char *text, size_t max, uint8_t **out_p,
                     size_t *out_len);

//  Render `text` as a QR code PNG (error correction L, `scale` pixels
//  per module, 4-module quiet zone). Caller owns *png_p. Returns 0 or -1.
int cm_qr_png(const char *text, int scale, uint8_t **png_p, size_t *png_len);

//  An 8-bit greyscale PNG of width x height pixels (rows of `width`
//  bytes, 1..4096 each way). Caller owns *png_p. Returns 0 or -1.
int cm_png_gray(const uint8_t *pixels, int width, int height, uint8_t **png_p,
                size_t *png_len);

//  "data:image/png;base64,..." of the QR for `text`. Caller owns return
//  value; NULL on failure.
char *cm_qr_data_uri(const char *text, int scale);

void cm_codec_test(bool verbose);

#endif
