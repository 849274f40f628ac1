/*  fuzz_bus_msg - libFuzzer target for the bus message decoder

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every process decodes what arrives on its ZeroMQ sockets with
    cm_msg_decode; a peer on an older or newer version, or a broken one,
    must get an error reply or a warning, never a crash.
    Input layout: byte 0 bit 0 says whether the first frame is a ROUTER
    routing id; the rest is a list of frames, each a 2-byte big-endian
    length followed by that many bytes (a short last frame takes what is
    left). A decoded message is read through every accessor, encoded
    again, and the copy must decode to the same type and body.
*/
#include <czmq.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet = false;
    if (!quiet) {
        cm_log_init("fuzz", "error"); //  decode failures log warnings
        quiet = true;
    }
    if (size < 1) {
        return 0;
    }
    bool routed = data[0] & 1;
    data++;
    size--;
    zmsg_t *zmsg = zmsg_new();
    size_t off = 0;
    while (off < size && zmsg_size(zmsg) < 64) {
        size_t len = size - off;
        if (len >= 2) {
            size_t want = ((size_t)data[off] << 8) | data[off + 1];
            off += 2;
            len = size - off < want ? size - off : want;
        } else {
            off = size;
            len = 0;
        }
        zmsg_addmem(zmsg, data + off, len);
        off += len;
    }
    cm_msg_t *msg = cm_msg_decode(&zmsg, routed);
    if (!msg) {
        return 0;
    }
    //  Read everything a handler might read
    (void)cm_msg_type(msg);
    (void)cm_msg_version(msg);
    (void)cm_msg_id(msg);
    (void)cm_msg_corr(msg);
    (void)cm_msg_ts(msg);
    (void)cm_msg_expired(msg);
    (void)cm_msg_trace(msg);
    (void)cm_msg_status(msg);
    (void)cm_msg_reason(msg);
    (void)cm_msg_is_reply(msg);
    (void)cm_msg_str(msg, "name");
    (void)cm_msg_int(msg, "limit", 0);
    (void)cm_msg_bool(msg, "all", false);
    (void)cm_msg_summary(msg);
    for (size_t i = 0; i < cm_msg_blob_count(msg); i++) {
        (void)zframe_size(cm_msg_blob(msg, i));
    }
    if (!cm_msg_error(msg)) {
        //  What decodes cleanly encodes and decodes to the same message
        zmsg_t *again = cm_msg_encode(msg);
        cm_msg_t *copy = cm_msg_decode(&again, routed);
        if (!copy || cm_msg_error(copy) ||
            strcmp(cm_msg_type(copy), cm_msg_type(msg)) != 0 ||
            !json_equal(cm_msg_body(copy), cm_msg_body(msg))) {
            abort();
        }
        cm_msg_destroy(&copy);
    }
    cm_msg_destroy(&msg);
    return 0;
}
