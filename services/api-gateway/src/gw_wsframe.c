/*  gw_wsframe - WebSocket framing (RFC 6455), server side

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  RFC 6455 section 1.3
#define GW_WSFRAME_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct _gw_wsframe_t {
    size_t max_message; //  largest message taken
    uint8_t *in;        //  received, not yet decoded
    size_t in_len;
    size_t in_cap;
    size_t consumed; //  bytes of `in` the last returned frame used
    uint8_t *msg;    //  fragments of the message being assembled
    size_t msg_len;
    int msg_opcode;           //  TEXT or BINARY while assembling, else 0
    uint8_t ctl[125];         //  last control frame's payload
    int error;                //  close code once failed, else 0
    const char *error_reason; //  static text
};

//  realloc that aborts on out-of-memory, as cm_alloc does.
static void *
s_realloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (!q) {
        abort();
    }
    return q;
}

gw_wsframe_t *
gw_wsframe_new(size_t max_message)
{
    gw_wsframe_t *self = cm_alloc(sizeof *self);
    self->max_message = max_message;
    return self;
}

void
gw_wsframe_destroy(gw_wsframe_t **self_p)
{
    assert(self_p);
    gw_wsframe_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->in);
    free(self->msg);
    free(self);
    *self_p = NULL;
}

static int
s_fail(gw_wsframe_t *self, int code, const char *reason)
{
    if (!self->error) {
        self->error = code;
        self->error_reason = reason;
    }
    return -1;
}

//  Drop what the last returned frame used.
static void
s_compact(gw_wsframe_t *self)
{
    if (self->consumed) {
        memmove(self->in, self->in + self->consumed,
                self->in_len - self->consumed);
        self->in_len -= self->consumed;
        self->consumed = 0;
    }
}

int
gw_wsframe_feed(gw_wsframe_t *self, const void *data, size_t len)
{
    if (self->error) {
        return -1;
    }
    s_compact(self);
    //  At most one largest frame and the next one's header are buffered.
    size_t cap = self->max_message + 2 * GW_WSFRAME_HEADER_MAX;
    if (len > cap - self->in_len) {
        return s_fail(self, GW_WSFRAME_CLOSE_TOO_BIG, "message too big");
    }
    if (self->in_len + len > self->in_cap) {
        size_t want = self->in_cap ? self->in_cap : 256;
        while (want < self->in_len + len) {
            want *= 2;
        }
        if (want > cap) {
            want = cap;
        }
        self->in = s_realloc(self->in, want);
        self->in_cap = want;
    }
    if (len) {
        memcpy(self->in + self->in_len, data, len);
        self->in_len += len;
    }
    return 0;
}

bool
gw_wsframe_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i - 1 < n) {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

int
gw_wsframe_next(gw_wsframe_t *self, int *opcode_p, const uint8_t **payload_p,
                size_t *len_p)
{
    if (self->error) {
        return -1;
    }
    s_compact(self);
    while (true) {
        const uint8_t *p = self->in;
        size_t have = self->in_len;
        if (have < 2) {
            return 0;
        }
        bool fin = (p[0] & 0x80) != 0;
        int opcode = p[0] & 0x0F;
        if (p[0] & 0x70) {
            return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL, "reserved bits set");
        }
        if (!(p[1] & 0x80)) {
            return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                          "client frame not masked");
        }
        uint64_t plen = p[1] & 0x7F;
        size_t head = 2;
        if (plen == 126) {
            if (have < 4) {
                return 0;
            }
            plen = ((uint64_t)p[2] << 8) | p[3];
            if (plen < 126) {
                return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                              "length not minimally encoded");
            }
            head = 4;
        } else if (plen == 127) {
            if (have < 10) {
                return 0;
            }
            if (p[2] & 0x80) {
                return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                              "length has its top bit set");
            }
            plen = 0;
            for (int k = 0; k < 8; k++) {
                plen = (plen << 8) | p[2 + k];
            }
            if (plen <= 0xFFFF) {
                return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                              "length not minimally encoded");
            }
            head = 10;
        }
        bool control = (opcode & 0x8) != 0;
        if (control) {
            if (opcode != GW_WSFRAME_CLOSE && opcode != GW_WSFRAME_PING &&
                opcode != GW_WSFRAME_PONG) {
                return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                              "unknown opcode");
            }
            if (!fin || plen > 125) {
                return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                              "control frame fragmented or too long");
            }
        } else if (opcode != GW_WSFRAME_CONTINUATION &&
                   opcode != GW_WSFRAME_TEXT && opcode != GW_WSFRAME_BINARY) {
            return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL, "unknown opcode");
        } else if (opcode == GW_WSFRAME_CONTINUATION && !self->msg_opcode) {
            return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                          "continuation without a message");
        } else if (opcode != GW_WSFRAME_CONTINUATION && self->msg_opcode) {
            return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                          "new message inside a fragmented one");
        }
        if (!control &&
            plen > self->max_message - (self->msg_opcode ? self->msg_len : 0)) {
            return s_fail(self, GW_WSFRAME_CLOSE_TOO_BIG, "message too big");
        }
        if (have < head + 4 || have - head - 4 < plen) {
            return 0;
        }
        const uint8_t *mask = p + head;
        uint8_t *data = self->in + head + 4;
        size_t n = (size_t)plen;
        for (size_t k = 0; k < n; k++) {
            data[k] ^= mask[k & 3];
        }
        self->consumed = head + 4 + n;

        if (control) {
            if (opcode == GW_WSFRAME_CLOSE) {
                if (n == 1) {
                    return s_fail(self, GW_WSFRAME_CLOSE_PROTOCOL,
                                  "close payload of one byte");
                }
                if (n >= 2 && !gw_wsframe_utf8_valid(data + 2, n - 2)) {
                    return s_fail(self, GW_WSFRAME_CLOSE_BAD_DATA,
                                  "close reason not UTF-8");
                }
            }
            memcpy(self->ctl, data, n);
            *opcode_p = opcode;
            *payload_p = self->ctl;
            *len_p = n;
            return 1;
        }
        if (fin && opcode != GW_WSFRAME_CONTINUATION) {
            //  Unfragmented: hand out the bytes where they lie
            if (opcode == GW_WSFRAME_TEXT && !gw_wsframe_utf8_valid(data, n)) {
                return s_fail(self, GW_WSFRAME_CLOSE_BAD_DATA,
                              "text not UTF-8");
            }
            *opcode_p = opcode;
            *payload_p = data;
            *len_p = n;
            return 1;
        }
        //  A fragment: keep it
        if (opcode != GW_WSFRAME_CONTINUATION) {
            self->msg_opcode = opcode;
            self->msg_len = 0;
        }
        if (n) {
            self->msg = s_realloc(self->msg, self->msg_len + n);
            memcpy(self->msg + self->msg_len, data, n);
            self->msg_len += n;
        }
        if (fin) {
            int whole = self->msg_opcode;
            self->msg_opcode = 0;
            if (whole == GW_WSFRAME_TEXT &&
                !gw_wsframe_utf8_valid(self->msg, self->msg_len)) {
                return s_fail(self, GW_WSFRAME_CLOSE_BAD_DATA,
                              "text not UTF-8");
            }
            *opcode_p = whole;
            *payload_p = self->msg ? self->msg : self->ctl;
            *len_p = self->msg_len;
            return 1;
        }
        s_compact(self);
    }
}

int
gw_wsframe_error(gw_wsframe_t *self, const char **reason_p)
{
    if (reason_p) {
        *reason_p = self->error_reason;
    }
    return self->error;
}

size_t
gw_wsframe_encode(int opcode, const void *payload, size_t len, uint8_t *out)
{
    size_t head = 2;
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)len;
    } else if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        head = 4;
    } else {
        out[1] = 127;
        uint64_t l = len;
        for (int k = 7; k >= 0; k--) {
            out[2 + k] = (uint8_t)l;
            l >>= 8;
        }
        head = 10;
    }
    if (len) {
        memcpy(out + head, payload, len);
    }
    return head + len;
}

size_t
gw_wsframe_close_payload(int code, const char *reason, uint8_t *out)
{
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    size_t n = reason ? strlen(reason) : 0;
    if (n > 123) {
        n = 123;
        //  Do not cut a UTF-8 sequence
        while (n > 0 && ((uint8_t)reason[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    if (n) {
        memcpy(out + 2, reason, n);
    }
    return 2 + n;
}

int
gw_wsframe_accept(const char *key, char *out, size_t size)
{
    if (!key || size < 29) {
        return -1;
    }
    //  A nonce of 16 bytes is 24 base64 characters ending in "=="
    size_t n = strlen(key);
    if (n != 24 || key[22] != '=' || key[23] != '=') {
        return -1;
    }
    uint8_t raw[18];
    if (EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18) {
        return -1;
    }
    char buf[24 + sizeof GW_WSFRAME_GUID];
    memcpy(buf, key, 24);
    memcpy(buf + 24, GW_WSFRAME_GUID, sizeof GW_WSFRAME_GUID);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (!EVP_Digest(buf, strlen(buf), digest, &dlen, EVP_sha1(), NULL) ||
        dlen != 20) {
        return -1;
    }
    EVP_EncodeBlock((unsigned char *)out, digest, 20);
    return 0;
}

//  --------------------------------------------------------------------
//  Self test

//  A masked client frame of `opcode` (fin as given) into out.
static size_t
s_client_frame(int opcode, bool fin, const void *payload, size_t len,
               uint8_t *out)
{
    size_t n = gw_wsframe_encode(opcode, payload, len, out);
    size_t head = n - len;
    if (!fin) {
        out[0] &= 0x7F;
    }
    uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    memmove(out + head + 4, out + head, len);
    out[1] |= 0x80;
    memcpy(out + head, mask, 4);
    for (size_t k = 0; k < len; k++) {
        out[head + 4 + k] ^= mask[k & 3];
    }
    return n + 4;
}

void
gw_wsframe_test(bool verbose)
{
    printf(" * gw_wsframe: ");
    //  RFC 6455 section 1.3's example
    char accept[32];
    assert(gw_wsframe_accept("dGhlIHNhbXBsZSBub25jZQ==", accept,
                             sizeof accept) == 0);
    assert(streq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert(gw_wsframe_accept("short", accept, sizeof accept) == -1);
    assert(gw_wsframe_accept("!!!!!!!!!!!!!!!!!!!!!!==", accept,
                             sizeof accept) == -1);
    assert(gw_wsframe_accept(NULL, accept, sizeof accept) == -1);

    //  RFC 6455 section 5.7: a masked "Hello", split anywhere
    const uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                             0x7f, 0x9f, 0x4d, 0x51, 0x58};
    for (size_t split = 0; split <= sizeof hello; split++) {
        gw_wsframe_t *d = gw_wsframe_new(1024);
        int op = 0;
        const uint8_t *p = NULL;
        size_t len = 0;
        assert(gw_wsframe_feed(d, hello, split) == 0);
        if (split < sizeof hello) {
            assert(gw_wsframe_next(d, &op, &p, &len) == 0);
        }
        assert(gw_wsframe_feed(d, hello + split, sizeof hello - split) == 0);
        assert(gw_wsframe_next(d, &op, &p, &len) == 1);
        assert(op == GW_WSFRAME_TEXT && len == 5 && memcmp(p, "Hello", 5) == 0);
        assert(gw_wsframe_next(d, &op, &p, &len) == 0);
        gw_wsframe_destroy(&d);
        assert(!d);
    }

    //  Server frames: lengths 0, 125, 126, 65536
    uint8_t *buf = cm_alloc(70000 + 32);
    uint8_t *big = cm_alloc(70000);
    memset(big, 'a', 70000);
    size_t n = gw_wsframe_encode(GW_WSFRAME_TEXT, "Hello", 5, buf);
    assert(n == 7 && buf[0] == 0x81 && buf[1] == 5);
    n = gw_wsframe_encode(GW_WSFRAME_TEXT, big, 126, buf);
    assert(n == 130 && buf[1] == 126 && buf[2] == 0 && buf[3] == 126);
    n = gw_wsframe_encode(GW_WSFRAME_BINARY, big, 65536, buf);
    assert(n == 65546 && buf[1] == 127 && buf[7] == 1 && buf[8] == 0);

    //  Fragmented text with a ping in the middle, and a 64-bit length
    gw_wsframe_t *d = gw_wsframe_new(100000);
    n = s_client_frame(GW_WSFRAME_TEXT, false, "Hel", 3, buf);
    assert(gw_wsframe_feed(d, buf, n) == 0);
    n = s_client_frame(GW_WSFRAME_PING, true, "p", 1, buf);
    assert(gw_wsframe_feed(d, buf, n) == 0);
    n = s_client_frame(GW_WSFRAME_CONTINUATION, true, "lo", 2, buf);
    assert(gw_wsframe_feed(d, buf, n) == 0);
    int op = 0;
    const uint8_t *p = NULL;
    size_t len = 0;
    assert(gw_wsframe_next(d, &op, &p, &len) == 1);
    assert(op == GW_WSFRAME_PING && len == 1 && p[0] == 'p');
    assert(gw_wsframe_next(d, &op, &p, &len) == 1);
    assert(op == GW_WSFRAME_TEXT && len == 5 && memcmp(p, "Hello", 5) == 0);
    n = s_client_frame(GW_WSFRAME_BINARY, true, big, 70000, buf);
    assert(gw_wsframe_feed(d, buf, n) == 0);
    assert(gw_wsframe_next(d, &op, &p, &len) == 1);
    assert(op == GW_WSFRAME_BINARY && len == 70000 && p[69999] == 'a');
    assert(gw_wsframe_next(d, &op, &p, &len) == 0);
    gw_wsframe_destroy(&d);

    //  Protocol errors
    struct {
        uint8_t bytes[16];
        size_t len;
        int code;
    } bad[] = {
        {{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}, 7, 1002}, //  not masked
        {{0xC1, 0x80, 0, 0, 0, 0}, 6, 1002},              //  RSV1
        {{0x83, 0x80, 0, 0, 0, 0}, 6, 1002},              //  opcode 3
        {{0x80, 0x80, 0, 0, 0, 0}, 6, 1002},              //  lone continuation
        {{0x09, 0x80, 0, 0, 0, 0}, 6, 1002},              //  fragmented ping
        {{0x89, 0xFE, 0, 126}, 4, 1002},                  //  ping of 126
        {{0x81, 0xFE, 0, 5}, 4, 1002},                    //  long form of 5
        {{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, 10, 1002},
        {{0x81, 0x81, 0, 0, 0, 0, 0xFF}, 7, 1007}, //  not UTF-8
        {{0x88, 0x81, 0, 0, 0, 0, 3}, 7, 1002},    //  close of one byte
        {{0x82, 0xFE, 0x10, 0}, 4, 1009},          //  4096 > limit
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = gw_wsframe_new(1024);
        assert(gw_wsframe_feed(d, bad[i].bytes, bad[i].len) == 0);
        assert(gw_wsframe_next(d, &op, &p, &len) == -1);
        const char *reason = NULL;
        assert(gw_wsframe_error(d, &reason) == bad[i].code);
        assert(reason && *reason);
        assert(gw_wsframe_feed(d, "x", 1) == -1);
        gw_wsframe_destroy(&d);
    }
    //  Two text messages in a row inside a fragmented one
    d = gw_wsframe_new(1024);
    n = s_client_frame(GW_WSFRAME_TEXT, false, "a", 1, buf);
    n += s_client_frame(GW_WSFRAME_TEXT, true, "b", 1, buf + n);
    assert(gw_wsframe_feed(d, buf, n) == 0);
    assert(gw_wsframe_next(d, &op, &p, &len) == -1);
    assert(gw_wsframe_error(d, NULL) == 1002);
    gw_wsframe_destroy(&d);
    //  Buffer bound
    d = gw_wsframe_new(16);
    assert(gw_wsframe_feed(d, big, 1000) == -1);
    assert(gw_wsframe_error(d, NULL) == 1009);
    gw_wsframe_destroy(&d);

    //  UTF-8
    assert(gw_wsframe_utf8_valid((const uint8_t *)"h\xc3\xa9", 3));
    assert(!gw_wsframe_utf8_valid((const uint8_t *)"\xc0\xaf", 2));
    assert(!gw_wsframe_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));
    assert(!gw_wsframe_utf8_valid((const uint8_t *)"\xe2\x82", 2));
    assert(gw_wsframe_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));

    //  Close payload
    uint8_t cp[125];
    n = gw_wsframe_close_payload(1008, "unknown session", cp);
    assert(n == 17 && cp[0] == 0x03 && cp[1] == 0xF0);
    char longer[300];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    assert(gw_wsframe_close_payload(1000, longer, cp) == 125);
    free(buf);
    free(big);
    if (verbose) {
        printf("(%zu error cases) ", sizeof bad / sizeof bad[0]);
    }
    printf("OK\n");
}
