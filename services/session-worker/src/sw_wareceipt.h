/*  sw_wareceipt - receipts events of the WhatsApp engine beside the
    messages capability: group receipts (message.ack.group) and messages
    waiting for their sender to send them again (message.waiting)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Events, in WAHA's shapes:
      message.ack.group  a member's delivery, read or played receipt of
          one of our group messages: the message.ack payload (sw_wamsg_ack)
          whose id names our message ("true_<group>_<id>_<me>") and whose
          participant is the member; one event per member and level. The
          server's ack of our group message and our own devices' receipts
          stay message.ack (sw_wamessage).
      message.waiting    a message we could not decrypt: a WAMessage
          (id, timestamp, from, to, participant, fromMe, body null,
          hasMedia false, ack DEVICE) with _data.type "ciphertext"; the
          engine asked the sender to send it again (retry receipt), and
          a copy that decrypts arrives as `message` with the same id.
*/
#ifndef SW_WARECEIPT_H_INCLUDED
#define SW_WARECEIPT_H_INCLUDED

#include <stdbool.h>

#include "sw_wasess.h"

//  For the engine: a receipt. Returns true when it was a member's
//  receipt in a group (message.ack.group emitted), false when
//  sw_wamessage_on_ack should have it.
bool sw_wareceipt_on_ack(sw_wasess_t *sess, const wa_client_ack_t *ack);

//  For the engine: a message waiting for a resend (message.waiting).
void sw_wareceipt_on_waiting(sw_wasess_t *sess, const wa_client_waiting_t *w);

void sw_wareceipt_test(bool verbose);

#endif
