/*  wd_body - the exact bytes a webhook request carries

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "wd_classes.h"

char *
wd_body_compact(const char *text, size_t *len_p)
{
    assert(text);
    size_t len = strlen(text);
    char *out = cm_alloc(len + 1);
    size_t o = 0;
    bool in_string = false;
    bool escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            out[o++] = c;
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            continue;
        }
        if (c == '"') {
            in_string = true;
        }
        out[o++] = c;
    }
    out[o] = 0;
    if (len_p) {
        *len_p = o;
    }
    return out;
}

void
wd_body_test(bool verbose)
{
    printf(" * wd_body: ");
    size_t len = 0;
    char *out = wd_body_compact(
        "{\"a\": \"x, y: \\\"z\\\" \\\\\", \"n\": 1.10, \"l\": [1, 2, "
        "{\"k\": null}], \"e\": \"\"}",
        &len);
    assert(cm_streq(out, "{\"a\":\"x, y: \\\"z\\\" \\\\\",\"n\":1.10,"
                         "\"l\":[1,2,{\"k\":null}],\"e\":\"\"}"));
    assert(len == strlen(out));
    json_t *j = json_loads(out, 0, NULL);
    assert(j);
    assert(
        cm_streq(json_string_value(json_object_get(j, "a")), "x, y: \"z\" \\"));
    json_decref(j);
    free(out);
    out = wd_body_compact("", &len);
    assert(len == 0 && *out == 0);
    free(out);
    out = wd_body_compact(" \"caf\xc3\xa9 \" ", NULL);
    assert(cm_streq(out, "\"caf\xc3\xa9 \""));
    free(out);
    printf("OK\n");
}
