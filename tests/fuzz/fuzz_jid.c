/*  fuzz_jid - libFuzzer target for JID parsing and JID encoding

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The input is a string. As a wire JID or an API chat id it must either
    be rejected or give a JID whose canonical text parses back to the
    same JID. As an attribute value and as string content it must survive
    the binary encoder's JID/packed/token/raw choice byte for byte.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wa/wa_binary.h"
#include "wa/wa_jid.h"
#include "wa/wa_node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_jid: %s\n", what);
        abort();
    }
}

static void
s_check_canonical(const wa_jid_t *jid)
{
    wa_jid_t *again = wa_jid_new_from(wa_jid_str(jid));
    s_check(again && wa_jid_eq(again, jid), "canonical text does not parse");
    s_check(strcmp(wa_jid_str(again), wa_jid_str(jid)) == 0,
            "canonical text is not stable");
    //  The API form of a user JID on a known server is an API chat id
    if (wa_jid_user(jid)[0] && wa_jid_server_known(wa_jid_server(jid))) {
        wa_jid_t *api = wa_jid_new();
        s_check(wa_jid_parse_api(api, wa_jid_api(jid)) == 0,
                "API text does not parse");
        wa_jid_destroy(&api);
    }
    wa_jid_destroy(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) {
        return 0;
    }
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = 0;

    wa_jid_t *jid = wa_jid_new_from(text);
    if (jid) {
        s_check_canonical(jid);
        wa_jid_destroy(&jid);
    }
    jid = wa_jid_new();
    if (wa_jid_parse_api(jid, text) == 0) {
        s_check_canonical(jid);
        s_check(wa_jid_user(jid)[0] != 0, "API JID without a user");
    }
    wa_jid_destroy(&jid);
    char *normal = wa_jid_normalize(text);
    free(normal);
    char *api = wa_jid_to_api(text);
    free(api);

    //  Any string is encoded losslessly as an attribute and as content
    wa_node_t *node = wa_node_new("message");
    wa_node_set_attr_bytes(node, "to", data, size);
    wa_node_set_string_bytes(node, data, size);
    uint8_t *out;
    size_t len;
    const char *reason = NULL;
    s_check(wa_binary_encode(node, &out, &len, &reason) == 0, "encode");
    wa_node_t *back = wa_binary_decode(out, len, NULL, &reason);
    s_check(back && wa_node_eq(back, node), "string changed on the wire");
    size_t got_len;
    const char *got = wa_node_attr_bytes(back, "to", &got_len);
    s_check(got_len == size && memcmp(got, data, size) == 0, "attribute");
    wa_node_destroy(&back);
    free(out);
    wa_node_destroy(&node);
    free(text);
    return 0;
}
