/*  sim_message - messages and receipts between clients: <message>
    fan-out to each target device (1:1, own devices, groups with sender
    keys), server <ack>s, receipts (delivery, read, played, retry)
    relayed, client acks clearing queues

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §7.4-7.9. wa-sim never decrypts: it copies each
    device's <enc> to that device, stamps from/t/notify and the other
    address form (sender_lid or sender_pn), and queues the stanza until
    the device sends a receipt or an ack for it. The fault rules
    ack_delay_ms and withhold_acks apply to the server acks.
*/
#ifndef SIM_MESSAGE_H_INCLUDED
#define SIM_MESSAGE_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  Stanzas message, receipt, ack.
extern const sim_cap_t sim_message_cap;

void sim_message_test(bool verbose);

#endif
