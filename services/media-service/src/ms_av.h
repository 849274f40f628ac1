/*  ms_av - audio and video work through ffmpeg and ffprobe subprocesses

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One ms_av per worker thread owns a private temporary directory (under
    the media-service's own, ms_scratch). A file
    is loaded once (written there) and then probed, converted, cut for a
    thumbnail frame or measured for a voice-note waveform. Every run has a
    time limit (the process is killed past it) and its stderr is kept for
    the error message. ffmpeg runs with -nostdin and reads only the
    loaded file.
*/
#ifndef MS_AV_H_INCLUDED
#define MS_AV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Samples in a voice note waveform (values 0..100).
#define MS_AV_WAVEFORM_LEN 64

typedef struct _ms_av_t ms_av_t;

//  What ffprobe says about the loaded file.
typedef struct {
    double seconds; //  duration, 0 when unknown
    int width;      //  first video stream, 0 when none
    int height;     //
    bool has_video; //  a video stream that is not a cover picture
    bool has_audio; //  an audio stream
    char audio_codec[32];
    char video_codec[32];
} ms_av_info_t;

//  Work in a new directory under `parent`. Caller owns return value. NULL
//  when the directory cannot be made.
ms_av_t *ms_av_new(const char *parent, const char *ffmpeg, const char *ffprobe,
                   long timeout_ms);
void ms_av_destroy(ms_av_t **self_p);

//  Write `data` as the file to work on. Returns 0 / -1.
int ms_av_load(ms_av_t *self, const uint8_t *data, size_t len);

//  Probe the loaded file. Returns 0, or -1 when ffprobe cannot read it.
int ms_av_probe(ms_av_t *self, ms_av_info_t *info);

//  Transcode the loaded file to a voice note: Ogg Opus, mono, 48 kHz.
//  On success the result replaces the loaded file and *out_p (caller owns
//  it) holds its bytes. Returns 0 / -1.
int ms_av_convert_voice(ms_av_t *self, uint8_t **out_p, size_t *out_len);

//  Transcode the loaded file to MP4 (H.264 yuv420p + AAC, faststart);
//  `note` also crops it square for a round video note. As above.
int ms_av_convert_video(ms_av_t *self, bool note, uint8_t **out_p,
                        size_t *out_len);

//  Convert the loaded animation (a GIF) to an animated WhatsApp sticker:
//  a side x side lossy WebP (libwebp's animation encoder), the picture
//  fitted inside on a transparent canvas, looping. As above.
int ms_av_convert_sticker(ms_av_t *self, int side, uint8_t **out_p,
                          size_t *out_len);

//  A frame near the start of the loaded video, as a JPEG (full size).
//  Caller owns *jpeg_p. Returns 0 / -1.
int ms_av_frame(ms_av_t *self, uint8_t **jpeg_p, size_t *jpeg_len);

//  Loudness of the loaded audio in MS_AV_WAVEFORM_LEN steps, 0..100.
//  Returns 0 / -1.
int ms_av_waveform(ms_av_t *self, uint8_t wave[MS_AV_WAVEFORM_LEN]);

//  The last error (ffmpeg's last stderr line, or what failed).
const char *ms_av_error(ms_av_t *self);

void ms_av_test(bool verbose);

#endif
