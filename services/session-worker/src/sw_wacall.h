/*  sw_wacall - the calls capability of the WhatsApp engine: call events
    and rejecting calls

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Events (WAHA's CallData: {id, from "…@c.us", timestamp (s), isVideo,
    isGroup, _data:{callId, from, groupJid?, offline, status, reason?}}):
      call.received  an offer
      call.accepted  answered on another device of the account
      call.rejected  rejected (here, through the API or automatically, or
                     on another device) or ended before it was answered
    Command (SW_WACALL_COMMANDS; 409 unless WORKING):
      call.reject {from, id} -> {success:true}
    Automatic rejection: the session config's `calls` object,
    {reject:bool, message?:str}: every offer is rejected at once and, with
    a message, the caller gets it as a text.
*/
#ifndef SW_WACALL_H_INCLUDED
#define SW_WACALL_H_INCLUDED

#include <stdbool.h>

#include "sw_wasess.h"
#include "wa/wa_client.h"

//  Calls remembered per session (for the events of later stanzas).
#define SW_WACALL_KEEP 64

#define SW_WACALL_COMMANDS                                                     \
    SW_WACMD("call.reject", SW_WACMD_WORKING, SW_WACMD_NOW, sw_wacall_reject)

void sw_wacall_reject(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  A call stanza reported by the engine.
void sw_wacall_on_call(sw_wasess_t *sess, const wa_client_call_t *call);

void sw_wacall_test(bool verbose);

#endif
