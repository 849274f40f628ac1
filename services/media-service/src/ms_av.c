/*  ms_av - audio and video work through ffmpeg and ffprobe subprocesses

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

struct _ms_av_t {
    char *ffmpeg;
    char *ffprobe;
    long timeout_ms;
    char dir[256];   //  private temporary directory
    char in[300];    //  the loaded file
    char out[300];   //  an output file
    char err[300];   //  stderr of the last run
    char error[256]; //  last error text
    bool loaded;
};

ms_av_t *
ms_av_new(const char *parent, const char *ffmpeg, const char *ffprobe,
          long timeout_ms)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/av-XXXXXX", parent);
    if (!mkdtemp(dir)) {
        cm_log_error("could not create a temporary directory",
                     "dir=\"%s\" err=\"%s\"", dir, strerror(errno));
        return NULL;
    }
    ms_av_t *self = cm_alloc(sizeof *self);
    self->ffmpeg = cm_strdup(ffmpeg);
    self->ffprobe = cm_strdup(ffprobe);
    self->timeout_ms = timeout_ms;
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    snprintf(self->in, sizeof self->in, "%s/in", dir);
    snprintf(self->err, sizeof self->err, "%s/stderr", dir);
    return self;
}

void
ms_av_destroy(ms_av_t **self_p)
{
    assert(self_p);
    ms_av_t *self = *self_p;
    if (self) {
        DIR *d = opendir(self->dir);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (e->d_name[0] != '.') {
                    char path[600];
                    snprintf(path, sizeof path, "%s/%s", self->dir, e->d_name);
                    unlink(path);
                }
            }
            closedir(d);
        }
        rmdir(self->dir);
        free(self->ffmpeg);
        free(self->ffprobe);
        free(self);
        *self_p = NULL;
    }
}

const char *
ms_av_error(ms_av_t *self)
{
    return self->error;
}

static int
s_write_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return close(fd);
}

//  Read a whole file (at most max bytes). Caller owns *data_p.
static int
s_read_file(const char *path, size_t max, uint8_t **data_p, size_t *len_p)
{
    return cm_read_fd(open(path, O_RDONLY | O_CLOEXEC), max, data_p, len_p);
}

int
ms_av_load(ms_av_t *self, const uint8_t *data, size_t len)
{
    self->loaded = s_write_file(self->in, data, len) == 0;
    if (!self->loaded) {
        snprintf(self->error, sizeof self->error,
                 "could not write a temporary file: %s", strerror(errno));
        return -1;
    }
    return 0;
}

//  Keep the last non-empty line of the run's stderr as the error.
static void
s_take_stderr(ms_av_t *self, const char *what)
{
    uint8_t *text = NULL;
    size_t len = 0;
    snprintf(self->error, sizeof self->error, "%s failed", what);
    if (s_read_file(self->err, 1 << 20, &text, &len) == 0) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) {
            text[--len] = 0;
        }
        char *line = strrchr((char *)text, '\n');
        line = line ? line + 1 : (char *)text;
        if (*line) {
            snprintf(self->error, sizeof self->error, "%s: %.200s", what, line);
        }
        free(text);
    }
}

//  Run argv with stdin from /dev/null, stdout to `out_path` (or
//  /dev/null), stderr to the err file. Kills it past the time limit.
//  Returns 0 when it exited 0.
static int
s_run(ms_av_t *self, char *const argv[], const char *out_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, self->err,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                        POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        snprintf(self->error, sizeof self->error, "could not run %s: %s",
                 argv[0], strerror(rc));
        return -1;
    }
    int64_t deadline = cm_mono_ms() + self->timeout_ms;
    int status = 0;
    int sleep_ms = 1;
    while (true) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            snprintf(self->error, sizeof self->error, "lost %s", argv[0]);
            return -1;
        }
        if (cm_mono_ms() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(self->error, sizeof self->error,
                     "%s took longer than %ld ms", argv[0], self->timeout_ms);
            return -1;
        }
        zclock_sleep(sleep_ms);
        if (sleep_ms < 20) {
            sleep_ms *= 2;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        s_take_stderr(self, argv[0]);
        return -1;
    }
    return 0;
}

int
ms_av_probe(ms_av_t *self, ms_av_info_t *info)
{
    memset(info, 0, sizeof *info);
    if (!self->loaded) {
        return -1;
    }
    char out[320];
    snprintf(out, sizeof out, "%s/probe.json", self->dir);
    char *argv[] = {self->ffprobe,   "-v",     "error",
                    "-print_format", "json",   "-show_format",
                    "-show_streams", self->in, NULL};
    if (s_run(self, argv, out) != 0) {
        return -1;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    if (s_read_file(out, 4 << 20, &text, &len) != 0) {
        return -1;
    }
    json_t *root = json_loadb((const char *)text, len, 0, NULL);
    free(text);
    if (!root) {
        snprintf(self->error, sizeof self->error, "ffprobe said nothing");
        return -1;
    }
    const char *dur = json_string_value(
        json_object_get(json_object_get(root, "format"), "duration"));
    if (dur) {
        info->seconds = strtod(dur, NULL);
    }
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(root, "streams"), i, s)
    {
        const char *type = json_string_value(json_object_get(s, "codec_type"));
        const char *codec = json_string_value(json_object_get(s, "codec_name"));
        json_t *disp = json_object_get(s, "disposition");
        bool cover =
            json_integer_value(json_object_get(disp, "attached_pic")) != 0;
        if (streq(type, "video") && !cover && !info->has_video) {
            info->has_video = true;
            info->width = (int)json_integer_value(json_object_get(s, "width"));
            info->height =
                (int)json_integer_value(json_object_get(s, "height"));
            snprintf(info->video_codec, sizeof info->video_codec, "%s",
                     codec ? codec : "");
        } else if (streq(type, "audio") && !info->has_audio) {
            info->has_audio = true;
            snprintf(info->audio_codec, sizeof info->audio_codec, "%s",
                     codec ? codec : "");
        }
    }
    json_decref(root);
    return 0;
}

//  Run an ffmpeg conversion to self->out and make it the loaded file.
static int
s_convert(ms_av_t *self, char *const argv[], uint8_t **out_p, size_t *out_len)
{
    if (!self->loaded) {
        return -1;
    }
    if (s_run(self, argv, NULL) != 0) {
        return -1;
    }
    if (rename(self->out, self->in) != 0) {
        snprintf(self->error, sizeof self->error, "ffmpeg wrote nothing");
        return -1;
    }
    return s_read_file(self->in, SIZE_MAX / 2, out_p, out_len);
}

int
ms_av_convert_voice(ms_av_t *self, uint8_t **out_p, size_t *out_len)
{
    snprintf(self->out, sizeof self->out, "%s/out.ogg", self->dir);
    char *argv[] = {self->ffmpeg,   "-nostdin", "-v",
                    "error",        "-y",       "-i",
                    self->in,       "-vn",      "-map_metadata",
                    "-1",           "-ac",      "1",
                    "-ar",          "48000",    "-c:a",
                    "libopus",      "-b:a",     "32k",
                    "-application", "voip",     "-f",
                    "ogg",          self->out,  NULL};
    return s_convert(self, argv, out_p, out_len);
}

int
ms_av_convert_video(ms_av_t *self, bool note, uint8_t **out_p, size_t *out_len)
{
    snprintf(self->out, sizeof self->out, "%s/out.mp4", self->dir);
    char *filter = note ? "crop='min(iw,ih)':'min(iw,ih)',"
                          "scale='min(640,iw)':-2,setsar=1"
                        : "scale='trunc(iw/2)*2':'trunc(ih/2)*2'";
    char *argv[] = {self->ffmpeg, "-nostdin", "-v",       "error",
                    "-y",         "-i",       self->in,   "-map_metadata",
                    "-1",         "-vf",      filter,     "-c:v",
                    "libx264",    "-preset",  "veryfast", "-crf",
                    "26",         "-pix_fmt", "yuv420p",  "-c:a",
                    "aac",        "-b:a",     "128k",     "-movflags",
                    "+faststart", "-f",       "mp4",      self->out,
                    NULL};
    return s_convert(self, argv, out_p, out_len);
}

int
ms_av_convert_sticker(ms_av_t *self, int side, uint8_t **out_p, size_t *out_len)
{
    snprintf(self->out, sizeof self->out, "%s/out.webp", self->dir);
    char filter[256];
    snprintf(filter, sizeof filter,
             "scale=%d:%d:force_original_aspect_ratio=decrease,format=rgba,"
             "pad=%d:%d:(ow-iw)/2:(oh-ih)/2:color=0x00000000",
             side, side, side, side);
    char *argv[] = {self->ffmpeg,
                    "-nostdin",
                    "-v",
                    "error",
                    "-y",
                    "-i",
                    self->in,
                    "-an",
                    "-vf",
                    filter,
                    "-c:v",
                    "libwebp_anim",
                    "-loop",
                    "0",
                    "-q:v",
                    "75",
                    "-map_metadata",
                    "-1",
                    "-f",
                    "webp",
                    self->out,
                    NULL};
    return s_convert(self, argv, out_p, out_len);
}

int
ms_av_frame(ms_av_t *self, uint8_t **jpeg_p, size_t *jpeg_len)
{
    if (!self->loaded) {
        return -1;
    }
    char out[320];
    snprintf(out, sizeof out, "%s/frame.jpg", self->dir);
    char *argv[] = {self->ffmpeg, "-nostdin",  "-v", "error", "-y",     "-i",
                    self->in,     "-frames:v", "1",  "-f",    "image2", "-c:v",
                    "mjpeg",      "-q:v",      "4",  out,     NULL};
    if (s_run(self, argv, NULL) != 0) {
        return -1;
    }
    int rc = s_read_file(out, 64 << 20, jpeg_p, jpeg_len);
    unlink(out);
    return rc;
}

int
ms_av_waveform(ms_av_t *self, uint8_t wave[MS_AV_WAVEFORM_LEN])
{
    if (!self->loaded) {
        return -1;
    }
    char out[320];
    snprintf(out, sizeof out, "%s/pcm", self->dir);
    char *argv[] = {self->ffmpeg, "-nostdin", "-v",  "error", "-y",  "-i",
                    self->in,     "-vn",      "-ac", "1",     "-ar", "8000",
                    "-f",         "s16le",    out,   NULL};
    if (s_run(self, argv, NULL) != 0) {
        return -1;
    }
    uint8_t *pcm = NULL;
    size_t len = 0;
    int rc = s_read_file(out, 256 << 20, &pcm, &len);
    unlink(out);
    if (rc != 0) {
        return -1;
    }
    size_t samples = len / 2;
    double level[MS_AV_WAVEFORM_LEN] = {0};
    double peak = 0;
    for (size_t b = 0; b < MS_AV_WAVEFORM_LEN; b++) {
        size_t from = samples * b / MS_AV_WAVEFORM_LEN;
        size_t to = samples * (b + 1) / MS_AV_WAVEFORM_LEN;
        double sum = 0;
        for (size_t i = from; i < to; i++) {
            int16_t v = (int16_t)(pcm[2 * i] | (pcm[2 * i + 1] << 8));
            sum += v < 0 ? -(double)v : (double)v;
        }
        level[b] = to > from ? sum / (double)(to - from) : 0;
        if (level[b] > peak) {
            peak = level[b];
        }
    }
    free(pcm);
    for (size_t b = 0; b < MS_AV_WAVEFORM_LEN; b++) {
        wave[b] = peak > 0 ? (uint8_t)(level[b] * 100.0 / peak + 0.5) : 0;
    }
    return 0;
}

//  --------------------------------------------------------------------

void
ms_av_test(bool verbose)
{
    printf(" * ms_av: ");
    ms_av_t *av = ms_av_new("/tmp", "ffmpeg", "ffprobe", 60000);
    assert(av);
    //  Make a 1.5 s 440 Hz WAV with ffmpeg itself
    char wav[320];
    snprintf(wav, sizeof wav, "%s/tone.wav", av->dir);
    char *argv[] = {"ffmpeg", "-nostdin", "-v",
                    "error",  "-y",       "-f",
                    "lavfi",  "-i",       "sine=frequency=440:duration=1.5",
                    wav,      NULL};
    if (s_run(av, argv, NULL) != 0) {
        printf("SKIPPED (no ffmpeg: %s)\n", ms_av_error(av));
        ms_av_destroy(&av);
        return;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    assert(s_read_file(wav, 1 << 24, &data, &len) == 0);
    assert(streq(ms_sniff_mimetype(data, len), "audio/wav"));
    assert(ms_av_load(av, data, len) == 0);
    free(data);
    ms_av_info_t info;
    assert(ms_av_probe(av, &info) == 0);
    assert(info.has_audio && !info.has_video);
    assert(info.seconds > 1.4 && info.seconds < 1.6);
    uint8_t *ogg = NULL;
    size_t ogg_len = 0;
    assert(ms_av_convert_voice(av, &ogg, &ogg_len) == 0);
    assert(streq(ms_sniff_mimetype(ogg, ogg_len), "audio/ogg; codecs=opus"));
    free(ogg);
    assert(ms_av_probe(av, &info) == 0);
    assert(streq(info.audio_codec, "opus"));
    uint8_t wave[MS_AV_WAVEFORM_LEN];
    assert(ms_av_waveform(av, wave) == 0);
    int top = 0;
    for (int i = 0; i < MS_AV_WAVEFORM_LEN; i++) {
        assert(wave[i] <= 100);
        top = wave[i] > top ? wave[i] : top;
    }
    assert(top == 100);

    //  A GIF made an animated 512x512 sticker
    char gif[320];
    snprintf(gif, sizeof gif, "%s/anim.gif", av->dir);
    char *gargv[] = {
        "ffmpeg", "-nostdin", "-v",
        "error",  "-y",       "-f",
        "lavfi",  "-i",       "testsrc=size=160x100:rate=4:duration=1",
        gif,      NULL};
    assert(s_run(av, gargv, NULL) == 0);
    assert(s_read_file(gif, 1 << 24, &data, &len) == 0);
    assert(streq(ms_sniff_mimetype(data, len), "image/gif"));
    assert(ms_av_load(av, data, len) == 0);
    free(data);
    uint8_t *webp = NULL;
    size_t webp_len = 0;
    assert(ms_av_convert_sticker(av, 512, &webp, &webp_len) == 0);
    assert(streq(ms_sniff_mimetype(webp, webp_len), "image/webp"));
    int w = 0, h = 0;
    assert(ms_image_size(webp, webp_len, &w, &h) == 0 && w == 512 && h == 512);
    assert(ms_image_webp_animated(webp, webp_len));
    free(webp);

    //  Garbage: probe fails with ffprobe's words, no crash
    assert(ms_av_load(av, (const uint8_t *)"not a media file", 16) == 0);
    assert(ms_av_probe(av, &info) == -1);
    assert(strlen(ms_av_error(av)) > 0);
    assert(ms_av_convert_voice(av, &ogg, &ogg_len) == -1);

    //  Time limit
    ms_av_t *slow = ms_av_new("/tmp", "sleep", "sleep", 100);
    char *sleeper[] = {"sleep", "5", NULL};
    int64_t t0 = cm_mono_ms();
    assert(s_run(slow, sleeper, NULL) == -1);
    assert(cm_mono_ms() - t0 < 2000);
    assert(strstr(ms_av_error(slow), "longer than"));
    ms_av_destroy(&slow);
    ms_av_destroy(&av);
    ms_av_destroy(&av);
    printf("OK\n");
}
