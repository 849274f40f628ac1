/*  fuzz_http_wsframe - libFuzzer target for the /ws frame decoder

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Byte 0 picks the message limit (2^(b & 15) bytes), byte 1 seeds the
    chunk sizes the rest is fed in, so every split of the stream is
    exercised. Every message taken out must lie within the limit, text
    must be UTF-8, control frames at most 125 bytes, and once the
    decoder fails it stays failed with a close code.
*/
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_classes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    size_t limit = (size_t)1 << (data[0] & 15);
    uint32_t seed = data[1] | 1u;
    data += 2;
    size -= 2;

    gw_wsframe_t *d = gw_wsframe_new(limit);
    size_t off = 0;
    bool failed = false;
    while (off < size && !failed) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % 64;
        if (n > size - off) {
            n = size - off;
        }
        if (gw_wsframe_feed(d, data + off, n) != 0) {
            failed = true;
            break;
        }
        off += n;
        while (true) {
            int opcode = 0;
            const uint8_t *p = NULL;
            size_t len = 0;
            int rc = gw_wsframe_next(d, &opcode, &p, &len);
            if (rc == 0) {
                break;
            }
            if (rc < 0) {
                failed = true;
                break;
            }
            if (opcode & 0x8) {
                assert(len <= 125);
            } else {
                assert(len <= limit);
            }
            if (opcode == GW_WSFRAME_TEXT) {
                assert(gw_wsframe_utf8_valid(p, len));
            }
            volatile uint8_t sink = 0;
            for (size_t k = 0; k < len; k++) {
                sink ^= p[k];
            }
            (void)sink;
        }
    }
    if (failed) {
        const char *reason = NULL;
        int code = gw_wsframe_error(d, &reason);
        assert(code >= 1000 && code < 1012 && reason);
        assert(gw_wsframe_feed(d, "x", 1) == -1);
    }
    gw_wsframe_destroy(&d);
    return 0;
}
