/*  wa_call - calls: incoming call stanzas become events; rejecting

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The server sends <call from=CALLER id t [offline]> with one child:
    <offer call-id call-creator [type="group" | group-jid]>[<video/>]…,
    <accept>, <reject>, <terminate [reason]> (and transport details
    that are acked and ignored). Each is acked (<ack class="call">) and
    the four above are reported as WA_CLIENT_EVENT_CALL. Rejecting is

        <call from=OWN to=CALLER id><reject call-id call-creator=CALLER
          count="0"/></call>
*/
#ifndef WA_CALL_H_INCLUDED
#define WA_CALL_H_INCLUDED

#include <stdbool.h>

#include "wa_client.h"

//  Longest call id accepted.
#define WA_CALL_ID_MAX 128

//  Reject call `call_id` from `caller` (user JID, wire or API form).
//  Returns 0, or -1 when not ready or an argument is invalid.
int wa_call_reject(wa_client_t *client, const char *call_id,
                   const char *caller);

void wa_call_test(bool verbose);

#endif
