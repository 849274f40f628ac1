/*  ms_preview - what a web page says about itself, for link previews

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A link preview (WhatsApp's extendedTextMessage title, description and
    jpegThumbnail) comes from the page the first URL of a text names.
    ms_preview reads that page's HTML: its Open Graph tags (og:title,
    og:description, og:image), the Twitter card ones when those are
    missing, then <title> and <meta name="description">. The HTML is
    hostile input: only the first MS_PREVIEW_SCAN_MAX bytes are read,
    <script>, <style> and comments are skipped, entities are decoded,
    white space is folded, text that is not UTF-8 is repaired, and each
    value is cut to its limit on a character boundary. media-service's
    media.preview (ms_worker) fetches the page and the image under the
    fetch policy of every other URL.
*/
#ifndef MS_PREVIEW_H_INCLUDED
#define MS_PREVIEW_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  HTML bytes read, at most.
#define MS_PREVIEW_SCAN_MAX (512 * 1024)
//  Longest title, description and image URL kept, bytes.
#define MS_PREVIEW_TITLE_MAX 512
#define MS_PREVIEW_DESCRIPTION_MAX 2048
#define MS_PREVIEW_IMAGE_MAX 4096
//  Longest side of the preview's JPEG thumbnail, pixels.
#define MS_PREVIEW_THUMB_SIDE 192

typedef struct _ms_preview_t ms_preview_t;

//  Read `html` (len bytes, not NUL-terminated). NULL when the page says
//  nothing a preview could show (no title, description or image).
//  Caller owns return value.
ms_preview_t *ms_preview_new(const char *html, size_t len);
void ms_preview_destroy(ms_preview_t **self_p);

//  The page's title, description and image URL (as written, possibly
//  relative), or NULL.
const char *ms_preview_title(ms_preview_t *self);
const char *ms_preview_description(ms_preview_t *self);
const char *ms_preview_image(ms_preview_t *self);

//  True when a page's Content-Type (or, without one, its first bytes)
//  says it is HTML.
bool ms_preview_is_html(const char *content_type, const char *body, size_t len);

//  `ref` resolved against the absolute URL `base`; NULL unless the
//  result is an http or https URL. Caller owns return value.
char *ms_preview_resolve(const char *base, const char *ref);

void ms_preview_test(bool verbose);

#endif
