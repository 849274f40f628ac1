/*  wa_frame - WhatsApp connection intro and 3-byte length framing

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The reassembly buffer holds unconsumed bytes in [pos, len). It is
    compacted at the start of every feed and released once it is empty,
    so an idle connection holds no buffer at all.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_frame.h"
#include "wa/wa_vectors.h"

//  Empty buffers up to this size are kept; larger ones are released.
#define WA_FRAME_KEEP_CAP 256

struct _wa_frame_t {
    wa_frame_role_t role;              //  client or server side
    size_t max_frame;                  //  largest accepted received frame
    uint8_t intro[WA_FRAME_INTRO_LEN]; //  intro written or received
    bool intro_done;                   //  client: sent; server: received
    uint8_t *routing;                  //  edge routing info, or NULL
    size_t routing_len;                //  its length
    uint8_t *buf;                      //  reassembly buffer, or NULL
    size_t cap;                        //  allocated size of buf
    size_t len;                        //  bytes held in buf
    size_t pos;                        //  first unconsumed byte in buf
    size_t checked;                    //  frame headers verified up to here
    bool failed;                       //  malformed input seen
};

wa_frame_t *
wa_frame_new(wa_frame_role_t role, size_t max_frame)
{
    wa_frame_t *self = cm_alloc(sizeof(wa_frame_t));
    self->role = role;
    self->max_frame = max_frame == 0 || max_frame > WA_FRAME_MAX_SIZE
                          ? WA_FRAME_MAX_SIZE
                          : max_frame;
    if (role == WA_FRAME_CLIENT) {
        self->intro[0] = 'W';
        self->intro[1] = 'A';
        self->intro[2] = WA_FRAME_INTRO_MAGIC;
        self->intro[3] = WA_FRAME_DICT_VERSION;
    }
    return self;
}

void
wa_frame_destroy(wa_frame_t **self_p)
{
    if (self_p && *self_p) {
        wa_frame_t *self = *self_p;
        free(self->routing);
        free(self->buf);
        free(self);
        *self_p = NULL;
    }
}

int
wa_frame_set_routing_info(wa_frame_t *self, const uint8_t *data, size_t len)
{
    assert(self);
    if (self->role != WA_FRAME_CLIENT || self->intro_done || len == 0 ||
        len > WA_FRAME_MAX_ROUTING || !data) {
        return -1;
    }
    free(self->routing);
    self->routing = cm_alloc(len);
    memcpy(self->routing, data, len);
    self->routing_len = len;
    return 0;
}

const uint8_t *
wa_frame_intro(wa_frame_t *self)
{
    assert(self);
    if (self->role == WA_FRAME_SERVER && !self->intro_done) {
        return NULL;
    }
    return self->intro;
}

const uint8_t *
wa_frame_routing_info(wa_frame_t *self, size_t *len_p)
{
    assert(self);
    if (len_p) {
        *len_p = self->routing_len;
    }
    return self->routing;
}

size_t
wa_frame_header_len(wa_frame_t *self)
{
    assert(self);
    size_t n = WA_FRAME_LEN_SIZE;
    if (self->role == WA_FRAME_CLIENT && !self->intro_done) {
        n += WA_FRAME_INTRO_LEN;
        if (self->routing) {
            n += 7 + self->routing_len;
        }
    }
    return n;
}

static void
s_put24(uint8_t *out, size_t v)
{
    out[0] = (uint8_t)(v >> 16);
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)v;
}

static size_t
s_get24(const uint8_t *in)
{
    return ((size_t)in[0] << 16) | ((size_t)in[1] << 8) | in[2];
}

int
wa_frame_write_header(wa_frame_t *self, size_t payload_len, uint8_t *out)
{
    assert(self);
    assert(out);
    if (payload_len > WA_FRAME_MAX_SIZE) {
        return -1;
    }
    size_t n = 0;
    if (self->role == WA_FRAME_CLIENT && !self->intro_done) {
        if (self->routing) {
            out[n++] = 'E';
            out[n++] = 'D';
            out[n++] = 0;
            out[n++] = 1;
            s_put24(out + n, self->routing_len);
            n += 3;
            memcpy(out + n, self->routing, self->routing_len);
            n += self->routing_len;
        }
        memcpy(out + n, self->intro, WA_FRAME_INTRO_LEN);
        n += WA_FRAME_INTRO_LEN;
        self->intro_done = true;
    }
    s_put24(out + n, payload_len);
    n += WA_FRAME_LEN_SIZE;
    return (int)n;
}

uint8_t *
wa_frame_encode(wa_frame_t *self, const uint8_t *payload, size_t len,
                size_t *len_p)
{
    assert(self);
    assert(len_p);
    if (len > WA_FRAME_MAX_SIZE) {
        return NULL;
    }
    uint8_t *out = cm_alloc(wa_frame_header_len(self) + len);
    int n = wa_frame_write_header(self, len, out);
    assert(n > 0);
    if (len) {
        memcpy(out + n, payload, len);
    }
    *len_p = (size_t)n + len;
    return out;
}

//  Drop consumed bytes; release the buffer when it is empty and large.
static void
s_compact(wa_frame_t *self)
{
    if (self->pos == 0) {
        return;
    }
    size_t rest = self->len - self->pos;
    if (rest == 0 && self->cap > WA_FRAME_KEEP_CAP) {
        free(self->buf);
        self->buf = NULL;
        self->cap = 0;
    } else if (rest) {
        memmove(self->buf, self->buf + self->pos, rest);
    }
    self->checked -= self->pos;
    self->len = rest;
    self->pos = 0;
}

static int
s_fail(wa_frame_t *self)
{
    self->failed = true;
    free(self->buf);
    self->buf = NULL;
    self->cap = self->len = self->pos = self->checked = 0;
    return -1;
}

//  Server: parse the intro (and optional routing block) at the start of
//  the buffer. Returns 0 when done or more bytes are needed, -1 when the
//  bytes can never form an intro.
static int
s_parse_intro(wa_frame_t *self)
{
    const uint8_t *p = self->buf;
    size_t have = self->len;
    size_t off = 0;
    if (have >= 1 && p[0] != 'W' && p[0] != 'E') {
        return -1;
    }
    if (have < 2) {
        return 0;
    }
    if (p[0] == 'E') {
        if (p[1] != 'D' || (have >= 3 && p[2] != 0) ||
            (have >= 4 && p[3] != 1)) {
            return -1;
        }
        if (have < 7) {
            return 0;
        }
        size_t rlen = s_get24(p + 4);
        if (rlen == 0 || rlen > WA_FRAME_MAX_ROUTING) {
            return -1;
        }
        off = 7 + rlen;
        if (have < off + 2) {
            return 0;
        }
        if (p[off] != 'W' || p[off + 1] != 'A') {
            return -1;
        }
        if (have < off + WA_FRAME_INTRO_LEN) {
            return 0;
        }
        self->routing = cm_alloc(rlen);
        memcpy(self->routing, p + 7, rlen);
        self->routing_len = rlen;
    } else if (p[1] != 'A') {
        return -1;
    }
    if (have < off + WA_FRAME_INTRO_LEN) {
        return 0;
    }
    memcpy(self->intro, p + off, WA_FRAME_INTRO_LEN);
    self->intro_done = true;
    self->pos = off + WA_FRAME_INTRO_LEN;
    self->checked = self->pos;
    return 0;
}

int
wa_frame_feed(wa_frame_t *self, const uint8_t *data, size_t len)
{
    assert(self);
    if (self->failed) {
        return -1;
    }
    if (len == 0) {
        return 0;
    }
    assert(data);
    s_compact(self);
    if (self->len + len > self->cap) {
        size_t cap = self->cap ? self->cap : 64;
        while (cap < self->len + len) {
            cap *= 2;
        }
        uint8_t *buf = realloc(self->buf, cap);
        if (!buf) {
            fprintf(stderr, "out of memory allocating %zu bytes\n", cap);
            abort();
        }
        self->buf = buf;
        self->cap = cap;
    }
    memcpy(self->buf + self->len, data, len);
    self->len += len;

    if (self->role == WA_FRAME_SERVER && !self->intro_done) {
        if (s_parse_intro(self)) {
            return s_fail(self);
        }
        if (!self->intro_done) {
            return 0;
        }
    }
    //  Verify every frame header that is complete, so an oversized frame
    //  is refused as soon as its length arrives.
    while (self->checked + WA_FRAME_LEN_SIZE <= self->len) {
        size_t flen = s_get24(self->buf + self->checked);
        if (flen > self->max_frame) {
            return s_fail(self);
        }
        self->checked += WA_FRAME_LEN_SIZE + flen;
    }
    return 0;
}

const uint8_t *
wa_frame_next(wa_frame_t *self, size_t *len_p)
{
    assert(self);
    assert(len_p);
    *len_p = 0;
    if (self->failed) {
        return NULL;
    }
    if (self->role == WA_FRAME_SERVER && !self->intro_done) {
        return NULL;
    }
    if (self->pos == self->len) {
        s_compact(self);
        return NULL;
    }
    size_t have = self->len - self->pos;
    if (have < WA_FRAME_LEN_SIZE) {
        return NULL;
    }
    size_t flen = s_get24(self->buf + self->pos);
    //  Checked by wa_frame_feed.
    assert(flen <= self->max_frame);
    if (have - WA_FRAME_LEN_SIZE < flen) {
        return NULL;
    }
    const uint8_t *frame = self->buf + self->pos + WA_FRAME_LEN_SIZE;
    self->pos += WA_FRAME_LEN_SIZE + flen;
    *len_p = flen;
    return frame;
}

bool
wa_frame_failed(wa_frame_t *self)
{
    assert(self);
    return self->failed;
}

size_t
wa_frame_buffered(wa_frame_t *self)
{
    assert(self);
    return self->cap;
}

//  --------------------------------------------------------------------------
//  Self test

void
wa_frame_test(bool verbose)
{
    printf(" * wa_frame: ");
    if (verbose) {
        printf("\n");
    }
    //  Client hello from noise-handshake.json: intro + frame.
    uint8_t hello[64];
    size_t hello_len = wa_vectors_unhex_into(
        "5741060300002412220a200c54febf167e0732de32ac5b29b8d0027fc082d238c0"
        "02745584d00cfadb003e",
        hello, sizeof(hello));
    const uint8_t *hello_body = hello + 7;
    size_t hello_body_len = hello_len - 7;

    //  Client writes the intro once, then plain frames.
    wa_frame_t *cli = wa_frame_new(WA_FRAME_CLIENT, 0);
    assert(wa_frame_header_len(cli) == 7);
    size_t out_len;
    uint8_t *out = wa_frame_encode(cli, hello_body, hello_body_len, &out_len);
    assert(out_len == hello_len);
    assert(memcmp(out, hello, hello_len) == 0);
    free(out);
    assert(wa_frame_header_len(cli) == 3);
    out = wa_frame_encode(cli, (const uint8_t *)"abc", 3, &out_len);
    assert(out_len == 6);
    assert(memcmp(out,
                  "\x00\x00\x03"
                  "abc",
                  6) == 0);
    free(out);
    assert(wa_frame_set_routing_info(cli, (const uint8_t *)"x", 1) == -1);
    wa_frame_destroy(&cli);
    assert(cli == NULL);
    wa_frame_destroy(&cli);

    //  Server reads the intro, byte by byte.
    wa_frame_t *srv = wa_frame_new(WA_FRAME_SERVER, 0);
    assert(wa_frame_intro(srv) == NULL);
    size_t flen;
    for (size_t i = 0; i < hello_len; i++) {
        assert(wa_frame_next(srv, &flen) == NULL);
        assert(wa_frame_feed(srv, hello + i, 1) == 0);
    }
    const uint8_t *f = wa_frame_next(srv, &flen);
    assert(f && flen == hello_body_len);
    assert(memcmp(f, hello_body, flen) == 0);
    assert(wa_frame_next(srv, &flen) == NULL);
    assert(memcmp(wa_frame_intro(srv), "WA\x06\x03", 4) == 0);
    assert(wa_frame_routing_info(srv, &flen) == NULL && flen == 0);

    //  Several frames in one message, one split across two messages,
    //  an empty frame.
    uint8_t multi[] = {0, 0,   2,   'h', 'i', 0, 0, 0,   0,  0,
                       3, 'a', 'b', 'c', 0,   0, 4, 'w', 'x'};
    assert(wa_frame_feed(srv, multi, sizeof(multi)) == 0);
    f = wa_frame_next(srv, &flen);
    assert(f && flen == 2 && memcmp(f, "hi", 2) == 0);
    f = wa_frame_next(srv, &flen);
    assert(f && flen == 0);
    f = wa_frame_next(srv, &flen);
    assert(f && flen == 3 && memcmp(f, "abc", 3) == 0);
    assert(wa_frame_next(srv, &flen) == NULL);
    assert(wa_frame_feed(srv, (const uint8_t *)"yz", 2) == 0);
    f = wa_frame_next(srv, &flen);
    assert(f && flen == 4 && memcmp(f, "wxyz", 4) == 0);
    assert(wa_frame_next(srv, &flen) == NULL);
    assert(wa_frame_buffered(srv) <= WA_FRAME_KEEP_CAP);
    wa_frame_destroy(&srv);

    //  Edge routing: client writes ED block + intro, server strips both.
    cli = wa_frame_new(WA_FRAME_CLIENT, 0);
    assert(wa_frame_set_routing_info(cli, (const uint8_t *)"RT", 2) == 0);
    assert(wa_frame_header_len(cli) == 7 + 2 + 4 + 3);
    out = wa_frame_encode(cli, (const uint8_t *)"p", 1, &out_len);
    assert(out_len == 17);
    assert(memcmp(out, "ED\x00\x01\x00\x00\x02RTWA\x06\x03\x00\x00\x01p", 17) ==
           0);
    srv = wa_frame_new(WA_FRAME_SERVER, 0);
    assert(wa_frame_feed(srv, out, 5) == 0);
    assert(wa_frame_intro(srv) == NULL);
    assert(wa_frame_feed(srv, out + 5, out_len - 5) == 0);
    f = wa_frame_next(srv, &flen);
    assert(f && flen == 1 && f[0] == 'p');
    const uint8_t *rt = wa_frame_routing_info(srv, &flen);
    assert(rt && flen == 2 && memcmp(rt, "RT", 2) == 0);
    free(out);
    wa_frame_destroy(&srv);
    wa_frame_destroy(&cli);

    //  Malformed intros fail and stay failed.
    const char *bad[] = {"XA",
                         "WB",
                         "EX",
                         "ED\x01",
                         "ED\x00\x02",
                         "ED\x00\x01\x00\x00\x00",
                         "ED\x00\x01\x00\x00\x01RXA"};
    size_t bad_len[] = {2, 2, 2, 3, 4, 7, 10};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        srv = wa_frame_new(WA_FRAME_SERVER, 0);
        assert(wa_frame_feed(srv, (const uint8_t *)bad[i], bad_len[i]) == -1);
        assert(wa_frame_failed(srv));
        assert(wa_frame_feed(srv, hello, hello_len) == -1);
        assert(wa_frame_next(srv, &flen) == NULL);
        wa_frame_destroy(&srv);
    }
    //  Routing block above the limit.
    srv = wa_frame_new(WA_FRAME_SERVER, 0);
    assert(wa_frame_feed(srv, (const uint8_t *)"ED\x00\x01\x00\x10\x01", 7) ==
           -1);
    wa_frame_destroy(&srv);

    //  Oversized frame is refused as soon as its length is known.
    cli = wa_frame_new(WA_FRAME_CLIENT, 10);
    assert(wa_frame_feed(cli, (const uint8_t *)"\x00\x00\x0a", 3) == 0);
    assert(wa_frame_feed(cli, (const uint8_t *)"0123456789\x00\x00\x0b", 13) ==
           -1);
    assert(wa_frame_failed(cli));
    wa_frame_destroy(&cli);
    cli = wa_frame_new(WA_FRAME_CLIENT, 0);
    uint8_t hdr[8];
    assert(wa_frame_write_header(cli, WA_FRAME_MAX_SIZE + 1, hdr) == -1);
    assert(wa_frame_encode(cli, hello, WA_FRAME_MAX_SIZE + 1, &out_len) ==
           NULL);
    assert(wa_frame_write_header(cli, WA_FRAME_MAX_SIZE, hdr) == 7);
    assert(memcmp(hdr + 4, "\xff\xff\xff", 3) == 0);
    //  A large frame in random-sized pieces, buffer released afterwards.
    size_t big_len = 100000;
    uint8_t *big = cm_alloc(big_len + 3);
    s_put24(big, big_len);
    for (size_t i = 0; i < big_len; i++) {
        big[3 + i] = (uint8_t)(i * 7);
    }
    size_t off = 0;
    while (off < big_len + 3) {
        size_t n = 1 + (off * 31 + 17) % 5000;
        if (n > big_len + 3 - off) {
            n = big_len + 3 - off;
        }
        assert(wa_frame_next(cli, &flen) == NULL);
        assert(wa_frame_feed(cli, big + off, n) == 0);
        off += n;
    }
    f = wa_frame_next(cli, &flen);
    assert(f && flen == big_len && memcmp(f, big + 3, big_len) == 0);
    assert(wa_frame_next(cli, &flen) == NULL);
    assert(wa_frame_buffered(cli) == 0);
    free(big);
    wa_frame_destroy(&cli);
    printf("OK\n");
}
