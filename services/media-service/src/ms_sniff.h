/*  ms_sniff - what a file really is, from its first bytes

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The mimetype a caller declares is checked against the content: a file
    that claims to be image/jpeg must start like a JPEG. Known signatures:
    JPEG, PNG, GIF, WebP, PDF, Ogg (Opus), MP3, WAV, FLAC, MP4 / M4A /
    QuickTime / 3GP, WebM / Matroska, ZIP. Anything else is text/plain
    when it is valid UTF-8 without NULs, else application/octet-stream.
*/
#ifndef MS_SNIFF_H_INCLUDED
#define MS_SNIFF_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The mimetype the content looks like (a static string).
const char *ms_sniff_mimetype(const uint8_t *data, size_t len);

//  True if `declared` (parameters such as "; codecs=opus" ignored, case
//  ignored) is one we can recognise by content.
bool ms_sniff_known(const char *declared);

//  True if content of type `sniffed` may be called `declared`: equal
//  base types, or aliases (image/jpg, audio/mp3, audio/x-wav,
//  audio/opus vs audio/ogg, video/mp4 vs audio/mp4 and video/3gpp...).
bool ms_sniff_matches(const char *declared, const char *sniffed);

//  File extension for a mimetype without the dot ("jpeg", "pdf", "ogg",
//  "bin" when unrecognized). Static string.
const char *ms_sniff_extension(const char *mimetype);

//  Mimetype for a file extension (with or without the dot), or
//  application/octet-stream. Static string.
const char *ms_sniff_from_extension(const char *ext);

void ms_sniff_test(bool verbose);

#endif
