/*  gw_screenshot - a picture of a session's state

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  A 5x7 font: for each character, 7 rows of 5 dots (bit 4 leftmost).
typedef struct {
    char c;
    uint8_t rows[7];
} s_glyph_t;

static const s_glyph_t s_font[] = {
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0, 0, 0, 0, 0, 0x0C, 0x0C}},
    {',', {0, 0, 0, 0, 0x0C, 0x04, 0x08}},
    {':', {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0}},
    {'-', {0, 0, 0, 0x1F, 0, 0, 0}},
    {'_', {0, 0, 0, 0, 0, 0, 0x1F}},
    {'@', {0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E}},
    {'+', {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'/', {0, 0x01, 0x02, 0x04, 0x08, 0x10, 0}},
    {'=', {0, 0, 0x1F, 0, 0x1F, 0, 0}},
    {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
    {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04}},
};

static const s_glyph_t *
s_glyph(char c)
{
    c = (char)toupper((unsigned char)c);
    for (size_t i = 0; i < sizeof s_font / sizeof s_font[0]; i++) {
        if (s_font[i].c == c) {
            return &s_font[i];
        }
    }
    return s_glyph('?');
}

//  Draw `text` at (x, y) with `scale`, at most `max_chars` characters.
static void
s_text(uint8_t *img, int width, int height, int x, int y, int scale,
       const char *text, int max_chars, uint8_t ink)
{
    int advance = 6 * scale;
    for (int i = 0; text[i] && i < max_chars; i++) {
        //  Bytes of a UTF-8 sequence draw as one '?'
        if ((unsigned char)text[i] >= 0x80 &&
            ((unsigned char)text[i] & 0xC0) == 0x80) {
            continue;
        }
        const s_glyph_t *g = s_glyph(text[i]);
        for (int r = 0; r < 7; r++) {
            for (int c = 0; c < 5; c++) {
                if (!(g->rows[r] & (0x10 >> c))) {
                    continue;
                }
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) {
                        int px = x + c * scale + dx;
                        int py = y + r * scale + dy;
                        if (px >= 0 && px < width && py >= 0 && py < height) {
                            img[py * width + px] = ink;
                        }
                    }
                }
            }
        }
        x += advance;
    }
}

int
gw_screenshot_card(const char *const *lines, uint8_t **png_p, size_t *len_p)
{
    const int w = GW_SCREENSHOT_WIDTH;
    const int h = GW_SCREENSHOT_HEIGHT;
    uint8_t *img = cm_alloc((size_t)w * h);
    memset(img, 255, (size_t)w * h);
    //  A border and a title bar
    for (int x = 0; x < w; x++) {
        for (int t = 0; t < 2; t++) {
            img[t * w + x] = 0;
            img[(h - 1 - t) * w + x] = 0;
        }
    }
    for (int y = 0; y < h; y++) {
        for (int t = 0; t < 2; t++) {
            img[y * w + t] = 0;
            img[y * w + w - 1 - t] = 0;
        }
    }
    for (int y = 2; y < 44; y++) {
        memset(img + y * w + 2, 40, (size_t)w - 4);
    }
    int scale = GW_SCREENSHOT_SCALE;
    int max_chars = (w - 32) / (6 * scale);
    int y = 12;
    for (int i = 0; lines[i] && y + 7 * scale < h; i++) {
        s_text(img, w, h, 16, y, scale, lines[i], max_chars, i ? 0 : 255);
        y += i ? 10 * scale : 14 * scale + 6;
    }
    int rc = cm_png_gray(img, w, h, png_p, len_p);
    free(img);
    return rc;
}

//  True if the Accept header names `type`.
static bool
s_accepts(gw_req_t *req, const char *type)
{
    const char *accept = gw_req_header(req, "Accept");
    return accept && strstr(accept, type);
}

//  Answer with the PNG of session `name`, binary or {mimetype, data}.
static void
s_shoot(gw_req_t *req, const char *name, bool json)
{
    json_t *session = gw_messages_session(req, name);
    if (!session) {
        return;
    }
    const char *status = json_string_value(json_object_get(session, "status"));
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = -1;
    if (status && streq(status, "SCAN_QR_CODE")) {
        cm_msg_t *reply =
            gw_messages_command(req, session, "session.qr", NULL, 5000);
        if (!reply) {
            json_decref(session);
            return;
        }
        const char *value = cm_msg_str(reply, "value");
        if (value && *value) {
            rc = cm_qr_png(value, GW_LOGIN_QR_SCALE, &png, &len);
        }
        cm_msg_destroy(&reply);
    } else {
        json_t *me = json_object_get(session, "me");
        const char *id = json_string_value(json_object_get(me, "id"));
        const char *push = json_string_value(json_object_get(me, "pushName"));
        char *l1 = cm_sprintf("Session: %s", name);
        char *l2 = cm_sprintf("Status: %s", status ? status : "UNKNOWN");
        char *l3 = cm_sprintf("Account: %s", id ? id : "-");
        char *l4 = cm_sprintf("Name: %s", push ? push : "-");
        const char *lines[] = {"Wharf", l1, l2, l3, l4, NULL};
        rc = gw_screenshot_card(lines, &png, &len);
        free(l1);
        free(l2);
        free(l3);
        free(l4);
    }
    json_decref(session);
    if (rc != 0) {
        gw_req_fail(req, 500, NULL, "could not render the screenshot");
        return;
    }
    if (json) {
        char *b64 = cm_base64_encode(png, len);
        json_t *body =
            json_pack("{s:s, s:s}", "mimetype", "image/png", "data", b64);
        gw_req_reply(req, 200, &body);
        free(b64);
    } else {
        gw_req_reply_bytes(req, 200, "image/png", png, len);
    }
    free(png);
}

void
gw_screenshot_get(gw_req_t *req)
{
    const char *name = gw_req_query(req, "session");
    if (!name) {
        name = "default";
    }
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return;
    }
    s_shoot(req, name,
            !s_accepts(req, "image/") && s_accepts(req, "application/json"));
}

void
gw_screenshot_wawp(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (!name) {
        return;
    }
    s_shoot(req, name, !s_accepts(req, "image/png"));
    free(name);
}

json_t *
gw_screenshot_schemas(void)
{
    return json_object();
}

void
gw_screenshot_test(bool verbose)
{
    printf(" * gw_screenshot: ");
    //  Every glyph has a row of ink and fits in 5 dots
    for (size_t i = 1; i < sizeof s_font / sizeof s_font[0]; i++) {
        uint8_t any = 0;
        for (int r = 0; r < 7; r++) {
            assert(s_font[i].rows[r] < 0x20);
            any |= s_font[i].rows[r];
        }
        assert(any);
        assert(s_glyph(s_font[i].c) == &s_font[i]);
    }
    assert(s_glyph('a') == s_glyph('A'));
    assert(s_glyph('~') == s_glyph('?'));

    //  Text lands where it is drawn
    uint8_t img[40 * 10];
    memset(img, 255, sizeof img);
    s_text(img, 40, 10, 0, 0, 1, "I", 10, 0);
    assert(img[0 * 40 + 1] == 0 && img[0 * 40 + 0] == 255);
    assert(img[3 * 40 + 2] == 0 && img[3 * 40 + 1] == 255);
    //  Clipped at the edges without writing outside
    s_text(img, 40, 10, 35, 5, 2, "WWWW", 10, 0);

    const char *lines[] = {"Wharf", "Session: default",
                           "Status: WORKING \xc3\xa9", NULL};
    uint8_t *png = NULL;
    size_t len = 0;
    assert(gw_screenshot_card(lines, &png, &len) == 0);
    assert(len > 100 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    uint32_t w = (uint32_t)png[16] << 24 | (uint32_t)png[17] << 16 |
                 (uint32_t)png[18] << 8 | png[19];
    uint32_t h = (uint32_t)png[20] << 24 | (uint32_t)png[21] << 16 |
                 (uint32_t)png[22] << 8 | png[23];
    assert(w == GW_SCREENSHOT_WIDTH && h == GW_SCREENSHOT_HEIGHT);
    free(png);

    gw_req_t *req = gw_req_new("GET", "/api/screenshot");
    gw_req_set_query(req, "session", "bad name");
    gw_screenshot_get(req);
    assert(gw_req_status(req) == 400);
    gw_req_destroy(&req);
    if (verbose) {
        printf("(%zu glyphs) ", sizeof s_font / sizeof s_font[0]);
    }
    printf("OK\n");
}
