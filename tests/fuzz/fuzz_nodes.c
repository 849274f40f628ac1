/*  fuzz_nodes - libFuzzer target for the binary node decoder

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The input is a frame payload (flag byte, then a node or a zlib stream).
    Garbage must be rejected with a reason. A node that decodes must
    survive encode -> decode unchanged, re-encode to the same bytes, and
    survive the text form (print -> parse). Any broken property aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wa/wa_binary.h"
#include "wa/wa_node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_nodes: %s\n", what);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wa_binary_limits_t limits;
    wa_binary_limits_default(&limits);
    limits.max_inflated = 1u << 20;
    const char *reason = NULL;
    wa_node_t *node = wa_binary_decode(data, size, &limits, &reason);
    if (!node) {
        s_check(reason != NULL, "rejected without a reason");
        return 0;
    }
    uint8_t *out;
    size_t len;
    s_check(wa_binary_encode(node, &out, &len, &reason) == 0,
            "decoded node does not encode");
    wa_node_t *back = wa_binary_decode(out, len, NULL, &reason);
    s_check(back && wa_node_eq(back, node), "encode/decode changed the node");
    uint8_t *again;
    size_t again_len;
    s_check(wa_binary_encode(back, &again, &again_len, &reason) == 0,
            "re-decoded node does not encode");
    s_check(again_len == len && memcmp(again, out, len) == 0,
            "re-encoding is not stable");

    char *text = wa_node_text(node, 0);
    char *error = NULL;
    wa_node_t *parsed = wa_node_new_from_text(text, &error);
    if (!parsed) {
        fprintf(stderr, "%s\n%s\n", error, text);
    }
    s_check(parsed && wa_node_eq(parsed, node), "text form changed the node");
    char *cut = wa_node_text(node, 8);
    s_check(cut != NULL, "no truncated text");

    free(cut);
    wa_node_destroy(&parsed);
    free(text);
    free(again);
    wa_node_destroy(&back);
    free(out);
    wa_node_destroy(&node);
    return 0;
}
