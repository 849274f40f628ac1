/*  ms_sniff - what a file really is, from its first bytes

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"
#include <strings.h>

static bool
s_has(const uint8_t *data, size_t len, size_t at, const char *magic,
      size_t mlen)
{
    return len >= at + mlen && memcmp(data + at, magic, mlen) == 0;
}

static bool
s_find(const uint8_t *data, size_t len, size_t limit, const char *needle)
{
    size_t n = strlen(needle);
    size_t end = len < limit ? len : limit;
    for (size_t i = 0; i + n <= end; i++) {
        if (memcmp(data + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

//  True if data is valid UTF-8 without NUL bytes (a cut last sequence
//  at the end of a prefix is fine).
static bool
s_text(const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = data[i];
        size_t n;
        if (c == 0) {
            return false;
        } else if (c < 0x80) {
            n = 1;
        } else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
            n = 2;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
        } else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
            n = 4;
        } else {
            return false;
        }
        for (size_t k = 1; k < n; k++) {
            if (i + k >= len) {
                return true;
            }
            if ((data[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

const char *
ms_sniff_mimetype(const uint8_t *data, size_t len)
{
    if (s_has(data, len, 0, "\xff\xd8\xff", 3)) {
        return "image/jpeg";
    }
    if (s_has(data, len, 0, "\x89PNG\r\n\x1a\n", 8)) {
        return "image/png";
    }
    if (s_has(data, len, 0, "GIF87a", 6) || s_has(data, len, 0, "GIF89a", 6)) {
        return "image/gif";
    }
    if (s_has(data, len, 0, "RIFF", 4) && s_has(data, len, 8, "WEBP", 4)) {
        return "image/webp";
    }
    if (s_has(data, len, 0, "RIFF", 4) && s_has(data, len, 8, "WAVE", 4)) {
        return "audio/wav";
    }
    if (s_has(data, len, 0, "%PDF-", 5)) {
        return "application/pdf";
    }
    if (s_has(data, len, 0, "OggS", 4)) {
        if (s_find(data, len, 128, "OpusHead")) {
            return "audio/ogg; codecs=opus";
        }
        if (s_find(data, len, 128, "theora")) {
            return "video/ogg";
        }
        return "audio/ogg";
    }
    if (s_has(data, len, 0, "fLaC", 4)) {
        return "audio/flac";
    }
    if (s_has(data, len, 4, "ftyp", 4) && len >= 12) {
        if (s_has(data, len, 8, "M4A ", 4) || s_has(data, len, 8, "M4B ", 4)) {
            return "audio/mp4";
        }
        if (s_has(data, len, 8, "qt  ", 4)) {
            return "video/quicktime";
        }
        if (s_has(data, len, 8, "3g", 2)) {
            return "video/3gpp";
        }
        if (s_has(data, len, 8, "heic", 4) || s_has(data, len, 8, "heix", 4) ||
            s_has(data, len, 8, "mif1", 4)) {
            return "image/heic";
        }
        return "video/mp4";
    }
    if (s_has(data, len, 0, "\x1a\x45\xdf\xa3", 4)) {
        return s_find(data, len, 64, "webm") ? "video/webm"
                                             : "video/x-matroska";
    }
    if (s_has(data, len, 0, "ID3", 3) ||
        (len >= 2 && data[0] == 0xff && (data[1] & 0xe0) == 0xe0 &&
         (data[1] & 0x06) != 0)) {
        return "audio/mpeg";
    }
    if (s_has(data, len, 0, "PK\x03\x04", 4)) {
        return "application/zip";
    }
    if (len && s_text(data, len < 4096 ? len : 4096)) {
        return "text/plain";
    }
    return "application/octet-stream";
}

//  The base type of `mimetype` (no parameters, lower case) into buf.
static void
s_base(const char *mimetype, char *buf, size_t size)
{
    size_t n = 0;
    for (const char *p = mimetype; *p && *p != ';' && n + 1 < size; p++) {
        if (*p != ' ' && *p != '\t') {
            buf[n++] = (char)tolower((unsigned char)*p);
        }
    }
    buf[n] = 0;
}

//  Canonical name of aliases.
static const char *
s_canonical(const char *base)
{
    static const struct {
        const char *alias;
        const char *name;
    } aliases[] = {{"image/jpg", "image/jpeg"},
                   {"image/pjpeg", "image/jpeg"},
                   {"audio/mp3", "audio/mpeg"},
                   {"audio/x-mp3", "audio/mpeg"},
                   {"audio/x-wav", "audio/wav"},
                   {"audio/wave", "audio/wav"},
                   {"audio/vnd.wave", "audio/wav"},
                   {"audio/opus", "audio/ogg"},
                   {"application/ogg", "audio/ogg"},
                   {"audio/x-flac", "audio/flac"},
                   {"audio/x-m4a", "audio/mp4"},
                   {"audio/m4a", "audio/mp4"},
                   {"audio/aac", "audio/mp4"},
                   {"application/x-pdf", "application/pdf"},
                   {"application/x-zip-compressed", "application/zip"},
                   {"video/x-m4v", "video/mp4"},
                   {"audio/webm", "video/webm"},
                   {"audio/3gpp", "video/3gpp"}};
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (streq(base, aliases[i].alias)) {
            return aliases[i].name;
        }
    }
    return base;
}

static const char *const s_known[] = {
    "image/jpeg", "image/png",       "image/gif",
    "image/webp", "audio/wav",       "application/pdf",
    "audio/ogg",  "video/ogg",       "audio/flac",
    "audio/mp4",  "video/quicktime", "video/3gpp",
    "video/mp4",  "video/webm",      "video/x-matroska",
    "audio/mpeg", "image/heic",      NULL};

bool
ms_sniff_known(const char *declared)
{
    if (!declared) {
        return false;
    }
    char base[128];
    s_base(declared, base, sizeof base);
    const char *c = s_canonical(base);
    for (size_t i = 0; s_known[i]; i++) {
        if (streq(c, s_known[i])) {
            return true;
        }
    }
    return false;
}

bool
ms_sniff_matches(const char *declared, const char *sniffed)
{
    char a[128], b[128];
    s_base(declared, a, sizeof a);
    s_base(sniffed, b, sizeof b);
    const char *ca = s_canonical(a);
    const char *cb = s_canonical(b);
    if (streq(ca, cb)) {
        return true;
    }
    //  The ISO media family shares one container
    static const char *const iso[] = {"video/mp4", "audio/mp4",
                                      "video/quicktime", "video/3gpp", NULL};
    bool ia = false, ib = false;
    for (size_t i = 0; iso[i]; i++) {
        ia = ia || streq(ca, iso[i]);
        ib = ib || streq(cb, iso[i]);
    }
    if (ia && ib) {
        return true;
    }
    //  Matroska and WebM; Ogg audio and video
    if ((streq(ca, "video/webm") || streq(ca, "video/x-matroska")) &&
        (streq(cb, "video/webm") || streq(cb, "video/x-matroska"))) {
        return true;
    }
    return (streq(ca, "audio/ogg") || streq(ca, "video/ogg")) &&
           (streq(cb, "audio/ogg") || streq(cb, "video/ogg"));
}

static const struct {
    const char *mimetype;
    const char *ext;
} s_exts[] = {{"image/jpeg", "jpeg"},
              {"image/png", "png"},
              {"image/gif", "gif"},
              {"image/webp", "webp"},
              {"image/heic", "heic"},
              {"audio/ogg", "oga"},
              {"audio/mpeg", "mp3"},
              {"audio/wav", "wav"},
              {"audio/flac", "flac"},
              {"audio/mp4", "m4a"},
              {"video/mp4", "mp4"},
              {"video/quicktime", "mov"},
              {"video/3gpp", "3gp"},
              {"video/webm", "webm"},
              {"video/x-matroska", "mkv"},
              {"video/ogg", "ogv"},
              {"application/pdf", "pdf"},
              {"application/zip", "zip"},
              {"text/plain", "txt"},
              {"text/csv", "csv"},
              {"application/json", "json"},
              {"application/msword", "doc"},
              {"application/vnd.openxmlformats-officedocument."
               "wordprocessingml.document",
               "docx"},
              {"application/vnd.ms-excel", "xls"},
              {"application/vnd.openxmlformats-officedocument."
               "spreadsheetml.sheet",
               "xlsx"},
              {"application/octet-stream", "bin"}};

const char *
ms_sniff_extension(const char *mimetype)
{
    char base[160];
    s_base(mimetype ? mimetype : "", base, sizeof base);
    const char *c = s_canonical(base);
    for (size_t i = 0; i < sizeof s_exts / sizeof s_exts[0]; i++) {
        if (streq(c, s_exts[i].mimetype)) {
            return s_exts[i].ext;
        }
    }
    return "bin";
}

const char *
ms_sniff_from_extension(const char *ext)
{
    if (!ext) {
        return "application/octet-stream";
    }
    if (*ext == '.') {
        ext++;
    }
    if (strcasecmp(ext, "jpg") == 0) {
        return "image/jpeg";
    }
    if (strcasecmp(ext, "ogg") == 0 || strcasecmp(ext, "opus") == 0) {
        return "audio/ogg";
    }
    for (size_t i = 0; i < sizeof s_exts / sizeof s_exts[0]; i++) {
        if (strcasecmp(ext, s_exts[i].ext) == 0) {
            return s_exts[i].mimetype;
        }
    }
    return "application/octet-stream";
}

void
ms_sniff_test(bool verbose)
{
    printf(" * ms_sniff: ");
    struct {
        const char *data;
        size_t len;
        const char *type;
    } cases[] = {
        {"\xff\xd8\xff\xe0\0\x10JFIF", 10, "image/jpeg"},
        {"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "image/png"},
        {"GIF89a\x01\0", 8, "image/gif"},
        {"RIFF\0\0\0\0WEBPVP8 ", 16, "image/webp"},
        {"RIFF\0\0\0\0WAVEfmt ", 16, "audio/wav"},
        {"%PDF-1.4\n", 9, "application/pdf"},
        {"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead",
         36, "audio/ogg; codecs=opus"},
        {"OggS\0\x02", 6, "audio/ogg"},
        {"ID3\x04\0", 5, "audio/mpeg"},
        {"\xff\xfb\x90\x64", 4, "audio/mpeg"},
        {"\0\0\0\x20"
         "ftypisom",
         12, "video/mp4"},
        {"\0\0\0\x20"
         "ftypM4A ",
         12, "audio/mp4"},
        {"\x1a\x45\xdf\xa3\x01\0\0\0\0\0\0\x1f\x42\x86\x81\x01webm", 20,
         "video/webm"},
        {"PK\x03\x04", 4, "application/zip"},
        {"hello, world\n", 13, "text/plain"},
        {"h\xc3\xa9llo", 6, "text/plain"},
        {"\x01\x02\x00\x03", 4, "application/octet-stream"},
        {"\xc3\x28", 2, "application/octet-stream"},
        {"", 0, "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t =
            ms_sniff_mimetype((const uint8_t *)cases[i].data, cases[i].len);
        if (!streq(t, cases[i].type)) {
            printf("case %zu: %s != %s\n", i, t, cases[i].type);
        }
        assert(streq(t, cases[i].type));
    }
    assert(ms_sniff_matches("image/jpg", "image/jpeg"));
    assert(ms_sniff_matches("IMAGE/JPEG", "image/jpeg"));
    assert(
        ms_sniff_matches("audio/ogg; codecs=opus", "audio/ogg; codecs=opus"));
    assert(ms_sniff_matches("audio/ogg; codecs=opus", "audio/ogg"));
    assert(ms_sniff_matches("audio/mp3", "audio/mpeg"));
    assert(ms_sniff_matches("video/mp4", "video/quicktime"));
    assert(ms_sniff_matches("audio/aac", "audio/mp4"));
    assert(!ms_sniff_matches("image/jpeg", "image/png"));
    assert(!ms_sniff_matches("application/pdf", "text/plain"));
    assert(ms_sniff_known("application/pdf"));
    assert(ms_sniff_known("audio/ogg; codecs=opus"));
    assert(ms_sniff_known("image/jpg"));
    assert(!ms_sniff_known("application/vnd.ms-excel"));
    assert(!ms_sniff_known(NULL));
    assert(streq(ms_sniff_extension("image/jpeg"), "jpeg"));
    assert(streq(ms_sniff_extension("audio/ogg; codecs=opus"), "oga"));
    assert(streq(ms_sniff_extension("application/pdf"), "pdf"));
    assert(streq(ms_sniff_extension("x/unknown"), "bin"));
    assert(streq(ms_sniff_from_extension(".jpg"), "image/jpeg"));
    assert(streq(ms_sniff_from_extension("oga"), "audio/ogg"));
    assert(streq(ms_sniff_from_extension("pdf"), "application/pdf"));
    assert(streq(ms_sniff_from_extension("zzz"), "application/octet-stream"));
    printf("OK\n");
}
