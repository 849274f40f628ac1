/*  fuzz_node_text - libFuzzer target for the node text parser

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The input is text for wa_node_new_from_text (wa-node encode reads it
    from users). Garbage must fail with an error message. A parsed node
    must print to text that parses back to an equal node and prints the
    same again, and must survive the binary encode -> decode round trip.
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
        fprintf(stderr, "fuzz_node_text: %s\n", what);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *input = malloc(size + 1);
    if (!input) {
        return 0;
    }
    memcpy(input, data, size);
    input[size] = 0;
    char *error = NULL;
    wa_node_t *node = wa_node_new_from_text(input, &error);
    free(input);
    if (!node) {
        s_check(error != NULL, "rejected without an error");
        free(error);
        return 0;
    }
    s_check(error == NULL, "error set on success");
    char *text = wa_node_text(node, 0);
    wa_node_t *parsed = wa_node_new_from_text(text, NULL);
    s_check(parsed && wa_node_eq(parsed, node), "printed text changed");
    char *again = wa_node_text(parsed, 0);
    s_check(strcmp(again, text) == 0, "printing is not stable");

    uint8_t *out;
    size_t len;
    const char *reason = NULL;
    if (wa_binary_encode(node, &out, &len, &reason) == 0) {
        wa_node_t *back = wa_binary_decode(out, len, NULL, &reason);
        s_check(back && wa_node_eq(back, node), "binary round trip changed");
        wa_node_destroy(&back);
        free(out);
    }
    free(again);
    wa_node_destroy(&parsed);
    free(text);
    wa_node_destroy(&node);
    return 0;
}
