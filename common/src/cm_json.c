/*  cm_json - compact JSON text of a jansson value, fast

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

#include <math.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} s_buf_t;

static void
s_reserve(s_buf_t *b, size_t more)
{
    if (b->len + more + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + more + 1 > cap) {
            cap *= 2;
        }
        b->data = realloc(b->data, cap);
        assert(b->data);
        b->cap = cap;
    }
}

static void
s_put(s_buf_t *b, const char *s, size_t n)
{
    s_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void
s_putc(s_buf_t *b, char c)
{
    s_reserve(b, 1);
    b->data[b->len++] = c;
}

//  Length of the valid UTF-8 sequence at s (n bytes left), or 0.
static size_t
s_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0xC2 || c > 0xF4) {
        return 0;
    } else if (c < 0xE0) {
        len = 2;
        cp = c & 0x1F;
    } else if (c < 0xF0) {
        len = 3;
        cp = c & 0x0F;
    } else {
        len = 4;
        cp = c & 0x07;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    //  no overlong forms, surrogates or code points past U+10FFFF
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        return 0;
    }
    return len;
}

static int
s_string(s_buf_t *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str;
    s_reserve(b, n + 2);
    b->data[b->len++] = '"';
    size_t run = 0; //  start of the bytes not written yet
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t len = s_utf8_len(s + i, n - i);
            if (len == 0) {
                return -1;
            }
            i += len;
            continue;
        }
        s_put(b, str + run, i - run);
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            elen = 6;
        }
        s_put(b, esc, elen);
        i++;
        run = i;
    }
    s_put(b, str + run, n - run);
    s_putc(b, '"');
    return 0;
}

static int
s_value(s_buf_t *b, const json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_NULL:
        s_put(b, "null", 4);
        return 0;
    case JSON_TRUE:
        s_put(b, "true", 4);
        return 0;
    case JSON_FALSE:
        s_put(b, "false", 5);
        return 0;
    case JSON_INTEGER: {
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
        s_put(b, num, (size_t)n);
        return 0;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!isfinite(d)) {
            return -1;
        }
        snprintf(num, sizeof num, "%.17g", d);
        //  as jansson: no '+' and no leading zeros in the exponent
        char *e = strchr(num, 'e');
        if (e) {
            char *digits = e + 1;
            if (*digits == '+') {
                memmove(digits, digits + 1, strlen(digits + 1) + 1);
            } else if (*digits == '-') {
                digits++;
            }
            size_t zeros = strspn(digits, "0");
            if (zeros > 0 && digits[zeros]) {
                memmove(digits, digits + zeros, strlen(digits + zeros) + 1);
            }
        } else if (!strchr(num, '.')) {
            strcat(num, ".0");
        }
        s_put(b, num, strlen(num));
        return 0;
    }
    case JSON_STRING:
        return s_string(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        s_putc(b, '[');
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)v, i, item)
        {
            if (i > 0) {
                s_putc(b, ',');
            }
            if (s_value(b, item) != 0) {
                return -1;
            }
        }
        s_putc(b, ']');
        return 0;
    }
    case JSON_OBJECT: {
        s_putc(b, '{');
        bool first = true;
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            if (!first) {
                s_putc(b, ',');
            }
            first = false;
            if (s_string(b, key, strlen(key)) != 0) {
                return -1;
            }
            s_putc(b, ':');
            if (s_value(b, item) != 0) {
                return -1;
            }
        }
        s_putc(b, '}');
        return 0;
    }
    }
    return -1;
}

char *
cm_json_dumps(const json_t *v, size_t *len_out)
{
    if (!v) {
        return NULL;
    }
    s_buf_t b = {NULL, 0, 0};
    if (s_value(&b, v) != 0) {
        free(b.data);
        return NULL;
    }
    s_reserve(&b, 0);
    b.data[b.len] = 0;
    if (len_out) {
        *len_out = b.len;
    }
    return b.data;
}

//  --------------------------------------------------------------------

//  Same text as jansson's compact dump.
static void
s_same(json_t *v)
{
    char *ours = cm_json_dumps(v, NULL);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert(ours && theirs);
    if (strcmp(ours, theirs) != 0) {
        fprintf(stderr, "cm_json: %s\n   jansson: %s\n", ours, theirs);
        assert(false);
    }
    free(ours);
    free(theirs);
}

void
cm_json_test(bool verbose)
{
    printf(" * cm_json: ");
    const char *docs[] = {
        "{}",
        "[]",
        "null",
        "true",
        "0",
        "-12",
        "\"\"",
        "{\"a\":1,\"b\":[true,false,null,1.5,-0.25,1e300,3.0],"
        "\"c\":{\"d\":\"x/y\"}}",
        "{\"z\":1,\"a\":2,\"m\":{\"q\":[[],[{}],{\"k\":[1,2]}]}}",
        "[\"quote \\\" backslash \\\\ nl \\n tab \\t cr \\r bs \\b ff \\f\","
        "\"ctl \\u0001 \\u001f del \\u007f\",\"caf\\u00e9 \\u20ac "
        "\\ud83d\\ude00\"]",
        "[9223372036854775807,-9223372036854775808,0.1,100000000000000000000.0,"
        "1.7976931348623157e308,5e-324]",
        NULL};
    for (int i = 0; docs[i]; i++) {
        json_error_t err;
        json_t *v = json_loads(docs[i], JSON_DECODE_ANY, &err);
        assert(v);
        s_same(v);
        json_decref(v);
    }
    //  a real that prints as an integer keeps a fraction
    json_t *v = json_real(42);
    size_t len = 0;
    char *text = cm_json_dumps(v, &len);
    assert(cm_streq(text, "42.0") && len == 4);
    free(text);
    json_decref(v);
    //  what cannot be written
    assert(cm_json_dumps(NULL, NULL) == NULL);
    const char bad[][5] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
                           "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = json_pack("{s:o}", "k",
                      json_stringn_nocheck(bad[i], strlen(bad[i])));
        assert(cm_json_dumps(v, NULL) == NULL);
        json_decref(v);
    }
    //  a string with a NUL inside, and a long document
    v = json_stringn("a\0b", 3);
    s_same(v);
    json_decref(v);
    v = json_array();
    for (int i = 0; i < 5000; i++) {
        json_array_append_new(v, json_pack("{s:i, s:s}", "n", i, "s", "text"));
    }
    s_same(v);
    json_decref(v);
    printf("OK\n");
}
