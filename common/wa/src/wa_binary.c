/*  wa_binary - WhatsApp binary-XML codec (nodes <-> frame payloads)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_binary.h"
#include "wa/wa_jid.h"
#include "wa/wa_token.h"
#include "wa/wa_vectors.h"

void
wa_binary_limits_default(wa_binary_limits_t *limits)
{
    assert(limits);
    limits->max_depth = WA_BINARY_DEFAULT_MAX_DEPTH;
    limits->max_list = WA_BINARY_DEFAULT_MAX_LIST;
    limits->max_string = WA_BINARY_DEFAULT_MAX_STRING;
    limits->max_input = WA_BINARY_DEFAULT_MAX_INPUT;
    limits->max_inflated = WA_BINARY_DEFAULT_MAX_INFLATED;
    limits->max_items = WA_BINARY_DEFAULT_MAX_ITEMS;
}

//  ---------------------------------------------------------------------
//  Encoder

typedef struct {
    uint8_t *data;      //  encoded bytes
    size_t len;         //  bytes written
    size_t cap;         //  bytes allocated
    const char *reason; //  first error, or NULL
} s_out_t;

static void
s_reserve(s_out_t *out, size_t more)
{
    if (out->len + more <= out->cap) {
        return;
    }
    size_t cap = out->cap ? out->cap : 256;
    while (cap < out->len + more) {
        cap *= 2;
    }
    uint8_t *grown = realloc(out->data, cap);
    if (!grown) {
        fprintf(stderr, "out of memory growing an encoded node\n");
        abort();
    }
    out->data = grown;
    out->cap = cap;
}

static void
s_put_byte(s_out_t *out, uint8_t byte)
{
    s_reserve(out, 1);
    out->data[out->len++] = byte;
}

static void
s_put_bytes(s_out_t *out, const void *data, size_t len)
{
    if (len) {
        s_reserve(out, len);
        memcpy(out->data + out->len, data, len);
        out->len += len;
    }
}

static void
s_put_u16(s_out_t *out, unsigned value)
{
    s_put_byte(out, (uint8_t)(value >> 8));
    s_put_byte(out, (uint8_t)value);
}

static void
s_put_list_start(s_out_t *out, size_t size)
{
    if (size == 0) {
        s_put_byte(out, WA_BINARY_LIST_EMPTY);
    } else if (size < 256) {
        s_put_byte(out, WA_BINARY_LIST_8);
        s_put_byte(out, (uint8_t)size);
    } else {
        assert(size <= 0xFFFF);
        s_put_byte(out, WA_BINARY_LIST_16);
        s_put_u16(out, (unsigned)size);
    }
}

//  BINARY_8/20/32 length header and the bytes
static void
s_put_raw(s_out_t *out, const void *data, size_t len)
{
    if (len < 256) {
        s_put_byte(out, WA_BINARY_BINARY_8);
        s_put_byte(out, (uint8_t)len);
    } else if (len < (1u << 20)) {
        s_put_byte(out, WA_BINARY_BINARY_20);
        s_put_byte(out, (uint8_t)(len >> 16));
        s_put_u16(out, (unsigned)(len & 0xFFFF));
    } else if ((uint64_t)len <= 0xFFFFFFFFu) {
        s_put_byte(out, WA_BINARY_BINARY_32);
        s_put_u16(out, (unsigned)((uint64_t)len >> 16));
        s_put_u16(out, (unsigned)(len & 0xFFFF));
    } else {
        if (!out->reason) {
            out->reason = "bytes longer than 4 GiB";
        }
        return;
    }
    s_put_bytes(out, data, len);
}

//  Nibble code of c, or -1
static int
s_nibble_code(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    return c == '-' ? 10 : c == '.' ? 11 : -1;
}

//  Hex code of c (upper-case only), or -1
static int
s_hex_code(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

//  Write s packed if every character has a code; returns 0 if written
static int
s_put_packed(s_out_t *out, const char *s, size_t len, uint8_t tag,
             int (*code)(char))
{
    if (len == 0 || len > WA_BINARY_PACKED_MAX) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (code(s[i]) < 0) {
            return -1;
        }
    }
    s_put_byte(out, tag);
    size_t pairs = (len + 1) / 2;
    s_put_byte(out, (uint8_t)(pairs | (len % 2 ? 0x80 : 0)));
    s_reserve(out, pairs);
    for (size_t i = 0; i < len; i += 2) {
        int high = code(s[i]);
        int low = i + 1 < len ? code(s[i + 1]) : 15;
        out->data[out->len++] = (uint8_t)(high << 4 | low);
    }
    return 0;
}

static void s_put_string(s_out_t *out, const char *s, size_t len,
                         bool allow_jid);

//  Write s as a JID if it is one (user@known-server). Returns 0 if written.
static int
s_put_jid(s_out_t *out, const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (!at) {
        return -1;
    }
    const char *server = at + 1;
    size_t server_len = len - (size_t)(server - s);
    size_t user_len = (size_t)(at - s);
    char server_z[WA_JID_SERVER_MAX + 1];
    if (server_len == 0 || server_len > WA_JID_SERVER_MAX ||
        memchr(server, '@', server_len) || memchr(s, 0, len)) {
        return -1;
    }
    memcpy(server_z, server, server_len);
    server_z[server_len] = 0;
    if (!wa_jid_server_known(server_z)) {
        return -1;
    }
    bool typed = memchr(s, ':', user_len) ||
                 strcmp(server_z, WA_JID_SERVER_HOSTED) == 0 ||
                 strcmp(server_z, WA_JID_SERVER_HOSTED_LID) == 0 ||
                 strcmp(server_z, WA_JID_SERVER_MSGR) == 0 ||
                 strcmp(server_z, WA_JID_SERVER_INTEROP) == 0;
    if (typed) {
        //  s is NUL-terminated: node strings always are
        assert(s[len] == 0);
        wa_jid_t *jid = wa_jid_new_from(s);
        int written = -1;
        if (jid && strcmp(wa_jid_str(jid), s) == 0 && wa_jid_agent(jid) == 0) {
            const char *user = wa_jid_user(jid);
            int domain = wa_jid_domain(jid);
            uint16_t device = wa_jid_device(jid);
            if (domain >= 0 && *user && device <= 255 &&
                (device > 0 || domain >= WA_JID_DOMAIN_HOSTED)) {
                s_put_byte(out, WA_BINARY_AD_JID);
                s_put_byte(out, (uint8_t)domain);
                s_put_byte(out, (uint8_t)device);
                s_put_string(out, user, strlen(user), false);
                written = 0;
            } else if (strcmp(server_z, WA_JID_SERVER_MSGR) == 0) {
                s_put_byte(out, WA_BINARY_FB_JID);
                s_put_string(out, user, strlen(user), false);
                s_put_u16(out, device);
                s_put_string(out, server_z, server_len, false);
                written = 0;
            } else if (strcmp(server_z, WA_JID_SERVER_INTEROP) == 0) {
                s_put_byte(out, WA_BINARY_INTEROP_JID);
                s_put_string(out, user, strlen(user), false);
                s_put_u16(out, device);
                s_put_u16(out, wa_jid_integrator(jid));
                s_put_string(out, server_z, server_len, false);
                written = 0;
            }
        }
        wa_jid_destroy(&jid);
        if (written == 0) {
            return 0;
        }
    }
    s_put_byte(out, WA_BINARY_JID_PAIR);
    if (user_len == 0) {
        s_put_byte(out, WA_BINARY_LIST_EMPTY);
    } else {
        s_put_string(out, s, user_len, false);
    }
    s_put_string(out, server, server_len, false);
    return 0;
}

//  Write a string in order of preference: token, nibble, hex, JID, raw
static void
s_put_string(s_out_t *out, const char *s, size_t len, bool allow_jid)
{
    int dict;
    uint8_t index;
    if (wa_token_find(s, len, &dict, &index)) {
        if (dict != WA_TOKEN_SINGLE) {
            s_put_byte(out, (uint8_t)(WA_BINARY_DICTIONARY_0 + dict));
        }
        s_put_byte(out, index);
        return;
    }
    if (s_put_packed(out, s, len, WA_BINARY_NIBBLE_8, s_nibble_code) == 0 ||
        s_put_packed(out, s, len, WA_BINARY_HEX_8, s_hex_code) == 0) {
        return;
    }
    if (allow_jid && len && s_put_jid(out, s, len) == 0) {
        return;
    }
    s_put_raw(out, s, len);
}

static void
s_put_node(s_out_t *out, const wa_node_t *node)
{
    size_t attrs = wa_node_attr_count(node);
    wa_node_content_t content = wa_node_content_type(node);
    size_t size = 1 + 2 * attrs + (content != WA_NODE_EMPTY);
    size_t children = wa_node_child_count(node);
    if (size > 0xFFFF || children > 0xFFFF) {
        if (!out->reason) {
            out->reason =
                size > 0xFFFF ? "too many attributes" : "too many children";
        }
        return;
    }
    s_put_list_start(out, size);
    const char *tag = wa_node_tag(node);
    s_put_string(out, tag, strlen(tag), true);
    for (size_t i = 0; i < attrs; i++) {
        const char *key = wa_node_attr_key_at(node, i);
        size_t len;
        const char *value = wa_node_attr_value_at(node, i, &len);
        s_put_string(out, key, strlen(key), true);
        s_put_string(out, value, len, true);
    }
    size_t len;
    const uint8_t *bytes = wa_node_bytes(node, &len);
    if (content == WA_NODE_LIST) {
        s_put_list_start(out, children);
        for (size_t i = 0; i < children && !out->reason; i++) {
            s_put_node(out, wa_node_child_at(node, i));
        }
    } else if (content == WA_NODE_BYTES) {
        s_put_raw(out, bytes, len);
    } else if (content == WA_NODE_STRING) {
        s_put_string(out, (const char *)bytes, len, true);
    }
}

static int
s_encode(const wa_node_t *node, bool flag, uint8_t **out_p, size_t *len_p,
         const char **reason_p)
{
    assert(node);
    assert(out_p && len_p);
    s_out_t out = {NULL, 0, 0, NULL};
    if (flag) {
        s_put_byte(&out, 0);
    }
    s_put_node(&out, node);
    if (out.reason) {
        free(out.data);
        if (reason_p) {
            *reason_p = out.reason;
        }
        *out_p = NULL;
        *len_p = 0;
        return -1;
    }
    *out_p = out.data;
    *len_p = out.len;
    return 0;
}

int
wa_binary_encode(const wa_node_t *node, uint8_t **out_p, size_t *len_p,
                 const char **reason_p)
{
    return s_encode(node, true, out_p, len_p, reason_p);
}

int
wa_binary_encode_node(const wa_node_t *node, uint8_t **out_p, size_t *len_p,
                      const char **reason_p)
{
    return s_encode(node, false, out_p, len_p, reason_p);
}

//  ---------------------------------------------------------------------
//  Decoder

typedef struct {
    const uint8_t *data;              //  input
    size_t len;                       //  input length
    size_t pos;                       //  next byte to read
    const wa_binary_limits_t *limits; //  caps
    size_t items;                     //  nodes and attributes so far
    const char *reason;               //  first error, or NULL
} s_in_t;

//  A decoded string: points into a token table, the input, or `heap`
typedef struct {
    const char *ptr; //  first byte
    size_t len;      //  length
    char *heap;      //  owned buffer behind ptr, if any
} s_str_t;

static int
s_fail(s_in_t *in, const char *reason)
{
    if (!in->reason) {
        in->reason = reason;
    }
    return -1;
}

static int
s_get_byte(s_in_t *in, uint8_t *byte_p)
{
    if (in->pos >= in->len) {
        return s_fail(in, "unexpected end of input");
    }
    *byte_p = in->data[in->pos++];
    return 0;
}

static int
s_get_uint(s_in_t *in, size_t bytes, uint32_t *value_p)
{
    if (in->len - in->pos < bytes) {
        return s_fail(in, "unexpected end of input");
    }
    uint32_t value = 0;
    for (size_t i = 0; i < bytes; i++) {
        value = value << 8 | in->data[in->pos++];
    }
    *value_p = value;
    return 0;
}

//  Claim `len` input bytes for a string or bytes content
static int
s_get_span(s_in_t *in, size_t len, const uint8_t **span_p)
{
    if (len > in->limits->max_string) {
        return s_fail(in, "string longer than the limit");
    }
    if (in->len - in->pos < len) {
        return s_fail(in, "string length past end of input");
    }
    *span_p = in->data + in->pos;
    in->pos += len;
    return 0;
}

//  Length of a BINARY_8/20/32 item whose tag was read
static int
s_get_raw_len(s_in_t *in, uint8_t tag, size_t *len_p)
{
    uint32_t len = 0;
    int rc = s_get_uint(in,
                        tag == WA_BINARY_BINARY_8    ? 1
                        : tag == WA_BINARY_BINARY_20 ? 3
                                                     : 4,
                        &len);
    if (tag == WA_BINARY_BINARY_20) {
        len &= 0xFFFFF;
    }
    *len_p = len;
    return rc;
}

static int
s_get_list_size(s_in_t *in, uint8_t tag, size_t *size_p)
{
    uint32_t size = 0;
    if (tag == WA_BINARY_LIST_8) {
        if (s_get_uint(in, 1, &size) < 0) {
            return -1;
        }
    } else if (tag == WA_BINARY_LIST_16) {
        if (s_get_uint(in, 2, &size) < 0) {
            return -1;
        }
    } else if (tag != WA_BINARY_LIST_EMPTY) {
        return s_fail(in, "expected a list");
    }
    *size_p = size;
    return 0;
}

static void
s_str_free(s_str_t *str)
{
    free(str->heap);
    str->heap = NULL;
}

static int
s_get_packed(s_in_t *in, uint8_t tag, s_str_t *str)
{
    uint8_t head;
    if (s_get_byte(in, &head) < 0) {
        return -1;
    }
    size_t pairs = head & 0x7F;
    bool odd = head & 0x80;
    if (pairs == 0 && odd) {
        return s_fail(in, "packed string of length -1");
    }
    const uint8_t *span;
    if (s_get_span(in, pairs, &span) < 0) {
        return -1;
    }
    size_t len = 2 * pairs - (odd ? 1 : 0);
    char *text = malloc(len + 1);
    if (!text) {
        fprintf(stderr, "out of memory decoding a packed string\n");
        abort();
    }
    static const char nibbles[] = "0123456789-.";
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned code = i % 2 ? span[i / 2] & 0x0F : span[i / 2] >> 4;
        if (tag == WA_BINARY_NIBBLE_8 && code >= 12) {
            free(text);
            return s_fail(in, "invalid nibble in packed string");
        }
        text[i] = tag == WA_BINARY_NIBBLE_8 ? nibbles[code] : hex[code];
    }
    text[len] = 0;
    str->heap = text;
    str->ptr = text;
    str->len = len;
    return 0;
}

static int s_get_string(s_in_t *in, uint8_t tag, bool allow_jid, s_str_t *str);

//  Read a string that is part of a JID (no nested JIDs)
static int
s_get_jid_part(s_in_t *in, s_str_t *str)
{
    uint8_t tag;
    if (s_get_byte(in, &tag) < 0) {
        return -1;
    }
    return s_get_string(in, tag, false, str);
}

//  Render "<prefix><user><suffix>@<server>" into str->heap
static void
s_set_jid_text(s_str_t *str, const char *prefix, const s_str_t *user,
               const char *suffix, const char *server, size_t server_len)
{
    size_t len = strlen(prefix) + user->len + strlen(suffix) + 1 + server_len;
    char *text = cm_alloc(len + 1);
    char *p = text;
    memcpy(p, prefix, strlen(prefix));
    p += strlen(prefix);
    if (user->len) {
        memcpy(p, user->ptr, user->len);
        p += user->len;
    }
    memcpy(p, suffix, strlen(suffix));
    p += strlen(suffix);
    *p++ = '@';
    memcpy(p, server, server_len);
    text[len] = 0;
    str->heap = text;
    str->ptr = text;
    str->len = len;
}

static int
s_get_jid(s_in_t *in, uint8_t tag, s_str_t *str)
{
    s_str_t user = {"", 0, NULL};
    s_str_t server = {"", 0, NULL};
    char prefix[8] = "";
    char suffix[8] = "";
    int rc = -1;
    if (tag == WA_BINARY_JID_PAIR) {
        if (s_get_jid_part(in, &user) < 0 || s_get_jid_part(in, &server) < 0) {
            goto done;
        }
    } else if (tag == WA_BINARY_AD_JID) {
        uint32_t domain = 0;
        uint32_t device = 0;
        if (s_get_uint(in, 1, &domain) < 0 || s_get_uint(in, 1, &device) < 0 ||
            s_get_jid_part(in, &user) < 0) {
            goto done;
        }
        server.ptr = domain == WA_JID_DOMAIN_LID      ? WA_JID_SERVER_LID
                     : domain == WA_JID_DOMAIN_HOSTED ? WA_JID_SERVER_HOSTED
                     : domain == WA_JID_DOMAIN_HOSTED_LID
                         ? WA_JID_SERVER_HOSTED_LID
                         : WA_JID_SERVER_PN;
        server.len = strlen(server.ptr);
        if (device) {
            snprintf(suffix, sizeof suffix, ":%u", (unsigned)device);
        }
    } else {
        uint32_t device = 0;
        uint32_t integrator = 0;
        if (s_get_jid_part(in, &user) < 0 || s_get_uint(in, 2, &device) < 0 ||
            (tag == WA_BINARY_INTEROP_JID &&
             s_get_uint(in, 2, &integrator) < 0) ||
            s_get_jid_part(in, &server) < 0) {
            goto done;
        }
        snprintf(suffix, sizeof suffix, ":%u", (unsigned)device);
        if (tag == WA_BINARY_INTEROP_JID) {
            snprintf(prefix, sizeof prefix, "%u-", (unsigned)integrator);
        }
    }
    if (server.len == 0) {
        s_fail(in, "JID without a server");
        goto done;
    }
    s_set_jid_text(str, prefix, &user, suffix, server.ptr, server.len);
    rc = 0;
done:
    s_str_free(&user);
    s_str_free(&server);
    return rc;
}

static int
s_get_string(s_in_t *in, uint8_t tag, bool allow_jid, s_str_t *str)
{
    str->ptr = "";
    str->len = 0;
    str->heap = NULL;
    if (tag == WA_BINARY_LIST_EMPTY) {
        return 0;
    }
    if (tag < WA_TOKEN_SINGLE_COUNT) {
        str->ptr = wa_token_single(tag);
        str->len = strlen(str->ptr);
        return 0;
    }
    if (tag >= WA_BINARY_DICTIONARY_0 && tag <= WA_BINARY_DICTIONARY_3) {
        uint8_t index;
        if (s_get_byte(in, &index) < 0) {
            return -1;
        }
        str->ptr = wa_token_double(tag - WA_BINARY_DICTIONARY_0, index);
        str->len = strlen(str->ptr);
        return 0;
    }
    switch (tag) {
    case WA_BINARY_BINARY_8:
    case WA_BINARY_BINARY_20:
    case WA_BINARY_BINARY_32: {
        size_t len;
        const uint8_t *span;
        if (s_get_raw_len(in, tag, &len) < 0 ||
            s_get_span(in, len, &span) < 0) {
            return -1;
        }
        str->ptr = (const char *)span;
        str->len = len;
        return 0;
    }
    case WA_BINARY_NIBBLE_8:
    case WA_BINARY_HEX_8:
        return s_get_packed(in, tag, str);
    case WA_BINARY_JID_PAIR:
    case WA_BINARY_AD_JID:
    case WA_BINARY_FB_JID:
    case WA_BINARY_INTEROP_JID:
        if (!allow_jid) {
            return s_fail(in, "JID nested inside a JID");
        }
        return s_get_jid(in, tag, str);
    case WA_BINARY_LIST_8:
    case WA_BINARY_LIST_16:
        return s_fail(in, "list where a string was expected");
    default:
        return s_fail(in, "unrecognized string tag");
    }
}

static int
s_count_item(s_in_t *in)
{
    if (++in->items > in->limits->max_items) {
        return s_fail(in, "too many nodes and attributes");
    }
    return 0;
}

static wa_node_t *
s_get_node(s_in_t *in, size_t depth)
{
    if (depth > in->limits->max_depth) {
        s_fail(in, "nodes nested too deeply");
        return NULL;
    }
    uint8_t tag;
    size_t size;
    if (s_count_item(in) < 0 || s_get_byte(in, &tag) < 0 ||
        s_get_list_size(in, tag, &size) < 0) {
        return NULL;
    }
    if (size == 0) {
        s_fail(in, "empty list where a node was expected");
        return NULL;
    }
    s_str_t name;
    if (s_get_byte(in, &tag) < 0 || s_get_string(in, tag, true, &name) < 0) {
        return NULL;
    }
    if (name.len == 0 || memchr(name.ptr, 0, name.len)) {
        s_str_free(&name);
        s_fail(in, name.len ? "tag contains a NUL byte" : "empty tag");
        return NULL;
    }
    wa_node_t *node = wa_node_new_n(name.ptr, name.len);
    s_str_free(&name);

    for (size_t i = 0; i < (size - 1) / 2; i++) {
        s_str_t key;
        s_str_t value;
        if (s_count_item(in) < 0 || s_get_byte(in, &tag) < 0 ||
            s_get_string(in, tag, true, &key) < 0) {
            goto failed;
        }
        if (key.len == 0 || memchr(key.ptr, 0, key.len)) {
            s_str_free(&key);
            s_fail(in, key.len ? "attribute key contains a NUL byte"
                               : "empty attribute key");
            goto failed;
        }
        if (s_get_byte(in, &tag) < 0 ||
            s_get_string(in, tag, true, &value) < 0) {
            s_str_free(&key);
            goto failed;
        }
        wa_node_append_attr(node, key.ptr, key.len, value.ptr, value.len);
        s_str_free(&key);
        s_str_free(&value);
    }
    if (size % 2 == 1) {
        return node;
    }
    if (s_get_byte(in, &tag) < 0) {
        goto failed;
    }
    if (tag == WA_BINARY_LIST_EMPTY || tag == WA_BINARY_LIST_8 ||
        tag == WA_BINARY_LIST_16) {
        size_t children;
        if (s_get_list_size(in, tag, &children) < 0) {
            goto failed;
        }
        if (children > in->limits->max_list) {
            s_fail(in, "list longer than the limit");
            goto failed;
        }
        //  Each child takes at least three bytes (F8 01 tag)
        if (children > (in->len - in->pos) / 3) {
            s_fail(in, "list longer than the input");
            goto failed;
        }
        wa_node_set_list(node);
        for (size_t i = 0; i < children; i++) {
            wa_node_t *child = s_get_node(in, depth + 1);
            if (!child) {
                goto failed;
            }
            wa_node_append(node, &child);
        }
    } else if (tag == WA_BINARY_BINARY_8 || tag == WA_BINARY_BINARY_20 ||
               tag == WA_BINARY_BINARY_32) {
        size_t len;
        const uint8_t *span;
        if (s_get_raw_len(in, tag, &len) < 0 ||
            s_get_span(in, len, &span) < 0) {
            goto failed;
        }
        wa_node_set_bytes(node, span, len);
    } else {
        s_str_t content;
        if (s_get_string(in, tag, true, &content) < 0) {
            goto failed;
        }
        wa_node_set_string_bytes(node, content.ptr, content.len);
        s_str_free(&content);
    }
    return node;

failed:
    wa_node_destroy(&node);
    return NULL;
}

//  limits, or the defaults (written to *defaults) when it is NULL.
static const wa_binary_limits_t *
s_limits(const wa_binary_limits_t *limits, wa_binary_limits_t *defaults)
{
    if (limits) {
        return limits;
    }
    wa_binary_limits_default(defaults);
    return defaults;
}

wa_node_t *
wa_binary_decode_node(const uint8_t *data, size_t len,
                      const wa_binary_limits_t *limits, const char **reason_p)
{
    wa_binary_limits_t defaults;
    limits = s_limits(limits, &defaults);
    s_in_t in = {data, len, 0, limits, 0, NULL};
    wa_node_t *node = NULL;
    if (!data || len == 0) {
        s_fail(&in, "empty input");
    } else if (len > limits->max_input) {
        s_fail(&in, "input longer than the limit");
    } else {
        node = s_get_node(&in, 1);
        if (node && in.pos != in.len) {
            s_fail(&in, "trailing bytes after the node");
            wa_node_destroy(&node);
        }
    }
    if (reason_p) {
        *reason_p = node ? NULL : in.reason;
    }
    return node;
}

uint8_t *
wa_binary_inflate(const uint8_t *data, size_t len, size_t max,
                  size_t *out_len_p, const char **reason_p)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        *reason_p = "could not initialize zlib";
        return NULL;
    }
    //  Start at 4x the input (at least 1 KiB), never above the cap
    size_t cap = len < max / 4 ? (len * 4 > 1024 ? len * 4 : 1024) : max;
    if (cap > max) {
        cap = max;
    }
    uint8_t *out = cm_alloc(cap ? cap : 1);
    size_t used = 0;
    zs.next_in = (Bytef *)data;
    const char *reason = NULL;
    while (!reason) {
        if (used == cap) {
            if (cap >= max) {
                reason = "inflated payload larger than the limit";
                break;
            }
            cap = cap > max / 2 ? max : cap * 2;
            uint8_t *grown = realloc(out, cap);
            if (!grown) {
                fprintf(stderr, "out of memory inflating a frame\n");
                abort();
            }
            out = grown;
        }
        //  zlib counts in uInt; feed at most 1 GiB per call
        size_t in_left = len - (size_t)(zs.next_in - data);
        zs.avail_in = (uInt)(in_left < (1u << 30) ? in_left : (1u << 30));
        size_t room = cap - used;
        zs.next_out = out + used;
        zs.avail_out = (uInt)(room < (1u << 30) ? room : (1u << 30));
        uInt before = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        used += before - zs.avail_out;
        if (rc == Z_STREAM_END) {
            if (zs.next_in != data + len) {
                reason = "trailing bytes after the zlib stream";
            }
            break;
        }
        if (rc == Z_BUF_ERROR && zs.avail_out > 0) {
            reason = "truncated zlib stream";
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            reason = "corrupt zlib stream";
        }
    }
    inflateEnd(&zs);
    if (reason) {
        free(out);
        *reason_p = reason;
        return NULL;
    }
    *out_len_p = used;
    return out;
}

wa_node_t *
wa_binary_decode(const uint8_t *data, size_t len,
                 const wa_binary_limits_t *limits, const char **reason_p)
{
    wa_binary_limits_t defaults;
    limits = s_limits(limits, &defaults);
    const char *reason = NULL;
    if (!data || len == 0) {
        reason = "empty frame";
    } else if (len > limits->max_input) {
        reason = "frame longer than the limit";
    }
    if (reason) {
        if (reason_p) {
            *reason_p = reason;
        }
        return NULL;
    }
    if (!(data[0] & WA_BINARY_FLAG_ZLIB)) {
        return wa_binary_decode_node(data + 1, len - 1, limits, reason_p);
    }
    size_t plain_len;
    uint8_t *plain = wa_binary_inflate(data + 1, len - 1, limits->max_inflated,
                                       &plain_len, &reason);
    if (!plain) {
        if (reason_p) {
            *reason_p = reason;
        }
        return NULL;
    }
    //  The inflated node may legitimately be larger than max_input
    wa_binary_limits_t inflated = *limits;
    if (inflated.max_input < limits->max_inflated) {
        inflated.max_input = limits->max_inflated;
    }
    wa_node_t *node =
        wa_binary_decode_node(plain, plain_len, &inflated, reason_p);
    free(plain);
    return node;
}

//  ---------------------------------------------------------------------
//  Self test

//  Deterministic PRNG for the property tests (xorshift64*)
typedef struct {
    uint64_t state; //  never 0
} s_rng_t;

static uint64_t
s_rand(s_rng_t *rng)
{
    rng->state ^= rng->state >> 12;
    rng->state ^= rng->state << 25;
    rng->state ^= rng->state >> 27;
    return rng->state * 0x2545F4914F6CDD1DULL;
}

static size_t
s_below(s_rng_t *rng, size_t n)
{
    return n ? (size_t)(s_rand(rng) % n) : 0;
}

//  Vector JSON node -> wa_node: attrs as [[k, v], ...] or {k: v}; content
//  null/absent, [children], {"hex": ...} or {"string": ...}
static wa_node_t *
s_node_from_json(json_t *json)
{
    wa_node_t *node =
        wa_node_new(json_string_value(json_object_get(json, "tag")));
    json_t *attrs = json_object_get(json, "attrs");
    if (json_is_array(attrs)) {
        size_t i;
        json_t *pair;
        json_array_foreach(attrs, i, pair)
        {
            wa_node_set_attr(node, json_string_value(json_array_get(pair, 0)),
                             json_string_value(json_array_get(pair, 1)));
        }
    } else if (json_is_object(attrs)) {
        const char *key;
        json_t *value;
        json_object_foreach(attrs, key, value)
        {
            wa_node_set_attr(node, key, json_string_value(value));
        }
    }
    json_t *content = json_object_get(json, "content");
    if (json_is_array(content)) {
        wa_node_set_list(node);
        size_t i;
        json_t *child;
        json_array_foreach(content, i, child)
        {
            wa_node_t *c = s_node_from_json(child);
            wa_node_append(node, &c);
        }
    } else if (json_is_object(content) && json_object_get(content, "hex")) {
        size_t len;
        uint8_t *bytes = wa_vectors_unhex(
            json_string_value(json_object_get(content, "hex")), &len);
        wa_node_set_bytes(node, bytes, len);
        free(bytes);
    } else if (json_is_object(content)) {
        wa_node_set_string(
            node, json_string_value(json_object_get(content, "string")));
    }
    return node;
}

//  Every strict prefix and every single-byte change must be handled
static void
s_torture(const uint8_t *frame, size_t len)
{
    uint8_t *copy = cm_alloc(len);
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(copy, frame, cut);
        const char *reason = NULL;
        wa_node_t *node = wa_binary_decode(copy, cut, NULL, &reason);
        assert(node == NULL && reason);
    }
    size_t step = len > 600 ? len / 300 : 1;
    for (size_t i = 0; i < len; i += step) {
        for (int v = 0; v < 256; v += 17) {
            memcpy(copy, frame, len);
            copy[i] = (uint8_t)(copy[i] ^ (v | 1));
            const char *reason = NULL;
            wa_node_t *node = wa_binary_decode(copy, len, NULL, &reason);
            assert(node || reason);
            wa_node_destroy(&node);
        }
    }
    free(copy);
}

static int
s_vectors(bool verbose)
{
    json_t *root = wa_vectors_load("binary-nodes.json");
    int checked = 0;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(root, "cases"), i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        wa_node_t *node = s_node_from_json(json_object_get(item, "node"));
        size_t want_len;
        uint8_t *want = wa_vectors_unhex(
            json_string_value(json_object_get(item, "encoded_hex")), &want_len);
        uint8_t *got;
        size_t got_len;
        assert(wa_binary_encode(node, &got, &got_len, NULL) == 0);
        if (got_len != want_len || memcmp(got, want, want_len) != 0) {
            char *hex = cm_alloc(2 * got_len + 1);
            cm_hex(got, got_len, hex);
            fprintf(stderr, "vector %s: encoded %s\n", name, hex);
            free(hex);
            assert(false);
        }
        const char *reason = NULL;
        wa_node_t *back = wa_binary_decode(want, want_len, NULL, &reason);
        assert(back && wa_node_eq(back, node));
        if (verbose) {
            char *text = wa_node_text(back, 32);
            printf("\n   %s: %s", name, text);
            free(text);
        }
        s_torture(want, want_len);
        wa_node_destroy(&back);
        free(got);
        free(want);
        wa_node_destroy(&node);
        checked++;
    }
    json_array_foreach(json_object_get(root, "decode_only"), i, item)
    {
        wa_node_t *node = s_node_from_json(json_object_get(item, "decodes_to"));
        size_t len;
        uint8_t *frame = wa_vectors_unhex(
            json_string_value(json_object_get(item, "encoded_hex")), &len);
        const char *reason = NULL;
        wa_node_t *back = wa_binary_decode(frame, len, NULL, &reason);
        assert(back && wa_node_eq(back, node));
        //  Our encoder packs the JID users these vectors carry raw; the
        //  text survives
        uint8_t *again;
        size_t again_len;
        assert(wa_binary_encode(back, &again, &again_len, NULL) == 0);
        wa_node_t *twice = wa_binary_decode(again, again_len, NULL, &reason);
        assert(twice && wa_node_eq(twice, node));
        wa_node_destroy(&twice);
        s_torture(frame, len);
        free(again);
        wa_node_destroy(&back);
        free(frame);
        wa_node_destroy(&node);
        checked++;
    }
    json_decref(root);
    return checked;
}

//  A random string of one of the kinds the encoder distinguishes
static char *
s_random_string(s_rng_t *rng, bool key)
{
    char buf[300];
    size_t kind = s_below(rng, key ? 4 : 11);
    size_t len = 1 + s_below(rng, 20);
    switch (kind) {
    case 0: {
        const char *t = NULL;
        while (!t) {
            t = wa_token_single((unsigned)s_below(rng, 236));
        }
        return cm_strdup(t);
    }
    case 1:
        return cm_strdup(wa_token_double((unsigned)s_below(rng, 4),
                                         (unsigned)s_below(rng, 256)));
    case 2:
    case 3:
        for (size_t i = 0; i < len; i++) {
            buf[i] = (char)('a' + s_below(rng, 26));
        }
        buf[len] = 0;
        return cm_strdup(buf);
    case 4:
        len = 1 + s_below(rng, 140);
        for (size_t i = 0; i < len; i++) {
            buf[i] = "0123456789-."[s_below(rng, 12)];
        }
        buf[len] = 0;
        return cm_strdup(buf);
    case 5:
        len = 1 + s_below(rng, 140);
        for (size_t i = 0; i < len; i++) {
            buf[i] = "0123456789ABCDEF"[s_below(rng, 16)];
        }
        buf[len] = 0;
        return cm_strdup(buf);
    case 6: {
        char user[24];
        snprintf(user, sizeof user, "%llu",
                 (unsigned long long)(s_rand(rng) % 100000000000000ULL));
        unsigned device = 1 + (unsigned)s_below(rng, 255);
        switch (s_below(rng, 12)) {
        case 0:
            return cm_sprintf("%s@s.whatsapp.net", user);
        case 1:
            return cm_sprintf("%s:%u@s.whatsapp.net", user, device);
        case 2:
            return cm_sprintf("%s:%u@lid", user, device);
        case 3:
            return cm_sprintf("%s@g.us", user);
        case 4:
            return cm_sprintf("%s:%u@hosted", user, device);
        case 5:
            return cm_sprintf("%s@hosted.lid", user);
        case 6:
            return cm_sprintf("%s:%u@msgr", user, device);
        case 7:
            return cm_sprintf("7-%s:%u@interop", user, device);
        case 8:
            //  Not canonical: JID_PAIR keeps the text as it is
            return cm_sprintf("%s:0@s.whatsapp.net", user);
        case 9:
            return cm_sprintf("%s:%u@g.us", user, device + 300);
        case 10:
            return cm_strdup(s_below(rng, 2) ? "@s.whatsapp.net" : "x@y@g.us");
        default:
            return cm_sprintf("%s@%s", user,
                              s_below(rng, 2) ? "example.com" : "lid");
        }
    }
    case 7:
        return cm_strdup("");
    case 8:
        //  Printable text, sometimes past BINARY_8
        len = s_below(rng, 4) ? 1 + s_below(rng, 40) : 256 + s_below(rng, 40);
        for (size_t i = 0; i < len; i++) {
            buf[i] = (char)(' ' + s_below(rng, 95));
        }
        buf[len] = 0;
        return cm_strdup(buf);
    default:
        for (size_t i = 0; i < len; i++) {
            buf[i] = (char)('A' + s_below(rng, 60));
        }
        buf[len] = 0;
        return cm_strdup(buf);
    }
}

static wa_node_t *
s_random_node(s_rng_t *rng, int depth)
{
    char *tag = s_random_string(rng, true);
    wa_node_t *node = wa_node_new(tag);
    free(tag);
    size_t attrs = s_below(rng, 5);
    for (size_t i = 0; i < attrs; i++) {
        char *key = s_random_string(rng, true);
        if (s_below(rng, 8) == 0) {
            //  Binary attribute value, NUL bytes included
            uint8_t value[12];
            for (size_t j = 0; j < sizeof value; j++) {
                value[j] = (uint8_t)s_rand(rng);
            }
            wa_node_set_attr_bytes(node, key, value, sizeof value);
        } else {
            char *value = s_random_string(rng, false);
            wa_node_set_attr(node, key, value);
            free(value);
        }
        free(key);
    }
    switch (s_below(rng, depth > 4 ? 3 : 5)) {
    case 0:
        break;
    case 1: {
        size_t len = s_below(rng, 30) ? s_below(rng, 300) : 70000;
        uint8_t *bytes = cm_alloc(len + 1);
        for (size_t i = 0; i < len; i++) {
            bytes[i] = (uint8_t)s_rand(rng);
        }
        wa_node_set_bytes(node, bytes, len);
        free(bytes);
        break;
    }
    case 2: {
        char *value = s_random_string(rng, false);
        wa_node_set_string(node, value);
        free(value);
        break;
    }
    default: {
        //  LIST_16 at the top only, to keep frames small
        size_t children =
            depth == 1 && s_below(rng, 10) == 0 ? 300 : s_below(rng, 5);
        wa_node_set_list(node);
        for (size_t i = 0; i < children; i++) {
            wa_node_t *child = s_random_node(rng, depth + 1);
            wa_node_append(node, &child);
        }
    }
    }
    return node;
}

static void
s_round_trips(uint64_t seed, int count)
{
    s_rng_t rng = {seed};
    for (int i = 0; i < count; i++) {
        wa_node_t *node = s_random_node(&rng, 1);
        uint8_t *frame;
        size_t len;
        assert(wa_binary_encode(node, &frame, &len, NULL) == 0);
        const char *reason = NULL;
        wa_node_t *back = wa_binary_decode(frame, len, NULL, &reason);
        if (!back || !wa_node_eq(back, node)) {
            char *text = wa_node_text(node, 64);
            fprintf(stderr, "round trip %d (seed %llu) failed: %s\n%s\n", i,
                    (unsigned long long)seed, reason ? reason : "differs",
                    text);
            free(text);
            assert(false);
        }
        //  Re-encoding the decoded tree gives the same bytes
        uint8_t *again;
        size_t again_len;
        assert(wa_binary_encode(back, &again, &again_len, NULL) == 0);
        assert(again_len == len && memcmp(again, frame, len) == 0);
        //  And so does the text form
        char *text = wa_node_text(back, 0);
        wa_node_t *parsed = wa_node_new_from_text(text, NULL);
        assert(parsed && wa_node_eq(parsed, node));
        free(text);
        wa_node_destroy(&parsed);
        free(again);
        wa_node_destroy(&back);
        free(frame);
        wa_node_destroy(&node);
    }
}

//  A deflated frame of root's encoding (enc_len bytes) is refused under
//  max_inflated `cap` and decodes back to root when the cap fits.
static void
s_expect_inflate_cap(const uint8_t *frame, size_t len, size_t enc_len,
                     const wa_node_t *root, wa_binary_limits_t *limits,
                     size_t cap)
{
    const char *reason = NULL;
    limits->max_inflated = cap;
    assert(wa_binary_decode(frame, len, limits, &reason) == NULL);
    assert(strstr(reason, "larger than the limit"));
    limits->max_inflated = enc_len;
    wa_node_t *node = wa_binary_decode(frame, len, limits, &reason);
    assert(node && wa_node_eq(node, root));
    wa_node_destroy(&node);
}

static void
s_expect_reject(const char *hex, const wa_binary_limits_t *limits,
                const char *needle)
{
    size_t len;
    uint8_t *frame = wa_vectors_unhex(hex, &len);
    const char *reason = NULL;
    wa_node_t *node = wa_binary_decode(frame, len, limits, &reason);
    if (node || !reason || !strstr(reason, needle)) {
        fprintf(stderr, "frame %s: got %s, want '%s'\n", hex,
                node     ? "a node"
                : reason ? reason
                         : "(no reason)",
                needle);
        assert(false);
    }
    free(frame);
}

//  zlib-compress `len` bytes into a frame with the flag byte set
static uint8_t *
s_deflate_frame(const uint8_t *data, size_t len, size_t *frame_len_p)
{
    uLongf bound = compressBound((uLong)len);
    uint8_t *frame = cm_alloc(bound + 1);
    frame[0] = WA_BINARY_FLAG_ZLIB;
    assert(compress2(frame + 1, &bound, data, (uLong)len, 9) == Z_OK);
    *frame_len_p = bound + 1;
    return frame;
}

static void
s_bad_inputs(void)
{
    const char *reason = NULL;
    assert(wa_binary_decode(NULL, 0, NULL, &reason) == NULL && reason);
    assert(wa_binary_decode((const uint8_t *)"", 0, NULL, &reason) == NULL);
    assert(wa_binary_decode_node(NULL, 0, NULL, &reason) == NULL);
    s_expect_reject("00", NULL, "empty input");
    s_expect_reject("0000", NULL, "empty list where a node");
    s_expect_reject("00f800", NULL, "empty list where a node");
    s_expect_reject("001f", NULL, "expected a list");
    s_expect_reject("00f8", NULL, "end of input");
    s_expect_reject("00f801", NULL, "end of input");
    s_expect_reject("00f80100", NULL, "empty tag");
    s_expect_reject("00f801fc00", NULL, "empty tag");
    s_expect_reject("00f801f0", NULL, "unrecognized string tag");
    s_expect_reject("00f801f4", NULL, "unrecognized string tag");
    s_expect_reject("00f801f801", NULL, "list where a string");
    s_expect_reject("00f801fc0200ff", NULL, "NUL");
    s_expect_reject("00f8031f0003", NULL, "empty attribute key");
    s_expect_reject("00f8031ffc021f0003", NULL, "NUL");
    s_expect_reject("00f8021f", NULL, "end of input");
    s_expect_reject("00f8011f00", NULL, "trailing bytes");
    //  Huge declared lengths
    s_expect_reject("00f8021ffeffffffff00", NULL, "longer than the limit");
    s_expect_reject("00f8021ffe00ffffff00", NULL, "past end of input");
    s_expect_reject("00f8021ffdffffff00", NULL, "past end of input");
    s_expect_reject("00f8021ffc0500", NULL, "past end of input");
    s_expect_reject("00f8021ff9ffff", NULL, "list longer than the input");
    s_expect_reject("00f8021ff8ff", NULL, "list longer than the input");
    s_expect_reject("00f9ffff1f", NULL, "end of input");
    s_expect_reject("00f8031f11fb7f00", NULL, "past end of input");
    //  Packed strings
    s_expect_reject("00f801ff80", NULL, "length -1");
    s_expect_reject("00f801ff01c1", NULL, "invalid nibble");
    s_expect_reject("00f801ff01f1", NULL, "invalid nibble");
    s_expect_reject("00f801ff02", NULL, "past end of input");
    //  JIDs
    s_expect_reject("00f8031f11fa0300", NULL, "without a server");
    s_expect_reject("00f8031f11fafa000303", NULL, "nested inside a JID");
    s_expect_reject("00f8031f11f700", NULL, "end of input");
    s_expect_reject("00f8031f11f6fc01310002", NULL, "end of input");
    s_expect_reject("00f8031f11f5fc013100020003", NULL, "end of input");
    s_expect_reject("00f8031f11f5fc0131000200030000", NULL, "without a server");

    //  A zero-device AD_JID and an unrecognized domain still decode
    size_t len;
    uint8_t *frame = wa_vectors_unhex("00f803110cf7050aff8615551234567f", &len);
    wa_node_t *node = wa_binary_decode(frame, len, NULL, &reason);
    assert(node &&
           wa_node_attr_eq(node, "jid", "15551234567:10@s.whatsapp.net"));
    wa_node_destroy(&node);
    free(frame);
    frame = wa_vectors_unhex("00f803110cf78000ff8615551234567f", &len);
    node = wa_binary_decode(frame, len, NULL, &reason);
    assert(node && wa_node_attr_eq(node, "jid", "15551234567@hosted"));
    wa_node_destroy(&node);
    free(frame);
    //  wm's empty string (NIBBLE_8 of length 0) decodes as ""
    frame = wa_vectors_unhex("00f8031f89ff00", &len);
    node = wa_binary_decode(frame, len, NULL, &reason);
    assert(node && wa_node_attr_eq(node, "name", ""));
    wa_node_destroy(&node);
    free(frame);

    //  Deep nesting: fine at the limit, rejected past it
    wa_binary_limits_t limits;
    wa_binary_limits_default(&limits);
    assert(limits.max_depth == WA_BINARY_DEFAULT_MAX_DEPTH);
    size_t depth = 2000;
    uint8_t *deep = cm_alloc(1 + 5 * depth);
    for (size_t i = 0; i < depth; i++) {
        //  <presence> holding a list of one child, and so on
        memcpy(deep + 1 + 5 * i, "\xf8\x02\x1f\xf8\x01", 5);
    }
    node = wa_binary_decode(deep, 1 + 5 * depth, NULL, &reason);
    assert(!node && strstr(reason, "too deeply"));
    free(deep);
    wa_node_t *root = wa_node_new("a");
    wa_node_t *leaf = root;
    for (int i = 1; i < 64; i++) {
        leaf = wa_node_add(leaf, "a");
    }
    uint8_t *enc;
    size_t enc_len;
    assert(wa_binary_encode(root, &enc, &enc_len, NULL) == 0);
    node = wa_binary_decode(enc, enc_len, NULL, &reason);
    assert(node && wa_node_eq(node, root));
    wa_node_destroy(&node);
    limits.max_depth = 63;
    assert(wa_binary_decode(enc, enc_len, &limits, &reason) == NULL);
    assert(strstr(reason, "too deeply"));
    free(enc);
    wa_node_destroy(&root);

    //  Item, list and string limits
    wa_binary_limits_default(&limits);
    root = wa_node_new("list");
    for (int i = 0; i < 10; i++) {
        wa_node_set_attr_int(wa_node_add(root, "item"), "n", i);
    }
    wa_node_set_bytes(wa_node_add(root, "blob"), "0123456789", 10);
    assert(wa_binary_encode(root, &enc, &enc_len, NULL) == 0);
    limits.max_items = 21;
    assert(wa_binary_decode(enc, enc_len, &limits, &reason) == NULL);
    assert(strstr(reason, "too many nodes"));
    limits.max_items = 22;
    node = wa_binary_decode(enc, enc_len, &limits, &reason);
    assert(node);
    wa_node_destroy(&node);
    limits.max_list = 10;
    assert(wa_binary_decode(enc, enc_len, &limits, &reason) == NULL);
    assert(strstr(reason, "list longer than the limit"));
    wa_binary_limits_default(&limits);
    limits.max_string = 9;
    assert(wa_binary_decode(enc, enc_len, &limits, &reason) == NULL);
    assert(strstr(reason, "string longer than the limit"));
    limits.max_string = 10;
    limits.max_input = enc_len - 1;
    assert(wa_binary_decode(enc, enc_len, &limits, &reason) == NULL);
    assert(strstr(reason, "frame longer than the limit"));
    limits.max_input = enc_len - 2;
    assert(wa_binary_decode_node(enc + 1, enc_len - 1, &limits, &reason) ==
           NULL);
    assert(strstr(reason, "input longer than the limit"));
    free(enc);

    //  zlib: round trip, corrupt, truncated, trailing, bombs
    assert(wa_binary_encode_node(root, &enc, &enc_len, NULL) == 0);
    frame = s_deflate_frame(enc, enc_len, &len);
    node = wa_binary_decode(frame, len, NULL, &reason);
    assert(node && wa_node_eq(node, root));
    wa_node_destroy(&node);
    s_torture(frame, len);
    frame[len / 2] ^= 0x55;
    assert(wa_binary_decode(frame, len, NULL, &reason) == NULL);
    frame[len / 2] ^= 0x55;
    assert(wa_binary_decode(frame, len - 3, NULL, &reason) == NULL);
    assert(strstr(reason, "truncated zlib"));
    uint8_t *longer = cm_alloc(len + 1);
    memcpy(longer, frame, len);
    assert(wa_binary_decode(longer, len + 1, NULL, &reason) == NULL);
    assert(strstr(reason, "trailing bytes after the zlib"));
    free(longer);
    limits.max_input = len;
    s_expect_inflate_cap(frame, len, enc_len, root, &limits, enc_len - 1);
    free(frame);
    free(enc);
    wa_node_destroy(&root);
    //  A cap below the first buffer size still holds
    uint8_t small[600];
    memset(small, 'x', sizeof small);
    root = wa_node_new("a");
    wa_node_set_bytes(root, small, sizeof small);
    assert(wa_binary_encode_node(root, &enc, &enc_len, NULL) == 0);
    frame = s_deflate_frame(enc, enc_len, &len);
    wa_binary_limits_default(&limits);
    s_expect_inflate_cap(frame, len, enc_len, root, &limits, 100);
    free(frame);
    free(enc);
    wa_node_destroy(&root);
    s_expect_reject("02789c", NULL, "truncated zlib");
    s_expect_reject("020000", NULL, "corrupt zlib");

    //  64 MiB of zeros deflates to ~64 KiB; the default cap stops it
    size_t bomb_len = 64u << 20;
    uint8_t *zeros = cm_alloc(bomb_len);
    frame = s_deflate_frame(zeros, bomb_len, &len);
    free(zeros);
    assert(len < bomb_len / 500);
    node = wa_binary_decode(frame, len, NULL, &reason);
    assert(!node && strstr(reason, "larger than the limit"));
    free(frame);

    //  Random garbage never crashes
    s_rng_t rng = {42};
    uint8_t junk[64];
    for (int i = 0; i < 20000; i++) {
        size_t n = 1 + s_below(&rng, sizeof junk);
        for (size_t j = 0; j < n; j++) {
            junk[j] = (uint8_t)s_rand(&rng);
        }
        junk[0] &= 0x01;
        if (n > 1 && s_below(&rng, 2)) {
            junk[1] = 0xF8;
        }
        node = wa_binary_decode(junk, n, NULL, &reason);
        assert(node || reason);
        wa_node_destroy(&node);
    }
}

static void
s_encoder_limits(void)
{
    const char *reason = NULL;
    uint8_t *out = (uint8_t *)"x";
    size_t len = 1;
    wa_node_t *node = wa_node_new("big");
    for (int i = 0; i < 32768; i++) {
        wa_node_append_attr(node, "k", 1, "v", 1);
    }
    assert(wa_binary_encode(node, &out, &len, &reason) == -1);
    assert(out == NULL && len == 0 && strstr(reason, "too many attributes"));
    wa_node_destroy(&node);

    node = wa_node_new("list");
    for (int i = 0; i < 65536; i++) {
        wa_node_add(node, "i");
    }
    assert(wa_binary_encode(node, &out, &len, &reason) == -1);
    assert(strstr(reason, "too many children"));
    //  Exactly 65535 children are fine
    wa_node_destroy(&node);
    node = wa_node_new("list");
    for (int i = 0; i < 65535; i++) {
        wa_node_add(node, "i");
    }
    assert(wa_binary_encode(node, &out, &len, &reason) == 0);
    assert(out[1] == WA_BINARY_LIST_8 && out[4] == WA_BINARY_LIST_16);
    free(out);
    wa_node_destroy(&node);
    size_t big = (1u << 20) + 5;
    uint8_t *bytes = cm_alloc(big);
    node = wa_node_new("enc");
    wa_node_set_bytes(node, bytes, big);
    free(bytes);
    assert(wa_binary_encode(node, &out, &len, &reason) == 0);
    assert(out[4] == WA_BINARY_BINARY_32 && len == 9 + big);
    wa_node_t *back = wa_binary_decode(out, len, NULL, &reason);
    assert(back && wa_node_eq(back, node));
    wa_node_destroy(&back);
    free(out);
    wa_node_destroy(&node);
}

void
wa_binary_test(bool verbose)
{
    printf(" * wa_binary: ");
    //  Known-answer vectors (encode byte for byte, decode, torture)
    int vectors = s_vectors(verbose);
    assert(vectors == 18);

    //  Encoder choices not covered by the vectors
    wa_node_t *node = wa_node_new("message");
    wa_node_set_attr(node, "to", "12345:2@msgr");
    wa_node_set_attr(node, "from", "5-777:1@interop");
    wa_node_set_attr(node, "participant", "99:7@hosted");
    wa_node_set_attr(node, "recipient", "99@hosted.lid");
    wa_node_set_attr(node, "jid", "15551234567:0@s.whatsapp.net");
    wa_node_set_attr(node, "lid", "123@lid");
    wa_node_set_attr(node, "email", "x@example.com");
    wa_node_set_attr(node, "lower", "3eb0abc");
    wa_node_set_attr(node, "num", "64");
    wa_node_set_string(node, "120363012345678901@g.us");
    uint8_t *out;
    size_t len;
    assert(wa_binary_encode(node, &out, &len, NULL) == 0);
    char *hex = cm_alloc(2 * len + 1);
    cm_hex(out, len, hex);
    //  FB_JID, INTEROP_JID, AD_JID hosted (128/129), JID_PAIR with user
    //  "15551234567:0" (not canonical), JID_PAIR lid, raw email, raw
    //  lower-case hex, double-byte token "64", JID_PAIR string content
    const char *parts[] = {"11f6ff8312345f0002cc",
                           "06f5ef7e00010005fc07696e7465726f70",
                           "05f78007ff0199",
                           "f78100ff0199",
                           "0cfafc0d31353535313233343536373a3003",
                           "76faff82123f76",
                           "fc0d78406578616d706c652e636f6d",
                           "fc0733656230616263",
                           "ee00",
                           "faff091203630123456789011c"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!strstr(hex, parts[i])) {
            fprintf(stderr, "%s lacks %s\n", hex, parts[i]);
            assert(false);
        }
    }
    free(hex);
    const char *reason = NULL;
    wa_node_t *back = wa_binary_decode(out, len, NULL, &reason);
    assert(back && wa_node_eq(back, node));
    assert(wa_node_content_type(back) == WA_NODE_STRING);
    if (verbose) {
        printf("\n");
        wa_node_print(back, stdout, 0);
    }
    wa_node_destroy(&back);
    free(out);
    wa_node_destroy(&node);

    s_encoder_limits();
    s_bad_inputs();
    s_round_trips(0x5eed, 300);
    s_round_trips(0xc0ffee, 300);
    if (verbose) {
        printf("(%d vectors) ", vectors);
    }
    printf("OK\n");
}
