/*  ms_preview - what a web page says about itself, for link previews

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "ms_classes.h"

//  Where a value came from, best first.
typedef enum { S_OG, S_TWITTER, S_PLAIN, S_SOURCES } s_source_t;

struct _ms_preview_t {
    char *title[S_SOURCES];
    char *description[S_SOURCES];
    char *image[S_SOURCES];
};

//  --------------------------------------------------------------------
//  Text: entities, UTF-8, white space

//  Append code point cp as UTF-8 to buf (room for 4 bytes assumed).
static size_t
s_put_utf8(uint8_t *buf, unsigned long cp)
{
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        cp = 0xFFFD;
    }
    if (cp < 0x80) {
        buf[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (uint8_t)(0xC0 | (cp >> 6));
        buf[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (uint8_t)(0xE0 | (cp >> 12));
        buf[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (uint8_t)(0xF0 | (cp >> 18));
    buf[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

//  The entity at s (after '&', up to end): its code point and length
//  through ';', or 0 when it is none we know.
static size_t
s_entity(const char *s, const char *end, unsigned long *cp)
{
    static const struct {
        const char *name;
        unsigned long cp;
    } named[] = {{"amp;", '&'},      {"lt;", '<'},       {"gt;", '>'},
                 {"quot;", '"'},     {"apos;", '\''},    {"nbsp;", ' '},
                 {"ndash;", 0x2013}, {"mdash;", 0x2014}, {"hellip;", 0x2026},
                 {"copy;", 0xA9},    {"reg;", 0xAE},     {"rsquo;", 0x2019},
                 {"lsquo;", 0x2018}, {"ldquo;", 0x201C}, {"rdquo;", 0x201D}};
    if (s < end && *s == '#') {
        const char *p = s + 1;
        int base = 10;
        if (p < end && (*p == 'x' || *p == 'X')) {
            base = 16;
            p++;
        }
        unsigned long v = 0;
        const char *digits = p;
        while (p < end && p - digits < 8 &&
               (base == 16 ? isxdigit((unsigned char)*p)
                           : isdigit((unsigned char)*p))) {
            int d = isdigit((unsigned char)*p)
                        ? *p - '0'
                        : tolower((unsigned char)*p) - 'a' + 10;
            v = v * (unsigned long)base + (unsigned long)d;
            p++;
        }
        if (p == digits || p >= end || *p != ';') {
            return 0;
        }
        *cp = v;
        return (size_t)(p + 1 - s);
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(end - s) >= n && memcmp(s, named[i].name, n) == 0) {
            *cp = named[i].cp;
            return n;
        }
    }
    return 0;
}

//  Length of the valid UTF-8 sequence at p (up to end), or 0.
static size_t
s_utf8_len(const uint8_t *p, const uint8_t *end)
{
    size_t n = *p < 0x80                  ? 1
               : *p >= 0xC2 && *p <= 0xDF ? 2
               : *p >= 0xE0 && *p <= 0xEF ? 3
               : *p >= 0xF0 && *p <= 0xF4 ? 4
                                          : 0;
    if (n == 0 || (size_t)(end - p) < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    //  overlong 3- and 4-byte forms, surrogates, above U+10FFFF
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)) {
        return 0;
    }
    return n;
}

//  The text of len bytes at s as the value of a field: entities decoded,
//  bytes that are not UTF-8 read as Latin-1, white space and control
//  characters folded to one space, trimmed, cut to max bytes on a
//  character boundary. NULL when nothing is left. Caller owns return
//  value.
static char *
s_text(const char *s, size_t len, size_t max)
{
    //  Entities first (a decoded character is at most 4 bytes, an entity
    //  at least 3), then UTF-8 (a Latin-1 byte becomes 2)
    uint8_t *raw = cm_alloc(len * 2 + 1);
    size_t n = 0;
    const char *end = s + len;
    for (const char *p = s; p < end;) {
        unsigned long cp = 0;
        size_t k = *p == '&' ? s_entity(p + 1, end, &cp) : 0;
        if (k) {
            n += s_put_utf8(raw + n, cp);
            p += 1 + k;
        } else {
            raw[n++] = (uint8_t)*p++;
        }
    }
    uint8_t *out = cm_alloc(n * 2 + 1);
    size_t m = 0;
    bool space = true; //  drop leading space
    for (const uint8_t *p = raw; p < raw + n;) {
        size_t k = s_utf8_len(p, raw + n);
        if (k == 1 && (*p < 0x20 || *p == 0x7F || *p == ' ')) {
            if (!space) {
                out[m++] = ' ';
                space = true;
            }
            p++;
        } else if (k) {
            memcpy(out + m, p, k);
            m += k;
            p += k;
            space = false;
        } else {
            m += s_put_utf8(out + m, *p++); //  Latin-1
            space = false;
        }
    }
    free(raw);
    while (m > 0 && out[m - 1] == ' ') {
        m--;
    }
    if (m > max) {
        m = max;
        while (m > 0 && (out[m] & 0xC0) == 0x80) {
            m--;
        }
    }
    out[m] = 0;
    if (m == 0) {
        free(out);
        return NULL;
    }
    return (char *)out;
}

//  --------------------------------------------------------------------
//  Tags

//  First place in [p, end) where needle (lowercase) starts, case
//  ignored; end when none.
static const char *
s_find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; p + n <= end; p++) {
        if (strncasecmp(p, needle, n) == 0) {
            return p;
        }
    }
    return end;
}

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} s_attr_t;

#define S_ATTRS_MAX 16

//  Read the attributes of a tag from p to its '>' (quotes respected).
//  Returns the place after the '>', or NULL when the tag does not end
//  before `end`; *count the attributes kept.
static const char *
s_attrs(const char *p, const char *end, s_attr_t *attrs, size_t *count)
{
    *count = 0;
    while (p < end) {
        while (p < end && (isspace((unsigned char)*p) || *p == '/')) {
            p++;
        }
        if (p >= end) {
            return NULL;
        }
        if (*p == '>') {
            return p + 1;
        }
        const char *name = p;
        while (p < end && !isspace((unsigned char)*p) && *p != '=' &&
               *p != '>' && *p != '/') {
            p++;
        }
        s_attr_t a = {name, (size_t)(p - name), NULL, 0};
        while (p < end && isspace((unsigned char)*p)) {
            p++;
        }
        if (p < end && *p == '=') {
            p++;
            while (p < end && isspace((unsigned char)*p)) {
                p++;
            }
            if (p < end && (*p == '"' || *p == '\'')) {
                char q = *p++;
                a.value = p;
                while (p < end && *p != q) {
                    p++;
                }
                a.value_len = (size_t)(p - a.value);
                p = p < end ? p + 1 : end;
            } else {
                a.value = p;
                while (p < end && !isspace((unsigned char)*p) && *p != '>') {
                    p++;
                }
                a.value_len = (size_t)(p - a.value);
            }
        }
        if (a.name_len == 0) {
            p++; //  a stray character
        } else if (*count < S_ATTRS_MAX) {
            attrs[(*count)++] = a;
        }
    }
    return NULL;
}

//  The value of attribute `name` (lowercase), or NULL.
static const s_attr_t *
s_attr(const s_attr_t *attrs, size_t count, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < count; i++) {
        if (attrs[i].name_len == n && attrs[i].value &&
            strncasecmp(attrs[i].name, name, n) == 0) {
            return &attrs[i];
        }
    }
    return NULL;
}

static bool
s_is(const s_attr_t *a, const char *word)
{
    size_t n = strlen(word);
    return a && a->value_len == n && strncasecmp(a->value, word, n) == 0;
}

//  Keep value into *slot unless it is set.
static void
s_keep(char **slot, const char *s, size_t len, size_t max)
{
    if (!*slot) {
        *slot = s_text(s, len, max);
    }
}

//  A <meta>: Open Graph (property=), Twitter and plain (name=).
static void
s_meta(ms_preview_t *self, const s_attr_t *attrs, size_t count)
{
    const s_attr_t *content = s_attr(attrs, count, "content");
    const s_attr_t *key = s_attr(attrs, count, "property");
    if (!key) {
        key = s_attr(attrs, count, "name");
    }
    if (!content || !key) {
        return;
    }
    const char *v = content->value;
    size_t n = content->value_len;
    if (s_is(key, "og:title")) {
        s_keep(&self->title[S_OG], v, n, MS_PREVIEW_TITLE_MAX);
    } else if (s_is(key, "twitter:title")) {
        s_keep(&self->title[S_TWITTER], v, n, MS_PREVIEW_TITLE_MAX);
    } else if (s_is(key, "og:description")) {
        s_keep(&self->description[S_OG], v, n, MS_PREVIEW_DESCRIPTION_MAX);
    } else if (s_is(key, "twitter:description")) {
        s_keep(&self->description[S_TWITTER], v, n, MS_PREVIEW_DESCRIPTION_MAX);
    } else if (s_is(key, "description")) {
        s_keep(&self->description[S_PLAIN], v, n, MS_PREVIEW_DESCRIPTION_MAX);
    } else if (s_is(key, "og:image") || s_is(key, "og:image:url") ||
               s_is(key, "og:image:secure_url")) {
        s_keep(&self->image[S_OG], v, n, MS_PREVIEW_IMAGE_MAX);
    } else if (s_is(key, "twitter:image") || s_is(key, "twitter:image:src")) {
        s_keep(&self->image[S_TWITTER], v, n, MS_PREVIEW_IMAGE_MAX);
    }
}

ms_preview_t *
ms_preview_new(const char *html, size_t len)
{
    if (!html) {
        return NULL;
    }
    ms_preview_t *self = cm_alloc(sizeof *self);
    memset(self, 0, sizeof *self);
    const char *end =
        html + (len < MS_PREVIEW_SCAN_MAX ? len : MS_PREVIEW_SCAN_MAX);
    const char *p = html;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt) {
            break;
        }
        p = lt + 1;
        if ((size_t)(end - p) >= 3 && memcmp(p, "!--", 3) == 0) {
            p = s_find(p + 3, end, "-->");
            p = p < end ? p + 3 : end;
            continue;
        }
        const char *name = p;
        while (p < end && (isalnum((unsigned char)*p) || *p == '-')) {
            p++;
        }
        size_t name_len = (size_t)(p - name);
        s_attr_t attrs[S_ATTRS_MAX];
        size_t count = 0;
        if (name_len == 0) {
            //  </x>, <!doctype>, <?xml?>
            const char *gt = memchr(p, '>', (size_t)(end - p));
            p = gt ? gt + 1 : end;
            continue;
        }
        p = s_attrs(p, end, attrs, &count);
        if (!p) {
            break; //  a tag cut off by the end of what is read
        }
        if (name_len == 4 && strncasecmp(name, "meta", 4) == 0) {
            s_meta(self, attrs, count);
        } else if (name_len == 5 && strncasecmp(name, "title", 5) == 0) {
            const char *close = s_find(p, end, "</title");
            s_keep(&self->title[S_PLAIN], p, (size_t)(close - p),
                   MS_PREVIEW_TITLE_MAX);
            p = close;
        } else if (name_len == 6 && strncasecmp(name, "script", 6) == 0) {
            p = s_find(p, end, "</script");
        } else if (name_len == 5 && strncasecmp(name, "style", 5) == 0) {
            p = s_find(p, end, "</style");
        }
    }
    if (!ms_preview_title(self) && !ms_preview_description(self) &&
        !ms_preview_image(self)) {
        ms_preview_destroy(&self);
    }
    return self;
}

void
ms_preview_destroy(ms_preview_t **self_p)
{
    assert(self_p);
    ms_preview_t *self = *self_p;
    if (!self) {
        return;
    }
    for (int i = 0; i < S_SOURCES; i++) {
        free(self->title[i]);
        free(self->description[i]);
        free(self->image[i]);
    }
    free(self);
    *self_p = NULL;
}

//  The best of a field's sources.
static const char *
s_best(char *const values[S_SOURCES])
{
    for (int i = 0; i < S_SOURCES; i++) {
        if (values[i]) {
            return values[i];
        }
    }
    return NULL;
}

const char *
ms_preview_title(ms_preview_t *self)
{
    assert(self);
    return s_best(self->title);
}

const char *
ms_preview_description(ms_preview_t *self)
{
    assert(self);
    return s_best(self->description);
}

const char *
ms_preview_image(ms_preview_t *self)
{
    assert(self);
    return s_best(self->image);
}

bool
ms_preview_is_html(const char *content_type, const char *body, size_t len)
{
    if (content_type && *content_type) {
        return strncasecmp(content_type, "text/html", 9) == 0 ||
               strncasecmp(content_type, "application/xhtml+xml", 21) == 0;
    }
    const char *end = body ? body + (len < 1024 ? len : 1024) : NULL;
    const char *p = body;
    if (p && end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
    }
    while (p && p < end && isspace((unsigned char)*p)) {
        p++;
    }
    static const char *const starts[] = {"<!doctype html", "<html", "<head",
                                         "<meta", "<title"};
    for (size_t i = 0; p && i < sizeof starts / sizeof starts[0]; i++) {
        size_t n = strlen(starts[i]);
        if ((size_t)(end - p) >= n && strncasecmp(p, starts[i], n) == 0) {
            return true;
        }
    }
    return false;
}

char *
ms_preview_resolve(const char *base, const char *ref)
{
    if (!base || !ref || !*ref || strlen(ref) > MS_PREVIEW_IMAGE_MAX) {
        return NULL;
    }
    CURLU *u = curl_url();
    char *scheme = NULL, *url = NULL, *out = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        goto cleanup;
    }
    if (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) {
        out = cm_strdup(url);
    }
cleanup:
    curl_free(scheme);
    curl_free(url);
    curl_url_cleanup(u);
    return out;
}

//  --------------------------------------------------------------------

static ms_preview_t *
t_page(const char *html)
{
    return ms_preview_new(html, strlen(html));
}

void
ms_preview_test(bool verbose)
{
    (void)verbose;
    printf(" * ms_preview: ");
    //  Open Graph wins over <title> and the plain description
    ms_preview_t *p = t_page(
        "<!DOCTYPE html><html><head><title>Plain &amp; simple</title>"
        "<meta name=\"description\" content=\"plain words\">"
        "<META PROPERTY='og:title' CONTENT='The &quot;Real&quot; Title'/>"
        "<meta property=og:description content=\"Line one\n\t line  two\">"
        "<meta property=\"og:image\" content=\"/img/a.png?x=1&amp;y=2\">"
        "</head><body>x</body></html>");
    assert(p);
    assert(streq(ms_preview_title(p), "The \"Real\" Title"));
    assert(streq(ms_preview_description(p), "Line one line two"));
    assert(streq(ms_preview_image(p), "/img/a.png?x=1&y=2"));
    ms_preview_destroy(&p);
    ms_preview_destroy(&p);
    //  Without Open Graph: Twitter's, then <title> and name=description
    p = t_page("<head><title>\n  Caf&#233; &#x2713; </title>"
               "<meta name=\"twitter:image\" content=\"https://i/x.jpg\">"
               "<meta name=\"Description\" content=\"about\"></head>");
    assert(p && streq(ms_preview_title(p), "Café ✓"));
    assert(streq(ms_preview_description(p), "about"));
    assert(streq(ms_preview_image(p), "https://i/x.jpg"));
    ms_preview_destroy(&p);
    //  Scripts, styles and comments are not read; Latin-1 is repaired;
    //  control characters fold; long values are cut on a character
    p = t_page("<script>var s = '<meta property=\"og:title\" "
               "content=\"no\">';</script><!-- <title>no</title> -->"
               "<style>title{}</style><title>na\xefve\x01x</title>");
    assert(p && streq(ms_preview_title(p), "na\xc3\xafve x"));
    ms_preview_destroy(&p);
    char *big = cm_alloc(MS_PREVIEW_TITLE_MAX * 2 + 64);
    strcpy(big, "<title>");
    for (int i = 0; i < MS_PREVIEW_TITLE_MAX; i++) {
        strcat(big, "\xc3\xa9"); //  é, two bytes each
    }
    strcat(big, "</title>");
    p = t_page(big);
    assert(p && strlen(ms_preview_title(p)) == MS_PREVIEW_TITLE_MAX);
    ms_preview_destroy(&p);
    free(big);
    //  Nothing to show, broken markup: NULL, never a crash
    assert(!t_page("<html><body>hello</body></html>"));
    assert(
        !t_page("<title></title><meta property=\"og:title\" content=\" \">"));
    assert(!t_page("<meta property=\"og:title\" content=\"unterminated"));
    assert(!t_page("<"));
    assert(!t_page(""));
    assert(!ms_preview_new(NULL, 0));
    p = t_page("<title>open ended &#99999999999; &bogus; &#;");
    assert(p && streq(ms_preview_title(p), "open ended &#99999999999; &bogus; "
                                           "&#;"));
    ms_preview_destroy(&p);
    p = t_page("<title>&#0;&#xD800;</title>");
    assert(p && streq(ms_preview_title(p), "\xef\xbf\xbd\xef\xbf\xbd"));
    ms_preview_destroy(&p);
    //  Random bytes
    unsigned seed = 7;
    char junk[2048];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof junk; i++) {
            static const char alphabet[] = "<>/=\"' &#;xmetaproptitlecnog:";
            junk[i] = rand_r(&seed) % 4
                          ? alphabet[rand_r(&seed) % (sizeof alphabet - 1)]
                          : (char)rand_r(&seed);
        }
        p = ms_preview_new(junk, sizeof junk);
        ms_preview_destroy(&p);
    }

    //  HTML or not
    assert(ms_preview_is_html("text/html; charset=utf-8", "", 0));
    assert(ms_preview_is_html("application/xhtml+xml", "", 0));
    assert(!ms_preview_is_html("image/png", "<html>", 6));
    assert(ms_preview_is_html(NULL, "\xEF\xBB\xBF  <!DOCTYPE html>", 20));
    assert(!ms_preview_is_html(NULL, "%PDF-1.4", 8));
    assert(!ms_preview_is_html(NULL, NULL, 0));

    //  URLs resolved against the page's
    char *u = ms_preview_resolve("http://h:8/a/b.html", "/img/x.png");
    assert(streq(u, "http://h:8/img/x.png"));
    free(u);
    u = ms_preview_resolve("http://h/a/b.html", "c.jpg");
    assert(streq(u, "http://h/a/c.jpg"));
    free(u);
    u = ms_preview_resolve("https://h/a/", "//cdn/x.jpg");
    assert(streq(u, "https://cdn/x.jpg"));
    free(u);
    assert(!ms_preview_resolve("http://h/", "file:///etc/passwd"));
    assert(!ms_preview_resolve("http://h/", "javascript:alert(1)"));
    assert(!ms_preview_resolve("http://h/", ""));
    assert(!ms_preview_resolve(NULL, "x"));
    printf("OK\n");
}
