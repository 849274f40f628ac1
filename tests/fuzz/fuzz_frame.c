/*  fuzz_frame - libFuzzer target for the wa_frame reassembler

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Input layout: byte 0 selects the role (bit 0: server) and the limit
    (bits 1-3: max frame 2^(bits*3) or the default), then the rest is fed in
    chunks whose sizes come from a simple generator seeded by byte 1, so
    every split of the stream is exercised. Every frame taken out must lie
    inside what was fed.
*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wa/wa_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    wa_frame_role_t role = (data[0] & 1) ? WA_FRAME_SERVER : WA_FRAME_CLIENT;
    unsigned shift = (data[0] >> 1) & 7;
    size_t max_frame = shift ? (size_t)1 << (shift * 3) : 0;
    uint32_t seed = data[1] | 1u;
    data += 2;
    size -= 2;

    wa_frame_t *codec = wa_frame_new(role, max_frame);
    size_t off = 0;
    size_t total = 0;
    while (off < size) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % 64;
        if (n > size - off) {
            n = size - off;
        }
        if (wa_frame_feed(codec, data + off, n) != 0) {
            break;
        }
        off += n;
        size_t len;
        const uint8_t *frame;
        while ((frame = wa_frame_next(codec, &len)) != NULL) {
            total += len;
            if (len && (frame[0] | frame[len - 1]) == 0x100) {
                abort(); //  touch both ends; never true
            }
        }
        if (total > off) {
            abort();
        }
    }
    if (role == WA_FRAME_CLIENT) {
        size_t out_len;
        size_t hdr = wa_frame_header_len(codec);
        uint8_t *out = wa_frame_encode(codec, data, size, &out_len);
        if (!out || out_len != size + hdr) {
            abort();
        }
        free(out);
    }
    wa_frame_destroy(&codec);
    return 0;
}
