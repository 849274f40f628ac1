/*  wa_pb - bounds checks for protobuf bytes before protobuf-c sees them

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    protobuf-c unpacks nested messages recursively with no depth limit,
    and WhatsApp's Message nests into itself (quoted messages, wrappers),
    so hostile bytes could exhaust the stack. wa_pb_check walks the wire
    format guided by the message descriptor and refuses input that is
    truncated, uses groups, or nests deeper than max_depth.
*/
#ifndef WA_PB_H_INCLUDED
#define WA_PB_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

//  Default nesting limit for WhatsApp messages.
#define WA_PB_MAX_DEPTH 24

//  0 when `data` is well-formed wire data for `desc` within the limits,
//  -1 otherwise.
int wa_pb_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                size_t len, int max_depth);

void wa_pb_test(bool verbose);

#endif
