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

    Groups in LID addressing (sim_group) name the sender by LID:
    participant = its LID device JID, participant_pn = its number's,
    addressing_mode="lid" (PN groups: participant + participant_lid).
    A sender held to the check_phash rule (sim_fault) must put the
    group's participant hash (sim_message_phash) in `phash`; a group
    send with another one is still delivered, and the server ack names
    the right hash (<ack class="message" phash=...>), as WhatsApp does
    when a sender's device list is stale (whatsmeow send.go compares
    it; wa-protocol.md §7.5).
*/
#ifndef SIM_MESSAGE_H_INCLUDED
#define SIM_MESSAGE_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  Stanzas message, receipt, ack.
extern const sim_cap_t sim_message_cap;

//  The participant hash of `group` for a send from `sender` ("2:" and 8
//  Base64 characters). Caller owns return value.
char *sim_message_phash(sim_hub_t *hub, sim_group_t *group,
                        sim_device_t *sender);

void sim_message_test(bool verbose);

#endif
