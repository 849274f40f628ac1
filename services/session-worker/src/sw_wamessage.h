/*  sw_wamessage - the messages capability of the WhatsApp engine: texts
    and read receipts we send, and the events of messages and receipts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WAMESSAGE_COMMANDS, listed in sw_wa's table; 409 unless
    WORKING):
      message.send_text {chatId, text, reply_to?} -> the WAMessage once
          the server acked it (held under the message id; 422 "Recipient
          ... is not on WhatsApp" when WhatsApp knows no such user or
          group, 502 when it refused it otherwise, 500 when it could not
          go out)
      message.send_seen {chatId, messageIds?, participant?} -> {}; no ids:
          nothing is sent (the gateway reads the chat's unread messages
          from the store, which keeps them across restarts)

    Events, from the engine's wa_client events: `message` (from others),
    `message.any` (everything, our sends included) and `message.ack` in
    WAHA's shapes (sw_wamsg), with ids derived from what they are about
    so a message delivered again is stored once. `config.ignore` drops
    the events of status, groups, channels or broadcasts.
*/
#ifndef SW_WAMESSAGE_H_INCLUDED
#define SW_WAMESSAGE_H_INCLUDED

#include "sw_wasess.h"

//  The capability's rows of the command table.
#define SW_WAMESSAGE_COMMANDS                                                  \
    SW_WACMD("message.send_text", SW_WACMD_WORKING, SW_WACMD_SEND,             \
             sw_wamessage_send_text),                                          \
        SW_WACMD("message.send_seen", SW_WACMD_WORKING, SW_WACMD_NOW,          \
                 sw_wamessage_send_seen)

//  Handlers (sw_wacmd_fn).
void sw_wamessage_send_text(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wamessage_send_seen(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  Our push name, set on the phone (app state setting_pushName, or the
//  notify of our other devices' messages): kept, announced with our
//  presence and written into the session's `me`. No-op when unchanged.
void sw_wamessage_push_name(sw_wasess_t *sess, const char *push_name);

//  The WAMessage of a received (or history) message at ack level `ack`,
//  with the fields of its kind (sw_wakinds) and no downloaded media.
//  Caller owns return value.
json_t *sw_wamessage_payload(sw_wasess_t *sess, const wa_client_message_t *m,
                             int ack);

//  For the engine: a received message (ours from another device too).
//  Returns true when its delivery receipt waits for the events to be
//  stored (wa_client_ops_t.event).
bool sw_wamessage_on_message(sw_wasess_t *sess, const wa_client_message_t *msg);

//  For the engine: a delivery, read or played receipt.
void sw_wamessage_on_ack(sw_wasess_t *sess, const wa_client_ack_t *ack);

//  For the engine: the outcome of a send (answers message.send_text).
void sw_wamessage_on_sent(sw_wasess_t *sess, const wa_client_sent_t *sent);

void sw_wamessage_test(bool verbose);

#endif
