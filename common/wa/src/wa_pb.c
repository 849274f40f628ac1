/*  wa_pb - bounds checks for protobuf bytes before protobuf-c sees them

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_pb.h"

static int
s_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) {
            return -1;
        }
        uint8_t b = *(*p)++;
        v |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int
s_check(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
        const uint8_t *end, int depth)
{
    if (depth < 0) {
        return -1;
    }
    while (p < end) {
        uint64_t key = 0;
        if (s_varint(&p, end, &key) != 0) {
            return -1;
        }
        uint32_t number = (uint32_t) (key >> 3);
        unsigned wire = (unsigned) (key & 7);
        uint64_t v = 0;
        switch (wire) {
        case 0:
            if (s_varint(&p, end, &v) != 0) {
                return -1;
            }
            break;
        case 1:
            if (end - p < 8) {
                return -1;
            }
            p += 8;
            break;
        case 5:
            if (end - p < 4) {
                return -1;
            }
            p += 4;
            break;
        case 2: {
            if (s_varint(&p, end, &v) != 0 || v > (uint64_t) (end - p)) {
                return -1;
            }
            const ProtobufCFieldDescriptor *f =
                desc ? protobuf_c_message_descriptor_get_field(desc, number)
                     : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE
                && s_check((const ProtobufCMessageDescriptor *) f->descriptor,
                           p, p + v, depth - 1)
                       != 0) {
                return -1;
            }
            p += v;
            break;
        }
        default:
            return -1;  //  groups (3, 4) and invalid wire types
        }
    }
    return 0;
}

int
wa_pb_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
            size_t len, int max_depth)
{
    if (!data && len) {
        return -1;
    }
    return s_check(desc, data, data + len, max_depth);
}

void
wa_pb_test(bool verbose)
{
    printf(" * wa_pb: ");
    const ProtobufCMessageDescriptor *d = &wa__e2e__message__descriptor;
    //  conversation = "hi"
    assert(wa_pb_check(d, (const uint8_t *) "\x0a\x02hi", 4, 4) == 0);
    assert(wa_pb_check(d, NULL, 0, 4) == 0);
    //  truncated length
    assert(wa_pb_check(d, (const uint8_t *) "\x0a\x05hi", 4, 4) == -1);
    //  group wire type
    assert(wa_pb_check(d, (const uint8_t *) "\x0b", 1, 4) == -1);
    //  runaway varint
    uint8_t v[12];
    memset(v, 0xff, sizeof v);
    assert(wa_pb_check(d, v, sizeof v, 4) == -1);
    //  Message -> ephemeral_message(40) -> message(1) -> ... nested deeply
    enum { LEVELS = 200 };
    uint8_t *buf = cm_alloc(LEVELS * 8 + 8);
    size_t len = 0;
    //  build from the inside out: innermost conversation "x"
    uint8_t inner[] = {0x0a, 0x01, 'x'};
    memcpy(buf, inner, sizeof inner);
    len = sizeof inner;
    for (int i = 0; i < LEVELS; i++) {
        //  FutureProofMessage{message=1: <buf>} then Message{40: <that>}
        uint8_t hdr[16];
        size_t h = 0;
        size_t n = len;
        //  field 1 (FutureProof.message)
        uint8_t tmp[8];
        size_t t = 0;
        tmp[t++] = 0x0a;
        size_t x = n;
        do {
            tmp[t++] = (uint8_t) ((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
            x >>= 7;
        } while (x);
        size_t fp_len = t + n;
        //  field 40, wire 2 => key 322 = 0xc2 0x02
        hdr[h++] = 0xc2;
        hdr[h++] = 0x02;
        x = fp_len;
        do {
            hdr[h++] = (uint8_t) ((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
            x >>= 7;
        } while (x);
        memmove(buf + h + t, buf, len);
        memcpy(buf, hdr, h);
        memcpy(buf + h, tmp, t);
        len += h + t;
        if (i == 3) {
            assert(wa_pb_check(d, buf, len, WA_PB_MAX_DEPTH) == 0);
        }
    }
    assert(wa_pb_check(d, buf, len, WA_PB_MAX_DEPTH) == -1);
    free(buf);
    printf("OK\n");
}
