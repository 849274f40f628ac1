/*  wa_node - a WhatsApp stanza as a tree: tag, attributes, content

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_node.h"

typedef struct {
    char *key;        //  attribute name, non-empty
    char *value;      //  value bytes followed by a NUL
    size_t value_len; //  value length without the NUL
} s_attr_t;

struct _wa_node_t {
    char *tag;                 //  element name, non-empty
    s_attr_t *attrs;           //  attributes in insertion order
    size_t attr_count;         //  attributes in use
    size_t attr_cap;           //  attributes allocated
    wa_node_content_t content; //  kind of content
    wa_node_t **children;      //  child nodes (WA_NODE_LIST)
    size_t child_count;        //  children in use
    size_t child_cap;          //  children allocated
    uint8_t *bytes;            //  bytes/string content plus a NUL
    size_t bytes_len;          //  content length without the NUL
};

wa_node_t *
wa_node_new(const char *tag)
{
    assert(tag);
    return wa_node_new_n(tag, strlen(tag));
}

wa_node_t *
wa_node_new_n(const char *tag, size_t len)
{
    assert(tag && len > 0);
    assert(memchr(tag, 0, len) == NULL);
    wa_node_t *self = cm_alloc(sizeof(wa_node_t));
    self->tag = cm_strndup(tag, len);
    return self;
}

void
wa_node_destroy(wa_node_t **self_p)
{
    assert(self_p);
    wa_node_t *self = *self_p;
    if (!self) {
        return;
    }
    wa_node_clear_content(self);
    for (size_t i = 0; i < self->attr_count; i++) {
        free(self->attrs[i].key);
        free(self->attrs[i].value);
    }
    free(self->attrs);
    free(self->tag);
    free(self);
    *self_p = NULL;
}

wa_node_t *
wa_node_dup(const wa_node_t *self)
{
    assert(self);
    wa_node_t *copy = wa_node_new(self->tag);
    for (size_t i = 0; i < self->attr_count; i++) {
        wa_node_append_attr(copy, self->attrs[i].key,
                            strlen(self->attrs[i].key), self->attrs[i].value,
                            self->attrs[i].value_len);
    }
    if (self->content == WA_NODE_LIST) {
        wa_node_set_list(copy);
        for (size_t i = 0; i < self->child_count; i++) {
            wa_node_t *child = wa_node_dup(self->children[i]);
            wa_node_append(copy, &child);
        }
    } else if (self->content == WA_NODE_BYTES) {
        wa_node_set_bytes(copy, self->bytes, self->bytes_len);
    } else if (self->content == WA_NODE_STRING) {
        wa_node_set_string_bytes(copy, self->bytes, self->bytes_len);
    }
    return copy;
}

const char *
wa_node_tag(const wa_node_t *self)
{
    assert(self);
    return self->tag;
}

bool
wa_node_is(const wa_node_t *self, const char *tag)
{
    assert(self);
    return cm_streq(self->tag, tag);
}

//  ---------------------------------------------------------------------
//  Attributes

//  Index of the last attribute named `key`, or -1
static ptrdiff_t
s_attr_index(const wa_node_t *self, const char *key)
{
    for (size_t i = self->attr_count; i > 0; i--) {
        if (strcmp(self->attrs[i - 1].key, key) == 0) {
            return (ptrdiff_t)i - 1;
        }
    }
    return -1;
}

static char *
s_memdup(const void *data, size_t len)
{
    char *copy = cm_alloc(len + 1);
    if (len) {
        memcpy(copy, data, len);
    }
    return copy;
}

int
wa_node_set_attr(wa_node_t *self, const char *key, const char *value)
{
    if (!value) {
        wa_node_remove_attr(self, key);
        return 0;
    }
    return wa_node_set_attr_bytes(self, key, value, strlen(value));
}

int
wa_node_set_attr_bytes(wa_node_t *self, const char *key, const void *value,
                       size_t len)
{
    assert(self);
    assert(key && *key);
    assert(value || len == 0);
    ptrdiff_t i = s_attr_index(self, key);
    if (i < 0) {
        return wa_node_append_attr(self, key, strlen(key), value, len);
    }
    char *copy = s_memdup(value, len);
    free(self->attrs[i].value);
    self->attrs[i].value = copy;
    self->attrs[i].value_len = len;
    return 0;
}

int
wa_node_set_attrf(wa_node_t *self, const char *key, const char *fmt, ...)
{
    assert(fmt);
    va_list args;
    va_start(args, fmt);
    char *value = cm_vsprintf(fmt, args);
    va_end(args);
    int rc = wa_node_set_attr_bytes(self, key, value, strlen(value));
    free(value);
    return rc;
}

int
wa_node_set_attr_int(wa_node_t *self, const char *key, int64_t value)
{
    return wa_node_set_attrf(self, key, "%" PRId64, value);
}

int
wa_node_append_attr(wa_node_t *self, const char *key, size_t key_len,
                    const void *value, size_t len)
{
    assert(self);
    assert(key && key_len > 0);
    assert(memchr(key, 0, key_len) == NULL);
    assert(value || len == 0);
    if (self->attr_count == self->attr_cap) {
        size_t cap = self->attr_cap ? self->attr_cap * 2 : 4;
        s_attr_t *attrs = realloc(self->attrs, cap * sizeof(s_attr_t));
        if (!attrs) {
            fprintf(stderr, "out of memory growing attributes\n");
            abort();
        }
        self->attrs = attrs;
        self->attr_cap = cap;
    }
    s_attr_t *attr = &self->attrs[self->attr_count++];
    attr->key = cm_strndup(key, key_len);
    attr->value = s_memdup(value, len);
    attr->value_len = len;
    return 0;
}

int
wa_node_remove_attr(wa_node_t *self, const char *key)
{
    assert(self);
    assert(key);
    size_t kept = 0;
    for (size_t i = 0; i < self->attr_count; i++) {
        if (strcmp(self->attrs[i].key, key) == 0) {
            free(self->attrs[i].key);
            free(self->attrs[i].value);
        } else {
            self->attrs[kept++] = self->attrs[i];
        }
    }
    bool found = kept != self->attr_count;
    self->attr_count = kept;
    return found ? 0 : -1;
}

const char *
wa_node_attr(const wa_node_t *self, const char *key)
{
    return wa_node_attr_bytes(self, key, NULL);
}

const char *
wa_node_attr_or(const wa_node_t *self, const char *key, const char *dflt)
{
    const char *value = wa_node_attr(self, key);
    return value ? value : dflt;
}

const char *
wa_node_attr_bytes(const wa_node_t *self, const char *key, size_t *len_p)
{
    assert(self);
    assert(key);
    ptrdiff_t i = s_attr_index(self, key);
    if (len_p) {
        *len_p = i < 0 ? 0 : self->attrs[i].value_len;
    }
    return i < 0 ? NULL : self->attrs[i].value;
}

bool
wa_node_attr_eq(const wa_node_t *self, const char *key, const char *value)
{
    size_t len;
    const char *have = wa_node_attr_bytes(self, key, &len);
    return have && value && strlen(value) == len &&
           memcmp(have, value, len) == 0;
}

int
wa_node_attr_int(const wa_node_t *self, const char *key, int64_t *value_p)
{
    size_t len;
    const char *text = wa_node_attr_bytes(self, key, &len);
    if (!text || len == 0 || strlen(text) != len) {
        return -1;
    }
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (*digits < '0' || *digits > '9') {
        return -1;
    }
    errno = 0;
    char *end;
    long long value = strtoll(text, &end, 10);
    if (errno || *end) {
        return -1;
    }
    if (value_p) {
        *value_p = value;
    }
    return 0;
}

int64_t
wa_node_attr_int_or(const wa_node_t *self, const char *key, int64_t dflt)
{
    int64_t value;
    return wa_node_attr_int(self, key, &value) == 0 ? value : dflt;
}

size_t
wa_node_attr_count(const wa_node_t *self)
{
    assert(self);
    return self->attr_count;
}

const char *
wa_node_attr_key_at(const wa_node_t *self, size_t index)
{
    assert(self);
    return index < self->attr_count ? self->attrs[index].key : NULL;
}

const char *
wa_node_attr_value_at(const wa_node_t *self, size_t index, size_t *len_p)
{
    assert(self);
    bool ok = index < self->attr_count;
    if (len_p) {
        *len_p = ok ? self->attrs[index].value_len : 0;
    }
    return ok ? self->attrs[index].value : NULL;
}

//  ---------------------------------------------------------------------
//  Content

wa_node_content_t
wa_node_content_type(const wa_node_t *self)
{
    assert(self);
    return self->content;
}

void
wa_node_clear_content(wa_node_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->child_count; i++) {
        wa_node_destroy(&self->children[i]);
    }
    free(self->children);
    self->children = NULL;
    self->child_count = 0;
    self->child_cap = 0;
    free(self->bytes);
    self->bytes = NULL;
    self->bytes_len = 0;
    self->content = WA_NODE_EMPTY;
}

void
wa_node_set_list(wa_node_t *self)
{
    assert(self);
    if (self->content != WA_NODE_LIST) {
        wa_node_clear_content(self);
        self->content = WA_NODE_LIST;
    }
}

int
wa_node_append(wa_node_t *self, wa_node_t **child_p)
{
    assert(self);
    assert(child_p && *child_p);
    assert(*child_p != self);
    wa_node_set_list(self);
    if (self->child_count == self->child_cap) {
        size_t cap = self->child_cap ? self->child_cap * 2 : 4;
        wa_node_t **children =
            realloc(self->children, cap * sizeof(wa_node_t *));
        if (!children) {
            fprintf(stderr, "out of memory growing children\n");
            abort();
        }
        self->children = children;
        self->child_cap = cap;
    }
    self->children[self->child_count++] = *child_p;
    *child_p = NULL;
    return 0;
}

wa_node_t *
wa_node_add(wa_node_t *self, const char *tag)
{
    wa_node_t *child = wa_node_new(tag);
    wa_node_t *borrowed = child;
    wa_node_append(self, &child);
    return borrowed;
}

size_t
wa_node_child_count(const wa_node_t *self)
{
    assert(self);
    return self->child_count;
}

wa_node_t *
wa_node_child_at(const wa_node_t *self, size_t index)
{
    assert(self);
    return index < self->child_count ? self->children[index] : NULL;
}

wa_node_t *
wa_node_child(const wa_node_t *self, const char *tag)
{
    return wa_node_child_next(self, tag, NULL);
}

wa_node_t *
wa_node_child_next(const wa_node_t *self, const char *tag,
                   const wa_node_t *prev)
{
    assert(self);
    size_t i = 0;
    if (prev) {
        while (i < self->child_count && self->children[i] != prev) {
            i++;
        }
        assert(i < self->child_count);
        i++;
    }
    for (; i < self->child_count; i++) {
        if (!tag || strcmp(self->children[i]->tag, tag) == 0) {
            return self->children[i];
        }
    }
    return NULL;
}

wa_node_t *
wa_node_find(const wa_node_t *self, const char *path)
{
    assert(self);
    assert(path);
    const wa_node_t *node = self;
    while (*path && node) {
        size_t len = strcspn(path, "/");
        wa_node_t *next = NULL;
        for (size_t i = 0; i < node->child_count; i++) {
            const char *tag = node->children[i]->tag;
            if (strncmp(tag, path, len) == 0 && tag[len] == 0) {
                next = node->children[i];
                break;
            }
        }
        node = next;
        path += len;
        if (*path == '/') {
            path++;
        }
    }
    return node == self ? NULL : (wa_node_t *)node;
}

wa_node_t *
wa_node_take_child(wa_node_t *self, size_t index)
{
    assert(self);
    if (index >= self->child_count) {
        return NULL;
    }
    wa_node_t *child = self->children[index];
    memmove(&self->children[index], &self->children[index + 1],
            (self->child_count - index - 1) * sizeof(wa_node_t *));
    self->child_count--;
    return child;
}

static void
s_set_content_bytes(wa_node_t *self, wa_node_content_t kind, const void *data,
                    size_t len)
{
    assert(self);
    assert(data || len == 0);
    uint8_t *copy = (uint8_t *)s_memdup(data, len);
    wa_node_clear_content(self);
    self->bytes = copy;
    self->bytes_len = len;
    self->content = kind;
}

void
wa_node_set_bytes(wa_node_t *self, const void *data, size_t len)
{
    s_set_content_bytes(self, WA_NODE_BYTES, data, len);
}

void
wa_node_set_string(wa_node_t *self, const char *str)
{
    assert(str);
    s_set_content_bytes(self, WA_NODE_STRING, str, strlen(str));
}

void
wa_node_set_string_bytes(wa_node_t *self, const void *str, size_t len)
{
    s_set_content_bytes(self, WA_NODE_STRING, str, len);
}

const uint8_t *
wa_node_bytes(const wa_node_t *self, size_t *len_p)
{
    assert(self);
    bool has =
        self->content == WA_NODE_BYTES || self->content == WA_NODE_STRING;
    if (len_p) {
        *len_p = has ? self->bytes_len : 0;
    }
    return has ? self->bytes : NULL;
}

const char *
wa_node_text_content(const wa_node_t *self)
{
    size_t len;
    const uint8_t *bytes = wa_node_bytes(self, &len);
    if (!bytes || memchr(bytes, 0, len)) {
        return NULL;
    }
    return (const char *)bytes;
}

//  ---------------------------------------------------------------------
//  Comparison

static bool
s_attrs_contain(const wa_node_t *a, const wa_node_t *b)
{
    for (size_t i = 0; i < a->attr_count; i++) {
        //  Compare only the occurrence lookups see (the last one)
        if (s_attr_index(a, a->attrs[i].key) != (ptrdiff_t)i) {
            continue;
        }
        size_t len;
        const char *value = wa_node_attr_bytes(b, a->attrs[i].key, &len);
        if (!value || len != a->attrs[i].value_len ||
            memcmp(value, a->attrs[i].value, len) != 0) {
            return false;
        }
    }
    return true;
}

bool
wa_node_eq(const wa_node_t *a, const wa_node_t *b)
{
    assert(a && b);
    if (strcmp(a->tag, b->tag) != 0 || !s_attrs_contain(a, b) ||
        !s_attrs_contain(b, a)) {
        return false;
    }
    bool a_bytes = a->content == WA_NODE_BYTES || a->content == WA_NODE_STRING;
    bool b_bytes = b->content == WA_NODE_BYTES || b->content == WA_NODE_STRING;
    if (a_bytes || b_bytes) {
        return a_bytes && b_bytes && a->bytes_len == b->bytes_len &&
               memcmp(a->bytes, b->bytes, a->bytes_len) == 0;
    }
    if (a->content != b->content || a->child_count != b->child_count) {
        return false;
    }
    for (size_t i = 0; i < a->child_count; i++) {
        if (!wa_node_eq(a->children[i], b->children[i])) {
            return false;
        }
    }
    return true;
}

//  ---------------------------------------------------------------------
//  Text output

typedef struct {
    char *data; //  NUL-terminated text
    size_t len; //  length without the NUL
    size_t cap; //  allocated bytes
} s_text_t;

//  Make room for `more` bytes and a NUL
static void
s_reserve(s_text_t *text, size_t more)
{
    if (text->len + more + 1 > text->cap) {
        size_t cap = text->cap ? text->cap : 256;
        while (cap < text->len + more + 1) {
            cap *= 2;
        }
        char *grown = realloc(text->data, cap);
        if (!grown) {
            fprintf(stderr, "out of memory growing text\n");
            abort();
        }
        text->data = grown;
        text->cap = cap;
    }
}

static void
s_put(s_text_t *text, const char *data, size_t len)
{
    s_reserve(text, len);
    memcpy(text->data + text->len, data, len);
    text->len += len;
    text->data[text->len] = 0;
}

static void
s_puts(s_text_t *text, const char *str)
{
    s_put(text, str, strlen(str));
}

//  Length of the valid UTF-8 multi-byte sequence at `p`, or 0
static size_t
s_utf8_seq(const uint8_t *p, size_t avail)
{
    uint8_t c = p[0];
    size_t n;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

//  True when the bytes read well as text: UTF-8 without control
//  characters other than tab and newlines, and not mistakable for hex
static bool
s_printable(const uint8_t *data, size_t len)
{
    if (len == 0 || (len >= 2 && data[0] == '0' && data[1] == 'x')) {
        return false;
    }
    for (size_t i = 0; i < len;) {
        uint8_t c = data[i];
        if (c >= 0x80) {
            size_t n = s_utf8_seq(data + i, len - i);
            if (n == 0) {
                return false;
            }
            i += n;
        } else if (c == 0x7F ||
                   (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
            return false;
        } else {
            i++;
        }
    }
    return true;
}

typedef enum { S_ESC_NAME, S_ESC_VALUE, S_ESC_TEXT } s_esc_t;

//  Append `len` bytes escaped for their place in the text form
static void
s_put_escaped(s_text_t *text, const uint8_t *data, size_t len, s_esc_t mode)
{
    for (size_t i = 0; i < len;) {
        uint8_t c = data[i];
        const char *named = c == '&'   ? "&amp;"
                            : c == '<' ? "&lt;"
                            : c == '>' ? "&gt;"
                            : c == '"' ? "&quot;"
                                       : NULL;
        if (named) {
            s_puts(text, named);
            i++;
            continue;
        }
        bool edge_space =
            mode == S_ESC_TEXT && c == ' ' && (i == 0 || i == len - 1);
        bool name_special =
            mode == S_ESC_NAME && (c == ' ' || c == '/' || c == '=');
        if (c >= 0x80) {
            size_t n = s_utf8_seq(data + i, len - i);
            if (n) {
                s_put(text, (const char *)data + i, n);
                i += n;
                continue;
            }
        }
        if (c < 0x20 || c >= 0x7F || edge_space || name_special) {
            char esc[8];
            snprintf(esc, sizeof esc, "&#x%02x;", c);
            s_puts(text, esc);
        } else {
            s_put(text, (const char *)&c, 1);
        }
        i++;
    }
}

//  Append bytes as text or hex, cut at max_bytes (0 = no limit)
static void
s_put_content(s_text_t *text, const uint8_t *data, size_t len, size_t max_bytes,
              bool quoted)
{
    size_t shown = max_bytes && len > max_bytes ? max_bytes : len;
    if (quoted) {
        s_puts(text, "\"");
        s_put_escaped(text, data, shown, S_ESC_VALUE);
        s_puts(text, "\"");
    } else if (s_printable(data, len)) {
        s_put_escaped(text, data, shown, S_ESC_TEXT);
    } else {
        s_puts(text, "0x");
        s_reserve(text, 2 * shown);
        cm_hex(data, shown, text->data + text->len);
        text->len += 2 * shown;
    }
    if (shown < len) {
        char more[48];
        snprintf(more, sizeof more, "...(%zu more bytes)", len - shown);
        s_puts(text, more);
    }
}

static void
s_put_node(s_text_t *text, const wa_node_t *self, size_t indent,
           size_t max_bytes)
{
    for (size_t i = 0; i < indent; i++) {
        s_puts(text, "  ");
    }
    s_puts(text, "<");
    s_put_escaped(text, (const uint8_t *)self->tag, strlen(self->tag),
                  S_ESC_NAME);
    for (size_t i = 0; i < self->attr_count; i++) {
        const s_attr_t *attr = &self->attrs[i];
        s_puts(text, " ");
        s_put_escaped(text, (const uint8_t *)attr->key, strlen(attr->key),
                      S_ESC_NAME);
        s_puts(text, "=\"");
        size_t shown = max_bytes && attr->value_len > max_bytes
                           ? max_bytes
                           : attr->value_len;
        s_put_escaped(text, (const uint8_t *)attr->value, shown, S_ESC_VALUE);
        if (shown < attr->value_len) {
            char more[48];
            snprintf(more, sizeof more, "...(%zu more bytes)",
                     attr->value_len - shown);
            s_puts(text, more);
        }
        s_puts(text, "\"");
    }
    if (self->content == WA_NODE_EMPTY) {
        s_puts(text, "/>");
        return;
    }
    s_puts(text, ">");
    if (self->content == WA_NODE_LIST) {
        for (size_t i = 0; i < self->child_count; i++) {
            s_puts(text, "\n");
            s_put_node(text, self->children[i], indent + 1, max_bytes);
        }
        if (self->child_count) {
            s_puts(text, "\n");
            for (size_t i = 0; i < indent; i++) {
                s_puts(text, "  ");
            }
        }
    } else if (self->content == WA_NODE_BYTES && self->bytes_len == 0) {
        s_puts(text, "0x");
    } else {
        s_put_content(text, self->bytes, self->bytes_len, max_bytes,
                      self->content == WA_NODE_STRING);
    }
    s_puts(text, "</");
    s_put_escaped(text, (const uint8_t *)self->tag, strlen(self->tag),
                  S_ESC_NAME);
    s_puts(text, ">");
}

char *
wa_node_text(const wa_node_t *self, size_t max_bytes)
{
    assert(self);
    s_text_t text = {NULL, 0, 0};
    s_put_node(&text, self, 0, max_bytes);
    return text.data;
}

int
wa_node_print(const wa_node_t *self, FILE *file, size_t max_bytes)
{
    assert(file);
    char *text = wa_node_text(self, max_bytes);
    int rc = fprintf(file, "%s\n", text) < 0 ? -1 : 0;
    free(text);
    return rc;
}

//  ---------------------------------------------------------------------
//  Text input

typedef struct {
    const char *p;     //  next character
    const char *start; //  beginning of the input, for line numbers
    char *error;       //  first error, "line N: reason"
} s_parser_t;

static void
s_fail(s_parser_t *self, const char *reason)
{
    if (self->error) {
        return;
    }
    int line = 1;
    for (const char *c = self->start; c < self->p && *c; c++) {
        line += *c == '\n';
    }
    self->error = cm_sprintf("line %d: %s", line, reason);
}

static bool
s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
s_skip_space(s_parser_t *self)
{
    while (s_is_space(*self->p)) {
        self->p++;
    }
}

//  Decode the entity at self->p ('&') into one byte; -1 on error
static int
s_entity(s_parser_t *self)
{
    static const struct {
        const char *name;
        char value;
    } named[] = {{"&amp;", '&'},
                 {"&lt;", '<'},
                 {"&gt;", '>'},
                 {"&quot;", '"'},
                 {"&apos;", '\''}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if (strncmp(self->p, named[i].name, n) == 0) {
            self->p += n;
            return (uint8_t)named[i].value;
        }
    }
    if (strncmp(self->p, "&#x", 3) == 0) {
        //  Look at each character only after the previous one was a
        //  digit: the text may end anywhere
        int hi = cm_hex_digit(self->p[3]);
        if (hi >= 0 && self->p[4] == ';') {
            self->p += 5;
            return hi;
        }
        int lo = hi >= 0 ? cm_hex_digit(self->p[4]) : -1;
        if (lo >= 0 && self->p[5] == ';') {
            self->p += 6;
            return hi * 16 + lo;
        }
    }
    s_fail(self, "bad entity (use &amp; &lt; &gt; &quot; &apos; &#xHH;)");
    return -1;
}

//  Read characters until one of `stop` (or NUL), decoding entities into a
//  new buffer. Returns NULL on error.
static char *
s_read_escaped(s_parser_t *self, const char *stop, size_t *len_p)
{
    s_text_t out = {NULL, 0, 0};
    s_put(&out, "", 0);
    while (*self->p && !strchr(stop, *self->p)) {
        if (*self->p == '&') {
            int c = s_entity(self);
            if (c < 0) {
                free(out.data);
                return NULL;
            }
            char byte = (char)c;
            s_put(&out, &byte, 1);
        } else {
            s_put(&out, self->p++, 1);
        }
    }
    *len_p = out.len;
    return out.data;
}

static char *
s_read_name(s_parser_t *self)
{
    size_t len;
    char *name = s_read_escaped(self, " \t\r\n<>/=\"", &len);
    if (name && (len == 0 || strlen(name) != len)) {
        s_fail(self, len ? "name contains a NUL byte" : "expected a name");
        free(name);
        return NULL;
    }
    return name;
}

static int
s_read_attrs(s_parser_t *self, wa_node_t *node)
{
    while (true) {
        const char *before = self->p;
        s_skip_space(self);
        if (*self->p == '/' || *self->p == '>' || !*self->p) {
            return 0;
        }
        if (self->p == before) {
            s_fail(self, "expected a space before an attribute");
            return -1;
        }
        char *key = s_read_name(self);
        if (!key) {
            return -1;
        }
        if (self->p[0] != '=' || self->p[1] != '"') {
            s_fail(self, "expected =\" after an attribute name");
            free(key);
            return -1;
        }
        self->p += 2;
        size_t len;
        char *value = s_read_escaped(self, "\"", &len);
        if (value && *self->p != '"') {
            s_fail(self, "unterminated attribute value");
        }
        if (value && !self->error) {
            self->p++;
            wa_node_append_attr(node, key, strlen(key), value, len);
        }
        free(key);
        free(value);
        if (self->error) {
            return -1;
        }
    }
}

//  Text between '>' and '</': hex, "string" or text
static int
s_read_text_content(s_parser_t *self, wa_node_t *node)
{
    const char *begin = self->p;
    const char *end = strchr(begin, '<');
    if (!end) {
        self->p = begin + strlen(begin);
        s_fail(self, "missing closing tag");
        return -1;
    }
    while (begin < end && s_is_space(*begin)) {
        begin++;
    }
    while (end > begin && s_is_space(end[-1])) {
        end--;
    }
    if (end - begin >= 2 && begin[0] == '0' && begin[1] == 'x') {
        s_text_t bytes = {cm_alloc((size_t)(end - begin) / 2 + 1), 0, 0};
        int high = -1;
        for (self->p = begin + 2; self->p < end; self->p++) {
            if (s_is_space(*self->p)) {
                continue;
            }
            int digit = cm_hex_digit(*self->p);
            if (digit < 0) {
                s_fail(self, "bad hex digit in content");
                free(bytes.data);
                return -1;
            }
            if (high < 0) {
                high = digit;
            } else {
                bytes.data[bytes.len++] = (char)(high * 16 + digit);
                high = -1;
            }
        }
        if (high >= 0) {
            s_fail(self, "odd number of hex digits in content");
            free(bytes.data);
            return -1;
        }
        wa_node_set_bytes(node, bytes.data, bytes.len);
        free(bytes.data);
    } else if (begin < end && *begin == '"') {
        if (end - begin < 2 || end[-1] != '"') {
            self->p = begin;
            s_fail(self, "unterminated string content");
            return -1;
        }
        self->p = begin + 1;
        size_t len;
        char *value = s_read_escaped(self, "\"", &len);
        if (!value) {
            return -1;
        }
        if (self->p != end - 1) {
            s_fail(self, "unescaped quote inside string content");
            free(value);
            return -1;
        }
        wa_node_set_string_bytes(node, value, len);
        free(value);
    } else if (begin == end) {
        wa_node_set_list(node);
    } else {
        self->p = begin;
        s_text_t bytes = {NULL, 0, 0};
        s_put(&bytes, "", 0);
        while (self->p < end) {
            if (*self->p == '&') {
                int c = s_entity(self);
                if (c < 0) {
                    free(bytes.data);
                    return -1;
                }
                char byte = (char)c;
                s_put(&bytes, &byte, 1);
            } else {
                s_put(&bytes, self->p++, 1);
            }
        }
        wa_node_set_bytes(node, bytes.data, bytes.len);
        free(bytes.data);
    }
    self->p = strchr(self->p, '<');
    return 0;
}

static wa_node_t *s_read_element(s_parser_t *self, int depth);

static int
s_read_children(s_parser_t *self, wa_node_t *node, int depth)
{
    wa_node_set_list(node);
    while (true) {
        s_skip_space(self);
        if (self->p[0] == '<' && self->p[1] == '/') {
            return 0;
        }
        if (*self->p != '<') {
            s_fail(self, *self->p ? "text mixed with child elements"
                                  : "missing closing tag");
            return -1;
        }
        wa_node_t *child = s_read_element(self, depth + 1);
        if (!child) {
            return -1;
        }
        wa_node_append(node, &child);
    }
}

static wa_node_t *
s_read_element(s_parser_t *self, int depth)
{
    if (depth > WA_NODE_TEXT_MAX_DEPTH) {
        s_fail(self, "elements nested too deeply");
        return NULL;
    }
    if (*self->p != '<') {
        s_fail(self, "expected '<'");
        return NULL;
    }
    self->p++;
    char *tag = s_read_name(self);
    if (!tag) {
        return NULL;
    }
    wa_node_t *node = wa_node_new(tag);
    if (s_read_attrs(self, node) < 0) {
        goto failed;
    }
    if (self->p[0] == '/' && self->p[1] == '>') {
        self->p += 2;
        free(tag);
        return node;
    }
    if (*self->p != '>') {
        s_fail(self, "expected '>' or '/>'");
        goto failed;
    }
    self->p++;
    const char *content = self->p;
    s_skip_space(self);
    int rc;
    if (self->p[0] == '<' && self->p[1] != '/') {
        rc = s_read_children(self, node, depth);
    } else {
        self->p = content;
        rc = s_read_text_content(self, node);
    }
    if (rc < 0) {
        goto failed;
    }
    assert(self->p[0] == '<');
    if (self->p[1] != '/') {
        s_fail(self, "expected a closing tag");
        goto failed;
    }
    self->p += 2;
    char *close = s_read_name(self);
    if (!close) {
        goto failed;
    }
    bool match = strcmp(close, tag) == 0;
    free(close);
    s_skip_space(self);
    if (!match || *self->p != '>') {
        s_fail(self, match ? "expected '>'" : "closing tag does not match");
        goto failed;
    }
    self->p++;
    free(tag);
    return node;

failed:
    free(tag);
    wa_node_destroy(&node);
    return NULL;
}

wa_node_t *
wa_node_new_from_text(const char *text, char **error_p)
{
    assert(text);
    s_parser_t parser = {text, text, NULL};
    s_skip_space(&parser);
    wa_node_t *node = s_read_element(&parser, 1);
    if (node) {
        s_skip_space(&parser);
        if (*parser.p) {
            s_fail(&parser, "text after the element");
            wa_node_destroy(&node);
        }
    }
    if (error_p) {
        *error_p = parser.error;
    } else {
        free(parser.error);
    }
    return node;
}

//  ---------------------------------------------------------------------
//  Self test

static void
s_expect_parse_error(const char *text, const char *needle)
{
    char *error = NULL;
    wa_node_t *node = wa_node_new_from_text(text, &error);
    assert(node == NULL);
    assert(error);
    if (!strstr(error, needle)) {
        fprintf(stderr, "parse error '%s' lacks '%s'\n", error, needle);
        assert(false);
    }
    free(error);
}

void
wa_node_test(bool verbose)
{
    printf(" * wa_node: ");

    //  Build <iq id="1" type="get" xmlns="w:p"><ping/></iq>
    wa_node_t *iq = wa_node_new("iq");
    assert(wa_node_is(iq, "iq"));
    assert(wa_node_content_type(iq) == WA_NODE_EMPTY);
    wa_node_set_attr(iq, "id", "1");
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "xmlns", "w:p");
    wa_node_set_attr(iq, "type", "get");
    assert(wa_node_attr_count(iq) == 3);
    assert(strcmp(wa_node_attr_key_at(iq, 1), "type") == 0);
    assert(strcmp(wa_node_attr(iq, "type"), "get") == 0);
    assert(wa_node_attr_eq(iq, "xmlns", "w:p"));
    assert(!wa_node_attr_eq(iq, "xmlns", "w:p2"));
    assert(!wa_node_attr_eq(iq, "nope", "w:p"));
    assert(wa_node_attr(iq, "nope") == NULL);
    assert(strcmp(wa_node_attr_or(iq, "nope", "x"), "x") == 0);
    wa_node_t *ping = wa_node_add(iq, "ping");
    assert(wa_node_content_type(iq) == WA_NODE_LIST);
    assert(wa_node_child_count(iq) == 1);
    assert(wa_node_child(iq, "ping") == ping);
    assert(wa_node_child(iq, NULL) == ping);
    assert(wa_node_child(iq, "pong") == NULL);
    assert(wa_node_child_at(iq, 1) == NULL);

    char *text = wa_node_text(iq, 0);
    assert(strcmp(text, "<iq id=\"1\" type=\"get\" xmlns=\"w:p\">\n"
                        "  <ping/>\n</iq>") == 0);
    wa_node_t *back = wa_node_new_from_text(text, NULL);
    assert(back && wa_node_eq(back, iq));
    free(text);
    wa_node_destroy(&back);

    //  Integers
    wa_node_set_attr_int(iq, "t", -1700000000123LL);
    int64_t value = 0;
    assert(wa_node_attr_int(iq, "t", &value) == 0);
    assert(value == -1700000000123LL);
    wa_node_set_attrf(iq, "count", "%d%s", 12, "x");
    assert(wa_node_attr_int(iq, "count", &value) == -1);
    assert(wa_node_attr_int_or(iq, "count", 7) == 7);
    wa_node_set_attr(iq, "count", "99999999999999999999");
    assert(wa_node_attr_int(iq, "count", &value) == -1);
    wa_node_set_attr(iq, "count", " 5");
    assert(wa_node_attr_int(iq, "count", &value) == -1);
    wa_node_set_attr(iq, "count", "");
    assert(wa_node_attr_int(iq, "count", &value) == -1);
    wa_node_set_attr(iq, "count", "42");
    assert(wa_node_attr_int_or(iq, "count", 7) == 42);
    assert(wa_node_remove_attr(iq, "count") == 0);
    assert(wa_node_remove_attr(iq, "count") == -1);
    wa_node_set_attr(iq, "t", NULL);
    assert(wa_node_attr(iq, "t") == NULL);
    assert(wa_node_attr_count(iq) == 3);

    //  Duplicates: lookups see the last one
    wa_node_append_attr(iq, "dup", 3, "a", 1);
    wa_node_append_attr(iq, "dupx", 3, "b\0c", 3);
    size_t len;
    const char *dup = wa_node_attr_bytes(iq, "dup", &len);
    assert(len == 3 && memcmp(dup, "b\0c", 3) == 0);
    assert(wa_node_attr_int(iq, "dup", &value) == -1);
    wa_node_set_attr(iq, "dup", "z");
    assert(wa_node_attr_eq(iq, "dup", "z"));
    assert(strcmp(wa_node_attr_value_at(iq, 3, &len), "a") == 0);
    assert(wa_node_attr_value_at(iq, 99, &len) == NULL && len == 0);
    assert(wa_node_attr_key_at(iq, 99) == NULL);
    wa_node_remove_attr(iq, "dup");
    assert(wa_node_attr_count(iq) == 3);

    //  Iteration, find, take
    wa_node_t *list = wa_node_add(iq, "list");
    for (int i = 0; i < 5; i++) {
        wa_node_t *item = wa_node_add(list, i % 2 ? "other" : "item");
        wa_node_set_attr_int(item, "n", i);
        wa_node_set_bytes(wa_node_add(item, "value"), "\x01\x02", 2);
    }
    int seen = 0;
    for (wa_node_t *c = wa_node_child_next(list, "item", NULL); c;
         c = wa_node_child_next(list, "item", c)) {
        assert(wa_node_attr_int_or(c, "n", -1) == seen * 2);
        seen++;
    }
    assert(seen == 3);
    wa_node_t *found = wa_node_find(iq, "list/item/value");
    assert(found && wa_node_is(found, "value"));
    assert(wa_node_bytes(found, &len) && len == 2);
    assert(wa_node_find(iq, "list/nothing") == NULL);
    assert(wa_node_find(iq, "") == NULL);
    wa_node_t *taken = wa_node_take_child(list, 1);
    assert(taken && wa_node_is(taken, "other"));
    assert(wa_node_child_count(list) == 4);
    assert(wa_node_take_child(list, 4) == NULL);
    wa_node_destroy(&taken);

    //  Content kinds
    wa_node_t *enc = wa_node_new("enc");
    wa_node_set_bytes(enc, "\x00\xff", 2);
    assert(wa_node_content_type(enc) == WA_NODE_BYTES);
    assert(wa_node_text_content(enc) == NULL);
    wa_node_set_string(enc, "hello");
    assert(wa_node_content_type(enc) == WA_NODE_STRING);
    assert(strcmp(wa_node_text_content(enc), "hello") == 0);
    wa_node_set_list(enc);
    assert(wa_node_content_type(enc) == WA_NODE_LIST);
    assert(wa_node_bytes(enc, &len) == NULL && len == 0);
    assert(wa_node_child_count(enc) == 0);
    wa_node_clear_content(enc);
    assert(wa_node_content_type(enc) == WA_NODE_EMPTY);
    wa_node_destroy(&enc);

    //  Copy and equality
    wa_node_t *copy = wa_node_dup(iq);
    assert(wa_node_eq(copy, iq));
    wa_node_set_attr(copy, "id", "2");
    assert(!wa_node_eq(copy, iq));
    wa_node_set_attr(copy, "id", "1");
    assert(wa_node_eq(copy, iq));
    wa_node_set_attr(copy, "extra", "");
    assert(!wa_node_eq(copy, iq) && !wa_node_eq(iq, copy));
    wa_node_remove_attr(copy, "extra");
    wa_node_set_bytes(wa_node_find(copy, "list/item/value"), "\x01\x03", 2);
    assert(!wa_node_eq(copy, iq));
    wa_node_destroy(&copy);

    //  Attribute order does not matter for equality
    wa_node_t *a = wa_node_new_from_text("<x a=\"1\" b=\"2\"/>", NULL);
    wa_node_t *b = wa_node_new_from_text("<x b=\"2\" a=\"1\"/>", NULL);
    assert(a && b && wa_node_eq(a, b));
    wa_node_destroy(&a);
    wa_node_destroy(&b);

    //  Text form round trip of every content kind and escapes
    wa_node_t *doc = wa_node_new("doc");
    wa_node_set_attr(doc, "q", "a\"b<c>&d\n");
    wa_node_set_bytes(wa_node_add(doc, "text"), " caf\xc3\xa9 x ", 9);
    wa_node_set_bytes(wa_node_add(doc, "hex"), "\x00\x01\xfe", 3);
    wa_node_set_bytes(wa_node_add(doc, "fake-hex"), "0x12", 4);
    wa_node_set_bytes(wa_node_add(doc, "nothing"), "", 0);
    wa_node_set_string(wa_node_add(doc, "str"), "My \"Group\"");
    wa_node_set_string(wa_node_add(doc, "empty-str"), "");
    wa_node_set_list(wa_node_add(doc, "empty-list"));
    wa_node_set_bytes(wa_node_add(doc, "bad-utf8"), "ok\xc3(", 4);
    wa_node_add(doc, "odd name/=");
    text = wa_node_text(doc, 0);
    if (verbose) {
        printf("\n%s\n", text);
    }
    assert(strstr(text, "q=\"a&quot;b&lt;c&gt;&amp;d&#x0a;\""));
    assert(strstr(text, "<text>&#x20;caf\xc3\xa9 x&#x20;</text>"));
    assert(strstr(text, "<hex>0x0001fe</hex>"));
    assert(strstr(text, "<fake-hex>0x30783132</fake-hex>"));
    assert(strstr(text, "<nothing>0x</nothing>"));
    assert(strstr(text, "<str>\"My &quot;Group&quot;\"</str>"));
    assert(strstr(text, "<empty-str>\"\"</empty-str>"));
    assert(strstr(text, "<empty-list></empty-list>"));
    assert(strstr(text, "<bad-utf8>0x6f6bc328</bad-utf8>"));
    assert(strstr(text, "<odd&#x20;name&#x2f;&#x3d;/>"));
    char *error = NULL;
    back = wa_node_new_from_text(text, &error);
    assert(back && !error);
    assert(wa_node_eq(back, doc));
    for (size_t i = 0; i < wa_node_child_count(doc); i++) {
        assert(wa_node_content_type(wa_node_child_at(doc, i)) ==
               wa_node_content_type(wa_node_child_at(back, i)));
    }
    char *again = wa_node_text(back, 0);
    assert(strcmp(again, text) == 0);
    free(again);
    free(text);
    wa_node_destroy(&back);

    //  Truncation
    uint8_t big[100];
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (uint8_t)i;
    }
    wa_node_t *blob = wa_node_new("blob");
    wa_node_set_attr(blob, "long", "abcdefghij");
    wa_node_set_bytes(blob, big, sizeof big);
    text = wa_node_text(blob, 4);
    assert(strcmp(text, "<blob long=\"abcd...(6 more bytes)\">"
                        "0x00010203...(96 more bytes)</blob>") == 0);
    assert(wa_node_new_from_text(text, NULL) == NULL);
    free(text);
    wa_node_destroy(&blob);

    //  Hand-written input: whitespace, hex with spaces, entities
    back = wa_node_new_from_text(
        "\n  <a k=\"&#x41;&apos;\">\n <b>0x 01 02\n</b> <c>  hi  </c>\n"
        "<d>\n</d></a >  \n",
        &error);
    assert(back && !error);
    assert(wa_node_attr_eq(back, "k", "A'"));
    assert(wa_node_bytes(wa_node_child(back, "b"), &len) && len == 2);
    assert(strcmp(wa_node_text_content(wa_node_child(back, "c")), "hi") == 0);
    assert(wa_node_content_type(wa_node_child(back, "d")) == WA_NODE_LIST);
    wa_node_destroy(&back);

    //  Garbage is rejected with a reason, never a crash
    s_expect_parse_error("", "expected '<'");
    s_expect_parse_error("<", "expected a name");
    s_expect_parse_error("<a", "expected '>'");
    s_expect_parse_error("<a b>", "expected =\"");
    s_expect_parse_error("<a b=\"1/>", "unterminated attribute value");
    s_expect_parse_error("<a b=\"1\"c=\"2\"/>", "expected a space");
    s_expect_parse_error("<a></b>", "does not match");
    s_expect_parse_error("<a>", "missing closing tag");
    s_expect_parse_error("<a><b/>", "missing closing tag");
    s_expect_parse_error("<a><b/>text</a>", "text mixed");
    s_expect_parse_error("<a>0x123</a>", "odd number");
    s_expect_parse_error("<a>0x12zz</a>", "bad hex");
    s_expect_parse_error("<a>&bogus;</a>", "bad entity");
    s_expect_parse_error("<a>\"x</a>", "unterminated string");
    s_expect_parse_error("<a>\"x\"y\"</a>", "unescaped quote");
    s_expect_parse_error("<a/><b/>", "text after");
    s_expect_parse_error("<a&#x00;/>", "NUL");
    //  Found by fuzz_node_text: an entity cut at the end of the text
    s_expect_parse_error("<a&#x", "bad entity");
    s_expect_parse_error("<a&#x4", "bad entity");
    s_expect_parse_error("\n<a></a", "line 2: expected '>'");
    char deep[(WA_NODE_TEXT_MAX_DEPTH + 2) * 3 + 1];
    for (int i = 0; i < WA_NODE_TEXT_MAX_DEPTH + 2; i++) {
        memcpy(deep + 3 * i, "<a>", 3);
    }
    deep[sizeof deep - 1] = 0;
    s_expect_parse_error(deep, "too deeply");
    assert(wa_node_new_from_text("<a", NULL) == NULL);

    //  Printing to a stream
    FILE *sink = fopen("/dev/null", "w");
    assert(sink);
    assert(wa_node_print(doc, sink, 16) == 0);
    fclose(sink);

    wa_node_destroy(&doc);
    wa_node_destroy(&iq);
    wa_node_destroy(&iq);
    assert(iq == NULL);
    printf("OK\n");
}
